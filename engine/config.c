/* config.c — reading flexd's INI configuration (format in config.h).
 *
 * inih calls handler() once per key; every key is matched against a table of
 * typed fields so that the format is declared in one place and unknown keys are
 * reported with their line. */
#include "engine/config.h"
#include "engine/settle.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[FX_ROLE_COUNT] = {
    [FX_ROLE_AGR] = "AGR", [FX_ROLE_CRO] = "CRO", [FX_ROLE_DSO] = "DSO"};

const char *fx_role_name(enum fx_role r) {
  return r > FX_ROLE_NONE && r < FX_ROLE_COUNT ? role_names[r] : "?";
}

int fx_role_from_name(const char *s) {
  for (int i = FX_ROLE_AGR; i < FX_ROLE_COUNT; i++)
    if (!strcmp(s, role_names[i]))
      return i;
  return FX_ROLE_NONE;
}

void fx_config_defaults(struct fx_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  strcpy(cfg->domain, "flexd.localhost.test");
  strcpy(cfg->listen, "127.0.0.1:8080");
  strcpy(cfg->metrics, "127.0.0.1:9090");
  strcpy(cfg->store, "flexd-data");
  cfg->max_body = 1 << 20;
  cfg->store_max_mb = 65536;
  strcpy(cfg->time_zone, "Europe/Amsterdam");
  strcpy(cfg->isp_duration, "PT15M");
  strcpy(cfg->currency, "EUR");
  cfg->closed = true;
  cfg->mutex_offers = true;
  cfg->gate_closure_minute = 15 * 60;
  cfg->gate_closure_intraday = 60;
  cfg->prognosis_power_bound = 1000000000;
  fx_clear_params_init(&cfg->clear);
  /* Clearing runs off the sequencer thread, so the product affords round 4's
   * branch-and-bound budget on markets up to 400 offers (docs/clearing-rounds.md,
   * "Why the branch-and-bound's defaults are small"): a 300-offer market then
   * clears 1.2 % cheaper with a 0.1 % proof in about a second of the clearing
   * thread; larger markets would take seconds each. */
  cfg->clear.bb_max_offers = 400;
  cfg->clear.bb_pivot_limit = 15000;
  cfg->retry_window_s = 3600;
  cfg->settlement_day = 1;
  cfg->baseline_like_days = 4;
  cfg->settlement_minute = 6 * 60;
  cfg->dns_cache_ttl_s = 300;
  cfg->dns_stale_s = 3600;
  cfg->dns_timeout_ms = 2000;
  cfg->dns_dnssec = true;
  strcpy(cfg->dns_endpoint_scheme, "https");
  cfg->dns_endpoint_port = 443;
  cfg->order_response_timeout_s = 3600;
}

void fx_config_free(struct fx_config *cfg) {
  free(cfg->participants);
  cfg->participants = NULL;
  cfg->n_participants = 0;
  free(cfg->contracts);
  cfg->contracts = NULL;
  cfg->n_contracts = 0;
}

int fx_config_copy(struct fx_config *dst, const struct fx_config *src) {
  *dst = *src;
  dst->participants = NULL, dst->contracts = NULL;
  if (src->n_participants &&
      !(dst->participants = malloc(src->n_participants * sizeof *src->participants)))
    goto fail;
  if (src->n_contracts && !(dst->contracts = malloc(src->n_contracts * sizeof *src->contracts)))
    goto fail;
  if (src->n_participants)
    memcpy(dst->participants, src->participants, src->n_participants * sizeof *src->participants);
  if (src->n_contracts)
    memcpy(dst->contracts, src->contracts, src->n_contracts * sizeof *src->contracts);
  return 0;
fail:
  fx_config_free(dst);
  return -1;
}

const struct fx_contract_cfg *fx_config_contract(const struct fx_config *cfg, const char *id) {
  for (size_t i = 0; i < cfg->n_contracts; i++)
    if (!strcmp(cfg->contracts[i].id, id))
      return &cfg->contracts[i];
  return NULL;
}

int64_t fx_contract_reserved(const struct fx_contract_cfg *c, uint32_t isp, int *in) {
  for (size_t i = 0; i < c->n_ranges; i++)
    if (isp >= c->ranges[i].first && isp <= c->ranges[i].last) {
      *in = 1;
      return c->ranges[i].power;
    }
  *in = 0;
  return 0;
}

