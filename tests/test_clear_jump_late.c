/* test_clear_jump_late.c — a jump's bounds taken in by the basis put back
 * (round 20, node20). cl_dsx_set_col queues column bounds and the next
 * call that reads or moves the node simplex takes them in, in order, as
 * one at a time; cl_dsx_basis_set (a jump: the parent's basis put back)
 * takes them in without catching up the reduced costs of the parked
 * columns it frees, since its pricing makes every reduced cost fresh.
 * What it would have lost is a tie: where a freed column's fresh reduced
 * cost ties, place() keeps the status the column got when freed, from
 * its caught-up reduced cost, and that the basis put back recovers from
 * the log it keeps (late_status). Copy a takes every bound in before the
 * basis is put back (a read does), copy b lets cl_dsx_basis_set take
 * them in: both must come out bit for bit the same, and pivot the same
 * after. On the offer LPs of tests/support/dsx_offers.c, with options
 * duplicated across offers so that reduced costs tie. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

#define SAVES 8

/* An offer LP whose last offers repeat earlier ones' options (the same
 * costs and entries): a duplicate's reduced cost is its twin's, a tie
 * whenever the twin is basic. */
static glp_prob *with_twins(uint64_t seed, struct fx_do_offers *o, struct cl_dsx **a, struct cl_dsx **b) {
  glp_prob *P = fx_do_offer_lp(seed, o);
  for (int f = 0; f < o->n_off; f++) o->lazy[f] = false;
  int half = o->n_off / 2;
  for (int f = half; f < o->n_off; f++) { /* offer f's options those of offer f - half where they fit */
    int src = f - half, n = o->first[f + 1] - o->first[f];
    if (n != o->first[src + 1] - o->first[src]) continue;
    for (int q = 0; q < n; q++) {
      int j = o->first[f] + q, i0 = o->first[src] + q, ind[FX_DO_MAX_COL + 1], len;
      double val[FX_DO_MAX_COL + 1];
      glp_set_obj_coef(P, j, glp_get_obj_coef(P, i0));
      len = glp_get_mat_col(P, i0, ind, val);
      int ind2[FX_DO_MAX_COL + 1], len2 = 0; /* its own offer row kept */
      double val2[FX_DO_MAX_COL + 1];
      for (int t = 1; t <= len; t++)
        if (ind[t] != o->row[src]) ++len2, ind2[len2] = ind[t], val2[len2] = val[t];
      if (o->row[f]) ++len2, ind2[len2] = o->row[f], val2[len2] = 1.0;
      glp_set_mat_col(P, j, len2, ind2, val2);
    }
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  glp_std_basis(P); /* (two twins basic: the old basis may be singular) */
  cr_assert_eq(glp_simplex(P, &parm), 0);
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  *a = *b = NULL;
  cr_assert_eq(cl_dsx_create(a, P), 0);
  cr_assert_eq(cl_dsx_create(b, P), 0);
  return P;
}

Test(clear_jump_late, basis_put_back_takes_bounds_in_bitwise) {
  long pa = 0, pb = 0, late = 0, ties = 0;
  int jumps = 0, back = 0;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    struct fx_do_offers o;
    struct cl_dsx *a, *b;
    glp_prob *P = with_twins(seed + 2000, &o, &a, &b);
    struct fx_do_kept sv[SAVES] = {{0}};
    int n_sv = 0;
    struct fx_cm_rng r = {seed * 7919};
    for (int step = 0; step < 150; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      if (n_sv && fx_cm_uni(&r, 0, 3) == 0) {
        /* copy a takes the bounds in at once, b when its basis is put back */
        fx_do_jump(P, a, b, o.n_col, &sv[fx_cm_uni(&r, 0, n_sv - 1)], &r, 3, true, &back, where);
        fx_do_same_bits(P, a, b, where);
        jumps++;
      }
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where); /* two branchings, both solved */
      if (fx_cm_uni(&r, 0, 2) == 0) fx_do_keep(P, a, o.n_col, &sv[n_sv < SAVES ? n_sv++ : (int)fx_cm_uni(&r, 0, SAVES - 1)]);
    }
    long l, t, l2, t2;
    cl_dsx_late_counts(b, &l, &t), cl_dsx_late_counts(a, &l2, &t2);
    cr_assert_eq(l2, 0, "copy a took its bounds in before every jump");
    late += l, ties += t;
    for (int k = 0; k < SAVES; k++) free(sv[k].st);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_log_info("%d jumps (%d to the basis before), %ld pivots, %ld columns freed late, %ld ties settled", jumps,
              back, pa, late, ties);
  cr_assert_gt(back, 50, "too few bases refused");
  cr_assert_gt(late, 1000, "too few columns freed without their catch-ups");
  cr_assert_gt(ties, 20, "too few ties: the test would not see a status lost");
}
