/* bench_settle.c — the settlement computation alone: 100,000 orders × 96 ISPs.
 *
 * Orders are generated from a fixed seed into a pool of POOL orders (larger than
 * the caches, so inputs come from memory as they would from the store's map) and
 * settled one at a time through one reused result buffer, into per-AGR totals,
 * as a settlement run would. A second pass adds the CSV lines into a reused
 * buffer. Reading the store and metering is measured once the engine wires this
 * to the store.
 *
 * Usage: bench_settle [orders] [seed]   (defaults 100000, 1) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/settle.h"

enum { ISPS = 96, POOL = 4096, AGRS = 100 };

struct gen_order {
  int64_t price;
  struct fx_settle_isp_in isp[ISPS];
};

/* xorshift64*: deterministic, seedable, good enough for test data. */
static uint64_t next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

static int64_t between(uint64_t *s, int64_t lo, int64_t hi) {
  return lo + (int64_t)(next(s) % (uint64_t)(hi - lo + 1));
}

/* A day of one order: flex in the congestion's direction at every ISP, a
 * realistic spread of delivery, and 1 in 500 ISPs without metering. */
static void generate(struct gen_order *o, uint64_t *s) {
  int down = next(s) & 1;
  o->price = between(s, 1, 5000000);
  for (int i = 0; i < ISPS; i++) {
    int64_t base = between(s, -5000000, 5000000);
    int64_t ordered = between(s, 0, 2000000) * (down ? -1 : 1);
    int64_t actual = base + ordered * between(s, -50, 150) / 100;
    o->isp[i] = (struct fx_settle_isp_in){
        .start = (uint32_t)i + 1,
        .congestion = down ? FX_SETTLE_CONGESTION_CONSUMPTION : FX_SETTLE_CONGESTION_PRODUCTION,
        .have = (uint8_t)(FX_SETTLE_HAVE_BASELINE | (between(s, 0, 499) ? FX_SETTLE_HAVE_ACTUAL : 0)),
        .baseline_w = base, .ordered_w = ordered, .actual_w = actual};
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct fx_settle_input input_of(const struct gen_order *g) {
  return (struct fx_settle_input){.period = "2026-03-14", .congestion_point = "ean.871685900000000001",
                                  .order_reference = "bench", .currency = "EUR",
                                  .order_price = g->price, .penalty_rate = 110000,
                                  .isp_minutes = 15, .isps = g->isp, .n_isps = ISPS};
}

/* Settles `n` orders into per-AGR totals; with `csv` also formats each order's
 * lines into a reused buffer. Returns the seconds taken, or -1 on an error. */
static double run(const struct gen_order *pool, long n, int csv, struct fx_settle_totals *agr,
                  size_t *csv_bytes) {
  static struct fx_settle_isp_out out[ISPS];
  static char line[64 * 1024];
  struct fx_settle_result r = {.isps = out, .isps_cap = ISPS};
  for (int a = 0; a < AGRS; a++)
    fx_settle_totals_init(&agr[a]);
  *csv_bytes = 0;
  double t0 = now_s();
  for (long k = 0; k < n; k++) {
    struct fx_settle_input in = input_of(&pool[k % POOL]);
    int rc = fx_settle_order(&in, &r);
    if (rc == FX_SETTLE_OK)
      rc = fx_settle_totals_add(&agr[k % AGRS], &r);
    if (rc != FX_SETTLE_OK) {
      fprintf(stderr, "order %ld: %s\n", k, fx_settle_strerror(rc));
      return -1;
    }
    if (csv)
      *csv_bytes += fx_settle_csv_order(&in, &r, line, sizeof line);
  }
  return now_s() - t0;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
  if (n <= 0 || seed == 0) {
    fprintf(stderr, "usage: bench_settle [orders > 0] [seed != 0]\n");
    return 2;
  }
  struct gen_order *pool = malloc(sizeof *pool * POOL);
  struct fx_settle_totals *agr = malloc(sizeof *agr * AGRS);
  if (!pool || !agr) {
    fprintf(stderr, "out of memory\n");
    free(pool);
    free(agr);
    return 1;
  }
  for (int i = 0; i < POOL; i++)
    generate(&pool[i], &seed);
  size_t bytes;
  double t_calc = run(pool, n, 0, agr, &bytes);
  double t_csv = t_calc < 0 ? -1 : run(pool, n, 1, agr, &bytes);
  int rc = t_calc < 0 || t_csv < 0;
  if (!rc) {
    uint64_t settled = 0, incomplete = 0;
    for (int a = 0; a < AGRS; a++)
      settled += agr[a].settled, incomplete += agr[a].incomplete;
    printf("orders %ld x %d ISPs, %d AGRs: %" PRIu64 " settled, %" PRIu64 " incomplete\n", n, ISPS,
           AGRS, settled, incomplete);
    printf("settle:       %.3f s  %.0f orders/s  %.1f ns/ISP\n", t_calc, (double)n / t_calc,
           t_calc * 1e9 / ((double)n * ISPS));
    printf("settle + csv: %.3f s  %.0f orders/s  (%.1f MB of CSV)\n", t_csv, (double)n / t_csv,
           (double)bytes / 1e6);
  }
  free(pool);
  free(agr);
  return rc;
}
