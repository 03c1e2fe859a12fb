/* test_bench_hist.c — the latency histogram: percentiles against a sorted reference
 * on random data within three significant digits, merging, reset, saturation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/hist.h"

#define N 200000

/* xorshift64*: the same numbers on every machine, so a failure can be replayed. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

/* Log-uniform between 1 µs and 60 s: every bucket range gets exercised. */
static uint64_t random_latency(uint64_t *s) {
  double u = (double)(next_rand(s) >> 11) / 9007199254740992.0;
  return (uint64_t)(1000.0 * pow(6e7, u));
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static struct fx_hist *new_hist(void) {
  struct fx_hist *h = malloc(sizeof *h);
  cr_assert_not_null(h);
  fx_hist_reset(h);
  return h;
}

static uint64_t *random_values(uint64_t seed) {
  uint64_t *v = malloc(N * sizeof *v);
  cr_assert_not_null(v);
  for (size_t i = 0; i < N; i++) v[i] = random_latency(&seed);
  return v;
}

/* The reference percentile: the smallest value with at least pct% at or below it,
 * its rank computed in integers (pct has at most two decimals here). */
static uint64_t reference(const uint64_t *sorted, size_t n, double pct) {
  uint64_t hundredths = (uint64_t)llround(pct * 100);
  size_t rank = (size_t)((hundredths * n + 9999) / 10000);
  return sorted[rank ? rank - 1 : 0];
}

static void assert_close(uint64_t got, uint64_t want, double pct) {
  uint64_t tol = want / 1024 > 1000 ? want / 1024 : 1000; /* 3 digits, 1 µs floor */
  cr_assert(got >= want, "p%g: %llu below the true %llu", pct, (unsigned long long)got,
            (unsigned long long)want);
  cr_assert(got - want <= tol, "p%g: %llu too far above the true %llu", pct,
            (unsigned long long)got, (unsigned long long)want);
}

Test(bench_hist, percentiles_match_a_sorted_reference_within_three_digits) {
  uint64_t *v = random_values(42);
  struct fx_hist *h = new_hist();
  for (size_t i = 0; i < N; i++) fx_hist_record(h, v[i]);
  qsort(v, N, sizeof *v, cmp_u64);
  const double pcts[] = {1, 10, 25, 50, 75, 90, 99, 99.9, 99.99};
  for (size_t k = 0; k < sizeof pcts / sizeof *pcts; k++)
    assert_close(fx_hist_percentile(h, pcts[k]), reference(v, N, pcts[k]), pcts[k]);
  cr_assert_eq(h->total, N);
  cr_assert_eq(h->min_ns, v[0]);
  cr_assert_eq(h->max_ns, v[N - 1]);
  cr_assert_eq(fx_hist_percentile(h, 100), v[N - 1], "max is exact");
  free(v);
  free(h);
}

Test(bench_hist, narrow_data_keeps_microsecond_resolution) {
  struct fx_hist *h = new_hist();
  uint64_t seed = 7, v[5000];
  for (size_t i = 0; i < 5000; i++) v[i] = 20000 + next_rand(&seed) % 80000; /* 20..100 µs */
  for (size_t i = 0; i < 5000; i++) fx_hist_record(h, v[i]);
  qsort(v, 5000, sizeof *v, cmp_u64);
  for (double p = 5; p < 100; p += 5) assert_close(fx_hist_percentile(h, p), reference(v, 5000, p), p);
  free(h);
}

Test(bench_hist, merge_equals_recording_everything_in_one) {
  uint64_t *v = random_values(99);
  struct fx_hist *all = new_hist(), *sum = new_hist(), *part[4];
  for (int k = 0; k < 4; k++) part[k] = new_hist();
  for (size_t i = 0; i < N; i++) {
    fx_hist_record(all, v[i]);
    fx_hist_record(part[i % 4], v[i]);
  }
  for (int k = 0; k < 4; k++) fx_hist_merge(sum, part[k]);
  cr_assert_eq(memcmp(all, sum, sizeof *all), 0, "merged histogram differs");
  cr_assert_eq(fx_hist_percentile(sum, 99.9), fx_hist_percentile(all, 99.9));
  for (int k = 0; k < 4; k++) free(part[k]);
  free(all);
  free(sum);
  free(v);
}

Test(bench_hist, reset_empties_it) {
  struct fx_hist *h = new_hist();
  fx_hist_record(h, 5000);
  fx_hist_reset(h);
  cr_assert_eq(h->total, 0);
  cr_assert_eq(fx_hist_percentile(h, 50), 0);
  cr_assert_eq(fx_hist_mean(h), 0.0);
  struct fx_lat_summary s;
  fx_hist_summary(h, &s);
  cr_assert_eq(s.count, 0);
  cr_assert_eq(s.min, 0);
  cr_assert_eq(s.max, 0);
  free(h);
}

Test(bench_hist, values_beyond_sixty_seconds_saturate_but_max_stays_exact) {
  struct fx_hist *h = new_hist();
  fx_hist_record(h, FX_HIST_MAX_NS * 2);
  fx_hist_record(h, 1000);
  cr_assert_eq(h->saturated, 1);
  cr_assert_eq(h->max_ns, FX_HIST_MAX_NS * 2);
  cr_assert_leq(fx_hist_percentile(h, 99), FX_HIST_MAX_NS * 2);
  cr_assert_geq(fx_hist_percentile(h, 99), FX_HIST_MAX_NS - FX_HIST_MAX_NS / 1024);
  cr_assert_leq(fx_hist_percentile(h, 50), 1999);
  free(h);
}

Test(bench_hist, summary_reports_the_standard_percentiles) {
  struct fx_hist *h = new_hist();
  for (uint64_t i = 1; i <= 1000; i++) fx_hist_record(h, i * 1000); /* 1..1000 µs */
  struct fx_lat_summary s;
  fx_hist_summary(h, &s);
  cr_assert_eq(s.count, 1000);
  cr_assert_eq(s.min, 1000);
  cr_assert_eq(s.p50, 500999); /* the 500th value, 500 µs, to the end of its microsecond */
  cr_assert_eq(s.p90, 900999);
  cr_assert_eq(s.p99, 990999);
  cr_assert_eq(s.p999, 999999);
  cr_assert_eq(s.max, 1000000);
  cr_assert_float_eq(s.mean, 500500.0, 1e-6);
  free(h);
}
