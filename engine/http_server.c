/* http_server.c — HTTP/1.1 server: listener, connections, the wire parser.
 *
 * Three layers, bottom up:
 *  - the wire (struct fx_http_wire): http_parser plus the bounds of the config;
 *    it builds one fx_http_request at a time and pauses the parser after each,
 *    so a connection can stop between pipelined requests (back-pressure);
 *  - the connection: a uv_tcp_t, one uv_timer_t for whichever deadline applies
 *    (idle, header, body, linger), and a FIFO of requests whose responses are
 *    still owed, written strictly in request order;
 *  - the server: the listener, the connection list, graceful stop, and the
 *    per-IP table (open connections and a request token bucket per address).
 *
 * With TLS, a connection also has an fx_tls_session between the socket and
 * the wire: ciphertext is read into cbuf and fed to the session, plaintext is
 * decrypted into rbuf and parsed exactly as on a plain connection, and each
 * serialised response is encrypted in place of its plaintext before it is
 * written. Handshake output and alerts are written on their own (tls_send).
 *
 * A request is owned by the handler until fx_http_respond(). When a connection
 * dies first, its unanswered requests are orphaned (req->conn = NULL) rather
 * than freed, so the late respond only frees them. */
#include "engine/http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>
#include <utlist.h>

#include "engine/tls.h"

/* After the last response the write side is shut and the socket drained for
 * at most this long, so the peer reads the response instead of a reset. */
#define LINGER_MS 2000u
#define READ_BUF 16384u

struct fx_http_conn;

struct fx_http_request {
  struct fx_http_conn *conn;    /* NULL once orphaned (or never on a socket) */
  struct fx_http_request *next; /* the connection's FIFO */
  const char *method;           /* http_method_str(): static */
  char *head;                   /* "target\0field\0value\0...": url and headers */
  size_t head_len, head_cap, head_end;
  uint8_t *body;
  size_t body_len, body_cap;
  char peer[64];
  unsigned short http_major, http_minor;
  bool keep_alive, responded;
  uv_buf_t out;                 /* the serialised response */
  uv_write_t wr;
};

enum wire_piece { PIECE_NONE, PIECE_URL, PIECE_FIELD, PIECE_VALUE };

struct fx_http_wire {
  http_parser parser;
  size_t max_header, max_body;
  struct fx_http_request *cur, *ready;
  enum wire_piece last;
  unsigned nfields;
  int err_status;
  bool in_body, expect_continue, no_reuse;
};

enum conn_phase { PH_HANDSHAKE, PH_IDLE, PH_HEADERS, PH_BODY, PH_BUSY, PH_LINGER };

/* One peer address: its open connections and its request token bucket.
 * Entries live while the address has connections or an unrefilled bucket. */
struct ip_entry {
  char ip[64];
  unsigned conns;
  double tokens;
  uint64_t stamp_ms; /* uv_now() of the last refill */
  UT_hash_handle hh;
};

struct fx_http_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_shutdown_t sreq;
  struct fx_http_server *srv;
  struct fx_http_conn *prev, *next;
  struct fx_http_wire *wire;
  struct fx_http_request *qhead, *qtail;
  unsigned qlen, writes, nrequests, timed_nrequests, open_handles;
  enum conn_phase phase;
  char peer[64];
  size_t roff, rlen;
  bool closing, last_request_seen, shut, throttled, parsing;
  struct ip_entry *ip;       /* NULL when no per-IP limit is set */
  struct fx_tls_session *tls; /* NULL on plain HTTP */
  char *cbuf;                /* TLS: ciphertext as read from the socket */
  bool hs_done, tls_dead;    /* handshake complete; session failed (no more TLS calls) */
  char rbuf[READ_BUF];       /* plaintext */
};

/* A write of TLS output that belongs to no response (handshake, alerts). */
struct tls_write {
  uv_write_t wr;
  struct fx_http_conn *c;
  uv_buf_t buf;
  char data[];
};

struct fx_http_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_timer_t grace;
  struct fx_http_server_config cfg;
  char host[64];
  fx_http_handler handler;
  void *ud;
  struct fx_http_conn *conns;
  struct fx_tls_ctx *tls;   /* for new connections; NULL: plain HTTP */
  struct ip_entry *ips;
  unsigned ips_sweep_at;    /* table size at which idle entries are swept */
  unsigned nconns, open_handles;
  int port;
  bool stopping, grace_closing;
  void (*stopped)(void *);
  void *stopped_ud;
};

void fx_http_server_config_default(struct fx_http_server_config *cfg) {
  *cfg = (struct fx_http_server_config){
      .host = "127.0.0.1", .port = 0, .max_connections = 1024,
      .max_header_bytes = 16 * 1024, .max_body_bytes = 1024 * 1024,
      .max_pipelined = 16, .header_timeout_ms = 10000, .body_timeout_ms = 10000,
      .idle_timeout_ms = 60000, .stop_grace_ms = 5000, .handshake_timeout_ms = 10000};
}

