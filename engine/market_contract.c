/* market_contract.c — bilateral contracts (FlexOptions) and their
 * reservations: FlexReservationUpdate sent by the platform on the DSO's behalf,
 * the AGR's FlexReservationUpdateResponse, and the contract check of offers.
 *
 * Contracts are configured ([contract ID] in the configuration, config.h): an
 * AGR, a congestion point, a range of Periods and the reserved power per ISP.
 * The current reservation of a (contract, Period) starts as the contract's and
 * only ever shrinks: an update is refused when, at any ISP, it is larger than
 * the current reservation or on the other side of zero, or when it reserves
 * power at an ISP outside the contract (appendix "Flex reservation mechanism":
 * "always equal to, or lower than, the (absolute) values"). An AGR's rejection
 * of an update is recorded and logged; the release stands, since releasing
 * reserved power is the DSO's right under the contract.
 *
 * Offers that name a configured contract must be from its AGR, at its
 * congestion point, in its Periods ("Unknown ContractID"); ContractIDs the
 * platform does not manage are passed on untouched. When a
 * FlexRequest is open there, at least one OfferOption must meet the contract
 * at every contract ISP the request lists (fx_settle_contract_complies:
 * requested power within the reservation, inside the request's bounds), else
 * "Contract not met". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"
#include "engine/log.h"

/* ---- reservations in memory ------------------------------------------------------ */

struct mk_resv *mk_resv_get(struct fx_market *mk, const struct fx_contract_cfg *c, int32_t period, bool create) {
  char key[160];
  struct mk_resv *r;
  snprintf(key, sizeof key, "%s|%d", c->id, (int)period);
  HASH_FIND_STR(mk->resvs, key, r);
  if (r || !create)
    return r;
  int n = fx_calendar_isp_count(mk->cal, period, mk->isp_us);
  if (n <= 0 || !(r = calloc(1, sizeof *r)) || !(r->power = calloc((size_t)n, sizeof *r->power))) {
    free(r);
    return NULL;
  }
  snprintf(r->key, sizeof r->key, "%s", key);
  r->contract = c, r->period = period, r->n_isps = n;
  for (int i = 0; i < n; i++) {
    int in;
    int64_t p = fx_contract_reserved(c, (uint32_t)i + 1, &in);
    r->power[i] = in ? p : MK_NO_VALUE;
  }
  HASH_ADD_STR(mk->resvs, key, r);
  return r;
}

void mk_contract_unload(struct fx_market *mk) {
  struct mk_resv *r, *t;
  HASH_ITER(hh, mk->resvs, r, t) {
    HASH_DEL(mk->resvs, r);
    free(r->power);
    free(r);
  }
}

static struct mk_resv *resv_by_update(struct fx_market *mk, const struct fx_uuid *id) {
  for (struct mk_resv *r = mk->resvs; r; r = r->hh.next)
    if (fx_uuid_equal(&r->update, id))
      return r;
  return NULL;
}

int mk_contract_load(struct fx_market *mk, const struct fx_store_obj_view *v) {
  size_t len;
  const uint8_t *b = fx_store_obj_body(v, &len);
  if (len >= 2 && b[0] == 'V') {
    struct fx_uuid ref;
    memcpy(ref.b, fx_store_obj_ref(v), 16);
    struct mk_resv *r = resv_by_update(mk, &ref);
    if (r)
      r->response = b[1] == '1' ? 1 : 2;
    return 0;
  }
  int n;
  const uint8_t *vals;
  if (mk_profile_view(b, len, 'U', &n, &vals) != 0 || len < MK_PROFILE_HDR + 8 * (size_t)n + 1)
    return 0;
  const struct fx_contract_cfg *c = fx_config_contract(mk->cfg, (const char *)vals + 8 * (size_t)n);
  struct mk_resv *r = c ? mk_resv_get(mk, c, fx_store_obj_period(v), true) : NULL;
  if (!r || r->n_isps != n || fx_store_obj_created_us(v) < r->t_us)
    return 0; /* the contract left the configuration, or an older update */
  for (int i = 0; i < n; i++)
    r->power[i] = mk_profile_at(vals, i);
  memcpy(r->update.b, fx_store_obj_id(v), 16);
  r->t_us = fx_store_obj_created_us(v), r->response = 0;
  return 0;
}

