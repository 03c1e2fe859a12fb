/* test_codec_reject.c — one test per constraint kind the UFTP 3.1.0 schema
 * expresses: a valid document is broken in exactly that way, and the reader
 * must reject it naming the place (err.where) and the rule (err.why). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

#define HDR(root)                                                                                  \
  "<" root " Version=\"3.1.0\" SenderDomain=\"agr.example.com\" RecipientDomain=\"dso.example.com\"" \
  " TimeStamp=\"2025-03-01T10:00:00+01:00\" MessageID=\"6f1c2d3e-1111-4222-8333-944455556666\""      \
  " ConversationID=\"6f1c2d3e-1111-4222-8333-944455556667\""
#define FLEX " ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\" CongestionPoint=\"ean.871685900012345678\""

static const char offer[] =
    HDR("FlexOffer") FLEX " ExpirationDateTime=\"2025-03-01T18:00:00Z\" Currency=\"EUR\">"
    "<OfferOption OptionReference=\"A\" Price=\"10.5\" MinActivationFactor=\"0.50\">"
    "<ISP Power=\"100\" Start=\"1\"/><ISP Power=\"200\" Start=\"2\" Duration=\"2\"/></OfferOption>"
    "<OfferOption OptionReference=\"B\" Price=\"11\">"
    "<ISP Power=\"100\" Start=\"1\"/><ISP Power=\"200\" Start=\"2\"/><ISP Power=\"300\" Start=\"3\"/></OfferOption>"
    "</FlexOffer>";

static const char request[] =
    HDR("FlexRequest") FLEX " Revision=\"1\" ExpirationDateTime=\"2025-03-01T18:00:00Z\">"
    "<ISP Disposition=\"Requested\" MinPower=\"-100\" MaxPower=\"0\" Start=\"1\"/></FlexRequest>";

static const char prognosis[] = HDR("D-Prognosis") FLEX " Revision=\"3\"><ISP Power=\"1\" Start=\"1\"/></D-Prognosis>";

static const char metering[] =
    HDR("Metering") " Revision=\"1\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\""
    " EAN=\"E1234567890123456\"><Profile ProfileType=\"Power\" Unit=\"kW\"><ISP Start=\"1\" Value=\"1.5\"/>"
    "</Profile></Metering>";

static const char dpq_response[] =
    HDR("DSOPortfolioQueryResponse") " Result=\"Accepted\" DSOPortfolioQueryMessageID=\"6f1c2d3e-1111-4222-8333-944455556668\""
    " TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\">"
    "<CongestionPoint EntityAddress=\"ean.871685900012345678\"><Connection EntityAddress=\"ean.123456789012\"/>"
    "</CongestionPoint></DSOPortfolioQueryResponse>";

static const char settlement[] =
    HDR("FlexSettlement") " Result=\"Accepted\" PeriodStart=\"2025-02-01\" PeriodEnd=\"2025-02-28\" Currency=\"EUR\">"
    "<FlexOrderSettlement Period=\"2025-02-03\" CongestionPoint=\"ean.871685900012345678\" Price=\"1\" NetSettlement=\"1\">"
    "<ISP Start=\"1\" BaselinePower=\"0\" OrderedFlexPower=\"1\" ActualPower=\"1\" DeliveredFlexPower=\"1\"/>"
    "</FlexOrderSettlement><ContractSettlement><Period Period=\"2025-02-03\"><ISP Start=\"1\" ReservedPower=\"5\"/>"
    "</Period></ContractSettlement></FlexSettlement>";

/* base with the first occurrence of `from` replaced by `to` (must exist). */
static char *mutate(const char *base, const char *from, const char *to) {
  const char *at = strstr(base, from);
  cr_assert_not_null(at, "test bug: '%s' not in the base document", from);
  size_t n = strlen(base) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  size_t pre = (size_t)(at - base);
  memcpy(out, base, pre);
  strcpy(out + pre, to);
  strcat(out, at + strlen(from));
  return out;
}

static void expect_ok(const char *xml) {
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, xml, strlen(xml), &m, &err), 0, "valid base rejected: %s: %s", err.where, err.why);
  fx_reader_free(r);
}

