/* workers.c — worker threads, the fair queue, completions back to the loop.
 *
 * The queue is a hash of flows (uthash, by flow key) plus a ring of the flows
 * that have jobs waiting. A worker takes the first job of the flow at the
 * head of the ring and moves that flow to the tail: round-robin across
 * senders, FIFO within one. Empty flows leave the ring and the hash, so the
 * memory held is bounded by the jobs queued.
 *
 * Finished jobs go on a done list under their own mutex; one uv_async_send
 * wakes the loop, which runs every done() in one batch. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "engine/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* uthash must report allocation failure instead of exiting: each use site
 * declares `int oom = 0;` and checks it. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = 1)
#include <uthash.h>
#include <utlist.h>

struct flow {
  uint64_t key;
  struct fx_workers_job *head, *tail;
  unsigned n;
  struct flow *prev, *next; /* the ring of flows with jobs waiting */
  UT_hash_handle hh;
};

struct fx_workers {
  uv_loop_t *loop;
  uv_async_t async;
  struct fx_workers_config cfg;
  uv_mutex_t mu; /* flows, ring, queued, stopping */
  uv_cond_t cv;
  struct flow *flows, *ring;
  unsigned queued;
  bool stopping, closed;
  uv_mutex_t done_mu; /* the done list */
  struct fx_workers_job *done_head, *done_tail;
  unsigned nthreads;
  uv_thread_t *threads;
  struct thread_arg { struct fx_workers *pool; unsigned index; } *args;
};

