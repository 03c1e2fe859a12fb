/* workload_post.c — the two workloads that need nothing from flexd's codec:
 *
 *   post  POSTs one body (a file, e.g. a pre-signed SignedMessage, or generated
 *         filler) to the target again and again: raw HTTP ingest of any endpoint.
 *   sink  starts a response sink in this process and loads it: the harness measured
 *         against itself, which bounds what it can measure on this machine.
 *
 * Both prepare a single request; the driver sends it `count` times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/bench.h"

#define PATH "/shapeshifter/api/v3/message"
#define TYPICAL_RESPONSE 600 /* bytes of a small UFTP response (DESIGN.md §7) */
#define MAX_BODY (16u << 20)

static int read_file(const char *path, char **body, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "cannot open %s", path);
    return -1;
  }
  char *buf = malloc(MAX_BODY);
  size_t n = buf ? fread(buf, 1, MAX_BODY, f) : 0;
  int bad = buf == NULL || ferror(f) || !feof(f);
  fclose(f);
  if (bad) {
    free(buf);
    snprintf(err, errlen, "cannot read %s (or it is over %u bytes)", path, MAX_BODY);
    return -1;
  }
  *body = buf;
  *len = n;
  return 0;
}

/* Filler that looks like a small XML document, `size` bytes long (at least 16). */
static char *filler(size_t size) {
  static const char open[] = "<Bench>", close[] = "</Bench>";
  if (size < sizeof open + sizeof close) size = sizeof open + sizeof close;
  char *b = malloc(size);
  if (b == NULL) return NULL;
  memcpy(b, open, sizeof open - 1);
  memset(b + sizeof open - 1, 'x', size - (sizeof open - 1) - (sizeof close - 1));
  memcpy(b + size - (sizeof close - 1), close, sizeof close - 1);
  return b;
}

static int build_one(struct fx_bench_run *run, char *err, size_t errlen) {
  const struct fx_bench_opts *o = run->opts;
  char *body = NULL;
  size_t len = o->body_size;
  if (o->body_file) {
    if (read_file(o->body_file, &body, &len, err, errlen) != 0) return -1;
  } else {
    body = filler(len);
    if (len < 16) len = 16;
  }
  run->reqs = calloc(1, sizeof *run->reqs);
  int rc = body && run->reqs ? fx_req_build(run->reqs, run->host, run->port, PATH,
                                            "text/xml; charset=utf-8", body, len)
                             : -1;
  free(body);
  if (rc != 0) {
    snprintf(err, errlen, "out of memory building the request");
    return -1;
  }
  run->n_reqs = 1;
  run->inbound_len = len;
  run->response_len = TYPICAL_RESPONSE;
  return 0;
}

static void free_reqs(struct fx_bench_run *run) {
  for (size_t i = 0; run->reqs && i < run->n_reqs; i++) fx_req_free(&run->reqs[i]);
  free(run->reqs);
  run->reqs = NULL;
  run->n_reqs = 0;
}

static int sink_prepare(struct fx_bench_run *run, char *err, size_t errlen) {
  struct fx_sink_cfg sc = {.host = "127.0.0.1", .port = 0};
  if (fx_sink_start(&run->sink, run->loop, &sc, err, errlen) != 0) return -1;
  snprintf(run->host, sizeof run->host, "127.0.0.1");
  run->port = fx_sink_port(run->sink);
  run->platform_pid = 0; /* the "platform" is this process; its CPU is the harness's */
  return build_one(run, err, errlen);
}

const struct fx_workload fx_workload_post = {
    .name = "post",
    .summary = "POST one body (--body FILE, or --body-size bytes of filler) to the target",
    .prepare = build_one,
    .cleanup = free_reqs,
};

const struct fx_workload fx_workload_sink = {
    .name = "sink",
    .summary = "load an in-process response sink: the harness measured against itself",
    .prepare = sink_prepare,
    .cleanup = free_reqs,
};
