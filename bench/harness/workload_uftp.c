/* workload_uftp.c — the UFTP workloads, against a flexd they spawn:
 *
 *   ingest  signed FlexOffers (one option of --isps ISPs: 4 = small, 96 = a whole
 *           day), each with its own MessageID, from N AGRs; every one must be
 *           answered 200 and then, asynchronously, with a FlexOfferResponse
 *           Accepted, signed by the platform as the DSO's market.
 *   mixed   what the platform accepts today in a realistic mix: small and whole-day
 *           FlexOffers, D-Prognoses, TestMessages, messages with one flaw each (that
 *           must come back rejected with the exact phrase) and resent messages
 *           ("Already Submitted") or reused MessageIDs ("Duplicate Identifier").
 *
 * Both share the machinery (uftp_run.h): prepare starts the response sink, spawns
 * flexd (platform.h) with every participant's endpoint at the sink, sets up the common
 * reference through the real endpoint (the DSO's congestion points, every AGR's
 * connections there: without them no offer is Accepted), then builds and seals every
 * request (uftp.h) and registers its expected outcome with the async tracker; drain
 * waits for one response per 200; verify opens and judges every response after the
 * window. market-day lives in workload_market.c. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/bench.h"
#include "bench/harness/platform.h"
#include "bench/harness/uftp.h"
#include "bench/harness/uftp_run.h"

#define MAX_REQUEST_BYTES (UINT64_C(1) << 30) /* prepared requests held in memory */
#define RESPONSE_BYTES 2048                    /* room per stored response (~1 KiB each) */
#define MIX_CYCLE 20
#define MIX_PROGNOSES 4   /* per cycle */
#define MAX_MIX_CPS 64    /* CPs the mix's D-Prognoses spread over */

/* The kinds of request in the mix, for its report line. */
enum kind { K_SMALL, K_DAY, K_PROGNOSIS, K_TEST, K_FLAWED, K_RESENT, K_REUSED, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "FlexOffer 4 ISPs", "FlexOffer whole day", "D-Prognosis", "TestMessage",
    "flawed (rejected)", "resent (Already Submitted)", "reused ID (Duplicate Identifier)"};

struct uftp {
  struct fx_bench_uftp base; /* platform, builder, sink routing */
  struct fx_bench_platform *plat; /* = base.plat */
  struct fx_bench_msgs *msgs;     /* = base.msgs */
  struct fx_async *async;
  uint64_t prognoses; /* D-Prognoses planned so far */
  uint64_t ok; /* requests answered 200: each owes one asynchronous response */
  bool drained; /* the sink received as many messages as there were 200s in time */
  uint64_t n;             /* requests prepared */
  unsigned char *got_200; /* per request: answered 200 (so it owes a response) */
  char (*keys)[FX_UUID_STRLEN]; /* per request: the key its response names */
  uint64_t kinds[K_COUNT];
  size_t inbound_total;
};

typedef int (*plan_fn)(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen);

/* ---- the requests ---------------------------------------------------------------- */

static int add(struct fx_bench_run *run, struct uftp *u, const struct fx_bench_msg *spec,
               unsigned agr, int outcome_override, struct fx_bench_built *built, char *err,
               size_t errlen) {
  uint64_t i = run->n_reqs;
  const struct fx_bench_party *from = &u->plat->agrs[agr % u->plat->n_agrs];
  if (fx_bench_msgs_build(u->msgs, spec, from, run->host, run->port, &run->reqs[i], built, err,
                          errlen) != 0)
    return -1;
  run->n_reqs++;
  u->inbound_total += built->inner_len;
  int outcome = outcome_override >= 0 ? outcome_override : built->outcome;
  memcpy(u->keys[i], built->key, sizeof u->keys[i]);
  if (fx_async_expect_outcome(u->async, i, built->key, outcome) != 0) {
    snprintf(err, errlen, "request %" PRIu64 ": key %s not registered", i, built->key);
    return -1;
  }
  return 0;
}

static int plan_ingest(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  struct fx_bench_msg spec = {.type = FX_MSG_FLEX_OFFER, .n_isps = run->opts->isps};
  struct fx_bench_built built;
  enum kind k = run->opts->isps >= fx_bench_msgs_day_isps(u->msgs) ? K_DAY : K_SMALL;
  for (uint64_t i = 0; i < run->opts->count; i++) {
    if (add(run, u, &spec, (unsigned)i, -1, &built, err, errlen) != 0) return -1;
    u->kinds[k]++;
  }
  return 0;
}

