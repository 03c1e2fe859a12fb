/* test_market_clearing_corners.c — the clearing's less travelled paths, on a
 * real sequencer and LMDB store with the market's hooks (docs/market.md,
 * "When a clearing fails" and "Clearing off the sequencer thread").
 *
 * - A clearing that fails is neither placed nor counted as cleared: the
 *   market is due again after a back-off (10 s, doubling), an event clears it
 *   sooner, a restart at once; the failure is logged once per run of
 *   failures and each one is counted. The failure is the test gate
 *   fx_market_clearing_fail, on the sequencer thread or on the clearing
 *   thread, as when GLPK fails (an offer beyond the solver's limits, the
 *   other cause, is refused at intake: test_market.c).
 * - A FlexOrderResponse rejection that crosses a clearing of its market makes
 *   that result stale: it places nothing, and the next clearing buys the need
 *   the rejected order covered, on the base without it.
 * Time is the harness's; a clearing is kept under way by the runner's hold
 * gate, never by sleeping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/metrics.h"
#include "engine/sequencer.h"
#include "store/store.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "clearcorners"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(clearing_corners, .init = setup, .fini = teardown, .timeout = 120);

#define SEC_US 1000000LL
#define HOUR_US (3600 * SEC_US)
#define FLEX_HDR " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1 "\""

/* CP1 with connections 1 (AGR1) and 2 (AGR2). */
static void populate(void) { fx_mh_populate_two_agrs(&H); }

/* Revision `rev` asks for `min_kw`..`max_kw` kW less at ISP 69; its clearing
 * time is 15:00 the day before. */
static void request(int rev, int min_kw, int max_kw) {
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                FLEX_HDR " Revision=\"%d\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">"
                         "<ISP Disposition=\"Requested\" MinPower=\"%d000\" MaxPower=\"%d000\" Start=\"69\"/>"
                         "</FlexRequest>",
                rev, -min_kw, -max_kw),
         "");
}

/* An unsolicited offer of `kw` kW less at ISP 69 for `price` (EUR), valid
 * all day; its MessageID into id. */
static void offer(const char *agr, int kw, const char *price, char id[FX_UUID_STRLEN]) {
  struct fx_mh_held *m = submit("FlexOffer", agr, FX_ROLE_AGR,
                                FLEX_HDR " ExpirationDateTime=\"2025-03-01T23:00:00+01:00\" Currency=\"EUR\" "
                                         "Unsolicited=\"true\"><OfferOption OptionReference=\"A\" Price=\"%s\">"
                                         "<ISP Power=\"-%d000\" Start=\"69\"/></OfferOption></FlexOffer>",
                                price, kw);
  fx_uuid_format(&m->in.msg->hdr.message_id, id);
  EXPECT(m, "");
}

static const char *respond(const char *agr, const char *order_id, bool accept) {
  return outcome(submit("FlexOrderResponse", agr, FX_ROLE_AGR, " Result=\"%s\"%s FlexOrderMessageID=\"%s\"/>",
                        accept ? "Accepted" : "Rejected", accept ? "" : " RejectionReason=\"Price mismatch\"",
                        order_id));
}

static void order_id(const char *agr, int n, char out[FX_UUID_STRLEN]) {
  const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, agr, n, NULL);
  cr_assert_not_null(m);
  fx_uuid_format(&m->hdr.message_id, out);
}

/* The timer's command, as engine/server.c submits it, acting at t. */
static void run_due_at(int64_t t) {
  int64_t saved = H.now_us;
  H.now_us = t;
  run_command(fx_market_run_due, NULL);
  H.now_us = saved;
}

static int orders_to(const char *agr) { return count_out(FX_MSG_FLEX_ORDER, agr); }

/* Whether `agr` has an order on offer `offer_id`; its first ISP's power into
 * *power. (Outbox views live until the next outbox() call.) */
