/* test_market_http.c — the market over the real endpoint: a real `flexd serve`
 * on loopback, participants with their own Ed25519 keys sending signed
 * messages over HTTP, the platform's signed answers received on their own
 * endpoint. One test per market rejection reason of issue 5, and a whole
 * market day (clearing at the request's expiry, orders answered, one of them
 * rejected and cleared again, the query API showing the result).
 *
 * Each test runs its own flexd (started by the fixture's .init and stopped by
 * .fini, so a failing assertion still stops it). The common reference every
 * test starts from: DSO dso.example.com publishes CP1 (connections of AGR and
 * AGR2) and CP2 (a connection of AGR3). Markets are for the day after
 * tomorrow, whose day-ahead gate closure is always ahead of the test. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/peer.h"

#define CP1 "ean.871685900012345678"
#define CP2 "ean.871685900012345679"
#define C1 "ean.871685900001000001"
#define C2 "ean.871685900001000002"
#define C3 "ean.871685900001000003"
#define WAIT_MS 20000

static struct fx_sim *peer;
static fx_arena *arena;
static char today[FX_DATE_STRLEN], day[FX_DATE_STRLEN], day2[FX_DATE_STRLEN];

/* ---- fixtures ------------------------------------------------------------------ */

static void start(const char *extra_market) {
  struct fx_sim_opts o = {.extra_market = extra_market};
  arena = fx_arena_new(0);
  fx_sim_date(today, 0);
  fx_sim_date(day, 2);
  fx_sim_date(day2, 3);
  peer = fx_peer_start(&o);
}
static void setup(void) { start(NULL); }
static void setup_no_mutex(void) { start("mutex_offers = false"); }
static void setup_baseline(void) { start("require_baseline = true"); }
static void setup_open(void) { start("closed = false"); }
static void teardown(void) {
  fx_sim_free(peer);
  fx_arena_free(arena);
  peer = NULL, arena = NULL;
}

TestSuite(market_http, .init = setup, .fini = teardown, .timeout = 120);
/* Tests with another [market] configuration bring their own .init (criterion
 * runs a suite's .init as well as a test's, so they live in a suite without). */
TestSuite(market_config, .fini = teardown, .timeout = 120);

/* ---- exchanges ------------------------------------------------------------------- */

static enum fx_msg_type response_type(enum fx_msg_type t) {
  switch (t) {
  case FX_MSG_DSO_PORTFOLIO_UPDATE: return FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE;
  case FX_MSG_AGR_PORTFOLIO_UPDATE: return FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE;
  case FX_MSG_D_PROGNOSIS: return FX_MSG_D_PROGNOSIS_RESPONSE;
  case FX_MSG_FLEX_REQUEST: return FX_MSG_FLEX_REQUEST_RESPONSE;
  case FX_MSG_FLEX_OFFER: return FX_MSG_FLEX_OFFER_RESPONSE;
  case FX_MSG_FLEX_OFFER_REVOCATION: return FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE;
  default: return FX_MSG_NONE;
  }
}

/* Sends m (HTTP 200 expected) and returns the platform's signed answer. */
static const struct fx_msg *exchange(struct fx_msg *m) {
  char id[FX_UUID_STRLEN];
  fx_sim_msg_id(m, id);
  cr_assert_eq(fx_sim_send_msg(peer, m), 200, "%s %s was not taken", fx_msg_type_name(m->type), id);
  const struct fx_msg *r = fx_sim_await(peer, response_type(m->type), id, WAIT_MS, arena);
  cr_assert_not_null(r, "no answer to %s %s", fx_msg_type_name(m->type), id);
  return r;
}

static void accepted(struct fx_msg *m) {
  const struct fx_msg *r = exchange(m);
  cr_assert_eq(r->result, FX_RESULT_ACCEPTED, "%s rejected: %s", fx_msg_type_name(m->type),
               r->rejection_reason ? r->rejection_reason : "");
}

static void rejected(struct fx_msg *m, const char *phrase) {
  const struct fx_msg *r = exchange(m);
  cr_assert_eq(r->result, FX_RESULT_REJECTED, "%s was accepted; expected %s", fx_msg_type_name(m->type), phrase);
  cr_assert_str_eq(r->rejection_reason, phrase);
}

/* ---- the common reference and market messages ----------------------------------------- */

