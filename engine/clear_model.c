/* clear_model.c — the clearing engine's normalised model and its exact
 * integer state.
 *
 * The model turns a market's ISPs into direction-normalised bounds and
 * coverage caps (see clear_internal.h) and its offers into columns, one per
 * useful option. The state is the answer being built: per offer a column and
 * factor, with the ISP totals, coverage and cost kept exact in integers after
 * every change, so no heuristic can ever report a violated bound. The model
 * also chains identical offers into classes (round 12, symm), on which the
 * branch-and-bound breaks symmetry and the answer is put in arrival order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_internal.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static bool power_ok(int64_t v) {
  return v >= -FX_CLEAR_MAX_ABS_POWER && v <= FX_CLEAR_MAX_ABS_POWER;
}

/* Bounds on s·total, before the base shifts them. */
static int isp_direction(const struct fx_clear_isp *in, struct cl_isp *t, int64_t *need,
                         int64_t *far) {
  int64_t lo = in->min_power, hi = in->max_power;
  if (!power_ok(lo) || !power_ok(hi) || lo > hi) return FX_CLEAR_EINVAL;
  if (in->disposition == FX_CLEAR_AVAILABLE || (lo == 0 && hi == 0)) {
    t->s = 1;
    *need = 0;
    *far = 0;
    return 0;
  }
  if (lo < 0 && hi > 0) return FX_CLEAR_EINVAL; /* "Requested Power discrepancy" */
  if (lo >= 0) {
    t->s = 1;
    *need = lo > 0 ? lo : hi;
    *far = hi;
  } else {
    t->s = -1;
    *need = hi < 0 ? -hi : -lo;
    *far = -lo;
  }
  return 0;
}

static int isp_init(const struct fx_clear_isp *in, int64_t base, struct cl_isp *t) {
  memset(t, 0, sizeof *t);
  if (in->disposition == FX_CLEAR_UNCONSTRAINED) return 0;
  if (in->disposition != FX_CLEAR_AVAILABLE && in->disposition != FX_CLEAR_REQUESTED)
    return FX_CLEAR_EINVAL;
  if (!power_ok(base)) return FX_CLEAR_EINVAL;
  int64_t need, far;
  int rc = isp_direction(in, t, &need, &far);
  if (rc) return rc;
  t->constrained = true;
  t->b = t->s * base;
  if (in->disposition == FX_CLEAR_AVAILABLE || need == 0) {
    int64_t lo = min64(in->min_power, 0), hi = max64(in->max_power, 0);
    t->lo = min64(lo - base, 0);
    t->hi = max64(hi - base, 0);
    return 0;
  }
  t->requested = true;
  t->lo = min64(-t->b, 0);
  t->hi = max64(far - t->b, 0);
  t->m = clamp64(t->b, 0, need);
  t->cap = need - t->m;
  t->off = t->b - t->m;
  t->covmin = min64(-t->m, t->off + t->lo);
  t->requested = t->cap > 0;
  return 0;
}

/* Does option push some Requested ISP with remaining need towards it? */
static bool option_useful(const struct cl_model *md, const struct fx_clear_option *o) {
  for (size_t i = 0; i < o->n_power; i++) {
    const struct cl_isp *t = &md->isp[o->first_isp + i];
    if (t->requested && t->s * o->power[i] > 0) return true;
  }
  return false;
}

/* Does every power of option at a Requested ISP point its way? Then the
 * coverage it adds is nondecreasing in its factor (rounding is monotone in
 * the factor, coverage in s·d). */
static bool option_monotone(const struct cl_model *md, const struct fx_clear_option *o) {
  for (size_t i = 0; i < o->n_power; i++) {
    const struct cl_isp *t = &md->isp[o->first_isp + i];
    if (t->requested && t->s * o->power[i] < 0) return false;
  }
  return true;
}

static int option_check(const struct cl_model *md, const struct fx_clear_option *o) {
  if (o->min_af < 1 || o->min_af > 100) return FX_CLEAR_EINVAL;
  if (o->price < -FX_CLEAR_MAX_ABS_PRICE || o->price > FX_CLEAR_MAX_ABS_PRICE)
    return FX_CLEAR_EINVAL;
  if (o->first_isp > md->n_isps || o->n_power > md->n_isps - o->first_isp) return FX_CLEAR_EINVAL;
  if (o->n_power && !o->power) return FX_CLEAR_EINVAL;
  for (size_t i = 0; i < o->n_power; i++)
    if (!power_ok(o->power[i])) return FX_CLEAR_EINVAL;
  return 0;
}

