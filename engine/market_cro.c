/* market_cro.c — flexd as Common Reference Operator: DSO and AGR portfolio
 * updates and queries, and the question every trade asks of the common
 * reference: is this party active at this congestion point on this day?
 *
 * Reference records (store/record.h) as the CRO keeps them:
 *   CP          k1 CP address, k2 "",    owner DSO,  role DSO, [from, to),
 *               body {MutexOffersSupported, DayAheadRedispatchBy, IntradayRedispatchBy}
 *   CONNECTION  k1 EA, k2 "cp",  owner CP address, [from, to)   (the DSO's side)
 *   CONNECTION  k1 EA, k2 "agr", owner AGR domain,  [from, to)  (the AGR's side)
 *   PARTICIPANT k1 domain, k2 role name, t_us = TimeStamp of its last portfolio update
 * Validity is a half-open range of Periods: EndPeriod is the first day the
 * entry no longer applies, so an EndPeriod of today removes it now (the
 * spec's "EndPeriod = now"). 3.1.0 portfolio updates carry no sequence number;
 * their TimeStamp orders revisions ("Subordinate sequence number" when older
 * than the last accepted one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"

#define PLACEHOLDER_EA "ea1.1970-01.invalid:none"

bool mk_cp_active(const struct mk_cp *cp, int32_t period) { return cp && cp->from <= period && period < cp->to; }

struct mk_cp *mk_cp_find(struct fx_market *mk, const char *addr) {
  struct mk_cp *cp;
  HASH_FIND_STR(mk->cps, addr, cp);
  return cp;
}

static struct mk_conn *conn_get(struct fx_market *mk, const char *ea, bool create) {
  struct mk_conn *c;
  HASH_FIND_STR(mk->conns, ea, c);
  if (c || !create || strlen(ea) >= MK_ADDR)
    return c;
  if (!(c = calloc(1, sizeof *c)))
    return NULL;
  strcpy(c->ea, ea);
  HASH_ADD_STR(mk->conns, ea, c);
  return c;
}

static bool conn_at_cp(const struct mk_conn *c, const struct mk_cp *cp, int32_t period) {
  return c->has_cp && !strcmp(c->cp, cp->addr) && c->cp_from <= period && period < c->cp_to &&
         mk_cp_active(cp, period);
}
static bool conn_of_agr(const struct mk_conn *c, const char *agr, int32_t period) {
  return c->has_agr && !strcmp(c->agr, agr) && c->agr_from <= period && period < c->agr_to;
}

/* Files connection c under CP cp (the per-CP index the trading checks use). */
static void conn_place(struct mk_conn *c, struct mk_cp *cp) {
  if (c->at == cp)
    return;
  if (c->at)
    HASH_DELETE(hh_cp, c->at->conns, c);
  c->at = cp;
  if (cp)
    HASH_ADD(hh_cp, cp->conns, ea, strlen(c->ea), c);
}

bool mk_agr_active_at(struct fx_market *mk, const char *agr, const char *cp_addr, int32_t period) {
  struct mk_cp *cp = mk_cp_find(mk, cp_addr);
  if (!mk_cp_active(cp, period))
    return false;
  for (struct mk_conn *c = cp->conns; c; c = c->hh_cp.next)
    if (conn_at_cp(c, cp, period) && conn_of_agr(c, agr, period))
      return true;
  return false;
}

/* ---- revisions -------------------------------------------------------------- */

static struct mk_sender *sender_get(struct fx_market *mk, const char *domain, enum fx_role role, bool create) {
  char key[MK_DOMAIN + 4];
  snprintf(key, sizeof key, "%s|%s", domain, fx_role_name(role));
  struct mk_sender *s;
  HASH_FIND_STR(mk->senders, key, s);
  if (s || !create)
    return s;
  if (!(s = calloc(1, sizeof *s)))
    return NULL;
  strcpy(s->key, key);
  s->ts_us = INT64_MIN;
  HASH_ADD_STR(mk->senders, key, s);
  return s;
}

