/* test_market_deadline.c — what the market does when nobody answers, and
 * what a DSO learns of AGRs (CONFORMANCE A6 and E16, docs/market.md).
 *
 * A6: a FlexOrder still placed when [market] order_response_timeout has passed
 * since it was placed becomes expired: stored, logged, counted, shown by the
 * query API, left out of settlement, and its need is cleared again among the
 * remaining offers; a late FlexOrderResponse gets "Reference message expired".
 * Time is the harness's: messages and commands act at H.now_us, nothing sleeps.
 *
 * E16: a DSOPortfolioQueryResponse lists the DSO's represented connections
 * without AGR-Domain unless [market] dso_sees_agr_per_connection = true. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/metrics.h"
#include "engine/query.h"
#include "engine/sequencer.h"
#include "store/store.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "deadline"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(deadline, .init = setup, .fini = teardown);

#define HOUR_US (3600 * 1000000LL)
#define FLEX_HDR " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1 "\""

/* CP1 with connections 1 (AGR1) and 2 (AGR2). */
static void populate(void) { fx_mh_populate_two_agrs(&H); }

/* 150..300 kW less at ISP 69 of PERIOD; gate closure 15:00 the day before. */
static void request(void) {
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                FLEX_HDR " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                         "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/>"
                         "</FlexRequest>"),
         "");
}

/* A solicited offer of 200 kW less at ISP 69 for `price`, valid until 14:45. */
static void offer(const char *agr, const char *price) {
  char fr[37];
  platform_request_id(agr, fr);
  EXPECT(submit("FlexOffer", agr, FX_ROLE_AGR,
                FLEX_HDR " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" "
                         "FlexRequestMessageID=\"%s\"><OfferOption OptionReference=\"A\" Price=\"%s\">"
                         "<ISP Power=\"-200000\" Start=\"69\"/></OfferOption></FlexOffer>",
                fr, price),
         "");
}

/* The timer's command, as engine/server.c submits it, acting at t. */
static void run_due_at(int64_t t) {
  int64_t saved = H.now_us;
  H.now_us = t;
  run_command(fx_market_run_due, NULL);
  H.now_us = saved;
}

/* The market: AGR1's 200 kW for 10 and AGR2's for 20; cleared now, so AGR1's
 * cheaper offer is ordered. Returns that order's MessageID. */
static struct fx_uuid one_order_to_agr1(void) {
  populate();
  request();
  offer(AGR1, "10");
  offer(AGR2, "20");
  cr_assert_eq(clear_market(CP1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0);
  return outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL)->hdr.message_id;
}

static struct fx_mh_held *order_response(const char *agr, const struct fx_uuid *order_id) {
  char id[37];
  uuid_str(order_id, id);
  return submit("FlexOrderResponse", agr, FX_ROLE_AGR, " Result=\"Accepted\" FlexOrderMessageID=\"%s\"/>", id);
}

/* The state the query API (reading the store) shows for order `id`. */
static const char *order_state(const struct fx_uuid *id, char out[16]) {
  char want[37];
  uuid_str(id, want);
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  cr_assert_not_null(q);
  json_t *doc = NULL, *e;
  size_t i;
  cr_assert_eq(fx_query_market(q, CP1, day_of(PERIOD), &doc), 0);
  out[0] = 0;
  json_array_foreach(json_object_get(doc, "orders"), i, e)
    if (!strcmp(json_string_value(json_object_get(e, "message_id")), want))
      snprintf(out, 16, "%s", json_string_value(json_object_get(e, "state")));
  json_decref(doc);
  fx_query_free(q);
  return out;
}

/* ==== A6: the reply deadline ==================================================== */

Test(deadline, an_unanswered_order_expires_at_its_deadline_and_not_before) {
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  int64_t placed = H.now_us;
  char st[16];
  cr_assert_eq(fx_market_next_deadline(H.mk), placed + HOUR_US, "the timer is armed for the reply deadline");
  run_due_at(placed + HOUR_US - 1);
  cr_assert_str_eq(order_state(&id, st), "placed", "1 µs before the deadline");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0);
  run_due_at(placed + HOUR_US);
  cr_assert_str_eq(order_state(&id, st), "expired", "at the deadline");
}

