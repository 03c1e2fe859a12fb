/* market_metering.c — the operate phase's measurements: Metering from AGRs and
 * the baselines settlement compares them with.
 *
 * Metering (AGR → platform, one message per connection and day):
 *   - the EAN names a connection: EANType is "E" + 16 digits, the common
 *     reference names connections "ean." + digits, so "E1234567890123456" is
 *     the connection "ean.1234567890123456" (the letter's case is ignored);
 *   - the connection must be in the sender's AGR portfolio for that Period
 *     ("Unknown connection" when nobody registered it, "Connection not owned by
 *     sender" when another AGR did or the registration does not cover the day);
 *   - units as the catalog states: kW for Power, kWh for the energy and meter
 *     reading profiles ("Unit rejected"); each profile at most once;
 *   - one value per ISP of the Period, every ISP present ("Lacking ISPs");
 *   - settlement needs power: the Power profile, or else ImportEnergy and
 *     ExportEnergy, from which Power = (Import − Export) × 60 / ISP minutes
 *     (the catalog's note); neither → "Lacking Power profile";
 *   - a Period whose last ISP has not ended yet is "Period out of bounds";
 *   - Revision must exceed the last accepted one for the connection and day
 *     ("Subordinate sequence number"); the newest revision replaces the
 *     earlier ones, which stay stored as history.
 * Power is kept in integer watts, rounded half away from zero.
 *
 * Baselines: an accepted D-Prognosis is also written as a profile object
 * (market_int.h), so settlement reads the prognosis power in place instead of
 * parsing the journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"

/* ---- profiles -------------------------------------------------------------------- */

uint8_t *mk_profile_new(struct fx_seq_ctx *ctx, char magic, int n, size_t tail, size_t *len) {
  *len = MK_PROFILE_HDR + 8 * (size_t)n + tail;
  uint8_t *b = fx_seq_alloc(ctx, *len);
  if (!b)
    return NULL;
  memset(b, 0, MK_PROFILE_HDR);
  b[0] = (uint8_t)magic, b[1] = 1;
  b[2] = (uint8_t)(n & 0xff), b[3] = (uint8_t)(n >> 8);
  return b;
}

int mk_profile_view(const uint8_t *b, size_t len, char magic, int *n, const uint8_t **vals) {
  if (len < MK_PROFILE_HDR || b[0] != (uint8_t)magic || b[1] != 1)
    return -1;
  *n = fx_ld16(b + 2);
  if (MK_PROFILE_HDR + 8 * (size_t)*n > len)
    return -1;
  *vals = b + MK_PROFILE_HDR;
  return 0;
}

int mk_ean_address(const char *ean, char out[MK_ADDR]) {
  if ((ean[0] != 'E' && ean[0] != 'e') || !ean[1] || strlen(ean) > 40)
    return -1;
  for (const char *p = ean + 1; *p; p++)
    if (*p < '0' || *p > '9')
      return -1;
  snprintf(out, MK_ADDR, "ean.%s", ean + 1);
  return 0;
}

/* ---- the revision index -------------------------------------------------------- */

static void meter_key(char *key, size_t cap, const char *ea, int32_t period) {
  snprintf(key, cap, "%s|%d", ea, (int)period);
}

static struct mk_meter *meter_find(struct fx_market *mk, const char *ea, int32_t period) {
  char key[MK_ADDR + 16];
  struct mk_meter *m;
  meter_key(key, sizeof key, ea, period);
  HASH_FIND_STR(mk->meters, key, m);
  return m;
}

int mk_meter_note(struct fx_market *mk, const char *ea, int32_t period, int64_t revision) {
  struct mk_meter *m = meter_find(mk, ea, period);
  if (!m) {
    if (!(m = calloc(1, sizeof *m)))
      return -1;
    meter_key(m->key, sizeof m->key, ea, period);
    m->period = period, m->revision = revision;
    HASH_ADD_STR(mk->meters, key, m);
  } else if (revision > m->revision) {
    m->revision = revision;
  }
  if (period < mk->live_from)
    mk->n_cold++; /* a cold day's entry: it goes after the commit */
  return 0;
}

/* The CP a connection's Metering of `period` is stored under ("" for none). */
static const char *metering_cp(const struct mk_conn *c, int32_t period) {
  return c->has_cp && c->cp_from <= period && period < c->cp_to ? c->cp : "";
}

int64_t mk_meter_latest(struct fx_market *mk, const struct mk_conn *c, const char *ea, int32_t period) {
  struct mk_meter *m = meter_find(mk, ea, period);
  if (m || period >= mk->live_from || !mk->ctx)
    return m ? m->revision : 0;
  /* A cold day: its revisions are in the store, beside the CP's others. */
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int64_t best = 0;
  int rc = fx_store_obj_iter(fx_seq_read(mk->ctx), metering_cp(c, period), period, FX_OBJ_METERING, &it);
  while (rc == 0 && fx_store_obj_next(&it, &v) == 1) {
    size_t len;
    int n;
    const uint8_t *vals, *b = fx_store_obj_body(&v, &len);
    if (mk_profile_view(b, len, 'W', &n, &vals) == 0 && len > MK_PROFILE_HDR + 8 * (size_t)n &&
        !strcmp((const char *)vals + 8 * (size_t)n, ea) && fx_store_obj_revision(&v) > best)
      best = fx_store_obj_revision(&v);
  }
  fx_store_iter_close(&it);
  if (best)
    mk_meter_note(mk, ea, period, best); /* until the commit: a second revision in the group sees it */
  return best;
}

