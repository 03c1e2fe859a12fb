/* test_clear_ndive.c — the branch-and-bound's node dives (round 9,
 * cl_lp_bb_dive, bb_node_dive; docs/clearing.md): from a node's LP on the
 * node simplex, a dive's candidate keeps every rule (judged by the rules of
 * tests/support/clear_markets.c, not the engine's), is never cheaper than
 * the exhaustive optimum at its coverage, and is the same twice; the node's
 * LP comes back exactly (its solution, its Lagrangian child bounds, and
 * every later node solved as if the dive had not been); and the engine's
 * branch-and-bound with a dive at every node still ends at the exhaustive
 * optimum with bounds that bound; a dive given a cut-off (round 11, ndv2)
 * is either abandoned, the node's LP put back as well, or the same dive
 * step for step. Fixed seeds, bounded counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "engine/config.h"
#include "tests/support/clear_markets.h"

#define MAX_COLS (FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS)

static int solve(struct fx_cm_node *n, int64_t *bound) {
  long piv = 0;
  return cl_lp_bb_solve(n->lp, n->cov, bound, &piv);
}


/* Along a plunge of up to eight nodes of each market small enough for the
 * exhaustive search: every dive's choice keeps every rule, costs no less
 * than the least cost the search finds at its coverage, and comes out the
 * same from the same node; and some dives reach the target, some of them
 * at the exhaustive optimum. Both ways to a choice are taken: the
 * shortcut (the LP's own rounding reached the target, return 2) and the
 * factor rounds (return 1); the shortcut's choices reach the target. */
Test(clear_ndive, dive_candidates_keep_every_rule) {
  int dives = 0, chosen = 0, reached = 0, optimal = 0, shortcut = 0;
  for (uint64_t seed = 1; seed <= 80; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 3), 2, seed % 5 == 0);
    struct fx_cm_node n;
    struct cl_state a = {0}, b = {0};
    if (!fx_cm_node_open(&n, &k.m)) {
      fx_cm_node_close(&n);
      continue;
    }
    cr_assert_eq(cl_state_init(&a, &n.md), 0);
    cr_assert_eq(cl_state_init(&b, &n.md), 0);
    int64_t bound;
    int ok = solve(&n, &bound);
    for (int depth = 0; ok == 1 && depth < 8; depth++) {
      long piv = 0;
      int rc = cl_lp_bb_dive(n.lp, &a, n.cov, &piv);
      cr_assert_geq(rc, 0, "seed %llu", (unsigned long long)seed);
      cr_assert_eq(cl_lp_bb_dive(n.lp, &b, n.cov, &piv), rc, "seed %llu",
                   (unsigned long long)seed);
      dives++;
      if (rc >= 1) {
        chosen++;
        fx_cm_check_state(&k.m, &n.md, &a, seed);
        if (rc == 2) {
          shortcut++;
          cr_assert_geq(a.cov, n.cov, "seed %llu", (unsigned long long)seed);
        }
        cr_assert_arr_eq(a.col, b.col, n.md.n_offers * sizeof *a.col);
        cr_assert_arr_eq(a.k, b.k, n.md.n_offers * sizeof *a.k);
        struct fx_cm_ex e = {.m = &k.m, .at_cov = a.cov};
        fx_cm_exhaustive(&e);
        cr_assert_geq(a.cost, e.at_cost, "seed %llu", (unsigned long long)seed);
        reached += a.cov >= n.cov;
        struct fx_cm_ex t = {.m = &k.m, .at_cov = n.cov};
        fx_cm_exhaustive(&t);
        optimal += a.cov >= n.cov && a.cost == t.at_cost;
      }
      if (!fx_cm_node_branch(&n, (int)((seed + (uint64_t)depth) % 2))) break;
      ok = solve(&n, &bound);
    }
    cl_state_free(&a), cl_state_free(&b);
    fx_cm_node_close(&n);
  }
  cr_log_info("%d dives: %d choices (%d by the shortcut), %d at the target, %d of them optimal",
              dives, chosen, shortcut, reached, optimal);
  cr_assert_gt(chosen, dives / 2, "%d of %d dives found a choice", chosen, dives);
  cr_assert_gt(shortcut, 0, "the shortcut never gave a choice");
  cr_assert_lt(shortcut, chosen, "the factor rounds never gave a choice");
  cr_assert_gt(reached, 0);
  cr_assert_gt(optimal, 0);
}

