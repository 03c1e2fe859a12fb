/* load.c — the HTTP load driver on libuv (see load.h).
 *
 * Each connection is a small state machine:
 *   DOWN → CONNECTING → IDLE ⇄ BUSY → CLOSING → DOWN (→ reconnect)
 * The per-connection timer is the response timeout while BUSY and the reconnect
 * delay while DOWN. pump() hands due requests to IDLE connections; it runs after
 * every event that can free a connection or make a request due. The window opens
 * once every connection has connected or failed once, so connection set-up is not
 * measured. finish() counts what is still in flight as timed out and closes every
 * handle; fx_load_run returns when the last close callback has run. */
#include "bench/harness/load.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bench/harness/sched.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)
#define RECONNECT_MS 100

static const char *const err_names[FX_LOAD_ERR_COUNT] = {"connect", "reset", "timeout", "status",
                                                         "protocol"};

const char *fx_load_err_name(enum fx_load_err e) {
  return (unsigned)e < FX_LOAD_ERR_COUNT ? err_names[e] : "?";
}

int fx_req_build(struct fx_req *r, const char *host, int port, const char *path,
                 const char *content_type, const void *body, size_t len) {
  char head[1024];
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
                   "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                   path, host, port, content_type, len);
  if (n < 0 || (size_t)n >= sizeof head) return -1;
  r->len = (size_t)n + len;
  r->data = malloc(r->len);
  if (r->data == NULL) return -1;
  memcpy(r->data, head, (size_t)n);
  if (len) memcpy(r->data + n, body, len);
  return 0;
}

void fx_req_free(struct fx_req *r) {
  free(r->data);
  r->data = NULL;
  r->len = 0;
}

int fx_load_loopback_addr(const char *host, int port, struct sockaddr_storage *out, char *err,
                          size_t errlen) {
  memset(out, 0, sizeof *out);
  if (port < 0 || port > 65535) {
    snprintf(err, errlen, "bad port %d", port);
    return -1;
  }
  if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (uv_ip4_addr(host, port, v4) == 0) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) == 127) return 0;
  } else if (uv_ip6_addr(host, port, v6) == 0) {
    if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return 0;
  } else {
    snprintf(err, errlen, "'%s' is not an IP address (host names are not resolved)", host);
    return -1;
  }
  snprintf(err, errlen, "'%s' is not a loopback address: the bench talks to loopback only", host);
  return -1;
}

enum cstate { C_DOWN, C_CONNECTING, C_IDLE, C_BUSY, C_CLOSING };

struct driver;

struct conn {
  struct driver *d;
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_write_t wreq[2]; /* alternate: the previous write's callback may still be queued */
  unsigned wsel;
  uv_timer_t timer; /* response timeout while BUSY, reconnect delay while DOWN */
  http_parser parser;
  enum cstate state;
  unsigned retry_ms; /* delay before reconnecting once closed */
  bool tried;        /* has connected or failed once (the window waits for all) */
  bool complete;     /* the parser finished a response during this read */
  bool keep_alive;
  uint64_t index, intended;
  char rbuf[16384];
};

struct driver {
  uv_loop_t *loop;
  struct fx_load_cfg cfg;
  struct sockaddr_storage addr;
  struct fx_sched sched;
  struct fx_load_stats *st;
  struct fx_hist *interval; /* the 200s of the second in progress */
  struct fx_load_point cur;
  size_t series_cap;
  uv_timer_t end_timer, tick_timer, deadline_timer;
  int tfd;           /* timerfd: wakes pump() at the next intended send time */
  uv_poll_t tpoll;
  struct conn *conns;
  unsigned untried; /* connections not yet tried once */
  unsigned open_handles;
  unsigned next_conn; /* round-robin start for pump() */
  bool started, finishing;
  http_parser_settings settings;
};

static void pump(struct driver *d);
static void finish(struct driver *d);
static void conn_open(struct conn *c);

static uint64_t hr_clock(void *ctx) { return uv_hrtime(); }

static uint64_t ms_ceil(uint64_t ns) { return (ns + NS_PER_MS - 1) / NS_PER_MS; }

