/* async.h — asynchronous responses: matching what arrives at the sink to the
 * requests that caused it, and measuring the latency from their intended send time.
 *
 * During the window nothing is parsed or verified: the sink's callback copies each
 * body into an arena allocated up front, with its arrival time, and the driver's
 * callback notes each request's intended send time. After the window (and after the
 * CPU counters are read) fx_async_collect reads the identifiers of every stored
 * message (fx_sink_ids), finds the request by the key the workload registered —
 * normally the request's MessageID, which a UFTP response names in its
 * <Type>MessageID attribute (FlexOfferMessageID, …); otherwise its ConversationID —
 * lets the workload verify the signature, and records arrival − intended.
 *
 * Workloads that expect particular answers (a rejection, "Already Submitted") give
 * each request an expected outcome, a small number of their own choosing, and judge
 * every response into one (fx_async_collect_judged). Several requests may share a
 * key: a resent message names the same MessageID as the original, and the platform
 * answers each copy. Such responses go to the first request of that key, in
 * registration order, that was sent, is still unanswered and expects the judged
 * outcome — so which copy the platform happened to process first does not matter. */
#ifndef FX_BENCH_ASYNC_H
#define FX_BENCH_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/harness/hist.h"
#include "bench/harness/sink.h"

struct fx_async_key;
struct fx_async_msg;

struct fx_async {
  size_t n;                /* requests tracked (indices 0..n-1) */
  uint64_t *intended;      /* per request; 0 = never sent */
  unsigned char *answered; /* per request: a response was matched */
  struct fx_async_key *keys, *by_key; /* uthash over `keys` */
  struct fx_async_msg *msgs;
  size_t n_msgs, max_msgs;
  size_t collected;        /* messages already matched by a collect call */
  char *arena;
  size_t arena_used, arena_cap;
  struct fx_hist lat;        /* intended send → arrival, of matched, verified responses */
  uint64_t received;         /* messages the sink handed over */
  uint64_t dropped;          /* not stored: arena or message slots full */
  uint64_t matched;          /* matched a request for the first time and verified */
  uint64_t unmatched;        /* unreadable, or naming no known request */
  uint64_t duplicates;       /* a second response to an answered request */
  uint64_t bad_signature;    /* the workload's verify callback refused it */
  uint64_t wrong_outcome;    /* authentic, but no request of its key expected that outcome */
  uint64_t first_wrong_index; /* the request a wrong outcome was charged to (the first one) */
  int first_wrong_expected, first_wrong_got;
  uint64_t last_arrival_ns;  /* of the last matched response */
  bool count_others;         /* set by the workload: authentic messages that are not
                                responses and name no request (a FlexRequest's copies
                                to the AGRs) count as `others`, not as unmatched */
  uint64_t others;
  uint64_t foreign; /* set aside by the workload: answers to requests sent outside
                       the tracker (the flood's), once it has checked their number */
};

/* Tracks `n_requests` requests and stores up to `max_msgs` messages totalling
 * `max_bytes`. The struct is large (it holds a histogram): allocate it. -1 when out
 * of memory. */
int fx_async_init(struct fx_async *a, size_t n_requests, size_t max_msgs, size_t max_bytes);
void fx_async_free(struct fx_async *a);

/* Before the window: responses naming `key` belong to request `index`. -1 when the
 * index is out of range, the key too long (> 63 bytes) or already registered. */
int fx_async_expect(struct fx_async *a, uint64_t index, const char *key);

/* The same, for requests that expect outcome `expected` (>= 0) and may share their
 * key with earlier requests (see above). -1 when the index is out of range or
 * already registered, the key empty or too long, or `expected` negative. */
int fx_async_expect_outcome(struct fx_async *a, uint64_t index, const char *key, int expected);

/* The outcome request `index` expects (0 unless fx_async_expect_outcome said). */
int fx_async_expected(const struct fx_async *a, uint64_t index);

/* Callbacks to plug in: fx_load_cfg.on_response / fx_bench_run.on_response (user =
 * the fx_async) and fx_sink_cfg.on_message (user = the fx_async). */
void fx_async_on_response(void *a, uint64_t index, int status, uint64_t intended_ns,
                          uint64_t done_ns);
void fx_async_on_message(void *a, const char *body, size_t len, uint64_t arrival_ns);

/* Returns 0 when the response is authentic (the workload checks the signature with
 * the sender's key), -1 otherwise. */
typedef int (*fx_async_verify_fn)(void *user, const struct fx_sink_ids *ids, const char *body,
                                  size_t len);

/* Returns the outcome the response stands for (>= 0, the workload's numbering), or
 * FX_ASYNC_FORGED when it is not authentic. */
#define FX_ASYNC_FORGED (-1)
typedef int (*fx_async_judge_fn)(void *user, const struct fx_sink_ids *ids, const char *body,
                                 size_t len);

/* After the window: match, judge and measure every message stored since the last
 * collect call (so it may be called again once more messages have arrived). A
 * response whose outcome no unanswered request of its key expects is charged to the
 * first such request as `wrong_outcome` (no latency recorded). Returns the number
 * matched with the expected outcome so far. */
uint64_t fx_async_collect_judged(struct fx_async *a, fx_async_judge_fn judge, void *user);

/* The same with a verify callback (NULL = no check): every authentic response is
 * outcome 0, which fx_async_expect registers. Returns the number matched. */
uint64_t fx_async_collect(struct fx_async *a, fx_async_verify_fn verify, void *user);

#endif
