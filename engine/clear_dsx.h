/* clear_dsx.h — a bounded dual simplex that keeps its state between solves,
 * for the branch-and-bound's node LPs (clear_lp.c, bb_native_lp).
 *
 * It copies a GLPK problem once, with the problem's basis (a dual feasible
 * one: the root's optimum), and then re-solves after column bound changes
 * and appended rows without rebuilding anything: a dense explicit inverse of
 * K, the part of the basis that is not rows' own slacks (the node LPs have
 * 100-300 rows, K a third of them), less the offers' rows that are tight
 * with one basic column (generalised upper bounds: solved by a division),
 * refactorised every 200 pivots. Rows and
 * columns are numbered as in GLPK (from 1), and rows are only ever
 * appended, so the two stay in step; GLPK remains the fallback
 * (cl_dsx_to_glpk hands it the basis). Nothing here proves anything: the
 * caller's bounds are Lagrangian, valid for any multipliers. */
#ifndef FX_ENGINE_CLEAR_DSX_H
#define FX_ENGINE_CLEAR_DSX_H

#include <glpk.h>
#include <stdbool.h>
#include <stdint.h>

struct cl_dsx;
struct cl_dsx_snap;
struct cl_lp;

enum {
  CL_DSX_OPT = 0,   /* optimal */
  CL_DSX_ITLIM = 1, /* the pivot limit stopped it; duals still dual feasible */
  CL_DSX_FAIL = 2   /* numerical trouble, infeasible, or not dual feasible: ask GLPK */
};

/* Copy P (its rows' scaling, bounds, objective and basis). 0, or
 * FX_CLEAR_ENOMEM, or CL_DSX_FAIL when the basis is singular or not dual
 * feasible, or P's columns are scaled; *d is NULL unless 0. */
int cl_dsx_create(struct cl_dsx **d, glp_prob *P);
void cl_dsx_free(struct cl_dsx *d);
/* Column j's bounds (lo == hi: fixed). Queued: the next call that reads
 * or moves the state takes them in, in order, as if set one at a time;
 * cl_dsx_basis_set takes them in without the catch-ups its pricing makes
 * moot (so the readers below are not const). */
void cl_dsx_set_col(struct cl_dsx *d, int j, double lo, double hi);
/* Append the row Σ val·x <= hi over columns ind[1..n], its slack basic
 * (the row may be violated: the dual simplex's to fix). */
int cl_dsx_add_row(struct cl_dsx *d, int n, const int *ind, const double *val, double hi);
/* Dual simplex from the current basis, at most it_lim pivots (added to
 * *pivots). devex: price by dual Devex weights (more dual objective per
 * pivot, for a look-ahead cut short), else by the largest infeasibility.
 * CL_DSX_OPT, _ITLIM or _FAIL; _OPT and _ITLIM only with every value and
 * dual finite (overflow fails). */
int cl_dsx_solve(struct cl_dsx *d, int it_lim, bool devex, long *pivots);
double cl_dsx_obj(struct cl_dsx *d);
double cl_dsx_col_prim(struct cl_dsx *d, int j);
/* As glp_get_row_dual would report it. */
double cl_dsx_row_dual(const struct cl_dsx *d, int i);
int cl_dsx_rows(const struct cl_dsx *d);
/* Every row's dual as cl_dsx_row_dual reports it (lam[1..m]), and, unless
 * x is NULL, columns first..first+n-1's values over scale (x[0..n-1]):
 * the same values in one call, not one call per entry. */
void cl_dsx_read(struct cl_dsx *d, double *lam, double *x, int first, size_t n, double scale);
/* Put the basis into P (same shape), for GLPK to go on from it. */
void cl_dsx_to_glpk(struct cl_dsx *d, glp_prob *P);
/* The basis and its inverse, for a look-ahead to put back. */
int cl_dsx_save(struct cl_dsx *d, struct cl_dsx_snap **s);
void cl_dsx_restore(struct cl_dsx *d, const struct cl_dsx_snap *s);
void cl_dsx_snap_free(struct cl_dsx_snap *s);
/* Columns first..first+n-1's bounds as set (cl_dsx_set_col's lo, hi:
 * GLPK's lb and ub, bit for bit), into lo[0..n-1] and hi[0..n-1]. */
void cl_dsx_col_bounds(struct cl_dsx *d, int first, size_t n, double *lo, double *hi);
/* cl_dsx_restore after columns first..first+n-1's bounds are set to lo,
 * hi (as cl_dsx_set_col after every bound queued), without placing them:
 * the snapshot puts back what placing would change. */
void cl_dsx_restore_cols(struct cl_dsx *d, const struct cl_dsx_snap *s, int first, size_t n, const double *lo,
                         const double *hi);
