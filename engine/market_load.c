/* market_load.c — reading the market's in-memory state from the store, and
 * letting it go again.
 *
 * Runs at start, after a failed group commit, and whenever a cold market is
 * needed (market_int.h, "Memory is bounded by the live markets"). Reference
 * records are read in place. A market's objects are read in dependency order
 * (a broadcast needs its request, an order its offer), their bodies parsed
 * once with the codec; offers are put back in arrival order (creation time,
 * then MessageID), which is the clearing's tie-break.
 *
 * At start only the hot markets are read: for every congestion point, the
 * Periods from the hot window's first day to the last Period the counter
 * "mk.last.<CP hash>" names, each one exact key-prefix scan of the store. The
 * operate phase's indices follow: Metering revisions of the hot days and the
 * current reservation of every configured contract day. FlexSettlements are
 * looked up when answered (market_settle.c). A store written before these
 * counters existed ("mk.clock" absent) is read in full once, as it used to
 * be, and the counters are written with the next group; the commit after it
 * evicts what is cold. */
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

static int load_object(struct fx_market *mk, struct mk_market *m, const struct fx_store_obj_view *v, int pass) {
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
  size_t had = m->n_orders;
  mk_order_from_msg(mk, m, msg, fx_store_obj_state(v));
  if (m->n_orders > had) /* its reply deadline counts from its creation */
    m->orders[had].placed_us = fx_store_obj_created_us(v);
  return 0;
}

static int offer_cmp(const void *a, const void *b) {
  const struct mk_offer *x = *(struct mk_offer *const *)a, *y = *(struct mk_offer *const *)b;
  if (x->t_us != y->t_us)
    return x->t_us < y->t_us ? -1 : 1;
  return memcmp(x->id.b, y->id.b, 16);
}

/* A market's offers back in arrival order, then indexed. */
static int index_offers(struct fx_market *mk, struct mk_market *m) {
  if (m->n_offers > 1)
    qsort(m->offers, m->n_offers, sizeof *m->offers, offer_cmp);
  for (size_t i = 0; i < m->n_offers; i++)
    if (mk_id_add(mk, &m->offers[i]->id, MK_ID_OFFER, m, m->offers[i], i) != 0)
      return -1;
  return 0;
}

/* ---- one market ---------------------------------------------------------------- */

int mk_market_fill(struct fx_market *mk, struct fx_store_read *rd, struct mk_market *m) {
  for (int pass = 0; pass <= PASS_ORDER; pass++) {
    if (pass == PASS_ORDER && index_offers(mk, m) != 0)
      return -1;
    struct fx_store_iter it;
    struct fx_store_obj_view v;
    int rc = fx_store_obj_iter(rd, m->cp, m->period, 0, &it);
    while (rc == 0 && (rc = fx_store_obj_next(&it, &v)) == 1)
      rc = pass_of(&v) == pass ? load_object(mk, m, &v, pass) : 0;
    fx_store_iter_close(&it);
    if (rc < 0)
      return -1;
  }
  return mk_reclear_read(mk, rd, m);
}

/* The market (cp, period) when the store has objects of it; absent is fine. */
static int load_market(struct fx_market *mk, const char *cp, int32_t period) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int rc = fx_store_obj_iter(&mk->rd, cp, period, 0, &it);
  int got = rc == 0 ? fx_store_obj_next(&it, &v) : rc;
  fx_store_iter_close(&it);
  if (got <= 0)
    return got;
  struct mk_market *m = mk_market_get(mk, cp, period, true);
  return m ? mk_market_fill(mk, &mk->rd, m) : -1;
}

static int32_t cp_last(struct fx_market *mk, const char *cp) {
  char name[48];
  uint64_t v = 0;
  mk_cp_counter(cp, name);
  return fx_store_counter_get(&mk->rd, name, &v) == 0 && v ? mk_counter_day(v) : INT32_MIN;
}

/* Objects of one kind at (cp, day) handed to the settle phase's loader. */
static int load_settle_kind(struct fx_market *mk, const char *cp, int32_t day, uint8_t kind, int pass) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int rc = fx_store_obj_iter(&mk->rd, cp, day, kind, &it);
  while (rc == 0 && (rc = fx_store_obj_next(&it, &v)) == 1)
    rc = pass_of(&v) == pass ? mk_settle_load(mk, &v) : 0;
  fx_store_iter_close(&it);
  return rc < 0 ? -1 : 0;
}

/* The hot markets, the Metering index of the hot days and every contract day's
 * reservation. */