/* Two copies of one node LP branched alike, one of them dived on at every
 * node: after each dive its solution and its Lagrangian child bounds are
 * what they were, and every node after it solves to the same status,
 * bound, objective and solution as in the copy without dives; the dives'
 * choices on these larger markets keep every rule too, the shortcut's
 * among them. */
Test(clear_ndive, node_lp_put_back_exactly) {
  int compared = 0, natively = 0, shortcut = 0;
  for (uint64_t seed = 900; seed < 940; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(15 + 3 * (seed % 23)), 60, seed % 4 == 0);
    struct fx_cm_node n1, n2;
    bool have = fx_cm_node_open(&n1, &k.m);
    cr_assert_eq(fx_cm_node_open(&n2, &k.m), have);
    struct cl_state a = {0};
    double x[MAX_COLS];
    int64_t child[MAX_COLS];
    if (have) cr_assert_eq(cl_state_init(&a, &n1.md), 0);
    int64_t b1 = 0, b2 = 0;
    int ok1 = have ? solve(&n1, &b1) : 0, ok2 = have ? solve(&n2, &b2) : 0;
    for (int depth = 0; have && depth < 12; depth++) {
      cr_assert_eq(ok1, ok2, "seed %llu node %d", (unsigned long long)seed, depth);
      cr_assert_eq(b1, b2, "seed %llu node %d: %lld against %lld", (unsigned long long)seed,
                   depth, (long long)b1, (long long)b2);
      cr_assert_eq(cl_lp_bb_objval(n1.lp), cl_lp_bb_objval(n2.lp), "seed %llu node %d",
                   (unsigned long long)seed, depth);
      for (size_t c = 0; c < n1.md.n_cols; c++)
        cr_assert_eq(cl_lp_bb_x(n1.lp, c), cl_lp_bb_x(n2.lp, c), "seed %llu node %d",
                     (unsigned long long)seed, depth);
      compared++;
      if (ok1 != 1) break;
      for (size_t c = 0; c < n1.md.n_cols; c++) {
        size_t i = n1.md.col[c].offer;
        x[c] = cl_lp_bb_x(n1.lp, c), child[c] = cl_lp_bb_child(n1.lp, i, c, true);
      }
      long piv = 0;
      int rc = cl_lp_bb_dive(n1.lp, &a, n1.cov, &piv);
      cr_assert_geq(rc, 0);
      if (rc >= 1) fx_cm_check_state(&k.m, &n1.md, &a, seed);
      shortcut += rc == 2;
      for (size_t c = 0; c < n1.md.n_cols; c++) {
        cr_assert_eq(cl_lp_bb_x(n1.lp, c), x[c], "seed %llu: the dive moved the solution",
                     (unsigned long long)seed);
        cr_assert_eq(cl_lp_bb_child(n1.lp, n1.md.col[c].offer, c, true), child[c]);
      }
      int dir = (int)((seed + (uint64_t)depth) % 2);
      bool more = fx_cm_node_branch(&n1, dir);
      cr_assert_eq(fx_cm_node_branch(&n2, dir), more);
      if (!more) break;
      ok1 = solve(&n1, &b1), ok2 = solve(&n2, &b2);
    }
    if (have) natively += cl_lp_bb_native(n1.lp) > 0;
    if (have) cl_state_free(&a);
    fx_cm_node_close(&n1), fx_cm_node_close(&n2);
  }
  cr_log_info("%d nodes compared, %d dives' choices by the shortcut", compared, shortcut);
  cr_assert_gt(shortcut, 0);
  cr_assert_gt(natively, 20, "the node simplex ran on %d markets only", natively);
  cr_assert_gt(compared, 100);
}

/* Whether the dive at n abandoned at cutoff u (ENOMEM fails the test);
 * *rc its return, st its choice. */
