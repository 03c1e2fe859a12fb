/* test_market.c — the market at the sequencer level: a real sequencer on a
 * real LMDB store with the market's hooks, fed messages as a worker would hand
 * them over (parsed, stateless checks passed). One test per rule: the common
 * reference, FlexRequest and its broadcast, D-Prognosis, FlexOffer,
 * FlexOfferRevocation, clearing and FlexOrders, restart from the store, the
 * query API, and a whole market day. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/query.h"
#include "engine/sequencer.h"
#include "store/store.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "market"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(market, .init = setup, .fini = teardown);

/* ---- building the common reference ---------------------------------------------- */

#define DPU_CP(cp, conn, extra)                                                                                    \
  "<CongestionPoint EntityAddress=\"" cp "\" StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" "           \
  "DayAheadRedispatchBy=\"DSO\"" extra "><Connection EntityAddress=\"" conn "\" StartPeriod=\"2025-03-01\"/>"       \
  "</CongestionPoint>"

/* CP1 with connections 1 (AGR1) and 2 (AGR2); CP2 with connection 3 (AGR3). */
static void populate(void) {
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">"
                "<CongestionPoint EntityAddress=\"" CP1 "\" StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" "
                "DayAheadRedispatchBy=\"DSO\"><Connection EntityAddress=\"ean.871685900001000001\" "
                "StartPeriod=\"2025-03-01\"/><Connection EntityAddress=\"ean.871685900001000002\" "
                "StartPeriod=\"2025-03-01\"/></CongestionPoint>" DPU_CP(CP2, "ean.871685900001000003", "")
                "</DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900001000001\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR2, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900001000002\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR3, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900001000003\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "");
}

#define FLEX_HDR(cp) " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" cp "\""

/* A FlexRequest for CP1 asking 150..300 kW less consumption at ISP 69 (Requested),
 * ISP 70 Available. */
static struct fx_mh_held *flex_request(const char *cp, int revision, const char *isps) {
  return submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                "\" CongestionPoint=\"%s\" Revision=\"%d\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">%s"
                "</FlexRequest>",
                cp, revision,
                isps ? isps
                     : "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/>"
                       "<ISP Disposition=\"Available\" MinPower=\"-100000\" MaxPower=\"100000\" Start=\"70\"/>");
}

static struct fx_mh_held *offer(const char *agr, const char *attrs, const char *options) {
  return submit("FlexOffer", agr, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\"%s>%s</FlexOffer>",
                attrs, options);
}

static struct fx_mh_held *solicited(const char *agr, const char *price, const char *power) {
  char fr[37], attrs[128], opts[256];
  platform_request_id(agr, fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\"", fr);
  snprintf(opts, sizeof opts,
           "<OfferOption OptionReference=\"A\" Price=\"%s\"><ISP Power=\"%s\" Start=\"69\"/></OfferOption>", price,
           power);
  return offer(agr, attrs, opts);
}

static int cmd_err;
static void cmd_done(struct fx_seq_command *c) { cmd_err = c->store_err; }

static int clear_now(const char *cp, int64_t t) {
  struct fx_market_target target = {.period = 0};
  snprintf(target.cp, sizeof target.cp, "%s", cp);
  struct fx_date d;
  fx_date_parse(PERIOD, strlen(PERIOD), &d, NULL);
  target.period = fx_date_to_days(&d);
  struct fx_seq_command c = {.run = fx_market_run_clear, .done = cmd_done, .now_us = t, .arg = &target};
  cmd_err = -99;
  fx_sequencer_command(H.seq, &c);
  for (int i = 0; i < 5000 && cmd_err == -99; i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(cmd_err, 0);
  cr_assert(target.found);
  return target.n_orders;
}

/* ==== common reference ============================================================== */

Test(market, dso_portfolio_update_publishes_congestion_points) {
  start_market();
  populate();
  struct fx_mh_held *h = submit("DSOPortfolioQuery", DSO, FX_ROLE_DSO,
                          " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" EntityAddress=\"" CP1 "\"/>");
  EXPECT(h, "");
  const struct fx_msg *r = outbox(FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE, DSO, 0, NULL);
  cr_assert_not_null(r);
  cr_assert_eq(r->result, FX_RESULT_ACCEPTED);
  const struct fx_dso_portfolio_query_response *q = &r->u.dso_portfolio_query_response;
  cr_assert_eq(q->n_congestion_point, 1);
  cr_assert_str_eq(q->congestion_point[0].entity_address, CP1);
  cr_assert_eq(q->congestion_point[0].n_connections, 2, "both connections at CP1 have an AGR");
}

Test(market, unauthorized_in_closed_mode) {
  start_market();
  EXPECT(submit("DSOPortfolioUpdate", "other-dso.example.com", FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" DPU_CP(CP1, "ean.871685900001000001", "") "</DSOPortfolioUpdate>"),
         "Unauthorized");
  EXPECT(submit("AGRPortfolioUpdate", "other-agr.example.com", FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900001000001\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "Unauthorized");
  EXPECT(submit("AGRPortfolioQuery", "other-agr.example.com", FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\"/>"),
         "Unauthorized");
}

Test(market, open_mode_accepts_unregistered_senders) {
  H.cfg.closed = false;
  start_market();
  EXPECT(submit("DSOPortfolioUpdate", "other-dso.example.com", FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" DPU_CP(CP1, "ean.871685900001000001", "") "</DSOPortfolioUpdate>"),
         "");
}

Test(market, portfolio_update_older_than_the_last_is_a_subordinate_sequence_number) {
  start_market();
  populate();
  H.timestamp = "2025-03-01T09:00:00+01:00";
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" DPU_CP(CP1, "ean.871685900001000001", "") "</DSOPortfolioUpdate>"),
         "Subordinate sequence number");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900001000001\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "Subordinate sequence number");
}

Test(market, a_congestion_point_belongs_to_the_dso_that_published_it) {
  H.cfg.closed = false;
  start_market();
  populate();
  EXPECT(submit("DSOPortfolioUpdate", "other-dso.example.com", FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" DPU_CP(CP1, "ean.871685900001000001", "") "</DSOPortfolioUpdate>"),
         "Invalid CongestionPoint");
}

Test(market, end_period_now_removes_the_congestion_point) {
  start_market();
  populate();
  H.timestamp = "2025-03-01T10:00:00+01:00";
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" DPU_CP(CP1, "ean.871685900001000001",
                                                         " EndPeriod=\"2025-03-01\"") "</DSOPortfolioUpdate>"),
         "");
  EXPECT(flex_request(CP1, 1, NULL), "Invalid CongestionPoint");
  EXPECT(submit("DSOPortfolioQuery", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" EntityAddress=\"" CP1 "\"/>"),
         "Invalid CongestionPoint");
}

