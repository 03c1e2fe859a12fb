/* test_conformance.c — the rows of CONFORMANCE.md that had no asserting test
 * elsewhere (docs/conformance.md maps every row to its tests). Each test is
 * named after its row and asserts the rule's behaviour, so it fails if flexd
 * stops honouring it.
 *
 * Five suites, cheapest first:
 *   - conformance_rules: the stateless generic checks (engine/validate.h) on
 *     messages read by the real codec;
 *   - conformance: the market on a real sequencer and LMDB store
 *     (tests/support/market_harness.h), for the stateful rules;
 *   - conformance_http: a real `flexd serve` on loopback (engine/sim.h), for
 *     the rules about the endpoint and delivery. One flexd per test;
 *   - conformance_redirect: flexd's outbound client against flexd's own HTTP
 *     server on one loop, for how deliveries meet redirects;
 *   - conformance_dns: engine/discovery against a minimal DNS responder on a
 *     loopback UDP socket of the same loop, for DNSSEC. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "codec/keys.h"
#include "engine/calendar.h"
#include "engine/config.h"
#include "engine/discovery.h"
#include "engine/http_client.h"
#include "engine/http_server.h"
#include "engine/market.h"
#include "engine/query.h"
#include "engine/validate.h"
#include "tests/support/peer.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

/* ==== conformance_rules: stateless checks ======================================== */

/* Messages are received at 2026-06-15T12:00+02:00 (as in test_validate.c). */
#define RULES_NOW_US (((int64_t)fx_days_from_civil(2026, 6, 15) * 86400 + 10 * 3600) * 1000000)

struct rules_env {
  struct fx_calendar *cal;
  struct fx_validator *val;
  fx_reader *rd;
};

static struct rules_env R;

static void rules_setup(void) {
  R.cal = fx_calendar_new("Europe/Amsterdam");
  cr_assert_not_null(R.cal);
  struct fx_rules rules = {.platform_domain = "flexd.example.org", .isp = {0, 15LL * 60 * 1000000}, .market = R.cal};
  R.val = fx_validator_new(&rules);
  R.rd = fx_reader_new(NULL);
  cr_assert(R.val && R.rd);
}

static void rules_teardown(void) {
  fx_validator_free(R.val);
  fx_calendar_free(R.cal);
  fx_reader_free(R.rd);
}

TestSuite(conformance_rules, .init = rules_setup, .fini = rules_teardown);

/* The verdict on a FlexRequest from the DSO for `period`, expiring at `expiry`. */
static const char *flex_request_verdict(const char *period, const char *expiry) {
  static char xml[2048];
  static struct fx_verdict v;
  snprintf(xml, sizeof xml,
           "<FlexRequest Version=\"3.1.0\" SenderDomain=\"dso.example.com\" RecipientDomain=\"flexd.example.org\" "
           "TimeStamp=\"2026-06-15T11:59:00+02:00\" MessageID=\"1590f8ac-f802-4c83-8d64-7aa2aab283da\" "
           "ConversationID=\"85e91502-f9f7-4f99-b25c-52861d87be20\" ISP-Duration=\"PT15M\" "
           "TimeZone=\"Europe/Amsterdam\" Period=\"%s\" CongestionPoint=\"ean.871685900012345678\" Revision=\"1\" "
           "ExpirationDateTime=\"%s\"><ISP Disposition=\"Requested\" MinPower=\"-300\" MaxPower=\"-150\" "
           "Start=\"69\"/></FlexRequest>",
           period, expiry);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(R.rd, xml, strlen(xml), &m, &err), 0, "unreadable: %s %s", err.where, err.why);
  fx_verdict_clear(&v);
  fx_validate_generic(R.val, m, "dso.example.com", FX_ROLE_DSO, RULES_NOW_US, &v);
  return v.text;
}

/* D11: "a FlexRequest with a Period in the past" is the spec's own example. */
Test(conformance_rules, D11_a_flex_request_for_a_past_period_is_period_out_of_bounds) {
  cr_assert_str_empty(flex_request_verdict("2026-06-16", "2026-06-16T10:00:00+02:00"), "tomorrow is fine");
  /* (Its expiry cannot be both in the future and within yesterday's ISPs.) */
  cr_assert(strstr(flex_request_verdict("2026-06-14", "2026-06-16T10:00:00+02:00"), "Period out of bounds"));
}

/* D12 applies to FR as well as FOF: in the past, or beyond the last ISP. */
Test(conformance_rules, D12_a_flex_request_expiring_in_the_past_or_after_its_isps_is_refused) {
  cr_assert_str_eq(flex_request_verdict("2026-06-16", "2026-06-15T11:00:00+02:00"),
                   "ExpirationDateTime out of bounds", "in the past");
  /* ISP 69 of 2026-06-16 ends at 17:15 local time. */
  cr_assert_str_eq(flex_request_verdict("2026-06-16", "2026-06-16T17:15:01+02:00"),
                   "ExpirationDateTime out of bounds", "beyond the ISPs");
  cr_assert_str_empty(flex_request_verdict("2026-06-16", "2026-06-16T17:15:00+02:00"));
}

/* D9 "at least 1 ISP": the XSD says so (minOccurs 1), so a message without any
 * ISP never reaches the semantic checks: the codec refuses it (HTTP 400). */
