/* settle.h — the settlement method: what an AGR earns for a FlexOrder, ISP by ISP.
 *
 * This is the pure computation of the settle phase (UFTP general description,
 * "Settle phase", and the FlexSettlement message): from an order's ordered flex
 * power, the baseline it was based on and the metered power it produces the
 * FlexOrderSettlement values — BaselinePower, OrderedFlexPower, ActualPower,
 * DeliveredFlexPower, PowerDeficiency per ISP; Price, Penalty, NetSettlement per
 * order — and, for bilateral contracts, the ContractSettlement ISP values. The
 * engine gathers the inputs (store, metering, FlexRequests) and builds messages;
 * nothing here allocates, reads files or talks to the store, so a settlement run
 * streams any number of orders through one caller-owned result buffer.
 *
 * Units: power in integer watts, signed as in UFTP (positive = consumption);
 * currency amounts in int64 units of 1e-4 (CurrencyAmount has 4 fraction digits).
 * docs/settlement.md gives the method step by step with the chapter's example. */
#ifndef FX_ENGINE_SETTLE_H
#define FX_ENGINE_SETTLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Return codes (0 = success). */
enum {
  FX_SETTLE_OK = 0,
  FX_SETTLE_EINVAL = -1, /* inputs break a precondition stated below */
  FX_SETTLE_ENOSPC = -2, /* the result buffer holds fewer ISPs than the order has */
  FX_SETTLE_ERANGE = -3, /* an amount does not fit in int64 */
  FX_SETTLE_EGROW = -4,  /* a FlexReservationUpdate would grow the reservation */
};
const char *fx_settle_strerror(int rc);

/* Bounds that keep every intermediate product exact (128-bit) and every sum in
 * int64: 1 TW per ISP value, and a day of one-minute ISPs plus a DST hour. */
#define FX_SETTLE_MAX_W 1000000000000LL
#define FX_SETTLE_MAX_ISPS 1500

/* Which way the DSO's congestion goes at an ISP; a deviation from the adjusted
 * baseline is penalised only when it goes the congesting way. */
enum fx_settle_congestion {
  FX_SETTLE_CONGESTION_NONE = 0,    /* no congestion: no deviation is penalised */
  FX_SETTLE_CONGESTION_CONSUMPTION, /* DSO wants less consumption (ordered flex <= 0) */
  FX_SETTLE_CONGESTION_PRODUCTION,  /* DSO wants less production (ordered flex >= 0) */
};

/* The unit of the penalty price. The chapter's example prices per MW of
 * deficiency per ISP (11 €/MW, 1 MW short in one ISP = 11 €), whatever the ISP
 * length; a market may instead price the deficient energy (per MWh). */
enum fx_settle_penalty_unit {
  FX_SETTLE_PER_MW_PER_ISP = 0,
  FX_SETTLE_PER_MWH,
};

/* fx_settle_isp_in.have: which values are known. A value not marked known is
 * never used, so a zeroed struct means "nothing known", not "0 W". */
enum {
  FX_SETTLE_HAVE_BASELINE = 1u << 0,
  FX_SETTLE_HAVE_ACTUAL = 1u << 1,
};

/* Where the baseline comes from (the "configured baseline reference"; UFTP
 * leaves alternative baselines to the DSO and AGR, usef-general-concepts.md
 * "Alternative baselines"). docs/settlement.md states each one exactly. */
enum fx_settle_baseline {
  FX_SETTLE_BASELINE_PROGNOSIS = 0, /* the order's D-Prognosis, else the latest before it */
  FX_SETTLE_BASELINE_MEASURE_BEFORE, /* MBMA: metered power of the ISP before the order */
  FX_SETTLE_BASELINE_LIKE_DAYS,      /* mean metered power on earlier like-days */
  FX_SETTLE_BASELINE_ZERO,           /* 0 W: a formula baseline for dedicated flex assets */
  FX_SETTLE_BASELINE_COUNT
};
/* "prognosis", "measure-before", "like-days", "zero"; NULL for another value. */
const char *fx_settle_baseline_name(int b);
/* The enum value of a name above, or -1. */
int fx_settle_baseline_parse(const char *name);