int fx_config_split_addr(const char *addr, char *host, size_t hostlen, int *port) {
  const char *colon = strrchr(addr, ':');
  if (!colon || colon == addr || (size_t)(colon - addr) >= hostlen)
    return -1;
  char *end;
  errno = 0;
  long p = strtol(colon + 1, &end, 10);
  if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
    return -1;
  size_t n = (size_t)(colon - addr);
  if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']') /* [::1]:80 */
    addr++, n -= 2;
  memcpy(host, addr, n);
  host[n] = 0;
  *port = (int)p;
  return 0;
}

struct parse_state {
  struct fx_config *cfg;
  char *err; /* the first error only: inih goes on after one */
  size_t errlen;
  size_t cap;
  size_t ccap; /* contracts */
};

static int fail(struct parse_state *st, const char *fmt, const char *a, const char *b) {
  if (!st->err[0])
    snprintf(st->err, st->errlen, fmt, a, b);
  return 0; /* inih reports the line */
}

static int set_str(char *dst, size_t cap, const char *v) {
  size_t n = strlen(v);
  if (n >= cap)
    return -1;
  memcpy(dst, v, n + 1);
  return 0;
}

static int set_bool(bool *dst, const char *v) {
  if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
    *dst = true;
  else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
    *dst = false;
  else
    return -1;
  return 0;
}

static int set_i64(int64_t *dst, const char *v, int64_t lo, int64_t hi) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || *end || end == v || x < lo || x > hi)
    return -1;
  *dst = x;
  return 0;
}

