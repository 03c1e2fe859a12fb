/* test_clear_lag_skip.c — the Lagrangian's column terms over the entries
 * of nonzero multipliers only (round 23), against the plain loop, bit for
 * bit.
 *
 * clear_lp.c marks, per evaluation, the ISPs whose multiplier w is not
 * zero in a bitset and walks each column's entries through its window's
 * mask (64 bits read at the byte of its first ISP), skipping the entries
 * on w = ±0; a market with a window over 57 ISPs walks every entry
 * instead (cl_lp_lag_wide). Skipping is exact: such an entry adds ±0 to
 * the column's sums, which changes at most the sign of a zero the term
 * never shows. Here on markets of up to 200 ISPs, windows starting at
 * every position of a byte and running to its last bit (57 ISPs from the
 * eighth of a byte) and beyond, most multipliers ±0 (as the duals of
 * slack rows are), free options (a column's term from −0) and zero
 * powers, every bound, look-ahead and child bound is the plain loop's to
 * the last bit. It fails with a window's bits shifted, an ISP's bit left
 * out of the bitset or set for a zero multiplier, or the wide markets'
 * walk broken. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_dsx.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* ---- the plain Lagrangian, as clear_lp.c computed it before round 10 --- */

struct plain {
  const struct cl_model *md;
  const struct cl_krange *kr; /* NULL: no branch-and-bound running */
  int *ra, *rb, rt;
};

static void p_range(const struct plain *q, size_t c, int *k1, int *k2) {
  int lo = q->kr ? q->kr[c].lo : 0;
  *k1 = lo > q->md->col[c].min_af ? lo : q->md->col[c].min_af;
  *k2 = q->kr ? q->kr[c].hi : 100;
}

static long double p_col_term(const struct plain *q, const double *mu, size_t c, bool cost,
                              long double *mag) {
  const struct cl_model *md = q->md;
  const struct cl_col *cl = &md->col[c];
  long double g = cost ? -(long double)cl->price : 0.0L, noise = cost ? 0.5L : 0.0L;
  for (size_t j = 0; j < cl->n; j++) {
    size_t t = cl->first + j;
    if (!cl->p[j] || !md->isp[t].constrained) continue;
    long double w = mu[q->ra[t]] + (q->rb[t] ? mu[q->rb[t]] : 0.0);
    long double v = w * (long double)(md->isp[t].s * cl->p[j]);
    g -= v;
    *mag += fabsl(v);
    noise += 0.5L * fabsl(w);
  }
  int k1, k2;
  p_range(q, c, &k1, &k2);
  long double a = g * k1 / 100.0L, b = g * k2 / 100.0L;
  return (a > b ? a : b) + (k1 < 100 ? noise : 0.0L);
}

static long double p_offer_term(const struct plain *q, const double *mu, size_t i, bool cost,
                                long double *mag) {
  const struct cl_model *md = q->md;
  long double best = 0.0L;
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    int k1, k2;
    p_range(q, c, &k1, &k2);
    if (k2 < k1) continue;
    long double v = p_col_term(q, mu, c, cost, mag);
    if (q->kr && q->kr[c].lo > 0) {
      best = v;
      break;
    }
    best = fmaxl(best, v);
  }
  return best;
}

static long double p_lagrangian(const struct plain *q, double *mu, bool cost, double total) {
  const struct cl_model *md = q->md;
  long double sum = 0.0L, mag = 0.0L;
  if (!cost || mu[q->rt] > 0) mu[q->rt] = 0.0;
  sum += mu[q->rt] * (long double)total;
  for (size_t t = 0; t < md->n_isps; t++) {
    const struct cl_isp *is = &md->isp[t];
    if (!is->constrained) continue;
    double a = mu[q->ra[t]];
    sum += a * (long double)(a >= 0 ? is->hi : is->lo);
    if (!q->rb[t]) continue;
    if (mu[q->rb[t]] > 0) mu[q->rb[t]] = 0.0;
    sum += mu[q->rb[t]] * (long double)-is->off;
    long double cc = (cost ? 0.0L : 1.0L) + mu[q->rb[t]] - mu[q->rt];
    sum += cc * (long double)(cc > 0 ? is->cap : is->covmin);
  }
  for (size_t i = 0; i < md->n_offers; i++) sum += p_offer_term(q, mu, i, cost, &mag);
  long double margin = 1e-9L * (mag + fabsl(sum)) + 1e-6L;
  return sum + margin;
}

