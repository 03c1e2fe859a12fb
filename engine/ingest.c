/* ingest.c — the inbound path: HTTP request → worker → sequencer → HTTP reply.
 *
 * On the loop thread the handler applies the transport checks that need no
 * crypto (path, method, content type) and queues a job. On a worker the job
 * parses the envelope, finds the sender (401 when unknown, 419 while its key
 * is awaited from DNS), applies its rate
 * (429), opens the signature (401/400), parses the inner message with every
 * schema check (400), digests it, and runs the stateless generic checks. A job
 * that passed goes from the worker straight to the sequencer (no hop through
 * the loop) and is answered 200 on the loop only once its group has committed
 * (503 when the commit failed); one that failed goes back to the loop and is
 * answered with its status. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/server_int.h"

#define UFTP_PATH "/shapeshifter/api/v3/message"

struct ingest_job {
  struct fx_workers_job job;
  struct fx_server *srv;
  struct fx_http_request *req;
  struct fx_registry *reg; /* the snapshot this job was judged against */
  const uint8_t *body;
  size_t len;
  int64_t recv_us, t0;      /* wall clock; monotonic start */
  int64_t t_open, t_parse, t_validate; /* stage durations, µs */
  int status;               /* non-zero: answer this HTTP status, no sequencing */
  char why[512];
  fx_arena *arena;
  struct fx_inbound in;
  struct ingest_job *pool_next; /* in srv->ingest_pool */
};

static void reply(struct fx_server *srv, struct fx_http_request *req, int status, const char *text) {
  char body[256];
  int n = snprintf(body, sizeof body, "%d %s%s%s\n", status, fx_http_status_text(status), text ? ": " : "",
                   text ? text : "");
  const char *extra = status == 429 || status == 503 ? "Retry-After: 1\r\n" : NULL;
  fx_count_http(srv, status);
  fx_http_respond(req, status, "text/plain; charset=utf-8", body, (size_t)n, extra);
}

/* text/xml or application/xml; a charset, if given, must be UTF-8. */
static bool content_type_ok(const char *ct) {
  if (!ct)
    return false;
  size_t n = strcspn(ct, ";");
  while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  if (!((n == 8 && !strncasecmp(ct, "text/xml", 8)) || (n == 15 && !strncasecmp(ct, "application/xml", 15))))
    return false;
  for (const char *p = ct + strcspn(ct, ";"); *p == ';';) {
    p++;
    p += strspn(p, " \t");
    size_t k = strcspn(p, ";");
    if (k >= 8 && !strncasecmp(p, "charset=", 8)) {
      const char *v = p + 8;
      size_t vl = k - 8;
      if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
        v++, vl -= 2;
      while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
      if (!((vl == 5 && !strncasecmp(v, "utf-8", 5)) || (vl == 4 && !strncasecmp(v, "utf8", 4))))
        return false;
    }
    p += k;
  }
  return true;
}

/* Finished jobs are kept for the next requests (loop thread only): a job and
 * its arena's first block cost a calloc, a 16 KiB allocation and their frees
 * per message otherwise. Only jobs whose message fitted that first block are
 * kept, so the pool holds at most INGEST_POOL × 16 KiB. */
enum { INGEST_POOL = 64, ARENA_FIRST = 16384 };

static struct ingest_job *job_new(struct fx_server *srv) {
  struct ingest_job *j = srv->ingest_pool;
  if (!j) {
    j = calloc(1, sizeof *j);
    if (j && !(j->arena = fx_arena_new(64u << 20))) {
      free(j);
      return NULL;
    }
    return j;
  }
  srv->ingest_pool = j->pool_next;
  srv->n_ingest_pool--;
  fx_arena *a = j->arena;
  memset(j, 0, sizeof *j);
  fx_arena_reset(a);
  j->arena = a;
  return j;
}

static void job_free(struct ingest_job *j) {
  struct fx_server *srv = j->srv;
  fx_registry_unref(j->reg);
  j->reg = NULL;
  if (srv->n_ingest_pool < INGEST_POOL && fx_arena_used(j->arena) <= ARENA_FIRST) {
    j->pool_next = srv->ingest_pool;
    srv->ingest_pool = j;
    srv->n_ingest_pool++;
    return;
  }
  fx_arena_free(j->arena);
  free(j);
}

void fx_ingest_pool_free(struct fx_server *srv) {
  while (srv->ingest_pool) {
    struct ingest_job *j = srv->ingest_pool;
    srv->ingest_pool = j->pool_next;
    fx_arena_free(j->arena);
    free(j);
  }
  srv->n_ingest_pool = 0;
}