Test(market, agr_portfolio_query_shows_only_own_connections_grouped_by_dso) {
  start_market();
  populate();
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900009999999\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioQuery", AGR1, FX_ROLE_AGR, " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\"/>"),
         "");
  const struct fx_msg *r = outbox(FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE, AGR1, 0, NULL);
  cr_assert_not_null(r);
  const struct fx_agr_portfolio_query_response *q = &r->u.agr_portfolio_query_response;
  cr_assert_eq(q->n_dso_views, 1);
  cr_assert_eq(q->dso_views[0].n_dso_portfolios, 1);
  const struct fx_dso_portfolio *p = &q->dso_views[0].dso_portfolios[0];
  cr_assert_str_eq(p->dso_domain, DSO);
  cr_assert_eq(p->n_congestion_points, 1);
  cr_assert_str_eq(p->congestion_points[0].entity_address, CP1);
  cr_assert_eq(p->congestion_points[0].n_connections, 1, "not AGR2's connection at the same CP");
  cr_assert_str_eq(p->congestion_points[0].connections[0].entity_address, "ean.871685900001000001");
  cr_assert_eq(q->dso_views[0].n_connections, 1, "the unallocated connection is listed apart");
  cr_assert_str_eq(q->dso_views[0].connections[0].entity_address, "ean.871685900009999999");
}

Test(market, portfolio_queries_without_connections_are_rejected) {
  start_market();
  EXPECT(submit("AGRPortfolioQuery", AGR1, FX_ROLE_AGR, " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\"/>"),
         "No connections available");
  const struct fx_msg *r = outbox(FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE, AGR1, 0, NULL);
  cr_assert_not_null(r, "a schema-valid rejection was sent");
  cr_assert_eq(r->result, FX_RESULT_REJECTED);
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" DPU_CP(CP1, "ean.871685900001000001", "") "</DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("DSOPortfolioQuery", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" EntityAddress=\"" CP1 "\"/>"),
         "No connections available");
}

/* ==== FlexRequest ===================================================================== */

Test(market, flex_request_at_an_unknown_or_foreign_cp_is_an_invalid_congestion_point) {
  start_market();
  populate();
  EXPECT(flex_request("ean.871685900099999999", 1, NULL), "Invalid CongestionPoint");
  H.cfg.closed = false;
  EXPECT(submit("FlexRequest", "other-dso.example.com", FX_ROLE_DSO,
                FLEX_HDR(CP1) " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                              "<ISP Disposition=\"Requested\" MinPower=\"-300\" MaxPower=\"-150\" Start=\"69\"/>"
                              "</FlexRequest>"),
         "Invalid CongestionPoint");
}

Test(market, flex_request_without_requested_isp_lacks_requested_disposition) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, "<ISP Disposition=\"Available\" MinPower=\"-300\" MaxPower=\"300\" Start=\"69\"/>"),
         "Lacking Requested Disposition");
}

Test(market, requested_isp_without_direction_is_a_requested_power_discrepancy) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, "<ISP Disposition=\"Requested\" MinPower=\"-300\" MaxPower=\"300\" Start=\"69\"/>"),
         "Requested Power discrepancy");
}

Test(market, min_above_max_is_a_power_discrepancy) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1,
                      "<ISP Disposition=\"Requested\" MinPower=\"-100\" MaxPower=\"-300\" Start=\"69\"/>"),
         "Power discrepancy");
}

Test(market, flex_request_beyond_what_the_clearing_computes_is_a_power_value_rejection) {
  /* Its market could never be cleared: refused at intake, at the solver's
   * 1 TW and not below it. */
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1,
                      "<ISP Disposition=\"Requested\" MinPower=\"-1000000000001\" MaxPower=\"-150\" Start=\"69\"/>"),
         "Power value rejection");
  EXPECT(flex_request(CP1, 2,
                      "<ISP Disposition=\"Available\" MinPower=\"0\" MaxPower=\"1000000000001\" Start=\"70\"/>"
                      "<ISP Disposition=\"Requested\" MinPower=\"-300\" MaxPower=\"-150\" Start=\"69\"/>"),
         "Power value rejection");
  EXPECT(flex_request(CP1, 3,
                      "<ISP Disposition=\"Requested\" MinPower=\"-1000000000000\" MaxPower=\"-150\" Start=\"69\"/>"),
         "");
}

Test(market, flex_request_revision_must_increase) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 2, NULL), "");
  EXPECT(flex_request(CP1, 2, NULL), "Subordinate sequence number");
  EXPECT(flex_request(CP1, 1, NULL), "Subordinate sequence number");
  EXPECT(flex_request(CP1, 3, NULL), "");
}

