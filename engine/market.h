/* market.h — flexd's market logic: the common reference (flexd as CRO), the
 * local markets (flexd as the DSO's market towards AGRs) and their clearing.
 *
 * An fx_market plugs into the sequencer (engine/sequencer.h): every verified,
 * new message is handed to its `apply` hook on the sequencer thread, which runs
 * the stateful checks, updates the in-memory state and writes the effects
 * (objects, reference records, outbound FlexRequests and FlexOrders) into the
 * group's store batch. The in-memory state therefore always includes the
 * uncommitted effects of earlier messages of the same group; when a group fails
 * to commit, `after_commit(0)` rebuilds it from the store.
 *
 * Clearing runs as sequencer commands, so it is ordered with messages and
 * replayable: the loop arms a timer for fx_market_next_deadline() and, when it
 * fires, submits a command whose run function is fx_market_run_due. Operators
 * clear one market with fx_market_run_clear. With a clearing thread
 * (fx_market_clearing_start) those commands only take a snapshot: the solver
 * runs off the sequencer thread and the orders come back as a command that
 * checks nothing changed meanwhile. docs/market.md has the rules. */
#ifndef FX_ENGINE_MARKET_H
#define FX_ENGINE_MARKET_H

#include <stdint.h>

#include "engine/sequencer.h"

struct fx_config;
struct fx_store;
struct fx_market;

/* Builds the market state from the store: the reference records and the hot
 * markets (Periods from two days before the platform's clock day on), read in
 * place; older markets are read when needed (docs/market.md, "Memory"). cfg
 * and st must outlive the market. NULL on error (message in err). */
struct fx_market *fx_market_new(const struct fx_config *cfg, struct fx_store *st, char *err, size_t errlen);
void fx_market_free(struct fx_market *mk);

/* What the market holds in memory: the hot markets (Periods from live_from
 * on) and what cold ones a group read; the rest stays in the store
 * (docs/market.md, "Memory"). Call it on the sequencer thread or while no
 * group runs. */
struct fx_market_memory {
  size_t markets;      /* local markets (CP, Period) */
  size_t ids;          /* indexed MessageIDs */
  size_t meters;       /* Metering revision index entries */
  int32_t clock_day;   /* the latest day seen (days since 1970-01-01), INT32_MIN: none */
  int32_t live_from;   /* earlier Periods are cold */
};
void fx_market_memory(const struct fx_market *mk, struct fx_market_memory *out);

/* The sequencer hooks (apply, after_commit) bound to mk. */
struct fx_seq_hooks fx_market_hooks(struct fx_market *mk);

/* Earliest clearing time (µs, UTC) of a market that has an open request and
 * has not been cleared, or reply deadline of a placed FlexOrder, whichever is
 * first; INT64_MAX when there is none. Any thread (it reads one atomic value
 * that the sequencer thread refreshes after every commit). */
int64_t fx_market_next_deadline(const struct fx_market *mk);
/* The configuration the market reads changed in place (a SIGHUP's values,
 * taken over on the sequencer thread): every market's deadline is
 * recomputed from the new gate closures and reply timeout. Sequencer thread. */
void fx_market_config_changed(struct fx_market *mk);

/* Sequencer command: expires the placed FlexOrders whose reply deadline is
 * <= cmd->now_us (clearing their markets again), clears every market whose
 * clearing time is <= cmd->now_us and marks expired offers. cmd->arg is unused. */
void fx_market_run_due(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd);

/* Sequencer command: an operator clears one market now; cmd->arg points to a
 * struct fx_market_target, whose `found` and `n_orders` are filled in. */
struct fx_market_target {
  char cp[256];
  int32_t period; /* days since 1970-01-01 */
  int found;      /* out: 1 when the market has an open request */
  int n_orders;   /* out: orders placed by this clearing */
};
void fx_market_run_clear(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd);

/* ---- clearing off the sequencer thread (docs/market.md) ---------------- */

/* From now on every clearing (fx_market_run_due, fx_market_run_clear, a
 * rejected order, a new revision of a cleared request) solves a snapshot of
 * its market on one clearing thread, FIFO; the orders are placed by a
 * command on `seq` that first checks the request revision and each chosen
 * offer are unchanged (else the market is cleared again). An operator's
 * fx_market_run_clear command gets its done() only after the orders are
 * committed, with n_orders filled. Call it after fx_sequencer_start with the
 * market's hooks and before anything is submitted to `seq`. 0, or -1. Without
 * it, clearing runs on the sequencer thread as before. Once started (and
 * even once stopped) further calls do nothing: a stopped clearing stays
 * stopped for this fx_market. */
