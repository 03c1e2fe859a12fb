/* outbox.c — delivering the outbox: sign on a worker, POST with libcurl,
 * record the outcome through the sequencer.
 *
 * A scan walks the store's due index (rows whose next attempt has come, oldest
 * first) and starts a delivery for each row not already in flight, up to a
 * bound. A delivery stays in the in-flight set until the sequencer has
 * committed its outcome (fx_sequencer_outcome says which group does), so a row is never
 * sent twice at once; if that commit failed, the row is still due and is sent
 * again later: delivery is at-least-once, and a peer that sees the same
 * MessageID twice answers Already Submitted.
 *
 * Per the transport appendix: 2xx and unambiguous 4xx are final (the latter
 * logged as a permanent failure), everything else is retried with exponential
 * back-off until the configured window (≥ 1 h) has passed since the row was
 * created, then the row expires and that is logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "engine/server_int.h"

enum { MAX_INFLIGHT = 256, POST_TIMEOUT_MS = 10000 };
#define BACKOFF_BASE_US 1000000LL      /* doubled once for the first retry: 1-2 s after the failure */
#define BACKOFF_CAP_US (600LL * 1000000) /* then at most every 10 min */

enum dstate { SIGNING, POSTING, SETTLING };

struct delivery {
  struct fx_outbox *ob;
  struct delivery *batch_next; /* the sign batch it is in */
  uint64_t id;
  enum dstate state;
  uint64_t settle_gen; /* the sequencer group that commits the outcome */
  uint8_t roles;
  uint16_t type;
  uint32_t attempts;
  int64_t created_us;
  char domain[254];
  char url[512];
  char *inner;
  size_t inner_len;
  struct fx_buf out; /* the SignedMessage, built by the worker */
  struct fx_platform_keys *keys; /* the snapshot this delivery signs with */
  int sign_err;
  UT_hash_handle hh;
};

/* Rows to sign, handed to a worker as one job: a scan starts every due row
 * at once, and one hand-off (a futex wake, a context switch, a completion
 * wake-up) per worker instead of per row is most of what the hop costs. */
struct sign_batch {
  struct fx_workers_job job;
  struct fx_outbox *ob;
  struct delivery *first;
};

struct fx_outbox {
  struct fx_server *srv;
  struct delivery *inflight; /* by id */
  unsigned n_inflight;
  struct delivery *to_sign;  /* started by this scan, not yet handed to a worker */
  struct delivery **to_sign_tail;
  unsigned n_to_sign;
  unsigned threads;          /* worker threads: a scan's rows go out in as many batches */
  uint64_t groups;           /* sequencer progress */
  struct fx_store_read rd;
  uv_idle_t idle;            /* a scan at most once per loop turn */
  bool scan_pending;
};

static void delivery_free(struct fx_outbox *ob, struct delivery *d) {
  HASH_DEL(ob->inflight, d);
  ob->n_inflight--;
  fx_platform_keys_unref(d->keys);
  free(d->inner);
  fx_buf_free(&d->out);
  free(d);
}

static void settle(struct delivery *d, enum fx_delivery what, int64_t t_us) {
  struct fx_outbox *ob = d->ob;
  struct fx_server *srv = ob->srv;
  struct fx_outcome *o = calloc(1, sizeof *o);
  if (!o) { /* without memory the row simply stays due */
    delivery_free(ob, d);
    return;
  }
  o->id = d->id, o->what = what, o->t_us = t_us;
  d->state = SETTLING;
  d->settle_gen = fx_sequencer_outcome(srv->seq, o);
}

/* A failed attempt: retry later, or give up once the window has passed. */
static void failed(struct delivery *d, const char *why) {
  struct fx_server *srv = d->ob->srv;
  int64_t now = fx_now_us();
  if (now - d->created_us >= (int64_t)srv->cfg.retry_window_s * 1000000) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "delivery_expired",
                FX_LOG_KV(FX_LN("outbox_id", d->id), FX_LS("recipient", d->domain),
                          FX_LS("message_type", fx_msg_type_name(d->type)), FX_LN("attempts", d->attempts + 1),
                          FX_LS("why", why)),
                "outbox %llu to %s expired after %u attempts: %s", (unsigned long long)d->id, d->domain,
                d->attempts + 1, why);
    fx_counter_inc(srv->met.delivery[3]);
    settle(d, FX_SEND_EXPIRED, now);
    return;
  }
  fx_counter_inc(srv->met.delivery[1]);
  uint64_t wait = fx_backoff_next_us(d->attempts + 1, BACKOFF_BASE_US, BACKOFF_CAP_US, d->id);
  settle(d, FX_SEND_RETRY, now + (int64_t)wait);
}

