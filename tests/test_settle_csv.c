/* test_settle_csv.c — the finance CSV: exact decimals, RFC 4180 quoting, empty
 * fields for unknown values, and a file that parses back to the very numbers of
 * the settlement results. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/settle.h"

#define MW 1000000LL
#define EUR 10000LL
#define MAX_FIELDS 20
#define MAX_ROWS 16

/* A small RFC 4180 reader: rows of fields, quotes undoubled. */
struct table {
  int n_rows;
  int n_fields[MAX_ROWS];
  char f[MAX_ROWS][MAX_FIELDS][96];
};

static void parse_csv(const char *s, struct table *t) {
  memset(t, 0, sizeof *t);
  int row = 0, fld = 0;
  size_t len = 0;
  int quoted = 0;
  for (; *s; s++) {
    cr_assert_lt(row, MAX_ROWS);
    cr_assert_lt(fld, MAX_FIELDS);
    char *out = t->f[row][fld];
    if (quoted) {
      if (*s == '"' && s[1] == '"')
        out[len++] = *s++;
      else if (*s == '"')
        quoted = 0;
      else
        out[len++] = *s;
    } else if (*s == '"') {
      quoted = 1;
    } else if (*s == ',') {
      fld++, len = 0;
    } else if (*s == '\r' && s[1] == '\n') {
      t->n_fields[row] = fld + 1;
      s++, row++, fld = 0, len = 0;
    } else {
      cr_assert(*s != '\n', "bare LF in a CSV line");
      out[len++] = *s;
    }
    cr_assert_lt(len, 95);
  }
  cr_assert_eq(fld, 0, "the text ends with CRLF");
  t->n_rows = row;
}

/* Parses "-12.3400" back into 1e-4 units without floating point. */
static int64_t parse_amount(const char *s) {
  int neg = *s == '-';
  const char *dot = strchr(s, '.');
  cr_assert_not_null(dot, "amount %s has no decimals", s);
  cr_assert_eq(strlen(dot + 1), 4, "amount %s has 4 decimals", s);
  /* In uint64, so that INT64_MIN's magnitude fits. */
  uint64_t m = strtoull(s + neg, NULL, 10) * 10000 + strtoull(dot + 1, NULL, 10);
  return neg ? (int64_t)(0 - m) : (int64_t)m;
}

static int64_t num(const char *s) {
  cr_assert(*s, "empty where a number belongs");
  char *end;
  int64_t v = strtoll(s, &end, 10);
  cr_assert_eq(*end, '\0', "not an integer: %s", s);
  return v;
}

enum { C_RECORD, C_PERIOD, C_CP, C_REF, C_ISP, C_BASE, C_ORDERED, C_ACTUAL, C_DELIVERED,
       C_DEFICIENCY, C_DATA, C_CURRENCY, C_PRICE, C_PENALTY, C_NET, C_BASELINE, N_COLS };

static struct fx_settle_isp_in isp(uint32_t start, int64_t base, int64_t ordered, int64_t actual) {
  return (struct fx_settle_isp_in){.start = start, .congestion = FX_SETTLE_CONGESTION_CONSUMPTION,
                                   .have = FX_SETTLE_HAVE_BASELINE | FX_SETTLE_HAVE_ACTUAL,
                                   .baseline_w = base, .ordered_w = ordered, .actual_w = actual};
}

static struct fx_settle_isp_in g_in1[3], g_in2[2];
static struct fx_settle_isp_out g_out1[3], g_out2[2];

static void two_orders(struct fx_settle_input in[2], struct fx_settle_result r[2]) {
  g_in1[0] = isp(1, 10 * MW, -2 * MW, 8 * MW);
  g_in1[1] = isp(2, 10 * MW, -2 * MW, 9 * MW);
  g_in1[2] = isp(3, 10 * MW, -2 * MW, 11 * MW);
  g_in2[0] = isp(7, 3 * MW, -MW, 2 * MW);
  g_in2[1] = isp(8, 3 * MW, -MW, 0);
  g_in2[1].have = FX_SETTLE_HAVE_BASELINE; /* no metering */
  in[0] = (struct fx_settle_input){.period = "2026-03-14", .congestion_point = "ean.871685900000000001",
                                   .order_reference = "ORD-1, \"urgent\"", .currency = "EUR",
                                   .order_price = 123456, .penalty_rate = 11 * EUR,
                                   .isp_minutes = 15, .isps = g_in1, .n_isps = 3, .baseline = "prognosis"};
  in[1] = in[0];
  in[1].order_reference = "ORD-2";
  in[1].baseline = "like-days";
  in[1].isps = g_in2;
  in[1].n_isps = 2;
  r[0] = (struct fx_settle_result){.isps = g_out1, .isps_cap = 3};
  r[1] = (struct fx_settle_result){.isps = g_out2, .isps_cap = 2};
  cr_assert_eq(fx_settle_order(&in[0], &r[0]), FX_SETTLE_OK);
  cr_assert_eq(fx_settle_order(&in[1], &r[1]), FX_SETTLE_OK);
  cr_assert_eq(r[0].status, FX_SETTLE_SETTLED);
  cr_assert_lt(r[0].net, 0, "a negative amount is part of the test");
  cr_assert_eq(r[1].status, FX_SETTLE_INCOMPLETE);
}

static size_t write_all(char *buf, size_t cap, struct fx_settle_input in[2], struct fx_settle_result r[2]) {
  size_t n = fx_settle_csv_header(buf, cap);
  for (int k = 0; k < 2; k++)
    n += fx_settle_csv_order(&in[k], &r[k], buf + n, cap - n);
  cr_assert_lt(n, cap);
  return n;
}

