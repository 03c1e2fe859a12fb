/* test_market_settle.c — the operate and settle phases at the sequencer level:
 * a real sequencer on a real LMDB store with the market's hooks, fed messages as
 * a worker would hand them over (parsed, stateless checks passed). Metering,
 * flex reservations, the settlement run (the settle-phase chapter's example end
 * to end), FlexSettlementResponse with disputes and rejections, the query API
 * and the CSV export. The harness is tests/support/market_harness.c. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/settle.h"
#include "engine/query.h"
#include "engine/sequencer.h"
#include "store/store.h"

#define C1 "ean.1000000000000001"
#define C2 "ean.1000000000000002"
#define C3 "ean.1000000000000003"
#define C4 "ean.1000000000000004"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "msettle"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(settle, .init = setup, .fini = teardown);


/* ---- the scene ---------------------------------------------------------------------- */

/* CP1: C1, C2 (AGR1) and C4 (AGR2); CP2: C3 (AGR1). */
static void populate(void) {
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">"
                "<CongestionPoint EntityAddress=\"" CP1 "\" StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" "
                "DayAheadRedispatchBy=\"DSO\"><Connection EntityAddress=\"" C1 "\" StartPeriod=\"2025-03-01\"/>"
                "<Connection EntityAddress=\"" C2 "\" StartPeriod=\"2025-03-01\"/>"
                "<Connection EntityAddress=\"" C4 "\" StartPeriod=\"2025-03-01\"/></CongestionPoint>"
                "<CongestionPoint EntityAddress=\"" CP2 "\" StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" "
                "DayAheadRedispatchBy=\"DSO\"><Connection EntityAddress=\"" C3 "\" StartPeriod=\"2025-03-01\"/>"
                "</CongestionPoint></DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"" C1 "\" StartPeriod=\"2025-03-01\"/>"
                "<Connection EntityAddress=\"" C2 "\" StartPeriod=\"2025-03-01\"/>"
                "<Connection EntityAddress=\"" C3 "\" StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR2, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"" C4 "\" StartPeriod=\"2025-03-01\"/>"
                "</AGRPortfolioUpdate>"),
         "");
}

#define FLEX_HDR_CP " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"%s\""

/* A D-Prognosis of `w` W at every ISP; its MessageID in id. */
static void prognosis(const char *agr, const char *cp, long long w, char id[37]) {
  struct fx_mh_held *h = submit("D-Prognosis", agr, FX_ROLE_AGR,
                          FLEX_HDR_CP " Revision=\"1\"><ISP Power=\"%lld\" Start=\"1\" Duration=\"96\"/></D-Prognosis>",
                          cp, w);
  uuid_str(&h->in.msg->hdr.message_id, id);
  EXPECT(h, "");
}

static void request(const char *cp, const char *isps) {
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                FLEX_HDR_CP " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">%s</FlexRequest>", cp,
                isps),
         "");
}

/* A solicited offer from agr at cp, based on D-Prognosis dp. */
static const char *offer_at(const char *agr, const char *cp, const char *dp, const char *options) {
  char fr[37];
  platform_request_id(agr, fr);
  return outcome(submit("FlexOffer", agr, FX_ROLE_AGR,
                        FLEX_HDR_CP " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" "
                        "FlexRequestMessageID=\"%s\" D-PrognosisMessageID=\"%s\">%s</FlexOffer>",
                        cp, fr, dp, options));
}

/* The day after the Period: metering may come. */
static void next_day(void) {
  H.timestamp = "2025-03-03T08:00:00+01:00";
  H.now_us = at(H.timestamp);
}

/* Metering of connection `ean` (E + 16 digits): `kw` at every ISP, `kw69` at ISP 69, `kw70` at 70. */
static const char *metering_rev(const char *agr, const char *ean, int rev, const char *unit, const char *kw,
                                const char *kw69, const char *kw70, int n_isps) {
  char isps[6000];
  size_t n = 0;
  for (int i = 1; i <= n_isps; i++)
    n += (size_t)snprintf(isps + n, sizeof isps - n, "<ISP Start=\"%d\" Value=\"%s\"/>", i,
                          i == 69 ? kw69 : i == 70 ? kw70 : kw);
  return outcome(submit("Metering", agr, FX_ROLE_AGR,
                        " Revision=\"%d\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                        "\" EAN=\"%s\"><Profile ProfileType=\"Power\" Unit=\"%s\">%s</Profile></Metering>",
                        rev, ean, unit, isps));
}

