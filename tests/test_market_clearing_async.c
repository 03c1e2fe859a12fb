/* test_market_clearing_async.c — clearing off the sequencer thread
 * (fx_market_clearing_start): a real sequencer on a real LMDB store with the
 * market's hooks and the clearing thread, fed messages as a worker would.
 *
 * A clearing is kept under way by holding the clearing thread before its
 * solve (fx_market_clearing_hold / _pass, a gate for tests), so what crosses
 * it does not depend on how long a solve lasts; the tests assert the order
 * of events (a message committed before the operator's clearing answered, a
 * revocation accepted while the clearing was pending), never durations. One
 * test stops the thread during a real solve: it uses a large market (240
 * offers over 30 Requested ISPs) and a budget far above the product's. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/sequencer.h"
#include "store/store.h"

#define FX_MH_SHORT_NAMES
#include "tests/support/market_harness.h"

static struct fx_mh H;

static void setup(void) { fx_mh_setup(&H, "clearasync"); }
static void teardown(void) { fx_mh_teardown(&H); }

TestSuite(clearing_async, .init = setup, .fini = teardown, .timeout = 300);

/* ---- the scene ------------------------------------------------------------------------ */

static void populate(void) { fx_mh_populate_two_agrs(&H); }

/* The generated market: offers as FlexOffer bodies, and per ISP the
 * consumption reduction they could supply together. */
#define N_ISPS 96
#define REQ_FIRST 36 /* Requested ISPs (1-based), inclusive */
#define REQ_LAST 65
struct gen {
  uint64_t s;
  int64_t supply[N_ISPS + 1];
};

static uint64_t next(struct gen *g) { /* splitmix64 */
  uint64_t z = (g->s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static int64_t uni(struct gen *g, int64_t lo, int64_t hi) { return lo + (int64_t)(next(g) % (uint64_t)(hi - lo + 1)); }

/* One FlexOffer body (what follows the header's attributes): 1-3 options
 * over a window of 4-16 ISPs inside or across the Requested ones, partial
 * activation for two thirds of them; `eur_lo`..`eur_hi` per MWh-ish. */
static void gen_offer(struct gen *g, char *out, size_t cap, int eur_lo, int eur_hi) {
  int n_opt = (int)uni(g, 1, 3), len = (int)uni(g, 4, 16), first = (int)uni(g, REQ_FIRST - 3, REQ_LAST - 3);
  size_t k = (size_t)snprintf(out, cap,
                              " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                              "\" CongestionPoint=\"" CP1 "\" ExpirationDateTime=\"2025-03-01T15:30:00+01:00\" "
                              "Currency=\"EUR\" Unsolicited=\"true\">");
  for (int j = 0; j < n_opt; j++) {
    int64_t kw = uni(g, 10, 500), sum = 0, eur = uni(g, eur_lo, eur_hi);
    int partial = (int)uni(g, 0, 99), min_af = uni(g, 0, 2) == 0 ? 100 : 100 - partial;
    char isps[16 * 64];
    size_t q = 0;
    for (int t = first; t < first + len && t <= N_ISPS; t++) {
      int64_t w = 1000 * (kw + uni(g, -kw / 4, kw / 4));
      sum += w;
      if (j == 0)
        g->supply[t] += w;
      q += (size_t)snprintf(isps + q, sizeof isps - q, "<ISP Power=\"%lld\" Start=\"%d\"/>", -(long long)w, t);
    }
    int64_t price = eur * sum / 100; /* 1e-4 EUR */
    k += (size_t)snprintf(out + k, cap - k,
                          "<OfferOption OptionReference=\"O%d\" Price=\"%lld.%04lld\" MinActivationFactor=\"%d.%02d\">%s"
                          "</OfferOption>",
                          j, (long long)(price / 10000), (long long)(price % 10000), min_af / 100, min_af % 100, isps);
  }
  snprintf(out + k, cap - k, "</FlexOffer>");
}

/* The MessageIDs of the market's offers, in submission order. */
static char offer_id[512][FX_UUID_STRLEN];

/* Submits offers in groups of 40 (one commit each). */
static void submit_offers(char (*bodies)[4096], const char *const *agrs, int n) {
  cr_assert_leq(n, 512);
  for (int i = 0; i < n;) {
    struct fx_mh_held *held[40];
    int k = 0;
    for (; k < 40 && i < n; k++, i++) {
      held[k] = fx_mh_message(&H, "FlexOffer", agrs[i], FX_ROLE_AGR, bodies[i], 1 << 20);
      fx_uuid_format(&held[k]->in.msg->hdr.message_id, offer_id[i]);
      fx_sequencer_submit(H.seq, &held[k]->in);
    }
    H.submitted += k;
    fx_mh_wait_committed(&H, H.submitted);
    for (int j = 0; j < k; j++)
      cr_assert_str_eq(outcome(held[j]), "", "offer accepted");
  }
}

/* The request for the generated market: `fifths` / 5 of the supply needed at
 * every Requested ISP (far bound 1.5 times that); submit_request: 40 %. */
static void submit_request_scaled(const struct gen *g, int revision, int first, int last, int fifths) {
  char isps[REQ_LAST * 96];
  size_t q = 0;
  for (int t = first; t <= last; t++) {
    int64_t need = g->supply[t] * fifths / 5 + 1000;
    q += (size_t)snprintf(isps + q, sizeof isps - q,
                          "<ISP Disposition=\"Requested\" MinPower=\"%lld\" MaxPower=\"%lld\" Start=\"%d\"/>",
                          -(long long)(3 * need / 2), -(long long)need, t);
  }
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                "\" Revision=\"%d\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">%s</FlexRequest>",
                revision, isps),
         "");
}

