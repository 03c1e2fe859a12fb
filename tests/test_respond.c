/* test_respond.c — response metadata: reference, conversation, derived ids. */
#include <criterion/criterion.h>
#include <string.h>

#include "codec/codec.h"
#include "engine/respond.h"

static const char *offer =
    "<FlexOfferRevocation Version=\"3.1.0\" SenderDomain=\"agr.example.com\" RecipientDomain=\"flexd.example.org\" "
    "TimeStamp=\"2026-01-01T00:00:00Z\" MessageID=\"11111111-1111-4111-8111-111111111111\" "
    "ConversationID=\"22222222-2222-4222-8222-222222222222\" FlexOfferMessageID=\"33333333-3333-4333-8333-333333333333\"/>";

Test(respond, a_response_names_the_request_and_keeps_the_conversation) {
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *req;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, offer, strlen(offer), &req, &err), 0, "%s", err.why);
  struct fx_msg a, b, c;
  cr_assert_eq(fx_response_init(&a, req, "flexd.example.org", 1000, "Flexibility procured"), 0);
  cr_assert_eq(a.type, FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE);
  cr_assert(fx_uuid_equal(&a.u.flex_offer_revocation_response.flex_offer_revocation_message_id, &req->hdr.message_id));
  cr_assert(fx_uuid_equal(&a.hdr.conversation_id, &req->hdr.conversation_id));
  cr_assert_str_eq(a.hdr.recipient_domain, "agr.example.com");
  cr_assert_eq(a.result, FX_RESULT_REJECTED);
  cr_assert_str_eq(a.rejection_reason, "Flexibility procured");
  /* Derived ids: the same inputs give the same id (replay), another receive
   * time another id (a repeated submission gets its own answer). */
  fx_response_init(&b, req, "flexd.example.org", 1000, NULL);
  fx_response_init(&c, req, "flexd.example.org", 1001, NULL);
  cr_assert(fx_uuid_equal(&a.hdr.message_id, &b.hdr.message_id));
  cr_assert(!fx_uuid_equal(&a.hdr.message_id, &c.hdr.message_id));
  cr_assert(!fx_uuid_equal(&a.hdr.message_id, &req->hdr.message_id));
  cr_assert_eq(b.result, FX_RESULT_ACCEPTED);
  cr_assert_null(b.rejection_reason);
  struct fx_buf out;
  fx_buf_init(&out);
  cr_assert_eq(fx_write_msg(&a, &out, &err), 0, "the response is schema-valid: %s %s", err.where, err.why);
  fx_buf_free(&out);
  fx_reader_free(r);
}

Test(respond, responses_are_not_answered) {
  cr_assert_eq(fx_response_type(FX_MSG_FLEX_OFFER_RESPONSE), FX_MSG_NONE);
  cr_assert_eq(fx_response_type(FX_MSG_TEST_MESSAGE), FX_MSG_TEST_MESSAGE_RESPONSE);
  cr_assert_eq(fx_platform_role(FX_MSG_AGR_PORTFOLIO_UPDATE, FX_ROLE_AGR), FX_ROLE_CRO);
  cr_assert_eq(fx_platform_role(FX_MSG_FLEX_REQUEST, FX_ROLE_DSO), FX_ROLE_AGR);
  cr_assert_eq(fx_platform_role(FX_MSG_FLEX_OFFER, FX_ROLE_AGR), FX_ROLE_DSO);
}
