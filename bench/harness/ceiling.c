/* ceiling.c — times crypto_sign_open + crypto_sign at the sizes the workload uses.
 *
 * Ed25519's cost depends on the length only (SHA-512 over the message plus fixed
 * curve work), so random bytes of the right sizes stand for real messages. The
 * operations are timed in batches with the thread's CPU clock, which excludes time
 * the scheduler gives to other processes; the median batch discards the batches a
 * preemption or a frequency change still disturbed. */
#include "bench/harness/ceiling.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/cpu.h"

#define BATCH 16u

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct bufs {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  unsigned char *sealed, *opened, *resp, *resp_sealed;
  unsigned long long sealed_len;
  double *open_t, *sign_t;
};

static void bufs_free(struct bufs *b) {
  free(b->sealed);
  free(b->opened);
  free(b->resp);
  free(b->resp_sealed);
  free(b->open_t);
  free(b->sign_t);
}

static int bufs_init(struct bufs *b, const struct fx_ceiling_cfg *c, size_t batches) {
  memset(b, 0, sizeof *b);
  size_t in = c->inbound_len, out = c->response_len;
  b->sealed = malloc(in + crypto_sign_BYTES);
  b->opened = malloc(in + 1);
  b->resp = malloc(out + 1);
  b->resp_sealed = malloc(out + crypto_sign_BYTES);
  b->open_t = calloc(batches, sizeof(double));
  b->sign_t = calloc(batches, sizeof(double));
  if (!b->sealed || !b->opened || !b->resp || !b->resp_sealed || !b->open_t || !b->sign_t)
    return -1;
  unsigned char *msg = b->opened; /* reused as the plaintext before the first open */
  randombytes_buf(msg, in);
  randombytes_buf(b->resp, out);
  crypto_sign_keypair(b->pk, b->sk);
  return crypto_sign(b->sealed, &b->sealed_len, msg, in, b->sk);
}

/* One batch; adds its per-operation times to slot `i`. */
static int run_batch(struct bufs *b, const struct fx_ceiling_cfg *c, size_t i) {
  unsigned long long len;
  uint64_t t0 = fx_cpu_thread_ns();
  for (unsigned k = 0; k < BATCH; k++)
    if (crypto_sign_open(b->opened, &len, b->sealed, b->sealed_len, b->pk) != 0) return -1;
  uint64_t t1 = fx_cpu_thread_ns();
  for (unsigned k = 0; k < BATCH; k++)
    crypto_sign(b->resp_sealed, &len, b->resp, c->response_len, b->sk);
  uint64_t t2 = fx_cpu_thread_ns();
  b->open_t[i] = (double)(t1 - t0) / BATCH;
  b->sign_t[i] = (double)(t2 - t1) / BATCH;
  return 0;
}

int fx_ceiling_measure(const struct fx_ceiling_cfg *cfg, struct fx_ceiling *out) {
  struct fx_ceiling_cfg c = *cfg;
  if (c.min_iterations == 0) c.min_iterations = 200;
  if (c.min_cpu_ns == 0) c.min_cpu_ns = 300000000;
  if (c.max_iterations == 0) c.max_iterations = 100000;
  if (c.max_iterations < c.min_iterations) c.max_iterations = c.min_iterations;
  if (sodium_init() < 0) return -1;
  size_t max_batches = (c.max_iterations + BATCH - 1) / BATCH;
  struct bufs b;
  int rc = bufs_init(&b, &c, max_batches);
  size_t n = 0;
  uint64_t start = fx_cpu_thread_ns();
  while (rc == 0 && n < max_batches) {
    rc = run_batch(&b, &c, n++);
    if (n * BATCH >= c.min_iterations && fx_cpu_thread_ns() - start >= c.min_cpu_ns) break;
  }
  if (rc == 0) {
    out->inbound_len = c.inbound_len;
    out->response_len = c.response_len;
    out->iterations = (unsigned)(n * BATCH);
    out->open_ns = median(b.open_t, n);
    out->sign_ns = median(b.sign_t, n);
    out->pair_ns = out->open_ns + out->sign_ns;
    out->pairs_per_core_s = out->pair_ns > 0 ? 1e9 / out->pair_ns : 0;
  }
  bufs_free(&b);
  return rc == 0 ? 0 : -1;
}

/* ---- every core at once ---------------------------------------------------------------- */

#define BUSY_MAX 64u

/* The threads wait at the gate until all are created, so their measurements
 * overlap; if one cannot be created the others are let through to do nothing. */
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open, abort;
};

struct busy {
  const struct fx_ceiling_cfg *cfg;
  struct gate *gate;
  struct fx_ceiling result;
  int rc;
};

static void *busy_thread(void *arg) {
  struct busy *b = arg;
  pthread_mutex_lock(&b->gate->mu);
  while (!b->gate->open) pthread_cond_wait(&b->gate->cv, &b->gate->mu);
  int abort = b->gate->abort;
  pthread_mutex_unlock(&b->gate->mu);
  b->rc = abort ? -1 : fx_ceiling_measure(b->cfg, &b->result);
  return NULL;
}

static void gate_open(struct gate *g, int abort) {
  pthread_mutex_lock(&g->mu);
  g->open = 1, g->abort = abort;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

int fx_ceiling_measure_busy(const struct fx_ceiling_cfg *cfg, unsigned threads, struct fx_ceiling *out) {
  if (threads == 0 || threads > BUSY_MAX) return -1;
  struct busy b[BUSY_MAX];
  pthread_t th[BUSY_MAX];
  struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  unsigned started = 0;
  for (; started < threads; started++) {
    b[started] = (struct busy){.cfg = cfg, .gate = &g, .rc = -1};
    if (pthread_create(&th[started], NULL, busy_thread, &b[started]) != 0) break;
  }
  gate_open(&g, started < threads);
  int rc = started < threads ? -1 : 0;
  double sum = 0;
  for (unsigned i = 0; i < started; i++) {
    pthread_join(th[i], NULL);
    if (b[i].rc != 0) rc = -1;
    sum += b[i].result.pair_ns;
  }
  if (rc == 0) {
    out->busy_pair_ns = sum / threads;
    out->busy_threads = threads;
  }
  return rc;
}
