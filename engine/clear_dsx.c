/* clear_dsx.c — the persistent bounded dual simplex of the branch-and-bound's
 * node LPs (see clear_dsx.h for why it exists).
 *
 * Form: as GLPK's, A x - r = 0 with bounds on the structural columns x and
 * on the rows' auxiliary variables r; rows scaled by GLPK's rii. Variables
 * are numbered structural first (0..n-1 for GLPK columns 1..n), then the
 * rows' (n..n+m-1), so that appending a row appends a variable.
 *
 * Most of a node's basis is rows' own variables (the ISP rows the LP leaves
 * slack, the lazily re-added offer rows): with rows permuted, B is
 * [-I A1; 0 K], K the tight rows against the basic columns (k×k, k about a
 * third of the rows). Only K's inverse is kept, dense and explicit; every
 * product with B's inverse goes through it and A. A pivot updates it in
 * O(k²) whichever of the four kinds it is (K grows, shrinks, changes a row
 * or a column); Gauss-Jordan recomputes it every REFACTOR pivots. Most of
 * K at 1.2× scarcity is offers' rows (Σ x <= 1, tight: ordered in full)
 * with one basic column each: such a pair is a diagonal block of K with
 * nothing else in its row, so it stays out of the inverse (generalised
 * upper bounds, for the groups whose key has no other basic column beside
 * it, so that no column needs the key substituted into it): the key's
 * value is a division, its row's dual comes with the pivot row, and a
 * pivot that touches a pair first borders the inverse with it again (a
 * zero row but at the key: O(k·column)), then pairs what it can after
 * (dropping a row and a column: O(k)). Pricing
 * takes the largest infeasibility (rows are scaled; it lands on the duals
 * GLPK's nodes get, which bound as well: dual Devex weights found other
 * optimal duals and weaker Lagrangian bounds, 4,000 nodes instead of
 * 1,169), or for a look-ahead cut short, where the dual objective reached
 * in a few pivots is the bound, the largest per dual Devex weight; the
 * ratio test flips
 * boxed columns past their breakpoints while the dual objective still
 * rises (most columns are [0, 1]) and takes the largest pivot among near
 * ties. Columns the node fixed (nonbasic, lo == hi: a third or more of
 * them) are parked: the pivot row, the ratio test and the duals' update
 * skip them, and their reduced costs are caught up from a log of the
 * pivots when they are freed, summed as the pivot row would have summed
 * them, so that every pivot is the one it was without parking. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/clear.h"
#include "engine/clear_dsx.h"

/* The element-wise loops over K's inverse and the rows (update_E,
 * gauss_jordan, E_times, rows_out, sub_scaled, sub_zero) compiled twice, for AVX2
 * (4 doubles a step) and for baseline x86-64 (SSE2: 2), the copy chosen
 * once when the program loads (an ifunc: glibc's x86-64 only). Only
 * "avx2", not FMA: a fused a·b + c rounds once, and the bits of every
 * pivot must be those of the baseline build (C17 keeps gcc's contraction
 * off; clang would contract within a statement where FMA exists). No
 * loop in these reassociates a sum: each entry is its own a - f·b, and
 * E_times's four sums side by side stay four sums. -DCL_SIMD= builds the
 * baseline copy alone (to compare the two). */
#if !defined(CL_SIMD) && defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CL_SIMD __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef CL_SIMD
#define CL_SIMD
#endif

#define REFACTOR 200
#define TOL_P 1e-9   /* primal feasibility, relative to the bound */
#define TOL_D 1e-9   /* dual feasibility, relative to the cost */
#define TOL_PIV 1e-9 /* smallest pivot the ratio test accepts */

enum { BASIC = 0, AT_LO, AT_HI, FREE, FIXED };
_Static_assert(BASIC < FREE && AT_LO < FREE && AT_HI < FREE && FIXED > FREE, "gather: FREE and above are rare");

struct cand {
  double ratio;
  int j;
};

struct cl_dsx {
  int m, n, cap;    /* rows, structural columns, row capacity */
  double dir;       /* +1 minimise, -1 maximise (the costs are dir·c) */
  double obj0, cmax; /* cmax: the largest |cost|, the scale of the duals */
  int kmax;         /* the inverse's order that fails a solve (0: none) */
  int *cp, *ri;     /* structural columns, compressed, scaled rows */
  double *cv;
  int nnz, nnz_cap;
  int *rp, *rc;     /* the same by rows (rp: cap + 1): the pivot row */
  double *rw;
  double *rs;       /* per row: GLPK's scale */
  double *lo, *hi, *c, *x, *dj, *ar, *aq; /* per variable (n + cap) */
  double *dw;       /* per basic variable: dual Devex weight (look-aheads) */
  bool devex;
  signed char *st;
  int *head, *pos;  /* the m basic variables; variable → index in head or -1 */
  /* The positions in head whose variable lies outside its bounds (no
   * tolerance: a superset of choose_row's), in increasing order, as the
   * last pivot left x (ob_ok): the next choose_row walks them instead of
   * every row. nob of them; cap. */
  int *ob, nob;
  bool ob_ok;
  /* K's inverse E (cap × cap, E[s·cap + t]): its rows are the basic
   * structural columns' slots s (sv: slot → variable), its columns the
   * tight rows' slots t (rv: slot → row). slot: per variable, a basic
   * column's s or a nonbasic row variable's t, else -1. */
  int k;
  double *E;
  int *sv, *rv, *slot;
  /* Work vectors kept zero between uses, cleared where they were written
   * (a memset per pivot of m or n entries was most of the pivot's
   * stores): t and w over rows, ar on the variables that move and the
   * keys (a basic column's entry is left as the scatter made it: it is
   * never read while basic, and cleared when the column leaves), rho on
   * its rz list (nrz rows: the tight rows, the leaving row, the pairs). */
  double *y, *rho, *w, *t, *g, *h; /* cap each */
  /* yp: y when price() last left the parked columns' reduced costs for
   * later (UNPRICED: c - yp·a once read, as price would have had it);
   * yq: yp as a basis put back found it, for its late columns */
  double *yp, *yq;
  int *rz, nrz;
  double *w0; /* -N x_N, kept as nonbasic values change: x_B = B^-1 w0 */
  struct cand *cd;  /* n + cap */
  int *flip, *nzi;
  /* The moving variables the duals' update must visit (nmz): alpha not +0,
   * or a zero reduced cost (-0 + +0 is +0: the one way a +0 alpha changes
   * a reduced cost's bits); n + cap. */
  int *mz, nmz;
  double *tmp;      /* cap × cap, the refactorisation's scratch */
  int n_upd;
  /* Pairs (generalised upper bounds): an offer's row (grp: per column, its
   * GUB row or -1; gnb: per row, how many of its columns are basic, -1 when
   * the row is no GUB row) that is tight with one basic column, its key,
   * is a diagonal block of K that nothing else in K's rows touches. Those
   * rows and keys stay out of E: E is the inverse of the rest of K (its
   * Schur complement is that block itself), and the pairs are solved by a
   * division each. key/ka/ppos per row: the paired key column, its entry,
   * its index in pl (np paired rows). */
  int *grp, *gnb, *key, *ppos, *pl, np;
  double *ka;
  /* Parked columns: nonbasic and fixed (lo == hi), never to enter. Each
   * row's entries on them sit at its end (rp[i] .. ra[i] the others), so
   * that the pivot row skips them; rpos/cidx map a column's entry to its
   * place in the rows and back. Their reduced costs are caught up from
   * the log when they are freed. */
  int *ra, *rpos, *cidx;
  struct dsx_log *lg;
  /* One bit per variable that moves with the duals: nonbasic and not
   * parked (the ratio test's candidates and the duals' update walk these,
   * in increasing order as before, not every variable). */
  uint64_t *mv;
  uint64_t *rb; /* one bit per row, zero between uses: scatter_rows' rows */
  struct dsx_queue *q;
  bool need_yq; /* a late column's reduced cost was UNPRICED */
  /* basis_set: its pricing keeps the log (a column freed without its
   * catch-up may need it), emptied after as pricing would have (held) */
  bool hold, held;
  long n_late, n_ties; /* figures: columns freed late, ties settled from the log */
  /* slot is -1 but on sv[0..k) and rv[0..k) (as every pivot leaves it;
   * not after slots() found K not square, nor at first): slots() resets
   * those alone */
  bool slots_kept;
  struct dsx_fact *fc; /* the last jump's factorisation (refactor) */
  bool fc_keep;        /* refactor keeps what it computes in fc (a jump's) */
  bool plain;          /* for tests: bases put back as before round 21, E updated as before 22 */
  bool plain_row;      /* for tests: the pivot row, gather and the duals' update as before round 22 */
  long n_fact_hits;    /* figures: refactorisations taken from fc */
  long n_rare[2];      /* for tests: gather's nonzero alphas on fixed row variables [0] and free ones [1] */
};

/* K's inverse as refactor computed it for the last basis put back, with
 * its slots (k columns sv, k rows rv; E compact, k × k): a node's two
 * children are often popped one after the other, and the second puts the
 * same basis back (one jump in six on the tail's markets). The same K
 * gives Gauss-Jordan the same steps, so a copy is its bits. */
struct dsx_fact {
  int k, cap; /* k < 0: nothing kept */
  int *sv, *rv;
  double *E;
};

/* Column bounds set but not yet taken in (cl_dsx_set_col queues them):
 * every entry point that reads or moves the state first takes them in, in
 * order (take_bounds: the same place() calls as one at a time). A jump's
 * bounds (a hundred or more columns, many of them parked ones freed) are
 * followed by cl_dsx_basis_set, whose pricing makes every reduced cost
 * fresh: it takes them in without the freed columns' catch-ups from the
 * log (87 % of the catch-ups' work on a long proof), which only a tie
 * reads (late_status). late: per column, such a column's reduced cost
 * and log position as it was freed (dj, sync), listed in list. */
struct dsx_queue {
  int n, cap;
  int *v;
  double *lo, *hi;
  unsigned char *late;
  double *dj;
  int *sync, *list, nl;
};

/* The pivots a parked column's reduced cost has yet to take: per pivot
 * since the last pricing, theta·sigma and the complete pivot row of the
 * inverse (r, m wide) with its paired rows marked (pf), so that the
 * column's alpha comes out as the pivot row built it, term for term in the
 * same order (its rows upwards, then its paired offer row's), and its
 * reduced cost bit for bit as if it had been updated with every pivot.
 * sync per column: the pivots before it are in its dj; hit per row, so
 * that a catch-up skips the rows every logged pivot left at zero (most of
 * a column's: the ISP rows that stayed slack). keep: the length
 * at the last save, so that pricing keeps what a restore takes back to
 * (a snapshot's parked dj are as of its save); epoch counts clears. A
 * separate allocation (cl_dsx_save marks keep). */
struct dsx_log {
  int cap, ln, keep;
  unsigned long epoch;
  double *ts, *r;
  unsigned char *pf;
  int *sync;
  unsigned char *hit; /* per row: nonzero in some pivot logged since empty */
};

#define LOG_CAP (REFACTOR + 56)

struct cl_dsx_snap {
  int m, n, cap, k, n_upd, np, ln;
  unsigned long epoch;
  signed char *st;
  int *head, *pos, *sv, *rv, *slot, *gnb, *key, *ppos, *pl, *sync;
  double *x, *dj, *y, *w0, *E, *ka;
  uint64_t *mv; /* the moving variables: st's, as mv_all would build them */
};

static bool dual_feasible(struct cl_dsx *d);
static double entry(const struct cl_dsx *d, int i, int j);
static double dot_col(const struct cl_dsx *d, const double *rho, int k);

static bool boxed(const struct cl_dsx *d, int k) { return isfinite(d->lo[k]) && isfinite(d->hi[k]); }

/* A parked column's reduced cost that price() left for later (a NaN no
 * arithmetic here makes: it is tested before it is read). Most parked
 * columns stay parked until the next pricing, which prices them again. */
#define UNPRICED_BITS UINT64_C(0x7ffc0ffee5eed001)

static bool unpriced(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  return b == UNPRICED_BITS;
}

static double unpriced_mark(void) {
  double v;
  uint64_t b = UNPRICED_BITS;
  memcpy(&v, &b, sizeof v);
  return v;
}

static double *E_row(const struct cl_dsx *d, int s) { return d->E + (size_t)s * d->cap; }

static bool parked(const struct cl_dsx *d, int v) { return v < d->n && d->st[v] == FIXED; }

/* v's bit in mv from its status. */
static void mv_set(struct cl_dsx *d, int v) {
  uint64_t bit = (uint64_t)1 << (v & 63);
  if (d->st[v] != BASIC && !parked(d, v)) d->mv[v >> 6] |= bit;
  else d->mv[v >> 6] &= ~bit;
}

/* mv's length in words (every variable the capacity allows). */
static size_t mv_words(const struct cl_dsx *d) { return ((size_t)d->n + (size_t)d->cap + 63) / 64; }

/* mv from every status: mv_set's bits, a word at a time (basis_set's
 * every jump). */
static void mv_all(struct cl_dsx *d) {
  int nv = d->n + d->m;
  size_t nw = mv_words(d), used = ((size_t)nv + 63) / 64;
  const signed char *st = d->st;
  for (size_t w = 0; w < used; w++) {
    uint64_t bits = 0;
    for (int j = 0, v = (int)w * 64; j < 64 && v < nv; j++, v++)
      bits |= (uint64_t)(st[v] != BASIC && !(v < d->n && st[v] == FIXED)) << j;
    d->mv[w] = bits;
  }
  memset(d->mv + used, 0, (nw - used) * sizeof *d->mv);
}

/* Eight statuses at a time (a jump changes about 30 of 4,000 variables'
 * statuses, and a basis has one in 25 basic): the bytes v .. v + 7 as one
 * word. Its bytes' order (the first the lowest) is little-endian's; on
 * another byte order the scans go a variable at a time. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ST_WORDS 1
#else
#define ST_WORDS 0
#endif
#define BYTES_HI UINT64_C(0x8080808080808080)

static uint64_t st_word(const signed char *st, int v) {
  uint64_t w;
  memcpy(&w, st + v, sizeof w);
  return w;
}

/* Per byte of w: its high bit set where the byte is not zero (no carry
 * crosses a byte: each sum is at most 0x7f + 0x7f), nothing else set. */
static uint64_t nonzero_bytes(uint64_t w) {
  const uint64_t lo7 = ~BYTES_HI;
  return (((w & lo7) + lo7) | w) & BYTES_HI;
}

/* Column j's row entries to the parked ends of their rows (on) or back:
 * each swapped with the entry at the boundary, which moves the boundary
 * past it (j's own entry is j, cv[e], e: only the other one is read). */
static void park(struct cl_dsx *d, int j, bool on) {
  /* (restrict: the row arrays are apart, and the loop's bound and the
   * row's boundary need no reload after each store) */
  int *restrict rc = d->rc, *restrict cidx = d->cidx, *restrict rpos = d->rpos, *restrict ra = d->ra;
  double *restrict rw = d->rw;
  const int *restrict ri = d->ri;
  const double *restrict cv = d->cv;
  for (int e = d->cp[j], e1 = d->cp[j + 1]; e < e1; e++) {
    int i = ri[e], a = rpos[e], b = on ? --ra[i] : ra[i]++;
    if (a == b) continue;
    int eb = cidx[b];
    rc[a] = rc[b], rw[a] = rw[b], cidx[a] = eb, rpos[eb] = a;
    rc[b] = j, rw[b] = cv[e], cidx[b] = e, rpos[e] = b;
  }
}

static double *log_r(const struct cl_dsx *d, int t) { return d->lg->r + (size_t)t * d->cap; }
static unsigned char *log_pf(const struct cl_dsx *d, int t) { return d->lg->pf + (size_t)t * d->cap; }

