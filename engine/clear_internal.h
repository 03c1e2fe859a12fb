/* clear_internal.h — what the clearing engine's files share and nobody else
 * uses: the normalised model (clear_model.c), the exact integer state and its
 * heuristics (clear_heur.c), the LP relaxation with its Lagrangian bounds
 * (clear_lp.c) and the branch-and-bound over it (clear_bb.c). fx_clear_solve
 * (clear.c) ties them together.
 *
 * Normalisation: every constrained ISP t gets a direction s (the requested
 * one, +1 for Available) so that the bounds become L <= s·d <= U on the sum d
 * of the NEW orders' power, with L <= 0 <= U (buying nothing is feasible).
 * A Requested ISP with need N and already-ordered b = s·base counts the gain
 * clamp(b + s·d, 0, N) - m with m = clamp(b, 0, N); for b >= 0 that is
 * min(s·d, cap) with cap = N - m, concave, and LP-representable as
 * cov <= s·d + off, covmin <= cov <= cap (see docs/clearing.md). */
#ifndef FX_ENGINE_CLEAR_INTERNAL_H
#define FX_ENGINE_CLEAR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/clear.h"

struct cl_isp {
  bool constrained, requested; /* requested: counts coverage (cap > 0) */
  int s;                       /* +1 or -1 */
  int64_t lo, hi;              /* L, U on s·d */
  int64_t cap, off, covmin;    /* coverage model (requested only) */
  int64_t b, m;                /* s·base and the coverage base already has */
};

/* A useful option: one that pushes some Requested ISP with need towards it.
 * Options that help no Requested ISP are never ordered (DESIGN.md §4) and
 * are not columns at all. */
struct cl_col {
  uint32_t offer, option;
  int min_af;
  int64_t price;
  size_t first, n;
  const int64_t *p;
  bool monotone; /* no power against a Requested ISP's direction: coverage
                    never falls as its factor rises */
};

/* A partition of the offers into classes, each chained by arrival:
 * prev / next per offer, -1 at either end and for offers in no class of
 * two or more. */
struct cl_sym {
  int *prev, *next;
  size_t n_linked;  /* offers that have a previous one in theirs */
};

struct cl_model {
  const struct fx_clear_market *m;
  size_t n_isps, n_offers, n_cols;
  struct cl_isp *isp;
  struct cl_col *col;      /* by offer, then option */
  size_t *offer_col;       /* n_offers + 1 offsets into col */
  /* Every column, dearest first by price (rank_price) or by cl_merit_key
   * (rank_unit), the later column first among equal keys: sorted once here,
   * so that the integer passes list a state's orders in their order by a
   * scan instead of a sort per pass (round 11, polc). */
  size_t *rank_price, *rank_unit;
  /* Symmetry classes (round 12, symm): offers identical in everything the
   * model keeps of their columns (the same columns in the same order:
   * price, minimum factor, ISP window and powers), chained by arrival;
   * sym_cov: the same but for the price, which the coverage search does
   * not see. Column q of one member is column q of every other. */
  struct cl_sym sym, sym_cov;
  int64_t need;            /* sum of cap */
  int64_t deficit;         /* sum of max(0, -b) over Requested: model slack, see clear_lp.c */
};

int cl_model_init(struct cl_model *md, const struct fx_clear_market *m);
void cl_model_free(struct cl_model *md);

/* Exact integer state: per offer the chosen column (-1) and factor. */
struct cl_state {
  int *col;     /* global column index or -1 */
  int *k;
  int64_t *d;   /* per ISP, sum of new orders' power */
  int64_t cov, cost;
};

int cl_state_init(struct cl_state *st, const struct cl_model *md);
void cl_state_free(struct cl_state *st);
void cl_state_copy(struct cl_state *dst, const struct cl_state *src, const struct cl_model *md);
void cl_state_clear(struct cl_state *st, const struct cl_model *md);
/* Set offer's choice (col -1 or k 0 = none); keeps d, cov, cost exact. */
void cl_state_set(struct cl_state *st, const struct cl_model *md, size_t offer, int col, int k);
/* Build d, cov and cost from col and k alone (col -1 exactly when k is 0,
 * else k in [1, 100]), in one pass: bit for bit what setting every order
 * in turn on a cleared state with cl_state_set leaves. */
