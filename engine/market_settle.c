/* market_settle.c — the settlement run (FlexSettlement to every AGR that has
 * orders in the period) and the AGRs' FlexSettlementResponses.
 *
 * The run is a sequencer command, so it is ordered with messages. It reads the
 * committed store in place, AGR by AGR, congestion point by congestion point,
 * day by day: the orders (their XML), the AGR's latest Metering per connection,
 * the market's latest FlexRequest (the congestion direction) and each order's
 * baseline reference: the D-Prognosis profile it was based on, or a metered or
 * formula baseline as configured ([market] / [contract] baseline_reference).
 * Nothing of it needs the market in memory, so old months settle as well as
 * the live one. Only
 * one AGR's FlexSettlement is built at a time, and, when the caller names the
 * sequencer, each AGR's objects and outbox row commit in their own group: the
 * command re-queues itself from its done() until every AGR is settled, then
 * hands itself back to the caller's done() (docs/settlement.md, "In the
 * engine"). A run's memory is therefore one AGR's output.
 *
 * SETTLEMENT objects (cp "", Period = the run's PeriodStart), little-endian:
 *   "H" one FlexSettlement, id = its MessageID, owner AGR, state SENT →
 *       ACCEPTED | REJECTED (the AGR's Result):
 *     0 'H' 1 ver=1 2 u8 held 3 0  4 i32 from  8 i32 to  12 u32 orders
 *     16 u32 incomplete 20 u32 0  24 i64 price 32 i64 penalty 40 i64 net
 *     48 currency[4]
 *     held = 1: not sent, because some order lacks metering or a baseline.
 *   "I" one order's settlement, ref = the FlexSettlement, owner AGR, state
 *       SENT (open) → ACCEPTED (closed) | REJECTED (disputed, kept open):
 *     0 'I' 1 ver=1 2 u8 status 3 u8 penalty_unit  4 i32 period  8 u32 n_isps
 *     12 u32 n_missing  16 i64 order_price 24 i64 penalty_rate 32 i64 price
 *     40 i64 penalty 48 i64 net 56 u32 isp_minutes 60 u8 baseline (enum
 *     fx_settle_baseline + 1; 0 = not recorded, a D-Prognosis) 61 3×0 64 order id[16]
 *     80 n_isps × {u32 start, u8 missing, 3×0, i64 baseline, ordered, actual,
 *     delivered, deficiency} (48 bytes), then cp NUL, OrderReference NUL,
 *     currency NUL
 *   "N" a note: the DisputeReason of an item or the RejectionReason of a
 *       FlexSettlement (ref = the item or message); "N" text NUL.
 *
 * Item ids are fx_uuid_derive("flexd.settle-item", order id, FlexSettlement
 * id as text), so an OrderReference (the FlexOrder's MessageID) in a
 * FlexSettlementResponse leads straight to its item. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/market_int.h"
#include "engine/log.h"

#define ITEM_HDR 80u
#define ITEM_ISP 48u

/* ---- in memory: the FlexSettlements sent ------------------------------------------- */

static int settlement_add(struct fx_market *mk, const struct fx_uuid *id, const char *agr, int32_t from, int32_t to,
                          uint8_t state);

/* How far back (days before the clock) a FlexSettlement being answered may
 * start: a run covers at most 366 days, and is answered within weeks. */
#define SETTLEMENT_LOOKBACK 800

/* A FlexSettlement the platform sent: in memory while this group or an earlier
 * one since the last eviction touched it, else read from the store (its key
 * has the run's PeriodStart, found by trying the days before the clock). */
static struct mk_settlement *settlement_find(struct fx_market *mk, const struct fx_uuid *id) {
  struct mk_settlement *s;
  HASH_FIND(hh, mk->settlements, id, sizeof *id, s);
  if (s || !mk->ctx || mk->clock_day == INT32_MIN)
    return s;
  struct fx_store_obj_key k = {.cp = "", .kind = FX_OBJ_SETTLEMENT};
  memcpy(k.id, id->b, 16);
  for (int32_t d = mk->clock_day; d > mk->clock_day - SETTLEMENT_LOOKBACK; d--) {
    struct fx_store_obj_view v;
    size_t len;
    k.period = d;
    if (fx_store_obj_get(fx_seq_read(mk->ctx), &k, &v) != 0)
      continue;
    const uint8_t *b = fx_store_obj_body(&v, &len);
    if (len < 56 || b[0] != 'H' || b[2] ||
        settlement_add(mk, id, fx_store_obj_owner(&v), (int32_t)fx_ld32(b + 4), (int32_t)fx_ld32(b + 8),
                       fx_store_obj_state(&v)) != 0)
      return NULL; /* held (never sent), or no memory */
    HASH_FIND(hh, mk->settlements, id, sizeof *id, s);
    return s;
  }
  return NULL;
}

static int settlement_add(struct fx_market *mk, const struct fx_uuid *id, const char *agr, int32_t from, int32_t to,
                          uint8_t state) {
  struct mk_settlement *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->id = *id, s->from = from, s->to = to, s->state = state;
  snprintf(s->agr, sizeof s->agr, "%s", agr);
  HASH_ADD(hh, mk->settlements, id, sizeof s->id, s);
  return 0;
}

int mk_settle_load(struct fx_market *mk, const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  switch (fx_store_obj_kind(v)) {
  case FX_OBJ_METERING: {
    int n;
    const uint8_t *vals;
    if (mk_profile_view(b, len, 'W', &n, &vals) != 0 || len <= MK_PROFILE_HDR + 8 * (size_t)n)
      return 0;
    return mk_meter_note(mk, (const char *)vals + 8 * (size_t)n, fx_store_obj_period(v), fx_store_obj_revision(v));
  }
  case FX_OBJ_REQUEST: return mk_contract_load(mk, v);
  case FX_OBJ_SETTLEMENT:
    if (len >= 56 && b[0] == 'H' && !b[2]) {
      struct fx_uuid id;
      memcpy(id.b, fx_store_obj_id(v), 16);
      return settlement_add(mk, &id, fx_store_obj_owner(v), (int32_t)fx_ld32(b + 4), (int32_t)fx_ld32(b + 8),
                            fx_store_obj_state(v));
    }
    return 0;
  default: return 0;
  }
}

void mk_settle_evict(struct fx_market *mk) {
  struct mk_settlement *s, *st;
  HASH_ITER(hh, mk->settlements, s, st) {
    HASH_DEL(mk->settlements, s);
    free(s);
  }
}

void mk_settle_unload(struct fx_market *mk) {
  mk_meter_evict(mk, INT32_MAX);
  mk_settle_evict(mk);
  mk_contract_unload(mk);
}

/* ---- the run: state ------------------------------------------------------------------ */

struct pending_item { /* an order's settlement, its body in group memory */
  struct fx_uuid id;
  const uint8_t *body;
  size_t len;
};

