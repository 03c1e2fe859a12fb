/* The proof from the neighbourhood search's answer (proof_rins_start,
 * round 19, opt-in): the neighbourhood search and the dive polish run
 * before the proof whatever proof_first_ratio says, and the proof starts
 * from their answer instead of the root's. The bounds still hold against
 * the exhaustive search; the search runs where the proof would have run
 * first; and the proof's reduced market is cut at that answer's cost. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "tests/support/clear_markets.h"

/* Small markets on the root path with the proof to a zero gap, starting
 * from the search's answer: bounds that bound, the same answer twice, and
 * the least cost at its coverage on nearly all of them. */
Test(clear_rstart, the_proof_from_the_search_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_max_offers = 0;
  p.proof_max_offers = 1000;
  p.proof_rins_start = true;
  struct fx_cm_sweep w = fx_cm_small_sweep(&p);
  cr_log_info("proof ran on %d of 60 markets, least cost at its coverage on %d", w.proofs, w.least);
  cr_assert_gt(w.proofs, 10);
  cr_assert_gt(w.least, 50);
}

/* Markets of a few dozen offers with the product's gap (0.1 %), each
 * cleared three ways: as today (the proof first where the root's gap is
 * wide), with the search first and the proof from the root's answer
 * (proof_first_ratio 0), and with proof_rins_start. With it the search
 * runs on markets where the proof ran first before; and where the proof
 * runs, its reduced market is cut at the search's answer, never dearer
 * than the root's, so it is smaller than the one cut at the root's
 * answer on some markets. Every answer keeps every rule. */
Test(clear_rstart, the_search_runs_first_and_the_proof_starts_from_it) {
  struct fx_clear_params today, after, rstart;
  fx_clear_params_init(&today);
  today.exact_max_offers = 0;
  today.bb_max_offers = 0;
  after = today, rstart = today;
  after.proof_first_ratio = 0;
  rstart.proof_rins_start = true;
  int searched = 0, smaller = 0, larger = 0;
  for (uint64_t seed = 700; seed < 760; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 27)), 60, seed % 4 == 0);
    struct fx_clear_result a = fx_cm_solve(&k.m, &today), b = fx_cm_solve(&k.m, &after),
                           c = fx_cm_solve(&k.m, &rstart);
    fx_cm_check_result(&k.m, &c, seed);
    cr_assert_eq(c.rins_free, b.rins_free, "seed %llu: the search's neighbourhood moved",
                 (unsigned long long)seed);
    if (a.rins_free == 0 && c.rins_free > 0) searched++;
    if (b.proof_cols > 0 && c.proof_cols > 0) {
      smaller += c.proof_cols < b.proof_cols;
      larger += c.proof_cols > b.proof_cols;
    }
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
    fx_clear_result_free(&c);
  }
  cr_log_info("searched first on %d of 60 markets; reduced market smaller on %d, larger on %d",
              searched, smaller, larger);
  cr_assert_gt(searched, 0, "the search never ran where the proof ran first");
  cr_assert_gt(smaller, 0, "the proof never started from the search's answer");
}
