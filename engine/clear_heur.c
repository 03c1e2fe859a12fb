/* clear_heur.c — integer heuristics on the exact state.
 *
 * The LP (clear_lp.c) says roughly which offers to buy; these passes turn
 * that into a choice that holds on the rounded watts and prices:
 *   merit   the reference heuristic (cheapest per covered W, full activation),
 *           also a candidate answer so the engine never does worse than it;
 *   repair  lower factors until every bound holds on the rounded powers;
 *   fill    raise factors or add offers, the least cost per covered W first,
 *           while short of the target;
 *   prune   drop orders that add no coverage (DESIGN.md: never ordered, even
 *           at a negative price);
 *   drop    drop the most expensive orders while coverage stays at target;
 *   trim    lower the factor of paid orders while coverage stays at target
 *           (or the same, below it);
 *   swap    local search: take one order out, refill without it, keep the
 *           result when better; within a work budget.
 * target is the coverage the search aims for: the proven maximum less the
 * tolerance the caller allows (clear.c); INT64_MAX means "all there is".
 * Every pass is deterministic: ties go by arrival (offer index).
 * They run at every eighth node of a proof, so they are written for speed
 * without changing what they compute: trials are read-only (move_cov, and
 * the arrays fill and trim gather per column), the state changes once per
 * move taken, and fill skips columns its lower bounds rule out; since
 * round 11 the orders come in the model's rankings instead of a sort per
 * pass, fill reads only the columns it may still raise, and prune, drop,
 * trim and repair stop at the first ISPs that settle an order.
 * tests/test_clear_heur_fast.c holds each pass to its plain version. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_internal.h"

/* cl_isp_gain and fx_clear_order_power again, inline: the passes below
 * evaluate them millions of times per proof, and a call into another file
 * per ISP was most of their cost (the same values: test_clear_heur_fast.c
 * runs the passes against plain versions built on the engine's own). */
static inline int64_t gain(const struct cl_isp *t, int64_t d) {
  if (!t->requested) return 0;
  int64_t v = t->b + t->s * d, top = t->cap + t->m;
  return (v < 0 ? 0 : v > top ? top : v) - t->m;
}

static inline int64_t opow(int64_t p, int k) {
  int64_t q = p * k;
  return q >= 0 ? (q + 50) / 100 : -((-q + 50) / 100);
}

/* What moving column c's order (its offer's, in st) from factor k0 to k1
 * would make of st's coverage, and whether every ISP of c would keep its
 * bounds (col_feasible after the move), without changing st: the passes
 * below try a move far more often than they make it, and cl_state_set
 * there and back is twice the work. */
static int64_t move_cov(const struct cl_state *st, const struct cl_model *md, size_t c, int k0,
                        int k1, bool *ok) {
  const struct cl_col *cl = &md->col[c];
  int64_t cov = st->cov;
  *ok = true;
  for (size_t q = 0; q < cl->n; q++) {
    int64_t dp = opow(cl->p[q], k1) - opow(cl->p[q], k0);
    const struct cl_isp *t = &md->isp[cl->first + q];
    int64_t d = st->d[cl->first + q], v = t->s * (d + dp);
    if (t->constrained && (v < t->lo || v > t->hi)) *ok = false;
    if (dp && t->requested) cov += gain(t, d + dp) - gain(t, d);
  }
  return cov;
}

double cl_merit_key(const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  int64_t cov = 0;
  for (size_t i = 0; i < cl->n; i++) cov += gain(&md->isp[cl->first + i], cl->p[i]);
  return cov > 0 ? (double)cl->price / (double)cov : HUGE_VAL;
}

/* Are the bounds of c's ISPs kept? (The rest did not change.) */
static bool col_feasible(const struct cl_state *st, const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  for (size_t i = 0; i < cl->n; i++) {
    const struct cl_isp *t = &md->isp[cl->first + i];
    int64_t v = t->s * st->d[cl->first + i];
    if (t->constrained && (v < t->lo || v > t->hi)) return false;
  }
  return true;
}

/* Merit order: the model's rank_unit read backwards, the cheapest per W
 * first and the earlier column among equal keys. */
int cl_merit(struct cl_state *st, const struct cl_model *md) {
  cl_state_clear(st, md);
  for (size_t n = md->n_cols; n-- > 0;) {
    size_t c = md->rank_unit[n], i = md->col[c].offer;
    if (st->col[i] >= 0) continue;
    int64_t cov0 = st->cov;
    cl_state_set(st, md, i, (int)c, 100);
    if (!col_feasible(st, md, c) || st->cov <= cov0) cl_state_set(st, md, i, -1, 0);
  }
  return 0;
}

/* The factor to which offer i's order is lowered so that ISP t (violated
 * in direction dir) holds: at most one below the current one, 0 (dropped)
 * when that is below its minimum. */
static int repair_factor(const struct cl_state *st, const struct cl_model *md, size_t i, size_t t,
                         int dir) {
  const struct cl_isp *is = &md->isp[t];
  int c = st->col[i], k = st->k[i];
  const struct cl_col *cl = &md->col[c];
  int64_t p = cl->p[t - cl->first];
  int64_t sp = is->s * p, sd = is->s * (st->d[t] - opow(p, k)); /* without the order */
  int64_t slack = dir > 0 ? is->hi - sd : sd - is->lo;
  int64_t abs_p = sp > 0 ? sp : -sp;
  int64_t kt = slack < 0 ? -1 : (100 * slack + 49) / abs_p;
  int nk = kt < k - 1 ? (int)kt : k - 1;
  return nk >= cl->min_af ? nk : 0;
}

/* The coverage st loses when column c's order is lowered from k0 to k1
 * (move_cov's difference, without its bounds), or, for a monotone column,
 * any value above limit once the loss exceeds it: each ISP only loses
 * there, so the partial sums only rise (round 11). */
static int64_t lower_loss(const struct cl_state *st, const struct cl_model *md, size_t c, int k0,
                          int k1, int64_t limit) {
  const struct cl_col *cl = &md->col[c];
  int64_t loss = 0;
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    if (!t->requested || !cl->p[q]) continue;
    int64_t d = st->d[cl->first + q], dp = (k1 ? opow(cl->p[q], k1) : 0) - opow(cl->p[q], k0);
    loss += gain(t, d) - gain(t, d + dp);
    if (loss > limit && cl->monotone) return loss;
  }
  return loss;
}

