/* sequencer.c — group commit of verified messages (see sequencer.h).
 *
 * Thread model: submit/outcome push onto mutex-guarded lists from any thread;
 * the sequencer thread takes a group out, processes it, commits, and pushes
 * the group onto a "done" list that a uv_async drains on the loop. The read
 * transaction used for duplicate lookups is closed before the commit: growing
 * the map waits for readers, and the committer must not be one.
 *
 * Fairness: submitted messages wait in one FIFO per verified sender (domain
 * and role), and those FIFOs sit in a ring. A group is filled round-robin, one
 * message per sender per round, each sender taking at most max_per_sender of
 * it; the ring keeps turning from group to group. A sender that floods thus
 * delays another's message by at most one group, and that group is bounded
 * by its share, whatever the length of the flood. Order within a sender is
 * kept, which is what the market's semantics need (revisions, revocations);
 * between senders there was never an order to keep: their requests arrive
 * concurrently and the workers finish them in any order. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "engine/sequencer.h"
#include "engine/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* uthash must report allocation failure instead of exiting: each use site
 * declares `int oom = 0;` and checks it. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = 1)
#include <uthash.h>
#include <utlist.h>

#include "engine/respond.h"
#include "store/store.h"

const char *fx_seq_result_name(enum fx_seq_result r) {
  static const char *const n[FX_SEQ_RESULT_COUNT] = {"accepted", "rejected", "already_submitted", "duplicate"};
  return (unsigned)r < FX_SEQ_RESULT_COUNT ? n[r] : "?";
}

/* A message key seen earlier in the group: (domain, MessageID) → digest. */
struct seen {
  char key[254 + 16];
  size_t klen;
  uint8_t digest[32];
  UT_hash_handle hh;
};

/* Bytes that must outlive the store ops of one group. */
struct chunk {
  struct chunk *next;
  size_t used, cap;
  max_align_t data[];
};

/* The messages of one sender waiting for a group (key: role byte, domain). */
struct sender_q {
  char key[1 + 254];
  size_t klen;
  struct fx_inbound *head, *tail;
  unsigned taken;               /* in the group being filled */
  struct sender_q *prev, *next; /* the ring of senders with messages waiting */
  UT_hash_handle hh;
};

struct fx_seq_ctx {
  struct fx_sequencer *s;
  int64_t now_us;
  const char *peer_domain; /* the message's sender */
};

struct fx_sequencer {
  struct fx_sequencer_cfg cfg;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct sender_q *senders;  /* by key: senders with messages waiting */
  struct sender_q *ring;     /* the same senders, in round-robin order */
  struct sender_q spill;     /* for every sender when a queue cannot be allocated */
  bool in_any;               /* a message is waiting */
  unsigned n_in;             /* messages waiting */
  unsigned last_group;       /* messages in the previous group */
  bool lingering;            /* waiting for a group to fill: no wake-up per message */
  struct fx_outcome *oc_head;
  unsigned n_oc;                /* outcomes queued */
  struct timespec oc_deadline;  /* when queued outcomes stop waiting for messages */
  struct fx_seq_command *cmd_head, *cmd_tail;
  bool stopping;
  /* handed back to the loop */
  uv_async_t async;
  struct fx_inbound *done_head, *done_tail;
  struct fx_seq_command *cmd_done; /* commands whose group has committed */
  uint64_t groups_started, groups_finished;
  bool outbox_grew;
  /* sequencer-thread state */
  struct fx_store_batch batch;
  struct fx_store_read rd;
  struct seen *seen, *seen_pool;
  size_t seen_used, seen_cap;
  struct chunk *chunks;
  struct fx_buf xml;
  unsigned rows_added;
  bool group_oom; /* the group cannot be decided safely: fail its commit */
};

/* ---- per-group memory ---------------------------------------------------- */

void *fx_seq_alloc(struct fx_seq_ctx *ctx, size_t n) {
  struct fx_sequencer *s = ctx->s;
  n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  struct chunk *c = s->chunks;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    c = malloc(sizeof *c + cap);
    if (!c)
      return NULL;
    c->next = s->chunks, c->used = 0, c->cap = cap;
    s->chunks = c;
  }
  void *p = (char *)c->data + c->used;
  c->used += n;
  return p;
}