void mk_meter_evict(struct fx_market *mk, int32_t before) {
  struct mk_meter *m, *mt;
  HASH_ITER(hh, mk->meters, m, mt)
    if (m->period < before) {
      HASH_DEL(mk->meters, m);
      free(m);
    }
}

/* ---- values ----------------------------------------------------------------------- */

/* value × mul / div in W, rounded half away from zero; -1 beyond the bound. */
static int to_watts(const struct fx_decimal *d, int64_t mul, int64_t div, int64_t bound, int64_t *out) {
  __int128 den = div;
  for (int i = 0; i < d->scale; i++)
    den *= 10;
  __int128 num = (__int128)d->mantissa * mul;
  __int128 q = num / den, r = num % den;
  if (2 * (r < 0 ? -r : r) >= den)
    q += num < 0 ? -1 : 1;
  if (q > bound || q < -bound)
    return -1;
  *out = (int64_t)q;
  return 0;
}

static bool unit_ok(const struct fx_metering_profile *p) {
  return p->profile_type == FX_PROFILE_POWER ? p->unit == FX_UNIT_KW : p->unit == FX_UNIT_KWH;
}

/* Values of profile p by ISP index into w (MK_NO_VALUE where absent). */
static void profile_values(const struct fx_metering_profile *p, int n, int64_t mul, int64_t div, int64_t bound,
                           int64_t *w, struct fx_verdict *v) {
  for (int i = 0; i < n; i++)
    w[i] = MK_NO_VALUE;
  for (size_t j = 0; j < p->n_isps; j++) {
    int64_t s = p->isps[j].start, x;
    if (s < 1 || s > n) {
      fx_verdict_add(v, FX_R_ISPS_OUT_OF_BOUNDS);
      continue;
    }
    if (w[s - 1] != MK_NO_VALUE)
      fx_verdict_add(v, FX_R_ISP_CONFLICT);
    if (to_watts(&p->isps[j].value, mul, div, bound, &x) != 0)
      fx_verdict_add(v, MK_R_POWER_VALUE);
    else
      w[s - 1] = x;
  }
  for (int i = 0; i < n; i++)
    if (w[i] == MK_NO_VALUE) {
      fx_verdict_add(v, MK_R_LACKING_ISPS);
      return;
    }
}

/* The power per ISP (W) of an already checked Metering, into w. */
static void metering_power(struct fx_market *mk, const struct fx_metering *me, int n, int64_t *w, int64_t *tmp,
                           struct fx_verdict *v) {
  const struct fx_metering_profile *power = NULL, *imp = NULL, *exp = NULL;
  for (size_t p = 0; p < me->n_profiles; p++) {
    const struct fx_metering_profile *pr = &me->profiles[p];
    const struct fx_metering_profile **slot = pr->profile_type == FX_PROFILE_POWER           ? &power
                                              : pr->profile_type == FX_PROFILE_IMPORT_ENERGY ? &imp
                                              : pr->profile_type == FX_PROFILE_EXPORT_ENERGY ? &exp
                                                                                              : NULL;
    if (!unit_ok(pr))
      fx_verdict_add(v, MK_R_UNIT);
    if (slot && *slot)
      fx_verdict_add(v, MK_R_DUPLICATE_PROFILE);
    else if (slot)
      *slot = pr;
  }
  int64_t bound = mk->cfg->prognosis_power_bound;
  int64_t isp_min = mk->isp_us / 60000000;
  if (power) {
    profile_values(power, n, 1000, 1, bound, w, v);
  } else if (imp && exp && isp_min > 0) {
    /* Power = (Import − Export) × 60 / ISP minutes: each term is rounded to
     * W first, so the result may be 1 W off the exact difference. */
    profile_values(imp, n, 60000, isp_min, bound, w, v);
    profile_values(exp, n, 60000, isp_min, bound, tmp, v);
    for (int i = 0; i < n && fx_verdict_ok(v); i++)
      w[i] -= tmp[i];
  } else {
    fx_verdict_add(v, MK_R_NO_POWER_PROFILE);
  }
}

/* ---- Metering --------------------------------------------------------------------- */

/* The connection, when it is the sender's on that day; else a reason. */
static const struct mk_conn *owned_connection(struct fx_market *mk, const char *ea, const char *agr, int32_t period,
                                              struct fx_verdict *v) {
  struct mk_conn *c;
  HASH_FIND(hh, mk->conns, ea, strlen(ea), c);
  if (!c || !c->has_agr) {
    fx_verdict_add(v, MK_R_UNKNOWN_CONNECTION);
    return NULL;
  }
  if (strcmp(c->agr, agr) || period < c->agr_from || period >= c->agr_to) {
    fx_verdict_add(v, MK_R_NOT_OWNED);
    return NULL;
  }
  return c;
}