static int model_isps(struct cl_model *md) {
  const struct fx_clear_market *m = md->m;
  if (md->n_isps && !m->request.isps) return FX_CLEAR_EINVAL;
  md->isp = calloc(md->n_isps ? md->n_isps : 1, sizeof *md->isp);
  if (!md->isp) return FX_CLEAR_ENOMEM;
  for (size_t t = 0; t < md->n_isps; t++) {
    int rc = isp_init(&m->request.isps[t], m->base ? m->base[t] : 0, &md->isp[t]);
    if (rc) return rc;
    if (md->isp[t].requested) md->need += md->isp[t].cap;
    if (md->isp[t].constrained && md->isp[t].b < 0 && md->isp[t].cap > 0) md->deficit -= md->isp[t].b;
  }
  return 0;
}

static int model_cols(struct cl_model *md) {
  const struct fx_clear_market *m = md->m;
  size_t total = 0;
  for (size_t i = 0; i < md->n_offers; i++) {
    const struct fx_clear_offer *of = &m->offers[i];
    if (of->n_options && !of->options) return FX_CLEAR_EINVAL;
    for (size_t j = 0; j < of->n_options; j++) {
      int rc = option_check(md, &of->options[j]);
      if (rc) return rc;
    }
    total += of->n_options;
  }
  md->col = calloc(total ? total : 1, sizeof *md->col);
  md->offer_col = calloc(md->n_offers + 1, sizeof *md->offer_col);
  if (!md->col || !md->offer_col) return FX_CLEAR_ENOMEM;
  for (size_t i = 0; i < md->n_offers; i++) {
    md->offer_col[i] = md->n_cols;
    const struct fx_clear_offer *of = &m->offers[i];
    for (size_t j = 0; j < of->n_options; j++) {
      const struct fx_clear_option *o = &of->options[j];
      if (!option_useful(md, o)) continue;
      md->col[md->n_cols++] = (struct cl_col){.offer = (uint32_t)i, .option = (uint32_t)j,
                                              .min_af = o->min_af, .price = o->price,
                                              .first = o->first_isp, .n = o->n_power,
                                              .p = o->power,
                                              .monotone = option_monotone(md, o)};
    }
  }
  md->offer_col[md->n_offers] = md->n_cols;
  return 0;
}

struct col_key {
  double key;
  size_t col;
};

/* The larger key first, then the later column (a total order: the
 * columns of an offer are consecutive, so "later column" is "later
 * arrival" between offers). */
static int col_key_desc(const void *a, const void *b) {
  const struct col_key *x = a, *y = b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1;
  return x->col > y->col ? -1 : x->col < y->col;
}

static size_t *model_rank(const struct cl_model *md, bool by_unit) {
  size_t n = md->n_cols ? md->n_cols : 1;
  struct col_key *k = malloc(n * sizeof *k);
  size_t *r = malloc(n * sizeof *r);
  if (k && r) {
    for (size_t c = 0; c < md->n_cols; c++)
      k[c] = (struct col_key){by_unit ? cl_merit_key(md, c) : (double)md->col[c].price, c};
    qsort(k, md->n_cols, sizeof *k, col_key_desc);
    for (size_t j = 0; j < md->n_cols; j++) r[j] = k[j].col;
  } else {
    free(r);
    r = NULL;
  }
  free(k);
  return r;
}

static int model_ranks(struct cl_model *md) {
  md->rank_price = model_rank(md, false);
  md->rank_unit = model_rank(md, true);
  return md->rank_price && md->rank_unit ? 0 : FX_CLEAR_ENOMEM;
}

/* Symmetry classes (round 12, symm). The search sees an offer only
 * through its columns, so offers whose columns agree field by field are
 * interchangeable: swapping their choices keeps every ISP total, the
 * coverage and the cost. Offers are sorted by a 64-bit hash of their
 * columns' content (arrival breaking ties) and neighbours of equal hash
 * chained once their columns compare equal: a collision between offers
 * that differ can only split a class (a missed link), never join two.
 * Hashing, not sorting by content, since the classes are built for every
 * sub-market too: a content sort cost 0.4 % of a 1,000-offer clearing. */