static void expect_reject(const char *xml, int code, const char *where, const char *why) {
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m = NULL;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, xml, strlen(xml), &m, &err), -1, "accepted: %s", xml);
  cr_expect_eq(err.code, code, "code %s, expected %s (%s: %s)", fx_err_name(err.code), fx_err_name(code), err.where,
               err.why);
  cr_expect_str_eq(err.where, where);
  cr_expect(strstr(err.why, why) != NULL, "why '%s' does not mention '%s'", err.why, why);
  fx_reader_free(r);
}

static void reject_mutation(const char *base, const char *from, const char *to, int code, const char *where,
                            const char *why) {
  char *x = mutate(base, from, to);
  expect_reject(x, code, where, why);
  free(x);
}

Test(reject, base_documents_are_valid) {
  expect_ok(offer);
  expect_ok(request);
  expect_ok(prognosis);
  expect_ok(metering);
  expect_ok(dpq_response);
  expect_ok(settlement);
}

Test(reject, missing_required_attribute) {
  reject_mutation(offer, " Currency=\"EUR\"", "", FX_E_REQUIRED, "FlexOffer@Currency", "required attribute missing");
  reject_mutation(offer, "<ISP Power=\"300\" Start=\"3\"/>", "<ISP Start=\"3\"/>", FX_E_REQUIRED,
                  "FlexOffer/OfferOption[2]/ISP[3]@Power", "required attribute missing");
}

Test(reject, bad_uuid) {
  reject_mutation(offer, "6f1c2d3e-1111-4222-8333-944455556666", "6f1c2d3e-1111-4222-8333-94445555666g",
                  FX_E_VALUE, "FlexOffer@MessageID", "pattern UUIDType");
  reject_mutation(offer, "6f1c2d3e-1111-4222-8333-944455556666", "{6f1c2d3e-1111-4222-8333-944455556666}",
                  FX_E_VALUE, "FlexOffer@MessageID", "pattern UUIDType");
}

Test(reject, bad_internet_domain) {
  reject_mutation(offer, "agr.example.com", "Agr.example.com", FX_E_VALUE, "FlexOffer@SenderDomain",
                  "pattern InternetDomainType");
  reject_mutation(offer, "agr.example.com", "agr-.example.com", FX_E_VALUE, "FlexOffer@SenderDomain",
                  "pattern InternetDomainType");
  reject_mutation(offer, "dso.example.com", "localhost", FX_E_VALUE, "FlexOffer@RecipientDomain",
                  "pattern InternetDomainType");
}

Test(reject, bad_entity_address) {
  reject_mutation(offer, "ean.871685900012345678", "ean.12345678901", FX_E_VALUE, "FlexOffer@CongestionPoint",
                  "pattern EntityAddressType");
  reject_mutation(offer, "ean.871685900012345678", "ea1.2020-1.x:y", FX_E_VALUE, "FlexOffer@CongestionPoint",
                  "pattern EntityAddressType");
  reject_mutation(offer, "ean.871685900012345678", "ea1.2020-01.nocolon", FX_E_VALUE, "FlexOffer@CongestionPoint",
                  "pattern EntityAddressType");
}

Test(reject, bad_ean) {
  reject_mutation(metering, "E1234567890123456", "E123456789012345", FX_E_VALUE, "Metering@EAN", "pattern EANType");
  reject_mutation(metering, "E1234567890123456", "X1234567890123456", FX_E_VALUE, "Metering@EAN", "pattern EANType");
}

Test(reject, bad_currency) {
  reject_mutation(offer, "Currency=\"EUR\"", "Currency=\"eur\"", FX_E_VALUE, "FlexOffer@Currency",
                  "pattern ISO4217CurrencyType");
  reject_mutation(offer, "Currency=\"EUR\"", "Currency=\"EURO\"", FX_E_VALUE, "FlexOffer@Currency",
                  "pattern ISO4217CurrencyType");
}

