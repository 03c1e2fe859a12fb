/* workload_uftp.c — the UFTP workloads, against a flexd they spawn:
 *
 *   ingest  signed FlexOffers (one option of --isps ISPs: 4 = small, 96 = a whole
 *           day), each with its own MessageID, from N AGRs; every one must be
 *           answered 200 and then, asynchronously, with a FlexOfferResponse
 *           Accepted, signed by the platform as the DSO's market.
 *   mixed   every message the platform accepts from participants, in a realistic
 *           mix: small and whole-day FlexOffers, D-Prognoses, Metering, TestMessages,
 *           FlexOfferRevocations, the DSO's FlexRequests (whose copies to the AGRs
 *           are counted and verified too), FlexRequestResponses and
 *           FlexOrderResponses (to copies and orders of a small market day cleared
 *           before the window), portfolio updates and queries of both sides,
 *           messages with one flaw each (that must come back rejected with the
 *           exact phrase), resent messages ("Already Submitted") and reused
 *           MessageIDs ("Duplicate Identifier").
 *
 *   flood   AGR 0 sends FlexOffers as fast as --flood-connections connections let
 *           it (closed loop, on a thread of its own with its own loop, from the
 *           window's first answer to its end) while AGRs 1..N-1 send FlexOffers at
 *           --rate: the window's table is theirs, so a run with and one without
 *           (--flood-connections 0) show what one sender's flood costs the others.
 *           Every one of the others' offers must be answered 200 and then Accepted;
 *           the flood's own answers are counted, not judged.
 *
 * They share the machinery (uftp_run.h): prepare starts the response sink, spawns
 * flexd (platform.h) with every participant's endpoint at the sink, sets up the common
 * reference through the real endpoint (the DSO's congestion points, every AGR's
 * connections there: without them no offer is Accepted), then builds and seals every
 * request (uftp.h) and registers its expected outcome with the async tracker; drain
 * waits for one response per 200; verify opens and judges every response after the
 * window. market-day lives in workload_market.c. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/harness/bench.h"
#include "bench/harness/platform.h"
#include "bench/harness/uftp.h"
#include "bench/harness/uftp_run.h"

#define MAX_REQUEST_BYTES (UINT64_C(1) << 30) /* prepared requests held in memory */
#define RESPONSE_BYTES 2048                    /* room per stored response (~1 KiB each) */
#define MIX_CYCLE 30
#define MIX_PROGNOSES 4   /* per cycle; Metering 3 */
#define MAX_MIX_CPS 64    /* CPs the mix's D-Prognoses and Meterings spread over */
#define MIX_DAYS_AHEAD 2  /* the mix's Period: its day-ahead gate is after any run */
#define NEED_W 6000       /* the DSO's FlexRequests: per Requested ISP */

/* The kinds of request in the mix, for its report line. */
enum kind { K_SMALL, K_DAY, K_PROGNOSIS, K_METERING, K_TEST, K_REVOKE, K_REQUEST, K_REQUEST_RESPONSE,
            K_ORDER_RESPONSE, K_AGR_UPDATE, K_DSO_UPDATE, K_AGR_QUERY, K_DSO_QUERY, K_FLAWED, K_RESENT,
            K_REUSED, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "FlexOffer 4 ISPs", "FlexOffer whole day", "D-Prognosis", "Metering", "TestMessage",
    "FlexOfferRevocation", "FlexRequest", "FlexRequestResponse", "FlexOrderResponse",
    "AGRPortfolioUpdate", "DSOPortfolioUpdate", "AGRPortfolioQuery", "DSOPortfolioQuery",
    "flawed (rejected)", "resent (Already Submitted)", "reused ID (Duplicate Identifier)"};

/* What the AGRs answer in the window: the platform's FlexRequest copies and
 * FlexOrders of the small market day before it. */
struct answerable {
  struct fx_uuid id, conversation;
  unsigned agr;
  unsigned cp;
};
struct pool {
  struct answerable *v;
  size_t n, used;
};

/* The flooding AGR's load: prepared before the window, run on its own thread
 * and loop (fx_load is loop-local), started by the window's first answer. */
struct flood {
  const struct fx_bench_run *run;
  struct fx_req *reqs;
  size_t n;
  uv_loop_t loop;
  pthread_t thread;
  bool started, joined;
  struct fx_load_cfg cfg;
  struct fx_load_stats *stats; /* the thread's, read after the join */
  int rc;
  char err[128];
};

