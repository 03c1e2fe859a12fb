/* keys.c — CS1 key generation, public key strings and key files.
 *
 * Key files are small text files (format in keys.h and docs/signing.md) so an
 * operator can read the public half and copy it to a peer. The secret half is
 * protected by file permissions only: the file is created 0600 (O_EXCL, or a
 * 0600 temporary renamed over the old file with --force) and refused on read
 * when group or others have any access, in the spirit of ssh. Buffers that
 * held secret key text are wiped before they go out of scope. */
#include "codec/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/b64.h"

#define CS1_PREFIX "cs1."
#define CS1_PREFIX_LEN 4
#define SECRET_B64_LEN 128 /* base64 of 96 bytes */

static int errf(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int fx_keys_generate(struct fx_keys_pair *kp) {
  if (sodium_init() < 0)
    return -1;
  if (crypto_sign_keypair(kp->pub.sign, kp->sec.sign) != 0 ||
      crypto_box_keypair(kp->pub.box, kp->sec.box) != 0) {
    fx_keys_wipe(kp);
    return -1;
  }
  return 0;
}

void fx_keys_wipe(struct fx_keys_pair *kp) {
  sodium_memzero(&kp->sec, sizeof kp->sec);
}

void fx_keys_cs1_format(const struct fx_keys_public *pub,
                        char out[FX_KEYS_CS1_LEN + 1]) {
  uint8_t raw[64];
  memcpy(raw, pub->sign, 32);
  memcpy(raw + 32, pub->box, 32);
  memcpy(out, CS1_PREFIX, CS1_PREFIX_LEN);
  fx_b64_encode(raw, sizeof raw, out + CS1_PREFIX_LEN,
                FX_KEYS_CS1_LEN + 1 - CS1_PREFIX_LEN);
}

int fx_keys_cs1_parse(const char *s, size_t len, struct fx_keys_public *pub,
                      const char **why) {
  const char *dummy;
  why = why ? why : &dummy;
  if (len < CS1_PREFIX_LEN || memcmp(s, CS1_PREFIX, CS1_PREFIX_LEN) != 0) {
    *why = "a CS1 public key must start with 'cs1.'";
    return -1;
  }
  if (len != FX_KEYS_CS1_LEN) {
    *why = "a CS1 public key is 'cs1.' and 88 base64 characters (64 bytes)";
    return -1;
  }
  uint8_t raw[FX_B64_DECODED_MAX(FX_KEYS_CS1_LEN - CS1_PREFIX_LEN)];
  struct fx_b64_error e;
  long n = fx_b64_decode(s + CS1_PREFIX_LEN, len - CS1_PREFIX_LEN, raw,
                         sizeof raw, &e);
  if (n < 0) {
    *why = "the key after 'cs1.' is not valid base64";
    return -1;
  }
  if (n != 64) {
    *why = "the key after 'cs1.' does not decode to 64 bytes";
    return -1;
  }
  memcpy(pub->sign, raw, 32);
  memcpy(pub->box, raw + 32, 32);
  return 0;
}

/* --- writing ---------------------------------------------------------- */

/* The file's text; returns its length. buf holds a secret: wipe it. */
static size_t format_file(const struct fx_keys_pair *kp, char *buf,
                          size_t cap) {
  char cs1[FX_KEYS_CS1_LEN + 1];
  char sec[SECRET_B64_LEN + 1];
  fx_keys_cs1_format(&kp->pub, cs1);
  fx_b64_encode((const uint8_t *)&kp->sec, sizeof kp->sec, sec, sizeof sec);
  int n = snprintf(buf, cap,
                   "# flexd CS1 key pair (see docs/signing.md).\n"
                   "# The secret line signs messages in your name: keep this "
                   "file mode 0600.\n"
                   "public=%s\nsecret=%s\n",
                   cs1, sec);
  sodium_memzero(sec, sizeof sec);
  return n < 0 ? 0 : (size_t)n;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Writes, syncs and closes fd; closes it on failure too. */
static int finish_file(int fd, const char *text, size_t len) {
  int rc = write_all(fd, text, len) == 0 && fsync(fd) == 0 ? 0 : -1;
  int saved = errno;
  if (close(fd) != 0 && rc == 0)
    return -1;
  errno = saved;
  return rc;
}

/* A fresh file: O_EXCL makes "never overwrite" atomic. */
static int write_new(const char *path, const char *text, size_t len,
                     char *err, size_t errlen) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST)
    return errf(err, errlen, "%s already exists; refusing to overwrite a key "
                "file (use --force to replace it)", path);
  if (fd < 0)
    return errf(err, errlen, "cannot create %s: %s", path, strerror(errno));
  if (finish_file(fd, text, len) != 0) {
    int e = errno;
    unlink(path);
    return errf(err, errlen, "cannot write %s: %s", path, strerror(e));
  }
  return 0;
}

/* A replacement: a 0600 temporary beside it, renamed over it, so a crash
 * never leaves a half-written key file. */
static int write_replace(const char *path, const char *text, size_t len,
                         char *err, size_t errlen) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + sizeof ".XXXXXX");
  if (!tmp)
    return errf(err, errlen, "out of memory");
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".XXXXXX", sizeof ".XXXXXX");
  int fd = mkstemp(tmp); /* creates the file with mode 0600 */
  int rc = 0;
  if (fd < 0)
    rc = errf(err, errlen, "cannot create a file beside %s: %s", path,
              strerror(errno));
  else if (finish_file(fd, text, len) != 0 || rename(tmp, path) != 0) {
    rc = errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  return rc;
}

