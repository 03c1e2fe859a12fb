/* registry.c — participant snapshots (see registry.h). */
#include "engine/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/keys.h"

static int cmp_participant(const void *a, const void *b) {
  const struct fx_participant *x = a, *y = b;
  int c = strcmp(x->domain, y->domain);
  return c ? c : (int)x->role - (int)y->role;
}

static int load_one(struct fx_participant *p, const struct fx_participant_cfg *c, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  snprintf(p->domain, sizeof p->domain, "%s", c->domain);
  p->role = c->role;
  snprintf(p->endpoint, sizeof p->endpoint, "%s", c->endpoint);
  p->barred = c->barred;
  p->rate = c->rate;
  p->tokens = c->rate;
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

struct fx_registry *fx_registry_new(const struct fx_config *cfg, char *err, size_t errlen) {
  struct fx_registry *r = calloc(1, sizeof *r);
  if (!r || (cfg->n_participants && !(r->p = calloc(cfg->n_participants, sizeof *r->p)))) {
    snprintf(err, errlen, "out of memory");
    free(r);
    return NULL;
  }
  for (size_t i = 0; i < cfg->n_participants; i++)
    if (load_one(&r->p[i], &cfg->participants[i], err, errlen) != 0) {
      free(r->p);
      free(r);
      return NULL;
    }
  r->n = cfg->n_participants;
  if (r->n) /* qsort and bsearch want a real array, even for no elements */
    qsort(r->p, r->n, sizeof *r->p, cmp_participant);
  pthread_mutex_init(&r->rate_mu, NULL);
  r->refs = 1;
  return r;
}

struct fx_registry *fx_registry_ref(struct fx_registry *r) {
  r->refs++;
  return r;
}

void fx_registry_unref(struct fx_registry *r) {
  if (!r || --r->refs)
    return;
  pthread_mutex_destroy(&r->rate_mu);
  free(r->p);
  free(r);
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
