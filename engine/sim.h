/* sim.h — simulated participants around a real `flexd serve` process, for
 * the end-to-end tests and the demo.
 *
 * It plays the participants (a DSO and AGRs, each with its own CS1 keys), writes
 * a configuration naming them with its own response endpoint, runs the real
 * flexd binary on loopback with a temporary store, POSTs signed messages with
 * libcurl, and receives the platform's signed responses on an HTTP sink of its
 * own (engine/http_server on a loop in a background thread), opening them with
 * the platform's public keys. What the platform sends on its own (FlexRequest
 * copies, FlexOrders) can be awaited by type and recipient and answered; the
 * operator listener (clearing, query API) is reachable too; and the common
 * market messages are built as codec models and written by fx_write_msg.
 *
 * Not thread-safe: one thread drives an fx_sim (the sink has its own). */
#ifndef FX_ENGINE_SIM_H
#define FX_ENGINE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "codec/codec.h"
#include "codec/keys.h"

/* The participants every simulation registers. */
#define SIM_PLATFORM "flexd.example.org"
#define SIM_DSO "dso.example.com"
#define SIM_AGR "agr.example.com"
#define SIM_AGR2 "agr2.example.com"
#define SIM_BARRED "barred.example.com" /* AGR, barred */
#define SIM_SLOW "slow.example.com"     /* AGR, rate 1/s */
#define SIM_LATE "late.example.com"     /* AGR, keys made but not registered (SIGHUP tests) */
#define SIM_AGR3 "agr3.example.com"

struct fx_sim;

/* How a participant's own endpoint behaves (fx_sim_opts.peers). */
enum fx_sim_peer_mode {
  FX_SIM_PEER_HANG = 1, /* accepts the request and never answers */
  FX_SIM_PEER_RESET,    /* accepts the connection and resets it at once */
  FX_SIM_PEER_500,      /* answers 500 */
  FX_SIM_PEER_404,      /* answers 404 */
  FX_SIM_PEER_SLOW      /* answers 200 after delay_ms (the message then counts as received) */
};
#define FX_SIM_MAX_PEERS 4
#define FX_SIM_MAX_PEER_HITS 64
struct fx_sim_peer {
  const char *domain; /* a participant the simulation plays (every role it has) */
  enum fx_sim_peer_mode mode;
  unsigned delay_ms; /* FX_SIM_PEER_SLOW */
};

struct fx_sim_opts {
  const char *extra_market;   /* lines appended to [market] */
  const char *extra_platform; /* lines appended to [platform] */
  bool outlive;               /* flexd keeps running if this process dies (demo --keep) */
  const char *dir;          /* reuse this directory (restart tests); NULL = new temp dir */
  const char *tls_dir;      /* NULL: plain HTTP everywhere; else a directory with ca.crt,
                               server.crt and server.key (for 127.0.0.1): flexd listens
                               with HTTPS, the sink too, and flexd checks the sink's
                               certificate against ca.crt (tls_peer_ca) */
  /* Up to FX_SIM_MAX_PEERS participants whose endpoint misbehaves. Each gets a
   * listener of its own (its own port, like a separate host, so flexd's
   * per-peer bounds apply to it alone); the others share the ordinary sink. */
  const struct fx_sim_peer *peers;
  size_t n_peers;
};

/* Starts the sink, writes keys and configuration, runs `flexd_binary serve`
 * and waits until it listens. NULL (with a line on stderr) on any failure. */
struct fx_sim *fx_sim_start_with(const struct fx_sim_opts *o, const char *flexd_binary);
/* SIGTERM to flexd, waits for it, returns its exit status (-1 if killed); keeps
 * the sink and the directory (for a restart) when keep_dir. */
int fx_sim_stop_flexd(struct fx_sim *p);
/* Replaces the extra [platform] lines and rewrites the configuration (takes
 * effect at the next restart); 0 or -1. */
int fx_sim_set_extra_platform(struct fx_sim *p, const char *lines);
/* Starts flexd again on the same directory and configuration; 0 or -1. */
int fx_sim_restart_flexd(struct fx_sim *p);
void fx_sim_kill9_flexd(struct fx_sim *p);
void fx_sim_free(struct fx_sim *p); /* stops flexd if running, removes the directory */
/* Lets go of a flexd started with outlive (demo --keep): the sink stops and
 * the memory is freed, flexd keeps running on its directory, which stays. */
void fx_sim_release(struct fx_sim *p);

