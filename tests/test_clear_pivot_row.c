/* test_clear_pivot_row.c — the pivot row's chain in fewer instructions
 * (round 22), the same bits. The node simplex's scatter of rho's
 * rows into the pivot row (row_add: eight entries a step, through an
 * opaque copy of the pointer so that gcc addresses each access as
 * base + 8·index), the ratio test's gather (size_t indices, alpha's bits
 * read as an integer) and the duals' update (duals_move), each in an AVX2
 * copy beside the baseline's: each leans on the same loads, products,
 * sums and stores in the same order as the plain loops (a row's entries
 * hit distinct columns; a store through one pointer may alias a load
 * through the other, so the compiler keeps their order). Copy a runs the
 * plain loops (cl_dsx_set_plain_row: one entry a step, the baseline's
 * code), copy b the faster ones: after every solve, look-ahead, restore
 * and basis put back their whole states must be the same bits
 * (cl_dsx_same_state) and every pivot the same, through branchings,
 * bound flips (every column is boxed), appended rows, look-aheads that
 * end optimal, at their pivot limit or infeasible (the ratio test giving
 * up), Devex and plain pricing, and jumps to kept bases. */
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

#define SAVES 6

struct tally {
  int rc[3];    /* look-aheads by outcome: CL_DSX_OPT, _ITLIM, _FAIL */
  int jumps, back, appended;
  long pa, pb;  /* pivots of the plain and the fast copy */
};

/* The same look-ahead on both copies: save, some offers excluded and an
 * option fixed at 1 (infeasible at times), a short or unlimited solve,
 * bounds back, restore. */
static void look_ahead(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, struct cl_dsx_snap **sa,
                       struct cl_dsx_snap **sb, const struct fx_do_offers *o, struct fx_cm_rng *r, struct tally *ty,
                       const char *where) {
  long qa = 0, qb = 0;
  cr_assert_eq(cl_dsx_save(a, sa), 0);
  cr_assert_eq(cl_dsx_save(b, sb), 0);
  for (int k = (int)fx_cm_uni(r, 1, 4); k > 0; k--) {
    int f = (int)fx_cm_uni(r, 0, o->n_off - 1);
    for (int j = o->first[f]; j < o->first[f + 1]; j++) cl_dsx_set_col(a, j, 0.0, 0.0), cl_dsx_set_col(b, j, 0.0, 0.0);
  }
  int one = (int)fx_cm_uni(r, 1, o->n_col);
  cl_dsx_set_col(a, one, 1.0, 1.0), cl_dsx_set_col(b, one, 1.0, 1.0);
  int lim = fx_cm_uni(r, 0, 2) == 0 ? INT32_MAX : (int)fx_cm_uni(r, 1, 3);
  bool devex = fx_cm_uni(r, 0, 1) == 1;
  int ra = cl_dsx_solve(a, lim, devex, &qa), rb = cl_dsx_solve(b, lim, devex, &qb);
  cr_assert(ra >= 0 && ra <= 2, "%s: look-ahead rc %d", where, ra);
  cr_assert_eq(rb, ra, "%s: look-ahead rc %d and %d", where, ra, rb);
  cr_assert_eq(qb, qa, "%s: look-ahead pivots %ld and %ld", where, qa, qb);
  cr_assert(cl_dsx_same_state(a, b), "%s: a look-ahead (rc %d) to other bits", where, ra);
  cr_assert(cl_dsx_scratch_clean(a) && cl_dsx_scratch_clean(b), "%s: work vectors left dirty", where);
  ty->rc[ra]++;
  fx_do_bounds_back(P, a), fx_do_bounds_back(P, b);
  cl_dsx_restore(a, *sa), cl_dsx_restore(b, *sb);
  cr_assert(cl_dsx_same_state(a, b), "%s: restored to other bits", where);
}

static void sequence(uint64_t seed, struct tally *ty) {
  struct fx_do_offers o;
  glp_prob *P = fx_do_offer_lp(seed, &o);
  struct cl_dsx *a = NULL, *b = NULL;
  struct cl_dsx_snap *sa = NULL, *sb = NULL;
  cr_assert_eq(cl_dsx_create(&a, P), 0);
  cr_assert_eq(cl_dsx_create(&b, P), 0);
  cl_dsx_set_plain_row(a, true);
  struct fx_do_kept sv[SAVES] = {{0}};
  int n_sv = 0, rows0 = cl_dsx_rows(b);
  struct fx_cm_rng r = {seed * 7919};
  for (int step = 0; step < 80; step++) {
    char where[64];
    snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
    if (n_sv && fx_cm_uni(&r, 0, 3) == 0) {
      fx_do_jump(P, a, b, glp_get_num_cols(P), &sv[fx_cm_uni(&r, 0, n_sv - 1)], &r, 4, false, &ty->back, where);
      cr_assert(cl_dsx_same_state(a, b), "%s: the basis put back leaves other bits", where);
      ty->jumps++;
    }
    if (step % 3 != 2) look_ahead(P, a, b, &sa, &sb, &o, &r, ty, where);
    fx_do_branch_both(P, a, b, &o, &r, &ty->pa, &ty->pb, where); /* two branchings, both solved */
    cr_assert(cl_dsx_same_state(a, b), "%s: solved to other bits", where);
    cr_assert(cl_dsx_scratch_clean(a) && cl_dsx_scratch_clean(b), "%s: dirty after a solve", where);
    if (step % 5 == 4) fx_do_certify(P, b, where);
    if (fx_cm_uni(&r, 0, 2) == 0) {
      int t = n_sv < SAVES ? n_sv++ : (int)fx_cm_uni(&r, 0, SAVES - 1);
      fx_do_keep(P, b, glp_get_num_cols(P), &sv[t]);
    }
  }
  ty->appended += cl_dsx_rows(b) - rows0;
  for (int k = 0; k < SAVES; k++) free(sv[k].st);
  cl_dsx_snap_free(sa), cl_dsx_snap_free(sb);
  cl_dsx_free(a), cl_dsx_free(b);
  glp_delete_prob(P);
}

Test(clear_pivot_row, fast_pivot_row_leaves_the_plain_bits) {
  struct tally ty = {{0, 0, 0}, 0, 0, 0, 0, 0};
  for (uint64_t seed = 1; seed <= 60; seed++) sequence(seed + 2200, &ty);
  cr_assert_eq(ty.pa, ty.pb, "pivots %ld and %ld", ty.pa, ty.pb);
  cr_log_info("%ld pivots; look-aheads %d optimal, %d at their limit, %d failed; %d jumps (%d refused); "
              "%d rows appended",
              ty.pa, ty.rc[CL_DSX_OPT], ty.rc[CL_DSX_ITLIM], ty.rc[CL_DSX_FAIL], ty.jumps, ty.back, ty.appended);
  /* every exit of a look-ahead taken, jumps and appended rows */
  cr_assert_gt(ty.rc[CL_DSX_OPT], 100);
  cr_assert_gt(ty.rc[CL_DSX_ITLIM], 300);
  cr_assert_gt(ty.rc[CL_DSX_FAIL], 50);
  cr_assert_gt(ty.jumps, 200);
  cr_assert_gt(ty.appended, 100);
}
