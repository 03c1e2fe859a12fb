/* clear_lp.c — the LP relaxation (GLPK simplex), the dive that turns it into
 * an integer choice, and the Lagrangian bounds that make the gaps proven.
 *
 * The relaxation drops "one option, factor in {0} ∪ [min, 100] in steps of
 * 0.01" to "options' factors x in [0, 1], summing to at most 1 per offer" and
 * uses continuous power x·P. Rows: per constrained ISP t, L <= Σ s·P·x <= U
 * (A_t); per Requested ISP, cov_t <= Σ s·P·x + off (B_t); per offer with two
 * or more options, Σ x <= 1; and a total-coverage row for the second phase.
 * Phase 1 maximises Σ cov; phase 2 minimises cost keeping that coverage.
 * The dives start from the capped LP's optimum (its basis is kept, so
 * further dives that fix a share of the fractional offers per round start
 * there too) and fix offers round by round, re-solving with the dual simplex.
 *
 * Bounds are not read off the LP objective: they are Lagrangian bounds
 * evaluated in exact arithmetic on the INTEGER problem (rounded powers and
 * prices, per-offer choice kept in the subproblem) with the LP's row duals as
 * multipliers. Any multipliers give a valid bound, so they stay proven when
 * the simplex stops early or its tolerances blur the duals; with optimal
 * duals they equal the LP bound up to half a watt per partial offer. */
#include <float.h>
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/clear_dsx.h"
#include "engine/clear_glpk.h"
#include "engine/clear_internal.h"

/* An offer the LP leaves fractional: split between options, or activated
 * below its minimum. dist says how far the rounding moves it (0..1). */
struct frac {
  double dist;
  size_t offer, col;
  bool up;
};

/* A saved simplex basis (row, then column statuses) of an LP of nr rows and
 * nc columns; it fits only that LP. */
struct basis {
  char *stat;
  int nr, nc;
};

/* The Lagrangian's arithmetic laid out for its loop (lag_init): per column
 * its entries (first[c] .. first[c + 1]) on the constrained ISPs where it
 * has power, ISP t and s·p; per ISP, filled at each evaluation, the
 * multiplier on its power w (row A's plus row B's: a double, widened
 * exactly where it is loaded, an x87 load of one µop where a long double's
 * is four). */
struct lag_ent {
  int64_t sp;
  size_t t;
};

/* A column's ISP window for the loop over its nonzero multipliers
 * (col_term), as the 64-bit word read at nz, a byte of the multipliers'
 * bitset (lag_tab): bit j of mask set where the column has an entry at the
 * j-th ISP from that byte's first, whose multiplier is w[j] and s·p sp[j]
 * (the window laid out densely in spd, 0 where there is no entry). Windows
 * of up to 57 ISPs fit whatever their first ISP. */
struct lag_win {
  uint64_t mask;
  const unsigned char *nz;
  const double *w, *aw;
  const int64_t *sp;
};

struct lag_tab {
  size_t *first;
  struct lag_ent *e;
  double *w;
  int *min_af;     /* per column, the model's (read without col[c]'s stride) */
  int64_t *price;  /* per column, the model's */
  /* Per evaluation, bit t of nz (bit t & 7 of byte t >> 3) set where w[t]
   * is not zero (nor −0), eight bytes of zeros past the last ISP's; per
   * column its window (win, spd). wide: some column's window is over 57
   * ISPs (or the machine is not little-endian), and col_term walks the
   * entries (first, e) instead. */
  unsigned char *nz;
  double *aw; /* per evaluation, |w| */
  struct lag_win *win;
  int64_t *spd;
  size_t nz_bytes;
  bool wide;
};

struct cl_lp {
  const struct cl_model *md;
  glp_prob *P;
  glp_smcp parm;
  int *row_a, *row_b, *cov_col; /* per ISP, GLPK indices, 0 = none */
  int row_total, x0;            /* column of x for model column c: x0 + c */
  double *x, *lam;              /* LP primal per model column, dual per row */
  size_t lam_cap;               /* lam's entries (save_lam has as many) */
  char *forced;                 /* per offer: lower bound forced this round */
  struct frac *frac;            /* per offer: scratch for fix_fractional */
  struct basis capped_basis;     /* the capped LP's optimum: every dive starts there */
  struct basis cost_basis;       /* min cost at the cap: the cost bound's LP starts there */
  double deadline, cov_lp;
  double tol;        /* coverage tolerance (fx_clear_params) */
  int64_t floor_cov; /* the coverage target never goes below this */
  double xscale; /* 1, or 100 once the MILP counts factors in hundredths */
  int it_lim, dive_rounds, solves, mip_nodes;
  bool budget_hit, exact, mip_built, capped_ok;
  bool exact_terms; /* col_exact instead of col_term (cl_lp_exact_terms) */
  /* Branch-and-bound (clear_bb.c): per column the factors a node allows
   * while it runs (NULL otherwise); the Lagrangian's per-offer maxima and
   * per-column terms of the last node; the elastic slack columns. */
  const struct cl_krange *kr;
  long double *offer_best, *col_val, margin, sum;
  struct lag_tab lag; /* the Lagrangian's terms, per column (lag_init) */
  int slack0, n_slack;
  double slack_mult; /* the slacks' price over slacks_open's base (cl_lp_bb_reprice) */
  bool bb_cov; /* branch-and-bound on coverage (phase 1), not on cost */
  /* Lazy rows (bb_lazy_rows): while branch-and-bound runs, P is a copy of
   * the LP (full keeps the original) without the offers' one-option rows
   * the root leaves slack; gub_row[i] is offer i's row in it, 0 = none. */
  bool lazy;
  glp_prob *full;
  int *gub_row;
  /* The offers of two or more columns without their row in P, ascending
   * (lazy_rows reads these alone, and drops each offer it gives its row). */
  size_t *lazy_off, n_lazy_off;
  /* The root's maximum-coverage basis (root_phase1), for the coverage
   * search's first node (cl_lp_bb_begin): row and column statuses, GLPK's
   * numbering; cov_nr/cov_nc the counts it was taken at (0: none). */
  int *cov_rs, *cov_cs, cov_nr, cov_nc;
  int cov_put;   /* tests: the coverage searches that started from it */
  bool cov_skip; /* tests: not put (cl_lp_cov_basis_skip) */
  /* Strong branching's look-ahead (cl_lp_bb_probe): the node's solution,
   * duals, Lagrangian sum and basis, put back after each probe (its
   * Lagrangian records no terms, so the node's stay as they are); a node
   * dive's copies of the solution and duals (probe_save). A look-ahead
   * writes its solution and duals to save_x and save_lam instead. */
  double *save_x, *save_lam;
  long double save_margin, save_sum;
  struct basis probe_basis;
  bool probe_copy; /* tests: the look-ahead copies the node's instead (cl_lp_probe_copy) */
  bool probing; /* read the duals even when the iteration limit stopped it */
  /* bb_native_lp: the nodes' LP solved by clear_dsx.c, which keeps its
   * basis inverse between nodes; P stays in step (bounds, rows) for GLPK
   * to take over when it fails. */
  bool native;
  struct cl_dsx *dsx;
  struct cl_dsx_snap *dsx_snap;
  /* A node dive runs (cl_lp_bb_dive_guided): its bounds go to dsx alone,
   * which it puts back from the node's own at its end; P keeps the
   * node's throughout (nothing reads P's bounds during a dive). */
  bool ndive_on;
  /* The last node LP's objective, for tests alone: GLPK's, or, when
   * node_native, the native simplex's, summed when asked (over every
   * column at every node it was 0.5 % of a long proof's instructions) */
  double node_obj;
  bool node_native;
  long native_solved; /* node LPs the native simplex solved (tests) */
  /* dive_native_lp: a dive's warm re-solves on the same simplex, a copy
   * of P taken when the dive starts; dive_dsx says dsx is the dive's (a
   * branch-and-bound's, while one runs, is left alone). */
  bool dive_native, dive_dsx, diving;
  bool native_cap; /* and the least cost at the cap (no redives on this market) */
  bool cover_start; /* phase 1 from cover order, its coverage columns set (no redives) */
  bool native_ph1;  /* and on the native dual simplex (root_native_phase1) */
  bool ph1_native;  /* the last phase 1 was solved natively (tests, figures) */
  long ph1_pivots;  /* its native pivots */
  struct cl_lp_cap cap; /* the least cost at the cap as it last ran (cl_lp_cap_figures) */
  long dive_native_solved, dive_glpk_solved; /* tests and figures */
};

double cl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t nnz_count(const struct cl_model *md, int *n_rows) {
  size_t nnz = 0;
  for (size_t c = 0; c < md->n_cols; c++) {
    const struct cl_col *cl = &md->col[c];
    for (size_t i = 0; i < cl->n; i++) {
      const struct cl_isp *t = &md->isp[cl->first + i];
      if (cl->p[i] && t->constrained) nnz += t->requested ? 2 : 1;
    }
  }
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t n = md->offer_col[i + 1] - md->offer_col[i];
    if (n > 1) nnz += n, (*n_rows)++;
  }
  return nnz;
}

static void set_range(glp_prob *P, int row, int64_t lo, int64_t hi) {
  glp_set_row_bnds(P, row, lo == hi ? GLP_FX : GLP_DB, (double)lo, (double)hi);
}

/* Rows and the cov columns; fills row_a, row_b, cov_col. */
static void build_rows(struct cl_lp *lp, int extra_rows) {
  const struct cl_model *md = lp->md;
  int n_a = 0, n_b = 0;
  for (size_t t = 0; t < md->n_isps; t++) n_a += md->isp[t].constrained, n_b += md->isp[t].requested;
  int r = glp_add_rows(lp->P, n_a + n_b + extra_rows + 1);
  int cv = n_b ? glp_add_cols(lp->P, n_b) : 0;
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->constrained) continue;
    lp->row_a[t] = r;
    set_range(lp->P, r++, is->lo, is->hi);
    if (!is->requested) continue;
    lp->row_b[t] = r;
    glp_set_row_bnds(lp->P, r++, GLP_LO, (double)-is->off, 0.0);
    lp->cov_col[t] = cv;
    glp_set_col_bnds(lp->P, cv++, is->covmin == is->cap ? GLP_FX : GLP_DB, (double)is->covmin,
                     (double)is->cap);
  }
  lp->row_total = r;
  glp_set_row_bnds(lp->P, r, GLP_FR, 0.0, 0.0);
}

struct triplets {
  int *ia, *ja;
  double *ar;
  int n;
};

static void put(struct triplets *m, int i, int j, double v) {
  m->n++;
  m->ia[m->n] = i, m->ja[m->n] = j, m->ar[m->n] = v;
}

static void build_matrix(struct cl_lp *lp, struct triplets *m) {
  const struct cl_model *md = lp->md;
  int offer_row = lp->row_total + 1;
  for (size_t t = 0; t < md->n_isps; t++) {
    if (!lp->cov_col[t]) continue;
    put(m, lp->row_b[t], lp->cov_col[t], -1.0);
    put(m, lp->row_total, lp->cov_col[t], 1.0);
  }
  for (size_t i = 0; i < md->n_offers; i++) {
    bool multi = md->offer_col[i + 1] - md->offer_col[i] > 1;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      const struct cl_col *cl = &md->col[c];
      int j = lp->x0 + (int)c;
      glp_set_col_bnds(lp->P, j, GLP_DB, 0.0, 1.0);
      if (multi) put(m, offer_row, j, 1.0);
      for (size_t q = 0; q < cl->n; q++) {
        size_t t = cl->first + q;
        if (!cl->p[q] || !md->isp[t].constrained) continue;
        double v = (double)(md->isp[t].s * cl->p[q]);
        put(m, lp->row_a[t], j, v);
        if (lp->row_b[t]) put(m, lp->row_b[t], j, v);
      }
    }
    if (multi) glp_set_row_bnds(lp->P, offer_row++, GLP_UP, 0.0, 1.0);
  }
}

/* Watts make rows of 1e3..1e6: scale each row to a largest entry of 1
 * (glp_scale_prob would do it too, but prints). */
static void scale_rows(glp_prob *P, const struct triplets *m) {
  int nr = glp_get_num_rows(P);
  double *big = calloc((size_t)nr + 1, sizeof *big);
  if (!big) return; /* unscaled is slower, not wrong */
  for (int e = 1; e <= m->n; e++) big[m->ia[e]] = fmax(big[m->ia[e]], fabs(m->ar[e]));
  for (int r = 1; r <= nr; r++)
    if (big[r] > 0) glp_set_rii(P, r, 1.0 / big[r]);
  free(big);
}

static int build(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  int extra = 0;
  size_t nnz = nnz_count(md, &extra) + 4 * md->n_isps;
  if (nnz > (size_t)INT32_MAX / 2) return FX_CLEAR_EINVAL;
  struct triplets m = {malloc((nnz + 1) * sizeof(int)), malloc((nnz + 1) * sizeof(int)),
                       malloc((nnz + 1) * sizeof(double)), 0};
  if (!m.ia || !m.ja || !m.ar) {
    free(m.ia), free(m.ja), free(m.ar);
    return FX_CLEAR_ENOMEM;
  }
  build_rows(lp, extra);
  lp->x0 = md->n_cols ? glp_add_cols(lp->P, (int)md->n_cols) : glp_get_num_cols(lp->P) + 1;
  build_matrix(lp, &m);
  glp_load_matrix(lp->P, m.n, m.ia, m.ja, m.ar);
  scale_rows(lp->P, &m);
  free(m.ia), free(m.ja), free(m.ar);
  return 0;
}

static int lag_init(struct cl_lp *lp);
static void lag_free(struct lag_tab *lg);

int cl_lp_create(struct cl_lp **out, const struct cl_model *md, const struct fx_clear_params *p,
                 double deadline) {
  struct cl_lp *lp = calloc(1, sizeof *lp);
  if (!lp) return FX_CLEAR_ENOMEM;
  *out = lp;
  lp->md = md;
  lp->deadline = deadline;
  lp->it_lim = p->lp_iteration_limit;
  lp->dive_rounds = p->dive_rounds;
  lp->exact = md->n_offers <= p->exact_max_offers;
  lp->mip_nodes = p->exact_node_limit;
  lp->lazy = p->bb_lazy_rows;
  lp->native = p->bb_native_lp;
  lp->dive_native = p->dive_native_lp;
  lp->native_cap = p->dive_native_lp && md->n_offers > p->redive_max_offers;
  lp->cover_start = md->n_offers > p->redive_max_offers;
  lp->native_ph1 = p->root_native_phase1 && lp->cover_start && md->n_offers <= p->root_native_phase1_max_offers;
  size_t ni = md->n_isps + 1;
  lp->row_a = calloc(ni, sizeof(int));
  lp->row_b = calloc(ni, sizeof(int));
  lp->cov_col = calloc(ni, sizeof(int));
  lp->x = calloc(md->n_cols + 1, sizeof(double));
  lp->forced = calloc(md->n_offers + 1, 1);
  lp->frac = calloc(md->n_offers + 1, sizeof *lp->frac);
  lp->xscale = 1.0;
  lp->P = glp_create_prob();
  if (!lp->row_a || !lp->row_b || !lp->cov_col || !lp->x || !lp->forced || !lp->frac || !lp->P)
    return FX_CLEAR_ENOMEM;
  glp_init_smcp(&lp->parm);
  lp->parm.msg_lev = GLP_MSG_OFF;
  int rc = build(lp);
  if (!rc) rc = lag_init(lp);
  if (rc) return rc;
  lp->lam_cap = (size_t)glp_get_num_rows(lp->P) + 1;
  lp->lam = calloc(lp->lam_cap, sizeof(double));
  return lp->lam ? 0 : FX_CLEAR_ENOMEM;
}

void cl_lp_free(struct cl_lp *lp) {
  if (!lp) return;
  if (lp->full) glp_delete_prob(lp->full); /* P is then the node copy */
  if (lp->P) glp_delete_prob(lp->P);
  free(lp->gub_row), free(lp->lazy_off), free(lp->cov_rs), free(lp->cov_cs);
  free(lp->row_a), free(lp->row_b), free(lp->cov_col);
  free(lp->x), free(lp->lam), free(lp->forced), free(lp->frac);
  free(lp->capped_basis.stat), free(lp->cost_basis.stat);
  free(lp->offer_best), free(lp->col_val);
  free(lp->save_x), free(lp->save_lam);
  free(lp->probe_basis.stat);
  cl_dsx_free(lp->dsx), cl_dsx_snap_free(lp->dsx_snap);
  lag_free(&lp->lag);
  free(lp);
}

/* Back to the basis a guarded solve started at. */
static void restart(glp_prob *P, const char *st, int nr, int nc) {
  for (int r = 1; r <= nr; r++) glp_set_row_stat(P, r, st[r - 1]);
  for (int c = 1; c <= nc; c++) glp_set_col_stat(P, c, st[nr + c - 1]);
}

int cl_glpk_stall_cap(int rows, int cols) { return (rows + cols) / 2 + 1000; }

int cl_glpk_simplex(glp_prob *P, glp_smcp *parm, bool *switched) {
  int lim = parm->it_lim, pricing = parm->pricing;
  int nr = glp_get_num_rows(P), nc = glp_get_num_cols(P), cap = cl_glpk_stall_cap(nr, nc);
  *switched = false;
  if (lim <= cap) return glp_simplex(P, parm);
  char *st = malloc((size_t)(nr + nc));
  if (!st) return glp_simplex(P, parm); /* no room to guard: GLPK's own limit */
  for (int r = 1; r <= nr; r++) st[r - 1] = (char)glp_get_row_stat(P, r);
  for (int c = 1; c <= nc; c++) st[nr + c - 1] = (char)glp_get_col_stat(P, c);
  int it0 = glp_get_it_cnt(P), meth = parm->meth;
  parm->it_lim = cap;
  int rc = glp_simplex(P, parm);
  if (rc == GLP_EITLIM) { /* stalled: again from the start, by the other rule */
    restart(P, st, nr, nc);
    parm->pricing = pricing == GLP_PT_STD ? GLP_PT_PSE : GLP_PT_STD;
    int left = lim - (glp_get_it_cnt(P) - it0);
    parm->it_lim = left > cap ? cap : left;
    rc = glp_simplex(P, parm);
    *switched = true;
    if (rc == GLP_EITLIM && left > cap) { /* both rules stall: the other method */
      restart(P, st, nr, nc);
      parm->meth = meth == GLP_PRIMAL ? GLP_DUALP : GLP_PRIMAL, parm->pricing = pricing;
      parm->it_lim = lim - (glp_get_it_cnt(P) - it0);
      rc = glp_simplex(P, parm);
    }
  }
  free(st);
  parm->it_lim = lim, parm->pricing = pricing, parm->meth = meth;
  return rc;
}

