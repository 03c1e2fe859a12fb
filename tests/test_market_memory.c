/* test_market_memory.c — the market keeps only the live markets in memory and
 * reads older ones from the store in place, at the sequencer level (real
 * sequencer, real LMDB store; tests/support/market_harness.c).
 *
 * The scene: CP1 with AGR1's connections C1 and C2, a market on 2025-03-02 with
 * a FlexRequest, two offers and one order. Then the platform's clock moves on
 * (a D-Prognosis for 2025-03-21 arrives on 2025-03-20), so 2025-03-02 is cold:
 * every test checks that it has left memory, and that what still refers to it
 * (a late FlexOrderResponse, a revocation, a D-Prognosis or Metering revision,
 * the settlement run and a FlexSettlementResponse, a restart) behaves exactly
 * as if it had stayed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/query.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

#define C1 "ean.1000000000000001"
#define C2 "ean.1000000000000002"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "mmem"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(memory, .init = setup, .fini = teardown);

/* ---- the scene ------------------------------------------------------------------------ */

static void set_time(const char *t) {
  H.timestamp = t;
  H.now_us = at(t);
}

#define HDR(period) " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" period "\" CongestionPoint=\"" CP1 "\""

static void prognosis(const char *period_attrs, int revision, const char *want) {
  EXPECT(submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                "%s Revision=\"%d\"><ISP Power=\"10000000\" Start=\"1\" Duration=\"96\"/></D-Prognosis>",
                period_attrs, revision),
         want);
}

/* The market of 2025-03-02: request, an ordered 2 MW offer, an open 1 MW offer
 * (expires at 14:30), cleared. out_order and out_open get the ids. */
static void build_market(char out_order[37], char out_open[37], char out_offer[37]) {
  H.cfg.penalty_rate = 110000;
  start_market();
  set_time(NOW);
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\"><CongestionPoint EntityAddress=\"" CP1 "\" "
                "StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" DayAheadRedispatchBy=\"DSO\">"
                "<Connection EntityAddress=\"" C1 "\" StartPeriod=\"2025-03-01\"/>"
                "<Connection EntityAddress=\"" C2 "\" StartPeriod=\"2025-03-01\"/></CongestionPoint>"
                "</DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"" C1 "\" StartPeriod=\"2025-03-01\"/>"
                "<Connection EntityAddress=\"" C2 "\" StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "");
  struct fx_mh_held *dp = submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                                 HDR(PERIOD) " Revision=\"1\"><ISP Power=\"10000000\" Start=\"1\" Duration=\"96\"/>"
                                             "</D-Prognosis>");
  char dpid[37];
  uuid_str(&dp->in.msg->hdr.message_id, dpid);
  EXPECT(dp, "");
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                HDR(PERIOD) " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                            "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>"
                            "</FlexRequest>"),
         "");
  char fr[37];
  platform_request_id(AGR1, fr);
  struct fx_mh_held *o = submit("FlexOffer", AGR1, FX_ROLE_AGR,
                                HDR(PERIOD) " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" "
                                            "FlexRequestMessageID=\"%s\" D-PrognosisMessageID=\"%s\">"
                                            "<OfferOption OptionReference=\"A\" Price=\"14.00\">"
                                            "<ISP Power=\"-2000000\" Start=\"69\"/></OfferOption></FlexOffer>",
                                fr, dpid);
  uuid_str(&o->in.msg->hdr.message_id, out_offer);
  EXPECT(o, "");
  /* Unsolicited, 1 MW at ISP 70 (Available only): never ordered. */
  o = submit("FlexOffer", AGR1, FX_ROLE_AGR,
             HDR(PERIOD) " ExpirationDateTime=\"2025-03-01T14:30:00+01:00\" Currency=\"EUR\" Unsolicited=\"true\" "
                         "D-PrognosisMessageID=\"%s\"><OfferOption OptionReference=\"B\" Price=\"1.00\">"
                         "<ISP Power=\"-1000000\" Start=\"70\"/></OfferOption></FlexOffer>",
             dpid);
  uuid_str(&o->in.msg->hdr.message_id, out_open);
  EXPECT(o, "");
  cr_assert_eq(clear_market(CP1), 1);
  uuid_str(&outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL)->hdr.message_id, out_order);
}