static void job_done(struct fx_workers_job *job, int status);
static int job_pass(struct fx_workers_job *job);

void fx_ingest_handler(struct fx_http_request *req, void *ud) {
  struct fx_server *srv = ud;
  const char *path = fx_http_request_path(req);
  if (strcmp(path, UFTP_PATH) != 0)
    return reply(srv, req, 404, "UFTP messages go to " UFTP_PATH);
  if (strcmp(fx_http_request_method(req), "POST") != 0)
    return reply(srv, req, 405, "only POST");
  if (!content_type_ok(fx_http_request_content_type(req)))
    return reply(srv, req, 400, "Content-Type must be text/xml (or application/xml) in UTF-8");
  if (srv->stopping)
    return reply(srv, req, 503, "shutting down");
  struct ingest_job *j = job_new(srv);
  if (!j)
    return reply(srv, req, 503, "out of memory");
  j->srv = srv;
  j->req = req;
  j->reg = fx_registry_ref(srv->reg);
  j->body = fx_http_request_body(req, &j->len);
  j->recv_us = fx_now_us();
  j->t0 = fx_mono_us();
  j->job.work = fx_ingest_job_work;
  j->job.done = job_done;
  j->job.pass = job_pass;
  /* Fair queuing per (client address, claimed sender): fx_registry_flow. */
  j->job.flow = fx_registry_flow(j->reg, fx_http_request_peer(req), j->body, j->len);
  if (fx_workers_submit(srv->workers, &j->job) != 0) {
    job_free(j);
    return reply(srv, req, 503, "busy");
  }
  srv->ingest_inflight++;
}

static int fail(struct ingest_job *j, int status, const char *fmt, const char *a, const char *b) {
  j->status = status;
  snprintf(j->why, sizeof j->why, fmt, a, b);
  return -1;
}

/* The whole worker part; returns 0 when the message goes on to the sequencer. */
static int verify(struct ingest_job *j, struct fx_thread_ctx *tc) {
  struct fx_error err;
  struct fx_signed env;
  int64_t t1 = fx_mono_us();
  if (fx_read_signed(tc->rd, (const char *)j->body, j->len, &env, &err) != 0)
    return fail(j, 400, "SignedMessage: %s: %s", err.where[0] ? err.where : "document", err.why);
  const struct fx_participant *p = fx_registry_find(j->reg, env.sender_domain, env.sender_role);
  if (!p && fx_registry_awaits_dns(j->reg, env.sender_domain, env.sender_role))
    return fail(j, 419, "no key in DNS (yet) for %s as %s", env.sender_domain, fx_role_name(env.sender_role));
  if (!p)
    return fail(j, 401, "no key known for %s as %s", env.sender_domain, fx_role_name(env.sender_role));
  if (!fx_registry_rate_take(j->reg, p, j->recv_us))
    return fail(j, 429, "%s is over its rate%s", p->domain, "");
  /* The reader decoded the Body while checking it: verify those bytes. */
  struct fx_sign_opened op;
  int64_t c0 = fx_crypto_sample_begin(tc, FX_CRYPTO_OPEN);
  int rc = fx_sign_open_decoded((const uint8_t(*)[32])p->pk, p->n_keys, env.decoded, env.decoded_len, &op);
  fx_crypto_sample_end(tc, FX_CRYPTO_OPEN, c0);
  if (rc != FX_SIGN_OK)
    return fail(j, fx_sign_http_status(rc), "%s (sender %s)", op.why ? op.why : fx_sign_strerror(rc), p->domain);
  int64_t t2 = fx_mono_us();
  j->t_open = t2 - t1;
  crypto_generichash(j->in.digest, sizeof j->in.digest, (const unsigned char *)op.inner, op.len, NULL, 0);
  if (fx_read_msg_arena(tc->rd, j->arena, op.inner, op.len, &j->in.msg, &err) != 0)
    return fail(j, 400, "inner message: %s: %s", err.where[0] ? err.where : "document", err.why);
  int64_t t3 = fx_mono_us();
  j->t_parse = t3 - t2;
  j->in.raw = j->body;
  j->in.raw_len = j->len;
  /* op.inner lives in the reader's buffer, reused by this thread's next job;
   * the market keeps these bytes as the stored body of requests and offers. */
  void *inner = fx_arena_alloc(j->arena, op.len);
  if (inner)
    memcpy(inner, op.inner, op.len);
  j->in.inner = inner;
  j->in.inner_len = inner ? op.len : 0;
  j->in.sender_role = env.sender_role;
  j->in.barred = p->barred;
  j->in.recv_us = j->recv_us;
  j->in.ud = j;
  fx_verdict_clear(&j->in.verdict);
  fx_validate_generic(tc->val, j->in.msg, env.sender_domain, env.sender_role, j->recv_us, &j->in.verdict);
  j->t_validate = fx_mono_us() - t3;
  return 0;
}

