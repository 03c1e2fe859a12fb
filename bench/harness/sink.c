/* sink.c — the participants' response endpoint (see sink.h).
 *
 * One struct sconn per accepted connection, kept in a utlist list so that closing
 * the sink can close them all. A request body accumulates in the connection's
 * buffer (bounded by max_body); when http_parser reports the end of a message the
 * parser is paused, the message handed over and answered, and parsing resumes on
 * whatever the client pipelined behind it. Replies are constant strings. */
#include "bench/harness/sink.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "bench/harness/load.h"

static const char reply_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char reply_400[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char reply_405[] =
    "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char reply_413[] =
    "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

struct sconn {
  struct fx_sink *s;
  uv_tcp_t tcp;
  http_parser parser;
  char *body;
  size_t len, cap;
  int verdict;   /* 200 until the request proves otherwise */
  bool complete; /* the parser finished a request during this read */
  bool closing;
  struct sconn *prev, *next;
  char rbuf[16384];
};

struct fx_sink {
  uv_loop_t *loop;
  struct fx_sink_cfg cfg;
  uv_tcp_t listener;
  uv_timer_t wait_timer;
  struct sconn *conns;
  unsigned n_conns;
  unsigned open_handles;
  bool closing, wait_expired;
  int port;
  uint64_t received, refused;
  http_parser_settings settings;
};

struct swrite {
  uv_write_t w;
  struct sconn *c;
  bool close_after;
};

static void sink_release(struct fx_sink *s) {
  if (s->closing && s->open_handles == 0) free(s);
}

static void on_sink_handle_closed(uv_handle_t *h) {
  struct fx_sink *s = h->data;
  s->open_handles--;
  sink_release(s);
}

static void on_sconn_closed(uv_handle_t *h) {
  struct sconn *c = h->data;
  struct fx_sink *s = c->s;
  DL_DELETE(s->conns, c);
  s->n_conns--;
  free(c->body);
  free(c);
  s->open_handles--;
  sink_release(s);
}

static void sconn_close(struct sconn *c) {
  if (c->closing) return;
  c->closing = true;
  uv_close((uv_handle_t *)&c->tcp, on_sconn_closed);
}

static void on_written(uv_write_t *w, int status) {
  struct swrite *sw = (struct swrite *)w;
  if (status < 0 || sw->close_after) sconn_close(sw->c);
  free(sw);
}

static void reply(struct sconn *c, const char *text, size_t len, bool close_after) {
  struct swrite *sw = malloc(sizeof *sw);
  if (sw == NULL) {
    sconn_close(c);
    return;
  }
  sw->c = c;
  sw->close_after = close_after;
  if (close_after) uv_read_stop((uv_stream_t *)&c->tcp); /* nothing more is read from it */
  uv_buf_t buf = uv_buf_init((char *)text, (unsigned)len);
  if (uv_write(&sw->w, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0) {
    free(sw);
    sconn_close(c);
  }
}

/* ---- http_parser callbacks ---- */

static int on_message_begin(http_parser *p) {
  struct sconn *c = p->data;
  c->len = 0;
  c->verdict = 200;
  return 0;
}

static int on_headers_complete(http_parser *p) {
  struct sconn *c = p->data;
  if (p->method != HTTP_POST)
    c->verdict = 405;
  else if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->s->cfg.max_body)
    c->verdict = 413;
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  struct sconn *c = p->data;
  if (c->verdict != 200) return 0;
  if (c->len + n > c->s->cfg.max_body) {
    c->verdict = 413;
    return 0;
  }
  if (c->len + n > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + n) cap *= 2;
    char *b = realloc(c->body, cap);
    if (b == NULL) return -1;
    c->body = b;
    c->cap = cap;
  }
  memcpy(c->body + c->len, at, n);
  c->len += n;
  return 0;
}

static int on_message_complete(http_parser *p) {
  struct sconn *c = p->data;
  c->complete = true;
  http_parser_pause(p, 1);
  return 0;
}

/* A whole request is in: hand it over and answer. false when the connection ends. */
static bool answer(struct sconn *c, uint64_t arrival) {
  struct fx_sink *s = c->s;
  if (c->verdict != 200) {
    s->refused++;
    if (c->verdict == 405)
      reply(c, reply_405, sizeof reply_405 - 1, true);
    else
      reply(c, reply_413, sizeof reply_413 - 1, true);
    return false;
  }
  s->received++;
  if (s->cfg.on_message) s->cfg.on_message(s->cfg.user, c->body ? c->body : "", c->len, arrival);
  bool keep = http_should_keep_alive(&c->parser) != 0;
  reply(c, reply_200, sizeof reply_200 - 1, !keep);
  return keep;
}