Test(reject, bad_timezone_name) {
  reject_mutation(offer, "Europe/Amsterdam", "Asia/Tokyo", FX_E_VALUE, "FlexOffer@TimeZone",
                  "pattern TimeZoneNameType");
  reject_mutation(offer, "Europe/Amsterdam", "Europe/Am", FX_E_VALUE, "FlexOffer@TimeZone",
                  "pattern TimeZoneNameType");
}

Test(reject, datetime_without_offset) {
  reject_mutation(offer, "2025-03-01T10:00:00+01:00", "2025-03-01T10:00:00", FX_E_VALUE, "FlexOffer@TimeStamp",
                  "without time zone offset");
  reject_mutation(offer, "2025-03-01T18:00:00Z", "2025-03-01T18:00:00.5", FX_E_VALUE,
                  "FlexOffer@ExpirationDateTime", "without time zone offset");
}

Test(reject, bad_datetime) {
  reject_mutation(offer, "2025-03-01T10:00:00+01:00", "2025-03-01T25:00:00+01:00", FX_E_VALUE,
                  "FlexOffer@TimeStamp", "no such time of day");
  reject_mutation(offer, "2025-03-01T10:00:00+01:00", "2025-03-01T10:00:00+15:00", FX_E_VALUE,
                  "FlexOffer@TimeStamp", "bad time zone offset");
}

Test(reject, bad_date) {
  reject_mutation(offer, "Period=\"2025-03-02\"", "Period=\"2025-02-30\"", FX_E_VALUE, "FlexOffer@Period",
                  "no such calendar date");
  reject_mutation(offer, "Period=\"2025-03-02\"", "Period=\"2025-3-02\"", FX_E_VALUE, "FlexOffer@Period",
                  "not a date");
  reject_mutation(offer, "Period=\"2025-03-02\"", "Period=\"2100-02-29\"", FX_E_VALUE, "FlexOffer@Period",
                  "no such calendar date");
}

Test(reject, bad_duration) {
  reject_mutation(offer, "PT15M", "15M", FX_E_VALUE, "FlexOffer@ISP-Duration", "not an xs:duration");
  reject_mutation(offer, "PT15M", "PT", FX_E_VALUE, "FlexOffer@ISP-Duration", "not an xs:duration");
  reject_mutation(offer, "PT15M", "P5D1Y", FX_E_VALUE, "FlexOffer@ISP-Duration", "not an xs:duration");
}

Test(reject, money_with_more_than_four_fraction_digits) {
  reject_mutation(offer, "Price=\"10.5\"", "Price=\"10.12345\"", FX_E_VALUE, "FlexOffer/OfferOption[1]@Price",
                  "fractionDigits > 4");
}

Test(reject, money_trailing_zeros_do_not_count_as_fraction_digits) {
  char *x = mutate(offer, "Price=\"10.5\"", "Price=\"10.50000000\"");
  expect_ok(x);
  free(x);
}

Test(reject, activation_factor_zero) {
  reject_mutation(offer, "MinActivationFactor=\"0.50\"", "MinActivationFactor=\"0.00\"", FX_E_VALUE,
                  "FlexOffer/OfferOption[1]@MinActivationFactor", "minInclusive 0.01");
}

Test(reject, activation_factor_above_one) {
  reject_mutation(offer, "MinActivationFactor=\"0.50\"", "MinActivationFactor=\"1.01\"", FX_E_VALUE,
                  "FlexOffer/OfferOption[1]@MinActivationFactor", "maxInclusive 1.00");
}

Test(reject, activation_factor_three_fraction_digits) {
  reject_mutation(offer, "MinActivationFactor=\"0.50\"", "MinActivationFactor=\"0.505\"", FX_E_VALUE,
                  "FlexOffer/OfferOption[1]@MinActivationFactor", "fractionDigits > 2");
}

Test(reject, bad_enumeration) {
  reject_mutation(request, "Disposition=\"Requested\"", "Disposition=\"requested\"", FX_E_VALUE,
                  "FlexRequest/ISP[1]@Disposition", "enumeration AvailableRequestedType");
  reject_mutation(dpq_response, "Result=\"Accepted\"", "Result=\"OK\"", FX_E_VALUE,
                  "DSOPortfolioQueryResponse@Result", "enumeration AcceptedRejectedType");
}

