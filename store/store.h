/* store.h — flexd's durable store: the public API of store/.
 *
 * One LMDB environment holds everything flexd must never lose: the journal of
 * accepted inbound messages, the market objects derived from them, the common
 * reference, the outbox of messages still to deliver, and monotonic counters.
 * store/ knows nothing of UFTP or XML: the engine hands it bytes and small
 * fixed fields (domains as strings, MessageIDs as 16-byte UUIDs, Periods as
 * int32 day numbers, times as int64 microseconds since the epoch).
 *
 * Writing: the engine collects mutations in a struct fx_store_batch and calls
 * fx_store_commit(), which applies all of them in ONE write transaction and
 * returns 0 only once that transaction is durable. Either the whole batch lands
 * or none of it does. The batch does not copy the caller's bytes: every pointer
 * handed to an fx_store_batch_* call must stay valid until fx_store_commit()
 * returns.
 *
 * Reading: views point into LMDB's memory map and stay valid until the read
 * transaction they came from ends. Fields are read in place with the accessors
 * in store/record.h; nothing is decoded or copied.
 *
 * Threads: one writer and many readers. fx_store_commit() and fx_store_close()
 * must be called from one thread at a time (flexd's store-writer thread). Read
 * handles (struct fx_store_read) may be used from any thread (the environment
 * is opened with MDB_NOTLS), but each handle by one thread at a time. Keep read
 * transactions short: growing the map waits until no read transaction is
 * active. One process per store directory. The store runs one thread of its
 * own, which appends zeros to the data file ahead of use (fx_store_prealloc).
 */
#ifndef FX_STORE_H
#define FX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/record.h"

struct MDB_txn;
struct MDB_cursor;
struct fx_store;

/* Error codes: every function returns 0 or one of these (negative). */
enum {
  FX_STORE_OK = 0,
  FX_STORE_ENOMEM = -1,   /* out of memory */
  FX_STORE_EINVAL = -2,   /* bad argument (empty domain, key too long, ...) */
  FX_STORE_ENOTFOUND = -3,/* no such record */
  FX_STORE_EEXIST = -4,   /* object already present (put of a new object) */
  FX_STORE_ESTATE = -5,   /* illegal state transition */
  FX_STORE_EFULL = -6,    /* map at its configured maximum; batch not applied */
  FX_STORE_ENOSPC = -7,   /* disk full; batch not applied */
  FX_STORE_EIO = -8,      /* other I/O or LMDB failure; batch not applied */
  FX_STORE_ENEWER = -9,   /* store layout newer than this build understands */
  FX_STORE_ECORRUPT = -10,/* a record or the environment is not what we wrote */
  FX_STORE_EBUSY = -11,   /* no free reader slot */
};
const char *fx_store_strerror(int err);

/* The store layout version this build writes (see docs/store.md). */
#define FX_STORE_LAYOUT_VERSION 1u

/* ---- opening ----------------------------------------------------------- */

struct fx_store_opts {
  const char *path;     /* directory; created if missing */
  size_t map_size;      /* initial map size, bytes; 0 = 64 MiB */
  size_t map_max;       /* growth stops here, bytes; 0 = 64 GiB */
  unsigned max_readers; /* reader slots; 0 = 126 */
  int no_sync;          /* BENCHMARKS ONLY: commits are not durable */
  /* Where the store reports what the operator must know (open, migration,
   * refusal, failed commits). NULL = one line on stderr. Called from the
   * writer's thread and from the store's preallocation thread (a failed
   * step), so it must be safe to call from either. */
  void (*log)(void *ud, const char *msg);
  void *log_ud;
};

/* Opens (creating or migrating as needed) the store at opts->path. */
int fx_store_open(struct fx_store **out, const struct fx_store_opts *opts);
/* Stops the preallocation thread, then closes the environment. Every read
 * handle must have been freed. */
void fx_store_close(struct fx_store *st);
/* Current size of the memory map in bytes (grows on demand; writer thread). */
size_t fx_store_map_size(const struct fx_store *st);

/* ---- group commit ------------------------------------------------------- */

/* Outcome of a "put message" op, filled in by fx_store_commit(). */
enum { FX_STORE_MSG_NEW = 1, FX_STORE_MSG_SAME = 2, FX_STORE_MSG_CONFLICT = 3 };
struct fx_store_msg_result {
  int status;          /* NEW: journaled now; SAME: key present with the same
                        * digest (Already Submitted); CONFLICT: present with
                        * another digest (Duplicate Identifier) */
  uint64_t seq;        /* commit sequence number of the journaled message */
  uint8_t digest[32];  /* digest stored under the key */
};

