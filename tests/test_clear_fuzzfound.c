/* test_clear_fuzzfound.c — markets tests/fuzz/fuzz_clear.c found the
 * clearing engine wrong or stuck on, kept as reproducers (the fuzzer's
 * parameters: the defaults with the small budgets it runs under).
 *
 * 1. Ten offers whose powers run from 2 W to 8 GW (one option of 8.09e9 W
 *    beside options of a few watts): the exact path's LP (54 rows, 32
 *    columns) made GLPK's primal simplex cycle under both pricing rules,
 *    so the stall guard (cl_glpk_simplex) handed a stalled solve on to the
 *    other rule, which ran to the 200,000-pivot limit: three such solves
 *    per clearing, ~5 s (release) for a 10-offer market, and the exact
 *    cost bound lost (the limit counts as a budget hit). The guard now
 *    caps the other rule as it caps the first and gives the rest to the
 *    dual simplex, which ends there in tens of pivots.
 *
 * 2. The exact path's cost bound was above the answer (fixed in round 13:
 *    GLPK's MILP no longer gives bounds, the engine's branch-and-bound
 *    proves them on the exact path too; fuzz_clear judges every bound). One Requested ISP [-1 TW, 0]; two offers identical but
 *    for the price (24,900 and 13,800) of -972,986,945,304 W each. The
 *    answer is the cheaper one (cost 13,800, the optimum), but cost_lb is
 *    24,896. GLPK's LP relaxation under the MILP (mip_cost_bound) stops
 *    with the coverage column at its upper bound 1e12 with a reduced cost
 *    of 2.6e-8, inside GLPK's dual tolerance, which over a range of 2.7e10
 *    W is worth ~690 of cost (LP value 14,491 where the true one is
 *    13,800); intopt then trusts that relaxation and proves 24,900. The
 *    bound's slack (1e-7 relative, half a unit per offer) does not cover
 *    a tolerance scaled by the coverage column's range. Only the exact
 *    path (exact_max_offers, GLPK's MILP); the engine's own
 *    branch-and-bound and the proof path gave a valid bound (-11,100).
 *
 * 3. Signed overflow (UBSan, under ./dev test's sanitizer build): the
 *    branch-and-bound's look-ahead (clear_bb.c look_ahead) took a child's
 *    bound less its parent's, and an infeasible child's bound is
 *    INT64_MAX, which less a negative parent bound (-1.7e8 here: offers of
 *    price 1e10 currency units) does not fit. The gain now saturates, as
 *    it did where the parent's bound was not negative.
 *
 * 4. and 5. are described at their tests: GLPK writing to standard output
 *    from inside glp_intopt, and GLPK aborting the process there. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/clear.h"

static void fuzz_params(struct fx_clear_params *p) {
  fx_clear_params_init(p);
  p->exact_node_limit = 200;
  p->bb_node_limit = 200;
  p->bb_pivot_limit = 4000;
  p->local_search_work = 20000;
  p->rins_node_limit = 50;
  p->bb_cutoff = 0;
}

static const struct fx_clear_isp stall_isps[8] = {
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 200, 400},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 400, 800},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 600, 1200},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 800, 1600},
};

static const int64_t p00[] = {150, 90, -30}, p01[] = {100, 100, 100, 100, 100, 100, 100, 100},
                     p02[] = {200, 200, 200, 200}, p10[] = {150, 90, -30},
                     p11[] = {100, 100, -14135, -14135, -14135, -14135, -14135, -14135},
                     p12[] = {-14135}, p20[] = {-14135}, p21[] = {2, 100, 100, 100, 0},
                     p30[] = {8088838688, 10, 53506}, p31[] = {-30, 0, 0, 0}, p40[] = {2, 2, 2},
                     p41[] = {20}, p50[] = {532, 200, 200}, p51[] = {20, 2},
                     p52[] = {0, 0, 20, 2, 2}, p60[] = {2, -64266},
                     p61[] = {0, 20, -21, -1616, 20, 0}, p70[] = {20}, p80[] = {532},
                     p81[] = {0, 150}, p90[] = {2}, p91[] = {2, 0, -54277};

#define OPT(price, af, first, pw) {price, af, first, sizeof pw / sizeof pw[0], pw}

static const struct fx_clear_option o0[] = {OPT(0, 80, 0, p00), OPT(0, 100, 0, p01),
                                            OPT(700, 60, 4, p02)};
static const struct fx_clear_option o1[] = {OPT(1000, 81, 1, p10), OPT(500, 100, 0, p11),
                                            OPT(-5500, 93, 7, p12)};
static const struct fx_clear_option o2[] = {OPT(-5500, 93, 7, p20), OPT(1000, 98, 2, p21)};
static const struct fx_clear_option o3[] = {OPT(-10270, 98, 4, p30), OPT(200, 93, 2, p31)};
static const struct fx_clear_option o4[] = {OPT(1000, 98, 2, p40), OPT(95060, 94, 2, p41)};
static const struct fx_clear_option o5[] = {OPT(18700, 96, 3, p50), OPT(100, 98, 4, p51),
                                            OPT(3400, 97, 1, p52)};
static const struct fx_clear_option o6[] = {OPT(200, 100, 2, p60), OPT(100, 95, 0, p61)};
static const struct fx_clear_option o7[] = {OPT(0, 96, 0, p70)};
static const struct fx_clear_option o8[] = {OPT(5000, 65, 0, p80), OPT(100, 94, 6, p81)};
static const struct fx_clear_option o9[] = {OPT(0, 100, 7, p90), OPT(5220, 98, 2, p91)};

static const struct fx_clear_offer stall_offers[10] = {
    {3, o0}, {3, o1}, {2, o2}, {2, o3}, {2, o4}, {3, o5}, {2, o6}, {1, o7}, {2, o8}, {2, o9},
};

Test(clear_fuzzfound, a_badly_scaled_market_clears_within_its_budget) {
  struct fx_clear_market m = {{8, stall_isps}, 10, stall_offers, NULL};
  struct fx_clear_params p;
  fuzz_params(&p);
  struct fx_clear_result r, again;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  /* the stalled LPs ran to the iteration limit, which is a budget hit */
  cr_assert_not(r.budget_hit, "a limit stopped the exact path of a 10-offer market");
  cr_assert_leq(r.coverage, r.coverage_ub);
  cr_assert_leq(r.cost_lb, r.cost);
  /* the exact path's cost proof (lost with the stall: the LP bound alone
   * was 29,881 below the answer) is within 5 % of the answer. Before
   * round 13 GLPK's MILP optimum, 1.5 % below, was taken for the bound;
   * on powers of 8 GW beside a few watts that is no proof (2. below), and
   * the engine's Lagrangian proof ends 4.3 % below: its integral leaf's
   * duals, from an LP this badly scaled, prove no more. */
  cr_assert_leq(r.cost - r.cost_lb, r.cost / 20, "cost %lld, bound %lld", (long long)r.cost,
                (long long)r.cost_lb);
  cr_assert_eq(fx_clear_solve(&m, &p, &again), 0);
  cr_assert_eq(again.n_orders, r.n_orders);
  cr_assert_arr_eq(again.orders, r.orders, r.n_orders * sizeof *r.orders);
  fx_clear_result_free(&again);
  fx_clear_result_free(&r);
}

