/* test_codec_types.c — the value types on their own: exact parsing and
 * canonical formatting of UUIDs, dateTimes, dates, durations, money,
 * decimals, and the XSD string patterns. */
#include <criterion/criterion.h>
#include <string.h>

#include "codec/codec.h"

#define S(x) x, strlen(x)

Test(types, uuid_parses_any_case_and_writes_lowercase) {
  struct fx_uuid u, v;
  cr_assert_eq(fx_uuid_parse(S("6F1C2D3E-ABCD-4222-8333-944455556666"), &u, NULL), 0);
  cr_assert_eq(fx_uuid_parse(S("6f1c2d3e-abcd-4222-8333-944455556666"), &v, NULL), 0);
  cr_assert(fx_uuid_equal(&u, &v));
  char out[FX_UUID_STRLEN];
  cr_assert_eq(fx_uuid_format(&u, out), 36);
  cr_assert_str_eq(out, "6f1c2d3e-abcd-4222-8333-944455556666");
  cr_assert_neq(fx_uuid_parse(S("6f1c2d3e-abcd-4222-8333-94445555666"), &u, NULL), 0);
  cr_assert_neq(fx_uuid_parse(S("6f1c2d3eabcd-4222-8333-9444555566660"), &u, NULL), 0);
}

Test(types, datetime_keeps_instant_and_offset) {
  struct fx_datetime a, b;
  cr_assert_eq(fx_datetime_parse(S("2025-03-30T02:30:00+02:00"), &a, NULL), 0);
  cr_assert_eq(fx_datetime_parse(S("2025-03-30T00:30:00Z"), &b, NULL), 0);
  cr_assert_eq(a.usec, b.usec, "same instant");
  cr_assert_eq(a.offset_min, 120);
  char out[FX_DATETIME_STRLEN];
  fx_datetime_format(&a, out);
  cr_assert_str_eq(out, "2025-03-30T02:30:00+02:00");
  fx_datetime_format(&b, out);
  cr_assert_str_eq(out, "2025-03-30T00:30:00Z");
  cr_assert_eq(fx_datetime_parse(S("1970-01-01T00:00:00.000001-00:30"), &a, NULL), 0);
  cr_assert_eq(a.usec, 1 + 30 * 60 * INT64_C(1000000));
  fx_datetime_format(&a, out);
  cr_assert_str_eq(out, "1970-01-01T00:00:00.000001-00:30");
}

Test(types, datetime_end_of_day_and_precision) {
  struct fx_datetime a, b;
  cr_assert_eq(fx_datetime_parse(S("2024-12-31T24:00:00Z"), &a, NULL), 0);
  cr_assert_eq(fx_datetime_parse(S("2025-01-01T00:00:00Z"), &b, NULL), 0);
  cr_assert_eq(a.usec, b.usec);
  cr_assert_eq(fx_datetime_parse(S("2025-01-01T00:00:00.1234560Z"), &a, NULL), 0, "trailing zeros are exact");
  const char *why = NULL;
  cr_assert_eq(fx_datetime_parse(S("2025-01-01T00:00:00.1234567Z"), &a, &why), FX_E_RANGE);
  cr_assert_eq(fx_datetime_parse(S("2025-01-01T24:00:01Z"), &a, &why), FX_E_VALUE);
  cr_assert_eq(fx_datetime_parse(S("2025-01-01T00:00:00+14:01"), &a, &why), FX_E_VALUE);
  cr_assert_eq(fx_datetime_parse(S(" 2025-01-01T00:00:00Z\n"), &a, &why), 0, "whiteSpace collapse");
}