static bool ordered_on(const char *agr, const char *offer_id, int64_t *power) {
  for (int n = 0, k = orders_to(agr); n < k; n++) {
    const struct fx_msg *m = outbox(FX_MSG_FLEX_ORDER, agr, n, NULL);
    char of[FX_UUID_STRLEN];
    fx_uuid_format(&m->u.flex_order.flex_offer_message_id, of);
    if (!strcmp(of, offer_id)) {
      *power = m->u.flex_order.isps[0].power;
      return true;
    }
  }
  return false;
}


/* ---- what is logged and counted ---- */

/* stderr (where the market logs) goes to a file between capture_begin and
 * capture_end, which returns its text (malloc'd). */
struct capture {
  char path[40];
  int fd, saved;
};

static void capture_begin(struct capture *c) {
  snprintf(c->path, sizeof c->path, "/tmp/flexd-corners-log-XXXXXX");
  c->fd = mkstemp(c->path);
  c->saved = dup(2);
  cr_assert(c->fd >= 0 && c->saved >= 0);
  cr_assert_eq(dup2(c->fd, 2), 2);
}

static char *capture_end(struct capture *c) {
  dup2(c->saved, 2);
  close(c->saved);
  off_t n = lseek(c->fd, 0, SEEK_END);
  char *text = calloc(1, (size_t)n + 1);
  cr_assert_not_null(text);
  cr_assert_eq(pread(c->fd, text, (size_t)n, 0), n);
  close(c->fd);
  unlink(c->path);
  return text;
}

static int occurrences(const char *text, const char *what) {
  int n = 0;
  for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
    n++;
  return n;
}

/* The value of flexd_clearing_failures_total as rendered. */
static long failures(struct fx_metrics *met) {
  char *text;
  size_t len;
  cr_assert_eq(fx_metrics_render(met, &text, &len), 0);
  const char *p = strstr(text, "\nflexd_clearing_failures_total ");
  long v = p ? strtol(p + strlen("\nflexd_clearing_failures_total "), NULL, 10) : -1;
  free(text);
  return v;
}

static struct fx_metrics *failure_metric(void) {
  struct fx_metrics *met;
  cr_assert_eq(fx_metrics_new(&met), 0);
  struct fx_counter *c = fx_metrics_counter(met, "flexd_clearing_failures_total", "Clearings that failed", NULL);
  cr_assert_not_null(c);
  fx_market_count_clearing_failed(H.mk, c);
  return met;
}

/* ==== a clearing that fails, on the sequencer thread ====================================== */

Test(clearing_corners, a_failed_clearing_is_tried_again_with_back_off_until_it_succeeds) {
  start_market();
  struct fx_metrics *met = failure_metric();
  populate();
  request(1, 300, 150);
  char cheap[FX_UUID_STRLEN];
  offer(AGR1, 200, "10", cheap);
  fx_market_clearing_fail(H.mk, 2);
  struct capture cap;
  capture_begin(&cap);

  int64_t gate = at("2025-03-01T15:00:00+01:00");
  cr_assert_eq(fx_market_next_deadline(H.mk), gate);
  run_due_at(gate);
  cr_assert_eq(orders_to(AGR1) + orders_to(AGR2), 0, "a failed clearing places nothing");
  cr_assert_eq(failures(met), 1);
  cr_assert_eq(fx_market_next_deadline(H.mk), gate + 10 * SEC_US, "due again after 10 s, not at once, not never");

  run_due_at(gate + 10 * SEC_US - 1);
  cr_assert_eq(failures(met), 1, "not tried before its back-off");
  run_due_at(gate + 10 * SEC_US);
  cr_assert_eq(failures(met), 2, "tried again, failed again");
  int64_t retry = gate + 30 * SEC_US;
  cr_assert_eq(fx_market_next_deadline(H.mk), retry, "the back-off doubled: 20 s");

  run_due_at(retry);
  char *log = capture_end(&cap);
  cr_assert_eq(orders_to(AGR1), 1, "the retry cleared the market");
  cr_assert_eq(failures(met), 2);
  cr_assert_eq(fx_market_next_deadline(H.mk), retry + HOUR_US, "it rests; its order's reply deadline is next");
  cr_assert_eq(occurrences(log, "\"event\":\"clearing_failed\""), 1, "logged once for the run of failures:\n%s", log);
  cr_assert_eq(occurrences(log, "\"event\":\"clearing_recovered\""), 1, "and once when it cleared:\n%s", log);
  free(log);
  stop_market();
  fx_metrics_free(met);
}

