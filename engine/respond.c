/* respond.c — response metadata (see respond.h). */
#include "engine/respond.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

enum fx_msg_type fx_response_type(enum fx_msg_type t) {
  switch (t) {
  case FX_MSG_TEST_MESSAGE: return FX_MSG_TEST_MESSAGE_RESPONSE;
  case FX_MSG_AGR_PORTFOLIO_UPDATE: return FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE;
  case FX_MSG_AGR_PORTFOLIO_QUERY: return FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE;
  case FX_MSG_DSO_PORTFOLIO_UPDATE: return FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE;
  case FX_MSG_DSO_PORTFOLIO_QUERY: return FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE;
  case FX_MSG_FLEX_RESERVATION_UPDATE: return FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE;
  case FX_MSG_D_PROGNOSIS: return FX_MSG_D_PROGNOSIS_RESPONSE;
  case FX_MSG_FLEX_REQUEST: return FX_MSG_FLEX_REQUEST_RESPONSE;
  case FX_MSG_FLEX_OFFER: return FX_MSG_FLEX_OFFER_RESPONSE;
  case FX_MSG_FLEX_OFFER_REVOCATION: return FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE;
  case FX_MSG_FLEX_ORDER: return FX_MSG_FLEX_ORDER_RESPONSE;
  case FX_MSG_FLEX_SETTLEMENT: return FX_MSG_FLEX_SETTLEMENT_RESPONSE;
  case FX_MSG_METERING: return FX_MSG_METERING_RESPONSE;
  default: return FX_MSG_NONE;
  }
}

enum fx_role fx_platform_role(enum fx_msg_type t, enum fx_role from) {
  switch (t) {
  case FX_MSG_AGR_PORTFOLIO_UPDATE:
  case FX_MSG_AGR_PORTFOLIO_QUERY:
  case FX_MSG_DSO_PORTFOLIO_UPDATE:
  case FX_MSG_DSO_PORTFOLIO_QUERY:
    return FX_ROLE_CRO;
  default:
    /* Towards an AGR flexd is the DSO's market; towards a DSO (or the CRO)
     * it is the AGR-side counterpart. */
    return from == FX_ROLE_AGR ? FX_ROLE_DSO : FX_ROLE_AGR;
  }
}

void fx_uuid_derive(struct fx_uuid *out, const char *tag, const struct fx_uuid *from, const char *salt) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, 16);
  crypto_generichash_update(&st, (const unsigned char *)tag, strlen(tag) + 1);
  crypto_generichash_update(&st, from->b, 16);
  if (salt)
    crypto_generichash_update(&st, (const unsigned char *)salt, strlen(salt) + 1);
  crypto_generichash_final(&st, out->b, 16);
  out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x80); /* version 8: custom */
  out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
}

void fx_uuid_random(struct fx_uuid *u) {
  randombytes_buf(u->b, sizeof u->b);
  u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40); /* version 4 */
  u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

/* The reference attribute of each response type. */
static struct fx_uuid *reference_of(struct fx_msg *m) {
  switch (m->type) {
  case FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE: return &m->u.agr_portfolio_update_response.agr_portfolio_update_message_id;
  case FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE: return &m->u.agr_portfolio_query_response.agr_portfolio_query_message_id;
  case FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE:
    return &m->u.dso_portfolio_update_response.dso_portfolio_update_response_message_id;
  case FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE: return &m->u.dso_portfolio_query_response.dso_portfolio_query_message_id;
  case FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE:
    return &m->u.flex_reservation_update_response.flex_reservation_update_message_id;
  case FX_MSG_D_PROGNOSIS_RESPONSE: return &m->u.d_prognosis_response.d_prognosis_message_id;
  case FX_MSG_FLEX_REQUEST_RESPONSE: return &m->u.flex_request_response.flex_request_message_id;
  case FX_MSG_FLEX_OFFER_RESPONSE: return &m->u.flex_offer_response.flex_offer_message_id;
  case FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE:
    return &m->u.flex_offer_revocation_response.flex_offer_revocation_message_id;
  case FX_MSG_FLEX_ORDER_RESPONSE: return &m->u.flex_order_response.flex_order_message_id;
  case FX_MSG_FLEX_SETTLEMENT_RESPONSE: return &m->u.flex_settlement_response.flex_settlement_message_id;
  case FX_MSG_METERING_RESPONSE: return &m->u.metering_response.metering_message_id;
  default: return NULL;
  }
}

int fx_response_init(struct fx_msg *out, const struct fx_msg *req, const char *platform_domain,
                     int64_t now_us, const char *reason) {
  enum fx_msg_type t = fx_response_type(req->type);
  if (t == FX_MSG_NONE)
    return -1;
  memset(out, 0, sizeof *out);
  out->type = t;
  out->hdr.version = "3.1.0";
  out->hdr.sender_domain = platform_domain;
  out->hdr.recipient_domain = req->hdr.sender_domain;
  out->hdr.timestamp.usec = now_us;
  out->hdr.timestamp.offset_min = 0;
  /* Derived, not drawn: a replay of the journal answers with the same ids, and
   * no system call is spent per response. The receive time keeps the answer to
   * a repeated submission (Already Submitted) distinct from the first one. */
  char salt[300];
  snprintf(salt, sizeof salt, "%s/%lld", req->hdr.sender_domain, (long long)now_us);
  fx_uuid_derive(&out->hdr.message_id, "flexd.response", &req->hdr.message_id, salt);
  out->hdr.conversation_id = req->hdr.conversation_id;
  struct fx_uuid *ref = reference_of(out);
  if (ref)
    *ref = req->hdr.message_id;
  if (fx_msg_type_has_result(t)) {
    bool rejected = reason && reason[0];
    out->result = rejected ? FX_RESULT_REJECTED : FX_RESULT_ACCEPTED;
    out->rejection_reason = rejected ? reason : NULL;
  }
  return 0;
}
