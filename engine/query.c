/* query.c — the market query API (see query.h): JSON from the store.
 *
 * The object layout is market_trade.c's and market_clear.c's: REQUEST objects
 * whose body is XML are the DSO's revisions ("B"/"R" bodies are the broadcast
 * bookkeeping), OFFER and ORDER bodies are the messages themselves. */
#include "engine/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "engine/calendar.h"
#include "engine/clear.h"
#include "engine/config.h"
#include "engine/http_server.h"
#include "engine/settle.h"
#include "store/store.h"

struct fx_query {
  struct fx_store *st;
  struct fx_store_read rd;
  struct fx_calendar *cal;
  int64_t isp_us;
  fx_reader *reader;
};

struct fx_query *fx_query_new(const struct fx_config *cfg, struct fx_store *st) {
  struct fx_duration isp;
  if (fx_duration_parse(cfg->isp_duration, strlen(cfg->isp_duration), &isp, NULL) != 0 || isp.months ||
      isp.usec <= 0)
    return NULL;
  struct fx_query *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->st = st, q->isp_us = isp.usec;
  q->cal = fx_calendar_new(cfg->time_zone);
  q->reader = fx_reader_new(NULL);
  fx_store_read_init(&q->rd, st);
  if (!q->cal || !q->reader) {
    fx_query_free(q);
    return NULL;
  }
  return q;
}

void fx_query_free(struct fx_query *q) {
  if (!q)
    return;
  fx_store_read_free(&q->rd);
  fx_reader_free(q->reader);
  fx_calendar_free(q->cal);
  free(q);
}

/* ---- small formatters -------------------------------------------------------- */

static json_t *jstr_uuid(const uint8_t *b) {
  struct fx_uuid u;
  char s[FX_UUID_STRLEN];
  memcpy(u.b, b, 16);
  fx_uuid_format(&u, s);
  return json_string(s);
}

static json_t *jmoney(fx_money m) {
  char s[FX_NUMBER_STRLEN];
  fx_money_format(m, s);
  return json_string(s);
}

static json_t *jperiod(int32_t days) {
  struct fx_date d;
  char s[FX_DATE_STRLEN];
  fx_date_from_days(days, &d);
  fx_date_format(&d, s);
  return json_string(s);
}

static json_t *jtime(int64_t us) {
  struct fx_datetime t = {us, 0};
  char s[FX_DATETIME_STRLEN];
  fx_datetime_format(&t, s);
  return json_string(s);
}

static const char *state_name(uint8_t kind, uint8_t s) {
  static const char *const req[] = {"", "open", "cleared", "superseded", "expired"};
  static const char *const off[] = {"", "open", "ordered", "revoked", "expired"};
  static const char *const ord[] = {"", "placed", "accepted", "rejected", "expired"};
  if (kind == FX_OBJ_REQUEST && s <= 4)
    return req[s];
  if (kind == FX_OBJ_OFFER && s <= 4)
    return off[s];
  if (kind == FX_OBJ_ORDER && s <= 4)
    return ord[s];
  return "";
}

static bool is_request_revision(const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  return fx_store_obj_kind(v) == FX_OBJ_REQUEST && len && b[0] == '<';
}

static const struct fx_msg *parse(struct fx_query *q, const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  const struct fx_msg *m;
  struct fx_error err;
  return fx_read_msg(q->reader, (const char *)b, len, &m, &err) == 0 ? m : NULL;
}

/* ---- /api/markets --------------------------------------------------------------- */

struct summary {
  json_t *obj;
  int offers[5], orders[5];
  uint32_t best_rev;
};

static void summary_flush(struct summary *s, json_t *arr) {
  if (!s->obj)
    return;
  static const char *const on[] = {"", "open", "ordered", "revoked", "expired"};
  static const char *const rn[] = {"", "placed", "accepted", "rejected", "expired"};
  json_t *o = json_object(), *r = json_object();
  for (int i = 1; i < 5; i++)
    json_object_set_new(o, on[i], json_integer(s->offers[i]));
  for (int i = 1; i < 5; i++)
    json_object_set_new(r, rn[i], json_integer(s->orders[i]));
  json_object_set_new(s->obj, "offers", o);
  json_object_set_new(s->obj, "orders", r);
  json_array_append_new(arr, s->obj);
  memset(s, 0, sizeof *s);
}

