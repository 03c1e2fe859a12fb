/* test_clear_basis_back.c — a basis put back (cl_dsx_basis_set, a jump
 * in the branch-and-bound; round 21, warm21) in fewer instructions, the
 * same bits. Its short cuts: statuses compares eight variables at a
 * time and keeps mv and pos per changed variable (not rebuilt); head is
 * built from the basic bytes; dual_feasible walks mv's bits and skips
 * the variables place() would leave as they are; slots() finds the
 * basic columns eight at a time and resets only the slots it set; and
 * refactor() takes K's inverse from the one the last jump computed when
 * K is the same (a node's two children popped one after the other).
 * Each leans on an invariant the plain code rebuilt every time: mv is
 * the moving variables', a nonbasic variable's pos is -1, a parked
 * column is fixed, slot is -1 off K, and the same K gives Gauss-Jordan
 * the same steps. Copy a puts bases back the plain way
 * (cl_dsx_set_plain), copy b with the short cuts: after every basis put
 * back and every solve their whole states must be the same bits
 * (cl_dsx_same_state: statuses, values, reduced costs, duals, the
 * inverse, its slots and pairs, the rows' parked ends, the log) and
 * every pivot the same. On the offer LPs of tests/support/dsx_offers.c
 * with rows appended since a basis was kept, bases refused (singular or
 * not dual feasible: the one before is put back), and jumps back to the
 * basis the last jump put back. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "tests/support/clear_markets.h"
#include "tests/support/dsx_offers.h"

#define SAVES 8

struct saved {
  signed char *st;
  int len;
  double lo[FX_DO_MAX_COL + 2], hi[FX_DO_MAX_COL + 2];
};

/* P's column bounds and b's basis, as a node that branched keeps them. */
static void keep(glp_prob *P, struct cl_dsx *b, struct saved *s) {
  s->len = cl_dsx_basis_len(b);
  s->st = realloc(s->st, (size_t)s->len);
  cr_assert(s->st);
  cl_dsx_basis_get(b, s->st);
  for (int j = 1; j <= glp_get_num_cols(P); j++) {
    s->lo[j] = glp_get_col_lb(P, j);
    s->hi[j] = glp_get_col_type(P, j) == GLP_FX ? s->lo[j] : glp_get_col_ub(P, j);
  }
}

/* A jump to saved node s on both copies: its bounds (a few columns fixed
 * first, as a jump's apply() may set a column twice), then its basis, now
 * and then with basic and nonbasic variables swapped (refused, mostly:
 * the one before is put back). Both put-backs must answer alike and
 * leave the same bits. */
static void jump(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, const struct saved *s, struct fx_cm_rng *r,
                 int *back, const char *where) {
  int n = glp_get_num_cols(P);
  for (int k = 0; k < 3; k++) {
    int j = (int)fx_cm_uni(r, 1, n);
    cl_dsx_set_col(a, j, 0.0, 0.0), cl_dsx_set_col(b, j, 0.0, 0.0);
  }
  for (int j = 1; j <= n; j++) {
    glp_set_col_bnds(P, j, s->lo[j] == s->hi[j] ? GLP_FX : GLP_DB, s->lo[j], s->hi[j]);
    cl_dsx_set_col(a, j, s->lo[j], s->hi[j]), cl_dsx_set_col(b, j, s->lo[j], s->hi[j]);
  }
  int len = cl_dsx_basis_len(a);
  signed char *old = malloc((size_t)len), *st = malloc((size_t)s->len);
  cr_assert(old && st);
  memcpy(st, s->st, (size_t)s->len);
  for (int k = fx_cm_uni(r, 0, 3) ? 0 : (int)fx_cm_uni(r, 1, 4); k > 0; k--) {
    int u = (int)fx_cm_uni(r, 0, s->len - 1), w = (int)fx_cm_uni(r, 0, s->len - 1);
    if (st[u] != st[w]) st[u] = !st[u], st[w] = !st[w];
  }
  int ra = cl_dsx_basis_set(a, st, s->len, old), rb = cl_dsx_basis_set(b, st, s->len, old);
  free(old), free(st);
  cr_assert_eq(ra, rb, "%s: basis put back %d and %d", where, ra, rb);
  cr_assert_neq(ra, CL_DSX_FAIL, "%s", where);
  *back += ra == CL_DSX_ITLIM;
  cr_assert(cl_dsx_same_state(a, b), "%s: the basis put back leaves other bits", where);
}

Test(clear_basis_back, short_cuts_leave_the_plain_bits) {
  long pa = 0, pb = 0, hits = 0;
  int jumps = 0, again = 0, back = 0, appended = 0;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    struct fx_do_offers o;
    glp_prob *P = fx_do_offer_lp(seed + 7000, &o);
    struct cl_dsx *a = NULL, *b = NULL;
    cr_assert_eq(cl_dsx_create(&a, P), 0);
    cr_assert_eq(cl_dsx_create(&b, P), 0);
    cl_dsx_set_plain(a, true);
    cr_assert(cl_dsx_same_state(a, b), "seed %llu: created apart", (unsigned long long)seed);
    struct saved sv[SAVES] = {{0}};
    int n_sv = 0, last = -1, rows0 = cl_dsx_rows(b);
    struct fx_cm_rng r = {seed * 104729};
    for (int step = 0; step < 120; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      if (n_sv && fx_cm_uni(&r, 0, 2) == 0) {
        /* a third of the jumps go back to the last one's basis: refactor's kept K */
        bool twice = last >= 0 && fx_cm_uni(&r, 0, 2) == 0;
        int t = twice ? last : (int)fx_cm_uni(&r, 0, n_sv - 1);
        jump(P, a, b, &sv[t], &r, &back, where);
        jumps++, again += twice, last = t;
      }
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where); /* two branchings, both solved alike */
      cr_assert(cl_dsx_same_state(a, b), "%s: solved to other bits", where);
      if (fx_cm_uni(&r, 0, 2) == 0) {
        int t = n_sv < SAVES ? n_sv++ : (int)fx_cm_uni(&r, 0, SAVES - 1);
        keep(P, b, &sv[t]);
        if (t == last) last = -1;
      }
    }
    appended += cl_dsx_rows(b) - rows0;
    cr_assert_eq(cl_dsx_fact_hits(a), 0, "the plain copy keeps no factorisation");
    hits += cl_dsx_fact_hits(b);
    for (int k = 0; k < SAVES; k++) free(sv[k].st);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_assert_eq(pa, pb, "pivots %ld and %ld", pa, pb);
  cr_log_info("%d jumps (%d back to the last one's basis, %d refused), %ld factorisations kept and taken, "
              "%d rows appended, %ld pivots",
              jumps, again, back, hits, appended, pa);
  cr_assert_gt(hits, 500, "too few kept factorisations taken");
  cr_assert_gt(back, 100, "too few bases refused");
  cr_assert_gt(appended, 300, "too few rows appended since a basis was kept");
}
