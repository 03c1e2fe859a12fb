/* test_validate.c — the stateless generic checks, one test per rejection reason
 * (message-validation.md), on messages read by the real codec. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "engine/calendar.h"
#include "engine/validate.h"

/* Messages are "received" at 2026-06-15T12:00+02:00. */
#define NOW_US (((int64_t)fx_days_from_civil(2026, 6, 15) * 86400 + 10 * 3600) * 1000000)

static struct fx_calendar *ams;
static struct fx_validator *val;
static fx_reader *rd;

static void setup(void) {
  ams = fx_calendar_new("Europe/Amsterdam");
  cr_assert_not_null(ams);
  struct fx_rules rules = {.platform_domain = "flexd.example.org",
                           .isp = {0, 15LL * 60 * 1000000},
                           .market = ams};
  val = fx_validator_new(&rules);
  rd = fx_reader_new(NULL);
  cr_assert(val && rd);
}

static void teardown(void) {
  fx_validator_free(val);
  fx_calendar_free(ams);
  fx_reader_free(rd);
}

TestSuite(validate, .init = setup, .fini = teardown);

/* A FlexOffer with the given pieces substituted into a valid template. */
struct offer {
  const char *version, *sender, *recipient, *isp_duration, *tz, *period, *expiry, *isps;
};

static const struct fx_msg *offer(struct offer o) {
  static char xml[8192];
  snprintf(xml, sizeof xml,
           "<FlexOffer Version=\"%s\" SenderDomain=\"%s\" RecipientDomain=\"%s\" "
           "TimeStamp=\"2026-06-15T11:59:00+02:00\" MessageID=\"1590f8ac-f802-5c83-8d64-7aa2aab283da\" "
           "ConversationID=\"85e91502-f9f7-5f99-b25c-52861d87be20\" ISP-Duration=\"%s\" TimeZone=\"%s\" "
           "Period=\"%s\" CongestionPoint=\"ean.871685900012345678\" ExpirationDateTime=\"%s\" Currency=\"EUR\">"
           "<OfferOption OptionReference=\"A\" Price=\"125.50\">%s</OfferOption></FlexOffer>",
           o.version ? o.version : "3.1.0", o.sender ? o.sender : "agr.example.com",
           o.recipient ? o.recipient : "flexd.example.org", o.isp_duration ? o.isp_duration : "PT15M",
           o.tz ? o.tz : "Europe/Amsterdam", o.period ? o.period : "2026-06-16",
           o.expiry ? o.expiry : "2026-06-15T15:00:00+02:00",
           o.isps ? o.isps : "<ISP Power=\"-1000\" Start=\"69\" Duration=\"4\"/>");
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(rd, xml, strlen(xml), &m, &err), 0, "template unreadable: %s %s", err.where, err.why);
  return m;
}

static const char *verdict(const struct fx_msg *m, const char *env_domain, enum fx_role role) {
  static struct fx_verdict v;
  fx_verdict_clear(&v);
  fx_validate_generic(val, m, env_domain, role, NOW_US, &v);
  return v.text;
}

static const char *offer_verdict(struct offer o) { return verdict(offer(o), "agr.example.com", FX_ROLE_AGR); }

Test(validate, a_good_offer_is_accepted) {
  cr_assert_str_empty(offer_verdict((struct offer){0}));
}

Test(validate, mismatch_sender_domain) {
  cr_assert_str_eq(verdict(offer((struct offer){0}), "other.example.com", FX_ROLE_AGR), "Mismatch SenderDomain");
}

Test(validate, invalid_sender_role) {
  cr_assert_str_eq(verdict(offer((struct offer){0}), "agr.example.com", FX_ROLE_DSO), "Invalid SenderRole");
  cr_assert(fx_sender_roles(FX_MSG_FLEX_REQUEST) == 1u << FX_ROLE_DSO);
  cr_assert(fx_sender_roles(FX_MSG_TEST_MESSAGE) & (1u << FX_ROLE_CRO));
}

Test(validate, unknown_recipient_domain) {
  cr_assert_str_eq(offer_verdict((struct offer){.recipient = "dso.example.com"}), "Unknown RecipientDomain");
}

Test(validate, unsupported_version) {
  cr_assert_str_eq(offer_verdict((struct offer){.version = "2.0.0"}), "Unsupported Version");
  cr_assert_str_eq(offer_verdict((struct offer){.version = "3.2.0"}), "Unsupported Version");
  cr_assert_str_empty(offer_verdict((struct offer){.version = "3.0.0"}));
}

