/* tls.h — server-side TLS for fx_http_server, with OpenSSL over memory BIOs.
 *
 * Two objects:
 *  - fx_tls_ctx: the listener's policy and identity (TLS 1.2 minimum, ECDHE
 *    AEAD ciphers, TLS 1.3 defaults, certificate chain and key from files,
 *    optionally a CA whose client certificates are required). It wraps an
 *    SSL_CTX, which OpenSSL reference-counts: every session holds its own
 *    reference, so a reload swaps the listener's context while connections
 *    already open keep the one they were accepted with.
 *  - fx_tls_session: one connection's TLS state. It does no I/O of its own:
 *    the caller feeds it the ciphertext it read from the socket and sends the
 *    ciphertext it takes out, so it runs on the libuv loop without blocking.
 *
 * Everything here runs on the loop thread; nothing is shared across threads. */
#ifndef FX_ENGINE_TLS_H
#define FX_ENGINE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct fx_tls_config {
  const char *cert_file;      /* PEM: the certificate, then its chain */
  const char *key_file;       /* PEM private key; mode 0600 (no group/other bits) */
  const char *client_ca_file; /* NULL or "": no client certificates asked for */
};

struct fx_tls_ctx;
struct fx_tls_session;

/* Builds a context from files. Returns 0, or -1 with the reason in err
 * (missing or unreadable file, key file readable by others, key not matching
 * the certificate, bad CA file). */
int fx_tls_ctx_new(struct fx_tls_ctx **out, const struct fx_tls_config *cfg, char *err, size_t errlen);
/* Another owner of ctx (released with fx_tls_ctx_free). */
struct fx_tls_ctx *fx_tls_ctx_ref(struct fx_tls_ctx *ctx);
/* Drops one reference (NULL is fine). Sessions keep their own. */
void fx_tls_ctx_free(struct fx_tls_ctx *ctx);

enum {
  FX_TLS_WANT = 0,    /* fx_tls_session_read: nothing decrypted yet, feed more */
  FX_TLS_EOF = -1,    /* the peer closed the TLS session (close_notify) */
  FX_TLS_ERROR = -2   /* handshake or record failure: the connection is done */
};

/* A server session on ctx; NULL when out of memory. */
struct fx_tls_session *fx_tls_session_new(struct fx_tls_ctx *ctx);
void fx_tls_session_free(struct fx_tls_session *s);
/* Hands ciphertext read from the socket to the session; 0 or -1 (no memory). */
int fx_tls_session_feed(struct fx_tls_session *s, const void *data, size_t len);
/* Runs the handshake as far as the input allows, then decrypts into buf.
 * Returns the number of plaintext bytes (> 0), FX_TLS_WANT, FX_TLS_EOF or
 * FX_TLS_ERROR. Check fx_tls_session_pending_out() afterwards: the handshake
 * and alerts have output of their own. */
ssize_t fx_tls_session_read(struct fx_tls_session *s, void *buf, size_t cap);
/* True once the handshake has completed. */
bool fx_tls_session_established(const struct fx_tls_session *s);
/* Encrypts len bytes (all of them); 0 or -1. Take the ciphertext out next. */
int fx_tls_session_write(struct fx_tls_session *s, const void *data, size_t len);
/* Queues a close_notify alert (a clean end of the session). */
void fx_tls_session_close_notify(struct fx_tls_session *s);
/* Bytes of ciphertext waiting to be sent. */
size_t fx_tls_session_pending_out(const struct fx_tls_session *s);
/* Moves up to cap bytes of pending ciphertext into buf; returns how many. */
size_t fx_tls_session_take_out(struct fx_tls_session *s, char *buf, size_t cap);
/* OpenSSL's reason for the last FX_TLS_ERROR ("" if none); for logs. */
const char *fx_tls_session_error(const struct fx_tls_session *s);

#endif
