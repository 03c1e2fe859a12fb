/* test_clear_probe_spare.c — a look-ahead writes its solution and duals to
 * spare arrays (round 23), against the copies there and back it made
 * before, bit for bit.
 *
 * cl_lp_bb_probe used to copy the node's solution x and duals lam away,
 * solve the child in place and copy them back; it now points x and lam at
 * the spare arrays for the look-ahead and back after it. That is the same
 * only if the look-ahead reads nothing of x and lam it has not written
 * first (the spare holds the last look-ahead's values, not the node's).
 * Two LPs of each market run side by side, one each way
 * (cl_lp_probe_copy), through node solves and every child's look-ahead
 * (one pivot, and to the optimum), on the native simplex and on GLPK, with
 * lazy rows and without: every look-ahead's result, bound and pivots are
 * the same, and after each both nodes' solutions and duals are the ones
 * the node's solve left, to the bit. It fails with the node's duals or
 * solution left to the look-ahead's, or with a dual the look-ahead reads
 * before writing it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

struct side {
  struct cl_model md;
  struct cl_lp *lp;
  struct cl_state st;
  struct cl_krange *kr;
};

static void side_open(struct side *s, const struct fx_clear_market *m, const struct fx_clear_params *p,
                      bool copy) {
  cr_assert_eq(cl_model_init(&s->md, m), 0);
  s->kr = malloc((s->md.n_cols + 1) * sizeof *s->kr);
  cr_assert(s->kr);
  for (size_t c = 0; c < s->md.n_cols; c++) s->kr[c] = (struct cl_krange){0, 100};
  struct cl_lp_out out = {0};
  cr_assert_eq(cl_lp_create(&s->lp, &s->md, p, 0), 0);
  cl_lp_probe_copy(s->lp, copy);
  cr_assert_eq(cl_state_init(&s->st, &s->md), 0);
  cr_assert_eq(cl_merit(&s->st, &s->md), 0);
  cr_assert_eq(cl_lp_root(s->lp, &s->st, &out), 0);
  cr_assert_eq(cl_lp_cost_bound(s->lp, s->st.cov, &out), 0);
  cr_assert_eq(cl_lp_bb_begin(s->lp, s->kr, false), 0);
}

static void side_close(struct side *s) {
  cl_lp_bb_end(s->lp);
  cl_lp_free(s->lp);
  cl_state_free(&s->st);
  cl_model_free(&s->md);
  free(s->kr);
}

/* Offer of column c without it (dir 0), ordering it (dir 1), or back. */
static void child(struct side *s, size_t c, int dir, bool undo) {
  size_t i = s->md.col[c].offer;
  for (size_t j = s->md.offer_col[i]; j < s->md.offer_col[i + 1]; j++) {
    s->kr[j] = (struct cl_krange){0, 100};
    if (!undo && (j == c) == (dir == 0)) s->kr[j].hi = 0;
    if (!undo && j == c && dir == 1) s->kr[j].lo = (uint8_t)s->md.col[c].min_af;
    cl_lp_bb_set(s->lp, j, s->kr[j]);
  }
}

