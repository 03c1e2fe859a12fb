/* market_int.h — the market's in-memory state, shared by engine/market*.c.
 *
 * The state mirrors what the store holds (plus what the current group added):
 *   - the common reference: congestion points, connections (the DSO's side:
 *     which CP; the AGR's side: which AGR) and the last portfolio update time
 *     per sender, each a uthash table;
 *   - the local markets, one per (CP, Period), each with its request (the
 *     DSO's latest FlexRequest revision), the platform's broadcast copies,
 *     prognoses, offers in arrival order and orders.
 * Every offer and request owns one fx_arena holding its strings and arrays,
 * so it is freed in one call. Object ids (MessageIDs) are indexed in one
 * table so that references resolve without scanning markets.
 *
 * Memory is bounded by the live markets, not by history. A market is live
 * (hot) while its Period is at most MK_HOT_DAYS before the platform's clock
 * day (the latest receive or command time the market has seen); older
 * markets are cold: they stay in the store and are read from it in place
 * when a message names them (mk_market_get), when a reference by id alone
 * reaches them (mk_id_lookup), or when the settlement run or the query API
 * needs them. A cold market read for a message lives until the end of its
 * group; after every commit cold markets, their ids and the metering index
 * of cold days leave memory (mk_evict). Restart reads the hot markets only:
 * the counters "mk.clock" (the clock day) and "mk.last.<CP hash>" (the last
 * Period with a market at that CP) say which. */
#ifndef FX_ENGINE_MARKET_INT_H
#define FX_ENGINE_MARKET_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "codec/codec.h"
#include "engine/calendar.h"
#include "engine/clear.h"
#include "engine/clear_runner.h"
#include "engine/config.h"
#include "engine/settle.h"
#include "engine/market.h"
#include "engine/respond.h"
#include "engine/validate.h"
#include "store/store.h"

#define MK_OPEN_END INT32_MAX /* validity without an EndPeriod */
/* Markets whose Period is this many days before the clock day or later stay
 * in memory: today and tomorrow trade, yesterday and the day before still get
 * late FlexOrderResponses and most Metering. */
#define MK_HOT_DAYS 2
/* How far back (days before the hot window) a reference by id alone, such as
 * a late FlexOrderResponse, is looked for in the store: two months, the time
 * until the monthly settlement has covered a day. */
#define MK_COLD_LOOKBACK 62
#define MK_ADDR 256
#define MK_DOMAIN 254

/* Phrases the market adds beside engine/validate.h's. */
#define MK_R_UNAUTHORIZED "Unauthorized"
#define MK_R_SUBORDINATE "Subordinate sequence number"
#define MK_R_NO_CONNECTIONS "No connections available"
#define MK_R_LACKING_REQUESTED "Lacking Requested Disposition"
#define MK_R_REQUESTED_POWER "Requested Power discrepancy"
#define MK_R_POWER_DISCREPANCY "Power discrepancy"
#define MK_R_LACKING_ISPS "Lacking ISPs"
#define MK_R_POWER_VALUE "Power value rejection"
/* User defined (the spec allows "any other reasonable cause"), in the style of
 * the one above: a Price beyond what the clearing computes exactly. */
#define MK_R_PRICE_VALUE "Price value rejection"
#define MK_R_UNKNOWN_FR "Unknown FlexRequestMessageID reference"
#define MK_R_UNKNOWN_DP "Unknown D-PrognosisMessageID reference"
#define MK_R_UNKNOWN_FO "Unknown FlexOfferMessageID reference"
#define MK_R_UNKNOWN_ORDER "Unknown FlexOrderMessageID reference"
#define MK_R_PERIOD_MISMATCH "Reference Period mismatch"
#define MK_R_EXPIRED "Reference message expired"
#define MK_R_REVOKED "Reference message revoked"
#define MK_R_REQUEST_MISMATCH "Request mismatch"
#define MK_R_NO_MUTEX "No MutEx offer support"
#define MK_R_NO_BASELINE "No baseline"
#define MK_R_PROCURED "Flexibility procured"
#define MK_R_CURRENCY "Currency mismatch"
/* Operate and settle (user-defined phrases where the catalog names none). */
#define MK_R_UNKNOWN_CONNECTION "Unknown connection"
#define MK_R_NOT_OWNED "Connection not owned by sender"
#define MK_R_UNIT "Unit rejected"
#define MK_R_NO_POWER_PROFILE "Lacking Power profile"
#define MK_R_DUPLICATE_PROFILE "Duplicate profile"
#define MK_R_UNKNOWN_CONTRACT "Unknown ContractID"
#define MK_R_CONTRACT_NOT_MET "Contract not met"
#define MK_R_UNKNOWN_FRU "Unknown FlexReservationUpdateMessageID reference"
#define MK_R_UNKNOWN_FS "Unknown FlexSettlementMessageID reference"
#define MK_R_UNKNOWN_ORDER_REF "Unknown OrderReference"
#define MK_R_ANSWERED "Already answered"

