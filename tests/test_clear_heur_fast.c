/* test_clear_heur_fast.c — the integer passes' fast paths (round 9) against
 * the plain computations they replace, state for state.
 *
 * clear_heur.c and cl_state_set no longer compute the way the passes read:
 * moves are tried read-only, a factor change is one pass, fill tries
 * factors on a gathered copy of a column's ISPs, remembers can_gain and
 * skips columns whose price-per-W bound cannot beat the best step so far,
 * cl_max_factor skips most divisions. None of that may change an answer.
 * So the plain versions are written here again, as the passes were before
 * (every column tried at every step, every trial through a state change
 * and back, the largest factor by a scan of every k), on the engine's
 * unchanged primitives (cl_isp_gain, fx_clear_order_power and _price), and
 * each fast pass must leave exactly the state its plain twin leaves — same
 * orders, totals, coverage and cost — on random markets: the small ones of
 * tests/support/clear_markets.h (negative prices, every disposition) and
 * wider ones below (more ISPs, rebounds, re-clearing on a base), and ones
 * where offers come in identical pairs (the market day's worst case: every
 * key ties). Round 11 (polc) added the model's column rankings, which
 * replace a sort of the orders per pass, and the early exits of prune,
 * drop and trim: the same plain passes hold them, and the rankings are
 * held to a plain sort of every column. Round 11 (tost) builds the LP's
 * rounded candidates in one pass (cl_state_rebuild) instead of order by
 * order: the rebuilt states are held to the orders set one by one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* ---- wider markets ---------------------------------------------------- */

#define W_ISPS 24
#define W_OFFERS 60
#define W_OPTS 3

struct wide {
  struct fx_clear_isp isps[W_ISPS];
  struct fx_clear_offer offers[W_OFFERS];
  struct fx_clear_option opts[W_OFFERS][W_OPTS];
  int64_t pw[W_OFFERS][W_OPTS][W_ISPS];
  int64_t base[W_ISPS];
  struct fx_clear_market m;
};

static void wide_isp(struct fx_cm_rng *r, struct fx_clear_isp *is, int64_t scale) {
  int64_t a = fx_cm_uni(r, 0, 6) * scale, b = a + fx_cm_uni(r, 0, 4) * scale;
  switch (fx_cm_uni(r, 0, 6)) {
  case 0: *is = (struct fx_clear_isp){FX_CLEAR_UNCONSTRAINED, 0, 0}; break;
  case 1: *is = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -b, a}; break;
  case 2: case 3: *is = (struct fx_clear_isp){FX_CLEAR_REQUESTED, a, b}; break;
  default: *is = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -b, -a}; break;
  }
}

/* Offers over windows of ISPs, mostly towards the need with a rebound now
 * and then, odd watts (so the rounding matters), prices of either sign,
 * minimum factors anywhere in 1..100; a base half the time. tiny: powers
 * and needs of a few watts, where the rounding of k·P/100 is most of the
 * power (half a watt rounds up to a whole one): the corners of the
 * rounding arithmetic. */
static void wide_gen(struct wide *w, uint64_t seed, size_t n_offers, bool tiny) {
  struct fx_cm_rng r = {seed};
  size_t n_isps = (size_t)fx_cm_uni(&r, 6, W_ISPS);
  int64_t scale = tiny ? fx_cm_uni(&r, 1, 4) : fx_cm_uni(&r, 1, 20) * 1000;
  for (size_t t = 0; t < n_isps; t++) wide_isp(&r, &w->isps[t], scale);
  bool with_base = fx_cm_uni(&r, 0, 1);
  for (size_t t = 0; t < n_isps; t++) w->base[t] = with_base ? fx_cm_uni(&r, -scale, scale) : 0;
  for (size_t i = 0; i < n_offers; i++) {
    size_t n_opt = (size_t)fx_cm_uni(&r, 1, W_OPTS);
    for (size_t j = 0; j < n_opt; j++) {
      size_t first = (size_t)fx_cm_uni(&r, 0, (int64_t)n_isps - 2);
      size_t n = (size_t)fx_cm_uni(&r, 1, (int64_t)(n_isps - first));
      if (n > 10) n = 10;
      int64_t dir = fx_cm_uni(&r, 0, 3) ? -1 : 1, kw = fx_cm_uni(&r, 1, scale / 400 + 2);
      for (size_t q = 0; q < n; q++)
        w->pw[i][j][q] = tiny ? dir * fx_cm_uni(&r, 0, 5)
                              : dir * (kw * 1000 + fx_cm_uni(&r, -kw * 300, kw * 300) + fx_cm_uni(&r, 0, 99));
      if (n > 1 && fx_cm_uni(&r, 0, 3) == 0) w->pw[i][j][n - 1] = -w->pw[i][j][n - 1] / 2;
      if (fx_cm_uni(&r, 0, 7) == 0) w->pw[i][j][fx_cm_uni(&r, 0, (int64_t)n - 1)] = 0;
      int64_t price = fx_cm_uni(&r, -200, 20000) * kw;
      int min_af = fx_cm_uni(&r, 0, 2) == 0 ? 100 : (int)fx_cm_uni(&r, 1, 100);
      w->opts[i][j] = (struct fx_clear_option){price, min_af, first, n, w->pw[i][j]};
    }
    w->offers[i] = (struct fx_clear_offer){n_opt, w->opts[i]};
  }
  w->m = (struct fx_clear_market){{n_isps, w->isps}, n_offers, w->offers,
                                  with_base ? w->base : NULL};
}

/* Every odd offer a copy of the even one before it: identical columns, so
 * equal keys everywhere and ties decided by arrival alone (the options are
 * shared, which the model allows: it only reads them). */
static void wide_twins(struct wide *w) {
  for (size_t i = 1; i < w->m.n_offers; i += 2) w->offers[i] = w->offers[i - 1];
}

/* ---- the plain computations ------------------------------------------ */

static void ref_apply(struct cl_state *st, const struct cl_model *md, size_t c, int k, int sign) {
  const struct cl_col *cl = &md->col[c];
  for (size_t q = 0; q < cl->n; q++) {
    size_t t = cl->first + q;
    int64_t before = cl_isp_gain(&md->isp[t], st->d[t]);
    st->d[t] += sign * fx_clear_order_power(cl->p[q], k);
    st->cov += cl_isp_gain(&md->isp[t], st->d[t]) - before;
  }
  st->cost += sign * fx_clear_order_price(cl->price, k);
}

static void ref_set(struct cl_state *st, const struct cl_model *md, size_t i, int c, int k) {
  if (st->col[i] >= 0) ref_apply(st, md, (size_t)st->col[i], st->k[i], -1);
  if (c < 0 || k <= 0) c = -1, k = 0;
  st->col[i] = c, st->k[i] = k;
  if (c >= 0) ref_apply(st, md, (size_t)c, k, 1);
}

