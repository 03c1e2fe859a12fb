/* store_int.h — what the files of store/ share and nobody else may use: the
 * environment handle, the batch op representation, key encoding and the
 * little-endian writers that mirror the loaders in record.h. */
#ifndef FX_STORE_INT_H
#define FX_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>

#include "store/store.h"

/* Named databases, in the order they are opened. */
enum { DB_META, DB_MSG, DB_JOURNAL, DB_OBJ, DB_REF, DB_OUT, DB_DUE, DB_CTR, DB_COUNT };

struct fx_store {
  MDB_env *env;
  MDB_dbi dbi[DB_COUNT];
  size_t map_size, map_max;
  /* Remapping (growth) must not happen under a live read transaction: readers
   * hold this shared between begin and end, growth takes it exclusively. */
  pthread_rwlock_t remap;
  void (*log)(void *ud, const char *msg);
  void *log_ud;
  char *path;
  uint8_t *scratch; /* writer-only buffer for rewriting a record */
  size_t scratch_cap;
  size_t psize;      /* LMDB's page size */
  int no_sync;       /* benchmark mode: nothing is synced, nothing preallocated */
  /* LMDB writes data.mdb mostly inside mdb_txn_commit (no MDB_WRITEMAP),
   * where the writer holds file_mu, so whoever holds it knows the file's end
   * is not moving there (prealloc.c). A transaction that spills dirty pages
   * writes before its commit too (commit.c, bound_for_give_back). */
  pthread_mutex_t file_mu;
  /* What a failed preallocation step may give back down to: LMDB's last
   * committed end, or UINT64_MAX while a write transaction is open (it may
   * have spilled). Written under pre.mu (and file_mu at the commit), read
   * holding both. */
  uint64_t committed_end;
  struct fx_prealloc {    /* the preallocation helper thread (prealloc.c) */
    pthread_mutex_t mu;   /* guards this struct */
    pthread_cond_t cv;    /* a step asked for, a step done, stop */
    pthread_t thread;
    int started, stop, busy;
    int fd;               /* data.mdb opened O_APPEND for the helper, or -1 */
    uint64_t target;      /* the file should reach this size */
    uint64_t file_end;    /* steps done (or given up) up to here */
    int err;              /* a failed step not reported yet (fx_store error) */
  } pre;
};

enum op_kind {
  OP_MSG_PUT, OP_OBJ_PUT, OP_OBJ_STATE, OP_REF_PUT, OP_REF_DEL,
  OP_OUT_ADD, OP_OUT_DELIVERED, OP_OUT_EXPIRED, OP_OUT_RETRY, OP_CTR_RAISE
};

struct fx_store_op {
  enum op_kind kind;
  union {
    struct { struct fx_store_msg m; struct fx_store_msg_result *res; } msg;
    struct fx_store_obj obj;
    struct { struct fx_store_obj_key k; uint8_t to; int64_t t_us; } state;
    struct fx_store_ref ref;
    struct { struct fx_store_out o; uint64_t *id; } out;
    struct { uint64_t id; int64_t t_us; } mark;
    struct { const char *name; uint64_t v; } ctr;
  } u;
};

/* Counter names the store keeps for itself. */
#define CTR_SEQ "store.seq"
#define CTR_OUTBOX "store.outbox"

/* ---- writers (mirror record.h's loaders) ---------------------------------- */

static inline void fx_st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void fx_st32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void fx_st64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void fx_st32be(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static inline void fx_st64be(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}
/* The 4 bytes every record starts with. */
static inline void fx_rec_head(uint8_t *p, char tag) {
  p[0] = 'F'; p[1] = 'X'; p[2] = FX_REC_FORMAT; p[3] = (uint8_t)tag;
}

/* ---- keys (key.c) --------------------------------------------------------- */

/* Each builds a key into buf (FX_STORE_KEY_MAX bytes) and returns its length,
 * or 0 if the parts are invalid or too long. */
size_t fx_key_msg(uint8_t *buf, const char *domain, const uint8_t msgid[16]);
size_t fx_key_obj(uint8_t *buf, const struct fx_store_obj_key *k);
size_t fx_key_obj_market(uint8_t *buf, const char *cp, int32_t period, uint8_t kind);
size_t fx_key_ref(uint8_t *buf, uint8_t kind, const char *k1, const char *k2);
void fx_key_due(uint8_t buf[16], int64_t next_us, uint64_t id);

/* ---- records (key.c) ------------------------------------------------------ */

/* Whether a value is a well-formed record with tag `tag`: header present and
 * every variable part inside the value. */
int fx_rec_check(const MDB_val *v, char tag);

/* ---- shared helpers (env.c) ----------------------------------------------- */

int fx_store_err(int mdb_rc);
void fx_store_logf(struct fx_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* LMDB reports a short write as EIO, which is what a full disk produces:
 * tells ENOSPC apart by the free space left on the store's file system. */
int fx_store_io_error(struct fx_store *st);
/* Doubles the map up to map_max; FX_STORE_EFULL when already there. */
int fx_store_grow(struct fx_store *st);
/* Adopts a map size changed by another process (MDB_MAP_RESIZED). */
int fx_store_adopt_size(struct fx_store *st);
int fx_ctr_load(MDB_txn *txn, struct fx_store *st, const char *name, uint64_t *v);
int fx_ctr_save(MDB_txn *txn, struct fx_store *st, const char *name, uint64_t v);

/* ---- preallocation (prealloc.c) ------------------------------------------ */

/* Bytes of data.mdb up to LMDB's last committed page (the writer thread). */
uint64_t fx_store_used_end(struct fx_store *st);
/* Set up before anything else can fail, torn down by fx_store_close. */
int fx_prealloc_init(struct fx_store *st);
/* Stops and joins the helper (if it ever started); frees what init made. */
void fx_prealloc_fini(struct fx_store *st);

/* commit.c, used by the v0 → v1 migration too. */
int fx_due_rebuild(MDB_txn *txn, struct fx_store *st);

#endif
