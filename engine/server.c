/* server.c — `flexd serve`: start-up, signals, reload, orderly shutdown.
 *
 * Shutdown order matters because answers wait on commits: on SIGTERM the
 * server refuses new messages (503), waits for every message already taken to
 * be committed and answered, then stops the listener, the workers, the
 * sequencer (which commits what is queued), the HTTP client and the outbox, in
 * that order, and exits 0. Undelivered outbox rows stay in the store and are
 * delivered after the next start. */
#include "engine/server.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/discovery.h"
#include "engine/market.h"
#include "engine/query.h"
#include "engine/server_int.h"
#include "engine/tls.h"

enum { DRAIN_MAX_MS = 10000 };

int64_t fx_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fx_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- metrics -------------------------------------------------------------- */

static const int http_codes[FX_HTTP_CODES] = {200, 400, 401, 404, 405, 411, 413, 429, 431, 503};
static const char *const reason_names[] = {
    FX_R_MISMATCH_SENDER_DOMAIN, FX_R_INVALID_SENDER_ROLE, FX_R_UNKNOWN_RECIPIENT, FX_R_BARRED_SENDER,
    FX_R_DUPLICATE_IDENTIFIER, FX_R_ALREADY_SUBMITTED, FX_R_ISP_DURATION, FX_R_TIME_ZONE,
    FX_R_ISPS_OUT_OF_BOUNDS, FX_R_ISP_CONFLICT, FX_R_PERIOD_OUT_OF_BOUNDS, FX_R_EXPIRATION_OUT_OF_BOUNDS,
    FX_R_INVALID_CONGESTION_POINT, FX_R_INVALID_MESSAGE, FX_R_UNSUPPORTED_VERSION, "other"};

void fx_count_http(struct fx_server *srv, int status) {
  for (int i = 0; i < FX_HTTP_CODES; i++)
    if (http_codes[i] == status) {
      fx_counter_inc(srv->met.http_status[i]);
      return;
    }
}

void fx_count_reasons(struct fx_server *srv, const char *reasons) {
  struct fx_server_metrics *m = &srv->met;
  for (const char *p = reasons; *p;) {
    size_t n = strcspn(p, ";");
    unsigned i;
    for (i = 0; i + 1 < m->n_rejections; i++)
      if (strlen(m->rejection_names[i]) == n && !strncmp(m->rejection_names[i], p, n))
        break;
    fx_counter_inc(m->rejections[i]); /* the last is "other" */
    p += n + (p[n] == ';');
  }
}

static int register_metrics(struct fx_server_metrics *m) {
  static const char *const deliveries[4] = {"delivered", "retry", "rejected", "expired"};
  char labels[160];
  if (fx_metrics_new(&m->m) != 0)
    return -1;
  for (int t = 1; t < FX_MSG__COUNT; t++)
    for (int r = 0; r < FX_SEQ_RESULT_COUNT; r++) {
      snprintf(labels, sizeof labels, "type=%s,result=%s", fx_msg_type_name(t), fx_seq_result_name(r));
      if (!(m->messages[t][r] = fx_metrics_counter(m->m, "flexd_messages_total",
                                                   "Inner messages sequenced, by type and outcome", labels)))
        return -1;
    }
  m->n_rejections = sizeof reason_names / sizeof reason_names[0];
  for (unsigned i = 0; i < m->n_rejections; i++) {
    m->rejection_names[i] = reason_names[i];
    snprintf(labels, sizeof labels, "reason=%s", reason_names[i]);
    if (!(m->rejections[i] = fx_metrics_counter(m->m, "flexd_rejections_total",
                                                "UFTP rejection reasons sent, one count per phrase", labels)))
      return -1;
  }
  for (int i = 0; i < FX_HTTP_CODES; i++) {
    snprintf(labels, sizeof labels, "status=%d", http_codes[i]);
    if (!(m->http_status[i] = fx_metrics_counter(m->m, "flexd_http_responses_total",
                                                 "HTTP statuses answered on the UFTP listener", labels)))
      return -1;
  }
  struct fx_histogram **stages[5] = {&m->stage_open, &m->stage_parse, &m->stage_validate, &m->stage_commit,
                                     &m->end_to_end};
  static const char *const stage_names[5] = {"open", "parse", "validate", "commit", "end_to_end"};
  for (int i = 0; i < 5; i++) {
    snprintf(labels, sizeof labels, "stage=%s", stage_names[i]);
    if (!(*stages[i] = fx_metrics_histogram(m->m, "flexd_stage_seconds",
                                            "Time per stage of the inbound path", labels)))
      return -1;
  }
  for (int i = 0; i < 4; i++) {
    snprintf(labels, sizeof labels, "result=%s", deliveries[i]);
    if (!(m->delivery[i] = fx_metrics_counter(m->m, "flexd_delivery_attempts_total",
                                              "Outbound delivery attempts by outcome", labels)))
      return -1;
  }
  m->outbox_inflight = fx_metrics_gauge(m->m, "flexd_outbox_inflight", "Outbox rows being delivered", NULL);
  m->outbox_pending = fx_metrics_gauge(m->m, "flexd_outbox_pending", "Outbox rows not yet delivered or expired", NULL);
  m->journal_messages = fx_metrics_gauge(m->m, "flexd_journal_messages", "Inbound messages in the journal", NULL);
  m->store_bytes = fx_metrics_gauge(m->m, "flexd_store_map_bytes", "Size of the store's memory map", NULL);
  m->participants = fx_metrics_gauge(m->m, "flexd_participants", "Participants in the registry", NULL);
  m->orders_expired = fx_metrics_counter(m->m, "flexd_orders_expired_total",
                                         "FlexOrders expired without a FlexOrderResponse", NULL);
  m->clearing_failures = fx_metrics_counter(m->m, "flexd_clearing_failures_total",
                                            "Clearings that failed; the market is tried again with back-off", NULL);
  static const char *const crypto_ops[2] = {"op=open", "op=sign"};
  for (int i = 0; i < 2; i++)
    if (!(m->crypto_cpu[i] = fx_metrics_histogram(
              m->m, "flexd_crypto_cpu_seconds",
              "Thread CPU time of sampled signature checks (open) and signings (sign), one call in 8", crypto_ops[i])))
      return -1;
  return m->outbox_inflight && m->outbox_pending && m->journal_messages && m->store_bytes && m->participants &&
                 m->orders_expired && m->clearing_failures
             ? 0
             : -1;
}

