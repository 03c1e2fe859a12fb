/* fuzz_clear.c — libFuzzer target for the clearing engine (engine/clear*.c).
 *
 * The input bytes are decoded into a small market (1–8 ISPs, 0–10 offers of
 * 1–3 options, placed orders sometimes) and a set of parameters; the market
 * is cleared twice and the answer judged against the rules written again
 * here from DESIGN.md §4 and clear.h, independently of the engine:
 *
 *   - a market outside the documented limits gets FX_CLEAR_EINVAL, and
 *     one inside them an answer (FX_CLEAR_ESOLVER is tolerated: clear.h
 *     allows it; FUZZ_CLEAR_STRICT=1 makes it fatal);
 *   - every order is allowed (one option per offer, factor min..100, an
 *     option that helps a Requested ISP with need left), the ISP totals
 *     (base + the orders' rounded power) keep every bound, and coverage,
 *     cost, need and the gaps are what the orders add up to;
 *   - the bounds bound: coverage <= coverage_ub, cost_lb <= cost, and for
 *     tiny markets an exhaustive search finds no rule-keeping choice
 *     covering more than coverage_ub, nor one covering the answer's
 *     coverage for less than cost_lb (see check_exhaustive for what
 *     "exhaustive" means when the factor space is large);
 *   - the same input gives the same answer (orders, bounds, nodes);
 *   - with symmetry breaking on, among offers that are exact copies the
 *     earlier arrival holds the order (clear.h, bb_symmetry).
 *
 * Any violation aborts. No global mutable state: everything lives in one
 * heap block per input. FUZZ_CLEAR_VERBOSE=1 prints each decoded market
 * and its answer.
 *
 * Input layout (missing bytes read as 0): n_isps, n_offers, flags, two
 * parameter bytes, then per ISP a disposition byte and two powers, then
 * (flags & 1) a base per ISP, then per offer either a "repeat offer k"
 * byte (optionally with new prices) or its options: price, minimum factor,
 * window, powers. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ISPS 8
#define MAX_OFFERS 10
#define MAX_OPTS 3

/* Tiny markets get the exhaustive search, within this many choices. */
#define TINY_OFFERS 5
#define TINY_OPTS 2
#define TINY_ISPS 4
#define EX_BUDGET 150000.0
#define EX_MAX_CHOICES 256 /* per offer: none + options × factors */

struct in {
  const uint8_t *p;
  size_t n;
};

