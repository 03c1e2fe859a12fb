/* test_clear.c — the clearing engine on hand-made markets whose optimum is
 * known (DESIGN.md §4): partial activation, one option per offer, Available
 * bounds, far bounds, direction, scarcity, negative prices, ties, residual. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/clear.h"

#define EUR 10000 /* prices are in 1e-4 currency units */

static struct fx_clear_isp requested(int64_t min, int64_t max) {
  return (struct fx_clear_isp){FX_CLEAR_REQUESTED, min, max};
}

static struct fx_clear_isp available(int64_t min, int64_t max) {
  return (struct fx_clear_isp){FX_CLEAR_AVAILABLE, min, max};
}

static struct fx_clear_option option(int64_t price, int min_af, size_t first, size_t n,
                                     const int64_t *p) {
  return (struct fx_clear_option){price, min_af, first, n, p};
}

static struct fx_clear_result solve(const struct fx_clear_isp *isps, size_t n_isps,
                                    const struct fx_clear_offer *offers, size_t n_offers) {
  struct fx_clear_market m = {{n_isps, isps}, n_offers, offers, NULL};
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, NULL, &r), 0);
  return r;
}

Test(clear_rounding, power_rounds_half_away_from_zero) {
  cr_assert_eq(fx_clear_order_power(333, 50), 167);
  cr_assert_eq(fx_clear_order_power(-333, 50), -167);
  cr_assert_eq(fx_clear_order_power(333, 30), 100); /* 99.9 */
  cr_assert_eq(fx_clear_order_power(1000, 100), 1000);
}

Test(clear_rounding, price_rounds_half_up_to_four_decimals) {
  cr_assert_eq(fx_clear_order_price(15, 50), 8);
  cr_assert_eq(fx_clear_order_price(-15, 50), -8);
  cr_assert_eq(fx_clear_order_price(12345, 33), 4074); /* 4073.85 */
}

Test(clear, partial_activation_honours_min_factor) {
  const int64_t p[] = {333};
  struct fx_clear_isp isps[] = {requested(100, 200)};
  struct fx_clear_option o = option(1 * EUR, 50, 0, 1, p);
  struct fx_clear_offer of = {1, &o};
  struct fx_clear_result r = solve(isps, 1, &of, 1);
  cr_assert_eq(r.n_orders, 1);
  cr_assert_eq(r.factor[0], 50, "k=%d: 31 would cover but is below the minimum", r.factor[0]);
  cr_assert_eq(r.ordered[0], 167);
  cr_assert_eq(r.coverage, 100);
  cr_assert_eq(r.cost, EUR / 2);
  fx_clear_result_free(&r);
}

Test(clear, partial_activation_steps_of_one_hundredth_with_rounding) {
  const int64_t p[] = {333};
  struct fx_clear_isp isps[] = {requested(100, 200)};
  struct fx_clear_option o = option(1 * EUR, 10, 0, 1, p);
  struct fx_clear_offer of = {1, &o};
  struct fx_clear_result r = solve(isps, 1, &of, 1);
  cr_assert_eq(r.factor[0], 30, "k=%d: 0.30 × 333 W = 99.9 W rounds to 100 W", r.factor[0]);
  cr_assert_eq(r.ordered[0], 100);
  cr_assert_eq(r.coverage, 100);
  cr_assert_eq(r.cost, 3000);
  cr_assert_leq(r.cost_lb, 3000);
  fx_clear_result_free(&r);
}

Test(clear, one_option_per_offer) {
  const int64_t a0[] = {100}, a1[] = {100, 100}, b[] = {100};
  struct fx_clear_isp isps[] = {requested(100, 100), requested(100, 100)};
  struct fx_clear_option oa[] = {option(1 * EUR, 100, 0, 1, a0), option(3 * EUR, 100, 0, 2, a1)};
  struct fx_clear_option ob = option(EUR / 2, 100, 1, 1, b);
  struct fx_clear_offer offers[] = {{2, oa}, {1, &ob}};
  struct fx_clear_result r = solve(isps, 2, offers, 2);
  cr_assert_eq(r.coverage, 200);
  cr_assert_eq(r.option[0], 0, "option 0 + offer B (1.5) beats option 1 (3)");
  cr_assert_eq(r.option[1], 0);
  cr_assert_eq(r.cost, EUR + EUR / 2);
  cr_assert_eq(r.n_orders, 2);
  fx_clear_result_free(&r);
}

