/* http_client.h — outbound HTTP POST on the libuv loop (libcurl multi).
 *
 * Used by the sender to deliver signed UFTP messages to peers' endpoints.
 * All calls and callbacks are on the loop thread. Concurrency is bounded per
 * peer (scheme://host:port of the first URL) and in total; posts beyond the
 * bounds wait in a FIFO per peer, and their timeout starts only when they
 * start. Connections are kept alive and reused (libcurl's connection cache).
 * Redirects are followed for POST, body included, up to max_redirects.
 *
 * What to do with the outcome is fx_http_delivery_class(); when to try again
 * is fx_backoff_next_us(). The rules are documented in docs/transport.md. */
#ifndef FX_ENGINE_HTTP_CLIENT_H
#define FX_ENGINE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct fx_http_client;

/* Transport errors (the second argument of the callback). */
enum fx_http_err {
  FX_HTTP_OK = 0,        /* an HTTP status was received */
  FX_HTTP_ETIMEDOUT,     /* the post did not finish within its timeout */
  FX_HTTP_EREFUSED,      /* the connection could not be made */
  FX_HTTP_ERESET,        /* the connection broke (reset, EOF, nothing received) */
  FX_HTTP_EDNS,          /* the host name did not resolve */
  FX_HTTP_ETLS,          /* TLS handshake or certificate verification failed */
  FX_HTTP_EREDIRECTS,    /* more redirects than allowed */
  FX_HTTP_ECANCELED,     /* the client was closed first */
  FX_HTTP_EINTERNAL      /* anything else (bad URL, out of memory, ...) */
};

struct fx_http_client_config {
  unsigned max_total;          /* posts in progress, all peers together */
  unsigned max_per_peer;       /* posts in progress per scheme://host:port */
  unsigned max_redirects;
  unsigned connect_timeout_ms;
  const char *ca_file;         /* NULL: the system's CA store */
};

/* Defaults: 64 total, 4 per peer, 5 redirects, 10 s connect, system CAs. */
void fx_http_client_config_default(struct fx_http_client_config *cfg);

/* status: the final HTTP status (after redirects), or 0 when err != FX_HTTP_OK. */
typedef void (*fx_http_client_cb)(int status, enum fx_http_err err, void *ud);

int fx_http_client_new(struct fx_http_client **out, uv_loop_t *loop,
                       const struct fx_http_client_config *cfg);

/* Closes the client: every post not yet called back is called back with
 * FX_HTTP_ECANCELED before this returns; the memory is released once the
 * loop has processed the handle closes. */
void fx_http_client_close(struct fx_http_client *c);

/* Posts body (copied) to url. cb runs exactly once, on the loop thread, never
 * from inside this call. Returns 0, or -EINVAL (URL without host) /
 * -ENOMEM / -ECANCELED (client closing), in which case cb is never called. */
int fx_http_client_post(struct fx_http_client *c, const char *url, const char *content_type,
                        const void *body, size_t len, unsigned timeout_ms,
                        fx_http_client_cb cb, void *ud);

/* Posts started and not finished / waiting for a slot. */
unsigned fx_http_client_active(const struct fx_http_client *c);
unsigned fx_http_client_waiting(const struct fx_http_client *c);

const char *fx_http_err_name(enum fx_http_err err);

/* What a delivery outcome means for the sender (UFTP transport appendix). */
enum fx_delivery_class {
  FX_DELIVERY_FINAL_OK,       /* 2xx: delivered, never retry */
  FX_DELIVERY_FINAL_REJECTED, /* unambiguous 4xx: permanent, never retry */
  FX_DELIVERY_RETRY           /* 5xx, 404, 408, 429, other codes, transport errors */
};
enum fx_delivery_class fx_http_delivery_class(int status, enum fx_http_err err);

/* Delay before retry number `attempt` (0 = first retry): base_us × 2^attempt,
 * capped at cap_us, then scaled into [1/2, 1] of itself by a jitter drawn
 * deterministically from (jitter_seed, attempt) — e.g. seed = a hash of the
 * message id, so peers' retries spread out but a replay gives the same delays. */
uint64_t fx_backoff_next_us(unsigned attempt, uint64_t base_us, uint64_t cap_us,
                            uint64_t jitter_seed);

#endif