/* ---- common reference ---- */
struct mk_cp {
  char addr[MK_ADDR];
  char dso[MK_DOMAIN];
  int32_t from, to; /* Periods [from, to) */
  bool mutex;
  uint8_t day_ahead, intraday; /* enum fx_redispatch */
  struct mk_conn *conns;        /* connections the DSO placed here (by hh_cp) */
  UT_hash_handle hh;
};

struct mk_conn {
  char ea[MK_ADDR];
  bool has_cp, has_agr;
  char cp[MK_ADDR]; /* the DSO's side */
  int32_t cp_from, cp_to;
  char agr[MK_DOMAIN]; /* the AGR's side */
  int32_t agr_from, agr_to;
  struct mk_cp *at; /* the CP whose `conns` holds it, or NULL */
  UT_hash_handle hh, hh_cp;
};

struct mk_sender { /* last portfolio update per (domain, role) */
  char key[MK_DOMAIN + 4];
  int64_t ts_us;
  UT_hash_handle hh;
};

/* ---- markets ---- */
struct mk_request { /* one DSO FlexRequest revision */
  fx_arena *arena;
  struct fx_uuid id, conv;
  char dso[MK_DOMAIN];
  int64_t revision, t_us, expires_us;
  uint8_t state;
  struct fx_clear_isp *isps; /* n_isps of the market, by ISP index */
  const struct fx_msg *msg;  /* the DSO's message, kept for broadcasts */
  struct mk_request *prev;   /* older revisions */
};

struct mk_bcast { /* the platform's copy of a request, sent to one AGR */
  struct fx_uuid id, request;
  char agr[MK_DOMAIN];
  int response; /* 0 none, 1 accepted, 2 rejected */
  struct mk_bcast *next;
};

struct mk_prognosis {
  struct fx_uuid id;
  char agr[MK_DOMAIN];
  int64_t revision;
  struct mk_prognosis *next;
};

struct mk_offer {
  fx_arena *arena;
  struct fx_uuid id, conv;
  char agr[MK_DOMAIN];
  int64_t t_us, expires_us;
  uint8_t state;
  const struct fx_msg *msg;           /* the AGR's FlexOffer (in arena) */
  struct fx_clear_option *options;    /* solver view, one per OfferOption */
};

struct mk_order {
  struct fx_uuid id;
  size_t offer; /* index into the market's offers */
  int option, factor;
  int64_t price;
  uint8_t state;
  char agr[MK_DOMAIN];
  char reference[40];
  int64_t placed_us; /* when it was placed: its reply deadline counts from here */
};

struct mk_market {
  char key[MK_ADDR + 16];
  char cp[MK_ADDR];
  int32_t period;
  int n_isps;
  struct mk_request *req; /* latest revision or NULL */
  struct mk_bcast *bcasts;
  struct mk_prognosis *progs;
  struct mk_offer **offers; size_t n_offers, cap_offers;
  struct mk_order *orders; size_t n_orders, cap_orders;
  bool cleared;       /* cleared at least once for the current revision, and no
                         re-clearing asked for since (see asked) */
  /* Re-clearings asked for (a clearing started off the thread, a rejected or
   * expired order) and answered (a result committed): both kept in store
   * counters with the group that asked or answered, so a restart finds the
   * market due while asked > answered (market_clear.c). */
  uint64_t asked, answered;
  uint64_t gen;       /* changes whenever the live orders (the base) may have */
  bool evict;         /* being evicted (mk_evict) */
  /* Clearings that failed in a row (the solver or its snapshot), and when
   * the next try is due: the market waits for its clearing until then
   * (market_clear.c, back-off). In memory: a restart tries at once. */
  int clear_fails;
  int64_t retry_us;
  /* Its next deadline (market.c, "the deadline"): cached, recomputed after
   * a commit only when a group marked it (mk_deadline_mark). */
  int64_t due_us;            /* INT64_MAX: none */
  size_t heap_at;            /* 1 + its index in the deadline heap, 0: not in it */
  struct mk_market *dl_next; /* the marked list */
  bool dl_marked;
  int64_t coverage, need, cost;
  double coverage_gap, cost_gap;
  UT_hash_handle hh;
};