static void populate(void) {
  static const char *const cp1[] = {C1, C2}, *const cp2[] = {C3};
  const struct fx_sim_cp cps[] = {{CP1, cp1, 2, true}, {CP2, cp2, 1, true}};
  static const struct { const char *agr, *conn; } agrs[] = {{SIM_AGR, C1}, {SIM_AGR2, C2}, {SIM_AGR3, C3}};
  struct fx_msg m;
  fx_sim_dso_portfolio(&m, arena, SIM_DSO, today, cps, 2);
  accepted(&m);
  for (size_t i = 0; i < 3; i++) {
    fx_sim_agr_portfolio(&m, arena, agrs[i].agr, today, &agrs[i].conn, 1);
    accepted(&m);
  }
}

static const struct fx_flex_request_isp need_69[] = {{FX_DISPOSITION_REQUESTED, -300000, -150000, 69, 4}};

/* A FlexRequest of the DSO for (cp, date) at `revision`, expiring in `exp_s`. */
static struct fx_msg request(const char *cp, const char *date, int64_t revision, long exp_s,
                             const struct fx_flex_request_isp *isps, size_t n) {
  struct fx_msg m;
  fx_sim_flex_request(&m, arena, SIM_DSO, cp, date, revision, exp_s, isps ? isps : need_69, isps ? n : 1);
  return m;
}

/* The platform's nth copy of a FlexRequest sent to agr. */
static void copy_id(const char *agr, unsigned nth, char out[FX_UUID_STRLEN]) {
  const struct fx_msg *c = fx_sim_await_sent(peer, FX_MSG_FLEX_REQUEST, agr, nth, WAIT_MS, arena);
  cr_assert_not_null(c, "FlexRequest copy #%u to %s", nth, agr);
  fx_sim_msg_id(c, out);
}

/* An offer of one option (price in EUR, min factor in hundredths) on ISPs
 * 69..69+n-1 at `power` each; solicited when fr_id is given. */
static struct fx_msg offer_on(const char *agr, const char *cp, const char *date, const char *fr_id, int64_t power,
                              long price, int min_af, long exp_s) {
  struct fx_isp isps[] = {{power, 69, 4}};
  struct fx_offer_option o = {"A", price * FX_MONEY_SCALE, (fx_factor)min_af, isps, 1};
  struct fx_msg m;
  fx_sim_flex_offer(&m, arena, agr, cp, date, exp_s, fr_id, &o, 1);
  return m;
}

static struct fx_msg offer(const char *agr, const char *fr_id, int64_t power, long price) {
  return offer_on(agr, CP1, day, fr_id, power, price, 100, 3600);
}

/* A full-day D-Prognosis of `power` W per ISP. */
static struct fx_msg prognosis(const char *agr, const char *cp, int64_t revision, int64_t power, int n) {
  int64_t p[100];
  int all = fx_sim_isp_count(day);
  cr_assert_gt(all, 0);
  for (int i = 0; i < all; i++)
    p[i] = power;
  struct fx_msg m;
  fx_sim_prognosis(&m, arena, agr, cp, day, revision, p, (size_t)(n ? n : all));
  return m;
}

/* The DSO's request for CP1 and the copy AGR got. */
static void requested(char fr[FX_UUID_STRLEN]) {
  struct fx_msg m = request(CP1, day, 1, 3600, NULL, 0);
  accepted(&m);
  copy_id(SIM_AGR, 0, fr);
}

/* ==== the common reference ============================================================== */

Test(market_http, flex_request_or_offer_where_the_sender_may_not_trade_is_an_invalid_congestion_point) {
  populate();
  struct fx_msg m = request("ean.871685900099999999", day, 1, 3600, NULL, 0);
  rejected(&m, "Invalid CongestionPoint"); /* unknown CP */
  m = offer_on(SIM_AGR3, CP1, day, NULL, -1000, 1, 100, 3600);
  rejected(&m, "Invalid CongestionPoint"); /* AGR3 has no connection at CP1 */
  m = offer_on(SIM_AGR3, CP2, day, NULL, -1000, 1, 100, 3600);
  accepted(&m); /* where it has one */
}

