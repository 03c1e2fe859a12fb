/* test_codec_roundtrip.c — every UFTP 3.1.0 message type, built in C in a
 * minimal and a maximal form, is written, checked against the official XSD
 * with libxml2 (the oracle), read back and compared field by field.
 *
 * "Minimal" sets only what the schema requires; "maximal" sets every
 * optional attribute, non-default values for defaulted ones, several
 * children, extreme integers and strings that need escaping. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "codec/codec.h"

/* ------------------------------------------------------------ builders */

static struct fx_uuid uuid(int n) {
  struct fx_uuid u;
  for (int i = 0; i < 16; i++)
    u.b[i] = (uint8_t)(n * 17 + i * 31);
  return u;
}

static struct fx_datetime dt(const char *s) {
  struct fx_datetime t;
  cr_assert_eq(fx_datetime_parse(s, strlen(s), &t, NULL), 0, "bad test dateTime %s", s);
  return t;
}

static struct fx_date date(int y, int m, int d) {
  return (struct fx_date){.year = (int16_t)y, .month = (uint8_t)m, .day = (uint8_t)d};
}

static struct fx_duration pt15m(void) { return (struct fx_duration){0, 15 * 60 * INT64_C(1000000)}; }

#define NEW(a, T, n) ((T *)fx_arena_alloc((a), sizeof(T) * (n)))

static const char *const tricky = "a&b <c> \"d\" 'e'\tf\ng\rh é€𝄞";

static void header(struct fx_msg *m, enum fx_msg_type t, bool max) {
  m->type = t;
  m->hdr.version = "3.1.0";
  m->hdr.sender_domain = max ? "agr-1.sub.example-x.com" : "agr.example.com";
  m->hdr.recipient_domain = "dso.example.com";
  m->hdr.timestamp = dt(max ? "2025-03-01T10:15:30.123456-05:30" : "2025-03-01T10:15:30Z");
  m->hdr.message_id = uuid(1);
  m->hdr.conversation_id = uuid(2);
  if (fx_msg_type_has_result(t)) {
    m->result = max ? FX_RESULT_REJECTED : FX_RESULT_ACCEPTED;
    m->rejection_reason = max ? "Invalid CongestionPoint; ISP conflict & more <x>" : NULL;
  }
}

static void flex(struct fx_flex_header *f, bool max) {
  f->isp_duration = pt15m();
  f->time_zone = "Europe/Amsterdam";
  f->period = date(2025, 3, 2);
  f->congestion_point = max ? "ea1.2007-11.net.example:cp-1:ä" : "ean.871685900012345678";
}

static struct fx_isp *isps(fx_arena *a, size_t n, bool positive_start) {
  struct fx_isp *v = NEW(a, struct fx_isp, n);
  for (size_t i = 0; i < n; i++)
    v[i] = (struct fx_isp){.power = (int64_t)(i * 1000) - 500, .start = (int64_t)i + 1, .duration = 1};
  if (n >= 3) {
    v[1].power = INT64_MAX;
    v[2].power = INT64_MIN;
    v[2].duration = 4;
    if (!positive_start)
      v[2].start = 0; /* D-Prognosis Start is a plain xs:integer */
  }
  return v;
}

static struct fx_portfolio_connection *connections(fx_arena *a, size_t n, bool max) {
  struct fx_portfolio_connection *c = NEW(a, struct fx_portfolio_connection, n);
  for (size_t i = 0; i < n; i++) {
    c[i].entity_address = i % 2 ? "ean.123456789012" : "ea1.2020-01.com.example:conn:1";
    c[i].start_period = date(2024, 2, 29);
    if (max) {
      c[i].has_end_period = true;
      c[i].end_period = date(2025, 12, 31);
      c[i].end_period.has_tz = i == 1;
      c[i].end_period.tz_min = 60;
    }
  }
  return c;
}

typedef void (*builder)(fx_arena *a, struct fx_msg *m, bool max);

static void b_test(fx_arena *a, struct fx_msg *m, bool max) { header(m, FX_MSG_TEST_MESSAGE, max); }
static void b_test_r(fx_arena *a, struct fx_msg *m, bool max) { header(m, FX_MSG_TEST_MESSAGE_RESPONSE, max); }