static void summary_add(struct summary *s, const struct fx_store_obj_view *v) {
  uint8_t st = fx_store_obj_state(v);
  switch (fx_store_obj_kind(v)) {
  case FX_OBJ_OFFER:
    if (st < 5)
      s->offers[st]++;
    break;
  case FX_OBJ_ORDER:
    if (st < 5)
      s->orders[st]++;
    break;
  case FX_OBJ_REQUEST:
    if (is_request_revision(v) && fx_store_obj_revision(v) >= s->best_rev) {
      json_t *r = json_object();
      s->best_rev = fx_store_obj_revision(v);
      json_object_set_new(r, "message_id", jstr_uuid(fx_store_obj_id(v)));
      json_object_set_new(r, "dso", json_string(fx_store_obj_owner(v)));
      json_object_set_new(r, "revision", json_integer(fx_store_obj_revision(v)));
      json_object_set_new(r, "state", json_string(state_name(FX_OBJ_REQUEST, st)));
      json_object_set_new(s->obj, "request", r);
    }
    break;
  default: break;
  }
}

int fx_query_markets(struct fx_query *q, json_t **out) {
  int rc = fx_store_read_begin(&q->rd);
  if (rc)
    return rc;
  json_t *arr = json_array();
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  struct summary s = {0};
  char cp[256] = "";
  int32_t period = 0;
  rc = fx_store_obj_iter(&q->rd, NULL, 0, 0, &it);
  while (rc == 0 && (rc = fx_store_obj_next(&it, &v)) == 1) {
    if (!s.obj || strcmp(cp, fx_store_obj_cp(&v)) || period != fx_store_obj_period(&v)) {
      summary_flush(&s, arr);
      snprintf(cp, sizeof cp, "%s", fx_store_obj_cp(&v));
      period = fx_store_obj_period(&v);
      s.obj = json_object();
      json_object_set_new(s.obj, "congestion_point", json_string(cp));
      json_object_set_new(s.obj, "period", jperiod(period));
      json_object_set_new(s.obj, "request", json_null());
    }
    summary_add(&s, &v);
    rc = 0;
  }
  summary_flush(&s, arr);
  fx_store_iter_close(&it);
  fx_store_read_end(&q->rd);
  if (rc < 0) {
    json_decref(arr);
    return rc;
  }
  *out = arr;
  return 0;
}

/* ---- /api/markets/{cp}/{period} ------------------------------------------------------ */

struct detail {
  int n_isps;
  struct fx_clear_isp *isps; /* the latest request's, by ISP index */
  uint32_t best_rev;
  int64_t *ordered;          /* live orders' power per ISP */
  int64_t cost;
  json_t *doc, *offers, *orders;
  json_t *bcasts; /* platform request id → {agr, response} */
};

static void add_request(struct fx_query *q, struct detail *d, const struct fx_store_obj_view *v) {
  (void)q;
  const struct fx_msg *m = parse(q, v);
  if (!m || fx_store_obj_revision(v) < d->best_rev)
    return;
  d->best_rev = fx_store_obj_revision(v);
  const struct fx_flex_request *fr = &m->u.flex_request;
  json_t *r = json_object(), *need = json_array();
  json_object_set_new(r, "message_id", jstr_uuid(fx_store_obj_id(v)));
  json_object_set_new(r, "dso", json_string(fx_store_obj_owner(v)));
  json_object_set_new(r, "revision", json_integer(fr->revision));
  json_object_set_new(r, "state", json_string(state_name(FX_OBJ_REQUEST, fx_store_obj_state(v))));
  json_object_set_new(r, "expiration", jtime(fr->expiration_date_time.usec));
  memset(d->isps, 0, (size_t)d->n_isps * sizeof *d->isps);
  for (size_t i = 0; i < fr->n_isps; i++) {
    const struct fx_flex_request_isp *s = &fr->isps[i];
    bool req = s->disposition == FX_DISPOSITION_REQUESTED;
    json_t *e = json_object();
    json_object_set_new(e, "start", json_integer(s->start));
    json_object_set_new(e, "duration", json_integer(s->duration));
    json_object_set_new(e, "disposition", json_string(req ? "Requested" : "Available"));
    json_object_set_new(e, "min_power", json_integer(s->min_power));
    json_object_set_new(e, "max_power", json_integer(s->max_power));
    json_array_append_new(need, e);
    for (int64_t k = s->start; k < s->start + s->duration; k++)
      if (k >= 1 && k <= d->n_isps)
        d->isps[k - 1] = (struct fx_clear_isp){req ? FX_CLEAR_REQUESTED : FX_CLEAR_AVAILABLE, s->min_power, s->max_power};
  }
  json_object_set_new(r, "need", need);
  json_object_set_new(d->doc, "request", r);
}

