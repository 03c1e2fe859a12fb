/* types_time.c — xs:dateTime, xs:date and xs:duration without libc time
 * functions (no locale, no TZ database, no global state).
 *
 * A dateTime keeps its UTC instant in microseconds and the offset it was
 * written with. UFTP demands an offset on TimeStamp and ExpirationDateTime
 * (CONFORMANCE C2), so a dateTime without one is rejected. Years are limited
 * to 0001..9999 and precision to microseconds (finer non-zero digits are a
 * range error): documented choices, see docs/codec.md. */
#include <string.h>

#include "codec/types.h"

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Exactly k digits at s[*i]; advances *i. */
static bool digits(const char *s, size_t n, size_t *i, unsigned k, unsigned *out) {
  unsigned v = 0;
  if (*i + k > n)
    return false;
  for (unsigned j = 0; j < k; j++) {
    char c = s[*i + j];
    if (!is_digit(c))
      return false;
    v = v * 10 + (unsigned)(c - '0');
  }
  *i += k;
  *out = v;
  return true;
}

static bool leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(unsigned y, unsigned m) {
  static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* YYYY-MM-DD; *why set on failure. */
static int ymd(const char *s, size_t n, size_t *i, unsigned *y, unsigned *m, unsigned *d, const char **why) {
  if (*i < n && s[*i] == '-') {
    *why = "negative years are not supported";
    return FX_E_RANGE;
  }
  if (!digits(s, n, i, 4, y)) {
    *why = "not a date (YYYY-MM-DD)";
    return FX_E_VALUE;
  }
  if (*i < n && is_digit(s[*i])) {
    *why = "years beyond 9999 are not supported";
    return FX_E_RANGE;
  }
  if (*i >= n || s[(*i)++] != '-' || !digits(s, n, i, 2, m) || *i >= n || s[(*i)++] != '-' ||
      !digits(s, n, i, 2, d)) {
    *why = "not a date (YYYY-MM-DD)";
    return FX_E_VALUE;
  }
  if (*y == 0 || *m < 1 || *m > 12 || *d < 1 || *d > month_days(*y, *m)) {
    *why = "no such calendar date";
    return FX_E_VALUE;
  }
  return 0;
}

/* Optional zone: Z or (+|-)hh:mm with |offset| <= 14:00. */
static int zone(const char *s, size_t n, size_t *i, bool *has, int16_t *min, const char **why) {
  *has = false;
  *min = 0;
  if (*i == n)
    return 0;
  if (s[*i] == 'Z') {
    (*i)++;
    *has = true;
    return 0;
  }
  if (s[*i] != '+' && s[*i] != '-')
    goto bad;
  int sign = s[(*i)++] == '-' ? -1 : 1;
  unsigned hh, mm;
  if (!digits(s, n, i, 2, &hh) || *i >= n || s[(*i)++] != ':' || !digits(s, n, i, 2, &mm) || mm > 59 ||
      hh * 60 + mm > 14 * 60)
    goto bad;
  *has = true;
  *min = (int16_t)(sign * (int)(hh * 60 + mm));
  return 0;
bad:
  *why = "bad time zone offset";
  return FX_E_VALUE;
}

int fx_datetime_parse(const char *s, size_t n, struct fx_datetime *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  fx_trim(&s, &n);
  size_t i = 0;
  unsigned y, mo, d, hh, mi, ss;
  int rc = ymd(s, n, &i, &y, &mo, &d, why);
  if (rc)
    return rc;
  if (i >= n || s[i++] != 'T' || !digits(s, n, &i, 2, &hh) || i >= n || s[i++] != ':' ||
      !digits(s, n, &i, 2, &mi) || i >= n || s[i++] != ':' || !digits(s, n, &i, 2, &ss)) {
    *why = "not a dateTime (YYYY-MM-DDThh:mm:ss)";
    return FX_E_VALUE;
  }
  int64_t frac = 0;
  if (i < n && s[i] == '.') {
    size_t fs = ++i;
    while (i < n && is_digit(s[i])) {
      if (i - fs < 6)
        frac = frac * 10 + (s[i] - '0');
      else if (s[i] != '0') {
        *why = "sub-microsecond precision is not supported";
        return FX_E_RANGE;
      }
      i++;
    }
    if (i == fs) {
      *why = "not a dateTime (empty fraction)";
      return FX_E_VALUE;
    }
    for (size_t k = i - fs; k < 6; k++)
      frac *= 10;
  }
  if (mi > 59 || ss > 59 || hh > 24 || (hh == 24 && (mi || ss || frac))) {
    *why = "no such time of day";
    return FX_E_VALUE;
  }
  bool has;
  int16_t off;
  if ((rc = zone(s, n, &i, &has, &off, why)))
    return rc;
  if (i != n) {
    *why = "not a dateTime (trailing characters)";
    return FX_E_VALUE;
  }
  if (!has) {
    *why = "dateTime without time zone offset (CONFORMANCE C2)";
    return FX_E_VALUE;
  }
  int64_t secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off * 60;
  out->usec = secs * USEC_PER_SEC + frac;
  out->offset_min = off;
  return 0;
}

static size_t put2(char *o, unsigned v) {
  o[0] = (char)('0' + v / 10 % 10);
  o[1] = (char)('0' + v % 10);
  return 2;
}

static size_t put_zone(char *o, int16_t min) {
  if (min == 0) {
    o[0] = 'Z';
    return 1;
  }
  unsigned a = (unsigned)(min < 0 ? -min : min);
  o[0] = min < 0 ? '-' : '+';
  put2(o + 1, a / 60);
  o[3] = ':';
  put2(o + 4, a % 60);
  return 6;
}

static size_t put_date(char *o, int64_t y, unsigned m, unsigned d) {
  unsigned uy = (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y);
  put2(o, uy / 100);
  put2(o + 2, uy % 100);
  o[4] = '-';
  put2(o + 5, m);
  o[7] = '-';
  put2(o + 8, d);
  return 10;
}

int64_t fx_datetime_local_year(const struct fx_datetime *t) {
  int64_t y;
  unsigned m, d;
  int64_t local = t->usec + (int64_t)t->offset_min * 60 * USEC_PER_SEC;
  civil_from_days(floor_div(local, USEC_PER_DAY), &y, &m, &d);
  return y;
}

size_t fx_datetime_format(const struct fx_datetime *t, char out[FX_DATETIME_STRLEN]) {
  int64_t local = t->usec + (int64_t)t->offset_min * 60 * USEC_PER_SEC;
  int64_t day = floor_div(local, USEC_PER_DAY);
  int64_t rem = local - day * USEC_PER_DAY;
  int64_t y;
  unsigned m, d;
  civil_from_days(day, &y, &m, &d);
  size_t k = put_date(out, y, m, d);
  int64_t secs = rem / USEC_PER_SEC, frac = rem % USEC_PER_SEC;
  out[k++] = 'T';
  k += put2(out + k, (unsigned)(secs / 3600));
  out[k++] = ':';
  k += put2(out + k, (unsigned)(secs / 60 % 60));
  out[k++] = ':';
  k += put2(out + k, (unsigned)(secs % 60));
  if (frac) {
    out[k++] = '.';
    for (int64_t p = 100000; p > 0 && frac; p /= 10) {
      out[k++] = (char)('0' + frac / p);
      frac %= p;
    }
  }
  k += put_zone(out + k, t->offset_min);
  out[k] = 0;
  return k;
}

int fx_date_parse(const char *s, size_t n, struct fx_date *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  fx_trim(&s, &n);
  size_t i = 0;
  unsigned y, m, d;
  int rc = ymd(s, n, &i, &y, &m, &d, why);
  if (rc)
    return rc;
  bool has;
  int16_t off;
  if ((rc = zone(s, n, &i, &has, &off, why)))
    return rc;
  if (i != n) {
    *why = "not a date (YYYY-MM-DD)";
    return FX_E_VALUE;
  }
  out->year = (int16_t)y;
  out->month = (uint8_t)m;
  out->day = (uint8_t)d;
  out->has_tz = has;
  out->tz_min = off;
  return 0;
}

bool fx_date_valid(const struct fx_date *d) {
  if (d->year < 1 || d->year > 9999 || d->month < 1 || d->month > 12 || d->day < 1 ||
      d->day > month_days((unsigned)d->year, d->month))
    return false;
  return !d->has_tz || (d->tz_min >= -840 && d->tz_min <= 840);
}

size_t fx_date_format(const struct fx_date *d, char out[FX_DATE_STRLEN]) {
  size_t k = put_date(out, d->year, d->month, d->day);
  if (d->has_tz)
    k += put_zone(out + k, d->tz_min);
  out[k] = 0;
  return k;
}

int32_t fx_date_to_days(const struct fx_date *d) {
  return (int32_t)days_from_civil(d->year, d->month, d->day);
}

void fx_date_from_days(int32_t days, struct fx_date *out) {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  memset(out, 0, sizeof *out);
  out->year = (int16_t)y;
  out->month = (uint8_t)m;
  out->day = (uint8_t)d;
}

/* One "<digits>[.<digits>]<designator>" component of a duration. */
static int dur_num(const char *s, size_t n, size_t *i, uint64_t *v, int64_t *frac, bool *has_frac,
                   const char **why) {
  size_t st = *i;
  *v = 0;
  *frac = 0;
  *has_frac = false;
  while (*i < n && is_digit(s[*i])) {
    if (__builtin_mul_overflow(*v, 10u, v) || __builtin_add_overflow(*v, (uint64_t)(s[*i] - '0'), v)) {
      *why = "duration component too large";
      return FX_E_RANGE;
    }
    (*i)++;
  }
  if (*i == st)
    return -1; /* no number here */
  if (*i < n && s[*i] == '.') {
    *has_frac = true;
    size_t fs = ++(*i);
    while (*i < n && is_digit(s[*i])) {
      size_t k = *i - fs;
      if (k < 6)
        *frac = *frac * 10 + (s[*i] - '0');
      else if (s[*i] != '0') {
        *why = "sub-microsecond precision is not supported";
        return FX_E_RANGE;
      }
      (*i)++;
    }
    if (*i == fs)
      return FX_E_VALUE;
    for (size_t k = *i - fs; k < 6; k++)
      *frac *= 10;
  }
  return 0;
}

int fx_duration_parse(const char *s, size_t n, struct fx_duration *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  static const char des[] = "YMDHMS";
  static const int64_t unit[] = {12, 1, USEC_PER_DAY, 3600 * USEC_PER_SEC, 60 * USEC_PER_SEC, USEC_PER_SEC};
  fx_trim(&s, &n);
  size_t i = 0;
  bool neg = i < n && s[i] == '-';
  i += neg;
  if (i >= n || s[i++] != 'P')
    goto bad;
  int64_t months = 0, usec = 0;
  int next = 0, parts = 0, time_parts = 0;
  bool in_time = false;
  while (i < n) {
    if (s[i] == 'T') {
      if (in_time)
        goto bad;
      in_time = true;
      next = 3;
      i++;
      continue;
    }
    uint64_t v;
    int64_t frac;
    bool has_frac;
    int rc = dur_num(s, n, &i, &v, &frac, &has_frac, why);
    if (rc == FX_E_RANGE)
      return rc;
    if (rc || i >= n)
      goto bad;
    int k = next;
    while (k < 6 && (des[k] != s[i] || (k >= 3) != in_time))
      k++;
    if (k == 6 || (has_frac && k != 5))
      goto bad;
    i++;
    next = k + 1;
    parts++;
    time_parts += in_time;
    int64_t *acc = k < 2 ? &months : &usec;
    int64_t add;
    if (v > (uint64_t)INT64_MAX || __builtin_mul_overflow((int64_t)v, unit[k], &add) ||
        __builtin_add_overflow(*acc, add, acc) || __builtin_add_overflow(*acc, k == 5 ? frac : 0, acc))
      goto range;
  }
  if (parts == 0 || (in_time && time_parts == 0))
    goto bad;
  if (months > INT32_MAX)
    goto range;
  out->months = (int32_t)(neg ? -months : months);
  out->usec = neg ? -usec : usec;
  return 0;
bad:
  *why = "not an xs:duration (e.g. PT15M)";
  return FX_E_VALUE;
range:
  *why = "duration too large";
  return FX_E_RANGE;
}

static size_t put_u64(char *o, uint64_t v) {
  char tmp[24];
  size_t k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t j = 0; j < k; j++)
    o[j] = tmp[k - 1 - j];
  return k;
}

