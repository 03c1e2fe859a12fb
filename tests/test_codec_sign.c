/* test_codec_sign.c — CS1 seal/open, strict base64, cs1 key strings and key
 * files (codec/sign.h, codec/b64.h, codec/keys.h), with real Ed25519 keys
 * and real files in a temporary directory. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/b64.h"
#include "codec/keys.h"
#include "codec/sign.h"

static const char INNER[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<TestMessage Version=\"3.1.0\" SenderDomain=\"dso.example.com\" "
    "RecipientDomain=\"flexd.example.com\" TimeStamp=\"2025-03-01T12:00:00+01:00\" "
    "MessageID=\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\" "
    "ConversationID=\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\"/>";

/* Deterministic keys from a one-byte seed, so failures reproduce. */
static void keys_from_seed(uint8_t seed_byte, uint8_t pk[32], uint8_t sk[64]) {
  uint8_t seed[32];
  memset(seed, seed_byte, sizeof seed);
  cr_assert_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

/* Seals INNER with seed 1 into a malloc'd NUL-terminated Body. */
static char *sealed_body(fx_sign_ctx *ctx, size_t *len) {
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  const char *b64;
  cr_assert_eq(fx_sign_seal(ctx, sk, INNER, strlen(INNER), &b64, len),
               FX_SIGN_OK);
  return strdup(b64);
}

/* --- base64 ----------------------------------------------------------- */

static long dec(const char *s, uint8_t *out, size_t cap,
                struct fx_b64_error *e) {
  return fx_b64_decode(s, strlen(s), out, cap, e);
}

Test(b64, rfc4648_test_vectors) {
  static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                              "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i < 7; i++) {
    char out[16];
    uint8_t back[16];
    size_t n = strlen(plain[i]);
    cr_assert_eq(fx_b64_encode((const uint8_t *)plain[i], n, out, sizeof out),
                 (long)strlen(enc[i]));
    cr_assert_str_eq(out, enc[i]);
    cr_assert_eq(dec(enc[i], back, sizeof back, NULL), (long)n);
    cr_assert_eq(memcmp(back, plain[i], n), 0);
  }
}

