/* scrape.h — reading flexd's own accounting from its metrics listener.
 *
 * flexd samples the CPU time of its signature checks and signings where they
 * run (flexd_crypto_cpu_seconds{op=open|sign}, one call in 8 per worker). Two
 * scrapes around the window give the mean cost of each inside the loaded
 * platform, the third yardstick beside the ceilings measured on idle and on
 * busy cores (docs/bench.md, "The crypto inside flexd"). */
#ifndef FX_BENCH_SCRAPE_H
#define FX_BENCH_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct fx_crypto_inside {
  double open_s, sign_s;          /* the histograms' _sum */
  uint64_t open_n, sign_n;        /* and _count */
};

/* One blocking request to 127.0.0.1:port (the operator listener: /metrics,
 * /api/...): the HTTP status (0 when none came) and the body in *body
 * (malloc'd, NUL-terminated, NULL when empty; the caller frees it). */
long fx_bench_http_fetch(int port, const char *method, const char *path, double timeout_s, char **body);

/* The same request made on a helper thread while `loop` runs, so that the
 * harness's own servers on it (the sink) keep answering flexd meanwhile: a
 * clearing requested by the operator can take seconds, and its FlexOrders are
 * delivered while it runs. */
long fx_bench_http_fetch_on(uv_loop_t *loop, int port, const char *method, const char *path, double timeout_s,
                            char **body);

/* GET /metrics on 127.0.0.1:port (blocking, at most timeout_s); 0 and *out
 * filled, or -1 when the listener did not answer 200 or has no such series. */
int fx_scrape_crypto(int port, double timeout_s, struct fx_crypto_inside *out);

/* Parses the exposition text; the same contract as above. */
int fx_scrape_crypto_parse(const char *text, struct fx_crypto_inside *out);

/* Mean µs per call of each kind between two scrapes; false when either kind
 * has no sample in between. */
bool fx_crypto_inside_mean(const struct fx_crypto_inside *a, const struct fx_crypto_inside *b, double *open_us,
                           double *sign_us, uint64_t *open_n, uint64_t *sign_n);

#endif
