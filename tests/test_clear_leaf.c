/* test_clear_leaf.c — branch-and-bound's integral nodes whose LP leans on
 * an elastic slack (round 13, leaf).
 *
 * A node whose LP solution is integral in hundredths was a leaf, its bound
 * final. Where that solution breaks an ISP's row and pays the row's
 * elastic slack instead, the bound is what the slack's price makes of the
 * break, and the search ended with gaps of percents on markets of a few
 * offers with deep minimums. clear_bb.c now raises the slacks' price and
 * solves such a node again. These tests hold the gap closed on one such
 * market and every bound against the exhaustive search on many. The
 * markets are the shared generator's, their powers scaled from hundreds of
 * watts to megawatts, where the Lagrangian's rounding noise (half a watt
 * times a multiplier) is small beside the break. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

static const int64_t SCALE = 10000;

/* fx_cm_gen's market with every power and ISP bound times SCALE. */
static void gen_scaled(struct fx_cm_market *k, uint64_t seed, size_t n, int steps) {
  fx_cm_gen(k, seed, n, steps, false);
  for (size_t t = 0; t < k->m.request.n_isps; t++)
    k->isps[t].min_power *= SCALE, k->isps[t].max_power *= SCALE;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k->offers[i].n_options; j++)
      for (size_t q = 0; q < k->opts[i][j].n_power; q++) k->pw[i][j][q] *= SCALE;
  fx_cm_link(k, k->m.request.n_isps, n);
}

/* Six offers, minimums down to 5 %: at the old price the search ended on
 * an integral node breaking a row through its slack, proven to 1.9 %. */
Test(clear_leaf, slack_leaf_is_branched_to_a_closed_gap) {
  static struct fx_cm_market k;
  gen_scaled(&k, 34, 6, 95);
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  struct fx_clear_result r = fx_cm_solve(&k.m, &p);
  fx_cm_check_result(&k.m, &r, 34);
  cr_assert(!r.budget_hit);
  cr_assert(r.optimal, "cost %lld proven only to %lld (%.3f %%)", (long long)r.cost,
            (long long)r.cost_lb, 100.0 * r.cost_gap);
  fx_clear_result_free(&r);
}

/* On many such markets: every answer keeps the rules and its bounds bound
 * it (fx_cm_check_result), the branch-and-bound's bound from merit
 * order's coverage bounds the answer the default path (GLPK's MILP among
 * its steps) finds at that coverage or more, and the rule runs on some. */
Test(clear_leaf, repriced_bounds_hold, .timeout = 600) {
  struct fx_clear_params p, q;
  fx_cm_bb_params(&p);
  fx_clear_params_init(&q);
  int repriced = 0;
  for (uint64_t s = 0; s < 200; s++) {
    static struct fx_cm_market k;
    gen_scaled(&k, s, 6, 95);
    struct fx_clear_result r = fx_cm_solve(&k.m, &p);
    fx_cm_check_result(&k.m, &r, s);
    fx_clear_result_free(&r);
    struct fx_cm_bb b = fx_cm_bb_merit(&k.m, &p);
    if (!b.ran) continue;
    repriced += b.bo.reprices > 0;
    cr_assert_leq(b.bo.bound, b.cost, "seed %llu", (unsigned long long)s);
    struct fx_clear_result d = fx_cm_solve(&k.m, &q);
    if (d.coverage >= b.cov)
      cr_assert_leq(b.bo.bound, d.cost, "seed %llu: bound %lld above an answer's %lld",
                    (unsigned long long)s, (long long)b.bo.bound, (long long)d.cost);
    fx_clear_result_free(&d);
  }
  cr_assert_gt(repriced, 0, "the slack rule never ran: the test no longer tests it");
}
