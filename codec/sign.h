/* sign.h — the CS1 SignedMessage Body: seal and open.
 *
 * seal: Body = base64(crypto_sign(inner XML bytes)), i.e. the 64-byte Ed25519
 * signature followed by the inner message, base64-encoded.
 * open: base64-decode the Body, verify it with the sender's public signing
 * key, and hand back the exact inner bytes.
 *
 * A fx_sign_ctx holds the scratch buffers, so one per worker thread makes the
 * hot path allocation-free once the buffers have grown to the largest
 * message seen. Results point into the context and stay valid until the next
 * call on it. A context is not thread-safe; distinct contexts are independent. */
#ifndef FX_CODEC_SIGN_H
#define FX_CODEC_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define FX_SIGN_PUBLICKEYBYTES 32
#define FX_SIGN_SECRETKEYBYTES 64
#define FX_SIGN_BYTES 64
/* Largest inner message a context accepts unless told otherwise. */
#define FX_SIGN_DEFAULT_MAX_INNER (4u << 20)

/* Results. The HTTP endpoint maps them with fx_sign_http_status(). */
enum fx_sign_status {
  FX_SIGN_OK = 0,
  FX_SIGN_EBASE64 = -1, /* Body is not valid base64 (400 Bad Request) */
  FX_SIGN_ESHORT = -2,  /* Body shorter than a signature (401 Unauthorized) */
  FX_SIGN_EBADSIG = -3, /* no given key verifies the Body (401 Unauthorized) */
  FX_SIGN_ETOOBIG = -4, /* beyond the context's max_inner (413) */
  FX_SIGN_ENOMEM = -5,  /* scratch buffer could not grow (503) */
  FX_SIGN_EINVAL = -6,  /* caller error: no keys, NULL arguments (500) */
};

typedef struct fx_sign_ctx fx_sign_ctx;

/* What fx_sign_open found. */
struct fx_sign_opened {
  const char *inner;   /* the exact inner bytes, NUL-terminated, in the ctx */
  size_t len;          /* their length (without the NUL) */
  size_t key;          /* index of the key that verified (open_any) */
  size_t bad_offset;   /* FX_SIGN_EBASE64: offset of the offending byte */
  const char *why;     /* on error: static text saying what was wrong */
};

/* A context for messages of at most max_inner bytes (0: the default).
 * Initialises libsodium. Returns NULL when out of memory or when libsodium
 * cannot initialise. */
fx_sign_ctx *fx_sign_ctx_new(size_t max_inner);
void fx_sign_ctx_free(fx_sign_ctx *ctx);

/* Seals len bytes of inner with the 64-byte Ed25519 secret key sk. On
 * FX_SIGN_OK, *b64 is the NUL-terminated Body text (*b64_len characters),
 * valid until the next call on ctx. */
int fx_sign_seal(fx_sign_ctx *ctx, const uint8_t sk[FX_SIGN_SECRETKEYBYTES],
                 const char *inner, size_t len, const char **b64,
                 size_t *b64_len);

/* Opens a Body of b64_len characters with one public key. */
int fx_sign_open(fx_sign_ctx *ctx, const uint8_t pk[FX_SIGN_PUBLICKEYBYTES],
                 const char *b64, size_t b64_len, struct fx_sign_opened *out);

/* Opens a Body with whichever of npks keys verifies it (a participant lists
 * two during key rotation); the Body is decoded once. out->key says which. */
int fx_sign_open_any(fx_sign_ctx *ctx,
                     const uint8_t (*pks)[FX_SIGN_PUBLICKEYBYTES], size_t npks,
                     const char *b64, size_t b64_len,
                     struct fx_sign_opened *out);

/* Verifies a Body that is already decoded: sm is the 64-byte signature
 * followed by the inner message (struct fx_signed.decoded from
 * fx_read_signed, which decoded it while checking the envelope). No context
 * and no copy: on FX_SIGN_OK out->inner points into sm (sm + 64) and is
 * NUL-terminated when sm is. Returns FX_SIGN_ESHORT, FX_SIGN_EBADSIG or
 * FX_SIGN_EINVAL as fx_sign_open_any does. */
int fx_sign_open_decoded(const uint8_t (*pks)[FX_SIGN_PUBLICKEYBYTES],
                         size_t npks, const uint8_t *sm, size_t sm_len,
                         struct fx_sign_opened *out);

/* Decodes a Body and splits off the signature WITHOUT verifying it: for
 * diagnostics only (`flexd validate` without a key). Never act on the bytes. */
int fx_sign_decode_unverified(fx_sign_ctx *ctx, const char *b64,
                              size_t b64_len, struct fx_sign_opened *out);

/* A short English name for a status ("Body is not valid base64", ...). */
const char *fx_sign_strerror(int status);

/* The HTTP status the transport appendix assigns to a status. */
int fx_sign_http_status(int status);

#endif
