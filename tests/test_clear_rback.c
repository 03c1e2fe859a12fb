/* test_clear_rback.c — the every-8th node's rounding backs off (round 20,
 * heur20; bb_round_backoff): on cost, from node bb_round_backoff_node on,
 * bb_round_backoff roundings in a row that do not improve the incumbent
 * double its period (at most bb_round_period_max), and one that improves
 * it brings the period back to 8. Run through cl_bb_run so that the
 * roundings, the doublings and the returns can be counted: with the
 * back-off from the root on, fewer roundings than without, periods that
 * double and come back; a back-off that starts beyond every search's last
 * node changes nothing; every search's answer stays the exhaustive
 * search's optimum with a bound that holds. Small random markets, fixed
 * seeds, bounded counts. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The engine's search to a zero gap, with the back-off from node `from`
 * on after `fails` failures (0: off). */
static void backoff(struct fx_clear_params *p, int fails, int from) {
  fx_cm_bb_params(p);
  p->bb_round_backoff = fails;
  p->bb_round_backoff_node = from;
}

/* On by default: after 4 failures, from node 128 on, up to every 64th. */
Test(clear_rback, on_by_default) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.bb_round_backoff, 4);
  cr_assert_eq(d.bb_round_backoff_node, 128);
  cr_assert_eq(d.bb_round_period_max, 64);
}

/* From the root on, after every failure: fewer roundings than every 8th
 * node, periods that double, and improving roundings that bring them
 * back; off, none of either. */
Test(clear_rback, the_rounding_backs_off_and_comes_back) {
  struct fx_clear_params on, off;
  backoff(&on, 1, 1);
  backoff(&off, 0, 1);
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 41, 30, false), b = fx_cm_sweep(&on, 1, 41, 30, false);
  cr_log_info("roundings %d -> %d, doublings %d, returns %d, nodes %d -> %d", a.rounds, b.rounds,
              b.round_backoffs, b.round_resets, a.nodes, b.nodes);
  cr_assert_eq(a.round_backoffs, 0);
  cr_assert_eq(a.round_resets, 0);
  cr_assert_gt(b.round_backoffs, 0, "the period never doubled");
  cr_assert_gt(b.round_resets, 0, "no improving rounding brought the period back");
  cr_assert_lt(b.rounds, a.rounds, "no rounding was left out");
  /* a return is an improving rounding at a doubled period */
  cr_assert_leq(b.round_resets, b.rounds_improved, "returns %d, improvements %d", b.round_resets,
                b.rounds_improved);
  cr_assert_leq(b.rounds_improved, b.rounds);
}

/* The period is capped: at bb_round_period_max 8 nothing is left out, and
 * the search is the same as without the back-off. */
Test(clear_rback, a_cap_of_eight_leaves_every_eighth_node) {
  struct fx_clear_params on, off;
  backoff(&on, 1, 1);
  on.bb_round_period_max = 8;
  backoff(&off, 0, 1);
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 21, 30, false), b = fx_cm_sweep(&on, 1, 21, 30, false);
  cr_assert_eq(b.round_backoffs, 0);
  cr_assert_eq(a.rounds, b.rounds);
  cr_assert_eq(a.nodes, b.nodes);
  cr_assert_eq(a.pivots, b.pivots);
}

/* A back-off from a node no search reaches leaves every search as it was. */
Test(clear_rback, not_before_its_node) {
  struct fx_clear_params late, off;
  backoff(&late, 1, 1000000);
  backoff(&off, 0, 1);
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 21, 30, false), b = fx_cm_sweep(&late, 1, 21, 30, false);
  cr_assert_eq(a.rounds, b.rounds);
  cr_assert_eq(a.nodes, b.nodes);
  cr_assert_eq(a.pivots, b.pivots);
}

/* Backed off after every failure from the root on, the search still ends
 * at the exhaustive search's optimum with a bound that holds. */
Test(clear_rback, backed_off_search_matches_exhaustive_search) {
  struct fx_clear_params on;
  backoff(&on, 1, 1);
  struct fx_cm_sums c = fx_cm_sweep(&on, 1, 61, 7, true);
  cr_assert_gt(c.ran, 40);
}

/* Through fx_clear_solve on step 10's path and the proof's, backed off
 * from the root on: every rule, bounds that bound the exhaustive search,
 * the same answer twice. */
Test(clear_rback, clearing_backed_off_matches_exhaustive_search) {
  struct fx_clear_params p;
  backoff(&p, 1, 1);
  fx_cm_small_both_paths(&p);
}