/* The clock moves to 2025-03-20: 2025-03-02 is cold from then on. */
static void time_passes(void) {
  set_time("2025-03-20T10:00:00+01:00");
  prognosis(HDR("2025-03-21"), 1, "");
}

static struct fx_market_memory memory(void) {
  struct fx_market_memory m;
  fx_market_memory(H.mk, &m);
  return m;
}

static void restart(void) {
  stop_market();
  start_market();
}

/* The order's state as stored (query API). */
static const char *stored_order_state(void) {
  static char state[16];
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  json_t *doc;
  cr_assert_eq(fx_query_market(q, CP1, day_of(PERIOD), &doc), 0);
  json_t *orders = json_object_get(doc, "orders");
  cr_assert_eq(json_array_size(orders), 1);
  snprintf(state, sizeof state, "%s", json_string_value(json_object_get(json_array_get(orders, 0), "state")));
  json_decref(doc);
  fx_query_free(q);
  return state;
}

/* ==== what stays in memory ================================================================= */

Test(memory, a_market_leaves_memory_once_its_day_is_past_the_hot_window) {
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  struct fx_market_memory m = memory();
  cr_assert_eq(m.markets, 1);
  cr_assert_eq(m.clock_day, day_of("2025-03-01"));
  cr_assert_geq(m.ids, 6, "request, copy, prognosis, two offers, order");
  time_passes();
  m = memory();
  cr_assert_eq(m.clock_day, day_of("2025-03-20"));
  cr_assert_eq(m.live_from, day_of("2025-03-18"));
  cr_assert_eq(m.markets, 1, "only 2025-03-21's market");
  cr_assert_eq(m.ids, 1, "only its prognosis");
}

Test(memory, a_restart_reads_only_the_hot_markets) {
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  restart();
  cr_assert_eq(memory().markets, 1, "2025-03-02 is still hot on 2025-03-01");
  time_passes();
  restart();
  struct fx_market_memory m = memory();
  cr_assert_eq(m.clock_day, day_of("2025-03-20"), "the clock survives the restart");
  cr_assert_eq(m.markets, 1);
  cr_assert_eq(m.ids, 1);
}

/* ==== cold markets behave as hot ones ========================================================== */

Test(memory, a_late_flex_order_response_reaches_its_cold_order) {
  H.cfg.order_response_timeout_s = 0; /* weeks late: else it is expired (test_market_deadline.c) */
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  time_passes();
  restart();
  EXPECT(submit("FlexOrderResponse", AGR2, FX_ROLE_AGR, " Result=\"Accepted\" FlexOrderMessageID=\"%s\"/>", order),
         "Unknown FlexOrderMessageID reference", "not AGR2's order");
  EXPECT(submit("FlexOrderResponse", AGR1, FX_ROLE_AGR, " Result=\"Accepted\" FlexOrderMessageID=\"%s\"/>", order),
         "");
  cr_assert_str_eq(stored_order_state(), "accepted");
  cr_assert_eq(memory().markets, 1, "read for the response, then let go");
  EXPECT(submit("FlexOrderResponse", AGR1, FX_ROLE_AGR, " Result=\"Accepted\" FlexOrderMessageID=\"%s\"/>", order),
         "Unknown FlexOrderMessageID reference", "answered already: read back from the store");
  EXPECT(submit("FlexOrderResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexOrderMessageID=\"00000000-0000-4000-8000-000000000001\"/>"),
         "Unknown FlexOrderMessageID reference");
}

Test(memory, revoking_a_cold_offer_answers_as_for_a_hot_one) {
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  time_passes();
  EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", open),
         "Reference message expired");
  EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", offer),
         "Flexibility procured");
  EXPECT(submit("FlexOfferRevocation", AGR2, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", offer),
         "Unknown FlexOfferMessageID reference");
}

