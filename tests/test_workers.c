/* test_workers.c — the worker pool: threads, completions, bounds, fairness,
 * and the flow key the UFTP endpoint gives a request (fx_registry_flow: client
 * address plus the sender the envelope claims).
 *
 * The test thread runs the libuv loop itself, so "done() runs on the loop
 * thread" is checked against the test's own thread id. A watchdog timer
 * (unreferenced, so it never keeps the loop alive) bounds every run. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "codec/keys.h"
#include "engine/config.h"
#include "engine/registry.h"
#include "engine/workers.h"

struct ctx {
  uv_loop_t loop;
  uv_timer_t watchdog;
  struct fx_workers *pool;
  uv_thread_t loop_thread;
  uv_sem_t gate;        /* blocks jobs marked `gated` until posted */
  atomic_int started;   /* jobs whose work() has begun */
  int expected, completed, canceled;
  int order[2048];      /* completion order: job index */
  atomic_int inits, finis;
  atomic_int passed;    /* jobs a worker handed on through pass() */
};

struct job {
  struct fx_workers_job base;
  struct ctx *ctx;
  int index;
  bool gated;
  atomic_int worked;
  int done_calls;
  bool work_off_loop;
  bool done_on_loop;
};

static void job_work(struct fx_workers_job *j, void *thread_ctx) {
  struct job *job = (struct job *)j;
  uv_thread_t self = uv_thread_self();
  job->work_off_loop = !uv_thread_equal(&self, &job->ctx->loop_thread);
  cr_assert_not_null(thread_ctx, "work() gets its thread's context");
  atomic_fetch_add(&job->ctx->started, 1);
  if (job->gated) uv_sem_wait(&job->ctx->gate);
  atomic_fetch_add(&job->worked, 1);
}

static void job_done(struct fx_workers_job *j, int status) {
  struct job *job = (struct job *)j;
  struct ctx *c = job->ctx;
  uv_thread_t self = uv_thread_self();
  job->done_on_loop = uv_thread_equal(&self, &c->loop_thread);
  job->done_calls++;
  if (status == FX_WORKERS_CANCELED) c->canceled++;
  else c->order[c->completed++] = job->index;
  if (c->completed + c->canceled == c->expected) fx_workers_close(c->pool);
}

static void *thread_init(unsigned index, void *ud) {
  struct ctx *c = ud;
  atomic_fetch_add(&c->inits, 1);
  return &c->order[index]; /* any distinct non-NULL pointer */
}

static void thread_fini(void *tctx, void *ud) {
  (void)tctx;
  atomic_fetch_add(&((struct ctx *)ud)->finis, 1);
}

static void watchdog_fired(uv_timer_t *t) {
  (void)t;
  cr_assert_fail("worker pool test did not finish in 20 s");
}

static void ctx_start(struct ctx *c, unsigned threads, unsigned max_queued, unsigned per_flow) {
  memset(c, 0, sizeof *c);
  cr_assert_eq(uv_loop_init(&c->loop), 0);
  c->loop_thread = uv_thread_self();
  uv_sem_init(&c->gate, 0);
  uv_timer_init(&c->loop, &c->watchdog);
  uv_timer_start(&c->watchdog, watchdog_fired, 20000, 0);
  uv_unref((uv_handle_t *)&c->watchdog);
  struct fx_workers_config cfg = {.threads = threads, .max_queued = max_queued,
                                  .max_per_flow = per_flow, .init_thread = thread_init,
                                  .fini_thread = thread_fini, .ud = c};
  cr_assert_eq(fx_workers_start(&c->pool, &c->loop, &cfg), 0);
}

static void ctx_finish(struct ctx *c) {
  uv_run(&c->loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&c->watchdog, NULL);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&c->loop), 0);
  uv_sem_destroy(&c->gate);
}

static struct job *jobs_new(struct ctx *c, int n) {
  struct job *jobs = calloc((size_t)n, sizeof *jobs);
  cr_assert_not_null(jobs);
  for (int i = 0; i < n; i++) {
    jobs[i].base = (struct fx_workers_job){.work = job_work, .done = job_done};
    jobs[i].ctx = c;
    jobs[i].index = i;
  }
  return jobs;
}

static void wait_started(struct ctx *c, int n) {
  for (int i = 0; i < 2000 && atomic_load(&c->started) < n; i++) uv_sleep(5);
  cr_assert_geq(atomic_load(&c->started), n);
}

