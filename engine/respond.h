/* respond.h — building the UFTP response to an inbound message.
 *
 * Every UFTP request type has one response type that names the request in a
 * per-type reference attribute (FlexOfferResponse@FlexOfferMessageID, ...) and
 * copies its ConversationID. The sequencer decides Result and RejectionReason;
 * this module fills in the rest, so that every response flexd sends has the same
 * metadata rules. Response types themselves are never answered. */
#ifndef FX_ENGINE_RESPOND_H
#define FX_ENGINE_RESPOND_H

#include <stdint.h>

#include "codec/codec.h"

/* The response type for request type t, or FX_MSG_NONE when t is a response
 * (or otherwise never answered). */
enum fx_msg_type fx_response_type(enum fx_msg_type t);

/* The role flexd signs as when it answers a message of type t sent by a party of
 * role `from`: the CRO for portfolio messages, the DSO's market towards AGRs,
 * an AGR-side counterpart towards DSOs. */
enum fx_role fx_platform_role(enum fx_msg_type t, enum fx_role from);

/* Fills *out (zeroed first) as the response to `req`: Version 3.1.0, sender
 * `platform_domain`, recipient req's sender, a MessageID derived from req's
 * and `now_us` (the receive time), req's
 * ConversationID, TimeStamp `now_us` (UTC), the reference attribute, Result,
 * and RejectionReason when `reason` is non-empty. Type-specific content
 * (D-Prognosis FlexOrderStatus, portfolio query results) is the caller's to add.
 * Returns -1 when req's type is not answered. */
int fx_response_init(struct fx_msg *out, const struct fx_msg *req, const char *platform_domain,
                     int64_t now_us, const char *reason);

/* A fresh random (version 4) UUID. */
void fx_uuid_random(struct fx_uuid *u);

/* A UUID derived from what caused a message (RFC 9562 version 8): BLAKE2b of
 * `tag`, `from` and `salt` (may be NULL). Deterministic, so a replay of the
 * journal produces the same MessageIDs. */
void fx_uuid_derive(struct fx_uuid *out, const char *tag, const struct fx_uuid *from, const char *salt);

#endif
