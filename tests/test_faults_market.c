/* test_faults_market.c — kill -9 of flexd at a random moment of a market day
 * (FlexRequests, their copies to the AGRs, offers, clearing, FlexOrders on
 * their way), then a restart and the rest of the day:
 *   - every message that got HTTP 200 is in the store after the crash;
 *   - no FlexOrder is sent twice with different content (same MessageID →
 *     identical bytes once the signature is opened), and no offer gets two
 *     orders;
 *   - no order is lost: every order the query API shows reaches its AGR, and
 *     every order an AGR receives is in the query API.
 * The moment is drawn from a seed that is logged, so a failure can be rerun
 * (FLEXD_FAULTS_SEED). Bounded: 10 markets, 3 AGRs, one crash. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/support/peer.h"

enum { N_CP = 10, N_AGR = 3, MAX_ACKED = 256, KILL_WITHIN_MS = 500, WAIT_MS = 20000 };

static const char *const agrs[N_AGR] = {SIM_AGR, SIM_AGR2, SIM_AGR3};
static const struct fx_flex_request_isp need[] = {{FX_DISPOSITION_REQUESTED, -300000, -150000, 69, 4}};

struct acked {
  char sender[64];
  char id[FX_UUID_STRLEN];
};

struct day {
  struct fx_sim *sim;
  fx_arena *arena;
  char today[FX_DATE_STRLEN], date[FX_DATE_STRLEN];
  char cp[N_CP][32], conn[N_CP][N_AGR][32];
  bool requested[N_CP], offered[N_CP][N_AGR];
  struct acked acked[MAX_ACKED];
  size_t n_acked;
  atomic_bool killed;
  unsigned kill_after_ms;
};

/* Sends m; notes it when answered 200. Returns the status (0: flexd gone). */
static int send(struct day *d, struct fx_msg *m) {
  char id[FX_UUID_STRLEN];
  fx_sim_msg_id(m, id);
  int st = fx_sim_send_msg(d->sim, m);
  if (st == 200 && d->n_acked < MAX_ACKED) {
    struct acked *a = &d->acked[d->n_acked++];
    snprintf(a->sender, sizeof a->sender, "%s", m->hdr.sender_domain);
    memcpy(a->id, id, sizeof a->id);
  }
  return st;
}

static void portfolios(struct day *d) {
  struct fx_sim_cp cps[N_CP];
  const char *conns[N_CP][N_AGR];
  for (int i = 0; i < N_CP; i++) {
    snprintf(d->cp[i], sizeof d->cp[i], "ean.87168590001234%04d", i);
    for (int k = 0; k < N_AGR; k++) {
      snprintf(d->conn[i][k], sizeof d->conn[i][k], "ean.8716859000%04d%04d", i, k);
      conns[i][k] = d->conn[i][k];
    }
    cps[i] = (struct fx_sim_cp){d->cp[i], conns[i], N_AGR, true};
  }
  struct fx_msg m;
  fx_sim_dso_portfolio(&m, d->arena, SIM_DSO, d->today, cps, N_CP);
  cr_assert_eq(send(d, &m), 200);
  for (int k = 0; k < N_AGR; k++) {
    const char *mine[N_CP];
    for (int i = 0; i < N_CP; i++)
      mine[i] = d->conn[i][k];
    fx_sim_agr_portfolio(&m, d->arena, agrs[k], d->today, mine, N_CP);
    cr_assert_eq(send(d, &m), 200);
  }
  /* The portfolios must be in force before the day starts. */
  cr_assert_not_null(fx_sim_await(d->sim, FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE, d->acked[d->n_acked - 1].id, WAIT_MS,
                                  d->arena));
}

/* The platform's copy of the FlexRequest for cp sent to agr (any of them,
 * a re-delivery has the same MessageID); waits up to timeout_ms. */
static bool copy_for(struct day *d, const char *agr, const char *cp, int timeout_ms, char out[FX_UUID_STRLEN]) {
  for (int w = 0; w <= timeout_ms; w += 50) {
    unsigned n = fx_sim_count_sent(d->sim, FX_MSG_FLEX_REQUEST, agr);
    for (unsigned j = 0; j < n; j++) {
      const struct fx_msg *c = fx_sim_await_sent(d->sim, FX_MSG_FLEX_REQUEST, agr, j, 0, d->arena);
      if (c && !strcmp(c->u.flex_request.flex.congestion_point, cp)) {
        fx_sim_msg_id(c, out);
        return true;
      }
    }
    if (atomic_load(&d->killed))
      return false;
    usleep(50000);
  }
  return false;
}

