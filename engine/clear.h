/* clear.h — the clearing engine: one local market (one FlexRequest, N offers)
 * in, the orders to place out, with proven bounds beside the answer.
 *
 * Pure computation: no I/O, no codec, no store. The caller maps UFTP ISPs
 * (Start/Duration) to indices 0..n_isps-1, prices to 1e-4 currency units and
 * power to watts (positive = consumption), and offers to arrival order.
 * The rules are DESIGN.md §4; docs/clearing.md documents the model, the
 * rounding and the method. Everything the solver returns is judged on the
 * rounded values fx_clear_order_power() and fx_clear_order_price() give. */
#ifndef FX_ENGINE_CLEAR_H
#define FX_ENGINE_CLEAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors (negative returns). */
#define FX_CLEAR_EINVAL (-1) /* market or placed orders violate the documented limits */
#define FX_CLEAR_ENOMEM (-2)
#define FX_CLEAR_ESOLVER (-3) /* the LP library failed; no result */

/* Limits checked by fx_clear_solve (FX_CLEAR_EINVAL beyond them). */
#define FX_CLEAR_MAX_ABS_POWER INT64_C(1000000000000)   /* 1 TW per ISP value */
#define FX_CLEAR_MAX_ABS_PRICE INT64_C(100000000000000) /* 1e10 currency units */

enum fx_clear_disposition {
  FX_CLEAR_UNCONSTRAINED = 0, /* ISP absent from the request */
  FX_CLEAR_AVAILABLE,         /* Available, or listed without a Disposition */
  FX_CLEAR_REQUESTED,
};

struct fx_clear_isp {
  enum fx_clear_disposition disposition;
  int64_t min_power, max_power; /* W; ignored when UNCONSTRAINED */
};

struct fx_clear_request {
  size_t n_isps;
  const struct fx_clear_isp *isps; /* n_isps entries */
};

/* One OfferOption. Its power is a window of ISPs [first_isp, first_isp +
 * n_power); ISPs outside it (and zeros inside it) are 0 W. */
struct fx_clear_option {
  int64_t price; /* full activation, 1e-4 currency units, may be negative */
  int min_af;    /* MinActivationFactor in hundredths, 1..100 */
  size_t first_isp, n_power;
  const int64_t *power; /* W, n_power entries */
};

struct fx_clear_offer {
  size_t n_options;
  const struct fx_clear_option *options;
};

/* A market. Offers are in arrival order (index = rank; earlier wins ties).
 * base, when not NULL, holds per ISP the power already ordered in this market
 * (see fx_clear_residual): the bounds then apply to base + new orders and the
 * coverage counted is what the new orders add. */
struct fx_clear_market {
  struct fx_clear_request request;
  size_t n_offers;
  const struct fx_clear_offer *offers;
  const int64_t *base; /* n_isps entries or NULL */
};

/* Budget. Every limit is deterministic except time_limit_ms (0 = none, the
 * default), which makes the answer depend on the machine when it is hit. */