Test(conformance_rules, D9_a_flex_request_without_any_isp_is_schema_invalid) {
  const char *xml =
      "<FlexRequest Version=\"3.1.0\" SenderDomain=\"dso.example.com\" RecipientDomain=\"flexd.example.org\" "
      "TimeStamp=\"2026-06-15T11:59:00+02:00\" MessageID=\"1590f8ac-f802-4c83-8d64-7aa2aab283da\" "
      "ConversationID=\"85e91502-f9f7-4f99-b25c-52861d87be20\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" "
      "Period=\"2026-06-16\" CongestionPoint=\"ean.871685900012345678\" Revision=\"1\" "
      "ExpirationDateTime=\"2026-06-16T10:00:00+02:00\"></FlexRequest>";
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(R.rd, xml, strlen(xml), &m, &err), -1);
  cr_assert_eq(err.code, FX_E_CARDINALITY, "%s: %s", err.where, err.why);
}

/* ==== conformance: the market at the sequencer level ============================ */

static struct fx_mh H;

static void market_setup(void) { fx_mh_setup(&H, "conf"); }
static void market_teardown(void) { fx_mh_teardown(&H); }

TestSuite(conformance, .init = market_setup, .fini = market_teardown);

#define CP_ATTRS " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"%s\""
#define CONN(c) "<Connection EntityAddress=\"" c "\" StartPeriod=\"2025-03-01\"/>"
#define C1 "ean.1000000000000001"
#define C2 "ean.1000000000000002"
#define C3 "ean.1000000000000003"
#define C4 "ean.1000000000000004"

/* CP1: C1, C2 (AGR1) and C4 (AGR2); CP2: C3 (AGR1). */
static void populate(void) {
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\"><CongestionPoint EntityAddress=\"" CP1 "\" StartPeriod=\"2025-03-01\" "
                "MutexOffersSupported=\"true\" DayAheadRedispatchBy=\"DSO\">" CONN(C1) CONN(C2) CONN(C4)
                "</CongestionPoint><CongestionPoint EntityAddress=\"" CP2 "\" StartPeriod=\"2025-03-01\" "
                "MutexOffersSupported=\"true\" DayAheadRedispatchBy=\"DSO\">" CONN(C3)
                "</CongestionPoint></DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\">" CONN(C1) CONN(C2) CONN(C3) "</AGRPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR2, FX_ROLE_AGR, " TimeZone=\"Europe/Amsterdam\">" CONN(C4) "</AGRPortfolioUpdate>"),
         "");
}

#define NEED_150_300 "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/>"

static struct fx_mh_held *flex_request(int revision, const char *isps) {
  return submit("FlexRequest", DSO, FX_ROLE_DSO,
                CP_ATTRS " Revision=\"%d\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">%s</FlexRequest>", CP1,
                revision, isps);
}

/* An unsolicited offer of `agr` at CP1: `power` W at ISP 69 for `price` EUR. */
static struct fx_mh_held *offer(const char *agr, const char *power, const char *price) {
  return submit("FlexOffer", agr, FX_ROLE_AGR,
                CP_ATTRS " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\">"
                         "<OfferOption OptionReference=\"A\" Price=\"%s\"><ISP Power=\"%s\" Start=\"69\"/>"
                         "</OfferOption></FlexOffer>",
                CP1, price, power);
}

/* F (idempotency) and D3: a byte-identical replay is Already Submitted and has
 * no second effect — no second broadcast — though it is answered; the same
 * MessageID with other content is a Duplicate Identifier, also without effect. */
Test(conformance, D3_F_a_replayed_flex_request_is_already_submitted_and_broadcast_once) {
  start_market();
  populate();
  const char *id = "7a7a7a7a-0000-4000-8000-000000000001";
  H.conv_id = "7a7a7a7a-0000-4000-8000-000000000002";
  H.reuse_id = id;
  EXPECT(flex_request(1, NEED_150_300), "");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR2), 1);
  H.now_us += 1000000; /* the replay arrives a second later: its answer is a message of its own */
  H.reuse_id = id;
  EXPECT(flex_request(1, NEED_150_300), "Already Submitted");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST_RESPONSE, DSO), 2, "the replay is answered too");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 1, "no second broadcast");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR2), 1);
  H.now_us += 1000000;
  H.reuse_id = id;
  EXPECT(flex_request(2, NEED_150_300), "Duplicate Identifier", "same MessageID, other content");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 1, "a duplicate is not applied either");
  /* Revision 2 under a fresh MessageID is a new request: the duplicate did not consume it. */
  EXPECT(flex_request(2, NEED_150_300), "");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 2);
}

/* F (ordering): two FlexRequest revisions delivered out of order end with the
 * higher one in force; the lower is refused and never broadcast. */
Test(conformance, F_out_of_order_flex_request_revisions_leave_the_higher_in_force) {
  start_market();
  populate();
  EXPECT(flex_request(2, NEED_150_300), "");
  EXPECT(flex_request(1, "<ISP Disposition=\"Requested\" MinPower=\"-900000\" MaxPower=\"-800000\" Start=\"69\"/>"),
         "Subordinate sequence number");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 1, "the late lower revision is not broadcast");
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  cr_assert_not_null(q);
  json_t *doc = NULL;
  cr_assert_eq(fx_query_market(q, CP1, day_of(PERIOD), &doc), 0);
  json_t *req = json_object_get(doc, "request");
  cr_assert_eq(json_integer_value(json_object_get(req, "revision")), 2);
  json_decref(doc);
  fx_query_free(q);
}