int fx_market_clearing_start(struct fx_market *mk, struct fx_sequencer *seq);
/* Loop thread, before fx_sequencer_stop (SIGTERM): waits for the solve under
 * way (bounded by its budget), drops it and every queued clearing. Nothing
 * of them is committed, so their markets are still due after a restart;
 * operators waiting for them are answered with store_err FX_STORE_EIO once
 * the sequencer has run the drops (and so is one that asks after the stop).
 * Call it before fx_sequencer_stop and fx_market_free. */
void fx_market_clearing_stop(struct fx_market *mk);
/* Clearings queued or being solved, and clearings solved since the start
 * (any thread; engine/clear_runner.h says how the two relate). */
unsigned fx_market_clearing_pending(const struct fx_market *mk);
unsigned fx_market_clearing_solved(const struct fx_market *mk);
/* For tests: holds the clearing thread before its next solve (clearings
 * queue, pending counts them) or lets it go on (fx_clear_runner_hold). */
void fx_market_clearing_hold(struct fx_market *mk, bool hold);
/* For tests: a held clearing thread takes one more clearing. */
void fx_market_clearing_pass(struct fx_market *mk);
/* For tests: the next n clearings fail as when the LP library does: on the
 * clearing thread when it runs (fx_clear_runner_fail), else on the
 * sequencer's (called there, or before the sequencer starts). */
void fx_market_clearing_fail(struct fx_market *mk, unsigned n);
/* Counts every clearing that failed (the solver returned an error, or no
 * snapshot could be made) into `c` once its group commits; the market is
 * tried again with back-off (docs/market.md, "When a clearing fails"). The
 * server registers it as flexd_clearing_failures_total (no labels). NULL:
 * not counted. Call it before anything is submitted. */
struct fx_counter;
void fx_market_count_clearing_failed(struct fx_market *mk, struct fx_counter *c);

/* ---- reply deadlines (docs/market.md, "Unanswered FlexOrders") --------- */

/* Counts every FlexOrder that expires unanswered ([market]
 * order_response_timeout) into `c` once its group commits; the server
 * registers it as flexd_orders_expired_total (no labels). NULL: not counted.
 * Call it before anything is submitted. */
struct fx_counter;
void fx_market_count_expired(struct fx_market *mk, struct fx_counter *c);

/* ---- operate and settle (docs/settlement.md, "In the engine") ---------- */

/* Sequencer command: settles every order of Periods [from, to] (days since
 * 1970-01-01, inclusive) and queues one FlexSettlement per AGR that has orders
 * in it. The store is read in place, market by market. cmd->arg points to
 * this struct.
 *
 * With `seq` set (the sequencer that runs the command), the run settles one
 * AGR with orders per group: after each group commits, the command re-queues
 * itself on `seq`, so memory is bounded by one AGR's output. The caller still
 * gets one done() (its own), after the last group, with the totals; its
 * cmd->store_err is the last group's. Messages may be applied between two
 * AGRs. Without `seq`, the whole run is one group (one transaction). The
 * command must not be freed or resubmitted before its done() runs. */
struct fx_market_settlement {
  int32_t from, to;
  struct fx_sequencer *seq; /* optional, see above */
  /* out */
  int messages;   /* FlexSettlements queued (and committed) */
  int orders;     /* order settlements in them */
  int incomplete; /* of which lack metering or a baseline ("settlement says so") */
  int error;      /* 0, or -1: the run stopped early (an AGR could not be
                   * settled, or a group failed to commit); AGRs settled in
                   * groups committed before stay settled */
  void *job;      /* internal: the run between groups; leave NULL */
};
void fx_market_run_settlement(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd);

/* The monthly run: its time (µs UTC) and Periods. The run due after `after_us`
 * is at [market] settlement_day, settlement_time (local), and settles the
 * whole previous month: *from, *to. INT64_MAX when the configuration's time
 * zone is unknown. Any thread (it opens its own calendar). */
int64_t fx_market_settlement_due(const struct fx_config *cfg, int64_t after_us, int32_t *from, int32_t *to);

/* Sequencer command: the platform releases reserved power of a bilateral
 * contract for one Period (FlexReservationUpdate to the contract's AGR).
 * cmd->arg points to this struct. */
struct fx_market_reservation {
  char contract[128];
  int32_t period;
  const int64_t *power; /* remaining reservation per ISP of the Period, n_isps values */
  int n_isps;
  /* out */
  int status;    /* 0 sent, -1 refused (why says so) */
  char why[160];
};
void fx_market_run_reservation_update(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd);

#endif