/* ---- the platform's own keys ------------------------------------------------ */

/* A public key from a "public=" line of the file at path (a key file kept from
 * before the rollover, or a file with only that line). The buffer may hold a
 * secret too: it is wiped, and nothing of it goes into err. */
static int previous_from_file(const char *path, struct fx_keys_public *pub, char *err, size_t errlen) {
  char buf[FX_KEYS_FILE_MAX + 1];
  size_t n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  for (ssize_t r; n < FX_KEYS_FILE_MAX && (r = read(fd, buf + n, FX_KEYS_FILE_MAX - n)) != 0;)
    if (r > 0)
      n += (size_t)r;
    else if (errno != EINTR)
      break;
  close(fd);
  buf[n] = 0;
  int rc = -1;
  const char *why = "no public= line";
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    size_t len = next ? (size_t)(next - line) : strlen(line);
    next = next ? next + 1 : NULL;
    if (len > 7 && !strncmp(line, "public=", 7)) {
      while (len > 7 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
      rc = fx_keys_cs1_parse(line + 7, len - 7, pub, &why);
      break;
    }
  }
  sodium_memzero(buf, sizeof buf);
  if (rc != 0)
    snprintf(err, errlen, "%s: %s", path, why);
  return rc;
}

/* key_previous.ROLE: a cs1 string, or the path of a file holding one. */
static int load_previous(const char *v, char out[FX_KEYS_CS1_LEN + 1], char *err, size_t errlen) {
  struct fx_keys_public pub;
  const char *why = "";
  if (!strncmp(v, "cs1.", 4)) {
    if (fx_keys_cs1_parse(v, strlen(v), &pub, &why) != 0) {
      snprintf(err, errlen, "key_previous: %s", why);
      return -1;
    }
  } else if (previous_from_file(v, &pub, err, errlen) != 0) {
    return -1;
  }
  fx_keys_cs1_format(&pub, out);
  return 0;
}

struct fx_platform_keys *fx_platform_keys_load(const struct fx_config *cfg, char *err, size_t errlen) {
  struct fx_platform_keys *k = calloc(1, sizeof *k);
  if (!k) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  k->refs = 1;
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    char why[400];
    int rc = 0;
    if (cfg->key_file[r][0]) {
      rc = fx_keys_file_read(cfg->key_file[r], &k->cur[r], why, sizeof why);
      k->has[r] = rc == 0;
      if (rc == 0)
        fx_keys_cs1_format(&k->cur[r].pub, k->cur_cs1[r]);
    }
    if (rc == 0 && cfg->key_previous[r][0]) {
      if (!k->has[r])
        rc = -1, snprintf(why, sizeof why, "key_previous.%s without key.%s", fx_role_name(r), fx_role_name(r));
      else
        rc = load_previous(cfg->key_previous[r], k->prev_cs1[r], why, sizeof why);
    }
    if (rc != 0) {
      snprintf(err, errlen, "key for %s: %s", fx_role_name(r), why);
      fx_platform_keys_unref(k);
      return NULL;
    }
  }
  return k;
}

struct fx_platform_keys *fx_platform_keys_ref(struct fx_platform_keys *k) {
  k->refs++;
  return k;
}

void fx_platform_keys_unref(struct fx_platform_keys *k) {
  if (!k || --k->refs)
    return;
  for (int r = 0; r < FX_ROLE_COUNT; r++)
    fx_keys_wipe(&k->cur[r]);
  free(k);
}

/* ---- worker threads -------------------------------------------------------- */

static void fini_thread(void *ctx, void *ud) {
  struct fx_thread_ctx *tc = ctx;
  (void)ud;
  if (!tc)
    return;
  fx_reader_free(tc->rd);
  fx_sign_ctx_free(tc->sc);
  fx_validator_free(tc->val);
  fx_calendar_free(tc->cal);
  free(tc);
}

static void *init_thread(unsigned index, void *ud) {
  struct fx_server *srv = ud;
  (void)index;
  struct fx_thread_ctx *tc = calloc(1, sizeof *tc);
  if (!tc)
    return NULL;
  struct fx_limits lim = fx_limits_default();
  lim.max_input_bytes = srv->cfg.max_body;
  tc->rd = fx_reader_new(&lim);
  tc->sc = fx_sign_ctx_new(srv->cfg.max_body);
  tc->cal = fx_calendar_new(srv->cfg.time_zone);
  struct fx_rules rules = {.platform_domain = srv->cfg.domain, .isp = srv->isp, .market = tc->cal};
  tc->val = tc->cal ? fx_validator_new(&rules) : NULL;
  tc->crypto_cpu[FX_CRYPTO_OPEN] = srv->met.crypto_cpu[FX_CRYPTO_OPEN];
  tc->crypto_cpu[FX_CRYPTO_SIGN] = srv->met.crypto_cpu[FX_CRYPTO_SIGN];
  if (!tc->rd || !tc->sc || !tc->val) {
    fini_thread(tc, ud);
    return NULL; /* jobs on this thread would crash: see work() guards */
  }
  return tc;
}

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t fx_crypto_sample_begin(struct fx_thread_ctx *tc, int op) {
  if (++tc->crypto_tick[op] < FX_CRYPTO_SAMPLE_EVERY || !tc->crypto_cpu[op])
    return 0;
  tc->crypto_tick[op] = 0;
  return thread_cpu_ns() + 1;
}

void fx_crypto_sample_end(struct fx_thread_ctx *tc, int op, int64_t begin) {
  if (begin <= 0)
    return;
  int64_t end = thread_cpu_ns();
  if (end >= begin - 1)
    fx_histogram_observe_us(tc->crypto_cpu[op], (uint64_t)(end - (begin - 1) + 500) / 1000);
}

/* ---- callbacks from the sequencer ------------------------------------------ */

static void on_outbox_grew(void *ud) { fx_outbox_kick(((struct fx_server *)ud)->outbox); }

