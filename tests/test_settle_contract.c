/* test_settle_contract.c — ContractSettlement ISP values for a bilateral
 * contract, following the flex reservation appendix: a reservation that can only
 * shrink, the lowest of reserved and requested power, available room, the part an
 * offer covers, and choosing the most compliant offer. */
#include <criterion/criterion.h>

#include "engine/settle.h"

#define MW 1000000LL

static struct fx_settle_contract_isp_in req(uint32_t start, int64_t reserved, uint8_t disp,
                                            int64_t lo, int64_t hi) {
  return (struct fx_settle_contract_isp_in){.start = start, .have = FX_SETTLE_HAVE_REQUEST,
                                            .request = disp, .contracted_w = reserved,
                                            .request_min_w = lo, .request_max_w = hi};
}

/* The appendix's picture: ISPs 11..16 in the contract, downward reservations at
 * 12..15, a FlexRequest asking more than reserved at 12, less at 13, nothing at 14,
 * and room in the opposite direction at 15 and 16. */
static const struct fx_settle_contract_isp_in *appendix(void) {
  static struct fx_settle_contract_isp_in in[6];
  in[0] = req(11, 0, FX_SETTLE_REQ_ABSENT, 0, 0);
  in[1] = req(12, -2 * MW, FX_SETTLE_REQ_REQUESTED, -4 * MW, -3 * MW);
  in[2] = req(13, -2 * MW, FX_SETTLE_REQ_REQUESTED, -3 * MW, -1 * MW);
  in[3] = req(14, -2 * MW, FX_SETTLE_REQ_AVAILABLE, 0, 0);
  in[4] = req(15, -1 * MW, FX_SETTLE_REQ_AVAILABLE, 0, 1 * MW);
  in[5] = req(16, 0, FX_SETTLE_REQ_AVAILABLE, 0, 1 * MW);
  return in;
}

Test(settle_contract, requested_is_lowest_of_reserved_and_requested) {
  const struct fx_settle_contract_isp_in *in = appendix();
  struct fx_settle_contract_isp_out o[6];
  for (int i = 0; i < 6; i++)
    cr_assert_eq(fx_settle_contract_isp(&in[i], &o[i]), FX_SETTLE_OK, "ISP %d", 11 + i);
  cr_assert_eq(o[1].reserved_w, -2 * MW);
  cr_assert_eq(o[1].requested_w, -2 * MW, "requested exceeds reserved: the reservation counts");
  cr_assert_eq(o[2].requested_w, -1 * MW, "request below reservation: the request counts");
  cr_assert_eq(o[3].requested_w, 0, "reserved but not requested: no obligation");
  cr_assert(o[3].present & FX_SETTLE_HAS_REQUESTED, "RequestedPower=0 is stated");
  cr_assert_eq(o[0].present & FX_SETTLE_HAS_AVAILABLE, 0, "an unlisted ISP has no bound");
}

Test(settle_contract, available_power_bounds_the_offer) {
  const struct fx_settle_contract_isp_in *in = appendix();
  struct fx_settle_contract_isp_out o[6];
  for (int i = 0; i < 6; i++)
    cr_assert_eq(fx_settle_contract_isp(&in[i], &o[i]), FX_SETTLE_OK);
  cr_assert_eq(o[1].available_w, -4 * MW, "may exceed requested up to the far bound");
  cr_assert_eq(o[2].available_w, -3 * MW);
  cr_assert_eq(o[3].available_w, 0, "no room at all");
  cr_assert_eq(o[4].available_w, 1 * MW, "room in the opposite direction");
  cr_assert_eq(o[5].available_w, 1 * MW);
  cr_assert(fx_settle_contract_complies(&o[1], -3 * MW));
  cr_assert(!fx_settle_contract_complies(&o[1], -1 * MW), "short of the requested power");
  cr_assert(!fx_settle_contract_complies(&o[1], -5 * MW), "beyond the available power");
  cr_assert(fx_settle_contract_complies(&o[3], 0));
  cr_assert(!fx_settle_contract_complies(&o[3], -1 * MW), "no reserved flex may be used at 14");
  cr_assert(fx_settle_contract_complies(&o[4], MW / 2));
  cr_assert(!fx_settle_contract_complies(&o[4], -MW / 2), "wrong side of zero");
}