static void posted(int status, enum fx_http_err err, void *ud) {
  struct delivery *d = ud;
  struct fx_server *srv = d->ob->srv;
  if (err == FX_HTTP_ECANCELED) { /* shutting down: the row stays due */
    delivery_free(d->ob, d);
    return;
  }
  char why[96];
  if (err)
    snprintf(why, sizeof why, "%s", fx_http_err_name(err));
  else
    snprintf(why, sizeof why, "HTTP %d", status);
  switch (fx_http_delivery_class(status, err)) {
  case FX_DELIVERY_FINAL_OK:
    fx_counter_inc(srv->met.delivery[0]);
    settle(d, FX_SEND_DELIVERED, fx_now_us());
    break;
  case FX_DELIVERY_FINAL_REJECTED:
    fx_log_emit(&srv->log, FX_LOG_ERROR, "delivery_refused",
                FX_LOG_KV(FX_LN("outbox_id", d->id), FX_LS("recipient", d->domain),
                          FX_LS("message_type", fx_msg_type_name(d->type)), FX_LN("status", status),
                          FX_LS("why", why)),
                "outbox %llu to %s refused for good: %s", (unsigned long long)d->id, d->domain, why);
    fx_counter_inc(srv->met.delivery[2]);
    settle(d, FX_SEND_EXPIRED, fx_now_us());
    break;
  case FX_DELIVERY_RETRY:
    failed(d, why);
    break;
  }
}

/* On a worker: sign the inner message as the platform's role and wrap it. */
static void sign_one(struct delivery *d, struct fx_thread_ctx *tc) {
  struct fx_server *srv = d->ob->srv;
  enum fx_role as = fx_out_as(d->roles);
  const char *b64;
  size_t b64_len;
  int64_t c0 = fx_crypto_sample_begin(tc, FX_CRYPTO_SIGN);
  d->sign_err = fx_sign_seal(tc->sc, d->keys->cur[as].sec.sign, d->inner, d->inner_len, &b64, &b64_len);
  fx_crypto_sample_end(tc, FX_CRYPTO_SIGN, c0);
  if (d->sign_err)
    return;
  struct fx_signed env = {.sender_domain = srv->cfg.domain, .sender_role = as, .body = b64, .body_len = b64_len};
  struct fx_error err;
  if (fx_write_signed(&env, &d->out, &err) != 0)
    d->sign_err = -1;
}

static void sign_work(struct fx_workers_job *job, void *thread_ctx) {
  struct sign_batch *b = (struct sign_batch *)job;
  for (struct delivery *d = b->first; d; d = d->batch_next)
    sign_one(d, thread_ctx);
}

static void signed_one(struct delivery *d, int status) {
  struct fx_server *srv = d->ob->srv;
  if (status == FX_WORKERS_CANCELED) {
    delivery_free(d->ob, d);
    return;
  }
  if (d->sign_err) {
    failed(d, "could not sign");
    return;
  }
  d->state = POSTING;
  if (fx_http_client_post(srv->client, d->url, "text/xml; charset=utf-8", d->out.data, d->out.len, POST_TIMEOUT_MS,
                          posted, d) != 0)
    failed(d, "could not start the POST");
}

static void sign_done(struct fx_workers_job *job, int status) {
  struct sign_batch *b = (struct sign_batch *)job;
  for (struct delivery *d = b->first, *next; d; d = next) {
    next = d->batch_next;
    d->batch_next = NULL;
    signed_one(d, status);
  }
  free(b);
}

/* Hands the rows this scan started to the workers, in at most one batch per
 * worker thread so that they still sign in parallel. A batch the pool
 * refuses (busy) is dropped: its rows stay due and the next scan tries again. */
static void submit_signing(struct fx_outbox *ob) {
  unsigned jobs = ob->n_to_sign < ob->threads ? ob->n_to_sign : ob->threads;
  struct delivery *d = ob->to_sign;
  for (unsigned j = 0; j < jobs; j++) {
    unsigned left = jobs - j, take = (ob->n_to_sign + left - 1) / left; /* the rest, shared evenly */
    struct sign_batch *b = calloc(1, sizeof *b);
    struct delivery *last = d;
    for (unsigned i = 1; i < take; i++)
      last = last->batch_next;
    struct delivery *rest = last->batch_next;
    last->batch_next = NULL;
    if (b) {
      b->ob = ob, b->first = d;
      b->job.work = sign_work, b->job.done = sign_done;
      b->job.flow = fx_workers_flow_key("flexd.outbox", 12);
    }
    if (!b || fx_workers_submit(ob->srv->workers, &b->job) != 0) {
      free(b);
      for (struct delivery *next; d; d = next) {
        next = d->batch_next;
        delivery_free(ob, d);
      }
    }
    ob->n_to_sign -= take;
    d = rest;
  }
  ob->to_sign = NULL;
  ob->to_sign_tail = &ob->to_sign;
  ob->n_to_sign = 0;
}

