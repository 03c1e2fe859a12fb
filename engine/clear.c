/* clear.c — fx_clear_solve and friends: the public face of the clearing
 * engine (engine/clear.h).
 *
 * The pipeline: normalise the market (clear_model.c); solve the LP relaxation
 * and dive to an integer choice (clear_lp.c); make that choice hold on the
 * rounded values and polish it (clear_heur.c); run the merit-order heuristic
 * beside it and keep the better of the two; on smaller markets dive again,
 * a share of the fractional offers at a time, and improve the best answer by
 * local search; then prove bounds for the answer, and on markets up to
 * bb_max_offers branch (clear_bb.c): on coverage if the answer falls short
 * of the target, then on cost, for better answers and tighter proofs. Larger
 * markets whose root answer falls short of the target get the coverage
 * phase too, and the offers on which that answer and the covering one
 * disagree cleared again for cost (round 11); then a neighbourhood search
 * instead of branching (clear_sub.c: the offers the
 * answer and the LP disagree on, cleared again as a small market; opt-in,
 * windows of ISPs cleared again the same way) and a
 * dive from the cost bound's LP that the LP rounds (clear_lp.c; opt-in,
 * the offers on which the root's answers disagree cleared again after it:
 * clear_prim.c), or, up
 * to proof_max_offers, branch-and-bound on the market that reduced-cost
 * fixing at the root leaves. docs/clearing.md explains why this shape. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "engine/clear_internal.h"

int fx_clear_keep_memory(void) {
#ifdef __GLIBC__
  /* 32 MB is the largest mmap threshold glibc accepts on 64-bit; setting it
   * also stops glibc's own adjustment of both thresholds. */
  if (mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 128 << 20))
    return 0;
#endif
  return -1;
}

void fx_clear_params_init(struct fx_clear_params *p) {
  p->lp_iteration_limit = 200000;
  p->dive_rounds = 25;
  p->time_limit_ms = 0;
  p->exact_max_offers = 40;
  p->exact_node_limit = 20000;
  p->coverage_tolerance = FX_CLEAR_TOLERANCE;
  p->redive_max_offers = 400;
  p->local_search_max_offers = 400;
  p->local_search_work = 200000;
  p->bb_max_offers = 150;
  p->bb_node_limit = 2000;
  p->bb_pivot_limit = 8000;
  p->bb_gap = FX_CLEAR_TOLERANCE;
  p->bb_cutoff = 0.5;
  p->bb_symmetry = true;
  p->bb_lazy_rows = true;
  p->bb_native_lp = true;
  p->bb_node_dive = 16;
  p->bb_dive_cut = true;
  p->dive_native_lp = true;
  p->bb_sb_cands = 16;
  p->bb_sb_reliable = 1;
  p->bb_sb_pivots = 10;
  p->bb_sb_depth = 0;
  p->bb_sb_stop = false;
  p->proof_best_first_gap = 0.0013;
  p->rins_max_offers = 2000;
  p->proof_max_offers = 2000;
  p->proof_first_ratio = 2.0;
  p->proof_first_max_ratio = 0;
  p->rins_node_limit = 100;
  p->rins_pivot_limit = 1000;
  p->proof_rins_node = 30;
  p->proof_warm_basis = true;
  p->root_native_phase1 = true;
  p->root_native_phase1_max_offers = 2000;
  p->proof_rins_again = 100;
  p->proof_rins_late = false;
  p->proof_rins_late_wait = 30;
  p->proof_rins_stall = 0;
  p->proof_sb_cands = 24;
  p->proof_rins_swap_share = 0.0;
  p->proof_rins_node_limit = 0;
  p->bb_guided_dive = 0;
  p->bb_mend_steps = 0;
  p->bb_mend_short_ppm = 1000;
  p->bb_plunge_abort = 0.6;
  p->bb_jump_warm = 1;
  p->bb_round_backoff = 4;
  p->bb_round_backoff_node = 128;
  p->bb_round_period_max = 64;
  p->lns_max_offers = 0;
  p->lns_width = 16;
  p->lns_share = 0.05;
  p->lns_node_limit = 50;
  p->lns_pivot_limit = 2000;
  p->lns_passes = 1;
  p->lns_work = 2000;
  p->lns_proof_start = false;
  p->cross_max_offers = 0;
  p->cross_proof_start = false;
  p->proof_rins_start = true;
}

/* Half away from zero of q/100, q = factor × value (fits: both are bounded). */
static int64_t div100_round(int64_t q) {
  return q >= 0 ? (q + 50) / 100 : -((-q + 50) / 100);
}

