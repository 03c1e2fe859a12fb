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
 * The solver runs either here on the sequencer thread (clear_inline), or, once
 * fx_market_clearing_start was called (flexd serve), on the clearing thread
 * on a snapshot, its result checked and placed by a later command (the part
 * "clearing off the sequencer thread" below). Both place the same orders.
 *
 *   ORDER object: id = FlexOrder MessageID, ref = offer, owner AGR, body = its XML */
#include <glpk.h>
#include <math.h>
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

static bool order_live(const struct mk_order *o) { return mk_order_state_live(o->state); }

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
                         .price = msg.u.flex_order.price, .state = FX_ORDER_PLACED, .placed_us = fx_seq_now(ctx)};
  snprintf(ord.agr, sizeof ord.agr, "%s", o->agr);
  snprintf(ord.reference, sizeof ord.reference, "%s", msg.u.flex_order.order_reference);
  if (mk_market_push_order(m, &ord) != 0 || mk_id_add(mk, &ord.id, MK_ID_ORDER, m, NULL, m->n_orders - 1) != 0)
    return -1;
  mk_orders_changed(mk, m);
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

/* What a clearing found, kept on the market for the query API, and logged
 * for the operator (event clearing_done): what it ordered and covered, its
 * proven gaps in millionths, whether a budget stopped it, the
 * branch-and-bound's nodes and the solve's time on the clearing thread
 * (-1 where the sequencer solved it inline, without a runner). */
static void note_result(const struct fx_market *mk, struct mk_market *m,
                        const struct fx_clear_result *res, int64_t solve_us) {
  m->need = res->need, m->coverage = res->coverage, m->cost = res->cost;
  m->coverage_gap = res->coverage_gap, m->cost_gap = res->cost_gap;
  fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_INFO, "clearing_done",
              FX_LOG_KV(FX_LS("market", m->key), FX_LN("orders", res->n_orders),
                        FX_LN("need_w", res->need), FX_LN("coverage_w", res->coverage),
                        FX_LN("cost", res->cost), FX_LN("coverage_gap_ppm", llround(res->coverage_gap * 1e6)),
                        FX_LN("cost_gap_ppm", llround(res->cost_gap * 1e6)),
                        FX_LN("budget_hit", res->budget_hit), FX_LN("nodes", res->bb_nodes),
                        FX_LN("solve_us", solve_us)),
              "market %s: cleared, %zu orders, proven gaps %.3f %% coverage and %.3f %% cost", m->key,
              res->n_orders, 100 * res->coverage_gap, 100 * res->cost_gap);
}

/* ---- re-clearings that survive a restart ----
 *
 * A request once CLEARED stays so in the store (the store allows no way back
 * to OPEN), yet a rejected or expired order, or a clearing queued for the
 * thread, means the market must be cleared again even if the process stops
 * before that result commits. So each market has two store counters, raised
 * in the groups that ask for a clearing (m->asked) and that commit one
 * (m->answered: the asks its snapshot covered). A market read from the store
 * with asked > answered is due again at once. */

static void reclear_counter(const struct mk_market *m, const char *what, char out[48]) {
  struct fx_uuid zero = {{0}}, h;
  char text[FX_UUID_STRLEN];
  fx_uuid_derive(&h, "flexd.reclear", &zero, m->key);
  fx_uuid_format(&h, text);
  snprintf(out, 48, "mk.%s.%s", what, text);
}

static void raise_counter(struct fx_seq_ctx *ctx, const struct mk_market *m, const char *what, uint64_t v) {
  char *name = fx_seq_alloc(ctx, 48); /* the batch refers to it until the commit */
  if (!name) /* the group's arena is gone: the group fails to commit anyway */
    return;
  reclear_counter(m, what, name);
  fx_store_batch_counter_raise(fx_seq_batch(ctx), name, v);
}

/* m must be cleared again beyond this group: durable with it. */
static void ask(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m) {
  m->cleared = false;
  raise_counter(ctx, m, "ask", ++m->asked);
  mk_deadline_mark(mk, m);
}

