/* market_harness.h — the sequencer-level market tests' harness: a real LMDB
 * store in a temp dir, a loop and a sequencer with the market's hooks, verified
 * messages submitted as a worker would hand them over, and the outbox read
 * back. One struct per suite holds it all, so tests share no hidden state. */
#ifndef FX_TEST_MARKET_HARNESS_H
#define FX_TEST_MARKET_HARNESS_H

#include <stdint.h>
#include <uv.h>

#include "codec/codec.h"
#include "engine/config.h"
#include "engine/market.h"
#include "engine/sequencer.h"
#include "store/store.h"

/* The scene every suite plays in: the platform, one DSO, three AGRs. */
#define PLATFORM "flexd.example.org"
#define DSO "dso.example.com"
#define AGR1 "agr1.example.com"
#define AGR2 "agr2.example.com"
#define AGR3 "agr3.example.com"
#define CP1 "ean.871685900012345678"
#define CP2 "ean.871685900012345679"
#define PERIOD "2025-03-02"
#define NOW "2025-03-01T09:15:00+01:00"

struct fx_mh {
  char dir[64];
  struct fx_store *st;
  uv_loop_t loop;
  struct fx_sequencer *seq; /* NULL while the market is stopped */
  struct fx_market *mk;
  struct fx_config cfg;
  fx_reader *rd, *outrd;
  int committed_count, submitted;
  uint64_t groups_finished; /* as the sequencer last reported it */
  unsigned id_counter;
  int64_t now_us;           /* the receive time of the next message */
  const char *timestamp;    /* the TimeStamp of the next message */
  const char *reuse_id;     /* when set, the next message's MessageID */
  const char *conv_id;      /* when set, every message's ConversationID */
  fx_arena *out_arena;      /* owns what fx_mh_outbox returned last */
  char outcome[512];
};

/* One submitted message with the memory it lives in. */
struct fx_mh_held {
  struct fx_inbound in;
  fx_arena *arena;
  char *xml;
};

/* Opens a store in /tmp/flexd-<tag>-XXXXXX and configures the scene. */
void fx_mh_setup(struct fx_mh *h, const char *tag);
/* Stops the market if running, frees everything and removes the store. */
void fx_mh_teardown(struct fx_mh *h);
/* Starts the market and a sequencer with its hooks. */
void fx_mh_start(struct fx_mh *h);
/* Starts a sequencer with `hooks` alone (zeroed: the generic protocol only). */
void fx_mh_start_sequencer(struct fx_mh *h, struct fx_seq_hooks hooks);
void fx_mh_stop(struct fx_mh *h);
void fx_mh_add_participant(struct fx_mh *h, const char *domain, enum fx_role role);
int64_t fx_mh_at(const char *rfc3339);
/* The store's log callback: the tests look at outcomes, not at log lines. */
void fx_mh_quiet(void *ud, const char *msg);

/* Builds and parses one message (MessageID reuse_id or a fresh one), not
 * submitted yet: for tests that put several in one group. */
struct fx_mh_held *fx_mh_message(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                                 const char *rest, size_t arena_size);
/* Runs the loop until `n` messages in all have been committed (or ~5 s passed). */
void fx_mh_wait_committed(struct fx_mh *h, int n);
/* Submits one message (root element, sender, then what follows the header's
 * attributes) and waits for its group to commit. The caller releases it. */
