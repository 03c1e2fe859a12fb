/* bench.c — the run loop every workload goes through (the stages are in bench.h). */
#include "bench/harness/bench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness/cpu.h"
#include "bench/harness/report.h"
#include "bench/harness/scrape.h"

#define NS_PER_S 1e9

void fx_bench_opts_defaults(struct fx_bench_opts *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->host, sizeof o->host, "127.0.0.1");
  o->port = 8080;
  o->connections = 4;
  o->count = 10000;
  o->duration_s = 10;
  o->timeout_s = 10;
  o->body_size = 1024;
  o->agrs = 16;
  o->isps = 4;
  o->cps = 8;
  o->flood_connections = 8;
}

struct cpu_window {
  uint64_t platform0, platform1, self0, self1;
  bool platform_ok, threads_ok;
  struct fx_cpu_threads threads0, threads1;
};

static void cpu_begin(struct cpu_window *c, long pid) {
  memset(c, 0, sizeof *c);
  c->platform_ok = pid > 0 && fx_cpu_process_ns((pid_t)pid, &c->platform0) == 0;
  c->threads_ok = c->platform_ok && fx_cpu_threads_read((pid_t)pid, &c->threads0) == 0;
  fx_cpu_self_ns(&c->self0);
}

static void cpu_end(struct cpu_window *c, long pid) {
  if (c->platform_ok) c->platform_ok = fx_cpu_process_ns((pid_t)pid, &c->platform1) == 0;
  c->threads_ok = c->threads_ok && c->platform_ok && fx_cpu_threads_read((pid_t)pid, &c->threads1) == 0;
  fx_cpu_self_ns(&c->self1);
}

static void on_tick(void *user, const struct fx_load_stats *st) {
  const struct fx_bench_run *run = user;
  if (!run->opts->quiet) fx_report_progress(stderr, st, uv_hrtime());
}

static void forward_response(void *user, uint64_t index, int status, uint64_t intended,
                             uint64_t done) {
  struct fx_bench_run *run = user;
  if (run->on_response) run->on_response(run->state, index, status, intended, done);
}

static int measure_ceiling(const struct fx_bench_run *run, struct fx_ceiling *c) {
  struct fx_ceiling_cfg cc = {.inbound_len = run->inbound_len ? run->inbound_len : 1,
                              .response_len = run->response_len ? run->response_len : 1,
                              .min_iterations = run->opts->ceiling_iterations};
  if (run->opts->ceiling_iterations) cc.max_iterations = run->opts->ceiling_iterations;
  if (fx_ceiling_measure(&cc, c) != 0) return -1;
  /* The second yardstick: the same pair on every core at once (ceiling.h). */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  c->busy_pair_ns = 0, c->busy_threads = 0;
  if (cores > 1) fx_ceiling_measure_busy(&cc, (unsigned)(cores < 64 ? cores : 64), c);
  return 0;
}

/* -d, shortened when the workload needs the window closed by a deadline. */
static uint64_t window_ns(const struct fx_bench_run *run) {
  uint64_t d = (uint64_t)(run->opts->duration_s * NS_PER_S), now = uv_hrtime();
  if (run->window_end_ns == 0) return d;
  uint64_t left = run->window_end_ns > now ? run->window_end_ns - now : 1;
  return left < d ? left : d;
}

static int drive(struct fx_bench_run *run, struct fx_load_stats **st, char *err, size_t errlen) {
  const struct fx_bench_opts *o = run->opts;
  struct fx_load_cfg lc = {.host = run->host, .port = run->port, .connections = o->connections,
                           .rate = o->rate, .count = o->count,
                           .duration_ns = window_ns(run),
                           .timeout_ns = (uint64_t)(o->timeout_s * NS_PER_S),
                           .reqs = run->reqs, .n_reqs = run->n_reqs,
                           .on_response = forward_response, .on_tick = on_tick, .user = run};
  int rc = fx_load_run(run->loop, &lc, st, err, errlen);
  if (!o->quiet) fx_report_progress_end(stderr);
  return rc;
}

static void write_outputs(const struct fx_bench_run *run, const struct fx_report *r, FILE *out) {
  fx_report_print(out, r);
  const struct fx_bench_opts *o = run->opts;
  if (o->json_path && fx_report_write_json(r, o->json_path) != 0)
    fprintf(stderr, "flexd-bench: cannot write %s\n", o->json_path);
  if (o->svg_path && fx_report_write_svg(r, o->svg_path) != 0)
    fprintf(stderr, "flexd-bench: cannot write %s\n", o->svg_path);
}

