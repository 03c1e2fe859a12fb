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

/* Class of every byte: 1 + the 6-bit value of a base64 letter, SPACE for
 * XML whitespace, PAD for '=', 0 (BAD) for everything else. Offset by one so
 * that the entries designated initialisers leave out are BAD. */
enum { BAD = 0, SPACE = 65, PAD = 66 };
static const unsigned char b64_class[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
    ['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    [' '] = SPACE, ['\t'] = SPACE, ['\n'] = SPACE, ['\r'] = SPACE,
    ['='] = PAD,
};

/* The bits a letter before '=' carries past the end of the data must be
 * zero: one '=' leaves 2 spare bits, two leave 4 (xs:base64Binary's B16/B04). */
static int pad_bits_zero(unsigned char last, size_t pads) {
  int mask = pads == 1 ? 0x03 : 0x0f;
  return ((b64_class[last] - 1) & mask) == 0;
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
    unsigned char ch = (unsigned char)in[i], cls = b64_class[ch];
    if (cls == SPACE)
      continue;
    if (cls == PAD) {
      if (pads == 2)
        return fail(err, i, "more than two '=' padding characters");
      if (letters % 4 < 2)
        return fail(err, i, "'=' padding in the wrong place");
      pads++;
    } else if (cls == BAD) {
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
