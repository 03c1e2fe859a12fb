/* market.c — the market object: construction from the store, the sequencer
 * hooks, the id index and the clearing deadline.
 *
 * The in-memory state (engine/market_int.h) is rebuilt from the store on
 * start and after a failed commit: reference records first, then market
 * objects in dependency order (requests, broadcasts and their responses,
 * prognoses, offers, orders), then what the operate and settle phases keep
 * (metering revisions, reservations, settlements). Object bodies are the UFTP messages they came
 * from, written as XML, so a restart re-reads exactly what was decided on. */
#include "engine/market.h"
#include "engine/log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"
#include "engine/respond.h"

/* ---- lookups -------------------------------------------------------------- */

struct mk_market *mk_market_get(struct fx_market *mk, const char *cp, int32_t period, bool create) {
  char key[MK_ADDR + 16];
  int n = snprintf(key, sizeof key, "%s|%d", cp, (int)period);
  if (n < 0 || (size_t)n >= sizeof key)
    return NULL;
  struct mk_market *m;
  HASH_FIND_STR(mk->markets, key, m);
  if (m || !create)
    return m;
  int isps = fx_calendar_isp_count(mk->cal, period, mk->isp_us);
  if (isps <= 0 || strlen(cp) >= MK_ADDR)
    return NULL;
  m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  memcpy(m->key, key, (size_t)n + 1);
  strcpy(m->cp, cp);
  m->period = period;
  m->n_isps = isps;
  HASH_ADD_STR(mk->markets, key, m);
  return m;
}

int mk_id_add(struct fx_market *mk, const struct fx_uuid *id, uint8_t kind, struct mk_market *m, void *obj,
              size_t index) {
  struct mk_id *e = calloc(1, sizeof *e);
  if (!e)
    return -1;
  e->id = *id, e->kind = kind, e->market = m, e->obj = obj, e->index = index;
  HASH_ADD(hh, mk->ids, id, sizeof e->id, e);
  return 0;
}

struct mk_id *mk_id_find(struct fx_market *mk, const struct fx_uuid *id) {
  struct mk_id *e;
  HASH_FIND(hh, mk->ids, id, sizeof *id, e);
  return e;
}

int32_t mk_today(struct fx_market *mk, int64_t now_us) { return fx_calendar_day_of(mk->cal, now_us); }

bool mk_is_registered(const struct fx_market *mk, const char *domain, enum fx_role role) {
  for (size_t i = 0; i < mk->cfg->n_participants; i++)
    if (mk->cfg->participants[i].role == role && !strcmp(mk->cfg->participants[i].domain, domain))
      return true;
  return false;
}

/* The gate closure of the market's request: day-ahead (local time on the day
 * before the Period) for a request that arrived before it; intraday (minutes
 * before its first Requested ISP) for one that arrived after it, such as a
 * request for today's Period. */
static int64_t gate_closure(struct fx_market *mk, const struct mk_market *m) {
  struct fx_day d;
  if (fx_calendar_day(mk->cal, m->period - 1, &d) != 0)
    return INT64_MAX;
  int64_t day_ahead = d.start_us + (int64_t)mk->cfg->gate_closure_minute * 60000000;
  if (!m->req || m->req->t_us < day_ahead || fx_calendar_day(mk->cal, m->period, &d) != 0)
    return day_ahead;
  for (int i = 0; i < m->n_isps; i++)
    if (m->req->isps[i].disposition == FX_CLEAR_REQUESTED)
      return d.start_us + i * mk->isp_us - (int64_t)mk->cfg->gate_closure_intraday * 60000000;
  return day_ahead;
}

/* The earlier of the request's ExpirationDateTime and its gate closure. */
int64_t mk_clearing_time(struct fx_market *mk, const struct mk_market *m) {
  int64_t t = m->req ? m->req->expires_us : INT64_MAX, gate = gate_closure(mk, m);
  return gate < t ? gate : t;
}

void mk_refresh_deadline(struct fx_market *mk) {
  int64_t best = INT64_MAX;
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    if (m->req && m->req->state == FX_REQ_OPEN && !m->cleared) {
      int64_t t = mk_clearing_time(mk, m);
      if (t < best)
        best = t;
    }
  atomic_store(&mk->deadline, best);
}

int64_t fx_market_next_deadline(const struct fx_market *mk) {
  return atomic_load(&((struct fx_market *)mk)->deadline);
}

