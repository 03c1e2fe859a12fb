/* test_http_client.c — outbound POSTs against a real server on loopback.
 *
 * The peer is flexd's own fx_http_server on the same loop (127.0.0.1:0), so
 * every test is one single-threaded loop run: the client posts, the server's
 * routes answer as a peer would, and the callbacks are checked afterwards.
 * A watchdog timer (unreferenced) bounds each run. Also the pure helpers:
 * delivery classes and the back-off schedule. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/http_client.h"
#include "engine/http_server.h"

struct result {
  int status;
  enum fx_http_err err;
  int calls;
};

struct env {
  uv_loop_t loop;
  uv_timer_t watchdog;
  struct fx_http_server *srv;
  struct fx_http_client *cli;
  char base[64];
  int pending;                        /* callbacks still expected */
  struct fx_http_request *held[16];   /* /hang and /slow requests not yet answered */
  int nheld;
  int inflight, max_inflight;         /* concurrent requests at the server */
  char target_body[64];               /* what /target received */
  char target_ctype[64];
  int target_hits;
};

static void answer_held(struct env *e, int i) {
  fx_http_respond(e->held[i], 200, NULL, "", 0, NULL);
  e->held[i] = e->held[--e->nheld];
  e->inflight--;
}

static void slow_tick(uv_timer_t *t) {
  struct env *e = t->data;
  /* Answers one held /slow request per tick: concurrency stays observable. */
  if (e->nheld) answer_held(e, 0);
}

static void route(struct fx_http_request *req, void *ud) {
  struct env *e = ud;
  const char *path = fx_http_request_path(req);
  if (!strcmp(path, "/ok")) {
    fx_http_respond(req, 200, NULL, "", 0, NULL);
  } else if (!strcmp(path, "/e500")) {
    fx_http_respond(req, 500, NULL, "", 0, NULL);
  } else if (!strcmp(path, "/e400")) {
    fx_http_respond(req, 400, NULL, "", 0, NULL);
  } else if (!strcmp(path, "/redirect")) {
    fx_http_respond(req, 307, NULL, "", 0, "Location: /target\r\n");
  } else if (!strcmp(path, "/target")) {
    size_t len;
    const uint8_t *b = fx_http_request_body(req, &len);
    snprintf(e->target_body, sizeof e->target_body, "%.*s", (int)len, (const char *)b);
    const char *ct = fx_http_request_content_type(req);
    snprintf(e->target_ctype, sizeof e->target_ctype, "%s", ct ? ct : "");
    e->target_hits++;
    fx_http_respond(req, 200, NULL, "", 0, NULL);
  } else if (!strcmp(path, "/hang") || !strcmp(path, "/slow")) {
    cr_assert_lt(e->nheld, 16);
    e->held[e->nheld++] = req;
    if (++e->inflight > e->max_inflight) e->max_inflight = e->inflight;
  } else {
    fx_http_respond(req, 404, NULL, "", 0, NULL);
  }
}

static void watchdog_fired(uv_timer_t *t) {
  (void)t;
  cr_assert_fail("client test did not finish in 20 s");
}

/* idle_ms: how long the peer keeps an idle keep-alive connection open. */
static void env_start_idle(struct env *e, unsigned per_peer, unsigned idle_ms) {
  memset(e, 0, sizeof *e);
  cr_assert_eq(uv_loop_init(&e->loop), 0);
  uv_timer_init(&e->loop, &e->watchdog);
  uv_timer_start(&e->watchdog, watchdog_fired, 20000, 0);
  uv_unref((uv_handle_t *)&e->watchdog);
  struct fx_http_server_config scfg;
  fx_http_server_config_default(&scfg);
  if (idle_ms) scfg.idle_timeout_ms = idle_ms;
  cr_assert_eq(fx_http_server_start(&e->srv, &e->loop, &scfg, route, e), 0);
  snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", fx_http_server_port(e->srv));
  struct fx_http_client_config ccfg;
  fx_http_client_config_default(&ccfg);
  ccfg.max_per_peer = per_peer;
  cr_assert_eq(fx_http_client_new(&e->cli, &e->loop, &ccfg), 0);
}

static void env_start(struct env *e, unsigned per_peer) { env_start_idle(e, per_peer, 0); }

/* Runs the loop until every expected callback has arrived. */
static void env_wait(struct env *e) {
  while (e->pending > 0) uv_run(&e->loop, UV_RUN_ONCE);
}