/* FNV-1a over 64-bit words: two instructions a value (the powers are
 * most of what is hashed); equal hashes are compared in full anyway. */
static uint64_t mix(uint64_t h, int64_t v) { return (h ^ (uint64_t)v) * 0x100000001b3u; }

/* price false: the coverage search's classes, which the price does not
 * split (a twin there needs the same coverage and totals only). */
static uint64_t offer_hash(const struct cl_model *md, size_t i, bool price) {
  uint64_t h = mix(0xcbf29ce484222325u, (int64_t)(md->offer_col[i + 1] - md->offer_col[i]));
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    const struct cl_col *cl = &md->col[c];
    h = mix(mix(mix(h, price ? cl->price : 0), cl->min_af), (int64_t)cl->first);
    h = mix(h, (int64_t)cl->n);
    for (size_t q = 0; q < cl->n; q++) h = mix(h, cl->p[q]);
  }
  return h;
}

static bool col_same(const struct cl_col *a, const struct cl_col *b, bool price) {
  return (!price || a->price == b->price) && a->min_af == b->min_af && a->first == b->first &&
         a->n == b->n && !memcmp(a->p, b->p, a->n * sizeof *a->p);
}

static bool offer_same(const struct cl_model *md, size_t a, size_t b, bool price) {
  size_t n = md->offer_col[a + 1] - md->offer_col[a];
  if (n != md->offer_col[b + 1] - md->offer_col[b]) return false;
  for (size_t q = 0; q < n; q++)
    if (!col_same(&md->col[md->offer_col[a] + q], &md->col[md->offer_col[b] + q], price))
      return false;
  return true;
}

struct sym_key {
  uint64_t h;
  size_t offer;
};

static int sym_key_cmp(const void *x, const void *y) {
  const struct sym_key *a = x, *b = y;
  if (a->h != b->h) return a->h < b->h ? -1 : 1;
  return (a->offer > b->offer) - (a->offer < b->offer);
}

static int model_chain(const struct cl_model *md, bool price, struct cl_sym *cs) {
  size_t n = md->n_offers ? md->n_offers : 1, m = 0;
  cs->prev = malloc(n * sizeof *cs->prev);
  cs->next = malloc(n * sizeof *cs->next);
  struct sym_key *k = malloc(n * sizeof *k);
  if (!cs->prev || !cs->next || !k) {
    free(k);
    return FX_CLEAR_ENOMEM;
  }
  for (size_t i = 0; i < md->n_offers; i++) {
    cs->prev[i] = cs->next[i] = -1;
    if (md->offer_col[i + 1] > md->offer_col[i]) k[m++] = (struct sym_key){offer_hash(md, i, price), i};
  }
  qsort(k, m, sizeof *k, sym_key_cmp);
  for (size_t j = 1; j < m; j++) {
    if (k[j - 1].h != k[j].h || !offer_same(md, k[j - 1].offer, k[j].offer, price)) continue;
    cs->n_linked++;
    cs->next[k[j - 1].offer] = (int)k[j].offer;
    cs->prev[k[j].offer] = (int)k[j - 1].offer;
  }
  free(k);
  return 0;
}

static int model_classes(struct cl_model *md) {
  int rc = model_chain(md, true, &md->sym);
  return rc ? rc : model_chain(md, false, &md->sym_cov);
}

int cl_model_init(struct cl_model *md, const struct fx_clear_market *m) {
  memset(md, 0, sizeof *md);
  if (!m || (m->n_offers && !m->offers) || m->n_offers > UINT32_MAX / 4) return FX_CLEAR_EINVAL;
  md->m = m;
  md->n_isps = m->request.n_isps;
  md->n_offers = m->n_offers;
  int rc = model_isps(md);
  if (!rc) rc = model_cols(md);
  if (!rc) rc = model_ranks(md);
  if (!rc) rc = model_classes(md);
  if (rc) cl_model_free(md);
  return rc;
}