static uint8_t u8(struct in *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

static uint32_t u16(struct in *in) {
  uint32_t hi = u8(in);
  return hi << 8 | u8(in);
}

static uint64_t u32(struct in *in) {
  uint64_t hi = u16(in);
  return hi << 16 | u16(in);
}

struct fm {
  struct fx_clear_isp isps[MAX_ISPS];
  int64_t base[MAX_ISPS];
  struct fx_clear_offer offers[MAX_OFFERS];
  struct fx_clear_option opts[MAX_OFFERS][MAX_OPTS];
  int64_t pw[MAX_OFFERS][MAX_OPTS][MAX_ISPS + 1]; /* + 1: a window one too long */
  int copy_of[MAX_OFFERS]; /* an earlier offer this one repeats exactly, or -1 */
  struct fx_clear_market m;
  struct fx_clear_params p;
  bool invalid; /* outside the documented limits: the engine must refuse */
};

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static bool power_ok(int64_t v) { return abs64(v) <= FX_CLEAR_MAX_ABS_POWER; }

/* Watts: mostly a few hundred (odd ones too, for the half-watt rounding),
 * sometimes tens of thousands, up to the 1 TW limit, rarely beyond it. */
static int64_t get_power(struct in *in) {
  uint8_t c = u8(in);
  int64_t sign = c & 32 ? -1 : 1, odd = c & 64 ? 1 : 0, v;
  int cls = c & 31;
  if (cls < 2) v = 0;
  else if (cls < 10) v = (int64_t)u8(in) * 10 + odd;
  else if (cls < 18) v = u8(in);
  else if (cls < 24) v = (int64_t)u16(in);
  else if (cls < 28) v = (int64_t)u32(in) * 232; /* up to 0.996 TW */
  else if (cls < 31) v = FX_CLEAR_MAX_ABS_POWER - u8(in);
  else v = FX_CLEAR_MAX_ABS_POWER + 1 + u8(in);
  return sign * v;
}

/* 1e-4 currency units: zero, small, large, at and (rarely) beyond the limit;
 * a quarter of them negative. */
static int64_t get_price(struct in *in) {
  uint8_t c = u8(in);
  int64_t sign = (c & 0x30) == 0x30 ? -1 : 1, v;
  int cls = c & 15;
  if (cls == 0) v = 0;
  else if (cls < 10) v = (int64_t)u8(in) * 100 + (c >> 6);
  else if (cls < 13) v = (int64_t)u16(in) * 10;
  else if (cls == 13) v = (int64_t)u32(in) * 23283; /* up to 0.99998e14 */
  else if (cls == 14) v = FX_CLEAR_MAX_ABS_PRICE;
  else v = FX_CLEAR_MAX_ABS_PRICE + 1 + u8(in);
  return sign * v;
}

/* Hundredths: mostly near 100 (which keeps the exhaustive search exact),
 * any of 1..100, and rarely 0 or 101 (refused). */
static int get_min_af(struct in *in) {
  uint8_t c = u8(in);
  if (c < 128) return 100 - c % 8;
  if (c < 240) return 1 + (c - 128) % 100;
  if (c < 255) return 100;
  return u8(in) & 1 ? 101 : 0;
}

static void get_isp(struct in *in, struct fm *f, size_t t) {
  uint8_t c = u8(in);
  int64_t a = get_power(in), b = get_power(in);
  struct fx_clear_isp *is = &f->isps[t];
  static const enum fx_clear_disposition disp[4] = {FX_CLEAR_UNCONSTRAINED, FX_CLEAR_AVAILABLE,
                                                    FX_CLEAR_REQUESTED, FX_CLEAR_REQUESTED};
  is->disposition = disp[c & 3];
  if (((c >> 2) & 7) == 0) { /* raw: lo > hi, or across zero when Requested */
    is->min_power = a, is->max_power = b;
  } else if (is->disposition == FX_CLEAR_AVAILABLE) {
    is->min_power = c & 32 ? min64(a, b) : -abs64(a);
    is->max_power = c & 32 ? max64(a, b) : abs64(b);
  } else if (c & 32) { /* downward */
    is->min_power = -abs64(a) - abs64(b), is->max_power = -abs64(a);
  } else {
    is->min_power = abs64(a), is->max_power = abs64(a) + abs64(b);
  }
  if (is->disposition == FX_CLEAR_UNCONSTRAINED) return; /* bounds ignored */
  if (!power_ok(is->min_power) || !power_ok(is->max_power) || is->min_power > is->max_power)
    f->invalid = true;
  if (is->disposition == FX_CLEAR_REQUESTED && is->min_power < 0 && is->max_power > 0)
    f->invalid = true; /* the one the engine refuses: no requested direction */
}

static void get_option(struct in *in, struct fm *f, size_t i, size_t j, size_t n_isps) {
  struct fx_clear_option *o = &f->opts[i][j];
  o->price = get_price(in);
  o->min_af = get_min_af(in);
  uint8_t w = u8(in), np = u8(in);
  o->first_isp = w == 255 ? n_isps : w % n_isps;
  size_t room = n_isps - o->first_isp;
  o->n_power = np == 255 ? room + 1 : np == 254 || !room ? 0 : 1 + np % room;
  size_t n = o->n_power <= MAX_ISPS ? o->n_power : MAX_ISPS + 1;
  for (size_t q = 0; q < n; q++) f->pw[i][j][q] = get_power(in);
  o->power = f->pw[i][j];
  if (o->min_af < 1 || o->min_af > 100 || abs64(o->price) > FX_CLEAR_MAX_ABS_PRICE ||
      o->n_power > room)
    f->invalid = true;
  for (size_t q = 0; q < n; q++)
    if (!power_ok(f->pw[i][j][q])) f->invalid = true;
}

/* Offer i repeats offer k: the same options, or (reprice) the same but for
 * the prices, which symmetry breaking's coverage classes still join. */
static void repeat_offer(struct in *in, struct fm *f, size_t i, size_t k, bool reprice) {
  f->offers[i].n_options = f->offers[k].n_options;
  f->copy_of[i] = reprice ? -1 : (int)k;
  for (size_t j = 0; j < f->offers[k].n_options; j++) {
    f->opts[i][j] = f->opts[k][j];
    memcpy(f->pw[i][j], f->pw[k][j], sizeof f->pw[i][j]);
    f->opts[i][j].power = f->pw[i][j];
    if (reprice) {
      f->opts[i][j].price = get_price(in);
      if (abs64(f->opts[i][j].price) > FX_CLEAR_MAX_ABS_PRICE) f->invalid = true;
    }
  }
}

static void get_offer(struct in *in, struct fm *f, size_t i, size_t n_isps) {
  uint8_t h = u8(in);
  f->copy_of[i] = -1;
  if (i > 0 && (h & 0xc0) == 0xc0) {
    repeat_offer(in, f, i, (h & 0x1f) % i, h & 0x20);
  } else {
    f->offers[i].n_options = 1 + h % MAX_OPTS;
    for (size_t j = 0; j < f->offers[i].n_options; j++) get_option(in, f, i, j, n_isps);
  }
  f->offers[i].options = f->opts[i];
}

/* The default path with budgets small enough for libFuzzer's -timeout=5,
 * or one of the engine's other paths, chosen by two bytes. */
static void get_params(struct fx_clear_params *p, uint8_t a, uint8_t b) {
  static const double cutoff[4] = {0.0, 0.5, 1.0, 0.5};
  fx_clear_params_init(p);
  /* a tenth of the default: a stalled LP still shows as a slow input */
  p->lp_iteration_limit = a & 3 && b & 32 ? 60 : 20000;
  p->exact_node_limit = 200;
  p->bb_node_limit = b & 32 ? 5 : 200;
  p->bb_pivot_limit = 4000;
  p->local_search_work = 20000;
  p->rins_node_limit = 50;
  switch (a & 3) {
  case 0: break;                                       /* GLPK's MILP below 40 offers */
  case 1: p->exact_max_offers = 0; break;              /* the engine's branch-and-bound */
  case 2: p->exact_max_offers = 0, p->bb_max_offers = 0; break; /* the proof path */
  default: p->exact_max_offers = 0, p->bb_max_offers = 0, p->proof_max_offers = 0; break;
  }
  p->bb_symmetry = !(a & 4);
  p->bb_cutoff = cutoff[(a >> 3) & 3];
  if (a & 32) p->coverage_tolerance = 0;
  if (a & 64) p->bb_gap = 0;
  if (a & 128) p->redive_max_offers = 0, p->local_search_max_offers = 0;
  if (b & 1) p->bb_native_lp = false, p->dive_native_lp = false;
  if (b & 2) p->bb_lazy_rows = false;
  if (b & 4) p->bb_sb_cands = 0;
  if (b & 8) p->proof_first_ratio = 0;
  if (b & 16) p->bb_node_dive = 0;
  if (b & 64) p->lns_max_offers = 2000, p->lns_width = 2;
  if (b & 128) p->cross_max_offers = 2000;
}

static void decode(struct fm *f, const uint8_t *data, size_t size) {
  struct in in = {data, size};
  size_t n_isps = 1 + u8(&in) % MAX_ISPS, n_offers = u8(&in) % (MAX_OFFERS + 1);
  uint8_t flags = u8(&in), pa = u8(&in), pb = u8(&in);
  get_params(&f->p, pa, pb);
  for (size_t t = 0; t < n_isps; t++) get_isp(&in, f, t);
  for (size_t t = 0; flags & 1 && t < n_isps; t++) {
    int64_t v = get_power(&in);
    f->base[t] = clamp64(v, -FX_CLEAR_MAX_ABS_POWER, FX_CLEAR_MAX_ABS_POWER);
  }
  for (size_t i = 0; i < n_offers; i++) get_offer(&in, f, i, n_isps);
  f->m = (struct fx_clear_market){{n_isps, f->isps}, n_offers, f->offers, flags & 1 ? f->base : NULL};
}

/* ---- the rules, from DESIGN.md §4 and clear.h (base: fx_clear_residual) ---- */

/* Per ISP, on the total T = base + d of the orders' power, in the ISP's
 * direction s: lo <= s·T <= hi; a Requested one counts the gain
 * clamp(s·T, 0, need) - clamp(s·base, 0, need). */
struct rule {
  bool constrained, requested;
  int s;
  int64_t lo, hi, need, b;
};

static struct rule isp_rule(const struct fm *f, size_t t) {
  const struct fx_clear_isp *is = &f->isps[t];
  struct rule r = {.s = 1, .b = f->m.base ? f->m.base[t] : 0};
  if (is->disposition == FX_CLEAR_UNCONSTRAINED) return r;
  int64_t lo = is->min_power, hi = is->max_power;
  r.constrained = true;
  if (is->disposition == FX_CLEAR_AVAILABLE || (lo == 0 && hi == 0)) {
    /* buying nothing stays feasible whatever was placed before */
    r.lo = min64(min64(lo, 0), r.b), r.hi = max64(max64(hi, 0), r.b);
    return r;
  }
  int64_t far;
  if (lo >= 0) r.need = lo > 0 ? lo : hi, far = hi;
  else r.s = -1, r.need = hi < 0 ? -hi : -lo, far = -lo;
  r.b *= r.s;
  r.lo = min64(0, r.b), r.hi = max64(far, r.b);
  r.requested = r.need - clamp64(r.b, 0, r.need) > 0;
  return r;
}

static bool rule_ok(const struct rule *r, int64_t d) {
  int64_t st = r->b + r->s * d; /* s·T: r->b is already s·base */
  return !r->constrained || (st >= r->lo && st <= r->hi);
}

static int64_t rule_gain(const struct rule *r, int64_t d) {
  if (!r->requested) return 0;
  return clamp64(r->b + r->s * d, 0, r->need) - clamp64(r->b, 0, r->need);
}

/* DESIGN.md §4: an offer that helps no Requested ISP is never ordered; an
 * option helps when it pushes some Requested ISP with need left its way. */
static bool option_useful(const struct rule *rules, const struct fx_clear_option *o) {
  for (size_t q = 0; q < o->n_power; q++) {
    const struct rule *r = &rules[o->first_isp + q];
    if (r->requested && r->s * o->power[q] > 0) return true;
  }
  return false;
}

static void add_option(int64_t *d, const struct fx_clear_option *o, int k) {
  for (size_t q = 0; q < o->n_power; q++) d[o->first_isp + q] += fx_clear_order_power(o->power[q], k);
}

/* Coverage of the new orders' totals d; *ok: every bound kept. */
static int64_t coverage(const struct rule *rules, size_t n_isps, const int64_t *d, bool *ok) {
  int64_t cov = 0;
  *ok = true;
  for (size_t t = 0; t < n_isps; t++) {
    *ok = *ok && rule_ok(&rules[t], d[t]);
    cov += rule_gain(&rules[t], d[t]);
  }
  return cov;
}

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "fuzz_clear: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

static void check_orders(const struct fm *f, const struct rule *rules,
                         const struct fx_clear_result *r, int64_t *d, int64_t *cost) {
  size_t n = 0;
  CHECK(r->n_isps == f->m.request.n_isps);
  for (size_t i = 0; i < f->m.n_offers; i++) {
    if (r->option[i] < 0) {
      CHECK(r->option[i] == -1 && r->factor[i] == 0);
      continue;
    }
    CHECK((size_t)r->option[i] < f->offers[i].n_options);
    const struct fx_clear_option *o = &f->offers[i].options[r->option[i]];
    CHECK(r->factor[i] >= o->min_af && r->factor[i] <= 100);
    CHECK(option_useful(rules, o));
    CHECK(n < r->n_orders);
    const struct fx_clear_order *od = &r->orders[n++];
    CHECK(od->offer == i && od->option == (size_t)r->option[i] && od->factor == r->factor[i]);
    CHECK(od->price == fx_clear_order_price(o->price, od->factor));
    add_option(d, o, od->factor);
    *cost += od->price;
  }
  CHECK(n == r->n_orders);
}

static void check_gaps(const struct fx_clear_result *r) {
  double cref = fmax((double)r->coverage_ub, FX_CLEAR_GAP_FLOOR_W);
  double kref = fmax(fabs((double)r->cost_lb), FX_CLEAR_GAP_FLOOR_PRICE);
  double cg = (double)(r->coverage_ub - r->coverage) / cref;
  double kg = ((double)r->cost - (double)r->cost_lb) / kref;
  kg = r->cost <= r->cost_lb ? 0 : kg; /* as fill_gaps: differs only where a bound is broken */
  CHECK(fabs(r->coverage_gap - cg) <= 1e-9 * fmax(1, fabs(cg)));
  CHECK(fabs(r->cost_gap - kg) <= 1e-9 * fmax(1, kg));
  CHECK(r->optimal == (r->coverage_gap <= FX_CLEAR_TOLERANCE && r->cost_gap <= FX_CLEAR_TOLERANCE));
}

static void check_result(const struct fm *f, const struct rule *rules, const struct fx_clear_result *r) {
  int64_t d[MAX_ISPS] = {0}, cost = 0, need = 0;
  size_t n_isps = f->m.request.n_isps;
  check_orders(f, rules, r, d, &cost);
  bool ok;
  int64_t cov = coverage(rules, n_isps, d, &ok);
  CHECK(ok);
  for (size_t t = 0; t < n_isps; t++) {
    CHECK(r->ordered[t] == d[t]);
    if (rules[t].requested) need += rules[t].need - clamp64(rules[t].b, 0, rules[t].need);
  }
  CHECK(r->coverage == cov && r->cost == cost && r->need == need);
  check_gaps(r);
  CHECK(r->coverage <= r->coverage_ub && r->cost_lb <= r->cost);
}

static void check_same(const struct fx_clear_result *a, const struct fx_clear_result *b) {
  CHECK(a->n_orders == b->n_orders);
  CHECK(!a->n_orders || !memcmp(a->orders, b->orders, a->n_orders * sizeof *a->orders));
  CHECK(a->coverage_ub == b->coverage_ub && a->cost_lb == b->cost_lb);
  CHECK(a->bb_nodes == b->bb_nodes && a->bb_pivots == b->bb_pivots && a->lp_solves == b->lp_solves);
  CHECK(a->budget_hit == b->budget_hit && a->proof_cols == b->proof_cols);
}

/* clear.h, bb_symmetry: among identical offers the earlier arrival holds
 * the order, ranked none < option 0 at factor 1..100 < option 1 ... */
static void check_symmetry(const struct fm *f, const struct fx_clear_result *r) {
  for (size_t i = 0; i < f->m.n_offers; i++) {
    int k = f->copy_of[i];
    if (k < 0) continue;
    int rank_k = r->option[k] < 0 ? -1 : r->option[k] * 101 + r->factor[k];
    int rank_i = r->option[i] < 0 ? -1 : r->option[i] * 101 + r->factor[i];
    CHECK(rank_k >= rank_i);
  }
}

/* ---- exhaustive search for tiny markets ---- */

struct choice {
  int64_t d[TINY_ISPS], price;
};

struct ex {
  const struct rule *rules;
  size_t n_isps, n_offers;
  struct choice ch[TINY_OFFERS][EX_MAX_CHOICES];
  size_t n_ch[TINY_OFFERS];
  int64_t d[TINY_ISPS], cost;
  int64_t at_cov;            /* the answer's coverage */
  int64_t best_cov, at_cost; /* found: most coverage; least cost covering at_cov */
};

static void ex_rec(struct ex *e, size_t i) {
  if (i == e->n_offers) {
    bool ok;
    int64_t cov = coverage(e->rules, e->n_isps, e->d, &ok);
    if (!ok) return;
    if (cov > e->best_cov) e->best_cov = cov;
    if (cov >= e->at_cov && e->cost < e->at_cost) e->at_cost = e->cost;
    return;
  }
  for (size_t c = 0; c < e->n_ch[i]; c++) {
    const struct choice *h = &e->ch[i][c];
    for (size_t t = 0; t < e->n_isps; t++) e->d[t] += h->d[t];
    e->cost += h->price;
    ex_rec(e, i + 1);
    e->cost -= h->price;
    for (size_t t = 0; t < e->n_isps; t++) e->d[t] -= h->d[t];
  }
}

/* The factors of option o searched: all of min_af..100 when g >= that
 * range, else g of them spread evenly with both ends, plus the answer's
 * factor and its neighbours (where a wrong bound is likeliest to show). */
static size_t ex_factors(const struct fx_clear_option *o, int g, int answer, int *out) {
  int lo = o->min_af, range = 101 - lo;
  bool pick[101] = {false};
  if (g >= range) {
    for (int k = lo; k <= 100; k++) pick[k] = true;
  } else {
    for (int s = 0; s < g; s++) pick[lo + (g > 1 ? s * (range - 1) / (g - 1) : 0)] = true;
    for (int k = answer - 1; answer > 0 && k <= answer + 1; k++)
      if (k >= lo && k <= 100) pick[k] = true;
  }
  size_t n = 0;
  for (int k = lo; k <= 100; k++)
    if (pick[k]) out[n++] = k;
  return n;
}

static double ex_size(const struct fm *f, const struct rule *rules, int g) {
  double total = 1;
  for (size_t i = 0; i < f->m.n_offers; i++) {
    double n = 1;
    for (size_t j = 0; j < f->offers[i].n_options; j++) {
      int range = 101 - f->opts[i][j].min_af;
      if (option_useful(rules, &f->opts[i][j])) n += g >= range ? range : g + 3;
    }
    total *= n;
  }
  return total;
}

static void ex_fill(struct ex *e, const struct fm *f, const struct fx_clear_result *r, int g) {
  for (size_t i = 0; i < f->m.n_offers; i++) {
    e->n_ch[i] = 1; /* none */
    memset(&e->ch[i][0], 0, sizeof e->ch[i][0]);
    for (size_t j = 0; j < f->offers[i].n_options; j++) {
      const struct fx_clear_option *o = &f->opts[i][j];
      if (!option_useful(e->rules, o)) continue; /* never ordered */
      int ks[101];
      size_t n = ex_factors(o, g, r->option[i] == (int)j ? r->factor[i] : 0, ks);
      for (size_t q = 0; q < n; q++) {
        struct choice *h = &e->ch[i][e->n_ch[i]++];
        memset(h, 0, sizeof *h);
        add_option(h->d, o, ks[q]);
        h->price = fx_clear_order_price(o->price, ks[q]);
      }
    }
  }
}

/* Every rule-keeping choice when the factor space fits EX_BUDGET; above
 * that, every option combination with a sample of factors. A sample can
 * only miss a counterexample, never invent one: whatever it finds is a
 * real choice, so the check is sound either way and exact when small. */
static void check_exhaustive(const struct fm *f, const struct rule *rules,
                             const struct fx_clear_result *r) {
  int g = 101;
  while (g > 2 && ex_size(f, rules, g) > EX_BUDGET) g--;
  if (ex_size(f, rules, g) > EX_BUDGET) return;
  struct ex *e = calloc(1, sizeof *e);
  CHECK(e);
  e->rules = rules, e->n_isps = f->m.request.n_isps, e->n_offers = f->m.n_offers;
  e->at_cov = r->coverage, e->best_cov = -1, e->at_cost = INT64_MAX;
  ex_fill(e, f, r, g);
  ex_rec(e, 0);
  if (getenv("FUZZ_CLEAR_VERBOSE"))
    fprintf(stderr, "fuzz_clear: exhaustive (%s): best cov %lld, cost at the answer's cov %lld\n",
            g >= 100 ? "every factor" : "sampled factors", (long long)e->best_cov,
            (long long)e->at_cost);
  CHECK(e->best_cov >= r->coverage); /* the answer is one of the choices... */
  CHECK(e->best_cov <= r->coverage_ub);
  CHECK(e->at_cost >= r->cost_lb);
  free(e);
}

static bool tiny(const struct fm *f) {
  if (f->m.n_offers > TINY_OFFERS || f->m.request.n_isps > TINY_ISPS) return false;
  for (size_t i = 0; i < f->m.n_offers; i++)
    if (f->offers[i].n_options > TINY_OPTS) return false;
  return true;
}

/* FUZZ_CLEAR_VERBOSE=1: the decoded market and params, as a reproducer's
 * starting point. */
static void dump(const struct fm *f) {
  static const char *const disp[] = {"UNCONSTRAINED", "AVAILABLE", "REQUESTED"};
  const struct fx_clear_params *p = &f->p;
  fprintf(stderr, "params: exact_max_offers %zu bb_max_offers %zu proof_max_offers %zu sym %d cutoff %g "
          "tol %g bb_gap %g redive %zu ls %zu native %d lazy %d sb %d pfr %g dive %d nodes %d lns %zu cross %zu\n",
          p->exact_max_offers, p->bb_max_offers, p->proof_max_offers, p->bb_symmetry, p->bb_cutoff,
          p->coverage_tolerance, p->bb_gap, p->redive_max_offers, p->local_search_max_offers,
          p->bb_native_lp, p->bb_lazy_rows, p->bb_sb_cands, p->proof_first_ratio, p->bb_node_dive,
          p->bb_node_limit, p->lns_max_offers, p->cross_max_offers);
  for (size_t t = 0; t < f->m.request.n_isps; t++)
    fprintf(stderr, "isp %zu: {FX_CLEAR_%s, %lld, %lld} base %lld\n", t, disp[f->isps[t].disposition],
            (long long)f->isps[t].min_power, (long long)f->isps[t].max_power,
            f->m.base ? (long long)f->base[t] : 0LL);
  for (size_t i = 0; i < f->m.n_offers; i++)
    for (size_t j = 0; j < f->offers[i].n_options; j++) {
      const struct fx_clear_option *o = &f->offers[i].options[j];
      fprintf(stderr, "offer %zu option %zu: price %lld min_af %d first %zu power {", i, j,
              (long long)o->price, o->min_af, o->first_isp);
      for (size_t q = 0; q < o->n_power && q <= MAX_ISPS; q++)
        fprintf(stderr, "%s%lld", q ? ", " : "", (long long)o->power[q]);
      fprintf(stderr, "}\n");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fm *f = calloc(1, sizeof *f);
  CHECK(f);
  decode(f, data, size);
  if (getenv("FUZZ_CLEAR_VERBOSE")) dump(f);
  struct fx_clear_result a, b;
  int rc = fx_clear_solve(&f->m, &f->p, &a);
  CHECK(rc == 0 || rc == FX_CLEAR_EINVAL || rc == FX_CLEAR_ESOLVER);
  CHECK((rc == FX_CLEAR_EINVAL) == f->invalid);
  if (rc == FX_CLEAR_ESOLVER) {
    const char *strict = getenv("FUZZ_CLEAR_STRICT");
    CHECK(!strict || strcmp(strict, "1"));
  }
  if (getenv("FUZZ_CLEAR_VERBOSE"))
    fprintf(stderr, "fuzz_clear: rc %d, %zu offers, %zu orders, coverage %lld <= %lld of %lld, cost %lld >= %lld, nodes %d\n",
            rc, f->m.n_offers, rc ? 0 : a.n_orders, rc ? 0 : (long long)a.coverage,
            rc ? 0 : (long long)a.coverage_ub, rc ? 0 : (long long)a.need, rc ? 0 : (long long)a.cost,
            rc ? 0 : (long long)a.cost_lb, rc ? 0 : a.bb_nodes);
  if (rc == 0) {
    struct rule rules[MAX_ISPS];
    for (size_t t = 0; t < f->m.request.n_isps; t++) rules[t] = isp_rule(f, t);
    check_result(f, rules, &a);
    CHECK(fx_clear_solve(&f->m, &f->p, &b) == 0);
    check_same(&a, &b);
    fx_clear_result_free(&b);
    if (f->p.bb_symmetry) check_symmetry(f, &a);
    if (tiny(f)) check_exhaustive(f, rules, &a);
    fx_clear_result_free(&a);
  }
  free(f);
  return 0;
}
