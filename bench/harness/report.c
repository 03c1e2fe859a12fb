/* report.c — the terminal table, the JSON document and the progress line of a run
 * (the SVG plot is in report_svg.c). Latencies are shown in microseconds. */
#include "bench/harness/report.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static double us(uint64_t ns) { return (double)ns / 1000.0; }
static double round1(double x) { return round(x * 10.0) / 10.0; }

static void cpu_model(char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon) {
      snprintf(buf, cap, "%s", colon + 2);
      buf[strcspn(buf, "\n")] = '\0';
      break;
    }
  }
  fclose(f);
}

void fx_report_machine(char *buf, size_t cap) {
  struct utsname u;
  char model[200];
  cpu_model(model, sizeof model);
  if (uname(&u) != 0) memset(&u, 0, sizeof u);
  snprintf(buf, cap, "%s %s %s, %ld CPUs%s%s", u.sysname, u.release, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN), model[0] ? ", " : "", model);
}

double fx_report_window_s(const struct fx_report *r) {
  const struct fx_load_stats *st = r->load;
  return st->window_end_ns > st->window_start_ns
             ? (double)(st->window_end_ns - st->window_start_ns) / 1e9
             : 0.0;
}

double fx_report_throughput(const struct fx_report *r) {
  double w = fx_report_window_s(r);
  return w > 0 ? (double)r->load->ok / w : 0.0;
}

/* End to end: asynchronous responses per second, from the window's opening to the last. */
static double async_throughput(const struct fx_report *r) {
  uint64_t start = r->load->window_start_ns;
  if (r->async == NULL || r->async_last_ns <= start) return 0.0;
  return (double)r->async->total / ((double)(r->async_last_ns - start) / 1e9);
}

static double per_msg(uint64_t ns, uint64_t msgs) { return msgs ? (double)ns / (double)msgs : 0.0; }

/* ---- the table ---- */

static void print_lat(FILE *f, const char *name, const struct fx_hist *h) {
  struct fx_lat_summary s;
  fx_hist_summary(h, &s);
  fprintf(f, "  %-12s %10" PRIu64 " %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, s.count, us(s.p50),
          us(s.p90), us(s.p99), us(s.p999), us(s.max));
}

static void print_outcomes(FILE *f, const struct fx_load_stats *st) {
  fprintf(f, "statuses    ");
  bool any = false;
  for (int i = 100; i < 600; i++)
    if (st->status[i]) {
      fprintf(f, " %d: %" PRIu64, i, st->status[i]);
      any = true;
    }
  fprintf(f, "%s\nerrors      ", any ? "" : " none");
  for (int e = 0; e < FX_LOAD_ERR_COUNT; e++)
    fprintf(f, " %s %" PRIu64, fx_load_err_name((enum fx_load_err)e), st->errors[e]);
  fprintf(f, "   unsent %" PRIu64 "\n", st->unsent);
}

/* Missing = expected but neither matched nor answered wrongly. */
static uint64_t async_missing(const struct fx_report *r) {
  const struct fx_async *t = r->async_track;
  uint64_t got = t->matched + t->wrong_outcome;
  return r->async_expected > got ? r->async_expected - got : 0;
}

static void print_async_track(FILE *f, const struct fx_report *r) {
  const struct fx_async *t = r->async_track;
  if (t == NULL) return;
  fprintf(f, "async        received %" PRIu64 "  as expected %" PRIu64 "  wrong outcome %" PRIu64
             "  bad signature %" PRIu64 "  unmatched %" PRIu64 "  duplicates %" PRIu64
             "  dropped %" PRIu64 "  missing %" PRIu64,
          t->received, t->matched, t->wrong_outcome, t->bad_signature, t->unmatched,
          t->duplicates, t->dropped, async_missing(r));
  if (t->foreign) fprintf(f, "  flood's %" PRIu64, t->foreign);
  fputc('\n', f);
}

/* "12.3 µs/msg (0.45 s)", or just the total when nothing was answered 200. */
static void print_cpu_one(FILE *f, const char *who, uint64_t ns, uint64_t msgs) {
  if (msgs)
    fprintf(f, "  %s %.1f µs/msg (%.2f s)", who, per_msg(ns, msgs) / 1e3, (double)ns / 1e9);
  else
    fprintf(f, "  %s %.2f s, no 200s to divide by", who, (double)ns / 1e9);
}

/* The thread's entry at the window's start; NULL for a thread started since. */
static const struct fx_cpu_thread *thread_before(const struct fx_cpu_threads *t0, long tid) {
  for (unsigned i = 0; i < t0->n; i++)
    if (t0->t[i].tid == tid) return &t0->t[i];
  return NULL;
}

/* "threads  flexd 30.1+17.0  fx-worker 70.3+1.2 ... µs/msg (user+system)":
 * threads alive at both ends of the window, in tid order. */