int64_t fx_clear_order_power(int64_t power, int factor) {
  return div100_round(power * factor);
}

int64_t fx_clear_order_price(int64_t price, int factor) {
  return div100_round(price * factor);
}

static int fill_result(struct fx_clear_result *res, const struct cl_state *st,
                       const struct cl_model *md) {
  size_t n = 0;
  for (size_t i = 0; i < md->n_offers; i++) n += st->col[i] >= 0;
  res->orders = calloc(n ? n : 1, sizeof *res->orders);
  res->option = calloc(md->n_offers ? md->n_offers : 1, sizeof *res->option);
  res->factor = calloc(md->n_offers ? md->n_offers : 1, sizeof *res->factor);
  res->ordered = calloc(md->n_isps ? md->n_isps : 1, sizeof *res->ordered);
  if (!res->orders || !res->option || !res->factor || !res->ordered) return FX_CLEAR_ENOMEM;
  for (size_t i = 0; i < md->n_offers; i++) {
    res->option[i] = st->col[i] >= 0 ? (int)md->col[st->col[i]].option : -1;
    res->factor[i] = st->k[i];
    if (st->col[i] < 0) continue;
    const struct cl_col *cl = &md->col[st->col[i]];
    res->orders[res->n_orders++] = (struct fx_clear_order){
        .offer = i, .option = cl->option, .factor = st->k[i],
        .price = fx_clear_order_price(cl->price, st->k[i])};
  }
  memcpy(res->ordered, st->d, md->n_isps * sizeof *st->d);
  res->n_isps = md->n_isps;
  res->need = md->need;
  res->coverage = st->cov;
  res->cost = st->cost;
  return 0;
}

/* Relative gaps, with a floor under the reference (1 kW, 1 currency unit)
 * so that the half-watt rounding slack of a tiny market is not a big gap. */
static void fill_gaps(struct fx_clear_result *res) {
  double cref = fmax((double)res->coverage_ub, (double)FX_CLEAR_GAP_FLOOR_W);
  double kref = fmax(fabs((double)res->cost_lb), (double)FX_CLEAR_GAP_FLOOR_PRICE);
  res->coverage_gap = (double)(res->coverage_ub - res->coverage) / cref;
  res->cost_gap = res->cost <= res->cost_lb ? 0.0 : ((double)res->cost - (double)res->cost_lb) / kref;
  res->optimal = res->coverage_gap <= FX_CLEAR_TOLERANCE && res->cost_gap <= FX_CLEAR_TOLERANCE;
}

/* Is best's cost more than gap above the proven bound lb (as fill_gaps
 * measures it)? */
static bool gap_open(const struct cl_state *best, int64_t lb, double gap) {
  double kref = fmax(fabs((double)lb), (double)FX_CLEAR_GAP_FLOOR_PRICE);
  return best->cost > lb && ((double)best->cost - (double)lb) / kref > gap;
}

/* Step 12's proof on the reduced market from start (the root's answer,
 * which it improves): the cheaper of it and best is the answer, and its
 * bound, at start's coverage (which both keep at least), proves it. */
static int proof_run(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                     double deadline, struct cl_state *best, struct cl_state *start,
                     struct cl_lp_out *out, struct cl_bb_out *bo, int *proof_cols) {
  int rc = cl_reduced_bb(md, lp, p, deadline, start, bo, proof_cols);
  if (!rc && cl_state_better(start, best, out->target)) cl_state_copy(best, start, md);
  if (!rc && bo->bound > out->cost_lb) out->cost_lb = bo->bound;
  return rc;
}

/* The exact path's proofs: step 10's branch-and-bound run to a zero gap
 * (no cutoff) within exact_node_limit nodes, the budget GLPK's search had
 * when its optimum was taken for the bounds, with bb_pivot_limit's pivots
 * per node. A small market is cleared to its optimum where that budget
 * suffices (docs/clearing.md, step 7). */
static struct fx_clear_params exact_params(const struct fx_clear_params *p) {
  struct fx_clear_params q = *p;
  if (q.exact_node_limit > q.bb_node_limit) {
    double per_node = (double)q.bb_pivot_limit / (q.bb_node_limit > 0 ? q.bb_node_limit : 1);
    q.bb_pivot_limit = (long)(per_node * q.exact_node_limit);
    q.bb_node_limit = q.exact_node_limit;
  }
  q.bb_gap = 0, q.bb_cutoff = 0;
  return q;
}