/* The best order to lower so far (i < 0: none), as repair_pick weighs it. */
struct repair_best {
  long i;
  int64_t loss, save;
};

/* repair_pick's test of offer i at ISP t. */
static void repair_consider(const struct cl_state *st, const struct cl_model *md, size_t t,
                            int dir, size_t i, struct repair_best *b) {
  if (st->col[i] < 0) return;
  int c = st->col[i], k = st->k[i];
  const struct cl_col *cl = &md->col[c];
  if (t < cl->first || t >= cl->first + cl->n) return;
  int64_t sp = md->isp[t].s * cl->p[t - cl->first];
  if ((dir > 0 && sp <= 0) || (dir < 0 && sp >= 0)) return;
  int nk = repair_factor(st, md, i, t, dir);
  /* one losing more than the best so far cannot be picked */
  int64_t loss = lower_loss(st, md, (size_t)c, k, nk, b->i < 0 ? INT64_MAX : b->loss);
  int64_t save = fx_clear_order_price(cl->price, k) - fx_clear_order_price(cl->price, nk);
  if (b->i < 0 || loss < b->loss || (loss == b->loss && save >= b->save))
    b->i = (long)i, b->loss = loss, b->save = save;
}

/* The order to lower at violated ISP t: of those pushing t the wrong way,
 * the one whose lowering loses the least coverage, then saves the most,
 * then the latest arrival. */
static long repair_pick(const struct cl_state *st, const struct cl_model *md, size_t t, int dir) {
  struct repair_best b = {-1, 0, 0};
  for (size_t i = 0; i < md->n_offers; i++) repair_consider(st, md, t, dir, i, &b);
  return b.i;
}

struct mend_ix;
static long mend_pick(const struct cl_state *st, const struct cl_model *md,
                      const struct mend_ix *ix, size_t t, int dir, size_t extra);

/* With ix (cl_mend's trials: st as ix was built, offer extra moved), the
 * pick reads the index instead of scanning every offer; the same pick. */
static bool repair_isp(struct cl_state *st, const struct cl_model *md, size_t t,
                       const struct mend_ix *ix, size_t extra) {
  const struct cl_isp *is = &md->isp[t];
  int64_t v = is->s * st->d[t];
  int dir = v > is->hi ? 1 : v < is->lo ? -1 : 0;
  if (!dir) return false;
  long i = ix ? mend_pick(st, md, ix, t, dir, extra) : repair_pick(st, md, t, dir);
  if (i < 0) return false; /* cannot happen: 0 is within bounds */
  cl_state_set(st, md, (size_t)i, st->col[i], repair_factor(st, md, (size_t)i, t, dir));
  return true;
}

static void repair_all(struct cl_state *st, const struct cl_model *md, const struct mend_ix *ix,
                       size_t extra) {
  /* Each step lowers some factor, so this ends within sum(k) steps. */
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t t = 0; t < md->n_isps; t++)
      while (md->isp[t].constrained && repair_isp(st, md, t, ix, extra)) changed = true;
  }
}

int cl_repair(struct cl_state *st, const struct cl_model *md) {
  repair_all(st, md, NULL, 0);
  return 0;
}

/* Each ISP as fill's quick tests read it, kept for the current totals
 * (fill_view_set after every step, on the ISPs of the column it raised):
 * sreq = s where the ISP is Requested (else 0), sopen = s where it is
 * Requested and short of its ceiling (v < top; else 0), scon = s where
 * it is constrained (else 0); v = b + s·d and top = cap + m, the coverage
 * model's total and its ceiling; room100 = 100·(cap − cl_isp_gain) (the
 * need still missing, in room_lb's unit); up = U − s·d and dn = s·d − L,
 * the slack either way. A gain
 * per ISP and column was most of can_gain's and room_lb's work, and
 * nearly every step changes some ISPs of most columns (round 20). */
struct fill_view {
  int64_t v, top, room100, up, dn;
  int sreq, sopen, scon;
};

static void fill_view_set(struct fill_view *w, const struct cl_isp *t, int64_t d) {
  int64_t sd = t->s * d;
  *w = (struct fill_view){.up = t->hi - sd, .dn = sd - t->lo, .sreq = t->requested ? t->s : 0,
                          .scon = t->constrained ? t->s : 0};
  if (!t->requested) return;
  w->v = t->b + sd, w->top = t->cap + t->m, w->room100 = 100 * (t->cap - gain(t, d));
  w->sopen = w->v < w->top ? t->s : 0;
}

/* Column c's ISPs as fill_step sees them, with its offer's order taken
 * out: per Requested ISP where c has power, a = b + s·d (the coverage
 * model's total without the order), P = s·p and top = cap + m. Coverage at
 * factor k then differs from coverage without the order by
 * Σ clamp(a + round(k·P/100), 0, top) − clamp(a, 0, top), exactly
 * cl_isp_gain's differences (the rounding is odd, so s·round(k·p/100) =
 * round(k·s·p/100)). One pass gathers them and the factor cap; each
 * factor fill_step tries is then a short loop over this array. */
struct fill_isp {
  int64_t a, p, top, g0;
};

struct fill_col {
  struct fill_isp *v;
  size_t n;
  int kmax;     /* cl_max_factor without the order (0: none) */
  bool feas;    /* every bound of c's ISPs holds without the order */
};

/* Largest k <= kcap with s·round(k·|P|/100) within slack (cl_max_factor's
 * per-ISP cap: half away from zero reaches slack + 1 exactly when
 * k·|P| >= 100·slack + 50). */
static int64_t isp_cap(int64_t k, int64_t slack, int64_t abs_p) {
  int64_t lim = k < 100 ? k : 100;
  if (slack < 0) return -1;
  if (100 * slack + 49 >= lim * abs_p) return lim;
  int64_t kt = (100 * slack + 49) / abs_p;
  return kt < k ? kt : k;
}

static void fill_gather(const struct cl_state *st, const struct cl_model *md, size_t c, int k0,
                        struct fill_col *fc) {
  const struct cl_col *cl = &md->col[c];
  int64_t k = 100;
  fc->n = 0, fc->feas = true;
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    int64_t d = st->d[cl->first + q] - (k0 ? opow(cl->p[q], k0) : 0);
    if (!t->constrained) continue;
    int64_t sd = t->s * d, sp = t->s * cl->p[q];
    if (sd < t->lo || sd > t->hi) fc->feas = false;
    if (!sp) continue;
    k = isp_cap(k, sp > 0 ? t->hi - sd : sd - t->lo, sp > 0 ? sp : -sp);
    if (!t->requested) continue;
    int64_t a = t->b + sd, top = t->cap + t->m;
    fc->v[fc->n++] = (struct fill_isp){a, sp, top, a < 0 ? 0 : a > top ? top : a};
  }
  fc->kmax = k >= cl->min_af ? (int)k : 0;
}