static bool ref_col_ok(const struct cl_state *st, const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    int64_t v = t->s * st->d[cl->first + q];
    if (t->constrained && (v < t->lo || v > t->hi)) return false;
  }
  return true;
}

/* Largest k in [min_af, kcap] at which c's ISPs keep their bounds, by
 * trying every k (st holds no order of c's offer and keeps its bounds, so
 * the feasible factors are 0..some k: each ISP moves one way). */
static int ref_max_factor(const struct cl_state *st, const struct cl_model *md, size_t c,
                          int kcap) {
  const struct cl_col *cl = &md->col[c];
  for (int k = kcap; k >= cl->min_af; k--) {
    bool ok = true;
    for (size_t q = 0; q < cl->n && ok; q++) {
      const struct cl_isp *t = &md->isp[cl->first + q];
      int64_t v = t->s * (st->d[cl->first + q] + fx_clear_order_power(cl->p[q], k));
      ok = !t->constrained || (v >= t->lo && v <= t->hi);
    }
    if (ok) return k;
  }
  return 0;
}

static bool ref_repair_isp(struct cl_state *st, const struct cl_model *md, size_t t);

static void ref_repair(struct cl_state *st, const struct cl_model *md) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t t = 0; t < md->n_isps; t++)
      while (md->isp[t].constrained && ref_repair_isp(st, md, t)) changed = true;
  }
}

static void ref_lower(struct cl_state *st, const struct cl_model *md, size_t i, size_t t, int dir) {
  const struct cl_isp *is = &md->isp[t];
  int c = st->col[i], k = st->k[i];
  const struct cl_col *cl = &md->col[c];
  ref_set(st, md, i, -1, 0);
  int64_t sp = is->s * cl->p[t - cl->first], sd = is->s * st->d[t];
  int64_t slack = dir > 0 ? is->hi - sd : sd - is->lo, abs_p = sp > 0 ? sp : -sp;
  int64_t kt = slack < 0 ? -1 : (100 * slack + 49) / abs_p;
  int nk = kt < k - 1 ? (int)kt : k - 1;
  ref_set(st, md, i, c, nk >= cl->min_af ? nk : 0);
}

static bool ref_repair_isp(struct cl_state *st, const struct cl_model *md, size_t t) {
  const struct cl_isp *is = &md->isp[t];
  int64_t v = is->s * st->d[t];
  int dir = v > is->hi ? 1 : v < is->lo ? -1 : 0;
  if (!dir) return false;
  long best = -1;
  int64_t best_loss = 0, best_save = 0;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (st->col[i] < 0) continue;
    int c = st->col[i], k = st->k[i];
    const struct cl_col *cl = &md->col[c];
    if (t < cl->first || t >= cl->first + cl->n) continue;
    int64_t sp = is->s * cl->p[t - cl->first];
    if ((dir > 0 && sp <= 0) || (dir < 0 && sp >= 0)) continue;
    int64_t cov0 = st->cov, cost0 = st->cost;
    ref_lower(st, md, i, t, dir);
    int64_t loss = cov0 - st->cov, save = cost0 - st->cost;
    ref_set(st, md, i, c, k);
    if (best < 0 || loss < best_loss || (loss == best_loss && save >= best_save))
      best = (long)i, best_loss = loss, best_save = save;
  }
  if (best < 0) return false;
  ref_lower(st, md, (size_t)best, t, dir);
  return true;
}

/* fill_step as it read: the offer's order taken out of the state, the cap
 * by the scan, the least factor reaching target by bisection on the
 * state's own coverage, the order put back. */
static int ref_fill_step(struct cl_state *st, const struct cl_model *md, size_t c, int64_t target,
                         double *ratio) {
  size_t i = md->col[c].offer;
  int c0 = st->col[i], k0 = st->k[i];
  int64_t cov0 = st->cov, cost0 = st->cost;
  ref_set(st, md, i, -1, 0);
  int hi = c0 < 0 || ref_col_ok(st, md, (size_t)c0) ? ref_max_factor(st, md, c, 100) : 0;
  int lo = k0 + 1 > md->col[c].min_af ? k0 + 1 : md->col[c].min_af, k = 0;
  if (hi >= lo) {
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      ref_set(st, md, i, (int)c, mid);
      if (st->cov >= target) hi = mid;
      else lo = mid + 1;
      ref_set(st, md, i, -1, 0);
    }
    ref_set(st, md, i, (int)c, hi);
    int64_t cov = st->cov, cost = st->cost;
    ref_set(st, md, i, -1, 0);
    if (cov > cov0) k = hi, *ratio = (double)(cost - cost0) / (double)(cov - cov0);
  }
  ref_set(st, md, i, c0, k0);
  return k;
}

/* Every column at every step. The bisection above stops at the largest
 * factor when even that falls short, as the engine's early exit does. */
static void ref_fill(struct cl_state *st, const struct cl_model *md, int64_t target, size_t skip,
                     long *work) {
  for (int step = 0; step < 64 && st->cov < target; step++) {
    double best_ratio = HUGE_VAL;
    size_t best_c = 0;
    int best_k = 0;
    *work += (long)md->n_cols;
    for (size_t c = 0; c < md->n_cols; c++) {
      size_t i = md->col[c].offer;
      if (i == skip || (st->col[i] >= 0 && (size_t)st->col[i] != c) || st->k[i] == 100) continue;
      double ratio = HUGE_VAL;
      int k = ref_fill_step(st, md, c, target, &ratio);
      if (k && ratio < best_ratio) best_ratio = ratio, best_c = c, best_k = k;
    }
    if (!best_k) break;
    ref_set(st, md, md->col[best_c].offer, (int)best_c, best_k);
  }
}

static double ref_merit_key(const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  int64_t cov = 0;
  for (size_t q = 0; q < cl->n; q++) cov += cl_isp_gain(&md->isp[cl->first + q], cl->p[q]);
  return cov > 0 ? (double)cl->price / (double)cov : HUGE_VAL;
}

/* Orders, dearest first (by price, or per W), later arrival first. */
static size_t ref_orders(const struct cl_state *st, const struct cl_model *md, bool by_unit,
                         size_t *out) {
  size_t n = 0;
  for (size_t i = md->n_offers; i-- > 0;)
    if (st->col[i] >= 0) out[n++] = i;
  for (size_t a = 1; a < n; a++) /* stable insertion sort: ties keep later arrival first */
    for (size_t b = a; b > 0; b--) {
      size_t x = (size_t)st->col[out[b - 1]], y = (size_t)st->col[out[b]];
      double kx = by_unit ? ref_merit_key(md, x) : (double)md->col[x].price;
      double ky = by_unit ? ref_merit_key(md, y) : (double)md->col[y].price;
      if (!(ky > kx)) break;
      size_t tmp = out[b - 1];
      out[b - 1] = out[b], out[b] = tmp;
    }
  return n;
}