static void submit_request(const struct gen *g, int revision, int first, int last) {
  submit_request_scaled(g, revision, first, last, 2);
}

/* A market of n offers from `agr` (seeded), plus `cheap` offers from AGR1
 * priced far below the rest (so any optimum orders some of them). */
static struct gen market_gen; /* the last market built */

static void build_market(int n, int cheap, uint64_t seed) {
  struct gen g = {.s = seed};
  int total = n + cheap;
  char (*bodies)[4096] = calloc((size_t)total, sizeof *bodies);
  const char **agrs = calloc((size_t)total, sizeof *agrs);
  cr_assert(bodies && agrs);
  for (int i = 0; i < total; i++) {
    bool c = i < cheap;
    gen_offer(&g, bodies[i], sizeof bodies[i], c ? 1 : 40, c ? 2 : 200);
    agrs[i] = c ? AGR1 : AGR2;
  }
  submit_request(&g, 1, REQ_FIRST, REQ_LAST);
  submit_offers(bodies, agrs, total);
  market_gen = g;
  free(bodies);
  free(agrs);
}

/* A budget that keeps the branch-and-bound busy on the large market. */
static void long_budget(void) {
  H.cfg.clear.bb_max_offers = 100000;
  H.cfg.clear.bb_node_limit = 3000;
  H.cfg.clear.bb_pivot_limit = 1000000000;
  H.cfg.clear.bb_gap = 0;
}

static void start_async(void) {
  start_market();
  cr_assert_eq(fx_market_clearing_start(H.mk, H.seq), 0);
}

static void stop_async(void) {
  fx_market_clearing_stop(H.mk);
  stop_market();
}

/* ---- an operator clearing, not waited for ---------------------------------------------- */

static void op_submit(struct fx_mh_op *o) { fx_mh_op_submit(&H, o, CP1, PERIOD); }
static void op_wait(struct fx_mh_op *o) { fx_mh_op_wait(&H, o); }