struct fx_clear_params {
  int lp_iteration_limit; /* simplex iterations per LP solve */
  int dive_rounds;        /* rounds of fix-and-resolve after the root LP */
  int time_limit_ms;      /* wall clock for the whole solve, 0 = none */
  size_t exact_max_offers; /* markets this small also get branch-and-bound */
  int exact_node_limit;    /* branch-and-bound nodes per run */
  /* Share of the proven maximum coverage the engine may give up for a lower
   * cost (DESIGN.md §4 counts coverage within 0.1 % of the maximum as
   * maximal). Default FX_CLEAR_TOLERANCE; 0 = most coverage first, exactly.
   * The answer never covers less than the merit-order heuristic. */
  double coverage_tolerance;
  /* Markets this small get three more dives that fix the LP's fractional
   * offers a share at a time (better answers, a few more LP solves). */
  size_t redive_max_offers;
  /* Markets this small get a local search after the dives: each order taken
   * out in turn, the need refilled without it, kept when better. Its budget
   * counts option evaluations (deterministic); 0 turns it off. */
  size_t local_search_max_offers;
  int local_search_work;
  /* Markets this small (and above exact_max_offers) get a branch-and-bound
   * on the offers the LP leaves fractional, for a proven cost bound above
   * the LP's and cheaper answers at the same coverage. It stops when the
   * proven cost gap is at most bb_gap, or after bb_node_limit nodes or
   * bb_pivot_limit simplex pivots (deterministic; 0 nodes = off). These
   * library defaults (150 offers, 2,000 nodes, 8,000 pivots) are the small
   * ones; the platform clears on a thread of its own and uses its [market]
   * configuration's, larger by default (engine/config.c, docs/clearing.md). */
  size_t bb_max_offers;
  int bb_node_limit;
  long bb_pivot_limit;
  double bb_gap;
  /* The share of bb_gap a cost branch-and-bound that proves (step 10 and
   * the proof of step 12; not the neighbourhood searches) prunes by
   * (round 12): a node, a look-ahead's child or an option whose bound is
   * within bb_cutoff·bb_gap of the incumbent is treated as no better.
   * The proven gap still holds, and ends at most bb_gap as before, but a
   * better answer inside that share is no longer searched for. 0 = off:
   * only what cannot beat the incumbent is pruned. */
  double bb_cutoff;
  /* Symmetry breaking (round 12, symm): offers identical in every option
   * the engine considers form a class (on coverage, identical but for the
   * price); every branch-and-bound (step 10, the proof's reduced market,
   * the neighbourhood searches) searches only the choices where an
   * earlier offer of a class ranks at least as high as a later one (none,
   * then option by option, factor by factor), which loses no cost or
   * coverage, and the answer's orders are dealt to a class's offers in
   * that order (the earlier arrival holds the order). */
  bool bb_symmetry;
  /* Node LPs without the offers' "one option" rows that the root leaves
   * slack; a row comes back once a node's LP splits its offer beyond one
   * (same LP optimum, a smaller basis; docs/clearing-rounds.md, round 5). */
  bool bb_lazy_rows;
  /* Node LPs (and look-aheads) solved by the engine's own bounded dual
   * simplex, which keeps its basis inverse from node to node, instead of
   * GLPK's, which sets itself up again at every call; GLPK stays the
   * fallback when it fails (docs/clearing-rounds.md, round 8). */
  bool bb_native_lp;
  /* Node candidates by dives on the node simplex (docs/clearing-rounds.md, round
   * 9): every bb_node_dive-th node's LP (default 16) is dived on (offers
   * fixed, factors rounded by the LP, then the integer polish) for a
   * candidate answer; needs bb_native_lp. 0 = off. */
  int bb_node_dive;
  /* A node dive is abandoned once one of its fix rounds' LPs proves that
   * nothing inside its fixings is cheaper than the incumbent: a heuristic
   * cut-off (the dive's answer may leave the fixings) that proves nothing
   * about the market (docs/clearing-rounds.md, round 11 ndv2). */
  bool bb_dive_cut;
  /* The root's dives (steps 5, 8 and 13 of docs/clearing.md) re-solved on
   * that simplex too, copied once per dive from GLPK's optimum; GLPK stays
   * the fallback (docs/clearing-rounds.md, round 9). */
  bool dive_native_lp;
  /* Reliability branching: of the bb_sb_cands candidates the pseudo-costs
   * rate best, those with fewer than bb_sb_reliable observations in a
   * direction get both children looked ahead by at most bb_sb_pivots dual
   * simplex pivots each (their Lagrangian bounds are proven; they set the
   * pseudo-costs and the children's bounds). 0 candidates = off. */
  int bb_sb_cands, bb_sb_reliable, bb_sb_pivots;
  /* Look-aheads only at nodes down to depth bb_sb_depth (0 = at every
   * depth); bb_sb_stop: a candidate's second child is not looked ahead
   * once its first reaches the incumbent, which decides the branching
   * anyway (docs/clearing-rounds.md, round 10 sbt). */
  int bb_sb_depth;
  bool bb_sb_stop;
  /* Once the proof's proven gap is within this share of the incumbent's
   * value (0 = never), a plunge goes on only into a child at the least
   * open bound (best first). Late in a proof the answer rarely moves and
   * the nodes only raise the bound, which best first does in the fewest
   * nodes. Step 12's proof only (searches with proof_rins_node > 0; the
   * sub-markets' and step 10's run with 0). Round 18, brch: 0.0013 (the
   * default; the proof ends at bb_gap 0.001), chosen by nodes on seeds
   * 0-143; on seeds 144-191 (x 0.4/1.2, 1,000 offers, held out) with
   * bb_jump_warm on 48.09 -> 44.08 G instructions (-8.3 %), 9,880 ->
   * 7,624 nodes, every proof kept. 0 = never (rounds 4-17). */
  double proof_best_first_gap;
  /* Markets above bb_max_offers (and exact_max_offers) and up to
   * rins_max_offers get their answer improved in a neighbourhood: the
   * offers on which it and the LP at its coverage agree are fixed, the rest
   * cleared as a small market with a branch-and-bound of rins_node_limit
   * nodes / rins_pivot_limit pivots (docs/clearing-rounds.md, round 6), then the
   * dive polish. Markets with the full branch-and-bound (bb_max_offers) do
   * without: its changed answer misleads that search. 0 nodes = off. */
  size_t rins_max_offers;
  /* Markets above bb_max_offers and up to proof_max_offers (default 2,000)
   * whose answer the neighbourhood search leaves above bb_gap get the
   * branch-and-bound on a reduced market, from the root's answer: the
   * options whose ordering alone proves a cost at or above that answer's
   * (reduced-cost fixing at the root) left out, with the bb_* limits; the
   * cheaper answer wins (docs/clearing.md, step 12). 0 = off. */
  size_t proof_max_offers;
  /* The proof before the neighbourhood search (round 10b): where the
   * root's answer is at least proof_first_ratio × bb_gap above its bound,
   * the proof (above) runs from it first, and the neighbourhood search,
   * the dive polish and the opt-in stages after it only where the proof
   * leaves the gap above bb_gap. The proof's search is the same either
   * way (it starts from the root's answer and LP); what the order saves
   * is those stages where it closes the gap. Below the ratio they run
   * first, since they often close a small gap alone (2,000 offers), and
   * the proof only where they leave it open. 0 = never first (before
   * round 10b). Default 2. lns_proof_start and cross_proof_start, which
   * ask the proof to start from those stages' answers, keep the old order. */
  double proof_first_ratio;
  /* The proof not first where the root's gap is above
   * proof_first_max_ratio × bb_gap (round 19, opt-in; 0 = no limit, the
   * default): there the neighbourhood search and the dive polish run
   * first, as below proof_first_ratio, and the proof, with
   * proof_rins_start, from their answer. On the bench's three sets
   * at 7 (0.7 %) 39 of 288 markets change, the hardest gain most, the sum
   * falls 1.4 % and the tuned set loses 0.35 %: luck of a few long proofs
   * (docs/clearing-rounds.md, round 19). */
  double proof_first_max_ratio;
  int rins_node_limit;
  long rins_pivot_limit;
  /* The neighbourhood search inside the proof (round 13): step 12's
   * branch-and-bound runs step 11's search once, from the LP solution of
   * its node proof_rins_node (rins_node_limit nodes, or
   * proof_rins_node_limit where set / rins_pivot_limit pivots,
   * proof_rins_swap_share of local_search_work; a tenth before round 16); a cheaper answer
   * lowers what the search prunes by from there on, and the search keeps
   * its tree.
   * Proves nothing. Default 30; 0 = off. */
  int proof_rins_node;
  /* Window neighbourhoods (docs/clearing-rounds.md, round 9; 0 = off, the
   * default): markets where the neighbourhood search runs, up to
   * lns_max_offers, whose answer is not proven within bb_gap after it and
   * the dive polish, then get windows of lns_width consecutive ISPs,
   * sliding by half a width over the span the offers cover: the offers
   * lying wholly inside the window, and those touching the Requested ISP
   * the answer leaves the most short, are cleared again, the rest fixed,
   * unless reduced-cost fixing at the root with the cost lns_share of the
   * way from the LP bound to the answer's excludes every option of theirs.
   * Each window gets a branch-and-bound of lns_node_limit nodes /
   * lns_pivot_limit pivots to a zero gap; passes repeat while one
   * improves, at most lns_passes, and stop once the windows' nodes reach
   * lns_work. lns_proof_start: the proof (proof_max_offers) starts from
   * the windows' answer instead of the root's. Deterministic. */
  size_t lns_max_offers;
  int lns_width;
  double lns_share;
  int lns_node_limit;
  long lns_pivot_limit;
  int lns_passes;
  int lns_work;
  bool lns_proof_start;
  /* Crossover at the root (round 10, opt-in; 0 = off): on markets that get
   * step 11's neighbourhood search, up to cross_max_offers, the offers on
   * which the root's answers (the dive's, the neighbourhood search's and a
   * dive polish's) do not all agree are cleared again as a sub-market with
   * the neighbourhood search's budget. cross_proof_start: the proof starts
   * from its answer instead of the root's. Deterministic. */
  size_t cross_max_offers;
  bool cross_proof_start;
  /* The proof from the neighbourhood search's answer (round 19): where
   * step 11's search and step 13's dive polish run before the proof (the
   * root's gap below proof_first_ratio × bb_gap; everywhere with ratio 0),
   * the proof starts from their answer instead of the root's; its bound
   * is at that answer's coverage, which the final answer keeps. Default
   * on; false: from the root's answer, as before round 19. */
  bool proof_rins_start;
  /* The proof's reduced LP from the full LP's basis (rounds 10 and 14;
   * default on since round 14): the cost-bound optimum of the whole
   * market, restricted to the reduced market's rows and columns, starts
   * the reduced cost bound (no phase 1 from the answer) where GLPK finds
   * it dual feasible. Another optimal vertex, so another search. */
  bool proof_warm_basis;
  /* The root's maximum-coverage LP (step 3's phase 1) on the engine's own
   * dual simplex (round 15): cover order's choice with every row basic
   * and the coverage columns at their caps is dual feasible (the options
   * cost nothing), so the dual simplex repairs the coverage rows it leaves
   * short; its optimum goes back to GLPK for the least cost at the cap.
   * Only where cover order starts phase 1 (above redive_max_offers) and
   * up to root_native_phase1_max_offers offers; GLPK's primal simplex
   * whenever the copy refuses or fails. Another optimal vertex, so another
   * search downstream. Default on, up to 2,000 offers (round 15: 96 markets
   * of 1,000 offers 4 % fewer instructions than with it off; at 10,000
   * offers K outgrows the copy and the wasted pivots cost 1 s). */
  bool root_native_phase1;
  size_t root_native_phase1_max_offers;
  /* The neighbourhood search inside the proof a second time (round 15,
   * srcs): at node proof_rins_again, from that node's LP, as at
   * proof_rins_node (and only where that one is on). By then the dives
   * have usually moved the incumbent, so the two disagree on other
   * offers. Proves nothing. Default 100; 0 = once. */
  int proof_rins_again;
  /* The neighbourhood search inside the proof once more when the proof
   * is late (round 19, ans19): proof_rins_late_wait nodes after the
   * first node after proof_rins_node where the proven gap is within
   * proof_best_first_gap of the incumbent's value, from that node's LP
   * (best first by then: the least bound's). Late, the bound is near and
   * a cheaper answer often ends the proof at once; the wait leaves out
   * the proofs that end soon anyway, where the search costs more (40-60 M
   * instructions, about 22 nodes) than it can save. Only where
   * proof_rins_node is on. Default off (wait 30 when on): on the three
   * sets of 96 markets of 1,000 offers it was chosen on (seeds 0-143 x
   * 0.4/1.2) 137.13 -> 134.79 G instructions (-1.77 / -2.00 / -1.35 %
   * per set), every proof kept, but the sums rode on a few long proofs
   * (up to -926 M, a 1,042-node proof down to 592) against 40-67 M for
   * each search that finds nothing; on seeds 144-239, held out, +0.17 /
   * +0.83 % with nodes -4.2 / -3.0 % (docs/clearing-rounds.md round 19). */
  bool proof_rins_late;
  int proof_rins_late_wait;
  /* The neighbourhood search inside the proof again whenever the proof
   * stalls (round 19, ans19): after node proof_rins_again, at a node
   * proof_rins_stall nodes after both the incumbent's last improvement
   * and the last search. Only long proofs get it. 0 = off. */
  int proof_rins_stall;
  /* Look-ahead candidates in the proof's branch-and-bound (step 12, and the
   * node searches' sub-markets inside it) instead of bb_sb_cands (round
   * 15, srcs: 24 changed 13 of 96 measured markets, all at 0.4x, for
   * 3.5-5.7 % fewer instructions; identical elsewhere). 0 = bb_sb_cands. */
  int proof_sb_cands;
  /* The local search's share in the proof's node searches (round 16,
   * xover): those searches' sub-markets get proof_rins_swap_share of
   * local_search_work (0.1 in rounds 13-15). Of 101 node searches on 96
   * markets of 1,000 offers it made 7 cheaper after the sub-market's
   * branch-and-bound, at 4-11 % of a search's instructions; without it
   * 31 of 32 markets gave the same nodes and answer. Default 0 (off). */
  double proof_rins_swap_share;
  /* The node limit of the proof's node searches' sub-market
   * branch-and-bound (round 16, xover); 0 = rins_node_limit (100). 80 of
   * 101 such searches on 96 markets of 1,000 offers ran to their 100
   * nodes. 50 (with proof_rins_swap_share 0) won on the tuned seeds 0-47
   * (32 markets 17.09 -> 16.65 G instructions, 64 more 31.36 -> 31.28 G)
   * and lost on fresh seeds 48-95 (53.27 -> 53.90 G, answers dearer on 26
   * of 96 and cheaper on 14): it moves the proof's search on a third of
   * the markets, luck both ways. Default 0. */
  int proof_rins_node_limit;
  /* Guided node dives (round 16, gdive): every bb_guided_dive-th node,
   * half of bb_node_dive after the plain dives' nodes, a node dive that
   * rounds the offers its LP splits towards the incumbent's choice
   * instead of to their largest option, in addition to the plain dives.
   * Proves nothing. 0 = off (the default: fewer nodes, more instructions
   * on the 96 markets measured). */
  int bb_guided_dive;
  /* Mending short candidates (round 16, short): a node dive's answer that
   * costs less than the incumbent but covers less than the search's
   * coverage is mended (cl_mend: at most bb_mend_steps
   * steps, each one order raised or moved to another option, then the
   * bounds repaired, the least cost per W gained first) and polished, and
   * taken when it then covers enough and still costs less, where the
   * shortfall is at most bb_mend_short_ppm millionths of the coverage.
   * bb_mend_steps 0 = off, the default: 8 steps gave fewer instructions
   * in total on 192 markets but more on most of them, the totals carried
   * by a few long proofs (docs/clearing-rounds.md, round 16). */
  int bb_mend_steps;
  double bb_mend_short_ppm;
  /* Bounded plunges (round 17, plng). After a node branches, the search
   * plunges into one child; with bb_plunge_abort = a > 0 it does not when
   * that child's bound exceeds the least open bound lb by more than
   * a·(cutoff − lb): the child goes open (keeping its bound) and the least
   * bound is popped instead. Unbounded, a plunge on the bench's 1.2×
   * market ran 115 nodes deep while the least open bound stood still.
   * 0.6 (the default) on 96 markets of 1,000 offers never tuned on (seeds
   * 96-143): 53.47 -> 49.44 G instructions, fewer on 64 of 96; on seeds
   * 48-95 -6.6 %, on the tuned seeds 0-47 +1.8 % (three long proofs at
   * 0.4x; at 1.2x -4.2 %). 0 = plunges unbounded (rounds 4-16). */
  double bb_plunge_abort;
  /* Jumps from the parent's basis (round 18, jump). A node popped from
   * the open list rather than plunged into starts the node simplex from
   * the basis its parent ended with (kept when the parent branched), not
   * from the last node's, when bb_jump_warm > 0 and the node's ranges
   * differ from the last node's in at least bb_jump_warm columns.
   * Jumps took 56 % of the node LPs' pivots on seeds 0-15 (x 0.4/1.2),
   * about 29 a jump against 4-5 a plunge. 1 (the default): 1,000 offers,
   * seeds 0-47 / 48-95 / 96-143 (x 0.4/1.2): 49.87 / 50.27 / 49.44 ->
   * 48.63 / 49.32 / 47.51 G instructions (-2.5 / -1.9 / -3.9 %), pivots
   * -19 %, every proof kept; the same search on 246 of 288 markets (a
   * different start may end at another optimal basis of a degenerate LP:
   * other duals, bounds and branchings). 0 = off (rounds 8-17). */
  int bb_jump_warm;
  /* The every-8th node's rounding backs off (round 20, heur20). On cost,
   * from node bb_round_backoff_node on, once bb_round_backoff roundings
   * in a row have not improved the incumbent their period doubles (8, 16,
   * 32, ...; at most bb_round_period_max); one that improves it brings
   * the period back to 8. Late in long proofs the rounding almost never
   * pays (seeds 0-15 and the 38 slowest of 0-143: 16 improvements in
   * 1,899 roundings, none after node 481, at 3.4 M instructions a call),
   * while dives keep finding answers; a skipped rounding that would not
   * have improved leaves the search as it was. Integral nodes are always
   * rounded. bb_round_backoff 0 = every 8th node (rounds 4-19). */
  int bb_round_backoff;
  int bb_round_backoff_node;
  int bb_round_period_max;
};