/* Parked column j's reduced cost brought up to date: each logged pivot's
 * alpha of j as ratio_test's scatter summed it (its rows upwards, but its
 * offer row last when that row was paired), times theta·sigma, added in
 * order. The rows with a zero multiplier, which the scatter skips, add a
 * zero here: the same sum to the bit (a is never -0), without a branch. */
static void catch_up(struct cl_dsx *d, int j) {
  struct dsx_log *lg = d->lg;
  if (unpriced(d->dj[j])) d->dj[j] = d->c[j] - dot_col(d, d->yp, j); /* price()'s, then the log since */
  int t0 = lg->sync[j], *o = d->nzi, len = 0, lo = 0;
  lg->sync[j] = lg->ln;
  if (t0 >= lg->ln) return;
  int g = d->grp[j];
  double ag = 0, *v = d->g;
  const unsigned char *hit = lg->hit;
  if (g >= 0 && !hit[g]) g = -1;
  for (int e = d->cp[j]; e < d->cp[j + 1]; e++) { /* by row: a column is short */
    if (!hit[d->ri[e]]) continue; /* zero in every pivot since: adds +0 */
    if (d->ri[e] == g) {
      ag = d->cv[e];
      continue;
    }
    int z = len++;
    for (; z > 0 && o[z - 1] > d->ri[e]; z--) o[z] = o[z - 1], v[z] = v[z - 1];
    o[z] = d->ri[e], v[z] = d->cv[e];
    lo += d->ri[e] < g;
  }
  /* (locals: the stores into dj would otherwise reload everything) */
  const double *r = log_r(d, t0), *ts = lg->ts;
  const unsigned char *pf = log_pf(d, t0);
  double dj = d->dj[j];
  size_t stride = (size_t)d->cap;
  int t = t0, ln = lg->ln;
  /* Two logged pivots at a time share the loads of j's rows and entries;
   * each alpha summed in its order, the dj added in theirs. */
  for (; t + 2 <= ln; t += 2, r += 2 * stride, pf += 2 * stride) {
    const double *r1 = r + stride;
    const unsigned char *pf1 = pf + stride;
    double a0 = 0, a1 = 0;
    for (int z = 0; z < lo; z++) a0 += r[o[z]] * v[z], a1 += r1[o[z]] * v[z];
    if (g >= 0 && !pf[g]) a0 += r[g] * ag;
    if (g >= 0 && !pf1[g]) a1 += r1[g] * ag;
    for (int z = lo; z < len; z++) a0 += r[o[z]] * v[z], a1 += r1[o[z]] * v[z];
    if (g >= 0 && pf[g]) a0 += r[g] * ag;
    if (g >= 0 && pf1[g]) a1 += r1[g] * ag;
    dj += ts[t] * a0;
    dj += ts[t + 1] * a1;
  }
  for (; t < ln; t++, r += stride, pf += stride) {
    double a = 0;
    for (int z = 0; z < lo; z++) a += r[o[z]] * v[z];
    if (g >= 0 && !pf[g]) a += r[g] * ag;
    for (int z = lo; z < len; z++) a += r[o[z]] * v[z];
    if (g >= 0 && pf[g]) a += r[g] * ag;
    dj += ts[t] * a;
  }
  d->dj[j] = dj;
}

static void log_empty(struct cl_dsx *d) {
  d->lg->ln = 0, d->lg->epoch++;
  memset(d->lg->hit, 0, (size_t)d->m);
}

/* A full log while a save may be restored: longer (up to a limit), so
 * that the restore finds its part still there. */
static bool log_grow(struct cl_dsx *d) {
  struct dsx_log *lg = d->lg;
  if (lg->keep < 0 || lg->cap >= 4 * LOG_CAP) return false;
  int cap = 2 * lg->cap;
  double *ts = realloc(lg->ts, (size_t)cap * sizeof *ts);
  if (ts) lg->ts = ts;
  double *r = realloc(lg->r, (size_t)cap * d->cap * sizeof *r);
  if (r) lg->r = r;
  unsigned char *pf = realloc(lg->pf, (size_t)cap * d->cap);
  if (pf) lg->pf = pf;
  if (!ts || !r || !pf) return false;
  lg->cap = cap;
  return true;
}

/* Every parked reduced cost up to date, row by row as the pivot row was
 * built (as cheap as it was without parking), and the log emptied. */
static void catch_up_all(struct cl_dsx *d) {
  struct dsx_log *lg = d->lg;
  double *acc = d->aq; /* scratch between pivots */
  int t0 = lg->ln;
  for (int j = 0; j < d->n; j++) {
    acc[j] = 0.0;
    if (parked(d, j) && unpriced(d->dj[j])) d->dj[j] = d->c[j] - dot_col(d, d->yp, j);
    if (parked(d, j) && lg->sync[j] < t0) t0 = lg->sync[j];
  }
  for (int t = t0; t < lg->ln; t++) {
    const double *r = log_r(d, t);
    const unsigned char *pf = log_pf(d, t);
    for (int pass = 0; pass < 2; pass++) /* the rows, then the paired rows */
      for (int i = 0; i < d->m; i++) {
        if (r[i] == 0.0 || pf[i] != pass) continue;
        for (int e = d->ra[i]; e < d->rp[i + 1]; e++) acc[d->rc[e]] += r[i] * d->rw[e];
      }
    for (int j = 0; j < d->n; j++) {
      if (!parked(d, j)) continue;
      if (lg->sync[j] <= t) d->dj[j] += lg->ts[t] * acc[j];
      acc[j] = 0.0;
    }
  }
  log_empty(d);
  memset(lg->sync, 0, (size_t)d->n * sizeof *lg->sync);
}

/* p itself, as a pointer the compiler cannot trace to p (an empty asm
 * with p in and out of a register): a loop that loads a[c] through one and
 * stores a[c] through the other gets two addresses of base + 8·c instead
 * of one computed into a register (gcc's choice, an instruction more per
 * entry). The same loads and stores in the same order: the compiler must
 * still take them as aliasing. */
static inline double *opaque(double *p) {
#if defined(__GNUC__)
  __asm__("" : "+r"(p));
#endif
  return p;
}

/* rho · column k of [A -I]. */
static double dot_col(const struct cl_dsx *d, const double *rho, int k) {
  if (k >= d->n) return -rho[k - d->n];
  const int *ri = d->ri;
  const double *cv = d->cv;
  double s = 0;
#pragma GCC unroll 4 /* (the sum still in order: one add after another) */
  for (int e = d->cp[k], e1 = d->cp[k + 1]; e < e1; e++) s += rho[ri[e]] * cv[e];
  return s;
}

/* out += f · column k of [A -I] (dense over rows). */
static void add_col(const struct cl_dsx *d, double *out, int k, double f) {
  if (k >= d->n) {
    out[k - d->n] -= f;
    return;
  }
  const int *ri = d->ri;
  const double *cv = d->cv, *ol = opaque(out); /* (base + 8·row in each access: see opaque) */
#pragma GCC unroll 4
  for (int e = d->cp[k], e1 = d->cp[k + 1]; e < e1; e++) out[ri[e]] = ol[ri[e]] + f * cv[e];
}

/* Nonbasic status for variable k given its reduced cost: the bound that
 * keeps it dual feasible when there is a choice; w0 follows its value. */
static void place(struct cl_dsx *d, int k) {
  bool fl = isfinite(d->lo[k]), fh = isfinite(d->hi[k]), was = parked(d, k);
  if (was && !(fl && fh && d->lo[k] == d->hi[k])) catch_up(d, k); /* freed: its dj is read below */
  bool tie = fabs(d->dj[k]) <= TOL_D * (1 + fabs(d->c[k])) &&
             (d->st[k] == AT_LO || d->st[k] == AT_HI); /* no reason to move */
  if (fl && fh && d->lo[k] == d->hi[k]) d->st[k] = FIXED;
  else if (fl && fh) d->st[k] = tie ? d->st[k] : d->dj[k] >= 0 ? AT_LO : AT_HI;
  else d->st[k] = fl ? AT_LO : fh ? AT_HI : FREE;
  if (was != parked(d, k)) {
    park(d, k, !was);
    if (!was) d->lg->sync[k] = d->lg->ln;
  }
  mv_set(d, k);
  double old = d->x[k];
  d->x[k] = d->st[k] == AT_HI ? d->hi[k] : d->st[k] == FREE ? 0.0 : d->lo[k];
  if (d->x[k] != old) add_col(d, d->w0, k, old - d->x[k]);
}

static void set_now(struct cl_dsx *d, int v, double lo, double hi) {
  d->lo[v] = lo, d->hi[v] = hi;
  if (d->st[v] != BASIC) place(d, v);
}

/* The queued bounds taken in, in the order they were set. */
static void take_bounds(struct cl_dsx *d) {
  struct dsx_queue *q = d->q;
  for (int z = 0; z < q->n; z++) set_now(d, q->v[z], q->lo[z], q->hi[z]);
  q->n = 0;
}

static bool queue_grow(struct dsx_queue *q) {
  int cap = 2 * q->cap;
  int *v = realloc(q->v, (size_t)cap * sizeof *v);
  if (v) q->v = v;
  double *lo = realloc(q->lo, (size_t)cap * sizeof *lo);
  if (lo) q->lo = lo;
  double *hi = realloc(q->hi, (size_t)cap * sizeof *hi);
  if (hi) q->hi = hi;
  if (!v || !lo || !hi) return false;
  q->cap = cap;
  return true;
}

static void queue_free(struct dsx_queue *q) {
  if (q) free(q->v), free(q->lo), free(q->hi), free(q->late), free(q->dj), free(q->sync), free(q->list);
  free(q);
}

static int queue_alloc(struct cl_dsx *d) {
  struct dsx_queue *q = calloc(1, sizeof *q);
  d->q = q;
  if (!q) return FX_CLEAR_ENOMEM;
  size_t n = (size_t)d->n + 1;
  q->cap = (int)n + 15;
  q->v = malloc((size_t)q->cap * sizeof *q->v);
  q->lo = malloc((size_t)q->cap * sizeof *q->lo), q->hi = malloc((size_t)q->cap * sizeof *q->hi);
  q->late = calloc(n, 1), q->dj = malloc(n * sizeof *q->dj);
  q->sync = malloc(n * sizeof *q->sync), q->list = malloc(n * sizeof *q->list);
  return q->v && q->lo && q->hi && q->late && q->dj && q->sync && q->list ? 0 : FX_CLEAR_ENOMEM;
}

/* take_bounds before a basis is put back (basis_set prices every reduced
 * cost after): a parked column freed with pivots to catch up is freed
 * without them (its status from its stale reduced cost, to be decided
 * again once priced) and marked late with what the catch-up needs. */
static void take_bounds_late(struct cl_dsx *d) {
  struct dsx_queue *q = d->q;
  struct dsx_log *lg = d->lg;
  for (int z = 0; z < q->n; z++) {
    int v = q->v[z];
    double lo = q->lo[z], hi = q->hi[z];
    bool fixed = isfinite(lo) && isfinite(hi) && lo == hi;
    if (d->st[v] != BASIC && parked(d, v) && !fixed && (lg->sync[v] < lg->ln || unpriced(d->dj[v])) &&
        !q->late[v]) {
      q->late[v] = 1, q->dj[v] = d->dj[v], q->sync[v] = lg->sync[v], q->list[q->nl++] = v;
      d->n_late++, d->need_yq |= unpriced(d->dj[v]);
      d->dj[v] = 0.0, lg->sync[v] = lg->ln; /* place's catch-up: nothing */
    }
    set_now(d, v, lo, hi);
  }
  q->n = 0;
}

/* Late column v about to be placed after pricing: place keeps its status
 * where its fresh reduced cost ties (the status taking its bounds in
 * would have given it: dj >= 0 at its lower bound, from the reduced cost
 * caught up then), and decides by the fresh one elsewhere. Only a tie
 * pays the catch-up, from the log basis_set kept. */
static void late_status(struct cl_dsx *d, int v) {
  struct dsx_queue *q = d->q;
  struct dsx_log *lg = d->lg;
  q->late[v] = 0;
  if (!boxed(d, v) || d->lo[v] == d->hi[v]) return; /* FIXED, or one-sided: the status is moot */
  if (!(fabs(d->dj[v]) <= TOL_D * (1 + fabs(d->c[v])))) return; /* (place's test) */
  double fresh = d->dj[v];
  int sync = lg->sync[v];
  d->dj[v] = unpriced(q->dj[v]) ? d->c[v] - dot_col(d, d->yq, v) : q->dj[v], lg->sync[v] = q->sync[v];
  catch_up(d, v);
  d->n_ties++;
  d->st[v] = d->dj[v] >= 0 ? AT_LO : AT_HI;
  d->dj[v] = fresh, lg->sync[v] = sync;
}

/* Row i's entry in structural column j (0 when none). */
static double entry(const struct cl_dsx *d, int i, int j) {
  for (int e = d->cp[j]; e < d->cp[j + 1]; e++)
    if (d->ri[e] == i) return d->cv[e];
  return 0.0;
}

/* c ? a : b by the bits (a mask, no branch: the rows' loops below stay
 * one vector loop); the same value as the select. */
static inline double pick(bool c, double a, double b) {
  uint64_t ua, ub, mk = (uint64_t)0 - (uint64_t)c;
  memcpy(&ua, &a, sizeof ua), memcpy(&ub, &b, sizeof ub);
  ua = (ua & mk) | (ub & ~mk);
  memcpy(&a, &ua, sizeof a);
  return a;
}

/* solve_b's row variables: ro = tt - w, tt zero again; keep: a nonbasic
 * row's ro left as it was (rs: the rows' statuses). */
CL_SIMD static void rows_out(double *restrict ro, double *restrict tt, const double *restrict w,
                             const signed char *restrict rs, int m, bool keep) {
  if (!keep) {
    for (int i = 0; i < m; i++) ro[i] = tt[i] - w[i], tt[i] = 0.0;
    return;
  }
  for (int i = 0; i < m; i++) {
    double v = tt[i] - w[i];
    tt[i] = 0.0;
    ro[i] = pick(rs[i] == BASIC, v, ro[i]);
  }
}

/* vs[s] = row s of E times g (nz entries, on the tight rows' slots nzi),
 * for the k rows. Four rows at a time share the loads of nzi and g, their
 * four sums side by side (one vector: the four never mix, each is summed
 * in z's order as alone). */
CL_SIMD static void E_times(const double *restrict E, size_t cap, int k, const int *restrict nzi,
                            const double *restrict g, int nz, double *restrict vs) {
  int s = 0;
  for (; s + 4 <= k; s += 4) {
    const double *e0 = E + (size_t)s * cap, *e1 = e0 + cap, *e2 = e1 + cap, *e3 = e2 + cap;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
    for (int z = 0; z < nz; z++) {
      int t = nzi[z];
      double gt = g[z];
      v0 += e0[t] * gt, v1 += e1[t] * gt, v2 += e2[t] * gt, v3 += e3[t] * gt;
    }
    vs[s] = v0, vs[s + 1] = v1, vs[s + 2] = v2, vs[s + 3] = v3;
  }
  for (; s < k; s++) {
    const double *e = E + (size_t)s * cap;
    double v = 0;
    for (int z = 0; z < nz; z++) v += e[nzi[z]] * g[z];
    vs[s] = v;
  }
}

/* out (per basic variable) = B^-1 w, w dense over rows: the basic columns
 * through K's inverse, the basic row variables from their rows. keep: a
 * non-basic row variable's entry of out is left as it was (x holds its
 * value there); else it is overwritten (aq: only its basic entries are
 * read), which spares the loop over the rows its test. Compiled twice
 * too (CL_SIMD): the AVX2 copy's scalar products and sums of add_col,
 * inlined, are the same operations in three-operand form, five
 * instructions an entry instead of six. */
