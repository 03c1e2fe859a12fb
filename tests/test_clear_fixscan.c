/* test_clear_fixscan.c — the branch-and-bound's per-node scans over every
 * offer, done cheaper (round 22, bb22) with the same answers:
 * - reduced-cost fixing's quick test (cl_lp_bb_reach, cl_reach_below)
 *   says a child's bound is below the cutoff u only where the exact
 *   child bound (cl_lp_bb_child) is below u, for u at, just around and
 *   far above the child's bound, ordered and excluded children (the
 *   excluded only of offers that order nothing, as clear_bb.c's fix asks
 *   them), and it settles most of the far ones (else it would be
 *   vacuous);
 * - the candidates' scan (cl_lp_bb_frac_next) finds exactly the offers
 *   cl_lp_bb_frac, asked offer by offer, finds fractional, with the same
 *   kind, column, side and distance, in order.
 * On the node LPs of small markets, walked down the excluded and the
 * ordered side (tests/support/clear_markets.c fx_cm_node_branch). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

struct tally {
  int asked, settled, far, far_settled;
};

/* Every allowed column of every offer that orders nothing, both ways, at
 * cutoffs around its child bound. */
static void same_fixing(const struct fx_cm_node *n, struct tally *t, const char *where) {
  const struct cl_model *md = &n->md;
  static const int64_t step[] = {-1000, -2, -1, 0, 1, 2, 3, 10, 1000, 100000, 10000000};
  for (size_t i = 0; i < md->n_offers; i++) {
    bool ordered = false;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) ordered |= n->kr[c].lo > 0;
    if (ordered) continue;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      int k1 = n->kr[c].lo > md->col[c].min_af ? n->kr[c].lo : md->col[c].min_af;
      if (n->kr[c].hi < k1) continue; /* not allowed: fix asks nothing */
      for (int on = 0; on < 2; on++) {
        int64_t ch = cl_lp_bb_child(n->lp, i, c, on);
        if (ch > INT64_MAX / 2 || ch < -INT64_MAX / 2) continue;
        for (size_t s = 0; s < sizeof step / sizeof *step; s++) {
          int64_t u = ch + step[s];
          struct cl_reach q;
          cl_lp_bb_reach(n->lp, u, &q);
          bool below = cl_reach_below(&q, i, c, on);
          t->asked++, t->settled += below;
          if (step[s] >= 1000) t->far++, t->far_settled += below;
          cr_assert(!below || ch < u, "%s offer %zu column %zu on %d: settled below u %lld, the child %lld",
                    where, i, c, on, (long long)u, (long long)ch);
        }
      }
    }
  }
}

/* The offers cl_lp_bb_frac_next walks to, against cl_lp_bb_frac's. */
static void same_candidates(const struct fx_cm_node *n, int *found, const char *where) {
  size_t next = 0;
  for (size_t i = 0; i < n->md.n_offers; i++) {
    size_t col = 0, ncol = 0;
    bool up = false, nup = false;
    double dist = 0, ndist = 0;
    int kind = cl_lp_bb_frac(n->lp, i, &col, &up, &dist);
    if (!kind) continue;
    size_t at = next;
    int nk = cl_lp_bb_frac_next(n->lp, &at, &ncol, &nup, &ndist);
    cr_assert_eq(at, i, "%s: next fractional offer %zu, cl_lp_bb_frac's %zu", where, at, i);
    cr_assert_eq(nk, kind, "%s offer %zu", where, i);
    cr_assert_eq(ncol, col, "%s offer %zu", where, i);
    cr_assert_eq(nup, up, "%s offer %zu", where, i);
    cr_assert(memcmp(&ndist, &dist, sizeof dist) == 0, "%s offer %zu", where, i);
    next = i + 1;
    (*found)++;
  }
  size_t at = next, col;
  bool up;
  double dist;
  cr_assert_eq(cl_lp_bb_frac_next(n->lp, &at, &col, &up, &dist), 0, "%s: one past the last", where);
  cr_assert_eq(at, n->md.n_offers, "%s", where);
}

static void fixing_at(const struct fx_cm_node *n, void *arg, const char *where) { same_fixing(n, arg, where); }
static void candidates_at(const struct fx_cm_node *n, void *arg, const char *where) {
  same_candidates(n, arg, where);
}

Test(clear_fixscan, the_quick_test_settles_only_children_below_the_cutoff) {
  struct tally t = {0};
  int nodes = fx_cm_node_walk(fixing_at, &t);
  cr_log_info("%d nodes; %d asked, %d settled; far above: %d, %d settled", nodes, t.asked, t.settled, t.far,
              t.far_settled);
  cr_assert_gt(nodes, 300);
  cr_assert_gt(t.far_settled, t.far / 2, "the quick test settles too little to matter");
}

Test(clear_fixscan, the_next_fractional_offer_is_cl_lp_bb_fracs) {
  int found = 0;
  int nodes = fx_cm_node_walk(candidates_at, &found);
  cr_log_info("%d nodes, %d fractional offers", nodes, found);
  cr_assert_gt(nodes, 300);
  cr_assert_gt(found, 300);
}
