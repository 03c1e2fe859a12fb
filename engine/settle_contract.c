/* settle_contract.c — ContractSettlement ISP values for bilateral contracts.
 *
 * The flex reservation appendix narrows an AGR's obligation step by step, and
 * each ContractSettlement attribute records one step (see docs/settlement.md):
 *   Reserved  = the contract's reservation, or the FlexReservationUpdate, which
 *               may only shrink it;
 *   Requested = the lowest of reserved and requested power on the same side
 *               (0 when the FlexRequest does not ask for it; omitted when there
 *               was no FlexRequest);
 *   Available = how far an offer may go: past Requested up to the request's far
 *               bound, or from 0 to the room the request leaves when nothing is
 *               requested;
 *   Offered   = the part of Requested that the most compliant offer covers;
 *   Ordered   = the power of the orders linked to the contract.
 * All values are signed powers in watts, as in UFTP. */
#include "engine/settle.h"

static int sign64(int64_t v) { return (v > 0) - (v < 0); }
static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }
/* |v| for caller powers that were not bounds-checked (offers being compared). */
static int64_t mag(int64_t v) { return v == INT64_MIN ? INT64_MAX : abs64(v); }
static int64_t min_abs_signed(int s, int64_t a, int64_t b) {
  int64_t m = abs64(a) < abs64(b) ? abs64(a) : abs64(b);
  return s < 0 ? -m : m;
}

static int bounded_w(int64_t w) { return w >= -FX_SETTLE_MAX_W && w <= FX_SETTLE_MAX_W; }

/* Bounded powers keep every sum of a Period's ISPs inside int64. */
static int bounded(const struct fx_settle_contract_isp_in *in) {
  return bounded_w(in->contracted_w) && bounded_w(in->update_w) && bounded_w(in->request_min_w) &&
         bounded_w(in->request_max_w) && bounded_w(in->offered_w) && bounded_w(in->ordered_w);
}

/* The reservation after updates. The update must keep the contract's side and
 * not grow; the engine refuses such updates, so meeting one here is an error. */
static int reserved_of(const struct fx_settle_contract_isp_in *in, int64_t *out) {
  if (!(in->have & FX_SETTLE_HAVE_UPDATE)) {
    *out = in->contracted_w;
    return FX_SETTLE_OK;
  }
  if (in->update_w != 0 &&
      (sign64(in->update_w) != sign64(in->contracted_w) || abs64(in->update_w) > abs64(in->contracted_w)))
    return FX_SETTLE_EGROW;
  *out = in->update_w;
  return FX_SETTLE_OK;
}

/* The power a Requested ISP asks for: the bound nearest zero, or the far bound
 * when the near one is zero (the clearing rule of DESIGN.md §4). Sets *far to
 * the bound furthest from zero on the requested side. */
static int requested_need(int64_t lo, int64_t hi, int64_t *need, int64_t *far) {
  if (lo > hi || (lo < 0 && hi > 0))
    return FX_SETTLE_EINVAL;
  if (hi <= 0) {
    *need = hi != 0 ? hi : lo;
    *far = lo;
  } else {
    *need = lo != 0 ? lo : hi;
    *far = hi;
  }
  return FX_SETTLE_OK;
}

/* Room an ISP leaves on each side of zero, given its disposition. */
static void room_of(const struct fx_settle_contract_isp_in *in, int64_t *down, int64_t *up) {
  *down = in->request_min_w < 0 ? in->request_min_w : 0;
  *up = in->request_max_w > 0 ? in->request_max_w : 0;
}

/* With nothing requested the offer may move between 0 and one bound: the one on
 * the contract's side if the request leaves room there, else the other side
 * (the appendix's "space to deviate in the opposite direction"). */
static int64_t available_when_unrequested(const struct fx_settle_contract_isp_in *in) {
  int64_t down, up;
  room_of(in, &down, &up);
  int s = sign64(in->contracted_w);
  if (s < 0 && down != 0)
    return down;
  if (s > 0 && up != 0)
    return up;
  if (down == 0 || up == 0)
    return down != 0 ? down : up;
  return abs64(up) > abs64(down) ? up : down;
}