/* What a MessageID names. */
enum mk_id_kind { MK_ID_REQUEST = 1, MK_ID_BCAST, MK_ID_PROGNOSIS, MK_ID_OFFER, MK_ID_ORDER, MK_ID_OTHER };
struct mk_id {
  struct fx_uuid id;
  uint8_t kind;
  struct mk_market *market;
  void *obj;     /* request, bcast, prognosis; offers and orders by index */
  size_t index;
  UT_hash_handle hh;
};

/* ---- operate and settle ---- */
struct mk_meter { /* latest Metering revision per (connection, Period) */
  char key[MK_ADDR + 16];
  int32_t period;
  int64_t revision;
  UT_hash_handle hh;
};

struct mk_resv { /* current reservation per (contract, Period) */
  char key[160];
  const struct fx_contract_cfg *contract;
  int32_t period;
  int n_isps;
  int64_t *power;        /* by ISP index; the contract's until an update */
  struct fx_uuid update; /* latest FlexReservationUpdate sent, or zero */
  int64_t t_us;          /* when it was sent */
  int response;          /* 0 none, 1 accepted, 2 rejected */
  UT_hash_handle hh;
};

struct mk_settlement { /* one FlexSettlement the platform sent */
  struct fx_uuid id;
  char agr[MK_DOMAIN];
  int32_t from, to;
  uint8_t state; /* FX_SETTLE_SENT, _ACCEPTED, _REJECTED */
  UT_hash_handle hh;
};

struct fx_market {
  const struct fx_config *cfg;
  struct fx_store *st;
  struct fx_calendar *cal;
  int64_t isp_us;
  fx_reader *reader;
  struct fx_store_read rd; /* for reloading after a failed commit */
  struct mk_cp *cps;
  struct mk_conn *conns;
  struct mk_sender *senders;
  struct mk_market *markets;
  struct mk_id *ids;
  _Atomic int64_t deadline;
  /* The deadline's bookkeeping (market.c): a min-heap by due_us of the hot
   * markets that have a deadline, and the markets the current group marked. */
  struct mk_market **dl_heap;
  size_t dl_n, dl_cap;
  struct mk_market *dl_marked;
  bool dl_degraded; /* the heap could not grow: every market is scanned */
  /* the hot window (see the top of this file) */
  struct fx_seq_ctx *ctx;   /* the group being applied, or NULL between groups */
  int32_t clock_day;        /* the latest day seen (INT32_MIN: none yet) */
  int32_t clock_stored;     /* the clock day the store's "mk.clock" holds */
  int32_t live_from;        /* markets of earlier Periods are cold */
  size_t n_cold;            /* cold markets read into memory since the last commit */
  bool index_pending;       /* a store from before the counters: write them at the next group */
  struct mk_meter *meters;
  struct mk_resv *resvs;
  struct mk_settlement *settlements;
  /* Clearing off the sequencer thread (market_clear.c); runner NULL: inline. */
  struct fx_clear_runner *runner;
  struct fx_sequencer *_Atomic seq; /* where solved clearings come back as commands */
  struct mk_job *clearing;    /* markets being cleared, by key (sequencer thread) */
  uint64_t gen_seq;           /* the last mk_market.gen handed out (never reused, reloads too) */
  /* Orders that expired unanswered (market_trade.c): counted once their group
   * commits, so a failed group that is applied again counts them once. */
  struct fx_counter *expired_metric; /* NULL: not exported */
  uint64_t expired_pending;          /* expired in the group being applied */
  /* Clearings that failed (market_clear.c), counted the same way. */
  struct fx_counter *clear_failed_metric;
  uint64_t clear_failed_pending;
  unsigned fail_inline; /* tests: the next n clearings on this thread fail (fx_market_clearing_fail) */
};