Test(clear, one_option_per_offer_never_both) {
  const int64_t a0[] = {100}, a1[] = {0, 100};
  struct fx_clear_isp isps[] = {requested(100, 100), requested(100, 100)};
  struct fx_clear_option oa[] = {option(1 * EUR, 100, 0, 1, a0), option(1 * EUR, 100, 0, 2, a1)};
  struct fx_clear_offer of = {2, oa};
  struct fx_clear_result r = solve(isps, 2, &of, 1);
  cr_assert_eq(r.n_orders, 1);
  cr_assert_eq(r.coverage, 100);
  cr_assert_eq(r.option[0], 0, "equal options: the first");
  fx_clear_result_free(&r);
}

Test(clear, available_bound_forbids_cheapest) {
  const int64_t cheap[] = {100, 100}, dear[] = {100};
  struct fx_clear_isp isps[] = {requested(100, 100), available(-50, 50)};
  struct fx_clear_option oc = option(1 * EUR, 100, 0, 2, cheap), od = option(5 * EUR, 100, 0, 1, dear);
  struct fx_clear_offer offers[] = {{1, &oc}, {1, &od}};
  struct fx_clear_result r = solve(isps, 2, offers, 2);
  cr_assert_eq(r.option[0], -1, "100 W at the Available ISP breaks its bound of 50 W");
  cr_assert_eq(r.option[1], 0);
  cr_assert_eq(r.cost, 5 * EUR);
  cr_assert_eq(r.ordered[1], 0);
  fx_clear_result_free(&r);
}

/* The last 50 W of 100 kW cost half as much again: within the 0.1 %
 * tolerance the engine leaves them; with the tolerance off it buys them. */
static void tolerance_market(struct fx_clear_isp *isp, struct fx_clear_option *o,
                             struct fx_clear_offer *offers, const int64_t *big, const int64_t *top) {
  *isp = requested(100000, 100000);
  o[0] = option(10 * EUR, 100, 0, 1, big); /* merit order takes it, then cannot add the top */
  o[1] = option(100 * EUR, 5, 0, 1, top);  /* 50 W at 5 %, the only way to the last 50 W */
  offers[0] = (struct fx_clear_offer){1, &o[0]};
  offers[1] = (struct fx_clear_offer){1, &o[1]};
}

Test(clear, coverage_tolerance_leaves_the_dearest_last_watts) {
  const int64_t big[] = {99950}, top[] = {1000};
  struct fx_clear_isp isp;
  struct fx_clear_option o[2];
  struct fx_clear_offer offers[2];
  tolerance_market(&isp, o, offers, big, top);
  struct fx_clear_result r = solve(&isp, 1, offers, 2);
  cr_assert_eq(r.coverage_ub, 100000);
  cr_assert_eq(r.coverage, 99950, "coverage %lld: 50 W short is within 0.1 %%", (long long)r.coverage);
  cr_assert_eq(r.option[1], -1);
  cr_assert_eq(r.cost, 10 * EUR);
  cr_assert_leq(r.coverage_gap, FX_CLEAR_TOLERANCE);
  cr_assert(r.optimal);
  fx_clear_result_free(&r);
}

