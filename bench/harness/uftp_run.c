/* uftp_run.c — the platform side the UFTP workloads share: spawning flexd with its
 * sink, batches and phases of requests outside the measured window, and the common
 * reference (DSO and AGR portfolio updates) that makes their offers tradable (see
 * uftp_run.h). */
#include "bench/harness/uftp_run.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness/scrape.h"

#define CONNS_PER_DSO_UPDATE 2000 /* keeps a DSOPortfolioUpdate well under max_body */

/* ---- batches ------------------------------------------------------------------- */

static int batch_grow(struct fx_bench_batch *bt) {
  if (bt->n < bt->cap) return 0;
  size_t cap = bt->cap ? bt->cap * 2 : 64;
  struct fx_req *r = realloc(bt->reqs, cap * sizeof *r);
  if (r) bt->reqs = r;
  char(*k)[FX_UUID_STRLEN] = realloc(bt->keys, cap * sizeof *k);
  if (k) bt->keys = k;
  int *o = realloc(bt->outcomes, cap * sizeof *o);
  if (o) bt->outcomes = o;
  struct fx_uuid *id = realloc(bt->ids, cap * sizeof *id);
  if (id) bt->ids = id;
  if (!r || !k || !o || !id) return -1;
  bt->cap = cap;
  return 0;
}

int fx_bench_batch_add(struct fx_bench_batch *bt, struct fx_bench_msgs *msgs, const struct fx_bench_msg *spec,
                       const struct fx_bench_party *from, const struct fx_bench_run *run, char *err,
                       size_t errlen) {
  if (batch_grow(bt) != 0) {
    snprintf(err, errlen, "out of memory for a batch");
    return -1;
  }
  struct fx_bench_built built;
  memset(&bt->reqs[bt->n], 0, sizeof bt->reqs[bt->n]);
  if (fx_bench_msgs_build(msgs, spec, from, run->host, run->port, &bt->reqs[bt->n], &built, err, errlen) != 0)
    return -1;
  memcpy(bt->keys[bt->n], built.key, sizeof built.key);
  bt->outcomes[bt->n] = built.outcome;
  bt->ids[bt->n] = built.message_id;
  bt->n++;
  return 0;
}

void fx_bench_batch_free(struct fx_bench_batch *bt) {
  for (size_t i = 0; i < bt->n; i++) fx_req_free(&bt->reqs[i]);
  free(bt->reqs);
  free(bt->keys);
  free(bt->outcomes);
  free(bt->ids);
  memset(bt, 0, sizeof *bt);
}

/* ---- the platform ---------------------------------------------------------------- */

/* flexd next to this program (build/flexd beside build/flexd-bench). */
static void default_flexd(char *out, size_t cap) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  if (snprintf(out, cap, "%s/flexd", slash ? self : ".") >= (int)cap) snprintf(out, cap, "flexd");
}

int fx_bench_uftp_start(struct fx_bench_run *run, struct fx_bench_uftp *u, int days_ahead, char *err,
                        size_t errlen) {
  const struct fx_bench_opts *o = run->opts;
  struct fx_sink_cfg sc = {.host = "127.0.0.1", .on_message = fx_bench_route_message, .user = &u->route};
  if (fx_sink_start(&run->sink, run->loop, &sc, err, errlen) != 0) return -1;
  char flexd[PATH_MAX];
  if (o->flexd_path)
    snprintf(flexd, sizeof flexd, "%s", o->flexd_path);
  else
    default_flexd(flexd, sizeof flexd);
  struct fx_bench_platform_cfg pc = {.flexd = flexd, .n_agrs = o->agrs,
                                     .sink_port = fx_sink_port(run->sink), .workers = o->workers,
                                     .nosync = o->nosync, .keep = o->keep};
  if (fx_bench_platform_start(&u->plat, &pc, err, errlen) != 0) return -1;
  snprintf(run->host, sizeof run->host, "127.0.0.1");
  run->port = u->plat->port;
  run->platform_pid = u->plat->pid;
  run->metrics_port = u->plat->metrics_port;
  u->loop = run->loop;
  u->msgs = fx_bench_msgs_new(u->plat, days_ahead, err, errlen);
  return u->msgs ? 0 : -1;
}

void fx_bench_uftp_env(const struct fx_bench_run *run, struct fx_bench_uftp *u, struct fx_bench_phase_env *env) {
  *env = (struct fx_bench_phase_env){.loop = run->loop, .sink = run->sink, .route = &u->route,
                                     .inbox = &u->inbox, .host = run->host, .port = run->port,
                                     .connections = run->opts->connections, .timeout_s = run->opts->timeout_s,
                                     .judge = fx_bench_judge, .judge_user = u->msgs,
                                     .name_outcome = fx_bench_outcome_name};
}