CL_SIMD static void solve_b(struct cl_dsx *d, const double *w, double *out, bool keep) {
  int k = d->k, nz = 0; /* t: zero (left so below) */
  /* The keys first (their rows hold nothing else basic); what their
   * columns put on the other tight rows is taken off those rows' w. */
  for (int r = 0; r < d->np; r++) {
    int g = d->pl[r], j = d->key[g];
    double z = w[g] != 0.0 ? w[g] / d->ka[g] : w[g]; /* (ka > 0: the same zero) */
    out[j] = z;
    if (z != 0.0) add_col(d, d->t, j, z);
  }
  /* w is mostly one or a few columns: only its tight rows' entries count. */
  for (int t = 0; t < k; t++) {
    double v = w[d->rv[t]] - d->t[d->rv[t]];
    if (v != 0.0) d->nzi[nz] = t, d->g[nz++] = v;
  }
  /* E times those entries (into tmp: refactor's scratch, free here), then
   * t taken up row after row as before */
  double *vs = d->tmp;
  E_times(d->E, (size_t)d->cap, k, d->nzi, d->g, nz, vs);
  for (int s = 0; s < k; s++) {
    out[d->sv[s]] = vs[s];
    if (vs[s] != 0.0) add_col(d, d->t, d->sv[s], vs[s]);
  }
  /* The basic row variables, by row rather than through head (the same
   * writes, in order where head scattered them; a non-basic one keeps its
   * value) */
  rows_out(out + d->n, d->t, w, d->st + d->n, d->m, keep);
}

/* The paired rows' entries of c_B B^-1 whose other entries are in y:
 * y · key column = its cost (no other of y's rows has a pair's row in that
 * column; its own entry is still 0 here). */
static void price_pairs(struct cl_dsx *d) {
  for (int r = 0; r < d->np; r++) {
    int g = d->pl[r], j = d->key[g];
    d->y[g] = (d->c[j] - dot_col(d, d->y, j)) / d->ka[g];
  }
}

/* rho (dense over rows) = row of B^-1 for basic variable p, but on the
 * paired rows (the pivot row completes it); h[t] its entries on the tight
 * rows in K's inverse. */
static void btran(struct cl_dsx *d, int p) {
  int k = d->k;
  for (int z = 0; z < d->nrz; z++) d->rho[d->rz[z]] = 0.0;
  d->nrz = 0;
  if (p < d->n && d->slot[p] < 0) { /* a key: its row alone */
    memset(d->h, 0, (size_t)k * sizeof *d->h);
  } else if (p < d->n) {
    memcpy(d->h, E_row(d, d->slot[p]), (size_t)k * sizeof *d->h);
  } else {
    int i0 = p - d->n;
    memset(d->h, 0, (size_t)k * sizeof *d->h);
    for (int s = 0; s < k; s++) {
      double a = entry(d, i0, d->sv[s]);
      if (a == 0.0) continue;
      const double *e = E_row(d, s);
      for (int t = 0; t < k; t++) d->h[t] += a * e[t];
    }
    d->rho[i0] = -1.0, d->rz[d->nrz++] = i0;
  }
  int *rz = d->rz, nrz = d->nrz;
  for (int t = 0; t < k; t++) d->rho[d->rv[t]] = d->h[t], rz[nrz++] = d->rv[t];
  d->nrz = nrz;
}

static bool is_key(const struct cl_dsx *d, int v) { return v < d->n && d->grp[v] >= 0 && d->key[d->grp[v]] == v; }

static void pl_add(struct cl_dsx *d, int g, int j, double a) {
  d->key[g] = j, d->ka[g] = a, d->ppos[g] = d->np, d->pl[d->np++] = g;
}

static void pl_del(struct cl_dsx *d, int g) {
  int r = d->ppos[g], last = d->pl[--d->np];
  d->pl[r] = last, d->ppos[last] = r;
  d->key[g] = -1;
}

/* GUB row g's one basic column (and its entry), or -1. */
static int only_basic(const struct cl_dsx *d, int g, double *a) {
  for (int e = d->rp[g]; e < d->rp[g + 1]; e++)
    if (d->st[d->rc[e]] == BASIC) {
      *a = d->rw[e];
      return d->rc[e];
    }
  return -1;
}

/* The basic columns in increasing order into list (n entries at most),
 * eight statuses at a time where st's bytes allow (a basis has one column
 * in 25 or fewer basic); their count. */
static int basic_cols(const struct cl_dsx *d, int *list) {
  int n = d->n, nb = 0, v0 = 0;
  for (; ST_WORDS && !d->plain && v0 + 8 <= n; v0 += 8)
    for (uint64_t z = ~nonzero_bytes(st_word(d->st, v0)) & BYTES_HI; z; z &= z - 1)
      list[nb++] = v0 + __builtin_ctzll(z) / 8;
  for (int v = v0; v < n; v++)
    if (d->st[v] == BASIC) list[nb++] = v;
  return nb;
}

/* Groups' basic columns (bc, nb of them) counted again and every tight
 * GUB row with one basic column paired (before E is built). */
static void pairs_again(struct cl_dsx *d, const int *bc, int nb) {
  d->np = 0;
  for (int i = 0; i < d->m; i++) {
    if (d->gnb[i] >= 0) d->gnb[i] = 0;
    d->key[i] = -1;
  }
  for (int z = 0; z < nb; z++)
    if (d->grp[bc[z]] >= 0) d->gnb[d->grp[bc[z]]]++;
  for (int i = 0; i < d->m; i++) {
    double a = 0;
    int j = d->gnb[i] == 1 && d->st[d->n + i] != BASIC ? only_basic(d, i, &a) : -1;
    if (j >= 0) pl_add(d, i, j, a);
  }
}

/* Slots from the statuses: the basic columns and the tight rows (each in
 * increasing order). */
static bool slots(struct cl_dsx *d) {
  int ns = 0, nt = 0, *bc = d->flip, nb = basic_cols(d, bc); /* (flip: free outside a pivot) */
  pairs_again(d, bc, nb);
  if (d->slots_kept && !d->plain) {
    for (int s = 0; s < d->k; s++) d->slot[d->sv[s]] = -1, d->slot[d->n + d->rv[s]] = -1;
  } else {
    for (int v = 0; v < d->n + d->m; v++) d->slot[v] = -1;
  }
  for (int z = 0; z < nb; z++)
    if (!is_key(d, bc[z])) d->sv[ns] = bc[z], d->slot[bc[z]] = ns++;
  for (int i = 0; i < d->m; i++)
    if (d->st[d->n + i] != BASIC && d->key[i] < 0) d->rv[nt] = i, d->slot[d->n + i] = nt++;
  d->k = ns;
  d->slots_kept = ns == nt;
  return ns == nt;
}

/* Rows of a are K's rows (t), columns its columns (s); reducing a to I
 * turns b (I at first) into K^-1, whose rows are then s and columns t. */
/* One Gauss-Jordan column's eliminations: every row r but col whose
 * entry f in column col is not zero loses f times row col, in a from col
 * on and in b, four rows at a time (the rows with f != 0 listed first in
 * rl: each f is its own row's entry, which no other row's elimination
 * touches). Each entry is its own x - f·y as one row at a time had it. */
static inline void gj_four(double *restrict a0, double *restrict a1, double *restrict a2, double *restrict a3,
                           const double *restrict ac, const double *f, int from, int k) {
  for (int j = from; j < k; j++) {
    double y = ac[j];
    a0[j] -= f[0] * y, a1[j] -= f[1] * y, a2[j] -= f[2] * y, a3[j] -= f[3] * y;
  }
}

static inline void gj_one(double *restrict ar, const double *restrict ac, double f, int from, int k) {
  for (int j = from; j < k; j++) ar[j] -= f * ac[j];
}

static inline void gj_rows(double *restrict a, double *restrict b, size_t cap, int k, int col, int *rl) {
  const double *ac = a + (size_t)col * cap, *bc = b + (size_t)col * cap;
  int n = 0;
  for (int r = 0; r < k; r++)
    if (r != col && a[(size_t)r * cap + col] != 0.0) rl[n++] = r;
  int z = 0;
  for (; z + 4 <= n; z += 4) {
    double f[4];
    double *ra[4], *rb[4];
    for (int i = 0; i < 4; i++)
      f[i] = a[(size_t)rl[z + i] * cap + col], ra[i] = a + (size_t)rl[z + i] * cap, rb[i] = b + (size_t)rl[z + i] * cap;
    gj_four(ra[0], ra[1], ra[2], ra[3], ac, f, col, k);
    gj_four(rb[0], rb[1], rb[2], rb[3], bc, f, 0, k);
  }
  for (; z < n; z++) {
    double f = a[(size_t)rl[z] * cap + col];
    gj_one(a + (size_t)rl[z] * cap, ac, f, col, k);
    gj_one(b + (size_t)rl[z] * cap, bc, f, 0, k);
  }
}

/* rl: scratch of k (rows grouped as above), or NULL: a row at a time. */
CL_SIMD static bool gauss_jordan(double *restrict a, double *restrict b, size_t cap, int k, int *rl) {
  for (int col = 0; col < k; col++) {
    int piv = col;
    for (int r = col + 1; r < k; r++)
      if (fabs(a[(size_t)r * cap + col]) > fabs(a[(size_t)piv * cap + col])) piv = r;
    double pv = a[(size_t)piv * cap + col];
    if (fabs(pv) < 1e-11) return false;
    if (piv != col)
      for (int j = 0; j < k; j++) {
        double x = a[(size_t)piv * cap + j];
        a[(size_t)piv * cap + j] = a[(size_t)col * cap + j], a[(size_t)col * cap + j] = x;
        x = b[(size_t)piv * cap + j];
        b[(size_t)piv * cap + j] = b[(size_t)col * cap + j], b[(size_t)col * cap + j] = x;
      }
    double inv = 1.0 / pv;
    double *ac = a + (size_t)col * cap, *bc = b + (size_t)col * cap;
    for (int j = 0; j < k; j++) ac[j] *= inv, bc[j] *= inv;
    if (rl) {
      gj_rows(a, b, cap, k, col, rl);
      continue;
    }
    for (int r = 0; r < k; r++) { /* (for tests' plain copies: as before round 22) */
      double f = a[(size_t)r * cap + col];
      if (r == col || f == 0.0) continue;
      double *ar = a + (size_t)r * cap, *br = b + (size_t)r * cap;
      for (int j = col; j < k; j++) ar[j] -= f * ac[j];
      for (int j = 0; j < k; j++) br[j] -= f * bc[j];
    }
  }
  return true;
}

/* K's inverse from fc when fc holds this K's (the same slots). */
static bool fact_hit(struct cl_dsx *d) {
  const struct dsx_fact *f = d->fc;
  int k = d->k;
  if (!f || f->k != k || d->plain || memcmp(f->sv, d->sv, (size_t)k * sizeof *f->sv) ||
      memcmp(f->rv, d->rv, (size_t)k * sizeof *f->rv))
    return false;
  for (int s = 0; s < k; s++) memcpy(E_row(d, s), f->E + (size_t)s * k, (size_t)k * sizeof *f->E);
  d->n_fact_hits++;
  return true;
}

/* K's inverse just computed kept in fc (nothing kept when out of memory:
 * fc is only a short cut). */
static void fact_keep(struct cl_dsx *d) {
  struct dsx_fact *f = d->fc;
  int k = d->k;
  if (!f && !(f = d->fc = calloc(1, sizeof *f))) return;
  f->k = -1;
  if (k > f->cap) {
    int *sv = realloc(f->sv, (size_t)k * sizeof *sv);
    if (sv) f->sv = sv;
    int *rv = realloc(f->rv, (size_t)k * sizeof *rv);
    if (rv) f->rv = rv;
    double *E = realloc(f->E, (size_t)k * k * sizeof *E);
    if (E) f->E = E;
    if (!sv || !rv || !E) return;
    f->cap = k;
  }
  if (k > 0) /* (an empty K: f->sv may be NULL, which memcpy may not take) */
    memcpy(f->sv, d->sv, (size_t)k * sizeof *f->sv), memcpy(f->rv, d->rv, (size_t)k * sizeof *f->rv);
  for (int s = 0; s < k; s++) memcpy(f->E + (size_t)s * k, E_row(d, s), (size_t)k * sizeof *f->E);
  f->k = k;
}

static void fact_free(struct dsx_fact *f) {
  if (f) free(f->sv), free(f->rv), free(f->E);
  free(f);
}

/* Gauss-Jordan with partial pivoting on K; false when it is singular. A
 * jump's K is kept, and taken from there when the next refactorisation's
 * K is the same. */
static bool refactor(struct cl_dsx *d) {
  if (!slots(d)) return false;
  int k = d->k, cap = d->cap;
  if (fact_hit(d)) {
    d->n_upd = 0;
    return true;
  }
  double *a = d->tmp, *b = d->E;
  for (int r = 0; r < k; r++) {
    memset(a + (size_t)r * cap, 0, (size_t)k * sizeof *a);
    memset(b + (size_t)r * cap, 0, (size_t)k * sizeof *b);
    b[(size_t)r * cap + r] = 1.0;
  }
  for (int s = 0; s < k; s++) {
    int j = d->sv[s];
    for (int e = d->cp[j]; e < d->cp[j + 1]; e++) {
      int t = d->slot[d->n + d->ri[e]];
      if (t >= 0) a[(size_t)t * cap + s] = d->cv[e];
    }
  }
  if (!gauss_jordan(a, b, (size_t)cap, k, d->plain ? NULL : d->nzi)) return false;
  if (d->fc_keep) fact_keep(d);
  d->n_upd = 0;
  return true;
}

/* price()'s reduced costs when it leaves the parked ones for later: a
 * basic variable's 0, a parked one's mark, every other (mv's bit set)
 * c - y·a. The first pass is a select per variable (no call, no branch);
 * the second walks mv's bits, a jump's 700 or so of 4,000 variables. */
CL_SIMD static void price_moving(struct cl_dsx *d, double mark) {
  const signed char *restrict st = d->st;
  double *restrict dj = d->dj;
  for (int v = 0, nv = d->n + d->m; v < nv; v++) dj[v] = st[v] == BASIC ? 0.0 : mark;
  for (int wi = 0, nw = (d->n + d->m + 63) / 64; wi < nw; wi++)
    for (uint64_t b = d->mv[wi]; b; b &= b - 1) {
      int v = wi * 64 + __builtin_ctzll(b);
      dj[v] = d->c[v] - dot_col(d, d->y, v);
    }
}

/* y = c_B B^-1 (the row variables cost nothing: y is 0 on rows not tight),
 * then every nonbasic reduced cost. */
CL_SIMD static void price(struct cl_dsx *d) {
  int k = d->k;
  memset(d->y, 0, (size_t)d->m * sizeof *d->y);
  memset(d->h, 0, (size_t)k * sizeof *d->h);
  for (int s = 0; s < k; s++) {
    double cb = d->c[d->sv[s]];
    if (cb == 0.0) continue;
    const double *e = E_row(d, s);
    for (int t = 0; t < k; t++) d->h[t] += cb * e[t];
  }
  for (int t = 0; t < k; t++) d->y[d->rv[t]] = d->h[t];
  price_pairs(d);
  /* The parked columns' reduced costs left UNPRICED, to be priced from a
   * copy of y (yp) when read; not while a restore may go back to a save,
   * whose UNPRICED ones are the copy's there is now */
  struct dsx_log *lg = d->lg;
  bool later = lg->keep < 0;
  double mark = unpriced_mark();
  if (later) memcpy(d->yp, d->y, (size_t)d->m * sizeof *d->yp);
  if (later && !d->plain) {
    /* The same values in two passes: every variable 0 or UNPRICED, then
     * the moving ones (mv's: not basic, not parked) priced. */
    price_moving(d, mark);
  } else {
    for (int v = 0; v < d->n + d->m; v++)
      d->dj[v] = d->st[v] == BASIC ? 0.0 : later && parked(d, v) ? mark : d->c[v] - dot_col(d, d->y, v);
  }
  /* Every dj fresh: the log is done with, unless a restore may go back
   * into it (a snapshot's parked dj are as of its save). */
  if (lg->keep < 0 && d->hold) d->held = true; /* emptied once basis_set is done with it */
  else if (lg->keep < 0) log_empty(d);
  /* (held: basis_set sets every sync to 0 with the log emptied, and
   * nothing reads one before: place catches up no parked column there,
   * late_status sets the one it reads) */
  if (!d->held || d->plain)
    for (int j = 0; j < d->n; j++) lg->sync[j] = lg->ln;
}