static void ref_prune(struct cl_state *st, const struct cl_model *md, size_t *ord) {
  size_t n = ref_orders(st, md, false, ord);
  for (size_t j = 0; j < n; j++) {
    size_t i = ord[j];
    int c = st->col[i], k = st->k[i];
    int64_t cov0 = st->cov;
    ref_set(st, md, i, -1, 0);
    if (st->cov != cov0 || !ref_col_ok(st, md, (size_t)c)) ref_set(st, md, i, c, k);
  }
}

static void ref_drop(struct cl_state *st, const struct cl_model *md, int64_t target, size_t *ord) {
  if (st->cov <= target) return;
  size_t n = ref_orders(st, md, true, ord);
  for (size_t j = 0; j < n && st->cov > target; j++) {
    size_t i = ord[j];
    int c = st->col[i], k = st->k[i];
    if (md->col[c].price <= 0) continue;
    ref_set(st, md, i, -1, 0);
    if (st->cov < target || !ref_col_ok(st, md, (size_t)c)) ref_set(st, md, i, c, k);
  }
}

static bool ref_trim_ok(struct cl_state *st, const struct cl_model *md, size_t i, int c, int k,
                        int64_t floor) {
  ref_set(st, md, i, c, k);
  return st->cov >= floor && ref_col_ok(st, md, (size_t)c);
}

static void ref_trim(struct cl_state *st, const struct cl_model *md, int64_t target, size_t *ord) {
  size_t n = ref_orders(st, md, true, ord);
  for (size_t j = 0; j < n; j++) {
    size_t i = ord[j];
    int c = st->col[i], k = st->k[i], lo = md->col[c].min_af, hi = k;
    if (md->col[c].price <= 0 || k <= lo) continue;
    int64_t floor = st->cov < target ? st->cov : target;
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      if (ref_trim_ok(st, md, i, c, mid, floor)) hi = mid;
      else lo = mid + 1;
    }
    if (!ref_trim_ok(st, md, i, c, hi, floor)) ref_set(st, md, i, c, k);
  }
}

static double ref_nudge_ratio(struct cl_state *st, const struct cl_model *md, size_t i) {
  int c = st->col[i], k = st->k[i];
  if (c < 0 || k >= 100) return HUGE_VAL;
  int64_t cov0 = st->cov, cost0 = st->cost;
  ref_set(st, md, i, c, k + 1);
  int64_t g = st->cov - cov0, dc = st->cost - cost0;
  bool ok = g > 0 && ref_col_ok(st, md, (size_t)c);
  ref_set(st, md, i, c, k);
  return ok ? (double)dc / (double)g : HUGE_VAL;
}

static void ref_nudge(struct cl_state *st, const struct cl_model *md, int64_t target) {
  int steps = 0;
  while (st->cov < target && steps < 1024) {
    double r1 = HUGE_VAL, r2 = HUGE_VAL;
    size_t best = 0;
    for (size_t i = 0; i < md->n_offers; i++) {
      double r = ref_nudge_ratio(st, md, i);
      if (r < r1) r2 = r1, r1 = r, best = i;
      else if (r < r2) r2 = r;
    }
    if (r1 == HUGE_VAL) break;
    double r = r1;
    while (r <= r2 && r < HUGE_VAL && st->cov < target && steps < 1024) {
      ref_set(st, md, best, st->col[best], st->k[best] + 1);
      steps++;
      r = ref_nudge_ratio(st, md, best);
    }
  }
}

static void ref_polish(struct cl_state *st, const struct cl_model *md, int64_t target,
                       size_t *ord) {
  long work = 0;
  ref_repair(st, md);
  ref_fill(st, md, target, SIZE_MAX, &work);
  ref_prune(st, md, ord);
  ref_drop(st, md, target, ord);
  ref_trim(st, md, target, ord);
}

static void ref_swap(struct cl_state *st, struct cl_state *tmp, const struct cl_model *md,
                     int64_t target, long budget, bool *hit, size_t *ord, size_t *ord2) {
  long work = 0;
  for (int pass = 0; pass < 8 && work < budget; pass++) {
    int64_t cost0 = st->cost, cov0 = st->cov;
    size_t n = ref_orders(st, md, true, ord2);
    for (size_t j = 0; j < n && work < budget; j++) {
      size_t i = ord2[j];
      if (st->col[i] < 0) continue;
      cl_state_copy(tmp, st, md);
      ref_set(tmp, md, i, -1, 0);
      ref_repair(tmp, md);
      ref_fill(tmp, md, target, i, &work);
      ref_prune(tmp, md, ord);
      ref_drop(tmp, md, target, ord);
      ref_trim(tmp, md, target, ord);
      if (cl_state_feasible(tmp, md) && cl_state_better(tmp, st, target)) cl_state_copy(st, tmp, md);
    }
    if (st->cost == cost0 && st->cov == cov0) break;
  }
  if (work >= budget) *hit = true;
}

/* ---- the comparisons ------------------------------------------------- */

static void same_state(const struct cl_state *a, const struct cl_state *b,
                       const struct cl_model *md, const char *what, uint64_t seed) {
  for (size_t i = 0; i < md->n_offers; i++) {
    cr_assert_eq(a->col[i], b->col[i], "%s (seed %llu): offer %zu's option", what,
                 (unsigned long long)seed, i);
    cr_assert_eq(a->k[i], b->k[i], "%s (seed %llu): offer %zu's factor", what,
                 (unsigned long long)seed, i);
  }
  for (size_t t = 0; t < md->n_isps; t++)
    cr_assert_eq(a->d[t], b->d[t], "%s (seed %llu): ISP %zu", what, (unsigned long long)seed, t);
  cr_assert_eq(a->cov, b->cov, "%s (seed %llu): coverage", what, (unsigned long long)seed);
  cr_assert_eq(a->cost, b->cost, "%s (seed %llu): cost", what, (unsigned long long)seed);
}

/* The state's totals are what its orders add up to, by the plain sums. */
static void exact_totals(const struct cl_state *st, const struct cl_model *md) {
  struct cl_state x = {0};
  cr_assert_eq(cl_state_init(&x, md), 0);
  for (size_t i = 0; i < md->n_offers; i++)
    if (st->col[i] >= 0) ref_set(&x, md, i, st->col[i], st->k[i]);
  same_state(st, &x, md, "totals", 0);
  cl_state_free(&x);
}

