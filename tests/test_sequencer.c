/* test_sequencer.c — group commit on a real LMDB store: journaling, Already
 * Submitted vs Duplicate Identifier across and within groups, response rows in
 * the outbox, no answer to responses, commands committing with a group. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/sequencer.h"
#include "store/store.h"

static char dir[] = "/tmp/flexd-seq-XXXXXX";
static struct fx_store *st;
static uv_loop_t loop;
static struct fx_sequencer *seq;
static fx_reader *rd;
static int committed_count;

static void quiet(void *ud, const char *msg) { (void)ud, (void)msg; }

static void on_committed(struct fx_inbound *group, void *ud) {
  for (struct fx_inbound *in = group; in; in = in->next)
    committed_count++;
}

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  struct fx_store_opts o = {.path = dir, .log = quiet};
  cr_assert_eq(fx_store_open(&st, &o), 0);
  uv_loop_init(&loop);
  struct fx_sequencer_cfg cfg = {.loop = &loop, .store = st, .platform_domain = "flexd.example.org",
                                 .committed = on_committed};
  cr_assert_eq(fx_sequencer_start(&seq, &cfg), 0);
  rd = fx_reader_new(NULL);
}

static void teardown(void) {
  fx_reader_free(rd);
  fx_store_close(st);
  uv_loop_close(&loop);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(sequencer, .init = setup, .fini = teardown);

struct held {
  struct fx_inbound in;
  fx_arena *arena;
  char xml[1024];
};

/* A verified TestMessage (or TestMessageResponse) as a worker would hand it over. */
static struct held *inbound(const char *root, const char *msgid, const char *extra) {
  struct held *h = calloc(1, sizeof *h);
  snprintf(h->xml, sizeof h->xml,
           "<%s Version=\"3.1.0\" SenderDomain=\"agr.example.com\" RecipientDomain=\"flexd.example.org\" "
           "TimeStamp=\"2026-01-01T00:00:00Z\" MessageID=\"%s\" ConversationID=\"%s\"%s/>",
           root, msgid, "99999999-9999-4999-8999-999999999999", extra);
  h->arena = fx_arena_new(1 << 20);
  struct fx_error err;
  cr_assert_eq(fx_read_msg_arena(rd, h->arena, h->xml, strlen(h->xml), &h->in.msg, &err), 0, "%s", err.why);
  crypto_generichash(h->in.digest, 32, (const unsigned char *)h->xml, strlen(h->xml), NULL, 0);
  h->in.raw = h->xml;
  h->in.raw_len = strlen(h->xml);
  h->in.sender_role = FX_ROLE_AGR;
  h->in.recv_us = 1000;
  return h;
}

static void release(struct held *h) {
  fx_arena_free(h->arena);
  free(h);
}

