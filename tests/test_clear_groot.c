/* test_clear_groot.c — the cost bound read from its starting basis (round
 * 14, groot): where the least cost at the cap's optimal basis is optimal
 * for the cost bound's LP as it stands (only the coverage asked differs),
 * cl_lp_cost_bound takes its solution from glp_warm_up instead of calling
 * the simplex; the bound is the one the call gives, the shortcut really
 * happens, and whole clearings on that path keep every rule and bounds
 * that bound the exhaustive search. Markets of the property generator
 * (tests/support/clear_markets.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

struct bound_run {
  int64_t cost_lb, coverage;
  int asis;
};

/* The root of md (cl_lp_dive from merit order's start), then the cost
 * bound at the root answer's coverage; with asis off every cost bound is
 * a simplex call. */
static struct bound_run bound_of(const struct cl_model *md, const struct fx_clear_params *p,
                                 bool asis) {
  struct cl_state merit, st;
  cr_assert_eq(cl_state_init(&merit, md), 0);
  cr_assert_eq(cl_state_init(&st, md), 0);
  cr_assert_eq(cl_merit(&merit, md), 0);
  struct cl_lp *lp = NULL;
  struct cl_lp_out out = {0};
  cr_assert_eq(cl_lp_create(&lp, md, p, 0), 0);
  if (!asis) cl_lp_no_asis(lp);
  cr_assert_eq(cl_lp_dive(lp, &st, &out, &merit, p->coverage_tolerance), 0);
  int64_t cov = st.cov > merit.cov ? st.cov : merit.cov;
  cr_assert_eq(cl_lp_cost_bound(lp, cov, &out), 0);
  struct bound_run r = {out.cost_lb, cov, cl_lp_cost_asis(lp)};
  cl_lp_free(lp);
  cl_state_free(&merit), cl_state_free(&st);
  return r;
}

/* The shortcut's bound is the simplex call's (to a unit: the duals come
 * from the same basis, computed by glp_warm_up instead of the simplex's
 * own factorisation), and it is taken on most markets. */
Test(clear_groot, cost_bound_as_is_matches_the_simplex) {
  int markets = 0, asis = 0;
  for (uint64_t seed = 900; seed < 980; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(15 + 3 * (seed % 29)), 60, seed % 4 == 0);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    markets++;
    struct fx_clear_params p;
    fx_clear_params_init(&p);
    p.redive_max_offers = 0; /* cover order's start and the native least cost at the cap */
    struct bound_run a = bound_of(&md, &p, true), b = bound_of(&md, &p, false);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert_eq(b.asis, 0, "seed %llu: the switch keeps the simplex call", sd);
    cr_assert_eq(a.coverage, b.coverage, "seed %llu", sd);
    cr_assert(llabs(a.cost_lb - b.cost_lb) <= 1, "seed %llu: %lld, by the simplex %lld", sd,
              (long long)a.cost_lb, (long long)b.cost_lb);
    asis += a.asis;
    cl_model_free(&md);
  }
  cr_log_info("cost bound read as it stood on %d of %d markets", asis, markets);
  cr_assert_gt(markets, 60);
  cr_assert_gt(asis, markets / 2, "the cost bound's start is optimal on most markets");
}

/* Whole clearings on the path where the cost bound follows the native
 * least cost at the cap (no small-market MILP or branch-and-bound): every
 * rule, the same answer twice, bounds that bound the exhaustive search. */
Test(clear_groot, clearings_keep_rules_bounds_and_determinism) {
  int checked = 0;
  for (uint64_t seed = 980; seed < 1020; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(4 + seed % 5), 3, seed % 5 == 0);
    struct fx_clear_params p;
    fx_clear_params_init(&p);
    p.exact_max_offers = 0, p.bb_max_offers = 0, p.redive_max_offers = 0;
    struct fx_clear_result r = fx_cm_solve_checked(&k.m, &p, seed, NULL);
    checked++;
    fx_clear_result_free(&r);
  }
  cr_assert_eq(checked, 40);
}