Test(market, flex_request_is_broadcast_to_every_active_agr_with_own_ids) {
  start_market();
  populate();
  struct fx_mh_held *h = flex_request(CP1, 1, NULL);
  struct fx_uuid dso_id = h->in.msg->hdr.message_id, dso_conv = h->in.msg->hdr.conversation_id;
  EXPECT(h, "");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST_RESPONSE, DSO), 1, "the DSO is answered");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR2), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR3), 0, "AGR3 has no connection at CP1");
  const struct fx_msg *a = outbox(FX_MSG_FLEX_REQUEST, AGR1, 0, NULL);
  struct fx_uuid a_id = a->hdr.message_id, a_conv = a->hdr.conversation_id;
  cr_assert_str_eq(a->hdr.sender_domain, PLATFORM);
  cr_assert_not(fx_uuid_equal(&a_id, &dso_id));
  cr_assert_not(fx_uuid_equal(&a_conv, &dso_conv));
  cr_assert_eq(a->u.flex_request.n_isps, 2);
  const struct fx_msg *b = outbox(FX_MSG_FLEX_REQUEST, AGR2, 0, NULL);
  cr_assert_not(fx_uuid_equal(&a_id, &b->hdr.message_id));
  cr_assert_not(fx_uuid_equal(&a_conv, &b->hdr.conversation_id));
}

/* ==== D-Prognosis ======================================================================= */

static struct fx_mh_held *prognosis(const char *agr, const char *cp, int revision, int n_isps, long power) {
  char isps[8192] = "";
  size_t at = 0;
  for (int i = 1; i <= n_isps; i++)
    at += (size_t)snprintf(isps + at, sizeof isps - at, "<ISP Power=\"%ld\" Start=\"%d\"/>", i == 5 ? power : 1000, i);
  return submit("D-Prognosis", agr, FX_ROLE_AGR,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                "\" CongestionPoint=\"%s\" Revision=\"%d\">%s</D-Prognosis>",
                cp, revision, isps);
}

Test(market, d_prognosis_rules) {
  start_market();
  populate();
  EXPECT(prognosis(AGR1, CP2, 1, 96, 1000), "Invalid CongestionPoint");
  EXPECT(prognosis(AGR1, CP1, 1, 95, 1000), "Lacking ISPs");
  EXPECT(prognosis(AGR1, CP1, 1, 96, 2000000000), "Power value rejection");
  EXPECT(prognosis(AGR1, CP1, 2, 96, 1000), "");
  EXPECT(prognosis(AGR1, CP1, 1, 96, 1000), "Subordinate sequence number");
  EXPECT(prognosis(AGR2, CP1, 1, 96, 1000), "", "revisions are per AGR");
  cr_assert_eq(count_out(FX_MSG_D_PROGNOSIS_RESPONSE, AGR1), 5);
}

/* ==== FlexOffer ============================================================================ */

#define OPTION_A "<OfferOption OptionReference=\"A\" Price=\"100\"><ISP Power=\"-200000\" Start=\"69\"/></OfferOption>"

Test(market, unsolicited_offer_is_accepted_and_does_not_need_a_request) {
  start_market();
  populate();
  EXPECT(offer(AGR1, "", OPTION_A), "");
  EXPECT(offer(AGR1, " Unsolicited=\"true\"", OPTION_A), "");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 0, "acceptance does not mean ordering");
}

Test(market, unsolicited_true_with_a_request_reference_is_an_invalid_message) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  char fr[37], attrs[160];
  platform_request_id(AGR1, fr);
  snprintf(attrs, sizeof attrs, " Unsolicited=\"true\" FlexRequestMessageID=\"%s\"", fr);
  EXPECT(offer(AGR1, attrs, OPTION_A), "Invalid Message", "Unsolicited=\"true\" cannot answer a request");
  snprintf(attrs, sizeof attrs, " Unsolicited=\"false\" FlexRequestMessageID=\"%s\"", fr);
  EXPECT(offer(AGR1, attrs, OPTION_A), "", "the same reference, solicited, is fine");
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\"", fr);
  EXPECT(offer(AGR1, attrs, OPTION_A), "", "and so it is without Unsolicited (3.0.0 meaning)");
}

Test(market, a_message_id_reused_by_another_sender_is_a_duplicate_identifier) {
  start_market();
  populate();
  struct fx_mh_held *first = offer(AGR1, "", OPTION_A);
  char id[37];
  uuid_str(&first->in.msg->hdr.message_id, id);
  EXPECT(first, "");
  H.reuse_id = id;
  EXPECT(offer(AGR2, "", OPTION_A), "Duplicate Identifier", "another AGR's offer with AGR1's MessageID");
  H.reuse_id = id;
  EXPECT(prognosis(AGR2, CP1, 1, 96, 1000), "Duplicate Identifier", "any kind of market object");
  H.reuse_id = id;
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                "\" Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/>"
                "</FlexRequest>"),
         "Duplicate Identifier", "also from a DSO");
  /* The first sender's offer is untouched: AGR1 can still revoke it. */
  EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", id), "");
}

Test(market, offer_at_a_cp_without_active_connection_is_invalid) {
  start_market();
  populate();
  EXPECT(offer(AGR3, "", OPTION_A), "Invalid CongestionPoint");
}