Test(memory, a_message_naming_a_cold_market_sees_its_history) {
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  time_passes();
  prognosis(HDR(PERIOD), 1, "Subordinate sequence number");
  prognosis(HDR(PERIOD), 2, "");
  prognosis(HDR(PERIOD), 2, "Subordinate sequence number");
  /* The D-PrognosisResponse still lists the cold market's order. */
  int n;
  outbox(FX_MSG_D_PROGNOSIS_RESPONSE, AGR1, 0, &n);
  int found = -1; /* what outbox() returns lives until its next call: remember the index */
  for (int i = 0; i < n; i++) {
    const struct fx_msg *m = outbox(FX_MSG_D_PROGNOSIS_RESPONSE, AGR1, i, NULL);
    if (m->result == FX_RESULT_ACCEPTED && m->u.d_prognosis_response.n_flex_order_statuses)
      found = i;
  }
  cr_assert_geq(found, 0, "a response listing the order");
  const struct fx_msg *r = outbox(FX_MSG_D_PROGNOSIS_RESPONSE, AGR1, found, NULL);
  char got[37];
  uuid_str(&r->u.d_prognosis_response.flex_order_statuses[0].flex_order_message_id, got);
  cr_assert_str_eq(got, order);
}

static const char *metering(const char *ean, int revision) {
  char isps[4000];
  size_t k = 0;
  for (int i = 1; i <= 96; i++)
    k += (size_t)snprintf(isps + k, sizeof isps - k, "<ISP Start=\"%d\" Value=\"%s\"/>", i, i == 69 ? "4500" : "5000");
  return outcome(submit("Metering", AGR1, FX_ROLE_AGR,
                        " Revision=\"%d\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                        "\" EAN=\"%s\"><Profile ProfileType=\"Power\" Unit=\"kW\">%s</Profile></Metering>",
                        revision, ean, isps));
}

Test(memory, metering_revisions_of_a_cold_day_are_checked_against_the_store) {
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  set_time("2025-03-03T08:00:00+01:00");
  cr_assert_str_eq(metering("E1000000000000001", 1), "");
  time_passes();
  restart();
  cr_assert_eq(memory().meters, 0, "2025-03-02's index is not in memory");
  cr_assert_str_eq(metering("E1000000000000001", 1), "Subordinate sequence number");
  cr_assert_str_eq(metering("E1000000000000001", 2), "");
  cr_assert_str_eq(metering("E1000000000000002", 1), "");
  cr_assert_eq(memory().meters, 0, "let go after the commit");
}

Test(memory, a_cold_month_settles_as_a_hot_one_and_its_answer_is_found) {
  char order[37], open[37], offer[37];
  build_market(order, open, offer);
  set_time("2025-03-03T08:00:00+01:00");
  cr_assert_str_eq(metering("E1000000000000001", 1), "");
  cr_assert_str_eq(metering("E1000000000000002", 1), "");
  time_passes();
  restart();
  set_time("2025-04-01T06:00:00+02:00");
  struct fx_market_settlement s = {.from = day_of("2025-03-01"), .to = day_of("2025-03-31"), .seq = H.seq};
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, 0);
  cr_assert_eq(s.messages, 1);
  const struct fx_msg *m = outbox(FX_MSG_FLEX_SETTLEMENT, AGR1, 0, NULL);
  cr_assert_not_null(m);
  const struct fx_flex_order_settlement *o = &m->u.flex_settlement.flex_order_settlements[0];
  cr_assert_eq(o->isps[0].baseline_power, 10000000);
  cr_assert_eq(o->isps[0].actual_power, 9000000);
  cr_assert_eq(o->net_settlement, -40000, "the chapter's 9 MW row, as when hot");
  char fs[37];
  uuid_str(&m->hdr.message_id, fs);
  struct fx_market_memory mm = memory();
  cr_assert_eq(mm.markets, 0, "the run read the store, not the markets");
  restart();
  char ref[64];
  snprintf(ref, sizeof ref, "%s", o->order_reference);
#define answer                                                                                                       \
  " Result=\"Accepted\" FlexSettlementMessageID=\"%s\"><FlexOrderSettlementStatus OrderReference=\"%s\" "          \
  "Disposition=\"Accepted\"/></FlexSettlementResponse>"
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR, answer, fs, ref), "");
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR, answer, fs, ref), "Already answered");
  EXPECT(submit("FlexSettlementResponse", AGR2, FX_ROLE_AGR, answer, fs, ref),
         "Unknown FlexSettlementMessageID reference");
