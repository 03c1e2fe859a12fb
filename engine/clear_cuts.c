/* clear_cuts.c — valid inequalities for the proof's root LP: cover cuts on
 * the ISP rows over the offers' on/off choice.
 *
 * The LP lets an offer run below its minimum (a binary offer at 0.84, a
 * semi-continuous one at half its MinActivationFactor) where an ISP's bound
 * is tight. A cover S on one side of an ISP row is a set of columns whose
 * minimum activations alone break that bound, whatever every other offer
 * does (each other column at its most helpful end, every rounding against
 * it): then at most |S| − 1 of them are ordered, and since a factor never
 * exceeds its on/off indicator, Σ_{c∈S} x_c <= |S| − 1 holds for every
 * choice that keeps the rules. Columns whose minimum pushes at least as hard
 * as the strongest in S extend it (the same argument). Every cut is valid for
 * the integer problem, so its row dual joins the Lagrangian bound with its
 * sign clamped like the ISP rows' (clear_lp.c): the bounds stay proven.
 *
 * Cuts are stored in watts (each coefficient the strongest member's push),
 * so that the branch-and-bound's elastic slack on a cut row costs what a
 * watt beyond an ISP bound costs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_internal.h"

/* One column's entry in an ISP row, on the side being separated. */
struct item {
  uint32_t col;
  double a;  /* push towards the bound, W at full activation */
  double am; /* at its minimum, less the rounding */
  double m;  /* its minimum factor, as a share of full activation */
  double x;  /* LP value */
};

void cl_cuts_free(struct cl_cuts *k) {
  free(k->start), free(k->col), free(k->val), free(k->rhs);
  memset(k, 0, sizeof *k);
}

static int cuts_grow(struct cl_cuts *k, size_t nnz) {
  if (k->n + 2 > k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 16;
    size_t *s = realloc(k->start, (cap + 1) * sizeof *s);
    if (s) k->start = s;
    double *r = realloc(k->rhs, cap * sizeof *r);
    if (r) k->rhs = r;
    if (!s || !r) return FX_CLEAR_ENOMEM;
    if (!k->n) k->start[0] = 0;
    k->cap = cap;
  }
  if (k->nnz + nnz > k->cap_nz) {
    size_t cap = (k->nnz + nnz) * 2;
    uint32_t *c = realloc(k->col, cap * sizeof *c);
    if (c) k->col = c;
    double *v = realloc(k->val, cap * sizeof *v);
    if (v) k->val = v;
    if (!c || !v) return FX_CLEAR_ENOMEM;
    k->cap_nz = cap;
  }
  return 0;
}

static int by_slack(const void *p, const void *q) {
  const struct item *a = p, *b = q;
  double u = 1.0 - a->x, v = 1.0 - b->x;
  if (u != v) return u < v ? -1 : 1;
  if (a->am != b->am) return a->am > b->am ? -1 : 1;
  return a->col < b->col ? -1 : a->col > b->col;
}

/* The row's items on one side (side·s·P pushes towards the bound b) and
 * the bound widened by everything the other columns can give back. */
static size_t row_items(const struct cl_model *md, const double *x, size_t t, int side,
                        struct item *it, double *b) {
  const struct cl_isp *is = &md->isp[t];
  size_t n = 0;
  long double give = 0.0L;
  for (size_t c = 0; c < md->n_cols; c++) {
    const struct cl_col *cl = &md->col[c];
    if (t < cl->first || t >= cl->first + cl->n || !cl->p[t - cl->first]) continue;
    double a = (double)side * is->s * (double)cl->p[t - cl->first];
    if (a < 0) {
      give += -a + 0.5L; /* the most it can pull back, rounding included */
      continue;
    }
    double am = cl->min_af == 100 ? a : a * cl->min_af / 100.0 - 0.5;
    if (cl->min_af < 100) give += 0.5L; /* its rounded watts may exceed a·x by that */
    it[n++] = (struct item){(uint32_t)c, a, am, cl->min_af / 100.0, x[c]};
  }
  *b = (double)(side > 0 ? is->hi : -is->lo) + (double)give;
  return n;
}

