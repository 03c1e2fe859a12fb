/* commit.c — group commit: applying a batch in one LMDB write transaction.
 *
 * The write transaction is held only while the ops are applied: records are
 * written straight into the space LMDB reserves for them (MDB_RESERVE), the
 * journal and outbox keys grow monotonically so they are appended
 * (MDB_APPEND), and duplicate detection is the insert itself (MDB_NOOVERWRITE
 * hands back the record already there). Any failing op aborts the whole
 * transaction, so a batch lands entirely or not at all. When the map is full
 * it is grown and the batch applied again from scratch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

struct apply {
  struct fx_store *st;
  MDB_txn *txn;
  uint64_t seq, out_id; /* last used; saved once at the end */
};

/* ---- state machines --------------------------------------------------------- */

#define B(s) (1u << (s))
static const uint8_t initial_state[FX_OBJ_KIND_MAX + 1] = {
    [FX_OBJ_REQUEST] = FX_REQ_OPEN,       [FX_OBJ_OFFER] = FX_OFFER_OPEN,
    [FX_OBJ_ORDER] = FX_ORDER_PLACED,     [FX_OBJ_PROGNOSIS] = FX_STATE_NONE,
    [FX_OBJ_METERING] = FX_STATE_NONE,    [FX_OBJ_SETTLEMENT] = FX_SETTLE_SENT,
};
/* allowed[kind][from]: the set of states `from` may move to. */
static const uint16_t allowed[FX_OBJ_KIND_MAX + 1][FX_STATE_MAX + 1] = {
    [FX_OBJ_REQUEST] = {[FX_REQ_OPEN] = B(FX_REQ_CLEARED) | B(FX_REQ_SUPERSEDED) | B(FX_REQ_EXPIRED),
                        [FX_REQ_CLEARED] = B(FX_REQ_SUPERSEDED)},
    [FX_OBJ_OFFER] = {[FX_OFFER_OPEN] = B(FX_OFFER_ORDERED) | B(FX_OFFER_REVOKED) |
                                        B(FX_OFFER_EXPIRED)},
    [FX_OBJ_ORDER] = {[FX_ORDER_PLACED] = B(FX_ORDER_ACCEPTED) | B(FX_ORDER_REJECTED) | B(FX_ORDER_EXPIRED)},
    [FX_OBJ_SETTLEMENT] = {[FX_SETTLE_SENT] = B(FX_SETTLE_ACCEPTED) | B(FX_SETTLE_REJECTED)},
};

int fx_store_obj_transition_ok(uint8_t kind, uint8_t from, uint8_t to) {
  if (!kind || kind > FX_OBJ_KIND_MAX || from > FX_STATE_MAX || to > FX_STATE_MAX) return 0;
  return (allowed[kind][from] >> to) & 1u;
}

/* ---- helpers ---------------------------------------------------------------- */

/* Writes a variable part at *at and its (offset, length) pair at `pair`;
 * string parts get a trailing NUL that the length does not count. */
static void put_part(uint8_t *rec, size_t pair, size_t *at, const void *p, size_t n, int str) {
  fx_st32(rec + pair, (uint32_t)*at);
  fx_st32(rec + pair + 4, (uint32_t)n);
  if (n) memcpy(rec + *at, p, n);
  *at += n;
  if (str) rec[(*at)++] = 0;
}

static int too_big(size_t hdr, size_t a, size_t b) {
  return a > UINT32_MAX / 2 || b > UINT32_MAX / 2 || hdr + a + b + 2 > UINT32_MAX;
}

/* Copies the record at v into the writer's scratch buffer, for rewriting. */
static uint8_t *scratch_copy(struct fx_store *st, const MDB_val *v) {
  if (st->scratch_cap < v->mv_size) {
    uint8_t *p = realloc(st->scratch, v->mv_size);
    if (!p) return NULL;
    st->scratch = p;
    st->scratch_cap = v->mv_size;
  }
  memcpy(st->scratch, v->mv_data, v->mv_size);
  return st->scratch;
}

/* ---- messages --------------------------------------------------------------- */

