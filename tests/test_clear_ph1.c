/* test_clear_ph1.c — the root LP's phase 1 from cover order (round 10,
 * ph1): cl_cover_order keeps every rule and is its rule (full
 * activations, most standalone coverage first, taken when every bound
 * holds and coverage grows; written again here from the market); the
 * start basis it gives the maximum-coverage LP, with
 * each coverage column at the coverage the start's power gives, is primal
 * feasible and its objective is that coverage; the LP solved from it ends
 * (priced by Dantzig's rule since round 11) at the same optimum and the
 * same proven coverage bound as GLPK's own solve from its standard basis
 * with its default pricing (so does the proof's root LP, cl_lp_root,
 * from an answer), a bound the exhaustive search never beats; and whole
 * clearings on that path give the same answer twice.
 * Markets of the property generator (tests/support/clear_markets.c), some
 * with orders already placed (a base), since the coverage columns' start
 * reads the base's offsets. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* The cover order's parameters: on for every market size, phase 1 on
 * GLPK's primal simplex (the native one's fallback since round 15;
 * test_clear_nph1.c covers the native phase 1). */
static void cover_params(struct fx_clear_params *p) {
  fx_clear_params_init(p);
  p->redive_max_offers = 0;
  p->root_native_phase1 = false;
}

struct item {
  int64_t cov;
  size_t offer, opt;
};

static int item_cmp(const void *a, const void *b) {
  const struct item *x = a, *y = b;
  if (x->cov != y->cov) return x->cov > y->cov ? -1 : 1;
  if (x->offer != y->offer) return x->offer < y->offer ? -1 : 1;
  return x->opt < y->opt ? -1 : x->opt > y->opt;
}

/* Cover order written again from its rule, on a market without a base:
 * most coverage alone first (ties: earlier offer, then option), full
 * activation, taken when every bound holds and coverage grows. pick[i]:
 * the option taken for offer i, or -1. */
static int64_t cover_again(const struct fx_clear_market *m, int *pick) {
  struct item items[FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS];
  size_t n = 0;
  bool ok;
  for (size_t i = 0; i < m->n_offers; i++) {
    pick[i] = -1;
    for (size_t j = 0; j < m->offers[i].n_options; j++) {
      const struct fx_clear_option *o = &m->offers[i].options[j];
      if (!fx_cm_useful(m, o)) continue;
      int64_t d[FX_CM_MAX_ISPS] = {0};
      fx_cm_add(d, o, 100, 1);
      items[n++] = (struct item){fx_cm_coverage(m, d, &ok), i, j};
    }
  }
  qsort(items, n, sizeof *items, item_cmp);
  int64_t d[FX_CM_MAX_ISPS] = {0}, cov = 0;
  for (size_t x = 0; x < n; x++) {
    if (pick[items[x].offer] >= 0) continue;
    const struct fx_clear_option *o = &m->offers[items[x].offer].options[items[x].opt];
    fx_cm_add(d, o, 100, 1);
    int64_t c = fx_cm_coverage(m, d, &ok);
    if (ok && c > cov) cov = c, pick[items[x].offer] = (int)items[x].opt;
    else fx_cm_add(d, o, 100, -1);
  }
  return cov;
}

/* cl_cover_order keeps every rule, gives the same answer twice, and, on
 * markets without a base, is the rule written again here. */