Test(types, dates_are_real_calendar_dates) {
  struct fx_date d;
  cr_assert_eq(fx_date_parse(S("2024-02-29"), &d, NULL), 0);
  cr_assert_eq(fx_date_parse(S("2000-02-29"), &d, NULL), 0);
  cr_assert_neq(fx_date_parse(S("1900-02-29"), &d, NULL), 0);
  cr_assert_neq(fx_date_parse(S("2025-02-30"), &d, NULL), 0);
  cr_assert_neq(fx_date_parse(S("2025-04-31"), &d, NULL), 0);
  cr_assert_neq(fx_date_parse(S("0000-01-01"), &d, NULL), 0);
  cr_assert_eq(fx_date_parse(S("2025-03-02+01:00"), &d, NULL), 0);
  cr_assert(d.has_tz);
  cr_assert_eq(d.tz_min, 60);
  char out[FX_DATE_STRLEN];
  fx_date_format(&d, out);
  cr_assert_str_eq(out, "2025-03-02+01:00");
  cr_assert_eq(fx_date_parse(S("1970-01-02"), &d, NULL), 0);
  cr_assert_eq(fx_date_to_days(&d), 1);
  struct fx_date e;
  fx_date_from_days(fx_date_to_days(&(struct fx_date){.year = 2028, .month = 2, .day = 29}) + 1, &e);
  cr_assert(e.year == 2028 && e.month == 3 && e.day == 1);
}

