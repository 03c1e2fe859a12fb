/* test_clear_root2.c — the root, cheaper (round 11, root2): the least cost
 * at the cap on the native simplex boxes only the rows whose reduced cost
 * has the wrong sign for it (box_rows), and ends at GLPK's optimum; fewer
 * boxes really happen (the test fails if every eligible row is boxed);
 * the capped LP is solved on the dive's copy; and whole clearings on that path keep every rule, give the same answer
 * twice and keep bounds that bound the exhaustive search. Markets of the
 * property generator (tests/support/clear_markets.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The root's least cost at the cap of md with p: the figures of
 * cl_lp_dive from merit order's start. */
static struct cl_lp_cap cap_of(const struct cl_model *md, const struct fx_clear_params *p) {
  struct cl_state merit, st;
  cr_assert_eq(cl_state_init(&merit, md), 0);
  cr_assert_eq(cl_state_init(&st, md), 0);
  cr_assert_eq(cl_merit(&merit, md), 0);
  struct cl_lp *lp = NULL;
  struct cl_lp_out out = {0};
  cr_assert_eq(cl_lp_create(&lp, md, p, 0), 0);
  cr_assert_eq(cl_lp_dive(lp, &st, &out, &merit, p->coverage_tolerance), 0);
  struct cl_lp_cap c;
  cl_lp_cap_figures(lp, &c);
  cl_lp_free(lp);
  cl_state_free(&merit), cl_state_free(&st);
  return c;
}

/* With the native simplex the least cost at the cap reaches GLPK's
 * optimum (its primal simplex, the switch off); it boxes at most the rows
 * eligible, and on some markets fewer (rows whose reduced cost already
 * has the right sign keep their one bound); and the capped LP after it is
 * solved on the dive's copy (GLPK only with the switch off). */
Test(clear_root2, cap_boxes_fewer_rows_and_reaches_glpk_optimum) {
  int markets = 0, native = 0, fewer = 0, compared = 0, capped = 0;
  long boxed = 0, eligible = 0;
  for (uint64_t seed = 700; seed < 780; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(15 + 3 * (seed % 29)), 60, seed % 4 == 0);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    markets++;
    struct fx_clear_params on, off;
    fx_clear_params_init(&on);
    on.redive_max_offers = 0; /* the least cost at the cap natively (no redives follow) */
    off = on;
    off.dive_native_lp = false;
    struct cl_lp_cap a = cap_of(&md, &on), b = cap_of(&md, &off);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert(!b.native && b.boxed == 0 && !b.capped_native, "seed %llu: off, GLPK alone", sd);
    capped += a.capped_native;
    cr_assert_leq(a.boxed, a.eligible, "seed %llu", sd);
    if (a.native) {
      native++;
      fewer += a.boxed < a.eligible;
      boxed += a.boxed, eligible += a.eligible;
    }
    if (a.optimal && b.optimal) {
      cr_assert(fabs(a.obj - b.obj) <= 1e-7 * (1.0 + fabs(b.obj)), "seed %llu: %.6f, GLPK %.6f", sd,
                a.obj, b.obj);
      compared++;
    }
    cl_model_free(&md);
  }
  cr_log_info("least cost at the cap: %d markets, %d native, %d with fewer boxes (%ld of %ld rows); "
              "the capped LP on the dive's copy on %d",
              markets, native, fewer, boxed, eligible, capped);
  cr_assert_gt(markets, 60);
  cr_assert_gt(compared, 60);
  cr_assert_gt(native, markets / 2);
  cr_assert_gt(fewer, native / 4, "the rule boxes fewer rows than all eligible on some markets");
  cr_assert_gt(capped, markets / 2, "the capped LP solved on the dive's copy, not by GLPK");
}

/* Whole clearings on the path where the least cost at the cap runs on
 * the native simplex (no small-market MILP or branch-and-bound): every
 * rule, the same answer twice, bounds that bound the exhaustive search. */
Test(clear_root2, clearings_keep_rules_bounds_and_determinism) {
  int checked = 0;
  for (uint64_t seed = 800; seed < 840; seed++) {
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