static void register_late(void) {
  cr_assert_eq(fx_sim_register_late(peer), 0);
  cr_assert_eq(kill(fx_sim_pid(peer), SIGHUP), 0);
  int status = 0;
  for (int i = 0; i < 500 && status != 200; i++) { /* until the transport knows the key */
    usleep(10000);
    char id[FX_UUID_STRLEN], ts[FX_DATETIME_STRLEN], xml[512];
    fx_sim_uuid(id);
    fx_sim_time(ts, 0);
    snprintf(xml, sizeof xml,
             "<TestMessage Version=\"3.1.0\" SenderDomain=\"" SIM_LATE "\" RecipientDomain=\"" SIM_PLATFORM
             "\" TimeStamp=\"%s\" MessageID=\"%s\" ConversationID=\"%s\"/>",
             ts, id, id);
    status = fx_sim_send(peer, SIM_LATE, FX_ROLE_AGR, xml);
  }
  cr_assert_eq(status, 200, "the new participant's key is known after SIGHUP");
}

/* Closed mode admits the configured participants, and SIGHUP's reload reaches
 * the market too: a participant added then may publish its portfolio. (With
 * keys from the configuration, a sender the market would call Unauthorized is
 * refused with 401 before; "Unauthorized" itself is tested in test_market.) */
Test(market_http, closed_mode_admits_a_participant_added_by_sighup) {
  register_late();
  static const char *const conn[] = {"ean.871685900001000009"};
  struct fx_msg m;
  fx_sim_agr_portfolio(&m, arena, SIM_LATE, today, conn, 1);
  accepted(&m);
}

Test(market_config, open_mode_accepts_the_same_update, .init = setup_open) {
  register_late();
  static const char *const conn[] = {"ean.871685900001000009"};
  struct fx_msg m;
  fx_sim_agr_portfolio(&m, arena, SIM_LATE, today, conn, 1);
  accepted(&m);
}

/* ==== FlexRequest ============================================================================= */

Test(market_http, flex_request_without_a_requested_isp_lacks_requested_disposition) {
  populate();
  static const struct fx_flex_request_isp isps[] = {{FX_DISPOSITION_AVAILABLE, -100000, 100000, 69, 4}};
  struct fx_msg m = request(CP1, day, 1, 3600, isps, 1);
  rejected(&m, "Lacking Requested Disposition");
}

Test(market_http, requested_isp_allowing_both_directions_is_a_requested_power_discrepancy) {
  populate();
  static const struct fx_flex_request_isp isps[] = {{FX_DISPOSITION_REQUESTED, -100000, 100000, 69, 4}};
  struct fx_msg m = request(CP1, day, 1, 3600, isps, 1);
  rejected(&m, "Requested Power discrepancy");
}

Test(market_http, min_power_above_max_power_is_a_power_discrepancy) {
  populate();
  static const struct fx_flex_request_isp isps[] = {{FX_DISPOSITION_REQUESTED, -100000, -200000, 69, 4}};
  struct fx_msg m = request(CP1, day, 1, 3600, isps, 1);
  rejected(&m, "Power discrepancy");
}

Test(market_http, flex_request_revisions_must_increase) {
  populate();
  struct fx_msg m = request(CP1, day, 2, 3600, NULL, 0);
  accepted(&m);
  m = request(CP1, day, 2, 3600, NULL, 0);
  rejected(&m, "Subordinate sequence number");
  m = request(CP1, day, 1, 3600, NULL, 0);
  rejected(&m, "Subordinate sequence number");
  m = request(CP1, day, 3, 3600, NULL, 0);
  accepted(&m);
}

/* ==== D-Prognosis ================================================================================ */

Test(market_http, prognosis_missing_isps_lacks_isps) {
  populate();
  struct fx_msg m = prognosis(SIM_AGR, CP1, 1, 1000, 90);
  rejected(&m, "Lacking ISPs");
  m = prognosis(SIM_AGR, CP1, 1, 1000, 0);
  accepted(&m);
}

Test(market_http, prognosis_revisions_must_increase) {
  populate();
  struct fx_msg m = prognosis(SIM_AGR, CP1, 2, 1000, 0);
  accepted(&m);
  m = prognosis(SIM_AGR, CP1, 2, 1000, 0);
  rejected(&m, "Subordinate sequence number");
  m = prognosis(SIM_AGR2, CP1, 1, 1000, 0);
  accepted(&m); /* revisions are per AGR */
}

Test(market_http, implausible_power_is_a_power_value_rejection) {
  populate();
  struct fx_msg m = prognosis(SIM_AGR, CP1, 1, 2000000000, 0); /* 2 GW, bound 1 GW */
  rejected(&m, "Power value rejection");
}

/* ==== FlexOffer ====================================================================================== */