int fx_keys_file_write(const char *path, const struct fx_keys_pair *kp,
                       int flags, char *err, size_t errlen) {
  char text[512];
  size_t len = format_file(kp, text, sizeof text);
  int rc = len == 0 || len >= sizeof text
               ? errf(err, errlen, "cannot format the key file")
           : flags & FX_KEYS_FORCE ? write_replace(path, text, len, err, errlen)
                                   : write_new(path, text, len, err, errlen);
  sodium_memzero(text, sizeof text);
  return rc;
}

/* --- reading ---------------------------------------------------------- */

/* Reads at most FX_KEYS_FILE_MAX bytes of a private regular file into buf
 * (NUL-terminated); returns the length or -1. */
static long read_private(const char *path, char *buf, char *err,
                         size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errf(err, errlen, "cannot open key file %s: %s", path,
                strerror(errno));
  struct stat st;
  long rc = -1;
  if (fstat(fd, &st) != 0)
    errf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    errf(err, errlen, "key file %s is not a regular file", path);
  else if (st.st_mode & 077)
    errf(err, errlen, "key file %s is accessible by group or others (mode "
         "%04o); refusing to use it: run 'chmod 600 %s' if it has not "
         "leaked, otherwise generate a new key", path,
         (unsigned)(st.st_mode & 07777), path);
  else if (st.st_size > FX_KEYS_FILE_MAX)
    errf(err, errlen, "key file %s is larger than %d bytes", path,
         FX_KEYS_FILE_MAX);
  else {
    ssize_t n;
    do
      n = read(fd, buf, FX_KEYS_FILE_MAX + 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
      errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    else if (n > FX_KEYS_FILE_MAX)
      errf(err, errlen, "key file %s is larger than %d bytes", path,
           FX_KEYS_FILE_MAX);
    else {
      buf[n] = '\0';
      rc = n;
    }
  }
  close(fd);
  return rc;
}

/* What parsing has found so far. */
struct parsed {
  int have_public, have_secret;
};

static int parse_secret(const char *v, size_t len, struct fx_keys_pair *kp) {
  uint8_t raw[FX_B64_DECODED_MAX(SECRET_B64_LEN)];
  int rc = -1;
  if (len == SECRET_B64_LEN &&
      fx_b64_decode(v, len, raw, sizeof raw, NULL) == (long)sizeof kp->sec) {
    memcpy(&kp->sec, raw, sizeof kp->sec);
    rc = 0;
  }
  sodium_memzero(raw, sizeof raw);
  return rc;
}

static int parse_line(const char *path, int lineno, const char *line,
                      size_t len, struct fx_keys_pair *kp, struct parsed *p,
                      char *err, size_t errlen) {
  const char *eq = memchr(line, '=', len);
  if (!eq)
    return errf(err, errlen, "%s:%d: expected key=value", path, lineno);
  size_t klen = (size_t)(eq - line), vlen = len - klen - 1;
  const char *why = NULL;
  if (klen == 6 && !memcmp(line, "public", 6) && !p->have_public) {
    p->have_public = 1;
    if (fx_keys_cs1_parse(eq + 1, vlen, &kp->pub, &why) != 0)
      return errf(err, errlen, "%s:%d: %s", path, lineno, why);
    return 0;
  }
  if (klen == 6 && !memcmp(line, "secret", 6) && !p->have_secret) {
    p->have_secret = 1;
    if (parse_secret(eq + 1, vlen, kp) != 0)
      return errf(err, errlen, "%s:%d: the secret key must be 128 base64 "
                  "characters (96 bytes)", path, lineno);
    return 0;
  }
  return errf(err, errlen, "%s:%d: unknown or repeated key '%.*s'", path,
              lineno, (int)(klen > 32 ? 32 : klen), line);
}

static int parse_file(const char *path, char *text, struct fx_keys_pair *kp,
                      char *err, size_t errlen) {
  struct parsed p = {0, 0};
  int lineno = 0;
  for (char *line = text, *next; *line; line = next) {
    char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    next = nl ? nl + 1 : line + len;
    lineno++;
    if (len && line[len - 1] == '\r')
      len--;
    if (len && line[0] != '#' &&
        parse_line(path, lineno, line, len, kp, &p, err, errlen) != 0)
      return -1;
  }
  if (!p.have_public || !p.have_secret)
    return errf(err, errlen, "%s: a key file needs both a public= and a "
                "secret= line", path);
  return 0;
}

/* The secret keys must produce the public ones, or we would sign with one
 * identity while announcing another. */
static int check_pair(const char *path, const struct fx_keys_pair *kp,
                      char *err, size_t errlen) {
  uint8_t sign_pk[32], box_pk[32];
  if (crypto_sign_ed25519_sk_to_pk(sign_pk, kp->sec.sign) != 0 ||
      crypto_scalarmult_base(box_pk, kp->sec.box) != 0 ||
      memcmp(sign_pk, kp->pub.sign, 32) != 0 ||
      memcmp(box_pk, kp->pub.box, 32) != 0)
    return errf(err, errlen, "%s: the public key does not belong to the "
                "secret key", path);
  return 0;
}

int fx_keys_file_read(const char *path, struct fx_keys_pair *kp, char *err,
                      size_t errlen) {
  if (sodium_init() < 0)
    return errf(err, errlen, "libsodium failed to initialise");
  char text[FX_KEYS_FILE_MAX + 1];
  int rc = -1;
  if (read_private(path, text, err, errlen) >= 0 &&
      parse_file(path, text, kp, err, errlen) == 0 &&
      check_pair(path, kp, err, errlen) == 0)
    rc = 0;
  sodium_memzero(text, sizeof text);
  if (rc != 0)
    fx_keys_wipe(kp);
  return rc;
}
