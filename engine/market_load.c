/* market_load.c — rebuilding the market's in-memory state from the store,
 * and freeing it.
 *
 * Runs at start and after a failed group commit. Reference records are read
 * in place; market objects are read in dependency order (a broadcast needs its
 * request, an order its offer), their bodies parsed once with the codec. Offers
 * are put back in arrival order (creation time, then MessageID), which is the
 * clearing's tie-break. The operate and settle phases' objects (metering,
 * baselines, reservation updates, settlements) come last, through
 * mk_settle_load, which keeps only their small indices in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"
#include "engine/log.h"

enum { PASS_REQUEST, PASS_BCAST, PASS_BCAST_RESPONSE, PASS_PROGNOSIS, PASS_OFFER, PASS_ORDER, PASS_SETTLE, PASS_SETTLE_RESPONSE, PASS_COUNT };

static int load_refs(struct fx_market *mk) {
  static const uint8_t kinds[] = {FX_REF_CP, FX_REF_CONNECTION, FX_REF_PARTICIPANT};
  for (size_t k = 0; k < sizeof kinds; k++) {
    struct fx_store_iter it;
    struct fx_store_ref_view v;
    int rc = fx_store_ref_iter(&mk->rd, kinds[k], NULL, &it);
    while (rc == 0 && (rc = fx_store_ref_next(&it, &v)) == 1)
      rc = mk_cro_load_ref(mk, &v);
    fx_store_iter_close(&it);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static const struct fx_msg *parse_body(struct fx_market *mk, const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  const struct fx_msg *m = NULL;
  struct fx_error err;
  if (fx_read_msg(mk->reader, (const char *)b, len, &m, &err) != 0) {
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "store_unreadable", NULL, 0,
                "market: stored object unreadable: %s: %s",
                err.where, err.why);
    return NULL;
  }
  return m;
}

static int pass_of(const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  switch (fx_store_obj_kind(v)) {
  case FX_OBJ_REQUEST:
    if (len && b[0] == 'B')
      return PASS_BCAST;
    if (len && b[0] == 'R')
      return PASS_BCAST_RESPONSE;
    if (len && b[0] == 'U')
      return PASS_SETTLE; /* a reservation update ... */
    if (len && b[0] == 'V')
      return PASS_SETTLE_RESPONSE; /* ... and the AGR's response to it */
    return PASS_REQUEST;
  case FX_OBJ_PROGNOSIS: return len ? PASS_SETTLE : PASS_PROGNOSIS; /* a body: the baseline profile */
  case FX_OBJ_METERING:
  case FX_OBJ_SETTLEMENT: return PASS_SETTLE;
  case FX_OBJ_OFFER: return PASS_OFFER;
  case FX_OBJ_ORDER: return PASS_ORDER;
  default: return -1;
  }
}

static int load_object(struct fx_market *mk, const struct fx_store_obj_view *v, int pass) {
  if (pass >= PASS_SETTLE)
    return mk_settle_load(mk, v);
  struct mk_market *m = mk_market_get(mk, fx_store_obj_cp(v), fx_store_obj_period(v), true);
  if (!m)
    return -1;
  struct fx_uuid id, ref;
  memcpy(id.b, fx_store_obj_id(v), 16);
  memcpy(ref.b, fx_store_obj_ref(v), 16);
  const char *owner = fx_store_obj_owner(v);
  if (pass == PASS_BCAST) {
    struct mk_bcast *b = calloc(1, sizeof *b);
    if (!b)
      return -1;
    b->id = id, b->request = ref;
    snprintf(b->agr, sizeof b->agr, "%s", owner);
    b->next = m->bcasts, m->bcasts = b;
    return mk_id_add(mk, &id, MK_ID_BCAST, m, b, 0);
  }
  if (pass == PASS_BCAST_RESPONSE) {
    size_t len;
    const uint8_t *body = fx_store_obj_body(v, &len);
    struct mk_id *e = mk_id_find(mk, &ref);
    if (e && e->kind == MK_ID_BCAST && len > 1)
      ((struct mk_bcast *)e->obj)->response = body[1] == '1' ? 1 : 2;
    return mk_id_add(mk, &id, MK_ID_OTHER, m, NULL, 0);
  }
  if (pass == PASS_PROGNOSIS) {
    struct mk_prognosis *p = calloc(1, sizeof *p);
    if (!p)
      return -1;
    p->id = id, p->revision = fx_store_obj_revision(v);
    snprintf(p->agr, sizeof p->agr, "%s", owner);
    p->next = m->progs, m->progs = p;
    return mk_id_add(mk, &id, MK_ID_PROGNOSIS, m, p, 0);
  }
  const struct fx_msg *msg = parse_body(mk, v);
  if (!msg)
    return -1;
  if (pass == PASS_REQUEST) {
    struct mk_request *r = mk_request_from_msg(mk, m, msg, owner, fx_store_obj_created_us(v), fx_store_obj_state(v));
    if (!r)
      return -1;
    if (r->state == FX_REQ_CLEARED && m->req == r)
      m->cleared = true;
    return mk_id_add(mk, &id, MK_ID_REQUEST, m, r, 0);
  }
  if (pass == PASS_OFFER) {
    struct mk_offer *o = mk_offer_from_msg(mk, m, msg, owner, fx_store_obj_created_us(v), fx_store_obj_state(v));
    return o && mk_market_push_offer(m, o) == 0 ? 0 : -1;
  }
  mk_order_from_msg(mk, m, msg, fx_store_obj_state(v));
  return 0;
}