Test(clear, coverage_tolerance_zero_buys_all_coverage) {
  const int64_t big[] = {99950}, top[] = {1000};
  struct fx_clear_isp isp;
  struct fx_clear_option o[2];
  struct fx_clear_offer offers[2];
  tolerance_market(&isp, o, offers, big, top);
  struct fx_clear_market m = {{1, &isp}, 2, offers, NULL};
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.coverage_tolerance = 0;
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  cr_assert_eq(r.coverage, 100000);
  cr_assert_eq(r.factor[1], 5);
  cr_assert_eq(r.cost, 15 * EUR);
  fx_clear_result_free(&r);
}

Test(clear, coverage_tolerance_never_below_merit_order) {
  /* Merit order takes the 99,950 W offer first (cheaper per W) and reaches
   * no further; the tolerance alone would allow the 99,900 W offer, cheaper
   * in all, but the answer never covers less than merit order. */
  const int64_t big[] = {99950}, top[] = {1000}, part[] = {99900};
  struct fx_clear_isp isp = requested(100000, 100000);
  struct fx_clear_option o[3] = {option(10 * EUR, 100, 0, 1, big), option(100 * EUR, 5, 0, 1, top),
                                 option(9 * EUR + 9990, 100, 0, 1, part)};
  struct fx_clear_offer offers[3] = {{1, &o[0]}, {1, &o[1]}, {1, &o[2]}};
  struct fx_clear_result r = solve(&isp, 1, offers, 3);
  cr_assert_geq(r.coverage, 99950, "coverage %lld below merit order's", (long long)r.coverage);
  cr_assert_eq(r.cost, 10 * EUR);
  fx_clear_result_free(&r);
}

/* The local search is bounded by a deterministic work limit, and says so
 * when it stops there; the answer is the same (here nothing beats it). */
Test(clear, local_search_work_limit_is_reported) {
  const int64_t p[] = {150};
  struct fx_clear_isp isps[] = {requested(100, 200)};
  struct fx_clear_option o = option(1 * EUR, 100, 0, 1, p);
  struct fx_clear_offer of = {1, &o};
  struct fx_clear_market m = {{1, isps}, 1, &of, NULL};
  struct fx_clear_params par;
  fx_clear_params_init(&par);
  struct fx_clear_result a, b;
  cr_assert_eq(fx_clear_solve(&m, &par, &a), 0);
  par.local_search_work = 1;
  cr_assert_eq(fx_clear_solve(&m, &par, &b), 0);
  cr_assert(!a.budget_hit, "one move within 200000 evaluations");
  cr_assert(b.budget_hit, "the limit of 1 evaluation stopped the local search");
  cr_assert_eq(a.n_orders, 1);
  cr_assert_eq(b.n_orders, 1);
  cr_assert_eq(a.cost, b.cost);
  fx_clear_result_free(&a);
  fx_clear_result_free(&b);
}

/* Three all-or-nothing offers for a need of 100 W: A and B, 60 W for
 * 6 EUR each, C, 100 W for 11 EUR. The LP relaxation buys A and two thirds
 * of B (10 EUR), so the LP bound leaves the optimum, C alone, 10 % away.
 * Solved with and without branch-and-bound (GLPK's own, which markets this
 * small get by default, off) and with a node limit of 1. */
struct three {
  struct fx_clear_result with, without, cut;
};

static struct three solve_three(int64_t far) {
  static const int64_t sixty[] = {60}, hundred[] = {100};
  struct fx_clear_isp isp = requested(100, far);
  struct fx_clear_option o[3] = {option(6 * EUR, 100, 0, 1, sixty), option(6 * EUR, 100, 0, 1, sixty),
                                 option(11 * EUR, 100, 0, 1, hundred)};
  struct fx_clear_offer offers[3] = {{1, &o[0]}, {1, &o[1]}, {1, &o[2]}};
  struct fx_clear_market m = {{1, &isp}, 3, offers, NULL};
  struct fx_clear_params par;
  fx_clear_params_init(&par);
  par.exact_max_offers = 0;
  struct three r;
  cr_assert_eq(fx_clear_solve(&m, &par, &r.with), 0);
  par.bb_node_limit = 1;
  cr_assert_eq(fx_clear_solve(&m, &par, &r.cut), 0);
  par.bb_node_limit = 0;
  cr_assert_eq(fx_clear_solve(&m, &par, &r.without), 0);
  return r;
}