static const char *metering(const char *agr, const char *ean, const char *kw, const char *kw69, const char *kw70) {
  return metering_rev(agr, ean, 1, "kW", kw, kw69, kw70, 96);
}

/* The run as engine/server.c submits it: one command, one AGR per group. */
static struct fx_market_settlement settle(void) {
  struct fx_market_settlement s = {.from = day_of("2025-03-01"), .to = day_of("2025-03-31"), .seq = H.seq};
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, 0);
  return s;
}

/* The chapter's market: baseline 10 MW, 2 MW less consumption requested at ISP 69
 * (ISP 70 Available), AGR1 offers 2 MW for 14 EUR, penalty 11 EUR/MW. */
static void chapter_market(const char *options) {
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  char dp[37];
  prognosis(AGR1, CP1, 10000000, dp);
  request(CP1, "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>"
               "<ISP Disposition=\"Available\" MinPower=\"-3000000\" MaxPower=\"0\" Start=\"70\"/>");
  cr_assert_str_eq(offer_at(AGR1, CP1, dp, options), "");
  cr_assert_eq(clear_market(CP1), 1);
}

#define ONE_MW "<OfferOption OptionReference=\"A\" Price=\"1.00\"><ISP Power=\"-1000000\" Start=\"69\"/></OfferOption>"

/* The outcome of a FlexOffer at CP1 from agr with extra attributes `attrs`. */
static const char *contract_offer(const char *agr, const char *attrs, const char *options) {
  return outcome(submit("FlexOffer", agr, FX_ROLE_AGR,
                        FLEX_HDR_CP " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\"%s>%s</FlexOffer>",
                        CP1, attrs, options));
}

/* The next day: AGR1's three connections metered (the third at 0), then the
 * settlement run. */
static void meter_agr1_and_settle(void) {
  next_day();
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "4000", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "4000", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "0", "0", "0"), "");
  settle();
}

/* The first contract's settlement of PERIOD in fs (asserted present). */
static const struct fx_contract_settlement_period *contract_period(const struct fx_flex_settlement *fs) {
  const struct fx_contract_settlement_period *p = NULL;
  for (size_t i = 0; i < fs->contract_settlements[0].n_periods; i++)
    if (fx_date_to_days(&fs->contract_settlements[0].periods[i].period) == day_of(PERIOD))
      p = &fs->contract_settlements[0].periods[i];
  cr_assert_not_null(p);
  return p;
}

#define TWO_MW "<OfferOption OptionReference=\"A\" Price=\"14.00\"><ISP Power=\"-2000000\" Start=\"69\"/></OfferOption>"

static const struct fx_flex_settlement *settlement_to(const char *agr) {
  const struct fx_msg *m = outbox(FX_MSG_FLEX_SETTLEMENT, agr, 0, NULL);
  cr_assert_not_null(m, "a FlexSettlement was queued for %s", agr);
  cr_assert_str_eq(m->hdr.sender_domain, PLATFORM);
  return &m->u.flex_settlement;
}

/* ==== the settle-phase chapter's example ==================================================== */

Test(settle, chapter_example_end_to_end_9_mw_allocation) {
  chapter_market(TWO_MW);
  next_day();
  /* AGR1 has two connections at CP1: together 9 MW at ISP 69. */
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "4500", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "4500", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "100", "100", "100"), "");
  struct fx_market_settlement s = settle();
  cr_assert_eq(s.messages, 1);
  cr_assert_eq(s.orders, 1);
  cr_assert_eq(s.incomplete, 0);
  const struct fx_flex_settlement *fs = settlement_to(AGR1);
  cr_assert_eq(fx_date_to_days(&fs->period_start), day_of("2025-03-01"));
  cr_assert_eq(fx_date_to_days(&fs->period_end), day_of("2025-03-31"));
  cr_assert_eq(fs->n_flex_order_settlements, 1);
  const struct fx_flex_order_settlement *o = &fs->flex_order_settlements[0];
  cr_assert_str_eq(o->congestion_point, CP1);
  cr_assert(o->has_d_prognosis_message_id);
  cr_assert_eq(o->n_isps, 1);
  cr_assert_eq(o->isps[0].start, 69);
  cr_assert_eq(o->isps[0].baseline_power, 10000000);
  cr_assert_eq(o->isps[0].ordered_flex_power, -2000000);
  cr_assert_eq(o->isps[0].actual_power, 9000000);
  cr_assert_eq(o->isps[0].delivered_flex_power, -1000000);
  cr_assert_eq(o->isps[0].power_deficiency, -1000000);
  cr_assert_eq(o->price, 70000, "7.0000: half the flex delivered");
  cr_assert_eq(o->penalty, 110000, "11.0000: 1 MW short at 11 EUR/MW");
  cr_assert_eq(o->net_settlement, -40000);
  /* Without contracts: one ContractSettlement that reserves nothing. */
  cr_assert_eq(fs->n_contract_settlements, 1);
  cr_assert_null(fs->contract_settlements[0].contract_id);
  cr_assert_eq(fs->contract_settlements[0].periods[0].isps[0].reserved_power, 0);
  cr_assert_eq(fs->contract_settlements[0].periods[0].isps[0].duration, 96);
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR2), 0, "AGR2 has no order: nothing to settle");
}

