/* registry.h — who flexd trades with: participants by (domain, role).
 *
 * A registry is an immutable snapshot built from the configuration: parsed
 * public keys (two during a rotation), endpoint, barred flag and rate. The loop
 * thread owns the current snapshot and hands a reference to every job it
 * submits; SIGHUP builds a new snapshot and swaps it in, and the old one is
 * freed when its last job is done. Because references are taken and dropped on
 * the loop thread only, the count needs no atomics, and workers read a snapshot
 * that never changes under them.
 *
 * Per-sender rate limiting is the one mutable part: a token bucket per
 * participant, shared by the worker threads, so it is guarded by a mutex.
 *
 * With DNS discovery (engine/discovery.h) a participant configured with
 * `discovery = dns` takes its keys and endpoint from what discovery knows when
 * the snapshot is built, and is left out while no key is known (its messages
 * then get 401, like any unknown sender's, and deliveries to it are retried).
 * New answers make the server build a new snapshot (fx_registry_rebuild) and
 * swap it in exactly as SIGHUP does; buckets carry over.
 *
 * The registry also gives the workers their fairness key (fx_registry_flow). */
#ifndef FX_ENGINE_REGISTRY_H
#define FX_ENGINE_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

struct fx_discovery;

struct fx_participant {
  char domain[254];
  enum fx_role role;
  uint8_t pk[2][32]; /* Ed25519 public signing keys */
  size_t n_keys;
  char endpoint[512];
  bool barred;
  uint32_t rate; /* per second; 0 = unlimited */
  bool dns;      /* keys and endpoint from discovery */
  /* token bucket (guarded by the registry's mutex) */
  double tokens;
  int64_t refill_us;
};

struct fx_registry {
  struct fx_participant *p; /* sorted by (domain, role) */
  size_t n;
  unsigned refs;            /* loop thread only */
  pthread_mutex_t rate_mu;
  /* what the snapshot was built from, for fx_registry_rebuild */
  struct fx_participant_cfg *cfg;
  size_t n_cfg;
  struct fx_discovery *disc; /* the server's (not owned); NULL = static only */
};

/* Builds a snapshot from cfg (refs = 1), static keys only: participants with
 * `discovery = dns` are left out. On a malformed key returns NULL and says
 * which participant in err. */
struct fx_registry *fx_registry_new(const struct fx_config *cfg, char *err, size_t errlen);

/* The same with discovery: participants with `discovery = dns` as `disc`
 * knows them now (disc NULL: refused, when cfg has any). Token buckets of
 * participants also in `prev` (may be NULL) carry over. */
struct fx_registry *fx_registry_build(const struct fx_config *cfg, struct fx_discovery *disc,
                                      const struct fx_registry *prev, char *err, size_t errlen);

/* A new snapshot of the same participants with what discovery knows now
 * (after it reported a change); NULL when out of memory. Loop thread. */
struct fx_registry *fx_registry_rebuild(const struct fx_registry *cur);
struct fx_registry *fx_registry_ref(struct fx_registry *r);
void fx_registry_unref(struct fx_registry *r);

/* The participant, or NULL. Thread-safe (the snapshot is immutable). */
const struct fx_participant *fx_registry_find(const struct fx_registry *r, const char *domain,
                                              enum fx_role role);

/* True when (domain, role) is configured with `discovery = dns` but this
 * snapshot knows no key for it: the lookup failed or has not answered yet.
 * The transport appendix answers such a message 419 (temporary: it can be
 * processed once DNS is corrected), not 401. Thread-safe. */
bool fx_registry_awaits_dns(const struct fx_registry *r, const char *domain, enum fx_role role);

/* Takes one token from the participant's bucket at time now_us; false when the
 * sender is over its rate (HTTP 429). Thread-safe. */
bool fx_registry_rate_take(struct fx_registry *r, const struct fx_participant *p, int64_t now_us);

/* The workers' fairness key for a request from `peer` (its IP address) whose
 * body is a SignedMessage: the peer together with the sender the envelope
 * claims (SenderDomain and SenderRole, read from the root element's start tag
 * in the first FX_REGISTRY_SCAN bytes — a bounded scan on the loop thread, not
 * a parse) when that claim names a participant of this snapshot; the peer
 * alone otherwise. Senders behind one proxy address thus get a flow each, a
 * forger claiming someone's domain from another address gets its own, and
 * made-up domains cannot multiply one client's flows. The claim is not
 * verified here: the worker does that. Loop thread (or any: read-only). */
#define FX_REGISTRY_SCAN 4096
uint64_t fx_registry_flow(const struct fx_registry *r, const char *peer, const void *body, size_t len);

/* The claimed sender of a SignedMessage by the same scan: 0, or -1 when the
 * start tag (within the bound) has no usable SenderDomain/SenderRole. */
int fx_registry_claimed_sender(const void *body, size_t len, char domain[254], enum fx_role *role);

#endif
