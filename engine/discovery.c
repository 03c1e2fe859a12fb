/* discovery.c — DNS discovery with c-ares on the libuv loop (see discovery.h).
 *
 * c-ares runs in its event-driven mode: its socket-state callback opens and
 * closes one uv_poll_t per socket it uses, readiness is handed back with
 * ares_process_fd, and one timer follows ares_timeout. A second timer, once a
 * second, starts the lookups that are due. Watched participants are few (the
 * configuration lists them), so they sit in a plain list.
 *
 * Keys are asked for with a hand-built TXT query carrying the AD bit (RFC 6840
 * §5.7: a validating resolver then says whether it authenticated the answer);
 * the answer's AD bit and TTL are read from the raw reply. The endpoint goes
 * through ares_getaddrinfo, which follows the CNAME chain to an address and
 * reports each link with its TTL; its integrity rests on TLS (the peer's
 * certificate must match the host), not on DNSSEC. */
#include "engine/discovery.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/keys.h"

#define NEGATIVE_RETRY_MS 30000u
#define FAIL_RETRY_MAX_MS 60000u
#define MIN_TTL_MS 1000u /* a zero TTL must not mean a query per message */
#define CHAIN_MAX 8

enum kind { KEYS = 0, ENDPOINT = 1 };

/* One record kind of one participant. */
struct rec {
  uint64_t expires_ms;    /* the answer's TTL ends (loop time) */
  uint64_t next_ms;       /* when to ask again */
  unsigned failures;      /* temporary failures in a row */
  bool inflight, known;
};

struct entry {
  struct entry *next;
  struct fx_discovery *d;
  char domain[254];
  enum fx_role role;
  struct fx_discovered cur;
  struct rec rec[2];
  unsigned inflight; /* callbacks owed by c-ares */
  bool gone;         /* dropped by configure (or close): freed by its last callback */
  bool seen;         /* configure's mark */
};

struct sock {
  uv_poll_t poll;
  ares_socket_t fd;
  struct sock *next;
  struct fx_discovery *d;
};

struct fx_discovery {
  uv_loop_t *loop;
  ares_channel ch;
  const struct fx_log *log;
  fx_discovery_changed_cb changed;
  void *ud;
  uv_timer_t ares_timer, tick;
  struct sock *socks;
  struct entry *entries;
  uint64_t queries;
  unsigned open_handles; /* the memory goes with the last close */
  bool closing;
  /* settings */
  bool dnssec;
  uint64_t cache_ttl_ms, stale_ms;
  char scheme[8];
  unsigned port;
};

/* ---- names ------------------------------------------------------------------ */

int fx_discovery_key_name(char *buf, size_t cap, const char *domain, enum fx_role role) {
  int n = snprintf(buf, cap, "_%s._usef.%s", fx_role_name(role), domain);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int fx_discovery_endpoint_name(char *buf, size_t cap, const char *domain, enum fx_role role) {
  int n = snprintf(buf, cap, "_http._%s._usef.%s", fx_role_name(role), domain);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- c-ares on the loop ------------------------------------------------------ */

static void handle_closed(uv_handle_t *h) {
  struct fx_discovery *d = h->data;
  if (h->type == UV_POLL)
    free(h); /* the uv_poll_t is the first member of struct sock */
  if (--d->open_handles == 0)
    free(d);
}

static void on_ares_timer(uv_timer_t *t);

static void rearm_ares_timer(struct fx_discovery *d) {
  struct timeval tv;
  uv_timer_stop(&d->ares_timer);
  if (d->closing || !ares_timeout(d->ch, NULL, &tv))
    return;
  uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)(tv.tv_usec + 999) / 1000;
  uv_timer_start(&d->ares_timer, on_ares_timer, ms, 0);
}

static void on_ares_timer(uv_timer_t *t) {
  struct fx_discovery *d = t->data;
  ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  rearm_ares_timer(d);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  struct sock *s = (struct sock *)p;
  struct fx_discovery *d = s->d;
  ares_socket_t fd = s->fd;
  /* An error on the socket: let c-ares read it and find out. */
  bool rd = status < 0 || (events & UV_READABLE), wr = status == 0 && (events & UV_WRITABLE);
  ares_process_fd(d->ch, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
  rearm_ares_timer(d);
}

/* c-ares opens, watches and closes sockets; we mirror that with polls. It
 * calls this with neither flag set just before it closes fd. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable) {
  struct fx_discovery *d = data;
  struct sock **pp = &d->socks, *s;
  while ((s = *pp) && s->fd != fd)
    pp = &s->next;
  if (!readable && !writable) {
    if (s) {
      *pp = s->next;
      uv_poll_stop(&s->poll);
      uv_close((uv_handle_t *)&s->poll, handle_closed);
    }
    return;
  }
  if (!s) {
    if (!(s = calloc(1, sizeof *s)) || uv_poll_init_socket(d->loop, &s->poll, fd) != 0) {
      free(s); /* c-ares then times the query out: a temporary failure */
      return;
    }
    s->fd = fd, s->d = d;
    s->poll.data = d;
    s->next = d->socks;
    d->socks = s;
    d->open_handles++;
  }
  uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