static void add_offer(struct fx_query *q, struct detail *d, const struct fx_store_obj_view *v) {
  const struct fx_msg *m = parse(q, v);
  json_t *o = json_object(), *opts = json_array();
  json_object_set_new(o, "message_id", jstr_uuid(fx_store_obj_id(v)));
  json_object_set_new(o, "agr", json_string(fx_store_obj_owner(v)));
  json_object_set_new(o, "state", json_string(state_name(FX_OBJ_OFFER, fx_store_obj_state(v))));
  json_object_set_new(o, "received", jtime(fx_store_obj_created_us(v)));
  for (size_t i = 0; m && i < m->u.flex_offer.n_offer_options; i++) {
    const struct fx_offer_option *op = &m->u.flex_offer.offer_options[i];
    json_t *e = json_object();
    json_object_set_new(e, "option_reference", json_string(op->option_reference));
    json_object_set_new(e, "price", jmoney(op->price));
    json_object_set_new(e, "min_activation_factor", json_real(op->min_activation_factor / 100.0));
    json_array_append_new(opts, e);
  }
  if (m)
    json_object_set_new(o, "expiration", jtime(m->u.flex_offer.expiration_date_time.usec));
  json_object_set_new(o, "options", opts);
  json_array_append_new(d->offers, o);
}

static void add_order(struct fx_query *q, struct detail *d, const struct fx_store_obj_view *v) {
  const struct fx_msg *m = parse(q, v);
  uint8_t st = fx_store_obj_state(v);
  bool live = st == FX_ORDER_PLACED || st == FX_ORDER_ACCEPTED; /* not rejected, not expired */
  json_t *o = json_object(), *isps = json_array();
  json_object_set_new(o, "message_id", jstr_uuid(fx_store_obj_id(v)));
  json_object_set_new(o, "offer", jstr_uuid(fx_store_obj_ref(v)));
  json_object_set_new(o, "agr", json_string(fx_store_obj_owner(v)));
  json_object_set_new(o, "state", json_string(state_name(FX_OBJ_ORDER, st)));
  if (m) {
    const struct fx_flex_order *fo = &m->u.flex_order;
    json_object_set_new(o, "order_reference", json_string(fo->order_reference));
    json_object_set_new(o, "option_reference", fo->option_reference ? json_string(fo->option_reference) : json_null());
    json_object_set_new(o, "activation_factor", json_real(fo->activation_factor / 100.0));
    json_object_set_new(o, "price", jmoney(fo->price));
    for (size_t i = 0; i < fo->n_isps; i++) {
      json_t *e = json_object();
      json_object_set_new(e, "start", json_integer(fo->isps[i].start));
      json_object_set_new(e, "duration", json_integer(fo->isps[i].duration));
      json_object_set_new(e, "power", json_integer(fo->isps[i].power));
      json_array_append_new(isps, e);
      for (int64_t k = fo->isps[i].start; live && k < fo->isps[i].start + fo->isps[i].duration; k++)
        if (k >= 1 && k <= d->n_isps)
          d->ordered[k - 1] += fo->isps[i].power;
    }
    if (live)
      d->cost += fo->price;
  }
  json_object_set_new(o, "isps", isps);
  json_array_append_new(d->orders, o);
}