static void group_memory_release(struct fx_sequencer *s) {
  HASH_CLEAR(hh, s->seen); /* entries live in seen_pool; this frees the table */
  s->seen_used = 0;
  /* Keep the newest chunk for the next group, free the rest. */
  struct chunk *c = s->chunks;
  if (!c)
    return;
  for (struct chunk *n = c->next, *t; n; n = t) {
    t = n->next;
    free(n);
  }
  c->next = NULL;
  c->used = 0;
}

struct fx_store_batch *fx_seq_batch(struct fx_seq_ctx *ctx) { return &ctx->s->batch; }
struct fx_store_read *fx_seq_read(struct fx_seq_ctx *ctx) { return &ctx->s->rd; }
int64_t fx_seq_now(struct fx_seq_ctx *ctx) { return ctx->now_us; }

int fx_seq_send(struct fx_seq_ctx *ctx, const struct fx_msg *m, enum fx_role to_role, enum fx_role as_role) {
  struct fx_sequencer *s = ctx->s;
  struct fx_error err;
  fx_buf_reset(&s->xml);
  if (fx_write_msg(m, &s->xml, &err) != 0) {
    fx_log_emit(NULL, FX_LOG_ERROR, "internal", FX_LOG_KV(FX_LS("message_type", fx_msg_type_name(m->type))),
                "internal: %s not written: %s: %s", fx_msg_type_name(m->type), err.where, err.why);
    return -1;
  }
  char *body = fx_seq_alloc(ctx, s->xml.len);
  char *domain = fx_seq_alloc(ctx, strlen(m->hdr.recipient_domain) + 1);
  if (!body || !domain)
    return -1;
  memcpy(body, s->xml.data, s->xml.len);
  strcpy(domain, m->hdr.recipient_domain);
  struct fx_store_out o = {.domain = domain,
                           .role = fx_out_roles(to_role, as_role),
                           .type = (uint16_t)m->type,
                           .created_us = ctx->now_us,
                           .next_us = ctx->now_us,
                           .body = body,
                           .body_len = s->xml.len};
  if (fx_store_batch_out_add(&s->batch, &o, NULL) != 0)
    return -1;
  s->rows_added++;
  return 0;
}

/* ---- deciding one message ------------------------------------------------- */

static struct seen *seen_find(struct fx_sequencer *s, const char *key, size_t klen) {
  struct seen *e;
  HASH_FIND(hh, s->seen, key, klen, e);
  return e;
}

/* Without room to remember the key, a repeat later in the same group could
 * be journaled twice: the group then fails (503, the senders retry). */
static void seen_add(struct fx_sequencer *s, const char *key, size_t klen, const uint8_t digest[32]) {
  if (s->seen_used == s->seen_cap) { /* pool sized to the group, see commit_group */
    s->group_oom = true;
    return;
  }
  struct seen *e = &s->seen_pool[s->seen_used++];
  memcpy(e->key, key, klen);
  e->klen = klen;
  memcpy(e->digest, digest, 32);
  int oom = 0;
  HASH_ADD(hh, s->seen, key[0], klen, e);
  if (oom) {
    s->seen_used--;
    s->group_oom = true;
  }
}

/* Looks the key up in this group, then in the store: 0 new, 1 same, 2 other. */
static int duplicate_state(struct fx_sequencer *s, const struct fx_inbound *in, const char *key, size_t klen) {
  struct seen *e = seen_find(s, key, klen);
  if (e)
    return memcmp(e->digest, in->digest, 32) ? 2 : 1;
  struct fx_store_msg_view v;
  if (fx_store_msg_get(&s->rd, in->msg->hdr.sender_domain, in->msg->hdr.message_id.b, &v) != 0)
    return 0;
  return memcmp(fx_store_msg_digest(&v), in->digest, 32) ? 2 : 1;
}