Test(market_http, solicited_offer_must_reference_a_platform_copy_sent_to_its_sender) {
  populate();
  struct fx_msg r = request(CP1, day, 1, 3600, NULL, 0);
  char dso_id[FX_UUID_STRLEN], random_id[FX_UUID_STRLEN], agr2_copy[FX_UUID_STRLEN];
  fx_sim_msg_id(&r, dso_id);
  accepted(&r);
  copy_id(SIM_AGR2, 0, agr2_copy);
  fx_sim_uuid(random_id);
  struct fx_msg m = offer(SIM_AGR, random_id, -150000, 10);
  rejected(&m, "Unknown FlexRequestMessageID reference");
  m = offer(SIM_AGR, dso_id, -150000, 10);
  rejected(&m, "Unknown FlexRequestMessageID reference"); /* the DSO's own MessageID does not count */
  m = offer(SIM_AGR, agr2_copy, -150000, 10);
  rejected(&m, "Unknown FlexRequestMessageID reference"); /* another AGR's copy */
}

Test(market_http, offer_for_another_period_than_its_request_is_a_reference_period_mismatch) {
  populate();
  char fr[FX_UUID_STRLEN];
  requested(fr);
  struct fx_msg m = offer_on(SIM_AGR, CP1, day2, fr, -150000, 10, 100, 3600);
  rejected(&m, "Reference Period mismatch");
}

static void wait_until_past(const struct fx_msg *m) {
  int64_t exp = m->u.flex_request.expiration_date_time.usec;
  for (int i = 0; i < 1000; i++) { /* at most 10 s */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 > exp + 100000)
      return;
    usleep(10000);
  }
  cr_assert_fail("the request did not expire");
}

Test(market_http, offer_on_an_expired_request_is_refused) {
  populate();
  struct fx_msg r = request(CP1, day, 1, 2, NULL, 0);
  accepted(&r);
  char fr[FX_UUID_STRLEN];
  copy_id(SIM_AGR, 0, fr);
  wait_until_past(&r);
  struct fx_msg m = offer(SIM_AGR, fr, -150000, 10);
  rejected(&m, "Reference message expired");
}

Test(market_http, offer_on_a_superseded_revision_is_refused_as_revoked) {
  populate();
  char fr1[FX_UUID_STRLEN], fr2[FX_UUID_STRLEN];
  requested(fr1);
  struct fx_msg r = request(CP1, day, 2, 3600, NULL, 0);
  accepted(&r);
  copy_id(SIM_AGR, 1, fr2);
  struct fx_msg m = offer(SIM_AGR, fr1, -150000, 10);
  rejected(&m, "Reference message revoked");
  m = offer(SIM_AGR, fr2, -150000, 10);
  accepted(&m);
}

Test(market_http, offer_missing_every_requested_isp_is_a_request_mismatch) {
  populate();
  char fr[FX_UUID_STRLEN];
  requested(fr);
  struct fx_isp isps[] = {{-150000, 20, 4}};
  struct fx_offer_option o = {"A", 10 * FX_MONEY_SCALE, 100, isps, 1};
  struct fx_msg m;
  fx_sim_flex_offer(&m, arena, SIM_AGR, CP1, day, 3600, fr, &o, 1);
  rejected(&m, "Request mismatch");
}

static struct fx_msg two_options(void) {
  struct fx_isp a[] = {{-150000, 69, 4}}, b[] = {{-100000, 70, 2}};
  struct fx_offer_option o[] = {{"A", 10 * FX_MONEY_SCALE, 100, a, 1}, {"B", 5 * FX_MONEY_SCALE, 100, b, 1}};
  struct fx_msg m;
  fx_sim_flex_offer(&m, arena, SIM_AGR, CP1, day, 3600, NULL, o, 2);
  return m;
}

Test(market_config, several_options_when_the_market_has_no_mutex_offers_are_refused, .init = setup_no_mutex) {
  populate();
  struct fx_msg m = two_options();
  rejected(&m, "No MutEx offer support");
  m = offer(SIM_AGR, NULL, -150000, 10);
  accepted(&m); /* one option is fine */
}

Test(market_http, several_options_are_accepted_by_default) {
  populate();
  struct fx_msg m = two_options();
  accepted(&m);
}

Test(market_config, offer_without_prognosis_when_baselines_are_required_has_no_baseline, .init = setup_baseline) {
  populate();
  struct fx_msg m = offer(SIM_AGR, NULL, -150000, 10);
  rejected(&m, "No baseline");
  struct fx_msg p = prognosis(SIM_AGR, CP1, 1, 400000, 0);
  accepted(&p);
  m = offer(SIM_AGR, NULL, -150000, 10);
  m.u.flex_offer.has_d_prognosis_message_id = true;
  m.u.flex_offer.d_prognosis_message_id = p.hdr.message_id;
  accepted(&m);
}

