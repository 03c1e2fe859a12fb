/* b64.h — strict RFC 4648 base64 (standard alphabet, '=' padding) for the
 * SignedMessage Body and CS1 key strings.
 *
 * Decoding accepts exactly the lexical space of xs:base64Binary: the 64-letter
 * alphabet, at most two trailing '=' with zero pad bits, a length that is a
 * multiple of four, and XML whitespace (space, tab, CR, LF) anywhere, since
 * the schema's whiteSpace=collapse facet makes it legal there. Everything
 * else is an error that names the offset of the first offending byte.
 * The Body is public data, so the decoder is not constant-time (see
 * docs/signing.md for the figures against libsodium's constant-time one). */
#ifndef FX_CODEC_B64_H
#define FX_CODEC_B64_H

#include <stddef.h>
#include <stdint.h>

/* Characters base64 needs for n bytes, without a terminating NUL. */
#define FX_B64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)
/* Bytes a decode buffer needs for n input characters (padding included). */
#define FX_B64_DECODED_MAX(n) ((n) / 4 * 3 + 3)

static inline size_t fx_b64_encoded_len(size_t n) { return FX_B64_ENCODED_LEN(n); }
static inline size_t fx_b64_decoded_max(size_t n) { return FX_B64_DECODED_MAX(n); }

/* Where and why a decode failed. */
struct fx_b64_error {
  size_t offset;   /* offset of the first offending byte in the input */
  const char *why; /* static text, e.g. "character not in the base64 alphabet" */
};

/* Encodes n bytes into out (cap >= fx_b64_encoded_len(n) + 1, NUL-terminated).
 * Returns the length written (without the NUL), or -1 if cap is too small or
 * n is beyond what OpenSSL's int-sized API can take. */
long fx_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/* Decodes n characters into out (cap >= fx_b64_decoded_max(n)); on success
 * returns the decoded length. Returns -1 and fills err (if non-NULL) when the
 * input is not xs:base64Binary or cap is too small. */
long fx_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                   struct fx_b64_error *err);

/* fx_b64_decode for what peers send: canonical base64 without whitespace
 * (the fast path of fx_b64_decode, which this is). Returns -1, without
 * saying why, for anything else, valid or not; fx_b64_decode then decides.
 * A success means the input holds only base64 letters and '=' padding. */
long fx_b64_decode_plain(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