void cl_model_free(struct cl_model *md) {
  free(md->isp);
  free(md->col);
  free(md->offer_col);
  free(md->rank_price);
  free(md->rank_unit);
  free(md->sym.prev), free(md->sym.next);
  free(md->sym_cov.prev), free(md->sym_cov.next);
  memset(md, 0, sizeof *md);
}

int cl_state_init(struct cl_state *st, const struct cl_model *md) {
  size_t n = md->n_offers ? md->n_offers : 1;
  st->col = malloc(n * sizeof *st->col);
  st->k = malloc(n * sizeof *st->k);
  st->d = malloc((md->n_isps ? md->n_isps : 1) * sizeof *st->d);
  if (!st->col || !st->k || !st->d) {
    cl_state_free(st);
    return FX_CLEAR_ENOMEM;
  }
  cl_state_clear(st, md);
  return 0;
}

void cl_state_free(struct cl_state *st) {
  free(st->col);
  free(st->k);
  free(st->d);
  memset(st, 0, sizeof *st);
}

void cl_state_clear(struct cl_state *st, const struct cl_model *md) {
  for (size_t i = 0; i < md->n_offers; i++) st->col[i] = -1, st->k[i] = 0;
  memset(st->d, 0, md->n_isps * sizeof *st->d);
  st->cov = st->cost = 0;
}

void cl_state_copy(struct cl_state *dst, const struct cl_state *src, const struct cl_model *md) {
  memcpy(dst->col, src->col, md->n_offers * sizeof *dst->col);
  memcpy(dst->k, src->k, md->n_offers * sizeof *dst->k);
  memcpy(dst->d, src->d, md->n_isps * sizeof *dst->d);
  dst->cov = src->cov;
  dst->cost = src->cost;
}

int64_t cl_isp_gain(const struct cl_isp *t, int64_t d) {
  if (!t->requested) return 0;
  return clamp64(t->b + t->s * d, 0, t->cap + t->m) - t->m;
}

/* fx_clear_order_power's rounding, here where the integer passes spend
 * most of their time: a call into clear.c per ISP was a fifth of
 * state_apply's instructions. Half away from zero of q/100. */
static inline int64_t order_power(int64_t p, int k) {
  int64_t q = p * k;
  return q >= 0 ? (q + 50) / 100 : -((-q + 50) / 100);
}

/* Move column c's order from factor k0 to k1 (0: none), keeping d, cov and
 * cost exact. One pass for both ends: coverage is a sum of per-ISP gain
 * differences, so going there directly adds what taking the order out and
 * putting it back in would (the sums telescope) in half the work. Most
 * moves start or end at none (a state built from an LP solution, an order
 * dropped), whose rounding is not computed (round 11). */
static void state_move(struct cl_state *st, const struct cl_model *md, size_t c, int k0, int k1) {
  const struct cl_col *cl = &md->col[c];
  const struct cl_isp *isp = md->isp + cl->first;
  int64_t *d = st->d + cl->first, cov = st->cov; /* cov in a register: d may alias it */
  for (size_t i = 0; i < cl->n; i++) {
    int64_t dp = (k1 ? order_power(cl->p[i], k1) : 0) - (k0 ? order_power(cl->p[i], k0) : 0);
    int64_t d0 = d[i];
    d[i] = d0 + dp;
    if (!dp || !isp[i].requested) continue;
    /* cl_isp_gain's difference: the m of both ends cancels */
    int64_t top = isp[i].cap + isp[i].m, v0 = isp[i].b + isp[i].s * d0, v1 = v0 + isp[i].s * dp;
    cov += clamp64(v1, 0, top) - clamp64(v0, 0, top);
  }
  st->cov = cov;
  st->cost += (k1 ? fx_clear_order_price(cl->price, k1) : 0) -
              (k0 ? fx_clear_order_price(cl->price, k0) : 0);
}

void cl_state_set(struct cl_state *st, const struct cl_model *md, size_t offer, int col, int k) {
  if (col < 0 || k <= 0) col = -1, k = 0;
  int c0 = st->col[offer], k0 = st->k[offer];
  if (c0 >= 0 && c0 == col) {
    state_move(st, md, (size_t)col, k0, k);
  } else {
    if (c0 >= 0) state_move(st, md, (size_t)c0, k0, 0);
    if (col >= 0) state_move(st, md, (size_t)col, 0, k);
  }
  st->col[offer] = col;
  st->k[offer] = k;
}

