/* flexd_bench.c — the flexd-bench command: options, the workload registry, and
 * a hand-over to the run loop (bench/harness/bench.h), which measures every
 * workload the same way. See docs/bench.md.
 *
 * Exit status: 0 every request answered 200 and the workload's checks passed;
 * 1 the run finished with failures (they are in the report); 2 it could not run. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/bench.h"
#include "engine/config.h"

/* Every workload flexd-bench knows. */
static const struct fx_workload *const workloads[] = {
    &fx_workload_post, &fx_workload_sink, &fx_workload_ingest, &fx_workload_mixed,
    &fx_workload_market_day, &fx_workload_flood};

#define MAX_DURATION_S 3600.0
#define MAX_COUNT UINT64_C(100000000)

static void usage(FILE *f) {
  fprintf(f,
          "usage: flexd-bench [options]\n"
          "  -w, --workload NAME      what to send (--list shows them; default post)\n"
          "  -t, --target HOST:PORT   the platform, on loopback only (default 127.0.0.1:8080)\n"
          "  -r, --rate N             open loop at N requests/s (default: closed loop)\n"
          "  -c, --connections K      keep-alive connections = requests in flight (default 4)\n"
          "  -n, --count N            at most N requests (default 10000)\n"
          "  -d, --duration S         window of at most S seconds (default 10, max 3600)\n"
          "      --timeout S          per response, and for late async responses (default 10)\n"
          "  -p, --pid PID            the platform's process: report its CPU time per message\n"
          "      --body FILE          post: the body to send\n"
          "      --body-size BYTES    post/sink: size of a generated body (default 1024)\n"
          "      --json FILE          write the report as JSON\n"
          "      --svg FILE           plot throughput and latency over the run\n"
          "      --no-ceiling         skip the crypto ceiling measurement\n"
          "      --ceiling-iterations N  sign/open pairs for the ceiling (default: >= 0.3 s)\n"
          "  -q, --quiet              no progress line\n"
          "UFTP workloads (ingest, mixed, market-day, flood) spawn flexd themselves; -t and -p do not apply:\n"
          "      --flexd PATH         the flexd binary (default: flexd next to flexd-bench)\n"
          "      --agrs N             simulated AGRs, each with its own keys (default 16)\n"
          "      --isps N             ingest: ISPs per FlexOffer, 4 small, 96 whole day (default 4)\n"
          "      --cps N              market-day: congestion points (default 8); -n counts the\n"
          "                           window's requests, at least 2 x agrs x cps\n"
          "      --clear MODE         market-day: time (the FlexRequests expire after the window and\n"
          "                           the platform's timer clears; default) or operator (POST .../clear)\n"
          "      --settle             market-day: a settlement run on request after the day\n"
          "      --workers N          flexd's worker threads (default: one per core)\n"
          "      --nosync             flexd's store without fsync (default: durable commits)\n"
          "      --keep               keep flexd's directory (store, config, log)\n"
          "      --flood-connections K  flood: AGR 0's connections, closed loop (default 8;\n"
          "                           0 = no flood, the baseline); the others send at --rate\n"
          "      --list               list the workloads\n");
}

static void list(void) {
  for (size_t i = 0; i < sizeof workloads / sizeof *workloads; i++)
    printf("%-12s %s\n", workloads[i]->name, workloads[i]->summary);
}

static const struct fx_workload *find(const char *name) {
  for (size_t i = 0; i < sizeof workloads / sizeof *workloads; i++)
    if (strcmp(workloads[i]->name, name) == 0) return workloads[i];
  return NULL;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int parse_secs(const char *s, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0) || v > hi) return -1;
  *out = v;
  return 0;
}

enum { O_TIMEOUT = 256, O_BODY, O_BODY_SIZE, O_JSON, O_SVG, O_NO_CEILING, O_CEIL_IT, O_LIST,
       O_FLEXD, O_AGRS, O_ISPS, O_WORKERS, O_NOSYNC, O_KEEP, O_CPS, O_CLEAR, O_SETTLE, O_FLOOD };