struct status_text { int status; const char *text; };
static const struct status_text status_texts[] = {
    {100, "Continue"}, {200, "OK"}, {201, "Created"}, {202, "Accepted"},
    {204, "No Content"}, {301, "Moved Permanently"}, {302, "Found"},
    {303, "See Other"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
    {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
    {404, "Not Found"}, {405, "Method Not Allowed"}, {408, "Request Timeout"},
    {411, "Length Required"}, {413, "Payload Too Large"},
    {415, "Unsupported Media Type"}, {419, "Authentication Timeout"},
    {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"}, {502, "Bad Gateway"},
    {503, "Service Unavailable"}, {504, "Gateway Timeout"},
};

const char *fx_http_status_text(int status) {
  for (size_t i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++)
    if (status_texts[i].status == status) return status_texts[i].text;
  return "Unknown";
}

/* ------------------------------------------------------------------ request */

static void request_free(struct fx_http_request *req) {
  free(req->head);
  free(req->body);
  free(req->out.base);
  free(req);
}

const char *fx_http_request_method(const struct fx_http_request *req) { return req->method; }
const char *fx_http_request_path(const struct fx_http_request *req) { return req->head; }
const char *fx_http_request_peer(const struct fx_http_request *req) { return req->peer; }
bool fx_http_request_gone(const struct fx_http_request *req) { return req->conn == NULL; }
bool fx_http_request_keep_alive(const struct fx_http_request *req) { return req->keep_alive; }

const char *fx_http_request_header(const struct fx_http_request *req, const char *name) {
  const char *p = req->head + strlen(req->head) + 1, *end = req->head + req->head_end;
  while (p < end) {
    const char *value = p + strlen(p) + 1;
    if (value >= end) break;
    if (!strcasecmp(p, name)) return value;
    p = value + strlen(value) + 1;
  }
  return NULL;
}

const char *fx_http_request_content_type(const struct fx_http_request *req) {
  return fx_http_request_header(req, "Content-Type");
}

const uint8_t *fx_http_request_body(const struct fx_http_request *req, size_t *len) {
  *len = req->body_len;
  return req->body ? req->body : (const uint8_t *)"";
}

/* --------------------------------------------------------------------- wire */

static int head_append(struct fx_http_wire *w, const char *data, size_t len) {
  struct fx_http_request *r = w->cur;
  /* Every header line costs at least ": " and CRLF on the wire. */
  if (r->head_len + len + 4u * w->nfields > w->max_header) {
    w->err_status = 431;
    return -1;
  }
  if (r->head_len + len + 2 > r->head_cap) {
    size_t cap = r->head_cap ? r->head_cap : 256;
    while (cap < r->head_len + len + 2) cap *= 2;
    char *p = realloc(r->head, cap);
    if (!p) {
      w->err_status = 503;
      return -1;
    }
    r->head = p;
    r->head_cap = cap;
  }
  memcpy(r->head + r->head_len, data, len);
  r->head_len += len;
  return 0;
}

/* Separates url/field/value pieces with NULs; http_parser may split any of
 * them across reads, so a NUL goes in only when the kind of piece changes. */
static int head_piece(http_parser *p, enum wire_piece kind, const char *at, size_t len) {
  struct fx_http_wire *w = p->data;
  if (w->last != kind && w->last != PIECE_NONE && head_append(w, "", 1)) return -1;
  if (kind == PIECE_FIELD && w->last != PIECE_FIELD) w->nfields++;
  w->last = kind;
  return head_append(w, at, len);
}

static int on_message_begin(http_parser *p) {
  struct fx_http_wire *w = p->data;
  if (w->cur) request_free(w->cur);
  w->cur = calloc(1, sizeof *w->cur);
  if (!w->cur) {
    w->err_status = 503;
    return -1;
  }
  w->last = PIECE_NONE;
  w->nfields = 0;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
  return head_piece(p, PIECE_URL, at, len);
}
static int on_header_field(http_parser *p, const char *at, size_t len) {
  return head_piece(p, PIECE_FIELD, at, len);
}
static int on_header_value(http_parser *p, const char *at, size_t len) {
  return head_piece(p, PIECE_VALUE, at, len);
}

/* The transport rules that need only the headers: a body must be announced
 * with Content-Length (UFTP requires it; chunked bodies get 411 too), and an
 * announced body over the limit is refused before a byte of it is read. */
static int check_framing(struct fx_http_wire *w, const http_parser *p) {
  if (p->method == HTTP_CONNECT) return 400;
  if (p->uses_transfer_encoding || (p->flags & F_CHUNKED)) return 411;
  bool has_len = p->flags & F_CONTENTLENGTH;
  if (!has_len && (p->method == HTTP_POST || p->method == HTTP_PUT)) return 411;
  if (has_len && p->content_length > w->max_body) return 413;
  return 0;
}

static int on_headers_complete(http_parser *p) {
  struct fx_http_wire *w = p->data;
  struct fx_http_request *r = w->cur;
  if (head_append(w, "", 1)) return -1;
  r->head_end = r->head_len;
  char *q = strchr(r->head, '?');
  if (q) *q = 0;
  if ((w->err_status = check_framing(w, p))) return -1;
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0) {
    r->body = malloc(p->content_length);
    if (!r->body) {
      w->err_status = 503;
      return -1;
    }
    r->body_cap = p->content_length;
    const char *expect = fx_http_request_header(r, "Expect");
    w->expect_continue = expect && !strcasecmp(expect, "100-continue");
  }
  w->no_reuse = p->upgrade;
  w->in_body = true;
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  struct fx_http_request *r = ((struct fx_http_wire *)p->data)->cur;
  if (len > r->body_cap - r->body_len) return -1; /* cannot happen with Content-Length */
  memcpy(r->body + r->body_len, at, len);
  r->body_len += len;
  return 0;
}

static int on_message_complete(http_parser *p) {
  struct fx_http_wire *w = p->data;
  struct fx_http_request *r = w->cur;
  r->method = http_method_str(p->method);
  r->http_major = p->http_major;
  r->http_minor = p->http_minor;
  r->keep_alive = http_should_keep_alive(p) && !w->no_reuse;
  w->ready = r;
  w->cur = NULL;
  w->in_body = false;
  w->expect_continue = false;
  http_parser_pause(p, 1); /* one request per feed: lets the caller apply back-pressure */
  return 0;
}

static const http_parser_settings wire_settings = {
    .on_message_begin = on_message_begin, .on_url = on_url,
    .on_header_field = on_header_field, .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete, .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int fx_http_wire_new(struct fx_http_wire **out, const struct fx_http_server_config *cfg) {
  struct fx_http_wire *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  http_parser_init(&w->parser, HTTP_REQUEST);
  w->parser.data = w;
  w->max_header = cfg->max_header_bytes;
  w->max_body = cfg->max_body_bytes;
  *out = w;
  return 0;
}

void fx_http_wire_free(struct fx_http_wire *w) {
  if (!w) return;
  if (w->cur) request_free(w->cur);
  if (w->ready) request_free(w->ready);
  free(w);
}

enum fx_http_wire_event fx_http_wire_feed(struct fx_http_wire *w, const char *data,
                                          size_t len, size_t *consumed) {
  *consumed = 0;
  if (w->err_status) return FX_HTTP_WIRE_ERROR;
  if (len == 0) return FX_HTTP_WIRE_MORE; /* a zero length would mean EOF to http_parser */
  *consumed = http_parser_execute(&w->parser, &wire_settings, data, len);
  enum http_errno e = HTTP_PARSER_ERRNO(&w->parser);
  if (e == HPE_PAUSED) http_parser_pause(&w->parser, 0);
  else if (e != HPE_OK && !w->err_status)
    w->err_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
  if (w->err_status) return FX_HTTP_WIRE_ERROR;
  return w->ready ? FX_HTTP_WIRE_REQUEST : FX_HTTP_WIRE_MORE;
}

struct fx_http_request *fx_http_wire_take(struct fx_http_wire *w) {
  struct fx_http_request *r = w->ready;
  w->ready = NULL;
  return r;
}

int fx_http_wire_error_status(const struct fx_http_wire *w) { return w->err_status; }
bool fx_http_wire_in_request(const struct fx_http_wire *w) { return w->cur != NULL; }
bool fx_http_wire_in_body(const struct fx_http_wire *w) { return w->in_body; }

bool fx_http_wire_take_expect_continue(struct fx_http_wire *w) {
  bool e = w->expect_continue;
  w->expect_continue = false;
  return e;
}

/* ------------------------------------------------------------------ per IP */

static void ip_refill(const struct fx_http_server *srv, struct ip_entry *e) {
  uint64_t now = uv_now(srv->loop);
  double cap = srv->cfg.ip_rate;
  e->tokens += (double)(now - e->stamp_ms) * cap / 1000.0;
  if (e->tokens > cap) e->tokens = cap;
  e->stamp_ms = now;
}

/* An entry without connections whose bucket is full again says nothing
 * a fresh entry would not: it can go. */
static bool ip_forgettable(const struct fx_http_server *srv, struct ip_entry *e) {
  if (e->conns) return false;
  if (!srv->cfg.ip_rate) return true;
  ip_refill(srv, e);
  return e->tokens >= srv->cfg.ip_rate;
}

static void ip_forget(struct fx_http_server *srv, struct ip_entry *e) {
  HASH_DEL(srv->ips, e);
  free(e);
}

/* Keeps the table proportional to the addresses that matter right now: swept
 * whenever it has doubled since the last sweep. */
static void ip_sweep(struct fx_http_server *srv) {
  struct ip_entry *e, *tmp;
  HASH_ITER(hh, srv->ips, e, tmp) if (ip_forgettable(srv, e)) ip_forget(srv, e);
  unsigned n = HASH_COUNT(srv->ips);
  srv->ips_sweep_at = n < 128 ? 256 : 2 * n;
}

/* The entry for `ip`, created with a full bucket; NULL when out of memory. */
static struct ip_entry *ip_get(struct fx_http_server *srv, const char *ip) {
  struct ip_entry *e;
  HASH_FIND_STR(srv->ips, ip, e);
  if (e) return e;
  if (HASH_COUNT(srv->ips) >= srv->ips_sweep_at) ip_sweep(srv);
  if (!(e = calloc(1, sizeof *e))) return NULL;
  snprintf(e->ip, sizeof e->ip, "%s", ip);
  e->tokens = srv->cfg.ip_rate;
  e->stamp_ms = uv_now(srv->loop);
  HASH_ADD_STR(srv->ips, ip, e);
  return e;
}

static void ip_release(struct fx_http_server *srv, struct ip_entry *e) {
  e->conns--;
  if (ip_forgettable(srv, e)) ip_forget(srv, e);
}

/* Takes a token for one request. When there is none, *retry_s says when the
 * next one will be there (whole seconds, at least 1: Retry-After's unit). */
static bool ip_admit(struct fx_http_server *srv, struct ip_entry *e, unsigned *retry_s) {
  if (!srv->cfg.ip_rate) return true;
  ip_refill(srv, e);
  if (e->tokens >= 1.0) {
    e->tokens -= 1.0;
    return true;
  }
  double wait = (1.0 - e->tokens) / srv->cfg.ip_rate;
  *retry_s = wait <= 1.0 ? 1u : (unsigned)(wait + 0.999);
  return false;
}

/* --------------------------------------------------------------- connection */

static void conn_close(struct fx_http_conn *c);
static void conn_parse(struct fx_http_conn *c);
static void server_maybe_finish(struct fx_http_server *srv);
static void conn_start_reading(struct fx_http_conn *c);
static void conn_pump(struct fx_http_conn *c);

/* Reading was paused with parsed-but-unread bytes left: go on with them. */
static void conn_resume(struct fx_http_conn *c) {
  if (c->tls) conn_pump(c);
  else conn_parse(c);
}

static void conn_on_timer(uv_timer_t *t) { conn_close(t->data); }

static void conn_on_close(uv_handle_t *h) {
  struct fx_http_conn *c = h->data;
  if (--c->open_handles) return;
  struct fx_http_server *srv = c->srv;
  DL_DELETE(srv->conns, c);
  srv->nconns--;
  if (c->ip) ip_release(srv, c->ip);
  fx_http_wire_free(c->wire);
  fx_tls_session_free(c->tls);
  free(c->cbuf);
  free(c);
  server_maybe_finish(srv);
}

/* The connection's one deadline follows its phase; it is re-armed only when
 * the phase changes (or a new request starts), so trickling bytes never
 * extends a header or body deadline. */
static void conn_arm_timer(struct fx_http_conn *c) {
  if (c->closing || c->phase == PH_LINGER) return;
  const struct fx_http_server_config *cfg = &c->srv->cfg;
  enum conn_phase ph = c->tls && !c->hs_done               ? PH_HANDSHAKE
                       : fx_http_wire_in_body(c->wire)     ? PH_BODY
                       : fx_http_wire_in_request(c->wire) ? PH_HEADERS
                       : c->qlen                          ? PH_BUSY
                                                          : PH_IDLE;
  bool new_request = ph == PH_HEADERS && c->timed_nrequests != c->nrequests;
  if (ph == c->phase && !new_request) return;
  c->phase = ph;
  c->timed_nrequests = c->nrequests;
  unsigned ms = ph == PH_HANDSHAKE ? cfg->handshake_timeout_ms
                : ph == PH_BODY ? cfg->body_timeout_ms
                : ph == PH_HEADERS ? cfg->header_timeout_ms
                                   : cfg->idle_timeout_ms;
  if (ph == PH_BUSY) uv_timer_stop(&c->timer);
  else uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

static void tls_on_write(uv_write_t *wr, int status) {
  struct tls_write *w = wr->data;
  struct fx_http_conn *c = w->c; /* still allocated, as in conn_on_write */
  free(w);
  if (status < 0 && !c->closing) conn_close(c);
}

/* Sends whatever TLS output is pending that no response carries. Returns 0,
 * or -1 when the connection had to be closed. */
static int tls_send(struct fx_http_conn *c) {
  size_t n = fx_tls_session_pending_out(c->tls);
  if (!n || c->closing) return c->closing ? -1 : 0;
  struct tls_write *w = malloc(sizeof *w + n);
  if (!w) {
    conn_close(c);
    return -1;
  }
  w->c = c;
  w->buf = uv_buf_init(w->data, (unsigned)fx_tls_session_take_out(c->tls, w->data, n));
  w->wr.data = w;
  if (uv_write(&w->wr, (uv_stream_t *)&c->tcp, &w->buf, 1, tls_on_write)) {
    free(w);
    conn_close(c);
    return -1;
  }
  return 0;
}

static void conn_on_shutdown(uv_shutdown_t *sr, int status) {
  struct fx_http_conn *c = sr->data;
  if (status < 0) conn_close(c);
}

/* No more requests will be read: shut the write side after the queued
 * responses and drain the socket briefly so the peer sees them. */
static void conn_shutdown(struct fx_http_conn *c) {
  if (c->shut || c->closing) return;
  c->shut = true;
  c->phase = PH_LINGER;
  if (c->tls && c->hs_done && !c->tls_dead) {
    fx_tls_session_close_notify(c->tls);
    if (tls_send(c)) return;
  }
  c->sreq.data = c;
  if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, conn_on_shutdown)) {
    conn_close(c);
    return;
  }
  unsigned ms = c->srv->cfg.idle_timeout_ms < LINGER_MS ? c->srv->cfg.idle_timeout_ms : LINGER_MS;
  uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

static void conn_on_write(uv_write_t *wr, int status) {
  struct fx_http_request *req = wr->data;
  struct fx_http_conn *c = req->conn; /* still allocated: close callbacks run after write callbacks */
  request_free(req);
  c->writes--;
  if (c->closing) return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->throttled && !c->parsing) conn_resume(c);
  conn_arm_timer(c);
}

/* Replaces a response's plaintext with its ciphertext; 0 or -1. */
static int conn_seal(struct fx_http_conn *c, struct fx_http_request *req) {
  if (c->tls_dead || fx_tls_session_write(c->tls, req->out.base, req->out.len)) return -1;
  size_t n = fx_tls_session_pending_out(c->tls);
  char *cipher = n ? malloc(n) : NULL;
  if (!cipher) return -1;
  n = fx_tls_session_take_out(c->tls, cipher, n);
  free(req->out.base);
  req->out = uv_buf_init(cipher, (unsigned)n);
  return 0;
}

/* Sends one answer. Plain HTTP tries the socket directly first: when the
 * kernel takes it all (the usual case for a small answer) no write request is
 * queued, and libuv does not touch the epoll registration, which uv_write
 * does once per write even when it completes at once. What is left goes
 * through uv_write. Frees req when done with it; 0, or -1 (req freed). */
static int conn_write(struct fx_http_conn *c, struct fx_http_request *req) {
  uv_buf_t rest = req->out;
  if (c->tls) {
    if (conn_seal(c, req)) {
      request_free(req);
      return -1;
    }
    rest = req->out;
  } else if (!c->writes) {
    int n = uv_try_write((uv_stream_t *)&c->tcp, &rest, 1);
    if (n >= 0 && (size_t)n == rest.len) {
      request_free(req);
      return 0;
    }
    if (n > 0) {
      rest.base += n;
      rest.len -= (size_t)n;
    }
  }
  req->wr.data = req;
  if (uv_write(&req->wr, (uv_stream_t *)&c->tcp, &rest, 1, conn_on_write)) {
    request_free(req);
    return -1;
  }
  c->writes++;
  return 0;
}

/* Writes every answered request at the head of the FIFO, in order. */
static void conn_flush(struct fx_http_conn *c) {
  while (c->qhead && c->qhead->responded) {
    struct fx_http_request *req = c->qhead;
    c->qhead = req->next;
    if (!c->qhead) c->qtail = NULL;
    c->qlen--;
    if (conn_write(c, req)) {
      conn_close(c);
      return;
    }
  }
  if (!c->qhead && c->last_request_seen) conn_shutdown(c);
  if (c->throttled && !c->parsing) conn_resume(c);
  conn_arm_timer(c);
}

static void conn_enqueue(struct fx_http_conn *c, struct fx_http_request *req) {
  req->conn = c;
  memcpy(req->peer, c->peer, sizeof req->peer);
  if (c->qtail) c->qtail->next = req;
  else c->qhead = req;
  c->qtail = req;
  c->qlen++;
  c->nrequests++;
}

/* A request that cannot be handed to the handler: answer it in turn, then close. */
static void conn_fail(struct fx_http_conn *c, int status) {
  struct fx_http_request *req = calloc(1, sizeof *req);
  if (!req) {
    conn_close(c);
    return;
  }
  req->method = "";
  req->http_major = req->http_minor = 1;
  conn_enqueue(c, req);
  c->last_request_seen = true;
  const char *text = fx_http_status_text(status);
  if (c->srv->cfg.on_refused)
    c->srv->cfg.on_refused(status, c->srv->cfg.refused_ud);
  fx_http_respond(req, status, "text/plain", text, strlen(text), NULL);
}

static void conn_write_continue(struct fx_http_conn *c) {
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
  /* Best effort: a client that misses it sends the body after its own delay. */
  (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
}

/* Over the per-IP rate: answered here, the handler (and its workers) never
 * see the request. */
static void conn_refuse_rate(struct fx_http_conn *c, struct fx_http_request *req, unsigned retry_s) {
  if (c->srv->cfg.on_refused)
    c->srv->cfg.on_refused(429, c->srv->cfg.refused_ud);
  char hdr[40];
  snprintf(hdr, sizeof hdr, "Retry-After: %u\r\n", retry_s);
  fx_http_respond(req, 429, "text/plain", "Too Many Requests\n", 18, hdr);
}

static bool conn_full(const struct fx_http_conn *c) {
  return c->qlen + c->writes >= c->srv->cfg.max_pipelined;
}

/* Feeds the buffered bytes to the wire, one request at a time, until they are
 * used up, the connection must stop reading requests, or the peer has too
 * many unanswered requests (then reading pauses until responses drain). */
static void conn_parse(struct fx_http_conn *c) {
  c->parsing = true;
  while (c->roff < c->rlen && !c->last_request_seen && !c->closing) {
    if (conn_full(c)) break;
    size_t n;
    enum fx_http_wire_event ev = fx_http_wire_feed(c->wire, c->rbuf + c->roff,
                                                   c->rlen - c->roff, &n);
    c->roff += n;
    bool cont = fx_http_wire_take_expect_continue(c->wire);
    if (ev == FX_HTTP_WIRE_ERROR) {
      conn_fail(c, fx_http_wire_error_status(c->wire));
      break;
    }
    if (cont && ev == FX_HTTP_WIRE_MORE && !c->qlen && !c->writes) conn_write_continue(c);
    if (ev == FX_HTTP_WIRE_REQUEST) {
      struct fx_http_request *req = fx_http_wire_take(c->wire);
      conn_enqueue(c, req);
      if (!req->keep_alive || c->srv->stopping) c->last_request_seen = true;
      unsigned retry_s;
      if (c->ip && !ip_admit(c->srv, c->ip, &retry_s)) conn_refuse_rate(c, req, retry_s);
      else c->srv->handler(req, c->srv->ud);
    }
  }
  c->parsing = false;
  if (c->closing) return;
  bool pending = c->roff < c->rlen && !c->last_request_seen;
  if (pending && !c->throttled) {
    c->throttled = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
  } else if (!pending && c->throttled) {
    c->throttled = false;
    conn_start_reading(c);
  }
  if (!pending) c->roff = c->rlen = 0;
  conn_arm_timer(c);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct fx_http_conn *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->tls ? c->cbuf : c->rbuf, READ_BUF);
}

/* TLS: decrypts what the session holds into rbuf and parses it, until the
 * session wants more ciphertext, parsing must pause (back-pressure), or the
 * connection reads no more requests. Handshake output is sent on the way. */
static void conn_pump(struct fx_http_conn *c) {
  while (!c->closing && !c->last_request_seen && !c->tls_dead) {
    if (c->roff < c->rlen) {
      conn_parse(c);
      if (c->throttled) return;
      continue;
    }
    ssize_t n = fx_tls_session_read(c->tls, c->rbuf, sizeof c->rbuf);
    if (tls_send(c)) return;
    if (!c->hs_done && fx_tls_session_established(c->tls)) {
      c->hs_done = true;
      conn_arm_timer(c); /* handshake deadline → idle */
    }
    if (n > 0) {
      c->roff = 0;
      c->rlen = (size_t)n;
    } else if (n == FX_TLS_WANT) {
      return;
    } else if (n == FX_TLS_EOF) {
      conn_close(c); /* as a plain EOF */
      return;
    } else {
      /* Failed handshake (plain HTTP, old protocol, no client certificate)
       * or a bad record: let the alert leave, then close. */
      c->tls_dead = true;
      c->last_request_seen = true;
      if (!c->qhead) conn_shutdown(c);
      return;
    }
  }
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct fx_http_conn *c = s->data;
  (void)buf;
  if (nread < 0) {
    conn_close(c); /* EOF or error; a half-read request is simply dropped */
    return;
  }
  if (nread == 0 || c->last_request_seen) return; /* drained and discarded */
  if (c->tls) {
    if (fx_tls_session_feed(c->tls, c->cbuf, (size_t)nread)) conn_close(c);
    else conn_pump(c);
    return;
  }
  c->roff = 0;
  c->rlen = (size_t)nread;
  conn_parse(c);
}

static void conn_start_reading(struct fx_http_conn *c) {
  if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read)) conn_close(c);
}

