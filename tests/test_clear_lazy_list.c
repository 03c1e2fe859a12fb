/* test_clear_lazy_list.c — the lazy mode's list of offers without their
 * row (round 23).
 *
 * With bb_lazy_rows the node LP starts without the one-option rows of the
 * offers the root leaves slack, and lazy_rows gives an offer its row back
 * when a node's solution splits it beyond one. It used to look at every
 * offer after every node solve; it now reads a list of the offers still
 * without their row, in offer order, and drops an offer from it when its
 * row comes back. Here, through node solves and look-aheads down random
 * paths (native simplex and GLPK), the list is after every solve exactly
 * the offers of two or more columns whose row is missing, in order
 * (cl_lp_lazy_list_check), and rows do come back. It fails with an offer left on the list after its row came back, an offer
 * dropped that still lacks its row, or the list out of order. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

static void path(const struct fx_clear_market *m, uint64_t seed, bool native, int *added, int *solves) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.bb_native_lp = native;
  p.bb_lazy_rows = true;
  struct cl_model md;
  cr_assert_eq(cl_model_init(&md, m), 0);
  if (!md.n_cols) {
    cl_model_free(&md);
    return;
  }
  struct cl_lp *lp = NULL;
  struct cl_state st;
  struct cl_lp_out out = {0};
  struct cl_krange *kr = malloc(md.n_cols * sizeof *kr);
  cr_assert(kr);
  for (size_t c = 0; c < md.n_cols; c++) kr[c] = (struct cl_krange){0, 100};
  cr_assert_eq(cl_lp_create(&lp, &md, &p, 0), 0);
  cr_assert_eq(cl_state_init(&st, &md), 0);
  cr_assert_eq(cl_merit(&st, &md), 0);
  cr_assert_eq(cl_lp_root(lp, &st, &out), 0);
  cr_assert_eq(cl_lp_cost_bound(lp, st.cov, &out), 0);
  cr_assert_eq(cl_lp_bb_begin(lp, kr, false), 0);
  cr_assert_eq(cl_lp_lazy_list_check(lp), 1, "seed %llu: the list at the start", (unsigned long long)seed);
  int rows0 = cl_lp_bb_rows(lp);
  struct fx_cm_rng r = {seed * 13 + 1};
  for (int node = 0; node < 12; node++) {
    int64_t bound = 0;
    long piv = 0;
    int rc = cl_lp_bb_solve(lp, st.cov, &bound, &piv);
    ++*solves;
    cr_assert_eq(cl_lp_lazy_list_check(lp), 1, "seed %llu node %d: the list", (unsigned long long)seed, node);
    if (rc < 0) break;
    for (int k = 0; k < 3; k++) { /* look-aheads add no row and leave the list */
      int64_t b = 0;
      size_t c = (size_t)fx_cm_uni(&r, 0, (int64_t)md.n_cols - 1);
      struct cl_krange keep = kr[c];
      kr[c].hi = 0;
      cl_lp_bb_set(lp, c, kr[c]);
      cr_assert_geq(cl_lp_bb_probe(lp, st.cov, 5, &b, &piv), 0);
      kr[c] = keep;
      cl_lp_bb_set(lp, c, kr[c]);
      cr_assert_eq(cl_lp_lazy_list_check(lp), 1);
    }
    /* down: one column out, or one ordered (its offer's others out) */
    size_t c = (size_t)fx_cm_uni(&r, 0, (int64_t)md.n_cols - 1), i = md.col[c].offer;
    if (kr[c].lo > 0 || kr[c].hi < md.col[c].min_af) continue;
    if (fx_cm_uni(&r, 0, 2)) {
      kr[c].hi = 0;
      cl_lp_bb_set(lp, c, kr[c]);
    } else {
      for (size_t j = md.offer_col[i]; j < md.offer_col[i + 1]; j++) {
        if (j == c) kr[j].lo = (uint8_t)md.col[j].min_af;
        else kr[j].hi = 0;
        cl_lp_bb_set(lp, j, kr[j]);
      }
    }
  }
  *added += cl_lp_bb_rows(lp) - rows0;
  cl_lp_bb_end(lp);
  cl_lp_free(lp);
  cl_state_free(&st);
  cl_model_free(&md);
  free(kr);
}

enum { NI = 24, NO = 60, NP = 3 };
static struct fx_clear_isp isps[NI];
static struct fx_clear_offer offers[NO];
static struct fx_clear_option opts[NO][NP];
static int64_t pw[NO][NP][NI];

/* Offers of up to three options over windows of a few ISPs each, most
 * ISPs requested with needs the offers cover only together: the LP splits
 * offers between their options. */
static struct fx_clear_market gen(struct fx_cm_rng *r) {
  size_t ni = (size_t)fx_cm_uni(r, 4, NI), no = (size_t)fx_cm_uni(r, 10, NO);
  for (size_t t = 0; t < ni; t++) {
    int64_t need = fx_cm_uni(r, 500, 5000);
    isps[t] = fx_cm_uni(r, 0, 4) ? (struct fx_clear_isp){FX_CLEAR_REQUESTED, need, need + fx_cm_uni(r, 0, 3000)}
                                 : (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -fx_cm_uni(r, 200, 3000), 0};
  }
  for (size_t i = 0; i < no; i++) {
    size_t n_opt = (size_t)fx_cm_uni(r, 1, NP);
    for (size_t j = 0; j < n_opt; j++) {
      size_t first = (size_t)fx_cm_uni(r, 0, (int64_t)ni - 1);
      size_t n = (size_t)fx_cm_uni(r, 1, (int64_t)(ni - first < 4 ? ni - first : 4));
      for (size_t t = 0; t < n; t++) pw[i][j][t] = fx_cm_uni(r, -100, 900);
      opts[i][j] = (struct fx_clear_option){fx_cm_uni(r, 100, 10000), (int)fx_cm_uni(r, 1, 60), first, n, pw[i][j]};
    }
    offers[i] = (struct fx_clear_offer){n_opt, opts[i]};
  }
  return (struct fx_clear_market){{ni, isps}, no, offers, NULL};
}

Test(clear_lazy_list, the_list_is_the_offers_without_their_row) {
  int added = 0, solves = 0;
  for (uint64_t seed = 1; seed <= 80; seed++) {
    struct fx_cm_rng r = {seed * 977 + 3};
    struct fx_clear_market m = gen(&r);
    path(&m, seed, seed % 2 == 0, &added, &solves);
  }
  cr_log_info("%d node solves, %d rows given back", solves, added);
  cr_assert_gt(added, 20, "too few rows came back to test the list");
}