/* Closed mode and revision order, common to both updates. */
static bool update_allowed(struct fx_market *mk, const struct fx_msg *m, enum fx_role role, struct fx_verdict *v) {
  if (mk->cfg->closed && !mk_is_registered(mk, m->hdr.sender_domain, role))
    fx_verdict_add(v, MK_R_UNAUTHORIZED);
  struct mk_sender *s = sender_get(mk, m->hdr.sender_domain, role, false);
  if (s && m->hdr.timestamp.usec < s->ts_us)
    fx_verdict_add(v, MK_R_SUBORDINATE);
  return fx_verdict_ok(v);
}

static void note_update(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, enum fx_role role) {
  struct mk_sender *s = sender_get(mk, m->hdr.sender_domain, role, true);
  if (s)
    s->ts_us = m->hdr.timestamp.usec;
  struct fx_store_ref r = {.kind = FX_REF_PARTICIPANT, .k1 = m->hdr.sender_domain, .k2 = fx_role_name(role),
                           .role = (uint8_t)role, .t_us = m->hdr.timestamp.usec};
  fx_store_batch_put_ref(fx_seq_batch(ctx), &r);
}

static int32_t end_of(bool has, const struct fx_date *d) { return has ? fx_date_to_days(d) : MK_OPEN_END; }

/* ---- DSOPortfolioUpdate ------------------------------------------------------- */

static void put_cp(struct fx_market *mk, struct fx_seq_ctx *ctx, const char *dso,
                   const struct fx_dso_congestion_point *p) {
  struct mk_cp *cp = mk_cp_find(mk, p->entity_address);
  if (!cp && (cp = calloc(1, sizeof *cp))) {
    snprintf(cp->addr, sizeof cp->addr, "%s", p->entity_address);
    HASH_ADD_STR(mk->cps, addr, cp);
  }
  if (!cp)
    return;
  snprintf(cp->dso, sizeof cp->dso, "%s", dso);
  cp->from = fx_date_to_days(&p->start_period);
  cp->to = end_of(p->has_end_period, &p->end_period);
  cp->mutex = p->mutex_offers_supported;
  cp->day_ahead = (uint8_t)p->day_ahead_redispatch_by, cp->intraday = (uint8_t)p->intraday_redispatch_by;
  uint8_t *body = fx_seq_alloc(ctx, 3);
  if (!body)
    return;
  body[0] = cp->mutex, body[1] = cp->day_ahead, body[2] = cp->intraday;
  struct fx_store_ref r = {.kind = FX_REF_CP, .k1 = p->entity_address, .k2 = "", .owner = dso,
                           .role = FX_ROLE_DSO, .from = cp->from, .to = cp->to, .body = body, .body_len = 3};
  fx_store_batch_put_ref(fx_seq_batch(ctx), &r);
  for (size_t i = 0; i < p->n_connections; i++) {
    const struct fx_portfolio_connection *pc = &p->connections[i];
    struct mk_conn *c = conn_get(mk, pc->entity_address, true);
    if (!c)
      continue;
    c->has_cp = true;
    snprintf(c->cp, sizeof c->cp, "%s", p->entity_address);
    c->cp_from = fx_date_to_days(&pc->start_period);
    c->cp_to = end_of(pc->has_end_period, &pc->end_period);
    conn_place(c, cp);
    struct fx_store_ref cr = {.kind = FX_REF_CONNECTION, .k1 = pc->entity_address, .k2 = "cp",
                              .owner = p->entity_address, .role = FX_ROLE_DSO, .from = c->cp_from, .to = c->cp_to};
    fx_store_batch_put_ref(fx_seq_batch(ctx), &cr);
  }
}

static void dso_update(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, struct fx_verdict *v) {
  if (!update_allowed(mk, m, FX_ROLE_DSO, v))
    return;
  const struct fx_dso_portfolio_update *u = &m->u.dso_portfolio_update;
  /* A CP belongs to the DSO that published it first. */
  for (size_t i = 0; i < u->n_congestion_points; i++) {
    struct mk_cp *cp = mk_cp_find(mk, u->congestion_points[i].entity_address);
    if (cp && strcmp(cp->dso, m->hdr.sender_domain) != 0)
      fx_verdict_add(v, FX_R_INVALID_CONGESTION_POINT);
  }
  if (!fx_verdict_ok(v))
    return;
  for (size_t i = 0; i < u->n_congestion_points; i++)
    put_cp(mk, ctx, m->hdr.sender_domain, &u->congestion_points[i]);
  note_update(mk, ctx, m, FX_ROLE_DSO);
}

