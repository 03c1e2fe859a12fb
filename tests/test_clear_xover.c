/* test_clear_xover.c — the proof's node searches, cheaper (round 16,
 * xover; proof_rins_swap_share and proof_rins_node_limit, cl_node_rins in
 * clear_sub.c): without their local search by default, and their
 * sub-market's node limit step 11's unless set; each field reaches the searches (another value searches
 * differently on some markets); either way the answers keep every rule,
 * are never dearer than the search's start, and the bounds hold against
 * the exhaustive search. Fixed seeds, bounded counts. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"


/* The proof's branch-and-bound from merit order's answer with node
 * searches at nodes 1 and 3, in two settings (set: one changes the
 * other's field); the settings search differently on some markets (the
 * field reaches the searches), and either way the answer is never dearer
 * than the start, never below the exhaustive optimum at the coverage
 * searched, the bound holds, and the same search twice gives the same
 * result. */
static void node_search_settings(void (*set)(struct fx_clear_params *, int), const char *what) {
  int differ = 0, runs = 0;
  for (uint64_t seed = 1; seed <= 120; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 4), 2, seed % 7 == 0);
    struct fx_cm_bb r[2];
    for (int on = 0; on < 2; on++) {
      struct fx_clear_params p;
      fx_cm_bb_params(&p);
      p.bb_gap = 0.02, p.bb_cutoff = 1.0;
      p.proof_rins_node = 1, p.proof_rins_again = 3;
      p.bb_plunge_abort = 0; /* (round 17's bounded plunges leave these tiny
                              * searches no node where the share matters) */
      set(&p, on);
      r[on] = fx_cm_bb_merit(&k.m, &p);
      struct fx_cm_bb again = fx_cm_bb_merit(&k.m, &p);
      if (!r[on].ran) continue;
      struct fx_cm_ex e = {.m = &k.m, .at_cov = r[on].cov};
      fx_cm_exhaustive(&e);
      cr_assert_leq(r[on].bo.bound, e.at_cost, "seed %llu", (unsigned long long)seed);
      cr_assert_geq(r[on].cost, e.at_cost, "seed %llu", (unsigned long long)seed);
      cr_assert_leq(r[on].cost, fx_cm_merit_cost(&k.m), "seed %llu: dearer than the start",
                    (unsigned long long)seed);
      cr_assert_eq(r[on].cost, again.cost, "seed %llu", (unsigned long long)seed);
      cr_assert_eq(r[on].bo.nodes, again.bo.nodes, "seed %llu", (unsigned long long)seed);
      runs += r[on].bo.rins;
    }
    if (r[0].ran)
      differ += r[0].bo.nodes != r[1].bo.nodes || r[0].cost != r[1].cost ||
                r[0].bo.pivots != r[1].bo.pivots || r[0].bo.rins_improved != r[1].bo.rins_improved;
  }
  cr_log_info("%s: %d node searches; %d markets searched differently", what, runs, differ);
  cr_assert_gt(runs, 0, "no node search ran");
  cr_assert_gt(differ, 0, "%s never changed a search", what);
}

static void swap_share(struct fx_clear_params *p, int on) {
  p->proof_rins_swap_share = on ? 0.1 : 0.0;
}

static void node_limit(struct fx_clear_params *p, int on) {
  p->proof_rins_node_limit = on ? 1 : 0; /* 0: rins_node_limit's */
}

Test(clear_xover, the_node_searches_local_search_share) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.proof_rins_swap_share, 0.0, "off by default");
  node_search_settings(swap_share, "proof_rins_swap_share");
}

Test(clear_xover, the_node_searches_node_limit) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.proof_rins_node_limit, 0, "step 11's limit by default (50 lost on fresh seeds)");
  node_search_settings(node_limit, "proof_rins_node_limit");
}

/* Through fx_clear_solve on the proof path (moved down to markets of a few
 * offers) with node searches at nodes 1 and 3 and the defaults' share:
 * every rule and the bounds against the exhaustive search, the same
 * answer twice. */
Test(clear_xover, the_proof_matches_exhaustive_search) {
  int runs = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_clear_params p;
    fx_cm_bb_params(&p);
    p.bb_max_offers = 0, p.proof_max_offers = 1000;
    p.proof_rins_node = 1, p.proof_rins_again = 3;
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 2, seed % 6 == 0);
    struct fx_clear_result r = fx_cm_solve_checked(&k.m, &p, seed, NULL);
    runs += r.proof_rins;
    fx_clear_result_free(&r);
  }
  cr_assert_gt(runs, 0, "the proof ran no search");
}
