/* test_clear_nph1.c — the root's maximum-coverage LP on the native dual
 * simplex (root_native_phase1, round 15): from cover order's choice with
 * every row basic and the coverage columns at their caps (dual feasible,
 * the options cost nothing) the native simplex is taken wherever the
 * switch and cover order's start apply, and its optimum is GLPK's: the
 * same objective (within tolerance) as GLPK's phase 1 from cover order
 * and from its standard basis, and a proven coverage bound that is never
 * below the exhaustive search's. Not taken when off, where merit order
 * starts (up to redive_max_offers), or above its size limit. Whole
 * clearings with it keep every rule and give the same answer twice.
 * Markets of the property generator (tests/support/clear_markets.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* Cover order's start on every market size, native phase 1 as asked. */
static void params(struct fx_clear_params *p, bool native) {
  fx_clear_params_init(p);
  p->redive_max_offers = 0;
  p->root_native_phase1 = native;
}

static void phase1(const struct cl_model *md, const struct fx_clear_params *p,
                   const struct cl_state *start, bool scratch, struct cl_lp_phase1 *out) {
  struct cl_lp *lp = NULL;
  cr_assert_eq(cl_lp_create(&lp, md, p, 0), 0);
  cr_assert_eq(cl_lp_phase1(lp, start, scratch, out), 0);
  cl_lp_free(lp);
}

static bool close_to(double a, double b) { return fabs(a - b) <= 1e-7 * (1.0 + fabs(b)); }

Test(clear_nph1, taken_and_same_optimum_as_glpk) {
  int markets = 0, native = 0, same_ub = 0;
  long piv_native = 0, piv_glpk = 0;
  for (uint64_t seed = 200; seed < 300; seed++) {
    struct fx_cm_market k;
    int64_t base[FX_CM_MAX_ISPS];
    fx_cm_gen_based(&k, base, seed, (size_t)(10 + 3 * (seed % 37)), 60);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    markets++;
    struct fx_clear_params on, off;
    params(&on, true), params(&off, false);
    struct cl_state merit;
    cr_assert_eq(cl_state_init(&merit, &md), 0);
    cr_assert_eq(cl_merit(&merit, &md), 0);
    struct cl_lp_phase1 n, g, s;
    phase1(&md, &on, &merit, false, &n);
    phase1(&md, &off, &merit, false, &g);
    phase1(&md, &off, &merit, true, &s);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert(!g.native && !s.native, "seed %llu: native while off", sd);
    cr_assert(n.optimal && g.optimal && s.optimal, "seed %llu", sd);
    cr_assert(close_to(n.cov_lp, g.cov_lp), "seed %llu: %.6f, GLPK %.6f", sd, n.cov_lp, g.cov_lp);
    cr_assert(close_to(n.cov_lp, s.cov_lp), "seed %llu: %.6f, scratch %.6f", sd, n.cov_lp, s.cov_lp);
    /* Other optimal duals may round the Lagrangian's terms otherwise:
     * the bound is proven either way; it must not be weaker by more than
     * the half watt per partial offer the LP bound allows. */
    cr_assert_leq(n.coverage_ub, g.coverage_ub + (int64_t)md.n_offers, "seed %llu", sd);
    native += n.native, same_ub += n.coverage_ub == g.coverage_ub;
    if (n.native) piv_native += n.pivots, piv_glpk += g.pivots;
    cl_state_free(&merit);
    cl_model_free(&md);
  }
  cr_log_info("native phase 1 on %d of %d markets (%ld pivots; GLPK %ld there), same bound on %d",
              native, markets, piv_native, piv_glpk, same_ub);
  cr_assert_gt(markets, 70);
  cr_assert_geq(native, markets - markets / 20, "native on %d of %d", native, markets);
  cr_assert_geq(same_ub, markets - markets / 10, "same bound on %d of %d", same_ub, markets);
}

/* Not taken when off, where merit order starts phase 1 (the market at or
 * below redive_max_offers), or above root_native_phase1_max_offers. */
Test(clear_nph1, not_taken_outside_its_markets) {
  int markets = 0;
  for (uint64_t seed = 300; seed < 330; seed++) {
    struct fx_cm_market k;
    int64_t base[FX_CM_MAX_ISPS];
    fx_cm_gen_based(&k, base, seed, (size_t)(20 + seed % 40), 20);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    markets++;
    struct fx_clear_params merit_start, small, on;
    params(&merit_start, true), params(&small, true), params(&on, true);
    merit_start.redive_max_offers = md.n_offers;
    small.root_native_phase1_max_offers = md.n_offers - 1;
    struct cl_state merit;
    cr_assert_eq(cl_state_init(&merit, &md), 0);
    cr_assert_eq(cl_merit(&merit, &md), 0);
    struct cl_lp_phase1 a, b, c;
    phase1(&md, &merit_start, &merit, false, &a);
    phase1(&md, &small, &merit, false, &b);
    phase1(&md, &on, &merit, false, &c);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert(!a.native && !a.dantzig, "seed %llu: merit order's start", sd);
    cr_assert(!b.native && b.dantzig, "seed %llu: above the size limit", sd);
    cr_assert(close_to(b.cov_lp, c.cov_lp), "seed %llu", sd);
    cl_state_free(&merit);
    cl_model_free(&md);
  }
  cr_assert_gt(markets, 20);
}

/* The bound from the native optimum never below the exhaustive search's
 * most coverage (small markets without a base). */
Test(clear_nph1, bound_bounds_the_exhaustive_search) {
  struct fx_clear_params p;
  params(&p, true);
  cr_assert_gt(fx_cm_phase1_bound_sweep(&p), 20);
}

/* Whole clearings on the root path with it on: every rule, bounds that
 * bound the exhaustive search, the same answer twice (fx_cm_solve_checked). */
Test(clear_nph1, clearings_keep_rules_bounds_and_determinism) {
  struct fx_clear_params p;
  params(&p, true);
  p.exact_max_offers = 0, p.bb_max_offers = 0;
  cr_assert_eq(fx_cm_tiny_clearings(&p), 40);
}