static bool same_d(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* The node's solution and duals, now and as snap holds them. */
static void same_node(const struct side *s, const double *x, const double *lam, int nr,
                      const char *what, uint64_t seed, size_t c) {
  for (size_t j = 0; j < s->md.n_cols; j++)
    cr_assert(same_d(cl_lp_bb_x(s->lp, j), x[j]), "seed %llu, %s, column %zu: x[%zu] %.17g, was %.17g",
              (unsigned long long)seed, what, c, j, cl_lp_bb_x(s->lp, j), x[j]);
  for (int r = 1; r <= nr; r++)
    cr_assert(same_d(cl_lp_bb_dual(s->lp, r), lam[r]), "seed %llu, %s, column %zu: row %d's dual %.17g, was %.17g",
              (unsigned long long)seed, what, c, r, cl_lp_bb_dual(s->lp, r), lam[r]);
}

static void snap(const struct side *s, double *x, double *lam, int *nr) {
  for (size_t j = 0; j < s->md.n_cols; j++) x[j] = cl_lp_bb_x(s->lp, j);
  *nr = cl_lp_bb_rows(s->lp);
  for (int r = 1; r <= *nr; r++) lam[r] = cl_lp_bb_dual(s->lp, r);
}

static void run(const struct fx_clear_market *m, uint64_t seed, bool native, bool lazy, int *probes) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.bb_native_lp = native;
  p.bb_lazy_rows = lazy;
  struct side a = {0}, b = {0}; /* a: spare arrays; b: copies */
  cr_assert_eq(cl_model_init(&a.md, m), 0);
  bool any = a.md.n_cols > 0;
  cl_model_free(&a.md);
  if (!any) return;
  side_open(&a, m, &p, false);
  side_open(&b, m, &p, true);
  size_t nc = a.md.n_cols;
  double *x = malloc(nc * sizeof *x), *lam = NULL;
  cr_assert(x);
  struct fx_cm_rng rng = {seed * 101 + 5};
  for (int node = 0; node < 3; node++) {
    int64_t ba = 0, bb = 0;
    long pa = 0, pb = 0;
    int ra = cl_lp_bb_solve(a.lp, a.st.cov, &ba, &pa), rb = cl_lp_bb_solve(b.lp, b.st.cov, &bb, &pb);
    cr_assert(ra == rb && ba == bb && pa == pb, "seed %llu node %d: the node solves differ", (unsigned long long)seed, node);
    if (ra < 0) break;
    int nr = cl_lp_bb_rows(a.lp);
    cr_assert_eq(nr, cl_lp_bb_rows(b.lp));
    lam = realloc(lam, ((size_t)nr + 1) * sizeof *lam);
    cr_assert(lam);
    snap(&a, x, lam, &nr);
    same_node(&b, x, lam, nr, "the node", seed, 0);
    for (size_t c = 0; c < nc; c++) {
      if (a.kr[c].hi < a.md.col[c].min_af || a.kr[c].lo > 0) continue; /* not open at this node */
      for (int dir = 0; dir < 2; dir++)
        for (int lim = 1; lim <= 1000; lim *= 1000) {
          int64_t qa = 0, qb = 0;
          long va = 0, vb = 0;
          child(&a, c, dir, false), child(&b, c, dir, false);
          int oa = cl_lp_bb_probe(a.lp, a.st.cov, lim, &qa, &va);
          int ob = cl_lp_bb_probe(b.lp, b.st.cov, lim, &qb, &vb);
          child(&a, c, dir, true), child(&b, c, dir, true);
          cr_assert(oa == ob && (oa < 0 || qa == qb) && va == vb,
                    "seed %llu column %zu dir %d limit %d: %d %lld %ld against the copies' %d %lld %ld",
                    (unsigned long long)seed, c, dir, lim, oa, (long long)qa, va, ob, (long long)qb, vb);
          same_node(&a, x, lam, nr, "after a look-ahead (spare)", seed, c);
          same_node(&b, x, lam, nr, "after a look-ahead (copies)", seed, c);
          ++*probes;
        }
    }
    /* the next node: a child of this one, both sides alike */
    size_t c = (size_t)fx_cm_uni(&rng, 0, (int64_t)nc - 1);
    int dir = (int)fx_cm_uni(&rng, 0, 1);
    if (a.kr[c].lo > 0 || a.kr[c].hi < a.md.col[c].min_af) break;
    child(&a, c, dir, false), child(&b, c, dir, false);
  }
  free(x), free(lam);
  side_close(&a);
  side_close(&b);
}

Test(clear_probe_spare, look_aheads_on_spare_arrays_are_the_copies_bit_for_bit) {
  int probes = 0;
  for (uint64_t seed = 1; seed <= 48; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 40), (int)(seed % 30), seed % 4 == 0);
    run(&k.m, seed, seed % 2 == 0, seed % 3 == 0, &probes);
  }
  cr_log_info("%d look-aheads", probes);
  cr_assert_gt(probes, 1000);
}