void fx_clear_params_init(struct fx_clear_params *p);

struct fx_clear_order {
  size_t offer;   /* index into market.offers */
  size_t option;  /* index into that offer's options */
  int factor;     /* ActivationFactor in hundredths, min_af..100 */
  int64_t price;  /* fx_clear_order_price(option price, factor) */
};

struct fx_clear_result {
  size_t n_orders;
  struct fx_clear_order *orders; /* by ascending offer index */
  int *option;                   /* per offer: chosen option or -1 */
  int *factor;                   /* per offer: hundredths, 0 when none */
  size_t n_isps;
  int64_t *ordered;              /* per ISP: sum of the new orders' power, W */
  int64_t need;                  /* sum over Requested ISPs of what is needed, W */
  int64_t coverage;              /* what the orders cover of it, W */
  int64_t coverage_ub;           /* proven: no feasible choice covers more */
  int64_t cost;                  /* sum of order prices, 1e-4 units */
  int64_t cost_lb;               /* proven: no choice covering >= coverage costs less */
  double coverage_gap;           /* (coverage_ub - coverage) / max(coverage_ub, 1 kW) */
  double cost_gap;               /* (cost - cost_lb) / max(|cost_lb|, 1 currency unit) */
  bool optimal;                  /* both gaps <= FX_CLEAR_TOLERANCE */
  bool budget_hit;               /* a limit of fx_clear_params stopped the search */
  int lp_solves;                 /* LPs solved (for the bench) */
  int bb_nodes;                  /* branch-and-bound nodes solved */
  long bb_pivots;                /* and their simplex pivots */
  int rins_free;                 /* offers the neighbourhood search cleared again */
  int lns_windows;               /* window neighbourhoods cleared */
  int lns_improved;              /* of which made the answer cheaper */
  int proof_cols;                /* options left in the proof's reduced market */
  int cross_free;                /* offers the root's crossover cleared again (round 10) */
  bool cross_improved;           /* and whether that made the answer cheaper */
  bool proof_rins;               /* the proof ran its neighbourhood search (round 13) */
  bool proof_rins_improved;      /* and it made the answer cheaper */
  bool proof_warm;               /* the proof's reduced LP started from the whole market's basis */
};

