/* test_http_server.c — the inbound HTTP/1.1 server against a hostile peer.
 *
 * The server runs on its own libuv loop thread; the test plays the client
 * with plain blocking sockets (receive timeouts bound every wait), so each
 * status, the ordering of pipelined answers and every timeout is observed on
 * the wire exactly as a peer would see it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/http_server.h"

/* ----------------------------------------------------------- the fixture */

struct fixture {
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t stop_async;
  struct fx_http_server *srv;
  struct fx_http_server_config cfg;
  int port;
  atomic_int handled;       /* requests seen by the handler */
  atomic_int max_conns;     /* connection count seen by the handler */
  atomic_int late_done;     /* late responses sent */
  atomic_int late_gone;     /* ... of which the connection had gone */
  atomic_int stopped;
};

struct late {
  uv_timer_t timer;
  struct fixture *fx;
  struct fx_http_request *req;
  char tag[16];
};

static void late_closed(uv_handle_t *h) { free(h->data); }

static void late_fire(uv_timer_t *t) {
  struct late *l = t->data;
  if (fx_http_request_gone(l->req)) atomic_fetch_add(&l->fx->late_gone, 1);
  fx_http_respond(l->req, 200, "text/plain", l->tag, strlen(l->tag), NULL);
  atomic_fetch_add(&l->fx->late_done, 1);
  uv_close((uv_handle_t *)&l->timer, late_closed);
}

/* Routes: POST /echo echoes; /late/<ms>/<tag> answers <tag> after <ms>;
 * anything else on /echo is 405, any other path 404. */
static void handler(struct fx_http_request *req, void *ud) {
  struct fixture *fx = ud;
  atomic_fetch_add(&fx->handled, 1);
  int n = (int)fx_http_server_connections(fx->srv);
  if (n > atomic_load(&fx->max_conns)) atomic_store(&fx->max_conns, n);
  const char *path = fx_http_request_path(req), *method = fx_http_request_method(req);
  unsigned ms;
  char tag[16];
  if (sscanf(path, "/late/%u/%15[a-z]", &ms, tag) == 2) {
    struct late *l = calloc(1, sizeof *l);
    cr_assert_not_null(l);
    l->fx = fx;
    l->req = req;
    strcpy(l->tag, tag);
    uv_timer_init(&fx->loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, late_fire, ms, 0);
  } else if (!strcmp(path, "/echo") && !strcmp(method, "POST")) {
    size_t len;
    const uint8_t *body = fx_http_request_body(req, &len);
    fx_http_respond(req, 200, fx_http_request_content_type(req), body, len, NULL);
  } else if (!strcmp(path, "/echo")) {
    fx_http_respond(req, 405, NULL, "", 0, "Allow: POST\r\n");
  } else {
    fx_http_respond(req, 404, NULL, "", 0, NULL);
  }
}

static void on_stopped(void *ud) { atomic_store(&((struct fixture *)ud)->stopped, 1); }

static void on_stop_async(uv_async_t *a) {
  struct fixture *fx = a->data;
  fx_http_server_stop(fx->srv, on_stopped, fx);
  uv_close((uv_handle_t *)a, NULL);
}

static void loop_main(void *arg) { uv_run(&((struct fixture *)arg)->loop, UV_RUN_DEFAULT); }

static void fixture_start(struct fixture *fx, void (*tune)(struct fx_http_server_config *)) {
  memset(fx, 0, sizeof *fx);
  cr_assert_eq(uv_loop_init(&fx->loop), 0);
  fx_http_server_config_default(&fx->cfg);
  fx->cfg.header_timeout_ms = 2000;
  fx->cfg.body_timeout_ms = 2000;
  fx->cfg.idle_timeout_ms = 5000;
  fx->cfg.max_body_bytes = 4096;
  if (tune) tune(&fx->cfg);
  cr_assert_eq(fx_http_server_start(&fx->srv, &fx->loop, &fx->cfg, handler, fx), 0);
  fx->port = fx_http_server_port(fx->srv);
  cr_assert_gt(fx->port, 0);
  uv_async_init(&fx->loop, &fx->stop_async, on_stop_async);
  fx->stop_async.data = fx;
  cr_assert_eq(uv_thread_create(&fx->thread, loop_main, fx), 0);
}