static void three_free(struct three *r) {
  fx_clear_result_free(&r->with);
  fx_clear_result_free(&r->without);
  fx_clear_result_free(&r->cut);
}

static void assert_c_alone_proven(const struct fx_clear_result *r) {
  cr_assert_eq(r->coverage, 100);
  cr_assert_eq(r->cost, 11 * EUR);
  cr_assert_eq(r->option[2], 0);
  cr_assert(r->optimal, "proven: cost %lld, bound %lld", (long long)r->cost, (long long)r->cost_lb);
  cr_assert(!r->budget_hit);
  cr_assert_gt(r->bb_nodes, 1);
}

/* A far bound of 200 W admits A and B together (12 EUR): the cost is
 * what needs the branching, to prove C optimal. */
Test(clear, branch_and_bound_proves_the_cost_the_lp_cannot) {
  struct three r = solve_three(200);
  assert_c_alone_proven(&r.with);
  cr_assert_leq(r.without.cost_lb, 10 * EUR + 1, "the LP bound: %lld", (long long)r.without.cost_lb);
  cr_assert(!r.without.optimal);
  cr_assert_eq(r.without.bb_nodes, 0);
  cr_assert(r.cut.budget_hit, "one node is not enough");
  cr_assert_eq(r.cut.bb_nodes, 1);
  three_free(&r);
}

/* A far bound of 100 W forbids A and B together: merit order, the dives and
 * the local search stop at 60 W; branch-and-bound on coverage finds C. */
Test(clear, branch_and_bound_finds_coverage_the_heuristics_miss) {
  struct three r = solve_three(100);
  assert_c_alone_proven(&r.with);
  cr_assert_eq(r.without.coverage, 60);
  cr_assert_eq(r.without.coverage_ub, 100);
  cr_assert(r.cut.budget_hit, "one node is not enough");
  cr_assert_eq(r.cut.coverage, 60);
  three_free(&r);
}

Test(clear, far_bound_of_requested_isp) {
  const int64_t big[] = {200}, small[] = {100};
  struct fx_clear_isp isps[] = {requested(100, 150)};
  struct fx_clear_option ob = option(1 * EUR, 100, 0, 1, big), os = option(3 * EUR, 100, 0, 1, small);
  struct fx_clear_offer offers[] = {{1, &ob}, {1, &os}};
  struct fx_clear_result r = solve(isps, 1, offers, 2);
  cr_assert_eq(r.option[0], -1, "200 W passes the far bound of 150 W");
  cr_assert_eq(r.option[1], 0);
  cr_assert_eq(r.coverage, 100);
  fx_clear_result_free(&r);
}

Test(clear, far_bound_is_the_need_when_near_bound_is_zero) {
  const int64_t big[] = {-300}, mid[] = {-150};
  struct fx_clear_isp isps[] = {requested(-200, 0)};
  struct fx_clear_option ob = option(1 * EUR, 100, 0, 1, big), om = option(1 * EUR, 100, 0, 1, mid);
  struct fx_clear_offer offers[] = {{1, &ob}, {1, &om}};
  struct fx_clear_result r = solve(isps, 1, offers, 2);
  cr_assert_eq(r.need, 200);
  cr_assert_eq(r.option[0], -1);
  cr_assert_eq(r.coverage, 150);
  cr_assert_eq(r.ordered[0], -150);
  fx_clear_result_free(&r);
}

Test(clear, against_requested_direction_never_ordered) {
  const int64_t wrong[] = {-100}, mixed[] = {100, -50};
  struct fx_clear_isp isps[] = {requested(100, 200), requested(100, 200)};
  struct fx_clear_option ow = option(-10 * EUR, 100, 0, 1, wrong);
  struct fx_clear_option om = option(1 * EUR, 100, 0, 2, mixed);
  struct fx_clear_offer offers[] = {{1, &ow}, {1, &om}};
  struct fx_clear_result r = solve(isps, 2, offers, 2);
  cr_assert_eq(r.n_orders, 0, "ISP 1 would go 50 W against its requested direction");
  cr_assert_eq(r.coverage, 0);
  cr_assert_eq(r.coverage_ub, 0);
  fx_clear_result_free(&r);
}

