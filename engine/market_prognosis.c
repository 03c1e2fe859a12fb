/* market_prognosis.c — the FlexOrderStatus list of a D-PrognosisResponse.
 *
 * The catalog (d-prognosis-response.md): where FlexOrders have been sent for
 * the Period the prognosis applies to, the response lists each of them with
 * IsValidated, "whether the Prognosis that was just received reflects this
 * previously submitted FlexOrder". The platform sent them as the DSO's market,
 * so the list is every FlexOrder it placed with the sender in that market
 * (CP, Period), in the order they were placed.
 *
 * What "reflects" means here is settlement's rule (engine/settle.h): an order
 * is validated when the new prognosis, taken as the actual power, would settle
 * the order as fully delivered. At every ISP of the order that the prognosis
 * gives, its deviation from the order's baseline is on the ordered side and
 * at least the ordered power. Over-delivery does not count against it. The
 * baseline is the D-Prognosis the order names, or else the AGR's latest other
 * prognosis for the market. It is false for an order the AGR rejected, for one
 * without a baseline the platform holds, and for one none of whose ISPs the
 * new prognosis gives (ISPs already past may be left out of a prognosis). */
#include <stdlib.h>
#include <string.h>

#include "engine/market_int.h"

/* The stored baseline profile of prognosis `prog`, or NULL. */
static const uint8_t *baseline_profile(struct fx_seq_ctx *ctx, const struct mk_market *m, const struct fx_uuid *prog) {
  struct fx_store_obj_key k = {.cp = m->cp, .period = m->period, .kind = FX_OBJ_PROGNOSIS};
  struct fx_store_obj_view v;
  struct fx_uuid id;
  size_t len;
  int n;
  const uint8_t *vals;
  fx_uuid_derive(&id, "flexd.baseline", prog, NULL);
  memcpy(k.id, id.b, 16);
  if (fx_store_obj_get(fx_seq_read(ctx), &k, &v) != 0)
    return NULL;
  const uint8_t *b = fx_store_obj_body(&v, &len);
  return mk_profile_view(b, len, 'W', &n, &vals) == 0 && n == m->n_isps ? vals : NULL;
}

/* The order's baseline prognosis: the one its offer named, else the AGR's
 * latest one other than the prognosis being answered. */
static const struct fx_uuid *order_baseline(const struct mk_market *m, const struct fx_flex_offer *fo,
                                            const char *agr, const struct fx_uuid *answering) {
  if (fo->has_d_prognosis_message_id)
    return &fo->d_prognosis_message_id;
  const struct mk_prognosis *best = NULL;
  for (const struct mk_prognosis *p = m->progs; p; p = p->next)
    if (!strcmp(p->agr, agr) && !fx_uuid_equal(&p->id, answering) && (!best || p->revision > best->revision))
      best = p;
  return best ? &best->id : NULL;
}

/* Is the ordered deviation `ordered` delivered by `dev` (settlement's rule)? */
static bool delivers(int64_t dev, int64_t ordered) {
  if (ordered == 0)
    return true; /* nothing ordered here: nothing to fall short of */
  return ordered < 0 ? dev <= ordered : dev >= ordered;
}

static bool order_validated(struct fx_seq_ctx *ctx, const struct mk_market *m, const struct mk_order *o,
                            const int64_t *now, const struct fx_uuid *answering) {
  if (!mk_order_state_live(o->state)) /* rejected or expired unanswered: void */
    return false;
  const struct fx_flex_offer *fo = &m->offers[o->offer]->msg->u.flex_offer;
  const struct fx_offer_option *oo = &fo->offer_options[o->option];
  const struct fx_uuid *prog = order_baseline(m, fo, o->agr, answering);
  const uint8_t *base = prog ? baseline_profile(ctx, m, prog) : NULL;
  if (!base)
    return false;
  int judged = 0;
  for (size_t j = 0; j < oo->n_isps; j++)
    for (int64_t k = oo->isps[j].start; k < oo->isps[j].start + oo->isps[j].duration; k++) {
      if (k < 1 || k > m->n_isps || now[k - 1] == MK_NO_VALUE)
        continue;
      int64_t b = mk_profile_at(base, (int)k - 1);
      if (b == MK_NO_VALUE || !delivers(now[k - 1] - b, fx_clear_order_power(oo->isps[j].power, o->factor)))
        return false;
      judged++;
    }
  return judged > 0;
}

/* The prognosis power by ISP index (MK_NO_VALUE where it gives none), malloc'd. */
static int64_t *prognosis_powers(const struct fx_d_prognosis *dp, int n) {
  int64_t *p = malloc((size_t)n * sizeof *p);
  if (!p)
    return NULL;
  for (int i = 0; i < n; i++)
    p[i] = MK_NO_VALUE;
  for (size_t j = 0; j < dp->n_isps; j++)
    for (int64_t k = dp->isps[j].start; k < dp->isps[j].start + dp->isps[j].duration; k++)
      if (k >= 1 && k <= n)
        p[k - 1] = dp->isps[j].power;
  return p;
}

void mk_prognosis_order_status(struct fx_market *mk, struct fx_seq_ctx *ctx, const struct fx_msg *msg,
                               struct fx_msg *resp) {
  const struct fx_d_prognosis *dp = &msg->u.d_prognosis;
  const char *agr = msg->hdr.sender_domain;
  const struct mk_market *m = mk_market_get(mk, dp->flex.congestion_point, fx_date_to_days(&dp->flex.period), false);
  size_t n = 0;
  for (size_t i = 0; m && i < m->n_orders; i++)
    n += !strcmp(m->orders[i].agr, agr);
  if (!n || m->n_isps <= 0)
    return;
  struct fx_flex_order_status *st = fx_seq_alloc(ctx, n * sizeof *st);
  int64_t *now = prognosis_powers(dp, m->n_isps);
  if (st && now) {
    size_t k = 0;
    for (size_t i = 0; i < m->n_orders; i++)
      if (!strcmp(m->orders[i].agr, agr))
        st[k++] = (struct fx_flex_order_status){
            m->orders[i].id, order_validated(ctx, m, &m->orders[i], now, &msg->hdr.message_id)};
    resp->u.d_prognosis_response.flex_order_statuses = st;
    resp->u.d_prognosis_response.n_flex_order_statuses = n;
  }
  free(now);
}