/* E1: a D-Prognosis sent during its Period may leave out the ISPs already
 * past, but not one that has not ended yet. */
Test(conformance, E1_a_prognosis_during_its_period_may_leave_out_the_isps_already_past) {
  start_market();
  populate();
  /* 12:00 local on the Period: ISPs 1..48 have ended, ISP 49 (12:00-12:15) has not. */
  H.timestamp = "2025-03-02T12:00:00+01:00";
  H.now_us = at(H.timestamp);
  EXPECT(submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                CP_ATTRS " Revision=\"1\"><ISP Power=\"1000\" Start=\"50\" Duration=\"47\"/></D-Prognosis>", CP1),
         "Lacking ISPs", "ISP 49 is still to come");
  EXPECT(submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                CP_ATTRS " Revision=\"1\"><ISP Power=\"1000\" Start=\"49\" Duration=\"48\"/></D-Prognosis>", CP1),
         "", "ISPs 1..48 are past and may be left out");
}

/* D7 for FOFR: revoking an offer whose ExpirationDateTime has passed. */
Test(conformance, D7_revoking_an_expired_offer_is_reference_message_expired) {
  start_market();
  populate();
  struct fx_mh_held *o = offer(AGR1, "-200000", "100");
  char id[37];
  uuid_str(&o->in.msg->hdr.message_id, id);
  EXPECT(o, "");
  H.now_us = at("2025-03-01T14:45:00+01:00");
  EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", id),
         "Reference message expired");
}

/* D5 for FR_R: an answer to a FlexRequest the platform did not send to the
 * answering AGR names an unknown reference and changes nothing. */
Test(conformance, D5_a_flex_request_response_to_an_unknown_request_is_refused) {
  start_market();
  populate();
  EXPECT(flex_request(1, NEED_150_300), "");
  EXPECT(submit("FlexRequestResponse", AGR1, FX_ROLE_AGR,
                " Result=\"Accepted\" FlexRequestMessageID=\"00000000-0000-4000-8000-999999999999\"/>"),
         "Unknown FlexRequestMessageID reference");
  char copy1[37];
  platform_request_id(AGR1, copy1);
  EXPECT(submit("FlexRequestResponse", AGR2, FX_ROLE_AGR, " Result=\"Accepted\" FlexRequestMessageID=\"%s\"/>", copy1),
         "Unknown FlexRequestMessageID reference", "AGR1's copy, answered by AGR2");
  EXPECT(submit("FlexRequestResponse", AGR1, FX_ROLE_AGR, " Result=\"Accepted\" FlexRequestMessageID=\"%s\"/>", copy1),
         "");
}

/* D6 for the baseline reference: an offer naming a D-Prognosis of another
 * Period (same AGR, same CP). */
Test(conformance, D6_an_offer_on_a_prognosis_of_another_period_is_a_reference_period_mismatch) {
  start_market();
  populate();
  struct fx_mh_held *dp = submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                                 CP_ATTRS " Revision=\"1\"><ISP Power=\"1000\" Start=\"1\" Duration=\"96\"/>"
                                          "</D-Prognosis>",
                                 CP1);
  char dp_id[37];
  uuid_str(&dp->in.msg->hdr.message_id, dp_id);
  EXPECT(dp, "");
  const char *opt = "<OfferOption OptionReference=\"A\" Price=\"1\"><ISP Power=\"-1000\" Start=\"69\"/></OfferOption>";
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-03\" CongestionPoint=\"" CP1
                "\" ExpirationDateTime=\"2025-03-02T14:45:00+01:00\" Currency=\"EUR\" D-PrognosisMessageID=\"%s\">%s"
                "</FlexOffer>",
                dp_id, opt),
         "Reference Period mismatch");
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                CP_ATTRS " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" D-PrognosisMessageID=\"%s\">%s"
                         "</FlexOffer>",
                CP1, dp_id, opt),
         "", "the prognosis's own Period");
}

/* E8: each offer is ordered at most once, even when a later request revision
 * re-clears the market and the offer would help again. */
Test(conformance, E8_an_offer_is_ordered_only_once) {
  start_market();
  populate();
  EXPECT(flex_request(1, NEED_150_300), "");
  EXPECT(offer(AGR1, "-200000", "100"), "");
  cr_assert_eq(clear_market(CP1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1);
  /* Revision 2 wants 350..500 kW: 150 kW more than ordered, which the ordered
   * offer could cover again. */
  EXPECT(flex_request(2, "<ISP Disposition=\"Requested\" MinPower=\"-500000\" MaxPower=\"-350000\" Start=\"69\"/>"),
         "");
  cr_assert_eq(clear_market(CP1), 0);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1, "the ordered offer is not ordered again");
  /* A fresh offer does cover the residual: the market was cleared, not stuck. */
  EXPECT(offer(AGR2, "-200000", "50"), "");
  clear_market(CP1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1);
}

/* E8 with several options (the interoperability note: Java AGRs compare an
 * order with the union of all options): the order names the chosen option by
 * OptionReference and carries that option's ISPs and price only. */
