/* market_trade.c — flexd as the DSO's market towards AGRs: FlexRequests from
 * DSOs and their broadcast, D-Prognoses, FlexOffers, FlexOfferRevocations,
 * and the AGRs' responses to what the platform sent (FlexRequestResponse,
 * FlexOrderResponse), or their absence: the FlexOrders' reply deadline.
 *
 * Market objects (store/record.h) as the market keeps them, per (CP, Period):
 *   REQUEST  id = DSO FlexRequest MessageID, owner DSO, body = its XML
 *   REQUEST  id = platform FlexRequest MessageID, ref = DSO request, owner AGR, body "B"
 *   REQUEST  id = FlexRequestResponse MessageID, ref = platform request, owner AGR,
 *            body "R1" (accepted) or "R2" (rejected)
 *   PROGNOSIS id = D-Prognosis MessageID, owner AGR, revision
 *   OFFER    id = FlexOffer MessageID, ref = platform request or zero, owner AGR, body = XML
 *   ORDER    (market_clear.c); one still placed when [market]
 *            order_response_timeout has passed becomes expired here (A6)
 * Solicited offers must reference the platform's copy sent to the offering AGR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"
#include "engine/log.h"

/* ---- objects ---------------------------------------------------------------- */

/* A deep copy of src in arena a: the object outlives the inbound job. */
static const struct fx_msg *copy_msg(fx_arena *a, const struct fx_msg *src) {
  const struct fx_msg *out;
  return fx_msg_copy(a, src, &out) == 0 ? out : NULL;
}

/* The body stored for an inbound message: the exact bytes its sender signed
 * when the sequencer has them, else the message written out. */
static const void *inbound_body(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in,
                                size_t *len) {
  if (in->inner) {
    *len = in->inner_len;
    return in->inner;
  }
  return mk_body_xml(mk, ctx, in->msg, len);
}

void mk_request_free(struct mk_request *r) {
  if (r)
    fx_arena_free(r->arena);
  free(r);
}

void mk_offer_free(struct mk_offer *o) {
  if (o)
    fx_arena_free(o->arena);
  free(o);
}

void mk_request_isps(struct fx_clear_isp *out, const struct fx_flex_request *fr, int n_isps) {
  for (size_t i = 0; i < fr->n_isps; i++) {
    const struct fx_flex_request_isp *s = &fr->isps[i];
    for (int64_t k = s->start; k < s->start + s->duration; k++)
      if (k >= 1 && k <= n_isps)
        out[k - 1] = (struct fx_clear_isp){
            s->disposition == FX_DISPOSITION_REQUESTED ? FX_CLEAR_REQUESTED : FX_CLEAR_AVAILABLE, s->min_power,
            s->max_power};
  }
}

struct mk_request *mk_request_from_msg(struct fx_market *mk, struct mk_market *m, const struct fx_msg *src,
                                       const char *dso, int64_t t_us, uint8_t state) {
  struct mk_request *r = calloc(1, sizeof *r);
  if (!r || !(r->arena = fx_arena_new(0)) || !(r->msg = copy_msg(r->arena, src)) ||
      !(r->isps = fx_arena_alloc(r->arena, (size_t)m->n_isps * sizeof *r->isps))) {
    mk_request_free(r);
    return NULL;
  }
  const struct fx_flex_request *fr = &r->msg->u.flex_request;
  r->id = src->hdr.message_id, r->conv = src->hdr.conversation_id;
  snprintf(r->dso, sizeof r->dso, "%s", dso);
  r->revision = fr->revision, r->t_us = t_us, r->expires_us = fr->expiration_date_time.usec, r->state = state;
  mk_request_isps(r->isps, fr, m->n_isps);
  if (!m->req || r->revision > m->req->revision) {
    r->prev = m->req, m->req = r;
  } else {
    r->prev = m->req->prev, m->req->prev = r;
  }
  return r;
}