/* One market's part of the day. Returns false once flexd is gone. */
static bool market(struct day *d, int i, int timeout_ms) {
  struct fx_msg m;
  if (!d->requested[i]) {
    fx_sim_flex_request(&m, d->arena, SIM_DSO, d->cp[i], d->date, 1, 3600, need, 1);
    int st = send(d, &m);
    if (st != 200)
      return false;
    d->requested[i] = true;
  }
  for (int k = 0; k < N_AGR; k++) {
    char copy[FX_UUID_STRLEN];
    if (d->offered[i][k])
      continue;
    if (!copy_for(d, agrs[k], d->cp[i], timeout_ms, copy))
      return false;
    struct fx_isp isps[] = {{-150000, 69, 4}};
    struct fx_offer_option o = {"A", (10 + k) * FX_MONEY_SCALE, 100, isps, 1};
    fx_sim_flex_offer(&m, d->arena, agrs[k], d->cp[i], d->date, 3600, copy, &o, 1);
    if (send(d, &m) != 200)
      return false;
    d->offered[i][k] = true;
  }
  return fx_sim_clear(d->sim, d->cp[i], d->date, NULL) == 200;
}

static void *killer(void *arg) {
  struct day *d = arg;
  usleep(d->kill_after_ms * 1000u);
  kill(fx_sim_pid(d->sim), SIGKILL); /* reaped by the test's thread */
  atomic_store(&d->killed, true);
  return NULL;
}

static void quiet(void *ud, const char *msg) { (void)ud, (void)msg; }

static void everything_acked_is_stored(struct day *d) {
  char path[256];
  snprintf(path, sizeof path, "%s/store", fx_sim_dir(d->sim));
  struct fx_store *st;
  struct fx_store_opts o = {.path = path, .log = quiet};
  cr_assert_eq(fx_store_open(&st, &o), 0);
  struct fx_store_read rd;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  for (size_t i = 0; i < d->n_acked; i++) {
    struct fx_uuid u;
    struct fx_store_msg_view v;
    cr_assert_eq(fx_uuid_parse(d->acked[i].id, 36, &u, NULL), 0);
    cr_assert_eq(fx_store_msg_get(&rd, d->acked[i].sender, u.b, &v), 0, "acknowledged message %s from %s was lost",
                 d->acked[i].id, d->acked[i].sender);
  }
  fx_store_read_end(&rd);
  fx_store_read_free(&rd);
  fx_store_close(st);
}

struct got_order {
  char id[FX_UUID_STRLEN], offer[FX_UUID_STRLEN], to[64];
  const char *xml;
  size_t len;
};

/* Every FlexOrder received so far; returns how many (at most cap). */
static size_t received_orders(struct day *d, struct got_order *g, size_t cap) {
  unsigned n = fx_sim_count_sent(d->sim, FX_MSG_FLEX_ORDER, NULL);
  size_t k = 0;
  for (unsigned j = 0; j < n && k < cap; j++) {
    const struct fx_msg *o = fx_sim_await_sent(d->sim, FX_MSG_FLEX_ORDER, NULL, j, 0, d->arena);
    cr_assert_not_null(o);
    fx_sim_msg_id(o, g[k].id);
    fx_uuid_format(&o->u.flex_order.flex_offer_message_id, g[k].offer);
    snprintf(g[k].to, sizeof g[k].to, "%s", o->hdr.recipient_domain);
    g[k].xml = fx_sim_sent_xml(d->sim, FX_MSG_FLEX_ORDER, NULL, j, &g[k].len);
    cr_assert_not_null(g[k].xml);
    k++;
  }
  return k;
}

static bool has_order(const struct got_order *g, size_t n, const char *id, const char *agr) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(g[i].id, id) && !strcmp(g[i].to, agr))
      return true;
  return false;
}