void cl_state_rebuild(struct cl_state *st, const struct cl_model *md);
/* An LP solution x (per column) rounded into st, built as cl_state_rebuild
 * does: each offer on its largest column (the first of equal ones), the
 * factor x·100 up to the next hundredth (up; less 1e-6 of slack) or to
 * the nearest, x clamped to [0, 1]; below the column's minimum: the
 * minimum from half of it on, else no order. */
void cl_state_round(struct cl_state *st, const struct cl_model *md, const double *x, bool up);
bool cl_state_feasible(const struct cl_state *st, const struct cl_model *md);
int64_t cl_isp_gain(const struct cl_isp *t, int64_t d);
/* Largest k in [min_af, kcap] keeping every bound of col's ISPs, given st
 * without offer's order; 0 if none. Bounds must hold before the call. */
int cl_max_factor(const struct cl_state *st, const struct cl_model *md, size_t col, int kcap);
/* Cover order, the maximum-coverage LP's start: most coverage an option
 * adds alone first (price unseen), full activation, taken when every bound
 * holds and coverage grows. */
int cl_cover_order(struct cl_state *st, const struct cl_model *md);
/* Both at or above target: less cost. Otherwise lexicographic: more
 * coverage, then less cost. */
bool cl_state_better(const struct cl_state *a, const struct cl_state *b, int64_t target);
/* The rule of symmetry breaking (round 12, symm): within a class, an
 * earlier offer's choice ranks at least as high as a later one's, by
 * none < column 0 at factor 1..100 < column 1 ... (cl_sym_rank). Puts st's
 * choices in that order, class by class (the same orders moved between
 * identical offers: totals, coverage and cost unchanged), so that among
 * identical offers the earlier arrival holds the order (DESIGN.md §4). */
int cl_state_canon(struct cl_state *st, const struct cl_model *md);
/* The rank of column c (or -1: none) at factor k in that order. */
int cl_sym_rank(const struct cl_model *md, int c, int k);
/* Do a and b order the same on offer i: the same column at the same
 * factor, or nothing? */
bool cl_state_same_order(const struct cl_state *a, const struct cl_state *b, size_t i);

/* Heuristics (clear_heur.c). merit: cheapest price per standalone covered W
 * first, full activation, taken if feasible and it adds coverage. */
int cl_merit(struct cl_state *st, const struct cl_model *md);
int cl_repair(struct cl_state *st, const struct cl_model *md);
/* fill needs st to keep every bound (repair first). */
int cl_fill(struct cl_state *st, const struct cl_model *md, int64_t target);
int cl_prune(struct cl_state *st, const struct cl_model *md);
int cl_drop(struct cl_state *st, const struct cl_model *md, int64_t target);
int cl_trim(struct cl_state *st, const struct cl_model *md, int64_t target);
/* Nudge: while short of target, raise by one hundredth the order that buys
 * coverage the cheapest per W (every bound kept, coverage never lower; at
 * most 1,024 hundredths). For states a few hundred W short, where fill
 * overbuys. st must keep every bound. */
int cl_nudge(struct cl_state *st, const struct cl_model *md, int64_t target);
/* Local search: take each order out in turn (dearest per W first), refill
 * without it and keep the result when better (cl_state_better); passes until
 * none improves or budget column evaluations are spent (deterministic; then
 * *budget_hit is set). */
int cl_swap(struct cl_state *st, const struct cl_model *md, int64_t target, long budget,
            bool *budget_hit);
/* Sort key of the merit order: price per W the column covers alone. */
double cl_merit_key(const struct cl_model *md, size_t col);

/* LP relaxation and bounds (clear_lp.c). */
struct cl_lp;
struct cl_lp_out {
  int64_t coverage_ub;
  int64_t target; /* coverage the search aims for (see cl_lp_dive) */
  int64_t cost_lb;
  bool budget_hit;  /* an LP limit (the LP code owns it) */
  bool search_hit;  /* the local search's work limit */
  int solves;
};
int cl_lp_create(struct cl_lp **lp, const struct cl_model *md, const struct fx_clear_params *p,
                 double deadline_ms);
void cl_lp_free(struct cl_lp *lp);
/* Root LP (started at start, a feasible choice) and the coverage bound; the
 * target: the bound less tol of it, not below start's coverage; then
 * fix-and-resolve dives towards the target into st. */