/* D-Prognoses: a revision must be above the AGR's last one for the market (CP, Period),
 * and concurrent requests may be processed in any order. So the q-th prognosis goes
 * to AGR q mod N on CP (q / N) mod C with revision q / (N·C) + 1: each (AGR, CP) pair
 * once, as long as there are pairs; a pair used again is N·C prognoses (5·N·C
 * requests) later, with the next revision, long after the earlier one was committed
 * at any sane -c. */
static unsigned mix_cps(uint64_t count, unsigned n_agrs) {
  uint64_t prognoses = (count + MIX_CYCLE - 1) / MIX_CYCLE * MIX_PROGNOSES;
  uint64_t c = (prognoses + n_agrs - 1) / n_agrs;
  return c < 1 ? 1 : c > MAX_MIX_CPS ? MAX_MIX_CPS : (unsigned)c;
}

/* One cycle of the mix: 8 small and 2 whole-day offers, 4 D-Prognoses, 2 TestMessages,
 * 2 flawed messages, then the small offers of slots 1 and 2 again: resent as they
 * were, and under the same MessageID with another price. */
static const enum kind mix[MIX_CYCLE] = {
    K_SMALL,     K_SMALL,     K_SMALL,  K_DAY,    K_PROGNOSIS, K_SMALL,  K_TEST,
    K_PROGNOSIS, K_FLAWED,    K_SMALL,  K_SMALL,  K_PROGNOSIS, K_DAY,    K_TEST,
    K_SMALL,     K_PROGNOSIS, K_FLAWED, K_SMALL,  K_RESENT,    K_REUSED};

/* Request i: the very bytes of an earlier one (`orig`, built as request i - slot + 1). */
static int add_resent(struct fx_bench_run *run, struct uftp *u, uint64_t i,
                      const struct fx_bench_built *orig) {
  const struct fx_req *o = &run->reqs[i - i % MIX_CYCLE + 1];
  run->reqs[i].data = malloc(o->len);
  if (run->reqs[i].data == NULL) return -1;
  memcpy(run->reqs[i].data, o->data, o->len);
  run->reqs[i].len = o->len;
  run->n_reqs++;
  u->kinds[K_RESENT]++;
  u->inbound_total += orig->inner_len;
  memcpy(u->keys[i], orig->key, sizeof u->keys[i]);
  return fx_async_expect_outcome(
      u->async, i, orig->key,
      fx_bench_outcome(FX_MSG_FLEX_OFFER_RESPONSE, FX_VERDICT_ALREADY_SUBMITTED));
}

static int add_mixed(struct fx_bench_run *run, struct uftp *u, uint64_t i,
                     struct fx_bench_built *cycle, char *err, size_t errlen) {
  enum kind k = mix[i % MIX_CYCLE];
  unsigned slot = (unsigned)(i % MIX_CYCLE), agr = (unsigned)(i / MIX_CYCLE);
  struct fx_bench_msg spec = {.type = FX_MSG_FLEX_OFFER, .n_isps = 4};
  int override = -1;
  if (k == K_DAY || k == K_PROGNOSIS) spec.n_isps = fx_bench_msgs_day_isps(u->msgs);
  if (k == K_PROGNOSIS) { /* see prognosis_slot */
    spec.type = FX_MSG_D_PROGNOSIS;
    uint64_t q = u->prognoses++, pairs = (uint64_t)u->plat->n_agrs * u->base.n_cps;
    agr = (unsigned)(q % u->plat->n_agrs);
    spec.cp = (unsigned)(q / u->plat->n_agrs % u->base.n_cps);
    spec.revision = (int64_t)(q / pairs) + 1;
  }
  if (k == K_TEST) spec.type = FX_MSG_TEST_MESSAGE;
  if (k == K_FLAWED) /* each flaw in turn */
    spec.flaw = (enum fx_bench_flaw)(1 + (i / MIX_CYCLE * 2 + (slot > 10)) % FX_FLAW_VERSION);
  if (k == K_RESENT) return add_resent(run, u, i, &cycle[1]);
  if (k == K_REUSED) {
    spec.message_id = &cycle[2].message_id;
    spec.price_step = 1;
    override = fx_bench_outcome(FX_MSG_FLEX_OFFER_RESPONSE, FX_VERDICT_DUPLICATE_IDENTIFIER);
  }
  u->kinds[k]++;
  return add(run, u, &spec, agr, override, &cycle[slot], err, errlen);
}