const void *mk_body_xml(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *m, size_t *len) {
  struct fx_buf b;
  struct fx_error err;
  fx_buf_init(&b);
  if (fx_write_msg(m, &b, &err) != 0) {
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "internal",
                FX_LOG_KV(FX_LS("message_type", fx_msg_type_name(m->type))),
                "market: %s not written: %s: %s", fx_msg_type_name(m->type), err.where, err.why);
    fx_buf_free(&b);
    return NULL;
  }
  void *p = fx_seq_alloc(ctx, b.len);
  if (p)
    memcpy(p, b.data, b.len);
  *len = b.len;
  fx_buf_free(&b);
  return p;
}


/* ---- the hooks ------------------------------------------------------------ */

static void apply(void *market, struct fx_seq_ctx *ctx, const struct fx_inbound *in, struct fx_verdict *v,
                  struct fx_msg *resp) {
  struct fx_market *mk = market;
  switch (in->msg->type) {
  case FX_MSG_DSO_PORTFOLIO_UPDATE:
  case FX_MSG_DSO_PORTFOLIO_QUERY:
  case FX_MSG_AGR_PORTFOLIO_UPDATE:
  case FX_MSG_AGR_PORTFOLIO_QUERY:
    mk_cro_apply(mk, ctx, in, v, resp);
    break;
  case FX_MSG_METERING:
    mk_metering_apply(mk, ctx, in->msg, v);
    break;
  case FX_MSG_FLEX_SETTLEMENT_RESPONSE:
    mk_settle_apply(mk, ctx, in->msg, v);
    break;
  case FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE:
    mk_reservation_response(mk, ctx, in->msg, v);
    break;
  case FX_MSG_FLEX_OFFER:
    mk_contract_check_offer(mk, in->msg, v);
    if (fx_verdict_ok(v))
      mk_trade_apply(mk, ctx, in, v, resp);
    break;
  case FX_MSG_D_PROGNOSIS:
    mk_trade_apply(mk, ctx, in, v, resp);
    if (fx_verdict_ok(v)) /* the baseline settlement reads */
      mk_baseline_store(mk, ctx, in->msg);
    if (fx_verdict_ok(v) && resp)
      mk_prognosis_order_status(mk, ctx, in->msg, resp);
    break;
  default:
    mk_trade_apply(mk, ctx, in, v, resp);
    break;
  }
}

static void after_commit(void *market, int ok) {
  struct fx_market *mk = market;
  if (!ok) {
    mk_unload(mk);
    if (mk_load(mk) != 0)
      fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "commit_failed", NULL, 0,
                  "market: reloading after a failed commit failed; state may be partial");
  }
  mk_refresh_deadline(mk);
}

struct fx_seq_hooks fx_market_hooks(struct fx_market *mk) {
  return (struct fx_seq_hooks){.apply = apply, .after_commit = after_commit, .market = mk};
}

/* ---- lifetime ------------------------------------------------------------- */

struct fx_market *fx_market_new(const struct fx_config *cfg, struct fx_store *st, char *err, size_t errlen) {
  struct fx_duration isp;
  const char *why = NULL;
  if (fx_duration_parse(cfg->isp_duration, strlen(cfg->isp_duration), &isp, &why) != 0 || isp.months ||
      isp.usec <= 0) {
    snprintf(err, errlen, "isp_duration %s: %s", cfg->isp_duration, why ? why : "not a fixed duration");
    return NULL;
  }
  struct fx_market *mk = calloc(1, sizeof *mk);
  if (!mk) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  mk->cfg = cfg, mk->st = st, mk->isp_us = isp.usec;
  mk->cal = fx_calendar_new(cfg->time_zone);
  mk->reader = fx_reader_new(NULL);
  fx_store_read_init(&mk->rd, st);
  if (!mk->cal || !mk->reader) {
    snprintf(err, errlen, mk->cal ? "out of memory" : "unknown time zone %s", cfg->time_zone);
    fx_market_free(mk);
    return NULL;
  }
  if (mk_load(mk) != 0) {
    snprintf(err, errlen, "market state could not be read from the store");
    fx_market_free(mk);
    return NULL;
  }
  mk_refresh_deadline(mk);
  return mk;
}

void fx_market_free(struct fx_market *mk) {
  if (!mk)
    return;
  mk_unload(mk);
  fx_store_read_free(&mk->rd);
  fx_reader_free(mk->reader);
  fx_calendar_free(mk->cal);
  free(mk);
}