/* One random start: empty, merit order, or random orders (bounds broken
 * as they come: repair is one of the passes compared). */
static void random_start(struct cl_state *st, const struct cl_model *md, struct fx_cm_rng *r) {
  cl_state_clear(st, md);
  switch (fx_cm_uni(r, 0, 2)) {
  case 0: break;
  case 1: cr_assert_eq(cl_merit(st, md), 0); break;
  default:
    for (size_t i = 0; i < md->n_offers; i++) {
      size_t n = md->offer_col[i + 1] - md->offer_col[i];
      if (!n || fx_cm_uni(r, 0, 2)) continue;
      size_t c = md->offer_col[i] + (size_t)fx_cm_uni(r, 0, (int64_t)n - 1);
      ref_set(st, md, i, (int)c, (int)fx_cm_uni(r, md->col[c].min_af, 100));
    }
  }
}

static int64_t random_target(const struct cl_state *st, const struct cl_model *md,
                             struct fx_cm_rng *r) {
  switch (fx_cm_uni(r, 0, 4)) {
  case 0: return INT64_MAX;
  case 1: return md->need;
  case 2: return st->cov + fx_cm_uni(r, 1, 2000);
  case 3: return md->need - md->need / (int64_t)fx_cm_uni(r, 2, 1000);
  default: return st->cov - fx_cm_uni(r, 0, 500);
  }
}

/* Checks one market; returns how many comparisons it made. */
typedef int (*market_fn)(const struct fx_clear_market *m, uint64_t seed);

/* Both families of random markets, n of each, through fn; at least n
 * comparisons in all (a generator that made only empty markets would
 * prove nothing). */
static void each_market(int n, market_fn fn) {
  int made = 0;
  for (int s = 0; s < n; s++) {
    struct fx_cm_market *k = malloc(sizeof *k);
    struct wide *w = malloc(sizeof *w);
    cr_assert(k && w);
    fx_cm_gen(k, 900 + (uint64_t)s, 8 + (size_t)s % 40, s % 4 ? 99 : 30, s % 3 == 0);
    made += fn(&k->m, 900 + (uint64_t)s);
    wide_gen(w, 7000 + (uint64_t)s, 10 + (size_t)s % (W_OFFERS - 10), false);
    made += fn(&w->m, 7000 + (uint64_t)s);
    wide_gen(w, 9000 + (uint64_t)s, 10 + (size_t)s % (W_OFFERS - 10), true);
    made += fn(&w->m, 9000 + (uint64_t)s);
    wide_gen(w, 11000 + (uint64_t)s, 10 + (size_t)s % (W_OFFERS - 10), s % 2);
    wide_twins(w);
    made += fn(&w->m, 11000 + (uint64_t)s);
    free(k);
    free(w);
  }
  cr_assert_geq(made, n, "%d comparisons", made);
}

struct twin {
  struct cl_model md;
  struct cl_state a, b, tmp;
  size_t *ord, *ord2;
};

static void twin_init(struct twin *tw, const struct fx_clear_market *m) {
  cr_assert_eq(cl_model_init(&tw->md, m), 0);
  memset(&tw->a, 0, sizeof tw->a), memset(&tw->b, 0, sizeof tw->b), memset(&tw->tmp, 0, sizeof tw->tmp);
  cr_assert_eq(cl_state_init(&tw->a, &tw->md), 0);
  cr_assert_eq(cl_state_init(&tw->b, &tw->md), 0);
  cr_assert_eq(cl_state_init(&tw->tmp, &tw->md), 0);
  tw->ord = malloc((m->n_offers + 1) * sizeof *tw->ord);
  tw->ord2 = malloc((m->n_offers + 1) * sizeof *tw->ord2);
  cr_assert(tw->ord && tw->ord2);
}

static void twin_free(struct twin *tw) {
  cl_state_free(&tw->a), cl_state_free(&tw->b), cl_state_free(&tw->tmp);
  free(tw->ord), free(tw->ord2);
  cl_model_free(&tw->md);
}

static int check_set(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed};
  int n = 0;
  for (; n < 400 && tw.md.n_cols; n++) {
    size_t c = (size_t)fx_cm_uni(&r, 0, (int64_t)tw.md.n_cols - 1), i = tw.md.col[c].offer;
    int k = fx_cm_uni(&r, 0, 3) == 0 ? 0 : (int)fx_cm_uni(&r, 1, 100);
    if (tw.a.col[i] >= 0 && fx_cm_uni(&r, 0, 1)) c = (size_t)tw.a.col[i]; /* a factor change */
    cl_state_set(&tw.a, &tw.md, i, (int)c, k);
    ref_set(&tw.b, &tw.md, i, (int)c, k);
    same_state(&tw.a, &tw.b, &tw.md, "cl_state_set", seed);
  }
  twin_free(&tw);
  return n;
}

Test(clear_heur_fast, state_set_matches_take_out_and_put_back) {
  each_market(60, check_set);
}

static int check_max_factor(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed};
  int checked = 0;
  for (int n = 0; n < 12; n++) {
    random_start(&tw.a, &tw.md, &r);
    for (size_t c = 0; c < tw.md.n_cols; c++) {
      size_t i = tw.md.col[c].offer;
      cl_state_copy(&tw.b, &tw.a, &tw.md);
      cl_state_set(&tw.b, &tw.md, i, -1, 0);
      if (!cl_state_feasible(&tw.b, &tw.md)) continue;
      int kcap = fx_cm_uni(&r, 0, 1) ? 100 : (int)fx_cm_uni(&r, 1, 100);
      cr_assert_eq(cl_max_factor(&tw.b, &tw.md, c, kcap), ref_max_factor(&tw.b, &tw.md, c, kcap),
                   "seed %llu column %zu kcap %d", (unsigned long long)seed, c, kcap);
      checked++;
    }
  }
  twin_free(&tw);
  return checked;
}

Test(clear_heur_fast, max_factor_matches_a_scan_of_every_factor) {
  each_market(60, check_max_factor);
}