/* Waits until the clearing thread has the market (bounded). */
static void wait_pending(void) {
  for (int i = 0; i < 5000 && fx_market_clearing_pending(H.mk) == 0; i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(fx_market_clearing_pending(H.mk), 1, "the market is on the clearing thread");
}

static int orders_to(const char *agr) { return count_out(FX_MSG_FLEX_ORDER, agr); }

/* ==== tests ================================================================================ */

Test(clearing_async, messages_are_committed_and_answered_while_a_long_clearing_runs) {
  long_budget();
  start_async();
  populate();
  build_market(240, 0, 7);
  fx_market_clearing_hold(H.mk, true);
  struct fx_mh_op o;
  op_submit(&o);
  wait_pending();
  /* Three messages, each committed (and so answered) on its own while the
   * clearing runs: the operator has no answer yet and no order exists. */
  for (int i = 0; i < 3; i++) {
    EXPECT(submit("DSOPortfolioQuery", DSO, FX_ROLE_DSO,
                  " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" EntityAddress=\"" CP1 "\"/>"),
           "");
    cr_assert_eq(o.dones, 0, "message %d committed before the clearing's result", i);
  }
  cr_assert_eq(count_out(FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE, DSO), 3, "each was answered");
  cr_assert_eq(orders_to(AGR2), 0, "no order before the result");
  fx_market_clearing_hold(H.mk, false);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  cr_assert(o.t.found);
  cr_assert_gt(o.t.n_orders, 0);
  cr_assert_eq(orders_to(AGR2), o.t.n_orders, "the operator is told the orders committed");
  cr_assert_eq(fx_market_clearing_pending(H.mk), 0);
  stop_async();
}

Test(clearing_async, a_revocation_crossing_a_clearing_wins_and_the_market_is_cleared_again) {
  long_budget();
  start_async();
  populate();
  build_market(240, 6, 11); /* offers 1..6 (AGR1) are the cheapest by far */
  fx_market_clearing_hold(H.mk, true);
  struct fx_mh_op o;
  op_submit(&o);
  wait_pending();
  /* AGR1 revokes every offer while the clearing runs: each revocation is
   * accepted (none is "Flexibility procured": no order was committed). */
  for (int i = 0; i < 6; i++) {
    EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", offer_id[i]), "");
    cr_assert_eq(o.dones, 0, "revocation %d crossed the clearing", i);
  }
  fx_market_clearing_hold(H.mk, false);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  cr_assert_eq(fx_market_clearing_solved(H.mk), 2, "the stale result was cleared again");
  cr_assert_eq(orders_to(AGR1), 0, "no revoked offer is ordered");
  cr_assert_gt(orders_to(AGR2), 0, "the market was cleared again without them");
  cr_assert_eq(o.t.n_orders, orders_to(AGR2));
  stop_async();
}

/* Two offers of AGR1 at ISPs 80-81, outside the generated ones. */
static void late_isp_offers(void) {
  for (int i = 0; i < 2; i++)
    EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                  " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                  "\" ExpirationDateTime=\"2025-03-01T15:30:00+01:00\" Currency=\"EUR\" Unsolicited=\"true\">"
                  "<OfferOption OptionReference=\"L\" Price=\"%d.00\"><ISP Power=\"-30000\" Start=\"80\" "
                  "Duration=\"2\"/></OfferOption></FlexOffer>",
                  10 + i),
           "");
}

Test(clearing_async, a_new_request_revision_during_a_clearing_makes_its_result_stale) {
  long_budget();
  start_async();
  populate();
  build_market(240, 0, 13);
  late_isp_offers();
  fx_market_clearing_hold(H.mk, true);
  struct fx_mh_op o;
  op_submit(&o);
  wait_pending();
  /* Revision 2 asks only for ISP 80, where only AGR1's two offers help. */
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                "\" Revision=\"2\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\"><ISP Disposition=\"Requested\" "
                "MinPower=\"-50000\" MaxPower=\"-20000\" Start=\"80\"/></FlexRequest>"),
         "");
  cr_assert_eq(o.dones, 0, "revision 2 committed while revision 1 was being cleared");
  fx_market_clearing_hold(H.mk, false);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  cr_assert_eq(orders_to(AGR2), 0, "nothing of revision 1's result is placed");
  cr_assert_eq(orders_to(AGR1), 1, "revision 2 is cleared: the cheaper of the two ISP-80 offers");
  cr_assert_eq(o.t.n_orders, 1);
  const struct fx_msg *ord = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_str_eq(ord->u.flex_order.option_reference, "L");
  cr_assert_eq(ord->u.flex_order.price, 100000, "10.00 EUR: the cheaper offer in full");
  stop_async();
}