int cl_lp_dive(struct cl_lp *lp, struct cl_state *st, struct cl_lp_out *out,
               const struct cl_state *start, double tol);
/* Another dive from the capped LP of cl_lp_dive, fixing only share of the
 * fractional offers per round (0 < share <= 1); st empty if there is none
 * (or after cl_lp_mip, which changes the LP). */
int cl_lp_redive(struct cl_lp *lp, struct cl_state *st, struct cl_lp_out *out, double share);
/* Only the root LP of cl_lp_dive (maximum coverage, from start) and the
 * coverage bound: what cl_lp_cost_bound needs. */
int cl_lp_root(struct cl_lp *lp, const struct cl_state *start, struct cl_lp_out *out);
/* cl_lp_dive's phase 1 alone (tests, figures): the maximum-coverage LP
 * from the basis cl_lp_dive starts it at (merit order's start, or cover
 * order's above redive_max_offers, priced as cl_lp_dive prices it), or
 * from GLPK's standard basis (scratch, GLPK's default pricing); feasible:
 * that start basis is primal feasible; start_obj: its objective; the
 * LP's optimum, pivots and proven coverage bound. */
struct cl_lp_phase1 {
  bool feasible, optimal;
  bool dantzig; /* priced by Dantzig's rule (cover order's start, round 11) */
  bool native;  /* solved by the native dual simplex (root_native_phase1, round 15) */
  double start_obj, cov_lp;
  long pivots;
  int64_t coverage_ub;
};
int cl_lp_phase1(struct cl_lp *lp, const struct cl_state *start, bool scratch,
                 struct cl_lp_phase1 *out);
/* The root's least cost at the cap (cl_lp_dive) as it last ran (tests,
 * figures): whether the native simplex solved it, how many rows it gave
 * a second bound (box_rows) of those nonbasic at their only bound (before
 * round 11 every one of them), and the LP's optimal objective (0 when
 * not solved); capped_native: the capped LP after it was solved on the
 * dive's copy (round 11), not by GLPK. */
struct cl_lp_cap {
  bool native, optimal, capped_native;
  int boxed, eligible;
  double obj;
};
void cl_lp_cap_figures(const struct cl_lp *lp, struct cl_lp_cap *out);
/* Reduced-cost fixing at the root, after cl_lp_cost_bound(lp, coverage):
 * keep[c] is false when ordering column c proves, by the Lagrangian of that
 * LP's duals, a cost of at least u for every choice covering >= coverage. */
int cl_lp_root_fix(struct cl_lp *lp, int64_t coverage, int64_t u, bool *keep);
/* Small markets: GLPK branch-and-bound on the MILP with binary choices, for
 * answers only (its optimum is no bound: clear.c's exact_proof proves); not
 * run where the powers span more than 10^9 (GLPK aborted on one). */
bool cl_lp_exact(const struct cl_lp *lp);
int cl_lp_mip(struct cl_lp *lp, struct cl_state *st, struct cl_lp_out *out);
/* The Lagrangian's per-column terms taken on each factor's rounded power
 * and price instead of the linear term plus the rounding's worst case:
 * tighter, dearer (the exact path's LPs). */
void cl_lp_exact_terms(struct cl_lp *lp);
/* Proven cost lower bound over every choice covering >= coverage. */
int cl_lp_cost_bound(struct cl_lp *lp, int64_t coverage, struct cl_lp_out *out);
/* cl_lp_cost_bound on lp, the reduced market's LP (clear_sub.c), started
 * from full's basis (after cl_lp_cost_bound(full, coverage)): offer_map[j]
 * is reduced offer j's full offer, col_map[q] reduced column q's full
 * column. false (lp's basis then left for cl_lp_root) where the basis does
 * not map (a dropped column or row was basic) or is not dual feasible. */
bool cl_lp_cost_bound_from(struct cl_lp *lp, const struct cl_lp *full, const size_t *offer_map,
                           const int *col_map, int64_t coverage, struct cl_lp_out *out);

/* Branch-and-bound support: the LP of cl_lp_cost_bound with the factors
 * of each column restricted and elastic rows. A column's factor k lies in
 * {0} ∪ [max(min_af, lo), hi] while lo is 0, in [max(min_af, lo), hi] once
 * lo > 0 (the offer orders that column; branch-and-bound then excludes its
 * others); hi below the minimum excludes it. kr (per column) is read by the
 * node bounds until cl_lp_bb_end; the caller keeps the LP's bounds in step
 * with it through cl_lp_bb_set. */
