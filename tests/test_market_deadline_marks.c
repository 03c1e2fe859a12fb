/* test_market_deadline_marks.c — the platform's next deadline with several
 * markets (docs/market.md, "The deadline").
 *
 * The deadline the loop's timer waits for is the earliest over all hot
 * markets of a due clearing time and a placed order's reply deadline. The
 * market keeps it per market and looks again, after a commit, only at the
 * markets the group marked; these tests change a market other than the one
 * with the earliest deadline and check the timer follows, which fails if a
 * path forgot its mark. The last test walks many paths (new revisions,
 * clearings inline and on the thread, orders placed, answered, rejected and
 * expired, a failed clearing's back-off, a restart, the hot window moving on,
 * a late response to a cold market) and after every group compares the
 * deadline with its definition, every market and order scanned
 * (mk_deadline_scan). Time is the harness's; nothing sleeps but the bounded
 * waits for the clearing thread. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/market_int.h"
#include "engine/sequencer.h"
#include "store/store.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "deadlinemarks"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(deadline_marks, .init = setup, .fini = teardown, .timeout = 120);

#define SEC_US 1000000LL
#define HOUR_US (3600 * SEC_US)
#define CONN(n) "<Connection EntityAddress=\"ean.87168590000100000" #n "\" StartPeriod=\"2025-03-01\"/>"
#define CP_XML(cp, a, b)                                                                                            \
  "<CongestionPoint EntityAddress=\"" cp "\" StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" "            \
  "DayAheadRedispatchBy=\"DSO\">" CONN(a) CONN(b) "</CongestionPoint>"

/* CP1 with connections 1 (AGR1) and 2 (AGR2), CP2 with 3 (AGR1) and 4 (AGR2). */
static void populate(void) {
  EXPECT(submit("DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                " TimeZone=\"Europe/Amsterdam\">" CP_XML(CP1, 1, 2) CP_XML(CP2, 3, 4) "</DSOPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\">" CONN(1) CONN(3) "</AGRPortfolioUpdate>"),
         "");
  EXPECT(submit("AGRPortfolioUpdate", AGR2, FX_ROLE_AGR,
                " TimeZone=\"Europe/Amsterdam\">" CONN(2) CONN(4) "</AGRPortfolioUpdate>"),
         "");
}

/* Revision `rev` of cp's request for PERIOD, 150..300 kW less at ISP 69,
 * expiring at `expires` (its clearing time when before the 15:00 gate). */
static void request(const char *cp, int rev, const char *expires) {
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"%s\" "
                "Revision=\"%d\" ExpirationDateTime=\"%s\"><ISP Disposition=\"Requested\" MinPower=\"-300000\" "
                "MaxPower=\"-150000\" Start=\"69\"/></FlexRequest>",
                cp, rev, expires),
         "");
}

/* An unsolicited offer at cp of 200 kW less at ISP 69 for `price` EUR. */
static void offer(const char *cp, const char *agr, const char *price) {
  EXPECT(submit("FlexOffer", agr, FX_ROLE_AGR,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"%s\" "
                "ExpirationDateTime=\"2025-03-01T23:00:00+01:00\" Currency=\"EUR\" Unsolicited=\"true\">"
                "<OfferOption OptionReference=\"A\" Price=\"%s\"><ISP Power=\"-200000\" Start=\"69\"/></OfferOption>"
                "</FlexOffer>",
                cp, price),
         "");
}

/* The n-th order to agr (0-based), as a MessageID string. */
static void order_id(const char *agr, int n, char out[FX_UUID_STRLEN]) {
  const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, agr, n, NULL);
  cr_assert_not_null(m, "order %d to %s", n, agr);
  fx_uuid_format(&m->hdr.message_id, out);
}

static const char *respond(const char *agr, const char *id, const char *result) {
  return outcome(submit("FlexOrderResponse", agr, FX_ROLE_AGR, " Result=\"%s\"%s FlexOrderMessageID=\"%s\"/>", result,
                        strcmp(result, "Rejected") ? "" : " RejectionReason=\"Price mismatch\"", id));
}

/* The timer's command, as engine/server.c submits it, acting at t. */
static void run_due_at(int64_t t) {
  int64_t saved = H.now_us;
  H.now_us = t;
  run_command(fx_market_run_due, NULL);
  H.now_us = saved;
}

