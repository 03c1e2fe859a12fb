/* test_settle.c — the settlement method of the settle-phase chapter, rule by rule:
 * the chapter's example table, single-sided penalties in both congestion
 * directions, partial activation, over-delivery, missing data, rounding and
 * per-AGR totals. Contract settlement and CSV export have their own suites. */
#include <criterion/criterion.h>

#include "engine/settle.h"

#define MW 1000000LL
#define EUR 10000LL /* 1e-4 currency units */

static struct fx_settle_isp_out g_isps[8];

static struct fx_settle_result result(void) {
  return (struct fx_settle_result){.isps = g_isps, .isps_cap = 8};
}

static struct fx_settle_isp_in isp(uint32_t start, uint8_t cong, int64_t base, int64_t ordered,
                                   int64_t actual) {
  return (struct fx_settle_isp_in){.start = start, .congestion = cong,
                                   .have = FX_SETTLE_HAVE_BASELINE | FX_SETTLE_HAVE_ACTUAL,
                                   .baseline_w = base, .ordered_w = ordered, .actual_w = actual};
}

static struct fx_settle_input order(const struct fx_settle_isp_in *isps, size_t n, int64_t price,
                                    int64_t rate) {
  return (struct fx_settle_input){.order_price = price, .penalty_rate = rate, .isp_minutes = 15,
                                  .isps = isps, .n_isps = n};
}

/* Settle phase, "Settlement example": 10 MW initial baseline, 2 MW acquired
 * (adjusted baseline 8 MW), flex 7 €/MW, penalty 11 €/MW single-sided. The table
 * is in the chapter's magnitudes; in UFTP signs the ordered flex is -2 MW (less
 * consumption) and DeliveredFlexPower/PowerDeficiency carry that sign. */
Test(settle, chapter_example_table_row_by_row) {
  static const struct {
    int64_t allocation, flex_realized, delivered, flex_paid, deviation, deficiency, penalty_raised,
        settlement;
  } rows[] = {
      {7, 3, 2, 14, -1, 0, 0, 14},     {8, 2, 2, 14, 0, 0, 0, 14},
      {9, 1, 1, 7, 1, 1, -11, -4},     {10, 0, 0, 0, 2, 2, -22, -22},
      {11, -1, 0, 0, 3, 3, -33, -33},
  };
  const int64_t flex_price = 7 * EUR, penalty = 11 * EUR, ordered = -2 * MW;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct fx_settle_isp_in in1 =
        isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, ordered, rows[i].allocation * MW);
    /* The order's price is what the DSO accepted for 2 MW at 7 €/MW. */
    struct fx_settle_input in = order(&in1, 1, flex_price * 2, penalty);
    struct fx_settle_result r = result();
    cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
    const struct fx_settle_isp_out *o = &r.isps[0];
    cr_assert_eq(r.status, FX_SETTLE_SETTLED);
    cr_assert_eq(o->baseline_w - o->actual_w, rows[i].flex_realized * MW, "row %zu", i);
    cr_assert_eq(o->delivered_w, -rows[i].delivered * MW, "row %zu delivered", i);
    cr_assert_eq(r.price, rows[i].flex_paid * EUR, "row %zu flex paid", i);
    cr_assert_eq(o->actual_w - (o->baseline_w + o->ordered_w), rows[i].deviation * MW, "row %zu", i);
    cr_assert_eq(o->deficiency_w, -rows[i].deficiency * MW, "row %zu deficiency", i);
    cr_assert_eq(-r.penalty, rows[i].penalty_raised * EUR, "row %zu penalty", i);
    cr_assert_eq(r.net, rows[i].settlement * EUR, "row %zu settlement", i);
    cr_assert_eq(r.net, r.price - r.penalty, "NetSettlement = Price - Penalty");
  }
}

/* A DSO short of capacity for consumption: only consuming more than the
 * adjusted baseline worsens it. */
Test(settle, penalty_only_when_worsening_consumption_congestion) {
  struct fx_settle_isp_in in1[] = {
      isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 9 * MW),  /* 1 MW over */
      isp(2, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 6 * MW),  /* 2 MW under */
      isp(3, FX_SETTLE_CONGESTION_NONE, 10 * MW, -2 * MW, 9 * MW),         /* no congestion */
  };
  struct fx_settle_input in = order(in1, 3, 42 * EUR, 11 * EUR);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.isps[0].deficiency_w, -1 * MW);
  cr_assert_eq(r.isps[1].deficiency_w, 0, "consuming less than agreed relieves congestion");
  cr_assert_eq(r.isps[2].deficiency_w, 0, "a deviation where there is no congestion is free");
  cr_assert_eq(r.penalty, 11 * EUR);
}

