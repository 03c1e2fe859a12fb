/* config.h — flexd's configuration: the platform, its market rules and the
 * participants it trades with.
 *
 * The file is INI (parsed by inih). Sections:
 *
 *   [platform]                    what flexd is and where it listens
 *   domain = flexd.example.org    its Internet domain (one for every role it plays)
 *   listen = 127.0.0.1:8080       UFTP listener (POST /shapeshifter/api/v3/message)
 *   metrics = 127.0.0.1:9090      Prometheus listener (GET /metrics), "" = off
 *   store = /var/lib/flexd        LMDB directory
 *   key.CRO = /etc/flexd/cro.key  secret key file per role flexd signs as
 *   key.DSO = …  key.AGR = …      (see docs/signing.md for the file format)
 *   key_previous.CRO = cs1.…      during a rollover of the platform's own key: the
 *                                 old public key (cs1 string, or a key file to take
 *                                 it from), published next to the new one (GET /api/keys)
 *   log_format = json             json (one object per line) or text (engine/log.h)
 *   max_body = 1048576            bytes; larger requests get 413
 *   workers = 0                   crypto/parse threads, 0 = one per core
 *   store_nosync = false          benchmarks only
 *   store_max_mb = 65536          the store's map stops growing here; then 503
 *   tls_cert = /etc/flexd/tls.crt   HTTPS on `listen`: certificate chain (PEM),
 *   tls_key = /etc/flexd/tls.key    its private key (PEM, mode 0600), both
 *                                   reloaded on SIGHUP for new connections
 *   tls_client_ca = …             optional: client certificates required, signed by this CA
 *   plain_http = false            must be true to serve `listen` without TLS
 *                                 (tests, loopback, behind a TLS proxy)
 *   tls_peer_ca = …               CA file for participants' https endpoints (test
 *                                 peers); "" = the system's CA store
 *   ip_rate = 0                   requests per second per peer IP, 0 = off (429)
 *   ip_max_connections = 0        open connections per peer IP, 0 = off
 *   discovery = static            or dns: participants marked `discovery = dns` have
 *                                 their keys and endpoint looked up in DNS (the
 *                                 transport appendix's records; engine/discovery.h)
 *   dns_servers = 127.0.0.1:53    resolvers (host:port, comma-separated); "" = the
 *                                 system's (/etc/resolv.conf)
 *   dns_dnssec = true             trust only answers with the AD bit (a validating
 *                                 resolver on a trusted network); false for tests
 *   dns_cache_ttl = 300           seconds: the most an answer is kept before it is
 *                                 asked again (a record's own TTL when shorter)
 *   dns_stale = 3600              seconds the last good answer is still used while
 *                                 the resolver fails (not when it says "no such name")
 *   dns_timeout_ms = 2000         per query attempt
 *   dns_endpoint_scheme = https   the endpoint URL made from the CNAME target:
 *   dns_endpoint_port = 443       scheme://target:port/shapeshifter/api/v3/message
 *
 *   [market]                      the rules of every local market
 *   time_zone = Europe/Amsterdam  market time zone (Periods are its days)
 *   isp_duration = PT15M
 *   currency = EUR
 *   closed = true                 CRO closed mode: unregistered senders "Unauthorized"
 *   mutex_offers = true           "No MutEx offer support" when false
 *   require_baseline = false      "No baseline" for offers without D-Prognosis
 *   gate_closure_day_ahead = 15:00  local time on the day before the Period
 *   gate_closure_intraday = 60    minutes before the first Requested ISP, for a
 *                                 request that arrives after the day-ahead gate
 *   prognosis_power_bound = 1000000000   W; |Power| above → "Power value rejection"
 *   retry_window = 3600           seconds of delivery retries before expiry (≥ 3600)
 *   penalty_rate = 0.0000         settlement: currency per MW of power deficiency
 *   penalty_unit = MW             per MW per ISP (the settle-phase example), or MWh
 *   settlement_day = 1            day of the month the monthly settlement run is due
 *   settlement_time = 06:00       local time of that run (it settles the previous month)
 *   baseline_reference = prognosis  settlement baseline: prognosis, measure-before,
 *                                 like-days or zero (docs/settlement.md)
 *   baseline_like_days = 4        like-days: how many earlier same weekdays (1..8)
 *   order_response_timeout = 3600 seconds a placed FlexOrder waits for its
 *                                 FlexOrderResponse before it expires and its need
 *                                 is cleared again (0..86400; 0 = never)
 *   dso_sees_agr_per_connection = false  DSOPortfolioQueryResponse names each
 *                                 connection's AGR (true) or not (privacy, false)
 *   coverage_tolerance = 0.001    clearing (engine/clear.h, docs/market.md "Clearing
 *   bb_gap = 0.001                configuration"): shares in [0, 0.1]; offer counts
 *   bb_max_offers = 400           0..100000 (0 = that stage off); bb_node_limit
 *   bb_node_limit = 2000          0..10^7, bb_pivot_limit 0..10^9; time_limit_ms
 *   bb_pivot_limit = 15000        0..3600000 (0 = none; a limit that is hit makes
 *   exact_max_offers = 40         the answer depend on the machine)
 *   local_search_max_offers = 400
 *   time_limit_ms = 0
 *   proof_max_offers = 2000       markets above bb_max_offers up to this get the
 *                                 proof on a reduced market (0 = off, 0..100000)
 *   proof_first_ratio = 2         that proof before the neighbourhood search where
 *                                 the root's gap is this many bb_gaps (0..1000)
 *   bb_sb_cands = 16              reliability branching (0 = off, 0..1000):
 *   bb_sb_reliable = 1            look-aheads of at most bb_sb_pivots (1..1000)
 *   bb_sb_pivots = 10             dual pivots per child; bb_sb_depth (0 = every
 *   bb_sb_depth = 0               depth) and bb_sb_stop (one child when the first
 *   bb_sb_stop = false            reaches the incumbent) opt in to round 10's rules
 *   bb_dive_cut = true            a node dive stops once a fix round's LP proves
 *                                 its fixings no cheaper than the incumbent
 *   bb_symmetry = true            identical offers: the branch-and-bound searches
 *                                 only choices where the earlier ranks at least as
 *                                 high, and the earlier holds the order on a tie
 *
 *   [contract ID]                 a bilateral contract (FlexOption) the platform
 *   agr = agr.example.com         manages on the DSO's behalf: the AGR,
 *   congestion_point = ean.…      where,
 *   from = 2025-03-01             the first and last Period it covers (to may be
 *   to = 2025-03-31               omitted: open-ended),
 *   reserve = 12-15:-2000000      reserved power per ISP range, W, signed; several
 *                                 ranges separated by ','; ISPs not listed are
 *                                 outside the contract
 *   baseline_reference = …        optional: the contract's orders use this baseline
 *
 *   [participant dso.example.com DSO]   one section per (domain, role)
 *   key = cs1.…                   public key; key2 = cs1.… during a rotation
 *   endpoint = https://dso.example.com/shapeshifter/api/v3/message
 *   barred = false
 *   rate = 100                    messages per second (burst the same), 0 = unlimited
 *   discovery = dns               instead of key/key2/endpoint: from DNS (see above)
 *
 * Unknown sections and keys are errors: a typo must not silently change the market. */