Test(workers, every_job_runs_once_off_loop_and_completes_on_loop) {
  struct ctx c;
  ctx_start(&c, 2, 4096, 0);
  enum { N = 2000 };
  struct job *jobs = jobs_new(&c, N);
  c.expected = N;
  for (int i = 0; i < N; i++) {
    jobs[i].base.flow = (uint64_t)(i % 7);
    cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  }
  ctx_finish(&c);
  cr_assert_eq(c.completed, N);
  for (int i = 0; i < N; i++) {
    cr_assert_eq(atomic_load(&jobs[i].worked), 1, "job %d worked once", i);
    cr_assert_eq(jobs[i].done_calls, 1, "job %d done once", i);
    cr_assert(jobs[i].work_off_loop, "job %d ran on a worker", i);
    cr_assert(jobs[i].done_on_loop, "job %d completed on the loop thread", i);
  }
  cr_assert_eq(atomic_load(&c.inits), 2, "one init per thread");
  cr_assert_eq(atomic_load(&c.finis), 2, "one fini per thread");
  free(jobs);
}

Test(workers, full_queue_refuses_submission) {
  struct ctx c;
  ctx_start(&c, 1, 4, 0);
  struct job *jobs = jobs_new(&c, 6);
  jobs[0].gated = true;
  c.expected = 5;
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[0].base), 0);
  wait_started(&c, 1); /* the worker holds job 0: the queue is empty again */
  for (int i = 1; i <= 4; i++) cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  cr_assert_eq(fx_workers_queued(c.pool), 4);
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[5].base), -EAGAIN, "the fifth waiting job");
  uv_sem_post(&c.gate);
  ctx_finish(&c);
  cr_assert_eq(c.completed, 5);
  cr_assert_eq(jobs[5].done_calls, 0, "a refused job is never called back");
  free(jobs);
}

Test(workers, per_flow_bound_leaves_room_for_other_flows) {
  struct ctx c;
  ctx_start(&c, 1, 100, 2);
  struct job *jobs = jobs_new(&c, 5);
  jobs[0].gated = true;
  c.expected = 4;
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[0].base), 0);
  wait_started(&c, 1);
  jobs[1].base.flow = jobs[2].base.flow = jobs[3].base.flow = 1;
  jobs[4].base.flow = 2;
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[1].base), 0);
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[2].base), 0);
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[3].base), -EAGAIN, "flow 1 is at its bound");
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[4].base), 0, "flow 2 is not");
  uv_sem_post(&c.gate);
  ctx_finish(&c);
  cr_assert_eq(c.completed, 4);
  free(jobs);
}

Test(workers, small_flow_is_not_starved_by_a_flood) {
  struct ctx c;
  ctx_start(&c, 1, 2000, 0);
  enum { FLOOD = 1000, SMALL = 10 };
  struct job *jobs = jobs_new(&c, FLOOD + SMALL);
  c.expected = FLOOD + SMALL;
  jobs[0].gated = true; /* holds the only worker until everything is queued */
  for (int i = 0; i < FLOOD; i++) {
    jobs[i].base.flow = fx_workers_flow_key("flooder.example", 15);
    cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  }
  for (int i = FLOOD; i < FLOOD + SMALL; i++) {
    jobs[i].base.flow = fx_workers_flow_key("small.example", 13);
    cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  }
  wait_started(&c, 1);
  uv_sem_post(&c.gate);
  ctx_finish(&c);
  cr_assert_eq(c.completed, FLOOD + SMALL);
  int last_small = -1, small_seen = 0;
  for (int pos = 0; pos < c.completed; pos++)
    if (c.order[pos] >= FLOOD) last_small = pos, small_seen++;
  cr_assert_eq(small_seen, SMALL);
  /* Round-robin: the small flow's 10 jobs alternate with the flood's, so all
   * of them are done within the first ~2×10 completions, not after 1000. */
  cr_assert_lt(last_small, 2 * SMALL + 2, "last small job completed at position %d", last_small);
  /* Within a flow, order is kept. */
  for (int pos = 0, prev = -1; pos < c.completed; pos++) {
    if (c.order[pos] >= FLOOD) continue;
    cr_assert_gt(c.order[pos], prev);
    prev = c.order[pos];
  }
  free(jobs);
}

static void closing_done(struct fx_workers_job *j, int status) {
  struct job *job = (struct job *)j;
  job->done_calls++;
  if (status == FX_WORKERS_CANCELED) job->ctx->canceled++;
  else job->ctx->completed++;
}