/* Ordered power and residual need per Requested ISP, from the live orders. */
static void add_clearing(struct detail *d) {
  int64_t *residual = calloc((size_t)d->n_isps, sizeof *residual);
  struct fx_clear_option opt = {.min_af = 100, .first_isp = 0, .n_power = (size_t)d->n_isps, .power = d->ordered};
  struct fx_clear_placed placed = {&opt, 100};
  struct fx_clear_market cm = {.request = {(size_t)d->n_isps, d->isps}};
  json_t *c = json_object(), *per = json_array();
  int64_t need = 0, left = 0;
  if (residual && fx_clear_residual(&cm, &placed, 1, NULL, residual) == 0) {
    for (int k = 0; k < d->n_isps; k++) {
      if (d->isps[k].disposition != FX_CLEAR_REQUESTED && !d->ordered[k])
        continue;
      json_t *e = json_object();
      json_object_set_new(e, "isp", json_integer(k + 1));
      json_object_set_new(e, "ordered", json_integer(d->ordered[k]));
      json_object_set_new(e, "residual", json_integer(residual[k]));
      json_array_append_new(per, e);
      left += residual[k] < 0 ? -residual[k] : residual[k];
    }
    struct fx_clear_market none = cm;
    int64_t *all = calloc((size_t)d->n_isps, sizeof *all);
    if (all && fx_clear_residual(&none, NULL, 0, NULL, all) == 0)
      for (int k = 0; k < d->n_isps; k++)
        need += all[k] < 0 ? -all[k] : all[k];
    free(all);
  }
  free(residual);
  json_object_set_new(c, "need_w", json_integer(need));
  json_object_set_new(c, "covered_w", json_integer(need - left));
  json_object_set_new(c, "residual_w", json_integer(left));
  json_object_set_new(c, "cost", jmoney(d->cost));
  json_object_set_new(c, "isps", per);
  json_object_set_new(d->doc, "clearing", c);
}

/* The platform's copies of the request ("B") and the AGRs' answers ("R1"/"R2"). */
static void add_broadcast(struct detail *d, const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  bool answer = b[0] == 'R';
  char key[FX_UUID_STRLEN];
  struct fx_uuid u;
  memcpy(u.b, answer ? fx_store_obj_ref(v) : fx_store_obj_id(v), 16);
  fx_uuid_format(&u, key);
  json_t *e = json_object_get(d->bcasts, key);
  if (!e) {
    e = json_object();
    json_object_set_new(e, "message_id", json_string(key));
    json_object_set_new(e, "response", json_null());
    json_object_set_new(d->bcasts, key, e);
  }
  if (answer)
    json_object_set_new(e, "response", json_string(len > 1 && b[1] == '1' ? "Accepted" : "Rejected"));
  else
    json_object_set_new(e, "agr", json_string(fx_store_obj_owner(v)));
}

static int market_walk(struct fx_query *q, const char *cp, int32_t period, struct detail *d) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int rc = fx_store_obj_iter(&q->rd, cp, period, 0, &it), seen = 0;
  while (rc == 0 && (rc = fx_store_obj_next(&it, &v)) == 1) {
    seen++;
    rc = 0;
    if (is_request_revision(&v))
      add_request(q, d, &v);
    else if (fx_store_obj_kind(&v) == FX_OBJ_REQUEST)
      add_broadcast(d, &v);
    else if (fx_store_obj_kind(&v) == FX_OBJ_OFFER)
      add_offer(q, d, &v);
    else if (fx_store_obj_kind(&v) == FX_OBJ_ORDER)
      add_order(q, d, &v);
  }
  fx_store_iter_close(&it);
  return rc < 0 ? rc : seen ? 0 : FX_STORE_ENOTFOUND;
}

