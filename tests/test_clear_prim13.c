/* test_clear_prim13.c — the neighbourhood search inside the proof (round
 * 13; proof_rins_node, cl_node_rins in clear_sub.c, called by clear_bb.c;
 * round 15: proof_rins_again, a second one): on the clearing suites' random markets
 * (tests/support/clear_markets.h), judged by the rules written there and
 * by the exhaustive search, the proof's answer keeps every rule, is never
 * worse than the answer the search started from, covers at least the
 * coverage it proves at, the same market gives the same answer twice, the
 * searches do find cheaper answers, and the proven bounds still hold —
 * the search prunes by the cheaper incumbent from then on, and what it
 * pruned before must still count. Fixed seeds, bounded counts. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"



/* The branch-and-bound on cost from merit order's answer (often far above
 * the least cost), with the gap as cutoff: the searches from its nodes
 * make the answer cheaper, never dearer than the start, and the bound
 * still holds at the coverage searched (fx_cm_bb_from asserts the answer
 * keeps that coverage); the same search twice gives the same result. */
Test(clear_prim13, node_searches_only_improve_and_the_bound_holds) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_gap = 0.02, p.bb_cutoff = 1.0;
  int improved = 0, runs = 0, n = 0;
  for (uint64_t seed = 1; seed <= 120; seed++) {
    p.proof_rins_node = 1 + (int)(seed % 3);
    p.proof_rins_again = p.proof_rins_node + 2; /* round 15: a second one too */
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 4), 2, seed % 7 == 0);
    struct fx_cm_bb r = fx_cm_bb_merit(&k.m, &p), again = fx_cm_bb_merit(&k.m, &p);
    if (!r.ran) continue;
    struct fx_cm_ex e = {.m = &k.m, .at_cov = r.cov};
    fx_cm_exhaustive(&e);
    cr_assert_leq(r.bo.bound, e.at_cost, "seed %llu: bound %lld above the optimum %lld",
                  (unsigned long long)seed, (long long)r.bo.bound, (long long)e.at_cost);
    cr_assert_geq(r.cost, e.at_cost, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(r.cost, fx_cm_merit_cost(&k.m), "seed %llu: dearer than the start",
                  (unsigned long long)seed);
    cr_assert_eq(r.cost, again.cost, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(r.bo.bound, again.bo.bound, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(r.bo.nodes, again.bo.nodes, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(r.bo.rins, again.bo.rins, "seed %llu", (unsigned long long)seed);
    cr_assert_leq(r.bo.rins, 2, "seed %llu: more than two searches", (unsigned long long)seed);
    improved += r.bo.rins_improved, runs += r.bo.rins, n++;
  }
  cr_log_info("%d node searches on %d markets, %d made the answer cheaper", runs, n, improved);
  cr_assert_gt(runs, 0, "no search ran");
  cr_assert_gt(improved, 0, "no search made an answer cheaper");
}

/* Once, at the node asked (when the search solves that many nodes);
 * never at 0, never on coverage (coverage_bb), nor inside the searches'
 * own branch-and-bound (which would recurse). */
Test(clear_prim13, one_search_at_the_node_asked) {
  int runs = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 2, false);
    for (int at = 0; at <= 3; at++) {
      struct fx_clear_params p;
      fx_cm_bb_params(&p);
      p.proof_rins_node = at;
      p.proof_rins_again = 0;
      struct fx_cm_bb r = fx_cm_bb_merit(&k.m, &p);
      if (!r.ran) continue;
      cr_assert_leq(r.bo.rins, 1, "seed %llu", (unsigned long long)seed);
      cr_assert_leq(r.bo.rins_improved, r.bo.rins);
      if (at == 0 || r.bo.nodes < at)
        cr_assert_eq(r.bo.rins, 0, "seed %llu: a search at node %d of %d",
                     (unsigned long long)seed, at, r.bo.nodes);
      runs += r.bo.rins;
    }
  }
  cr_assert_gt(runs, 0, "no search ran");
}

