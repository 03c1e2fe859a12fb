/* plain_lag.c — the plain Lagrangian reference (plain_lag.h). */
#include "tests/support/plain_lag.h"

#include "engine/clear_dsx.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void fx_pl_range(const struct fx_pl *q, size_t c, int *k1, int *k2) {
  int lo = q->kr ? q->kr[c].lo : 0;
  *k1 = lo > q->md->col[c].min_af ? lo : q->md->col[c].min_af;
  *k2 = q->kr ? q->kr[c].hi : 100;
}

long double fx_pl_col_term(const struct fx_pl *q, const double *mu, size_t c, bool cost,
                              long double *mag) {
  const struct cl_model *md = q->md;
  const struct cl_col *cl = &md->col[c];
  long double g = cost ? -(long double)cl->price : 0.0L, noise = cost ? 0.5L : 0.0L;
  for (size_t j = 0; j < cl->n; j++) {
    size_t t = cl->first + j;
    if (!cl->p[j] || !md->isp[t].constrained) continue;
    long double w = mu[q->ra[t]] + (q->rb[t] ? mu[q->rb[t]] : 0.0);
    long double v = w * (long double)(md->isp[t].s * cl->p[j]);
    g -= v;
    *mag += fabsl(v);
    noise += 0.5L * fabsl(w);
  }
  int k1, k2;
  fx_pl_range(q, c, &k1, &k2);
  long double a = g * k1 / 100.0L, b = g * k2 / 100.0L;
  return (a > b ? a : b) + (k1 < 100 ? noise : 0.0L);
}

long double fx_pl_offer_term(const struct fx_pl *q, const double *mu, size_t i, bool cost,
                                long double *mag) {
  const struct cl_model *md = q->md;
  long double best = 0.0L;
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    int k1, k2;
    fx_pl_range(q, c, &k1, &k2);
    if (k2 < k1) continue;
    long double v = fx_pl_col_term(q, mu, c, cost, mag);
    if (q->kr && q->kr[c].lo > 0) {
      best = v;
      break;
    }
    best = fmaxl(best, v);
  }
  return best;
}

long double fx_pl_lagrangian(const struct fx_pl *q, double *mu, bool cost, double total) {
  const struct cl_model *md = q->md;
  long double sum = 0.0L, mag = 0.0L;
  if (!cost || mu[q->rt] > 0) mu[q->rt] = 0.0;
  sum += mu[q->rt] * (long double)total;
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->constrained) continue;
    double a = mu[q->ra[t]];
    sum += a * (long double)(a >= 0 ? is->hi : is->lo);
    if (!q->rb[t]) continue;
    if (mu[q->rb[t]] > 0) mu[q->rb[t]] = 0.0;
    sum += mu[q->rb[t]] * (long double)-is->off;
    long double cc = (cost ? 0.0L : 1.0L) + mu[q->rb[t]] - mu[q->rt];
    sum += cc * (long double)(cc > 0 ? is->cap : is->covmin);
  }
  for (size_t i = 0; i < md->n_offers; i++) sum += fx_pl_offer_term(q, mu, i, cost, &mag);
  long double margin = 1e-9L * (mag + fabsl(sum)) + 1e-6L;
  return sum + margin;
}

/* Equal to the last bit, the sign of zero included. */
bool fx_pl_same_ld(long double a, long double b) {
  return (a == b && signbit(a) == signbit(b)) || (isnan(a) && isnan(b));
}

/* A node's factor ranges: per offer maybe one ordered column (lo above 0),
 * others excluded now and then (hi below the minimum), narrowed, or free. */
void fx_pl_rand_kr(struct fx_cm_rng *r, const struct cl_model *md, struct cl_krange *kr) {
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t a = md->offer_col[i], b = md->offer_col[i + 1];
    size_t on = b > a && fx_cm_uni(r, 0, 3) == 0 ? a + (size_t)fx_cm_uni(r, 0, (int64_t)(b - a) - 1)
                                                 : SIZE_MAX;
    for (size_t c = a; c < b; c++) {
      int lo = 0, hi = 100;
      switch (fx_cm_uni(r, 0, 4)) {
      case 0: hi = 0; break;                                  /* excluded */
      case 1: hi = (int)fx_cm_uni(r, 0, 100); break;          /* capped */
      case 2: lo = (int)fx_cm_uni(r, 0, 100), hi = 100; break; /* raised (lo > 0: ordered) */
      default: break;
      }
      if (c == on) lo = (int)fx_cm_uni(r, 1, 100), hi = (int)fx_cm_uni(r, lo, 100);
      else if (on != SIZE_MAX) lo = 0;
      kr[c] = (struct cl_krange){(uint8_t)lo, (uint8_t)hi};
    }
  }
}

/* The child bound cl_lp_bb_child gives for offer i on column c (or with c
 * excluded) after the Lagrangian sum of multipliers mu (already clamped),
 * from the plain loop's terms: a proven bound in minimisation form. */
int64_t fx_pl_child(const struct fx_pl *q, const double *mu, bool cost, long double sum, size_t i,
                       size_t c, bool on) {
  const struct cl_model *md = q->md;
  long double scratch = 0.0L, best = fx_pl_offer_term(q, mu, i, cost, &scratch);
  long double nb = on ? fx_pl_col_term(q, mu, c, cost, &scratch) : 0.0L;
  for (size_t j = md->offer_col[i]; !on && j < md->offer_col[i + 1]; j++) {
    int k1, k2;
    fx_pl_range(q, j, &k1, &k2);
    if (q->kr[j].lo > 0) return INT64_MAX;
    if (j == c || k2 < k1) continue;
    nb = fmaxl(nb, fx_pl_col_term(q, mu, j, cost, &scratch));
  }
  long double d = nb - best, lb = -(sum + d + 1e-9L * fabsl(d));
  if (lb > 9e18L) return INT64_MAX;
  if (lb < -9e18L) return -INT64_MAX;
  return (int64_t)ceill(lb);
}

