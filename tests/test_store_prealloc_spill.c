/* test_store_prealloc_spill.c — the preallocation helper against a write
 * transaction that spills.
 *
 * LMDB writes data.mdb before the commit when a transaction spills dirty
 * pages (mdb_page_spill: a put that may need half of the 2^17-page dirty list
 * left spills first; one record of 256 MiB does), at their place in the map,
 * past the committed end and past the file's end, and does not write them
 * again at the commit. A preallocation step that fails gives its zeros back
 * (ftruncate); if it did so down to a size it saw before the spill, the
 * spilled pages would be cut away. store/commit.c forbids any give-back while
 * a transaction is open.
 *
 * The interleaving is forced, with no sleep: the file size limit
 * (RLIMIT_FSIZE) set at the file's end makes the helper's first append of a
 * step fail, and its SIGXFSZ (sent to the thread that wrote) holds the helper
 * in a signal handler, after it noted the file's size and before it gives
 * back. The limit lifted, a writer thread commits a batch whose last but one
 * record is 256 MiB, read from memory mapped PROT_NONE: LMDB spills for it,
 * then the copy into the reserved space faults and a SIGSEGV handler holds
 * the writer inside its transaction. The helper, let go, fails its step
 * (logged); the spilled pages must still be in the file. The writer, let go,
 * commits, and after a reopen every record of its transaction reads back
 * (before the fix, all 64 messages were "store corrupt": the pages that held
 * them had become a hole). Real LMDB files on /tmp; it writes 257 MiB. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define MIB ((size_t)1 << 20)

/* LMDB 0.9.24 (Debian's) never frees a top-level transaction's spill list,
 * 1 MiB per transaction that spills (fixed in 0.9.25: ITS#9155). LeakSanitizer
 * reads this hook in this test only. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:mdb_midl_alloc\n"; }
const char *__lsan_default_options(void); /* and its use is not a report */
const char *__lsan_default_options(void) { return "print_suppressions=0"; }
#define BIG (257 * MIB) /* more than half of LMDB's dirty list of 4 KiB pages */

/* ---- the log, written by the helper thread -------------------------------- */

struct logsink {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char text[4096];
  size_t n;
};

static void capture(void *ud, const char *msg) {
  struct logsink *l = ud;
  pthread_mutex_lock(&l->mu);
  int w = snprintf(l->text + l->n, sizeof l->text - l->n, "%s\n", msg);
  if (w > 0 && (size_t)w < sizeof l->text - l->n) l->n += (size_t)w;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

/* Waits (at most 20 s) for a line with `needle`; whether it came. */
static int log_wait(struct logsink *l, const char *needle) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 20;
  pthread_mutex_lock(&l->mu);
  int rc = 0;
  while (!strstr(l->text, needle) && rc == 0) rc = pthread_cond_timedwait(&l->cv, &l->mu, &until);
  int found = strstr(l->text, needle) != NULL;
  pthread_mutex_unlock(&l->mu);
  return found;
}

/* ---- holding a thread in a signal handler --------------------------------- */

/* A thread in the handler says so on `held` and waits for a byte on `go`
 * (both async-signal-safe). */
struct hold {
  int held[2], go[2];
};

static struct hold helper_hold, writer_hold;
static uint8_t *body; /* BIG bytes, PROT_NONE until the writer may read them */

static void wait_in_handler(struct hold *h) {
  int saved = errno;
  char c = 1;
  ssize_t r = write(h->held[1], &c, 1);
  while (r == 1 && (r = read(h->go[0], &c, 1)) < 0 && errno == EINTR) r = 1;
  errno = saved;
}

static void on_xfsz(int sig) {
  (void)sig;
  wait_in_handler(&helper_hold);
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if ((uint8_t *)si->si_addr < body || (uint8_t *)si->si_addr >= body + BIG) {
    signal(sig, SIG_DFL); /* a real fault: it happens again, and kills */
    return;
  }
  wait_in_handler(&writer_hold);
}

static void hold_init(struct hold *h) {
  cr_assert_eq(pipe(h->held), 0);
  cr_assert_eq(pipe(h->go), 0);
}

static void hold_free(struct hold *h) {
  for (int i = 0; i < 2; i++) close(h->held[i]), close(h->go[i]);
}

/* Waits (at most 20 s) until a thread is held. */
static void until_held(struct hold *h) {
  struct pollfd pfd = {.fd = h->held[0], .events = POLLIN};
  int n;
  do n = poll(&pfd, 1, 20000);
  while (n < 0 && errno == EINTR);
  cr_assert_eq(n, 1, "the thread was not held within 20 s");
  char c;
  cr_assert_eq(read(h->held[0], &c, 1), 1);
}

static void let_go(struct hold *h) {
  char c = 1;
  cr_assert_eq(write(h->go[1], &c, 1), 1);
}

/* ---- the store ------------------------------------------------------------- */

static char dir[64];

