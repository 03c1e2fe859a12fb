/* types_num.c — the numeric XSD types without binary floating point:
 * xs:integer/long/positiveInteger as int64, CurrencyAmountType as int64
 * units of 1e-4, ActivationFactorType as hundredths, xs:decimal as an exact
 * 18-digit mantissa with a scale, and xs:boolean.
 *
 * XSD facets are judged on the VALUE, as the schema language says: "1.50000"
 * has two fraction digits, so it is a valid ActivationFactor-free money
 * amount and a valid factor. */
#include <string.h>

#include "codec/types.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void fx_trim(const char **s, size_t *n) {
  while (*n > 0 && is_space(**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && is_space((*s)[*n - 1]))
    (*n)--;
}

/* The lexical parts of an xs:decimal: sign, integer digits without leading
 * zeros, fraction digits without trailing zeros. */
struct dec {
  bool neg;
  const char *ip;
  size_t in;
  const char *fp;
  size_t fn;
};

static int dec_lex(const char *s, size_t n, struct dec *d, bool allow_point, const char **why) {
  fx_trim(&s, &n);
  size_t i = 0;
  d->neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    d->neg = s[i++] == '-';
  size_t is = i;
  while (i < n && is_digit(s[i]))
    i++;
  d->ip = s + is;
  d->in = i - is;
  d->fp = s + i;
  d->fn = 0;
  if (allow_point && i < n && s[i] == '.') {
    size_t fs = ++i;
    while (i < n && is_digit(s[i]))
      i++;
    d->fp = s + fs;
    d->fn = i - fs;
  }
  if (i != n || (d->in == 0 && d->fn == 0)) {
    *why = allow_point ? "not a decimal" : "not an integer";
    return FX_E_VALUE;
  }
  while (d->in > 0 && d->ip[0] == '0') {
    d->ip++;
    d->in--;
  }
  while (d->fn > 0 && d->fp[d->fn - 1] == '0')
    d->fn--;
  return 0;
}

/* m = m * 10^k + digits; false on uint64 overflow. */
static bool accum(uint64_t *m, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (__builtin_mul_overflow(*m, 10u, m) || __builtin_add_overflow(*m, (uint64_t)(p[i] - '0'), m))
      return false;
  return true;
}

static bool scale10(uint64_t *m, size_t k) {
  while (k--)
    if (__builtin_mul_overflow(*m, 10u, m))
      return false;
  return true;
}

/* Signed int64 from a magnitude; false if out of range. */
static bool to_i64(bool neg, uint64_t mag, int64_t *out) {
  if (neg) {
    if (mag > (uint64_t)INT64_MAX + 1)
      return false;
    *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  } else {
    if (mag > (uint64_t)INT64_MAX)
      return false;
    *out = (int64_t)mag;
  }
  return true;
}

int fx_int_parse(const char *s, size_t n, int64_t *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  struct dec d;
  int rc = dec_lex(s, n, &d, false, why);
  if (rc)
    return rc;
  uint64_t mag = 0;
  if (!accum(&mag, d.ip, d.in) || !to_i64(d.neg, mag, out)) {
    *why = "integer outside the 64-bit range";
    return FX_E_RANGE;
  }
  return 0;
}

static size_t u64_format(uint64_t v, char *out) {
  char tmp[24];
  size_t k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < k; i++)
    out[i] = tmp[k - 1 - i];
  out[k] = 0;
  return k;
}

