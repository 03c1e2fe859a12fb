/* clear_sub.c — sub-markets: a large market's answer improved, or its cost
 * proven, on a smaller market carved out of it.
 *
 * Neighbourhood search (RINS: relaxation-induced neighbourhood search). On
 * 1,000 offers the answer of the dives sits 0.2–0.35 % above the optimum and
 * a branch-and-bound node costs about a millisecond (GLPK copies the whole LP
 * on every call), so searching the whole market for a better answer does not
 * fit the budget. Most offers, though, are decided the same way by the
 * answer and by the LP at the answer's coverage: those are fixed (their
 * orders become the sub-market's base, so bounds apply to base + new orders
 * and only coverage beyond the base counts), and the few dozen on which the
 * two disagree are cleared again, exactly as a small market is — LP, dive,
 * branch-and-bound on cost — where a node is a few times cheaper. The
 * sub-market's answer plus the fixed orders is checked on the full market's
 * exact integers and replaces the answer only when it keeps every bound,
 * covers at least as much and costs less. It proves nothing: the
 * sub-market's bounds hold only inside the neighbourhood.
 *
 * Proof on a reduced market. Reduced-cost fixing at the root with the
 * answer's cost u leaves out every option whose ordering alone proves a cost
 * of at least u; what is left is a market of its own (the same request, the
 * offers with their remaining options), whose branch-and-bound runs on a
 * smaller LP. Every choice cheaper than u lies in it, so its proven bound,
 * capped at u, is the whole market's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_internal.h"

struct sub {
  const struct cl_model *md;
  struct fx_clear_offer *offers; /* the free offers, pointers into the market's */
  size_t *map;                   /* sub offer -> full offer */
  int64_t *base;                 /* per ISP: market base + the fixed orders */
  struct fx_clear_market m;
  struct cl_state fixed;         /* full model: the fixed orders only */
};

/* Do the answer and the LP solution agree on offer i: the same column at
 * the same factor (within a hundredth), or both nothing? */
static bool agrees(const struct cl_lp *lp, const struct cl_model *md, const struct cl_state *st,
                   size_t i) {
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    double want = st->col[i] == (int)c ? st->k[i] / 100.0 : 0.0;
    if (fabs(cl_lp_bb_x(lp, c) - want) > 0.0099) return false;
  }
  return true;
}

static void sub_free(struct sub *s) {
  free(s->offers), free(s->map), free(s->base);
  cl_state_free(&s->fixed);
}

static int sub_build(struct sub *s, const struct cl_model *md, const struct cl_lp *lp,
                     const struct cl_state *st) {
  memset(s, 0, sizeof *s);
  s->md = md;
  size_t n = md->n_offers ? md->n_offers : 1, ni = md->n_isps ? md->n_isps : 1;
  s->offers = malloc(n * sizeof *s->offers);
  s->map = malloc(n * sizeof *s->map);
  s->base = calloc(ni, sizeof *s->base);
  int rc = cl_state_init(&s->fixed, md);
  if (rc || !s->offers || !s->map || !s->base) return FX_CLEAR_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (agrees(lp, md, st, i)) {
      if (st->col[i] >= 0) cl_state_set(&s->fixed, md, i, st->col[i], st->k[i]);
      continue;
    }
    s->offers[k] = md->m->offers[i];
    s->map[k++] = i;
  }
  for (size_t t = 0; t < md->n_isps; t++)
    s->base[t] = (md->m->base ? md->m->base[t] : 0) + s->fixed.d[t];
  s->m = (struct fx_clear_market){md->m->request, k, s->offers, s->base};
  return 0;
}

/* The column of the sub-model that is full column c (same option), or -1:
 * an option that helps no ISP the base leaves short is no column there. */
static int sub_col(const struct cl_model *sm, const struct cl_model *md, size_t j, size_t c) {
  for (size_t q = sm->offer_col[j]; q < sm->offer_col[j + 1]; q++)
    if (sm->col[q].option == md->col[c].option) return (int)q;
  return -1;
}

static int full_col(const struct cl_model *md, size_t i, const struct cl_model *sm, size_t q) {
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
    if (md->col[c].option == sm->col[q].option) return (int)c;
  return -1;
}

/* The answer's free orders in the sub-model; false when one of them is no
 * column there. */
static bool sub_start(const struct sub *s, const struct cl_model *sm, const struct cl_state *st,
                      struct cl_state *out) {
  cl_state_clear(out, sm);
  for (size_t j = 0; j < sm->n_offers; j++) {
    size_t i = s->map[j];
    if (st->col[i] < 0) continue;
    int q = sub_col(sm, s->md, j, (size_t)st->col[i]);
    if (q < 0) return false;
    cl_state_set(out, sm, j, q, st->k[i]);
  }
  return true;
}

/* Clear the sub-market for cost at coverage at least the start's: the LP
 * and its dive (a candidate), branch-and-bound on cost, then the local
 * search (cheap on a few dozen offers: at 1,000 offers and 1.2x it took
 * the answer from 0.483 % to 0.435 % above the bound; docs/clearing.md). */
