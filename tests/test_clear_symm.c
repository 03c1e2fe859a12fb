/* test_clear_symm.c — symmetry breaking among identical offers (round 12,
 * symm; bb_symmetry): the model chains offers identical in every column
 * into classes (clear_model.c), the branch-and-bound searches only the
 * choices where an earlier offer of a class ranks at least as high as a
 * later one, closing the factor ranges of its nodes under that rule
 * (clear_bb.c), and the answer's orders are dealt to a class's offers in
 * that order (cl_state_canon). Judged against the exhaustive search on
 * small markets built from a few distinct offers repeated, with near
 * twins among them (one option's price or minimum factor changed) that a
 * rule reaching across offers that differ would treat as identical. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "engine/config.h"
#include "tests/support/clear_markets.h"

#define DISTINCT 3

/* n offers, each a copy of one of DISTINCT random ones (fx_cm_gen's, with
 * steps factors below 100); with near, about a quarter are near twins:
 * one option's price doubled, or its minimum factor one lower. */
static void gen_symm(struct fx_cm_market *k, uint64_t seed, size_t n, int steps, bool near) {
  struct fx_cm_market base;
  fx_cm_gen(&base, seed, DISTINCT, steps, seed % 5 == 0);
  struct fx_cm_rng r = {seed * 7919 + 1};
  memcpy(k->isps, base.isps, sizeof k->isps);
  for (size_t i = 0; i < n; i++) {
    size_t b = (size_t)fx_cm_uni(&r, 0, DISTINCT - 1);
    k->offers[i] = base.offers[b];
    memcpy(k->opts[i], base.opts[b], sizeof k->opts[i]);
    memcpy(k->pw[i], base.pw[b], sizeof k->pw[i]);
    if (!near || fx_cm_uni(&r, 0, 3)) continue;
    struct fx_clear_option *o = &k->opts[i][fx_cm_uni(&r, 0, (int64_t)k->offers[i].n_options - 1)];
    if (o->min_af > 98 && fx_cm_uni(&r, 0, 1)) o->min_af--;
    else o->price += o->price / 8 + 1;
  }
  fx_cm_link(k, base.m.request.n_isps, n);
}

/* Written again here from the header's definition: the useful options of
 * a and b agree in order, price (unless !price: the coverage search's
 * classes), minimum factor, window and powers. */
static bool alike(const struct fx_clear_market *m, size_t a, size_t b, bool price) {
  const struct fx_clear_offer *x = &m->offers[a], *y = &m->offers[b];
  size_t i = 0, j = 0;
  for (;; i++, j++) {
    while (i < x->n_options && !fx_cm_useful(m, &x->options[i])) i++;
    while (j < y->n_options && !fx_cm_useful(m, &y->options[j])) j++;
    if (i == x->n_options || j == y->n_options) return i == x->n_options && j == y->n_options;
    const struct fx_clear_option *p = &x->options[i], *q = &y->options[j];
    if ((price && p->price != q->price) || p->min_af != q->min_af || p->first_isp != q->first_isp ||
        p->n_power != q->n_power || memcmp(p->power, q->power, p->n_power * sizeof *p->power))
      return false;
  }
}

static bool same_offer(const struct fx_clear_market *m, size_t a, size_t b) {
  return alike(m, a, b, true);
}

/* cs chains exactly the offers alike (with a useful option) in arrival
 * order; returns how many it links to an earlier one. */
static int check_chain(const struct fx_cm_market *k, const struct cl_model *md,
                       const struct cl_sym *cs, bool price, uint64_t seed) {
  int linked = 0;
  for (size_t j = 0; j < k->m.n_offers; j++) {
    bool any = md->offer_col[j + 1] > md->offer_col[j];
    int prev = -1, next = -1;
    for (size_t i = 0; any && i < j; i++)
      if (md->offer_col[i + 1] > md->offer_col[i] && alike(&k->m, i, j, price)) prev = (int)i;
    for (size_t i = k->m.n_offers; any && i-- > j + 1;)
      if (md->offer_col[i + 1] > md->offer_col[i] && alike(&k->m, i, j, price)) next = (int)i;
    cr_assert_eq(cs->prev[j], prev, "seed %llu offer %zu", (unsigned long long)seed, j);
    cr_assert_eq(cs->next[j], next, "seed %llu offer %zu", (unsigned long long)seed, j);
    linked += prev >= 0;
  }
  cr_assert_eq(cs->n_linked, (size_t)linked, "seed %llu", (unsigned long long)seed);
  return linked;
}

