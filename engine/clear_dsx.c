/* clear_dsx.c — a small bounded dual simplex with a dense basis inverse, for
 * the nodes of the clearing engine's branch-and-bound.
 *
 * A node differs from its parent in column bounds only, so its parent's
 * optimal basis stays dual feasible and a few dual pivots re-solve it. GLPK
 * re-reads and refactorises the whole problem on every glp_simplex call,
 * which costs several times those pivots on a market of a hundred offers
 * (docs/clearing.md). Here the LP is copied once from GLPK (rows scaled to
 * a largest entry of 1, GLPK's optimal basis as the start) and the basis
 * inverse is kept dense, updated in place by each pivot and recomputed
 * every DSX_REFRESH pivots. Dense is right for the few hundred rows of the
 * markets it serves; the caller keeps GLPK for larger ones. Off by default
 * (bb_dense_simplex): measured slower than GLPK even on the lazy-row node
 * LP of a 1,000-offer market (docs/clearing.md, round 5), kept so that a
 * GUB version can be measured against it.
 *
 * Form: rows r are logical variables s_r = Σ a_rj x_j with the row's
 * bounds, so [A | -I] z = 0 with bounds on every z. The method is the
 * textbook dual simplex (most infeasible basic variable leaves, Harris'
 * two-pass ratio test for the entering one). Every failure (singular
 * basis, no entering candidate, the iteration limit) is reported, never
 * hidden: the caller then falls back on GLPK for that node. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_internal.h"

#define DSX_REFRESH 128
#define TOL_P 1e-7  /* primal feasibility (scaled rows) */
#define TOL_D 1e-9  /* dual feasibility, relative to the cost scale */
#define TOL_PIV 1e-9

struct cl_dsx {
  int m, n; /* rows, structural columns; variables 0..n-1 then n..n+m-1 */
  int *cs, *ci;  /* structural columns, compressed: rows ci[cs[j]..cs[j+1]) */
  double *cv;
  double *lb, *ub, *c; /* per variable (scaled rows: logicals' bounds too) */
  double *rs;          /* row scale */
  int *head, *pos;     /* basis: variable at position p; position of a variable or -1 */
  char *up;            /* nonbasic at its upper bound */
  double *z, *d, *y;   /* values, reduced costs, duals (scaled rows) */
  double *binv;        /* m x m, row-major */
  double *arow, *acol, *tmp;
  double dtol;
  int since, iters;
  bool dirty;
};

static double col_dot(const struct cl_dsx *x, int k, const double *v) {
  if (k >= x->n) return -v[k - x->n];
  double s = 0;
  for (int e = x->cs[k]; e < x->cs[k + 1]; e++) s += x->cv[e] * v[x->ci[e]];
  return s;
}

/* out = Binv · column k. */
static void ftran(const struct cl_dsx *x, int k, double *out) {
  int m = x->m;
  memset(out, 0, (size_t)m * sizeof *out);
  if (k >= x->n) {
    int r = k - x->n;
    for (int i = 0; i < m; i++) out[i] = -x->binv[(size_t)i * m + r];
    return;
  }
  for (int e = x->cs[k]; e < x->cs[k + 1]; e++) {
    int r = x->ci[e];
    double v = x->cv[e];
    for (int i = 0; i < m; i++) out[i] += x->binv[(size_t)i * m + r] * v;
  }
}

/* Gauss-Jordan with partial pivoting on the basis columns: false when the
 * basis is singular. */