Test(settle, penalty_only_where_the_deviation_worsens_the_congestion) {
  /* Ordered at ISP 69 (Requested) and 70 (Available): at 70 the AGR consumes
   * 1 MW above its baseline, which no congestion there makes worse. */
  chapter_market("<OfferOption OptionReference=\"A\" Price=\"14.00\"><ISP Power=\"-2000000\" Start=\"69\" "
                 "Duration=\"2\"/></OfferOption>");
  next_day();
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "3500", "5500"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "3500", "5500"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "0", "0", "0"), "");
  settle();
  const struct fx_flex_order_settlement *o = &settlement_to(AGR1)->flex_order_settlements[0];
  cr_assert_eq(o->n_isps, 2);
  cr_assert_eq(o->isps[0].delivered_flex_power, -2000000, "7 MW: over-delivered, capped at the order");
  cr_assert_eq(o->isps[0].power_deficiency, 0);
  cr_assert_eq(o->isps[1].actual_power, 11000000);
  cr_assert_eq(o->isps[1].delivered_flex_power, 0);
  cr_assert_eq(o->isps[1].power_deficiency, 0, "no congestion at ISP 70: no deficiency");
  cr_assert_eq(o->penalty, 0);
  cr_assert_eq(o->price, 70000, "half of the ordered MW-ISPs delivered");
}

Test(settle, partial_activation_settles_the_ordered_share) {
  /* 4 MW offered for 28 EUR from 50 %: exactly 2 MW are needed. */
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  char dp[37];
  prognosis(AGR1, CP1, 10000000, dp);
  request(CP1, "<ISP Disposition=\"Requested\" MinPower=\"-2000000\" MaxPower=\"-2000000\" Start=\"69\"/>");
  cr_assert_str_eq(offer_at(AGR1, CP1, dp,
                            "<OfferOption OptionReference=\"A\" Price=\"28.00\" MinActivationFactor=\"0.50\">"
                            "<ISP Power=\"-4000000\" Start=\"69\"/></OfferOption>"),
                   "");
  cr_assert_eq(clear_market(CP1), 1);
  const struct fx_msg *order = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_eq(order->u.flex_order.activation_factor, 50);
  meter_agr1_and_settle();
  const struct fx_flex_order_settlement *o = &settlement_to(AGR1)->flex_order_settlements[0];
  cr_assert_eq(o->isps[0].ordered_flex_power, -2000000);
  cr_assert_eq(o->isps[0].delivered_flex_power, -2000000);
  cr_assert_eq(o->price, 140000, "half of the offer's price, all earned");
  cr_assert_eq(o->net_settlement, 140000);
}

Test(settle, missing_metering_holds_the_settlement_and_says_so) {
  chapter_market(TWO_MW);
  next_day();
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "4500", "5000"), "");
  /* C2's metering never arrives. */
  struct fx_market_settlement s = settle();
  cr_assert_eq(s.messages, 0, "ActualPower cannot be invented");
  cr_assert_eq(s.orders, 1);
  cr_assert_eq(s.incomplete, 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR1), 0);
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  json_t *doc;
  cr_assert_eq(fx_query_settlements(q, day_of("2025-03-01"), day_of("2025-03-01"), &doc), 0);
  cr_assert_eq(json_array_size(doc), 1);
  json_t *h = json_array_get(doc, 0);
  cr_assert_str_eq(json_string_value(json_object_get(h, "state")), "held");
  json_t *item = json_array_get(json_object_get(h, "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(item, "data")), "incomplete");
  cr_assert_eq(json_integer_value(json_object_get(item, "missing_isps")), 1);
  cr_assert(json_is_null(json_object_get(item, "price")));
  json_decref(doc);
  char *csv;
  size_t len;
  cr_assert_eq(fx_query_settlements_csv(q, day_of("2025-03-01"), day_of("2025-03-01"), &csv, &len), 0);
  cr_assert_not_null(strstr(csv, ",missing_metering,"), "%s", csv);
  cr_assert_not_null(strstr(csv, "ORDER,2025-03-02," CP1 ","));
  free(csv);
  fx_query_free(q);
  /* Once it arrives, the next run sends the settlement. */
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "4500", "5000"), "");
  H.now_us += 1000000;
  s = settle();
  cr_assert_eq(s.messages, 1);
  cr_assert_eq(settlement_to(AGR1)->flex_order_settlements[0].net_settlement, -40000);
}

