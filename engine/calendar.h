/* calendar.h — market days and ISPs in the market's time zone.
 *
 * A UFTP Period is one calendar day in the market's time zone, divided into ISPs
 * of ISP-Duration counted from local midnight in elapsed time: 96 ISPs of PT15M on
 * an ordinary day, 92 on the spring-forward day, 100 on the fall-back day. The
 * rules "ISPs out of bounds", "TimeZone rejected", "Period out of bounds" and
 * "ExpirationDateTime out of bounds" all need the UTC instant where a day starts
 * and how long it lasts; time zone rules come from the system tz database through
 * GLib's GTimeZone. Days are cached, so the hot path does one hash lookup.
 *
 * An fx_calendar is not thread-safe: each thread (worker, sequencer) owns one. */
#ifndef FX_ENGINE_CALENDAR_H
#define FX_ENGINE_CALENDAR_H

#include <stdint.h>

struct fx_calendar;

/* A calendar day as days since 1970-01-01 (the proleptic Gregorian calendar). */
int32_t fx_days_from_civil(int y, int m, int d);
void fx_civil_from_days(int32_t days, int *y, int *m, int *d);

/* One market day: its first instant in UTC and its length, both in µs. */
struct fx_day {
  int64_t start_us;
  int64_t length_us;
};

/* Opens the zone `tz_name` (an IANA name such as "Europe/Amsterdam"). Returns
 * NULL when the name is not a zone this machine's tz database knows. */
struct fx_calendar *fx_calendar_new(const char *tz_name);
void fx_calendar_free(struct fx_calendar *cal);
const char *fx_calendar_zone(const struct fx_calendar *cal);

/* Fills `out` for `day`; 0 on success, -1 when the day is outside what the zone
 * can represent (years 1..9999). */
int fx_calendar_day(struct fx_calendar *cal, int32_t day, struct fx_day *out);

/* Number of ISPs of `isp_us` in `day` (96, 92 or 100 for PT15M in Europe), or
 * -1 when the day does not divide into whole ISPs of that length. */
int fx_calendar_isp_count(struct fx_calendar *cal, int32_t day, int64_t isp_us);

/* 1 when zone `other` starts `day` at the same instant and gives it the same length
 * as this calendar's zone: the test behind "TimeZone rejected" ("a TimeZone that has
 * a different UTC offset than the agreed-upon common value"). */
int fx_calendar_same_offsets(struct fx_calendar *cal, struct fx_calendar *other, int32_t day);

/* The day (in this zone) that contains the UTC instant `t_us`. */
int32_t fx_calendar_day_of(struct fx_calendar *cal, int64_t t_us);

#endif