struct run {
  struct fx_market *mk;
  struct fx_seq_ctx *ctx;
  struct fx_store_read *rd;
  fx_reader *reader;
  struct fx_market_settlement *out;
  int32_t from, to;
  int64_t isp_minutes;
  int step_messages, step_orders, step_incomplete;
  const char *agr;
  struct fx_uuid msg_id;
  char msg_id_text[FX_UUID_STRLEN];
  /* one AGR's FlexSettlement, and its items (stored only when it succeeds) */
  fx_arena *arena;
  struct fx_flex_order_settlement *fos;
  size_t n_fos, cap_fos;
  struct pending_item *items;
  size_t n_items, cap_items;
  struct fx_settle_totals totals;
  /* one (AGR, CP, day) */
  int n_isps;
  bool have_actual, have_req;
  int64_t actual[FX_SETTLE_MAX_ISPS];
  struct fx_clear_isp req[FX_SETTLE_MAX_ISPS];
  fx_reader *req_reader;
  /* one order's baseline */
  uint8_t method; /* enum fx_settle_baseline */
  bool has_prog;
  struct fx_uuid prog;
  int64_t base[FX_SETTLE_MAX_ISPS], tmp[FX_SETTLE_MAX_ISPS], sum[FX_SETTLE_MAX_ISPS];
  /* one order */
  struct fx_settle_isp_in in[FX_SETTLE_MAX_ISPS];
  struct fx_settle_isp_out res_isps[FX_SETTLE_MAX_ISPS];
  int64_t ordered[FX_SETTLE_MAX_ISPS];
  uint8_t in_order[FX_SETTLE_MAX_ISPS];
  /* one contract day: its ISPs */
  struct fx_settle_contract_isp_in c_in[FX_SETTLE_MAX_ISPS];
  struct fx_settle_contract_isp_out c_out[FX_SETTLE_MAX_ISPS];
};

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted, unique; strings borrowed from the market. Caller frees the array. */
static const char **unique_sorted(const char **v, size_t *n) {
  qsort(v, *n, sizeof *v, str_cmp);
  size_t k = 0;
  for (size_t i = 0; i < *n; i++)
    if (k == 0 || strcmp(v[i], v[k - 1]))
      v[k++] = v[i];
  *n = k;
  return v;
}

/* Every AGR with a connection in the common reference. */
static const char **run_agrs(struct fx_market *mk, size_t *n) {
  size_t cap = HASH_CNT(hh, mk->conns) + 1, k = 0;
  const char **v = calloc(cap, sizeof *v);
  if (!v)
    return NULL;
  for (struct mk_conn *c = mk->conns; c; c = c->hh.next)
    if (c->has_agr && c->has_cp)
      v[k++] = c->agr;
  *n = k;
  return unique_sorted(v, n);
}

/* The congestion points where `agr` has (had) a connection. */
static const char **agr_cps(struct fx_market *mk, const char *agr, size_t *n) {
  size_t cap = HASH_CNT(hh, mk->conns) + 1, k = 0;
  const char **v = calloc(cap, sizeof *v);
  if (!v)
    return NULL;
  for (struct mk_conn *c = mk->conns; c; c = c->hh.next)
    if (c->has_agr && c->has_cp && !strcmp(c->agr, agr))
      v[k++] = c->cp;
  *n = k;
  return unique_sorted(v, n);
}

/* ---- actual power: the AGR's metering at (cp, day) -------------------------------------- */

struct meter_pick {
  const char *ea;
  uint32_t revision;
  const uint8_t *vals;
};

/* The latest revision of each of the AGR's connections metered at (cp, day), n_isps ISPs long. */
static size_t pick_metering(struct run *r, const char *cp, int32_t day, int n_isps, struct meter_pick *p,
                            size_t cap) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  size_t n = 0;
  int rc = fx_store_obj_iter(r->rd, cp, day, FX_OBJ_METERING, &it);
  while (rc == 0 && fx_store_obj_next(&it, &v) == 1) {
    size_t len;
    int k;
    const uint8_t *vals, *b = fx_store_obj_body(&v, &len);
    if (strcmp(fx_store_obj_owner(&v), r->agr) || mk_profile_view(b, len, 'W', &k, &vals) != 0 || k != n_isps ||
        len <= MK_PROFILE_HDR + 8 * (size_t)k)
      continue;
    const char *ea = (const char *)vals + 8 * (size_t)k;
    size_t i = 0;
    while (i < n && strcmp(p[i].ea, ea))
      i++;
    if (i == n && n == cap)
      continue;
    if (i == n || fx_store_obj_revision(&v) > p[i].revision)
      p[i] = (struct meter_pick){ea, fx_store_obj_revision(&v), vals};
    n += i == n;
  }
  fx_store_iter_close(&it);
  return n;
}

/* Sums the metering of every connection the AGR has at cp on day (n ISPs) into
 * out; false when any of them has none (the actual power is then unknown). */
static bool agr_actual(struct run *r, const char *cp, int32_t day, int n, int64_t *out) {
  struct meter_pick picks[256];
  size_t k = pick_metering(r, cp, day, n, picks, 256), expected = 0;
  struct mk_cp *c = mk_cp_find(r->mk, cp);
  for (int i = 0; i < n; i++)
    out[i] = 0;
  for (struct mk_conn *x = c ? c->conns : NULL; x; x = x->hh_cp.next) {
    if (!x->has_agr || strcmp(x->agr, r->agr) || day < x->agr_from || day >= x->agr_to || day < x->cp_from ||
        day >= x->cp_to)
      continue;
    expected++;
    size_t i = 0;
    while (i < k && strcmp(picks[i].ea, x->ea))
      i++;
    if (i == k)
      return false;
    for (int j = 0; j < n; j++)
      out[j] += mk_profile_at(picks[i].vals, j);
  }
  return expected > 0;
}

/* ---- the market's congestion, from the store --------------------------------------------- */

/* The DSO's latest FlexRequest revision at (cp, day) by ISP index, read from
 * the store (the market may not be in memory); have_req false without one. */
static void load_request(struct run *r, const char *cp, int32_t day) {
  struct fx_store_iter it;
  struct fx_store_obj_view v, best;
  bool found = false;
  int rc = fx_store_obj_iter(r->rd, cp, day, FX_OBJ_REQUEST, &it);
  while (rc == 0 && fx_store_obj_next(&it, &v) == 1) {
    size_t len;
    const uint8_t *b = fx_store_obj_body(&v, &len);
    if (len && b[0] == '<' && (!found || fx_store_obj_revision(&v) > fx_store_obj_revision(&best)))
      best = v, found = true;
  }
  fx_store_iter_close(&it);
  r->have_req = false;
  const struct fx_msg *m;
  struct fx_error err;
  size_t len;
  const uint8_t *b = found ? fx_store_obj_body(&best, &len) : NULL;
  if (!b || fx_read_msg(r->req_reader, (const char *)b, len, &m, &err) != 0 || m->type != FX_MSG_FLEX_REQUEST)
    return;
  memset(r->req, 0, (size_t)r->n_isps * sizeof *r->req);
  mk_request_isps(r->req, &m->u.flex_request, r->n_isps);
  r->have_req = true;
}

/* The DSO's congestion at ISP index i: the request's Requested side; without
 * a request (an unsolicited order), the side the order buys. */