static void fill_msg(uint8_t *rec, const struct fx_store_msg *m, uint64_t seq) {
  size_t at = FX_REC_MSG_HDR;
  fx_rec_head(rec, 'M');
  fx_st16(rec + 4, m->type);
  fx_st16(rec + 6, 0);
  fx_st64(rec + 8, seq);
  fx_st64(rec + 16, (uint64_t)m->recv_us);
  memcpy(rec + 24, m->digest, 32);
  put_part(rec, 56, &at, m->raw, m->raw_len, 0);
}

static int found_msg(const MDB_val *d, const struct fx_store_msg *m,
                     struct fx_store_msg_result *res) {
  if (!fx_rec_check(d, 'M')) return FX_STORE_ECORRUPT;
  const uint8_t *rec = d->mv_data;
  if (res) {
    res->status = memcmp(rec + 24, m->digest, 32) ? FX_STORE_MSG_CONFLICT : FX_STORE_MSG_SAME;
    res->seq = fx_ld64(rec + 8);
    memcpy(res->digest, rec + 24, 32);
  }
  return 0;
}

static int apply_msg(struct apply *a, const struct fx_store_op *op) {
  const struct fx_store_msg *m = &op->u.msg.m;
  uint8_t key[FX_STORE_KEY_MAX], jk[8];
  size_t kl = fx_key_msg(key, m->domain, m->msgid);
  if (!kl || too_big(FX_REC_MSG_HDR, m->raw_len, 0)) return FX_STORE_EINVAL;
  MDB_val k = {kl, key}, d = {FX_REC_MSG_HDR + m->raw_len, NULL};
  int rc = mdb_put(a->txn, a->st->dbi[DB_MSG], &k, &d, MDB_NOOVERWRITE | MDB_RESERVE);
  if (rc == MDB_KEYEXIST) return found_msg(&d, m, op->u.msg.res);
  if (rc) return fx_store_err(rc);
  fill_msg(d.mv_data, m, ++a->seq);
  fx_st64be(jk, a->seq);
  MDB_val j = {8, jk};
  rc = mdb_put(a->txn, a->st->dbi[DB_JOURNAL], &j, &k, MDB_APPEND);
  if (rc) return rc == MDB_KEYEXIST ? FX_STORE_ECORRUPT : fx_store_err(rc);
  if (op->u.msg.res) {
    op->u.msg.res->status = FX_STORE_MSG_NEW;
    op->u.msg.res->seq = a->seq;
    memcpy(op->u.msg.res->digest, m->digest, 32);
  }
  return 0;
}

/* ---- market objects ----------------------------------------------------------- */

static void fill_obj(uint8_t *rec, const struct fx_store_obj *o, size_t owner_len) {
  size_t at = FX_REC_OBJ_HDR;
  fx_rec_head(rec, 'O');
  rec[4] = o->key.kind;
  rec[5] = o->state;
  fx_st16(rec + 6, 0);
  fx_st32(rec + 8, o->revision);
  fx_st32(rec + 12, 0);
  fx_st64(rec + 16, (uint64_t)o->t_us);
  fx_st64(rec + 24, (uint64_t)o->t_us);
  if (o->ref) memcpy(rec + 32, o->ref, 16);
  else memset(rec + 32, 0, 16);
  put_part(rec, 48, &at, o->owner, owner_len, 1);
  put_part(rec, 56, &at, o->body, o->body_len, 0);
}

static int apply_obj(struct apply *a, const struct fx_store_obj *o) {
  uint8_t key[FX_STORE_KEY_MAX];
  size_t kl = fx_key_obj(key, &o->key);
  size_t owner_len = o->owner ? strlen(o->owner) : 0;
  if (!kl || too_big(FX_REC_OBJ_HDR, owner_len, o->body_len)) return FX_STORE_EINVAL;
  if (o->state != initial_state[o->key.kind]) return FX_STORE_ESTATE;
  MDB_val k = {kl, key}, d = {FX_REC_OBJ_HDR + owner_len + 1 + o->body_len, NULL};
  int rc = mdb_put(a->txn, a->st->dbi[DB_OBJ], &k, &d, MDB_NOOVERWRITE | MDB_RESERVE);
  if (rc == MDB_KEYEXIST) return FX_STORE_EEXIST;
  if (rc) return fx_store_err(rc);
  fill_obj(d.mv_data, o, owner_len);
  return 0;
}