void fx_ingest_job_work(struct fx_workers_job *job, void *thread_ctx) {
  struct ingest_job *j = (struct ingest_job *)job;
  verify(j, thread_ctx);
}

static void log_http_rejection(struct ingest_job *j) {
  const char *peer = fx_http_request_peer(j->req);
  fx_log_emit(&j->srv->log, j->status >= 500 ? FX_LOG_ERROR : FX_LOG_WARN, "http_refused",
              FX_LOG_KV(FX_LN("status", j->status), FX_LS("peer_ip", peer), FX_LS("why", j->why)), "%d to %s: %s",
              j->status, peer, j->why);
}

static void job_done(struct fx_workers_job *job, int status) {
  struct ingest_job *j = (struct ingest_job *)job;
  struct fx_server *srv = j->srv;
  if (status == FX_WORKERS_CANCELED)
    j->status = 503, snprintf(j->why, sizeof j->why, "shutting down");
  if (j->status) {
    log_http_rejection(j);
    reply(srv, j->req, j->status, j->why);
    srv->ingest_inflight--;
    job_free(j);
    return;
  }
  job_pass(job); /* not reached while the worker passes every verified job on */
}

/* On the worker: a verified message goes to the sequencer from here (the
 * metrics are atomic, the sequencer takes submissions from any thread). Once
 * submitted the job belongs to the sequencer and then the loop: hands off. */
static int job_pass(struct fx_workers_job *job) {
  struct ingest_job *j = (struct ingest_job *)job;
  if (j->status)
    return 0;
  struct fx_server *srv = j->srv;
  fx_histogram_observe_us(srv->met.stage_open, (uint64_t)j->t_open);
  fx_histogram_observe_us(srv->met.stage_parse, (uint64_t)j->t_parse);
  fx_histogram_observe_us(srv->met.stage_validate, (uint64_t)j->t_validate);
  j->t_validate = fx_mono_us(); /* from here: the commit stage */
  fx_sequencer_submit(srv->seq, &j->in);
  return 1;
}

static void log_uftp_rejection(struct fx_server *srv, const struct fx_inbound *in) {
  char id[FX_UUID_STRLEN], conv[FX_UUID_STRLEN];
  const struct fx_msg_header *h = &in->msg->hdr;
  fx_uuid_format(&h->message_id, id);
  fx_uuid_format(&h->conversation_id, conv);
  const char *type = fx_msg_type_name(in->msg->type);
  fx_log_emit(&srv->log, FX_LOG_WARN, "rejected",
              FX_LOG_KV(FX_LS("message_type", type), FX_LS("message_id", id), FX_LS("conversation_id", conv),
                        FX_LS("sender", h->sender_domain), FX_LS("sender_role", fx_role_name(in->sender_role)),
                        FX_LS("reasons", in->reasons.text)),
              "rejected %s %s from %s: %s", type, id, h->sender_domain, in->reasons.text);
}

void fx_ingest_committed(struct fx_inbound *group, void *ud) {
  struct fx_server *srv = ud;
  int64_t now = fx_mono_us();
  for (struct fx_inbound *in = group, *next; in; in = next) {
    next = in->next;
    struct ingest_job *j = in->ud;
    fx_histogram_observe_us(srv->met.stage_commit, (uint64_t)(now - j->t_validate));
    if (in->store_err) {
      fx_log_emit(&srv->log, FX_LOG_ERROR, "http_refused",
                  FX_LOG_KV(FX_LN("status", 503), FX_LS("peer_ip", fx_http_request_peer(j->req))),
                  "503 to %s: the store cannot commit", fx_http_request_peer(j->req));
      reply(srv, j->req, 503, "the store cannot commit");
    } else {
      fx_counter_inc(srv->met.messages[in->msg->type][in->result]);
      if (in->result != FX_SEQ_ACCEPTED) {
        fx_count_reasons(srv, in->reasons.text);
        log_uftp_rejection(srv, in);
      }
      fx_count_http(srv, 200);
      fx_http_respond(j->req, 200, NULL, NULL, 0, NULL);
      fx_histogram_observe_us(srv->met.end_to_end, (uint64_t)(now - j->t0));
    }
    srv->ingest_inflight--;
    job_free(j);
  }
}