/* ---- entries ------------------------------------------------------------------ */

static struct entry *entry_find(const struct fx_discovery *d, const char *domain, enum fx_role role) {
  for (struct entry *e = d->entries; e; e = e->next)
    if (!e->gone && e->role == role && !strcmp(e->domain, domain))
      return e;
  return NULL;
}

static void entry_unlink(struct fx_discovery *d, struct entry *e) {
  for (struct entry **pp = &d->entries; *pp; pp = &(*pp)->next)
    if (*pp == e) {
      *pp = e->next;
      return;
    }
}

/* A callback is done with e: false when e is gone (and now perhaps freed). */
static bool entry_callback_done(struct entry *e) {
  e->inflight--;
  if (!e->gone)
    return !e->d->closing;
  if (!e->inflight)
    free(e);
  return false;
}

/* ---- answers ------------------------------------------------------------------ */

enum outcome { GOOD, NEGATIVE, TEMPORARY };

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned long be32(const unsigned char *p) { return (unsigned long)be16(p) << 16 | be16(p + 2); }

/* The smallest TTL of the answer records of `type`, in seconds; -1 if none.
 * (RFC 1035 §4.1: a 12-byte header with the section counts, the questions,
 * then records of name, type, class, TTL, length and data.) */
static long answer_ttl(const unsigned char *abuf, int alen, int type) {
  if (alen < HFIXEDSZ)
    return -1;
  const unsigned char *p = abuf + HFIXEDSZ, *end = abuf + alen;
  unsigned qd = be16(abuf + 4), an = be16(abuf + 6);
  long min = -1;
  for (unsigned i = 0; i < qd + an; i++) {
    char *name;
    long enclen;
    if (ares_expand_name(p, abuf, alen, &name, &enclen) != ARES_SUCCESS)
      return min;
    ares_free_string(name);
    p += enclen;
    if (i < qd) {
      p += QFIXEDSZ;
      continue;
    }
    if (end - p < RRFIXEDSZ)
      return min;
    long ttl = (long)(be32(p + 4) & 0x7fffffffUL);
    int rtype = (int)be16(p);
    if (end - p - RRFIXEDSZ < (long)be16(p + 8))
      return min;
    p += RRFIXEDSZ + be16(p + 8);
    if (rtype == type && (min < 0 || ttl < min))
      min = ttl;
  }
  return min;
}