/* DNS discovery learned something: a new registry snapshot, swapped in as on SIGHUP. */
static void on_discovered(void *ud) {
  struct fx_server *srv = ud;
  struct fx_registry *r = fx_registry_rebuild(srv->reg);
  if (!r)
    return; /* out of memory: the next answer tries again */
  fx_registry_unref(srv->reg);
  srv->reg = r;
  fx_gauge_set(srv->met.participants, (int64_t)r->n);
  fx_outbox_kick(srv->outbox); /* an endpoint may have become known */
}

static void discovery_close(struct fx_server *srv) {
  if (srv->reg && srv->reg->disc) {
    fx_discovery_close(srv->reg->disc);
    srv->reg->disc = NULL;
  }
}
static void arm_clear_timer(struct fx_server *srv);
static void on_groups(uint64_t n, void *ud) {
  struct fx_server *srv = ud;
  fx_outbox_groups(srv->outbox, n);
  arm_clear_timer(srv);
}

/* ---- clearing at its time, and operator requests ----------------------------- */

/* After a clearing command: the next deadline may have moved. */
static void clear_done(struct fx_seq_command *c) {
  struct fx_server *srv = c->arg;
  free(c);
  arm_clear_timer(srv);
}

static void on_clear_timer(uv_timer_t *t) {
  struct fx_server *srv = t->data;
  struct fx_seq_command *c = calloc(1, sizeof *c);
  if (!c || srv->stopping) {
    free(c);
    return;
  }
  c->run = fx_market_run_due;
  c->done = clear_done;
  c->arg = srv;
  c->now_us = fx_now_us();
  fx_sequencer_command(srv->seq, c);
}

/* Arms the timer for the earliest clearing time; re-armed after every group
 * (a new request, or a clearing, moves it) and every tick. At most a minute
 * ahead, so a clock step is noticed. */
static void arm_clear_timer(struct fx_server *srv) {
  if (!srv->market || srv->stopping)
    return;
  int64_t due = fx_market_next_deadline(srv->market);
  if (due == INT64_MAX) {
    uv_timer_stop(&srv->clear_timer);
    return;
  }
  /* Rounded up, from a fresh loop time: a timer that fires a hair early finds
   * nothing due and would wait for the next tick. */
  uv_update_time(&srv->loop);
  int64_t wait_ms = (due - fx_now_us() + 999) / 1000;
  if (wait_ms < 0)
    wait_ms = 0;
  if (wait_ms > 60000)
    wait_ms = 60000;
  uv_timer_start(&srv->clear_timer, on_clear_timer, (uint64_t)wait_ms, 0);
}

struct op_clear {
  struct fx_seq_command cmd;
  struct fx_market_target target;
  struct fx_http_request *req;
};

static void op_clear_done(struct fx_seq_command *c) {
  struct op_clear *oc = (struct op_clear *)c;
  char body[160];
  int n = snprintf(body, sizeof body, "{\"found\":%s,\"orders\":%d,\"committed\":%s}\n",
                   oc->target.found ? "true" : "false", oc->target.n_orders, c->store_err ? "false" : "true");
  fx_http_respond(oc->req, c->store_err ? 503 : oc->target.found ? 200 : 404, "application/json", body, (size_t)n,
                  NULL);
  free(oc);
}

/* POST /api/markets/{CP}/{YYYY-MM-DD}/clear: clear one market now. */
static void op_clear(struct fx_server *srv, struct fx_http_request *req, const char *path) {
  const char *p = path + strlen("/api/markets/");
  const char *slash = strchr(p, '/');
  struct fx_date d;
  const char *why;
  if (!slash || (size_t)(slash - p) >= sizeof ((struct fx_market_target *)0)->cp || strlen(slash) != 17 ||
      strcmp(slash + 11, "/clear") != 0 || fx_date_parse(slash + 1, 10, &d, &why) != 0) {
    fx_http_respond(req, 404, "text/plain", "no such market\n", 15, NULL);
    return;
  }
  struct op_clear *oc = calloc(1, sizeof *oc);
  if (!oc) {
    fx_http_respond(req, 503, "text/plain", "out of memory\n", 14, NULL);
    return;
  }
  memcpy(oc->target.cp, p, (size_t)(slash - p));
  oc->target.period = fx_date_to_days(&d);
  oc->req = req;
  oc->cmd.run = fx_market_run_clear;
  oc->cmd.done = op_clear_done;
  oc->cmd.now_us = fx_now_us();
  oc->cmd.arg = &oc->target;
  fx_sequencer_command(srv->seq, &oc->cmd);
}

/* ---- settlement: monthly, and on operator request --------------------------- */

struct op_settle {
  struct fx_seq_command cmd;
  struct fx_market_settlement run;
  struct fx_http_request *req; /* NULL for the monthly run */
  struct fx_server *srv;
};

static void settle_run_done(struct fx_server *srv);

static void op_settle_done(struct fx_seq_command *c) {
  struct op_settle *os = (struct op_settle *)c;
  struct fx_server *srv = os->srv;
  char body[200];
  int n = snprintf(body, sizeof body,
                   "{\"messages\":%d,\"orders\":%d,\"incomplete\":%d,\"error\":%d,\"committed\":%s}\n",
                   os->run.messages, os->run.orders, os->run.incomplete, os->run.error,
                   c->store_err ? "false" : "true");
  if (os->req)
    fx_http_respond(os->req, c->store_err || os->run.error ? 503 : 200, "application/json", body, (size_t)n, NULL);
  else
    fx_log_emit(&os->srv->log, c->store_err || os->run.error ? FX_LOG_ERROR : FX_LOG_INFO, "settlement",
                FX_LOG_KV(FX_LN("messages", os->run.messages), FX_LN("orders", os->run.orders),
                          FX_LN("incomplete", os->run.incomplete), FX_LN("error", os->run.error),
                          FX_LN("committed", !c->store_err)),
                "monthly settlement: %.*s", n > 0 ? n - 1 : 0, body);
  free(os);
  settle_run_done(srv);
}

static void settle(struct fx_server *srv, int32_t from, int32_t to, struct fx_http_request *req) {
  struct op_settle *os = calloc(1, sizeof *os);
  if (!os) {
    if (req)
      fx_http_respond(req, 503, "text/plain", "out of memory\n", 14, NULL);
    return;
  }
  os->run.from = from, os->run.to = to;
  os->run.seq = srv->seq; /* one group per AGR: memory bounded by one AGR's output */
  os->req = req;
  os->srv = srv;
  os->cmd.run = fx_market_run_settlement;
  os->cmd.done = op_settle_done;
  os->cmd.now_us = fx_now_us();
  os->cmd.arg = &os->run;
  srv->settle_runs++;
  fx_sequencer_command(srv->seq, &os->cmd);
}

