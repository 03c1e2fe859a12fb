/* test_metrics.c — registration rules, exposition format, atomic updates,
 * and GET /metrics served by a real fx_http_server over a loopback socket. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "engine/http_server.h"
#include "engine/metrics.h"

static char *render(struct fx_metrics *m) {
  char *text;
  size_t len;
  cr_assert_eq(fx_metrics_render(m, &text, &len), 0);
  cr_assert_eq(strlen(text), len);
  return text;
}

#define assert_line(text, line) \
  cr_assert_not_null(strstr(text, line "\n"), "missing line '%s' in:\n%s", line, text)

Test(metrics, counter_family_renders_help_type_and_labelled_series) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  struct fx_counter *ok = fx_metrics_counter(m, "flexd_messages_total", "Messages received.",
                                             "type=FlexOffer,result=accepted");
  struct fx_counter *rej = fx_metrics_counter(m, "flexd_messages_total", "Messages received.",
                                              "type=FlexOffer,result=rejected");
  cr_assert_not_null(ok);
  cr_assert_not_null(rej);
  fx_counter_inc(ok);
  fx_counter_add(ok, 2);
  char *t = render(m);
  assert_line(t, "# HELP flexd_messages_total Messages received.");
  assert_line(t, "# TYPE flexd_messages_total counter");
  assert_line(t, "flexd_messages_total{type=\"FlexOffer\",result=\"accepted\"} 3");
  assert_line(t, "flexd_messages_total{type=\"FlexOffer\",result=\"rejected\"} 0");
  cr_assert_null(strstr(strstr(t, "# TYPE") + 1, "# TYPE"), "one TYPE line per family");
  free(t);
  fx_metrics_free(m);
}

Test(metrics, gauge_without_labels_renders_bare_name) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  struct fx_gauge *g = fx_metrics_gauge(m, "flexd_outbox_depth", "Rows waiting.", NULL);
  cr_assert_not_null(g);
  fx_gauge_set(g, 10);
  fx_gauge_add(g, -13);
  char *t = render(m);
  assert_line(t, "# TYPE flexd_outbox_depth gauge");
  assert_line(t, "flexd_outbox_depth -3");
  free(t);
  fx_metrics_free(m);
}

Test(metrics, histogram_renders_cumulative_buckets_sum_and_count_in_seconds) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  struct fx_histogram *h =
      fx_metrics_histogram(m, "flexd_stage_seconds", "Stage latency.", "stage=open");
  cr_assert_not_null(h);
  fx_histogram_observe_us(h, 15);       /* ≤ 20 µs */
  fx_histogram_observe_us(h, 700);      /* ≤ 1 ms */
  fx_histogram_observe_us(h, 20000000); /* beyond 10 s: +Inf only */
  char *t = render(m);
  assert_line(t, "# TYPE flexd_stage_seconds histogram");
  assert_line(t, "flexd_stage_seconds_bucket{stage=\"open\",le=\"0.00001\"} 0");
  assert_line(t, "flexd_stage_seconds_bucket{stage=\"open\",le=\"0.00002\"} 1");
  assert_line(t, "flexd_stage_seconds_bucket{stage=\"open\",le=\"0.0005\"} 1");
  assert_line(t, "flexd_stage_seconds_bucket{stage=\"open\",le=\"0.001\"} 2");
  assert_line(t, "flexd_stage_seconds_bucket{stage=\"open\",le=\"10\"} 2");
  assert_line(t, "flexd_stage_seconds_bucket{stage=\"open\",le=\"+Inf\"} 3");
  assert_line(t, "flexd_stage_seconds_sum{stage=\"open\"} 20.000715");
  assert_line(t, "flexd_stage_seconds_count{stage=\"open\"} 3");
  free(t);
  fx_metrics_free(m);
}

Test(metrics, label_values_are_escaped) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  cr_assert_not_null(fx_metrics_counter(m, "flexd_rejections_total", "Rejections.",
                                        "reason=say \"no\" \\ twice"));
  char *t = render(m);
  assert_line(t, "flexd_rejections_total{reason=\"say \\\"no\\\" \\\\ twice\"} 0");
  free(t);
  fx_metrics_free(m);
}