int fx_query_market(struct fx_query *q, const char *cp, int32_t period, json_t **out) {
  struct detail d = {0};
  d.n_isps = fx_calendar_isp_count(q->cal, period, q->isp_us);
  if (d.n_isps <= 0)
    return FX_STORE_ENOTFOUND;
  d.isps = calloc((size_t)d.n_isps, sizeof *d.isps);
  d.ordered = calloc((size_t)d.n_isps, sizeof *d.ordered);
  int rc = d.isps && d.ordered ? fx_store_read_begin(&q->rd) : FX_STORE_ENOMEM;
  if (rc == 0) {
    d.doc = json_object(), d.offers = json_array(), d.orders = json_array(), d.bcasts = json_object();
    json_object_set_new(d.doc, "congestion_point", json_string(cp));
    json_object_set_new(d.doc, "period", jperiod(period));
    json_object_set_new(d.doc, "isps", json_integer(d.n_isps));
    json_object_set_new(d.doc, "request", json_null());
    rc = market_walk(q, cp, period, &d);
    fx_store_read_end(&q->rd);
    json_object_set_new(d.doc, "offers", d.offers);
    json_object_set_new(d.doc, "orders", d.orders);
    json_t *arr = json_array(), *e;
    const char *k;
    json_object_foreach(d.bcasts, k, e) json_array_append(arr, e);
    json_decref(d.bcasts);
    json_object_set_new(d.doc, "broadcasts", arr);
    add_clearing(&d);
    if (rc == 0)
      *out = d.doc;
    else
      json_decref(d.doc);
  }
  free(d.isps);
  free(d.ordered);
  return rc;
}

/* ---- /api/settlements/{from}/{to} ------------------------------------------------------
 * SETTLEMENT objects as engine/market_settle.c lays them out (cp "", Period =
 * the run's PeriodStart): "H" a FlexSettlement, "I" an order's settlement
 * (ref = the FlexSettlement), "N" a note (ref = the item or message). */

#define ITEM_HDR 80u
#define ITEM_ISP 48u

static bool body_is(const struct fx_store_obj_view *v, char tag, size_t min) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  return len >= min && b[0] == (uint8_t)tag;
}

/* An item body's strings: cp, OrderReference, currency. */
static void item_strings(const uint8_t *b, size_t len, const char **cp, const char **ref, const char **cur) {
  size_t off = ITEM_HDR + ITEM_ISP * (size_t)fx_ld32(b + 8);
  *cp = *ref = *cur = "";
  if (len <= off || b[len - 1] != 0)
    return;
  *cp = (const char *)b + off;
  *ref = *cp + strlen(*cp) + 1;
  *cur = *ref + strlen(*ref) + 1;
}

/* The baseline reference an item was settled against (byte 60: enum
 * fx_settle_baseline + 1; items written before it was recorded used the
 * D-Prognosis). */
static const char *item_baseline(const uint8_t *b) {
  const char *name = b[60] ? fx_settle_baseline_name(b[60] - 1) : NULL;
  return name ? name : fx_settle_baseline_name(FX_SETTLE_BASELINE_PROGNOSIS);
}

static const char *item_state(uint8_t s) {
  return s == FX_SETTLE_ACCEPTED ? "accepted" : s == FX_SETTLE_REJECTED ? "disputed" : "open";
}

static json_t *settlement_json(const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  uint8_t st = fx_store_obj_state(v);
  char cur[4] = {0};
  memcpy(cur, b + 48, 3);
  json_t *o = json_object();
  json_object_set_new(o, "message_id", jstr_uuid(fx_store_obj_id(v)));
  json_object_set_new(o, "agr", json_string(fx_store_obj_owner(v)));
  json_object_set_new(o, "period_start", jperiod((int32_t)fx_ld32(b + 4)));
  json_object_set_new(o, "period_end", jperiod((int32_t)fx_ld32(b + 8)));
  json_object_set_new(o, "state", json_string(b[2] ? "held" : st == FX_SETTLE_ACCEPTED ? "accepted"
                                                      : st == FX_SETTLE_REJECTED       ? "rejected"
                                                                                       : "sent"));
  json_object_set_new(o, "currency", json_string(cur));
  json_object_set_new(o, "orders", json_integer(fx_ld32(b + 12)));
  json_object_set_new(o, "incomplete", json_integer(fx_ld32(b + 16)));
  json_object_set_new(o, "price", jmoney((fx_money)fx_ld64(b + 24)));
  json_object_set_new(o, "penalty", jmoney((fx_money)fx_ld64(b + 32)));
  json_object_set_new(o, "net_settlement", jmoney((fx_money)fx_ld64(b + 40)));
  json_object_set_new(o, "items", json_array());
  return o;
}