struct cl_krange {
  uint8_t lo, hi;
};
int cl_lp_bb_begin(struct cl_lp *lp, const struct cl_krange *kr, bool coverage);
/* Tests: how many coverage searches (cl_lp_bb_begin on coverage) started
 * from the root's maximum-coverage basis; skip: they do not (as before
 * round 23). */
int cl_lp_cov_basis_put(const struct cl_lp *lp);
void cl_lp_cov_basis_skip(struct cl_lp *lp, bool skip);
void cl_lp_bb_end(struct cl_lp *lp);
void cl_lp_bb_set(struct cl_lp *lp, size_t col, struct cl_krange r);
/* Re-solve (dual simplex) and prove a cost bound for every choice that
 * covers >= coverage within the current states (or, begun for coverage,
 * minus a coverage bound: minimisation form either way). Returns 1 when the LP is
 * solved, 0 when the simplex failed (the bound holds, the solution is not
 * one), -1 when a limit stopped it (no bound). pivots: iterations spent. */
int cl_lp_bb_solve(struct cl_lp *lp, int64_t coverage, int64_t *bound, long *pivots);
/* The node simplex's basis (one byte per variable, cl_lp_bb_basis_len of
 * them; 0 when GLPK holds the node LP), and a start from one saved so,
 * at the current bounds (round 18, jump): 1 taken, 0 not (the current
 * basis kept). old: scratch of cl_lp_bb_basis_len bytes. */
int cl_lp_bb_basis_len(const struct cl_lp *lp);
void cl_lp_bb_basis_get(const struct cl_lp *lp, signed char *st);
int cl_lp_bb_warm(struct cl_lp *lp, const signed char *st, int len, signed char *old);
/* Whether the last node's LP solution uses an elastic slack (half a watt
 * or more): its bound then rests on the slacks' price, not on the rows. */
bool cl_lp_bb_slack_used(const struct cl_lp *lp);
/* The elastic slacks' price times factor until cl_lp_bb_end (any price
 * leaves every bound proven: bounds are Lagrangian). */
void cl_lp_bb_reprice(struct cl_lp *lp, double factor);
/* Strong branching's look-ahead: the LP with the columns' bounds the caller
 * set (a child's, through cl_lp_bb_set and the kr it reads) re-solved by at
 * most it_lim dual simplex pivots; *bound is the Lagrangian of wherever the
 * simplex stopped, proven for every choice within the current states
 * (minimisation form). The last solved node's solution, duals and basis are
 * put back. Returns 1 when the child's LP was solved to its optimum, 0 when
 * not (the bound holds all the same), or FX_CLEAR_ENOMEM. */
int cl_lp_bb_probe(struct cl_lp *lp, int64_t coverage, int it_lim, int64_t *bound,
                   long *pivots);
/* Proven bound of the last solved node with offer i restricted to column
 * col (on) or col excluded (!on), from its multipliers, without solving
 * (minimisation form, as cl_lp_bb_solve). */
int64_t cl_lp_bb_child(const struct cl_lp *lp, size_t i, size_t col, bool on);
/* A test that settles most cl_lp_bb_child(lp, i, col, on) >= u without
 * the bound (cl_lp_bb_reach sets it up for the last solved node and u):
 * cl_reach_below true means the child's bound is below u. The node's
 * Lagrangian terms and a threshold on a child's term less its offer's. */
struct cl_reach {
  const long double *val, *best;
  long double t, dmax;
  bool on; /* false: nothing settled */
};
void cl_lp_bb_reach(const struct cl_lp *lp, int64_t u, struct cl_reach *r);
/* off: only for an offer none of whose columns must be ordered (lo > 0:
 * then the child is INT64_MAX); nothing ordered is a 0 term there, so
 * the child's d is at least −best[i]. */
static inline bool cl_reach_below(const struct cl_reach *r, size_t i, size_t col, bool on) {
  if (!r->on) return false;
  long double d = on ? r->val[col] - r->best[i] : -r->best[i];
  return d >= r->t && d <= r->dmax;
}
/* Is offer i fractional in the last LP solution? 1: split, or below its
 * minimum (col: its largest column); 2: col's factor between two
 * hundredths (cl_lp_bb_floor: the lower); 0: neither. up: rounding would
 * raise it; dist: how far rounding moves it (as a share of full factor). */
