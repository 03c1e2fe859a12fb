/* test_clear_cuts.c — the proof's cuts (engine/clear_cuts.c) against an
 * exhaustive search on small markets: every cut holds on every choice that
 * keeps the rules (rounded watts), wherever it was separated; the cost bound
 * with the cuts' duals in its Lagrangian never exceeds the least cost there
 * is, and is above the bound without them on some markets; and the proof
 * path with cuts still ends at the exhaustive optimum with a bound that
 * holds. Through the engine's internal header. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"

#define MAX_ISPS 4
#define MAX_OFFERS 8
#define MAX_OPTS 2

struct rng {
  uint64_t s;
};

static uint64_t next(struct rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static int64_t uni(struct rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

struct mk {
  struct fx_clear_isp isps[MAX_ISPS];
  struct fx_clear_offer offers[MAX_OFFERS];
  struct fx_clear_option opts[MAX_OFFERS][MAX_OPTS];
  int64_t pw[MAX_OFFERS][MAX_OPTS][MAX_ISPS];
  struct fx_clear_market m;
};

/* Bands a few offers wide, so that ISP bounds bind like knapsacks: a
 * reduction needed on some ISPs (far bound at 1.5× the need), Available
 * bands elsewhere; offers reduce, some with a rebound. wide: minimums down
 * to 40 (then only a few offers, for the exhaustive search's sake). */
static void gen(struct mk *k, uint64_t seed, size_t n_offers, bool wide) {
  struct rng r = {seed};
  size_t n_isps = (size_t)uni(&r, 2, MAX_ISPS);
  for (size_t t = 0; t < n_isps; t++) {
    int64_t v = uni(&r, 150, 500);
    if (uni(&r, 0, 2)) k->isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -3 * v / 2, -v};
    else k->isps[t] = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -v, v / 4};
  }
  for (size_t i = 0; i < n_offers; i++) {
    size_t n_opt = (size_t)uni(&r, 1, MAX_OPTS);
    for (size_t j = 0; j < n_opt; j++) {
      size_t first = (size_t)uni(&r, 0, (int64_t)n_isps - 1), n = (size_t)uni(&r, 1, (int64_t)(n_isps - first));
      for (size_t q = 0; q < n; q++) k->pw[i][j][q] = -uni(&r, 40, 260) + (uni(&r, 0, 3) == 0 ? 1 : 0);
      if (n > 1 && uni(&r, 0, 3) == 0) k->pw[i][j][n - 1] = -k->pw[i][j][n - 1] / 2; /* rebound */
      int min = uni(&r, 0, 1) ? 100 : wide ? (int)uni(&r, 40, 99) : (int)uni(&r, 98, 99);
      k->opts[i][j] = (struct fx_clear_option){uni(&r, 1000, 20000), min, first, n, k->pw[i][j]};
    }
    k->offers[i] = (struct fx_clear_offer){n_opt, k->opts[i]};
  }
  k->m = (struct fx_clear_market){{n_isps, k->isps}, n_offers, k->offers, NULL};
}

static size_t market_size(uint64_t seed, bool *wide) {
  *wide = seed % 4 == 0;
  return *wide ? 3 : (size_t)(5 + seed % 3);
}

/* The rules, written again for the test's own use (every ISP here is
 * Requested with MaxPower < 0 or Available). */
static int64_t coverage(const struct fx_clear_market *m, const int64_t *d, bool *ok) {
  int64_t cov = 0;
  *ok = true;
  for (size_t t = 0; t < m->request.n_isps; t++) {
    const struct fx_clear_isp *is = &m->request.isps[t];
    int64_t lo = is->min_power < 0 ? is->min_power : 0, hi = is->max_power > 0 ? is->max_power : 0;
    *ok = *ok && d[t] >= lo && d[t] <= hi;
    if (is->disposition != FX_CLEAR_REQUESTED) continue;
    int64_t need = -is->max_power, v = -d[t];
    cov += v < 0 ? 0 : v > need ? need : v;
  }
  return cov;
}

/* Every choice of the model's columns (options that help no Requested ISP
 * are no columns, and never ordered), each visited choice that keeps the
 * rules checked against the cuts and counted towards the least cost at
 * coverage >= at_cov. */
struct ex {
  const struct cl_model *md;
  const struct cl_cuts *cuts;
  const int64_t *cut_cov; /* cut j holds on choices covering >= cut_cov[j] */
  int64_t d[MAX_ISPS], cost;
  double x[MAX_OFFERS * MAX_OPTS];
  int64_t at_cov, at_cost;
  long visited;
};

static void ex_check(struct ex *e, int64_t cov) {
  const struct cl_cuts *k = e->cuts;
  for (size_t j = 0; k && j < k->n; j++) {
    if (cov < e->cut_cov[j]) continue;
    long double lhs = 0.0L, mag = fabs(k->rhs[j]);
    for (size_t q = k->start[j]; q < k->start[j + 1]; q++) {
      lhs += (long double)k->val[q] * e->x[k->col[q]];
      mag += fabs(k->val[q]);
    }
    cr_assert_leq((double)lhs, k->rhs[j] + 1e-9 * (double)mag, "cut %zu: %.6f > %.6f", j,
                  (double)lhs, k->rhs[j]);
  }
}