Test(metrics, registration_refuses_sensitive_labels_and_bad_names) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "participant=agr.example"));
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "sender_domain=a.example"));
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "congestion_point=ean.1"));
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "cp=ean.1"));
  cr_assert_null(fx_metrics_counter(m, "flexd_x", "", NULL), "counters end in _total");
  cr_assert_null(fx_metrics_histogram(m, "flexd_lat", "", NULL), "histograms end in _seconds");
  cr_assert_null(fx_metrics_counter(m, "1bad_total", "", NULL));
  cr_assert_null(fx_metrics_counter(m, "flexd-bad_total", "", NULL));
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "noequals"));
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "le=1"));
  cr_assert_not_null(fx_metrics_counter(m, "flexd_x_total", "", "type=A"));
  cr_assert_null(fx_metrics_counter(m, "flexd_x_total", "", "type=A"), "duplicate series");
  cr_assert_null(fx_metrics_gauge(m, "flexd_x_total", "", "type=B"), "kind mismatch");
  cr_assert_not_null(fx_metrics_counter(m, "flexd_x_total", "", "type=B"));
  fx_metrics_free(m);
}

struct hammer {
  struct fx_counter *c;
  struct fx_histogram *h;
};

static void hammer_main(void *arg) {
  struct hammer *hm = arg;
  for (int i = 0; i < 500000; i++) {
    fx_counter_inc(hm->c);
    fx_histogram_observe_us(hm->h, (uint64_t)(i % 3) * 100);
  }
}

Test(metrics, concurrent_updates_from_two_threads_sum_exactly) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  struct hammer hm = {fx_metrics_counter(m, "flexd_ops_total", "", NULL),
                      fx_metrics_histogram(m, "flexd_op_seconds", "", NULL)};
  uv_thread_t a, b;
  cr_assert_eq(uv_thread_create(&a, hammer_main, &hm), 0);
  cr_assert_eq(uv_thread_create(&b, hammer_main, &hm), 0);
  uv_thread_join(&a);
  uv_thread_join(&b);
  char *t = render(m);
  assert_line(t, "flexd_ops_total 1000000");
  assert_line(t, "flexd_op_seconds_count 1000000");
  /* Each thread: 166667 × 0 µs, 166667 × 100 µs, 166666 × 200 µs. */
  assert_line(t, "flexd_op_seconds_bucket{le=\"0.0001\"} 666668");
  assert_line(t, "flexd_op_seconds_sum 99.9998");
  free(t);
  fx_metrics_free(m);
}

/* ----------------------------------------------------- over a real socket */

struct served {
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t stop;
  struct fx_http_server *srv;
};

static void on_stop(uv_async_t *a) {
  struct served *s = a->data;
  fx_http_server_stop(s->srv, NULL, NULL);
  uv_close((uv_handle_t *)a, NULL);
}

static void run_loop(void *arg) { uv_run(&((struct served *)arg)->loop, UV_RUN_DEFAULT); }

static int get(int port, const char *request, char *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  cr_assert_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
  size_t n = 0;
  ssize_t r;
  /* "Connection: close" in every request: the answer ends at EOF. */
  while (n < cap - 1 && (r = recv(fd, out + n, cap - 1 - n, 0)) > 0) n += (size_t)r;
  out[n] = 0;
  close(fd);
  return atoi(out + 9);
}

Test(metrics, get_metrics_over_a_real_socket) {
  struct fx_metrics *m;
  cr_assert_eq(fx_metrics_new(&m), 0);
  struct fx_counter *c = fx_metrics_counter(m, "flexd_http_responses_total", "Responses.",
                                            "status=200");
  fx_counter_add(c, 7);
  struct served s;
  cr_assert_eq(uv_loop_init(&s.loop), 0);
  struct fx_http_server_config cfg;
  fx_http_server_config_default(&cfg);
  cr_assert_eq(fx_http_server_start(&s.srv, &s.loop, &cfg, fx_metrics_http_handler, m), 0);
  int port = fx_http_server_port(s.srv);
  uv_async_init(&s.loop, &s.stop, on_stop);
  s.stop.data = &s;
  cr_assert_eq(uv_thread_create(&s.thread, run_loop, &s), 0);

  static char buf[65536];
  cr_assert_eq(get(port, "GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n", buf,
                   sizeof buf), 200);
  cr_assert_not_null(strstr(buf, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  cr_assert_not_null(strstr(buf, "\r\n\r\n# HELP flexd_http_responses_total Responses.\n"));
  assert_line(buf, "flexd_http_responses_total{status=\"200\"} 7");
  cr_assert_eq(get(port, "GET /other HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n", buf,
                   sizeof buf), 404);
  cr_assert_eq(get(port, "POST /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n"
                         "Content-Length: 0\r\n\r\n", buf, sizeof buf), 405);
  cr_assert_not_null(strstr(buf, "Allow: GET, HEAD\r\n"));

  uv_async_send(&s.stop);
  uv_thread_join(&s.thread);
  cr_assert_eq(uv_loop_close(&s.loop), 0);
  fx_metrics_free(m);
}