/* ---- AGRPortfolioUpdate -------------------------------------------------------- */

static void agr_update(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, struct fx_verdict *v) {
  if (!update_allowed(mk, m, FX_ROLE_AGR, v))
    return;
  const struct fx_agr_portfolio_update *u = &m->u.agr_portfolio_update;
  for (size_t i = 0; i < u->n_connections; i++) {
    const struct fx_portfolio_connection *pc = &u->connections[i];
    struct mk_conn *c = conn_get(mk, pc->entity_address, true);
    if (!c)
      continue;
    c->has_agr = true;
    snprintf(c->agr, sizeof c->agr, "%s", m->hdr.sender_domain);
    c->agr_from = fx_date_to_days(&pc->start_period);
    c->agr_to = end_of(pc->has_end_period, &pc->end_period);
    struct fx_store_ref r = {.kind = FX_REF_CONNECTION, .k1 = pc->entity_address, .k2 = "agr",
                             .owner = m->hdr.sender_domain, .role = FX_ROLE_AGR, .from = c->agr_from,
                             .to = c->agr_to};
    fx_store_batch_put_ref(fx_seq_batch(ctx), &r);
  }
  note_update(mk, ctx, m, FX_ROLE_AGR);
}

/* ---- AGRPortfolioQuery ---------------------------------------------------------- */

struct apq_row {
  const char *dso, *cp, *ea;
};

static int apq_cmp(const void *a, const void *b) {
  const struct apq_row *x = a, *y = b;
  int c = strcmp(x->dso, y->dso);
  if (!c)
    c = strcmp(x->cp, y->cp);
  return c ? c : strcmp(x->ea, y->ea);
}

/* The XSD wants at least one DSO-Portfolio with one CongestionPoint with one
 * Connection even when there is nothing to say (a rejection, or an AGR whose
 * connections no DSO has allocated): flexd then sends one placeholder portfolio
 * (DSODomain = the platform, addresses PLACEHOLDER_EA) that names nothing real. */
static struct fx_dso_portfolio *placeholder(struct fx_market *mk, struct fx_seq_ctx *ctx) {
  struct fx_dso_portfolio *p = fx_seq_alloc(ctx, sizeof *p);
  struct fx_agr_congestion_point *cp = fx_seq_alloc(ctx, sizeof *cp);
  struct fx_entity_ref *c = fx_seq_alloc(ctx, sizeof *c);
  if (!p || !cp || !c)
    return NULL;
  *c = (struct fx_entity_ref){PLACEHOLDER_EA};
  *cp = (struct fx_agr_congestion_point){.entity_address = PLACEHOLDER_EA,
                                         .day_ahead_redispatch_by = FX_REDISPATCH_DSO,
                                         .connections = c, .n_connections = 1};
  *p = (struct fx_dso_portfolio){.dso_domain = mk->cfg->domain, .congestion_points = cp, .n_congestion_points = 1};
  return p;
}

