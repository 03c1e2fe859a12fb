/* workers.h — the crypto/parse worker pool, fed from the loop thread.
 *
 * The loop thread submits jobs; a worker thread runs job->work(); the job's
 * done() then runs back ON THE LOOP THREAD (one uv_async_t wakeup drains
 * every finished job). Jobs are intrusive: embed struct fx_workers_job in
 * your own request object, no allocation per job.
 *
 * Fairness: every job carries a flow key (hashed with fx_workers_flow_key;
 * the UFTP endpoint uses client address + claimed sender, fx_registry_flow).
 * Queued jobs are served round-robin across flows, FIFO within a flow, so a
 * sender that floods cannot starve the others; a per-flow bound keeps one
 * flow from taking the whole queue either. */
#ifndef FX_ENGINE_WORKERS_H
#define FX_ENGINE_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct fx_workers;
struct fx_workers_job;

/* done()'s status: the job ran, or the pool closed before it could run. */
enum { FX_WORKERS_DONE = 0, FX_WORKERS_CANCELED = 1 };

struct fx_workers_job {
  void (*work)(struct fx_workers_job *job, void *thread_ctx); /* on a worker */
  void (*done)(struct fx_workers_job *job, int status);       /* on the loop */
  /* Optional, on the worker right after work(): returns 1 when it has handed
   * the job on to another thread itself (the pool then forgets it: no done(),
   * the job may already be gone), 0 to have done() run on the loop. It saves
   * the hop through the loop for work that goes on elsewhere anyway. */
  int (*pass)(struct fx_workers_job *job);
  uint64_t flow;                                              /* fairness key */
  struct fx_workers_job *next_;                               /* private */
};

struct fx_workers_config {
  unsigned threads;        /* 0: uv_available_parallelism() */
  unsigned max_queued;     /* jobs waiting for a worker, all flows together */
  unsigned max_per_flow;   /* jobs waiting for a worker, per flow (0: max_queued) */
  /* Per-thread context (a reused XML reader, a signature context...):
   * init_thread runs first on each worker, its result is passed to work();
   * fini_thread runs on the same thread at shutdown. Both may be NULL. */
  void *(*init_thread)(unsigned index, void *ud);
  void (*fini_thread)(void *thread_ctx, void *ud);
  void *ud;
};

/* Starts the threads. Returns 0 or a negative errno / libuv error. */
int fx_workers_start(struct fx_workers **out, uv_loop_t *loop,
                     const struct fx_workers_config *cfg);

/* Queues a job (loop thread only). Returns 0, or -EAGAIN when the queue or
 * the job's flow is full (answer 503/429), or -ECANCELED after close. */
int fx_workers_submit(struct fx_workers *pool, struct fx_workers_job *job);

/* Jobs waiting for a worker (approximate when read while workers run). */
unsigned fx_workers_queued(struct fx_workers *pool);

/* Shuts down (loop thread): running jobs finish, queued ones are canceled;
 * every done() — finished or canceled — runs before this returns. The pool's
 * memory is released once the loop has processed the handle close. */
void fx_workers_close(struct fx_workers *pool);

/* A flow key for a byte string (FNV-1a, 64 bit). */
uint64_t fx_workers_flow_key(const void *data, size_t len);

#endif
