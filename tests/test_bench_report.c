/* test_bench_report.c — the report of a real loopback run: the JSON document parses
 * back (jansson) with the run's figures in the right fields, the SVG is well-formed
 * XML (libxml2) with its curves and escaped text, and the table names every figure. */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness/report.h"
#include "bench/harness/scrape.h"
#include "bench/harness/sink.h"

#define MS UINT64_C(1000000)
#define S UINT64_C(1000000000)

/* A 1.5 s open-loop run against the sink: two points of the series (1 s, and the
 * last half second). */
static struct fx_load_stats *real_run(void) {
  uv_loop_t loop;
  struct fx_sink *sink;
  char err[256];
  cr_assert_eq(uv_loop_init(&loop), 0);
  struct fx_sink_cfg sc = {.port = 0};
  cr_assert_eq(fx_sink_start(&sink, &loop, &sc, err, sizeof err), 0, "%s", err);
  struct fx_req req;
  cr_assert_eq(fx_req_build(&req, "127.0.0.1", fx_sink_port(sink), "/m", "text/xml", "<x/>", 4), 0);
  struct fx_load_cfg c = {.host = "127.0.0.1", .port = fx_sink_port(sink), .connections = 2,
                          .rate = 400, .count = 600, .duration_ns = 3 * S, .reqs = &req,
                          .n_reqs = 1};
  struct fx_load_stats *st;
  cr_assert_eq(fx_load_run(&loop, &c, &st, err, sizeof err), 0, "%s", err);
  fx_sink_close(sink);
  uv_run(&loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&loop), 0);
  fx_req_free(&req);
  cr_assert_eq(st->ok, 600);
  cr_assert_geq(st->n_series, 2);
  return st;
}

static char *temp_path(const char *suffix) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/fx-report-XXXXXX%s", suffix);
  int fd = mkstemps(path, (int)strlen(suffix));
  cr_assert_geq(fd, 0);
  close(fd);
  return path;
}

static double num(json_t *root, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *j = root;
  for (char *tok = strtok(buf, "."); tok && j; tok = strtok(NULL, ".")) j = json_object_get(j, tok);
  cr_assert(json_is_number(j), "%s is not a number", path);
  return json_number_value(j);
}

static const struct fx_ceiling ceiling = {.inbound_len = 2048, .response_len = 600,
                                          .iterations = 320, .open_ns = 93000, .sign_ns = 31000,
                                          .pair_ns = 124000, .pairs_per_core_s = 8064.5,
                                          .busy_pair_ns = 150000, .busy_threads = 2};

static struct fx_report report_of(const struct fx_load_stats *st) {
  struct fx_report r = {.workload = "ingest", .target = "127.0.0.1:8080", .rate = 400,
                        .connections = 2, .count_limit = 600, .duration_limit_s = 3,
                        .machine = "test machine", .load = st, .platform_pid = 4242,
                        .platform_cpu_ns = 600 * UINT64_C(150000),
                        .harness_cpu_ns = 600 * UINT64_C(20000), .ceiling = &ceiling,
                        .crypto_inside = true, .inside_open_us = 70.0, .inside_sign_us = 30.0,
                        .inside_open_n = 75, .inside_sign_n = 74};
  return r;
}

Test(bench_report, json_parses_back_with_the_figures_of_the_run) {
  struct fx_load_stats *st = real_run();
  struct fx_report r = report_of(st);
  const char *path = temp_path(".json");
  cr_assert_eq(fx_report_write_json(&r, path), 0);
  json_error_t jerr;
  json_t *j = json_load_file(path, 0, &jerr);
  cr_assert_not_null(j, "JSON does not parse: %s", jerr.text);
  cr_assert_str_eq(json_string_value(json_object_get(j, "workload")), "ingest");
  cr_assert_str_eq(json_string_value(json_object_get(j, "mode")), "open");
  cr_assert_eq(num(j, "rate"), 400);
  cr_assert_eq(num(j, "sent"), 600);
  cr_assert_eq(num(j, "ok"), 600);
  cr_assert_eq(num(j, "status.200"), 600);
  cr_assert_eq(num(j, "errors.timeout"), 0);
  cr_assert_eq(num(j, "errors.connect"), 0);
  cr_assert_eq(num(j, "latency_us.http_200.count"), 600);
  double p99 = (double)fx_hist_percentile(&st->lat, 99) / 1000;
  cr_assert_float_eq(num(j, "latency_us.http_200.p99"), round(p99 * 10) / 10, 1e-9);
  cr_assert_float_eq(num(j, "latency_us.http_200.max"), round(st->lat.max_ns / 100.0) / 10, 1e-9);
  cr_assert_float_eq(num(j, "throughput_per_s"), round(fx_report_throughput(&r) * 10) / 10, 1e-9);
  cr_assert_float_eq(num(j, "cpu.platform_us_per_msg"), 150.0, 1e-9);
  cr_assert_float_eq(num(j, "cpu.harness_us_per_msg"), 20.0, 1e-9);
  cr_assert_float_eq(num(j, "ceiling.pair_us"), 124.0, 1e-9);
  cr_assert_float_eq(num(j, "ceiling.platform_ratio"), 1.21, 1e-9); /* 150 / 124 */
  cr_assert_float_eq(num(j, "ceiling.busy_pair_us"), 150.0, 1e-9);
  cr_assert_eq(num(j, "ceiling.busy_threads"), 2);
  cr_assert_float_eq(num(j, "ceiling.platform_ratio_busy"), 1.0, 1e-9); /* 150 / 150 */
  cr_assert_float_eq(num(j, "cpu.crypto_inside.pair_us"), 100.0, 1e-9);
  cr_assert_float_eq(num(j, "cpu.crypto_inside.platform_ratio"), 1.5, 1e-9); /* 150 / (70 + 30) */
  cr_assert_eq(num(j, "cpu.crypto_inside.open_samples"), 75);
  cr_assert_eq(num(j, "cpu.crypto_inside.sign_samples"), 74);
  json_t *series = json_object_get(j, "series");
  cr_assert_eq(json_array_size(series), st->n_series);
  double ok_sum = 0;
  for (size_t i = 0; i < json_array_size(series); i++)
    ok_sum += json_number_value(json_object_get(json_array_get(series, i), "ok"));
  cr_assert_eq(ok_sum, 600, "the series adds up to the run");
  cr_assert_null(json_object_get(j, "async"), "no async section without async responses");
  json_decref(j);
  unlink(path);
  fx_load_stats_free(st);
}