static int plan_mixed(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  struct fx_bench_built cycle[MIX_CYCLE];
  for (uint64_t i = 0; i < run->opts->count; i++)
    if (add_mixed(run, u, i, cycle, err, errlen) != 0) {
      if (!err[0]) snprintf(err, errlen, "cannot build request %" PRIu64, i);
      return -1;
    }
  return 0;
}

/* ---- the stages ------------------------------------------------------------------ */

static void on_response(void *user, uint64_t index, int status, uint64_t intended_ns,
                        uint64_t done_ns) {
  struct uftp *u = user;
  fx_async_on_response(u->async, index, status, intended_ns, done_ns);
  if (status == 200 && index < u->n) u->got_200[index] = 1;
  if (status == 200) u->ok++;
}

/* The platform with its common reference, then the tracker takes the sink. */
static int start(struct fx_bench_run *run, struct uftp *u, unsigned n_cps, char *err, size_t errlen) {
  if (fx_bench_uftp_start(run, &u->base, 1, err, errlen) != 0) return -1;
  u->plat = u->base.plat;
  u->msgs = u->base.msgs;
  if (fx_bench_uftp_reference(run, &u->base, n_cps, err, errlen) != 0) return -1;
  u->base.route.inbox = NULL;
  u->base.route.async = u->async;
  u->base.sink_base = fx_sink_received(run->sink);
  return 0;
}

static int prepare(struct fx_bench_run *run, plan_fn plan, unsigned n_cps, char *err, size_t errlen) {
  const struct fx_bench_opts *o = run->opts;
  uint64_t per_req = o->isps > 8 ? 12288 : 4096; /* generous upper bounds */
  if (o->count * per_req > MAX_REQUEST_BYTES) {
    snprintf(err, errlen, "-n %" PRIu64 " would hold over 1 GiB of prepared requests; lower it",
             o->count);
    return -1;
  }
  struct uftp *u = calloc(1, sizeof *u);
  run->state = u;
  if (u == NULL || (u->async = malloc(sizeof *u->async)) == NULL ||
      fx_async_init(u->async, o->count, o->count + 64, o->count * RESPONSE_BYTES + (1u << 20)) != 0 ||
      (run->reqs = calloc(o->count, sizeof *run->reqs)) == NULL ||
      (u->got_200 = calloc(o->count, 1)) == NULL ||
      (u->keys = calloc(o->count, sizeof *u->keys)) == NULL) {
    snprintf(err, errlen, "out of memory for %" PRIu64 " requests", o->count);
    return -1;
  }
  u->n = o->count;
  if (start(run, u, n_cps, err, errlen) != 0) return -1;
  if (plan(run, u, err, errlen) != 0) return -1;
  run->inbound_len = run->n_reqs ? u->inbound_total / run->n_reqs : 0;
  run->response_len = fx_bench_msgs_response_len(u->msgs);
  run->async = &u->async->lat;
  run->async_track = u->async;
  run->on_response = on_response;
  return 0;
}

static int prepare_ingest(struct fx_bench_run *run, char *err, size_t errlen) {
  if (run->opts->isps < 1 || run->opts->isps > 100) {
    snprintf(err, errlen, "--isps must be 1..100");
    return -1;
  }
  return prepare(run, plan_ingest, 1, err, errlen);
}

static int prepare_mixed(struct fx_bench_run *run, char *err, size_t errlen) {
  return prepare(run, plan_mixed, mix_cps(run->opts->count, run->opts->agrs), err, errlen);
}

static int drain(struct fx_bench_run *run, char *err, size_t errlen) {
  struct uftp *u = run->state;
  run->async_expected = u->ok;
  uint64_t timeout = (uint64_t)(run->opts->timeout_s * 1e9);
  u->drained = fx_sink_wait(run->sink, u->base.sink_base + u->ok, timeout) == 0;
  if (u->drained) return 0;
  snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " asynchronous responses arrived within %.0f s",
           fx_sink_received(run->sink) - u->base.sink_base, u->ok, run->opts->timeout_s);
  return -1;
}

