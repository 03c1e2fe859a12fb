/* test_clear_dsx.c — the branch-and-bound's own node simplex (clear_dsx.c,
 * bb_native_lp) against GLPK's: on randomised property markets (fixed
 * seeds, bounded counts), every node LP it solves across a sequence of
 * branchings (columns excluded, ordered, capped, released; offer rows the
 * lazy mode gives back) has GLPK's optimum within 1e-7; and with the switch
 * on and off, the branch-and-bound's answers and proven bounds agree with
 * an exhaustive search (tests/support/clear_markets.c, shared with
 * test_clear_props.c); and the switch's default and [market] key. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "engine/config.h"
#include "tests/support/clear_markets.h"

/* One node LP pair: the same market, the same root, one with each simplex. */
struct pair {
  struct cl_lp *lp[2]; /* 0: GLPK, 1: native */
  struct cl_krange *kr[2];
};

static void pair_begin(struct pair *p, const struct cl_model *md, bool lazy, bool cov_bb,
                       int64_t *coverage) {
  for (int v = 0; v < 2; v++) {
    struct fx_clear_params prm;
    fx_clear_params_init(&prm);
    prm.bb_lazy_rows = lazy;
    prm.bb_native_lp = v == 1;
    struct cl_state st = {0};
    struct cl_lp_out out = {0};
    p->kr[v] = malloc((md->n_cols + 1) * sizeof *p->kr[v]);
    cr_assert(p->kr[v]);
    for (size_t c = 0; c < md->n_cols; c++) p->kr[v][c] = (struct cl_krange){0, 100};
    cr_assert_eq(cl_lp_create(&p->lp[v], md, &prm, 0), 0);
    cr_assert_eq(cl_state_init(&st, md), 0);
    cr_assert_eq(cl_merit(&st, md), 0);
    cr_assert_eq(cl_lp_root(p->lp[v], &st, &out), 0);
    *coverage = st.cov;
    if (!cov_bb) cr_assert_eq(cl_lp_cost_bound(p->lp[v], st.cov, &out), 0);
    cr_assert_eq(cl_lp_bb_begin(p->lp[v], p->kr[v], cov_bb), 0);
    cl_state_free(&st);
  }
}

static void pair_end(struct pair *p) {
  for (int v = 0; v < 2; v++) {
    cl_lp_bb_end(p->lp[v]);
    cl_lp_free(p->lp[v]);
    free(p->kr[v]);
  }
}

/* A branching step on offer i in both LPs: a column excluded, ordered
 * (the offer's others excluded), capped below full, or the offer released;
 * orders: ordering only (nodes that only the elastic slacks keep feasible). */
static void branch(struct pair *p, const struct cl_model *md, struct fx_cm_rng *r, bool orders) {
  size_t c = (size_t)fx_cm_uni(r, 0, (int64_t)md->n_cols - 1), i = md->col[c].offer;
  int what = orders ? 1 : (int)fx_cm_uni(r, 0, 3), min = md->col[c].min_af;
  for (size_t j = md->offer_col[i]; j < md->offer_col[i + 1]; j++) {
    struct cl_krange k = p->kr[0][j];
    if (what == 3) k = (struct cl_krange){0, 100};
    else if (what == 0 && j == c) k.hi = 0;
    else if (what == 1) k = j == c ? (struct cl_krange){(uint8_t)min, 100} : (struct cl_krange){0, 0};
    else if (what == 2 && j == c && k.hi > min) k.hi = (uint8_t)fx_cm_uni(r, min, k.hi - 1);
    for (int v = 0; v < 2; v++) p->kr[v][j] = k, cl_lp_bb_set(p->lp[v], j, k);
  }
}

/* How far apart two optima of one node LP are: relative, or relative to
 * scale, the objective's size at full activation (both simplexes leave
 * variables up to 1e-7 outside their bounds: GLPK put -8e-9 of an offer
 * of 13,333 into a node whose optimum is 0). */
static double mismatch(double a, double b, double scale) {
  return fabs(a - b) / fmax(fmax(1.0, scale), fmax(fabs(a), fabs(b)));
}

/* Σ |cost| of every column at full activation: the prices, or on coverage
 * every ISP's need. */
static double obj_scale(const struct cl_model *md, bool cov_bb) {
  double s = cov_bb ? (double)md->need : 0.0;
  for (size_t c = 0; !cov_bb && c < md->n_cols; c++) s += fabs((double)md->col[c].price);
  return s;
}