/* Adds every cs1 key of one TXT record's text (space-separated) to out. */
static void keys_from_text(struct fx_discovery *d, const char *name, const char *text, size_t len,
                           struct fx_discovered *out) {
  for (size_t i = 0; i < len;) {
    while (i < len && text[i] == ' ')
      i++;
    size_t j = i;
    while (j < len && text[j] != ' ')
      j++;
    if (j == i)
      break;
    struct fx_keys_public pub;
    const char *why = "";
    if (fx_keys_cs1_parse(text + i, j - i, &pub, &why) != 0)
      fx_log_emit(d->log, FX_LOG_WARN, "discovery", FX_LOG_KV(FX_LS("name", name), FX_LS("why", why)),
                  "%s: a TXT string that is no cs1 key ignored: %s", name, why);
    else if (out->n_keys < 2 && (!out->n_keys || memcmp(out->pk[0], pub.sign, 32)))
      memcpy(out->pk[out->n_keys++], pub.sign, 32);
    i = j;
  }
}

/* The keys of a TXT answer: strings of one record are joined (RFC 7208 §3.3
 * style), records are read in turn; at most two keys, as the appendix says. */
static enum outcome parse_keys(struct fx_discovery *d, const char *name, const unsigned char *abuf, int alen,
                               struct fx_discovered *out, long *ttl) {
  if (d->dnssec && !(abuf[3] & 0x20)) { /* the AD bit */
    fx_log_emit(d->log, FX_LOG_WARN, "discovery", FX_LOG_KV(FX_LS("name", name)),
                "%s: answer not DNSSEC-authenticated (no AD bit); dns_dnssec needs a validating resolver", name);
    return TEMPORARY;
  }
  struct ares_txt_ext *txt = NULL;
  int rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
  if (rc != ARES_SUCCESS)
    return rc == ARES_ENODATA ? NEGATIVE : TEMPORARY;
  char text[1024];
  size_t len = 0;
  for (struct ares_txt_ext *t = txt; t; t = t->next) {
    if (t->record_start && len) {
      keys_from_text(d, name, text, len, out);
      len = 0;
    }
    size_t n = t->length < sizeof text - len ? t->length : sizeof text - len;
    memcpy(text + len, t->txt, n);
    len += n;
  }
  keys_from_text(d, name, text, len, out);
  ares_free_data(txt);
  *ttl = answer_ttl(abuf, alen, T_TXT);
  return out->n_keys ? GOOD : NEGATIVE;
}

/* The endpoint from a resolved CNAME chain: the first link's target (what the
 * participant published, and what its certificate names). */
static enum outcome parse_endpoint(struct fx_discovery *d, const char *name, const struct ares_addrinfo *ai,
                                   struct fx_discovered *out, long *ttl) {
  const struct ares_addrinfo_cname *first = NULL;
  long min = -1;
  for (const struct ares_addrinfo_cname *c = ai->cnames; c; c = c->next) {
    if (!strcasecmp(c->alias, name))
      first = c;
    if (min < 0 || c->ttl < min)
      min = c->ttl;
  }
  for (const struct ares_addrinfo_node *n = ai->nodes; n; n = n->ai_next)
    if (min < 0 || n->ai_ttl < min)
      min = n->ai_ttl;
  if (!first || !ai->nodes)
    return NEGATIVE; /* an address record at the label itself: not what the appendix allows */
  bool default_port = d->port == (strcmp(d->scheme, "https") ? 80u : 443u);
  char port[16] = "";
  if (!default_port)
    snprintf(port, sizeof port, ":%u", d->port);
  int n = snprintf(out->endpoint, sizeof out->endpoint, "%s://%s%s/shapeshifter/api/v3/message", d->scheme,
                   first->name, port);
  if (n < 0 || (size_t)n >= sizeof out->endpoint)
    return NEGATIVE;
  *ttl = min;
  return GOOD;
}

static uint64_t backoff_ms(unsigned failures) {
  uint64_t ms = 1000u << (failures > 6 ? 6 : failures - 1);
  return ms < FAIL_RETRY_MAX_MS ? ms : FAIL_RETRY_MAX_MS;
}

