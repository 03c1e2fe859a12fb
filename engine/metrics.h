/* metrics.h — counters, gauges and latency histograms; Prometheus text.
 *
 * Every series is registered at start-up, with its name, help text and fixed
 * label values; updates afterwards are lock-free (C11 atomics, relaxed) from
 * any thread. Rendering produces the Prometheus text exposition format 0.0.4;
 * fx_metrics_http_handler serves it at GET /metrics on an fx_http_server.
 *
 * Naming (docs/transport.md): counters end in "_total", histograms in
 * "_seconds" (recorded in microseconds, exposed in seconds, fixed 1-2-5
 * buckets from 10 µs to 10 s). Labels that could carry a participant or a
 * congestion point (commercially sensitive) are refused at registration. */
#ifndef FX_ENGINE_METRICS_H
#define FX_ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct fx_http_request;
struct fx_metrics;
struct fx_counter;
struct fx_gauge;
struct fx_histogram;

int fx_metrics_new(struct fx_metrics **out);
void fx_metrics_free(struct fx_metrics *m);

/* Registration: not thread-safe, done before updates and rendering start.
 * labels is NULL or "key=value,key2=value2" (values without ',' or '=').
 * Several registrations under one name form one family (same kind and help);
 * each needs distinct label values. NULL when the name, labels or kind are
 * invalid, a label is forbidden, the series exists, or memory runs out. */
struct fx_counter *fx_metrics_counter(struct fx_metrics *m, const char *name, const char *help,
                                      const char *labels);
struct fx_gauge *fx_metrics_gauge(struct fx_metrics *m, const char *name, const char *help,
                                  const char *labels);
struct fx_histogram *fx_metrics_histogram(struct fx_metrics *m, const char *name,
                                          const char *help, const char *labels);

/* Updates: lock-free, any thread. */
void fx_counter_add(struct fx_counter *c, uint64_t n);
static inline void fx_counter_inc(struct fx_counter *c) { fx_counter_add(c, 1); }
void fx_gauge_set(struct fx_gauge *g, int64_t v);
void fx_gauge_add(struct fx_gauge *g, int64_t delta);
void fx_histogram_observe_us(struct fx_histogram *h, uint64_t us);

/* Renders every family into a new NUL-terminated buffer (*out, freed by the
 * caller with free()). Returns 0 or -ENOMEM. */
int fx_metrics_render(const struct fx_metrics *m, char **out, size_t *len);

/* An fx_http_handler (ud = the struct fx_metrics *): GET /metrics → 200 with
 * the exposition, other paths 404, other methods 405. */
void fx_metrics_http_handler(struct fx_http_request *req, void *ud);

#endif
