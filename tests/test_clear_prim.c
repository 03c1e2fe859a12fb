/* test_clear_prim.c — the root's crossover (round 10, clear_prim.c,
 * cl_prim_cross, cross_max_offers; docs/clearing.md): on the clearing
 * suites' random markets (tests/support/clear_markets.h), judged by the
 * rules written there and not by the engine's, the crossover's answer
 * keeps every rule, is never worse than the answer it started from, the
 * root LP it dives on comes back exactly, the same market gives the same
 * orders twice, it finds cheaper answers on some markets, and with the
 * proof after it (from its answer or the root's) the proven bounds hold
 * against the exhaustive search, which the answer reaches. Fixed seeds,
 * bounded counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

#define MAX_COLS (FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS)

/* The same answer, and the same crossover. */
static void same_answer(const struct fx_clear_result *a, const struct fx_clear_result *b,
                        uint64_t seed) {
  fx_cm_same_result(a, b, seed);
  cr_assert_eq(a->cross_free, b->cross_free, "seed %llu", (unsigned long long)seed);
}

/* The path where the crossover runs (after the neighbourhood search, on
 * markets above bb_max_offers), moved down to markets of a few dozen
 * offers; no proof, so that the bounds are the root's either way. */
static void cross_params(struct fx_clear_params *p) {
  fx_clear_params_init(p);
  p->exact_max_offers = 0;
  p->bb_max_offers = 0;
  p->proof_max_offers = 0;
  p->cross_max_offers = FX_CM_MAX_OFFERS;
}

/* The crossover only ever replaces the answer by one that covers at least
 * as much for less, keeping every rule, and leaves the proven bounds as
 * they were; on some markets it finds a cheaper answer than the dive
 * polish it replaces; the same market gives the same answer. */