Test(market, solicited_offer_needs_a_known_platform_request) {
  start_market();
  populate();
  EXPECT(offer(AGR1, " Unsolicited=\"false\"", OPTION_A), "Unknown FlexRequestMessageID reference");
  EXPECT(offer(AGR1, " FlexRequestMessageID=\"00000000-0000-4000-8000-999999999999\"", OPTION_A),
         "Unknown FlexRequestMessageID reference");
  struct fx_mh_held *fr = flex_request(CP1, 1, NULL);
  char dso_fr[37];
  uuid_str(&fr->in.msg->hdr.message_id, dso_fr);
  EXPECT(fr, "");
  char attrs[128];
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\"", dso_fr);
  EXPECT(offer(AGR1, attrs, OPTION_A), "Unknown FlexRequestMessageID reference", "the DSO's id is not the AGR's");
  char agr2_fr[37];
  platform_request_id(AGR2, agr2_fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\"", agr2_fr);
  EXPECT(offer(AGR1, attrs, OPTION_A), "Unknown FlexRequestMessageID reference", "another AGR's copy");
  EXPECT(solicited(AGR1, "100", "-200000"), "");
}

Test(market, offer_for_another_period_is_a_reference_period_mismatch) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  char fr[37], xml[1024];
  platform_request_id(AGR1, fr);
  snprintf(xml, sizeof xml,
           " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-03\" CongestionPoint=\"" CP1
           "\" ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"EUR\" FlexRequestMessageID=\"%s\">" OPTION_A
           "</FlexOffer>",
           fr);
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR, "%s", xml), "Reference Period mismatch");
}

Test(market, offer_on_an_expired_request_is_refused) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  H.now_us = at("2025-03-01T15:00:00+01:00");
  EXPECT(solicited(AGR1, "100", "-200000"), "Reference message expired");
}

Test(market, offer_on_a_superseded_request_revision_is_refused_as_revoked) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  char old[37], attrs[128];
  platform_request_id(AGR1, old);
  EXPECT(flex_request(CP1, 2, NULL), "");
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\"", old);
  EXPECT(offer(AGR1, attrs, OPTION_A), "Reference message revoked");
  EXPECT(solicited(AGR1, "100", "-200000"), "", "the new revision's copy is fine");
}

Test(market, offer_missing_every_requested_isp_is_a_request_mismatch) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  char fr[37], attrs[128];
  platform_request_id(AGR1, fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\"", fr);
  EXPECT(offer(AGR1, attrs,
               "<OfferOption OptionReference=\"A\" Price=\"100\"><ISP Power=\"-200000\" Start=\"70\"/></OfferOption>"),
         "Request mismatch");
}

#define TWO_OPTIONS                                                                                                \
  OPTION_A "<OfferOption OptionReference=\"B\" Price=\"50\"><ISP Power=\"-100000\" Start=\"69\"/></OfferOption>"

Test(market, several_options_without_mutex_support_are_refused) {
  H.cfg.mutex_offers = false;
  start_market();
  populate();
  EXPECT(offer(AGR1, "", TWO_OPTIONS), "No MutEx offer support");
  EXPECT(offer(AGR1, "", OPTION_A), "");
}

Test(market, several_options_with_mutex_support_are_accepted) {
  start_market();
  populate();
  EXPECT(offer(AGR1, "", TWO_OPTIONS), "");
}

Test(market, offer_without_baseline_when_required_is_refused) {
  H.cfg.require_baseline = true;
  start_market();
  populate();
  EXPECT(offer(AGR1, "", OPTION_A), "No baseline");
  struct fx_mh_held *dp = prognosis(AGR1, CP1, 1, 96, 1000);
  char dpid[37], attrs[128];
  uuid_str(&dp->in.msg->hdr.message_id, dpid);
  EXPECT(dp, "");
  snprintf(attrs, sizeof attrs, " D-PrognosisMessageID=\"%s\"", dpid);
  EXPECT(offer(AGR1, attrs, OPTION_A), "");
  EXPECT(offer(AGR2, attrs, OPTION_A), "Unknown D-PrognosisMessageID reference", "another AGR's prognosis");
}

Test(market, offer_in_another_currency_or_with_implausible_power_is_refused) {
  start_market();
  populate();
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-01T14:45:00+01:00\" Currency=\"USD\">" OPTION_A
                              "</FlexOffer>"),
         "Currency mismatch");
  EXPECT(offer(AGR1, "",
               "<OfferOption OptionReference=\"A\" Price=\"1\"><ISP Power=\"-2000000000\" Start=\"69\"/></OfferOption>"),
         "Power value rejection");
}

Test(market, offer_priced_beyond_what_the_clearing_computes_exactly_is_refused) {
  /* One such offer would make every clearing of its market fail: refused at
   * intake, at the solver's limit and not below it. */
  start_market();
  populate();
  EXPECT(offer(AGR1, "",
               "<OfferOption OptionReference=\"A\" Price=\"10000000000.0001\"><ISP Power=\"-1000\" Start=\"69\"/></OfferOption>"),
         "Price value rejection");
  EXPECT(offer(AGR1, "",
               "<OfferOption OptionReference=\"A\" Price=\"-10000000000.0001\"><ISP Power=\"-1000\" Start=\"69\"/></OfferOption>"),
         "Price value rejection");
  EXPECT(offer(AGR1, "",
               "<OfferOption OptionReference=\"A\" Price=\"10000000000\"><ISP Power=\"-1000\" Start=\"69\"/></OfferOption>"),
         "");
}

/* ==== FlexOfferRevocation ================================================================= */

