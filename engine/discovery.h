/* discovery.h — participants' keys and endpoints from DNS, as the UFTP
 * transport appendix describes it (service discovery, DNS). For a participant
 * with domain example.com playing role AGR:
 *
 *   _AGR._usef.example.com        TXT: up to two space-separated cs1 key strings
 *                                 (two during a key rollover; either may sign)
 *   _http._AGR._usef.example.com  CNAME: the host of the role's HTTP endpoint;
 *                                 the alias must resolve (A or AAAA), chains are
 *                                 followed (c-ares), loops are a failure
 *
 * The endpoint URL is scheme://host[:port]/shapeshifter/api/v3/message with
 * host the CNAME's target (scheme and port from the configuration: https and
 * 443 per the appendix).
 *
 * Only participants the configuration lists with `discovery = dns` are looked
 * up: the configuration stays the list of who may trade (closed market, rate,
 * barred), DNS only says with which keys and where. Lookups run with c-ares on
 * the libuv loop and never block it. Every watched participant is resolved at
 * start and again when its answer's TTL (at most dns_cache_ttl) runs out, so
 * the keys a worker needs are already known when a message arrives; whenever
 * what is known changes, `changed` runs on the loop and the server builds a new
 * registry snapshot from fx_discovery_get (engine/registry.h).
 *
 * What a failed lookup does:
 *   - "no such name" or no usable record (an authoritative answer): the keys
 *     or endpoint are forgotten: messages get 401 (unknown key), deliveries
 *     are retried by the outbox with its back-off. Asked again after
 *     min(dns_cache_ttl, 30 s).
 *   - resolver unreachable, timeout, SERVFAIL, an answer without DNSSEC
 *     authentication when dns_dnssec is on (the appendix: "treating
 *     verification failures as temporary errors"): the last good answer is
 *     kept for dns_stale seconds after it expired, then forgotten as above.
 *     Asked again after 1, 2, 4 ... 60 s.
 */
#ifndef FX_ENGINE_DISCOVERY_H
#define FX_ENGINE_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine/config.h"
#include "engine/log.h"

struct fx_discovery;

/* What is known about one participant now. */
struct fx_discovered {
  uint8_t pk[2][32]; /* Ed25519 public signing keys */
  size_t n_keys;     /* 0: none known */
  char endpoint[512]; /* "": none known */
};

typedef void (*fx_discovery_changed_cb)(void *ud);

/* Starts resolving every participant of cfg marked `discovery = dns`, with
 * cfg's [platform] dns_* settings. log may be NULL. 0, or -1 with err. */
int fx_discovery_new(struct fx_discovery **out, uv_loop_t *loop, const struct fx_config *cfg,
                     const struct fx_log *log, fx_discovery_changed_cb changed, void *ud, char *err, size_t errlen);

/* SIGHUP: new settings and participants (new ones are resolved at once,
 * dropped ones forgotten, the others keep their answers). 0, or -1 with err
 * (nothing changed). */
int fx_discovery_configure(struct fx_discovery *d, const struct fx_config *cfg, char *err, size_t errlen);

/* What is known about (domain, role): 0, or -1 when it is not watched. */
int fx_discovery_get(const struct fx_discovery *d, const char *domain, enum fx_role role, struct fx_discovered *out);

/* Queries sent since the start (both record kinds). */
uint64_t fx_discovery_queries(const struct fx_discovery *d);

/* Cancels lookups in flight and closes the handles; the memory is released
 * once the loop has processed the closes. `changed` is not called again. */
void fx_discovery_close(struct fx_discovery *d);

/* The record names above; -1 when they do not fit. */
int fx_discovery_key_name(char *buf, size_t cap, const char *domain, enum fx_role role);
int fx_discovery_endpoint_name(char *buf, size_t cap, const char *domain, enum fx_role role);

#endif