/* Runs the loop until `n` messages have come back. */
static void wait_committed(int n) {
  for (int i = 0; i < 2000 && committed_count < n; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(committed_count, n, "only %d of %d committed", committed_count, n);
}

static int count_outbox(void) {
  struct fx_store_read r;
  struct fx_store_iter it;
  struct fx_store_out_view v;
  int n = 0;
  fx_store_read_init(&r, st);
  cr_assert_eq(fx_store_read_begin(&r), 0);
  cr_assert_eq(fx_store_due_iter(&r, INT64_MAX, &it), 0);
  while (fx_store_due_next(&it, &v) == 1)
    n++;
  fx_store_iter_close(&it);
  fx_store_read_end(&r);
  fx_store_read_free(&r);
  return n;
}

Test(sequencer, journals_and_answers_a_message) {
  struct held *a = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(seq, &a->in);
  wait_committed(1);
  cr_assert_eq(a->in.store_err, 0);
  cr_assert_eq(a->in.result, FX_SEQ_ACCEPTED);
  cr_assert_eq(count_outbox(), 1, "a TestMessageResponse row");
  struct fx_store_read r;
  struct fx_store_msg_view v;
  fx_store_read_init(&r, st);
  fx_store_read_begin(&r);
  cr_assert_eq(fx_store_msg_get(&r, "agr.example.com", a->in.msg->hdr.message_id.b, &v), 0, "journaled");
  size_t len;
  const uint8_t *raw = fx_store_msg_raw(&v, &len);
  cr_assert_eq(len, a->in.raw_len);
  cr_assert_eq(memcmp(raw, a->in.raw, len), 0, "the bytes as received");
  fx_store_read_end(&r);
  fx_store_read_free(&r);
  fx_sequencer_stop(seq);
  uv_run(&loop, UV_RUN_DEFAULT);
  release(a);
}

Test(sequencer, already_submitted_and_duplicate_identifier) {
  struct held *a = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(seq, &a->in);
  wait_committed(1);
  /* Same key, same content, in a later group. */
  struct held *b = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(seq, &b->in);
  wait_committed(2);
  cr_assert_eq(b->in.result, FX_SEQ_ALREADY_SUBMITTED);
  cr_assert_str_eq(b->in.reasons.text, "Already Submitted");
  /* Same key, other content (another digest), within one group. */
  struct held *c = inbound("TestMessage", "22222222-2222-4222-8222-222222222222", "");
  struct held *d = inbound("TestMessage", "22222222-2222-4222-8222-222222222222", "");
  d->in.digest[0] ^= 1;
  fx_sequencer_submit(seq, &c->in);
  fx_sequencer_submit(seq, &d->in);
  wait_committed(4);
  cr_assert_eq(c->in.result, FX_SEQ_ACCEPTED);
  cr_assert_eq(d->in.result, FX_SEQ_DUPLICATE);
  cr_assert_str_eq(d->in.reasons.text, "Duplicate Identifier");
  fx_sequencer_stop(seq);
  uv_run(&loop, UV_RUN_DEFAULT);
  release(a), release(b), release(c), release(d);
}

Test(sequencer, generic_rejections_reach_the_response_and_barred_senders_are_refused) {
  struct held *a = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_verdict_add(&a->in.verdict, "Unknown RecipientDomain");
  a->in.barred = true;
  fx_sequencer_submit(seq, &a->in);
  wait_committed(1);
  cr_assert_eq(a->in.result, FX_SEQ_REJECTED);
  cr_assert_str_eq(a->in.reasons.text, "Unknown RecipientDomain;Barred Sender");
  fx_sequencer_stop(seq);
  uv_run(&loop, UV_RUN_DEFAULT);
  release(a);
}

Test(sequencer, responses_are_not_answered) {
  struct held *a = inbound("TestMessageResponse", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(seq, &a->in);
  wait_committed(1);
  cr_assert_eq(a->in.store_err, 0);
  cr_assert_eq(count_outbox(), 0);
  fx_sequencer_stop(seq);
  uv_run(&loop, UV_RUN_DEFAULT);
  release(a);
}

static int cmd_ran, cmd_done_err = -99;
static void cmd_run(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *c) {
  (void)market, (void)c;
  cmd_ran++;
  fx_store_batch_counter_raise(fx_seq_batch(ctx), "test.cmd", 7);
}
static void cmd_done(struct fx_seq_command *c) { cmd_done_err = c->store_err; }

Test(sequencer, commands_commit_with_the_group) {
  struct fx_seq_command c = {.run = cmd_run, .done = cmd_done, .now_us = 5};
  fx_sequencer_command(seq, &c);
  for (int i = 0; i < 2000 && cmd_done_err == -99; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(cmd_ran, 1);
  cr_assert_eq(cmd_done_err, 0);
  struct fx_store_read r;
  uint64_t v = 0;
  fx_store_read_init(&r, st);
  fx_store_read_begin(&r);
  fx_store_counter_get(&r, "test.cmd", &v);
  fx_store_read_end(&r);
  fx_store_read_free(&r);
  cr_assert_eq(v, 7);
  fx_sequencer_stop(seq);
  uv_run(&loop, UV_RUN_DEFAULT);
}
