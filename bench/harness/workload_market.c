/* workload_market.c — market-day: one market day on C congestion points with N AGRs
 * and a DSO, against a flexd it spawns, every step through the real endpoints:
 *
 *   before the window (prepare)
 *     reference   the DSO publishes the CPs, each AGR its connection at every CP
 *     trade setup every AGR sends a whole-day D-Prognosis per CP; the DSO a
 *                 FlexRequest per CP (need on ISPs 37–40); the platform broadcasts
 *                 a copy to every AGR, which the sink receives
 *   the window (measured like ingest)
 *                 every AGR answers each copy (FlexRequestResponse Accepted) and
 *                 sends solicited FlexOffers naming the copy's MessageID and its
 *                 D-Prognosis as baseline; each must come back Accepted
 *   after the window (verify)
 *     revocations every tenth offer after the first round is revoked: Accepted
 *     clearing    --clear=time (default): the FlexRequests expire shortly after the
 *                 window and the platform's own timer clears every market; the
 *                 harness watches the query API until all are cleared.
 *                 --clear=operator: POST .../clear on the operator listener, timed
 *     orders      the FlexOrders reach the sink; each must name an offer of ours,
 *                 not a revoked one, on its CP; its AGR answers FlexOrderResponse
 *                 Accepted
 *     metering    every AGR meters its connection at every CP for YESTERDAY (96-ISP
 *                 Power profile): MeteringResponse Accepted. The traded Period
 *                 cannot be metered in the same run: the platform refuses Metering
 *                 of a day that has not ended ("Period out of bounds"), and a day
 *                 that has ended cannot be traded.
 *     query       GET /api/markets and each market's detail must show every market
 *                 cleared, its orders all accepted, its revoked offers revoked, and
 *                 every broadcast answered Accepted
 *     settlement  --settle: POST /api/settlements/{P}/{P}: every order is settled
 *                 as incomplete (the Period has no metering yet), so every AGR's
 *                 FlexSettlement is held, none is sent; GET /api/settlements agrees
 *
 * The Period is the day after tomorrow: its day-ahead gate (15:00 tomorrow) lies
 * after any run, so only the FlexRequests' ExpirationDateTime (or the operator)
 * clears a market. With --clear=time the requests expire -d seconds (plus the time
 * to prepare and a margin for the revocations) after they are sent, and the window
 * is closed early if need be so that every offer is in before they expire. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/harness/bench.h"
#include "bench/harness/uftp_run.h"

#define DAYS_AHEAD 2
#define NEED_W 6000          /* per Requested ISP: about three offers' worth */
#define REVOKE_EVERY 10
#define RESPONSE_BYTES 2048
#define MAX_REQUEST_BYTES (UINT64_C(1) << 30)
#define BUILD_ALLOWANCE_US 250   /* per window request, to build and seal it before the window */
#define CEILING_ALLOWANCE_S 1.5  /* wall time of the ceiling measurement on a busy machine */
#define AFTER_WINDOW_S 1.0       /* window end → expiry: room for the revocations */
#define POLL_NS UINT64_C(20000000) /* the query, while waiting for the timer's clearing */

struct copy {
  struct fx_uuid id, conversation;
  bool have;
};

struct day {
  struct fx_bench_uftp base;
  struct fx_async *async;
  unsigned n_agrs, n_cps;
  uint64_t pairs;           /* (CP, AGR): index cp * n_agrs + agr */
  struct fx_uuid *prognosis; /* per pair */
  struct copy *copies;       /* per pair: the platform's FlexRequest copy */
  struct fx_uuid *offer_ids; /* per window request (offers only) */
  bool *revoked;             /* per window request */
  unsigned char *got_200;
  uint64_t n, ok, n_offers, n_revoked;
  unsigned *orders_cp, *revoked_cp; /* per CP */
  unsigned *orders_agr;             /* per AGR */
  uint64_t orders;
  bool clear_time;          /* cleared at the requests' expiry by the platform's timer */
  int64_t expiry_us;        /* the FlexRequests' ExpirationDateTime (clear_time) */
  uint64_t expiry_ns;       /* the same on uv_hrtime()'s clock */
  uint64_t cleared_seen_ns; /* when the query first showed every market cleared */
  uint64_t orders_first_ns;
  struct fx_bench_phase_stats metering;
  uint64_t n_metering;
  char yesterday[FX_DATE_STRLEN];
  uint64_t settle_ns;       /* --settle: POST → 200 */
  json_int_t settle_orders, settle_incomplete, settle_messages, settle_held;
  char period[FX_DATE_STRLEN];
  struct fx_bench_phase_stats setup, revocation, order_responses;
  struct fx_hist clear_lat;  /* operator POST → 200 (committed), per market */
  uint64_t clear_start_ns, orders_last_ns;
  bool checked;              /* the query confirmed the day */
};