static void start(struct fx_outbox *ob, const struct fx_store_out_view *v) {
  struct fx_server *srv = ob->srv;
  struct delivery *d = calloc(1, sizeof *d);
  size_t len;
  const uint8_t *body = fx_store_out_body(v, &len);
  if (!d || !(d->inner = malloc(len + 1))) {
    free(d);
    return;
  }
  memcpy(d->inner, body, len);
  d->inner[len] = 0;
  d->inner_len = len;
  d->ob = ob;
  d->id = fx_store_out_id(v);
  d->roles = fx_store_out_role(v);
  d->type = fx_store_out_type(v);
  d->attempts = fx_store_out_attempts(v);
  d->created_us = fx_store_out_created_us(v);
  snprintf(d->domain, sizeof d->domain, "%s", fx_store_out_domain(v));
  fx_buf_init(&d->out);
  HASH_ADD(hh, ob->inflight, id, sizeof d->id, d);
  ob->n_inflight++;
  const struct fx_participant *p = fx_registry_find(srv->reg, d->domain, fx_out_to(d->roles));
  if (!p || !p->endpoint[0]) {
    failed(d, "no endpoint known for the recipient");
    return;
  }
  d->keys = fx_platform_keys_ref(srv->keys); /* a SIGHUP may replace srv->keys meanwhile */
  if (!d->keys->has[fx_out_as(d->roles)]) {
    failed(d, "no key configured for the signing role");
    return;
  }
  snprintf(d->url, sizeof d->url, "%s", p->endpoint);
  d->state = SIGNING;
  *ob->to_sign_tail = d; /* oldest due first, as the index gives them */
  ob->to_sign_tail = &d->batch_next;
  ob->n_to_sign++;
}

static void scan(struct fx_outbox *ob) {
  struct fx_server *srv = ob->srv;
  if (srv->stopping)
    return;
  /* Deliveries whose outcome has certainly been committed leave the set. */
  struct delivery *d, *tmp;
  HASH_ITER(hh, ob->inflight, d, tmp)
  if (d->state == SETTLING && ob->groups >= d->settle_gen)
    delivery_free(ob, d);
  if (ob->n_inflight >= MAX_INFLIGHT || fx_store_read_begin(&ob->rd) != 0)
    return;
  struct fx_store_iter it;
  struct fx_store_out_view v;
  unsigned visited = 0;
  if (fx_store_due_iter(&ob->rd, fx_now_us(), &it) == 0) {
    while (ob->n_inflight < MAX_INFLIGHT && visited < 4 * MAX_INFLIGHT && fx_store_due_next(&it, &v) == 1) {
      visited++;
      uint64_t id = fx_store_out_id(&v);
      HASH_FIND(hh, ob->inflight, &id, sizeof id, d);
      if (!d)
        start(ob, &v);
    }
    fx_store_iter_close(&it);
  }
  if (ob->to_sign)
    submit_signing(ob);
  struct fx_store_sizes sz;
  if (fx_store_sizes(&ob->rd, &sz) == 0) {
    fx_gauge_set(srv->met.outbox_pending, (int64_t)sz.outbox_pending);
    fx_gauge_set(srv->met.journal_messages, (int64_t)sz.messages);
  }
  fx_store_read_end(&ob->rd);
  fx_gauge_set(srv->met.outbox_inflight, ob->n_inflight);
}

static void on_idle(uv_idle_t *h) {
  struct fx_outbox *ob = h->data;
  uv_idle_stop(h);
  ob->scan_pending = false;
  scan(ob);
}

void fx_outbox_kick(struct fx_outbox *ob) {
  if (ob->scan_pending)
    return;
  ob->scan_pending = true;
  uv_idle_start(&ob->idle, on_idle);
}

void fx_outbox_groups(struct fx_outbox *ob, uint64_t n) {
  ob->groups = n;
  fx_outbox_kick(ob);
}

unsigned fx_outbox_inflight(const struct fx_outbox *ob) { return ob->n_inflight; }

int fx_outbox_new(struct fx_outbox **out, struct fx_server *srv) {
  struct fx_outbox *ob = calloc(1, sizeof *ob);
  if (!ob)
    return -1;
  ob->srv = srv;
  ob->threads = srv->cfg.workers ? srv->cfg.workers : uv_available_parallelism();
  ob->to_sign_tail = &ob->to_sign;
  fx_store_read_init(&ob->rd, srv->store);
  uv_idle_init(&srv->loop, &ob->idle);
  ob->idle.data = ob;
  *out = ob;
  return 0;
}

static void free_after_close(uv_handle_t *h) {
  struct fx_outbox *ob = h->data;
  struct delivery *d, *tmp;
  HASH_ITER(hh, ob->inflight, d, tmp)
  delivery_free(ob, d);
  fx_store_read_free(&ob->rd);
  free(ob);
}

/* After the workers and the HTTP client have been closed (their callbacks
 * have run), what is left in flight is only settling or abandoned. */
void fx_outbox_free(struct fx_outbox *ob) {
  uv_idle_stop(&ob->idle);
  uv_close((uv_handle_t *)&ob->idle, free_after_close);
}
