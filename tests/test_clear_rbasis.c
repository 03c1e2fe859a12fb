/* The proof's reduced LP from the full LP's basis (proof_warm_basis,
 * rounds 10 and 14, on by default since round 14): its cost bound starts
 * from the whole market's cost-bound optimum restricted to the reduced
 * market, the path is taken (proof_warm), and the bounds it proves still
 * hold against the exhaustive search. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "tests/support/clear_markets.h"

/* Small markets on the root path with the proof to a zero gap, the
 * reduced LP warm or cold: bounds that bound and the least cost at the
 * answer's coverage on nearly all of them, either way. */
Test(clear_rbasis, warm_reduced_lp_bounds_hold) {
  for (int warm = 0; warm < 2; warm++) {
    struct fx_clear_params p;
    fx_cm_bb_params(&p);
    p.bb_max_offers = 0;
    p.proof_max_offers = 1000;
    p.proof_warm_basis = warm;
    struct fx_cm_sweep w = fx_cm_small_sweep(&p);
    cr_log_info("reduced LP %s: proof on %d of 60 markets (warm on %d), least cost on %d",
                warm ? "warm" : "cold", w.proofs, w.warm, w.least);
    cr_assert_gt(w.proofs, 10);
    cr_assert_gt(w.least, 50);
    if (warm)
      cr_assert_geq(2 * w.warm, w.proofs, "the warm start is taken on most proofs (%d of %d)", w.warm, w.proofs);
    else
      cr_assert_eq(w.warm, 0, "off means off");
  }
}

/* Markets of a few dozen offers with the product's gap: every answer keeps
 * every rule with the warm reduced LP, and the proof runs on some. */
Test(clear_rbasis, warm_reduced_lp_keeps_the_rules) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.exact_max_offers = 0;
  p.bb_max_offers = 0;
  cr_assert(p.proof_warm_basis, "on by default");
  int proofs = 0;
  for (uint64_t seed = 700; seed < 740; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + 3 * (seed % 27)), 60, seed % 4 == 0);
    struct fx_clear_result r = fx_cm_solve(&k.m, &p);
    fx_cm_check_result(&k.m, &r, seed);
    proofs += r.proof_cols > 0;
    fx_clear_result_free(&r);
  }
  cr_assert_gt(proofs, 0, "the proof never ran");
}