/* How a sweep of node LPs went. */
struct sweep {
  double worst; /* the largest mismatch of the optima */
  int compared, regrown, checked, empty, glpk_gave_up;
  long native;
};

/* The nodes' bounds against the exhaustive search of the node's choices
 * (small markets): a cost bound never above the least cost covering at
 * least cov, a coverage bound never below the most coverage; empty counts
 * nodes with no feasible choice at all (only the slacks keep their LP
 * feasible). */
static void node_bound_check(const struct fx_clear_market *m, const struct cl_model *md,
                             const struct cl_krange *kr, bool cov_bb, int64_t cov,
                             const int64_t *b, struct sweep *sw, const char *where) {
  int lo[FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS] = {0}, hi[FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS];
  for (size_t x = 0; x < FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS; x++) hi[x] = 100;
  for (size_t c = 0; c < md->n_cols; c++) {
    size_t at = md->col[c].offer * FX_CM_MAX_OPTS + md->col[c].option;
    lo[at] = kr[c].lo, hi[at] = kr[c].hi;
  }
  struct fx_cm_ex e = {.m = m, .at_cov = cov, .lo = lo, .hi = hi};
  fx_cm_exhaustive(&e);
  sw->empty += e.best_cov < 0;
  for (int v = 0; v < 2; v++) {
    if (cov_bb) cr_assert_geq(-b[v], e.best_cov, "%s (%s): coverage bound %lld below %lld", where,
                              v ? "native" : "GLPK", (long long)-b[v], (long long)e.best_cov);
    else cr_assert_leq(b[v], e.at_cost, "%s (%s): cost bound %lld above %lld", where,
                       v ? "native" : "GLPK", (long long)b[v], (long long)e.at_cost);
  }
  sw->checked++;
}

/* steps node LPs of market m along a random branching, each solved by both
 * simplexes: the same status and GLPK's optimum within 1e-7 (the native
 * one falls back to GLPK inside cl_lp_bb_solve when it fails); with
 * exhaustive, every node's bounds against the search. */
static void sweep(const struct fx_clear_market *m, uint64_t seed, int steps, bool lazy,
                  bool cov_bb, bool orders, bool exhaustive, double tol, struct sweep *sw) {
  struct cl_model md;
  cr_assert_eq(cl_model_init(&md, m), 0);
  if (!md.n_cols) {
    cl_model_free(&md);
    return;
  }
  struct pair p;
  int64_t cov;
  pair_begin(&p, &md, lazy, cov_bb, &cov);
  int rows0 = cl_lp_bb_rows(p.lp[1]);
  struct fx_cm_rng r = {seed * 7919};
  for (int step = 0; step < steps; step++) {
    char where[64];
    snprintf(where, sizeof where, "seed %llu step %d", (unsigned long long)seed, step);
    if (step) branch(&p, &md, &r, orders);
    int64_t b[2];
    long piv = 0;
    int ok[2];
    for (int v = 0; v < 2; v++) ok[v] = cl_lp_bb_solve(p.lp[v], cov, &b[v], &piv);
    /* The slacks keep every node LP feasible: GLPK calling one infeasible
     * (it does on markets of a watt beside a terawatt) is its tolerances
     * giving up, and the native simplex may still solve it; never the
     * other way round (it falls back to GLPK). */
    if (ok[1] == 1 && ok[0] == 0) sw->glpk_gave_up++;
    else cr_assert_eq(ok[1], ok[0], "%s: solved %d, GLPK %d", where, ok[1], ok[0]);
    if (ok[0] != 1) continue;
    double g = cl_lp_bb_objval(p.lp[0]), n = cl_lp_bb_objval(p.lp[1]);
    double mis = mismatch(g, n, obj_scale(&md, cov_bb));
    sw->worst = fmax(sw->worst, mis);
    cr_assert_leq(mis, tol, "%s: node LP %.10g, GLPK %.10g", where, n, g);
    for (size_t c = 0; c < md.n_cols; c++) cr_assert(isfinite(cl_lp_bb_x(p.lp[1], c)), "%s", where);
    if (exhaustive) node_bound_check(m, &md, p.kr[0], cov_bb, cov, b, sw, where);
    sw->compared++;
  }
  sw->regrown += cl_lp_bb_rows(p.lp[1]) > rows0;
  sw->native += cl_lp_bb_native(p.lp[1]);
  pair_end(&p);
  cl_model_free(&md);
}