Test(settle_contract, offered_is_the_covered_part_of_requested) {
  struct fx_settle_contract_isp_in in = appendix()[1];
  struct fx_settle_contract_isp_out o;
  in.have |= FX_SETTLE_HAVE_OFFER | FX_SETTLE_HAVE_ORDER;
  in.offered_w = -3 * MW / 2;
  in.ordered_w = -3 * MW / 2;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_OK);
  cr_assert_eq(o.offered_w, -3 * MW / 2);
  cr_assert_eq(o.ordered_w, -3 * MW / 2);
  cr_assert_eq(o.present, FX_SETTLE_HAS_REQUESTED | FX_SETTLE_HAS_AVAILABLE |
                              FX_SETTLE_HAS_OFFERED | FX_SETTLE_HAS_ORDERED);
  in.offered_w = -3 * MW;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_OK);
  cr_assert_eq(o.offered_w, -2 * MW, "only the requested part of the offer counts");
  in.offered_w = 1 * MW;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_OK);
  cr_assert_eq(o.offered_w, 0, "an offer on the other side covers nothing");
}

Test(settle_contract, reservation_update_may_only_shrink) {
  struct fx_settle_contract_isp_in in = appendix()[1];
  struct fx_settle_contract_isp_out o;
  in.have |= FX_SETTLE_HAVE_UPDATE;
  in.update_w = -1 * MW;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_OK);
  cr_assert_eq(o.reserved_w, -1 * MW);
  cr_assert_eq(o.requested_w, -1 * MW, "the released part is no longer requested");
  in.update_w = 0;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_OK);
  cr_assert_eq(o.reserved_w, 0);
  in.update_w = -3 * MW;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_EGROW, "growing is refused");
  in.update_w = 1 * MW;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_EGROW, "flipping side is refused");
}

Test(settle_contract, without_flex_request_requested_is_omitted) {
  struct fx_settle_contract_isp_in in = {.start = 3, .contracted_w = -2 * MW,
                                         .have = FX_SETTLE_HAVE_ORDER, .ordered_w = -MW};
  struct fx_settle_contract_isp_out o;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_OK);
  cr_assert_eq(o.reserved_w, -2 * MW);
  cr_assert_eq(o.present, FX_SETTLE_HAS_ORDERED);
  cr_assert(fx_settle_contract_complies(&o, 0));
}

Test(settle_contract, requested_isp_open_on_both_sides_is_invalid) {
  struct fx_settle_contract_isp_in in = req(1, -MW, FX_SETTLE_REQ_REQUESTED, -MW, MW);
  struct fx_settle_contract_isp_out o;
  cr_assert_eq(fx_settle_contract_isp(&in, &o), FX_SETTLE_EINVAL);
}

Test(settle_contract, most_compliant_offer_is_picked) {
  const struct fx_settle_contract_isp_in *in = appendix();
  struct fx_settle_contract_isp_out o[6];
  for (int i = 0; i < 6; i++)
    cr_assert_eq(fx_settle_contract_isp(&in[i], &o[i]), FX_SETTLE_OK);
  const int64_t bad[6] = {0, -3 * MW / 2, -3 * MW, -MW, 0, 2 * MW};  /* 12, 14, 16 fail */
  const int64_t good[6] = {0, -2 * MW, -MW, 0, MW / 2, MW};          /* complies everywhere */
  const int64_t less[6] = {0, -2 * MW, -MW, 0, MW / 2, 2 * MW};      /* 16 fails */
  const int64_t *offers[3] = {bad, less, good};
  cr_assert_eq(fx_settle_contract_pick_offer(o, 6, offers, 3), 2);
  const int64_t *two[2] = {bad, less};
  cr_assert_eq(fx_settle_contract_pick_offer(o, 6, two, 2), 1);
  const int64_t *same[2] = {good, good};
  cr_assert_eq(fx_settle_contract_pick_offer(o, 6, same, 2), 0, "ties go to the earlier offer");
}