static void print_threads(FILE *f, const struct fx_report *r, uint64_t msgs) {
  if (r->threads0 == NULL || r->threads1 == NULL || msgs == 0) return;
  fprintf(f, "threads     ");
  for (unsigned i = 0; i < r->threads1->n; i++) {
    const struct fx_cpu_thread *b = &r->threads1->t[i], *a = thread_before(r->threads0, b->tid);
    if (a == NULL) continue;
    fprintf(f, "  %s %.1f+%.1f", b->name, per_msg(b->user_ns - a->user_ns, msgs) / 1e3,
            per_msg(b->sys_ns - a->sys_ns, msgs) / 1e3);
  }
  fprintf(f, " µs/msg (user+system)\n");
}

/* "crypto inside  open 61.0 µs + sign 27.5 µs = 88.5 µs/message (thread CPU, ...)" */
static void print_inside(FILE *f, const struct fx_report *r) {
  if (!r->crypto_inside) return;
  double pair = r->inside_open_us + r->inside_sign_us;
  fprintf(f, "crypto inside flexd  open %.1f µs + sign %.1f µs = %.1f µs/message (its workers' thread CPU, "
             "%" PRIu64 " + %" PRIu64 " calls sampled)", r->inside_open_us, r->inside_sign_us, pair,
          r->inside_open_n, r->inside_sign_n);
  if (r->platform_pid > 0 && r->load->ok > 0 && pair > 0)
    fprintf(f, "; platform CPU / it = %.2f", per_msg(r->platform_cpu_ns, r->load->ok) / 1e3 / pair);
  if (r->ceiling && r->ceiling->pair_ns > 0) fprintf(f, "; %.2f× the ceiling", pair * 1e3 / r->ceiling->pair_ns);
  fputc('\n', f);
}

static void print_cpu(FILE *f, const struct fx_report *r) {
  uint64_t msgs = r->load->ok;
  double plat = per_msg(r->platform_cpu_ns, msgs);
  fprintf(f, "CPU        ");
  if (r->platform_pid > 0) {
    print_cpu_one(f, "platform", r->platform_cpu_ns, msgs);
    fprintf(f, " [pid %ld]", r->platform_pid);
  }
  print_cpu_one(f, "harness", r->harness_cpu_ns, msgs);
  fputc('\n', f);
  print_threads(f, r, msgs);
  print_inside(f, r);
  if (r->ceiling == NULL) return;
  const struct fx_ceiling *c = r->ceiling;
  fprintf(f, "ceiling      open %.1f µs (%zu B) + sign %.1f µs (%zu B) = %.1f µs/message, "
             "%.0f msg/s per core (%u iterations)\n",
          c->open_ns / 1e3, c->inbound_len, c->sign_ns / 1e3, c->response_len, c->pair_ns / 1e3,
          c->pairs_per_core_s, c->iterations);
  if (r->platform_pid > 0 && c->pair_ns > 0 && msgs > 0)
    fprintf(f, "ratio        platform CPU / ceiling = %.2f (target <= 1.5)\n", plat / c->pair_ns);
  if (c->busy_pair_ns > 0) {
    fprintf(f, "ceiling busy the same pair on %u cores at once = %.1f µs/message (%.2f× alone)", c->busy_threads,
            c->busy_pair_ns / 1e3, c->pair_ns > 0 ? c->busy_pair_ns / c->pair_ns : 0);
    if (r->platform_pid > 0 && msgs > 0) fprintf(f, "; platform CPU / it = %.2f", plat / c->busy_pair_ns);
    fputc('\n', f);
  }
}



void fx_report_print(FILE *f, const struct fx_report *r) {
  const struct fx_load_stats *st = r->load;
  fprintf(f, "flexd-bench %s -> %s, ", r->workload, r->target);
  if (r->rate)
    fprintf(f, "open loop %" PRIu64 "/s", r->rate);
  else
    fprintf(f, "closed loop");
  fprintf(f, ", %u connections\n", r->connections);
  if (r->machine) fprintf(f, "machine      %s\n", r->machine);
  fprintf(f, "window       %.2f s   sent %" PRIu64 "   answered %" PRIu64 "   200 %" PRIu64 "\n",
          fx_report_window_s(r), st->sent, st->finished, st->ok);
  fprintf(f, "throughput   %.1f msg/s (HTTP 200)", fx_report_throughput(r));
  if (r->async) fprintf(f, "   %.1f msg/s end to end", async_throughput(r));
  fprintf(f, "\nlatency µs        count       p50       p90       p99     p99.9       max\n");
  print_lat(f, "HTTP 200", &st->lat);
  if (r->async) {
    print_lat(f, "async", r->async);
    fprintf(f, "  async responses %" PRIu64 " of %" PRIu64 " expected\n", r->async->total,
            r->async_expected);
  }
  print_async_track(f, r);
  print_outcomes(f, st);
  print_cpu(f, r);
}

