/* sequencer.h — the single writer: applies verified messages in order and
 * commits them, their effects and their responses in one durable transaction.
 *
 * The sequencer thread drains whatever was submitted since its last turn (the
 * group), decides each message (duplicates, stateful checks, market logic),
 * builds the response rows, and commits the group with one fx_store_commit().
 * Only after that commit does it hand the group back to the loop thread, which
 * then answers HTTP 200: "nothing acknowledged is lost". Messages arriving while
 * it fsyncs form the next group, so the fsync is shared by all of them; under
 * load (the previous group was not alone) a group also waits up to 1 ms while
 * more keep arriving, since much of a commit's cost is per commit.
 *
 * Fair to senders: messages wait in one FIFO per sender (SenderDomain and
 * role) and groups are filled round-robin from them, at most max_per_sender
 * each, so a flood from one sender delays another's message by one group at
 * most. A sender's own messages keep their submission order.
 *
 * Delivery outcomes of outbox rows (delivered, retry at t, expired) are submitted
 * the same way and ride along in the next group's transaction; alone (no message
 * or command queued) they start a group of their own only after a few
 * milliseconds, so while messages flow they never cost an fsync of their own.
 *
 * A commit that fails (disk full, map at its maximum) fails the whole group:
 * every message of it is answered 503 and nothing of it is stored; outcomes of
 * that group are dropped, so those rows are attempted again later (delivery is
 * at-least-once; the peer recognises a repeat as Already Submitted). */
#ifndef FX_ENGINE_SEQUENCER_H
#define FX_ENGINE_SEQUENCER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/validate.h"

struct fx_store;
struct fx_sequencer;
struct fx_seq_ctx;

/* Outcome of one message, for logs and metrics. */
enum fx_seq_result {
  FX_SEQ_ACCEPTED = 0,
  FX_SEQ_REJECTED,          /* answered with a rejection */
  FX_SEQ_ALREADY_SUBMITTED, /* same key, same content: no second effect */
  FX_SEQ_DUPLICATE,         /* same key, other content: Duplicate Identifier */
  FX_SEQ_RESULT_COUNT
};
const char *fx_seq_result_name(enum fx_seq_result r);

/* One verified inbound message. The submitter owns it; the sequencer only
 * reads the inputs and fills the outputs between submit and `committed`. */
struct fx_inbound {
  struct fx_inbound *next; /* queue link (the sequencer's while queued) */
  /* inputs */
  const struct fx_msg *msg; /* the inner message, schema-valid */
  const void *raw;          /* the SignedMessage as received (journaled) */
  size_t raw_len;
  const void *inner;        /* the exact inner bytes that were signed, or NULL;
                               the market stores these instead of writing the
                               message out again */
  size_t inner_len;
  uint8_t digest[32];       /* BLAKE2b-256 of the exact inner bytes */
  enum fx_role sender_role;
  bool barred;
  int64_t recv_us;
  struct fx_verdict verdict; /* the stateless checks' findings */
  void *ud;                  /* the submitter's (its HTTP request) */
  /* outputs */
  int store_err;             /* 0, or the fx_store error that failed the group */
  enum fx_seq_result result;
  struct fx_verdict reasons; /* what the response said, when rejected */
};

/* Delivery outcome of one outbox row. */
enum fx_delivery { FX_SEND_DELIVERED = 0, FX_SEND_RETRY, FX_SEND_EXPIRED };
struct fx_outcome {
  struct fx_outcome *next;
  uint64_t id;
  enum fx_delivery what;
  int64_t t_us; /* when delivered or expired; the next attempt for a retry */
};

/* Work that must run in order with messages on the sequencer thread and
 * commit with them: clearing at gate closure, operator requests, expiry. The
 * command's effects (store ops, fx_seq_send) land in the same transaction as
 * the group it runs in. `done`, if set, runs on the loop thread after that
 * commit attempt with its result in cmd->store_err (0 or an fx_store error); `done` owns
 * `cmd` (without `done`, the submitter must keep it alive until then and
 * never learns the result). */
