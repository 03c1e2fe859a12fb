/* test_clear_plunge.c — bounded plunges in the proof's branch-and-bound
 * (round 17, plng; bb_plunge_abort), run through cl_bb_run so that its
 * plunges can be counted: a plunge stops where the child's bound is more
 * than a share of the gap above the least open bound, and the child goes
 * open. On by default (0.6); 0 turns it off; where on it stops plunges
 * (its count, which undoing it would zero) and shortens them, and every
 * search's answer stays the exhaustive search's optimum with a bound that
 * holds. Small random markets, fixed seeds, bounded counts. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The engine's own search to a zero gap without dives, look-aheads or
 * node neighbourhood searches (so that plunges are long and decided by
 * the rules under test alone). */
static void plain(struct fx_clear_params *p) {
  fx_cm_bb_params(p);
  p->bb_node_dive = 0, p->proof_rins_node = 0, p->bb_sb_cands = 0;
}

/* 0.6 by default; at 0 no plunge stops (rounds 4-16's search). */
Test(clear_plunge, on_by_default_and_off_at_zero) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.bb_plunge_abort, 0.6);
  struct fx_clear_params p;
  plain(&p);
  p.bb_plunge_abort = 0;
  struct fx_cm_sums s = fx_cm_sweep(&p, 1, 21, 30, false);
  cr_assert_eq(s.aborts, 0, "a plunge stopped while off");
  cr_assert_gt(s.longest, 2, "no plunge longer than 2 nodes: the rule below is untested");
}

/* bb_plunge_abort: a tiny share stops every plunge whose child's bound is
 * above the least open bound at all, so plunges stop and are shorter than
 * without it; 0.5 stops fewer than the tiny share. The optimum and the
 * bound stand on the small markets. */
Test(clear_plunge, plunges_stop_far_above_the_least_open_bound) {
  struct fx_clear_params tiny, half, off;
  plain(&off);
  off.bb_plunge_abort = 0;
  tiny = half = off;
  tiny.bb_plunge_abort = 1e-9, half.bb_plunge_abort = 0.5;
  struct fx_cm_sums a = fx_cm_sweep(&off, 1, 21, 30, false), t = fx_cm_sweep(&tiny, 1, 21, 30, false),
              h = fx_cm_sweep(&half, 1, 21, 30, false);
  cr_log_info("stopped plunges: %d at a tiny share, %d at 0.5; longest %d, %d, %d without",
              t.aborts, h.aborts, t.longest, h.longest, a.longest);
  cr_assert_gt(t.aborts, 0, "no plunge stopped");
  cr_assert_leq(h.aborts, t.aborts);
  cr_assert_lt(t.longest, a.longest, "the plunges are as long as without the rule");
  struct fx_cm_sums c = fx_cm_sweep(&tiny, 1, 61, 7, true);
  struct fx_cm_sums d = fx_cm_sweep(&half, 1, 61, 7, true);
  cr_assert_gt(c.ran + d.ran, 80);
}

/* A share that stops most plunges, through fx_clear_solve on step 10's
 * path and the proof's: every rule, bounds that bound the exhaustive
 * search, the same answer twice. */
Test(clear_plunge, clearing_with_short_plunges_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_plunge_abort = 0.1;
  fx_cm_small_both_paths(&p);
}