static int check_passes(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed};
  for (int n = 0; n < 6; n++) {
    random_start(&tw.a, &tw.md, &r);
    cl_state_copy(&tw.b, &tw.a, &tw.md);
    int64_t target = random_target(&tw.a, &tw.md, &r);
    long work = 0;
    cr_assert_eq(cl_repair(&tw.a, &tw.md), 0);
    ref_repair(&tw.b, &tw.md);
    same_state(&tw.a, &tw.b, &tw.md, "repair", seed);
    cr_assert_eq(cl_fill(&tw.a, &tw.md, target), 0);
    ref_fill(&tw.b, &tw.md, target, SIZE_MAX, &work);
    same_state(&tw.a, &tw.b, &tw.md, "fill", seed);
    cr_assert_eq(cl_prune(&tw.a, &tw.md), 0);
    ref_prune(&tw.b, &tw.md, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "prune", seed);
    cr_assert_eq(cl_drop(&tw.a, &tw.md, target), 0);
    ref_drop(&tw.b, &tw.md, target, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "drop", seed);
    cr_assert_eq(cl_trim(&tw.a, &tw.md, target), 0);
    ref_trim(&tw.b, &tw.md, target, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "trim", seed);
    /* nudge from a state a little short of a fresh target */
    int64_t t2 = tw.a.cov + fx_cm_uni(&r, 1, 3000);
    cr_assert_eq(cl_nudge(&tw.a, &tw.md, t2), 0);
    ref_nudge(&tw.b, &tw.md, t2);
    same_state(&tw.a, &tw.b, &tw.md, "nudge", seed);
    exact_totals(&tw.a, &tw.md);
  }
  twin_free(&tw);
  return 6;
}

/* prune, drop and trim do not need the bounds to hold (the engine runs
 * trim on merit order's answer, for one): random orders, not repaired. */
static int check_unrepaired(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed};
  for (int n = 0; n < 6; n++) {
    cl_state_clear(&tw.a, &tw.md);
    for (size_t i = 0; i < tw.md.n_offers; i++) {
      size_t nc = tw.md.offer_col[i + 1] - tw.md.offer_col[i];
      if (!nc || fx_cm_uni(&r, 0, 1)) continue;
      size_t c = tw.md.offer_col[i] + (size_t)fx_cm_uni(&r, 0, (int64_t)nc - 1);
      cl_state_set(&tw.a, &tw.md, i, (int)c, (int)fx_cm_uni(&r, tw.md.col[c].min_af, 100));
    }
    cl_state_copy(&tw.b, &tw.a, &tw.md);
    int64_t target = random_target(&tw.a, &tw.md, &r);
    cr_assert_eq(cl_prune(&tw.a, &tw.md), 0);
    ref_prune(&tw.b, &tw.md, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "prune, bounds broken", seed);
    cr_assert_eq(cl_drop(&tw.a, &tw.md, target), 0);
    ref_drop(&tw.b, &tw.md, target, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "drop, bounds broken", seed);
    cr_assert_eq(cl_trim(&tw.a, &tw.md, target), 0);
    ref_trim(&tw.b, &tw.md, target, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "trim, bounds broken", seed);
  }
  twin_free(&tw);
  return 6;
}

Test(clear_heur_fast, prune_drop_trim_on_states_that_break_bounds) {
  each_market(60, check_unrepaired);
}

Test(clear_heur_fast, each_pass_leaves_the_plain_passes_state) {
  each_market(80, check_passes);
}

static int check_polish_swap(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed};
  for (int n = 0; n < 3; n++) {
    random_start(&tw.a, &tw.md, &r);
    cl_state_copy(&tw.b, &tw.a, &tw.md);
    int64_t target = random_target(&tw.a, &tw.md, &r);
    cr_assert_eq(cl_polish(&tw.a, &tw.md, target), 0);
    ref_polish(&tw.b, &tw.md, target, tw.ord);
    same_state(&tw.a, &tw.b, &tw.md, "polish", seed);
    long budget = fx_cm_uni(&r, 0, 1) ? 200000 : (long)fx_cm_uni(&r, 1, 5) * (long)tw.md.n_cols;
    bool hit_a = false, hit_b = false;
    cr_assert_eq(cl_swap(&tw.a, &tw.md, target, budget, &hit_a), 0);
    ref_swap(&tw.b, &tw.tmp, &tw.md, target, budget, &hit_b, tw.ord, tw.ord2);
    same_state(&tw.a, &tw.b, &tw.md, "swap", seed);
    cr_assert_eq(hit_a, hit_b, "swap's budget (seed %llu)", (unsigned long long)seed);
  }
  twin_free(&tw);
  return 3;
}

Test(clear_heur_fast, polish_and_local_search_leave_the_plain_state) {
  each_market(40, check_polish_swap);
}

/* ---- fill on the bench's shape (round 20, pol20) ----------------------- */

/* Markets shaped like the bench's (bench/bench_clear.c): a block of
 * Requested ISPs in the middle whose need is a share (scarcity) of what
 * the offers could bring there, Available ISPs either side whose bands are
 * a fifth of that supply plus a little, so that late in a fill most new
 * orders are stopped by a bound at their least factor; offers over windows
 * of 3–8 ISPs pushing towards the need, a rebound now and then, full or
 * partial activation. Fill since round 20 asks first whether a bound stops
 * a new order (new_blocked, on fill_view's slacks), reads can_gain and the
 * room from fill_view, and skips new orders by a bound that caps each
 * ISP's gain at the order's power at its least factor (room_lb): the
 * plain fill, which tries every column at every step, must take the same
 * steps. */
static void dense_gen(struct wide *w, uint64_t seed, size_t n_offers, int scarcity_pct) {
  struct fx_cm_rng r = {seed};
  size_t n_isps = W_ISPS;
  int64_t supply[W_ISPS] = {0};
  for (size_t i = 0; i < n_offers; i++) {
    size_t n_opt = (size_t)fx_cm_uni(&r, 1, W_OPTS);
    size_t first = (size_t)fx_cm_uni(&r, 0, (int64_t)n_isps - 3), len = (size_t)fx_cm_uni(&r, 3, 8);
    if (first + len > n_isps) len = n_isps - first;
    for (size_t j = 0; j < n_opt; j++) {
      int64_t kw = fx_cm_uni(&r, 10, 500), sum = 0;
      for (size_t q = 0; q < len; q++) {
        w->pw[i][j][q] = -1000 * (kw + fx_cm_uni(&r, -kw / 4, kw / 4)) - fx_cm_uni(&r, 0, 99);
        sum -= w->pw[i][j][q];
      }
      if (fx_cm_uni(&r, 0, 3) == 0) w->pw[i][j][len - 1] = -w->pw[i][j][len - 1] / 2;
      int min_af = fx_cm_uni(&r, 0, 2) == 0 ? 100 : 100 - (int)fx_cm_uni(&r, 0, 99);
      w->opts[i][j] = (struct fx_clear_option){fx_cm_uni(&r, 10, 200) * sum / 100, min_af, first,
                                               len, w->pw[i][j]};
      if (j == 0)
        for (size_t q = 0; q < len; q++) supply[first + q] -= w->pw[i][j][q];
    }
    w->offers[i] = (struct fx_clear_offer){n_opt, w->opts[i]};
  }
  for (size_t t = 0; t < n_isps; t++) {
    int64_t sup = supply[t] > 0 ? supply[t] : 0;
    if (t >= n_isps / 3 && t < 2 * n_isps / 3) {
      int64_t need = sup * scarcity_pct / 100 + 1000;
      w->isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -3 * need / 2, -need};
    } else if (t % 7 == 3) {
      w->isps[t] = (struct fx_clear_isp){FX_CLEAR_UNCONSTRAINED, 0, 0};
    } else {
      int64_t band = sup / 5 + fx_cm_uni(&r, 0, 50000);
      w->isps[t] = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -band, band / 4};
    }
  }
  w->m = (struct fx_clear_market){{n_isps, w->isps}, n_offers, w->offers, NULL};
}