Test(settle, an_agr_with_orders_on_two_congestion_points_gets_one_settlement) {
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  char dp1[37], dp2[37];
  prognosis(AGR1, CP1, 10000000, dp1);
  prognosis(AGR1, CP2, 1000000, dp2);
  request(CP1, "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>");
  cr_assert_str_eq(offer_at(AGR1, CP1, dp1, TWO_MW), "");
  request(CP2, "<ISP Disposition=\"Requested\" MinPower=\"-600000\" MaxPower=\"-500000\" Start=\"69\"/>");
  cr_assert_str_eq(offer_at(AGR1, CP2, dp2,
                            "<OfferOption OptionReference=\"B\" Price=\"5.00\"><ISP Power=\"-500000\" "
                            "Start=\"69\"/></OfferOption>"),
                   "");
  cr_assert_eq(clear_market(CP1), 1);
  cr_assert_eq(clear_market(CP2), 1);
  next_day();
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "4000", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "4000", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "1000", "500", "1000"), "");
  settle();
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR1), 1);
  const struct fx_flex_settlement *fs = settlement_to(AGR1);
  cr_assert_eq(fs->n_flex_order_settlements, 2);
  bool saw1 = false, saw2 = false;
  for (size_t i = 0; i < 2; i++) {
    const struct fx_flex_order_settlement *o = &fs->flex_order_settlements[i];
    if (!strcmp(o->congestion_point, CP1)) {
      saw1 = true;
      cr_assert_eq(o->net_settlement, 140000);
    }
    if (!strcmp(o->congestion_point, CP2)) {
      saw2 = true;
      cr_assert_eq(o->isps[0].actual_power, 500000);
      cr_assert_eq(o->net_settlement, 50000);
    }
  }
  cr_assert(saw1 && saw2);
}

/* ==== D-PrognosisResponse: FlexOrderStatus ==================================================== */

/* A revision of AGR1's prognosis at CP1: 10 MW, `w69` W at ISP 69; the
 * D-PrognosisResponse it got. */
static const struct fx_d_prognosis_response *reprognosis(int revision, long long w69) {
  EXPECT(submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                FLEX_HDR_CP " Revision=\"%d\"><ISP Power=\"10000000\" Start=\"1\" Duration=\"68\"/>"
                            "<ISP Power=\"%lld\" Start=\"69\"/><ISP Power=\"10000000\" Start=\"70\" Duration=\"27\"/>"
                            "</D-Prognosis>",
                CP1, revision, w69),
         "");
  int n;
  outbox(FX_MSG_D_PROGNOSIS_RESPONSE, AGR1, 0, &n);
  const struct fx_msg *m = outbox(FX_MSG_D_PROGNOSIS_RESPONSE, AGR1, n - 1, NULL);
  cr_assert_eq(m->result, FX_RESULT_ACCEPTED);
  return &m->u.d_prognosis_response;
}

Test(settle, d_prognosis_response_lists_earlier_orders_with_is_validated) {
  chapter_market(TWO_MW); /* 2 MW less consumption ordered at ISP 69, baseline 10 MW */
  const struct fx_msg *order = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_not_null(order);
  struct fx_uuid order_id = order->hdr.message_id;
  const struct fx_d_prognosis_response *r = reprognosis(2, 8000000);
  cr_assert_eq(r->n_flex_order_statuses, 1, "the one order of the Period");
  cr_assert(fx_uuid_equal(&r->flex_order_statuses[0].flex_order_message_id, &order_id));
  cr_assert(r->flex_order_statuses[0].is_validated, "8 MW = the 10 MW baseline less the 2 MW ordered");
  r = reprognosis(3, 9000000);
  cr_assert_not(r->flex_order_statuses[0].is_validated, "1 MW less does not deliver 2 MW");
  r = reprognosis(4, 7500000);
  cr_assert(r->flex_order_statuses[0].is_validated, "more than ordered still delivers the order");
  r = reprognosis(5, 12000000);
  cr_assert_not(r->flex_order_statuses[0].is_validated, "the wrong direction");
  /* AGR2 has no order in this market: no statuses. */
  char dp[37];
  prognosis(AGR2, CP1, 1000000, dp);
  const struct fx_msg *m = outbox(FX_MSG_D_PROGNOSIS_RESPONSE, AGR2, 0, NULL);
  cr_assert_not_null(m);
  cr_assert_eq(m->u.d_prognosis_response.n_flex_order_statuses, 0);
}