/* The cost proof of a small market (exact_max_offers). GLPK's MILP finds
 * answers, but its optimum proves nothing: on badly scaled markets its
 * tolerances, scaled by a column's range, made it claim a least cost
 * above the true one (docs/clearing.md, "Proven bounds";
 * test_clear_fuzzfound.c). The MILP changed the search's LP, so the proof
 * gets its own: the root at the answer, then step 10's branch-and-bound
 * on cost at the answer's coverage, whose bounds are Lagrangian. */
static int exact_proof(const struct cl_model *md, const struct fx_clear_params *p,
                       double deadline, struct cl_state *best, struct cl_lp_out *out,
                       struct cl_bb_out *bo) {
  struct cl_lp *lp = NULL;
  struct cl_lp_out lo = {0};
  struct fx_clear_params q = exact_params(p);
  int rc = cl_lp_create(&lp, md, &q, deadline);
  if (!rc) cl_lp_exact_terms(lp);
  if (!rc) rc = cl_lp_root(lp, best, &lo);
  if (!rc && lo.coverage_ub < out->coverage_ub)
    out->coverage_ub = lo.coverage_ub > best->cov ? lo.coverage_ub : best->cov;
  if (!rc) rc = cl_lp_cost_bound(lp, best->cov, &lo);
  if (!rc) out->cost_lb = lo.cost_lb;
  if (!rc) rc = cl_bb_run(md, lp, &q, best, out->target, out->cost_lb, false, bo);
  if (!rc && bo->bound > out->cost_lb) out->cost_lb = bo->bound;
  out->solves += lo.solves;
  out->budget_hit = out->budget_hit || lo.budget_hit;
  cl_lp_free(lp);
  return rc;
}

static int coverage_bb(const struct cl_model *md, const struct fx_clear_params *p,
                       struct cl_lp *lp, struct cl_state *best, struct cl_state *other,
                       struct cl_lp_out *out, struct cl_bb_out *bc);

/* Dives that fix a share of the fractional offers per round: slower than
 * fixing all at once, better on markets where coverage cannot spare the
 * cheap offers a blanket rounding drops (docs/clearing.md). */
static const double redive_share[] = {0.5, 0.25, 0.1};

static int redives(const struct cl_model *md, struct cl_lp *lp, struct cl_state *best,
                   struct cl_state *other, struct cl_lp_out *out) {
  int rc = 0;
  for (size_t j = 0; !rc && j < sizeof redive_share / sizeof *redive_share; j++) {
    rc = cl_lp_redive(lp, other, out, redive_share[j]);
    if (!rc) rc = cl_polish(other, md, out->target);
    if (!rc && cl_state_better(other, best, out->target)) cl_state_copy(best, other, md);
  }
  return rc;
}

/* Merit order first (its coverage is the floor of the target), then the LP
 * dive(s) and, for small markets, branch-and-bound, each polished towards
 * the target; the better lands in *best, which local search then improves. */
static int search(const struct cl_model *md, const struct fx_clear_params *p, struct cl_lp *lp,
                  struct cl_state *best, struct cl_state *other, struct cl_lp_out *out,
                  struct cl_bb_out *bc) {
  int rc = cl_merit(other, md);
  if (!rc) rc = cl_prune(other, md);
  if (!rc) rc = cl_lp_dive(lp, best, out, other, p->coverage_tolerance);
  if (!rc) rc = cl_trim(other, md, INT64_MAX);
  if (!rc) rc = cl_drop(other, md, out->target);
  if (!rc) rc = cl_trim(other, md, out->target);
  if (!rc) rc = cl_polish(best, md, out->target);
  if (!rc && cl_state_better(other, best, out->target)) cl_state_copy(best, other, md);
  if (!rc && md->n_offers <= p->redive_max_offers) rc = redives(md, lp, best, other, out);
  /* Small markets: the coverage proof first, on the LP the MILP is about
   * to change, so that GLPK's search aims at a target from a proven bound */
  struct fx_clear_params q = exact_params(p);
  if (!rc && cl_lp_exact(lp) && best->cov < out->target)
    rc = coverage_bb(md, &q, lp, best, other, out, bc);
  if (!rc && cl_lp_exact(lp)) {
    rc = cl_lp_mip(lp, other, out);
    if (!rc) rc = cl_polish(other, md, out->target);
    if (!rc && cl_state_better(other, best, out->target)) cl_state_copy(best, other, md);
  }
  if (!rc && md->n_offers <= p->local_search_max_offers && p->local_search_work > 0)
    rc = cl_swap(best, md, out->target, p->local_search_work, &out->search_hit);
  return rc;
}

