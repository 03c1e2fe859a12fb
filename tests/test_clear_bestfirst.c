/* test_clear_bestfirst.c — best first late in the proof (round 18, brch;
 * proof_best_first_gap): once the proof's proven gap is within that share
 * of the incumbent's value, a plunge goes on only into a child at the
 * least open bound. Run through cl_bb_run so that plunges can be counted:
 * where on (a share of 1, late from the root on) plunges stop more often
 * and are shorter than at 0; the searches of sub-markets and step 10
 * (proof_rins_node 0) are not changed; every search's answer stays the
 * exhaustive search's optimum with a bound that holds. Small random
 * markets, fixed seeds, bounded counts. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The engine's search to a zero gap without dives, look-aheads or node
 * neighbourhood searches. proof: marked as step 12's proof
 * (proof_rins_node > 0, a node never reached, so no node search runs). */
static void plain(struct fx_clear_params *p, bool proof, double gap) {
  fx_cm_bb_params(p);
  p->bb_node_dive = 0, p->bb_sb_cands = 0, p->proof_rins_again = 0;
  p->proof_rins_node = proof ? 1000000 : 0;
  p->proof_best_first_gap = gap;
}

/* On by default, at 0.13 % (the proof ends at 0.1 %). */
Test(clear_bestfirst, on_by_default) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.proof_best_first_gap, 0.0013);
}

/* Late from the root on (a share of 1), the proof's plunges stop more
 * often and are shorter than with the rule off; the optimum and the bound
 * stand on the small markets. */
Test(clear_bestfirst, late_plunges_go_on_at_the_least_bound_only) {
  struct fx_clear_params on, off;
  plain(&on, true, 1.0);
  plain(&off, true, 0.0);
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 21, 30, false), b = fx_cm_sweep(&on, 1, 21, 30, false);
  cr_log_info("stopped plunges %d -> %d, longest %d -> %d, nodes %d -> %d", a.aborts, b.aborts,
              a.longest, b.longest, a.nodes, b.nodes);
  cr_assert_gt(b.aborts, a.aborts, "no more plunges stopped");
  cr_assert_lt(b.longest, a.longest, "the plunges are as long as without the rule");
  struct fx_cm_sums c = fx_cm_sweep(&on, 1, 61, 7, true);
  cr_assert_gt(c.ran, 40);
}

/* Searches that are not step 12's proof (proof_rins_node 0: the
 * sub-markets', step 10's) run as before whatever the share. */
Test(clear_bestfirst, other_searches_unchanged) {
  struct fx_clear_params on, off;
  plain(&on, false, 1.0);
  plain(&off, false, 0.0);
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 21, 30, false), b = fx_cm_sweep(&on, 1, 21, 30, false);
  cr_assert_eq(a.nodes, b.nodes);
  cr_assert_eq(a.pivots, b.pivots);
  cr_assert_eq(a.aborts, b.aborts);
}

/* A share that holds most of the search, through fx_clear_solve on step
 * 10's path and the proof's: every rule, bounds that bound the exhaustive
 * search, the same answer twice. */
Test(clear_bestfirst, clearing_late_best_first_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.proof_best_first_gap = 0.5;
  fx_cm_small_both_paths(&p);
}
