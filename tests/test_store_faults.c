/* test_store_faults.c — the store when things go wrong or change under it:
 * layout versions (newer refused, older migrated), a map at its maximum, a
 * full disk (a small tmpfs), map growth while other threads read. In every
 * case the failed batch must leave nothing behind and the store must go on
 * working. Real LMDB files throughout; the layout is edited with raw LMDB
 * calls, the way an older or newer flexd would have left it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/support/small_fs.h"

struct logbuf { char text[4096]; size_t n; };

static void capture(void *ud, const char *msg) {
  struct logbuf *l = ud;
  int w = snprintf(l->text + l->n, sizeof l->text - l->n, "%s\n", msg);
  if (w > 0 && (size_t)w < sizeof l->text - l->n) l->n += (size_t)w;
}

static void rm_store(const char *d) {
  char p[128];
  snprintf(p, sizeof p, "%s/data.mdb", d);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", d);
  unlink(p);
  rmdir(d);
}

static void mkid(uint8_t id[16], uint64_t a, uint64_t b) {
  memcpy(id, &a, 8);
  memcpy(id + 8, &b, 8);
}

static struct fx_store *open_at(const char *dir, size_t map, size_t max, struct logbuf *log) {
  struct fx_store *st;
  struct fx_store_opts o = {.path = dir, .map_size = map, .map_max = max, .log = capture,
                            .log_ud = log};
  int rc = fx_store_open(&st, &o);
  cr_assert_eq(rc, 0, "open %s: %s\n%s", dir, fx_store_strerror(rc), log->text);
  return st;
}

/* Commits `count` messages of `size` bytes with ids (tag, first..). */
static int put_msgs(struct fx_store *st, uint64_t tag, uint64_t first, int count, size_t size) {
  static const uint8_t dg[32];
  uint8_t (*ids)[16] = malloc((size_t)count * 16);
  char *raw = malloc(size);
  struct fx_store_batch b;
  cr_assert(ids && raw);
  memset(raw, 'x', size);
  fx_store_batch_init(&b);
  for (int i = 0; i < count; i++) {
    mkid(ids[i], tag, first + (uint64_t)i);
    struct fx_store_msg m = {.domain = "agr.example.com", .msgid = ids[i], .digest = dg,
                             .raw = raw, .raw_len = size};
    cr_assert_eq(fx_store_batch_put_msg(&b, &m, NULL), 0);
  }
  int rc = fx_store_commit(st, &b);
  fx_store_batch_free(&b);
  free(raw);
  free(ids);
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
  fx_store_read_free(&rd);
  cr_assert(rc == 0 || rc == FX_STORE_ENOTFOUND, "get: %s", fx_store_strerror(rc));
  return rc == 0;
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

/* ---- layout version ---------------------------------------------------------- */

/* Opens the store's environment with raw LMDB and lets f edit it. */
static void raw_edit(const char *dir, void (*f)(MDB_txn *txn)) {
  MDB_env *env;
  MDB_txn *txn;
  cr_assert_eq(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 16);
  cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
  cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
  f(txn);
  cr_assert_eq(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

static void set_layout(MDB_txn *txn, uint32_t v) {
  MDB_dbi meta;
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  MDB_val k = {6, "layout"}, d = {4, b};
  cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  cr_assert_eq(mdb_put(txn, meta, &k, &d, 0), 0);
}

static uint32_t read_layout(const char *dir) {
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi meta;
  MDB_val k = {6, "layout"}, d;
  cr_assert_eq(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 16);
  cr_assert_eq(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
  cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
  cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  cr_assert_eq(mdb_get(txn, meta, &k, &d), 0);
  cr_assert_eq(d.mv_size, 4);
  const uint8_t *p = d.mv_data;
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return v;
}

static void make_newer(MDB_txn *txn) { set_layout(txn, 99); }

/* What a v0 (prototype) store looked like: the outbox without a due index. */
static void make_v0(MDB_txn *txn) {
  MDB_dbi due;
  set_layout(txn, 0);
  cr_assert_eq(mdb_dbi_open(txn, "due", 0, &due), 0);
  cr_assert_eq(mdb_drop(txn, due, 1), 0);
}

static void drop_layout(MDB_txn *txn) {
  MDB_dbi meta;
  MDB_val k = {6, "layout"};
  cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  cr_assert_eq(mdb_del(txn, meta, &k, NULL), 0);
}

/* Overwrites the first message record's raw length with a length past the
 * end of the value, as a torn or foreign write would. */
static void break_message(MDB_txn *txn) {
  MDB_dbi msgs;
  MDB_cursor *cur;
  MDB_val k, d;
  cr_assert_eq(mdb_dbi_open(txn, "messages", 0, &msgs), 0);
  cr_assert_eq(mdb_cursor_open(txn, msgs, &cur), 0);
  cr_assert_eq(mdb_cursor_get(cur, &k, &d, MDB_FIRST), 0);
  uint8_t rec[256];
  cr_assert_leq(d.mv_size, sizeof rec);
  memcpy(rec, d.mv_data, d.mv_size);
  rec[62] = 0x7f; /* raw length at offset 60, little-endian */
  MDB_val nd = {d.mv_size, rec};
  cr_assert_eq(mdb_cursor_put(cur, &k, &nd, MDB_CURRENT), 0);
  mdb_cursor_close(cur);
}

static char dir[64];
static void setup(void) {
  strcpy(dir, "/tmp/fxfault-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}
static void teardown(void) { rm_store(dir); }
TestSuite(store_faults, .init = setup, .fini = teardown);

Test(store_faults, new_store_records_current_layout) {
  struct logbuf log = {0};
  fx_store_close(open_at(dir, 0, 0, &log));
  cr_assert_eq(read_layout(dir), FX_STORE_LAYOUT_VERSION);
}

Test(store_faults, newer_layout_is_refused_with_a_clear_message) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 0, 0, &log);
  cr_assert_eq(put_msgs(st, 1, 0, 1, 10), 0);
  fx_store_close(st);
  raw_edit(dir, make_newer);
  struct fx_store_opts o = {.path = dir, .log = capture, .log_ud = &log};
  cr_assert_eq(fx_store_open(&st, &o), FX_STORE_ENEWER);
  cr_assert_null(st);
  cr_assert(strstr(log.text, "v99 is newer than this flexd") != NULL, "log: %s", log.text);
  cr_assert_eq(read_layout(dir), 99, "a refused store is left as it was");
}

Test(store_faults, older_layout_is_migrated) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 0, 0, &log);
  struct fx_store_batch b;
  uint64_t ids[3];
  fx_store_batch_init(&b);
  for (int i = 0; i < 3; i++) {
    struct fx_store_out o = {.domain = "agr.example.com", .next_us = 100 - i, .body = "x",
                             .body_len = 1};
    fx_store_batch_out_add(&b, &o, &ids[i]);
  }
  cr_assert_eq(fx_store_commit(st, &b), 0);
  fx_store_batch_reset(&b);
  fx_store_batch_out_delivered(&b, ids[1], 200);
  cr_assert_eq(fx_store_commit(st, &b), 0);
  fx_store_batch_free(&b);
  fx_store_close(st);

  raw_edit(dir, make_v0);
  st = open_at(dir, 0, 0, &log);
  cr_assert(strstr(log.text, "migrated store layout v0 -> v1") != NULL, "log: %s", log.text);
  struct fx_store_read rd;
  struct fx_store_iter it;
  struct fx_store_out_view v;
  uint64_t got[3];
  int n = 0;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_due_iter(&rd, 1000, &it), 0);
  while (n < 3 && fx_store_due_next(&it, &v) == 1) got[n++] = fx_store_out_id(&v);
  fx_store_iter_close(&it);
  fx_store_read_free(&rd);
  fx_store_close(st);
  cr_assert_eq(n, 2, "the pending rows are due again, the delivered one is not");
  cr_assert_eq(got[0], ids[2]);
  cr_assert_eq(got[1], ids[0]);
  cr_assert_eq(read_layout(dir), FX_STORE_LAYOUT_VERSION);
}

Test(store_faults, data_without_layout_record_is_refused) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 0, 0, &log);
  cr_assert_eq(put_msgs(st, 1, 0, 1, 10), 0);
  fx_store_close(st);
  raw_edit(dir, drop_layout);
  struct fx_store_opts o = {.path = dir, .log = capture, .log_ud = &log};
  cr_assert_eq(fx_store_open(&st, &o), FX_STORE_ECORRUPT);
  cr_assert(strstr(log.text, "no layout record") != NULL, "log: %s", log.text);
}

