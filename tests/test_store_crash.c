/* test_store_crash.c — nothing acknowledged is lost, nothing is half-applied.
 *
 * A child process commits batches as fast as it can; each batch journals
 * three messages, creates one market object, queues two outbox rows, orders
 * the previous batch's offer, marks one of its outbox rows delivered and
 * raises a counter, all tagged with the batch number. After each durable
 * commit the child writes that number to a pipe (the moment flexd would
 * answer HTTP 200). The parent SIGKILLs the child at random moments, reopens
 * the store and checks that every reported batch is there, complete and
 * intact, and that the batches present are exactly 0..K-1, each complete. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/kill_child.h"
#include "store/store.h"

#define MSGS 3
#define OUTS 2
#define ITERATIONS 20
#define MAX_SECONDS 20
#define MAX_BATCHES 100000

static void quiet(void *ud, const char *msg) { (void)ud; (void)msg; }

static void id_of(uint8_t id[16], uint64_t batch, uint64_t i) {
  memcpy(id, &batch, 8);
  memcpy(id + 8, &i, 8);
}

static size_t raw_len(uint64_t b, uint64_t i) { return 200 + (b * 131 + i * 17) % 1800; }

static void raw_fill(uint8_t *p, uint64_t b, uint64_t i) {
  for (size_t k = 0, n = raw_len(b, i); k < n; k++) p[k] = (uint8_t)(b * 7 + i * 3 + k);
}

static void digest_fill(uint8_t d[32], uint64_t b, uint64_t i) {
  for (int k = 0; k < 32; k++) d[k] = (uint8_t)(b ^ (i << 4) ^ (uint64_t)k);
}

/* ---- the child: commit batches until killed ----------------------------------- */

static int commit_batch(struct fx_store *st, struct fx_store_batch *b, uint64_t n) {
  uint8_t ids[MSGS][16], dg[MSGS][32], raw[MSGS][2000], body[OUTS][16], oid[16];
  fx_store_batch_reset(b);
  for (uint64_t i = 0; i < MSGS; i++) {
    id_of(ids[i], n, i);
    digest_fill(dg[i], n, i);
    raw_fill(raw[i], n, i);
    struct fx_store_msg m = {.domain = "crash.example.com", .msgid = ids[i], .digest = dg[i],
                             .type = 1, .recv_us = (int64_t)n, .raw = raw[i],
                             .raw_len = raw_len(n, i)};
    if (fx_store_batch_put_msg(b, &m, NULL)) return -1;
  }
  id_of(oid, n, 99);
  struct fx_store_obj o = {.key = {.cp = "cp-crash", .period = (int32_t)(n % 7),
                                   .kind = FX_OBJ_OFFER},
                           .state = FX_OFFER_OPEN, .t_us = (int64_t)n, .body = &n,
                           .body_len = sizeof n};
  memcpy(o.key.id, oid, 16);
  if (fx_store_batch_put_obj(b, &o)) return -1;
  for (uint64_t i = 0; i < OUTS; i++) {
    id_of(body[i], n, i);
    struct fx_store_out x = {.domain = "agr.example.com", .next_us = (int64_t)n,
                             .body = body[i], .body_len = 16};
    if (fx_store_batch_out_add(b, &x, NULL)) return -1;
  }
  /* Updates too must be all-or-nothing: the previous batch's offer is
   * ordered and its first outbox row delivered by this one. */
  struct fx_store_obj_key prev = o.key;
  prev.period = (int32_t)((n + 6) % 7);
  id_of(prev.id, n - 1, 99);
  if (n && (fx_store_batch_set_state(b, &prev, FX_OFFER_ORDERED, (int64_t)n) ||
            fx_store_batch_out_delivered(b, (n - 1) * OUTS + 1, (int64_t)n)))
    return -1;
  if (fx_store_batch_counter_raise(b, "crash.batches", n + 1)) return -1;
  return fx_store_commit(st, b);
}

static void child(const char *dir, int wfd, uint64_t first) {
  struct fx_store *st;
  struct fx_store_batch b;
  struct fx_store_opts o = {.path = dir, .log = quiet};
  if (fx_store_open(&st, &o)) _exit(2);
  fx_store_batch_init(&b);
  for (uint64_t n = first; n < MAX_BATCHES; n++) {
    if (commit_batch(st, &b, n)) _exit(3);
    if (write(wfd, &n, sizeof n) != sizeof n) _exit(4);
  }
  _exit(0);
}

/* ---- the parent: kill, reopen, verify --------------------------------------------- */

static int64_t run_and_kill(const char *dir, uint64_t first, long ms) {
  return fx_kill_child_run(child, dir, first, ms);
}

