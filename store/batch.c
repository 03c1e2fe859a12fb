/* batch.c — building a batch of mutations for one group commit.
 *
 * A batch is only a list of ops that point at the caller's bytes: building it
 * takes no lock and touches no LMDB state, so the engine can assemble the
 * effects of many messages while the previous batch commits. Validation of
 * keys happens at commit time, where it can fail the batch as a whole. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void fx_store_batch_init(struct fx_store_batch *b) {
  b->ops = NULL;
  b->n = b->cap = 0;
}

void fx_store_batch_reset(struct fx_store_batch *b) {
  b->n = 0;
}

void fx_store_batch_free(struct fx_store_batch *b) {
  free(b->ops);
  fx_store_batch_init(b);
}

static struct fx_store_op *push(struct fx_store_batch *b, enum op_kind kind) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    struct fx_store_op *ops = realloc(b->ops, cap * sizeof *ops);
    if (!ops) return NULL;
    b->ops = ops;
    b->cap = cap;
  }
  struct fx_store_op *op = &b->ops[b->n++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  return op;
}

int fx_store_batch_put_msg(struct fx_store_batch *b, const struct fx_store_msg *m,
                           struct fx_store_msg_result *res) {
  if (!m->domain || !m->msgid || !m->digest || (!m->raw && m->raw_len))
    return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_MSG_PUT);
  if (!op) return FX_STORE_ENOMEM;
  op->u.msg.m = *m;
  op->u.msg.res = res;
  return 0;
}

int fx_store_batch_put_obj(struct fx_store_batch *b, const struct fx_store_obj *o) {
  if (!o->key.cp || (!o->body && o->body_len)) return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_OBJ_PUT);
  if (!op) return FX_STORE_ENOMEM;
  op->u.obj = *o;
  return 0;
}

int fx_store_batch_set_state(struct fx_store_batch *b, const struct fx_store_obj_key *k,
                             uint8_t to, int64_t t_us) {
  if (!k->cp) return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_OBJ_STATE);
  if (!op) return FX_STORE_ENOMEM;
  op->u.state.k = *k;
  op->u.state.to = to;
  op->u.state.t_us = t_us;
  return 0;
}

int fx_store_batch_put_ref(struct fx_store_batch *b, const struct fx_store_ref *r) {
  if (!r->k1 || (!r->body && r->body_len)) return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_REF_PUT);
  if (!op) return FX_STORE_ENOMEM;
  op->u.ref = *r;
  return 0;
}

int fx_store_batch_del_ref(struct fx_store_batch *b, uint8_t kind, const char *k1,
                           const char *k2) {
  if (!k1) return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_REF_DEL);
  if (!op) return FX_STORE_ENOMEM;
  op->u.ref.kind = kind;
  op->u.ref.k1 = k1;
  op->u.ref.k2 = k2;
  return 0;
}

int fx_store_batch_out_add(struct fx_store_batch *b, const struct fx_store_out *o,
                           uint64_t *id) {
  if (!o->domain || !*o->domain || (!o->body && o->body_len)) return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_OUT_ADD);
  if (!op) return FX_STORE_ENOMEM;
  op->u.out.o = *o;
  op->u.out.id = id;
  return 0;
}

static int mark(struct fx_store_batch *b, enum op_kind kind, uint64_t id, int64_t t_us) {
  struct fx_store_op *op = push(b, kind);
  if (!op) return FX_STORE_ENOMEM;
  op->u.mark.id = id;
  op->u.mark.t_us = t_us;
  return 0;
}

int fx_store_batch_out_delivered(struct fx_store_batch *b, uint64_t id, int64_t t_us) {
  return mark(b, OP_OUT_DELIVERED, id, t_us);
}

int fx_store_batch_out_expired(struct fx_store_batch *b, uint64_t id, int64_t t_us) {
  return mark(b, OP_OUT_EXPIRED, id, t_us);
}

int fx_store_batch_out_retry(struct fx_store_batch *b, uint64_t id, int64_t next_us) {
  return mark(b, OP_OUT_RETRY, id, next_us);
}

int fx_store_batch_counter_raise(struct fx_store_batch *b, const char *name, uint64_t v) {
  if (!name || !*name || strlen(name) > 64 || !strncmp(name, "store.", 6))
    return FX_STORE_EINVAL;
  struct fx_store_op *op = push(b, OP_CTR_RAISE);
  if (!op) return FX_STORE_ENOMEM;
  op->u.ctr.name = name;
  op->u.ctr.v = v;
  return 0;
}
