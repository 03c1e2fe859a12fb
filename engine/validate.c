/* validate.c — stateless generic checks (see validate.h).
 *
 * Each check is a small function adding at most one phrase. ISP checks work on
 * a flat list of (start, duration) intervals gathered per "ISP set" (one per
 * message, per OfferOption, per metering Profile, per settlement item), because
 * the five ISP element types of the schema differ in everything else. */
#include "engine/validate.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "engine/calendar.h"

#define BIT(r) (1u << (r))

void fx_verdict_clear(struct fx_verdict *v) {
  v->len = 0;
  v->text[0] = 0;
}

static bool verdict_has(const struct fx_verdict *v, const char *phrase, size_t n) {
  for (const char *p = v->text; (p = strstr(p, phrase)); p += n)
    if ((p == v->text || p[-1] == ';') && (p[n] == ';' || p[n] == 0))
      return true;
  return false;
}

void fx_verdict_add(struct fx_verdict *v, const char *phrase) {
  size_t n = strlen(phrase);
  if (verdict_has(v, phrase, n) || v->len + n + 2 > sizeof v->text)
    return;
  if (v->len)
    v->text[v->len++] = ';';
  memcpy(v->text + v->len, phrase, n + 1);
  v->len += n;
}

/* Who sends what, per the message catalog: DSOs send requests, orders,
 * settlements and their answers to AGR messages; AGRs the reverse; the CRO
 * answers portfolio messages; anyone may test. */
unsigned fx_sender_roles(enum fx_msg_type t) {
  switch (t) {
  case FX_MSG_TEST_MESSAGE:
  case FX_MSG_TEST_MESSAGE_RESPONSE:
    return BIT(FX_ROLE_AGR) | BIT(FX_ROLE_CRO) | BIT(FX_ROLE_DSO);
  case FX_MSG_AGR_PORTFOLIO_UPDATE:
  case FX_MSG_AGR_PORTFOLIO_QUERY:
  case FX_MSG_D_PROGNOSIS:
  case FX_MSG_FLEX_REQUEST_RESPONSE:
  case FX_MSG_FLEX_OFFER:
  case FX_MSG_FLEX_OFFER_REVOCATION:
  case FX_MSG_FLEX_ORDER_RESPONSE:
  case FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE:
  case FX_MSG_FLEX_SETTLEMENT_RESPONSE:
  case FX_MSG_METERING:
    return BIT(FX_ROLE_AGR);
  case FX_MSG_DSO_PORTFOLIO_UPDATE:
  case FX_MSG_DSO_PORTFOLIO_QUERY:
  case FX_MSG_FLEX_REQUEST:
  case FX_MSG_FLEX_OFFER_RESPONSE:
  case FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE:
  case FX_MSG_FLEX_ORDER:
  case FX_MSG_FLEX_RESERVATION_UPDATE:
  case FX_MSG_FLEX_SETTLEMENT:
  case FX_MSG_D_PROGNOSIS_RESPONSE:
  case FX_MSG_METERING_RESPONSE:
    return BIT(FX_ROLE_DSO);
  case FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE:
  case FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE:
  case FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE:
  case FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE:
    return BIT(FX_ROLE_CRO);
  default:
    return 0;
  }
}

/* ---- the validator: rules plus a per-thread cache of named time zones ---- */

struct zone {
  char name[64];
  struct fx_calendar *cal; /* NULL: the tz database does not know it */
  UT_hash_handle hh;
};

enum { ZONE_CACHE_MAX = 64 }; /* zones a market meets: one or two, hostile input more */

struct fx_validator {
  struct fx_rules rules;
  struct zone *zones;
  unsigned n_zones;
  int64_t *iv; /* interval scratch: start, end pairs */
  size_t iv_cap;
};

struct fx_validator *fx_validator_new(const struct fx_rules *rules) {
  struct fx_validator *v = calloc(1, sizeof *v);
  if (v)
    v->rules = *rules;
  return v;
}

static void drop_zones(struct fx_validator *v) {
  struct zone *z, *tmp;
  HASH_ITER(hh, v->zones, z, tmp) {
    HASH_DEL(v->zones, z);
    fx_calendar_free(z->cal);
    free(z);
  }
  v->n_zones = 0;
}