static uint64_t check_journal(struct fx_store_read *rd) {
  struct fx_store_iter it;
  struct fx_store_msg_view v;
  uint8_t want[2000], id[16];
  uint64_t seq = 0;
  int rc;
  cr_assert_eq(fx_store_journal_iter(rd, 1, &it), 0);
  while ((rc = fx_store_journal_next(&it, &v)) == 1) {
    uint64_t b = seq / MSGS, i = seq % MSGS;
    size_t n;
    uint8_t dg[32];
    cr_assert_eq(fx_store_msg_seq(&v), ++seq);
    id_of(id, b, i);
    cr_assert_arr_eq(fx_store_msg_id(&v), id, 16, "journal entry %lu is batch %lu msg %lu",
                     (unsigned long)seq, (unsigned long)b, (unsigned long)i);
    const uint8_t *raw = fx_store_msg_raw(&v, &n);
    raw_fill(want, b, i);
    digest_fill(dg, b, i);
    cr_assert_eq(n, raw_len(b, i));
    cr_assert_arr_eq(raw, want, n, "message bytes intact");
    cr_assert_arr_eq(fx_store_msg_digest(&v), dg, 32);
  }
  cr_assert_eq(rc, 0);
  fx_store_iter_close(&it);
  cr_assert_eq(seq % MSGS, 0, "a batch's messages are all there or none: %lu", (unsigned long)seq);
  return seq / MSGS;
}

static void check_rest(struct fx_store_read *rd, uint64_t batches) {
  struct fx_store_iter it;
  struct fx_store_obj_view ov;
  struct fx_store_out_view xv;
  uint64_t n = 0, v;
  size_t len;
  cr_assert_eq(fx_store_obj_iter(rd, NULL, 0, 0, &it), 0);
  while (fx_store_obj_next(&it, &ov) == 1) {
    memcpy(&v, fx_store_obj_body(&ov, &len), sizeof v);
    cr_assert_lt(v, batches, "object of batch %lu without its messages", (unsigned long)v);
    cr_assert_eq(fx_store_obj_state(&ov), v + 1 < batches ? FX_OFFER_ORDERED : FX_OFFER_OPEN,
                 "offer of batch %lu: ordered exactly when batch %lu landed",
                 (unsigned long)v, (unsigned long)v + 1);
    n++;
  }
  fx_store_iter_close(&it);
  cr_assert_eq(n, batches, "one object per batch");
  uint64_t pending = 0;
  for (uint64_t id = 1; id <= batches * OUTS; id++) {
    uint8_t want[16];
    uint64_t b = (id - 1) / OUTS, i = (id - 1) % OUTS;
    cr_assert_eq(fx_store_out_get(rd, id, &xv), 0, "outbox row %lu", (unsigned long)id);
    id_of(want, b, i);
    cr_assert_arr_eq(fx_store_out_body(&xv, &len), want, 16);
    int delivered = i == 0 && b + 1 < batches;
    cr_assert_eq(fx_store_out_state(&xv), delivered ? FX_OUT_DELIVERED : FX_OUT_PENDING);
    pending += !delivered;
  }
  cr_assert_eq(fx_store_out_get(rd, batches * OUTS + 1, &xv), FX_STORE_ENOTFOUND);
  n = 0;
  cr_assert_eq(fx_store_due_iter(rd, INT64_MAX, &it), 0);
  while (fx_store_due_next(&it, &xv) == 1) n++;
  fx_store_iter_close(&it);
  cr_assert_eq(n, pending, "the due index holds exactly the pending rows");
  cr_assert_eq(fx_store_counter_get(rd, "crash.batches", &v), 0);
  cr_assert_eq(v, batches);
}

/* Reopens the store and returns the number of complete batches in it. */
static uint64_t verify(const char *dir) {
  struct fx_store *st;
  struct fx_store_read rd;
  struct fx_store_opts o = {.path = dir, .log = quiet};
  int rc = fx_store_open(&st, &o);
  cr_assert_eq(rc, 0, "reopen after kill: %s", fx_store_strerror(rc));
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  uint64_t batches = check_journal(&rd);
  check_rest(&rd, batches);
  fx_store_read_free(&rd);
  fx_store_close(st);
  return batches;
}

static void rm_store(const char *d) {
  char p[128];
  snprintf(p, sizeof p, "%s/data.mdb", d);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", d);
  unlink(p);
  rmdir(d);
}

Test(store_crash, sigkill_never_loses_a_reported_batch_nor_half_applies_one, .timeout = 120) {
  char dir[64];
  strcpy(dir, "/tmp/fxcrash-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  srand(seed);
  cr_log_info("crash test seed %u", seed);
  time_t start = time(NULL);
  uint64_t have = 0, reported_total = 0;
  int iters = 0;
  while (iters < ITERATIONS && time(NULL) - start < MAX_SECONDS) {
    long ms = 20 + rand() % 150;
    int64_t last = run_and_kill(dir, have, ms);
    uint64_t now = verify(dir);
    cr_assert_geq((int64_t)now, last + 1, "seed %u iter %d: batch %ld was reported durable, "
                  "store holds batches below %lu", seed, iters, (long)last, (unsigned long)now);
    reported_total += (uint64_t)(last + 1 - (int64_t)have);
    have = now;
    iters++;
  }
  cr_log_info("%d kills, %lu batches reported, %lu in store", iters,
              (unsigned long)reported_total, (unsigned long)have);
  cr_assert_gt(reported_total, 0, "the child must have committed something");
  cr_assert_geq(iters, 3);
  rm_store(dir);
}
