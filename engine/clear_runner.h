/* clear_runner.h — one clearing thread: solves queued markets off the
 * sequencer thread, one at a time, in submission order.
 *
 * A clearing is CPU-heavy (milliseconds to seconds per market) and the
 * sequencer is the single writer: solving there stops every commit. The
 * runner owns nothing of the market; a job carries a self-contained
 * fx_clear_market (the caller's snapshot, alive until done) and its budget.
 * One thread, not a pool: clearing must not take the cores the ingest
 * workers verify signatures on, and FIFO by submission keeps markets cleared
 * in the order their clearing times came due. */
#ifndef FX_ENGINE_CLEAR_RUNNER_H
#define FX_ENGINE_CLEAR_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/clear.h"

struct fx_clear_runner;

struct fx_clear_job {
  struct fx_clear_job *next;             /* the runner's while queued */
  const struct fx_clear_market *market;  /* the caller's, alive until done() */
  struct fx_clear_params params;
  /* out, valid in done() when !dropped */
  int rc;                       /* fx_clear_solve's return */
  struct fx_clear_result result; /* filled when rc == 0; done() owns it */
  int64_t solve_us;             /* monotonic time the solve took */
  int64_t elapsed_us;           /* monotonic time from submit to the solve's end */
  int64_t submit_us;            /* the runner's: when it was queued */
  /* Called once per job. On the clearing thread after the solve; or, with
   * dropped set (the runner stopped first; no result), on the thread that
   * calls fx_clear_runner_stop. A result solved just before the stop began
   * may still be reported (dropped false) while stop waits for the thread.
   * Owns the job. */
  void (*done)(struct fx_clear_job *job, bool dropped);
  void *ud;
};

/* Starts the thread. 0, or -1 (nothing allocated). A process that clears
 * repeatedly should call fx_clear_keep_memory first, before its threads
 * (flexd's main does). */
int fx_clear_runner_start(struct fx_clear_runner **out);
/* Any thread. Queues job behind those already queued; returns false (and
 * queues nothing, calls nothing) once the runner is stopping. */
bool fx_clear_runner_submit(struct fx_clear_runner *r, struct fx_clear_job *job);
/* Jobs queued or being solved, and jobs solved and reported since the start
 * (any thread; for tests and metrics). Both change under one lock: pending 1
 * with solved n means job n+1 is under way, every earlier one reported. */
unsigned fx_clear_runner_pending(struct fx_clear_runner *r);
unsigned fx_clear_runner_solved(struct fx_clear_runner *r);
/* For tests: while held, the thread takes no job off the queue, so a test
 * can have a clearing queued (pending) for as long as it needs without
 * depending on how long a solve lasts. Release lets it go on. A held runner
 * still stops (its queued jobs are dropped). */
void fx_clear_runner_hold(struct fx_clear_runner *r, bool hold);
/* For tests: while held, lets one more job be taken off the queue. */
void fx_clear_runner_pass(struct fx_clear_runner *r);
/* For tests: the next n jobs taken off the queue are not solved; they report
 * FX_CLEAR_ESOLVER, as when the LP library fails. */
void fx_clear_runner_fail(struct fx_clear_runner *r, unsigned n);
/* Stops taking jobs, waits for the solve under way (a solve is not
 * interruptible: its budget bounds it), then drops it and every queued job
 * (done(job, true) on this thread). The runner stays allocated, refusing
 * submissions, until fx_clear_runner_free: a thread that still holds it may
 * call submit safely in between. */
void fx_clear_runner_stop(struct fx_clear_runner *r);
/* Stops it if need be and frees it. NULL is fine. */
void fx_clear_runner_free(struct fx_clear_runner *r);

#endif
