/* http_server.h — an HTTP/1.1 server on a libuv loop (inbound UFTP, metrics).
 *
 * One fx_http_server is one listening socket plus its connections, all run on
 * the loop thread. Requests are parsed with http_parser, bounded by the limits
 * in fx_http_server_config, and handed to one handler callback once complete
 * (whole body in memory). The handler answers at once or later with
 * fx_http_respond(); responses on a connection leave in request order
 * (pipelining). Limits, statuses and timeouts are documented in
 * docs/transport.md.
 *
 * Request lifetime: a request belongs to the handler from the handler call
 * until fx_http_respond(), which must be called exactly once, on the loop
 * thread, even if the connection has died meanwhile (it then only frees the
 * request). A request therefore never dangles, whatever the peer does.
 *
 * The parse step (struct fx_http_wire) is exposed so it can be driven without
 * sockets (fuzz_http) — the server uses exactly this code per connection. */
#ifndef FX_ENGINE_HTTP_SERVER_H
#define FX_ENGINE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct fx_http_server;
struct fx_tls_ctx;
struct fx_http_request;

struct fx_http_server_config {
  const char *host;             /* listen address, e.g. "127.0.0.1" */
  int port;                     /* 0: an ephemeral port (see fx_http_server_port) */
  unsigned max_connections;     /* beyond it, accepted connections are closed at once */
  size_t max_header_bytes;      /* request line + headers; beyond: 431 and close */
  size_t max_body_bytes;        /* Content-Length beyond it: 413 and close */
  unsigned max_pipelined;       /* requests awaiting a response per connection
                                   before the server stops reading from it */
  unsigned header_timeout_ms;   /* first byte of a request → end of its headers */
  unsigned body_timeout_ms;     /* end of headers → end of body */
  unsigned idle_timeout_ms;     /* keep-alive connection without a request */
  unsigned stop_grace_ms;       /* graceful stop: wait this long for in-flight requests */
  struct fx_tls_ctx *tls;       /* NULL: plain HTTP; else HTTPS (the server takes a reference) */
  unsigned handshake_timeout_ms;/* TLS: accept → handshake complete */
  unsigned ip_rate;             /* requests per second per peer IP (burst the same), 0 = off;
                                   beyond it: 429 with Retry-After, before the handler */
  unsigned ip_max_connections;  /* open connections per peer IP, 0 = off; beyond: closed at once */
  /* Called (loop thread) for every answer the server gives by itself, before
   * any handler: 400, 411, 413, 431, 429 (per-IP rate), 503; NULL = none. */
  void (*on_refused)(int status, void *ud);
  void *refused_ud;
};

/* Fills *cfg with the defaults (127.0.0.1:0, 1024 connections, 16 KiB headers,
 * 1 MiB bodies, 16 pipelined, 10 s header/body timeouts, 60 s idle, 5 s grace,
 * plain HTTP, 10 s handshake timeout, no per-IP limits). */
void fx_http_server_config_default(struct fx_http_server_config *cfg);

/* Called on the loop thread for every complete, well-formed request. */
typedef void (*fx_http_handler)(struct fx_http_request *req, void *ud);

/* Binds and listens. Returns 0, or a negative libuv error code (bind failures). */
int fx_http_server_start(struct fx_http_server **out, uv_loop_t *loop,
                         const struct fx_http_server_config *cfg,
                         fx_http_handler handler, void *ud);

/* The bound port (useful with port 0). */
int fx_http_server_port(const struct fx_http_server *srv);

/* Replaces the TLS context for connections accepted from now on (certificate
 * reload); connections already open keep theirs. The server takes a reference
 * to ctx. Ignored (returns -1) on a plain-HTTP server. Loop thread only. */
int fx_http_server_set_tls(struct fx_http_server *srv, struct fx_tls_ctx *ctx);

/* Number of open connections. */
unsigned fx_http_server_connections(const struct fx_http_server *srv);

/* Graceful stop: stop accepting, close idle connections, let requests already
 * handed to the handler be answered for up to stop_grace_ms, then close
 * everything. The server frees itself; `stopped` (may be NULL) runs last. */
void fx_http_server_stop(struct fx_http_server *srv,
                         void (*stopped)(void *ud), void *ud);

/* --- the request, as seen by a handler (all strings NUL-terminated) --- */
const char *fx_http_request_method(const struct fx_http_request *req);
/* The request target up to '?' (the query is not used by flexd). */
const char *fx_http_request_path(const struct fx_http_request *req);
/* The value of header `name` (case-insensitive), or NULL. */
const char *fx_http_request_header(const struct fx_http_request *req, const char *name);
const char *fx_http_request_content_type(const struct fx_http_request *req);
const uint8_t *fx_http_request_body(const struct fx_http_request *req, size_t *len);
/* The peer's IP address as text ("" when unknown, e.g. under fuzz). */
const char *fx_http_request_peer(const struct fx_http_request *req);
/* True once the connection has gone: a response would reach nobody. */
bool fx_http_request_gone(const struct fx_http_request *req);

/* Answers req and gives it up (req is invalid afterwards). content_type may be
 * NULL (no header); extra_headers is NULL or complete lines each ending in
 * "\r\n" (e.g. "Retry-After: 1\r\nLocation: /x\r\n"). The body is copied.
 * Returns 0, or -ENOMEM (the connection is then closed; req is still freed). */
int fx_http_respond(struct fx_http_request *req, int status, const char *content_type,
                    const void *body, size_t len, const char *extra_headers);

/* The reason phrase for a status ("Unknown" when not in the table). */
const char *fx_http_status_text(int status);

/* --- the parse step on its own --- */
struct fx_http_wire;

enum fx_http_wire_event {
  FX_HTTP_WIRE_MORE = 0,     /* everything fed was consumed; feed more */
  FX_HTTP_WIRE_REQUEST = 1,  /* a request is complete: take it */
  FX_HTTP_WIRE_ERROR = 2     /* answer fx_http_wire_error_status() and close */
};

int fx_http_wire_new(struct fx_http_wire **out, const struct fx_http_server_config *cfg);
void fx_http_wire_free(struct fx_http_wire *w);
/* Parses at most one request out of data[0..len); *consumed says how much was
 * used. After FX_HTTP_WIRE_REQUEST, feed the rest of the bytes again. */
enum fx_http_wire_event fx_http_wire_feed(struct fx_http_wire *w, const char *data,
                                          size_t len, size_t *consumed);
/* The completed request (owned by the caller; give it up with fx_http_respond). */
struct fx_http_request *fx_http_wire_take(struct fx_http_wire *w);
/* The status to answer after FX_HTTP_WIRE_ERROR: 400, 411, 413 or 431. */
int fx_http_wire_error_status(const struct fx_http_wire *w);
/* True while a request has begun but is not complete (its bytes are pending). */
bool fx_http_wire_in_request(const struct fx_http_wire *w);
/* True after a request's headers when its body is still to come. */
bool fx_http_wire_in_body(const struct fx_http_wire *w);
/* True (once) when the request being read asked for "Expect: 100-continue". */
bool fx_http_wire_take_expect_continue(struct fx_http_wire *w);
/* Whether the last complete request allows the connection to stay open. */
bool fx_http_request_keep_alive(const struct fx_http_request *req);

#endif
