/* test_reload.c — SIGHUP reloads the market's settings, over the real
 * `flexd serve` (engine/sim.h: participants with their own keys on loopback,
 * the platform's signed messages received on their own endpoint).
 *
 * Each test edits the running configuration file, sends SIGHUP and waits for
 * the log line that says the reload is in force ("market settings in force",
 * written once the sequencer has taken the values), then shows the new value
 * (or, for a key that takes a restart, the old one) at work: a FlexOrder that
 * expires under a shorter order_response_timeout, a clearing that orders
 * another offer under a wider coverage_tolerance, a gate closure that moves
 * into the past and clears the market at once, mutex_offers refusing the next
 * offer. A broken file changes nothing; a connection open across the reload
 * keeps working. docs/architecture.md, "Reloading", has the table of keys.
 *
 * Markets are for the day after tomorrow (its day-ahead gate closure is always
 * ahead of the test) except in the gate closure test. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/calendar.h"
#include "tests/support/peer.h"
#include "tests/support/sim_reload.h"

#define CP1 "ean.871685900012345678"
#define C1 "ean.871685900001000001"
#define C2 "ean.871685900001000002"
#define WAIT_MS 20000

static struct fx_sim *sim;
static fx_arena *arena;
static char today[FX_DATE_STRLEN], tomorrow[FX_DATE_STRLEN], day[FX_DATE_STRLEN], day2[FX_DATE_STRLEN];
static long exp_s = 3600; /* seconds until requests and offers expire */

/* ---- fixtures ------------------------------------------------------------------ */

static void start(const char *extra_market) {
  struct fx_sim_opts o = {.extra_market = extra_market};
  arena = fx_arena_new(0);
  fx_sim_date(today, 0);
  fx_sim_date(tomorrow, 1);
  fx_sim_date(day, 2);
  fx_sim_date(day2, 3);
  sim = fx_peer_start(&o);
}

static void teardown(void) {
  exp_s = 3600;
  fx_sim_free(sim);
  fx_arena_free(arena);
  sim = NULL, arena = NULL;
}

TestSuite(reload, .fini = teardown, .timeout = 180);

/* The platform's answer: "" when accepted, else its rejection reasons. */
static const char *outcome(struct fx_msg *m, enum fx_msg_type answer) {
  return fx_sr_outcome(sim, arena, m, answer);
}

/* The DSO publishes CP1 with connections of AGR and AGR2, who publish theirs. */
static void populate(void) { fx_sr_populate_two_agrs(sim, arena, today, CP1, C1, C2); }

/* The DSO needs 150 kW less at ISP `isp` of `date` (far bound 300 kW); the
 * request, and the offers below, expire in exp_s. */

static void request(const char *date, int isp) {
  const struct fx_flex_request_isp need[] = {{FX_DISPOSITION_REQUESTED, -300000, -150000, isp, 1}};
  struct fx_msg m;
  fx_sim_flex_request(&m, arena, SIM_DSO, CP1, date, 1, exp_s, need, 1);
  cr_assert_str_eq(outcome(&m, FX_MSG_FLEX_REQUEST_RESPONSE), "");
}

/* An unsolicited offer at CP1: `n_options` options of `power` W at ISP `isp`
 * for `eur` EUR (the second, if any, half of it). Returns the platform's answer. */
static const char *offer(const char *agr, const char *date, int isp, int64_t power, long eur, int n_options) {
  struct fx_isp isps[] = {{power, isp, 1}}, half[] = {{power / 2, isp, 1}};
  struct fx_offer_option o[] = {{"A", eur * FX_MONEY_SCALE, 100, isps, 1}, {"B", eur * FX_MONEY_SCALE, 100, half, 1}};
  struct fx_msg m;
  fx_sim_flex_offer(&m, arena, agr, CP1, date, exp_s, NULL, o, (size_t)n_options);
  return outcome(&m, FX_MSG_FLEX_OFFER_RESPONSE);
}

/* The state of order `id` in the query API's view of (CP1, date). */
static const char *order_state(const char *date, const char *id, char *out, size_t cap) {
  json_t *doc = fx_sim_markets(sim, CP1, date);
  cr_assert_not_null(doc);
  json_t *orders = json_object_get(doc, "orders"), *e;
  size_t i;
  out[0] = 0;
  json_array_foreach(orders, i, e) {
    const char *v = json_string_value(json_object_get(e, "message_id"));
    if (v && !strcmp(v, id))
      snprintf(out, cap, "%s", json_string_value(json_object_get(e, "state")));
  }
  json_decref(doc);
  return out;
}

static int32_t days(const char *date) {
  struct fx_date d;
  cr_assert_eq(fx_date_parse(date, strlen(date), &d, NULL), 0);
  return fx_date_to_days(&d);
}

/* ==== reloadable keys ======================================================== */

