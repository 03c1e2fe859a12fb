/* load.h — the loopback HTTP load driver.
 *
 * K keep-alive connections to a host:port on loopback, each carrying one request at
 * a time. Requests are complete HTTP messages built before the measured window
 * (fx_req_build), so during it the driver only writes prepared bytes, parses
 * responses (http_parser) and timestamps them. When to send is the scheduler's
 * decision (sched.h: open loop at a fixed rate, or closed loop with K in flight);
 * latency runs from the intended send time to the end of the response.
 *
 * Outcomes: every HTTP status is counted; failures are counted by kind. A request
 * whose connection fails is not retried (the platform may have acted on it). The
 * run is bounded by the count, the window and a per-response timeout; afterwards
 * every handle is closed and fx_load_run returns. Non-loopback targets are refused
 * and host names are not resolved (only "localhost"). */
#ifndef FX_BENCH_LOAD_H
#define FX_BENCH_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "bench/harness/hist.h"

enum fx_load_err {
  FX_LOAD_ERR_CONNECT,  /* connection refused or failed to open */
  FX_LOAD_ERR_RESET,    /* connection reset or closed with a request in flight */
  FX_LOAD_ERR_TIMEOUT,  /* no complete response within the timeout */
  FX_LOAD_ERR_STATUS,   /* a complete response whose status is not 200 */
  FX_LOAD_ERR_PROTOCOL, /* a response http_parser rejects */
  FX_LOAD_ERR_COUNT
};

const char *fx_load_err_name(enum fx_load_err e);

/* One complete HTTP request; `data` is owned by the fx_req (fx_req_free). */
struct fx_req {
  char *data;
  size_t len;
};

/* POST `path` with `body` to host:port, keep-alive; -1 when out of memory. */
int fx_req_build(struct fx_req *r, const char *host, int port, const char *path,
                 const char *content_type, const void *body, size_t len);
void fx_req_free(struct fx_req *r);

struct fx_load_stats;

struct fx_load_cfg {
  const char *host; /* a loopback address or "localhost" */
  int port;
  unsigned connections; /* K */
  uint64_t rate;        /* requests per second; 0 = closed loop with K in flight */
  uint64_t count;       /* requests to send at most */
  uint64_t duration_ns; /* window */
  uint64_t timeout_ns;  /* per response; 0 = 10 s */
  const struct fx_req *reqs; /* request i sends reqs[i % n_reqs] */
  size_t n_reqs;
  /* Optional: every finished request (status 0 when it failed without a response). */
  void (*on_response)(void *user, uint64_t index, int status, uint64_t intended_ns,
                      uint64_t done_ns);
  /* Optional: once a second during the run (progress lines). */
  void (*on_tick)(void *user, const struct fx_load_stats *stats);
  void *user;
};

/* One second of the run. */
struct fx_load_point {
  double t_s;         /* seconds since the window opened, at the end of this second */
  double dt_s;        /* its length: 1 s, except a shorter last one */
  uint64_t completed; /* requests finished in this second (any outcome) */
  uint64_t ok;        /* of which answered 200 */
  uint64_t errors;
  struct fx_lat_summary lat; /* of the 200s in this second */
};

struct fx_load_stats {
  uint64_t sent;     /* requests written */
  uint64_t finished; /* requests with an outcome (response, error or timeout) */
  uint64_t ok;       /* responses with status 200 */
  uint64_t unsent;   /* due within the window but never sent (no free connection) */
  uint64_t status[600];
  uint64_t errors[FX_LOAD_ERR_COUNT];
  uint64_t window_start_ns, window_end_ns; /* first intended send .. last outcome */
  struct fx_hist lat; /* intended send → complete 200 response */
  struct fx_load_point *series;
  size_t n_series;
};

/* Resolves a loopback target without DNS; -1 with a reason for anything else. */
int fx_load_loopback_addr(const char *host, int port, struct sockaddr_storage *out, char *err,
                          size_t errlen);

/* Runs one bounded load on `loop` (other handles on it, such as a sink, keep running)
 * and returns when every handle of the driver is closed. On success *stats is a new
 * object owned by the caller (fx_load_stats_free). -1 with a reason when the
 * configuration is refused; failures during the run are counted, not returned. */
int fx_load_run(uv_loop_t *loop, const struct fx_load_cfg *cfg, struct fx_load_stats **stats,
                char *err, size_t errlen);

void fx_load_stats_free(struct fx_load_stats *stats);

#endif