struct fx_settle_isp_in {
  uint32_t start;     /* ISP number in the order's Period, 1-based; strictly increasing */
  uint8_t congestion; /* enum fx_settle_congestion */
  uint8_t have;       /* FX_SETTLE_HAVE_* */
  int64_t baseline_w; /* D-Prognosis (or baseline reference) power */
  int64_t ordered_w;  /* FlexOrder ISP power, after any activation factor */
  int64_t actual_w;   /* metered power of the AGR's connections at the CP */
};

struct fx_settle_input {
  /* Identification, borrowed, used only by the CSV writer (may be NULL). */
  const char *period;           /* "YYYY-MM-DD" */
  const char *congestion_point; /* EntityAddress */
  const char *order_reference;
  const char *currency; /* ISO 4217 */
  const char *baseline; /* fx_settle_baseline_name of the reference used */

  int64_t order_price;  /* FlexOrder Price, 1e-4 units (may be negative) */
  int64_t penalty_rate; /* >= 0, 1e-4 units per MW per ISP, or per MWh (penalty_unit) */
  uint8_t penalty_unit; /* enum fx_settle_penalty_unit */
  uint32_t isp_minutes; /* ISP length, 1..1440; used by FX_SETTLE_PER_MWH */
  const struct fx_settle_isp_in *isps;
  size_t n_isps; /* <= FX_SETTLE_MAX_ISPS */
};

/* fx_settle_isp_out.missing: why an ISP could not be settled. */
enum {
  FX_SETTLE_MISSING_BASELINE = 1u << 0,
  FX_SETTLE_MISSING_ACTUAL = 1u << 1,
};

/* One FlexOrderSettlement ISP. Where `missing` is non-zero, actual, delivered and
 * deficiency are 0 and mean nothing (the unknown baseline/actual too). */
struct fx_settle_isp_out {
  uint32_t start;
  uint8_t missing; /* FX_SETTLE_MISSING_* */
  int64_t baseline_w;
  int64_t ordered_w;
  int64_t actual_w;
  int64_t delivered_w;  /* same sign as ordered_w, |delivered| <= |ordered| */
  int64_t deficiency_w; /* signed like the flex the DSO needed; 0 when not worsening */
};

enum fx_settle_status {
  FX_SETTLE_SETTLED = 0, /* every ISP known: the amounts are the settlement */
  FX_SETTLE_INCOMPLETE,  /* some ISP lacks metering or baseline: no amounts */
};

/* Caller-owned: set `isps` and `isps_cap` once, reuse for every order. */
struct fx_settle_result {
  struct fx_settle_isp_out *isps;
  size_t isps_cap;
  size_t n_isps;
  uint8_t status;           /* enum fx_settle_status */
  uint32_t n_missing;       /* ISPs with a non-zero `missing` */
  int64_t price;            /* earned part of the order price; 0 unless SETTLED */
  int64_t penalty;          /* >= 0; 0 unless SETTLED */
  int64_t net;              /* price - penalty; 0 unless SETTLED */
  int64_t ordered_w_isps;   /* sum of |ordered_w| over the ISPs */
  int64_t delivered_w_isps; /* sum of |delivered_w| over the known ISPs */
  int64_t deficiency_w_isps; /* sum of |deficiency_w| over the known ISPs */
};

/* Settles one order into `res`. Returns FX_SETTLE_OK (then res->status says
 * whether the order could be settled), or an error with `res` unspecified. */
int fx_settle_order(const struct fx_settle_input *in, struct fx_settle_result *res);

/* Running totals for one AGR over one settlement period (the FlexSettlement
 * message's scope), summed over orders, ISPs and congestion points. Only SETTLED
 * orders add amounts; INCOMPLETE ones are counted, so the caller knows the
 * period cannot be sent in full. */
struct fx_settle_totals {
  uint64_t orders;
  uint64_t settled;
  uint64_t incomplete;
  int64_t price, penalty, net;
  int64_t ordered_w_isps, delivered_w_isps, deficiency_w_isps;
};
void fx_settle_totals_init(struct fx_settle_totals *t);
/* Adds one result; FX_SETTLE_ERANGE (and `t` unchanged) when a sum overflows. */
int fx_settle_totals_add(struct fx_settle_totals *t, const struct fx_settle_result *res);