/* The answer falls short of the coverage target: branch-and-bound on
 * coverage, for more coverage or a proof that there is none (a lower
 * coverage bound lowers the target; the answer is then polished to it). */
static int coverage_bb(const struct cl_model *md, const struct fx_clear_params *p,
                       struct cl_lp *lp, struct cl_state *best, struct cl_state *other,
                       struct cl_lp_out *out, struct cl_bb_out *bc) {
  int rc = cl_bb_run(md, lp, p, best, out->target, out->coverage_ub, true, bc);
  if (rc || bc->bound >= out->coverage_ub) return rc;
  out->coverage_ub = bc->bound > best->cov ? bc->bound : best->cov;
  out->target = cl_lp_target(lp, out->coverage_ub);
  cl_state_copy(other, best, md);
  rc = cl_polish(other, md, out->target);
  if (!rc && cl_state_better(other, best, out->target)) cl_state_copy(best, other, md);
  return rc;
}

/* The offers on which a and b differ: another option, another factor, or
 * one orders and the other not. */
static bool *disagreements(const struct cl_model *md, const struct cl_state *a,
                           const struct cl_state *b) {
  bool *d = malloc((md->n_offers ? md->n_offers : 1) * sizeof *d);
  for (size_t i = 0; d && i < md->n_offers; i++)
    d[i] = !cl_state_same_order(a, b, i);
  return d;
}

/* The root's answer of a market above bb_max_offers falls short of the
 * coverage target (round 11, covx): the root's answers are the cheapest the
 * dives found, and no step of fill reaches the target from them (it takes
 * swaps; the local search, off above 400 offers, found none there with
 * 200,000 evaluations). Step 10's coverage phase on the full LP: its first node's
 * Lagrangian coverage bound is tighter than the LP's (a lower target), and
 * its rounded nodes reach the target, but from the maximum-coverage LP, so
 * dearly (5 % above the short answer on the bench's BB_SEED=9 × 1.2). The
 * offers on which that answer and the short one disagree (a few dozen) are
 * then cleared again for cost at the covering answer's coverage, as a
 * neighbourhood (step 11's machinery and budget), which gives back what the
 * coverage cost and usually more: the proof then starts from an answer at
 * the target. */
static int coverage_repair(const struct cl_model *md, const struct fx_clear_params *p,
                           double deadline, struct cl_lp *lp, struct cl_state *best,
                           struct cl_state *other, struct cl_lp_out *out, struct cl_bb_out *bc) {
  struct cl_state shortfall = {0};
  int n_free = 0;
  bool better = false;
  int rc = cl_state_init(&shortfall, md);
  if (!rc) cl_state_copy(&shortfall, best, md);
  if (!rc) rc = coverage_bb(md, p, lp, best, other, out, bc);
  /* a lowered target may be within the short answer's reach (BB_SEED=62) */
  bool back = !rc && cl_state_better(&shortfall, best, out->target);
  if (back) cl_state_copy(best, &shortfall, md);
  bool cross = !rc && !back && best->cov > shortfall.cov;
  bool *free_offer = cross ? disagreements(md, &shortfall, best) : NULL;
  if (cross && !free_offer) rc = FX_CLEAR_ENOMEM;
  if (!rc && free_offer) rc = cl_sub_cross(md, p, deadline, free_offer, best, &n_free, &better);
  free(free_offer);
  cl_state_free(&shortfall);
  return rc;
}