Test(reject, bad_boolean) {
  reject_mutation(offer, " Currency=\"EUR\"", " Currency=\"EUR\" Unsolicited=\"yes\"", FX_E_VALUE,
                  "FlexOffer@Unsolicited", "not a boolean");
  reject_mutation(offer, " Currency=\"EUR\"", " Currency=\"EUR\" Unsolicited=\"True\"", FX_E_VALUE,
                  "FlexOffer@Unsolicited", "not a boolean");
}

Test(reject, long_overflow) {
  reject_mutation(prognosis, "Revision=\"3\"", "Revision=\"9223372036854775808\"", FX_E_VALUE,
                  "D-Prognosis@Revision", "xs:long out of range");
}

Test(reject, integer_beyond_int64_is_a_range_error) {
  reject_mutation(prognosis, "Power=\"1\"", "Power=\"-9223372036854775809\"", FX_E_RANGE,
                  "D-Prognosis/ISP[1]@Power", "64-bit");
}

Test(reject, not_an_integer) {
  reject_mutation(prognosis, "Power=\"1\"", "Power=\"1.0\"", FX_E_VALUE, "D-Prognosis/ISP[1]@Power",
                  "not an integer");
}

Test(reject, positive_integer_zero) {
  reject_mutation(offer, "<ISP Power=\"100\" Start=\"1\"/>", "<ISP Power=\"100\" Start=\"0\"/>", FX_E_VALUE,
                  "FlexOffer/OfferOption[1]/ISP[1]@Start", "positiveInteger < 1");
  reject_mutation(offer, "Duration=\"2\"", "Duration=\"0\"", FX_E_VALUE, "FlexOffer/OfferOption[1]/ISP[2]@Duration",
                  "positiveInteger < 1");
}

Test(reject, decimal_beyond_eighteen_digits) {
  reject_mutation(metering, "Value=\"1.5\"", "Value=\"1234567890.1234567891\"", FX_E_RANGE,
                  "Metering/Profile[1]/ISP[1]@Value", "18 significant digits");
}

Test(reject, min_occurs_violated) {
  char *x = mutate(offer, "<OfferOption OptionReference=\"A\"", "<!--");
  char *y = mutate(x, "</OfferOption><OfferOption OptionReference=\"B\" Price=\"11\">", "-->");
  char *z = mutate(y, "<ISP Power=\"100\" Start=\"1\"/><ISP Power=\"200\" Start=\"2\"/><ISP Power=\"300\" Start=\"3\"/></OfferOption>", "");
  expect_reject(z, FX_E_CARDINALITY, "FlexOffer/OfferOption", "minOccurs 1 of element OfferOption");
  free(x);
  free(y);
  free(z);
  reject_mutation(settlement, "<ContractSettlement>", "</FlexSettlement><!--", FX_E_CARDINALITY,
                  "FlexSettlement/ContractSettlement", "minOccurs 1 of element ContractSettlement");
}

Test(reject, max_occurs_violated) {
  const char *cp = "<CongestionPoint EntityAddress=\"ean.871685900012345678\"><Connection EntityAddress=\"ean.123456789012\"/></CongestionPoint>";
  char twice[512];
  snprintf(twice, sizeof twice, "%s%s", cp, cp);
  reject_mutation(dpq_response, cp, twice, FX_E_CARDINALITY, "DSOPortfolioQueryResponse/CongestionPoint[2]",
                  "maxOccurs 1 of element CongestionPoint exceeded");
}

Test(reject, sequence_order_violated) {
  const char *fos = strstr(settlement, "<FlexOrderSettlement");
  const char *cs = strstr(settlement, "<ContractSettlement>");
  const char *end = strstr(settlement, "</FlexSettlement>");
  char x[2048];
  snprintf(x, sizeof x, "%.*s%.*s%.*s%s", (int)(fos - settlement), settlement, (int)(end - cs), cs, (int)(cs - fos),
           fos, end);
  expect_reject(x, FX_E_CARDINALITY, "FlexSettlement/ContractSettlement[1]", "minOccurs 1 of element FlexOrderSettlement not met before ContractSettlement");
  char *y = mutate(settlement, "</ContractSettlement>", "</ContractSettlement><FlexOrderSettlement/>");
  expect_reject(y, FX_E_ELEMENT, "FlexSettlement/FlexOrderSettlement[2]", "out of sequence order");
  free(y);
}

