/* test_clear_rinslate.c — the proof's node searches when it goes late and
 * when it stalls (round 19, ans19; proof_rins_late, proof_rins_stall;
 * rins_more in clear_bb.c). Run through cl_bb_run from merit order's
 * answer so that the searches can be counted: each rule adds searches
 * where it should (late: one, proof_rins_late_wait nodes after the
 * first node after proof_rins_node where the gap is within
 * proof_best_first_gap; stall: after
 * proof_rins_again, one whenever that many nodes passed since the last
 * improvement and the last search), none where proof_rins_node is 0 (the
 * sub-markets' and step 10's searches); every search's answer stays the
 * exhaustive search's optimum with a bound that holds. Small random
 * markets, fixed seeds, bounded counts. */
#include <criterion/criterion.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* Searches over fx_cm_gen's markets seeds 1..60 of 7-9 offers. */
struct runs {
  int markets, rins, improved, most; /* most: the most searches in one proof */
};

static struct runs sweep(const struct fx_clear_params *p, bool exhaustive) {
  struct runs s = {0};
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 4, seed % 5 == 0);
    struct fx_cm_bb r = fx_cm_bb_merit(&k.m, p);
    if (!r.ran) continue;
    if (exhaustive) fx_cm_check_bb_exhaustive(&k.m, &r, seed);
    cr_assert_leq(r.bo.rins_improved, r.bo.rins, "seed %llu", (unsigned long long)seed);
    s.markets++, s.rins += r.bo.rins, s.improved += r.bo.rins_improved;
    if (r.bo.rins > s.most) s.most = r.bo.rins;
  }
  return s;
}

/* The engine's search to a zero gap, its first node search at node 1 and
 * no second; late from the root on where late_gap is 1. */
static void params(struct fx_clear_params *p, bool rins_late, int stall, double late_gap) {
  fx_cm_bb_params(p);
  p->proof_rins_node = 1, p->proof_rins_again = 2;
  p->proof_best_first_gap = late_gap;
  p->proof_rins_late = rins_late, p->proof_rins_late_wait = 0, p->proof_rins_stall = stall;
}

/* The late search off by default (it lost on the held-out markets), its
 * wait 30 nodes when on; the stall's searches off (measured,
 * docs/clearing-rounds.md round 19). */
Test(clear_rinslate, defaults) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert(!d.proof_rins_late);
  cr_assert_eq(d.proof_rins_late_wait, 30);
  cr_assert_eq(d.proof_rins_stall, 0);
}

/* Late from the root on (a share of 1), no second scheduled search: one
 * more search, at the first node after node 1 that branches, on the
 * markets whose proof gets there; at most two in all, against one with
 * the rule off. The optimum and the bound stand. */
Test(clear_rinslate, one_more_search_when_the_proof_goes_late) {
  struct fx_clear_params on, off;
  params(&on, true, 0, 1.0);
  params(&off, false, 0, 1.0);
  on.proof_rins_again = off.proof_rins_again = 0; /* node 2 is late's alone */
  struct runs a = sweep(&off, false), b = sweep(&on, true);
  cr_log_info("searches %d -> %d (%d -> %d improved) on %d markets", a.rins, b.rins, a.improved,
              b.improved, b.markets);
  cr_assert_gt(b.markets, 40);
  cr_assert_leq(a.most, 1);
  cr_assert_leq(b.most, 2, "more than one search for going late");
  cr_assert_gt(b.rins, a.rins, "no search when the proof went late");
}

/* With a wait, the search comes that many nodes after the proof goes
 * late: never on a proof that ends sooner, so fewer searches than
 * without; one at most. */
Test(clear_rinslate, the_late_search_waits) {
  struct fx_clear_params now, later, off;
  params(&now, true, 0, 1.0);
  params(&later, true, 0, 1.0);
  params(&off, false, 0, 1.0);
  now.proof_rins_again = later.proof_rins_again = off.proof_rins_again = 0;
  later.proof_rins_late_wait = 4;
  int n_now = 0, n_later = 0, fired = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 4, seed % 5 == 0);
    struct fx_cm_bb a = fx_cm_bb_merit(&k.m, &now), b = fx_cm_bb_merit(&k.m, &later),
                    o = fx_cm_bb_merit(&k.m, &off);
    if (!a.ran) continue;
    /* late from node 2 on: the search waits until node 6 at the earliest */
    if (b.bo.nodes < 6)
      cr_assert_eq(b.bo.rins, o.bo.rins, "seed %llu: a search at %d nodes",
                   (unsigned long long)seed, b.bo.nodes);
    cr_assert_leq(b.bo.rins, o.bo.rins + 1, "seed %llu", (unsigned long long)seed);
    n_now += a.bo.rins, n_later += b.bo.rins, fired += b.bo.rins > o.bo.rins;
  }
  cr_log_info("searches %d at once, %d after the wait (%d proofs)", n_now, n_later, fired);
  cr_assert_lt(n_later, n_now, "the wait changed nothing");
  cr_assert_gt(fired, 0, "no search after the wait");
}

/* Never late (a share of 0): the rule never fires. */
Test(clear_rinslate, never_late_no_search) {
  struct fx_clear_params on, off;
  params(&on, true, 0, 0.0);
  params(&off, false, 0, 0.0);
  struct runs a = sweep(&off, false), b = sweep(&on, false);
  cr_assert_eq(a.rins, b.rins);
}

/* Stalled after one node (proof_rins_stall 1): a search at every node
 * after proof_rins_again that branches, so long proofs get more than the
 * two scheduled ones; the optimum and the bound stand. */
Test(clear_rinslate, searches_again_while_the_proof_stalls) {
  struct fx_clear_params on, off;
  params(&on, false, 1, 0.0);
  params(&off, false, 0, 0.0);
  struct runs a = sweep(&off, false), b = sweep(&on, true);
  cr_log_info("searches %d -> %d (%d -> %d improved), most in one proof %d -> %d", a.rins,
              b.rins, a.improved, b.improved, a.most, b.most);
  cr_assert_leq(a.most, 2);
  cr_assert_gt(b.most, 2, "no search beyond the scheduled two");
  cr_assert_gt(b.rins, a.rins);
}

/* Searches that are not step 12's proof (proof_rins_node 0: the
 * sub-markets', step 10's) get none from either rule. */
Test(clear_rinslate, other_searches_unchanged) {
  struct fx_clear_params on;
  params(&on, true, 1, 1.0);
  on.proof_rins_node = 0;
  struct runs b = sweep(&on, false);
  cr_assert_eq(b.rins, 0);
}

/* Both on, through fx_clear_solve on step 10's path and the proof's:
 * every rule, bounds that bound the exhaustive search, the same answer
 * twice. */
Test(clear_rinslate, clearing_with_both_matches_exhaustive_search) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.proof_rins_late = true, p.proof_rins_late_wait = 0, p.proof_rins_stall = 1;
  fx_cm_small_both_paths(&p);
}
