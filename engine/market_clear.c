/* market_clear.c — clearing a local market and placing its FlexOrders.
 *
 * The solver (engine/clear.h) sees the market's latest request, the offers
 * still open (not expired at the clearing instant, not revoked, not ordered,
 * in the market's currency) in arrival order, and as `base` the power of the
 * orders already placed and not rejected, so a re-clearing (new request
 * revision, rejected order) buys only what is still needed.
 *
 * Each chosen (offer, option, factor) becomes one FlexOrder to the offer's AGR,
 * signed as the DSO's market, in the offer's conversation: the option's ISPs
 * with Start and Duration as offered and Power scaled by the factor with the
 * solver's rounding, the solver's rounded price, the offer's OptionReference,
 * ContractID, D-PrognosisMessageID and BaselineReference, and the order's own
 * MessageID as OrderReference (unique by construction).
 *
 *   ORDER object: id = FlexOrder MessageID, ref = offer, owner AGR, body = its XML */
#include <glpk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"
#include "engine/log.h"

int mk_offer_options(struct mk_offer *o, int n_isps) {
  o->options = mk_option_view(o->arena, &o->msg->u.flex_offer, n_isps);
  return o->options ? 0 : -1;
}

struct fx_clear_option *mk_option_view(fx_arena *arena, const struct fx_flex_offer *fo, int n_isps) {
  struct fx_clear_option *options = fx_arena_alloc(arena, fo->n_offer_options * sizeof *options);
  if (!options)
    return NULL;
  for (size_t i = 0; i < fo->n_offer_options; i++) {
    const struct fx_offer_option *oo = &fo->offer_options[i];
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t j = 0; j < oo->n_isps; j++) {
      if (oo->isps[j].start < lo)
        lo = oo->isps[j].start;
      if (oo->isps[j].start + oo->isps[j].duration > hi)
        hi = oo->isps[j].start + oo->isps[j].duration;
    }
    if (lo < 1 || hi - 1 > n_isps)
      return NULL; /* "ISPs out of bounds" is checked before the market sees it */
    int64_t *p = fx_arena_alloc(arena, (size_t)(hi - lo) * sizeof *p);
    if (!p)
      return NULL;
    for (size_t j = 0; j < oo->n_isps; j++)
      for (int64_t k = oo->isps[j].start; k < oo->isps[j].start + oo->isps[j].duration; k++)
        p[k - lo] = oo->isps[j].power;
    options[i] = (struct fx_clear_option){.price = oo->price, .min_af = oo->min_activation_factor,
                                          .first_isp = (size_t)(lo - 1), .n_power = (size_t)(hi - lo), .power = p};
  }
  return options;
}

/* ---- the solver's view ------------------------------------------------------------ */

static bool order_live(const struct mk_order *o) { return o->state != FX_ORDER_REJECTED; }

static int view_base(struct mk_market *m, struct mk_clear_view *cv) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_orders; i++)
    n += order_live(&m->orders[i]);
  if (!n)
    return 0;
  struct fx_clear_placed *pl = calloc(n, sizeof *pl);
  cv->base = calloc((size_t)m->n_isps, sizeof *cv->base);
  if (!pl || !cv->base) {
    free(pl);
    return -1;
  }
  n = 0;
  for (size_t i = 0; i < m->n_orders; i++)
    if (order_live(&m->orders[i]))
      pl[n++] = (struct fx_clear_placed){&m->offers[m->orders[i].offer]->options[m->orders[i].option],
                                         m->orders[i].factor};
  int rc = fx_clear_residual(&cv->cm, pl, n, cv->base, NULL);
  free(pl);
  cv->cm.base = cv->base;
  return rc == 0 ? 0 : -1;
}

int mk_clear_view(struct mk_market *m, int64_t now_us, const char *currency, struct mk_clear_view *cv) {
  memset(cv, 0, sizeof *cv);
  cv->cm.request = (struct fx_clear_request){(size_t)m->n_isps, m->req->isps};
  cv->offers = calloc(m->n_offers + 1, sizeof *cv->offers);
  cv->idx = calloc(m->n_offers + 1, sizeof *cv->idx);
  if (!cv->offers || !cv->idx)
    return -1;
  for (size_t i = 0; i < m->n_offers; i++) {
    const struct mk_offer *o = m->offers[i];
    if (o->state != FX_OFFER_OPEN || o->expires_us <= now_us || (currency && strcmp(o->msg->u.flex_offer.currency, currency)))
      continue;
    cv->idx[cv->cm.n_offers] = i;
    cv->offers[cv->cm.n_offers++] = (struct fx_clear_offer){o->msg->u.flex_offer.n_offer_options, o->options};
  }
  cv->cm.offers = cv->offers;
  return view_base(m, cv);
}

