/* clear_markets.c — the clearing suites' random markets and exhaustive
 * search (see clear_markets.h): one copy, so that the suites judging the
 * engine's LP, its branch-and-bound and its node simplex read the rules of
 * DESIGN.md §4 the same way. */
#include "tests/support/clear_markets.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/clear_internal.h"

uint64_t fx_cm_next(struct fx_cm_rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

int64_t fx_cm_uni(struct fx_cm_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(fx_cm_next(r) % (uint64_t)(hi - lo + 1));
}

static void gen_isp(struct fx_cm_rng *r, struct fx_clear_isp *is) {
  int64_t a = fx_cm_uni(r, 0, 4) * 100, b = a + fx_cm_uni(r, 0, 3) * 100;
  switch (fx_cm_uni(r, 0, 5)) {
  case 0: *is = (struct fx_clear_isp){FX_CLEAR_UNCONSTRAINED, 0, 0}; break;
  case 1: *is = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -b, a}; break;
  case 2: case 3: *is = (struct fx_clear_isp){FX_CLEAR_REQUESTED, a, b}; break;
  default: *is = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -b, -a}; break;
  }
}

void fx_cm_gen_based(struct fx_cm_market *k, int64_t *base, uint64_t seed, size_t n_offers, int steps) {
  fx_cm_gen(k, seed, n_offers, steps, seed % 4 == 0);
  if (seed % 2 == 0)
    return;
  struct fx_cm_rng r = {seed * 7919 + 1};
  for (size_t t = 0; t < k->m.request.n_isps; t++)
    base[t] = fx_cm_uni(&r, -300, 300);
  k->m.base = base;
}

void fx_cm_link(struct fx_cm_market *k, size_t n_isps, size_t n_offers) {
  for (size_t i = 0; i < n_offers; i++) {
    for (size_t j = 0; j < k->offers[i].n_options; j++) k->opts[i][j].power = k->pw[i][j];
    k->offers[i].options = k->opts[i];
  }
  k->m = (struct fx_clear_market){{n_isps, k->isps}, n_offers, k->offers, NULL};
}

void fx_cm_gen(struct fx_cm_market *k, uint64_t seed, size_t n_offers, int steps, bool negative) {
  struct fx_cm_rng r = {seed};
  size_t n_isps = (size_t)fx_cm_uni(&r, 2, FX_CM_MAX_ISPS);
  for (size_t t = 0; t < n_isps; t++) gen_isp(&r, &k->isps[t]);
  for (size_t i = 0; i < n_offers; i++) {
    size_t n_opt = (size_t)fx_cm_uni(&r, 1, FX_CM_MAX_OPTS);
    for (size_t j = 0; j < n_opt; j++) {
      size_t first = (size_t)fx_cm_uni(&r, 0, (int64_t)n_isps - 1);
      size_t n = (size_t)fx_cm_uni(&r, 1, (int64_t)(n_isps - first));
      int64_t dir = fx_cm_uni(&r, 0, 1) ? 1 : -1;
      for (size_t q = 0; q < n; q++)
        k->pw[i][j][q] = dir * fx_cm_uni(&r, -20, 250) + (fx_cm_uni(&r, 0, 5) == 0 ? 1 : 0);
      int64_t price = fx_cm_uni(&r, negative ? -3000 : 1, 20000);
      k->opts[i][j] = (struct fx_clear_option){price, 100 - (int)fx_cm_uni(&r, 0, steps), first, n, NULL};
    }
    k->offers[i] = (struct fx_clear_offer){n_opt, NULL};
  }
  fx_cm_link(k, n_isps, n_offers);
}

static bool isp_ok(const struct fx_clear_isp *is, int64_t d) {
  if (is->disposition == FX_CLEAR_UNCONSTRAINED) return true;
  int64_t lo = is->min_power < 0 ? is->min_power : 0, hi = is->max_power > 0 ? is->max_power : 0;
  return d >= lo && d <= hi;
}

static int64_t isp_need(const struct fx_clear_isp *is, int *s) {
  *s = is->min_power >= 0 ? 1 : -1;
  if (is->disposition != FX_CLEAR_REQUESTED) return 0;
  if (is->min_power >= 0) return is->min_power > 0 ? is->min_power : is->max_power;
  return is->max_power < 0 ? -is->max_power : -is->min_power;
}

