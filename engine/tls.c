/* tls.c — OpenSSL contexts and memory-BIO sessions for the HTTP server.
 *
 * The session is the usual libuv + OpenSSL arrangement: SSL_set_bio() with two
 * memory BIOs; what the socket delivers is written into the read BIO, and what
 * OpenSSL writes into the write BIO is taken out and sent by the caller. The
 * handshake runs inside SSL_read() (the session is in accept state), so one
 * call both advances the handshake and yields application data.
 *
 * OpenSSL's error queue is per thread; every call that may fail starts from an
 * empty queue, so SSL_get_error() describes that call and not an old one. */
#include "engine/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 keeps OpenSSL's
 * defaults (all of them AEAD with ephemeral keys). */
static const char tls12_ciphers[] = "ECDHE+AESGCM:ECDHE+CHACHA20";

/* struct fx_tls_ctx is never defined: a pointer to it is OpenSSL's SSL_CTX,
 * so OpenSSL's own reference count is the context's. */

struct fx_tls_session {
  SSL *ssl;
  BIO *in, *out; /* owned by ssl */
  char err[160];
};

static SSL_CTX *as_ssl(struct fx_tls_ctx *c) { return (SSL_CTX *)c; }

static int errf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* The oldest queued OpenSSL error as text, the queue emptied. */
static const char *ssl_reason(char *buf, size_t cap) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e)
    return "unknown OpenSSL error";
  ERR_error_string_n(e, buf, cap);
  return buf;
}

/* Reads the private key through one descriptor, checked before use: a regular
 * file that neither group nor others can access (as for the signing keys). */
static EVP_PKEY *read_key(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errf(err, errlen, "cannot open TLS key %s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st = {0};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
    errf(err, errlen,
         "TLS key %s is not a regular file of mode 0600 (mode %04o); refusing to use it: run 'chmod 600 %s' if it "
         "has not leaked, otherwise make a new key",
         path, (unsigned)(st.st_mode & 07777), path);
    close(fd);
    return NULL;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    close(fd);
    errf(err, errlen, "cannot read TLS key %s: %s", path, strerror(errno));
    return NULL;
  }
  EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (!k) {
    char why[120];
    errf(err, errlen, "TLS key %s: %s", path, ssl_reason(why, sizeof why));
  }
  return k;
}

static int load_identity(SSL_CTX *ctx, const struct fx_tls_config *cfg, char *err, size_t errlen) {
  char why[120];
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
    return errf(err, errlen, "TLS certificate %s: %s", cfg->cert_file, ssl_reason(why, sizeof why));
  EVP_PKEY *k = read_key(cfg->key_file, err, errlen);
  if (!k)
    return -1;
  int ok = SSL_CTX_use_PrivateKey(ctx, k) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(k);
  if (!ok)
    return errf(err, errlen, "TLS key %s does not go with certificate %s: %s", cfg->key_file, cfg->cert_file,
                ssl_reason(why, sizeof why));
  return 0;
}

/* Client certificates: asked for, required, and checked against the CA file;
 * the CA's name is sent so a client with several certificates picks this one. */
static int load_client_ca(SSL_CTX *ctx, const char *ca_file, char *err, size_t errlen) {
  char why[120];
  if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
    return errf(err, errlen, "TLS client CA %s: %s", ca_file, ssl_reason(why, sizeof why));
  STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
  if (!names)
    return errf(err, errlen, "TLS client CA %s: no certificate in it", ca_file);
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  return 0;
}

int fx_tls_ctx_new(struct fx_tls_ctx **out, const struct fx_tls_config *cfg, char *err, size_t errlen) {
  *out = NULL;
  if (!cfg->cert_file || !cfg->cert_file[0] || !cfg->key_file || !cfg->key_file[0])
    return errf(err, errlen, "TLS needs both a certificate and a key file");
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx)
    return errf(err, errlen, "out of memory");
  int rc = -1;
  char why[120];
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1)
    errf(err, errlen, "TLS policy: %s", ssl_reason(why, sizeof why));
  else if (load_identity(ctx, cfg, err, errlen) == 0 &&
           (!cfg->client_ca_file || !cfg->client_ca_file[0] ||
            load_client_ca(ctx, cfg->client_ca_file, err, errlen) == 0))
    rc = 0;
  if (rc) {
    SSL_CTX_free(ctx);
    return -1;
  }
  /* Renegotiation is a classic CPU-exhaustion lever; HTTP/1.1 needs none. */
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  *out = (struct fx_tls_ctx *)ctx;
  return 0;
}