static uint8_t congestion_at(const struct run *r, int i, int64_t ordered) {
  if (r->have_req) {
    const struct fx_clear_isp *q = &r->req[i];
    if (q->disposition != FX_CLEAR_REQUESTED)
      return FX_SETTLE_CONGESTION_NONE;
    if (q->max_power <= 0 && q->min_power < 0)
      return FX_SETTLE_CONGESTION_CONSUMPTION;
    if (q->min_power >= 0 && q->max_power > 0)
      return FX_SETTLE_CONGESTION_PRODUCTION;
    return FX_SETTLE_CONGESTION_NONE;
  }
  return ordered < 0 ? FX_SETTLE_CONGESTION_CONSUMPTION
         : ordered > 0 ? FX_SETTLE_CONGESTION_PRODUCTION
                       : FX_SETTLE_CONGESTION_NONE;
}

/* ---- the baseline reference (docs/settlement.md, "Baseline reference") -------------------- */

/* The reference for an order: its contract's, when the contract names one,
 * else the market's. */
static uint8_t baseline_method(const struct run *r, const struct fx_flex_order *fo) {
  const struct fx_contract_cfg *c = fo->contract_id ? fx_config_contract(r->mk->cfg, fo->contract_id) : NULL;
  return c && c->has_baseline ? c->baseline : r->mk->cfg->baseline_reference;
}

/* The D-Prognosis an order is based on: the one it names; without one, the
 * AGR's latest prognosis for the market accepted before the order was placed
 * (a later one already reflects the order, so it is no baseline for it). */
static bool order_prognosis(struct run *r, const char *cp, int32_t day, const struct fx_flex_order *fo,
                            int64_t placed_us, struct fx_uuid *out) {
  if (fo->has_d_prognosis_message_id) {
    *out = fo->d_prognosis_message_id;
    return true;
  }
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  uint32_t best = 0;
  bool found = false;
  int rc = fx_store_obj_iter(r->rd, cp, day, FX_OBJ_PROGNOSIS, &it);
  while (rc == 0 && fx_store_obj_next(&it, &v) == 1) {
    size_t len;
    fx_store_obj_body(&v, &len);
    if (len || strcmp(fx_store_obj_owner(&v), r->agr) || fx_store_obj_created_us(&v) > placed_us ||
        (found && fx_store_obj_revision(&v) <= best))
      continue; /* a body: a baseline profile, not the prognosis itself */
    best = fx_store_obj_revision(&v), found = true;
    memcpy(out->b, fx_store_obj_id(&v), 16);
  }
  fx_store_iter_close(&it);
  return found;
}

/* The stored power profile of D-Prognosis `prog` into r->base. */
static void prognosis_baseline(struct run *r, const char *cp, int32_t day, const struct fx_uuid *prog) {
  struct fx_store_obj_key k = {.cp = cp, .period = day, .kind = FX_OBJ_PROGNOSIS};
  struct fx_uuid id;
  struct fx_store_obj_view v;
  fx_uuid_derive(&id, "flexd.baseline", prog, NULL);
  memcpy(k.id, id.b, 16);
  size_t len;
  int n;
  const uint8_t *vals;
  if (fx_store_obj_get(r->rd, &k, &v) != 0)
    return;
  const uint8_t *b = fx_store_obj_body(&v, &len);
  if (mk_profile_view(b, len, 'W', &n, &vals) == 0 && n == r->n_isps)
    for (int i = 0; i < n; i++)
      r->base[i] = mk_profile_at(vals, i);
}

/* MBMA, measure before: every ISP of the order gets the AGR's metered power
 * in the ISP just before the order's first ISP (the previous day's last ISP
 * when the order starts at ISP 1). */
static void measure_before_baseline(struct run *r, const char *cp, int32_t day) {
  int f = 0;
  while (f < r->n_isps && !r->in_order[f])
    f++;
  int64_t v;
  if (f == r->n_isps)
    return;
  if (f > 0) {
    if (!r->have_actual)
      return;
    v = r->actual[f - 1];
  } else {
    int n = fx_calendar_isp_count(r->mk->cal, day - 1, r->mk->isp_us);
    if (n <= 0 || n > FX_SETTLE_MAX_ISPS || !agr_actual(r, cp, day - 1, n, r->tmp))
      return;
    v = r->tmp[n - 1];
  }
  for (int i = 0; i < r->n_isps; i++)
    r->base[i] = v;
}

/* Like-days: the mean of the AGR's metered power at the same ISP on the N most
 * recent earlier days of the same weekday (N = baseline_like_days) that have
 * as many ISPs (a DST switch day only matches its own kind), looking back at
 * most N + 2 weeks; rounded half away from zero. Any of those N days without
 * metering leaves the baseline unknown. */
static void like_days_baseline(struct run *r, const char *cp, int32_t day) {
  int want = r->mk->cfg->baseline_like_days, found = 0;
  for (int i = 0; i < r->n_isps; i++)
    r->sum[i] = 0;
  for (int k = 1; found < want && k <= want + 2; k++) {
    int32_t d = day - 7 * k;
    if (fx_calendar_isp_count(r->mk->cal, d, r->mk->isp_us) != r->n_isps)
      continue;
    if (!agr_actual(r, cp, d, r->n_isps, r->tmp))
      return;
    for (int i = 0; i < r->n_isps; i++)
      r->sum[i] += r->tmp[i];
    found++;
  }
  if (found < want)
    return;
  for (int i = 0; i < r->n_isps; i++) {
    int64_t q = r->sum[i] / want, rem = r->sum[i] % want;
    if (2 * (rem < 0 ? -rem : rem) >= want)
      q += r->sum[i] < 0 ? -1 : 1;
    r->base[i] = q;
  }
}

/* r->base by ISP index (MK_NO_VALUE where unknown), from the order's reference. */
static void fill_baseline(struct run *r, const char *cp, int32_t day, const struct fx_flex_order *fo,
                          int64_t placed_us) {
  for (int i = 0; i < r->n_isps; i++)
    r->base[i] = MK_NO_VALUE;
  r->method = baseline_method(r, fo);
  r->has_prog = false;
  switch (r->method) {
  case FX_SETTLE_BASELINE_PROGNOSIS:
    r->has_prog = order_prognosis(r, cp, day, fo, placed_us, &r->prog);
    if (r->has_prog)
      prognosis_baseline(r, cp, day, &r->prog);
    break;
  case FX_SETTLE_BASELINE_MEASURE_BEFORE: measure_before_baseline(r, cp, day); break;
  case FX_SETTLE_BASELINE_LIKE_DAYS: like_days_baseline(r, cp, day); break;
  default:
    for (int i = 0; i < r->n_isps; i++)
      r->base[i] = 0;
    break;
  }
}

/* ---- one order ---------------------------------------------------------------------------- */