static void ex_rec(struct ex *e, size_t i) {
  const struct cl_model *md = e->md;
  if (i == md->n_offers) {
    bool ok;
    int64_t cov = coverage(md->m, e->d, &ok);
    if (!ok) return;
    e->visited++;
    ex_check(e, cov);
    if (cov >= e->at_cov && e->cost < e->at_cost) e->at_cost = e->cost;
    return;
  }
  ex_rec(e, i + 1);
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    const struct fx_clear_option *o = &md->m->offers[i].options[md->col[c].option];
    for (int k = o->min_af; k <= 100; k++) {
      for (size_t q = 0; q < o->n_power; q++) e->d[o->first_isp + q] += fx_clear_order_power(o->power[q], k);
      e->cost += fx_clear_order_price(o->price, k);
      e->x[c] = k / 100.0;
      ex_rec(e, i + 1);
      e->x[c] = 0.0;
      e->cost -= fx_clear_order_price(o->price, k);
      for (size_t q = 0; q < o->n_power; q++) e->d[o->first_isp + q] -= fx_clear_order_power(o->power[q], k);
    }
  }
}

/* Least cost at coverage >= cov (INT64_MAX: none), every cut checked on the way. */
static int64_t least_cost(const struct cl_model *md, const struct cl_cuts *cuts,
                          const int64_t *cut_cov, int64_t cov) {
  struct ex e = {.md = md, .cuts = cuts, .cut_cov = cut_cov, .at_cov = cov, .at_cost = INT64_MAX};
  ex_rec(&e, 0);
  cr_assert_gt(e.visited, 0); /* buying nothing keeps the rules */
  return e.at_cost;
}

/* Cuts are separated at the cost LP's optimum and at points the LP would
 * never give (random factors, many at full activation), so that many covers
 * and flow covers are tried; every one holds on every rule-keeping choice. */
Test(clear_cuts, every_cut_holds_on_every_rule_keeping_choice) {
  size_t total = 0, flow = 0, on_cov = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct mk k;
    bool wide;
    size_t n_offers = market_size(seed, &wide);
    gen(&k, seed, n_offers, wide);
    struct cl_model md;
    cr_assert_eq(cl_model_init(&md, &k.m), 0);
    struct cl_cuts cuts = {0};
    struct rng r = {seed * 7919};
    double x[MAX_OFFERS * MAX_OPTS];
    int64_t cut_cov[2000];
    for (int round = 0; round < 40 && md.n_cols; round++) {
      for (size_t c = 0; c < md.n_cols; c++) {
        int64_t u = uni(&r, 0, 4);
        x[c] = u == 0 ? 0.0 : u <= 2 ? 1.0 : (double)uni(&r, 1, 99) / 100.0;
      }
      /* the coverage asked: none, or a share of the need */
      int64_t cov = round % 4 == 0 ? INT64_MIN : md.need * uni(&r, 1, 10) / 10;
      size_t before = cuts.n;
      cr_assert_eq(cl_cuts_separate(&md, x, cov, &cuts), 0);
      cr_assert_lt(cuts.n, sizeof cut_cov / sizeof *cut_cov);
      for (size_t j = before; j < cuts.n; j++) cut_cov[j] = cov;
      for (size_t j = before; j < cuts.n; j++) { /* each cut separated is violated there */
        long double lhs = 0.0L;
        bool plain = true;
        for (size_t q = cuts.start[j]; q < cuts.start[j + 1]; q++) {
          lhs += (long double)cuts.val[q] * x[cuts.col[q]];
          plain = plain && cuts.val[q] == cuts.val[cuts.start[j]];
        }
        cr_assert_gt((double)lhs, cuts.rhs[j], "cut %zu is not violated where it was found", j);
        flow += !plain;
        on_cov += cuts.val[cuts.start[j]] < 0; /* the coverage knapsack's, turned back into x */
      }
    }
    total += cuts.n;
    if (md.n_cols) least_cost(&md, &cuts, cut_cov, 0);
    cl_cuts_free(&cuts);
    cl_model_free(&md);
  }
  cr_log_info("%zu cuts checked, %zu of them flow covers, %zu on the coverage", total, flow,
              on_cov);
  cr_assert_gt(total, 100, "too few cuts: the test would prove nothing");
  cr_assert_gt(flow, 20, "too few flow covers");
  cr_assert_gt(on_cov, 20, "too few cuts on the coverage");
}

/* The cost bound after rounds of cuts at the root (the proof's
 * cl_cuts_root): never above the exhaustive least cost at that coverage,
 * never below the bound without cuts, and above it on some markets (the
 * cuts' duals are in the Lagrangian). The first round's cuts hold on every
 * choice. */