/* Every FlexOrder to agr as one line (offer, option, factor, price, ISPs), sorted. */
static int order_lines(const char *agr, char lines[][512], int cap) {
  int n = count_out(FX_MSG_FLEX_ORDER, agr);
  cr_assert_leq(n, cap);
  for (int i = 0; i < n; i++) {
    const struct fx_flex_order *fr = &outbox(FX_MSG_FLEX_ORDER, agr, i, NULL)->u.flex_order;
    char id[FX_UUID_STRLEN];
    fx_uuid_format(&fr->flex_offer_message_id, id);
    size_t k = (size_t)snprintf(lines[i], 512, "%s %s %d %lld", id, fr->option_reference,
                                (int)fr->activation_factor, (long long)fr->price);
    for (size_t j = 0; j < fr->n_isps && k < 480; j++)
      k += (size_t)snprintf(lines[i] + k, 512 - k, " %lld@%lld", (long long)fr->isps[j].power,
                            (long long)fr->isps[j].start);
  }
  qsort(lines, (size_t)n, 512, (int (*)(const void *, const void *))strcmp);
  return n;
}

Test(clearing_async, the_clearing_thread_places_the_same_orders_as_the_sequencer_thread) {
  /* The product's budget (branch-and-bound up to 150 offers): 120 offers. */
  static char inline_lines[64][512], async_lines[64][512];
  start_market();
  populate();
  build_market(120, 0, 17);
  struct fx_mh_op o;
  op_submit(&o);
  op_wait(&o);
  int n = order_lines(AGR2, inline_lines, 64);
  cr_assert_gt(n, 1);
  cr_assert_eq(o.t.n_orders, n);
  stop_market();
  fx_mh_teardown(&H);

  fx_mh_setup(&H, "clearasync2");
  start_async();
  populate();
  build_market(120, 0, 17);
  op_submit(&o);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  cr_assert_eq(o.t.n_orders, n);
  cr_assert_eq(order_lines(AGR2, async_lines, 64), n);
  for (int i = 0; i < n; i++)
    cr_assert_str_eq(async_lines[i], inline_lines[i], "order %d", i);
  stop_async();
}

Test(clearing_async, stopping_during_a_clearing_commits_nothing_and_the_market_is_still_due_after_a_restart) {
  long_budget();
  start_async();
  populate();
  build_market(240, 0, 19);
  struct fx_mh_op o;
  op_submit(&o);
  wait_pending();
  fx_market_clearing_stop(H.mk); /* as SIGTERM does, before the sequencer stops */
  op_wait(&o);
  cr_assert_eq(o.err, FX_STORE_EIO, "the operator learns the clearing was dropped");
  cr_assert_eq(o.t.n_orders, 0);
  cr_assert_eq(orders_to(AGR2), 0, "no order of the dropped clearing");
  stop_market();

  /* After the restart the market is due at its clearing time (15:00). */
  start_async();
  H.now_us = at("2025-03-01T15:00:00+01:00");
  cr_assert_leq(fx_market_next_deadline(H.mk), H.now_us, "still due");
  run_command(fx_market_run_due, NULL);
  for (int i = 0; i < 600000 && (fx_market_clearing_pending(H.mk) || orders_to(AGR2) == 0); i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_gt(orders_to(AGR2), 0, "cleared after the restart");
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us, "and no longer due (the order's reply deadline is next)");
  stop_async();
}

/* A message through the sequencer: once it is committed, so is every result
 * the clearing thread reported before (groups commit in order). */
static void barrier(void) { fx_mh_barrier(&H); }

/* Waits until `round` clearings were solved and the next is under way. */
static void wait_round(unsigned round) { fx_mh_wait_clearings(&H, round, 1); }

