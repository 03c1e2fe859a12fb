/* read.c — read transactions, getters and cursor iterators.
 *
 * Everything here hands out views into LMDB's memory map; nothing is copied
 * or decoded. A view is checked once (record header, parts inside the value,
 * key shape) before it is handed out, so the accessors in record.h can read
 * fields without further checks. A read handle keeps its LMDB transaction
 * across uses (reset/renew), so a busy reader allocates nothing. */
#include <string.h>

#include "store/store_int.h"

enum { IT_JOURNAL = 1, IT_OBJ, IT_REF, IT_DUE };

/* ---- read transactions ------------------------------------------------------ */

_Static_assert(DB_COUNT <= sizeof ((struct fx_store_read *)0)->cur / sizeof(void *),
               "one cached cursor per table");

void fx_store_read_init(struct fx_store_read *rd, struct fx_store *st) {
  memset(rd, 0, sizeof *rd);
  rd->st = st;
}

static int txn_start(struct fx_store_read *rd) {
  int rc = rd->txn ? mdb_txn_renew(rd->txn)
                   : mdb_txn_begin(rd->st->env, NULL, MDB_RDONLY, &rd->txn);
  for (int i = 0; i < DB_COUNT && !rc; i++)
    if (rd->cur[i]) rc = mdb_cursor_renew(rd->txn, rd->cur[i]);
  return rc;
}

int fx_store_read_begin(struct fx_store_read *rd) {
  if (rd->live) return FX_STORE_EINVAL;
  pthread_rwlock_rdlock(&rd->st->remap);
  int rc = txn_start(rd);
  if (rc == MDB_MAP_RESIZED) { /* another process grew the map: adopt it */
    if (rd->txn) mdb_txn_abort(rd->txn);
    rd->txn = NULL;
    pthread_rwlock_unlock(&rd->st->remap);
    rc = fx_store_adopt_size(rd->st);
    if (rc) return rc;
    pthread_rwlock_rdlock(&rd->st->remap);
    rc = txn_start(rd);
  }
  if (rc) {
    if (rd->txn) mdb_txn_reset(rd->txn);
    pthread_rwlock_unlock(&rd->st->remap);
    return fx_store_err(rc);
  }
  rd->live = 1;
  return 0;
}

void fx_store_read_end(struct fx_store_read *rd) {
  if (!rd->live) return;
  mdb_txn_reset(rd->txn);
  rd->live = 0;
  pthread_rwlock_unlock(&rd->st->remap);
}

void fx_store_read_free(struct fx_store_read *rd) {
  fx_store_read_end(rd);
  for (int i = 0; i < DB_COUNT; i++)
    if (rd->cur[i]) mdb_cursor_close(rd->cur[i]);
  if (rd->txn) mdb_txn_abort(rd->txn);
  memset(rd->cur, 0, sizeof rd->cur);
  rd->txn = NULL;
}

/* ---- view checks --------------------------------------------------------------- */

static int msg_view(const MDB_val *k, const MDB_val *d, struct fx_store_msg_view *v) {
  const uint8_t *key = k->mv_data;
  if (k->mv_size < 18 || key[k->mv_size - 17] != 0 || !fx_rec_check(d, 'M'))
    return FX_STORE_ECORRUPT;
  *v = (struct fx_store_msg_view){key, d->mv_data, k->mv_size, d->mv_size};
  return 0;
}

static int obj_view(const MDB_val *k, const MDB_val *d, struct fx_store_obj_view *v) {
  const uint8_t *key = k->mv_data;
  if (k->mv_size < 22 || key[k->mv_size - 22] != 0 || !fx_rec_check(d, 'O'))
    return FX_STORE_ECORRUPT;
  *v = (struct fx_store_obj_view){key, d->mv_data, k->mv_size, d->mv_size};
  return 0;
}

static int ref_view(const MDB_val *k, const MDB_val *d, struct fx_store_ref_view *v) {
  const uint8_t *key = k->mv_data;
  size_t n = k->mv_size;
  const uint8_t *nul = n >= 3 ? memchr(key + 1, 0, n - 1) : NULL;
  if (!nul || nul >= key + n - 1 || key[n - 1] != 0 || !fx_rec_check(d, 'R'))
    return FX_STORE_ECORRUPT;
  *v = (struct fx_store_ref_view){key, d->mv_data, n, d->mv_size};
  return 0;
}

