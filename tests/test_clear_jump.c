/* test_clear_jump.c — jumps from the parent's basis (round 18, jump;
 * bb_jump_warm): a node the search pops rather than plunges into starts
 * the node simplex from the basis its parent ended with, saved as one
 * byte per variable (cl_lp_bb_basis_get) and put back by refactorising
 * (cl_lp_bb_warm). On by default (1). A saved optimal basis put back at its
 * own bounds is optimal again without a pivot, whatever the node LP
 * solved in between; in the search, jumps then take fewer pivots, and
 * every search's answer stays the exhaustive search's optimum with a
 * bound that holds. Small random markets, fixed seeds, bounded counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The engine's own search to a zero gap without dives, look-aheads or
 * node neighbourhood searches, so that pivots are the node LPs'. */
static void plain(struct fx_clear_params *p) {
  fx_cm_bb_params(p);
  p->bb_node_dive = 0, p->proof_rins_node = 0, p->bb_sb_cands = 0;
}

Test(clear_jump, on_by_default) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.bb_jump_warm, 1);
}

/* The node LP of market k at the root, on the native simplex: a saved
 * optimal basis, put back after the LP moved to other bounds and solved
 * there, is optimal again at the first bounds with no pivot and the same
 * objective. Returns the pivots the LP took back to the first bounds
 * without the saved basis (-1: the market has no node LP to try). */
static long round_trip(uint64_t seed, size_t n_offers) {
  struct fx_cm_market k;
  fx_cm_gen(&k, seed, n_offers, 4, false);
  struct fx_cm_node n;
  if (!fx_cm_node_open(&n, &k.m) || n.md.n_cols < 4) {
    fx_cm_node_close(&n);
    return -1;
  }
  struct cl_lp *lp = n.lp;
  int64_t b0, b;
  long piv = 0, back = 0;
  cl_lp_bb_solve(lp, n.cov, &b0, &piv); /* GLPK's; the native simplex starts at its optimum */
  cl_lp_bb_solve(lp, n.cov, &b0, &piv);
  double obj0 = cl_lp_bb_objval(lp);
  int len = cl_lp_bb_basis_len(lp);
  cr_assert_gt(len, 0, "seed %llu: no native simplex", (unsigned long long)seed);
  signed char *saved = malloc((size_t)len), *old = malloc((size_t)len + 64);
  cr_assert(saved && old);
  cl_lp_bb_basis_get(lp, saved);
  for (int twice = 0; twice < 2; twice++) {
    for (size_t c = 0; c < n.md.n_cols; c += 3) /* every third column out */
      cl_lp_bb_set(lp, c, (struct cl_krange){0, 0});
    cl_lp_bb_solve(lp, n.cov, &b, &piv);
    for (size_t c = 0; c < n.md.n_cols; c += 3) cl_lp_bb_set(lp, c, n.kr[c]);
    cr_assert_leq(cl_lp_bb_basis_len(lp), len + 64);
    piv = 0;
    if (twice) cr_assert_eq(cl_lp_bb_warm(lp, saved, len, old), 1, "seed %llu: basis refused",
                            (unsigned long long)seed);
    cl_lp_bb_solve(lp, n.cov, &b, &piv);
    if (!twice) {
      back = piv;
      continue;
    }
    cr_assert_eq(piv, 0, "seed %llu: %ld pivots from the saved optimum", (unsigned long long)seed,
                 piv);
    double obj = cl_lp_bb_objval(lp);
    cr_assert_leq(fabs(obj - obj0), 1e-7 * fmax(1.0, fabs(obj0)), "seed %llu: %.9g, was %.9g",
                  (unsigned long long)seed, obj, obj0);
  }
  free(saved), free(old);
  fx_cm_node_close(&n);
  return back;
}

Test(clear_jump, a_saved_basis_is_optimal_again_at_its_bounds) {
  long without = 0;
  int tried = 0;
  for (uint64_t seed = 1; seed < 21; seed++) {
    long back = round_trip(seed, 40);
    if (back < 0) continue;
    tried++, without += back;
  }
  cr_log_info("%d node LPs; %ld pivots back without the saved basis", tried, without);
  cr_assert_gt(tried, 15);
  cr_assert_gt(without, 0, "the LP never left the first optimum: the round trip is untested");
}

/* With bb_jump_warm the node LPs take fewer pivots per node (jumps start
 * near their optimum); the optimum and the bound stand on small markets. */
Test(clear_jump, jumps_from_the_parents_basis_take_fewer_pivots) {
  struct fx_clear_params off, on;
  plain(&off);
  off.bb_jump_warm = 0;
  on = off;
  on.bb_jump_warm = 1;
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 21, 40, false), b = fx_cm_sweep(&on, 1, 21, 40, false);
  cr_log_info("pivots per node: %.2f off (%d nodes), %.2f on (%d nodes)",
              (double)a.pivots / a.nodes, a.nodes, (double)b.pivots / b.nodes, b.nodes);
  cr_assert_gt(a.nodes, 100, "too few nodes to tell");
  cr_assert_lt((double)b.pivots / b.nodes, 0.9 * (double)a.pivots / a.nodes);
  struct fx_cm_sums c = fx_cm_sweep(&on, 1, 61, 7, true);
  cr_assert_gt(c.ran, 40);
}

/* Whole clearings with warm jumps, on step 10's path and the proof's:
 * every rule, bounds that bound the exhaustive search, the same answer
 * twice. */
Test(clear_jump, clearing_with_warm_jumps_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_jump_warm = 1;
  fx_cm_small_both_paths(&p);
}