int mk_reclear_read(struct fx_market *mk, struct fx_store_read *rd, struct mk_market *m) {
  (void)mk;
  char name[48];
  reclear_counter(m, "ask", name);
  if (fx_store_counter_get(rd, name, &m->asked) != 0)
    return -1;
  reclear_counter(m, "ans", name);
  if (fx_store_counter_get(rd, name, &m->answered) != 0)
    return -1;
  if (m->asked > m->answered)
    m->cleared = false;
  return 0;
}

void mk_orders_changed(struct fx_market *mk, struct mk_market *m) {
  m->gen = ++mk->gen_seq;
  mk_deadline_mark(mk, m);
}

bool mk_clearing_due(struct fx_market *mk, const struct mk_market *m) {
  return m->req && (m->req->state == FX_REQ_OPEN || m->req->state == FX_REQ_CLEARED) && !m->cleared &&
         !mk_clearing(mk, m);
}

int64_t mk_clearing_due_at(struct fx_market *mk, const struct mk_market *m) {
  int64_t t = m->req->state == FX_REQ_CLEARED ? 0 : mk_clearing_time(mk, m); /* 0: the epoch, long past */
  return m->retry_us > t ? m->retry_us : t; /* a failed clearing waits for its back-off */
}

/* The request has been cleared, and with it the asks up to `covered`: it
 * leaves the deadline's list until a new revision or a rejected order brings
 * it back. */
static void mark_cleared(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, uint64_t covered) {
  if (m->clear_fails)
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_INFO, "clearing_recovered",
                FX_LOG_KV(FX_LS("market", m->key), FX_LN("failed", m->clear_fails)),
                "market %s: cleared after %d failed attempt(s)", m->key, m->clear_fails);
  m->clear_fails = 0, m->retry_us = 0;
  mk_deadline_mark(mk, m);
  m->cleared = m->asked <= covered;
  if (covered > m->answered)
    raise_counter(ctx, m, "ans", m->answered = covered);
  if (m->req && m->req->state == FX_REQ_OPEN) {
    m->req->state = FX_REQ_CLEARED;
    mk_set_state(ctx, m, FX_OBJ_REQUEST, &m->req->id, FX_REQ_CLEARED);
  }
}

/* ---- when a clearing fails ----
 *
 * The solver returned an error (FX_CLEAR_E*: out of memory, the LP library,
 * or a market beyond the solver's limits), or no snapshot could be made.
 * Nothing is placed and nothing counts as cleared: the request keeps its
 * state and the asks stay unanswered in the store, so a restart tries at
 * once. Until then the market is due again after a back-off (MK_RETRY_FIRST_US,
 * doubling, at most MK_RETRY_MAX_US) unless something clears it sooner (a
 * rejected or expired order, an operator). Logged once per run of failures
 * (and once when it clears again), each failure counted. */
#define MK_RETRY_FIRST_US (10 * 1000000LL)
#define MK_RETRY_MAX_US (300 * 1000000LL)

static void clear_failed(struct fx_market *mk, struct mk_market *m, int64_t now_us, int why) {
  int64_t wait = MK_RETRY_FIRST_US;
  for (int i = 0; i < m->clear_fails && wait < MK_RETRY_MAX_US; i++)
    wait *= 2;
  if (wait > MK_RETRY_MAX_US)
    wait = MK_RETRY_MAX_US;
  if (!m->clear_fails++)
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "clearing_failed",
                FX_LOG_KV(FX_LS("market", m->key), FX_LN("error", why), FX_LN("retry_s", wait / 1000000)),
                "market %s: clearing failed (error %d); tried again in %lld s, then with back-off", m->key, why,
                (long long)(wait / 1000000));
  m->retry_us = now_us + wait;
  m->cleared = false;
  mk->clear_failed_pending++;
  mk_deadline_mark(mk, m);
}