/* Stops the server from the test thread and waits for the loop to finish. */
static void fixture_stop(struct fixture *fx) {
  uv_async_send(&fx->stop_async);
  uv_thread_join(&fx->thread);
  cr_assert_eq(atomic_load(&fx->stopped), 1, "server did not report its stop");
  cr_assert_eq(uv_loop_close(&fx->loop), 0, "a handle was left open");
}

/* ------------------------------------------------------ the hostile peer */

static int peer_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

static void peer_send(int fd, const char *s) {
  size_t len = strlen(s), off = 0;
  while (off < len) {
    ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
    cr_assert_gt(n, 0, "send failed: %s", strerror(errno));
    off += (size_t)n;
  }
}

struct reply {
  int status;  /* 0: connection closed before a complete answer */
  char head[2048];
  char body[4096];
  size_t body_len;
};

/* Reads exactly one response (headers + Content-Length body). Bytes after it
 * stay in the socket, since reads stop at the response boundary. */
static void peer_read(int fd, struct reply *r) {
  memset(r, 0, sizeof *r);
  size_t hl = 0;
  while (hl < sizeof r->head - 1 && !strstr(r->head, "\r\n\r\n")) {
    ssize_t n = recv(fd, r->head + hl, 1, 0);
    if (n <= 0) return;
    hl++;
  }
  const char *cl = strstr(r->head, "\r\nContent-Length:");
  cr_assert_not_null(cl, "no Content-Length in: %s", r->head);
  size_t want = strtoul(cl + 17, NULL, 10);
  cr_assert_lt(want, sizeof r->body);
  while (r->body_len < want) {
    ssize_t n = recv(fd, r->body + r->body_len, want - r->body_len, 0);
    if (n <= 0) return;
    r->body_len += (size_t)n;
  }
  r->status = atoi(r->head + 9);
}

/* True when the server closes the connection (EOF or reset) before the receive timeout. */
static bool peer_sees_close(int fd) {
  char b[256];
  for (int i = 0; i < 1000; i++) {
    ssize_t n = recv(fd, b, sizeof b, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0) return false; /* timed out */
  }
  return false;
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits (bounded) until *v reaches want. */
static bool wait_for(atomic_int *v, int want) {
  for (int i = 0; i < 500 && atomic_load(v) < want; i++) sleep_ms(10);
  return atomic_load(v) >= want;
}

/* ------------------------------------------------------------------ tests */

Test(http_server, post_echo_is_200_with_body_and_content_type) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/xml\r\n"
                "Content-Length: 5\r\n\r\nhello");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.body_len, 5);
  cr_assert_arr_eq(r.body, "hello", 5);
  cr_assert_not_null(strstr(r.head, "Content-Type: text/xml\r\n"));
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, post_without_content_length_is_411_and_close) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 411);
  cr_assert_not_null(strstr(r.head, "Connection: close"));
  cr_assert(peer_sees_close(fd));
  cr_assert_eq(atomic_load(&fx.handled), 0, "the handler must not see it");
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, chunked_post_is_411) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n0\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 411);
  cr_assert(peer_sees_close(fd));
  cr_assert_eq(atomic_load(&fx.handled), 0);
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, announced_body_over_limit_is_413_before_the_body) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  /* Only the headers are sent: the 413 must come without waiting for a body. */
  peer_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4097\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 413);
  cr_assert(peer_sees_close(fd));
  cr_assert_eq(atomic_load(&fx.handled), 0);
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, body_at_the_limit_is_accepted) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  char *msg = malloc(8192);
  int n = sprintf(msg, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4000\r\n\r\n");
  memset(msg + n, 'x', 4000);
  msg[n + 4000] = 0;
  peer_send(fd, msg);
  free(msg);
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.body_len, 4000);
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, malformed_request_line_is_400_and_close) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "THIS IS NOT HTTP\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 400);
  cr_assert(peer_sees_close(fd));
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, oversized_headers_are_431) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  static char big[20000];
  int n = sprintf(big, "GET /x HTTP/1.1\r\nX-Big: ");
  memset(big + n, 'a', 17000);
  strcpy(big + n + 17000, "\r\n\r\n");
  peer_send(fd, big);
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 431);
  cr_assert_eq(atomic_load(&fx.handled), 0);
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, handler_routes_give_404_and_405) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  struct reply r;
  peer_send(fd, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
  peer_read(fd, &r);
  cr_assert_eq(r.status, 404);
  peer_send(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
  peer_read(fd, &r);
  cr_assert_eq(r.status, 405);
  cr_assert_not_null(strstr(r.head, "Allow: POST\r\n"), "extra headers are sent");
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, keep_alive_serves_three_requests_on_one_connection) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  for (int i = 0; i < 3; i++) {
    char body[8], req[256];
    snprintf(body, sizeof body, "m%d", i);
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n%s", body);
    peer_send(fd, req);
    struct reply r;
    peer_read(fd, &r);
    cr_assert_eq(r.status, 200, "request %d", i);
    cr_assert_arr_eq(r.body, body, 2);
    cr_assert_null(strstr(r.head, "Connection: close"));
  }
  cr_assert_eq(atomic_load(&fx.handled), 3);
  cr_assert_eq(atomic_load(&fx.max_conns), 1, "all three on one connection");
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, connection_close_request_gets_answer_then_eof) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1\r\n\r\nz");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 200);
  cr_assert_not_null(strstr(r.head, "Connection: close"));
  cr_assert(peer_sees_close(fd));
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, pipelined_answers_keep_request_order) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  /* The first answer is ready last: order must still be a, b, c. */
  peer_send(fd, "GET /late/300/a HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /late/100/b HTTP/1.1\r\nHost: t\r\n\r\n"
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nc");
  const char *want[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    struct reply r;
    peer_read(fd, &r);
    cr_assert_eq(r.status, 200, "answer %d", i);
    cr_assert_eq(r.body_len, 1);
    cr_assert_eq(r.body[0], want[i][0], "answer %d is %c", i, r.body[0]);
  }
  close(fd);
  fixture_stop(&fx);
}

