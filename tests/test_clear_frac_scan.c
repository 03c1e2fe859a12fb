/* test_clear_frac_scan.c — the branch-and-bound's candidate scan
 * (cl_lp_bb_frac; round 20, node20) asked for every offer at every node:
 * its answer is the plain scan's (test-side below, as clear_lp.c had it
 * before round 20): an offer the LP splits or orders below its minimum
 * (kind 1, its largest option), else an option between two hundredths
 * (kind 2), else 0 — its two short cuts (nothing above 1e-7 in the offer;
 * one option at exactly 1 and nothing above 1e-7 on the others) answer 0
 * only where the plain scan does, and the fractional offers come out the
 * same, option, side and distance to the bit. On the node LPs of small
 * markets, walked down the excluded and the ordered side (a short cut
 * that took an option at 0.99 for a full order fails it; the LPs here
 * leave no value between 1e-7 and 1e-3, so the first short cut's
 * threshold is held by the plain scan's code, not by a case). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

struct scan {
  int kind;
  size_t col;
  bool up;
  double dist;
};

/* The plain scan over the offer's values x (the LP's, per column). */
static struct scan plain(const struct fx_cm_node *n, size_t i, const double *x) {
  const struct cl_model *md = &n->md;
  size_t a = md->offer_col[i], b = md->offer_col[i + 1], best = a;
  int pos = 0;
  double sum = 0;
  for (size_t c = a; c < b; c++) {
    if (x[c] > 1e-7) pos++;
    if (x[c] > x[best]) best = c;
    sum += x[c] > 0.0 ? x[c] : 0.0;
  }
  double lo = md->col[best].min_af / 100.0;
  if (!(pos == 0 || (pos == 1 && x[best] >= lo - 1e-7)))
    return (struct scan){1, best, sum * 2 >= lo, sum >= lo ? 1.0 - x[best] / sum : fmin(sum, lo - sum) / lo};
  for (size_t c = a; c < b; c++) {
    double k = x[c] * 100.0, fl = floor(k + 1e-4), fr = k - fl;
    int k1 = n->kr[c].lo > md->col[c].min_af ? n->kr[c].lo : md->col[c].min_af, k2 = n->kr[c].hi;
    if (x[c] <= 1e-7 || fr <= 1e-4 || fr >= 1.0 - 1e-4 || fl < k1 || fl >= k2) continue;
    return (struct scan){2, c, fr >= 0.5, fmin(fr, 1.0 - fr) / 100.0};
  }
  return (struct scan){0, 0, false, 0};
}

/* Every offer of the node: the engine's scan against the plain one. */
static void same_scan(const struct fx_cm_node *n, int *kinds, const char *where) {
  double x[FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS];
  for (size_t c = 0; c < n->md.n_cols; c++) x[c] = cl_lp_bb_x(n->lp, c);
  for (size_t i = 0; i < n->md.n_offers; i++) {
    struct scan s = {0}, p = plain(n, i, x);
    s.kind = cl_lp_bb_frac(n->lp, i, &s.col, &s.up, &s.dist);
    cr_assert_eq(s.kind, p.kind, "%s offer %zu: kind %d, the plain scan's %d", where, i, s.kind, p.kind);
    kinds[s.kind]++;
    if (!s.kind) continue;
    cr_assert_eq(s.col, p.col, "%s offer %zu", where, i);
    cr_assert_eq(s.up, p.up, "%s offer %zu", where, i);
    cr_assert(memcmp(&s.dist, &p.dist, sizeof s.dist) == 0, "%s offer %zu: %.17g and %.17g", where, i, s.dist,
              p.dist);
  }
}

struct tally {
  int kinds[3], full;
};

static void scan_at(const struct fx_cm_node *n, void *arg, const char *where) {
  struct tally *t = arg;
  same_scan(n, t->kinds, where);
  for (size_t c = 0; c < n->md.n_cols; c++) t->full += cl_lp_bb_x(n->lp, c) == 1.0;
}

Test(clear_frac_scan, the_plain_scans_answer_on_node_lps) {
  struct tally t = {{0}, 0};
  int nodes = fx_cm_node_walk(scan_at, &t), *kinds = t.kinds, full = t.full;
  cr_log_info("%d nodes; offers: %d none, %d kind 1, %d kind 2; %d options ordered in full", nodes, kinds[0],
              kinds[1], kinds[2], full);
  cr_assert_gt(nodes, 300);
  cr_assert_gt(kinds[1], 100);
  cr_assert_gt(full, 1000, "the short cut for full orders is untested");
}