Test(clear_cuts, root_bound_with_cuts_never_exceeds_the_least_cost) {
  int raised = 0, markets = 0, with_cuts = 0;
  for (uint64_t seed = 1; seed <= 80; seed++) {
    struct mk k;
    bool wide;
    size_t n_offers = market_size(seed, &wide);
    gen(&k, seed, n_offers, wide);
    struct fx_clear_params p;
    fx_clear_params_init(&p);
    struct cl_model md;
    cr_assert_eq(cl_model_init(&md, &k.m), 0);
    if (!md.n_cols) {
      cl_model_free(&md);
      continue;
    }
    struct cl_lp *lp = NULL;
    struct cl_state st = {0};
    struct cl_lp_out out = {0};
    cr_assert_eq(cl_lp_create(&lp, &md, &p, 0), 0);
    cr_assert_eq(cl_state_init(&st, &md), 0);
    cr_assert_eq(cl_lp_root(lp, &st, &out), 0);
    /* coverage asked: most of the LP's maximum, so that the cost LP must
     * buy offers up to tight bounds */
    int64_t cov = out.coverage_ub - out.coverage_ub / (int64_t)(3 + seed % 5);
    cr_assert_eq(cl_lp_cost_bound(lp, cov, &out), 0);
    int64_t plain = out.cost_lb;
    /* the first round's cuts, separated here at the same LP point */
    struct cl_cuts cuts = {0};
    double *x = calloc(md.n_cols, sizeof *x);
    cr_assert(x);
    for (size_t c = 0; c < md.n_cols; c++) x[c] = cl_lp_bb_x(lp, c);
    cr_assert_eq(cl_cuts_separate(&md, x, cov, &cuts), 0);
    int64_t *cut_cov = malloc((cuts.n + 1) * sizeof *cut_cov);
    cr_assert(cut_cov);
    for (size_t j = 0; j < cuts.n; j++) cut_cov[j] = cov;
    int n_cuts = 0;
    cr_assert_eq(cl_cuts_root(&md, lp, cov, 10, &out, &n_cuts), 0);
    cr_assert_geq((size_t)n_cuts, cuts.n);
    int64_t best = least_cost(&md, &cuts, cut_cov, cov);
    free(cut_cov);
    cr_assert_geq(out.cost_lb, plain);
    if (best != INT64_MAX)
      cr_assert_leq(out.cost_lb, best, "seed %llu: bound %lld with %d cuts above the least cost %lld",
                    (unsigned long long)seed, (long long)out.cost_lb, n_cuts, (long long)best);
    markets++;
    with_cuts += n_cuts > 0;
    raised += out.cost_lb > plain;
    free(x);
    cl_cuts_free(&cuts);
    cl_lp_free(lp);
    cl_state_free(&st);
    cl_model_free(&md);
  }
  cr_log_info("%d markets, cuts added on %d, bound raised on %d", markets, with_cuts, raised);
  cr_assert_gt(raised, 0, "the cuts never raised a bound");
}

/* The proof path (reduced-cost fixing at the root, cuts, branch-and-bound
 * on the reduced market) forced onto small markets and run to a zero gap,
 * with the node LPs' one-option rows lazy and not: the bound never exceeds
 * the least cost at the answer's coverage and the answer costs exactly
 * that; the same orders and bound twice. */
static void proof_with_cuts(bool lazy) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.exact_max_offers = 0;
  p.bb_max_offers = 0;
  p.proof_max_offers = 1000;
  p.redive_max_offers = 0;
  p.local_search_max_offers = 0;
  p.bb_gap = 0;
  p.bb_node_limit = 5000;
  p.bb_pivot_limit = 1000000;
  p.bb_lazy_rows = lazy;
  p.bb_cuts = true;
  int optimal = 0, n = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    struct mk k;
    bool wide;
    size_t n_offers = market_size(seed, &wide);
    gen(&k, seed, n_offers, wide);
    struct fx_clear_result r, again;
    cr_assert_eq(fx_clear_solve(&k.m, &p, &r), 0);
    cr_assert_eq(fx_clear_solve(&k.m, &p, &again), 0);
    cr_assert_eq(r.cost, again.cost);
    cr_assert_eq(r.cost_lb, again.cost_lb);
    cr_assert_eq(r.bb_nodes, again.bb_nodes);
    struct cl_model md;
    cr_assert_eq(cl_model_init(&md, &k.m), 0);
    if (md.n_cols) {
      int64_t best = least_cost(&md, NULL, NULL, r.coverage);
      cr_assert_leq(r.cost_lb, best, "seed %llu: bound %lld above the least cost %lld",
                    (unsigned long long)seed, (long long)r.cost_lb, (long long)best);
      optimal += r.cost == best;
      n++;
    }
    cl_model_free(&md);
    fx_clear_result_free(&r);
    fx_clear_result_free(&again);
  }
  cr_log_info("%d of %d answers optimal", optimal, n);
  cr_assert_eq(optimal, n);
}

Test(clear_cuts, proof_with_cuts_matches_exhaustive_search) { proof_with_cuts(true); }

Test(clear_cuts, proof_with_cuts_and_all_rows_matches_exhaustive_search) {
  proof_with_cuts(false);
}