Test(deadline, the_need_of_an_expired_order_is_cleared_again_among_the_remaining_offers) {
  start_market();
  one_order_to_agr1();
  int64_t expiry = H.now_us + HOUR_US;
  run_due_at(expiry);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 1, "AGR2's dearer offer covers the need now");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1, "AGR1's offer is not ordered twice");
  const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL);
  cr_assert_eq(m->u.flex_order.isps[0].power, -200000);
  cr_assert_eq(fx_market_next_deadline(H.mk), expiry + HOUR_US, "the new order's own deadline");
}

Test(deadline, a_late_response_gets_reference_message_expired) {
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  run_due_at(H.now_us + HOUR_US);
  H.now_us += HOUR_US + 60 * 1000000LL;
  EXPECT(order_response(AGR1, &id), "Reference message expired");
  EXPECT(order_response(AGR2, &id), "Unknown FlexOrderMessageID reference", "another AGR learns nothing of it");
}

Test(deadline, a_response_after_the_deadline_but_before_the_timer_is_late_too) {
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  char st[16];
  H.now_us += HOUR_US; /* the timer's command has not run */
  EXPECT(order_response(AGR1, &id), "Reference message expired");
  cr_assert_str_eq(order_state(&id, st), "expired");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 1, "and the need went to AGR2's offer at once");
}

Test(deadline, a_response_just_before_the_deadline_is_accepted) {
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  char st[16];
  H.now_us += HOUR_US - 1;
  EXPECT(order_response(AGR1, &id), "");
  cr_assert_str_eq(order_state(&id, st), "accepted");
  run_due_at(H.now_us + 2 * HOUR_US);
  cr_assert_str_eq(order_state(&id, st), "accepted", "an answered order never expires");
  cr_assert_eq(fx_market_next_deadline(H.mk), INT64_MAX, "nothing left to wait for");
}

Test(deadline, a_restart_keeps_the_deadline_and_the_expired_state) {
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  int64_t placed = H.now_us;
  stop_market();
  start_market();
  cr_assert_eq(fx_market_next_deadline(H.mk), placed + HOUR_US, "counted from the stored placement time");
  run_due_at(placed + HOUR_US);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 1);
  stop_market();
  start_market();
  cr_assert_eq(fx_market_next_deadline(H.mk), placed + 2 * HOUR_US, "only AGR2's order is still waiting");
  H.now_us = placed + HOUR_US + 1;
  EXPECT(order_response(AGR1, &id), "Reference message expired");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 1, "the expired order's need is not bought a second time");
}

Test(deadline, timeout_zero_never_expires) {
  H.cfg.order_response_timeout_s = 0;
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  char st[16];
  cr_assert_eq(fx_market_next_deadline(H.mk), INT64_MAX);
  run_due_at(H.now_us + 24 * HOUR_US);
  cr_assert_str_eq(order_state(&id, st), "placed");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0);
  H.now_us += 24 * HOUR_US;
  EXPECT(order_response(AGR1, &id), "");
}

Test(deadline, the_timeout_is_configured_in_seconds) {
  H.cfg.order_response_timeout_s = 600;
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  char st[16];
  cr_assert_eq(fx_market_next_deadline(H.mk), H.now_us + 600 * 1000000LL);
  run_due_at(H.now_us + 600 * 1000000LL);
  cr_assert_str_eq(order_state(&id, st), "expired");
}

Test(deadline, each_expired_order_is_counted_once) {
  struct fx_metrics *met;
  cr_assert_eq(fx_metrics_new(&met), 0);
  struct fx_counter *c = fx_metrics_counter(met, "flexd_orders_expired_total", "FlexOrders expired unanswered", NULL);
  cr_assert_not_null(c);
  start_market();
  fx_market_count_expired(H.mk, c);
  one_order_to_agr1();
  int64_t placed = H.now_us;
  run_due_at(placed + HOUR_US);     /* AGR1's order */
  run_due_at(placed + HOUR_US + 1); /* nothing more */
  run_due_at(placed + 2 * HOUR_US); /* AGR2's order */
  char *text;
  size_t len;
  cr_assert_eq(fx_metrics_render(met, &text, &len), 0);
  cr_assert_not_null(strstr(text, "\nflexd_orders_expired_total 2\n"), "%s", text);
  free(text);
  stop_market();
  fx_metrics_free(met);
}

/* stderr into a file while fn runs; the file's text (malloc'd). */
static char *stderr_of(void (*fn)(int64_t), int64_t arg) {
  char path[] = "/tmp/flexd-deadline-log-XXXXXX";
  int fd = mkstemp(path), saved = dup(2);
  cr_assert(fd >= 0 && saved >= 0);
  cr_assert_eq(dup2(fd, 2), 2);
  fn(arg);
  dup2(saved, 2);
  close(saved);
  off_t n = lseek(fd, 0, SEEK_END);
  char *text = calloc(1, (size_t)n + 1);
  cr_assert_not_null(text);
  cr_assert_eq(pread(fd, text, (size_t)n, 0), n);
  close(fd);
  unlink(path);
  return text;
}