int64_t fx_cm_coverage(const struct fx_clear_market *m, const int64_t *d, bool *ok) {
  int64_t cov = 0;
  *ok = true;
  for (size_t t = 0; t < m->request.n_isps; t++) {
    int s;
    int64_t need = isp_need(&m->request.isps[t], &s), v = s * d[t];
    *ok = *ok && isp_ok(&m->request.isps[t], d[t]);
    cov += v < 0 ? 0 : v > need ? need : v;
  }
  return cov;
}

bool fx_cm_useful(const struct fx_clear_market *m, const struct fx_clear_option *o) {
  for (size_t q = 0; q < o->n_power; q++) {
    int s;
    if (isp_need(&m->request.isps[o->first_isp + q], &s) > 0 && s * o->power[q] > 0) return true;
  }
  return false;
}

void fx_cm_add(int64_t *d, const struct fx_clear_option *o, int k, int sign) {
  for (size_t q = 0; q < o->n_power; q++) d[o->first_isp + q] += sign * fx_clear_order_power(o->power[q], k);
}

static bool ex_allowed(const struct fx_cm_ex *e, size_t i, size_t j) {
  if (!e->only || i != e->only_offer) return true;
  return e->only == 1 ? j != e->only_opt : j == e->only_opt;
}

/* Factors [*k1, *k2] of offer i's option j in e's node; false: j is out. */
static bool ex_range(const struct fx_cm_ex *e, size_t i, size_t j, int *k1, int *k2) {
  const struct fx_clear_option *o = &e->m->offers[i].options[j];
  *k1 = o->min_af, *k2 = 100;
  if (!e->lo) return true;
  size_t at = i * FX_CM_MAX_OPTS + j;
  *k1 = e->lo[at] > *k1 ? e->lo[at] : *k1, *k2 = e->hi[at];
  return *k1 <= *k2;
}

/* Option j is ordered: its offer takes it (an empty range orders nothing). */
static bool ex_on(const struct fx_cm_ex *e, size_t i, size_t j) {
  int k1, k2;
  return e->lo && e->lo[i * FX_CM_MAX_OPTS + j] > 0 && ex_range(e, i, j, &k1, &k2);
}

/* Offer i must order one of its options. */
static bool ex_ordered(const struct fx_cm_ex *e, size_t i) {
  if (e->only == 2 && i == e->only_offer) return true;
  for (size_t j = 0; e->lo && j < e->m->offers[i].n_options; j++)
    if (ex_on(e, i, j)) return true;
  return false;
}

static bool ex_taken(const struct fx_cm_ex *e, size_t i, size_t j) {
  return !e->lo || !ex_ordered(e, i) || ex_on(e, i, j);
}

/* The choice in e (coverage cov) keeps "no order adds no coverage": no
 * order can be taken out keeping the coverage and every bound. */
static bool ex_kept(struct fx_cm_ex *e, int64_t cov) {
  bool kept = true;
  for (size_t i = 0; kept && i < e->m->n_offers; i++) {
    if (e->ch[i] < 0) continue;
    const struct fx_clear_option *o = &e->m->offers[i].options[e->ch[i]];
    bool ok;
    fx_cm_add(e->d, o, e->k[i], -1);
    kept = fx_cm_coverage(e->m, e->d, &ok) != cov || !ok;
    fx_cm_add(e->d, o, e->k[i], 1);
  }
  return kept;
}

static void ex_rec(struct fx_cm_ex *e, size_t i) {
  if (i == e->m->n_offers) {
    bool ok;
    int64_t cov = fx_cm_coverage(e->m, e->d, &ok);
    if (!ok) return;
    if (cov > e->best_cov || (cov == e->best_cov && e->cost < e->best_cost))
      e->best_cov = cov, e->best_cost = e->cost;
    if (cov >= e->at_cov && e->cost < e->at_cost) e->at_cost = e->cost;
    if (cov >= e->at_cov && e->cost < e->at_kept && ex_kept(e, cov)) e->at_kept = e->cost;
    return;
  }
  e->ch[i] = -1;
  if (!ex_ordered(e, i)) ex_rec(e, i + 1);
  for (size_t j = 0; j < e->m->offers[i].n_options; j++) {
    const struct fx_clear_option *o = &e->m->offers[i].options[j];
    int k1, k2;
    if (!fx_cm_useful(e->m, o) || !ex_allowed(e, i, j) || !ex_taken(e, i, j) ||
        !ex_range(e, i, j, &k1, &k2))
      continue;
    for (int k = k1; k <= k2; k++) {
      e->ch[i] = (int)j, e->k[i] = k;
      fx_cm_add(e->d, o, k, 1);
      e->cost += fx_clear_order_price(o->price, k);
      ex_rec(e, i + 1);
      e->cost -= fx_clear_order_price(o->price, k);
      fx_cm_add(e->d, o, k, -1);
    }
  }
  e->ch[i] = -1;
}