static void env_finish(struct env *e) {
  while (e->nheld) answer_held(e, 0);
  fx_http_client_close(e->cli);
  fx_http_server_stop(e->srv, NULL, NULL);
  uv_close((uv_handle_t *)&e->watchdog, NULL);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&e->loop), 0, "a handle was left open");
}

struct call {
  struct env *env;
  struct result r;
};

static void on_result(int status, enum fx_http_err err, void *ud) {
  struct call *c = ud;
  c->r.status = status;
  c->r.err = err;
  c->r.calls++;
  c->env->pending--;
}

static void post(struct env *e, struct call *c, const char *path, const char *body,
                 unsigned timeout_ms) {
  char url[128];
  snprintf(url, sizeof url, "%s%s", e->base, path);
  c->env = e;
  cr_assert_eq(fx_http_client_post(e->cli, url, "text/xml; charset=utf-8", body,
                                   strlen(body), timeout_ms, on_result, c), 0);
  e->pending++;
}

Test(http_client, post_delivers_status_200_final_ok) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  post(&e, &c, "/ok", "<SignedMessage/>", 5000);
  cr_assert_eq(c.r.calls, 0, "never called back from inside post()");
  env_wait(&e);
  cr_assert_eq(c.r.calls, 1);
  cr_assert_eq(c.r.err, FX_HTTP_OK);
  cr_assert_eq(c.r.status, 200);
  cr_assert_eq(fx_http_delivery_class(c.r.status, c.r.err), FX_DELIVERY_FINAL_OK);
  env_finish(&e);
}

Test(http_client, server_error_500_is_retry) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  post(&e, &c, "/e500", "x", 5000);
  env_wait(&e);
  cr_assert_eq(c.r.status, 500);
  cr_assert_eq(fx_http_delivery_class(c.r.status, c.r.err), FX_DELIVERY_RETRY);
  env_finish(&e);
}

Test(http_client, bad_request_400_is_final_rejected) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  post(&e, &c, "/e400", "x", 5000);
  env_wait(&e);
  cr_assert_eq(c.r.status, 400);
  cr_assert_eq(fx_http_delivery_class(c.r.status, c.r.err), FX_DELIVERY_FINAL_REJECTED);
  env_finish(&e);
}

Test(http_client, not_found_404_is_retry) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  post(&e, &c, "/nowhere", "x", 5000);
  env_wait(&e);
  cr_assert_eq(c.r.status, 404);
  cr_assert_eq(fx_http_delivery_class(c.r.status, c.r.err), FX_DELIVERY_RETRY);
  env_finish(&e);
}

static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t len = sizeof sa;
  cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  getsockname(fd, (struct sockaddr *)&sa, &len);
  close(fd); /* nobody listens there now */
  return ntohs(sa.sin_port);
}

Test(http_client, connection_refused_is_retry_with_error) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  snprintf(e.base, sizeof e.base, "http://127.0.0.1:%d", closed_port());
  post(&e, &c, "/ok", "x", 5000);
  env_wait(&e);
  cr_assert_eq(c.r.status, 0);
  cr_assert_eq(c.r.err, FX_HTTP_EREFUSED, "got %s", fx_http_err_name(c.r.err));
  cr_assert_eq(fx_http_delivery_class(c.r.status, c.r.err), FX_DELIVERY_RETRY);
  env_finish(&e);
}

Test(http_client, peer_that_never_answers_times_out) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  post(&e, &c, "/hang", "x", 300);
  env_wait(&e);
  cr_assert_eq(c.r.status, 0);
  cr_assert_eq(c.r.err, FX_HTTP_ETIMEDOUT, "got %s", fx_http_err_name(c.r.err));
  cr_assert_eq(fx_http_delivery_class(c.r.status, c.r.err), FX_DELIVERY_RETRY);
  cr_assert_eq(e.nheld, 1, "the request did reach the peer");
  env_finish(&e);
}

Test(http_client, temporary_redirect_is_followed_with_the_body) {
  struct env e;
  env_start(&e, 4);
  struct call c = {0};
  post(&e, &c, "/redirect", "<FlexOffer/>", 5000);
  env_wait(&e);
  cr_assert_eq(c.r.err, FX_HTTP_OK);
  cr_assert_eq(c.r.status, 200);
  cr_assert_eq(e.target_hits, 1);
  cr_assert_str_eq(e.target_body, "<FlexOffer/>");
  cr_assert_str_eq(e.target_ctype, "text/xml; charset=utf-8");
  env_finish(&e);
}

