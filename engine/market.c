/* market.c — the market object: construction from the store, the sequencer
 * hooks, the id index and the deadline (clearing times and the FlexOrders'
 * reply deadlines).
 *
 * The in-memory state (engine/market_int.h) is rebuilt from the store on
 * start and after a failed commit: reference records first, then the hot
 * markets' objects in dependency order (requests, broadcasts and their
 * responses, prognoses, offers, orders), then what the operate and settle
 * phases keep (metering revisions, reservations). Object bodies are the UFTP
 * messages they came from, written as XML, so a restart re-reads exactly what
 * was decided on. Cold markets are read when needed and let go after the
 * commit (market_load.c); this file keeps the clock that says which is which. */
#include "engine/market.h"
#include "engine/log.h"
#include "engine/metrics.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"
#include "engine/respond.h"

/* ---- lookups -------------------------------------------------------------- */

/* A new market (cp, period), not yet in the table; NULL on error. */
static struct mk_market *market_new(struct fx_market *mk, const char *cp, int32_t period, const char *key,
                                    size_t keylen) {
  int isps = fx_calendar_isp_count(mk->cal, period, mk->isp_us);
  if (isps <= 0 || strlen(cp) >= MK_ADDR)
    return NULL;
  struct mk_market *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  memcpy(m->key, key, keylen + 1);
  strcpy(m->cp, cp);
  m->period = period;
  m->n_isps = isps;
  m->gen = ++mk->gen_seq; /* a market read again is never taken for the one a snapshot saw */
  return m;
}

/* A cold market read from the committed store (the group's read transaction
 * when one is open); NULL when the store has none of it and !create. */
static struct mk_market *market_read(struct fx_market *mk, struct mk_market *m, bool create) {
  struct fx_store_read *rd = mk->ctx ? fx_seq_read(mk->ctx) : &mk->rd;
  bool own = !mk->ctx;
  if (own && fx_store_read_begin(rd) != 0) {
    mk_market_free(m);
    return NULL;
  }
  HASH_ADD_STR(mk->markets, key, m);
  mk->n_cold++;
  int rc = mk_market_fill(mk, rd, m);
  if (own)
    fx_store_read_end(rd);
  bool empty = !m->req && !m->bcasts && !m->progs && !m->n_offers && !m->n_orders;
  if (rc == 0 && (!empty || create))
    return m;
  /* Nothing of it (or unreadable): drop it with any ids it got. */
  struct mk_id *e, *et;
  HASH_ITER(hh, mk->ids, e, et)
    if (e->market == m) {
      HASH_DEL(mk->ids, e);
      free(e);
    }
  HASH_DEL(mk->markets, m);
  mk_market_free(m);
  return NULL;
}

struct mk_market *mk_market_get(struct fx_market *mk, const char *cp, int32_t period, bool create) {
  char key[MK_ADDR + 16];
  int n = snprintf(key, sizeof key, "%s|%d", cp, (int)period);
  if (n < 0 || (size_t)n >= sizeof key)
    return NULL;
  struct mk_market *m;
  HASH_FIND_STR(mk->markets, key, m);
  if (m)
    return m;
  if (period >= mk->live_from && !create)
    return NULL; /* every hot market with objects is in memory */
  if (!(m = market_new(mk, cp, period, key, (size_t)n)))
    return NULL;
  if (period < mk->live_from)
    return market_read(mk, m, create);
  HASH_ADD_STR(mk->markets, key, m);
  mk_note_market(mk, cp, period);
  return m;
}

/* ---- the hot window -------------------------------------------------------------- */

void mk_cp_counter(const char *cp, char out[48]) {
  struct fx_uuid zero = {{0}}, h;
  char text[FX_UUID_STRLEN];
  fx_uuid_derive(&h, "flexd.cp-last", &zero, cp);
  fx_uuid_format(&h, text);
  snprintf(out, 48, "mk.last.%s", text);
}

