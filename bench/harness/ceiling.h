/* ceiling.h — the unavoidable cryptographic cost of one message on this machine.
 *
 * Every inbound UFTP message costs the platform at least one Ed25519
 * crypto_sign_open of its SignedMessage body and one crypto_sign of its response.
 * Measured in the same run as the load (same machine, same moment, same CPU
 * frequency), that pair is the yardstick for the platform's CPU time per message
 * (issue 4's target: at most 1.5× the pair). */
#ifndef FX_BENCH_CEILING_H
#define FX_BENCH_CEILING_H

#include <stddef.h>
#include <stdint.h>

struct fx_ceiling_cfg {
  size_t inbound_len;       /* bytes of the inner message the platform opens */
  size_t response_len;      /* bytes of the response it signs */
  unsigned min_iterations;  /* at least this many pairs (default 200 when 0) */
  uint64_t min_cpu_ns;      /* and at least this much CPU time (default 0.3 s when 0) */
  unsigned max_iterations;  /* hard bound (default 100000 when 0) */
};

struct fx_ceiling {
  size_t inbound_len, response_len;
  unsigned iterations;
  double open_ns; /* median over batches of the thread CPU time per crypto_sign_open */
  double sign_ns; /* the same for crypto_sign */
  double pair_ns; /* open_ns + sign_ns */
  double pairs_per_core_s; /* 10^9 / pair_ns: one core's message ceiling */
  /* The same pair timed on `busy_threads` threads at once, one per core
   * (fx_ceiling_measure_busy): what the cryptography alone costs when every
   * core is busy, as under load on a machine whose cores share caches, power
   * or a physical core with each other. Mean of the threads' medians; 0 when
   * not measured. A second yardstick beside pair_ns, never instead of it. */
  double busy_pair_ns;
  unsigned busy_threads;
};

/* Runs on the calling thread (one core) and times it with CLOCK_THREAD_CPUTIME_ID.
 * Every opened message is checked; -1 if a signature fails to verify or memory runs out. */
int fx_ceiling_measure(const struct fx_ceiling_cfg *cfg, struct fx_ceiling *out);

/* Runs fx_ceiling_measure on `threads` threads started together and sets
 * out->busy_pair_ns and out->busy_threads (the rest of *out is untouched).
 * -1 if a thread cannot start or its measurement fails. */
int fx_ceiling_measure_busy(const struct fx_ceiling_cfg *cfg, unsigned threads, struct fx_ceiling *out);

#endif