/* ---- outcomes ---- */

/* Request on `c` is over: answered with `status`, or failed with `err` (status 0). */
static void outcome(struct conn *c, int status, enum fx_load_err err) {
  struct driver *d = c->d;
  struct fx_load_stats *st = d->st;
  uint64_t now = uv_hrtime();
  st->finished++;
  d->cur.completed++;
  st->window_end_ns = now;
  if (status > 0 && status < 600) st->status[status]++;
  if (status == 200) {
    st->ok++;
    d->cur.ok++;
    fx_hist_record(&st->lat, now - c->intended);
    fx_hist_record(d->interval, now - c->intended);
  } else {
    st->errors[status > 0 ? FX_LOAD_ERR_STATUS : err]++;
    d->cur.errors++;
  }
  fx_sched_complete(&d->sched);
  uv_timer_stop(&c->timer);
  c->state = C_IDLE;
  if (d->cfg.on_response) d->cfg.on_response(d->cfg.user, c->index, status, c->intended, now);
}

/* ---- connection life cycle ---- */

static void on_handle_closed(uv_handle_t *h) {
  struct driver *d = h->data;
  d->open_handles--;
}

static void on_conn_timer_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  c->d->open_handles--;
}

static void on_conn_timer(uv_timer_t *t);

static void on_tcp_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  struct driver *d = c->d;
  d->open_handles--;
  c->state = C_DOWN;
  if (!d->finishing) uv_timer_start(&c->timer, on_conn_timer, c->retry_ms, 0);
}

static void conn_close(struct conn *c, unsigned retry_ms) {
  if (c->state == C_CLOSING || c->state == C_DOWN) return;
  uv_timer_stop(&c->timer);
  c->state = C_CLOSING;
  c->retry_ms = retry_ms;
  uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* The connection broke: its request (if any) failed with `err`. */
static void conn_fail(struct conn *c, enum fx_load_err err, unsigned retry_ms) {
  if (c->state == C_BUSY) outcome(c, 0, err);
  conn_close(c, retry_ms);
  pump(c->d);
}

static void on_pump_timer(uv_timer_t *t) { pump(t->data); }

/* libuv timers have millisecond resolution, and a request sent up to 1 ms late is
 * charged to the platform (latency runs from the intended time). A timerfd armed at
 * the absolute intended time wakes the loop within microseconds instead. */
static void arm_send_timer(struct driver *d, uint64_t at_ns) {
  struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at_ns / NS_PER_S),
                                        .tv_nsec = (long)(at_ns % NS_PER_S)}};
  timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_send_timer(uv_poll_t *p, int status, int events) {
  struct driver *d = p->data;
  uint64_t expirations;
  /* EAGAIN only if the timer was re-armed meanwhile; pump() copes with early calls. */
  ssize_t n = read(d->tfd, &expirations, sizeof expirations);
  (void)n;
  pump(d);
}

static void on_deadline(uv_timer_t *t) { finish(t->data); }

static void on_conn_timer(uv_timer_t *t) {
  struct conn *c = t->data;
  if (c->state == C_DOWN)
    conn_open(c);
  else if (c->state == C_BUSY)
    conn_fail(c, FX_LOAD_ERR_TIMEOUT, 0);
}

static void on_tick(uv_timer_t *t);

static void open_window(struct driver *d) {
  d->started = true;
  fx_sched_start(&d->sched);
  d->st->window_start_ns = d->st->window_end_ns = d->sched.start_ns;
  uint64_t timeout_ms = ms_ceil(d->cfg.timeout_ns);
  uint64_t window_ms = ms_ceil(d->cfg.duration_ns);
  uv_timer_start(&d->tick_timer, on_tick, 1000, 1000);
  uv_timer_start(&d->end_timer, on_pump_timer, window_ms, 0);
  uv_timer_start(&d->deadline_timer, on_deadline, window_ms + timeout_ms + 1000, 0);
  pump(d);
}

static void tried_once(struct conn *c) {
  if (c->tried) return;
  c->tried = true;
  if (--c->d->untried == 0) open_window(c->d);
}

/* ---- reading responses ---- */