Test(http_client, per_peer_concurrency_bound_holds) {
  struct env e;
  env_start(&e, 2);
  uv_timer_t tick;
  uv_timer_init(&e.loop, &tick);
  tick.data = &e;
  uv_timer_start(&tick, slow_tick, 50, 50);
  struct call c[6] = {0};
  for (int i = 0; i < 6; i++) post(&e, &c[i], "/slow", "x", 10000);
  cr_assert_eq(fx_http_client_waiting(e.cli), 4, "beyond the bound, posts wait");
  cr_assert_eq(fx_http_client_active(e.cli), 2);
  env_wait(&e);
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(c[i].r.calls, 1);
    cr_assert_eq(c[i].r.status, 200, "post %d: %d %s", i, c[i].r.status,
                 fx_http_err_name(c[i].r.err));
  }
  cr_assert_eq(e.max_inflight, 2, "the server saw at most 2 at once (saw %d)", e.max_inflight);
  uv_close((uv_handle_t *)&tick, NULL);
  env_finish(&e);
}

Test(http_client, close_cancels_what_is_pending) {
  struct env e;
  env_start(&e, 1);
  struct call c[3] = {0};
  for (int i = 0; i < 3; i++) post(&e, &c[i], "/hang", "x", 10000);
  while (e.nheld < 1) uv_run(&e.loop, UV_RUN_ONCE); /* the first has reached the peer */
  fx_http_client_close(e.cli);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(c[i].r.calls, 1, "post %d called back by close", i);
    cr_assert_eq(c[i].r.err, FX_HTTP_ECANCELED);
  }
  cr_assert_eq(fx_http_client_post(e.cli, "http://127.0.0.1:1/x", NULL, "", 0, 100, on_result, &c[0]),
               -ECANCELED);
  env_finish(&e);
}

Test(http_client, sequential_posts_reuse_one_connection) {
  struct env e;
  env_start(&e, 4);
  for (int i = 0; i < 20; i++) {
    struct call c = {0};
    post(&e, &c, "/ok", "<SignedMessage/>", 5000);
    env_wait(&e);
    cr_assert_eq(c.r.status, 200, "post %d", i);
  }
  cr_assert_eq(fx_http_server_connections(e.srv), 1, "20 posts, %u connections at the peer",
               fx_http_server_connections(e.srv));
  env_finish(&e);
}

static int open_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 1024; fd++)
    if (fcntl(fd, F_GETFD) != -1) n++;
  return n;
}

static void stop_loop(uv_timer_t *t) { *(bool *)t->data = true; }

/* Runs the loop for ms milliseconds; returns how many turns it took. */
static int run_for(struct env *e, unsigned ms) {
  bool done = false;
  uv_timer_t t;
  uv_timer_init(&e->loop, &t);
  t.data = &done;
  uv_timer_start(&t, stop_loop, ms, 0);
  int turns = 0;
  while (!done && turns < 100000) {
    uv_run(&e->loop, UV_RUN_ONCE);
    turns++;
  }
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&e->loop, UV_RUN_NOWAIT);
  return turns;
}

/* A connection waiting in libcurl's cache stays watched; when the peer closes
 * it, that is noticed once (not on every loop turn), the next post gets a new
 * connection, and every socket is closed in the end. */
Test(http_client, a_kept_connection_the_peer_closes_is_dropped_quietly) {
  struct env e;
  env_start(&e, 4); /* once first: libuv and libcurl keep a few descriptors for good */
  env_finish(&e);
  int fds_before = open_fds();
  env_start_idle(&e, 4, 50);
  struct call c = {0};
  post(&e, &c, "/ok", "x", 5000);
  env_wait(&e);
  cr_assert_eq(c.r.status, 200);
  int turns = run_for(&e, 400); /* the peer closes the idle connection after 50 ms */
  cr_assert_eq(fx_http_server_connections(e.srv), 0, "the peer closed it");
  cr_assert_lt(turns, 50, "the loop spun %d turns on a closed idle connection", turns);
  struct call d = {0};
  post(&e, &d, "/ok", "y", 5000);
  env_wait(&e);
  cr_assert_eq(d.r.status, 200);
  cr_assert_eq(d.r.err, FX_HTTP_OK);
  cr_assert_eq(fx_http_server_connections(e.srv), 1);
  env_finish(&e);
  cr_assert_eq(open_fds(), fds_before, "descriptors left open: %d before, %d after", fds_before, open_fds());
}