static void store_metering(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                           const struct mk_conn *c, const char *ea, int32_t period, const int64_t *w, int n) {
  size_t len, ealen = strlen(ea);
  uint8_t *body = mk_profile_new(ctx, 'W', n, ealen + 1, &len);
  const char *cp = metering_cp(c, period);
  char *owner = fx_seq_alloc(ctx, strlen(msg->hdr.sender_domain) + 1);
  char *cpcopy = fx_seq_alloc(ctx, strlen(cp) + 1);
  if (!body || !owner || !cpcopy)
    return;
  for (int i = 0; i < n; i++)
    mk_st64(body + MK_PROFILE_HDR + 8 * (size_t)i, (uint64_t)w[i]);
  memcpy(body + MK_PROFILE_HDR + 8 * (size_t)n, ea, ealen + 1);
  strcpy(owner, msg->hdr.sender_domain);
  strcpy(cpcopy, cp);
  struct fx_store_obj o = {.key = {.cp = cpcopy, .period = period, .kind = FX_OBJ_METERING},
                           .state = FX_STATE_NONE,
                           .revision = (uint32_t)msg->u.metering.revision,
                           .t_us = fx_seq_now(ctx),
                           .owner = owner,
                           .body = body,
                           .body_len = len};
  memcpy(o.key.id, msg->hdr.message_id.b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &o);
}

/* The Period's last ISP must have ended: metering describes the past. */
static bool period_over(struct fx_market *mk, int32_t period, int64_t now) {
  struct fx_day d;
  return fx_calendar_day(mk->cal, period + 1, &d) == 0 && d.start_us <= now;
}

void mk_metering_apply(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg, struct fx_verdict *v) {
  const struct fx_metering *me = &msg->u.metering;
  int32_t period = fx_date_to_days(&me->period);
  char ea[MK_ADDR];
  if (mk_ean_address(me->ean, ea) != 0) {
    fx_verdict_add(v, MK_R_UNKNOWN_CONNECTION);
    return;
  }
  const struct mk_conn *c = owned_connection(mk, ea, msg->hdr.sender_domain, period, v);
  int n = fx_calendar_isp_count(mk->cal, period, mk->isp_us);
  if (!c || n <= 0)
    return;
  if (!period_over(mk, period, fx_seq_now(ctx)))
    fx_verdict_add(v, FX_R_PERIOD_OUT_OF_BOUNDS);
  int64_t seen = mk_meter_latest(mk, c, ea, period);
  if (seen && me->revision <= seen)
    fx_verdict_add(v, MK_R_SUBORDINATE);
  int64_t *w = malloc(2 * (size_t)n * sizeof *w);
  if (!w) {
    fx_verdict_add(v, FX_R_INVALID_MESSAGE);
    return;
  }
  metering_power(mk, me, n, w, w + n, v);
  if (fx_verdict_ok(v) && mk_meter_note(mk, ea, period, me->revision) == 0)
    store_metering(mk, ctx, msg, c, ea, period, w, n);
  free(w);
}

/* ---- baselines -------------------------------------------------------------------- */

void mk_baseline_store(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg) {
  const struct fx_d_prognosis *dp = &msg->u.d_prognosis;
  int32_t period = fx_date_to_days(&dp->flex.period);
  int n = fx_calendar_isp_count(mk->cal, period, mk->isp_us);
  size_t len;
  uint8_t *body = n > 0 ? mk_profile_new(ctx, 'W', n, 0, &len) : NULL;
  char *owner = fx_seq_alloc(ctx, strlen(msg->hdr.sender_domain) + 1);
  char *cp = fx_seq_alloc(ctx, strlen(dp->flex.congestion_point) + 1);
  if (!body || !owner || !cp)
    return;
  for (int i = 0; i < n; i++)
    mk_st64(body + MK_PROFILE_HDR + 8 * (size_t)i, (uint64_t)MK_NO_VALUE);
  for (size_t j = 0; j < dp->n_isps; j++)
    for (int64_t k = dp->isps[j].start; k < dp->isps[j].start + dp->isps[j].duration; k++)
      if (k >= 1 && k <= n)
        mk_st64(body + MK_PROFILE_HDR + 8 * (size_t)(k - 1), (uint64_t)dp->isps[j].power);
  strcpy(owner, msg->hdr.sender_domain);
  strcpy(cp, dp->flex.congestion_point);
  struct fx_uuid id;
  fx_uuid_derive(&id, "flexd.baseline", &msg->hdr.message_id, NULL);
  struct fx_store_obj o = {.key = {.cp = cp, .period = period, .kind = FX_OBJ_PROGNOSIS},
                           .state = FX_STATE_NONE,
                           .revision = (uint32_t)dp->revision,
                           .t_us = fx_seq_now(ctx),
                           .ref = msg->hdr.message_id.b,
                           .owner = owner,
                           .body = body,
                           .body_len = len};
  memcpy(o.key.id, id.b, 16);
  fx_store_batch_put_obj(fx_seq_batch(ctx), &o);
}