#undef answer
}

/* ==== a store from before the hot window ========================================================== */

/* What an earlier flexd left: the common reference and one unsolicited offer
 * for 2025-03-02, written directly, without the counters. */
static void write_old_store(char offer_id[37]) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  static const uint8_t cpbody[3] = {1, 2, 0};
  fx_store_batch_put_ref(&b, &(struct fx_store_ref){.kind = FX_REF_CP, .k1 = CP1, .k2 = "", .owner = DSO,
                                                    .role = FX_ROLE_DSO, .from = day_of("2025-03-01"),
                                                    .to = INT32_MAX, .body = cpbody, .body_len = 3});
  fx_store_batch_put_ref(&b, &(struct fx_store_ref){.kind = FX_REF_CONNECTION, .k1 = C1, .k2 = "cp", .owner = CP1,
                                                    .role = FX_ROLE_DSO, .from = day_of("2025-03-01"),
                                                    .to = INT32_MAX});
  fx_store_batch_put_ref(&b, &(struct fx_store_ref){.kind = FX_REF_CONNECTION, .k1 = C1, .k2 = "agr", .owner = AGR1,
                                                    .role = FX_ROLE_AGR, .from = day_of("2025-03-01"),
                                                    .to = INT32_MAX});
  struct fx_isp isp = {-1000000, 69, 1};
  struct fx_offer_option oo = {.option_reference = "A", .price = 10000, .min_activation_factor = 100,
                               .isps = &isp, .n_isps = 1};
  struct fx_msg m = {.type = FX_MSG_FLEX_OFFER,
                     .hdr = {.version = "3.1.0", .sender_domain = AGR1, .recipient_domain = PLATFORM,
                             .timestamp = {at(NOW), 0}}};
  cr_assert_eq(fx_uuid_parse("11111111-2222-4333-8444-555555555555", 36, &m.hdr.message_id, NULL), 0);
  m.hdr.conversation_id = m.hdr.message_id;
  struct fx_flex_offer *fo = &m.u.flex_offer;
  fo->flex.isp_duration.usec = 900000000, fo->flex.time_zone = "Europe/Amsterdam";
  fx_date_from_days(day_of(PERIOD), &fo->flex.period);
  fo->flex.congestion_point = CP1;
  fo->expiration_date_time.usec = at("2025-03-01T14:00:00+01:00");
  fo->has_unsolicited = true, fo->unsolicited = true;
  fo->currency = "EUR", fo->offer_options = &oo, fo->n_offer_options = 1;
  struct fx_buf x;
  struct fx_error err;
  fx_buf_init(&x);
  cr_assert_eq(fx_write_msg(&m, &x, &err), 0, "%s", err.why);
  struct fx_store_obj o = {.key = {.cp = CP1, .period = day_of(PERIOD), .kind = FX_OBJ_OFFER},
                           .state = FX_OFFER_OPEN, .t_us = at(NOW), .owner = AGR1, .body = x.data,
                           .body_len = x.len};
  memcpy(o.key.id, m.hdr.message_id.b, 16);
  fx_store_batch_put_obj(&b, &o);
  cr_assert_eq(fx_store_commit(H.st, &b), 0);
  fx_store_batch_free(&b);
  fx_buf_free(&x);
  uuid_str(&m.hdr.message_id, offer_id);
}

Test(memory, a_store_without_the_counters_is_read_in_full_once) {
  char offer[37];
  write_old_store(offer);
  start_market();
  struct fx_market_memory m = memory();
  cr_assert_eq(m.markets, 1, "read in full: the old market too");
  cr_assert_eq(m.clock_day, INT32_MIN, "no clock yet");
  time_passes(); /* the first group writes the counters; its commit lets 2025-03-02 go */
  cr_assert_eq(memory().markets, 1);
  restart();
  m = memory();
  cr_assert_eq(m.clock_day, day_of("2025-03-20"));
  cr_assert_eq(m.markets, 1, "2025-03-21 only");
  EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", offer),
         "Reference message expired", "the old offer is still found in the store");
}