Test(clear, infeasible_need_buys_everything_that_helps) {
  const int64_t p1[] = {-100}, p2[] = {-200}, p3[] = {-300, -10}, other[] = {0, -500};
  struct fx_clear_isp isps[] = {requested(-2000, -1000), available(-1000, 1000)};
  struct fx_clear_option o1 = option(9 * EUR, 100, 0, 1, p1), o2 = option(2 * EUR, 100, 0, 1, p2),
                         o3 = option(5 * EUR, 60, 0, 2, p3), oo = option(1 * EUR, 100, 0, 2, other);
  struct fx_clear_offer offers[] = {{1, &o1}, {1, &o2}, {1, &o3}, {1, &oo}};
  struct fx_clear_result r = solve(isps, 2, offers, 4);
  cr_assert_eq(r.coverage, 600);
  cr_assert_eq(r.factor[0], 100);
  cr_assert_eq(r.factor[1], 100);
  cr_assert_eq(r.factor[2], 100);
  cr_assert_eq(r.option[3], -1, "helps no Requested ISP");
  cr_assert_eq(r.coverage_ub, 600);
  cr_assert(r.optimal);
  fx_clear_result_free(&r);
}

Test(clear, negative_prices_that_add_no_coverage_not_bought) {
  const int64_t elsewhere[] = {0, 80}, full[] = {100}, extra[] = {30}, paid[] = {100};
  struct fx_clear_isp isps[] = {requested(100, 300), available(-1000, 1000)};
  struct fx_clear_option oe = option(-1 * EUR, 100, 0, 2, elsewhere), of = option(-2 * EUR, 100, 0, 1, full),
                         ox = option(-EUR / 2, 100, 0, 1, extra), op = option(1 * EUR, 100, 0, 1, paid);
  struct fx_clear_offer offers[] = {{1, &oe}, {1, &of}, {1, &ox}, {1, &op}};
  struct fx_clear_result r = solve(isps, 2, offers, 4);
  cr_assert_eq(r.option[0], -1, "helps no Requested ISP");
  cr_assert_eq(r.option[1], 0);
  cr_assert_eq(r.option[2], -1, "adds nothing once the need is covered");
  cr_assert_eq(r.option[3], -1);
  cr_assert_eq(r.coverage, 100);
  cr_assert_eq(r.cost, -2 * EUR);
  fx_clear_result_free(&r);
}

Test(clear, ties_go_to_earlier_arrival) {
  const int64_t p[] = {100};
  struct fx_clear_isp isps[] = {requested(100, 100)};
  struct fx_clear_option o = option(1 * EUR, 100, 0, 1, p);
  struct fx_clear_offer offers[] = {{1, &o}, {1, &o}, {1, &o}};
  struct fx_clear_result r = solve(isps, 1, offers, 3);
  cr_assert_eq(r.n_orders, 1);
  cr_assert_eq(r.orders[0].offer, 0);
  fx_clear_result_free(&r);
}

Test(clear, nothing_to_buy_is_feasible) {
  struct fx_clear_isp isps[] = {requested(100, 100), available(0, 0)};
  struct fx_clear_result r = solve(isps, 2, NULL, 0);
  cr_assert_eq(r.n_orders, 0);
  cr_assert_eq(r.need, 100);
  cr_assert_eq(r.coverage, 0);
  cr_assert_eq(r.coverage_ub, 0);
  cr_assert_eq(r.cost, 0);
  fx_clear_result_free(&r);
}