/* One simplex run; true when the LP is solved to optimality. Duals and the
 * primal are read whatever happened (the bounds stay valid). */
static bool solve(struct cl_lp *lp, int meth) {
  lp->parm.meth = meth;
  lp->parm.it_lim = lp->it_lim > 0 ? lp->it_lim : INT32_MAX;
  lp->parm.tm_lim = INT32_MAX;
  if (lp->deadline > 0) {
    double left = lp->deadline - cl_now_ms();
    if (left < 1) {
      lp->budget_hit = true;
      return false;
    }
    lp->parm.tm_lim = (int)left;
  }
  lp->solves++;
  bool switched; /* a stall the guard caught: the solve goes on */
  int rc = cl_glpk_simplex(lp->P, &lp->parm, &switched);
  if (rc == GLP_EITLIM || rc == GLP_ETMLIM) lp->budget_hit = true;
  if (rc != 0 && rc != GLP_EITLIM && rc != GLP_ETMLIM) {
    glp_std_basis(lp->P); /* a singular or ill-conditioned basis: restart once */
    rc = cl_glpk_simplex(lp->P, &lp->parm, &switched);
  }
  int nr = glp_get_num_rows(lp->P);
  bool duals = rc == 0 || (lp->probing && rc == GLP_EITLIM); /* any multipliers bound */
  for (int r = 1; r <= nr; r++) lp->lam[r] = duals ? glp_get_row_dual(lp->P, r) : 0.0;
  for (size_t c = 0; c < lp->md->n_cols; c++)
    lp->x[c] = glp_get_col_prim(lp->P, lp->x0 + (int)c) / lp->xscale;
  return rc == 0 && glp_get_status(lp->P) == GLP_OPT;
}

static void phase1(struct cl_lp *lp) {
  glp_set_obj_dir(lp->P, GLP_MAX);
  for (size_t t = 0; t < lp->md->n_isps; t++)
    if (lp->cov_col[t]) glp_set_obj_coef(lp->P, lp->cov_col[t], 1.0);
  for (size_t c = 0; c < lp->md->n_cols; c++) glp_set_obj_coef(lp->P, lp->x0 + (int)c, 0.0);
  glp_set_row_bnds(lp->P, lp->row_total, GLP_FR, 0.0, 0.0);
}

/* Ties go to earlier arrival: a perturbation far below the tolerance. */
static void phase2(struct cl_lp *lp, double target) {
  const struct cl_model *md = lp->md;
  double scale = 1.0;
  for (size_t c = 0; c < md->n_cols; c++) scale = fmax(scale, fabs((double)md->col[c].price));
  glp_set_obj_dir(lp->P, GLP_MIN);
  for (size_t t = 0; t < md->n_isps; t++)
    if (lp->cov_col[t]) glp_set_obj_coef(lp->P, lp->cov_col[t], 0.0);
  for (size_t c = 0; c < md->n_cols; c++)
    glp_set_obj_coef(lp->P, lp->x0 + (int)c,
                     ((double)md->col[c].price + scale * 1e-6 * (double)(c + 1) / (double)md->n_cols) /
                         lp->xscale);
  glp_set_row_bnds(lp->P, lp->row_total, GLP_LO, target, 0.0);
}

/* The dive's objective: coverage first through a weight far above any
 * offer's price per covered watt, then cost. Bounds never come from it. */
static double coverage_weight(const struct cl_model *md) {
  double w = 1.0;
  for (size_t c = 0; c < md->n_cols; c++) {
    double key = fabs(cl_merit_key(md, c));
    if (isfinite(key)) w = fmax(w, 100.0 * key + 1.0);
  }
  return w;
}

static void weighted(struct cl_lp *lp) {
  double w = coverage_weight(lp->md);
  phase2(lp, 0.0);
  glp_set_row_bnds(lp->P, lp->row_total, GLP_FR, 0.0, 0.0);
  for (size_t t = 0; t < lp->md->n_isps; t++)
    if (lp->cov_col[t]) glp_set_obj_coef(lp->P, lp->cov_col[t], -w);
}

/* Factors column c may take while ordered: [k1, k2]; empty when k2 < k1. */
static void col_range(const struct cl_lp *lp, size_t c, int *k1, int *k2) {
  int lo = lp->kr ? lp->kr[c].lo : 0;
  *k1 = lo > lp->md->col[c].min_af ? lo : lp->md->col[c].min_af;
  *k2 = lp->kr ? lp->kr[c].hi : 100;
}

static bool col_on(const struct cl_lp *lp, size_t c) { return lp->kr && lp->kr[c].lo > 0; }

/* The factors 0..255 (a node's ranges are bytes) as floats, each exact. */
#define LAG_K4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define LAG_K16(b) LAG_K4(b), LAG_K4((b) + 4), LAG_K4((b) + 8), LAG_K4((b) + 12)
#define LAG_K64(b) LAG_K16(b), LAG_K16((b) + 16), LAG_K16((b) + 32), LAG_K16((b) + 48)
static const float lag_k[256] = {LAG_K64(0), LAG_K64(64), LAG_K64(128), LAG_K64(192)};

/* The lowest set bit's index of b (b != 0). */
static inline size_t lag_low_bit(uint64_t b) {
#if defined(__GNUC__) && defined(__x86_64__)
  uint64_t q; /* bsf's result (tzcnt's where there is one) in 64 bits: no sign extension */
  __asm__("rep bsfq %1, %0" : "=r"(q) : "rm"(b) : "cc");
  return q;
#elif defined(__GNUC__)
  return (size_t)__builtin_ctzll(b);
#else
  size_t q = 0;
  while (!(b & 1)) b >>= 1, q++;
  return q;
#endif
}

/* Upper bound of one column's term in the max-form Lagrangian over its
 * factors [k1, k2] (k1 <= k2, from col_range): linear in the factor plus
 * the worst rounding of power (and price) at a partial factor. The ISPs'
 * multipliers w are formed once per evaluation (lagrangian), so a
 * column's entry is a product and three sums; every sum is taken in the
 * order and precision the plain loop over its ISPs took it
 * (tests/test_clear_nodec.c holds the bound to that loop, bit for bit). */
static inline long double col_term(const struct lag_tab *lg, size_t c, int k1, int k2, bool cost,
                                   long double *mag) {
  /* noise is 0.5 + Σ 0.5·|w| (cost) or Σ 0.5·|w|, summed as halves; the
   * sum of the whole |w| from 1 or 0, halved once, is the same long double:
   * halving is exact (no long double here comes near the subnormals) and
   * commutes with rounding. */
  long double g = cost ? -(long double)lg->price[c] : 0.0L, noise2 = cost ? 1.0L : 0.0L, m = *mag;
  if (!lg->wide) {
    /* The entries whose multiplier is not zero, in the entries' order
     * (ISP order). An entry on w = ±0 changes nothing: v is ±0, m and
     * noise2 (sums of magnitudes from +0 or 1, never −0) stay as they are,
     * and g stays but for the sign of a zero, which the return below does
     * not see (g = ±0 takes k2 either way, x is ±0, and ±0 + noise with
     * noise +0 or above is noise, +0 included). */
    const struct lag_win *wn = &lg->win[c];
    uint64_t bits;
    memcpy(&bits, wn->nz, sizeof bits); /* little-endian: bit j is the byte's j-th ISP */
    bits &= wn->mask;
    const double *wf = wn->w, *awf = wn->aw;
    const int64_t *sp = wn->sp;
    while (bits) {
      size_t j = lag_low_bit(bits);
      bits &= bits - 1;
      long double v = (long double)sp[j] * wf[j];
      g -= v;
      m += fabsl(v);
      noise2 += awf[j];
    }
  } else {
#pragma GCC unroll 2
    for (size_t e = lg->first[c]; e < lg->first[c + 1]; e++) {
      long double w = lg->w[lg->e[e].t], v = w * (long double)lg->e[e].sp;
      g -= v;
      m += fabsl(v);
      noise2 += fabsl(w);
    }
  }
  *mag = m;
  long double noise = 0.5L * noise2;
  /* The larger of g·k1/100 and g·k2/100 (1 <= k1 <= k2), each rounded as
   * written: rounding keeps order, so it is the one at k2 when g >= 0, at
   * k1 when not (equal values tie; both carry g's sign), and one x87
   * division per column is spared. The factor comes from lag_k, an exact
   * float multiplied from memory, picked by a conditional move where the
   * int's conversion had the compiler branch on g's sign (a coin toss
   * per column: 0.4 M mispredicted branches fewer on seed 114). */
  long double x = g * lag_k[g >= 0 ? k2 : k1] / 100.0L;
  return x + (k1 < 100 ? noise : 0.0L);
}

/* col_term without the rounding's noise (cl_lp_exact_terms): the column's
 * term at each factor, on the power and price an order there has after
 * rounding, maximised over the factors whose linear term comes within
 * twice the noise of the better end point (no other can reach the
 * maximum). Where the duals are degenerate the noise is what separates
 * the bound from the answer: two offers, 99,950 W at 10 € and 1,000 W at
 * 100 € with a 5 % minimum, and GLPK's dual of 0.1 €/W (the dearer
 * offer's price per watt) made half a watt of noise cost 0.05 €, half a
 * per cent of the answer (test_clear.c, the dearest last watts). */
static long double col_exact(const struct cl_lp *lp, size_t c, bool cost, long double *mag) {
  const struct cl_col *cl = &lp->md->col[c];
  const struct lag_tab *lg = &lp->lag;
  long double g = cost ? -(long double)cl->price : 0.0L, noise2 = cost ? 1.0L : 0.0L;
  for (size_t e = lg->first[c]; e < lg->first[c + 1]; e++) {
    long double w = lg->w[lg->e[e].t], v = w * (long double)lg->e[e].sp;
    g -= v;
    *mag += fabsl(v);
    noise2 += fabsl(w);
  }
  int k1, k2;
  col_range(lp, c, &k1, &k2);
  int end = g >= 0 ? k2 : k1, lo = k1, hi = k2;
  long double reach = g != 0 ? 100.0L * noise2 / fabsl(g) : 100.0L; /* factors within 2·noise */
  if (reach < 100.0L) {
    int r = (int)ceill(reach) + 1; /* one more: the comparison is in floating point */
    lo = end - r > k1 ? end - r : k1;
    hi = end + r < k2 ? end + r : k2;
  }
  long double best = -INFINITY;
  for (int k = lo; k <= hi; k++) {
    long double v = cost ? -(long double)fx_clear_order_price(cl->price, k) : 0.0L;
    for (size_t e = lg->first[c]; e < lg->first[c + 1]; e++)
      v -= lg->w[lg->e[e].t] * (long double)fx_clear_order_power(lg->e[e].sp, k);
    if (v > best) best = v;
  }
  return best;
}

void cl_lp_exact_terms(struct cl_lp *lp) { lp->exact_terms = true; }

/* The column entries of col_term: what its loop over the ISPs skipped
 * (no power, or an ISP without bounds) left out once. */
static int lag_init(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  struct lag_tab *lg = &lp->lag;
  size_t n = 0;
  for (size_t c = 0; c < md->n_cols; c++)
    for (size_t q = 0; q < md->col[c].n; q++)
      n += md->col[c].p[q] && md->isp[md->col[c].first + q].constrained;
  lg->first = malloc((md->n_cols + 1) * sizeof *lg->first);
  lg->e = malloc((n ? n : 1) * sizeof *lg->e);
  lg->w = malloc((md->n_isps ? md->n_isps : 1) * sizeof *lg->w);
  lg->min_af = malloc((md->n_cols ? md->n_cols : 1) * sizeof *lg->min_af);
  lg->price = malloc((md->n_cols ? md->n_cols : 1) * sizeof *lg->price);
  /* spd: each column's window from 8·byte (its first ISP rounded down to
   * a multiple of eight) to its end */
  size_t dense = 0;
  lg->wide = false;
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  lg->wide = true;
#endif
  for (size_t c = 0; c < md->n_cols; c++)
    dense += md->col[c].first % 8 + md->col[c].n, lg->wide |= md->col[c].n > 57;
  lg->nz_bytes = md->n_isps / 8 + 9;
  lg->nz = calloc(lg->nz_bytes, 1);
  lg->aw = calloc(md->n_isps ? md->n_isps : 1, sizeof *lg->aw);
  lg->win = malloc((md->n_cols ? md->n_cols : 1) * sizeof *lg->win);
  lg->spd = calloc(dense ? dense : 1, sizeof *lg->spd);
  if (!lg->first || !lg->e || !lg->w || !lg->min_af || !lg->price || !lg->nz || !lg->aw || !lg->win || !lg->spd)
    return FX_CLEAR_ENOMEM;
  n = 0, dense = 0;
  for (size_t c = 0; c < md->n_cols; c++) {
    const struct cl_col *cl = &md->col[c];
    size_t sh = cl->first % 8;
    lg->first[c] = n;
    lg->min_af[c] = cl->min_af, lg->price[c] = cl->price;
    lg->win[c] = (struct lag_win){0, lg->nz + cl->first / 8, lg->w + cl->first / 8 * 8,
                              lg->aw + cl->first / 8 * 8, lg->spd + dense};
    for (size_t q = 0; q < cl->n; q++) {
      const struct cl_isp *is = &md->isp[cl->first + q];
      if (!cl->p[q] || !is->constrained) continue;
      lg->e[n++] = (struct lag_ent){is->s * cl->p[q], cl->first + q};
      lg->spd[dense + sh + q] = is->s * cl->p[q];
      if (sh + q < 64) lg->win[c].mask |= UINT64_C(1) << (sh + q);
    }
    dense += sh + cl->n;
  }
  lg->first[md->n_cols] = n;
  return 0;
}

static void lag_free(struct lag_tab *lg) {
  free(lg->first), free(lg->e), free(lg->w), free(lg->min_af), free(lg->price);
  free(lg->nz), free(lg->aw), free(lg->win), free(lg->spd);
}

/* One offer's best term: none (0) or one allowed column, or the ordered
 * column alone while branch-and-bound orders one. Records the terms for
 * branch-and-bound's child bounds when it runs. col_exact's (the exact
 * path's) per offer; lag_offers is the same loop with col_term's terms. */
static long double offer_term(struct cl_lp *lp, size_t i, bool cost, long double *mag) {
  const struct cl_model *md = lp->md;
  long double best = 0.0L;
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    int k1, k2;
    col_range(lp, c, &k1, &k2);
    if (k2 < k1) continue;
    long double v = col_exact(lp, c, cost, mag);
    if (lp->col_val) lp->col_val[c] = v;
    if (col_on(lp, c)) {
      best = v;
      break;
    }
    best = v > best ? v : best; /* fmaxl's choice (a NaN v loses; v is never -0), without the call */
  }
  if (lp->offer_best) lp->offer_best[i] = best;
  return best;
}

/* Whether offers_sum records the terms for the child bounds: branch-and-
 * bound's nodes do (col_val and offer_best set), its look-aheads do not
 * (both NULL); anything else asks per term. */
enum lag_rec { LAG_REC_NONE, LAG_REC_ALL, LAG_REC_ASK };

/* offer_term with col_term's terms over every offer, added to sum in offer
 * order: col_range and col_on read from lag_tab's per-column copies of the
 * model's minimum factor (without cl_col's 56-byte stride) and the node's
 * ranges kr (NULL: none). Every value and sum is offer_term's. Inlined in
 * lag_offers with cost, rec and whether kr is NULL constant, so that none
 * of them is tested per column. */
static inline long double offers_sum(struct cl_lp *lp, const struct cl_krange *kr, bool cost,
                                     enum lag_rec rec, long double sum, long double *mag) {
  const struct cl_model *md = lp->md;
  const struct lag_tab *lg = &lp->lag;
  long double *val = rec == LAG_REC_NONE ? NULL : lp->col_val;
  long double *obest = rec == LAG_REC_NONE ? NULL : lp->offer_best;
  for (size_t i = 0; i < md->n_offers; i++) {
    long double best = 0.0L;
    for (size_t c = md->offer_col[i], end = md->offer_col[i + 1]; c < end; c++) {
      int lo = kr ? kr[c].lo : 0, k2 = kr ? kr[c].hi : 100;
      int k1 = lo > lg->min_af[c] ? lo : lg->min_af[c];
      if (k2 < k1) continue;
      long double v = col_term(lg, c, k1, k2, cost, mag);
      if (rec == LAG_REC_ALL || (rec == LAG_REC_ASK && val)) val[c] = v;
      if (lo > 0) { /* col_on */
        best = v;
        break;
      }
      best = v > best ? v : best;
    }
    if (rec == LAG_REC_ALL || (rec == LAG_REC_ASK && obest)) obest[i] = best;
    sum += best;
  }
  return sum;
}

/* offers_sum's copies: a node's or a look-ahead's (kr set, the terms
 * recorded or not) per objective, and one for the rest (no node running:
 * a few evaluations a proof). */
static long double lag_offers(struct cl_lp *lp, bool cost, long double sum, long double *mag) {
  const struct cl_krange *kr = lp->kr;
  if (kr && lp->col_val && lp->offer_best)
    return cost ? offers_sum(lp, kr, true, LAG_REC_ALL, sum, mag)
                : offers_sum(lp, kr, false, LAG_REC_ALL, sum, mag);
  if (kr && !lp->col_val && !lp->offer_best)
    return cost ? offers_sum(lp, kr, true, LAG_REC_NONE, sum, mag)
                : offers_sum(lp, kr, false, LAG_REC_NONE, sum, mag);
  return cost ? offers_sum(lp, kr, true, LAG_REC_ASK, sum, mag)
              : offers_sum(lp, kr, false, LAG_REC_ASK, sum, mag);
}

/* Max-form Lagrangian bound for multipliers mu (clamped to valid signs).
 * cost: objective -price (phase 2), else Σ cov; total: rhs of the coverage row. */