#ifndef FX_ENGINE_CONFIG_H
#define FX_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h" /* enum fx_role */
#include "engine/clear.h"   /* struct fx_clear_params */
#include "engine/log.h"

#define FX_CONTRACT_MAX_RANGES 16

struct fx_contract_range {
  uint32_t first, last; /* ISP numbers, inclusive */
  int64_t power;        /* reserved W (signed like Power) */
};

struct fx_contract_cfg {
  char id[128];
  char agr[254];
  char cp[256];
  int32_t from, to; /* Periods, inclusive; to = INT32_MAX when open-ended */
  struct fx_contract_range ranges[FX_CONTRACT_MAX_RANGES];
  size_t n_ranges;
  bool has_baseline;   /* baseline_reference given for this contract */
  uint8_t baseline;    /* enum fx_settle_baseline */
};

/* Arrays indexed by enum fx_role (FX_ROLE_NONE's slot stays unused). */
#define FX_ROLE_COUNT (FX_ROLE_DSO + 1)

const char *fx_role_name(enum fx_role r);
int fx_role_from_name(const char *s); /* FX_ROLE_NONE (0) when unknown */

struct fx_participant_cfg {
  char domain[254];
  enum fx_role role;
  char keys[2][128]; /* cs1 public key strings; keys[1] empty unless rotating */
  char endpoint[512];
  bool barred;
  uint32_t rate; /* messages per second; 0 = unlimited */
  bool dns;      /* keys and endpoint from DNS discovery */
};

enum fx_discovery_mode { FX_DISCOVERY_STATIC = 0, FX_DISCOVERY_DNS };