static size_t fill_inputs(struct run *r, const char *cp, int32_t day, const struct fx_flex_order *fo,
                          int64_t placed_us) {
  memset(r->in_order, 0, (size_t)r->n_isps);
  for (size_t j = 0; j < fo->n_isps; j++)
    for (int64_t k = fo->isps[j].start; k < fo->isps[j].start + fo->isps[j].duration; k++)
      if (k >= 1 && k <= r->n_isps)
        r->in_order[k - 1] = 1, r->ordered[k - 1] = fo->isps[j].power;
  fill_baseline(r, cp, day, fo, placed_us);
  size_t n = 0;
  for (int i = 0; i < r->n_isps; i++) {
    if (!r->in_order[i])
      continue;
    struct fx_settle_isp_in *x = &r->in[n++];
    *x = (struct fx_settle_isp_in){.start = (uint32_t)i + 1, .ordered_w = r->ordered[i]};
    x->congestion = congestion_at(r, i, r->ordered[i]);
    if (r->base[i] != MK_NO_VALUE)
      x->have |= FX_SETTLE_HAVE_BASELINE, x->baseline_w = r->base[i];
    if (r->have_actual)
      x->have |= FX_SETTLE_HAVE_ACTUAL, x->actual_w = r->actual[i];
  }
  return n;
}

/* Store ops borrow their bytes until the commit: the ref is copied there. */
static void put_settlement_obj(struct run *r, const struct fx_uuid *id, const struct fx_uuid *ref, const void *body,
                               size_t len) {
  uint8_t *refcopy = ref ? fx_seq_alloc(r->ctx, 16) : NULL;
  if (ref && !refcopy)
    return;
  if (ref)
    memcpy(refcopy, ref->b, 16);
  struct fx_store_obj o = {.key = {.cp = "", .period = r->from, .kind = FX_OBJ_SETTLEMENT},
                           .state = FX_SETTLE_SENT, .t_us = fx_seq_now(r->ctx), .ref = refcopy,
                           .owner = r->agr, .body = body, .body_len = len};
  memcpy(o.key.id, id->b, 16);
  fx_store_batch_put_obj(fx_seq_batch(r->ctx), &o);
}

/* The item is kept aside until the AGR's whole settlement succeeds: an AGR
 * that fails half-way leaves nothing in the batch. */
static int store_item(struct run *r, const char *cp, int32_t day, const struct fx_msg *order,
                      const struct fx_settle_input *in, const struct fx_settle_result *res) {
  const struct fx_flex_order *fo = &order->u.flex_order;
  size_t cl = strlen(cp), rl = strlen(fo->order_reference), ul = strlen(fo->currency);
  size_t len = ITEM_HDR + ITEM_ISP * res->n_isps + cl + rl + ul + 3;
  uint8_t *b = fx_seq_alloc(r->ctx, len);
  if (!b)
    return -1;
  memset(b, 0, len);
  b[0] = 'I', b[1] = 1, b[2] = res->status, b[3] = in->penalty_unit;
  mk_st32(b + 4, (uint32_t)day), mk_st32(b + 8, (uint32_t)res->n_isps), mk_st32(b + 12, res->n_missing);
  mk_st64(b + 16, (uint64_t)in->order_price), mk_st64(b + 24, (uint64_t)in->penalty_rate);
  mk_st64(b + 32, (uint64_t)res->price), mk_st64(b + 40, (uint64_t)res->penalty), mk_st64(b + 48, (uint64_t)res->net);
  mk_st32(b + 56, in->isp_minutes);
  b[60] = (uint8_t)(r->method + 1); /* the baseline reference used; 0 in items from before it was recorded */
  memcpy(b + 64, order->hdr.message_id.b, 16);
  for (size_t i = 0; i < res->n_isps; i++) {
    const struct fx_settle_isp_out *o = &res->isps[i];
    uint8_t *p = b + ITEM_HDR + ITEM_ISP * i;
    mk_st32(p, o->start), p[4] = o->missing;
    mk_st64(p + 8, (uint64_t)o->baseline_w), mk_st64(p + 16, (uint64_t)o->ordered_w);
    mk_st64(p + 24, (uint64_t)o->actual_w), mk_st64(p + 32, (uint64_t)o->delivered_w);
    mk_st64(p + 40, (uint64_t)o->deficiency_w);
  }
  char *s = (char *)b + ITEM_HDR + ITEM_ISP * res->n_isps;
  memcpy(s, cp, cl + 1), memcpy(s + cl + 1, fo->order_reference, rl + 1), memcpy(s + cl + rl + 2, fo->currency, ul + 1);
  if (r->n_items == r->cap_items) {
    size_t cap = r->cap_items ? 2 * r->cap_items : 64;
    void *p = realloc(r->items, cap * sizeof *r->items);
    if (!p)
      return -1;
    r->items = p, r->cap_items = cap;
  }
  struct pending_item *it = &r->items[r->n_items++];
  fx_uuid_derive(&it->id, "flexd.settle-item", &order->hdr.message_id, r->msg_id_text);
  it->body = b, it->len = len;
  return 0;
}

/* The FlexOrderSettlement element (strings and ISPs in the AGR's arena). */
static int add_element(struct run *r, const char *cp, int32_t day, const struct fx_flex_order *fo,
                       const struct fx_settle_result *res) {
  if (r->n_fos == r->cap_fos) {
    size_t cap = r->cap_fos ? 2 * r->cap_fos : 64;
    void *p = realloc(r->fos, cap * sizeof *r->fos);
    if (!p)
      return -1;
    r->fos = p, r->cap_fos = cap;
  }
  struct fx_flex_order_settlement *e = &r->fos[r->n_fos];
  memset(e, 0, sizeof *e);
  e->order_reference = fx_arena_strdup(r->arena, fo->order_reference);
  e->congestion_point = fx_arena_strdup(r->arena, cp);
  e->contract_id = fo->contract_id ? fx_arena_strdup(r->arena, fo->contract_id) : NULL;
  /* The baseline the AGR is settled against: the D-Prognosis used, or, for a
   * configured reference, the order's BaselineReference or else its name. */
  e->has_d_prognosis_message_id = r->method == FX_SETTLE_BASELINE_PROGNOSIS && r->has_prog;
  e->d_prognosis_message_id = r->prog;
  const char *bref = fo->baseline_reference ? fo->baseline_reference
                     : r->method != FX_SETTLE_BASELINE_PROGNOSIS ? fx_settle_baseline_name(r->method)
                                                                  : NULL;
  e->baseline_reference = bref ? fx_arena_strdup(r->arena, bref) : NULL;
  fx_date_from_days(day, &e->period);
  e->price = res->price, e->penalty = res->penalty, e->net_settlement = res->net;
  e->isps = fx_arena_alloc(r->arena, res->n_isps * sizeof *e->isps);
  if (!e->order_reference || !e->congestion_point || !e->isps)
    return -1;
  for (size_t i = 0; i < res->n_isps; i++) {
    const struct fx_settle_isp_out *o = &res->isps[i];
    e->isps[i] = (struct fx_settlement_isp){o->start, 1, o->baseline_w, o->ordered_w, o->actual_w, o->delivered_w,
                                            o->deficiency_w};
  }
  e->n_isps = res->n_isps;
  r->n_fos++;
  return 0;
}