static long double lagrangian(struct cl_lp *lp, double *mu, bool cost, double total) {
  const struct cl_model *md = lp->md;
  long double sum = 0.0L, mag = 0.0L;
  if (!cost || mu[lp->row_total] > 0) mu[lp->row_total] = 0.0; /* >= rows: mu <= 0 */
  sum += mu[lp->row_total] * (long double)total;
  /* Per constrained ISP also the multiplier col_term applies to power there,
   * w (lag_tab), as the plain loop formed it: a sum of doubles (widened in
   * col_term), after its rows' signs are clamped (each ISP's own rows). */
  unsigned char *nz = lp->lag.nz;
  memset(nz, 0, lp->lag.nz_bytes);
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->constrained) continue;
    double a = mu[lp->row_a[t]];
    sum += a * (long double)(a >= 0 ? is->hi : is->lo);
    if (!lp->row_b[t]) {
      lp->lag.w[t] = a + 0.0; /* + 0.0: a −0 multiplier enters as +0, as it did */
      lp->lag.aw[t] = fabs(a);
      nz[t >> 3] |= (unsigned char)((a != 0) << (t & 7));
      continue;
    }
    if (mu[lp->row_b[t]] > 0) mu[lp->row_b[t]] = 0.0;
    double w = lp->lag.w[t] = a + mu[lp->row_b[t]];
    lp->lag.aw[t] = fabs(w);
    nz[t >> 3] |= (unsigned char)((w != 0) << (t & 7));
    sum += mu[lp->row_b[t]] * (long double)-is->off;
    long double cc = (cost ? 0.0L : 1.0L) + mu[lp->row_b[t]] - mu[lp->row_total];
    sum += cc * (long double)(cc > 0 ? is->cap : is->covmin);
  }
  if (lp->exact_terms)
    for (size_t i = 0; i < md->n_offers; i++) sum += offer_term(lp, i, cost, &mag);
  else
    sum = lag_offers(lp, cost, sum, &mag);
  lp->margin = 1e-9L * (mag + fabsl(sum)) + 1e-6L; /* floating-point safety */
  lp->sum = sum + lp->margin;
  return lp->sum;
}

/* (int64_t)ceill(x) for |x| <= 9e18, without glibc's x87 ceill, which
 * switches the FPU's rounding mode twice per call (a pipeline drain each;
 * branch-and-bound asks for it for every option at every node). On the
 * x87 (64-bit significand), fistp stores x as an integer r rounded in the
 * current mode, whichever it is: |r − x| < 1 while |x| < 2^62 (no
 * overflow), and r and x compare exactly, so r < x means r is the floor of
 * a non-integer and r + 1 its ceiling, else r is the ceiling. Compilers
 * call llrintl for that unless told errno is never set (its overflow
 * cannot happen here), hence the one instruction written out. Elsewhere,
 * and beyond 2^62, ceill. */
static int64_t ceil_i64(long double x) {
#if LDBL_MANT_DIG == 64 && defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if (fabsl(x) < 0x1p62L) {
    long long r;
    __asm__("fistpll %0" : "=m"(r) : "t"(x) : "st");
    return (int64_t)r + ((long double)r < x);
  }
#endif
  return (int64_t)ceill(x);
}

static int64_t coverage_bound(struct cl_lp *lp) {
  long double ub = lagrangian(lp, lp->lam, false, 0.0) + (long double)lp->md->deficit;
  if (ub >= (long double)lp->md->need) return lp->md->need;
  return ub < 0 ? 0 : (int64_t)floorl(ub);
}

static int64_t cost_bound(struct cl_lp *lp, int64_t coverage) {
  int nr = glp_get_num_rows(lp->P);
  for (int r = 1; r <= nr; r++) lp->lam[r] = -lp->lam[r]; /* min problem → max form */
  long double lb = -lagrangian(lp, lp->lam, true, (double)(coverage - lp->md->deficit));
  if (lb > 9e18L) return INT64_MAX;
  if (lb < -9e18L) return -INT64_MAX;
  return ceil_i64(lb);
}

long double cl_lp_lagrangian(struct cl_lp *lp, double *mu, bool cost, double total) {
  return lagrangian(lp, mu, cost, total);
}

long double cl_lp_lagrangian_ahead(struct cl_lp *lp, double *mu, bool cost, double total) {
  long double *best = lp->offer_best, *val = lp->col_val, margin = lp->margin, sum = lp->sum;
  lp->offer_best = NULL, lp->col_val = NULL; /* as cl_lp_bb_probe */
  long double v = lagrangian(lp, mu, cost, total);
  lp->offer_best = best, lp->col_val = val, lp->margin = margin, lp->sum = sum;
  return v;
}

void cl_lp_isp_rows(const struct cl_lp *lp, size_t t, int *a, int *b, int *total) {
  *a = lp->row_a[t], *b = lp->row_b[t], *total = lp->row_total;
}

int64_t cl_lp_ceil(long double x) { return ceil_i64(x); }
bool cl_lp_lag_wide(const struct cl_lp *lp) { return lp->lag.wide; }
void cl_lp_probe_copy(struct cl_lp *lp, bool copy) { lp->probe_copy = copy; }

int cl_lp_lazy_list_check(const struct cl_lp *lp) {
  if (!lp->full) return -1;
  const struct cl_model *md = lp->md;
  size_t j = 0;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (md->offer_col[i + 1] - md->offer_col[i] < 2 || lp->gub_row[i]) continue;
    if (j >= lp->n_lazy_off || lp->lazy_off[j] != i) return 0;
    j++;
  }
  return j == lp->n_lazy_off;
}
double cl_lp_bb_dual(const struct cl_lp *lp, int row) { return lp->lam[row]; }

/* Column c's bounds as the LP holds them (scaled), in GLPK and in the
 * nodes' own simplex while there is one: the two always see one LP, but
 * for a node dive's bounds, on the simplex alone until it puts the
 * node's back (ndive_on). */
static void put_col(struct cl_lp *lp, size_t c, double lo, double hi) {
  if (!lp->ndive_on) glp_set_col_bnds(lp->P, lp->x0 + (int)c, lo == hi ? GLP_FX : GLP_DB, lo, hi);
  if (lp->dsx) cl_dsx_set_col(lp->dsx, lp->x0 + (int)c, lo, hi);
}

static void set_col(struct cl_lp *lp, size_t c, double lo, double hi) {
  put_col(lp, c, lo * lp->xscale, hi * lp->xscale);
}

static void native_read(struct cl_lp *lp);

/* The dives' native simplex (dive_native_lp): a copy of P from P's basis,
 * which must be dual feasible for P's objective (an optimum, or one whose
 * bound changes kept it so: cl_dsx_create checks). Installed as dsx, so
 * put_col keeps it in step. None while a branch-and-bound runs (its nodes
 * have their own), for the MILP's scaled columns, when refused, or when
 * the basis has more than DIVE_NATIVE_MAX_K basic columns outside the
 * copy's pairs (pairs: false counts every basic column): the copy keeps
 * that part of K dense, O(k²) a pivot and O(k³) a copy; counting every
 * basic column, the root of 1,000 offers and 1.2× had k = 389 (674 at
 * 2,000), and before the pairs the dives cost more on the copy than on
 * GLPK there (docs/clearing-rounds.md, round 9). */
enum { DIVE_NATIVE_MAX_K = 200 };
/* The least cost at the cap (native_boxed) boxes the rows, which leaves
 * the copy no pairs: every basic column counts. At 400 it runs where it
 * pays (the root of 10,000 offers at 0.4×, k = 299: 4.5 → 1.5 s) and
 * breaks even where it is largest (1,000 offers at 1.2×, k = 389). And a
 * native solve whose K grows beyond NATIVE_FAIL_K fails to GLPK: let run
 * at the root of 10,000 offers and 1.2×, K grew to 3,331 and the solve
 * took 7 s, most of it refactorising. */
enum { BOXED_NATIVE_MAX_K = 400, NATIVE_FAIL_K = 800 };
/* box_rows leaves a row unboxed only when its reduced cost has the right
 * sign by this much relative to the largest cost (the copy's own test of
 * dual feasibility allows 1e-9 of it). */
#define BOX_MARGIN 1e-7

static bool small_kernel(const struct cl_lp *lp, bool pairs, int kmax) {
  const struct cl_model *md = lp->md;
  int k = 0, row = lp->row_total + 1;
  int nc = glp_get_num_cols(lp->P), xe = lp->x0 + (int)md->n_cols;
  for (int j = 1; j <= nc; j++) k += (j < lp->x0 || j >= xe) && glp_get_col_stat(lp->P, j) == GLP_BS;
  for (size_t i = 0; i < md->n_offers && k <= kmax; i++) {
    int basic = 0;
    bool multi = md->offer_col[i + 1] - md->offer_col[i] > 1;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
      basic += glp_get_col_stat(lp->P, lp->x0 + (int)c) == GLP_BS;
    /* A tight offer row with one basic column is a pair the copy keeps
     * out of K (round 9, gub): it costs a division, not a row of K. */
    if (pairs && multi && basic == 1 && glp_get_row_stat(lp->P, row) != GLP_BS) basic = 0;
    row += multi;
    k += basic;
  }
  return k <= kmax;
}

static int copy_basis(struct cl_lp *lp) {
  if (!small_kernel(lp, true, DIVE_NATIVE_MAX_K)) return 0;
  int rc = cl_dsx_create(&lp->dsx, lp->P);
  lp->dive_dsx = lp->dsx != NULL;
  if (lp->dsx) cl_dsx_set_kmax(lp->dsx, NATIVE_FAIL_K);
  return rc == FX_CLEAR_ENOMEM ? rc : 0;
}

static int dive_native_begin(struct cl_lp *lp) {
  if (!lp->dive_native || lp->dsx || lp->kr || lp->mip_built) return 0;
  lp->diving = true;
  return copy_basis(lp);
}

/* The copy gone (GLPK goes on alone until its next optimum); give: its
 * basis to GLPK first, as GLPK's own solve would have left it. */
static void drop_copy(struct cl_lp *lp, bool give) {
  if (!lp->dive_dsx) return;
  if (give) cl_dsx_to_glpk(lp->dsx, lp->P);
  cl_dsx_free(lp->dsx);
  lp->dsx = NULL, lp->dive_dsx = false;
}

static void dive_native_end(struct cl_lp *lp, bool give) {
  drop_copy(lp, give);
  lp->diving = false;
}

/* The total-coverage row's bounds, in GLPK and in the dive's copy (which
 * is dropped if that leaves it dual infeasible). */
static void put_total(struct cl_lp *lp, int type, double lo, double hi) {
  glp_set_row_bnds(lp->P, lp->row_total, type, lo, hi);
  if (lp->dive_dsx &&
      !cl_dsx_set_row(lp->dsx, lp->row_total, type == GLP_LO || type == GLP_DB ? lo : -HUGE_VAL,
                      type == GLP_UP || type == GLP_DB ? hi : HUGE_VAL))
    drop_copy(lp, true);
}

/* Is row r's auxiliary variable, nonbasic at its only bound, dual
 * feasible there by a clear margin for P's objective (its reduced cost
 * from glp_warm_up)? Near zero counts as not: the copy judges dual
 * feasibility with its own arithmetic. */
static bool row_dual_ok(const struct cl_lp *lp, int r, int type, double margin) {
  double dj = glp_get_row_dual(lp->P, r) * (glp_get_obj_dir(lp->P) == GLP_MIN ? 1.0 : -1.0);
  return type == GLP_LO ? dj > margin : dj < -margin;
}

/* Rows of P whose auxiliary variable is nonbasic at its only bound with
 * a reduced cost of the wrong sign for P's objective get a second bound,
 * the row's least or greatest activity over its columns' bounds: it never
 * binds (the LP is the same), but with it the basis is dual feasible once
 * the variable sits at the bound its reduced cost asks. Only those (since
 * round 11; before, every such row): a boxed offer row is no generalised
 * upper bound for the copy, so it cannot pair it with its basic column,
 * and at 1,000 offers and 1.2× boxing 228 rows instead of 381 made the
 * copy 24 → 9 M instructions and its solve 53 → 35 M, ending at the same
 * optimum (docs/clearing-rounds.md, round 11). When GLPK cannot price the basis
 * (glp_warm_up fails) every such row is boxed, as before. The rows' types
 * and bounds go to sv (3 per row, type 0: untouched). */
static void box_rows(struct cl_lp *lp, double *sv, int *ind, double *val) {
  int nr = glp_get_num_rows(lp->P), nc = glp_get_num_cols(lp->P);
  bool priced = glp_warm_up(lp->P) == 0;
  double cmax = 0;
  for (int j = 1; priced && j <= nc; j++) cmax = fmax(cmax, fabs(glp_get_obj_coef(lp->P, j)));
  for (int r = 1; r <= nr; r++) {
    int type = glp_get_row_type(lp->P, r), st = glp_get_row_stat(lp->P, r);
    sv[3 * r] = 0;
    if ((type != GLP_LO && type != GLP_UP) || st == GLP_BS) continue;
    lp->cap.eligible++;
    if (priced && row_dual_ok(lp, r, type, BOX_MARGIN * (1.0 + cmax))) continue;
    double lo = 0, hi = 0;
    for (int q = 1, len = glp_get_mat_row(lp->P, r, ind, val); q <= len; q++) {
      double a = glp_get_col_lb(lp->P, ind[q]) * val[q], b = glp_get_col_ub(lp->P, ind[q]) * val[q];
      lo += fmin(a, b), hi += fmax(a, b);
    }
    double lb = glp_get_row_lb(lp->P, r), ub = glp_get_row_ub(lp->P, r);
    if (type == GLP_LO ? hi <= lb : lo >= ub) continue;
    sv[3 * r] = type, sv[3 * r + 1] = lb, sv[3 * r + 2] = ub;
    double slack = 1e-6 * (1.0 + fabs(hi) + fabs(lo)); /* strictly beyond the activity */
    if (type == GLP_LO) glp_set_row_bnds(lp->P, r, GLP_DB, lb, hi + slack);
    else glp_set_row_bnds(lp->P, r, GLP_DB, lo - slack, ub);
    lp->cap.boxed++;
  }
}

/* Their own bounds back; true when none of them is nonbasic at the
 * second bound (the basis is then optimal for the LP itself). */
static bool unbox_rows(struct cl_lp *lp, const double *sv) {
  int nr = glp_get_num_rows(lp->P);
  bool clean = true;
  for (int r = 1; r <= nr; r++) {
    int type = (int)sv[3 * r];
    if (!type) continue;
    int st = glp_get_row_stat(lp->P, r);
    if ((type == GLP_LO && st == GLP_NU) || (type == GLP_UP && st == GLP_NL)) clean = false;
    glp_set_row_bnds(lp->P, r, type, sv[3 * r + 1], sv[3 * r + 2]);
    if (st != GLP_BS) glp_set_row_stat(lp->P, r, type == GLP_LO ? GLP_NL : GLP_NU);
  }
  return clean;
}

/* P's LP by the native dual simplex from P's current basis (a primal
 * one: the phase-1 optimum for the least cost at the cap), made dual
 * feasible by box_rows; *done when it solved it to an optimum of the LP
 * itself (no row left at its second bound), its basis then GLPK's. Else
 * GLPK's primal simplex goes on, from P's basis as it was, or from the
 * copy's optimum with those rows put back on their own bound. Under the
 * switch and its own kernel limit (BOXED_NATIVE_MAX_K), and only
 * where no redives follow: the capped LP's vertex, which this changes, is
 * where they start, and on markets of 300 offers their answers changed
 * (better and worse; docs/clearing-rounds.md, round 9). */
static int native_boxed(struct cl_lp *lp, bool *done) {
  *done = false;
  if (!lp->native_cap || lp->dsx || lp->kr || lp->mip_built || !small_kernel(lp, false, BOXED_NATIVE_MAX_K)) return 0;
  if (lp->deadline > 0 && lp->deadline - cl_now_ms() < 1) return 0; /* solve() says so */
  int nr = glp_get_num_rows(lp->P), nc = glp_get_num_cols(lp->P);
  double *sv = malloc(3 * ((size_t)nr + 1) * sizeof *sv), *val = malloc(((size_t)nc + 1) * sizeof *val);
  int *ind = malloc(((size_t)nc + 1) * sizeof *ind);
  if (!sv || !val || !ind) {
    free(sv), free(val), free(ind);
    return FX_CLEAR_ENOMEM;
  }
  box_rows(lp, sv, ind, val);
  struct cl_dsx *d = NULL;
  int rc = cl_dsx_create(&d, lp->P);
  if (!rc) {
    long pivots = 0;
    cl_dsx_set_kmax(d, NATIVE_FAIL_K);
    lp->solves++;
    *done = cl_dsx_solve(d, lp->it_lim > 0 ? lp->it_lim : INT32_MAX, false, &pivots) == CL_DSX_OPT;
    if (*done) cl_dsx_to_glpk(d, lp->P), lp->dive_native_solved++, lp->cap.obj = cl_dsx_obj(d);
  }
  cl_dsx_free(d);
  *done = unbox_rows(lp, sv) && *done;
  free(sv), free(val), free(ind);
  return rc == FX_CLEAR_ENOMEM ? rc : 0;
}

/* A dive's warm re-solve after bound changes, as solve(GLP_DUALP) reports
 * it: on the dive's copy while there is one; when that fails, GLPK from
 * its basis, and (once GLPK has an optimum) a new copy of it. The copy
 * has no set-up per call; GLPK sets up and refactorises at every one. */
static bool dive_solve(struct cl_lp *lp) {
  if (lp->dive_dsx) {
    if (lp->deadline > 0 && lp->deadline - cl_now_ms() < 1) {
      lp->budget_hit = true;
      return false;
    }
    long pivots = 0;
    lp->solves++;
    int rc = cl_dsx_solve(lp->dsx, lp->it_lim > 0 ? lp->it_lim : INT32_MAX, false, &pivots);
    if (rc == CL_DSX_OPT || rc == CL_DSX_ITLIM) {
      native_read(lp);
      lp->dive_native_solved++;
      if (rc == CL_DSX_OPT) return true;
      lp->budget_hit = true; /* as solve(): duals only from an optimum */
      memset(lp->lam, 0, ((size_t)cl_dsx_rows(lp->dsx) + 1) * sizeof *lp->lam);
      return false;
    }
    drop_copy(lp, true); /* infeasible, or numerical trouble: GLPK decides */
  }
  lp->dive_glpk_solved++;
  bool ok = solve(lp, GLP_DUALP);
  if (ok && lp->diving && copy_basis(lp)) return false; /* out of memory: stop the dive */
  return ok;
}

static int frac_cmp(const void *a, const void *b) {
  const struct frac *x = a, *y = b;
  if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
  return x->offer < y->offer ? -1 : x->offer > y->offer;
}

static bool frac_find(const struct cl_lp *lp, size_t i, struct frac *f) {
  const struct cl_model *md = lp->md;
  size_t a = md->offer_col[i], b = md->offer_col[i + 1], best = a;
  int pos = 0;
  double sum = 0;
  for (size_t c = a; c < b; c++) {
    if (lp->x[c] > 1e-7) pos++;
    if (lp->x[c] > lp->x[best]) best = c;
    sum += lp->x[c] > 0.0 ? lp->x[c] : 0.0; /* fmax's sum without the call (a -0 adds nothing either way) */
  }
  double lo = md->col[best].min_af / 100.0;
  if (pos == 0 || (pos == 1 && lp->x[best] >= lo - 1e-7)) return false;
  f->offer = i, f->col = best, f->up = sum * 2 >= lo;
  f->dist = sum >= lo ? 1.0 - lp->x[best] / sum : fmin(sum, lo - sum) / lo;
  return true;
}

