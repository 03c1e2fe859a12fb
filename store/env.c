/* env.c — opening and closing the store: the LMDB environment, its named
 * databases, the layout version check with its migrations, map growth, and
 * the error and logging conventions the rest of store/ uses.
 *
 * The layout version lives in meta["layout"]. A store written by a newer
 * flexd is refused (its records may mean something this build cannot know);
 * an older one is brought forward, inside one write transaction, by the
 * migrations table below, so a crash mid-migration leaves the old store. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writer preference */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store/store_int.h"

#define MIB ((size_t)1 << 20)
#define DEFAULT_MAP (64 * MIB)
#define DEFAULT_MAX ((size_t)64 << 30)

static const char *const db_names[DB_COUNT] = {
    "meta", "messages", "journal", "objects", "reference", "outbox", "due", "counters"};

const char *fx_store_strerror(int err) {
  switch (err) {
  case FX_STORE_OK: return "ok";
  case FX_STORE_ENOMEM: return "out of memory";
  case FX_STORE_EINVAL: return "invalid argument";
  case FX_STORE_ENOTFOUND: return "not found";
  case FX_STORE_EEXIST: return "already exists";
  case FX_STORE_ESTATE: return "illegal state transition";
  case FX_STORE_EFULL: return "store map at its maximum size";
  case FX_STORE_ENOSPC: return "disk full";
  case FX_STORE_EIO: return "I/O error";
  case FX_STORE_ENEWER: return "store layout newer than this flexd";
  case FX_STORE_ECORRUPT: return "store corrupt";
  case FX_STORE_EBUSY: return "no free reader slot";
  default: return "unknown store error";
  }
}

int fx_store_err(int rc) {
  switch (rc) {
  case 0: return FX_STORE_OK;
  case MDB_MAP_FULL: return FX_STORE_EFULL;
  case ENOSPC: case EDQUOT: return FX_STORE_ENOSPC;
  case ENOMEM: return FX_STORE_ENOMEM;
  case MDB_NOTFOUND: return FX_STORE_ENOTFOUND;
  case MDB_READERS_FULL: return FX_STORE_EBUSY;
  case MDB_BAD_VALSIZE: case EINVAL: return FX_STORE_EINVAL;
  case MDB_CORRUPTED: case MDB_INVALID: case MDB_PAGE_NOTFOUND:
  case MDB_VERSION_MISMATCH: return FX_STORE_ECORRUPT;
  default: return FX_STORE_EIO;
  }
}

static void log_stderr(void *ud, const char *msg) {
  (void)ud;
  fprintf(stderr, "flexd store: %s\n", msg);
}

void fx_store_logf(struct fx_store *st, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  st->log(st->log_ud, buf);
}

int fx_store_io_error(struct fx_store *st) {
  struct statvfs vfs;
  if (statvfs(st->path, &vfs)) return FX_STORE_EIO;
  /* Less than a few pages free: the short write was the disk filling up. */
  return (uint64_t)vfs.f_bavail * vfs.f_frsize < 64 * 1024 ? FX_STORE_ENOSPC : FX_STORE_EIO;
}

/* ---- counters ------------------------------------------------------------ */

int fx_ctr_load(MDB_txn *txn, struct fx_store *st, const char *name, uint64_t *v) {
  MDB_val k = {strlen(name), (void *)name}, d;
  int rc = mdb_get(txn, st->dbi[DB_CTR], &k, &d);
  *v = 0;
  if (rc == MDB_NOTFOUND) return 0;
  if (rc) return fx_store_err(rc);
  if (d.mv_size != 8) return FX_STORE_ECORRUPT;
  *v = fx_ld64(d.mv_data);
  return 0;
}

int fx_ctr_save(MDB_txn *txn, struct fx_store *st, const char *name, uint64_t v) {
  uint8_t b[8];
  fx_st64(b, v);
  MDB_val k = {strlen(name), (void *)name}, d = {8, b};
  return mdb_put(txn, st->dbi[DB_CTR], &k, &d, 0);
}

/* ---- map size ------------------------------------------------------------ */

static size_t round_page(size_t n) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  return (n + pg - 1) / pg * pg;
}