/* Requested and Available from the FlexRequest ISP. */
static int request_part(const struct fx_settle_contract_isp_in *in, struct fx_settle_contract_isp_out *out) {
  out->present |= FX_SETTLE_HAS_REQUESTED;
  out->requested_w = 0;
  if (in->request == FX_SETTLE_REQ_ABSENT)
    return FX_SETTLE_OK; /* unconstrained ISP: nothing requested, no bound to state */
  if (in->request == FX_SETTLE_REQ_REQUESTED) {
    int64_t need, far;
    int rc = requested_need(in->request_min_w, in->request_max_w, &need, &far);
    if (rc)
      return rc;
    int s = sign64(out->reserved_w);
    if (s != 0 && sign64(need) == s) {
      out->requested_w = min_abs_signed(s, out->reserved_w, need);
      out->available_w = far;
      out->present |= FX_SETTLE_HAS_AVAILABLE;
      return FX_SETTLE_OK;
    }
  } else if (in->request != FX_SETTLE_REQ_AVAILABLE) {
    return FX_SETTLE_EINVAL;
  }
  out->available_w = available_when_unrequested(in);
  out->present |= FX_SETTLE_HAS_AVAILABLE;
  return FX_SETTLE_OK;
}

int fx_settle_contract_isp(const struct fx_settle_contract_isp_in *in,
                           struct fx_settle_contract_isp_out *out) {
  *out = (struct fx_settle_contract_isp_out){.start = in->start};
  if (!bounded(in))
    return FX_SETTLE_EINVAL;
  int rc = reserved_of(in, &out->reserved_w);
  if (rc)
    return rc;
  if (in->have & FX_SETTLE_HAVE_REQUEST) {
    rc = request_part(in, out);
    if (rc)
      return rc;
  }
  if (in->have & FX_SETTLE_HAVE_OFFER) {
    int s = sign64(out->requested_w);
    out->offered_w = s != 0 && sign64(in->offered_w) == s ? min_abs_signed(s, out->requested_w, in->offered_w) : 0;
    out->present |= FX_SETTLE_HAS_OFFERED;
  }
  if (in->have & FX_SETTLE_HAVE_ORDER) {
    out->ordered_w = in->ordered_w;
    out->present |= FX_SETTLE_HAS_ORDERED;
  }
  return FX_SETTLE_OK;
}

/* Is v between 0 and bound (inclusive), on bound's side? */
static int within(int64_t v, int64_t bound) {
  return bound < 0 ? v >= bound && v <= 0 : v >= 0 && v <= bound;
}

int fx_settle_contract_complies(const struct fx_settle_contract_isp_out *isp, int64_t p) {
  if (!(isp->present & FX_SETTLE_HAS_REQUESTED))
    return 1; /* no FlexRequest: the contract asks no offer */
  int64_t avail = (isp->present & FX_SETTLE_HAS_AVAILABLE) ? isp->available_w : 0;
  if (isp->requested_w == 0)
    return (isp->present & FX_SETTLE_HAS_AVAILABLE) ? within(p, avail) : 1;
  if (sign64(p) != sign64(isp->requested_w) || mag(p) < abs64(isp->requested_w))
    return 0;
  return !(isp->present & FX_SETTLE_HAS_AVAILABLE) || within(p, avail);
}

size_t fx_settle_contract_pick_offer(const struct fx_settle_contract_isp_out *isps, size_t n,
                                     const int64_t *const *offers, size_t n_offers) {
  size_t best = 0, best_ok = 0;
  int64_t best_cover = -1;
  for (size_t k = 0; k < n_offers; k++) {
    size_t ok = 0;
    int64_t cover = 0;
    for (size_t i = 0; i < n; i++) {
      int64_t p = offers[k][i], q = isps[i].requested_w;
      ok += (size_t)fx_settle_contract_complies(&isps[i], p);
      if (q != 0 && sign64(p) == sign64(q))
        cover += mag(p) < abs64(q) ? mag(p) : abs64(q);
    }
    if (ok > best_ok || (ok == best_ok && cover > best_cover)) {
      best = k;
      best_ok = ok;
      best_cover = cover;
    }
  }
  return best;
}