/* The clearing as it ran before the clearing thread: solve here, place now. */
static int clear_inline(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us) {
  struct mk_clear_view cv;
  struct fx_clear_result res;
  int n = -1;
  int rc = mk_clear_view(m, now_us, mk->cfg->currency, &cv) == 0 ? fx_clear_solve(&cv.cm, &mk->cfg->clear, &res)
                                                                  : FX_CLEAR_ENOMEM;
  if (rc == 0 && mk->fail_inline) { /* the tests' stand-in for a failing LP library */
    mk->fail_inline--;
    fx_clear_result_free(&res);
    rc = FX_CLEAR_ESOLVER;
  }
  if (rc == 0) {
    n = 0;
    for (size_t i = 0; i < res.n_orders; i++)
      if (place_order(mk, ctx, m, cv.idx[res.orders[i].offer], (int)res.orders[i].option, res.orders[i].factor) == 0)
        n++;
    note_result(mk, m, &res, -1); /* inline: not timed */
    fx_clear_result_free(&res);
  }
  mk_clear_view_free(&cv);
  /* GLPK keeps a per-thread environment that nothing frees when the
   * sequencer thread ends; the solver holds no GLPK object between calls. */
  glp_free_env();
  if (rc == 0) {
    mark_cleared(mk, ctx, m, m->asked);
  } else { /* asked, so that a restart tries again even for a request once cleared */
    ask(mk, ctx, m);
    clear_failed(mk, m, now_us, rc);
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

/* ---- clearing off the sequencer thread ------------------------------------------------------
 *
 * With a clearing thread (fx_market_clearing_start) a clearing is three steps:
 *   1. on the sequencer (a command or a message): expire offers, copy the
 *      solver's view into a self-contained snapshot (request ISPs, base,
 *      every open offer's options and power, each offer's MessageID and the
 *      request revision), mark the market and queue the snapshot;
 *   2. on the clearing thread: fx_clear_solve on the snapshot;
 *   3. back on the sequencer, as a command (result_run): if the request is
 *      the same revision, the market's orders the same generation (the
 *      snapshot's base still holds) and every chosen offer is still open,
 *      place the orders exactly as the inline clearing does. Otherwise the
 *      result is stale (a revocation, a rejected order or a new revision
 *      crossed it; the crossing wins): nothing of it is placed and, when the
 *      market still needs it, it is cleared again from a fresh snapshot.
 *      The MK_CLEAR_RETRIES-th stale result in a row places its still-valid
 *      orders (when they keep the request's bounds) and the residual need is
 *      cleared again.
 * The mark (mk->clearing) keeps a market from being queued twice; a clearing
 * asked for while one is under way (a rejected order, a new revision) runs
 * once that result is in. Operators (fx_market_run_clear) wait for the
 * final result: their command's done() is held back (struct mk_waiter). */

/* The stale result in a row whose still-valid part is placed (the third). */
#define MK_CLEAR_RETRIES 3

/* An operator waiting for a clearing. Its command's own done() and arg are
 * kept here until the clearing's result has committed; both halves (the
 * operator's command back from its group, the result back from its own)
 * run on the loop thread, and whichever comes second answers. */
struct mk_waiter {
  struct mk_waiter *next;
  struct fx_seq_command *cmd;
  void (*done)(struct fx_seq_command *cmd);
  void *arg; /* the caller's struct fx_market_target */
  int err;   /* the first failed commit of the two, or 0 */
  bool cmd_back, result_in;
};

struct mk_job {
  struct fx_clear_job run;   /* the clearing thread's part */
  struct fx_seq_command cmd; /* the result, back on the sequencer */
  struct fx_market *mk;
  char key[MK_ADDR + 16], cp[MK_ADDR];
  int32_t period;
  fx_arena *arena;           /* owns the snapshot */
  struct fx_clear_market cm; /* the snapshot */
  struct fx_uuid req;        /* the request revision it clears */
  uint64_t gen;              /* the market's live orders it saw (mk_market.gen) */
  uint64_t asked;            /* the market's asks its snapshot covers */
  struct fx_uuid *offer_ids; /* solver offer i → the offer's MessageID */
  int64_t now_us;            /* the clearing time */
  int attempt;               /* stale results before this one */
  int carried, placed;       /* orders placed by earlier rounds, by this one */
  bool dropped;              /* no result: the thread stopped first */
  bool stopped;              /* a clearing it had to start found the thread stopped */
  bool again;                /* cleared again once this result is in */
  bool ran, final;           /* result_run ran; waiters answered with this one */
  struct mk_waiter *waiters;
  UT_hash_handle hh;         /* in mk->clearing while in flight */
};

static struct mk_job *job_of(struct fx_market *mk, const char *key) {
  struct mk_job *j;
  HASH_FIND_STR(mk->clearing, key, j);
  return j;
}

bool mk_clearing(struct fx_market *mk, const struct mk_market *m) { return job_of(mk, m->key) != NULL; }

static void job_free(struct mk_job *j) {
  if (j->run.rc == 0 && !j->dropped)
    fx_clear_result_free(&j->run.result);
  fx_arena_free(j->arena);
  free(j);
}

static void *arena_copy(fx_arena *a, const void *src, size_t n) {
  void *p = fx_arena_alloc(a, n ? n : 1);
  if (p && n)
    memcpy(p, src, n);
  return p;
}

static int copy_offer(fx_arena *a, const struct fx_clear_offer *src, struct fx_clear_offer *dst) {
  struct fx_clear_option *opts = arena_copy(a, src->options, src->n_options * sizeof *opts);
  if (!opts)
    return -1;
  for (size_t k = 0; k < src->n_options; k++)
    if (!(opts[k].power = arena_copy(a, src->options[k].power, src->options[k].n_power * sizeof(int64_t))))
      return -1;
  *dst = (struct fx_clear_offer){src->n_options, opts};
  return 0;
}

/* The view's arrays point into the offers' arenas, which a revocation or a
 * reload after a failed commit may free while the thread reads: deep copy. */
static int snapshot(struct mk_job *j, const struct mk_market *m, const struct mk_clear_view *cv) {
  fx_arena *a = j->arena;
  size_t n_isps = cv->cm.request.n_isps, n = cv->cm.n_offers;
  struct fx_clear_offer *offers = fx_arena_alloc(a, (n ? n : 1) * sizeof *offers);
  const struct fx_clear_isp *isps = arena_copy(a, cv->cm.request.isps, n_isps * sizeof *isps);
  const int64_t *base = cv->base ? arena_copy(a, cv->base, n_isps * sizeof *base) : NULL;
  j->offer_ids = fx_arena_alloc(a, (n ? n : 1) * sizeof *j->offer_ids);
  if (!offers || !isps || (cv->base && !base) || !j->offer_ids)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (copy_offer(a, &cv->offers[i], &offers[i]) != 0)
      return -1;
    j->offer_ids[i] = m->offers[cv->idx[i]]->id;
  }
  j->cm = (struct fx_clear_market){{n_isps, isps}, n, offers, base};
  return 0;
}

static void job_solved(struct fx_clear_job *run, bool dropped);

static struct mk_job *job_new(struct fx_market *mk, struct mk_market *m, int64_t now_us) {
  struct mk_job *j = calloc(1, sizeof *j);
  if (!j)
    return NULL;
  j->mk = mk, j->now_us = now_us, j->period = m->period, j->req = m->req->id, j->gen = m->gen;
  j->run.rc = -1;
  snprintf(j->key, sizeof j->key, "%s", m->key);
  snprintf(j->cp, sizeof j->cp, "%s", m->cp);
  struct mk_clear_view cv;
  int rc = (j->arena = fx_arena_new(0)) ? mk_clear_view(m, now_us, mk->cfg->currency, &cv) : -1;
  if (rc == 0)
    rc = snapshot(j, m, &cv);
  if (j->arena)
    mk_clear_view_free(&cv);
  if (rc != 0) {
    job_free(j);
    return NULL;
  }
  j->run.market = &j->cm, j->run.params = mk->cfg->clear, j->run.done = job_solved, j->run.ud = j;
  return j;
}

/* Starts clearing m on the thread (offers expired first, as inline). 0, or
 * -1 (out of memory: the caller clears inline), or -2 (the thread has
 * stopped: not cleared now, the market stays due). On 0 the job owns
 * `waiters`; otherwise the caller keeps them. */
static int job_start(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us,
                     const struct mk_job *prev, struct mk_waiter *waiters) {
  expire_offers(ctx, m, now_us);
  struct mk_job *j = job_new(mk, m, now_us);
  if (!j)
    return -1;
  if (prev)
    j->attempt = prev->attempt + 1, j->carried = prev->carried + prev->placed;
  ask(mk, ctx, m); /* committed with this group: a restart clears m if this result never is */
  j->asked = m->asked;
  j->waiters = waiters;
  HASH_ADD_STR(mk->clearing, key, j); /* no longer due while it clears (marked by ask) */
  if (!fx_clear_runner_submit(mk->runner, &j->run)) {
    HASH_DEL(mk->clearing, j);
    j->waiters = NULL;
    job_free(j);
    m->cleared = true; /* in memory only: not retried before the restart, which finds the ask */
    return -2;
  }
  /* Operators (and the end-to-end test) see a clearing is under way. */
  fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_INFO, "clearing_started",
              FX_LOG_KV(FX_LS("market", m->key), FX_LN("offers", j->cm.n_offers), FX_LN("attempt", j->attempt)),
              "market %s: clearing started off the sequencer thread (%zu offers, attempt %d)", m->key,
              j->cm.n_offers, j->attempt);
  return 0;
}