/* ---- inputs ------------------------------------------------------------- */

/* Equal to the last bit, the sign of zero included. */
static bool same_ld(long double a, long double b) {
  return (a == b && signbit(a) == signbit(b)) || (isnan(a) && isnan(b));
}

/* A multiplier: ±0 three times in four in the first rounds (once in two
 * later), else a full 53-bit significand at a scale from 2^-30 to 2^30,
 * either sign. Round 7 has no zeros, round 6 nothing else. */
static double rand_mu(struct fx_cm_rng *r, int round) {
  bool zero = round == 6 || (round != 7 && fx_cm_uni(r, 0, round < 4 ? 3 : 1) != 0);
  if (zero) return fx_cm_uni(r, 0, 1) ? 0.0 : -0.0;
  double m = (double)(fx_cm_next(r) >> 11) / 9007199254740992.0; /* [0, 1) */
  return (fx_cm_uni(r, 0, 1) ? 1 : -1) * ldexp(0.5 + m / 2, (int)fx_cm_uni(r, -30, 30));
}

/* A node's factor ranges: per offer maybe one ordered column (lo above 0),
 * others excluded now and then (hi below the minimum), narrowed, or free. */
static void rand_kr(struct fx_cm_rng *r, const struct cl_model *md, struct cl_krange *kr) {
  for (size_t i = 0; i < md->n_offers; i++) {
    size_t a = md->offer_col[i], b = md->offer_col[i + 1];
    size_t on = b > a && fx_cm_uni(r, 0, 3) == 0 ? a + (size_t)fx_cm_uni(r, 0, (int64_t)(b - a) - 1)
                                                 : SIZE_MAX;
    for (size_t c = a; c < b; c++) {
      int lo = 0, hi = 100;
      switch (fx_cm_uni(r, 0, 4)) {
      case 0: hi = 0; break;                                  /* excluded */
      case 1: hi = (int)fx_cm_uni(r, 0, 100); break;          /* capped */
      case 2: lo = (int)fx_cm_uni(r, 0, 100), hi = 100; break; /* raised (lo > 0: ordered) */
      default: break;
      }
      if (c == on) lo = (int)fx_cm_uni(r, 1, 100), hi = (int)fx_cm_uni(r, lo, 100);
      else if (on != SIZE_MAX) lo = 0;
      kr[c] = (struct cl_krange){(uint8_t)lo, (uint8_t)hi};
    }
  }
}

/* The child bound cl_lp_bb_child gives for offer i on column c (or with c
 * excluded) after the Lagrangian sum of multipliers mu (already clamped),
 * from the plain loop's terms: a proven bound in minimisation form. */
static int64_t p_child(const struct plain *q, const double *mu, bool cost, long double sum, size_t i,
                       size_t c, bool on) {
  const struct cl_model *md = q->md;
  long double scratch = 0.0L, best = p_offer_term(q, mu, i, cost, &scratch);
  long double nb = on ? p_col_term(q, mu, c, cost, &scratch) : 0.0L;
  for (size_t j = md->offer_col[i]; !on && j < md->offer_col[i + 1]; j++) {
    int k1, k2;
    p_range(q, j, &k1, &k2);
    if (q->kr[j].lo > 0) return INT64_MAX;
    if (j == c || k2 < k1) continue;
    nb = fmaxl(nb, p_col_term(q, mu, j, cost, &scratch));
  }
  long double d = nb - best, lb = -(sum + d + 1e-9L * fabsl(d));
  if (lb > 9e18L) return INT64_MAX;
  if (lb < -9e18L) return -INT64_MAX;
  return (int64_t)ceill(lb);
}

/* Every child bound of the last evaluation: each allowed column excluded,
 * and ordered where the loop reached it (not past an offer's ordered
 * column, whose terms it never records). Each evaluation records over the
 * last one's terms, so a term not written is a stale one and differs. */