/* A DSO short of capacity for production (negative power): only producing more
 * than the adjusted baseline worsens it; the ordered flex is positive. */
Test(settle, penalty_only_when_worsening_production_congestion) {
  struct fx_settle_isp_in in1[] = {
      isp(1, FX_SETTLE_CONGESTION_PRODUCTION, -10 * MW, 2 * MW, -9 * MW),  /* 1 MW too much */
      isp(2, FX_SETTLE_CONGESTION_PRODUCTION, -10 * MW, 2 * MW, -7 * MW),  /* 1 MW to spare */
      isp(3, FX_SETTLE_CONGESTION_PRODUCTION, -10 * MW, 2 * MW, -11 * MW), /* worse than baseline */
  };
  struct fx_settle_input in = order(in1, 3, 42 * EUR, 11 * EUR);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.isps[0].delivered_w, 1 * MW);
  cr_assert_eq(r.isps[0].deficiency_w, 1 * MW);
  cr_assert_eq(r.isps[1].delivered_w, 2 * MW, "delivery is capped at the ordered 2 MW");
  cr_assert_eq(r.isps[1].deficiency_w, 0, "producing less than agreed relieves congestion");
  cr_assert_eq(r.isps[2].delivered_w, 0);
  cr_assert_eq(r.isps[2].deficiency_w, 3 * MW);
  /* 42 € for 6 MW·ISP ordered, 3 delivered; 4 MW·ISP deficient at 11 €. */
  cr_assert_eq(r.price, 21 * EUR);
  cr_assert_eq(r.penalty, 44 * EUR);
  cr_assert_eq(r.net, -23 * EUR);
}

/* An offer of 3 MW for 25.5555 ordered at ActivationFactor 0.37: the order holds
 * round(0.37 × 3 MW) = 1 110 000 W and 0.37 × 25.5555 = 9.455535 → 9.4555. The
 * settlement pays that scaled price in proportion to what was delivered. */
Test(settle, partial_activation_scales_power_and_price) {
  const int64_t ordered = -1110000, price = 94555;
  struct fx_settle_isp_in in1[] = {
      isp(40, FX_SETTLE_CONGESTION_CONSUMPTION, 5 * MW, ordered, 5 * MW + ordered), /* in full */
      isp(41, FX_SETTLE_CONGESTION_CONSUMPTION, 5 * MW, ordered, 5 * MW - 555000),  /* half */
  };
  struct fx_settle_input in = order(in1, 2, price, 11 * EUR);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.ordered_w_isps, 2220000);
  cr_assert_eq(r.delivered_w_isps, 1665000);
  cr_assert_eq(r.isps[1].deficiency_w, -555000);
  /* 9.4555 × 1665000/2220000 = 7.091625 → 7.0916; 11 × 0.555 = 6.105. */
  cr_assert_eq(r.price, 70916);
  cr_assert_eq(r.penalty, 61050);
  cr_assert_eq(r.net, 70916 - 61050);
}

/* Delivering more than ordered in one ISP pays nothing extra and does not make
 * up for another ISP. */
Test(settle, over_delivery_not_rewarded) {
  struct fx_settle_isp_in in1[] = {
      isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 5 * MW),  /* 5 MW down */
      isp(2, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 10 * MW), /* nothing */
  };
  struct fx_settle_input in = order(in1, 2, 28 * EUR, 0);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.isps[0].delivered_w, -2 * MW);
  cr_assert_eq(r.isps[0].deficiency_w, 0);
  cr_assert_eq(r.price, 14 * EUR, "half the ordered flex was delivered: half the price");
  cr_assert_eq(r.penalty, 0, "a zero penalty rate raises nothing");
}