struct fx_config {
  /* [platform] */
  char domain[254];
  char listen[128];
  char metrics[128];
  char store[512];
  char key_file[FX_ROLE_COUNT][512]; /* "" = flexd does not sign as that role */
  char key_previous[FX_ROLE_COUNT][512]; /* "" = no rollover under way */
  enum fx_log_format log_format;
  size_t max_body;
  unsigned workers;
  bool store_nosync;
  size_t store_max_mb;
  /* [platform]: TLS and per-IP limits */
  char tls_cert[512];
  char tls_key[512];
  char tls_client_ca[512];
  bool plain_http;
  char tls_peer_ca[512];
  unsigned ip_rate;
  unsigned ip_max_connections;
  /* [platform]: DNS discovery */
  enum fx_discovery_mode discovery;
  char dns_servers[256];
  bool dns_dnssec;
  uint32_t dns_cache_ttl_s;
  uint32_t dns_stale_s;
  uint32_t dns_timeout_ms;
  char dns_endpoint_scheme[8];
  uint32_t dns_endpoint_port;
  /* [market] */
  char time_zone[64];
  char isp_duration[32]; /* xs:duration; the engine parses it with the codec */
  char currency[4];
  bool closed;
  bool mutex_offers;
  bool require_baseline;
  int gate_closure_minute; /* minutes after local midnight of the day before the Period */
  int gate_closure_intraday; /* minutes before the first Requested ISP (0..1440) */
  int64_t prognosis_power_bound;
  uint32_t retry_window_s;
  fx_money penalty_rate;   /* 1e-4 currency units per MW (engine/settle.h) */
  uint8_t penalty_unit;    /* enum fx_settle_penalty_unit */
  int settlement_day;      /* 1..28 */
  int settlement_minute;   /* minutes after local midnight */
  uint8_t baseline_reference; /* enum fx_settle_baseline */
  int baseline_like_days;     /* 1..8 */
  uint32_t order_response_timeout_s; /* 0: placed orders never expire */
  bool dso_sees_agr_per_connection;   /* AGR-Domain in DSOPortfolioQueryResponse */
  /* [market]: the clearing engine's budget (coverage_tolerance, bb_gap,
   * bb_max_offers, bb_node_limit, bb_pivot_limit, exact_max_offers,
   * local_search_max_offers, time_limit_ms, proof_max_offers, bb_sb_*):
   * fx_clear_params_init's values
   * but for the branch-and-bound's, which the product raises (above) */
  struct fx_clear_params clear;
  /* [contract ID] */
  struct fx_contract_cfg *contracts;
  size_t n_contracts;
  /* participants */
  struct fx_participant_cfg *participants;
  size_t n_participants;
};

/* The contract named `id`, or NULL. */
const struct fx_contract_cfg *fx_config_contract(const struct fx_config *cfg, const char *id);
/* The reserved power of contract c at ISP `isp` (1-based); 0 when the contract
 * has no range there (*in = 0), else *in = 1. */
int64_t fx_contract_reserved(const struct fx_contract_cfg *c, uint32_t isp, int *in);

/* Fills `cfg` with the defaults above (no participants). */
void fx_config_defaults(struct fx_config *cfg);

/* Reads `path` over the defaults. On error returns -1 and writes "file:line: why"
 * into `err`. The caller owns cfg->participants (fx_config_free). */
int fx_config_load(struct fx_config *cfg, const char *path, char *err, size_t errlen);

/* The same from a string (tests, the demo's embedded configuration). */
int fx_config_parse(struct fx_config *cfg, const char *text, char *err, size_t errlen);

void fx_config_free(struct fx_config *cfg);

/* A deep copy (the arrays a configuration owns are duplicated): 0, or -1 with
 * nothing allocated. The copy is freed with fx_config_free. */
int fx_config_copy(struct fx_config *dst, const struct fx_config *src);

/* ---- reloading (SIGHUP; docs/architecture.md, "Reloading") ----------------
 * A reload reads the file again into a fresh configuration `next`, then:
 *   fx_config_keep_fixed   puts back the running value of every key that
 *                          cannot change without a restart, naming each;
 *   fx_config_take_reloadable  moves the reloadable values (the [market]
 *                          rules and the participants) into a running copy.
 * Keys the server reloads by their own path (tls_cert, tls_key,
 * tls_client_ca, key.*, key_previous.*, dns_*) are left to it. */

/* Told "[section] key" for each key refused. */
typedef void (*fx_config_refused_fn)(const char *key, void *ud);

/* Every key of `next` that differs from `running` and takes a restart gets
 * running's value back, and `refused` (may be NULL) hears of it; so does a
 * [contract] added, removed or changed (contracts are never taken over, see
 * below). TLS switched on or off counts as tls_cert. Returns how many. */
int fx_config_keep_fixed(struct fx_config *next, const struct fx_config *running, fx_config_refused_fn refused,
                         void *ud);

/* Copies the reloadable scalar values of `src` into `dst` and exchanges
 * their participant arrays (src then owns dst's old one, freed with src).
 * Fixed keys and contracts of dst are untouched. */
void fx_config_take_reloadable(struct fx_config *dst, struct fx_config *src);

/* The names of the reloadable keys whose values differ between a and b,
 * ", "-separated into buf ("" when none; truncated to fit); how many. */
int fx_config_reload_changes(const struct fx_config *a, const struct fx_config *b, char *buf, size_t len);

/* "host:port" → parts; port 0 means ephemeral. -1 on a malformed address. */
int fx_config_split_addr(const char *addr, char *host, size_t hostlen, int *port);

#endif