static struct fx_mh_held *revoke(const char *agr, const struct fx_uuid *offer_id) {
  char id[37];
  uuid_str(offer_id, id);
  return submit("FlexOfferRevocation", agr, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", id);
}

Test(market, only_the_offers_sender_may_revoke_it) {
  start_market();
  populate();
  struct fx_mh_held *o = offer(AGR1, "", OPTION_A);
  struct fx_uuid id = o->in.msg->hdr.message_id;
  EXPECT(o, "");
  EXPECT(revoke(AGR2, &id), "Unknown FlexOfferMessageID reference");
  EXPECT(revoke(AGR1, &id), "");
  EXPECT(revoke(AGR1, &id), "Reference message revoked");
}

Test(market, an_ordered_offer_cannot_be_revoked) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  struct fx_mh_held *o = solicited(AGR1, "100", "-200000");
  struct fx_uuid id = o->in.msg->hdr.message_id;
  EXPECT(o, "");
  cr_assert_eq(clear_now(CP1, H.now_us), 1);
  EXPECT(revoke(AGR1, &id), "Flexibility procured");
}

/* Operate phase: once the Period's first ISP has started, no offer of that
 * Period may be revoked any more, even one that has not expired. */
static struct fx_mh_held *late_expiring_offer(void) {
  return submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-02T12:00:00+01:00\" Currency=\"EUR\">" OPTION_A
                              "</FlexOffer>");
}

Test(market, an_offer_is_revocable_until_its_period_starts) {
  start_market();
  populate();
  struct fx_mh_held *o = late_expiring_offer();
  struct fx_uuid id = o->in.msg->hdr.message_id;
  EXPECT(o, "");
  H.timestamp = "2025-03-01T23:59:00+01:00";
  H.now_us = at(H.timestamp);
  EXPECT(revoke(AGR1, &id), "");
}

Test(market, an_offer_of_a_period_in_operation_cannot_be_revoked) {
  start_market();
  populate();
  struct fx_mh_held *o = late_expiring_offer();
  struct fx_uuid id = o->in.msg->hdr.message_id;
  EXPECT(o, "");
  H.timestamp = "2025-03-02T00:00:00+01:00";
  H.now_us = at(H.timestamp);
  EXPECT(revoke(AGR1, &id), "Period out of bounds");
  H.timestamp = "2025-03-02T00:30:00+01:00";
  H.now_us = at(H.timestamp);
  EXPECT(revoke(AGR1, &id), "Period out of bounds");
}

Test(market, revocation_before_the_order_commits_wins) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  struct fx_mh_held *o = solicited(AGR1, "100", "-200000");
  struct fx_uuid id = o->in.msg->hdr.message_id;
  EXPECT(o, "");
  EXPECT(revoke(AGR1, &id), "");
  cr_assert_eq(clear_now(CP1, H.now_us), 0, "a revoked offer is never ordered");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 0);
}

/* ==== clearing and FlexOrders ============================================================== */

static int32_t period_days(void) {
  struct fx_date d;
  fx_date_parse(PERIOD, strlen(PERIOD), &d, NULL);
  return fx_date_to_days(&d);
}

static struct fx_mh_held *order_response(const char *agr, const struct fx_uuid *order_id, bool accepted) {
  char id[37];
  uuid_str(order_id, id);
  return submit("FlexOrderResponse", agr, FX_ROLE_AGR, " Result=\"%s\" FlexOrderMessageID=\"%s\"%s/>",
                accepted ? "Accepted" : "Rejected", id, accepted ? "" : " RejectionReason=\"Price mismatch\"");
}

Test(market, flex_order_matches_the_offer_a_strict_agr_checks) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1,
                      "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/>"
                      "<ISP Disposition=\"Available\" MinPower=\"-200000\" MaxPower=\"100000\" Start=\"70\"/>"),
         "");
  char fr[37], attrs[160];
  platform_request_id(AGR1, fr);
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\" ContractID=\"C-1\"", fr);
  /* 400 kW offered at ISPs 69-70 from 30 %: 150 kW are needed at ISP 69, so the
   * cheapest full cover is 38 % (152 kW; 37 % gives 148 kW), within ISP 70's
   * Available bound (at most 50 %). */
  struct fx_mh_held *o = offer(AGR1, attrs,
                         "<OfferOption OptionReference=\"part\" Price=\"99.99\" MinActivationFactor=\"0.30\">"
                         "<ISP Power=\"-400000\" Start=\"69\" Duration=\"2\"/></OfferOption>");
  struct fx_uuid offer_id = o->in.msg->hdr.message_id, offer_conv = o->in.msg->hdr.conversation_id;
  EXPECT(o, "");
  cr_assert_eq(clear_now(CP1, H.now_us), 1);
  const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_not_null(m);
  const struct fx_flex_order *fo = &m->u.flex_order;
  cr_assert_str_eq(m->hdr.sender_domain, PLATFORM);
  cr_assert(fx_uuid_equal(&fo->flex_offer_message_id, &offer_id));
  cr_assert(fx_uuid_equal(&m->hdr.conversation_id, &offer_conv), "in the offer's conversation");
  cr_assert_str_eq(fo->option_reference, "part");
  cr_assert_str_eq(fo->contract_id, "C-1");
  cr_assert_str_eq(fo->currency, "EUR");
  cr_assert_eq(fo->n_isps, 1);
  cr_assert_eq(fo->isps[0].start, 69);
  cr_assert_eq(fo->isps[0].duration, 2, "ISPs as offered");
  cr_assert_eq(fo->activation_factor, 38);
  cr_assert_eq(fo->isps[0].power, -152000, "power scaled by the factor");
  cr_assert_eq(fo->price, 379962, "99.99 x 0.38 = 37.9962");
  cr_assert_str_not_empty(fo->order_reference);
}

Test(market, offers_that_cannot_help_are_not_ordered) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  /* Consumption up at the Requested ISP would worsen the congestion. */
  EXPECT(offer(AGR1, "",
               "<OfferOption OptionReference=\"A\" Price=\"-5\"><ISP Power=\"200000\" Start=\"69\"/></OfferOption>"),
         "");
  cr_assert_eq(clear_now(CP1, H.now_us), 0);
}