static void decide(struct fx_sequencer *s, struct fx_inbound *in) {
  const struct fx_msg *m = in->msg;
  struct fx_seq_ctx ctx = {s, in->recv_us, m->hdr.sender_domain};
  char key[254 + 16];
  size_t dlen = strlen(m->hdr.sender_domain);
  memcpy(key, m->hdr.sender_domain, dlen);
  memcpy(key + dlen, m->hdr.message_id.b, 16);
  size_t klen = dlen + 16;

  fx_verdict_clear(&in->reasons);
  int dup = duplicate_state(s, in, key, klen);
  if (dup == 1) {
    in->result = FX_SEQ_ALREADY_SUBMITTED;
    fx_verdict_add(&in->reasons, FX_R_ALREADY_SUBMITTED);
  } else if (dup == 2) {
    in->result = FX_SEQ_DUPLICATE;
    fx_verdict_add(&in->reasons, FX_R_DUPLICATE_IDENTIFIER);
  } else {
    struct fx_store_msg rec = {.domain = m->hdr.sender_domain,
                               .msgid = m->hdr.message_id.b,
                               .digest = in->digest,
                               .type = (uint16_t)m->type,
                               .recv_us = in->recv_us,
                               .raw = in->raw,
                               .raw_len = in->raw_len};
    fx_store_batch_put_msg(&s->batch, &rec, NULL);
    seen_add(s, key, klen, in->digest);
    in->reasons = in->verdict;
    if (in->barred)
      fx_verdict_add(&in->reasons, FX_R_BARRED_SENDER);
  }

  struct fx_msg resp;
  bool answer = fx_response_init(&resp, m, s->cfg.platform_domain, in->recv_us, NULL) == 0;
  if (dup == 0 && fx_verdict_ok(&in->reasons) && s->cfg.hooks.apply)
    s->cfg.hooks.apply(s->cfg.hooks.market, &ctx, in, &in->reasons, answer ? &resp : NULL);
  if (dup == 0)
    in->result = fx_verdict_ok(&in->reasons) ? FX_SEQ_ACCEPTED : FX_SEQ_REJECTED;
  if (!answer)
    return; /* responses are never answered */
  if (!fx_verdict_ok(&in->reasons) && fx_msg_type_has_result(resp.type)) {
    resp.result = FX_RESULT_REJECTED;
    resp.rejection_reason = in->reasons.text;
  }
  fx_seq_send(&ctx, &resp, in->sender_role, fx_platform_role(m->type, in->sender_role));
}

/* ---- the fair input queue (caller holds mu) ------------------------------ */

static size_t sender_key(const struct fx_inbound *in, char key[1 + 254]) {
  size_t n = strnlen(in->msg->hdr.sender_domain, 254);
  key[0] = (char)in->sender_role;
  memcpy(key + 1, in->msg->hdr.sender_domain, n);
  return n + 1;
}

/* The sender's queue, created (and put at the ring's tail) on first sight.
 * Without memory for one, every such sender shares the spill queue: order is
 * still kept, only fairness suffers. */
static struct sender_q *sender_for(struct fx_sequencer *s, const struct fx_inbound *in) {
  char key[1 + 254];
  size_t klen = sender_key(in, key);
  struct sender_q *q;
  HASH_FIND(hh, s->senders, key, klen, q);
  if (q)
    return q;
  if (!(q = calloc(1, sizeof *q)))
    goto spill;
  memcpy(q->key, key, klen);
  q->klen = klen;
  int oom = 0;
  HASH_ADD(hh, s->senders, key[0], klen, q);
  if (oom) {
    free(q);
    goto spill;
  }
  DL_APPEND(s->ring, q);
  return q;
spill:
  if (!s->spill.head)
    DL_APPEND(s->ring, &s->spill);
  return &s->spill;
}

static void queue_push(struct fx_sequencer *s, struct fx_inbound *in) {
  struct sender_q *q = sender_for(s, in);
  if (q->tail)
    q->tail->next = in;
  else
    q->head = in;
  q->tail = in;
  s->in_any = true;
  s->n_in++;
}

/* One message off q, whose place in the ring the caller has taken; q goes
 * back to the ring's tail while it has more, else it is forgotten. */
static struct fx_inbound *sender_pop(struct fx_sequencer *s, struct sender_q *q) {
  struct fx_inbound *in = q->head;
  if (in) {
    q->head = in->next;
    in->next = NULL;
    q->taken++;
  }
  if (q->head) {
    DL_APPEND(s->ring, q);
    return in;
  }
  q->tail = NULL;
  q->taken = 0;
  if (q != &s->spill) {
    HASH_DEL(s->senders, q);
    free(q);
  }
  return in;
}

/* Fills a group round-robin: one message per sender per round, a sender at
 * its share sits the rest of the group out. Returns the group (linked by
 * ->next, in the order it is to be decided) and its last message in *last. */