void mk_note_market(struct fx_market *mk, const char *cp, int32_t period) {
  char *name = mk->ctx ? fx_seq_alloc(mk->ctx, 48) : NULL;
  if (!name)
    return; /* at load: the store already knows it */
  mk_cp_counter(cp, name);
  fx_store_batch_counter_raise(fx_seq_batch(mk->ctx), name, mk_day_counter(period));
}

/* A store read in full (from before the counters): every market and contract
 * day the memory holds is noted once, with the clock. */
static void write_index(struct fx_market *mk) {
  for (struct mk_market *m = mk->markets; m; m = m->hh.next)
    mk_note_market(mk, m->cp, m->period);
  for (struct mk_resv *r = mk->resvs; r; r = r->hh.next)
    mk_note_market(mk, r->contract->cp, r->period);
  mk->index_pending = false;
}

void mk_group_begin(struct fx_market *mk, struct fx_seq_ctx *ctx) {
  mk->ctx = ctx;
  int32_t day = mk_today(mk, fx_seq_now(ctx));
  if (day > mk->clock_day)
    mk->clock_day = day;
  if (mk->index_pending)
    write_index(mk);
  if (mk->clock_day > mk->clock_stored) {
    fx_store_batch_counter_raise(fx_seq_batch(ctx), MK_CLOCK_COUNTER, mk_day_counter(mk->clock_day));
    mk->clock_stored = mk->clock_day;
  }
}

void mk_group_end(struct fx_market *mk) { mk->ctx = NULL; }

/* Where `owner` may have objects of `kind` under id: the cold days of its
 * congestion points, newest first. */
