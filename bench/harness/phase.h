/* phase.h — exchanges with the spawned platform outside the measured window.
 *
 * A market cannot be loaded in one shot: offers are Accepted only on congestion
 * points a DSO has published and where the AGR has connections, and solicited
 * offers name the FlexRequest copies the platform broadcast. So the UFTP workloads
 * set up the common reference, and market-day runs its day, as phases: a batch of
 * prepared requests goes through the real endpoint (the load driver, closed loop),
 * every one must be answered 200, and the phase waits — bounded — until the sink has
 * the platform's responses and whatever else the phase makes it send (FlexRequest
 * copies, FlexOrders). The responses are judged against the outcome each request
 * expects; the other messages stay in the inbox for the workload to act on.
 *
 * The inbox is the sink's callback while a phase runs: it copies every message. In
 * the measured window the workload points the sink at its async tracker instead
 * (fx_bench_route), so nothing but a memcpy happens there. */
#ifndef FX_BENCH_PHASE_H
#define FX_BENCH_PHASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bench/harness/async.h"
#include "bench/harness/hist.h"
#include "bench/harness/load.h"
#include "bench/harness/sink.h"
#include "codec/codec.h" /* FX_UUID_STRLEN */

struct fx_bench_inbox_msg {
  char *body; /* NUL-terminated copy */
  size_t len;
  uint64_t arrival_ns;
  bool response; /* judged by the phase that received it */
};

struct fx_bench_inbox {
  struct fx_bench_inbox_msg *v;
  size_t n, cap;
  uint64_t lost; /* not stored: out of memory */
};

void fx_bench_inbox_free(struct fx_bench_inbox *in); /* and empties it */

/* Where the sink's messages go: the inbox while it is set, else the tracker. */
struct fx_bench_route {
  struct fx_bench_inbox *inbox;
  struct fx_async *async;
};
/* An fx_sink_cfg.on_message (user = the fx_bench_route). */
void fx_bench_route_message(void *route, const char *body, size_t len, uint64_t arrival_ns);

struct fx_bench_phase_env {
  uv_loop_t *loop;
  struct fx_sink *sink;
  struct fx_bench_route *route; /* its inbox is set during the phase */
  struct fx_bench_inbox *inbox;
  const char *host;
  int port;
  unsigned connections;
  double timeout_s;
  fx_async_judge_fn judge;
  void *judge_user;
  void (*name_outcome)(int outcome, char *buf, size_t cap); /* optional, for messages */
};

/* A phase's requests: request i's response names key[i] and must be judged
 * outcome[i]; outcome[i] < 0 when nothing answers it (a FlexOrderResponse). */
struct fx_bench_phase {
  const char *name;
  const struct fx_req *reqs;
  size_t n;
  char (*keys)[FX_UUID_STRLEN];
  const int *outcomes;
  uint64_t others; /* messages other than responses the phase must bring to the sink */
};

struct fx_bench_phase_stats {
  uint64_t elapsed_ns;      /* first send → the last 200 or awaited message */
  struct fx_lat_summary http; /* intended send → 200 */
  struct fx_lat_summary async; /* intended send → response at the sink */
  uint64_t first_other_ns, last_other_ns; /* arrivals of the other messages, 0 if none */
  uint64_t start_ns;
};

/* Runs `ph` as described above. 0 when every request was answered 200 and every
 * response arrived, authentic and with its outcome, and the others arrived; -1 with
 * the first problem in `err` otherwise. Never longer than about 2 × timeout_s plus
 * the time to send. */
int fx_bench_phase_run(const struct fx_bench_phase_env *env, const struct fx_bench_phase *ph,
                       struct fx_bench_phase_stats *st, char *err, size_t errlen);

#endif