static struct fx_inbound *take_group(struct fx_sequencer *s, unsigned max, unsigned per_sender,
                                     struct fx_inbound **last) {
  struct fx_inbound *head = NULL, *tail = NULL;
  unsigned k = 0;
  for (bool took = true; took && k < max && s->ring;) {
    took = false;
    unsigned round = 0;
    struct sender_q *q;
    DL_COUNT(s->ring, q, round);
    for (; round && k < max; round--) {
      q = s->ring;
      DL_DELETE(s->ring, q);
      if (q->taken >= per_sender) {
        DL_APPEND(s->ring, q);
        continue;
      }
      struct fx_inbound *in = sender_pop(s, q);
      if (tail)
        tail->next = in;
      else
        head = in;
      tail = in;
      k++;
      took = true;
    }
  }
  struct sender_q *q;
  DL_FOREACH(s->ring, q) q->taken = 0;
  s->in_any = s->ring != NULL;
  s->n_in -= k;
  *last = tail;
  return head;
}

/* ---- the thread ------------------------------------------------------------ */

/* A row already settled (by an earlier outcome, or twice in this group) is
 * left alone: one stale mark must never fail the commit of a whole group. */
static void apply_outcome(struct fx_sequencer *s, const struct fx_outcome *o) {
  struct fx_store_out_view v;
  if (fx_store_out_get(&s->rd, o->id, &v) != 0 || fx_store_out_state(&v) != FX_OUT_PENDING)
    return;
  for (const struct fx_outcome *p = o->next; p; p = p->next)
    if (p->id == o->id)
      return; /* the later entry in the list is the earlier submission: keep that one */
  switch (o->what) {
  case FX_SEND_DELIVERED: fx_store_batch_out_delivered(&s->batch, o->id, o->t_us); break;
  case FX_SEND_RETRY: fx_store_batch_out_retry(&s->batch, o->id, o->t_us); break;
  case FX_SEND_EXPIRED: fx_store_batch_out_expired(&s->batch, o->id, o->t_us); break;
  }
}

static int commit_group(struct fx_sequencer *s, struct fx_inbound *group, struct fx_outcome *outcomes,
                        struct fx_seq_command *cmds) {
  size_t n = 0;
  for (struct fx_inbound *in = group; in; in = in->next)
    n++;
  if (n > s->seen_cap) {
    struct seen *p = realloc(s->seen_pool, n * sizeof *p);
    if (p) {
      s->seen_pool = p;
      s->seen_cap = n;
    }
  }
  fx_store_batch_reset(&s->batch);
  s->rows_added = 0;
  s->group_oom = false;
  int rc = fx_store_read_begin(&s->rd);
  if (rc == 0) {
    for (struct fx_inbound *in = group; in; in = in->next)
      decide(s, in);
    for (struct fx_seq_command *c = cmds; c; c = c->next) {
      struct fx_seq_ctx ctx = {s, c->now_us, NULL};
      c->run(s->cfg.hooks.market, &ctx, c);
    }
    for (struct fx_outcome *o = outcomes; o; o = o->next)
      apply_outcome(s, o);
    fx_store_read_end(&s->rd);
    if (s->group_oom)
      rc = FX_STORE_ENOMEM;
  }
  if (rc == 0 && s->batch.n)
    rc = fx_store_commit(s->cfg.store, &s->batch);
  if (s->cfg.hooks.after_commit)
    s->cfg.hooks.after_commit(s->cfg.hooks.market, rc == 0);
  if (rc != 0)
    fx_log_emit(NULL, FX_LOG_ERROR, "commit_failed",
                FX_LOG_KV(FX_LN("messages", n), FX_LS("why", fx_store_strerror(rc))),
                "commit of %zu message(s) failed: %s", n, fx_store_strerror(rc));
  for (struct fx_inbound *in = group; in; in = in->next)
    in->store_err = rc;
  group_memory_release(s);
  return rc;
}

/* Delivery outcomes alone do not start a group at once: while messages flow
 * they ride along with the next message group, sharing its fsync, instead of
 * costing a durable commit of their own. Alone they wait at most
 * OUTCOME_LINGER_NS, or until OUTCOME_BATCH of them are queued. A late mark
 * only keeps its row in flight a little longer. */
enum { OUTCOME_BATCH = 128 };
#define OUTCOME_LINGER_NS 5000000L