/* Every length and content agrees with libsodium's strict decoder. */
Test(b64, round_trip_agrees_with_libsodium) {
  cr_assert_geq(sodium_init(), 0);
  uint8_t in[300], back[FX_B64_DECODED_MAX(400)], ref[300];
  char text[FX_B64_ENCODED_LEN(300) + 1];
  for (size_t n = 0; n <= sizeof in; n++) {
    randombytes_buf(in, n);
    long tl = fx_b64_encode(in, n, text, sizeof text);
    cr_assert_eq(tl, (long)fx_b64_encoded_len(n));
    cr_assert_eq(dec(text, back, sizeof back, NULL), (long)n, "n=%zu", n);
    cr_assert_eq(memcmp(back, in, n), 0);
    size_t rl = 0;
    cr_assert_eq(sodium_base642bin(ref, sizeof ref, text, (size_t)tl, NULL, &rl,
                                   NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    cr_assert_eq(rl, n);
  }
}

Test(b64, character_outside_alphabet_is_rejected_at_its_offset) {
  uint8_t out[32];
  struct fx_b64_error e = {0, NULL};
  cr_assert_eq(dec("Zm9v*mFy", out, sizeof out, &e), -1);
  cr_assert_eq(e.offset, 4);
  cr_assert_str_eq(e.why, "character not in the base64 alphabet");
  cr_assert_eq(dec("Zm9vYmF-", out, sizeof out, &e), -1); /* base64url */
  cr_assert_eq(e.offset, 7);
  cr_assert_eq(dec("Zm9v\x80mFy", out, sizeof out, &e), -1);
  cr_assert_eq(e.offset, 4);
}

/* OpenSSL trims a trailing '-' and still reports success; we must not. */
Test(b64, trailing_dashes_openssl_would_trim_are_rejected) {
  uint8_t out[32];
  struct fx_b64_error e = {0, NULL};
  cr_assert_eq(dec("Zm9v----", out, sizeof out, &e), -1);
  cr_assert_eq(e.offset, 4);
}

Test(b64, bad_padding_is_rejected) {
  uint8_t out[32];
  struct fx_b64_error e = {0, NULL};
  cr_assert_eq(dec("Zg=", out, sizeof out, &e), -1); /* length */
  cr_assert_eq(e.offset, 3);
  cr_assert_eq(dec("Zg=a", out, sizeof out, &e), -1); /* data after pad */
  cr_assert_eq(e.offset, 3);
  cr_assert_eq(dec("Z===", out, sizeof out, &e), -1); /* pad at position 1 */
  cr_assert_eq(e.offset, 1);
  cr_assert_eq(dec("Zm9v=", out, sizeof out, &e), -1); /* pad at position 0 */
  cr_assert_eq(dec("Zm9vZg===", out, sizeof out, &e), -1); /* three pads */
  cr_assert_eq(e.offset, 8);
  cr_assert_eq(dec("Zm==Zm9v", out, sizeof out, &e), -1); /* pad mid-way */
  cr_assert_eq(e.offset, 4);
  cr_assert_eq(dec("Zm9", out, sizeof out, &e), -1); /* no padding */
  cr_assert_eq(e.offset, 3);
  cr_assert_str_eq(e.why, "length is not a multiple of 4 (truncated?)");
}

/* xs:base64Binary's B04/B16: the bits beyond the data must be zero. */
Test(b64, non_zero_pad_bits_are_rejected) {
  uint8_t out[32];
  struct fx_b64_error e = {0, NULL};
  cr_assert_eq(dec("Zh==", out, sizeof out, &e), -1);
  cr_assert_eq(e.offset, 1);
  cr_assert_str_eq(e.why, "non-zero bits before '=' padding");
  cr_assert_eq(dec("Zm9=", out, sizeof out, &e), -1);
  cr_assert_eq(e.offset, 2);
  cr_assert_eq(dec("Zg==", out, sizeof out, NULL), 1);
  cr_assert_eq(dec("Zm8=", out, sizeof out, NULL), 2);
}

/* The schema's whiteSpace=collapse facet allows whitespace anywhere. */
Test(b64, xml_whitespace_is_skipped_anywhere) {
  uint8_t out[32];
  cr_assert_eq(dec(" Zm9v\r\nYmFy\t", out, sizeof out, NULL), 6);
  cr_assert_eq(memcmp(out, "foobar", 6), 0);
  cr_assert_eq(dec("Z m 9 v Y g = =", out, sizeof out, NULL), 4);
  cr_assert_eq(memcmp(out, "foob", 4), 0);
  cr_assert_eq(dec("   ", out, sizeof out, NULL), 0);
  cr_assert_eq(dec("Zm9v\fYmFy", out, sizeof out, NULL), -1); /* not XML space */
}

/* A long Body with whitespace crosses the slow path's chunk boundary. */
Test(b64, long_input_with_line_breaks_decodes_exactly) {
  enum { N = 3000 };
  uint8_t in[N], out[FX_B64_DECODED_MAX(2 * N)];
  char text[FX_B64_ENCODED_LEN(N) + 1], wrapped[2 * N];
  for (size_t i = 0; i < N; i++)
    in[i] = (uint8_t)(i * 7 + 3);
  long tl = fx_b64_encode(in, N - 1, text, sizeof text);
  size_t w = 0;
  for (long i = 0; i < tl; i++) {
    wrapped[w++] = text[i];
    if (i % 76 == 75)
      wrapped[w++] = '\n';
  }
  cr_assert_eq(fx_b64_decode(wrapped, w, out, sizeof out, NULL), N - 1);
  cr_assert_eq(memcmp(out, in, N - 1), 0);
}

Test(b64, small_output_buffer_is_refused) {
  uint8_t out[4];
  cr_assert_eq(dec("Zm9vYmFy", out, sizeof out, NULL), -1);
  char text[8];
  cr_assert_eq(fx_b64_encode((const uint8_t *)"foobar", 6, text, sizeof text), -1);
}

/* The table decoder against libsodium's, byte by byte: every byte value at
 * a position in the first group, in the middle (the fast path's 4-byte
 * stores), in the last full group and in the padded tail. libsodium,
 * told to skip XML whitespace, is the oracle on ASCII; bytes >= 0x80 and
 * NUL are always refused. Where ours accepts, the plain decoder (no
 * whitespace allowed) agrees with it exactly when no whitespace is left. */
static bool xml_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void check_one(const char *text, size_t n) {
  uint8_t ours[64], theirs[64], plain[64];
  struct fx_b64_error e = {0, NULL};
  long k = fx_b64_decode(text, n, ours, sizeof ours, &e);
  bool ascii = true, space = false;
  for (size_t i = 0; i < n; i++) {
    ascii = ascii && text[i] != 0 && (unsigned char)text[i] < 0x80;
    space = space || xml_ws((unsigned char)text[i]);
  }
  if (ascii) {
    size_t m = 0;
    int rc = sodium_base642bin(theirs, sizeof theirs, text, n, " \t\r\n", &m, NULL,
                               sodium_base64_VARIANT_ORIGINAL);
    cr_assert_eq(k >= 0, rc == 0, "'%.*s': ours %ld (%s), libsodium %d", (int)n, text, k, k < 0 ? e.why : "",
                 rc);
    if (k >= 0)
      cr_assert(k == (long)m && !memcmp(ours, theirs, m), "'%.*s' decodes differently", (int)n, text);
  } else {
    cr_assert_lt(k, 0, "byte outside ASCII accepted");
  }
  long p = fx_b64_decode_plain(text, n, plain, sizeof plain);
  if (k < 0 || space)
    cr_assert_lt(p, 0, "'%.*s': plain decoder accepted what it must leave alone", (int)n, text);
  else
    cr_assert(p == k && !memcmp(plain, ours, (size_t)k), "'%.*s': plain decoder differs", (int)n, text);
}

Test(b64, every_byte_at_every_kind_of_position) {
  /* 32 letters (24 bytes), then "QQ==" and "QUE=" padded endings. */
  static const char *bodies[] = {"VGhlIHF1aWNrIGJyb3duIGZveCBqdW1w", "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wQQ==",
                                 "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wQUE="};
  for (size_t b = 0; b < 3; b++) {
    size_t n = strlen(bodies[b]);
    size_t pos[] = {0, 1, 3, 13, 18, 27, 28, 31, n - 4, n - 3, n - 2, n - 1};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
      for (int c = 0; c < 256; c++) {
        char text[64];
        memcpy(text, bodies[b], n);
        text[pos[i]] = (char)c;
        check_one(text, n);
      }
  }
}

Test(b64, plain_decoder_takes_only_canonical_input) {
  uint8_t out[32];
  cr_assert_eq(fx_b64_decode_plain("Zm9vYmFy", 8, out, sizeof out), 6);
  cr_assert_eq(memcmp(out, "foobar", 6), 0);
  cr_assert_eq(fx_b64_decode_plain("Zm9vYg==", 8, out, sizeof out), 4);
  cr_assert_eq(fx_b64_decode_plain("Zm9=", 4, out, sizeof out), -1, "pad bits set");
  cr_assert_eq(fx_b64_decode_plain("Zm9v YmFy", 9, out, sizeof out), -1, "whitespace is not plain");
  cr_assert_eq(fx_b64_decode_plain("Zm9vYmF", 7, out, sizeof out), -1, "truncated");
  cr_assert_eq(fx_b64_decode_plain("Zm9vYmFy", 8, out, 8), -1, "output buffer too small");
  cr_assert_eq(fx_b64_decode_plain("", 0, out, sizeof out), 0);
}

/* --- seal / open ------------------------------------------------------ */

Test(sign, seal_is_base64_of_crypto_sign) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  size_t n = strlen(INNER), blen;
  const char *b64;
  cr_assert_eq(fx_sign_seal(ctx, sk, INNER, n, &b64, &blen), FX_SIGN_OK);
  cr_assert_eq(blen, strlen(b64));
  uint8_t sm[sizeof INNER + 64], raw[FX_B64_DECODED_MAX(2 * sizeof INNER + 200)];
  unsigned long long smlen;
  crypto_sign(sm, &smlen, (const uint8_t *)INNER, n, sk);
  cr_assert_eq(fx_b64_decode(b64, blen, raw, sizeof raw, NULL), (long)smlen);
  cr_assert_eq(memcmp(raw, sm, smlen), 0);
  fx_sign_ctx_free(ctx);
}

Test(sign, open_returns_the_exact_inner_bytes) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  struct fx_sign_opened o;
  cr_assert_eq(fx_sign_open(ctx, pk, body, blen, &o), FX_SIGN_OK);
  cr_assert_eq(o.len, strlen(INNER));
  cr_assert_eq(memcmp(o.inner, INNER, o.len), 0);
  cr_assert_eq(o.inner[o.len], '\0');
  free(body);
  fx_sign_ctx_free(ctx);
}