static int on_message_complete(http_parser *p) {
  struct conn *c = p->data;
  c->complete = true;
  c->keep_alive = http_should_keep_alive(p) != 0;
  http_parser_pause(p, 1); /* one response per request: look at what follows ourselves */
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct conn *c = h->data;
  *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

/* A response arrived or the parser gave up: the request on `c` is over. Returns -1
 * when the connection must be closed (no keep-alive, or bytes we cannot account for). */
static int response_done(struct conn *c, size_t used, size_t n) {
  int status = (int)c->parser.status_code;
  http_parser_pause(&c->parser, 0);
  if (c->state != C_BUSY || status < 100 || status > 599) { /* unsolicited or nonsense */
    if (c->state == C_BUSY)
      outcome(c, 0, FX_LOAD_ERR_PROTOCOL);
    else
      c->d->st->errors[FX_LOAD_ERR_PROTOCOL]++;
    return -1;
  }
  outcome(c, status, FX_LOAD_ERR_STATUS);
  if (used != n) { /* more after the response we asked for */
    c->d->st->errors[FX_LOAD_ERR_PROTOCOL]++;
    return -1;
  }
  return c->keep_alive ? 0 : -1;
}

/* Feeds `n` bytes to the parser. Returns -1 when the connection must go. */
static int feed(struct conn *c, const char *data, size_t n) {
  c->complete = false;
  size_t used = http_parser_execute(&c->parser, &c->d->settings, data, n);
  if (c->complete) return response_done(c, used, n);
  if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || used != n) {
    if (c->state == C_BUSY)
      outcome(c, 0, FX_LOAD_ERR_PROTOCOL);
    else
      c->d->st->errors[FX_LOAD_ERR_PROTOCOL]++;
    return -1;
  }
  return 0;
}

/* End of stream: a response delimited by it completes now; otherwise a request in
 * flight was cut off. */
static void on_eof(struct conn *c) {
  c->complete = false;
  if (c->state == C_BUSY) http_parser_execute(&c->parser, &c->d->settings, NULL, 0);
  if (c->complete && c->state == C_BUSY) {
    response_done(c, 0, 0);
    conn_close(c, 0);
    pump(c->d);
    return;
  }
  conn_fail(c, FX_LOAD_ERR_RESET, 0);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct conn *c = s->data;
  if (nread == 0 || c->state == C_CLOSING) return;
  if (nread == UV_EOF) {
    on_eof(c);
  } else if (nread < 0) {
    conn_fail(c, FX_LOAD_ERR_RESET, 0);
  } else {
    if (feed(c, buf->base, (size_t)nread) != 0) conn_close(c, 0);
    pump(c->d);
  }
}

/* ---- sending ---- */

static void on_write(uv_write_t *w, int status) {
  struct conn *c = w->data;
  if (status < 0 && c->state == C_BUSY) conn_fail(c, FX_LOAD_ERR_RESET, 0);
}

static void conn_send(struct conn *c, uint64_t intended) {
  struct driver *d = c->d;
  c->index = d->sched.issued - 1;
  c->intended = intended;
  c->state = C_BUSY;
  const struct fx_req *r = &d->cfg.reqs[c->index % d->cfg.n_reqs];
  uv_buf_t buf = uv_buf_init(r->data, (unsigned)r->len);
  d->st->sent++;
  uv_timer_start(&c->timer, on_conn_timer, ms_ceil(d->cfg.timeout_ns), 0);
  uv_write_t *w = &c->wreq[c->wsel++ & 1];
  if (uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, on_write) != 0)
    conn_fail(c, FX_LOAD_ERR_RESET, 0);
}

static struct conn *idle_conn(struct driver *d) {
  unsigned k = d->cfg.connections;
  for (unsigned i = 0; i < k; i++) {
    struct conn *c = &d->conns[(d->next_conn + i) % k];
    if (c->state == C_IDLE) {
      d->next_conn = (d->next_conn + i + 1) % k;
      return c;
    }
  }
  return NULL;
}