/* An order its AGR never answered expires (order_response_timeout) and is
 * void: a later prognosis that delivers it does not validate it. */
Test(settle, an_expired_order_is_not_validated) {
  chapter_market(TWO_MW);
  int64_t t = H.now_us + (int64_t)H.cfg.order_response_timeout_s * 1000000 + 1;
  H.now_us = t;
  run_command(fx_market_run_due, NULL);
  const struct fx_d_prognosis_response *r = reprognosis(2, 8000000);
  cr_assert_eq(r->n_flex_order_statuses, 1);
  cr_assert_not(r->flex_order_statuses[0].is_validated, "8 MW would deliver it, but it expired unanswered");
}

Test(settle, a_rejected_order_is_listed_as_not_validated) {
  chapter_market(TWO_MW);
  const struct fx_msg *order = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  char id[37];
  uuid_str(&order->hdr.message_id, id);
  EXPECT(submit("FlexOrderResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Rejected\" RejectionReason=\"no\" FlexOrderMessageID=\"%s\"/>", id),
         "");
  const struct fx_d_prognosis_response *r = reprognosis(2, 8000000);
  cr_assert_eq(r->n_flex_order_statuses, 1);
  cr_assert_not(r->flex_order_statuses[0].is_validated, "a void order is not reflected");
}

/* AGR1 and AGR2 each get a 1 MW order at CP1 (ISP 69), with full metering. */
static void two_agr_orders(void) {
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  char dp1[37], dp2[37];
  prognosis(AGR1, CP1, 10000000, dp1);
  prognosis(AGR2, CP1, 2000000, dp2);
  request(CP1, "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>");
  const char *one_mw =
      "<OfferOption OptionReference=\"A\" Price=\"7.00\"><ISP Power=\"-1000000\" Start=\"69\"/></OfferOption>";
  cr_assert_str_eq(offer_at(AGR1, CP1, dp1, one_mw), "");
  cr_assert_str_eq(offer_at(AGR2, CP1, dp2, one_mw), "");
  cr_assert_eq(clear_market(CP1), 2);
  next_day();
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "4500", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "4500", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "0", "0", "0"), "");
  cr_assert_str_eq(metering(AGR2, "E1000000000000004", "2000", "1000", "2000"), "");
}

Test(settle, the_run_commits_one_agr_per_group_and_reports_once) {
  two_agr_orders();
  uint64_t before = H.groups_finished;
  struct fx_market_settlement s = settle();
  cr_assert_eq(H.groups_finished - before, 2, "AGR1 and AGR2 each in their own group, got %llu groups",
               (unsigned long long)(H.groups_finished - before));
  cr_assert_null(s.job, "the run let go of its state");
  cr_assert_eq(s.messages, 2, "the totals of both groups reach the one done()");
  cr_assert_eq(s.orders, 2);
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR2), 1);
  cr_assert_eq(settlement_to(AGR2)->flex_order_settlements[0].isps[0].actual_power, 1000000);
}

Test(settle, without_the_sequencer_the_run_is_one_group) {
  two_agr_orders();
  uint64_t before = H.groups_finished;
  struct fx_market_settlement s = {.from = day_of("2025-03-01"), .to = day_of("2025-03-31")};
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, 0);
  cr_assert_eq(H.groups_finished - before, 1);
  cr_assert_eq(s.messages, 2);
  cr_assert_eq(count_out(FX_MSG_FLEX_SETTLEMENT, AGR2), 1);
}

Test(settle, a_run_over_a_bad_range_reports_an_error_once) {
  start_market();
  struct fx_market_settlement s = {.from = day_of("2025-03-31"), .to = day_of("2025-03-01"), .seq = H.seq};
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, -1);
  cr_assert_null(s.job);
}

/* ==== FlexSettlementResponse ================================================================= */

static void settled_chapter(char msgid[37], char order_ref[64]) {
  chapter_market(TWO_MW);
  next_day();
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "5000", "4500", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "4500", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "0", "0", "0"), "");
  settle();
  const struct fx_msg *m = outbox(FX_MSG_FLEX_SETTLEMENT, AGR1, 0, NULL);
  uuid_str(&m->hdr.message_id, msgid);
  snprintf(order_ref, 64, "%s", m->u.flex_settlement.flex_order_settlements[0].order_reference);
}