/* ---- waiters (loop thread) ---- */

static void waiter_finish(struct mk_waiter *w) {
  struct fx_seq_command *cmd = w->cmd;
  void (*done)(struct fx_seq_command *) = w->done;
  cmd->done = done, cmd->arg = w->arg, cmd->store_err = w->err;
  free(w);
  if (done)
    done(cmd);
}

static void waiter_cmd_back(struct fx_seq_command *cmd) {
  struct mk_waiter *w = cmd->arg;
  w->cmd_back = true;
  if (!w->err)
    w->err = cmd->store_err;
  if (w->result_in)
    waiter_finish(w);
}

static void waiters_answer(struct mk_waiter *w, int err) {
  for (struct mk_waiter *t; w; w = t) {
    t = w->next;
    if (!w->err)
      w->err = err;
    w->result_in = true;
    if (w->cmd_back)
      waiter_finish(w);
  }
}

/* On the sequencer thread: the operator's command waits for the clearing. */
static int waiter_add(struct mk_waiter **list, struct fx_seq_command *cmd) {
  struct mk_waiter *w = calloc(1, sizeof *w);
  if (!w)
    return -1;
  w->cmd = cmd, w->done = cmd->done, w->arg = cmd->arg;
  cmd->done = waiter_cmd_back, cmd->arg = w;
  w->next = *list;
  *list = w;
  return 0;
}