/* fill_gather for a new order (its offer orders nothing: the totals are
 * already without it), from fill_view: the same array and cap. feas is
 * left true: fill_step reads it only for an order being raised. */
static void fill_gather_new(const struct fill_view *vw, const struct cl_model *md, size_t c,
                            struct fill_col *fc) {
  const struct cl_col *cl = &md->col[c];
  const struct fill_view *w = &vw[cl->first];
  int64_t k = 100;
  fc->n = 0, fc->feas = true;
  for (size_t q = 0; q < cl->n; q++) {
    int64_t sp = w[q].scon * cl->p[q];
    if (!sp) continue;
    k = isp_cap(k, sp > 0 ? w[q].up : w[q].dn, sp > 0 ? sp : -sp);
    if (!w[q].sreq) continue;
    int64_t a = w[q].v, top = w[q].top;
    fc->v[fc->n++] = (struct fill_isp){a, sp, top, a < 0 ? 0 : a > top ? top : a};
  }
  fc->kmax = k >= cl->min_af ? (int)k : 0;
}

/* What column c at factor k adds to the coverage without its order. */
static int64_t fill_cov(const struct fill_col *fc, int k) {
  int64_t g = 0;
  for (size_t q = 0; q < fc->n; q++) {
    const struct fill_isp *v = &fc->v[q];
    int64_t x = v->a + opow(v->p, k);
    g += (x < 0 ? 0 : x > v->top ? v->top : x) - v->g0;
  }
  return g;
}

/* The cheapest step towards target for column c from the current state
 * (its offer orders nothing, or c): the least factor above the current one
 * that reaches the target, or the largest one allowed. Cost per W gained
 * in *ratio; 0 if none helps. Read-only: the offer's order is taken out in
 * fill_gather's arithmetic, not in st. */
static int fill_step(const struct cl_state *st, const struct cl_model *md,
                     const struct fill_view *vw, size_t c,
                     int64_t target, struct fill_col *fc, double *ratio, int64_t *cov_hi,
                     bool *global) {
  size_t i = md->col[c].offer;
  int k0 = st->k[i];
  if (k0) fill_gather(st, md, c, k0, fc);
  else fill_gather_new(vw, md, c, fc);
  int64_t cov_out = k0 ? st->cov - fill_cov(fc, k0) : st->cov;
  int64_t cost_out = st->cost - fx_clear_order_price(md->col[c].price, k0);
  /* st held every bound; only c's ISPs changed (a rebound it balanced). */
  int hi = k0 == 0 || fc->feas ? fc->kmax : 0;
  int lo = k0 + 1 > md->col[c].min_af ? k0 + 1 : md->col[c].min_af;
  int k = 0;
  *global = false, *cov_hi = INT64_MIN;
  if (hi >= lo) {
    /* Where coverage is monotone in the factor and the largest one falls
     * short, the search below would end there: one trial instead of seven. */
    int64_t cov = cov_out + fill_cov(fc, hi);
    *cov_hi = cov;
    if (!md->col[c].monotone || cov >= target) {
      *global = true; /* the factor found depends on the total coverage */
      while (lo < hi) { /* least factor reaching target, if coverage is monotone */
        int mid = lo + (hi - lo) / 2;
        if (cov_out + fill_cov(fc, mid) >= target) hi = mid;
        else lo = mid + 1;
      }
      cov = cov_out + fill_cov(fc, hi);
    }
    int64_t cost = cost_out + fx_clear_order_price(md->col[c].price, hi);
    if (cov > st->cov) k = hi, *ratio = (double)(cost - st->cost) / (double)(cov - st->cov);
  }
  return k;
}

/* Can raising column c's factor (its offer orders nothing else) add any
 * coverage? The raise moves each of c's ISPs by at most |p| + 1 (<= 2|p|)
 * watts in p's direction and coverage is nondecreasing in s·d, so if no ISP
 * gains from 2p, no factor gains: fill_step would find nothing there. A
 * cheap test that keeps fill's result exactly; most columns fail it late
 * in a search, where fill_step's binary search was most of the cost.
 * For s·p > 0, gain(d + 2p) > gain(d) exactly when v < top and
 * v + 2·s·p > 0 (top > 0: cap > 0 wherever an ISP is Requested). */
static bool can_gain(const struct fill_view *vw, const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  const struct fill_view *w = &vw[cl->first];
  for (size_t q = 0; q < cl->n; q++) {
    int64_t sp = w[q].sopen * cl->p[q];
    if (sp > 0 && w[q].v + 2 * sp > 0) return true;
  }
  return false;
}

/* Marginal fill: while short of target, take the step with the least cost
 * per covered W over every column (at most fill_steps steps; each adds
 * coverage). */
enum { FILL_STEPS = 64, SWAP_PASSES = 8 };

/* A column's step as fill_step found it. A step taken elsewhere changes
 * only the ISPs of the column taken and the total coverage, so a step
 * stays what fill_step would find again while the column shares no ISP and
 * no offer with the steps taken since, and its factor did not depend on
 * the total: the largest one, still short of the target (cov_hi, which
 * rises with the total). Columns are re-evaluated otherwise; the result
 * is the same, step for step. */
struct fill_memo {
  bool valid;
  int8_t gains; /* can_gain, while c's ISPs keep their totals: 0 unknown, 1 no, 2 yes */
  bool room_known; /* lb_room, as long as gains */
  bool lb_known;
  double lb;    /* col_lb, once known (it depends on the model only) */
  double lb_room; /* room_lb */
  int k;
  double ratio;
  int64_t cov_hi, cov_at; /* coverage with the step, and the total, when found */
};

static bool memo_holds(const struct fill_memo *m, const struct cl_state *st, int64_t target) {
  return m->valid && (m->cov_hi == INT64_MIN || m->cov_hi + (st->cov - m->cov_at) < target);
}

static void memo_step(const struct cl_state *st, const struct cl_model *md,
                      const struct fill_view *vw, size_t c,
                      int64_t target, struct fill_col *fc, struct fill_memo *m) {
  bool global;
  int64_t cov_at = st->cov;
  m->ratio = HUGE_VAL;
  m->k = fill_step(st, md, vw, c, target, fc, &m->ratio, &m->cov_hi, &global);
  m->cov_at = cov_at, m->valid = !global;
}