/* x_B from the nonbasic values. */
static void primal(struct cl_dsx *d) {
  d->ob_ok = false; /* (x moves: the list is the last pivot's) */
  solve_b(d, d->w0, d->x, true);
}

/* w0 again from every nonbasic value (its updates drift), then x_B. */
CL_SIMD static void primal_full(struct cl_dsx *d) {
  memset(d->w0, 0, (size_t)d->m * sizeof *d->w0);
  for (int v = 0; v < d->n + d->m; v++)
    if (d->st[v] != BASIC && d->x[v] != 0.0) add_col(d, d->w0, v, -d->x[v]);
  primal(d);
}

/* realloc keeping the type; ok turns false at the first failure. */
#define GROW(p, n) (ok = ok && (q = realloc((p), (n) * sizeof *(p))) != NULL && ((p) = q, true))

static int grow_rows(struct cl_dsx *d, int cap) {
  size_t nv = (size_t)d->n + (size_t)cap;
  /* (not zeroed: K's inverse is read only within k x k, where refactor,
   * update_E and unpair write every entry before it is read; calloc's
   * clearing of up to cap^2 doubles was 1.2 % of the instructions at
   * 1,000 offers) */
  double *E = malloc((size_t)cap * cap * sizeof *E), *tmp = malloc((size_t)cap * cap * sizeof *tmp);
  if (!E || !tmp) {
    free(E), free(tmp);
    return FX_CLEAR_ENOMEM;
  }
  bool ok = true;
  void *q;
  GROW(d->rs, (size_t)cap), GROW(d->lo, nv), GROW(d->hi, nv), GROW(d->c, nv), GROW(d->x, nv);
  GROW(d->dj, nv), GROW(d->ar, nv), GROW(d->aq, nv), GROW(d->st, nv), GROW(d->pos, nv);
  GROW(d->slot, nv), GROW(d->cd, nv), GROW(d->flip, nv), GROW(d->mz, nv), GROW(d->head, (size_t)cap);
  GROW(d->nzi, (size_t)cap), GROW(d->ob, (size_t)cap);
  GROW(d->sv, (size_t)cap), GROW(d->rv, (size_t)cap), GROW(d->y, (size_t)cap);
  GROW(d->rho, (size_t)cap), GROW(d->w, (size_t)cap), GROW(d->t, (size_t)cap), GROW(d->rz, (size_t)cap);
  GROW(d->g, (size_t)cap), GROW(d->h, (size_t)cap), GROW(d->rp, (size_t)cap + 1);
  GROW(d->w0, (size_t)cap), GROW(d->dw, nv), GROW(d->yp, (size_t)cap), GROW(d->yq, (size_t)cap);
  GROW(d->gnb, (size_t)cap), GROW(d->key, (size_t)cap), GROW(d->ppos, (size_t)cap);
  GROW(d->pl, (size_t)cap), GROW(d->ka, (size_t)cap), GROW(d->ra, (size_t)cap);
  GROW(d->lg->r, (size_t)cap * d->lg->cap), GROW(d->lg->pf, (size_t)cap * d->lg->cap); /* empty: see add_row */
  GROW(d->lg->hit, (size_t)cap);
  size_t w0 = d->mv ? ((size_t)d->n + (size_t)d->cap + 63) / 64 : 0, w1 = (nv + 63) / 64;
  GROW(d->mv, w1);
  if (ok) memset(d->mv + w0, 0, (w1 - w0) * sizeof *d->mv); /* variables to come: none moves */
  size_t r0 = d->rb ? ((size_t)d->cap + 63) / 64 : 0, r1 = ((size_t)cap + 63) / 64;
  GROW(d->rb, r1);
  if (ok) memset(d->rb + r0, 0, (r1 - r0) * sizeof *d->rb);
  if (ok) { /* the zero work vectors: their new entries too (all of them at first) */
    size_t c0 = d->E ? (size_t)d->cap : 0, v0 = d->E ? (size_t)d->n + c0 : 0;
    memset(d->ar + v0, 0, (nv - v0) * sizeof *d->ar);
    memset(d->rho + c0, 0, ((size_t)cap - c0) * sizeof *d->rho);
    memset(d->w + c0, 0, ((size_t)cap - c0) * sizeof *d->w);
    memset(d->t + c0, 0, ((size_t)cap - c0) * sizeof *d->t);
  }
  if (!ok) { /* the copy stays as it was, at its old capacity */
    free(E), free(tmp);
    return FX_CLEAR_ENOMEM;
  }
  /* K's inverse changes its stride with the capacity: moved last, so that
   * a failure above leaves E and cap in step. */
  for (int s = 0; s < d->k; s++) memcpy(E + (size_t)s * cap, E_row(d, s), (size_t)d->k * sizeof *E);
  free(d->E), free(d->tmp);
  d->E = E, d->tmp = tmp;
  d->cap = cap;
  return 0;
}
#undef GROW

static int load_cols(struct cl_dsx *d, glp_prob *P) {
  int m = d->m, n = d->n;
  int *ind = malloc(((size_t)m + 1) * sizeof *ind);
  double *val = malloc(((size_t)m + 1) * sizeof *val);
  d->cp = malloc(((size_t)n + 1) * sizeof *d->cp);
  d->grp = malloc(((size_t)n + 1) * sizeof *d->grp);
  d->lg->sync = calloc((size_t)n + 1, sizeof *d->lg->sync);
  d->nnz_cap = glp_get_num_nz(P) + 64;
  d->ri = malloc((size_t)d->nnz_cap * sizeof *d->ri);
  d->cv = malloc((size_t)d->nnz_cap * sizeof *d->cv);
  if (!ind || !val || !d->cp || !d->grp || !d->ri || !d->cv || !d->lg->sync) {
    free(ind), free(val);
    return FX_CLEAR_ENOMEM;
  }
  int e = 0;
  for (int j = 1; j <= n; j++) {
    d->cp[j - 1] = e, d->grp[j - 1] = -1;
    int len = glp_get_mat_col(P, j, ind, val);
    for (int t = 1; t <= len; t++, e++) d->ri[e] = ind[t] - 1, d->cv[e] = val[t] * d->rs[ind[t] - 1];
  }
  d->cp[n] = d->nnz = e;
  free(ind), free(val);
  return queue_alloc(d);
}

/* The row-wise copy from the columns, each row's parked entries last
 * (none while loading: every column is then free to move). */
static void rows_build(struct cl_dsx *d, bool loading) {
  int *at = d->flip, *pk = d->nzi; /* scratch: n + cap and cap entries, m each */
  memset(d->rp, 0, ((size_t)d->m + 1) * sizeof *d->rp);
  memset(pk, 0, (size_t)d->m * sizeof *pk);
  for (int j = 0; j < d->n; j++)
    for (int e = d->cp[j]; e < d->cp[j + 1]; e++) {
      d->rp[d->ri[e] + 1]++;
      if (!loading && parked(d, j)) pk[d->ri[e]]++;
    }
  for (int i = 0; i < d->m; i++) d->rp[i + 1] += d->rp[i];
  for (int i = 0; i < d->m; i++) at[i] = d->rp[i], d->ra[i] = pk[i] = d->rp[i + 1] - pk[i];
  for (int j = 0; j < d->n; j++)
    for (int e = d->cp[j]; e < d->cp[j + 1]; e++) {
      int i = d->ri[e], q = !loading && parked(d, j) ? pk[i]++ : at[i]++;
      d->rc[q] = j, d->rw[q] = d->cv[e], d->cidx[q] = e, d->rpos[e] = q;
    }
}

static int load_rows(struct cl_dsx *d) {
  d->rc = malloc((size_t)d->nnz_cap * sizeof *d->rc);
  d->rw = malloc((size_t)d->nnz_cap * sizeof *d->rw);
  d->rpos = malloc((size_t)d->nnz_cap * sizeof *d->rpos);
  d->cidx = malloc((size_t)d->nnz_cap * sizeof *d->cidx);
  if (!d->rc || !d->rw || !d->rpos || !d->cidx) return FX_CLEAR_ENOMEM;
  rows_build(d, true);
  return 0;
}

static void bounds_of(int type, double lb, double ub, double s, double *lo, double *hi) {
  *lo = type == GLP_LO || type == GLP_DB || type == GLP_FX ? lb * s : -HUGE_VAL;
  *hi = type == GLP_UP || type == GLP_DB || type == GLP_FX ? ub * s : HUGE_VAL;
  if (type == GLP_FX) *hi = *lo;
}

/* Row i a GUB row when it is an offer's "at most one option" row: an upper
 * bound only, two or more entries all equal and positive (so not an ISP
 * row, whose entries are powers), on columns no GUB row has yet. Any rows
 * disjoint in their columns would do for the algebra; these are the ones
 * that pair. */
static void gub_mark(struct cl_dsx *d, int i) {
  int b = d->rp[i], e = d->rp[i + 1], v = d->n + i;
  d->gnb[i] = -1, d->key[i] = -1;
  if (e - b < 2 || isfinite(d->lo[v]) || !isfinite(d->hi[v]) || !(d->rw[b] > 0)) return;
  for (int q = b; q < e; q++)
    if (d->rw[q] != d->rw[b] || d->grp[d->rc[q]] >= 0) return;
  d->gnb[i] = 0;
  for (int q = b; q < e; q++) d->grp[d->rc[q]] = i, d->gnb[i] += d->st[d->rc[q]] == BASIC;
}

static int load(struct cl_dsx *d, glp_prob *P) {
  int m = glp_get_num_rows(P), n = glp_get_num_cols(P);
  d->n = n, d->m = 0;
  d->lg = calloc(1, sizeof *d->lg);
  if (!d->lg || !(d->lg->ts = malloc(LOG_CAP * sizeof *d->lg->ts))) return FX_CLEAR_ENOMEM;
  d->lg->cap = LOG_CAP, d->lg->keep = -1;
  int rc = grow_rows(d, m + 16);
  if (rc) return rc;
  d->m = m;
  memset(d->lg->hit, 0, (size_t)m);
  for (int i = 1; i <= m; i++) d->rs[i - 1] = glp_get_rii(P, i);
  for (int j = 1; j <= n; j++)
    if (glp_get_sjj(P, j) != 1.0) return CL_DSX_FAIL; /* only rows are scaled here */
  rc = load_cols(d, P);
  if (!rc) rc = load_rows(d);
  if (rc) return rc;
  d->dir = glp_get_obj_dir(P) == GLP_MAX ? -1.0 : 1.0;
  d->obj0 = glp_get_obj_coef(P, 0);
  int nb = 0;
  for (int v = 0; v < n + m; v++) {
    bool row = v >= n;
    int g = row ? v - n + 1 : v + 1;
    int type = row ? glp_get_row_type(P, g) : glp_get_col_type(P, g);
    double lb = row ? glp_get_row_lb(P, g) : glp_get_col_lb(P, g);
    double ub = row ? glp_get_row_ub(P, g) : glp_get_col_ub(P, g);
    bounds_of(type, lb, ub, row ? d->rs[v - n] : 1.0, &d->lo[v], &d->hi[v]);
    d->c[v] = row ? 0.0 : d->dir * glp_get_obj_coef(P, g);
    d->cmax = fmax(d->cmax, fabs(d->c[v]));
    int stat = row ? glp_get_row_stat(P, g) : glp_get_col_stat(P, g);
    d->pos[v] = -1, d->x[v] = 0.0, d->dw[v] = 1.0;
    if (stat == GLP_BS) {
      if (nb == m) return CL_DSX_FAIL;
      d->st[v] = BASIC, d->pos[v] = nb, d->head[nb++] = v;
    } else {
      d->st[v] = stat == GLP_NU ? AT_HI : AT_LO;
    }
  }
  for (int i = 0; i < m; i++) gub_mark(d, i);
  mv_all(d);
  return nb == m ? 0 : CL_DSX_FAIL;
}

void cl_dsx_free(struct cl_dsx *d) {
  if (!d) return;
  free(d->cp), free(d->ri), free(d->cv), free(d->rs);
  free(d->lo), free(d->hi), free(d->c), free(d->x), free(d->dj), free(d->ar), free(d->aq);
  free(d->st), free(d->pos), free(d->slot), free(d->cd), free(d->flip), free(d->nzi), free(d->ob), free(d->head);
  free(d->sv), free(d->rv), free(d->y), free(d->rho), free(d->w), free(d->t), free(d->g), free(d->h);
  free(d->rz), free(d->mz), free(d->yp), free(d->yq);
  free(d->E), free(d->tmp), free(d->rp), free(d->rc), free(d->rw), free(d->w0), free(d->dw);
  free(d->grp), free(d->gnb), free(d->key), free(d->ppos), free(d->pl), free(d->ka);
  free(d->ra), free(d->rpos), free(d->cidx), free(d->mv), free(d->rb);
  if (d->lg) free(d->lg->ts), free(d->lg->r), free(d->lg->pf), free(d->lg->sync), free(d->lg->hit);
  free(d->lg);
  queue_free(d->q);
  fact_free(d->fc);
  free(d);
}

int cl_dsx_create(struct cl_dsx **out, glp_prob *P) {
  struct cl_dsx *d = calloc(1, sizeof *d);
  *out = NULL;
  if (!d) return FX_CLEAR_ENOMEM;
  int rc = load(d, P);
  if (!rc && !refactor(d)) rc = CL_DSX_FAIL;
  if (!rc) /* place() moves w0 before primal_full() sets it: start from 0 */
    memset(d->w0, 0, (size_t)d->m * sizeof *d->w0);
  if (rc) {
    cl_dsx_free(d);
    return rc;
  }
  price(d);
  if (!dual_feasible(d)) { /* not an optimal basis: GLPK goes on */
    cl_dsx_free(d);
    return CL_DSX_FAIL;
  }
  primal_full(d);
  *out = d;
  return 0;
}

void cl_dsx_set_col(struct cl_dsx *d, int j, double lo, double hi) {
  struct dsx_queue *q = d->q;
  if (q->n == q->cap && !queue_grow(q)) take_bounds(d); /* (out of memory: taken in now) */
  q->v[q->n] = j - 1, q->lo[q->n] = lo, q->hi[q->n++] = hi;
}

static int grow_nnz(struct cl_dsx *d, int more) {
  if (d->nnz + more <= d->nnz_cap) return 0;
  int cap = 2 * (d->nnz + more);
  int *ri = realloc(d->ri, (size_t)cap * sizeof *ri);
  if (ri) d->ri = ri;
  double *cv = realloc(d->cv, (size_t)cap * sizeof *cv);
  if (cv) d->cv = cv;
  int *rc = realloc(d->rc, (size_t)cap * sizeof *rc);
  if (rc) d->rc = rc;
  double *rw = realloc(d->rw, (size_t)cap * sizeof *rw);
  if (rw) d->rw = rw;
  int *rpos = realloc(d->rpos, (size_t)cap * sizeof *rpos);
  if (rpos) d->rpos = rpos;
  int *cidx = realloc(d->cidx, (size_t)cap * sizeof *cidx);
  if (cidx) d->cidx = cidx;
  if (!ri || !cv || !rc || !rw || !rpos || !cidx) return FX_CLEAR_ENOMEM;
  d->nnz_cap = cap;
  return 0;
}