static bool invert(struct cl_dsx *x) {
  int m = x->m;
  double *b = x->tmp, *inv = x->binv;
  memset(b, 0, (size_t)m * m * sizeof *b);
  for (int p = 0; p < m; p++) {
    int k = x->head[p];
    if (k >= x->n) b[(size_t)(k - x->n) * m + p] = -1.0;
    else
      for (int e = x->cs[k]; e < x->cs[k + 1]; e++) b[(size_t)x->ci[e] * m + p] = x->cv[e];
  }
  for (int i = 0; i < m * m; i++) inv[i] = 0.0;
  for (int i = 0; i < m; i++) inv[(size_t)i * m + i] = 1.0;
  for (int col = 0; col < m; col++) {
    int piv = col;
    for (int r = col + 1; r < m; r++)
      if (fabs(b[(size_t)r * m + col]) > fabs(b[(size_t)piv * m + col])) piv = r;
    double pv = b[(size_t)piv * m + col];
    if (fabs(pv) < 1e-11) return false;
    if (piv != col)
      for (int j = 0; j < m; j++) {
        double t = b[(size_t)piv * m + j];
        b[(size_t)piv * m + j] = b[(size_t)col * m + j], b[(size_t)col * m + j] = t;
        t = inv[(size_t)piv * m + j];
        inv[(size_t)piv * m + j] = inv[(size_t)col * m + j], inv[(size_t)col * m + j] = t;
      }
    double *bc = &b[(size_t)col * m], *ic = &inv[(size_t)col * m];
    for (int j = col; j < m; j++) bc[j] /= pv; /* columns left of col are eliminated */
    for (int j = 0; j < m; j++) ic[j] /= pv;
    for (int r = 0; r < m; r++) {
      double f = b[(size_t)r * m + col];
      if (r == col || f == 0.0) continue;
      double *br = &b[(size_t)r * m], *ir = &inv[(size_t)r * m];
      for (int j = col; j < m; j++) br[j] -= f * bc[j];
      for (int j = 0; j < m; j++) ir[j] -= f * ic[j];
    }
  }
  /* [B | I] reduced to [I | B^-1]: row p of B^-1 belongs to the variable
   * at basis position p. */
  x->since = 0;
  return true;
}

static double nb_value(const struct cl_dsx *x, int k) {
  if (x->up[k] && isfinite(x->ub[k])) return x->ub[k];
  if (isfinite(x->lb[k])) return x->lb[k];
  return isfinite(x->ub[k]) ? x->ub[k] : 0.0;
}

/* z_B = -Binv · N z_N, duals y = Binv^T c_B, reduced costs d. */
static void recompute(struct cl_dsx *x) {
  int m = x->m, nv = x->n + m;
  double *r = x->acol;
  memset(r, 0, (size_t)m * sizeof *r);
  for (int k = 0; k < nv; k++) {
    if (x->pos[k] >= 0) continue;
    x->z[k] = nb_value(x, k);
    if (x->z[k] == 0.0) continue;
    if (k >= x->n) r[k - x->n] -= x->z[k];
    else
      for (int e = x->cs[k]; e < x->cs[k + 1]; e++) r[x->ci[e]] += x->cv[e] * x->z[k];
  }
  for (int p = 0; p < m; p++) {
    double s = 0;
    for (int j = 0; j < m; j++) s += x->binv[(size_t)p * m + j] * r[j];
    x->z[x->head[p]] = -s;
  }
  memset(x->y, 0, (size_t)m * sizeof *x->y);
  for (int p = 0; p < m; p++) {
    double cb = x->c[x->head[p]];
    if (cb == 0.0) continue;
    for (int j = 0; j < m; j++) x->y[j] += cb * x->binv[(size_t)p * m + j];
  }
  for (int k = 0; k < nv; k++) x->d[k] = x->pos[k] >= 0 ? 0.0 : x->c[k] - col_dot(x, k, x->y);
  x->dirty = false;
}

void cl_dsx_free(struct cl_dsx *x) {
  if (!x) return;
  free(x->cs), free(x->ci), free(x->cv), free(x->lb), free(x->ub), free(x->c), free(x->rs);
  free(x->head), free(x->pos), free(x->up), free(x->z), free(x->d), free(x->y);
  free(x->binv), free(x->arow), free(x->acol), free(x->tmp);
  free(x);
}

