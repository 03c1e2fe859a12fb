/* clear_runner.c — the clearing thread (engine/clear_runner.h).
 *
 * A mutex-protected FIFO and one pthread. The thread holds no lock while it
 * solves; done() runs without the lock too, so it may submit to the runner
 * or to the sequencer. A job whose solve ends after stop was asked for is not
 * reported as solved: its result is freed and it is dropped with the queued
 * ones. A solve that ended just before the stop may still be in done() while
 * fx_clear_runner_stop waits for the thread: that result is reported as
 * usual (the caller's sequencer still runs then, so it is committed or
 * handed back like any command). */
#include "engine/clear_runner.h"

#include <glpk.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct fx_clear_runner {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  struct fx_clear_job *head, *tail; /* queued */
  struct fx_clear_job *dropped;     /* solved after stop was asked */
  unsigned pending;                 /* queued + being solved */
  unsigned solved;                  /* solved and reported by done() */
  bool stopping, joined;
  bool held;                        /* fx_clear_runner_hold (tests) */
  unsigned passes;                  /* jobs a held runner may still take */
  unsigned fails;                   /* fx_clear_runner_fail (tests): solves still to fail */
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* fail: a test asked for this solve to fail as the LP library may. */
static void solve(struct fx_clear_job *job, bool fail) {
  int64_t t0 = mono_us();
  job->rc = fail ? FX_CLEAR_ESOLVER : fx_clear_solve(job->market, &job->params, &job->result);
  int64_t t1 = mono_us();
  job->solve_us = t1 - t0;
  job->elapsed_us = t1 - job->submit_us;
  /* GLPK keeps a per-thread environment; the solver holds no GLPK object
   * between calls, so it is released after every market. */
  glp_free_env();
}

static void *run(void *arg) {
  struct fx_clear_runner *r = arg;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while ((!r->head || (r->held && !r->passes)) && !r->stopping)
      pthread_cond_wait(&r->cv, &r->mu);
    if (r->stopping)
      break;
    if (r->held)
      r->passes--;
    bool fail = r->fails > 0;
    if (fail)
      r->fails--;
    struct fx_clear_job *job = r->head;
    r->head = job->next;
    if (!r->head)
      r->tail = NULL;
    pthread_mutex_unlock(&r->mu);
    solve(job, fail);
    pthread_mutex_lock(&r->mu);
    if (r->stopping) {
      if (job->rc == 0)
        fx_clear_result_free(&job->result);
      job->next = r->dropped;
      r->dropped = job;
      break;
    }
    pthread_mutex_unlock(&r->mu);
    job->done(job, false);
    pthread_mutex_lock(&r->mu);
    r->pending--;
    r->solved++;
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int fx_clear_runner_start(struct fx_clear_runner **out) {
  struct fx_clear_runner *r = calloc(1, sizeof *r);
  if (!r)
    return -1;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (pthread_create(&r->thread, NULL, run, r) != 0) {
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
    return -1;
  }
  *out = r;
  return 0;
}

bool fx_clear_runner_submit(struct fx_clear_runner *r, struct fx_clear_job *job) {
  job->next = NULL;
  job->submit_us = mono_us();
  pthread_mutex_lock(&r->mu);
  bool ok = !r->stopping;
  if (ok) {
    if (r->tail)
      r->tail->next = job;
    else
      r->head = job;
    r->tail = job;
    r->pending++;
    pthread_cond_signal(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return ok;
}

unsigned fx_clear_runner_pending(struct fx_clear_runner *r) {
  pthread_mutex_lock(&r->mu);
  unsigned n = r->pending;
  pthread_mutex_unlock(&r->mu);
  return n;
}

unsigned fx_clear_runner_solved(struct fx_clear_runner *r) {
  pthread_mutex_lock(&r->mu);
  unsigned n = r->solved;
  pthread_mutex_unlock(&r->mu);
  return n;
}

void fx_clear_runner_hold(struct fx_clear_runner *r, bool hold) {
  pthread_mutex_lock(&r->mu);
  r->held = hold;
  r->passes = 0;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

void fx_clear_runner_pass(struct fx_clear_runner *r) {
  pthread_mutex_lock(&r->mu);
  r->passes++;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

void fx_clear_runner_fail(struct fx_clear_runner *r, unsigned n) {
  pthread_mutex_lock(&r->mu);
  r->fails += n;
  pthread_mutex_unlock(&r->mu);
}

void fx_clear_runner_stop(struct fx_clear_runner *r) {
  pthread_mutex_lock(&r->mu);
  bool join = !r->joined;
  r->stopping = r->joined = true;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (!join)
    return;
  pthread_join(r->thread, NULL);
  /* The thread is gone: the lists are ours. Solved-late first, then the
   * queue, so dropped jobs are reported in submission order. */
  struct fx_clear_job *late = r->dropped, *queued = r->head;
  r->dropped = r->head = r->tail = NULL;
  r->pending = 0;
  for (struct fx_clear_job *j = late, *t; j; j = t) {
    t = j->next;
    j->done(j, true);
  }
  for (struct fx_clear_job *j = queued, *t; j; j = t) {
    t = j->next;
    j->done(j, true);
  }
}

void fx_clear_runner_free(struct fx_clear_runner *r) {
  if (!r)
    return;
  fx_clear_runner_stop(r);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  free(r);
}