static uint64_t pair_of(const struct day *d, unsigned cp, unsigned agr) { return (uint64_t)cp * d->n_agrs + agr; }

/* ---- before the window ------------------------------------------------------------ */

/* D-Prognoses (one per pair) and FlexRequests (one per CP); the copies go to the sink. */
/* --clear=time: the FlexRequests expire after the window (at most -d long, opened once
 * the window's requests are built and the ceiling measured) and the revocations. The
 * window must close AFTER_WINDOW_S before that. */
static void plan_expiry(struct fx_bench_run *run, struct day *d) {
  const struct fx_bench_opts *o = run->opts;
  double prepare_s = (double)d->n * BUILD_ALLOWANCE_US / 1e6 +
                     (o->no_ceiling ? 0 : o->ceiling_iterations ? o->ceiling_iterations * 4e-4 : CEILING_ALLOWANCE_S);
  double ahead_s = prepare_s + o->duration_s + AFTER_WINDOW_S;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t hr = uv_hrtime();
  d->expiry_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + (int64_t)(ahead_s * 1e6);
  d->expiry_ns = hr + (uint64_t)(ahead_s * 1e9);
  run->window_end_ns = d->expiry_ns - (uint64_t)(AFTER_WINDOW_S * 1e9);
}

static int trade_setup(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  struct fx_bench_batch bt = {0};
  unsigned day_isps = fx_bench_msgs_day_isps(d->base.msgs);
  int rc = 0;
  if (d->clear_time) plan_expiry(run, d);
  for (unsigned c = 0; c < d->n_cps && rc == 0; c++) {
    struct fx_bench_msg fr = {.type = FX_MSG_FLEX_REQUEST, .cp = c, .need_w = NEED_W, .expiry_us = d->expiry_us};
    rc = fx_bench_batch_add(&bt, d->base.msgs, &fr, &d->base.plat->dso, run, err, errlen);
    for (unsigned a = 0; a < d->n_agrs && rc == 0; a++) {
      struct fx_bench_msg dp = {.type = FX_MSG_D_PROGNOSIS, .cp = c, .n_isps = day_isps};
      rc = fx_bench_batch_add(&bt, d->base.msgs, &dp, &d->base.plat->agrs[a], run, err, errlen);
      if (rc == 0) d->prognosis[pair_of(d, c, a)] = bt.ids[bt.n - 1];
    }
  }
  if (rc == 0)
    rc = fx_bench_uftp_phase(run, &d->base, "D-Prognoses and FlexRequests", &bt, d->pairs, &d->setup, err, errlen);
  fx_bench_batch_free(&bt);
  return rc;
}

/* The platform's FlexRequest copies, one per pair, from the inbox. */
static int take_copies(struct day *d, char *err, size_t errlen) {
  struct fx_bench_inbox *in = &d->base.inbox;
  for (size_t i = 0; i < in->n; i++) {
    struct fx_bench_inbound m;
    if (in->v[i].response) continue;
    unsigned a = 0;
    if (fx_bench_open(d->base.msgs, in->v[i].body, in->v[i].len, &m) != 0 || m.type != FX_MSG_FLEX_REQUEST ||
        m.cp < 0 || (unsigned)m.cp >= d->n_cps || sscanf(m.recipient, "agr%u.", &a) != 1 || a >= d->n_agrs) {
      snprintf(err, errlen, "the platform sent something other than an authentic FlexRequest copy");
      return -1;
    }
    struct copy *c = &d->copies[pair_of(d, (unsigned)m.cp, a)];
    if (c->have) {
      snprintf(err, errlen, "two FlexRequest copies for %s on CP %ld", m.recipient, m.cp);
      return -1;
    }
    *c = (struct copy){m.message_id, m.conversation_id, true};
  }
  fx_bench_inbox_free(in);
  return 0;
}

/* Window request i: the first `pairs` answer the copies, the rest are offers on pair
 * (i - pairs) mod pairs. */
