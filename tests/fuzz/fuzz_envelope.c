/* fuzz_envelope.c — arbitrary bytes as a SignedMessage Body.
 *
 * fx_sign_open must never crash, hang or leak on any Body, and its base64
 * decoder must agree with an independent one: on ASCII input, libsodium's
 * strict decoder, told to skip the same XML whitespace, accepts exactly the
 * same inputs and yields the same bytes; input with NUL or a byte >= 0x80 is
 * always rejected. The key is fixed (seed 0x42 repeated), so the seed corpus
 * in corpus/envelope/ holds Bodies that open. The same bytes also go through
 * the cs1 key string parser.
 *
 * The bytes are also the Body of a SignedMessage read by fx_read_signed,
 * twice: as is (a plain base64 Body is decoded from the raw document, with
 * libxml2 parsing the envelope without it) and behind an ISO-8859-1
 * declaration, which always takes the ordinary path (libxml2 delivers the
 * value). On ASCII the two documents mean the same, so both reads must give
 * the same result, error or Body. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "codec/b64.h"
#include "codec/codec.h"
#include "codec/keys.h"
#include "codec/sign.h"

/* Bytes outside the base64 alphabet that libsodium 1.0.18 handles
 * differently: it reads bytes >= 0x80 as signed chars and decodes them as
 * letters, and its whitespace test (strchr) also "finds" NUL. We reject both. */
static int outside_ascii(const uint8_t *data, size_t size) {
  for (size_t i = 0; i < size; i++)
    if (data[i] == 0 || data[i] >= 0x80)
      return 1;
  return 0;
}

/* Our decoder and libsodium's must agree on acceptance and on the bytes. */
static void check_against_libsodium(const uint8_t *data, size_t size) {
  size_t cap = FX_B64_DECODED_MAX(size);
  uint8_t *ours = malloc(cap), *theirs = malloc(cap);
  if (!ours || !theirs)
    abort();
  long n = fx_b64_decode((const char *)data, size, ours, cap, NULL);
  if (outside_ascii(data, size)) {
    if (n >= 0)
      abort();
    free(ours);
    free(theirs);
    return;
  }
  size_t m = 0;
  int rc = sodium_base642bin(theirs, cap, (const char *)data, size, " \t\r\n",
                             &m, NULL, sodium_base64_VARIANT_ORIGINAL);
  if ((n >= 0) != (rc == 0))
    abort();
  if (n >= 0 && ((size_t)n != m || memcmp(ours, theirs, m) != 0))
    abort();
  free(ours);
  free(theirs);
}

static void open_body(const uint8_t *data, size_t size) {
  uint8_t seed[32], pk[32], sk[64];
  memset(seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair(pk, sk, seed);
  fx_sign_ctx *ctx = fx_sign_ctx_new(1u << 20);
  if (!ctx)
    abort();
  struct fx_sign_opened o;
  int st = fx_sign_open(ctx, pk, (const char *)data, size, &o);
  if (st == FX_SIGN_OK && (o.inner == NULL || o.inner[o.len] != '\0'))
    abort();
  if (st != FX_SIGN_OK && (o.inner != NULL || o.why == NULL))
    abort();
  fx_sign_ctx_free(ctx);
}

struct env_read {
  int rc;
  struct fx_error err;
  char *body;
  uint8_t *bytes;
  size_t n;
};

static struct env_read read_envelope(fx_reader *r, const char *decl, const uint8_t *data, size_t size) {
  static const char head[] = "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"AGR\" Body=\"";
  size_t cap = strlen(decl) + sizeof head + size + 4;
  char *x = malloc(cap);
  if (!x)
    abort();
  int k = snprintf(x, cap, "%s%s", decl, head);
  memcpy(x + k, data, size);
  memcpy(x + k + size, "\"/>", 3);
  struct env_read e = {0};
  struct fx_signed s;
  e.rc = fx_read_signed(r, x, (size_t)k + size + 3, &s, &e.err);
  if (e.rc == 0) {
    e.body = malloc(s.body_len + 1);
    e.bytes = malloc(s.decoded_len + 1);
    if (!e.body || !e.bytes)
      abort();
    memcpy(e.body, s.body, s.body_len + 1);
    memcpy(e.bytes, s.decoded, s.decoded_len);
    e.n = s.decoded_len;
  }
  free(x);
  return e;
}

static void check_envelope_paths(const uint8_t *data, size_t size) {
  if (outside_ascii(data, size))
    return; /* Latin-1 and UTF-8 differ there */
  fx_reader *r = fx_reader_new(NULL);
  if (!r)
    abort();
  struct env_read a = read_envelope(r, "", data, size);
  struct env_read b = read_envelope(r, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", data, size);
  if (a.rc != b.rc || a.err.code != b.err.code || strcmp(a.err.where, b.err.where) ||
      strcmp(a.err.why, b.err.why))
    abort();
  if (a.rc == 0 && (strcmp(a.body, b.body) || a.n != b.n || memcmp(a.bytes, b.bytes, a.n)))
    abort();
  free(a.body), free(a.bytes), free(b.body), free(b.bytes);
  fx_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (sodium_init() < 0)
    abort();
  check_against_libsodium(data, size);
  open_body(data, size);
  check_envelope_paths(data, size);
  struct fx_keys_public pub;
  fx_keys_cs1_parse((const char *)data, size, &pub, NULL);
  return 0;
}