static void arm_settle_timer(struct fx_server *srv);

static void on_settle_timer(uv_timer_t *t) {
  struct fx_server *srv = t->data;
  if (srv->stopping)
    return;
  int64_t now = fx_now_us();
  if (now >= srv->settle_due_us) {
    int32_t from, to;
    fx_market_settlement_due(&srv->cfg, srv->settle_due_us - 1, &from, &to);
    settle(srv, from, to, NULL);
  }
  arm_settle_timer(srv);
}

/* At most an hour ahead, so clock steps and DST are noticed. */
static void arm_settle_timer(struct fx_server *srv) {
  int32_t from, to;
  srv->settle_due_us = fx_market_settlement_due(&srv->cfg, fx_now_us(), &from, &to);
  if (srv->settle_due_us == INT64_MAX)
    return;
  int64_t wait_ms = (srv->settle_due_us - fx_now_us()) / 1000;
  wait_ms = wait_ms < 0 ? 0 : wait_ms > 3600000 ? 3600000 : wait_ms;
  uv_timer_start(&srv->settle_timer, on_settle_timer, (uint64_t)wait_ms, 0);
}

/* POST /api/settlements/{YYYY-MM-DD}/{YYYY-MM-DD}: settle those days now. */
static void op_settlement(struct fx_server *srv, struct fx_http_request *req, const char *path) {
  const char *p = path + strlen("/api/settlements/");
  struct fx_date a, b;
  const char *why;
  if (strlen(p) != 21 || p[10] != '/' || fx_date_parse(p, 10, &a, &why) != 0 ||
      fx_date_parse(p + 11, 10, &b, &why) != 0 || fx_date_to_days(&b) < fx_date_to_days(&a)) {
    fx_http_respond(req, 400, "text/plain", "want /api/settlements/FROM/TO (dates, FROM <= TO)\n", 51, NULL);
    return;
  }
  settle(srv, fx_date_to_days(&a), fx_date_to_days(&b), req);
}

/* GET /api/keys: per role, the public keys a DNS TXT record at _ROLE._usef.DOMAIN
 * would publish (transport appendix, discovery): the current one and, during a
 * rollover, the previous one after it. Public keys only, by construction. */
static void op_keys(struct fx_server *srv, struct fx_http_request *req) {
  const struct fx_platform_keys *k = srv->keys;
  json_t *roles = json_array(), *o = json_object();
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT && roles && o; r++) {
    if (!k->has[r])
      continue;
    char name[300], txt[2 * FX_KEYS_CS1_LEN + 2];
    snprintf(name, sizeof name, "_%s._usef.%s", fx_role_name(r), srv->cfg.domain);
    snprintf(txt, sizeof txt, "%s%s%s", k->cur_cs1[r], k->prev_cs1[r][0] ? " " : "", k->prev_cs1[r]);
    json_array_append_new(roles, json_pack("{s:s,s:s,s:s,s:s?,s:s}", "role", fx_role_name(r), "name", name,
                                           "current", k->cur_cs1[r], "previous",
                                           k->prev_cs1[r][0] ? k->prev_cs1[r] : NULL, "txt", txt));
  }
  char *body = NULL;
  if (roles && o && json_object_set_new(o, "domain", json_string(srv->cfg.domain)) == 0 &&
      json_object_set(o, "keys", roles) == 0)
    body = json_dumps(o, JSON_INDENT(1));
  json_decref(roles);
  json_decref(o);
  if (!body) {
    fx_http_respond(req, 503, "text/plain", "out of memory\n", 14, NULL);
    return;
  }
  size_t n = strlen(body);
  fx_http_respond(req, 200, "application/json", body, n, NULL);
  free(body);
}

/* ---- reservation releases on operator request ----------------------------------- */

struct op_release {
  struct fx_seq_command cmd;
  struct fx_market_reservation res;
  struct fx_http_request *req;
  int64_t *power;
};

static void op_release_done(struct fx_seq_command *c) {
  struct op_release *orl = (struct op_release *)c;
  json_t *j = json_pack("{s:b,s:s}", "sent", !c->store_err && orl->res.status == 0, "why",
                        c->store_err ? "the store cannot commit" : orl->res.why);
  char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
  int status = c->store_err ? 503 : orl->res.status ? 409 : 200;
  fx_http_respond(orl->req, status, "application/json", body ? body : "{}", body ? strlen(body) : 2, NULL);
  free(body);
  json_decref(j);
  free(orl->power);
  free(orl);
}

/* POST /api/contracts/{ID}/{YYYY-MM-DD}/release with {"power":[W,…]}: the
 * remaining reservation per ISP of that Period; flexd sends the contract's AGR
 * a FlexReservationUpdate (it may only shrink the reservation). */
static void op_release(struct fx_server *srv, struct fx_http_request *req, const char *path) {
  const char *p = path + strlen("/api/contracts/");
  const char *slash = strchr(p, '/');
  struct fx_date d;
  const char *why;
  size_t blen;
  const uint8_t *body = fx_http_request_body(req, &blen);
  json_error_t jerr;
  json_t *j = NULL, *arr;
  struct op_release *orl = NULL;
  if (!slash || (size_t)(slash - p) >= sizeof orl->res.contract || strlen(slash) != 19 ||
      strcmp(slash + 11, "/release") || fx_date_parse(slash + 1, 10, &d, &why) != 0) {
    static const char msg[] = "want /api/contracts/ID/YYYY-MM-DD/release\n";
    fx_http_respond(req, 404, "text/plain", msg, sizeof msg - 1, NULL);
    return;
  }
  j = json_loadb((const char *)body, blen, 0, &jerr);
  arr = j ? json_object_get(j, "power") : NULL;
  size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
  if (!n || n > 200 || !(orl = calloc(1, sizeof *orl)) || !(orl->power = calloc(n, sizeof *orl->power))) {
    json_decref(j);
    free(orl);
    static const char msg[] = "want {\"power\":[W,...]} per ISP of the Period\n";
    fx_http_respond(req, 400, "text/plain", msg, sizeof msg - 1, NULL);
    return;
  }
  for (size_t i = 0; i < n; i++)
    orl->power[i] = json_integer_value(json_array_get(arr, i));
  json_decref(j);
  memcpy(orl->res.contract, p, (size_t)(slash - p));
  orl->res.period = fx_date_to_days(&d);
  orl->res.power = orl->power;
  orl->res.n_isps = (int)n;
  orl->req = req;
  orl->cmd.run = fx_market_run_reservation_update;
  orl->cmd.done = op_release_done;
  orl->cmd.now_us = fx_now_us();
  orl->cmd.arg = &orl->res;
  fx_sequencer_command(srv->seq, &orl->cmd);
}