static int alloc(struct cl_dsx *x, size_t nnz) {
  size_t m = (size_t)x->m, nv = (size_t)x->n + m;
  x->cs = malloc(((size_t)x->n + 1) * sizeof *x->cs);
  x->ci = malloc((nnz ? nnz : 1) * sizeof *x->ci);
  x->cv = malloc((nnz ? nnz : 1) * sizeof *x->cv);
  x->lb = malloc(nv * sizeof *x->lb);
  x->ub = malloc(nv * sizeof *x->ub);
  x->c = calloc(nv, sizeof *x->c);
  x->rs = malloc(m * sizeof *x->rs);
  x->head = malloc(m * sizeof *x->head);
  x->pos = malloc(nv * sizeof *x->pos);
  x->up = calloc(nv, 1);
  x->z = calloc(nv, sizeof *x->z);
  x->d = calloc(nv, sizeof *x->d);
  x->y = calloc(m, sizeof *x->y);
  x->binv = malloc(m * m * sizeof *x->binv);
  x->tmp = malloc(m * m * sizeof *x->tmp);
  x->arow = malloc(nv * sizeof *x->arow);
  x->acol = malloc(m * sizeof *x->acol);
  if (!x->cs || !x->ci || !x->cv || !x->lb || !x->ub || !x->c || !x->rs || !x->head || !x->pos ||
      !x->up || !x->z || !x->d || !x->y || !x->binv || !x->tmp || !x->arow || !x->acol)
    return FX_CLEAR_ENOMEM;
  return 0;
}

int cl_dsx_create(struct cl_dsx **out, const struct cl_dsx_lp *lp) {
  struct cl_dsx *x = calloc(1, sizeof *x);
  *out = x;
  if (!x) return FX_CLEAR_ENOMEM;
  x->m = lp->m, x->n = lp->n;
  size_t nnz = (size_t)lp->cs[lp->n];
  int rc = alloc(x, nnz);
  if (rc) return rc;
  for (int r = 0; r < x->m; r++) x->rs[r] = 0.0;
  for (size_t e = 0; e < nnz; e++) x->rs[lp->ci[e]] = fmax(x->rs[lp->ci[e]], fabs(lp->cv[e]));
  for (int r = 0; r < x->m; r++) x->rs[r] = x->rs[r] > 0 ? 1.0 / x->rs[r] : 1.0;
  memcpy(x->cs, lp->cs, ((size_t)x->n + 1) * sizeof *x->cs);
  memcpy(x->ci, lp->ci, nnz * sizeof *x->ci);
  for (size_t e = 0; e < nnz; e++) x->cv[e] = lp->cv[e] * x->rs[lp->ci[e]];
  double cmax = 0;
  for (int k = 0; k < x->n + x->m; k++) {
    double s = k >= x->n ? x->rs[k - x->n] : 1.0;
    x->lb[k] = lp->lb[k] * s, x->ub[k] = lp->ub[k] * s;
    if (k < x->n) x->c[k] = lp->c[k], cmax = fmax(cmax, fabs(lp->c[k]));
    x->pos[k] = -1;
    x->up[k] = lp->up[k];
  }
  x->dtol = TOL_D * fmax(cmax, 1.0);
  for (int p = 0; p < x->m; p++) x->head[p] = lp->head[p], x->pos[lp->head[p]] = p;
  x->dirty = true;
  return invert(x) ? 0 : FX_CLEAR_ESOLVER;
}

/* New bounds for structural column j; a nonbasic one moves to the bound
 * its reduced cost wants, so the basis stays dual feasible, and the basic
 * values follow it (duals and reduced costs do not change). */
void cl_dsx_bounds(struct cl_dsx *x, int j, double lb, double ub) {
  bool was_fixed = x->lb[j] == x->ub[j];
  x->lb[j] = lb, x->ub[j] = ub;
  if (x->pos[j] >= 0 || x->dirty) return;
  if (was_fixed && lb != ub) x->d[j] = x->c[j] - col_dot(x, j, x->y); /* stale while fixed */
  x->up[j] = lb != ub && x->d[j] < 0;
  double delta = nb_value(x, j) - x->z[j];
  if (delta == 0.0) return;
  ftran(x, j, x->acol);
  for (int i = 0; i < x->m; i++) x->z[x->head[i]] -= delta * x->acol[i];
  x->z[j] += delta;
}

/* The leaving position: the largest bound violation, or -1. */
static int choose_row(const struct cl_dsx *x, double *target) {
  int p = -1;
  double best = 0;
  for (int i = 0; i < x->m; i++) {
    int k = x->head[i];
    double v = x->z[k], viol = 0, t = 0;
    if (v < x->lb[k] - TOL_P) viol = x->lb[k] - v, t = x->lb[k];
    else if (v > x->ub[k] + TOL_P) viol = v - x->ub[k], t = x->ub[k];
    if (viol > best) best = viol, p = i, *target = t;
  }
  return p;
}

