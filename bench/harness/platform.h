/* platform.h — a flexd spawned for a bench run.
 *
 * The UFTP workloads measure a real `flexd serve` process, not a library linked into
 * the harness: the platform's CPU time then comes from its own process accounting,
 * and it pays for every syscall, fsync and thread hand-off a deployment pays for.
 * This module generates the platform's keys (one per role), a simulated DSO and N
 * simulated AGRs with their own CS1 keys, writes a configuration that registers every
 * one of them (closed CRO mode) with the harness's response sink as its endpoint, starts flexd on a fresh temporary
 * directory (store, log, configuration), waits until it listens, and stops it and
 * removes the directory afterwards. flexd's stderr goes to `flexd.log` in that
 * directory; it dies with the harness (PR_SET_PDEATHSIG), so an interrupted run
 * leaves no platform behind. */
#ifndef FX_BENCH_PLATFORM_H
#define FX_BENCH_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "codec/keys.h"
#include "engine/config.h"

/* A simulated participant: its domain, the role it sends as, and its keys. */
struct fx_bench_party {
  char domain[64];
  enum fx_role role;
  struct fx_keys_pair kp;
};

struct fx_bench_platform_cfg {
  const char *flexd; /* path of the flexd binary */
  unsigned n_agrs;   /* at least 1 */
  int sink_port;     /* every participant's endpoint: http://127.0.0.1:<sink_port>/shapeshifter/... */
  unsigned workers;  /* [platform] workers; 0 = flexd's default */
  bool nosync;       /* [platform] store_nosync */
  bool keep;         /* leave the directory behind when freed */
};

struct fx_bench_platform {
  char dir[64];    /* the temporary directory */
  char domain[64]; /* the platform's domain */
  pid_t pid;       /* 0 once stopped */
  int port, metrics_port;
  struct fx_keys_pair keys[FX_ROLE_COUNT]; /* the platform's, by role (AGR, CRO, DSO) */
  struct fx_bench_party dso; /* dso.bench.test: publishes the congestion points */
  struct fx_bench_party *agrs;
  unsigned n_agrs;
  bool keep;
};

/* Writes keys and configuration, starts flexd and waits (at most 10 s) until it has
 * written its ports. On failure returns -1 with a reason (and the end of flexd's log
 * when it exited) in `err`, and leaves nothing running. */
int fx_bench_platform_start(struct fx_bench_platform **out, const struct fx_bench_platform_cfg *cfg,
                            char *err, size_t errlen);

/* SIGTERM, then waits up to 30 s (SIGKILL after that). Returns flexd's exit status,
 * or -1 when it did not exit by itself or was not running. */
int fx_bench_platform_stop(struct fx_bench_platform *p);

/* Stops flexd if it runs, removes the directory unless `keep`, wipes the secret keys. */
void fx_bench_platform_free(struct fx_bench_platform *p);

#endif