Test(market, cheapest_sufficient_offer_wins_and_a_rejected_order_is_cleared_again) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  EXPECT(solicited(AGR2, "300", "-200000"), "");
  EXPECT(solicited(AGR1, "100", "-200000"), "");
  cr_assert_eq(clear_now(CP1, H.now_us), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1, "the cheaper offer");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0);
  struct fx_uuid order_id = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL)->hdr.message_id;
  EXPECT(order_response(AGR2, &order_id, false), "Unknown FlexOrderMessageID reference", "not AGR2's order");
  EXPECT(order_response(AGR1, &order_id, false), "");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 1, "the need freed by the rejection went to the other offer");
  struct fx_uuid second = outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL)->hdr.message_id;
  EXPECT(order_response(AGR2, &second, true), "");
  EXPECT(order_response(AGR2, &second, true), "Unknown FlexOrderMessageID reference", "answered once");
}

Test(market, a_new_request_revision_after_clearing_buys_only_the_residual) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  EXPECT(solicited(AGR1, "100", "-200000"), "");
  cr_assert_eq(clear_now(CP1, H.now_us), 1);
  /* Unsolicited offers wait in the market for later revisions. */
  EXPECT(offer(AGR2, "",
               "<OfferOption OptionReference=\"A\" Price=\"10\" MinActivationFactor=\"0.01\">"
               "<ISP Power=\"-500000\" Start=\"69\"/></OfferOption>"),
         "");
  /* Revision 2 wants 350..500 kW down: 200 kW are ordered, 150 kW remain. */
  EXPECT(flex_request(CP1, 2,
                      "<ISP Disposition=\"Requested\" MinPower=\"-500000\" MaxPower=\"-350000\" Start=\"69\"/>"),
         "");
  const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL);
  cr_assert_not_null(m, "cleared at once for the residual");
  cr_assert_eq(m->u.flex_order.isps[0].power, -150000, "only the residual 150 kW (30 %% of 500 kW)");
  cr_assert_eq(m->u.flex_order.activation_factor, 30);
}

Test(market, clearing_runs_at_gate_closure_and_skips_expired_offers) {
  start_market();
  populate();
  cr_assert_eq(fx_market_next_deadline(H.mk), INT64_MAX, "no open market");
  EXPECT(flex_request(CP1, 1, NULL), "");
  /* Wait until the deadline is published after the commit. */
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T15:00:00+01:00"));
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-01T16:00:00+01:00\" Currency=\"EUR\">"
                              "<OfferOption OptionReference=\"A\" Price=\"1\"><ISP Power=\"-200000\" Start=\"69\"/>"
                              "</OfferOption></FlexOffer>"),
         "");
  EXPECT(submit("FlexOffer", AGR2, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-01T14:00:00+01:00\" Currency=\"EUR\">"
                              "<OfferOption OptionReference=\"A\" Price=\"0.5\"><ISP Power=\"-200000\" Start=\"69\"/>"
                              "</OfferOption></FlexOffer>"),
         "");
  struct fx_seq_command c = {.run = fx_market_run_due, .done = cmd_done, .now_us = at("2025-03-01T14:59:00+01:00")};
  cmd_err = -99;
  fx_sequencer_command(H.seq, &c);
  for (int i = 0; i < 5000 && cmd_err == -99; i++)
    uv_run(&H.loop, UV_RUN_NOWAIT), uv_sleep(1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1) + count_out(FX_MSG_FLEX_ORDER, AGR2), 0, "not yet due");
  c.now_us = at("2025-03-01T15:00:00+01:00");
  cmd_err = -99;
  fx_sequencer_command(H.seq, &c);
  for (int i = 0; i < 5000 && cmd_err == -99; i++)
    uv_run(&H.loop, UV_RUN_NOWAIT), uv_sleep(1);
  cr_assert_eq(cmd_err, 0);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0, "AGR2's cheaper offer had expired");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1);
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T16:00:00+01:00"),
               "cleared: next is the order's reply deadline (order_response_timeout)");
}

Test(market, state_survives_a_restart) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  struct fx_mh_held *a = solicited(AGR1, "100", "-200000");
  struct fx_uuid ordered = a->in.msg->hdr.message_id;
  EXPECT(a, "");
  struct fx_mh_held *b = offer(AGR2, "", OPTION_A);
  struct fx_uuid revoked = b->in.msg->hdr.message_id;
  EXPECT(b, "");
  EXPECT(revoke(AGR2, &revoked), "");
  cr_assert_eq(clear_now(CP1, H.now_us), 1);
  struct fx_uuid order_id = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL)->hdr.message_id;
  stop_market();
  start_market();
  EXPECT(revoke(AGR1, &ordered), "Flexibility procured");
  EXPECT(revoke(AGR2, &revoked), "Reference message revoked");
  EXPECT(flex_request(CP1, 1, NULL), "Subordinate sequence number");
  H.timestamp = "2025-03-01T09:00:00+01:00";
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\"><Connection EntityAddress=\"ean.871685900001000001\" "
                "StartPeriod=\"2025-03-01\"/></AGRPortfolioUpdate>"),
         "Subordinate sequence number");
  H.timestamp = NOW;
  EXPECT(order_response(AGR1, &order_id, true), "");
  /* The common reference came back too: a new revision reaches both AGRs at CP1. */
  EXPECT(flex_request(CP1, 2, NULL), "");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR1), 2);
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR2), 2);
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR3), 0);
}

/* ==== query API ============================================================================== */