static size_t env_map_size(MDB_env *env) {
  MDB_envinfo info;
  return mdb_env_info(env, &info) ? 0 : info.me_mapsize;
}

size_t fx_store_map_size(const struct fx_store *st) {
  return st->map_size;
}

int fx_store_grow(struct fx_store *st) {
  if (st->map_size >= st->map_max) return FX_STORE_EFULL;
  size_t want = st->map_size > st->map_max / 2 ? st->map_max : st->map_size * 2;
  pthread_rwlock_wrlock(&st->remap);
  int rc = mdb_env_set_mapsize(st->env, want);
  pthread_rwlock_unlock(&st->remap);
  if (rc) {
    fx_store_logf(st, "growing the map to %zu MiB failed: %s", want / MIB, mdb_strerror(rc));
    return fx_store_err(rc);
  }
  fx_store_logf(st, "map grown from %zu to %zu MiB", st->map_size / MIB, want / MIB);
  st->map_size = want;
  return 0;
}

int fx_store_adopt_size(struct fx_store *st) {
  pthread_rwlock_wrlock(&st->remap);
  int rc = mdb_env_set_mapsize(st->env, 0);
  pthread_rwlock_unlock(&st->remap);
  if (rc) return fx_store_err(rc);
  st->map_size = env_map_size(st->env);
  if (st->map_max < st->map_size) st->map_max = st->map_size;
  return 0;
}

/* ---- layout version and migrations --------------------------------------- */

/* v0 (the prototype) kept the outbox without its due index. */
static int migrate_v0(MDB_txn *txn, struct fx_store *st) {
  return fx_due_rebuild(txn, st);
}

static const struct migration {
  uint32_t from;
  int (*run)(MDB_txn *txn, struct fx_store *st);
  const char *what;
} migrations[] = {
    {0, migrate_v0, "build the outbox due index"},
};

static int migrate(MDB_txn *txn, struct fx_store *st, uint32_t v) {
  while (v < FX_STORE_LAYOUT_VERSION) {
    const struct migration *m = NULL;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++)
      if (migrations[i].from == v) m = &migrations[i];
    if (!m) {
      fx_store_logf(st, "no migration from store layout v%u", v);
      return FX_STORE_ECORRUPT;
    }
    int rc = m->run(txn, st);
    if (rc) return rc;
    fx_store_logf(st, "migrated store layout v%u -> v%u: %s", v, v + 1, m->what);
    v++;
  }
  return 0;
}

static int has_data(MDB_txn *txn, struct fx_store *st) {
  for (int i = DB_MSG; i < DB_COUNT; i++) {
    MDB_stat s;
    if (!mdb_stat(txn, st->dbi[i], &s) && s.ms_entries) return 1;
  }
  return 0;
}

static int put_layout(MDB_txn *txn, struct fx_store *st, uint32_t v) {
  uint8_t b[4];
  fx_st32(b, v);
  MDB_val k = {6, "layout"}, d = {4, b};
  return fx_store_err(mdb_put(txn, st->dbi[DB_META], &k, &d, 0));
}

/* Decides what to do with the layout found in an open write txn. */
static int check_layout_txn(MDB_txn *txn, struct fx_store *st) {
  MDB_val k = {6, "layout"}, d;
  int rc = mdb_get(txn, st->dbi[DB_META], &k, &d);
  if (rc == MDB_NOTFOUND) {
    if (has_data(txn, st)) {
      fx_store_logf(st, "store holds data but no layout record; refusing to open");
      return FX_STORE_ECORRUPT;
    }
    return put_layout(txn, st, FX_STORE_LAYOUT_VERSION);
  }
  if (rc) return fx_store_err(rc);
  if (d.mv_size != 4) return FX_STORE_ECORRUPT;
  uint32_t v = fx_ld32(d.mv_data);
  if (v > FX_STORE_LAYOUT_VERSION) {
    fx_store_logf(st, "store layout v%u is newer than this flexd understands (v%u); "
                  "refusing to open it: run a newer flexd", v, FX_STORE_LAYOUT_VERSION);
    return FX_STORE_ENEWER;
  }
  if (v == FX_STORE_LAYOUT_VERSION) return 0;
  rc = migrate(txn, st, v);
  return rc ? rc : put_layout(txn, st, FX_STORE_LAYOUT_VERSION);
}