static json_t *item_json(const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  const char *cp, *ref, *cur;
  item_strings(b, len, &cp, &ref, &cur);
  json_t *o = json_object();
  bool settled = b[2] == 0;
  json_object_set_new(o, "order_reference", json_string(ref));
  json_object_set_new(o, "congestion_point", json_string(cp));
  json_object_set_new(o, "period", jperiod((int32_t)fx_ld32(b + 4)));
  json_object_set_new(o, "state", json_string(item_state(fx_store_obj_state(v))));
  json_object_set_new(o, "data", json_string(settled ? "settled" : "incomplete"));
  json_object_set_new(o, "missing_isps", json_integer(fx_ld32(b + 12)));
  json_object_set_new(o, "baseline", json_string(item_baseline(b)));
  json_object_set_new(o, "price", settled ? jmoney((fx_money)fx_ld64(b + 32)) : json_null());
  json_object_set_new(o, "penalty", settled ? jmoney((fx_money)fx_ld64(b + 40)) : json_null());
  json_object_set_new(o, "net_settlement", settled ? jmoney((fx_money)fx_ld64(b + 48)) : json_null());
  return o;
}

/* One pass over the runs starting on `day`: tag 'H' adds settlements, 'I'
 * items, 'N' reasons (to a message or an item, found by id). */
static int settle_pass(struct fx_query *q, int32_t day, char tag, json_t *by_id, json_t *arr) {
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int rc = fx_store_obj_iter(&q->rd, "", day, FX_OBJ_SETTLEMENT, &it), got;
  char id[FX_UUID_STRLEN], ref[FX_UUID_STRLEN];
  while (rc == 0 && (got = fx_store_obj_next(&it, &v)) == 1) {
    struct fx_uuid u, r;
    memcpy(u.b, fx_store_obj_id(&v), 16), memcpy(r.b, fx_store_obj_ref(&v), 16);
    fx_uuid_format(&u, id), fx_uuid_format(&r, ref);
    json_t *o = NULL, *about = json_object_get(by_id, ref);
    if (tag == 'H' && body_is(&v, 'H', 56)) {
      o = settlement_json(&v);
      json_array_append_new(arr, o);
    } else if (tag == 'I' && body_is(&v, 'I', ITEM_HDR) && about) {
      o = item_json(&v);
      json_array_append_new(json_object_get(about, "items"), o);
    } else if (tag == 'N' && body_is(&v, 'N', 2) && about) {
      size_t len;
      const char *text = (const char *)fx_store_obj_body(&v, &len) + 1;
      json_object_set_new(about, json_object_get(about, "items") ? "rejection_reason" : "dispute_reason",
                          json_stringn(text, strnlen(text, len - 1)));
    }
    if (o)
      json_object_set(by_id, id, o);
  }
  fx_store_iter_close(&it);
  return rc < 0 ? rc : (got < 0 ? got : 0);
}

int fx_query_settlements(struct fx_query *q, int32_t from, int32_t to, json_t **out) {
  if (to < from || to - from > 3660)
    return FX_STORE_ENOTFOUND;
  int rc = fx_store_read_begin(&q->rd);
  if (rc)
    return rc;
  json_t *arr = json_array(), *by_id = json_object();
  static const char tags[] = {'H', 'I', 'N'};
  for (int32_t d = from; d <= to && rc == 0; d++)
    for (size_t t = 0; t < sizeof tags && rc == 0; t++)
      rc = settle_pass(q, d, tags[t], by_id, arr);
  fx_store_read_end(&q->rd);
  json_decref(by_id);
  if (rc) {
    json_decref(arr);
    return rc;
  }
  *out = arr;
  return 0;
}