static void b_apu(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_AGR_PORTFOLIO_UPDATE, max);
  struct fx_agr_portfolio_update *p = &m->u.agr_portfolio_update;
  p->time_zone = "America/Argentina/Buenos_Aires";
  p->n_connections = max ? 3 : 1;
  p->connections = connections(a, p->n_connections, max);
}
static void b_apu_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE, max);
  m->u.agr_portfolio_update_response.agr_portfolio_update_message_id = uuid(3);
}
static void b_apq(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_AGR_PORTFOLIO_QUERY, max);
  m->u.agr_portfolio_query.time_zone = "Europe/Amsterdam";
  m->u.agr_portfolio_query.period = date(2025, 1, 31);
}

static struct fx_entity_ref *refs(fx_arena *a, size_t n) {
  struct fx_entity_ref *r = NEW(a, struct fx_entity_ref, n);
  for (size_t i = 0; i < n; i++)
    r[i].entity_address = i % 2 ? "ean.1234567890123456789012345678901234" : "ea1.2020-01.com.example:c";
  return r;
}

static void b_apq_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE, max);
  struct fx_agr_portfolio_query_response *p = &m->u.agr_portfolio_query_response;
  p->time_zone = "Europe/Amsterdam";
  p->agr_portfolio_query_message_id = uuid(4);
  p->period = date(2025, 1, 31);
  p->n_dso_views = max ? 2 : 1;
  p->dso_views = NEW(a, struct fx_dso_view, p->n_dso_views);
  for (size_t v = 0; v < p->n_dso_views; v++) {
    struct fx_dso_view *view = &p->dso_views[v];
    view->n_dso_portfolios = max ? 2 : 1;
    view->dso_portfolios = NEW(a, struct fx_dso_portfolio, view->n_dso_portfolios);
    for (size_t d = 0; d < view->n_dso_portfolios; d++) {
      struct fx_dso_portfolio *dp = &view->dso_portfolios[d];
      dp->dso_domain = "dso.example.com";
      dp->n_congestion_points = max ? 2 : 1;
      dp->congestion_points = NEW(a, struct fx_agr_congestion_point, dp->n_congestion_points);
      for (size_t c = 0; c < dp->n_congestion_points; c++) {
        struct fx_agr_congestion_point *cp = &dp->congestion_points[c];
        cp->entity_address = "ean.871685900012345678";
        cp->mutex_offers_supported = max;
        cp->day_ahead_redispatch_by = FX_REDISPATCH_DSO;
        cp->intraday_redispatch_by = max ? FX_REDISPATCH_AGR : FX_REDISPATCH_NONE;
        cp->n_connections = max ? 3 : 1;
        cp->connections = refs(a, cp->n_connections);
      }
    }
    view->n_connections = max ? 2 : 0;
    view->connections = max ? refs(a, 2) : NULL;
  }
}

static void b_dpu(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_DSO_PORTFOLIO_UPDATE, max);
  struct fx_dso_portfolio_update *p = &m->u.dso_portfolio_update;
  p->time_zone = "Europe/Amsterdam";
  p->n_congestion_points = max ? 2 : 1;
  p->congestion_points = NEW(a, struct fx_dso_congestion_point, p->n_congestion_points);
  for (size_t i = 0; i < p->n_congestion_points; i++) {
    struct fx_dso_congestion_point *cp = &p->congestion_points[i];
    cp->entity_address = "ean.871685900012345678";
    cp->start_period = date(2025, 1, 1);
    cp->has_end_period = max;
    cp->end_period = date(2025, 6, 30);
    cp->mutex_offers_supported = true;
    cp->day_ahead_redispatch_by = FX_REDISPATCH_AGR;
    cp->intraday_redispatch_by = max ? FX_REDISPATCH_DSO : FX_REDISPATCH_NONE;
    cp->n_connections = max ? 2 : 1;
    cp->connections = connections(a, cp->n_connections, max);
  }
}
static void b_dpu_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE, max);
  m->u.dso_portfolio_update_response.dso_portfolio_update_response_message_id = uuid(5);
}
static void b_dpq(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_DSO_PORTFOLIO_QUERY, max);
  m->u.dso_portfolio_query.time_zone = "Europe/Amsterdam";
  m->u.dso_portfolio_query.period = date(2028, 2, 29);
  m->u.dso_portfolio_query.entity_address = "ean.871685900012345678";
}
static void b_dpq_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE, max);
  struct fx_dso_portfolio_query_response *p = &m->u.dso_portfolio_query_response;
  p->dso_portfolio_query_message_id = uuid(6);
  p->time_zone = "Europe/Amsterdam";
  p->period = date(2025, 3, 30);
  if (max) {
    p->n_congestion_point = 1;
    p->congestion_point = NEW(a, struct fx_dso_query_congestion_point, 1);
    p->congestion_point->entity_address = "ean.871685900012345678";
    p->congestion_point->n_connections = 2;
    p->congestion_point->connections = NEW(a, struct fx_dso_query_connection, 2);
    p->congestion_point->connections[0].entity_address = "ean.871685900012345670";
    p->congestion_point->connections[1].entity_address = "ean.871685900012345671";
    p->congestion_point->connections[1].agr_domain = "agr.example.com";
  }
}