/* 2. (see the top of the file): the exact path's bound holds on powers of
 * this size. */
static const struct fx_clear_isp tw_isp[1] = {{FX_CLEAR_REQUESTED, -1000000000000, 0}};
static const int64_t q00[] = {1970}, q10[] = {999999999998}, q11[] = {-972986945304},
                     q30[] = {0};
static const struct fx_clear_option t0[] = {OPT(-403, 100, 0, q00)};
static const struct fx_clear_option t1[] = {OPT(-100000000000000, 100, 0, q10),
                                            OPT(24900, 100, 0, q11)};
static const struct fx_clear_option t2[] = {OPT(24001, 100, 0, q10), OPT(13800, 100, 0, q11)};
static const struct fx_clear_option t3[] = {OPT(0, 100, 0, q30), OPT(0, 100, 0, q30),
                                            OPT(0, 100, 0, q30)};
static const struct fx_clear_option t4[] = {OPT(0, 100, 0, q30)};
static const struct fx_clear_offer tw_offers[7] = {
    {1, t0}, {2, t1}, {2, t2}, {3, t3}, {1, t4}, {1, t4}, {1, t4},
};

Test(clear_fuzzfound, the_exact_paths_cost_bound_holds_at_terawatts) {
  struct fx_clear_market m = {{1, tw_isp}, 7, tw_offers, NULL};
  struct fx_clear_params p;
  fuzz_params(&p);
  p.bb_lazy_rows = false;
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  cr_assert_eq(r.coverage, 972986945304);
  cr_assert_eq(r.cost, 13800, "the cheaper of the two identical offers");
  cr_assert_leq(r.cost_lb, r.cost, "cost_lb %lld above the optimum %lld", (long long)r.cost_lb,
                (long long)r.cost);
  fx_clear_result_free(&r);
}