Test(http_client, each_post_carries_its_own_content_type) {
  struct env e;
  env_start(&e, 4);
  const char *types[] = {"text/xml; charset=utf-8", "application/xml", "text/xml; charset=utf-8", NULL};
  const char *seen[] = {"text/xml; charset=utf-8", "application/xml", "text/xml; charset=utf-8", "text/xml"};
  for (int i = 0; i < 4; i++) {
    struct call c = {.env = &e};
    char url[128];
    snprintf(url, sizeof url, "%s/target", e.base);
    cr_assert_eq(fx_http_client_post(e.cli, url, types[i], "b", 1, 5000, on_result, &c), 0);
    e.pending++;
    env_wait(&e);
    cr_assert_eq(c.r.status, 200);
    cr_assert_str_eq(e.target_ctype, seen[i], "post %d", i);
  }
  env_finish(&e);
}

Test(http_client, url_without_host_is_refused_at_once) {
  struct env e;
  env_start(&e, 1);
  struct call c = {0};
  cr_assert_eq(fx_http_client_post(e.cli, "not a url", NULL, "", 0, 100, on_result, &c), -EINVAL);
  cr_assert_eq(c.r.calls, 0);
  env_finish(&e);
}

Test(delivery_class, statuses_follow_the_transport_appendix) {
  int ok[] = {200, 201, 202, 204};
  int rejected[] = {400, 401, 403, 405, 406, 410, 411, 413, 414, 415, 422};
  int retry[] = {0, 100, 302, 307, 404, 408, 409, 419, 425, 429, 499, 500, 502, 503, 504, 599, 999};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    cr_assert_eq(fx_http_delivery_class(ok[i], FX_HTTP_OK), FX_DELIVERY_FINAL_OK, "%d", ok[i]);
  for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
    cr_assert_eq(fx_http_delivery_class(rejected[i], FX_HTTP_OK), FX_DELIVERY_FINAL_REJECTED,
                 "%d", rejected[i]);
  for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++)
    cr_assert_eq(fx_http_delivery_class(retry[i], FX_HTTP_OK), FX_DELIVERY_RETRY, "%d", retry[i]);
}

Test(delivery_class, every_transport_error_is_retry) {
  for (int err = FX_HTTP_ETIMEDOUT; err <= FX_HTTP_EINTERNAL; err++)
    cr_assert_eq(fx_http_delivery_class(0, (enum fx_http_err)err), FX_DELIVERY_RETRY, "%s",
                 fx_http_err_name((enum fx_http_err)err));
}

Test(backoff, grows_exponentially_within_jitter_and_caps) {
  const uint64_t base = 1000000, cap = 600000000; /* 1 s, 10 min */
  for (unsigned a = 0; a < 40; a++) {
    uint64_t full = base << (a < 20 ? a : 20);
    if (full > cap) full = cap;
    uint64_t d = fx_backoff_next_us(a, base, cap, 42);
    cr_assert_geq(d, full / 2, "attempt %u: %lu", a, (unsigned long)d);
    cr_assert_leq(d, full, "attempt %u: %lu", a, (unsigned long)d);
  }
  cr_assert_leq(fx_backoff_next_us(1000, base, cap, 7), cap, "huge attempts do not overflow");
}

Test(backoff, jitter_is_deterministic_per_seed_and_differs_across_seeds) {
  cr_assert_eq(fx_backoff_next_us(5, 1000, 1u << 30, 99), fx_backoff_next_us(5, 1000, 1u << 30, 99));
  int differ = 0;
  for (uint64_t s = 0; s < 32; s++)
    differ += fx_backoff_next_us(5, 1000, 1u << 30, s) != fx_backoff_next_us(5, 1000, 1u << 30, 0);
  cr_assert_gt(differ, 16, "seeds spread the retries");
}

Test(backoff, retries_cover_the_hour_long_window) {
  /* 30 s base, 15 min cap: the sum of ten attempts already exceeds one hour. */
  uint64_t total = 0;
  for (unsigned a = 0; a < 10; a++) total += fx_backoff_next_us(a, 30000000, 900000000, 1);
  cr_assert_geq(total, 3600ull * 1000000);
}