static int load_hot(struct fx_market *mk) {
  int rc = 0;
  for (struct mk_cp *cp = mk->cps; cp && rc == 0; cp = cp->hh.next) {
    int32_t last = cp_last(mk, cp->addr);
    for (int32_t d = mk->live_from; d <= last && rc == 0; d++)
      rc = load_market(mk, cp->addr, d);
    for (int32_t d = mk->live_from; d <= mk->clock_day && rc == 0; d++)
      rc = load_settle_kind(mk, cp->addr, d, FX_OBJ_METERING, PASS_SETTLE);
  }
  for (int32_t d = mk->live_from; d <= mk->clock_day && rc == 0; d++)
    rc = load_settle_kind(mk, "", d, FX_OBJ_METERING, PASS_SETTLE); /* connections without a CP */
  for (size_t i = 0; i < mk->cfg->n_contracts && rc == 0; i++) {
    const struct fx_contract_cfg *c = &mk->cfg->contracts[i];
    int32_t last = cp_last(mk, c->cp), to = c->to < last ? c->to : last;
    for (int pass = PASS_SETTLE; pass <= PASS_SETTLE_RESPONSE; pass++)
      for (int32_t d = c->from; d <= to && rc == 0; d++)
        rc = load_settle_kind(mk, c->cp, d, FX_OBJ_REQUEST, pass);
  }
  return rc;
}

/* A store from before the hot window: everything, as it used to be read. */
static int load_all(struct fx_market *mk) {
  for (int pass = 0; pass < PASS_COUNT; pass++) {
    if (pass == PASS_ORDER)
      for (struct mk_market *m = mk->markets; m; m = m->hh.next)
        if (index_offers(mk, m) != 0)
          return -1;
    struct fx_store_iter it;
    struct fx_store_obj_view v;
    int rc = fx_store_obj_iter(&mk->rd, NULL, 0, 0, &it);
    while (rc == 0 && (rc = fx_store_obj_next(&it, &v)) == 1) {
      int p = pass_of(&v);
      struct mk_market *m = p == pass && p < PASS_SETTLE
                                ? mk_market_get(mk, fx_store_obj_cp(&v), fx_store_obj_period(&v), true)
                                : NULL;
      rc = p != pass ? 0 : p >= PASS_SETTLE ? mk_settle_load(mk, &v) : m ? load_object(mk, m, &v, p) : -1;
    }
    fx_store_iter_close(&it);
    if (rc < 0)
      return -1;
  }
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    if (mk_reclear_read(mk, &mk->rd, m) != 0)
      return -1;
  return 0;
}

int mk_load(struct fx_market *mk) {
  if (fx_store_read_begin(&mk->rd) != 0)
    return -1;
  uint64_t clock = 0;
  int rc = load_refs(mk);
  if (rc == 0)
    rc = fx_store_counter_get(&mk->rd, MK_CLOCK_COUNTER, &clock);
  mk->clock_day = mk->clock_stored = clock ? mk_counter_day(clock) : INT32_MIN;
  mk->live_from = clock ? mk->clock_day - MK_HOT_DAYS : INT32_MIN;
  mk->index_pending = !clock;
  if (rc == 0)
    rc = clock ? load_hot(mk) : load_all(mk);
  fx_store_read_end(&mk->rd);
  return rc;
}

/* ---- letting go ------------------------------------------------------------------ */

void mk_market_free(struct mk_market *m) {
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

void mk_evict(struct fx_market *mk) {
  if (mk->clock_day != INT32_MIN && mk->clock_day - MK_HOT_DAYS > mk->live_from)
    mk->live_from = mk->clock_day - MK_HOT_DAYS;
  size_t n = 0;
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    n += m->evict = m->period < mk->live_from;
  if (n) {
    struct mk_id *e, *et;
    HASH_ITER(hh, mk->ids, e, et)
      if (e->market && e->market->evict) {
        HASH_DEL(mk->ids, e);
        free(e);
      }
    struct mk_market *m, *mt;
    HASH_ITER(hh, mk->markets, m, mt)
      if (m->evict) {
        HASH_DEL(mk->markets, m);
        mk_market_free(m);
      }
  }
  mk->n_cold = 0;
  mk_meter_evict(mk, mk->live_from);
  mk_settle_evict(mk);
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
    mk_market_free(m);
  }
  struct mk_id *e, *et;
  HASH_ITER(hh, mk->ids, e, et) {
    HASH_DEL(mk->ids, e);
    free(e);
  }
  mk_settle_unload(mk);
  mk->n_cold = 0;
}
