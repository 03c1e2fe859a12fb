/* test_clear_nodec.c — the node's fast arithmetic (round 10) against the
 * plain computations it replaces, bit for bit.
 *
 * The Lagrangian bound is evaluated at every node and look-ahead of a
 * proof; clear_lp.c now reads each column's terms from a table of its
 * entries (constrained ISPs where it has power, s·p) and the ISPs'
 * multipliers formed once per evaluation, and rounds the bounds up without
 * glibc's ceill. A bound is proven only as the arithmetic that proves it,
 * and the search branches on the bounds' last bits, so the new code must
 * compute exactly what the old did: the old loop is written again (tests/support/plain_lag.c: per
 * column, per ISP: skip what has no power or no bound, w = the rows'
 * multipliers summed as doubles, then long double products and sums in that
 * order, fmaxl per offer) and both must give the same long double, bit for
 * bit, for multipliers of every size and sign, both objectives, and the
 * factor ranges a branch-and-bound node sets (columns excluded, ordered,
 * narrowed).
 *
 * Round 21 (lag21) wrote the offer loop out over per-column copies of the
 * model's minimum factors and prices, unrolled the entries' loop and
 * specialised it for the objective and for a node running, and rounds the
 * bounds up with one fistp: the per-column terms and per-offer maxima it
 * records for branch-and-bound's child bounds, and the ceiling in every
 * rounding mode, are held to the plain computations too. */
#include <criterion/criterion.h>
#include <fenv.h>
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

/* A multiplier: zero (either sign) one time in zeros, as the slack rows'
 * are, else a full 53-bit significand at a scale from 2^-30 to 2^30,
 * either sign, so that summing two of them in double rounds where long
 * double would not. */
static double rand_mu(struct fx_cm_rng *r, int zeros) {
  if (fx_cm_uni(r, 1, zeros) == 1) return fx_cm_uni(r, 0, 1) ? 0.0 : -0.0;
  double m = (double)(fx_cm_next(r) >> 11) / 9007199254740992.0; /* [0, 1) */
  return (fx_cm_uni(r, 0, 1) ? 1 : -1) * ldexp(0.5 + m / 2, (int)fx_cm_uni(r, -30, 30));
}

/* nodec's multipliers: zero one time in six in the first rounds, one in two later. */
static double nodec_mu(struct fx_cm_rng *r, int round) { return rand_mu(r, round < 4 ? 6 : 2); }

static void compare(struct cl_lp *lp, const struct fx_pl *q, struct fx_cm_rng *r, int nr,
                    uint64_t seed, void *arg) {
  (void)arg;
  fx_pl_compare(lp, q, r, nr, seed, nodec_mu, NULL);
}

Test(clear_nodec, lagrangian_is_the_plain_loop_bit_for_bit) {
  for (uint64_t seed = 1; seed <= 120; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(1 + seed % FX_CM_MAX_OFFERS), (int)(seed % 60), seed % 3 == 0);
    fx_pl_walk(&k.m, seed, seed % 2 == 0, 4, compare, NULL);
  }
}

/* Odd powers of every size (the products then fill the long double's
 * significand), a base that leaves coverage deficits, some ISPs without
 * bounds, options with zeros among their powers, and free options (a zero
 * price starts a column's term at −0). */
