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

#define MAX_OFF 40
#define MAX_COL (3 * MAX_OFF)

/* The offers' columns: offer o has columns first[o] .. first[o + 1] - 1,
 * its row is row[o] once P has it (0 before; none for one option). */
struct offers {
  int n_off, n_col, first[MAX_OFF + 1], row[MAX_OFF];
  bool lazy[MAX_OFF];
};

static int offer_row(glp_prob *P, const struct offers *o, int f, bool basic) {
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
static glp_prob *offer_lp(uint64_t seed, struct offers *o) {
  struct fx_cm_rng r = {seed};
  memset(o, 0, sizeof *o);
  o->n_off = (int)fx_cm_uni(&r, 6, MAX_OFF);
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
  int ind[MAX_COL + 2];
  double val[MAX_COL + 2];
  bool on[MAX_OFF][6];
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
    if (!o->lazy[f]) o->row[f] = offer_row(P, o, f, false);
    if (o->row[f] && fx_cm_uni(&r, 0, 2) == 0) glp_set_rii(P, o->row[f], 0.25 * (double)fx_cm_uni(&r, 1, 8));
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  cr_assert_eq(glp_simplex(P, &parm), 0);
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  return P;
}

/* The duals the copy reports certify its primal values: every row and
 * column within its bounds, a dual nonzero only at the bound it pushes on
 * (minimising: >= 0 at a lower bound, <= 0 at an upper one), and each
 * column's reduced cost c - Σ y·a likewise. */
static void certify(glp_prob *P, const struct cl_dsx *d, const char *where) {
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

static double glpk_obj(glp_prob *P) {
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

static void set_col(glp_prob *P, struct cl_dsx *d, int j, double lo, double hi) {
  glp_set_col_bnds(P, j, lo == hi ? GLP_FX : GLP_DB, lo, hi);
  cl_dsx_set_col(d, j, lo, hi);
}

/* One branching step: an option excluded, an offer ordered on one option
 * (at least a half or in full, its others excluded), an offer released,
 * or a lazy offer's row appended (violated or not). */
static void branch(glp_prob *P, struct cl_dsx *d, struct offers *o, struct fx_cm_rng *r) {
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
    o->row[f] = offer_row(P, o, f, true);
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
    struct offers o;
    glp_prob *P = offer_lp(seed, &o);
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
      double g = glpk_obj(P), x = cl_dsx_obj(d);
      cr_assert(fabs(x - g) <= 1e-7 * fmax(1.0, fabs(g)), "%s: %.12g, GLPK %.12g", where, x, g);
      certify(P, d, where);
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
    struct offers o;
    glp_prob *P = offer_lp(seed + 100, &o);
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
      double g = glpk_obj(P);
      cr_assert(fabs(cl_dsx_obj(d) - g) <= 1e-7 * fmax(1.0, fabs(g)));
      certify(P, d, "after restore");
    }
    cl_dsx_snap_free(s);
    cl_dsx_free(d);
    glp_delete_prob(P);
  }
  cr_assert_gt(restored, 100, "too few snapshots with pairs in them");
}
