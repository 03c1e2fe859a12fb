/* uftp.c — building, sealing and judging the bench workloads' UFTP messages (see
 * uftp.h): the common reference (portfolio updates), the trading messages of both
 * sides and the AGRs' answers to what the platform sends them. The model of each
 * message lives in an arena reset per message; the XML and the envelope are written
 * into two reused buffers and copied once, into the finished HTTP request. */
#include "bench/harness/uftp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/sign.h"
#include "engine/calendar.h"
#include "engine/respond.h"
#include "engine/validate.h"

#define MARKET_ZONE "Europe/Amsterdam"
#define OTHER_ZONE "Europe/London" /* an hour off Amsterdam all year */
#define CP_PREFIX "ean.8716859000"   /* + 8 digits: the CP's index */
#define CONN_PREFIX "ean.871685"      /* + 5 digits CP, 5 digits AGR: 16 digits, an EAN */
#define UNKNOWN_CP "ean.871685999999999999" /* a CP nobody publishes */
#define PORTFOLIO_FROM "2020-01-01"   /* every CP and connection is valid from then on */
#define ISP_US INT64_C(900000000) /* PT15M */
#define SMALL_FIRST_ISP 37        /* 09:00 local: a typical morning offer */
#define OUTCOME_SHIFT 4           /* verdicts fit in 4 bits */
#define PATH "/shapeshifter/api/v3/message"
#define R_UNKNOWN_OFFER "Unknown FlexOfferMessageID reference" /* the market's phrase */

struct fx_bench_msgs {
  const struct fx_bench_platform *plat;
  fx_sign_ctx *sc;
  fx_reader *rd;
  fx_arena *arena;
  struct fx_buf inner, env;
  struct fx_calendar *cal; /* the market zone */
  struct fx_date period; /* in the market zone */
  int days_ahead;
  unsigned day_isps;
  int64_t day_start_us; /* the Period's midnight */
  int64_t expiry_us;    /* offers: the Period's midnight + 1 h */
};

/* ---- outcomes ------------------------------------------------------------------ */

static const char *const verdict_names[FX_VERDICT_COUNT] = {
    [FX_VERDICT_ANSWERED] = "answered",
    [FX_VERDICT_ACCEPTED] = "Accepted",
    [FX_VERDICT_ALREADY_SUBMITTED] = "Rejected (" FX_R_ALREADY_SUBMITTED ")",
    [FX_VERDICT_DUPLICATE_IDENTIFIER] = "Rejected (" FX_R_DUPLICATE_IDENTIFIER ")",
    [FX_VERDICT_ISP_CONFLICT] = "Rejected (" FX_R_ISP_CONFLICT ")",
    [FX_VERDICT_TIME_ZONE] = "Rejected (" FX_R_TIME_ZONE ")",
    [FX_VERDICT_ISPS_OOB] = "Rejected (" FX_R_ISPS_OUT_OF_BOUNDS ")",
    [FX_VERDICT_RECIPIENT] = "Rejected (" FX_R_UNKNOWN_RECIPIENT ")",
    [FX_VERDICT_VERSION] = "Rejected (" FX_R_UNSUPPORTED_VERSION ")",
    [FX_VERDICT_PERIOD_OOB] = "Rejected (" FX_R_PERIOD_OUT_OF_BOUNDS ")",
    [FX_VERDICT_INVALID_CP] = "Rejected (" FX_R_INVALID_CONGESTION_POINT ")",
    [FX_VERDICT_UNKNOWN_OFFER] = "Rejected (" R_UNKNOWN_OFFER ")",
    [FX_VERDICT_OTHER] = "Rejected (another reason)",
};

