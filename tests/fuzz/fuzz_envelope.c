/* fuzz_envelope.c — arbitrary bytes as a SignedMessage Body.
 *
 * fx_sign_open must never crash, hang or leak on any Body, and its base64
 * decoder must agree with an independent one: on ASCII input, libsodium's
 * strict decoder, told to skip the same XML whitespace, accepts exactly the
 * same inputs and yields the same bytes; input with NUL or a byte >= 0x80 is
 * always rejected. The key is fixed (seed 0x42 repeated), so the seed corpus
 * in corpus/envelope/ holds Bodies that open. The same bytes also go through
 * the cs1 key string parser. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/b64.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (sodium_init() < 0)
    abort();
  check_against_libsodium(data, size);
  open_body(data, size);
  struct fx_keys_public pub;
  fx_keys_cs1_parse((const char *)data, size, &pub, NULL);
  return 0;
}