int fx_bench_uftp_phase(struct fx_bench_run *run, struct fx_bench_uftp *u, const char *name,
                        const struct fx_bench_batch *bt, uint64_t others, struct fx_bench_phase_stats *st,
                        char *err, size_t errlen) {
  struct fx_bench_phase_env env;
  fx_bench_uftp_env(run, u, &env);
  struct fx_bench_phase ph = {.name = name, .reqs = bt->reqs, .n = bt->n, .keys = bt->keys,
                              .outcomes = bt->outcomes, .others = others};
  return fx_bench_phase_run(&env, &ph, st, err, errlen);
}

/* ---- the common reference ------------------------------------------------------- */

static void add_stats(struct fx_bench_phase_stats *sum, const struct fx_bench_phase_stats *st) {
  sum->elapsed_ns += st->elapsed_ns;
  sum->http.count += st->http.count;
  sum->async.count += st->async.count;
}

/* One DSOPortfolioUpdate per chunk of CPs, each awaited before the next: a later
 * TimeStamp must not overtake an earlier one ("Subordinate sequence number"). */
static int dso_updates(struct fx_bench_run *run, struct fx_bench_uftp *u, unsigned n_cps, char *err,
                       size_t errlen) {
  unsigned per = CONNS_PER_DSO_UPDATE / u->plat->n_agrs;
  if (per == 0) per = 1;
  for (unsigned first = 0; first < n_cps; first += per) {
    struct fx_bench_batch bt = {0};
    struct fx_bench_msg spec = {.type = FX_MSG_DSO_PORTFOLIO_UPDATE, .first_cp = first,
                                .n_cps = n_cps - first < per ? n_cps - first : per, .agr = u->plat->n_agrs};
    struct fx_bench_phase_stats st;
    int rc = fx_bench_batch_add(&bt, u->msgs, &spec, &u->plat->dso, run, err, errlen);
    if (rc == 0) rc = fx_bench_uftp_phase(run, u, "DSOPortfolioUpdate", &bt, 0, &st, err, errlen);
    fx_bench_batch_free(&bt);
    if (rc != 0) return -1;
    add_stats(&u->reference, &st);
  }
  return 0;
}

static int agr_updates(struct fx_bench_run *run, struct fx_bench_uftp *u, unsigned n_cps, char *err,
                       size_t errlen) {
  struct fx_bench_batch bt = {0};
  struct fx_bench_msg spec = {.type = FX_MSG_AGR_PORTFOLIO_UPDATE, .n_cps = n_cps};
  struct fx_bench_phase_stats st;
  int rc = 0;
  for (unsigned a = 0; a < u->plat->n_agrs && rc == 0; a++)
    rc = fx_bench_batch_add(&bt, u->msgs, &spec, &u->plat->agrs[a], run, err, errlen);
  if (rc == 0) rc = fx_bench_uftp_phase(run, u, "AGRPortfolioUpdate", &bt, 0, &st, err, errlen);
  fx_bench_batch_free(&bt);
  if (rc == 0) add_stats(&u->reference, &st);
  return rc;
}

int fx_bench_uftp_reference(struct fx_bench_run *run, struct fx_bench_uftp *u, unsigned n_cps, char *err,
                            size_t errlen) {
  u->n_cps = n_cps;
  if (dso_updates(run, u, n_cps, err, errlen) != 0 || agr_updates(run, u, n_cps, err, errlen) != 0) return -1;
  fx_bench_inbox_free(&u->inbox); /* only judged responses in it */
  return 0;
}

/* ---- the operator listener (libcurl on a helper thread, the loop and its sink running meanwhile) ---- */

long fx_bench_uftp_operator(const struct fx_bench_uftp *u, const char *method, const char *path, double timeout_s,
                            json_t **out) {
  char *body;
  long status = u->loop ? fx_bench_http_fetch_on(u->loop, u->plat->metrics_port, method, path, timeout_s, &body)
                        : fx_bench_http_fetch(u->plat->metrics_port, method, path, timeout_s, &body);
  *out = body ? json_loads(body, 0, NULL) : NULL;
  free(body);
  return status;
}

void fx_bench_uftp_free(struct fx_bench_uftp *u) {
  fx_bench_platform_free(u->plat);
  fx_bench_msgs_free(u->msgs);
  fx_bench_inbox_free(&u->inbox);
  u->plat = NULL;
  u->msgs = NULL;
  u->route.inbox = NULL;
}