Test(clearing_corners, an_inline_re_clearing_that_fails_is_still_due_after_a_restart) {
  start_market();
  populate();
  request(1, 300, 150);
  char a[FX_UUID_STRLEN], b[FX_UUID_STRLEN], ord[FX_UUID_STRLEN];
  offer(AGR1, 200, "10", a);
  offer(AGR2, 200, "20", b);
  cr_assert_eq(clear_market(CP1), 1);
  order_id(AGR1, 0, ord);
  fx_market_clearing_fail(H.mk, 1);
  cr_assert_str_eq(respond(AGR1, ord, false), "", "the rejection commits; its re-clearing fails");
  cr_assert_eq(orders_to(AGR2), 0);
  stop_market();
  start_market();
  cr_assert_leq(fx_market_next_deadline(H.mk), H.now_us, "the request was cleared once, yet it is due again");
  run_command(fx_market_run_due, NULL);
  cr_assert_eq(orders_to(AGR2), 1, "the rejected order's need is bought");
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us);
}

/* ==== the clearing thread ================================================================== */

static void start_async(void) {
  start_market();
  cr_assert_eq(fx_market_clearing_start(H.mk, H.seq), 0);
}

/* An operator clearing, waited for (fx_mh_op_wait) and committed. */
static void operator_clear(void) {
  struct fx_mh_op o;
  fx_mh_op_submit(&H, &o, CP1, PERIOD);
  fx_mh_op_wait(&H, &o);
  cr_assert_eq(o.err, 0);
}

/* Runs the loop until `solved` clearings were solved and none is pending,
 * then until their results are committed (a message through the sequencer
 * behind them). */
static void settle(unsigned solved) {
  fx_mh_wait_clearings(&H, solved, 0);
  fx_mh_barrier(&H);
}

/* Waits until the clearing thread has a clearing queued (bounded). */
static void wait_pending(void) {
  for (int i = 0; i < 5000 && fx_market_clearing_pending(H.mk) == 0; i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(fx_market_clearing_pending(H.mk), 1);
}

Test(clearing_corners, a_re_clearing_whose_solve_fails_stays_due_and_survives_a_restart) {
  start_async();
  struct fx_metrics *met = failure_metric();
  populate();
  request(1, 300, 150);
  char a[FX_UUID_STRLEN], b[FX_UUID_STRLEN], ord[FX_UUID_STRLEN];
  offer(AGR1, 200, "10", a);
  offer(AGR2, 200, "20", b);
  operator_clear();
  settle(1);
  cr_assert_eq(orders_to(AGR1), 1);
  order_id(AGR1, 0, ord);

  /* AGR1 rejects: the re-clearing (asked > answered in the store) fails on
   * the thread, twice. */
  struct capture cap;
  capture_begin(&cap);
  fx_market_clearing_fail(H.mk, 2);
  int64_t t0 = H.now_us;
  cr_assert_str_eq(respond(AGR1, ord, false), "");
  settle(2);
  cr_assert_eq(orders_to(AGR2), 0, "nothing placed by the failed clearing");
  cr_assert_eq(failures(met), 1);
  int64_t due = fx_market_next_deadline(H.mk);
  cr_assert_geq(due, t0 + 10 * SEC_US, "not due at once: a failing solver is not hammered");
  cr_assert_lt(due, at("2025-03-01T15:00:00+01:00"), "yet still due (before: cleared, never tried again)");

  run_due_at(t0 + 5 * SEC_US);
  cr_assert_eq(fx_market_clearing_solved(H.mk), 2, "not tried during its back-off");
  run_due_at(due);
  settle(3);
  cr_assert_eq(failures(met), 2, "tried again at its deadline, failed again");
  cr_assert_geq(fx_market_next_deadline(H.mk), due + 20 * SEC_US, "the back-off doubled");
  char *log = capture_end(&cap);
  cr_assert_eq(occurrences(log, "\"event\":\"clearing_failed\""), 1, "logged once:\n%s", log);
  free(log);
  fx_market_clearing_stop(H.mk);
  stop_market();
  fx_metrics_free(met);

  /* The asks were never answered: after a restart the market is due at once
   * and the freed need is bought. */
  start_async();
  cr_assert_leq(fx_market_next_deadline(H.mk), H.now_us, "the failed re-clearing survived the restart");
  run_command(fx_market_run_due, NULL);
  settle(1);
  cr_assert_eq(orders_to(AGR2), 1, "AGR2's offer covers the rejected order's need");
  cr_assert_eq(outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL)->u.flex_order.isps[0].power, -200000);
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us, "and the market rests");
  stop_market();
}

