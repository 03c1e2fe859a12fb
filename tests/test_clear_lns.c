/* test_clear_lns.c — the window neighbourhoods of round 9 (clear_sub.c,
 * cl_lns_windows; docs/clearing.md): on the clearing suites' random markets
 * (tests/support/clear_markets.h), with the thresholds lowered so that they
 * run on markets of a few ISPs, the windows keep every rule, never make the
 * answer worse nor change a proven bound, give the same answer twice, find
 * cheaper answers on some markets; and with the proof started from their
 * answer, the proven bounds still hold against the exhaustive search. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "tests/support/clear_markets.h"

/* The same answer, and the same windows. */
static void same_answer(const struct fx_clear_result *a, const struct fx_clear_result *b,
                        uint64_t seed) {
  fx_cm_same_result(a, b, seed);
  cr_assert_eq(a->lns_windows, b->lns_windows, "seed %llu", (unsigned long long)seed);
}

/* The path where the windows run (after the neighbourhood search, on
 * markets above bb_max_offers), moved down to markets of a few dozen
 * offers and a few ISPs: windows two ISPs wide. */
static void windows_params(struct fx_clear_params *p) {
  fx_clear_params_init(p);
  p->exact_max_offers = 0;
  p->bb_max_offers = 0;
  p->proof_max_offers = 0; /* the windows alone: the proof raises the bound */
  p->lns_max_offers = FX_CM_MAX_OFFERS;
  p->lns_width = 2;
  p->lns_passes = 3;
}

/* The windows only ever replace the answer by one that covers at least as
 * much for less, keeping every rule, and leave the proven bounds as they
 * were (they prove nothing); on some of these markets they find a cheaper
 * answer; the same market gives the same answer. */
Test(clear_lns, windows_only_improve_and_keep_every_rule) {
  struct fx_clear_params with, without;
  windows_params(&with);
  without = with;
  without.lns_max_offers = 0;
  int better = 0, ran = 0;
  for (uint64_t seed = 700; seed < 740; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 33)), 60, seed % 4 == 0);
    struct fx_clear_result a = fx_cm_solve(&k.m, &with), b = fx_cm_solve(&k.m, &without);
    struct fx_clear_result again = fx_cm_solve(&k.m, &with);
    fx_cm_check_result(&k.m, &a, seed);
    same_answer(&a, &again, seed);
    cr_assert_eq(b.lns_windows, 0, "seed %llu: windows ran while off", (unsigned long long)seed);
    cr_assert_geq(a.coverage, b.coverage, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(a.cost, b.cost, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(a.coverage_ub, b.coverage_ub, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(a.cost_lb, b.cost_lb, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(a.cost < b.cost, a.lns_improved > 0, "seed %llu: %d windows improved",
                 (unsigned long long)seed, a.lns_improved);
    better += a.cost < b.cost;
    ran += a.lns_windows > 0;
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
    fx_clear_result_free(&again);
  }
  cr_log_info("windows ran on %d of 40 markets, made the answer cheaper on %d", ran, better);
  cr_assert_gt(ran, 20);
  cr_assert_gt(better, 0);
}

/* A deterministic budget: lns_work stops the passes once the windows'
 * nodes reach it, and a smaller budget spends no more windows. */
Test(clear_lns, the_work_budget_bounds_the_windows) {
  struct fx_clear_params big, small;
  windows_params(&big);
  small = big;
  small.lns_work = 1; /* the first window that branches ends the search */
  int fewer = 0;
  for (uint64_t seed = 740; seed < 760; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(40 + 3 * (seed % 20)), 60, false);
    struct fx_clear_result a = fx_cm_solve(&k.m, &big), b = fx_cm_solve(&k.m, &small);
    fx_cm_check_result(&k.m, &b, seed);
    cr_assert_leq(b.lns_windows, a.lns_windows, "seed %llu", (unsigned long long)seed);
    fewer += b.lns_windows < a.lns_windows;
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
  }
  cr_assert_gt(fewer, 0);
}

/* Markets small enough for the exhaustive search, the windows on and the
 * proof (reduced-cost fixing, then branch-and-bound to a zero gap)
 * started from their answer (lns_proof_start): the bounds hold against
 * the exhaustive search — no choice covers more than coverage_ub, none
 * covering the answer's coverage costs less than cost_lb — and the answer
 * is the least cost at its coverage on most of them; on markets of 20-26
 * offers the proof then searches otherwise than from the root's answer. */
Test(clear_lns, proof_from_the_windows_answer_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_max_offers = 0;
  p.proof_max_offers = 1000;
  p.lns_max_offers = FX_CM_MAX_OFFERS;
  p.lns_width = 2;
  p.lns_proof_start = true;
  struct fx_clear_params root = p;
  root.lns_proof_start = false;
  int equal = 0, ran = 0, moved = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 3), 2, seed % 5 == 0);
    struct fx_clear_result r = fx_cm_solve(&k.m, &p), again = fx_cm_solve(&k.m, &p);
    fx_cm_check_result(&k.m, &r, seed);
    same_answer(&r, &again, seed);
    equal += fx_cm_check_bounds(&k.m, &r, seed);
    ran += r.lns_windows > 0;
    fx_clear_result_free(&r);
    fx_clear_result_free(&again);
  }
  /* Whether the proof starts elsewhere, on markets of 20-26 offers: on
   * the tiny ones above the coverage repair (round 11, covx) leaves the
   * root an answer the windows no longer change */
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + seed % 7), 2, seed % 5 == 0);
    struct fx_clear_result r = fx_cm_solve(&k.m, &p);
    struct fx_clear_result o = fx_cm_solve(&k.m, &root); /* the proof from the root's answer */
    fx_cm_check_result(&k.m, &r, seed);
    moved += o.proof_cols != r.proof_cols || o.bb_nodes != r.bb_nodes;
    fx_clear_result_free(&o);
    fx_clear_result_free(&r);
  }
  cr_log_info("windows ran on %d of 60 markets; least cost at its coverage on %d; the proof "
              "searched otherwise from their answer on %d of 60 larger", ran, equal, moved);
  cr_assert_gt(ran, 30);
  cr_assert_gt(moved, 0, "the proof never started from the windows' answer");
  cr_assert_gt(equal, 50);
}

/* Without the proof, on the same small markets: the answer with windows is
 * never worse than without them, and the bounds (the root's) hold against
 * the exhaustive search. */
Test(clear_lns, windows_alone_keep_true_bounds_on_small_markets) {
  struct fx_clear_params with, without;
  windows_params(&with);
  without = with;
  without.lns_max_offers = 0;
  for (uint64_t seed = 100; seed < 160; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(5 + seed % 4), 3, seed % 3 == 0);
    struct fx_clear_result a = fx_cm_solve(&k.m, &with), b = fx_cm_solve(&k.m, &without);
    fx_cm_check_result(&k.m, &a, seed);
    struct fx_cm_ex e = {.m = &k.m, .at_cov = a.coverage};
    fx_cm_exhaustive(&e);
    cr_assert_geq(a.coverage_ub, e.best_cov, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(a.cost_lb, e.at_cost, "seed %llu", (unsigned long long)seed);
    cr_assert_geq(a.cost, e.at_cost, "seed %llu", (unsigned long long)seed);
    cr_assert_geq(a.coverage, b.coverage, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(a.cost, b.cost, "seed %llu", (unsigned long long)seed);
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
  }
}