/* Applies one lookup's outcome to e; tells the owner when what is known changed. */
static void settle(struct entry *e, enum kind k, enum outcome o, const struct fx_discovered *got, long ttl_s,
                   const char *name, const char *why) {
  struct fx_discovery *d = e->d;
  struct rec *r = &e->rec[k];
  uint64_t now = uv_now(d->loop);
  struct fx_discovered before = e->cur;
  if (o == GOOD) {
    uint64_t ttl = ttl_s < 0 ? d->cache_ttl_ms : (uint64_t)ttl_s * 1000;
    ttl = ttl < MIN_TTL_MS ? MIN_TTL_MS : ttl > d->cache_ttl_ms ? d->cache_ttl_ms : ttl;
    r->expires_ms = r->next_ms = now + ttl;
    r->failures = 0;
    r->known = true;
  } else if (o == NEGATIVE) {
    r->known = false;
    r->failures = 0;
    r->next_ms = now + (d->cache_ttl_ms < NEGATIVE_RETRY_MS ? d->cache_ttl_ms : NEGATIVE_RETRY_MS);
  } else {
    if (r->known && now > r->expires_ms + d->stale_ms)
      r->known = false;
    r->next_ms = now + backoff_ms(++r->failures);
  }
  if (k == KEYS) {
    if (o == GOOD)
      memcpy(e->cur.pk, got->pk, sizeof got->pk), e->cur.n_keys = got->n_keys;
    else if (!r->known)
      memset(e->cur.pk, 0, sizeof e->cur.pk), e->cur.n_keys = 0;
  } else {
    if (o == GOOD)
      memcpy(e->cur.endpoint, got->endpoint, sizeof got->endpoint);
    else if (!r->known)
      e->cur.endpoint[0] = 0;
  }
  if (o != GOOD && (o == NEGATIVE || r->failures == 1 || !r->known))
    fx_log_emit(d->log, o == NEGATIVE ? FX_LOG_WARN : FX_LOG_ERROR, "discovery",
                FX_LOG_KV(FX_LS("name", name), FX_LS("why", why), FX_LN("kept", r->known)),
                "%s: %s; %s", name, why,
                r->known ? "keeping the last answer for now" : k == KEYS ? "no key known" : "no endpoint known");
  if (memcmp(&before, &e->cur, sizeof before)) {
    if (o == GOOD)
      fx_log_emit(d->log, FX_LOG_INFO, "discovery",
                  FX_LOG_KV(FX_LS("name", name), FX_LN("keys", e->cur.n_keys), FX_LS("endpoint", e->cur.endpoint)),
                  "%s: %s", name, k == KEYS ? "keys found" : e->cur.endpoint);
    d->changed(d->ud);
  }
}

static void on_txt(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  (void)timeouts;
  struct entry *e = arg;
  e->rec[KEYS].inflight = false;
  if (!entry_callback_done(e))
    return;
  char name[300];
  fx_discovery_key_name(name, sizeof name, e->domain, e->role);
  struct fx_discovered got = {.n_keys = 0};
  long ttl = -1;
  enum outcome o = status == ARES_SUCCESS               ? parse_keys(e->d, name, abuf, alen, &got, &ttl)
                   : status == ARES_ENOTFOUND || status == ARES_ENODATA ? NEGATIVE
                                                                         : TEMPORARY;
  const char *why = o == TEMPORARY && status != ARES_SUCCESS ? ares_strerror(status)
                    : o == TEMPORARY                           ? "not DNSSEC-authenticated"
                                                               : "no cs1 key published";
  settle(e, KEYS, o, &got, ttl, name, why);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai) {
  (void)timeouts;
  struct entry *e = arg;
  e->rec[ENDPOINT].inflight = false;
  if (!entry_callback_done(e)) {
    ares_freeaddrinfo(ai);
    return;
  }
  char name[300];
  fx_discovery_endpoint_name(name, sizeof name, e->domain, e->role);
  struct fx_discovered got = {.n_keys = 0};
  long ttl = -1;
  enum outcome o = status == ARES_SUCCESS               ? parse_endpoint(e->d, name, ai, &got, &ttl)
                   : status == ARES_ENOTFOUND || status == ARES_ENODATA ? NEGATIVE
                                                                         : TEMPORARY;
  ares_freeaddrinfo(ai);
  settle(e, ENDPOINT, o, &got, ttl, name,
         status != ARES_SUCCESS ? ares_strerror(status) : "no CNAME to a host with an address");
}