Test(reload, a_shorter_order_response_timeout_expires_an_order_that_would_still_wait) {
  start("order_response_timeout = 3600");
  populate();
  request(day, 69);
  cr_assert_str_eq(offer(SIM_AGR, day, 69, -150000, 10, 1), "");
  int n = -1;
  cr_assert_eq(fx_sim_clear(sim, CP1, day, &n), 200);
  cr_assert_eq(n, 1);
  const struct fx_msg *o = fx_sim_await_sent(sim, FX_MSG_FLEX_ORDER, SIM_AGR, 0, WAIT_MS, arena);
  cr_assert_not_null(o, "the order reached the AGR, which does not answer it");
  char id[FX_UUID_STRLEN], state[32];
  fx_sim_msg_id(o, id);
  usleep(1200000); /* longer than the timeout about to be set */
  cr_assert_str_eq(order_state(day, id, state, sizeof state), "placed", "under 3600 s it waits");

  fx_sr_edit(sim, "order_response_timeout = 3600", "order_response_timeout = 1");
  fx_sr_sighup_until(sim, "market settings in force (changed: order_response_timeout)");
  for (int i = 0; i < 200 && strcmp(order_state(day, id, state, sizeof state), "expired"); i++)
    usleep(100000);
  cr_assert_str_eq(state, "expired", "the reply deadline was re-armed from the new timeout");
  cr_assert_eq(fx_sr_log_count(sim, "order_expired"), 1);
}

/* test_cli_clear.c's pair: A covers the 150 kW for 100 EUR, E 140 kW for 1 EUR.
 * Within 0.1 % of the most coverage only A will do; within 10 %, E. */
Test(reload, a_changed_clearing_key_changes_the_next_clearing) {
  start("coverage_tolerance = 0.001");
  populate();
  const char *dates[] = {day, day2};
  for (int i = 0; i < 2; i++) {
    request(dates[i], 69);
    cr_assert_str_eq(offer(SIM_AGR, dates[i], 69, -200000, 100, 1), "");
    cr_assert_str_eq(offer(SIM_AGR2, dates[i], 69, -140000, 1, 1), "");
  }
  int n = -1;
  cr_assert_eq(fx_sim_clear(sim, CP1, day, &n), 200);
  cr_assert_eq(n, 1);
  cr_assert_not_null(fx_sim_await_sent(sim, FX_MSG_FLEX_ORDER, SIM_AGR, 0, WAIT_MS, arena), "A is ordered");

  fx_sr_edit(sim, "coverage_tolerance = 0.001", "coverage_tolerance = 0.1");
  fx_sr_sighup_until(sim, "market settings in force (changed: coverage_tolerance)");
  cr_assert_eq(fx_sim_clear(sim, CP1, day2, &n), 200);
  cr_assert_eq(n, 1);
  const struct fx_msg *o = fx_sim_await_sent(sim, FX_MSG_FLEX_ORDER, SIM_AGR2, 0, WAIT_MS, arena);
  cr_assert_not_null(o, "under the new budget E is ordered");
  cr_assert_eq(fx_date_to_days(&o->u.flex_order.flex.period), days(day2));
  cr_assert_eq(fx_sim_count_sent(sim, FX_MSG_FLEX_ORDER, SIM_AGR), 1, "and A only the first time");
}

/* Local seconds since midnight in the market's time zone. */
static int64_t local_seconds(void) {
  struct fx_calendar *cal = fx_calendar_new("Europe/Amsterdam");
  cr_assert_not_null(cal);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000000;
  struct fx_day d;
  cr_assert_eq(fx_calendar_day(cal, fx_calendar_day_of(cal, now), &d), 0);
  fx_calendar_free(cal);
  return (now - d.start_us) / 1000000;
}

/* A request for tomorrow's first ISP waits for today's 23:59 gate (or its
 * expiry in ten minutes, which must come before that ISP). Moving the day-ahead gate to 00:00 makes the request a
 * late one, whose intraday gate (24 h before its first ISP) is past: the
 * market clears at once, by the loop's timer, without being asked. */
Test(reload, a_moved_gate_closure_re_arms_the_clearing_timer) {
  int64_t local = local_seconds();
  if (local > 23 * 3600 + 50 * 60 || local < 3600) /* an hour: a DST day's 24 h before ISP 1 */
    cr_skip_test("too close to local midnight for today's 23:59 gate and a 24 h intraday gate");
  exp_s = 600;
  start("gate_closure_day_ahead = 23:59\ngate_closure_intraday = 60");
  populate();
  request(tomorrow, 1);
  cr_assert_str_eq(offer(SIM_AGR, tomorrow, 1, -150000, 10, 1), "");
  cr_assert_eq(fx_sim_count_sent(sim, FX_MSG_FLEX_ORDER, NULL), 0, "nothing is cleared before the gate");

  fx_sr_edit(sim, "gate_closure_day_ahead = 23:59\ngate_closure_intraday = 60",
       "gate_closure_day_ahead = 00:00\ngate_closure_intraday = 1440");
  fx_sr_sighup_until(sim, "market settings in force (changed: gate_closure_day_ahead, gate_closure_intraday)");
  const struct fx_msg *o = fx_sim_await_sent(sim, FX_MSG_FLEX_ORDER, SIM_AGR, 0, WAIT_MS, arena);
  cr_assert_not_null(o, "the market was cleared at its new clearing time");
  cr_assert_eq(fx_date_to_days(&o->u.flex_order.flex.period), days(tomorrow));
}