static int sub_solve(const struct cl_model *sm, const struct fx_clear_params *p,
                     double deadline, struct cl_state *sbest) {
  struct cl_lp *lp = NULL;
  struct cl_state dive = {0};
  struct cl_lp_out out = {0};
  struct cl_bb_out bo;
  bool hit = false;
  struct fx_clear_params q = *p;
  q.bb_node_limit = p->rins_node_limit, q.bb_pivot_limit = p->rins_pivot_limit;
  int64_t c0 = sbest->cov;
  int rc = cl_state_init(&dive, sm);
  if (!rc) rc = cl_lp_create(&lp, sm, &q, deadline);
  if (!rc) rc = cl_lp_dive(lp, &dive, &out, sbest, p->coverage_tolerance);
  if (!rc) rc = cl_polish(&dive, sm, c0);
  if (!rc && dive.cov >= c0 && dive.cost < sbest->cost && cl_state_feasible(&dive, sm))
    cl_state_copy(sbest, &dive, sm);
  if (!rc) rc = cl_lp_cost_bound(lp, sbest->cov, &out);
  if (!rc) rc = cl_bb_run(sm, lp, &q, sbest, c0, out.cost_lb, false, &bo);
  if (!rc && p->local_search_work > 0)
    rc = cl_swap(sbest, sm, c0, p->local_search_work, &hit); /* keeps coverage >= c0 */
  cl_lp_free(lp);
  cl_state_free(&dive);
  return rc;
}

/* The fixed orders plus the sub-model's answer, in the full model; taken
 * when it keeps every bound, covers as much and costs less. */
static void merge(struct sub *s, const struct cl_model *sm, const struct cl_state *sbest,
                  struct cl_state *best) {
  struct cl_state *cand = &s->fixed; /* reused: sub_free follows */
  const struct cl_model *md = s->md;
  for (size_t j = 0; j < sm->n_offers; j++) {
    if (sbest->col[j] < 0) continue;
    int c = full_col(md, s->map[j], sm, (size_t)sbest->col[j]);
    if (c < 0) return;
    cl_state_set(cand, md, s->map[j], c, sbest->k[j]);
  }
  if (cl_state_feasible(cand, md) && cand->cov >= best->cov && cand->cost < best->cost)
    cl_state_copy(best, cand, md);
}

int cl_rins(const struct cl_model *md, const struct cl_lp *lp, const struct fx_clear_params *p,
            double deadline, struct cl_state *best, int *n_free) {
  struct sub s;
  struct cl_model sm;
  struct cl_state sbest = {0};
  *n_free = 0;
  int rc = sub_build(&s, md, lp, best);
  if (!rc && s.m.n_offers == 0) {
    sub_free(&s);
    return 0;
  }
  *n_free = (int)s.m.n_offers;
  if (!rc) rc = cl_model_init(&sm, &s.m);
  if (rc) {
    sub_free(&s);
    return rc == FX_CLEAR_EINVAL ? 0 : rc; /* a base beyond the limits: no neighbourhood */
  }
  rc = cl_state_init(&sbest, &sm);
  if (!rc && sm.n_cols && sub_start(&s, &sm, best, &sbest) && cl_state_feasible(&sbest, &sm)) {
    rc = sub_solve(&sm, p, deadline, &sbest);
    if (!rc) merge(&s, &sm, &sbest, best);
  }
  cl_state_free(&sbest);
  cl_model_free(&sm);
  sub_free(&s);
  return rc;
}

/* The reduced market of the proof: every offer with the options that
 * reduced-cost fixing at the root left (none left: the offer is gone). Any
 * choice cheaper than the answer lies inside it, so its proven bound, less
 * than the answer's cost, is the whole market's. */
struct reduced {
  const struct cl_model *md;
  struct fx_clear_offer *offers;
  struct fx_clear_option *options;
  size_t *map;     /* reduced offer -> full offer */
  uint32_t *opt;   /* reduced option (offers' options in a row) -> full option index */
  size_t *first;   /* reduced offer -> its first entry in options/opt */
  struct fx_clear_market m;
};

static void reduced_free(struct reduced *r) {
  free(r->offers), free(r->options), free(r->map), free(r->opt), free(r->first);
}

static int reduced_build(struct reduced *r, const struct cl_model *md, const bool *keep) {
  memset(r, 0, sizeof *r);
  r->md = md;
  size_t n = md->n_offers ? md->n_offers : 1, nc = md->n_cols ? md->n_cols : 1;
  r->offers = malloc(n * sizeof *r->offers);
  r->map = malloc(n * sizeof *r->map);
  r->first = malloc(n * sizeof *r->first);
  r->options = malloc(nc * sizeof *r->options);
  r->opt = malloc(nc * sizeof *r->opt);
  if (!r->offers || !r->map || !r->first || !r->options || !r->opt) return FX_CLEAR_ENOMEM;
  size_t k = 0, o = 0;
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t o0 = o;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      if (!keep[c]) continue;
      r->options[o] = md->m->offers[i].options[md->col[c].option];
      r->opt[o++] = md->col[c].option;
    }
    if (o == o0) continue;
    r->map[k] = i, r->first[k] = o0;
    r->offers[k++] = (struct fx_clear_offer){o - o0, NULL};
  }
  for (size_t j = 0; j < k; j++) r->offers[j].options = &r->options[r->first[j]];
  r->m = (struct fx_clear_market){md->m->request, k, r->offers, md->m->base};
  return 0;
}

