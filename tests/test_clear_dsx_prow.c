/* test_clear_dsx_prow.c — the node simplex's parked columns (clear_dsx.c:
 * nonbasic columns fixed at a bound skip the pivot row; their reduced
 * costs are caught up from a log of the pivots when they are freed, term
 * for term as the pivot row would have summed them, and a restore cuts the
 * log back to its save). On the offer LPs of test_clear_dsx_gub.c, heavy
 * in fixings (tests/support/dsx_offers.c): every optimum against GLPK with the copy's duals as a
 * certificate (a column whose reduced cost was not caught up is placed at
 * the wrong bound and breaks both), and bitwise comparisons between copies
 * fed the same branchings whose logs take different paths — kept across
 * pricings by a save after every solve (long logs, grown, emptied when
 * full row by row) or emptied at each pricing (caught up column by
 * column), and with look-aheads saved and restored in between or not:
 * the catch-up is exact only if all of these agree to the last bit. */
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

/* Copy a never saves: each pricing (every 200 pivots) empties its log and
 * a freed column catches up over the pivots since. Copy b saves after
 * every solve and never restores: its log outlives the pricings, grows,
 * and when full is emptied by the row-wise catch-up. Same branchings:
 * the same pivots, the same bits, and GLPK's optimum. */
Test(clear_dsx_prow, catch_up_paths_agree_bitwise) {
  long pa = 0, pb = 0;
  int solved = 0, long_runs = 0;
  for (uint64_t seed = 1; seed <= 30; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed + 500, &o);
    if (seed % 2) /* no rows appended: nothing empties b's log but its size */
      for (int f = 0; f < o.n_off; f++) o.lazy[f] = false;
    struct cl_dsx *a = NULL, *b = NULL;
    struct cl_dsx_snap *s = NULL;
    cr_assert_eq(cl_dsx_create(&a, P), 0);
    cr_assert_eq(cl_dsx_create(&b, P), 0);
    struct fx_cm_rng r = {seed * 104729};
    long pa0 = pa;
    for (int step = 0; step < (seed % 2 ? 600 : 150); step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      for (int k = 0; k < 3; k++) fx_do_branch(P, a, b, &o, &r);
      bool devex = step % 5 == 4;
      int ra = cl_dsx_solve(a, INT32_MAX, devex, &pa), rb = cl_dsx_solve(b, INT32_MAX, devex, &pb);
      cr_assert_eq(ra, CL_DSX_OPT, "%s: rc %d", where, ra);
      cr_assert_eq(rb, ra, "%s", where);
      cr_assert_eq(pa, pb, "%s: %ld and %ld pivots", where, pa, pb);
      fx_do_same_bits(P, a, b, where);
      double g = fx_do_glpk_obj(P), x = cl_dsx_obj(a);
      cr_assert(fabs(x - g) <= 1e-7 * fmax(1.0, fabs(g)), "%s: %.12g, GLPK %.12g", where, x, g);
      fx_do_certify(P, a, where);
      cr_assert_eq(cl_dsx_save(b, &s), 0);
      solved++;
    }
    long_runs += seed % 2 && pa - pa0 > 1100; /* b's log full (4 x 256 pivots) at least once */
    cl_dsx_snap_free(s);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_log_info("%d LPs, %ld pivots, %d sequences past b's log size", solved, pa, long_runs);
  cr_assert_gt(long_runs, 3, "b's log never filled: the row-wise catch-up untested");
}

/* Copy a looks ahead before each branching (save; offers excluded and
 * an option fixed, a short solve past a pricing now and then; bounds put
 * back; restore), copy b does not: after the restore a is b to the bit,
 * parked reduced costs included (they show once those columns are freed
 * and the next solves pivot), so the restore's log is the save's. */
Test(clear_dsx_prow, restore_is_bitwise) {
  long pa = 0, pb = 0, probe = 0;
  int compared = 0, probe_fail = 0;
  for (uint64_t seed = 1; seed <= 25; seed++) {
    struct fx_do_offers o;
    struct cl_dsx *a, *b;
    glp_prob *P = fx_do_twins(seed + 900, &o, &a, &b);
    struct cl_dsx_snap *s = NULL;
    struct fx_cm_rng r = {seed * 7717};
    for (int step = 0; step < 120; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      cr_assert_eq(cl_dsx_save(a, &s), 0);
      for (int k = 0; k < 4; k++) {
        int f = (int)fx_cm_uni(&r, 0, o.n_off - 1);
        for (int j = o.first[f]; j < o.first[f + 1]; j++) cl_dsx_set_col(a, j, 0.0, 0.0);
      }
      cl_dsx_set_col(a, (int)fx_cm_uni(&r, 1, o.n_col), 1.0, 1.0);
      /* (infeasible at times: c's offer may hold another option at 1) */
      probe_fail += cl_dsx_solve(a, (int)fx_cm_uni(&r, 5, 400), step % 2 == 0, &probe) == CL_DSX_FAIL;
      fx_do_bounds_back(P, a);
      cl_dsx_restore(a, s);
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where);
      compared++;
    }
    cl_dsx_snap_free(s);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_log_info("%d solves compared, %ld pivots, %ld in look-aheads (%d failed)", compared, pa, probe, probe_fail);
  cr_assert_gt(probe, 2000, "look-aheads too short to cross a pricing");
}
