/* test_store_prealloc.c — fx_store_prealloc: the data file is written ahead of
 * the store's use (zeros on allocated blocks, not a sparse hole) by a helper
 * thread while commits go on, never over a committed byte and never past the
 * map; a store at its maximum or on a full disk still reports EFULL or
 * ENOSPC from its commits and goes on working, and a preallocated store
 * reopens with every record intact. Real LMDB files; the store's use of its
 * file is read back with raw LMDB (the last page LMDB has used). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/lmdb_used.h"
#include "store/store.h"
#include "tests/support/small_fs.h"

#define MIB ((uint64_t)1 << 20)

struct logbuf { char text[4096]; size_t n; };

static void capture(void *ud, const char *msg) {
  struct logbuf *l = ud;
  int w = snprintf(l->text + l->n, sizeof l->text - l->n, "%s\n", msg);
  if (w > 0 && (size_t)w < sizeof l->text - l->n) l->n += (size_t)w;
}

static char dir[64];

static void setup(void) {
  strcpy(dir, "/tmp/fxprealloc-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void rm_store(const char *d) {
  char p[128];
  snprintf(p, sizeof p, "%s/data.mdb", d);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", d);
  unlink(p);
  rmdir(d);
}

static void teardown(void) { rm_store(dir); }

TestSuite(store_prealloc, .init = setup, .fini = teardown);

static struct fx_store *open_at(const char *d, size_t map, size_t max, struct logbuf *log) {
  struct fx_store *st;
  struct fx_store_opts o = {.path = d, .map_size = map, .map_max = max, .log = capture, .log_ud = log};
  int rc = fx_store_open(&st, &o);
  cr_assert_eq(rc, 0, "open %s: %s\n%s", d, fx_store_strerror(rc), log->text);
  return st;
}

static void mkid(uint8_t id[16], uint64_t a, uint64_t b) {
  memcpy(id, &a, 8);
  memcpy(id + 8, &b, 8);
}

/* Commits `count` messages of 2000 bytes with ids (tag, first..). */
static int put_msgs(struct fx_store *st, uint64_t tag, uint64_t first, int count) {
  static const uint8_t dg[32];
  static char raw[2000];
  uint8_t ids[64][16];
  struct fx_store_batch b;
  cr_assert_leq(count, 64);
  memset(raw, 'x', sizeof raw);
  fx_store_batch_init(&b);
  for (int i = 0; i < count; i++) {
    mkid(ids[i], tag, first + (uint64_t)i);
    struct fx_store_msg m = {.domain = "agr.example.com", .msgid = ids[i], .digest = dg,
                             .raw = raw, .raw_len = sizeof raw};
    cr_assert_eq(fx_store_batch_put_msg(&b, &m, NULL), 0);
  }
  int rc = fx_store_commit(st, &b);
  fx_store_batch_free(&b);
  return rc;
}

static int has_msg(struct fx_store *st, uint64_t tag, uint64_t n) {
  struct fx_store_read rd;
  struct fx_store_msg_view v;
  uint8_t id[16];
  mkid(id, tag, n);
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  int rc = fx_store_msg_get(&rd, "agr.example.com", id, &v);
  size_t len = 0;
  if (rc == 0) fx_store_msg_raw(&v, &len);
  fx_store_read_free(&rd);
  cr_assert(rc == 0 || rc == FX_STORE_ENOTFOUND, "get: %s", fx_store_strerror(rc));
  return rc == 0 && len == 2000;
}

static uint64_t journal_len(struct fx_store *st) {
  struct fx_store_read rd;
  uint64_t v;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_counter_get(&rd, "store.seq", &v), 0);
  fx_store_read_free(&rd);
  return v;
}

static struct stat data_file(const char *d) {
  char p[128];
  struct stat sb;
  snprintf(p, sizeof p, "%s/data.mdb", d);
  cr_assert_eq(stat(p, &sb), 0, "stat %s: %s", p, strerror(errno));
  return sb;
}

Test(store_prealloc, the_file_is_written_ahead_of_use) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 64 << 20, 64 << 20, &log);
  for (int i = 0; i < 60; i++) {
    cr_assert_eq(put_msgs(st, 1, (uint64_t)i * 20, 20), 0);
    cr_assert_eq(fx_store_prealloc(st), 0, "%s", log.text);
    cr_assert_eq(fx_store_prealloc_wait(st), 0, "%s", log.text);
  }
  fx_store_close(st);
  uint64_t used = fx_lmdb_used_bytes(dir);
  struct stat sb = data_file(dir);
  cr_assert_gt(used, 2 * MIB, "the test must use more than one step's threshold");
  /* At least half the smallest step (4 MiB) ahead, right after a call. */
  cr_assert_geq((uint64_t)sb.st_size, used + 2 * MIB, "file %lld, used %llu", (long long)sb.st_size,
                (unsigned long long)used);
  /* Written, not a hole: every byte of the file has a block. */
  cr_assert_geq((uint64_t)sb.st_blocks * 512, (uint64_t)sb.st_size, "blocks %lld for %lld bytes",
                (long long)sb.st_blocks, (long long)sb.st_size);
}

