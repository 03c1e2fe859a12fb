/* uftp.h — the UFTP messages of the bench workloads, and the judge of the platform's
 * answers.
 *
 * Messages are built with the codec's model and writer (so they are what a
 * conforming peer sends), sealed with the sending AGR's key into a SignedMessage, and
 * wrapped into a complete HTTP request — all before the measured window. Each kind
 * of message has an outcome the platform must answer it with; an outcome is a small
 * number, (response type, verdict), that fx_bench_judge() computes from a response
 * after opening it with the platform's public key, so the workload compares numbers.
 *
 * Dates: every flex message is for tomorrow in the market time zone
 * (Europe/Amsterdam, PT15M ISPs: 96 a day, 92 or 100 on DST days), and a FlexOffer
 * expires one hour after tomorrow's midnight, which is after any run and before the
 * end of any ISP it offers. */
#ifndef FX_BENCH_UFTP_H
#define FX_BENCH_UFTP_H

#include <stddef.h>
#include <stdint.h>

#include "bench/harness/async.h"
#include "bench/harness/load.h"
#include "bench/harness/platform.h"
#include "codec/codec.h"

/* What the platform should find wrong with a message (each gives exactly one
 * rejection reason). */
enum fx_bench_flaw {
  FX_FLAW_NONE = 0,
  FX_FLAW_ISP_CONFLICT,  /* two ISPs at the same Start: "ISP conflict" */
  FX_FLAW_TIME_ZONE,     /* Europe/London: "TimeZone rejected" */
  FX_FLAW_ISPS_OOB,      /* an ISP after the day's last: "ISPs out of bounds" */
  FX_FLAW_RECIPIENT,     /* addressed to another domain: "Unknown RecipientDomain" */
  FX_FLAW_VERSION,       /* Version 4.0.0: "Unsupported Version" */
  FX_FLAW_PERIOD,        /* Metering of a day not over yet: "Period out of bounds" */
  FX_FLAW_UNKNOWN_CP,    /* a CP nobody published: "Invalid CongestionPoint" */
  FX_FLAW_UNKNOWN_REF,   /* FlexOfferRevocation of an offer never sent:
                            "Unknown FlexOfferMessageID reference" */
  FX_FLAW_COUNT
};

/* How the platform answered, as judged from its response. */
enum fx_bench_verdict {
  FX_VERDICT_ANSWERED = 0, /* a response without Result (TestMessageResponse) */
  FX_VERDICT_ACCEPTED,
  FX_VERDICT_ALREADY_SUBMITTED,
  FX_VERDICT_DUPLICATE_IDENTIFIER,
  FX_VERDICT_ISP_CONFLICT,
  FX_VERDICT_TIME_ZONE,
  FX_VERDICT_ISPS_OOB,
  FX_VERDICT_RECIPIENT,
  FX_VERDICT_VERSION,
  FX_VERDICT_PERIOD_OOB,
  FX_VERDICT_INVALID_CP,
  FX_VERDICT_UNKNOWN_OFFER,
  FX_VERDICT_OTHER, /* rejected for a reason nothing here expects */
  FX_VERDICT_COUNT
};

/* An outcome: the response type and the verdict in one number (>= 0). */
int fx_bench_outcome(enum fx_msg_type response_type, enum fx_bench_verdict v);
/* "FlexOfferResponse Rejected (ISP conflict)" into buf. */
void fx_bench_outcome_name(int outcome, char *buf, size_t cap);

/* One message to build. Flex messages name congestion point `cp` of the bench grid:
 * CP i is published by the DSO with one connection of every AGR (fx_bench_cp_address,
 * fx_bench_conn_address), so every AGR may trade on every CP. */
struct fx_bench_msg {
  enum fx_msg_type type; /* see model() in uftp.c for the types it builds */
  unsigned n_isps;       /* ISPs of the FlexOffer's option or the D-Prognosis */
  enum fx_bench_flaw flaw;
  const struct fx_uuid *message_id; /* NULL = a fresh one; else reuse (Duplicate Identifier) */
  unsigned price_step;   /* added to the FlexOffer's price in cents (other content) */
  unsigned cp;           /* flex messages: the congestion point's index */
  unsigned first_cp, n_cps; /* portfolio updates: the CPs [first_cp, first_cp + n_cps) */
  unsigned agr;          /* DSOPortfolioUpdate: connections of AGRs [0, agr) at each CP */
  int64_t revision;      /* D-Prognosis, FlexRequest; 0 = 1 */
  int64_t need_w;        /* FlexRequest: downward power needed on each Requested ISP */
  const struct fx_uuid *ref; /* FlexOffer: the FlexRequestMessageID (solicited);
                                FlexOfferRevocation: the offer; FlexRequestResponse and
                                FlexOrderResponse: what they answer */
  const struct fx_uuid *baseline;     /* FlexOffer: D-PrognosisMessageID, NULL = none */
  const struct fx_uuid *conversation; /* NULL = a fresh ConversationID */
  int64_t timestamp_us;  /* 0 = now */
  int day_offset;        /* Metering, AGRPortfolioQuery, DSOPortfolioQuery: days added to
                            the builder's Period (-1 = the day before it) */
  int64_t expiry_us;     /* FlexRequest: ExpirationDateTime; 0 = the Period's midnight */
};

