/* test_clear_lookahead_state.c — the node simplex's state around a
 * look-ahead as clear_lp.c's cl_lp_bb_probe handles it (round 19, cheap19):
 * the duals and values read in one call (cl_dsx_read, which a look-ahead
 * uses for its duals alone) are the per-entry accessors' to the bit; and
 * a restore made while the child's bounds are still set (the look-ahead's
 * order: save, bounds, solve, restore, bounds back) leaves the copy
 * bitwise the copy that never looked ahead — columns the look-ahead's
 * pivots parked (a basic column leaving at a fixed bound) or freed are
 * put back as the save had them, and the moving set the restore copies
 * from the save lets the next solves pivot as the other copy does. On the
 * offer LPs of test_clear_dsx_gub.c (tests/support/dsx_offers.c). */
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

/* cl_dsx_read against cl_dsx_row_dual and cl_dsx_col_prim over scale, bit
 * for bit; with x NULL the duals alone. */
static void same_read(glp_prob *P, struct cl_dsx *d, double scale, const char *where) {
  int m = cl_dsx_rows(d), n = glp_get_num_cols(P);
  double *lam = calloc((size_t)m + 1, sizeof *lam), *lam2 = calloc((size_t)m + 1, sizeof *lam2);
  double *x = calloc((size_t)n, sizeof *x);
  cr_assert(lam && lam2 && x);
  /* columns 2..n: the read starts where it is told */
  cl_dsx_read(d, lam, x, 2, (size_t)(n - 1), scale);
  cl_dsx_read(d, lam2, NULL, 0, 0, 1.0);
  for (int i = 1; i <= m; i++) {
    double y = cl_dsx_row_dual(d, i);
    cr_assert(memcmp(&y, &lam[i], sizeof y) == 0, "%s: row %d dual %.17g and %.17g", where, i, y, lam[i]);
    cr_assert(memcmp(&y, &lam2[i], sizeof y) == 0, "%s: row %d dual alone %.17g", where, i, lam2[i]);
  }
  for (int j = 2; j <= n; j++) {
    double v = cl_dsx_col_prim(d, j) / scale;
    cr_assert(memcmp(&v, &x[j - 2], sizeof v) == 0, "%s: column %d %.17g and %.17g", where, j, v, x[j - 2]);
  }
  free(lam), free(lam2), free(x);
}

Test(clear_lookahead_state, read_is_the_accessors_bitwise) {
  long piv = 0;
  int reads = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed + 300, &o);
    struct cl_dsx *d = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0);
    struct fx_cm_rng r = {seed * 6151};
    for (int step = 0; step < 60; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      for (int k = 0; k < 3; k++) fx_do_branch(P, d, NULL, &o, &r);
      /* an optimum, or wherever a short solve stops (a look-ahead's) */
      int rc = cl_dsx_solve(d, step % 3 ? INT32_MAX : (int)fx_cm_uni(&r, 1, 4), step % 2 == 0, &piv);
      cr_assert(rc == CL_DSX_OPT || rc == CL_DSX_ITLIM, "%s: rc %d", where, rc);
      same_read(P, d, step % 2 ? 1.0 : 1e-3 * (double)fx_cm_uni(&r, 1, 1000), where);
      reads++;
    }
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_log_info("%d reads compared", reads);
}

/* Copy a looks ahead as cl_lp_bb_probe does: a child's bounds (an offer
 * ordered on one option at 1, or its options excluded), save, a short
 * solve, the restore while those bounds hold, then the node's bounds back;
 * copy b does not look ahead. Between save and solve a few more columns
 * are fixed at 0, so that the restore must free them again (and the
 * basic ones among them leave the basis parked). After the restore every
 * column's value is the save's; then both take the same branchings and
 * solve: the same pivots and the same bits, every time, with look-aheads
 * of 2-60 pivots (the proof stops its own after bb_sb_pivots, 10). Solved
 * to the end instead, a look-ahead can leave a dual different in its last
 * bit; the cause is open (docs/clearing-rounds.md, round 20). */
Test(clear_lookahead_state, restore_before_bounds_back_is_bitwise) {
  long pa = 0, pb = 0, probe = 0;
  int compared = 0, moved = 0;
  for (uint64_t seed = 1; seed <= 25; seed++) {
    struct fx_do_offers o;
    struct cl_dsx *a, *b;
    glp_prob *P = fx_do_twins(seed + 1300, &o, &a, &b);
    struct cl_dsx_snap *s = NULL;
    struct fx_cm_rng r = {seed * 3571};
    for (int step = 0; step < 120; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      int f = (int)fx_cm_uni(&r, 0, o.n_off - 1), c = (int)fx_cm_uni(&r, o.first[f], o.first[f + 1] - 1);
      bool order = fx_cm_uni(&r, 0, 1);
      for (int j = o.first[f]; j < o.first[f + 1]; j++) /* the child's bounds */
        cl_dsx_set_col(a, j, order && j == c ? 1.0 : 0.0, order && j == c ? 1.0 : 0.0);
      cr_assert_eq(cl_dsx_save(a, &s), 0);
      double x0[FX_DO_MAX_COL + 1];
      for (int j = 1; j <= o.n_col; j++) x0[j] = cl_dsx_col_prim(a, j);
      /* a second child's bounds after the save: fixed columns the restore
       * must free again, or basic ones the pivots leave parked */
      for (int k = 0; k < 3; k++) {
        int j = (int)fx_cm_uni(&r, 1, o.n_col);
        if (j < o.first[f] || j >= o.first[f + 1]) cl_dsx_set_col(a, j, 0.0, 0.0);
      }
      (void)cl_dsx_solve(a, (int)fx_cm_uni(&r, 2, 60), step % 2 == 0, &probe); /* may fail: infeasible */
      cl_dsx_restore(a, s);
      for (int j = 1; j <= o.n_col; j++) /* what the save had */
        moved += cl_dsx_col_prim(a, j) != x0[j];
      fx_do_bounds_back(P, a); /* the node's bounds back, as P has them */
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where);
      compared++;
    }
    cl_dsx_snap_free(s);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_log_info("%d solves compared, %ld pivots, %ld in look-aheads", compared, pa, probe);
  cr_assert_eq(moved, 0, "a restore left %d column values other than the save's", moved);
  cr_assert_gt(probe, 2000, "look-aheads too short");
}
