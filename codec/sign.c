/* sign.c — CS1 seal/open of SignedMessage Bodies (libsodium Ed25519).
 *
 * crypto_sign's "combined" form is the signature followed by the message, so
 * open verifies the decoded Body with crypto_sign_verify_detached(sig = the
 * first 64 bytes, message = the rest) and returns a pointer to the rest.
 * That is exactly what crypto_sign_open does (libsodium implements it that
 * way), minus its copy of the message into a second buffer. The scratch
 * buffers live in the context and only ever grow, so steady-state calls do
 * not allocate. */
#include "codec/sign.h"

#include <sodium.h>
#include <stdlib.h>

#include "codec/b64.h"

/* OpenSSL's base64 API takes int lengths; stay well below that. */
#define MAX_INNER_LIMIT (256u << 20)

struct fx_sign_ctx {
  size_t max_inner;
  uint8_t *raw; /* signature ‖ inner message, plus room for a NUL */
  size_t raw_cap;
  char *text; /* the Body text produced by seal */
  size_t text_cap;
};

fx_sign_ctx *fx_sign_ctx_new(size_t max_inner) {
  if (sodium_init() < 0)
    return NULL;
  fx_sign_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return NULL;
  if (max_inner == 0)
    max_inner = FX_SIGN_DEFAULT_MAX_INNER;
  ctx->max_inner = max_inner < MAX_INNER_LIMIT ? max_inner : MAX_INNER_LIMIT;
  return ctx;
}

void fx_sign_ctx_free(fx_sign_ctx *ctx) {
  if (!ctx)
    return;
  free(ctx->raw);
  free(ctx->text);
  free(ctx);
}

/* Grows *buf to at least need bytes, doubling so that growth is rare. */
static int grow(void **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap : 4096;
  while (c < need)
    c *= 2;
  void *p = realloc(*buf, c);
  if (!p)
    return -1;
  *buf = p;
  *cap = c;
  return 0;
}

int fx_sign_seal(fx_sign_ctx *ctx, const uint8_t sk[FX_SIGN_SECRETKEYBYTES],
                 const char *inner, size_t len, const char **b64,
                 size_t *b64_len) {
  if (!ctx || !sk || (!inner && len) || !b64 || !b64_len)
    return FX_SIGN_EINVAL;
  if (len > ctx->max_inner)
    return FX_SIGN_ETOOBIG;
  size_t sm_len = len + FX_SIGN_BYTES;
  if (grow((void **)&ctx->raw, &ctx->raw_cap, sm_len + 1) ||
      grow((void **)&ctx->text, &ctx->text_cap, fx_b64_encoded_len(sm_len) + 1))
    return FX_SIGN_ENOMEM;
  unsigned long long smlen = 0;
  if (crypto_sign(ctx->raw, &smlen, (const unsigned char *)inner, len, sk) != 0)
    return FX_SIGN_EINVAL;
  long n = fx_b64_encode(ctx->raw, (size_t)smlen, ctx->text, ctx->text_cap);
  if (n < 0)
    return FX_SIGN_ETOOBIG;
  *b64 = ctx->text;
  *b64_len = (size_t)n;
  return FX_SIGN_OK;
}

static int open_fail(struct fx_sign_opened *out, int status, const char *why) {
  out->why = why ? why : fx_sign_strerror(status);
  return status;
}

/* Decodes the Body into ctx->raw; returns the decoded length or a status. */
static long decode_body(fx_sign_ctx *ctx, const char *b64, size_t b64_len,
                        struct fx_sign_opened *out) {
  if (b64_len > fx_b64_encoded_len(ctx->max_inner + FX_SIGN_BYTES))
    return open_fail(out, FX_SIGN_ETOOBIG, NULL);
  if (grow((void **)&ctx->raw, &ctx->raw_cap, fx_b64_decoded_max(b64_len) + 1))
    return open_fail(out, FX_SIGN_ENOMEM, NULL);
  struct fx_b64_error e = {0, NULL};
  long n = fx_b64_decode(b64, b64_len, ctx->raw, ctx->raw_cap, &e);
  if (n < 0) {
    out->bad_offset = e.offset;
    return open_fail(out, FX_SIGN_EBASE64, e.why);
  }
  if (n < FX_SIGN_BYTES)
    return open_fail(out, FX_SIGN_ESHORT, NULL);
  /* The length check above is coarse (base64 rounds up); this one is exact. */
  if ((size_t)n - FX_SIGN_BYTES > ctx->max_inner)
    return open_fail(out, FX_SIGN_ETOOBIG, NULL);
  return n;
}