static int settle_order(struct run *r, const char *cp, int32_t day, const struct fx_msg *order, int64_t placed_us) {
  const struct fx_flex_order *fo = &order->u.flex_order;
  char period[FX_DATE_STRLEN];
  fx_date_format(&fo->flex.period, period);
  struct fx_settle_input in = {.period = period, .congestion_point = cp, .order_reference = fo->order_reference,
                               .currency = fo->currency, .order_price = fo->price,
                               .penalty_rate = r->mk->cfg->penalty_rate, .penalty_unit = r->mk->cfg->penalty_unit,
                               .isp_minutes = (uint32_t)r->isp_minutes, .isps = r->in};
  in.n_isps = fill_inputs(r, cp, day, fo, placed_us);
  in.baseline = fx_settle_baseline_name(r->method);
  struct fx_settle_result res = {.isps = r->res_isps, .isps_cap = FX_SETTLE_MAX_ISPS};
  int rc = fx_settle_order(&in, &res);
  if (rc != FX_SETTLE_OK) {
    fx_log_emit(&(struct fx_log){.format = r->mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "settlement_failed",
                FX_LOG_KV(FX_LS("order_reference", fo->order_reference), FX_LS("congestion_point", cp),
                          FX_LS("period", period), FX_LS("why", fx_settle_strerror(rc))),
                "settlement: order %s at %s %s not settled: %s", fo->order_reference, cp, period,
                fx_settle_strerror(rc));
    return -1;
  }
  if (fx_settle_totals_add(&r->totals, &res) != FX_SETTLE_OK || add_element(r, cp, day, fo, &res) != 0)
    return -1;
  return store_item(r, cp, day, order, &in, &res);
}

/* Every order of the AGR at (cp, day) that it has not rejected and that did
 * not expire unanswered. */
static int settle_market(struct run *r, const char *cp, int32_t day) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  bool loaded = false;
  int rc = fx_store_obj_iter(r->rd, cp, day, FX_OBJ_ORDER, &it), got;
  r->n_isps = fx_calendar_isp_count(r->mk->cal, day, r->mk->isp_us);
  while (rc == 0 && (got = fx_store_obj_next(&it, &v)) == 1) {
    if (strcmp(fx_store_obj_owner(&v), r->agr) || !mk_order_state_live(fx_store_obj_state(&v)))
      continue;
    if (r->n_isps <= 0 || r->n_isps > FX_SETTLE_MAX_ISPS) {
      rc = -1;
      break;
    }
    if (!loaded)
      r->have_actual = agr_actual(r, cp, day, r->n_isps, r->actual), load_request(r, cp, day), loaded = true;
    size_t len;
    const uint8_t *b = fx_store_obj_body(&v, &len);
    const struct fx_msg *m;
    struct fx_error err;
    if (fx_read_msg(r->reader, (const char *)b, len, &m, &err) != 0 || m->type != FX_MSG_FLEX_ORDER)
      rc = -1;
    else
      rc = settle_order(r, cp, day, m, fx_store_obj_created_us(&v));
  }
  fx_store_iter_close(&it);
  return rc;
}

/* ---- ContractSettlement ---------------------------------------------------------------------- */

/* Σ power at ISP index i of the AGR's live orders under contract c at (cp, day). */
static void contract_orders(struct run *r, const struct fx_contract_cfg *c, int32_t day, int64_t *sum, int n) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  memset(sum, 0, (size_t)n * sizeof *sum);
  int rc = fx_store_obj_iter(r->rd, c->cp, day, FX_OBJ_ORDER, &it);
  while (rc == 0 && fx_store_obj_next(&it, &v) == 1) {
    size_t len;
    const uint8_t *b = fx_store_obj_body(&v, &len);
    const struct fx_msg *m;
    struct fx_error err;
    if (strcmp(fx_store_obj_owner(&v), r->agr) || !mk_order_state_live(fx_store_obj_state(&v)) ||
        fx_read_msg(r->reader, (const char *)b, len, &m, &err) != 0 || !m->u.flex_order.contract_id ||
        strcmp(m->u.flex_order.contract_id, c->id))
      continue;
    for (size_t j = 0; j < m->u.flex_order.n_isps; j++) {
      const struct fx_isp *s = &m->u.flex_order.isps[j];
      for (int64_t k = s->start; k < s->start + s->duration; k++)
        if (k >= 1 && k <= n)
          sum[k - 1] += s->power;
    }
  }
  fx_store_iter_close(&it);
}

/* The candidates for OfferedPower: every OfferOption of the AGR's offers under
 * contract c at (c->cp, day) that the platform accepted and the AGR did not
 * revoke, as power per contract ISP (r->c_in[j].start). One malloc'd block:
 * *cands[k] points into it; the caller frees *cands. Returns how many, or -1. */
static long contract_offers(struct run *r, const struct fx_contract_cfg *c, int32_t day, size_t n,
                            int64_t ***cands) {
  const struct mk_market *m = mk_market_get(r->mk, c->cp, day, false);
  size_t k = 0;
  *cands = NULL;
  for (size_t i = 0; m && i < m->n_offers; i++) {
    const struct mk_offer *o = m->offers[i];
    const struct fx_flex_offer *fo = &o->msg->u.flex_offer;
    if (o->state != FX_OFFER_REVOKED && !strcmp(o->agr, r->agr) && fo->contract_id && !strcmp(fo->contract_id, c->id))
      k += fo->n_offer_options;
  }
  if (!k)
    return 0;
  int64_t **v = malloc(k * sizeof *v + k * n * sizeof **v);
  if (!v)
    return -1;
  int64_t *p = (int64_t *)(v + k);
  k = 0;
  for (size_t i = 0; i < m->n_offers; i++) {
    const struct mk_offer *o = m->offers[i];
    const struct fx_flex_offer *fo = &o->msg->u.flex_offer;
    if (o->state == FX_OFFER_REVOKED || strcmp(o->agr, r->agr) || !fo->contract_id || strcmp(fo->contract_id, c->id))
      continue;
    for (size_t q = 0; q < fo->n_offer_options; q++, k++, p += n) {
      v[k] = p;
      for (size_t j = 0; j < n; j++)
        p[j] = mk_option_power(&fo->offer_options[q], r->c_in[j].start);
    }
  }
  *cands = v;
  return (long)k;
}

/* OfferedPower: the most compliant candidate, as the XSD says ("If there were
 * multiple offers, only the one is considered that is most compliant"). */
static int contract_offered(struct run *r, const struct fx_contract_cfg *c, int32_t day, size_t n) {
  int64_t **cands;
  long k = contract_offers(r, c, day, n, &cands);
  if (k <= 0)
    return (int)k;
  size_t best = fx_settle_contract_pick_offer(r->c_out, n, (const int64_t *const *)cands, (size_t)k);
  int rc = 0;
  for (size_t j = 0; j < n && rc == 0; j++) {
    r->c_in[j].have |= FX_SETTLE_HAVE_OFFER, r->c_in[j].offered_w = cands[best][j];
    rc = fx_settle_contract_isp(&r->c_in[j], &r->c_out[j]) == FX_SETTLE_OK ? 0 : -1;
  }
  free(cands);
  return rc;
}

