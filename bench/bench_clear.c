/* bench_clear.c — clearing time and optimality gaps (issue 5, Performance).
 *
 * One market of 10, 100, 1,000 and 10,000 offers over 96 ISPs from a seeded,
 * realistic generator: the DSO needs a reduction on 30 consecutive ISPs,
 * other ISPs are Available with a modest band, offers cover 4-16 consecutive
 * ISPs with 1-3 options (some with a rebound after the reduction), some with
 * partial activation, prices 10-200 EUR/MW per ISP. Prints the median time
 * of a few runs and the proven gaps; then, on instances small enough for an
 * exhaustive search, the true gap against the exhaustive optimum. Markets
 * run with the default coverage tolerance, and again (up to 1,000 offers)
 * with none, most coverage first exactly. Columns: LPs solved, then the
 * branch-and-bound's nodes and simplex pivots, then the offers the
 * neighbourhood search (RINS) cleared again and the options the proof's
 * reduced market kept.
 * Usage: bench_clear [max_offers] (default 10000). Environment, to measure
 * the branch-and-bound beyond its defaults: BB_NODES (node limit, pivot
 * limit lifted), BB_PIVOTS (pivot limit; flexd serve's default is 15000,
 * the library's 8000), BB_MAX (bb_max_offers; flexd serve's 400),
 * BB_PROOF (proof_max_offers), PROOF_FIRST (proof_first_ratio; 0 = the
 * neighbourhood search first), BB_WARM (proof_warm_basis: 0 or 1; rounds 10
 * and 14), RINS_NODES (rins_node_limit), PROOF_RINS
 * (proof_rins_node; round 13), PROOF_RINS2 (proof_rins_again; round 15),
 * PROOF_SB (proof_sb_cands; round 15), PROOF_RINS_SWAP
 * (proof_rins_swap_share; round 16; 0.1 before), PROOF_RINS_NODES
 * (proof_rins_node_limit; round 16; 0 = RINS_NODES),
 * GDIVE (bb_guided_dive; round 16), MEND, MEND_PPM (bb_mend_steps,
 * bb_mend_short_ppm; round 16, short), PLUNGE_ABORT (bb_plunge_abort;
 * round 17, plng; 0 = plunges unbounded), JUMP_WARM (bb_jump_warm; round
 * 18, jump; 0 = off), BEST_FIRST_GAP (proof_best_first_gap; round 18,
 * brch; 0 = off), PROOF_RINS_LATE, PROOF_RINS_LATE_WAIT,
 * PROOF_RINS_STALL (proof_rins_late: 0 or 1, proof_rins_late_wait,
 * proof_rins_stall; round 19, ans19; 0 = off),
 * BB_SB,
 * BB_SB_REL, BB_SB_PIV (reliability branching: bb_sb_cands, bb_sb_reliable,
 * bb_sb_pivots), BB_SB_DEPTH, BB_SB_STOP (bb_sb_depth, bb_sb_stop: 0 or 1;
 * round 10), BB_ONE (one run per size), BB_LAZY (bb_lazy_rows: 0 or 1),
 * BB_NATIVE (bb_native_lp: 0 or 1), DIVE_NATIVE (dive_native_lp: 0 or 1),
 * BB_DIVE (bb_node_dive: every k-th node, 0 = off), REDIVE_MAX
 * (redive_max_offers), the root's crossover (round 10, off by default):
 * CROSS_MAX (cross_max_offers) and CROSS_PROOF (cross_proof_start: 0 or
 * 1), BB_SIZE and
 * BB_SCARCITY (one market only); the window neighbourhoods (round 9, off
 * by default): LNS_MAX (lns_max_offers), LNS_WIDTH, LNS_SHARE, LNS_NODES,
 * LNS_PIVOTS, LNS_PASSES, LNS_WORK and LNS_PROOF (lns_proof_start: 0 or 1);
 * RINS_PROOF (proof_rins_start: 0 or 1; round 19, on by default);
 * PROOF_FIRST_MAX (proof_first_max_ratio; round 19, 0 = off by default);
 * BB_SYMM (bb_symmetry: 0 or 1) and BB_DUP=k (each generated offer k
 * times, identical, the request's bounds k times as wide; round 12).
 * With BB_SIZE: BB_RUNS=k runs of the market (median; default 1) and
 * BB_PRIOR=s (the market of seed s cleared first, untimed: the steady state
 * of a server's clearing thread instead of a fresh process's first
 * clearing; round 15), BB_PRIOR_SLEEP=s (then idle s seconds).
 * The bench runs on flexd's allocator (round 16): jemalloc with huge pages
 * (engine/malloc_conf.c) where flexd is built with it, and it prints which
 * on stderr. On glibc's malloc it calls fx_clear_keep_memory, as flexd
 * does there, unless BB_KEEP=0 (docs/clearing.md, "Memory"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/clear.h"

#define N_ISPS 96

struct rng {
  uint64_t s;
};

static uint64_t next(struct rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static int64_t uni(struct rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

struct gen {
  struct fx_clear_isp isps[N_ISPS];
  struct fx_clear_offer *offers;
  struct fx_clear_option *options;
  int64_t *power;
  size_t n_offers;
};

static void gen_offer(struct rng *r, struct gen *g, size_t i, size_t *o, size_t *pw, int steps) {
  size_t n_opt = (size_t)uni(r, 1, 3);
  g->offers[i] = (struct fx_clear_offer){n_opt, &g->options[*o]};
  size_t len = (size_t)uni(r, 4, 16), first = (size_t)uni(r, 25, 75 - 4);
  if (first + len > N_ISPS) len = N_ISPS - first;
  for (size_t j = 0; j < n_opt; j++) {
    struct fx_clear_option *op = &g->options[(*o)++];
    int64_t *p = &g->power[*pw];
    int64_t kw = uni(r, 10, 500), sum = 0;
    for (size_t q = 0; q < len; q++) p[q] = -1000 * (kw + uni(r, -kw / 4, kw / 4)), sum -= p[q];
    if (uni(r, 0, 3) == 0) p[len - 1] = -p[len - 1] / 2; /* rebound */
    int64_t eur_per_mw = uni(r, 10, 200);
    int partial = steps ? (int)uni(r, 0, steps) : (int)uni(r, 0, 99);
    *op = (struct fx_clear_option){.price = eur_per_mw * sum / 100, /* 1e-4 EUR per W·ISP-ish */
                                   .min_af = uni(r, 0, 2) == 0 ? 100 : 100 - partial,
                                   .first_isp = first, .n_power = len, .power = p};
    *pw += len;
  }
}

