/* test_sequencer.c — group commit on a real LMDB store: journaling, Already
 * Submitted vs Duplicate Identifier across and within groups, response rows in
 * the outbox, no answer to responses, commands committing with a group, and
 * fairness: groups filled round-robin by sender, FIFO within a sender. */
#include <criterion/criterion.h>
#include <stdlib.h>
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

/* ---- fairness ---------------------------------------------------------------
 * A command that holds the sequencer thread until released lets a test queue
 * a whole flood before the next group is taken; the apply hook records the
 * order messages are decided in, after_commit where each group ends. */

enum { FLOOD = 600, SMALL = 5, DECIDED_MAX = FLOOD + SMALL };

struct recorder {
  char who[DECIDED_MAX];        /* 'F' flood, 'S' small, in decision order */
  unsigned seq[DECIDED_MAX];    /* the sender's own submission number */
  int group_of[DECIDED_MAX];    /* the group each was decided in */
  int n, groups;
  uv_sem_t running, release;
};

static unsigned nth_of(const struct fx_inbound *in) { return (unsigned)in->recv_us; }

static void rec_apply(void *market, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v,
                      struct fx_msg *resp) {
  (void)ctx, (void)v, (void)resp;
  struct recorder *r = market;
  if (r->n >= DECIDED_MAX)
    return;
  r->who[r->n] = strcmp(in->msg->hdr.sender_domain, "flood.example.com") ? 'S' : 'F';
  r->seq[r->n] = nth_of(in);
  r->group_of[r->n] = r->groups;
  r->n++;
}

static void rec_after_commit(void *market, int ok) {
  (void)ok;
  ((struct recorder *)market)->groups++;
}

static void hold_run(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *c) {
  (void)market, (void)ctx;
  struct recorder *r = c->arg;
  uv_sem_post(&r->running);
  uv_sem_wait(&r->release);
}

static struct fx_mh_held *from(const char *sender, unsigned nth) {
  H.now_us = nth; /* carries the submission number to rec_apply */
  return fx_mh_message(&H, "TestMessage", sender, FX_ROLE_AGR, "/>", 16384);
}

Test(sequencer, a_flood_from_one_sender_delays_another_by_at_most_one_group) {
  static struct recorder r;
  memset(&r, 0, sizeof r);
  uv_sem_init(&r.running, 0);
  uv_sem_init(&r.release, 0);
  fx_mh_stop(&H);
  fx_mh_start_sequencer(&H, (struct fx_seq_hooks){.apply = rec_apply, .after_commit = rec_after_commit,
                                                 .market = &r});
  struct fx_seq_command hold = {.run = hold_run, .arg = &r};
  fx_sequencer_command(H.seq, &hold);
  uv_sem_wait(&r.running); /* the sequencer is busy: what follows queues up */
  struct fx_mh_held **m = calloc(FLOOD + SMALL, sizeof *m);
  cr_assert_not_null(m);
  for (int i = 0; i < FLOOD; i++)
    fx_sequencer_submit(H.seq, &(m[i] = from("flood.example.com", (unsigned)i))->in);
  for (int i = 0; i < SMALL; i++)
    fx_sequencer_submit(H.seq, &(m[FLOOD + i] = from("small.example.com", (unsigned)i))->in);
  uv_sem_post(&r.release);
  wait_committed(FLOOD + SMALL);
  fx_mh_stop(&H);

  cr_assert_eq(r.n, FLOOD + SMALL, "every message decided once");
  int last_small = -1, flood_in_first = 0;
  unsigned next_f = 0, next_s = 0;
  for (int i = 0; i < r.n; i++) {
    if (r.who[i] == 'S') {
      cr_assert_eq(r.seq[i], next_s++, "the small sender's order is kept");
      last_small = i;
    } else {
      cr_assert_eq(r.seq[i], next_f++, "the flood's order is kept");
      flood_in_first += r.group_of[i] == r.group_of[0];
    }
  }
  /* Round-robin: F S F S ... so the small sender's five are decided within
   * the first ten, not after the 600 queued ahead of them. */
  cr_assert_leq(last_small, 2 * SMALL - 1, "last small message decided at %d", last_small);
  cr_assert_eq(r.group_of[last_small], r.group_of[0], "in the first group after the flood queued");
  /* A sender's share of a group is bounded (a quarter of the default 1024). */
  cr_assert_eq(flood_in_first, 256, "flood messages in the first group: %d", flood_in_first);
  cr_assert_gt(r.group_of[r.n - 1], r.group_of[0], "the rest of the flood went in later groups");
  for (int i = 0; i < FLOOD + SMALL; i++)
    release(m[i]);
  free(m);
  uv_sem_destroy(&r.running);
  uv_sem_destroy(&r.release);
}

Test(sequencer, one_sender_alone_keeps_its_order_across_groups) {
  static struct recorder r;
  memset(&r, 0, sizeof r);
  fx_mh_stop(&H);
  fx_mh_start_sequencer(&H, (struct fx_seq_hooks){.apply = rec_apply, .after_commit = rec_after_commit,
                                                 .market = &r});
  struct fx_mh_held **m = calloc(FLOOD, sizeof *m);
  cr_assert_not_null(m);
  for (int i = 0; i < FLOOD; i++)
    fx_sequencer_submit(H.seq, &(m[i] = from("flood.example.com", (unsigned)i))->in);
  wait_committed(FLOOD);
  fx_mh_stop(&H);
  cr_assert_eq(r.n, FLOOD);
  for (int i = 0; i < r.n; i++)
    cr_assert_eq(r.seq[i], (unsigned)i, "decided in submission order");
  for (int i = 0; i < FLOOD; i++)
    release(m[i]);
  free(m);
}