/* HH:MM → minutes after midnight */
static int set_hhmm(int *dst, const char *v) {
  int h, m;
  char tail;
  if (sscanf(v, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
    return -1;
  *dst = h * 60 + m;
  return 0;
}

/* CurrencyAmount text ("11.0000", "7") → 1e-4 units, never negative. */
static int set_money(fx_money *dst, const char *v) {
  return fx_money_parse(v, strlen(v), dst, NULL) == 0 && *dst >= 0 ? 0 : -1;
}

static int set_period(int32_t *dst, const char *v) {
  struct fx_date d;
  if (fx_date_parse(v, strlen(v), &d, NULL) != 0)
    return -1;
  *dst = fx_date_to_days(&d);
  return 0;
}

/* "12-15:-2000000,16:-1000000" → ranges. */
static int set_ranges(struct fx_contract_cfg *c, const char *v) {
  c->n_ranges = 0;
  while (*v) {
    char *end;
    errno = 0;
    unsigned long a = strtoul(v, &end, 10), b = a;
    if (end == v || errno || a < 1 || a > 1500)
      return -1;
    if (*end == '-') {
      v = end + 1;
      b = strtoul(v, &end, 10);
      if (end == v || errno || b < a || b > 1500)
        return -1;
    }
    if (*end != ':' || c->n_ranges == FX_CONTRACT_MAX_RANGES)
      return -1;
    v = end + 1;
    long long p = strtoll(v, &end, 10);
    if (end == v || errno || p < -1000000000000LL || p > 1000000000000LL)
      return -1;
    c->ranges[c->n_ranges++] = (struct fx_contract_range){(uint32_t)a, (uint32_t)b, p};
    v = end;
    while (*v == ',' || *v == ' ')
      v++;
  }
  return c->n_ranges ? 0 : -1;
}

/* A baseline reference by name (engine/settle.h). */
static int set_baseline(uint8_t *dst, const char *v) {
  int b = fx_settle_baseline_parse(v);
  if (b < 0)
    return -1;
  *dst = (uint8_t)b;
  return 0;
}

static int contract_key(struct fx_contract_cfg *c, const char *k, const char *v) {
  if (!strcmp(k, "baseline_reference")) {
    c->has_baseline = true;
    return set_baseline(&c->baseline, v);
  }
  if (!strcmp(k, "agr")) return set_str(c->agr, sizeof c->agr, v);
  if (!strcmp(k, "congestion_point")) return set_str(c->cp, sizeof c->cp, v);
  if (!strcmp(k, "from")) return set_period(&c->from, v);
  if (!strcmp(k, "to")) return set_period(&c->to, v);
  if (!strcmp(k, "reserve")) return set_ranges(c, v);
  return -2;
}

/* "contract ID" → the contract's entry, created on first sight. */
static struct fx_contract_cfg *contract_for(struct parse_state *st, const char *section) {
  const char *id = section + 9;
  struct fx_config *c = st->cfg;
  if (!*id || strlen(id) >= sizeof c->contracts->id || strchr(id, ' '))
    return NULL;
  for (size_t i = 0; i < c->n_contracts; i++)
    if (!strcmp(c->contracts[i].id, id))
      return &c->contracts[i];
  if (c->n_contracts == st->ccap) {
    size_t cap = st->ccap ? st->ccap * 2 : 4;
    void *np = realloc(c->contracts, cap * sizeof *c->contracts);
    if (!np)
      return NULL;
    c->contracts = np;
    st->ccap = cap;
  }
  struct fx_contract_cfg *k = &c->contracts[c->n_contracts++];
  memset(k, 0, sizeof *k);
  strcpy(k->id, id);
  k->from = INT32_MIN, k->to = INT32_MAX;
  return k;
}

/* [platform] keys of the listener's TLS and per-IP limits. */
static int platform_tls_key(struct fx_config *c, const char *k, const char *v) {
  int64_t x;
  if (!strcmp(k, "tls_cert")) return set_str(c->tls_cert, sizeof c->tls_cert, v);
  if (!strcmp(k, "tls_key")) return set_str(c->tls_key, sizeof c->tls_key, v);
  if (!strcmp(k, "tls_client_ca")) return set_str(c->tls_client_ca, sizeof c->tls_client_ca, v);
  if (!strcmp(k, "tls_peer_ca")) return set_str(c->tls_peer_ca, sizeof c->tls_peer_ca, v);
  if (!strcmp(k, "plain_http")) return set_bool(&c->plain_http, v);
  unsigned *limit = !strcmp(k, "ip_rate") ? &c->ip_rate
                    : !strcmp(k, "ip_max_connections") ? &c->ip_max_connections : NULL;
  if (limit) {
    if (set_i64(&x, v, 0, 1000000)) return -1;
    *limit = (unsigned)x;
    return 0;
  }
  return -2;
}

/* [platform] keys of DNS discovery (engine/discovery.h). */
static int platform_dns_key(struct fx_config *c, const char *k, const char *v) {
  int64_t x;
  if (!strcmp(k, "discovery")) {
    if (strcmp(v, "static") && strcmp(v, "dns")) return -1;
    c->discovery = !strcmp(v, "dns") ? FX_DISCOVERY_DNS : FX_DISCOVERY_STATIC;
    return 0;
  }
  if (!strcmp(k, "dns_servers")) return set_str(c->dns_servers, sizeof c->dns_servers, v);
  if (!strcmp(k, "dns_dnssec")) return set_bool(&c->dns_dnssec, v);
  if (!strcmp(k, "dns_endpoint_scheme")) {
    if (strcmp(v, "https") && strcmp(v, "http")) return -1;
    return set_str(c->dns_endpoint_scheme, sizeof c->dns_endpoint_scheme, v);
  }
  uint32_t *n = !strcmp(k, "dns_cache_ttl") ? &c->dns_cache_ttl_s
                : !strcmp(k, "dns_stale") ? &c->dns_stale_s
                : !strcmp(k, "dns_timeout_ms") ? &c->dns_timeout_ms
                : !strcmp(k, "dns_endpoint_port") ? &c->dns_endpoint_port : NULL;
  if (!n || set_i64(&x, v, 1, !strcmp(k, "dns_endpoint_port") ? 65535 : 7 * 86400)) return n ? -1 : -2;
  *n = (uint32_t)x;
  return 0;
}

static int platform_key(struct fx_config *c, const char *k, const char *v) {
  int64_t x;
  if (!strncmp(k, "dns_", 4) || !strcmp(k, "discovery"))
    return platform_dns_key(c, k, v);
  if (!strncmp(k, "tls_", 4) || !strncmp(k, "ip_", 3) || !strcmp(k, "plain_http"))
    return platform_tls_key(c, k, v);
  if (!strcmp(k, "domain")) return set_str(c->domain, sizeof c->domain, v);
  if (!strcmp(k, "listen")) return set_str(c->listen, sizeof c->listen, v);
  if (!strcmp(k, "metrics")) return set_str(c->metrics, sizeof c->metrics, v);
  if (!strcmp(k, "store")) return set_str(c->store, sizeof c->store, v);
  if (!strcmp(k, "store_nosync")) return set_bool(&c->store_nosync, v);
  if (!strcmp(k, "store_max_mb")) {
    if (set_i64(&x, v, 1, 1 << 24)) return -1;
    c->store_max_mb = (size_t)x;
    return 0;
  }
  if (!strncmp(k, "key_previous.", 13)) {
    int r = fx_role_from_name(k + 13);
    return r == FX_ROLE_NONE ? -2 : set_str(c->key_previous[r], sizeof c->key_previous[r], v);
  }
  if (!strcmp(k, "log_format")) return fx_log_format_parse(v, &c->log_format);
  if (!strncmp(k, "key.", 4)) {
    int r = fx_role_from_name(k + 4);
    return r == FX_ROLE_NONE ? -2 : set_str(c->key_file[r], sizeof c->key_file[r], v);
  }
  if (!strcmp(k, "max_body")) {
    if (set_i64(&x, v, 1024, 64 << 20)) return -1;
    c->max_body = (size_t)x;
    return 0;
  }
  if (!strcmp(k, "workers")) {
    if (set_i64(&x, v, 0, 256)) return -1;
    c->workers = (unsigned)x;
    return 0;
  }
  return -2;
}

/* A share in [0, hi]: plain decimal text ("0.001"), nothing after it. */
static int set_share(double *dst, const char *v, double hi) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || *end || end == v || !(x >= 0 && x <= hi))
    return -1;
  *dst = x;
  return 0;
}