Test(conformance, E8_an_order_of_a_several_option_offer_carries_the_chosen_option_only) {
  start_market();
  populate();
  EXPECT(flex_request(1, NEED_150_300), "");
  struct fx_mh_held *o =
      submit("FlexOffer", AGR1, FX_ROLE_AGR,
             CP_ATTRS " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\">"
                      "<OfferOption OptionReference=\"dear\" Price=\"100\"><ISP Power=\"-200000\" Start=\"69\"/>"
                      "</OfferOption><OfferOption OptionReference=\"cheap\" Price=\"50\">"
                      "<ISP Power=\"-160000\" Start=\"69\"/><ISP Power=\"-20000\" Start=\"75\" Duration=\"2\"/>"
                      "</OfferOption></FlexOffer>",
             CP1);
  struct fx_uuid offer_id = o->in.msg->hdr.message_id;
  EXPECT(o, "");
  cr_assert_eq(clear_market(CP1), 1);
  const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_not_null(m);
  const struct fx_flex_order *fo = &m->u.flex_order;
  cr_assert(fx_uuid_equal(&fo->flex_offer_message_id, &offer_id));
  cr_assert_str_eq(fo->option_reference, "cheap");
  cr_assert_eq(fo->price, 50 * FX_MONEY_SCALE, "the chosen option's price, not another's");
  cr_assert_eq(fo->activation_factor, 100);
  cr_assert_eq(fo->n_isps, 2, "the chosen option's ISPs, unchanged");
  cr_assert_eq(fo->isps[0].start, 69);
  cr_assert_eq(fo->isps[0].power, -160000);
  cr_assert_eq(fo->isps[1].start, 75);
  cr_assert_eq(fo->isps[1].duration, 2);
  cr_assert_eq(fo->isps[1].power, -20000);
}

/* ---- E17: Metering's energy profiles ------------------------------------------------ */

/* Metering of one connection: a Power profile in kW (`kw`, `kw69` at ISP 69). */
static const char *metering_power(const char *ean, const char *kw, const char *kw69) {
  char isps[6000];
  size_t n = 0;
  for (int i = 1; i <= 96; i++)
    n += (size_t)snprintf(isps + n, sizeof isps - n, "<ISP Start=\"%d\" Value=\"%s\"/>", i, i == 69 ? kw69 : kw);
  return outcome(submit("Metering", AGR1, FX_ROLE_AGR,
                        " Revision=\"1\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                        "\" EAN=\"%s\"><Profile ProfileType=\"Power\" Unit=\"kW\">%s</Profile></Metering>",
                        ean, isps));
}

/* One energy profile (kWh per ISP): `v` everywhere, `v69` at ISP 69. */
static size_t energy_profile(char *out, size_t cap, const char *type, const char *v, const char *v69) {
  size_t n = (size_t)snprintf(out, cap, "<Profile ProfileType=\"%s\" Unit=\"kWh\">", type);
  for (int i = 1; i <= 96; i++)
    n += (size_t)snprintf(out + n, cap - n, "<ISP Start=\"%d\" Value=\"%s\"/>", i, i == 69 ? v69 : v);
  return n + (size_t)snprintf(out + n, cap - n, "</Profile>");
}

/* The catalog's rule: Power = (Import − Export) × 60 / ISP minutes, so with
 * PT15M a connection importing 1100 kWh and exporting 100 kWh in ISP 69 drew
 * 4000 kW. The settlement's actual power at ISP 69 is the sum over the AGR's
 * connections at the CP: that 4000 kW plus C2's 4000 kW metered as power. */
Test(conformance, E17_power_is_derived_from_import_and_export_energy) {
  H.cfg.penalty_rate = 110000;
  start_market();
  populate();
  /* Baseline 10 MW; 2 MW less requested at ISP 69; AGR1 offers 2 MW and is ordered. */
  struct fx_mh_held *dp = submit("D-Prognosis", AGR1, FX_ROLE_AGR,
                                 CP_ATTRS " Revision=\"1\"><ISP Power=\"10000000\" Start=\"1\" Duration=\"96\"/>"
                                          "</D-Prognosis>",
                                 CP1);
  char dp_id[37], fr[37];
  uuid_str(&dp->in.msg->hdr.message_id, dp_id);
  EXPECT(dp, "");
  EXPECT(flex_request(1, "<ISP Disposition=\"Requested\" MinPower=\"-3000000\" MaxPower=\"-2000000\" Start=\"69\"/>"),
         "");
  platform_request_id(AGR1, fr);
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                CP_ATTRS " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" FlexRequestMessageID=\"%s\" "
                         "D-PrognosisMessageID=\"%s\"><OfferOption OptionReference=\"A\" Price=\"14.00\">"
                         "<ISP Power=\"-2000000\" Start=\"69\"/></OfferOption></FlexOffer>",
                CP1, fr, dp_id),
         "");
  cr_assert_eq(clear_market(CP1), 1);
  /* The next day the metering comes: C1 as energy, C2 and C3 as power. */
  H.timestamp = "2025-03-03T08:00:00+01:00";
  H.now_us = at(H.timestamp);
  static char profiles[16000];
  size_t n = energy_profile(profiles, sizeof profiles, "ImportEnergy", "1250", "1100");
  energy_profile(profiles + n, sizeof profiles - n, "ExportEnergy", "0", "100");
  EXPECT(submit("Metering", AGR1, FX_ROLE_AGR,
                " Revision=\"1\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                "\" EAN=\"E1000000000000001\">%s</Metering>",
                profiles),
         "");
  cr_assert_str_eq(metering_power("E1000000000000002", "5000", "4000"), "");
  cr_assert_str_eq(metering_power("E1000000000000003", "0", "0"), "");
  struct fx_market_settlement s = {.from = day_of("2025-03-01"), .to = day_of("2025-03-31"), .seq = H.seq};
  run_command(fx_market_run_settlement, &s);
  cr_assert_eq(s.error, 0);
  const struct fx_msg *m = outbox(FX_MSG_FLEX_SETTLEMENT, AGR1, 0, NULL);
  cr_assert_not_null(m, "a FlexSettlement was queued");
  const struct fx_flex_order_settlement *o = &m->u.flex_settlement.flex_order_settlements[0];
  cr_assert_eq(o->isps[0].start, 69);
  cr_assert_eq(o->isps[0].actual_power, 8000000, "(1100 - 100) kWh x 60/15 = 4000 kW, plus C2's 4000 kW");
}