/* The new row is not tight (its variable is basic): K stays as it is. */
int cl_dsx_add_row(struct cl_dsx *d, int n, const int *ind, const double *val, double hi) {
  take_bounds(d);
  for (int j = 0; j < d->n; j++) /* priced before the columns get the row's entries (yp has none) */
    if (parked(d, j) && unpriced(d->dj[j])) d->dj[j] = d->c[j] - dot_col(d, d->yp, j);
  if (d->m == d->cap) catch_up_all(d); /* the log's stride moves with cap */
  d->lg->keep = -1; /* a snapshot of fewer rows is not restored */
  int rc = d->m == d->cap ? grow_rows(d, d->cap * 2) : 0;
  if (!rc) rc = grow_nnz(d, n);
  if (rc) return rc;
  int i = d->m, v = d->n + i;
  /* Each listed column gets the new row's entry at its end: shift the
   * entries back in place, from the last column (never overtaking). */
  for (int j = 0; j < d->n; j++) d->flip[j] = 0;
  for (int q = 1; q <= n; q++) d->flip[ind[q] - 1] = q;
  int e = d->nnz + n, old_end = d->nnz;
  for (int j = d->n - 1; j >= 0; j--) {
    int beg = d->cp[j], new_end = e;
    if (d->flip[j]) e--, d->ri[e] = i, d->cv[e] = val[d->flip[j]];
    for (int q = old_end - 1; q >= beg; q--) e--, d->ri[e] = d->ri[q], d->cv[e] = d->cv[q];
    d->cp[j + 1] = new_end;
    old_end = beg;
  }
  d->nnz += n;
  d->w0[i] = 0.0;
  for (int q = 1; q <= n; q++)
    if (d->st[ind[q] - 1] != BASIC) d->w0[i] -= val[q] * d->x[ind[q] - 1];
  d->rs[i] = 1.0;
  d->lo[v] = -HUGE_VAL, d->hi[v] = hi, d->c[v] = 0.0, d->dj[v] = 0.0, d->y[i] = 0.0;
  d->x[v] = 0.0; /* basic: the next solve computes it (a save before copies it) */
  d->st[v] = BASIC, d->pos[v] = i, d->head[i] = v, d->slot[v] = -1, d->dw[v] = 1.0;
  mv_set(d, v);
  d->lg->hit[i] = 0;
  for (int t = 0; t < d->lg->ln; t++) log_r(d, t)[i] = 0.0, log_pf(d, t)[i] = 0; /* the row was not there */
  d->m++;
  rows_build(d, false); /* the columns' entries moved */
  gub_mark(d, i); /* basic: pairs and E stay as they are */
  return 0;
}

/* choose_row's step at position p (its variable's infeasibility beyond
 * the tolerance, the largest so far kept: the first of equal ones). */
static inline void choose_at(const struct cl_dsx *d, int p, int *best, double *bv, double *delta) {
  int v = d->head[p];
  const double *lo = d->lo, *hi = d->hi;
  double x = d->x[v], inf = 0;
  /* (x < lo, x > hi first: the tolerances only widen the bounds, and
   * most basic variables lie within them) */
  if (x < lo[v] && x < lo[v] - TOL_P * (1 + fabs(lo[v]))) inf = x - lo[v];
  else if (x > hi[v] && x > hi[v] + TOL_P * (1 + fabs(hi[v]))) inf = x - hi[v];
  if (inf == 0) return;
  double w = d->devex ? d->dw[v] : 1.0;
  if (inf * inf > *bv * w) *bv = inf * inf / w, *best = v, *delta = inf;
}

/* The leaving variable: the largest infeasibility (squared, per Devex
 * weight when pricing so); -1 when primal feasible. After a pivot (ob_ok)
 * over the positions it listed outside their bounds, in increasing order:
 * every other position's infeasibility is 0 (within its bounds), which
 * the walk over every row skips, so the same row (not under plain_row:
 * for tests, every row). */
CL_SIMD static int choose_row(const struct cl_dsx *d, double *delta) {
  int best = -1;
  double bv = 0;
  if (d->ob_ok && !d->plain_row) {
    for (int z = 0; z < d->nob; z++) choose_at(d, d->ob[z], &best, &bv, delta);
    return best;
  }
#pragma GCC unroll 4
  for (int p = 0; p < d->m; p++) choose_at(d, p, &best, &bv, delta);
  return best;
}

/* ar[rc[e]] += r·rw[e] over e0 .. e1, in order (one row's entries: distinct
 * columns), eight entries a step: the pivot row's scatter. */
static inline void row_add(double *ar, const int *rc, const double *rw, int e0, int e1, double r) {
  const double *al = opaque(ar);
  int e = e0;
  for (; e + 8 <= e1; e += 8) {
    int c0 = rc[e], c1 = rc[e + 1], c2 = rc[e + 2], c3 = rc[e + 3];
    int c4 = rc[e + 4], c5 = rc[e + 5], c6 = rc[e + 6], c7 = rc[e + 7];
    ar[c0] = al[c0] + r * rw[e], ar[c1] = al[c1] + r * rw[e + 1];
    ar[c2] = al[c2] + r * rw[e + 2], ar[c3] = al[c3] + r * rw[e + 3];
    ar[c4] = al[c4] + r * rw[e + 4], ar[c5] = al[c5] + r * rw[e + 5];
    ar[c6] = al[c6] + r * rw[e + 6], ar[c7] = al[c7] + r * rw[e + 7];
  }
  if (e + 4 <= e1) {
    int c0 = rc[e], c1 = rc[e + 1], c2 = rc[e + 2], c3 = rc[e + 3];
    ar[c0] = al[c0] + r * rw[e], ar[c1] = al[c1] + r * rw[e + 1];
    ar[c2] = al[c2] + r * rw[e + 2], ar[c3] = al[c3] + r * rw[e + 3];
    e += 4;
  }
  for (; e < e1; e++) ar[rc[e]] = al[rc[e]] + r * rw[e];
}

/* For tests (plain_row): row_add as before round 22, one entry a step. */
static void row_add_plain(double *ar, const int *rc, const double *rw, int e0, int e1, double r) {
  for (int e = e0; e < e1; e++) ar[rc[e]] += r * rw[e];
}

/* For tests (plain_row): scatter_rows as before round 22. */
static void scatter_rows_plain(struct cl_dsx *d) {
  for (int z = 0; z < d->nrz; z++) {
    int i = d->rz[z];
    d->ar[d->n + i] = -d->rho[i];
    if (d->rho[i] != 0.0) d->rb[i >> 6] |= (uint64_t)1 << (i & 63);
  }
  for (int wi = 0, nw = (d->m + 63) / 64; wi < nw; wi++) {
    for (uint64_t b = d->rb[wi]; b; b &= b - 1) {
      int i = wi * 64 + __builtin_ctzll(b);
      d->lg->hit[i] = 1;
      row_add_plain(d->ar, d->rc, d->rw, d->rp[i], d->ra[i], d->rho[i]);
    }
    d->rb[wi] = 0;
  }
}

/* ar zero again (for a ratio test that gives up: the duals' update, which
 * clears it, does not come); -1. */
static int ar_clear(struct cl_dsx *d) {
  memset(d->ar, 0, (size_t)d->n * sizeof *d->ar);
  return -1;
}

static int cand_cmp(const void *a, const void *b) {
  const struct cand *x = a, *y = b;
  if (x->ratio != y->ratio) return x->ratio < y->ratio ? -1 : 1;
  return x->j - y->j;
}

/* x > 0 ? x : 0 (+0 for a NaN or a zero) for the double whose bits are
 * xb, as one maxsd where SSE2 is (gcc otherwise makes a compare and a
 * blend of it, and a move more to clear the vector's upper half). */
static inline double pos_part_bits(uint64_t xb) {
#if defined(__SSE2__) && defined(__x86_64__)
  return _mm_cvtsd_f64(_mm_max_sd(_mm_castsi128_pd(_mm_cvtsi64_si128((long long)xb)), _mm_setzero_pd()));
#else
  double x;
  memcpy(&x, &xb, sizeof x);
  return x > 0.0 ? x : 0.0;
#endif
}

/* The index of b's lowest set bit (b nonzero), as a size_t: gcc 12 sign-
 * extends __builtin_ctzll's int and clears the register before each
 * tzcnt (a false dependency on some Intel cores), two instructions per
 * moving variable in gather's walk; tzcnt alone gives the same index
 * (and runs as bsf, the same for a nonzero b, where BMI is missing). */
static inline size_t low_bit(uint64_t b) {
#if defined(__GNUC__) && defined(__x86_64__)
  uint64_t t;
  __asm__("tzcnt %1, %0" : "=r"(t) : "rm"(b) : "cc");
  return (size_t)t;
#else
  return (size_t)__builtin_ctzll(b);
#endif
}

/* Per status below FREE: the sign bit at the upper bound (gather). */
static const uint64_t upper_sign[FREE] = {[AT_HI] = UINT64_C(1) << 63};

/* The ratio test's candidates (cd, nc; mi0 the least ratio, the first of
 * equal ones) over the moving variables in increasing order, and the
 * duals' update's list (mz); false on an alpha that overflowed.
 *
 * Without branches but for the +0 alphas (a quarter, in runs) and the
 * rare statuses (free, fixed rows): whether a nonzero alpha makes a
 * candidate is a data-dependent coin (a third of a proof's mispredicted
 * branches were here before round 23), so every nonzero one at a bound
 * has its ratio computed and stored at the list's end, and the end moves
 * on by the test's outcome (0 or 1); the least ratio is found after, in
 * one pass over the candidates. The same candidates, ratios, mi0 and mz
 * in the same order as the branches gave: see gather_plain
 * (tests/test_clear_pivot_row.c, tests/test_clear_gather_status.c). */
CL_SIMD static bool gather(struct cl_dsx *d, double sigma, int *ncp, int *mi0p) {
  const double *ar = d->ar, *dj = d->dj;
  const signed char *st = d->st;
  const uint64_t *mv = d->mv;
  /* (the lists written through pointers that move on: a store and an
   * add per entry, no index arithmetic) */
  struct cand *cd = d->cd, *ce = cd, *c0 = cd;
  int *mz = d->mz, *me = mz;
  /* sigma's sign bit: as = sigma·a is negative exactly when a's sign bit
   * differs from it (a not zero: sigma is ±1, as is ±a to the bit). */
  uint64_t sgn;
  memcpy(&sgn, &sigma, sizeof sgn);
  sgn &= UINT64_C(1) << 63;
  long rare[2] = {0, 0};
  for (size_t wi = 0, nw = ((size_t)d->n + (size_t)d->m + 63) / 64; wi < nw; wi++)
    for (uint64_t b = mv[wi]; b; b &= b - 1) {
      /* (k a size_t; alpha's bits read as an integer) */
      size_t k = wi * 64 + low_bit(b);
      uint64_t bits;
      memcpy(&bits, ar + k, sizeof bits);
      /* +0 (most of them: their columns miss rho's rows) skipped at once
       * by its bits, unless its dj is a zero the update may turn; any
       * other alpha is updated */
      if (!bits) {
        if (dj[k] == 0.0) *me++ = (int)k;
        continue;
      }
      *me++ = (int)k;
      double a = ar[k], fa = fabs(a), dk = dj[k];
      if (!isfinite(a)) return false; /* overflow: no ratio test to trust */
      unsigned s = (unsigned)(unsigned char)st[k];
      if (s >= FREE) { /* (rare: a free variable, or a fixed row's, which never enters) */
        if (s == FREE && fa > TOL_PIV) *ce++ = (struct cand){fabs(dk) / fa, (int)k};
        rare[s == FREE]++;
        continue;
      }
      /* At a bound (AT_LO, AT_HI): a candidate when sigma·a < -TOL_PIV
       * at the lower bound, sigma·a > TOL_PIV at the upper, that is
       * t < -TOL_PIV for t = sigma·a (a's sign bit flipped by sigma's: the
       * same bits), negated at the upper bound (hb: the sign bit at
       * AT_HI alone; FREE and FIXED went above) */
      uint64_t hb = upper_sign[s], tb = bits ^ sgn ^ hb;
      double t;
      memcpy(&t, &tb, sizeof t);
      unsigned ok = t < -TOL_PIV;
      /* The ratio as the branches had it: dj > 0 ? dj : 0 at the lower
       * bound, -dj > 0 ? -dj : 0 at the upper (dj's sign bit flipped by
       * hb: -dj to the bit), over |a|; x > 0 ? x : 0 is one maxsd */
      uint64_t xb;
      memcpy(&xb, &dk, sizeof xb);
      *ce = (struct cand){pos_part_bits(xb ^ hb) / fa, (int)k};
      ce += ok;
    }
  /* The least ratio, the first of equal ones (NaN is never less) */
  double r0 = ce > cd ? cd->ratio : 0.0;
  for (struct cand *c = cd + 1; c < ce; c++)
    if (c->ratio < r0) c0 = c, r0 = c->ratio;
  d->nmz = (int)(me - mz), *ncp = (int)(ce - cd), *mi0p = (int)(c0 - cd);
  d->n_rare[0] += rare[0], d->n_rare[1] += rare[1];
  return true;
}

/* For tests (plain_row): gather as before round 22 (int indices, the
 * alpha loaded as a double, compiled for the baseline alone). */
static bool gather_plain(struct cl_dsx *d, double sigma, int *ncp, int *mi0p) {
  const double *ar = d->ar, *dj = d->dj;
  const signed char *st = d->st;
  const uint64_t *mv = d->mv;
  struct cand *cd = d->cd;
  int *mz = d->mz, nmz = 0, nc = 0, mi0 = 0;
  double r0 = 0;
  for (int wi = 0, nw = (d->n + d->m + 63) / 64; wi < nw; wi++)
    for (uint64_t b = mv[wi]; b; b &= b - 1) {
      int k = wi * 64 + __builtin_ctzll(b);
      double a = ar[k];
      uint64_t bits;
      memcpy(&bits, &a, sizeof bits);
      if (!bits) {
        if (dj[k] == 0.0) mz[nmz++] = k;
        continue;
      }
      mz[nmz++] = k;
      if (fabs(a) <= TOL_PIV) continue;
      if (!isfinite(a)) return false;
      double as = sigma * a, ratio;
      if (st[k] == AT_LO && as < -TOL_PIV) ratio = (dj[k] > 0.0 ? dj[k] : 0.0) / -as;
      else if (st[k] == AT_HI && as > TOL_PIV) ratio = (dj[k] < 0.0 ? -dj[k] : 0.0) / as;
      else if (st[k] == FREE && fabs(as) > TOL_PIV) ratio = fabs(dj[k]) / fabs(as);
      else continue;
      if (!nc || ratio < r0) mi0 = nc, r0 = ratio;
      cd[nc++] = (struct cand){ratio, k};
    }
  d->nmz = nmz, *ncp = nc, *mi0p = mi0;
  return true;
}

/* The pivot row from rho's rows but the paired ones (those come after):
 * rho is +0 off its list rz, whose rows are every nonbasic row variable
 * (the tight rows, E's and the paired ones) and the leaving row. So the
 * moving row variables' alphas (-rho) are written from the list (a basic
 * one's is never read), and the rows with rho nonzero are marked in rb
 * and scattered in increasing order, as a walk over every row did. */
CL_SIMD static void scatter_rows(struct cl_dsx *d) {
  const double *rho = d->rho;
  double *ar = d->ar, *arow = d->ar + d->n;
  const int *rc = d->rc, *rp = d->rp, *ra = d->ra;
  const double *rw = d->rw;
  uint64_t *rb = d->rb;
  unsigned char *hit = d->lg->hit; /* (a local: its byte stores would reload d's fields) */
  for (int z = 0; z < d->nrz; z++) {
    int i = d->rz[z];
    double r = rho[i];
    arow[i] = -r;
    if (r != 0.0) rb[i >> 6] |= (uint64_t)1 << (i & 63);
  }
  for (int wi = 0, nw = (d->m + 63) / 64; wi < nw; wi++) {
    for (uint64_t b = rb[wi]; b; b &= b - 1) {
      int i = wi * 64 + __builtin_ctzll(b);
      double r = rho[i];
      hit[i] = 1;
      row_add(ar, rc, rw, rp[i], ra[i], r);
    }
    rb[wi] = 0;
  }
}

