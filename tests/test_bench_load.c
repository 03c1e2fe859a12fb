/* test_bench_load.c — the load driver against the response sink on real loopback
 * sockets: N requests give N responses, bodies arrive intact, statuses and errors are
 * counted by kind (refused connection, timeout, reset, non-200), every run ends by
 * itself, and targets off loopback are refused. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/harness/load.h"
#include "bench/harness/sink.h"

#define MS UINT64_C(1000000)
#define S UINT64_C(1000000000)
#define PATH "/shapeshifter/api/v3/message"

struct seen {
  uint64_t bodies[3];     /* sink: arrivals per distinct body */
  uint64_t other;         /* sink: bodies we did not send */
  unsigned char *answered; /* driver: one flag per request index */
  uint64_t n_answered, duplicates;
  uint64_t last_arrival;
};

static const char *const bodies[3] = {"<A>first</A>", "<B>second body</B>", "<C>third</C>"};

static void on_message(void *user, const char *body, size_t len, uint64_t arrival) {
  struct seen *s = user;
  s->last_arrival = arrival;
  for (int i = 0; i < 3; i++)
    if (len == strlen(bodies[i]) && memcmp(body, bodies[i], len) == 0) {
      s->bodies[i]++;
      return;
    }
  s->other++;
}

static void on_response(void *user, uint64_t index, int status, uint64_t intended,
                        uint64_t done) {
  struct seen *s = user;
  cr_assert_geq(done, intended);
  if (s->answered[index]) s->duplicates++;
  s->answered[index] = 1;
  s->n_answered++;
}

struct rig {
  uv_loop_t loop;
  struct fx_sink *sink;
  struct fx_req reqs[3];
  struct seen seen;
};

static void rig_up(struct rig *r, size_t max_body, uint64_t n) {
  memset(r, 0, sizeof *r);
  cr_assert_eq(uv_loop_init(&r->loop), 0);
  char err[256];
  struct fx_sink_cfg sc = {.port = 0, .max_body = max_body, .on_message = on_message,
                           .user = &r->seen};
  cr_assert_eq(fx_sink_start(&r->sink, &r->loop, &sc, err, sizeof err), 0, "%s", err);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(fx_req_build(&r->reqs[i], "127.0.0.1", fx_sink_port(r->sink), PATH,
                              "text/xml; charset=utf-8", bodies[i], strlen(bodies[i])),
                 0);
  r->seen.answered = calloc(n, 1);
  cr_assert_not_null(r->seen.answered);
}

static void rig_down(struct rig *r) {
  fx_sink_close(r->sink);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&r->loop), 0, "handles left open");
  for (int i = 0; i < 3; i++) fx_req_free(&r->reqs[i]);
  free(r->seen.answered);
}

static struct fx_load_cfg cfg_for(struct rig *r, int port, uint64_t rate, unsigned k,
                                  uint64_t count) {
  struct fx_load_cfg c = {.host = "127.0.0.1", .port = port, .connections = k, .rate = rate,
                          .count = count, .duration_ns = 20 * S, .timeout_ns = 5 * S,
                          .reqs = r->reqs, .n_reqs = 3, .on_response = on_response,
                          .user = &r->seen};
  return c;
}

static struct fx_load_stats *run(struct rig *r, const struct fx_load_cfg *c) {
  struct fx_load_stats *st;
  char err[256];
  cr_assert_eq(fx_load_run(&r->loop, c, &st, err, sizeof err), 0, "%s", err);
  return st;
}