static void conn_close(struct fx_http_conn *c) {
  if (c->closing) return;
  c->closing = true;
  struct fx_http_request *req = c->qhead, *next;
  for (; req; req = next) {
    next = req->next;
    req->next = NULL;
    if (req->responded) request_free(req);
    else req->conn = NULL; /* orphaned: the handler's respond frees it */
  }
  c->qhead = c->qtail = NULL;
  c->qlen = 0;
  uv_close((uv_handle_t *)&c->timer, conn_on_close);
  uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

static void conn_set_peer(struct fx_http_conn *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  c->peer[0] = 0;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len)) return;
  if (ss.ss_family == AF_INET) uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof c->peer);
  else if (ss.ss_family == AF_INET6)
    uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof c->peer);
}

/* Counts the connection against its address; -1 when the address is over
 * ip_max_connections (or out of memory). */
static int conn_admit_ip(struct fx_http_conn *c) {
  struct fx_http_server *srv = c->srv;
  if (!srv->cfg.ip_rate && !srv->cfg.ip_max_connections) return 0;
  struct ip_entry *e = ip_get(srv, c->peer);
  if (!e) return -1;
  if (srv->cfg.ip_max_connections && e->conns >= srv->cfg.ip_max_connections) {
    if (ip_forgettable(srv, e)) ip_forget(srv, e);
    return -1;
  }
  e->conns++;
  c->ip = e;
  return 0;
}