/* Pivot row alpha_r (rho: the row of the inverse) over the nonbasic variables and the dual ratio test
 * with bound flipping. sigma: +1 when the leaving variable goes up to its
 * lower bound. Returns the entering variable or -1; *nflip variables in
 * flip[] pass their breakpoints; *theta the dual step. */
static int ratio_test(struct cl_dsx *d, int p, double sigma, double slope, int *nflip, double *theta) {
  double *rho = d->rho;
  /* By rows: rho is zero on the rows not tight but one. Parked columns
   * get no alpha: the log below keeps what their reduced costs need. ar
   * is zero where it is read (the moving variables, cleared by the duals'
   * update, and the keys, here) */
  for (int r = 0; r < d->np; r++) d->ar[d->key[d->pl[r]]] = 0.0;
  bool plain = d->plain_row; /* (for tests) */
  if (plain) scatter_rows_plain(d);
  else scatter_rows(d);
  /* The paired rows last: rho · key column must come to 1 for p's key and
   * 0 for the others, and what the other rows give it is its alpha now. */
  int ln = d->lg->ln; /* logged here, counted once the duals move */
  unsigned char *pf = log_pf(d, ln);
  memset(pf, 0, (size_t)d->m);
  /* (locals: the byte stores into pf and hit would otherwise reload d's
   * fields, and rz's stores its count) */
  const int *pl = d->pl, *key = d->key, *rp = d->rp, *ra = d->ra, *rc = d->rc;
  const double *ka = d->ka, *rw = d->rw;
  double *ar = d->ar, *arow = d->ar + d->n;
  unsigned char *hit = d->lg->hit;
  int *rz = d->rz, nrz = d->nrz;
  for (int r = 0, np = d->np; r < np; r++) {
    int g = pl[r], j = key[g];
    double rg = ((j == p) - ar[j]) / ka[g];
    rho[g] = rg, arow[g] = -rg, rz[nrz++] = g, pf[g] = 1;
    if (rg == 0.0) continue;
    hit[g] = 1;
    row_add(ar, rc, rw, rp[g], ra[g], rg); /* (plain_row too: the scatter's rows hold row_add to the plain loop) */
  }
  d->nrz = nrz;
  memcpy(log_r(d, ln), rho, (size_t)d->m * sizeof *rho);
  int nc = 0, mi0 = 0;
  if (!(plain ? gather_plain(d, sigma, &nc, &mi0) : gather(d, sigma, &nc, &mi0))) return ar_clear(d);
  if (!nc) return ar_clear(d);
  /* Breakpoints in increasing order, found one at a time: the slope runs
   * out after a few (a sort of all of them cost more than the rest). */
  int stop = 0;
  bool sorted = false;
  *nflip = 0;
  for (;; stop++) {
    if (stop == 32 && !sorted) /* many flips: sort the rest once */
      qsort(d->cd + stop, (size_t)(nc - stop), sizeof *d->cd, cand_cmp), sorted = true;
    int mi = stop ? stop : mi0; /* the first breakpoint was found while gathering */
    double rm = d->cd[mi].ratio; /* (cand_cmp's order, the least kept at hand: NaN is never less) */
    for (int t = stop + 1, jm = d->cd[mi].j; stop && !sorted && t < nc; t++) {
      double rt = d->cd[t].ratio;
      if (rt < rm || (rt == rm && d->cd[t].j < jm)) mi = t, rm = rt, jm = d->cd[t].j;
    }
    struct cand x = d->cd[mi];
    d->cd[mi] = d->cd[stop], d->cd[stop] = x;
    int v = x.j;
    if (stop == nc - 1 || !boxed(d, v) || d->st[v] == FREE) break;
    double after = slope - fabs(d->ar[v]) * (d->hi[v] - d->lo[v]);
    if (after <= 0) break;
    slope = after;
  }
  /* Largest pivot among the near ties at the stopping breakpoint. */
  int q = stop;
  double lim = d->cd[stop].ratio + 1e-12 + 1e-9 * d->cd[stop].ratio;
  double aq = fabs(d->ar[d->cd[q].j]);
  for (int t = stop + 1; t < nc; t++)
    if (d->cd[t].ratio <= lim && fabs(d->ar[d->cd[t].j]) > aq) q = t, aq = fabs(d->ar[d->cd[t].j]);
  for (int t = 0; t < stop; t++) d->flip[(*nflip)++] = d->cd[t].j;
  *theta = d->cd[q].ratio;
  return d->cd[q].j;
}

/* Row s of E -= f[s] · e0 for every s with f[s] != 0 (e0 is no such
 * row), four rows at a time (one load of e0 for them; restrict: the
 * copies vectorise without a test for overlap). Each entry is its own
 * e - f·e0 as one row at a time had it: the order of rows is no bit. */
static inline void row_less(double *restrict e, double f, const double *restrict e0, int k) {
  for (int t = 0; t < k; t++) e[t] -= f * e0[t];
}

static inline void four_rows_less(double *restrict ea, double fa, double *restrict eb, double fb,
                                  double *restrict ec, double fc, double *restrict ed, double fd,
                                  const double *restrict e0, int k) {
  for (int t = 0; t < k; t++) {
    double x = e0[t];
    ea[t] -= fa * x, eb[t] -= fb * x, ec[t] -= fc * x, ed[t] -= fd * x;
  }
}

static inline void rows_less(struct cl_dsx *d, const double *f, const double *e0, int k) {
  int *sl = d->nzi, ns = 0; /* (nzi: solve_b's, free here) */
  for (int s = 0; s < k; s++)
    if (f[s] != 0.0) sl[ns++] = s;
  int z = 0;
  for (; z + 4 <= ns; z += 4) {
    int a = sl[z], b = sl[z + 1], c = sl[z + 2], e = sl[z + 3];
    four_rows_less(E_row(d, a), f[a], E_row(d, b), f[b], E_row(d, c), f[c], E_row(d, e), f[e], e0, k);
  }
  for (; z < ns; z++) row_less(E_row(d, sl[z]), f[sl[z]], e0, k);
}

/* update_E's eliminations as before round 22 (for tests:
 * cl_dsx_set_plain): row s of E -= f·e0 a row at a time, f = fs[s] or,
 * without fs, row s's entry t1 over piv as the row comes; s0 and a zero
 * f skipped. */
static void rows_less_plain(struct cl_dsx *d, const double *fs, int t1, double piv, int s0, int k) {
  const double *e0 = E_row(d, s0);
  for (int s = 0; s < k; s++) {
    double *e = E_row(d, s), f = fs ? fs[s] : e[t1] / piv;
    if (s == s0 || f == 0.0) continue;
    for (int t = 0; t < k; t++) e[t] -= f * e0[t];
  }
}

/* K's inverse after basic variable p leaves and q enters; aq holds
 * B^-1 · q's column, h the tight rows' part of p's row of B^-1. */
CL_SIMD static void update_E(struct cl_dsx *d, int p, int q) {
  int k = d->k;
  double *g = d->g, *h = d->h;
  for (int s = 0; s < k; s++) g[s] = d->aq[d->sv[s]];
  if (p >= d->n && q < d->n) { /* a row turns tight, a column basic: K grows */
    double sc = -d->aq[p];
    for (int s = 0; s < k; s++) {
      double *e = E_row(d, s), f = g[s] / sc;
      for (int t = 0; t < k; t++) e[t] += f * h[t];
      e[k] = -f;
    }
    double *e = E_row(d, k);
    for (int t = 0; t < k; t++) e[t] = -h[t] / sc;
    e[k] = 1.0 / sc;
    d->sv[k] = q, d->rv[k] = p - d->n, d->slot[q] = k, d->slot[p] = k;
    d->k++;
  } else if (p >= d->n) { /* tight row of q becomes p's row: K's row changes */
    int t1 = d->slot[q];
    double den = h[t1];
    for (int s = 0; s < k; s++) {
      double *e = E_row(d, s), f = e[t1] / den, e1 = e[t1];
      if (f == 0.0) continue;
      /* (h[t] - 0 is h[t] to the bit, -0 included: t1's term apart, the
       * loop has no test in it) */
      for (int t = 0; t < k; t++) e[t] -= f * h[t];
      e[t1] = e1 - f * (h[t1] - 1);
    }
    d->rv[t1] = p - d->n, d->slot[p] = t1, d->slot[q] = -1;
  } else if (q < d->n) { /* column replaced */
    int s0 = d->slot[p];
    double *e0 = E_row(d, s0), inv = 1.0 / g[s0];
    for (int t = 0; t < k; t++) e0[t] *= inv;
    if (d->plain) {
      rows_less_plain(d, g, -1, 0.0, s0, k);
    } else {
      g[s0] = 0.0; /* (row s0 skipped, as a zero f is) */
      rows_less(d, g, e0, k);
    }
    d->sv[s0] = q, d->slot[q] = s0, d->slot[p] = -1;
  } else { /* a column leaves, its row goes slack: K shrinks */
    int s0 = d->slot[p], t1 = d->slot[q];
    double *e0 = E_row(d, s0), piv = e0[t1];
    if (d->plain) {
      rows_less_plain(d, NULL, t1, piv, s0, k);
    } else {
      for (int s = 0; s < k; s++) g[s] = E_row(d, s)[t1] / piv; /* (each row's before any moves) */
      g[s0] = 0.0;
      rows_less(d, g, e0, k);
    }
    if (s0 != k - 1) {
      memcpy(e0, E_row(d, k - 1), (size_t)k * sizeof *e0);
      d->sv[s0] = d->sv[k - 1], d->slot[d->sv[s0]] = s0;
    }
    if (t1 != k - 1) {
      for (int s = 0; s < k - 1; s++) E_row(d, s)[t1] = E_row(d, s)[k - 1];
      d->rv[t1] = d->rv[k - 1], d->slot[d->n + d->rv[t1]] = t1;
    }
    d->slot[p] = -1, d->slot[q] = -1;
    d->k--;
  }
}

/* Pair g's row and key back into E: K's rows and columns as E's last,
 * E bordered by a row that is zero but at its key (its one basic column):
 * [S x; 0 a]^-1 = [S^-1, -S^-1 x / a; 0, 1/a], x the key's column on E's
 * rows. */
static void unpair(struct cl_dsx *d, int g) {
  int j = d->key[g], k = d->k, nx = 0, *xt = d->nzi;
  double a = d->ka[g], *xv = d->g;
  for (int q = d->cp[j]; q < d->cp[j + 1]; q++) { /* x: its entries on E's rows, in order */
    int t = d->slot[d->n + d->ri[q]];
    if (t >= 0) xt[nx] = t, xv[nx++] = d->cv[q];
  }
  double *u = d->tmp; /* E·x (refactor's scratch, free here) */
  E_times(d->E, (size_t)d->cap, k, xt, xv, nx, u);
  for (int s = 0; s < k; s++) E_row(d, s)[k] = -u[s] / a;
  double *e = E_row(d, k);
  memset(e, 0, (size_t)k * sizeof *e);
  e[k] = 1.0 / a;
  d->sv[k] = j, d->rv[k] = g, d->slot[j] = k, d->slot[d->n + g] = k;
  d->k++;
  pl_del(d, g);
}

/* Pair g when its row is tight with one basic column: that row of K is
 * then zero but at the column, so E without the column's row and the
 * row's column is the rest's inverse (the block form above, backwards). */
static void pair_up(struct cl_dsx *d, int g) {
  if (g < 0 || d->gnb[g] != 1 || d->key[g] >= 0 || d->st[d->n + g] == BASIC) return;
  double a = 0;
  int j = only_basic(d, g, &a), k = d->k;
  int s0 = j >= 0 ? d->slot[j] : -1, t1 = d->slot[d->n + g];
  if (s0 < 0 || t1 < 0) return;
  if (s0 != k - 1) {
    memcpy(E_row(d, s0), E_row(d, k - 1), (size_t)k * sizeof *d->E);
    d->sv[s0] = d->sv[k - 1], d->slot[d->sv[s0]] = s0;
  }
  if (t1 != k - 1) {
    for (int s = 0; s < k - 1; s++) E_row(d, s)[t1] = E_row(d, s)[k - 1];
    d->rv[t1] = d->rv[k - 1], d->slot[d->n + d->rv[t1]] = t1;
  }
  d->slot[j] = -1, d->slot[d->n + g] = -1;
  d->k--;
  pl_add(d, g, j, a);
}

/* Before p leaves and q enters: the pairs they touch back into E (p a
 * key, q a paired row, or q a column whose group is paired and would have
 * two basic columns), so that E's update is K's, restricted to E. h again
 * from rho, as E's rows now are. */
static void unpair_for(struct cl_dsx *d, int p, int q) {
  int k0 = d->k;
  if (is_key(d, p)) unpair(d, d->grp[p]);
  if (q < d->n && d->grp[q] >= 0 && d->key[d->grp[q]] >= 0) unpair(d, d->grp[q]);
  if (q >= d->n && d->key[q - d->n] >= 0) unpair(d, q - d->n);
  if (d->k != k0)
    for (int t = 0; t < d->k; t++) d->h[t] = d->rho[d->rv[t]];
}

/* After the pivot (statuses set): the groups it touched paired when they can be. */
static void pair_after(struct cl_dsx *d, int p, int q) {
  if (q < d->n && d->grp[q] >= 0) d->gnb[d->grp[q]]++;
  if (p < d->n && d->grp[p] >= 0) d->gnb[d->grp[p]]--;
  if (p < d->n) pair_up(d, d->grp[p]);
  else pair_up(d, d->gnb[p - d->n] >= 0 ? p - d->n : -1);
  if (q < d->n) pair_up(d, d->grp[q]);
}

/* Swap q into the basis for p (p goes to bound). */
CL_SIMD static void pivot(struct cl_dsx *d, int p, int q, double bound) {
  add_col(d, d->w, q, 1.0); /* (w: zero) */
  solve_b(d, d->w, d->aq, false);
  if (q >= d->n) d->w[q - d->n] = 0.0;
  else
    for (int e = d->cp[q]; e < d->cp[q + 1]; e++) d->w[d->ri[e]] = 0.0;
  add_col(d, d->w0, q, d->x[q]); /* q's value leaves w0, p's comes in */
  add_col(d, d->w0, p, -bound);
  double th = (d->x[p] - bound) / d->aq[p], wp = d->dw[p], ap = d->aq[p];
  double *x = d->x;
  const double *aq = d->aq, *lo = d->lo, *hi = d->hi;
  const int *head = d->head;
  /* x_B along q's column, and the positions left outside their bounds
   * listed for the next choose_row (a few in 265: a branch taken
   * seldom) */
  int *ob = d->ob, nob = 0;
#pragma GCC unroll 4
  for (int i = 0; i < d->m; i++) {
    int v = head[i];
    double xv = x[v] - th * aq[v];
    x[v] = xv;
    if (xv < lo[v] || xv > hi[v]) ob[nob++] = i;
  }
  for (int i = 0; d->devex && i < d->m; i++) {
    int v = d->head[i];
    double r = d->aq[v] / ap; /* dual Devex: the reference framework's weights */
    if (v != p && r * r * wp > d->dw[v]) d->dw[v] = r * r * wp;
  }
  d->dw[q] = fmax(wp / (ap * ap), 1.0);
  d->x[q] += th;
  d->x[p] = bound;
  unpair_for(d, p, q);
  update_E(d, p, q);
  int i = d->pos[p];
  d->head[i] = q, d->pos[q] = i, d->pos[p] = -1;
  d->st[q] = BASIC;
  mv_set(d, q);
  d->n_upd++;
  /* Position i holds q now, at x[q]: listed exactly when q is outside
   * its bounds (p's entry, if any, out) */
  int z = 0;
  while (z < nob && ob[z] < i) z++;
  bool there = z < nob && ob[z] == i, out = x[q] < lo[q] || x[q] > hi[q];
  if (there && !out) memmove(ob + z, ob + z + 1, (size_t)(nob - z - 1) * sizeof *ob), nob--;
  else if (!there && out) memmove(ob + z + 1, ob + z, (size_t)(nob - z) * sizeof *ob), ob[z] = i, nob++;
  d->nob = nob, d->ob_ok = true;
}