/* ==== a rejection that crosses a clearing ================================================== */

Test(clearing_corners, a_rejection_crossing_a_clearing_makes_it_stale_and_the_next_one_buys_the_freed_need) {
  start_async();
  populate();
  /* 400 kW (far bound 500): A + B is the cheapest full cover. */
  request(1, 500, 400);
  char a[FX_UUID_STRLEN], b[FX_UUID_STRLEN], c[FX_UUID_STRLEN], d[FX_UUID_STRLEN], ord[FX_UUID_STRLEN];
  offer(AGR1, 200, "10", a);
  offer(AGR2, 200, "20", b);
  offer(AGR2, 200, "30", c);
  offer(AGR2, 400, "35", d);
  operator_clear();
  settle(1);
  cr_assert_eq(orders_to(AGR1), 1);
  cr_assert_eq(orders_to(AGR2), 1);
  order_id(AGR1, 0, ord);

  /* Revision 2 needs 600 kW (far bound 700): the cleared market is cleared
   * again at once, on the base A + B: C (D would pass the far bound). The
   * clearing thread holds it while AGR1 rejects A. */
  fx_market_clearing_hold(H.mk, true);
  request(2, 700, 600);
  wait_pending();
  cr_assert_str_eq(respond(AGR1, ord, false), "");
  cr_assert_eq(fx_market_clearing_solved(H.mk), 1, "the rejection crossed the clearing");
  fx_market_clearing_hold(H.mk, false);
  settle(3);

  /* Its result (C) was stale: the base lost A. The next clearing, on the
   * base B, needs 400 kW more with at most 500: D, not C. */
  cr_assert_eq(orders_to(AGR1), 1, "A is not ordered again");
  cr_assert_eq(orders_to(AGR2), 2, "B, and one order for the freed need");
  /* The outbox lists rows by due time, and a result's orders are due at the
   * clearing time plus that solve's own duration: which of the two clearings'
   * orders comes first depends on how long each solve took. So the orders
   * are looked up by their offer, not by position. */
  int64_t pb, pc, pd;
  cr_assert(ordered_on(AGR2, b, &pb), "B is still ordered");
  cr_assert(ordered_on(AGR2, d, &pd), "D covers what is still needed");
  cr_assert_not(ordered_on(AGR2, c, &pc), "C from the stale result was not placed");
  cr_assert_eq(pd, -400000);
  EXPECT(submit("FlexOfferRevocation", AGR2, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", c), "",
         "C was never ordered: its AGR may still revoke it");
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us, "the market rests");
  stop_market();
}