/* The second search (round 15, proof_rins_again; on by default, at node
 * 100): it runs only when the search solves that many nodes, and only
 * where the first is on — never with proof_rins_node 0 (the sub-markets'
 * and step 10's branch-and-bound set that), nor on coverage. */
Test(clear_prim13, a_second_search_at_the_node_asked) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_gt(d.proof_rins_again, d.proof_rins_node, "on by default, after the first");
  int twice = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 2, false);
    for (int first = 0; first <= 1; first++) {
      struct fx_clear_params p;
      fx_cm_bb_params(&p);
      p.proof_rins_node = first, p.proof_rins_again = 3;
      struct fx_cm_bb r = fx_cm_bb_merit(&k.m, &p);
      if (!r.ran) continue;
      /* at most: a node the incumbent prunes, or an integral one, runs none */
      int most = !first ? 0 : (r.bo.nodes >= 1) + (r.bo.nodes >= 3);
      cr_assert_leq(r.bo.rins, most, "seed %llu: %d searches in %d nodes (first at %d)",
                   (unsigned long long)seed, r.bo.rins, r.bo.nodes, first);
      twice += r.bo.rins == 2;
    }
  }
  cr_assert_gt(twice, 0, "no search ran twice");
}

/* The proof's own look-ahead width (round 15, proof_sb_cands; 24 by
 * default against bb_sb_cands' 16): through fx_clear_solve on the proof
 * path, one candidate against 24 changes the proof's search on some
 * markets (the field reaches it), and every answer keeps the rules. */
Test(clear_prim13, the_proof_looks_ahead_at_its_own_width) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_gt(d.proof_sb_cands, d.bb_sb_cands, "wider in the proof by default");
  int differ = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(8 + seed % 3), 2, false);
    struct fx_clear_result r[2];
    for (int w = 0; w < 2; w++) {
      struct fx_clear_params p;
      fx_cm_bb_params(&p);
      p.bb_max_offers = 0, p.proof_max_offers = 1000;
      p.proof_sb_cands = w ? 24 : 1;
      r[w] = fx_cm_solve_checked(&k.m, &p, seed, NULL);
    }
    differ += r[0].bb_pivots != r[1].bb_pivots || r[0].bb_nodes != r[1].bb_nodes;
    fx_clear_result_free(&r[0]), fx_clear_result_free(&r[1]);
  }
  cr_assert_gt(differ, 0, "proof_sb_cands never changed the proof");
}

/* Through fx_clear_solve: the proof on the reduced market (step 12,
 * moved down to markets of a few offers) with the search at its first node
 * keeps every rule and bounds that hold against the exhaustive search,
 * deterministically; the branch-and-bound of markets up to bb_max_offers
 * (step 10, the 100-offer default path) never runs them. */
Test(clear_prim13, the_proof_with_node_searches_matches_exhaustive_search) {
  int runs = 0;
  for (int proof = 0; proof < 2; proof++) {
    struct fx_clear_params p;
    fx_cm_bb_params(&p);
    p.proof_rins_node = 1;
    if (proof) p.bb_max_offers = 0, p.proof_max_offers = 1000;
    for (uint64_t seed = 1; seed <= 80; seed++) {
      struct fx_cm_market k;
      fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 2, seed % 6 == 0);
      struct fx_clear_result r = fx_cm_solve_checked(&k.m, &p, seed, NULL);
      cr_assert(!r.proof_rins_improved || r.proof_rins);
      if (!proof) cr_assert_eq(r.proof_rins, 0, "seed %llu: step 10 ran one", (unsigned long long)seed);
      runs += r.proof_rins;
      fx_clear_result_free(&r);
    }
  }
  cr_log_info("%d proofs ran the search", runs);
  cr_assert_gt(runs, 0, "the proof ran no search");
}