void fx_validator_free(struct fx_validator *v) {
  if (!v)
    return;
  drop_zones(v);
  free(v->iv);
  free(v);
}

static struct fx_calendar *zone_get(struct fx_validator *v, const char *name) {
  if (!strcmp(name, fx_calendar_zone(v->rules.market)))
    return v->rules.market;
  size_t n = strlen(name);
  struct zone *z;
  HASH_FIND(hh, v->zones, name, n, z);
  if (z)
    return z->cal;
  if (n >= sizeof z->name)
    return NULL;
  if (v->n_zones >= ZONE_CACHE_MAX)
    drop_zones(v);
  z = calloc(1, sizeof *z);
  if (!z)
    return NULL; /* no memory: treated as an unknown zone */
  memcpy(z->name, name, n + 1);
  z->cal = fx_calendar_new(name);
  HASH_ADD(hh, v->zones, name[0], n, z);
  v->n_zones++;
  return z->cal;
}

/* ---- ISP sets ------------------------------------------------------------ */

struct isp_set {
  struct fx_validator *v;
  int64_t *iv; /* start, end (exclusive) pairs */
  size_t n;
  bool oom;
};

static void set_begin(struct isp_set *s, struct fx_validator *v) {
  s->v = v;
  s->iv = v->iv;
  s->n = 0;
  s->oom = false;
}

static void set_add(struct isp_set *s, int64_t start, int64_t duration) {
  struct fx_validator *v = s->v;
  if (2 * (s->n + 1) > v->iv_cap) {
    size_t cap = v->iv_cap ? v->iv_cap * 2 : 256;
    int64_t *p = realloc(v->iv, cap * sizeof *p);
    if (!p) {
      s->oom = true;
      return;
    }
    v->iv = s->iv = p;
    v->iv_cap = cap;
  }
  /* Duration is >= 1 by schema except for D-Prognosis (xs:integer): a
   * non-positive duration is then out of bounds, caught below. */
  int64_t end = duration > 0 && start <= INT64_MAX - duration ? start + duration : start;
  s->iv[2 * s->n] = start;
  s->iv[2 * s->n + 1] = duration > 0 ? end : INT64_MIN;
  s->n++;
}

