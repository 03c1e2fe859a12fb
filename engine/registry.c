/* registry.c — participant snapshots (see registry.h): building them from
 * the configuration and discovery, lookups, rate buckets, and the envelope
 * scan that keys the workers' fair queue. */
#define _GNU_SOURCE /* memmem */
#include "engine/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/keys.h"
#include "engine/discovery.h"
#include "engine/workers.h"

static int cmp_participant(const void *a, const void *b) {
  const struct fx_participant *x = a, *y = b;
  int c = strcmp(x->domain, y->domain);
  return c ? c : (int)x->role - (int)y->role;
}

static void load_common(struct fx_participant *p, const struct fx_participant_cfg *c) {
  memset(p, 0, sizeof *p);
  snprintf(p->domain, sizeof p->domain, "%s", c->domain);
  p->role = c->role;
  p->barred = c->barred;
  p->rate = c->rate;
  p->tokens = c->rate;
  p->dns = c->dns;
}

static int load_static(struct fx_participant *p, const struct fx_participant_cfg *c, char *err, size_t errlen) {
  load_common(p, c);
  snprintf(p->endpoint, sizeof p->endpoint, "%s", c->endpoint);
  for (int k = 0; k < 2; k++) {
    if (!c->keys[k][0])
      continue;
    struct fx_keys_public pub;
    const char *why = "";
    if (fx_keys_cs1_parse(c->keys[k], strlen(c->keys[k]), &pub, &why) != 0) {
      snprintf(err, errlen, "participant %s %s: %s %s", c->domain, fx_role_name(c->role),
               k ? "key2" : "key", why);
      return -1;
    }
    memcpy(p->pk[p->n_keys++], pub.sign, 32);
  }
  if (!p->n_keys) {
    snprintf(err, errlen, "participant %s %s: no key", c->domain, fx_role_name(c->role));
    return -1;
  }
  return 0;
}

/* 1 when discovery knows a key for c (p filled), 0 when not (left out). */
static int load_discovered(struct fx_participant *p, const struct fx_participant_cfg *c,
                           const struct fx_discovery *disc) {
  struct fx_discovered got;
  if (!disc || fx_discovery_get(disc, c->domain, c->role, &got) != 0 || !got.n_keys)
    return 0;
  load_common(p, c);
  memcpy(p->pk, got.pk, sizeof p->pk);
  p->n_keys = got.n_keys;
  snprintf(p->endpoint, sizeof p->endpoint, "%s", got.endpoint);
  return 1;
}

/* A participant's bucket goes on in the next snapshot (a DNS answer must not
 * refill a flooder's bucket). */
static void carry_buckets(struct fx_registry *r, const struct fx_registry *prev) {
  pthread_mutex_lock((pthread_mutex_t *)&prev->rate_mu);
  for (size_t i = 0; i < r->n; i++) {
    const struct fx_participant *o = fx_registry_find(prev, r->p[i].domain, r->p[i].role);
    if (o && o->rate == r->p[i].rate)
      r->p[i].tokens = o->tokens, r->p[i].refill_us = o->refill_us;
  }
  pthread_mutex_unlock((pthread_mutex_t *)&prev->rate_mu);
}

static void registry_free(struct fx_registry *r) {
  free(r->p);
  free(r->cfg);
  free(r);
}

static struct fx_registry *build(const struct fx_participant_cfg *pc, size_t n, struct fx_discovery *disc,
                                 const struct fx_registry *prev, char *err, size_t errlen) {
  struct fx_registry *r = calloc(1, sizeof *r);
  if (!r || (n && (!(r->p = calloc(n, sizeof *r->p)) || !(r->cfg = malloc(n * sizeof *pc))))) {
    snprintf(err, errlen, "out of memory");
    if (r)
      registry_free(r);
    return NULL;
  }
  if (n)
    memcpy(r->cfg, pc, n * sizeof *pc);
  r->n_cfg = n;
  r->disc = disc;
  for (size_t i = 0; i < n; i++) {
    if (pc[i].dns) {
      r->n += (size_t)load_discovered(&r->p[r->n], &pc[i], disc);
      continue;
    }
    if (load_static(&r->p[r->n], &pc[i], err, errlen) != 0) {
      registry_free(r);
      return NULL;
    }
    r->n++;
  }
  if (r->n) /* qsort and bsearch want a real array, even for no elements */
    qsort(r->p, r->n, sizeof *r->p, cmp_participant);
  pthread_mutex_init(&r->rate_mu, NULL);
  if (prev)
    carry_buckets(r, prev);
  r->refs = 1;
  return r;
}

struct fx_registry *fx_registry_new(const struct fx_config *cfg, char *err, size_t errlen) {
  return build(cfg->participants, cfg->n_participants, NULL, NULL, err, errlen);
}

struct fx_registry *fx_registry_build(const struct fx_config *cfg, struct fx_discovery *disc,
                                      const struct fx_registry *prev, char *err, size_t errlen) {
  if (!disc)
    for (size_t i = 0; i < cfg->n_participants; i++)
      if (cfg->participants[i].dns) {
        snprintf(err, errlen, "participant %s %s: discovery = dns, but DNS discovery is not running "
                 "([platform] discovery takes effect at start-up)", cfg->participants[i].domain,
                 fx_role_name(cfg->participants[i].role));
        return NULL;
      }
  return build(cfg->participants, cfg->n_participants, disc, prev, err, errlen);
}