Test(clear_dsx, node_lps_match_glpk_across_branchings) {
  struct sweep sw = {0};
  for (uint64_t seed = 1; seed <= 48; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(8 + seed % 40), 2, seed % 5 == 0);
    sweep(&k.m, seed, 40, seed % 3 != 0, seed % 4 == 0, false, false, 1e-7, &sw);
  }
  cr_log_info("%d node LPs compared, %ld solved natively, rows given back in %d runs", sw.compared,
              sw.native, sw.regrown);
  cr_assert_gt(sw.compared, 1000);
  cr_assert_geq(sw.native, sw.compared * 9 / 10, "GLPK took over too often: %ld of %d", sw.native,
                sw.compared);
  cr_assert_gt(sw.regrown, 0, "no lazy row came back: that path is untested");
}

enum edge { IDENTICAL, ZEROS, ONE_ISP, EXTREME, MIXED };

/* The markets the generator does not make: n identical offers (ties
 * everywhere, a degenerate LP), every other offer without power, a single
 * ISP, every magnitude at the intake's limits (1 TW, 1e10 currency units:
 * docs/clearing.md), and offers of a watt beside offers of a terawatt. */
static void edge_market(struct fx_cm_market *k, enum edge kind, uint64_t seed, size_t n) {
  struct fx_cm_rng r = {seed};
  if (kind == IDENTICAL || kind == ONE_ISP) {
    size_t n_isps = kind == ONE_ISP ? 1 : 2;
    k->isps[0] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, 350, 500};
    k->isps[1] = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -100, 100};
    for (size_t i = 0; i < n; i++) {
      bool same = kind == IDENTICAL;
      k->pw[i][0][0] = same ? 100 : fx_cm_uni(&r, -20, 250), k->pw[i][0][1] = 30;
      int64_t price = same ? 1000 : fx_cm_uni(&r, 1, 20000);
      k->opts[i][0] = (struct fx_clear_option){price, 98, 0, n_isps, NULL};
      k->offers[i] = (struct fx_clear_offer){1, NULL};
    }
    fx_cm_link(k, n_isps, n);
    return;
  }
  fx_cm_gen(k, seed, n, 2, seed % 2 == 0);
  int64_t pscale = kind == ZEROS ? 1 : 4000000000, cscale = kind == ZEROS ? 1 : 5000000000;
  for (size_t t = 0; kind != ZEROS && t < k->m.request.n_isps; t++)
    k->isps[t].min_power *= 1000000000, k->isps[t].max_power *= 1000000000;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k->offers[i].n_options; j++) {
      struct fx_clear_option *o = &k->opts[i][j];
      bool small = kind == MIXED && i % 2 == 1, zero = kind == ZEROS && i % 2 == 0;
      for (size_t q = 0; q < o->n_power; q++) k->pw[i][j][q] *= zero ? 0 : small ? 1 : pscale;
      o->price *= small ? 1 : cscale;
    }
}

/* Node LPs of the edge markets along random branchings, against GLPK and
 * (the small ones) against the exhaustive search of each node's choices. */
Test(clear_dsx, edge_markets_node_lps_match_glpk_and_bound) {
  struct sweep sw = {0}, big = {0};
  for (int kind = IDENTICAL; kind <= MIXED; kind++)
    for (uint64_t seed = 1; seed <= 12; seed++) {
      struct fx_cm_market k;
      edge_market(&k, (enum edge)kind, seed, (size_t)(5 + seed % 3));
      double tol = kind == MIXED ? 1e-4 : 1e-7;
      sweep(&k.m, seed, 30, seed % 2 == 0, seed % 3 == 0, false, true, tol, &sw);
      edge_market(&k, (enum edge)kind, seed, (size_t)(40 + seed * 5));
      sweep(&k.m, seed, 30, seed % 2 == 1, seed % 3 == 1, false, false, tol, &big);
    }
  cr_log_info("small: %d node LPs, %ld native, %d bounds checked, GLPK gave up on %d; large: %d "
              "node LPs, %ld native, GLPK gave up on %d; worst mismatch %.2g",
              sw.compared, sw.native, sw.checked, sw.glpk_gave_up, big.compared, big.native,
              big.glpk_gave_up, fmax(sw.worst, big.worst));
  cr_assert_gt(sw.checked, 800);
  cr_assert_gt(big.compared, 900);
  /* GLPK's optimum is a dual feasible start at these magnitudes too (the
   * copy judged it against each column's own cost and refused 168 of 261) */
  cr_assert_geq(big.native, big.compared * 95 / 100, "%ld of %d", big.native, big.compared);
}