/* ---- JSON ---- */

static json_t *lat_json(const struct fx_hist *h) {
  struct fx_lat_summary s;
  fx_hist_summary(h, &s);
  return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)s.count,
                   "min", round1(us(s.min)), "mean", round1(s.mean / 1e3), "p50", round1(us(s.p50)),
                   "p90", round1(us(s.p90)), "p99", round1(us(s.p99)), "p99_9", round1(us(s.p999)),
                   "max", round1(us(s.max)));
}

static json_t *outcomes_json(const struct fx_load_stats *st, json_t **errors) {
  json_t *status = json_object();
  *errors = json_object();
  for (int i = 100; i < 600; i++)
    if (st->status[i]) {
      char k[8];
      snprintf(k, sizeof k, "%d", i);
      json_object_set_new(status, k, json_integer((json_int_t)st->status[i]));
    }
  for (int e = 0; e < FX_LOAD_ERR_COUNT; e++)
    json_object_set_new(*errors, fx_load_err_name((enum fx_load_err)e),
                        json_integer((json_int_t)st->errors[e]));
  return status;
}

static json_t *series_json(const struct fx_load_stats *st) {
  json_t *a = json_array();
  for (size_t i = 0; i < st->n_series; i++) {
    const struct fx_load_point *p = &st->series[i];
    json_array_append_new(
        a, json_pack("{s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "t",
                     round(p->t_s * 1e3) / 1e3, "dt", round(p->dt_s * 1e3) / 1e3, "completed", (json_int_t)p->completed, "ok", (json_int_t)p->ok, "errors",
                     (json_int_t)p->errors, "p50", round1(us(p->lat.p50)), "p99",
                     round1(us(p->lat.p99)), "p99_9", round1(us(p->lat.p999)), "max",
                     round1(us(p->lat.max))));
  }
  return a;
}

/* [{"name", "tid", "user_us_per_msg", "system_us_per_msg"}], as the text's threads line. */
static json_t *threads_json(const struct fx_report *r, uint64_t msgs) {
  json_t *a = json_array();
  for (unsigned i = 0; i < r->threads1->n; i++) {
    const struct fx_cpu_thread *b = &r->threads1->t[i], *t0 = thread_before(r->threads0, b->tid);
    if (t0 == NULL) continue;
    json_array_append_new(a, json_pack("{s:s, s:I, s:f, s:f}", "name", b->name, "tid", (json_int_t)b->tid,
                                       "user_us_per_msg", round1(per_msg(b->user_ns - t0->user_ns, msgs) / 1e3),
                                       "system_us_per_msg", round1(per_msg(b->sys_ns - t0->sys_ns, msgs) / 1e3)));
  }
  return a;
}

static json_t *cpu_json(const struct fx_report *r) {
  uint64_t msgs = r->load->ok;
  json_t *cpu = json_pack("{s:f, s:f}", "harness_total_s", (double)r->harness_cpu_ns / 1e9,
                          "harness_us_per_msg", round1(per_msg(r->harness_cpu_ns, msgs) / 1e3));
  if (r->platform_pid > 0) {
    json_object_set_new(cpu, "platform_pid", json_integer(r->platform_pid));
    json_object_set_new(cpu, "platform_total_s", json_real((double)r->platform_cpu_ns / 1e9));
    json_object_set_new(cpu, "platform_us_per_msg",
                        json_real(round1(per_msg(r->platform_cpu_ns, msgs) / 1e3)));
    if (r->threads0 && r->threads1 && msgs)
      json_object_set_new(cpu, "platform_threads", threads_json(r, msgs));
  }
  if (r->crypto_inside) {
    double pair = r->inside_open_us + r->inside_sign_us;
    json_t *in = json_pack("{s:f, s:f, s:f, s:I, s:I}", "open_us", round1(r->inside_open_us), "sign_us",
                           round1(r->inside_sign_us), "pair_us", round1(pair), "open_samples",
                           (json_int_t)r->inside_open_n, "sign_samples", (json_int_t)r->inside_sign_n);
    if (r->platform_pid > 0 && msgs > 0 && pair > 0)
      json_object_set_new(in, "platform_ratio", json_real(round(per_msg(r->platform_cpu_ns, msgs) / 1e3 / pair * 100.0) / 100.0));
    json_object_set_new(cpu, "crypto_inside", in);
  }
  return cpu;
}

