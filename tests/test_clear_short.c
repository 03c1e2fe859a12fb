/* test_clear_short.c — mending short candidates (round 16, short; cl_mend,
 * bb_mend_steps): a choice short of a coverage target, where fill finds
 * no raise that keeps every bound, is mended by raising or moving one
 * order and repairing the bounds it breaks, step by step. Its choices keep
 * every rule (judged by tests/support/clear_markets.c, not the engine),
 * never cover less than they did, are the same twice, and reach targets
 * fill alone cannot; the clearing with it on keeps every rule and bounds
 * the exhaustive search. Fixed seeds, bounded counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* Merit order's choice with its dearest quarter of orders taken out and
 * the bounds repaired: short of the coverage it had. */
static bool short_choice(const struct cl_model *md, struct cl_state *st, int64_t *target) {
  cr_assert_eq(cl_merit(st, md), 0);
  *target = st->cov;
  size_t n = 0;
  for (size_t i = 0; i < md->n_offers; i++) n += st->col[i] >= 0;
  for (size_t j = 0, out = 0; j < md->n_cols && out < (n + 3) / 4; j++) {
    size_t c = md->rank_price[j], i = md->col[c].offer;
    if (st->col[i] == (int)c) cl_state_set(st, md, i, -1, 0), out++;
  }
  cr_assert_eq(cl_repair(st, md), 0); /* an order taken out may have balanced a bound */
  return st->cov < *target;
}

Test(clear_short, mended_choices_keep_every_rule_and_reach_what_fill_cannot) {
  int mended = 0, beyond_fill = 0, tried = 0;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(10 + seed % 30), 60, seed % 4 == 0);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    struct cl_state st = {0}, fill = {0}, again = {0};
    cr_assert_eq(cl_state_init(&st, &md), 0);
    cr_assert_eq(cl_state_init(&fill, &md), 0);
    cr_assert_eq(cl_state_init(&again, &md), 0);
    int64_t target;
    if (short_choice(&md, &st, &target)) {
      tried++;
      cl_state_copy(&fill, &st, &md);
      cr_assert_eq(cl_fill(&fill, &md, target), 0);
      cl_state_copy(&again, &st, &md);
      int64_t cov0 = st.cov;
      cr_assert_eq(cl_mend(&st, &md, target, 8, INT64_MAX), 0);
      cr_assert_eq(cl_mend(&again, &md, target, 8, INT64_MAX), 0);
      fx_cm_check_state(&k.m, &md, &st, seed);
      cr_assert_geq(st.cov, cov0, "seed %llu", (unsigned long long)seed);
      cr_assert_eq(st.cov, again.cov, "seed %llu", (unsigned long long)seed);
      cr_assert_eq(st.cost, again.cost, "seed %llu", (unsigned long long)seed);
      mended += st.cov > cov0;
      /* from where fill stops: does mending reach further? */
      cl_state_copy(&again, &fill, &md);
      cr_assert_eq(cl_mend(&again, &md, target, 8, INT64_MAX), 0);
      fx_cm_check_state(&k.m, &md, &again, seed);
      cr_assert_geq(again.cov, fill.cov, "seed %llu", (unsigned long long)seed);
      beyond_fill += fill.cov < target && again.cov > fill.cov;
    }
    cl_state_free(&st), cl_state_free(&fill), cl_state_free(&again);
    cl_model_free(&md);
  }
  cr_log_info("%d short choices: %d mended, %d beyond where fill stops", tried, mended,
              beyond_fill);
  cr_assert_geq(tried, 100);
  cr_assert_geq(mended, tried / 2);
  cr_assert_gt(beyond_fill, 0, "mending never reached beyond fill");
}

/* With no steps, or at the target already, nothing changes. */
Test(clear_short, no_steps_or_no_shortfall_change_nothing) {
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(10 + seed % 30), 60, false);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    struct cl_state st = {0};
    cr_assert_eq(cl_state_init(&st, &md), 0);
    int64_t target;
    bool is_short = short_choice(&md, &st, &target);
    int64_t cov = st.cov, cost = st.cost;
    cr_assert_eq(cl_mend(&st, &md, target, 0, INT64_MAX), 0);
    cr_assert_eq(cl_mend(&st, &md, is_short ? cov : target, 8, INT64_MAX), 0);
    cr_assert_eq(st.cov, cov);
    cr_assert_eq(st.cost, cost);
    cl_state_free(&st);
    cl_model_free(&md);
  }
}

/* The clearing with mending (every node a dive, so that its candidates
 * are many): on markets small enough for the exhaustive search every
 * rule, bounds that bound it, the same answer twice
 * (fx_cm_solve_checked); with and without the proof's reduced market. */
Test(clear_short, clearing_with_mending_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_mend_steps = 8, p.bb_node_dive = 1, p.bb_mend_short_ppm = 1e6;
  fx_cm_small_both_paths(&p);
}

/* On larger markets (20-40 offers; the search without mending, run to a
 * zero gap, is the reference where it proves its answer optimal): every
 * rule; the same coverage and cost where both prove theirs, a bound never
 * above the reference's optimum; and mending changes the search on some
 * markets (the switch is read and mended answers taken). */
Test(clear_short, branch_and_bound_with_mending_ends_at_the_same_optimum) {
  struct fx_clear_params p, off;
  fx_cm_bb_params(&p);
  p.bb_node_limit = 2000, p.bb_node_dive = 1;
  off = p;
  p.bb_mend_steps = 8, p.bb_mend_short_ppm = 1e6; /* small markets: large shortfalls */
  int proven, differ = fx_cm_same_optimum(&p, &off, 300, 340, &proven);
  cr_log_info("%d markets proven both ways; mending changed the search on %d", proven, differ);
  cr_assert_geq(proven, 12);
  cr_assert_gt(differ, 0, "mending never changed a search");
}