Test(workers, close_cancels_queued_jobs_and_calls_each_back_once) {
  struct ctx c;
  ctx_start(&c, 1, 100, 0);
  struct job *jobs = jobs_new(&c, 6);
  for (int i = 0; i < 6; i++) jobs[i].base.done = closing_done;
  jobs[0].gated = true;
  for (int i = 0; i < 6; i++) cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  wait_started(&c, 1);
  /* Release job 0 and close at once: it finishes; most queued ones are canceled. */
  uv_sem_post(&c.gate);
  fx_workers_close(c.pool);
  cr_assert_eq(c.completed + c.canceled, 6, "every job called back before close returns");
  for (int i = 0; i < 6; i++) cr_assert_eq(jobs[i].done_calls, 1, "job %d", i);
  cr_assert_eq(atomic_load(&jobs[0].worked), 1, "the running job finished");
  int worked = 0;
  for (int i = 0; i < 6; i++) worked += atomic_load(&jobs[i].worked);
  cr_assert_eq(worked, c.completed, "canceled jobs never ran");
  cr_assert_eq(fx_workers_submit(c.pool, &jobs[0].base), -ECANCELED);
  ctx_finish(&c);
  free(jobs);
}

/* pass(): odd jobs are handed on by the worker (counted there, never done()),
 * even ones decline and complete on the loop as usual. */
static int pass_odd(struct fx_workers_job *j) {
  struct job *job = (struct job *)j;
  if (!(job->index & 1)) return 0;
  atomic_fetch_add(&job->ctx->passed, 1);
  return 1;
}

static void pass_done(struct fx_workers_job *j, int status) {
  struct job *job = (struct job *)j;
  job->done_calls++;
  if (status == FX_WORKERS_DONE) job->ctx->completed++;
}

Test(workers, pass_hands_jobs_on_without_done) {
  struct ctx c;
  ctx_start(&c, 2, 4096, 0);
  enum { N = 200 };
  struct job *jobs = jobs_new(&c, N);
  for (int i = 0; i < N; i++) {
    jobs[i].base.pass = pass_odd;
    jobs[i].base.done = pass_done;
    cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  }
  /* Bounded: every job has run once all N have been worked. */
  for (int k = 0; k < 2000; k++) {
    int worked = 0;
    for (int i = 0; i < N; i++) worked += atomic_load(&jobs[i].worked);
    if (worked == N && atomic_load(&c.passed) == N / 2) break;
    uv_run(&c.loop, UV_RUN_NOWAIT);
    uv_sleep(5);
  }
  fx_workers_close(c.pool); /* runs every remaining done() before it returns */
  cr_assert_eq(atomic_load(&c.passed), N / 2, "every odd job was passed on");
  cr_assert_eq(c.completed, N / 2, "only the even jobs completed on the loop");
  for (int i = 0; i < N; i++)
    cr_assert_eq(jobs[i].done_calls, (i & 1) ? 0 : 1, "job %d", i);
  ctx_finish(&c);
  free(jobs);
}

/* ---- flow keys per (client address, claimed sender) ------------------------ */