/* ==== FlexOfferRevocation ================================================================================ */

Test(market_http, an_ordered_offer_cannot_be_revoked) {
  populate();
  char fr[FX_UUID_STRLEN], offer_id[FX_UUID_STRLEN];
  requested(fr);
  struct fx_msg m = offer(SIM_AGR, fr, -150000, 10);
  fx_sim_msg_id(&m, offer_id);
  accepted(&m);
  int n = -1;
  cr_assert_eq(fx_sim_clear(peer, CP1, day, &n), 200);
  cr_assert_eq(n, 1);
  const struct fx_msg *o = fx_sim_await_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR, 0, WAIT_MS, arena);
  cr_assert_not_null(o, "the order reached the AGR");
  struct fx_msg rv;
  fx_sim_revocation(&rv, arena, SIM_AGR, offer_id);
  rejected(&rv, "Flexibility procured");
}

/* ==== a whole market day ===================================================================================== */

static json_t *find(json_t *arr, const char *key, const char *value) {
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *v = json_string_value(json_object_get(e, key));
    if (v && !strcmp(v, value))
      return e;
  }
  return NULL;
}

static const char *state_of(json_t *arr, const char *id) {
  json_t *e = find(arr, "message_id", id);
  cr_assert_not_null(e, "%s is in the query", id);
  return json_string_value(json_object_get(e, "state"));
}

/* CP1 needs 150..300 kW less at ISPs 69-72; CP2 100 kW more. Offers at CP1:
 * AGR2 cheap but expiring before clearing; AGR2 cheap, revoked; AGR 200 kW
 * for 100 (solicited); AGR2 150 kW for 120 (unsolicited). The request expires
 * in a few seconds, and the platform clears at that time by itself. AGR
 * rejects its order; the need is cleared again and AGR2's offer is ordered. */