/* market.c */
struct mk_market *mk_market_get(struct fx_market *mk, const char *cp, int32_t period, bool create);
int mk_id_add(struct fx_market *mk, const struct fx_uuid *id, uint8_t kind, struct mk_market *m, void *obj,
              size_t index);
struct mk_id *mk_id_find(struct fx_market *mk, const struct fx_uuid *id);
int32_t mk_today(struct fx_market *mk, int64_t now_us);
int64_t mk_clearing_time(struct fx_market *mk, const struct mk_market *m);
/* The deadline (fx_market_next_deadline) is the earliest over the hot markets
 * of: the clearing time of a market that waits for its clearing
 * (mk_clearing_due_at), and the reply deadline of its placed orders. Every
 * change to what that depends on (the request or its state, m->cleared and
 * the asks, the clearing under way, the orders or their states, a failed
 * clearing's back-off) marks its market in the group that makes it; after
 * the commit only marked markets are looked at again. */
void mk_deadline_mark(struct fx_market *mk, struct mk_market *m);
/* Recomputes every market's deadline (start, a reload after a failed commit,
 * the hot window moving on, a configuration change that moves gate closures
 * or order_response_timeout) and publishes it. Sequencer thread, between
 * groups. */
void mk_refresh_deadline(struct fx_market *mk);
/* The deadline by its definition, every market and order scanned: what the
 * cached one must equal after each commit (the fallback when the heap cannot
 * grow, and the tests' reference). */
int64_t mk_deadline_scan(struct fx_market *mk);
bool mk_is_registered(const struct fx_market *mk, const char *domain, enum fx_role role);
/* Writes m as XML into ctx's group memory; NULL on failure. */
const void *mk_body_xml(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, size_t *len);
int mk_load(struct fx_market *mk);
void mk_unload(struct fx_market *mk);
/* A group (message or command) starts on the sequencer thread: the market
 * advances its clock and may read cold markets through ctx until mk_group_end. */
void mk_group_begin(struct fx_market *mk, struct fx_seq_ctx *ctx);
void mk_group_end(struct fx_market *mk);
/* The object `id` of `kind` owned by `owner`: from memory, else looked for in
 * the cold markets of the owner's congestion points (MK_COLD_LOOKBACK days
 * before the hot window), which are then read into memory. NULL if unknown. */
struct mk_id *mk_id_lookup(struct fx_market *mk, const struct fx_uuid *id, uint8_t kind, const char *owner);
/* Notes that (cp, period) has a market, so a restart finds it. */
void mk_note_market(struct fx_market *mk, const char *cp, int32_t period);
/* The counter naming the last Period with a market at cp ("mk.last." + hash);
 * counters hold day numbers as mk_day_counter (they never lower). */
void mk_cp_counter(const char *cp, char out[48]);
#define MK_CLOCK_COUNTER "mk.clock"
static inline uint64_t mk_day_counter(int32_t day) { return (uint64_t)((int64_t)day + 2147483648LL); }
static inline int32_t mk_counter_day(uint64_t v) { return (int32_t)((int64_t)v - 2147483648LL); }

/* market_load.c */
/* Reads market m's objects (cp, period) from rd and indexes their ids. */
int mk_market_fill(struct fx_market *mk, struct fx_store_read *rd, struct mk_market *m);
void mk_market_free(struct mk_market *m);
/* After a commit: frees the cold markets, their ids and cold metering. */
void mk_evict(struct fx_market *mk);

/* market_cro.c */
bool mk_cp_active(const struct mk_cp *cp, int32_t period);
struct mk_cp *mk_cp_find(struct fx_market *mk, const char *addr);
bool mk_agr_active_at(struct fx_market *mk, const char *agr, const char *cp, int32_t period);
void mk_cro_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v,
                  struct fx_msg *resp);
int mk_cro_load_ref(struct fx_market *mk, const struct fx_store_ref_view *rv);

/* market_trade.c */
/* The request's ISPs by index (UNCONSTRAINED where it lists none). */
void mk_request_isps(struct fx_clear_isp *out, const struct fx_flex_request *fr, int n_isps);
void mk_trade_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v,
                    struct fx_msg *resp);