Test(clearing_async, after_three_stale_results_the_still_open_orders_are_placed) {
  long_budget();
  start_async();
  populate();
  build_market(240, 6, 29); /* offers 0..5 (AGR1) are the cheapest by far */
  fx_market_clearing_hold(H.mk, true);
  struct fx_mh_op o;
  op_submit(&o);
  /* A revocation crosses each of the first three rounds: all three stale. */
  for (unsigned round = 0; round < 3; round++) {
    wait_round(round);
    EXPECT(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>", offer_id[round]), "");
    cr_assert_eq(o.dones, 0);
    fx_market_clearing_pass(H.mk);
  }
  /* The third stale result placed its orders that were still open, and the
   * residual is being cleared: revoking the other cheap offers now finds
   * those ordered already. */
  wait_round(3);
  int procured = 0;
  for (int i = 3; i < 6; i++) {
    const char *r = outcome(submit("FlexOfferRevocation", AGR1, FX_ROLE_AGR, " FlexOfferMessageID=\"%s\"/>",
                                   offer_id[i]));
    if (!strcmp(r, "Flexibility procured"))
      procured++;
    else
      cr_assert_str_eq(r, "");
  }
  cr_assert_gt(procured, 0, "orders were committed after the third stale result, revocations going on");
  fx_market_clearing_hold(H.mk, false);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  cr_assert_eq(orders_to(AGR1), procured, "no revoked offer is ordered");
  cr_assert_eq(o.t.n_orders, procured + orders_to(AGR2), "the operator counts every round's orders");
  stop_async();
}

Test(clearing_async, a_rejected_order_during_a_clearing_is_cleared_again_once_the_result_is_in) {
  long_budget();
  start_async();
  populate();
  build_market(240, 0, 31);
  struct fx_mh_op o;
  op_submit(&o);
  op_wait(&o);
  cr_assert_gt(o.t.n_orders, 0);
  int placed = orders_to(AGR2);
  /* Revision 2 asks the same: the cleared market is cleared again at once
   * for what is still needed, off the thread, which is nothing. */
  fx_market_clearing_hold(H.mk, true);
  submit_request_scaled(&market_gen, 2, REQ_FIRST, REQ_LAST, 2);
  wait_round(1);
  /* AGR2 rejects its first order while that clearing waits. */
  char order[FX_UUID_STRLEN];
  fx_uuid_format(&outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL)->hdr.message_id, order);
  EXPECT(submit("FlexOrderResponse", AGR2, FX_ROLE_AGR,
                " Result=\"Rejected\" RejectionReason=\"Price mismatch\" FlexOrderMessageID=\"%s\"/>", order),
         "");
  cr_assert_eq(fx_market_clearing_solved(H.mk), 1, "the rejection came while round 1 was under way");
  fx_market_clearing_hold(H.mk, false);
  /* Round 1's result (stale: its base had the rejected order), then round 2:
   * wait for both, not for the first moment nothing is pending (between the
   * two results the re-clearing may not be queued yet). */
  for (int i = 0; i < 600000 && !(fx_market_clearing_solved(H.mk) >= 3 && fx_market_clearing_pending(H.mk) == 0);
       i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(fx_market_clearing_solved(H.mk), 3, "round 1 (its base had the rejected order) and round 2");
  cr_assert_eq(fx_market_clearing_pending(H.mk), 0, "and then rests");
  barrier();
  cr_assert_gt(orders_to(AGR2), placed, "the need the rejected order had covered was bought again");
  stop_async();
}

/* Runs the loop until no clearing is pending and more than `placed` orders
 * went to AGR2 (bounded: 600 s of 1 ms turns). */
static void wait_bought(int placed) {
  for (int i = 0; i < 600000 && (fx_market_clearing_pending(H.mk) || orders_to(AGR2) <= placed); i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
}

Test(clearing_async, a_rejection_after_the_clearing_stopped_is_cleared_again_after_a_restart) {
  start_async();
  populate();
  build_market(120, 0, 37);
  struct fx_mh_op o;
  op_submit(&o);
  op_wait(&o);
  cr_assert_gt(o.t.n_orders, 0);
  int placed = orders_to(AGR2);
  /* SIGTERM stops the clearing thread first; a FlexOrderResponse still in
   * the sequencer's queue then commits its rejection with no clearing. */
  fx_market_clearing_stop(H.mk);
  char order[FX_UUID_STRLEN];
  fx_uuid_format(&outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL)->hdr.message_id, order);
  EXPECT(submit("FlexOrderResponse", AGR2, FX_ROLE_AGR,
                " Result=\"Rejected\" RejectionReason=\"Price mismatch\" FlexOrderMessageID=\"%s\"/>", order),
         "");
  cr_assert_eq(orders_to(AGR2), placed, "nothing bought before the restart");
  stop_market();

  /* The restart finds the freed need due at once (the clearing time, 15:00,
   * is hours away) and buys it. */
  start_async();
  cr_assert_leq(fx_market_next_deadline(H.mk), H.now_us, "the rejection's re-clearing survived the restart");
  run_command(fx_market_run_due, NULL);
  wait_bought(placed);
  cr_assert_gt(orders_to(AGR2), placed, "the freed need was bought");
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us, "and the market rests");
  stop_async();
}

