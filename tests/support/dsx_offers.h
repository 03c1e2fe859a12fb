/* dsx_offers.h — offer LPs for the node simplex's suites (clear_dsx.c):
 * min Σ c·x over options x in [0, 1], ISP rows Σ P·x >= need (a share of
 * the supply, so most offers are ordered in full), one "Σ x <= 1" row per
 * offer of two or more options (two thirds left for later: lazy, to be
 * appended violated), solved by GLPK; and the check that a copy's duals
 * certify its primal values. */
#ifndef FLEXD_TESTS_SUPPORT_DSX_OFFERS_H
#define FLEXD_TESTS_SUPPORT_DSX_OFFERS_H

#include <glpk.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/clear_dsx.h"

#define FX_DO_MAX_OFF 40
#define FX_DO_MAX_COL (3 * FX_DO_MAX_OFF)

/* The offers' columns: offer o has columns first[o] .. first[o + 1] - 1,
 * its row is row[o] once P has it (0 before; none for one option). */
struct fx_do_offers {
  int n_off, n_col, first[FX_DO_MAX_OFF + 1], row[FX_DO_MAX_OFF];
  bool lazy[FX_DO_MAX_OFF];
};

/* min Σ c·x over n boxed columns x in [0, 1], rows Σ a·x >= 1 (a from
 * the seed, about a third dense), solved by GLPK. scaled: entries and
 * right-hand sides × 1e3 and each row scaled to a largest entry of 1, as
 * clear_lp.c scales its rows (the same LP otherwise). */
glp_prob *fx_do_small_lp(uint64_t seed, int m, int n, bool scaled);

/* Append offer f's row Σ x <= 1 to P (its slack basic if basic); its index. */
int fx_do_offer_row(glp_prob *P, const struct fx_do_offers *o, int f, bool basic);
/* A new offer LP from seed, solved to its optimum; *o describes it. */
glp_prob *fx_do_offer_lp(uint64_t seed, struct fx_do_offers *o);
/* fx_do_offer_lp with every offer's row taken as present (none lazy: a
 * row appended would void a snapshot) and two copies of the simplex on
 * it, *a and *b, for the suites that compare a copy that looks ahead
 * with one that does not (criterion assertions). */
glp_prob *fx_do_twins(uint64_t seed, struct fx_do_offers *o, struct cl_dsx **a, struct cl_dsx **b);
struct fx_cm_rng;
/* One branching step on P and on copies a and b (b may be NULL), as
 * test_clear_dsx_gub.c's: an option excluded, an offer ordered on one
 * option (its others excluded), an offer released, or a lazy offer's row
 * appended; now and then many options fixed at 0 at once, or freed. */
void fx_do_branch(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, struct fx_do_offers *o, struct fx_cm_rng *r);
/* Copy d's column bounds back to P's (the node's, after a look-ahead's
 * child bounds). */
void fx_do_bounds_back(glp_prob *P, struct cl_dsx *d);
/* A node that branched, as the search keeps it: the bounds of P's
 * columns 1..n (all, or the offers' alone) and a copy's basis
 * (fx_do_keep). */
struct fx_do_kept {
  signed char *st; /* malloc'd, the caller frees it */
  int len;
  double lo[FX_DO_MAX_COL + 2], hi[FX_DO_MAX_COL + 2]; /* the offers' and the way out */
};
void fx_do_keep(glp_prob *P, const struct cl_dsx *d, int n, struct fx_do_kept *s);
/* A jump to kept node s on P and both copies: a few of columns 1..n
 * fixed first (a jump's apply() may set a column twice), then s's bounds
 * on them, then its
 * basis, in one of swap_one_in jumps with up to four basic and nonbasic
 * variables swapped (refused, mostly: the basis before is put back).
 * take_in: copy a takes its bounds in before the put-back, b leaves them
 * to it. Both put-backs must answer alike and neither fail (criterion
 * assertions); *back counts the refused. */
void fx_do_jump(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, int n, const struct fx_do_kept *s,
                struct fx_cm_rng *r, int swap_one_in, bool take_in, int *back, const char *where);
/* Two branching steps (fx_do_branch) on P, a and b, then both copies
 * solved to their optimum: the same status, the same pivot counts (*pa,
 * *pb summed) and the same bits (criterion assertions, `where` in the
 * message). */
void fx_do_branch_both(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, struct fx_do_offers *o,
                       struct fx_cm_rng *r, long *pa, long *pb, const char *where);
/* Assert that d's duals certify its primal values on P (bounds, signs,
 * complementary slackness, reduced costs); where names the step. */
/* Both copies' state after a solve, bit for bit: the objective, every
 * column's value and every row's dual (criterion assertions, `where` in
 * the message). */
void fx_do_same_bits(glp_prob *P, struct cl_dsx *a, struct cl_dsx *b, const char *where);
void fx_do_certify(glp_prob *P, struct cl_dsx *d, const char *where);
/* GLPK's dual simplex on P from its basis: P's status, or -1 when GLPK
 * refuses to start. */
int fx_do_glpk_dual(glp_prob *P);
/* GLPK's optimum of a copy of P, from P's basis by the dual simplex. */
double fx_do_glpk_obj(glp_prob *P);

#endif