void fx_cm_exhaustive(struct fx_cm_ex *e) {
  e->best_cov = -1, e->best_cost = INT64_MAX, e->at_cost = e->at_kept = INT64_MAX;
  memset(e->d, 0, sizeof e->d), e->cost = 0;
  ex_rec(e, 0);
}

struct fx_cm_bb fx_cm_bb_from(const struct fx_clear_market *m, const struct fx_clear_params *p,
                              int (*start)(struct cl_state *, const struct cl_model *)) {
  struct fx_cm_bb r = {0};
  struct cl_model md;
  struct cl_lp *lp = NULL;
  struct cl_state st = {0};
  struct cl_lp_out out = {0};
  cr_assert_eq(cl_model_init(&md, m), 0);
  if (md.n_cols) {
    cr_assert_eq(cl_lp_create(&lp, &md, p, 0), 0);
    cr_assert_eq(cl_state_init(&st, &md), 0);
    cr_assert_eq(start(&st, &md), 0);
    cr_assert_eq(cl_lp_root(lp, &st, &out), 0);
    cr_assert_eq(cl_lp_cost_bound(lp, st.cov, &out), 0);
    r.cov = st.cov;
    cr_assert_eq(cl_bb_run(&md, lp, p, &st, out.target, out.cost_lb, false, &r.bo), 0);
    r.cost = st.cost, r.ran = true;
    cr_assert_geq(st.cov, r.cov, "the answer lost coverage");
  }
  cl_lp_free(lp);
  cl_state_free(&st);
  cl_model_free(&md);
  return r;
}

/* Merit order as fx_clear_solve's search starts from it: pruned. */
static int merit_pruned(struct cl_state *st, const struct cl_model *md) {
  int rc = cl_merit(st, md);
  return rc ? rc : cl_prune(st, md);
}

struct fx_cm_bb fx_cm_bb_merit(const struct fx_clear_market *m, const struct fx_clear_params *p) {
  return fx_cm_bb_from(m, p, merit_pruned);
}

void fx_cm_check_bb_exhaustive(const struct fx_clear_market *m, const struct fx_cm_bb *r,
                               uint64_t seed) {
  struct fx_cm_ex e = {.m = m, .at_cov = r->cov};
  fx_cm_exhaustive(&e);
  cr_assert_leq(r->bo.bound, e.at_cost, "seed %llu: bound %lld above the optimum %lld",
                (unsigned long long)seed, (long long)r->bo.bound, (long long)e.at_cost);
  cr_assert_geq(r->cost, e.at_kept, "seed %llu: %lld, below the least cost %lld keeping the rules",
                (unsigned long long)seed, (long long)r->cost, (long long)e.at_kept);
  if (!r->bo.budget_hit)
    cr_assert_eq(r->cost, e.at_kept, "seed %llu: %lld, least cost %lld", (unsigned long long)seed,
                 (long long)r->cost, (long long)e.at_kept);
}

struct fx_cm_sums fx_cm_sweep(const struct fx_clear_params *p, uint64_t first, uint64_t last,
                              size_t n, bool exhaustive) {
  struct fx_cm_sums s = {0};
  for (uint64_t seed = first; seed < last; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, n, 4, seed % 5 == 0);
    struct fx_cm_bb r = fx_cm_bb_merit(&k.m, p);
    if (!r.ran) continue;
    if (exhaustive) fx_cm_check_bb_exhaustive(&k.m, &r, seed);
    s.ran++, s.nodes += r.bo.nodes, s.pivots += r.bo.pivots, s.aborts += r.bo.plunge_aborts;
    if (r.bo.plunge_longest > s.longest) s.longest = r.bo.plunge_longest;
    s.rounds += r.bo.rounds, s.round_backoffs += r.bo.round_backoffs;
    s.round_resets += r.bo.round_resets, s.rounds_improved += r.bo.rounds_improved;
  }
  return s;
}

void fx_cm_bb_params(struct fx_clear_params *p) {
  fx_clear_params_init(p);
  p->exact_max_offers = 0;
  p->redive_max_offers = 0;
  p->local_search_max_offers = 0;
  p->bb_gap = 0;
  p->bb_node_limit = 5000;
  p->bb_pivot_limit = 1000000;
}

