/* hist.c — the log-linear latency histogram (see hist.h for its guarantees).
 *
 * Internally values are whole microseconds. Bucket 0 counts 0..2047 µs one by one;
 * bucket b >= 1 covers [1024·2^b, 2048·2^b) µs in 1024 steps of 2^b µs. A step is
 * then at most 1/1024 of the value it holds, which is what three significant digits
 * need. Bucket b's sub-bucket s (1024 <= s < 2048 for b >= 1) lives at b·1024 + s,
 * so the whole map is one flat array: the layout of HdrHistogram, fixed to our range. */
#include "bench/harness/hist.h"

#include <math.h>
#include <string.h>

#define SUB_HALF_MAG 10 /* log2(1024) */
#define MAX_US (FX_HIST_MAX_NS / 1000)

static unsigned floor_log2(uint64_t v) { return 63u - (unsigned)__builtin_clzll(v); }

static size_t index_of(uint64_t us) {
  unsigned b = floor_log2(us | 2047u) - SUB_HALF_MAG;
  return ((size_t)b << SUB_HALF_MAG) + (size_t)(us >> b);
}

/* The largest microsecond value that lands in counts[idx]. */
static uint64_t highest_us(size_t idx) {
  unsigned b = idx < 2048 ? 0 : (unsigned)(idx >> SUB_HALF_MAG) - 1;
  uint64_t s = idx - ((size_t)b << SUB_HALF_MAG);
  return (s << b) + (UINT64_C(1) << b) - 1;
}

void fx_hist_reset(struct fx_hist *h) {
  memset(h, 0, sizeof *h);
  h->min_ns = UINT64_MAX;
}

void fx_hist_record(struct fx_hist *h, uint64_t ns) {
  uint64_t us = ns / 1000;
  if (us > MAX_US) {
    us = MAX_US;
    h->saturated++;
  }
  h->counts[index_of(us)]++;
  h->total++;
  h->sum_ns += ns;
  if (ns < h->min_ns) h->min_ns = ns;
  if (ns > h->max_ns) h->max_ns = ns;
}

void fx_hist_merge(struct fx_hist *dst, const struct fx_hist *src) {
  for (size_t i = 0; i < FX_HIST_COUNTS; i++) dst->counts[i] += src->counts[i];
  dst->total += src->total;
  dst->saturated += src->saturated;
  dst->sum_ns += src->sum_ns;
  if (src->min_ns < dst->min_ns) dst->min_ns = src->min_ns;
  if (src->max_ns > dst->max_ns) dst->max_ns = src->max_ns;
}

uint64_t fx_hist_percentile(const struct fx_hist *h, double pct) {
  if (h->total == 0) return 0;
  if (pct <= 0) return h->min_ns;
  if (pct >= 100) return h->max_ns;
  /* The rank of the value asked for; the tiny shave keeps 99.9 % of 1000 at 999 when
   * the binary fraction of 99.9 lands a hair above it. */
  double rank = pct * (double)h->total / 100.0;
  uint64_t want = (uint64_t)ceil(rank - rank * 1e-12);
  if (want == 0) want = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < FX_HIST_COUNTS; i++) {
    seen += h->counts[i];
    if (seen >= want) {
      uint64_t ns = (highest_us(i) + 1) * 1000 - 1;
      if (ns > h->max_ns) ns = h->max_ns;
      if (ns < h->min_ns) ns = h->min_ns;
      return ns;
    }
  }
  return h->max_ns; /* unreachable while total matches the counters */
}

double fx_hist_mean(const struct fx_hist *h) {
  return h->total ? (double)h->sum_ns / (double)h->total : 0.0;
}

void fx_hist_summary(const struct fx_hist *h, struct fx_lat_summary *out) {
  out->count = h->total;
  out->min = h->total ? h->min_ns : 0;
  out->p50 = fx_hist_percentile(h, 50);
  out->p90 = fx_hist_percentile(h, 90);
  out->p99 = fx_hist_percentile(h, 99);
  out->p999 = fx_hist_percentile(h, 99.9);
  out->max = h->max_ns;
  out->mean = fx_hist_mean(h);
}
