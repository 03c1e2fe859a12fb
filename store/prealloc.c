/* prealloc.c — keeping the data file's blocks allocated ahead of LMDB, on a
 * helper thread.
 *
 * Without MDB_WRITEMAP (rejected: a full disk would become SIGBUS), LMDB
 * grows data.mdb by pwrite()ing pages past its end. On ext4 every commit that
 * does so leaves delayed-allocation blocks and a new file size behind, so its
 * fdatasync must allocate the blocks and also write the inode: one more
 * synchronous I/O per group commit, on the thread every 200 waits for.
 * Writing zeros ahead of use, synced, makes the commits overwrite blocks that
 * are already allocated and written, and their fdatasync then flushes data
 * pages only.
 *
 * Writing and syncing a step of 4–16 MiB takes 4–13 ms on a quiet disk and
 * up to 55 ms on a busy one, far longer than a commit, and every message
 * queued meanwhile waited for it. So it runs on its own thread
 * ("fx-prealloc") while the writer goes on committing. That thread must
 * never write where LMDB may have written.
 * It only ever appends: its descriptor is opened O_APPEND, so each write lands
 * at the end of the file as it is at that instant, and every byte LMDB wrote
 * lies below that end (POSIX: no other modification between positioning and
 * writing). It also holds file_mu, which the writer holds around
 * mdb_txn_commit, for each append of 64 KiB, so that the file's end it checks
 * against the target is still the end when it writes: zeros never go past
 * the map, and a commit waits for at most one such append. (A transaction
 * that spills, commit.c, writes before its commit, outside file_mu: an
 * append may then land after the spilled pages, one piece past its target.)
 *
 * The zeros go in chunks of 1 MiB, each synced before the next is written: a
 * commit's fdatasync flushes every dirty page of the file, so zeros still in
 * the page cache would be written on the commit's time. A commit meets at
 * most one chunk of them in flight.
 *
 * It is an optimisation and never an error: a step that cannot be written
 * (disk full, quota) is truncated away — to no less than LMDB's committed
 * end, under file_mu, and not at all while a write transaction is open, which
 * may have spilled pages into those zeros or past them (commit.c) — and not
 * retried until the store's use passes the point it aimed at; LMDB's own
 * write past the end then reports ENOSPC as before.
 * Zeros are never written past the current map, so a store at its maximum
 * never holds more disk than its map. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

#define MIB ((uint64_t)1 << 20)
/* The step grows with the store; the cost per byte is the same, and a larger
 * step only means fewer wake-ups. A small FlexOffer grows the file by about a
 * page. */
#define STEP_MIN (4 * MIB)
#define STEP_MAX (16 * MIB)
#define PIECE ((size_t)1 << 16)
#define CHUNK ((size_t)1 << 20) /* appended, then synced, at a time */

static const char zeros[PIECE];

/* The step grows with the store (an eighth of what is used), within limits. */
static uint64_t step_for(uint64_t used) {
  uint64_t s = used / 8;
  return s < STEP_MIN ? STEP_MIN : s > STEP_MAX ? STEP_MAX : s;
}

uint64_t fx_store_used_end(struct fx_store *st) {
  MDB_envinfo info;
  if (mdb_env_info(st->env, &info)) return 0;
  return ((uint64_t)info.me_last_pgno + 1) * st->psize;
}

/* ---- the helper's side ------------------------------------------------------ */

static int stopping(struct fx_prealloc *p) {
  pthread_mutex_lock(&p->mu);
  int s = p->stop;
  pthread_mutex_unlock(&p->mu);
  return s;
}

/* Appends one piece of zeros if the file is shorter than `to`, under
 * file_mu, which a commit thus waits for at most one piece's copy into the
 * page cache. *n says how much it appended; returns 0 or an errno. */
static int append_piece(struct fx_store *st, int fd, uint64_t to, size_t *n) {
  struct stat sb;
  int e = 0;
  *n = 0;
  pthread_mutex_lock(&st->file_mu);
  if (fstat(fd, &sb)) {
    e = errno;
  } else if ((uint64_t)sb.st_size < to) {
    uint64_t want = to - (uint64_t)sb.st_size;
    ssize_t w;
    do w = write(fd, zeros, want < PIECE ? (size_t)want : PIECE);
    while (w < 0 && errno == EINTR);
    if (w < 0) e = errno;
    else if (w == 0) e = EIO;
    else *n = (size_t)w;
  }
  pthread_mutex_unlock(&st->file_mu);
  return e;
}

/* Appends up to one chunk of zeros while the file is shorter than `to`.
 * *more says whether it appended anything; returns 0 or an errno. */
static int append_chunk(struct fx_store *st, int fd, uint64_t to, int *more) {
  size_t done = 0, n = 1;
  int e = 0;
  while (!e && n && done < CHUNK) {
    e = append_piece(st, fd, to, &n);
    done += n;
  }
  *more = done > 0;
  return e;
}

/* Gives a failed step's blocks back: the disk's last free space should go to
 * commits, not to zeros. Never below what LMDB has committed, and never while
 * a write transaction is open (committed_end is UINT64_MAX then, commit.c):
 * the zeros stay, where LMDB writes next. */