Test(settle_csv, parses_back_to_the_settlement_numbers) {
  struct fx_settle_input in[2];
  struct fx_settle_result r[2];
  two_orders(in, r);
  static char buf[8192];
  write_all(buf, sizeof buf, in, r);
  static struct table t;
  parse_csv(buf, &t);
  cr_assert_eq(t.n_rows, 1 + 4 + 3);
  for (int i = 0; i < t.n_rows; i++)
    cr_assert_eq(t.n_fields[i], N_COLS, "row %d", i);
  cr_assert_str_eq(t.f[0][C_NET], "net_settlement");
  cr_assert_str_eq(t.f[0][C_BASELINE], "baseline");
  int row = 1;
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < r[k].n_isps; i++, row++) {
      const struct fx_settle_isp_out *o = &r[k].isps[i];
      char (*f)[96] = t.f[row];
      cr_assert_str_eq(f[C_RECORD], "ISP");
      cr_assert_str_eq(f[C_REF], in[k].order_reference, "quoting round-trips");
      cr_assert_str_eq(f[C_PERIOD], "2026-03-14");
      cr_assert_eq(num(f[C_ISP]), o->start);
      cr_assert_eq(num(f[C_BASE]), o->baseline_w);
      cr_assert_eq(num(f[C_ORDERED]), o->ordered_w);
      if (o->missing) {
        cr_assert_str_eq(f[C_DATA], "missing_metering");
        cr_assert_str_eq(f[C_ACTUAL], "", "unknown power is empty, not 0");
        cr_assert_str_eq(f[C_DELIVERED], "");
        cr_assert_str_eq(f[C_DEFICIENCY], "");
      } else {
        cr_assert_str_eq(f[C_DATA], "complete");
        cr_assert_eq(num(f[C_ACTUAL]), o->actual_w);
        cr_assert_eq(num(f[C_DELIVERED]), o->delivered_w);
        cr_assert_eq(num(f[C_DEFICIENCY]), o->deficiency_w);
      }
      cr_assert_str_eq(f[C_PRICE], "");
      cr_assert_str_eq(f[C_BASELINE], in[k].baseline, "every row names the baseline reference used");
    }
    char (*f)[96] = t.f[row++];
    cr_assert_str_eq(f[C_BASELINE], in[k].baseline);
    cr_assert_str_eq(f[C_RECORD], "ORDER");
    cr_assert_str_eq(f[C_ISP], "");
    cr_assert_str_eq(f[C_CURRENCY], "EUR");
    cr_assert_eq(num(f[C_ORDERED]), r[k].ordered_w_isps);
    if (r[k].status == FX_SETTLE_SETTLED) {
      cr_assert_str_eq(f[C_DATA], "settled");
      cr_assert_eq(num(f[C_DELIVERED]), r[k].delivered_w_isps);
      cr_assert_eq(num(f[C_DEFICIENCY]), r[k].deficiency_w_isps);
      cr_assert_eq(parse_amount(f[C_PRICE]), r[k].price);
      cr_assert_eq(parse_amount(f[C_PENALTY]), r[k].penalty);
      cr_assert_eq(parse_amount(f[C_NET]), r[k].net);
    } else {
      cr_assert_str_eq(f[C_DATA], "incomplete");
      cr_assert_str_eq(f[C_PRICE], "", "an unsettleable order states no amount");
      cr_assert_str_eq(f[C_NET], "");
    }
  }
}

Test(settle_csv, file_and_buffer_write_the_same_bytes) {
  struct fx_settle_input in[2];
  struct fx_settle_result r[2];
  two_orders(in, r);
  static char buf[8192];
  size_t n = write_all(buf, sizeof buf, in, r);
  char *mem = NULL;
  size_t mem_len = 0;
  FILE *fp = open_memstream(&mem, &mem_len);
  cr_assert_not_null(fp);
  cr_assert_eq(fx_settle_csv_header_fp(fp), 0);
  for (int k = 0; k < 2; k++)
    cr_assert_eq(fx_settle_csv_order_fp(fp, &in[k], &r[k]), 0);
  cr_assert_eq(fclose(fp), 0);
  cr_assert_eq(mem_len, n);
  cr_assert_eq(memcmp(mem, buf, n), 0);
  free(mem);
}

Test(settle_csv, buffer_too_small_truncates_like_snprintf) {
  struct fx_settle_input in[2];
  struct fx_settle_result r[2];
  two_orders(in, r);
  char full[2048], small[40];
  size_t n = fx_settle_csv_order(&in[0], &r[0], full, sizeof full);
  cr_assert_lt(n, sizeof full);
  cr_assert_eq(fx_settle_csv_order(&in[0], &r[0], small, sizeof small), n);
  cr_assert_eq(strlen(small), sizeof small - 1);
  cr_assert_eq(memcmp(small, full, sizeof small - 1), 0);
  cr_assert_eq(fx_settle_csv_order(&in[0], &r[0], NULL, 0), n, "cap 0 only measures");
}

Test(settle_csv, amounts_are_exact_decimals) {
  char b[24];
  static const struct { int64_t v; const char *s; } cases[] = {
      {0, "0.0000"},        {1, "0.0001"},        {-1, "-0.0001"},
      {140000, "14.0000"},  {-40000, "-4.0000"},  {70916, "7.0916"},
      {INT64_MAX, "922337203685477.5807"},        {INT64_MIN, "-922337203685477.5808"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = fx_settle_format_amount(cases[i].v, b);
    cr_assert_str_eq(b, cases[i].s);
    cr_assert_eq(n, strlen(cases[i].s));
    cr_assert_eq(parse_amount(b), cases[i].v);
  }
}
