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
 * Window neighbourhoods (round 9, opt-in): the same clearing again, on the
 * offers of a window of consecutive ISPs sliding over the request, for the
 * answers no single neighbourhood of disagreements reaches.
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

/* The offers free[i] become the sub-market; the others keep st's orders,
 * which join the market's base. */
static int sub_build(struct sub *s, const struct cl_model *md, const struct cl_state *st,
                     const bool *free_offer) {
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
    if (!free_offer[i]) {
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

/* A sub-market's budget: its branch-and-bound's nodes, pivots and gap,
 * and the local search's work. */
struct sub_limits {
  int nodes;
  long pivots;
  double gap;
  long swap_work;
};

/* Clear the sub-market for cost at coverage at least the start's: the LP
 * and its dive (a candidate), branch-and-bound on cost, then the local
 * search (cheap on a few dozen offers: at 1,000 offers and 1.2x it took
 * the answer from 0.483 % to 0.435 % above the bound; docs/clearing.md).
 * *nodes: the branch-and-bound's. */
static int sub_solve(const struct cl_model *sm, const struct fx_clear_params *p, double deadline,
                     const struct sub_limits *lim, struct cl_state *sbest, int *nodes) {
  struct cl_lp *lp = NULL;
  struct cl_state dive = {0};
  struct cl_lp_out out = {0};
  struct cl_bb_out bo = {0};
  bool hit = false;
  struct fx_clear_params q = *p;
  q.bb_node_limit = lim->nodes, q.bb_pivot_limit = lim->pivots, q.bb_gap = lim->gap;
  q.bb_cutoff = 0.0; /* it searches for answers, it proves nothing */
  q.proof_rins_node = 0; /* nor does it search its own neighbourhoods */
  int64_t c0 = sbest->cov;
  int rc = cl_state_init(&dive, sm);
  if (!rc) rc = cl_lp_create(&lp, sm, &q, deadline);
  if (!rc) rc = cl_lp_dive(lp, &dive, &out, sbest, p->coverage_tolerance);
  if (!rc) rc = cl_polish(&dive, sm, c0);
  if (!rc && dive.cov >= c0 && dive.cost < sbest->cost && cl_state_feasible(&dive, sm))
    cl_state_copy(sbest, &dive, sm);
  if (!rc) rc = cl_lp_cost_bound(lp, sbest->cov, &out);
  if (!rc && lim->nodes > 0) rc = cl_bb_run(sm, lp, &q, sbest, c0, out.cost_lb, false, &bo);
  if (!rc && lim->swap_work > 0)
    rc = cl_swap(sbest, sm, c0, lim->swap_work, &hit); /* keeps coverage >= c0 */
  *nodes = bo.nodes;
  cl_lp_free(lp);
  cl_state_free(&dive);
  return rc;
}

/* The fixed orders plus the sub-model's answer, in the full model; taken
 * when it keeps every bound, covers as much and costs less. */
static bool merge(struct sub *s, const struct cl_model *sm, const struct cl_state *sbest,
                  struct cl_state *best) {
  struct cl_state *cand = &s->fixed; /* reused: sub_free follows */
  const struct cl_model *md = s->md;
  for (size_t j = 0; j < sm->n_offers; j++) {
    if (sbest->col[j] < 0) continue;
    int c = full_col(md, s->map[j], sm, (size_t)sbest->col[j]);
    if (c < 0) return false;
    cl_state_set(cand, md, s->map[j], c, sbest->k[j]);
  }
  if (!cl_state_feasible(cand, md) || cand->cov < best->cov || cand->cost >= best->cost)
    return false;
  cl_state_copy(best, cand, md);
  return true;
}

/* A neighbourhood: the offers free_offer[i] cleared again as a market of
 * their own, every other offer fixed at best's order (a base). best is
 * replaced when the whole keeps every bound, covers as much and costs less
 * (*better). *n_free: the free offers; *nodes: the sub-market's
 * branch-and-bound nodes. */
static int sub_clear(const struct cl_model *md, const struct fx_clear_params *p, double deadline,
                     const bool *free_offer, const struct sub_limits *lim, struct cl_state *best,
                     int *n_free, int *nodes, bool *better) {
  struct sub s;
  struct cl_model sm;
  struct cl_state sbest = {0};
  *n_free = 0, *nodes = 0, *better = false;
  int rc = sub_build(&s, md, best, free_offer);
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
    rc = sub_solve(&sm, p, deadline, lim, &sbest, nodes);
    if (!rc) *better = merge(&s, &sm, &sbest, best);
  }
  cl_state_free(&sbest);
  cl_model_free(&sm);
  sub_free(&s);
  return rc;
}

static int rins(const struct cl_model *md, const struct cl_lp *lp, const struct fx_clear_params *p,
                double deadline, const struct sub_limits *lim, struct cl_state *best, int *n_free,
                bool *better) {
  int nodes;
  bool *free_offer = malloc((md->n_offers ? md->n_offers : 1) * sizeof *free_offer);
  if (!free_offer) return FX_CLEAR_ENOMEM;
  for (size_t i = 0; i < md->n_offers; i++) free_offer[i] = !agrees(lp, md, best, i);
  int rc = sub_clear(md, p, deadline, free_offer, lim, best, n_free, &nodes, better);
  free(free_offer);
  return rc;
}

int cl_rins(const struct cl_model *md, const struct cl_lp *lp, const struct fx_clear_params *p,
            double deadline, struct cl_state *best, int *n_free) {
  bool better;
  struct sub_limits lim = {p->rins_node_limit, p->rins_pivot_limit, p->bb_gap,
                           p->local_search_work};
  return rins(md, lp, p, deadline, &lim, best, n_free, &better);
}

/* Round 13 (docs/clearing-rounds.md): given the best answer known, the
 * proof at 1,000 offers needs a few dozen nodes instead of hundreds, but
 * no answer the root can afford comes near it, a better start alone moves
 * the search elsewhere rather than shortening it, and a restart from a
 * better answer found later loses the search's tree. So the search asks
 * for one from inside: the offers on which the incumbent and a node's LP
 * solution disagree (a neighbourhood the root's LP does not point at) are
 * cleared again, and a cheaper answer lowers what the search prunes by
 * from there on. The local search gets a tenth of its work, as the window
 * neighbourhoods do (with a search every 64 nodes: the same answers on the
 * 32 markets measured, 0.3 % fewer instructions). Since round 16 (xover)
 * it gets proof_rins_swap_share of that work, by default none: the
 * sub-market's branch-and-bound finds what these searches find (73 of 78
 * improvements on 96 markets), and the local search after it cost 4-11 %
 * of a search for 7. proof_rins_node_limit, when set, replaces
 * rins_node_limit's 100 nodes (default 0: 50 won on the tuned seeds and
 * lost on fresh ones). */
int cl_node_rins(const struct cl_model *md, const struct cl_lp *lp,
                 const struct fx_clear_params *p, struct cl_state *best, bool *better) {
  int n_free;
  double share = p->proof_rins_swap_share > 0 ? p->proof_rins_swap_share : 0.0;
  int nodes = p->proof_rins_node_limit > 0 ? p->proof_rins_node_limit : p->rins_node_limit;
  struct sub_limits lim = {nodes, p->rins_pivot_limit, p->bb_gap,
                           (long)(share * (double)p->local_search_work)};
  return rins(md, lp, p, cl_lp_deadline(lp), &lim, best, &n_free, better);
}

/* Window neighbourhoods (round 9). The answer of the root sits 0.1-0.3 %
 * above the best known at 1,000 offers, and differs from it in some fifty
 * orders spread over the whole request: factors a few hundredths lower,
 * offers swapped for others nearby, and a few kW of the shortfall the
 * coverage tolerance allows moved from one end of the request to the
 * other. No local move finds that; the disagreements of step 11 are one
 * neighbourhood of it. Offers span a few consecutive ISPs, so the orders
 * that can replace one another lie close in time: a window of ISPs and
 * the offers inside it form a small market of their own, and the offers
 * touching the Requested ISP left the most short (where the tolerance's
 * shortfall sits) join every window, so that coverage can move between
 * the window and there. Each window is cleared like step 11's
 * neighbourhood, its branch-and-bound to a zero gap: bb_gap is relative
 * to the sub-market's cost, a fraction of the market's, and at 0.1 % the
 * windows stopped after a few nodes without finding anything. */

/* Do all of offer i's columns lie within ISPs [a, b]? */
static bool inside(const struct cl_model *md, size_t i, size_t a, size_t b) {
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
    if (md->col[c].first < a || md->col[c].first + md->col[c].n > b + 1) return false;
  return md->offer_col[i + 1] > md->offer_col[i];
}

/* Does one of offer i's columns touch ISP t? */
static bool touches(const struct cl_model *md, size_t i, size_t t) {
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
    if (md->col[c].first <= t && md->col[c].first + md->col[c].n > t) return true;
  return false;
}

/* The Requested ISP best leaves the most short (ties: the first), or
 * SIZE_MAX when it covers every need. */
static size_t most_short(const struct cl_model *md, const struct cl_state *best) {
  size_t at = SIZE_MAX;
  int64_t most = 0;
  for (size_t t = 0; t < md->n_isps; t++) {
    if (!md->isp[t].requested) continue;
    int64_t s = md->isp[t].cap - cl_isp_gain(&md->isp[t], best->d[t]);
    if (s > most) most = s, at = t;
  }
  return at;
}

/* Could offer i take part in a much cheaper answer: does one of its options
 * not prove, ordered, a cost of the threshold or more (keep)? */
static bool candidate(const struct cl_model *md, const bool *keep, size_t i) {
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
    if (keep[c]) return true;
  return false;
}

/* The ISPs the columns span, [*r0, *r1]; false when there is no column. */
static bool column_span(const struct cl_model *md, size_t *r0, size_t *r1) {
  *r0 = SIZE_MAX, *r1 = 0;
  for (size_t c = 0; c < md->n_cols; c++) {
    if (!md->col[c].n) continue;
    if (md->col[c].first < *r0) *r0 = md->col[c].first;
    if (md->col[c].first + md->col[c].n - 1 > *r1) *r1 = md->col[c].first + md->col[c].n - 1;
  }
  return *r0 != SIZE_MAX;
}

struct lns {
  const struct cl_model *md;
  const struct fx_clear_params *p;
  double deadline;
  const bool *keep;  /* per column: not excluded by reduced-cost fixing */
  bool *free_offer;  /* per offer: in the current window */
  struct sub_limits lim;
  size_t r0, r1;     /* the span the windows slide over */
};

/* The window [a, b] cleared again; *better when it made best cheaper. */
static int lns_window(struct lns *w, size_t a, size_t b, struct cl_state *best,
                      struct cl_lns_out *out, bool *better) {
  const struct cl_model *md = w->md;
  size_t ms = most_short(md, best);
  int n_free = 0, nodes = 0;
  for (size_t i = 0; i < md->n_offers; i++)
    w->free_offer[i] = (inside(md, i, a, b) || (ms != SIZE_MAX && touches(md, i, ms))) &&
                       candidate(md, w->keep, i);
  int rc = sub_clear(md, w->p, w->deadline, w->free_offer, &w->lim, best, &n_free, &nodes, better);
  out->windows++, out->nodes += nodes, out->improved += *better;
  if (n_free > out->max_free) out->max_free = n_free;
  return rc;
}

/* One pass of the windows over the span; *improved when one made best
 * cheaper. */
static int lns_pass(struct lns *w, struct cl_state *best, struct cl_lns_out *out, bool *improved) {
  size_t width = w->p->lns_width > 0 ? (size_t)w->p->lns_width : 1;
  size_t step = width > 1 ? width / 2 : 1;
  int rc = 0;
  *improved = false;
  for (size_t a = w->r0; !rc && out->nodes < w->p->lns_work; a += step) {
    size_t b = w->r1 - a >= width - 1 ? a + width - 1 : w->r1;
    bool better = false;
    rc = lns_window(w, a, b, best, out, &better);
    *improved |= better;
    if (b == w->r1) break;
  }
  return rc;
}

int cl_lns_windows(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                   double deadline, int64_t lb, struct cl_state *best, struct cl_lns_out *out) {
  memset(out, 0, sizeof *out);
  struct lns w = {md, p, deadline, NULL, NULL,
                  {p->lns_node_limit, p->lns_pivot_limit, 0.0, p->local_search_work / 10}, 0, 0};
  /* (a bound at the Lagrangian's floor, -INT64_MAX, bounds nothing a
   * window could use, and best->cost - lb would not fit) */
  if (!column_span(md, &w.r0, &w.r1) || best->cost <= lb || lb < -INT64_MAX / 2) return 0;
  bool *keep = calloc(md->n_cols ? md->n_cols : 1, sizeof *keep);
  w.free_offer = malloc((md->n_offers ? md->n_offers : 1) * sizeof *w.free_offer);
  w.keep = keep;
  int rc = keep && w.free_offer ? 0 : FX_CLEAR_ENOMEM;
  /* an option whose ordering proves a cost this far above the bound stays
   * out of every window: with u at the answer's cost a window held 150-200
   * offers instead of 50-90, and found less (docs/clearing.md) */
  int64_t u = lb + (int64_t)(p->lns_share * (double)(best->cost - lb));
  if (!rc) rc = cl_lp_root_fix(lp, best->cov, u, keep);
  bool improved = true;
  for (int pass = 0; !rc && improved && pass < p->lns_passes && out->nodes < p->lns_work; pass++)
    rc = lns_pass(&w, best, out, &improved);
  free(keep);
  free(w.free_offer);
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

/* The reduced LP's cost bound from the full LP's basis (proof_warm_basis);
 * false where it was not taken. */
static int reduced_warm(const struct reduced *r, const struct cl_model *rm, const struct cl_lp *full,
                        struct cl_lp *lp, int64_t c0, struct cl_lp_out *lo, bool *taken) {
  int *col_map = malloc((rm->n_cols ? rm->n_cols : 1) * sizeof *col_map);
  *taken = false;
  if (!col_map) return FX_CLEAR_ENOMEM;
  bool mapped = true;
  for (size_t j = 0; j < rm->n_offers; j++)
    for (size_t q = rm->offer_col[j]; q < rm->offer_col[j + 1]; q++)
      mapped &= (col_map[q] = reduced_full(r, rm, j, q)) >= 0;
  *taken = mapped && cl_lp_cost_bound_from(lp, full, r->map, col_map, c0, lo);
  free(col_map);
  return 0;
}

/* The reduced market's LP at the answer's coverage and its branch-and-bound
 * on cost; its proven bound in out. */
static int reduced_search(const struct reduced *r, const struct cl_model *rm, const struct cl_lp *full,
                          const struct fx_clear_params *p, double deadline, struct cl_state *st,
                          struct cl_bb_out *out) {
  struct cl_lp *lp = NULL;
  struct cl_lp_out lo = {0};
  int64_t c0 = st->cov;
  bool warm = false;
  int rc = cl_lp_create(&lp, rm, p, deadline);
  if (!rc && p->proof_warm_basis) rc = reduced_warm(r, rm, full, lp, c0, &lo, &warm);
  if (!rc && !warm) rc = cl_lp_root(lp, st, &lo);
  if (!rc && !warm) rc = cl_lp_cost_bound(lp, c0, &lo);
  struct fx_clear_params q = *p; /* the proof's own look-ahead width (round 15) */
  if (p->proof_sb_cands > 0) q.bb_sb_cands = p->proof_sb_cands;
  if (!rc) rc = cl_bb_run(rm, lp, &q, st, c0, lo.cost_lb, false, out);
  if (!rc && lo.cost_lb > out->bound) out->bound = lo.cost_lb;
  out->warm = warm;
  cl_lp_free(lp);
  return rc;
}

int cl_reduced_bb(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                  double deadline, struct cl_state *best, struct cl_bb_out *out, int *n_cols) {
  struct reduced r = {0};
  struct cl_model rm = {0};
  struct cl_state st = {0}, cand = {0};
  /* with bb_cutoff, a choice costing cl_bb_cutoff(u) or more cannot take
   * the proof past that share of the gap: the market is reduced by it */
  int64_t u = cl_bb_cutoff(best->cost, cl_bb_cut_share(p)), c0 = best->cov;
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
    rc = reduced_search(&r, &rm, lp, p, deadline, &st, out);
    if (!rc) reduced_merge(&r, &rm, &st, &cand, best);
    if (!rc && out->bound > u) out->bound = u; /* nothing outside costs less than u */
  }
  cl_state_free(&st), cl_state_free(&cand);
  if (rm.col || rm.isp) cl_model_free(&rm);
  reduced_free(&r);
  free(keep);
  return rc;
}

/* Crossover (round 10, clear_prim.c), and the coverage repair (round 11,
 * clear.c): the offers free_offer[i] cleared
 * again with step 11's budget, every other offer fixed at best's order. */
int cl_sub_cross(const struct cl_model *md, const struct fx_clear_params *p, double deadline,
                 const bool *free_offer, struct cl_state *best, int *n_free, bool *better) {
  int nodes;
  struct sub_limits lim = {p->rins_node_limit, p->rins_pivot_limit, p->bb_gap,
                           p->local_search_work};
  return sub_clear(md, p, deadline, free_offer, &lim, best, n_free, &nodes, better);
}