static bool dive_cut(struct fx_cm_node *n, struct cl_state *st, int64_t u, int *rc) {
  long piv = 0;
  bool cut = true;
  *rc = cl_lp_bb_dive_cut(n->lp, st, n->cov, u, &piv, &cut);
  cr_assert_geq(*rc, 0);
  cr_assert(!cut || *rc == 0, "an abandoned dive returned a choice");
  return cut;
}

static void same_choice(const struct fx_cm_node *n, const struct cl_state *a, const struct cl_state *b,
                        uint64_t seed) {
  cr_assert_arr_eq(a->col, b->col, n->md.n_offers * sizeof *a->col, "seed %llu",
                   (unsigned long long)seed);
  cr_assert_arr_eq(a->k, b->k, n->md.n_offers * sizeof *a->k, "seed %llu",
                   (unsigned long long)seed);
}

/* The cut-off, along plunges of the larger markets: without one
 * (INT64_MAX) the dive is cl_lp_bb_dive's, choice for choice; below
 * anything an LP can cost it abandons the dives that solve a fix round
 * (most of them), with nothing chosen, and the others are the full dive;
 * at the full dive's own answer's cost it either abandons (and then so
 * does the lowest cut-off) or is the full dive step for step (the same
 * return and choice); and after an abandoned dive the node's solution and
 * Lagrangian child bounds are what they were, so the search goes on as
 * without the dive. */
Test(clear_ndive, cut_off_abandons_or_is_the_same_dive) {
  int dives = 0, low = 0, at_own = 0, kept = 0;
  for (uint64_t seed = 900; seed < 930; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(15 + 3 * (seed % 23)), 60, seed % 4 == 0);
    struct fx_cm_node n;
    struct cl_state f = {0}, a = {0};
    if (!fx_cm_node_open(&n, &k.m)) {
      fx_cm_node_close(&n);
      continue;
    }
    cr_assert_eq(cl_state_init(&f, &n.md), 0);
    cr_assert_eq(cl_state_init(&a, &n.md), 0);
    int64_t bound, child[MAX_COLS];
    double x[MAX_COLS];
    int ok = solve(&n, &bound);
    for (int depth = 0; ok == 1 && depth < 8; depth++) {
      for (size_t c = 0; c < n.md.n_cols; c++)
        x[c] = cl_lp_bb_x(n.lp, c), child[c] = cl_lp_bb_child(n.lp, n.md.col[c].offer, c, true);
      long piv = 0;
      int rf = cl_lp_bb_dive(n.lp, &f, n.cov, &piv), rc;
      cr_assert_geq(rf, 0);
      dives++;
      cr_assert(!dive_cut(&n, &a, INT64_MAX, &rc), "seed %llu: no cut-off, abandoned",
                (unsigned long long)seed);
      cr_assert_eq(rc, rf, "seed %llu", (unsigned long long)seed);
      if (rf >= 1) same_choice(&n, &a, &f, seed);
      bool cut_low = dive_cut(&n, &a, -(INT64_MAX / 4), &rc);
      low += cut_low;
      if (!cut_low) cr_assert_eq(rc, rf, "seed %llu", (unsigned long long)seed);
      if (rf >= 1) {
        bool cut = dive_cut(&n, &a, f.cost, &rc);
        at_own += cut;
        if (cut) {
          cr_assert(cut_low, "seed %llu: abandoned at %lld, not below", (unsigned long long)seed,
                    (long long)f.cost);
        } else {
          kept++;
          cr_assert_eq(rc, rf, "seed %llu", (unsigned long long)seed);
          same_choice(&n, &a, &f, seed);
        }
      }
      for (size_t c = 0; c < n.md.n_cols; c++) {
        cr_assert_eq(cl_lp_bb_x(n.lp, c), x[c], "seed %llu: an abandoned dive moved the LP",
                     (unsigned long long)seed);
        cr_assert_eq(cl_lp_bb_child(n.lp, n.md.col[c].offer, c, true), child[c]);
      }
      if (!fx_cm_node_branch(&n, (int)((seed + (uint64_t)depth) % 2))) break;
      ok = solve(&n, &bound);
    }
    cl_state_free(&f), cl_state_free(&a);
    fx_cm_node_close(&n);
  }
  cr_log_info("%d dives: %d abandoned below every cost, %d at their own answer's cost, %d not",
              dives, low, at_own, kept);
  cr_assert_gt(low, dives / 2, "the cut-off abandoned %d of %d dives", low, dives);
  cr_assert_gt(kept, 0);
}