size_t fx_duration_format(const struct fx_duration *d, char out[FX_DURATION_STRLEN]) {
  bool neg = d->months < 0 || d->usec < 0;
  uint64_t mo = (uint64_t)(d->months < 0 ? -(int64_t)d->months : d->months);
  uint64_t us = d->usec < 0 ? (uint64_t)0 - (uint64_t)d->usec : (uint64_t)d->usec;
  size_t k = 0;
  if (neg)
    out[k++] = '-';
  out[k++] = 'P';
  if (mo / 12) {
    k += put_u64(out + k, mo / 12);
    out[k++] = 'Y';
  }
  if (mo % 12) {
    k += put_u64(out + k, mo % 12);
    out[k++] = 'M';
  }
  uint64_t days = us / (uint64_t)USEC_PER_DAY, rem = us % (uint64_t)USEC_PER_DAY;
  if (days) {
    k += put_u64(out + k, days);
    out[k++] = 'D';
  }
  if (rem || (!mo && !days)) {
    uint64_t secs = rem / USEC_PER_SEC, frac = rem % USEC_PER_SEC;
    out[k++] = 'T';
    if (secs / 3600) {
      k += put_u64(out + k, secs / 3600);
      out[k++] = 'H';
    }
    if (secs / 60 % 60) {
      k += put_u64(out + k, secs / 60 % 60);
      out[k++] = 'M';
    }
    if (secs % 60 || frac || !rem) {
      k += put_u64(out + k, secs % 60);
      if (frac) {
        out[k++] = '.';
        for (uint64_t p = 100000; p > 0 && frac; p /= 10) {
          out[k++] = (char)('0' + frac / p);
          frac %= p;
        }
      }
      out[k++] = 'S';
    }
  }
  out[k] = 0;
  return k;
}