struct fx_tls_ctx *fx_tls_ctx_ref(struct fx_tls_ctx *ctx) {
  SSL_CTX_up_ref(as_ssl(ctx));
  return ctx;
}

void fx_tls_ctx_free(struct fx_tls_ctx *ctx) { SSL_CTX_free(ctx ? as_ssl(ctx) : NULL); }

/* ------------------------------------------------------------------ session */

struct fx_tls_session *fx_tls_session_new(struct fx_tls_ctx *ctx) {
  struct fx_tls_session *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  ERR_clear_error();
  s->ssl = SSL_new(as_ssl(ctx)); /* holds its own reference to ctx */
  s->in = BIO_new(BIO_s_mem());
  s->out = BIO_new(BIO_s_mem());
  if (!s->ssl || !s->in || !s->out) {
    BIO_free(s->in);
    BIO_free(s->out);
    SSL_free(s->ssl);
    free(s);
    ERR_clear_error();
    return NULL;
  }
  /* An empty read BIO means "no data yet", not EOF. */
  BIO_set_mem_eof_return(s->in, -1);
  SSL_set_bio(s->ssl, s->in, s->out);
  SSL_set_accept_state(s->ssl);
  return s;
}

void fx_tls_session_free(struct fx_tls_session *s) {
  if (!s)
    return;
  SSL_free(s->ssl); /* frees both BIOs */
  free(s);
}

int fx_tls_session_feed(struct fx_tls_session *s, const void *data, size_t len) {
  if (len > INT32_MAX)
    return -1;
  return BIO_write(s->in, data, (int)len) == (int)len ? 0 : -1;
}

ssize_t fx_tls_session_read(struct fx_tls_session *s, void *buf, size_t cap) {
  ERR_clear_error();
  int n = SSL_read(s->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
  if (n > 0)
    return n;
  switch (SSL_get_error(s->ssl, n)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: /* the write BIO never fills: output is simply pending */
    return FX_TLS_WANT;
  case SSL_ERROR_ZERO_RETURN:
    return FX_TLS_EOF;
  default:
    ssl_reason(s->err, sizeof s->err);
    return FX_TLS_ERROR;
  }
}

bool fx_tls_session_established(const struct fx_tls_session *s) { return SSL_is_init_finished(s->ssl); }

int fx_tls_session_write(struct fx_tls_session *s, const void *data, size_t len) {
  if (len > INT32_MAX)
    return -1;
  if (!len)
    return 0;
  ERR_clear_error();
  /* Without SSL_MODE_ENABLE_PARTIAL_WRITE and with a memory BIO, this writes
   * everything or fails. */
  if (SSL_write(s->ssl, data, (int)len) != (int)len) {
    ssl_reason(s->err, sizeof s->err);
    return -1;
  }
  return 0;
}

void fx_tls_session_close_notify(struct fx_tls_session *s) {
  ERR_clear_error();
  if (SSL_is_init_finished(s->ssl))
    (void)SSL_shutdown(s->ssl); /* 0: ours is sent, the peer's is not awaited */
  ERR_clear_error();
}

size_t fx_tls_session_pending_out(const struct fx_tls_session *s) { return BIO_ctrl_pending(s->out); }

size_t fx_tls_session_take_out(struct fx_tls_session *s, char *buf, size_t cap) {
  int n = BIO_read(s->out, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
  return n > 0 ? (size_t)n : 0;
}

const char *fx_tls_session_error(const struct fx_tls_session *s) { return s->err; }