/* Over the connection limit the connection is accepted and closed at once:
 * the peer learns immediately instead of waiting in the kernel's backlog. */
static void server_on_connection(uv_stream_t *l, int status) {
  struct fx_http_server *srv = l->data;
  if (status < 0 || srv->stopping) return;
  struct fx_http_conn *c = calloc(1, sizeof *c);
  if (!c) return;
  c->srv = srv;
  c->phase = PH_BUSY; /* forces the first arming */
  uv_tcp_init(srv->loop, &c->tcp);
  uv_timer_init(srv->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->open_handles = 2;
  DL_APPEND(srv->conns, c);
  srv->nconns++;
  if (uv_accept(l, (uv_stream_t *)&c->tcp) || srv->nconns > srv->cfg.max_connections ||
      fx_http_wire_new(&c->wire, &srv->cfg)) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  conn_set_peer(c);
  if (conn_admit_ip(c) ||
      (srv->tls && (!(c->tls = fx_tls_session_new(srv->tls)) || !(c->cbuf = malloc(READ_BUF))))) {
    conn_close(c);
    return;
  }
  conn_start_reading(c);
  conn_arm_timer(c);
}

/* ----------------------------------------------------------------- respond */

static int build_response(struct fx_http_request *req, int status, const char *ctype,
                          const void *body, size_t len, const char *extra, bool last) {
  bool head = req->method && !strcmp(req->method, "HEAD");
  bool http10 = req->http_major == 1 && req->http_minor == 0;
  const char *conn_hdr = last ? "Connection: close\r\n"
                         : http10 ? "Connection: keep-alive\r\n" : "";
  /* The head is formatted once, on the stack; a head that does not fit
   * (long extra headers) is formatted again into the heap. */
  char ct[256] = "", hb[512];
  if (ctype) snprintf(ct, sizeof ct, "Content-Type: %s\r\n", ctype);
  int n = snprintf(hb, sizeof hb, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s%s\r\n", status,
                   fx_http_status_text(status), len, ct, extra ? extra : "", conn_hdr);
  if (n < 0) return -EINVAL;
  size_t blen = head ? 0 : len;
  char *out = malloc((size_t)n + 1 + blen);
  if (!out) return -ENOMEM;
  if ((size_t)n < sizeof hb)
    memcpy(out, hb, (size_t)n);
  else
    snprintf(out, (size_t)n + 1, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s%s\r\n", status,
             fx_http_status_text(status), len, ct, extra ? extra : "", conn_hdr);
  if (blen) memcpy(out + n, body, blen);
  req->out = uv_buf_init(out, (unsigned)((size_t)n + blen));
  return 0;
}

int fx_http_respond(struct fx_http_request *req, int status, const char *content_type,
                    const void *body, size_t len, const char *extra_headers) {
  struct fx_http_conn *c = req->conn;
  if (!c) {
    request_free(req); /* the connection is gone (or there never was one) */
    return 0;
  }
  bool last = !req->keep_alive || (c->last_request_seen && req == c->qtail);
  int rc = build_response(req, status, content_type, body, len, extra_headers, last);
  if (rc) {
    conn_close(c); /* orphans req ... */
    request_free(req); /* ... which nobody else will answer */
    return rc;
  }
  req->responded = true;
  conn_flush(c);
  return 0;
}

/* ------------------------------------------------------------------ server */

static void server_on_handle_close(uv_handle_t *h) {
  struct fx_http_server *srv = h->data;
  if (--srv->open_handles) return;
  struct ip_entry *e, *tmp;
  HASH_ITER(hh, srv->ips, e, tmp) ip_forget(srv, e);
  fx_tls_ctx_free(srv->tls);
  void (*stopped)(void *) = srv->stopped;
  void *ud = srv->stopped_ud;
  free(srv);
  if (stopped) stopped(ud);
}

static void server_maybe_finish(struct fx_http_server *srv) {
  if (!srv->stopping || srv->conns || srv->grace_closing) return;
  srv->grace_closing = true;
  uv_close((uv_handle_t *)&srv->grace, server_on_handle_close);
}

static int server_bind(struct fx_http_server *srv) {
  struct sockaddr_storage ss;
  int rc = uv_ip4_addr(srv->host, srv->cfg.port, (struct sockaddr_in *)&ss);
  if (rc) rc = uv_ip6_addr(srv->host, srv->cfg.port, (struct sockaddr_in6 *)&ss);
  if (rc) return rc;
  if ((rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0))) return rc;
  if ((rc = uv_listen((uv_stream_t *)&srv->listener, 511, server_on_connection))) return rc;
  int len = sizeof ss;
  if ((rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len))) return rc;
  srv->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
  return 0;
}