/* The engine's branch-and-bound run to a zero gap with a dive at every
 * node: on markets small enough for the exhaustive search the answer
 * covers the most there is, at its least cost, and the proven bound never
 * exceeds that cost; on larger ones (no search: the branch-and-bound
 * without dives is the reference where it proves its answer optimal) it
 * ends at the same coverage and cost. The dives' answers change the
 * search on some (a dive whose answers were never taken leaves the search
 * exactly as it was: the node LP comes back exactly). */
Test(clear_ndive, branch_and_bound_with_dives_matches_exhaustive_search) {
  struct fx_clear_params p, off;
  fx_cm_bb_params(&p);
  off = p;
  p.bb_node_dive = 1;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(6 + seed % 3), 2, seed % 5 == 0);
    struct fx_clear_result r = fx_cm_solve(&k.m, &p);
    struct fx_cm_ex e = {.m = &k.m, .at_cov = r.coverage};
    fx_cm_exhaustive(&e);
    cr_assert(!r.budget_hit, "seed %llu: budget hit", (unsigned long long)seed);
    cr_assert_eq(r.coverage, e.best_cov, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(r.cost, e.at_cost, "seed %llu: %lld, least cost there %lld",
                 (unsigned long long)seed, (long long)r.cost, (long long)e.at_cost);
    cr_assert_leq(r.cost_lb, e.at_cost, "seed %llu", (unsigned long long)seed);
    fx_clear_result_free(&r);
  }
  int differ = 0, proven = 0;
  p.bb_node_limit = off.bb_node_limit = 2000;
  for (uint64_t seed = 300; seed < 320; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + seed % 21), 60, seed % 4 == 0);
    struct fx_clear_result r = fx_cm_solve(&k.m, &p), o = fx_cm_solve(&k.m, &off);
    differ += r.bb_nodes != o.bb_nodes;
    if (!o.budget_hit) /* o.cost is the optimum: nothing covering as much is cheaper */
      cr_assert_leq(r.cost_lb, o.cost, "seed %llu", (unsigned long long)seed);
    if (r.budget_hit || o.budget_hit) { /* the reference is not proven */
      fx_clear_result_free(&r), fx_clear_result_free(&o);
      continue;
    }
    proven++;
    cr_assert_eq(r.coverage, o.coverage, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(r.cost, o.cost, "seed %llu: %lld with dives, %lld without",
                 (unsigned long long)seed, (long long)r.cost, (long long)o.cost);
    fx_clear_result_free(&r);
    fx_clear_result_free(&o);
  }
  cr_log_info("%d markets proven both ways; the dives changed the search on %d", proven, differ);
  cr_assert_geq(proven, 12);
  cr_assert_gt(differ, 0, "the dives never gave the search an answer");
}

/* The switch: every 16th node by default, in the library and in the
 * platform's configuration; [market] bb_node_dive sets it (0 = off) and
 * refuses what is not a count; bb_dive_cut, the dives' cut-off, is on by
 * default and [market] turns it off. */
Test(clear_ndive, switch_defaults_to_sixteen_and_is_read_from_market_section) {
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  cr_assert_eq(p.bb_node_dive, 16);
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(c.clear.bb_node_dive, 16);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_node_dive = 0\n", err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.clear.bb_node_dive, 0);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_node_dive = 8\n", err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.clear.bb_node_dive, 8);
  cr_assert_neq(fx_config_parse(&c, "[market]\nbb_node_dive = -1\n", err, sizeof err), 0);
  cr_assert(strstr(err, "bb_node_dive"), "%s", err);
  cr_assert(p.bb_dive_cut);
  cr_assert(c.clear.bb_dive_cut);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_dive_cut = false\n", err, sizeof err), 0, "%s", err);
  cr_assert(!c.clear.bb_dive_cut);
  fx_config_free(&c);
}