struct fx_bench_msgs;

/* A builder for messages to `plat` about the Period `days_ahead` days after today in
 * the market zone (1 = tomorrow): its date, ISP count and expiries. NULL with a
 * reason on failure. */
struct fx_bench_msgs *fx_bench_msgs_new(const struct fx_bench_platform *plat, int days_ahead,
                                        char *err, size_t errlen);
void fx_bench_msgs_free(struct fx_bench_msgs *b);

/* ISPs of the Period (96, or 92/100 on a DST day): the most a whole-day message has. */
unsigned fx_bench_msgs_day_isps(const struct fx_bench_msgs *b);
/* The Period as YYYY-MM-DD; _shifted: `days` later (negative: earlier). */
void fx_bench_msgs_period(const struct fx_bench_msgs *b, char out[FX_DATE_STRLEN]);
void fx_bench_msgs_period_shifted(const struct fx_bench_msgs *b, int days, char out[FX_DATE_STRLEN]);
/* Days from today (in the market zone) to the Period. */
int fx_bench_msgs_days_ahead(const struct fx_bench_msgs *b);

/* The grid's addresses: CP `cp`, and AGR `agr`'s connection at it (`ean.` + 16 digits,
 * so that Metering can name it as EAN `E` + the same 16 digits). */
void fx_bench_cp_address(unsigned cp, char out[32]);
void fx_bench_conn_address(unsigned cp, unsigned agr, char out[32]);
/* The index of a grid CP address, or -1. */
long fx_bench_cp_index(const char *address);

/* What a built message is, for expecting its answer. */
struct fx_bench_built {
  struct fx_uuid message_id;
  char key[FX_UUID_STRLEN]; /* what the response names: MessageID, or ConversationID
                               for a TestMessage (its response has no reference) */
  int outcome;              /* the answer it must get, when it is the first of its ID;
                               -1 for a response (nothing answers it) */
  size_t inner_len;         /* bytes of the inner XML (what crypto_sign_open hashes) */
};

/* Builds `m` as sent by `from` (in its role), seals it and writes the HTTP POST to
 * host:port into `req`. -1 with a reason on failure. */
int fx_bench_msgs_build(struct fx_bench_msgs *b, const struct fx_bench_msg *m,
                        const struct fx_bench_party *from, const char *host, int port,
                        struct fx_req *req, struct fx_bench_built *out, char *err,
                        size_t errlen);

/* Bytes of the platform's signed-over response to a small FlexOffer (Accepted):
 * the response size of the ceiling. */
size_t fx_bench_msgs_response_len(struct fx_bench_msgs *b);

/* The judge: opens a response with the platform's key for the role it claims, and
 * requires that role to be the one the platform answers in: the CRO for portfolio
 * messages, the AGR-side counterpart towards the DSO, the DSO's market towards an
 * AGR. Returns the outcome, or FX_ASYNC_FORGED (-1) when the envelope, the sender,
 * the role or the signature is wrong. Usable as an fx_async_judge_fn with the builder
 * as `user`. */
int fx_bench_judge(void *builder, const struct fx_sink_ids *ids, const char *body, size_t len);

/* What the platform sends on its own to an AGR (a FlexRequest copy, a FlexOrder),
 * opened and verified like a response (signed as the DSO's market). */
struct fx_bench_inbound {
  enum fx_msg_type type;
  struct fx_uuid message_id, conversation_id;
  struct fx_uuid offer_id;  /* FlexOrder: FlexOfferMessageID */
  char recipient[64];       /* the AGR */
  long cp;                  /* grid index of its CongestionPoint, -1 if not ours */
  fx_factor factor;         /* FlexOrder: ActivationFactor */
};
/* 0, or FX_ASYNC_FORGED when it is not the platform's authentic message. */
int fx_bench_open(struct fx_bench_msgs *b, const char *body, size_t len, struct fx_bench_inbound *out);

#endif