/* Greedy cover from the items nearest their full activation; minimal, then
 * extended. Returns the cover's size in it[0..] (0: none violated) and the
 * extension's count in *n_ext (placed after it). */
static size_t cover(struct item *it, size_t n, double b, size_t *n_ext) {
  qsort(it, n, sizeof *it, by_slack);
  long double sum = 0.0L, slack = 0.0L;
  size_t k = 0;
  while (k < n && sum <= (long double)b && it[k].x > 1e-9) {
    sum += it[k].am, slack += 1.0L - it[k].x;
    k++;
  }
  *n_ext = 0;
  if (sum <= (long double)b * (1 + 1e-12) + 1e-6 || slack >= 1.0L - 1e-6) return 0;
  for (size_t j = k; j-- > 0;) { /* drop the loosest while it stays a cover */
    if (sum - it[j].am <= (long double)b * (1 + 1e-12) + 1e-6) continue;
    sum -= it[j].am;
    struct item tmp = it[j];
    memmove(&it[j], &it[j + 1], (n - j - 1) * sizeof *it);
    it[--n] = tmp, k--;
  }
  double big = 0;
  for (size_t j = 0; j < k; j++) big = fmax(big, it[j].am);
  for (size_t j = k; j < n; j++)
    if (it[j].am >= big) {
      struct item tmp = it[k + *n_ext];
      it[k + *n_ext] = it[j], it[j] = tmp;
      (*n_ext)++;
    }
  return k;
}

static int put_cut(struct cl_cuts *out, const struct item *it, size_t k, size_t n_ext) {
  int rc = cuts_grow(out, k + n_ext);
  if (rc) return rc;
  double w = 0;
  for (size_t j = 0; j < k + n_ext; j++) w = fmax(w, it[j].a);
  for (size_t j = 0; j < k + n_ext; j++) {
    out->col[out->nnz] = it[j].col;
    out->val[out->nnz++] = w;
  }
  out->rhs[out->n++] = w * (double)(k - 1);
  out->start[out->n] = out->nnz;
  return 0;
}

/* Flow cover: for a set S whose full pushes exceed the row's bound b by
 * λ > 0, Σ_S a·x + Σ_S (a − λ)⁺·(1 − y) <= b holds (y the column's on/off,
 * x <= y): with j off, the rest of S pushes at most b + λ − a_j. In the
 * factors alone, 1 − y may be replaced by any lower bound that holds on
 * every choice: 1 − x/m (x = 0 where off, x >= m where on), or 0. The
 * first is taken where the LP runs the column below its minimum m (or it
 * is binary), which is what the cut cuts off. The bound b here already
 * holds the rounding of every partial column. */
struct fc {
  long double lam, viol;
};

static bool fc_term(const struct item *it) { return it->m >= 1.0 || it->x < it->m; }

static struct fc fc_eval(const struct item *it, size_t n, const bool *in, double b) {
  long double sum_a = 0.0L, lhs = 0.0L;
  for (size_t j = 0; j < n; j++)
    if (in[j]) sum_a += it[j].a, lhs += it[j].a * (long double)it[j].x;
  struct fc f = {sum_a - b, -1.0L};
  if (f.lam <= 1e-9L * (long double)b + 1e-6L) return f;
  for (size_t j = 0; j < n; j++) {
    long double e = it[j].a - f.lam;
    if (in[j] && e > 0 && fc_term(&it[j])) lhs += e * (1.0L - it[j].x / it[j].m);
  }
  f.viol = lhs - b;
  return f;
}

/* S for one column j the LP runs below its minimum: every column the LP
 * uses, less those whose removal pays once λ is below a_j (it lowers the
 * left side by a_k·x_k and raises j's term by a_k·w_j: x_k < w_j). */
