/* test_clear_dsx_edge.c — the node simplex (clear_dsx.c) alone, on small
 * LPs built here in GLPK's form, against GLPK: bound changes (columns fixed,
 * zero-width, released) and appended rows past the copy's first capacity;
 * LPs made infeasible (the copy has no elastic slacks: it must fail, never
 * answer "optimal"), and after every failure a basis GLPK accepts; the
 * bases it must refuse at creation (singular, not dual feasible); the
 * look-ahead's save and restore; and the same answer twice. The market-level
 * edge cases (degenerate and extreme markets through the branch-and-bound)
 * are in test_clear_dsx.c, beside the node pair they use. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

/* One change to both: column j fixed at 0, at 1, at a half (a zero-width
 * column inside its box), or released; or a row Σ -a·x <= -1 appended
 * (its slack basic, violated or not). */
static void change(glp_prob *P, struct cl_dsx *d, struct fx_cm_rng *r, int n, bool rows) {
  int j = (int)fx_cm_uni(r, 1, n), what = (int)fx_cm_uni(r, 0, rows ? 4 : 3);
  if (what < 4) {
    double lo = what == 0 ? 0.0 : what == 1 ? 1.0 : what == 2 ? 0.5 : 0.0;
    double hi = what == 3 ? 1.0 : lo;
    glp_set_col_bnds(P, j, lo == hi ? GLP_FX : GLP_DB, lo, hi);
    if (d) cl_dsx_set_col(d, j, lo, hi);
    return;
  }
  int ind[64], len = 0;
  double val[64];
  for (int q = 1; q <= n; q++)
    if (fx_cm_uni(r, 0, 2) == 0) ++len, ind[len] = q, val[len] = -(double)fx_cm_uni(r, 1, 9);
  if (!len) ind[1] = j, val[1] = -1.0, len = 1;
  int i = glp_add_rows(P, 1);
  glp_set_mat_row(P, i, len, ind, val);
  glp_set_row_bnds(P, i, GLP_UP, 0.0, -1.0);
  glp_set_row_stat(P, i, GLP_BS);
  if (d) cr_assert_eq(cl_dsx_add_row(d, len, ind, val, -1.0), 0);
}

struct api_count {
  int opt, infeasible, failed, singular;
};

/* The native simplex's answer against GLPK's on P: the same optimum, or
 * CL_DSX_FAIL (never "optimal" on an infeasible LP); after a failure GLPK
 * accepts its basis (m basic variables) and the copy is taken again. */
static void api_step(glp_prob *P, struct cl_dsx **d, bool devex, struct api_count *c,
                     const char *where) {
  long piv = 0;
  glp_prob *Q = glp_create_prob();
  glp_copy_prob(Q, P, GLP_ON); /* GLPK's own answer, from its own basis */
  int gs = fx_do_glpk_dual(Q);
  double gobj = glp_get_obj_val(Q);
  glp_delete_prob(Q);
  int rc = *d ? cl_dsx_solve(*d, INT32_MAX, devex, &piv) : CL_DSX_FAIL;
  cr_assert(rc == CL_DSX_OPT || rc == CL_DSX_FAIL, "%s: rc %d", where, rc);
  if (rc == CL_DSX_OPT) {
    cr_assert_eq(gs, GLP_OPT, "%s: optimal where GLPK finds status %d", where, gs);
    double o = cl_dsx_obj(*d);
    cr_assert(fabs(o - gobj) <= 1e-7 * fmax(1.0, fabs(gobj)), "%s: %.12g, GLPK %.12g", where, o, gobj);
    for (int j = 1; j <= glp_get_num_cols(P); j++)
      cr_assert(isfinite(cl_dsx_col_prim(*d, j)));
    for (int i = 1; i <= cl_dsx_rows(*d); i++) cr_assert(isfinite(cl_dsx_row_dual(*d, i)));
    c->opt++;
  } else {
    c->failed += *d != NULL;
    c->infeasible += gs != GLP_OPT;
  }
  /* GLPK goes on from the native basis (the caller's fallback). */
  if (*d) cl_dsx_to_glpk(*d, P);
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.meth = GLP_DUALP;
  int grc = glp_simplex(P, &parm);
  cr_assert(grc == 0 || grc == GLP_ESING, "%s: GLPK refused the basis handed over: %d", where, grc);
  if (grc == GLP_ESING) {
    c->singular++;
    glp_std_basis(P);
    grc = glp_simplex(P, &parm);
  }
  if (rc == CL_DSX_FAIL || !*d) {
    cl_dsx_free(*d), *d = NULL;
    if (grc == 0 && glp_get_status(P) == GLP_OPT) {
      int crc = cl_dsx_create(d, P);
      cr_assert(crc == 0 || crc == CL_DSX_FAIL, "%s: create %d", where, crc);
    }
  }
}