#define FX_CLEAR_TOLERANCE 0.001 /* 0.1 %: DESIGN.md §4 */
#define FX_CLEAR_GAP_FLOOR_W 1000       /* gap denominators never below these */
#define FX_CLEAR_GAP_FLOOR_PRICE 10000

/* Clear a market. params may be NULL (defaults). On success returns 0 and
 * fills *res (free it with fx_clear_result_free); on error returns a negative
 * FX_CLEAR_E* and leaves *res empty. Deterministic: the same market and
 * params without a time limit give the same result. */
int fx_clear_solve(const struct fx_clear_market *m, const struct fx_clear_params *params,
                   struct fx_clear_result *res);
void fx_clear_result_free(struct fx_clear_result *res);

/* Asks the C library to keep the memory a clearing frees inside the
 * process, for the next clearing to reuse. A clearing of 1,000 offers
 * allocates and frees about 10 MB, much of it in blocks glibc would return
 * to the kernel (mmap'd above 128 KB, or trimmed off the heap's top); the
 * next clearing then faults every page in again, and on the project's
 * virtual machine those ~700 page faults cost about 10 ms a clearing, a
 * tenth of it (docs/clearing.md, "Memory"). Blocks up to 32 MB come from
 * the heap and up to 128 MB of free heap is kept. Process-wide: call once,
 * before starting threads (glibc's malloc settings may not change while
 * other threads allocate). flexd's main does where flexd is built on
 * glibc's malloc (it normally runs on jemalloc, which keeps freed memory
 * by itself). Returns 0, or -1 where the C library is not glibc or refused
 * (nothing changes then). */