/* Flip each bit of the signed blob (signature and message): every one fails. */
Test(sign, flipped_bit_anywhere_in_the_body_is_rejected) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64], sm[sizeof INNER + 64];
  keys_from_seed(1, pk, sk);
  unsigned long long smlen;
  crypto_sign(sm, &smlen, (const uint8_t *)INNER, strlen(INNER), sk);
  char text[FX_B64_ENCODED_LEN(sizeof INNER + 64) + 1];
  for (size_t bit = 0; bit < smlen * 8; bit++) {
    sm[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    long tl = fx_b64_encode(sm, smlen, text, sizeof text);
    sm[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    struct fx_sign_opened o;
    int st = fx_sign_open(ctx, pk, text, (size_t)tl, &o);
    cr_assert_eq(st, FX_SIGN_EBADSIG, "bit %zu: status %d", bit, st);
    cr_assert_null(o.inner);
  }
  fx_sign_ctx_free(ctx);
}

Test(sign, wrong_key_is_rejected_with_401) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(2, pk, sk);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  struct fx_sign_opened o;
  int st = fx_sign_open(ctx, pk, body, blen, &o);
  cr_assert_eq(st, FX_SIGN_EBADSIG);
  cr_assert_eq(fx_sign_http_status(st), 401);
  cr_assert_str_eq(o.why, "signature does not verify");
  free(body);
  fx_sign_ctx_free(ctx);
}