/* No fraction in offer i for frac_find to find, told from its first
 * column above 1e-7 (most offers of a dive's solution: none, or one at 1
 * and none after it): frac_find counts no positive column there, or one
 * at 1, at or above its minimum, and says false after summing them all.
 * cl_lp_bb_frac skips the same offers the same way. */
static bool frac_none(const struct cl_lp *lp, size_t i) {
  const size_t *oc = lp->md->offer_col;
  size_t c = oc[i], b = oc[i + 1];
  while (c < b && lp->x[c] <= 1e-7) c++;
  if (c == b) return true;
  if (lp->x[c] != 1.0) return false;
  for (c++; c < b && lp->x[c] <= 1e-7; c++) continue;
  return c == b;
}

/* Fix the share of fractional offers whose rounding moves them least: keep
 * the largest option; raise it to its minimum or drop it. Fixing a few at a
 * time lets the LP re-balance the rest around them (fixing all at once
 * drops cheap offers the coverage cannot spare). Returns how many offers
 * were fractional. */
static int fix_fractional(struct cl_lp *lp, double share) {
  const struct cl_model *md = lp->md;
  size_t n = 0;
  memset(lp->forced, 0, md->n_offers * sizeof *lp->forced);
  /* The offers in order by their columns, most of which are 0 in a dive's
   * solution: an offer's first column above 1e-7 leads to it (one with
   * none has no fraction), and its other columns are frac_find's. */
  for (size_t c = 0; c < md->n_cols; c++) {
    if (lp->x[c] <= 1e-7) continue;
    size_t i = md->col[c].offer;
    c = md->offer_col[i + 1] - 1;
    if (!frac_none(lp, i) && frac_find(lp, i, &lp->frac[n])) n++;
  }
  qsort(lp->frac, n, sizeof *lp->frac, frac_cmp);
  size_t nfix = (size_t)ceil(share * (double)n);
  for (size_t j = 0; j < nfix && j < n; j++) {
    const struct frac *f = &lp->frac[j];
    for (size_t c = md->offer_col[f->offer]; c < md->offer_col[f->offer + 1]; c++)
      if (c != f->col) set_col(lp, c, 0.0, 0.0);
    double lo = md->col[f->col].min_af / 100.0;
    set_col(lp, f->col, f->up ? lo : 0.0, f->up ? 1.0 : 0.0);
    lp->forced[f->offer] = f->up;
  }
  return (int)n;
}

static void unforce(struct cl_lp *lp) {
  for (size_t i = 0; i < lp->md->n_offers; i++) {
    if (!lp->forced[i]) continue;
    for (size_t c = lp->md->offer_col[i]; c < lp->md->offer_col[i + 1]; c++) set_col(lp, c, 0.0, 0.0);
  }
}

/* Re-solve after fixing bounds: the basis stays dual feasible, so the dual
 * simplex needs few pivots. Forced minimums that make it infeasible are
 * dropped to zero instead. */
static bool resolve(struct cl_lp *lp) {
  if (dive_solve(lp)) return true;
  if (lp->budget_hit) return false;
  unforce(lp);
  return dive_solve(lp);
}

/* Up to the next hundredth: the dive met the target in the LP, and
 * rounding down would fall short of it; trim takes back what is spare. */
static void to_state(const struct cl_lp *lp, struct cl_state *st) {
  cl_state_round(st, lp->md, lp->x, true);
}

/* The coverage the search aims for: the proven maximum less the tolerance
 * (rounded so the coverage gap stays within it), never below floor. */
static int64_t coverage_target(const struct cl_lp *lp, int64_t ub) {
  int64_t give = lp->tol > 0 ? (int64_t)floor(lp->tol * (double)ub) : 0;
  int64_t t = ub - (give > 0 ? give : 0);
  return t > lp->floor_cov ? t : lp->floor_cov;
}

/* Weighted objective with total coverage capped at the target: the LP buys
 * coverage up to the target as cheaply as it can, and nothing beyond. */
static void capped(struct cl_lp *lp, int64_t target, int64_t ub) {
  weighted(lp);
  int64_t cap = target + (ub - target) / 32; /* headroom for the rounding to integers */
  glp_set_row_bnds(lp->P, lp->row_total, GLP_UP, 0.0, (double)(cap - lp->md->deficit));
}

/* Each coverage column at the coverage the start's power gives its ISP:
 * at its cap, or basic in place of its row's slack (the row then tight).
 * Left at their lower bound, as before round 10, they made the start's
 * objective zero whatever it covered, and the primal simplex spent its
 * first ~600 pivots at 1,000 offers and 1.2× buying back coverage the
 * start already had (docs/clearing-rounds.md, round 10 ph1). Only cov_t and its
 * own row trade places, so the basis stays triangular there. Where the
 * start keeps s·d_t >= L_t, cov_t's value s·d_t + off_t is within its
 * bounds (covmin_t <= off_t + L_t); an answer's full orders alone (the
 * proof's start) may not, and the primal simplex's own phase 1 then
 * mends the start, as before. */
static int cover_basis(struct cl_lp *lp, const struct cl_state *start) {
  const struct cl_model *md = lp->md;
  int64_t *sd = calloc(md->n_isps ? md->n_isps : 1, sizeof *sd);
  if (!sd) return FX_CLEAR_ENOMEM;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (start->col[i] < 0 || start->k[i] != 100) continue;
    const struct cl_col *cl = &md->col[start->col[i]];
    for (size_t q = 0; q < cl->n; q++) sd[cl->first + q] += md->isp[cl->first + q].s * cl->p[q];
  }
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!lp->cov_col[t] || is->covmin == is->cap) continue; /* fixed: GLP_NS already */
    int64_t v = sd[t] + is->off;
    if (v >= is->cap) {
      glp_set_col_stat(lp->P, lp->cov_col[t], GLP_NU);
    } else if (v > is->covmin) {
      glp_set_col_stat(lp->P, lp->cov_col[t], GLP_BS);
      glp_set_row_stat(lp->P, lp->row_b[t], GLP_NL);
    } else { /* the standard basis takes the bound nearer zero: the cap, with a base */
      glp_set_col_stat(lp->P, lp->cov_col[t], GLP_NL);
    }
  }
  free(sd);
  return 0;
}

/* Start the simplex at a feasible integer choice (full factors only, so it
 * holds on the continuous rows too): every row basic but the coverage rows
 * cover_basis makes tight, the chosen columns at their upper bound. It
 * saves the pivots that would walk there from zero. */
static int warm_basis(struct cl_lp *lp, const struct cl_state *start, bool cover) {
  const struct cl_model *md = lp->md;
  glp_std_basis(lp->P);
  for (size_t i = 0; i < md->n_offers; i++)
    if (start->col[i] >= 0 && start->k[i] == 100)
      glp_set_col_stat(lp->P, lp->x0 + start->col[i], GLP_NU);
  return cover ? cover_basis(lp, start) : 0;
}

/* The maximum-coverage LP's start where cover_start is on: cover order's
 * choice (cl_cover_order; merit order's, start, is kept for the target's
 * floor). At 1,000 offers it leaves the answers as they were on the
 * sixteen markets of the sweep; at 100 and 300 offers, where phase 1 is a
 * small part and redives and the branch-and-bound start from the vertices
 * that follow from phase 1's, it moved the answers both ways (round 10). */
static int cover_start(struct cl_lp *lp, const struct cl_state *start) {
  if (!lp->cover_start) return warm_basis(lp, start, false);
  struct cl_state cs = {0};
  int rc = cl_state_init(&cs, lp->md);
  if (!rc) rc = cl_cover_order(&cs, lp->md);
  if (!rc) rc = warm_basis(lp, &cs, true);
  cl_state_free(&cs);
  return rc;
}

static int save_basis(const struct cl_lp *lp, struct basis *b) {
  int nr = glp_get_num_rows(lp->P), nc = glp_get_num_cols(lp->P);
  free(b->stat);
  b->stat = malloc(((size_t)nr + (size_t)nc + 1) * sizeof *b->stat);
  if (!b->stat) return FX_CLEAR_ENOMEM;
  b->nr = nr, b->nc = nc;
  for (int r = 1; r <= nr; r++) b->stat[r] = (char)glp_get_row_stat(lp->P, r);
  for (int j = 1; j <= nc; j++) b->stat[nr + j] = (char)glp_get_col_stat(lp->P, j);
  return 0;
}

/* false (and nothing changed) when b was saved from another shape of LP. */
static bool restore_basis(struct cl_lp *lp, const struct basis *b) {
  int nr = glp_get_num_rows(lp->P), nc = glp_get_num_cols(lp->P);
  if (!b->stat || b->nr != nr || b->nc != nc) return false;
  for (int r = 1; r <= nr; r++) glp_set_row_stat(lp->P, r, b->stat[r]);
  for (int j = 1; j <= nc; j++) glp_set_col_stat(lp->P, j, b->stat[nr + j]);
  return true;
}

/* Rounds of fix-and-resolve from the capped LP's solution, fixing share of
 * the fractional offers per round (all of them in the last round). */
static void dive(struct cl_lp *lp, double share, int rounds, struct cl_state *st) {
  bool ok = true;
  int round = 0;
  while (ok && round < rounds && fix_fractional(lp, round + 1 < rounds ? share : 1.0) > 0) {
    round++;
    ok = resolve(lp);
  }
  if (ok && round == rounds && fix_fractional(lp, 1.0) > 0) lp->budget_hit = true;
  to_state(lp, st);
}

/* The maximum-coverage LP on the native dual simplex (root_native_phase1,
 * round 15), from cover order's choice cs: its options at 1, the others
 * at 0, every row basic, each coverage column at its cap. The options
 * cost nothing, so with every row basic their reduced costs are 0 and
 * either bound is dual feasible; a coverage column (cost 1, maximised)
 * is dual feasible at its upper bound. The dual simplex then only repairs
 * the coverage rows cover order leaves short of their caps (GLPK's primal
 * simplex instead walks from the start's coverage up, pricing all 1,683
 * columns over a fresh LU per refactorisation). *done when it reached an
 * optimum: its basis is then P's, and the duals, x and cov_lp are read
 * from it. Else P's basis is left for the caller to set again (GLPK's
 * phase 1 from cover_basis goes on as before). K grows with the coverage
 * rows made tight; past NATIVE_PH1_MAX_K the solve fails to GLPK. */
enum { NATIVE_PH1_MAX_K = 400 };
static int native_phase1(struct cl_lp *lp, const struct cl_state *cs, bool *done) {
  *done = false, lp->ph1_native = false, lp->ph1_pivots = 0;
  if (!lp->native_ph1 || lp->dsx || lp->kr || lp->mip_built) return 0;
  if (lp->deadline > 0 && lp->deadline - cl_now_ms() < 1) return 0; /* solve() says so */
  int rc = warm_basis(lp, cs, false);
  if (rc) return rc;
  for (size_t t = 0; t < lp->md->n_isps; t++)
    if (lp->cov_col[t] && glp_get_col_type(lp->P, lp->cov_col[t]) == GLP_DB)
      glp_set_col_stat(lp->P, lp->cov_col[t], GLP_NU);
  phase1(lp);
  struct cl_dsx *d = NULL;
  rc = cl_dsx_create(&d, lp->P);
  if (rc) return rc == FX_CLEAR_ENOMEM ? rc : 0;
  cl_dsx_set_kmax(d, NATIVE_PH1_MAX_K);
  lp->solves++;
  *done = cl_dsx_solve(d, lp->it_lim > 0 ? lp->it_lim : INT32_MAX, false, &lp->ph1_pivots) == CL_DSX_OPT;
  if (*done) {
    cl_dsx_to_glpk(d, lp->P);
    cl_dsx_read(d, lp->lam, lp->x, lp->x0, lp->md->n_cols, lp->xscale);
    lp->cov_lp = cl_dsx_obj(d);
    lp->ph1_native = true;
  }
  cl_dsx_free(d);
  return 0;
}

static bool phase1_solve(struct cl_lp *lp);


/* The root's maximum-coverage basis kept (round 23): the coverage search
 * (clear.c, coverage_bb) maximises the same coverage over the same rows
 * and columns, and from the basis the cost LPs and dives left its first
 * node took thousands of GLPK's pivots (6,942 on 1.2x seed 246 at 1,000
 * offers) where from this one it takes none. Out of memory: not kept. */
static void save_cov_basis(struct cl_lp *lp) {
  int nr = glp_get_num_rows(lp->P), nc = glp_get_num_cols(lp->P);
  free(lp->cov_rs), free(lp->cov_cs);
  lp->cov_rs = malloc(((size_t)nr + 1) * sizeof *lp->cov_rs);
  lp->cov_cs = malloc(((size_t)nc + 1) * sizeof *lp->cov_cs);
  lp->cov_nr = lp->cov_nc = 0;
  if (!lp->cov_rs || !lp->cov_cs) return;
  for (int r = 1; r <= nr; r++) lp->cov_rs[r] = glp_get_row_stat(lp->P, r);
  for (int c = 1; c <= nc; c++) lp->cov_cs[c] = glp_get_col_stat(lp->P, c);
  lp->cov_nr = nr, lp->cov_nc = nc;
}

/* The kept basis into P where P still has its rows and columns (none
 * added since): false where it cannot be. */
static bool put_cov_basis(struct cl_lp *lp) {
  if (lp->cov_skip || !lp->cov_nr || glp_get_num_rows(lp->P) != lp->cov_nr || glp_get_num_cols(lp->P) != lp->cov_nc)
    return false;
  for (int r = 1; r <= lp->cov_nr; r++) glp_set_row_stat(lp->P, r, lp->cov_rs[r]);
  for (int c = 1; c <= lp->cov_nc; c++) glp_set_col_stat(lp->P, c, lp->cov_cs[c]);
  lp->cov_put++;
  return true;
}

/* Phase 1 of the root (cl_lp_dive): natively where native_ph1 allows and
 * the copy solves it, else GLPK's primal simplex from cover_start's basis.
 * *ok: solved to optimality (cov_lp, lam and x then set). */
static int root_phase1(struct cl_lp *lp, const struct cl_state *start, bool *ok) {
  *ok = false;
  struct cl_state cs = {0};
  int rc = 0;
  if (lp->native_ph1) {
    rc = cl_state_init(&cs, lp->md);
    if (!rc) rc = cl_cover_order(&cs, lp->md);
    if (!rc) rc = native_phase1(lp, &cs, ok);
  }
  if (!rc && !*ok) {
    rc = lp->native_ph1 ? warm_basis(lp, &cs, true) : cover_start(lp, start);
    phase1(lp);
    if (!rc) *ok = phase1_solve(lp);
    if (*ok) lp->cov_lp = glp_get_obj_val(lp->P);
  }
  if (!rc && *ok) save_cov_basis(lp);
  cl_state_free(&cs);
  return rc;
}

/* Phase 1 (maximum coverage) by GLPK's primal simplex. From cover order's
 * start (cover_start) it prices by Dantzig's rule, not GLPK's projected
 * steepest edge: more pivots (590 instead of 502 at 1,000 offers and
 * 1.2×), each cheaper. Its optimum is another vertex of the same LP, but
 * the least cost at the cap after it ends at the same optimum on every
 * market measured (the 32 of the sweep: the same answers, bounds and
 * nodes), and with it the root's LPs cost 12 % fewer instructions there
 * together with box_rows' rule (docs/clearing-rounds.md, round 11). Merit
 * order's start (up to redive_max_offers, where the redives start from
 * the capped LP's vertex) keeps GLPK's default. */
static bool phase1_solve(struct cl_lp *lp) {
  if (lp->cover_start) lp->parm.pricing = GLP_PT_STD;
  bool ok = solve(lp, GLP_PRIMAL);
  lp->parm.pricing = GLP_PT_PSE;
  return ok;
}

/* Minimum cost at coverage >= the cap, from the phase-1 optimum: that covers
 * more, so the primal simplex starts feasible. The capped LP of the dive has
 * the same optimum whenever its weight buys coverage up to the cap (the
 * weight exceeds any offer's price per watt), so it then starts at or next
 * to its optimum (0 pivots on the bench's markets); from the phase-1 basis
 * it started infeasible and went through the simplex's own phase 1 (406
 * pivots at 1,000 offers, docs/clearing-rounds.md, round 6). The basis is kept
 * for the cost bound, whose LP differs only in the coverage it asks.
 * With dive_native_lp, above redive_max_offers, the native dual simplex
 * solves it first, from the same basis with the tight one-sided rows
 * boxed by their activity (201 pivots instead of GLPK's 385 primal ones
 * at 1,000 offers and 0.4×, 379 instead of 828 at 2,000; round 9). */
static int cost_at_cap(struct cl_lp *lp, const struct cl_lp_out *out) {
  int64_t cap = out->target + (out->coverage_ub - out->target) / 32;
  phase2(lp, fmin((double)(cap - lp->md->deficit), lp->cov_lp));
  bool ok = false;
  lp->cap = (struct cl_lp_cap){0};
  int rc = native_boxed(lp, &ok);
  if (rc) return rc;
  lp->cap.native = ok;
  if (!ok) ok = solve(lp, GLP_PRIMAL);
  lp->cap.optimal = ok;
  if (!lp->cap.native) lp->cap.obj = ok ? glp_get_obj_val(lp->P) : 0.0;
  return ok ? save_basis(lp, &lp->cost_basis) : 0;
}

void cl_lp_cap_figures(const struct cl_lp *lp, struct cl_lp_cap *out) { *out = lp->cap; }

/* The capped LP, from the least cost at the cap's optimum, which is its
 * own wherever the weight buys coverage up to the cap (0 pivots on the
 * bench's markets). With dive_native_lp the dive's copy is taken first
 * and solves it (nothing to do but check), so GLPK's call, which sets up
 * and refactorises the LP only to find it optimal, is spared: 3–4 M
 * instructions at 1,000 offers, the same answers on the 32 markets
 * (round 11). Where the copy is refused (the basis not dual feasible for
 * the weighted objective, or K too large) GLPK's primal simplex solves
 * it, as before, and the dive copies its optimum. The basis ends in P
 * either way (capped_basis is saved from it). */
static int capped_solve(struct cl_lp *lp) {
  int rc = dive_native_begin(lp);
  if (rc) return rc;
  if (lp->dive_dsx) {
    lp->capped_ok = dive_solve(lp);
    lp->cap.capped_native = lp->capped_ok && lp->dive_dsx;
    if (lp->dive_dsx) cl_dsx_to_glpk(lp->dsx, lp->P);
    return 0;
  }
  lp->diving = false;
  lp->capped_ok = solve(lp, GLP_PRIMAL);
  return 0;
}