/* y -= a·x (the duals' step along rho). */
CL_SIMD static void sub_scaled(double *restrict y, const double *restrict x, double a, int m) {
  for (int i = 0; i < m; i++) y[i] -= a * x[i];
}

/* y -= x, x zero again (the flips' values into w0). */
CL_SIMD static void sub_zero(double *restrict y, double *restrict x, int m) {
  for (int i = 0; i < m; i++) y[i] -= x[i], x[i] = 0.0;
}

/* One dual simplex iteration; 1 optimal, 0 pivoted, CL_DSX_FAIL. */
/* The moving variables' reduced costs along the pivot row: ts·alpha added
 * on gather's list mz (the others would add +0 to a nonzero dj), ar zero
 * again there. */
CL_SIMD static void duals_move(double *dj, double *ar, const int *restrict mz, int nmz, double ts) {
  const double *al = opaque(ar), *dl = opaque(dj); /* (opaque: base + 8·v in each access) */
#pragma GCC unroll 4
  for (int z = 0; z < nmz; z++) {
    int v = mz[z];
    dj[v] = dl[v] + ts * al[v];
    ar[v] = 0.0;
  }
}

/* For tests (plain_row): the duals' update as before round 22. */
static void duals_plain(struct cl_dsx *d, double ts) {
  for (int z = 0, *mz = d->mz; z < d->nmz; z++) {
    int v = mz[z];
    d->dj[v] += ts * d->ar[v];
    d->ar[v] = 0.0;
  }
}