Test(clear_prim, crossover_only_improves_and_keeps_every_rule) {
  struct fx_clear_params with, without;
  cross_params(&with);
  without = with;
  without.cross_max_offers = 0;
  int better = 0, ran = 0;
  for (uint64_t seed = 900; seed < 940; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 33)), 60, seed % 4 == 0);
    struct fx_clear_result a = fx_cm_solve(&k.m, &with), b = fx_cm_solve(&k.m, &without);
    struct fx_clear_result again = fx_cm_solve(&k.m, &with);
    fx_cm_check_result(&k.m, &a, seed);
    same_answer(&a, &again, seed);
    cr_assert_eq(b.cross_free, 0, "seed %llu: the crossover ran while off",
                 (unsigned long long)seed);
    cr_assert_geq(a.coverage, b.coverage, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(a.cost, b.cost, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(a.coverage_ub, b.coverage_ub, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(a.cost_lb, b.cost_lb, "seed %llu", (unsigned long long)seed);
    if (a.cost < b.cost)
      cr_assert(a.cross_improved, "seed %llu: cheaper, but not by the crossover",
                (unsigned long long)seed);
    better += a.cost < b.cost;
    ran += a.cross_free > 0;
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
    fx_clear_result_free(&again);
  }
  cr_log_info("the crossover cleared offers again on %d of 40 markets, cheaper on %d", ran,
              better);
  cr_assert_gt(ran, 10);
  cr_assert_gt(better, 0);
}

/* The root as solve_model has it before the crossover: merit order, the
 * dive, the cost bound's LP at the answer's coverage. */
struct root {
  struct cl_model md;
  struct cl_lp *lp;
  struct cl_state best, start, merit;
  struct cl_lp_out out;
};

static bool root_open(struct root *r, const struct fx_clear_market *m,
                      const struct fx_clear_params *p) {
  memset(r, 0, sizeof *r);
  cr_assert_eq(cl_model_init(&r->md, m), 0);
  if (!r->md.n_cols) return false;
  cr_assert_eq(cl_lp_create(&r->lp, &r->md, p, 0), 0);
  cr_assert_eq(cl_state_init(&r->best, &r->md), 0);
  cr_assert_eq(cl_state_init(&r->start, &r->md), 0);
  cr_assert_eq(cl_state_init(&r->merit, &r->md), 0);
  cr_assert_eq(cl_merit(&r->merit, &r->md), 0);
  cr_assert_eq(cl_lp_dive(r->lp, &r->best, &r->out, &r->merit, p->coverage_tolerance), 0);
  cr_assert_eq(cl_polish(&r->best, &r->md, r->out.target), 0);
  cr_assert_eq(cl_lp_cost_bound(r->lp, r->best.cov, &r->out), 0);
  cl_state_copy(&r->start, &r->best, &r->md);
  return true;
}

static void root_close(struct root *r) {
  cl_lp_free(r->lp);
  if (r->best.col) cl_state_free(&r->best);
  if (r->start.col) cl_state_free(&r->start);
  if (r->merit.col) cl_state_free(&r->merit);
  cl_model_free(&r->md);
}

/* cl_prim_cross itself, from the root's answer and with merit order as
 * the "root" answer (an answer that disagrees in many offers): the result
 * keeps every rule, covers at least as much, costs no more, and the LP's
 * solution and bound are what they were before, bit for bit; twice from
 * the same start, the same orders. */
Test(clear_prim, crossover_keeps_rules_and_puts_the_lp_back) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  static double x0[MAX_COLS];
  int freed = 0, improved = 0;
  for (uint64_t seed = 950; seed < 990; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(10 + 2 * (seed % 40)), 20, seed % 5 == 0);
    struct root r;
    if (!root_open(&r, &k.m, &p)) {
      root_close(&r);
      continue;
    }
    for (size_t c = 0; c < r.md.n_cols; c++) x0[c] = cl_lp_bb_x(r.lp, c);
    int64_t lb0 = r.out.cost_lb;
    struct cl_prim_out xo;
    cr_assert_eq(cl_prim_cross(&r.md, r.lp, &p, 0, &r.merit, &r.best, &xo), 0);
    fx_cm_check_state(&k.m, &r.md, &r.best, seed);
    cr_assert_geq(r.best.cov, r.start.cov, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(r.best.cost, r.start.cost, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(r.best.cost < r.start.cost, xo.improved, "seed %llu",
                 (unsigned long long)seed);
    for (size_t c = 0; c < r.md.n_cols; c++)
      cr_assert(cl_lp_bb_x(r.lp, c) == x0[c], "seed %llu: column %zu moved",
                (unsigned long long)seed, c);
    struct cl_state once = {0};
    cr_assert_eq(cl_state_init(&once, &r.md), 0);
    cl_state_copy(&once, &r.best, &r.md);
    cl_state_copy(&r.best, &r.start, &r.md);
    cr_assert_eq(cl_prim_cross(&r.md, r.lp, &p, 0, &r.merit, &r.best, &xo), 0);
    for (size_t i = 0; i < r.md.n_offers; i++) {
      cr_assert_eq(r.best.col[i], once.col[i], "seed %llu", (unsigned long long)seed);
      cr_assert_eq(r.best.k[i], once.k[i], "seed %llu", (unsigned long long)seed);
    }
    cr_assert_eq(cl_lp_cost_bound(r.lp, r.start.cov, &r.out), 0);
    cr_assert_eq(r.out.cost_lb, lb0, "seed %llu: the LP's bound moved", (unsigned long long)seed);
    freed += xo.n_free > 0, improved += xo.improved;
    cl_state_free(&once);
    root_close(&r);
  }
  cr_log_info("offers cleared again on %d of 40 markets, cheaper on %d", freed, improved);
  cr_assert_gt(freed, 20);
  cr_assert_gt(improved, 0);
}

/* Markets small enough for the exhaustive search, the crossover on and
 * the proof (reduced-cost fixing, then branch-and-bound to a zero gap)
 * started from its answer or from the root's: the bounds hold — no choice
 * covers more than coverage_ub, none covering the answer's coverage costs
 * less than cost_lb — the answer is the same twice and is the least cost
 * at its coverage on nearly all of them. */
Test(clear_prim, proof_after_the_crossover_matches_exhaustive_search) {
  for (int from_cross = 0; from_cross < 2; from_cross++) {
    struct fx_clear_params p;
    fx_cm_bb_params(&p);
    p.bb_max_offers = 0;
    p.proof_max_offers = 1000;
    p.cross_max_offers = FX_CM_MAX_OFFERS;
    p.cross_proof_start = from_cross;
    int equal = 0, ran = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
      struct fx_cm_market k;
      fx_cm_gen(&k, seed, (size_t)(6 + seed % 3), 2, seed % 5 == 0);
      struct fx_clear_result r = fx_cm_solve(&k.m, &p), again = fx_cm_solve(&k.m, &p);
      fx_cm_check_result(&k.m, &r, seed);
      same_answer(&r, &again, seed);
      equal += fx_cm_check_bounds(&k.m, &r, seed);
      ran += r.cross_free > 0;
      fx_clear_result_free(&r);
      fx_clear_result_free(&again);
    }
    cr_log_info("proof from the %s answer: the crossover ran on %d of 60 markets; least cost "
                "at its coverage on %d", from_cross ? "crossover's" : "root's", ran, equal);
    cr_assert_gt(ran, 10);
    cr_assert_gt(equal, 50);
  }
}