static int contract_period(struct run *r, const struct fx_contract_cfg *c, int32_t day,
                           struct fx_contract_settlement_period *p) {
  int n = fx_calendar_isp_count(r->mk->cal, day, r->mk->isp_us);
  if (n <= 0 || n > FX_SETTLE_MAX_ISPS)
    return -1;
  contract_orders(r, c, day, r->ordered, n);
  size_t m = 0;
  for (int i = 0; i < n; i++) {
    struct fx_settle_contract_isp_in *in = &r->c_in[m];
    if (mk_contract_isp_in(r->mk, c, day, i, in) != 0)
      continue;
    in->have |= FX_SETTLE_HAVE_ORDER, in->ordered_w = r->ordered[i];
    if (fx_settle_contract_isp(in, &r->c_out[m++]) != FX_SETTLE_OK)
      return -1;
  }
  if (!m || contract_offered(r, c, day, m) != 0)
    return -1;
  fx_date_from_days(day, &p->period);
  p->isps = fx_arena_alloc(r->arena, m * sizeof *p->isps);
  if (!p->isps)
    return -1;
  for (size_t j = 0; j < m; j++) {
    const struct fx_settle_contract_isp_out *o = &r->c_out[j];
    p->isps[j] = (struct fx_contract_settlement_isp){
        .start = r->c_in[j].start, .duration = 1, .reserved_power = o->reserved_w,
        .has_requested_power = o->present & FX_SETTLE_HAS_REQUESTED, .requested_power = o->requested_w,
        .has_available_power = o->present & FX_SETTLE_HAS_AVAILABLE, .available_power = o->available_w,
        .has_offered_power = o->present & FX_SETTLE_HAS_OFFERED, .offered_power = o->offered_w,
        .has_ordered_power = o->present & FX_SETTLE_HAS_ORDERED, .ordered_power = o->ordered_w};
  }
  p->n_isps = m;
  return 0;
}

static int contract_element(struct run *r, const struct fx_contract_cfg *c, struct fx_contract_settlement *cs) {
  int32_t a = c->from > r->from ? c->from : r->from, b = c->to < r->to ? c->to : r->to;
  cs->contract_id = c->id;
  cs->periods = fx_arena_alloc(r->arena, (size_t)(b - a + 1) * sizeof *cs->periods);
  cs->n_periods = 0;
  if (!cs->periods)
    return -1;
  for (int32_t d = a; d <= b; d++)
    if (contract_period(r, c, d, &cs->periods[cs->n_periods]) == 0)
      cs->n_periods++;
  return cs->n_periods ? 0 : -1;
}

/* The AGR's contracts over the period; without any, one ContractSettlement
 * without ContractID that reserves nothing (the 3.1.0 XSD requires one):
 * PeriodStart, ISP 1 for the whole day, ReservedPower 0. */
static int contract_elements(struct run *r, struct fx_flex_settlement *fs) {
  const struct fx_config *cfg = r->mk->cfg;
  fs->contract_settlements = fx_arena_alloc(r->arena, (cfg->n_contracts + 1) * sizeof *fs->contract_settlements);
  if (!fs->contract_settlements)
    return -1;
  for (size_t i = 0; i < cfg->n_contracts; i++) {
    const struct fx_contract_cfg *c = &cfg->contracts[i];
    if (!strcmp(c->agr, r->agr) && c->from <= r->to && c->to >= r->from &&
        contract_element(r, c, &fs->contract_settlements[fs->n_contract_settlements]) == 0)
      fs->n_contract_settlements++;
  }
  if (fs->n_contract_settlements)
    return 0;
  struct fx_contract_settlement_period *p = fx_arena_alloc(r->arena, sizeof *p);
  struct fx_contract_settlement_isp *isp = fx_arena_alloc(r->arena, sizeof *isp);
  int n = fx_calendar_isp_count(r->mk->cal, r->from, r->mk->isp_us);
  if (!p || !isp || n <= 0)
    return -1;
  *isp = (struct fx_contract_settlement_isp){.start = 1, .duration = n, .reserved_power = 0};
  fx_date_from_days(r->from, &p->period);
  p->isps = isp, p->n_isps = 1;
  fs->contract_settlements[0] = (struct fx_contract_settlement){.periods = p, .n_periods = 1};
  fs->n_contract_settlements = 1;
  return 0;
}

/* ---- one AGR ---------------------------------------------------------------------------------- */

static void store_header(struct run *r, bool held) {
  uint8_t *b = fx_seq_alloc(r->ctx, 56);
  if (!b)
    return;
  memset(b, 0, 56);
  b[0] = 'H', b[1] = 1, b[2] = held;
  mk_st32(b + 4, (uint32_t)r->from), mk_st32(b + 8, (uint32_t)r->to);
  mk_st32(b + 12, (uint32_t)r->totals.orders), mk_st32(b + 16, (uint32_t)r->totals.incomplete);
  mk_st64(b + 24, (uint64_t)r->totals.price), mk_st64(b + 32, (uint64_t)r->totals.penalty);
  mk_st64(b + 40, (uint64_t)r->totals.net);
  memcpy(b + 48, r->mk->cfg->currency, strlen(r->mk->cfg->currency));
  put_settlement_obj(r, &r->msg_id, NULL, b, 56);
}

static int send_settlement(struct run *r) {
  struct fx_msg m;
  struct fx_uuid zero = {{0}};
  memset(&m, 0, sizeof m);
  m.type = FX_MSG_FLEX_SETTLEMENT;
  m.result = FX_RESULT_ACCEPTED; /* FlexSettlement extends PayloadMessageResponseType in 3.1.0 */
  m.hdr = (struct fx_msg_header){.version = "3.1.0", .sender_domain = r->mk->cfg->domain,
                                 .recipient_domain = r->agr, .timestamp = {fx_seq_now(r->ctx), 0},
                                 .message_id = r->msg_id};
  fx_uuid_derive(&m.hdr.conversation_id, "flexd.settlement-conversation", &zero, r->msg_id_text);
  struct fx_flex_settlement *fs = &m.u.flex_settlement;
  fx_date_from_days(r->from, &fs->period_start);
  fx_date_from_days(r->to, &fs->period_end);
  fs->currency = r->mk->cfg->currency;
  fs->flex_order_settlements = r->fos, fs->n_flex_order_settlements = r->n_fos;
  if (contract_elements(r, fs) != 0)
    return -1;
  return fx_seq_send(r->ctx, &m, FX_ROLE_AGR, FX_ROLE_DSO);
}

