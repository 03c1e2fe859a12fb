/* types_text.c — the string-derived XSD types: UUIDs and the patterns of
 * InternetDomainType, EntityAddressType, EANType, ISO4217CurrencyType,
 * TimeZoneNameType and SpecVersion, plus the xs:base64Binary lexical space.
 *
 * Patterns are hand-written matchers equivalent to the XSD regular
 * expressions (anchored, as XSD patterns are). Two documented deviations:
 * `\d` in SpecVersion accepts ASCII digits only (XSD: any Unicode Nd), and
 * `.` in EntityAddressType counts Unicode code points as XSD does. */
#include <string.h>

#include "codec/types.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int fx_uuid_parse(const char *s, size_t n, struct fx_uuid *out, const char **why) {
  if (n != 36)
    goto bad;
  size_t j = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i++] != '-')
        goto bad;
      continue;
    }
    int hi = hexval(s[i]), lo = hexval(s[i + 1]);
    if (hi < 0 || lo < 0)
      goto bad;
    out->b[j++] = (uint8_t)(hi << 4 | lo);
    i += 2;
  }
  return 0;
bad:
  if (why)
    *why = "pattern UUIDType";
  return FX_E_VALUE;
}

size_t fx_uuid_format(const struct fx_uuid *u, char out[FX_UUID_STRLEN]) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[k++] = '-';
    out[k++] = hex[u->b[i] >> 4];
    out[k++] = hex[u->b[i] & 15];
  }
  out[k] = 0;
  return k;
}

bool fx_uuid_equal(const struct fx_uuid *a, const struct fx_uuid *b) { return !memcmp(a->b, b->b, 16); }

static bool is_alnum(char c) { return is_lower(c) || is_digit(c); }

/* ([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}: the final label is the [a-z]{2,}
 * part (it has no dot), every label before it ends with a dot. */
bool fx_pat_domain(const char *s, size_t n) {
  size_t last = n;
  while (last > 0 && s[last - 1] != '.')
    last--;
  if (last < 2 || n - last < 2)
    return false;
  for (size_t i = last; i < n; i++)
    if (!is_lower(s[i]))
      return false;
  for (size_t i = 0; i < last; i++) { /* s[last - 1] == '.' ends every loop */
    if (!is_alnum(s[i]))
      return false;
    while (s[i] != '.') {
      if (!is_alnum(s[i]) && !(s[i] == '-' && is_alnum(s[i + 1])))
        return false;
      i++;
    }
  }
  return true;
}

/* Decodes one UTF-8 sequence; returns its length or 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    v = v << 6 | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

bool fx_text_ok(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t l = utf8_next(u + i, n - i, &cp);
    if (!l || (cp < 0x20 && cp != 9 && cp != 10 && cp != 13) || cp == 0xFFFE || cp == 0xFFFF)
      return false;
    i += l;
  }
  return true;
}

/* (ea1\.[0-9]{4}-[0-9]{2}\..{1,244}:.{1,244}|ean\.[0-9]{12,34}) where `.`
 * is any code point but CR and LF; `.` also matches ':', so any colon that
 * splits the rest into 1..244 + 1..244 code points will do. */
bool fx_pat_entity(const char *s, size_t n) {
  if (n >= 4 && !memcmp(s, "ean.", 4)) {
    if (n - 4 < 12 || n - 4 > 34)
      return false;
    for (size_t i = 4; i < n; i++)
      if (!is_digit(s[i]))
        return false;
    return true;
  }
  if (n < 12 || memcmp(s, "ea1.", 4) || s[8] != '-' || s[11] != '.')
    return false;
  for (size_t i = 4; i < 11; i++)
    if (i != 8 && !is_digit(s[i]))
      return false;
  const unsigned char *r = (const unsigned char *)s + 12;
  size_t rn = n - 12, total = 0;
  for (size_t i = 0; i < rn; total++) {
    uint32_t cp;
    size_t l = utf8_next(r + i, rn - i, &cp);
    if (!l || cp == '\n' || cp == '\r')
      return false;
    i += l;
  }
  size_t pos = 0;
  for (size_t i = 0; i < rn; pos++) {
    uint32_t cp;
    i += utf8_next(r + i, rn - i, &cp);
    if (cp == ':' && pos >= 1 && pos <= 244 && total - pos - 1 >= 1 && total - pos - 1 <= 244)
      return true;
  }
  return false;
}

/* [Ee][0-9]{16} */
bool fx_pat_ean(const char *s, size_t n) {
  if (n != 17 || (s[0] != 'E' && s[0] != 'e'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_digit(s[i]))
      return false;
  return true;
}

/* [A-Z]{3} */
bool fx_pat_currency(const char *s, size_t n) {
  return n == 3 && is_upper(s[0]) && is_upper(s[1]) && is_upper(s[2]);
}

/* (Africa|America|Australia|Europe|Pacific)/[a-zA-Z0-9_/]{3,} */
bool fx_pat_tzname(const char *s, size_t n) {
  static const char *const areas[] = {"Africa/", "America/", "Australia/", "Europe/", "Pacific/"};
  for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++) {
    size_t l = strlen(areas[a]);
    if (n < l + 3 || memcmp(s, areas[a], l))
      continue;
    for (size_t i = l; i < n; i++)
      if (!is_lower(s[i]) && !is_upper(s[i]) && !is_digit(s[i]) && s[i] != '_' && s[i] != '/')
        return false;
    return true;
  }
  return false;
}

/* (\d+\.\d+\.\d+) */
bool fx_pat_version(const char *s, size_t n) {
  size_t i = 0;
  for (int part = 0; part < 3; part++) {
    size_t st = i;
    while (i < n && is_digit(s[i]))
      i++;
    if (i == st)
      return false;
    if (part < 2 && (i >= n || s[i++] != '.'))
      return false;
  }
  return i == n;
}

static int b64val(char c) {
  if (is_upper(c))
    return c - 'A';
  if (is_lower(c))
    return c - 'a' + 26;
  if (is_digit(c))
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* xs:base64Binary after whiteSpace collapse: groups of four alphabet
 * characters, the last group padded with '=' whose preceding character
 * leaves no stray bits (B16 before '=', B04 before '=='). */
bool fx_pat_base64(const char *s, size_t n) {
  size_t count = 0, pad = 0;
  int prev = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (c == '=') {
      pad++;
    } else {
      int v = b64val(c);
      if (v < 0 || pad)
        return false;
      prev = v;
    }
    count++;
  }
  if (count % 4 || pad > 2)
    return false;
  if (pad == 1)
    return (prev & 3) == 0;
  if (pad == 2)
    return (prev & 15) == 0;
  return true;
}