static int plan_window(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  for (uint64_t i = 0; i < d->n; i++) {
    uint64_t j = i < d->pairs ? i : i - d->pairs, p = j % d->pairs;
    const struct copy *c = &d->copies[p];
    struct fx_bench_msg spec = {.type = FX_MSG_FLEX_REQUEST_RESPONSE, .ref = &c->id, .conversation = &c->conversation};
    if (i >= d->pairs)
      spec = (struct fx_bench_msg){.type = FX_MSG_FLEX_OFFER, .n_isps = 4, .cp = (unsigned)(p / d->n_agrs),
                                   .ref = &c->id, .conversation = &c->conversation, .baseline = &d->prognosis[p],
                                   .price_step = (unsigned)(j * 7 % 50)};
    struct fx_bench_built built;
    const struct fx_bench_party *from = &d->base.plat->agrs[p % d->n_agrs];
    if (fx_bench_msgs_build(d->base.msgs, &spec, from, run->host, run->port, &run->reqs[i], &built, err, errlen) != 0)
      return -1;
    run->n_reqs++;
    run->inbound_len += built.inner_len;
    if (i < d->pairs) continue;
    d->offer_ids[i] = built.message_id;
    d->n_offers++;
    if (fx_async_expect_outcome(d->async, i, built.key, built.outcome) != 0) {
      snprintf(err, errlen, "offer %" PRIu64 ": key not registered", i);
      return -1;
    }
  }
  run->inbound_len /= d->n;
  return 0;
}

static void on_response(void *user, uint64_t index, int status, uint64_t intended_ns, uint64_t done_ns) {
  struct day *d = user;
  fx_async_on_response(d->async, index, status, intended_ns, done_ns);
  if (status != 200 || index >= d->n) return;
  d->got_200[index] = 1;
  if (index >= d->pairs) d->ok++; /* only offers are answered */
}

static int allocate(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  const struct fx_bench_opts *o = run->opts;
  d->n = o->count;
  d->n_agrs = o->agrs;
  d->n_cps = o->cps;
  d->pairs = (uint64_t)o->agrs * o->cps;
  d->clear_time = !o->clear_operator;
  if (d->n < 2 * d->pairs || d->n * 4096 > MAX_REQUEST_BYTES) {
    snprintf(err, errlen, "market-day needs -n between 2 x agrs x cps (%" PRIu64 ") and %" PRIu64, 2 * d->pairs,
             MAX_REQUEST_BYTES / 4096);
    return -1;
  }
  if ((d->async = malloc(sizeof *d->async)) == NULL ||
      fx_async_init(d->async, d->n, d->n + 64, d->n * RESPONSE_BYTES + (1u << 20)) != 0 ||
      !(run->reqs = calloc(d->n, sizeof *run->reqs)) || !(d->prognosis = calloc(d->pairs, sizeof *d->prognosis)) ||
      !(d->copies = calloc(d->pairs, sizeof *d->copies)) || !(d->offer_ids = calloc(d->n, sizeof *d->offer_ids)) ||
      !(d->revoked = calloc(d->n, sizeof *d->revoked)) || !(d->got_200 = calloc(d->n, 1)) ||
      !(d->orders_cp = calloc(d->n_cps, sizeof *d->orders_cp)) ||
      !(d->revoked_cp = calloc(d->n_cps, sizeof *d->revoked_cp)) ||
      !(d->orders_agr = calloc(d->n_agrs, sizeof *d->orders_agr))) {
    snprintf(err, errlen, "out of memory for %" PRIu64 " requests", d->n);
    return -1;
  }
  fx_hist_reset(&d->clear_lat);
  return 0;
}

static int prepare(struct fx_bench_run *run, char *err, size_t errlen) {
  struct day *d = calloc(1, sizeof *d);
  run->state = d;
  if (d == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (allocate(run, d, err, errlen) != 0 || fx_bench_uftp_start(run, &d->base, DAYS_AHEAD, err, errlen) != 0 ||
      fx_bench_uftp_reference(run, &d->base, d->n_cps, err, errlen) != 0 || trade_setup(run, d, err, errlen) != 0 ||
      take_copies(d, err, errlen) != 0 || plan_window(run, d, err, errlen) != 0)
    return -1;
  fx_bench_msgs_period(d->base.msgs, d->period);
  d->base.route.inbox = NULL;
  d->base.route.async = d->async;
  d->base.sink_base = fx_sink_received(run->sink);
  run->response_len = fx_bench_msgs_response_len(d->base.msgs);
  run->async = &d->async->lat;
  run->async_track = d->async;
  run->on_response = on_response;
  return 0;
}

/* ---- the window's responses --------------------------------------------------------- */

static int drain(struct fx_bench_run *run, char *err, size_t errlen) {
  struct day *d = run->state;
  run->async_expected = d->ok;
  uint64_t timeout = (uint64_t)(run->opts->timeout_s * 1e9);
  if (fx_sink_wait(run->sink, d->base.sink_base + d->ok, timeout) == 0) return 0;
  snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " FlexOfferResponses arrived within %.0f s",
           fx_sink_received(run->sink) - d->base.sink_base, d->ok, run->opts->timeout_s);
  return -1;
}