static void tune_pipeline2(struct fx_http_server_config *c) { c->max_pipelined = 2; }

Test(http_server, pipelining_beyond_the_bound_is_throttled_not_dropped) {
  struct fixture fx;
  fixture_start(&fx, tune_pipeline2);
  int fd = peer_connect(fx.port);
  char all[1024] = "";
  for (int i = 0; i < 6; i++)
    strcat(all, "GET /late/20/q HTTP/1.1\r\nHost: t\r\n\r\n");
  peer_send(fd, all);
  for (int i = 0; i < 6; i++) {
    struct reply r;
    peer_read(fd, &r);
    cr_assert_eq(r.status, 200, "answer %d", i);
  }
  cr_assert_eq(atomic_load(&fx.handled), 6);
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, late_response_after_a_timer) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "GET /late/150/later HTTP/1.1\r\nHost: t\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.body_len, 5);
  cr_assert_arr_eq(r.body, "later", 5);
  cr_assert_eq(atomic_load(&fx.late_gone), 0);
  close(fd);
  fixture_stop(&fx);
}

Test(http_server, client_gone_before_late_response_is_safe) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "GET /late/300/gone HTTP/1.1\r\nHost: t\r\n\r\n");
  cr_assert(wait_for(&fx.handled, 1));
  close(fd); /* the server sees EOF long before the timer fires */
  cr_assert(wait_for(&fx.late_done, 1), "the late respond ran");
  cr_assert_eq(atomic_load(&fx.late_gone), 1, "the request knew its connection was gone");
  fixture_stop(&fx); /* ASan reports any leak or use after free of the request */
}

static void tune_trickle(struct fx_http_server_config *c) { c->header_timeout_ms = 300; }