Test(sign, truncated_body_is_rejected) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  struct fx_sign_opened o;
  /* Still valid base64, but the message lost its tail. */
  cr_assert_eq(fx_sign_open(ctx, pk, body, blen - 8, &o), FX_SIGN_EBADSIG);
  /* Cut mid-quantum: not base64 any more, 400. */
  int st = fx_sign_open(ctx, pk, body, blen - 1, &o);
  cr_assert_eq(st, FX_SIGN_EBASE64);
  cr_assert_eq(fx_sign_http_status(st), 400);
  cr_assert_eq(o.bad_offset, blen - 1);
  /* 80 characters are 60 bytes: not even a signature. */
  cr_assert_eq(fx_sign_open(ctx, pk, body, 80, &o), FX_SIGN_ESHORT);
  free(body);
  fx_sign_ctx_free(ctx);
}

Test(sign, non_base64_body_is_rejected_with_400_and_offset) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  body[101] = '%';
  struct fx_sign_opened o;
  int st = fx_sign_open(ctx, pk, body, blen, &o);
  cr_assert_eq(st, FX_SIGN_EBASE64);
  cr_assert_eq(fx_sign_http_status(st), 400);
  cr_assert_eq(o.bad_offset, 101);
  cr_assert_str_eq(o.why, "character not in the base64 alphabet");
  free(body);
  fx_sign_ctx_free(ctx);
}

Test(sign, bad_padding_in_body_is_rejected) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  char *padded = malloc(blen + 3);
  memcpy(padded, body, blen);
  memcpy(padded + blen, "===", 3); /* padding after a complete Body */
  struct fx_sign_opened o;
  cr_assert_eq(fx_sign_open(ctx, pk, padded, blen + 3, &o), FX_SIGN_EBASE64);
  cr_assert_eq(o.bad_offset, blen);
  free(padded);
  free(body);
  fx_sign_ctx_free(ctx);
}