int cl_lp_dive(struct cl_lp *lp, struct cl_state *st, struct cl_lp_out *out,
               const struct cl_state *start, double tol) {
  lp->floor_cov = start->cov;
  lp->tol = tol;
  bool ok;
  int rc = root_phase1(lp, start, &ok);
  if (rc) return rc;
  out->coverage_ub = coverage_bound(lp);
  out->target = coverage_target(lp, out->coverage_ub);
  rc = ok ? cost_at_cap(lp, out) : 0;
  if (rc) return rc;
  capped(lp, out->target, out->coverage_ub);
  rc = capped_solve(lp);
  if (!rc) rc = save_basis(lp, &lp->capped_basis);
  if (rc) return rc;
  if (lp->capped_ok) {
    rc = dive_native_begin(lp);
    if (rc) return rc;
    dive(lp, 1.0, lp->dive_rounds, st);
    dive_native_end(lp, true);
  } else {
    dive_native_end(lp, true); /* a copy capped_solve left */
    to_state(lp, st);
  }
  out->budget_hit = lp->budget_hit;
  out->solves = lp->solves;
  return 0;
}

/* The proof's reduced market (clear_sub.c) from its answer: cover order
 * there moved its branch-and-bound for the worse (round 10: 5,515 → 6,656
 * nodes on the sixteen markets), the coverage columns at the answer's
 * full orders' coverage did not (5,515 → 5,246; 9,602 → 9,131 on 32) and
 * halve this solve. */
int cl_lp_root(struct cl_lp *lp, const struct cl_state *start, struct cl_lp_out *out) {
  int rc = warm_basis(lp, start, lp->cover_start);
  if (rc) return rc;
  phase1(lp);
  if (solve(lp, GLP_PRIMAL)) lp->cov_lp = glp_get_obj_val(lp->P);
  out->coverage_ub = coverage_bound(lp);
  out->budget_hit = lp->budget_hit;
  out->solves = lp->solves;
  return 0;
}

int cl_lp_phase1(struct cl_lp *lp, const struct cl_state *start, bool scratch,
                 struct cl_lp_phase1 *out) {
  memset(out, 0, sizeof *out);
  int rc = scratch ? (glp_std_basis(lp->P), 0) : cover_start(lp, start);
  if (rc) return rc;
  phase1(lp);
  out->feasible = glp_warm_up(lp->P) == 0 && glp_get_prim_stat(lp->P) == GLP_FEAS;
  out->start_obj = glp_get_obj_val(lp->P);
  int it0 = glp_get_it_cnt(lp->P);
  if (scratch) {
    out->optimal = solve(lp, GLP_PRIMAL);
    lp->cov_lp = glp_get_obj_val(lp->P);
  } else {
    rc = root_phase1(lp, start, &out->optimal);
    if (rc) return rc;
  }
  out->native = !scratch && lp->ph1_native;
  out->dantzig = !scratch && lp->cover_start && !out->native;
  out->pivots = out->native ? lp->ph1_pivots : glp_get_it_cnt(lp->P) - it0;
  out->cov_lp = lp->cov_lp;
  out->coverage_ub = coverage_bound(lp);
  return 0;
}

int cl_lp_root_fix(struct cl_lp *lp, int64_t coverage, int64_t u, bool *keep) {
  const struct cl_model *md = lp->md;
  size_t no = md->n_offers ? md->n_offers : 1, nc = md->n_cols ? md->n_cols : 1;
  lp->offer_best = calloc(no, sizeof *lp->offer_best);
  lp->col_val = calloc(nc, sizeof *lp->col_val);
  int rc = lp->offer_best && lp->col_val ? 0 : FX_CLEAR_ENOMEM;
  if (lp->kr) rc = FX_CLEAR_EINVAL; /* a branch-and-bound is running */
  lp->bb_cov = false; /* a coverage branch-and-bound may have run before */
  if (!rc) lagrangian(lp, lp->lam, true, (double)(coverage - md->deficit)); /* lam: max form */
  for (size_t i = 0; !rc && i < md->n_offers; i++)
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
      keep[c] = cl_lp_bb_child(lp, i, c, true) < u;
  free(lp->offer_best), free(lp->col_val);
  lp->offer_best = NULL, lp->col_val = NULL;
  return rc;
}

int cl_lp_redive(struct cl_lp *lp, struct cl_state *st, struct cl_lp_out *out, double share) {
  cl_state_clear(st, lp->md);
  if (!lp->capped_ok || lp->mip_built) return 0; /* the basis fits the LP only */
  for (size_t c = 0; c < lp->md->n_cols; c++) set_col(lp, c, 0.0, 1.0);
  if (!restore_basis(lp, &lp->capped_basis)) return 0;
  int rounds = (int)fmin(lp->dive_rounds / share, 4.0 * lp->dive_rounds);
  /* On GLPK: natively the partial fixings end elsewhere (other optimal
   * vertices), and on 32 markets of 300 offers the answers changed,
   * worse on 6 and better on 3 (docs/clearing-rounds.md, round 9). */
  if (solve(lp, GLP_DUALP)) dive(lp, share, rounds, st);
  out->budget_hit = lp->budget_hit;
  out->solves = lp->solves;
  return 0;
}

bool cl_lp_exact(const struct cl_lp *lp) { return lp->exact; }

int64_t cl_lp_target(const struct cl_lp *lp, int64_t coverage_ub) {
  return coverage_target(lp, coverage_ub);
}

/* The MILP's activation is the factor itself, an integer in hundredths:
 * divide each x column by 100 (offer rows become Σ k <= 100). */
static void scale_factor_cols(struct cl_lp *lp) {
  int nr = glp_get_num_rows(lp->P);
  int *ind = malloc(((size_t)nr + 1) * sizeof *ind);
  double *val = malloc(((size_t)nr + 1) * sizeof *val);
  if (!ind || !val) {
    free(ind), free(val);
    return; /* stays continuous: still a relaxation, bounds stay valid */
  }
  for (size_t c = 0; c < lp->md->n_cols; c++) {
    int j = lp->x0 + (int)c, n = glp_get_mat_col(lp->P, j, ind, val);
    for (int e = 1; e <= n; e++) val[e] /= 100.0;
    glp_set_mat_col(lp->P, j, n, ind, val);
    glp_set_col_kind(lp->P, j, GLP_IV);
  }
  for (int r = lp->row_total + 1; r <= nr; r++)
    if (glp_get_row_type(lp->P, r) == GLP_UP) glp_set_row_bnds(lp->P, r, GLP_UP, 0.0, 100.0);
  lp->xscale = 100.0;
  free(ind), free(val);
}

/* Binary y per column with min_af·y <= k <= 100·y, one y per offer: a
 * search for answers only. Its optimum is no bound (before round 13 the
 * rows were widened by the rounding slack and it was taken for one), since
 * GLPK's tolerances scale with the columns' ranges: on a market with
 * terawatt coverage columns a reduced cost inside the tolerance was worth
 * 690 of cost, and GLPK proved a least cost of 24,900 where 13,800 is
 * ordered (test_clear_fuzzfound.c). clear.c's exact_proof proves the
 * bounds. */
static int mip_build(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  if (lp->mip_built || !md->n_cols) return 0;
  lp->mip_built = true;
  int y0 = glp_add_cols(lp->P, (int)md->n_cols);
  int r = glp_add_rows(lp->P, (int)(2 * md->n_cols + md->n_offers));
  int ind[3];
  double val[3];
  int *idx = malloc((md->n_cols + 1) * sizeof *idx);
  double *one = malloc((md->n_cols + 1) * sizeof *one);
  if (!idx || !one) {
    free(idx), free(one);
    return FX_CLEAR_ENOMEM;
  }
  scale_factor_cols(lp);
  for (size_t c = 0; c < md->n_cols; c++) {
    int x = lp->x0 + (int)c, y = y0 + (int)c;
    glp_set_col_kind(lp->P, y, GLP_BV);
    ind[1] = x, ind[2] = y, val[1] = 1.0, val[2] = -100.0;
    glp_set_mat_row(lp->P, r, 2, ind, val);
    glp_set_row_bnds(lp->P, r++, GLP_UP, 0.0, 0.0);
    val[2] = -md->col[c].min_af;
    glp_set_mat_row(lp->P, r, 2, ind, val);
    glp_set_row_bnds(lp->P, r++, GLP_LO, 0.0, 0.0);
  }
  for (size_t i = 0; i < md->n_offers; i++) {
    int n = 0;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) idx[++n] = y0 + (int)c, one[n] = 1.0;
    glp_set_mat_row(lp->P, r, n, idx, one);
    glp_set_row_bnds(lp->P, r++, n ? GLP_UP : GLP_FR, 0.0, 1.0);
  }
  free(idx), free(one);
  double *lam = realloc(lp->lam, ((size_t)glp_get_num_rows(lp->P) + 1) * sizeof *lam);
  if (!lam) return FX_CLEAR_ENOMEM;
  lp->lam = lam, lp->lam_cap = (size_t)glp_get_num_rows(lp->P) + 1;
  return 0;
}

/* The ISP rows exact: the MILP's choices hold on the LP's (unrounded)
 * watts; to_state and the polish judge them on rounded ones. */
static void mip_rows(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->constrained) continue;
    glp_set_row_bnds(lp->P, lp->row_a[t], is->lo == is->hi ? GLP_FX : GLP_DB, (double)is->lo,
                     (double)is->hi);
    if (lp->row_b[t]) glp_set_row_bnds(lp->P, lp->row_b[t], GLP_LO, (double)-is->off, 0.0);
  }
}

/* GLPK has a time limit but no node limit; a node limit keeps the answer
 * the same on every machine. */
struct node_budget {
  int left;
};

static void count_nodes(glp_tree *T, void *info) {
  struct node_budget *b = info;
  if (glp_ios_reason(T) == GLP_ISELECT && --b->left < 0) glp_ios_terminate(T);
}

/* Branch-and-bound; true when GLPK proved its optimum. */
static bool mip_solve(struct cl_lp *lp, bool *have) {
  glp_iocp parm;
  struct node_budget budget = {lp->mip_nodes};
  glp_init_iocp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.mip_gap = 0.0;
  parm.cb_func = count_nodes;
  parm.cb_info = &budget;
  parm.tm_lim = INT32_MAX;
  if (lp->deadline > 0) {
    double left = lp->deadline - cl_now_ms();
    parm.tm_lim = left < 1 ? 1 : (int)left;
  }
  /* intopt starts from the optimal LP basis (no presolve: keeps it warm). */
  if (!solve(lp, GLP_PRIMAL)) {
    *have = false;
    return false;
  }
  lp->solves++;
  /* msg_lev does not reach everything inside intopt: its basis
   * construction (glp_adv_basis) prints to standard output whatever it
   * says (found by fuzz_clear on a market that MIP_MAX_SPAN now keeps
   * from here; test_clear_fuzzfound.c, 4.), which `flexd clear --json`
   * writes its document to. GLPK's terminal output is per thread. */
  int term = glp_term_out(GLP_OFF);
  int rc = glp_intopt(lp->P, &parm);
  glp_term_out(term);
  int st = glp_mip_status(lp->P);
  if (rc == GLP_ETMLIM || rc == GLP_ESTOP) lp->budget_hit = true;
  *have = st == GLP_OPT || st == GLP_FEAS;
  if (*have)
    for (size_t c = 0; c < lp->md->n_cols; c++)
      lp->x[c] = glp_mip_col_val(lp->P, lp->x0 + (int)c) / lp->xscale;
  return rc == 0 && st == GLP_OPT;
}

/* Powers spanning more than this ratio (largest to smallest nonzero) are
 * not given to GLPK's MILP: its integer search's simplex aborted the
 * process (an assertion in spxprim.c, "teta_lim >= 0.0") on a market with
 * 2 W beside 1 TW (fuzz_clear; test_clear_fuzzfound.c), and its optimum
 * was wrong on such markets before. The MILP only finds answers; the
 * other steps and the proof (clear.c, exact_proof) clear these markets.
 * The bench's markets span about 10^3; a congestion point's, from a watt
 * to 100 MW, at most 10^8. */
#define MIP_MAX_SPAN 1e9

static bool mip_scaled(const struct cl_model *md) {
  double lo = INFINITY, hi = 0.0;
  for (size_t c = 0; c < md->n_cols; c++)
    for (size_t q = 0; q < md->col[c].n; q++) {
      double v = fabs((double)md->col[c].p[q]);
      if (v > 0) lo = fmin(lo, v), hi = fmax(hi, v);
    }
  return hi <= MIP_MAX_SPAN * lo;
}

int cl_lp_mip(struct cl_lp *lp, struct cl_state *st, struct cl_lp_out *out) {
  cl_state_clear(st, lp->md);
  if (!mip_scaled(lp->md)) return 0;
  int rc = mip_build(lp);
  if (rc) return rc;
  for (size_t c = 0; c < lp->md->n_cols; c++) set_col(lp, c, 0.0, 1.0);
  bool have;
  mip_rows(lp);
  phase1(lp);
  mip_solve(lp, &have);
  if (have) {
    double c1 = fmin(glp_mip_obj_val(lp->P), (double)(out->target - lp->md->deficit));
    phase2(lp, c1 - fmax(1e-9 * fabs(c1), 1e-6));
    mip_solve(lp, &have);
  }
  if (have) to_state(lp, st);
  out->budget_hit = lp->budget_hit;
  out->solves = lp->solves;
  return 0;
}

/* The cost-bound LP: every column free in [0, 1], cost minimised at
 * coverage (less a margin below the maximum, cov_lp). */
static void cost_lp(struct cl_lp *lp, int64_t coverage) {
  for (size_t c = 0; c < lp->md->n_cols; c++) set_col(lp, c, 0.0, 1.0);
  double target = fmin((double)(coverage - lp->md->deficit), lp->cov_lp - fmax(1e-9 * fabs(lp->cov_lp), 1e-6));
  phase2(lp, target);
}

static void cost_solve(struct cl_lp *lp, int meth, int64_t coverage, struct cl_lp_out *out) {
  if (!solve(lp, meth)) {
    int nr = glp_get_num_rows(lp->P);
    memset(lp->lam, 0, ((size_t)nr + 1) * sizeof *lp->lam); /* trivial, still valid */
  }
  out->cost_lb = cost_bound(lp, coverage);
  out->budget_hit = lp->budget_hit;
  out->solves = lp->solves;
}

int cl_lp_cost_bound(struct cl_lp *lp, int64_t coverage, struct cl_lp_out *out) {
  cost_lp(lp, coverage);
  /* Only the rhs differs from the LP at the cap: its optimal basis stays
   * dual feasible, and the dual simplex re-solves in a few pivots. */
  bool warm = !lp->mip_built && restore_basis(lp, &lp->cost_basis);
  cost_solve(lp, warm ? GLP_DUALP : GLP_PRIMAL, coverage, out);
  return 0;
}

/* row[i]: offer i's row (offers of two columns or more have one, in order
 * after the total row, as build_matrix lays them), 0 = none. */
static void offer_rows(const struct cl_lp *lp, int *row) {
  const struct cl_model *md = lp->md;
  int r = lp->row_total + 1;
  for (size_t i = 0; i < md->n_offers; i++)
    row[i] = md->offer_col[i + 1] - md->offer_col[i] > 1 ? r++ : 0;
}

/* The ISP rows, the total row and the coverage columns are laid out alike
 * (the reduced market keeps every ISP). */
static bool same_isp_layout(const struct cl_lp *a, const struct cl_lp *b) {
  if (a->md->n_isps != b->md->n_isps || a->row_total != b->row_total || a->x0 != b->x0) return false;
  for (size_t t = 0; t < a->md->n_isps; t++)
    if (a->row_a[t] != b->row_a[t] || a->row_b[t] != b->row_b[t] || a->cov_col[t] != b->cov_col[t])
      return false;
  return true;
}

/* full's basis through the maps into b, in lp's shape. A row dropped with
 * all but one of its offer's columns, where it was tight, gives its place
 * in the basis to that column, at its upper bound. *ok false where the
 * count of basic rows and columns comes out wrong (something dropped was
 * basic). */
static int map_basis(const struct cl_lp *lp, const struct cl_lp *full, const size_t *offer_map,
                     const int *col_map, struct basis *b, bool *ok) {
  const struct cl_model *rm = lp->md, *md = full->md;
  int nr = glp_get_num_rows(lp->P), nc = glp_get_num_cols(lp->P);
  int *frow = malloc((md->n_offers ? md->n_offers : 1) * sizeof *frow);
  int *rrow = malloc((rm->n_offers ? rm->n_offers : 1) * sizeof *rrow);
  b->stat = malloc(((size_t)nr + (size_t)nc + 1) * sizeof *b->stat);
  b->nr = nr, b->nc = nc;
  *ok = false;
  if (!frow || !rrow || !b->stat) {
    free(frow), free(rrow);
    return FX_CLEAR_ENOMEM;
  }
  offer_rows(full, frow), offer_rows(lp, rrow);
  for (int r = 1; r <= lp->row_total; r++) b->stat[r] = (char)glp_get_row_stat(full->P, r);
  for (int j = 1; j < lp->x0; j++) b->stat[nr + j] = (char)glp_get_col_stat(full->P, j);
  for (size_t q = 0; q < rm->n_cols; q++)
    b->stat[nr + lp->x0 + (int)q] = (char)glp_get_col_stat(full->P, full->x0 + col_map[q]);
  for (size_t j = 0; j < rm->n_offers; j++) {
    int fr = frow[offer_map[j]];
    if (rrow[j]) b->stat[rrow[j]] = fr ? (char)glp_get_row_stat(full->P, fr) : GLP_BS;
    else if (fr && glp_get_row_stat(full->P, fr) != GLP_BS) {
      char *st = &b->stat[nr + lp->x0 + (int)rm->offer_col[j]];
      if (*st == GLP_BS) *st = GLP_NU;
    }
  }
  int basic = 0;
  for (int k = 1; k <= nr + nc; k++) basic += b->stat[k] == GLP_BS;
  *ok = basic == nr;
  free(frow), free(rrow);
  return 0;
}

