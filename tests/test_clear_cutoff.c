/* test_clear_cutoff.c — pruning by a share of the gap (bb_cutoff, round
 * 12; cl_bb_cutoff, clear_bb.c): the proving branch-and-bound treats a
 * node, a look-ahead child or an option as no better once its bound is
 * within bb_cutoff·bb_gap of the incumbent, and the proof's reduced market
 * is cut by that value. What it pruned may hold cheaper choices than the
 * answer, so the proven bound must come from the least value it pruned
 * by, not from the answer: checked against the exhaustive search on small
 * markets with a gap wide enough (3 %) that the cutoff prunes there. */
#include <criterion/criterion.h>
#include <math.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

#define GAP 0.03

/* The step-10 branch-and-bound of the whole market (proof false) or the
 * proof on a reduced market of step 12 (true), with the wide gap. */
static struct fx_clear_params params(bool proof, double cutoff) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_gap = GAP;
  p.bb_cutoff = cutoff;
  if (proof) p.bb_max_offers = 0, p.proof_max_offers = 1000;
  return p;
}

/* Bounds that bound and the same answer twice, on both paths, at both
 * cutoffs; and the cutoff must have pruned: fewer nodes in all than
 * without it. (On markets this small the proven gap need not close
 * within bb_gap: the rounding of watts and the gap's floor of one
 * currency unit dominate it.) */
Test(clear_cutoff, bounds_hold_where_the_cutoff_prunes) {
  for (int proof = 0; proof < 2; proof++) {
    long nodes[3] = {0};
    const double share[3] = {0.0, 0.5, 1.0};
    for (int s = 0; s < 3; s++) {
      struct fx_clear_params p = params(proof, share[s]);
      for (uint64_t seed = 1; seed <= 80; seed++) {
        struct fx_cm_market k;
        fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 2, seed % 6 == 0);
        struct fx_clear_result r = fx_cm_solve_checked(&k.m, &p, seed, NULL);
        nodes[s] += r.bb_nodes;
        fx_clear_result_free(&r);
      }
    }
    cr_log_info("%s: nodes without the cutoff %ld, at half the gap %ld, at the whole %ld",
                proof ? "proof" : "branch-and-bound", nodes[0], nodes[1], nodes[2]);
    cr_assert_lt(nodes[2], nodes[0], "the cutoff pruned nothing");
    cr_assert_leq(nodes[2], nodes[1]);
  }
}

/* The search itself, from merit order's answer (often well above the
 * least cost) with the widest gap (10 %) and the whole of it as the
 * cutoff: nodes and options holding cheaper choices than the answer are
 * pruned, and the bound must still hold at the coverage searched; without
 * the cutoff the search ends at the least cost. */
Test(clear_cutoff, the_search_bound_holds_from_a_poor_answer) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_gap = 0.1, p.bb_cutoff = 1.0;
  int above = 0, n = 0;
  for (uint64_t seed = 1; seed <= 120; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 4), 2, seed % 7 == 0);
    struct fx_cm_bb r = fx_cm_bb_merit(&k.m, &p);
    if (!r.ran) continue;
    struct fx_cm_ex e = {.m = &k.m, .at_cov = r.cov};
    fx_cm_exhaustive(&e);
    cr_assert_leq(r.bo.bound, e.at_cost, "seed %llu: bound %lld above the optimum %lld",
                  (unsigned long long)seed, (long long)r.bo.bound, (long long)e.at_cost);
    cr_assert_geq(r.cost, e.at_cost);
    above += r.cost > e.at_cost, n++;
  }
  cr_log_info("the answer is above the least cost on %d of %d markets", above, n);
  cr_assert_gt(above, 0, "the cutoff never stopped the search short of the least cost");
}

/* The value itself: the least v with u − v <= g·max(|v|, the floor), as
 * the gaps are measured, so a proof that reaches v closes a gap of g; u
 * where there is nothing to cut; never above u, and monotone in u (what
 * was pruned at an earlier, larger incumbent stays above later values). */
Test(clear_cutoff, the_value_is_the_least_that_keeps_the_share) {
  const double floor_ = FX_CLEAR_GAP_FLOOR_PRICE;
  cr_assert_eq(cl_bb_cutoff(123456789, 0.0), 123456789);
  cr_assert_eq(cl_bb_cutoff(-5000, 0.001), -5000);
  int64_t prev = INT64_MIN;
  for (int64_t u = 1; u < 4000000000LL; u = u * 3 / 2 + 7) {
    for (int q = 0; q < 3; q++) {
      double g = q == 0 ? 0.0005 : q == 1 ? 0.001 : 0.03;
      int64_t v = cl_bb_cutoff(u, g);
      cr_assert_leq(v, u);
      cr_assert_leq((double)(u - v), g * fmax(fabs((double)v), floor_), "u %lld g %g",
                    (long long)u, g);
      if (v > 0)
        cr_assert_gt((double)(u - (v - 1)), g * fmax(fabs((double)(v - 1)), floor_),
                     "u %lld g %g: %lld is not the least", (long long)u, g, (long long)v);
      if (q == 1) {
        cr_assert_geq(v, prev, "not monotone at %lld", (long long)u);
        cr_assert_geq(cl_bb_cutoff(u + 1, g), v);
        prev = v;
      }
    }
  }
}