static xmlDocPtr parse_svg(const struct fx_report *r) {
  const char *path = temp_path(".svg");
  cr_assert_eq(fx_report_write_svg(r, path), 0);
  xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
  unlink(path);
  cr_assert_not_null(doc, "SVG is not well-formed XML");
  xmlNodePtr root = xmlDocGetRootElement(doc);
  cr_assert_str_eq((const char *)root->name, "svg");
  cr_assert_str_eq((const char *)root->ns->href, "http://www.w3.org/2000/svg");
  return doc;
}

static int count_named(xmlNodePtr n, const char *name) {
  int k = 0;
  for (; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      k += (strcmp((const char *)n->name, name) == 0) + count_named(n->children, name);
  return k;
}

Test(bench_report, svg_is_well_formed_with_a_curve_per_figure) {
  struct fx_load_stats *st = real_run();
  struct fx_report r = report_of(st);
  r.workload = "odd <name> & \"quotes\"";
  xmlDocPtr doc = parse_svg(&r);
  xmlNodePtr root = xmlDocGetRootElement(doc);
  cr_assert_eq(count_named(root, "polyline"), 6, "200s, errors, p50, p99, p99.9, max");
  xmlChar *text = xmlNodeGetContent(root);
  cr_assert(strstr((const char *)text, "odd <name> & \"quotes\"") != NULL, "title lost its text");
  xmlFree(text);
  xmlFreeDoc(doc);
  fx_load_stats_free(st);
}

Test(bench_report, svg_of_an_empty_run_is_still_well_formed) {
  struct fx_load_stats *st = calloc(1, sizeof *st);
  fx_hist_reset(&st->lat);
  struct fx_report r = report_of(st);
  xmlDocPtr doc = parse_svg(&r);
  xmlFreeDoc(doc);
  free(st);
}

Test(bench_report, table_names_every_figure) {
  struct fx_load_stats *st = real_run();
  struct fx_report r = report_of(st);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fx_report_print(f, &r);
  fclose(f);
  const char *want[] = {"open loop 400/s", "200: 600", "p99.9", "HTTP 200", "timeout 0",
                        "platform 150.0 µs/msg", "harness 20.0 µs/msg", "= 124.0 µs/message",
                        "ceiling = 1.21", "on 2 cores at once = 150.0 µs/message (1.21× alone)",
                        "platform CPU / it = 1.00", "test machine",
                        "open 70.0 µs + sign 30.0 µs = 100.0 µs/message", "75 + 74 calls sampled",
                        "platform CPU / it = 1.50", "0.81× the ceiling"};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    cr_assert(strstr(buf, want[i]) != NULL, "table lacks '%s':\n%s", want[i], buf);
  free(buf);
  fx_load_stats_free(st);
}

Test(bench_report, progress_stays_silent_off_a_terminal) {
  struct fx_load_stats *st = calloc(1, sizeof *st);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fx_report_progress(f, st, 0);
  fx_report_progress_end(f);
  fclose(f);
  cr_assert_eq(len, 0, "progress written to a non-terminal");
  free(buf);
  free(st);
}

Test(bench_report, crypto_inside_is_the_mean_between_two_scrapes) {
  const char *before = "# TYPE flexd_crypto_cpu_seconds histogram\n"
                       "flexd_crypto_cpu_seconds_sum{op=\"open\"} 0.5\n"
                       "flexd_crypto_cpu_seconds_count{op=\"open\"} 10\n"
                       "flexd_crypto_cpu_seconds_sum{op=\"sign\"} 0.25\n"
                       "flexd_crypto_cpu_seconds_count{op=\"sign\"} 10\n";
  const char *after = "flexd_crypto_cpu_seconds_sum{op=\"open\"} 0.512\n"
                      "flexd_crypto_cpu_seconds_count{op=\"open\"} 110\n"
                      "flexd_crypto_cpu_seconds_sum{op=\"sign\"} 0.2548\n"
                      "flexd_crypto_cpu_seconds_count{op=\"sign\"} 170\n";
  struct fx_crypto_inside a, b;
  cr_assert_eq(fx_scrape_crypto_parse(before, &a), 0);
  cr_assert_eq(fx_scrape_crypto_parse(after, &b), 0);
  double open_us, sign_us;
  uint64_t on, sn;
  cr_assert(fx_crypto_inside_mean(&a, &b, &open_us, &sign_us, &on, &sn));
  cr_assert_eq(on, 100);
  cr_assert_eq(sn, 160);
  cr_assert_float_eq(open_us, 120.0, 1e-6); /* 12 ms over 100 calls */
  cr_assert_float_eq(sign_us, 30.0, 1e-6);  /* 4.8 ms over 160 */
  cr_assert(!fx_crypto_inside_mean(&b, &b, &open_us, &sign_us, &on, &sn), "no calls in between: no mean");
  cr_assert_eq(fx_scrape_crypto_parse("flexd_crypto_cpu_seconds_sum{op=\"open\"} 1\n", &a), -1,
               "a scrape without every series is refused");
}