static json_t *settlement_doc(void) {
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  json_t *doc;
  cr_assert_eq(fx_query_settlements(q, day_of("2025-03-01"), day_of("2025-03-31"), &doc), 0);
  fx_query_free(q);
  cr_assert_eq(json_array_size(doc), 1);
  return doc;
}

Test(settle, dispute_round_trip_keeps_the_item_open_and_visible) {
  char id[37], ref[64];
  settled_chapter(id, ref);
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexSettlementMessageID=\"%s\"><FlexOrderSettlementStatus OrderReference=\"%s\" "
                "Disposition=\"Disputed\" DisputeReason=\"Our meter says 8 MW\"/></FlexSettlementResponse>",
                id, ref),
         "");
  json_t *doc = settlement_doc(), *h = json_array_get(doc, 0);
  cr_assert_str_eq(json_string_value(json_object_get(h, "state")), "accepted");
  json_t *item = json_array_get(json_object_get(h, "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(item, "order_reference")), ref);
  cr_assert_str_eq(json_string_value(json_object_get(item, "state")), "disputed");
  cr_assert_str_eq(json_string_value(json_object_get(item, "dispute_reason")), "Our meter says 8 MW");
  cr_assert_str_eq(json_string_value(json_object_get(item, "net_settlement")), "-4");
  json_decref(doc);
  /* The dispute survives a restart, and a second answer is refused. */
  stop_market();
  start_market();
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexSettlementMessageID=\"%s\"><FlexOrderSettlementStatus OrderReference=\"%s\" "
                "Disposition=\"Accepted\"/></FlexSettlementResponse>",
                id, ref),
         "Already answered");
}

Test(settle, accepted_items_are_closed) {
  char id[37], ref[64];
  settled_chapter(id, ref);
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexSettlementMessageID=\"%s\"><FlexOrderSettlementStatus OrderReference=\"%s\" "
                "Disposition=\"Accepted\"/></FlexSettlementResponse>",
                id, ref),
         "");
  json_t *doc = settlement_doc(), *item = json_array_get(json_object_get(json_array_get(doc, 0), "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(item, "state")), "accepted");
  json_decref(doc);
}

Test(settle, a_rejected_settlement_is_logged_and_visible_with_its_reason) {
  char id[37], ref[64];
  settled_chapter(id, ref);
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Rejected\" RejectionReason=\"PeriodStart rejected\" FlexSettlementMessageID=\"%s\">"
                "<FlexOrderSettlementStatus OrderReference=\"%s\" Disposition=\"Accepted\"/></FlexSettlementResponse>",
                id, ref),
         "");
  json_t *doc = settlement_doc(), *h = json_array_get(doc, 0);
  cr_assert_str_eq(json_string_value(json_object_get(h, "state")), "rejected");
  cr_assert_str_eq(json_string_value(json_object_get(h, "rejection_reason")), "PeriodStart rejected");
  json_t *item = json_array_get(json_object_get(h, "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(item, "state")), "open", "its items stay open");
  json_decref(doc);
}

Test(settle, responses_to_unknown_or_foreign_settlements_are_refused) {
  char id[37], ref[64];
  settled_chapter(id, ref);
  EXPECT(submit("FlexSettlementResponse", AGR2, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexSettlementMessageID=\"%s\"><FlexOrderSettlementStatus OrderReference=\"%s\" "
                "Disposition=\"Accepted\"/></FlexSettlementResponse>",
                id, ref),
         "Unknown FlexSettlementMessageID reference");
  EXPECT(submit("FlexSettlementResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexSettlementMessageID=\"%s\"><FlexOrderSettlementStatus "
                "OrderReference=\"00000000-0000-4000-8000-999999999999\" Disposition=\"Accepted\"/>"
                "</FlexSettlementResponse>",
                id),
         "Unknown OrderReference");
}

Test(settle, csv_export_carries_the_exact_amounts) {
  char id[37], ref[64];
  settled_chapter(id, ref);
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  char *csv;
  size_t len;
  cr_assert_eq(fx_query_settlements_csv(q, day_of("2025-03-01"), day_of("2025-03-31"), &csv, &len), 0);
  fx_query_free(q);
  cr_assert_eq(strncmp(csv, "record,", 7), 0, "the header first");
  char want[256];
  snprintf(want, sizeof want, "ISP,2025-03-02," CP1 ",%s,69,10000000,-2000000,9000000,-1000000,-1000000,complete", ref);
  cr_assert_not_null(strstr(csv, want), "%s", csv);
  cr_assert_not_null(strstr(csv, ",EUR,7.0000,11.0000,-4.0000,prognosis\r\n"), "%s", csv);
  free(csv);
}

/* ==== Metering ================================================================================ */

Test(settle, metering_must_be_for_a_connection_the_sender_owns) {
  start_market();
  populate();
  next_day();
  cr_assert_str_eq(metering(AGR1, "E9999999999999999", "1", "1", "1"), "Unknown connection");
  cr_assert_str_eq(metering(AGR2, "E1000000000000001", "1", "1", "1"), "Connection not owned by sender");
  cr_assert_str_eq(metering(AGR2, "E1000000000000004", "1", "1", "1"), "");
}

Test(settle, metering_units_and_isps_as_the_catalog_states) {
  start_market();
  populate();
  next_day();
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 1, "kWh", "1", "1", "1", 96), "Unit rejected");
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 1, "kW", "1", "1", "1", 95), "Lacking ISPs");
  H.timestamp = NOW, H.now_us = at(NOW);
  cr_assert_str_eq(metering(AGR1, "E1000000000000001", "1", "1", "1"), "Period out of bounds");
}