/* An offer of AGR1 at ISP 80 of `eur` EUR, expiring at `expires`. */
static void isp80_offer(int eur, const char *expires) {
  EXPECT(submit("FlexOffer", AGR1, FX_ROLE_AGR,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                "\" ExpirationDateTime=\"%s\" Currency=\"EUR\" Unsolicited=\"true\">"
                "<OfferOption OptionReference=\"L%d\" Price=\"%d.00\"><ISP Power=\"-30000\" Start=\"80\" "
                "Duration=\"1\"/></OfferOption></FlexOffer>",
                expires, eur, eur),
         "");
}

Test(clearing_async, an_offer_that_expires_while_its_clearing_waits_in_the_queue_is_not_ordered) {
  start_async();
  populate();
  EXPECT(submit("FlexRequest", DSO, FX_ROLE_DSO,
                " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD "\" CongestionPoint=\"" CP1
                "\" Revision=\"1\" ExpirationDateTime=\"2025-03-01T15:00:00+01:00\"><ISP Disposition=\"Requested\" "
                "MinPower=\"-50000\" MaxPower=\"-20000\" Start=\"80\"/></FlexRequest>"),
         "");
  cr_assert_eq(H.now_us, at(NOW));
  isp80_offer(10, "2025-03-01T09:15:01+01:00"); /* the cheaper: gone one second after the clearing time */
  isp80_offer(11, "2025-03-01T15:30:00+01:00");
  /* The clearing (at NOW) waits in the queue for 1.5 s, as behind other
   * markets at the day-ahead gate; its solve alone is quick. */
  fx_market_clearing_hold(H.mk, true);
  struct fx_mh_op o;
  op_submit(&o);
  wait_pending();
  uv_sleep(1500);
  fx_market_clearing_hold(H.mk, false);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  cr_assert_eq(o.t.n_orders, 1);
  const struct fx_msg *ord = outbox(FX_MSG_FLEX_ORDER, AGR1, 0, NULL);
  cr_assert_str_eq(ord->u.flex_order.option_reference, "L11", "the offer that expired meanwhile is not ordered");
  cr_assert_geq(ord->hdr.timestamp.usec, at(NOW) + 1000000, "the order carries the time it was placed");
  stop_async();
}

Test(clearing_async, an_operator_clearing_after_the_thread_stopped_is_answered_unavailable) {
  start_async();
  populate();
  build_market(40, 0, 41);
  fx_market_clearing_stop(H.mk);
  struct fx_mh_op o;
  op_submit(&o);
  op_wait(&o);
  cr_assert_eq(o.err, FX_STORE_EIO, "not cleared: the operator gets 503, not a committed empty clearing");
  cr_assert(o.t.found);
  cr_assert_eq(o.t.n_orders, 0);
  cr_assert_eq(orders_to(AGR2), 0);
  stop_market();
}

/* ---- a group that fails to commit ------------------------------------------------------ */

/* A command that keeps the sequencer thread until opened, so that messages
 * submitted meanwhile make up one group together. */
struct gate {
  struct fx_seq_command c; /* first: run() gets its address */
  atomic_bool entered, open;
  int dones;
};

static void gate_run(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  (void)market, (void)ctx;
  struct gate *g = (struct gate *)cmd;
  atomic_store(&g->entered, true);
  for (int i = 0; i < 60000 && !atomic_load(&g->open); i++)
    uv_sleep(1);
}

static void gate_done(struct fx_seq_command *cmd) { ((struct gate *)cmd)->dones++; }

