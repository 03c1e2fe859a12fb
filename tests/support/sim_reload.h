/* sim_reload.h — a `flexd serve` under test (engine/sim.h), for the SIGHUP
 * tests: edit its configuration file, count its log lines, send SIGHUP and
 * wait for what the log says; exchange messages and publish a two-AGR
 * common reference. */
#ifndef FX_TESTS_SIM_RELOAD_H
#define FX_TESTS_SIM_RELOAD_H

#include "engine/sim.h"

/* Replaces the first `from` in the configuration file by `to`, atomically
 * (a rename: flexd never reads half a file). */
void fx_sr_edit(struct fx_sim *sim, const char *from, const char *to);
/* Lines of flexd's log that contain `needle`. */
unsigned fx_sr_log_count(struct fx_sim *sim, const char *needle);
/* Waits (at most 20 s) until the log has exactly `n` lines with `needle`. */
void fx_sr_log_until(struct fx_sim *sim, const char *needle, unsigned n);
/* SIGHUP, then waits (at most 20 s) for more log lines with `needle`;
 * flexd still runs. */
void fx_sr_sighup_until(struct fx_sim *sim, const char *needle);

/* Sends m (200 expected) and waits (at most 20 s) for its answer. */
const struct fx_msg *fx_sr_exchange(struct fx_sim *sim, fx_arena *a, struct fx_msg *m, enum fx_msg_type answer);
/* The platform's answer to m: "" when accepted, else its rejection reasons. */
const char *fx_sr_outcome(struct fx_sim *sim, fx_arena *a, struct fx_msg *m, enum fx_msg_type answer);
/* The DSO publishes cp with connections c1 of AGR and c2 of AGR2, who
 * publish theirs, all from `today`; each must be accepted. */
void fx_sr_populate_two_agrs(struct fx_sim *sim, fx_arena *a, const char *today, const char *cp, const char *c1,
                             const char *c2);

#endif