/* Seen from a stream, a required child that has not come before a later
 * sibling is missing or misplaced: the error names whichever it turns out
 * to be once the parent ends. */
Test(reject, missing_required_child_before_a_sibling_is_named_as_missing) {
  const char *fos = strstr(settlement, "<FlexOrderSettlement");
  const char *cs = strstr(settlement, "<ContractSettlement>");
  char x[2048];
  snprintf(x, sizeof x, "%.*s%s", (int)(fos - settlement), settlement, cs);
  expect_reject(x, FX_E_CARDINALITY, "FlexSettlement/FlexOrderSettlement",
                "minOccurs 1 of element FlexOrderSettlement not met before ContractSettlement");
}

Test(reject, unknown_element) {
  reject_mutation(offer, "</FlexOffer>", "<Foo/></FlexOffer>", FX_E_ELEMENT, "FlexOffer/Foo[1]", "unexpected element Foo");
  reject_mutation(offer, "<ISP Power=\"100\" Start=\"1\"/>", "<ISP Power=\"100\" Start=\"1\"><ISP Power=\"1\" Start=\"1\"/></ISP>",
                  FX_E_ELEMENT, "FlexOffer/OfferOption[1]/ISP[1]/ISP[1]", "unexpected element ISP");
}

Test(reject, unknown_attribute) {
  reject_mutation(offer, " Currency=\"EUR\"", " Currency=\"EUR\" Colour=\"red\"", FX_E_ATTRIBUTE,
                  "FlexOffer@Colour", "unknown attribute");
  reject_mutation(offer, " Currency=\"EUR\"", " xmlns:x=\"urn:x\" x:Currency=\"EUR\"", FX_E_ATTRIBUTE,
                  "FlexOffer@Currency", "unknown attribute");
}

Test(reject, xsi_schema_location_is_ignored) {
  char *x = mutate(offer, " Currency=\"EUR\"",
                   " Currency=\"EUR\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
                   " xsi:noNamespaceSchemaLocation=\"UFTP-agr.xsd\"");
  expect_ok(x);
  free(x);
}

Test(reject, wrong_root_element) {
  reject_mutation(offer, "<FlexOffer ", "<FlexOffers ", FX_E_ROOT, "FlexOffers", "not a UFTP 3.1.0 inner message");
  const char *signed_msg = "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"AGR\" Body=\"AAAA\"/>";
  expect_reject(signed_msg, FX_E_ROOT, "SignedMessage", "not a UFTP 3.1.0 inner message");
  fx_reader *r = fx_reader_new(NULL);
  struct fx_signed s;
  struct fx_error err;
  cr_assert_eq(fx_read_signed(r, offer, strlen(offer), &s, &err), -1);
  cr_expect_eq(err.code, FX_E_ROOT);
  cr_expect_str_eq(err.where, "FlexOffer");
  fx_reader_free(r);
}

Test(reject, unknown_root_element) {
  expect_reject("<FlexOfferz/>", FX_E_ROOT, "FlexOfferz", "not a UFTP 3.1.0 inner message");
}

Test(reject, element_in_a_namespace) {
  reject_mutation(offer, "<FlexOffer ", "<FlexOffer xmlns=\"urn:uftp\" ", FX_E_ELEMENT, "FlexOffer",
                  "namespace");
}

Test(reject, character_data_in_element_only_content) {
  reject_mutation(offer, "</OfferOption>", "text</OfferOption>", FX_E_TEXT, "FlexOffer/OfferOption[1]",
                  "character data not allowed");
  reject_mutation(offer, "</OfferOption>", "<![CDATA[x]]></OfferOption>", FX_E_TEXT, "FlexOffer/OfferOption[1]",
                  "character data not allowed");
  char *x = mutate(offer, "</OfferOption>", " \n\t<!-- comment --><?pi x?></OfferOption>");
  expect_ok(x); /* whitespace, comments and processing instructions are fine */
  free(x);
}