static bool schedule_over(struct driver *d) {
  return d->sched.issued >= d->sched.cfg.count || uv_hrtime() >= fx_sched_end_ns(&d->sched);
}

static void pump(struct driver *d) {
  if (!d->started || d->finishing) return;
  for (;;) {
    struct conn *c = idle_conn(d);
    if (c == NULL) {
      if (d->sched.inflight == 0 && schedule_over(d)) finish(d);
      return;
    }
    uint64_t intended, wait;
    enum fx_sched_verdict v = fx_sched_next(&d->sched, &intended, &wait);
    if (v == FX_SCHED_DONE) {
      if (d->sched.inflight == 0) finish(d);
      return;
    }
    if (v == FX_SCHED_WAIT) {
      if (wait > 0) arm_send_timer(d, uv_hrtime() + wait);
      return;
    }
    conn_send(c, intended);
  }
}

/* ---- connecting ---- */

static void on_connect(uv_connect_t *req, int status) {
  struct conn *c = req->data;
  struct driver *d = c->d;
  if (d->finishing || c->state != C_CONNECTING) return;
  if (status < 0) {
    d->st->errors[FX_LOAD_ERR_CONNECT]++;
    conn_close(c, RECONNECT_MS);
    tried_once(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  http_parser_init(&c->parser, HTTP_RESPONSE);
  c->parser.data = c;
  c->state = C_IDLE;
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
    conn_close(c, RECONNECT_MS);
    d->st->errors[FX_LOAD_ERR_CONNECT]++;
  }
  tried_once(c);
  pump(d);
}

static void conn_open(struct conn *c) {
  struct driver *d = c->d;
  uv_tcp_init(d->loop, &c->tcp);
  c->tcp.data = c;
  d->open_handles++;
  c->state = C_CONNECTING;
  c->creq.data = c;
  if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&d->addr, on_connect) != 0) {
    d->st->errors[FX_LOAD_ERR_CONNECT]++;
    conn_close(c, RECONNECT_MS);
    tried_once(c);
  }
}

/* ---- the per-second series ---- */

static void close_second(struct driver *d) {
  struct fx_load_stats *st = d->st;
  if (st->n_series == d->series_cap) return;
  struct fx_load_point *p = &st->series[st->n_series++];
  *p = d->cur;
  p->t_s = (double)(uv_hrtime() - st->window_start_ns) / 1e9;
  p->dt_s = p->t_s - (st->n_series > 1 ? st->series[st->n_series - 2].t_s : 0.0);
  fx_hist_summary(d->interval, &p->lat);
  fx_hist_reset(d->interval);
  memset(&d->cur, 0, sizeof d->cur);
}

static void on_tick(uv_timer_t *t) {
  struct driver *d = t->data;
  close_second(d);
  if (d->cfg.on_tick) d->cfg.on_tick(d->cfg.user, d->st);
}

/* ---- the end ---- */

static void close_handle(struct driver *d, uv_handle_t *h) {
  if (!uv_is_closing(h)) uv_close(h, on_handle_closed);
}

static void finish(struct driver *d) {
  if (d->finishing) return;
  for (unsigned i = 0; i < d->cfg.connections; i++)
    if (d->conns[i].state == C_BUSY) outcome(&d->conns[i], 0, FX_LOAD_ERR_TIMEOUT);
  d->finishing = true;
  if (d->started) {
    uint64_t now = uv_hrtime(), end = fx_sched_end_ns(&d->sched);
    d->st->unsent = fx_sched_backlog(&d->sched, now < end ? now : end - 1);
    if (d->cur.completed > 0) close_second(d);
  }
  close_handle(d, (uv_handle_t *)&d->tpoll);
  close_handle(d, (uv_handle_t *)&d->tick_timer);
  close_handle(d, (uv_handle_t *)&d->end_timer);
  close_handle(d, (uv_handle_t *)&d->deadline_timer);
  for (unsigned i = 0; i < d->cfg.connections; i++) {
    struct conn *c = &d->conns[i];
    uv_close((uv_handle_t *)&c->timer, on_conn_timer_closed);
    if (c->state != C_DOWN && c->state != C_CLOSING) {
      c->state = C_CLOSING;
      uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    }
  }
}

