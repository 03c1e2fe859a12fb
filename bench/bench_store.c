/* bench_store.c — what the durable store costs, measured in one run.
 *
 *   bench_store [N] [DIR]     N journaled messages for the reopen+scan figure
 *                             (default 100000); DIR for the stores (default a
 *                             fresh directory under /tmp, removed afterwards)
 *
 * Reports durable group commits (commits/s, messages/s) for batches of 1, 10,
 * 100 and 1000 messages of 2 KB with random MessageIDs; the same without sync
 * (benchmark mode); in-place reads/s; the time to reopen a store of N
 * messages and scan its journal; and, as the yardstick, one crypto_sign_open
 * of a 2 KB message. The store must cost well under that per message. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define MSG_SIZE 2048
#define POOL 64
#define PHASE_SECONDS 1.0

struct bench {
  char root[256];
  uint8_t raw[POOL][MSG_SIZE];
  uint8_t digest[32];
  char domains[16][32];
  uint64_t rng;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t next_rand(struct bench *b) { /* xorshift64*: ids need no crypto */
  b->rng ^= b->rng >> 12;
  b->rng ^= b->rng << 25;
  b->rng ^= b->rng >> 27;
  return b->rng * 2685821657736338717ull;
}

static void quiet(void *ud, const char *msg) { (void)ud; (void)msg; }

static void rm_store(const char *d) {
  char p[600]; /* d is at most 511 bytes */
  snprintf(p, sizeof p, "%s/data.mdb", d);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", d);
  unlink(p);
  rmdir(d);
}

static struct fx_store *open_store(const char *dir, int no_sync) {
  struct fx_store *st;
  struct fx_store_opts o = {.path = dir, .no_sync = no_sync, .log = quiet};
  int rc = fx_store_open(&st, &o);
  if (rc) {
    fprintf(stderr, "bench_store: open %s: %s\n", dir, fx_store_strerror(rc));
    exit(1);
  }
  return st;
}

/* Commits one batch of n random-id messages; ids[] receives the ids. */
static void commit_msgs(struct bench *b, struct fx_store *st, struct fx_store_batch *batch,
                        uint8_t (*ids)[16], size_t n) {
  fx_store_batch_reset(batch);
  for (size_t i = 0; i < n; i++) {
    uint64_t r1 = next_rand(b), r2 = next_rand(b);
    memcpy(ids[i], &r1, 8);
    memcpy(ids[i] + 8, &r2, 8);
    struct fx_store_msg m = {.domain = b->domains[r1 % 16], .msgid = ids[i],
                             .digest = b->digest, .type = 1, .recv_us = (int64_t)i,
                             .raw = b->raw[r2 % POOL], .raw_len = MSG_SIZE};
    fx_store_batch_put_msg(batch, &m, NULL);
  }
  int rc = fx_store_commit(st, batch);
  if (rc) {
    fprintf(stderr, "bench_store: commit: %s\n", fx_store_strerror(rc));
    exit(1);
  }
}

/* Group commits of `size` for PHASE_SECONDS; returns µs per message. */
static double commit_phase(struct bench *b, int no_sync, size_t size) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/commit-%d-%zu", b->root, no_sync, size);
  struct fx_store *st = open_store(dir, no_sync);
  struct fx_store_batch batch;
  uint8_t (*ids)[16] = malloc(size * 16);
  fx_store_batch_init(&batch);
  size_t commits = 0;
  double t0 = now_s(), t;
  do {
    commit_msgs(b, st, &batch, ids, size);
    commits++;
  } while ((t = now_s() - t0) < PHASE_SECONDS || commits < 3);
  printf("  %-8s batch %4zu: %8.0f commits/s %9.0f msgs/s %8.1f us/msg\n",
         no_sync ? "no-sync" : "durable", size, commits / t, commits * size / t,
         t * 1e6 / (double)(commits * size));
  fx_store_batch_free(&batch);
  free(ids);
  fx_store_close(st);
  rm_store(dir);
  return t * 1e6 / (double)(commits * size);
}

/* Fills dir with n messages (no-sync, batches of 1000); keeps `keep` ids. */
static void fill(struct bench *b, const char *dir, size_t n, uint8_t (*keep)[16], size_t nkeep) {
  struct fx_store *st = open_store(dir, 1);
  struct fx_store_batch batch;
  uint8_t (*ids)[16] = malloc(1000 * 16);
  fx_store_batch_init(&batch);
  for (size_t done = 0; done < n; done += 1000) {
    size_t k = n - done < 1000 ? n - done : 1000;
    commit_msgs(b, st, &batch, ids, k);
    for (size_t i = 0; i < k && done + i < nkeep; i++) memcpy(keep[done + i], ids[i], 16);
  }
  fx_store_batch_free(&batch);
  free(ids);
  fx_store_close(st);
}