static int apply_state(struct apply *a, const struct fx_store_op *op) {
  uint8_t key[FX_STORE_KEY_MAX];
  size_t kl = fx_key_obj(key, &op->u.state.k);
  if (!kl) return FX_STORE_EINVAL;
  MDB_val k = {kl, key}, d;
  int rc = mdb_get(a->txn, a->st->dbi[DB_OBJ], &k, &d);
  if (rc) return fx_store_err(rc);
  if (!fx_rec_check(&d, 'O')) return FX_STORE_ECORRUPT;
  const uint8_t *old = d.mv_data;
  if (!fx_store_obj_transition_ok(old[4], old[5], op->u.state.to)) return FX_STORE_ESTATE;
  uint8_t *rec = scratch_copy(a->st, &d);
  if (!rec) return FX_STORE_ENOMEM;
  rec[5] = op->u.state.to;
  fx_st64(rec + 24, (uint64_t)op->u.state.t_us);
  d.mv_data = rec;
  return fx_store_err(mdb_put(a->txn, a->st->dbi[DB_OBJ], &k, &d, 0));
}

/* ---- reference ----------------------------------------------------------------- */

static void fill_ref(uint8_t *rec, const struct fx_store_ref *r, size_t owner_len) {
  size_t at = FX_REC_REF_HDR;
  fx_rec_head(rec, 'R');
  rec[4] = r->kind;
  rec[5] = r->role;
  fx_st16(rec + 6, 0);
  fx_st32(rec + 8, (uint32_t)r->from);
  fx_st32(rec + 12, (uint32_t)r->to);
  fx_st64(rec + 16, (uint64_t)r->t_us);
  put_part(rec, 24, &at, r->owner, owner_len, 1);
  put_part(rec, 32, &at, r->body, r->body_len, 0);
}

static int apply_ref(struct apply *a, const struct fx_store_ref *r) {
  uint8_t key[FX_STORE_KEY_MAX];
  size_t kl = fx_key_ref(key, r->kind, r->k1, r->k2);
  size_t owner_len = r->owner ? strlen(r->owner) : 0;
  if (!kl || too_big(FX_REC_REF_HDR, owner_len, r->body_len)) return FX_STORE_EINVAL;
  MDB_val k = {kl, key}, d = {FX_REC_REF_HDR + owner_len + 1 + r->body_len, NULL};
  int rc = mdb_put(a->txn, a->st->dbi[DB_REF], &k, &d, MDB_RESERVE);
  if (rc) return fx_store_err(rc);
  fill_ref(d.mv_data, r, owner_len);
  return 0;
}

static int apply_ref_del(struct apply *a, const struct fx_store_ref *r) {
  uint8_t key[FX_STORE_KEY_MAX];
  size_t kl = fx_key_ref(key, r->kind, r->k1, r->k2);
  if (!kl) return FX_STORE_EINVAL;
  MDB_val k = {kl, key};
  int rc = mdb_del(a->txn, a->st->dbi[DB_REF], &k, NULL);
  return rc == MDB_NOTFOUND ? 0 : fx_store_err(rc);
}

/* ---- outbox ---------------------------------------------------------------------- */

static int due_put(struct apply *a, int64_t next_us, uint64_t id) {
  uint8_t dk[16];
  fx_key_due(dk, next_us, id);
  MDB_val k = {16, dk}, d = {0, NULL};
  return fx_store_err(mdb_put(a->txn, a->st->dbi[DB_DUE], &k, &d, 0));
}

static void fill_out(uint8_t *rec, const struct fx_store_out *o, size_t dom_len) {
  size_t at = FX_REC_OUT_HDR;
  fx_rec_head(rec, 'X');
  rec[4] = FX_OUT_PENDING;
  rec[5] = o->role;
  fx_st16(rec + 6, o->type);
  fx_st32(rec + 8, 0);
  fx_st32(rec + 12, 0);
  fx_st64(rec + 16, (uint64_t)o->created_us);
  fx_st64(rec + 24, (uint64_t)o->next_us);
  fx_st64(rec + 32, 0);
  put_part(rec, 40, &at, o->domain, dom_len, 1);
  put_part(rec, 48, &at, o->body, o->body_len, 0);
}