/* ---- FlexReservationUpdate (platform → AGR) ---------------------------------------- */

static int64_t mag(int64_t x) { return x < 0 ? -x : x; }

/* May `cur` become `p`? Only towards zero, never across it. */
static bool shrinks(int64_t cur, int64_t p) {
  return p == 0 || ((p < 0) == (cur < 0) && mag(p) <= mag(cur));
}

static int check_update(const struct mk_resv *r, const struct fx_market_reservation *u, char *why, size_t cap) {
  if (u->n_isps != r->n_isps) {
    snprintf(why, cap, "%d ISPs given, the Period has %d", u->n_isps, r->n_isps);
    return -1;
  }
  for (int i = 0; i < r->n_isps; i++) {
    if (r->power[i] == MK_NO_VALUE && u->power[i] != 0) {
      snprintf(why, cap, "ISP %d is outside the contract", i + 1);
      return -1;
    }
    if (r->power[i] != MK_NO_VALUE && !shrinks(r->power[i], u->power[i])) {
      snprintf(why, cap, "ISP %d: %lld W would grow the reservation of %lld W", i + 1, (long long)u->power[i],
               (long long)r->power[i]);
      return -1;
    }
  }
  return 0;
}

static int build_update(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct mk_resv *r,
                        const struct fx_market_reservation *u, struct fx_msg *m) {
  const struct fx_contract_cfg *c = r->contract;
  char salt[200];
  struct fx_uuid zero = {{0}};
  snprintf(salt, sizeof salt, "%s|%d|%lld", c->id, (int)r->period, (long long)fx_seq_now(ctx));
  memset(m, 0, sizeof *m);
  m->type = FX_MSG_FLEX_RESERVATION_UPDATE;
  m->hdr = (struct fx_msg_header){.version = "3.1.0", .sender_domain = mk->cfg->domain,
                                  .recipient_domain = c->agr, .timestamp = {fx_seq_now(ctx), 0}};
  fx_uuid_derive(&m->hdr.message_id, "flexd.reservation", &zero, salt);
  fx_uuid_derive(&m->hdr.conversation_id, "flexd.reservation-conversation", &zero, salt);
  struct fx_flex_reservation_update *f = &m->u.flex_reservation_update;
  if (fx_duration_parse(mk->cfg->isp_duration, strlen(mk->cfg->isp_duration), &f->flex.isp_duration, NULL) != 0)
    return -1;
  f->flex.time_zone = mk->cfg->time_zone;
  fx_date_from_days(r->period, &f->flex.period);
  f->flex.congestion_point = c->cp;
  f->contract_id = c->id;
  char *ref = fx_seq_alloc(ctx, FX_UUID_STRLEN);
  f->isps = fx_seq_alloc(ctx, (size_t)r->n_isps * sizeof *f->isps);
  if (!ref || !f->isps)
    return -1;
  fx_uuid_format(&m->hdr.message_id, ref);
  f->reference = ref;
  for (int i = 0; i < r->n_isps; i++)
    if (r->power[i] != MK_NO_VALUE)
      f->isps[f->n_isps++] = (struct fx_isp){u->power[i], i + 1, 1};
  return f->n_isps ? 0 : -1;
}

