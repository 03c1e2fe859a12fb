/* test_market_baseline.c — the configured baseline reference of the settlement
 * run, at the sequencer level (real sequencer, real LMDB store, the market's
 * hooks; tests/support/market_harness.c).
 *
 * One scene for every reference: CP1 with AGR1's connections C1 and C2 (from
 * 2025-02-01, so earlier like-days can be metered), a FlexRequest for 2 MW less
 * consumption at ISP 69 of 2025-03-02 (a Sunday), AGR1's 2 MW order for 14 EUR,
 * penalty 11 EUR/MW. Each test names its reference ([market] or [contract]
 * baseline_reference), meters what that reference needs and checks the
 * baseline the FlexSettlement states, the amounts that follow from it, the
 * reference recorded on the stored item (query API, CSV), and what happens
 * when the reference's data is missing: the settlement is held and says so. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "engine/query.h"
#include "engine/settle.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

#define C1 "ean.1000000000000001"
#define C2 "ean.1000000000000002"
#define E1 "E1000000000000001"
#define E2 "E1000000000000002"

static struct fx_mh H;

static int runs;
static void setup(void) {
  fx_mh_setup(&H, "mbase");
  runs = 0;
}
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(baseline, .init = setup, .fini = teardown);

/* ---- the scene -------------------------------------------------------------------------- */

static void populate(void) {
  H.timestamp = "2025-02-01T09:00:00+01:00";
  H.now_us = at(H.timestamp);
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\"><CongestionPoint EntityAddress=\"" CP1 "\" "
                "StartPeriod=\"2025-02-01\" MutexOffersSupported=\"true\" DayAheadRedispatchBy=\"DSO\">"
                "<Connection EntityAddress=\"" C1 "\" StartPeriod=\"2025-02-01\"/>"
                "<Connection EntityAddress=\"" C2 "\" StartPeriod=\"2025-02-01\"/></CongestionPoint>"
                "</DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"" C1 "\" StartPeriod=\"2025-02-01\"/>"
                "<Connection EntityAddress=\"" C2 "\" StartPeriod=\"2025-02-01\"/></AGRPortfolioUpdate>"),
         "");
}

#define FLEX_HDR " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1 "\""

static void prognosis(int revision, long long w, char id[37]) {
  struct fx_mh_held *h = submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                                FLEX_HDR " Revision=\"%d\"><ISP Power=\"%lld\" Start=\"1\" Duration=\"96\"/>"
                                         "</D-Prognosis>",
                                revision, w);
  uuid_str(&h->in.msg->hdr.message_id, id);
  EXPECT(h, "");
}

/* The DSO asks for 2 MW less consumption at `isp`; AGR1 offers 2 MW there
 * (based on D-Prognosis `dp`, or on none when dp is NULL) and is ordered. */
static void order_at(int isp, const char *dp) {
  H.timestamp = NOW;
  H.now_us = at(NOW);
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                FLEX_HDR " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                         "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"%d\"/>"
                         "</FlexRequest>",
                isp),
         "");
  char fr[37], dpattr[80] = "";
  platform_request_id(AGR1, fr);
  if (dp)
    snprintf(dpattr, sizeof dpattr, " D-PrognosisMessageID=\"%s\"", dp);
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" "
                         "FlexRequestMessageID=\"%s\"%s><OfferOption OptionReference=\"A\" Price=\"14.00\">"
                         "<ISP Power=\"-2000000\" Start=\"%d\"/></OfferOption></FlexOffer>",
                fr, dpattr, isp),
         "");
  cr_assert_eq(clear_market(CP1), 1);
}

/* Metering of `ean` for `period`: `kw` at every ISP but `isp`, which gets
 * `kw_at`. Submitted the day after the Period's month, when it has ended. */
static void meter(const char *ean, const char *period, const char *kw, int isp, const char *kw_at) {
  H.timestamp = "2025-03-03T08:00:00+01:00";
  H.now_us = at(H.timestamp);
  int n = 96; /* every day metered here has 96 ISPs (no DST switch in February) */
  char isps[6000];
  size_t k = 0;
  for (int i = 1; i <= n; i++)
    k += (size_t)snprintf(isps + k, sizeof isps - k, "<ISP Start=\"%d\" Value=\"%s\"/>", i, i == isp ? kw_at : kw);
  EXPECT(submit("Metering", AGR1, FX_ROLE_AGR,
                " Revision=\"1\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"%s\" EAN=\"%s\">"
                "<Profile ProfileType=\"Power\" Unit=\"kW\">%s</Profile></Metering>",
                period, ean, isps),
         "");
}