/* ---- the result, back on the sequencer ---- */

/* Per order of the result, the offer's current index when it is still open
 * at now_us, else SIZE_MAX; returns how many are. */
static size_t still_open(struct fx_market *mk, struct mk_market *m, const struct mk_job *j, int64_t now_us,
                         size_t *at) {
  const struct fx_clear_result *res = &j->run.result;
  size_t n = 0;
  for (size_t i = 0; i < res->n_orders; i++) {
    struct mk_id *e = mk_id_find(mk, &j->offer_ids[res->orders[i].offer]);
    const struct mk_offer *o = e && e->kind == MK_ID_OFFER && e->market == m ? m->offers[e->index] : NULL;
    bool ok = o && o->state == FX_OFFER_OPEN && o->expires_us > now_us;
    at[i] = ok ? e->index : SIZE_MAX;
    n += ok;
  }
  return n;
}

/* Whether the still-open orders alone keep every constrained ISP of the
 * request within [min(MinPower, 0), max(MaxPower, 0)] on top of the orders
 * already placed (dropping a crossed order can break an Available bound
 * that its partner's rebound relied on). */
static bool subset_feasible(struct fx_market *mk, struct mk_market *m, const struct mk_job *j, const size_t *at,
                            int64_t now_us) {
  const struct fx_clear_result *res = &j->run.result;
  size_t n = (size_t)m->n_isps;
  int64_t *d = calloc(n ? n : 1, sizeof *d);
  struct mk_clear_view cv;
  bool ok = d && mk_clear_view(m, now_us, mk->cfg->currency, &cv) == 0;
  for (size_t i = 0; ok && i < res->n_orders; i++) {
    const struct fx_clear_option *op = &j->cm.offers[res->orders[i].offer].options[res->orders[i].option];
    for (size_t t = 0; at[i] != SIZE_MAX && t < op->n_power; t++)
      d[op->first_isp + t] += fx_clear_order_power(op->power[t], res->orders[i].factor);
  }
  for (size_t t = 0; ok && t < n; t++) {
    const struct fx_clear_isp *isp = &m->req->isps[t];
    int64_t tot = d[t] + (cv.base ? cv.base[t] : 0);
    int64_t lo = isp->min_power < 0 ? isp->min_power : 0, hi = isp->max_power > 0 ? isp->max_power : 0;
    ok = isp->disposition == FX_CLEAR_UNCONSTRAINED || d[t] == 0 || (tot >= lo && tot <= hi);
  }
  if (d)
    mk_clear_view_free(&cv);
  free(d);
  return ok;
}