/* n markets of the bench's shape at scarcities 0.2–1.4 through fn. */
static void each_dense(int n, market_fn fn) {
  int made = 0;
  struct wide *w = malloc(sizeof *w);
  cr_assert(w);
  for (int s = 0; s < n; s++) {
    dense_gen(w, 13000 + (uint64_t)s, 20 + (size_t)s % (W_OFFERS - 19), 20 + 30 * (s % 5));
    made += fn(&w->m, 13000 + (uint64_t)s);
  }
  free(w);
  cr_assert_geq(made, n, "%d comparisons", made);
}

/* Fill from a polished state short of a target that asks for more: the
 * proof's roundings are repaired, filled and trimmed, and fill's later
 * steps run where most ISPs are near their bounds and most of the need is
 * met (where new_blocked and room_lb settle most columns). */
static int check_dense_fill(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed};
  int steps = 0;
  for (int n = 0; n < 8; n++) {
    random_start(&tw.a, &tw.md, &r);
    cr_assert_eq(cl_repair(&tw.a, &tw.md), 0);
    if (n % 2) { /* polished to a lower target first */
      cr_assert_eq(cl_polish(&tw.a, &tw.md, tw.a.cov + (tw.md.need - tw.a.cov) / 2), 0);
    }
    cl_state_copy(&tw.b, &tw.a, &tw.md);
    int64_t target = n % 4 == 3 ? INT64_MAX : random_target(&tw.a, &tw.md, &r);
    long work = 0;
    cr_assert_eq(cl_fill(&tw.a, &tw.md, target), 0);
    ref_fill(&tw.b, &tw.md, target, SIZE_MAX, &work);
    same_state(&tw.a, &tw.b, &tw.md, "fill, the bench's shape", seed);
    steps += work > 0;
  }
  twin_free(&tw);
  return steps;
}

Test(clear_heur_fast, fill_takes_the_plain_steps_on_the_bench_shape) {
  each_dense(120, check_dense_fill);
}

Test(clear_heur_fast, polish_and_local_search_on_the_bench_shape) {
  each_dense(40, check_polish_swap);
}

/* room_lb where it is tightest: a new order B whose least factor lo is
 * also its largest (an Available ISP caps it there), whose power rounds
 * half up at lo (lo·s·p = 100·g − 50: it gains g W, the bound's most) and
 * whose price rounds down by 49 (lo·price = 100·c + 49: it pays c, the
 * bound's least), so its ratio c/g is the bound's quotient but for one
 * unit of the numerator. An order A before it (column 0, tried first)
 * costs a thousandth of a unit per W more than B's ratio. Fill asked for
 * one watt more takes one step: B's. A bound one unit too high in the
 * numerator (−48 for −49 or −50) or one too low in the denominator (+49
 * for +50) would put B above A's ratio, B would not be tried, and fill
 * would take A. */
static int room_edge_case(int lo, int64_t sp, int64_t price) {
  int64_t g = (lo * sp + 50) / 100, c = (lo * price - 49) / 100;
  struct fx_clear_isp isps[2] = {{FX_CLEAR_REQUESTED, 100000000, 200000000},
                                 {FX_CLEAR_AVAILABLE, 0, lo}};
  int64_t pa[1] = {1000 * g}, pb[2] = {sp, 100};
  struct fx_clear_option oa = {1000 * c + 1, 100, 0, 1, pa}, ob = {price, lo, 0, 2, pb};
  struct fx_clear_offer of[2] = {{1, &oa}, {1, &ob}};
  struct fx_clear_market m = {{2, isps}, 2, of, NULL};
  struct twin tw;
  twin_init(&tw, &m);
  cr_assert_eq(tw.md.n_cols, 2);
  cr_assert_eq(fx_clear_order_power(sp, lo), g);
  cr_assert_eq(fx_clear_order_price(price, lo), c);
  long work = 0;
  cr_assert_eq(cl_fill(&tw.a, &tw.md, 1), 0);
  ref_fill(&tw.b, &tw.md, 1, SIZE_MAX, &work);
  same_state(&tw.a, &tw.b, &tw.md, "fill at the room bound's edge", (uint64_t)lo);
  cr_assert(tw.a.col[0] < 0 && tw.a.col[1] == 1 && tw.a.k[1] == lo,
            "lo %d s·p %lld price %lld: B's step", lo, (long long)sp, (long long)price);
  twin_free(&tw);
  return 1;
}

Test(clear_heur_fast, room_bound_at_the_rounding_edges) {
  int checked = 0;
  for (int lo = 1; lo < 100; lo += 2) {
    if (lo % 5 == 0) continue; /* lo·price = 100·c + 49 needs lo prime to 10 */
    for (int64_t sp = 50; sp <= 2050; sp += 500) {
      int64_t price = 20 * sp;
      while ((lo * price) % 100 != 49) price++;
      checked += room_edge_case(lo, sp, price);
    }
  }
  cr_assert_gt(checked, 150);
}

Test(clear_heur_fast, merit_key_is_the_plain_price_per_covered_watt) {
  struct wide *w = malloc(sizeof *w);
  cr_assert(w);
  for (uint64_t s = 0; s < 40; s++) {
    struct cl_model md;
    wide_gen(w, 300 + s, W_OFFERS, s % 2);
    cr_assert_eq(cl_model_init(&md, &w->m), 0);
    for (size_t c = 0; c < md.n_cols; c++) {
      double a = cl_merit_key(&md, c), b = ref_merit_key(&md, c);
      cr_assert(a == b, "seed %llu column %zu: %g vs %g", (unsigned long long)s, c, a, b);
    }
    cl_model_free(&md);
  }
  free(w);
}

/* The model's rankings against an insertion sort of every column on the
 * plain keys: the larger key first, the later column first among equal
 * ones (the order the passes' per-pass sorts of the orders gave). */