static void fc_target(const struct item *it, size_t n, size_t j, bool *in) {
  double w = 1.0 - it[j].x / it[j].m;
  for (size_t k = 0; k < n; k++) in[k] = it[k].x > 1e-9 && (k == j || it[k].x >= w);
}

/* S: every column the LP uses, or the set aimed at one column below its
 * minimum (fc_target); then greedily without the fractional column whose
 * removal raises the violation most, while it does. */
static int flow_cover(const struct item *it, size_t n, double b, struct cl_cuts *out) {
  bool *in = calloc(n ? n : 1, sizeof *in), *best_in = calloc(n ? n : 1, sizeof *best_in);
  if (!in || !best_in) {
    free(in), free(best_in);
    return FX_CLEAR_ENOMEM;
  }
  struct fc f = {0, -1.0L};
  for (size_t j = 0; j <= n; j++) {
    if (j < n && !(it[j].x > 1e-9 && it[j].x < 1.0 - 1e-9 && fc_term(&it[j]))) continue;
    if (j == n)
      for (size_t k = 0; k < n; k++) in[k] = it[k].x > 1e-9;
    else
      fc_target(it, n, j, in);
    struct fc g = fc_eval(it, n, in, b);
    if (g.viol > f.viol) f = g, memcpy(best_in, in, n * sizeof *in);
  }
  memcpy(in, best_in, n * sizeof *in);
  free(best_in);
  for (bool more = true; more;) {
    more = false;
    size_t best = n;
    struct fc bf = f;
    for (size_t j = 0; j < n; j++) {
      if (!in[j] || it[j].x >= 1.0 - 1e-9) continue;
      in[j] = false;
      struct fc g = fc_eval(it, n, in, b);
      in[j] = true;
      if (g.viol > bf.viol) bf = g, best = j;
    }
    if (best < n) in[best] = false, f = bf, more = true;
  }
  long double sum_a = 0.0L;
  size_t k = 0;
  for (size_t j = 0; j < n; j++) sum_a += in[j] ? it[j].a : 0, k += in[j];
  int rc = 0;
  if (f.viol > 1e-6L * (sum_a + fabsl((long double)b)) + 1.0L) rc = cuts_grow(out, k);
  else k = 0;
  long double rhs = b;
  for (size_t j = 0; !rc && k && j < n; j++) {
    if (!in[j]) continue;
    long double e = it[j].a - f.lam, v = it[j].a;
    if (e > 0 && fc_term(&it[j])) v -= e / it[j].m, rhs -= e;
    out->col[out->nnz] = it[j].col;
    out->val[out->nnz++] = (double)v;
  }
  if (!rc && k) {
    out->rhs[out->n++] = (double)rhs;
    out->start[out->n] = out->nnz;
  }
  free(in);
  return rc;
}

/* The coverage every choice must reach, as a knapsack over the factors:
 * Σ_t cov_t >= C − deficit with cov_t <= cap_t on the ISPs R the LP fills
 * to their need and cov_t <= s·d_t + off_t elsewhere gives Σ_c Q_c·x_c >=
 * D, Q_c the column's push on the Requested ISPs outside R, D what R's
 * needs leave (less the rounding of every partial column there). Columns
 * with Q_c <= 0 only loosen it and are left out. Complemented (z = 1 − x,
 * off is z = 1) it is a flow set Σ Q·z <= Σ Q − D, where a binary column's
 * 1 − y is x exactly and a partial column's flow is taken as always open:
 * the flow cover above, turned back into x. */