/* 2b. The same bug at a need of 2 kW: ten offers of a few hundred watts,
 * with two options of -15.6 GW and -1 TW that help nothing (against the
 * Requested ISPs' direction) beside them. The answer costs 2,590, the
 * bound said 3,570. Fixed with 2. */
static const int64_t s_a[] = {150, 90, -30}, s_b[] = {100, 100, 100, 100, 100, 100, 100, 100},
                     s_c[] = {200, 200, 200, 200}, s_d[] = {100, 100, 100, 10, 100, 100, 100, 100},
                     s_e[] = {150, 90}, s_f[] = {100, 100, 100, 100, -15614992928, 200, 200, 200},
                     s_g[] = {0, 150}, s_h[] = {-999999999755}, s_i[] = {2, 532, 0};
static const struct fx_clear_option u0[] = {OPT(0, 80, 0, s_a), OPT(0, 100, 0, s_b), OPT(700, 60, 4, s_c)};
static const struct fx_clear_option u1[] = {OPT(1000, 81, 1, s_a), OPT(500, 100, 0, s_b), OPT(700, 60, 4, s_c)};
static const struct fx_clear_option u2[] = {OPT(2000, 82, 2, s_a), OPT(1000, 100, 0, s_b), OPT(700, 60, 4, s_c)};
static const struct fx_clear_option u3[] = {OPT(3000, 83, 3, s_a), OPT(1500, 100, 0, s_b), OPT(700, 60, 4, s_c)};
static const struct fx_clear_option u4[] = {OPT(800, 84, 4, s_a), OPT(2000, 100, 0, s_d), OPT(700, 60, 4, s_c)};
static const struct fx_clear_option u5[] = {OPT(5000, 85, 5, s_a), OPT(2500, 100, 0, s_b), OPT(700, 60, 4, s_c)};
static const struct fx_clear_option u6[] = {OPT(6000, 86, 6, s_e), OPT(3000, 100, 0, s_f), OPT(100, 94, 6, s_g)};
static const struct fx_clear_option u7[] = {OPT(0, 99, 1, s_h), OPT(1000, 98, 2, s_i), OPT(0, 100, 0, q30)};
static const struct fx_clear_offer mixed_offers[10] = {
    {3, u0}, {3, u1}, {3, u2}, {3, u3}, {3, u4}, {3, u5}, {3, u6}, {3, u7}, {1, t4}, {1, t4},
};

Test(clear_fuzzfound, the_exact_paths_cost_bound_holds_beside_gigawatts) {
  struct fx_clear_market m = {{8, stall_isps}, 10, mixed_offers, NULL};
  struct fx_clear_params p;
  fuzz_params(&p);
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  cr_assert_eq(r.cost, 2590);
  cr_assert_leq(r.cost_lb, r.cost, "cost_lb %lld above the answer %lld", (long long)r.cost_lb,
                (long long)r.cost);
  fx_clear_result_free(&r);
}

/* 3. (see the top of the file): the neighbourhood search's look-aheads
 * (exact, bb and proof off; no tolerance, no gap) into an infeasible child
 * below a negative bound; UBSan fails the sanitizer build where that
 * overflows. */
static const struct fx_clear_isp ovf_isps[8] = {
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 200, 400},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 400, 800},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 600, 1200},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 800, 1600},
};
static const int64_t ovf_base[8] = {0, 0, 0, 20, 2, 340, 0, 0};
static const int64_t v5[] = {100, 100, 100, 100, 100}, v10[] = {2, 1, 0},
                     v11[] = {150, -7924604960, 20}, v12[] = {10, 416208, 2, 2, 2, 2, 2},
                     v20[] = {0, -999999999787}, v21[] = {10}, v40[] = {1792}, vz[] = {0};
static const struct fx_clear_option w0[] = {OPT(200, 98, 2, v5)};
static const struct fx_clear_option w1[] = {OPT(5220, 98, 2, v10),
                                            OPT(100000000000000, 83, 3, v11),
                                            OPT(1500, 98, 1, v12)};