static int orders_to(const char *agr) { return count_out(FX_MSG_FLEX_ORDER, agr); }

/* Every clearing solved and none pending, then their results committed. */
static void settle(unsigned solved) {
  fx_mh_wait_clearings(&H, solved, 0);
  fx_mh_barrier(&H);
}

/* ==== one market changes, another has the earliest deadline ============================== */

Test(deadline_marks, an_order_placed_in_a_market_other_than_the_earliest_expires_on_time) {
  start_market();
  populate();
  int64_t noon = at("2025-03-01T12:00:00+01:00");
  request(CP1, 1, "2025-03-01T12:00:00+01:00");
  request(CP2, 1, "2025-03-01T15:00:00+01:00");
  offer(CP2, AGR1, "10");
  offer(CP2, AGR2, "20");
  cr_assert_eq(fx_market_next_deadline(H.mk), noon, "CP1's clearing time is the earliest");

  int64_t placed = H.now_us;
  cr_assert_eq(clear_market(CP2), 1);
  cr_assert_eq(fx_market_next_deadline(H.mk), placed + HOUR_US, "CP2's order's reply deadline comes first now");
  run_due_at(placed + HOUR_US);
  cr_assert_eq(orders_to(AGR2), 1, "it expired on time and its need went to AGR2");
  cr_assert_eq(fx_market_next_deadline(H.mk), placed + 2 * HOUR_US, "the new order's deadline");

  char id[FX_UUID_STRLEN];
  order_id(AGR2, 0, id);
  H.now_us = placed + HOUR_US + 60 * SEC_US;
  cr_assert_str_eq(respond(AGR2, id, "Accepted"), "");
  cr_assert_eq(fx_market_next_deadline(H.mk), noon, "answered: CP1's clearing time again");
  run_due_at(noon);
  cr_assert_eq(fx_market_next_deadline(H.mk), INT64_MAX, "both cleared, every order answered or expired");
}

Test(deadline_marks, a_new_revision_in_a_market_other_than_the_earliest_moves_the_deadline) {
  start_market();
  populate();
  request(CP1, 1, "2025-03-01T14:00:00+01:00");
  request(CP2, 1, "2025-03-01T15:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T14:00:00+01:00"));
  request(CP2, 2, "2025-03-01T11:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T11:00:00+01:00"), "CP2's revision 2 expires first");
  request(CP2, 3, "2025-03-01T15:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T14:00:00+01:00"), "and no longer");
}

Test(deadline_marks, a_failed_clearing_in_a_market_other_than_the_earliest_waits_for_its_back_off) {
  start_market();
  populate();
  request(CP1, 1, "2025-03-01T15:00:00+01:00");
  request(CP2, 1, "2025-03-01T11:00:00+01:00");
  offer(CP2, AGR1, "10");
  fx_market_clearing_fail(H.mk, 1); /* CP2's clearing fails, as when the LP library does */
  int64_t eleven = at("2025-03-01T11:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), eleven);
  run_due_at(eleven);
  cr_assert_eq(orders_to(AGR1), 0, "CP2's clearing failed");
  cr_assert_eq(fx_market_next_deadline(H.mk), eleven + 10 * SEC_US,
               "tried again in 10 s: neither at once (a spinning timer) nor at CP1's 15:00");
}

Test(deadline_marks, a_revision_crossing_a_timed_clearing_is_cleared_at_its_own_clearing_time) {
  start_market();
  cr_assert_eq(fx_market_clearing_start(H.mk, H.seq), 0);
  populate();
  request(CP1, 1, "2025-03-01T12:00:00+01:00");
  request(CP2, 1, "2025-03-01T15:00:00+01:00");
  offer(CP1, AGR1, "10");
  int64_t noon = at("2025-03-01T12:00:00+01:00");
  fx_market_clearing_hold(H.mk, true);
  run_due_at(noon);
  cr_assert_eq(fx_market_clearing_pending(H.mk), 1);
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T15:00:00+01:00"),
               "CP1 is not due while it is being cleared (a timer firing again and again), CP2 is next");
  /* Revision 2 of CP1, due at 14:00, crosses the clearing of revision 1: that
   * result is stale and revision 2 is not due yet, so nothing is cleared
   * now; CP1 is due again at 14:00. */
  H.now_us = noon + 60 * SEC_US;
  request(CP1, 2, "2025-03-01T14:00:00+01:00");
  fx_market_clearing_hold(H.mk, false);
  settle(1);
  cr_assert_eq(orders_to(AGR1), 0, "the stale result placed nothing");
  cr_assert_eq(fx_market_next_deadline(H.mk), at("2025-03-01T14:00:00+01:00"), "revision 2's clearing time");
}

