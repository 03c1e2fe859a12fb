/* keys.h — CS1 key pairs: generation, public key strings and key files.
 *
 * A CS1 participant has two key pairs (transport appendix, "Cryptographic
 * Scheme"): Ed25519 for signatures (crypto_sign) and X25519 for boxes
 * (crypto_box). Its public key string is "cs1." followed by the base64 of the
 * 32-byte signing key and the 32-byte box key, 92 characters in all.
 *
 * A key file is text, one key=value per line, '#' comments (docs/signing.md):
 *   public=cs1.<base64 of sign pk ‖ box pk>
 *   secret=<base64 of sign sk (64 bytes) ‖ box sk (32 bytes)>
 * It is created with mode 0600 and is refused when group or others may read it. */
#ifndef FX_CODEC_KEYS_H
#define FX_CODEC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define FX_KEYS_CS1_LEN 92 /* strlen("cs1.") + 88 base64 characters */
#define FX_KEYS_FILE_MAX 4096

struct fx_keys_public {
  uint8_t sign[32]; /* Ed25519 public key */
  uint8_t box[32];  /* X25519 public key */
};

struct fx_keys_secret {
  uint8_t sign[64]; /* libsodium's Ed25519 secret key (seed ‖ public key) */
  uint8_t box[32];  /* X25519 secret key */
};

struct fx_keys_pair {
  struct fx_keys_public pub;
  struct fx_keys_secret sec;
};

/* Flags for fx_keys_file_write. */
#define FX_KEYS_FORCE 1 /* replace an existing file (atomically) */

/* Fresh key pairs from the system's random source. 0 ok, -1 error. */
int fx_keys_generate(struct fx_keys_pair *kp);

/* Writes "cs1.<base64>" and a NUL into out. */
void fx_keys_cs1_format(const struct fx_keys_public *pub,
                        char out[FX_KEYS_CS1_LEN + 1]);

/* Parses exactly one public key string of len bytes. 0 ok; -1 with *why
 * (static text) set when it is malformed. */
int fx_keys_cs1_parse(const char *s, size_t len, struct fx_keys_public *pub,
                      const char **why);

/* Writes kp to path with mode 0600; an existing file is an error unless
 * flags has FX_KEYS_FORCE. 0 ok; -1 with a message in err. */
int fx_keys_file_write(const char *path, const struct fx_keys_pair *kp,
                       int flags, char *err, size_t errlen);

/* Reads a key file written by fx_keys_file_write. Refuses files that group
 * or others may read, files over FX_KEYS_FILE_MAX bytes, and files whose
 * public keys do not belong to their secret keys. 0 ok; -1 with a message. */
int fx_keys_file_read(const char *path, struct fx_keys_pair *kp, char *err,
                      size_t errlen);

/* Overwrites the secret halves of kp with zeros. */
void fx_keys_wipe(struct fx_keys_pair *kp);

#endif