static int coverage_cut(const struct cl_model *md, const double *x, int64_t coverage,
                        struct item *it, struct cl_cuts *out) {
  bool *in_r = calloc(md->n_isps ? md->n_isps : 1, sizeof *in_r);
  if (!in_r) return FX_CLEAR_ENOMEM;
  long double dem = (long double)coverage - (long double)md->deficit;
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->requested) continue;
    long double d = (long double)is->off;
    for (size_t c = 0; c < md->n_cols; c++) {
      const struct cl_col *cl = &md->col[c];
      if (t >= cl->first && t < cl->first + cl->n) d += is->s * (long double)cl->p[t - cl->first] * x[c];
    }
    in_r[t] = d >= (long double)is->cap - 1e-9L * (long double)is->cap;
    dem -= in_r[t] ? (long double)is->cap : (long double)is->off;
  }
  size_t n = 0;
  long double sum_q = 0.0L;
  for (size_t c = 0; c < md->n_cols; c++) {
    const struct cl_col *cl = &md->col[c];
    long double q = 0.0L;
    for (size_t j = 0; j < cl->n; j++) {
      const struct cl_isp *is = &md->isp[cl->first + j];
      if (!is->requested || in_r[cl->first + j] || !cl->p[j]) continue;
      q += is->s * (long double)cl->p[j];
      if (cl->min_af < 100) dem -= 0.5L; /* its rounded watts may exceed s·P·x by that */
    }
    if (q <= 0) continue;
    it[n++] = (struct item){(uint32_t)c, (double)q, 0.0, cl->min_af == 100 ? 1.0 : 0.0, 1.0 - x[c]};
    sum_q += q;
  }
  free(in_r);
  size_t j0 = out->n;
  int rc = n ? flow_cover(it, n, (double)(sum_q - dem), out) : 0;
  if (rc || out->n == j0) return rc;
  long double rhs = out->rhs[j0]; /* Σ v·(1 − x) <= rhs  ⇔  −Σ v·x <= rhs − Σ v */
  for (size_t e = out->start[j0]; e < out->start[j0 + 1]; e++) rhs -= out->val[e], out->val[e] = -out->val[e];
  out->rhs[j0] = (double)rhs;
  return 0;
}

int cl_cuts_separate(const struct cl_model *md, const double *x, int64_t coverage,
                     struct cl_cuts *out) {
  struct item *it = malloc((md->n_cols ? md->n_cols : 1) * sizeof *it);
  if (!it) return FX_CLEAR_ENOMEM;
  int rc = 0;
  for (size_t t = 0; !rc && t < md->n_isps; t++) {
    if (!md->isp[t].constrained) continue;
    for (int side = -1; !rc && side <= 1; side += 2) {
      double b;
      size_t n = row_items(md, x, t, side, it, &b), n_ext;
      size_t k = n ? cover(it, n, b, &n_ext) : 0;
      if (k >= 2) rc = put_cut(out, it, k, n_ext);
      if (!rc && n) rc = flow_cover(it, n, b, out);
    }
  }
  if (!rc && coverage > INT64_MIN) rc = coverage_cut(md, x, coverage, it, out);
  free(it);
  return rc;
}

/* Rounds of separation and re-solve at the cost bound's LP (solved by the
 * caller at coverage): cuts go in while some is violated and the bound
 * still rises. */
int cl_cuts_root(const struct cl_model *md, struct cl_lp *lp, int64_t coverage, int rounds,
                 struct cl_lp_out *out, int *n_cuts) {
  double *x = malloc((md->n_cols ? md->n_cols : 1) * sizeof *x);
  if (!x) return FX_CLEAR_ENOMEM;
  int rc = 0;
  *n_cuts = 0;
  for (int r = 0; !rc && r < rounds; r++) {
    struct cl_cuts k = {0};
    for (size_t c = 0; c < md->n_cols; c++) x[c] = cl_lp_bb_x(lp, c);
    rc = cl_cuts_separate(md, x, coverage, &k);
    if (!rc && k.n) {
      int64_t before = out->cost_lb;
      rc = cl_lp_add_cuts(lp, &k, coverage, out);
      *n_cuts += (int)k.n;
      if (!rc && out->cost_lb <= before) r = rounds; /* no progress */
    } else {
      r = rounds;
    }
    cl_cuts_free(&k);
  }
  free(x);
  return rc;
}