static bool all_good(const struct fx_bench_run *run, const struct fx_load_stats *st) {
  for (int e = 0; e < FX_LOAD_ERR_COUNT; e++)
    if (st->errors[e]) return false;
  if (st->unsent || st->ok != st->sent) return false;
  if (run->async && run->async->total < run->async_expected) return false;
  const struct fx_async *t = run->async_track;
  return t == NULL || (t->unmatched == 0 && t->duplicates == 0 && t->bad_signature == 0 &&
                       t->wrong_outcome == 0 && t->dropped == 0);
}

/* The measured part: window, drain, verify, report. */
static int measure(const struct fx_workload *w, struct fx_bench_run *run, FILE *out, char *err,
                   size_t errlen) {
  struct fx_ceiling ceiling;
  bool have_ceiling = !run->opts->no_ceiling && measure_ceiling(run, &ceiling) == 0;
  struct cpu_window cpu;
  struct fx_load_stats *st = NULL;
  /* flexd's own crypto accounting, read outside the window (its scrape costs
   * the platform CPU that the window must not count). */
  struct fx_crypto_inside in0, in1;
  bool have_inside = run->metrics_port > 0 && fx_scrape_crypto(run->metrics_port, 5, &in0) == 0;
  cpu_begin(&cpu, run->platform_pid);
  if (drive(run, &st, err, errlen) != 0) return -1;
  int rc = 0;
  char werr[256] = "";
  if (w->drain && w->drain(run, werr, sizeof werr) != 0) rc = 1;
  cpu_end(&cpu, run->platform_pid);
  have_inside = have_inside && fx_scrape_crypto(run->metrics_port, 5, &in1) == 0;
  /* What did arrive is checked even when the drain timed out: the report then says
   * which responses are missing and whether the others were right. */
  char verr[256] = "";
  if (w->verify && w->verify(run, verr, sizeof verr) != 0) rc = 1;

  char machine[256], target[128];
  fx_report_machine(machine, sizeof machine);
  snprintf(target, sizeof target, "%s:%d", run->host, run->port);
  struct fx_report r = {
      .workload = w->name, .target = target, .rate = run->opts->rate,
      .connections = run->opts->connections, .count_limit = run->opts->count,
      .duration_limit_s = run->opts->duration_s, .machine = machine, .load = st,
      .async = run->async, .async_track = run->async_track,
      .async_expected = run->async_expected,
      .async_last_ns = run->async_last_ns, .platform_pid = cpu.platform_ok ? run->platform_pid : 0,
      .platform_cpu_ns = cpu.platform1 - cpu.platform0, .harness_cpu_ns = cpu.self1 - cpu.self0,
      .threads0 = cpu.threads_ok ? &cpu.threads0 : NULL, .threads1 = cpu.threads_ok ? &cpu.threads1 : NULL,
      .ceiling = have_ceiling ? &ceiling : NULL};
  r.crypto_inside = have_inside && fx_crypto_inside_mean(&in0, &in1, &r.inside_open_us, &r.inside_sign_us,
                                                          &r.inside_open_n, &r.inside_sign_n);
  write_outputs(run, &r, out);
  if (w->report) w->report(run, out);
  if (werr[0]) fprintf(out, "workload check failed: %s\n", werr);
  if (verr[0]) fprintf(out, "workload check failed: %s\n", verr);
  if (rc == 0 && !all_good(run, st)) rc = 1;
  fx_load_stats_free(st);
  return rc;
}

int fx_bench_execute(const struct fx_workload *w, const struct fx_bench_opts *o, FILE *out,
                     char *err, size_t errlen) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    snprintf(err, errlen, "cannot create an event loop");
    return -1;
  }
  struct fx_bench_run run = {.loop = &loop, .opts = o, .port = o->port,
                             .platform_pid = o->platform_pid};
  snprintf(run.host, sizeof run.host, "%s", o->host);
  int rc = w->prepare(&run, err, errlen);
  if (rc == 0) rc = measure(w, &run, out, err, errlen);
  if (w->cleanup) w->cleanup(&run);
  fx_sink_close(run.sink);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0 && rc == 0) {
    snprintf(err, errlen, "handles left open on the loop");
    rc = -1;
  }
  return rc;
}
