/* market_harness.c — see market_harness.h. Shared by test_market.c and
 * test_market_settle.c so both feed the sequencer and read the outbox the
 * same way. */
#include "market_harness.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fx_mh_quiet(void *ud, const char *msg) { (void)ud, (void)msg; }

static void on_committed(struct fx_inbound *group, void *ud) {
  struct fx_mh *h = ud;
  for (struct fx_inbound *in = group; in; in = in->next)
    h->committed_count++;
}

static void on_groups(uint64_t n, void *ud) {
  struct fx_mh *h = ud;
  h->groups_finished = n;
}

int64_t fx_mh_at(const char *t) {
  struct fx_datetime d;
  cr_assert_eq(fx_datetime_parse(t, strlen(t), &d, NULL), 0);
  return d.usec;
}

void fx_mh_add_participant(struct fx_mh *h, const char *domain, enum fx_role role) {
  struct fx_config *cfg = &h->cfg;
  struct fx_participant_cfg *grown = realloc(cfg->participants, (cfg->n_participants + 1) * sizeof *grown);
  cr_assert_not_null(grown);
  cfg->participants = grown;
  struct fx_participant_cfg *p = &cfg->participants[cfg->n_participants++];
  memset(p, 0, sizeof *p);
  snprintf(p->domain, sizeof p->domain, "%s", domain);
  p->role = role;
}

void fx_mh_start_sequencer(struct fx_mh *h, struct fx_seq_hooks hooks) {
  struct fx_sequencer_cfg sc = {.loop = &h->loop, .store = h->st, .platform_domain = PLATFORM,
                                .committed = on_committed, .after_groups = on_groups, .ud = h, .hooks = hooks};
  cr_assert_eq(fx_sequencer_start(&h->seq, &sc), 0);
}

void fx_mh_start(struct fx_mh *h) {
  char err[256];
  h->mk = fx_market_new(&h->cfg, h->st, err, sizeof err);
  cr_assert_not_null(h->mk, "%s", err);
  fx_mh_start_sequencer(h, fx_market_hooks(h->mk));
}

void fx_mh_stop(struct fx_mh *h) {
  /* The clearing thread first, as flexd does: a test that fails during a
   * solve must not have it hand its result to a freed sequencer. */
  if (h->mk)
    fx_market_clearing_stop(h->mk);
  fx_sequencer_stop(h->seq);
  uv_run(&h->loop, UV_RUN_DEFAULT);
  fx_market_free(h->mk);
  h->seq = NULL, h->mk = NULL;
}

void fx_mh_setup(struct fx_mh *h, const char *tag) {
  memset(h, 0, sizeof *h);
  snprintf(h->dir, sizeof h->dir, "/tmp/flexd-%s-XXXXXX", tag);
  cr_assert_not_null(mkdtemp(h->dir));
  struct fx_store_opts o = {.path = h->dir, .log = fx_mh_quiet};
  cr_assert_eq(fx_store_open(&h->st, &o), 0);
  uv_loop_init(&h->loop);
  fx_config_defaults(&h->cfg);
  strcpy(h->cfg.domain, PLATFORM);
  fx_mh_add_participant(h, DSO, FX_ROLE_DSO);
  fx_mh_add_participant(h, AGR1, FX_ROLE_AGR);
  fx_mh_add_participant(h, AGR2, FX_ROLE_AGR);
  fx_mh_add_participant(h, AGR3, FX_ROLE_AGR);
  h->rd = fx_reader_new(NULL);
  h->outrd = fx_reader_new(NULL);
  h->now_us = fx_mh_at(NOW);
  h->timestamp = NOW;
}