static void compare_children(struct cl_lp *lp, const struct plain *q, const double *mu, bool cost,
                             long double sum, uint64_t seed) {
  const struct cl_model *md = q->md;
  for (size_t i = 0; i < md->n_offers; i++) {
    bool past_on = false;
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      int k1, k2;
      p_range(q, c, &k1, &k2);
      if (k2 < k1) continue;
      int64_t off = cl_lp_bb_child(lp, i, c, false), want = p_child(q, mu, cost, sum, i, c, false);
      cr_assert_eq(off, want, "seed %llu offer %zu column %zu excluded: %lld, plain %lld",
                   (unsigned long long)seed, i, c, (long long)off, (long long)want);
      if (past_on) continue;
      int64_t on = cl_lp_bb_child(lp, i, c, true);
      want = p_child(q, mu, cost, sum, i, c, true);
      cr_assert_eq(on, want, "seed %llu offer %zu column %zu ordered: %lld, plain %lld",
                   (unsigned long long)seed, i, c, (long long)on, (long long)want);
      past_on = q->kr[c].lo > 0;
    }
  }
}

/* The terms the node's evaluation recorded (cl_lp_bb_reach's pointers):
 * each offer's best and each column's term the loop reached (allowed, not
 * past an ordered one), the plain loop's to the last bit. */
static void compare_terms(struct cl_lp *lp, const struct plain *q, const double *mu, bool cost,
                          uint64_t seed) {
  const struct cl_model *md = q->md;
  struct cl_reach r;
  cl_lp_bb_reach(lp, 0, &r);
  cr_assert(r.val && r.best);
  for (size_t i = 0; i < md->n_offers; i++) {
    long double scratch = 0.0L, best = p_offer_term(q, mu, i, cost, &scratch);
    cr_assert(same_ld(r.best[i], best), "seed %llu offer %zu: best %La, plain %La",
              (unsigned long long)seed, i, r.best[i], best);
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      int k1, k2;
      p_range(q, c, &k1, &k2);
      if (k2 < k1) continue;
      long double v = p_col_term(q, mu, c, cost, &scratch);
      cr_assert(same_ld(r.val[c], v), "seed %llu column %zu: term %La, plain %La",
                (unsigned long long)seed, c, r.val[c], v);
      if (q->kr[c].lo > 0) break;
    }
  }
}

/* Both Lagrangians of the same multipliers: the same bits, and the same
 * multipliers after both clamped them. */
static void compare(struct cl_lp *lp, const struct plain *q, struct fx_cm_rng *r, int nr,
                    uint64_t seed) {
  double *m1 = malloc(((size_t)nr + 1) * sizeof *m1), *m2 = malloc(((size_t)nr + 1) * sizeof *m2);
  double *m3 = malloc(((size_t)nr + 1) * sizeof *m3), *m4 = malloc(((size_t)nr + 1) * sizeof *m4);
  cr_assert(m1 && m2 && m3 && m4);
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i <= nr; i++) m1[i] = m2[i] = rand_mu(r, round);
    bool cost = round % 2;
    double total = (double)fx_cm_uni(r, -1000000, 1000000);
    long double fast = cl_lp_lagrangian(lp, m1, cost, total);
    long double plain = p_lagrangian(q, m2, cost, total);
    cr_assert(same_ld(fast, plain), "seed %llu round %d: %La, plain %La",
              (unsigned long long)seed, round, fast, plain);
    cr_assert_eq(memcmp(m1, m2, ((size_t)nr + 1) * sizeof *m1), 0, "seed %llu: clamping differs",
                 (unsigned long long)seed);
    if (!q->kr) continue;
    compare_terms(lp, q, m2, cost, seed);
    /* a look-ahead's evaluation of other multipliers: the plain loop's
     * value, and the node's terms untouched */
    for (int i = 0; i <= nr; i++) m3[i] = m4[i] = rand_mu(r, round);
    long double ahead = cl_lp_lagrangian_ahead(lp, m3, cost, total);
    long double ahead_plain = p_lagrangian(q, m4, cost, total);
    cr_assert(same_ld(ahead, ahead_plain), "seed %llu round %d look-ahead: %La, plain %La",
              (unsigned long long)seed, round, ahead, ahead_plain);
    compare_children(lp, q, m2, cost, plain, seed);
  }
  free(m1), free(m2), free(m3), free(m4);
}