/* The exact phrase behind each rejection verdict. */
static const char *const verdict_phrases[FX_VERDICT_COUNT] = {
    [FX_VERDICT_ALREADY_SUBMITTED] = FX_R_ALREADY_SUBMITTED,
    [FX_VERDICT_DUPLICATE_IDENTIFIER] = FX_R_DUPLICATE_IDENTIFIER,
    [FX_VERDICT_ISP_CONFLICT] = FX_R_ISP_CONFLICT,
    [FX_VERDICT_TIME_ZONE] = FX_R_TIME_ZONE,
    [FX_VERDICT_ISPS_OOB] = FX_R_ISPS_OUT_OF_BOUNDS,
    [FX_VERDICT_RECIPIENT] = FX_R_UNKNOWN_RECIPIENT,
    [FX_VERDICT_VERSION] = FX_R_UNSUPPORTED_VERSION,
    [FX_VERDICT_PERIOD_OOB] = FX_R_PERIOD_OUT_OF_BOUNDS,
    [FX_VERDICT_INVALID_CP] = FX_R_INVALID_CONGESTION_POINT,
    [FX_VERDICT_UNKNOWN_OFFER] = R_UNKNOWN_OFFER,
};

int fx_bench_outcome(enum fx_msg_type response_type, enum fx_bench_verdict v) {
  return ((int)response_type << OUTCOME_SHIFT) | (int)v;
}

void fx_bench_outcome_name(int outcome, char *buf, size_t cap) {
  const char *type = fx_msg_type_name((enum fx_msg_type)(outcome >> OUTCOME_SHIFT));
  unsigned v = (unsigned)outcome & ((1u << OUTCOME_SHIFT) - 1);
  snprintf(buf, cap, "%s %s", type ? type : "?", v < FX_VERDICT_COUNT ? verdict_names[v] : "?");
}

static enum fx_bench_verdict verdict_of(const struct fx_msg *m) {
  if (!fx_msg_type_has_result(m->type)) return FX_VERDICT_ANSWERED;
  if (m->result == FX_RESULT_ACCEPTED) return FX_VERDICT_ACCEPTED;
  for (int v = 0; v < FX_VERDICT_COUNT; v++)
    if (verdict_phrases[v] && m->rejection_reason && !strcmp(m->rejection_reason, verdict_phrases[v]))
      return (enum fx_bench_verdict)v;
  return FX_VERDICT_OTHER;
}

static const enum fx_bench_verdict flaw_verdicts[FX_FLAW_COUNT] = {
    [FX_FLAW_NONE] = FX_VERDICT_ACCEPTED,
    [FX_FLAW_ISP_CONFLICT] = FX_VERDICT_ISP_CONFLICT,
    [FX_FLAW_TIME_ZONE] = FX_VERDICT_TIME_ZONE,
    [FX_FLAW_ISPS_OOB] = FX_VERDICT_ISPS_OOB,
    [FX_FLAW_RECIPIENT] = FX_VERDICT_RECIPIENT,
    [FX_FLAW_VERSION] = FX_VERDICT_VERSION,
    [FX_FLAW_PERIOD] = FX_VERDICT_PERIOD_OOB,
    [FX_FLAW_UNKNOWN_CP] = FX_VERDICT_INVALID_CP,
    [FX_FLAW_UNKNOWN_REF] = FX_VERDICT_UNKNOWN_OFFER,
};

/* ---- the builder ------------------------------------------------------------- */

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The Period in the market zone: its date, ISP count and the offers' expiry. */
static int place_period(struct fx_bench_msgs *b, int days_ahead, char *err, size_t errlen) {
  struct fx_calendar *cal = b->cal = fx_calendar_new(MARKET_ZONE);
  if (cal == NULL) {
    snprintf(err, errlen, "time zone %s is not in this machine's tz database", MARKET_ZONE);
    return -1;
  }
  int32_t day = fx_calendar_day_of(cal, now_us()) + days_ahead;
  struct fx_day d;
  int isps = fx_calendar_isp_count(cal, day, ISP_US);
  int rc = fx_calendar_day(cal, day, &d);
  b->days_ahead = days_ahead;
  if (rc != 0 || isps <= SMALL_FIRST_ISP) {
    snprintf(err, errlen, "cannot place the Period in %s", MARKET_ZONE);
    return -1;
  }
  fx_date_from_days(day, &b->period);
  b->day_isps = (unsigned)isps;
  b->day_start_us = d.start_us;
  b->expiry_us = d.start_us + INT64_C(3600000000);
  return 0;
}