static void ref_rank(const struct cl_model *md, bool by_unit, size_t *out) {
  for (size_t c = 0; c < md->n_cols; c++) {
    double kc = by_unit ? ref_merit_key(md, c) : (double)md->col[c].price;
    size_t b = c;
    for (; b > 0; b--) {
      size_t o = out[b - 1];
      double ko = by_unit ? ref_merit_key(md, o) : (double)md->col[o].price;
      if (!(kc > ko || (kc == ko && c > o))) break;
      out[b] = o;
    }
    out[b] = c;
  }
}

static int check_rank(const struct fx_clear_market *m, uint64_t seed) {
  struct cl_model md;
  cr_assert_eq(cl_model_init(&md, m), 0);
  size_t *ref = malloc((md.n_cols + 1) * sizeof *ref);
  cr_assert(ref);
  for (int by_unit = 0; by_unit <= 1; by_unit++) {
    ref_rank(&md, by_unit, ref);
    const size_t *got = by_unit ? md.rank_unit : md.rank_price;
    for (size_t j = 0; j < md.n_cols; j++)
      cr_assert_eq(got[j], ref[j], "seed %llu: %s rank %zu", (unsigned long long)seed,
                   by_unit ? "unit" : "price", j);
  }
  int n = (int)md.n_cols;
  free(ref);
  cl_model_free(&md);
  return n;
}

Test(clear_heur_fast, model_rankings_are_a_plain_sort_of_every_column) {
  each_market(40, check_rank);
}

/* Merit order as it read: the cheapest per covered W first (the ranking
 * backwards: the earlier column first among equal keys), full
 * activation, kept when every bound holds and coverage grows. */
static int check_merit(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  size_t *ref = malloc((tw.md.n_cols + 1) * sizeof *ref);
  cr_assert(ref);
  ref_rank(&tw.md, true, ref);
  for (size_t n = tw.md.n_cols; n-- > 0;) {
    size_t c = ref[n], i = tw.md.col[c].offer;
    if (tw.b.col[i] >= 0) continue;
    int64_t cov0 = tw.b.cov;
    ref_set(&tw.b, &tw.md, i, (int)c, 100);
    if (!ref_col_ok(&tw.b, &tw.md, c) || tw.b.cov <= cov0) ref_set(&tw.b, &tw.md, i, -1, 0);
  }
  cr_assert_eq(cl_merit(&tw.a, &tw.md), 0);
  same_state(&tw.a, &tw.b, &tw.md, "merit order", seed);
  free(ref);
  twin_free(&tw);
  return 1;
}

Test(clear_heur_fast, merit_order_is_the_plain_one) {
  each_market(40, check_merit);
}

/* Every bound at and next to the rounding's edges: one offer covering a
 * Requested ISP's need, capped first by an Available ISP at some factor K
 * (100 W there, a bound of K W), then by a second Available ISP whose bound
 * its power p meets at the edge of the rounding: k·p = 100·bound + 50 for
 * k = K (the largest factor is K − 1 there), or round(k·p/100) exactly or
 * one watt either side. The largest factor allowed is what fill takes, so
 * both the cap and fill are checked against the scan and the plain fill. */
static int edge_case(int64_t p, int cap, int64_t edge) {
  struct fx_clear_isp isps[3] = {{FX_CLEAR_REQUESTED, 1000000, 2000000},
                                 {FX_CLEAR_AVAILABLE, 0, cap},
                                 {FX_CLEAR_AVAILABLE, p > 0 ? 0 : -edge, p > 0 ? edge : 0}};
  int64_t pw[3] = {1000, 100, p};
  struct fx_clear_option o = {1000, 1 + cap % 7, 0, 3, pw};
  struct fx_clear_offer of = {1, &o};
  struct fx_clear_market m = {{3, isps}, 1, &of, NULL};
  struct twin tw;
  twin_init(&tw, &m);
  cr_assert_eq(tw.md.n_cols, 1);
  cr_assert_eq(cl_max_factor(&tw.a, &tw.md, 0, 100), ref_max_factor(&tw.a, &tw.md, 0, 100),
               "p %lld cap %d edge %lld", (long long)p, cap, (long long)edge);
  long work = 0;
  cr_assert_eq(cl_fill(&tw.a, &tw.md, INT64_MAX), 0);
  ref_fill(&tw.b, &tw.md, INT64_MAX, SIZE_MAX, &work);
  same_state(&tw.a, &tw.b, &tw.md, "fill at a rounding edge", (uint64_t)(p < 0 ? -p : p));
  twin_free(&tw);
  return 1;
}

Test(clear_heur_fast, factor_caps_at_the_rounding_edges) {
  int checked = 0, exact = 0;
  for (int64_t p = 1; p <= 400; p += p < 30 ? 1 : 7)
    for (int sign = -1; sign <= 1; sign += 2)
      for (int cap = 1; cap <= 100; cap += 1) {
        if ((cap * p - 50) % 100 == 0 && cap * p >= 50) /* the half-watt edge at K */
          checked += edge_case(sign * p, cap, (cap * p - 50) / 100), exact++;
        if (cap % 9) continue;
        for (int k = 1; k <= 100; k += 11)
          for (int64_t e = -1; e <= 1; e++)
            if (fx_clear_order_power(p, k) + e >= 0)
              checked += edge_case(sign * p, cap, fx_clear_order_power(p, k) + e);
      }
  cr_assert_gt(exact, 50);
  cr_assert_gt(checked, 1000);
}

/* ---- states built in one pass (round 11, tost) ------------------------- */

/* cl_state_rebuild against the same orders set one by one: after every
 * few moves of a random walk (new orders, factor changes, orders taken
 * out), a second state whose totals are stale (the walk's earlier ones)
 * gets the walk's orders and is rebuilt; it must match the walk's state,
 * set order by order with cl_state_set, and the plain sums of ref_set. */
static int check_rebuild(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  struct fx_cm_rng r = {seed ^ 0x7057};
  int n = 0;
  for (int step = 0; step < 300 && tw.md.n_cols; step++) {
    size_t c = (size_t)fx_cm_uni(&r, 0, (int64_t)tw.md.n_cols - 1), i = tw.md.col[c].offer;
    /* whole orders often: the rebuild adds their powers unrounded */
    int64_t pick = fx_cm_uni(&r, 0, 7);
    int k = pick == 0 ? 0 : pick < 3 ? 100 : (int)fx_cm_uni(&r, 1, 100);
    if (tw.a.col[i] >= 0 && fx_cm_uni(&r, 0, 1)) c = (size_t)tw.a.col[i];
    cl_state_set(&tw.a, &tw.md, i, (int)c, k);
    if (fx_cm_uni(&r, 0, 6)) continue;
    memcpy(tw.b.col, tw.a.col, tw.md.n_offers * sizeof *tw.b.col);
    memcpy(tw.b.k, tw.a.k, tw.md.n_offers * sizeof *tw.b.k);
    cl_state_rebuild(&tw.b, &tw.md);
    same_state(&tw.b, &tw.a, &tw.md, "rebuilt against set one by one", seed);
    exact_totals(&tw.b, &tw.md);
    n++;
  }
  cl_state_clear(&tw.a, &tw.md);
  for (size_t i = 0; i < tw.md.n_offers; i++) tw.b.col[i] = -1, tw.b.k[i] = 0;
  cl_state_rebuild(&tw.b, &tw.md);
  same_state(&tw.b, &tw.a, &tw.md, "rebuilt with no order", seed);
  twin_free(&tw);
  return n;
}