static int check_window(struct day *d, char *err, size_t errlen) {
  struct fx_async *a = d->async;
  fx_async_collect_judged(a, fx_bench_judge, d->base.msgs);
  if (a->wrong_outcome) {
    char want[96], got[96];
    fx_bench_outcome_name(a->first_wrong_expected, want, sizeof want);
    fx_bench_outcome_name(a->first_wrong_got, got, sizeof got);
    snprintf(err, errlen, "%" PRIu64 " wrong outcomes; the first: request %" PRIu64 " expected %s, got %s",
             a->wrong_outcome, a->first_wrong_index, want, got);
    return -1;
  }
  if (a->matched != d->ok || a->bad_signature || a->unmatched || a->duplicates || a->dropped) {
    snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " FlexOfferResponses as expected (bad signature %" PRIu64
             ", unmatched %" PRIu64 ", duplicates %" PRIu64 ", dropped %" PRIu64 ")",
             a->matched, d->ok, a->bad_signature, a->unmatched, a->duplicates, a->dropped);
    return -1;
  }
  if (d->ok != d->n_offers) {
    snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " offers answered 200", d->ok, d->n_offers);
    return -1;
  }
  return 0;
}

/* ---- after the window: revocations ------------------------------------------------- */

static int revoke(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  struct fx_bench_batch bt = {0};
  int rc = 0;
  for (uint64_t i = 2 * d->pairs; i < d->n && rc == 0; i++) {
    uint64_t j = i - d->pairs, p = j % d->pairs;
    if (j % REVOKE_EVERY != REVOKE_EVERY - 1) continue;
    struct fx_bench_msg spec = {.type = FX_MSG_FLEX_OFFER_REVOCATION, .ref = &d->offer_ids[i]};
    rc = fx_bench_batch_add(&bt, d->base.msgs, &spec, &d->base.plat->agrs[p % d->n_agrs], run, err, errlen);
    d->revoked[i] = true;
    d->revoked_cp[p / d->n_agrs]++;
    d->n_revoked++;
  }
  if (rc == 0) rc = fx_bench_uftp_phase(run, &d->base, "FlexOfferRevocation", &bt, 0, &d->revocation, err, errlen);
  fx_bench_batch_free(&bt);
  return rc;
}

/* ---- clearing and orders ---------------------------------------------------------- */

static int clear_one(struct day *d, unsigned c, double timeout_s, char *err, size_t errlen) {
  char cp[32], path[128];
  json_t *j;
  fx_bench_cp_address(c, cp);
  snprintf(path, sizeof path, "/api/markets/%s/%s/clear", cp, d->period);
  uint64_t t0 = uv_hrtime();
  long status = fx_bench_uftp_operator(&d->base, "POST", path, timeout_s, &j);
  fx_hist_record(&d->clear_lat, uv_hrtime() - t0);
  json_int_t orders = json_integer_value(json_object_get(j, "orders"));
  bool ok = status == 200 && json_is_true(json_object_get(j, "found")) &&
            json_is_true(json_object_get(j, "committed")) && orders >= 1;
  json_decref(j);
  if (!ok) {
    snprintf(err, errlen, "clearing %s: HTTP %ld, %" JSON_INTEGER_FORMAT " orders", path, status, orders);
    return -1;
  }
  d->orders += (uint64_t)orders;
  return 0;
}

/* The window request that sent offer `id` (linear: orders are few). */
static uint64_t offer_index(const struct day *d, const struct fx_uuid *id) {
  for (uint64_t i = d->pairs; i < d->n; i++)
    if (memcmp(d->offer_ids[i].b, id->b, sizeof id->b) == 0) return i;
  return d->n;
}

/* Every FlexOrder: authentic, to the AGR of an offer of ours on its CP, not revoked. */
static int check_order(struct day *d, const struct fx_bench_inbound *m, unsigned *agr, char *err, size_t errlen) {
  uint64_t i = offer_index(d, &m->offer_id);
  uint64_t p = i < d->n ? (i - d->pairs) % d->pairs : 0;
  if (m->type != FX_MSG_FLEX_ORDER || i == d->n || d->revoked[i] || m->cp != (long)(p / d->n_agrs) ||
      strcmp(m->recipient, d->base.plat->agrs[p % d->n_agrs].domain)) {
    char id[FX_UUID_STRLEN];
    fx_uuid_format(&m->offer_id, id);
    snprintf(err, errlen, "a %s to %s on CP %ld for offer %s%s, which is not an open offer of that AGR on that CP",
             fx_msg_type_name(m->type), m->recipient, m->cp, id, i == d->n ? " (not ours)" : "");
    return -1;
  }
  *agr = (unsigned)(p % d->n_agrs);
  d->orders_cp[m->cp]++;
  d->orders_agr[*agr]++;
  return 0;
}