/* The operator listener: /metrics, the query API, operator requests. */
static void ops_handler(struct fx_http_request *req, void *ud) {
  struct fx_server *srv = ud;
  const char *path = fx_http_request_path(req);
  const char *method = fx_http_request_method(req);
  if (!strcmp(path, "/api/keys") && !strcmp(method, "GET"))
    op_keys(srv, req);
  else if (!strncmp(path, "/api/markets/", 13) && !strcmp(method, "POST") && !srv->stopping)
    op_clear(srv, req, path);
  else if (!strncmp(path, "/api/settlements/", 17) && !strcmp(method, "POST") && !srv->stopping)
    op_settlement(srv, req, path);
  else if (!strncmp(path, "/api/contracts/", 15) && !strcmp(method, "POST") && !srv->stopping)
    op_release(srv, req, path);
  else if (!strncmp(path, "/api/", 5) && srv->query)
    fx_query_http(req, srv->query);
  else
    fx_metrics_http_handler(req, srv->met.m);
}

/* ---- signals, reload, shutdown --------------------------------------------- */

/* A reload's [market] values and participants on their way to the market,
 * which reads its configuration (srv->mcfg) on the sequencer thread: they are
 * taken over there by a command, in order with messages, and the old ones
 * are freed back on the loop. A clearing already solving keeps the budget it
 * copied when it started; the market recomputes its deadlines after the
 * command's group and the loop re-arms its timer from them (on_groups). */
struct market_swap {
  struct fx_seq_command cmd;
  struct fx_server *srv;
  struct fx_config next; /* the new values; after the swap, the market's old ones */
  char changed[512];     /* the reloadable keys whose values changed, set by the swap */
  bool ran;              /* the sequencer took them (not: it had stopped) */
};

static void market_swap_free(struct market_swap *ms) {
  if (!ms)
    return;
  fx_config_free(&ms->next);
  free(ms);
}

static void swap_market(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  (void)market, (void)ctx;
  struct market_swap *ms = cmd->arg;
  /* Against the market's own values, not the loop's: a reload that waited
   * and was superseded (hand_to_market) changed the loop's already, and its
   * keys change the market's only now. */
  fx_config_reload_changes(&ms->srv->mcfg, &ms->next, ms->changed, sizeof ms->changed);
  fx_config_take_reloadable(&ms->srv->mcfg, &ms->next);
  fx_market_config_changed(ms->srv->market);
  ms->ran = true;
}

static void swap_done(struct fx_seq_command *cmd) {
  struct market_swap *ms = cmd->arg;
  if (ms->ran) /* a group that failed to commit still ran it: the values are in memory */
    fx_log_emit(&ms->srv->log, FX_LOG_INFO, "sighup", FX_LOG_KV(FX_LS("changed", ms->changed)),
                "SIGHUP: market settings in force (changed: %s)", ms->changed[0] ? ms->changed : "none");
  market_swap_free(ms);
}

static void submit_swap(struct fx_server *srv, struct market_swap *ms) {
  ms->cmd.run = swap_market, ms->cmd.done = swap_done, ms->cmd.arg = ms, ms->cmd.now_us = fx_now_us();
  fx_sequencer_command(srv->seq, &ms->cmd);
}

/* A settlement run spans several groups and reads the settlement keys in
 * each: new values wait until no run is under way, so that one run settles
 * every AGR under the same rules. A later reload supersedes a waiting one:
 * it read the whole file again, so it holds every value the waiting one did
 * unless the file changed them back (swap_market names the keys then). */
static void hand_to_market(struct fx_server *srv, struct market_swap *ms) {
  if (!srv->settle_runs) {
    submit_swap(srv, ms);
    return;
  }
  market_swap_free(srv->parked);
  srv->parked = ms;
  fx_log_emit(&srv->log, FX_LOG_INFO, "sighup", NULL, 0,
              "SIGHUP: market settings wait for the settlement run under way");
}

/* op_settle_done: the last run under way has finished. */
static void settle_run_done(struct fx_server *srv) {
  if (--srv->settle_runs || !srv->parked || srv->stopping)
    return; /* when stopping, teardown frees what is parked */
  struct market_swap *ms = srv->parked;
  srv->parked = NULL;
  submit_swap(srv, ms);
}

static void log_refused(const char *key, void *ud) {
  struct fx_server *srv = ud;
  fx_log_emit(&srv->log, FX_LOG_WARN, "sighup", FX_LOG_KV(FX_LS("parameter", key)),
              "SIGHUP: parameter %s cannot be changed without restarting; the running value stays", key);
}

/* Everything a reload installs, built before anything changes, so that a
 * file that fails anywhere changes nothing. */
struct reload_next {
  struct fx_platform_keys *keys;
  struct fx_tls_ctx *tls; /* NULL: the listener is plain HTTP */
  struct fx_registry *reg;
  struct market_swap *swap;
};

static void reload_next_free(struct reload_next *nx) {
  fx_platform_keys_unref(nx->keys);
  fx_tls_ctx_free(nx->tls);
  fx_registry_unref(nx->reg);
  market_swap_free(nx->swap);
}