/* ==== conformance_http: the real endpoint ========================================== */

static struct fx_sim *peer;
static fx_arena *arena;

static void http_setup(void) {
  peer = fx_peer_start(NULL);
  arena = fx_arena_new(0);
}
static void http_teardown(void) {
  fx_sim_free(peer);
  fx_arena_free(arena);
  peer = NULL, arena = NULL;
}

TestSuite(conformance_http, .init = http_setup, .fini = http_teardown, .timeout = 60);

static const char *test_message(const char *from, const char *id) {
  static char buf[1024];
  return fx_sim_test_message(buf, sizeof buf, from, SIM_PLATFORM, id);
}

/* Replaces the first `from` in the malloc'd string s by `to` (same or any length). */
static char *replace(char *s, const char *from, const char *to) {
  char *at = strstr(s, from);
  cr_assert_not_null(at, "%s not in %s", from, s);
  size_t head = (size_t)(at - s), fl = strlen(from), tl = strlen(to), rest = strlen(at + fl);
  char *out = malloc(head + tl + rest + 1);
  cr_assert_not_null(out);
  memcpy(out, s, head);
  memcpy(out + head, to, tl);
  memcpy(out + head + tl, at + fl, rest + 1);
  free(s);
  return out;
}

/* A2: the outer SignedMessage is checked against the XSD too: well-formed but
 * schema-invalid envelopes are 400 before any key lookup. */
Test(conformance_http, A2_a_well_formed_but_schema_invalid_signed_message_is_400) {
  char id[FX_UUID_STRLEN];
  fx_sim_uuid(id);
  char *sm = fx_sim_seal(peer, SIM_AGR, FX_ROLE_AGR, test_message(SIM_AGR, id));
  cr_assert_not_null(sm);
  char *bad_role = replace(strdup(sm), "SenderRole=\"AGR\"", "SenderRole=\"BRP\"");
  cr_assert_eq(fx_sim_post(peer, bad_role, strlen(bad_role), "text/xml", NULL, 0), 400, "SenderRole outside the enum");
  char *no_body = replace(strdup(sm), "Body=\"", "Bodx=\"");
  cr_assert_eq(fx_sim_post(peer, no_body, strlen(no_body), "text/xml", NULL, 0), 400, "no Body attribute");
  cr_assert_eq(fx_sim_post(peer, sm, strlen(sm), "text/xml", NULL, 0), 200, "the intact envelope is taken");
  free(bad_role), free(no_body), free(sm);
}

/* B4 "Invalid Sender combination": a known domain claiming a role it is not
 * registered for has no key to verify against: 401, nothing is sequenced. */
Test(conformance_http, B4_a_known_domain_in_a_role_it_does_not_have_is_401) {
  char id[FX_UUID_STRLEN];
  fx_sim_uuid(id);
  char *sm = fx_sim_seal(peer, SIM_AGR, FX_ROLE_AGR, test_message(SIM_AGR, id));
  cr_assert_not_null(sm);
  sm = replace(sm, "SenderRole=\"AGR\"", "SenderRole=\"DSO\"");
  cr_assert_eq(fx_sim_post(peer, sm, strlen(sm), "text/xml", NULL, 0), 401);
  free(sm);
  /* The same message in the role agr.example.com has is answered. */
  cr_assert_eq(fx_sim_send(peer, SIM_AGR, FX_ROLE_AGR, test_message(SIM_AGR, id)), 200);
  cr_assert_not_null(fx_sim_await(peer, FX_MSG_TEST_MESSAGE_RESPONSE, id, 15000, arena));
  cr_assert_eq(fx_sim_count_responses(peer, id), 1, "the 401 was not answered");
}

static void make_uuid(const char *s, struct fx_uuid *u) { cr_assert_eq(fx_uuid_parse(s, strlen(s), u, NULL), 0); }

/* C1, C5, A6: a response travels on its own (asynchronously) to the sender's
 * endpoint, in the request's conversation (ConversationID copied, not the
 * MessageID), naming the request (its <Type>MessageID), with a MessageID of
 * its own; Accepted carries no RejectionReason, Rejected carries one. */