Test(deadline, an_expiry_is_logged_in_one_line) {
  start_market();
  struct fx_uuid id = one_order_to_agr1();
  char want[37];
  uuid_str(&id, want);
  char *log = stderr_of(run_due_at, H.now_us + HOUR_US);
  char *line = strstr(log, "\"event\":\"order_expired\"");
  cr_assert_not_null(line, "%s", log);
  char *end = strchr(line, '\n');
  cr_assert_not_null(end);
  *end = 0;
  cr_assert_not_null(strstr(line, want), "the order's MessageID: %s", line);
  cr_assert_null(strstr(end + 1, "order_expired"), "one line per expired order");
  free(log);
}

Test(deadline, settlement_leaves_an_expired_order_out) {
  start_market();
  one_order_to_agr1();
  run_due_at(H.now_us + HOUR_US);
  struct fx_market_settlement s = {.from = day_of(PERIOD), .to = day_of(PERIOD), .seq = H.seq};
  H.now_us = at("2025-03-05T10:00:00+01:00");
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, 0);
  /* Without metering an order's settlement is held ("incomplete"), but it is
   * counted: the expired order would be a second one. */
  cr_assert_eq(s.orders, 1, "AGR2's order only");
  cr_assert_eq(s.incomplete, 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR1), 0, "AGR1 has nothing to settle");
}

Test(deadline, the_market_summary_counts_expired_orders) {
  start_market();
  one_order_to_agr1();
  run_due_at(H.now_us + HOUR_US);
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  json_t *doc = NULL;
  cr_assert_eq(fx_query_markets(q, &doc), 0);
  json_t *orders = json_object_get(json_array_get(doc, 0), "orders");
  cr_assert_eq(json_integer_value(json_object_get(orders, "expired")), 1);
  cr_assert_eq(json_integer_value(json_object_get(orders, "placed")), 1);
  json_decref(doc);
  cr_assert_eq(fx_query_market(q, CP1, day_of(PERIOD), &doc), 0);
  json_t *c = json_object_get(doc, "clearing");
  cr_assert_eq(json_integer_value(json_object_get(c, "residual_w")), 0, "AGR2's order covers it; the expired one counts for nothing");
  char price[FX_NUMBER_STRLEN];
  fx_money_format(20 * FX_MONEY_SCALE, price);
  cr_assert_str_eq(json_string_value(json_object_get(c, "cost")), price, "only AGR2's price");
  json_decref(doc);
  fx_query_free(q);
}

/* ==== E16: what a DSO learns of AGRs =============================================== */

static const struct fx_dso_query_congestion_point *dso_query(void) {
  EXPECT(submit("DSOPortfolioQuery", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" EntityAddress=\"" CP1 "\"/>"),
         "");
  const struct fx_msg *r = outbox(FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE, DSO, 0, NULL);
  cr_assert_not_null(r);
  cr_assert_eq(r->u.dso_portfolio_query_response.n_congestion_point, 1);
  return r->u.dso_portfolio_query_response.congestion_point;
}

Test(deadline, a_dso_learns_which_connections_are_represented_but_not_by_whom) {
  start_market();
  populate();
  const struct fx_dso_query_congestion_point *cp = dso_query();
  cr_assert_eq(cp->n_connections, 2, "both connections have an AGR: the count is there");
  for (size_t i = 0; i < cp->n_connections; i++)
    cr_assert_null(cp->connections[i].agr_domain, "no AGR-Domain for %s", cp->connections[i].entity_address);
}

Test(deadline, a_market_whose_contracts_allow_it_names_each_connections_agr) {
  H.cfg.dso_sees_agr_per_connection = true;
  start_market();
  populate();
  const struct fx_dso_query_congestion_point *cp = dso_query();
  cr_assert_eq(cp->n_connections, 2);
  for (size_t i = 0; i < cp->n_connections; i++) {
    const char *ea = cp->connections[i].entity_address, *agr = cp->connections[i].agr_domain;
    cr_assert_not_null(agr);
    cr_assert_str_eq(agr, !strcmp(ea, "ean.871685900001000001") ? AGR1 : AGR2, "%s", ea);
  }
}