/* ==== every path, against the definition ==================================================== */

static void check(const char *step) {
  cr_assert_eq(fx_market_next_deadline(H.mk), mk_deadline_scan(H.mk), "after %s", step);
}

Test(deadline_marks, the_deadline_equals_a_full_scan_after_every_group) {
  H.cfg.order_response_timeout_s = 600;
  start_market();
  check("start");
  populate();
  request(CP1, 1, "2025-03-01T12:00:00+01:00");
  check("CP1's request");
  request(CP2, 1, "2025-03-01T15:00:00+01:00");
  check("CP2's request");
  offer(CP1, AGR1, "10");
  offer(CP1, AGR2, "20");
  offer(CP2, AGR1, "11");
  offer(CP2, AGR2, "21");
  offer(CP2, AGR2, "31");
  check("offers");

  /* Inline: o1 (AGR1 at CP2) placed, rejected; o2 (AGR2) expires; o3 accepted. */
  cr_assert_eq(clear_market(CP2), 1);
  check("CP2 cleared inline");
  char o1[FX_UUID_STRLEN], o3[FX_UUID_STRLEN], o4[FX_UUID_STRLEN];
  order_id(AGR1, 0, o1);
  H.now_us = at("2025-03-01T09:16:00+01:00");
  cr_assert_str_eq(respond(AGR1, o1, "Rejected"), "");
  check("a rejection cleared again inline");
  run_due_at(at("2025-03-01T09:26:00+01:00"));
  check("an order expired and its need cleared again");
  cr_assert_eq(orders_to(AGR2), 2);
  order_id(AGR2, 1, o3);
  H.now_us = at("2025-03-01T09:30:00+01:00");
  cr_assert_str_eq(respond(AGR2, o3, "Accepted"), "");
  check("an order accepted");
  H.now_us = at("2025-03-01T09:31:00+01:00");
  request(CP2, 2, "2025-03-01T15:00:00+01:00");
  check("a revision of a cleared request");
  run_due_at(at("2025-03-01T12:00:00+01:00"));
  check("CP1 cleared at its clearing time");
  cr_assert_eq(orders_to(AGR1), 2);
  order_id(AGR1, 1, o4);

  /* The clearing thread: a clearing held under way, a rejection crossing
   * it, two failed solves (the crossed one and its follow-up), the back-off
   * and the retry. */
  stop_market();
  start_market();
  check("a restart");
  cr_assert_eq(fx_market_clearing_start(H.mk, H.seq), 0);
  fx_market_clearing_hold(H.mk, true);
  H.now_us = at("2025-03-01T12:01:00+01:00");
  request(CP1, 2, "2025-03-01T16:00:00+01:00");
  for (int i = 0; i < 5000 && fx_market_clearing_pending(H.mk) == 0; i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  check("a clearing queued on the thread");
  cr_assert_str_eq(respond(AGR1, o4, "Rejected"), "");
  check("a rejection crossing it");
  fx_market_clearing_fail(H.mk, 2);
  fx_market_clearing_hold(H.mk, false);
  settle(2);
  check("the failed solves");
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us, "backing off");
  run_due_at(fx_market_next_deadline(H.mk));
  settle(3);
  check("the retry");
  cr_assert_eq(orders_to(AGR2), 3, "the retry bought the rejected order's need");

  /* The hot window moves on (PERIOD's markets leave memory); a late
   * response reads a cold market for one group. */
  H.now_us = at("2025-03-06T10:00:00+01:00");
  EXPECT(submit("DSOPortfolioQuery", DSO, FX_ROLE_DSO, " TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-06\" EntityAddress=\"" CP1 "\"/>"), "");
  check("the hot window moved on");
  struct fx_market_memory mem;
  fx_market_memory(H.mk, &mem);
  cr_assert_gt(mem.live_from, day_of(PERIOD), "PERIOD is cold");
  char o5[FX_UUID_STRLEN];
  order_id(AGR2, 2, o5);
  cr_assert_str_eq(respond(AGR2, o5, "Accepted"), "Reference message expired");
  check("a late response to a cold market");
  stop_market();
}
