/* phase.c — request batches outside the measured window, and the inbox that keeps
 * what the platform sent during them (see phase.h). */
#include "bench/harness/phase.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESPONSE_BYTES 4096 /* room per stored response in the phase's tracker */

void fx_bench_inbox_free(struct fx_bench_inbox *in) {
  for (size_t i = 0; i < in->n; i++) free(in->v[i].body);
  free(in->v);
  memset(in, 0, sizeof *in);
}

static void inbox_add(struct fx_bench_inbox *in, const char *body, size_t len, uint64_t arrival_ns) {
  if (in->n == in->cap) {
    size_t cap = in->cap ? in->cap * 2 : 256;
    struct fx_bench_inbox_msg *v = realloc(in->v, cap * sizeof *v);
    if (v == NULL) {
      in->lost++;
      return;
    }
    in->v = v;
    in->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    in->lost++;
    return;
  }
  memcpy(copy, body, len);
  copy[len] = '\0';
  in->v[in->n++] = (struct fx_bench_inbox_msg){.body = copy, .len = len, .arrival_ns = arrival_ns};
}

void fx_bench_route_message(void *route, const char *body, size_t len, uint64_t arrival_ns) {
  struct fx_bench_route *r = route;
  if (r->inbox)
    inbox_add(r->inbox, body, len, arrival_ns);
  else if (r->async)
    fx_async_on_message(r->async, body, len, arrival_ns);
}

/* ---- a phase ------------------------------------------------------------------- */

struct phase_run {
  struct fx_async *track;
  uint64_t ok;
};

static void on_response(void *user, uint64_t index, int status, uint64_t intended_ns, uint64_t done_ns) {
  struct phase_run *pr = user;
  fx_async_on_response(pr->track, index, status, intended_ns, done_ns);
  if (status == 200) pr->ok++;
}

static bool is_response(const char *type) {
  size_t n = strlen(type);
  return n > 8 && strcmp(type + n - 8, "Response") == 0;
}

static int send_all(const struct fx_bench_phase_env *env, const struct fx_bench_phase *ph,
                    struct phase_run *pr, struct fx_bench_phase_stats *st, char *err, size_t errlen) {
  uint64_t timeout = (uint64_t)(env->timeout_s * 1e9);
  struct fx_load_cfg lc = {.host = env->host, .port = env->port, .connections = env->connections,
                           .count = ph->n, .duration_ns = timeout, .timeout_ns = timeout,
                           .reqs = ph->reqs, .n_reqs = ph->n, .on_response = on_response, .user = pr};
  struct fx_load_stats *ls = NULL;
  if (fx_load_run(env->loop, &lc, &ls, err, errlen) != 0) return -1;
  fx_hist_summary(&ls->lat, &st->http);
  st->start_ns = ls->window_start_ns;
  st->elapsed_ns = ls->window_end_ns - ls->window_start_ns;
  uint64_t sent = ls->sent;
  fx_load_stats_free(ls);
  if (pr->ok == ph->n) return 0;
  snprintf(err, errlen, "%s: %" PRIu64 " of %zu requests answered 200 (%" PRIu64 " sent)", ph->name,
           pr->ok, ph->n, sent);
  return -1;
}

/* Hands the phase's new responses to the tracker; counts and times the others. */
static uint64_t sort_inbox(const struct fx_bench_phase_env *env, size_t first, struct fx_async *track,
                           struct fx_bench_phase_stats *st) {
  uint64_t others = 0;
  for (size_t i = first; i < env->inbox->n; i++) {
    struct fx_bench_inbox_msg *m = &env->inbox->v[i];
    struct fx_sink_ids ids;
    if (fx_sink_ids(m->body, m->len, &ids) == 0 && is_response(ids.type)) {
      m->response = true;
      fx_async_on_message(track, m->body, m->len, m->arrival_ns);
      continue;
    }
    others++;
    if (st->first_other_ns == 0 || m->arrival_ns < st->first_other_ns) st->first_other_ns = m->arrival_ns;
    if (m->arrival_ns > st->last_other_ns) st->last_other_ns = m->arrival_ns;
  }
  return others;
}

static int judge_all(const struct fx_bench_phase_env *env, const struct fx_bench_phase *ph,
                     struct fx_async *track, uint64_t owed, uint64_t others, char *err, size_t errlen) {
  fx_async_collect_judged(track, env->judge, env->judge_user);
  if (track->wrong_outcome) {
    char want[96] = "?", got[96] = "?";
    if (env->name_outcome) {
      env->name_outcome(track->first_wrong_expected, want, sizeof want);
      env->name_outcome(track->first_wrong_got, got, sizeof got);
    }
    snprintf(err, errlen, "%s: %" PRIu64 " wrong outcomes; the first: request %" PRIu64 " (%s) expected %s, got %s",
             ph->name, track->wrong_outcome, track->first_wrong_index, ph->keys[track->first_wrong_index], want,
             got);
    return -1;
  }
  if (track->matched != owed || track->bad_signature || track->unmatched || track->duplicates ||
      others != ph->others) {
    snprintf(err, errlen, "%s: %" PRIu64 " of %" PRIu64 " responses as expected (bad signature %" PRIu64
             ", unmatched %" PRIu64 ", duplicates %" PRIu64 "), %" PRIu64 " of %" PRIu64 " other messages",
             ph->name, track->matched, owed, track->bad_signature, track->unmatched, track->duplicates,
             others, ph->others);
    return -1;
  }
  return 0;
}

int fx_bench_phase_run(const struct fx_bench_phase_env *env, const struct fx_bench_phase *ph,
                       struct fx_bench_phase_stats *st, char *err, size_t errlen) {
  memset(st, 0, sizeof *st);
  if (ph->n == 0) return 0;
  uint64_t owed = 0;
  for (size_t i = 0; i < ph->n; i++) owed += ph->outcomes[i] >= 0;
  struct fx_async *track = malloc(sizeof *track);
  if (track == NULL || fx_async_init(track, ph->n, owed + 64, owed * RESPONSE_BYTES + 65536) != 0) {
    free(track);
    snprintf(err, errlen, "%s: out of memory", ph->name);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < ph->n && rc == 0; i++)
    if (ph->outcomes[i] >= 0) rc = fx_async_expect_outcome(track, i, ph->keys[i], ph->outcomes[i]);
  if (rc != 0) snprintf(err, errlen, "%s: a key registered twice", ph->name);
  env->route->inbox = env->inbox;
  size_t first = env->inbox->n;
  uint64_t base = fx_sink_received(env->sink);
  struct phase_run pr = {.track = track};
  if (rc == 0) rc = send_all(env, ph, &pr, st, err, errlen);
  if (rc == 0 && fx_sink_wait(env->sink, base + owed + ph->others, (uint64_t)(env->timeout_s * 1e9)) != 0) {
    snprintf(err, errlen, "%s: %" PRIu64 " of %" PRIu64 " messages arrived at the sink within %.0f s", ph->name,
             fx_sink_received(env->sink) - base, owed + ph->others, env->timeout_s);
    rc = -1;
  }
  if (rc == 0) {
    uint64_t others = sort_inbox(env, first, track, st);
    rc = judge_all(env, ph, track, owed, others, err, errlen);
    fx_hist_summary(&track->lat, &st->async);
    uint64_t last = track->last_arrival_ns > st->last_other_ns ? track->last_arrival_ns : st->last_other_ns;
    if (last > st->start_ns + st->elapsed_ns) st->elapsed_ns = last - st->start_ns;
  }
  fx_async_free(track);
  free(track);
  return rc;
}