static int solve_model(const struct cl_model *md, const struct fx_clear_params *p,
                       struct fx_clear_result *res) {
  struct cl_state best = {0}, other = {0};
  struct cl_lp *lp = NULL;
  struct cl_lp_out out = {0};
  struct cl_bb_out bo = {.bound = INT64_MIN}, bc = {0};
  struct cl_lns_out lo = {0};
  struct cl_prim_out xo = {0};
  int n_free = 0, proof_cols = 0;
  double deadline = p->time_limit_ms > 0 ? cl_now_ms() + p->time_limit_ms : 0;
  int rc = cl_state_init(&best, md);
  if (!rc) rc = cl_state_init(&other, md);
  if (!rc && md->n_cols) {
    rc = cl_lp_create(&lp, md, p, deadline);
    if (!rc && cl_lp_exact(lp)) cl_lp_exact_terms(lp);
    bool bb = !cl_lp_exact(lp) && md->n_offers <= p->bb_max_offers;
    bool proof = !cl_lp_exact(lp) && md->n_offers <= p->proof_max_offers && p->bb_node_limit > 0;
    if (!rc) rc = search(md, p, lp, &best, &other, &out, &bc);
    if (!rc && bb && best.cov < out.target) rc = coverage_bb(md, p, lp, &best, &other, &out, &bc);
    bool sub = !cl_lp_exact(lp) && !bb &&
               (md->n_offers <= p->proof_max_offers || md->n_offers <= p->rins_max_offers);
    if (!rc && sub && best.cov < out.target)
      rc = coverage_repair(md, p, deadline, lp, &best, &other, &out, &bc);
    if (!rc && cl_lp_exact(lp)) rc = exact_proof(md, p, deadline, &best, &out, &bo);
    else if (!rc) rc = cl_lp_cost_bound(lp, best.cov, &out);
    /* The neighbourhood search and the dive polish make the root's answer
     * cheaper, keeping its coverage; the proof, where they leave the cost
     * gap above bb_gap, starts from their answer (proof_rins_start, round
     * 19: on markets whose root gap is narrow the proof then often closes
     * before its own node search at node 30, which it spares) or, with
     * proof_rins_start off, again from the root's answer (before round 19:
     * a better incumbent misled its search, docs/clearing-rounds.md,
     * rounds 6 and 8). Every bound is at the root answer's coverage, which
     * both answers keep at least, so the cheaper of the two is proven by
     * the better bound. With lns_proof_start the proof starts from the
     * windows' answer instead: its bound is at that answer's coverage,
     * which the final answer covers at least too. */
    bool rins = !cl_lp_exact(lp) && !bb && md->n_offers <= p->rins_max_offers && p->rins_node_limit > 0;
    bool xon = rins && md->n_offers <= p->cross_max_offers;
    if (!rc && (proof || xon)) cl_state_copy(&other, &best, md);
    /* The proof first where the root's gap is wide (proof_first_ratio,
     * round 10b): where it closes the gap, the stages below, whose answers
     * it would only compete with, are spared (a third of the root at
     * 1,000 offers); not where it is wider than proof_first_max_ratio
     * (opt-in, round 19), where the proof rarely closes before finding
     * better answers and the search's answer shortens it more often */
    bool later = p->lns_proof_start || p->cross_proof_start; /* asked to start from their answers */
    bool wide = p->proof_first_max_ratio > 0 &&
                gap_open(&best, out.cost_lb, p->proof_first_max_ratio * p->bb_gap);
    if (!rc && proof && !bb && !later && !wide && p->proof_first_ratio > 0 &&
        gap_open(&best, out.cost_lb, p->proof_first_ratio * p->bb_gap)) {
      rc = proof_run(md, lp, p, deadline, &best, &other, &out, &bo, &proof_cols);
      proof = false;
      rins = rins && gap_open(&best, out.cost_lb, p->bb_gap);
      xon = xon && rins;
    }
    if (!rc && rins) rc = cl_rins(md, lp, p, deadline, &best, &n_free);
    /* Crossover of the root's answers (opt-in; round 10): the dive polish
     * is its first step */
    bool cross = xon && gap_open(&best, out.cost_lb, p->bb_gap);
    if (!rc && rins && !cross) rc = cl_lp_dive_polish(lp, &best, best.cov); /* cost_lb is at best.cov */
    if (!rc && rins && proof && p->proof_rins_start) cl_state_copy(&other, &best, md);
    if (!rc && cross) rc = cl_prim_cross(md, lp, p, deadline, &other, &best, &xo);
    if (!rc && cross && proof && p->cross_proof_start) cl_state_copy(&other, &best, md);
    /* Window neighbourhoods where the gap stays open (opt-in; round 9) */
    bool lns = rins && md->n_offers <= p->lns_max_offers && gap_open(&best, out.cost_lb, p->bb_gap);
    if (!rc && lns) rc = cl_lns_windows(md, lp, p, deadline, out.cost_lb, &best, &lo);
    if (!rc && lns && proof && p->lns_proof_start) cl_state_copy(&other, &best, md);
    if (!rc && proof && !gap_open(&best, out.cost_lb, p->bb_gap)) proof = false;
    struct fx_clear_params pb = *p;
    pb.proof_rins_node = 0; /* the proof's (step 12) only: measured there */
    if (!rc && bb) rc = cl_bb_run(md, lp, &pb, &best, out.target, out.cost_lb, false, &bo);
    else if (!rc && proof) rc = proof_run(md, lp, p, deadline, &best, &other, &out, &bo, &proof_cols);
    if (!rc && bb && bo.bound > out.cost_lb) out.cost_lb = bo.bound;
  }
  if (!rc && p->bb_symmetry) rc = cl_state_canon(&best, md);
  if (!rc && !cl_state_feasible(&best, md)) rc = FX_CLEAR_ESOLVER; /* never: repair ran */
  if (!rc) rc = fill_result(res, &best, md);
  if (!rc) {
    res->coverage_ub = out.coverage_ub > res->coverage ? out.coverage_ub : res->coverage;
    res->cost_lb = md->n_cols ? out.cost_lb : 0;
    res->budget_hit = out.budget_hit || out.search_hit || bo.budget_hit || bc.budget_hit;
    res->lp_solves = out.solves + bo.nodes + bc.nodes;
    res->bb_nodes = bo.nodes + bc.nodes;
    res->bb_pivots = bo.pivots + bc.pivots;
    res->rins_free = n_free;
    res->lns_windows = lo.windows;
    res->lns_improved = lo.improved;
    res->proof_cols = proof_cols;
    res->cross_free = xo.n_free;
    res->cross_improved = xo.improved;
    res->proof_rins = bo.rins > 0;
    res->proof_rins_improved = bo.rins_improved > 0;
    res->proof_warm = bo.warm;
    fill_gaps(res);
  }
  cl_lp_free(lp);
  cl_state_free(&best);
  cl_state_free(&other);
  return rc;
}