/* The integers of col_lb and room_lb stay below 2^53: exact in double. */
static const int64_t lb_exact = (INT64_C(1) << 53) / 101;

/* A lower bound on fill_step's ratio for a new order of column c from the
 * current state, by the coverage still missing where c pushes towards the
 * need. At factor k >= lo (lo = max(min_af, 1), the least fill tries) c
 * pays round(k·price/100) >= (k·price − 50)/100 and gains at most, per
 * ISP where s·p > 0, the lesser of the room there and round(k·s·p/100)
 * <= (k·s·p + 50)/100 (elsewhere it gains nothing); each of those lesser
 * values is at most k/lo times its value at lo, so the quotient at lo
 * bounds every factor:
 *   (lo·price − 50) / Σ min(100·room, lo·s·p + 50).
 * Until round 20 the sum was of 100·room alone (the need still missing,
 * col_room): never tighter, and of the new orders fill then tried in full
 * (not stopped by a bound, new_blocked) two in three had this bound above
 * the best step so far (1,000 offers, 0.4×, seed 114: 50,143 of 74,335).
 * Both ends are integers below 2^53
 * (or no bound), exact in double; a column whose bound is above the best
 * ratio so far cannot be taken (see col_lb). Powers and needs are at most
 * FX_CLEAR_MAX_ABS_POWER = 10^12 (clear_model.c), so each term is below
 * 2^47 (and 100·room below 2^48): a sum of fewer than 2^15 terms cannot
 * overflow, and only wider columns check it after each term. */
static double room_lb(const struct fill_view *vw, const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  const struct fill_view *w = &vw[cl->first];
  int lo = cl->min_af > 1 ? cl->min_af : 1;
  if (cl->price <= 0 || cl->price > lb_exact) return -HUGE_VAL;
  int64_t num = cl->price * lo - 50, den = 0;
  if (num <= 0) return -HUGE_VAL;
  bool wide = cl->n >= 1 << 15; /* below, the sum of terms < 2^47 fits: one check */
  for (size_t q = 0; q < cl->n; q++) {
    int64_t sp = w[q].sreq * cl->p[q];
    if (sp <= 0) continue;
    int64_t b = lo * sp + 50;
    den += w[q].room100 < b ? w[q].room100 : b;
    if (wide && den > lb_exact * 100) return -HUGE_VAL;
  }
  if (den > lb_exact * 100) return -HUGE_VAL;
  return den > 0 ? (double)num / (double)den : HUGE_VAL;
}

/* can_gain depends only on the totals of c's ISPs, which a step changes
 * only where it overlaps c (memo_forget): late in a search most columns
 * fail it, step after step, unchanged. */
static bool memo_can_gain(struct fill_memo *m, const struct fill_view *vw,
                          const struct cl_model *md, size_t c) {
  if (!m->gains) m->gains = can_gain(vw, md, c) ? 2 : 1;
  return m->gains == 2;
}

/* A lower bound on the ratio fill_step finds for a new order of column c
 * (its offer orders nothing), whatever the state: at factor k it pays
 * round(k·price/100) >= (k·price − 50)/100 and gains at most what its
 * powers towards Requested ISPs add, Σ round(k·s·p/100) <= (k·S + 50·n)/100
 * (S, n: their sum and count); the quotient rises with k for price > 0, so
 * its value at min_af bounds every factor. Both ends are integers below
 * 2^53, exact in double, and so is the engine's own ratio (a price and a
 * coverage), so the rounded quotients keep the order: a column whose bound
 * is above the best ratio found so far cannot be taken (fill takes a
 * strictly lower ratio only), and need not be tried. -HUGE_VAL: no bound. */
static double col_lb(const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  int64_t sum = 0, n = 0;
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    int64_t sp = t->s * cl->p[q];
    if (t->requested && sp > 0) sum += sp, n++;
  }
  if (cl->price <= 0 || sum > lb_exact || cl->price > lb_exact) return -HUGE_VAL;
  int64_t num = cl->price * cl->min_af - 50, den = sum * cl->min_af + 50 * n;
  if (num <= 0) return -HUGE_VAL;
  return den > 0 ? (double)num / (double)den : HUGE_VAL;
}

/* Does a bound of c's ISPs stop a new order of c (its offer orders
 * nothing) at factor lo? Exactly when fill_gather's factor cap is below
 * lo: the cap is the least of the per-ISP caps (isp_cap), and an ISP caps
 * below lo when its slack is negative or 100·slack + 49 < lo·|P|. Asked
 * before the gather, it stops at the first such ISP: late in a proof most
 * of the new orders fill still tries end there (at 1,000 offers and 0.4×
 * three in five of its evaluations, at 1.2× nearly all), and fill_step
 * would find nothing after a whole gather. */
static bool new_blocked(const struct fill_view *vw, const struct cl_model *md, size_t c, int lo) {
  const struct cl_col *cl = &md->col[c];
  const struct fill_view *w = &vw[cl->first];
  for (size_t q = 0; q < cl->n; q++) {
    int64_t sp = w[q].scon * cl->p[q];
    if (!sp) continue;
    int64_t slack = sp > 0 ? w[q].up : w[q].dn;
    if (slack < 0 || 100 * slack + 49 < lo * (sp > 0 ? sp : -sp)) return true;
  }
  return false;
}

/* What memo_step remembers of a column fill_step finds nothing for that
 * no total coverage changes: no step, kept while c's ISPs keep theirs. */
static void memo_none(const struct cl_state *st, struct fill_memo *m) {
  m->k = 0, m->ratio = HUGE_VAL, m->cov_hi = INT64_MIN, m->cov_at = st->cov, m->valid = true;
}

static bool memo_room_beaten(struct fill_memo *m, const struct fill_view *vw,
                             const struct cl_model *md, size_t c, double best_ratio) {
  if (!m->room_known) m->lb_room = room_lb(vw, md, c), m->room_known = true;
  return m->lb_room > best_ratio;
}

/* Can fill raise column c (its offer orders nothing else, not at 100)? */
static bool fill_open(const struct cl_state *st, const struct cl_model *md, size_t c, size_t skip) {
  size_t i = md->col[c].offer;
  int col = st->col[i];
  return i != skip && (col < 0 || (size_t)col == c) && st->k[i] < 100;
}