/* The classes are exactly the offers alike, with and without the price,
 * each chained in arrival order. */
Test(clear_symm, classes_chain_identical_offers_only) {
  int linked = 0, cov_linked = 0, near_pairs = 0;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    struct fx_cm_market k;
    gen_symm(&k, seed, 12, 2, true);
    struct cl_model md;
    if (!fx_cm_model(&md, &k.m)) continue;
    linked += check_chain(&k, &md, &md.sym, true, seed);
    cov_linked += check_chain(&k, &md, &md.sym_cov, false, seed);
    for (size_t j = 0; j < k.m.n_offers; j++)
      for (size_t i = 0; i < j; i++)
        near_pairs += k.offers[i].n_options == k.offers[j].n_options &&
                      k.opts[i][0].first_isp == k.opts[j][0].first_isp &&
                      !memcmp(k.pw[i], k.pw[j], sizeof k.pw[i]) && !same_offer(&k.m, i, j);
    cl_model_free(&md);
  }
  cr_log_info("%d offers linked to an earlier twin (%d on coverage), %d near pairs kept apart",
              linked, cov_linked, near_pairs);
  cr_assert_gt(linked, 0);
  cr_assert_gt(cov_linked, linked, "no twins but for the price: the test tests nothing");
  cr_assert_gt(near_pairs, 0, "no near twins: the test tests nothing");
}

/* cl_state_canon deals a class's choices in rank order, highest to the
 * earliest, and keeps the totals, coverage and cost exact. */
Test(clear_symm, canon_orders_classes_and_keeps_totals) {
  int moved = 0;
  for (uint64_t seed = 1; seed <= 150; seed++) {
    struct fx_cm_market k;
    gen_symm(&k, seed, 10, 2, seed % 2 == 0);
    struct cl_model md;
    struct cl_state st = {0};
    if (!fx_cm_model(&md, &k.m)) continue;
    cr_assert_eq(cl_state_init(&st, &md), 0);
    struct fx_cm_rng r = {seed};
    for (size_t i = 0; i < md.n_offers; i++) {
      size_t a = md.offer_col[i], b = md.offer_col[i + 1];
      if (a == b || !fx_cm_uni(&r, 0, 2)) continue;
      size_t c = a + (size_t)fx_cm_uni(&r, 0, (int64_t)(b - a - 1));
      cl_state_set(&st, &md, i, (int)c, (int)fx_cm_uni(&r, md.col[c].min_af, 100));
    }
    int64_t d[FX_CM_MAX_ISPS], cov = st.cov, cost = st.cost;
    int before[FX_CM_MAX_OFFERS];
    memcpy(d, st.d, md.n_isps * sizeof *d);
    for (size_t i = 0; i < md.n_offers; i++) before[i] = cl_sym_rank(&md, st.col[i], st.k[i]);
    cr_assert_eq(cl_state_canon(&st, &md), 0);
    cr_assert_eq(st.cov, cov);
    cr_assert_eq(st.cost, cost);
    cr_assert_arr_eq(st.d, d, md.n_isps * sizeof *d);
    cl_state_rebuild(&st, &md); /* what the dealt orders add up to */
    cr_assert_eq(st.cov, cov, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(st.cost, cost, "seed %llu", (unsigned long long)seed);
    cr_assert_arr_eq(st.d, d, md.n_isps * sizeof *d, "seed %llu", (unsigned long long)seed);
    for (size_t i = 0; i < md.n_offers; i++) {
      int rk = cl_sym_rank(&md, st.col[i], st.k[i]);
      moved += rk != before[i];
      if (md.sym.next[i] >= 0) {
        int nx = md.sym.next[i];
        cr_assert_geq(rk, cl_sym_rank(&md, st.col[nx], st.k[nx]), "seed %llu offer %zu",
                      (unsigned long long)seed, i);
      }
    }
    cl_state_free(&st);
    cl_model_free(&md);
  }
  cr_assert_gt(moved, 0, "canon never moved an order: the test tests nothing");
}

static struct fx_clear_params params(bool symm, bool proof) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_symmetry = symm;
  if (proof) p.bb_max_offers = 0, p.proof_max_offers = 1000;
  return p;
}