bool cl_lp_cost_bound_from(struct cl_lp *lp, const struct cl_lp *full, const size_t *offer_map,
                           const int *col_map, int64_t coverage, struct cl_lp_out *out) {
  struct basis b = {0};
  bool ok = false;
  if (!lp->mip_built && !full->mip_built && !full->full && !full->kr && same_isp_layout(lp, full) &&
      map_basis(lp, full, offer_map, col_map, &b, &ok) != 0)
    ok = false;
  double cov_lp = lp->cov_lp;
  if (ok) {
    lp->cov_lp = full->cov_lp; /* only the target's margin reads it */
    cost_lp(lp, coverage);
    restore_basis(lp, &b);
    ok = glp_warm_up(lp->P) == 0 && glp_get_dual_stat(lp->P) == GLP_FEAS;
  }
  free(b.stat);
  if (!ok) {
    lp->cov_lp = cov_lp;
    return false;
  }
  cost_solve(lp, GLP_DUALP, coverage, out);
  return true;
}

/* Branch-and-bound support (clear_bb.c). Nodes differ from the LP of
 * cl_lp_cost_bound only in column bounds; the rows get elastic slacks at a
 * price above any offer's per watt, so that a node the forced offers make
 * infeasible still has an optimum whose duals, put into the Lagrangian of
 * the hard rows, prove it costs more than anything found. */
static void add_slacks(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  int ind[2];
  double val[2] = {0.0, 1.0};
  int n = 1;
  for (size_t t = 0; t < md->n_isps; t++) n += md->isp[t].constrained ? 2 : 0;
  lp->slack0 = glp_add_cols(lp->P, n);
  lp->n_slack = n;
  int j = lp->slack0;
  ind[1] = lp->row_total;
  glp_set_mat_col(lp->P, j++, 1, ind, val);
  for (size_t t = 0; t < md->n_isps; t++) {
    if (!md->isp[t].constrained) continue;
    ind[1] = lp->row_a[t];
    val[1] = 1.0;
    glp_set_mat_col(lp->P, j++, 1, ind, val);
    val[1] = -1.0;
    glp_set_mat_col(lp->P, j++, 1, ind, val);
  }
}

/* Coverage may go below its floor at a node: a forced offer against the
 * requested direction must not make the row cov <= s·d + off infeasible. */
static void slacks_open(struct cl_lp *lp, bool open) {
  /* The price of a watt beyond a bound: above any offer's price per covered
   * watt (cost), or a thousand covered watts (coverage). */
  double w = !open ? 0.0 : (lp->bb_cov ? -1e3 : coverage_weight(lp->md)) * lp->slack_mult;
  for (size_t t = 0; t < lp->md->n_isps; t++) {
    const struct cl_isp *is = &lp->md->isp[t];
    if (!lp->cov_col[t]) continue;
    if (open) glp_set_col_bnds(lp->P, lp->cov_col[t], GLP_UP, 0.0, (double)is->cap);
    else glp_set_col_bnds(lp->P, lp->cov_col[t], is->covmin == is->cap ? GLP_FX : GLP_DB,
                          (double)is->covmin, (double)is->cap);
  }
  for (int j = lp->slack0; j < lp->slack0 + lp->n_slack; j++) {
    if (open) glp_set_col_bnds(lp->P, j, GLP_LO, 0.0, 0.0);
    else glp_set_col_bnds(lp->P, j, GLP_FX, 0.0, 0.0);
    glp_set_obj_coef(lp->P, j, w);
  }
}

void cl_lp_bb_set(struct cl_lp *lp, size_t c, struct cl_krange r) {
  int k1 = r.lo > lp->md->col[c].min_af ? r.lo : lp->md->col[c].min_af;
  double lo = r.hi < k1 || !r.lo ? 0.0 : k1 / 100.0, hi = r.hi < k1 ? 0.0 : r.hi / 100.0;
  set_col(lp, c, lo, hi);
}

/* Whether the last node's LP solution leans on an elastic slack: half a
 * watt or more on any row (below that, the rounding of watts). */
bool cl_lp_bb_slack_used(const struct cl_lp *lp) {
  for (int j = lp->slack0; j < lp->slack0 + lp->n_slack; j++) {
    double v = lp->dsx ? cl_dsx_col_prim(lp->dsx, j) : glp_get_col_prim(lp->P, j);
    if (fabs(v) >= 0.5) return true;
  }
  return false;
}

/* The slacks' price times factor, for the rest of the search. A raised
 * price may leave the basis dual infeasible, which the native dual simplex
 * cannot start from: GLPK solves the next node from it (native_fallback
 * hands the nodes back to a fresh native simplex at GLPK's optimum). */
void cl_lp_bb_reprice(struct cl_lp *lp, double factor) {
  lp->slack_mult *= factor;
  double w = (lp->bb_cov ? -1e3 : coverage_weight(lp->md)) * lp->slack_mult;
  for (int j = lp->slack0; j < lp->slack0 + lp->n_slack; j++) glp_set_obj_coef(lp->P, j, w);
  if (!lp->dsx) return;
  cl_dsx_to_glpk(lp->dsx, lp->P);
  cl_dsx_free(lp->dsx), lp->dsx = NULL;
}

/* The node LP of the lazy mode: a copy without the one-option rows whose
 * slack is basic in the current basis (dropping a row with its basic slack
 * leaves a valid basis). Their offers' rows come back in lazy_rows. */
static int lazy_copy(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  int nr = glp_get_num_rows(lp->P), n_del = 0;
  int *del = malloc(((size_t)nr + 1) * sizeof *del);
  lp->gub_row = calloc(md->n_offers + 1, sizeof *lp->gub_row);
  lp->lazy_off = malloc((md->n_offers + 1) * sizeof *lp->lazy_off);
  lp->n_lazy_off = 0;
  glp_prob *Q = glp_create_prob();
  if (!del || !lp->gub_row || !lp->lazy_off || !Q) {
    free(del);
    if (Q) glp_delete_prob(Q);
    return FX_CLEAR_ENOMEM;
  }
  glp_copy_prob(Q, lp->P, GLP_OFF);
  int r = lp->row_total, kept = lp->row_total;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (md->offer_col[i + 1] - md->offer_col[i] < 2) continue;
    if (glp_get_row_stat(lp->P, ++r) == GLP_BS) del[++n_del] = r, lp->lazy_off[lp->n_lazy_off++] = i;
    else lp->gub_row[i] = ++kept; /* rows keep their order */
  }
  if (n_del) glp_del_rows(Q, n_del, del);
  free(del);
  lp->full = lp->P, lp->P = Q;
  return 0;
}

/* The native simplex starts from P's basis, an optimal one: GLPK solves
 * the root node (the basis the branch-and-bound begins with is the root
 * LP's, for another objective), and any node the native simplex fails on,
 * and the copy is taken again from GLPK's optimum. */
static int native_begin(struct cl_lp *lp) {
  if (!lp->native) return 0;
  cl_dsx_free(lp->dsx), lp->dsx = NULL;
  int rc = cl_dsx_create(&lp->dsx, lp->P);
  return rc == FX_CLEAR_ENOMEM ? rc : 0;
}

int cl_lp_bb_begin(struct cl_lp *lp, const struct cl_krange *kr, bool coverage) {
  if (lp->mip_built || !lp->md->n_cols) return FX_CLEAR_EINVAL; /* the MILP changed the LP */
  lp->bb_cov = coverage;
  for (size_t c = 0; c < lp->md->n_cols; c++) set_col(lp, c, 0.0, 1.0); /* the dives fixed some */
  if (coverage) phase1(lp);
  if (coverage) put_cov_basis(lp);
  size_t no = lp->md->n_offers, nc = lp->md->n_cols;
  size_t nr = (size_t)glp_get_num_rows(lp->P) + 1;
  lp->offer_best = calloc(no ? no : 1, sizeof *lp->offer_best);
  lp->col_val = calloc(nc, sizeof *lp->col_val);
  lp->save_x = calloc(nc + 1, sizeof *lp->save_x);
  lp->save_lam = calloc(nr > lp->lam_cap ? nr : lp->lam_cap, sizeof *lp->save_lam); /* lam's room */
  if (!lp->offer_best || !lp->col_val || !lp->save_x || !lp->save_lam) return FX_CLEAR_ENOMEM;
  if (lp->lazy) {
    int rc = lazy_copy(lp);
    if (rc) return rc;
    lp->n_slack = 0; /* the copy gets its own */
  }
  if (!lp->n_slack) add_slacks(lp);
  lp->slack_mult = 1.0;
  slacks_open(lp, true);
  lp->kr = kr;
  lp->native_solved = 0;
  return 0; /* GLPK solves the root node; the native simplex starts at its optimum */
}

void cl_lp_bb_end(struct cl_lp *lp) {
  cl_dsx_free(lp->dsx), cl_dsx_snap_free(lp->dsx_snap);
  lp->dsx = NULL, lp->dsx_snap = NULL;
  if (lp->full) {
    glp_delete_prob(lp->P);
    lp->P = lp->full, lp->full = NULL, lp->n_slack = 0;
  }
  free(lp->gub_row), lp->gub_row = NULL;
  free(lp->lazy_off), lp->lazy_off = NULL, lp->n_lazy_off = 0;
  if (lp->n_slack) slacks_open(lp, false);
  for (size_t c = 0; c < lp->md->n_cols; c++) set_col(lp, c, 0.0, 1.0);
  lp->kr = NULL;
  free(lp->offer_best), free(lp->col_val);
  lp->offer_best = NULL, lp->col_val = NULL;
  free(lp->save_x), free(lp->save_lam);
  lp->save_x = NULL, lp->save_lam = NULL;
  free(lp->probe_basis.stat), lp->probe_basis.stat = NULL;
}

/* Lazy mode: give back its row to every offer the LP solution splits beyond
 * one; how many came back (the LP then needs another solve). The offers
 * without their row are listed (lazy_off; at 1,000 offers the loop over
 * every offer was 1.4 % of a long proof's instructions), in the order the
 * loop over every offer met them. */
static int lazy_rows(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  const size_t *oc = md->offer_col;
  size_t *off = lp->lazy_off, n_off = lp->n_lazy_off, w = 0;
  int added = 0;
  for (size_t j = 0; lp->full && j < n_off; j++) {
    size_t i = off[j], a = oc[i], b = oc[i + 1];
    const double *x = lp->x;
    double sum = 0;
    for (size_t c = a; c < b; c++) sum += x[c];
    if (sum <= 1.0 + 1e-9) {
      off[w++] = i;
      continue;
    }
    int *ind = malloc((b - a + 1) * sizeof *ind);
    double *val = malloc((b - a + 1) * sizeof *val);
    if (!ind || !val) { /* the node's LP stays a relaxation: its bound holds */
      free(ind), free(val);
      memmove(off + w, off + j, (n_off - j) * sizeof *off);
      lp->n_lazy_off = w + (n_off - j);
      return added;
    }
    int n = 0;
    for (size_t c = a; c < b; c++) ++n, ind[n] = lp->x0 + (int)c, val[n] = 1.0;
    int r = glp_add_rows(lp->P, 1);
    glp_set_mat_row(lp->P, r, n, ind, val);
    int rc = lp->dsx ? cl_dsx_add_row(lp->dsx, n, ind, val, 1.0) : 0;
    if (rc) cl_dsx_free(lp->dsx), lp->dsx = NULL; /* out of memory: GLPK goes on alone */
    free(ind), free(val);
    glp_set_row_bnds(lp->P, r, GLP_UP, 0.0, 1.0);
    glp_set_row_stat(lp->P, r, GLP_BS); /* violated: the dual simplex's to fix */
    lp->gub_row[i] = r;
    added++;
  }
  if (lp->full) lp->n_lazy_off = w;
  return added;
}

/* GLPK for the node, and again for the rows the lazy mode gives back. */
static int glpk_node(struct cl_lp *lp, long *pivots, bool *hit) {
  int it0 = glp_get_it_cnt(lp->P);
  bool was = lp->budget_hit;
  lp->budget_hit = false;
  bool ok = solve(lp, GLP_DUALP);
  *hit = lp->budget_hit;
  while (ok && !*hit && lazy_rows(lp) > 0) ok = solve(lp, GLP_DUALP), *hit = lp->budget_hit;
  lp->budget_hit = was || *hit;
  *pivots += glp_get_it_cnt(lp->P) - it0;
  return ok;
}

/* The solution and duals of the native simplex, as solve() reads GLPK's. */
static void native_read(struct cl_lp *lp) {
  cl_dsx_read(lp->dsx, lp->lam, lp->x, lp->x0, lp->md->n_cols, lp->xscale);
}

/* The native simplex for the node, and again for the rows the lazy mode
 * gives back: 1 solved, 0 when GLPK must take over, -1 past the deadline. */
static int native_node(struct cl_lp *lp, long *pivots) {
  for (;;) {
    if (lp->deadline > 0 && lp->deadline - cl_now_ms() < 1) return -1;
    lp->solves++;
    int rc = cl_dsx_solve(lp->dsx, lp->it_lim > 0 ? lp->it_lim : INT32_MAX, false, pivots);
    if (rc == FX_CLEAR_ENOMEM) return rc;
    if (rc != CL_DSX_OPT) return 0;
    native_read(lp);
    if (!lazy_rows(lp)) break;
    if (!lp->dsx) return 0; /* it ran out of memory adding the row */
  }
  lp->node_native = true;
  lp->native_solved++;
  return 1;
}

/* GLPK from the native simplex's basis, then a fresh copy of GLPK's. */
static int native_fallback(struct cl_lp *lp, long *pivots, bool *hit) {
  if (lp->dsx) cl_dsx_to_glpk(lp->dsx, lp->P);
  cl_dsx_free(lp->dsx), lp->dsx = NULL;
  int ok = glpk_node(lp, pivots, hit);
  lp->node_obj = glp_get_obj_val(lp->P), lp->node_native = false;
  if (ok == 1) {
    int rc = native_begin(lp);
    if (rc) return rc;
  }
  return ok;
}

int cl_lp_bb_solve(struct cl_lp *lp, int64_t coverage, int64_t *bound, long *pivots) {
  bool hit = false;
  int ok = 0;
  *pivots = 0;
  if (lp->dsx) ok = native_node(lp, pivots);
  if (ok == -1) lp->budget_hit = hit = true, ok = 0;
  else if (ok == 0 && lp->native) ok = native_fallback(lp, pivots, &hit);
  else if (ok == 0) {
    ok = glpk_node(lp, pivots, &hit);
    lp->node_obj = glp_get_obj_val(lp->P), lp->node_native = false;
  }
  if (ok < 0) return ok;
  if (!ok && hit) return -1; /* stopped by a limit: lam may be stale, no bound */
  if (lp->bb_cov) {
    *bound = -coverage_bound(lp);
    return ok;
  }
  *bound = cost_bound(lp, coverage);
  for (int r = 1, nr = glp_get_num_rows(lp->P); r <= nr; r++) lp->lam[r] = -lp->lam[r];
  return ok;
}

int cl_lp_bb_basis_len(const struct cl_lp *lp) { return lp->dsx ? cl_dsx_basis_len(lp->dsx) : 0; }

void cl_lp_bb_basis_get(const struct cl_lp *lp, signed char *st) {
  if (lp->dsx) cl_dsx_basis_get(lp->dsx, st);
}

int cl_lp_bb_warm(struct cl_lp *lp, const signed char *st, int len, signed char *old) {
  if (!lp->dsx || len <= 0) return 0;
  int rc = cl_dsx_basis_set(lp->dsx, st, len, old);
  if (rc == CL_DSX_FAIL) cl_dsx_free(lp->dsx), lp->dsx = NULL; /* GLPK solves the node */
  return rc == CL_DSX_OPT;
}

/* The node's state a node dive must leave as it found: solution, duals,
 * Lagrangian sum and basis (ndive_restore puts them back). The node's
 * Lagrangian terms (read by cl_lp_bb_child) need no copy: neither a dive's
 * nor a look-ahead's Lagrangian records its own (cl_lp_bb_probe), which
 * saved and restored them for nothing (about 1 % of the instructions at
 * 1,000 offers, round 14). */
static int probe_save(struct cl_lp *lp) {
  const struct cl_model *md = lp->md;
  int nr = glp_get_num_rows(lp->P);
  memcpy(lp->save_x, lp->x, md->n_cols * sizeof *lp->x);
  memcpy(lp->save_lam, lp->lam, ((size_t)nr + 1) * sizeof *lp->lam);
  lp->save_sum = lp->sum, lp->save_margin = lp->margin;
  if (lp->dsx) return cl_dsx_save(lp->dsx, &lp->dsx_snap);
  return save_basis(lp, &lp->probe_basis);
}

/* GLPK's look-ahead: at most it_lim dual simplex pivots from P's basis;
 * the duals are read wherever it stopped (any multipliers bound). */
static bool glpk_probe(struct cl_lp *lp, int it_lim, long *pivots) {
  int it0 = glp_get_it_cnt(lp->P), lim = lp->it_lim;
  bool was = lp->budget_hit;
  lp->it_lim = lim > 0 && lim < it_lim ? lim : it_lim;
  lp->probing = true;
  bool ok = solve(lp, GLP_DUALP);
  lp->probing = false;
  lp->it_lim = lim, lp->budget_hit = was;
  *pivots += glp_get_it_cnt(lp->P) - it0;
  return ok;
}

/* The look-ahead on the native simplex: its duals wherever it stopped are
 * dual feasible; when it fails, GLPK looks ahead from its basis. */
static int native_probe(struct cl_lp *lp, int it_lim, long *pivots) {
  int lim = lp->it_lim > 0 && lp->it_lim < it_lim ? lp->it_lim : it_lim;
  lp->solves++;
  int rc = cl_dsx_solve(lp->dsx, lim, true, pivots); /* Devex: cut short, every pivot counts */
  if (rc == FX_CLEAR_ENOMEM) return rc;
  if (rc != CL_DSX_FAIL) {
    /* The duals alone: the bound reads nothing else, and the node's
     * solution is left where it was (the columns' values, read for
     * nothing, were 0.1 % of the instructions at 1,000 offers) */
    cl_dsx_read(lp->dsx, lp->lam, NULL, 0, 0, 1.0);
    return rc == CL_DSX_OPT;
  }
  cl_dsx_to_glpk(lp->dsx, lp->P);
  return glpk_probe(lp, it_lim, pivots);
}

/* The node's solution and duals to save_x and save_lam, or back. */
static void probe_copy(struct cl_lp *lp, bool back) {
  size_t nx = lp->md->n_cols * sizeof *lp->x, nl = ((size_t)glp_get_num_rows(lp->P) + 1) * sizeof *lp->lam;
  if (back) memcpy(lp->x, lp->save_x, nx), memcpy(lp->lam, lp->save_lam, nl);
  else memcpy(lp->save_x, lp->x, nx), memcpy(lp->save_lam, lp->lam, nl);
}