Test(settle, metering_revisions_replace_earlier_ones_in_order) {
  chapter_market(TWO_MW);
  next_day();
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 2, "kW", "5000", "4500", "5000", 96), "");
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 2, "kW", "5000", "4500", "5000", 96),
                   "Subordinate sequence number");
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 1, "kW", "5000", "4500", "5000", 96),
                   "Subordinate sequence number");
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 3, "kW", "5000", "3000", "5000", 96), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000002", "5000", "5000", "5000"), "");
  cr_assert_str_eq(metering(AGR1, "E1000000000000003", "0", "0", "0"), "");
  /* After a restart the revision index is rebuilt from the store. */
  stop_market();
  start_market();
  cr_assert_str_eq(metering_rev(AGR1, "E1000000000000001", 3, "kW", "5000", "4500", "5000", 96),
                   "Subordinate sequence number");
  settle();
  const struct fx_flex_order_settlement *o = &settlement_to(AGR1)->flex_order_settlements[0];
  cr_assert_eq(o->isps[0].actual_power, 8000000, "revision 3 (3 MW) counts, not revision 2");
}

/* ==== Flex reservations ======================================================================== */

static void contract_config(void) {
  char err[256];
  cr_assert_eq(fx_config_parse(&H.cfg,
                               "[contract FO-1]\nagr = " AGR1 "\ncongestion_point = " CP1
                               "\nfrom = 2025-03-01\nto = 2025-03-31\nreserve = 68-70:-2000000\n",
                               err, sizeof err),
               0, "%s", err);
}

static struct fx_market_reservation reserve(const char *contract, long long p68, long long p69, long long p70,
                                            int64_t *power) {
  struct fx_market_reservation u = {.period = day_of(PERIOD), .power = power, .n_isps = 96};
  snprintf(u.contract, sizeof u.contract, "%s", contract);
  memset(power, 0, 96 * sizeof *power);
  power[67] = p68, power[68] = p69, power[69] = p70;
  run_command(fx_market_run_reservation_update, &u);
  return u;
}

Test(settle, reservation_updates_may_only_shrink) {
  contract_config();
  start_market();
  populate();
  int64_t power[96];
  struct fx_market_reservation u = reserve("FO-1", -2000000, -3000000, -2000000, power);
  cr_assert_eq(u.status, -1, "growing is refused");
  cr_assert_not_null(strstr(u.why, "ISP 69"), "%s", u.why);
  u = reserve("FO-1", -2000000, 1000000, -2000000, power);
  cr_assert_eq(u.status, -1, "changing sides is refused");
  cr_assert_eq(count_out(FX_MSG_FLEX_RESERVATION_UPDATE, AGR1), 0);
  u = reserve("FO-1", -2000000, -1000000, 0, power);
  cr_assert_eq(u.status, 0, "%s", u.why);
  const struct fx_msg *m = outbox(FX_MSG_FLEX_RESERVATION_UPDATE, AGR1, 0, NULL);
  cr_assert_not_null(m);
  cr_assert_str_eq(m->u.flex_reservation_update.contract_id, "FO-1");
  cr_assert_eq(m->u.flex_reservation_update.n_isps, 3);
  cr_assert_eq(m->u.flex_reservation_update.isps[1].power, -1000000);
  /* Back to the contract's 2 MW is growing now, also after a restart. */
  stop_market();
  start_market();
  u = reserve("FO-1", -2000000, -2000000, 0, power);
  cr_assert_eq(u.status, -1);
  u = reserve("FO-9", 0, 0, 0, power);
  cr_assert_eq(u.status, -1, "unknown contract");
  char id[37];
  uuid_str(&outbox(FX_MSG_FLEX_RESERVATION_UPDATE, AGR1, 0, NULL)->hdr.message_id, id);
  EXPECT(submit("FlexReservationUpdateResponse", AGR2, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexReservationUpdateMessageID=\"%s\"/>", id),
         "Unknown FlexReservationUpdateMessageID reference");
  EXPECT(submit("FlexReservationUpdateResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexReservationUpdateMessageID=\"%s\"/>", id),
         "");
}