/* Judges what arrived. The drain stopped at one message per 200, but a platform that
 * delivers a response twice (at-least-once delivery after a failed commit) reaches
 * that count early: then wait, bounded by the timeout, for what is still missing.
 * Those late arrivals fall after the CPU sample; only runs that already failed (a
 * duplicate is a failure) have them. */
static void collect(struct fx_bench_run *run, struct uftp *u) {
  struct fx_async *a = u->async;
  fx_async_collect_judged(a, fx_bench_judge, u->msgs); /* judging takes seconds: then wait */
  uint64_t deadline = uv_hrtime() + (uint64_t)(run->opts->timeout_s * 1e9), now;
  while (u->drained && a->matched + a->wrong_outcome < u->ok && (now = uv_hrtime()) < deadline) {
    uint64_t missing = u->ok - a->matched - a->wrong_outcome;
    int rc = fx_sink_wait(run->sink, fx_sink_received(run->sink) + missing, deadline - now);
    fx_async_collect_judged(a, fx_bench_judge, u->msgs);
    if (rc != 0) break;
  }
}

/* The first request answered 200 without a response; u->n when there is none. */
static uint64_t first_missing(const struct uftp *u) {
  for (uint64_t i = 0; i < u->n; i++)
    if (u->got_200[i] && !u->async->answered[i]) return i;
  return u->n;
}

static int verify(struct fx_bench_run *run, char *err, size_t errlen) {
  struct uftp *u = run->state;
  struct fx_async *a = u->async;
  collect(run, u);
  run->async_last_ns = a->last_arrival_ns;
  if (a->wrong_outcome) {
    char want[96], got[96];
    fx_bench_outcome_name(a->first_wrong_expected, want, sizeof want);
    fx_bench_outcome_name(a->first_wrong_got, got, sizeof got);
    snprintf(err, errlen, "%" PRIu64 " wrong outcomes; the first: request %" PRIu64
             " expected %s, got %s", a->wrong_outcome, a->first_wrong_index, want, got);
    return -1;
  }
  if (a->matched != u->ok || a->bad_signature || a->unmatched || a->duplicates || a->dropped) {
    uint64_t first = first_missing(u);
    snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " responses as expected (bad signature %" PRIu64
             ", unmatched %" PRIu64 ", duplicates %" PRIu64 ", dropped %" PRIu64 ")%s%s",
             a->matched, u->ok, a->bad_signature, a->unmatched, a->duplicates, a->dropped,
             first < u->n ? "; first missing: " : "", first < u->n ? u->keys[first] : "");
    return -1;
  }
  return 0;
}

static void report(const struct fx_bench_run *run, FILE *out) {
  const struct uftp *u = run->state;
  fprintf(out, "messages    ");
  for (int k = 0; k < K_COUNT; k++)
    if (u->kinds[k]) fprintf(out, " %s %" PRIu64 ";", kind_names[k], u->kinds[k]);
  fprintf(out, " from %u AGRs on %u CPs, %s store\n", u->plat->n_agrs, u->base.n_cps,
          run->opts->nosync ? "nosync" : "durable");
  fprintf(out, "reference   %zu portfolio updates before the window in %.2f s\n",
          (size_t)u->base.reference.http.count, u->base.reference.elapsed_ns / 1e9);
}

static void cleanup(struct fx_bench_run *run) {
  struct uftp *u = run->state;
  for (size_t i = 0; run->reqs && i < run->opts->count; i++) fx_req_free(&run->reqs[i]);
  free(run->reqs);
  run->reqs = NULL;
  run->n_reqs = 0;
  if (u == NULL) return;
  fx_bench_uftp_free(&u->base);
  if (u->async) fx_async_free(u->async);
  free(u->async);
  free(u->got_200);
  free(u->keys);
  free(u);
  run->state = NULL;
  run->async = NULL;
  run->async_track = NULL;
}

const struct fx_workload fx_workload_ingest = {
    .name = "ingest",
    .summary = "signed FlexOffers (--isps 4 small, 96 whole day) from --agrs AGRs to a spawned flexd",
    .prepare = prepare_ingest,
    .drain = drain,
    .verify = verify,
    .cleanup = cleanup,
    .report = report,
};

const struct fx_workload fx_workload_mixed = {
    .name = "mixed",
    .summary = "offers, D-Prognoses, TestMessages, rejections and duplicates to a spawned flexd",
    .prepare = prepare_mixed,
    .drain = drain,
    .verify = verify,
    .cleanup = cleanup,
    .report = report,
};