void mk_clear_view_free(struct mk_clear_view *cv) {
  free(cv->offers);
  free(cv->idx);
  free(cv->base);
  memset(cv, 0, sizeof *cv);
}

/* ---- orders -------------------------------------------------------------------------- */

static struct fx_isp *order_isps(fx_arena *a, const struct fx_offer_option *oo, int factor) {
  struct fx_isp *isps = fx_arena_alloc(a, oo->n_isps * sizeof *isps);
  if (!isps)
    return NULL;
  for (size_t j = 0; j < oo->n_isps; j++)
    isps[j] = (struct fx_isp){fx_clear_order_power(oo->isps[j].power, factor), oo->isps[j].start, oo->isps[j].duration};
  return isps;
}

int mk_build_order(const char *platform, int64_t now_us, fx_arena *a, const struct fx_msg *offer, int opt,
                   int factor, struct fx_msg *out) {
  const struct fx_flex_offer *fo = &offer->u.flex_offer;
  const struct fx_offer_option *oo = &fo->offer_options[opt];
  struct fx_flex_order *fr = &out->u.flex_order;
  char *ref = fx_arena_alloc(a, FX_UUID_STRLEN);
  memset(out, 0, sizeof *out);
  out->type = FX_MSG_FLEX_ORDER;
  out->hdr = (struct fx_msg_header){.version = "3.1.0", .sender_domain = platform,
                                    .recipient_domain = offer->hdr.sender_domain, .timestamp = {now_us, 0},
                                    .conversation_id = offer->hdr.conversation_id};
  fx_uuid_derive(&out->hdr.message_id, "flexd.order", &offer->hdr.message_id, NULL); /* one order per offer */
  fr->flex = fo->flex;
  fr->has_unsolicited = fo->has_unsolicited, fr->unsolicited = fo->unsolicited;
  fr->has_flex_offer_message_id = true, fr->flex_offer_message_id = offer->hdr.message_id;
  fr->contract_id = fo->contract_id, fr->baseline_reference = fo->baseline_reference;
  fr->has_d_prognosis_message_id = fo->has_d_prognosis_message_id, fr->d_prognosis_message_id = fo->d_prognosis_message_id;
  fr->price = fx_clear_order_price(oo->price, factor);
  fr->currency = fo->currency;
  fr->option_reference = oo->option_reference;
  fr->activation_factor = (fx_factor)factor;
  fr->isps = order_isps(a, oo, factor), fr->n_isps = oo->n_isps;
  if (!ref || !fr->isps)
    return -1;
  fx_uuid_format(&out->hdr.message_id, ref);
  fr->order_reference = ref;
  return 0;
}

static const char *dup_owner(struct fx_seq_ctx *ctx, const char *s) {
  char *p = fx_seq_alloc(ctx, strlen(s) + 1);
  return p ? strcpy(p, s) : NULL;
}

static int place_order(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, size_t offer, int opt,
                       int factor) {
  struct mk_offer *o = m->offers[offer];
  struct fx_msg msg;
  fx_arena *a = fx_arena_new(0); /* the order's arrays live until it is written */
  if (!a || mk_build_order(mk->cfg->domain, fx_seq_now(ctx), a, o->msg, opt, factor, &msg) != 0 ||
      fx_seq_send(ctx, &msg, FX_ROLE_AGR, FX_ROLE_DSO) != 0) {
    fx_arena_free(a);
    return -1;
  }
  struct mk_order ord = {.id = msg.hdr.message_id, .offer = offer, .option = opt, .factor = factor,
                         .price = msg.u.flex_order.price, .state = FX_ORDER_PLACED};
  snprintf(ord.agr, sizeof ord.agr, "%s", o->agr);
  snprintf(ord.reference, sizeof ord.reference, "%s", msg.u.flex_order.order_reference);
  if (mk_market_push_order(m, &ord) != 0 || mk_id_add(mk, &ord.id, MK_ID_ORDER, m, NULL, m->n_orders - 1) != 0)
    return -1;
  size_t len;
  const void *body = mk_body_xml(mk, ctx, &msg, &len);
  struct fx_store_obj so = {.key = {.cp = m->cp, .period = m->period, .kind = FX_OBJ_ORDER},
                            .state = FX_ORDER_PLACED, .t_us = fx_seq_now(ctx), .ref = o->id.b,
                            .owner = dup_owner(ctx, o->agr), .body = body, .body_len = len};
  memcpy(so.key.id, ord.id.b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &so);
  fx_arena_free(a);
  o->state = FX_OFFER_ORDERED;
  mk_set_state(ctx, m, FX_OBJ_OFFER, &o->id, FX_OFFER_ORDERED);
  return 0;
}