/* ---- asking ------------------------------------------------------------------- */

static void ask_keys(struct fx_discovery *d, struct entry *e) {
  char name[300];
  unsigned char *q;
  int qlen;
  if (fx_discovery_key_name(name, sizeof name, e->domain, e->role) != 0 ||
      ares_create_query(name, C_IN, T_TXT, 0, 1, &q, &qlen, 0) != ARES_SUCCESS)
    return;
  if (d->dnssec)
    q[3] |= 0x20; /* AD: ask the resolver to say whether it validated */
  e->rec[KEYS].inflight = true;
  e->inflight++;
  d->queries++;
  ares_send(d->ch, q, qlen, on_txt, e);
  ares_free_string(q);
}

static void ask_endpoint(struct fx_discovery *d, struct entry *e) {
  char name[300];
  if (fx_discovery_endpoint_name(name, sizeof name, e->domain, e->role) != 0)
    return;
  struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_flags = ARES_AI_NOSORT};
  e->rec[ENDPOINT].inflight = true;
  e->inflight++;
  d->queries++;
  ares_getaddrinfo(d->ch, name, NULL, &hints, on_addrinfo, e);
}

/* Starts every lookup that is due. The callbacks may run from inside these
 * calls (a cached or immediate failure): entries are walked by a saved next. */
static void ask_due(struct fx_discovery *d) {
  uint64_t now = uv_now(d->loop);
  for (struct entry *e = d->entries, *next; e; e = next) {
    next = e->next;
    if (!e->rec[KEYS].inflight && e->rec[KEYS].next_ms <= now)
      ask_keys(d, e);
    if (!e->gone && !e->rec[ENDPOINT].inflight && e->rec[ENDPOINT].next_ms <= now)
      ask_endpoint(d, e);
  }
  rearm_ares_timer(d);
}

static void on_tick(uv_timer_t *t) { ask_due(t->data); }

/* ---- settings and participants ------------------------------------------------ */

static int apply_servers(struct fx_discovery *d, const struct fx_config *cfg, char *err, size_t errlen) {
  if (!cfg->dns_servers[0])
    return 0;
  int rc = ares_set_servers_ports_csv(d->ch, cfg->dns_servers);
  if (rc != ARES_SUCCESS) {
    snprintf(err, errlen, "[platform] dns_servers '%s': %s", cfg->dns_servers, ares_strerror(rc));
    return -1;
  }
  return 0;
}