void fx_mh_teardown(struct fx_mh *h) {
  if (h->seq)
    fx_mh_stop(h);
  fx_arena_free(h->out_arena);
  fx_reader_free(h->rd);
  fx_reader_free(h->outrd);
  fx_store_close(h->st);
  uv_loop_close(&h->loop);
  fx_config_free(&h->cfg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", h->dir);
  cr_assert_eq(system(cmd), 0);
}

static void fresh_id(struct fx_mh *h, char out[37]) {
  snprintf(out, 37, "00000000-0000-4000-8000-%012u", ++h->id_counter);
}

void fx_mh_wait_committed(struct fx_mh *h, int n) {
  for (int i = 0; i < 5000 && h->committed_count < n; i++) {
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(h->committed_count, n, "only %d of %d committed", h->committed_count, n);
}

struct fx_mh_held *fx_mh_message(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                                 const char *rest, size_t arena_size) {
  struct fx_mh_held *m = calloc(1, sizeof *m);
  cr_assert_not_null(m);
  char id[37], conv[37];
  fresh_id(h, id), fresh_id(h, conv);
  if (h->reuse_id)
    snprintf(id, sizeof id, "%s", h->reuse_id), h->reuse_id = NULL;
  if (h->conv_id)
    snprintf(conv, sizeof conv, "%s", h->conv_id);
  size_t cap = strlen(rest) + 1024;
  m->xml = malloc(cap);
  cr_assert_not_null(m->xml);
  snprintf(m->xml, cap,
           "<%s Version=\"3.1.0\" SenderDomain=\"%s\" RecipientDomain=\"" PLATFORM "\" TimeStamp=\"%s\" "
           "MessageID=\"%s\" ConversationID=\"%s\"%s",
           root, sender, h->timestamp, id, conv, rest);
  m->arena = fx_arena_new(arena_size);
  struct fx_error err;
  cr_assert_eq(fx_read_msg_arena(h->rd, m->arena, m->xml, strlen(m->xml), &m->in.msg, &err), 0, "%s: %s %s",
               m->xml, err.where, err.why);
  crypto_generichash(m->in.digest, 32, (const unsigned char *)m->xml, strlen(m->xml), NULL, 0);
  m->in.raw = m->xml, m->in.raw_len = strlen(m->xml);
  m->in.inner = m->xml, m->in.inner_len = m->in.raw_len; /* as ingest passes the signed bytes */
  m->in.sender_role = role;
  m->in.recv_us = h->now_us;
  return m;
}

/* Builds and submits the message; waits for its group. */
static struct fx_mh_held *feed(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                               const char *rest, size_t arena_size) {
  struct fx_mh_held *m = fx_mh_message(h, root, sender, role, rest, arena_size);
  fx_sequencer_submit(h->seq, &m->in);
  fx_mh_wait_committed(h, ++h->submitted);
  return m;
}

struct fx_mh_held *fx_mh_submit(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                                const char *fmt, ...) {
  char rest[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rest, sizeof rest, fmt, ap);
  va_end(ap);
  struct fx_mh_held *m = feed(h, root, sender, role, rest, 1 << 20);
  cr_assert_eq(m->in.store_err, 0, "committed");
  return m;
}

int fx_mh_submit_failing(struct fx_mh *h, const char *root, const char *sender, enum fx_role role,
                         const char *rest) {
  struct fx_mh_held *m = feed(h, root, sender, role, rest, 1 << 24);
  int rc = m->in.store_err;
  fx_mh_release(m);
  return rc;
}

void fx_mh_release(struct fx_mh_held *m) {
  fx_arena_free(m->arena);
  free(m->xml);
  free(m);
}

const char *fx_mh_outcome(struct fx_mh *h, struct fx_mh_held *m) {
  snprintf(h->outcome, sizeof h->outcome, "%s", m->in.result == FX_SEQ_ACCEPTED ? "" : m->in.reasons.text);
  fx_mh_release(m);
  return h->outcome;
}

/* Walks the pending outbox rows; `to` NULL counts every row without parsing. */
static const struct fx_msg *scan(struct fx_mh *h, enum fx_msg_type type, const char *to, int n, int *count) {
  fx_arena_free(h->out_arena);
  h->out_arena = fx_arena_new(1 << 22);
  struct fx_store_read r;
  struct fx_store_iter it;
  struct fx_store_out_view v;
  const struct fx_msg *found = NULL;
  int k = 0;
  fx_store_read_init(&r, h->st);
  cr_assert_eq(fx_store_read_begin(&r), 0);
  cr_assert_eq(fx_store_due_iter(&r, INT64_MAX, &it), 0);
  while (fx_store_due_next(&it, &v) == 1) {
    if (!to) {
      k++;
      continue;
    }
    if (fx_store_out_type(&v) != type || strcmp(fx_store_out_domain(&v), to))
      continue;
    size_t len;
    const uint8_t *body = fx_store_out_body(&v, &len);
    const struct fx_msg *m;
    struct fx_error err;
    cr_assert_eq(fx_read_msg_arena(h->outrd, h->out_arena, (const char *)body, len, &m, &err), 0,
                 "outbox row is valid: %s %s", err.where, err.why);
    if (k++ == n)
      found = m;
  }
  fx_store_iter_close(&it);
  fx_store_read_end(&r);
  fx_store_read_free(&r);
  if (count)
    *count = k;
  return found;
}

const struct fx_msg *fx_mh_outbox(struct fx_mh *h, enum fx_msg_type type, const char *to, int n, int *count) {
  return scan(h, type, to, n, count);
}

int fx_mh_count_all(struct fx_mh *h) {
  int n;
  scan(h, 0, NULL, 0, &n);
  return n;
}

int fx_mh_count_out(struct fx_mh *h, enum fx_msg_type type, const char *to) {
  int n;
  fx_mh_outbox(h, type, to, 0, &n);
  return n;
}

void fx_mh_platform_request_id(struct fx_mh *h, const char *agr, char out[37]) {
  int n;
  fx_mh_outbox(h, FX_MSG_FLEX_REQUEST, agr, 0, &n);
  cr_assert_gt(n, 0, "a FlexRequest was broadcast to %s", agr);
  const struct fx_msg *m = fx_mh_outbox(h, FX_MSG_FLEX_REQUEST, agr, n - 1, NULL);
  fx_uuid_format(&m->hdr.message_id, out);
}

/* A command with its result, for fx_mh_run_command's done(). */
struct mh_command {
  struct fx_seq_command c; /* first: done() gets its address */
  int err, dones;
};

static void mh_command_done(struct fx_seq_command *c) {
  struct mh_command *m = (struct mh_command *)c;
  m->err = c->store_err;
  m->dones++;
}

void fx_mh_run_command(struct fx_mh *h, void (*fn)(void *, struct fx_seq_ctx *, struct fx_seq_command *),
                       void *arg) {
  struct mh_command m = {.c = {.run = fn, .done = mh_command_done, .now_us = h->now_us, .arg = arg}, .err = -99};
  fx_sequencer_command(h->seq, &m.c);
  for (int i = 0; i < 5000 && m.err == -99; i++) {
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(m.err, 0, "the command's group committed");
  for (int i = 0; i < 20; i++) /* a second done() would come in these turns */
    uv_run(&h->loop, UV_RUN_NOWAIT);
  cr_assert_eq(m.dones, 1, "the caller's done() runs once");
}

int32_t fx_mh_day(const char *date) {
  struct fx_date d;
  cr_assert_eq(fx_date_parse(date, strlen(date), &d, NULL), 0, "a date: %s", date);
  return fx_date_to_days(&d);
}

static void op_done(struct fx_seq_command *c) {
  struct fx_mh_op *o = (struct fx_mh_op *)c;
  o->err = c->store_err;
  o->dones++;
}

void fx_mh_op_submit(struct fx_mh *h, struct fx_mh_op *o, const char *cp, const char *period) {
  memset(o, 0, sizeof *o);
  snprintf(o->t.cp, sizeof o->t.cp, "%s", cp);
  o->t.period = fx_mh_day(period);
  o->c = (struct fx_seq_command){.run = fx_market_run_clear, .done = op_done, .now_us = h->now_us, .arg = &o->t};
  o->err = -99;
  fx_sequencer_command(h->seq, &o->c);
}

void fx_mh_op_wait(struct fx_mh *h, struct fx_mh_op *o) {
  for (int i = 0; i < 600000 && !o->dones; i++) {
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  for (int i = 0; i < 20; i++)
    uv_run(&h->loop, UV_RUN_NOWAIT);
  cr_assert_eq(o->dones, 1, "the operator is answered once");
}

void fx_mh_wait_clearings(struct fx_mh *h, unsigned solved, unsigned pending) {
  for (int i = 0; i < 600000 && !(fx_market_clearing_solved(h->mk) == solved &&
                                  fx_market_clearing_pending(h->mk) == pending);
       i++) {
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  cr_assert_eq(fx_market_clearing_solved(h->mk), solved);
  cr_assert_eq(fx_market_clearing_pending(h->mk), pending, "%u clearing(s) under way", pending);
}

void fx_mh_barrier(struct fx_mh *h) {
  struct fx_mh_held *m = fx_mh_submit(h, "DSOPortfolioQuery", DSO, FX_ROLE_DSO,
                                      " TimeZone=\"Europe/Amsterdam\" Period=\"" PERIOD
                                      "\" EntityAddress=\"" CP1 "\"/>");
  cr_assert_str_eq(fx_mh_outcome(h, m), "");
}

char *fx_mh_too_big_update(void) {
  size_t cap = 3u << 20, at = 0;
  char *big = malloc(cap);
  cr_assert_not_null(big);
  at += (size_t)snprintf(big + at, cap - at,
                         " TimeZone=\"Europe/Amsterdam\"><CongestionPoint EntityAddress=\"ean.871685900077777777\" "
                         "StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" DayAheadRedispatchBy=\"DSO\">");
  for (int i = 0; i < 12000; i++)
    at += (size_t)snprintf(big + at, cap - at,
                           "<Connection EntityAddress=\"ean.8716859%011d\" StartPeriod=\"2025-03-01\"/>", i);
  snprintf(big + at, cap - at, "</CongestionPoint></DSOPortfolioUpdate>");
  return big;
}

void fx_mh_populate_two_agrs(struct fx_mh *h) {
#define TWO_AGRS_CONN(n) "<Connection EntityAddress=\"ean.87168590000100000" #n "\" StartPeriod=\"2025-03-01\"/>"
  cr_assert_str_eq(fx_mh_outcome(h, fx_mh_submit(h, "DSOPortfolioUpdate", DSO, FX_ROLE_DSO,
                                                  " TimeZone=\"Europe/Amsterdam\"><CongestionPoint EntityAddress=\"" CP1
                                                  "\" StartPeriod=\"2025-03-01\" MutexOffersSupported=\"true\" "
                                                  "DayAheadRedispatchBy=\"DSO\">" TWO_AGRS_CONN(1) TWO_AGRS_CONN(2)
                                                  "</CongestionPoint></DSOPortfolioUpdate>")),
                   "");
  cr_assert_str_eq(fx_mh_outcome(h, fx_mh_submit(h, "AGRPortfolioUpdate", AGR1, FX_ROLE_AGR,
                                                  " TimeZone=\"Europe/Amsterdam\">" TWO_AGRS_CONN(1)
                                                  "</AGRPortfolioUpdate>")),
                   "");
  cr_assert_str_eq(fx_mh_outcome(h, fx_mh_submit(h, "AGRPortfolioUpdate", AGR2, FX_ROLE_AGR,
                                                  " TimeZone=\"Europe/Amsterdam\">" TWO_AGRS_CONN(2)
                                                  "</AGRPortfolioUpdate>")),
                   "");
#undef TWO_AGRS_CONN
}

int fx_mh_clear(struct fx_mh *h, const char *cp) {
  struct fx_market_target t = {.period = fx_mh_day(PERIOD)};
  snprintf(t.cp, sizeof t.cp, "%s", cp);
  fx_mh_run_command(h, fx_market_run_clear, &t);
  cr_assert(t.found, "market %s %s exists", cp, PERIOD);
  return (int)t.n_orders;
}