/* ---- set-up ---- */

static int check_cfg(const struct fx_load_cfg *cfg, char *err, size_t errlen) {
  if (cfg->connections == 0 || cfg->connections > 10000) {
    snprintf(err, errlen, "connections must be 1..10000");
    return -1;
  }
  if (cfg->port <= 0) {
    snprintf(err, errlen, "the target needs a port");
    return -1;
  }
  if (cfg->count == 0 || cfg->duration_ns == 0) {
    snprintf(err, errlen, "a run needs a count and a duration");
    return -1;
  }
  if (cfg->reqs == NULL || cfg->n_reqs == 0) {
    snprintf(err, errlen, "no prepared requests");
    return -1;
  }
  return 0;
}

static void driver_free(struct driver *d) {
  if (d == NULL) return;
  if (d->tfd >= 0) close(d->tfd);
  free(d->conns);
  free(d->interval);
  free(d);
}

void fx_load_stats_free(struct fx_load_stats *st) {
  if (st == NULL) return;
  free(st->series);
  free(st);
}

static struct driver *driver_new(uv_loop_t *loop, const struct fx_load_cfg *cfg) {
  struct driver *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->loop = loop;
  d->cfg = *cfg;
  d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (d->cfg.timeout_ns == 0) d->cfg.timeout_ns = 10 * NS_PER_S;
  d->series_cap = (size_t)((d->cfg.duration_ns + d->cfg.timeout_ns) / NS_PER_S) + 3;
  d->st = calloc(1, sizeof *d->st);
  d->interval = malloc(sizeof *d->interval);
  d->conns = calloc(cfg->connections, sizeof *d->conns);
  if (d->st) d->st->series = calloc(d->series_cap, sizeof *d->st->series);
  if (!d->st || !d->interval || !d->conns || !d->st->series || d->tfd < 0) {
    fx_load_stats_free(d->st);
    driver_free(d);
    return NULL;
  }
  fx_hist_reset(&d->st->lat);
  fx_hist_reset(d->interval);
  d->settings.on_message_complete = on_message_complete;
  return d;
}

static void init_handles(struct driver *d) {
  uv_timer_t *timers[] = {&d->tick_timer, &d->end_timer, &d->deadline_timer};
  for (size_t i = 0; i < sizeof timers / sizeof *timers; i++) {
    uv_timer_init(d->loop, timers[i]);
    timers[i]->data = d;
    d->open_handles++;
  }
  uv_poll_init(d->loop, &d->tpoll, d->tfd);
  d->tpoll.data = d;
  uv_poll_start(&d->tpoll, UV_READABLE, on_send_timer);
  d->open_handles++;
  d->untried = d->cfg.connections;
  for (unsigned i = 0; i < d->cfg.connections; i++) {
    struct conn *c = &d->conns[i];
    c->d = d;
    c->state = C_DOWN;
    uv_timer_init(d->loop, &c->timer);
    c->timer.data = c;
    c->wreq[0].data = c->wreq[1].data = c;
    d->open_handles++;
  }
}

int fx_load_run(uv_loop_t *loop, const struct fx_load_cfg *cfg, struct fx_load_stats **stats,
                char *err, size_t errlen) {
  *stats = NULL;
  if (check_cfg(cfg, err, errlen) != 0) return -1;
  struct sockaddr_storage addr;
  if (fx_load_loopback_addr(cfg->host, cfg->port, &addr, err, errlen) != 0) return -1;
  struct driver *d = driver_new(loop, cfg);
  if (d == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  d->addr = addr;
  struct fx_sched_cfg sc = {.rate = cfg->rate, .max_inflight = cfg->connections,
                            .count = cfg->count, .duration_ns = cfg->duration_ns};
  fx_sched_init(&d->sched, &sc, hr_clock, NULL);
  init_handles(d);
  for (unsigned i = 0; i < cfg->connections; i++) conn_open(&d->conns[i]);
  while (!d->finishing || d->open_handles > 0) uv_run(loop, UV_RUN_ONCE);
  *stats = d->st;
  driver_free(d);
  return 0;
}