/* [market] keys of the clearing engine's budget (engine/clear.h,
 * docs/market.md "Clearing configuration"). The ranges keep a typo from
 * making one market's clearing run for hours; 0 switches a stage off. */
static int market_clear_key(struct fx_clear_params *p, const char *k, const char *v) {
  int64_t x;
  if (!strcmp(k, "coverage_tolerance")) return set_share(&p->coverage_tolerance, v, 0.1);
  if (!strcmp(k, "bb_gap")) return set_share(&p->bb_gap, v, 0.1);
  if (!strcmp(k, "bb_cutoff")) return set_share(&p->bb_cutoff, v, 1.0); /* round 12 */
  /* The proof before the neighbourhood search where the root's gap is at
   * least this many bb_gaps (docs/clearing-rounds.md, round 10b); 0 = never. */
  if (!strcmp(k, "proof_first_ratio")) return set_share(&p->proof_first_ratio, v, 1000.0);
  /* The nodes' own simplex (docs/clearing-rounds.md, round 8); off: GLPK's. */
  if (!strcmp(k, "bb_native_lp")) return set_bool(&p->bb_native_lp, v);
  if (!strcmp(k, "dive_native_lp")) return set_bool(&p->dive_native_lp, v);
  size_t *offers = !strcmp(k, "bb_max_offers") ? &p->bb_max_offers
                   : !strcmp(k, "exact_max_offers") ? &p->exact_max_offers
                   : !strcmp(k, "local_search_max_offers") ? &p->local_search_max_offers
                   : !strcmp(k, "proof_max_offers")        ? &p->proof_max_offers
                                                           : NULL;
  if (offers) {
    if (set_i64(&x, v, 0, 100000)) return -1;
    *offers = (size_t)x;
    return 0;
  }
  if (!strcmp(k, "bb_node_limit")) {
    if (set_i64(&x, v, 0, 10000000)) return -1;
    p->bb_node_limit = (int)x;
    return 0;
  }
  if (!strcmp(k, "bb_pivot_limit")) {
    if (set_i64(&x, v, 0, 1000000000)) return -1;
    p->bb_pivot_limit = (long)x;
    return 0;
  }
  if (!strcmp(k, "time_limit_ms")) {
    if (set_i64(&x, v, 0, 3600000)) return -1;
    p->time_limit_ms = (int)x;
    return 0;
  }
  /* Node dives (docs/clearing-rounds.md, round 9): every k-th node, 0 = off. */
  if (!strcmp(k, "bb_node_dive")) {
    if (set_i64(&x, v, 0, 1000000)) return -1;
    p->bb_node_dive = (int)x;
    return 0;
  }
  if (!strcmp(k, "bb_dive_cut")) return set_bool(&p->bb_dive_cut, v); /* round 11 */
  if (!strcmp(k, "bb_symmetry")) return set_bool(&p->bb_symmetry, v); /* round 12 */
  /* Reliability branching (docs/clearing-rounds.md, round 7; on since round 10),
   * and where it looks ahead (round 10 sbt). */
  if (!strcmp(k, "bb_sb_stop")) return set_bool(&p->bb_sb_stop, v);
  int *sb = !strcmp(k, "bb_sb_cands")      ? &p->bb_sb_cands
            : !strcmp(k, "bb_sb_reliable") ? &p->bb_sb_reliable
            : !strcmp(k, "bb_sb_pivots")   ? &p->bb_sb_pivots
            : !strcmp(k, "bb_sb_depth")    ? &p->bb_sb_depth
                                           : NULL;
  if (sb) {
    if (set_i64(&x, v, !strcmp(k, "bb_sb_pivots") ? 1 : 0, 1000)) return -1;
    *sb = (int)x;
    return 0;
  }
  return -2;
}