static int answer_orders(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  struct fx_bench_inbox *in = &d->base.inbox;
  struct fx_bench_batch bt = {0};
  int rc = 0;
  for (size_t i = 0; i < in->n && rc == 0; i++) {
    struct fx_bench_inbound m;
    unsigned a = 0;
    if (in->v[i].response) continue; /* the revocations' answers, judged already */
    if (fx_bench_open(d->base.msgs, in->v[i].body, in->v[i].len, &m) != 0) {
      snprintf(err, errlen, "a message at the sink not signed by the platform");
      rc = -1;
      break;
    }
    if (in->v[i].arrival_ns > d->orders_last_ns) d->orders_last_ns = in->v[i].arrival_ns;
    if (d->orders_first_ns == 0 || in->v[i].arrival_ns < d->orders_first_ns) d->orders_first_ns = in->v[i].arrival_ns;
    if ((rc = check_order(d, &m, &a, err, errlen)) != 0) break;
    struct fx_bench_msg spec = {.type = FX_MSG_FLEX_ORDER_RESPONSE, .ref = &m.message_id,
                                .conversation = &m.conversation_id};
    rc = fx_bench_batch_add(&bt, d->base.msgs, &spec, &d->base.plat->agrs[a], run, err, errlen);
  }
  fx_bench_inbox_free(in);
  if (rc == 0)
    rc = fx_bench_uftp_phase(run, &d->base, "FlexOrderResponse", &bt, 0, &d->order_responses, err, errlen);
  fx_bench_batch_free(&bt);
  return rc;
}

/* Orders of our Period's markets in the listing, and whether all of them are cleared. */
static bool all_cleared(const struct day *d, json_t *all, uint64_t *orders) {
  json_t *m;
  size_t i, cleared = 0;
  *orders = 0;
  json_array_foreach(all, i, m) {
    const char *cp = json_string_value(json_object_get(m, "congestion_point"));
    long c = cp ? fx_bench_cp_index(cp) : -1;
    const char *state = json_string_value(json_object_get(json_object_get(m, "request"), "state"));
    const char *period = json_string_value(json_object_get(m, "period"));
    if (c < 0 || (unsigned)c >= d->n_cps || !period || strcmp(period, d->period)) continue;
    json_t *o = json_object_get(m, "orders");
    *orders += (uint64_t)(json_integer_value(json_object_get(o, "placed")) +
                          json_integer_value(json_object_get(o, "accepted")) +
                          json_integer_value(json_object_get(o, "rejected")));
    cleared += state && !strcmp(state, "cleared");
  }
  return cleared == d->n_cps;
}

/* --clear=time: nothing to do but wait for the expiry, serving the sink, then watch
 * the listing (bounded by the timeout) until the platform's timer has cleared every
 * market; the orders it lists are the FlexOrders to expect. */
static int await_clearing(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  uint64_t now = uv_hrtime(), timeout = (uint64_t)(run->opts->timeout_s * 1e9);
  if (now < d->expiry_ns) fx_sink_wait(run->sink, UINT64_MAX, d->expiry_ns - now);
  d->clear_start_ns = d->expiry_ns;
  while (uv_hrtime() < d->expiry_ns + timeout) {
    json_t *all;
    long status = fx_bench_uftp_operator(&d->base, "GET", "/api/markets", run->opts->timeout_s, &all);
    bool done = status == 200 && all_cleared(d, all, &d->orders);
    json_decref(all);
    if (done) {
      d->cleared_seen_ns = uv_hrtime();
      return 0;
    }
    fx_sink_wait(run->sink, UINT64_MAX, POLL_NS);
  }
  snprintf(err, errlen, "the markets were not all cleared within %.0f s of the requests' expiry",
           run->opts->timeout_s);
  return -1;
}