struct fx_mh_held *fx_mh_submit(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* As fx_mh_submit, for a message whose group may fail to commit: its store error. */
int fx_mh_submit_failing(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                         const char *rest);
void fx_mh_release(struct fx_mh_held *m);
/* Releases m; "" when it was accepted, else its rejection reasons. Valid until the next call. */
const char *fx_mh_outcome(struct fx_mh *h, struct fx_mh_held *m);

/* The n-th (0-based) pending outbox message of `type` to `to`, parsed, or NULL;
 * *count gets how many there are. Valid until the next call. */
const struct fx_msg *fx_mh_outbox(struct fx_mh *h, enum fx_msg_type type, const char *to, int n, int *count);
int fx_mh_count_out(struct fx_mh *h, enum fx_msg_type type, const char *to);
/* Every pending outbox row, of any type to anyone. */
int fx_mh_count_all(struct fx_mh *h);
/* The MessageID of the platform's last FlexRequest to `agr`. */
void fx_mh_platform_request_id(struct fx_mh *h, const char *agr, char out[37]);
/* Runs fn(arg) as a sequencer command acting at h->now_us, waits for its
 * group's commit, and asserts it committed and its done() ran exactly once. */
void fx_mh_run_command(struct fx_mh *h, void (*fn)(void *, struct fx_seq_ctx *, struct fx_seq_command *),
                       void *arg);

/* The rest of a DSOPortfolioUpdate (after its header) with 12,000
 * connections, about 1 MiB: too big for a store of 1 MiB, so its group fails
 * to commit. malloc'd; the caller frees it. */
char *fx_mh_too_big_update(void);

/* The common reference most market suites start from: CP1 (mutex offers
 * supported) with connection ean.871685900001000001 for AGR1 and
 * ...002 for AGR2, all from 2025-03-01; asserts each update is accepted. */
void fx_mh_populate_two_agrs(struct fx_mh *h);

/* Days since the epoch of an xs:date such as "2025-03-02" (asserts it parses). */
int32_t fx_mh_day(const char *date);
/* An operator clears the market (cp, PERIOD) at h->now_us, as the query API's
 * POST does; asserts the market exists and returns the orders placed. */
int fx_mh_clear(struct fx_mh *h, const char *cp);

/* An operator clearing of (cp, period) submitted as the query API's POST
 * does, and not waited for: the clearing thread may be holding it. `c` first:
 * done() gets its address. */
struct fx_mh_op {
  struct fx_seq_command c;
  struct fx_market_target t;
  int err, dones; /* its store error (-99 until done) and how often done() ran */
};
void fx_mh_op_submit(struct fx_mh *h, struct fx_mh_op *o, const char *cp, const char *period);
/* Runs the loop until o is answered (bounded: 600 s of 1 ms turns, for
 * sanitizer builds on a loaded machine), then a few turns more; asserts it
 * was answered exactly once. */
void fx_mh_op_wait(struct fx_mh *h, struct fx_mh_op *o);

/* Runs the loop until `solved` clearings were solved and `pending` are
 * pending (bounded: 600 s of 1 ms turns), and asserts both. */
void fx_mh_wait_clearings(struct fx_mh *h, unsigned solved, unsigned pending);
/* One DSOPortfolioQuery through the sequencer, accepted: whatever the
 * sequencer took before it is committed when it returns. */
void fx_mh_barrier(struct fx_mh *h);

/* The short names the market suites' tests are written with, for a file that
 * defines FX_MH_SHORT_NAMES before including this and holds its harness in
 * `static struct fx_mh H`. */
#ifdef FX_MH_SHORT_NAMES
#define start_market() fx_mh_start(&H)
#define stop_market() fx_mh_stop(&H)
#define at(t) fx_mh_at(t)
#define submit(...) fx_mh_submit(&H, __VA_ARGS__)
#define submit_failing(...) fx_mh_submit_failing(&H, __VA_ARGS__)
#define release(m) fx_mh_release(m)
#define outcome(m) fx_mh_outcome(&H, m)
#define EXPECT(m, ...) cr_assert_str_eq(outcome(m), __VA_ARGS__)
#define outbox(...) fx_mh_outbox(&H, __VA_ARGS__)
#define count_out(...) fx_mh_count_out(&H, __VA_ARGS__)
#define run_command(fn, arg) fx_mh_run_command(&H, fn, arg)
#define day_of(date) fx_mh_day(date)
#define clear_market(cp) fx_mh_clear(&H, cp)
#define platform_request_id(agr, out) fx_mh_platform_request_id(&H, agr, out)
#define uuid_str(u, out) fx_uuid_format(u, out)
#endif

#endif
