/* b64.c — base64 for SignedMessage Bodies and key strings: encoding on
 * OpenSSL's EVP_EncodeBlock, decoding on four constant lookup tables.
 *
 * Why not a library decoder: the Body is nearly all of an inbound envelope,
 * and decoding it was three quarters of reading one. Measured on the 7,564
 * characters of a 96-ISP FlexOffer's Body (callgrind, instructions per
 * character): OpenSSL's EVP_DecodeBlock 9.3, GLib's g_base64_decode_step
 * 17.0, libb64 23.3 (which also skips invalid characters silently),
 * libbaseencode 462, libsodium's constant-time decoder slower still (the
 * Body is public data, so constant time buys nothing here). The tables
 * below cost 3.5: each letter's 6 bits are looked up already shifted into
 * place, so a group of four is four loads and three ORs, and a bit above
 * the 24 data bits marks any byte outside the alphabet.
 *
 * Decoding has two paths. The fast path covers every Body a normal peer
 * sends (no whitespace): the tables over the whole input, '=' only as the
 * last one or two characters, with the pad bits checked. Anything the fast
 * path does not accept goes to the slow path, which walks the input once,
 * skips XML whitespace, classifies every byte (so an error names its
 * offset) and decodes the letters it kept in whitespace-free chunks. Both
 * paths accept exactly xs:base64Binary. */
#include "codec/b64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

/* The four decode tables: what a letter at each position of a group of
 * four contributes to the group's three bytes, already in place (byte k of
 * the word is output byte k), and BAD_BIT, above them, for every byte
 * outside the alphabet. Written out by the preprocessor from one definition
 * of the alphabet, so they cannot disagree with it. */
#define B64_VALUE(c)                                                                                         \
  ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                                    \
   : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                                               \
   : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                                               \
   : (c) == '+'               ? 62                                                                           \
   : (c) == '/'               ? 63                                                                           \
                              : -1)
#define BAD_BIT UINT32_C(0x01000000)
#define LETTER(c, bits) (B64_VALUE(c) < 0 ? BAD_BIT : (bits))
#define V(c) ((uint32_t)B64_VALUE(c))
#define POS0(c) LETTER(c, V(c) << 2)                             /* byte 0: bits 7..2 */
#define POS1(c) LETTER(c, V(c) >> 4 | (V(c) & 15) << 12)         /* byte 0: 1..0, byte 1: 7..4 */
#define POS2(c) LETTER(c, (V(c) >> 2) << 8 | (V(c) & 3) << 22)   /* byte 1: 3..0, byte 2: 7..6 */
#define POS3(c) LETTER(c, V(c) << 16)                            /* byte 2: 5..0 */
#define R4(f, n) f(n), f(n + 1), f(n + 2), f(n + 3)
#define R16(f, n) R4(f, n), R4(f, n + 4), R4(f, n + 8), R4(f, n + 12)
#define R64(f, n) R16(f, n), R16(f, n + 16), R16(f, n + 32), R16(f, n + 48)
#define R256(f) {R64(f, 0), R64(f, 64), R64(f, 128), R64(f, 192)}
static const uint32_t dec0[256] = R256(POS0), dec1[256] = R256(POS1), dec2[256] = R256(POS2),
                      dec3[256] = R256(POS3);

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

static void put3(uint8_t *out, uint32_t x) {
  out[0] = (uint8_t)x;
  out[1] = (uint8_t)(x >> 8);
  out[2] = (uint8_t)(x >> 16);
}

/* Decodes `groups` groups of four letters (no '=') into out; false when
 * any byte is not a letter (out then holds garbage). On a little-endian
 * machine the word is the three bytes in memory order, so every group but
 * the last is one 4-byte store (the next group overwrites the fourth). */