static void setup(void) {
  strcpy(dir, "/tmp/fxspill-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
  char p[128];
  snprintf(p, sizeof p, "%s/data.mdb", dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", dir);
  unlink(p);
  rmdir(dir);
}

TestSuite(store_prealloc_spill, .init = setup, .fini = teardown, .timeout = 120);

static off_t file_size(void) {
  char p[128];
  struct stat sb;
  snprintf(p, sizeof p, "%s/data.mdb", dir);
  cr_assert_eq(stat(p, &sb), 0, "%s", strerror(errno));
  return sb.st_size;
}

static void mkid(uint8_t id[16], uint64_t a, uint64_t b) {
  memcpy(id, &a, 8);
  memcpy(id + 8, &b, 8);
}

/* Adds `count` messages of 2000 bytes with ids (tag, 0..count-1) to b. */
static void add_msgs(struct fx_store_batch *b, uint8_t (*ids)[16], uint64_t tag, int count) {
  static const uint8_t dg[32];
  static char raw[2000];
  memset(raw, 'x', sizeof raw);
  for (int i = 0; i < count; i++) {
    mkid(ids[i], tag, (uint64_t)i);
    struct fx_store_msg m = {.domain = "agr.example.com", .msgid = ids[i], .digest = dg, .raw = raw,
                             .raw_len = sizeof raw};
    cr_assert_eq(fx_store_batch_put_msg(b, &m, NULL), 0);
  }
}

static struct fx_store_obj object(uint8_t n, const void *b, size_t len) {
  struct fx_store_obj o = {.key = {.cp = "ean.1", .period = 20000, .kind = FX_OBJ_PROGNOSIS},
                           .state = FX_STATE_NONE, .owner = "agr.example.com", .body = b, .body_len = len};
  o.key.id[0] = n;
  return o;
}

struct writer {
  struct fx_store *st;
  uint8_t ids[64][16];
  int rc;
};

/* 64 messages (new pages, at the end of the map), then the big record. */
static void *writer(void *arg) {
  struct writer *w = arg;
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  add_msgs(&b, w->ids, 2, 64);
  struct fx_store_obj big = object(2, body, BIG);
  w->rc = fx_store_batch_put_obj(&b, &big) ? -1 : fx_store_commit(w->st, &b);
  fx_store_batch_free(&b);
  return NULL;
}

/* ==== the test ============================================================== */

Test(store_prealloc_spill, a_failed_step_gives_back_nothing_an_open_transaction_spilled) {
  static struct logsink log = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0};
  struct fx_store *st;
  struct fx_store_opts o = {.path = dir, .map_size = 1024 * MIB, .map_max = 1024 * MIB, .log = capture,
                            .log_ud = &log};
  cr_assert_eq(fx_store_open(&st, &o), 0);
  /* Object 1, and a file that ends at LMDB's last page (no step yet). */
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct fx_store_obj one = object(1, "x", 1);
  cr_assert_eq(fx_store_batch_put_obj(&b, &one), 0);
  cr_assert_eq(fx_store_commit(st, &b), 0);
  fx_store_batch_free(&b);
  off_t before = file_size();

  hold_init(&helper_hold);
  hold_init(&writer_hold);
  body = mmap(NULL, BIG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  cr_assert_neq(body, MAP_FAILED);
  struct sigaction xfsz = {.sa_handler = on_xfsz}, segv = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
  cr_assert_eq(sigaction(SIGXFSZ, &xfsz, NULL), 0);
  cr_assert_eq(sigaction(SIGSEGV, &segv, NULL), 0);

  /* The helper's step: its first append meets the limit and is held. */
  struct rlimit lim, at_end;
  cr_assert_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
  at_end = (struct rlimit){(rlim_t)before, lim.rlim_max};
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &at_end), 0);
  cr_assert_eq(fx_store_prealloc(st), 0);
  until_held(&helper_hold);
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

  /* The writer's transaction spills, and is held before it ends. */
  static struct writer w;
  w.st = st;
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, writer, &w), 0);
  until_held(&writer_hold);
  off_t spilled = file_size();
  cr_assert_gt(spilled, before, "the transaction spilled pages past the file's end (%lld, was %lld)",
               (long long)spilled, (long long)before);

  let_go(&helper_hold);
  cr_assert(log_wait(&log, "preallocating the data file"), "the step failed: %s", log.text);
  cr_assert_geq(file_size(), spilled, "the failed step cut pages the open transaction had spilled");

  cr_assert_eq(mprotect(body, BIG, PROT_READ), 0);
  let_go(&writer_hold);
  cr_assert_eq(pthread_join(t, NULL), 0);
  cr_assert_eq(w.rc, 0, "%s", fx_store_strerror(w.rc));

  signal(SIGSEGV, SIG_DFL);
  signal(SIGXFSZ, SIG_DFL);
  munmap(body, BIG);
  hold_free(&helper_hold);
  hold_free(&writer_hold);

  /* Every record of the transaction, read back after a reopen. */
  fx_store_close(st);
  cr_assert_eq(fx_store_open(&st, &o), 0);
  struct fx_store_read rd;
  struct fx_store_msg_view v;
  struct fx_store_obj_view ov;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  for (int i = 0; i < 64; i++) {
    int rc = fx_store_msg_get(&rd, "agr.example.com", w.ids[i], &v);
    cr_assert_eq(rc, 0, "message %d: %s", i, fx_store_strerror(rc));
  }
  struct fx_store_obj big = object(2, NULL, 0);
  cr_assert_eq(fx_store_obj_get(&rd, &big.key, &ov), 0);
  size_t len = 0;
  fx_store_obj_body(&ov, &len);
  cr_assert_eq(len, BIG);
  fx_store_read_free(&rd);
  fx_store_close(st);
}
