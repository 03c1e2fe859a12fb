/* test_store_prealloc_crash.c — a process killed while its preallocation
 * helper appends zeros loses nothing it acknowledged.
 *
 * A child commits batches as fast as it can and asks for preallocation after
 * each, as the sequencer does; every fourth batch holds a 1 MiB message, so
 * LMDB often writes past the zeros while the helper is appending more. After
 * each durable commit the child writes the batch number to a pipe (the moment
 * flexd would answer 200). The parent SIGKILLs it at random moments, reopens
 * the store and checks that the batches present are exactly 0..K-1, every
 * reported one among them, each message with every byte it was committed
 * with. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/lmdb_used.h"
#include "tests/support/kill_child.h"
#include "store/store.h"

#define MSGS 4
#define ITERATIONS 8
#define MAX_BATCHES 100000
#define BIG ((size_t)1 << 20)

static void quiet(void *ud, const char *msg) { (void)ud; (void)msg; }

static void id_of(uint8_t id[16], uint64_t batch, uint64_t i) {
  memcpy(id, &batch, 8);
  memcpy(id + 8, &i, 8);
}

static size_t len_of(uint64_t b, uint64_t i) { return i == 0 && b % 4 == 3 ? BIG : 300 + (b * 131 + i * 17) % 1700; }

/* Never 0: zeros over a committed message cannot pass for it. */
static uint8_t byte_of(uint64_t b, uint64_t i, size_t k) { return (uint8_t)(1 + (b * 7 + i * 3 + k) % 255); }

static int commit_batch(struct fx_store *st, struct fx_store_batch *b, uint64_t n, uint8_t *buf) {
  static const uint8_t dg[32];
  uint8_t ids[MSGS][16];
  fx_store_batch_reset(b);
  for (uint64_t i = 0; i < MSGS; i++) {
    uint8_t *raw = buf + i * BIG;
    size_t len = len_of(n, i);
    for (size_t k = 0; k < len; k++) raw[k] = byte_of(n, i, k);
    id_of(ids[i], n, i);
    struct fx_store_msg m = {.domain = "crash.example.com", .msgid = ids[i], .digest = dg,
                             .raw = raw, .raw_len = len};
    if (fx_store_batch_put_msg(b, &m, NULL)) return -1;
  }
  return fx_store_commit(st, b);
}

static void child(const char *dir, int wfd, uint64_t first) {
  struct fx_store *st;
  struct fx_store_batch b;
  struct fx_store_opts o = {.path = dir, .log = quiet};
  uint8_t *buf = malloc(MSGS * BIG);
  if (!buf || fx_store_open(&st, &o)) _exit(2);
  fx_store_batch_init(&b);
  for (uint64_t n = first; n < MAX_BATCHES; n++) {
    if (commit_batch(st, &b, n, buf)) _exit(3);
    if (write(wfd, &n, sizeof n) != sizeof n) _exit(4);
    (void)fx_store_prealloc(st); /* asks the helper; a failed step is no error */
  }
  _exit(0);
}

static int64_t run_and_kill(const char *dir, uint64_t first, long ms) {
  return fx_kill_child_run(child, dir, first, ms);
}

/* Reopens the store, checks every message byte by byte, returns the number
 * of complete batches. */
static uint64_t verify(const char *dir) {
  struct fx_store *st;
  struct fx_store_read rd;
  struct fx_store_iter it;
  struct fx_store_msg_view v;
  struct fx_store_opts o = {.path = dir, .log = quiet};
  int rc = fx_store_open(&st, &o);
  cr_assert_eq(rc, 0, "reopen after kill: %s", fx_store_strerror(rc));
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_journal_iter(&rd, 1, &it), 0);
  uint64_t seq = 0;
  uint8_t id[16];
  while ((rc = fx_store_journal_next(&it, &v)) == 1) {
    uint64_t b = seq / MSGS, i = seq % MSGS;
    size_t n;
    seq++;
    id_of(id, b, i);
    cr_assert_arr_eq(fx_store_msg_id(&v), id, 16, "journal entry %lu", (unsigned long)seq);
    const uint8_t *raw = fx_store_msg_raw(&v, &n);
    cr_assert_eq(n, len_of(b, i));
    for (size_t k = 0; k < n; k++)
      if (raw[k] != byte_of(b, i, k))
        cr_assert_fail("batch %lu message %lu: byte %zu is %u", (unsigned long)b, (unsigned long)i, k, raw[k]);
  }
  cr_assert_eq(rc, 0);
  fx_store_iter_close(&it);
  fx_store_read_free(&rd);
  fx_store_close(st);
  cr_assert_eq(seq % MSGS, 0, "a batch's messages are all there or none");
  return seq / MSGS;
}

Test(store_prealloc_crash, a_kill_during_preallocation_loses_nothing_acknowledged, .timeout = 120) {
  char dir[] = "/tmp/fxprecrash-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  srand((unsigned)time(NULL));
  uint64_t have = 0;
  for (int it = 0; it < ITERATIONS; it++) {
    long ms = 80 + rand() % 400;
    int64_t last = run_and_kill(dir, have, ms);
    uint64_t now = verify(dir);
    cr_assert_geq((int64_t)now, last + 1, "batch %lld was reported durable but is gone (have %llu)",
                  (long long)last, (unsigned long long)now);
    have = now;
  }
  cr_assert_gt(have, 8, "the children committed too little to have preallocated");
  char p[96];
  snprintf(p, sizeof p, "%s/data.mdb", dir);
  struct stat sb;
  cr_assert_eq(stat(p, &sb), 0);
  cr_assert_gt((uint64_t)sb.st_size, fx_lmdb_used_bytes(dir), "no zeros ahead: the helper never ran");
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", dir);
  unlink(p);
  rmdir(dir);
}