static bool decode_groups(const unsigned char *in, size_t groups, uint8_t *out) {
  uint32_t bad = 0;
  size_t g = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (; g + 1 < groups; g++, in += 4, out += 3) {
    uint32_t x = dec0[in[0]] | dec1[in[1]] | dec2[in[2]] | dec3[in[3]];
    bad |= x;
    memcpy(out, &x, sizeof x);
  }
#endif
  for (; g < groups; g++, in += 4, out += 3) {
    uint32_t x = dec0[in[0]] | dec1[in[1]] | dec2[in[2]] | dec3[in[3]];
    bad |= x;
    put3(out, x);
  }
  return !(bad & BAD_BIT);
}

/* The last 2 or 3 letters before '=' padding (k of them, already known to
 * be letters with zero pad bits): 1 or 2 bytes. */
static size_t decode_tail(const unsigned char *in, size_t k, uint8_t *out) {
  uint32_t x = dec0[in[0]] | dec1[in[1]] | (k == 3 ? dec2[in[2]] : 0);
  out[0] = (uint8_t)x;
  if (k == 3)
    out[1] = (uint8_t)(x >> 8);
  return k - 1;
}

/* The tables over the whole input; returns -1 whenever the input is
 * anything but plain, canonical, whitespace-free base64 (the slow path then
 * decides, and names the offset). */
static long decode_fast(const char *in, size_t n, uint8_t *out) {
  if (n == 0)
    return 0;
  if (n % 4 != 0)
    return -1;
  const unsigned char *u = (const unsigned char *)in;
  size_t pads = u[n - 1] != '=' ? 0 : u[n - 2] != '=' ? 1 : 2;
  if (!decode_groups(u, n / 4 - (pads != 0), out))
    return -1;
  if (!pads)
    return (long)(n / 4 * 3);
  const unsigned char *last = u + n - 4;
  uint32_t x = dec0[last[0]] | dec1[last[1]] | (pads == 1 ? dec2[last[2]] : 0);
  /* A non-letter before the padding, or bits set beyond the data (in
   * output byte 2, or bytes 1 and 2). */
  if (x & (BAD_BIT | (pads == 1 ? 0xff0000u : 0xffff00u)))
    return -1;
  return (long)((n / 4 - 1) * 3 + decode_tail(last, 4 - pads, out + (n / 4 - 1) * 3));
}

/* Whitespace-free letters waiting to be decoded; a multiple of 4 so that
 * every full chunk decodes on its own. */
struct chunk {
  unsigned char buf[1024];
  size_t len;
};

/* Decodes the chunk's whole groups; the letters before '=' padding (the
 * last 2 or 3, when pads) only at the end, with `last` set. */
static void chunk_flush(struct chunk *c, uint8_t *out, size_t *outlen, bool last) {
  size_t whole = c->len / 4;
  /* Every byte was validated, so the tables cannot fail here. */
  (void)decode_groups(c->buf, whole, out + *outlen);
  *outlen += whole * 3;
  if (last && c->len % 4)
    *outlen += decode_tail(c->buf + whole * 4, c->len % 4, out + *outlen);
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
      letters++;
      continue;
    }
    if (cls == BAD)
      return fail(err, i, "character not in the base64 alphabet");
    if (pads)
      return fail(err, i, "data after '=' padding");
    last_off = i;
    c.buf[c.len++] = ch;
    letters++;
    if (c.len == sizeof c.buf)
      chunk_flush(&c, out, &outlen, false);
  }
  if (letters % 4 != 0)
    return fail(err, n, "length is not a multiple of 4 (truncated?)");
  if (pads && !pad_bits_zero((unsigned char)in[last_off], pads))
    return fail(err, last_off, "non-zero bits before '=' padding");
  chunk_flush(&c, out, &outlen, true);
  return (long)outlen;
}

long fx_b64_decode_plain(const char *in, size_t n, uint8_t *out, size_t cap) {
  if (n > INT_MAX || cap < fx_b64_decoded_max(n))
    return -1;
  return decode_fast(in, n, out);
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