/* Random in-place lookups by (domain, MessageID) among the kept ids. */
static void read_phase(const char *dir, uint8_t (*ids)[16], char (*doms)[32], size_t n,
                       size_t total) {
  struct fx_store *st = open_store(dir, 1);
  struct fx_store_read rd;
  struct fx_store_msg_view v;
  uint64_t sum = 0, reads = 0;
  fx_store_read_init(&rd, st);
  fx_store_read_begin(&rd);
  double t0 = now_s(), t;
  do {
    for (int i = 0; i < 10000; i++, reads++) {
      size_t k = (reads * 7919) % n;
      uint64_t r1;
      memcpy(&r1, ids[k], 8);
      if (fx_store_msg_get(&rd, doms[r1 % 16], ids[k], &v)) {
        fprintf(stderr, "bench_store: lookup failed\n");
        exit(1);
      }
      sum += fx_store_msg_seq(&v) + fx_store_msg_digest(&v)[0];
    }
  } while ((t = now_s() - t0) < PHASE_SECONDS);
  fx_store_read_free(&rd);
  fx_store_close(st);
  printf("  in-place reads (random keys among %zu, %zu-message store): %.0f reads/s, "
         "%.2f us/read (checksum %lu)\n", n, total, reads / t, t * 1e6 / (double)reads, (unsigned long)(sum & 0xff));
}

/* Reopen + journal scan in seq order, touching the fields a replay reads. */
static void scan_phase(const char *dir, size_t n) {
  double t0 = now_s();
  struct fx_store *st = open_store(dir, 0);
  double t_open = now_s() - t0;
  struct fx_store_read rd;
  struct fx_store_iter it;
  struct fx_store_msg_view v;
  uint64_t count = 0, sum = 0;
  size_t len;
  fx_store_read_init(&rd, st);
  fx_store_read_begin(&rd);
  fx_store_journal_iter(&rd, 1, &it);
  while (fx_store_journal_next(&it, &v) == 1) {
    sum += fx_store_msg_seq(&v) + fx_store_msg_raw(&v, &len)[0] + len;
    count++;
  }
  fx_store_iter_close(&it);
  fx_store_read_free(&rd);
  fx_store_close(st);
  double t = now_s() - t0;
  printf("  reopen + journal scan of %lu messages: %.3f s (open %.1f ms, %.0f msgs/s, "
         "page cache warm; checksum %lu)\n", (unsigned long)count, t, t_open * 1e3,
         count / t, (unsigned long)(sum & 0xff));
  if (count != n) fprintf(stderr, "bench_store: scanned %lu of %zu\n", (unsigned long)count, n);
}

static double verify_phase(const struct bench *b) {
  uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  static uint8_t sm[MSG_SIZE + crypto_sign_BYTES], m[MSG_SIZE + crypto_sign_BYTES];
  unsigned long long smlen, mlen;
  crypto_sign_keypair(pk, sk);
  crypto_sign(sm, &smlen, b->raw[0], MSG_SIZE, sk);
  int n = 0;
  double t0 = now_s(), t;
  do {
    for (int i = 0; i < 100; i++, n++)
      if (crypto_sign_open(m, &mlen, sm, smlen, pk)) {
        fprintf(stderr, "bench_store: verification failed\n");
        exit(1);
      }
  } while ((t = now_s() - t0) < PHASE_SECONDS);
  printf("  crypto_sign_open of %d bytes: %.1f us\n", MSG_SIZE, t * 1e6 / n);
  return t * 1e6 / n;
}

static void setup(struct bench *b, const char *root) {
  if (root) {
    snprintf(b->root, sizeof b->root, "%s", root);
  } else {
    snprintf(b->root, sizeof b->root, "/tmp/fxbench-XXXXXX");
    if (!mkdtemp(b->root)) {
      perror("bench_store: mkdtemp");
      exit(1);
    }
  }
  randombytes_buf(b->raw, sizeof b->raw);
  randombytes_buf(b->digest, sizeof b->digest);
  for (int i = 0; i < 16; i++) snprintf(b->domains[i], 32, "agr%d.example.com", i);
  b->rng = 0x9e3779b97f4a7c15ull;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
  static struct bench b;
  if (sodium_init() < 0 || n < 1000) {
    fprintf(stderr, "usage: bench_store [N >= 1000] [DIR]\n");
    return 2;
  }
  setup(&b, argc > 2 ? argv[2] : NULL);
  static const size_t sizes[] = {1, 10, 100, 1000};
  double per100 = 0;
  printf("bench_store: %d-byte messages, random MessageIDs, stores under %s\n", MSG_SIZE, b.root);
  for (int no_sync = 0; no_sync < 2; no_sync++)
    for (int i = 0; i < 4; i++) {
      double us = commit_phase(&b, no_sync, sizes[i]);
      if (!no_sync && sizes[i] == 100) per100 = us;
    }
  char dir[512];
  size_t nkeep = n < 100000 ? n : 100000;
  uint8_t (*keep)[16] = malloc(nkeep * 16);
  snprintf(dir, sizeof dir, "%s/journal", b.root);
  double t0 = now_s();
  fill(&b, dir, n, keep, nkeep);
  printf("  filled %zu messages (no-sync, batches of 1000) in %.1f s\n", n, now_s() - t0);
  read_phase(dir, keep, b.domains, nkeep, n);
  scan_phase(dir, n);
  free(keep);
  rm_store(dir);
  double verify = verify_phase(&b);
  printf("store cost per message, durable batches of 100: %.1f us = %.0f%% of one Ed25519 "
         "verification (%.1f us)\n", per100, 100 * per100 / verify, verify);
  if (argc <= 2) rmdir(b.root);
  return 0;
}