/* The answers of fx_clear_solve (step 10, and the proof's reduced market
 * of step 12) keep every rule, their bounds bound the exhaustive search,
 * the same market gives the same answer twice, the answer is in class
 * order, and the rule's search takes fewer nodes than the plain one,
 * finding the least cost as often. */
Test(clear_symm, bounds_hold_and_the_rule_saves_nodes) {
  for (int proof = 0; proof < 2; proof++) {
    long nodes[2] = {0};
    int least[2] = {0}, n = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
      struct fx_cm_market k;
      gen_symm(&k, seed, (size_t)(6 + seed % 3), 1, seed % 2 == 0);
      n++;
      for (int s = 0; s < 2; s++) {
        struct fx_clear_params p = params(s, proof);
        bool is_least;
        struct fx_clear_result r = fx_cm_solve_checked(&k.m, &p, seed, &is_least);
        least[s] += is_least;
        nodes[s] += r.bb_nodes;
        for (size_t i = 0; s && i + 1 < k.m.n_offers; i++)
          for (size_t j = i + 1; j < k.m.n_offers; j++)
            if (same_offer(&k.m, i, j))
              cr_assert(r.option[i] > r.option[j] ||
                            (r.option[i] == r.option[j] && r.factor[i] >= r.factor[j]),
                        "seed %llu: offer %zu ranks below its later twin %zu",
                        (unsigned long long)seed, i, j);
        fx_clear_result_free(&r);
      }
    }
    cr_log_info("%s: nodes %ld plain, %ld with the rule; least cost on %d / %d of %d",
                proof ? "proof" : "branch-and-bound", nodes[0], nodes[1], least[0], least[1], n);
    cr_assert_lt(nodes[1], nodes[0], "the rule saved no node");
    cr_assert_geq(least[1], least[0]);
  }
}

/* The search itself (fx_cm_bb_from), from merit order's and from cover
 * order's answer (price unseen, so mostly dearer than the least cost at
 * its coverage: the search has to find the cheaper choices a wrong rule
 * would exclude, where from merit order's answer it often starts at them),
 * to a zero gap: its bound never passes the least cost at the coverage
 * it searched, it ends at that least cost where the plain search does,
 * in fewer nodes. */
Test(clear_symm, the_search_finds_the_least_cost) {
  struct fx_clear_params on = params(true, false), off = params(false, false);
  on.bb_cutoff = off.bb_cutoff = 0;
  int closed = 0, ran = 0;
  long nodes[2] = {0};
  for (uint64_t run = 0; run < 400; run++) {
    struct fx_cm_market k;
    uint64_t seed = run / 2 + 1;
    gen_symm(&k, seed, (size_t)(6 + seed % 4), 1, seed % 3 != 0);
    struct fx_cm_bb r = run % 2 ? fx_cm_bb_from(&k.m, &on, cl_cover_order) : fx_cm_bb_merit(&k.m, &on);
    struct fx_cm_bb q = run % 2 ? fx_cm_bb_from(&k.m, &off, cl_cover_order) : fx_cm_bb_merit(&k.m, &off);
    if (!r.ran) continue;
    struct fx_cm_ex e = {.m = &k.m, .at_cov = r.cov};
    fx_cm_exhaustive(&e);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert_leq(r.bo.bound, e.at_cost, "seed %llu: bound %lld above the optimum %lld", sd,
                  (long long)r.bo.bound, (long long)e.at_cost);
    cr_assert_geq(r.cost, e.at_cost, "seed %llu", sd);
    if (!r.bo.budget_hit && q.cost == e.at_cost)
      cr_assert_eq(r.cost, e.at_cost, "seed %llu: the rule lost the least cost", sd);
    cr_assert_eq(q.bo.sym_closed, 0);
    closed += r.bo.sym_closed, ran++;
    nodes[0] += q.bo.nodes, nodes[1] += r.bo.nodes;
  }
  cr_log_info("%d markets: nodes %ld plain, %ld with the rule, %d closed by it unsolved", ran,
              nodes[0], nodes[1], closed);
  cr_assert_lt(nodes[1], nodes[0], "the rule saved no node");
}