Test(clear, unconstrained_isps_take_any_deviation) {
  const int64_t p[] = {100, 5000};
  struct fx_clear_isp isps[] = {requested(100, 100), {FX_CLEAR_UNCONSTRAINED, 0, 0}};
  struct fx_clear_option o = option(1 * EUR, 100, 0, 2, p);
  struct fx_clear_offer of = {1, &o};
  struct fx_clear_result r = solve(isps, 2, &of, 1);
  cr_assert_eq(r.n_orders, 1);
  cr_assert_eq(r.ordered[1], 5000);
  fx_clear_result_free(&r);
}

Test(clear, invalid_markets_are_refused) {
  const int64_t p[] = {100};
  struct fx_clear_isp ok[] = {requested(100, 100)}, both[] = {requested(-100, 100)};
  struct fx_clear_option bad_af = option(EUR, 0, 0, 1, p), outside = option(EUR, 100, 1, 1, p);
  struct fx_clear_offer o1 = {1, &bad_af}, o2 = {1, &outside};
  struct fx_clear_market m1 = {{1, ok}, 1, &o1, NULL}, m2 = {{1, ok}, 1, &o2, NULL},
                         m3 = {{1, both}, 0, NULL, NULL};
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m1, NULL, &r), FX_CLEAR_EINVAL);
  cr_assert_eq(fx_clear_solve(&m2, NULL, &r), FX_CLEAR_EINVAL);
  cr_assert_eq(fx_clear_solve(&m3, NULL, &r), FX_CLEAR_EINVAL);
  cr_assert_eq(fx_clear_solve(NULL, NULL, &r), FX_CLEAR_EINVAL);
}

Test(clear_residual, residual_need_after_placed_orders) {
  const int64_t placed_p[] = {-100, -50}, more[] = {-250};
  struct fx_clear_isp isps[] = {requested(-400, -300), available(-80, 80)};
  struct fx_clear_option po = option(EUR, 50, 0, 2, placed_p);
  struct fx_clear_placed placed = {&po, 100};
  struct fx_clear_market m = {{2, isps}, 0, NULL, NULL};
  int64_t ordered[2], residual[2];
  cr_assert_eq(fx_clear_residual(&m, &placed, 1, ordered, residual), 0);
  cr_assert_eq(ordered[0], -100);
  cr_assert_eq(ordered[1], -50);
  cr_assert_eq(residual[0], -200, "300 needed, 100 placed");
  cr_assert_eq(residual[1], 0);

  struct fx_clear_option mo = option(EUR, 100, 0, 1, more);
  struct fx_clear_offer of = {1, &mo};
  m.n_offers = 1, m.offers = &of, m.base = ordered;
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, NULL, &r), 0);
  cr_assert_eq(r.need, 200);
  cr_assert_eq(r.coverage, 200, "250 W more, capped at the residual 200");
  cr_assert_eq(r.n_orders, 1);
  fx_clear_result_free(&r);
}

Test(clear_residual, base_counts_against_the_far_bound) {
  const int64_t more[] = {-250};
  int64_t base[] = {-200};
  struct fx_clear_isp isps[] = {requested(-400, -300)};
  struct fx_clear_option mo = option(EUR, 100, 0, 1, more);
  struct fx_clear_offer of = {1, &mo};
  struct fx_clear_market m = {{1, isps}, 1, &of, base};
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, NULL, &r), 0);
  cr_assert_eq(r.n_orders, 0, "-200 - 250 passes the far bound -400");
  fx_clear_result_free(&r);
}

Test(clear_residual, refuses_bad_placed_orders) {
  const int64_t p[] = {-100};
  struct fx_clear_isp isps[] = {requested(-400, -300)};
  struct fx_clear_option po = option(EUR, 50, 0, 1, p);
  struct fx_clear_placed low = {&po, 40};
  struct fx_clear_market m = {{1, isps}, 0, NULL, NULL};
  cr_assert_eq(fx_clear_residual(&m, &low, 1, NULL, NULL), FX_CLEAR_EINVAL);
}
