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
#include "tests/support/plain_lag.h"

/* ---- inputs ------------------------------------------------------------- */

/* A multiplier: ±0 three times in four in the first rounds (once in two
 * later), else a full 53-bit significand at a scale from 2^-30 to 2^30,
 * either sign. Round 7 has no zeros, round 6 nothing else. */
static double rand_mu(struct fx_cm_rng *r, int round) {
  bool zero = round == 6 || (round != 7 && fx_cm_uni(r, 0, round < 4 ? 3 : 1) != 0);
  if (zero) return fx_cm_uni(r, 0, 1) ? 0.0 : -0.0;
  double m = (double)(fx_cm_next(r) >> 11) / 9007199254740992.0; /* [0, 1) */
  return (fx_cm_uni(r, 0, 1) ? 1 : -1) * ldexp(0.5 + m / 2, (int)fx_cm_uni(r, -30, 30));
}

/* The terms the node's evaluation recorded (cl_lp_bb_reach's pointers):
 * each offer's best and each column's term the loop reached (allowed, not
 * past an ordered one), the plain loop's to the last bit. */
static void compare_terms(struct cl_lp *lp, const struct fx_pl *q, const double *mu, bool cost,
                          uint64_t seed) {
  const struct cl_model *md = q->md;
  struct cl_reach r;
  cl_lp_bb_reach(lp, 0, &r);
  cr_assert(r.val && r.best);
  for (size_t i = 0; i < md->n_offers; i++) {
    long double scratch = 0.0L, best = fx_pl_offer_term(q, mu, i, cost, &scratch);
    cr_assert(fx_pl_same_ld(r.best[i], best), "seed %llu offer %zu: best %La, plain %La",
              (unsigned long long)seed, i, r.best[i], best);
    for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
      int k1, k2;
      fx_pl_range(q, c, &k1, &k2);
      if (k2 < k1) continue;
      long double v = fx_pl_col_term(q, mu, c, cost, &scratch);
      cr_assert(fx_pl_same_ld(r.val[c], v), "seed %llu column %zu: term %La, plain %La",
                (unsigned long long)seed, c, r.val[c], v);
      if (q->kr[c].lo > 0) break;
    }
  }
}

/* The Lagrangian (fx_pl_compare), and at a node the terms it recorded. */
static void compare(struct cl_lp *lp, const struct fx_pl *q, struct fx_cm_rng *r, int nr,
                    uint64_t seed, void *arg) {
  if (!q->kr) ((int *)arg)[cl_lp_lag_wide(lp)]++; /* once per market */
  fx_pl_compare(lp, q, r, nr, seed, rand_mu, compare_terms);
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
    fx_pl_walk(&m, seed, seed % 3 == 0, 3, compare, wide);
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
    fx_pl_walk(&m, seed, seed % 2 == 0, 3, compare, wide);
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
    fx_pl_walk(&m, seed, seed % 2 == 0, 3, compare, wide);
  }
  cr_assert(wide[1] >= 15, "narrow markets %d, wide %d", wide[0], wide[1]);
}