Test(market, query_shows_need_offers_orders_and_residual) {
  start_market();
  populate();
  EXPECT(flex_request(CP1, 1, NULL), "");
  EXPECT(solicited(AGR1, "10", "-100000"), "");
  EXPECT(offer(AGR2, "",
               "<OfferOption OptionReference=\"A\" Price=\"100\"><ISP Power=\"-50000\" Start=\"69\"/></OfferOption>"),
         "");
  cr_assert_eq(clear_now(CP1, H.now_us), 2, "together they cover the 150 kW");
  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  cr_assert_not_null(q);
  json_t *doc = NULL;
  cr_assert_eq(fx_query_market(q, CP1, period_days(), &doc), 0);
  cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "request"), "state")), "cleared");
  json_t *offers = json_object_get(doc, "offers"), *orders = json_object_get(doc, "orders");
  cr_assert_eq(json_array_size(offers), 2);
  cr_assert_eq(json_array_size(orders), 2);
  for (size_t i = 0; i < 2; i++) {
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(offers, i), "state")), "ordered");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(orders, i), "state")), "placed");
  }
  json_t *c = json_object_get(doc, "clearing");
  cr_assert_eq(json_integer_value(json_object_get(c, "need_w")), 150000);
  cr_assert_eq(json_integer_value(json_object_get(c, "residual_w")), 0);
  json_decref(doc);
  cr_assert_eq(fx_query_markets(q, &doc), 0);
  cr_assert_eq(json_array_size(doc), 1);
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_array_get(doc, 0), "offers"), "ordered")), 2);
  json_decref(doc);
  cr_assert_eq(fx_query_market(q, CP2, period_days(), &doc), FX_STORE_ENOTFOUND);
  fx_query_free(q);
}

/* ==== a whole market day ================================================================== */

static json_t *find_by(json_t *arr, const char *key, const char *value) {
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) if (!strcmp(json_string_value(json_object_get(e, key)), value)) return e;
  return NULL;
}

static void run_due_at(int64_t t) {
  struct fx_seq_command c = {.run = fx_market_run_due, .done = cmd_done, .now_us = t};
  cmd_err = -99;
  fx_sequencer_command(H.seq, &c);
  for (int i = 0; i < 5000 && cmd_err == -99; i++)
    uv_run(&H.loop, UV_RUN_NOWAIT), uv_sleep(1);
  cr_assert_eq(cmd_err, 0);
}

/* A request for today's Period (so after the day-ahead gate): 150..300 kW less
 * at ISP 69 (17:00-17:15 local), expiring at 20:00. */
static struct fx_mh_held *intraday_request(void) {
  H.timestamp = "2025-03-02T08:00:00+01:00";
  H.now_us = at(H.timestamp);
  return submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                "\" Revision=\"1\" ExpirationDateTime=\"2025-03-02T20:00:00+01:00\">"
                "<ISP Disposition=\"Available\" MinPower=\"-100000\" MaxPower=\"100000\" Start=\"60\"/>"
                "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/>"
                "</FlexRequest>");
}

Test(market, an_intraday_request_clears_at_the_intraday_gate) {
  start_market();
  populate();
  EXPECT(intraday_request(), "");
  int64_t gate = at("2025-03-02T16:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), gate, "60 minutes before ISP 69, not the passed day-ahead gate");
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-02T19:00:00+01:00\" Currency=\"EUR\">"
                              "<OfferOption OptionReference=\"A\" Price=\"1\"><ISP Power=\"-200000\" Start=\"69\"/>"
                              "</OfferOption></FlexOffer>"),
         "");
  run_due_at(gate - 60000000);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 0, "not due at 15:59");
  run_due_at(gate);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1, "cleared at 16:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), gate + 3600 * 1000000LL, "the order's reply deadline");
}

Test(market, the_intraday_gate_is_configured_in_minutes) {
  H.cfg.gate_closure_intraday = 30;
  start_market();
  populate();
  EXPECT(intraday_request(), "");
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-02T16:30:00+01:00"));
}

Test(market, a_request_before_the_day_ahead_gate_keeps_it) {
  start_market();
  populate();
  H.timestamp = "2025-03-01T14:59:00+01:00";
  H.now_us = at(H.timestamp);
  EXPECT(flex_request(CP1, 1, "<ISP Disposition=\"Requested\" MinPower=\"-300000\" MaxPower=\"-150000\" "
                              "Start=\"69\"/>"),
         "");
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T15:00:00+01:00"));
}