static int place_open(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, const struct mk_job *j,
                      const size_t *at) {
  const struct fx_clear_result *res = &j->run.result;
  int n = 0;
  for (size_t i = 0; i < res->n_orders; i++)
    if (at[i] != SIZE_MAX &&
        place_order(mk, ctx, m, at[i], (int)res->orders[i].option, res->orders[i].factor) == 0)
      n++;
  return n;
}

static bool same_request(const struct mk_market *m, const struct mk_job *j) {
  return m->req && fx_uuid_equal(&m->req->id, &j->req) && m->req->state != FX_REQ_SUPERSEDED;
}

/* Clears m again from a fresh snapshot, or here when no snapshot could be
 * made. `follow`: j's result was stale, the new job continues it (its
 * attempt count, its waiters); else j is final and the new job starts anew.
 * True when j's waiters are now the new job's; a stopped thread leaves them
 * to be answered FX_STORE_EIO. */
static bool clear_again(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, struct mk_job *j,
                        int64_t now_us, bool follow) {
  int rc = job_start(mk, ctx, m, now_us, follow ? j : NULL, follow ? j->waiters : NULL);
  if (rc == 0 && follow)
    j->waiters = NULL;
  if (rc == -1) { /* out of memory for a snapshot (offers expired already): clear here */
    int n = clear_inline(mk, ctx, m, now_us);
    j->placed += n > 0 ? n : 0;
  }
  j->stopped = rc == -2;
  return rc == 0 && follow;
}

