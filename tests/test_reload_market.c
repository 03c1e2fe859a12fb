/* test_reload_market.c — a reload reaching the market the way `flexd serve`
 * hands it over (engine/server.c, swap_market): a sequencer command that
 * takes the reloadable values of a freshly read configuration into the one
 * the market reads (fx_config_take_reloadable), in order with messages. A
 * real sequencer on a real LMDB store, the market's hooks and its clearing
 * thread, held before its solve so that the reload provably crosses a
 * clearing under way (the order of events is asserted, never durations).
 *
 * The market: CP1 needs 150 kW less at ISP 69 (far bound 300 kW). Offer A
 * (AGR1) covers it all for 100 EUR; offer E (AGR2) covers 140 kW for 1 EUR;
 * together they pass the far bound. With the product's coverage tolerance
 * (0.1 %) only A will do; with 10 % E does, for less (the same pair as
 * test_cli_clear.c's the_configured_market_budget_is_used). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/sequencer.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

#define PERIOD2 "2025-03-03"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "reloadmk"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(reload_market, .init = setup, .fini = teardown, .timeout = 120);

static void populate(void) { fx_mh_populate_two_agrs(&H); }

/* The request and offers A and E for (CP1, period). */
static void market(const char *period) {
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"%s\" CongestionPoint=\"" CP1
                "\" Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\"><ISP Disposition=\"Requested\" "
                "MinPower=\"-300000\" MaxPower=\"-150000\" Start=\"69\"/></FlexRequest>",
                period),
         "");
  static const struct { const char *agr, *ref; long power, eur; } offers[] = {{AGR1, "A", -200000, 100},
                                                                           {AGR2, "E", -140000, 1}};
  for (size_t i = 0; i < 2; i++)
    EXPECT(submit("FlexOffer", offers[i].agr, FX_ROLE_AGR,
                  " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"%s\" CongestionPoint=\"" CP1
                  "\" ExpirationDateTime=\"2025-03-01T15:30:00+01:00\" Currency=\"EUR\" Unsolicited=\"true\">"
                  "<OfferOption OptionReference=\"%s\" Price=\"%ld.00\"><ISP Power=\"%ld\" Start=\"69\"/>"
                  "</OfferOption></FlexOffer>",
                  period, offers[i].ref, offers[i].eur, offers[i].power),
           "");
}

/* ---- an operator clearing, not waited for (as test_market_clearing_async.c) ---- */

static void op_submit(struct fx_mh_op *o, const char *period) { fx_mh_op_submit(&H, o, CP1, period); }

static void op_wait(struct fx_mh_op *o) {
  fx_mh_op_wait(&H, o);
  cr_assert_eq(o->err, 0);
}

static void wait_pending(void) {
  for (int i = 0; i < 5000 && fx_market_clearing_pending(H.mk) == 0; i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(fx_market_clearing_pending(H.mk), 1, "the market is on the clearing thread");
}

/* ---- the reload --------------------------------------------------------------------- */

/* What engine/server.c's swap_market does, on the sequencer thread. */
static void take(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  (void)market, (void)ctx;
  fx_config_take_reloadable(&H.cfg, cmd->arg);
  fx_market_config_changed(H.mk);
}

/* The configuration file read again, with `text` as its [market] section. */
static void reload_market(const char *text) {
  struct fx_config next;
  char err[300], file[512];
  fx_config_defaults(&next);
  snprintf(file, sizeof file, "[market]\n%s\n", text);
  cr_assert_eq(fx_config_parse(&next, file, err, sizeof err), 0, "%s", err);
  /* The participants as running (the harness's are not in the file). */
  struct fx_config running;
  cr_assert_eq(fx_config_copy(&running, &H.cfg), 0);
  free(next.participants);
  next.participants = running.participants, next.n_participants = running.n_participants;
  running.participants = NULL, running.n_participants = 0;
  fx_config_free(&running);
  run_command(take, &next);
  fx_config_free(&next);
}

static const char *ordered_option(const char *agr) {
  const struct fx_msg *o = outbox(FX_MSG_FLEX_ORDER, agr, 0, NULL);
  return o ? o->u.flex_order.option_reference : "";
}

/* ==== tests ================================================================================ */

Test(reload_market, a_clearing_under_way_keeps_its_budget_and_the_next_one_takes_the_new) {
  start_market();
  cr_assert_eq(fx_market_clearing_start(H.mk, H.seq), 0);
  populate();
  market(PERIOD);
  market(PERIOD2);
  fx_market_clearing_hold(H.mk, true);
  struct fx_mh_op first;
  op_submit(&first, PERIOD);
  wait_pending(); /* its snapshot, budget included, is taken */
  reload_market("coverage_tolerance = 0.1");
  cr_assert_eq(first.dones, 0, "the reload committed while the clearing was under way");
  cr_assert(H.cfg.clear.coverage_tolerance > 0.09, "the market's configuration has the new value");
  fx_market_clearing_hold(H.mk, false);
  op_wait(&first);
  cr_assert_eq(first.t.n_orders, 1);
  cr_assert_str_eq(ordered_option(AGR1), "A", "the clearing under way used the budget it started with");
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR2), 0);

  struct fx_mh_op second;
  op_submit(&second, PERIOD2);
  op_wait(&second);
  cr_assert_eq(second.t.n_orders, 1);
  cr_assert_eq(count_out(FX_MSG_FLEX_ORDER, AGR1), 1, "A is not ordered again");
  cr_assert_str_eq(ordered_option(AGR2), "E", "the next clearing gives up 10 %% of coverage for cost");
  fx_market_clearing_stop(H.mk);
  stop_market();
}

/* A reloaded rule applies to the next message in sequence: offers with
 * several options are refused once mutex_offers is switched off. */
Test(reload_market, a_reloaded_rule_applies_to_the_next_message) {
  start_market();
  populate();
  static const char two_options[] =
      " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
      "\" ExpirationDateTime=\"2025-03-01T15:30:00+01:00\" Currency=\"EUR\" Unsolicited=\"true\">"
      "<OfferOption OptionReference=\"X\" Price=\"1.00\"><ISP Power=\"-1000\" Start=\"69\"/></OfferOption>"
      "<OfferOption OptionReference=\"Y\" Price=\"2.00\"><ISP Power=\"-2000\" Start=\"69\"/></OfferOption>"
      "</FlexOffer>";
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR, "%s", two_options), "");
  reload_market("mutex_offers = false");
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR, "%s", two_options), "No MutEx offer support");
  stop_market();
}

/* The deadlines the market keeps are recomputed from reloaded values: a
 * shorter reply timeout brings a placed order's deadline forward at once,
 * with no message about that market in between. */
Test(reload_market, a_reloaded_reply_timeout_moves_a_placed_orders_deadline) {
  H.cfg.order_response_timeout_s = 3600;
  start_market();
  populate();
  market(PERIOD);
  struct fx_mh_op o;
  op_submit(&o, PERIOD);
  op_wait(&o);
  cr_assert_eq(o.t.n_orders, 1);
  int64_t placed_deadline = fx_market_next_deadline(H.mk);
  cr_assert(placed_deadline > H.now_us && placed_deadline <= H.now_us + 3600 * 1000000LL,
            "the order's reply deadline, an hour after it was placed");
  reload_market("order_response_timeout = 60");
  cr_assert_eq(fx_market_next_deadline(H.mk), placed_deadline - 3540 * 1000000LL,
               "60 s after it was placed instead of 3600 s");
  stop_market();
}