Test(settle, offers_referencing_a_contract_are_judged_by_its_reservation) {
  contract_config();
  start_market();
  populate();
  char dp[37];
  prognosis(AGR1, CP1, 10000000, dp);
  prognosis(AGR2, CP1, 10000000, dp);
  request(CP1, "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>");
  char fr[37], attrs[160];
  platform_request_id(AGR2, fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\" ContractID=\"FO-1\"", fr);
  cr_assert_str_eq(contract_offer(AGR2, attrs, TWO_MW), "Unknown ContractID", "FO-1 is AGR1's");
  platform_request_id(AGR1, fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\" ContractID=\"FO-1\"", fr);
  cr_assert_str_eq(contract_offer(AGR1, attrs, ONE_MW), "Contract not met", "2 MW reserved and requested, 1 MW offered");
  cr_assert_str_eq(contract_offer(AGR1, attrs, TWO_MW), "");
  cr_assert_eq(clear_market(CP1), 1);
  meter_agr1_and_settle();
  const struct fx_flex_settlement *fs = settlement_to(AGR1);
  cr_assert_eq(fs->n_contract_settlements, 1);
  cr_assert_str_eq(fs->contract_settlements[0].contract_id, "FO-1");
  const struct fx_contract_settlement_period *p = contract_period(fs);
  cr_assert_eq(p->n_isps, 3);
  cr_assert_eq(p->isps[1].start, 69);
  cr_assert_eq(p->isps[1].reserved_power, -2000000);
  cr_assert(p->isps[1].has_requested_power);
  cr_assert_eq(p->isps[1].requested_power, -2000000);
  cr_assert_eq(p->isps[1].ordered_power, -2000000);
  cr_assert(p->isps[1].has_offered_power, "AGR1 offered under the contract");
  cr_assert_eq(p->isps[1].offered_power, -2000000);
  cr_assert(p->isps[0].has_offered_power);
  cr_assert_eq(p->isps[0].offered_power, 0, "ISP 68 was not requested: nothing offered counts there");
}

Test(settle, offered_power_is_the_most_compliant_offer_under_the_contract) {
  contract_config();
  start_market();
  populate();
  char dp[37], attrs[200];
  prognosis(AGR1, CP1, 10000000, dp);
  /* Before any FlexRequest, a 1 MW offer under FO-1 is not judged: accepted. */
  snprintf(attrs, sizeof attrs, " Unsolicited=\"true\" D-PrognosisMessageID=\"%s\" ContractID=\"FO-1\"", dp);
  cr_assert_str_eq(contract_offer(AGR1, attrs, ONE_MW), "");
  request(CP1, "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>");
  char fr[37];
  platform_request_id(AGR1, fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\" D-PrognosisMessageID=\"%s\" ContractID=\"FO-1\"", fr,
           dp);
  cr_assert_str_eq(contract_offer(AGR1, attrs, TWO_MW), "");
  cr_assert_eq(clear_market(CP1), 1);
  meter_agr1_and_settle();
  const struct fx_flex_settlement *fs = settlement_to(AGR1);
  const struct fx_contract_settlement_period *p = contract_period(fs);
  cr_assert_eq(p->isps[1].start, 69);
  cr_assert(p->isps[1].has_offered_power);
  cr_assert_eq(p->isps[1].offered_power, -2000000, "the later 2 MW offer meets the contract, the earlier 1 MW does not");
  /* A contract day without offers or a FlexRequest carries no OfferedPower. */
  const struct fx_contract_settlement_period *q = &fs->contract_settlements[0].periods[0];
  cr_assert_neq(fx_date_to_days(&q->period), day_of(PERIOD));
  cr_assert_not(q->isps[0].has_offered_power);
}