Test(store_prealloc, without_it_the_file_ends_at_its_last_page) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 64 << 20, 64 << 20, &log);
  for (int i = 0; i < 60; i++) cr_assert_eq(put_msgs(st, 1, (uint64_t)i * 20, 20), 0);
  fx_store_close(st);
  cr_assert_lt((uint64_t)data_file(dir).st_size, fx_lmdb_used_bytes(dir) + 64 * 1024);
}

Test(store_prealloc, a_preallocated_store_reopens_with_every_record) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 64 << 20, 64 << 20, &log);
  for (int i = 0; i < 30; i++) {
    cr_assert_eq(put_msgs(st, 2, (uint64_t)i * 20, 20), 0);
    cr_assert_eq(fx_store_prealloc(st), 0);
    cr_assert_eq(fx_store_prealloc_wait(st), 0);
  }
  fx_store_close(st);
  st = open_at(dir, 64 << 20, 64 << 20, &log);
  cr_assert_eq(journal_len(st), 600);
  cr_assert(has_msg(st, 2, 0) && has_msg(st, 2, 599));
  cr_assert_not(has_msg(st, 2, 600));
  /* New commits land in the zeros: the file does not grow for them. */
  off_t before = data_file(dir).st_size;
  cr_assert_eq(put_msgs(st, 3, 0, 20), 0);
  cr_assert_eq(data_file(dir).st_size, before);
  cr_assert(has_msg(st, 3, 19));
  fx_store_close(st);
}

Test(store_prealloc, never_past_the_map_and_a_full_map_is_still_efull) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 2 << 20, 2 << 20, &log);
  int batches = 0, rc = 0;
  while (batches < 1000 && !(rc = put_msgs(st, 4, (uint64_t)batches * 20, 20))) {
    cr_assert_eq(fx_store_prealloc(st), 0);
    cr_assert_eq(fx_store_prealloc_wait(st), 0);
    cr_assert_leq((uint64_t)data_file(dir).st_size, 2 * MIB, "zeros past the map");
    batches++;
  }
  cr_assert_eq(rc, FX_STORE_EFULL, "got %s after %d batches", fx_store_strerror(rc), batches);
  cr_assert_gt(batches, 0);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20);
  cr_assert_not(has_msg(st, 4, (uint64_t)batches * 20));
  fx_store_close(st);
  st = open_at(dir, 2 << 20, 2 << 20, &log);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20);
  fx_store_close(st);
}

/* A step that does not fit on the disk is abandoned (ENOSPC, logged); the
 * commits then report ENOSPC themselves and work again once there is room. */
Test(store_prealloc, a_full_disk_fails_the_step_not_the_store) {
  struct fx_small_fs fs;
  fx_small_fs_mount(&fs, "fxprealloc-fs");
  const char *sdir = fs.store;

  struct logbuf log = {0};
  struct fx_store *st = open_at(sdir, 64 << 20, 64 << 20, &log);
  int batches = 0, rc = 0, step_failed = 0;
  while (batches < 1000 && !(rc = put_msgs(st, 5, (uint64_t)batches * 20, 20))) {
    int p = fx_store_prealloc(st);
    cr_assert(p == 0 || p == FX_STORE_ENOSPC, "prealloc: %s", fx_store_strerror(p));
    step_failed |= p == FX_STORE_ENOSPC;
    p = fx_store_prealloc_wait(st);
    cr_assert(p == 0 || p == FX_STORE_ENOSPC, "step: %s", fx_store_strerror(p));
    step_failed |= p == FX_STORE_ENOSPC;
    batches++;
  }
  cr_assert(step_failed, "a 4 MiB step cannot fit in 3 MiB");
  cr_assert(strstr(log.text, "preallocating") != NULL, "%s", log.text);
  cr_assert_eq(rc, FX_STORE_ENOSPC, "got %s after %d batches", fx_store_strerror(rc), batches);
  cr_assert_gt(batches, 0);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20);
  unlink(fs.ballast);
  cr_assert_eq(put_msgs(st, 6, 0, 20), 0);
  cr_assert(has_msg(st, 6, 19));
  fx_store_close(st);
  st = open_at(sdir, 64 << 20, 64 << 20, &log);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20 + 20);
  fx_store_close(st);
  rm_store(sdir);
  fx_small_fs_unmount(&fs);
}

/* ---- the helper thread against concurrent commits ------------------------- */

/* Every byte of message (tag, n) is this, never 0: zeros written over a
 * committed record cannot pass for it. */
static uint8_t mark(uint64_t tag, uint64_t n, size_t i) {
  return (uint8_t)(1 + (tag * 131 + n * 31 + i) % 255);
}

