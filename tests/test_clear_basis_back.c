/* test_clear_basis_back.c — a basis put back (cl_dsx_basis_set, a jump
 * in the branch-and-bound; round 21, warm21) in fewer instructions, the
 * same bits. Its short cuts: statuses compares eight variables at a
 * time and keeps mv and pos per changed variable (not rebuilt); head is
 * built from the basic bytes; dual_feasible walks mv's bits and skips
 * the variables place() would leave as they are; slots() finds the
 * basic columns eight at a time and resets only the slots it set; and
 * refactor() takes K's inverse from the one the last jump computed when
 * K is the same (a node's two children popped one after the other).
 * Each leans on an invariant the plain code rebuilt every time: mv is
 * the moving variables', a nonbasic variable's pos is -1, a parked
 * column is fixed, slot is -1 off K, and the same K gives Gauss-Jordan
 * the same steps. Copy a puts bases back the plain way
 * (cl_dsx_set_plain), copy b with the short cuts: after every basis put
 * back and every solve their whole states must be the same bits
 * (cl_dsx_same_state: statuses, values, reduced costs, duals, the
 * inverse, its slots and pairs, the rows' parked ends, the log) and
 * every pivot the same. On the offer LPs of tests/support/dsx_offers.c
 * with rows appended since a basis was kept, bases refused (singular or
 * not dual feasible: the one before is put back), and jumps back to the
 * basis the last jump put back. */
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

Test(clear_basis_back, short_cuts_leave_the_plain_bits) {
  long pa = 0, pb = 0, hits = 0;
  int jumps = 0, again = 0, back = 0, appended = 0;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed + 7000, &o);
    struct cl_dsx *a = NULL, *b = NULL;
    cr_assert_eq(cl_dsx_create(&a, P), 0);
    cr_assert_eq(cl_dsx_create(&b, P), 0);
    cl_dsx_set_plain(a, true);
    cr_assert(cl_dsx_same_state(a, b), "seed %llu: created apart", (unsigned long long)seed);
    struct fx_do_kept sv[SAVES] = {{0}};
    int n_sv = 0, last = -1, rows0 = cl_dsx_rows(b);
    struct fx_cm_rng r = {seed * 104729};
    for (int step = 0; step < 120; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      if (n_sv && fx_cm_uni(&r, 0, 2) == 0) {
        /* a third of the jumps go back to the last one's basis: refactor's kept K */
        bool twice = last >= 0 && fx_cm_uni(&r, 0, 2) == 0;
        int t = twice ? last : (int)fx_cm_uni(&r, 0, n_sv - 1);
        fx_do_jump(P, a, b, glp_get_num_cols(P), &sv[t], &r, 4, false, &back, where);
        cr_assert(cl_dsx_same_state(a, b), "%s: the basis put back leaves other bits", where);
        jumps++, again += twice, last = t;
      }
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where); /* two branchings, both solved alike */
      cr_assert(cl_dsx_same_state(a, b), "%s: solved to other bits", where);
      if (fx_cm_uni(&r, 0, 2) == 0) {
        int t = n_sv < SAVES ? n_sv++ : (int)fx_cm_uni(&r, 0, SAVES - 1);
        fx_do_keep(P, b, glp_get_num_cols(P), &sv[t]);
        if (t == last) last = -1;
      }
    }
    appended += cl_dsx_rows(b) - rows0;
    cr_assert_eq(cl_dsx_fact_hits(a), 0, "the plain copy keeps no factorisation");
    hits += cl_dsx_fact_hits(b);
    for (int k = 0; k < SAVES; k++) free(sv[k].st);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_assert_eq(pa, pb, "pivots %ld and %ld", pa, pb);
  cr_log_info("%d jumps (%d back to the last one's basis, %d refused), %ld factorisations kept and taken, "
              "%d rows appended, %ld pivots",
              jumps, again, back, hits, appended, pa);
  cr_assert_gt(hits, 500, "too few kept factorisations taken");
  cr_assert_gt(back, 100, "too few bases refused");
  cr_assert_gt(appended, 300, "too few rows appended since a basis was kept");
}