int cl_lp_bb_frac(const struct cl_lp *lp, size_t i, size_t *col, bool *up, double *dist);
/* The first offer from *i on that cl_lp_bb_frac finds fractional, its
 * answer returned (*i: that offer; n_offers, 0 returned, when none is). */
int cl_lp_bb_frac_next(const struct cl_lp *lp, size_t *i, size_t *col, bool *up, double *dist);
int cl_lp_bb_floor(const struct cl_lp *lp, size_t col);
double cl_lp_bb_value(const struct cl_lp *lp, size_t col); /* its LP value */
double cl_lp_bb_x(const struct cl_lp *lp, size_t col);
double cl_lp_deadline(const struct cl_lp *lp); /* cl_lp_create's (0: none) */
void cl_lp_bb_state(const struct cl_lp *lp, struct cl_state *st);

/* Branch-and-bound on the offers the LP leaves fractional (clear_bb.c).
 * On cost: improves *best keeping its coverage at least, and returns in
 * bound a proven bound on the cost of every choice covering >= best->cov
 * (bound: the one known before). On coverage: improves *best
 * (cl_state_better at target) and returns a proven coverage bound. */
struct cl_bb_out {
  int64_t bound;
  int nodes;
  long pivots;
  int sb_probes;   /* look-aheads (one child each) */
  long sb_pivots;  /* their share of pivots */
  int sym_closed;  /* nodes the symmetry rule left empty, closed unsolved */
  int rins, rins_improved; /* neighbourhood searches from a node (round 13), improving */
  int reprices;    /* raises of the elastic slacks' price at integral nodes (round 13) */
  bool warm;       /* the proof's reduced LP started from the full LP's basis (round 14) */
  int plunge_aborts;  /* plunges stopped by bb_plunge_abort (round 17) */
  int plunge_longest; /* nodes in the longest plunge (a popped node and the children after it) */
  int rounds, rounds_improved; /* the every-8th node's roundings (fractional nodes), improving */
  int round_backoffs; /* times their period doubled after failures (bb_round_backoff) */
  int round_resets;   /* improving roundings that brought a doubled period back to 8 */
  bool budget_hit;
};
/* The least cost v that u is within share g of (u − v <= g·max(|v|, the
 * gap's floor), as the gaps are measured): a choice costing v or more
 * cannot take a proof of u past g. u itself where g <= 0 or u <= 0. */
int64_t cl_bb_cutoff(int64_t u, double g);
/* For the tests: the branch-and-bound's node ranges, kept from node to
 * node, against their recomputation from scratch on visits random trees
 * over md's columns (sym: under md's symmetry classes); lp a begun
 * branch-and-bound LP. The mismatches, or FX_CLEAR_ENOMEM. */
int cl_bb_apply_check(const struct cl_model *md, struct cl_lp *lp, bool sym, uint64_t seed,
                      int visits);
/* The share the proving search prunes by: bb_cutoff (clamped to 0..1)
 * times bb_gap. */
double cl_bb_cut_share(const struct fx_clear_params *p);
int cl_bb_run(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
              struct cl_state *best, int64_t target, int64_t bound, bool coverage,
              struct cl_bb_out *out);
/* Sub-markets (clear_sub.c): improve best (cheaper, covering at least as
 * much, every bound kept) by clearing again the offers on which it and the
 * LP's last solution (lp, read only) disagree, the others fixed. n_free:
 * how many offers that left free. deadline: as cl_lp_create's. Proves
 * nothing. */
int cl_rins(const struct cl_model *md, const struct cl_lp *lp, const struct fx_clear_params *p,
            double deadline, struct cl_state *best, int *n_free);
/* cl_rins from inside the proof's branch-and-bound (round 13,
 * proof_rins_node): lp holds the node's LP solution; proof_rins_swap_share
 * of local_search_work; *better when best got cheaper. */
int cl_node_rins(const struct cl_model *md, const struct cl_lp *lp,
                 const struct fx_clear_params *p, struct cl_state *best, bool *better);