struct uftp {
  struct flood *flood; /* flood only */
  struct fx_bench_uftp base; /* platform, builder, sink routing */
  struct fx_bench_platform *plat; /* = base.plat */
  struct fx_bench_msgs *msgs;     /* = base.msgs */
  struct fx_async *async;
  uint64_t prognoses, meterings, requests; /* planned so far (revision schemes) */
  uint64_t ok;    /* requests answered 200 */
  uint64_t owed;  /* of which owe an asynchronous response */
  uint64_t fr_ok; /* of which FlexRequests: each makes the platform send n_agrs copies */
  unsigned offer_cps, setup_cps, request_cps; /* mixed: CPs [0, o), [o, o+s), [o+s, o+s+r) */
  int64_t portfolio_ts; /* mixed: the TimeStamp of every portfolio update in the window */
  struct fx_uuid slot0_offer; /* mixed: the cycle's first offer, which it revokes */
  struct pool copies, orders; /* mixed: what the AGRs answer */
  struct fx_bench_phase_stats setup; /* mixed: the small market day, all phases */
  uint64_t setup_orders;
  unsigned char *silent; /* per request: nothing answers it (a response itself) */
  bool drained; /* the sink received as many messages as there were 200s in time */
  uint64_t n;             /* requests prepared */
  unsigned char *got_200; /* per request: answered 200 (so it owes a response) */
  char (*keys)[FX_UUID_STRLEN]; /* per request: the key its response names */
  uint64_t kinds[K_COUNT];
  size_t inbound_total;
};

enum { OWES = 0, SILENT = 1, FANS_OUT = 2 }; /* uftp.silent: what a 200 brings to the sink */

typedef int (*plan_fn)(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen);

/* ---- the requests ---------------------------------------------------------------- */

static int add_from(struct fx_bench_run *run, struct uftp *u, const struct fx_bench_msg *spec,
                    const struct fx_bench_party *from, int outcome_override, struct fx_bench_built *built,
                    char *err, size_t errlen) {
  uint64_t i = run->n_reqs;
  if (fx_bench_msgs_build(u->msgs, spec, from, run->host, run->port, &run->reqs[i], built, err,
                          errlen) != 0)
    return -1;
  run->n_reqs++;
  u->inbound_total += built->inner_len;
  int outcome = outcome_override >= 0 ? outcome_override : built->outcome;
  memcpy(u->keys[i], built->key, sizeof u->keys[i]);
  if (outcome < 0) { /* a response: only its 200 is checked */
    u->silent[i] = SILENT;
    return 0;
  }
  if (spec->type == FX_MSG_FLEX_REQUEST) u->silent[i] = FANS_OUT;
  if (fx_async_expect_outcome(u->async, i, built->key, outcome) != 0) {
    snprintf(err, errlen, "request %" PRIu64 ": key %s not registered", i, built->key);
    return -1;
  }
  return 0;
}