/* Offers whose ExpirationDateTime has passed leave the market for good. */
static void expire_offers(struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us) {
  for (size_t i = 0; i < m->n_offers; i++) {
    struct mk_offer *o = m->offers[i];
    if (o->state == FX_OFFER_OPEN && o->expires_us <= now_us) {
      o->state = FX_OFFER_EXPIRED;
      mk_set_state(ctx, m, FX_OBJ_OFFER, &o->id, FX_OFFER_EXPIRED);
    }
  }
}

int mk_clear_market(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us) {
  if (!m->req || m->req->state == FX_REQ_SUPERSEDED)
    return 0;
  expire_offers(ctx, m, now_us);
  struct mk_clear_view cv;
  struct fx_clear_result res;
  int n = -1;
  if (mk_clear_view(m, now_us, mk->cfg->currency, &cv) == 0 && fx_clear_solve(&cv.cm, NULL, &res) == 0) {
    n = 0;
    for (size_t i = 0; i < res.n_orders; i++)
      if (place_order(mk, ctx, m, cv.idx[res.orders[i].offer], (int)res.orders[i].option, res.orders[i].factor) == 0)
        n++;
    m->need = res.need, m->coverage = res.coverage, m->cost = res.cost;
    m->coverage_gap = res.coverage_gap, m->cost_gap = res.cost_gap;
    fx_clear_result_free(&res);
  } else {
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "clearing_failed",
                FX_LOG_KV(FX_LS("market", m->key)),
                "market %s: clearing failed", m->key);
  }
  mk_clear_view_free(&cv);
  /* GLPK keeps a per-thread environment that nothing frees when the
   * sequencer thread ends; the solver holds no GLPK object between calls. */
  glp_free_env();
  m->cleared = true;
  if (m->req->state == FX_REQ_OPEN) {
    m->req->state = FX_REQ_CLEARED;
    mk_set_state(ctx, m, FX_OBJ_REQUEST, &m->req->id, FX_REQ_CLEARED);
  }
  return n;
}

void mk_order_from_msg(struct fx_market *mk, struct mk_market *m, const struct fx_msg *src, uint8_t state) {
  const struct fx_flex_order *fr = &src->u.flex_order;
  struct mk_id *e = mk_id_find(mk, &fr->flex_offer_message_id);
  if (!e || e->kind != MK_ID_OFFER || e->market != m)
    return;
  const struct fx_flex_offer *fo = &m->offers[e->index]->msg->u.flex_offer;
  int opt = -1;
  for (size_t i = 0; i < fo->n_offer_options && opt < 0; i++)
    if (fr->option_reference && !strcmp(fo->offer_options[i].option_reference, fr->option_reference))
      opt = (int)i;
  if (opt < 0)
    return;
  struct mk_order o = {.id = src->hdr.message_id, .offer = e->index, .option = opt,
                       .factor = fr->activation_factor, .price = fr->price, .state = state};
  snprintf(o.agr, sizeof o.agr, "%s", src->hdr.recipient_domain);
  snprintf(o.reference, sizeof o.reference, "%s", fr->order_reference);
  if (mk_market_push_order(m, &o) == 0)
    mk_id_add(mk, &o.id, MK_ID_ORDER, m, NULL, m->n_orders - 1);
}

/* ---- commands ----------------------------------------------------------------------------- */

void fx_market_run_due(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market *mk = market;
  mk_group_begin(mk, ctx);
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    if (m->req && m->req->state == FX_REQ_OPEN && !m->cleared && mk_clearing_time(mk, m) <= cmd->now_us)
      mk_clear_market(mk, ctx, m, cmd->now_us);
  mk_group_end(mk);
}

void fx_market_run_clear(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market *mk = market;
  struct fx_market_target *t = cmd->arg;
  mk_group_begin(mk, ctx);
  struct mk_market *m = mk_market_get(mk, t->cp, t->period, false);
  t->found = m && m->req && m->req->state != FX_REQ_SUPERSEDED;
  t->n_orders = t->found ? mk_clear_market(mk, ctx, m, cmd->now_us) : 0;
  mk_group_end(mk);
}