/* A registry of two AGRs, honest.example and flooder.example. */
static struct fx_registry *two_senders(void) {
  struct fx_config cfg;
  fx_config_defaults(&cfg);
  char text[1024], k1[FX_KEYS_CS1_LEN + 1], k2[FX_KEYS_CS1_LEN + 1];
  struct fx_keys_pair kp;
  fx_keys_generate(&kp);
  fx_keys_cs1_format(&kp.pub, k1);
  fx_keys_generate(&kp);
  fx_keys_cs1_format(&kp.pub, k2);
  fx_keys_wipe(&kp);
  snprintf(text, sizeof text,
           "[participant honest.example AGR]\nkey = %s\n[participant flooder.example AGR]\nkey = %s\n", k1, k2);
  char err[256];
  cr_assert_eq(fx_config_parse(&cfg, text, err, sizeof err), 0, "%s", err);
  struct fx_registry *r = fx_registry_new(&cfg, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  fx_config_free(&cfg);
  return r;
}

static uint64_t flow_of(struct fx_registry *r, const char *peer, const char *env) {
  return fx_registry_flow(r, peer, env, strlen(env));
}

#define ENV(domain, body)                                                                                     \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SignedMessage SenderDomain=\"" domain                          \
  "\" SenderRole=\"AGR\" Body=\"" body "\"/>"

Test(workers, flow_key_separates_senders_behind_one_address) {
  struct fx_registry *r = two_senders();
  uint64_t honest = flow_of(r, "10.0.0.1", ENV("honest.example", "AAAA"));
  uint64_t flooder = flow_of(r, "10.0.0.1", ENV("flooder.example", "AAAA"));
  cr_assert_neq(honest, flooder, "two senders behind one proxy: two flows");
  cr_assert_eq(flow_of(r, "10.0.0.1", ENV("honest.example", "BBBBBBBB")), honest, "the body does not matter");
  /* Another spelling of the same start tag: attribute order, quotes, spaces. */
  cr_assert_eq(flow_of(r, "10.0.0.1", "<SignedMessage Body='CCCC'\n  SenderRole = 'AGR' SenderDomain=\"honest.example\"/>"),
               honest);
  fx_registry_unref(r);
}

Test(workers, flow_key_gives_a_forger_elsewhere_its_own_flow) {
  struct fx_registry *r = two_senders();
  uint64_t honest = flow_of(r, "10.0.0.1", ENV("honest.example", "AAAA"));
  uint64_t forged = flow_of(r, "192.0.2.7", ENV("honest.example", "AAAA"));
  cr_assert_neq(forged, honest, "claiming the victim's domain from another address does not join its flow");
  fx_registry_unref(r);
}

Test(workers, flow_key_of_an_unknown_or_unreadable_claim_is_the_address_alone) {
  struct fx_registry *r = two_senders();
  uint64_t addr = fx_workers_flow_key("10.0.0.1", 8);
  cr_assert_eq(flow_of(r, "10.0.0.1", ENV("made-up-1.example", "AAAA")), addr, "made-up domains add no flows");
  cr_assert_eq(flow_of(r, "10.0.0.1", ENV("made-up-2.example", "AAAA")), addr);
  cr_assert_eq(flow_of(r, "10.0.0.1", "not xml at all"), addr);
  cr_assert_eq(flow_of(r, "10.0.0.1", "<SignedMessage SenderDomain=\"honest.example\" SenderRole=\"XYZ\"/>"), addr,
               "no such role");
  cr_assert_eq(flow_of(r, "10.0.0.1", "<SignedMessage Body=\"AAAA\"><X SenderDomain=\"honest.example\" SenderRole=\"AGR\"/>"),
               addr, "attributes of a later element are not the envelope's");
  /* The scan is bounded: a claim after FX_REGISTRY_SCAN bytes is not read. */
  size_t big = FX_REGISTRY_SCAN + 64;
  char *env = malloc(big + 128);
  cr_assert_not_null(env);
  int n = snprintf(env, big + 128, "<SignedMessage Body=\"");
  memset(env + n, 'A', big);
  snprintf(env + n + big, 128, "\" SenderDomain=\"honest.example\" SenderRole=\"AGR\"/>");
  cr_assert_eq(flow_of(r, "10.0.0.1", env), addr);
  free(env);
  fx_registry_unref(r);
}

Test(workers, a_flood_through_a_shared_proxy_does_not_starve_the_sender_beside_it) {
  struct fx_registry *r = two_senders();
  struct ctx c;
  ctx_start(&c, 1, 2000, 0);
  enum { FLOOD = 1000, SMALL = 10 };
  struct job *jobs = jobs_new(&c, FLOOD + SMALL);
  c.expected = FLOOD + SMALL;
  jobs[0].gated = true; /* holds the only worker until everything is queued */
  for (int i = 0; i < FLOOD + SMALL; i++) {
    /* Both through one proxy address, as the endpoint keys them. */
    jobs[i].base.flow = flow_of(r, "10.0.0.1", i < FLOOD ? ENV("flooder.example", "AAAA") : ENV("honest.example", "AAAA"));
    cr_assert_eq(fx_workers_submit(c.pool, &jobs[i].base), 0);
  }
  wait_started(&c, 1);
  uv_sem_post(&c.gate);
  ctx_finish(&c);
  cr_assert_eq(c.completed, FLOOD + SMALL);
  int last_small = -1;
  for (int pos = 0; pos < c.completed; pos++)
    if (c.order[pos] >= FLOOD) last_small = pos;
  /* Keyed by address alone the honest sender's jobs would come after the
   * 1000 flood jobs; keyed by (address, sender) they alternate with them. */
  cr_assert_lt(last_small, 2 * SMALL + 2, "last honest job completed at position %d", last_small);
  free(jobs);
  fx_registry_unref(r);
}