int fx_clear_solve(const struct fx_clear_market *m, const struct fx_clear_params *params,
                   struct fx_clear_result *res) {
  if (!res) return FX_CLEAR_EINVAL;
  memset(res, 0, sizeof *res);
  struct fx_clear_params p;
  if (params) p = *params;
  else fx_clear_params_init(&p);
  struct cl_model md;
  int rc = cl_model_init(&md, m);
  if (rc) return rc;
  rc = solve_model(&md, &p, res);
  cl_model_free(&md);
  if (rc) fx_clear_result_free(res);
  return rc;
}

void fx_clear_result_free(struct fx_clear_result *res) {
  if (!res) return;
  free(res->orders);
  free(res->option);
  free(res->factor);
  free(res->ordered);
  memset(res, 0, sizeof *res);
}

static int placed_sum(const struct fx_clear_market *m, const struct fx_clear_placed *placed,
                      size_t n_placed, int64_t *sum) {
  size_t n = m->request.n_isps;
  for (size_t j = 0; j < n_placed; j++) {
    const struct fx_clear_option *o = placed[j].option;
    if (!o || placed[j].factor < o->min_af || placed[j].factor > 100 || o->first_isp > n ||
        o->n_power > n - o->first_isp || (o->n_power && !o->power))
      return FX_CLEAR_EINVAL;
    for (size_t q = 0; q < o->n_power; q++) {
      if (o->power[q] < -FX_CLEAR_MAX_ABS_POWER || o->power[q] > FX_CLEAR_MAX_ABS_POWER)
        return FX_CLEAR_EINVAL;
      sum[o->first_isp + q] += fx_clear_order_power(o->power[q], placed[j].factor);
      if (sum[o->first_isp + q] < -FX_CLEAR_MAX_ABS_POWER ||
          sum[o->first_isp + q] > FX_CLEAR_MAX_ABS_POWER)
        return FX_CLEAR_EINVAL;
    }
  }
  return 0;
}

int fx_clear_residual(const struct fx_clear_market *m, const struct fx_clear_placed *placed,
                      size_t n_placed, int64_t *ordered, int64_t *residual) {
  if (!m || (n_placed && !placed)) return FX_CLEAR_EINVAL;
  size_t n = m->request.n_isps;
  int64_t *sum = calloc(n ? n : 1, sizeof *sum);
  if (!sum) return FX_CLEAR_ENOMEM;
  int rc = placed_sum(m, placed, n_placed, sum);
  struct fx_clear_market shifted = {.request = m->request, .base = sum};
  struct cl_model md;
  if (!rc) rc = cl_model_init(&md, &shifted);
  if (!rc) {
    for (size_t t = 0; t < n; t++) {
      if (ordered) ordered[t] = sum[t];
      if (residual) residual[t] = md.isp[t].requested ? md.isp[t].s * md.isp[t].cap : 0;
    }
    cl_model_free(&md);
  }
  free(sum);
  return rc;
}