int fx_http_server_start(struct fx_http_server **out, uv_loop_t *loop,
                         const struct fx_http_server_config *cfg,
                         fx_http_handler handler, void *ud) {
  *out = NULL;
  if (!cfg->host || strlen(cfg->host) >= sizeof((struct fx_http_server *)0)->host ||
      !cfg->max_pipelined || !handler)
    return UV_EINVAL;
  struct fx_http_server *srv = calloc(1, sizeof *srv);
  if (!srv) return UV_ENOMEM;
  srv->loop = loop;
  srv->cfg = *cfg;
  strcpy(srv->host, cfg->host);
  srv->cfg.host = srv->host;
  srv->handler = handler;
  srv->ud = ud;
  srv->tls = cfg->tls ? fx_tls_ctx_ref(cfg->tls) : NULL;
  srv->cfg.tls = NULL; /* srv->tls is the one in use */
  srv->ips_sweep_at = 256;
  uv_tcp_init(loop, &srv->listener);
  uv_timer_init(loop, &srv->grace);
  srv->listener.data = srv->grace.data = srv;
  srv->open_handles = 2;
  int rc = server_bind(srv);
  if (rc) {
    /* The handles are released by the loop; nothing is left for the caller. */
    srv->stopping = true;
    uv_close((uv_handle_t *)&srv->listener, server_on_handle_close);
    server_maybe_finish(srv);
    return rc;
  }
  *out = srv;
  return 0;
}