static void b_fru(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_RESERVATION_UPDATE, max);
  struct fx_flex_reservation_update *p = &m->u.flex_reservation_update;
  flex(&p->flex, max);
  p->contract_id = max ? tricky : "C-1";
  p->reference = "R-1";
  p->n_isps = max ? 96 : 1;
  p->isps = isps(a, p->n_isps, true);
}
static void b_fru_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE, max);
  m->u.flex_reservation_update_response.flex_reservation_update_message_id = uuid(7);
}
static void b_dp(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_D_PROGNOSIS, max);
  struct fx_d_prognosis *p = &m->u.d_prognosis;
  flex(&p->flex, max);
  p->revision = max ? INT64_MIN : 1;
  p->n_isps = max ? 100 : 1;
  p->isps = isps(a, p->n_isps, false);
}
static void b_dp_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_D_PROGNOSIS_RESPONSE, max);
  struct fx_d_prognosis_response *p = &m->u.d_prognosis_response;
  p->d_prognosis_message_id = uuid(8);
  if (max) {
    p->n_flex_order_statuses = 2;
    p->flex_order_statuses = NEW(a, struct fx_flex_order_status, 2);
    p->flex_order_statuses[0] = (struct fx_flex_order_status){uuid(9), true};
    p->flex_order_statuses[1] = (struct fx_flex_order_status){uuid(10), false};
  }
}
static void b_fr(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_REQUEST, max);
  struct fx_flex_request *p = &m->u.flex_request;
  flex(&p->flex, max);
  p->revision = max ? INT64_MAX : 0;
  p->expiration_date_time = dt(max ? "2025-03-01T23:59:59.9+14:00" : "2025-03-01T18:00:00Z");
  p->contract_id = max ? "contract" : NULL;
  p->service_type = max ? "DayAhead" : NULL;
  p->n_isps = max ? 3 : 1;
  p->isps = NEW(a, struct fx_flex_request_isp, p->n_isps);
  for (size_t i = 0; i < p->n_isps; i++)
    p->isps[i] = (struct fx_flex_request_isp){
        .disposition = max ? (i % 2 ? FX_DISPOSITION_AVAILABLE : FX_DISPOSITION_REQUESTED) : FX_DISPOSITION_NONE,
        .min_power = -5000, .max_power = max ? 0 : -1000, .start = (int64_t)(i * 4 + 1), .duration = max ? 4 : 1};
}
static void b_fr_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_REQUEST_RESPONSE, max);
  m->u.flex_request_response.flex_request_message_id = uuid(11);
}
static void b_fo(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_OFFER, max);
  struct fx_flex_offer *p = &m->u.flex_offer;
  flex(&p->flex, max);
  p->expiration_date_time = dt("2025-03-01T18:00:00+01:00");
  p->currency = "EUR";
  if (max) {
    p->has_unsolicited = true;
    p->unsolicited = false;
    p->has_flex_request_message_id = true;
    p->flex_request_message_id = uuid(12);
    p->contract_id = "C";
    p->has_d_prognosis_message_id = true;
    p->d_prognosis_message_id = uuid(13);
    p->baseline_reference = tricky;
  }
  p->n_offer_options = max ? 3 : 1;
  p->offer_options = NEW(a, struct fx_offer_option, p->n_offer_options);
  for (size_t i = 0; i < p->n_offer_options; i++) {
    struct fx_offer_option *o = &p->offer_options[i];
    o->option_reference = i ? "B" : "A";
    o->price = max ? -123456789 - (fx_money)i : 1000000;
    o->min_activation_factor = max ? (fx_factor)(1 + i * 49) : FX_FACTOR_ONE;
    o->n_isps = max ? 96 : 1;
    o->isps = isps(a, o->n_isps, true);
  }
}
static void b_fo_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_OFFER_RESPONSE, max);
  m->u.flex_offer_response.flex_offer_message_id = uuid(14);
}
static void b_fofr(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_OFFER_REVOCATION, max);
  m->u.flex_offer_revocation.flex_offer_message_id = uuid(15);
}
static void b_fofr_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE, max);
  m->u.flex_offer_revocation_response.flex_offer_revocation_message_id = uuid(16);
}
static void b_for(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_ORDER, max);
  struct fx_flex_order *p = &m->u.flex_order;
  flex(&p->flex, max);
  p->price = max ? INT64_MAX : 0;
  p->currency = "EUR";
  p->order_reference = "ORD-1";
  p->activation_factor = max ? 37 : FX_FACTOR_ONE;
  if (max) {
    p->has_unsolicited = true;
    p->unsolicited = true;
    p->has_flex_offer_message_id = true;
    p->flex_offer_message_id = uuid(17);
    p->service_type = "S";
    p->contract_id = "C";
    p->has_d_prognosis_message_id = true;
    p->d_prognosis_message_id = uuid(18);
    p->baseline_reference = "BL";
    p->option_reference = "A";
  }
  p->n_isps = max ? 96 : 1;
  p->isps = isps(a, p->n_isps, true);
}
static void b_for_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_ORDER_RESPONSE, max);
  m->u.flex_order_response.flex_order_message_id = uuid(19);
}

