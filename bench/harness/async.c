/* async.c — storing, matching and timing asynchronous responses (see async.h).
 *
 * Everything is allocated in fx_async_init: the per-request arrays, one hash entry
 * per request, the message slots and the byte arena. The callbacks that run during
 * the window only copy bytes and store integers. */
#include "bench/harness/async.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define NO_NEXT UINT64_MAX

/* One per request. The first request of a key is in the hash; later requests with
 * the same key hang off it through `next`, in registration order. */
struct fx_async_key {
  char key[64];
  uint64_t index;
  uint64_t next; /* the next request with this key, NO_NEXT at the end */
  int expected;
  UT_hash_handle hh;
};

struct fx_async_msg {
  uint64_t arrival_ns;
  size_t off, len; /* in the arena */
};

int fx_async_init(struct fx_async *a, size_t n_requests, size_t max_msgs, size_t max_bytes) {
  memset(a, 0, sizeof *a);
  fx_hist_reset(&a->lat);
  a->n = n_requests;
  a->max_msgs = max_msgs;
  a->arena_cap = max_bytes;
  a->intended = calloc(n_requests ? n_requests : 1, sizeof *a->intended);
  a->answered = calloc(n_requests ? n_requests : 1, 1);
  a->keys = calloc(n_requests ? n_requests : 1, sizeof *a->keys);
  a->msgs = calloc(max_msgs ? max_msgs : 1, sizeof *a->msgs);
  a->arena = malloc(max_bytes ? max_bytes : 1);
  if (!a->intended || !a->answered || !a->keys || !a->msgs || !a->arena) {
    fx_async_free(a);
    return -1;
  }
  return 0;
}

void fx_async_free(struct fx_async *a) {
  HASH_CLEAR(hh, a->by_key); /* entries live in a->keys */
  free(a->intended);
  free(a->answered);
  free(a->keys);
  free(a->msgs);
  free(a->arena);
  a->intended = NULL;
  a->answered = NULL;
  a->keys = NULL;
  a->msgs = NULL;
  a->arena = NULL;
}

static int do_expect(struct fx_async *a, uint64_t index, const char *key, int expected,
                     bool may_share) {
  size_t len = strlen(key);
  if (index >= a->n || len == 0 || len >= sizeof a->keys[0].key || expected < 0) return -1;
  struct fx_async_key *k = &a->keys[index], *found;
  if (k->key[0]) return -1; /* one key per request */
  HASH_FIND(hh, a->by_key, key, len, found);
  if (found && !may_share) return -1;
  memcpy(k->key, key, len + 1);
  k->index = index;
  k->next = NO_NEXT;
  k->expected = expected;
  if (found == NULL) {
    HASH_ADD_KEYPTR(hh, a->by_key, k->key, len, k);
    return 0;
  }
  while (found->next != NO_NEXT) found = &a->keys[found->next];
  found->next = index;
  return 0;
}

int fx_async_expect(struct fx_async *a, uint64_t index, const char *key) {
  return do_expect(a, index, key, 0, false);
}

int fx_async_expect_outcome(struct fx_async *a, uint64_t index, const char *key, int expected) {
  return do_expect(a, index, key, expected, true);
}

int fx_async_expected(const struct fx_async *a, uint64_t index) {
  return index < a->n ? a->keys[index].expected : -1;
}

void fx_async_on_response(void *user, uint64_t index, int status, uint64_t intended_ns,
                          uint64_t done_ns) {
  struct fx_async *a = user;
  if (index < a->n) a->intended[index] = intended_ns;
}

void fx_async_on_message(void *user, const char *body, size_t len, uint64_t arrival_ns) {
  struct fx_async *a = user;
  a->received++;
  if (a->n_msgs == a->max_msgs || a->arena_cap - a->arena_used < len) {
    a->dropped++;
    return;
  }
  struct fx_async_msg *m = &a->msgs[a->n_msgs++];
  m->arrival_ns = arrival_ns;
  m->off = a->arena_used;
  m->len = len;
  memcpy(a->arena + a->arena_used, body, len);
  a->arena_used += len;
}