static int market_key(struct fx_config *c, const char *k, const char *v) {
  int64_t x;
  if (!strcmp(k, "time_zone")) return set_str(c->time_zone, sizeof c->time_zone, v);
  if (!strcmp(k, "isp_duration")) return set_str(c->isp_duration, sizeof c->isp_duration, v);
  if (!strcmp(k, "currency"))
    return strlen(v) == 3 ? set_str(c->currency, sizeof c->currency, v) : -1;
  if (!strcmp(k, "closed")) return set_bool(&c->closed, v);
  if (!strcmp(k, "mutex_offers")) return set_bool(&c->mutex_offers, v);
  if (!strcmp(k, "require_baseline")) return set_bool(&c->require_baseline, v);
  if (!strcmp(k, "gate_closure_day_ahead")) return set_hhmm(&c->gate_closure_minute, v);
  if (!strcmp(k, "gate_closure_intraday")) {
    if (set_i64(&x, v, 0, 1440)) return -1;
    c->gate_closure_intraday = (int)x;
    return 0;
  }
  if (!strcmp(k, "prognosis_power_bound"))
    return set_i64(&c->prognosis_power_bound, v, 1, INT64_MAX);
  if (!strcmp(k, "retry_window")) {
    /* The transport appendix: at least one hour for routine messages. */
    if (set_i64(&x, v, 3600, 30 * 86400)) return -1;
    c->retry_window_s = (uint32_t)x;
    return 0;
  }
  if (!strcmp(k, "penalty_rate")) return set_money(&c->penalty_rate, v);
  if (!strcmp(k, "penalty_unit")) {
    if (strcmp(v, "MW") && strcmp(v, "MWh")) return -1;
    c->penalty_unit = !strcmp(v, "MWh"); /* FX_SETTLE_PER_MWH = 1 */
    return 0;
  }
  if (!strcmp(k, "settlement_day")) {
    if (set_i64(&x, v, 1, 28)) return -1;
    c->settlement_day = (int)x;
    return 0;
  }
  if (!strcmp(k, "settlement_time")) return set_hhmm(&c->settlement_minute, v);
  if (!strcmp(k, "baseline_reference")) return set_baseline(&c->baseline_reference, v);
  if (!strcmp(k, "baseline_like_days")) {
    if (set_i64(&x, v, 1, 8)) return -1;
    c->baseline_like_days = (int)x;
    return 0;
  }
  if (!strcmp(k, "order_response_timeout")) {
    /* At most a day: an order's market stays in memory (hot) at least that
     * long after the order, so the expiry always finds it. */
    if (set_i64(&x, v, 0, 86400)) return -1;
    c->order_response_timeout_s = (uint32_t)x;
    return 0;
  }
  if (!strcmp(k, "dso_sees_agr_per_connection")) return set_bool(&c->dso_sees_agr_per_connection, v);
  return market_clear_key(&c->clear, k, v);
}

static int participant_key(struct fx_participant_cfg *p, const char *k, const char *v) {
  if (!strcmp(k, "key")) return set_str(p->keys[0], sizeof p->keys[0], v);
  if (!strcmp(k, "key2")) return set_str(p->keys[1], sizeof p->keys[1], v);
  if (!strcmp(k, "endpoint")) return set_str(p->endpoint, sizeof p->endpoint, v);
  if (!strcmp(k, "barred")) return set_bool(&p->barred, v);
  if (!strcmp(k, "discovery")) {
    if (strcmp(v, "static") && strcmp(v, "dns")) return -1;
    p->dns = !strcmp(v, "dns");
    return 0;
  }
  if (!strcmp(k, "rate")) {
    int64_t x;
    if (set_i64(&x, v, 0, 1000000)) return -1;
    p->rate = (uint32_t)x;
    return 0;
  }
  return -2;
}