/* Groups sorted rows (dso, cp, ea) into DSO-Portfolio/CongestionPoint/Connection. */
static int apq_group(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct apq_row *rows, size_t n,
                     struct fx_dso_view *view) {
  view->dso_portfolios = fx_seq_alloc(ctx, n * sizeof *view->dso_portfolios);
  struct fx_agr_congestion_point *cps = fx_seq_alloc(ctx, n * sizeof *cps);
  struct fx_entity_ref *conns = fx_seq_alloc(ctx, n * sizeof *conns);
  if (!view->dso_portfolios || !cps || !conns)
    return -1;
  size_t np = 0, nc = 0;
  for (size_t i = 0; i < n; i++) {
    bool new_dso = i == 0 || strcmp(rows[i].dso, rows[i - 1].dso);
    bool new_cp = new_dso || strcmp(rows[i].cp, rows[i - 1].cp);
    if (new_dso)
      view->dso_portfolios[np++] = (struct fx_dso_portfolio){.dso_domain = rows[i].dso, .congestion_points = &cps[nc]};
    if (new_cp) {
      const struct mk_cp *cp = mk_cp_find(mk, rows[i].cp);
      cps[nc] = (struct fx_agr_congestion_point){.entity_address = rows[i].cp, .mutex_offers_supported = cp->mutex,
                                                 .day_ahead_redispatch_by = cp->day_ahead ? cp->day_ahead : FX_REDISPATCH_DSO,
                                                 .intraday_redispatch_by = cp->intraday, .connections = &conns[i]};
      view->dso_portfolios[np - 1].n_congestion_points++;
      nc++;
    }
    conns[i].entity_address = rows[i].ea;
    cps[nc - 1].n_connections++;
  }
  view->n_dso_portfolios = np;
  return 0;
}

static void agr_query(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, struct fx_verdict *v,
                      struct fx_msg *resp) {
  const struct fx_agr_portfolio_query *q = &m->u.agr_portfolio_query;
  struct fx_agr_portfolio_query_response *r = &resp->u.agr_portfolio_query_response;
  int32_t p = fx_date_to_days(&q->period);
  r->time_zone = q->time_zone, r->period = q->period;
  struct fx_dso_view *view = fx_seq_alloc(ctx, sizeof *view);
  if (!view)
    return;
  r->dso_views = view, r->n_dso_views = 1;
  if (mk->cfg->closed && !mk_is_registered(mk, m->hdr.sender_domain, FX_ROLE_AGR))
    fx_verdict_add(v, MK_R_UNAUTHORIZED);
  size_t n = 0, nu = 0, cap = HASH_COUNT(mk->conns) + 1;
  struct apq_row *rows = fx_seq_alloc(ctx, cap * sizeof *rows);
  view->connections = fx_seq_alloc(ctx, cap * sizeof *view->connections);
  if (!rows || !view->connections)
    return;
  for (struct mk_conn *c = fx_verdict_ok(v) ? mk->conns : NULL; c; c = c->hh.next) {
    if (!conn_of_agr(c, m->hdr.sender_domain, p))
      continue;
    struct mk_cp *cp = c->has_cp ? mk_cp_find(mk, c->cp) : NULL;
    if (cp && conn_at_cp(c, cp, p))
      rows[n++] = (struct apq_row){cp->dso, cp->addr, c->ea};
    else
      view->connections[nu++].entity_address = c->ea;
  }
  view->n_connections = nu;
  if (fx_verdict_ok(v) && n + nu == 0)
    fx_verdict_add(v, MK_R_NO_CONNECTIONS);
  qsort(rows, n, sizeof *rows, apq_cmp);
  if (n && fx_verdict_ok(v) && apq_group(mk, ctx, rows, n, view) == 0)
    return;
  view->dso_portfolios = placeholder(mk, ctx);
  view->n_dso_portfolios = view->dso_portfolios ? 1 : 0;
}

/* ---- DSOPortfolioQuery ------------------------------------------------------------ */

/* The DSO learns, for its own CP, which of the connections it published are
 * represented by an AGR on that day, and so how many (the 3.1.0 response's
 * only shape); by which AGR only where [market] dso_sees_agr_per_connection
 * allows it (the privacy guideline: aggregate counts, not identities).
 * Nothing about other DSOs' CPs or about connections it did not publish. */