static int apply_out_add(struct apply *a, const struct fx_store_op *op) {
  const struct fx_store_out *o = &op->u.out.o;
  size_t dom_len = strlen(o->domain);
  if (dom_len > 253 || too_big(FX_REC_OUT_HDR, dom_len, o->body_len)) return FX_STORE_EINVAL;
  uint8_t ok[8];
  fx_st64be(ok, ++a->out_id);
  MDB_val k = {8, ok}, d = {FX_REC_OUT_HDR + dom_len + 1 + o->body_len, NULL};
  int rc = mdb_put(a->txn, a->st->dbi[DB_OUT], &k, &d, MDB_APPEND | MDB_RESERVE);
  if (rc) return rc == MDB_KEYEXIST ? FX_STORE_ECORRUPT : fx_store_err(rc);
  fill_out(d.mv_data, o, dom_len);
  if (op->u.out.id) *op->u.out.id = a->out_id;
  return due_put(a, o->next_us, a->out_id);
}

/* Leaves the due index and rewrites the row: delivered, expired or retried. */
static int apply_out_mark(struct apply *a, const struct fx_store_op *op) {
  uint8_t ok[8], dk[16];
  fx_st64be(ok, op->u.mark.id);
  MDB_val k = {8, ok}, d;
  int rc = mdb_get(a->txn, a->st->dbi[DB_OUT], &k, &d);
  if (rc) return fx_store_err(rc);
  if (!fx_rec_check(&d, 'X')) return FX_STORE_ECORRUPT;
  if (((const uint8_t *)d.mv_data)[4] != FX_OUT_PENDING) return FX_STORE_ESTATE;
  uint8_t *rec = scratch_copy(a->st, &d);
  if (!rec) return FX_STORE_ENOMEM;
  fx_key_due(dk, (int64_t)fx_ld64(rec + 24), op->u.mark.id);
  MDB_val due = {16, dk};
  rc = mdb_del(a->txn, a->st->dbi[DB_DUE], &due, NULL);
  if (rc) return rc == MDB_NOTFOUND ? FX_STORE_ECORRUPT : fx_store_err(rc);
  if (op->kind == OP_OUT_RETRY) {
    fx_st32(rec + 8, fx_ld32(rec + 8) + 1);
    fx_st64(rec + 24, (uint64_t)op->u.mark.t_us);
  } else {
    rec[4] = op->kind == OP_OUT_DELIVERED ? FX_OUT_DELIVERED : FX_OUT_EXPIRED;
    fx_st64(rec + 32, (uint64_t)op->u.mark.t_us);
  }
  d.mv_data = rec;
  rc = mdb_put(a->txn, a->st->dbi[DB_OUT], &k, &d, 0);
  if (rc) return fx_store_err(rc);
  return op->kind == OP_OUT_RETRY ? due_put(a, op->u.mark.t_us, op->u.mark.id) : 0;
}

int fx_due_rebuild(MDB_txn *txn, struct fx_store *st) {
  struct apply a = {st, txn, 0, 0};
  MDB_cursor *cur;
  MDB_val k, d;
  int rc = mdb_drop(txn, st->dbi[DB_DUE], 0);
  if (!rc) rc = mdb_cursor_open(txn, st->dbi[DB_OUT], &cur);
  if (rc) return fx_store_err(rc);
  int err = 0;
  for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); !rc && !err;
       rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
    if (k.mv_size != 8 || !fx_rec_check(&d, 'X')) err = FX_STORE_ECORRUPT;
    else if (((const uint8_t *)d.mv_data)[4] == FX_OUT_PENDING)
      err = due_put(&a, (int64_t)fx_ld64((const uint8_t *)d.mv_data + 24), fx_ld64be(k.mv_data));
  }
  mdb_cursor_close(cur);
  if (err) return err;
  return rc == MDB_NOTFOUND ? 0 : fx_store_err(rc);
}

/* ---- counters and the batch as a whole ------------------------------------------ */

static int apply_ctr(struct apply *a, const struct fx_store_op *op) {
  uint64_t v;
  int rc = fx_ctr_load(a->txn, a->st, op->u.ctr.name, &v);
  if (rc || v >= op->u.ctr.v) return rc;
  return fx_store_err(fx_ctr_save(a->txn, a->st, op->u.ctr.name, op->u.ctr.v));
}