static void store_update(struct fx_seq_ctx *ctx, const struct mk_resv *r, const struct fx_msg *m) {
  const struct fx_contract_cfg *c = r->contract;
  size_t len, idlen = strlen(c->id);
  uint8_t *body = mk_profile_new(ctx, 'U', r->n_isps, idlen + 1, &len);
  if (!body)
    return;
  for (int i = 0; i < r->n_isps; i++)
    mk_st64(body + MK_PROFILE_HDR + 8 * (size_t)i, (uint64_t)r->power[i]);
  memcpy(body + MK_PROFILE_HDR + 8 * (size_t)r->n_isps, c->id, idlen + 1);
  struct fx_store_obj o = {.key = {.cp = c->cp, .period = r->period, .kind = FX_OBJ_REQUEST},
                           .state = FX_REQ_OPEN, .t_us = fx_seq_now(ctx), .owner = c->agr,
                           .body = body, .body_len = len};
  memcpy(o.key.id, m->hdr.message_id.b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &o);
}

static void reservation_update(struct fx_market *mk, struct fx_seq_ctx *ctx, struct fx_market_reservation *u) {
  const struct fx_contract_cfg *c = fx_config_contract(mk->cfg, u->contract);
  u->status = -1;
  if (!c || u->period < c->from || u->period > c->to) {
    snprintf(u->why, sizeof u->why, c ? "Period outside the contract" : "unknown contract");
    return;
  }
  struct mk_resv *r = mk_resv_get(mk, c, u->period, true);
  struct fx_msg m;
  if (!r || check_update(r, u, u->why, sizeof u->why) != 0)
    return;
  if (build_update(mk, ctx, r, u, &m) != 0 || fx_seq_send(ctx, &m, FX_ROLE_AGR, FX_ROLE_DSO) != 0) {
    snprintf(u->why, sizeof u->why, "FlexReservationUpdate not written");
    return;
  }
  for (int i = 0; i < r->n_isps; i++)
    if (r->power[i] != MK_NO_VALUE)
      r->power[i] = u->power[i];
  r->update = m.hdr.message_id, r->t_us = fx_seq_now(ctx), r->response = 0;
  store_update(ctx, r, &m);
  mk_note_market(mk, c->cp, u->period); /* a restart reads the reservation back from there */
  u->status = 0, u->why[0] = 0;
}

void fx_market_run_reservation_update(void *market, struct fx_seq_ctx *ctx, struct fx_seq_command *cmd) {
  struct fx_market *mk = market;
  mk_group_begin(mk, ctx);
  reservation_update(mk, ctx, cmd->arg);
  mk_group_end(mk);
}

/* ---- FlexReservationUpdateResponse (AGR → platform) ----------------------------------- */

void mk_reservation_response(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                             struct fx_verdict *v) {
  const struct fx_uuid *ref = &msg->u.flex_reservation_update_response.flex_reservation_update_message_id;
  struct mk_resv *r = resv_by_update(mk, ref);
  if (!r || strcmp(r->contract->agr, msg->hdr.sender_domain)) {
    fx_verdict_add(v, MK_R_UNKNOWN_FRU);
    return;
  }
  bool ok = msg->result == FX_RESULT_ACCEPTED;
  const char *why = !ok && msg->rejection_reason ? msg->rejection_reason : "";
  if (!ok)
    fx_log_emit(&(struct fx_log){.format = mk->cfg->log_format, .fd = 2}, FX_LOG_WARN, "reservation_rejected",
                FX_LOG_KV(FX_LS("sender", r->contract->agr), FX_LS("contract", r->contract->id),
                          FX_LN("period", r->period), FX_LS("reasons", why)),
                "market: %s rejected the FlexReservationUpdate of contract %s for day %d: %s", r->contract->agr,
                r->contract->id, (int)r->period, why);
  size_t len = 2 + strlen(why) + 1;
  char *body = fx_seq_alloc(ctx, len);
  if (!body)
    return;
  snprintf(body, len, "V%c%s", ok ? '1' : '2', why);
  r->response = ok ? 1 : 2;
  struct fx_store_obj o = {.key = {.cp = r->contract->cp, .period = r->period, .kind = FX_OBJ_REQUEST},
                           .state = FX_REQ_OPEN, .t_us = fx_seq_now(ctx), .ref = r->update.b,
                           .owner = r->contract->agr, .body = body, .body_len = len - 1};
  memcpy(o.key.id, msg->hdr.message_id.b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &o);
}