struct mk_offer *mk_offer_from_msg(struct fx_market *mk, struct mk_market *m, const struct fx_msg *src,
                                   const char *agr, int64_t t_us, uint8_t state) {
  struct mk_offer *o = calloc(1, sizeof *o);
  if (!o || !(o->arena = fx_arena_new(0)) || !(o->msg = copy_msg(o->arena, src)) ||
      mk_offer_options(o, m->n_isps) != 0) {
    mk_offer_free(o);
    return NULL;
  }
  o->id = src->hdr.message_id, o->conv = src->hdr.conversation_id;
  snprintf(o->agr, sizeof o->agr, "%s", agr);
  o->t_us = t_us, o->expires_us = o->msg->u.flex_offer.expiration_date_time.usec, o->state = state;
  return o;
}

int mk_market_push_offer(struct mk_market *m, struct mk_offer *o) {
  if (m->n_offers == m->cap_offers) {
    size_t cap = m->cap_offers ? 2 * m->cap_offers : 8;
    struct mk_offer **p = realloc(m->offers, cap * sizeof *p);
    if (!p)
      return -1;
    m->offers = p, m->cap_offers = cap;
  }
  m->offers[m->n_offers++] = o;
  return 0;
}

int mk_market_push_order(struct mk_market *m, const struct mk_order *o) {
  if (m->n_orders == m->cap_orders) {
    size_t cap = m->cap_orders ? 2 * m->cap_orders : 8;
    struct mk_order *p = realloc(m->orders, cap * sizeof *p);
    if (!p)
      return -1;
    m->orders = p, m->cap_orders = cap;
  }
  m->orders[m->n_orders++] = *o;
  return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static void put_obj(struct fx_seq_ctx *ctx, const struct mk_market *m, uint8_t kind, const struct fx_uuid *id,
                    uint8_t state, uint32_t revision, const struct fx_uuid *ref, const char *owner, const void *body,
                    size_t len) {
  struct fx_store_obj o = {.key = {.cp = m->cp, .period = m->period, .kind = kind},
                           .state = state,
                           .revision = revision,
                           .t_us = fx_seq_now(ctx),
                           .ref = ref ? ref->b : NULL,
                           .owner = owner,
                           .body = body,
                           .body_len = len};
  memcpy(o.key.id, id->b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &o);
}

void mk_set_state(struct fx_seq_ctx *ctx, const struct mk_market *m, uint8_t kind, const struct fx_uuid *id,
                  uint8_t to) {
  struct fx_store_obj_key k = {.cp = m->cp, .period = m->period, .kind = kind};
  memcpy(k.id, id->b, 16);
  fx_store_batch_set_state(fx_seq_batch(ctx), &k, to, fx_seq_now(ctx));
}

/* A MessageID names one object across all markets and kinds. */
static bool id_taken(struct fx_market *mk, const struct fx_msg *msg, struct fx_verdict *v) {
  if (!mk_id_find(mk, &msg->hdr.message_id))
    return false;
  fx_verdict_add(v, FX_R_DUPLICATE_IDENTIFIER);
  return true;
}

static const char *dup_str(struct fx_seq_ctx *ctx, const char *s) {
  char *p = fx_seq_alloc(ctx, strlen(s) + 1);
  return p ? strcpy(p, s) : NULL;
}

/* ---- FlexRequest --------------------------------------------------------------- */

static void check_request_isps(const struct fx_flex_request *fr, struct fx_verdict *v) {
  bool requested = false;
  for (size_t i = 0; i < fr->n_isps; i++) {
    const struct fx_flex_request_isp *s = &fr->isps[i];
    if (s->disposition == FX_DISPOSITION_REQUESTED) {
      requested = true;
      if (s->min_power < 0 && s->max_power > 0)
        fx_verdict_add(v, MK_R_REQUESTED_POWER);
    }
    if (s->min_power > s->max_power)
      fx_verdict_add(v, MK_R_POWER_DISCREPANCY);
    /* Beyond the solver's limit (engine/clear.h) every clearing of the
     * market would fail: refused here, in the phrase offers get. */
    if (s->min_power < -FX_CLEAR_MAX_ABS_POWER || s->max_power > FX_CLEAR_MAX_ABS_POWER)
      fx_verdict_add(v, MK_R_POWER_VALUE);
  }
  if (!requested)
    fx_verdict_add(v, MK_R_LACKING_REQUESTED);
}

/* Every AGR with an active connection at the CP gets its own copy, with its
 * own MessageID and conversation, sent by the platform as the DSO's market. */
static void broadcast_one(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m,
                          const struct fx_msg *src, const char *agr) {
  struct mk_bcast *b = calloc(1, sizeof *b);
  if (!b)
    return;
  struct fx_msg out = *src;
  fx_uuid_derive(&b->id, "flexd.request-copy", &src->hdr.message_id, agr);
  out.hdr.sender_domain = mk->cfg->domain;
  out.hdr.recipient_domain = dup_str(ctx, agr);
  out.hdr.message_id = b->id;
  fx_uuid_derive(&out.hdr.conversation_id, "flexd.request-conversation", &src->hdr.message_id, agr);
  out.hdr.timestamp = (struct fx_datetime){fx_seq_now(ctx), 0};
  b->request = src->hdr.message_id;
  snprintf(b->agr, sizeof b->agr, "%s", agr);
  b->next = m->bcasts, m->bcasts = b;
  mk_id_add(mk, &b->id, MK_ID_BCAST, m, b, 0);
  fx_seq_send(ctx, &out, FX_ROLE_AGR, FX_ROLE_DSO);
  put_obj(ctx, m, FX_OBJ_REQUEST, &b->id, FX_REQ_OPEN, (uint32_t)src->u.flex_request.revision, &b->request,
          out.hdr.recipient_domain, "B", 1);
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every AGR with an active connection at the CP gets its own copy, with its
 * own MessageID and conversation, sent by the platform as the DSO's market;
 * AGRs in name order, so a replay sends the same rows in the same order. */
static void broadcast(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, const struct fx_msg *src) {
  struct mk_cp *cp = mk_cp_find(mk, m->cp);
  size_t n = 0, cap = cp ? HASH_CNT(hh_cp, cp->conns) : 0;
  const char **agrs = cap ? calloc(cap, sizeof *agrs) : NULL;
  if (!agrs)
    return;
  for (struct mk_conn *c = cp->conns; c; c = c->hh_cp.next)
    if (c->has_agr && c->agr_from <= m->period && m->period < c->agr_to && c->cp_from <= m->period &&
        m->period < c->cp_to)
      agrs[n++] = c->agr;
  qsort(agrs, n, sizeof *agrs, str_cmp);
  for (size_t i = 0; i < n; i++)
    if (i == 0 || strcmp(agrs[i], agrs[i - 1]))
      broadcast_one(mk, ctx, m, src, agrs[i]);
  free(agrs);
}

static void flex_request(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in,
                         struct fx_verdict *v) {
  const struct fx_msg *msg = in->msg;
  const struct fx_flex_request *fr = &msg->u.flex_request;
  int32_t period = fx_date_to_days(&fr->flex.period);
  struct mk_cp *cp = mk_cp_find(mk, fr->flex.congestion_point);
  if (!mk_cp_active(cp, period) || strcmp(cp->dso, msg->hdr.sender_domain))
    fx_verdict_add(v, FX_R_INVALID_CONGESTION_POINT);
  check_request_isps(fr, v);
  struct mk_market *m = fx_verdict_ok(v) ? mk_market_get(mk, fr->flex.congestion_point, period, true) : NULL;
  if (m && m->req && fr->revision <= m->req->revision)
    fx_verdict_add(v, MK_R_SUBORDINATE);
  if (!fx_verdict_ok(v) || !m || id_taken(mk, msg, v))
    return;
  struct mk_request *old = m->req;
  struct mk_request *r = mk_request_from_msg(mk, m, msg, msg->hdr.sender_domain, fx_seq_now(ctx), FX_REQ_OPEN);
  if (!r) {
    fx_verdict_add(v, FX_R_INVALID_MESSAGE);
    return;
  }
  mk_id_add(mk, &r->id, MK_ID_REQUEST, m, r, 0);
  mk_deadline_mark(mk, m); /* a new clearing time */
  size_t len;
  const void *body = inbound_body(mk, ctx, in, &len);
  put_obj(ctx, m, FX_OBJ_REQUEST, &r->id, FX_REQ_OPEN, (uint32_t)fr->revision, NULL, msg->hdr.sender_domain, body,
          len);
  if (old && old->state != FX_REQ_SUPERSEDED) {
    old->state = FX_REQ_SUPERSEDED;
    mk_set_state(ctx, m, FX_OBJ_REQUEST, &old->id, FX_REQ_SUPERSEDED);
  }
  broadcast(mk, ctx, m, msg);
  if (m->cleared) /* past its clearing time: clear what is still needed now */
    mk_clear_market(mk, ctx, m, fx_seq_now(ctx));
}

static void flex_request_response(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                                  struct fx_verdict *v) {
  struct mk_id *e = mk_id_lookup(mk, &msg->u.flex_request_response.flex_request_message_id, FX_OBJ_REQUEST,
                                 msg->hdr.sender_domain);
  struct mk_bcast *b = e && e->kind == MK_ID_BCAST ? e->obj : NULL;
  if (!b || strcmp(b->agr, msg->hdr.sender_domain)) {
    fx_verdict_add(v, MK_R_UNKNOWN_FR);
    return;
  }
  if (id_taken(mk, msg, v))
    return;
  b->response = msg->result == FX_RESULT_ACCEPTED ? 1 : 2;
  mk_id_add(mk, &msg->hdr.message_id, MK_ID_OTHER, e->market, NULL, 0);
  put_obj(ctx, e->market, FX_OBJ_REQUEST, &msg->hdr.message_id, FX_REQ_OPEN, 0, &b->id, msg->hdr.sender_domain,
          b->response == 1 ? "R1" : "R2", 2);
}

/* ---- D-Prognosis ------------------------------------------------------------------ */

/* Every ISP of the Period that has not yet ended must be present. */
static void check_prognosis_isps(struct fx_market *mk, const struct fx_d_prognosis *dp, int n_isps, int64_t now,
                                 struct fx_verdict *v) {
  struct fx_day d;
  uint8_t seen[128] = {0};
  if (n_isps > 1024 || fx_calendar_day(mk->cal, fx_date_to_days(&dp->flex.period), &d) != 0)
    return;
  for (size_t i = 0; i < dp->n_isps; i++) {
    const struct fx_isp *s = &dp->isps[i];
    for (int64_t k = s->start; k < s->start + s->duration && k <= n_isps; k++)
      if (k >= 1)
        seen[(k - 1) / 8] |= (uint8_t)(1u << ((k - 1) % 8));
    if (s->power > mk->cfg->prognosis_power_bound || s->power < -mk->cfg->prognosis_power_bound)
      fx_verdict_add(v, MK_R_POWER_VALUE);
  }
  for (int k = 1; k <= n_isps; k++)
    if (d.start_us + k * mk->isp_us > now && !(seen[(k - 1) / 8] & (1u << ((k - 1) % 8)))) {
      fx_verdict_add(v, MK_R_LACKING_ISPS);
      return;
    }
}

static void d_prognosis(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                        struct fx_verdict *v) {
  const struct fx_d_prognosis *dp = &msg->u.d_prognosis;
  int32_t period = fx_date_to_days(&dp->flex.period);
  const char *agr = msg->hdr.sender_domain;
  if (!mk_agr_active_at(mk, agr, dp->flex.congestion_point, period)) {
    fx_verdict_add(v, FX_R_INVALID_CONGESTION_POINT);
    return;
  }
  struct mk_market *m = mk_market_get(mk, dp->flex.congestion_point, period, true);
  if (!m)
    return;
  check_prognosis_isps(mk, dp, m->n_isps, fx_seq_now(ctx), v);
  for (struct mk_prognosis *p = m->progs; p; p = p->next)
    if (!strcmp(p->agr, agr) && dp->revision <= p->revision)
      fx_verdict_add(v, MK_R_SUBORDINATE);
  if (!fx_verdict_ok(v) || id_taken(mk, msg, v))
    return;
  struct mk_prognosis *p = calloc(1, sizeof *p);
  if (!p)
    return;
  p->id = msg->hdr.message_id, p->revision = dp->revision;
  snprintf(p->agr, sizeof p->agr, "%s", agr);
  p->next = m->progs, m->progs = p;
  mk_id_add(mk, &p->id, MK_ID_PROGNOSIS, m, p, 0);
  put_obj(ctx, m, FX_OBJ_PROGNOSIS, &p->id, FX_STATE_NONE, (uint32_t)dp->revision, NULL, agr, NULL, 0);
}

/* ---- FlexOffer --------------------------------------------------------------------- */

/* 3.1.0 has no default for Unsolicited: without it the 3.0.0 meaning holds
 * (solicited iff a FlexRequestMessageID is given). */
static bool offer_solicited(const struct fx_flex_offer *fo) {
  return fo->has_unsolicited ? !fo->unsolicited : fo->has_flex_request_message_id;
}

static bool offer_mentions(const struct fx_flex_offer *fo, int64_t isp) {
  for (size_t i = 0; i < fo->n_offer_options; i++)
    for (size_t j = 0; j < fo->offer_options[i].n_isps; j++) {
      const struct fx_isp *s = &fo->offer_options[i].isps[j];
      if (isp >= s->start && isp < s->start + s->duration)
        return true;
    }
  return false;
}

/* The referenced platform request: known, sent to this AGR, same market,
 * still the current revision, not expired, and overlapping what it asked. */
static void check_solicited(struct fx_market *mk, const struct fx_msg *msg, struct mk_market *m, int64_t now,
                            struct fx_verdict *v) {
  const struct fx_flex_offer *fo = &msg->u.flex_offer;
  if (!fo->has_flex_request_message_id) {
    fx_verdict_add(v, MK_R_UNKNOWN_FR);
    return;
  }
  struct mk_id *e = mk_id_find(mk, &fo->flex_request_message_id);
  struct mk_bcast *b = e && e->kind == MK_ID_BCAST ? e->obj : NULL;
  if (!b || strcmp(b->agr, msg->hdr.sender_domain)) {
    fx_verdict_add(v, MK_R_UNKNOWN_FR);
    return;
  }
  if (e->market->period != m->period) {
    fx_verdict_add(v, MK_R_PERIOD_MISMATCH);
    return;
  }
  if (e->market != m) {
    fx_verdict_add(v, FX_R_INVALID_CONGESTION_POINT);
    return;
  }
  struct mk_id *re = mk_id_find(mk, &b->request);
  struct mk_request *r = re ? re->obj : NULL;
  if (!r)
    return;
  if (r->state == FX_REQ_SUPERSEDED)
    fx_verdict_add(v, MK_R_REVOKED);
  else if (r->expires_us <= now)
    fx_verdict_add(v, MK_R_EXPIRED);
  bool hit = false;
  for (int k = 0; k < m->n_isps && !hit; k++)
    hit = r->isps[k].disposition == FX_CLEAR_REQUESTED && offer_mentions(fo, k + 1);
  if (!hit)
    fx_verdict_add(v, MK_R_REQUEST_MISMATCH);
}

static void check_baseline(struct fx_market *mk, const struct fx_msg *msg, struct mk_market *m, struct fx_verdict *v) {
  const struct fx_flex_offer *fo = &msg->u.flex_offer;
  if (fo->has_d_prognosis_message_id) {
    struct mk_id *e = mk_id_find(mk, &fo->d_prognosis_message_id);
    struct mk_prognosis *p = e && e->kind == MK_ID_PROGNOSIS ? e->obj : NULL;
    if (!p || strcmp(p->agr, msg->hdr.sender_domain))
      fx_verdict_add(v, MK_R_UNKNOWN_DP);
    else if (e->market != m)
      fx_verdict_add(v, MK_R_PERIOD_MISMATCH);
  } else if (mk->cfg->require_baseline) {
    fx_verdict_add(v, MK_R_NO_BASELINE);
  }
}

static void check_offer_values(struct fx_market *mk, const struct fx_flex_offer *fo, const struct mk_cp *cp,
                               struct fx_verdict *v) {
  if (strcmp(fo->currency, mk->cfg->currency))
    fx_verdict_add(v, MK_R_CURRENCY);
  if (fo->n_offer_options > 1 && !(mk->cfg->mutex_offers && cp->mutex))
    fx_verdict_add(v, MK_R_NO_MUTEX);
  /* Never beyond the solver's limits (engine/clear.h), whatever the
   * configuration: one offer past them would make every clearing of its
   * market fail until it expired. */
  int64_t bound = mk->cfg->prognosis_power_bound;
  if (bound > FX_CLEAR_MAX_ABS_POWER)
    bound = FX_CLEAR_MAX_ABS_POWER;
  for (size_t i = 0; i < fo->n_offer_options; i++) {
    const struct fx_offer_option *oo = &fo->offer_options[i];
    if (oo->price > FX_CLEAR_MAX_ABS_PRICE || oo->price < -FX_CLEAR_MAX_ABS_PRICE)
      fx_verdict_add(v, MK_R_PRICE_VALUE);
    for (size_t j = 0; j < oo->n_isps; j++)
      if (oo->isps[j].power > bound || oo->isps[j].power < -bound)
        fx_verdict_add(v, MK_R_POWER_VALUE);
  }
}

static void flex_offer(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v) {
  const struct fx_msg *msg = in->msg;
  const struct fx_flex_offer *fo = &msg->u.flex_offer;
  int32_t period = fx_date_to_days(&fo->flex.period);
  const char *agr = msg->hdr.sender_domain;
  if (!mk_agr_active_at(mk, agr, fo->flex.congestion_point, period)) {
    fx_verdict_add(v, FX_R_INVALID_CONGESTION_POINT);
    return;
  }
  struct mk_market *m = mk_market_get(mk, fo->flex.congestion_point, period, true);
  if (!m)
    return;
  check_offer_values(mk, fo, mk_cp_find(mk, fo->flex.congestion_point), v);
  if (offer_solicited(fo))
    check_solicited(mk, msg, m, fx_seq_now(ctx), v);
  else if (fo->has_flex_request_message_id)
    fx_verdict_add(v, FX_R_INVALID_MESSAGE); /* Unsolicited="true" yet referencing a request */
  check_baseline(mk, msg, m, v);
  if (!fx_verdict_ok(v) || id_taken(mk, msg, v))
    return;
  struct mk_offer *o = mk_offer_from_msg(mk, m, msg, agr, fx_seq_now(ctx), FX_OFFER_OPEN);
  if (!o || mk_market_push_offer(m, o) != 0) {
    mk_offer_free(o);
    fx_verdict_add(v, FX_R_INVALID_MESSAGE);
    return;
  }
  mk_id_add(mk, &o->id, MK_ID_OFFER, m, o, m->n_offers - 1);
  size_t len;
  const void *body = inbound_body(mk, ctx, in, &len);
  put_obj(ctx, m, FX_OBJ_OFFER, &o->id, FX_OFFER_OPEN, 0,
          fo->has_flex_request_message_id ? &fo->flex_request_message_id : NULL, agr, body, len);
}

/* ---- FlexOfferRevocation -------------------------------------------------------------- */

static void revocation(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg, struct fx_verdict *v) {
  struct mk_id *e = mk_id_lookup(mk, &msg->u.flex_offer_revocation.flex_offer_message_id, FX_OBJ_OFFER,
                                 msg->hdr.sender_domain);
  struct mk_offer *o = e && e->kind == MK_ID_OFFER ? e->obj : NULL;
  /* Only the offer's sender may revoke it; others learn nothing of it. */
  if (!o || strcmp(o->agr, msg->hdr.sender_domain)) {
    fx_verdict_add(v, MK_R_UNKNOWN_FO);
    return;
  }
  if (o->state == FX_OFFER_ORDERED)
    fx_verdict_add(v, MK_R_PROCURED);
  else if (o->state == FX_OFFER_REVOKED)
    fx_verdict_add(v, MK_R_REVOKED);
  else if (o->state == FX_OFFER_EXPIRED || o->expires_us <= fx_seq_now(ctx))
    fx_verdict_add(v, MK_R_EXPIRED);
  /* Operate phase (use case "Revocation Flexibility Offer"): an offer may be
   * revoked only while none of its Period's ISPs is in or past operation, i.e.
   * before the Period's first ISP starts in the market's time zone. The spec
   * names no phrase for this; the Period is what is out of bounds. */
  else if (e->market->period <= mk_today(mk, fx_seq_now(ctx)))
    fx_verdict_add(v, FX_R_PERIOD_OUT_OF_BOUNDS);
  if (!fx_verdict_ok(v))
    return;
  o->state = FX_OFFER_REVOKED;
  mk_set_state(ctx, e->market, FX_OBJ_OFFER, &o->id, FX_OFFER_REVOKED);
}

/* ---- FlexOrderResponse ------------------------------------------------------------------ */

int64_t mk_order_deadline(const struct fx_market *mk, const struct mk_order *o) {
  int64_t timeout = mk->cfg->order_response_timeout_s;
  if (o->state != FX_ORDER_PLACED || !timeout)
    return INT64_MAX;
  return o->placed_us + timeout * 1000000;
}

/* Order o of m stops waiting for its response: stored as expired (the state
 * a late response is refused with), logged, counted after the commit. */
static void expire_order(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, struct mk_order *o) {
  char id[FX_UUID_STRLEN];
  o->state = FX_ORDER_EXPIRED;
  mk_set_state(ctx, m, FX_OBJ_ORDER, &o->id, FX_ORDER_EXPIRED);
  mk_orders_changed(mk, m);
  mk->expired_pending++;
  fx_uuid_format(&o->id, id);
  fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_WARN, "order_expired",
              FX_LOG_KV(FX_LS("message_id", id), FX_LS("recipient", o->agr), FX_LS("market", m->key)),
              "market %s: FlexOrder %s to %s expired unanswered after %u s", m->key, id, o->agr,
              (unsigned)mk->cfg->order_response_timeout_s);
}

/* m's overdue orders expire; true when one did. */
static bool expire_market(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us) {
  bool any = false;
  for (size_t i = 0; i < m->n_orders; i++)
    if (mk_order_deadline(mk, &m->orders[i]) <= now_us) {
      expire_order(mk, ctx, m, &m->orders[i]);
      any = true;
    }
  return any;
}

void mk_expire_orders(struct fx_market *mk, struct fx_seq_ctx *ctx, int64_t now_us) {
  if (!mk->cfg->order_response_timeout_s)
    return;
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    if (expire_market(mk, ctx, m, now_us) && m->req) /* as after a rejection: the need is cleared again */
      mk_clear_market(mk, ctx, m, now_us);
}

static void order_response(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                           struct fx_verdict *v) {
  struct mk_id *e = mk_id_lookup(mk, &msg->u.flex_order_response.flex_order_message_id, FX_OBJ_ORDER,
                                 msg->hdr.sender_domain);
  struct mk_order *o = e && e->kind == MK_ID_ORDER ? &e->market->orders[e->index] : NULL;
  if (!o || strcmp(o->agr, msg->hdr.sender_domain)) {
    fx_verdict_add(v, MK_R_UNKNOWN_ORDER);
    return;
  }
  /* Past its deadline the order is expired even if the timer has not run yet:
   * the answer depends on the response's time only, so a replay agrees. */
  bool overdue = mk_order_deadline(mk, o) <= fx_seq_now(ctx);
  if (overdue)
    expire_order(mk, ctx, e->market, o);
  if (o->state != FX_ORDER_PLACED) {
    fx_verdict_add(v, o->state == FX_ORDER_EXPIRED ? MK_R_EXPIRED : MK_R_UNKNOWN_ORDER);
    if (overdue && e->market->req) /* last: the clearing may move the orders (o) */
      mk_clear_market(mk, ctx, e->market, fx_seq_now(ctx));
    return;
  }
  bool accepted = msg->result == FX_RESULT_ACCEPTED;
  o->state = accepted ? FX_ORDER_ACCEPTED : FX_ORDER_REJECTED;
  mk_set_state(ctx, e->market, FX_OBJ_ORDER, &o->id, o->state);
  mk_deadline_mark(mk, e->market); /* it waits no longer */
  if (!accepted)
    mk_orders_changed(mk, e->market);
  if (!accepted && e->market->req) /* the need it covered is cleared again */
    mk_clear_market(mk, ctx, e->market, fx_seq_now(ctx));
}

void mk_trade_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v,
                    struct fx_msg *resp) {
  (void)resp;
  const struct fx_msg *m = in->msg;
  switch (m->type) {
  case FX_MSG_FLEX_REQUEST: flex_request(mk, ctx, in, v); break;
  case FX_MSG_FLEX_REQUEST_RESPONSE: flex_request_response(mk, ctx, m, v); break;
  case FX_MSG_D_PROGNOSIS: d_prognosis(mk, ctx, m, v); break;
  case FX_MSG_FLEX_OFFER: flex_offer(mk, ctx, in, v); break;
  case FX_MSG_FLEX_OFFER_REVOCATION: revocation(mk, ctx, m, v); break;
  case FX_MSG_FLEX_ORDER_RESPONSE: order_response(mk, ctx, m, v); break;
  default: break;
  }
}
