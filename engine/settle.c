/* settle.c — settlement of one FlexOrder and per-AGR totals (see settle.h).
 *
 * The method is the settle-phase chapter's, ISP by ISP:
 *   realized   = actual - baseline                    (flex the AGR produced)
 *   delivered  = realized on the ordered side, capped at ordered
 *   deviation  = actual - (baseline + ordered)        (from the adjusted baseline)
 *   deficiency = -deviation where it worsens the DSO's congestion and flex was
 *                ordered at that ISP, else 0
 * and per order, each rounded once (half away from zero, to 1e-4):
 *   Price   = OrderPrice × Σ|delivered| / Σ|ordered|   (pay-as-bid, pro rata)
 *   Penalty = rate × Σ|deficiency| / 1 MW  [× ISP hours when priced per MWh]
 *   Net     = Price − Penalty
 * Products are taken in 128 bits, so no step loses a digit before the final
 * division. */
#include "engine/settle.h"
#include <string.h>

__extension__ typedef __int128 i128;

static const char *const baseline_names[FX_SETTLE_BASELINE_COUNT] = {"prognosis", "measure-before", "like-days",
                                                                       "zero"};

const char *fx_settle_baseline_name(int b) {
  return b >= 0 && b < FX_SETTLE_BASELINE_COUNT ? baseline_names[b] : NULL;
}

int fx_settle_baseline_parse(const char *name) {
  for (int b = 0; b < FX_SETTLE_BASELINE_COUNT; b++)
    if (!strcmp(name, baseline_names[b]))
      return b;
  return -1;
}

