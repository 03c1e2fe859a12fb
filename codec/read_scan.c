/* read_scan.c — a byte-level pass over a document before libxml2 sees it.
 *
 * libxml2 2.9 checks for duplicate attributes with a quadratic loop: one
 * start tag with 100,000 attributes costs it seconds. Counting the
 * attributes ourselves first (an '=' outside quotes inside a start tag is
 * one attribute or namespace declaration) bounds that work by max_attrs.
 * The same pass refuses a DOCTYPE before any of it is parsed, and an
 * attribute value whose text as written is longer than the limit (decoding
 * only shortens a value, so this bounds what libxml2 buffers for us). Everything
 * else (well-formedness) is left to libxml2; when this lexer is confused by
 * malformed input it simply stops and lets libxml2 report the error.
 *
 * For a SignedMessage the pass also notes where the root's Body value lies,
 * so that the reader can decode it from the raw bytes and spare libxml2 the
 * scan of its largest attribute (see body_fast_path in read.c).
 *
 * The exact pass walks every byte of every start tag, which cost a tenth of
 * reading a payload, so a document first gets a quick look (quick_ok) that
 * only hops from '<' to '<' (memchr) and counts '=' in the rare segment
 * longer than max_attrs. Why that is enough: libxml2 only collects the
 * attributes of a start tag up to the first '<' after it (a '<' in a value
 * or between attributes is a fatal error that ends the tag), every
 * attribute it collects has its own '=', so a segment (from one '<' to the
 * next) with at most max_attrs '=' cannot make libxml2 collect more, and
 * no value in it can be longer than the segment. Any segment that could
 * break a limit, or that starts a DOCTYPE, sends the document to the exact
 * pass. For a well-formed document the verdict is therefore the exact
 * pass's; a malformed one whose over-long or over-full tag also holds a
 * '<' now gets libxml2's error (FX_E_XML) where the exact pass said
 * FX_E_LIMIT, and the reader's own checks (on_start counts attributes,
 * apply_attrs measures values) remain behind both. */
#include <string.h>

#include "codec/model.h"

/* memmem is a GNU extension; terminators are short, so memchr + memcmp. */
static const char *find(const char *p, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (const char *end = p + n; (size_t)(end - p) >= k;) {
    const char *q = memchr(p, needle[0], (size_t)(end - p) - k + 1);
    if (!q)
      return NULL;
    if (!memcmp(q, needle, k))
      return q;
    p = q + 1;
  }
  return NULL;
}

/* The bytes a start tag's scan stops at; every other byte is one load and
 * one test. */
enum { T_OTHER, T_QUOTE, T_EQ, T_GT };
static const unsigned char tag_class[256] = {['"'] = T_QUOTE, ['\''] = T_QUOTE, ['='] = T_EQ, ['>'] = T_GT};

static bool xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Does the '=' at p[eq] follow the attribute name "Body" (whitespace before
 * the name and around the '=' allowed, nothing else)? */
static bool names_body(const char *p, size_t start, size_t eq) {
  size_t k = eq;
  while (k > start && xml_space(p[k - 1]))
    k--;
  return k >= start + 5 && !memcmp(p + k - 4, "Body", 4) && xml_space(p[k - 5]);
}

/* Body bookkeeping of the first start tag: the value of the one attribute
 * named Body, or no span at all when there are several (libxml2 then
 * reports the duplicate on the whole document). */
static void note_body(struct fx_scan_span *body, const char *p, size_t eq, size_t quote, size_t end) {
  for (size_t k = eq + 1; k < quote; k++)
    if (!xml_space(p[k]))
      return;
  body->found++;
  body->off = quote + 1;
  body->len = end - quote - 1;
}

/* Skips a start tag beginning at p[i] (just after '<'); returns the index
 * after its '>' or n, SIZE_MAX when it has too many attributes, SIZE_MAX - 1
 * when a value is longer than max_len. With body non-NULL, notes the span
 * of a Body attribute's value in it. */