static int clear_and_order(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  d->base.route.inbox = &d->base.inbox;
  uint64_t base = fx_sink_received(run->sink);
  if (d->clear_time) {
    if (await_clearing(run, d, err, errlen) != 0) return -1;
  } else {
    d->clear_start_ns = uv_hrtime();
    for (unsigned c = 0; c < d->n_cps; c++)
      if (clear_one(d, c, run->opts->timeout_s, err, errlen) != 0) return -1;
  }
  if (fx_sink_wait(run->sink, base + d->orders, (uint64_t)(run->opts->timeout_s * 1e9)) != 0) {
    snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " FlexOrders arrived within %.0f s",
             fx_sink_received(run->sink) - base, d->orders, run->opts->timeout_s);
    return -1;
  }
  return answer_orders(run, d, err, errlen);
}

/* ---- the query API ------------------------------------------------------------------ */

/* A string member, "" when absent or not a string. */
static const char *str_of(json_t *obj, const char *key) {
  const char *v = json_string_value(json_object_get(obj, key));
  return v ? v : "";
}

static json_int_t count_of(json_t *market, const char *group, const char *state) {
  return json_integer_value(json_object_get(json_object_get(market, group), state));
}

/* One market in the listing: cleared, every order accepted, the revoked offers revoked. */
static int check_listed(const struct day *d, unsigned c, json_t *m, char *err, size_t errlen) {
  const char *state = json_string_value(json_object_get(json_object_get(m, "request"), "state"));
  if (state && !strcmp(state, "cleared") && d->orders_cp[c] >= 1 && count_of(m, "orders", "accepted") == d->orders_cp[c] &&
      count_of(m, "orders", "placed") == 0 && count_of(m, "orders", "rejected") == 0 &&
      count_of(m, "offers", "ordered") == d->orders_cp[c] && count_of(m, "offers", "revoked") == d->revoked_cp[c])
    return 0;
  snprintf(err, errlen, "query: market %u is %s with %" JSON_INTEGER_FORMAT " of %u orders accepted, %"
           JSON_INTEGER_FORMAT " of %u offers revoked", c, state ? state : "(no request)",
           count_of(m, "orders", "accepted"), d->orders_cp[c], count_of(m, "offers", "revoked"), d->revoked_cp[c]);
  return -1;
}

/* One market in detail: a copy per AGR, each answered Accepted. */
static int check_broadcasts(const struct day *d, unsigned c, double timeout_s, char *err, size_t errlen) {
  char cp[32], path[128];
  json_t *j, *b;
  size_t i, accepted = 0;
  fx_bench_cp_address(c, cp);
  snprintf(path, sizeof path, "/api/markets/%s/%s", cp, d->period);
  long status = fx_bench_uftp_operator(&d->base, "GET", path, timeout_s, &j);
  json_t *arr = json_object_get(j, "broadcasts");
  json_array_foreach(arr, i, b) accepted += !strcmp(str_of(b, "response"), "Accepted");
  size_t n = json_array_size(arr);
  json_decref(j);
  if (status == 200 && n == d->n_agrs && accepted == n) return 0;
  snprintf(err, errlen, "query %s: HTTP %ld, %zu broadcasts, %zu answered Accepted (want %u)", path, status, n,
           accepted, d->n_agrs);
  return -1;
}

static int check_query(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  json_t *all, *m;
  size_t i, found = 0;
  long status = fx_bench_uftp_operator(&d->base, "GET", "/api/markets", run->opts->timeout_s, &all);
  int rc = status == 200 && json_is_array(all) ? 0 : -1;
  if (rc) snprintf(err, errlen, "query /api/markets: HTTP %ld", status);
  json_array_foreach(all, i, m) {
    long c = fx_bench_cp_index(str_of(m, "congestion_point"));
    if (rc || strcmp(str_of(m, "period"), d->period) || c < 0 || (unsigned)c >= d->n_cps) continue;
    found++;
    rc = check_listed(d, (unsigned)c, m, err, errlen);
  }
  json_decref(all);
  if (rc == 0 && found != d->n_cps) {
    snprintf(err, errlen, "query: %zu of %u markets listed", found, d->n_cps);
    rc = -1;
  }
  for (unsigned c = 0; c < d->n_cps && rc == 0; c++) rc = check_broadcasts(d, c, run->opts->timeout_s, err, errlen);
  d->checked = rc == 0;
  return rc;
}

/* ---- metering and settlement -------------------------------------------------------- */

/* Every AGR meters its connection at every CP for yesterday, the last day that has
 * ended (the traded Period has not: its Metering would be "Period out of bounds"). */