static bool ts_before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Caller holds mu and has outcomes queued, but no messages or commands. */
static bool outcomes_linger(const struct fx_sequencer *s) {
  if (s->n_oc >= OUTCOME_BATCH)
    return false;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return ts_before(&now, &s->oc_deadline);
}

/* Caller holds mu. Asks the store to keep zeros ahead of its use of its file
 * (store/prealloc.c): a cheap check after each group, and when a step is due
 * the store's own helper thread writes and syncs it while groups go on
 * committing. A step that fails is logged by the store and costs the commits
 * nothing but the allocation it would have saved them. */
static void prealloc_after(struct fx_sequencer *s) {
  (void)fx_store_prealloc(s->cfg.store);
}

/* Under load much of a group commit's cost is per commit, not per message
 * (the fdatasync and the meta page's synced write, ~10 pages of tree roots
 * and free list, a hand-back to the loop; about 150 µs of CPU for the store
 * alone), so a group that starts while the previous one was not alone waits
 * a little for company: in slices of LINGER_SLICE_NS, while each slice
 * brings more messages, for at most LINGER_SLICES of them, or until
 * COMMIT_TARGET are queued. A message at an idle sequencer (previous group of
 * one or none) is committed at once, and a lull ends the wait after one
 * slice. Submitters do not wake the sequencer while it lingers, except to
 * say the target is reached. Caller holds mu. */
enum { COMMIT_TARGET = 32, LINGER_SLICES = 4 };
#define LINGER_SLICE_NS 250000L

static void deadline_in(struct timespec *t, long ns) {
  clock_gettime(CLOCK_MONOTONIC, t);
  t->tv_nsec += ns;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
}

static bool linger_over(const struct fx_sequencer *s) {
  return s->n_in >= COMMIT_TARGET || s->cmd_head || s->stopping;
}