/* ---- contract ISPs -------------------------------------------------------------------- */

int mk_contract_isp_in(struct fx_market *mk, const struct fx_contract_cfg *c, int32_t period, int i,
                       struct fx_settle_contract_isp_in *in) {
  int inside;
  memset(in, 0, sizeof *in);
  in->start = (uint32_t)i + 1;
  in->contracted_w = fx_contract_reserved(c, (uint32_t)i + 1, &inside);
  if (!inside)
    return -1;
  struct mk_resv *r = mk_resv_get(mk, c, period, false);
  if (r && i < r->n_isps && r->t_us) {
    in->have |= FX_SETTLE_HAVE_UPDATE;
    in->update_w = r->power[i];
  }
  struct mk_market *m = mk_market_get(mk, c->cp, period, false);
  if (m && m->req && i < m->n_isps) {
    const struct fx_clear_isp *q = &m->req->isps[i];
    in->have |= FX_SETTLE_HAVE_REQUEST;
    in->request = q->disposition == FX_CLEAR_REQUESTED   ? FX_SETTLE_REQ_REQUESTED
                  : q->disposition == FX_CLEAR_AVAILABLE ? FX_SETTLE_REQ_AVAILABLE
                                                         : FX_SETTLE_REQ_ABSENT;
    in->request_min_w = q->min_power, in->request_max_w = q->max_power;
  }
  return 0;
}

/* ---- offers that reference a contract ------------------------------------------------- */

int64_t mk_option_power(const struct fx_offer_option *o, int64_t isp) {
  for (size_t j = 0; j < o->n_isps; j++)
    if (isp >= o->isps[j].start && isp < o->isps[j].start + o->isps[j].duration)
      return o->isps[j].power;
  return 0;
}

static bool option_meets(struct fx_market *mk, const struct fx_contract_cfg *c, int32_t period, int n,
                         const struct fx_offer_option *o) {
  for (int i = 0; i < n; i++) {
    struct fx_settle_contract_isp_in in;
    struct fx_settle_contract_isp_out out;
    if (mk_contract_isp_in(mk, c, period, i, &in) != 0 || !(in.have & FX_SETTLE_HAVE_REQUEST) ||
        in.request == FX_SETTLE_REQ_ABSENT)
      continue;
    if (fx_settle_contract_isp(&in, &out) != FX_SETTLE_OK || !fx_settle_contract_complies(&out, mk_option_power(o, i + 1)))
      return false;
  }
  return true;
}

void mk_contract_check_offer(struct fx_market *mk, const struct fx_msg *msg, struct fx_verdict *v) {
  const struct fx_flex_offer *fo = &msg->u.flex_offer;
  if (!fo->contract_id)
    return;
  int32_t period = fx_date_to_days(&fo->flex.period);
  const struct fx_contract_cfg *c = fx_config_contract(mk->cfg, fo->contract_id);
  if (!c)
    return; /* a contract the platform does not manage: the parties' business */
  if (strcmp(c->agr, msg->hdr.sender_domain) || strcmp(c->cp, fo->flex.congestion_point) ||
      period < c->from || period > c->to) {
    fx_verdict_add(v, MK_R_UNKNOWN_CONTRACT);
    return;
  }
  struct mk_market *m = mk_market_get(mk, c->cp, period, false);
  if (!m || !m->req || m->req->state == FX_REQ_SUPERSEDED)
    return; /* no FlexRequest: the contract asks for no particular offer */
  for (size_t k = 0; k < fo->n_offer_options; k++)
    if (option_meets(mk, c, period, m->n_isps, &fo->offer_options[k]))
      return;
  fx_verdict_add(v, MK_R_CONTRACT_NOT_MET);
}
