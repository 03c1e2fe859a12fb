/* sched.c — open- and closed-loop send schedules (see sched.h).
 *
 * The open-loop time of request i is start + ⌊i·10^9 / rate⌋. i·10^9 overflows 64
 * bits only past 1.8·10^10 requests, far beyond any bounded run, but the product is
 * taken in 128 bits anyway so no configuration can wrap it. */
#include "bench/harness/sched.h"

#include <stddef.h>

#define NS_PER_S UINT64_C(1000000000)

int fx_sched_init(struct fx_sched *s, const struct fx_sched_cfg *cfg, fx_clock_fn clock,
                  void *clock_ctx) {
  if (cfg->count == 0 || cfg->max_inflight == 0 || cfg->duration_ns == 0 || clock == NULL)
    return -1;
  s->cfg = *cfg;
  s->clock = clock;
  s->clock_ctx = clock_ctx;
  s->start_ns = 0;
  s->issued = 0;
  s->inflight = 0;
  return 0;
}

void fx_sched_start(struct fx_sched *s) { s->start_ns = s->clock(s->clock_ctx); }

uint64_t fx_sched_end_ns(const struct fx_sched *s) { return s->start_ns + s->cfg.duration_ns; }

uint64_t fx_sched_intended(const struct fx_sched *s, uint64_t i) {
  unsigned __int128 off = (unsigned __int128)i * NS_PER_S / s->cfg.rate;
  return s->start_ns + (uint64_t)off;
}

/* How many open-loop requests are due at or before `now` (ignoring count). */
static uint64_t due_by(const struct fx_sched *s, uint64_t now) {
  if (now < s->start_ns) return 0;
  /* i is due when ⌊i·10^9/rate⌋ <= elapsed, i.e. i <= ((elapsed+1)·rate - 1) / 10^9. */
  unsigned __int128 elapsed = now - s->start_ns;
  return (uint64_t)(((elapsed + 1) * s->cfg.rate - 1) / NS_PER_S) + 1;
}

uint64_t fx_sched_backlog(const struct fx_sched *s, uint64_t now) {
  if (s->cfg.rate == 0) return 0;
  uint64_t due = due_by(s, now);
  if (due > s->cfg.count) due = s->cfg.count;
  return due > s->issued ? due - s->issued : 0;
}

static enum fx_sched_verdict issue(struct fx_sched *s, uint64_t when, uint64_t *intended_ns) {
  *intended_ns = when;
  s->issued++;
  s->inflight++;
  return FX_SCHED_SEND;
}

enum fx_sched_verdict fx_sched_next(struct fx_sched *s, uint64_t *intended_ns, uint64_t *wait_ns) {
  uint64_t now = s->clock(s->clock_ctx);
  uint64_t end = fx_sched_end_ns(s);
  *wait_ns = 0;
  if (s->issued >= s->cfg.count) return FX_SCHED_DONE;
  if (s->cfg.rate == 0) {
    if (now >= end) return FX_SCHED_DONE;
    if (s->inflight >= s->cfg.max_inflight) return FX_SCHED_WAIT;
    return issue(s, now, intended_ns);
  }
  uint64_t next = fx_sched_intended(s, s->issued);
  if (next >= end) return FX_SCHED_DONE;
  if (next > now) {
    *wait_ns = next - now;
    return FX_SCHED_WAIT;
  }
  if (s->inflight >= s->cfg.max_inflight) return FX_SCHED_WAIT;
  return issue(s, next, intended_ns);
}

void fx_sched_complete(struct fx_sched *s) {
  if (s->inflight > 0) s->inflight--;
}