/* Harris' two passes over beta = sgn·alpha_p: the largest step any
 * candidate allows within the tolerance, then the largest |alpha| among
 * those within it. */
static int choose_col(const struct cl_dsx *x, double sgn) {
  int nv = x->n + x->m, q = -1;
  double tmax = INFINITY, big = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int k = 0; k < nv; k++) {
      if (x->pos[k] >= 0 || x->lb[k] == x->ub[k]) continue;
      double b = sgn * x->arow[k];
      bool free_var = !isfinite(x->lb[k]) && !isfinite(x->ub[k]);
      bool at_up = free_var ? b > 0 : x->up[k] || !isfinite(x->lb[k]);
      if (fabs(b) < TOL_PIV || (!free_var && (at_up ? b < 0 : b > 0))) continue;
      double dk = at_up ? -x->d[k] : x->d[k];
      double r = (fmax(dk, 0.0) + (pass ? 0.0 : x->dtol)) / fabs(b);
      if (!pass) tmax = fmin(tmax, r);
      else if (r <= tmax && fabs(b) > big) big = fabs(b), q = k;
    }
  }
  return q;
}

static void update_binv(struct cl_dsx *x, int p) {
  int m = x->m;
  double *rp = &x->binv[(size_t)p * m], pv = x->acol[p];
  for (int j = 0; j < m; j++) rp[j] /= pv;
  for (int i = 0; i < m; i++) {
    double f = x->acol[i];
    if (i == p || f == 0.0) continue;
    double *ri = &x->binv[(size_t)i * m];
    for (int j = 0; j < m; j++) ri[j] -= f * rp[j];
  }
}

/* One dual pivot: p leaves at target, q enters. */
static void pivot(struct cl_dsx *x, int p, int q, double target, double sgn) {
  int nv = x->n + x->m, leave = x->head[p];
  bool at_up = x->up[q] || !isfinite(x->lb[q]);
  double dq = at_up ? -x->d[q] : x->d[q];
  double t = fmax(dq, 0.0) / fabs(x->arow[q]);
  for (int k = 0; k < nv; k++) /* a fixed one's d is recomputed when it is freed */
    if (x->pos[k] < 0) x->d[k] += sgn * t * x->arow[k];
  x->d[q] = 0.0;
  x->d[leave] = sgn * t;
  const double *rho = &x->binv[(size_t)p * x->m]; /* y moves along row p of the old inverse */
  for (int r = 0; r < x->m; r++) x->y[r] -= sgn * t * rho[r];
  ftran(x, q, x->acol);
  double delta = (x->z[leave] - target) / x->acol[p];
  for (int i = 0; i < x->m; i++) x->z[x->head[i]] -= delta * x->acol[i];
  x->z[q] += delta;
  x->z[leave] = target;
  x->up[leave] = sgn < 0;
  x->head[p] = q, x->pos[q] = p, x->pos[leave] = -1;
  update_binv(x, p);
  x->since++;
}

int cl_dsx_solve(struct cl_dsx *x, int it_lim, int *iters) {
  *iters = 0;
  if (x->dirty) recompute(x);
  for (;;) {
    double target = 0;
    int p = choose_row(x, &target);
    if (p < 0) return 0;
    if (*iters >= it_lim) return CL_DSX_LIMIT;
    double sgn = target == x->lb[x->head[p]] && x->z[x->head[p]] < target ? 1.0 : -1.0;
    const double *rho = &x->binv[(size_t)p * x->m];
    for (int k = 0; k < x->n + x->m; k++) /* fixed ones never enter */
      x->arow[k] = x->pos[k] >= 0 || x->lb[k] == x->ub[k] ? 0.0 : col_dot(x, k, rho);
    int q = choose_col(x, sgn);
    if (q < 0) return CL_DSX_FAIL; /* primal infeasible, or numerically stuck */
    pivot(x, p, q, target, sgn);
    (*iters)++;
    if (x->since >= DSX_REFRESH) {
      if (!invert(x)) return CL_DSX_FAIL;
      recompute(x);
    }
  }
}

void cl_dsx_result(const struct cl_dsx *x, double *xs, double *row_dual) {
  for (int j = 0; j < x->n; j++) xs[j] = x->z[j];
  for (int r = 0; r < x->m; r++) row_dual[r] = x->y[r] * x->rs[r];
}