static void b_fs(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_SETTLEMENT, max);
  struct fx_flex_settlement *p = &m->u.flex_settlement;
  p->period_start = date(2025, 2, 1);
  p->period_end = date(2025, 2, 28);
  p->currency = "EUR";
  p->n_flex_order_settlements = max ? 2 : 1;
  p->flex_order_settlements = NEW(a, struct fx_flex_order_settlement, p->n_flex_order_settlements);
  for (size_t i = 0; i < p->n_flex_order_settlements; i++) {
    struct fx_flex_order_settlement *s = &p->flex_order_settlements[i];
    s->order_reference = max ? "ORD" : NULL;
    s->period = date(2025, 2, (int)i + 1);
    s->contract_id = max ? "C" : NULL;
    s->has_d_prognosis_message_id = max;
    s->d_prognosis_message_id = uuid(20);
    s->baseline_reference = max ? "BL" : NULL;
    s->congestion_point = "ean.871685900012345678";
    s->price = 15000;
    s->penalty = max ? 2500 : 0;
    s->net_settlement = max ? 12500 : 15000;
    s->n_isps = max ? 3 : 1;
    s->isps = NEW(a, struct fx_settlement_isp, s->n_isps);
    for (size_t k = 0; k < s->n_isps; k++)
      s->isps[k] = (struct fx_settlement_isp){.start = (int64_t)k + 1, .duration = max ? 2 : 1,
                                              .baseline_power = 100, .ordered_flex_power = -50,
                                              .actual_power = 60, .delivered_flex_power = -40,
                                              .power_deficiency = max ? 10 : 0};
  }
  p->n_contract_settlements = max ? 2 : 1;
  p->contract_settlements = NEW(a, struct fx_contract_settlement, p->n_contract_settlements);
  for (size_t i = 0; i < p->n_contract_settlements; i++) {
    struct fx_contract_settlement *c = &p->contract_settlements[i];
    c->contract_id = max ? "CONTRACT" : NULL;
    c->n_periods = max ? 2 : 1;
    c->periods = NEW(a, struct fx_contract_settlement_period, c->n_periods);
    for (size_t k = 0; k < c->n_periods; k++) {
      struct fx_contract_settlement_period *per = &c->periods[k];
      per->period = date(2025, 2, (int)k + 10);
      per->n_isps = 1;
      per->isps = NEW(a, struct fx_contract_settlement_isp, 1);
      per->isps[0] = (struct fx_contract_settlement_isp){
          .start = 5, .duration = max ? 3 : 1, .reserved_power = 1000, .has_requested_power = max,
          .requested_power = 900, .has_available_power = max, .available_power = 1100,
          .has_offered_power = max, .offered_power = 950, .has_ordered_power = max, .ordered_power = 0};
    }
  }
}
static void b_fs_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_FLEX_SETTLEMENT_RESPONSE, max);
  struct fx_flex_settlement_response *p = &m->u.flex_settlement_response;
  p->flex_settlement_message_id = uuid(21);
  p->n_flex_order_settlement_statuses = max ? 2 : 1;
  p->flex_order_settlement_statuses = NEW(a, struct fx_flex_order_settlement_status, 2);
  p->flex_order_settlement_statuses[0] = (struct fx_flex_order_settlement_status){
      .order_reference = max ? "ORD" : NULL, .disposition = FX_SETTLEMENT_ACCEPTED};
  p->flex_order_settlement_statuses[1] = (struct fx_flex_order_settlement_status){
      .order_reference = "ORD2", .disposition = FX_SETTLEMENT_DISPUTED, .dispute_reason = tricky};
}
static void b_m(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_METERING, max);
  struct fx_metering *p = &m->u.metering;
  p->revision = 7;
  p->isp_duration = max ? (struct fx_duration){14, 90061 * INT64_C(1000000) + 500000} : pt15m();
  p->time_zone = "Pacific/Auckland";
  p->currency = max ? "NZD" : NULL;
  p->period = date(2025, 4, 6);
  p->ean = max ? "e1234567890123456" : "E1234567890123456";
  p->n_profiles = max ? 5 : 1;
  p->profiles = NEW(a, struct fx_metering_profile, p->n_profiles);
  for (size_t i = 0; i < p->n_profiles; i++) {
    struct fx_metering_profile *pr = &p->profiles[i];
    pr->profile_type = (enum fx_profile_type)(i + 1);
    pr->unit = i == 0 ? FX_UNIT_KW : FX_UNIT_KWH;
    pr->n_isps = max ? 4 : 1;
    pr->isps = NEW(a, struct fx_metering_isp, pr->n_isps);
    for (size_t k = 0; k < pr->n_isps; k++)
      pr->isps[k] = (struct fx_metering_isp){(int64_t)k + 1, {max ? -123456789012345678 : 15, (uint8_t)(max ? 18 - k : 1)}};
  }
}
static void b_m_r(fx_arena *a, struct fx_msg *m, bool max) {
  header(m, FX_MSG_METERING_RESPONSE, max);
  m->u.metering_response.metering_message_id = uuid(22);
}