Test(clear_nodec, lagrangian_on_wide_markets_with_large_powers) {
  enum { NI = 40, NO = 80, NP = 3 };
  static struct fx_clear_isp isps[NI];
  static struct fx_clear_offer offers[NO];
  static struct fx_clear_option opts[NO][NP];
  static int64_t pw[NO][NP][NI], base[NI];
  for (uint64_t seed = 1; seed <= 30; seed++) {
    struct fx_cm_rng r = {seed};
    size_t ni = (size_t)fx_cm_uni(&r, 8, NI), no = (size_t)fx_cm_uni(&r, 10, NO);
    for (size_t t = 0; t < ni; t++) {
      int64_t a = fx_cm_uni(&r, 0, INT64_C(1) << 38), b = a + fx_cm_uni(&r, 0, INT64_C(1) << 38);
      switch (fx_cm_uni(&r, 0, 4)) {
      case 0: isps[t] = (struct fx_clear_isp){FX_CLEAR_UNCONSTRAINED, 0, 0}; break;
      case 1: isps[t] = (struct fx_clear_isp){FX_CLEAR_AVAILABLE, -b, a}; break;
      case 2: isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, -b, -a}; break;
      default: isps[t] = (struct fx_clear_isp){FX_CLEAR_REQUESTED, a, b}; break;
      }
      base[t] = fx_cm_uni(&r, 0, 2) ? 0 : fx_cm_uni(&r, -(INT64_C(1) << 38), INT64_C(1) << 38);
    }
    for (size_t i = 0; i < no; i++) {
      size_t n_opt = (size_t)fx_cm_uni(&r, 1, NP);
      for (size_t j = 0; j < n_opt; j++) {
        size_t first = (size_t)fx_cm_uni(&r, 0, (int64_t)ni - 1);
        size_t n = (size_t)fx_cm_uni(&r, 1, (int64_t)(ni - first));
        int64_t dir = fx_cm_uni(&r, 0, 3) ? -1 : 1;
        for (size_t t = 0; t < n; t++)
          pw[i][j][t] = fx_cm_uni(&r, 0, 5) == 0 ? 0
                                                 : dir * (fx_cm_uni(&r, 1, INT64_C(1) << fx_cm_uni(&r, 3, 36)) | 1);
        int64_t price = fx_cm_uni(&r, 0, 4) ? fx_cm_uni(&r, -(INT64_C(1) << 40), INT64_C(1) << 44) : 0;
        opts[i][j] = (struct fx_clear_option){price, (int)fx_cm_uni(&r, 1, 100), first, n, pw[i][j]};
      }
      offers[i] = (struct fx_clear_offer){n_opt, opts[i]};
    }
    struct fx_clear_market m = {{ni, isps}, no, offers, seed % 2 ? base : NULL};
    fx_pl_walk(&m, seed, seed % 3 == 0, 4, compare, NULL);
  }
}

/* ---- the bounds' ceiling ------------------------------------------------ */

static void ceil_is_ceill(long double x) {
  int64_t want = (int64_t)ceill(x), got = cl_lp_ceil(x);
  cr_assert_eq(got, want, "ceil(%La): %lld, ceill %lld", x, (long long)got, (long long)want);
}

/* The edges and random values below, ceil_is_ceill on each. */
static void ceil_cases(int n_random) {
  /* integers and their neighbours one unit of the last place away, halves
   * (the sum's rounding ties), and the magnitudes where the fast path ends */
  const long double edges[] = {0.0L, 1.0L, 2.0L, 3.0L, 1e6L, 0x1p52L, 0x1p53L, 0x1p61L,
                               0x1p62L - 1, 0x1p62L, 0x1p62L + 1, 0x1p63L - 1024, 9e18L};
  for (size_t e = 0; e < sizeof edges / sizeof *edges; e++)
    for (int sign = -1; sign <= 1; sign += 2) {
      long double x = sign * edges[e];
      ceil_is_ceill(x);
      ceil_is_ceill(nextafterl(x, HUGE_VALL));
      ceil_is_ceill(nextafterl(x, -HUGE_VALL));
      if (fabsl(x) < 0x1p61L) ceil_is_ceill(x + 0.5L), ceil_is_ceill(x - 0.5L);
    }
  ceil_is_ceill(-0.0L);
  ceil_is_ceill(LDBL_TRUE_MIN);
  ceil_is_ceill(-LDBL_TRUE_MIN);
  struct fx_cm_rng r = {42};
  for (int i = 0; i < n_random; i++) { /* every scale, both signs, any fraction */
    long double m = (long double)fx_cm_next(&r) / 0x1p64L;
    long double x = ldexpl(m, (int)fx_cm_uni(&r, -70, 62)) * (fx_cm_uni(&r, 0, 1) ? 1 : -1);
    if (fabsl(x) <= 9e18L) ceil_is_ceill(x);
  }
}

Test(clear_nodec, ceil_is_ceill_at_every_edge) { ceil_cases(200000); }

/* The ceiling rounds x to an integer in the FPU's current mode and then
 * corrects it: right in every mode, not only the default nearest one. */
Test(clear_nodec, ceil_is_ceill_in_every_rounding_mode) {
  const int modes[] = {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO, FE_TONEAREST};
  for (size_t k = 0; k < sizeof modes / sizeof *modes; k++) {
    cr_assert_eq(fesetround(modes[k]), 0);
    ceil_cases(50000);
  }
}