static size_t start_tag(const char *p, size_t n, size_t i, uint32_t max_attrs, size_t max_len,
                        struct fx_scan_span *body) {
  uint32_t count = 0;
  size_t start = i, body_eq = SIZE_MAX;
  for (;;) {
    while (i < n && tag_class[(unsigned char)p[i]] == T_OTHER)
      i++;
    if (i >= n)
      return n;
    switch (tag_class[(unsigned char)p[i]]) {
    case T_QUOTE: {
      const char *q = memchr(p + i + 1, p[i], n - i - 1);
      if (!q)
        return n;
      if ((size_t)(q - p) - i - 1 > max_len)
        return SIZE_MAX - 1;
      if (body_eq != SIZE_MAX)
        note_body(body, p, body_eq, i, (size_t)(q - p));
      body_eq = SIZE_MAX;
      i = (size_t)(q - p) + 1;
      break;
    }
    case T_EQ:
      if (++count > max_attrs)
        return SIZE_MAX;
      if (body && names_body(p, start, i))
        body_eq = i;
      i++;
      break;
    default:
      return i + 1;
    }
  }
}

/* Index after the terminator of a comment, CDATA section or PI that starts
 * at p[i] (just after '<'), or n when unterminated. */
static size_t skip_markup(const char *p, size_t n, size_t i, const char *end) {
  const char *q = find(p + i, n - i, end);
  return q ? (size_t)(q - p) + strlen(end) : n;
}

/* ------------------------------------------------------- the quick proof */

/* Eight bytes as one word, in memory order from the low byte (ctz-free: the
 * counts below do not care about byte order). */
static uint64_t load8(const char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

#define ONES UINT64_C(0x0101010101010101)
#define LOW7 UINT64_C(0x7F7F7F7F7F7F7F7F)

/* The high bit of every byte of v equal to c, and no other bit. Exact (no
 * borrow between bytes), unlike the shorter has-zero-byte trick. */
static uint64_t eq_mask(uint64_t v, unsigned char c) {
  uint64_t x = v ^ (ONES * c);
  return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/* How many bytes of [p, p+n) equal c. */
static size_t count_byte(const char *p, size_t n, unsigned char c) {
  size_t k = 0, i = 0;
  for (; i + 8 <= n; i += 8)
    k += (size_t)(((eq_mask(load8(p + i), c) >> 7) * ONES) >> 56);
  for (; i < n; i++)
    k += (unsigned char)p[i] == c;
  return k;
}

/* May the exact pass be skipped (see the top of the file)? Every start tag
 * libxml2 could read begins a segment checked here. */
static bool quick_ok(const char *p, size_t n, uint32_t max_attrs, size_t max_len) {
  const char *end = p + n, *s = memchr(p, '<', n);
  while (s) {
    const char *next = memchr(s + 1, '<', (size_t)(end - s - 1)); /* s < end */
    size_t len = (size_t)((next ? next : end) - s);
    if (len >= 9 && s[1] == '!' && !memcmp(s + 1, "!DOCTYPE", 8))
      return false;
    if ((len > max_attrs || len > max_len) && len >= 2) {
      char c = s[1];
      if (c != '!' && c != '?' && c != '/' && (len > max_len || count_byte(s, len, '=') > max_attrs))
        return false;
    }
    s = next;
  }
  return true;
}

/* ------------------------------------------------------- the exact pass */

int fx_scan_prepass(const char *p, size_t n, uint32_t max_attrs, size_t max_len, struct fx_scan_span *body,
                    const char **why) {
  if (!body && quick_ok(p, n, max_attrs, max_len))
    return 0;
  size_t i = 0;
  if (body)
    *body = (struct fx_scan_span){0, 0, 0};
  while (i < n) {
    const char *lt = memchr(p + i, '<', n - i);
    if (!lt)
      break;
    i = (size_t)(lt - p) + 1;
    if (i >= n)
      break;
    const char *r = p + i;
    size_t left = n - i;
    if (left >= 3 && !memcmp(r, "!--", 3))
      i = skip_markup(p, n, i + 3, "-->");
    else if (left >= 8 && !memcmp(r, "![CDATA[", 8))
      i = skip_markup(p, n, i + 8, "]]>");
    else if (left >= 8 && !memcmp(r, "!DOCTYPE", 8)) {
      *why = "DOCTYPE (DTD) not allowed";
      return FX_E_FORBIDDEN;
    } else if (r[0] == '?')
      i = skip_markup(p, n, i + 1, "?>");
    else if (r[0] == '!' || r[0] == '/')
      i = skip_markup(p, n, i, ">");
    else {
      if ((i = start_tag(p, n, i, max_attrs, max_len, body)) >= SIZE_MAX - 1) {
        *why = i == SIZE_MAX ? "too many attributes on one element" : "attribute value longer than the limit";
        return FX_E_LIMIT;
      }
      body = NULL; /* only the root's */
    }
  }
  return 0;
}
