/* test_clear_gather_status.c — the ratio test's gather without branches
 * (round 23), the same candidates for every status. The node simplex's
 * gather (clear_dsx.c) decides whether a moving variable with a nonzero
 * alpha is a candidate from its status and the sign of sigma·alpha by
 * bits (at the lower bound: sigma·alpha < -TOL_PIV; at the upper: the
 * sign flipped, > TOL_PIV), stores every such variable's ratio and moves
 * the list's end by the outcome; free variables and fixed row variables
 * (an equality row's, which moves with the duals but never enters) go
 * past that path. The node LPs have both (clear_lp.c's free total rows,
 * its fixed rows and columns), but the offer LPs of the other suites
 * have neither: here an LP with equality rows (each with a free column,
 * so that every branching stays feasible), a free row and cover rows is
 * solved by two copies, a the plain loops (cl_dsx_set_plain_row: the
 * branches as before round 22), b the faster ones, through branchings,
 * look-aheads (Devex or not, cut short or not, put back) and bound
 * flips, and every pivot, status and bit must agree (cl_dsx_same_state).
 * It fails when the faster gather takes a fixed row's variable as a
 * candidate at its lower bound, or loses the sign flip at the upper
 * bound (most columns here sit at 1 as often as at 0). */
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

#define NX 90 /* boxed columns 1..NX */
#define NE 12  /* equality rows, one free column each (NX + 1 .. NX + NE) */
#define NC 30 /* cover rows */

/* min Σ c·x over x in [0, 1] (costs of either sign: many columns at their
 * upper bound) and free y; cover rows Σ a·x >= 12; equality rows
 * Σ a·x - y_e = 0 (a fixed row variable, y_e free and basic); one free
 * row Σ x. Solved by GLPK. */
