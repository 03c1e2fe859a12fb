/* test_calendar.c — market days, ISP counts on DST days, time zone equivalence. */
#include <criterion/criterion.h>

#include "engine/calendar.h"

static const int64_t PT15M = 15LL * 60 * 1000000;

Test(calendar, civil_days_round_trip) {
  cr_assert_eq(fx_days_from_civil(1970, 1, 1), 0);
  cr_assert_eq(fx_days_from_civil(2000, 3, 1), 11017);
  for (int32_t z = -800000; z < 800000; z += 97) {
    int y, m, d;
    fx_civil_from_days(z, &y, &m, &d);
    cr_assert_eq(fx_days_from_civil(y, m, d), z, "day %d", z);
  }
}

Test(calendar, isps_per_day_in_amsterdam) {
  struct fx_calendar *cal = fx_calendar_new("Europe/Amsterdam");
  cr_assert_not_null(cal, "tz database lacks Europe/Amsterdam");
  cr_assert_eq(fx_calendar_isp_count(cal, fx_days_from_civil(2026, 6, 15), PT15M), 96);
  cr_assert_eq(fx_calendar_isp_count(cal, fx_days_from_civil(2026, 3, 29), PT15M), 92);
  cr_assert_eq(fx_calendar_isp_count(cal, fx_days_from_civil(2026, 10, 25), PT15M), 100);
  cr_assert_eq(fx_calendar_isp_count(cal, fx_days_from_civil(2026, 10, 25), 7 * 60 * 1000000LL), -1,
               "a day that does not divide into whole ISPs has no count");
  fx_calendar_free(cal);
}

Test(calendar, day_starts_at_local_midnight) {
  struct fx_calendar *cal = fx_calendar_new("Europe/Amsterdam");
  struct fx_day d;
  cr_assert_eq(fx_calendar_day(cal, fx_days_from_civil(2026, 1, 10), &d), 0);
  /* 2026-01-10T00:00+01:00 = 2026-01-09T23:00Z */
  cr_assert_eq(d.start_us, ((int64_t)fx_days_from_civil(2026, 1, 10) * 86400 - 3600) * 1000000);
  cr_assert_eq(fx_calendar_day_of(cal, d.start_us), fx_days_from_civil(2026, 1, 10));
  cr_assert_eq(fx_calendar_day_of(cal, d.start_us - 1), fx_days_from_civil(2026, 1, 9));
  fx_calendar_free(cal);
}

Test(calendar, same_offsets_decides_timezone_rejected) {
  struct fx_calendar *ams = fx_calendar_new("Europe/Amsterdam");
  struct fx_calendar *ber = fx_calendar_new("Europe/Berlin");
  struct fx_calendar *lon = fx_calendar_new("Europe/London");
  int32_t day = fx_days_from_civil(2026, 3, 29);
  cr_assert(fx_calendar_same_offsets(ams, ber, day), "Berlin keeps Amsterdam's offsets");
  cr_assert(!fx_calendar_same_offsets(ams, lon, day), "London is an hour off");
  fx_calendar_free(ams);
  fx_calendar_free(ber);
  fx_calendar_free(lon);
}

Test(calendar, unknown_zone_is_refused) {
  cr_assert_null(fx_calendar_new("Europe/Atlantis"));
  cr_assert_null(fx_calendar_new(""));
}
