/* The proof before the neighbourhood search (proof_first_ratio, round 10b;
 * docs/clearing-rounds.md "Round 10 (pfirst)"): with either order the bounds hold
 * against the exhaustive search and the answer is the same twice; and
 * where the root's gap is wide the proof runs first and, where it closes
 * the gap, the neighbourhood search is spared. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "tests/support/clear_markets.h"

/* Small markets on the root path (no branch-and-bound of the whole market)
 * with the proof to a zero gap, first (ratio 2 of a zero bb_gap: whenever
 * the root's answer is above its bound) or after the neighbourhood search
 * (ratio 0): bounds that bound, the same answer twice, and the least cost
 * at its coverage on nearly all of them. */
Test(clear_pfirst, either_order_matches_exhaustive_search) {
  for (int first = 0; first < 2; first++) {
    struct fx_clear_params p;
    fx_cm_bb_params(&p);
    p.bb_max_offers = 0;
    p.proof_max_offers = 1000;
    p.proof_first_ratio = first ? 2.0 : 0.0;
    struct fx_cm_sweep w = fx_cm_small_sweep(&p);
    cr_log_info("proof %s: ran on %d of 60 markets, least cost at its coverage on %d",
                first ? "first" : "after", w.proofs, w.least);
    cr_assert_gt(w.proofs, 10);
    cr_assert_gt(w.least, 50);
  }
}

/* Markets of a few dozen offers with the product's gap (0.1 %): with the
 * proof first, some are proven by the proof alone and get no neighbourhood
 * search (rins_free 0) where the search-first order ran one; every answer
 * keeps every rule, and its proven gap is no wider than the other order's
 * where the proof closed it. */
Test(clear_pfirst, a_closing_proof_spares_the_neighbourhood_search) {
  struct fx_clear_params first, after;
  fx_clear_params_init(&first);
  first.exact_max_offers = 0;
  first.bb_max_offers = 0;
  after = first;
  after.proof_first_ratio = 0;
  int spared = 0, ran_first = 0;
  for (uint64_t seed = 700; seed < 760; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 27)), 60, seed % 4 == 0);
    struct fx_clear_result a = fx_cm_solve(&k.m, &first), b = fx_cm_solve(&k.m, &after);
    fx_cm_check_result(&k.m, &a, seed);
    fx_cm_check_result(&k.m, &b, seed);
    bool proven = a.cost_gap <= first.bb_gap;
    if (a.proof_cols > 0 && a.rins_free == 0 && proven) ran_first++;
    if (a.proof_cols > 0 && a.rins_free == 0 && b.rins_free > 0) spared++;
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
  }
  cr_log_info("proven by the proof alone on %d of 60 markets, a search spared on %d", ran_first,
              spared);
  cr_assert_gt(ran_first, 0, "the proof never ran first and closed the gap");
  cr_assert_gt(spared, 0, "no neighbourhood search was spared");
}