Test(store_faults, a_record_pointing_outside_itself_is_reported_corrupt) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 0, 0, &log);
  cr_assert_eq(put_msgs(st, 8, 0, 1, 10), 0);
  fx_store_close(st);
  raw_edit(dir, break_message);
  st = open_at(dir, 0, 0, &log);
  struct fx_store_read rd;
  struct fx_store_msg_view v;
  struct fx_store_iter it;
  uint8_t id[16];
  mkid(id, 8, 0);
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_msg_get(&rd, "agr.example.com", id, &v), FX_STORE_ECORRUPT);
  cr_assert_eq(fx_store_journal_iter(&rd, 1, &it), 0);
  cr_assert_eq(fx_store_journal_next(&it, &v), FX_STORE_ECORRUPT);
  fx_store_iter_close(&it);
  fx_store_read_free(&rd);
  fx_store_close(st);
}

/* ---- map growth and map full ---------------------------------------------------------- */

Test(store_faults, map_grows_from_a_small_start) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 1 << 20, 64 << 20, &log);
  for (int i = 0; i < 40; i++) cr_assert_eq(put_msgs(st, 2, (uint64_t)i * 50, 50, 2000), 0);
  cr_assert_gt(fx_store_map_size(st), (size_t)1 << 20);
  cr_assert(strstr(log.text, "map grown") != NULL);
  cr_assert_eq(journal_len(st), 2000);
  cr_assert(has_msg(st, 2, 0) && has_msg(st, 2, 1999));
  fx_store_close(st);
}