Test(reject, not_well_formed) {
  reject_mutation(offer, "</FlexOffer>", "</FlexOfer>", FX_E_XML, "FlexOffer", "");
  expect_reject("", FX_E_XML, "", "");
}

Test(reject, signed_message_bad_body_and_role) {
  fx_reader *r = fx_reader_new(NULL);
  struct fx_signed s;
  struct fx_error err;
  const char *bad_body = "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"AGR\" Body=\"AAA*\"/>";
  cr_assert_eq(fx_read_signed(r, bad_body, strlen(bad_body), &s, &err), -1);
  cr_expect_eq(err.code, FX_E_VALUE);
  cr_expect_str_eq(err.where, "SignedMessage@Body");
  const char *bad_role = "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"BRP\" Body=\"AAAA\"/>";
  cr_assert_eq(fx_read_signed(r, bad_role, strlen(bad_role), &s, &err), -1);
  cr_expect_str_eq(err.where, "SignedMessage@SenderRole");
  cr_expect(strstr(err.why, "enumeration USEF-RoleType"));
  const char *ok = "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"DSO\" Body=\" QUJD\nREVG \"/>";
  cr_assert_eq(fx_read_signed(r, ok, strlen(ok), &s, &err), 0, "%s: %s", err.where, err.why);
  cr_expect_eq(s.sender_role, FX_ROLE_DSO);
  fx_reader_free(r);
}

Test(reject, reader_is_reusable_after_an_error) {
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  char *bad = mutate(offer, "Price=\"10.5\"", "Price=\"x\"");
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(fx_read_msg(r, bad, strlen(bad), &m, &err), -1);
    cr_assert_eq(fx_read_msg(r, offer, strlen(offer), &m, &err), 0, "%s: %s", err.where, err.why);
    cr_assert_eq(m->u.flex_offer.n_offer_options, 2);
    cr_assert_eq(m->u.flex_offer.offer_options[1].isps[2].power, 300);
  }
  free(bad);
  fx_reader_free(r);
}

/* The writer applies the same rules: it refuses a model the XSD would refuse. */
Test(reject, writer_refuses_invalid_models) {
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, offer, strlen(offer), &m, &err), 0);
  struct fx_msg copy = *m;
  struct fx_buf buf;
  fx_buf_init(&buf);
  copy.hdr.sender_domain = "not a domain";
  cr_assert_eq(fx_write_msg(&copy, &buf, &err), -1);
  cr_expect_str_eq(err.where, "FlexOffer@SenderDomain");
  cr_expect_eq(buf.len, 0, "nothing written on error");
  copy = *m;
  copy.u.flex_offer.currency = NULL;
  cr_assert_eq(fx_write_msg(&copy, &buf, &err), -1);
  cr_expect_eq(err.code, FX_E_REQUIRED);
  copy = *m;
  copy.u.flex_offer.n_offer_options = 0;
  cr_assert_eq(fx_write_msg(&copy, &buf, &err), -1);
  cr_expect_eq(err.code, FX_E_CARDINALITY);
  copy = *m;
  struct fx_offer_option opt = m->u.flex_offer.offer_options[0];
  opt.min_activation_factor = 101;
  copy.u.flex_offer.offer_options = &opt;
  copy.u.flex_offer.n_offer_options = 1;
  cr_assert_eq(fx_write_msg(&copy, &buf, &err), -1);
  cr_expect_str_eq(err.where, "FlexOffer/OfferOption[1]@MinActivationFactor");
  copy = *m;
  copy.u.flex_offer.baseline_reference = "bad\x01control";
  cr_assert_eq(fx_write_msg(&copy, &buf, &err), -1);
  cr_expect_str_eq(err.where, "FlexOffer@BaselineReference");
  fx_buf_free(&buf);
  fx_reader_free(r);
}
