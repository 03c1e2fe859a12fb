/* test_bench_run.c — a whole bench run through the run loop (bench.h): the `sink`
 * workload end to end with its JSON report, the `post` workload's refusals, and the
 * exit verdicts. Bounded: a few hundred requests on loopback. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/harness/bench.h"

static struct fx_bench_opts small_opts(void) {
  struct fx_bench_opts o;
  fx_bench_opts_defaults(&o);
  o.count = 300;
  o.duration_s = 5;
  o.timeout_s = 2;
  o.connections = 2;
  o.quiet = true;
  o.ceiling_iterations = 16;
  return o;
}

static char *run_to_string(const struct fx_workload *w, const struct fx_bench_opts *o, int *rc,
                           char *err, size_t errlen) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  *rc = fx_bench_execute(w, o, f, err, errlen);
  fclose(f);
  return buf;
}

Test(bench_run, sink_workload_runs_end_to_end_and_writes_json) {
  struct fx_bench_opts o = small_opts();
  char path[] = "/tmp/fx-run-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  o.json_path = path;
  int rc;
  char err[256] = "";
  char *out = run_to_string(&fx_workload_sink, &o, &rc, err, sizeof err);
  cr_assert_eq(rc, 0, "run failed (%s):\n%s", err, out);
  cr_assert(strstr(out, "200: 300") != NULL, "%s", out);
  json_error_t jerr;
  json_t *j = json_load_file(path, 0, &jerr);
  cr_assert_not_null(j, "%s", jerr.text);
  cr_assert_str_eq(json_string_value(json_object_get(j, "workload")), "sink");
  cr_assert_eq(json_integer_value(json_object_get(j, "ok")), 300);
  cr_assert_not_null(json_object_get(j, "ceiling"), "the ceiling is measured in the run");
  json_decref(j);
  unlink(path);
  free(out);
}

/* A loopback port with nothing listening: bind, read the port, close. */
static int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

Test(bench_run, post_to_a_closed_port_reports_failure) {
  struct fx_bench_opts o = small_opts();
  o.port = dead_port();
  o.duration_s = 0.3;
  o.no_ceiling = true;
  int rc;
  char err[256] = "";
  char *out = run_to_string(&fx_workload_post, &o, &rc, err, sizeof err);
  cr_assert_eq(rc, 1, "a run without answers is a failure:\n%s", out);
  cr_assert(strstr(out, "connect ") != NULL);
  free(out);
}

Test(bench_run, post_refuses_a_remote_target_before_sending) {
  struct fx_bench_opts o = small_opts();
  snprintf(o.host, sizeof o.host, "192.0.2.1");
  o.no_ceiling = true;
  int rc;
  char err[256] = "";
  char *out = run_to_string(&fx_workload_post, &o, &rc, err, sizeof err);
  cr_assert_eq(rc, -1);
  cr_assert(strstr(err, "loopback") != NULL, "%s", err);
  free(out);
}

Test(bench_run, post_reports_a_missing_body_file) {
  struct fx_bench_opts o = small_opts();
  o.body_file = "/nonexistent/body.xml";
  o.no_ceiling = true;
  int rc;
  char err[256] = "";
  char *out = run_to_string(&fx_workload_post, &o, &rc, err, sizeof err);
  cr_assert_eq(rc, -1);
  cr_assert(strstr(err, "/nonexistent/body.xml") != NULL, "%s", err);
  free(out);
}