/* Builds the in-memory objects from a stored message (restart). */
struct mk_request *mk_request_from_msg(struct fx_market *mk, struct mk_market *m, const struct fx_msg *src,
                                       const char *dso, int64_t t_us, uint8_t state);
struct mk_offer *mk_offer_from_msg(struct fx_market *mk, struct mk_market *m, const struct fx_msg *src,
                                   const char *agr, int64_t t_us, uint8_t state);
void mk_request_free(struct mk_request *r);
void mk_offer_free(struct mk_offer *o);
int mk_market_push_offer(struct mk_market *m, struct mk_offer *o);
int mk_market_push_order(struct mk_market *m, const struct mk_order *o);

void mk_set_state(struct fx_seq_ctx *ctx, const struct mk_market *m, uint8_t kind, const struct fx_uuid *id,
                  uint8_t to);
/* Reply deadlines (CONFORMANCE A6): every placed FlexOrder whose
 * order_response_timeout has passed at now_us becomes expired, and its market
 * is cleared again as after a Rejected FlexOrderResponse. */
void mk_expire_orders(struct fx_market *mk, struct fx_seq_ctx *ctx, int64_t now_us);
/* When order o stops waiting for its response; INT64_MAX: never. */
int64_t mk_order_deadline(const struct fx_market *mk, const struct mk_order *o);
/* Whether an order in state s counts: placed or accepted, not rejected or
 * expired (clearing base, settlement, query totals). */
static inline bool mk_order_state_live(uint8_t s) { return s == FX_ORDER_PLACED || s == FX_ORDER_ACCEPTED; }

/* market_clear.c */
/* Clears market m at now_us (what is still needed beyond placed orders);
 * returns the number of orders placed, or -1. With a clearing thread it only
 * starts the clearing (a snapshot for the thread) and returns 0; a market
 * already being cleared is cleared again once that result is in. */
int mk_clear_market(struct fx_market *mk, struct fx_seq_ctx *ctx, struct mk_market *m, int64_t now_us);
/* Whether market m is being cleared off the sequencer thread. */
bool mk_clearing(struct fx_market *mk, const struct mk_market *m);
/* Whether m waits for its clearing: a request not superseded or expired, not
 * cleared (or asked to be cleared again), no clearing under way. */
bool mk_clearing_due(struct fx_market *mk, const struct mk_market *m);
/* When a due market (mk_clearing_due) is to be cleared: its clearing time,
 * or at once when it was cleared and asked to be cleared again. */
int64_t mk_clearing_due_at(struct fx_market *mk, const struct mk_market *m);
/* m's live orders changed (placed, rejected, expired, read again). */
void mk_orders_changed(struct fx_market *mk, struct mk_market *m);
/* After m was read from the store: its re-clearing counters (rd open). */
int mk_reclear_read(struct fx_market *mk, struct fx_store_read *rd, struct mk_market *m);
struct mk_job;
/* fx_market_free: stops the clearing thread (if fx_market_clearing_stop did
 * not) and forgets the marks. */
void mk_clearing_free(struct fx_market *mk);
/* Fills the solver's view of m (request, open offers, base). Arrays are malloc'd
 * into *mm; free with mk_clear_view_free. `idx` maps solver offers to m's. */
struct mk_clear_view {
  struct fx_clear_market cm;
  struct fx_clear_offer *offers;
  size_t *idx;
  int64_t *base;
};
int mk_clear_view(struct mk_market *m, int64_t now_us, const char *currency, struct mk_clear_view *cv);
void mk_clear_view_free(struct mk_clear_view *cv);
/* Maps a FlexOffer's options onto the market's ISP indices (in o's arena). */
int mk_offer_options(struct mk_offer *o, int n_isps);
struct fx_clear_option *mk_option_view(fx_arena *arena, const struct fx_flex_offer *fo, int n_isps);
/* A FlexOrder for option `opt` of `offer` at `factor` (hundredths), from
 * `platform`, in the offer's conversation; arrays in arena a. */
int mk_build_order(const char *platform, int64_t now_us, fx_arena *a, const struct fx_msg *offer, int opt,
                   int factor, struct fx_msg *out);
void mk_order_from_msg(struct fx_market *mk, struct mk_market *m, const struct fx_msg *src, uint8_t state);