/* --------------------------------------------------------- XSD oracle */

static char *xsd_path(enum fx_msg_type t) {
  const char *role = t >= FX_MSG_DSO_PORTFOLIO_UPDATE && t <= FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE ? "dso" : "agr";
  char *p = malloc(1024);
  cr_assert_not_null(p);
  snprintf(p, 1024, "%s/uftp-spec/xsd-3.1.0/UFTP-%s.xsd", FLEXD_SHARED_DIR, role);
  if (access(p, R_OK) != 0) {
    bool ci = getenv("CI") && !strcmp(getenv("CI"), "true");
    if (ci)
      cr_assert_fail("official XSD missing: %s (required when CI=true)", p);
    free(p);
    return NULL;
  }
  return p;
}

static void collect(void *ctx, xmlErrorPtr e) {
  char *buf = ctx;
  size_t k = strlen(buf);
  if (e && e->message && k < 900)
    snprintf(buf + k, 1024 - k, "%s", e->message);
}

/* 0 valid, 1 invalid (message in why), -1 schemas unavailable. */
static int xsd_validate(enum fx_msg_type t, const char *xml, size_t len, char why[1024]) {
  why[0] = 0;
  char *path = xsd_path(t);
  if (!path)
    return -1;
  xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
  xmlSchemaPtr schema = xmlSchemaParse(pc);
  cr_assert_not_null(schema, "cannot parse %s", path);
  xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
  xmlSchemaSetValidStructuredErrors(vc, collect, why);
  xmlDocPtr doc = xmlReadMemory(xml, (int)len, "msg.xml", NULL, XML_PARSE_NONET);
  int rc = doc && xmlSchemaValidateDoc(vc, doc) == 0 ? 0 : 1;
  xmlFreeDoc(doc);
  xmlSchemaFreeValidCtxt(vc);
  xmlSchemaFree(schema);
  xmlSchemaFreeParserCtxt(pc);
  free(path);
  return rc;
}

/* ----------------------------------------------------------- the check */