/* Decides what a solved clearing of m becomes (see the top of this part). */
static void settle_result(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, struct mk_job *j,
                          int64_t now_us) {
  const struct fx_clear_result *res = &j->run.result;
  size_t *at = j->run.rc == 0 ? calloc(res->n_orders + 1, sizeof *at) : NULL;
  if (!at) { /* the solver failed (or no memory to check its result): tried again */
    clear_failed(mk, m, now_us, j->run.rc ? j->run.rc : FX_CLEAR_ENOMEM);
    j->final = true;
    if (j->again) /* but what changed meanwhile is cleared next */
      clear_again(mk, ctx, m, j, now_us, false);
    return;
  }
  /* Fresh: the same request revision, the same live orders under it (the
   * snapshot's base), every chosen offer still open. */
  bool same = same_request(m, j);
  size_t open = still_open(mk, m, j, now_us, at);
  bool fresh = same && m->gen == j->gen && open == res->n_orders;
  if (fresh || (same && j->attempt + 1 >= MK_CLEAR_RETRIES && subset_feasible(mk, m, j, at, now_us)))
    j->placed = place_open(mk, ctx, m, j, at);
  free(at);
  if (fresh) {
    note_result(mk, m, res, j->run.solve_us);
    mark_cleared(mk, ctx, m, j->asked);
    j->final = true;
    if (j->again) /* what changed meanwhile (a rejected order) is cleared next */
      clear_again(mk, ctx, m, j, now_us, false);
    return;
  }
  /* Stale. Cleared again when the market still waits for it (the request
   * not cleared since, or asked again: a reload after a failed commit may
   * have undone the ask), an operator waits, or something asked meanwhile; a
   * new revision not yet due is cleared at its own clearing time. */
  bool due = m->req && !m->cleared && (m->req->state == FX_REQ_OPEN || m->req->state == FX_REQ_CLEARED) &&
             (same || mk_clearing_time(mk, m) <= now_us);
  bool redo = m->req && m->req->state != FX_REQ_SUPERSEDED && (due || j->waiters || j->again);
  j->final = !(redo && clear_again(mk, ctx, m, j, now_us, true));
}

static void result_run(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market *mk = market;
  struct mk_job *j = cmd->arg;
  mk_group_begin(mk, ctx);
  j->ran = true;
  if (job_of(mk, j->key) == j)
    HASH_DEL(mk->clearing, j);
  struct mk_market *m = j->dropped ? NULL : mk_market_get(mk, j->cp, j->period, false);
  if (m) { /* no longer being cleared: due again, or not */
    mk_deadline_mark(mk, m);
    settle_result(mk, ctx, m, j, cmd->now_us);
  } else {
    j->final = true; /* dropped (stopping), or the market is gone */
  }
  if (j->final)
    for (struct mk_waiter *w = j->waiters; w; w = w->next)
      ((struct fx_market_target *)w->arg)->n_orders = j->carried + j->placed;
  mk_group_end(mk);
}

/* Loop thread, after the result's group. A command the stopping sequencer
 * hands back without running it still answers its waiters. */
static void result_done(struct fx_seq_command *cmd) {
  struct mk_job *j = cmd->arg;
  int err = cmd->store_err ? cmd->store_err : j->dropped || j->stopped ? FX_STORE_EIO : 0;
  if (!j->ran && job_of(j->mk, j->key) == j) /* the sequencer thread is gone */
    HASH_DEL(j->mk->clearing, j);
  if (j->final || !j->ran)
    waiters_answer(j->waiters, err);
  job_free(j);
}

/* Clearing thread after the solve, or the stopping thread (dropped). */
static void job_solved(struct fx_clear_job *run, bool dropped) {
  struct mk_job *j = run->ud;
  j->dropped = dropped;
  /* The result acts at the clearing time plus the time since the job was
   * queued (the wait behind other markets and the solve): the orders carry
   * it, and offers that expired meanwhile are not ordered. A fake clock in
   * tests moves on the same way. */
  j->cmd = (struct fx_seq_command){.run = result_run, .done = result_done, .arg = j,
                                   .now_us = j->now_us + (dropped ? 0 : run->elapsed_us)};
  struct fx_sequencer *seq = atomic_load(&j->mk->seq);
  if (seq) {
    fx_sequencer_command(seq, &j->cmd);
    return;
  }
  /* fx_market_free: no sequencer any more, nothing else runs. */
  j->cmd.store_err = FX_STORE_EIO;
  result_done(&j->cmd);
}

/* ---- entry points ---- */

int mk_clear_market(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us) {
  if (!m->req || m->req->state == FX_REQ_SUPERSEDED)
    return 0;
  struct mk_job *j = mk->runner ? job_of(mk, m->key) : NULL;
  if (j) { /* cleared again once j's result is in; a restart before that too */
    j->again = true;
    ask(mk, ctx, m);
    return 0;
  }
  if (mk->runner && job_start(mk, ctx, m, now_us, NULL, NULL) != -1)
    return 0;
  expire_offers(ctx, m, now_us);
  return clear_inline(mk, ctx, m, now_us);
}

