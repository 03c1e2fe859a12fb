/* bench.h — a bench run: options, the workload interface and the run loop.
 *
 * A workload decides WHAT is sent and how answers are checked; the run loop decides
 * HOW it is measured, identically for every workload:
 *
 *   prepare   build every request (and sign it) before the window; start a sink if
 *             the workload expects asynchronous responses; say the message sizes
 *   ceiling   crypto_sign_open + crypto_sign at those sizes, on this thread
 *   window    CPU counters sampled; the load driver runs (progress on a TTY)
 *   drain     the workload waits (bounded) for its asynchronous responses
 *             CPU counters sampled again: the window's CPU includes delivery
 *   verify    the workload checks what arrived (signatures, correlation) — after
 *             the window, so it never competes with the platform
 *   report    table on `out`, JSON and SVG files when asked
 *   cleanup   the workload frees what it built; the run closes the sink and loop
 *
 * The UFTP workloads (ingest, market-day, mixed) plug in here, with async.h for
 * matching and timing asynchronous responses; the generic `post` and `sink`
 * workloads (workload_post.c) need no platform-specific code. */
#ifndef FX_BENCH_BENCH_H
#define FX_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "bench/harness/async.h"
#include "bench/harness/ceiling.h"
#include "bench/harness/hist.h"
#include "bench/harness/load.h"
#include "bench/harness/sink.h"

struct fx_bench_opts {
  const char *workload;
  char host[64]; /* target; loopback only */
  int port;
  uint64_t rate;        /* 0 = closed loop */
  unsigned connections; /* K */
  uint64_t count;       /* at most this many requests */
  double duration_s;    /* window */
  double timeout_s;     /* per response, and for draining asynchronous responses */
  long platform_pid;    /* its CPU is measured when > 0 */
  const char *body_file; /* `post`: the body to send */
  size_t body_size;      /* `post` without a file, and `sink`: generated body size */
  const char *json_path; /* NULL = no JSON file */
  const char *svg_path;  /* NULL = no plot */
  bool no_ceiling;
  unsigned ceiling_iterations; /* 0 = the default */
  bool quiet;                  /* no progress line */
  /* UFTP workloads (workload_uftp.c): the platform they spawn and what they send */
  const char *flexd_path; /* the flexd binary; NULL = `flexd` next to this program */
  unsigned agrs;          /* simulated AGRs, each with its own keys (default 16) */
  unsigned isps;          /* ISPs in ingest's FlexOffer (default 4; 96 = a whole day) */
  unsigned cps;           /* market-day: congestion points (default 8) */
  bool clear_operator;    /* market-day: clear by the operator's POST, not at the requests'
                             expiry (--clear=operator|time; default time) */
  bool settle;            /* market-day: a settlement run on request after the day */
  unsigned workers;       /* flexd's [platform] workers; 0 = its default (one per core) */
  bool nosync;            /* store_nosync = true (default: durable commits) */
  bool keep;              /* leave flexd's directory (store, log, config) behind */
  unsigned flood_connections; /* flood: the flooding AGR's connections (closed loop);
                                 0 = no flood, the baseline (default 8) */
};

/* Everything a workload prepares for the run loop, and what it reports back. */
struct fx_bench_run {
  uv_loop_t *loop;
  const struct fx_bench_opts *opts;
  char host[64]; /* target (the workload may redirect it, e.g. `sink`) */
  int port;
  struct fx_req *reqs; /* owned by the workload (freed in cleanup) */
  size_t n_reqs;
  size_t inbound_len, response_len; /* message sizes for the ceiling */
  struct fx_sink *sink;             /* optional; the run loop closes it */
  struct fx_hist *async;            /* optional; owned by the workload */
  const struct fx_async *async_track; /* optional: how responses matched (async.h) */
  uint64_t async_expected, async_last_ns;
  long platform_pid; /* defaults to opts->platform_pid; a workload may start flexd */
  int metrics_port;  /* the spawned flexd's operator listener, 0 = none (scrape.h) */
  uint64_t window_end_ns; /* 0, or the uv_hrtime() by which the window must have closed
                             (market-day: before its FlexRequests expire) */
  void (*on_response)(void *user, uint64_t index, int status, uint64_t intended_ns,
                      uint64_t done_ns);
  void *state; /* the workload's own */
};

struct fx_workload {
  const char *name;
  const char *summary;
  int (*prepare)(struct fx_bench_run *run, char *err, size_t errlen);
  int (*drain)(struct fx_bench_run *run, char *err, size_t errlen);  /* optional */
  int (*verify)(struct fx_bench_run *run, char *err, size_t errlen); /* optional */
  void (*cleanup)(struct fx_bench_run *run);                         /* optional */
  /* optional: lines of its own after the report table (e.g. the message mix) */
  void (*report)(const struct fx_bench_run *run, FILE *out);
};

/* Defaults: 127.0.0.1:8080, closed loop, 4 connections, 10000 requests, 10 s,
 * timeout 10 s, 1 KiB bodies; 16 AGRs, 4-ISP offers, durable store. */
void fx_bench_opts_defaults(struct fx_bench_opts *o);

/* Runs `w` as described above and prints the table on `out`. Returns 0 when every
 * request was answered 200 and the workload's checks passed, 1 when the run
 * finished with failures (they are in the report), -1 (with `err`) when it could
 * not run. */
int fx_bench_execute(const struct fx_workload *w, const struct fx_bench_opts *o, FILE *out,
                     char *err, size_t errlen);

/* The generic workloads (workload_post.c). */
extern const struct fx_workload fx_workload_post;
extern const struct fx_workload fx_workload_sink;

/* The UFTP workloads against a flexd they spawn (workload_uftp.c). */
extern const struct fx_workload fx_workload_ingest;
extern const struct fx_workload fx_workload_mixed;
/* One AGR floods (closed loop) while the others send FlexOffers at --rate. */
extern const struct fx_workload fx_workload_flood;
/* A market day on many CPs against a flexd it spawns (workload_market.c). */
extern const struct fx_workload fx_workload_market_day;

#endif