Test(types, durations_parse_and_write_canonically) {
  struct fx_duration d;
  char out[FX_DURATION_STRLEN];
  cr_assert_eq(fx_duration_parse(S("PT15M"), &d, NULL), 0);
  cr_assert_eq(d.months, 0);
  cr_assert_eq(d.usec, 900 * INT64_C(1000000));
  fx_duration_format(&d, out);
  cr_assert_str_eq(out, "PT15M");
  cr_assert_eq(fx_duration_parse(S("PT900S"), &d, NULL), 0);
  fx_duration_format(&d, out);
  cr_assert_str_eq(out, "PT15M", "the writer emits the canonical form");
  cr_assert_eq(fx_duration_parse(S("-P1Y2M3DT4H5M6.5S"), &d, NULL), 0);
  cr_assert_eq(d.months, -14);
  fx_duration_format(&d, out);
  cr_assert_str_eq(out, "-P1Y2M3DT4H5M6.5S");
  cr_assert_eq(fx_duration_parse(S("PT0S"), &d, NULL), 0);
  fx_duration_format(&d, out);
  cr_assert_str_eq(out, "PT0S");
  const char *bad[] = {"P", "PT", "P1H", "PT1D", "P1.5Y", "P-1D", "PT15m", "P1M1Y", "PT1M1H", "15M"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(fx_duration_parse(bad[i], strlen(bad[i]), &d, NULL), FX_E_VALUE, "%s accepted", bad[i]);
  cr_assert_eq(fx_duration_parse(S("PT99999999999999999999S"), &d, NULL), FX_E_RANGE);
}

Test(types, money_is_exact_in_ten_thousandths) {
  fx_money m;
  char out[FX_NUMBER_STRLEN];
  cr_assert_eq(fx_money_parse(S("12.34"), &m, NULL), 0);
  cr_assert_eq(m, 123400);
  cr_assert_eq(fx_money_parse(S("-0.0001"), &m, NULL), 0);
  cr_assert_eq(m, -1);
  cr_assert_eq(fx_money_parse(S(".5"), &m, NULL), 0);
  cr_assert_eq(m, 5000);
  cr_assert_eq(fx_money_parse(S("+7."), &m, NULL), 0);
  cr_assert_eq(m, 70000);
  cr_assert_eq(fx_money_parse(S("922337203685477.5807"), &m, NULL), 0);
  cr_assert_eq(m, INT64_MAX);
  cr_assert_eq(fx_money_parse(S("922337203685477.5808"), &m, NULL), FX_E_RANGE);
  cr_assert_eq(fx_money_parse(S("-922337203685477.5808"), &m, NULL), 0);
  cr_assert_eq(m, INT64_MIN);
  fx_money_format(INT64_MIN, out);
  cr_assert_str_eq(out, "-922337203685477.5808");
  fx_money_format(123400, out);
  cr_assert_str_eq(out, "12.34");
  fx_money_format(-5, out);
  cr_assert_str_eq(out, "-0.0005");
  const char *bad[] = {"", ".", "1e3", "1,5", "--1", "0x10", "1.2.3", "NaN"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(fx_money_parse(bad[i], strlen(bad[i]), &m, NULL), FX_E_VALUE, "'%s' accepted", bad[i]);
}

Test(types, decimals_keep_eighteen_digits_exactly) {
  struct fx_decimal d;
  char out[FX_NUMBER_STRLEN];
  cr_assert_eq(fx_decimal_parse(S("-0012.3400"), &d, NULL), 0);
  cr_assert_eq(d.mantissa, -1234);
  cr_assert_eq(d.scale, 2);
  fx_decimal_format(&d, out);
  cr_assert_str_eq(out, "-12.34");
  cr_assert_eq(fx_decimal_parse(S("0.000000000000000001"), &d, NULL), 0);
  cr_assert_eq(d.mantissa, 1);
  cr_assert_eq(d.scale, 18);
  cr_assert_eq(fx_decimal_parse(S("0.0000000000000000001"), &d, NULL), FX_E_RANGE);
  cr_assert_eq(fx_decimal_parse(S("999999999999999999"), &d, NULL), 0);
  cr_assert_eq(fx_decimal_parse(S("1000000000000000000"), &d, NULL), FX_E_RANGE);
  struct fx_decimal n = fx_decimal_normal((struct fx_decimal){1500, 3});
  cr_assert(n.mantissa == 15 && n.scale == 1);
}

static bool dom(const char *s) {
  struct fx_error e;
  struct fx_signed sm = {.sender_domain = s, .sender_role = FX_ROLE_AGR, .body = "AAAA"};
  struct fx_buf b;
  fx_buf_init(&b);
  int rc = fx_write_signed(&sm, &b, &e);
  fx_buf_free(&b);
  return rc == 0;
}

Test(types, internet_domain_pattern) {
  const char *good[] = {"example.com", "a.b.c.nl", "x-1.example.com", "1.example.org", "a-b-c.de"};
  const char *bad[] = {"example", "Example.com", "-a.com", "a-.com", "a--b.com", "a..com", ".a.com",
                       "a.c", "a.com.", "a.c0m", "a_b.com", "a.b.c1"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    cr_expect(dom(good[i]), "%s rejected", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect(!dom(bad[i]), "%s accepted", bad[i]);
}

Test(types, base64_lexical_space) {
  struct fx_signed sm = {.sender_domain = "a.example.com", .sender_role = FX_ROLE_CRO};
  struct fx_buf b;
  fx_buf_init(&b);
  struct fx_error e;
  const char *good[] = {"", "AAAA", "AA==", "AAA=", "QUJD REVG", "QQ==\n"};
  const char *bad[] = {"A", "AAA", "AB==", "AAB=", "A===", "AA=A", "****"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    sm.body = good[i];
    cr_expect_eq(fx_write_signed(&sm, &b, &e), 0, "'%s' rejected: %s", good[i], e.why);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sm.body = bad[i];
    cr_expect_eq(fx_write_signed(&sm, &b, &e), -1, "'%s' accepted", bad[i]);
  }
  fx_buf_free(&b);
}

Test(types, message_type_names_round_trip) {
  for (int t = FX_MSG_NONE + 1; t < FX_MSG__COUNT; t++) {
    const char *name = fx_msg_type_name((enum fx_msg_type)t);
    cr_assert_not_null(name);
    cr_assert_eq((int)fx_msg_type_from_name(name), t);
  }
  cr_assert_eq(fx_msg_type_from_name("flexoffer"), FX_MSG_NONE);
  cr_assert_str_eq(fx_msg_type_name(FX_MSG_D_PROGNOSIS), "D-Prognosis");
  cr_assert(fx_msg_type_has_result(FX_MSG_FLEX_SETTLEMENT));
  cr_assert(!fx_msg_type_has_result(FX_MSG_TEST_MESSAGE_RESPONSE));
  cr_assert_null(fx_msg_type_name(FX_MSG__COUNT));
}

Test(types, arena_cap_and_reset) {
  fx_arena *a = fx_arena_new(4096);
  cr_assert_not_null(fx_arena_alloc(a, 1000));
  cr_assert_null(fx_arena_alloc(a, 8192), "over the cap");
  cr_assert_eq(fx_arena_used(a), 1008);
  fx_arena_reset(a);
  cr_assert_eq(fx_arena_used(a), 0);
  char *s = fx_arena_strdup(a, "hello");
  cr_assert_str_eq(s, "hello");
  fx_arena_free(a);
}