/* Random bound changes and appended rows on small dense LPs. */
Test(clear_dsx_edge, api_bound_changes_and_rows_match_glpk) {
  struct api_count c = {0};
  for (uint64_t seed = 1; seed <= 30; seed++) {
    glp_prob *P = fx_do_small_lp(seed, 4 + (int)(seed % 5), 6 + (int)(seed % 7), false);
    struct cl_dsx *d = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0, "seed %llu", (unsigned long long)seed);
    struct fx_cm_rng r = {seed * 31};
    int n = glp_get_num_cols(P);
    for (int step = 0; step < 80; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      change(P, d, &r, n, true);
      if (fx_cm_uni(&r, 0, 9) == 0) /* back to the box: feasible again */
        for (int j = 1; j <= n; j++) {
          glp_set_col_bnds(P, j, GLP_DB, 0.0, 1.0);
          if (d) cl_dsx_set_col(d, j, 0.0, 1.0);
        }
      api_step(P, &d, step % 3 == 0, &c, where);
    }
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_log_info("optimal %d, failed %d (infeasible %d), singular bases handed over %d", c.opt,
              c.failed, c.infeasible, c.singular);
  cr_assert_gt(c.opt, 500);
  cr_assert_gt(c.infeasible, 50, "too few infeasible LPs: the failure path is barely tested");
}

/* A basis GLPK would call singular (two equal columns basic) and one that
 * is not dual feasible (a column unbounded above, nonbasic at its lower
 * bound with a negative cost): the copy refuses both, and frees what it
 * took (ASan). */
Test(clear_dsx_edge, create_refuses_singular_and_dual_infeasible_bases) {
  glp_prob *P = glp_create_prob();
  glp_add_rows(P, 2);
  glp_add_cols(P, 3);
  int ind[3] = {0, 1, 2};
  double one[3] = {0, 1.0, 1.0};
  for (int j = 1; j <= 3; j++) glp_set_mat_col(P, j, 2, ind, one), glp_set_col_bnds(P, j, GLP_DB, 0, 1);
  for (int i = 1; i <= 2; i++) glp_set_row_bnds(P, i, GLP_UP, 0, 1), glp_set_row_stat(P, i, GLP_NU);
  glp_set_col_stat(P, 1, GLP_BS), glp_set_col_stat(P, 2, GLP_BS), glp_set_col_stat(P, 3, GLP_NL);
  struct cl_dsx *d = (struct cl_dsx *)&d; /* set to NULL on failure */
  cr_assert_eq(cl_dsx_create(&d, P), CL_DSX_FAIL);
  cr_assert_null(d);
  glp_std_basis(P); /* rows basic: K is empty */
  glp_set_col_bnds(P, 3, GLP_LO, 0, 0);
  glp_set_obj_coef(P, 3, -1.0);
  cr_assert_eq(cl_dsx_create(&d, P), CL_DSX_FAIL);
  cr_assert_null(d);
  glp_set_obj_coef(P, 3, 1.0); /* now it is: the copy is taken */
  cr_assert_eq(cl_dsx_create(&d, P), 0);
  long piv = 0;
  cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_OPT);
  cr_assert_eq(cl_dsx_obj(d), 0.0);
  cl_dsx_free(d);
  glp_delete_prob(P);
}

/* Every column fixed at 0 under rows that need 1: infeasible whatever the
 * basis; the dual simplex runs out of entering columns and fails in a
 * bounded number of pivots, on the first solve and on the next. */