/* "participant DOMAIN ROLE" → the participant's entry, created on first sight. */
static struct fx_participant_cfg *participant_for(struct parse_state *st, const char *section) {
  char domain[254], role[8], extra;
  if (sscanf(section, "participant %253s %7s %c", domain, role, &extra) != 2)
    return NULL;
  int r = fx_role_from_name(role);
  if (r == FX_ROLE_NONE)
    return NULL;
  struct fx_config *c = st->cfg;
  for (size_t i = 0; i < c->n_participants; i++)
    if (!strcmp(c->participants[i].domain, domain) && c->participants[i].role == (enum fx_role)r)
      return &c->participants[i];
  if (c->n_participants == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 8;
    void *np = realloc(c->participants, cap * sizeof *c->participants);
    if (!np)
      return NULL;
    c->participants = np;
    st->cap = cap;
  }
  struct fx_participant_cfg *p = &c->participants[c->n_participants++];
  memset(p, 0, sizeof *p);
  strcpy(p->domain, domain);
  p->role = (enum fx_role)r;
  return p;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  struct parse_state *st = user;
  int rc;
  if (!strcmp(section, "platform"))
    rc = platform_key(st->cfg, name, value);
  else if (!strcmp(section, "market"))
    rc = market_key(st->cfg, name, value);
  else if (!strncmp(section, "participant ", 12)) {
    struct fx_participant_cfg *p = participant_for(st, section);
    if (!p)
      return fail(st, "bad section [%s]: want [participant DOMAIN AGR|CRO|DSO]%s", section, "");
    rc = participant_key(p, name, value);
  } else if (!strncmp(section, "contract ", 9)) {
    struct fx_contract_cfg *k = contract_for(st, section);
    if (!k)
      return fail(st, "bad section [%s]: want [contract ID]%s", section, "");
    rc = contract_key(k, name, value);
  } else
    return fail(st, "unknown section [%s]%s", section, "");
  if (rc == -2)
    return fail(st, "unknown key '%s' in [%s]", name, section);
  if (rc < 0)
    return fail(st, "bad value for '%s': '%s'", name, value);
  return 1;
}

/* A contract must say whose, where, from when and what it reserves. */
static int contracts_complete(struct parse_state *st) {
  for (size_t i = 0; i < st->cfg->n_contracts; i++) {
    const struct fx_contract_cfg *c = &st->cfg->contracts[i];
    if (!c->agr[0] || !c->cp[0] || c->from == INT32_MIN || !c->n_ranges || c->to < c->from) {
      snprintf(st->err, st->errlen, "[contract %s]: needs agr, congestion_point, from, reserve (and to >= from)",
               c->id);
      return -1;
    }
  }
  return 0;
}

/* A participant found through DNS has no static key or endpoint (the two
 * would disagree sooner or later), and needs discovery switched on. */
static int discovery_consistent(struct parse_state *st) {
  for (size_t i = 0; i < st->cfg->n_participants; i++) {
    const struct fx_participant_cfg *p = &st->cfg->participants[i];
    const char *why = !p->dns ? NULL
                      : st->cfg->discovery != FX_DISCOVERY_DNS ? "discovery = dns needs [platform] discovery = dns"
                      : p->keys[0][0] || p->keys[1][0] || p->endpoint[0] ? "discovery = dns excludes key, key2 and endpoint"
                                                                          : NULL;
    if (why) {
      snprintf(st->err, st->errlen, "[participant %s %s]: %s", p->domain, fx_role_name(p->role), why);
      return -1;
    }
  }
  return 0;
}

static int finish(struct parse_state *st, int rc) {
  if (rc == 0)
    return contracts_complete(st) || discovery_consistent(st) ? -1 : 0;
  if (rc > 0) {
    char why[256];
    snprintf(why, sizeof why, "%s", st->err[0] ? st->err : "syntax error");
    snprintf(st->err, st->errlen, "line %d: %s", rc, why);
  } else if (rc < 0)
    snprintf(st->err, st->errlen, "%s", rc == -1 ? strerror(errno) : "out of memory");
  return rc == 0 ? 0 : -1;
}

int fx_config_load(struct fx_config *cfg, const char *path, char *err, size_t errlen) {
  struct parse_state st = {cfg, err, errlen, cfg->n_participants, cfg->n_contracts};
  err[0] = 0;
  return finish(&st, ini_parse(path, handler, &st));
}

int fx_config_parse(struct fx_config *cfg, const char *text, char *err, size_t errlen) {
  struct parse_state st = {cfg, err, errlen, cfg->n_participants, cfg->n_contracts};
  err[0] = 0;
  return finish(&st, ini_parse_string(text, handler, &st));
}

/* ---- reloading ------------------------------------------------------------------
 * Every key a reload compares, by where its value lives. FIXED keys need a new
 * socket, thread pool or memory map, or would change the meaning of what is
 * stored (the calendar of every stored Period, the currency of every stored
 * offer); RELOAD keys are the market's rules, read afresh at each use on the
 * sequencer thread (or by the loop's timers). docs/architecture.md has the
 * table with the reasons. */