static int meter(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  struct fx_bench_batch bt = {0};
  int back = -(fx_bench_msgs_days_ahead(d->base.msgs) + 1), rc = 0;
  fx_bench_msgs_period_shifted(d->base.msgs, back, d->yesterday);
  for (unsigned c = 0; c < d->n_cps && rc == 0; c++)
    for (unsigned a = 0; a < d->n_agrs && rc == 0; a++) {
      struct fx_bench_msg spec = {.type = FX_MSG_METERING, .cp = c, .day_offset = back};
      rc = fx_bench_batch_add(&bt, d->base.msgs, &spec, &d->base.plat->agrs[a], run, err, errlen);
    }
  d->n_metering = bt.n;
  if (rc == 0) rc = fx_bench_uftp_phase(run, &d->base, "Metering", &bt, 0, &d->metering, err, errlen);
  fx_bench_batch_free(&bt);
  return rc;
}

/* The run's FlexSettlements in the query: one per AGR with orders, each held with
 * every order incomplete. */
static int check_settlements(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  char path[128];
  json_t *all, *s;
  size_t i;
  snprintf(path, sizeof path, "/api/settlements/%s/%s", d->period, d->period);
  long status = fx_bench_uftp_operator(&d->base, "GET", path, run->opts->timeout_s, &all);
  int rc = status == 200 && json_is_array(all) ? 0 : -1;
  if (rc) snprintf(err, errlen, "query %s: HTTP %ld", path, status);
  json_array_foreach(all, i, s) {
    unsigned a = 0;
    const char *agr = json_string_value(json_object_get(s, "agr")), *state = json_string_value(json_object_get(s, "state"));
    if (rc || !agr || sscanf(agr, "agr%u.", &a) != 1 || a >= d->n_agrs) continue;
    json_int_t orders = json_integer_value(json_object_get(s, "orders"));
    if (!state || strcmp(state, "held") || orders != d->orders_agr[a] ||
        json_integer_value(json_object_get(s, "incomplete")) != orders ||
        json_array_size(json_object_get(s, "items")) != (size_t)orders) {
      snprintf(err, errlen, "settlement of %s: %s with %" JSON_INTEGER_FORMAT " orders (want held with %u, all incomplete)",
               agr, state ? state : "?", orders, d->orders_agr[a]);
      rc = -1;
    }
    d->settle_held++;
  }
  json_decref(all);
  unsigned with_orders = 0;
  for (unsigned a = 0; a < d->n_agrs; a++) with_orders += d->orders_agr[a] > 0;
  if (rc == 0 && d->settle_held != with_orders) {
    snprintf(err, errlen, "query %s: %" JSON_INTEGER_FORMAT " settlements for %u AGRs with orders", path,
             d->settle_held, with_orders);
    rc = -1;
  }
  return rc;
}

/* --settle: the settlement run on request over the traded Period, timed; no
 * FlexSettlement may be sent (see check_settlements), so none is awaited. */
static int settle(struct fx_bench_run *run, struct day *d, char *err, size_t errlen) {
  char path[128];
  json_t *j;
  snprintf(path, sizeof path, "/api/settlements/%s/%s", d->period, d->period);
  uint64_t t0 = uv_hrtime();
  long status = fx_bench_uftp_operator(&d->base, "POST", path, run->opts->timeout_s, &j);
  d->settle_ns = uv_hrtime() - t0;
  d->settle_messages = json_integer_value(json_object_get(j, "messages"));
  d->settle_orders = json_integer_value(json_object_get(j, "orders"));
  d->settle_incomplete = json_integer_value(json_object_get(j, "incomplete"));
  bool ok = status == 200 && json_is_true(json_object_get(j, "committed")) && d->settle_messages == 0 &&
            d->settle_orders == (json_int_t)d->orders && d->settle_incomplete == d->settle_orders;
  json_decref(j);
  if (!ok) {
    snprintf(err, errlen, "settlement run %s: HTTP %ld, %" JSON_INTEGER_FORMAT " FlexSettlements, %"
             JSON_INTEGER_FORMAT " orders (%" JSON_INTEGER_FORMAT " incomplete); want 0, %" PRIu64 " (all)",
             path, status, d->settle_messages, d->settle_orders, d->settle_incomplete, d->orders);
    return -1;
  }
  return check_settlements(run, d, err, errlen);
}

static int verify(struct fx_bench_run *run, char *err, size_t errlen) {
  struct day *d = run->state;
  if (check_window(d, err, errlen) != 0) return -1;
  run->async_last_ns = d->async->last_arrival_ns;
  if (revoke(run, d, err, errlen) != 0 || clear_and_order(run, d, err, errlen) != 0 ||
      meter(run, d, err, errlen) != 0 || check_query(run, d, err, errlen) != 0)
    return -1;
  return run->opts->settle ? settle(run, d, err, errlen) : 0;
}