/* Window neighbourhoods (clear_sub.c, round 9): windows of lns_width ISPs
 * slide by half a width over the span the columns cover; in each, the
 * offers lying wholly inside it or touching the Requested ISP best leaves
 * the most short are cleared again as a sub-market (the rest fixed, as in
 * cl_rins), unless reduced-cost fixing with the cost lb + lns_share ·
 * (best's − lb) excludes every option of theirs (lp after
 * cl_lp_cost_bound(lp, best->cov) with bound lb; its solution is left as
 * it was). Passes repeat while one improves, up to lns_passes, and stop
 * once the windows' branch-and-bound nodes reach lns_work. best only gets
 * cheaper, covering at least as much and keeping every bound. Proves
 * nothing. */
struct cl_lns_out {
  int windows, improved, nodes, max_free;
};
int cl_lns_windows(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                   double deadline, int64_t lb, struct cl_state *best, struct cl_lns_out *out);
/* The proof for markets above bb_max_offers (clear_sub.c): reduced-cost
 * fixing at the root (after cl_lp_cost_bound(lp, best->cov)) with the
 * answer's cost, then branch-and-bound on cost over the reduced market only
 * (p's bb limits). Improves best (keeping its coverage at least) and gives
 * in out->bound a proven bound on the cost of every choice covering >=
 * best->cov as it was (INT64_MIN when none). n_cols: the reduced market's
 * columns. */
int cl_reduced_bb(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                  double deadline, struct cl_state *best, struct cl_bb_out *out, int *n_cols);
/* The offers free_offer[i] cleared again as a sub-market with cl_rins's
 * budget, every other offer fixed at best's order (clear_sub.c, round 10);
 * best replaced (*better) when the whole keeps every bound, covers as much
 * and costs less. Proves nothing. */
int cl_sub_cross(const struct cl_model *md, const struct fx_clear_params *p, double deadline,
                 const bool *free_offer, struct cl_state *best, int *n_free, bool *better);
/* Crossover at the root (clear_prim.c, round 10): a second answer by the
 * dive polish from the LP's solution (lp after cl_lp_cost_bound(lp,
 * best->cov); put back), then the offers on which best, that answer and
 * root (when not NULL) do not all agree cleared again by cl_sub_cross.
 * best only gets cheaper, covering at least as much and keeping every
 * bound. Deterministic; proves nothing. */
struct cl_prim_out {
  int n_free;    /* offers the crossover left free */
  bool improved; /* it made best cheaper */
};
int cl_prim_cross(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                  double deadline, const struct cl_state *root, struct cl_state *best,
                  struct cl_prim_out *out);
/* Dive-and-fix polish (clear_lp.c, round 8): from the LP's current
 * solution (the root's after cl_lp_cost_bound, or a branch-and-bound
 * node's on cost), a dive that fixes the offers the LP splits or activates
 * below their minimum, then the factors rounded to hundredths by the LP a
 * share at a time, then the integer passes (repair, cl_nudge, cl_polish)
 * towards target. The result replaces st when it keeps every bound and is
 * better (cl_state_better at target), or st keeps none. Warm dual simplex
 * solves, pivot-limited; the LP's bounds, solution, duals and basis are
 * put back. Deterministic. */
int cl_lp_dive_polish(struct cl_lp *lp, struct cl_state *st, int64_t target);
/* The dive polish from the node LP cl_lp_bb_solve last solved (on cost),
 * on the node simplex (round 9): offers fixed round by round, factors
 * rounded by the LP, then repair, cl_nudge and cl_polish towards target,
 * into st. Only column bounds change, every solve warm and pivot-limited
 * (added to *pivots); the node's bounds, solution, duals, Lagrangian terms
 * and basis are put back. 1 when st holds a choice that keeps every bound
 * (its coverage may fall short of target; 2 when the LP's own rounding
 * reached target and the factor rounds were skipped), 0 when the dive found none or
 * cannot run (no node simplex, on coverage, past the deadline), or
 * FX_CLEAR_ENOMEM. Deterministic. */
int cl_lp_bb_dive(struct cl_lp *lp, struct cl_state *st, int64_t target, long *pivots);
/* cl_lp_bb_dive abandoned (0, *cut set) once one of its fix rounds' LPs
 * proves that no choice inside the round's fixings covering target costs
 * less than cutoff (round 11, ndv2; the incumbent's cost): a heuristic
 * cut-off, since the dive's answer may leave those fixings; it proves
 * nothing about the market. Until then the same dive, step for step;
 * cutoff INT64_MAX: never abandoned, cl_lp_bb_dive. */
