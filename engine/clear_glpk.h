/* clear_glpk.h — the one GLPK call the clearing guards, shared by
 * clear_lp.c and its tests.
 *
 * GLPK's simplex can stall on a degenerate vertex: the reduced market of
 * a 1,000-offer market, started from an answer's cover (docs/clearing.md,
 * "Stalls"), ran 200,000 primal pivots (7 s) under projected steepest
 * edge without proving the optimum that Dantzig's rule reaches in 232. */
#ifndef FLEXD_ENGINE_CLEAR_GLPK_H
#define FLEXD_ENGINE_CLEAR_GLPK_H

#include <glpk.h>
#include <stdbool.h>

/* The pivots a guarded solve runs under the pricing asked: (rows +
 * columns) / 2 + 1000. It was 2 (rows + columns) + 1000 until round 14
 * (groot): the proof's reduced market of BB_SEED=37 × 1.2 at 1,000
 * offers (292 rows, 908 columns) then ran its phase 1 3,400
 * steepest-edge pivots into a stall before Dantzig's rule ended it in
 * 181 (1.83 G instructions for the run, 1.12 G with this cap, the same
 * answer). Every other solve measured ends at least 900 pivots below it
 * (at most 0.65 (rows + columns), on small LPs), so nothing else
 * changes: 96 markets of 1,000 offers (seeds 0–47 × 0.4/1.2; of their
 * 870 solves that one alone passed 700 pivots), 64 of 100 and 300
 * offers, 8 of 2,000 and 2 of 10,000. */
int cl_glpk_stall_cap(int rows, int cols);

/* glp_simplex(P, parm) with a stall guard: where parm's iteration limit is
 * above cl_glpk_stall_cap, that many pivots run under parm's
 * pricing and, if they do not end the solve, the rest of the limit runs
 * under the other rule (Dantzig's ↔ projected steepest edge) from the
 * basis the solve started at (from where steepest edge stalled, Dantzig's
 * rule stalls too); *switched says so. Where the other rule stalls as
 * long too, the rest of the limit goes to the other method (primal ↔
 * two-phase dual) from that basis: fuzz_clear found a 10-offer market with
 * powers from 2 W to 8 GW whose primal simplex cycles under both rules
 * (200,000 pivots each, seconds) where the dual ends in ~40 pivots
 * (tests/test_clear_fuzzfound.c). parm is left as it came.
 * Deterministic: pivot counts only. */
int cl_glpk_simplex(glp_prob *P, glp_smcp *parm, bool *switched);

#endif
