/* test_bench_sched.c — open- and closed-loop schedules on a virtual clock: the exact
 * count over a window, intended times that do not drift or slip when sends are late,
 * the count limit, and K in flight. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "bench/harness/sched.h"

#define MS UINT64_C(1000000)
#define S UINT64_C(1000000000)
#define MAX_STEPS 10000000

struct vclock {
  uint64_t now;
};

static uint64_t vclock_now(void *ctx) { return ((struct vclock *)ctx)->now; }

static void start(struct fx_sched *s, struct vclock *c, uint64_t rate, unsigned k, uint64_t count,
                  uint64_t duration) {
  struct fx_sched_cfg cfg = {.rate = rate, .max_inflight = k, .count = count,
                             .duration_ns = duration};
  cr_assert_eq(fx_sched_init(s, &cfg, vclock_now, c), 0);
  fx_sched_start(s);
}

/* Runs an open loop whose sends complete at once; the clock advances by `step(i)`
 * whenever the scheduler waits, or is late by `jitter` on top. Returns the sends. */
static uint64_t run_open(struct fx_sched *s, struct vclock *c, uint64_t *intended, uint64_t cap,
                         uint64_t jitter_seed) {
  uint64_t n = 0, seed = jitter_seed;
  for (long steps = 0; steps < MAX_STEPS; steps++) {
    uint64_t at, wait;
    enum fx_sched_verdict v = fx_sched_next(s, &at, &wait);
    if (v == FX_SCHED_DONE) return n;
    if (v == FX_SCHED_SEND) {
      cr_assert_leq(at, c->now, "request %llu sent before it was due", (unsigned long long)n);
      if (n < cap) intended[n] = at;
      n++;
      fx_sched_complete(s);
      continue;
    }
    cr_assert_gt(wait, 0, "open loop waited for nothing");
    c->now += wait;
    if (jitter_seed) { /* a sloppy timer: wake up to 7 ms late */
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      c->now += (seed >> 33) % (7 * MS);
    }
  }
  cr_assert_fail("schedule did not finish");
  return n;
}

Test(bench_sched, open_loop_issues_exactly_rate_times_window) {
  struct vclock c = {.now = 5 * S};
  struct fx_sched s;
  static uint64_t at[10000];
  start(&s, &c, 1000, 8, 1000000, 10 * S);
  cr_assert_eq(run_open(&s, &c, at, 10000, 0), 10000);
  for (uint64_t i = 0; i < 10000; i++) cr_assert_eq(at[i], 5 * S + i * MS);
}

Test(bench_sched, open_loop_late_wakeups_keep_intended_times_and_count) {
  struct vclock c = {.now = 0};
  struct fx_sched s;
  static uint64_t at[10000];
  start(&s, &c, 1000, 8, 1000000, 10 * S);
  cr_assert_eq(run_open(&s, &c, at, 10000, 12345), 10000);
  for (uint64_t i = 0; i < 10000; i++)
    cr_assert_eq(at[i], i * MS, "request %llu intended at %llu", (unsigned long long)i,
                 (unsigned long long)at[i]);
}

Test(bench_sched, open_loop_with_uneven_period_has_no_drift) {
  struct vclock c = {.now = 0};
  struct fx_sched s;
  uint64_t at[32];
  start(&s, &c, 3, 1, 100, S); /* period 333333333.3 ns */
  cr_assert_eq(run_open(&s, &c, at, 32, 0), 3);
  cr_assert_eq(at[1], 333333333);
  cr_assert_eq(at[2], 666666666);
  start(&s, &c, 7, 1, 100, 2500 * MS); /* ceil(7 × 2.5) */
  cr_assert_eq(run_open(&s, &c, at, 32, 0), 18);
}

