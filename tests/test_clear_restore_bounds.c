/* test_clear_restore_bounds.c — a restore takes the bounds queued since
 * the last solve in as bounds only (clear_dsx.c, cl_dsx_restore, round
 * 21): the statuses, values, parking and reduced costs that placing them
 * would give are all overwritten by the snapshot, and unpark_since parks
 * the columns as the snapshot has them whatever the statuses they stand
 * at. A node dive queues two settings of every column before its restore
 * (its rounding's choice fixed, then the node's bounds back), and placing
 * them was most of the restore. Pinned here on the offer LPs of
 * tests/support/dsx_offers.c: copy a takes the queue in through a read
 * (every column placed, as before) and then restores; copy b restores
 * with the queue still full. After the restore both have the same bits
 * (values, duals, objective), and every later branching solves to the
 * same pivots and bits on both. And a node dive that sets its bounds on
 * the simplex alone (clear_lp.c, ndive_on) reads the node's from it
 * (cl_dsx_col_bounds: GLPK's bits) and puts them back with the snapshot
 * (cl_dsx_restore_cols): the same bits as every column's bounds queued
 * and a restore. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

/* Column j's bounds on both copies (the dive leaves P, the node, alone). */
static void both(struct cl_dsx *a, struct cl_dsx *b, int j, double lo, double hi) {
  cl_dsx_set_col(a, j, lo, hi);
  cl_dsx_set_col(b, j, lo, hi);
}

/* A node dive's bounds on both copies: a fix round (a few offers rounded,
 * each kept on one option from 0.5 or 1 up, or dropped) solved, sometimes
 * cut short; then a choice for every offer fixed (one option free from
 * its minimum, the others at 0), not solved, as a dive that takes its
 * shortcut leaves them. Returns the solves' pivots on a; *same: b's
 * status and pivots were a's. */
static long dive(struct cl_dsx *a, struct cl_dsx *b, const struct fx_do_offers *o, struct fx_cm_rng *r,
                 bool *same) {
  long pa = 0, pb = 0;
  *same = true;
  for (int round = (int)fx_cm_uni(r, 0, 2); round > 0; round--) {
    for (int k = (int)fx_cm_uni(r, 1, 5); k > 0; k--) {
      int f = (int)fx_cm_uni(r, 0, o->n_off - 1), c = (int)fx_cm_uni(r, o->first[f], o->first[f + 1]);
      double lo = fx_cm_uni(r, 0, 1) ? 1.0 : 0.5;
      for (int j = o->first[f]; j < o->first[f + 1]; j++) both(a, b, j, j == c ? lo : 0.0, j == c ? 1.0 : 0.0);
    }
    int lim = fx_cm_uni(r, 0, 3) == 0 ? (int)fx_cm_uni(r, 1, 4) : INT32_MAX;
    int ra = cl_dsx_solve(a, lim, false, &pa), rb = cl_dsx_solve(b, lim, false, &pb); /* may be infeasible */
    *same = *same && ra == rb && pa == pb;
  }
  for (int f = 0; f < o->n_off; f++) {
    int c = (int)fx_cm_uni(r, o->first[f] - 1, o->first[f + 1] - 1); /* first - 1: none */
    for (int j = o->first[f]; j < o->first[f + 1]; j++) both(a, b, j, j == c ? 0.5 : 0.0, j == c ? 1.0 : 0.0);
  }
  return pa;
}

/* Copy b's node bounds as cl_dsx_col_bounds gives them at a save: P's,
 * to the bit. */
static void col_bounds(glp_prob *P, struct cl_dsx *b, double *lo, double *hi, const char *where) {
  int nc = glp_get_num_cols(P);
  cl_dsx_col_bounds(b, 1, (size_t)nc, lo, hi);
  for (int j = 1; j <= nc; j++) {
    double pl = glp_get_col_lb(P, j), pu = glp_get_col_ub(P, j);
    cr_assert(memcmp(&lo[j - 1], &pl, sizeof pl) == 0 && memcmp(&hi[j - 1], &pu, sizeof pu) == 0,
              "%s: column %d [%.17g, %.17g], P [%.17g, %.17g]", where, j, lo[j - 1], hi[j - 1], pl, pu);
  }
}

/* 30 offer LPs, 80 saves each, a node dive on both copies after each and
 * both put back. cols false: copy a as a restore did before round 21
 * (the node's bounds queued, every queued column placed by a read, then
 * the restore), copy b with the queue still full. cols true: copy a as
 * clear_lp.c's dive did before round 21 (the node's bounds queued, then
 * the restore), copy b as a node dive now does (cl_dsx_restore_cols with
 * the bounds cl_dsx_col_bounds gave at the save). Then both must hold the same bits and solve a
 * later branching to the same pivots and bits. */
static void restores(bool cols, uint64_t seed0, uint64_t mult) {
  long pa = 0, pb = 0, in_dives = 0;
  int compared = 0;
  for (uint64_t seed = 1; seed <= 30; seed++) {
    struct fx_do_offers o;
    struct cl_dsx *a, *b;
    glp_prob *P = fx_do_twins(seed + seed0, &o, &a, &b);
    struct cl_dsx_snap *sa = NULL, *sb = NULL;
    struct fx_cm_rng r = {seed * mult};
    double lo[FX_DO_MAX_COL + 1], hi[FX_DO_MAX_COL + 1];
    for (int step = 0; step < 80; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      cr_assert_eq(cl_dsx_save(a, &sa), 0);
      cr_assert_eq(cl_dsx_save(b, &sb), 0);
      if (cols) col_bounds(P, b, lo, hi, where);
      bool same;
      in_dives += dive(a, b, &o, &r, &same);
      cr_assert(same, "%s: the dives' solves differ", where);
      fx_do_bounds_back(P, a); /* the node's bounds back, queued */
      if (!cols) (void)cl_dsx_obj(a); /* a: every queued column placed, as a restore did */
      cl_dsx_restore(a, sa);
      if (cols) {
        cl_dsx_restore_cols(b, sb, 1, (size_t)glp_get_num_cols(P), lo, hi);
      } else {
        fx_do_bounds_back(P, b);
        cl_dsx_restore(b, sb); /* b: the queue taken in by the restore */
      }
      cr_assert(cl_dsx_scratch_clean(a) && cl_dsx_scratch_clean(b), "%s: dirty after a restore", where);
      fx_do_same_bits(P, a, b, where);
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where); /* later nodes: the same pivots and bits */
      compared++;
    }
    cl_dsx_snap_free(sa), cl_dsx_snap_free(sb);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_log_info("%d restores compared, %ld pivots after them, %ld in the dives", compared, pa, in_dives);
  cr_assert_gt(in_dives, 1000, "dives too short");
}

Test(clear_restore_bounds, restore_with_bounds_queued_is_bitwise) { restores(false, 2100, 7919); }

Test(clear_restore_bounds, restore_cols_is_bounds_back_then_restore) { restores(true, 2200, 104729); }