/* The orders' powers summed per ISP first, then coverage once per ISP: the
 * gain of an ISP is a function of its total alone, and state_move's per-order
 * differences of it telescope to that (clamp(b, 0, cap + m) is m), so the
 * sums are the ones setting the orders in turn reaches, exact integers in
 * any order. Costs one pass over the orders' ISPs without the clamps. */
void cl_state_rebuild(struct cl_state *st, const struct cl_model *md) {
  memset(st->d, 0, md->n_isps * sizeof *st->d);
  int64_t cost = 0, cov = 0;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (st->col[i] < 0) continue;
    const struct cl_col *cl = &md->col[st->col[i]];
    int k = st->k[i];
    int64_t *d = st->d + cl->first;
    if (k == 100) /* order_power(p, 100) is p: most LP columns round to whole orders */
      for (size_t q = 0; q < cl->n; q++) d[q] += cl->p[q];
    else
      for (size_t q = 0; q < cl->n; q++) d[q] += order_power(cl->p[q], k);
    cost += fx_clear_order_price(cl->price, k);
  }
  for (size_t t = 0; t < md->n_isps; t++) cov += cl_isp_gain(&md->isp[t], st->d[t]);
  st->cov = cov;
  st->cost = cost;
}

/* Setting the rounded orders one by one computed the coverage of every ISP
 * of every order: 2.3 % of a 1,000-offer run with serve's limits, nearly
 * all of cl_state_set's instructions (round 11, tost). Now the orders are
 * written first and the state built from them once. x is clamped to
 * [0, 1] only where it is read between: at or beyond either end the
 * rounding is known (every min_af is at most 100). */
void cl_state_round(struct cl_state *st, const struct cl_model *md, const double *x, bool up) {
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t a = md->offer_col[i], b = md->offer_col[i + 1], best = a;
    long k = 0;
    if (a < b) {
      for (size_t c = a; c < b; c++)
        if (x[c] > x[best]) best = c;
      double v = x[best];
      if (v >= 1.0) {
        k = 100;
      } else if (v > 0.0) {
        v *= 100.0;
        k = up ? (long)ceil(v - 1e-6) : (long)floor(v + 0.5);
        if (k < md->col[best].min_af) k = 2 * k >= md->col[best].min_af ? md->col[best].min_af : 0;
      }
    }
    st->col[i] = k > 0 ? (int)best : -1;
    st->k[i] = k > 0 ? (int)k : 0;
  }
  cl_state_rebuild(st, md);
}

bool cl_state_feasible(const struct cl_state *st, const struct cl_model *md) {
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->constrained) continue;
    int64_t v = is->s * st->d[t];
    if (v < is->lo || v > is->hi) return false;
  }
  return true;
}

/* Largest k with s·round(k·|P|/100) <= slack: round half away from zero
 * reaches slack + 1 exactly when k·|P| >= 100·slack + 50. */
static int64_t factor_cap(int64_t slack, int64_t abs_p) {
  if (slack < 0) return -1;
  int64_t k = (100 * slack + 49) / abs_p;
  return k > 100 ? 100 : k;
}

int cl_max_factor(const struct cl_state *st, const struct cl_model *md, size_t c, int kcap) {
  const struct cl_col *cl = &md->col[c];
  int64_t k = kcap;
  for (size_t i = 0; i < cl->n && k >= cl->min_af; i++) {
    const struct cl_isp *t = &md->isp[cl->first + i];
    if (!t->constrained || !cl->p[i]) continue;
    int64_t sp = t->s * cl->p[i], sd = t->s * st->d[cl->first + i];
    int64_t slack = sp > 0 ? t->hi - sd : sd - t->lo, abs_p = sp > 0 ? sp : -sp;
    /* floor(x / |p|) >= k exactly when x >= k·|p|: most ISPs have room
     * for the whole order, and the division is the loop's dearest step. */
    int64_t lim = k < 100 ? k : 100;
    if (slack >= 0 && 100 * slack + 49 >= lim * abs_p) {
      k = lim;
      continue;
    }
    int64_t kt = factor_cap(slack, abs_p);
    if (kt < k) k = kt;
  }
  return k >= cl->min_af ? (int)k : 0;
}