/* A column fill may raise, with what fill remembers of it. A step raises
 * one order and changes nothing else, so it closes its offer's other
 * columns (and its own at 100) and opens none: fill keeps the open
 * columns in a list, in column order, and reads only that (round 11; at
 * 1,000 offers about half the columns are closed, and testing every
 * column at every step was a fifth of fill). */
struct fill_cand {
  size_t c;
  struct fill_memo m;
};

static size_t fill_list(const struct cl_state *st, const struct cl_model *md, size_t skip,
                        struct fill_cand *fl) {
  size_t n = 0;
  for (size_t c = 0; c < md->n_cols; c++)
    if (fill_open(st, md, c, skip)) fl[n++] = (struct fill_cand){c, {0}};
  return n;
}

/* After the step on column c: drop the columns it closed, forget the
 * steps it may change (those sharing an ISP or the offer). */
static size_t fill_forget(const struct cl_state *st, const struct cl_model *md, size_t c,
                          struct fill_cand *fl, size_t n) {
  const struct cl_col *t = &md->col[c];
  size_t w = 0;
  for (size_t j = 0; j < n; j++) {
    const struct cl_col *o = &md->col[fl[j].c];
    if (o->offer == t->offer && (fl[j].c != c || st->k[t->offer] >= 100)) continue;
    if (o->offer == t->offer || (o->first < t->first + t->n && t->first < o->first + o->n))
      fl[j].m.valid = false, fl[j].m.gains = 0, fl[j].m.room_known = false;
    if (w != j) fl[w] = fl[j];
    w++;
  }
  return w;
}

struct fill_best {
  double ratio;
  size_t c;
  int k;
};

/* fill's choice: the least ratio, the first column among equal ones. */
static void fill_consider(struct fill_best *b, const struct fill_memo *m, size_t c) {
  if (m->k && (m->ratio < b->ratio || (m->ratio == b->ratio && c < b->c)))
    b->ratio = m->ratio, b->c = c, b->k = m->k;
}

/* One step's choice: the least ratio, the first column among equal ones.
 * A column not remembered is tried only if its bounds (col_lb, room_lb)
 * do not already put it above the best ratio so far. (Taking the
 * remembered steps first, for a low best ratio from the start, was
 * measured: the extra pass cost more than it spared.) The tests of a new
 * order go cheapest first, each pure, so their order changes no step:
 * col_lb (fixed), can_gain and room_lb (remembered while the column's
 * ISPs keep their totals), new_blocked (round 20: asked after room_lb,
 * which settles more at 0.4×, though at 1.2× nearly every new order that
 * gets there is blocked). */
static struct fill_best fill_choose(const struct cl_state *st, const struct cl_model *md,
                                    const struct fill_view *vw, int64_t target,
                                    struct fill_cand *fl, size_t n, struct fill_col *fc) {
  struct fill_best b = {HUGE_VAL, 0, 0};
  for (size_t j = 0; j < n; j++) {
    size_t c = fl[j].c;
    struct fill_memo *m = &fl[j].m;
    if (memo_holds(m, st, target)) {
      fill_consider(&b, m, c);
      continue;
    }
    bool fresh = st->col[md->col[c].offer] < 0;
    if (fresh && !m->lb_known) m->lb = col_lb(md, c), m->lb_known = true;
    if (fresh && m->lb > b.ratio) { /* col_lb first: fixed, and it settles most */
      m->valid = false;
      continue;
    }
    if (!memo_can_gain(m, vw, md, c)) continue;
    if (fresh) {
      if (memo_room_beaten(m, vw, md, c, b.ratio)) {
        m->valid = false;
        continue;
      }
      int lo = md->col[c].min_af > 1 ? md->col[c].min_af : 1;
      if (new_blocked(vw, md, c, lo)) {
        memo_none(st, m);
        continue;
      }
    }
    memo_step(st, md, vw, c, target, fc, m);
    fill_consider(&b, m, c);
  }
  return b;
}

/* Fill that never touches offer skip (SIZE_MAX: none); *work counts the
 * columns it evaluates (as if none were remembered, so that the local
 * search's budget means what it did). */
static int fill_skip(struct cl_state *st, const struct cl_model *md, int64_t target, size_t skip,
                     long *work) {
  if (st->cov >= target) return 0;
  struct fill_cand *fl = malloc((md->n_cols ? md->n_cols : 1) * sizeof *fl);
  struct fill_col fc = {malloc((md->n_isps ? md->n_isps : 1) * sizeof *fc.v), 0, 0, false};
  struct fill_view *vw = malloc((md->n_isps ? md->n_isps : 1) * sizeof *vw);
  int rc = fl && fc.v && vw ? 0 : FX_CLEAR_ENOMEM;
  size_t n = rc ? 0 : fill_list(st, md, skip, fl);
  for (size_t t = 0; !rc && t < md->n_isps; t++) fill_view_set(&vw[t], &md->isp[t], st->d[t]);
  for (int step = 0; !rc && step < FILL_STEPS && st->cov < target; step++) {
    *work += (long)md->n_cols;
    struct fill_best b = fill_choose(st, md, vw, target, fl, n, &fc);
    if (!b.k) break;
    cl_state_set(st, md, md->col[b.c].offer, (int)b.c, b.k);
    const struct cl_col *cl = &md->col[b.c];
    for (size_t t = cl->first; t < cl->first + cl->n; t++)
      fill_view_set(&vw[t], &md->isp[t], st->d[t]);
    n = fill_forget(st, md, b.c, fl, n);
  }
  free(fl);
  free(fc.v);
  free(vw);
  return rc;
}

int cl_fill(struct cl_state *st, const struct cl_model *md, int64_t target) {
  long work = 0;
  return fill_skip(st, md, target, SIZE_MAX, &work);
}

/* The offers st orders, by descending key (price, or price per covered W)
 * of their column, later arrival first: the model's ranking of every
 * column, filtered. The keys depend on the column alone, so this is the
 * order a sort of the orders by those keys would give; the sort, with a
 * merit key computed per order, was a fifth of the polish (round 11). */
static size_t *orders_desc(const struct cl_state *st, const struct cl_model *md, bool by_unit,
                           size_t *n) {
  size_t *r = malloc((md->n_offers ? md->n_offers : 1) * sizeof *r);
  *n = 0;
  if (!r) return NULL;
  const size_t *rank = by_unit ? md->rank_unit : md->rank_price;
  for (size_t j = 0; j < md->n_cols; j++) {
    size_t c = rank[j], i = md->col[c].offer;
    if (st->col[i] == (int)c) r[(*n)++] = i;
  }
  return r;
}

