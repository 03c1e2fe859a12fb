/* settle_csv.c — settlement results as CSV for a DSO's finance system.
 *
 * RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote, CR or
 * LF quoted with "" doubling. Amounts are printed from their integer 1e-4 units
 * (never through floating point), so "12.3400" in the file is exactly the
 * amount in the FlexSettlement. Unknown values are empty fields, never 0.
 * One writer serves both a caller's buffer (snprintf semantics) and a FILE*. */
#include "engine/settle.h"

#include <string.h>

/* Where output goes: a buffer (len counts what would have been written, like
 * snprintf) or a stream (err set on a short write). */
struct sink {
  char *buf;
  size_t cap;
  size_t len;
  FILE *fp;
  int err;
};

static void put(struct sink *s, const char *p, size_t n) {
  if (s->fp) {
    if (!s->err && fwrite(p, 1, n, s->fp) != n)
      s->err = 1;
  } else if (s->len < s->cap) {
    size_t room = s->cap - s->len - 1;
    memcpy(s->buf + s->len, p, n < room ? n : room);
  }
  s->len += n;
}

static void puts_(struct sink *s, const char *p) { put(s, p, strlen(p)); }

static void put_text(struct sink *s, const char *p) {
  if (!p)
    return;
  if (!p[strcspn(p, ",\"\r\n")]) {
    puts_(s, p);
    return;
  }
  put(s, "\"", 1);
  for (const char *q; (q = strchr(p, '"')); p = q + 1) {
    put(s, p, (size_t)(q - p) + 1);
    put(s, "\"", 1);
  }
  puts_(s, p);
  put(s, "\"", 1);
}

/* Decimal digits of m, right-aligned to end at `end`; returns the first digit.
 * By hand rather than snprintf: the CSV of a month is ~10^7 numbers and
 * snprintf's format parsing was most of its cost. */
static char *digits(uint64_t m, char *end) {
  do {
    *--end = (char)('0' + m % 10);
    m /= 10;
  } while (m);
  return end;
}

static uint64_t magnitude(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }

static void put_int(struct sink *s, int64_t v) {
  char b[24], *p = digits(magnitude(v), b + sizeof b);
  if (v < 0)
    *--p = '-';
  put(s, p, (size_t)(b + sizeof b - p));
}

static void put_amount(struct sink *s, int64_t v) {
  char b[24];
  put(s, b, fx_settle_format_amount(v, b));
}

size_t fx_settle_format_amount(int64_t v, char buf[24]) {
  char t[24], *end = t + sizeof t, *p;
  uint64_t m = magnitude(v);
  p = digits(m % 10000 + 10000, end); /* "1dddd": four decimals with their zeros */
  *p = '.';
  p = digits(m / 10000, p);
  if (v < 0)
    *--p = '-';
  size_t n = (size_t)(end - p);
  memcpy(buf, p, n);
  buf[n] = '\0';
  return n;
}

static const char HEADER[] = "record,period,congestion_point,order_reference,isp,baseline_w,"
                             "ordered_flex_w,actual_w,delivered_flex_w,power_deficiency_w,data,"
                             "currency,price,penalty,net_settlement,baseline\r\n";

static const char *isp_data(uint8_t missing) {
  switch (missing & (FX_SETTLE_MISSING_BASELINE | FX_SETTLE_MISSING_ACTUAL)) {
  case 0: return "complete";
  case FX_SETTLE_MISSING_ACTUAL: return "missing_metering";
  case FX_SETTLE_MISSING_BASELINE: return "missing_baseline";
  default: return "missing_baseline_and_metering";
  }
}

/* record,period,congestion_point,order_reference, — shared by both row kinds. */
static void put_ident(struct sink *s, const char *record, const struct fx_settle_input *in) {
  puts_(s, record);
  put(s, ",", 1);
  put_text(s, in->period);
  put(s, ",", 1);
  put_text(s, in->congestion_point);
  put(s, ",", 1);
  put_text(s, in->order_reference);
  put(s, ",", 1);
}

static void put_isp_row(struct sink *s, const struct fx_settle_input *in,
                        const struct fx_settle_isp_out *o) {
  int no_base = o->missing & FX_SETTLE_MISSING_BASELINE, no_act = o->missing & FX_SETTLE_MISSING_ACTUAL;
  put_ident(s, "ISP", in);
  put_int(s, o->start);
  put(s, ",", 1);
  if (!no_base)
    put_int(s, o->baseline_w);
  put(s, ",", 1);
  put_int(s, o->ordered_w);
  put(s, ",", 1);
  if (!no_act)
    put_int(s, o->actual_w);
  put(s, ",", 1);
  if (!o->missing) {
    put_int(s, o->delivered_w);
    put(s, ",", 1);
    put_int(s, o->deficiency_w);
  } else {
    put(s, ",", 1);
  }
  put(s, ",", 1);
  puts_(s, isp_data(o->missing));
  puts_(s, ",,,,,");
  put_text(s, in->baseline);
  put(s, "\r\n", 2);
}

/* The summary: magnitudes summed over the ISPs, and the amounts; an incomplete
 * order has no delivered, deficiency or amounts to state. */
static void put_order_row(struct sink *s, const struct fx_settle_input *in,
                          const struct fx_settle_result *r) {
  int ok = r->status == FX_SETTLE_SETTLED;
  put_ident(s, "ORDER", in);
  puts_(s, ",,");
  put_int(s, r->ordered_w_isps);
  puts_(s, ",,");
  if (ok) {
    put_int(s, r->delivered_w_isps);
    put(s, ",", 1);
    put_int(s, r->deficiency_w_isps);
  } else {
    put(s, ",", 1);
  }
  put(s, ",", 1);
  puts_(s, ok ? "settled" : "incomplete");
  put(s, ",", 1);
  put_text(s, in->currency);
  put(s, ",", 1);
  if (ok) {
    put_amount(s, r->price);
    put(s, ",", 1);
    put_amount(s, r->penalty);
    put(s, ",", 1);
    put_amount(s, r->net);
  } else {
    put(s, ",,", 2);
  }
  put(s, ",", 1);
  put_text(s, in->baseline);
  put(s, "\r\n", 2);
}

static void put_order(struct sink *s, const struct fx_settle_input *in,
                      const struct fx_settle_result *r) {
  for (size_t i = 0; i < r->n_isps; i++)
    put_isp_row(s, in, &r->isps[i]);
  put_order_row(s, in, r);
}

static size_t finish(struct sink *s) {
  if (s->cap)
    s->buf[s->len < s->cap ? s->len : s->cap - 1] = '\0';
  return s->len;
}

size_t fx_settle_csv_header(char *buf, size_t cap) {
  struct sink s = {.buf = buf, .cap = cap};
  puts_(&s, HEADER);
  return finish(&s);
}

size_t fx_settle_csv_order(const struct fx_settle_input *in, const struct fx_settle_result *res,
                           char *buf, size_t cap) {
  struct sink s = {.buf = buf, .cap = cap};
  put_order(&s, in, res);
  return finish(&s);
}

int fx_settle_csv_header_fp(FILE *fp) {
  struct sink s = {.fp = fp};
  puts_(&s, HEADER);
  return s.err ? -1 : 0;
}

int fx_settle_csv_order_fp(FILE *fp, const struct fx_settle_input *in,
                           const struct fx_settle_result *res) {
  struct sink s = {.fp = fp};
  put_order(&s, in, res);
  return s.err ? -1 : 0;
}