static const struct fx_clear_option w2[] = {OPT(1000, 98, 2, v20), OPT(100, 98, 7, v21)};
static const struct fx_clear_option w3[] = {OPT(0, 93, 2, v5)};
static const struct fx_clear_option w4[] = {OPT(5220, 99, 1, v40), OPT(1500, 99, 3, vz),
                                            OPT(200, 98, 2, v5)};
static const struct fx_clear_option w5[] = {OPT(0, 100, 0, vz), OPT(0, 100, 0, vz),
                                            OPT(0, 100, 0, vz)};
static const struct fx_clear_option w6[] = {OPT(0, 100, 0, vz)};
static const struct fx_clear_offer ovf_offers[8] = {
    {1, w0}, {3, w1}, {2, w2}, {1, w3}, {3, w4}, {3, w5}, {1, w6}, {1, w6},
};

Test(clear_fuzzfound, look_aheads_below_a_negative_bound_do_not_overflow) {
  struct fx_clear_market m = {{8, ovf_isps}, 8, ovf_offers, ovf_base};
  struct fx_clear_params p;
  fuzz_params(&p);
  p.exact_max_offers = 0, p.bb_max_offers = 0, p.proof_max_offers = 0;
  p.coverage_tolerance = 0, p.bb_gap = 0;
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  cr_assert_lt(r.cost_lb, 0, "the bound the look-aheads start from is negative");
  cr_assert_leq(r.coverage, r.coverage_ub);
  cr_assert_leq(r.cost_lb, r.cost);
  fx_clear_result_free(&r);
}

/* 4. GLPK's MILP (the exact path, glp_intopt) wrote "Constructing initial
 * basis..." to standard output from inside its search on this market
 * (powers of a few watts beside -78 GW and -1 TW): noise in flexd serve's
 * output, and a broken document where `flexd clear --json` writes its
 * answer to standard output. The exact path turned GLPK's terminal output
 * off around the call. Since round 13 this market (its powers span more
 * than 10^9) no longer reaches glp_intopt at all (MIP_MAX_SPAN, 5.
 * below), so the test now holds the whole clearing of such a market to
 * writing nothing, not that guard: with the guard removed it still
 * passes, and 150 s of fuzz_clear with the guard removed found no market
 * within the span on which glp_intopt prints. The guard stays in
 * mip_solve as a defence for the markets that do reach it. */
static const struct fx_clear_isp quiet_isps[8] = {
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 200, 400},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 400, 800},
    {FX_CLEAR_AVAILABLE, -300, 300}, {FX_CLEAR_REQUESTED, 600, 1200},
    {FX_CLEAR_REQUESTED, 340, 640},  {FX_CLEAR_REQUESTED, 800, 1600},
};
static const int64_t qp0[] = {150, 90, -30}, qp1[] = {100, 100, 100, 100, 100, 100, 100, 100},
                     qp2[] = {200, 200, 200, 200}, qp3[] = {200, 0, 8707, 0}, qp4[] = {2},
                     qp5[] = {2, 2, 2}, qp6[] = {-77877879248, 532, 10}, qp7[] = {90, -30, 0, 416208},
                     qp8[] = {30}, qp9[] = {200, 10, -999999999787}, qp10[] = {10},
                     qp11[] = {532, 200, 200}, qp12[] = {0, 150};
static const struct fx_clear_option qo0[] = {OPT(0, 80, 0, qp0), OPT(0, 100, 0, qp1),
                                            OPT(700, 60, 4, qp2)};
static const struct fx_clear_option qo1[] = {OPT(1000, 81, 1, qp0), OPT(500, 100, 0, qp1),
                                            OPT(700, 60, 4, qp2)};
static const struct fx_clear_option qo2[] = {OPT(2000, 82, 2, qp0), OPT(1000, 100, 0, qp1),
                                            OPT(700, 60, 4, qp2)};
static const struct fx_clear_option qo3[] = {OPT(3000, 83, 3, qp0), OPT(1500, 100, 0, qp1),
                                            OPT(700, 60, 4, qp2)};
static const struct fx_clear_option qo4[] = {OPT(4000, 84, 4, qp0), OPT(2000, 100, 0, qp1),
                                            OPT(700, 60, 4, qp3)};