Test(http_server, header_trickle_is_timed_out) {
  struct fixture fx;
  fixture_start(&fx, tune_trickle);
  int fd = peer_connect(fx.port);
  peer_send(fd, "GET /echo HTTP/1.1\r\n");
  bool closed = false;
  /* One header byte every 50 ms would take 5 s; the deadline is 300 ms. */
  for (int i = 0; i < 100 && !closed; i++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 50) == 1) {
      closed = peer_sees_close(fd);
      break;
    }
    if (send(fd, "X", 1, MSG_NOSIGNAL) < 0) closed = true;
  }
  cr_assert(closed, "a trickling client must be closed by the header timeout");
  cr_assert_eq(atomic_load(&fx.handled), 0);
  close(fd);
  fixture_stop(&fx);
}

static void tune_body(struct fx_http_server_config *c) { c->body_timeout_ms = 300; }

Test(http_server, stalled_body_is_timed_out) {
  struct fixture fx;
  fixture_start(&fx, tune_body);
  int fd = peer_connect(fx.port);
  peer_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-part");
  cr_assert(peer_sees_close(fd));
  cr_assert_eq(atomic_load(&fx.handled), 0);
  close(fd);
  fixture_stop(&fx);
}

static void tune_idle(struct fx_http_server_config *c) { c->idle_timeout_ms = 200; }

Test(http_server, idle_keep_alive_connection_is_closed) {
  struct fixture fx;
  fixture_start(&fx, tune_idle);
  int fd = peer_connect(fx.port);
  peer_send(fd, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 404);
  cr_assert(peer_sees_close(fd));
  close(fd);
  fixture_stop(&fx);
}

static void tune_limit(struct fx_http_server_config *c) { c->max_connections = 3; }

Test(http_server, connection_limit_is_enforced) {
  struct fixture fx;
  fixture_start(&fx, tune_limit);
  int fds[3];
  struct reply r;
  for (int i = 0; i < 3; i++) {
    fds[i] = peer_connect(fx.port);
    peer_send(fds[i], "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
    peer_read(fds[i], &r);
    cr_assert_eq(r.status, 404, "connection %d is served", i);
  }
  int extra = peer_connect(fx.port);
  cr_assert_geq(extra, 0);
  cr_assert(peer_sees_close(extra), "the fourth connection is closed at once");
  close(extra);
  /* Once one connection goes, a new one is served again. */
  close(fds[0]);
  bool served = false;
  for (int i = 0; i < 100 && !served; i++) {
    int fd = peer_connect(fx.port);
    send(fd, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n", 34, MSG_NOSIGNAL);
    peer_read(fd, &r);
    served = r.status == 404;
    close(fd);
    if (!served) sleep_ms(20);
  }
  cr_assert(served);
  cr_assert_leq(atomic_load(&fx.max_conns), 3);
  close(fds[1]);
  close(fds[2]);
  fixture_stop(&fx);
}

Test(http_server, graceful_stop_finishes_the_request_in_flight) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  int idle = peer_connect(fx.port);
  peer_send(fd, "GET /late/300/done HTTP/1.1\r\nHost: t\r\n\r\n");
  cr_assert(wait_for(&fx.handled, 1));
  uv_async_send(&fx.stop_async); /* stop while the answer is owed */
  cr_assert(peer_sees_close(idle), "idle connections close at once");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 200, "the request in flight is answered");
  cr_assert_arr_eq(r.body, "done", 4);
  cr_assert_not_null(strstr(r.head, "Connection: close"));
  cr_assert(peer_sees_close(fd));
  cr_assert_lt(peer_connect(fx.port), 0, "no longer accepting");
  uv_thread_join(&fx.thread); /* the loop ends by itself once all is closed */
  cr_assert_eq(atomic_load(&fx.stopped), 1);
  cr_assert_eq(atomic_load(&fx.late_gone), 0);
  cr_assert_eq(uv_loop_close(&fx.loop), 0);
  close(fd);
  close(idle);
}

Test(http_server, http10_without_keep_alive_is_closed_after_answer) {
  struct fixture fx;
  fixture_start(&fx, NULL);
  int fd = peer_connect(fx.port);
  peer_send(fd, "GET /nowhere HTTP/1.0\r\n\r\n");
  struct reply r;
  peer_read(fd, &r);
  cr_assert_eq(r.status, 404);
  cr_assert(peer_sees_close(fd));
  close(fd);
  fixture_stop(&fx);
}