/* Would moving column c's order from k0 down to any factor in [0, k1]
 * (k1 < k0) take st's coverage below floor? An upper bound on that
 * coverage, per Requested ISP: the gain at k1 where c pushes towards the
 * need (lowering only loses there), at 0 where it pushes against it
 * (lowering only gains there); exact at k1 = 0, and for a monotone column
 * at k1. The gains are summed first, so that the sum of the losses is
 * below floor as soon as a partial one is: most orders of a polished
 * state cover some need alone, and the first ISP that loses coverage
 * settles them, where move_cov (or trim's search) sums every ISP and
 * checks every bound (round 11). false: not settled. */
static bool falls_below(const struct cl_state *st, const struct cl_model *md, size_t c, int k0,
                        int k1, int64_t floor) {
  const struct cl_col *cl = &md->col[c];
  int64_t cov = st->cov;
  for (size_t q = 0; q < cl->n && !cl->monotone; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    if (!t->requested || t->s * cl->p[q] >= 0) continue;
    int64_t d = st->d[cl->first + q];
    cov += gain(t, d - opow(cl->p[q], k0)) - gain(t, d);
  }
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    if (!t->requested || t->s * cl->p[q] <= 0) continue;
    int64_t d = st->d[cl->first + q], dp = (k1 ? opow(cl->p[q], k1) : 0) - opow(cl->p[q], k0);
    cov += gain(t, d + dp) - gain(t, d);
    if (cov < floor) return true;
  }
  return cov < floor;
}

/* An order whose removal falls below the coverage stays (falls_below,
 * exact for a removal). */
int cl_prune(struct cl_state *st, const struct cl_model *md) {
  size_t n;
  size_t *r = orders_desc(st, md, false, &n);
  if (!r) return FX_CLEAR_ENOMEM;
  for (size_t j = 0; j < n; j++) {
    size_t i = r[j];
    int c = st->col[i], k = st->k[i];
    bool ok;
    if (falls_below(st, md, (size_t)c, k, 0, st->cov)) continue;
    if (move_cov(st, md, (size_t)c, k, 0, &ok) == st->cov && ok)
      cl_state_set(st, md, i, -1, 0);
  }
  free(r);
  return 0;
}

/* Drop the most expensive orders per covered W while coverage stays at or
 * above target: the coverage the tolerance allows to give up, spent where it
 * saves the most. */
static void drop_ranked(struct cl_state *st, const struct cl_model *md, int64_t target,
                        const size_t *r, size_t n) {
  for (size_t j = 0; j < n && st->cov > target; j++) {
    size_t i = r[j];
    int c = st->col[i], k = st->k[i];
    if (md->col[c].price <= 0) continue;
    if (falls_below(st, md, (size_t)c, k, 0, target)) continue;
    bool ok;
    if (move_cov(st, md, (size_t)c, k, 0, &ok) >= target && ok)
      cl_state_set(st, md, i, -1, 0);
  }
}

int cl_drop(struct cl_state *st, const struct cl_model *md, int64_t target) {
  if (st->cov <= target) return 0;
  size_t n;
  size_t *r = orders_desc(st, md, true, &n);
  if (!r) return FX_CLEAR_ENOMEM;
  drop_ranked(st, md, target, r, n);
  free(r);
  return 0;
}

/* An order's ISPs as trim tries its lower factors: per constrained ISP
 * where it has power, sd = s·d without the order, sp = s·p and the
 * bounds; where the ISP is Requested, the coverage model's b and top and
 * the clamped total with the order as it is (now). At factor k the ISP's
 * s·total is sd + round(k·sp/100) and coverage moves by clamp(b + that)
 * − now: move_cov's sums, one rounding per ISP and factor instead of two,
 * on a dense array. ISPs where it has no power never change: whether they
 * hold is one flag. */
struct trim_isp {
  int64_t sd, sp, lo, hi, b, top, now;
  bool req;
};

struct trim_col {
  struct trim_isp *v;
  size_t n;
  bool still_ok; /* the ISPs where c has no power keep their bounds */
};

static void trim_gather(const struct cl_state *st, const struct cl_model *md, size_t c, int k,
                        struct trim_col *tc) {
  const struct cl_col *cl = &md->col[c];
  tc->n = 0, tc->still_ok = true;
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    if (!t->constrained) continue;
    int64_t d = st->d[cl->first + q];
    if (!cl->p[q]) {
      if (t->s * d < t->lo || t->s * d > t->hi) tc->still_ok = false;
      continue;
    }
    int64_t sp = t->s * cl->p[q], sd = t->s * d - opow(sp, k), top = t->cap + t->m;
    int64_t v = t->b + sd + opow(sp, k);
    tc->v[tc->n++] = (struct trim_isp){sd, sp, t->lo, t->hi, t->b, top,
                                       v < 0 ? 0 : v > top ? top : v, t->requested};
  }
}

/* Coverage may fall to floor (never below it, never below what it was when
 * that was less); every bound of c's ISPs must hold. */
static bool trim_ok(const struct cl_state *st, const struct trim_col *tc, int k, int64_t floor) {
  int64_t cov = st->cov;
  bool ok = tc->still_ok;
  for (size_t q = 0; q < tc->n; q++) {
    const struct trim_isp *v = &tc->v[q];
    int64_t x = v->sd + opow(v->sp, k);
    if (x < v->lo || x > v->hi) ok = false;
    if (v->req) {
      int64_t y = v->b + x;
      cov += (y < 0 ? 0 : y > v->top ? v->top : y) - v->now;
    }
  }
  return cov >= floor && ok;
}

/* Trim the orders of r (by descending key) that st still holds. */
static void trim_ranked(struct cl_state *st, const struct cl_model *md, int64_t target,
                        const size_t *r, size_t n, struct trim_col *tc) {
  for (size_t j = 0; j < n; j++) {
    size_t i = r[j];
    int c = st->col[i], k = st->k[i];
    if (c < 0 || md->col[c].price <= 0 || k <= md->col[c].min_af) continue;
    int lo = md->col[c].min_af, hi = k;
    int64_t floor = st->cov < target ? st->cov : target;
    /* If no factor below k reaches floor, the search below ends at k. */
    if (falls_below(st, md, (size_t)c, k, k - 1, floor)) continue;
    trim_gather(st, md, (size_t)c, k, tc);
    while (lo < hi) { /* smallest factor that keeps coverage, if monotone */
      int mid = lo + (hi - lo) / 2;
      if (trim_ok(st, tc, mid, floor)) hi = mid;
      else lo = mid + 1;
    }
    if (hi < k) cl_state_set(st, md, i, c, hi); /* hi < k: trim_ok(hi) held */
  }
}