static void gen_market(struct gen *g, size_t n, uint64_t seed, int steps, double scarcity) {
  struct rng r = {seed};
  g->n_offers = n;
  g->offers = calloc(n, sizeof *g->offers);
  g->options = calloc(3 * n, sizeof *g->options);
  g->power = calloc(3 * 16 * n, sizeof *g->power);
  size_t o = 0, pw = 0;
  for (size_t i = 0; i < n; i++) gen_offer(&r, g, i, &o, &pw, steps);
  int64_t supply[N_ISPS] = {0};
  for (size_t i = 0; i < n; i++)
    for (size_t q = 0; q < g->offers[i].options[0].n_power; q++)
      supply[g->offers[i].options[0].first_isp + q] -= g->offers[i].options[0].power[q];
  for (size_t t = 0; t < N_ISPS; t++) {
    if (supply[t] < 0) supply[t] = 0;
    if (t >= 35 && t < 65) {
      int64_t need = (int64_t)(supply[t] * scarcity) + 1000;
      g->isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -3 * need / 2, -need};
    } else if (t % 7 == 3) {
      g->isps[t] = (struct fx_clear_isp){FX_CLEAR_UNCONSTRAINED, 0, 0};
    } else {
      int64_t band = supply[t] / 5 + 50000;
      g->isps[t] = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -band, band / 4};
    }
  }
}

static void gen_free(struct gen *g) {
  free(g->offers), free(g->options), free(g->power);
}

static double clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time beside wall time: the bench machine is shared, and CPU time is
 * what one core spends on the market. */
static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
static double cpu_ms(void) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }

/* BB_DUP=k (round 12, symm): every generated offer k times in a row,
 * identical (the same options), and every ISP's bounds k times as wide,
 * so that the market's scarcity stays what BB_SCARCITY says: the market
 * day's fleets of alike offers on the bench's market. The generator is
 * untouched; the copies point into its options. */
static struct fx_clear_offer *duplicate(struct gen *g, size_t k) {
  struct fx_clear_offer *o = malloc(g->n_offers * k * sizeof *o);
  if (!o) exit(1);
  for (size_t i = 0; i < g->n_offers * k; i++) o[i] = g->offers[i / k];
  for (size_t t = 0; t < N_ISPS; t++)
    g->isps[t].min_power *= (int64_t)k, g->isps[t].max_power *= (int64_t)k;
  return o;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void bench_params(struct fx_clear_params *p, double tol) {
  fx_clear_params_init(p);
  p->coverage_tolerance = tol;
  if (getenv("EXACT_MAX")) p->exact_max_offers = (size_t)atol(getenv("EXACT_MAX"));
  if (getenv("BB_NODES")) p->bb_node_limit = atoi(getenv("BB_NODES")), p->bb_pivot_limit = 100000000;
  if (getenv("BB_GAP")) p->bb_gap = atof(getenv("BB_GAP"));
  if (getenv("BB_PIVOTS")) p->bb_pivot_limit = atol(getenv("BB_PIVOTS"));
  if (getenv("BB_MAX")) p->bb_max_offers = (size_t)atol(getenv("BB_MAX"));
  if (getenv("BB_SYMM")) p->bb_symmetry = atoi(getenv("BB_SYMM")) != 0;
  if (getenv("BB_LAZY")) p->bb_lazy_rows = atoi(getenv("BB_LAZY")) != 0;
  if (getenv("BB_NATIVE")) p->bb_native_lp = atoi(getenv("BB_NATIVE")) != 0;
  if (getenv("BB_DIVE")) p->bb_node_dive = atoi(getenv("BB_DIVE"));
  if (getenv("BB_CUTOFF")) p->bb_cutoff = atof(getenv("BB_CUTOFF"));
  if (getenv("DIVE_CUT")) p->bb_dive_cut = atoi(getenv("DIVE_CUT")) != 0;
  if (getenv("CROSS_MAX")) p->cross_max_offers = (size_t)atol(getenv("CROSS_MAX"));
  if (getenv("CROSS_PROOF")) p->cross_proof_start = atoi(getenv("CROSS_PROOF")) != 0;
  if (getenv("REDIVE_MAX")) p->redive_max_offers = (size_t)atol(getenv("REDIVE_MAX"));
  if (getenv("DIVE_NATIVE")) p->dive_native_lp = atoi(getenv("DIVE_NATIVE")) != 0;
  if (getenv("BB_PROOF")) p->proof_max_offers = (size_t)atol(getenv("BB_PROOF"));
  if (getenv("BB_WARM")) p->proof_warm_basis = atoi(getenv("BB_WARM")) != 0;
  if (getenv("NATIVE_PH1")) p->root_native_phase1 = atoi(getenv("NATIVE_PH1")) != 0;
  if (getenv("NATIVE_PH1_MAX")) p->root_native_phase1_max_offers = (size_t)atol(getenv("NATIVE_PH1_MAX"));
  if (getenv("PROOF_FIRST")) p->proof_first_ratio = atof(getenv("PROOF_FIRST"));
  if (getenv("PROOF_FIRST_MAX")) p->proof_first_max_ratio = atof(getenv("PROOF_FIRST_MAX"));
  if (getenv("BB_SB")) p->bb_sb_cands = atoi(getenv("BB_SB"));
  if (getenv("BB_SB_REL")) p->bb_sb_reliable = atoi(getenv("BB_SB_REL"));
  if (getenv("BB_SB_PIV")) p->bb_sb_pivots = atoi(getenv("BB_SB_PIV"));
  if (getenv("BB_SB_DEPTH")) p->bb_sb_depth = atoi(getenv("BB_SB_DEPTH"));
  if (getenv("BB_SB_STOP")) p->bb_sb_stop = atoi(getenv("BB_SB_STOP")) != 0;
  if (getenv("BEST_FIRST_GAP")) p->proof_best_first_gap = atof(getenv("BEST_FIRST_GAP"));
  if (getenv("RINS_NODES")) p->rins_node_limit = atoi(getenv("RINS_NODES"));
  if (getenv("PROOF_RINS")) p->proof_rins_node = atoi(getenv("PROOF_RINS"));
  if (getenv("PROOF_RINS2")) p->proof_rins_again = atoi(getenv("PROOF_RINS2"));
  if (getenv("PROOF_RINS_LATE")) p->proof_rins_late = atoi(getenv("PROOF_RINS_LATE")) != 0;
  if (getenv("PROOF_RINS_LATE_WAIT")) p->proof_rins_late_wait = atoi(getenv("PROOF_RINS_LATE_WAIT"));
  if (getenv("PROOF_RINS_STALL")) p->proof_rins_stall = atoi(getenv("PROOF_RINS_STALL"));
  if (getenv("PROOF_SB")) p->proof_sb_cands = atoi(getenv("PROOF_SB"));
  if (getenv("PROOF_RINS_SWAP")) p->proof_rins_swap_share = atof(getenv("PROOF_RINS_SWAP"));
  if (getenv("PROOF_RINS_NODES")) p->proof_rins_node_limit = atoi(getenv("PROOF_RINS_NODES"));
  if (getenv("GDIVE")) p->bb_guided_dive = atoi(getenv("GDIVE"));
  if (getenv("MEND")) p->bb_mend_steps = atoi(getenv("MEND"));
  if (getenv("MEND_PPM")) p->bb_mend_short_ppm = atof(getenv("MEND_PPM"));
  if (getenv("PLUNGE_ABORT")) p->bb_plunge_abort = atof(getenv("PLUNGE_ABORT"));
  if (getenv("JUMP_WARM")) p->bb_jump_warm = atoi(getenv("JUMP_WARM"));
  if (getenv("ROUND_BACKOFF")) p->bb_round_backoff = atoi(getenv("ROUND_BACKOFF"));
  if (getenv("ROUND_BACKOFF_NODE")) p->bb_round_backoff_node = atoi(getenv("ROUND_BACKOFF_NODE"));
  if (getenv("ROUND_PERIOD_MAX")) p->bb_round_period_max = atoi(getenv("ROUND_PERIOD_MAX"));
  if (getenv("LNS_MAX")) p->lns_max_offers = (size_t)atol(getenv("LNS_MAX"));
  if (getenv("LNS_WIDTH")) p->lns_width = atoi(getenv("LNS_WIDTH"));
  if (getenv("LNS_SHARE")) p->lns_share = atof(getenv("LNS_SHARE"));
  if (getenv("LNS_NODES")) p->lns_node_limit = atoi(getenv("LNS_NODES"));
  if (getenv("LNS_PIVOTS")) p->lns_pivot_limit = atol(getenv("LNS_PIVOTS"));
  if (getenv("LNS_PASSES")) p->lns_passes = atoi(getenv("LNS_PASSES"));
  if (getenv("LNS_WORK")) p->lns_work = atoi(getenv("LNS_WORK"));
  if (getenv("RINS_PROOF")) p->proof_rins_start = atoi(getenv("RINS_PROOF")) != 0;
  if (getenv("LNS_PROOF")) p->lns_proof_start = atoi(getenv("LNS_PROOF")) != 0;
}

/* BB_PRIOR=s: clear the market of seed s (same size and scarcity) first,
 * untimed, so that the measured clearing finds the process as a server's
 * clearing thread does: its heap grown and kept (fx_clear_keep_memory), its
 * code and the solver's paged in — not a fresh process's first clearing. */
static void bench_prior(size_t n, double scarcity, const struct fx_clear_params *p) {
  if (!getenv("BB_PRIOR"))
    return;
  struct gen g;
  gen_market(&g, n, 42 + n + strtoull(getenv("BB_PRIOR"), NULL, 10), 0, scarcity);
  struct fx_clear_market m = {{N_ISPS, g.isps}, n, g.offers, NULL};
  struct fx_clear_result res = {0};
  if (fx_clear_solve(&m, p, &res) == 0)
    fx_clear_result_free(&res);
  gen_free(&g);
  /* BB_PRIOR_SLEEP=s: then idle s seconds, as a server between clearings
   * (an allocator that gives idle memory back, as jemalloc does after its
   * decay time, shows it). */
  if (getenv("BB_PRIOR_SLEEP"))
    sleep((unsigned)atoi(getenv("BB_PRIOR_SLEEP")));
}

static void bench_size(size_t n, int runs, double scarcity, double tol) {
  struct gen g;
  /* BB_SEED=s: another market of the same shape (s = 0 is the bench's). */
  uint64_t seed = 42 + n + (getenv("BB_SEED") ? strtoull(getenv("BB_SEED"), NULL, 10) : 0);
  gen_market(&g, n, seed, 0, scarcity);
  size_t dup = getenv("BB_DUP") ? strtoul(getenv("BB_DUP"), NULL, 10) : 1;
  struct fx_clear_offer *copies = dup > 1 ? duplicate(&g, dup) : NULL;
  struct fx_clear_market m = {{N_ISPS, g.isps}, copies ? n * dup : n, copies ? copies : g.offers, NULL};
  double t[9], cpu[9];
  struct fx_clear_result res = {0};
  struct fx_clear_params p;
  bench_params(&p, tol);
  bench_prior(n, scarcity, &p);
  for (int i = 0; i < runs; i++) {
    fx_clear_result_free(&res);
    double t0 = now_ms(), c0 = cpu_ms();
    int rc = fx_clear_solve(&m, &p, &res);
    if (rc) {
      fprintf(stderr, "solve failed: %d\n", rc);
      exit(1);
    }
    t[i] = now_ms() - t0;
    cpu[i] = cpu_ms() - c0;
  }
  qsort(t, (size_t)runs, sizeof *t, cmp_d);
  qsort(cpu, (size_t)runs, sizeof *cpu, cmp_d);
  printf("%7zu %5.2f %10.1f %8.1f %7zu %6.3f%% %8.3f%% %12lld %12lld %5d %5d %7ld %4d %5d %s%s\n", m.n_offers, scarcity,
         t[runs / 2], cpu[runs / 2], res.n_orders, 100 * res.coverage_gap, 100 * res.cost_gap,
         (long long)res.cost, (long long)res.cost_lb, res.lp_solves, res.bb_nodes, res.bb_pivots, res.rins_free, res.proof_cols, res.optimal ? "yes" : "no",
         res.budget_hit ? " (budget hit)" : "");
  fx_clear_result_free(&res);
  free(copies);
  gen_free(&g);
}

/* Exhaustive reference: every option × factor in {0} ∪ [min, 100]. */
struct ex {
  const struct fx_clear_market *m;
  int64_t d[N_ISPS];
  int64_t best_cov, best_cost, cost;
};

static int64_t ex_cov(const struct ex *e, bool *ok) {
  int64_t cov = 0;
  *ok = true;
  for (size_t t = 0; t < N_ISPS; t++) {
    const struct fx_clear_isp *is = &e->m->request.isps[t];
    if (is->disposition == FX_CLEAR_UNCONSTRAINED) continue;
    int64_t lo = is->min_power < 0 ? is->min_power : 0, hi = is->max_power > 0 ? is->max_power : 0;
    if (e->d[t] < lo || e->d[t] > hi) *ok = false;
    if (is->disposition == FX_CLEAR_REQUESTED && is->max_power < 0) {
      int64_t need = -is->max_power, v = -e->d[t];
      cov += v < 0 ? 0 : v > need ? need : v;
    }
  }
  return cov;
}

static void ex_rec(struct ex *e, size_t i) {
  if (i == e->m->n_offers) {
    bool ok;
    int64_t cov = ex_cov(e, &ok);
    if (ok && (cov > e->best_cov || (cov == e->best_cov && e->cost < e->best_cost)))
      e->best_cov = cov, e->best_cost = e->cost;
    return;
  }
  ex_rec(e, i + 1);
  const struct fx_clear_offer *of = &e->m->offers[i];
  for (size_t j = 0; j < of->n_options; j++) {
    const struct fx_clear_option *o = &of->options[j];
    for (int k = o->min_af; k <= 100; k++) {
      for (size_t q = 0; q < o->n_power; q++) e->d[o->first_isp + q] += fx_clear_order_power(o->power[q], k);
      e->cost += fx_clear_order_price(o->price, k);
      ex_rec(e, i + 1);
      e->cost -= fx_clear_order_price(o->price, k);
      for (size_t q = 0; q < o->n_power; q++) e->d[o->first_isp + q] -= fx_clear_order_power(o->power[q], k);
    }
  }
}

static void bench_exact(uint64_t seed) {
  struct gen g;
  gen_market(&g, 6, seed, 2, 0.6);
  struct fx_clear_market m = {{N_ISPS, g.isps}, g.n_offers, g.offers, NULL};
  struct ex e = {.m = &m, .best_cov = -1};
  ex_rec(&e, 0);
  struct fx_clear_result res;
  if (fx_clear_solve(&m, NULL, &res)) exit(1);
  double cg = e.best_cov ? (double)(e.best_cov - res.coverage) / (double)e.best_cov : 0;
  double kg = res.cost == e.best_cost ? 0 : (double)(res.cost - e.best_cost) / fabs((double)e.best_cost);
  printf("%6llu %10lld %10lld %10lld %8.4f%% %8.4f%% %8.4f%% %8.4f%%  cost %lld lb %lld\n",
         (unsigned long long)seed, (long long)e.best_cov, (long long)res.coverage,
         (long long)res.coverage_ub, 100 * cg, 100 * kg, 100 * res.coverage_gap,
         100 * res.cost_gap, (long long)res.cost, (long long)res.cost_lb);
  fx_clear_result_free(&res);
  gen_free(&g);
}

/* BB_SIZE=n BB_SCARCITY=x: that one market only (one run, default
 * tolerance), e.g. to count its instructions under callgrind. */
static bool bench_one(void) {
  if (!getenv("BB_SIZE")) return false;
  double sc = getenv("BB_SCARCITY") ? atof(getenv("BB_SCARCITY")) : 0.4;
  int runs = getenv("BB_RUNS") ? atoi(getenv("BB_RUNS")) : 1;
  bench_size(strtoul(getenv("BB_SIZE"), NULL, 10), runs < 1 ? 1 : runs > 9 ? 9 : runs, sc, FX_CLEAR_TOLERANCE);
  return true;
}

int main(int argc, char **argv) {
  size_t max = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
  printf("offers scarc    median_ms  cpu_ms  orders cov_gap  cost_gap         cost      cost_lb"
         "   LPs nodes pivots free pcols optimal (proven gaps)\n");
#ifdef FLEXD_JEMALLOC
  fprintf(stderr, "bench_clear: allocator jemalloc (thp:always), as flexd\n");
#else
  /* As flexd's main does on glibc's malloc; BB_KEEP=0 measures without. */
  fprintf(stderr, "bench_clear: allocator glibc's malloc%s\n",
          getenv("BB_KEEP") && !atoi(getenv("BB_KEEP")) ? "" : ", memory kept");
  if (!getenv("BB_KEEP") || atoi(getenv("BB_KEEP")))
    fx_clear_keep_memory();
#endif
  if (bench_one()) return 0;
  for (size_t n = 10; n <= max; n *= 10) {
    bench_size(n, n >= 10000 || getenv("BB_ONE") ? 1 : 5, 0.4, FX_CLEAR_TOLERANCE);
    bench_size(n, n >= 10000 || getenv("BB_ONE") ? 1 : 5, 1.2, FX_CLEAR_TOLERANCE);
  }
  printf("\ncoverage_tolerance = 0 (most coverage first, exactly):\n");
  for (size_t n = 10; n <= max && n <= 1000; n *= 10) {
    bench_size(n, 3, 0.4, 0);
    bench_size(n, 3, 1.2, 0);
  }
  printf("\nexhaustive reference, 6 offers, factors min..100 with min >= 98:\n");
  printf("  seed  exact_cov  found_cov   proven_ub true_cgap true_kgap  prov_cgap prov_kgap\n");
  for (uint64_t s = 1; s <= 5; s++) bench_exact(s);
  return 0;
}