static void linger(struct fx_sequencer *s) {
  if (s->last_group < 2 || linger_over(s))
    return;
  s->lingering = true;
  for (int slice = 0; slice < LINGER_SLICES; slice++) {
    unsigned had = s->n_in;
    struct timespec until;
    deadline_in(&until, LINGER_SLICE_NS);
    while (!linger_over(s) && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
      ;
    if (linger_over(s) || s->n_in == had)
      break;
  }
  s->lingering = false;
}

static void *run(void *arg) {
  struct fx_sequencer *s = arg;
  (void)pthread_setname_np(pthread_self(), "fx-sequencer"); /* for top, perf and the bench */
  unsigned max = s->cfg.max_group ? s->cfg.max_group : 1024;
  unsigned per_sender = s->cfg.max_per_sender ? s->cfg.max_per_sender : (max + 3) / 4;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->in_any && !s->cmd_head && !s->stopping && (!s->oc_head || outcomes_linger(s)))
      if (s->oc_head)
        pthread_cond_timedwait(&s->cv, &s->mu, &s->oc_deadline);
      else
        pthread_cond_wait(&s->cv, &s->mu);
    if (!s->in_any && !s->oc_head && !s->cmd_head && s->stopping)
      break;
    if (s->in_any)
      linger(s);
    /* Take up to `max` messages, fairly, and every outcome. */
    struct fx_inbound *last = NULL;
    unsigned queued = s->n_in;
    struct fx_inbound *group = take_group(s, max, per_sender, &last);
    s->last_group = queued - s->n_in;
    struct fx_outcome *outcomes = s->oc_head;
    s->oc_head = NULL;
    s->n_oc = 0;
    struct fx_seq_command *cmds = s->cmd_head;
    s->cmd_head = s->cmd_tail = NULL;
    s->groups_started++;
    pthread_mutex_unlock(&s->mu);

    int rc = commit_group(s, group, outcomes, cmds);
    for (struct fx_outcome *o = outcomes, *t; o; o = t) {
      t = o->next;
      free(o);
    }

    pthread_mutex_lock(&s->mu);
    if (group) {
      if (s->done_tail)
        s->done_tail->next = group;
      else
        s->done_head = group;
      s->done_tail = last;
    }
    if (rc == 0 && s->rows_added)
      s->outbox_grew = true;
    s->groups_finished++;
    for (struct fx_seq_command *c = cmds, *t; c; c = t) {
      t = c->next;
      c->store_err = rc;
      c->next = s->cmd_done;
      s->cmd_done = c;
    }
    uv_async_send(&s->async);
    if (rc == 0)
      prealloc_after(s);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* On the loop thread: hand finished groups to the owner. */
static void on_async(uv_async_t *a) {
  struct fx_sequencer *s = a->data;
  pthread_mutex_lock(&s->mu);
  struct fx_inbound *done = s->done_head;
  s->done_head = s->done_tail = NULL;
  bool grew = s->outbox_grew;
  s->outbox_grew = false;
  struct fx_seq_command *cmds = s->cmd_done;
  s->cmd_done = NULL;
  uint64_t finished = s->groups_finished;
  pthread_mutex_unlock(&s->mu);
  if (s->cfg.after_groups)
    s->cfg.after_groups(finished, s->cfg.ud);
  for (struct fx_seq_command *c = cmds, *t; c; c = t) {
    t = c->next;
    if (c->done)
      c->done(c);
  }
  if (done && s->cfg.committed)
    s->cfg.committed(done, s->cfg.ud);
  if (grew && s->cfg.outbox_grew)
    s->cfg.outbox_grew(s->cfg.ud);
}

static void free_after_close(uv_handle_t *h);

int fx_sequencer_start(struct fx_sequencer **out, const struct fx_sequencer_cfg *cfg) {
  struct fx_sequencer *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->cfg = *cfg;
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the linger deadline */
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  fx_store_batch_init(&s->batch);
  fx_store_read_init(&s->rd, cfg->store);
  fx_buf_init(&s->xml);
  uv_async_init(cfg->loop, &s->async, on_async);
  s->async.data = s;
  if (pthread_create(&s->thread, NULL, run, s) != 0) {
    uv_close((uv_handle_t *)&s->async, free_after_close);
    return -1;
  }
  *out = s;
  return 0;
}

void fx_sequencer_submit(struct fx_sequencer *s, struct fx_inbound *in) {
  in->next = NULL;
  pthread_mutex_lock(&s->mu);
  queue_push(s, in);
  if (!s->lingering || s->n_in >= COMMIT_TARGET)
    pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

void fx_sequencer_command(struct fx_sequencer *s, struct fx_seq_command *c) {
  c->next = NULL;
  pthread_mutex_lock(&s->mu);
  if (s->cmd_tail)
    s->cmd_tail->next = c;
  else
    s->cmd_head = c;
  s->cmd_tail = c;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

uint64_t fx_sequencer_outcome(struct fx_sequencer *s, struct fx_outcome *o) {
  pthread_mutex_lock(&s->mu);
  if (!s->oc_head) {
    clock_gettime(CLOCK_MONOTONIC, &s->oc_deadline);
    s->oc_deadline.tv_nsec += OUTCOME_LINGER_NS;
    if (s->oc_deadline.tv_nsec >= 1000000000L) {
      s->oc_deadline.tv_sec++;
      s->oc_deadline.tv_nsec -= 1000000000L;
    }
  }
  o->next = s->oc_head;
  s->oc_head = o;
  s->n_oc++;
  /* Groups take their input under this mutex: the next one takes o. */
  uint64_t group = s->groups_started + 1;
  if (s->n_oc == 1 || s->n_oc == OUTCOME_BATCH) /* else the sequencer is already counting down */
    pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return group;
}

static void free_after_close(uv_handle_t *h) {
  struct fx_sequencer *s = h->data;
  fx_store_batch_free(&s->batch);
  fx_store_read_free(&s->rd);
  fx_buf_free(&s->xml);
  free(s->seen_pool);
  while (s->chunks) {
    struct chunk *c = s->chunks;
    s->chunks = c->next;
    free(c);
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

void fx_sequencer_stop(struct fx_sequencer *s) {
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  on_async(&s->async); /* report the last groups now */
  /* Commands queued by those reports (a run continuing itself) will not run:
   * hand each back to its owner with an error so it is freed, a bounded
   * number of rounds in case an owner queues again. */
  for (int round = 0; round < 64 && s->cmd_head; round++) {
    struct fx_seq_command *c = s->cmd_head;
    s->cmd_head = s->cmd_tail = NULL;
    for (struct fx_seq_command *t; c; c = t) {
      t = c->next;
      c->store_err = FX_STORE_EIO;
      if (c->done)
        c->done(c);
    }
  }
  uv_close((uv_handle_t *)&s->async, free_after_close);
}