struct fx_store_msg {
  const char *domain;        /* SenderDomain, 1..253 bytes, no NUL */
  const uint8_t *msgid;      /* 16-byte MessageID */
  const uint8_t *digest;     /* 32-byte digest of the inner message */
  uint16_t type;             /* engine's message type code */
  int64_t recv_us;           /* receive time */
  const void *raw;           /* the SignedMessage as received */
  size_t raw_len;
};

struct fx_store_obj_key {
  const char *cp;            /* CongestionPoint ("" for none), no NUL */
  int32_t period;            /* day number */
  uint8_t kind;              /* FX_OBJ_* */
  uint8_t id[16];            /* MessageID of the defining message */
};

struct fx_store_obj {
  struct fx_store_obj_key key;
  uint8_t state;             /* must be the kind's initial state */
  uint32_t revision;
  int64_t t_us;              /* creation time */
  const uint8_t *ref;        /* 16 bytes or NULL: related object's id */
  const char *owner;         /* party the object belongs to, or NULL */
  const void *body;          /* engine-defined bytes */
  size_t body_len;
};

struct fx_store_ref {
  uint8_t kind;              /* FX_REF_* */
  const char *k1, *k2;       /* key parts; k2 may be NULL or "" */
  const char *owner;         /* e.g. the CP's DSO, the connection's AGR */
  uint8_t role;              /* engine-defined role code */
  int32_t from, to;          /* validity, Periods inclusive */
  int64_t t_us;
  const void *body;
  size_t body_len;
};

struct fx_store_out {
  const char *domain;        /* recipient domain */
  uint8_t role;              /* recipient role code */
  uint16_t type;             /* message type code */
  int64_t created_us;
  int64_t next_us;           /* first attempt */
  const void *body;          /* payload to sign and send */
  size_t body_len;
};

struct fx_store_op;
struct fx_store_batch {
  struct fx_store_op *ops;   /* owned; grown on demand, kept across resets */
  size_t n, cap;
};

void fx_store_batch_init(struct fx_store_batch *b);
void fx_store_batch_reset(struct fx_store_batch *b); /* empty, keep memory */
void fx_store_batch_free(struct fx_store_batch *b);

/* Journal a message unless its (domain, msgid) is present; *res (may be NULL)
 * says which, once the batch has committed. */
int fx_store_batch_put_msg(struct fx_store_batch *b, const struct fx_store_msg *m,
                           struct fx_store_msg_result *res);
/* Create a market object; the batch fails with EEXIST if it is present. */
int fx_store_batch_put_obj(struct fx_store_batch *b, const struct fx_store_obj *o);
/* Move an object to another state; illegal transitions fail the batch. */
int fx_store_batch_set_state(struct fx_store_batch *b, const struct fx_store_obj_key *k,
                             uint8_t to, int64_t t_us);
/* Insert or replace a reference record; delete one (absent is fine). */
int fx_store_batch_put_ref(struct fx_store_batch *b, const struct fx_store_ref *r);
int fx_store_batch_del_ref(struct fx_store_batch *b, uint8_t kind, const char *k1,
                           const char *k2);
/* Queue an outbound message; *id (may be NULL) gets its outbox id on commit. */
int fx_store_batch_out_add(struct fx_store_batch *b, const struct fx_store_out *o,
                           uint64_t *id);
/* Pending → delivered / expired (leave the due index), or stay pending with
 * one more attempt and a new due time. Other rows fail the batch (ESTATE). */
int fx_store_batch_out_delivered(struct fx_store_batch *b, uint64_t id, int64_t t_us);
int fx_store_batch_out_expired(struct fx_store_batch *b, uint64_t id, int64_t t_us);
int fx_store_batch_out_retry(struct fx_store_batch *b, uint64_t id, int64_t next_us);
/* Raise a named counter to at least v (never lowers it). Names starting with
 * "store." are the store's own and refused. */
int fx_store_batch_counter_raise(struct fx_store_batch *b, const char *name, uint64_t v);

/* Whether a market object of `kind` may move from state `from` to `to`. */
int fx_store_obj_transition_ok(uint8_t kind, uint8_t from, uint8_t to);