static int settle_agr(struct run *r, const char *agr) {
  size_t n_cps;
  const char **cps = agr_cps(r->mk, agr, &n_cps);
  char salt[MK_DOMAIN + 64];
  struct fx_uuid zero = {{0}};
  if (!cps || !(r->arena = fx_arena_new(0))) {
    free(cps);
    return -1;
  }
  r->agr = agr, r->n_fos = 0, r->n_items = 0;
  fx_settle_totals_init(&r->totals);
  snprintf(salt, sizeof salt, "%s|%d|%d|%lld", agr, (int)r->from, (int)r->to, (long long)fx_seq_now(r->ctx));
  fx_uuid_derive(&r->msg_id, "flexd.settlement", &zero, salt);
  fx_uuid_format(&r->msg_id, r->msg_id_text);
  int rc = 0;
  for (size_t i = 0; i < n_cps && rc == 0; i++)
    for (int32_t d = r->from; d <= r->to && rc == 0; d++)
      rc = settle_market(r, cps[i], d);
  free(cps);
  if (rc == 0 && r->n_fos) {
    /* Orders lacking metering or a baseline cannot be sent (ActualPower is
     * required): the AGR's settlement is held, and says why in the store. */
    bool held = r->totals.incomplete > 0;
    if (!held)
      rc = send_settlement(r);
    if (rc == 0) {
      store_header(r, held);
      for (size_t i = 0; i < r->n_items; i++)
        put_settlement_obj(r, &r->items[i].id, &r->msg_id, r->items[i].body, r->items[i].len);
      if (!held)
        rc = settlement_add(r->mk, &r->msg_id, agr, r->from, r->to, FX_SETTLE_SENT);
      r->step_messages += !held;
      r->step_orders += (int)r->totals.orders;
      r->step_incomplete += (int)r->totals.incomplete;
    }
  }
  fx_arena_free(r->arena);
  r->arena = NULL;
  return rc;
}

/* ---- the run: one command, one AGR with orders per group ---------------------------------- */

/* What a run keeps between its groups (owned through fx_market_settlement.job).
 * The AGRs are fixed when the run starts; their names are copied, because the
 * common reference may change between two groups. */
struct settle_job {
  void (*done)(struct fx_seq_command *cmd); /* the caller's */
  char **agrs;
  size_t n_agrs, next;
  bool failed;
  int step_messages, step_orders, step_incomplete; /* the last group's, counted once it commits */
};

static void job_free(struct settle_job *job) {
  for (size_t i = 0; job && i < job->n_agrs; i++)
    free(job->agrs[i]);
  if (job)
    free(job->agrs);
  free(job);
}

static struct settle_job *job_new(struct fx_market *mk) {
  size_t n = 0;
  const char **agrs = run_agrs(mk, &n);
  struct settle_job *job = calloc(1, sizeof *job);
  bool ok = agrs && job && (job->agrs = calloc(n + 1, sizeof *job->agrs));
  for (size_t i = 0; ok && i < n; i++)
    ok = (job->agrs[job->n_agrs++] = strdup(agrs[i])) != NULL;
  free(agrs);
  if (ok)
    return job;
  job_free(job);
  return NULL;
}

static void step_done(struct fx_seq_command *cmd);

/* The first group: counters, the AGR list, and the caller's done put aside. */
static struct settle_job *job_start(struct fx_market *mk, struct fx_seq_command *cmd) {
  struct fx_market_settlement *out = cmd->arg;
  out->messages = out->orders = out->incomplete = 0, out->error = -1;
  if (out->to < out->from || out->to - out->from > 366)
    return NULL;
  struct settle_job *job = job_new(mk);
  if (!job)
    return NULL;
  job->done = cmd->done;
  out->job = job;
  cmd->done = step_done;
  return job;
}

/* Settles AGRs from job->next on: all of them without a sequencer to continue
 * on, else up to and including the first one that has orders. */
static void run_step(struct fx_market *mk, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd,
                     struct settle_job *job) {
  struct fx_market_settlement *out = cmd->arg;
  struct run *r = calloc(1, sizeof *r);
  if (!r || !(r->reader = fx_reader_new(NULL)) || !(r->req_reader = fx_reader_new(NULL))) {
    if (r)
      fx_reader_free(r->reader);
    free(r);
    job->failed = true;
    return;
  }
  r->mk = mk, r->ctx = ctx, r->rd = fx_seq_read(ctx), r->out = out;
  r->from = out->from, r->to = out->to, r->isp_minutes = mk->isp_us / 60000000;
  int rc = 0;
  while (rc == 0 && job->next < job->n_agrs) {
    rc = settle_agr(r, job->agrs[job->next++]);
    if (out->seq && r->n_fos)
      break;
  }
  job->failed = rc != 0;
  job->step_messages = r->step_messages, job->step_orders = r->step_orders;
  job->step_incomplete = r->step_incomplete;
  if (rc != 0)
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "settlement_failed",
                FX_LOG_KV(FX_LS("recipient", job->agrs[job->next - 1])),
                "settlement run stopped at AGR %s; it is not settled", job->agrs[job->next - 1]);
  fx_reader_free(r->reader);
  fx_reader_free(r->req_reader);
  free(r->fos);
  free(r->items);
  free(r);
}

/* For tests over the real `flexd serve` (tests/test_reload_settle.c), as
 * fx_market_clearing_hold is for tests in process: with the environment
 * variable FLEXD_TEST_SETTLEMENT_GATE naming a FIFO, a run that goes on in
 * another group waits at the end of each group but its last, on the
 * sequencer thread before the group commits, until the FIFO gives one byte
 * or has no writer left; the log says it waits. A test that keeps the FIFO
 * open for writing thus holds a run under way for as long as it likes and
 * lets it go on by writing or closing. Unset, as in production, it costs a
 * getenv per group. */
static void test_gate(const struct fx_market *mk) {
  const char *path = getenv("FLEXD_TEST_SETTLEMENT_GATE");
  if (!path || !path[0])
    return;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* no writer: no wait */
  if (fd < 0)
    return;
  int fl = fcntl(fd, F_GETFL);
  if (fl != -1 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0) {
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_INFO, "settlement_gate", NULL, 0,
                "settlement run waits at the test gate %s", path);
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
      ;
  }
  close(fd);
}

void fx_market_run_settlement(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market_settlement *out = cmd->arg;
  mk_group_begin(market, ctx);
  struct settle_job *job = out->job ? out->job : job_start(market, cmd);
  if (job)
    run_step(market, ctx, cmd, job);
  if (job && !job->failed && out->seq && job->next < job->n_agrs)
    test_gate(market);
  mk_group_end(market);
}

/* On the loop thread after each group: count what committed, then either
 * queue the command again or hand it back to the caller's done. */
static void step_done(struct fx_seq_command *cmd) {
  struct fx_market_settlement *out = cmd->arg;
  struct settle_job *job = out->job;
  bool ok = cmd->store_err == 0 && !job->failed;
  if (cmd->store_err == 0) {
    out->messages += job->step_messages, out->orders += job->step_orders;
    out->incomplete += job->step_incomplete;
  }
  job->step_messages = job->step_orders = job->step_incomplete = 0;
  if (ok && out->seq && job->next < job->n_agrs) {
    fx_sequencer_command(out->seq, cmd);
    return;
  }
  out->error = ok ? 0 : -1;
  cmd->done = job->done;
  out->job = NULL;
  job_free(job);
  if (cmd->done)
    cmd->done(cmd);
}

/* ---- the monthly schedule ---------------------------------------------------------------------- */