/* Adds the participants marked for DNS that are new, drops those no longer listed. */
static int apply_participants(struct fx_discovery *d, const struct fx_config *cfg, char *err, size_t errlen) {
  for (struct entry *e = d->entries; e; e = e->next)
    e->seen = false;
  for (size_t i = 0; i < cfg->n_participants; i++) {
    const struct fx_participant_cfg *p = &cfg->participants[i];
    if (!p->dns)
      continue;
    struct entry *e = entry_find(d, p->domain, p->role);
    if (!e) {
      if (!(e = calloc(1, sizeof *e))) {
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      e->d = d;
      snprintf(e->domain, sizeof e->domain, "%s", p->domain);
      e->role = p->role;
      e->next = d->entries;
      d->entries = e;
    }
    e->seen = true;
  }
  for (struct entry *e = d->entries, *next; e; e = next) {
    next = e->next;
    if (e->seen)
      continue;
    entry_unlink(d, e);
    e->gone = true;
    if (!e->inflight)
      free(e);
  }
  return 0;
}

static void apply_settings(struct fx_discovery *d, const struct fx_config *cfg) {
  d->dnssec = cfg->dns_dnssec;
  d->cache_ttl_ms = (uint64_t)cfg->dns_cache_ttl_s * 1000;
  d->stale_ms = (uint64_t)cfg->dns_stale_s * 1000;
  snprintf(d->scheme, sizeof d->scheme, "%s", cfg->dns_endpoint_scheme);
  d->port = cfg->dns_endpoint_port;
}

static int channel_init(struct fx_discovery *d, const struct fx_config *cfg, char *err, size_t errlen) {
  struct ares_options o = {0};
  char lookups[] = "b"; /* DNS only: /etc/hosts says nothing about _usef records */
  o.sock_state_cb = sock_state;
  o.sock_state_cb_data = d;
  o.timeout = (int)cfg->dns_timeout_ms;
  o.tries = 2;
  o.ndots = 1;
  o.ndomains = 0; /* names are absolute: no search list */
  o.lookups = lookups;
  o.flags = ARES_FLAG_NOSEARCH;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS | ARES_OPT_DOMAINS |
             ARES_OPT_LOOKUPS | ARES_OPT_FLAGS;
  int rc = ares_init_options(&d->ch, &o, mask);
  if (rc != ARES_SUCCESS) {
    snprintf(err, errlen, "DNS resolver: %s", ares_strerror(rc));
    return -1;
  }
  if (apply_servers(d, cfg, err, errlen) != 0) {
    ares_destroy(d->ch);
    return -1;
  }
  return 0;
}

int fx_discovery_new(struct fx_discovery **out, uv_loop_t *loop, const struct fx_config *cfg,
                     const struct fx_log *log, fx_discovery_changed_cb changed, void *ud, char *err, size_t errlen) {
  *out = NULL;
  struct fx_discovery *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  d->loop = loop, d->log = log, d->changed = changed, d->ud = ud;
  apply_settings(d, cfg);
  ares_library_init(ARES_LIB_INIT_ALL); /* reference-counted; a no-op on Linux */
  if (channel_init(d, cfg, err, errlen) != 0) {
    ares_library_cleanup();
    free(d);
    return -1;
  }
  uv_timer_init(loop, &d->ares_timer);
  uv_timer_init(loop, &d->tick);
  d->ares_timer.data = d->tick.data = d;
  d->open_handles = 2;
  if (apply_participants(d, cfg, err, errlen) != 0) {
    fx_discovery_close(d);
    return -1;
  }
  uv_timer_start(&d->tick, on_tick, 0, 1000); /* the first lookups at the next loop turn */
  *out = d;
  return 0;
}

int fx_discovery_configure(struct fx_discovery *d, const struct fx_config *cfg, char *err, size_t errlen) {
  if (apply_servers(d, cfg, err, errlen) != 0 || apply_participants(d, cfg, err, errlen) != 0)
    return -1;
  apply_settings(d, cfg);
  ask_due(d);
  return 0;
}

int fx_discovery_get(const struct fx_discovery *d, const char *domain, enum fx_role role, struct fx_discovered *out) {
  const struct entry *e = entry_find(d, domain, role);
  if (!e)
    return -1;
  *out = e->cur;
  return 0;
}

uint64_t fx_discovery_queries(const struct fx_discovery *d) { return d->queries; }

void fx_discovery_close(struct fx_discovery *d) {
  if (!d || d->closing)
    return;
  d->closing = true;
  /* Every entry is gone: callbacks c-ares runs from ares_destroy free them. */
  for (struct entry *e = d->entries, *next; e; e = next) {
    next = e->next;
    e->gone = true;
    if (!e->inflight)
      free(e);
  }
  d->entries = NULL;
  ares_destroy(d->ch); /* calls back what is in flight, closes its sockets (and their polls) */
  ares_library_cleanup();
  uv_close((uv_handle_t *)&d->ares_timer, handle_closed);
  uv_close((uv_handle_t *)&d->tick, handle_closed);
}