const char *fx_settle_strerror(int rc) {
  switch (rc) {
  case FX_SETTLE_OK: return "ok";
  case FX_SETTLE_EINVAL: return "invalid settlement input";
  case FX_SETTLE_ENOSPC: return "result buffer too small";
  case FX_SETTLE_ERANGE: return "amount out of range";
  case FX_SETTLE_EGROW: return "reservation update grows the reservation";
  default: return "unknown settlement error";
  }
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/* num / den rounded half away from zero; den > 0. C division truncates toward
 * zero, so only the remainder's size decides the correction. */
static i128 div_round(i128 num, i128 den) {
  i128 q = num / den, r = num % den;
  if (r < 0)
    r = -r;
  if (2 * r >= den)
    q += num < 0 ? -1 : 1;
  return q;
}

static int fits64(i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static int valid_power(int64_t w) { return w >= -FX_SETTLE_MAX_W && w <= FX_SETTLE_MAX_W; }

/* Checks one ISP against the preconditions in settle.h. The congestion side must
 * agree with the ordered flex: an order against the congestion is a clearing
 * bug, and settling it quietly would hide that. */
static int check_isp(const struct fx_settle_isp_in *in, uint32_t prev_start) {
  if (in->start == 0 || in->start <= prev_start)
    return 0;
  if (!valid_power(in->ordered_w))
    return 0;
  if ((in->have & FX_SETTLE_HAVE_BASELINE) && !valid_power(in->baseline_w))
    return 0;
  if ((in->have & FX_SETTLE_HAVE_ACTUAL) && !valid_power(in->actual_w))
    return 0;
  switch (in->congestion) {
  case FX_SETTLE_CONGESTION_NONE: return 1;
  case FX_SETTLE_CONGESTION_CONSUMPTION: return in->ordered_w <= 0;
  case FX_SETTLE_CONGESTION_PRODUCTION: return in->ordered_w >= 0;
  default: return 0;
  }
}

/* Delivered flex: the realized deviation from the baseline, counted only on the
 * ordered side and only up to the ordered amount (passive over-delivery earns
 * nothing). */
static int64_t delivered_of(int64_t ordered, int64_t realized) {
  return ordered < 0 ? clamp64(realized, ordered, 0) : clamp64(realized, 0, ordered);
}

/* Power deficiency, single-sided: only a deviation that worsens the congestion,
 * only where flex was sold. It carries the sign of the flex the DSO needed, so
 * delivered + deficiency = ordered whenever the AGR fell short within the order. */
static int64_t deficiency_of(uint8_t congestion, int64_t ordered, int64_t deviation) {
  if (ordered == 0)
    return 0;
  if (congestion == FX_SETTLE_CONGESTION_CONSUMPTION && deviation > 0)
    return -deviation;
  if (congestion == FX_SETTLE_CONGESTION_PRODUCTION && deviation < 0)
    return -deviation;
  return 0;
}

static void settle_isp(const struct fx_settle_isp_in *in, struct fx_settle_isp_out *out) {
  *out = (struct fx_settle_isp_out){.start = in->start, .ordered_w = in->ordered_w};
  if (in->have & FX_SETTLE_HAVE_BASELINE)
    out->baseline_w = in->baseline_w;
  else
    out->missing |= FX_SETTLE_MISSING_BASELINE;
  if (in->have & FX_SETTLE_HAVE_ACTUAL)
    out->actual_w = in->actual_w;
  else
    out->missing |= FX_SETTLE_MISSING_ACTUAL;
  if (out->missing)
    return;
  out->delivered_w = delivered_of(in->ordered_w, in->actual_w - in->baseline_w);
  out->deficiency_w =
      deficiency_of(in->congestion, in->ordered_w, in->actual_w - (in->baseline_w + in->ordered_w));
}

static int check_order(const struct fx_settle_input *in, const struct fx_settle_result *res) {
  if (!in || !res || (in->n_isps && !in->isps))
    return FX_SETTLE_EINVAL;
  if (in->n_isps > FX_SETTLE_MAX_ISPS || in->penalty_rate < 0)
    return FX_SETTLE_EINVAL;
  if (in->isp_minutes < 1 || in->isp_minutes > 1440)
    return FX_SETTLE_EINVAL;
  if (in->penalty_unit != FX_SETTLE_PER_MW_PER_ISP && in->penalty_unit != FX_SETTLE_PER_MWH)
    return FX_SETTLE_EINVAL;
  if (in->n_isps > res->isps_cap || (in->n_isps && !res->isps))
    return FX_SETTLE_ENOSPC;
  return FX_SETTLE_OK;
}

/* The order's amounts from the ISP sums; see the top of this file. An order with
 * no ordered power has nothing to fall short of and earns its full price. */
static int settle_amounts(const struct fx_settle_input *in, struct fx_settle_result *res) {
  i128 price = in->order_price;
  if (res->ordered_w_isps > 0)
    price = div_round((i128)in->order_price * res->delivered_w_isps, res->ordered_w_isps);
  i128 num = (i128)in->penalty_rate * res->deficiency_w_isps, den = 1000000;
  if (in->penalty_unit == FX_SETTLE_PER_MWH) {
    num *= in->isp_minutes;
    den *= 60;
  }
  i128 penalty = div_round(num, den);
  i128 net = price - penalty;
  if (!fits64(price) || !fits64(penalty) || !fits64(net))
    return FX_SETTLE_ERANGE;
  res->price = (int64_t)price;
  res->penalty = (int64_t)penalty;
  res->net = (int64_t)net;
  return FX_SETTLE_OK;
}

int fx_settle_order(const struct fx_settle_input *in, struct fx_settle_result *res) {
  int rc = check_order(in, res);
  if (rc)
    return rc;
  res->n_isps = 0;
  res->status = FX_SETTLE_SETTLED;
  res->n_missing = 0;
  res->price = res->penalty = res->net = 0;
  res->ordered_w_isps = res->delivered_w_isps = res->deficiency_w_isps = 0;
  uint32_t prev = 0;
  for (size_t i = 0; i < in->n_isps; i++) {
    const struct fx_settle_isp_in *isp = &in->isps[i];
    if (!check_isp(isp, prev))
      return FX_SETTLE_EINVAL;
    prev = isp->start;
    struct fx_settle_isp_out *out = &res->isps[i];
    settle_isp(isp, out);
    /* Bounded by FX_SETTLE_MAX_ISPS × 3 × FX_SETTLE_MAX_W: no overflow. */
    res->ordered_w_isps += abs64(out->ordered_w);
    res->delivered_w_isps += abs64(out->delivered_w);
    res->deficiency_w_isps += abs64(out->deficiency_w);
    if (out->missing)
      res->n_missing++;
  }
  res->n_isps = in->n_isps;
  if (res->n_missing) {
    res->status = FX_SETTLE_INCOMPLETE;
    return FX_SETTLE_OK;
  }
  return settle_amounts(in, res);
}

void fx_settle_totals_init(struct fx_settle_totals *t) { *t = (struct fx_settle_totals){0}; }

static int add64(int64_t *acc, int64_t v) { return __builtin_add_overflow(*acc, v, acc); }

int fx_settle_totals_add(struct fx_settle_totals *t, const struct fx_settle_result *res) {
  struct fx_settle_totals n = *t;
  n.orders++;
  if (res->status != FX_SETTLE_SETTLED) {
    n.incomplete++;
    *t = n;
    return FX_SETTLE_OK;
  }
  n.settled++;
  if (add64(&n.price, res->price) || add64(&n.penalty, res->penalty) || add64(&n.net, res->net) ||
      add64(&n.ordered_w_isps, res->ordered_w_isps) ||
      add64(&n.delivered_w_isps, res->delivered_w_isps) ||
      add64(&n.deficiency_w_isps, res->deficiency_w_isps))
    return FX_SETTLE_ERANGE;
  *t = n;
  return FX_SETTLE_OK;
}