/* On failure err says why and *kept what stays ("keys and configuration"). */
static int reload_prepare(struct fx_server *srv, const struct fx_config *c, struct reload_next *nx, char *err,
                          size_t errlen, const char **kept) {
  *kept = "keys and configuration";
  if (!(nx->keys = fx_platform_keys_load(c, err, errlen)))
    return -1;
  *kept = "certificate and configuration";
  struct fx_tls_config tc = {.cert_file = c->tls_cert, .key_file = c->tls_key, .client_ca_file = c->tls_client_ca};
  if (c->tls_cert[0] && fx_tls_ctx_new(&nx->tls, &tc, err, errlen) != 0) {
    nx->tls = NULL;
    return -1;
  }
  *kept = "configuration";
  if (!(nx->reg = fx_registry_build(c, srv->reg->disc, srv->reg, err, errlen)))
    return -1;
  if (!(nx->swap = calloc(1, sizeof *nx->swap)) || fx_config_copy(&nx->swap->next, c) != 0) {
    free(nx->swap);
    nx->swap = NULL;
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  nx->swap->srv = srv;
  /* Last: it applies the resolver settings at once (nothing on failure). */
  return nx->reg->disc ? fx_discovery_configure(nx->reg->disc, c, err, errlen) : 0;
}

/* Deliveries started from now on sign with the new keys, those under way
 * finish with the snapshot they took. */
static void install_keys(struct fx_server *srv, const struct fx_config *c, struct fx_platform_keys *k) {
  bool changed = false;
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    changed |= strcmp(k->cur_cs1[r], srv->keys->cur_cs1[r]) || strcmp(k->prev_cs1[r], srv->keys->prev_cs1[r]);
  fx_platform_keys_unref(srv->keys);
  srv->keys = k;
  memcpy(srv->cfg.key_file, c->key_file, sizeof c->key_file);
  memcpy(srv->cfg.key_previous, c->key_previous, sizeof c->key_previous);
  if (changed)
    for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
      if (k->has[r])
        fx_log_emit(&srv->log, FX_LOG_INFO, "sighup",
                    FX_LOG_KV(FX_LS("what", "keys"), FX_LS("role", fx_role_name(r)), FX_LS("key", k->cur_cs1[r]),
                              FX_LS("previous", k->prev_cs1[r])),
                    "SIGHUP: %s signs with %s (previous %s)", fx_role_name(r), k->cur_cs1[r],
                    k->prev_cs1[r][0] ? k->prev_cs1[r] : "none");
}

/* Installs what reload_prepare built; nx is emptied. The listener's new TLS
 * context serves connections accepted from now on, open ones keep theirs. */
static void reload_commit(struct fx_server *srv, struct fx_config *c, struct reload_next *nx) {
  if (nx->tls) {
    fx_http_server_set_tls(srv->http, nx->tls);
    fx_log_emit(&srv->log, FX_LOG_INFO, "sighup", NULL, 0, "SIGHUP: TLS certificate reloaded from %s", c->tls_cert);
  }
  install_keys(srv, c, nx->keys);
  fx_registry_unref(srv->reg);
  srv->reg = nx->reg;
  fx_gauge_set(srv->met.participants, (int64_t)nx->reg->n);
  fx_log_emit(&srv->log, FX_LOG_INFO, "sighup", NULL, 0, "SIGHUP: participants reloaded (%zu)", nx->reg->n);
  fx_config_take_reloadable(&srv->cfg, c); /* the loop's: retry window, settlement time */
  hand_to_market(srv, nx->swap);
  fx_tls_ctx_free(nx->tls); /* the listener holds its own reference */
  *nx = (struct reload_next){0};
  arm_settle_timer(srv);
}

/* SIGHUP: the file again, then keys, certificate, participants and the
 * [market] rules together, or nothing (docs/architecture.md, "Reloading"). */
static void reload(struct fx_server *srv) {
  struct fx_config c;
  struct reload_next nx = {0};
  char err[600];
  const char *kept;
  fx_config_defaults(&c);
  if (fx_config_load(&c, srv->config_path, err, sizeof err) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "sighup", NULL, 0, "SIGHUP: %s: %s; keeping the running configuration",
                srv->config_path, err);
    fx_config_free(&c);
    return;
  }
  fx_config_keep_fixed(&c, &srv->cfg, log_refused, srv);
  if (reload_prepare(srv, &c, &nx, err, sizeof err, &kept) != 0)
    fx_log_emit(&srv->log, FX_LOG_ERROR, "sighup", NULL, 0, "SIGHUP: %s; keeping the running %s", err, kept);
  else
    reload_commit(srv, &c, &nx);
  reload_next_free(&nx);
  fx_config_free(&c);
}

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  close_handle(h);
}

static void on_metrics_stopped(void *ud) {
  struct fx_server *srv = ud;
  close_handle((uv_handle_t *)&srv->sig_term);
  close_handle((uv_handle_t *)&srv->sig_int);
  close_handle((uv_handle_t *)&srv->sig_hup);
  close_handle((uv_handle_t *)&srv->tick);
  close_handle((uv_handle_t *)&srv->clear_timer);
  close_handle((uv_handle_t *)&srv->settle_timer);
}

static void on_http_stopped(void *ud) {
  struct fx_server *srv = ud;
  srv->http = NULL;
  fx_workers_close(srv->workers);
  srv->workers = NULL;
  discovery_close(srv);
  fx_market_clearing_stop(srv->market); /* before the sequencer: drops come back through it */
  fx_sequencer_stop(srv->seq);
  srv->seq = NULL;
  fx_http_client_close(srv->client);
  srv->client = NULL;
  fx_outbox_free(srv->outbox);
  srv->outbox = NULL;
  uv_timer_stop(&srv->clear_timer);
  uv_timer_stop(&srv->settle_timer);
  if (srv->metrics_http)
    fx_http_server_stop(srv->metrics_http, on_metrics_stopped, srv);
  else
    on_metrics_stopped(srv);
  fx_log_emit(&srv->log, FX_LOG_INFO, "stop", NULL, 0, "stopped");
}

static void on_tick(uv_timer_t *t) {
  struct fx_server *srv = t->data;
  if (srv->stopping) {
    /* Answer everything taken before closing the listener. */
    if (srv->http && (srv->ingest_inflight == 0 || fx_mono_us() - srv->drain_started > DRAIN_MAX_MS * 1000LL)) {
      uv_timer_stop(t);
      fx_http_server_stop(srv->http, on_http_stopped, srv);
    }
    return;
  }
  fx_gauge_set(srv->met.store_bytes, (int64_t)fx_store_map_size(srv->store));
  fx_outbox_kick(srv->outbox);
  arm_clear_timer(srv);
}