Test(settle, rounding_is_half_away_from_zero_once_per_order) {
  /* Two ISPs each delivering 1 W of 2 W ordered: half of the price. */
  struct fx_settle_isp_in in1[] = {
      isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 0, -2, -1),
      isp(2, FX_SETTLE_CONGESTION_CONSUMPTION, 0, -2, -1),
  };
  struct fx_settle_result r = result();
  struct fx_settle_input in = order(in1, 2, 1, 0); /* 0.0001 × 2/4 = 0.00005 */
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.price, 1, "half rounds away from zero");
  in.order_price = -1;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.price, -1, "negative half rounds away from zero too");
  in.order_price = 3; /* 0.00015 → 0.0002 */
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.price, 2);
  /* Penalty: 1 W short in each of 3 ISPs, summed to 3 W before the one rounding. */
  struct fx_settle_isp_in in3[] = {
      isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 0, -2, -1),
      isp(2, FX_SETTLE_CONGESTION_CONSUMPTION, 0, -2, -1),
      isp(3, FX_SETTLE_CONGESTION_CONSUMPTION, 0, -2, -1),
  };
  struct fx_settle_input in2 = order(in3, 3, 0, 5000);
  cr_assert_eq(fx_settle_order(&in2, &r), FX_SETTLE_OK);
  cr_assert_eq(r.deficiency_w_isps, 3);
  cr_assert_eq(r.penalty, 0);
  in2.penalty_rate = 1000000 / 6; /* 16.6666/MW × 3 W = 0.0000499998 → 0.0000 */
  cr_assert_eq(fx_settle_order(&in2, &r), FX_SETTLE_OK);
  cr_assert_eq(r.penalty, 0);
  in2.penalty_rate = 1000000 / 6 + 1; /* 16.6667/MW × 3 W = 0.0000500001 → 0.0001 */
  cr_assert_eq(fx_settle_order(&in2, &r), FX_SETTLE_OK);
  cr_assert_eq(r.penalty, 1);
}

/* A penalty priced per MWh charges the deficient energy: 1 MW for one PT15M ISP
 * is 0.25 MWh, at 11 €/MWh 2.75 €. */
Test(settle, penalty_per_mwh_uses_isp_duration) {
  struct fx_settle_isp_in in1 = isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 9 * MW);
  struct fx_settle_input in = order(&in1, 1, 14 * EUR, 11 * EUR);
  in.penalty_unit = FX_SETTLE_PER_MWH;
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.penalty, 27500);
  in.isp_minutes = 60;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.penalty, 11 * EUR);
}

Test(settle, missing_metering_makes_order_unsettleable) {
  struct fx_settle_isp_in in1[] = {
      isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 8 * MW),
      isp(2, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 0),
      isp(3, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 9 * MW),
  };
  in1[1].have &= (uint8_t)~FX_SETTLE_HAVE_ACTUAL;
  struct fx_settle_input in = order(in1, 3, 42 * EUR, 11 * EUR);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.status, FX_SETTLE_INCOMPLETE);
  cr_assert_eq(r.n_missing, 1);
  cr_assert_eq(r.isps[1].missing, FX_SETTLE_MISSING_ACTUAL);
  cr_assert_eq(r.isps[0].missing, 0);
  cr_assert_eq(r.isps[0].delivered_w, -2 * MW, "known ISPs are still reported");
  cr_assert_eq(r.isps[2].deficiency_w, -1 * MW);
  cr_assert_eq(r.price, 0);
  cr_assert_eq(r.penalty, 0);
  cr_assert_eq(r.net, 0);

  /* A missing baseline is missing data too; a zeroed ISP knows nothing. */
  in1[1] = (struct fx_settle_isp_in){.start = 2, .ordered_w = -2 * MW};
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.isps[1].missing, FX_SETTLE_MISSING_ACTUAL | FX_SETTLE_MISSING_BASELINE);
  cr_assert_eq(r.status, FX_SETTLE_INCOMPLETE);

  struct fx_settle_totals t;
  fx_settle_totals_init(&t);
  cr_assert_eq(fx_settle_totals_add(&t, &r), FX_SETTLE_OK);
  cr_assert_eq(t.orders, 1);
  cr_assert_eq(t.incomplete, 1);
  cr_assert_eq(t.settled, 0);
  cr_assert_eq(t.net, 0, "an unsettleable order adds no amount");
  cr_assert_eq(t.delivered_w_isps, 0);
}

/* One AGR with an order on each of two congestion points, another AGR with one:
 * totals run per AGR, over both congestion points. */