/* The orders of the query API, all markets; returns how many (at most cap). */
static size_t api_orders(struct day *d, struct got_order *q, size_t cap) {
  size_t k = 0;
  for (int i = 0; i < N_CP; i++) {
    json_t *doc = fx_sim_markets(d->sim, d->cp[i], d->date);
    cr_assert_not_null(doc, "no market %s", d->cp[i]);
    json_t *orders = json_object_get(doc, "orders"), *o;
    size_t j;
    json_array_foreach(orders, j, o) {
      if (k == cap)
        break;
      snprintf(q[k].id, sizeof q[k].id, "%s", json_string_value(json_object_get(o, "message_id")));
      snprintf(q[k].to, sizeof q[k].to, "%s", json_string_value(json_object_get(o, "agr")));
      snprintf(q[k].offer, sizeof q[k].offer, "%s", json_string_value(json_object_get(o, "offer")));
      k++;
    }
    json_decref(doc);
  }
  return k;
}

Test(faults_market, kill_9_during_a_market_day_loses_and_duplicates_no_order, .timeout = 240) {
  static struct day d; /* large; criterion's stack is not */
  memset(&d, 0, sizeof d);
  const char *env = getenv("FLEXD_FAULTS_SEED");
  unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid(), r = seed;
  d.kill_after_ms = (unsigned)(rand_r(&r) % KILL_WITHIN_MS);
  cr_log_info("FLEXD_FAULTS_SEED=%u: kill -9 after %u ms of the market day", seed, d.kill_after_ms);
  d.arena = fx_arena_new(0);
  fx_sim_date(d.today, 0);
  fx_sim_date(d.date, 2);
  d.sim = fx_peer_start(NULL);
  portfolios(&d);

  /* The day, until flexd dies (or is done). */
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, killer, &d), 0);
  int done = 0;
  while (done < N_CP && !atomic_load(&d.killed) && market(&d, done, 5000))
    done++;
  pthread_join(t, NULL);
  fx_sim_kill9_flexd(d.sim); /* reaps it */
  cr_log_info("%d of %d markets cleared before the crash; %zu messages acknowledged", done, N_CP, d.n_acked);
  everything_acked_is_stored(&d);

  /* Restart and finish the day: every market cleared (again: a second
   * clearing must not order an offer twice). */
  atomic_store(&d.killed, false);
  cr_assert_eq(fx_sim_restart_flexd(d.sim), 0);
  for (int i = 0; i < N_CP; i++)
    cr_assert(market(&d, i, WAIT_MS), "market %d could not be finished after the restart", i);

  /* Every order of the query API reaches its AGR. */
  static struct got_order q[128], g[256];
  size_t nq = api_orders(&d, q, 128), ng = 0;
  cr_assert_geq(nq, N_CP, "only %zu orders for %d markets", nq, N_CP);
  size_t missing = nq;
  for (int w = 0; w < 300 && missing; w++) { /* up to 30 s */
    ng = received_orders(&d, g, 256);
    missing = 0;
    for (size_t i = 0; i < nq; i++)
      missing += !has_order(g, ng, q[i].id, q[i].to);
    if (missing)
      usleep(100000);
  }
  cr_assert_eq(missing, 0, "%zu of %zu orders never reached their AGR", missing, nq);

  /* Nothing received that the API does not know; same MessageID → same
   * bytes; one order per offer. */
  size_t redelivered = 0;
  for (size_t i = 0; i < ng; i++) {
    cr_assert(has_order(q, nq, g[i].id, g[i].to), "order %s to %s is not in the query API", g[i].id, g[i].to);
    for (size_t j = 0; j < i; j++) {
      if (!strcmp(g[i].id, g[j].id)) {
        cr_assert(g[i].len == g[j].len && !memcmp(g[i].xml, g[j].xml, g[i].len),
                  "FlexOrder %s was sent twice with different content", g[i].id);
        redelivered++;
      } else {
        cr_assert_str_neq(g[i].offer, g[j].offer, "offer %s got two orders (%s, %s)", g[i].offer, g[i].id, g[j].id);
      }
    }
  }
  cr_log_info("%zu orders, %zu FlexOrder POSTs received (%zu re-deliveries of identical bytes), 0 lost, 0 conflicting",
              nq, ng, redelivered);
  fx_sim_free(d.sim);
  fx_arena_free(d.arena);
}
