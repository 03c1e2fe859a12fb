/* The proof from the neighbourhood search's answer (proof_rins_start,
 * round 19, on by default): where the neighbourhood search and the dive
 * polish run before the proof, the proof starts from their answer
 * instead of the root's. The bounds still hold against the exhaustive
 * search, and the proof's reduced market is cut at that answer's cost. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "tests/support/clear_markets.h"

/* Small markets on the root path with the search first (ratio 0) and the
 * proof to a zero gap from the search's answer: bounds that bound, the
 * same answer twice, and the least cost at its coverage on nearly all. */
Test(clear_rstart, the_proof_from_the_search_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_max_offers = 0;
  p.proof_max_offers = 1000;
  p.proof_first_ratio = 0;
  cr_assert(p.proof_rins_start, "on by default");
  struct fx_cm_sweep w = fx_cm_small_sweep(&p);
  cr_log_info("proof ran on %d of 60 markets, least cost at its coverage on %d", w.proofs, w.least);
  cr_assert_gt(w.proofs, 10);
  cr_assert_gt(w.least, 50);
}

/* Markets of a few dozen offers with the product's gap (0.1 %), cleared
 * with the defaults and with proof_rins_start off, each way with the
 * search first everywhere (ratio 0) and as by default (the proof first
 * where the root's gap is wide). The neighbourhood search is the same
 * either way; where the proof runs after it, its reduced market is cut
 * at the search's answer, never dearer than the root's, so on some
 * markets (with the search first everywhere) it is smaller than the one
 * cut at the root's answer; where the proof runs first nothing changes
 * (on these small markets, by default, nowhere). Every answer keeps
 * every rule. */
Test(clear_rstart, the_proof_starts_from_the_searchs_answer) {
  for (int ratio = 0; ratio < 2; ratio++) {
    struct fx_clear_params on, off;
    fx_clear_params_init(&on);
    on.exact_max_offers = 0;
    on.bb_max_offers = 0;
    if (!ratio) on.proof_first_ratio = 0;
    off = on;
    off.proof_rins_start = false;
    int smaller = 0, larger = 0;
    for (uint64_t seed = 700; seed < 760; seed++) {
      struct fx_cm_market k;
      fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 27)), 60, seed % 4 == 0);
      struct fx_clear_result a = fx_cm_solve(&k.m, &on), b = fx_cm_solve(&k.m, &off);
      fx_cm_check_result(&k.m, &a, seed);
      cr_assert_eq(a.rins_free, b.rins_free, "seed %llu: the search's neighbourhood moved",
                   (unsigned long long)seed);
      if (a.rins_free == 0) /* the proof ran first, or alone: from the root's answer */
        fx_cm_same_result(&a, &b, seed);
      if (a.proof_cols > 0 && b.proof_cols > 0) {
        smaller += a.proof_cols < b.proof_cols;
        larger += a.proof_cols > b.proof_cols;
      }
      fx_clear_result_free(&a);
      fx_clear_result_free(&b);
    }
    cr_log_info("ratio %s: reduced market smaller on %d of 60 markets, larger on %d",
                ratio ? "2" : "0", smaller, larger);
    if (!ratio) cr_assert_gt(smaller, 0, "the proof never started from the search's answer");
  }
}

/* proof_first_max_ratio (round 19, opt-in): where the root's gap is above
 * it the search runs first, as with proof_first_ratio 0. With the limit
 * at proof_first_ratio (nothing left between them) every market clears as
 * with the search first everywhere, and some that ran the proof first by
 * default now get the search; with the limit far above any gap, as by
 * default. */
Test(clear_rstart, a_wide_root_gap_gets_the_search_first) {
  struct fx_clear_params dflt, first, capped, loose;
  fx_clear_params_init(&dflt);
  dflt.exact_max_offers = 0;
  dflt.bb_max_offers = 0;
  cr_assert_eq(dflt.proof_first_max_ratio, 0, "off by default");
  first = dflt, capped = dflt, loose = dflt;
  first.proof_first_ratio = 0;
  capped.proof_first_max_ratio = dflt.proof_first_ratio;
  loose.proof_first_max_ratio = 1e6;
  int moved = 0;
  for (uint64_t seed = 700; seed < 760; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 27)), 60, seed % 4 == 0);
    struct fx_clear_result a = fx_cm_solve(&k.m, &dflt), b = fx_cm_solve(&k.m, &first),
                           c = fx_cm_solve(&k.m, &capped), d = fx_cm_solve(&k.m, &loose);
    fx_cm_check_result(&k.m, &c, seed);
    fx_cm_same_result(&c, &b, seed);
    cr_assert_eq(c.rins_free, b.rins_free, "seed %llu", (unsigned long long)seed);
    fx_cm_same_result(&d, &a, seed);
    moved += a.rins_free == 0 && c.rins_free > 0;
    fx_clear_result_free(&a);
    fx_clear_result_free(&b);
    fx_clear_result_free(&c);
    fx_clear_result_free(&d);
  }
  cr_log_info("the search first on %d of 60 markets that ran the proof first by default", moved);
  cr_assert_gt(moved, 0, "a wide gap never got the search first");
}