static void dso_query(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, struct fx_verdict *v,
                      struct fx_msg *resp) {
  const struct fx_dso_portfolio_query *q = &m->u.dso_portfolio_query;
  struct fx_dso_portfolio_query_response *r = &resp->u.dso_portfolio_query_response;
  int32_t p = fx_date_to_days(&q->period);
  r->time_zone = q->time_zone, r->period = q->period;
  if (mk->cfg->closed && !mk_is_registered(mk, m->hdr.sender_domain, FX_ROLE_DSO))
    fx_verdict_add(v, MK_R_UNAUTHORIZED);
  struct mk_cp *cp = mk_cp_find(mk, q->entity_address);
  if (fx_verdict_ok(v) && (!cp || strcmp(cp->dso, m->hdr.sender_domain) || !mk_cp_active(cp, p)))
    fx_verdict_add(v, FX_R_INVALID_CONGESTION_POINT);
  if (!fx_verdict_ok(v))
    return;
  size_t n = 0, cap = HASH_CNT(hh_cp, cp->conns);
  struct fx_dso_query_connection *qc = fx_seq_alloc(ctx, (cap + 1) * sizeof *qc);
  struct fx_dso_query_congestion_point *qcp = fx_seq_alloc(ctx, sizeof *qcp);
  if (!qc || !qcp)
    return;
  for (struct mk_conn *c = cp->conns; c; c = c->hh_cp.next)
    if (conn_at_cp(c, cp, p) && c->has_agr && c->agr_from <= p && p < c->agr_to)
      qc[n++] = (struct fx_dso_query_connection){c->ea, mk->cfg->dso_sees_agr_per_connection ? c->agr : NULL};
  if (!n) {
    fx_verdict_add(v, MK_R_NO_CONNECTIONS);
    return;
  }
  *qcp = (struct fx_dso_query_congestion_point){cp->addr, qc, n};
  r->congestion_point = qcp, r->n_congestion_point = 1;
}

void mk_cro_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v,
                  struct fx_msg *resp) {
  const struct fx_msg *m = in->msg;
  switch (m->type) {
  case FX_MSG_DSO_PORTFOLIO_UPDATE: dso_update(mk, ctx, m, v); break;
  case FX_MSG_AGR_PORTFOLIO_UPDATE: agr_update(mk, ctx, m, v); break;
  case FX_MSG_AGR_PORTFOLIO_QUERY:
    if (resp)
      agr_query(mk, ctx, m, v, resp);
    break;
  case FX_MSG_DSO_PORTFOLIO_QUERY:
    if (resp)
      dso_query(mk, ctx, m, v, resp);
    break;
  default: break;
  }
}

/* ---- restart ------------------------------------------------------------------------ */

int mk_cro_load_ref(struct fx_market *mk, const struct fx_store_ref_view *rv) {
  const char *k1 = fx_store_ref_k1(rv), *k2 = fx_store_ref_k2(rv), *owner = fx_store_ref_owner(rv);
  switch (fx_store_ref_kind(rv)) {
  case FX_REF_CP: {
    struct mk_cp *cp = calloc(1, sizeof *cp);
    size_t len;
    const uint8_t *b = fx_store_ref_body(rv, &len);
    if (!cp)
      return -1;
    snprintf(cp->addr, sizeof cp->addr, "%s", k1);
    snprintf(cp->dso, sizeof cp->dso, "%s", owner);
    cp->from = fx_store_ref_from(rv), cp->to = fx_store_ref_to(rv);
    if (len >= 3)
      cp->mutex = b[0], cp->day_ahead = b[1], cp->intraday = b[2];
    HASH_ADD_STR(mk->cps, addr, cp);
    return 0;
  }
  case FX_REF_CONNECTION: {
    struct mk_conn *c = conn_get(mk, k1, true);
    if (!c)
      return -1;
    if (!strcmp(k2, "cp")) {
      c->has_cp = true;
      snprintf(c->cp, sizeof c->cp, "%s", owner);
      c->cp_from = fx_store_ref_from(rv), c->cp_to = fx_store_ref_to(rv);
      conn_place(c, mk_cp_find(mk, owner)); /* CP records are read first */
    } else {
      c->has_agr = true;
      snprintf(c->agr, sizeof c->agr, "%s", owner);
      c->agr_from = fx_store_ref_from(rv), c->agr_to = fx_store_ref_to(rv);
    }
    return 0;
  }
  case FX_REF_PARTICIPANT: {
    struct mk_sender *s = sender_get(mk, k1, (enum fx_role)fx_role_from_name(k2), true);
    if (!s)
      return -1;
    s->ts_us = fx_store_ref_t_us(rv);
    return 0;
  }
  default: return 0;
  }
}
