/* test_clear_dsx_gub.c — the node simplex's pairs (clear_dsx.c: an offer's
 * "Σ x <= 1" row, tight with one basic column, kept out of K's inverse and
 * solved by a division) on small offer LPs built here, against GLPK: offers
 * with one to three options, ordered in full and split, their rows at the
 * copy or appended later (the lazy mode's), some scaled; options excluded,
 * ordered (the others of the offer excluded) and released, so that keys
 * change, pairs form and break up, and the inverse is rebuilt in the
 * middle of a sequence (every 200 pivots). Each optimum is checked twice:
 * the objective against GLPK's, and the duals the copy reports (as
 * glp_get_row_dual would) as an optimality certificate of its primal
 * values — signs, complementary slackness, reduced costs — which a wrong
 * dual on a paired row breaks whatever the objective. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

static void set_col(glp_prob *P, struct cl_dsx *d, int j, double lo, double hi) {
  glp_set_col_bnds(P, j, lo == hi ? GLP_FX : GLP_DB, lo, hi);
  cl_dsx_set_col(d, j, lo, hi);
}

/* One branching step: an option excluded, an offer ordered on one option
 * (at least a half or in full, its others excluded), an offer released,
 * or a lazy offer's row appended (violated or not). */
static void branch(glp_prob *P, struct cl_dsx *d, struct fx_do_offers *o, struct fx_cm_rng *r) {
  int f = (int)fx_cm_uni(r, 0, o->n_off - 1), a = o->first[f], b = o->first[f + 1];
  int what = (int)fx_cm_uni(r, 0, 4), c = (int)fx_cm_uni(r, a, b - 1);
  if (what == 0) {
    set_col(P, d, c, 0.0, 0.0);
  } else if (what == 1) {
    for (int j = a; j < b; j++) set_col(P, d, j, j == c ? (fx_cm_uni(r, 0, 1) ? 1.0 : 0.5) : 0.0, j == c ? 1.0 : 0.0);
  } else if (what == 2 || !o->lazy[f] || o->row[f]) {
    for (int j = a; j < b; j++) set_col(P, d, j, 0.0, 1.0);
  } else {
    int ind[4], len = 0;
    double val[4];
    for (int j = a; j < b; j++) ++len, ind[len] = j, val[len] = 1.0;
    o->row[f] = fx_do_offer_row(P, o, f, true);
    cr_assert_eq(cl_dsx_add_row(d, len, ind, val, 1.0), 0);
  }
}

/* Random branchings on offer LPs: every optimum GLPK's, its duals a
 * certificate; pairs present (most of K at the start), changing in number
 * and rebuilt from scratch along the way. */
Test(clear_dsx_gub, branchings_match_glpk_with_certified_duals) {
  long piv = 0;
  int solved = 0, with_pairs = 0, changed = 0, max_pairs = 0, rebuilt = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed, &o);
    struct cl_dsx *d = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0, "seed %llu", (unsigned long long)seed);
    struct fx_cm_rng r = {seed * 7919};
    int last = -1;
    long piv0 = piv;
    for (int step = 0; step < 150; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      for (int b = 0; b < 3; b++) branch(P, d, &o, &r);
      if (fx_cm_uni(&r, 0, 7) == 0) /* back to the box */
        for (int j = 1; j <= o.n_col; j++) set_col(P, d, j, 0.0, 1.0);
      int rc = cl_dsx_solve(d, INT32_MAX, step % 4 == 3, &piv);
      cr_assert_eq(rc, CL_DSX_OPT, "%s: rc %d", where, rc);
      double g = fx_do_glpk_obj(P), x = cl_dsx_obj(d);
      cr_assert(fabs(x - g) <= 1e-7 * fmax(1.0, fabs(g)), "%s: %.12g, GLPK %.12g", where, x, g);
      fx_do_certify(P, d, where);
      int k, np;
      cl_dsx_shape(d, &k, &np);
      solved++, with_pairs += np > 0, changed += last >= 0 && np != last, last = np;
      max_pairs = np > max_pairs ? np : max_pairs;
    }
    rebuilt += piv - piv0 > 200; /* the inverse is rebuilt every 200 pivots */
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_log_info("%d LPs, %d with pairs (at most %d), pairs changed %d times, %ld pivots, %d copies rebuilt", solved,
              with_pairs, max_pairs, changed, piv, rebuilt);
  cr_assert_gt(with_pairs, solved / 3, "pairs too rare to be tested");
  cr_assert_gt(max_pairs, 5, "never more than a few pairs");
  cr_assert_gt(changed, 300, "pairs barely change: keys and break-ups untested");
  cr_assert_gt(rebuilt, 5, "too few copies whose inverse was rebuilt mid-sequence");
}

/* Save, branch and solve, restore: the same optimum and duals as before
 * the branch, pairs included (the look-ahead's use), and the copy goes on
 * solving correctly from the restored pairs. */
Test(clear_dsx_gub, restore_brings_back_pairs) {
  int restored = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed + 100, &o);
    for (int f = 0; f < o.n_off; f++) o.lazy[f] = false; /* rows appended would void the snapshot */
    struct cl_dsx *d = NULL;
    struct cl_dsx_snap *s = NULL;
    cr_assert_eq(cl_dsx_create(&d, P), 0);
    struct fx_cm_rng r = {seed * 131};
    long piv = 0;
    for (int step = 0; step < 20; step++) {
      cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_OPT);
      int m = cl_dsx_rows(d), k0, np0;
      double obj = cl_dsx_obj(d), y[64];
      cr_assert_leq(m, 64);
      for (int i = 1; i <= m; i++) y[i - 1] = cl_dsx_row_dual(d, i);
      cl_dsx_shape(d, &k0, &np0);
      cr_assert_eq(cl_dsx_save(d, &s), 0);
      /* a look-ahead: an option excluded, solved, put back */
      int c = (int)fx_cm_uni(&r, 1, o.n_col);
      double lo = glp_get_col_lb(P, c), hi = glp_get_col_ub(P, c);
      cl_dsx_set_col(d, c, 0.0, 0.0);
      cr_assert_neq(cl_dsx_solve(d, INT32_MAX, true, &piv), CL_DSX_FAIL);
      cl_dsx_set_col(d, c, lo, hi);
      cl_dsx_restore(d, s);
      int k1, np1;
      cl_dsx_shape(d, &k1, &np1);
      cr_assert_eq(k1, k0);
      cr_assert_eq(np1, np0);
      cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_OPT);
      cr_assert(fabs(cl_dsx_obj(d) - obj) <= 1e-9 * fmax(1.0, fabs(obj)));
      for (int i = 1; i <= m; i++) cr_assert(fabs(cl_dsx_row_dual(d, i) - y[i - 1]) <= 1e-9 * (1 + fabs(y[i - 1])));
      restored += np0 > 0;
      branch(P, d, &o, &r);
      cr_assert_eq(cl_dsx_solve(d, INT32_MAX, false, &piv), CL_DSX_OPT);
      double g = fx_do_glpk_obj(P);
      cr_assert(fabs(cl_dsx_obj(d) - g) <= 1e-7 * fmax(1.0, fabs(g)));
      fx_do_certify(P, d, "after restore");
    }
    cl_dsx_snap_free(s);
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_assert_gt(restored, 100, "too few snapshots with pairs in them");
}