struct mk_id *mk_id_lookup(struct fx_market *mk, const struct fx_uuid *id, uint8_t kind, const char *owner) {
  struct mk_id *e = mk_id_find(mk, id);
  if (e || !mk->ctx || mk->live_from == INT32_MIN)
    return e;
  struct fx_store_read *rd = fx_seq_read(mk->ctx);
  struct fx_store_obj_key k = {.period = 0, .kind = kind};
  memcpy(k.id, id->b, 16);
  for (struct mk_conn *c = mk->conns; c; c = c->hh.next) {
    if (!c->has_agr || !c->has_cp || strcmp(c->agr, owner))
      continue;
    k.cp = c->cp;
    for (int32_t d = mk->live_from - 1; d >= mk->live_from - MK_COLD_LOOKBACK; d--) {
      struct fx_store_obj_view v;
      k.period = d;
      if (fx_store_obj_get(rd, &k, &v) == 0 && !strcmp(fx_store_obj_owner(&v), owner))
        return mk_market_get(mk, c->cp, d, false) ? mk_id_find(mk, id) : NULL;
    }
  }
  return NULL;
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

/* ---- the deadline ------------------------------------------------------------
 *
 * The loop's timer waits for the earliest deadline of all hot markets, which
 * after every commit must be what mk_deadline_scan would find. Scanning every
 * market and order after every group commit costs O(markets + orders) on the
 * sequencer thread, hundreds of times a second under ingest, while a group
 * changes a handful of markets. So each market caches its own deadline
 * (due_us); the group marks the markets whose deadline it may have moved
 * (mk_deadline_mark, a list threaded through them), and after the commit only
 * those are recomputed (each O(its orders)) and moved in a binary min-heap of
 * the markets that have a deadline, O(log markets) each; the heap's top is
 * published. A heap rather than a cached minimum and its owner: the owner's
 * deadline moves later whenever it is cleared or its orders are answered,
 * and each of those would be a full scan again.
 *
 * Cold markets (read for one group, evicted after it) never enter the heap;
 * when the hot window moves on (once a day) or memory ran out for the heap,
 * everything is recomputed (mk_refresh_deadline). */

/* The earliest reply deadline of m's placed orders, or INT64_MAX. */
static int64_t order_deadline(const struct fx_market *mk, const struct mk_market *m) {
  int64_t best = INT64_MAX;
  for (size_t i = 0; mk->cfg->order_response_timeout_s && i < m->n_orders; i++) {
    int64_t t = mk_order_deadline(mk, &m->orders[i]);
    if (t < best)
      best = t;
  }
  return best;
}

static int64_t market_due(struct fx_market *mk, const struct mk_market *m) {
  int64_t best = order_deadline(mk, m);
  if (mk_clearing_due(mk, m)) {
    int64_t t = mk_clearing_due_at(mk, m);
    if (t < best)
      best = t;
  }
  return best;
}

static bool is_hot(const struct fx_market *mk, const struct mk_market *m) { return m->period >= mk->live_from; }

int64_t mk_deadline_scan(struct fx_market *mk) {
  int64_t best = INT64_MAX;
  for (struct mk_market *m = mk->markets; m; m = m->hh.next) {
    int64_t t = is_hot(mk, m) ? market_due(mk, m) : INT64_MAX;
    if (t < best)
      best = t;
  }
  return best;
}

void mk_deadline_mark(struct fx_market *mk, struct mk_market *m) {
  if (m->dl_marked)
    return;
  m->dl_marked = true;
  m->dl_next = mk->dl_marked;
  mk->dl_marked = m;
}

/* The heap: dl_heap[0 .. dl_n) ordered by due_us, each market knowing its
 * place (heap_at, 1-based) so that it can be moved or taken out. */
static void heap_put(struct fx_market *mk, size_t i, struct mk_market *m) {
  mk->dl_heap[i] = m;
  m->heap_at = i + 1;
}

static void heap_up(struct fx_market *mk, size_t i) {
  struct mk_market *m = mk->dl_heap[i];
  while (i > 0 && mk->dl_heap[(i - 1) / 2]->due_us > m->due_us) {
    heap_put(mk, i, mk->dl_heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_put(mk, i, m);
}

static void heap_down(struct fx_market *mk, size_t i) {
  struct mk_market *m = mk->dl_heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= mk->dl_n)
      break;
    if (c + 1 < mk->dl_n && mk->dl_heap[c + 1]->due_us < mk->dl_heap[c]->due_us)
      c++;
    if (mk->dl_heap[c]->due_us >= m->due_us)
      break;
    heap_put(mk, i, mk->dl_heap[c]);
    i = c;
  }
  heap_put(mk, i, m);
}

static int heap_reserve(struct fx_market *mk, size_t n) {
  if (n <= mk->dl_cap)
    return 0;
  size_t cap = mk->dl_cap ? mk->dl_cap : 64;
  while (cap < n)
    cap *= 2;
  struct mk_market **p = realloc(mk->dl_heap, cap * sizeof *p);
  if (!p)
    return -1;
  mk->dl_heap = p, mk->dl_cap = cap;
  return 0;
}

/* m's deadline is now `due`: into the heap, moved in it, or out of it. */
static int heap_set(struct fx_market *mk, struct mk_market *m, int64_t due) {
  m->due_us = due;
  if (m->heap_at) {
    size_t i = m->heap_at - 1;
    if (due == INT64_MAX) { /* out: the last one takes its place and is the one to move */
      m->heap_at = 0;
      struct mk_market *last = mk->dl_heap[--mk->dl_n];
      if (i == mk->dl_n)
        return 0;
      heap_put(mk, i, last);
      m = last;
    }
    heap_up(mk, i);
    heap_down(mk, m->heap_at - 1);
    return 0;
  }
  if (due == INT64_MAX)
    return 0;
  if (heap_reserve(mk, mk->dl_n + 1) != 0)
    return -1;
  heap_put(mk, mk->dl_n++, m);
  heap_up(mk, mk->dl_n - 1);
  return 0;
}

static void deadline_publish(struct fx_market *mk) {
  atomic_store(&mk->deadline, mk->dl_n ? mk->dl_heap[0]->due_us : INT64_MAX);
}

void mk_refresh_deadline(struct fx_market *mk) {
  mk->dl_marked = NULL;
  mk->dl_n = 0;
  mk->dl_degraded = heap_reserve(mk, HASH_COUNT(mk->markets)) != 0;
  for (struct mk_market *m = mk->markets; m; m = m->hh.next) {
    m->dl_marked = false, m->dl_next = NULL, m->heap_at = 0;
    m->due_us = is_hot(mk, m) ? market_due(mk, m) : INT64_MAX;
    if (!mk->dl_degraded && m->due_us != INT64_MAX)
      heap_put(mk, mk->dl_n++, m);
  }
  for (size_t i = mk->dl_n / 2; i-- > 0;)
    heap_down(mk, i);
  if (mk->dl_degraded) { /* correct, as slow as before the heap; tried again after the next commit */
    atomic_store(&mk->deadline, mk_deadline_scan(mk));
    return;
  }
  deadline_publish(mk);
}

void fx_market_config_changed(struct fx_market *mk) {
  /* The cached deadlines were computed from the old values, and no group
   * marks a market for a change of configuration. */
  mk_refresh_deadline(mk);
}

/* After a commit: the marked markets' deadlines again, the heap's top out. */
static void deadline_update(struct fx_market *mk) {
  for (struct mk_market *m = mk->dl_marked, *next; m; m = next) {
    next = m->dl_next;
    m->dl_marked = false, m->dl_next = NULL;
    if (is_hot(mk, m) && heap_set(mk, m, market_due(mk, m)) != 0)
      mk->dl_degraded = true;
  }
  mk->dl_marked = NULL;
  if (mk->dl_degraded)
    mk_refresh_deadline(mk);
  else
    deadline_publish(mk);
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
  mk_group_begin(mk, ctx);
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
  mk_group_end(mk);
}

/* Everything of the group is in the store now, so what is cold may go; a
 * failed group is forgotten by reading the store again. */
static void after_commit(void *market, int ok) {
  struct fx_market *mk = market;
  mk->ctx = NULL;
  if (ok && mk->expired_pending && mk->expired_metric)
    fx_counter_add(mk->expired_metric, mk->expired_pending);
  mk->expired_pending = 0;
  if (ok && mk->clear_failed_pending && mk->clear_failed_metric)
    fx_counter_add(mk->clear_failed_metric, mk->clear_failed_pending);
  mk->clear_failed_pending = 0;
  bool moves = mk->clock_day != INT32_MIN && mk->clock_day - MK_HOT_DAYS > mk->live_from;
  if (!ok) {
    mk->dl_marked = NULL; /* the marked markets are freed, the heap rebuilt */
    mk_unload(mk);
    if (mk_load(mk) != 0)
      fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_ERROR, "commit_failed", NULL, 0,
                  "market: reloading after a failed commit failed; state may be partial");
    mk_refresh_deadline(mk);
  } else if (moves) { /* once a day: markets leave the heap, so it is built again */
    mk->dl_marked = NULL;
    mk_evict(mk);
    mk_refresh_deadline(mk);
  } else {
    deadline_update(mk); /* first: cold markets it skips may be marked, and go now */
    if (mk->n_cold)
      mk_evict(mk);
  }
}

void fx_market_memory(const struct fx_market *mk, struct fx_market_memory *out) {
  *out = (struct fx_market_memory){.markets = HASH_COUNT(mk->markets), .ids = HASH_COUNT(mk->ids),
                                   .meters = HASH_COUNT(mk->meters), .clock_day = mk->clock_day,
                                   .live_from = mk->live_from};
}

void fx_market_count_expired(struct fx_market *mk, struct fx_counter *c) { mk->expired_metric = c; }

void fx_market_count_clearing_failed(struct fx_market *mk, struct fx_counter *c) { mk->clear_failed_metric = c; }

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
  mk->clock_day = mk->clock_stored = mk->live_from = INT32_MIN;
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
  mk_clearing_free(mk);
  mk_unload(mk);
  free(mk->dl_heap);
  fx_store_read_free(&mk->rd);
  fx_reader_free(mk->reader);
  fx_calendar_free(mk->cal);
  free(mk);
}