static int add(struct fx_bench_run *run, struct uftp *u, const struct fx_bench_msg *spec, unsigned agr,
               int outcome_override, struct fx_bench_built *built, char *err, size_t errlen) {
  return add_from(run, u, spec, &u->plat->agrs[agr % u->plat->n_agrs], outcome_override, built, err, errlen);
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

#define FLOOD_MAX_REQS 30000 /* prepared flood requests (about 3 KiB each) */

/* The others' offers (AGRs 1..N-1) are the window's; AGR 0's go to the flood. */
static int plan_flood(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  struct fx_bench_msg spec = {.type = FX_MSG_FLEX_OFFER, .n_isps = run->opts->isps};
  struct fx_bench_built built;
  unsigned others = u->plat->n_agrs - 1;
  for (uint64_t i = 0; i < run->opts->count; i++) {
    if (add(run, u, &spec, 1 + (unsigned)(i % others), -1, &built, err, errlen) != 0) return -1;
    u->kinds[K_SMALL]++;
  }
  struct flood *f = u->flood;
  for (size_t i = 0; i < f->n; i++)
    if (fx_bench_msgs_build(u->msgs, &spec, &u->plat->agrs[0], run->host, run->port, &f->reqs[i], &built, err,
                            errlen) != 0)
      return -1;
  return 0;
}

/* Revisions must rise per market (D-Prognosis: per AGR, CP and Period; Metering: per
 * connection and day; FlexRequest: per CP and Period), and concurrent requests may be
 * processed in any order. So the q-th message of such a kind goes to AGR q mod N on
 * CP (q / N) mod C with revision q / (N·C) + 1 (FlexRequests: CP q mod R, revision
 * q / R + 1): each pair once while there are pairs; a pair used again is N·C
 * messages of its kind (several cycles) later, with the next revision, long after the
 * earlier one was committed at any sane -c. */
static unsigned mix_cycles(uint64_t count) { return (unsigned)((count + MIX_CYCLE - 1) / MIX_CYCLE); }

static unsigned clamp_cps(uint64_t c) { return c < 1 ? 1 : c > MAX_MIX_CPS ? MAX_MIX_CPS : (unsigned)c; }

static unsigned mix_cps(uint64_t count, unsigned n_agrs) {
  uint64_t prognoses = (uint64_t)mix_cycles(count) * MIX_PROGNOSES;
  return clamp_cps((prognoses + n_agrs - 1) / n_agrs);
}

static void pair_of(struct uftp *u, uint64_t q, unsigned *agr, unsigned *cp, int64_t *revision) {
  uint64_t n = u->plat->n_agrs, pairs = n * u->offer_cps;
  *agr = (unsigned)(q % n);
  *cp = (unsigned)(q / n % u->offer_cps);
  *revision = (int64_t)(q / pairs) + 1;
}

/* One cycle of the mix (counts per 30): 8 small and 2 whole-day offers, 4
 * D-Prognoses, 3 Meterings, one each of TestMessage, FlexOfferRevocation,
 * FlexRequest, FlexRequestResponse, FlexOrderResponse, AGR and DSO portfolio update
 * and query, 2 flawed messages, then the small offers of slots 1 and 2 again:
 * resent as they were, and under the same MessageID with another price. */
static const enum kind mix[MIX_CYCLE] = {
    K_SMALL,     K_SMALL,   K_SMALL,          K_DAY,         K_PROGNOSIS,     K_METERING,
    K_SMALL,     K_TEST,    K_PROGNOSIS,      K_FLAWED,      K_REQUEST,       K_SMALL,
    K_REQUEST_RESPONSE,     K_PROGNOSIS,      K_DAY,         K_AGR_UPDATE,    K_SMALL,
    K_METERING,  K_ORDER_RESPONSE,            K_PROGNOSIS,   K_AGR_QUERY,     K_SMALL,
    K_FLAWED,    K_REVOKE,  K_DSO_UPDATE,     K_METERING,    K_DSO_QUERY,     K_SMALL,
    K_RESENT,    K_REUSED};

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

/* The flawed message of slot `slot` in cycle `cycle`: each flaw in turn, on the kind of
 * message it concerns (a FlexOffer, Metering of the Period, a revocation). */
static void flawed(struct uftp *u, uint64_t cycle, unsigned slot, struct fx_bench_msg *spec) {
  spec->flaw = (enum fx_bench_flaw)(1 + (cycle * 2 + (slot > 10)) % (FX_FLAW_COUNT - 1));
  if (spec->flaw == FX_FLAW_PERIOD) {
    spec->type = FX_MSG_METERING;
    spec->cp = (unsigned)(cycle % u->offer_cps);
  } else if (spec->flaw == FX_FLAW_UNKNOWN_REF) {
    spec->type = FX_MSG_FLEX_OFFER_REVOCATION;
  }
}

/* The next copy or order to answer; NULL when all are answered already. */
static const struct answerable *take(struct pool *p) { return p->used < p->n ? &p->v[p->used++] : NULL; }

/* The kind-specific part of request i's spec; the sender in *from. Returns the kind
 * it became (answers fall back to a TestMessage when nothing is left to answer). */
static enum kind mixed_spec(struct uftp *u, uint64_t i, struct fx_bench_msg *spec,
                            const struct fx_bench_party **from) {
  enum kind k = mix[i % MIX_CYCLE];
  uint64_t cycle = i / MIX_CYCLE;
  unsigned agr = (unsigned)(cycle % u->plat->n_agrs), cp = (unsigned)(cycle % u->offer_cps);
  const struct answerable *ans = NULL;
  *from = &u->plat->agrs[agr];
  switch (k) {
  case K_DAY: spec->n_isps = fx_bench_msgs_day_isps(u->msgs); break;
  case K_PROGNOSIS:
    spec->type = FX_MSG_D_PROGNOSIS;
    spec->n_isps = fx_bench_msgs_day_isps(u->msgs);
    pair_of(u, u->prognoses++, &agr, &spec->cp, &spec->revision);
    *from = &u->plat->agrs[agr];
    break;
  case K_METERING:
    spec->type = FX_MSG_METERING;
    spec->day_offset = -(MIX_DAYS_AHEAD + 1); /* yesterday: the last day that has ended */
    pair_of(u, u->meterings++, &agr, &spec->cp, &spec->revision);
    *from = &u->plat->agrs[agr];
    break;
  case K_TEST: spec->type = FX_MSG_TEST_MESSAGE; break;
  case K_REVOKE:
    spec->type = FX_MSG_FLEX_OFFER_REVOCATION;
    spec->ref = &u->slot0_offer; /* 23 requests earlier, by the same AGR */
    break;
  case K_REQUEST:
    spec->type = FX_MSG_FLEX_REQUEST;
    spec->need_w = NEED_W;
    spec->cp = u->offer_cps + u->setup_cps + (unsigned)(u->requests % u->request_cps);
    spec->revision = (int64_t)(u->requests++ / u->request_cps) + 1;
    *from = &u->plat->dso;
    break;
  case K_REQUEST_RESPONSE:
  case K_ORDER_RESPONSE:
    ans = take(k == K_REQUEST_RESPONSE ? &u->copies : &u->orders);
    spec->type = k == K_REQUEST_RESPONSE ? FX_MSG_FLEX_REQUEST_RESPONSE : FX_MSG_FLEX_ORDER_RESPONSE;
    if (ans == NULL) {
      spec->type = FX_MSG_TEST_MESSAGE;
      return K_TEST;
    }
    spec->ref = &ans->id;
    spec->conversation = &ans->conversation;
    *from = &u->plat->agrs[ans->agr];
    break;
  case K_AGR_UPDATE:
  case K_DSO_UPDATE: /* what the reference says already, with one TimeStamp (equal ones pass) */
    spec->type = k == K_AGR_UPDATE ? FX_MSG_AGR_PORTFOLIO_UPDATE : FX_MSG_DSO_PORTFOLIO_UPDATE;
    spec->first_cp = cp;
    spec->n_cps = 1;
    spec->agr = u->plat->n_agrs;
    spec->timestamp_us = u->portfolio_ts;
    if (k == K_DSO_UPDATE) *from = &u->plat->dso;
    break;
  case K_AGR_QUERY: spec->type = FX_MSG_AGR_PORTFOLIO_QUERY; break;
  case K_DSO_QUERY:
    spec->type = FX_MSG_DSO_PORTFOLIO_QUERY;
    spec->cp = cp;
    *from = &u->plat->dso;
    break;
  case K_FLAWED: flawed(u, cycle, (unsigned)(i % MIX_CYCLE), spec); break;
  default: break;
  }
  return k;
}

static int add_mixed(struct fx_bench_run *run, struct uftp *u, uint64_t i,
                     struct fx_bench_built *cycle, char *err, size_t errlen) {
  unsigned slot = (unsigned)(i % MIX_CYCLE);
  struct fx_bench_msg spec = {.type = FX_MSG_FLEX_OFFER, .n_isps = 4};
  const struct fx_bench_party *from;
  int override = -1;
  if (mix[slot] == K_RESENT) return add_resent(run, u, i, &cycle[1]);
  if (mix[slot] == K_REUSED) {
    spec.message_id = &cycle[2].message_id;
    spec.price_step = 1;
    override = fx_bench_outcome(FX_MSG_FLEX_OFFER_RESPONSE, FX_VERDICT_DUPLICATE_IDENTIFIER);
  }
  enum kind k = mixed_spec(u, i, &spec, &from);
  u->kinds[k]++;
  if (add_from(run, u, &spec, from, override, &cycle[slot], err, errlen) != 0) return -1;
  if (slot == 0) u->slot0_offer = cycle[0].message_id;
  return 0;
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

static void *flood_run(void *arg) {
  struct flood *f = arg;
  f->rc = fx_load_run(&f->loop, &f->cfg, &f->stats, f->err, sizeof f->err);
  return NULL;
}

/* The flood starts with the window's first answer (not in prepare: the
 * ceiling, measured between prepare and the window, must not compete with it). */
static void flood_start(struct flood *f) {
  f->started = true;
  const struct fx_bench_run *run = f->run;
  const struct fx_bench_opts *o = run->opts;
  /* As long as the others send: their window, when --rate bounds it by -n. */
  double secs = o->rate && (double)o->count / (double)o->rate < o->duration_s ? (double)o->count / (double)o->rate
                                                                              : o->duration_s;
  f->cfg = (struct fx_load_cfg){.host = run->host, .port = run->port, .connections = o->flood_connections,
                                .count = f->n, .duration_ns = (uint64_t)(secs * 1e9),
                                .timeout_ns = (uint64_t)(o->timeout_s * 1e9), .reqs = f->reqs, .n_reqs = f->n};
  if (uv_loop_init(&f->loop) != 0 || pthread_create(&f->thread, NULL, flood_run, f) != 0) {
    snprintf(f->err, sizeof f->err, "could not start the flood");
    f->rc = -1, f->joined = true;
  }
}

static void flood_join(struct flood *f) {
  if (!f->started || f->joined) return;
  pthread_join(f->thread, NULL);
  uv_loop_close(&f->loop);
  f->joined = true;
}

static void on_response(void *user, uint64_t index, int status, uint64_t intended_ns,
                        uint64_t done_ns) {
  struct uftp *u = user;
  if (u->flood && !u->flood->started && u->flood->n) flood_start(u->flood);
  fx_async_on_response(u->async, index, status, intended_ns, done_ns);
  if (status != 200 || index >= u->n) return;
  u->got_200[index] = 1;
  u->ok++;
  u->owed += u->silent[index] != SILENT;
  u->fr_ok += u->silent[index] == FANS_OUT;
}

/* ---- mixed: a small market day before the window --------------------------------- */

static int pool_add(struct pool *p, const struct fx_bench_inbound *m, unsigned agr, size_t cap) {
  if (p->v == NULL && (p->v = calloc(cap, sizeof *p->v)) == NULL) return -1;
  if (p->n == cap) return -1;
  p->v[p->n++] = (struct answerable){m->message_id, m->conversation_id, agr, m->cp < 0 ? 0 : (unsigned)m->cp};
  return 0;
}

/* What the platform sent to the AGRs during the setup (not the responses, judged by
 * their phase): every one authentic and of `type`, into `p`. */
static int take_inbox(struct uftp *u, enum fx_msg_type type, struct pool *p, size_t cap, char *err, size_t errlen) {
  struct fx_bench_inbox *in = &u->base.inbox;
  int rc = 0;
  for (size_t i = 0; i < in->n && rc == 0; i++) {
    struct fx_bench_inbound m;
    unsigned a = 0;
    if (in->v[i].response) continue;
    if (fx_bench_open(u->msgs, in->v[i].body, in->v[i].len, &m) != 0 || m.type != type ||
        sscanf(m.recipient, "agr%u.", &a) != 1 || a >= u->plat->n_agrs || pool_add(p, &m, a, cap) != 0) {
      snprintf(err, errlen, "setup: a message at the sink that is not an authentic %s to one of our AGRs",
               fx_msg_type_name(type));
      rc = -1;
    }
  }
  fx_bench_inbox_free(in);
  return rc;
}

static void add_setup_stats(struct uftp *u, const struct fx_bench_phase_stats *st) {
  u->setup.elapsed_ns += st->elapsed_ns;
  u->setup.http.count += st->http.count;
}

/* The DSO's FlexRequest on every setup CP; their copies to the AGRs. */
static int setup_requests(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  struct fx_bench_batch bt = {0};
  struct fx_bench_phase_stats st;
  int rc = 0;
  for (unsigned c = 0; c < u->setup_cps && rc == 0; c++) {
    struct fx_bench_msg fr = {.type = FX_MSG_FLEX_REQUEST, .cp = u->offer_cps + c, .need_w = NEED_W};
    rc = fx_bench_batch_add(&bt, u->msgs, &fr, &u->plat->dso, run, err, errlen);
  }
  size_t copies = (size_t)u->setup_cps * u->plat->n_agrs;
  if (rc == 0) rc = fx_bench_uftp_phase(run, &u->base, "setup FlexRequests", &bt, copies, &st, err, errlen);
  fx_bench_batch_free(&bt);
  if (rc == 0) add_setup_stats(u, &st);
  return rc == 0 ? take_inbox(u, FX_MSG_FLEX_REQUEST, &u->copies, copies, err, errlen) : -1;
}

/* Every AGR offers on every setup CP, solicited by its copy there. */
static int setup_offers(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  struct fx_bench_batch bt = {0};
  struct fx_bench_phase_stats st;
  int rc = 0;
  for (size_t i = 0; i < u->copies.n && rc == 0; i++) {
    const struct answerable *c = &u->copies.v[i];
    struct fx_bench_msg fo = {.type = FX_MSG_FLEX_OFFER, .n_isps = 4, .cp = c->cp, .ref = &c->id,
                              .conversation = &c->conversation, .price_step = (unsigned)(i % 50)};
    rc = fx_bench_batch_add(&bt, u->msgs, &fo, &u->plat->agrs[c->agr], run, err, errlen);
  }
  if (rc == 0) rc = fx_bench_uftp_phase(run, &u->base, "setup FlexOffers", &bt, 0, &st, err, errlen);
  fx_bench_batch_free(&bt);
  if (rc == 0) add_setup_stats(u, &st);
  return rc;
}

/* The operator clears every setup market; their FlexOrders reach the sink. */
static int setup_orders(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  char period[FX_DATE_STRLEN], cp[32], path[128];
  uint64_t t0 = uv_hrtime(), base = fx_sink_received(run->sink), orders = 0;
  fx_bench_msgs_period(u->msgs, period);
  u->base.route.inbox = &u->base.inbox;
  for (unsigned c = 0; c < u->setup_cps; c++) {
    json_t *j;
    fx_bench_cp_address(u->offer_cps + c, cp);
    snprintf(path, sizeof path, "/api/markets/%s/%s/clear", cp, period);
    long status = fx_bench_uftp_operator(&u->base, "POST", path, run->opts->timeout_s, &j);
    json_int_t n = json_integer_value(json_object_get(j, "orders"));
    bool ok = status == 200 && json_is_true(json_object_get(j, "committed")) && n >= 1;
    json_decref(j);
    if (!ok) {
      snprintf(err, errlen, "setup: clearing %s: HTTP %ld, %" JSON_INTEGER_FORMAT " orders", path, status, n);
      return -1;
    }
    orders += (uint64_t)n;
  }
  if (fx_sink_wait(run->sink, base + orders, (uint64_t)(run->opts->timeout_s * 1e9)) != 0) {
    snprintf(err, errlen, "setup: %" PRIu64 " of %" PRIu64 " FlexOrders arrived", fx_sink_received(run->sink) - base,
             orders);
    return -1;
  }
  u->setup_orders = orders;
  u->setup.elapsed_ns += uv_hrtime() - t0;
  return take_inbox(u, FX_MSG_FLEX_ORDER, &u->orders, orders, err, errlen);
}

/* The platform with its common reference, then the tracker takes the sink. */
static int start(struct fx_bench_run *run, struct uftp *u, unsigned n_cps, int days_ahead, char *err,
                 size_t errlen) {
  if (fx_bench_uftp_start(run, &u->base, days_ahead, err, errlen) != 0) return -1;
  u->plat = u->base.plat;
  u->msgs = u->base.msgs;
  return fx_bench_uftp_reference(run, &u->base, n_cps, err, errlen);
}

/* extra_msgs: messages beyond the window's responses the sink may receive (the
 * flood's answers), for the tracker's room. */
static int prepare(struct fx_bench_run *run, plan_fn plan, plan_fn setup, unsigned n_cps, int days_ahead,
                   uint64_t extra_msgs, char *err, size_t errlen) {
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
      fx_async_init(u->async, o->count, 2 * o->count + extra_msgs + 64,
                    (2 * o->count + extra_msgs) * RESPONSE_BYTES + (1u << 20)) != 0 ||
      (run->reqs = calloc(o->count, sizeof *run->reqs)) == NULL ||
      (u->got_200 = calloc(o->count, 1)) == NULL || (u->silent = calloc(o->count, 1)) == NULL ||
      (u->keys = calloc(o->count, sizeof *u->keys)) == NULL) {
    snprintf(err, errlen, "out of memory for %" PRIu64 " requests", o->count);
    return -1;
  }
  u->n = o->count;
  if (start(run, u, n_cps, days_ahead, err, errlen) != 0) return -1;
  if (setup && setup(run, u, err, errlen) != 0) return -1;
  if (plan(run, u, err, errlen) != 0) return -1;
  u->base.route.inbox = NULL;
  u->base.route.async = u->async;
  u->async->count_others = true;
  u->base.sink_base = fx_sink_received(run->sink);
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
  return prepare(run, plan_ingest, NULL, 1, 1, 0, err, errlen);
}

/* The mix's CPs: offers, prognoses and metering; the small market day; the window's
 * FlexRequests. */
static void mix_layout(const struct fx_bench_opts *o, unsigned *offer, unsigned *setup, unsigned *req) {
  unsigned cycles = mix_cycles(o->count);
  *offer = mix_cps(o->count, o->agrs);
  *setup = clamp_cps((cycles + 2) / 3); /* a market orders about 3 offers */
  *req = clamp_cps(cycles);
}

static int setup_mixed(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  mix_layout(run->opts, &u->offer_cps, &u->setup_cps, &u->request_cps);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  u->portfolio_ts = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000; /* after the reference's */
  return setup_requests(run, u, err, errlen) != 0 || setup_offers(run, u, err, errlen) != 0 ||
                 setup_orders(run, u, err, errlen) != 0
             ? -1
             : 0;
}

static int prepare_mixed(struct fx_bench_run *run, char *err, size_t errlen) {
  unsigned offer, setup, req;
  mix_layout(run->opts, &offer, &setup, &req);
  return prepare(run, plan_mixed, setup_mixed, offer + setup + req, MIX_DAYS_AHEAD, 0, err, errlen);
}

static size_t flood_reqs(const struct fx_bench_opts *o) {
  if (o->flood_connections == 0) return 0;
  return o->count * 40 < FLOOD_MAX_REQS ? (size_t)o->count * 40 : FLOOD_MAX_REQS;
}

static int setup_flood(struct fx_bench_run *run, struct uftp *u, char *err, size_t errlen) {
  struct flood *f = calloc(1, sizeof *f);
  u->flood = f;
  if (f == NULL || (f->n = flood_reqs(run->opts), f->reqs = calloc(f->n ? f->n : 1, sizeof *f->reqs)) == NULL) {
    snprintf(err, errlen, "out of memory for the flood");
    return -1;
  }
  f->run = run;
  return 0;
}

static int prepare_flood(struct fx_bench_run *run, char *err, size_t errlen) {
  if (run->opts->agrs < 2) {
    snprintf(err, errlen, "flood needs --agrs 2 or more (AGR 0 floods, the others are measured)");
    return -1;
  }
  return prepare(run, plan_flood, setup_flood, 1, 1, flood_reqs(run->opts), err, errlen);
}

/* What the flood had answered 200 (0 without one, or before its join). */
static uint64_t flood_ok(const struct uftp *u) {
  return u->flood && u->flood->joined && u->flood->stats ? u->flood->stats->ok : 0;
}

static int drain(struct fx_bench_run *run, char *err, size_t errlen) {
  struct uftp *u = run->state;
  if (u->flood) flood_join(u->flood);
  uint64_t others = u->fr_ok * u->plat->n_agrs + flood_ok(u);
  run->async_expected = u->owed;
  uint64_t timeout = (uint64_t)(run->opts->timeout_s * 1e9);
  u->drained = fx_sink_wait(run->sink, u->base.sink_base + u->owed + others, timeout) == 0;
  if (u->drained) return 0;
  snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " asynchronous responses and copies arrived within %.0f s",
           fx_sink_received(run->sink) - u->base.sink_base, u->owed + others, run->opts->timeout_s);
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
  while (u->drained && a->matched + a->wrong_outcome < u->owed && (now = uv_hrtime()) < deadline) {
    uint64_t missing = u->owed - a->matched - a->wrong_outcome;
    int rc = fx_sink_wait(run->sink, fx_sink_received(run->sink) + missing, deadline - now);
    fx_async_collect_judged(a, fx_bench_judge, u->msgs);
    if (rc != 0) break;
  }
}