Test(sign, empty_body_is_rejected) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  struct fx_sign_opened o;
  int st = fx_sign_open(ctx, pk, "", 0, &o);
  cr_assert_eq(st, FX_SIGN_ESHORT);
  cr_assert_eq(fx_sign_http_status(st), 401);
  fx_sign_ctx_free(ctx);
}

/* Key rotation: the sender lists its old and new key; the new one signs. */
Test(sign, open_any_finds_the_second_key) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pks[2][32], sk[64];
  keys_from_seed(7, pks[0], sk);
  keys_from_seed(1, pks[1], sk);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  struct fx_sign_opened o;
  cr_assert_eq(fx_sign_open_any(ctx, (const uint8_t(*)[32])pks, 2, body, blen, &o),
               FX_SIGN_OK);
  cr_assert_eq(o.key, 1);
  cr_assert_eq(memcmp(o.inner, INNER, o.len), 0);
  cr_assert_eq(fx_sign_open_any(ctx, (const uint8_t(*)[32])pks, 1, body, blen, &o),
               FX_SIGN_EBADSIG);
  cr_assert_eq(fx_sign_open_any(ctx, (const uint8_t(*)[32])pks, 0, body, blen, &o),
               FX_SIGN_EINVAL);
  free(body);
  fx_sign_ctx_free(ctx);
}

/* Diagnostics may look inside a Body whose signature is wrong. */
Test(sign, decode_unverified_splits_off_the_signature) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  size_t blen;
  char *body = sealed_body(ctx, &blen);
  body[3] = body[3] == 'A' ? 'B' : 'A'; /* damage the signature */
  struct fx_sign_opened o;
  cr_assert_eq(fx_sign_decode_unverified(ctx, body, blen, &o), FX_SIGN_OK);
  cr_assert_eq(o.len, strlen(INNER));
  cr_assert_eq(memcmp(o.inner, INNER, o.len), 0);
  cr_assert_eq(fx_sign_decode_unverified(ctx, body, 80, &o), FX_SIGN_ESHORT);
  body[200] = '#';
  cr_assert_eq(fx_sign_decode_unverified(ctx, body, blen, &o), FX_SIGN_EBASE64);
  cr_assert_eq(o.bad_offset, 200);
  free(body);
  fx_sign_ctx_free(ctx);
}

/* One context serves messages of any size in turn, large then small. */
Test(sign, context_is_reusable_across_sizes) {
  fx_sign_ctx *ctx = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(3, pk, sk);
  size_t sizes[] = {70000, 10, 0, 5000};
  for (size_t i = 0; i < 4; i++) {
    char *msg = malloc(sizes[i] + 1);
    memset(msg, 'a' + (int)i, sizes[i]);
    const char *b64;
    size_t blen;
    cr_assert_eq(fx_sign_seal(ctx, sk, msg, sizes[i], &b64, &blen), FX_SIGN_OK);
    char *body = strndup(b64, blen);
    struct fx_sign_opened o;
    cr_assert_eq(fx_sign_open(ctx, pk, body, blen, &o), FX_SIGN_OK);
    cr_assert_eq(o.len, sizes[i]);
    cr_assert_eq(memcmp(o.inner, msg, sizes[i]), 0);
    free(body);
    free(msg);
  }
  fx_sign_ctx_free(ctx);
}

Test(sign, messages_beyond_the_context_limit_are_refused) {
  fx_sign_ctx *small = fx_sign_ctx_new(100), *big = fx_sign_ctx_new(0);
  uint8_t pk[32], sk[64];
  keys_from_seed(1, pk, sk);
  char msg[101];
  memset(msg, 'x', sizeof msg);
  const char *b64;
  size_t blen;
  cr_assert_eq(fx_sign_seal(small, sk, msg, 101, &b64, &blen), FX_SIGN_ETOOBIG);
  cr_assert_eq(fx_sign_seal(big, sk, msg, 101, &b64, &blen), FX_SIGN_OK);
  struct fx_sign_opened o;
  int st = fx_sign_open(small, pk, b64, blen, &o);
  cr_assert_eq(st, FX_SIGN_ETOOBIG);
  cr_assert_eq(fx_sign_http_status(st), 413);
  cr_assert_eq(fx_sign_seal(small, sk, msg, 100, &b64, &blen), FX_SIGN_OK);
  fx_sign_ctx_free(small);
  fx_sign_ctx_free(big);
}