int fx_http_server_port(const struct fx_http_server *srv) { return srv->port; }
unsigned fx_http_server_connections(const struct fx_http_server *srv) { return srv->nconns; }

int fx_http_server_set_tls(struct fx_http_server *srv, struct fx_tls_ctx *ctx) {
  if (!srv->tls || !ctx) return -1;
  struct fx_tls_ctx *old = srv->tls;
  srv->tls = fx_tls_ctx_ref(ctx);
  fx_tls_ctx_free(old); /* sessions accepted with it keep their own reference */
  return 0;
}

static void server_on_grace(uv_timer_t *t) {
  struct fx_http_server *srv = t->data;
  struct fx_http_conn *c, *tmp;
  DL_FOREACH_SAFE(srv->conns, c, tmp) conn_close(c);
}

void fx_http_server_stop(struct fx_http_server *srv, void (*stopped)(void *ud), void *ud) {
  if (srv->stopping) return;
  srv->stopping = true;
  srv->stopped = stopped;
  srv->stopped_ud = ud;
  uv_close((uv_handle_t *)&srv->listener, server_on_handle_close);
  struct fx_http_conn *c, *tmp;
  DL_FOREACH_SAFE(srv->conns, c, tmp) {
    c->last_request_seen = true;
    if (c->qhead) continue; /* answers owed: closed once they are written */
    if (c->writes) conn_shutdown(c); /* let the last answers leave */
    else conn_close(c);              /* idle, or half a request */
  }
  if (srv->conns) uv_timer_start(&srv->grace, server_on_grace, srv->cfg.stop_grace_ms, 0);
  server_maybe_finish(srv);
}
