/* calendar.c — market days in a time zone (see calendar.h).
 *
 * Civil-date arithmetic is Howard Hinnant's days_from_civil algorithm (public
 * domain), which is exact for the whole proleptic Gregorian calendar. Zone rules
 * come from GLib; their results are cached per day in a uthash table because
 * GLib's lookups cost microseconds and validation asks for the same few days
 * over and over. */
#include "engine/calendar.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct day_entry {
  int32_t day;
  struct fx_day v;
  UT_hash_handle hh;
};

struct fx_calendar {
  GTimeZone *tz;
  char name[64];
  struct day_entry *days; /* uthash head */
  unsigned n_days;
};

/* Past this many cached days the cache is dropped and rebuilt: a market only ever
 * asks about a few days around today, so the bound is never reached in practice
 * but keeps hostile Periods from growing memory. */
enum { DAY_CACHE_MAX = 4096 };

int32_t fx_days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int32_t)doe - 719468;
}

void fx_civil_from_days(int32_t z, int *y, int *m, int *d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)yoe + era * 400 + (*m <= 2);
}

struct fx_calendar *fx_calendar_new(const char *tz_name) {
  if (!tz_name || strlen(tz_name) >= sizeof(((struct fx_calendar *)0)->name))
    return NULL;
  GTimeZone *tz = g_time_zone_new_identifier(tz_name);
  if (!tz)
    return NULL;
  struct fx_calendar *cal = calloc(1, sizeof *cal);
  if (!cal) {
    g_time_zone_unref(tz);
    return NULL;
  }
  cal->tz = tz;
  strcpy(cal->name, tz_name);
  return cal;
}

static void drop_cache(struct fx_calendar *cal) {
  struct day_entry *e, *tmp;
  HASH_ITER(hh, cal->days, e, tmp) {
    HASH_DEL(cal->days, e);
    free(e);
  }
  cal->n_days = 0;
}

void fx_calendar_free(struct fx_calendar *cal) {
  if (!cal)
    return;
  drop_cache(cal);
  g_time_zone_unref(cal->tz);
  free(cal);
}

const char *fx_calendar_zone(const struct fx_calendar *cal) { return cal->name; }

/* UTC µs of local midnight starting `day`, or INT64_MIN when out of range.
 * Midnight itself may not exist (zones that switch at 00:00); GLib then
 * resolves to the first valid local time, which is the day's real start. */
static int64_t local_midnight_us(GTimeZone *tz, int32_t day) {
  int y, m, d;
  fx_civil_from_days(day, &y, &m, &d);
  if (y < 1 || y > 9999)
    return INT64_MIN;
  GDateTime *dt = g_date_time_new(tz, y, m, d, 0, 0, 0.0);
  if (!dt)
    return INT64_MIN;
  int64_t us = g_date_time_to_unix(dt) * 1000000;
  g_date_time_unref(dt);
  return us;
}

static int compute_day(GTimeZone *tz, int32_t day, struct fx_day *out) {
  int64_t a = local_midnight_us(tz, day), b = local_midnight_us(tz, day + 1);
  if (a == INT64_MIN || b == INT64_MIN || b <= a)
    return -1;
  out->start_us = a;
  out->length_us = b - a;
  return 0;
}

int fx_calendar_day(struct fx_calendar *cal, int32_t day, struct fx_day *out) {
  struct day_entry *e;
  HASH_FIND(hh, cal->days, &day, sizeof day, e);
  if (e) {
    *out = e->v;
    return 0;
  }
  struct fx_day v;
  if (compute_day(cal->tz, day, &v) != 0)
    return -1;
  if (cal->n_days >= DAY_CACHE_MAX)
    drop_cache(cal);
  e = malloc(sizeof *e);
  if (e) { /* without memory we just don't cache */
    e->day = day;
    e->v = v;
    HASH_ADD(hh, cal->days, day, sizeof e->day, e);
    cal->n_days++;
  }
  *out = v;
  return 0;
}

int fx_calendar_isp_count(struct fx_calendar *cal, int32_t day, int64_t isp_us) {
  struct fx_day d;
  if (isp_us <= 0 || fx_calendar_day(cal, day, &d) != 0 || d.length_us % isp_us)
    return -1;
  return (int)(d.length_us / isp_us);
}

int fx_calendar_same_offsets(struct fx_calendar *cal, struct fx_calendar *other, int32_t day) {
  struct fx_day a, b;
  if (fx_calendar_day(cal, day, &a) != 0 || fx_calendar_day(other, day, &b) != 0)
    return 0;
  return a.start_us == b.start_us && a.length_us == b.length_us;
}

int32_t fx_calendar_day_of(struct fx_calendar *cal, int64_t t_us) {
  /* The UTC day is within one day of the local one; pick the candidate that holds t. */
  int64_t s = t_us / 1000000 - (t_us % 1000000 < 0);
  int32_t utc_day = (int32_t)(s / 86400 - (s % 86400 < 0));
  for (int32_t day = utc_day - 1; day <= utc_day + 1; day++) {
    struct fx_day d;
    if (fx_calendar_day(cal, day, &d) == 0 && t_us >= d.start_us && t_us < d.start_us + d.length_us)
      return day;
  }
  return utc_day;
}