/* The coverage branch-and-bound from no order at all, as coverage_bb
 * runs it (clear.c): its bound (classes that ignore the price) and the
 * coverage of its answer. */
static struct fx_cm_bb bb_coverage(const struct fx_clear_market *m,
                                   const struct fx_clear_params *p) {
  struct fx_cm_bb r = {0};
  struct cl_model md;
  struct cl_lp *lp = NULL;
  struct cl_state st = {0};
  struct cl_lp_out out = {0};
  if (!fx_cm_model(&md, m)) return r;
  cr_assert_eq(cl_lp_create(&lp, &md, p, 0), 0);
  cr_assert_eq(cl_state_init(&st, &md), 0);
  cr_assert_eq(cl_lp_root(lp, &st, &out), 0);
  cr_assert_eq(cl_bb_run(&md, lp, p, &st, out.coverage_ub, out.coverage_ub, true, &r.bo), 0);
  fx_cm_check_state(m, &md, &st, 0);
  r.cov = st.cov, r.cost = st.cost, r.ran = true;
  cl_lp_free(lp);
  cl_state_free(&st);
  cl_model_free(&md);
  return r;
}

/* On coverage the classes ignore the price: the bound still bounds the
 * exhaustive search's most coverage, the search reaches it where the
 * plain one does, in fewer nodes. Offers here differ in price more often
 * than not (every near twin is a coverage twin). */
Test(clear_symm, the_coverage_search_bound_holds) {
  struct fx_clear_params on = params(true, false), off = params(false, false);
  int ran = 0, closed = 0;
  long nodes[2] = {0};
  for (uint64_t seed = 1; seed <= 200; seed++) {
    struct fx_cm_market k;
    gen_symm(&k, seed, (size_t)(6 + seed % 4), 1, true);
    struct fx_cm_bb r = bb_coverage(&k.m, &on), q = bb_coverage(&k.m, &off);
    if (!r.ran) continue;
    struct fx_cm_ex e = {.m = &k.m, .at_cov = INT64_MAX};
    fx_cm_exhaustive(&e);
    unsigned long long sd = (unsigned long long)seed;
    cr_assert_geq(r.bo.bound, e.best_cov, "seed %llu: bound %lld below the most coverage %lld",
                  sd, (long long)r.bo.bound, (long long)e.best_cov);
    cr_assert_leq(r.cov, e.best_cov, "seed %llu", sd);
    if (!r.bo.budget_hit && q.cov == e.best_cov)
      cr_assert_eq(r.cov, e.best_cov, "seed %llu: the rule lost coverage", sd);
    ran++, closed += r.bo.sym_closed;
    nodes[0] += q.bo.nodes, nodes[1] += r.bo.nodes;
  }
  cr_log_info("%d markets: nodes %ld plain, %ld with the rule, %d closed by it unsolved", ran,
              nodes[0], nodes[1], closed);
  cr_assert_lt(nodes[1], nodes[0], "the rule saved no node");
}

/* The switch: on by default, in the library and in the platform's
 * configuration; [market] bb_symmetry turns it off and refuses what is
 * not a boolean. */
Test(clear_symm, switch_defaults_on_and_is_read_from_market_section) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  cr_assert(p.bb_symmetry);
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert(c.clear.bb_symmetry);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_symmetry = false\n", err, sizeof err), 0, "%s", err);
  cr_assert(!c.clear.bb_symmetry);
  cr_assert_neq(fx_config_parse(&c, "[market]\nbb_symmetry = 2\n", err, sizeof err), 0);
  cr_assert(strstr(err, "bb_symmetry"), "%s", err);
  fx_config_free(&c);
}