struct fx_registry *fx_registry_rebuild(const struct fx_registry *cur) {
  char err[300];
  return build(cur->cfg, cur->n_cfg, cur->disc, cur, err, sizeof err);
}

struct fx_registry *fx_registry_ref(struct fx_registry *r) {
  r->refs++;
  return r;
}

void fx_registry_unref(struct fx_registry *r) {
  if (!r || --r->refs)
    return;
  pthread_mutex_destroy(&r->rate_mu);
  registry_free(r);
}

const struct fx_participant *fx_registry_find(const struct fx_registry *r, const char *domain,
                                              enum fx_role role) {
  struct fx_participant key;
  if (!r->n || strlen(domain) >= sizeof key.domain)
    return NULL;
  strcpy(key.domain, domain);
  key.role = role;
  return bsearch(&key, r->p, r->n, sizeof *r->p, cmp_participant);
}

bool fx_registry_awaits_dns(const struct fx_registry *r, const char *domain, enum fx_role role) {
  /* Only on the refusal path; the configured list is short beside the work a
   * refusal already cost (the envelope parse). */
  for (size_t i = 0; i < r->n_cfg; i++)
    if (r->cfg[i].dns && r->cfg[i].role == role && !strcmp(r->cfg[i].domain, domain))
      return !fx_registry_find(r, domain, role);
  return false;
}

bool fx_registry_rate_take(struct fx_registry *r, const struct fx_participant *cp, int64_t now_us) {
  if (!cp->rate)
    return true;
  struct fx_participant *p = (struct fx_participant *)cp; /* the bucket is the mutable part */
  bool ok;
  pthread_mutex_lock(&r->rate_mu);
  if (now_us > p->refill_us) {
    p->tokens += (double)(now_us - p->refill_us) * p->rate / 1e6;
    if (p->tokens > p->rate) /* burst = one second's worth */
      p->tokens = p->rate;
    p->refill_us = now_us;
  }
  ok = p->tokens >= 1.0;
  if (ok)
    p->tokens -= 1.0;
  pthread_mutex_unlock(&r->rate_mu);
  return ok;
}

/* ---- the claimed sender, for fairness ------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Where the root element's start tag begins within s[0..n), after the XML
 * declaration, processing instructions, comments and a DOCTYPE (as far as
 * they hold no '>'). Its end is not searched for: that would read the whole
 * Body; attr() checks that what it finds lies before the tag's '>'. */
static const char *root_tag(const char *s, size_t n) {
  for (const char *p = s, *end = s + n; (p = memchr(p, '<', (size_t)(end - p))) && end - p > 1;) {
    if (p[1] != '?' && p[1] != '!')
      return p;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    if (!gt)
      return NULL;
    p = gt + 1;
  }
  return NULL;
}

/* The value of attribute `name` in the start tag beginning at t (the window
 * ends at end), as its bytes stand (an entity in a domain just makes another
 * key). NULL when absent, unterminated, or past the tag's end. */
static const char *attr(const char *t, const char *end, const char *name, size_t *vlen) {
  size_t nl = strlen(name);
  for (const char *p = t; (p = memmem(p, (size_t)(end - p), name, nl)); p += nl) {
    const char *q = p + nl;
    if (!is_space(p[-1]))
      continue;
    while (q < end && is_space(*q))
      q++;
    if (q == end || *q++ != '=')
      continue;
    while (q < end && is_space(*q))
      q++;
    if (q == end || (*q != '"' && *q != '\''))
      continue;
    const char *close = memchr(q + 1, *q, (size_t)(end - q - 1));
    if (!close || memchr(t, '>', (size_t)(close - t)))
      return NULL; /* unterminated, or it belongs to a later element */
    *vlen = (size_t)(close - q - 1);
    return q + 1;
  }
  return NULL;
}

int fx_registry_claimed_sender(const void *body, size_t len, char domain[254], enum fx_role *role) {
  size_t n = len < FX_REGISTRY_SCAN ? len : FX_REGISTRY_SCAN, dlen, rlen;
  const char *t = root_tag(body, n), *end = (const char *)body + n;
  const char *d = t ? attr(t, end, "SenderDomain", &dlen) : NULL;
  const char *r = t ? attr(t, end, "SenderRole", &rlen) : NULL;
  char rname[4];
  if (!d || !r || !dlen || dlen >= 254 || rlen >= sizeof rname)
    return -1;
  memcpy(rname, r, rlen);
  rname[rlen] = 0;
  if ((*role = (enum fx_role)fx_role_from_name(rname)) == FX_ROLE_NONE)
    return -1;
  memcpy(domain, d, dlen);
  domain[dlen] = 0;
  return 0;
}

uint64_t fx_registry_flow(const struct fx_registry *r, const char *peer, const void *body, size_t len) {
  char key[64 + 2 + 254];
  size_t plen = strnlen(peer, 64), n = plen;
  memcpy(key, peer, plen);
  char domain[254];
  enum fx_role role;
  if (fx_registry_claimed_sender(body, len, domain, &role) == 0 && fx_registry_find(r, domain, role)) {
    size_t dlen = strlen(domain);
    key[n++] = 0; /* no peer string can run into the claim */
    key[n++] = (char)role;
    memcpy(key + n, domain, dlen);
    n += dlen;
  }
  return fx_workers_flow_key(key, n);
}
