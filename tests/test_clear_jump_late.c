/* test_clear_jump_late.c — a jump's bounds taken in by the basis put back
 * (round 20, node20). cl_dsx_set_col queues column bounds and the next
 * call that reads or moves the node simplex takes them in, in order, as
 * one at a time; cl_dsx_basis_set (a jump: the parent's basis put back)
 * takes them in without catching up the reduced costs of the parked
 * columns it frees, since its pricing makes every reduced cost fresh.
 * What it would have lost is a tie: where a freed column's fresh reduced
 * cost ties, place() keeps the status the column got when freed, from
 * its caught-up reduced cost, and that the basis put back recovers from
 * the log it keeps (late_status). Copy a takes every bound in before the
 * basis is put back (a read does), copy b lets cl_dsx_basis_set take
 * them in: both must come out bit for bit the same, and pivot the same
 * after. On the offer LPs of tests/support/dsx_offers.c, with options
 * duplicated across offers so that reduced costs tie. */
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
  double lo[FX_DO_MAX_COL + 1], hi[FX_DO_MAX_COL + 1];
};

/* P's column bounds and a's basis, as a node that branched keeps them. */
static void keep(glp_prob *P, struct cl_dsx *a, const struct fx_do_offers *o, struct saved *s) {
  s->len = cl_dsx_basis_len(a);
  s->st = realloc(s->st, (size_t)s->len);
  cr_assert(s->st);
  cl_dsx_basis_get(a, s->st);
  for (int j = 1; j <= o->n_col; j++) {
    s->lo[j] = glp_get_col_lb(P, j);
    s->hi[j] = glp_get_col_type(P, j) == GLP_FX ? s->lo[j] : glp_get_col_ub(P, j);
  }
}

/* A jump to saved node s: its bounds on P and both copies (the columns
 * that differ, as the search's apply() sets them), then a few columns
 * fixed and freed again on top (a column set twice before the take-in);
 * copy a takes them in at once, b when its basis is put back. */
static void jump(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, const struct fx_do_offers *o,
                 const struct saved *s, struct fx_cm_rng *r, int *back, const char *where) {
  for (int k = 0; k < 3; k++) {
    int j = (int)fx_cm_uni(r, 1, o->n_col);
    cl_dsx_set_col(a, j, 0.0, 0.0), cl_dsx_set_col(b, j, 0.0, 0.0);
  }
  for (int j = 1; j <= o->n_col; j++) {
    glp_set_col_bnds(P, j, s->lo[j] == s->hi[j] ? GLP_FX : GLP_DB, s->lo[j], s->hi[j]);
    cl_dsx_set_col(a, j, s->lo[j], s->hi[j]), cl_dsx_set_col(b, j, s->lo[j], s->hi[j]);
  }
  (void)cl_dsx_col_prim(a, 1); /* a: every bound taken in, parked columns caught up */
  int len = cl_dsx_basis_len(a);
  signed char *old = malloc((size_t)len), *st = malloc((size_t)s->len);
  cr_assert(old && st);
  memcpy(st, s->st, (size_t)s->len);
  /* now and then a basis that is no node's (basic and nonbasic variables
   * swapped): singular, or not dual feasible, and the one before is put
   * back, after the first try placed some columns or made them basic */
  for (int k = fx_cm_uni(r, 0, 2) ? 0 : (int)fx_cm_uni(r, 1, 4); k > 0; k--) {
    int u = (int)fx_cm_uni(r, 0, s->len - 1), w = (int)fx_cm_uni(r, 0, s->len - 1);
    if (st[u] != st[w]) st[u] = !st[u], st[w] = !st[w];
  }
  int ra = cl_dsx_basis_set(a, st, s->len, old), rb = cl_dsx_basis_set(b, st, s->len, old);
  free(old), free(st);
  cr_assert_eq(ra, rb, "%s: basis put back %d and %d", where, ra, rb);
  *back += ra == CL_DSX_ITLIM;
  cr_assert_neq(ra, CL_DSX_FAIL, "%s", where);
  fx_do_same_bits(P, a, b, where);
}

