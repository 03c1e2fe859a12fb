/* report.h — what a bench run found, for people (terminal table, SVG plot, progress
 * line) and for machines (JSON).
 *
 * A report only points at the run's data (load statistics, histograms); it owns
 * nothing. Per-message figures divide by the messages answered 200: CPU time per
 * message is the platform's (from /proc) and the harness's own over the window, set
 * beside the ceiling (crypto_sign_open + crypto_sign) measured in the same run, and
 * beside that pair as flexd itself ran it under the load (its sampled thread CPU). */
#ifndef FX_BENCH_REPORT_H
#define FX_BENCH_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/harness/async.h"
#include "bench/harness/ceiling.h"
#include "bench/harness/cpu.h"
#include "bench/harness/hist.h"
#include "bench/harness/load.h"

struct fx_report {
  /* what ran */
  const char *workload;
  const char *target; /* "host:port" */
  uint64_t rate;      /* 0 = closed loop */
  unsigned connections;
  uint64_t count_limit;
  double duration_limit_s;
  const char *machine; /* fx_report_machine(), or NULL */
  /* what happened */
  const struct fx_load_stats *load;
  const struct fx_hist *async; /* intended send → response at the sink; NULL = none */
  const struct fx_async *async_track; /* how they matched their requests; NULL = not shown */
  uint64_t async_expected;
  uint64_t async_last_ns; /* arrival of the last asynchronous response (uv_hrtime) */
  /* CPU over the window */
  long platform_pid; /* 0 = not measured */
  uint64_t platform_cpu_ns;
  uint64_t harness_cpu_ns;
  /* the platform's threads at the window's start and end; NULL = not shown */
  const struct fx_cpu_threads *threads0, *threads1;
  const struct fx_ceiling *ceiling; /* NULL = not measured */
  /* the same pair as flexd ran it in the window, from its sampled thread CPU
   * (scrape.h): mean µs per call and the calls sampled; false = not known */
  bool crypto_inside;
  double inside_open_us, inside_sign_us;
  uint64_t inside_open_n, inside_sign_n;
};

/* "Linux 6.1.0 x86_64, 2 CPUs, <model name>" into `buf`. */
void fx_report_machine(char *buf, size_t cap);

double fx_report_window_s(const struct fx_report *r);
double fx_report_throughput(const struct fx_report *r); /* 200s per second of window */

/* The readable table. */
void fx_report_print(FILE *f, const struct fx_report *r);

/* The machine-readable form (a new reference) and writing it to `path`. */
json_t *fx_report_json(const struct fx_report *r);
int fx_report_write_json(const struct fx_report *r, const char *path);

/* An SVG of throughput per second and latency percentiles per second over the run. */
int fx_report_svg(FILE *f, const struct fx_report *r);
int fx_report_write_svg(const struct fx_report *r, const char *path);

/* One \r-updated progress line on `f` (only when `f` is a terminal; else nothing). */
void fx_report_progress(FILE *f, const struct fx_load_stats *st, uint64_t now_ns);
void fx_report_progress_end(FILE *f);

#endif