static void on_sink_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct sconn *c = h->data;
  *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_sink_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct sconn *c = st->data;
  if (c->closing || nread == 0) return;
  if (nread < 0) {
    sconn_close(c);
    return;
  }
  uint64_t arrival = uv_hrtime();
  const char *p = buf->base;
  size_t left = (size_t)nread;
  while (left > 0) {
    c->complete = false;
    size_t used = http_parser_execute(&c->parser, &c->s->settings, p, left);
    p += used;
    left -= used;
    if (c->complete) {
      http_parser_pause(&c->parser, 0);
      if (!answer(c, arrival)) return;
      continue;
    }
    if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
      c->s->refused++;
      reply(c, reply_400, sizeof reply_400 - 1, true);
      return;
    }
  }
}

static void on_connection(uv_stream_t *server, int status) {
  struct fx_sink *s = server->data;
  if (status < 0 || s->closing) return;
  struct sconn *c = calloc(1, sizeof *c);
  if (c == NULL) return;
  c->s = s;
  uv_tcp_init(s->loop, &c->tcp);
  c->tcp.data = c;
  DL_APPEND(s->conns, c);
  s->n_conns++;
  s->open_handles++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || s->n_conns > s->cfg.max_conns) {
    sconn_close(c);
    return;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start((uv_stream_t *)&c->tcp, on_sink_alloc, on_sink_read) != 0) sconn_close(c);
}

/* ---- life cycle ---- */

static int sink_bind(struct fx_sink *s, char *err, size_t errlen) {
  struct sockaddr_storage addr;
  const char *host = s->cfg.host ? s->cfg.host : "127.0.0.1";
  if (fx_load_loopback_addr(host, s->cfg.port, &addr, err, errlen) != 0) return -1;
  int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
  if (rc != 0) {
    snprintf(err, errlen, "sink cannot listen on %s:%d: %s", host, s->cfg.port, uv_strerror(rc));
    return -1;
  }
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen);
  s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
  return 0;
}

int fx_sink_start(struct fx_sink **out, uv_loop_t *loop, const struct fx_sink_cfg *cfg,
                  char *err, size_t errlen) {
  *out = NULL;
  struct fx_sink *s = calloc(1, sizeof *s);
  if (s == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->loop = loop;
  s->cfg = *cfg;
  if (s->cfg.max_body == 0) s->cfg.max_body = 1 << 20;
  if (s->cfg.max_conns == 0) s->cfg.max_conns = 1024;
  s->settings.on_message_begin = on_message_begin;
  s->settings.on_headers_complete = on_headers_complete;
  s->settings.on_body = on_body;
  s->settings.on_message_complete = on_message_complete;
  uv_tcp_init(loop, &s->listener);
  uv_timer_init(loop, &s->wait_timer);
  s->listener.data = s->wait_timer.data = s;
  s->open_handles = 2;
  if (sink_bind(s, err, errlen) != 0) {
    fx_sink_close(s);
    return -1;
  }
  *out = s;
  return 0;
}

int fx_sink_port(const struct fx_sink *s) { return s->port; }
uint64_t fx_sink_received(const struct fx_sink *s) { return s->received; }
uint64_t fx_sink_refused(const struct fx_sink *s) { return s->refused; }

static void on_wait_expired(uv_timer_t *t) {
  struct fx_sink *s = t->data;
  s->wait_expired = true;
}

int fx_sink_wait(struct fx_sink *s, uint64_t n, uint64_t timeout_ns) {
  s->wait_expired = false;
  uv_timer_start(&s->wait_timer, on_wait_expired, (timeout_ns + 999999) / 1000000, 0);
  while (s->received < n && !s->wait_expired) uv_run(s->loop, UV_RUN_ONCE);
  uv_timer_stop(&s->wait_timer);
  return s->received >= n ? 0 : -1;
}

void fx_sink_close(struct fx_sink *s) {
  if (s == NULL || s->closing) return;
  s->closing = true;
  uv_close((uv_handle_t *)&s->listener, on_sink_handle_closed);
  uv_close((uv_handle_t *)&s->wait_timer, on_sink_handle_closed);
  struct sconn *c, *tmp;
  DL_FOREACH_SAFE(s->conns, c, tmp) sconn_close(c);
}