static uint64_t magnitude(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

size_t fx_int_format(int64_t v, char *out) {
  size_t k = 0;
  if (v < 0)
    out[k++] = '-';
  return k + u64_format(magnitude(v), out + k);
}

/* Writes mag / 10^scale with trailing fraction zeros removed. */
static size_t fixed_format(bool neg, uint64_t mag, unsigned scale, char *out) {
  uint64_t p = 1;
  for (unsigned i = 0; i < scale; i++)
    p *= 10;
  uint64_t ip = mag / p, fp = mag % p;
  size_t k = 0;
  if (neg && mag)
    out[k++] = '-';
  k += u64_format(ip, out + k);
  if (fp) {
    char digs[24];
    for (unsigned i = scale; i-- > 0;) {
      digs[i] = (char)('0' + fp % 10);
      fp /= 10;
    }
    unsigned len = scale;
    while (len > 0 && digs[len - 1] == '0')
      len--;
    out[k++] = '.';
    memcpy(out + k, digs, len);
    k += len;
  }
  out[k] = 0;
  return k;
}

int fx_money_parse(const char *s, size_t n, fx_money *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  struct dec d;
  int rc = dec_lex(s, n, &d, true, why);
  if (rc)
    return rc;
  if (d.fn > 4) {
    *why = "fractionDigits > 4";
    return FX_E_VALUE;
  }
  uint64_t mag = 0;
  if (!accum(&mag, d.ip, d.in) || !accum(&mag, d.fp, d.fn) || !scale10(&mag, 4 - d.fn) ||
      !to_i64(d.neg, mag, out)) {
    *why = "amount outside the 64-bit range of 1e-4 units";
    return FX_E_RANGE;
  }
  return 0;
}

size_t fx_money_format(fx_money m, char out[FX_NUMBER_STRLEN]) {
  return fixed_format(m < 0, magnitude(m), 4, out);
}

bool fx_factor_valid(fx_factor f) { return f >= 1 && f <= FX_FACTOR_ONE; }

int fx_factor_parse(const char *s, size_t n, fx_factor *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  struct dec d;
  int rc = dec_lex(s, n, &d, true, why);
  if (rc)
    return rc;
  if (d.fn > 2) {
    *why = "fractionDigits > 2";
    return FX_E_VALUE;
  }
  uint64_t mag = 0;
  if (d.in > 1 || !accum(&mag, d.ip, d.in) || !accum(&mag, d.fp, d.fn) || !scale10(&mag, 2 - d.fn) ||
      mag > FX_FACTOR_ONE) {
    *why = d.neg && (d.in || d.fn) ? "minInclusive 0.01" : "maxInclusive 1.00";
    return FX_E_VALUE;
  }
  if (mag == 0 || d.neg) {
    *why = "minInclusive 0.01";
    return FX_E_VALUE;
  }
  *out = (fx_factor)mag;
  return 0;
}

size_t fx_factor_format(fx_factor f, char out[FX_NUMBER_STRLEN]) {
  return fixed_format(false, f, 2, out);
}

int fx_decimal_parse(const char *s, size_t n, struct fx_decimal *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  struct dec d;
  int rc = dec_lex(s, n, &d, true, why);
  if (rc)
    return rc;
  if (d.in + d.fn > 18) {
    *why = "decimal with more than 18 significant digits";
    return FX_E_RANGE;
  }
  uint64_t mag = 0;
  accum(&mag, d.ip, d.in); /* < 10^18: cannot overflow */
  accum(&mag, d.fp, d.fn);
  out->mantissa = d.neg ? -(int64_t)mag : (int64_t)mag;
  out->scale = (uint8_t)d.fn;
  return 0;
}

struct fx_decimal fx_decimal_normal(struct fx_decimal d) {
  while (d.scale > 0 && d.mantissa % 10 == 0) {
    d.mantissa /= 10;
    d.scale--;
  }
  return d;
}

size_t fx_decimal_format(const struct fx_decimal *d, char out[FX_NUMBER_STRLEN]) {
  unsigned scale = d->scale > 18 ? 18 : d->scale;
  return fixed_format(d->mantissa < 0, magnitude(d->mantissa), scale, out);
}

int fx_bool_parse(const char *s, size_t n, bool *out, const char **why) {
  const char *ignored;
  if (!why)
    why = &ignored;
  fx_trim(&s, &n);
  if ((n == 4 && !memcmp(s, "true", 4)) || (n == 1 && s[0] == '1'))
    *out = true;
  else if ((n == 5 && !memcmp(s, "false", 5)) || (n == 1 && s[0] == '0'))
    *out = false;
  else {
    *why = "not a boolean (true, false, 1, 0)";
    return FX_E_VALUE;
  }
  return 0;
}