Test(clear_dsx_edge, infeasible_lp_fails_and_stays_failed) {
  for (uint64_t seed = 1; seed <= 10; seed++) {
    glp_prob *P = fx_do_small_lp(seed, 6, 9, false);
    struct cl_dsx *d;
    cr_assert_eq(cl_dsx_create(&d, P), 0);
    for (int j = 1; j <= 9; j++) cl_dsx_set_col(d, j, 0.0, 0.0);
    long piv = 0;
    cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_FAIL);
    cr_assert_leq(piv, 20 * 6 + 1000);
    cr_assert_eq(cl_dsx_solve(d, INT32_MAX, true, &piv), CL_DSX_FAIL);
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
}

/* The look-ahead's contract: a solve between save and restore leaves no
 * trace (the next solve gives what it gave before), with one snapshot
 * reused across saves while rows are appended between them (a stale
 * snapshot is rows_appended_past_capacity_match_glpk's). */
Test(clear_dsx_edge, save_and_restore_leave_no_trace) {
  for (uint64_t seed = 1; seed <= 12; seed++) {
    glp_prob *P = fx_do_small_lp(seed, 5, 10, false);
    struct cl_dsx *d;
    struct cl_dsx_snap *s = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0);
    struct fx_cm_rng r = {seed};
    long piv = 0;
    for (int step = 0; step < 40; step++) {
      change(P, d, &r, 10, step % 4 == 0);
      for (int j = 1; j <= 10; j++) glp_set_col_bnds(P, j, GLP_DB, 0, 1), cl_dsx_set_col(d, j, 0, 1);
      cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_OPT);
      double before = cl_dsx_obj(d), x1 = cl_dsx_col_prim(d, 1);
      cr_assert_eq(cl_dsx_save(d, &s), 0);
      int j = (int)fx_cm_uni(&r, 1, 10);
      cl_dsx_set_col(d, j, 1.0 - x1 > 0.5 ? 1.0 : 0.0, 1.0 - x1 > 0.5 ? 1.0 : 0.0);
      int rc = cl_dsx_solve(d, (int)fx_cm_uni(&r, 1, 5), true, &piv);
      cr_assert(rc == CL_DSX_OPT || rc == CL_DSX_ITLIM || rc == CL_DSX_FAIL);
      cl_dsx_restore(d, s);
      cl_dsx_set_col(d, j, 0.0, 1.0);
      cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_OPT);
      cr_assert_eq(cl_dsx_obj(d), before, "seed %llu step %d", (unsigned long long)seed, step);
    }
    cl_dsx_snap_free(s);
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
}

/* Rows of a watt next to a terawatt and costs of 1e14 (the intake's
 * limits, docs/clearing.md) on a copy scaled as clear_lp.c scales it:
 * every answer is GLPK's or a clean failure, and finite. */
