/* test_clear_cov_start.c — the coverage search's first node starts from
 * the root's maximum-coverage basis (round 23; docs/clearing-rounds.md).
 *
 * clear.c's coverage search (coverage_bb) maximises the coverage the root's
 * phase 1 maximised, over the same rows and columns; from the basis the
 * dives left, its first node LP took thousands of GLPK's pivots on a
 * 1,000-offer market. Here, on small markets after cl_lp_dive: the first
 * node from the kept basis gives the same coverage bound as the node from
 * the dives' basis, in almost no pivot (2 on 196 markets, against 1,854;
 * a lazy row given back can take one). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The coverage search's first node of market m: its bound and pivots. */
static bool first_node(const struct fx_clear_market *m, bool skip, int64_t *bound, long *piv, int *put) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  struct cl_model md;
  cr_assert_eq(cl_model_init(&md, m), 0);
  bool ran = md.n_cols > 0;
  if (ran) {
    struct cl_lp *lp = NULL;
    struct cl_state start = {0}, st = {0};
    struct cl_lp_out out = {0};
    struct cl_krange *kr = malloc(md.n_cols * sizeof *kr);
    cr_assert(kr);
    for (size_t c = 0; c < md.n_cols; c++) kr[c] = (struct cl_krange){0, 100};
    cr_assert_eq(cl_lp_create(&lp, &md, &p, 0), 0);
    cr_assert_eq(cl_state_init(&start, &md), 0);
    cr_assert_eq(cl_state_init(&st, &md), 0);
    cr_assert_eq(cl_merit(&start, &md), 0);
    cr_assert_eq(cl_prune(&start, &md), 0);
    cr_assert_eq(cl_lp_dive(lp, &st, &out, &start, p.coverage_tolerance), 0);
    cl_lp_cov_basis_skip(lp, skip);
    cr_assert_eq(cl_lp_bb_begin(lp, kr, true), 0);
    *piv = 0;
    ran = cl_lp_bb_solve(lp, out.target, bound, piv) == 1;
    *put = cl_lp_cov_basis_put(lp);
    cl_lp_bb_end(lp);
    cl_lp_free(lp);
    cl_state_free(&start), cl_state_free(&st);
    free(kr);
  }
  cl_model_free(&md);
  return ran;
}

Test(clear_cov_start, the_first_node_from_the_root_basis_takes_almost_no_pivot) {
  int kept = 0;
  long from_dives = 0, from_root = 0;
  int zero = 0;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + seed % 21), 4, seed % 4 == 0);
    int64_t b0, b1;
    long p0, p1;
    int put0, put1;
    bool r0 = first_node(&k.m, true, &b0, &p0, &put0);
    bool r1 = first_node(&k.m, false, &b1, &p1, &put1);
    if (!r0 || !r1) continue;
    cr_assert_eq(put0, 0, "seed %llu: put while skipped", (unsigned long long)seed);
    cr_assert_eq(put1, 1, "seed %llu: the root's basis not put", (unsigned long long)seed);
    cr_assert_eq(b1, b0, "seed %llu: bound %lld, from the dives' basis %lld", (unsigned long long)seed,
                 (long long)b1, (long long)b0);
    kept++, from_dives += p0, from_root += p1, zero += p1 == 0;
  }
  cr_log_info("%d markets: %ld pivots from the dives' basis, %ld from the root's (%d none)", kept,
              from_dives, from_root, zero);
  cr_assert_gt(kept, 150, "only %d markets", kept);
  cr_assert_gt(from_dives, 0, "the dives' basis never cost a pivot: the test shows nothing");
  cr_assert_lt(from_root * 10, from_dives, "%ld pivots from the root's basis, %ld from the dives'",
               from_root, from_dives);
  cr_assert_gt(zero * 10, kept * 9, "only %d of %d first nodes without a pivot", zero, kept);
}
