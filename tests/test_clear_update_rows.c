/* test_clear_update_rows.c — K's inverse updated in fewer instructions,
 * the same bits (round 22, ftr22). update_E's two eliminations (a basic
 * column replaced by another, K shrinking when a column leaves and its
 * row goes slack) subtract f·e0 from every row of E whose f is not zero;
 * since round 22 they list those rows first (for K shrinking: each f
 * from its row's entry before any row moves), skip the pivot's own row,
 * and take four rows at a time. Each entry is still its own e - f·e0, so
 * the inverse must be the plain one to the bit: a zero f taken anyway
 * turns a -0 entry of E (Gauss-Jordan's scaling makes many) into +0,
 * which moves a later pivot (this test fails then). Copy a updates E the plain way (cl_dsx_set_plain), copy b the
 * short way; after every solve (to the optimum, and cut short at a pivot
 * limit as a look-ahead is, with dual Devex pricing) their whole states
 * must be the same bits (cl_dsx_same_state: the inverse and its slots,
 * values, reduced costs, duals) and every pivot the same. On the offer
 * LPs of tests/support/dsx_offers.c, rows appended as the branchings go,
 * with jumps to kept nodes' bases (fx_do_jump: a refactorisation each). */
#include <criterion/criterion.h>
#include <glpk.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

#define KEPT 6

Test(clear_update_rows, grouped_rows_leave_the_plain_inverse) {
  long pa = 0, pb = 0, cut = 0;
  int rows = 0, jumps = 0, back = 0;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed + 22000, &o);
    struct cl_dsx *a = NULL, *b = NULL;
    cr_assert_eq(cl_dsx_create(&a, P), 0);
    cr_assert_eq(cl_dsx_create(&b, P), 0);
    cl_dsx_set_plain(a, true);
    int rows0 = cl_dsx_rows(b), n_kept = 0;
    struct fx_do_kept kept[KEPT] = {{0}};
    struct fx_cm_rng r = {seed * 7919};
    for (int step = 0; step < 80; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      if (n_kept && fx_cm_uni(&r, 0, 3) == 0) { /* a jump: the kept basis refactorised */
        fx_do_jump(P, a, b, glp_get_num_cols(P), &kept[fx_cm_uni(&r, 0, n_kept - 1)], &r, 4, false, &back, where);
        cr_assert(cl_dsx_same_state(a, b), "%s: the basis put back leaves other bits", where);
        jumps++;
      }
      if (fx_cm_uni(&r, 0, 3) == 0) { /* a look-ahead's solve: a few Devex pivots, cut short */
        for (int k = 0; k < 2; k++) fx_do_branch(P, a, b, &o, &r);
        int lim = (int)fx_cm_uni(&r, 1, 4);
        long qa = 0, qb = 0;
        int ra = cl_dsx_solve(a, lim, true, &qa), rb = cl_dsx_solve(b, lim, true, &qb);
        cr_assert_eq(ra, rb, "%s: rc %d and %d", where, ra, rb);
        cr_assert_eq(qa, qb, "%s: %ld and %ld pivots", where, qa, qb);
        cut += ra == CL_DSX_ITLIM, pa += qa, pb += qb;
        cr_assert(cl_dsx_same_state(a, b), "%s: cut short to other bits", where);
        if (ra == CL_DSX_FAIL) break; /* (both gave up alike: GLPK's node) */
      }
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where); /* two branchings, both solved alike */
      cr_assert(cl_dsx_same_state(a, b), "%s: solved to other bits", where);
      if (fx_cm_uni(&r, 0, 2) == 0) fx_do_keep(P, b, glp_get_num_cols(P), &kept[n_kept < KEPT ? n_kept++ : (int)fx_cm_uni(&r, 0, KEPT - 1)]);
    }
    for (int z = 0; z < KEPT; z++) free(kept[z].st);
    rows += cl_dsx_rows(b) - rows0;
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_assert_eq(pa, pb, "pivots %ld and %ld", pa, pb);
  cr_log_info("%ld pivots, %ld solves cut short, %d jumps (%d refused), %d rows appended", pa, cut, jumps, back, rows);
  cr_assert_gt(pa, 30000, "too few pivots");
  cr_assert_gt(cut, 1000, "too few solves cut short");
  cr_assert_gt(jumps, 2000, "too few jumps");
}
