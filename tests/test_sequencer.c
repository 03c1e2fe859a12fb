/* test_sequencer.c — group commit on a real LMDB store: journaling, Already
 * Submitted vs Duplicate Identifier across and within groups, response rows in
 * the outbox, no answer to responses, commands committing with a group. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/sequencer.h"
#include "store/store.h"
#include "tests/support/market_harness.h"

static struct fx_mh H;

/* The generic protocol alone: a sequencer without the market's hooks. */
static void setup(void) {
  fx_mh_setup(&H, "seq");
  H.timestamp = "2026-01-01T00:00:00Z";
  H.now_us = 1000;
  H.conv_id = "99999999-9999-4999-8999-999999999999"; /* resending the same content */
  fx_mh_start_sequencer(&H, (struct fx_seq_hooks){0});
}

static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(sequencer, .init = setup, .fini = teardown);

/* A verified TestMessage (or TestMessageResponse) from an AGR as a worker
 * would hand it over, not submitted yet. */
static struct fx_mh_held *inbound(const char *root, const char *msgid, const char *extra) {
  char rest[256];
  snprintf(rest, sizeof rest, "%s/>", extra);
  H.reuse_id = msgid;
  return fx_mh_message(&H, root, "agr.example.com", FX_ROLE_AGR, rest, 1 << 20);
}

#define wait_committed(n) fx_mh_wait_committed(&H, n)
#define count_outbox() fx_mh_count_all(&H)
#define release(m) fx_mh_release(m)

Test(sequencer, journals_and_answers_a_message) {
  struct fx_mh_held *a = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(H.seq, &a->in);
  wait_committed(1);
  cr_assert_eq(a->in.store_err, 0);
  cr_assert_eq(a->in.result, FX_SEQ_ACCEPTED);
  cr_assert_eq(count_outbox(), 1, "a TestMessageResponse row");
  struct fx_store_read r;
  struct fx_store_msg_view v;
  fx_store_read_init(&r, H.st);
  fx_store_read_begin(&r);
  cr_assert_eq(fx_store_msg_get(&r, "agr.example.com", a->in.msg->hdr.message_id.b, &v), 0, "journaled");
  size_t len;
  const uint8_t *raw = fx_store_msg_raw(&v, &len);
  cr_assert_eq(len, a->in.raw_len);
  cr_assert_eq(memcmp(raw, a->in.raw, len), 0, "the bytes as received");
  fx_store_read_end(&r);
  fx_store_read_free(&r);
  fx_mh_stop(&H);
  release(a);
}

Test(sequencer, already_submitted_and_duplicate_identifier) {
  struct fx_mh_held *a = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(H.seq, &a->in);
  wait_committed(1);
  /* Same key, same content, in a later group. */
  struct fx_mh_held *b = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(H.seq, &b->in);
  wait_committed(2);
  cr_assert_eq(b->in.result, FX_SEQ_ALREADY_SUBMITTED);
  cr_assert_str_eq(b->in.reasons.text, "Already Submitted");
  /* Same key, other content (another digest), within one group. */
  struct fx_mh_held *c = inbound("TestMessage", "22222222-2222-4222-8222-222222222222", "");
  struct fx_mh_held *d = inbound("TestMessage", "22222222-2222-4222-8222-222222222222", "");
  d->in.digest[0] ^= 1;
  fx_sequencer_submit(H.seq, &c->in);
  fx_sequencer_submit(H.seq, &d->in);
  wait_committed(4);
  cr_assert_eq(c->in.result, FX_SEQ_ACCEPTED);
  cr_assert_eq(d->in.result, FX_SEQ_DUPLICATE);
  cr_assert_str_eq(d->in.reasons.text, "Duplicate Identifier");
  fx_mh_stop(&H);
  release(a), release(b), release(c), release(d);
}

Test(sequencer, generic_rejections_reach_the_response_and_barred_senders_are_refused) {
  struct fx_mh_held *a = inbound("TestMessage", "11111111-1111-4111-8111-111111111111", "");
  fx_verdict_add(&a->in.verdict, "Unknown RecipientDomain");
  a->in.barred = true;
  fx_sequencer_submit(H.seq, &a->in);
  wait_committed(1);
  cr_assert_eq(a->in.result, FX_SEQ_REJECTED);
  cr_assert_str_eq(a->in.reasons.text, "Unknown RecipientDomain;Barred Sender");
  fx_mh_stop(&H);
  release(a);
}

Test(sequencer, responses_are_not_answered) {
  struct fx_mh_held *a = inbound("TestMessageResponse", "11111111-1111-4111-8111-111111111111", "");
  fx_sequencer_submit(H.seq, &a->in);
  wait_committed(1);
  cr_assert_eq(a->in.store_err, 0);
  cr_assert_eq(count_outbox(), 0);
  fx_mh_stop(&H);
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
  fx_sequencer_command(H.seq, &c);
  for (int i = 0; i < 2000 && cmd_done_err == -99; i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(cmd_ran, 1);
  cr_assert_eq(cmd_done_err, 0);
  struct fx_store_read r;
  uint64_t v = 0;
  fx_store_read_init(&r, H.st);
  fx_store_read_begin(&r);
  fx_store_counter_get(&r, "test.cmd", &v);
  fx_store_read_end(&r);
  fx_store_read_free(&r);
  cr_assert_eq(v, 7);
  fx_mh_stop(&H);
}