/* The first request answered 200 without a response; u->n when there is none. */
static uint64_t first_missing(const struct uftp *u) {
  for (uint64_t i = 0; i < u->n; i++)
    if (u->got_200[i] && u->silent[i] != SILENT && !u->async->answered[i]) return i;
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
  uint64_t copies = u->fr_ok * u->plat->n_agrs;
  if (a->others != copies) {
    snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " FlexRequest copies (%" PRIu64 " FlexRequests x %u AGRs)"
             " arrived, authentic", a->others, copies, u->fr_ok, u->plat->n_agrs);
    return -1;
  }
  if (u->flood && u->flood->rc != 0) {
    snprintf(err, errlen, "the flood could not run: %s", u->flood->err);
    return -1;
  }
  /* The flood's answers name no request of the window: one per flood 200 must
   * be among the unmatched, and then they are set aside as the flood's. */
  if (u->flood && a->unmatched == flood_ok(u)) {
    a->foreign = a->unmatched;
    a->unmatched = 0;
  }
  if (a->matched != u->owed || a->bad_signature || a->unmatched || a->duplicates || a->dropped) {
    uint64_t first = first_missing(u);
    snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " responses as expected (bad signature %" PRIu64
             ", unmatched %" PRIu64 ", duplicates %" PRIu64 ", dropped %" PRIu64 ")%s%s",
             a->matched, u->owed, a->bad_signature, a->unmatched, a->duplicates, a->dropped,
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
  if (u->setup_cps)
    fprintf(out, "setup       %u markets: %zu FlexRequest copies, %zu solicited offers, %" PRIu64
            " FlexOrders (operator clearing) in %.2f s, for the window's answers\n", u->setup_cps, u->copies.n,
            u->copies.n, u->setup_orders, u->setup.elapsed_ns / 1e9);
  if (u->flood && u->flood->stats) {
    const struct fx_load_stats *f = u->flood->stats;
    double secs = (f->window_end_ns - f->window_start_ns) / 1e9;
    fprintf(out, "flood       AGR 0 on %u connections: %" PRIu64 " FlexOffers sent, %" PRIu64
            " answered 200 in %.2f s (%.0f/s); the table above is the other %u AGRs'\n",
            run->opts->flood_connections, f->sent, f->ok, secs, secs > 0 ? f->ok / secs : 0.0, u->plat->n_agrs - 1);
  } else if (u->flood) {
    fprintf(out, "flood       none (--flood-connections 0): the baseline for the other %u AGRs\n", u->plat->n_agrs - 1);
  }
  if (u->fr_ok)
    fprintf(out, "copies      %" PRIu64 " FlexRequest copies from the window's %" PRIu64
            " FlexRequests received, authentic\n", u->async->others, u->fr_ok);
}

