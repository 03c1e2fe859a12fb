/* uftp_run.h — what the UFTP workloads (workload_uftp.c: ingest, mixed;
 * workload_market.c: market-day) share: the spawned platform with its sink and
 * message builder, batches of requests for phases outside the window, and the
 * common reference they all need before an offer can be Accepted. Internal to the
 * harness. */
#ifndef FX_BENCH_UFTP_RUN_H
#define FX_BENCH_UFTP_RUN_H

#include <jansson.h>
#include <stdint.h>

#include "bench/harness/bench.h"
#include "bench/harness/phase.h"
#include "bench/harness/platform.h"
#include "bench/harness/uftp.h"

/* A batch of requests built for a phase, with what each must be answered. */
struct fx_bench_batch {
  struct fx_req *reqs;
  char (*keys)[FX_UUID_STRLEN];
  int *outcomes;
  struct fx_uuid *ids; /* each request's MessageID */
  size_t n, cap;
};

/* Builds `spec` from `from` into the batch (growing it). -1 with a reason. */
int fx_bench_batch_add(struct fx_bench_batch *bt, struct fx_bench_msgs *msgs, const struct fx_bench_msg *spec,
                       const struct fx_bench_party *from, const struct fx_bench_run *run, char *err,
                       size_t errlen);
void fx_bench_batch_free(struct fx_bench_batch *bt);

/* The platform side of a UFTP run. */
struct fx_bench_uftp {
  struct fx_bench_platform *plat;
  struct fx_bench_msgs *msgs;
  struct fx_bench_route route; /* the sink's messages: inbox in phases, tracker in the window */
  struct fx_bench_inbox inbox;
  struct fx_bench_phase_stats reference; /* the portfolio updates, all phases together */
  unsigned n_cps;
  uint64_t sink_base; /* messages the sink had received when the window opened */
  uv_loop_t *loop;    /* the run's: operator requests keep it (and the sink) running */
};

/* Starts the sink (routed through u->route) and flexd, and the builder for the Period
 * `days_ahead` days ahead. -1 with a reason. */
int fx_bench_uftp_start(struct fx_bench_run *run, struct fx_bench_uftp *u, int days_ahead, char *err,
                        size_t errlen);
/* The environment of a phase against u's platform. */
void fx_bench_uftp_env(const struct fx_bench_run *run, struct fx_bench_uftp *u, struct fx_bench_phase_env *env);
/* Runs one phase of batch `bt`. */
int fx_bench_uftp_phase(struct fx_bench_run *run, struct fx_bench_uftp *u, const char *name,
                        const struct fx_bench_batch *bt, uint64_t others, struct fx_bench_phase_stats *st,
                        char *err, size_t errlen);
/* The common reference through the real endpoint: the DSO publishes CPs 0..n_cps-1
 * with a connection of every AGR at each (in chunks, one after the other), then every
 * AGR claims its connections; every update must come back Accepted. */
int fx_bench_uftp_reference(struct fx_bench_run *run, struct fx_bench_uftp *u, unsigned n_cps, char *err,
                            size_t errlen);
/* `method` `path` on the platform's operator listener (libcurl on a helper
 * thread while u->loop runs, so the sink keeps taking flexd's deliveries: an
 * operator clearing takes seconds and its FlexOrders go out meanwhile). The HTTP status (0 when there was none), and the JSON
 * answer in *out (NULL when it is not JSON; the caller json_decref()s it). */
long fx_bench_uftp_operator(const struct fx_bench_uftp *u, const char *method, const char *path, double timeout_s,
                            json_t **out);
/* Stops and frees what start made (not the sink: the run loop closes it). */
void fx_bench_uftp_free(struct fx_bench_uftp *u);

#endif
