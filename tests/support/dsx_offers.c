/* dsx_offers.c — the offer LPs the node simplex's suites share
 * (test_clear_dsx_gub.c, test_clear_dsx_prow.c, test_clear_dsxc.c): GLPK problems shaped like
 * the branch-and-bound's node LPs, and the optimality certificate their
 * duals must give. See dsx_offers.h. */
#include "tests/support/dsx_offers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/clear_markets.h"

int fx_do_offer_row(glp_prob *P, const struct fx_do_offers *o, int f, bool basic) {
  int ind[4], len = 0;
  double val[4];
  for (int j = o->first[f]; j < o->first[f + 1]; j++) ++len, ind[len] = j, val[len] = 1.0;
  int i = glp_add_rows(P, 1);
  glp_set_mat_row(P, i, len, ind, val);
  glp_set_row_bnds(P, i, GLP_UP, 0.0, 1.0);
  if (basic) glp_set_row_stat(P, i, GLP_BS);
  return i;
}

/* min Σ c·x, x in [0, 1], ISP rows Σ P·x >= need (need a share of the
 * supply, so most offers are ordered in full; an offer's options cover the
 * same ISPs, so that without its row the LP would take several), one row
 * per offer of two or more options (two thirds of them left for later:
 * lazy, appended violated). */