static void run_market(const struct fx_clear_market *m, uint64_t seed, bool lazy, int *wide) {
  struct fx_cm_rng r = {seed * 7919 + 1};
  struct fx_clear_params p;
  fx_clear_params_init(&p);
  p.bb_lazy_rows = lazy;
  struct cl_model md;
  cr_assert_eq(cl_model_init(&md, m), 0);
  if (!md.n_cols) {
    cl_model_free(&md);
    return;
  }
  struct cl_lp *lp = NULL;
  cr_assert_eq(cl_lp_create(&lp, &md, &p, 0), 0);
  wide[cl_lp_lag_wide(lp)]++;
  int *ra = calloc(md.n_isps + 1, sizeof *ra), *rb = calloc(md.n_isps + 1, sizeof *rb), rt = 0;
  struct cl_krange *kr = malloc(md.n_cols * sizeof *kr);
  cr_assert(ra && rb && kr);
  for (size_t t = 0; t < md.n_isps; t++) cl_lp_isp_rows(lp, t, &ra[t], &rb[t], &rt);
  struct plain q = {&md, NULL, ra, rb, rt};
  compare(lp, &q, &r, cl_lp_bb_rows(lp), seed); /* no node: every factor allowed */
  rand_kr(&r, &md, kr);
  cr_assert_eq(cl_lp_bb_begin(lp, kr, false), 0);
  q.kr = kr;
  compare(lp, &q, &r, cl_lp_bb_rows(lp), seed);
  for (int again = 0; again < 2; again++) { /* the node moves on; kr is read live */
    rand_kr(&r, &md, kr);
    compare(lp, &q, &r, cl_lp_bb_rows(lp), seed);
  }
  cl_lp_bb_end(lp);
  cl_lp_free(lp);
  cl_model_free(&md);
  free(ra), free(rb), free(kr);
}

enum { NI = 200, NO = 40, NP = 3 };
static struct fx_clear_isp isps[NI];
static struct fx_clear_offer offers[NO];
static struct fx_clear_option opts[NO][NP];
static int64_t pw[NO][NP][NI], base[NI];

/* A market of ni (64 or more) ISPs whose options' windows are at most
 * maxw ISPs long, but for the first option of the first offer: 57 ISPs
 * from the last ISP of a byte (its mask's last bit). */
static struct fx_clear_market gen(struct fx_cm_rng *r, size_t ni, size_t no, size_t maxw) {
  for (size_t t = 0; t < ni; t++) {
    int64_t a = fx_cm_uni(r, 0, INT64_C(1) << 30), b = a + fx_cm_uni(r, 0, INT64_C(1) << 30);
    switch (fx_cm_uni(r, 0, 4)) {
    case 0: isps[t] = (struct fx_clear_isp){FX_CLEAR_UNCONSTRAINED, 0, 0}; break;
    case 1: isps[t] = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -b, a}; break;
    case 2: isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -b, -a}; break;
    default: isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, a, b}; break;
    }
    base[t] = fx_cm_uni(r, 0, 2) ? 0 : fx_cm_uni(r, -(INT64_C(1) << 30), INT64_C(1) << 30);
  }
  for (size_t i = 0; i < no; i++) {
    size_t n_opt = (size_t)fx_cm_uni(r, 1, NP);
    for (size_t j = 0; j < n_opt; j++) {
      size_t first = (size_t)fx_cm_uni(r, 0, (int64_t)ni - 1);
      size_t room = ni - first < maxw ? ni - first : maxw;
      size_t n = (size_t)fx_cm_uni(r, 1, (int64_t)room);
      if (i == 0 && j == 0) {
        size_t w = 57;
        first = (size_t)fx_cm_uni(r, 0, (int64_t)((ni - w) / 8)) * 8 + 7;
        if (first + w > ni) first -= 8;
        n = w;
      }
      int64_t dir = fx_cm_uni(r, 0, 3) ? -1 : 1;
      for (size_t t = 0; t < n; t++)
        pw[i][j][t] = fx_cm_uni(r, 0, 5) == 0 ? 0 : dir * (fx_cm_uni(r, 1, INT64_C(1) << fx_cm_uni(r, 3, 30)) | 1);
      int64_t price = fx_cm_uni(r, 0, 3) ? fx_cm_uni(r, -(INT64_C(1) << 30), INT64_C(1) << 40) : 0;
      opts[i][j] = (struct fx_clear_option){price, (int)fx_cm_uni(r, 1, 100), first, n, pw[i][j]};
    }
    offers[i] = (struct fx_clear_offer){n_opt, opts[i]};
  }
  return (struct fx_clear_market){{ni, isps}, no, offers, fx_cm_uni(r, 0, 1) ? base : NULL};
}