static glp_prob *status_lp(uint64_t seed) {
  struct fx_cm_rng r = {seed};
  glp_prob *P = glp_create_prob();
  glp_set_obj_dir(P, GLP_MIN);
  glp_add_cols(P, NX + NE);
  for (int j = 1; j <= NX; j++) {
    glp_set_col_bnds(P, j, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(P, j, (double)fx_cm_uni(&r, -40, 100));
  }
  for (int e = 1; e <= NE; e++) {
    glp_set_col_bnds(P, NX + e, GLP_FR, 0.0, 0.0);
    glp_set_obj_coef(P, NX + e, (double)fx_cm_uni(&r, -3, 3));
  }
  int ind[NX + 2];
  double val[NX + 2];
  for (int i = 0; i < NC + NE + 1; i++) {
    int row = glp_add_rows(P, 1), len = 0;
    for (int j = 1; j <= NX; j++)
      if (i == NC + NE || fx_cm_uni(&r, 0, 2) == 0) ++len, ind[len] = j, val[len] = (double)fx_cm_uni(&r, 1, 9);
    if (!len) ++len, ind[len] = 1 + i % NX, val[len] = 1.0;
    if (i < NC) {
      glp_set_row_bnds(P, row, GLP_LO, 12.0, 0.0);
    } else if (i < NC + NE) {
      ++len, ind[len] = NX + 1 + (i - NC), val[len] = -1.0;
      glp_set_row_bnds(P, row, GLP_FX, 0.0, 0.0);
    } else {
      glp_set_row_bnds(P, row, GLP_FR, 0.0, 0.0);
    }
    glp_set_mat_row(P, row, len, ind, val);
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  cr_assert_eq(glp_simplex(P, &parm), 0);
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  return P;
}

struct tally {
  int rc[3];
  long pa, pb, fixed, free;
};

static void same(struct cl_dsx *a, struct cl_dsx *b, int ra, int rb, long qa, long qb, const char *where) {
  cr_assert_eq(rb, ra, "%s: rc %d and %d", where, ra, rb);
  cr_assert_eq(qb, qa, "%s: pivots %ld and %ld", where, qa, qb);
  cr_assert(cl_dsx_same_state(a, b), "%s: other bits (rc %d)", where, ra);
  cr_assert(cl_dsx_scratch_clean(a) && cl_dsx_scratch_clean(b), "%s: work vectors left dirty", where);
}

/* Column j's bounds on P and both copies. */
static void set_both(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, int j, double lo, double hi) {
  glp_set_col_bnds(P, j, lo == hi ? GLP_FX : GLP_DB, lo, hi);
  cl_dsx_set_col(a, j, lo, hi), cl_dsx_set_col(b, j, lo, hi);
}

static void sequence(uint64_t seed, struct tally *ty) {
  glp_prob *P = status_lp(seed);
  struct cl_dsx *a = NULL, *b = NULL;
  struct cl_dsx_snap *sa = NULL, *sb = NULL;
  cr_assert_eq(cl_dsx_create(&a, P), 0, "seed %llu: the copy refused", (unsigned long long)seed);
  cr_assert_eq(cl_dsx_create(&b, P), 0);
  cl_dsx_set_plain_row(a, true);
  struct fx_cm_rng r = {seed * 7919 + 1};
  for (int step = 0; step < 60; step++) {
    char where[64];
    snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
    long qa = 0, qb = 0;
    /* a look-ahead: a few columns fixed at 0 or 1, a solve cut short or
     * not, Devex or not, then the bounds and the basis put back */
    cr_assert_eq(cl_dsx_save(a, &sa), 0);
    cr_assert_eq(cl_dsx_save(b, &sb), 0);
    for (int k = (int)fx_cm_uni(&r, 2, 8); k > 0; k--) {
      int j = (int)fx_cm_uni(&r, 1, NX);
      double v = (double)fx_cm_uni(&r, 0, 1);
      cl_dsx_set_col(a, j, v, v), cl_dsx_set_col(b, j, v, v);
    }
    int lim = fx_cm_uni(&r, 0, 2) == 0 ? INT32_MAX : (int)fx_cm_uni(&r, 1, 4);
    bool devex = fx_cm_uni(&r, 0, 1) == 1;
    int ra = cl_dsx_solve(a, lim, devex, &qa), rb = cl_dsx_solve(b, lim, devex, &qb);
    same(a, b, ra, rb, qa, qb, where);
    ty->rc[ra]++, ty->pa += qa, ty->pb += qb;
    fx_do_bounds_back(P, a), fx_do_bounds_back(P, b);
    cl_dsx_restore(a, sa), cl_dsx_restore(b, sb);
    cr_assert(cl_dsx_same_state(a, b), "%s: restored to other bits", where);
    /* a branching: a column fixed at 0 or 1, or one released */
    int j = (int)fx_cm_uni(&r, 1, NX), what = (int)fx_cm_uni(&r, 0, 3);
    double lo = what == 1 ? 1.0 : 0.0, hi = what >= 2 ? 1.0 : lo;
    set_both(P, a, b, j, lo, hi);
    qa = qb = 0;
    ra = cl_dsx_solve(a, INT32_MAX, false, &qa), rb = cl_dsx_solve(b, INT32_MAX, false, &qb);
    same(a, b, ra, rb, qa, qb, where);
    ty->rc[ra]++, ty->pa += qa, ty->pb += qb;
    if (ra == CL_DSX_FAIL) { /* (the free columns keep it feasible: numbers, then) */
      for (int c = 1; c <= NX; c++) glp_set_col_bnds(P, c, GLP_DB, 0.0, 1.0);
      cr_assert_eq(fx_do_glpk_dual(P), GLP_OPT, "%s", where);
      cl_dsx_free(a), cl_dsx_free(b);
      cr_assert_eq(cl_dsx_create(&a, P), 0);
      cr_assert_eq(cl_dsx_create(&b, P), 0);
      cl_dsx_set_plain_row(a, true);
    }
  }
  long fx, fr;
  cl_dsx_gather_rare(b, &fx, &fr);
  ty->fixed += fx, ty->free += fr;
  cl_dsx_snap_free(sa), cl_dsx_snap_free(sb);
  cl_dsx_free(a), cl_dsx_free(b);
  glp_delete_prob(P);
}

Test(clear_gather_status, fixed_and_free_variables_the_plain_candidates) {
  struct tally ty = {{0, 0, 0}, 0, 0, 0, 0};
  for (uint64_t seed = 1; seed <= 120; seed++) sequence(seed + 2300, &ty);
  cr_log_info("%ld pivots; solves %d optimal, %d at their limit, %d failed; gather's other path: %ld fixed row "
              "variables, %ld free ones",
              ty.pa, ty.rc[CL_DSX_OPT], ty.rc[CL_DSX_ITLIM], ty.rc[CL_DSX_FAIL], ty.fixed, ty.free);
  cr_assert_eq(ty.pa, ty.pb);
  cr_assert_gt(ty.pa, 2000);
  cr_assert_gt(ty.rc[CL_DSX_OPT], 10000);
  cr_assert_gt(ty.rc[CL_DSX_ITLIM], 300);
  cr_assert_gt(ty.fixed, 20000, "the fixed row variables' path taken %ld times", ty.fixed);
}