int fx_clear_keep_memory(void);

/* The rounding every bound and price is judged on (DESIGN.md §4):
 * power = round-half-away-from-zero(factor/100 × power) W,
 * price = factor/100 × price rounded half away from zero to 1e-4 units
 * (Java's RoundingMode.HALF_UP, which UFTP implementations use). */
int64_t fx_clear_order_power(int64_t power, int factor);
int64_t fx_clear_order_price(int64_t price, int factor);

/* An order already placed in the market: the option it ordered (from an offer
 * no longer in the market's offer list) and its factor. */
struct fx_clear_placed {
  const struct fx_clear_option *option;
  int factor;
};

/* Residual need after placed orders, for re-clearing after a new FlexRequest
 * revision or a rejected order. For the request of m (m->offers and m->base
 * are ignored), fills per ISP:
 *   ordered[t]  = the placed orders' total power (exact rounding), W;
 *   residual[t] = for a Requested ISP, the need still uncovered, signed in
 *                 the requested direction (0 when covered); 0 elsewhere.
 * To re-clear, pass the same request with base = ordered and the remaining
 * offers: bounds then apply to base + new orders (widened to admit buying
 * nothing if the placed orders already break a revised bound), and only
 * coverage beyond what base already covers counts. Either output may be NULL.
 * Returns 0 or FX_CLEAR_EINVAL (bad factor, window outside the request). */
int fx_clear_residual(const struct fx_clear_market *m, const struct fx_clear_placed *placed,
                      size_t n_placed, int64_t *ordered, int64_t *residual);

#endif