/* The basis as one byte per variable (columns, then rows; 1: basic),
 * cl_dsx_basis_len of them, for cl_dsx_basis_set to start from later. */
int cl_dsx_basis_len(const struct cl_dsx *d);
void cl_dsx_basis_get(const struct cl_dsx *d, signed char *st);
/* Start from basis st (len bytes from cl_dsx_basis_get; rows appended
 * since have their slacks basic) at the current bounds: K refactorised,
 * priced, nonbasic columns to the bounds their reduced costs ask.
 * CL_DSX_OPT when taken; CL_DSX_ITLIM when it is singular or not dual
 * feasible (the current one kept, refactorised; old: scratch of
 * cl_dsx_basis_len bytes) or longer than the variables (untouched);
 * CL_DSX_FAIL when neither holds. */
int cl_dsx_basis_set(struct cl_dsx *d, const signed char *st, int len, signed char *old);
/* For tests and figures: the order of the inverse kept (K without the
 * pairs) and the pairs, offers' rows ("Σ x <= 1" with one basic column,
 * tight) that the simplex handles by a division each instead. */
void cl_dsx_shape(const struct cl_dsx *d, int *k, int *pairs);
/* For tests and figures, since cl_dsx_create: the parked columns
 * cl_dsx_basis_set freed without catching up their reduced costs, and
 * the ties among them it settled from the log (late_status). */
void cl_dsx_late_counts(const struct cl_dsx *d, long *late, long *ties);
/* A solve whose inverse grows beyond order kmax fails (CL_DSX_FAIL, the
 * caller's GLPK takes over): each pivot costs O(k²), a refactorisation
 * O(k³), and where K grows into the thousands (the root of 10,000 offers
 * at 1.2×) GLPK's sparse LU is far cheaper. 0 (the default): no limit. */
void cl_dsx_set_kmax(struct cl_dsx *d, int kmax);

/* For tests: the work vectors a solve keeps zero between its uses are
 * zero (cleared where they were written instead of in full per pivot: a
 * missed entry would corrupt a later pivot): the rows' accumulators, the
 * row of the inverse off its list, the pivot row on every nonbasic
 * column. */
bool cl_dsx_scratch_clean(const struct cl_dsx *d);
/* For tests: put bases back as before round 21 (plain: every variable
 * scanned, placed and refactorised; no factorisation kept), to hold the
 * short cuts to; and whether two copies' states are the same bits (every
 * status, value, reduced cost, dual, the inverse, its slots and pairs,
 * the rows' parked ends, the log's length). */
void cl_dsx_set_plain(struct cl_dsx *d, bool plain);
/* For tests: the pivot row's scatter, the ratio test's gather and the
 * duals' update as before round 22 (plain loops, the baseline's code), to
 * hold the faster copies to. */
void cl_dsx_set_plain_row(struct cl_dsx *d, bool plain);
bool cl_dsx_same_state(const struct cl_dsx *a, const struct cl_dsx *b);
/* For tests and figures, since cl_dsx_create: the refactorisations that
 * took K's inverse from the one kept at the last basis put back. */
long cl_dsx_fact_hits(const struct cl_dsx *d);
/* For tests, since cl_dsx_create: the moving variables with a nonzero
 * alpha that the ratio test's gather took past its branch-free path (a
 * fixed row's variable, which never enters; a free one), counted by the
 * faster copy alone (not under cl_dsx_set_plain_row). */
void cl_dsx_gather_rare(const struct cl_dsx *d, long *fixed, long *free);

/* For tests (defined in clear_lp.c): the objective of the branch-and-bound
 * node's LP last solved by cl_lp_bb_solve, whichever simplex solved it
 * (the native simplex's summed when asked: ask before the LP moves on); the
 * node LP's rows (lazy rows come back); how many node LPs the native
 * simplex solved itself since cl_lp_bb_begin. */
double cl_lp_bb_objval(const struct cl_lp *lp);
int cl_lp_bb_rows(const struct cl_lp *lp);
long cl_lp_bb_native(const struct cl_lp *lp);

/* Row i's bounds, unscaled as GLPK's (-HUGE_VAL / HUGE_VAL: none; lo ==
 * hi: fixed). false when the basis is then not dual feasible (a tight row
 * lost the bound its reduced cost holds it at): the copy must not be
 * solved, GLPK must take over. */
bool cl_dsx_set_row(struct cl_dsx *d, int i, double lo, double hi);
/* For tests (clear_lp.c): the root's LPs the native simplex solved under
 * dive_native_lp (the dives' and the polish's warm re-solves, the least
 * cost at the cap), and the dives' re-solves GLPK solved, since
 * cl_lp_create. */
long cl_lp_dive_native(const struct cl_lp *lp, long *glpk);

#endif
