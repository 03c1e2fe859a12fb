/* server.h — `flexd serve`: the running platform.
 *
 * One fx_server owns the loop, the store, the participant registry, the
 * worker pool, the sequencer, the UFTP and metrics listeners, the outbound
 * HTTP client and the outbox sender. See docs/architecture.md for the path a
 * message takes. */
#ifndef FX_ENGINE_SERVER_H
#define FX_ENGINE_SERVER_H

#include "engine/config.h"

struct fx_server;

/* Runs the platform until SIGTERM/SIGINT (then drains and returns 0) or a
 * start-up failure (returns 1 with the reason on stderr). `config_path` is
 * re-read on SIGHUP (docs/architecture.md, "Reloading": what applies at once,
 * what needs a restart). `port_file`, when set, receives
 * "UFTP_PORT METRICS_PORT\n" once both listeners are bound (tests, port 0). */
int fx_server_run(const struct fx_config *cfg, const char *config_path, const char *port_file);

#endif
