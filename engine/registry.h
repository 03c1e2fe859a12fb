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
 * participant, shared by the worker threads, so it is guarded by a mutex. */
#ifndef FX_ENGINE_REGISTRY_H
#define FX_ENGINE_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

struct fx_participant {
  char domain[254];
  enum fx_role role;
  uint8_t pk[2][32]; /* Ed25519 public signing keys */
  size_t n_keys;
  char endpoint[512];
  bool barred;
  uint32_t rate; /* per second; 0 = unlimited */
  /* token bucket (guarded by the registry's mutex) */
  double tokens;
  int64_t refill_us;
};

struct fx_registry {
  struct fx_participant *p; /* sorted by (domain, role) */
  size_t n;
  unsigned refs;            /* loop thread only */
  pthread_mutex_t rate_mu;
};

/* Builds a snapshot from cfg (refs = 1). On a malformed key returns NULL and
 * says which participant in err. */
struct fx_registry *fx_registry_new(const struct fx_config *cfg, char *err, size_t errlen);
struct fx_registry *fx_registry_ref(struct fx_registry *r);
void fx_registry_unref(struct fx_registry *r);

/* The participant, or NULL. Thread-safe (the snapshot is immutable). */
const struct fx_participant *fx_registry_find(const struct fx_registry *r, const char *domain,
                                              enum fx_role role);

/* Takes one token from the participant's bucket at time now_us; false when the
 * sender is over its rate (HTTP 429). Thread-safe. */
bool fx_registry_rate_take(struct fx_registry *r, const struct fx_participant *p, int64_t now_us);

#endif