/* --- cs1 public key strings ------------------------------------------- */

/* The example in the transport appendix. */
static const char SPEC_KEY[] =
    "cs1.V4lZrkYHq8FzneXxUML+QEMXMul3tBm+gPGoVDIZBA92VoWTu8/kRu2Zx72XOm1i/"
    "qwwoSgXjqSAqSa43myCaQ==";

Test(cs1, spec_example_parses_and_formats_back) {
  struct fx_keys_public pub;
  const char *why = NULL;
  cr_assert_eq(fx_keys_cs1_parse(SPEC_KEY, strlen(SPEC_KEY), &pub, &why), 0,
               "%s", why);
  cr_assert_eq(pub.sign[0], 0x57); /* 'V4lZ' = 57 89 59 */
  cr_assert_eq(pub.box[31], 0x69);
  char out[FX_KEYS_CS1_LEN + 1];
  fx_keys_cs1_format(&pub, out);
  cr_assert_str_eq(out, SPEC_KEY);
}

Test(cs1, generated_keys_round_trip) {
  struct fx_keys_pair kp;
  cr_assert_eq(fx_keys_generate(&kp), 0);
  char s[FX_KEYS_CS1_LEN + 1];
  fx_keys_cs1_format(&kp.pub, s);
  cr_assert_eq(strlen(s), FX_KEYS_CS1_LEN);
  struct fx_keys_public back;
  cr_assert_eq(fx_keys_cs1_parse(s, strlen(s), &back, NULL), 0);
  cr_assert_eq(memcmp(&back, &kp.pub, sizeof back), 0);
  fx_keys_wipe(&kp);
}

static int parse_str(const char *s, const char **why) {
  struct fx_keys_public pub;
  return fx_keys_cs1_parse(s, strlen(s), &pub, why);
}

Test(cs1, malformed_strings_are_rejected) {
  const char *why = NULL;
  char s[128];
  snprintf(s, sizeof s, "cs2.%s", SPEC_KEY + 4);
  cr_assert_eq(parse_str(s, &why), -1);
  cr_assert_str_eq(why, "a CS1 public key must start with 'cs1.'");
  snprintf(s, sizeof s, "CS1.%s", SPEC_KEY + 4);
  cr_assert_eq(parse_str(s, &why), -1);
  cr_assert_eq(parse_str(SPEC_KEY + 4, &why), -1); /* no prefix */
  cr_assert_eq(parse_str("cs1", &why), -1);
  snprintf(s, sizeof s, "%.*s", (int)strlen(SPEC_KEY) - 4, SPEC_KEY);
  cr_assert_eq(parse_str(s, &why), -1); /* 48 bytes: wrong length */
  cr_assert(strstr(why, "88 base64 characters") != NULL, "%s", why);
  snprintf(s, sizeof s, "%sAAAA", SPEC_KEY);
  cr_assert_eq(parse_str(s, &why), -1);
  snprintf(s, sizeof s, "%s", SPEC_KEY);
  s[20] = '!';
  cr_assert_eq(parse_str(s, &why), -1);
  cr_assert_str_eq(why, "the key after 'cs1.' is not valid base64");
}

/* --- key files -------------------------------------------------------- */

struct tmpdir {
  char path[64];
};

static void tmpdir_make(struct tmpdir *t) {
  snprintf(t->path, sizeof t->path, "/tmp/flexd-sign-XXXXXX");
  cr_assert_not_null(mkdtemp(t->path));
}

static void tmpdir_remove(struct tmpdir *t, const char *file) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", t->path, file);
  unlink(p);
  rmdir(t->path);
}