uint64_t fx_workers_flow_key(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/* Caller holds mu and has checked that the ring is not empty. */
static struct fx_workers_job *queue_pop(struct fx_workers *pool) {
  struct flow *f = pool->ring;
  struct fx_workers_job *job = f->head;
  f->head = job->next_;
  if (!f->head) f->tail = NULL;
  f->n--;
  pool->queued--;
  DL_DELETE(pool->ring, f);
  if (f->n) {
    DL_APPEND(pool->ring, f);
  } else {
    HASH_DEL(pool->flows, f);
    free(f);
  }
  job->next_ = NULL;
  return job;
}

static int queue_push(struct fx_workers *pool, struct fx_workers_job *job) {
  unsigned per_flow = pool->cfg.max_per_flow ? pool->cfg.max_per_flow : pool->cfg.max_queued;
  if (pool->queued >= pool->cfg.max_queued) return -EAGAIN;
  struct flow *f;
  HASH_FIND(hh, pool->flows, &job->flow, sizeof job->flow, f);
  if (f && f->n >= per_flow) return -EAGAIN;
  if (!f) {
    if (!(f = calloc(1, sizeof *f))) return -ENOMEM;
    f->key = job->flow;
    int oom = 0;
    HASH_ADD(hh, pool->flows, key, sizeof f->key, f);
    if (oom) {
      free(f);
      return -ENOMEM;
    }
    DL_APPEND(pool->ring, f);
  }
  job->next_ = NULL;
  if (f->tail) f->tail->next_ = job;
  else f->head = job;
  f->tail = job;
  f->n++;
  pool->queued++;
  return 0;
}

static void finish(struct fx_workers *pool, struct fx_workers_job *job) {
  uv_mutex_lock(&pool->done_mu);
  if (pool->done_tail) pool->done_tail->next_ = job;
  else pool->done_head = job;
  pool->done_tail = job;
  uv_mutex_unlock(&pool->done_mu);
  uv_async_send(&pool->async); /* coalesced by libuv: one wakeup for many */
}

static void worker_main(void *arg) {
  struct thread_arg *ta = arg;
  struct fx_workers *pool = ta->pool;
  (void)pthread_setname_np(pthread_self(), "fx-worker"); /* for top, perf and the bench */
  void *ctx = pool->cfg.init_thread ? pool->cfg.init_thread(ta->index, pool->cfg.ud) : NULL;
  uv_mutex_lock(&pool->mu);
  for (;;) {
    while (!pool->stopping && !pool->ring) uv_cond_wait(&pool->cv, &pool->mu);
    if (pool->stopping) break;
    struct fx_workers_job *job = queue_pop(pool);
    uv_mutex_unlock(&pool->mu);
    job->work(job, ctx);
    if (!job->pass || !job->pass(job)) finish(pool, job);
    uv_mutex_lock(&pool->mu);
  }
  uv_mutex_unlock(&pool->mu);
  if (pool->cfg.fini_thread) pool->cfg.fini_thread(ctx, pool->cfg.ud);
}

/* Runs on the loop thread: every finished job's done(), in finishing order. */
static void drain_done(struct fx_workers *pool) {
  uv_mutex_lock(&pool->done_mu);
  struct fx_workers_job *job = pool->done_head;
  pool->done_head = pool->done_tail = NULL;
  uv_mutex_unlock(&pool->done_mu);
  while (job) {
    struct fx_workers_job *next = job->next_;
    job->next_ = NULL;
    job->done(job, FX_WORKERS_DONE);
    job = next;
  }
}

static void on_async(uv_async_t *a) { drain_done(a->data); }

static void pool_free(struct fx_workers *pool) {
  uv_mutex_destroy(&pool->mu);
  uv_mutex_destroy(&pool->done_mu);
  uv_cond_destroy(&pool->cv);
  free(pool->threads);
  free(pool->args);
  free(pool);
}

static void on_async_closed(uv_handle_t *h) { pool_free(h->data); }

static void stop_threads(struct fx_workers *pool, unsigned started) {
  uv_mutex_lock(&pool->mu);
  pool->stopping = true;
  uv_cond_broadcast(&pool->cv);
  uv_mutex_unlock(&pool->mu);
  for (unsigned i = 0; i < started; i++) uv_thread_join(&pool->threads[i]);
}

/* Sets up the locks, the thread table and the wakeup; on failure frees pool. */
static int pool_init(struct fx_workers *pool, uv_loop_t *loop) {
  int rc = uv_mutex_init(&pool->mu);
  if (rc) goto fail_mu;
  if ((rc = uv_mutex_init(&pool->done_mu))) goto fail_done_mu;
  if ((rc = uv_cond_init(&pool->cv))) goto fail_cv;
  pool->threads = calloc(pool->nthreads, sizeof *pool->threads);
  pool->args = calloc(pool->nthreads, sizeof *pool->args);
  rc = -ENOMEM;
  if (!pool->threads || !pool->args || (rc = uv_async_init(loop, &pool->async, on_async))) {
    pool_free(pool);
    return rc;
  }
  pool->async.data = pool;
  return 0;
fail_cv:
  uv_mutex_destroy(&pool->done_mu);
fail_done_mu:
  uv_mutex_destroy(&pool->mu);
fail_mu:
  free(pool);
  return rc;
}

int fx_workers_start(struct fx_workers **out, uv_loop_t *loop,
                     const struct fx_workers_config *cfg) {
  *out = NULL;
  if (!cfg->max_queued) return -EINVAL;
  struct fx_workers *pool = calloc(1, sizeof *pool);
  if (!pool) return -ENOMEM;
  pool->loop = loop;
  pool->cfg = *cfg;
  pool->nthreads = cfg->threads ? cfg->threads : uv_available_parallelism();
  int rc = pool_init(pool, loop);
  if (rc) return rc;
  for (unsigned i = 0; i < pool->nthreads; i++) {
    pool->args[i] = (struct thread_arg){pool, i};
    if ((rc = uv_thread_create(&pool->threads[i], worker_main, &pool->args[i]))) {
      stop_threads(pool, i);
      uv_close((uv_handle_t *)&pool->async, on_async_closed);
      return rc;
    }
  }
  *out = pool;
  return 0;
}

int fx_workers_submit(struct fx_workers *pool, struct fx_workers_job *job) {
  if (pool->closed) return -ECANCELED;
  uv_mutex_lock(&pool->mu);
  int rc = queue_push(pool, job);
  if (!rc) uv_cond_signal(&pool->cv);
  uv_mutex_unlock(&pool->mu);
  return rc;
}

unsigned fx_workers_queued(struct fx_workers *pool) {
  uv_mutex_lock(&pool->mu);
  unsigned n = pool->queued;
  uv_mutex_unlock(&pool->mu);
  return n;
}

void fx_workers_close(struct fx_workers *pool) {
  if (pool->closed) return;
  pool->closed = true;
  stop_threads(pool, pool->nthreads);
  /* The threads are gone: what is still queued was never started. */
  struct fx_workers_job *canceled = NULL, **tail = &canceled;
  while (pool->ring) {
    struct fx_workers_job *job = queue_pop(pool);
    *tail = job;
    tail = &job->next_;
  }
  drain_done(pool);
  while (canceled) {
    struct fx_workers_job *next = canceled->next_;
    canceled->next_ = NULL;
    canceled->done(canceled, FX_WORKERS_CANCELED);
    canceled = next;
  }
  uv_close((uv_handle_t *)&pool->async, on_async_closed);
}
