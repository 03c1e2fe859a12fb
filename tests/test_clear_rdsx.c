/* test_clear_rdsx.c — the root's dives on the engine's own dual simplex
 * (dive_native_lp, round 9): cl_dsx_set_row against GLPK after row bound
 * changes on small scaled LPs (the dive polish raises the coverage row's
 * bound on the copy), and the dives, redives and dive polish of the root
 * run on it on the property markets: every answer keeps every rule, the
 * polish only improves, the native simplex really solved the dives, the
 * same input gives the same answer, and whole clearings on that path keep
 * bounds that bound (against the exhaustive search). */
#include <criterion/criterion.h>
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "engine/config.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

/* One change to both: a row's lower bound moved (as the dives move the
 * coverage row's), a row boxed or its upper bound dropped, or a column
 * fixed or released; false when the copy says it is no longer dual
 * feasible. */
static bool change(glp_prob *P, struct cl_dsx *d, struct fx_cm_rng *r, int m, int n) {
  int what = (int)fx_cm_uni(r, 0, 4);
  if (what == 4) {
    int j = (int)fx_cm_uni(r, 1, n);
    double lo = fx_cm_uni(r, 0, 2) == 0 ? 1.0 : 0.0, hi = fx_cm_uni(r, 0, 1) ? 1.0 : lo;
    glp_set_col_bnds(P, j, lo == hi ? GLP_FX : GLP_DB, lo, hi);
    cl_dsx_set_col(d, j, lo, hi);
    return true;
  }
  int i = (int)fx_cm_uni(r, 1, m);
  double lo = (double)fx_cm_uni(r, 0, 6) * 500.0;
  if (what == 3) { /* boxed: an upper bound well above the lower one */
    double hi = lo + (double)fx_cm_uni(r, 1, 40) * 1e3;
    glp_set_row_bnds(P, i, GLP_DB, lo, hi);
    return cl_dsx_set_row(d, i, lo, hi);
  }
  glp_set_row_bnds(P, i, GLP_LO, lo, 0.0);
  return cl_dsx_set_row(d, i, lo, HUGE_VAL);
}

/* Is the basis GLPK holds dual feasible for its minimisation? (what a
 * refused change must be: a row at its upper bound, priced there, whose
 * upper bound is gone) */
static bool glpk_dual_feasible(glp_prob *P) {
  cr_assert_eq(glp_warm_up(P), 0);
  return glp_get_dual_stat(P) == GLP_FEAS;
}

/* After row (and column) bound changes the copy's optimum is GLPK's, and
 * an LP the changes made infeasible is never called optimal; a change
 * that leaves the basis dual infeasible is reported (and GLPK agrees);
 * after a failure or a refusal the copy is taken again from GLPK's
 * optimum, as the dives do. */
Test(clear_rdsx, set_row_matches_glpk) {
  int compared = 0, infeasible = 0, row_moves = 0, refused = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    int m = 4 + (int)(seed % 9), n = 6 + (int)(seed % 13);
    glp_prob *P = fx_do_small_lp(seed, m, n, true);
    struct cl_dsx *d = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0, "seed %llu", (unsigned long long)seed);
    struct fx_cm_rng r = {seed * 7919};
    for (int step = 0; step < 25; step++) {
      bool kept = change(P, d, &r, m, n);
      row_moves++;
      if (!kept) {
        glp_prob *Q = glp_create_prob();
        glp_copy_prob(Q, P, GLP_ON);
        cr_assert(!glpk_dual_feasible(Q), "seed %llu step %d: refused a dual feasible basis",
                  (unsigned long long)seed, step);
        glp_delete_prob(Q);
        refused++;
      }
      long piv = 0;
      int rc = kept ? cl_dsx_solve(d, 100000, false, &piv) : CL_DSX_FAIL;
      int st = fx_do_glpk_dual(P);
      if (st == GLP_OPT) {
        if (rc == CL_DSX_OPT) {
          double a = cl_dsx_obj(d), b = glp_get_obj_val(P);
          cr_assert(fabs(a - b) <= 1e-7 * fmax(1.0, fabs(b)), "seed %llu step %d: %.12g vs %.12g",
                    (unsigned long long)seed, step, a, b);
          for (int j = 1; j <= n; j++) {
            double x = cl_dsx_col_prim(d, j);
            cr_assert(x >= glp_get_col_lb(P, j) - 1e-7 && x <= glp_get_col_ub(P, j) + 1e-7,
                      "seed %llu step %d: column %d at %g", (unsigned long long)seed, step, j, x);
          }
          compared++;
          continue;
        }
      } else {
        cr_assert_neq(rc, CL_DSX_OPT, "seed %llu step %d: infeasible, called optimal",
                      (unsigned long long)seed, step);
        infeasible++;
        /* Back to a feasible LP before going on: every row at 0. */
        for (int i = 1; i <= m; i++) glp_set_row_bnds(P, i, GLP_LO, 0.0, 0.0);
        if (fx_do_glpk_dual(P) != GLP_OPT) break;
      }
      cl_dsx_free(d), d = NULL;
      if (cl_dsx_create(&d, P)) break; /* GLPK's optimum refused: next seed */
    }
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_log_info("%d optima compared, %d infeasible LPs, %d changes refused of %d", compared,
              infeasible, refused, row_moves);
  cr_assert_gt(compared, 500);
  cr_assert_gt(infeasible, 0);
  cr_assert_gt(refused, 0);
}