static void on_signal(uv_signal_t *h, int signum) {
  struct fx_server *srv = h->data;
  if (signum == SIGHUP) {
    if (!srv->stopping) /* the sequencer may be gone */
      reload(srv);
    return;
  }
  if (srv->stopping)
    return;
  const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";
  fx_log_emit(&srv->log, FX_LOG_INFO, "stopping",
              FX_LOG_KV(FX_LS("signal", name), FX_LN("inflight", srv->ingest_inflight)),
              "%s: draining %u message(s) in flight", name, srv->ingest_inflight);
  srv->stopping = true;
  srv->drain_started = fx_mono_us();
  uv_timer_start(&srv->tick, on_tick, 0, 10);
}

/* ---- start-up -------------------------------------------------------------- */

static int load_keys(struct fx_server *srv) {
  char err[500];
  if (!(srv->keys = fx_platform_keys_load(&srv->cfg, err, sizeof err))) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "%s", err);
    return -1;
  }
  return 0;
}

static int write_port_file(struct fx_server *srv, const char *path) {
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "%d %d\n", fx_http_server_port(srv->http), srv->metrics_http ? fx_http_server_port(srv->metrics_http) : 0);
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path); /* readers never see a half-written file */
}

static void store_log(void *ud, const char *msg) {
  struct fx_server *srv = ud;
  fx_log_emit(&srv->log, FX_LOG_WARN, "store", NULL, 0, "store: %s", msg);
}

static void count_refused(int status, void *ud) { fx_count_http(ud, status); }

static int listen_on(struct fx_server *srv, const char *addr, struct fx_http_server **out, fx_http_handler h,
                     void *ud, size_t max_body, struct fx_tls_ctx *tls) {
  struct fx_http_server_config hc;
  fx_http_server_config_default(&hc);
  hc.tls = tls;
  if (out == &srv->http) { /* the per-IP limits guard the public listener */
    hc.ip_rate = srv->cfg.ip_rate;
    hc.ip_max_connections = srv->cfg.ip_max_connections;
    hc.on_refused = count_refused; /* the server's own answers count too */
    hc.refused_ud = srv;
  }
  char host[128];
  if (fx_config_split_addr(addr, host, sizeof host, &hc.port) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "bad listen address '%s'", addr);
    return -1;
  }
  hc.host = host;
  hc.max_body_bytes = max_body;
  int rc = fx_http_server_start(out, &srv->loop, &hc, h, ud);
  if (rc != 0)
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "cannot listen on %s: %s", addr, uv_strerror(rc));
  return rc;
}

/* The UFTP listener: HTTPS with the configured certificate, or plain HTTP
 * only when the configuration asks for it in so many words. */
static int listen_uftp(struct fx_server *srv) {
  const struct fx_config *c = &srv->cfg;
  if (!c->tls_cert[0])
    return listen_on(srv, c->listen, &srv->http, fx_ingest_handler, srv, c->max_body, NULL);
  struct fx_tls_config tc = {.cert_file = c->tls_cert, .key_file = c->tls_key, .client_ca_file = c->tls_client_ca};
  struct fx_tls_ctx *ctx;
  char err[400];
  if (fx_tls_ctx_new(&ctx, &tc, err, sizeof err) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "%s", err);
    return -1;
  }
  int rc = listen_on(srv, c->listen, &srv->http, fx_ingest_handler, srv, c->max_body, ctx);
  fx_tls_ctx_free(ctx); /* the listener holds its own reference */
  return rc;
}

/* HTTP without TLS is a decision, not a default: UFTP requires TLS. */
static int check_transport(struct fx_server *srv) {
  const struct fx_config *c = &srv->cfg;
  if (!c->tls_cert[0] && !c->plain_http) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0,
                "[platform] no tls_cert/tls_key: UFTP requires HTTPS; set plain_http = true to serve "
                    "plain HTTP anyway (tests, loopback, behind a TLS proxy)");
    return -1;
  }
  if (!c->tls_cert[0] != !c->tls_key[0]) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "[platform] tls_cert and tls_key go together");
    return -1;
  }
  if (c->tls_client_ca[0] && !c->tls_cert[0]) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0,
                "[platform] tls_client_ca without tls_cert: client certificates need TLS");
    return -1;
  }
  return 0;
}