Test(validate, isp_duration_rejected) {
  cr_assert_str_eq(offer_verdict((struct offer){.isp_duration = "PT5M"}), "ISP duration rejected");
}

Test(validate, timezone_rejected_by_offset_not_by_name) {
  cr_assert_str_eq(offer_verdict((struct offer){.tz = "Europe/London"}), "TimeZone rejected");
  cr_assert_str_eq(offer_verdict((struct offer){.tz = "Europe/Nowhere"}), "TimeZone rejected");
  cr_assert_str_empty(offer_verdict((struct offer){.tz = "Europe/Berlin"}), "same offsets as the market");
}

Test(validate, isps_out_of_bounds_on_ordinary_and_dst_days) {
  cr_assert_str_eq(offer_verdict((struct offer){.isps = "<ISP Power=\"1\" Start=\"96\" Duration=\"2\"/>"}),
                   "ISPs out of bounds");
  cr_assert_str_empty(offer_verdict((struct offer){.isps = "<ISP Power=\"1\" Start=\"96\"/>"}));
  /* 2026-10-25 has 100 ISPs in Amsterdam, 2027-03-28 has 92. */
  cr_assert_str_empty(offer_verdict((struct offer){.period = "2026-10-25", .expiry = "2026-06-16T10:00:00+02:00",
                                                   .isps = "<ISP Power=\"1\" Start=\"100\"/>"}));
  cr_assert_str_eq(offer_verdict((struct offer){.period = "2027-03-28", .expiry = "2026-06-16T10:00:00+02:00",
                                                .isps = "<ISP Power=\"1\" Start=\"93\"/>"}),
                   "ISPs out of bounds");
}

Test(validate, isp_conflict) {
  cr_assert_str_eq(offer_verdict((struct offer){.isps = "<ISP Power=\"1\" Start=\"1\" Duration=\"4\"/>"
                                                        "<ISP Power=\"1\" Start=\"2\"/>"}),
                   "ISP conflict");
  cr_assert_str_eq(offer_verdict((struct offer){.isps = "<ISP Power=\"1\" Start=\"9\"/><ISP Power=\"1\" Start=\"3\"/>"
                                                        "<ISP Power=\"1\" Start=\"9\"/>"}),
                   "ISP conflict", "unsorted duplicates are found too");
  cr_assert_str_empty(offer_verdict((struct offer){.isps = "<ISP Power=\"1\" Start=\"5\"/><ISP Power=\"1\" Start=\"1\" Duration=\"4\"/>"}));
}

Test(validate, period_out_of_bounds) {
  cr_assert(strstr(offer_verdict((struct offer){.period = "2026-06-14"}), "Period out of bounds"));
  cr_assert_str_empty(offer_verdict((struct offer){.period = "2026-06-15", .expiry = "2026-06-15T13:00:00+02:00"}),
                      "today is still tradable");
}

Test(validate, expiration_out_of_bounds) {
  cr_assert_str_eq(offer_verdict((struct offer){.expiry = "2026-06-15T11:00:00+02:00"}),
                   "ExpirationDateTime out of bounds", "in the past");
  /* ISPs 69..72 of 2026-06-16 end at 18:00 local time. */
  cr_assert_str_eq(offer_verdict((struct offer){.expiry = "2026-06-16T18:00:01+02:00"}),
                   "ExpirationDateTime out of bounds", "beyond the ISPs");
  cr_assert_str_empty(offer_verdict((struct offer){.expiry = "2026-06-16T18:00:00+02:00"}));
}

Test(validate, several_reasons_are_joined_with_semicolons) {
  cr_assert_str_eq(verdict(offer((struct offer){.recipient = "x.example.com", .isp_duration = "PT30M"}),
                           "other.example.com", FX_ROLE_AGR),
                   "Mismatch SenderDomain;Unknown RecipientDomain;ISP duration rejected");
}

Test(validate, verdict_keeps_each_phrase_once) {
  struct fx_verdict v;
  fx_verdict_clear(&v);
  fx_verdict_add(&v, "ISP conflict");
  fx_verdict_add(&v, "ISP conflict");
  fx_verdict_add(&v, "ISPs out of bounds");
  cr_assert_str_eq(v.text, "ISP conflict;ISPs out of bounds");
}