Test(market, a_market_day) {
  start_market();
  populate();
  /* Prognoses before the requests. */
  EXPECT(prognosis(AGR1, CP1, 1, 96, 1000), "");
  EXPECT(prognosis(AGR2, CP1, 1, 96, 1000), "");
  EXPECT(prognosis(AGR3, CP2, 1, 96, 1000), "");
  /* CP1 wants 150..300 kW less at ISP 69; CP2 100..200 kW more at ISP 40. */
  EXPECT(flex_request(CP1, 1, NULL), "");
  EXPECT(flex_request(CP2, 1, "<ISP Disposition=\"Requested\" MinPower=\"100000\" MaxPower=\"200000\" Start=\"40\"/>"),
         "");
  cr_assert_eq(count_out(FX_MSG_FLEX_REQUEST, AGR3), 1, "AGR3 only hears of CP2");
  char fr1[37], fr2[37];
  platform_request_id(AGR1, fr1);
  platform_request_id(AGR2, fr2);
  EXPECT(submit("FlexRequestResponse", AGR1, FX_ROLE_AGR, " Result=\"Accepted\" FlexRequestMessageID=\"%s\"/>", fr1), "");
  EXPECT(submit("FlexRequestResponse", AGR2, FX_ROLE_AGR,
                " Result=\"Rejected\" RejectionReason=\"No flexibility\" FlexRequestMessageID=\"%s\"/>", fr2),
         "");
  /* Offers at CP1: a solicited one, one that expires before gate closure, a
   * revoked one and a small unsolicited one. */
  char attrs[256];
  snprintf(attrs, sizeof attrs, " FlexRequestMessageID=\"%s\" ExpirationDateTime=\"2025-03-01T16:00:00+01:00\"", fr1);
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR(CP1) " Currency=\"EUR\"%s><OfferOption OptionReference=\"A\" Price=\"100\">"
                              "<ISP Power=\"-200000\" Start=\"69\"/></OfferOption></FlexOffer>", attrs),
         "");
  EXPECT(solicited(AGR2, "40", "-100000"), "", "expires at 14:45, before gate closure");
  struct fx_mh_held *r = submit("FlexOffer", AGR2, FX_ROLE_AGR,
                          FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-01T16:00:00+01:00\" Currency=\"EUR\">"
                                        "<OfferOption OptionReference=\"A\" Price=\"10\"><ISP Power=\"-150000\" "
                                        "Start=\"69\"/></OfferOption></FlexOffer>");
  struct fx_uuid revoked = r->in.msg->hdr.message_id;
  EXPECT(r, "");
  EXPECT(revoke(AGR2, &revoked), "");
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                FLEX_HDR(CP1) " ExpirationDateTime=\"2025-03-01T16:00:00+01:00\" Currency=\"EUR\">"
                              "<OfferOption OptionReference=\"small\" Price=\"30\"><ISP Power=\"-80000\" "
                              "Start=\"69\"/></OfferOption></FlexOffer>"),
         "");
  /* CP2: one offer from AGR3. */
  EXPECT(submit("FlexOffer", AGR3, FX_ROLE_AGR,
                FLEX_HDR(CP2) " ExpirationDateTime=\"2025-03-01T16:00:00+01:00\" Currency=\"EUR\">"
                              "<OfferOption OptionReference=\"up\" Price=\"20\"><ISP Power=\"150000\" "
                              "Start=\"40\"/></OfferOption></FlexOffer>"),
         "");
  /* Gate closure. */
  int64_t gate = at("2025-03-01T15:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), gate);
  H.now_us = gate;
  run_due_at(gate);
  cr_assert_eq(fx_market_next_deadline(H.mk), gate + 3600 * 1000000LL, "cleared; the orders' reply deadline");
  /* CP1: 200 kW for 100 covers the 150 kW (with the expired 100 kW for 40 and
   * the revoked 150 kW for 10 gone, nothing cheaper covers it all). */
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR3), 1);
  const struct fx_msg *o1 = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_eq(o1->u.flex_order.price, 100 * FX_MONEY_SCALE);
  struct fx_uuid id1 = o1->hdr.message_id;
  struct fx_uuid id3 = outbox(FX_MSG_FLEX_ORDER, AGR3, 0, NULL)->hdr.message_id;
  EXPECT(order_response(AGR1, &id1, true), "");
  EXPECT(order_response(AGR3, &id3, true), "");

  struct fx_query *q = fx_query_new(&H.cfg, H.st);
  json_t *doc;
  cr_assert_eq(fx_query_market(q, CP1, period_days(), &doc), 0);
  json_t *offers = json_object_get(doc, "offers");
  cr_assert_eq(json_array_size(offers), 4);
  int states[5] = {0};
  size_t i;
  json_t *e;
  json_array_foreach(offers, i, e) {
    const char *s = json_string_value(json_object_get(e, "state"));
    states[!strcmp(s, "open") ? 1 : !strcmp(s, "ordered") ? 2 : !strcmp(s, "revoked") ? 3 : !strcmp(s, "expired") ? 4 : 0]++;
  }
  cr_assert_eq(states[1], 1, "the small offer stays open");
  cr_assert_eq(states[2], 1);
  cr_assert_eq(states[3], 1);
  cr_assert_eq(states[4], 1);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(doc, "orders"), 0), "state")),
                   "accepted");
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "clearing"), "residual_w")), 0);
  json_t *bc = json_object_get(doc, "broadcasts");
  cr_assert_eq(json_array_size(bc), 2);
  cr_assert_str_eq(json_string_value(json_object_get(find_by(bc, "agr", AGR1), "response")), "Accepted");
  cr_assert_str_eq(json_string_value(json_object_get(find_by(bc, "agr", AGR2), "response")), "Rejected");
  json_decref(doc);
  cr_assert_eq(fx_query_markets(q, &doc), 0);
  cr_assert_eq(json_array_size(doc), 2, "two markets");
  json_decref(doc);
  fx_query_free(q);
}

/* ==== a failed commit ====================================================================== */

Test(market, a_group_that_fails_to_commit_leaves_no_trace_in_the_market) {
  /* A store that cannot grow past 1 MiB, and a portfolio update too big for it. */
  fx_store_close(H.st);
  struct fx_store_opts o = {.path = H.dir, .map_size = 1 << 20, .map_max = 1 << 20, .log = fx_mh_quiet};
  cr_assert_eq(fx_store_open(&H.st, &o), 0);
  start_market();
  populate();
  char *big = fx_mh_too_big_update();
  H.timestamp = "2025-03-01T10:00:00+01:00";
  cr_assert_neq(submit_failing("DSOPortfolioUpdate", DSO, FX_ROLE_DSO, big), 0, "the group did not fit");
  free(big);
  /* The CP of the failed update is unknown; what was committed before stands. */
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                FLEX_HDR("ean.871685900077777777") " Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                "<ISP Disposition=\"Requested\" MinPower=\"-300\" MaxPower=\"-150\" Start=\"69\"/></FlexRequest>"),
         "Invalid CongestionPoint");
  EXPECT(flex_request(CP1, 1, NULL), "");
}