/* The settle.h input and result an item body was computed with. */
static void item_decode(const uint8_t *b, size_t len, struct fx_settle_isp_out *isps, char period[FX_DATE_STRLEN],
                        struct fx_settle_input *in, struct fx_settle_result *res) {
  struct fx_date d;
  fx_date_from_days((int32_t)fx_ld32(b + 4), &d);
  fx_date_format(&d, period);
  memset(in, 0, sizeof *in);
  item_strings(b, len, &in->congestion_point, &in->order_reference, &in->currency);
  in->period = period;
  in->baseline = item_baseline(b);
  in->order_price = (int64_t)fx_ld64(b + 16), in->penalty_rate = (int64_t)fx_ld64(b + 24);
  in->penalty_unit = b[3], in->isp_minutes = fx_ld32(b + 56);
  *res = (struct fx_settle_result){.isps = isps, .status = b[2], .n_missing = fx_ld32(b + 12),
                                   .price = (int64_t)fx_ld64(b + 32), .penalty = (int64_t)fx_ld64(b + 40),
                                   .net = (int64_t)fx_ld64(b + 48)};
  res->n_isps = res->isps_cap = fx_ld32(b + 8);
  in->n_isps = res->n_isps;
  for (size_t i = 0; i < res->n_isps; i++) {
    const uint8_t *p = b + ITEM_HDR + ITEM_ISP * i;
    struct fx_settle_isp_out *o = &isps[i];
    *o = (struct fx_settle_isp_out){.start = fx_ld32(p), .missing = p[4], .baseline_w = (int64_t)fx_ld64(p + 8),
                                    .ordered_w = (int64_t)fx_ld64(p + 16), .actual_w = (int64_t)fx_ld64(p + 24),
                                    .delivered_w = (int64_t)fx_ld64(p + 32), .deficiency_w = (int64_t)fx_ld64(p + 40)};
    int64_t m = o->ordered_w < 0 ? -o->ordered_w : o->ordered_w;
    res->ordered_w_isps += m;
    if (!o->missing) {
      res->delivered_w_isps += o->delivered_w < 0 ? -o->delivered_w : o->delivered_w;
      res->deficiency_w_isps += o->deficiency_w < 0 ? -o->deficiency_w : o->deficiency_w;
    }
  }
}

static int csv_item(struct fx_buf *out, const struct fx_store_obj_view *v, struct fx_settle_isp_out *isps) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  if (len < ITEM_HDR || fx_ld32(b + 8) > FX_SETTLE_MAX_ISPS || len < ITEM_HDR + ITEM_ISP * (size_t)fx_ld32(b + 8))
    return 0;
  char period[FX_DATE_STRLEN];
  struct fx_settle_input in;
  struct fx_settle_result res;
  item_decode(b, len, isps, period, &in, &res);
  size_t need = fx_settle_csv_order(&in, &res, NULL, 0);
  if (fx_buf_reserve(out, need + 1) != 0)
    return FX_STORE_ENOMEM;
  fx_settle_csv_order(&in, &res, out->data + out->len, need + 1);
  out->len += need;
  return 0;
}

int fx_query_settlements_csv(struct fx_query *q, int32_t from, int32_t to, char **out, size_t *len) {
  if (to < from || to - from > 3660)
    return FX_STORE_ENOTFOUND;
  struct fx_buf b;
  fx_buf_init(&b);
  struct fx_settle_isp_out *isps = malloc(FX_SETTLE_MAX_ISPS * sizeof *isps);
  size_t hl = fx_settle_csv_header(NULL, 0);
  int rc = isps && fx_buf_reserve(&b, hl + 1) == 0 ? fx_store_read_begin(&q->rd) : FX_STORE_ENOMEM;
  if (rc == 0) {
    b.len = fx_settle_csv_header(b.data, hl + 1);
    for (int32_t d = from; d <= to && rc == 0; d++) {
      struct fx_store_iter it;
      struct fx_store_obj_view v;
      rc = fx_store_obj_iter(&q->rd, "", d, FX_OBJ_SETTLEMENT, &it);
      while (rc == 0 && fx_store_obj_next(&it, &v) == 1)
        if (body_is(&v, 'I', ITEM_HDR))
          rc = csv_item(&b, &v, isps);
      fx_store_iter_close(&it);
    }
    fx_store_read_end(&q->rd);
  }
  free(isps);
  if (rc) {
    fx_buf_free(&b);
    return rc;
  }
  *out = b.data, *len = b.len;
  return 0;
}