enum { FIELD_STR, FIELD_MEM };
enum { FIXED, RELOAD };

struct field {
  const char *section, *key;
  size_t off, size;
  unsigned char kind, cls;
};

#define FIELD_AT(f) offsetof(struct fx_config, f), sizeof(((struct fx_config *)0)->f)
#define STR(sec, key, f, cls) {sec, key, FIELD_AT(f), FIELD_STR, cls}
#define MEM(sec, key, f, cls) {sec, key, FIELD_AT(f), FIELD_MEM, cls}

static const struct field fields[] = {
    STR("platform", "domain", domain, FIXED),
    STR("platform", "listen", listen, FIXED),
    STR("platform", "metrics", metrics, FIXED),
    STR("platform", "store", store, FIXED),
    MEM("platform", "store_nosync", store_nosync, FIXED),
    MEM("platform", "store_max_mb", store_max_mb, FIXED),
    MEM("platform", "log_format", log_format, FIXED),
    MEM("platform", "max_body", max_body, FIXED),
    MEM("platform", "workers", workers, FIXED),
    MEM("platform", "plain_http", plain_http, FIXED),
    STR("platform", "tls_peer_ca", tls_peer_ca, FIXED),
    MEM("platform", "ip_rate", ip_rate, FIXED),
    MEM("platform", "ip_max_connections", ip_max_connections, FIXED),
    MEM("platform", "discovery", discovery, FIXED),
    STR("market", "time_zone", time_zone, FIXED),
    STR("market", "isp_duration", isp_duration, FIXED),
    STR("market", "currency", currency, FIXED),
    MEM("market", "closed", closed, RELOAD),
    MEM("market", "mutex_offers", mutex_offers, RELOAD),
    MEM("market", "require_baseline", require_baseline, RELOAD),
    MEM("market", "gate_closure_day_ahead", gate_closure_minute, RELOAD),
    MEM("market", "gate_closure_intraday", gate_closure_intraday, RELOAD),
    MEM("market", "prognosis_power_bound", prognosis_power_bound, RELOAD),
    MEM("market", "retry_window", retry_window_s, RELOAD),
    MEM("market", "penalty_rate", penalty_rate, RELOAD),
    MEM("market", "penalty_unit", penalty_unit, RELOAD),
    MEM("market", "settlement_day", settlement_day, RELOAD),
    MEM("market", "settlement_time", settlement_minute, RELOAD),
    MEM("market", "baseline_reference", baseline_reference, RELOAD),
    MEM("market", "baseline_like_days", baseline_like_days, RELOAD),
    MEM("market", "order_response_timeout", order_response_timeout_s, RELOAD),
    MEM("market", "dso_sees_agr_per_connection", dso_sees_agr_per_connection, RELOAD),
    MEM("market", "coverage_tolerance", clear.coverage_tolerance, RELOAD),
    MEM("market", "bb_gap", clear.bb_gap, RELOAD),
    MEM("market", "bb_cutoff", clear.bb_cutoff, RELOAD),
    MEM("market", "bb_max_offers", clear.bb_max_offers, RELOAD),
    MEM("market", "bb_node_limit", clear.bb_node_limit, RELOAD),
    MEM("market", "bb_pivot_limit", clear.bb_pivot_limit, RELOAD),
    MEM("market", "exact_max_offers", clear.exact_max_offers, RELOAD),
    MEM("market", "local_search_max_offers", clear.local_search_max_offers, RELOAD),
    MEM("market", "time_limit_ms", clear.time_limit_ms, RELOAD),
    MEM("market", "proof_max_offers", clear.proof_max_offers, RELOAD),
    MEM("market", "proof_first_ratio", clear.proof_first_ratio, RELOAD),
    MEM("market", "bb_sb_cands", clear.bb_sb_cands, RELOAD),
    MEM("market", "bb_sb_reliable", clear.bb_sb_reliable, RELOAD),
    MEM("market", "bb_sb_pivots", clear.bb_sb_pivots, RELOAD),
    MEM("market", "bb_sb_depth", clear.bb_sb_depth, RELOAD),
    MEM("market", "bb_sb_stop", clear.bb_sb_stop, RELOAD),
    MEM("market", "bb_native_lp", clear.bb_native_lp, RELOAD),
    MEM("market", "bb_node_dive", clear.bb_node_dive, RELOAD),
    MEM("market", "bb_dive_cut", clear.bb_dive_cut, RELOAD),
    MEM("market", "bb_symmetry", clear.bb_symmetry, RELOAD),
    MEM("market", "dive_native_lp", clear.dive_native_lp, RELOAD),
};