/* An offer LP whose last offers repeat earlier ones' options (the same
 * costs and entries): a duplicate's reduced cost is its twin's, a tie
 * whenever the twin is basic. */
static glp_prob *with_twins(uint64_t seed, struct fx_do_offers *o, struct cl_dsx **a, struct cl_dsx **b) {
  glp_prob *P = fx_do_offer_lp(seed, o);
  for (int f = 0; f < o->n_off; f++) o->lazy[f] = false;
  int half = o->n_off / 2;
  for (int f = half; f < o->n_off; f++) { /* offer f's options those of offer f - half where they fit */
    int src = f - half, n = o->first[f + 1] - o->first[f];
    if (n != o->first[src + 1] - o->first[src]) continue;
    for (int q = 0; q < n; q++) {
      int j = o->first[f] + q, i0 = o->first[src] + q, ind[FX_DO_MAX_COL + 1], len;
      double val[FX_DO_MAX_COL + 1];
      glp_set_obj_coef(P, j, glp_get_obj_coef(P, i0));
      len = glp_get_mat_col(P, i0, ind, val);
      int ind2[FX_DO_MAX_COL + 1], len2 = 0; /* its own offer row kept */
      double val2[FX_DO_MAX_COL + 1];
      for (int t = 1; t <= len; t++)
        if (ind[t] != o->row[src]) ++len2, ind2[len2] = ind[t], val2[len2] = val[t];
      if (o->row[f]) ++len2, ind2[len2] = o->row[f], val2[len2] = 1.0;
      glp_set_mat_col(P, j, len2, ind2, val2);
    }
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  glp_std_basis(P); /* (two twins basic: the old basis may be singular) */
  cr_assert_eq(glp_simplex(P, &parm), 0);
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  *a = *b = NULL;
  cr_assert_eq(cl_dsx_create(a, P), 0);
  cr_assert_eq(cl_dsx_create(b, P), 0);
  return P;
}

Test(clear_jump_late, basis_put_back_takes_bounds_in_bitwise) {
  long pa = 0, pb = 0, late = 0, ties = 0;
  int jumps = 0, back = 0;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    struct fx_do_offers o;
    struct cl_dsx *a, *b;
    glp_prob *P = with_twins(seed + 2000, &o, &a, &b);
    struct saved sv[SAVES] = {{0}};
    int n_sv = 0;
    struct fx_cm_rng r = {seed * 7919};
    for (int step = 0; step < 150; step++) {
      char where[64];
      snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
      if (n_sv && fx_cm_uni(&r, 0, 3) == 0) {
        jump(P, a, b, &o, &sv[fx_cm_uni(&r, 0, n_sv - 1)], &r, &back, where);
        jumps++;
      }
      fx_do_branch_both(P, a, b, &o, &r, &pa, &pb, where); /* two branchings, both solved */
      if (fx_cm_uni(&r, 0, 2) == 0) keep(P, a, &o, &sv[n_sv < SAVES ? n_sv++ : (int)fx_cm_uni(&r, 0, SAVES - 1)]);
    }
    long l, t, l2, t2;
    cl_dsx_late_counts(b, &l, &t), cl_dsx_late_counts(a, &l2, &t2);
    cr_assert_eq(l2, 0, "copy a took its bounds in before every jump");
    late += l, ties += t;
    for (int k = 0; k < SAVES; k++) free(sv[k].st);
    cl_dsx_free(a), cl_dsx_free(b);
    glp_delete_prob(P);
  }
  cr_log_info("%d jumps (%d to the basis before), %ld pivots, %ld columns freed late, %ld ties settled", jumps,
              back, pa, late, ties);
  cr_assert_gt(back, 50, "too few bases refused");
  cr_assert_gt(late, 1000, "too few columns freed without their catch-ups");
  cr_assert_gt(ties, 20, "too few ties: the test would not see a status lost");
}
