/* sim_reload.h — the configuration file and the log of a `flexd serve` under
 * test (engine/sim.h), for the SIGHUP tests: edit the file, count log lines,
 * send SIGHUP and wait for what the log says. */
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

#endif