/* Tries every key on signature ‖ message; fills out on success. */
static int verify_any(const uint8_t (*pks)[FX_SIGN_PUBLICKEYBYTES], size_t npks,
                      const uint8_t *sm, size_t n, struct fx_sign_opened *out) {
  const uint8_t *sig = sm, *msg = sm + FX_SIGN_BYTES;
  size_t mlen = n - FX_SIGN_BYTES;
  for (size_t k = 0; k < npks; k++) {
    if (crypto_sign_verify_detached(sig, msg, mlen, pks[k]) == 0) {
      out->inner = (const char *)msg;
      out->len = mlen;
      out->key = k;
      return FX_SIGN_OK;
    }
  }
  return open_fail(out, FX_SIGN_EBADSIG, NULL);
}

int fx_sign_open_decoded(const uint8_t (*pks)[FX_SIGN_PUBLICKEYBYTES],
                         size_t npks, const uint8_t *sm, size_t sm_len,
                         struct fx_sign_opened *out) {
  if (!out)
    return FX_SIGN_EINVAL;
  *out = (struct fx_sign_opened){.inner = NULL};
  if (!pks || npks == 0 || (!sm && sm_len))
    return open_fail(out, FX_SIGN_EINVAL, NULL);
  if (sm_len < FX_SIGN_BYTES)
    return open_fail(out, FX_SIGN_ESHORT, NULL);
  return verify_any(pks, npks, sm, sm_len, out);
}

int fx_sign_open_any(fx_sign_ctx *ctx,
                     const uint8_t (*pks)[FX_SIGN_PUBLICKEYBYTES], size_t npks,
                     const char *b64, size_t b64_len,
                     struct fx_sign_opened *out) {
  if (!out)
    return FX_SIGN_EINVAL;
  *out = (struct fx_sign_opened){.inner = NULL};
  if (!ctx || !pks || npks == 0 || (!b64 && b64_len))
    return open_fail(out, FX_SIGN_EINVAL, NULL);
  long n = decode_body(ctx, b64, b64_len, out);
  if (n < 0)
    return (int)n;
  ctx->raw[n] = '\0';
  return verify_any(pks, npks, ctx->raw, (size_t)n, out);
}

int fx_sign_open(fx_sign_ctx *ctx, const uint8_t pk[FX_SIGN_PUBLICKEYBYTES],
                 const char *b64, size_t b64_len, struct fx_sign_opened *out) {
  if (!pk) {
    if (out)
      *out = (struct fx_sign_opened){.why = fx_sign_strerror(FX_SIGN_EINVAL)};
    return FX_SIGN_EINVAL;
  }
  return fx_sign_open_any(ctx, (const uint8_t(*)[FX_SIGN_PUBLICKEYBYTES])pk, 1,
                          b64, b64_len, out);
}

int fx_sign_decode_unverified(fx_sign_ctx *ctx, const char *b64,
                              size_t b64_len, struct fx_sign_opened *out) {
  if (!out)
    return FX_SIGN_EINVAL;
  *out = (struct fx_sign_opened){.inner = NULL};
  if (!ctx || (!b64 && b64_len))
    return open_fail(out, FX_SIGN_EINVAL, NULL);
  long n = decode_body(ctx, b64, b64_len, out);
  if (n < 0)
    return (int)n;
  ctx->raw[n] = '\0';
  out->inner = (const char *)ctx->raw + FX_SIGN_BYTES;
  out->len = (size_t)n - FX_SIGN_BYTES;
  return FX_SIGN_OK;
}

const char *fx_sign_strerror(int status) {
  switch (status) {
  case FX_SIGN_OK: return "ok";
  case FX_SIGN_EBASE64: return "Body is not valid base64";
  case FX_SIGN_ESHORT: return "Body is shorter than a 64-byte signature";
  case FX_SIGN_EBADSIG: return "signature does not verify";
  case FX_SIGN_ETOOBIG: return "message too large";
  case FX_SIGN_ENOMEM: return "out of memory";
  case FX_SIGN_EINVAL: return "invalid argument";
  default: return "unknown error";
  }
}

int fx_sign_http_status(int status) {
  switch (status) {
  case FX_SIGN_OK: return 200;
  case FX_SIGN_EBASE64: return 400;
  case FX_SIGN_ESHORT:
  case FX_SIGN_EBADSIG: return 401;
  case FX_SIGN_ETOOBIG: return 413;
  case FX_SIGN_ENOMEM: return 503;
  default: return 500;
  }
}