static int start(struct fx_server *srv, const char *port_file) {
  if (check_transport(srv) != 0)
    return -1;
  const char *why;
  if (fx_duration_parse(srv->cfg.isp_duration, strlen(srv->cfg.isp_duration), &srv->isp, &why) != 0 ||
      srv->isp.months || srv->isp.usec <= 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0,
                "[market] isp_duration '%s' is not a duration of minutes", srv->cfg.isp_duration);
    return -1;
  }
  struct fx_calendar *probe = fx_calendar_new(srv->cfg.time_zone);
  if (!probe) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0,
                "[market] time_zone '%s' is not in this machine's tz database", srv->cfg.time_zone);
    return -1;
  }
  fx_calendar_free(probe);
  if (load_keys(srv) != 0)
    return -1;
  char err[300];
  struct fx_discovery *disc = NULL;
  if (srv->cfg.discovery == FX_DISCOVERY_DNS &&
      fx_discovery_new(&disc, &srv->loop, &srv->cfg, &srv->log, on_discovered, srv, err, sizeof err) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "%s", err);
    return -1;
  }
  if (!(srv->reg = fx_registry_build(&srv->cfg, disc, NULL, err, sizeof err))) {
    fx_discovery_close(disc);
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "%s", err);
    return -1;
  }
  struct fx_store_opts so = {.path = srv->cfg.store, .no_sync = srv->cfg.store_nosync, .log = store_log, .log_ud = srv,
                             .map_max = srv->cfg.store_max_mb << 20};
  if (so.map_max < (64u << 20))
    so.map_size = so.map_max; /* a small maximum starts at its maximum */
  int rc = fx_store_open(&srv->store, &so);
  if (rc != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "store %s: %s", srv->cfg.store,
                fx_store_strerror(rc));
    return -1;
  }
  if (!(srv->market = fx_market_new(&srv->mcfg, srv->store, err, sizeof err))) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "market: %s", err);
    return -1;
  }
  if (!(srv->query = fx_query_new(&srv->cfg, srv->store))) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "cannot start the query API");
    return -1;
  }
  if (register_metrics(&srv->met) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "cannot register metrics");
    return -1;
  }
  fx_gauge_set(srv->met.participants, (int64_t)srv->reg->n);
  fx_market_count_expired(srv->market, srv->met.orders_expired);
  fx_market_count_clearing_failed(srv->market, srv->met.clearing_failures);
  struct fx_workers_config wc = {.threads = srv->cfg.workers, .max_queued = 8192, .max_per_flow = 4096,
                                 .init_thread = init_thread, .fini_thread = fini_thread, .ud = srv};
  if (fx_workers_start(&srv->workers, &srv->loop, &wc) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "cannot start workers");
    return -1;
  }
  struct fx_sequencer_cfg sc = {.loop = &srv->loop, .store = srv->store, .platform_domain = srv->cfg.domain,
                                .committed = fx_ingest_committed, .outbox_grew = on_outbox_grew,
                                .after_groups = on_groups, .hooks = fx_market_hooks(srv->market), .ud = srv};
  if (fx_sequencer_start(&srv->seq, &sc) != 0)
    return -1;
  if (fx_market_clearing_start(srv->market, srv->seq) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "cannot start the clearing thread");
    return -1;
  }
  struct fx_http_client_config cc;
  fx_http_client_config_default(&cc);
  if (srv->cfg.tls_peer_ca[0])
    cc.ca_file = srv->cfg.tls_peer_ca;
  if (fx_http_client_new(&srv->client, &srv->loop, &cc) != 0 || fx_outbox_new(&srv->outbox, srv) != 0)
    return -1;
  if (listen_uftp(srv) != 0)
    return -1;
  if (srv->cfg.metrics[0] &&
      listen_on(srv, srv->cfg.metrics, &srv->metrics_http, ops_handler, srv, 4096, NULL) != 0)
    return -1;
  uv_signal_init(&srv->loop, &srv->sig_term);
  uv_signal_init(&srv->loop, &srv->sig_int);
  uv_signal_init(&srv->loop, &srv->sig_hup);
  srv->sig_term.data = srv->sig_int.data = srv->sig_hup.data = srv;
  uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
  uv_signal_start(&srv->sig_int, on_signal, SIGINT);
  uv_signal_start(&srv->sig_hup, on_signal, SIGHUP);
  uv_timer_init(&srv->loop, &srv->clear_timer);
  srv->clear_timer.data = srv;
  uv_timer_init(&srv->loop, &srv->settle_timer);
  srv->settle_timer.data = srv;
  arm_settle_timer(srv);
  uv_timer_init(&srv->loop, &srv->tick);
  srv->tick.data = srv;
  uv_timer_start(&srv->tick, on_tick, 0, 1000);
  /* The port file says "ready": written last, once SIGTERM is ours (a
   * supervisor reading it may signal at once; before uv_signal_start that
   * signal's default action would kill the process). */
  if (port_file && write_port_file(srv, port_file) != 0) {
    fx_log_emit(&srv->log, FX_LOG_ERROR, "start_failed", NULL, 0, "cannot write %s: %s", port_file, strerror(errno));
    return -1;
  }
  fx_log_emit(&srv->log, FX_LOG_INFO, "start",
              FX_LOG_KV(FX_LS("domain", srv->cfg.domain), FX_LS("listen", srv->cfg.listen),
                        FX_LN("port", fx_http_server_port(srv->http)),
                        FX_LS("transport", srv->cfg.tls_cert[0] ? "https" : "http")),
              "serving UFTP 3.1.0 as %s on %s over %s (port %d), metrics on %s, store %s",
              srv->cfg.domain, srv->cfg.listen, srv->cfg.tls_cert[0] ? "HTTPS" : "plain HTTP",
              fx_http_server_port(srv->http), srv->cfg.metrics[0] ? srv->cfg.metrics : "(off)", srv->cfg.store);
  if (srv->cfg.store_nosync)
    fx_log_emit(&srv->log, FX_LOG_WARN, "start", NULL, 0,
                "WARNING: store_nosync: acknowledged messages can be lost in a crash (benchmarks only)");
  return 0;
}

/* Tears down what start() built, whatever point it reached. */
static void teardown(struct fx_server *srv) {
  discovery_close(srv);
  if (srv->http || srv->metrics_http || srv->workers || srv->seq || srv->client || srv->outbox) {
    /* start() failed midway: stop what runs, then let the loop close it. */
    if (srv->workers)
      fx_workers_close(srv->workers);
    if (srv->seq) {
      if (srv->market)
        fx_market_clearing_stop(srv->market);
      fx_sequencer_stop(srv->seq);
    }
    if (srv->client)
      fx_http_client_close(srv->client);
    if (srv->outbox)
      fx_outbox_free(srv->outbox);
    if (srv->http)
      fx_http_server_stop(srv->http, NULL, NULL);
    if (srv->metrics_http)
      fx_http_server_stop(srv->metrics_http, NULL, NULL);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
  }
  uv_walk(&srv->loop, close_walk, NULL);
  uv_run(&srv->loop, UV_RUN_DEFAULT);
  uv_loop_close(&srv->loop);
  fx_ingest_pool_free(srv);
  fx_query_free(srv->query);
  fx_market_free(srv->market);
  market_swap_free(srv->parked);
  fx_config_free(&srv->mcfg);
  if (srv->store)
    fx_store_close(srv->store);
  fx_registry_unref(srv->reg);
  fx_metrics_free(srv->met.m);
  fx_platform_keys_unref(srv->keys);
  fx_config_free(&srv->cfg);
}

int fx_server_run(const struct fx_config *cfg, const char *config_path, const char *port_file) {
  struct fx_server *srv = calloc(1, sizeof *srv);
  if (!srv)
    return 1;
  /* The server owns its own copy, and one more for the market's thread. */
  if (fx_config_copy(&srv->cfg, cfg) != 0 || fx_config_copy(&srv->mcfg, cfg) != 0) {
    fx_config_free(&srv->cfg);
    free(srv);
    return 1;
  }
  snprintf(srv->config_path, sizeof srv->config_path, "%s", config_path ? config_path : "");
  srv->log = (struct fx_log){.format = cfg->log_format, .fd = 2};
  uv_loop_init(&srv->loop);
  int rc = start(srv, port_file);
  if (rc == 0) {
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    srv->http = srv->metrics_http = NULL;
  }
  teardown(srv);
  free(srv);
  return rc == 0 ? 0 : 1;
}