Test(bench_sched, open_loop_backlog_grows_while_the_sender_is_stalled) {
  struct vclock c = {.now = 0};
  struct fx_sched s;
  uint64_t at, wait;
  start(&s, &c, 1000, 1, 1000000, 10 * S);
  cr_assert_eq(fx_sched_next(&s, &at, &wait), FX_SCHED_SEND); /* request 0, never completes */
  c.now = 100 * MS;
  cr_assert_eq(fx_sched_next(&s, &at, &wait), FX_SCHED_WAIT);
  cr_assert_eq(wait, 0, "due, but no free slot: wait for a completion");
  cr_assert_eq(fx_sched_backlog(&s, c.now), 100); /* requests 1..100 are due */
  fx_sched_complete(&s);
  cr_assert_eq(fx_sched_next(&s, &at, &wait), FX_SCHED_SEND);
  cr_assert_eq(at, 1 * MS, "a late request keeps its intended time");
}

Test(bench_sched, count_limit_ends_the_run_early) {
  struct vclock c = {.now = 0};
  struct fx_sched s;
  uint64_t at[64];
  start(&s, &c, 1000, 4, 50, 10 * S);
  cr_assert_eq(run_open(&s, &c, at, 64, 0), 50);
  cr_assert_eq(c.now, 49 * MS, "stopped as soon as the 50th was sent");
}

/* Closed loop against a server that answers every request after `latency`. */
static uint64_t run_closed(struct fx_sched *s, struct vclock *c, unsigned k, uint64_t latency) {
  uint64_t *due = calloc(k, sizeof *due); /* completion time per slot, 0 = free */
  uint64_t n = 0;
  cr_assert_not_null(due);
  for (long steps = 0; steps < MAX_STEPS; steps++) {
    uint64_t at, wait;
    enum fx_sched_verdict v = fx_sched_next(s, &at, &wait);
    cr_assert_leq(s->inflight, k, "more than K in flight");
    if (v == FX_SCHED_DONE) break;
    if (v == FX_SCHED_SEND) {
      cr_assert_eq(at, c->now, "closed loop measures from the actual send");
      unsigned slot = 0;
      while (due[slot]) slot++;
      due[slot] = c->now + latency;
      n++;
      continue;
    }
    cr_assert_eq(s->inflight, k, "waited with a free slot");
    uint64_t first = UINT64_MAX;
    for (unsigned i = 0; i < k; i++)
      if (due[i] && due[i] < first) first = due[i];
    c->now = first;
    for (unsigned i = 0; i < k; i++)
      if (due[i] == first) {
        due[i] = 0;
        fx_sched_complete(s);
      }
  }
  free(due);
  return n;
}

Test(bench_sched, closed_loop_keeps_k_in_flight) {
  struct vclock c = {.now = 0};
  struct fx_sched s;
  start(&s, &c, 0, 4, 1000, 60 * S);
  cr_assert_eq(run_closed(&s, &c, 4, MS), 1000);
  cr_assert_eq(c.now, 249 * MS, "1000 requests, 4 at a time, 1 ms each");
}

Test(bench_sched, closed_loop_stops_at_the_end_of_the_window) {
  struct vclock c = {.now = 0};
  struct fx_sched s;
  start(&s, &c, 0, 2, 1000000, S);
  cr_assert_eq(run_closed(&s, &c, 2, 10 * MS), 200, "2 in flight, 10 ms each, for 1 s");
}

Test(bench_sched, refuses_a_run_without_bounds) {
  struct vclock c = {0};
  struct fx_sched s;
  struct fx_sched_cfg no_count = {.rate = 1, .max_inflight = 1, .count = 0, .duration_ns = S};
  struct fx_sched_cfg no_window = {.rate = 1, .max_inflight = 1, .count = 1, .duration_ns = 0};
  struct fx_sched_cfg no_slots = {.rate = 1, .max_inflight = 0, .count = 1, .duration_ns = S};
  cr_assert_eq(fx_sched_init(&s, &no_count, vclock_now, &c), -1);
  cr_assert_eq(fx_sched_init(&s, &no_window, vclock_now, &c), -1);
  cr_assert_eq(fx_sched_init(&s, &no_slots, vclock_now, &c), -1);
}