Test(conformance_http, C1_C5_a_response_keeps_the_conversation_and_names_the_request) {
  char id[FX_UUID_STRLEN], conv[FX_UUID_STRLEN], ts[FX_DATETIME_STRLEN], today[FX_DATE_STRLEN], xml[2048];
  fx_sim_uuid(id), fx_sim_uuid(conv);
  fx_sim_time(ts, 0);
  fx_sim_date(today, 0);
  snprintf(xml, sizeof xml,
           "<DSOPortfolioUpdate Version=\"3.1.0\" SenderDomain=\"" SIM_DSO "\" RecipientDomain=\"" SIM_PLATFORM "\" "
           "TimeStamp=\"%s\" MessageID=\"%s\" ConversationID=\"%s\" TimeZone=\"Europe/Amsterdam\">"
           "<CongestionPoint EntityAddress=\"ean.871685900012345678\" StartPeriod=\"%s\" MutexOffersSupported=\"true\" "
           "DayAheadRedispatchBy=\"DSO\"><Connection EntityAddress=\"ean.871685900001000001\" StartPeriod=\"%s\"/>"
           "</CongestionPoint></DSOPortfolioUpdate>",
           ts, id, conv, today, today);
  char body[512] = "";
  cr_assert_eq(fx_sim_send(peer, SIM_DSO, FX_ROLE_DSO, xml), 200);
  const struct fx_msg *r = fx_sim_await(peer, FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE, id, 15000, arena);
  cr_assert_not_null(r);
  struct fx_uuid want_id, want_conv;
  make_uuid(id, &want_id), make_uuid(conv, &want_conv);
  cr_assert(fx_uuid_equal(fx_msg_reference(r), &want_id), "ReferenceMessageID = the request's MessageID");
  cr_assert(fx_uuid_equal(&r->hdr.conversation_id, &want_conv), "the request's ConversationID");
  cr_assert_not(fx_uuid_equal(&r->hdr.message_id, &want_id), "a MessageID of its own");
  cr_assert_not(fx_uuid_equal(&r->hdr.message_id, &want_conv));
  cr_assert_eq(r->result, FX_RESULT_ACCEPTED);
  cr_assert_null(r->rejection_reason, "no RejectionReason when Accepted");

  /* A rejected FlexOffer (TimeZone of another offset), again in its own conversation. */
  char day[FX_DATE_STRLEN], exp[FX_DATETIME_STRLEN];
  fx_sim_uuid(id), fx_sim_uuid(conv);
  fx_sim_date(day, 1);
  fx_sim_time(exp, 3600);
  snprintf(xml, sizeof xml,
           "<FlexOffer Version=\"3.1.0\" SenderDomain=\"" SIM_AGR "\" RecipientDomain=\"" SIM_PLATFORM "\" "
           "TimeStamp=\"%s\" MessageID=\"%s\" ConversationID=\"%s\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/London\" "
           "Period=\"%s\" CongestionPoint=\"ean.871685900012345678\" ExpirationDateTime=\"%s\" Currency=\"EUR\">"
           "<OfferOption OptionReference=\"A\" Price=\"1\"><ISP Power=\"-1000\" Start=\"40\"/></OfferOption></FlexOffer>",
           ts, id, conv, day, exp);
  char *sm = fx_sim_seal(peer, SIM_AGR, FX_ROLE_AGR, xml);
  cr_assert_eq(fx_sim_post(peer, sm, strlen(sm), "text/xml", body, sizeof body), 200);
  free(sm);
  cr_assert_null(strstr(body, "FlexOfferResponse"), "the HTTP answer is not the UFTP response: %s", body);
  r = fx_sim_await(peer, FX_MSG_FLEX_OFFER_RESPONSE, id, 15000, arena);
  cr_assert_not_null(r);
  make_uuid(id, &want_id), make_uuid(conv, &want_conv);
  cr_assert(fx_uuid_equal(fx_msg_reference(r), &want_id));
  cr_assert(fx_uuid_equal(&r->hdr.conversation_id, &want_conv));
  cr_assert_eq(r->result, FX_RESULT_REJECTED);
  cr_assert_str_eq(r->rejection_reason, "TimeZone rejected");
}

/* The value of the metrics line starting with `series` (-1 when absent). */
static long metric(const char *series) {
  static char text[65536];
  if (fx_sim_get(peer, true, "/metrics", text, sizeof text) != 200)
    return -1;
  const char *at = strstr(text, series);
  return at ? strtol(at + strlen(series), NULL, 10) : -1;
}

/* A4, A5: a peer's unambiguous 4xx is a permanent failure: flexd stops, does
 * not retry (a retry would come 1-2 s after a failure), and hands the outcome
 * back (the row leaves the outbox as refused, counted and logged). */
Test(conformance_http, A4_A5_a_permanent_refusal_is_final_and_not_retried) {
  fx_sim_sink_status(peer, 400);
  char id[FX_UUID_STRLEN];
  fx_sim_uuid(id);
  cr_assert_eq(fx_sim_send(peer, SIM_AGR, FX_ROLE_AGR, test_message(SIM_AGR, id)), 200);
  const char *refused = "flexd_delivery_attempts_total{result=\"rejected\"} ";
  for (int i = 0; i < 1500 && metric(refused) < 1; i++)
    usleep(10000);
  cr_assert_eq(metric(refused), 1, "the 400 was taken as a refusal");
  cr_assert_eq(fx_sim_sink_hits(peer), 1);
  sleep(3);
  cr_assert_eq(fx_sim_sink_hits(peer), 1, "never tried again");
  cr_assert_eq(metric("flexd_delivery_attempts_total{result=\"retry\"} "), 0);
  cr_assert_eq(metric("flexd_delivery_attempts_total{result=\"delivered\"} "), 0);
}

