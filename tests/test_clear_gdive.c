/* test_clear_gdive.c — guided node dives (round 16, gdive;
 * cl_lp_bb_dive_guided, bb_guided_dive): from a node's LP, a dive whose
 * fix rounds round the offers the LP splits towards a guide's choice (the
 * incumbent in the search). Without a guide it is the plain dive, choice
 * for choice; with one its choices keep every rule (judged by
 * tests/support/clear_markets.c, not the engine), are the same twice,
 * leave the node's LP as it was, and agree with the guide on more offers
 * than the plain dive's do; and the engine's clearing with a guided dive
 * at every node keeps every rule, with bounds that bound the exhaustive
 * search. Fixed seeds, bounded counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

#define MAX_COLS (FX_CM_MAX_OFFERS * FX_CM_MAX_OPTS)

static int solve(struct fx_cm_node *n) {
  long piv = 0;
  int64_t bound;
  return cl_lp_bb_solve(n->lp, n->cov, &bound, &piv);
}

/* The guide below is the node's merit order choice (fx_cm_node): a
 * feasible choice the LP's solution differs from, as it differs from the
 * incumbent in the search. */
static int dive(struct fx_cm_node *n, struct cl_state *st, const struct cl_state *guide) {
  long piv = 0;
  bool cut = true;
  int rc = cl_lp_bb_dive_guided(n->lp, st, n->cov, INT64_MAX, guide, &piv, &cut);
  cr_assert_geq(rc, 0);
  cr_assert(!cut, "no cut-off, abandoned");
  return rc;
}

static bool same_choice(const struct fx_cm_node *n, const struct cl_state *a, const struct cl_state *b) {
  return !memcmp(a->col, b->col, n->md.n_offers * sizeof *a->col) &&
         !memcmp(a->k, b->k, n->md.n_offers * sizeof *a->k);
}

/* Offers on which st orders what the guide (merit order) orders (the
 * same option, or nothing). */
static int agreed(const struct fx_cm_node *n, const struct cl_state *st) {
  int a = 0;
  for (size_t i = 0; i < n->md.n_offers; i++) a += st->col[i] == n->merit.col[i];
  return a;
}

/* Along plunges of 40 larger markets: with no guide the dive is
 * cl_lp_bb_dive's, choice for choice; with merit order's choice as the
 * guide every choice keeps every rule, comes out the same twice, and the
 * node's solution and Lagrangian child bounds are put back; the guided
 * choices differ from the plain ones on some dives and, summed over all,
 * order as the guide does on more offers (undone — the guide ignored —
 * the two are the same dive; rounded away from the guide, fewer). */
Test(clear_gdive, guided_dives_keep_every_rule_and_lean_to_the_guide) {
  int dives = 0, chosen = 0, differ = 0, agree_plain = 0, agree_guided = 0;
  for (uint64_t seed = 900; seed < 940; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(15 + 3 * (seed % 23)), 60, seed % 4 == 0);
    struct fx_cm_node n;
    struct cl_state f = {0}, a = {0}, b = {0};
    if (!fx_cm_node_open(&n, &k.m)) {
      fx_cm_node_close(&n);
      continue;
    }
    cr_assert_eq(cl_state_init(&f, &n.md), 0);
    cr_assert_eq(cl_state_init(&a, &n.md), 0);
    cr_assert_eq(cl_state_init(&b, &n.md), 0);
    int ok = solve(&n);
    for (int depth = 0; ok == 1 && depth < 8; depth++) {
      double x[MAX_COLS];
      int64_t child[MAX_COLS];
      for (size_t c = 0; c < n.md.n_cols; c++)
        x[c] = cl_lp_bb_x(n.lp, c), child[c] = cl_lp_bb_child(n.lp, n.md.col[c].offer, c, true);
      long piv = 0;
      int rf = cl_lp_bb_dive(n.lp, &f, n.cov, &piv);
      cr_assert_eq(dive(&n, &a, NULL), rf, "seed %llu", (unsigned long long)seed);
      if (rf >= 1) cr_assert(same_choice(&n, &a, &f), "seed %llu: no guide, another dive",
                             (unsigned long long)seed);
      int rg = dive(&n, &a, &n.merit);
      cr_assert_eq(dive(&n, &b, &n.merit), rg, "seed %llu", (unsigned long long)seed);
      dives++;
      if (rg >= 1) {
        chosen++;
        fx_cm_check_state(&k.m, &n.md, &a, seed);
        cr_assert(same_choice(&n, &a, &b), "seed %llu: not the same twice", (unsigned long long)seed);
      }
      if (rg >= 1 && rf >= 1) {
        differ += !same_choice(&n, &a, &f);
        agree_plain += agreed(&n, &f), agree_guided += agreed(&n, &a);
      }
      for (size_t c = 0; c < n.md.n_cols; c++) {
        cr_assert_eq(cl_lp_bb_x(n.lp, c), x[c], "seed %llu: the dive moved the solution",
                     (unsigned long long)seed);
        cr_assert_eq(cl_lp_bb_child(n.lp, n.md.col[c].offer, c, true), child[c]);
      }
      if (!fx_cm_node_branch(&n, (int)((seed + (uint64_t)depth) % 2))) break;
      ok = solve(&n);
    }
    cl_state_free(&f), cl_state_free(&a), cl_state_free(&b);
    fx_cm_node_close(&n);
  }
  cr_log_info("%d guided dives, %d choices, %d unlike the plain dive's; offers agreeing with the "
              "guide: %d guided, %d plain",
              dives, chosen, differ, agree_guided, agree_plain);
  cr_assert_gt(chosen, dives / 2, "%d of %d guided dives found a choice", chosen, dives);
  cr_assert_gt(differ, 0, "the guide never changed a dive");
  cr_assert_gt(agree_guided, agree_plain, "the guided dives do not lean to the guide");
}

/* Through fx_clear_solve with a guided dive at every node that has no
 * plain one, on step 10's path and on the proof's (moved down to these
 * sizes): on markets small enough for the exhaustive search every rule,
 * bounds that bound it, the same answer twice (fx_cm_solve_checked); off
 * by default. */
Test(clear_gdive, clearing_with_guided_dives_matches_exhaustive_search) {
  struct fx_clear_params d;
  fx_clear_params_init(&d);
  cr_assert_eq(d.bb_guided_dive, 0);
  struct fx_clear_params p;
  fx_cm_bb_params(&p);
  p.bb_guided_dive = 1;
  fx_cm_small_both_paths(&p);
}

/* On larger markets (20-40 offers, no exhaustive search: the search
 * without guided dives, run to a zero gap, is the reference where it
 * proves its answer optimal): every rule; the same coverage and cost where
 * both prove theirs, a bound never above the reference's optimum; and the
 * guided dives change the search on some markets (the switch is read and
 * the dives' answers taken). */
Test(clear_gdive, branch_and_bound_with_guided_dives_ends_at_the_same_optimum) {
  struct fx_clear_params p, off;
  fx_cm_bb_params(&p);
  p.bb_node_limit = 2000;
  off = p;
  p.bb_guided_dive = 1;
  int proven, differ = fx_cm_same_optimum(&p, &off, 300, 330, &proven);
  cr_log_info("%d markets proven both ways; the guided dives changed the search on %d", proven,
              differ);
  cr_assert_geq(proven, 12);
  cr_assert_gt(differ, 0, "the guided dives never changed a search");
}