Test(keyfile, written_0600_and_read_back) {
  struct tmpdir t;
  tmpdir_make(&t);
  char path[128], err[512];
  snprintf(path, sizeof path, "%s/k", t.path);
  struct fx_keys_pair kp, back;
  cr_assert_eq(fx_keys_generate(&kp), 0);
  cr_assert_eq(fx_keys_file_write(path, &kp, 0, err, sizeof err), 0, "%s", err);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
  cr_assert_eq(fx_keys_file_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_eq(memcmp(&back, &kp, sizeof kp), 0);
  tmpdir_remove(&t, "k");
}

Test(keyfile, group_readable_file_is_refused) {
  struct tmpdir t;
  tmpdir_make(&t);
  char path[128], err[512];
  snprintf(path, sizeof path, "%s/k", t.path);
  struct fx_keys_pair kp;
  cr_assert_eq(fx_keys_generate(&kp), 0);
  cr_assert_eq(fx_keys_file_write(path, &kp, 0, err, sizeof err), 0);
  cr_assert_eq(chmod(path, 0644), 0);
  cr_assert_eq(fx_keys_file_read(path, &kp, err, sizeof err), -1);
  cr_assert(strstr(err, "mode 0644") && strstr(err, "chmod 600"), "%s", err);
  tmpdir_remove(&t, "k");
}

Test(keyfile, existing_file_is_kept_unless_forced) {
  struct tmpdir t;
  tmpdir_make(&t);
  char path[128], err[512];
  snprintf(path, sizeof path, "%s/k", t.path);
  struct fx_keys_pair a, b, back;
  cr_assert_eq(fx_keys_generate(&a), 0);
  cr_assert_eq(fx_keys_generate(&b), 0);
  cr_assert_eq(fx_keys_file_write(path, &a, 0, err, sizeof err), 0);
  cr_assert_eq(fx_keys_file_write(path, &b, 0, err, sizeof err), -1);
  cr_assert(strstr(err, "--force") != NULL, "%s", err);
  cr_assert_eq(fx_keys_file_read(path, &back, err, sizeof err), 0);
  cr_assert_eq(memcmp(&back, &a, sizeof a), 0);
  cr_assert_eq(fx_keys_file_write(path, &b, FX_KEYS_FORCE, err, sizeof err), 0,
               "%s", err);
  cr_assert_eq(fx_keys_file_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_eq(memcmp(&back, &b, sizeof b), 0);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  tmpdir_remove(&t, "k");
}

static void write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

/* A public line from another pair would announce a key we do not sign with. */
Test(keyfile, public_key_of_another_pair_is_refused) {
  struct tmpdir t;
  tmpdir_make(&t);
  char path[128], err[512], cs1[FX_KEYS_CS1_LEN + 1], sec[200], text[512];
  snprintf(path, sizeof path, "%s/k", t.path);
  struct fx_keys_pair a, b;
  cr_assert_eq(fx_keys_generate(&a), 0);
  cr_assert_eq(fx_keys_generate(&b), 0);
  fx_keys_cs1_format(&b.pub, cs1);
  fx_b64_encode((const uint8_t *)&a.sec, sizeof a.sec, sec, sizeof sec);
  snprintf(text, sizeof text, "public=%s\nsecret=%s\n", cs1, sec);
  write_text(path, text);
  cr_assert_eq(fx_keys_file_read(path, &a, err, sizeof err), -1);
  cr_assert(strstr(err, "does not belong") != NULL, "%s", err);
  write_text(path, "# only a comment\npublic=cs1.x\n");
  cr_assert_eq(fx_keys_file_read(path, &a, err, sizeof err), -1);
  cr_assert(strstr(err, ":2:") != NULL, "%s", err);
  snprintf(text, sizeof text, "public=%s\n", cs1);
  write_text(path, text);
  cr_assert_eq(fx_keys_file_read(path, &a, err, sizeof err), -1);
  cr_assert(strstr(err, "needs both") != NULL, "%s", err);
  tmpdir_remove(&t, "k");
}