/* Branchings that only order offers: nodes soon have no feasible choice
 * at all (the search finds none), and only the elastic slacks keep their
 * LPs feasible; both simplexes agree there and their bounds still bound. */
Test(clear_dsx, nodes_kept_feasible_by_the_slacks_alone) {
  struct sweep sw = {0};
  for (uint64_t seed = 1; seed <= 40; seed++) {
    struct fx_cm_market k;
    if (seed % 4 == 0) edge_market(&k, EXTREME, seed, 6);
    else fx_cm_gen(&k, seed, (size_t)(5 + seed % 3), 2, seed % 5 == 0);
    sweep(&k.m, seed, 12, seed % 2 == 0, seed % 3 == 0, true, true, 1e-7, &sw);
  }
  cr_log_info("%d node LPs, %d with no feasible choice, %ld native", sw.compared, sw.empty,
              sw.native);
  cr_assert_gt(sw.empty, 50, "too few nodes infeasible without the slacks");
  cr_assert_geq(sw.native, sw.compared * 8 / 10);
}

/* Long branching sequences: 600 nodes on one copy (refactorisations,
 * many lazy rows back, statuses flipping for hundreds of pivots). */
Test(clear_dsx, long_branching_sequences_match_glpk) {
  struct sweep sw = {0};
  for (uint64_t seed = 1; seed <= 6; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed + 100, (size_t)(60 + 10 * seed), 60, seed % 2 == 0);
    sweep(&k.m, seed, 600, seed % 2 == 1, seed % 3 == 0, false, false, 1e-7, &sw);
  }
  cr_log_info("%d node LPs, %ld native, rows back in %d runs", sw.compared, sw.native, sw.regrown);
  cr_assert_gt(sw.compared, 3000);
  cr_assert_geq(sw.native, sw.compared * 9 / 10);
}

/* The engine's branch-and-bound on the small edge markets, native nodes
 * and GLPK's: the proven bounds bound the exhaustive search's optima; run to
 * a zero gap it finds them; the same market twice gives the same answer. */
Test(clear_dsx, edge_markets_branch_and_bound_bounds_hold) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  int optimal = 0, runs = 0;
  for (int kind = IDENTICAL; kind <= MIXED; kind++)
    for (uint64_t seed = 1; seed <= 10; seed++) {
      struct fx_cm_market k;
      edge_market(&k, (enum edge)kind, seed, (size_t)(5 + seed % 3));
      for (int native = 0; native < 2; native++) {
        p.bb_native_lp = native, p.bb_lazy_rows = seed % 2 == 0;
        p.bb_sb_cands = seed % 3 == 0 ? 8 : 0, p.bb_sb_reliable = 2, p.bb_sb_pivots = 3;
        struct fx_clear_result res, again;
        cr_assert_eq(fx_clear_solve(&k.m, &p, &res), 0);
        cr_assert_eq(fx_clear_solve(&k.m, &p, &again), 0);
        struct fx_cm_ex e = {.m = &k.m, .at_cov = res.coverage};
        fx_cm_exhaustive(&e);
        const char *w = native ? "native" : "GLPK";
        cr_assert_leq(res.cost_lb, e.at_cost, "kind %d seed %llu %s: bound %lld above %lld", kind,
                      (unsigned long long)seed, w, (long long)res.cost_lb, (long long)e.at_cost);
        cr_assert_geq(res.coverage_ub, e.best_cov, "kind %d seed %llu %s", kind,
                      (unsigned long long)seed, w);
        cr_assert_eq(res.cost, again.cost);
        cr_assert_eq(res.coverage, again.coverage);
        cr_assert_eq(res.cost_lb, again.cost_lb);
        cr_assert_eq(res.n_orders, again.n_orders);
        optimal += res.coverage == e.best_cov && res.cost == e.at_cost;
        runs++;
        fx_clear_result_free(&res);
        fx_clear_result_free(&again);
      }
    }
  cr_log_info("%d of %d runs found the optimum", optimal, runs);
  cr_assert_geq(optimal, runs * 9 / 10);
}