/* A row's bound moved on the copy alone is seen by the next solve: raising
 * a covering row's bound above what the optimum gives it changes the
 * optimum (the function does something, and the scaling is applied). */
Test(clear_rdsx, set_row_moves_the_optimum) {
  glp_prob *P = fx_do_small_lp(99, 6, 10, true);
  struct cl_dsx *d = NULL;
  cr_assert_eq(cl_dsx_create(&d, P), 0);
  long piv = 0;
  cr_assert_eq(cl_dsx_solve(d, 1000, false, &piv), CL_DSX_OPT);
  double before = cl_dsx_obj(d), act = glp_get_row_prim(P, 1), most = 0;
  int ind[16];
  double val[16];
  for (int q = 1, len = glp_get_mat_row(P, 1, ind, val); q <= len; q++) most += val[q];
  cr_assert_lt(act, most - 1.0, "the test's LP: row 1 is at its most already");
  double lo = (act + most) / 2;
  cr_assert(cl_dsx_set_row(d, 1, lo, HUGE_VAL));
  glp_set_row_bnds(P, 1, GLP_LO, lo, 0.0);
  cr_assert_eq(cl_dsx_solve(d, 1000, false, &piv), CL_DSX_OPT);
  cr_assert_eq(fx_do_glpk_dual(P), GLP_OPT);
  cr_assert_gt(cl_dsx_obj(d), before + 1e-6);
  cr_assert(fabs(cl_dsx_obj(d) - glp_get_obj_val(P)) <= 1e-7 * fabs(glp_get_obj_val(P)));
  cl_dsx_free(d);
  glp_delete_prob(P);
}

/* The root's dives as fx_clear_solve runs them (dive, redives, the cost
 * bound's LP, the dive polish), each answer checked; returns the polished
 * answer in out. */
static void root_dives(const struct fx_clear_market *m, const struct cl_model *md,
                       struct cl_lp *lp, struct cl_state *out, uint64_t seed) {
  static const double share[] = {0.5, 0.25, 0.1};
  struct cl_state merit, dive;
  struct cl_lp_out lo = {0};
  cr_assert_eq(cl_state_init(&merit, md), 0);
  cr_assert_eq(cl_state_init(&dive, md), 0);
  cr_assert_eq(cl_merit(&merit, md), 0);
  cr_assert_eq(cl_prune(&merit, md), 0);
  cr_assert_eq(cl_lp_dive(lp, out, &lo, &merit, FX_CLEAR_TOLERANCE), 0);
  cr_assert_eq(cl_polish(out, md, lo.target), 0);
  fx_cm_check_state(m, md, out, seed);
  cr_assert_eq(cl_polish(&merit, md, lo.target), 0);
  if (cl_state_better(&merit, out, lo.target)) cl_state_copy(out, &merit, md);
  for (size_t j = 0; j < sizeof share / sizeof *share; j++) {
    cr_assert_eq(cl_lp_redive(lp, &dive, &lo, share[j]), 0);
    cr_assert_eq(cl_polish(&dive, md, lo.target), 0);
    fx_cm_check_state(m, md, &dive, seed);
    if (cl_state_better(&dive, out, lo.target)) cl_state_copy(out, &dive, md);
  }
  cr_assert_eq(cl_lp_cost_bound(lp, out->cov, &lo), 0);
  cl_state_copy(&dive, out, md);
  cr_assert_eq(cl_lp_dive_polish(lp, out, dive.cov), 0);
  fx_cm_check_state(m, md, out, seed);
  cr_assert_geq(out->cov, dive.cov, "seed %llu", (unsigned long long)seed);
  cr_assert_leq(out->cost, dive.cost, "seed %llu", (unsigned long long)seed);
  cl_state_free(&merit), cl_state_free(&dive);
}