/* Drop, then trim, on one ranking: the keys depend on the column alone and
 * ties go by arrival, so the orders drop leaves, in drop's ranking, are
 * the ranking trim would sort again. */
static int drop_trim(struct cl_state *st, const struct cl_model *md, int64_t target,
                     bool drop) {
  size_t n;
  size_t *r = orders_desc(st, md, true, &n);
  struct trim_col tc = {malloc((md->n_isps ? md->n_isps : 1) * sizeof *tc.v), 0, true};
  int rc = r && tc.v ? 0 : FX_CLEAR_ENOMEM;
  if (!rc && drop) drop_ranked(st, md, target, r, n);
  if (!rc) trim_ranked(st, md, target, r, n, &tc);
  free(r);
  free(tc.v);
  return rc;
}

int cl_trim(struct cl_state *st, const struct cl_model *md, int64_t target) {
  return drop_trim(st, md, target, false);
}

/* One swap move: without order i, fill towards target from the others
 * (raising partial orders or taking new ones, never i again), then drop and
 * trim what is spare. Kept in st when better (cl_state_better). Taking i out
 * can break a bound that i balanced (a rebound against another's shift), so
 * repair runs first and the move counts only if every bound holds. */
static int swap_one(struct cl_state *st, struct cl_state *tmp, const struct cl_model *md, size_t i,
                    int64_t target, long *work) {
  cl_state_copy(tmp, st, md);
  cl_state_set(tmp, md, i, -1, 0);
  int rc = cl_repair(tmp, md);
  if (!rc) rc = fill_skip(tmp, md, target, i, work);
  if (!rc) rc = cl_prune(tmp, md);
  if (!rc) rc = drop_trim(tmp, md, target, true);
  if (!rc && cl_state_feasible(tmp, md) && cl_state_better(tmp, st, target))
    cl_state_copy(st, tmp, md);
  return rc;
}

int cl_swap(struct cl_state *st, const struct cl_model *md, int64_t target, long budget,
            bool *budget_hit) {
  struct cl_state tmp = {0};
  int rc = cl_state_init(&tmp, md);
  long work = 0;
  for (int pass = 0; !rc && pass < SWAP_PASSES && work < budget; pass++) {
    int64_t cost0 = st->cost, cov0 = st->cov;
    size_t n;
    size_t *r = orders_desc(st, md, true, &n);
    if (!r) rc = FX_CLEAR_ENOMEM;
    for (size_t j = 0; !rc && j < n && work < budget; j++)
      if (st->col[r[j]] >= 0) rc = swap_one(st, &tmp, md, r[j], target, &work);
    free(r);
    if (st->cost == cost0 && st->cov == cov0) break;
  }
  cl_state_free(&tmp);
  if (work >= budget) *budget_hit = true;
  return rc;
}

int cl_polish(struct cl_state *st, const struct cl_model *md, int64_t target) {
  int rc = cl_repair(st, md);
  if (!rc) rc = cl_fill(st, md, target);
  if (!rc) rc = cl_prune(st, md);
  if (!rc) rc = drop_trim(st, md, target, true);
  return rc;
}

/* Nudge (round 8): while short of target, raise by one hundredth the order
 * whose hundredth buys coverage at the least cost per W, and keep raising
 * it while it stays at least as cheap as the runner-up. A rounded LP
 * solution is typically a few hundred watts or kW short; fill's steps
 * (a whole factor range, or a new order at its minimum) then buy far more
 * than needed and drop and trim give back only part of it. */
enum { NUDGE_STEPS = 1024 };

/* Cost per W of raising offer i's order by one hundredth; HUGE_VAL when
 * that gains nothing or breaks a bound. */
static double nudge_ratio(const struct cl_state *st, const struct cl_model *md, size_t i) {
  int c = st->col[i], k = st->k[i];
  if (c < 0 || k >= 100) return HUGE_VAL;
  bool ok;
  int64_t g = move_cov(st, md, (size_t)c, k, k + 1, &ok) - st->cov;
  int64_t dc = fx_clear_order_price(md->col[c].price, k + 1) - fx_clear_order_price(md->col[c].price, k);
  return ok && g > 0 ? (double)dc / (double)g : HUGE_VAL;
}

int cl_nudge(struct cl_state *st, const struct cl_model *md, int64_t target) {
  int steps = 0;
  while (st->cov < target && steps < NUDGE_STEPS) {
    double r1 = HUGE_VAL, r2 = HUGE_VAL;
    size_t best = 0;
    for (size_t i = 0; i < md->n_offers; i++) {
      double r = nudge_ratio(st, md, i);
      if (r < r1) r2 = r1, r1 = r, best = i;
      else if (r < r2) r2 = r;
    }
    if (r1 == HUGE_VAL) break;
    double r = r1;
    while (r <= r2 && r < HUGE_VAL && st->cov < target && steps < NUDGE_STEPS) {
      cl_state_set(st, md, best, st->col[best], st->k[best] + 1);
      steps++;
      r = nudge_ratio(st, md, best);
    }
  }
  return 0;
}

/* cl_mend's trials per step: the columns best by mend_raw. At 64 of
 * about 900 (every column: 16.8 -> 24.5 G instructions on the bench's 32
 * markets; 64: 16.7 G, nodes as with every column within luck). */
enum { MEND_WIDTH = 64 };

/* Does column c push some Requested ISP still short of its need? */
static bool mend_helps(const struct cl_state *st, const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    if (t->requested && t->s * cl->p[q] > 0 && gain(t, st->d[cl->first + q]) < t->cap) return true;
  }
  return false;
}

/* Per ISP, the offers st orders on a column whose window holds it, in
 * arrival order: the only ones repair_pick can pick there, as long as no
 * other offer is ordered (a trial orders one more, which mend_pick adds).
 * Built once per step, it spares the trials' repair a scan of every offer
 * per violated bound (that scan was nine tenths of cl_mend). */
struct mend_ix {
  size_t *start, *list;
};