/* ---- Bilateral contracts (ContractSettlement ISP) ------------------------- */

/* FlexRequest ISP disposition, as the engine saw it for this contract ISP. */
enum fx_settle_request_isp {
  FX_SETTLE_REQ_ABSENT = 0, /* the FlexRequest does not list this ISP */
  FX_SETTLE_REQ_AVAILABLE,
  FX_SETTLE_REQ_REQUESTED,
};

enum {
  FX_SETTLE_HAVE_UPDATE = 1u << 0,  /* a FlexReservationUpdate set update_w */
  FX_SETTLE_HAVE_REQUEST = 1u << 1, /* a FlexRequest exists for the contract's CP and Period */
  FX_SETTLE_HAVE_OFFER = 1u << 2,   /* offered_w: the most compliant offer's power */
  FX_SETTLE_HAVE_ORDER = 1u << 3,   /* ordered_w: orders linked to the contract */
};

struct fx_settle_contract_isp_in {
  uint32_t start;
  uint8_t have;              /* FX_SETTLE_HAVE_UPDATE | _REQUEST | _OFFER | _ORDER */
  uint8_t request;           /* enum fx_settle_request_isp, when HAVE_REQUEST */
  int64_t contracted_w;      /* reservation in the contract (signed) */
  int64_t update_w;          /* latest FlexReservationUpdate power */
  int64_t request_min_w, request_max_w;
  int64_t offered_w;
  int64_t ordered_w;
};

/* fx_settle_contract_isp_out.present: the optional attributes to send. */
enum {
  FX_SETTLE_HAS_REQUESTED = 1u << 0,
  FX_SETTLE_HAS_AVAILABLE = 1u << 1,
  FX_SETTLE_HAS_OFFERED = 1u << 2,
  FX_SETTLE_HAS_ORDERED = 1u << 3,
};

struct fx_settle_contract_isp_out {
  uint32_t start;
  uint8_t present;
  int64_t reserved_w, requested_w, available_w, offered_w, ordered_w;
};

/* Computes one ContractSettlement ISP (see docs/settlement.md for each rule).
 * FX_SETTLE_EGROW when the update is larger than, or opposite to, the contract;
 * FX_SETTLE_EINVAL for a Requested ISP open on both sides of zero. */
int fx_settle_contract_isp(const struct fx_settle_contract_isp_in *in,
                           struct fx_settle_contract_isp_out *out);

/* 1 when offered power `p` meets the contract at this ISP: at least the
 * requested power on its side and no further than the available power (or
 * within [0, available] when nothing is requested). */
int fx_settle_contract_complies(const struct fx_settle_contract_isp_out *isp, int64_t p);

/* Index of the most compliant of `n_offers` offers (offers[k][i] is offer k's
 * power at isps[i]): most complying ISPs, then most requested power covered,
 * then the lowest index. n_offers must be >= 1. */
size_t fx_settle_contract_pick_offer(const struct fx_settle_contract_isp_out *isps, size_t n,
                                     const int64_t *const *offers, size_t n_offers);

/* ---- CSV export for a DSO's finance system -------------------------------- */

/* Writes a currency amount exactly ("-12.3400"); returns its length (< 24). */
size_t fx_settle_format_amount(int64_t v, char buf[24]);

/* The header line, and one order's lines: an ISP row per ISP and an ORDER
 * summary row (columns in docs/settlement.md). The buffer variants behave like
 * snprintf: they return the full length and write at most cap-1 bytes plus NUL.
 * The FILE variants return 0, or -1 on a write error. `res` must come from `in`. */
size_t fx_settle_csv_header(char *buf, size_t cap);
size_t fx_settle_csv_order(const struct fx_settle_input *in, const struct fx_settle_result *res,
                           char *buf, size_t cap);
int fx_settle_csv_header_fp(FILE *fp);
int fx_settle_csv_order_fp(FILE *fp, const struct fx_settle_input *in,
                           const struct fx_settle_result *res);

#endif