Test(clearing_async, a_result_whose_base_was_undone_by_a_failed_commit_is_not_placed) {
  /* A store that cannot grow past 1 MiB. */
  fx_store_close(H.st);
  struct fx_store_opts so = {.path = H.dir, .map_size = 1 << 20, .map_max = 1 << 20, .log = fx_mh_quiet};
  cr_assert_eq(fx_store_open(&H.st, &so), 0);
  start_async();
  populate();
  build_market(30, 0, 43);
  struct fx_mh_op o;
  op_submit(&o);
  op_wait(&o);
  cr_assert_eq(o.err, 0);
  int placed = orders_to(AGR2);
  cr_assert_gt(placed, 0);
  /* The rejection of an order starts a clearing whose base lacks that order,
   * in a group that fails to commit (a message too big for the store rides
   * in it): the reload brings the order back as placed. */
  fx_market_clearing_hold(H.mk, true);
  static struct gate g;
  memset(&g, 0, sizeof g);
  g.c = (struct fx_seq_command){.run = gate_run, .done = gate_done, .now_us = H.now_us};
  fx_sequencer_command(H.seq, &g.c);
  for (int i = 0; i < 5000 && !atomic_load(&g.entered); i++)
    uv_sleep(1);
  cr_assert(atomic_load(&g.entered));
  char order[FX_UUID_STRLEN];
  fx_uuid_format(&outbox(FX_MSG_FLEX_ORDER, AGR2, 0, NULL)->hdr.message_id, order);
  char rest[256];
  snprintf(rest, sizeof rest, " Result=\"Rejected\" RejectionReason=\"Price mismatch\" FlexOrderMessageID=\"%s\"/>",
           order);
  char *big = fx_mh_too_big_update();
  struct fx_mh_held *rej = fx_mh_message(&H, "FlexOrderResponse", AGR2, FX_ROLE_AGR, rest, 1 << 20);
  struct fx_mh_held *upd = fx_mh_message(&H, "DSOPortfolioUpdate", DSO, FX_ROLE_DSO, big, 1 << 24);
  fx_sequencer_submit(H.seq, &rej->in);
  fx_sequencer_submit(H.seq, &upd->in);
  H.submitted += 2;
  atomic_store(&g.open, true);
  fx_mh_wait_committed(&H, H.submitted);
  cr_assert_neq(rej->in.store_err, 0, "the rejection's group did not commit");
  fx_mh_release(rej);
  fx_mh_release(upd);
  free(big);
  cr_assert_eq(fx_market_clearing_pending(H.mk), 1, "yet its clearing was queued");
  /* The result comes back on a base that is not the market's any more. */
  fx_market_clearing_hold(H.mk, false);
  for (int i = 0; i < 600000 && fx_market_clearing_pending(H.mk); i++) {
    uv_run(&H.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(fx_market_clearing_solved(H.mk), 2);
  barrier();
  cr_assert_eq(orders_to(AGR2), placed, "nothing bought on top of the order the reload brought back");
  cr_assert_gt(fx_market_next_deadline(H.mk), H.now_us, "and the market is not due: the rejection never was");
  stop_async();
}

Test(clearing_async, an_order_expiring_after_the_clearing_stopped_is_cleared_again_after_a_restart) {
  H.cfg.order_response_timeout_s = 600;
  start_async();
  populate();
  build_market(120, 0, 47);
  struct fx_mh_op o;
  op_submit(&o);
  op_wait(&o);
  int placed = orders_to(AGR2);
  cr_assert_gt(placed, 0);
  /* The orders' reply deadline passes after the clearing thread stopped:
   * they expire with no clearing queued. */
  fx_market_clearing_stop(H.mk);
  /* The orders were placed at the clearing's result time: the harness clock
   * plus the solve's own duration (seconds under a sanitizer on a loaded
   * machine), so their deadline is read, and checked to be theirs. */
  int64_t due = fx_market_next_deadline(H.mk);
  cr_assert(due >= H.now_us + 600 * 1000000LL && due < H.now_us + 900 * 1000000LL,
            "the next deadline is the orders' reply deadline, 600 s after they were placed");
  H.now_us = due + 1000000;
  cr_assert_leq(fx_market_next_deadline(H.mk), H.now_us, "the reply deadline is due");
  run_command(fx_market_run_due, NULL);
  cr_assert_eq(orders_to(AGR2), placed, "nothing bought before the restart");
  stop_market();

  start_async();
  cr_assert_leq(fx_market_next_deadline(H.mk), H.now_us, "the expiry's re-clearing survived the restart");
  run_command(fx_market_run_due, NULL);
  wait_bought(placed);
  cr_assert_gt(orders_to(AGR2), placed, "the need of the expired orders was bought");
  stop_async();
}
