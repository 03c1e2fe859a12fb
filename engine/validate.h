/* validate.h — the generic UFTP checks that need no market state.
 *
 * docs/use-case-descriptions/message-validation.md lists the rejection reasons
 * every recipient applies. Those that depend only on the message, the envelope,
 * the platform's identity and the market rules run here, on the worker threads,
 * so the sequencer only does what needs state (duplicates, references, the
 * common reference, revisions). Each failed check adds its spec phrase to a
 * verdict; several are joined by ";" as the spec asks.
 *
 * Time enters only through `now_us`, the instant the message was received, which
 * the journal records, so replaying a message gives the same verdict. */
#ifndef FX_ENGINE_VALIDATE_H
#define FX_ENGINE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

struct fx_calendar;

/* The spec's phrases, exactly (CONFORMANCE.md: emit the canonical phrase). */
#define FX_R_MISMATCH_SENDER_DOMAIN "Mismatch SenderDomain"
#define FX_R_INVALID_SENDER_ROLE "Invalid SenderRole"
#define FX_R_UNKNOWN_RECIPIENT "Unknown RecipientDomain"
#define FX_R_BARRED_SENDER "Barred Sender"
#define FX_R_DUPLICATE_IDENTIFIER "Duplicate Identifier"
#define FX_R_ALREADY_SUBMITTED "Already Submitted"
#define FX_R_ISP_DURATION "ISP duration rejected"
#define FX_R_TIME_ZONE "TimeZone rejected"
#define FX_R_ISPS_OUT_OF_BOUNDS "ISPs out of bounds"
#define FX_R_ISP_CONFLICT "ISP conflict"
#define FX_R_PERIOD_OUT_OF_BOUNDS "Period out of bounds"
#define FX_R_EXPIRATION_OUT_OF_BOUNDS "ExpirationDateTime out of bounds"
#define FX_R_INVALID_CONGESTION_POINT "Invalid CongestionPoint"
#define FX_R_INVALID_MESSAGE "Invalid Message"
/* The spec promises "a rejection reason" for an invalid Version but names none. */
#define FX_R_UNSUPPORTED_VERSION "Unsupported Version"

/* A verdict: empty means accepted. Phrases are kept once each, in the order
 * they were added. */
struct fx_verdict {
  char text[512];
  size_t len;
};

void fx_verdict_clear(struct fx_verdict *v);
/* Adds a phrase unless already present; a phrase that does not fit is dropped
 * (the first reasons are the ones a peer needs). */
void fx_verdict_add(struct fx_verdict *v, const char *phrase);
static inline bool fx_verdict_ok(const struct fx_verdict *v) { return v->len == 0; }

/* Market rules the checks apply. */
struct fx_rules {
  const char *platform_domain;   /* the only RecipientDomain flexd serves */
  struct fx_duration isp;        /* the market's ISP-Duration */
  struct fx_calendar *market;    /* the market time zone (owned by the caller) */
};

/* Per-thread state: a cache of the time zones messages name, so that
 * "TimeZone rejected" compares offsets without re-reading the tz database. */
struct fx_validator;
struct fx_validator *fx_validator_new(const struct fx_rules *rules);
void fx_validator_free(struct fx_validator *v);

/* The roles UFTP lets send message type `t`, as a bit mask of 1u << enum fx_role. */
unsigned fx_sender_roles(enum fx_msg_type t);

/* Runs every stateless generic check on inner message `m`, received at `now_us`
 * in an envelope from (env_domain, env_role), and adds the failures to `out`. */
void fx_validate_generic(struct fx_validator *v, const struct fx_msg *m, const char *env_domain,
                         enum fx_role env_role, int64_t now_us, struct fx_verdict *out);

#endif