static int out_view(const MDB_val *k, const MDB_val *d, struct fx_store_out_view *v) {
  if (k->mv_size != 8 || !fx_rec_check(d, 'X')) return FX_STORE_ECORRUPT;
  *v = (struct fx_store_out_view){k->mv_data, d->mv_data, k->mv_size, d->mv_size};
  return 0;
}

/* ---- getters --------------------------------------------------------------------- */

/* Exact lookup through the handle's cursor for db, so that k comes back
 * pointing at the key inside the map (views keep it). */
static int get(struct fx_store_read *rd, int db, MDB_val *k, MDB_val *d) {
  if (!rd->live) return FX_STORE_EINVAL;
  if (!rd->cur[db]) {
    int rc = mdb_cursor_open(rd->txn, rd->st->dbi[db], &rd->cur[db]);
    if (rc) return fx_store_err(rc);
  }
  return fx_store_err(mdb_cursor_get(rd->cur[db], k, d, MDB_SET_KEY));
}

int fx_store_msg_get(struct fx_store_read *rd, const char *domain, const uint8_t msgid[16],
                     struct fx_store_msg_view *v) {
  uint8_t key[FX_STORE_KEY_MAX];
  MDB_val k = {fx_key_msg(key, domain, msgid), key}, d;
  if (!k.mv_size) return FX_STORE_EINVAL;
  int rc = get(rd, DB_MSG, &k, &d);
  return rc ? rc : msg_view(&k, &d, v);
}

int fx_store_obj_get(struct fx_store_read *rd, const struct fx_store_obj_key *ok,
                     struct fx_store_obj_view *v) {
  uint8_t key[FX_STORE_KEY_MAX];
  MDB_val k = {fx_key_obj(key, ok), key}, d;
  if (!k.mv_size) return FX_STORE_EINVAL;
  int rc = get(rd, DB_OBJ, &k, &d);
  return rc ? rc : obj_view(&k, &d, v);
}

int fx_store_ref_get(struct fx_store_read *rd, uint8_t kind, const char *k1, const char *k2,
                     struct fx_store_ref_view *v) {
  uint8_t key[FX_STORE_KEY_MAX];
  MDB_val k = {fx_key_ref(key, kind, k1, k2), key}, d;
  if (!k.mv_size) return FX_STORE_EINVAL;
  int rc = get(rd, DB_REF, &k, &d);
  return rc ? rc : ref_view(&k, &d, v);
}

int fx_store_out_get(struct fx_store_read *rd, uint64_t id, struct fx_store_out_view *v) {
  uint8_t key[8];
  fx_st64be(key, id);
  MDB_val k = {8, key}, d;
  int rc = get(rd, DB_OUT, &k, &d);
  return rc ? rc : out_view(&k, &d, v);
}

int fx_store_counter_get(struct fx_store_read *rd, const char *name, uint64_t *v) {
  if (!rd->live || !name || !*name) return FX_STORE_EINVAL;
  return fx_ctr_load(rd->txn, rd->st, name, v);
}

int fx_store_sizes(struct fx_store_read *rd, struct fx_store_sizes *out) {
  if (!rd->live || !out) return FX_STORE_EINVAL;
  MDB_stat ms;
  int rc;
  if ((rc = mdb_stat(rd->txn, rd->st->dbi[DB_MSG], &ms))) return fx_store_err(rc);
  out->messages = ms.ms_entries;
  if ((rc = mdb_stat(rd->txn, rd->st->dbi[DB_OBJ], &ms))) return fx_store_err(rc);
  out->objects = ms.ms_entries;
  if ((rc = mdb_stat(rd->txn, rd->st->dbi[DB_OUT], &ms))) return fx_store_err(rc);
  out->outbox = ms.ms_entries;
  if ((rc = mdb_stat(rd->txn, rd->st->dbi[DB_DUE], &ms))) return fx_store_err(rc);
  out->outbox_pending = ms.ms_entries;
  return 0;
}

/* ---- iterators ----------------------------------------------------------------------- */

static int iter_open(struct fx_store_read *rd, struct fx_store_iter *it, int what, int db,
                     size_t plen) {
  it->rd = rd;
  it->cur = NULL;
  it->what = what;
  it->started = 0;
  it->plen = plen;
  if (!rd->live) return FX_STORE_EINVAL;
  return fx_store_err(mdb_cursor_open(rd->txn, rd->st->dbi[db], &it->cur));
}

