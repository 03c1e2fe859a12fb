/* test_clear_plunge.c — where the proof's branch-and-bound goes after a
 * node (round 17, plng), run through cl_bb_run so that its plunges can be
 * counted: bounded plunges (bb_plunge_depth: no plunge longer;
 * bb_plunge_abort: the plunge stops where the child's bound is far above
 * the least open one), guided plunges (bb_plunge_guide: into the
 * incumbent's side) and near-ties popped deepest (bb_pop_near). Each rule
 * is off by default, does something where on (its count, which undoing it
 * would zero), and leaves every search's answer the exhaustive search's
 * optimum with a bound that holds. Small random markets, fixed seeds,
 * bounded counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The bound holds against the exhaustive search at the coverage searched,
 * and a search run to its end found the least cost there. */
static void check_exhaustive(const struct fx_clear_market *m, const struct fx_cm_bb *r,
                             uint64_t seed) {
  struct fx_cm_ex e = {.m = m, .at_cov = r->cov};
  fx_cm_exhaustive(&e);
  cr_assert_leq(r->bo.bound, e.at_cost, "seed %llu: bound %lld above the optimum %lld",
                (unsigned long long)seed, (long long)r->bo.bound, (long long)e.at_cost);
  if (!r->bo.budget_hit)
    cr_assert_eq(r->cost, e.at_cost, "seed %llu: %lld, least cost %lld", (unsigned long long)seed,
                 (long long)r->cost, (long long)e.at_cost);
}

/* The engine's own search to a zero gap without dives, look-aheads or
 * node neighbourhood searches (so that plunges are long and decided by
 * the rules under test alone). */
static void plain(struct fx_clear_params *p) {
  fx_cm_bb_params(p);
  p->bb_node_dive = 0, p->proof_rins_node = 0, p->bb_sb_cands = 0;
}

struct sums {
  int ran, aborts, guided, near, longest, nodes;
};

/* The search from merit order on n-offer markets of seeds first..last-1
 * under p, checked against the exhaustive search where small. */
static struct sums sweep(const struct fx_clear_params *p, uint64_t first, uint64_t last, size_t n,
                         bool exhaustive) {
  struct sums s = {0};
  for (uint64_t seed = first; seed < last; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, n, 4, seed % 5 == 0);
    struct fx_cm_bb r = fx_cm_bb_merit(&k.m, p);
    if (!r.ran) continue;
    if (exhaustive) check_exhaustive(&k.m, &r, seed);
    s.ran++, s.aborts += r.bo.plunge_aborts, s.guided += r.bo.plunge_guided;
    s.near += r.bo.pops_near, s.nodes += r.bo.nodes;
    if (r.bo.plunge_longest > s.longest) s.longest = r.bo.plunge_longest;
  }
  return s;
}

Test(clear_plunge, off_by_default) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.bb_plunge_abort, 0.0);
  cr_assert_eq(d.bb_plunge_depth, 0);
  cr_assert(!d.bb_plunge_guide);
  cr_assert_eq(d.bb_pop_near, 0.0);
  struct fx_clear_params p;
  plain(&p);
  struct sums s = sweep(&p, 1, 21, 30, false);
  cr_assert_eq(s.aborts + s.guided + s.near, 0, "a rule acted while off");
}

/* bb_plunge_depth = 2: no plunge solves more than 2 nodes, where without
 * the rule some plunge on these markets solves more; the optimum and the
 * bound stand on the small markets. */
Test(clear_plunge, no_plunge_longer_than_bb_plunge_depth) {
  struct fx_clear_params on, off;
  plain(&off);
  on = off;
  on.bb_plunge_depth = 2;
  struct sums a = sweep(&off, 1, 21, 30, false), b = sweep(&on, 1, 21, 30, false);
  cr_log_info("longest plunge %d without the rule, %d with; %d stopped", a.longest, b.longest,
              b.aborts);
  cr_assert_gt(a.longest, 2, "no plunge longer than 2 nodes anyway: the rule is untested");
  cr_assert_leq(b.longest, 2);
  cr_assert_gt(b.aborts, 0);
  struct sums c = sweep(&on, 1, 61, 7, true);
  cr_assert_gt(c.ran, 40);
}

/* bb_plunge_abort: a tiny share stops every plunge whose child's bound is
 * above the least open bound at all, so plunges stop and are shorter than
 * without it; 0.5 stops fewer than the tiny share. The optimum and the
 * bound stand on the small markets. */
Test(clear_plunge, plunges_stop_far_above_the_least_open_bound) {
  struct fx_clear_params tiny, half, off;
  plain(&off);
  tiny = half = off;
  tiny.bb_plunge_abort = 1e-9, half.bb_plunge_abort = 0.5;
  struct sums a = sweep(&off, 1, 21, 30, false), t = sweep(&tiny, 1, 21, 30, false),
              h = sweep(&half, 1, 21, 30, false);
  cr_log_info("stopped plunges: %d at a tiny share, %d at 0.5; longest %d, %d, %d without",
              t.aborts, h.aborts, t.longest, h.longest, a.longest);
  cr_assert_gt(t.aborts, 0, "no plunge stopped");
  cr_assert_leq(h.aborts, t.aborts);
  cr_assert_lt(t.longest, a.longest, "the plunges are as long as without the rule");
  struct sums c = sweep(&tiny, 1, 61, 7, true);
  struct sums d = sweep(&half, 1, 61, 7, true);
  cr_assert_gt(c.ran + d.ran, 80);
}

/* bb_plunge_guide turns some plunges to the incumbent's side; the
 * optimum and the bound stand. */
Test(clear_plunge, guided_plunges_turn_to_the_incumbent) {
  struct fx_clear_params p;
  plain(&p);
  p.bb_plunge_guide = true;
  struct sums s = sweep(&p, 1, 21, 30, false);
  cr_log_info("%d plunges turned to the incumbent's side", s.guided);
  cr_assert_gt(s.guided, 0, "no plunge turned");
  struct sums c = sweep(&p, 1, 61, 7, true);
  cr_assert_gt(c.ran, 40);
}

/* bb_pop_near: with a share as wide as the gap, some pops take a deeper
 * node than the least bound's; the optimum and the bound stand. */
Test(clear_plunge, near_ties_pop_the_deepest) {
  struct fx_clear_params p;
  plain(&p);
  p.bb_pop_near = 0.01;
  struct sums s = sweep(&p, 1, 21, 30, false);
  cr_log_info("%d pops of a deeper node", s.near);
  cr_assert_gt(s.near, 0, "no pop took a deeper node");
  struct sums c = sweep(&p, 1, 61, 7, true);
  cr_assert_gt(c.ran, 40);
}

/* All four on, through fx_clear_solve on step 10's path and the proof's:
 * every rule, bounds that bound the exhaustive search, the same answer
 * twice. */
Test(clear_plunge, clearing_with_every_rule_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_plunge_abort = 0.25, p.bb_plunge_depth = 3, p.bb_plunge_guide = true;
  p.bb_pop_near = 1e-3;
  fx_cm_small_both_paths(&p);
}
