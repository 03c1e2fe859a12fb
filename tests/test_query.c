/* test_query.c — the query API over a real loopback socket: the HTTP handler
 * mounted on an fx_http_server (on its own loop thread), a store holding one
 * market written the way the market writes it, and a blocking client. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/http_server.h"
#include "engine/query.h"
#include "store/store.h"

#define CP "ean.871685900012345678"

static char dir[64];
static struct fx_store *st;
static struct fx_config cfg;
static struct fx_query *q;
static uv_loop_t loop;
static uv_thread_t thread;
static uv_async_t stop_async;
static struct fx_http_server *srv;
static atomic_int stopped;
static int port;

static void quiet(void *ud, const char *msg) { (void)ud, (void)msg; }
static void on_stopped(void *ud) { (void)ud, atomic_store(&stopped, 1); }
static void on_stop(uv_async_t *a) {
  fx_http_server_stop(srv, on_stopped, NULL);
  uv_close((uv_handle_t *)a, NULL);
}
static void loop_main(void *arg) { uv_run(arg, UV_RUN_DEFAULT); }

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  static char buf[1 << 16];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

/* One market: the DSO's request (revision 1, cleared) and one open offer. */
static void store_market(void) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  size_t rlen;
  char *req = slurp(FLEXD_SOURCE_DIR "/tests/data/market/request.xml", &rlen);
  char *req_copy = malloc(rlen);
  memcpy(req_copy, req, rlen);
  size_t olen;
  char *off = slurp(FLEXD_SOURCE_DIR "/tests/data/market/offer-a.xml", &olen);
  struct fx_date d;
  fx_date_parse("2025-03-02", 10, &d, NULL);
  struct fx_store_obj r = {.key = {.cp = CP, .period = fx_date_to_days(&d), .kind = FX_OBJ_REQUEST, .id = {1}},
                           .state = FX_REQ_OPEN, .revision = 1, .owner = "dso.example.com", .body = req_copy,
                           .body_len = rlen};
  struct fx_store_obj o = {.key = {.cp = CP, .period = fx_date_to_days(&d), .kind = FX_OBJ_OFFER, .id = {2}},
                           .state = FX_OFFER_OPEN, .owner = "agr1.example.com", .body = off, .body_len = olen};
  cr_assert_eq(fx_store_batch_put_obj(&b, &r), 0);
  cr_assert_eq(fx_store_batch_put_obj(&b, &o), 0);
  cr_assert_eq(fx_store_batch_set_state(&b, &r.key, FX_REQ_CLEARED, 1), 0);
  cr_assert_eq(fx_store_commit(st, &b), 0);
  fx_store_batch_free(&b);
  free(req_copy);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/flexd-query-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  struct fx_store_opts so = {.path = dir, .log = quiet};
  cr_assert_eq(fx_store_open(&st, &so), 0);
  store_market();
  fx_config_defaults(&cfg);
  q = fx_query_new(&cfg, st);
  cr_assert_not_null(q);
  cr_assert_eq(uv_loop_init(&loop), 0);
  struct fx_http_server_config hc;
  fx_http_server_config_default(&hc);
  cr_assert_eq(fx_http_server_start(&srv, &loop, &hc, fx_query_http, q), 0);
  port = fx_http_server_port(srv);
  uv_async_init(&loop, &stop_async, on_stop);
  atomic_store(&stopped, 0);
  cr_assert_eq(uv_thread_create(&thread, loop_main, &loop), 0);
}

static void teardown(void) {
  uv_async_send(&stop_async);
  uv_thread_join(&thread);
  cr_assert_eq(atomic_load(&stopped), 1);
  uv_loop_close(&loop);
  fx_query_free(q);
  fx_store_close(st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(query, .init = setup, .fini = teardown);

static char body[1 << 16];

/* One request on a fresh connection; returns the status, body in `body`. */
static int get(const char *method, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  char req[512];
  int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                   method, path);
  cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
  static char resp[sizeof body + 4096];
  size_t len = 0;
  for (int i = 0; i < 10000 && len < sizeof resp - 1; i++) {
    ssize_t k = recv(fd, resp + len, sizeof resp - 1 - len, 0);
    if (k <= 0)
      break;
    len += (size_t)k;
  }
  close(fd);
  resp[len] = 0;
  char *sep = strstr(resp, "\r\n\r\n");
  cr_assert_not_null(sep, "a complete response: %s", resp);
  snprintf(body, sizeof body, "%s", sep + 4);
  return atoi(resp + 9);
}

Test(query, markets_lists_each_market_with_its_request_and_counts) {
  cr_assert_eq(get("GET", "/api/markets"), 200);
  json_t *doc = json_loads(body, 0, NULL);
  cr_assert(json_is_array(doc));
  cr_assert_eq(json_array_size(doc), 1);
  json_t *m = json_array_get(doc, 0);
  cr_assert_str_eq(json_string_value(json_object_get(m, "congestion_point")), CP);
  cr_assert_str_eq(json_string_value(json_object_get(m, "period")), "2025-03-02");
  cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "request"), "state")), "cleared");
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(m, "offers"), "open")), 1);
  json_decref(doc);
}

Test(query, one_market_shows_its_need_and_offers) {
  cr_assert_eq(get("GET", "/api/markets/" CP "/2025-03-02"), 200);
  json_t *doc = json_loads(body, 0, NULL);
  cr_assert_not_null(doc, "%s", body);
  json_t *need = json_object_get(json_object_get(doc, "request"), "need");
  cr_assert_eq(json_array_size(need), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(need, 0), "disposition")), "Requested");
  json_t *offer = json_array_get(json_object_get(doc, "offers"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(offer, "agr")), "agr1.example.com");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(offer, "options"), 0), "price")),
                   "100");
  json_t *c = json_object_get(doc, "clearing");
  cr_assert_eq(json_integer_value(json_object_get(c, "need_w")), 150000);
  cr_assert_eq(json_integer_value(json_object_get(c, "residual_w")), 150000, "nothing ordered yet");
  json_decref(doc);
}

Test(query, unknown_markets_and_paths_are_404_and_other_methods_405) {
  cr_assert_eq(get("GET", "/api/markets/" CP "/2025-03-03"), 404);
  cr_assert_eq(get("GET", "/api/markets/" CP "/not-a-date"), 404);
  cr_assert_eq(get("GET", "/api/other"), 404);
  cr_assert_eq(get("POST", "/api/markets"), 405);
}