/* The look-ahead leaves the node's solution and duals where they are: it
 * writes its own to the spare arrays save_x and save_lam, swapped in for
 * it, instead of copying the node's there and back (round 23). Nothing
 * in it reads a value it has not written first: the native simplex
 * writes every row's dual (cl_dsx_read, the simplex's rows are P's) and
 * no column value, GLPK (solve) every row's dual and every column's
 * value, and the bound reads only the duals of P's rows (and negates them
 * in place: the spare's, not the node's). */
int cl_lp_bb_probe(struct cl_lp *lp, int64_t coverage, int it_lim, int64_t *bound,
                   long *pivots) {
  long double sum = lp->sum, margin = lp->margin;
  int rc = lp->dsx ? cl_dsx_save(lp->dsx, &lp->dsx_snap) : save_basis(lp, &lp->probe_basis);
  if (rc) return rc;
  double *x = lp->x, *lam = lp->lam;
  if (lp->probe_copy) /* (tests: the copies there and back, as before) */
    probe_copy(lp, false);
  else
    lp->x = lp->save_x, lp->lam = lp->save_lam;
  int ok = lp->dsx ? native_probe(lp, it_lim, pivots) : glpk_probe(lp, it_lim, pivots);
  long double *best = lp->offer_best, *val = lp->col_val;
  lp->offer_best = NULL, lp->col_val = NULL; /* the node's terms stay */
  if (ok >= 0) *bound = lp->bb_cov ? -coverage_bound(lp) : cost_bound(lp, coverage);
  lp->offer_best = best, lp->col_val = val;
  if (lp->probe_copy)
    probe_copy(lp, true);
  else
    lp->x = x, lp->lam = lam;
  lp->sum = sum, lp->margin = margin;
  if (lp->dsx) cl_dsx_restore(lp->dsx, lp->dsx_snap);
  else restore_basis(lp, &lp->probe_basis);
  return ok;
}

/* The last node's Lagrangian with offer i restricted to column c (on), or
 * with c excluded (off): only offer i's term changes. */
int64_t cl_lp_bb_child(const struct cl_lp *lp, size_t i, size_t c, bool on) {
  const struct cl_model *md = lp->md;
  long double nb = on ? lp->col_val[c] : 0.0L;
  for (size_t j = md->offer_col[i]; !on && j < md->offer_col[i + 1]; j++) {
    int k1, k2;
    col_range(lp, j, &k1, &k2);
    if (col_on(lp, j)) return INT64_MAX; /* the offer orders j (or c): nothing left */
    if (j == c || k2 < k1) continue;
    nb = fmaxl(nb, lp->col_val[j]);
  }
  long double d = nb - lp->offer_best[i], v = lp->sum + d + 1e-9L * fabsl(d);
  if (lp->bb_cov) { /* as coverage_bound, in minimisation form */
    v += (long double)md->deficit;
    return v >= (long double)md->need ? -md->need : v < 0 ? 0 : -(int64_t)floorl(v);
  }
  long double lb = -v;
  if (lb > 9e18L) return INT64_MAX;
  if (lb < -9e18L) return -INT64_MAX;
  return ceil_i64(lb);
}

/* Reduced-cost fixing's quick test (clear_bb.c's fix asks
 * cl_lp_bb_child >= u of every allowed column of every offer at every
 * node; few reach u). The child's bound is ceil(−v), v = sum + d +
 * 1e-9·|d| with d its best term less offer i's, so v >= sum + d: a d at
 * or above 1 − u − sum puts the bound at u − 1 or below. The threshold
 * takes a margin of 1 plus a millionth of the magnitudes, far above the
 * rounding of either side (long double, or double under valgrind), for
 * d up to a bound; u within 2^62, so that the bound cannot saturate. On
 * cost only (off: none settled). */
void cl_lp_bb_reach(const struct cl_lp *lp, int64_t u, struct cl_reach *r) {
  *r = (struct cl_reach){.val = lp->col_val, .best = lp->offer_best};
  if (lp->bb_cov || !lp->col_val || !lp->offer_best || !(u > -0x1p62 && u < 0x1p62)) return;
  long double s = fabsl(lp->sum) + fabsl((long double)u) + 1.0L;
  if (!(s < 0x1p80L)) return; /* NaN or past any bound's range */
  r->dmax = 2.0L * s + 2.0L;
  r->t = 1.0L - (long double)u - lp->sum + 1.0L + 1e-6L * (s + r->dmax);
  r->on = true;
}

/* cl_lp_bb_frac for an offer whose first column above 1e-7 is c0 (not
 * inlined: its register saves would be paid by every offer, most of which
 * never get here). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int frac_from(const struct cl_lp *lp, size_t i, size_t c0, size_t *col, bool *up, double *dist) {
  struct frac f;
  if (frac_find(lp, i, &f)) {
    *col = f.col, *up = f.up, *dist = f.dist;
    return 1;
  }
  /* Tolerances: the simplex leaves a fixed basic column within 1e-7 of
   * its value, and a branch that cannot cut the solution off would repeat.
   * (The columns before c0 are skipped by the first test.) */
  for (size_t c = c0, b = lp->md->offer_col[i + 1]; c < b; c++) {
    if (lp->x[c] <= 1e-7) continue;
    double k = lp->x[c] * 100.0, fl = floor(k + 1e-4), fr = k - fl;
    int k1, k2;
    col_range(lp, c, &k1, &k2);
    if (fr <= 1e-4 || fr >= 1.0 - 1e-4 || fl < k1 || fl >= k2) continue;
    *col = c, *up = fr >= 0.5, *dist = fmin(fr, 1.0 - fr) / 100.0;
    return 2;
  }
  return 0;
}

/* cl_lp_bb_frac's answer for offer i, whose first column above 1e-7 is
 * c0. */
static inline int frac_at(const struct cl_lp *lp, size_t i, size_t c0, size_t *col, bool *up,
                          double *dist) {
  size_t b = lp->md->offer_col[i + 1];
  /* Nor in one ordered in full on one option and nothing on the others
   * (most ordered offers): frac_find finds one positive column at or above
   * its minimum, and its factor, 100 hundredths, is no fraction. */
  if (lp->x[c0] == 1.0) {
    size_t c = c0 + 1;
    while (c < b && lp->x[c] <= 1e-7) c++;
    if (c == b) return 0;
  }
  return frac_from(lp, i, c0, col, up, dist);
}

int cl_lp_bb_frac(const struct cl_lp *lp, size_t i, size_t *col, bool *up, double *dist) {
  const size_t *oc = lp->md->offer_col;
  size_t c0 = oc[i], b = oc[i + 1];
  /* Most offers have no column above 1e-7 in a node's solution (the
   * branch-and-bound asks for every offer at every node): frac_find
   * counts no positive column there, and frac_from's loop skips every
   * column, so the answer is 0 without either. */
  while (c0 < b && lp->x[c0] <= 1e-7) c0++;
  if (c0 == b) return 0;
  return frac_at(lp, i, c0, col, up, dist);
}

/* Bit j set where x[base + j] is above 1e-7 (not <= 1e-7: NaN too), for
 * the columns base .. min(base + 64, n) - 1; built without a branch per
 * column. Under SSE2, 16 columns a step: two per compare (all ones where
 * above), the compares' low halves gathered four by four (shufps), packed
 * to 8 then 16 bytes in column order (the signed saturation keeps -1 and
 * 0), and the bytes' signs read at once (pmovmskb). */
static inline uint64_t frac_mask(const double *x, size_t base, size_t n) {
  uint64_t m = 0;
  size_t j = 0, e = n - base < 64 ? n - base : 64;
#if defined(__SSE2__)
  if (e == 64) { /* (all but the last 64) */
    const __m128d lim = _mm_set1_pd(1e-7);
    const double *p = x + base;
#define FRAC_CMP(k) _mm_castpd_ps(_mm_cmpnle_pd(_mm_loadu_pd(p + j + (k)), lim))
#define FRAC_LOW4(k) _mm_castps_si128(_mm_shuffle_ps(FRAC_CMP(k), FRAC_CMP((k) + 2), _MM_SHUFFLE(2, 0, 2, 0)))
#pragma GCC unroll 4
    for (j = 0; j < 64; j += 16) {
      __m128i w = _mm_packs_epi16(_mm_packs_epi32(FRAC_LOW4(0), FRAC_LOW4(4)),
                                  _mm_packs_epi32(FRAC_LOW4(8), FRAC_LOW4(12)));
      m |= (uint64_t)(unsigned)_mm_movemask_epi8(w) << j;
    }
#undef FRAC_LOW4
#undef FRAC_CMP
    return m;
  }
#endif
  for (; j < e; j++) m |= (uint64_t)!(x[base + j] <= 1e-7) << j;
  return m;
}

/* The first offer from *i on that cl_lp_bb_frac finds fractional, with
 * its answer (*i: the offer; n_offers and 0 when none is): one pass over
 * the columns' values to the next one above 1e-7, where asking every
 * offer in turn paid a call per offer, most of which have none. The
 * columns above 1e-7 are read 64 at a time as bits (frac_mask), lowest
 * first: a branch per column was mispredicted at each one found (most
 * columns of a node's solution are 0; 0.9 M of 0.4× seed 114's
 * mispredicts); the same columns in the same order. */
int cl_lp_bb_frac_next(const struct cl_lp *lp, size_t *i, size_t *col, bool *up, double *dist) {
  const struct cl_model *md = lp->md;
  const double *x = lp->x;
  size_t n = md->n_cols, c = *i < md->n_offers ? md->offer_col[*i] : n;
  if (c < n) {
    size_t base = c & ~(size_t)63;
    uint64_t m = frac_mask(x, base, n) & (~UINT64_C(0) << (c - base));
    for (;;) {
      while (!m) {
        base += 64;
        if (base >= n) goto none;
        m = frac_mask(x, base, n);
      }
      size_t j = lag_low_bit(m);
      c = base + j;
      size_t o = md->col[c].offer, b = md->offer_col[o + 1];
      /* frac_at's first test read from the bits: an offer at 1 on c and
       * at or below 1e-7 on its other columns (c's are its first above
       * 1e-7) has no fraction; the bits of c + 1 .. b - 1 while b is in
       * the 64 */
      uint64_t after = m & (~UINT64_C(0) << j << 1);
      if (b - base < 64) after &= (UINT64_C(1) << (b - base)) - 1;
      int kind = x[c] == 1.0 && b - base <= 64 && !after ? 0 : frac_at(lp, o, c, col, up, dist);
      if (kind) {
        *i = o;
        return kind;
      }
      c = b; /* > c: on from the next offer's first column */
      if (c - base >= 64) {
        if (c >= n) break;
        base = c & ~(size_t)63;
        m = frac_mask(x, base, n);
      }
      m &= ~UINT64_C(0) << (c - base);
    }
  }
none:
  *i = md->n_offers;
  return 0;
}

double cl_lp_bb_value(const struct cl_lp *lp, size_t c) { return lp->x[c]; }

int cl_lp_bb_floor(const struct cl_lp *lp, size_t c) { return (int)floor(lp->x[c] * 100.0 + 1e-4); }

void cl_lp_bb_state(const struct cl_lp *lp, struct cl_state *st) { to_state(lp, st); }
double cl_lp_bb_x(const struct cl_lp *lp, size_t c) { return lp->x[c]; }
void cl_lp_bb_set_x(struct cl_lp *lp, size_t c, double v) { lp->x[c] = v; }
double cl_lp_deadline(const struct cl_lp *lp) { return lp->deadline; }

/* (the native simplex's as it is when asked: the tests ask right after
 * cl_lp_bb_solve) */
double cl_lp_bb_objval(const struct cl_lp *lp) {
  return lp->node_native && lp->dsx ? cl_dsx_obj(lp->dsx) : lp->node_obj;
}
int cl_lp_bb_rows(const struct cl_lp *lp) { return glp_get_num_rows(lp->P); }
long cl_lp_dive_native(const struct cl_lp *lp, long *glpk) {
  *glpk = lp->dive_glpk_solved;
  return lp->dive_native_solved;
}

long cl_lp_bb_native(const struct cl_lp *lp) { return lp->native_solved; }

/* Fix-and-LP (round 8). A rounded LP solution loses most of its value in
 * the greedy passes of clear_heur.c: at 1,000 offers a node's LP solution
 * costs 335.2–335.4 M, its candidate after rounding up, repair and fill
 * 336–341 M (0.4×), because rounding every factor up breaks bounds that
 * repair then mends by dropping orders, and fill buys the last few hundred
 * watts with whole orders. So the LP does the rounding: a dive from the
 * LP's solution fixes the offers it splits or activates below their
 * minimum (as the root dive does), then the on/off choice is fixed and the
 * LP re-solved over the factors alone, which are then fixed at their
 * nearest hundredth half of them at a time, the LP re-balancing the others
 * around each rounding; the LP asks for a few watts per million more than
 * the target, so the rounding lands above it. What is left to the integer
 * passes (repair, nudge, then cl_polish) is a few hundred watts. A rounding
 * that still falls short asks the LP for twice the shortfall more, with its
 * on/off choice fixed, a few times. Every solve is warm (dual simplex,
 * bounds changed only) and pivot-limited; the LP's bounds, solution, duals
 * and basis are put back afterwards. */
struct fixlp_frac {
  double dist;
  size_t col;
};

/* Pivot limits of the heuristic's warm solves (deterministic; a dual
 * simplex that stalls on a degenerate vertex otherwise runs to the LP's
 * own limit, 200,000 pivots: 30 s on one market of 16), rounds of the
 * factors' rounding, retries of a short rounding, and the coverage asked
 * beyond the target (relative). */
enum { FIXLP_PIVOTS = 500, FIXLP_ROUNDS = 2, FIXLP_RETRIES = 1 };
static const double FIXLP_MARGIN = 5e-6;

/* Each offer on its column of in, with its factor free in [min, 100]; the
 * other columns out. */
static void fixlp_cols(struct cl_lp *q, const int *col) {
  const struct cl_model *md = q->md;
  for (size_t i = 0; i < md->n_offers; i++)
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
      set_col(q, c, col[i] == (int)c ? md->col[c].min_af / 100.0 : 0.0, col[i] == (int)c ? 1.0 : 0.0);
}

static void fixlp_bounds(struct cl_lp *q, const struct cl_state *in) { fixlp_cols(q, in->col); }

static int fixlp_frac_cmp(const void *a, const void *b) {
  const struct fixlp_frac *x = a, *y = b;
  if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
  return x->col < y->col ? -1 : x->col > y->col;
}

/* The LP's largest column per offer at its nearest hundredth, not below its
 * minimum (below half of it: nothing). */
static void fixlp_round(const struct cl_lp *q, struct cl_state *st) {
  cl_state_round(st, q->md, q->x, false);
}

/* Fix half of the factors between two hundredths (those nearest one
 * first) at their nearest hundredth and re-solve, round by round, all of
 * them in the last. A round the LP cannot take is given up: x goes back to
 * the round before. */
static void fixlp_factors(struct cl_lp *q, struct fixlp_frac *fr, double *x0) {
  const struct cl_model *md = q->md;
  for (int r = 0; r < FIXLP_ROUNDS; r++) {
    size_t n = 0;
    for (size_t c = 0; c < md->n_cols; c++) {
      double k = q->x[c] * 100.0, d = fabs(k - floor(k + 0.5));
      if (q->x[c] > 1e-7 && d > 1e-6) fr[n++] = (struct fixlp_frac){d, c};
    }
    if (!n) return;
    qsort(fr, n, sizeof *fr, fixlp_frac_cmp);
    size_t nfix = r + 1 == FIXLP_ROUNDS ? n : (n + 1) / 2;
    for (size_t j = 0; j < nfix; j++) {
      size_t c = fr[j].col;
      double k = floor(q->x[c] * 100.0 + 0.5);
      if (k < md->col[c].min_af) k = md->col[c].min_af;
      set_col(q, c, k / 100.0, k / 100.0);
    }
    memcpy(x0, q->x, md->n_cols * sizeof *x0);
    if (!dive_solve(q)) {
      memcpy(q->x, x0, md->n_cols * sizeof *x0);
      return;
    }
  }
}

/* The LP's solution, its on/off choice integral and fixed, to a polished
 * choice in out (see above). */
static int fixlp_finish(struct cl_lp *q, struct cl_state *out, int64_t target) {
  const struct cl_model *md = q->md;
  struct fixlp_frac *fr = malloc((md->n_cols + 1) * sizeof *fr);
  double *x0 = malloc((md->n_cols + 1) * sizeof *x0);
  int rc = fr && x0 ? 0 : FX_CLEAR_ENOMEM;
  double lb = glp_get_row_lb(q->P, q->row_total);
  for (int a = 0; !rc; a++) {
    fixlp_factors(q, fr, x0);
    fixlp_round(q, out);
    rc = cl_repair(out, md);
    if (!rc) rc = cl_nudge(out, md, target);
    if (rc || out->cov >= target || a == FIXLP_RETRIES) break;
    lb += 2.0 * (double)(target - out->cov); /* short: ask for twice that more */
    fixlp_bounds(q, out);
    put_total(q, GLP_LO, lb, 0.0);
    if (!dive_solve(q)) break;
  }
  free(fr), free(x0);
  return rc ? rc : cl_polish(out, md, target);
}

/* The dive from the LP's current solution (see above); *ok (true on
 * entry) false when it found no choice. */
static int fixlp_dive(struct cl_lp *lp, struct cl_state *out, int64_t target, bool *ok) {
  int rc = 0;
  for (int r = 0; *ok && r < lp->dive_rounds; r++) {
    if (!fix_fractional(lp, 1.0)) break;
    *ok = resolve(lp);
  }
  if (*ok) { /* nothing fractional: its solution stays optimal with the choice fixed */
    fixlp_round(lp, out);
    fixlp_bounds(lp, out);
    rc = fixlp_finish(lp, out, target);
  }
  return rc;
}

/* The LP's state the dive changes, to put back after it. */
struct fixlp_saved {
  int row_type;
  double *lb, *ub, *x, *lam, row_lb, row_ub;
  struct basis basis;
  int it_lim;
  bool budget_hit;
};

static void fixlp_saved_free(struct fixlp_saved *sv) {
  free(sv->lb), free(sv->ub), free(sv->x), free(sv->lam), free(sv->basis.stat);
}