Test(market_http, a_market_day) {
  populate();
  struct fx_msg m = prognosis(SIM_AGR, CP1, 1, 400000, 0);
  accepted(&m);
  m = prognosis(SIM_AGR2, CP1, 1, 300000, 0);
  accepted(&m);
  m = prognosis(SIM_AGR3, CP2, 1, 200000, 0);
  accepted(&m);
  struct fx_msg r1 = request(CP1, day, 1, 12, NULL, 0);
  accepted(&r1);
  static const struct fx_flex_request_isp up[] = {{FX_DISPOSITION_REQUESTED, 100000, 200000, 69, 4}};
  struct fx_msg r2 = request(CP2, day, 1, 12, up, 1);
  accepted(&r2);
  /* The broadcast: one copy per AGR with a connection at the CP, each answered. */
  char fr_agr[FX_UUID_STRLEN], fr_agr2[FX_UUID_STRLEN], fr_agr3[FX_UUID_STRLEN];
  const struct fx_msg *c = fx_sim_await_sent(peer, FX_MSG_FLEX_REQUEST, SIM_AGR, 0, WAIT_MS, arena);
  cr_assert_not_null(c);
  fx_sim_msg_id(c, fr_agr);
  cr_assert_eq(fx_sim_answer(peer, c, NULL, NULL), 200);
  c = fx_sim_await_sent(peer, FX_MSG_FLEX_REQUEST, SIM_AGR2, 0, WAIT_MS, arena);
  cr_assert_not_null(c);
  fx_sim_msg_id(c, fr_agr2);
  cr_assert_eq(fx_sim_answer(peer, c, "No flexibility available", NULL), 200);
  c = fx_sim_await_sent(peer, FX_MSG_FLEX_REQUEST, SIM_AGR3, 0, WAIT_MS, arena);
  cr_assert_not_null(c);
  fx_sim_msg_id(c, fr_agr3);
  cr_assert_str_eq(c->u.flex_request.flex.congestion_point, CP2);
  cr_assert_eq(fx_sim_answer(peer, c, NULL, NULL), 200);
  cr_assert_eq(fx_sim_count_sent(peer, FX_MSG_FLEX_REQUEST, NULL), 3, "AGR3 hears of CP2 only");

  char expiring[FX_UUID_STRLEN], revoked[FX_UUID_STRLEN], big[FX_UUID_STRLEN], second[FX_UUID_STRLEN],
      up_id[FX_UUID_STRLEN];
  m = offer_on(SIM_AGR2, CP1, day, fr_agr2, -200000, 5, 100, 4);
  fx_sim_msg_id(&m, expiring);
  accepted(&m);
  m = offer(SIM_AGR2, NULL, -200000, 6);
  fx_sim_msg_id(&m, revoked);
  accepted(&m);
  struct fx_msg rv;
  fx_sim_revocation(&rv, arena, SIM_AGR2, revoked);
  accepted(&rv);
  m = offer(SIM_AGR, fr_agr, -200000, 100);
  fx_sim_msg_id(&m, big);
  accepted(&m);
  m = offer(SIM_AGR2, NULL, -150000, 120);
  fx_sim_msg_id(&m, second);
  accepted(&m);
  m = offer_on(SIM_AGR3, CP2, day, fr_agr3, 150000, 20, 50, 3600);
  fx_sim_msg_id(&m, up_id);
  accepted(&m);

  /* Clearing at the requests' expiry: orders arrive without being asked for. */
  const struct fx_msg *o1 = fx_sim_await_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR, 0, WAIT_MS, arena);
  cr_assert_not_null(o1, "CP1 was cleared at its time");
  cr_assert_eq(o1->u.flex_order.price, 100 * FX_MONEY_SCALE);
  char o1_id[FX_UUID_STRLEN];
  fx_sim_msg_id(o1, o1_id);
  const struct fx_msg *o3 = fx_sim_await_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR3, 0, WAIT_MS, arena);
  cr_assert_not_null(o3, "CP2 was cleared at its time");
  cr_assert_eq(o3->u.flex_order.activation_factor, 67, "100 kW of 150 kW: the least factor that covers it");
  cr_assert_eq(fx_sim_answer(peer, o3, NULL, NULL), 200);
  cr_assert_eq(fx_sim_count_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR2), 0, "the expired and revoked offers are not ordered");
  /* AGR rejects its order: the need is cleared again among what is left. */
  cr_assert_eq(fx_sim_answer(peer, o1, "Cannot deliver", NULL), 200);
  const struct fx_msg *o2 = fx_sim_await_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR2, 0, WAIT_MS, arena);
  cr_assert_not_null(o2, "the rejected order's need went to the remaining offer");
  cr_assert_eq(o2->u.flex_order.price, 120 * FX_MONEY_SCALE);
  cr_assert_eq(fx_sim_answer(peer, o2, NULL, NULL), 200);

  /* What the query API shows. */
  json_t *doc = fx_sim_markets(peer, CP1, day);
  cr_assert_not_null(doc);
  json_t *offers = json_object_get(doc, "offers"), *orders = json_object_get(doc, "orders");
  cr_assert_str_eq(state_of(offers, expiring), "expired");
  cr_assert_str_eq(state_of(offers, revoked), "revoked");
  cr_assert_str_eq(state_of(offers, big), "ordered");
  cr_assert_str_eq(state_of(offers, second), "ordered");
  cr_assert_str_eq(state_of(orders, o1_id), "rejected");
  char o2_id[FX_UUID_STRLEN];
  fx_sim_msg_id(o2, o2_id);
  cr_assert_str_eq(state_of(orders, o2_id), "accepted");
  json_t *bc = json_object_get(doc, "broadcasts");
  cr_assert_eq(json_array_size(bc), 2);
  cr_assert_str_eq(json_string_value(json_object_get(find(bc, "agr", SIM_AGR), "response")), "Accepted");
  cr_assert_str_eq(json_string_value(json_object_get(find(bc, "agr", SIM_AGR2), "response")), "Rejected");
  cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "request"), "state")), "cleared");
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "clearing"), "residual_w")), 0,
               "150 kW from AGR2 covers the 150 kW need at each ISP");
  json_decref(doc);
  doc = fx_sim_markets(peer, NULL, NULL);
  cr_assert_not_null(doc);
  cr_assert_eq(json_array_size(doc), 2, "two markets");
  json_decref(doc);
  doc = fx_sim_markets(peer, CP2, day);
  cr_assert_not_null(doc);
  orders = json_object_get(doc, "orders");
  cr_assert_eq(json_array_size(orders), 1);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(orders, 0), "state")), "accepted");
  cr_assert_str_eq(state_of(json_object_get(doc, "offers"), up_id), "ordered");
  json_decref(doc);
}
