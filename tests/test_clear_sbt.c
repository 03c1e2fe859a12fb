/* test_clear_sbt.c — the branch-and-bound's look-ahead rules of round 10
 * (docs/clearing.md, "Round 10 (sbt)"), run through cl_bb_run itself so
 * that the look-aheads it makes can be counted: look-aheads only at nodes
 * down to bb_sb_depth, and the search with that rule still proves the
 * exhaustive search's optimum (tests/support/clear_markets.c) with bounds
 * that hold. Small random markets, fixed seeds, bounded counts. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The engine's branch-and-bound on cost at merit order's coverage, from
 * merit order's answer, as fx_clear_solve runs it after the root LP. */
struct run {
  struct cl_bb_out bo;
  int64_t cov, cost;
  bool ran;
};

static struct run bb_on(const struct fx_clear_market *m, const struct fx_clear_params *p) {
  struct run r = {0};
  struct cl_model md;
  struct cl_lp *lp = NULL;
  struct cl_state st = {0};
  struct cl_lp_out out = {0};
  cr_assert_eq(cl_model_init(&md, m), 0);
  if (md.n_cols) {
    cr_assert_eq(cl_lp_create(&lp, &md, p, 0), 0);
    cr_assert_eq(cl_state_init(&st, &md), 0);
    cr_assert_eq(cl_merit(&st, &md), 0);
    cr_assert_eq(cl_lp_root(lp, &st, &out), 0);
    cr_assert_eq(cl_lp_cost_bound(lp, st.cov, &out), 0);
    r.cov = st.cov;
    cr_assert_eq(cl_bb_run(&md, lp, p, &st, out.target, out.cost_lb, false, &r.bo), 0);
    r.cost = st.cost, r.ran = true;
    cr_assert_geq(st.cov, r.cov, "the answer lost coverage");
  }
  cl_lp_free(lp);
  cl_state_free(&st);
  cl_model_free(&md);
  return r;
}

/* Every candidate looked ahead at every node it is allowed at, one pivot
 * per child (so that the limit cuts them short), run to a zero gap. */
static void look_everywhere(struct fx_clear_params *p, int depth) {
  fx_cm_bb_params(p);
  p->bb_sb_cands = 100, p->bb_sb_reliable = 1000, p->bb_sb_pivots = 1;
  p->bb_sb_depth = depth;
}

/* The bound holds against the exhaustive search at the coverage searched,
 * and a search run to its end found the least cost there. */
static void check_exhaustive(const struct fx_clear_market *m, const struct run *r, uint64_t seed) {
  struct fx_cm_ex e = {.m = m, .at_cov = r->cov};
  fx_cm_exhaustive(&e);
  cr_assert_leq(r->bo.bound, e.at_cost, "seed %llu: bound %lld above the optimum %lld",
                (unsigned long long)seed, (long long)r->bo.bound, (long long)e.at_cost);
  if (!r->bo.budget_hit)
    cr_assert_eq(r->cost, e.at_cost, "seed %llu: %lld, least cost %lld", (unsigned long long)seed,
                 (long long)r->cost, (long long)e.at_cost);
}

/* bb_sb_depth = 1: only the root and its two children look ahead, so at
 * most 3 nodes × 2 children × every offer look-aheads. On markets of a
 * handful of offers the search finds the exhaustive optimum with bounds
 * that hold, with the rule and without; on markets of 30 offers (too many
 * for the exhaustive search) the search without the rule looks ahead
 * deeper on some, so the count would catch a rule that did nothing. */
static bool depth_one(uint64_t seed, size_t n, bool exhaustive) {
  struct fx_cm_market k;
  fx_cm_gen(&k, seed, n, 2, seed % 5 == 0);
  struct fx_clear_params top, all;
  look_everywhere(&top, 1);
  look_everywhere(&all, 0);
  struct run t = bb_on(&k.m, &top), a = bb_on(&k.m, &all);
  if (!t.ran) return false;
  if (exhaustive) check_exhaustive(&k.m, &t, seed), check_exhaustive(&k.m, &a, seed);
  cr_assert_leq(t.bo.sb_probes, (int)(6 * n), "seed %llu: %d look-aheads below depth 1",
                (unsigned long long)seed, t.bo.sb_probes);
  cr_assert_leq(t.bo.sb_pivots, t.bo.sb_probes, "one pivot per look-ahead at most");
  return a.bo.sb_probes > (int)(6 * n);
}

Test(clear_sbt, look_aheads_only_down_to_bb_sb_depth) {
  for (uint64_t seed = 1; seed <= 60; seed++) depth_one(seed, 6 + seed % 3, true);
  int deeper = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) deeper += depth_one(seed, 30, false);
  cr_log_info("%d of 20 searches looked ahead below depth 1 without the rule", deeper);
  cr_assert_gt(deeper, 0, "no search looked ahead below depth 1: the rule is untested");
}