static void roundtrip(builder build, bool max) {
  fx_arena *a = fx_arena_new(0);
  struct fx_msg m;
  memset(&m, 0, sizeof m);
  build(a, &m, max);
  struct fx_buf buf;
  fx_buf_init(&buf);
  struct fx_error err;
  cr_assert_eq(fx_write_msg(&m, &buf, &err), 0, "write failed: %s: %s", err.where, err.why);
  cr_assert(!strncmp(buf.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38));

  char why[1024];
  int v = xsd_validate(m.type, buf.data, buf.len, why);
  if (v < 0)
    cr_log_warn("official XSD not found under %s: schema check skipped", FLEXD_SHARED_DIR);
  else
    cr_assert_eq(v, 0, "writer output rejected by the XSD: %s\n%s", why, buf.data);

  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *back;
  cr_assert_eq(fx_read_msg(r, buf.data, buf.len, &back, &err), 0, "read back failed: %s: %s\n%s", err.where,
               err.why, buf.data);
  char diff[256];
  cr_assert(fx_msg_equal(&m, back, diff, sizeof diff), "round trip differs: %s", diff);

  /* Writing what was read gives the same bytes: the writer is canonical. */
  struct fx_buf again;
  fx_buf_init(&again);
  cr_assert_eq(fx_write_msg(back, &again, &err), 0);
  cr_assert_eq(again.len, buf.len);
  cr_assert(!memcmp(again.data, buf.data, buf.len));

  /* A deep copy outlives what it was copied from (the reader's arena is
   * gone before the copy is compared and written: under ASan a pointer left
   * into it is a use after free). */
  fx_arena *c = fx_arena_new(0);
  const struct fx_msg *copy;
  cr_assert_eq(fx_msg_copy(c, back, &copy), 0);
  fx_reader_free(r);
  cr_assert(fx_msg_equal(&m, copy, diff, sizeof diff), "copy differs: %s", diff);
  struct fx_buf third;
  fx_buf_init(&third);
  cr_assert_eq(fx_write_msg(copy, &third, &err), 0);
  cr_assert_eq(third.len, buf.len);
  cr_assert(!memcmp(third.data, buf.data, buf.len), "the copy writes the same bytes");

  fx_buf_free(&third);
  fx_arena_free(c);
  fx_buf_free(&again);
  fx_buf_free(&buf);
  fx_arena_free(a);
}