/* ---- operate and settle: object bodies --------------------------------------
 * Bodies the settle phase writes (all little-endian, read in place):
 *   METERING   obj (connection's CP or "", Period, Metering MessageID), owner AGR,
 *              revision; body = profile: "W" 1 u16 n  u32 0  then n × i64 W,
 *              then the connection's EntityAddress NUL
 *   PROGNOSIS  obj (CP, Period, fx_uuid_derive("flexd.baseline", D-Prognosis id)),
 *              ref = the D-Prognosis, owner AGR; body = profile ("W"), the
 *              prognosis power per ISP (MK_NO_VALUE where it gives none)
 *   REQUEST    body "U…": a FlexReservationUpdate the platform sent
 *              (id = its MessageID, owner AGR, revision = 0): "U" 1 u16 n u32 0,
 *              n × i64 W, contract ID NUL; body "V1"/"V2"+reason: the AGR's
 *              response (id = response MessageID, ref = the update)
 *   SETTLEMENT cp "" and Period = PeriodStart of the run: "H…" one FlexSettlement,
 *              "I…" one order's settlement (ref = the FlexSettlement), "N…" a
 *              note (dispute or rejection reason; ref = what it is about).
 *              market_settle.c documents the H and I layouts. */
#define MK_NO_VALUE INT64_MIN
#define MK_PROFILE_HDR 8u

static inline void mk_st32(uint8_t *p, uint32_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  memcpy(p, &v, 4);
}
static inline void mk_st64(uint8_t *p, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  memcpy(p, &v, 8);
}
/* A profile body ("W" or "U") of n values, `tail` bytes after them, in group memory. */
uint8_t *mk_profile_new(struct fx_seq_ctx *ctx, char magic, int n, size_t tail, size_t *len);
/* n and the values of a profile body; 0, or -1 when it is not one of `magic`. */
int mk_profile_view(const uint8_t *b, size_t len, char magic, int *n, const uint8_t **vals);
static inline int64_t mk_profile_at(const uint8_t *vals, int i) { return (int64_t)fx_ld64(vals + 8 * (size_t)i); }

/* market_metering.c */
void mk_metering_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg, struct fx_verdict *v);
/* After an accepted D-Prognosis: its powers as a baseline object. */
void mk_baseline_store(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg);
int mk_meter_note(struct fx_market *mk, const char *ea, int32_t period, int64_t revision);
/* The latest accepted Metering revision of connection c (address ea) for
 * period: the index, else (a cold day) the store; 0 when there is none. */
int64_t mk_meter_latest(struct fx_market *mk, const struct mk_conn *c, const char *ea, int32_t period);
/* Forgets the index entries of Periods before `before`. */
void mk_meter_evict(struct fx_market *mk, int32_t before);
/* "E1234567890123456" → "ean.1234567890123456"; -1 when it is no EAN. */
int mk_ean_address(const char *ean, char out[MK_ADDR]);

/* market_prognosis.c */
/* After an accepted D-Prognosis: the FlexOrderStatus list of its response. */
void mk_prognosis_order_status(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                               struct fx_msg *resp);

/* market_settle.c */
void mk_settle_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg, struct fx_verdict *v);
int mk_settle_load(struct fx_market *mk, const struct fx_store_obj_view *v);
void mk_settle_unload(struct fx_market *mk);
/* Forgets the FlexSettlements kept in memory (the store has them). */
void mk_settle_evict(struct fx_market *mk);

/* market_contract.c */
void mk_reservation_response(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                             struct fx_verdict *v);
/* Before a FlexOffer with a ContractID reaches market_trade.c. */
void mk_contract_check_offer(struct fx_market *mk, const struct fx_msg *msg, struct fx_verdict *v);
struct mk_resv *mk_resv_get(struct fx_market *mk, const struct fx_contract_cfg *c, int32_t period, bool create);
int mk_contract_load(struct fx_market *mk, const struct fx_store_obj_view *v);
void mk_contract_unload(struct fx_market *mk);
/* An OfferOption's power at ISP number `isp` (1-based), 0 where it lists none. */
int64_t mk_option_power(const struct fx_offer_option *o, int64_t isp);
/* The contract ISP values of (c, period) at ISP index i (0-based) for settlement. */
int mk_contract_isp_in(struct fx_market *mk, const struct fx_contract_cfg *c, int32_t period, int i,
                       struct fx_settle_contract_isp_in *in);

#endif