static const struct fx_clear_option qo5[] = {OPT(0, 100, 7, qp4), OPT(5220, 98, 2, qp5),
                                            OPT(10250, 93, 3, qp6)};
static const struct fx_clear_option qo6[] = {OPT(503, 98, 2, qp7), OPT(5220, 98, 2, qp5),
                                            OPT(5220, 99, 7, qp8)};
static const struct fx_clear_option qo7[] = {OPT(200, 96, 2, qp9), OPT(100, 98, 7, qp10),
                                            OPT(100000000000000, 100, 0, qp1)};
static const struct fx_clear_option qo8[] = {OPT(18700, 96, 3, qp11), OPT(100, 94, 6, qp12)};
static const struct fx_clear_option qo9[] = {OPT(0, 100, 7, qp4), OPT(5220, 98, 2, qp5)};
static const struct fx_clear_offer quiet_offers[10] = {
    {3, qo0}, {3, qo1}, {3, qo2}, {3, qo3}, {3, qo4}, {3, qo5}, {3, qo6}, {3, qo7}, {2, qo8}, {2, qo9},
};

Test(clear_fuzzfound, a_badly_scaled_market_writes_nothing_to_standard_output) {
  struct fx_clear_market m = {{8, quiet_isps}, 10, quiet_offers, NULL};
  struct fx_clear_params p;
  fuzz_params(&p);
  char path[] = "/tmp/flexd-quiet-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  fflush(stdout);
  int saved = dup(1);
  cr_assert_geq(saved, 0);
  cr_assert_eq(dup2(fd, 1), 1);
  struct fx_clear_result r;
  int rc = fx_clear_solve(&m, &p, &r);
  fflush(stdout);
  cr_assert_eq(dup2(saved, 1), 1);
  close(saved);
  off_t written = lseek(fd, 0, SEEK_END);
  close(fd);
  unlink(path);
  cr_assert_eq(rc, 0);
  cr_assert_eq(written, 0, "the clearing wrote %lld bytes to standard output", (long long)written);
  cr_assert_leq(r.cost_lb, r.cost);
  fx_clear_result_free(&r);
}

/* 5. GLPK aborted the process: an assertion inside glp_intopt's primal
 * simplex ("teta_lim >= 0.0", simplex/spxprim.c) on this market, an
 * option of 1 TW (999,999,999,790 W at one ISP) among powers of 2 W to a
 * few kW. The exact path no longer hands markets whose powers span more
 * than 10^9 to GLPK's MILP (clear_lp.c, MIP_MAX_SPAN): it only found
 * answers, and the engine's own steps clear them, with a proof. */
static const int64_t ab_a[] = {150, 90, -30}, ab_b[] = {100, 100, 100, 100, 100, 100, 100, 100},
                     ab_c[] = {200, 200, 200, 200}, ab_d[] = {100, 100, 100, 100, 100, 100, 0, 0},
                     ab_e[] = {1870, 30}, ab_f[] = {200, 10, 999999999790}, ab_g[] = {340},
                     ab_h[] = {20}, ab_i[] = {2, 2, 2}, ab_j[] = {30}, ab_k[] = {200, 10, 2110},
                     ab_l[] = {2, 2}, ab_m[] = {200, 10, -54277}, ab_n[] = {-30, 0, 416208, 2};
static const struct fx_clear_option a0[] = {OPT(0, 80, 0, ab_a), OPT(0, 100, 0, ab_b), OPT(700, 60, 4, ab_c)};
static const struct fx_clear_option a1[] = {OPT(1000, 81, 1, ab_a), OPT(500, 100, 0, ab_b), OPT(700, 60, 4, ab_c)};
static const struct fx_clear_option a2[] = {OPT(2000, 82, 2, ab_a), OPT(1000, 100, 0, ab_d), OPT(0, 100, 0, q30)};
static const struct fx_clear_option a3[] = {OPT(1000, 98, 2, ab_e)};
static const struct fx_clear_option a4[] = {OPT(200, 96, 2, ab_f), OPT(200, 98, 7, ab_g), OPT(100, 93, 0, ab_h)};
static const struct fx_clear_option a5[] = {OPT(1000, 98, 2, ab_i), OPT(5220, 99, 7, ab_j)};
static const struct fx_clear_option a6[] = {OPT(200, 96, 2, ab_k), OPT(200, 98, 7, ab_g), OPT(100, 96, 0, ab_h)};
static const struct fx_clear_option a7[] = {OPT(1000, 98, 2, ab_l), OPT(5220, 98, 2, ab_e)};
static const struct fx_clear_option a8[] = {OPT(200, 96, 2, ab_m), OPT(200, 93, 2, ab_n), OPT(5220, 98, 2, ab_i)};
static const struct fx_clear_option a9[] = {OPT(700, 60, 4, ab_c), OPT(100, 96, 5, q30)};
static const struct fx_clear_offer abort_offers[10] = {
    {3, a0}, {3, a1}, {3, a2}, {1, a3}, {3, a4}, {2, a5}, {3, a6}, {2, a7}, {3, a8}, {2, a9},
};

