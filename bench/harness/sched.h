/* sched.h — when the load driver may send its next request.
 *
 * Two disciplines:
 *  - open loop: request i is due at start + i·10^9/rate ns, computed from i (not by
 *    adding intervals), so a run of D seconds issues exactly the requests due before
 *    D whatever the timer jitter. A late request keeps its intended time: latency is
 *    measured from it (coordinated-omission correction), so a stalled server shows
 *    up as latency instead of silently lowering the offered rate.
 *  - closed loop: up to K requests in flight; a new one leaves when one completes,
 *    and its intended time is the moment it leaves.
 * Both stop at `count` requests or at the end of the window, whichever is first.
 *
 * The scheduler reads time only through the clock function it is given, so tests
 * drive it with a virtual clock and the driver with uv_hrtime. */
#ifndef FX_BENCH_SCHED_H
#define FX_BENCH_SCHED_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t (*fx_clock_fn)(void *ctx); /* monotonic nanoseconds */

struct fx_sched_cfg {
  uint64_t rate;         /* requests per second (open loop); 0 = closed loop */
  unsigned max_inflight; /* K: closed loop's concurrency, open loop's send slots */
  uint64_t count;        /* at most this many requests; must be > 0 */
  uint64_t duration_ns;  /* window: no request is due at or after its end (a late
                          * open-loop request due before it is still issued) */
};

struct fx_sched {
  struct fx_sched_cfg cfg;
  fx_clock_fn clock;
  void *clock_ctx;
  uint64_t start_ns;
  uint64_t issued;
  uint64_t inflight;
};

enum fx_sched_verdict {
  FX_SCHED_SEND, /* send now; *intended_ns is the time to measure latency from */
  FX_SCHED_WAIT, /* nothing due: ask again in *wait_ns (0 = when a request completes) */
  FX_SCHED_DONE  /* count reached or window over: issue nothing more */
};

/* -1 when the configuration cannot run (count 0, K 0, no window). */
int fx_sched_init(struct fx_sched *s, const struct fx_sched_cfg *cfg, fx_clock_fn clock,
                  void *clock_ctx);

/* Starts the window now (by the scheduler's clock). */
void fx_sched_start(struct fx_sched *s);

enum fx_sched_verdict fx_sched_next(struct fx_sched *s, uint64_t *intended_ns, uint64_t *wait_ns);

/* One issued request has completed (answered, failed or timed out). */
void fx_sched_complete(struct fx_sched *s);

/* The intended send time of request `i` in open loop (start + i·10^9/rate). */
uint64_t fx_sched_intended(const struct fx_sched *s, uint64_t i);

/* Requests that were due by `now` but not yet issued (open loop's backlog). */
uint64_t fx_sched_backlog(const struct fx_sched *s, uint64_t now);

uint64_t fx_sched_end_ns(const struct fx_sched *s);

#endif