static int offer_cmp(const void *a, const void *b) {
  const struct mk_offer *x = *(struct mk_offer *const *)a, *y = *(struct mk_offer *const *)b;
  if (x->t_us != y->t_us)
    return x->t_us < y->t_us ? -1 : 1;
  return memcmp(x->id.b, y->id.b, 16);
}

/* Offers back in arrival order, then indexed. */
static int index_offers(struct fx_market *mk) {
  for (struct mk_market *m = mk->markets; m; m = m->hh.next) {
    if (m->n_offers > 1)
      qsort(m->offers, m->n_offers, sizeof *m->offers, offer_cmp);
    for (size_t i = 0; i < m->n_offers; i++)
      if (mk_id_add(mk, &m->offers[i]->id, MK_ID_OFFER, m, m->offers[i], i) != 0)
        return -1;
  }
  return 0;
}

static int load_objects(struct fx_market *mk) {
  for (int pass = 0; pass < PASS_COUNT; pass++) {
    if (pass == PASS_ORDER && index_offers(mk) != 0)
      return -1;
    struct fx_store_iter it;
    struct fx_store_obj_view v;
    int rc = fx_store_obj_iter(&mk->rd, NULL, 0, 0, &it);
    while (rc == 0 && (rc = fx_store_obj_next(&it, &v)) == 1)
      rc = pass_of(&v) == pass ? load_object(mk, &v, pass) : 0;
    fx_store_iter_close(&it);
    if (rc < 0)
      return -1;
  }
  return 0;
}

int mk_load(struct fx_market *mk) {
  if (fx_store_read_begin(&mk->rd) != 0)
    return -1;
  int rc = load_refs(mk);
  if (rc == 0)
    rc = load_objects(mk);
  fx_store_read_end(&mk->rd);
  uint64_t seq = 0;
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    seq += m->n_orders;
  mk->order_seq = seq;
  return rc;
}

static void market_free(struct mk_market *m) {
  while (m->req) {
    struct mk_request *r = m->req;
    m->req = r->prev;
    mk_request_free(r);
  }
  for (struct mk_bcast *b = m->bcasts, *t; b; b = t)
    t = b->next, free(b);
  for (struct mk_prognosis *p = m->progs, *t; p; p = t)
    t = p->next, free(p);
  for (size_t i = 0; i < m->n_offers; i++)
    mk_offer_free(m->offers[i]);
  free(m->offers);
  free(m->orders);
  free(m);
}

void mk_unload(struct fx_market *mk) {
  struct mk_cp *cp, *cpt;
  HASH_ITER(hh, mk->cps, cp, cpt) {
    HASH_CLEAR(hh_cp, cp->conns); /* the connections are freed below */
    HASH_DEL(mk->cps, cp);
    free(cp);
  }
  struct mk_conn *c, *ct;
  HASH_ITER(hh, mk->conns, c, ct) {
    HASH_DEL(mk->conns, c);
    free(c);
  }
  struct mk_sender *s, *st;
  HASH_ITER(hh, mk->senders, s, st) {
    HASH_DEL(mk->senders, s);
    free(s);
  }
  struct mk_market *m, *mt;
  HASH_ITER(hh, mk->markets, m, mt) {
    HASH_DEL(mk->markets, m);
    market_free(m);
  }
  struct mk_id *e, *et;
  HASH_ITER(hh, mk->ids, e, et) {
    HASH_DEL(mk->ids, e);
    free(e);
  }
  mk_settle_unload(mk);
}