/* ---- HTTP ------------------------------------------------------------------------------- */

static void respond_json(struct fx_http_request *req, int status, json_t *doc) {
  char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(doc);
  if (!text) {
    fx_http_respond(req, 500, NULL, NULL, 0, NULL);
    return;
  }
  fx_http_respond(req, status, "application/json", text, strlen(text), NULL);
  free(text);
}

/* "/{from}/{to}" (each YYYY-MM-DD) and whether ".csv" follows. */
static int settlement_range(const char *p, int32_t *from, int32_t *to, bool *csv) {
  struct fx_date a, b;
  size_t n = strlen(p);
  *csv = n == 26 && !strcmp(p + 22, ".csv");
  if ((n != 22 && !*csv) || p[0] != '/' || p[11] != '/' || fx_date_parse(p + 1, 10, &a, NULL) != 0 ||
      fx_date_parse(p + 12, 10, &b, NULL) != 0)
    return -1;
  *from = fx_date_to_days(&a), *to = fx_date_to_days(&b);
  return 0;
}

static void route_settlements(struct fx_query *q, struct fx_http_request *req, const char *path) {
  int32_t from, to;
  bool csv;
  if (settlement_range(path, &from, &to, &csv) != 0) {
    fx_http_respond(req, 404, NULL, NULL, 0, NULL);
    return;
  }
  char *text = NULL;
  size_t len = 0;
  json_t *doc = NULL;
  int rc = csv ? fx_query_settlements_csv(q, from, to, &text, &len) : fx_query_settlements(q, from, to, &doc);
  if (rc != 0)
    fx_http_respond(req, rc == FX_STORE_ENOTFOUND ? 404 : 500, NULL, NULL, 0, NULL);
  else if (csv)
    fx_http_respond(req, 200, "text/csv; charset=utf-8", text, len, NULL);
  else
    respond_json(req, 200, doc);
  free(text);
}

static int route(struct fx_query *q, const char *path, json_t **out) {
  static const char prefix[] = "/api/markets";
  if (strncmp(path, prefix, sizeof prefix - 1))
    return FX_STORE_ENOTFOUND;
  path += sizeof prefix - 1;
  if (!*path || !strcmp(path, "/"))
    return fx_query_markets(q, out);
  const char *slash = strrchr(path, '/');
  struct fx_date d;
  if (path[0] != '/' || slash == path || (size_t)(slash - path - 1) >= 256 ||
      fx_date_parse(slash + 1, strlen(slash + 1), &d, NULL) != 0)
    return FX_STORE_ENOTFOUND;
  char cp[256];
  memcpy(cp, path + 1, (size_t)(slash - path - 1));
  cp[slash - path - 1] = 0;
  return fx_query_market(q, cp, fx_date_to_days(&d), out);
}

void fx_query_http(struct fx_http_request *req, void *ud) {
  struct fx_query *q = ud;
  if (strcmp(fx_http_request_method(req), "GET")) {
    fx_http_respond(req, 405, NULL, NULL, 0, "Allow: GET\r\n");
    return;
  }
  static const char settlements[] = "/api/settlements";
  const char *path = fx_http_request_path(req);
  if (!strncmp(path, settlements, sizeof settlements - 1)) {
    route_settlements(q, req, path + sizeof settlements - 1);
    return;
  }
  json_t *doc = NULL;
  int rc = route(q, path, &doc);
  if (rc == 0)
    respond_json(req, 200, doc);
  else
    fx_http_respond(req, rc == FX_STORE_ENOTFOUND ? 404 : 500, NULL, NULL, 0, NULL);
}