struct fx_seq_command {
  struct fx_seq_command *next;
  void (*run)(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd);
  void (*done)(struct fx_seq_command *cmd);
  int64_t now_us; /* the time the command acts at */
  void *arg;
  int store_err;  /* set by the sequencer: the commit's result */
};

/* Market logic plugs in here (issue 5). `apply` runs on the sequencer thread for
 * each new message that passed the generic checks; it may add rejection reasons
 * to `v`, store objects and queue outbound messages through `ctx`, and fill
 * type-specific parts of `resp` (already initialised by fx_response_init). */
struct fx_seq_hooks {
  void (*apply)(void *market, struct fx_seq_ctx *ctx, const struct fx_inbound *in,
                struct fx_verdict *v, struct fx_msg *resp);
  /* After each commit attempt: ok = 1 committed, 0 rolled back (the market must
   * then forget what `apply` did since the last successful commit). */
  void (*after_commit)(void *market, int ok);
  void *market;
};

struct fx_sequencer_cfg {
  uv_loop_t *loop;
  struct fx_store *store;
  const char *platform_domain;
  unsigned max_group; /* messages per commit; 0 = 1024 */
  /* Messages of one sender (domain, role) per group; 0 = a quarter of
   * max_group. Groups are filled round-robin across senders (see below). */
  unsigned max_per_sender;
  struct fx_seq_hooks hooks;
  /* On the loop thread, after each commit attempt, with the group's messages
   * (linked by ->next, in the order they were decided: round-robin across
   * senders, submission order within each). */
  void (*committed)(struct fx_inbound *group, void *ud);
  /* On the loop thread, after a commit that added outbox rows. */
  void (*outbox_grew)(void *ud);
  /* On the loop thread, after groups were processed (messages, outcomes or
   * commands), with the number of groups finished since the start (groups
   * run one after another, numbered from 1). */
  void (*after_groups)(uint64_t groups_finished, void *ud);
  void *ud;
};

int fx_sequencer_start(struct fx_sequencer **out, const struct fx_sequencer_cfg *cfg);
/* Any thread. */
void fx_sequencer_submit(struct fx_sequencer *s, struct fx_inbound *in);
/* Takes ownership of o (free()). Returns the number of the group that will
 * commit it: once that many groups have finished (see after_groups), its
 * effect is in the store, or was dropped with a failed commit. */
uint64_t fx_sequencer_outcome(struct fx_sequencer *s, struct fx_outcome *o);
void fx_sequencer_command(struct fx_sequencer *s, struct fx_seq_command *c);
/* Loop thread: commits what is queued, stops the thread, frees. Groups still
 * committing are reported through `committed` before it returns; commands
 * queued after the thread stopped get done() with store_err FX_STORE_EIO. */
void fx_sequencer_stop(struct fx_sequencer *s);

/* ---- for market logic, inside apply() ---------------------------------- */
struct fx_store_batch *fx_seq_batch(struct fx_seq_ctx *ctx);
struct fx_store_read *fx_seq_read(struct fx_seq_ctx *ctx); /* committed state */
int64_t fx_seq_now(struct fx_seq_ctx *ctx);               /* the message's receive time */
/* Bytes that must live until the commit (store ops borrow them). */
void *fx_seq_alloc(struct fx_seq_ctx *ctx, size_t n);
/* Writes `m` and queues it for delivery to (domain, to_role), signed as
 * `as_role`. 0, or -1 when m is not schema-valid (logged). */
int fx_seq_send(struct fx_seq_ctx *ctx, const struct fx_msg *m, enum fx_role to_role, enum fx_role as_role);

/* Outbox rows keep both roles in one byte: recipient in the low, signer in the
 * high nibble. */
static inline uint8_t fx_out_roles(enum fx_role to, enum fx_role as) { return (uint8_t)(to | (as << 4)); }
static inline enum fx_role fx_out_to(uint8_t r) { return (enum fx_role)(r & 15); }
static inline enum fx_role fx_out_as(uint8_t r) { return (enum fx_role)(r >> 4); }

#endif