Test(clear_heur_fast, state_rebuilt_in_one_pass_matches_orders_set_one_by_one) {
  each_market(60, check_rebuild);
}

/* The rounding of an LP solution as to_state and fixlp_round wrote it, set
 * order by order: each offer on its largest column (the first among equal
 * values), x clamped to [0, 1], the factor up to the next hundredth (up)
 * or to the nearest, below the minimum: the minimum from half of it, else
 * none. */
static void ref_round(struct cl_state *st, const struct cl_model *md, const double *x, bool up) {
  cl_state_clear(st, md);
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t a = md->offer_col[i], b = md->offer_col[i + 1], best = a;
    if (a == b) continue;
    for (size_t c = a + 1; c < b; c++)
      if (x[c] > x[best]) best = c;
    double v = fmin(fmax(x[best], 0.0), 1.0) * 100.0;
    long k = up ? (long)ceil(v - 1e-6) : (long)floor(v + 0.5);
    int mn = md->col[best].min_af;
    if (k < mn) k = 2 * k >= mn ? mn : 0;
    ref_set(st, md, i, (int)best, (int)k);
  }
}

/* LP values where the rounding turns: the ends and beyond, a hair inside
 * them, each hundredth and its half exactly and a hair either side, the
 * slack of rounding up, ties between an offer's columns, NaN. */
static double edge_x(struct fx_cm_rng *r, const double *prev, size_t n_prev) {
  double h = (double)fx_cm_uni(r, 0, 100) / 100.0, eps[] = {0, 1e-12, -1e-12, 1e-8, -1e-8, 5e-9};
  switch (fx_cm_uni(r, 0, 9)) {
  case 0: return (double)fx_cm_uni(r, -2, 2) * 0.5; /* -1, -0.5, 0, 0.5, 1 */
  case 1: return fx_cm_uni(r, 0, 1) ? 1.0 - 1e-9 : 1e-9;
  case 2: return fx_cm_uni(r, 0, 1) ? 1.0 + 1e-9 : -1e-9;
  case 3: return h + eps[fx_cm_uni(r, 0, 5)];
  case 4: return h + 0.005 + eps[fx_cm_uni(r, 0, 5)];
  case 5: return h + 1e-8 * (double)fx_cm_uni(r, 0, 2); /* within the 1e-6/100 slack */
  case 6: return n_prev ? prev[n_prev - 1] : 0.0;        /* a tie with the column before */
  case 7: return fx_cm_uni(r, 0, 9) ? (double)fx_cm_uni(r, 0, 1000000) / 1e6 : NAN;
  default: return (double)fx_cm_uni(r, 0, 1000000) / 1e6;
  }
}

static int check_round(const struct fx_clear_market *m, uint64_t seed) {
  struct twin tw;
  twin_init(&tw, m);
  double *x = malloc((tw.md.n_cols + 1) * sizeof *x);
  cr_assert(x);
  struct fx_cm_rng r = {seed ^ 0x7057e};
  int n = 0;
  for (; n < 40 && tw.md.n_cols; n++) {
    for (size_t c = 0; c < tw.md.n_cols; c++) x[c] = edge_x(&r, x, c);
    bool up = n % 2;
    cl_state_round(&tw.a, &tw.md, x, up); /* over the last round's state */
    ref_round(&tw.b, &tw.md, x, up);
    same_state(&tw.a, &tw.b, &tw.md, up ? "rounded up" : "rounded to the nearest", seed);
  }
  free(x);
  twin_free(&tw);
  return n;
}

Test(clear_heur_fast, lp_rounding_is_the_plain_rounding_set_order_by_order) {
  each_market(60, check_round);
}

/* The same through a node LP (cl_lp_bb_state: to_state on its solution). */
static void ref_lp_state(const struct cl_lp *lp, const struct cl_model *md, struct cl_state *st) {
  double *x = malloc((md->n_cols + 1) * sizeof *x);
  cr_assert(x);
  for (size_t c = 0; c < md->n_cols; c++) x[c] = cl_lp_bb_x(lp, c);
  ref_round(st, md, x, true);
  free(x);
}

static int check_lp_state(const struct fx_clear_market *m, uint64_t seed) {
  struct fx_clear_params p;
  struct cl_lp_out out = {0};
  struct twin tw;
  struct cl_lp *lp = NULL;
  fx_clear_params_init(&p);
  twin_init(&tw, m);
  if (!tw.md.n_cols) {
    twin_free(&tw);
    return 0;
  }
  struct cl_krange *kr = malloc(tw.md.n_cols * sizeof *kr);
  cr_assert(kr);
  for (size_t c = 0; c < tw.md.n_cols; c++) kr[c] = (struct cl_krange){0, 100};
  cr_assert_eq(cl_lp_create(&lp, &tw.md, &p, 0), 0);
  cr_assert_eq(cl_merit(&tw.tmp, &tw.md), 0);
  cr_assert_eq(cl_lp_root(lp, &tw.tmp, &out), 0);
  cr_assert_eq(cl_lp_cost_bound(lp, tw.tmp.cov, &out), 0);
  cr_assert_eq(cl_lp_bb_begin(lp, kr, false), 0);
  int64_t bound = 0;
  long piv = 0;
  int n = 0;
  if (cl_lp_bb_solve(lp, tw.tmp.cov, &bound, &piv) == 1) {
    cl_state_copy(&tw.a, &tw.tmp, &tw.md); /* orders and totals for cl_lp_bb_state to replace */
    cl_lp_bb_state(lp, &tw.a);
    ref_lp_state(lp, &tw.md, &tw.b);
    same_state(&tw.a, &tw.b, &tw.md, "node LP's candidate", seed);
    n = 1;
  }
  cl_lp_bb_end(lp);
  cl_lp_free(lp);
  free(kr);
  twin_free(&tw);
  return n;
}

Test(clear_heur_fast, node_lp_candidate_is_its_rounding_set_order_by_order) {
  each_market(30, check_lp_state);
}