static int mend_ix_build(struct mend_ix *ix, const struct cl_state *st, const struct cl_model *md) {
  size_t n = 0;
  for (size_t i = 0; i < md->n_offers; i++)
    if (st->col[i] >= 0) n += md->col[st->col[i]].n;
  free(ix->list);
  ix->list = malloc((n ? n : 1) * sizeof *ix->list);
  if (!ix->start || !ix->list) return FX_CLEAR_ENOMEM;
  memset(ix->start, 0, (md->n_isps + 1) * sizeof *ix->start);
  for (size_t i = 0; i < md->n_offers; i++)
    if (st->col[i] >= 0) {
      const struct cl_col *cl = &md->col[st->col[i]];
      for (size_t q = 0; q < cl->n; q++) ix->start[cl->first + q + 1]++;
    }
  for (size_t t = 0; t < md->n_isps; t++) ix->start[t + 1] += ix->start[t];
  size_t *fill = malloc((md->n_isps ? md->n_isps : 1) * sizeof *fill);
  if (!fill) return FX_CLEAR_ENOMEM;
  memcpy(fill, ix->start, md->n_isps * sizeof *fill);
  for (size_t i = 0; i < md->n_offers; i++)
    if (st->col[i] >= 0) {
      const struct cl_col *cl = &md->col[st->col[i]];
      for (size_t q = 0; q < cl->n; q++) ix->list[fill[cl->first + q]++] = i;
    }
  free(fill);
  return 0;
}

/* repair_pick over ix's offers at t and the trial's offer extra, in
 * arrival order: the same pick. */
static long mend_pick(const struct cl_state *st, const struct cl_model *md,
                      const struct mend_ix *ix, size_t t, int dir, size_t extra) {
  struct repair_best b = {-1, 0, 0};
  bool done = false;
  for (size_t j = ix->start[t]; j < ix->start[t + 1]; j++) {
    size_t i = ix->list[j];
    if (!done && extra <= i) {
      if (extra < i) repair_consider(st, md, t, dir, extra, &b);
      done = true;
    }
    repair_consider(st, md, t, dir, i, &b);
  }
  if (!done) repair_consider(st, md, t, dir, extra, &b);
  return b.i;
}

/* One trial: column c's offer ordered on c at factor k, then repair; the cost per W
 * gained (HUGE_VAL: no gain). tmp holds the result. */
static double mend_try(const struct cl_state *st, struct cl_state *tmp, const struct cl_model *md,
                       const struct mend_ix *ix, size_t c, int k) {
  cl_state_copy(tmp, st, md);
  cl_state_set(tmp, md, md->col[c].offer, (int)c, k);
  repair_all(tmp, md, ix, md->col[c].offer);
  if (tmp->cov <= st->cov) return HUGE_VAL;
  return (double)(tmp->cost - st->cost) / (double)(tmp->cov - st->cov);
}

/* A column's raise to 100 as fill would see it without the bounds: the
 * cost per W it would add (its offer's order elsewhere taken out of the
 * cost, not of the coverage); HUGE_VAL where it adds nothing. */
static double mend_raw(const struct cl_state *st, const struct cl_model *md, size_t c) {
  const struct cl_col *cl = &md->col[c];
  size_t i = cl->offer;
  int k0 = st->col[i] == (int)c ? st->k[i] : 0;
  int64_t g = 0;
  for (size_t q = 0; q < cl->n; q++) {
    const struct cl_isp *t = &md->isp[cl->first + q];
    if (!t->requested || !cl->p[q]) continue;
    int64_t d = st->d[cl->first + q];
    g += gain(t, d + opow(cl->p[q], 100) - (k0 ? opow(cl->p[q], k0) : 0)) - gain(t, d);
  }
  int64_t dc = fx_clear_order_price(cl->price, 100) -
               (st->col[i] >= 0 ? fx_clear_order_price(md->col[st->col[i]].price, st->k[i]) : 0);
  return g > 0 ? (double)dc / (double)g : HUGE_VAL;
}

struct mend_cand {
  double raw;
  size_t c;
};

/* The width best columns by mend_raw that help a short ISP, best first
 * (ties: the earlier column); their count. */
static size_t mend_shortlist(const struct cl_state *st, const struct cl_model *md,
                             struct mend_cand *sl, size_t width) {
  size_t n = 0;
  for (size_t c = 0; c < md->n_cols; c++) {
    size_t i = md->col[c].offer;
    if (st->col[i] == (int)c && st->k[i] >= 100) continue;
    if (!mend_helps(st, md, c)) continue;
    double r = mend_raw(st, md, c);
    if (r == HUGE_VAL || (n == width && r >= sl[n - 1].raw)) continue;
    size_t j = n < width ? n++ : n - 1;
    for (; j > 0 && sl[j - 1].raw > r; j--) sl[j] = sl[j - 1];
    sl[j] = (struct mend_cand){r, c};
  }
  return n;
}

int cl_mend(struct cl_state *st, const struct cl_model *md, int64_t target, int steps,
            int64_t cap) {
  struct cl_state tmp = {0}, best = {0};
  struct mend_ix ix = {malloc((md->n_isps + 1) * sizeof *ix.start), NULL};
  struct mend_cand *sl = malloc(MEND_WIDTH * sizeof *sl);
  int rc = sl ? cl_state_init(&tmp, md) : FX_CLEAR_ENOMEM;
  if (!rc) rc = cl_state_init(&best, md);
  for (int s = 0; !rc && s < steps && st->cov < target; s++) {
    double br = HUGE_VAL;
    rc = mend_ix_build(&ix, st, md);
    if (rc) break;
    size_t n = mend_shortlist(st, md, sl, MEND_WIDTH);
    for (size_t m = 0; m < n; m++) {
      size_t c = sl[m].c, i = md->col[c].offer;
      int k0 = st->col[i] == (int)c ? st->k[i] : 0;
      int lo = k0 + 1 > md->col[c].min_af ? k0 + 1 : md->col[c].min_af;
      int ks[2] = {lo, 100};
      for (int j = 0; j < 2; j++) {
        double r = mend_try(st, &tmp, md, &ix, c, ks[j]);
        if (r < br) br = r, cl_state_copy(&best, &tmp, md);
      }
    }
    if (br == HUGE_VAL) break;
    cl_state_copy(st, &best, md);
    /* the rest of the shortfall at this step's price: past cap, give up */
    if (st->cov < target &&
        (double)st->cost + br * (double)(target - st->cov) >= (double)cap) break;
  }
  cl_state_free(&tmp), cl_state_free(&best);
  free(ix.start), free(ix.list), free(sl);
  return rc;
}
