/* test_clear_frac_mask.c — cl_lp_bb_frac_next reads the columns above
 * 1e-7 as 64-bit masks (round 23, brm23) and answers an offer at 1 on its
 * first column above 1e-7 and at or below 1e-7 on the others from the mask
 * alone (no fraction) while the offer ends within the 64 columns: from
 * every starting offer (not only one past the last fractional offer, as
 * test_clear_fixscan.c asks), it finds the first offer at or after the
 * start that cl_lp_bb_frac, asked offer by offer, finds fractional, with
 * the same kind, column, side and distance, or none (n_offers, 0). On the
 * node LPs of markets of 100-120 offers (up to 240 columns: several
 * 64-column words, offers across a word's end; fx_cm_node_walk's markets
 * have fewer than 64), walked down the excluded and the ordered side as
 * fx_cm_node_walk walks. The tally asserts that the masks' cases are met: a start in a
 * later word, an offer across a word's end, the short cut for full
 * orders, and a start after the last fractional offer. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

struct tally {
  int starts, later_word, across, full_first, none_after;
};

static void every_start(const struct fx_cm_node *n, void *arg, const char *where) {
  struct tally *t = arg;
  const struct cl_model *md = &n->md;
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t a = md->offer_col[i], b = md->offer_col[i + 1];
    t->across += b > a && a / 64 != (b - 1) / 64;
    size_t c = a;
    while (c < b && cl_lp_bb_x(n->lp, c) <= 1e-7) c++;
    t->full_first += c < b && cl_lp_bb_x(n->lp, c) == 1.0;
  }
  for (size_t s = 0; s <= md->n_offers; s++) {
    /* the expected answer: cl_lp_bb_frac from s on */
    size_t want = md->n_offers, col = 0;
    bool up = false;
    double dist = 0;
    int kind = 0;
    for (size_t i = s; i < md->n_offers && !kind; i++)
      if ((kind = cl_lp_bb_frac(n->lp, i, &col, &up, &dist))) want = i;
    size_t at = s, ncol = 0;
    bool nup = false;
    double ndist = 0;
    int nk = cl_lp_bb_frac_next(n->lp, &at, &ncol, &nup, &ndist);
    t->starts++;
    t->later_word += s < md->n_offers && md->offer_col[s] >= 64;
    t->none_after += !kind;
    cr_assert_eq(at, want, "%s from offer %zu: offer %zu, cl_lp_bb_frac's %zu", where, s, at, want);
    cr_assert_eq(nk, kind, "%s from offer %zu", where, s);
    if (!kind) continue;
    cr_assert_eq(ncol, col, "%s from offer %zu", where, s);
    cr_assert_eq(nup, up, "%s from offer %zu", where, s);
    cr_assert(memcmp(&ndist, &dist, sizeof dist) == 0, "%s from offer %zu", where, s);
  }
}

/* fx_cm_node_walk on markets of 100-120 offers (seeds 1-24). */
static int wide_walk(struct tally *t) { return fx_cm_node_walk_sized(100, 24, every_start, t); }

/* Values no LP gives, put by hand into a node's solution: every column
 * from a few, each at 0, 1e-7 (not above it), 2e-7, 1 (a full order), 0.5,
 * 0.995 or NaN (above 1e-7 by the test: not <= 1e-7), so that offers at 1
 * with another column above 1e-7 (the short cut must not answer 0 there),
 * runs of zeros over whole 64-column words and offers across a word's end
 * are met; then every start against cl_lp_bb_frac. */
static void poked(const struct fx_cm_node *n, void *arg, const char *where) {
  static const double vals[] = {0.0, 0.0, 0.0, 0.0, 1e-7, 2e-7, 1.0, 1.0, 0.5, 0.995, NAN};
  struct tally *t = arg;
  struct fx_cm_rng r = {(uint64_t)t->starts + 7};
  size_t nc = n->md.n_cols;
  double keep[FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS];
  for (size_t c = 0; c < nc; c++) keep[c] = cl_lp_bb_x(n->lp, c);
  for (int round = 0; round < 8; round++) {
    int zeros = round < 4 ? 0 : (int)fx_cm_uni(&r, 0, (int64_t)nc); /* a run of zeros up to there */
    for (size_t c = 0; c < nc; c++) {
      double v = (int)c < zeros ? 0.0 : vals[fx_cm_uni(&r, 0, (int64_t)(sizeof vals / sizeof *vals) - 1)];
      cl_lp_bb_set_x(n->lp, c, v);
    }
    every_start(n, t, where);
  }
  for (size_t c = 0; c < nc; c++) cl_lp_bb_set_x(n->lp, c, keep[c]);
}

static int wide_walk_poked(struct tally *t) {
  int nodes = 0;
  for (uint64_t seed = 1; seed <= 24; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(100 + seed % 21), 4, seed % 4 == 0);
    struct fx_cm_node n;
    if (fx_cm_node_open(&n, &k.m)) {
      int64_t b;
      long piv = 0;
      if (cl_lp_bb_solve(n.lp, n.cov, &b, &piv) == 1) {
        char where[64];
        snprintf(where, sizeof where, "seed %llu poked", (unsigned long long)seed);
        poked(&n, t, where);
        nodes++;
      }
    }
    fx_cm_node_close(&n);
  }
  return nodes;
}

Test(clear_frac_mask, the_next_fractional_offer_on_values_put_by_hand) {
  struct tally t = {0};
  int nodes = wide_walk_poked(&t);
  cr_log_info("%d nodes, %d starts (%d in a later word, %d with none after); %d offers across a word's end, %d "
              "at 1 on their first column above 1e-7",
              nodes, t.starts, t.later_word, t.none_after, t.across, t.full_first);
  cr_assert_gt(nodes, 20);
  cr_assert_gt(t.later_word, 1000);
  cr_assert_gt(t.across, 10);
  cr_assert_gt(t.full_first, 1000);
  cr_assert_gt(t.none_after, 100);
}

Test(clear_frac_mask, the_next_fractional_offer_from_every_start) {
  struct tally t = {0};
  int nodes = wide_walk(&t);
  cr_log_info("%d nodes, %d starts (%d in a later word, %d with none after); %d offers across a word's end, %d "
              "at 1 on their first column above 1e-7",
              nodes, t.starts, t.later_word, t.none_after, t.across, t.full_first);
  cr_assert_gt(nodes, 200);
  cr_assert_gt(t.later_word, 1000, "no start beyond the first 64 columns");
  cr_assert_gt(t.across, 50, "no offer across a word's end");
  cr_assert_gt(t.full_first, 1000, "the short cut for full orders is untested");
  cr_assert_gt(t.none_after, 100, "no start after the last fractional offer");
}
