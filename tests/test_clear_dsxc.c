/* test_clear_dsxc.c — the node simplex's work vectors (clear_dsx.c): the
 * rows' accumulators, the row of the inverse and the pivot row are no
 * longer cleared in full before each pivot but kept zero, each entry
 * cleared after the pivot that wrote it (from the column, the row list,
 * the duals' update). A missed entry would add a stale number to a later
 * pivot. On the offer LPs of tests/support/dsx_offers.c, through
 * branchings, appended rows (past the rows' capacity), and look-aheads
 * that end optimal, at their pivot limit, or infeasible (the ratio test
 * giving up half-way through the pivot row), each put back by a restore:
 * after every step the vectors are zero where they must be, and a copy
 * that looked ahead solves every node to the same bits as one that never
 * did (the same pivots, values, duals), each optimum GLPK's, certified by
 * its duals. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

struct tally {
  int rc[3]; /* look-aheads by outcome: CL_DSX_OPT, _ITLIM, _FAIL */
  int grown;  /* sequences that appended more rows than the first capacity */
};

/* A look-ahead on a: save, some offers excluded and an option fixed at 1
 * (infeasible at times), a short or unlimited solve, bounds back, restore.
 * The work vectors are checked after the solve, whatever its outcome. */
static void look_ahead(glp_prob *P, struct cl_dsx *a, struct cl_dsx_snap **s, const struct fx_do_offers *o,
                       struct fx_cm_rng *r, struct tally *ty, const char *where) {
  long piv = 0;
  cr_assert_eq(cl_dsx_save(a, s), 0);
  for (int k = (int)fx_cm_uni(r, 1, 4); k > 0; k--) {
    int f = (int)fx_cm_uni(r, 0, o->n_off - 1);
    for (int j = o->first[f]; j < o->first[f + 1]; j++) cl_dsx_set_col(a, j, 0.0, 0.0);
  }
  cl_dsx_set_col(a, (int)fx_cm_uni(r, 1, o->n_col), 1.0, 1.0);
  int lim = fx_cm_uni(r, 0, 2) == 0 ? INT32_MAX : (int)fx_cm_uni(r, 1, 3); /* (the LPs are small: a few pivots) */
  int rc = cl_dsx_solve(a, lim, fx_cm_uni(r, 0, 1) == 1, &piv);
  cr_assert(rc >= 0 && rc <= 2, "%s: look-ahead rc %d", where, rc);
  ty->rc[rc]++;
  cr_assert(cl_dsx_scratch_clean(a), "%s: work vectors left dirty by a look-ahead (rc %d)", where, rc);
  fx_do_bounds_back(P, a);
  cl_dsx_restore(a, *s);
  cr_assert(cl_dsx_scratch_clean(a), "%s: work vectors dirty after a restore", where);
}

/* One node sequence: copy a looks ahead before most branchings, copy b
 * never does; both take the same branchings and solve each node. */
static void sequence(uint64_t seed, struct tally *ty, long *pivots) {
  struct fx_do_offers o;
  glp_prob *P = fx_do_offer_lp(seed, &o);
  struct cl_dsx *a = NULL, *b = NULL;
  struct cl_dsx_snap *s = NULL;
  cr_assert_eq(cl_dsx_create(&a, P), 0);
  cr_assert_eq(cl_dsx_create(&b, P), 0);
  cr_assert(cl_dsx_scratch_clean(a), "seed %llu: dirty from the start", (unsigned long long)seed);
  int m0 = cl_dsx_rows(a);
  struct fx_cm_rng r = {seed * 6151};
  long pb = 0;
  for (int step = 0; step < 100; step++) {
    char where[64];
    snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
    if (step % 4 != 3) look_ahead(P, a, &s, &o, &r, ty, where);
    for (int k = 0; k < 3; k++) fx_do_branch(P, a, b, &o, &r);
    cr_assert(cl_dsx_scratch_clean(a), "%s: dirty after the branchings", where);
    bool devex = step % 7 == 6;
    int ra = cl_dsx_solve(a, INT32_MAX, devex, pivots), rb = cl_dsx_solve(b, INT32_MAX, devex, &pb);
    cr_assert_eq(ra, CL_DSX_OPT, "%s: rc %d", where, ra);
    cr_assert_eq(rb, ra, "%s", where);
    cr_assert(cl_dsx_scratch_clean(a) && cl_dsx_scratch_clean(b), "%s: dirty after a solve", where);
    fx_do_same_bits(P, a, b, where);
    double g = fx_do_glpk_obj(P), x = cl_dsx_obj(a);
    cr_assert(fabs(x - g) <= 1e-7 * fmax(1.0, fabs(g)), "%s: %.12g, GLPK %.12g", where, x, g);
    fx_do_certify(P, a, where);
  }
  ty->grown += cl_dsx_rows(a) - m0 > 16; /* cl_dsx_create leaves room for 16 */
  cl_dsx_snap_free(s);
  cl_dsx_free(a), cl_dsx_free(b);
  glp_delete_prob(P);
}

Test(clear_dsxc, work_vectors_zero_and_lookaheads_leave_no_trace) {
  struct tally ty = {{0, 0, 0}, 0};
  long pivots = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) sequence(seed + 1300, &ty, &pivots);
  cr_log_info("%ld pivots; look-aheads %d optimal, %d at their limit, %d failed; %d sequences past the capacity",
              pivots, ty.rc[CL_DSX_OPT], ty.rc[CL_DSX_ITLIM], ty.rc[CL_DSX_FAIL], ty.grown);
  /* every exit of a look-ahead taken, and the rows' capacity outgrown */
  cr_assert_gt(ty.rc[CL_DSX_OPT], 100);
  cr_assert_gt(ty.rc[CL_DSX_ITLIM], 300);
  cr_assert_gt(ty.rc[CL_DSX_FAIL], 50);
  cr_assert_gt(ty.grown, 0);
}