Test(bench_load, closed_loop_n_requests_give_n_responses) {
  struct rig r;
  rig_up(&r, 0, 600);
  struct fx_load_cfg c = cfg_for(&r, fx_sink_port(r.sink), 0, 4, 600);
  struct fx_load_stats *st = run(&r, &c);
  cr_assert_eq(st->sent, 600);
  cr_assert_eq(st->finished, 600);
  cr_assert_eq(st->ok, 600);
  cr_assert_eq(st->status[200], 600);
  for (int e = 0; e < FX_LOAD_ERR_COUNT; e++) cr_assert_eq(st->errors[e], 0, "error %d", e);
  cr_assert_eq(st->lat.total, 600, "every 200 has a latency");
  cr_assert_eq(fx_sink_received(r.sink), 600);
  cr_assert_eq(r.seen.n_answered, 600);
  cr_assert_eq(r.seen.duplicates, 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(r.seen.bodies[i], 200, "body %d arrivals", i);
  cr_assert_eq(r.seen.other, 0, "a body arrived damaged");
  uint64_t in_series = 0;
  for (size_t i = 0; i < st->n_series; i++) in_series += st->series[i].ok;
  cr_assert_eq(in_series, 600, "the per-second series accounts for every 200");
  fx_load_stats_free(st);
  rig_down(&r);
}

Test(bench_load, open_loop_sends_the_requested_count) {
  struct rig r;
  rig_up(&r, 0, 300);
  struct fx_load_cfg c = cfg_for(&r, fx_sink_port(r.sink), 2000, 2, 300);
  struct fx_load_stats *st = run(&r, &c);
  cr_assert_eq(st->sent, 300);
  cr_assert_eq(st->ok, 300);
  cr_assert_eq(st->unsent, 0);
  cr_assert_eq(fx_sink_received(r.sink), 300);
  fx_load_stats_free(st);
  rig_down(&r);
}

Test(bench_load, non_200_statuses_are_counted_and_connections_reopened) {
  struct rig r;
  rig_up(&r, 12, 30); /* the 12-byte bodies A and C fit; B (18 bytes) gets 413 and a close */
  struct fx_load_cfg c = cfg_for(&r, fx_sink_port(r.sink), 0, 2, 30);
  struct fx_load_stats *st = run(&r, &c);
  cr_assert_eq(st->finished, 30);
  cr_assert_eq(st->status[200], 20);
  cr_assert_eq(st->status[413], 10);
  cr_assert_eq(st->errors[FX_LOAD_ERR_STATUS], 10);
  cr_assert_eq(st->errors[FX_LOAD_ERR_RESET], 0);
  cr_assert_eq(st->lat.total, 20, "only 200s enter the latency histogram");
  cr_assert_eq(fx_sink_refused(r.sink), 10);
  cr_assert_eq(r.seen.bodies[1], 0, "the refused body never reached the callback");
  fx_load_stats_free(st);
  rig_down(&r);
}

/* A port with nothing listening: bind, read the port, close. */
static int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

Test(bench_load, refused_connections_count_as_connect_errors_and_the_run_ends) {
  struct rig r;
  rig_up(&r, 0, 10);
  struct fx_load_cfg c = cfg_for(&r, dead_port(), 0, 2, 10);
  c.duration_ns = 300 * MS;
  struct fx_load_stats *st = run(&r, &c);
  cr_assert_eq(st->sent, 0);
  cr_assert_eq(st->ok, 0);
  cr_assert_geq(st->errors[FX_LOAD_ERR_CONNECT], 2, "each connection failed at least once");
  fx_load_stats_free(st);
  rig_down(&r);
}

Test(bench_load, a_silent_server_times_out) {
  struct rig r;
  rig_up(&r, 0, 3);
  /* Listening but never accepting: the kernel completes the handshake, nobody answers. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(fd, 8), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  struct fx_load_cfg c = cfg_for(&r, ntohs(a.sin_port), 0, 1, 3);
  c.duration_ns = 2 * S;
  c.timeout_ns = 100 * MS;
  struct fx_load_stats *st = run(&r, &c);
  cr_assert_eq(st->ok, 0);
  cr_assert_geq(st->errors[FX_LOAD_ERR_TIMEOUT], 1);
  cr_assert_eq(st->finished, st->sent, "every sent request has an outcome");
  fx_load_stats_free(st);
  close(fd);
  rig_down(&r);
}

/* A server that reads the request and hangs up without answering. */
static void on_hangup_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  free(buf->base);
  if (!uv_is_closing((uv_handle_t *)s)) uv_close((uv_handle_t *)s, (uv_close_cb)free);
}

static void on_hangup_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  *buf = uv_buf_init(malloc(hint), (unsigned)hint);
}

static void on_hangup_conn(uv_stream_t *server, int status) {
  uv_tcp_t *c = malloc(sizeof *c);
  uv_tcp_init(server->loop, c);
  if (uv_accept(server, (uv_stream_t *)c) == 0)
    uv_read_start((uv_stream_t *)c, on_hangup_alloc, on_hangup_read);
  else
    uv_close((uv_handle_t *)c, (uv_close_cb)free);
}

Test(bench_load, a_hang_up_with_a_request_in_flight_is_a_reset) {
  struct rig r;
  rig_up(&r, 0, 5);
  uv_tcp_t server;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(&r.loop, &server);
  cr_assert_eq(uv_tcp_bind(&server, (struct sockaddr *)&a, 0), 0);
  cr_assert_eq(uv_listen((uv_stream_t *)&server, 8, on_hangup_conn), 0);
  int len = sizeof a;
  uv_tcp_getsockname(&server, (struct sockaddr *)&a, &len);
  struct fx_load_cfg c = cfg_for(&r, ntohs(a.sin_port), 0, 1, 5);
  c.duration_ns = 3 * S;
  struct fx_load_stats *st = run(&r, &c);
  cr_assert_eq(st->sent, 5);
  cr_assert_eq(st->errors[FX_LOAD_ERR_RESET], 5);
  cr_assert_eq(st->ok, 0);
  uv_close((uv_handle_t *)&server, NULL);
  fx_load_stats_free(st);
  rig_down(&r);
}

Test(bench_load, refuses_targets_off_loopback) {
  struct rig r;
  rig_up(&r, 0, 1);
  struct fx_load_stats *st = NULL;
  char err[256];
  const char *hosts[] = {"10.0.0.1", "192.168.1.1", "::2", "example.com"};
  for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
    struct fx_load_cfg c = cfg_for(&r, 8080, 0, 1, 1);
    c.host = hosts[i];
    cr_assert_eq(fx_load_run(&r.loop, &c, &st, err, sizeof err), -1, "%s accepted", hosts[i]);
    cr_assert_null(st);
  }
  struct sockaddr_storage ss;
  cr_assert_eq(fx_load_loopback_addr("127.0.0.9", 80, &ss, err, sizeof err), 0);
  cr_assert_eq(fx_load_loopback_addr("::1", 80, &ss, err, sizeof err), 0);
  cr_assert_eq(fx_load_loopback_addr("localhost", 80, &ss, err, sizeof err), 0);
  rig_down(&r);
}

Test(bench_load, sink_wait_returns_when_messages_arrive_or_time_runs_out) {
  struct rig r;
  rig_up(&r, 0, 4);
  cr_assert_eq(fx_sink_wait(r.sink, 1, 50 * MS), -1, "nothing was sent");
  struct fx_load_cfg c = cfg_for(&r, fx_sink_port(r.sink), 0, 1, 4);
  fx_load_stats_free(run(&r, &c));
  cr_assert_eq(fx_sink_wait(r.sink, 4, 50 * MS), 0);
  cr_assert_gt(r.seen.last_arrival, 0);
  rig_down(&r);
}