/* Every child bound of the last evaluation: each allowed column excluded,
 * and ordered where the loop reached it (not past an offer's ordered
 * column, whose terms it never records). Each evaluation records over the
 * last one's terms, so a term not written is a stale one and differs. */
void fx_pl_compare_children(struct cl_lp *lp, const struct fx_pl *q, const double *mu, bool cost,
                             long double sum, uint64_t seed) {
  const struct cl_model *md = q->md;
  for (size_t i = 0; i < md->n_offers; i++) {
    bool past_on = false;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      int k1, k2;
      fx_pl_range(q, c, &k1, &k2);
      if (k2 < k1) continue;
      int64_t off = cl_lp_bb_child(lp, i, c, false), want = fx_pl_child(q, mu, cost, sum, i, c, false);
      cr_assert_eq(off, want, "seed %llu offer %zu column %zu excluded: %lld, plain %lld",
                   (unsigned long long)seed, i, c, (long long)off, (long long)want);
      if (past_on) continue;
      int64_t on = cl_lp_bb_child(lp, i, c, true);
      want = fx_pl_child(q, mu, cost, sum, i, c, true);
      cr_assert_eq(on, want, "seed %llu offer %zu column %zu ordered: %lld, plain %lld",
                   (unsigned long long)seed, i, c, (long long)on, (long long)want);
      past_on = q->kr[c].lo > 0;
    }
  }
}


/* Market m's LP (bb_lazy_rows = lazy) and its plain reference: f at no
 * node, then at `nodes` random node ranges (the first begins the node,
 * the others move it on; the engine reads kr live). */
void fx_pl_walk(const struct fx_clear_market *m, uint64_t seed, bool lazy, int nodes,
                fx_pl_visit f, void *arg) {
  struct fx_cm_rng r = {seed * 7919 + 1};
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.bb_lazy_rows = lazy;
  struct cl_model md;
  cr_assert_eq(cl_model_init(&md, m), 0);
  if (!md.n_cols) {
    cl_model_free(&md);
    return;
  }
  struct cl_lp *lp = NULL;
  cr_assert_eq(cl_lp_create(&lp, &md, &p, 0), 0);
  int *ra = calloc(md.n_isps + 1, sizeof *ra), *rb = calloc(md.n_isps + 1, sizeof *rb), rt = 0;
  struct cl_krange *kr = malloc(md.n_cols * sizeof *kr);
  cr_assert(ra && rb && kr);
  for (size_t t = 0; t < md.n_isps; t++) cl_lp_isp_rows(lp, t, &ra[t], &rb[t], &rt);
  struct fx_pl q = {&md, NULL, ra, rb, rt};
  f(lp, &q, &r, cl_lp_bb_rows(lp), seed, arg); /* no node: every factor allowed */
  for (int k = 0; k < nodes; k++) {
    fx_pl_rand_kr(&r, &md, kr);
    if (!k) {
      cr_assert_eq(cl_lp_bb_begin(lp, kr, false), 0);
      q.kr = kr;
    }
    f(lp, &q, &r, cl_lp_bb_rows(lp), seed, arg);
  }
  cl_lp_bb_end(lp);
  cl_lp_free(lp);
  cl_model_free(&md);
  free(ra), free(rb), free(kr);
}

/* Eight rounds of multipliers drawn by mu (either objective in turn):
 * the engine's Lagrangian against the plain one, the same bits and the
 * same multipliers after both clamped them; at a node (q->kr) then check,
 * if given, on the node's evaluation, a look-ahead's evaluation of other
 * multipliers (the plain loop's value, the node's terms untouched), and
 * every child bound. */
void fx_pl_compare(struct cl_lp *lp, const struct fx_pl *q, struct fx_cm_rng *r, int nr, uint64_t seed,
                   fx_pl_mu mu, fx_pl_check check) {
  double *m1 = malloc(((size_t)nr + 1) * sizeof *m1), *m2 = malloc(((size_t)nr + 1) * sizeof *m2);
  double *m3 = malloc(((size_t)nr + 1) * sizeof *m3), *m4 = malloc(((size_t)nr + 1) * sizeof *m4);
  cr_assert(m1 && m2 && m3 && m4);
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i <= nr; i++) m1[i] = m2[i] = mu(r, round);
    bool cost = round % 2;
    double total = (double)fx_cm_uni(r, -1000000, 1000000);
    long double fast = cl_lp_lagrangian(lp, m1, cost, total);
    long double plain = fx_pl_lagrangian(q, m2, cost, total);
    cr_assert(fx_pl_same_ld(fast, plain), "seed %llu round %d: %La, plain %La",
              (unsigned long long)seed, round, fast, plain);
    cr_assert_eq(memcmp(m1, m2, ((size_t)nr + 1) * sizeof *m1), 0, "seed %llu: clamping differs",
                 (unsigned long long)seed);
    if (!q->kr) continue;
    if (check) check(lp, q, m2, cost, seed);
    for (int i = 0; i <= nr; i++) m3[i] = m4[i] = mu(r, round);
    long double ahead = cl_lp_lagrangian_ahead(lp, m3, cost, total);
    long double ahead_plain = fx_pl_lagrangian(q, m4, cost, total);
    cr_assert(fx_pl_same_ld(ahead, ahead_plain), "seed %llu round %d look-ahead: %La, plain %La",
              (unsigned long long)seed, round, ahead, ahead_plain);
    fx_pl_compare_children(lp, q, m2, cost, plain, seed);
  }
  free(m1), free(m2), free(m3), free(m4);
}