Test(store_faults, map_full_is_an_error_and_the_store_stays_usable) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 1 << 20, 2 << 20, &log);
  int batches = 0, rc = 0;
  while (batches < 1000 && !(rc = put_msgs(st, 3, (uint64_t)batches * 20, 20, 2000))) batches++;
  cr_assert_eq(rc, FX_STORE_EFULL, "got %s after %d batches", fx_store_strerror(rc), batches);
  cr_assert_gt(batches, 0);
  cr_assert_eq(fx_store_map_size(st), (size_t)2 << 20, "grew to the maximum, no further");
  /* Nothing of the failed batch, everything of the others. */
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20);
  cr_assert_not(has_msg(st, 3, (uint64_t)batches * 20));
  cr_assert(has_msg(st, 3, 0) && has_msg(st, 3, (uint64_t)batches * 20 - 1));
  /* A smaller batch still fits. */
  cr_assert_eq(put_msgs(st, 4, 0, 1, 10), 0);
  cr_assert(has_msg(st, 4, 0));
  fx_store_close(st);
  st = open_at(dir, 1 << 20, 2 << 20, &log);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20 + 1);
  fx_store_close(st);
}

/* ---- disk full ------------------------------------------------------------------------ */

Test(store_faults, disk_full_is_an_error_and_the_store_stays_usable) {
  struct fx_small_fs fs;
  fx_small_fs_mount(&fs, "fxtmpfs");
  const char *sdir = fs.store;

  struct logbuf log = {0};
  struct fx_store *st = open_at(sdir, 64 << 20, 64 << 20, &log);
  int batches = 0, rc = 0;
  while (batches < 1000 && !(rc = put_msgs(st, 5, (uint64_t)batches * 20, 20, 2000))) batches++;
  cr_assert_eq(rc, FX_STORE_ENOSPC, "got %s after %d batches", fx_store_strerror(rc), batches);
  cr_assert_gt(batches, 0);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20);
  cr_assert_not(has_msg(st, 5, (uint64_t)batches * 20));
  cr_assert(has_msg(st, 5, (uint64_t)batches * 20 - 1));
  /* Free some space: the store takes new batches again. */
  unlink(fs.ballast);
  cr_assert_eq(put_msgs(st, 6, 0, 20, 2000), 0);
  cr_assert(has_msg(st, 6, 19));
  fx_store_close(st);
  st = open_at(sdir, 64 << 20, 64 << 20, &log);
  cr_assert_eq(journal_len(st), (uint64_t)batches * 20 + 20);
  fx_store_close(st);
  rm_store(sdir);
  fx_small_fs_unmount(&fs);
}

/* ---- growth under concurrent readers ------------------------------------------------- */

struct reader_arg { struct fx_store *st; int reads, bad; };

static void *reader(void *p) {
  struct reader_arg *a = p;
  struct fx_store_read rd;
  struct fx_store_msg_view v;
  uint8_t id[16];
  mkid(id, 7, 0);
  fx_store_read_init(&rd, a->st);
  for (int i = 0; i < 20000; i++) {
    if (fx_store_read_begin(&rd)) { a->bad++; break; }
    size_t n;
    const uint8_t *raw;
    if (fx_store_msg_get(&rd, "agr.example.com", id, &v) == 0) {
      raw = fx_store_msg_raw(&v, &n);
      if (n != 2000 || raw[0] != 'x' || raw[n - 1] != 'x') a->bad++;
      a->reads++;
    }
    fx_store_read_end(&rd);
  }
  fx_store_read_free(&rd);
  return NULL;
}

Test(store_faults, readers_in_other_threads_survive_map_growth) {
  struct logbuf log = {0};
  struct fx_store *st = open_at(dir, 1 << 20, 256 << 20, &log);
  cr_assert_eq(put_msgs(st, 7, 0, 1, 2000), 0);
  pthread_t t[2];
  struct reader_arg args[2] = {{st, 0, 0}, {st, 0, 0}};
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, reader, &args[i]), 0);
  for (int i = 1; i < 60; i++) cr_assert_eq(put_msgs(st, 7, (uint64_t)i * 100, 100, 2000), 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cr_assert_gt(fx_store_map_size(st), (size_t)8 << 20, "the map grew during the reads");
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(args[i].bad, 0);
    cr_assert_gt(args[i].reads, 0);
  }
  fx_store_close(st);
}