bool cl_state_better(const struct cl_state *a, const struct cl_state *b, int64_t target) {
  bool a_ok = a->cov >= target, b_ok = b->cov >= target;
  if (a_ok && b_ok && a->cost != b->cost) return a->cost < b->cost;
  if (a->cov != b->cov) return a->cov > b->cov;
  return a->cost < b->cost;
}

int cl_sym_rank(const struct cl_model *md, int c, int k) {
  if (c < 0 || k <= 0) return -1;
  return (int)((size_t)c - md->offer_col[md->col[c].offer]) * 101 + k;
}

static int rank_desc(const void *x, const void *y) {
  int a = *(const int *)x, b = *(const int *)y;
  return (a < b) - (a > b);
}

/* Each class's ranks sorted, highest first, and dealt out again in
 * arrival order: member e gets column (rank / 101) of its own at factor
 * rank % 101. The columns are identical, so d, cov and cost stay exact. */
int cl_state_canon(struct cl_state *st, const struct cl_model *md) {
  int *r = malloc((md->n_offers ? md->n_offers : 1) * sizeof *r);
  if (!r) return FX_CLEAR_ENOMEM;
  for (size_t h = 0; h < md->n_offers; h++) {
    if (md->sym.prev[h] >= 0 || md->sym.next[h] < 0) continue; /* not a class's first */
    size_t n = 0;
    for (int e = (int)h; e >= 0; e = md->sym.next[e]) r[n++] = cl_sym_rank(md, st->col[e], st->k[e]);
    qsort(r, n, sizeof *r, rank_desc);
    n = 0;
    for (int e = (int)h; e >= 0; e = md->sym.next[e], n++) {
      st->col[e] = r[n] < 0 ? -1 : (int)md->offer_col[e] + r[n] / 101;
      st->k[e] = r[n] < 0 ? 0 : r[n] % 101;
    }
  }
  free(r);
  return 0;
}

bool cl_state_same_order(const struct cl_state *a, const struct cl_state *b, size_t i) {
  if (a->col[i] != b->col[i]) return false;
  return a->col[i] < 0 || a->k[i] == b->k[i];
}

struct cover_key {
  int64_t cov;
  size_t col;
};

/* Most coverage first, then the earlier column (deterministic). */
static int cover_cmp(const void *a, const void *b) {
  const struct cover_key *x = a, *y = b;
  if (x->cov != y->cov) return x->cov > y->cov ? -1 : 1;
  return x->col < y->col ? -1 : x->col > y->col;
}

/* Merit order ranks by price, which the maximum-coverage LP does not see:
 * at 1,000 offers and 1.2× half of merit order's orders are not in that
 * LP's optimum (another option of the same offer covers more), and the
 * primal simplex walked from one to the other in ~800 pivots. Ranking by
 * the coverage an option adds alone starts it ~500 pivots away instead
 * (docs/clearing-rounds.md, round 10 ph1). Full activation only: the LP's start
 * basis puts a column at a bound, not in between. */
int cl_cover_order(struct cl_state *st, const struct cl_model *md) {
  struct cover_key *r = malloc((md->n_cols ? md->n_cols : 1) * sizeof *r);
  if (!r) return FX_CLEAR_ENOMEM;
  for (size_t c = 0; c < md->n_cols; c++) {
    const struct cl_col *cl = &md->col[c];
    int64_t cov = 0;
    for (size_t q = 0; q < cl->n; q++) cov += cl_isp_gain(&md->isp[cl->first + q], cl->p[q]);
    r[c] = (struct cover_key){cov, c};
  }
  qsort(r, md->n_cols, sizeof *r, cover_cmp);
  cl_state_clear(st, md);
  for (size_t n = 0; n < md->n_cols; n++) {
    size_t c = r[n].col, i = md->col[c].offer;
    if (st->col[i] >= 0 || cl_max_factor(st, md, c, 100) < 100) continue;
    int64_t cov0 = st->cov;
    cl_state_set(st, md, i, (int)c, 100);
    if (st->cov <= cov0) cl_state_set(st, md, i, -1, 0);
  }
  free(r);
  return 0;
}