pid_t fx_sim_pid(const struct fx_sim *p);
int fx_sim_port(const struct fx_sim *p);
int fx_sim_metrics_port(const struct fx_sim *p);
const char *fx_sim_dir(const struct fx_sim *p);
const char *fx_sim_config_path(const struct fx_sim *p);
/* Registers SIM_LATE in the configuration file (then SIGHUP); 0 or -1. */
int fx_sim_register_late(struct fx_sim *p);
/* Rotates the platform's key of role r: a fresh key file replaces the old one
 * and the configuration names the old public key as key_previous.r (then
 * SIGHUP). From then on the simulation verifies what the platform signs as r
 * with the new key only. 0 or -1. */
int fx_sim_rotate_platform_key(struct fx_sim *p, enum fx_role r);

/* HTTP POST of raw bytes to the UFTP endpoint; returns the status (0 on a
 * transport error); the response body (truncated) in resp when not NULL. */
int fx_sim_post(struct fx_sim *p, const char *body, size_t len, const char *content_type, char *resp,
                 size_t cap);
/* A GET of `path` on the UFTP (metrics=false) or metrics listener; body into resp. */
int fx_sim_get(struct fx_sim *p, bool metrics, const char *path, char *resp, size_t cap);
/* A POST with a JSON body on the operator listener; returns the status. */
int fx_sim_operator_post(struct fx_sim *p, const char *path, const char *json, char *resp, size_t cap);
/* Any request without a body on the operator listener; returns the status. */
int fx_sim_operator(struct fx_sim *p, const char *method, const char *path, char *resp, size_t cap);

/* Seals `inner` as participant (domain, role): returns a malloc'd SignedMessage,
 * NULL when the simulation does not play that participant. */
char *fx_sim_seal(struct fx_sim *p, const char *domain, enum fx_role role, const char *inner);
/* seal + post; returns the HTTP status. */
int fx_sim_send(struct fx_sim *p, const char *domain, enum fx_role role, const char *inner);

/* Controls the sink's answer (200 by default; e.g. 503 to play a peer that is down). */
void fx_sim_sink_status(struct fx_sim *p, int status);
/* Number of POSTs the sink has received (answered or not). */
unsigned fx_sim_sink_hits(struct fx_sim *p);
/* A misbehaving peer's attempts (requests, or connections for RESET): their
 * number, and up to `cap` of their arrival times (CLOCK_MONOTONIC, µs) in
 * `t_us` (may be NULL). 0 when `domain` has no override. */
unsigned fx_sim_peer_hits(struct fx_sim *p, const char *domain, int64_t *t_us, size_t cap);
/* The most requests a HANG or SLOW peer has held open at once. */
unsigned fx_sim_peer_max_open(struct fx_sim *p, const char *domain);

/* Waits up to timeout_ms for a response from the platform of type `type`
 * referring to MessageID `ref` (fx_msg_reference), verifies its signature with
 * the platform's key of the role it claims, parses it into `arena` and returns
 * it; NULL on timeout. */
const struct fx_msg *fx_sim_await(struct fx_sim *p, enum fx_msg_type type, const char *ref_uuid,
                                   int timeout_ms, fx_arena *arena);
/* The same, skipping the first `skip` matching responses (repeats). */
const struct fx_msg *fx_sim_await_nth(struct fx_sim *p, enum fx_msg_type type, const char *ref_uuid, unsigned skip,
                                      int timeout_ms, fx_arena *arena);
/* How many responses referring to `ref_uuid` have been received so far. */
unsigned fx_sim_count_responses(struct fx_sim *p, const char *ref_uuid);

/* ---- what the platform sends to participants ------------------------------------
 * Every POST the sink receives is opened once (signature checked against the
 * platform's key of the role it claims) and indexed by type, recipient and the
 * MessageID it refers to. `to` NULL matches any recipient. */

/* Waits up to timeout_ms until the nth (from 0) message of `type` addressed to
 * `to` has arrived and returns it parsed into arena; NULL on timeout. */
const struct fx_msg *fx_sim_await_sent(struct fx_sim *p, enum fx_msg_type type, const char *to, unsigned nth,
                                       int timeout_ms, fx_arena *arena);
/* The opened inner XML (after the signature) of the nth message of `type` to
 * `to` that has arrived, and its length; NULL when there is none (yet). Valid
 * until fx_sim_free. */
const char *fx_sim_sent_xml(struct fx_sim *p, enum fx_msg_type type, const char *to, unsigned nth, size_t *len);
/* How many messages of `type` to `to` have arrived so far. */
unsigned fx_sim_count_sent(struct fx_sim *p, enum fx_msg_type type, const char *to);
/* Answers a FlexRequest (FlexRequestResponse) or a FlexOrder (FlexOrderResponse)
 * the platform sent, as its recipient: Accepted when reason is NULL, else
 * Rejected with that reason. The response's MessageID goes to id_out (may be
 * NULL). Returns the HTTP status (0 when `m` cannot be answered). */