static void give_back(struct fx_store *st, int fd, uint64_t size0) {
  pthread_mutex_lock(&st->file_mu);
  pthread_mutex_lock(&st->pre.mu); /* the writer marks a transaction open under it */
  uint64_t keep = size0 > st->committed_end ? size0 : st->committed_end;
  struct stat sb;
  int e = !fstat(fd, &sb) && (uint64_t)sb.st_size > keep && ftruncate(fd, (off_t)keep) ? errno : 0;
  pthread_mutex_unlock(&st->pre.mu);
  pthread_mutex_unlock(&st->file_mu);
  if (e) fx_store_logf(st, "giving back the data file's preallocated tail failed: %s", strerror(e));
}

/* One step: zeros until the file is `to` bytes long; 0 or an fx_store error. */
static int step(struct fx_store *st, int fd, uint64_t to) {
  struct stat sb;
  if (fstat(fd, &sb)) return FX_STORE_EIO;
  int e = 0, more = 1;
  while (!e && more && !stopping(&st->pre)) {
    e = append_chunk(st, fd, to, &more);
    if (!e && more && fdatasync(fd)) e = errno;
  }
  if (!e) return 0;
  give_back(st, fd, (uint64_t)sb.st_size);
  fx_store_logf(st, "preallocating the data file to %llu MiB failed: %s",
                (unsigned long long)(to / MIB), strerror(e));
  return e == ENOSPC || e == EDQUOT ? FX_STORE_ENOSPC : FX_STORE_EIO;
}

static void *helper(void *arg) {
  struct fx_store *st = arg;
  struct fx_prealloc *p = &st->pre;
  (void)pthread_setname_np(pthread_self(), "fx-prealloc"); /* for top, perf and the bench */
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->target <= p->file_end) pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) break;
    uint64_t to = p->target;
    p->busy = 1;
    pthread_mutex_unlock(&p->mu);
    int err = step(st, p->fd, to);
    pthread_mutex_lock(&p->mu);
    p->busy = 0;
    p->file_end = to; /* on failure too: no retry before the store gets there */
    if (err) p->err = err;
    pthread_cond_broadcast(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* ---- the writer's side ------------------------------------------------------ */

/* Opens the append descriptor and starts the helper; caller holds p->mu. */
static int start(struct fx_store *st) {
  struct fx_prealloc *p = &st->pre;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/data.mdb", st->path) >= (int)sizeof path) return FX_STORE_EINVAL;
  p->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (p->fd < 0) {
    fx_store_logf(st, "cannot open %s to preallocate it: %s", path, strerror(errno));
    return FX_STORE_EIO;
  }
  if (pthread_create(&p->thread, NULL, helper, st)) {
    fx_store_logf(st, "cannot start the preallocation thread; the data file grows as LMDB writes");
    close(p->fd);
    p->fd = -1;
    return FX_STORE_ENOMEM;
  }
  p->started = 1;
  return 0;
}

int fx_store_prealloc(struct fx_store *st) {
  struct fx_prealloc *p = &st->pre;
  if (st->no_sync) return 0;
  uint64_t used = fx_store_used_end(st), step = step_for(used);
  uint64_t want = used + step < st->map_size ? used + step : st->map_size;
  pthread_mutex_lock(&p->mu);
  int err = p->err;
  p->err = 0;
  /* Cheap test first: most commits stay well inside what is asked for. */
  if (used + step / 2 > p->file_end && want > p->target && want > p->file_end) {
    if (!p->started && !p->stop && start(st)) p->stop = 1; /* never again */
    if (p->started) {
      p->target = want;
      pthread_cond_signal(&p->cv);
    }
  }
  pthread_mutex_unlock(&p->mu);
  return err;
}

int fx_store_prealloc_wait(struct fx_store *st) {
  struct fx_prealloc *p = &st->pre;
  pthread_mutex_lock(&p->mu);
  while (p->started && !p->stop && (p->busy || p->target > p->file_end))
    pthread_cond_wait(&p->cv, &p->mu);
  int err = p->err;
  p->err = 0;
  pthread_mutex_unlock(&p->mu);
  return err;
}

/* ---- life cycle ------------------------------------------------------------- */

int fx_prealloc_init(struct fx_store *st) {
  struct fx_prealloc *p = &st->pre;
  p->fd = -1;
  if (pthread_mutex_init(&st->file_mu, NULL)) return FX_STORE_ENOMEM;
  if (pthread_mutex_init(&p->mu, NULL)) goto no_mu;
  if (pthread_cond_init(&p->cv, NULL)) goto no_cv;
  return 0;
no_cv:
  pthread_mutex_destroy(&p->mu);
no_mu:
  pthread_mutex_destroy(&st->file_mu);
  return FX_STORE_ENOMEM;
}

void fx_prealloc_fini(struct fx_store *st) {
  struct fx_prealloc *p = &st->pre;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (p->started) pthread_join(p->thread, NULL);
  if (p->fd >= 0) close(p->fd);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&st->file_mu);
}