static int iterate(struct cl_dsx *d) {
  double delta = 0;
  int p = choose_row(d, &delta);
  d->ob_ok = false; /* (the flips below move x) */
  if (p < 0) return 1;
  if (d->lg->ln == d->lg->cap && !log_grow(d)) catch_up_all(d);
  int nflip = 0;
  double sigma = delta < 0 ? 1.0 : -1.0, theta = 0;
  btran(d, p);
  int q = ratio_test(d, p, sigma, fabs(delta), &nflip, &theta);
  if (q < 0) return CL_DSX_FAIL; /* dual unbounded: no feasible point */
  /* The duals move along p's row of the inverse: y -= t·rho makes p's
   * reduced cost t = sigma·theta and moves the others by t·alpha. */
  double ts = theta * sigma, arq = d->ar[q], *ar = d->ar;
  if (d->plain_row) duals_plain(d, ts);
  else duals_move(d->dj, ar, d->mz, d->nmz, ts);
  sub_scaled(d->y, d->rho, ts, d->m);
  d->lg->ts[d->lg->ln++] = ts;
  if (nflip) { /* (w: zero, and left so) */
    for (int f = 0; f < nflip; f++) {
      int v = d->flip[f];
      double to = d->st[v] == AT_LO ? d->hi[v] : d->lo[v];
      add_col(d, d->w, v, to - d->x[v]);
      d->x[v] = to, d->st[v] = d->st[v] == AT_LO ? AT_HI : AT_LO;
    }
    solve_b(d, d->w, d->aq, false);
    double *x = d->x;
    const double *aq = d->aq;
    const int *head = d->head;
#pragma GCC unroll 4
    for (int i = 0; i < d->m; i++) x[head[i]] -= aq[head[i]];
    sub_zero(d->w0, d->w, d->m);
  }
  double bound = sigma > 0 ? d->lo[p] : d->hi[p];
  pivot(d, p, q, bound);
  if (p < d->n) ar[p] = 0.0; /* what the scatters left while it was basic */
  if (!(fabs(d->aq[p] - arq) <= 1e-7 * (1 + fabs(arq)))) d->n_upd = REFACTOR; /* drift, or NaN */
  d->dj[q] = 0.0;
  d->dj[p] = sigma * theta;
  d->st[p] = d->lo[p] == d->hi[p] ? FIXED : sigma > 0 ? AT_LO : AT_HI;
  if (parked(d, p)) park(d, p, true), d->lg->sync[p] = d->lg->ln;
  mv_set(d, p);
  pair_after(d, p, q);
  return 0;
}

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* place(v) would change nothing of moving variable v (not parked: no
 * catch-up; its bit set): at a bound, not fixed, which its reduced cost
 * keeps whether or not it ties (dj >= 0 at the lower, dj < 0 at the
 * upper: the one-sided ones' only status too), its value that bound's
 * bits; nor is it dual infeasible there. Most of a jump's 700. */
static bool stays(const struct cl_dsx *d, int v) {
  double lo = d->lo[v], hi = d->hi[v];
  if (d->st[v] == AT_LO) return d->dj[v] >= 0 && isfinite(lo) && lo != hi && same_bits(d->x[v], lo);
  if (d->st[v] == AT_HI) return d->dj[v] < 0 && isfinite(hi) && lo != hi && same_bits(d->x[v], hi);
  return false;
}

/* dual_feasible as it was before round 21 (for tests: cl_dsx_set_plain):
 * every variable scanned, every moving one placed. */
static bool dual_feasible_plain(struct cl_dsx *d) {
  for (int v = 0; v < d->n + d->m; v++) {
    if (d->st[v] == BASIC) continue;
    if (parked(d, v) && d->lo[v] == d->hi[v] && isfinite(d->lo[v])) continue;
    if (d->q->nl && v < d->n && d->q->late[v]) late_status(d, v);
    place(d, v);
    double tol = TOL_D * (1 + d->cmax);
    if ((d->st[v] == AT_LO && !isfinite(d->hi[v]) && d->dj[v] < -tol) ||
        (d->st[v] == AT_HI && !isfinite(d->lo[v]) && d->dj[v] > tol) ||
        (d->st[v] == FREE && fabs(d->dj[v]) > tol))
      return false;
  }
  return true;
}

/* Boxed columns to the bound their reduced cost asks; false when a one-sided
 * or free column is dual infeasible (the dual simplex cannot start).
 * Relative to the largest cost, as GLPK judges its optimum: with prices of
 * 1e14 and rows scaled down by 1e12, a cost-free coverage column's reduced
 * cost comes out at 10 or 1,000 in a basis GLPK calls optimal, and judged
 * against its own zero cost the copy refused it (168 of 261 copies of the
 * test's extreme markets, each node then GLPK's and a copy refused again). */
static bool dual_feasible(struct cl_dsx *d) {
  if (d->plain) return dual_feasible_plain(d);
  double tol = TOL_D * (1 + d->cmax);
  const unsigned char *late = d->q->nl ? d->q->late : NULL; /* (late_status keeps nl) */
  /* The variables that are not basic and not parked: mv's (a parked
   * column is fixed here, its bounds taken in, and place would leave it
   * as it is: FIXED, its bit clear, its value the bound) */
  for (int wi = 0, nw = (d->n + d->m + 63) / 64; wi < nw; wi++)
    for (uint64_t b = d->mv[wi]; b; b &= b - 1) {
      int v = wi * 64 + __builtin_ctzll(b);
      if (late && v < d->n && late[v]) late_status(d, v);
      else if (stays(d, v)) continue;
      place(d, v);
      if ((d->st[v] == AT_LO && !isfinite(d->hi[v]) && d->dj[v] < -tol) ||
          (d->st[v] == AT_HI && !isfinite(d->lo[v]) && d->dj[v] > tol) ||
          (d->st[v] == FREE && fabs(d->dj[v]) > tol))
        return false;
    }
  return true;
}

static bool fresh(struct cl_dsx *d) {
  if (!refactor(d)) return false;
  price(d);
  if (!dual_feasible(d)) return false;
  primal_full(d);
  return true;
}

/* Optimal on the updated values: x_B again from the nonbasic values (and
 * everything from a new inverse after many updates); 1 when still optimal.
 * The duals are kept up to date by each pivot (bound changes leave them
 * as they are), so a node's solve starts without pricing. */
static int recheck(struct cl_dsx *d) {
  if (d->n_upd >= REFACTOR && !fresh(d)) return CL_DSX_FAIL;
  primal(d);
  double delta;
  return choose_row(d, &delta) < 0;
}

/* Every value and dual a number: NaN compares as feasible with every bound
 * (choose_row would call it optimal) and the caller turns the duals into
 * integer bounds. Overflow is the one way here: finite inputs, no limits. */
static bool finite_state(const struct cl_dsx *d) {
  for (int i = 0; i < d->m; i++) /* (a nonbasic value is a finite bound, or 0) */
    if (!isfinite(d->x[d->head[i]])) return false;
  for (int i = 0; i < d->m; i++)
    if (!isfinite(d->y[i])) return false;
  return true;
}

static int solve_loop(struct cl_dsx *d, int it_lim, bool devex, long *pivots) {
  d->devex = devex, d->ob_ok = false;
  for (int p = 0; devex && p < d->m; p++) d->dw[d->head[p]] = 1.0; /* a new reference framework */
  if (d->n_upd >= REFACTOR && !fresh(d)) return CL_DSX_FAIL;
  primal(d);
  /* Cycling or stalling: GLPK takes over long before a real limit. */
  int own = 20 * d->m + 1000, checks = 0;
  for (int it = 0;; it++) {
    int rc = iterate(d);
    if (rc == CL_DSX_FAIL) return rc;
    if (rc == 1) {
      rc = checks++ > 2 ? CL_DSX_FAIL : recheck(d);
      if (rc) return rc == 1 ? CL_DSX_OPT : rc;
      continue;
    }
    ++*pivots;
    if (it + 1 >= own || (d->kmax && d->k > d->kmax)) return CL_DSX_FAIL;
    if (it + 1 >= it_lim) return CL_DSX_ITLIM;
    if (d->n_upd >= REFACTOR && !fresh(d)) return CL_DSX_FAIL;
  }
}

int cl_dsx_solve(struct cl_dsx *d, int it_lim, bool devex, long *pivots) {
  take_bounds(d);
  int rc = solve_loop(d, it_lim, devex, pivots);
  return rc != CL_DSX_FAIL && !finite_state(d) ? CL_DSX_FAIL : rc;
}

double cl_dsx_obj(struct cl_dsx *d) {
  take_bounds(d);
  double s = d->obj0;
  for (int j = 0; j < d->n; j++) s += d->dir * d->c[j] * d->x[j];
  return s;
}

double cl_dsx_col_prim(struct cl_dsx *d, int j) {
  take_bounds(d);
  return d->x[j - 1];
}

double cl_dsx_row_dual(const struct cl_dsx *d, int i) { return d->dir * d->y[i - 1] * d->rs[i - 1]; }

int cl_dsx_rows(const struct cl_dsx *d) { return d->m; }

void cl_dsx_read(struct cl_dsx *d, double *lam, double *x, int first, size_t n, double scale) {
  take_bounds(d);
  for (int i = 0; i < d->m; i++) lam[i + 1] = d->dir * d->y[i] * d->rs[i];
  if (!x) return;
  const double *xs = d->x + (first - 1);
  for (size_t c = 0; c < n; c++) x[c] = xs[c] / scale;
}

void cl_dsx_shape(const struct cl_dsx *d, int *k, int *pairs) { *k = d->k, *pairs = d->np; }

void cl_dsx_late_counts(const struct cl_dsx *d, long *late, long *ties) { *late = d->n_late, *ties = d->n_ties; }

void cl_dsx_set_kmax(struct cl_dsx *d, int kmax) { d->kmax = kmax; }

static bool plus_zero(double v) { return v == 0.0 && !signbit(v); }

bool cl_dsx_scratch_clean(const struct cl_dsx *d) {
  for (int w = 0; w < (d->cap + 63) / 64; w++) /* scatter_rows' marks */
    if (d->rb[w]) return false;
  for (int i = 0; i < d->cap; i++) { /* (the rows to come too) */
    bool listed = false;
    for (int z = 0; z < d->nrz && !listed; z++) listed = d->rz[z] == i;
    if (!plus_zero(d->t[i]) || !plus_zero(d->w[i]) || (!listed && !plus_zero(d->rho[i]))) return false;
  }
  for (int j = 0; j < d->n; j++)
    if (d->st[j] != BASIC && !plus_zero(d->ar[j])) return false;
  return true;
}

void cl_dsx_set_plain(struct cl_dsx *d, bool plain) { d->plain = plain; }

void cl_dsx_set_plain_row(struct cl_dsx *d, bool plain) { d->plain_row = plain; }

long cl_dsx_fact_hits(const struct cl_dsx *d) { return d->n_fact_hits; }

void cl_dsx_gather_rare(const struct cl_dsx *d, long *fixed, long *free) { *fixed = d->n_rare[0], *free = d->n_rare[1]; }

static bool same_mem(const void *a, const void *b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

/* (yp is not compared: its entries for rows appended since the pricing
 * are never read, and what is read shows in the reduced costs it prices;
 * ka is set on the paired rows alone.) */
bool cl_dsx_same_state(const struct cl_dsx *a, const struct cl_dsx *b) {
  if (a->m != b->m || a->n != b->n || a->k != b->k || a->np != b->np || a->n_upd != b->n_upd) return false;
  size_t nv = (size_t)a->n + (size_t)a->m, m = (size_t)a->m, k = (size_t)a->k, n = (size_t)a->n;
  size_t nnz = (size_t)a->cp[a->n];
  bool same = same_mem(a->st, b->st, nv) && same_mem(a->x, b->x, nv * sizeof *a->x) &&
              same_mem(a->dj, b->dj, nv * sizeof *a->dj) && same_mem(a->pos, b->pos, nv * sizeof *a->pos) &&
              same_mem(a->slot, b->slot, nv * sizeof *a->slot) && same_mem(a->y, b->y, m * sizeof *a->y) &&
              same_mem(a->w0, b->w0, m * sizeof *a->w0) && same_mem(a->head, b->head, m * sizeof *a->head) &&
              same_mem(a->mv, b->mv, mv_words(a) * sizeof *a->mv) && same_mem(a->sv, b->sv, k * sizeof *a->sv) &&
              same_mem(a->rv, b->rv, k * sizeof *a->rv) && same_mem(a->gnb, b->gnb, m * sizeof *a->gnb) &&
              same_mem(a->key, b->key, m * sizeof *a->key) && same_mem(a->pl, b->pl, (size_t)a->np * sizeof *a->pl) &&
              same_mem(a->ra, b->ra, m * sizeof *a->ra) &&
              same_mem(a->rc, b->rc, nnz * sizeof *a->rc) && same_mem(a->rw, b->rw, nnz * sizeof *a->rw) &&
              same_mem(a->rpos, b->rpos, nnz * sizeof *a->rpos) && same_mem(a->ar, b->ar, nv * sizeof *a->ar) &&
              a->lg->ln == b->lg->ln &&
              same_mem(a->lg->sync, b->lg->sync, n * sizeof *a->lg->sync);
  for (int r = 0; same && r < a->np; r++)
    same = same_mem(&a->ka[a->pl[r]], &b->ka[a->pl[r]], sizeof *a->ka);
  for (size_t s = 0; same && s < k; s++) same = same_mem(E_row(a, (int)s), E_row(b, (int)s), k * sizeof *a->E);
  return same;
}

void cl_dsx_to_glpk(struct cl_dsx *d, glp_prob *P) {
  take_bounds(d);
  for (int v = 0; v < d->n + d->m; v++) {
    int st = d->st[v] == BASIC ? GLP_BS : d->st[v] == AT_HI ? GLP_NU : d->st[v] == FREE ? GLP_NF
             : d->st[v] == FIXED ? GLP_NS : GLP_NL;
    if (v < d->n) glp_set_col_stat(P, v + 1, st);
    else glp_set_row_stat(P, v - d->n + 1, st);
  }
}

void cl_dsx_snap_free(struct cl_dsx_snap *s) {
  if (!s) return;
  free(s->st), free(s->head), free(s->pos), free(s->sv), free(s->rv), free(s->slot);
  free(s->x), free(s->dj), free(s->y), free(s->w0), free(s->E);
  free(s->gnb), free(s->key), free(s->ppos), free(s->pl), free(s->ka), free(s->sync);
  free(s->mv);
  free(s);
}

static int snap_alloc(const struct cl_dsx *d, struct cl_dsx_snap **out) {
  struct cl_dsx_snap *s = calloc(1, sizeof *s);
  *out = s;
  if (!s) return FX_CLEAR_ENOMEM;
  size_t nv = (size_t)d->n + (size_t)d->cap, cap = (size_t)d->cap;
  s->st = malloc(nv), s->pos = malloc(nv * sizeof *s->pos), s->slot = malloc(nv * sizeof *s->slot);
  s->x = malloc(nv * sizeof *s->x), s->head = malloc(cap * sizeof *s->head);
  s->sv = malloc(cap * sizeof *s->sv), s->rv = malloc(cap * sizeof *s->rv);
  s->E = malloc(cap * cap * sizeof *s->E);
  s->dj = malloc(nv * sizeof *s->dj), s->y = malloc(cap * sizeof *s->y);
  s->w0 = malloc(cap * sizeof *s->w0);
  s->gnb = malloc(cap * sizeof *s->gnb), s->key = malloc(cap * sizeof *s->key);
  s->ppos = malloc(cap * sizeof *s->ppos), s->pl = malloc(cap * sizeof *s->pl);
  s->ka = malloc(cap * sizeof *s->ka);
  s->sync = malloc(((size_t)d->n + 1) * sizeof *s->sync);
  s->mv = malloc(mv_words(d) * sizeof *s->mv);
  s->cap = d->cap, s->n = d->n, s->m = -1;
  bool ok = s->st && s->pos && s->slot && s->x && s->head && s->sv && s->rv && s->E && s->dj && s->y && s->w0 &&
            s->gnb && s->key && s->ppos && s->pl && s->ka && s->sync && s->mv;
  if (ok) return 0;
  /* Not kept half-built: the next save would take it for a fitting one
   * and copy into its missing arrays. */
  cl_dsx_snap_free(s);
  *out = NULL;
  return FX_CLEAR_ENOMEM;
}

int cl_dsx_save(struct cl_dsx *d, struct cl_dsx_snap **out) {
  take_bounds(d);
  if (*out && ((*out)->cap != d->cap || (*out)->n != d->n)) cl_dsx_snap_free(*out), *out = NULL;
  if (!*out) {
    int rc = snap_alloc(d, out);
    if (rc) return rc;
  }
  struct cl_dsx_snap *s = *out;
  size_t nv = (size_t)d->n + (size_t)d->m, m = (size_t)d->m, k = (size_t)d->k;
  s->m = d->m, s->k = d->k, s->n_upd = d->n_upd, s->np = d->np;
  /* Parked dj stay as they are, with the log's length: a restore cuts the
   * log back to it, and pricing meanwhile keeps the log (keep). */
  s->ln = d->lg->ln, s->epoch = d->lg->epoch, d->lg->keep = d->lg->ln;
  memcpy(s->sync, d->lg->sync, (size_t)d->n * sizeof *s->sync);
  memcpy(s->gnb, d->gnb, m * sizeof *s->gnb), memcpy(s->key, d->key, m * sizeof *s->key);
  memcpy(s->ppos, d->ppos, m * sizeof *s->ppos), memcpy(s->ka, d->ka, m * sizeof *s->ka);
  memcpy(s->pl, d->pl, (size_t)d->np * sizeof *s->pl);
  memcpy(s->st, d->st, nv), memcpy(s->pos, d->pos, nv * sizeof *s->pos);
  memcpy(s->slot, d->slot, nv * sizeof *s->slot), memcpy(s->x, d->x, nv * sizeof *s->x);
  memcpy(s->dj, d->dj, nv * sizeof *s->dj), memcpy(s->y, d->y, m * sizeof *s->y);
  memcpy(s->w0, d->w0, m * sizeof *s->w0);
  memcpy(s->head, d->head, m * sizeof *s->head);
  memcpy(s->sv, d->sv, k * sizeof *s->sv), memcpy(s->rv, d->rv, k * sizeof *s->rv);
  memcpy(s->mv, d->mv, mv_words(d) * sizeof *s->mv);
  for (size_t r = 0; r < k; r++) memcpy(s->E + r * s->cap, E_row(d, (int)r), k * sizeof *s->E);
  return 0;
}

/* The log back to the save's, or when it was emptied since (a pricing or
 * a full log after the save), the parked dj priced again from y: right to
 * the last bits, not bit for bit. */
static void restore_log(struct cl_dsx *d, const struct cl_dsx_snap *s) {
  struct dsx_log *lg = d->lg;
  lg->keep = -1;
  if (s->epoch == lg->epoch && s->ln <= lg->ln) {
    lg->ln = s->ln;
    memcpy(lg->sync, s->sync, (size_t)d->n * sizeof *lg->sync);
    return;
  }
  for (int j = 0; j < d->n; j++) {
    if (parked(d, j)) d->dj[j] = d->c[j] - dot_col(d, d->y, j);
    lg->sync[j] = lg->ln;
  }
}

/* The columns parked or freed since save s (a column that left the basis
 * at a fixed bound, or came back into it) parked as s has them. Compared
 * 64 columns at a time: a look-ahead's few pivots change one or two. */
static void unpark_since(struct cl_dsx *d, const struct cl_dsx_snap *s) {
  const signed char *a = d->st, *b = s->st;
  for (int j0 = 0; j0 < d->n; j0 += 64) {
    int j1 = d->n - j0 < 64 ? d->n : j0 + 64;
    unsigned char diff = 0;
    for (int j = j0; j < j1; j++) diff |= (unsigned char)((a[j] == FIXED) ^ (b[j] == FIXED));
    if (!diff) continue;
    for (int j = j0; j < j1; j++)
      if ((a[j] == FIXED) != (b[j] == FIXED)) park(d, j, b[j] == FIXED);
  }
}

/* The queued bounds taken in as bounds only, for a restore: place()'s
 * work on them (statuses, values, w0, parking, catch-ups, sync) is all
 * overwritten by the snapshot, and the columns it would have parked or
 * freed are parked as the snapshot has them by unpark_since, which
 * compares the statuses as they stand (each column parked or not as its
 * status says either way). Only the order of a row's entries can differ,
 * which no sum reads: each entry of a row is another column's. After a
 * dive's fixlp_bounds and put-back, the queue holds two settings of every
 * column, and their place() calls were most of the restore. */
static void take_bounds_only(struct cl_dsx *d) {
  struct dsx_queue *q = d->q;
  for (int z = 0; z < q->n; z++) d->lo[q->v[z]] = q->lo[z], d->hi[q->v[z]] = q->hi[z];
  q->n = 0;
}

void cl_dsx_restore(struct cl_dsx *d, const struct cl_dsx_snap *s) {
  if (s->m != d->m || s->cap != d->cap) { /* rows came since: keep the current basis */
    take_bounds(d);
    return;
  }
  take_bounds_only(d);
  size_t nv = (size_t)d->n + (size_t)d->m, m = (size_t)d->m, k = (size_t)s->k;
  unpark_since(d, s);
  for (int i = 0; i < d->m; i++) /* the basic columns: what the scatters left, it may move now */
    if (d->head[i] < d->n) d->ar[d->head[i]] = 0.0;
  d->k = s->k, d->n_upd = s->n_upd, d->np = s->np;
  memcpy(d->gnb, s->gnb, m * sizeof *d->gnb), memcpy(d->key, s->key, m * sizeof *d->key);
  memcpy(d->ppos, s->ppos, m * sizeof *d->ppos), memcpy(d->ka, s->ka, m * sizeof *d->ka);
  memcpy(d->pl, s->pl, (size_t)s->np * sizeof *d->pl);
  memcpy(d->st, s->st, nv), memcpy(d->pos, s->pos, nv * sizeof *d->pos);
  memcpy(d->mv, s->mv, mv_words(d) * sizeof *d->mv); /* (mv_all's, from st, at a fortieth of the work) */
  memcpy(d->slot, s->slot, nv * sizeof *d->slot), memcpy(d->x, s->x, nv * sizeof *d->x);
  memcpy(d->dj, s->dj, nv * sizeof *d->dj), memcpy(d->y, s->y, m * sizeof *d->y);
  memcpy(d->w0, s->w0, m * sizeof *d->w0);
  memcpy(d->head, s->head, m * sizeof *d->head);
  memcpy(d->sv, s->sv, k * sizeof *d->sv), memcpy(d->rv, s->rv, k * sizeof *d->rv);
  for (size_t r = 0; r < k; r++) memcpy(E_row(d, (int)r), s->E + r * s->cap, k * sizeof *d->E);
  restore_log(d, s);
}

void cl_dsx_restore_cols(struct cl_dsx *d, const struct cl_dsx_snap *s, int first, size_t n, const double *lo,
                         const double *hi) {
  if (s->m != d->m || s->cap != d->cap) { /* no restore: the bounds placed, as when queued */
    for (size_t c = 0; c < n; c++) cl_dsx_set_col(d, first + (int)c, lo[c], hi[c]);
    cl_dsx_restore(d, s);
    return;
  }
  take_bounds_only(d); /* (the columns' bounds after any queued) */
  memcpy(d->lo + (first - 1), lo, n * sizeof *lo), memcpy(d->hi + (first - 1), hi, n * sizeof *hi);
  cl_dsx_restore(d, s);
}

void cl_dsx_col_bounds(struct cl_dsx *d, int first, size_t n, double *lo, double *hi) {
  take_bounds(d);
  memcpy(lo, d->lo + (first - 1), n * sizeof *lo), memcpy(hi, d->hi + (first - 1), n * sizeof *hi);
}

int cl_dsx_basis_len(const struct cl_dsx *d) { return d->n + d->m; }

void cl_dsx_basis_get(const struct cl_dsx *d, signed char *restrict st) {
  const signed char *restrict from = d->st; /* (restrict: a vector loop, st being no copy of d's) */
  for (int v = 0, nv = d->n + d->m; v < nv; v++) st[v] = from[v] == BASIC;
}

/* Variable v basic (basic) or not, as the plain scan sets it: a column
 * made basic unparked, one made nonbasic at its lower bound for the
 * pricing to place, with its bit in mv and its place in pos (-1) kept as
 * every status change keeps them. */
static void status_to(struct cl_dsx *d, int v, bool basic) {
  if (basic == (d->st[v] == BASIC)) return;
  if (v < d->n) d->q->late[v] = 0; /* its status now statuses' */
  if (basic) {
    if (parked(d, v)) park(d, v, false);
    d->st[v] = BASIC;
  } else {
    if (v < d->n) d->ar[v] = 0.0; /* what the scatters left while it was basic */
    d->st[v] = AT_LO, d->pos[v] = -1;
  }
  mv_set(d, v);
}

/* head: the basic variables in increasing order, pos their places
 * (a nonbasic variable's pos is -1 already); false when more than m. */
static bool heads(struct cl_dsx *d) {
  int nv = d->n + d->m, i = 0, v0 = 0;
  for (; ST_WORDS && v0 + 8 <= nv; v0 += 8)
    for (uint64_t z = ~nonzero_bytes(st_word(d->st, v0)) & BYTES_HI; z; z &= z - 1) {
      int v = v0 + __builtin_ctzll(z) / 8;
      if (i == d->m) return false;
      d->head[i] = v, d->pos[v] = i++;
    }
  for (int v = v0; v < nv; v++) {
    if (d->st[v] != BASIC) continue;
    if (i == d->m) return false;
    d->head[i] = v, d->pos[v] = i++;
  }
  return i == d->m;
}

/* statuses as it was before round 21 (for tests: cl_dsx_set_plain):
 * every variable, head and pos rebuilt, mv from every status. */
static bool statuses_plain(struct cl_dsx *d, const signed char *st, int len) {
  for (int v = 0; v < d->n + d->m; v++) {
    bool basic = v < len ? st[v] != 0 : true;
    if (basic == (d->st[v] == BASIC)) continue;
    if (v < d->n) d->q->late[v] = 0;
    if (basic) {
      if (parked(d, v)) park(d, v, false);
      d->st[v] = BASIC;
    } else {
      if (v < d->n) d->ar[v] = 0.0;
      d->st[v] = AT_LO;
    }
  }
  int i = 0;
  for (int v = 0; v < d->n + d->m; v++) {
    d->pos[v] = -1;
    if (d->st[v] != BASIC) continue;
    if (i == d->m) return false;
    d->head[i] = v, d->pos[v] = i++;
  }
  mv_all(d);
  return i == d->m;
}

/* The statuses of basis st (len variables; a row appended since is
 * basic) in place of the current ones, nonbasic variables to be placed by
 * their reduced costs once priced; false when the count is not m. Eight
 * variables whose basic or not is st's already are passed at once. */
static bool statuses(struct cl_dsx *d, const signed char *st, int len) {
  int nv = d->n + d->m;
  if (d->plain) return statuses_plain(d, st, len);
  for (int v0 = 0; v0 < nv; v0 += 8) {
    int v1 = v0 + 8 < nv ? v0 + 8 : nv;
    /* (st not zero where basic, d->st zero where basic: equal-zeroness is a change) */
    if (v0 + 8 <= len && !(~(nonzero_bytes(st_word(st, v0)) ^ nonzero_bytes(st_word(d->st, v0))) & BYTES_HI))
      continue;
    for (int v = v0; v < v1; v++) status_to(d, v, v < len ? st[v] != 0 : true);
  }
  return heads(d);
}

/* A saved basis in place of the current one (a jump in the branch-and-bound:
 * the parent's optimum is a few pivots from the child's, the last node's
 * many): a refactorisation and a pricing, about five pivots' worth at 1,000
 * offers. A save cannot have more rows than now (rows are only appended). */
int cl_dsx_basis_set(struct cl_dsx *d, const signed char *st, int len, signed char *old) {
  if (len > d->n + d->m) return CL_DSX_ITLIM;
  take_bounds_late(d);
  if (d->need_yq) memcpy(d->yq, d->yp, (size_t)d->m * sizeof *d->yq); /* (the pricing below moves yp) */
  d->need_yq = false;
  cl_dsx_basis_get(d, old);
  d->hold = true, d->fc_keep = true;
  int rc = CL_DSX_FAIL;
  if (statuses(d, st, len) && fresh(d)) rc = CL_DSX_OPT;
  else if (statuses(d, old, d->n + d->m) && fresh(d)) rc = CL_DSX_ITLIM; /* the basis as it was */
  d->hold = false, d->fc_keep = false;
  struct dsx_queue *q = d->q;
  for (int z = 0; z < q->nl; z++) q->late[q->list[z]] = 0;
  q->nl = 0;
  if (d->held) { /* what pricing left the log as */
    d->held = false;
    log_empty(d);
    memset(d->lg->sync, 0, (size_t)d->n * sizeof *d->lg->sync);
  }
  return rc;
}

/* Row i's bounds, as glp_set_row_bnds takes them (unscaled; -HUGE_VAL /
 * HUGE_VAL: none; lo == hi: fixed): its auxiliary variable's, as
 * cl_dsx_set_col sets a column's; false when that leaves the basis dual
 * infeasible (a tight row whose bound on the side its reduced cost needs
 * is gone). Relies on the row's variable being n + i - 1, on lo/hi holding
 * it scaled by rs, on place(), and on dual_feasible()'s tolerance. */
bool cl_dsx_set_row(struct cl_dsx *d, int i, double lo, double hi) {
  take_bounds(d);
  int v = d->n + i - 1;
  d->lo[v] = lo * d->rs[i - 1], d->hi[v] = hi * d->rs[i - 1];
  if (d->st[v] == BASIC) return true;
  place(d, v);
  double tol = TOL_D * (1 + d->cmax);
  return !((d->st[v] == AT_LO && !isfinite(d->hi[v]) && d->dj[v] < -tol) ||
           (d->st[v] == AT_HI && !isfinite(d->lo[v]) && d->dj[v] > tol) ||
           (d->st[v] == FREE && fabs(d->dj[v]) > tol));
}