static struct fx_async_key *lookup(const struct fx_async *a, const struct fx_sink_ids *ids) {
  struct fx_async_key *k = NULL;
  if (ids->ref_message_id[0])
    HASH_FIND(hh, a->by_key, ids->ref_message_id, strlen(ids->ref_message_id), k);
  if (k == NULL && ids->conversation_id[0])
    HASH_FIND(hh, a->by_key, ids->conversation_id, strlen(ids->conversation_id), k);
  return k;
}

/* The request of `head`'s key that a response with `outcome` answers: the first one
 * sent and unanswered that expects it; failing that (*wrong set) the first one sent
 * and unanswered; NULL when every request of the key was answered (or never sent). */
static struct fx_async_key *pick(struct fx_async *a, struct fx_async_key *head, int outcome,
                                 bool *wrong) {
  struct fx_async_key *fallback = NULL;
  *wrong = false;
  for (struct fx_async_key *k = head; k; k = k->next == NO_NEXT ? NULL : &a->keys[k->next]) {
    if (a->intended[k->index] == 0 || a->answered[k->index]) continue;
    if (k->expected == outcome) return k;
    if (fallback == NULL) fallback = k;
  }
  *wrong = fallback != NULL;
  return fallback;
}

static void charge_wrong(struct fx_async *a, const struct fx_async_key *k, int outcome) {
  if (a->wrong_outcome++ == 0) {
    a->first_wrong_index = k->index;
    a->first_wrong_expected = k->expected;
    a->first_wrong_got = outcome;
  }
}

static bool is_response(const char *type) {
  size_t n = strlen(type);
  return n > 8 && strcmp(type + n - 8, "Response") == 0;
}

/* One stored message: match, judge, time. */
static void collect_one(struct fx_async *a, const struct fx_async_msg *m, fx_async_judge_fn judge,
                        void *user) {
  const char *body = a->arena + m->off;
  struct fx_sink_ids ids;
  struct fx_async_key *head = NULL;
  bool read = fx_sink_ids(body, m->len, &ids) == 0;
  if (read) head = lookup(a, &ids);
  if (head == NULL && read && a->count_others && !is_response(ids.type)) {
    if (judge(user, &ids, body, m->len) < 0)
      a->bad_signature++;
    else
      a->others++;
    return;
  }
  if (head == NULL) {
    a->unmatched++;
    return;
  }
  int outcome = judge(user, &ids, body, m->len);
  if (outcome < 0) {
    a->bad_signature++;
    return;
  }
  bool wrong;
  struct fx_async_key *k = pick(a, head, outcome, &wrong);
  if (k == NULL) {
    bool sent = false;
    for (struct fx_async_key *x = head; x; x = x->next == NO_NEXT ? NULL : &a->keys[x->next])
      sent |= a->intended[x->index] != 0;
    if (sent)
      a->duplicates++;
    else
      a->unmatched++; /* names a request that never left */
    return;
  }
  a->answered[k->index] = 1;
  if (wrong) {
    charge_wrong(a, k, outcome);
    return;
  }
  a->matched++;
  uint64_t sent = a->intended[k->index];
  fx_hist_record(&a->lat, m->arrival_ns > sent ? m->arrival_ns - sent : 0);
  if (m->arrival_ns > a->last_arrival_ns) a->last_arrival_ns = m->arrival_ns;
}

uint64_t fx_async_collect_judged(struct fx_async *a, fx_async_judge_fn judge, void *user) {
  for (; a->collected < a->n_msgs; a->collected++) collect_one(a, &a->msgs[a->collected], judge, user);
  return a->matched;
}

/* fx_async_collect's verify callback as a judge: every authentic response is outcome 0. */
struct verify_as_judge {
  fx_async_verify_fn verify;
  void *user;
};

static int judge_by_verify(void *user, const struct fx_sink_ids *ids, const char *body,
                           size_t len) {
  const struct verify_as_judge *v = user;
  if (v->verify && v->verify(v->user, ids, body, len) != 0) return FX_ASYNC_FORGED;
  return 0;
}

uint64_t fx_async_collect(struct fx_async *a, fx_async_verify_fn verify, void *user) {
  struct verify_as_judge v = {verify, user};
  return fx_async_collect_judged(a, judge_by_verify, &v);
}