int fx_sim_answer(struct fx_sim *p, const struct fx_msg *m, const char *reason, char id_out[FX_UUID_STRLEN]);

/* ---- the operator listener (metrics port) ------------------------------------ */

/* POST /api/markets/{cp}/{date}/clear: clears one market now. Returns the HTTP
 * status; *orders (may be NULL) gets the number of orders that clearing placed. */
int fx_sim_clear(struct fx_sim *p, const char *cp, const char *date, int *orders);
/* GET /api/markets (cp NULL) or /api/markets/{cp}/{date}, parsed; NULL unless
 * 200 with valid JSON. The caller owns the reference. */
json_t *fx_sim_markets(struct fx_sim *p, const char *cp, const char *date);

/* ---- building messages ----------------------------------------------------------
 * The builders fill *m for the codec's writer; every string and array they set
 * lives in `arena`. The header: Version 3.1.0, SenderDomain `from`,
 * RecipientDomain the platform, TimeStamp now, a fresh MessageID that is also
 * the ConversationID. Market messages get ISP-Duration PT15M, TimeZone
 * Europe/Amsterdam, Period `date` and CongestionPoint `cp`. The caller may
 * change any field before sending. */
struct fx_sim_cp {
  const char *cp;
  const char *const *connections;
  size_t n_connections;
  bool mutex_offers; /* MutexOffersSupported */
};
void fx_sim_msg_init(struct fx_msg *m, fx_arena *arena, enum fx_msg_type type, const char *from);
void fx_sim_dso_portfolio(struct fx_msg *m, fx_arena *arena, const char *dso, const char *start_date,
                          const struct fx_sim_cp *cps, size_t n_cps);
void fx_sim_agr_portfolio(struct fx_msg *m, fx_arena *arena, const char *agr, const char *start_date,
                          const char *const *connections, size_t n);
/* n_isps ISPs of one ISP each; power[i] for ISP i + 1. */
void fx_sim_prognosis(struct fx_msg *m, fx_arena *arena, const char *agr, const char *cp, const char *date,
                      int64_t revision, const int64_t *power, size_t n_isps);
void fx_sim_flex_request(struct fx_msg *m, fx_arena *arena, const char *dso, const char *cp, const char *date,
                         int64_t revision, long expires_in_s, const struct fx_flex_request_isp *isps, size_t n);
/* Solicited when flex_request_id is given (the platform's copy), unsolicited
 * (Unsolicited="true") otherwise; Currency EUR. */
void fx_sim_flex_offer(struct fx_msg *m, fx_arena *arena, const char *agr, const char *cp, const char *date,
                       long expires_in_s, const char *flex_request_id, const struct fx_offer_option *options,
                       size_t n_options);
void fx_sim_revocation(struct fx_msg *m, fx_arena *arena, const char *agr, const char *offer_id);

/* The inner XML of m written by the codec (defaults applied first): malloc'd,
 * NUL-terminated; NULL (with the writer's complaint on stderr) if m is invalid. */
char *fx_sim_xml(struct fx_msg *m);
/* Writes, seals as the participant the simulation plays for SenderDomain, and
 * POSTs; returns the HTTP status (0 when m cannot be written or sealed). */
int fx_sim_send_msg(struct fx_sim *p, struct fx_msg *m);
/* The MessageID of m as a string. */
void fx_sim_msg_id(const struct fx_msg *m, char out[FX_UUID_STRLEN]);
/* Number of ISPs of the market day `date` (96, or 92/100 on DST days); -1 if bad. */
int fx_sim_isp_count(const char *date);

/* A fresh random UUID string (37 bytes with NUL). */
void fx_sim_uuid(char out[FX_UUID_STRLEN]);
/* dateTime of now + offset seconds (UTC, "Z"), and the local date (market
 * time zone Europe/Amsterdam) of now + days. */
void fx_sim_time(char out[FX_DATETIME_STRLEN], long offset_s);
void fx_sim_date(char out[FX_DATE_STRLEN], int days);
/* A TestMessage from `from` to `to` with MessageID = ConversationID = id,
 * stamped now, written into buf; returns buf ("" if it does not fit). */
const char *fx_sim_test_message(char *buf, size_t cap, const char *from, const char *to, const char *id);

#endif