static int cmp_iv(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Checks one ISP set of day `day`: bounds against the day's ISP count, then
 * overlaps. Returns the end (exclusive ISP number) of the last ISP, for the
 * expiration check. */
static int64_t set_check(struct isp_set *s, const struct fx_date *period, struct fx_verdict *out) {
  struct fx_validator *v = s->v;
  if (s->oom) {
    fx_verdict_add(out, FX_R_INVALID_MESSAGE);
    return 0;
  }
  int count = v->rules.isp.months ? -1
      : fx_calendar_isp_count(v->rules.market, fx_date_to_days(period), v->rules.isp.usec);
  int64_t last = 0;
  bool sorted = true;
  for (size_t i = 0; i < s->n; i++) {
    int64_t a = s->iv[2 * i], b = s->iv[2 * i + 1];
    if (a < 1 || b == INT64_MIN || count < 0 || b - 1 > count)
      fx_verdict_add(out, FX_R_ISPS_OUT_OF_BOUNDS);
    if (b > last)
      last = b;
    if (i && a < s->iv[2 * i - 2])
      sorted = false;
  }
  if (s->n == 0)
    fx_verdict_add(out, FX_R_ISPS_OUT_OF_BOUNDS);
  if (!sorted)
    qsort(s->iv, s->n, 2 * sizeof *s->iv, cmp_iv);
  for (size_t i = 1; i < s->n; i++)
    if (s->iv[2 * i] < s->iv[2 * i - 1] || s->iv[2 * i] == s->iv[2 * i - 2])
      fx_verdict_add(out, FX_R_ISP_CONFLICT);
  return last;
}

/* Adds the ISPs of `m`, set by set; returns the latest ISP end over all sets
 * (exclusive ISP number), 0 when the message has no ISPs. */
static int64_t check_isps(struct fx_validator *v, const struct fx_msg *m, struct fx_verdict *out) {
  struct isp_set s;
  int64_t last = 0, l;
  const struct fx_flex_header *fh = fx_msg_flex(m);
#define ONE_SET(arr, n, START, DUR, period)                                    \
  do {                                                                          \
    set_begin(&s, v);                                                           \
    for (size_t i_ = 0; i_ < (n); i_++)                                         \
      set_add(&s, (arr)[i_].START, DUR);                                        \
    if ((l = set_check(&s, (period), out)) > last)                              \
      last = l;                                                                 \
  } while (0)
  switch (m->type) {
  case FX_MSG_D_PROGNOSIS:
    ONE_SET(m->u.d_prognosis.isps, m->u.d_prognosis.n_isps, start, m->u.d_prognosis.isps[i_].duration, &fh->period);
    break;
  case FX_MSG_FLEX_RESERVATION_UPDATE: {
    const struct fx_flex_reservation_update *f = &m->u.flex_reservation_update;
    ONE_SET(f->isps, f->n_isps, start, f->isps[i_].duration, &fh->period);
    break;
  }
  case FX_MSG_FLEX_REQUEST: {
    const struct fx_flex_request *f = &m->u.flex_request;
    ONE_SET(f->isps, f->n_isps, start, f->isps[i_].duration, &fh->period);
    break;
  }
  case FX_MSG_FLEX_OFFER:
    for (size_t o = 0; o < m->u.flex_offer.n_offer_options; o++) {
      const struct fx_offer_option *op = &m->u.flex_offer.offer_options[o];
      ONE_SET(op->isps, op->n_isps, start, op->isps[i_].duration, &fh->period);
    }
    break;
  case FX_MSG_FLEX_ORDER: {
    const struct fx_flex_order *f = &m->u.flex_order;
    ONE_SET(f->isps, f->n_isps, start, f->isps[i_].duration, &fh->period);
    break;
  }
  case FX_MSG_METERING:
    for (size_t p = 0; p < m->u.metering.n_profiles; p++) {
      const struct fx_metering_profile *pr = &m->u.metering.profiles[p];
      ONE_SET(pr->isps, pr->n_isps, start, 1, &m->u.metering.period);
    }
    break;
  case FX_MSG_FLEX_SETTLEMENT:
    for (size_t k = 0; k < m->u.flex_settlement.n_flex_order_settlements; k++) {
      const struct fx_flex_order_settlement *fs = &m->u.flex_settlement.flex_order_settlements[k];
      ONE_SET(fs->isps, fs->n_isps, start, fs->isps[i_].duration, &fs->period);
    }
    break;
  default:
    break;
  }
#undef ONE_SET
  return last;
}

/* ---- the other checks ---------------------------------------------------- */

/* 3.0.x and 3.1.x: the wire format of /shapeshifter/api/v3 (DSOs and CROs keep
 * "at most the three latest versions"; 3.1.0 is the latest). */
static bool version_supported(const char *ver) {
  unsigned long major, minor;
  char *end;
  major = strtoul(ver, &end, 10);
  if (*end != '.')
    return false;
  minor = strtoul(end + 1, &end, 10);
  return *end == '.' && major == 3 && minor <= 1;
}

static bool uses_isp_duration(enum fx_msg_type t) {
  return t == FX_MSG_D_PROGNOSIS || t == FX_MSG_FLEX_RESERVATION_UPDATE || t == FX_MSG_FLEX_REQUEST ||
         t == FX_MSG_FLEX_OFFER || t == FX_MSG_FLEX_ORDER || t == FX_MSG_METERING;
}

/* The (TimeZone, Period) pair of types the spec lists under "TimeZone rejected". */
static bool zone_and_period(const struct fx_msg *m, const char **tz, const struct fx_date **period) {
  const struct fx_flex_header *fh = fx_msg_flex(m);
  if (fh) {
    *tz = fh->time_zone, *period = &fh->period;
    return true;
  }
  switch (m->type) {
  case FX_MSG_AGR_PORTFOLIO_QUERY:
    *tz = m->u.agr_portfolio_query.time_zone, *period = &m->u.agr_portfolio_query.period;
    return true;
  case FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE:
    *tz = m->u.agr_portfolio_query_response.time_zone, *period = &m->u.agr_portfolio_query_response.period;
    return true;
  case FX_MSG_DSO_PORTFOLIO_QUERY:
    *tz = m->u.dso_portfolio_query.time_zone, *period = &m->u.dso_portfolio_query.period;
    return true;
  case FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE:
    *tz = m->u.dso_portfolio_query_response.time_zone, *period = &m->u.dso_portfolio_query_response.period;
    return true;
  case FX_MSG_METERING:
    *tz = m->u.metering.time_zone, *period = &m->u.metering.period;
    return true;
  default:
    return false;
  }
}

static void check_zone(struct fx_validator *v, const struct fx_msg *m, struct fx_verdict *out) {
  const char *tz;
  const struct fx_date *period;
  if (!zone_and_period(m, &tz, &period))
    return;
  struct fx_calendar *cal = zone_get(v, tz);
  if (!cal || !fx_calendar_same_offsets(v->rules.market, cal, fx_date_to_days(period)))
    fx_verdict_add(out, FX_R_TIME_ZONE);
}

/* Periods that lie wholly in the past cannot be traded, prognosed or reserved;
 * metering of a day that has not begun cannot exist. */
static void check_period(struct fx_validator *v, const struct fx_msg *m, int64_t now_us, struct fx_verdict *out) {
  struct fx_day d;
  const struct fx_flex_header *fh = fx_msg_flex(m);
  if (fh && m->type != FX_MSG_FLEX_ORDER) {
    if (fx_calendar_day(v->rules.market, fx_date_to_days(&fh->period), &d) != 0 ||
        d.start_us + d.length_us <= now_us)
      fx_verdict_add(out, FX_R_PERIOD_OUT_OF_BOUNDS);
  } else if (m->type == FX_MSG_METERING) {
    if (fx_calendar_day(v->rules.market, fx_date_to_days(&m->u.metering.period), &d) != 0 || d.start_us > now_us)
      fx_verdict_add(out, FX_R_PERIOD_OUT_OF_BOUNDS);
  }
}

/* ExpirationDateTime must be in the future and not after the last ISP the
 * message addresses has ended. */
static void check_expiration(struct fx_validator *v, const struct fx_msg *m, int64_t last_isp_end,
                             int64_t now_us, struct fx_verdict *out) {
  const struct fx_datetime *exp;
  if (m->type == FX_MSG_FLEX_REQUEST)
    exp = &m->u.flex_request.expiration_date_time;
  else if (m->type == FX_MSG_FLEX_OFFER)
    exp = &m->u.flex_offer.expiration_date_time;
  else
    return;
  struct fx_day d;
  const struct fx_flex_header *fh = fx_msg_flex(m);
  bool past = exp->usec <= now_us;
  bool beyond = fx_calendar_day(v->rules.market, fx_date_to_days(&fh->period), &d) == 0 && last_isp_end > 0 &&
                exp->usec > d.start_us + (last_isp_end - 1) * v->rules.isp.usec;
  if (past || beyond)
    fx_verdict_add(out, FX_R_EXPIRATION_OUT_OF_BOUNDS);
}

void fx_validate_generic(struct fx_validator *v, const struct fx_msg *m, const char *env_domain,
                         enum fx_role env_role, int64_t now_us, struct fx_verdict *out) {
  if (strcmp(m->hdr.sender_domain, env_domain) != 0)
    fx_verdict_add(out, FX_R_MISMATCH_SENDER_DOMAIN);
  if (!(fx_sender_roles(m->type) & BIT(env_role)))
    fx_verdict_add(out, FX_R_INVALID_SENDER_ROLE);
  if (strcmp(m->hdr.recipient_domain, v->rules.platform_domain) != 0)
    fx_verdict_add(out, FX_R_UNKNOWN_RECIPIENT);
  if (!version_supported(m->hdr.version))
    fx_verdict_add(out, FX_R_UNSUPPORTED_VERSION);
  const struct fx_flex_header *fh = fx_msg_flex(m);
  const struct fx_duration *isp = fh ? &fh->isp_duration
                                : m->type == FX_MSG_METERING ? &m->u.metering.isp_duration : NULL;
  bool isp_ok = true;
  if (isp && uses_isp_duration(m->type) &&
      (isp->months != v->rules.isp.months || isp->usec != v->rules.isp.usec)) {
    fx_verdict_add(out, FX_R_ISP_DURATION);
    isp_ok = false; /* ISP numbers mean nothing in another ISP length */
  }
  check_zone(v, m, out);
  int64_t last = isp_ok ? check_isps(v, m, out) : 0;
  check_period(v, m, now_us, out);
  check_expiration(v, m, last, now_us, out);
}