static int fixlp_save(struct cl_lp *lp, struct fixlp_saved *sv) {
  size_t nc = lp->md->n_cols, nr = (size_t)glp_get_num_rows(lp->P);
  sv->lb = malloc((nc + 1) * sizeof *sv->lb);
  sv->ub = malloc((nc + 1) * sizeof *sv->ub);
  sv->x = malloc((nc + 1) * sizeof *sv->x);
  sv->lam = malloc((nr + 1) * sizeof *sv->lam);
  if (!sv->lb || !sv->ub || !sv->x || !sv->lam) return FX_CLEAR_ENOMEM;
  for (size_t c = 0; c < nc; c++) {
    int j = lp->x0 + (int)c;
    sv->lb[c] = glp_get_col_lb(lp->P, j), sv->ub[c] = glp_get_col_ub(lp->P, j);
  }
  sv->row_type = glp_get_row_type(lp->P, lp->row_total);
  sv->row_lb = glp_get_row_lb(lp->P, lp->row_total);
  sv->row_ub = glp_get_row_ub(lp->P, lp->row_total);
  memcpy(sv->x, lp->x, nc * sizeof *sv->x);
  memcpy(sv->lam, lp->lam, (nr + 1) * sizeof *sv->lam);
  sv->it_lim = lp->it_lim, sv->budget_hit = lp->budget_hit;
  return save_basis(lp, &sv->basis);
}

static void fixlp_restore(struct cl_lp *lp, const struct fixlp_saved *sv) {
  size_t nc = lp->md->n_cols, nr = (size_t)glp_get_num_rows(lp->P);
  for (size_t c = 0; c < nc; c++) put_col(lp, c, sv->lb[c], sv->ub[c]);
  glp_set_row_bnds(lp->P, lp->row_total, sv->row_type, sv->row_lb, sv->row_ub);
  memcpy(lp->x, sv->x, nc * sizeof *lp->x);
  memcpy(lp->lam, sv->lam, (nr + 1) * sizeof *lp->lam);
  lp->it_lim = sv->it_lim, lp->budget_hit = sv->budget_hit;
  restore_basis(lp, &sv->basis);
}

int cl_lp_dive_polish(struct cl_lp *lp, struct cl_state *st, int64_t target) {
  const struct cl_model *md = lp->md;
  struct fixlp_saved sv = {0};
  struct cl_state cand = {0};
  bool node = lp->kr != NULL; /* a branch-and-bound node: slacks open */
  if (lp->mip_built || (node && lp->bb_cov) || !md->n_cols || target <= 0) return 0;
  int rc = cl_state_init(&cand, md);
  if (!rc) rc = fixlp_save(lp, &sv);
  if (!rc) {
    bool ok;
    /* Slacks closed: minimums the rows cannot take make the LP infeasible
     * and are dropped (resolve), instead of paid for. */
    if (node) slacks_open(lp, false);
    glp_set_row_bnds(lp->P, lp->row_total, GLP_LO,
                     (double)(target - md->deficit) + FIXLP_MARGIN * (double)target, 0.0);
    lp->it_lim = FIXLP_PIVOTS;
    ok = true; /* the margin is solved for with the dive's first round */
    rc = dive_native_begin(lp); /* the margin kept the basis dual feasible */
    if (!rc) rc = fixlp_dive(lp, &cand, target, &ok);
    if (!rc && ok && cl_state_feasible(&cand, md) &&
        (!cl_state_feasible(st, md) || cl_state_better(&cand, st, target)))
      cl_state_copy(st, &cand, md);
    dive_native_end(lp, false); /* fixlp_restore puts GLPK's basis back */
    if (node) slacks_open(lp, true);
    fixlp_restore(lp, &sv);
  }
  fixlp_saved_free(&sv);
  cl_state_free(&cand);
  return rc;
}

/* Node dives (round 9, ndive): the dive polish above, on the node LP the
 * branch-and-bound has just solved, by the node simplex (clear_dsx.c)
 * instead of GLPK. Only column bounds change: the offers the LP splits or
 * runs below their minimum are fixed round by round as fix_fractional
 * fixes them, then the on/off choice, then the factors to hundredths; each
 * step is a warm dual simplex solve from the last basis, pivot-limited.
 * The rows' elastic slacks stay open: a forced minimum an ISP cannot take
 * shows as a slack in use, and the round's forced offers are dropped again
 * (as resolve() does on an infeasible LP); the coverage row's slack gets a
 * lower bound of minus FIXLP_MARGIN of the target, so the LP buys that
 * much beyond it where it can (the dive polish's margin, elastic here).
 * Bounds, solution, duals, Lagrangian terms and the simplex's basis and
 * inverse are put back (the probe's snapshot), so the search goes on as if
 * there had been no dive. Proves nothing.
 *
 * Cheaper since round 9b (dvc; docs/clearing-rounds.md): the LP's own rounding is
 * tried first (the shortcut: nearest hundredths, repair, nudge), and where
 * it reaches the target the factor rounds are not solved at all; of those
 * rounds only the first (half the factors fixed) is solved, the rest
 * rounded where it left them (solving with every factor fixed moved the
 * others a little, for about 38 pivots a dive); and the fix rounds stop after NDIVE_ROUNDS, their
 * tail of one-to-five-pivot solves left to the rounding, the choice's LP
 * solved only when the shortcut falls short. A dive costs about ten node
 * LPs' instructions instead of fifteen. */
enum { NDIVE_PIVOTS = 500, NDIVE_ROUNDS = 6 };

/* The cut-off (round 11, ndv2): a dive is abandoned once a fix round's LP
 * proves that nothing inside its fixings covering the target costs less
 * than the caller's cut-off (the incumbent's cost). The LP asks for the
 * margin `give` beyond the target; its optimal value is convex in the
 * coverage asked, with the coverage row's dual λ as slope, so what the
 * fixings' LP costs at the target itself is at least Σ price·x − λ·give
 * (up to the tie perturbation, 1e-6 of a price per order, and the rounding
 * of watts). That much is proven, for the LP relaxation of the fixings.
 * The dive's answer is not confined to them (repair drops forced orders,
 * nudge and the polish's fill take new ones), so abandoning the dive is a
 * heuristic cut-off: on the 32 markets of round 11 no dive that improved
 * the incumbent was ever past it (the closest 1.1e-4 of the cost below),
 * at every 16th node and every 8th. Only the fix rounds are checked: the
 * factor rounds' LPs (factors at their nearest hundredth) are a poorer
 * guide, the rounding and the polish then moving the factors again. */
enum { NDIVE_CUT = -100 }; /* internal: the dive was abandoned */

/* What the dive changes besides the probe's snapshot: the columns' bounds
 * (the node's, as the node simplex and GLPK hold them; the dive sets its
 * own on the simplex alone, ndive_on) and scratch; stale
 * when the LP's solution is not yet one of the choice fixed by
 * fixlp_bounds (the fix rounds ran out with offers still split). */
struct ndive {
  double *lo, *hi, *x0;
  int *col; /* the LP's rounding as the fix rounds left it (ndive_finish) */
  struct fixlp_frac *fr;
  long pivots;
  bool stale;
  long double cut; /* an LP proving this much or more ends the dive */
  double give;     /* the coverage asked beyond the target */
  const struct cl_state *guide; /* guided: rounds towards this choice (NULL: not) */
};

static void ndive_free(struct ndive *d) { free(d->lo), free(d->hi), free(d->x0), free(d->fr), free(d->col); }

static int ndive_init(struct ndive *d, struct cl_lp *lp) {
  size_t nc = lp->md->n_cols;
  d->lo = malloc((nc + 1) * sizeof *d->lo);
  d->hi = malloc((nc + 1) * sizeof *d->hi);
  d->x0 = malloc((nc + 1) * sizeof *d->x0);
  d->fr = malloc((nc + 1) * sizeof *d->fr);
  d->col = malloc((lp->md->n_offers + 1) * sizeof *d->col);
  return d->lo && d->hi && d->x0 && d->fr && d->col ? 0 : FX_CLEAR_ENOMEM;
}

/* The node's column bounds, from the node simplex, which holds GLPK's
 * bits (put_col sets both; a thousand GLPK calls a side cost more than
 * the dive's fix rounds outside the simplex). */
static void ndive_node_bounds(struct ndive *d, struct cl_lp *lp) {
  cl_dsx_col_bounds(lp->dsx, lp->x0, lp->md->n_cols, d->lo, d->hi);
}

/* The coverage row's elastic slack: at least -give (give >= 0: that much
 * coverage asked beyond the row's own), in the node simplex only. */
static void ndive_give(struct cl_lp *lp, double give) {
  cl_dsx_set_col(lp->dsx, lp->slack0, -give, HUGE_VAL);
}

/* One warm solve: 1 solved, 0 not (cut short or failed), or ENOMEM. */
static int ndive_solve(struct cl_lp *lp, struct ndive *d) {
  lp->solves++;
  int rc = cl_dsx_solve(lp->dsx, NDIVE_PIVOTS, false, &d->pivots);
  if (rc == FX_CLEAR_ENOMEM) return rc;
  if (rc != CL_DSX_OPT) return 0;
  native_read(lp);
  return 1;
}

/* Some ISP's bound holds only through its elastic slack. */
static bool ndive_breaks(const struct cl_lp *lp) {
  for (int j = lp->slack0 + 1; j < lp->slack0 + lp->n_slack; j++)
    if (cl_dsx_col_prim(lp->dsx, j) > 0.5) return true;
  return false;
}

/* NDIVE_CUT when the LP just solved proves the cut-off (see above), else
 * ok. */
static int ndive_check(const struct cl_lp *lp, const struct ndive *d, int ok) {
  if (ok != 1 || d->cut == HUGE_VALL) return ok;
  long double s = -(long double)fmax(lp->lam[lp->row_total], 0.0) * d->give;
  for (size_t c = 0; c < lp->md->n_cols; c++)
    s += (long double)lp->md->col[c].price * (long double)lp->x[c];
  return s >= d->cut ? NDIVE_CUT : ok;
}

/* Guided dives (gdive): offer i, which the LP splits or runs below its
 * minimum (f: fix_fractional's rounding of it), rounded towards the
 * guide's choice instead of to its largest option: the guide's option
 * kept, its factor free from its minimum up, the offer's others out; or
 * the offer out where the guide orders nothing from it. Where the node
 * excludes the guide's option, or forces an order the guide does not
 * have, the offer keeps f. */
static void guide_offer(struct cl_lp *lp, const struct ndive *d, size_t i, const struct frac *f) {
  const struct cl_model *md = lp->md;
  size_t a = md->offer_col[i], b = md->offer_col[i + 1];
  int gc = d->guide->col[i];
  bool forced_on = false;
  for (size_t c = a; c < b; c++) forced_on |= d->lo[c] > 0.0;
  if ((gc >= 0 && d->hi[gc] <= 0.0) || (gc < 0 && forced_on)) gc = f->up ? (int)f->col : -1;
  for (size_t c = a; c < b; c++)
    if ((int)c != gc) set_col(lp, c, 0.0, 0.0);
  if (gc >= 0) set_col(lp, (size_t)gc, md->col[gc].min_af / 100.0, 1.0);
  lp->forced[i] = gc >= 0;
}

/* fix_fractional (share 1) for a guided dive: every offer the LP splits
 * or runs below its minimum rounded by guide_offer. Returns how many. */
static int fix_guided(struct cl_lp *lp, const struct ndive *d) {
  const struct cl_model *md = lp->md;
  int n = 0;
  memset(lp->forced, 0, md->n_offers * sizeof *lp->forced);
  for (size_t c = 0; c < md->n_cols; c++) { /* (as fix_fractional) */
    if (lp->x[c] <= 1e-7) continue;
    size_t i = md->col[c].offer;
    c = md->offer_col[i + 1] - 1;
    struct frac f;
    if (!frac_none(lp, i) && frac_find(lp, i, &f)) guide_offer(lp, d, i, &f), n++;
  }
  return n;
}

/* The rounds of fix-and-resolve, NDIVE_ROUNDS at most: 1 when nothing is
 * left split, 2 when the rounds ran out first (the rounding takes the
 * rest), 0 when a solve failed, or ENOMEM. */
static int ndive_fix(struct cl_lp *lp, struct ndive *d) {
  int rounds = lp->dive_rounds < NDIVE_ROUNDS ? lp->dive_rounds : NDIVE_ROUNDS;
  for (int r = 0; r < rounds; r++) {
    if (!(d->guide ? fix_guided(lp, d) : fix_fractional(lp, 1.0))) return 1;
    int ok = ndive_solve(lp, d);
    if (ok == 1 && ndive_breaks(lp)) unforce(lp), ok = ndive_solve(lp, d);
    ok = ndive_check(lp, d, ok);
    if (ok != 1) return ok;
  }
  return 2;
}

/* fixlp_factors on the node simplex, but the last round is not solved:
 * the factors it would fix stay where the round before left them, and the
 * rounding takes them to their nearest hundredth. */
static int ndive_factors(struct cl_lp *lp, struct ndive *d) {
  const struct cl_model *md = lp->md;
  for (int r = 0; r + 1 < FIXLP_ROUNDS; r++) {
    size_t n = 0;
    for (size_t c = 0; c < md->n_cols; c++) {
      double k = lp->x[c] * 100.0, dd = fabs(k - floor(k + 0.5));
      if (lp->x[c] > 1e-7 && dd > 1e-6) d->fr[n++] = (struct fixlp_frac){dd, c};
    }
    if (!n) return 0;
    qsort(d->fr, n, sizeof *d->fr, fixlp_frac_cmp);
    for (size_t j = 0; j < (n + 1) / 2; j++) {
      size_t c = d->fr[j].col;
      double k = floor(lp->x[c] * 100.0 + 0.5);
      if (k < md->col[c].min_af) k = md->col[c].min_af;
      set_col(lp, c, k / 100.0, k / 100.0);
    }
    memcpy(d->x0, lp->x, md->n_cols * sizeof *d->x0);
    int ok = ndive_solve(lp, d);
    if (ok < 0) return ok;
    if (!ok) {
      memcpy(lp->x, d->x0, md->n_cols * sizeof *d->x0);
      return 0;
    }
  }
  return 0;
}

/* A rounding (fixlp_round) repaired and nudged towards target. */
static int ndive_mend(const struct cl_lp *lp, struct cl_state *st, int64_t target) {
  int rc = cl_repair(st, lp->md);
  return rc ? rc : cl_nudge(st, lp->md, target);
}

/* fixlp_finish on the node simplex, the shortcut first: the LP's rounding
 * as it stands (in st on entry), mended; only when that falls short of
 * target the factor rounds (the choice's LP, the rounding's choice fixed
 * by fixlp_bounds, solved first if stale), round, repair, nudge; a
 * rounding short of target asks the LP for twice the shortfall more, once.
 * *shortcut: the factor rounds were skipped. The choice is fixed only
 * when they come (most dives take the shortcut, and then every column
 * set was put back by the restore for nothing); the mending reads no
 * bound, and the same bounds reach the simplex in the same order before
 * its next solve. */
static int ndive_finish(struct cl_lp *lp, struct ndive *d, struct cl_state *st, int64_t target,
                        double give, bool *shortcut) {
  const struct cl_model *md = lp->md;
  memcpy(d->col, st->col, md->n_offers * sizeof *d->col);
  int rc = ndive_mend(lp, st, target);
  *shortcut = !rc && st->cov >= target;
  if (rc || *shortcut) return rc ? rc : cl_polish(st, md, target);
  fixlp_cols(lp, d->col);
  int ok = d->stale ? ndive_solve(lp, d) : 1;
  for (int a = 0; ok == 1; a++) {
    rc = ndive_factors(lp, d);
    if (!rc) fixlp_round(lp, st), rc = ndive_mend(lp, st, target);
    if (rc || st->cov >= target || a == FIXLP_RETRIES) break;
    give += 2.0 * (double)(target - st->cov);
    fixlp_bounds(lp, st);
    ndive_give(lp, give);
    ok = ndive_solve(lp, d);
  }
  if (ok < 0) rc = ok;
  return rc ? rc : cl_polish(st, md, target);
}

/* probe_save undone, with the node's bounds back on the simplex, every
 * column's from d (P never had the dive's: nothing to read or put back
 * there), the simplex's state of every column with the snapshot. */
static void ndive_restore(struct cl_lp *lp, const struct ndive *d) {
  const struct cl_model *md = lp->md;
  int nr = glp_get_num_rows(lp->P);
  lp->ndive_on = false;
  ndive_give(lp, 0.0);
  memcpy(lp->x, lp->save_x, md->n_cols * sizeof *lp->x);
  memcpy(lp->lam, lp->save_lam, ((size_t)nr + 1) * sizeof *lp->lam);
  lp->sum = lp->save_sum, lp->margin = lp->save_margin;
  cl_dsx_restore_cols(lp->dsx, lp->dsx_snap, lp->x0, md->n_cols, d->lo, d->hi);
}

int cl_lp_bb_dive(struct cl_lp *lp, struct cl_state *st, int64_t target, long *pivots) {
  bool cut;
  return cl_lp_bb_dive_cut(lp, st, target, INT64_MAX, pivots, &cut);
}

int cl_lp_bb_dive_cut(struct cl_lp *lp, struct cl_state *st, int64_t target, int64_t cutoff,
                      long *pivots, bool *cut) {
  return cl_lp_bb_dive_guided(lp, st, target, cutoff, NULL, pivots, cut);
}

int cl_lp_bb_dive_guided(struct cl_lp *lp, struct cl_state *st, int64_t target, int64_t cutoff,
                         const struct cl_state *guide, long *pivots, bool *cut) {
  const struct cl_model *md = lp->md;
  struct ndive d = {.guide = guide};
  bool shortcut = false;
  *cut = false;
  if (!lp->dsx || !lp->kr || lp->bb_cov || lp->mip_built || target <= 0) return 0;
  if (lp->deadline > 0 && lp->deadline - cl_now_ms() < 1) return 0;
  if (cl_dsx_col_prim(lp->dsx, lp->slack0) > 0.5) return 0; /* the node covers too little */
  int rc = ndive_init(&d, lp), ok = 0;
  d.cut = cutoff < INT64_MAX ? (long double)cutoff : HUGE_VALL;
  if (!rc) rc = probe_save(lp);
  if (!rc) {
    ndive_node_bounds(&d, lp);
    lp->ndive_on = true;
    double give = FIXLP_MARGIN * (double)target;
    d.give = give;
    ndive_give(lp, give);
    ok = ndive_fix(lp, &d); /* its first round solves for the margin too */
    if (ok >= 1) {
      d.stale = ok == 2;
      fixlp_round(lp, st);
      rc = ndive_finish(lp, &d, st, target, give, &shortcut);
      ok = !rc && cl_state_feasible(st, md);
    }
    rc = ok < 0 ? ok : rc;
    if (rc == NDIVE_CUT) rc = ok = 0, *cut = true;
    ndive_restore(lp, &d);
  }
  *pivots += d.pivots;
  ndive_free(&d);
  return rc ? rc : ok == 1 ? 1 + shortcut : 0;
}

int cl_lp_cov_basis_put(const struct cl_lp *lp) { return lp->cov_put; }
void cl_lp_cov_basis_skip(struct cl_lp *lp, bool skip) { lp->cov_skip = skip; }