void fx_cm_check_state(const struct fx_clear_market *m, const struct cl_model *md,
                       const struct cl_state *st, uint64_t seed) {
  int64_t d[FX_CM_MAX_ISPS] = {0}, cost = 0;
  for (size_t i = 0; i < m->n_offers; i++) {
    if (st->col[i] < 0) continue;
    const struct fx_clear_option *o = &m->offers[i].options[md->col[st->col[i]].option];
    cr_assert(st->k[i] >= o->min_af && st->k[i] <= 100, "seed %llu: factor %d",
              (unsigned long long)seed, st->k[i]);
    fx_cm_add(d, o, st->k[i], 1);
    cost += fx_clear_order_price(o->price, st->k[i]);
  }
  bool ok;
  cr_assert_eq(fx_cm_coverage(m, d, &ok), st->cov, "seed %llu", (unsigned long long)seed);
  cr_assert(ok, "seed %llu: a bound is violated", (unsigned long long)seed);
  cr_assert_eq(cost, st->cost, "seed %llu", (unsigned long long)seed);
}

void fx_cm_check_result(const struct fx_clear_market *m, const struct fx_clear_result *r,
                        uint64_t seed) {
  int64_t d[FX_CM_MAX_ISPS] = {0}, cost = 0;
  size_t n = 0;
  for (size_t i = 0; i < m->n_offers; i++) {
    if (r->option[i] < 0) continue;
    const struct fx_clear_option *o = &m->offers[i].options[r->option[i]];
    cr_assert(r->factor[i] >= o->min_af && r->factor[i] <= 100, "seed %llu: factor %d",
              (unsigned long long)seed, r->factor[i]);
    cr_assert(fx_cm_useful(m, o), "seed %llu: offer %zu helps no Requested ISP",
              (unsigned long long)seed, i);
    cr_assert_eq(r->orders[n].offer, i);
    cr_assert_eq(r->orders[n].price, fx_clear_order_price(o->price, r->factor[i]));
    n++;
    fx_cm_add(d, o, r->factor[i], 1);
    cost += fx_clear_order_price(o->price, r->factor[i]);
  }
  bool ok;
  cr_assert_eq(n, r->n_orders);
  cr_assert_eq(fx_cm_coverage(m, d, &ok), r->coverage, "seed %llu", (unsigned long long)seed);
  cr_assert(ok, "seed %llu: a bound is violated", (unsigned long long)seed);
  cr_assert_eq(cost, r->cost, "seed %llu", (unsigned long long)seed);
  for (size_t t = 0; t < m->request.n_isps; t++) cr_assert_eq(d[t], r->ordered[t]);
  cr_assert_geq(r->coverage_ub, r->coverage);
  cr_assert_leq(r->cost_lb, r->cost);
}

struct fx_clear_result fx_cm_solve(const struct fx_clear_market *m,
                                   const struct fx_clear_params *p) {
  struct fx_clear_result r;
  int rc = fx_clear_solve(m, p, &r);
  cr_assert_eq(rc, 0, "rc %d", rc);
  return r;
}

void fx_cm_same_result(const struct fx_clear_result *a, const struct fx_clear_result *b,
                       uint64_t seed) {
  unsigned long long s = (unsigned long long)seed;
  cr_assert_eq(a->n_orders, b->n_orders, "seed %llu", s);
  cr_assert_arr_eq(a->orders, b->orders, a->n_orders * sizeof *a->orders, "seed %llu", s);
  cr_assert_eq(a->coverage_ub, b->coverage_ub, "seed %llu", s);
  cr_assert_eq(a->cost_lb, b->cost_lb, "seed %llu", s);
  cr_assert_eq(a->bb_nodes, b->bb_nodes, "seed %llu", s);
}

bool fx_cm_check_bounds(const struct fx_clear_market *m, const struct fx_clear_result *r,
                        uint64_t seed) {
  unsigned long long sd = (unsigned long long)seed;
  struct fx_cm_ex e = {.m = m, .at_cov = r->coverage};
  fx_cm_exhaustive(&e);
  cr_assert_geq(r->coverage_ub, e.best_cov, "seed %llu: the coverage bound is no bound", sd);
  cr_assert_leq(r->cost_lb, e.at_cost, "seed %llu: the bound %lld is above the optimum %lld", sd,
                (long long)r->cost_lb, (long long)e.at_cost);
  cr_assert_geq(r->cost, e.at_kept, "seed %llu: cheaper than the optimum keeping the rules", sd);
  return r->cost == e.at_kept;
}