static bool field_equal(const struct field *f, const struct fx_config *a, const struct fx_config *b) {
  const char *x = (const char *)a + f->off, *y = (const char *)b + f->off;
  return f->kind == FIELD_STR ? strncmp(x, y, f->size) == 0 : memcmp(x, y, f->size) == 0;
}

static void field_copy(const struct field *f, struct fx_config *dst, const struct fx_config *src) {
  memcpy((char *)dst + f->off, (const char *)src + f->off, f->size);
}

static void refuse(fx_config_refused_fn refused, void *ud, const char *section, const char *key) {
  char name[200];
  snprintf(name, sizeof name, "[%s] %s", section, key);
  if (refused)
    refused(name, ud);
}

static bool contract_equal(const struct fx_contract_cfg *a, const struct fx_contract_cfg *b) {
  if (strcmp(a->agr, b->agr) || strcmp(a->cp, b->cp) || a->from != b->from || a->to != b->to ||
      a->n_ranges != b->n_ranges || a->has_baseline != b->has_baseline ||
      (a->has_baseline && a->baseline != b->baseline))
    return false;
  for (size_t i = 0; i < a->n_ranges; i++)
    if (a->ranges[i].first != b->ranges[i].first || a->ranges[i].last != b->ranges[i].last ||
        a->ranges[i].power != b->ranges[i].power)
      return false;
  return true;
}

/* Contracts stay as started: the market's reservations point into them and
 * stored FlexReservationUpdates were computed from them. */
static int contracts_kept(const struct fx_config *next, const struct fx_config *running, fx_config_refused_fn refused,
                          void *ud) {
  int n = 0;
  for (size_t i = 0; i < next->n_contracts; i++) {
    const struct fx_contract_cfg *c = fx_config_contract(running, next->contracts[i].id);
    if (!c || !contract_equal(c, &next->contracts[i]))
      n++, refuse(refused, ud, "contract", next->contracts[i].id);
  }
  for (size_t i = 0; i < running->n_contracts; i++)
    if (!fx_config_contract(next, running->contracts[i].id))
      n++, refuse(refused, ud, "contract", running->contracts[i].id);
  return n;
}

/* HTTPS on the listener is decided at start-up; the certificate files of a
 * TLS listener are reloaded by the server itself. */
static int transport_kept(struct fx_config *next, const struct fx_config *running, fx_config_refused_fn refused,
                          void *ud) {
  if (!next->tls_cert[0] == !running->tls_cert[0])
    return 0;
  memcpy(next->tls_cert, running->tls_cert, sizeof next->tls_cert);
  memcpy(next->tls_key, running->tls_key, sizeof next->tls_key);
  memcpy(next->tls_client_ca, running->tls_client_ca, sizeof next->tls_client_ca);
  refuse(refused, ud, "platform", "tls_cert");
  return 1;
}

int fx_config_keep_fixed(struct fx_config *next, const struct fx_config *running, fx_config_refused_fn refused,
                         void *ud) {
  int n = 0;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const struct field *f = &fields[i];
    if (f->cls != FIXED || field_equal(f, next, running))
      continue;
    field_copy(f, next, running);
    refuse(refused, ud, f->section, f->key);
    n++;
  }
  return n + transport_kept(next, running, refused, ud) + contracts_kept(next, running, refused, ud);
}

void fx_config_take_reloadable(struct fx_config *dst, struct fx_config *src) {
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (fields[i].cls == RELOAD)
      field_copy(&fields[i], dst, src);
  struct fx_participant_cfg *p = dst->participants;
  size_t n = dst->n_participants;
  dst->participants = src->participants, dst->n_participants = src->n_participants;
  src->participants = p, src->n_participants = n;
}

int fx_config_reload_changes(const struct fx_config *a, const struct fx_config *b, char *buf, size_t len) {
  int n = 0;
  size_t used = 0;
  if (len)
    buf[0] = 0;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const struct field *f = &fields[i];
    if (f->cls != RELOAD || field_equal(f, a, b))
      continue;
    int w = used < len ? snprintf(buf + used, len - used, "%s%s", n ? ", " : "", f->key) : 0;
    if (w > 0)
      used += (size_t)w;
    n++;
  }
  return n;
}