Test(clear_dsx_edge, extreme_coefficients_match_glpk_or_fail_cleanly) {
  struct api_count c = {0};
  for (uint64_t seed = 1; seed <= 20; seed++) {
    struct fx_cm_rng r = {seed * 101};
    int m = 5, n = 10;
    glp_prob *P = glp_create_prob();
    glp_set_obj_dir(P, GLP_MIN);
    glp_add_rows(P, m);
    glp_add_cols(P, n);
    for (int j = 1; j <= n; j++) {
      glp_set_col_bnds(P, j, GLP_DB, 0.0, 1.0);
      glp_set_obj_coef(P, j, (double)fx_cm_uni(&r, 1, 100) * (seed % 2 ? 1e12 : 1.0));
    }
    for (int i = 1; i <= m; i++) {
      int ind[16], len = 0;
      double val[16], big = 0;
      for (int j = 1; j <= n; j++) {
        if (fx_cm_uni(&r, 0, 1)) continue;
        ++len, ind[len] = j, val[len] = fx_cm_uni(&r, 0, 1) ? 1e12 : (double)fx_cm_uni(&r, 1, 9);
        big = fmax(big, val[len]);
      }
      if (!len) ind[1] = i, val[1] = big = 1e12, len = 1;
      glp_set_mat_row(P, i, len, ind, val);
      glp_set_row_bnds(P, i, GLP_LO, 1.0, 0.0);
      glp_set_rii(P, i, 1.0 / big);
    }
    cr_assert_eq(fx_do_glpk_dual(P), GLP_OPT);
    struct cl_dsx *d = NULL;
    int crc = cl_dsx_create(&d, P);
    cr_assert(crc == 0 || crc == CL_DSX_FAIL);
    for (int step = 0; step < 40; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      change(P, d, &r, n, false);
      api_step(P, &d, false, &c, where);
    }
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_log_info("optimal %d, failed %d (infeasible %d)", c.opt, c.failed, c.infeasible);
  cr_assert_gt(c.opt, 200);
}

/* Same copy, same changes: the same pivots and bit-for-bit the same
 * answers (no uninitialised reads, nothing depending on addresses). */
Test(clear_dsx_edge, same_changes_same_answers) {
  for (uint64_t seed = 1; seed <= 8; seed++) {
    double obj[2][60];
    long piv[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
      glp_prob *P = fx_do_small_lp(seed, 6, 11, false);
      struct cl_dsx *d;
      cr_assert_eq(cl_dsx_create(&d, P), 0);
      struct fx_cm_rng r = {seed};
      for (int step = 0; step < 60; step++) {
        change(P, d, &r, 11, true);
        for (int j = 1; j <= 11; j++) if (step % 5 == 4) cl_dsx_set_col(d, j, 0, 1);
        int rc = cl_dsx_solve(d, INT32_MAX, step % 2 == 0, &piv[run]);
        obj[run][step] = rc == CL_DSX_OPT ? cl_dsx_obj(d) : -(double)rc;
        if (rc == CL_DSX_FAIL) { /* as the caller does: a new copy of GLPK's optimum */
          for (int j = 1; j <= 11; j++) glp_set_col_bnds(P, j, GLP_DB, 0, 1);
          cl_dsx_free(d);
          cr_assert_eq(fx_do_glpk_dual(P), GLP_OPT);
          cr_assert_eq(cl_dsx_create(&d, P), 0);
        }
      }
      cl_dsx_free(d);
      glp_delete_prob(P);
    }
    cr_assert_eq(piv[0], piv[1]);
    cr_assert_eq(memcmp(obj[0], obj[1], sizeof obj[0]), 0, "seed %llu", (unsigned long long)seed);
  }
}

/* Overflow: a column fixed at 1e308 (nothing the caller passes, which
 * keeps columns in [0, 100]) turns the rows' activities infinite and the
 * arithmetic NaN. The copy must notice: a failure, never "optimal" on
 * NaN values, which compare as feasible with every bound and would reach
 * the Lagrangian's conversions to integers. */
Test(clear_dsx_edge, overflow_fails_instead_of_answering_nan) {
  int failed = 0;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    glp_prob *P = fx_do_small_lp(seed, 6, 9, false);
    struct cl_dsx *d;
    cr_assert_eq(cl_dsx_create(&d, P), 0);
    long piv = 0;
    for (int j = 1; j <= 9; j++) cl_dsx_set_col(d, j, j % 2 ? 1e308 : -1e308, j % 2 ? 1e308 : -1e308);
    int rc = cl_dsx_solve(d, INT32_MAX, seed % 2 == 0, &piv);
    cr_assert(rc == CL_DSX_OPT || rc == CL_DSX_FAIL);
    if (rc == CL_DSX_OPT) {
      cr_assert(isfinite(cl_dsx_obj(d)), "seed %llu: optimal at %g", (unsigned long long)seed,
                cl_dsx_obj(d));
      for (int i = 1; i <= cl_dsx_rows(d); i++) cr_assert(isfinite(cl_dsx_row_dual(d, i)));
    }
    failed += rc == CL_DSX_FAIL;
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_assert_eq(failed, 10);
}

/* A hundred rows appended to one copy of a six-row LP (its arrays start
 * with room for 16 more and double: three growths, K's inverse moved to a
 * new stride each time), solved after each against GLPK; a snapshot taken
 * before a growth is stale after it, and restoring it changes nothing. */
Test(clear_dsx_edge, rows_appended_past_capacity_match_glpk) {
  for (uint64_t seed = 1; seed <= 6; seed++) {
    glp_prob *P = fx_do_small_lp(seed, 6, 10, false);
    struct cl_dsx *d;
    struct cl_dsx_snap *snap = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0);
    struct fx_cm_rng r = {seed * 17};
    long piv = 0;
    for (int row = 0; row < 100; row++) {
      if (row % 8 == 0) cr_assert_eq(cl_dsx_save(d, &snap), 0);
      int j = (int)fx_cm_uni(&r, 1, 10), ind[2] = {0, j};
      double val[2] = {0, -(double)fx_cm_uni(&r, 1, 9)}; /* -a·x_j <= -a/2: x_j >= 1/2 */
      int i = glp_add_rows(P, 1);
      glp_set_mat_row(P, i, 1, ind, val);
      glp_set_row_bnds(P, i, GLP_UP, 0.0, val[1] / 2);
      cr_assert_eq(cl_dsx_add_row(d, 1, ind, val, val[1] / 2), 0);
      cl_dsx_restore(d, snap); /* stale: rows came since */
      cr_assert_eq(cl_dsx_rows(d), glp_get_num_rows(P));
      cr_assert_eq(cl_dsx_solve(d, INT32_MAX, row % 2 == 0, &piv), CL_DSX_OPT);
      cr_assert_eq(fx_do_glpk_dual(P), GLP_OPT);
      double g = glp_get_obj_val(P), o = cl_dsx_obj(d);
      cr_assert(fabs(g - o) <= 1e-7 * fmax(1.0, fabs(g)), "seed %llu row %d: %.12g, GLPK %.12g",
                (unsigned long long)seed, row, o, g);
    }
    cl_dsx_snap_free(snap);
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
}

/* The kernel limit (cl_dsx_set_kmax): two copies of one LP see the same
 * changes, one limited to the inverse's order at its start. The limited
 * copy follows the same pivots while its inverse stays within the limit,
 * so where it answers, it answers the same; where the free copy's inverse
 * ends beyond the limit, the limited one must have failed; and it must
 * fail somewhere, or the limit is not tested. */
Test(clear_dsx_edge, kernel_limit_fails_a_solve_whose_inverse_grows_past_it) {
  int failed = 0, agreed = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    glp_prob *P = fx_do_small_lp(seed, 8, 12, false), *Q = glp_create_prob();
    glp_copy_prob(Q, P, GLP_ON);
    struct cl_dsx *free_d, *lim_d;
    cr_assert_eq(cl_dsx_create(&free_d, P), 0);
    cr_assert_eq(cl_dsx_create(&lim_d, Q), 0);
    int kmax, pairs;
    cl_dsx_shape(lim_d, &kmax, &pairs);
    cl_dsx_set_kmax(lim_d, kmax);
    struct fx_cm_rng r1 = {seed}, r2 = {seed};
    for (int step = 0; step < 40; step++) {
      change(P, free_d, &r1, 12, false);
      change(Q, lim_d, &r2, 12, false);
      long piv = 0;
      int rf = cl_dsx_solve(free_d, INT32_MAX, false, &piv);
      int rl = cl_dsx_solve(lim_d, INT32_MAX, false, &piv);
      int kf, kl;
      cl_dsx_shape(free_d, &kf, &pairs);
      cl_dsx_shape(lim_d, &kl, &pairs);
      if (rl == CL_DSX_FAIL) {
        failed += rf == CL_DSX_OPT; /* the free copy's answer exists */
        break;
      }
      cr_assert_eq(rf, rl, "seed %llu step %d", (unsigned long long)seed, step);
      cr_assert(kl <= kmax);
      cr_assert(rf != CL_DSX_OPT || kf <= kmax, "the free copy's inverse grew to %d beyond %d, "
                "and the limited one did not fail", kf, kmax);
      if (rf != CL_DSX_OPT) continue;
      cr_assert_eq(cl_dsx_obj(free_d), cl_dsx_obj(lim_d));
      agreed++;
    }
    cl_dsx_free(free_d), cl_dsx_free(lim_d);
    glp_delete_prob(P), glp_delete_prob(Q);
  }
  cr_assert_gt(failed, 0, "no solve ran into the limit");
  cr_assert_gt(agreed, 0);
}