Test(settle, agr_totals_over_two_congestion_points) {
  struct fx_settle_isp_in a[] = {isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 9 * MW)};
  struct fx_settle_isp_in b[] = {isp(5, FX_SETTLE_CONGESTION_PRODUCTION, -4 * MW, 1 * MW, -3 * MW),
                                 isp(6, FX_SETTLE_CONGESTION_PRODUCTION, -4 * MW, 1 * MW, -4 * MW)};
  struct fx_settle_isp_in c[] = {isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 8 * MW)};
  struct fx_settle_input in_a = order(a, 1, 14 * EUR, 11 * EUR);
  struct fx_settle_input in_b = order(b, 2, 10 * EUR, 11 * EUR);
  struct fx_settle_input in_c = order(c, 1, 20 * EUR, 11 * EUR);
  in_a.congestion_point = "ean.871685900000000001";
  in_b.congestion_point = "ean.871685900000000002";
  in_c.congestion_point = "ean.871685900000000001";
  struct fx_settle_totals agr1, agr2;
  fx_settle_totals_init(&agr1);
  fx_settle_totals_init(&agr2);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in_a, &r), FX_SETTLE_OK); /* 7 − 11 = −4 */
  cr_assert_eq(fx_settle_totals_add(&agr1, &r), FX_SETTLE_OK);
  cr_assert_eq(fx_settle_order(&in_b, &r), FX_SETTLE_OK); /* 5 − 11 = −6 */
  cr_assert_eq(r.net, -6 * EUR);
  cr_assert_eq(fx_settle_totals_add(&agr1, &r), FX_SETTLE_OK);
  cr_assert_eq(fx_settle_order(&in_c, &r), FX_SETTLE_OK); /* 20 − 0 */
  cr_assert_eq(fx_settle_totals_add(&agr2, &r), FX_SETTLE_OK);
  cr_assert_eq(agr1.orders, 2);
  cr_assert_eq(agr1.price, 12 * EUR);
  cr_assert_eq(agr1.penalty, 22 * EUR);
  cr_assert_eq(agr1.net, -10 * EUR);
  cr_assert_eq(agr1.ordered_w_isps, 4 * MW);
  cr_assert_eq(agr1.delivered_w_isps, 2 * MW);
  cr_assert_eq(agr1.deficiency_w_isps, 2 * MW);
  cr_assert_eq(agr2.orders, 1);
  cr_assert_eq(agr2.net, 20 * EUR);
}

Test(settle, totals_refuse_overflow_and_stay_unchanged) {
  struct fx_settle_totals t;
  fx_settle_totals_init(&t);
  struct fx_settle_result r = {.status = FX_SETTLE_SETTLED, .price = INT64_MAX, .net = INT64_MAX};
  cr_assert_eq(fx_settle_totals_add(&t, &r), FX_SETTLE_OK);
  r.price = r.net = 1;
  cr_assert_eq(fx_settle_totals_add(&t, &r), FX_SETTLE_ERANGE);
  cr_assert_eq(t.orders, 1);
  cr_assert_eq(t.price, INT64_MAX);
}

Test(settle, invalid_inputs_are_refused) {
  struct fx_settle_isp_in in1[] = {
      isp(2, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 9 * MW),
      isp(1, FX_SETTLE_CONGESTION_CONSUMPTION, 10 * MW, -2 * MW, 9 * MW),
  };
  struct fx_settle_input in = order(in1, 2, 14 * EUR, 11 * EUR);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_EINVAL, "ISPs out of order");
  in1[1].start = 2;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_EINVAL, "an ISP twice");
  in1[1].start = 3;
  in1[1].congestion = FX_SETTLE_CONGESTION_PRODUCTION;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_EINVAL, "flex ordered against the congestion");
  in1[1].congestion = FX_SETTLE_CONGESTION_CONSUMPTION;
  in1[1].actual_w = FX_SETTLE_MAX_W + 1;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_EINVAL, "power out of bounds");
  in1[1].actual_w = 9 * MW;
  in.penalty_rate = -1;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_EINVAL, "negative penalty rate");
  in.penalty_rate = 0;
  r.isps_cap = 1;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_ENOSPC);
  r.isps_cap = 8;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  in.penalty_rate = INT64_MAX;
  in1[0].actual_w = FX_SETTLE_MAX_W;
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_ERANGE, "a penalty beyond int64");
}

Test(settle, order_without_flex_earns_its_price) {
  struct fx_settle_isp_in in1 = isp(1, FX_SETTLE_CONGESTION_NONE, 3 * MW, 0, 4 * MW);
  struct fx_settle_input in = order(&in1, 1, 5 * EUR, 11 * EUR);
  struct fx_settle_result r = result();
  cr_assert_eq(fx_settle_order(&in, &r), FX_SETTLE_OK);
  cr_assert_eq(r.price, 5 * EUR);
  cr_assert_eq(r.penalty, 0, "no flex sold at the ISP: no penalty");
}
