/* b64.c — base64 for SignedMessage Bodies and key strings, on OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock.
 *
 * EVP_DecodeBlock alone is too lenient for a wire format: it reads '=' as the
 * letter 'A' wherever it appears, trims leading whitespace and trailing
 * whitespace or '-', and counts padding bytes in its result. So decoding has
 * two paths. The fast path covers every Body a normal peer sends (no
 * whitespace): one EVP_DecodeBlock call over the whole input, made exact by
 * checking the length, the '=' positions (memchr) and the pad bits around
 * it. Anything the fast path does not accept goes to the slow path, which
 * walks the input once, skips XML whitespace, classifies every byte (so an
 * error names its offset) and feeds whitespace-free chunks to
 * EVP_DecodeBlock. Both paths accept exactly xs:base64Binary. */
#include "codec/b64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

/* 6-bit value of each base64 letter; -1 for every other byte. */
static const signed char b64_value[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,
    ['G'] = 6,  ['H'] = 7,  ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11,
    ['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17,
    ['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21, ['W'] = 22, ['X'] = 23,
    ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29,
    ['e'] = 30, ['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35,
    ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40, ['p'] = 41,
    ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47,
    ['w'] = 48, ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53,
    ['2'] = 54, ['3'] = 55, ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59,
    ['8'] = 60, ['9'] = 61, ['+'] = 62, ['/'] = 63,
};

/* Designated initialisers leave the other entries 0, which is also 'A';
 * so membership is tested separately. */
static int is_b64(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int is_xml_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The bits a letter before '=' carries past the end of the data must be
 * zero: one '=' leaves 2 spare bits, two leave 4 (xs:base64Binary's B16/B04). */
static int pad_bits_zero(unsigned char last, size_t pads) {
  int mask = pads == 1 ? 0x03 : 0x0f;
  return (b64_value[last] & mask) == 0;
}

static long fail(struct fx_b64_error *err, size_t offset, const char *why) {
  if (err) {
    err->offset = offset;
    err->why = why;
  }
  return -1;
}

long fx_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap) {
  if (n > (size_t)INT_MAX / 4 * 3 || cap < fx_b64_encoded_len(n) + 1)
    return -1;
  return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* One EVP_DecodeBlock call; returns -1 whenever the input is anything but
 * plain, canonical, whitespace-free base64 (the slow path then decides). */
static long decode_fast(const char *in, size_t n, uint8_t *out) {
  if (n == 0)
    return 0;
  if (n % 4 != 0)
    return -1;
  size_t pads = in[n - 1] != '=' ? 0 : in[n - 2] != '=' ? 1 : 2;
  if (memchr(in, '=', n - pads) != NULL)
    return -1;
  if (pads && !pad_bits_zero((unsigned char)in[n - pads - 1], pads))
    return -1;
  int r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
  /* A shorter result means OpenSSL trimmed something we do not accept. */
  if (r < 0 || (size_t)r != n / 4 * 3)
    return -1;
  return r - (long)pads;
}

/* Whitespace-free letters waiting to be decoded; a multiple of 4 so that
 * every full chunk decodes on its own. */
struct chunk {
  unsigned char buf[1024];
  size_t len;
};

static void chunk_flush(struct chunk *c, uint8_t *out, size_t *outlen) {
  if (c->len == 0)
    return;
  /* Every byte was validated, so OpenSSL cannot fail here. */
  int r = EVP_DecodeBlock(out + *outlen, c->buf, (int)c->len);
  *outlen += (size_t)(r < 0 ? 0 : r);
  c->len = 0;
}

static long decode_slow(const char *in, size_t n, uint8_t *out,
                        struct fx_b64_error *err) {
  struct chunk c = {.len = 0};
  size_t letters = 0, pads = 0, outlen = 0, last_off = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)in[i];
    if (is_xml_space(ch))
      continue;
    if (ch == '=') {
      if (pads == 2)
        return fail(err, i, "more than two '=' padding characters");
      if (letters % 4 < 2)
        return fail(err, i, "'=' padding in the wrong place");
      pads++;
    } else if (!is_b64(ch)) {
      return fail(err, i, "character not in the base64 alphabet");
    } else if (pads) {
      return fail(err, i, "data after '=' padding");
    } else {
      last_off = i;
    }
    c.buf[c.len++] = ch;
    letters++;
    if (c.len == sizeof c.buf)
      chunk_flush(&c, out, &outlen);
  }
  if (letters % 4 != 0)
    return fail(err, n, "length is not a multiple of 4 (truncated?)");
  if (pads && !pad_bits_zero((unsigned char)in[last_off], pads))
    return fail(err, last_off, "non-zero bits before '=' padding");
  chunk_flush(&c, out, &outlen);
  return (long)(outlen - pads);
}

long fx_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                   struct fx_b64_error *err) {
  if (n > INT_MAX)
    return fail(err, 0, "input too large");
  if (cap < fx_b64_decoded_max(n))
    return fail(err, 0, "output buffer too small");
  long r = decode_fast(in, n, out);
  return r >= 0 ? r : decode_slow(in, n, out, err);
}
