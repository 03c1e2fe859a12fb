/* sink.h — the response sink: the HTTP endpoint of the simulated participants.
 *
 * flexd answers every UFTP message asynchronously, by POSTing a signed response to
 * the sender's registered endpoint. In a bench run every simulated participant
 * registers this sink's URL; the sink timestamps each arriving message on receipt,
 * hands it to the workload's callback (which keeps what it needs to verify the
 * signature after the measured window, so verification does not compete with the
 * platform for CPU) and answers 200. It listens on loopback only, bounds body size
 * and connection count, and speaks HTTP/1.1 keep-alive through http_parser. */
#ifndef FX_BENCH_SINK_H
#define FX_BENCH_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct fx_sink;

struct fx_sink_cfg {
  const char *host;  /* loopback address; NULL = 127.0.0.1 */
  int port;          /* 0 = any free port (see fx_sink_port) */
  size_t max_body;   /* larger bodies get 413; 0 = 1 MiB */
  unsigned max_conns; /* 0 = 1024 */
  /* Called for every accepted POST on the loop thread; `body` is valid only during
   * the call. `arrival_ns` is uv_hrtime() when its last bytes were read. */
  void (*on_message)(void *user, const char *body, size_t len, uint64_t arrival_ns);
  void *user;
};

/* Binds and starts listening on `loop`. -1 with a reason on failure. */
int fx_sink_start(struct fx_sink **out, uv_loop_t *loop, const struct fx_sink_cfg *cfg,
                  char *err, size_t errlen);

int fx_sink_port(const struct fx_sink *s);
uint64_t fx_sink_received(const struct fx_sink *s); /* answered 200 */
uint64_t fx_sink_refused(const struct fx_sink *s);  /* answered 4xx */

/* Runs `loop` until `n` messages have been received or `timeout_ns` has passed.
 * Returns 0 when they all arrived, -1 on timeout. */
int fx_sink_wait(struct fx_sink *s, uint64_t n, uint64_t timeout_ns);

/* Closes the listener and every connection; the sink is freed once the loop has run
 * the close callbacks (run it, e.g. uv_run(loop, UV_RUN_DEFAULT), before closing it). */
void fx_sink_close(struct fx_sink *s);

/* What identifies a UFTP message in a SignedMessage, read without verifying it. */
struct fx_sink_ids {
  char sender_domain[254];
  char sender_role[8];
  char type[64];            /* the inner root element, e.g. FlexOfferResponse */
  char message_id[64];
  char conversation_id[64];
  char ref_message_id[64];  /* the first other *MessageID attribute, e.g. FlexOfferMessageID */
};

/* Reads the envelope and the inner message's identifiers (libxml2, base64 via
 * OpenSSL). It does NOT check the signature: callers verify with the sender's key.
 * -1 when the body is not a SignedMessage carrying an XML message. */
int fx_sink_ids(const char *body, size_t len, struct fx_sink_ids *out);

/* Checks the SignedMessage's Ed25519 signature (CS1: libsodium combined mode) with
 * the sender's 32-byte public key: 0 when authentic, -1 otherwise. */
int fx_sink_verify(const char *body, size_t len, const unsigned char pk[32]);

#endif