Test(clear_ph1, cover_order_keeps_every_rule_and_is_its_rule) {
  int compared = 0, orders = 0;
  for (uint64_t seed = 100; seed < 160; seed++) {
    struct fx_cm_market k;
    int64_t base[FX_CM_MAX_ISPS];
    fx_cm_gen_based(&k, base, seed, (size_t)(10 + seed % 50), 40);
    struct cl_model md;
    cr_assert_eq(cl_model_init(&md, &k.m), 0);
    struct cl_state a, b;
    cr_assert_eq(cl_state_init(&a, &md), 0);
    cr_assert_eq(cl_state_init(&b, &md), 0);
    cr_assert_eq(cl_cover_order(&a, &md), 0);
    cr_assert_eq(cl_cover_order(&b, &md), 0);
    if (!k.m.base) fx_cm_check_state(&k.m, &md, &a, seed); /* the search's rules know no base */
    cr_assert(cl_state_feasible(&a, &md), "seed %llu", (unsigned long long)seed);
    cr_assert_arr_eq(a.col, b.col, md.n_offers * sizeof *a.col, "seed %llu", (unsigned long long)seed);
    for (size_t i = 0; i < md.n_offers; i++) {
      if (a.col[i] < 0) continue;
      cr_assert_eq(a.k[i], 100, "seed %llu: cover order activates in full", (unsigned long long)seed);
      orders++;
    }
    if (!k.m.base) {
      int pick[FX_CM_MAX_OFFERS];
      cr_assert_eq(cover_again(&k.m, pick), a.cov, "seed %llu", (unsigned long long)seed);
      for (size_t i = 0; i < md.n_offers; i++)
        cr_assert_eq(a.col[i] < 0 ? -1 : (int)md.col[a.col[i]].option, pick[i], "seed %llu offer %zu",
                     (unsigned long long)seed, i);
      compared++;
    }
    cl_state_free(&a), cl_state_free(&b);
    cl_model_free(&md);
  }
  cr_assert_gt(compared, 20);
  cr_assert_gt(orders, 100);
}

/* Σ min(s·d + off, cap) over the Requested ISPs for st's full orders: the
 * maximum-coverage LP's objective at the start basis. */
static double start_coverage(const struct cl_model *md, const struct cl_state *st) {
  double sum = 0;
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->requested) continue;
    int64_t v = is->s * st->d[t] + is->off;
    if (v > is->cap) v = is->cap;
    if (v < is->covmin) v = is->covmin;
    sum += (double)v;
  }
  return sum;
}

/* st := r's orders on md's columns. */
static void answer_state(const struct cl_model *md, const struct fx_clear_result *r, struct cl_state *st) {
  cl_state_clear(st, md);
  for (size_t i = 0; i < md->n_offers; i++) {
    if (r->option[i] < 0) continue;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
      if ((int)md->col[c].option == r->option[i]) cl_state_set(st, md, i, (int)c, r->factor[i]);
  }
}

/* The proof's root LP (cl_lp_root) from a clearing's answer, partial
 * orders and all, as the proof's reduced market starts it: its bound. */
static int64_t proof_root_bound(const struct fx_clear_market *m, const struct cl_model *md,
                                const struct fx_clear_params *p) {
  struct fx_clear_result r;
  cr_assert_eq(fx_clear_solve(m, p, &r), 0);
  struct cl_state st;
  cr_assert_eq(cl_state_init(&st, md), 0);
  answer_state(md, &r, &st);
  cr_assert_eq(st.cov, r.coverage);
  struct cl_lp *lp = NULL;
  struct cl_lp_out lo = {0};
  cr_assert_eq(cl_lp_create(&lp, md, p, 0), 0);
  cr_assert_eq(cl_lp_root(lp, &st, &lo), 0);
  cl_lp_free(lp);
  cl_state_free(&st);
  fx_clear_result_free(&r);
  return lo.coverage_ub;
}

static void phase1(const struct cl_model *md, const struct fx_clear_params *p,
                   const struct cl_state *start, bool scratch, struct cl_lp_phase1 *out) {
  struct cl_lp *lp = NULL;
  cr_assert_eq(cl_lp_create(&lp, md, p, 0), 0);
  cr_assert_eq(cl_lp_phase1(lp, start, scratch, out), 0);
  cl_lp_free(lp);
}

/* The start basis is primal feasible and its objective is the coverage
 * of cover order's choice; from it the LP reaches GLPK's optimum from the
 * standard basis and the same proven coverage bound; merit order's start
 * (cover order off) is feasible too on markets without a base; and the
 * proof's root LP, from a clearing's answer with its coverage columns set,
 * has that bound too. */