struct fx_bench_msgs *fx_bench_msgs_new(const struct fx_bench_platform *plat, int days_ahead,
                                        char *err, size_t errlen) {
  struct fx_bench_msgs *b = calloc(1, sizeof *b);
  if (b == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  b->plat = plat;
  b->sc = fx_sign_ctx_new(0);
  b->rd = fx_reader_new(NULL);
  b->arena = fx_arena_new(0);
  fx_buf_init(&b->inner);
  fx_buf_init(&b->env);
  if (b->sc == NULL || b->rd == NULL || b->arena == NULL) {
    snprintf(err, errlen, "out of memory");
    fx_bench_msgs_free(b);
    return NULL;
  }
  if (place_period(b, days_ahead, err, errlen) != 0) {
    fx_bench_msgs_free(b);
    return NULL;
  }
  return b;
}

void fx_bench_msgs_free(struct fx_bench_msgs *b) {
  if (b == NULL) return;
  fx_sign_ctx_free(b->sc);
  fx_calendar_free(b->cal);
  fx_reader_free(b->rd);
  fx_arena_free(b->arena);
  fx_buf_free(&b->inner);
  fx_buf_free(&b->env);
  free(b);
}

unsigned fx_bench_msgs_day_isps(const struct fx_bench_msgs *b) { return b->day_isps; }

void fx_bench_msgs_period(const struct fx_bench_msgs *b, char out[FX_DATE_STRLEN]) {
  fx_date_format(&b->period, out);
}

void fx_bench_msgs_period_shifted(const struct fx_bench_msgs *b, int days, char out[FX_DATE_STRLEN]) {
  struct fx_date d;
  fx_date_from_days(fx_date_to_days(&b->period) + days, &d);
  fx_date_format(&d, out);
}

int fx_bench_msgs_days_ahead(const struct fx_bench_msgs *b) { return b->days_ahead; }

void fx_bench_cp_address(unsigned cp, char out[32]) { snprintf(out, 32, CP_PREFIX "%08u", cp % 100000000u); }

void fx_bench_conn_address(unsigned cp, unsigned agr, char out[32]) {
  snprintf(out, 32, CONN_PREFIX "%05u%05u", cp % 100000u, agr % 100000u);
}

long fx_bench_cp_index(const char *address) {
  size_t n = strlen(CP_PREFIX);
  if (strncmp(address, CP_PREFIX, n) != 0 || strlen(address) != n + 8) return -1;
  long v = 0;
  for (const char *c = address + n; *c; c++) {
    if (*c < '0' || *c > '9') return -1;
    v = v * 10 + (*c - '0');
  }
  return v;
}

/* ---- the messages ---------------------------------------------------------------- */

static void header(const struct fx_bench_msgs *b, const struct fx_bench_msg *spec,
                   const struct fx_bench_party *from, struct fx_msg *m) {
  m->type = spec->type;
  m->hdr.version = spec->flaw == FX_FLAW_VERSION ? "4.0.0" : "3.1.0";
  m->hdr.sender_domain = from->domain;
  m->hdr.recipient_domain = spec->flaw == FX_FLAW_RECIPIENT ? "elsewhere.bench.test" : b->plat->domain;
  m->hdr.timestamp.usec = spec->timestamp_us ? spec->timestamp_us : now_us();
  if (spec->message_id)
    m->hdr.message_id = *spec->message_id;
  else
    fx_uuid_random(&m->hdr.message_id);
  if (spec->conversation)
    m->hdr.conversation_id = *spec->conversation;
  else
    fx_uuid_random(&m->hdr.conversation_id);
}

/* A copy of `s` in the message's arena. */
static const char *arena_str(struct fx_bench_msgs *b, const char *s) {
  char *p = fx_arena_alloc(b->arena, strlen(s) + 1);
  return p ? strcpy(p, s) : NULL;
}

static int flex_header(struct fx_bench_msgs *b, const struct fx_bench_msg *spec,
                       struct fx_flex_header *fh) {
  char cp[32];
  fx_bench_cp_address(spec->cp, cp);
  if (spec->flaw == FX_FLAW_UNKNOWN_CP) snprintf(cp, sizeof cp, UNKNOWN_CP);
  fh->isp_duration.usec = ISP_US;
  fh->time_zone = spec->flaw == FX_FLAW_TIME_ZONE ? OTHER_ZONE : MARKET_ZONE;
  fh->period = b->period;
  fh->congestion_point = arena_str(b, cp);
  return fh->congestion_point ? 0 : -1;
}

/* n ISPs in a row (a short offer starts in the morning, a whole day at ISP 1), with
 * the flaws that concern ISPs applied. NULL when out of memory. */
static struct fx_isp *isps(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, size_t *n_out,
                           int64_t base_power) {
  size_t n = spec->n_isps < 1 ? 1 : spec->n_isps > b->day_isps ? b->day_isps : spec->n_isps;
  int64_t first = n + SMALL_FIRST_ISP - 1 <= b->day_isps ? SMALL_FIRST_ISP : 1;
  struct fx_isp *v = fx_arena_alloc(b->arena, (n + 1) * sizeof *v);
  if (v == NULL) return NULL;
  for (size_t i = 0; i < n; i++)
    v[i] = (struct fx_isp){.power = base_power - (int64_t)(i % 7) * 100,
                           .start = first + (int64_t)i, .duration = 1};
  if (spec->flaw == FX_FLAW_ISP_CONFLICT) v[n++] = v[0]; /* the same ISP twice */
  if (spec->flaw == FX_FLAW_ISPS_OOB) v[n - 1].start = (int64_t)b->day_isps + 1;
  *n_out = n;
  return v;
}

static int flex_offer(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, struct fx_msg *m) {
  struct fx_flex_offer *fo = &m->u.flex_offer;
  struct fx_offer_option *opt = fx_arena_alloc(b->arena, sizeof *opt);
  if (opt == NULL || flex_header(b, spec, &fo->flex) != 0) return -1;
  fo->expiration_date_time.usec = b->expiry_us;
  fo->has_unsolicited = true;
  fo->unsolicited = spec->ref == NULL;
  if (spec->ref) {
    fo->has_flex_request_message_id = true;
    fo->flex_request_message_id = *spec->ref;
  }
  if (spec->baseline) {
    fo->has_d_prognosis_message_id = true;
    fo->d_prognosis_message_id = *spec->baseline;
  }
  fo->currency = "EUR";
  opt->option_reference = "A";
  opt->price = (fx_money)(1000 + spec->price_step) * (FX_MONEY_SCALE / 100); /* 10.00 EUR + cents */
  opt->min_activation_factor = FX_FACTOR_ONE;
  opt->isps = isps(b, spec, &opt->n_isps, -2000);
  fo->offer_options = opt;
  fo->n_offer_options = 1;
  return opt->isps ? 0 : -1;
}

static int d_prognosis(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, struct fx_msg *m) {
  struct fx_d_prognosis *dp = &m->u.d_prognosis;
  if (flex_header(b, spec, &dp->flex) != 0) return -1;
  dp->revision = spec->revision ? spec->revision : 1;
  dp->isps = isps(b, spec, &dp->n_isps, 15000);
  return dp->isps ? 0 : -1;
}

/* The DSO asks for `need_w` less on the small offers' four ISPs; it expires at
 * `expiry_us`, by default at the Period's midnight, after any run (the day-ahead
 * gate closes earlier only for tomorrow). */
static int flex_request(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, struct fx_msg *m) {
  struct fx_flex_request *fr = &m->u.flex_request;
  enum { N = 4 };
  struct fx_flex_request_isp *v = fx_arena_alloc(b->arena, N * sizeof *v);
  if (v == NULL || flex_header(b, spec, &fr->flex) != 0) return -1;
  for (int i = 0; i < N; i++)
    v[i] = (struct fx_flex_request_isp){.disposition = FX_DISPOSITION_REQUESTED, .min_power = -spec->need_w,
                                        .max_power = 0, .start = SMALL_FIRST_ISP + i, .duration = 1};
  fr->revision = spec->revision ? spec->revision : 1;
  fr->expiration_date_time.usec = spec->expiry_us ? spec->expiry_us : b->day_start_us;
  fr->isps = v;
  fr->n_isps = N;
  return 0;
}

/* Every connection from 2020 on, without end. */
static void conn_at(struct fx_bench_msgs *b, unsigned cp, unsigned agr, struct fx_portfolio_connection *c) {
  char ea[32];
  const char *why;
  fx_bench_conn_address(cp, agr, ea);
  c->entity_address = arena_str(b, ea);
  fx_date_parse(PORTFOLIO_FROM, 10, &c->start_period, &why);
}

/* The DSO publishes CPs [first_cp, first_cp + n_cps), each with a connection of every
 * AGR [0, agr). */
static int dso_portfolio(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, struct fx_msg *m) {
  struct fx_dso_portfolio_update *u = &m->u.dso_portfolio_update;
  unsigned n_agrs = spec->agr ? spec->agr : 1, n_cps = spec->n_cps ? spec->n_cps : 1;
  u->time_zone = MARKET_ZONE;
  u->congestion_points = fx_arena_alloc(b->arena, n_cps * sizeof *u->congestion_points);
  if (u->congestion_points == NULL) return -1;
  u->n_congestion_points = n_cps;
  for (unsigned i = 0; i < n_cps; i++) {
    struct fx_dso_congestion_point *cp = &u->congestion_points[i];
    char ea[32];
    const char *why;
    memset(cp, 0, sizeof *cp);
    fx_bench_cp_address(spec->first_cp + i, ea);
    cp->entity_address = arena_str(b, ea);
    fx_date_parse(PORTFOLIO_FROM, 10, &cp->start_period, &why);
    cp->mutex_offers_supported = true;
    cp->day_ahead_redispatch_by = FX_REDISPATCH_DSO;
    cp->connections = fx_arena_alloc(b->arena, n_agrs * sizeof *cp->connections);
    if (cp->connections == NULL || cp->entity_address == NULL) return -1;
    cp->n_connections = n_agrs;
    for (unsigned a = 0; a < n_agrs; a++) {
      memset(&cp->connections[a], 0, sizeof cp->connections[a]);
      conn_at(b, spec->first_cp + i, a, &cp->connections[a]);
    }
  }
  return 0;
}

/* An AGR claims its connection at each of the CPs [first_cp, first_cp + n_cps). */
static int agr_portfolio(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, unsigned agr,
                         struct fx_msg *m) {
  struct fx_agr_portfolio_update *u = &m->u.agr_portfolio_update;
  unsigned n_cps = spec->n_cps ? spec->n_cps : 1;
  u->time_zone = MARKET_ZONE;
  u->connections = fx_arena_alloc(b->arena, n_cps * sizeof *u->connections);
  if (u->connections == NULL) return -1;
  u->n_connections = n_cps;
  for (unsigned i = 0; i < n_cps; i++) {
    memset(&u->connections[i], 0, sizeof u->connections[i]);
    conn_at(b, spec->first_cp + i, agr, &u->connections[i]);
  }
  return 0;
}

/* The index of a bench AGR from its domain (agrNNNN.bench.test). */
static unsigned agr_index(const char *domain) {
  unsigned i = 0;
  return sscanf(domain, "agr%u.", &i) == 1 ? i : 0;
}

/* The Period of `spec`: the builder's, moved by day_offset. */
static void spec_period(const struct fx_bench_msgs *b, const struct fx_bench_msg *spec, struct fx_date *out) {
  fx_date_from_days(fx_date_to_days(&b->period) + spec->day_offset, out);
}

/* The AGR's Metering of its connection at CP `cp`: a Power profile in kW, one value per
 * ISP of the day (15.0 kW with a morning dip). FX_FLAW_PERIOD meters the builder's
 * Period itself, which has not ended. */
static int metering(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, unsigned agr, struct fx_msg *m) {
  struct fx_metering *me = &m->u.metering;
  char ea[32];
  fx_bench_conn_address(spec->cp, agr, ea);
  me->revision = spec->revision ? spec->revision : 1;
  me->isp_duration.usec = ISP_US;
  me->time_zone = MARKET_ZONE;
  if (spec->flaw == FX_FLAW_PERIOD)
    me->period = b->period;
  else
    spec_period(b, spec, &me->period);
  ea[3] = 'E'; /* "ean." + digits → "E" + digits */
  me->ean = arena_str(b, ea + 3);
  int n = fx_calendar_isp_count(b->cal, fx_date_to_days(&me->period), ISP_US);
  struct fx_metering_profile *p = fx_arena_alloc(b->arena, sizeof *p);
  struct fx_metering_isp *v = n > 0 ? fx_arena_alloc(b->arena, (size_t)n * sizeof *v) : NULL;
  if (p == NULL || v == NULL || me->ean == NULL) return -1;
  for (int i = 0; i < n; i++)
    v[i] = (struct fx_metering_isp){.start = i + 1,
                                    .value = {.mantissa = i >= 36 && i < 40 ? 130 : 150, .scale = 1}};
  *p = (struct fx_metering_profile){.profile_type = FX_PROFILE_POWER, .unit = FX_UNIT_KW, .isps = v,
                                    .n_isps = (size_t)n};
  me->profiles = p;
  me->n_profiles = 1;
  return 0;
}

/* AGRPortfolioQuery for the Period (+ day_offset); DSOPortfolioQuery for CP `cp`. */
static int portfolio_query(struct fx_bench_msgs *b, const struct fx_bench_msg *spec, struct fx_msg *m) {
  if (spec->type == FX_MSG_AGR_PORTFOLIO_QUERY) {
    m->u.agr_portfolio_query.time_zone = MARKET_ZONE;
    spec_period(b, spec, &m->u.agr_portfolio_query.period);
    return 0;
  }
  char cp[32];
  fx_bench_cp_address(spec->cp, cp);
  m->u.dso_portfolio_query.time_zone = MARKET_ZONE;
  spec_period(b, spec, &m->u.dso_portfolio_query.period);
  m->u.dso_portfolio_query.entity_address = arena_str(b, cp);
  return m->u.dso_portfolio_query.entity_address ? 0 : -1;
}

/* FlexRequestResponse and FlexOrderResponse: Accepted, in the conversation of what
 * they answer. */
static int answer(const struct fx_bench_msg *spec, struct fx_msg *m) {
  if (spec->ref == NULL) return -1;
  m->result = FX_RESULT_ACCEPTED;
  if (spec->type == FX_MSG_FLEX_REQUEST_RESPONSE)
    m->u.flex_request_response.flex_request_message_id = *spec->ref;
  else
    m->u.flex_order_response.flex_order_message_id = *spec->ref;
  return 0;
}

/* The model of `spec` in b->arena. */
static int model(struct fx_bench_msgs *b, const struct fx_bench_msg *spec,
                 const struct fx_bench_party *from, struct fx_msg *m) {
  memset(m, 0, sizeof *m);
  header(b, spec, from, m);
  switch (spec->type) {
  case FX_MSG_FLEX_OFFER: return flex_offer(b, spec, m);
  case FX_MSG_D_PROGNOSIS: return d_prognosis(b, spec, m);
  case FX_MSG_FLEX_REQUEST: return flex_request(b, spec, m);
  case FX_MSG_DSO_PORTFOLIO_UPDATE: return dso_portfolio(b, spec, m);
  case FX_MSG_AGR_PORTFOLIO_UPDATE: return agr_portfolio(b, spec, agr_index(from->domain), m);
  case FX_MSG_FLEX_REQUEST_RESPONSE:
  case FX_MSG_FLEX_ORDER_RESPONSE: return answer(spec, m);
  case FX_MSG_FLEX_OFFER_REVOCATION:
    if (spec->flaw == FX_FLAW_UNKNOWN_REF)
      fx_uuid_random(&m->u.flex_offer_revocation.flex_offer_message_id);
    else if (spec->ref)
      m->u.flex_offer_revocation.flex_offer_message_id = *spec->ref;
    else
      return -1;
    return 0;
  case FX_MSG_METERING: return metering(b, spec, agr_index(from->domain), m);
  case FX_MSG_AGR_PORTFOLIO_QUERY:
  case FX_MSG_DSO_PORTFOLIO_QUERY: return portfolio_query(b, spec, m);
  case FX_MSG_TEST_MESSAGE: return 0;
  default: return -1;
  }
}

static int expected_outcome(const struct fx_bench_msg *spec) {
  enum fx_msg_type rt = fx_response_type(spec->type);
  if (rt == FX_MSG_NONE) return -1; /* a response: nothing answers it */
  return fx_bench_outcome(rt, spec->type == FX_MSG_TEST_MESSAGE ? FX_VERDICT_ANSWERED
                                                                : flaw_verdicts[spec->flaw]);
}

/* inner XML → Body → SignedMessage, in b->env. */
static int seal(struct fx_bench_msgs *b, const struct fx_msg *m, const struct fx_bench_party *from,
                struct fx_error *e) {
  fx_buf_reset(&b->inner);
  fx_buf_reset(&b->env);
  if (fx_write_msg(m, &b->inner, e) != 0) return -1;
  const char *b64;
  size_t n;
  if (fx_sign_seal(b->sc, from->kp.sec.sign, b->inner.data, b->inner.len, &b64, &n) != FX_SIGN_OK) {
    snprintf(e->why, sizeof e->why, "sealing failed");
    return -1;
  }
  struct fx_signed env = {.sender_domain = from->domain, .sender_role = from->role, .body = b64,
                          .body_len = n};
  return fx_write_signed(&env, &b->env, e);
}

int fx_bench_msgs_build(struct fx_bench_msgs *b, const struct fx_bench_msg *spec,
                        const struct fx_bench_party *from, const char *host, int port,
                        struct fx_req *req, struct fx_bench_built *out, char *err,
                        size_t errlen) {
  struct fx_msg m;
  struct fx_error e = {0};
  fx_arena_reset(b->arena);
  if (spec->flaw >= FX_FLAW_COUNT || model(b, spec, from, &m) != 0 || seal(b, &m, from, &e) != 0) {
    snprintf(err, errlen, "cannot build a %s: %s %s", fx_msg_type_name(spec->type), e.where, e.why);
    return -1;
  }
  if (fx_req_build(req, host, port, PATH, "text/xml; charset=utf-8", b->env.data, b->env.len) != 0) {
    snprintf(err, errlen, "out of memory building a request");
    return -1;
  }
  out->message_id = m.hdr.message_id;
  fx_uuid_format(spec->type == FX_MSG_TEST_MESSAGE ? &m.hdr.conversation_id : &m.hdr.message_id,
                 out->key);
  out->outcome = expected_outcome(spec);
  out->inner_len = b->inner.len;
  return 0;
}

size_t fx_bench_msgs_response_len(struct fx_bench_msgs *b) {
  struct fx_bench_msg spec = {.type = FX_MSG_FLEX_OFFER, .n_isps = 4};
  struct fx_bench_party from = {.domain = "agr0000.bench.test"};
  struct fx_msg req, resp;
  struct fx_error e;
  fx_arena_reset(b->arena);
  fx_buf_reset(&b->inner);
  if (model(b, &spec, &from, &req) != 0 ||
      fx_response_init(&resp, &req, b->plat->domain, now_us(), NULL) != 0 ||
      fx_write_msg(&resp, &b->inner, &e) != 0)
    return 0;
  return b->inner.len;
}

/* ---- the judge ----------------------------------------------------------------- */

/* The role the platform signs in when it sends `type` to `recipient` (engine/respond.h:
 * the CRO for portfolio answers, the AGR-side counterpart towards the DSO, the DSO's
 * market towards an AGR). */
static enum fx_role platform_role(const struct fx_bench_msgs *b, enum fx_msg_type type,
                                  const char *recipient) {
  switch (type) {
  case FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE:
  case FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE:
  case FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE:
  case FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE: return FX_ROLE_CRO;
  default: return strcmp(recipient, b->plat->dso.domain) == 0 ? FX_ROLE_AGR : FX_ROLE_DSO;
  }
}

/* Opens a SignedMessage from the platform with its key for the role the envelope
 * claims and checks that role is the one it sends `*out` in. NULL when forged. */
static const struct fx_msg *open_platform(struct fx_bench_msgs *b, const char *body, size_t len) {
  struct fx_signed env;
  struct fx_error e;
  struct fx_sign_opened op;
  const struct fx_msg *m;
  if (fx_read_signed(b->rd, body, len, &env, &e) != 0 || strcmp(env.sender_domain, b->plat->domain) ||
      env.sender_role <= FX_ROLE_NONE || env.sender_role >= FX_ROLE_COUNT)
    return NULL;
  enum fx_role claimed = env.sender_role;
  if (fx_sign_open(b->sc, b->plat->keys[claimed].pub.sign, env.body, env.body_len, &op) != FX_SIGN_OK)
    return NULL;
  if (fx_read_msg(b->rd, op.inner, op.len, &m, &e) != 0 || strcmp(m->hdr.sender_domain, b->plat->domain) ||
      claimed != platform_role(b, m->type, m->hdr.recipient_domain))
    return NULL;
  return m;
}

int fx_bench_judge(void *builder, const struct fx_sink_ids *ids, const char *body, size_t len) {
  struct fx_bench_msgs *b = builder;
  (void)ids;
  const struct fx_msg *m = open_platform(b, body, len);
  return m ? fx_bench_outcome(m->type, verdict_of(m)) : FX_ASYNC_FORGED;
}

int fx_bench_open(struct fx_bench_msgs *b, const char *body, size_t len, struct fx_bench_inbound *out) {
  const struct fx_msg *m = open_platform(b, body, len);
  memset(out, 0, sizeof *out);
  if (m == NULL) return FX_ASYNC_FORGED;
  out->type = m->type;
  out->message_id = m->hdr.message_id;
  out->conversation_id = m->hdr.conversation_id;
  snprintf(out->recipient, sizeof out->recipient, "%s", m->hdr.recipient_domain);
  const struct fx_flex_header *fh = fx_msg_flex(m);
  out->cp = fh ? fx_bench_cp_index(fh->congestion_point) : -1;
  if (m->type == FX_MSG_FLEX_ORDER) {
    out->offer_id = m->u.flex_order.flex_offer_message_id;
    out->factor = m->u.flex_order.activation_factor;
  }
  return 0;
}