int fx_market_clearing_start(struct fx_market *mk, struct fx_sequencer *seq) {
  if (mk->runner) /* started, or started and stopped: a stopped one stays so */
    return 0;
  if (fx_clear_runner_start(&mk->runner) != 0)
    return -1;
  atomic_store(&mk->seq, seq);
  return 0;
}

void fx_market_clearing_stop(struct fx_market *mk) {
  if (mk->runner)
    fx_clear_runner_stop(mk->runner);
}

unsigned fx_market_clearing_pending(const struct fx_market *mk) {
  return mk->runner ? fx_clear_runner_pending(mk->runner) : 0;
}

unsigned fx_market_clearing_solved(const struct fx_market *mk) {
  return mk->runner ? fx_clear_runner_solved(mk->runner) : 0;
}

void fx_market_clearing_hold(struct fx_market *mk, bool hold) {
  if (mk->runner)
    fx_clear_runner_hold(mk->runner, hold);
}

void fx_market_clearing_pass(struct fx_market *mk) {
  if (mk->runner)
    fx_clear_runner_pass(mk->runner);
}

void fx_market_clearing_fail(struct fx_market *mk, unsigned n) {
  if (mk->runner)
    fx_clear_runner_fail(mk->runner, n);
  else
    mk->fail_inline = n;
}

void mk_clearing_free(struct fx_market *mk) {
  /* Jobs dropped now are answered here. Atomic: without the
   * fx_market_clearing_stop that should have come first, the thread may be
   * reading it in job_solved. */
  atomic_store(&mk->seq, NULL);
  fx_clear_runner_free(mk->runner);
  mk->runner = NULL;
  HASH_CLEAR(hh, mk->clearing); /* empty unless the sequencer was stopped first */
}

/* ---- commands ----------------------------------------------------------------------------- */

void fx_market_run_due(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market *mk = market;
  mk_group_begin(mk, ctx);
  mk_expire_orders(mk, ctx, cmd->now_us);
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    if (mk_clearing_due(mk, m) && mk_clearing_due_at(mk, m) <= cmd->now_us)
      mk_clear_market(mk, ctx, m, cmd->now_us);
  mk_group_end(mk);
}

/* With the clearing thread the operator waits for the result: its done()
 * runs once the orders are committed (see struct mk_waiter). */
static int run_clear_async(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m,
                           struct fx_seq_command *cmd) {
  struct mk_job *j = job_of(mk, m->key);
  if (j) /* under way: its result answers this operator too */
    return waiter_add(&j->waiters, cmd) == 0 ? 0 : -1;
  struct mk_waiter *w = NULL;
  if (waiter_add(&w, cmd) != 0)
    return -1;
  int rc = job_start(mk, ctx, m, cmd->now_us, NULL, w);
  if (rc == -2) { /* the thread has stopped: answered FX_STORE_EIO once the command is back */
    w->err = FX_STORE_EIO;
    w->result_in = true;
  } else if (rc != 0) { /* not queued: the command answers as it is */
    cmd->done = w->done, cmd->arg = w->arg;
    free(w);
  }
  return rc;
}

void fx_market_run_clear(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market *mk = market;
  struct fx_market_target *t = cmd->arg;
  mk_group_begin(mk, ctx);
  struct mk_market *m = mk_market_get(mk, t->cp, t->period, false);
  t->found = m && m->req && m->req->state != FX_REQ_SUPERSEDED;
  t->n_orders = 0;
  int rc = t->found && mk->runner ? run_clear_async(mk, ctx, m, cmd) : -1;
  if (t->found && rc == -1)
    t->n_orders = mk_clear_market(mk, ctx, m, cmd->now_us);
  mk_group_end(mk);
}