glp_prob *fx_do_offer_lp(uint64_t seed, struct fx_do_offers *o) {
  struct fx_cm_rng r = {seed};
  memset(o, 0, sizeof *o);
  o->n_off = (int)fx_cm_uni(&r, 6, FX_DO_MAX_OFF);
  for (int f = 0; f < o->n_off; f++) o->first[f + 1] = o->first[f] + (int)fx_cm_uni(&r, 1, 3);
  o->n_col = o->first[o->n_off];
  int n_isp = (int)fx_cm_uni(&r, 2, 6);
  glp_prob *P = glp_create_prob();
  glp_set_obj_dir(P, GLP_MIN);
  glp_add_cols(P, o->n_col + 1); /* +1: columns start at 1, index 0 unused below */
  glp_add_rows(P, n_isp);
  for (int j = 1; j <= o->n_col + 1; j++) {
    glp_set_col_bnds(P, j, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(P, j, (double)fx_cm_uni(&r, 5, 100));
  }
  glp_set_obj_coef(P, o->n_col + 1, 1e4); /* an expensive way out: feasible whatever is fixed */
  int ind[FX_DO_MAX_COL + 2];
  double val[FX_DO_MAX_COL + 2];
  bool on[FX_DO_MAX_OFF][6];
  for (int f = 0; f < o->n_off; f++)
    for (int i = 0; i < n_isp; i++) on[f][i] = fx_cm_uni(&r, 0, 1);
  for (int i = 1; i <= n_isp; i++) {
    int len = 0;
    double supply = 0;
    for (int f = 0; f < o->n_off; f++)
      for (int j = o->first[f] + 1; on[f][i - 1] && j <= o->first[f + 1]; j++)
        ++len, ind[len] = j, val[len] = (double)fx_cm_uni(&r, 4, 9), supply += val[len];
    ++len, ind[len] = o->n_col + 1, val[len] = 1e3;
    glp_set_mat_row(P, i, len, ind, val);
    glp_set_row_bnds(P, i, GLP_LO, 0.4 * supply + 1.0, 0.0);
  }
  /* Columns 1.. are the options: offer f's are first[f] + 1 .. first[f + 1]. */
  for (int f = 0; f <= o->n_off; f++) o->first[f] += 1;
  for (int f = 0; f < o->n_off; f++) {
    if (o->first[f + 1] - o->first[f] < 2) continue;
    o->lazy[f] = fx_cm_uni(&r, 0, 2) != 0;
    if (!o->lazy[f]) o->row[f] = fx_do_offer_row(P, o, f, false);
    if (o->row[f] && fx_cm_uni(&r, 0, 2) == 0) glp_set_rii(P, o->row[f], 0.25 * (double)fx_cm_uni(&r, 1, 8));
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  cr_assert_eq(glp_simplex(P, &parm), 0);
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  return P;
}

void fx_do_bounds_back(glp_prob *P, struct cl_dsx *d) {
  for (int j = 1; j <= glp_get_num_cols(P); j++) {
    double lo = glp_get_col_lb(P, j);
    cl_dsx_set_col(d, j, lo, glp_get_col_type(P, j) == GLP_FX ? lo : glp_get_col_ub(P, j));
  }
}

void fx_do_keep(glp_prob *P, const struct cl_dsx *d, int n, struct fx_do_kept *s) {
  s->len = cl_dsx_basis_len(d);
  s->st = realloc(s->st, (size_t)s->len);
  cr_assert(s->st);
  cl_dsx_basis_get(d, s->st);
  for (int j = 1; j <= n; j++) {
    s->lo[j] = glp_get_col_lb(P, j);
    s->hi[j] = glp_get_col_type(P, j) == GLP_FX ? s->lo[j] : glp_get_col_ub(P, j);
  }
}

void fx_do_jump(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, int n, const struct fx_do_kept *s,
                struct fx_cm_rng *r, int swap_one_in, bool take_in, int *back, const char *where) {
  for (int k = 0; k < 3; k++) {
    int j = (int)fx_cm_uni(r, 1, n);
    cl_dsx_set_col(a, j, 0.0, 0.0), cl_dsx_set_col(b, j, 0.0, 0.0);
  }
  for (int j = 1; j <= n; j++) {
    glp_set_col_bnds(P, j, s->lo[j] == s->hi[j] ? GLP_FX : GLP_DB, s->lo[j], s->hi[j]);
    cl_dsx_set_col(a, j, s->lo[j], s->hi[j]), cl_dsx_set_col(b, j, s->lo[j], s->hi[j]);
  }
  if (take_in) (void)cl_dsx_col_prim(a, 1); /* every bound taken in, parked columns caught up */
  int len = cl_dsx_basis_len(a);
  signed char *old = malloc((size_t)len), *st = malloc((size_t)s->len);
  cr_assert(old && st);
  memcpy(st, s->st, (size_t)s->len);
  for (int k = fx_cm_uni(r, 0, swap_one_in - 1) ? 0 : (int)fx_cm_uni(r, 1, 4); k > 0; k--) {
    int u = (int)fx_cm_uni(r, 0, s->len - 1), w = (int)fx_cm_uni(r, 0, s->len - 1);
    if (st[u] != st[w]) st[u] = !st[u], st[w] = !st[w];
  }
  int ra = cl_dsx_basis_set(a, st, s->len, old), rb = cl_dsx_basis_set(b, st, s->len, old);
  free(old), free(st);
  cr_assert_eq(ra, rb, "%s: basis put back %d and %d", where, ra, rb);
  cr_assert_neq(ra, CL_DSX_FAIL, "%s", where);
  *back += ra == CL_DSX_ITLIM;
}

void fx_do_branch_both(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, struct fx_do_offers *o,
                       struct fx_cm_rng *r, long *pa, long *pb, const char *where) {
  for (int k = 0; k < 2; k++) fx_do_branch(P, a, b, o, r);
  int ra = cl_dsx_solve(a, INT32_MAX, false, pa), rb = cl_dsx_solve(b, INT32_MAX, false, pb);
  cr_assert_eq(ra, CL_DSX_OPT, "%s: rc %d", where, ra);
  cr_assert_eq(rb, ra, "%s", where);
  cr_assert_eq(*pa, *pb, "%s: %ld and %ld pivots", where, *pa, *pb);
  fx_do_same_bits(P, a, b, where);
}

glp_prob *fx_do_twins(uint64_t seed, struct fx_do_offers *o, struct cl_dsx **a, struct cl_dsx **b) {
  glp_prob *P = fx_do_offer_lp(seed, o);
  for (int f = 0; f < o->n_off; f++) o->lazy[f] = false;
  *a = *b = NULL;
  cr_assert_eq(cl_dsx_create(a, P), 0);
  cr_assert_eq(cl_dsx_create(b, P), 0);
  return P;
}

/* Column j's bounds in P and in both copies (b may be NULL). */
static void branch_col(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, int j, double lo, double hi) {
  glp_set_col_bnds(P, j, lo == hi ? GLP_FX : GLP_DB, lo, hi);
  cl_dsx_set_col(a, j, lo, hi);
  if (b) cl_dsx_set_col(b, j, lo, hi);
}

void fx_do_branch(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, struct fx_do_offers *o, struct fx_cm_rng *r) {
  int f = (int)fx_cm_uni(r, 0, o->n_off - 1), lo = o->first[f], hi = o->first[f + 1];
  int what = (int)fx_cm_uni(r, 0, 5), c = (int)fx_cm_uni(r, lo, hi - 1);
  if (what == 0) {
    branch_col(P, a, b, c, 0.0, 0.0);
  } else if (what == 1) {
    for (int j = lo; j < hi; j++) branch_col(P, a, b, j, j == c ? (fx_cm_uni(r, 0, 1) ? 1.0 : 0.5) : 0.0, j == c ? 1.0 : 0.0);
  } else if (what == 5) {
    double to = fx_cm_uni(r, 0, 2) == 0 ? 1.0 : 0.0;
    for (int j = 1; j <= o->n_col; j++)
      if (fx_cm_uni(r, 0, 3) == 0) branch_col(P, a, b, j, 0.0, to);
  } else if (what == 2 || !o->lazy[f] || o->row[f]) {
    for (int j = lo; j < hi; j++) branch_col(P, a, b, j, 0.0, 1.0);
  } else {
    int ind[4], len = 0;
    double val[4];
    for (int j = lo; j < hi; j++) ++len, ind[len] = j, val[len] = 1.0;
    o->row[f] = fx_do_offer_row(P, o, f, true);
    cr_assert_eq(cl_dsx_add_row(a, len, ind, val, 1.0), 0);
    if (b) cr_assert_eq(cl_dsx_add_row(b, len, ind, val, 1.0), 0);
  }
}

/* The duals the copy reports certify its primal values: every row and
 * column within its bounds, a dual nonzero only at the bound it pushes on
 * (minimising: >= 0 at a lower bound, <= 0 at an upper one), and each
 * column's reduced cost c - Σ y·a likewise. */
void fx_do_certify(glp_prob *P, struct cl_dsx *d, const char *where) {
  int m = cl_dsx_rows(d), n = glp_get_num_cols(P);
  double *act = calloc((size_t)m + 1, sizeof *act), *dj = calloc((size_t)n + 1, sizeof *dj);
  int *ind = malloc(((size_t)m + 1) * sizeof *ind);
  double *val = malloc(((size_t)m + 1) * sizeof *val);
  cr_assert(act && dj && ind && val);
  for (int j = 1; j <= n; j++) {
    double x = cl_dsx_col_prim(d, j), lo = glp_get_col_lb(P, j), hi = glp_get_col_ub(P, j);
    if (glp_get_col_type(P, j) == GLP_FX) hi = lo;
    cr_assert(x >= lo - 1e-7 && x <= hi + 1e-7, "%s: column %d at %g outside [%g, %g]", where, j, x, lo, hi);
    dj[j] = glp_get_obj_coef(P, j);
    int len = glp_get_mat_col(P, j, ind, val);
    for (int e = 1; e <= len; e++) act[ind[e]] += val[e] * x, dj[j] -= cl_dsx_row_dual(d, ind[e]) * val[e];
    cr_assert(dj[j] <= 1e-6 || x <= lo + 1e-7, "%s: column %d reduced cost %g, at %g", where, j, dj[j], x);
    cr_assert(dj[j] >= -1e-6 || x >= hi - 1e-7, "%s: column %d reduced cost %g, at %g", where, j, dj[j], x);
  }
  for (int i = 1; i <= m; i++) {
    double y = cl_dsx_row_dual(d, i);
    int type = glp_get_row_type(P, i);
    double lo = type == GLP_LO ? glp_get_row_lb(P, i) : -HUGE_VAL;
    double hi = type == GLP_UP ? glp_get_row_ub(P, i) : HUGE_VAL;
    cr_assert(act[i] >= lo - 1e-6 && act[i] <= hi + 1e-6, "%s: row %d at %g outside", where, i, act[i]);
    cr_assert(y <= 1e-6 || act[i] <= lo + 1e-6, "%s: row %d dual %g, not at its lower bound", where, i, y);
    cr_assert(y >= -1e-6 || act[i] >= hi - 1e-6, "%s: row %d dual %g, not at its upper bound", where, i, y);
  }
  free(act), free(dj), free(ind), free(val);
}

double fx_do_glpk_obj(glp_prob *P) {
  glp_prob *Q = glp_create_prob();
  glp_copy_prob(Q, P, GLP_ON);
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.meth = GLP_DUALP;
  cr_assert_eq(glp_simplex(Q, &parm), 0);
  cr_assert_eq(glp_get_status(Q), GLP_OPT);
  double v = glp_get_obj_val(Q);
  glp_delete_prob(Q);
  return v;
}

int fx_do_glpk_dual(glp_prob *P) {
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.meth = GLP_DUALP;
  if (glp_simplex(P, &parm)) return -1;
  return glp_get_status(P);
}

glp_prob *fx_do_small_lp(uint64_t seed, int m, int n, bool scaled) {
  struct fx_cm_rng r = {seed};
  double unit = scaled ? 1e3 : 1.0;
  glp_prob *P = glp_create_prob();
  glp_set_obj_dir(P, GLP_MIN);
  glp_add_rows(P, m);
  glp_add_cols(P, n);
  int ind[64];
  double val[64];
  for (int j = 1; j <= n; j++) {
    glp_set_col_bnds(P, j, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(P, j, (double)fx_cm_uni(&r, 1, 100));
  }
  for (int i = 1; i <= m; i++) {
    int len = 0;
    double big = 0;
    for (int j = 1; j <= n; j++)
      if (fx_cm_uni(&r, 0, 2) == 0) {
        ++len, ind[len] = j, val[len] = (double)fx_cm_uni(&r, 1, 9) * unit;
        big = fmax(big, val[len]);
      }
    if (!len) ind[1] = 1 + i % n, val[1] = big = unit, len = 1;
    glp_set_mat_row(P, i, len, ind, val);
    glp_set_row_bnds(P, i, GLP_LO, unit, 0.0);
    if (scaled) glp_set_rii(P, i, 1.0 / big);
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  cr_assert_eq(glp_simplex(P, &parm), 0);
  return P;
}

/* Both copies' state after a solve, bit for bit: the objective, every
 * column's value and every row's dual. */
void fx_do_same_bits(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, const char *where) {
  double oa = cl_dsx_obj(a), ob = cl_dsx_obj(b);
  cr_assert(memcmp(&oa, &ob, sizeof oa) == 0, "%s: objective %.17g and %.17g", where, oa, ob);
  cr_assert_eq(cl_dsx_rows(a), cl_dsx_rows(b), "%s", where);
  for (int j = 1; j <= glp_get_num_cols(P); j++) {
    double xa = cl_dsx_col_prim(a, j), xb = cl_dsx_col_prim(b, j);
    cr_assert(memcmp(&xa, &xb, sizeof xa) == 0, "%s: column %d at %.17g and %.17g", where, j, xa, xb);
  }
  for (int i = 1; i <= cl_dsx_rows(a); i++) {
    double ya = cl_dsx_row_dual(a, i), yb = cl_dsx_row_dual(b, i);
    cr_assert(memcmp(&ya, &yb, sizeof ya) == 0, "%s: row %d dual %.17g and %.17g", where, i, ya, yb);
  }
}
