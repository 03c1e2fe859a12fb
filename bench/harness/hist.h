/* hist.h — an HDR-style latency histogram for the bench harness.
 *
 * Log-linear buckets keep three significant digits from 1 µs to 60 s in a fixed
 * 136 KiB of counters, so recording is one shift and one increment, memory never
 * grows during a run, and two histograms merge by adding counters: each thread
 * (or each second of a run) keeps its own and they are summed afterwards.
 *
 * Values go in and come out in nanoseconds. Precision: a reported percentile is
 * never below the true one and exceeds it by less than max(1 µs, value / 1024).
 * Values above 60 s are counted at 60 s (and in `saturated`); min and max are exact. */
#ifndef FX_BENCH_HIST_H
#define FX_BENCH_HIST_H

#include <stdint.h>

#define FX_HIST_MAX_NS UINT64_C(60000000000)
/* 2048 linear sub-buckets in the first bucket, then 15 halves of 1024 doubling in width. */
#define FX_HIST_COUNTS 17408

struct fx_hist {
  uint64_t total;
  uint64_t saturated;
  uint64_t min_ns; /* UINT64_MAX while empty */
  uint64_t max_ns;
  uint64_t sum_ns; /* for the mean; 2^64 ns is 584 years */
  uint64_t counts[FX_HIST_COUNTS];
};

/* Empties `h` (also the initialiser: a struct fx_hist needs no other setup). */
void fx_hist_reset(struct fx_hist *h);

void fx_hist_record(struct fx_hist *h, uint64_t ns);

/* Adds everything recorded in `src` to `dst`, as if it had been recorded there. */
void fx_hist_merge(struct fx_hist *dst, const struct fx_hist *src);

/* The value at or below which `pct` percent (0..100) of the recordings lie; 0 when
 * empty. pct = 100 gives the exact max, pct = 0 the exact min. */
uint64_t fx_hist_percentile(const struct fx_hist *h, double pct);

/* Mean in ns (exact, from the sum); 0 when empty. */
double fx_hist_mean(const struct fx_hist *h);

/* The percentiles every report shows. */
struct fx_lat_summary {
  uint64_t count;
  uint64_t min, p50, p90, p99, p999, max; /* ns */
  double mean;                            /* ns */
};

void fx_hist_summary(const struct fx_hist *h, struct fx_lat_summary *out);

#endif