/* Empty markets and markets of one or two offers, of every edge kind:
 * both node simplexes' branch-and-bounds find the exhaustive optimum and
 * prove it, and their node LPs agree along branchings. */
Test(clear_dsx, empty_and_one_offer_markets) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  struct sweep sw = {0};
  for (int kind = IDENTICAL; kind <= MIXED; kind++)
    for (size_t n = 0; n <= 2; n++)
      for (uint64_t seed = 1; seed <= 4; seed++) {
        struct fx_cm_market k;
        edge_market(&k, (enum edge)kind, seed, n);
        sweep(&k.m, seed, 10, seed % 2 == 0, seed % 3 == 0, false, true, 1e-4, &sw);
        struct fx_clear_result res[2];
        for (int native = 0; native < 2; native++) {
          p.bb_native_lp = native;
          cr_assert_eq(fx_clear_solve(&k.m, &p, &res[native]), 0);
        }
        struct fx_cm_ex e = {.m = &k.m, .at_cov = res[1].coverage};
        fx_cm_exhaustive(&e);
        cr_assert_eq(res[1].coverage, e.best_cov, "kind %d n %zu seed %llu", kind, n,
                     (unsigned long long)seed);
        cr_assert_eq(res[1].cost, e.at_cost, "kind %d n %zu seed %llu", kind, n,
                     (unsigned long long)seed);
        cr_assert_leq(res[1].cost_lb, e.at_cost);
        cr_assert_eq(res[0].coverage, res[1].coverage);
        cr_assert_eq(res[0].cost, res[1].cost);
        fx_clear_result_free(&res[0]);
        fx_clear_result_free(&res[1]);
      }
  cr_log_info("%d node LPs of one- and two-offer markets, %ld native", sw.compared, sw.native);
  cr_assert_gt(sw.compared, 100);
}

/* The engine's own branch-and-bound run to a zero gap, with each simplex
 * for its nodes: the answer covers the most there is and costs the least at
 * that coverage, and the proven cost bound never exceeds that least cost. */
static void bb_exhaustive(bool native) {
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_native_lp = native;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 3), 2, seed % 5 == 0);
    p.bb_lazy_rows = seed % 2 == 0;
    if (seed % 3 == 0) p.bb_sb_cands = 8, p.bb_sb_reliable = 2, p.bb_sb_pivots = 3;
    else p.bb_sb_cands = 0;
    struct fx_clear_result res;
    cr_assert_eq(fx_clear_solve(&k.m, &p, &res), 0);
    struct fx_cm_ex e = {.m = &k.m, .at_cov = res.coverage};
    fx_cm_exhaustive(&e);
    cr_assert_leq(res.cost_lb, e.at_cost, "seed %llu: the bound %lld is above the optimum %lld",
                  (unsigned long long)seed, (long long)res.cost_lb, (long long)e.at_cost);
    cr_assert_geq(res.coverage_ub, e.best_cov, "seed %llu: the coverage bound is no bound",
                  (unsigned long long)seed);
    cr_assert(!res.budget_hit, "seed %llu: budget hit", (unsigned long long)seed);
    cr_assert_eq(res.coverage, e.best_cov, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(res.cost, e.at_cost, "seed %llu: %lld, least cost %lld", (unsigned long long)seed,
                 (long long)res.cost, (long long)e.at_cost);
    fx_clear_result_free(&res);
  }
}

Test(clear_dsx, branch_and_bound_on_native_nodes_matches_exhaustive_search) { bb_exhaustive(true); }

Test(clear_dsx, branch_and_bound_on_glpk_nodes_matches_exhaustive_search) { bb_exhaustive(false); }

/* The switch: on by default, in the library and in the platform's
 * configuration, and [market] bb_native_lp turns it off (and back). */
Test(clear_dsx, switch_is_on_by_default_and_read_from_market_section) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  cr_assert(p.bb_native_lp);
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert(c.clear.bb_native_lp);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_native_lp = false\n", err, sizeof err), 0, "%s", err);
  cr_assert(!c.clear.bb_native_lp);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_native_lp = yes\n", err, sizeof err), 0, "%s", err);
  cr_assert(c.clear.bb_native_lp);
  cr_assert_neq(fx_config_parse(&c, "[market]\nbb_native_lp = maybe\n", err, sizeof err), 0);
  cr_assert(strstr(err, "bb_native_lp"), "%s", err);
  fx_config_free(&c);
}
