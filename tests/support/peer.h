/* peer.h — a test peer for end-to-end tests of `flexd serve`.
 *
 * It plays the participants (a DSO and AGRs, each with its own CS1 keys), writes
 * a configuration naming them with its own response endpoint, runs the real
 * flexd binary on loopback with a temporary store, POSTs signed messages with
 * libcurl, and receives the platform's signed responses on an HTTP sink of its
 * own (engine/http_server on a loop in a background thread), opening them with
 * the platform's public keys. */
#ifndef FX_TEST_PEER_H
#define FX_TEST_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "codec/codec.h"
#include "codec/keys.h"

/* The participants every peer registers. */
#define PEER_PLATFORM "flexd.example.org"
#define PEER_DSO "dso.example.com"
#define PEER_AGR "agr.example.com"
#define PEER_AGR2 "agr2.example.com"
#define PEER_BARRED "barred.example.com" /* AGR, barred */
#define PEER_SLOW "slow.example.com"     /* AGR, rate 1/s */
#define PEER_LATE "late.example.com"     /* AGR, keys made but not registered (SIGHUP tests) */

struct fx_peer;

struct fx_peer_opts {
  const char *extra_market; /* lines appended to [market] */
  const char *dir;          /* reuse this directory (restart tests); NULL = new temp dir */
};

/* Starts everything; fails the current criterion test on any error. The
 * binary's path is compiled into test executables only, hence the wrapper. */
struct fx_peer *fx_peer_start_with(const struct fx_peer_opts *o, const char *flexd_binary);
#ifdef FLEXD_BINARY
static inline struct fx_peer *fx_peer_start(const struct fx_peer_opts *o) {
  return fx_peer_start_with(o, FLEXD_BINARY);
}
#endif
/* SIGTERM to flexd, waits for it, returns its exit status (-1 if killed); keeps
 * the sink and the directory (for a restart) when keep_dir. */
int fx_peer_stop_flexd(struct fx_peer *p);
/* Starts flexd again on the same directory and configuration. */
void fx_peer_restart_flexd(struct fx_peer *p);
void fx_peer_kill9_flexd(struct fx_peer *p);
void fx_peer_free(struct fx_peer *p); /* stops flexd if running, removes the directory */

pid_t fx_peer_pid(const struct fx_peer *p);
int fx_peer_port(const struct fx_peer *p);
int fx_peer_metrics_port(const struct fx_peer *p);
const char *fx_peer_dir(const struct fx_peer *p);
const char *fx_peer_config_path(const struct fx_peer *p);
/* Appends a participant section to the configuration file (then SIGHUP). */
void fx_peer_register_late(struct fx_peer *p);

/* HTTP POST of raw bytes to the UFTP endpoint; returns the status (0 on a
 * transport error); the response body (truncated) in resp when not NULL. */
int fx_peer_post(struct fx_peer *p, const char *body, size_t len, const char *content_type, char *resp,
                 size_t cap);
/* A GET of `path` on the UFTP (metrics=false) or metrics listener; body into resp. */
int fx_peer_get(struct fx_peer *p, bool metrics, const char *path, char *resp, size_t cap);

/* Seals `inner` as participant (domain, role): returns a malloc'd SignedMessage. */
char *fx_peer_seal(struct fx_peer *p, const char *domain, enum fx_role role, const char *inner);
/* seal + post; returns the HTTP status. */
int fx_peer_send(struct fx_peer *p, const char *domain, enum fx_role role, const char *inner);

/* Controls the sink's answer (200 by default; e.g. 503 to play a peer that is down). */
void fx_peer_sink_status(struct fx_peer *p, int status);
/* Number of POSTs the sink has received (answered or not). */
unsigned fx_peer_sink_hits(struct fx_peer *p);

/* Waits up to timeout_ms for a response from the platform of type `type`
 * referring to MessageID `ref` (fx_msg_reference), verifies its signature with
 * the platform's key of the role it claims, parses it into `arena` and returns
 * it; NULL on timeout. */
const struct fx_msg *fx_peer_await(struct fx_peer *p, enum fx_msg_type type, const char *ref_uuid,
                                   int timeout_ms, fx_arena *arena);
/* How many responses referring to `ref_uuid` have been received so far. */
unsigned fx_peer_count_responses(struct fx_peer *p, const char *ref_uuid);

/* A fresh random UUID string (37 bytes with NUL). */
void fx_peer_uuid(char out[FX_UUID_STRLEN]);
/* dateTime of now + offset seconds (UTC, "Z"), and the local date (market
 * time zone Europe/Amsterdam) of now + days. */
void fx_peer_time(char out[FX_DATETIME_STRLEN], long offset_s);
void fx_peer_date(char out[FX_DATE_STRLEN], int days);

#endif