/* Windows of up to 57 ISPs: the masks' walk, at every byte position. */
Test(clear_lag_skip, masked_walk_is_the_plain_loop_bit_for_bit) {
  int wide[2] = {0, 0};
  for (uint64_t seed = 1; seed <= 40; seed++) {
    struct fx_cm_rng r = {seed * 31 + 7};
    size_t ni = (size_t)fx_cm_uni(&r, 64, NI), no = (size_t)fx_cm_uni(&r, 8, NO);
    struct fx_clear_market m = gen(&r, ni, no, (size_t)fx_cm_uni(&r, 8, 57));
    run_market(&m, seed, seed % 3 == 0, wide);
  }
  cr_assert(wide[0] >= 30 && wide[1] == 0, "narrow markets %d, wide %d", wide[0], wide[1]);
}

/* Windows of 58 to 64 ISPs: past a mask's 64 bits from some byte
 * position, so walked entry by entry too. */
Test(clear_lag_skip, windows_past_a_mask_walk_every_entry) {
  int wide[2] = {0, 0};
  for (uint64_t seed = 1; seed <= 20; seed++) {
    struct fx_cm_rng r = {seed * 41 + 3};
    size_t ni = (size_t)fx_cm_uni(&r, 80, NI), no = (size_t)fx_cm_uni(&r, 8, NO);
    struct fx_clear_market m = gen(&r, ni, no, 57);
    size_t n = (size_t)fx_cm_uni(&r, 58, 64), first = (size_t)fx_cm_uni(&r, 0, (int64_t)(ni - n));
    for (size_t t = 0; t < n; t++)
      pw[1][0][t] = (fx_cm_uni(&r, 0, 1) ? 1 : -1) * (fx_cm_uni(&r, 1, INT64_C(1) << 20) | 1);
    opts[1][0].first_isp = first, opts[1][0].n_power = n;
    run_market(&m, seed, seed % 2 == 0, wide);
  }
  cr_assert(wide[1] >= 15, "narrow markets %d, wide %d", wide[0], wide[1]);
}

/* Windows beyond 57 ISPs: every entry walked. */
Test(clear_lag_skip, wide_windows_walk_every_entry) {
  int wide[2] = {0, 0};
  for (uint64_t seed = 1; seed <= 20; seed++) {
    struct fx_cm_rng r = {seed * 37 + 11};
    size_t ni = (size_t)fx_cm_uni(&r, 120, NI), no = (size_t)fx_cm_uni(&r, 8, NO);
    struct fx_clear_market m = gen(&r, ni, no, 100);
    for (size_t t = 0; t < 100; t++) /* one window over 57 ISPs */
      pw[1][0][t] = (fx_cm_uni(&r, 0, 1) ? 1 : -1) * (fx_cm_uni(&r, 1, INT64_C(1) << 20) | 1);
    opts[1][0].first_isp = 0, opts[1][0].n_power = 100;
    run_market(&m, seed, seed % 2 == 0, wide);
  }
  cr_assert(wide[1] >= 15, "narrow markets %d, wide %d", wide[0], wide[1]);
}