/* Applies every op of b in one write transaction; 0 once durable. On any
 * error nothing of b is applied and the store remains usable. Results (msg
 * results, outbox ids) are meaningful only when it returned 0. When the map
 * is full it grows (doubling, up to map_max) and applies the batch again;
 * growing waits for live read transactions, so the calling thread must not
 * hold one itself. */
int fx_store_commit(struct fx_store *st, struct fx_store_batch *b);

/* Keeps zeros written ahead of the store's use of its data file, so that
 * later commits overwrite allocated blocks (see prealloc.c). When that use
 * nears the file's end it asks the store's helper thread for a step (started
 * on first need) and returns at once: the writing and syncing never run on
 * the caller's thread. Writer thread only, outside fx_store_commit. Returns
 * 0, or FX_STORE_ENOSPC/EIO once for a step that earlier failed in the
 * background (already logged): the store stays fully usable, the caller may
 * just log it. */
int fx_store_prealloc(struct fx_store *st);
/* Waits until no step is asked for or running (tests, and before figures
 * are read); returns like fx_store_prealloc. Writer thread only. */
int fx_store_prealloc_wait(struct fx_store *st);

/* ---- reading ------------------------------------------------------------ */

/* A read transaction, reusable: begin/end may alternate many times; the
 * LMDB transaction is reset and renewed rather than reallocated. */
struct fx_store_read {
  struct fx_store *st;
  struct MDB_txn *txn;
  struct MDB_cursor *cur[8]; /* one per table, opened on first get, renewed */
  int live;
};
void fx_store_read_init(struct fx_store_read *rd, struct fx_store *st);
int fx_store_read_begin(struct fx_store_read *rd);
void fx_store_read_end(struct fx_store_read *rd);
void fx_store_read_free(struct fx_store_read *rd);

int fx_store_msg_get(struct fx_store_read *rd, const char *domain, const uint8_t msgid[16],
                     struct fx_store_msg_view *v);
int fx_store_obj_get(struct fx_store_read *rd, const struct fx_store_obj_key *k,
                     struct fx_store_obj_view *v);
int fx_store_ref_get(struct fx_store_read *rd, uint8_t kind, const char *k1, const char *k2,
                     struct fx_store_ref_view *v);
int fx_store_out_get(struct fx_store_read *rd, uint64_t id, struct fx_store_out_view *v);
/* Missing counters read as 0. The store's own: "store.seq" (last journal
 * seq), "store.outbox" (last outbox id). */
int fx_store_counter_get(struct fx_store_read *rd, const char *name, uint64_t *v);

/* Record counts, from LMDB's own statistics (constant time). Every pending
 * outbox row is in the due index, so outbox_pending is the outbox's depth. */
struct fx_store_sizes {
  size_t messages, objects, outbox, outbox_pending;
};
int fx_store_sizes(struct fx_store_read *rd, struct fx_store_sizes *out);

/* Cursor iterators: *_next returns 1 with a view, 0 at the end, or an error.
 * Views are valid until the read transaction ends. */
struct fx_store_iter {
  struct fx_store_read *rd;
  struct MDB_cursor *cur;
  int what, started;
  int64_t until_us;
  size_t plen;
  uint8_t prefix[FX_STORE_KEY_MAX];
};
/* The journal in commit order, starting at seq `from` (1 = the beginning). */
int fx_store_journal_iter(struct fx_store_read *rd, uint64_t from, struct fx_store_iter *it);
int fx_store_journal_next(struct fx_store_iter *it, struct fx_store_msg_view *v);
/* Objects of one market (cp, period), of one kind or all (kind 0); cp NULL
 * walks every market, in key order. */
int fx_store_obj_iter(struct fx_store_read *rd, const char *cp, int32_t period, uint8_t kind,
                      struct fx_store_iter *it);
int fx_store_obj_next(struct fx_store_iter *it, struct fx_store_obj_view *v);
/* Reference records of one kind, optionally only those with key part k1. */
int fx_store_ref_iter(struct fx_store_read *rd, uint8_t kind, const char *k1,
                      struct fx_store_iter *it);
int fx_store_ref_next(struct fx_store_iter *it, struct fx_store_ref_view *v);
/* Pending outbox rows with next attempt <= now_us, by time then id. */
int fx_store_due_iter(struct fx_store_read *rd, int64_t now_us, struct fx_store_iter *it);
int fx_store_due_next(struct fx_store_iter *it, struct fx_store_out_view *v);
void fx_store_iter_close(struct fx_store_iter *it);

#endif