/* ---- report and cleanup ----------------------------------------------------------------- */

static void report(const struct fx_bench_run *run, FILE *out) {
  const struct day *d = run->state;
  struct fx_lat_summary cl;
  fx_hist_summary(&d->clear_lat, &cl);
  fprintf(out, "market-day  %u CPs x %u AGRs, Period %s, %s store\n", d->n_cps, d->n_agrs, d->period,
          run->opts->nosync ? "nosync" : "durable");
  fprintf(out, "before      reference %zu updates %.2f s; %u FlexRequests + %" PRIu64
          " D-Prognoses and %" PRIu64 " copies broadcast %.2f s\n",
          (size_t)d->base.reference.http.count, d->base.reference.elapsed_ns / 1e9, d->n_cps, d->pairs, d->pairs,
          d->setup.elapsed_ns / 1e9);
  fprintf(out, "window      %" PRIu64 " FlexRequestResponses, %" PRIu64 " solicited FlexOffers\n", d->pairs,
          d->n_offers);
  fprintf(out, "after       %" PRIu64 " revocations %.2f s (async p50 %.1f ms)\n", d->n_revoked,
          d->revocation.elapsed_ns / 1e9, d->revocation.async.p50 / 1e6);
  double first = d->orders_first_ns > d->clear_start_ns ? (d->orders_first_ns - d->clear_start_ns) / 1e6 : 0.0;
  double last = d->orders_last_ns > d->clear_start_ns ? (d->orders_last_ns - d->clear_start_ns) / 1e6 : 0.0;
  if (d->clear_time)
    fprintf(out, "clearing    at the requests' expiry (platform timer): %" PRIu64 " FlexOrders at the sink"
            " %.1f–%.1f ms after it; all %u markets seen cleared %.1f ms after it\n", d->orders, first, last,
            d->n_cps, d->cleared_seen_ns > d->expiry_ns ? (d->cleared_seen_ns - d->expiry_ns) / 1e6 : 0.0);
  else
    fprintf(out, "clearing    by the operator: per market p50 %.1f ms max %.1f ms; %" PRIu64
            " FlexOrders, the last %.1f ms after the first clear\n", cl.p50 / 1e6, cl.max / 1e6, d->orders, last);
  fprintf(out, "orders      %zu FlexOrderResponses %.2f s\n", (size_t)d->order_responses.http.count,
          d->order_responses.elapsed_ns / 1e9);
  fprintf(out, "metering    %" PRIu64 " Meterings of %s (96-ISP Power), %.2f s (async p50 %.1f ms, max %.1f ms)\n",
          d->n_metering, d->yesterday, d->metering.elapsed_ns / 1e9, d->metering.async.p50 / 1e6,
          d->metering.async.max / 1e6);
  fprintf(out, "query       %s\n", d->checked ? "every market cleared with orders, all accepted; revocations and "
                                               "broadcast answers recorded" : "not confirmed (see the failure)");
  if (run->opts->settle)
    fprintf(out, "settlement  run on request over %s: %.1f ms; %" JSON_INTEGER_FORMAT " orders, %" JSON_INTEGER_FORMAT
            " incomplete (no metering of the Period yet), %" JSON_INTEGER_FORMAT " FlexSettlements sent, %"
            JSON_INTEGER_FORMAT " held\n", d->period, d->settle_ns / 1e6, d->settle_orders, d->settle_incomplete,
            d->settle_messages, d->settle_held);
}

static void cleanup(struct fx_bench_run *run) {
  struct day *d = run->state;
  for (size_t i = 0; run->reqs && i < run->opts->count; i++) fx_req_free(&run->reqs[i]);
  free(run->reqs);
  run->reqs = NULL;
  run->n_reqs = 0;
  if (d == NULL) return;
  fx_bench_uftp_free(&d->base);
  if (d->async) fx_async_free(d->async);
  free(d->async);
  free(d->prognosis);
  free(d->copies);
  free(d->offer_ids);
  free(d->revoked);
  free(d->got_200);
  free(d->orders_cp);
  free(d->revoked_cp);
  free(d->orders_agr);
  free(d);
  run->state = NULL;
  run->async = NULL;
  run->async_track = NULL;
}

const struct fx_workload fx_workload_market_day = {
    .name = "market-day",
    .summary = "a market day on --cps CPs: portfolios, prognoses, requests, solicited offers, "
               "revocations, clearing (--clear), orders, metering, the query API, --settle",
    .prepare = prepare,
    .drain = drain,
    .verify = verify,
    .cleanup = cleanup,
    .report = report,
};