/* ==== conformance_redirect: deliveries and 3xx ===================================== */

/* A peer that moved: /moved/<code> answers <code> with Location /target,
 * which takes the POST. */
struct redirect_env {
  uv_loop_t loop;
  uv_timer_t watchdog;
  struct fx_http_server *srv;
  struct fx_http_client *cli;
  int status, calls, target_hits;
  enum fx_http_err err;
  char target_body[64];
};

static void redirect_route(struct fx_http_request *req, void *ud) {
  struct redirect_env *e = ud;
  const char *path = fx_http_request_path(req);
  if (!strncmp(path, "/moved/", 7)) {
    fx_http_respond(req, atoi(path + 7), NULL, "", 0, "Location: /target\r\n");
  } else if (!strcmp(path, "/target")) {
    size_t len;
    const uint8_t *b = fx_http_request_body(req, &len);
    snprintf(e->target_body, sizeof e->target_body, "%.*s", (int)len, (const char *)b);
    e->target_hits++;
    fx_http_respond(req, 200, NULL, "", 0, NULL);
  } else {
    fx_http_respond(req, 404, NULL, "", 0, NULL);
  }
}

static void redirect_watchdog(uv_timer_t *t) {
  (void)t;
  cr_assert_fail("the delivery did not finish in 20 s");
}

static void redirect_done(int status, enum fx_http_err err, void *ud) {
  struct redirect_env *e = ud;
  e->status = status, e->err = err, e->calls++;
}

/* POSTs a body to /moved/<code> and runs the loop until the callback. */
static void deliver_through(struct redirect_env *e, int code) {
  memset(e, 0, sizeof *e);
  cr_assert_eq(uv_loop_init(&e->loop), 0);
  uv_timer_init(&e->loop, &e->watchdog);
  uv_timer_start(&e->watchdog, redirect_watchdog, 20000, 0);
  uv_unref((uv_handle_t *)&e->watchdog);
  struct fx_http_server_config scfg;
  fx_http_server_config_default(&scfg);
  cr_assert_eq(fx_http_server_start(&e->srv, &e->loop, &scfg, redirect_route, e), 0);
  struct fx_http_client_config ccfg;
  fx_http_client_config_default(&ccfg);
  cr_assert_eq(fx_http_client_new(&e->cli, &e->loop, &ccfg), 0);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/moved/%d", fx_http_server_port(e->srv), code);
  const char *body = "<SignedMessage/>";
  cr_assert_eq(fx_http_client_post(e->cli, url, "text/xml; charset=utf-8", body, strlen(body), 5000, redirect_done, e),
               0);
  for (int i = 0; i < 100000 && !e->calls; i++)
    uv_run(&e->loop, UV_RUN_ONCE);
  fx_http_client_close(e->cli);
  fx_http_server_stop(e->srv, NULL, NULL);
  uv_close((uv_handle_t *)&e->watchdog, NULL);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&e->loop), 0, "a handle was left open");
}

/* A4: "Redirects should be honoured (3xx)". The Java library treats 302 as a
 * failure; flexd follows 301, 302, 303, 307 and 308 and keeps the POST and its
 * body, so the message reaches the new address and the delivery is final. */
Test(conformance_redirect, A4_every_redirect_is_followed_with_the_post_and_its_body) {
  static const int codes[] = {301, 302, 303, 307, 308};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    struct redirect_env e;
    deliver_through(&e, codes[i]);
    cr_assert_eq(e.calls, 1, "%d", codes[i]);
    cr_assert_eq(e.err, FX_HTTP_OK, "%d", codes[i]);
    cr_assert_eq(e.status, 200, "%d: the new address answered", codes[i]);
    cr_assert_eq(e.target_hits, 1, "%d", codes[i]);
    cr_assert_str_eq(e.target_body, "<SignedMessage/>", "%d: the body came along", codes[i]);
    cr_assert_eq(fx_http_delivery_class(e.status, e.err), FX_DELIVERY_FINAL_OK);
  }
}

/* ==== conformance_dns: DNSSEC is mandatory ============================================ */

/* A DNS responder of a few lines on 127.0.0.1: every TXT question gets one TXT
 * record holding `txt`, with the AD bit ("authenticated data", what a
 * validating resolver sets) as `ad` says; any other question gets an empty
 * authoritative answer. */
struct dns_env {
  uv_loop_t loop;
  uv_udp_t udp;
  bool ad;
  char txt[FX_KEYS_CS1_LEN + 1];
  char rbuf[1500];
  int txt_answers, changed;
};

struct dns_reply {
  uv_udp_send_t req;
  uint8_t buf[700];
};

static void dns_alloc(uv_handle_t *h, size_t size, uv_buf_t *b) {
  (void)size;
  struct dns_env *e = h->data;
  *b = uv_buf_init(e->rbuf, sizeof e->rbuf);
}

static void dns_sent(uv_udp_send_t *req, int status) {
  (void)status;
  free(req->data);
}