/* Positions on the next entry: 1 found, 0 at the end (of the table, or of
 * the prefix for object and reference scans), or an error. */
static int iter_step(struct fx_store_iter *it, MDB_val *k, MDB_val *d) {
  int rc;
  if (!it->cur) return FX_STORE_EINVAL;
  if (it->started) {
    rc = mdb_cursor_get(it->cur, k, d, MDB_NEXT);
  } else {
    it->started = 1;
    *k = (MDB_val){it->plen, it->prefix};
    rc = mdb_cursor_get(it->cur, k, d, it->plen ? MDB_SET_RANGE : MDB_FIRST);
  }
  if (rc == MDB_NOTFOUND) return 0;
  if (rc) return fx_store_err(rc);
  int filter = it->what == IT_OBJ || it->what == IT_REF;
  if (filter && (k->mv_size < it->plen || memcmp(k->mv_data, it->prefix, it->plen))) return 0;
  return 1;
}

int fx_store_journal_iter(struct fx_store_read *rd, uint64_t from, struct fx_store_iter *it) {
  fx_st64be(it->prefix, from);
  return iter_open(rd, it, IT_JOURNAL, DB_JOURNAL, 8);
}

int fx_store_journal_next(struct fx_store_iter *it, struct fx_store_msg_view *v) {
  MDB_val k, d, mk;
  int rc = iter_step(it, &k, &mk);
  if (rc <= 0) return rc;
  rc = get(it->rd, DB_MSG, &mk, &d);
  if (rc) return rc == FX_STORE_ENOTFOUND ? FX_STORE_ECORRUPT : rc;
  rc = msg_view(&mk, &d, v);
  return rc ? rc : 1;
}

int fx_store_obj_iter(struct fx_store_read *rd, const char *cp, int32_t period, uint8_t kind,
                      struct fx_store_iter *it) {
  size_t plen = 0;
  if (cp && !(plen = fx_key_obj_market(it->prefix, cp, period, kind))) {
    it->cur = NULL;
    return FX_STORE_EINVAL;
  }
  return iter_open(rd, it, IT_OBJ, DB_OBJ, plen);
}

int fx_store_obj_next(struct fx_store_iter *it, struct fx_store_obj_view *v) {
  MDB_val k, d;
  int rc = iter_step(it, &k, &d);
  if (rc <= 0) return rc;
  rc = obj_view(&k, &d, v);
  return rc ? rc : 1;
}

int fx_store_ref_iter(struct fx_store_read *rd, uint8_t kind, const char *k1,
                      struct fx_store_iter *it) {
  size_t plen = 1;
  it->prefix[0] = kind;
  if (k1) {
    size_t n = strlen(k1);
    if (n > 254) {
      it->cur = NULL;
      return FX_STORE_EINVAL;
    }
    memcpy(it->prefix + 1, k1, n + 1);
    plen += n + 1;
  }
  return iter_open(rd, it, IT_REF, DB_REF, plen);
}

int fx_store_ref_next(struct fx_store_iter *it, struct fx_store_ref_view *v) {
  MDB_val k, d;
  int rc = iter_step(it, &k, &d);
  if (rc <= 0) return rc;
  rc = ref_view(&k, &d, v);
  return rc ? rc : 1;
}

int fx_store_due_iter(struct fx_store_read *rd, int64_t now_us, struct fx_store_iter *it) {
  it->until_us = now_us;
  return iter_open(rd, it, IT_DUE, DB_DUE, 0);
}

int fx_store_due_next(struct fx_store_iter *it, struct fx_store_out_view *v) {
  MDB_val k, d, ok;
  int rc = iter_step(it, &k, &d);
  if (rc <= 0) return rc;
  if (k.mv_size != 16) return FX_STORE_ECORRUPT;
  const uint8_t *key = k.mv_data;
  if ((int64_t)(fx_ld64be(key) ^ 0x8000000000000000u) > it->until_us) return 0;
  ok = (MDB_val){8, (void *)(key + 8)};
  rc = get(it->rd, DB_OUT, &ok, &d);
  if (rc) return rc == FX_STORE_ENOTFOUND ? FX_STORE_ECORRUPT : rc;
  rc = out_view(&ok, &d, v);
  return rc ? rc : 1;
}

void fx_store_iter_close(struct fx_store_iter *it) {
  if (it->cur) mdb_cursor_close(it->cur);
  it->cur = NULL;
}