/* ==== keys that take a restart, broken files, open connections ================ */

Test(reload, a_key_that_takes_a_restart_is_refused_by_name_and_keeps_its_value) {
  start("currency = EUR\nmutex_offers = true");
  populate();
  fx_sr_edit(sim, "currency = EUR", "currency = USD");
  fx_sr_edit(sim, "listen = 127.0.0.1:0", "listen = 127.0.0.1:1");
  fx_sr_edit(sim, "mutex_offers = true", "mutex_offers = false");
  fx_sr_sighup_until(sim, "market settings in force (changed: mutex_offers)");
  cr_assert_eq(fx_sr_log_count(sim, "parameter [market] currency cannot be changed without restarting"), 1);
  cr_assert_eq(fx_sr_log_count(sim, "parameter [platform] listen cannot be changed without restarting"), 1);
  /* The same reload's reloadable key is in force, the refused ones are not:
   * EUR offers still trade on the listener still open. */
  cr_assert_str_eq(offer(SIM_AGR, day, 69, -1000, 1, 1), "", "EUR is still the market's currency");
  cr_assert_str_eq(offer(SIM_AGR, day, 69, -1000, 1, 2), "No MutEx offer support");
}

Test(reload, a_broken_file_changes_nothing_and_flexd_runs_on) {
  start("mutex_offers = true\nbb_node_limit = 2000");
  populate();
  fx_sr_edit(sim, "mutex_offers = true\nbb_node_limit = 2000", "mutex_offers = false\nbb_node_limit = -5");
  fx_sr_sighup_until(sim, "keeping the running configuration");
  cr_assert_eq(fx_sr_log_count(sim, "bad value for 'bb_node_limit'"), 1, "the log says why");
  cr_assert_eq(fx_sr_log_count(sim, "market settings in force"), 0);
  cr_assert_str_eq(offer(SIM_AGR, day, 69, -1000, 1, 2), "", "mutex_offers is still true");

  fx_sr_edit(sim, "bb_node_limit = -5", "bb_node_limit = 2000"); /* the same file, repaired */
  fx_sr_sighup_until(sim, "market settings in force (changed: mutex_offers)");
  cr_assert_str_eq(offer(SIM_AGR, day, 69, -1000, 1, 2), "No MutEx offer support");
  cr_assert_eq(fx_sim_stop_flexd(sim), 0, "the refused reload leaves the exit status alone");
}

/* A raw HTTP/1.1 connection to the UFTP listener: POSTs `body` and reads the
 * answer (bounded by a 10 s receive timeout); the status, 0 when the
 * connection failed or closed. */
static int post_on(int fd, const char *body) {
  char req[8192], resp[4096];
  int n = snprintf(req, sizeof req,
                   "POST /shapeshifter/api/v3/message HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: text/xml; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
                   strlen(body), body);
  cr_assert(n > 0 && (size_t)n < sizeof req);
  if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
    return 0;
  size_t got = 0;
  char *end = NULL;
  while (!end && got < sizeof resp - 1) {
    ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
    if (r <= 0)
      return 0;
    got += (size_t)r;
    resp[got] = 0;
    end = strstr(resp, "\r\n\r\n");
  }
  const char *cl = strstr(resp, "Content-Length:");
  size_t want = (size_t)(end - resp) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
  while (got < want && got < sizeof resp - 1) { /* the body, so the next answer starts clean */
    ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
    if (r <= 0)
      return 0;
    got += (size_t)r;
  }
  int status = 0;
  return sscanf(resp, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

static char *test_message(char id[FX_UUID_STRLEN]) {
  char xml[512];
  fx_sim_uuid(id);
  fx_sim_test_message(xml, sizeof xml, SIM_AGR, SIM_PLATFORM, id);
  char *sealed = fx_sim_seal(sim, SIM_AGR, FX_ROLE_AGR, xml);
  cr_assert_not_null(sealed);
  return sealed;
}

Test(reload, a_connection_open_across_the_reload_keeps_working) {
  start("mutex_offers = true");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx_sim_port(sim))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
  char id[FX_UUID_STRLEN];
  char *m = test_message(id);
  cr_assert_eq(post_on(fd, m), 200);
  free(m);

  fx_sr_edit(sim, "mutex_offers = true", "mutex_offers = false");
  fx_sr_sighup_until(sim, "market settings in force (changed: mutex_offers)");
  m = test_message(id);
  cr_assert_eq(post_on(fd, m), 200, "the same connection is served after the reload");
  free(m);
  cr_assert_not_null(fx_sim_await(sim, FX_MSG_TEST_MESSAGE_RESPONSE, id, WAIT_MS, arena),
                     "and its message answered");
  close(fd);
}