/* Commits `count` messages of `len` marked bytes with ids (tag, first..). */
static int put_marked(struct fx_store *st, uint64_t tag, uint64_t first, int count, size_t len) {
  static const uint8_t dg[32];
  uint8_t ids[64][16];
  uint8_t *raw = malloc((size_t)count * len);
  struct fx_store_batch b;
  cr_assert_leq(count, 64);
  cr_assert_not_null(raw);
  fx_store_batch_init(&b);
  for (int i = 0; i < count; i++) {
    uint8_t *r = raw + (size_t)i * len;
    for (size_t k = 0; k < len; k++) r[k] = mark(tag, first + (uint64_t)i, k);
    mkid(ids[i], tag, first + (uint64_t)i);
    struct fx_store_msg m = {.domain = "agr.example.com", .msgid = ids[i], .digest = dg,
                             .raw = r, .raw_len = len};
    cr_assert_eq(fx_store_batch_put_msg(&b, &m, NULL), 0);
  }
  int rc = fx_store_commit(st, &b);
  fx_store_batch_free(&b);
  free(raw);
  return rc;
}

/* Whether message (tag, n) is there with all its `len` marked bytes. */
static int intact(struct fx_store_read *rd, uint64_t tag, uint64_t n, size_t len) {
  struct fx_store_msg_view v;
  uint8_t id[16];
  size_t got = 0;
  mkid(id, tag, n);
  if (fx_store_msg_get(rd, "agr.example.com", id, &v)) return 0;
  const uint8_t *r = fx_store_msg_raw(&v, &got);
  if (got != len) return 0;
  for (size_t k = 0; k < len; k++)
    if (r[k] != mark(tag, n, k)) return 0;
  return 1;
}

/* Small groups, and groups of 2 MiB that push LMDB past the helper's zeros
 * while it is appending more: the helper only ever appends at the file's
 * end, so after a reopen every committed byte is still what was committed. */
Test(store_prealloc, steps_run_beside_commits_and_overwrite_nothing, .timeout = 60) {
  enum { ROUNDS = 12, SMALL = 20, BIG = 4 };
  const size_t small_len = 2000, big_len = 512 * 1024;
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 64 << 20, 64 << 20, &log);
  for (int r = 0; r < ROUNDS; r++) {
    for (int k = 0; k < 8; k++) {
      cr_assert_eq(put_marked(st, 7, (uint64_t)(r * 8 + k) * SMALL, SMALL, small_len), 0, "%s", log.text);
      cr_assert_eq(fx_store_prealloc(st), 0, "%s", log.text); /* asks; never waits */
    }
    cr_assert_eq(put_marked(st, 8, (uint64_t)r * BIG, BIG, big_len), 0, "%s", log.text);
    cr_assert_eq(fx_store_prealloc(st), 0, "%s", log.text);
  }
  cr_assert_eq(fx_store_prealloc_wait(st), 0, "%s", log.text);
  fx_store_close(st);
  uint64_t used = fx_lmdb_used_bytes(dir);
  cr_assert_gt(used, 24 * MIB, "the big groups must outgrow several steps");
  cr_assert_leq((uint64_t)data_file(dir).st_size, 64 * MIB, "zeros past the map");

  st = open_at(dir, 64 << 20, 64 << 20, &log);
  cr_assert_eq(journal_len(st), (uint64_t)ROUNDS * (8 * SMALL + BIG));
  struct fx_store_read rd;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  for (uint64_t n = 0; n < (uint64_t)ROUNDS * 8 * SMALL; n++)
    cr_assert(intact(&rd, 7, n, small_len), "small message %llu damaged", (unsigned long long)n);
  for (uint64_t n = 0; n < (uint64_t)ROUNDS * BIG; n++)
    cr_assert(intact(&rd, 8, n, big_len), "big message %llu damaged", (unsigned long long)n);
  fx_store_read_free(&rd);
  fx_store_close(st);
}

/* Closing while a step may still be running stops and joins the helper; what
 * was committed is there after a reopen, and the zeros stayed inside the map. */
Test(store_prealloc, closing_during_a_step_stops_it, .timeout = 30) {
  struct logbuf log = {0};
  for (int round = 0; round < 5; round++) {
    struct fx_store *st = open_at(dir, 64 << 20, 64 << 20, &log);
    cr_assert_eq(put_marked(st, 9, (uint64_t)round * 20, 20, 2000), 0, "%s", log.text);
    cr_assert_eq(fx_store_prealloc(st), 0, "%s", log.text);
    fx_store_close(st);
  }
  cr_assert_leq((uint64_t)data_file(dir).st_size, 64 * MIB);
  struct fx_store *st = open_at(dir, 64 << 20, 64 << 20, &log);
  cr_assert_eq(journal_len(st), 100);
  struct fx_store_read rd;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  for (uint64_t n = 0; n < 100; n++) cr_assert(intact(&rd, 9, n, 2000), "message %llu", (unsigned long long)n);
  fx_store_read_free(&rd);
  fx_store_close(st);
}