static int apply_op(struct apply *a, const struct fx_store_op *op) {
  switch (op->kind) {
  case OP_MSG_PUT: return apply_msg(a, op);
  case OP_OBJ_PUT: return apply_obj(a, &op->u.obj);
  case OP_OBJ_STATE: return apply_state(a, op);
  case OP_REF_PUT: return apply_ref(a, &op->u.ref);
  case OP_REF_DEL: return apply_ref_del(a, &op->u.ref);
  case OP_OUT_ADD: return apply_out_add(a, op);
  case OP_OUT_DELIVERED: case OP_OUT_EXPIRED: case OP_OUT_RETRY: return apply_out_mark(a, op);
  case OP_CTR_RAISE: return apply_ctr(a, op);
  }
  return FX_STORE_EINVAL;
}

static int apply_all(struct fx_store *st, MDB_txn *txn, const struct fx_store_batch *b) {
  struct apply a = {st, txn, 0, 0};
  uint64_t seq0, out0;
  int rc = fx_ctr_load(txn, st, CTR_SEQ, &seq0);
  if (!rc) rc = fx_ctr_load(txn, st, CTR_OUTBOX, &out0);
  if (rc) return rc;
  a.seq = seq0;
  a.out_id = out0;
  for (size_t i = 0; i < b->n && !rc; i++) rc = apply_op(&a, &b->ops[i]);
  if (!rc && a.seq != seq0) rc = fx_store_err(fx_ctr_save(txn, st, CTR_SEQ, a.seq));
  if (!rc && a.out_id != out0) rc = fx_store_err(fx_ctr_save(txn, st, CTR_OUTBOX, a.out_id));
  return rc;
}

/* What the preallocation helper may give back down to (prealloc.c). LMDB
 * writes data.mdb at the commit, and also before it whenever the transaction
 * spills dirty pages it cannot keep in memory (mdb_page_spill: its dirty list
 * has room for 2^17 - 1 page allocations, and a put that may need half of
 * the room left spills first): after some 131,000 allocations, or for one
 * record of 256 MiB. Nothing bounds a batch below that: the sequencer bounds
 * a group's messages, but a market command such as one AGR's settlement adds
 * records without limit. Spilled pages may lie anywhere in the map, past the
 * committed end and past the file's end, and are not written again at the
 * commit (tests/test_store_prealloc_spill.c). So while
 * a transaction is open nothing may be given back (UINT64_MAX), and once it
 * has ended, what LMDB has committed stays (an aborted transaction's spilled
 * pages are garbage). The give-back holds file_mu and pre.mu, so holding
 * either excludes it: pre.mu here, because the helper holds file_mu for
 * whole appends, which a transaction need not wait for. */
static void bound_for_give_back(struct fx_store *st, int txn_open) {
  pthread_mutex_lock(&st->pre.mu);
  st->committed_end = txn_open ? UINT64_MAX : fx_store_used_end(st);
  pthread_mutex_unlock(&st->pre.mu);
}

static int commit_once(struct fx_store *st, const struct fx_store_batch *b) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
  if (rc == MDB_MAP_RESIZED) {
    rc = fx_store_adopt_size(st);
    if (rc) return rc;
    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
  }
  if (rc) return fx_store_err(rc);
  bound_for_give_back(st, 1);
  rc = apply_all(st, txn, b);
  if (rc) {
    mdb_txn_abort(txn);
    bound_for_give_back(st, 0);
    return rc;
  }
  /* Most of the writing is here: file_mu tells the preallocation helper
   * where the file's end is while it appends, and excludes its give-back
   * (prealloc.c). */
  pthread_mutex_lock(&st->file_mu);
  rc = mdb_txn_commit(txn); /* frees txn, also on failure */
  st->committed_end = fx_store_used_end(st);
  pthread_mutex_unlock(&st->file_mu);
  if (rc && rc != MDB_MAP_FULL) fx_store_logf(st, "LMDB commit failed: %s", mdb_strerror(rc));
  return rc == EIO ? fx_store_io_error(st) : fx_store_err(rc);
}

int fx_store_commit(struct fx_store *st, struct fx_store_batch *b) {
  if (!b->n) return 0;
  int rc;
  while ((rc = commit_once(st, b)) == FX_STORE_EFULL) {
    int g = fx_store_grow(st);
    if (g) {
      rc = g;
      break;
    }
  }
  if (rc) fx_store_logf(st, "commit of %zu ops failed: %s", b->n, fx_store_strerror(rc));
  return rc;
}