Test(clear_ph1, start_is_feasible_and_bound_matches_scratch) {
  int markets = 0;
  long piv_cover = 0, piv_scratch = 0, piv_merit = 0;
  for (uint64_t seed = 200; seed < 280; seed++) {
    struct fx_cm_market k;
    int64_t base[FX_CM_MAX_ISPS];
    fx_cm_gen_based(&k, base, seed, (size_t)(10 + 3 * (seed % 37)), 60);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    markets++;
    struct fx_clear_params on, off;
    cover_params(&on);
    fx_clear_params_init(&off);
    off.redive_max_offers = FX_CM_MAX_OFFERS;
    struct cl_state merit, cover;
    cr_assert_eq(cl_state_init(&merit, &md), 0);
    cr_assert_eq(cl_state_init(&cover, &md), 0);
    cr_assert_eq(cl_merit(&merit, &md), 0);
    cr_assert_eq(cl_cover_order(&cover, &md), 0);
    struct cl_lp_phase1 c, s, m;
    phase1(&md, &on, &merit, false, &c);
    phase1(&md, &on, &merit, true, &s);
    phase1(&md, &off, &merit, false, &m);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert(c.feasible, "seed %llu", sd);
    /* cover order's start prices by Dantzig's rule (round 11), the others
     * by GLPK's default: the same bound either way (below) */
    cr_assert(c.dantzig && !s.dantzig && !m.dantzig, "seed %llu", sd);
    /* With a base, GLPK's standard basis may put a coverage column at its
     * cap (the bound nearer zero), which merit order's start keeps. */
    if (!k.m.base) cr_assert(m.feasible, "seed %llu", sd);
    double want = start_coverage(&md, &cover);
    cr_assert(fabs(c.start_obj - want) <= 1e-6 * (1.0 + fabs(want)), "seed %llu: %.3f, not %.3f", sd,
              c.start_obj, want);
    cr_assert(c.optimal && s.optimal && m.optimal, "seed %llu", sd);
    cr_assert(fabs(c.cov_lp - s.cov_lp) <= 1e-7 * (1.0 + fabs(s.cov_lp)), "seed %llu", sd);
    cr_assert_eq(c.coverage_ub, s.coverage_ub, "seed %llu: %lld, from scratch %lld", sd,
                 (long long)c.coverage_ub, (long long)s.coverage_ub);
    cr_assert_eq(c.coverage_ub, m.coverage_ub, "seed %llu", sd);
    cr_assert_eq(proof_root_bound(&k.m, &md, &on), s.coverage_ub, "seed %llu", sd);
    piv_cover += c.pivots, piv_scratch += s.pivots, piv_merit += m.pivots;
    cl_state_free(&merit), cl_state_free(&cover);
    cl_model_free(&md);
  }
  cr_log_info("phase 1 pivots on %d markets: cover start %ld, merit start %ld, scratch %ld", markets,
              piv_cover, piv_merit, piv_scratch);
  cr_assert_gt(markets, 60);
}

/* On small markets the bound from cover order's start is never below the
 * exhaustive search's most coverage. */
Test(clear_ph1, bound_bounds_the_exhaustive_search) {
  struct fx_clear_params p;
  cover_params(&p);
  cr_assert_gt(fx_cm_phase1_bound_sweep(&p), 20);
}

/* Whole clearings with cover order's start on the root path (the
 * neighbourhood search, the dive polish and the proof): every rule, bounds
 * that bound the exhaustive search, and the same answer twice. */
Test(clear_ph1, clearings_keep_rules_bounds_and_determinism) {
  struct fx_clear_params p;
  cover_params(&p);
  p.exact_max_offers = 0, p.bb_max_offers = 0;
  cr_assert_eq(fx_cm_tiny_clearings(&p), 40);
}