bool fx_cm_model(struct cl_model *md, const struct fx_clear_market *m) {
  cr_assert_eq(cl_model_init(md, m), 0);
  if (md->n_cols) return true;
  cl_model_free(md);
  return false;
}

struct fx_clear_result fx_cm_solve_checked(const struct fx_clear_market *m,
                                           const struct fx_clear_params *p, uint64_t seed,
                                           bool *least) {
  struct fx_clear_result r = fx_cm_solve(m, p), again = fx_cm_solve(m, p);
  fx_cm_check_result(m, &r, seed);
  fx_cm_same_result(&r, &again, seed);
  bool l = fx_cm_check_bounds(m, &r, seed);
  if (least) *least = l;
  fx_clear_result_free(&again);
  return r;
}

int fx_cm_tiny_clearings(const struct fx_clear_params *p) {
  int checked = 0;
  for (uint64_t seed = 500; seed < 540; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(4 + seed % 5), 3, seed % 5 == 0);
    struct fx_clear_result r = fx_cm_solve_checked(&k.m, p, seed, NULL);
    checked++;
    fx_clear_result_free(&r);
  }
  return checked;
}

int fx_cm_phase1_bound_sweep(const struct fx_clear_params *p) {
  int checked = 0;
  for (uint64_t seed = 400; seed < 460; seed++) {
    struct fx_cm_market k;
    int64_t base[FX_CM_MAX_ISPS];
    fx_cm_gen_based(&k, base, seed, (size_t)(3 + seed % 5), 3);
    if (k.m.base) continue; /* the search counts coverage without a base */
    struct cl_model md;
    cr_assert_eq(cl_model_init(&md, &k.m), 0);
    if (md.n_cols) {
      struct cl_state merit;
      struct cl_lp *lp = NULL;
      struct cl_lp_phase1 c = {0};
      cr_assert_eq(cl_state_init(&merit, &md), 0);
      cr_assert_eq(cl_merit(&merit, &md), 0);
      cr_assert_eq(cl_lp_create(&lp, &md, p, 0), 0);
      cr_assert_eq(cl_lp_phase1(lp, &merit, false, &c), 0);
      cl_lp_free(lp);
      cl_state_free(&merit);
      struct fx_cm_ex e = {.m = &k.m, .at_cov = 0};
      fx_cm_exhaustive(&e);
      cr_assert_geq(c.coverage_ub, e.best_cov, "seed %llu", (unsigned long long)seed);
      checked++;
    }
    cl_model_free(&md);
  }
  return checked;
}

struct fx_cm_sweep fx_cm_small_sweep(const struct fx_clear_params *p) {
  struct fx_cm_sweep w = {0};
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 3), 2, seed % 5 == 0);
    bool least;
    struct fx_clear_result r = fx_cm_solve_checked(&k.m, p, seed, &least);
    w.least += least;
    w.proofs += r.proof_cols > 0;
    w.warm += r.proof_warm;
    fx_clear_result_free(&r);
  }
  return w;
}

int64_t fx_cm_merit_cost(const struct fx_clear_market *m) {
  struct cl_model md;
  struct cl_state st = {0};
  cr_assert_eq(cl_model_init(&md, m), 0);
  cr_assert_eq(cl_state_init(&st, &md), 0);
  cr_assert_eq(cl_merit(&st, &md), 0);
  int64_t cost = st.cost;
  cl_state_free(&st);
  cl_model_free(&md);
  return cost;
}

bool fx_cm_node_open(struct fx_cm_node *n, const struct fx_clear_market *m) {
  struct fx_clear_params p;
  struct cl_lp_out out = {0};
  memset(n, 0, sizeof *n);
  fx_clear_params_init(&p);
  cr_assert_eq(cl_model_init(&n->md, m), 0);
  if (!n->md.n_cols) return false;
  cr_assert_eq(cl_lp_create(&n->lp, &n->md, &p, 0), 0);
  cr_assert_eq(cl_state_init(&n->merit, &n->md), 0);
  cr_assert_eq(cl_merit(&n->merit, &n->md), 0);
  cr_assert_eq(cl_lp_root(n->lp, &n->merit, &out), 0);
  cr_assert_eq(cl_lp_cost_bound(n->lp, n->merit.cov, &out), 0);
  for (size_t c = 0; c < n->md.n_cols; c++) n->kr[c] = (struct cl_krange){0, 100};
  cr_assert_eq(cl_lp_bb_begin(n->lp, n->kr, false), 0);
  n->cov = n->merit.cov, n->begun = true;
  return true;
}