/* Each run at its own time (a run's MessageIDs derive from it): a second later each. */
static struct fx_market_settlement settle(void) {
  H.now_us = at("2025-03-04T06:00:00+01:00") + 1000000 * (int64_t)runs++;
  struct fx_market_settlement s = {.from = day_of("2025-03-01"), .to = day_of("2025-03-31"), .seq = H.seq};
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, 0);
  return s;
}

/* The only FlexOrderSettlement sent to AGR1 (the last FlexSettlement). */
static const struct fx_flex_order_settlement *settled_order(void) {
  int n;
  outbox(FX_MSG_FLEX_SETTLEMENT, AGR1, 0, &n);
  cr_assert_gt(n, 0, "a FlexSettlement was sent");
  const struct fx_msg *m = outbox(FX_MSG_FLEX_SETTLEMENT, AGR1, n - 1, NULL);
  cr_assert_eq(m->u.flex_settlement.n_flex_order_settlements, 1);
  return &m->u.flex_settlement.flex_order_settlements[0];
}

/* The item of a stored settlement in `header_state` (query API): its field `key`. */
static void item_says(const char *key, const char *want, const char *header_state) {
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  json_t *doc;
  cr_assert_eq(fx_query_settlements(q, day_of("2025-03-01"), day_of("2025-03-01"), &doc), 0);
  json_t *h = NULL; /* a run's header, in id order: the one in that state */
  for (size_t i = 0; i < json_array_size(doc) && !h; i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(doc, i), "state")), header_state))
      h = json_array_get(doc, i);
  cr_assert_not_null(h, "a settlement %s", header_state);
  json_t *item = json_array_get(json_object_get(h, "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(item, key)), want);
  json_decref(doc);
  fx_query_free(q);
}

static bool csv_has(const char *needle) {
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  char *csv;
  size_t len;
  cr_assert_eq(fx_query_settlements_csv(q, day_of("2025-03-01"), day_of("2025-03-01"), &csv, &len), 0);
  bool found = strstr(csv, needle) != NULL;
  free(csv);
  fx_query_free(q);
  return found;
}

/* ==== prognosis (the default) ================================================================= */

Test(baseline, prognosis_is_the_d_prognosis_the_order_names) {
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  char dp1[37], dp2[37];
  prognosis(1, 10000000, dp1);
  prognosis(2, 12000000, dp2);
  order_at(69, dp1);
  meter(E1, PERIOD, "5000", 69, "4500");
  meter(E2, PERIOD, "5000", 69, "4500");
  settle();
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_eq(o->isps[0].baseline_power, 10000000, "revision 1, as named, not the later 12 MW");
  cr_assert(o->has_d_prognosis_message_id);
  char got[37];
  uuid_str(&o->d_prognosis_message_id, got);
  cr_assert_str_eq(got, dp1);
  cr_assert_null(o->baseline_reference);
  cr_assert_eq(o->net_settlement, -40000, "the chapter's 9 MW row: 7 - 11 EUR");
  item_says("baseline", "prognosis", "sent");
  cr_assert(csv_has(",EUR,7.0000,11.0000,-4.0000,prognosis\r\n"));
}

Test(baseline, prognosis_without_a_named_one_is_the_latest_before_the_order) {
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  char dp1[37], dp2[37], dp3[37];
  prognosis(1, 11000000, dp1);
  prognosis(2, 10000000, dp2);
  order_at(69, NULL);
  /* After the order the AGR's prognosis reflects it: that is no baseline for it. */
  H.now_us += 60000000;
  prognosis(3, 8000000, dp3);
  meter(E1, PERIOD, "5000", 69, "4500");
  meter(E2, PERIOD, "5000", 69, "4500");
  settle();
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_eq(o->isps[0].baseline_power, 10000000, "revision 2: the latest accepted before the order");
  cr_assert(o->has_d_prognosis_message_id, "the settlement names the prognosis it used");
  char got[37];
  uuid_str(&o->d_prognosis_message_id, got);
  cr_assert_str_eq(got, dp2);
}

Test(baseline, prognosis_missing_holds_the_settlement) {
  start_market();
  populate();
  order_at(69, NULL); /* no D-Prognosis at all */
  meter(E1, PERIOD, "5000", 69, "4500");
  meter(E2, PERIOD, "5000", 69, "4500");
  struct fx_market_settlement s = settle();
  cr_assert_eq(s.messages, 0);
  cr_assert_eq(s.incomplete, 1);
  item_says("data", "incomplete", "held");
  item_says("baseline", "prognosis", "held");
  cr_assert(csv_has(",missing_baseline,"));
}

/* ==== measure-before (MBMA) ====================================================================== */

Test(baseline, measure_before_is_the_metered_power_of_the_isp_before_the_order) {
  H.cfg.penalty_rate = 110000;
  H.cfg.baseline_reference = FX_SETTLE_BASELINE_MEASURE_BEFORE;
  start_market();
  populate();
  char dp[37];
  prognosis(1, 99000000, dp); /* named by the order, yet not the configured reference */
  order_at(69, dp);
  /* ISP 68: 5 + 5 = 10 MW measured before; ISP 69: 9 MW. */
  meter(E1, PERIOD, "5000", 69, "4500");
  meter(E2, PERIOD, "5000", 69, "4500");
  settle();
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_eq(o->isps[0].baseline_power, 10000000);
  cr_assert_eq(o->isps[0].delivered_flex_power, -1000000);
  cr_assert_eq(o->isps[0].power_deficiency, -1000000);
  cr_assert_eq(o->net_settlement, -40000);
  cr_assert_not(o->has_d_prognosis_message_id, "not settled against a D-Prognosis");
  cr_assert_str_eq(o->baseline_reference, "measure-before");
  item_says("baseline", "measure-before", "sent");
  cr_assert(csv_has(",EUR,7.0000,11.0000,-4.0000,measure-before\r\n"));
}

Test(baseline, measure_before_isp_1_needs_the_previous_days_last_isp) {
  H.cfg.baseline_reference = FX_SETTLE_BASELINE_MEASURE_BEFORE;
  start_market();
  populate();
  order_at(1, NULL);
  meter(E1, PERIOD, "5000", 1, "4000");
  meter(E2, PERIOD, "5000", 1, "4000");
  struct fx_market_settlement s = settle();
  cr_assert_eq(s.messages, 0, "2025-03-01 was not metered: no baseline");
  cr_assert_eq(s.incomplete, 1);
  item_says("baseline", "measure-before", "held");
  cr_assert(csv_has("ISP,2025-03-02," CP1));
  cr_assert(csv_has(",missing_baseline,"));
  /* 2025-03-01 ends at 00:00: 4 + 4 MW at its ISP 96. */
  meter(E1, "2025-03-01", "3000", 96, "4000");
  meter(E2, "2025-03-01", "3000", 96, "4000");
  s = settle();
  cr_assert_eq(s.messages, 1);
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_eq(o->isps[0].start, 1);
  cr_assert_eq(o->isps[0].baseline_power, 8000000);
  cr_assert_eq(o->isps[0].actual_power, 8000000);
  cr_assert_eq(o->isps[0].delivered_flex_power, 0, "8 MW before and during: nothing delivered");
  cr_assert_eq(o->isps[0].power_deficiency, -2000000);
}

/* ==== like-days ================================================================================== */

Test(baseline, like_days_is_the_rounded_mean_of_earlier_same_weekdays) {
  H.cfg.penalty_rate = 110000;
  H.cfg.baseline_reference = FX_SETTLE_BASELINE_LIKE_DAYS;
  H.cfg.baseline_like_days = 3;
  start_market();
  populate();
  order_at(69, NULL);
  meter(E1, PERIOD, "5000", 69, "4500");
  meter(E2, PERIOD, "5000", 69, "4500");
  /* The Sundays before 2025-03-02: 10, 11 and 10.000001 MW at ISP 69 (the
   * mean 10.3333337 MW rounds to 10333334 W); a Saturday does not count. */
  meter(E1, "2025-02-23", "1", 69, "5000");
  meter(E2, "2025-02-23", "1", 69, "5000");
  meter(E1, "2025-02-16", "1", 69, "5500");
  meter(E2, "2025-02-16", "1", 69, "5500");
  meter(E1, "2025-02-22", "1", 69, "90000");
  meter(E2, "2025-02-22", "1", 69, "90000");
  struct fx_market_settlement s = settle();
  cr_assert_eq(s.messages, 0, "the third Sunday, 2025-02-09, is not metered yet");
  item_says("baseline", "like-days", "held");
  cr_assert(csv_has(",missing_baseline,"));
  meter(E1, "2025-02-09", "1", 69, "5000.001");
  meter(E2, "2025-02-09", "1", 69, "5000");
  s = settle();
  cr_assert_eq(s.messages, 1);
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_eq(o->isps[0].baseline_power, 10333334);
  cr_assert_eq(o->isps[0].actual_power, 9000000);
  cr_assert_eq(o->isps[0].delivered_flex_power, -1333334);
  cr_assert_eq(o->isps[0].power_deficiency, -666666);
  cr_assert_str_eq(o->baseline_reference, "like-days");
  item_says("baseline", "like-days", "sent");
}

/* ==== zero ======================================================================================= */

Test(baseline, zero_settles_against_no_consumption) {
  H.cfg.penalty_rate = 110000;
  H.cfg.baseline_reference = FX_SETTLE_BASELINE_ZERO;
  start_market();
  populate();
  order_at(69, NULL);
  /* A dedicated battery: it discharges 2 MW at ISP 69, idles otherwise. */
  meter(E1, PERIOD, "0", 69, "-1000");
  meter(E2, PERIOD, "0", 69, "-1000");
  settle();
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_eq(o->isps[0].baseline_power, 0);
  cr_assert_eq(o->isps[0].actual_power, -2000000);
  cr_assert_eq(o->isps[0].delivered_flex_power, -2000000);
  cr_assert_eq(o->price, 140000);
  cr_assert_str_eq(o->baseline_reference, "zero");
  item_says("baseline", "zero", "sent");
}

Test(baseline, zero_still_needs_metering) {
  H.cfg.baseline_reference = FX_SETTLE_BASELINE_ZERO;
  start_market();
  populate();
  order_at(69, NULL);
  meter(E1, PERIOD, "0", 69, "-1000");
  struct fx_market_settlement s = settle();
  cr_assert_eq(s.messages, 0);
  item_says("baseline", "zero", "held");
  cr_assert(csv_has(",missing_metering,"));
}

/* ==== a contract's own reference ================================================================== */

Test(baseline, a_contract_names_its_own_reference) {
  char err[256];
  H.cfg.penalty_rate = 110000;
  cr_assert_eq(fx_config_parse(&H.cfg,
                               "[market]\nbaseline_reference = prognosis\n"
                               "[contract FO-1]\nagr = " AGR1 "\ncongestion_point = " CP1
                               "\nfrom = 2025-03-01\nto = 2025-03-31\nreserve = 69:-2000000\n"
                               "baseline_reference = measure-before\n",
                               err, sizeof err),
               0, "%s", err);
  cr_assert_eq(H.cfg.contracts[0].baseline, FX_SETTLE_BASELINE_MEASURE_BEFORE);
  struct fx_config bad;
  fx_config_defaults(&bad);
  cr_assert_neq(fx_config_parse(&bad, "[market]\nbaseline_reference = guess\n", err, sizeof err), 0,
                "an unknown reference is refused");
  cr_assert_neq(fx_config_parse(&bad, "[market]\nbaseline_like_days = 9\n", err, sizeof err), 0);
  fx_config_free(&bad);
  start_market();
  populate();
  char dp[37];
  prognosis(1, 12000000, dp);
  H.timestamp = NOW;
  H.now_us = at(NOW);
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                FLEX_HDR " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                         "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>"
                         "</FlexRequest>"),
         "");
  char fr[37];
  platform_request_id(AGR1, fr);
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" "
                         "FlexRequestMessageID=\"%s\" D-PrognosisMessageID=\"%s\" ContractID=\"FO-1\">"
                         "<OfferOption OptionReference=\"A\" Price=\"14.00\"><ISP Power=\"-2000000\" Start=\"69\"/>"
                         "</OfferOption></FlexOffer>",
                fr, dp),
         "");
  cr_assert_eq(clear_market(CP1), 1);
  meter(E1, PERIOD, "5000", 69, "4500");
  meter(E2, PERIOD, "5000", 69, "4500");
  settle();
  const struct fx_flex_order_settlement *o = settled_order();
  cr_assert_str_eq(o->contract_id, "FO-1");
  cr_assert_eq(o->isps[0].baseline_power, 10000000, "the contract's measure-before, not the 12 MW prognosis");
  cr_assert_str_eq(o->baseline_reference, "measure-before");
}