static int open_dbs(struct fx_store *st) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
  if (rc) return fx_store_err(rc);
  for (int i = 0; i < DB_COUNT && !rc; i++)
    rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
  rc = rc ? fx_store_err(rc) : check_layout_txn(txn, st);
  if (rc) {
    mdb_txn_abort(txn);
    return rc;
  }
  return fx_store_err(mdb_txn_commit(txn));
}

/* ---- open / close ---------------------------------------------------------- */

static int env_open(struct fx_store *st, const struct fx_store_opts *o) {
  unsigned flags = MDB_NOTLS | (o->no_sync ? MDB_NOSYNC | MDB_NOMETASYNC : 0);
  int rc = mdb_env_create(&st->env);
  if (!rc) rc = mdb_env_set_maxdbs(st->env, DB_COUNT);
  if (!rc) rc = mdb_env_set_mapsize(st->env, st->map_size);
  if (!rc && o->max_readers) rc = mdb_env_set_maxreaders(st->env, o->max_readers);
  if (!rc) rc = mdb_env_open(st->env, o->path, flags, 0600);
  if (rc) {
    fx_store_logf(st, "cannot open LMDB environment %s: %s", o->path, mdb_strerror(rc));
    return fx_store_err(rc);
  }
  /* An existing store may already be larger than asked for. */
  size_t have = env_map_size(st->env);
  if (have > st->map_size) st->map_size = have;
  if (st->map_max < st->map_size) st->map_max = st->map_size;
  MDB_stat ms;
  if ((rc = mdb_env_stat(st->env, &ms))) return fx_store_err(rc);
  st->psize = ms.ms_psize;
  st->no_sync = o->no_sync != 0;
  return 0;
}

static int init_lock(struct fx_store *st) {
  pthread_rwlockattr_t a;
  if (pthread_rwlockattr_init(&a)) return FX_STORE_ENOMEM;
  pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  int rc = pthread_rwlock_init(&st->remap, &a);
  pthread_rwlockattr_destroy(&a);
  return rc ? FX_STORE_ENOMEM : 0;
}

static struct fx_store *store_new(const struct fx_store_opts *o) {
  struct fx_store *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->log = o->log ? o->log : log_stderr;
  st->log_ud = o->log_ud;
  st->map_size = round_page(o->map_size ? o->map_size : DEFAULT_MAP);
  st->map_max = round_page(o->map_max ? o->map_max : DEFAULT_MAX);
  if (st->map_max < st->map_size) st->map_max = st->map_size;
  st->path = strdup(o->path);
  if (!st->path || init_lock(st)) {
    free(st->path);
    free(st);
    return NULL;
  }
  if (fx_prealloc_init(st)) {
    pthread_rwlock_destroy(&st->remap);
    free(st->path);
    free(st);
    return NULL;
  }
  return st;
}

int fx_store_open(struct fx_store **out, const struct fx_store_opts *o) {
  *out = NULL;
  if (!o || !o->path || !*o->path) return FX_STORE_EINVAL;
  struct fx_store *st = store_new(o);
  if (!st) return FX_STORE_ENOMEM;
  if (mkdir(o->path, 0700) && errno != EEXIST) {
    fx_store_logf(st, "cannot create %s: %s", o->path, strerror(errno));
    fx_store_close(st);
    return FX_STORE_EIO;
  }
  int rc = env_open(st, o);
  if (!rc) rc = open_dbs(st);
  if (rc) {
    fx_store_close(st);
    return rc;
  }
  st->committed_end = fx_store_used_end(st);
  if (o->no_sync)
    fx_store_logf(st, "WARNING: %s opened with NO SYNC: commits are NOT durable, a crash "
                  "loses acknowledged messages. For benchmarks only.", o->path);
  *out = st;
  return 0;
}

void fx_store_close(struct fx_store *st) {
  if (!st) return;
  fx_prealloc_fini(st); /* first: the helper writes the file */
  if (st->env) mdb_env_close(st->env);
  pthread_rwlock_destroy(&st->remap);
  free(st->scratch);
  free(st->path);
  free(st);
}