void fx_cm_node_close(struct fx_cm_node *n) {
  if (n->begun) cl_lp_bb_end(n->lp);
  cl_lp_free(n->lp);
  if (n->merit.col) cl_state_free(&n->merit);
  cl_model_free(&n->md);
}

bool fx_cm_node_branch(struct fx_cm_node *n, int dir) {
  for (size_t i = 0; i < n->md.n_offers; i++) {
    size_t c;
    bool up;
    double dist;
    if (cl_lp_bb_frac(n->lp, i, &c, &up, &dist) != 1) continue;
    for (size_t j = n->md.offer_col[i]; j < n->md.offer_col[i + 1]; j++) {
      if (dir == 0 && j == c) n->kr[j].hi = 0;
      if (dir == 1 && j == c) n->kr[j].lo = (uint8_t)n->md.col[c].min_af;
      if (dir == 1 && j != c) n->kr[j].hi = 0;
      cl_lp_bb_set(n->lp, j, n->kr[j]);
    }
    return true;
  }
  return false;
}

void fx_cm_small_both_paths(const struct fx_clear_params *p) {
  for (int proof = 0; proof < 2; proof++) {
    struct fx_clear_params q = *p;
    if (proof) q.bb_max_offers = 0, q.proof_max_offers = 1000;
    for (uint64_t seed = 1; seed <= 80; seed++) {
      struct fx_cm_market k;
      fx_cm_gen(&k, seed, (size_t)(7 + seed % 3), 2, seed % 6 == 0);
      struct fx_clear_result r = fx_cm_solve_checked(&k.m, &q, seed, NULL);
      fx_clear_result_free(&r);
    }
  }
}

int fx_cm_same_optimum(const struct fx_clear_params *on, const struct fx_clear_params *off,
                       uint64_t first, uint64_t last, int *proven) {
  int differ = 0;
  *proven = 0;
  for (uint64_t seed = first; seed < last; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + seed % 21), 60, seed % 4 == 0);
    struct fx_clear_result r = fx_cm_solve(&k.m, on), o = fx_cm_solve(&k.m, off);
    fx_cm_check_result(&k.m, &r, seed);
    differ += r.bb_nodes != o.bb_nodes || r.cost != o.cost;
    if (!o.budget_hit) cr_assert_leq(r.cost_lb, o.cost, "seed %llu", (unsigned long long)seed);
    if (!r.budget_hit && !o.budget_hit) {
      (*proven)++;
      cr_assert_eq(r.coverage, o.coverage, "seed %llu", (unsigned long long)seed);
      cr_assert_eq(r.cost, o.cost, "seed %llu: %lld on, %lld off", (unsigned long long)seed,
                   (long long)r.cost, (long long)o.cost);
    }
    fx_clear_result_free(&r), fx_clear_result_free(&o);
  }
  return differ;
}

int fx_cm_node_walk(void (*f)(const struct fx_cm_node *n, void *arg, const char *where), void *arg) {
  return fx_cm_node_walk_sized(20, 60, f, arg);
}

int fx_cm_node_walk_sized(size_t offers, uint64_t seeds,
                          void (*f)(const struct fx_cm_node *n, void *arg, const char *where), void *arg) {
  int nodes = 0;
  for (uint64_t seed = 1; seed <= seeds; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, offers + seed % 21, 4, seed % 4 == 0);
    for (int dir = 0; dir < 2; dir++) { /* down the excluded side, then the ordered one */
      struct fx_cm_node n;
      if (!fx_cm_node_open(&n, &k.m)) {
        fx_cm_node_close(&n);
        break;
      }
      int64_t b;
      long piv = 0;
      for (int depth = 0; depth < 25; depth++) {
        char where[64];
        snprintf(where, sizeof where, "seed %llu dir %d depth %d", (unsigned long long)seed, dir, depth);
        if (cl_lp_bb_solve(n.lp, n.cov, &b, &piv) != 1) break;
        f(&n, arg, where);
        nodes++;
        if (!fx_cm_node_branch(&n, dir)) break;
      }
      fx_cm_node_close(&n);
    }
  }
  return nodes;
}