Test(clear_fuzzfound, glpk_does_not_abort_on_a_terawatt_option) {
  struct fx_clear_market m = {{8, stall_isps}, 10, abort_offers, NULL};
  struct fx_clear_params p;
  fuzz_params(&p);
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  cr_assert_eq(r.coverage, 1600);
  cr_assert_leq(r.coverage, r.coverage_ub);
  cr_assert_leq(r.cost_lb, r.cost);
  fx_clear_result_free(&r);
}

/* 6. (above) */
static const int64_t g0[] = {150, 90, -30}, g1[] = {100, 100, 100, 100, 100, 100, 100, 100},
                     g2[] = {200, 200, 200, 200}, g3[] = {200, 200, 60, 300}, g4[] = {20},
                     g5[] = {-200, 200}, g6[] = {0, 0, 0}, g7[] = {0}, g8[] = {100, 400, 0},
                     g9[] = {7936731368, 2171, 0}, g10[] = {200, 10, 53506, 0, 150},
                     g11[] = {0, 0, 20, 2}, g12[] = {2, 2, 2}, g13[] = {100, 100, 100, 10, 100, 100, 100, 100},
                     g14[] = {150, 90}, g15[] = {100, 100, 100, 100, -15614992928, 200, 200, 200},
                     g16[] = {0, 150};
static const struct fx_clear_option go0[] = {OPT(0, 80, 0, g0), OPT(0, 100, 0, g1), OPT(700, 60, 4, g2)};
static const struct fx_clear_option go1[] = {OPT(1000, 81, 1, g0), OPT(500, 100, 0, g1), OPT(700, 60, 4, g3)};
static const struct fx_clear_option go2[] = {OPT(100000000000000, 100, 6, g4), OPT(100000000000000, 98, 6, g5),
                                             OPT(200, 98, 2, g6)};
static const struct fx_clear_option go3[] = {OPT(100, 100, 0, g7), OPT(0, 100, 2, g8)};
static const struct fx_clear_option go4[] = {OPT(0, 100, 1, g9), OPT(0, 98, 0, g10)};
static const struct fx_clear_option go5[] = {OPT(3400, 97, 1, g11), OPT(5220, 98, 2, g12), OPT(2630, 60, 4, g2)};
static const struct fx_clear_option go6[] = {OPT(3000, 83, 3, g0), OPT(1500, 100, 0, g1), OPT(700, 60, 4, g2)};
static const struct fx_clear_option go7[] = {OPT(800, 84, 4, g0), OPT(2000, 100, 0, g13), OPT(700, 60, 4, g2)};
static const struct fx_clear_option go8[] = {OPT(5000, 85, 5, g0), OPT(2500, 100, 0, g1), OPT(700, 60, 4, g2)};
static const struct fx_clear_option go9[] = {OPT(6000, 86, 6, g14), OPT(3000, 100, 0, g15), OPT(100, 94, 6, g16)};
static const struct fx_clear_offer gain_offers[10] = {
    {3, go0}, {3, go1}, {3, go2}, {2, go3}, {2, go4}, {3, go5}, {3, go6}, {3, go7}, {3, go8}, {3, go9},
};

Test(clear_fuzzfound, a_pseudo_cost_below_a_positive_parent_does_not_overflow) {
  struct fx_clear_market m = {{8, stall_isps}, 10, gain_offers, NULL};
  struct fx_clear_params p;
  fuzz_params(&p);
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(&m, &p, &r), 0);
  cr_assert_leq(r.coverage, r.coverage_ub);
  cr_assert_leq(r.cost_lb, r.cost);
  fx_clear_result_free(&r);
}