#define ROUNDTRIP(name, fn)                          \
  Test(roundtrip, name##_minimal) { roundtrip(fn, false); } \
  Test(roundtrip, name##_maximal) { roundtrip(fn, true); }

ROUNDTRIP(TestMessage, b_test)
ROUNDTRIP(TestMessageResponse, b_test_r)
ROUNDTRIP(AGRPortfolioUpdate, b_apu)
ROUNDTRIP(AGRPortfolioUpdateResponse, b_apu_r)
ROUNDTRIP(AGRPortfolioQuery, b_apq)
ROUNDTRIP(AGRPortfolioQueryResponse, b_apq_r)
ROUNDTRIP(DSOPortfolioUpdate, b_dpu)
ROUNDTRIP(DSOPortfolioUpdateResponse, b_dpu_r)
ROUNDTRIP(DSOPortfolioQuery, b_dpq)
ROUNDTRIP(DSOPortfolioQueryResponse, b_dpq_r)
ROUNDTRIP(FlexReservationUpdate, b_fru)
ROUNDTRIP(FlexReservationUpdateResponse, b_fru_r)
ROUNDTRIP(DPrognosis, b_dp)
ROUNDTRIP(DPrognosisResponse, b_dp_r)
ROUNDTRIP(FlexRequest, b_fr)
ROUNDTRIP(FlexRequestResponse, b_fr_r)
ROUNDTRIP(FlexOffer, b_fo)
ROUNDTRIP(FlexOfferResponse, b_fo_r)
ROUNDTRIP(FlexOfferRevocation, b_fofr)
ROUNDTRIP(FlexOfferRevocationResponse, b_fofr_r)
ROUNDTRIP(FlexOrder, b_for)
ROUNDTRIP(FlexOrderResponse, b_for_r)
ROUNDTRIP(FlexSettlement, b_fs)
ROUNDTRIP(FlexSettlementResponse, b_fs_r)
ROUNDTRIP(Metering, b_m)
ROUNDTRIP(MeteringResponse, b_m_r)

/* Every inner message type has a builder above: keep the list complete. */
Test(roundtrip, every_message_type_is_covered) {
  static const builder all[] = {b_test, b_test_r, b_apu, b_apu_r, b_apq, b_apq_r, b_dpu, b_dpu_r, b_dpq,
                                b_dpq_r, b_fru, b_fru_r, b_dp, b_dp_r, b_fr, b_fr_r, b_fo, b_fo_r,
                                b_fofr, b_fofr_r, b_for, b_for_r, b_fs, b_fs_r, b_m, b_m_r};
  bool seen[FX_MSG__COUNT] = {0};
  fx_arena *a = fx_arena_new(0);
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    struct fx_msg m;
    memset(&m, 0, sizeof m);
    all[i](a, &m, false);
    seen[m.type] = true;
  }
  for (int t = FX_MSG_SIGNED_MESSAGE + 1; t < FX_MSG__COUNT; t++)
    cr_expect(seen[t], "no round-trip builder for %s", fx_msg_type_name((enum fx_msg_type)t));
  fx_arena_free(a);
}

Test(roundtrip, signed_message_envelope) {
  struct fx_signed s = {.sender_domain = "agr.example.com", .sender_role = FX_ROLE_AGR,
                        .body = "SGVsbG8gV29ybGQ="};
  struct fx_buf buf;
  fx_buf_init(&buf);
  struct fx_error err;
  cr_assert_eq(fx_write_signed(&s, &buf, &err), 0, "%s: %s", err.where, err.why);
  char why[1024];
  int v = xsd_validate(FX_MSG_SIGNED_MESSAGE, buf.data, buf.len, why);
  if (v >= 0)
    cr_assert_eq(v, 0, "SignedMessage rejected by the XSD: %s", why);
  fx_reader *r = fx_reader_new(NULL);
  struct fx_signed back;
  cr_assert_eq(fx_read_signed(r, buf.data, buf.len, &back, &err), 0, "%s: %s", err.where, err.why);
  cr_assert_str_eq(back.sender_domain, "agr.example.com");
  cr_assert_eq(back.sender_role, FX_ROLE_AGR);
  cr_assert_str_eq(back.body, "SGVsbG8gV29ybGQ=");
  cr_assert_eq(back.body_len, 16);
  fx_reader_free(r);
  fx_buf_free(&buf);
}

Test(roundtrip, defaults_are_applied_on_read) {
  const char *x =
      "<FlexOrder Version=\"3.1.0\" SenderDomain=\"dso.example.com\" RecipientDomain=\"agr.example.com\""
      " TimeStamp=\"2025-03-01T10:00:00Z\" MessageID=\"00000000-0000-4000-8000-000000000001\""
      " ConversationID=\"00000000-0000-4000-8000-000000000002\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\""
      " Period=\"2025-03-02\" CongestionPoint=\"ean.871685900012345678\" Price=\"1\" Currency=\"EUR\""
      " OrderReference=\"o\"><ISP Power=\"5\" Start=\"3\"/></FlexOrder>";
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, strlen(x), &m, &err), 0, "%s: %s", err.where, err.why);
  cr_assert_eq(m->u.flex_order.activation_factor, FX_FACTOR_ONE);
  cr_assert_eq(m->u.flex_order.isps[0].duration, 1);
  cr_assert_not(m->u.flex_order.has_unsolicited, "absent Unsolicited must stay distinguishable from false");
  cr_assert_eq(m->u.flex_order.price, 10000);
  fx_reader_free(r);
}

Test(roundtrip, set_defaults_fills_a_built_message) {
  struct fx_isp one = {.power = 1, .start = 1};
  struct fx_offer_option opt = {.option_reference = "A", .price = 1, .isps = &one, .n_isps = 1};
  struct fx_msg m;
  memset(&m, 0, sizeof m);
  header(&m, FX_MSG_FLEX_OFFER, false);
  flex(&m.u.flex_offer.flex, false);
  m.u.flex_offer.expiration_date_time = dt("2025-03-01T18:00:00Z");
  m.u.flex_offer.currency = "EUR";
  m.u.flex_offer.offer_options = &opt;
  m.u.flex_offer.n_offer_options = 1;
  struct fx_buf buf;
  fx_buf_init(&buf);
  struct fx_error err;
  cr_assert_eq(fx_write_msg(&m, &buf, &err), -1, "Duration 0 and MinActivationFactor 0 are invalid");
  fx_msg_set_defaults(&m);
  cr_assert_eq(opt.min_activation_factor, FX_FACTOR_ONE);
  cr_assert_eq(one.duration, 1);
  cr_assert_eq(fx_write_msg(&m, &buf, &err), 0, "%s: %s", err.where, err.why);
  fx_buf_free(&buf);
}