/* On 40 property markets the root's dives on the native simplex give
 * answers that keep every rule, the same ones twice, and the native
 * simplex solves the first dive's and the polish's warm re-solves
 * (switched off, none; the redives stay GLPK's); on half of
 * them no redives are expected (redive_max_offers 0), so the least cost
 * at the cap is the native simplex's too. */
Test(clear_rdsx, native_dives_keep_every_rule) {
  long native = 0, glpk = 0, off_native = 0, off_glpk = 0;
  int differ = 0, with_native = 0, markets = 0;
  for (uint64_t seed = 900; seed < 940; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(15 + 3 * (seed % 31)), 60, seed % 4 == 0);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    markets++;
    struct cl_state st[3];
    for (int v = 0; v < 3; v++) {
      struct fx_clear_params p;
      fx_clear_params_init(&p);
      p.exact_max_offers = 0;
      p.dive_native_lp = v < 2;
      if (seed % 2) p.redive_max_offers = 0;
      struct cl_lp *lp = NULL;
      cr_assert_eq(cl_state_init(&st[v], &md), 0);
      cr_assert_eq(cl_lp_create(&lp, &md, &p, 0), 0);
      root_dives(&k.m, &md, lp, &st[v], seed);
      long g, n = cl_lp_dive_native(lp, &g);
      if (v == 0) native += n, glpk += g;
      if (v == 0) with_native += n > 0;
      if (v == 2) off_native += n, off_glpk += g;
      cl_lp_free(lp);
    }
    cr_assert_arr_eq(st[0].col, st[1].col, md.n_offers * sizeof *st[0].col, "seed %llu",
                     (unsigned long long)seed);
    cr_assert_arr_eq(st[0].k, st[1].k, md.n_offers * sizeof *st[0].k, "seed %llu",
                     (unsigned long long)seed);
    differ += st[0].cost != st[2].cost || st[0].cov != st[2].cov;
    for (int v = 0; v < 3; v++) cl_state_free(&st[v]);
    cl_model_free(&md);
  }
  cr_log_info("native %ld, GLPK %ld (switched off: %ld, %ld); native on %d of %d markets; "
              "answers differ on %d", native, glpk, off_native, off_glpk, with_native, markets, differ);
  cr_assert_geq(4 * with_native, 3 * markets);
  cr_assert_eq(off_native, 0);
  cr_assert_gt(off_glpk, 0);
}

/* Whole clearings on the path the dives run on at the root (the
 * neighbourhood search and the dive polish: no branch-and-bound of the
 * small markets, no MILP) with the native dives, and on half of them
 * without redives (so the least cost at the cap is native too): every
 * rule kept, and the bounds bound the exhaustive search's optimum. */
Test(clear_rdsx, clearings_with_native_dives_keep_bounds) {
  int n_checked = 0;
  for (uint64_t seed = 300; seed < 340; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(4 + seed % 5), 3, seed % 5 == 0);
    struct fx_clear_params p;
    fx_clear_params_init(&p);
    p.exact_max_offers = 0, p.bb_max_offers = 0, p.proof_max_offers = 0;
    p.dive_native_lp = true;
    if (seed % 2) p.redive_max_offers = 0; /* the least cost at the cap natively too */
    struct fx_clear_result r = fx_cm_solve(&k.m, &p);
    fx_cm_check_result(&k.m, &r, seed); /* factors, every bound, coverage and cost */
    fx_cm_check_bounds(&k.m, &r, seed);
    n_checked++;
    fx_clear_result_free(&r);
  }
  cr_assert_gt(n_checked, 30);
}

/* The switch: on by default, in the library and in the platform's
 * configuration, and [market] dive_native_lp turns it off (and back). */
Test(clear_rdsx, switch_is_on_by_default_and_read_from_market_section) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  cr_assert(p.dive_native_lp);
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert(c.clear.dive_native_lp);
  cr_assert_eq(fx_config_parse(&c, "[market]\ndive_native_lp = false\n", err, sizeof err), 0, "%s", err);
  cr_assert(!c.clear.dive_native_lp);
  cr_assert_eq(fx_config_parse(&c, "[market]\ndive_native_lp = yes\n", err, sizeof err), 0, "%s", err);
  cr_assert(c.clear.dive_native_lp);
  cr_assert_neq(fx_config_parse(&c, "[market]\ndive_native_lp = maybe\n", err, sizeof err), 0);
  cr_assert(strstr(err, "dive_native_lp"), "%s", err);
  fx_config_free(&c);
}