static void cleanup(struct fx_bench_run *run) {
  struct uftp *u = run->state;
  for (size_t i = 0; run->reqs && i < run->opts->count; i++) fx_req_free(&run->reqs[i]);
  free(run->reqs);
  run->reqs = NULL;
  run->n_reqs = 0;
  if (u == NULL) return;
  if (u->flood) {
    flood_join(u->flood);
    for (size_t i = 0; i < u->flood->n; i++) fx_req_free(&u->flood->reqs[i]);
    free(u->flood->reqs);
    fx_load_stats_free(u->flood->stats);
    free(u->flood);
  }
  fx_bench_uftp_free(&u->base);
  if (u->async) fx_async_free(u->async);
  free(u->async);
  free(u->got_200);
  free(u->silent);
  free(u->keys);
  free(u->copies.v);
  free(u->orders.v);
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
    .summary = "every message participants send, flawed and duplicate ones too, to a spawned flexd",
    .prepare = prepare_mixed,
    .drain = drain,
    .verify = verify,
    .cleanup = cleanup,
    .report = report,
};

const struct fx_workload fx_workload_flood = {
    .name = "flood",
    .summary = "AGR 0 floods (--flood-connections, closed loop) while the other AGRs send FlexOffers at --rate",
    .prepare = prepare_flood,
    .drain = drain,
    .verify = verify,
    .cleanup = cleanup,
    .report = report,
};