static json_t *ceiling_json(const struct fx_report *r) {
  const struct fx_ceiling *c = r->ceiling;
  json_t *j = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "inbound_bytes",
                        (json_int_t)c->inbound_len, "response_bytes", (json_int_t)c->response_len,
                        "iterations", (json_int_t)c->iterations, "open_us", round1(c->open_ns / 1e3),
                        "sign_us", round1(c->sign_ns / 1e3), "pair_us", round1(c->pair_ns / 1e3),
                        "msgs_per_core_s", round(c->pairs_per_core_s));
  if (r->platform_pid > 0 && c->pair_ns > 0 && r->load->ok > 0)
    json_object_set_new(j, "platform_ratio",
                        json_real(round(per_msg(r->platform_cpu_ns, r->load->ok) / c->pair_ns *
                                        100.0) / 100.0));
  if (c->busy_pair_ns > 0) {
    json_object_set_new(j, "busy_threads", json_integer(c->busy_threads));
    json_object_set_new(j, "busy_pair_us", json_real(round1(c->busy_pair_ns / 1e3)));
    if (r->platform_pid > 0 && r->load->ok > 0)
      json_object_set_new(j, "platform_ratio_busy",
                          json_real(round(per_msg(r->platform_cpu_ns, r->load->ok) / c->busy_pair_ns * 100.0) /
                                    100.0));
  }
  return j;
}

static json_t *async_track_json(const struct fx_report *r) {
  const struct fx_async *t = r->async_track;
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "foreign", (json_int_t)t->foreign, "received",
                   (json_int_t)t->received, "as_expected", (json_int_t)t->matched,
                   "wrong_outcome", (json_int_t)t->wrong_outcome, "bad_signature",
                   (json_int_t)t->bad_signature, "unmatched", (json_int_t)t->unmatched,
                   "duplicates", (json_int_t)t->duplicates, "dropped", (json_int_t)t->dropped,
                   "missing", (json_int_t)async_missing(r));
}

json_t *fx_report_json(const struct fx_report *r) {
  const struct fx_load_stats *st = r->load;
  json_t *errors;
  json_t *status = outcomes_json(st, &errors);
  json_t *lat = json_pack("{s:o}", "http_200", lat_json(&st->lat));
  if (r->async) json_object_set_new(lat, "async", lat_json(r->async));
  json_t *j = json_pack(
      "{s:s, s:s, s:s, s:I, s:i, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:o, s:o, s:o}",
      "workload", r->workload, "target", r->target, "mode", r->rate ? "open" : "closed", "rate",
      (json_int_t)r->rate, "connections", (int)r->connections, "count_limit",
      (json_int_t)r->count_limit, "duration_limit_s", r->duration_limit_s, "window_s",
      fx_report_window_s(r), "sent", (json_int_t)st->sent, "answered", (json_int_t)st->finished,
      "ok", (json_int_t)st->ok, "unsent", (json_int_t)st->unsent, "throughput_per_s",
      round1(fx_report_throughput(r)), "status", status, "errors", errors, "latency_us", lat,
      "cpu", cpu_json(r), "series", series_json(st));
  if (j == NULL) return NULL;
  if (r->machine) json_object_set_new(j, "machine", json_string(r->machine));
  if (r->ceiling) json_object_set_new(j, "ceiling", ceiling_json(r));
  if (r->async) {
    json_object_set_new(j, "async_expected", json_integer((json_int_t)r->async_expected));
    json_object_set_new(j, "async_received", json_integer((json_int_t)r->async->total));
    json_object_set_new(j, "end_to_end_per_s", json_real(round1(async_throughput(r))));
  }
  if (r->async_track) json_object_set_new(j, "async_outcomes", async_track_json(r));
  return j;
}

int fx_report_write_json(const struct fx_report *r, const char *path) {
  json_t *j = fx_report_json(r);
  if (j == NULL) return -1;
  int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
  json_decref(j);
  return rc == 0 ? 0 : -1;
}

/* ---- progress ---- */

void fx_report_progress(FILE *f, const struct fx_load_stats *st, uint64_t now_ns) {
  if (!isatty(fileno(f))) return;
  double t = now_ns > st->window_start_ns ? (double)(now_ns - st->window_start_ns) / 1e9 : 0;
  const struct fx_load_point *last = st->n_series ? &st->series[st->n_series - 1] : NULL;
  uint64_t errs = 0;
  for (int e = 0; e < FX_LOAD_ERR_COUNT; e++) errs += st->errors[e];
  fprintf(f, "\r\033[K[%6.1f s] sent %" PRIu64 "  200 %" PRIu64 "  errors %" PRIu64
             "  last second %" PRIu64 "/s p99 %.1f µs",
          t, st->sent, st->ok, errs, last ? last->ok : 0, last ? us(last->lat.p99) : 0.0);
  fflush(f);
}

void fx_report_progress_end(FILE *f) {
  if (!isatty(fileno(f))) return;
  fprintf(f, "\r\033[K");
  fflush(f);
}