int cl_lp_bb_dive_cut(struct cl_lp *lp, struct cl_state *st, int64_t target, int64_t cutoff,
                      long *pivots, bool *cut);
/* cl_lp_bb_dive_cut guided towards guide (round 16, gdive; a choice on
 * the same market, the incumbent): each fix round rounds the offers the
 * LP splits or runs below their minimum towards guide's choice (its
 * option kept, the factor free from its minimum; or nothing) instead of
 * to their largest option, except where the node's bounds exclude that.
 * The factor rounds and the integer passes are the unguided dive's.
 * guide NULL: cl_lp_bb_dive_cut, step for step. */
int cl_lp_bb_dive_guided(struct cl_lp *lp, struct cl_state *st, int64_t target, int64_t cutoff,
                         const struct cl_state *guide, long *pivots, bool *cut);
/* Tests (test_clear_nodec.c): the max-form Lagrangian bound of
 * multipliers mu, one per row of the LP in GLPK's numbering (clamped to
 * valid signs in place; cost: the cost objective, total: the coverage
 * row's right-hand side), with the factors a running branch-and-bound
 * allows; the rows of ISP t's power (A), coverage (B, 0: none) and the
 * total coverage; and (int64_t)ceill(x) as the bounds round, |x| <= 9e18. */
long double cl_lp_lagrangian(struct cl_lp *lp, double *mu, bool cost, double total);
/* The same as a look-ahead evaluates it: no terms recorded, and the last
 * node's terms and sum (the child bounds' inputs) left as they were. */
long double cl_lp_lagrangian_ahead(struct cl_lp *lp, double *mu, bool cost, double total);
void cl_lp_isp_rows(const struct cl_lp *lp, size_t t, int *a, int *b, int *total);
int64_t cl_lp_ceil(long double x);
/* Tests (test_clear_lag_skip.c): whether the Lagrangian walks every
 * column's entries (some column's ISP window is over 57 ISPs) rather than
 * its entries of nonzero multipliers by the window's mask. */
bool cl_lp_lag_wide(const struct cl_lp *lp);
/* Tests (test_clear_probe_spare.c): a look-ahead (cl_lp_bb_probe) that
 * copies the node's solution and duals away and back, as before round 23,
 * instead of writing its own to spare arrays; and the dual of row r (GLPK's
 * numbering) of the last node LP. */
void cl_lp_probe_copy(struct cl_lp *lp, bool copy);
/* Tests (test_clear_lazy_list.c): whether the lazy mode's list of offers
 * without their row holds exactly the offers of two or more columns whose
 * row P lacks, in offer order (1), or not (0); -1: no lazy copy running. */
int cl_lp_lazy_list_check(const struct cl_lp *lp);
/* Tests (test_clear_frac_mask.c): column c's value in the last LP solution
 * set to v, for the candidates' scans (cl_lp_bb_frac, cl_lp_bb_frac_next)
 * to read values no LP gives. */
void cl_lp_bb_set_x(struct cl_lp *lp, size_t c, double v);
double cl_lp_bb_dual(const struct cl_lp *lp, int row);
/* The coverage the search aims for, given a proven coverage bound. */
int64_t cl_lp_target(const struct cl_lp *lp, int64_t coverage_ub);
int cl_polish(struct cl_state *st, const struct cl_model *md, int64_t target);
/* Mend (round 16, short): while st is short of target, at most steps
 * steps, each the trial of least cost per W gained of one order raised
 * (to its next hundredth, or to 100) or moved to another of its offer's
 * options, the bounds it breaks then repaired as cl_repair would, over
 * the MEND_WIDTH columns that help a short ISP at the least cost per W
 * without the bounds. Fill stops where every raise breaks a bound; this
 * trades the order that breaks it for the raise. Gives up when the rest
 * of the shortfall at the last step's price would reach cap. Every bound
 * holds after a step when it held before; coverage never falls. */
int cl_mend(struct cl_state *st, const struct cl_model *md, int64_t target, int steps,
            int64_t cap);

double cl_now_ms(void);

#endif