static const struct option long_opts[] = {
    {"workload", required_argument, 0, 'w'},  {"target", required_argument, 0, 't'},
    {"rate", required_argument, 0, 'r'},      {"connections", required_argument, 0, 'c'},
    {"count", required_argument, 0, 'n'},     {"duration", required_argument, 0, 'd'},
    {"timeout", required_argument, 0, O_TIMEOUT}, {"pid", required_argument, 0, 'p'},
    {"body", required_argument, 0, O_BODY},   {"body-size", required_argument, 0, O_BODY_SIZE},
    {"json", required_argument, 0, O_JSON},   {"svg", required_argument, 0, O_SVG},
    {"no-ceiling", no_argument, 0, O_NO_CEILING},
    {"ceiling-iterations", required_argument, 0, O_CEIL_IT},
    {"quiet", no_argument, 0, 'q'},           {"list", no_argument, 0, O_LIST},
    {"flexd", required_argument, 0, O_FLEXD}, {"agrs", required_argument, 0, O_AGRS},
    {"isps", required_argument, 0, O_ISPS},   {"cps", required_argument, 0, O_CPS},   {"workers", required_argument, 0, O_WORKERS},
    {"nosync", no_argument, 0, O_NOSYNC},     {"keep", no_argument, 0, O_KEEP},
    {"clear", required_argument, 0, O_CLEAR}, {"settle", no_argument, 0, O_SETTLE},
    {"flood-connections", required_argument, 0, O_FLOOD},
    {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};

static int parse_target(const char *s, struct fx_bench_opts *o) {
  return fx_config_split_addr(s, o->host, sizeof o->host, &o->port) == 0 && o->port > 0 ? 0 : -1;
}

/* One option into `o`; -1 names the bad option. */
static int apply(int c, const char *arg, struct fx_bench_opts *o) {
  uint64_t v = 0;
  switch (c) {
  case 'w': o->workload = arg; return 0;
  case 't': return parse_target(arg, o);
  case 'r': return parse_u64(arg, 1, 10000000, &o->rate);
  case 'c': if (parse_u64(arg, 1, 10000, &v)) return -1; o->connections = (unsigned)v; return 0;
  case 'n': return parse_u64(arg, 1, MAX_COUNT, &o->count);
  case 'd': return parse_secs(arg, MAX_DURATION_S, &o->duration_s);
  case O_TIMEOUT: return parse_secs(arg, 600, &o->timeout_s);
  case 'p': if (parse_u64(arg, 1, INT32_MAX, &v)) return -1; o->platform_pid = (long)v; return 0;
  case O_BODY: o->body_file = arg; return 0;
  case O_BODY_SIZE: if (parse_u64(arg, 16, 16u << 20, &v)) return -1; o->body_size = v; return 0;
  case O_JSON: o->json_path = arg; return 0;
  case O_SVG: o->svg_path = arg; return 0;
  case O_NO_CEILING: o->no_ceiling = true; return 0;
  case O_CEIL_IT:
    if (parse_u64(arg, 16, 1000000, &v)) return -1;
    o->ceiling_iterations = (unsigned)v;
    return 0;
  case 'q': o->quiet = true; return 0;
  case O_FLEXD: o->flexd_path = arg; return 0;
  case O_AGRS: if (parse_u64(arg, 1, 10000, &v)) return -1; o->agrs = (unsigned)v; return 0;
  case O_ISPS: if (parse_u64(arg, 1, 100, &v)) return -1; o->isps = (unsigned)v; return 0;
  case O_CPS: if (parse_u64(arg, 1, 10000, &v)) return -1; o->cps = (unsigned)v; return 0;
  case O_WORKERS: if (parse_u64(arg, 0, 64, &v)) return -1; o->workers = (unsigned)v; return 0;
  case O_NOSYNC: o->nosync = true; return 0;
  case O_KEEP: o->keep = true; return 0;
  case O_SETTLE: o->settle = true; return 0;
  case O_FLOOD: if (parse_u64(arg, 0, 256, &v)) return -1; o->flood_connections = (unsigned)v; return 0;
  case O_CLEAR:
    if (strcmp(arg, "time") && strcmp(arg, "operator")) return -1;
    o->clear_operator = !strcmp(arg, "operator");
    return 0;
  default: return -1;
  }
}

int main(int argc, char **argv) {
  struct fx_bench_opts o;
  fx_bench_opts_defaults(&o);
  o.workload = "post";
  int c;
  while ((c = getopt_long(argc, argv, "w:t:r:c:n:d:p:qh", long_opts, NULL)) != -1) {
    if (c == 'h') return usage(stdout), 0;
    if (c == O_LIST) return list(), 0;
    if (c == '?' || apply(c, optarg, &o) != 0) {
      if (c != '?') fprintf(stderr, "flexd-bench: bad value '%s'\n", optarg ? optarg : "");
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "flexd-bench: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  const struct fx_workload *w = find(o.workload);
  if (w == NULL) {
    fprintf(stderr, "flexd-bench: no workload '%s' (--list shows them)\n", o.workload);
    return 2;
  }
  char err[256] = "";
  int rc = fx_bench_execute(w, &o, stdout, err, sizeof err);
  if (rc < 0) {
    fprintf(stderr, "flexd-bench: %s\n", err);
    return 2;
  }
  return rc;
}