int64_t fx_market_settlement_due(const struct fx_config *cfg, int64_t after_us, int32_t *from, int32_t *to) {
  struct fx_calendar *cal = fx_calendar_new(cfg->time_zone);
  if (!cal)
    return INT64_MAX;
  int y, mo, d;
  fx_civil_from_days(fx_calendar_day_of(cal, after_us), &y, &mo, &d);
  int64_t t = INT64_MAX;
  for (int k = 0; k < 3 && t == INT64_MAX; k++) {
    int32_t run_day = fx_days_from_civil(y, mo, cfg->settlement_day);
    struct fx_day day;
    if (fx_calendar_day(cal, run_day, &day) == 0 &&
        day.start_us + (int64_t)cfg->settlement_minute * 60000000 > after_us) {
      t = day.start_us + (int64_t)cfg->settlement_minute * 60000000;
      *to = fx_days_from_civil(y, mo, 1) - 1;
      int py = mo == 1 ? y - 1 : y, pm = mo == 1 ? 12 : mo - 1;
      *from = fx_days_from_civil(py, pm, 1);
    }
    if (++mo > 12)
      mo = 1, y++;
  }
  fx_calendar_free(cal);
  return t;
}

/* ---- FlexSettlementResponse (AGR → platform) -------------------------------------------------- */

static void put_note(struct fx_seq_ctx *ctx, const struct mk_settlement *s, const uint8_t *about, const char *text) {
  size_t n = strlen(text) + 2;
  char *b = fx_seq_alloc(ctx, n);
  if (!b)
    return;
  b[0] = 'N';
  memcpy(b + 1, text, n - 1);
  struct fx_uuid from, id;
  memcpy(from.b, about, 16);
  fx_uuid_derive(&id, "flexd.settle-note", &from, NULL);
  struct fx_store_obj o = {.key = {.cp = "", .period = s->from, .kind = FX_OBJ_SETTLEMENT}, .state = FX_SETTLE_SENT,
                           .t_us = fx_seq_now(ctx), .ref = about, .owner = s->agr, .body = b, .body_len = n};
  memcpy(o.key.id, id.b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &o);
}

static void set_item_state(struct fx_seq_ctx *ctx, const struct mk_settlement *s, const uint8_t *id, uint8_t to) {
  struct fx_store_obj_key k = {.cp = "", .period = s->from, .kind = FX_OBJ_SETTLEMENT};
  memcpy(k.id, id, 16);
  fx_store_batch_set_state(fx_seq_batch(ctx), &k, to, fx_seq_now(ctx));
}

/* The item body's OrderReference (after the ISPs and the CP). */
static const char *item_reference(const uint8_t *b, size_t len) {
  size_t off = ITEM_HDR + ITEM_ISP * (size_t)fx_ld32(b + 8);
  if (len <= off)
    return "";
  const char *cp = (const char *)b + off;
  return cp + strlen(cp) + 1;
}

/* Is every OrderReference of the response one of this settlement's items? */
static bool statuses_known(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct mk_settlement *s,
                           const struct fx_flex_settlement_response *fr) {
  char text[FX_UUID_STRLEN];
  fx_uuid_format(&s->id, text);
  for (size_t i = 0; i < fr->n_flex_order_settlement_statuses; i++) {
    const char *ref = fr->flex_order_settlement_statuses[i].order_reference;
    struct fx_uuid order, item;
    struct fx_store_obj_view v;
    struct fx_store_obj_key k = {.cp = "", .period = s->from, .kind = FX_OBJ_SETTLEMENT};
    if (!ref || fx_uuid_parse(ref, strlen(ref), &order, NULL) != 0)
      return false;
    fx_uuid_derive(&item, "flexd.settle-item", &order, text);
    memcpy(k.id, item.b, 16);
    if (fx_store_obj_get(fx_seq_read(ctx), &k, &v) != 0 || memcmp(fx_store_obj_ref(&v), s->id.b, 16))
      return false;
  }
  (void)mk;
  return true;
}

static const struct fx_flex_order_settlement_status *status_of(const struct fx_flex_settlement_response *fr,
                                                                const char *ref) {
  for (size_t i = 0; i < fr->n_flex_order_settlement_statuses; i++)
    if (fr->flex_order_settlement_statuses[i].order_reference &&
        !strcmp(fr->flex_order_settlement_statuses[i].order_reference, ref))
      return &fr->flex_order_settlement_statuses[i];
  return NULL;
}

/* Items without a status are accepted (the catalog: disputes are stated per item). */
static void close_items(struct fx_seq_ctx *ctx, const struct mk_settlement *s, const struct fx_flex_settlement_response *fr) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int rc = fx_store_obj_iter(fx_seq_read(ctx), "", s->from, FX_OBJ_SETTLEMENT, &it);
  while (rc == 0 && fx_store_obj_next(&it, &v) == 1) {
    size_t len;
    const uint8_t *b = fx_store_obj_body(&v, &len);
    if (len < ITEM_HDR || b[0] != 'I' || memcmp(fx_store_obj_ref(&v), s->id.b, 16))
      continue;
    const struct fx_flex_order_settlement_status *st = status_of(fr, item_reference(b, len));
    bool disputed = st && st->disposition == FX_SETTLEMENT_DISPUTED;
    set_item_state(ctx, s, fx_store_obj_id(&v), disputed ? FX_SETTLE_REJECTED : FX_SETTLE_ACCEPTED);
    if (disputed) {
      uint8_t *about = fx_seq_alloc(ctx, 16);
      if (about) {
        memcpy(about, fx_store_obj_id(&v), 16);
        put_note(ctx, s, about, st->dispute_reason ? st->dispute_reason : "");
      }
    }
  }
  fx_store_iter_close(&it);
}

void mk_settle_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg, struct fx_verdict *v) {
  const struct fx_flex_settlement_response *fr = &msg->u.flex_settlement_response;
  struct mk_settlement *s = settlement_find(mk, &fr->flex_settlement_message_id);
  if (!s || strcmp(s->agr, msg->hdr.sender_domain)) {
    fx_verdict_add(v, MK_R_UNKNOWN_FS);
    return;
  }
  if (s->state != FX_SETTLE_SENT) {
    fx_verdict_add(v, MK_R_ANSWERED);
    return;
  }
  bool ok = msg->result == FX_RESULT_ACCEPTED;
  if (ok && !statuses_known(mk, ctx, s, fr)) {
    fx_verdict_add(v, MK_R_UNKNOWN_ORDER_REF);
    return;
  }
  s->state = ok ? FX_SETTLE_ACCEPTED : FX_SETTLE_REJECTED;
  set_item_state(ctx, s, s->id.b, s->state);
  if (ok) {
    close_items(ctx, s, fr);
    return;
  }
  const char *why = msg->rejection_reason ? msg->rejection_reason : "";
  char text[FX_UUID_STRLEN];
  fx_uuid_format(&s->id, text);
  fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_WARN, "settlement_rejected",
              FX_LOG_KV(FX_LS("sender", s->agr), FX_LS("message_id", text), FX_LS("reasons", why)),
              "settlement: %s rejected FlexSettlement %s: %s", s->agr, text, why);
  put_note(ctx, s, s->id.b, why);
}