/* The reduced model's column for full column c of offer j, or -1. */
static int reduced_col(const struct reduced *r, const struct cl_model *rm, size_t j, size_t c) {
  for (size_t q = rm->offer_col[j]; q < rm->offer_col[j + 1]; q++)
    if (r->opt[r->first[j] + rm->col[q].option] == r->md->col[c].option) return (int)q;
  return -1;
}

/* The full model's column for reduced column q of offer j, or -1. */
static int reduced_full(const struct reduced *r, const struct cl_model *rm, size_t j, size_t q) {
  const struct cl_model *md = r->md;
  size_t i = r->map[j];
  uint32_t option = r->opt[r->first[j] + rm->col[q].option];
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
    if (md->col[c].option == option) return (int)c;
  return -1;
}

/* best in the reduced model; false if an order of it is not there. */
static bool reduced_start(const struct reduced *r, const struct cl_model *rm,
                          const struct cl_state *best, struct cl_state *st) {
  size_t j = 0;
  cl_state_clear(st, rm);
  for (size_t i = 0; i < r->md->n_offers; i++) {
    while (j < rm->n_offers && r->map[j] < i) j++;
    if (best->col[i] < 0) continue;
    if (j == rm->n_offers || r->map[j] != i) return false;
    int q = reduced_col(r, rm, j, (size_t)best->col[i]);
    if (q < 0) return false;
    cl_state_set(st, rm, j, q, best->k[i]);
  }
  return st->cov == best->cov && st->cost == best->cost && cl_state_feasible(st, rm);
}

static void reduced_merge(const struct reduced *r, const struct cl_model *rm,
                          const struct cl_state *st, struct cl_state *cand, struct cl_state *best) {
  const struct cl_model *md = r->md;
  cl_state_clear(cand, md);
  for (size_t j = 0; j < rm->n_offers; j++) {
    if (st->col[j] < 0) continue;
    int c = reduced_full(r, rm, j, (size_t)st->col[j]);
    if (c < 0) return;
    cl_state_set(cand, md, r->map[j], c, st->k[j]);
  }
  if (cl_state_feasible(cand, md) && cand->cov >= best->cov && cand->cost < best->cost)
    cl_state_copy(best, cand, md);
}

/* The reduced market's LP at the answer's coverage and its branch-and-bound
 * on cost; its proven bound in out. */
static int reduced_search(const struct cl_model *rm, const struct fx_clear_params *p,
                          double deadline, struct cl_state *st, struct cl_bb_out *out) {
  struct cl_lp *lp = NULL;
  struct cl_lp_out lo = {0};
  int64_t c0 = st->cov;
  int rc = cl_lp_create(&lp, rm, p, deadline);
  if (!rc) rc = cl_lp_root(lp, st, &lo);
  if (!rc) rc = cl_lp_cost_bound(lp, c0, &lo);
  if (!rc) rc = cl_bb_run(rm, lp, p, st, c0, lo.cost_lb, false, out);
  if (!rc && lo.cost_lb > out->bound) out->bound = lo.cost_lb;
  cl_lp_free(lp);
  return rc;
}

int cl_reduced_bb(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                  double deadline, struct cl_state *best, struct cl_bb_out *out, int *n_cols) {
  struct reduced r = {0};
  struct cl_model rm = {0};
  struct cl_state st = {0}, cand = {0};
  int64_t u = best->cost, c0 = best->cov;
  bool *keep = calloc(md->n_cols ? md->n_cols : 1, sizeof *keep);
  memset(out, 0, sizeof *out);
  out->bound = INT64_MIN;
  *n_cols = 0;
  int rc = keep ? cl_lp_root_fix(lp, c0, u, keep) : FX_CLEAR_ENOMEM;
  for (size_t i = 0; !rc && i < md->n_offers; i++)
    if (best->col[i] >= 0) keep[best->col[i]] = true; /* the answer stays inside */
  if (!rc) rc = reduced_build(&r, md, keep);
  if (!rc) rc = cl_model_init(&rm, &r.m);
  if (!rc) rc = cl_state_init(&st, &rm);
  if (!rc) rc = cl_state_init(&cand, md);
  if (!rc && rm.n_cols && reduced_start(&r, &rm, best, &st)) {
    *n_cols = (int)rm.n_cols;
    rc = reduced_search(&rm, p, deadline, &st, out);
    if (!rc) reduced_merge(&r, &rm, &st, &cand, best);
    if (!rc && out->bound > u) out->bound = u; /* nothing outside costs less than u */
  }
  cl_state_free(&st), cl_state_free(&cand);
  if (rm.col || rm.isp) cl_model_free(&rm);
  reduced_free(&r);
  free(keep);
  return rc;
}