static void dns_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags) {
  (void)flags;
  struct dns_env *e = u->data;
  const uint8_t *q = (const uint8_t *)b->base;
  if (n < 12 || !from)
    return;
  size_t p = 12;
  while (p < (size_t)n && q[p])
    p += q[p] + 1u;
  if (p + 5 > (size_t)n || p + 5 > 500)
    return;
  size_t len = p + 5; /* header and question, copied; OPT and the rest dropped */
  bool txt = q[p + 1] == 0 && q[p + 2] == 16;
  struct dns_reply *r = calloc(1, sizeof *r);
  cr_assert_not_null(r);
  r->req.data = r;
  memcpy(r->buf, q, len);
  r->buf[2] = (uint8_t)(0x80 | 0x04 | (q[2] & 0x01)); /* QR, AA, RD as asked */
  r->buf[3] = (uint8_t)(0x80 | (e->ad ? 0x20 : 0));   /* RA, AD, NOERROR */
  r->buf[4] = 0, r->buf[5] = 1;
  r->buf[6] = 0, r->buf[7] = txt ? 1 : 0;
  memset(r->buf + 8, 0, 4);
  if (txt) {
    size_t k = strlen(e->txt);
    const uint8_t rr[] = {0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, (uint8_t)(k + 1), (uint8_t)k};
    memcpy(r->buf + len, rr, sizeof rr);
    memcpy(r->buf + len + sizeof rr, e->txt, k);
    len += sizeof rr + k;
    e->txt_answers++;
  }
  uv_buf_t out = uv_buf_init((char *)r->buf, (unsigned)len);
  if (uv_udp_send(&r->req, u, &out, 1, from, dns_sent) != 0)
    free(r);
}

static void dns_changed(void *ud) { ((struct dns_env *)ud)->changed++; }

/* Resolves agr.example.com as AGR through the responder (dnssec on or off)
 * and returns how many keys discovery accepted; its log lines go to `log`. */
static size_t discovered_keys(bool ad, bool dnssec, char *log, size_t logcap) {
  struct dns_env e;
  memset(&e, 0, sizeof e);
  e.ad = ad;
  struct fx_keys_pair kp;
  cr_assert_eq(fx_keys_generate(&kp), 0);
  fx_keys_cs1_format(&kp.pub, e.txt);
  cr_assert_eq(uv_loop_init(&e.loop), 0);
  cr_assert_eq(uv_udp_init(&e.loop, &e.udp), 0);
  e.udp.data = &e;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  cr_assert_eq(uv_udp_bind(&e.udp, (const struct sockaddr *)&a, 0), 0);
  int alen = sizeof a;
  cr_assert_eq(uv_udp_getsockname(&e.udp, (struct sockaddr *)&a, &alen), 0);
  cr_assert_eq(uv_udp_recv_start(&e.udp, dns_alloc, dns_recv), 0);

  char text[512], err[256];
  snprintf(text, sizeof text,
           "[platform]\ndiscovery = dns\ndns_servers = 127.0.0.1:%d\ndns_dnssec = %s\ndns_timeout_ms = 500\n"
           "[participant agr.example.com AGR]\ndiscovery = dns\n",
           ntohs(a.sin_port), dnssec ? "true" : "false");
  struct fx_config cfg;
  fx_config_defaults(&cfg);
  cr_assert_eq(fx_config_parse(&cfg, text, err, sizeof err), 0, "%s", err);
  char logpath[] = "/tmp/flexd-conf-dns-XXXXXX";
  struct fx_log lg = {.format = FX_LOG_JSON, .fd = mkstemp(logpath)};
  cr_assert_geq(lg.fd, 0);
  unlink(logpath);
  struct fx_discovery *d;
  cr_assert_eq(fx_discovery_new(&d, &e.loop, &cfg, &lg, dns_changed, &e, err, sizeof err), 0, "%s", err);
  /* Until the TXT answer has been sent and read (bounded: ~2 s). */
  for (int i = 0; i < 2000 && !e.txt_answers; i++) {
    uv_run(&e.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(e.txt_answers, 1, "the key record was asked for");
  for (int i = 0; i < 200; i++) {
    uv_run(&e.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  struct fx_discovered got;
  cr_assert_eq(fx_discovery_get(d, "agr.example.com", FX_ROLE_AGR, &got), 0);
  cr_assert_eq(memcmp(kp.pub.sign, got.n_keys ? got.pk[0] : kp.pub.sign, 32), 0, "the published key");
  fx_discovery_close(d);
  uv_close((uv_handle_t *)&e.udp, NULL);
  uv_run(&e.loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&e.loop), 0, "a handle was left open");
  fx_config_free(&cfg);
  fx_keys_wipe(&kp);
  ssize_t n = pread(lg.fd, log, logcap - 1, 0);
  log[n > 0 ? n : 0] = 0;
  close(lg.fd);
  return got.n_keys;
}

/* B2 "DNSSEC mandatory": with dns_dnssec on (the default) a key answer the
 * resolver did not authenticate (no AD bit) is not used — the sender then
 * gets 419 — and an authenticated one is. Off, the AD bit does not matter. */
Test(conformance_dns, B2_a_key_from_dns_is_used_only_when_dnssec_authenticated) {
  static char log[8192];
  cr_assert_eq(discovered_keys(false, true, log, sizeof log), 0, "no AD bit: not used");
  cr_assert_not_null(strstr(log, "not DNSSEC-authenticated"), "and said so: %s", log);
  cr_assert_eq(discovered_keys(true, true, log, sizeof log), 1, "AD bit: used");
  cr_assert_null(strstr(log, "not DNSSEC-authenticated"), "%s", log);
  cr_assert_eq(discovered_keys(false, false, log, sizeof log), 1, "dns_dnssec = false: used without it");
}
