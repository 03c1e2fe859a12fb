/* sim.h — simulated participants around a real `flexd serve` process, for
 * the end-to-end tests and the demo.
 *
 * It plays the participants (a DSO and AGRs, each with its own CS1 keys), writes
 * a configuration naming them with its own response endpoint, runs the real
 * flexd binary on loopback with a temporary store, POSTs signed messages with
 * libcurl, and receives the platform's signed responses on an HTTP sink of its
 * own (engine/http_server on a loop in a background thread), opening them with
 * the platform's public keys. */
#ifndef FX_ENGINE_SIM_H
#define FX_ENGINE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

struct fx_sim;

struct fx_sim_opts {
  const char *extra_market;   /* lines appended to [market] */
  const char *extra_platform; /* lines appended to [platform] */
  bool outlive;               /* flexd keeps running if this process dies (demo --keep) */
  const char *dir;          /* reuse this directory (restart tests); NULL = new temp dir */
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

pid_t fx_sim_pid(const struct fx_sim *p);
int fx_sim_port(const struct fx_sim *p);
int fx_sim_metrics_port(const struct fx_sim *p);
const char *fx_sim_dir(const struct fx_sim *p);
const char *fx_sim_config_path(const struct fx_sim *p);
/* Registers SIM_LATE in the configuration file (then SIGHUP); 0 or -1. */
int fx_sim_register_late(struct fx_sim *p);

/* HTTP POST of raw bytes to the UFTP endpoint; returns the status (0 on a
 * transport error); the response body (truncated) in resp when not NULL. */
int fx_sim_post(struct fx_sim *p, const char *body, size_t len, const char *content_type, char *resp,
                 size_t cap);
/* A GET of `path` on the UFTP (metrics=false) or metrics listener; body into resp. */
int fx_sim_get(struct fx_sim *p, bool metrics, const char *path, char *resp, size_t cap);

/* Seals `inner` as participant (domain, role): returns a malloc'd SignedMessage,
 * NULL when the simulation does not play that participant. */
char *fx_sim_seal(struct fx_sim *p, const char *domain, enum fx_role role, const char *inner);
/* seal + post; returns the HTTP status. */
int fx_sim_send(struct fx_sim *p, const char *domain, enum fx_role role, const char *inner);

/* Controls the sink's answer (200 by default; e.g. 503 to play a peer that is down). */
void fx_sim_sink_status(struct fx_sim *p, int status);
/* Number of POSTs the sink has received (answered or not). */
unsigned fx_sim_sink_hits(struct fx_sim *p);

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

/* A fresh random UUID string (37 bytes with NUL). */
void fx_sim_uuid(char out[FX_UUID_STRLEN]);
/* dateTime of now + offset seconds (UTC, "Z"), and the local date (market
 * time zone Europe/Amsterdam) of now + days. */
void fx_sim_time(char out[FX_DATETIME_STRLEN], long offset_s);
void fx_sim_date(char out[FX_DATE_STRLEN], int days);

#endif
