/* prealloc.c — keeping the data file's blocks allocated ahead of LMDB.
 *
 * Without MDB_WRITEMAP (rejected: a full disk would become SIGBUS), LMDB
 * grows data.mdb by pwrite()ing pages past its end. On ext4 every commit that
 * does so leaves delayed-allocation blocks and a new file size behind, so its
 * fdatasync must allocate the blocks and also write the inode: one more
 * synchronous I/O per group commit, on the thread every 200 waits for.
 * Writing zeros ahead of use, in large steps and synced once per step, makes
 * the commits overwrite blocks that are already allocated and written, and
 * their fdatasync then flushes data pages only.
 *
 * It is an optimisation and never an error: a step that cannot be written
 * (disk full, quota) is truncated away and not retried until the store's use
 * passes the point it aimed at; LMDB's own write past the end then reports
 * ENOSPC as before.
 * Zeros are never written past the current map, so a store at its maximum
 * never holds more disk than its map. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

#define MIB ((uint64_t)1 << 20)
/* A step stalls the writer while its zeros are written and synced (4 MiB:
 * ~4 ms on the development VM, 16 MiB: ~13 ms), so steps stay small: the
 * cost per byte is the same, and a commit waits at most one short step. A
 * small FlexOffer grows the file by about a page. */
#define STEP_MIN (4 * MIB)
#define STEP_MAX (16 * MIB)
#define CHUNK ((size_t)1 << 16)

static const char zeros[CHUNK];

/* The step grows with the store (an eighth of what is used), within limits. */
static uint64_t step_for(uint64_t used) {
  uint64_t s = used / 8;
  return s < STEP_MIN ? STEP_MIN : s > STEP_MAX ? STEP_MAX : s;
}

/* Writes zeros over [from, to) and syncs them; 0 or an errno. */
static int write_zeros(int fd, uint64_t from, uint64_t to) {
  while (from < to) {
    size_t n = to - from < CHUNK ? (size_t)(to - from) : CHUNK;
    ssize_t w = pwrite(fd, zeros, n, (off_t)from);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    from += (uint64_t)w;
  }
  return fdatasync(fd) ? errno : 0;
}

int fx_store_prealloc(struct fx_store *st) {
  if (st->no_sync) return 0;
  MDB_envinfo info;
  if (mdb_env_info(st->env, &info)) return FX_STORE_EIO;
  uint64_t used = ((uint64_t)info.me_last_pgno + 1) * st->psize;
  uint64_t step = step_for(used);
  /* Cheap test first: most commits stay well inside what is written. */
  if (used + step / 2 <= st->file_end) return 0;
  mdb_filehandle_t fd;
  struct stat sb;
  if (mdb_env_get_fd(st->env, &fd) || fstat(fd, &sb)) return FX_STORE_EIO;
  uint64_t size = (uint64_t)sb.st_size, want = used + step;
  if (want > st->map_size) want = st->map_size;
  if (size >= want || used + step / 2 <= size) {
    st->file_end = size > st->file_end ? size : st->file_end;
    return 0;
  }
  int e = write_zeros(fd, size, want);
  st->file_end = want; /* on failure too: no retry before the store gets there */
  if (!e) return 0;
  /* Give a partial step's blocks back: LMDB has used nothing past `size`, and
   * the disk's last free space should go to commits, not to zeros. */
  if (ftruncate(fd, (off_t)size)) e = errno;
  fx_store_logf(st, "preallocating the data file to %llu MiB failed: %s",
                (unsigned long long)(want / MIB), strerror(e));
  return e == ENOSPC || e == EDQUOT ? FX_STORE_ENOSPC : FX_STORE_EIO;
}
