/* model_value.c — the per-kind value operations the generic reader,
 * writer and comparator share: parse text into a slot, check a slot built
 * by a caller, format it, compare two slots, apply defaults.
 *
 * One switch per operation keeps every kind's rules in one place: the
 * reader and the writer cannot disagree about what a valid value is. */
#include <string.h>

#include "codec/model.h"
#include "codec/types.h"

static bool is_string_kind(int k) { return k <= FX_K_BASE64; }

static int get_enum(const void *obj, uint16_t off) {
  int v;
  memcpy(&v, FX_CAT(obj, off, char), sizeof v);
  return v;
}

/* Pattern of a string-derived kind, with its error text. */
static bool pattern_ok(int kind, const char *s, size_t n, const char **why) {
  switch (kind) {
  case FX_K_DOMAIN: *why = "pattern InternetDomainType"; return fx_pat_domain(s, n);
  case FX_K_ENTITY: *why = "pattern EntityAddressType"; return fx_pat_entity(s, n);
  case FX_K_EAN: *why = "pattern EANType"; return fx_pat_ean(s, n);
  case FX_K_CURRENCY: *why = "pattern ISO4217CurrencyType"; return fx_pat_currency(s, n);
  case FX_K_TZNAME: *why = "pattern TimeZoneNameType"; return fx_pat_tzname(s, n);
  case FX_K_VERSION: *why = "pattern SpecVersion"; return fx_pat_version(s, n);
  case FX_K_BASE64: *why = "not xs:base64Binary"; return fx_pat_base64(s, n);
  default: return true;
  }
}

static int parse_string(const struct fx_attr *a, void *obj, const char *s, size_t n, fx_arena *arena,
                        const char **why) {
  if (a->kind == FX_K_BASE64)
    fx_trim(&s, &n);
  if (!pattern_ok(a->kind, s, n, why))
    return FX_E_VALUE;
  char *copy = fx_arena_strndup(arena, s, n);
  if (!copy) {
    *why = "message exceeds the memory limit";
    return FX_E_LIMIT;
  }
  *FX_AT(obj, a->off, const char *) = copy;
  return 0;
}

static int parse_enum(const struct fx_attr *a, void *obj, const char *s, size_t n, const char **why) {
  for (int i = 1; i < a->n_names; i++)
    if (strlen(a->names[i]) == n && !memcmp(a->names[i], s, n)) {
      memcpy(FX_AT(obj, a->off, char), &i, sizeof i);
      return 0;
    }
  *why = a->bad_enum;
  return FX_E_VALUE;
}

static int parse_int_kind(const struct fx_attr *a, void *obj, const char *s, size_t n, const char **why) {
  int64_t v;
  int rc = fx_int_fast(s, n, &v) ? 0 : fx_int_parse(s, n, &v, why);
  if (rc == FX_E_RANGE && a->kind == FX_K_LONG) {
    *why = "xs:long out of range";
    return FX_E_VALUE;
  }
  if (rc)
    return rc;
  if (a->kind == FX_K_POSINT && v < 1) {
    *why = "positiveInteger < 1";
    return FX_E_VALUE;
  }
  *FX_AT(obj, a->off, int64_t) = v;
  return 0;
}

int fx_value_parse(const struct fx_attr *a, void *obj, const char *s, size_t n, fx_arena *arena,
                   const char **why) {
  int rc;
  if (is_string_kind(a->kind))
    return parse_string(a, obj, s, n, arena, why);
  switch (a->kind) {
  case FX_K_UUID: rc = fx_uuid_parse(s, n, FX_AT(obj, a->off, struct fx_uuid), why); break;
  case FX_K_DATETIME: rc = fx_datetime_parse(s, n, FX_AT(obj, a->off, struct fx_datetime), why); break;
  case FX_K_DATE: rc = fx_date_parse(s, n, FX_AT(obj, a->off, struct fx_date), why); break;
  case FX_K_DURATION: rc = fx_duration_parse(s, n, FX_AT(obj, a->off, struct fx_duration), why); break;
  case FX_K_INTEGER:
  case FX_K_LONG:
  case FX_K_POSINT: rc = parse_int_kind(a, obj, s, n, why); break;
  case FX_K_MONEY: rc = fx_money_parse(s, n, FX_AT(obj, a->off, fx_money), why); break;
  case FX_K_FACTOR: rc = fx_factor_parse(s, n, FX_AT(obj, a->off, fx_factor), why); break;
  case FX_K_DECIMAL: rc = fx_decimal_parse(s, n, FX_AT(obj, a->off, struct fx_decimal), why); break;
  case FX_K_BOOL: rc = fx_bool_parse(s, n, FX_AT(obj, a->off, bool), why); break;
  case FX_K_ENUM: rc = parse_enum(a, obj, s, n, why); break;
  default: *why = "internal: unknown value kind"; return FX_E_ARG;
  }
  if (!rc && a->has_off >= 0)
    *FX_AT(obj, a->has_off, bool) = true;
  return rc;
}

bool fx_value_present(const struct fx_attr *a, const void *obj) {
  if (is_string_kind(a->kind))
    return *FX_CAT(obj, a->off, fx_cstr) != NULL;
  if (a->has_off >= 0)
    return *FX_CAT(obj, a->has_off, bool);
  if (a->kind == FX_K_ENUM && !(a->flags & FX_A_REQUIRED))
    return get_enum(obj, a->off) != 0;
  return true;
}

void fx_value_set_default(const struct fx_attr *a, void *obj) {
  if (!(a->flags & FX_A_DEFAULT))
    return;
  if (a->kind == FX_K_FACTOR)
    *FX_AT(obj, a->off, fx_factor) = (fx_factor)a->def;
  else
    *FX_AT(obj, a->off, int64_t) = a->def;
}

static int check_present(const struct fx_attr *a, const void *obj, const char **why) {
  if (is_string_kind(a->kind)) {
    const char *s = *FX_CAT(obj, a->off, fx_cstr);
    size_t n = strlen(s);
    if (!fx_text_ok(s, n)) {
      *why = "not valid UTF-8 XML text";
      return FX_E_VALUE;
    }
    return pattern_ok(a->kind, s, n, why) ? 0 : FX_E_VALUE;
  }
  switch (a->kind) {
  case FX_K_DATETIME: {
    const struct fx_datetime *t = FX_CAT(obj, a->off, struct fx_datetime);
    int64_t y;
    if (t->offset_min < -840 || t->offset_min > 840 || (y = fx_datetime_local_year(t)) < 1 || y > 9999) {
      *why = "dateTime outside years 0001..9999 or offset beyond 14:00";
      return FX_E_VALUE;
    }
    return 0;
  }
  case FX_K_DATE:
    *why = "no such calendar date";
    return fx_date_valid(FX_CAT(obj, a->off, struct fx_date)) ? 0 : FX_E_VALUE;
  case FX_K_DURATION: {
    const struct fx_duration *d = FX_CAT(obj, a->off, struct fx_duration);
    *why = "duration months and microseconds of opposite signs";
    return (d->months <= 0 && d->usec <= 0) || (d->months >= 0 && d->usec >= 0) ? 0 : FX_E_VALUE;
  }
  case FX_K_POSINT:
    *why = "positiveInteger < 1";
    return *FX_CAT(obj, a->off, int64_t) >= 1 ? 0 : FX_E_VALUE;
  case FX_K_FACTOR:
    *why = "ActivationFactorType outside 0.01..1.00";
    return fx_factor_valid(*FX_CAT(obj, a->off, fx_factor)) ? 0 : FX_E_VALUE;
  case FX_K_DECIMAL: {
    const struct fx_decimal *d = FX_CAT(obj, a->off, struct fx_decimal);
    *why = "decimal with more than 18 digits";
    return d->scale <= 18 && d->mantissa < INT64_C(1000000000000000000) &&
                   d->mantissa > -INT64_C(1000000000000000000)
               ? 0
               : FX_E_RANGE;
  }
  case FX_K_ENUM: {
    int v = get_enum(obj, a->off);
    *why = a->bad_enum;
    return v >= 1 && v < a->n_names ? 0 : FX_E_VALUE;
  }
  default:
    return 0;
  }
}

int fx_value_check(const struct fx_attr *a, const void *obj, const char **why) {
  if (!fx_value_present(a, obj)) {
    *why = "required attribute missing";
    return a->flags & FX_A_REQUIRED ? FX_E_REQUIRED : 0;
  }
  return check_present(a, obj, why);
}

const char *fx_value_text(const struct fx_attr *a, const void *obj, char *out, size_t cap) {
  (void)cap; /* callers pass at least FX_DURATION_STRLEN */
  if (is_string_kind(a->kind))
    return *FX_CAT(obj, a->off, fx_cstr);
  switch (a->kind) {
  case FX_K_UUID: fx_uuid_format(FX_CAT(obj, a->off, struct fx_uuid), out); break;
  case FX_K_DATETIME: fx_datetime_format(FX_CAT(obj, a->off, struct fx_datetime), out); break;
  case FX_K_DATE: fx_date_format(FX_CAT(obj, a->off, struct fx_date), out); break;
  case FX_K_DURATION: fx_duration_format(FX_CAT(obj, a->off, struct fx_duration), out); break;
  case FX_K_INTEGER:
  case FX_K_LONG:
  case FX_K_POSINT: fx_int_format(*FX_CAT(obj, a->off, int64_t), out); break;
  case FX_K_MONEY: fx_money_format(*FX_CAT(obj, a->off, fx_money), out); break;
  case FX_K_FACTOR: fx_factor_format(*FX_CAT(obj, a->off, fx_factor), out); break;
  case FX_K_DECIMAL: fx_decimal_format(FX_CAT(obj, a->off, struct fx_decimal), out); break;
  case FX_K_BOOL: strcpy(out, *FX_CAT(obj, a->off, bool) ? "true" : "false"); break;
  case FX_K_ENUM: {
    int v = get_enum(obj, a->off);
    return v >= 1 && v < a->n_names ? a->names[v] : "(invalid)";
  }
  default: out[0] = 0;
  }
  return out;
}

static bool date_equal(const struct fx_date *x, const struct fx_date *y) {
  return x->year == y->year && x->month == y->month && x->day == y->day && x->has_tz == y->has_tz &&
         (!x->has_tz || x->tz_min == y->tz_min);
}

bool fx_value_equal(const struct fx_attr *a, const void *x, const void *y) {
  bool px = fx_value_present(a, x), py = fx_value_present(a, y);
  if (px != py)
    return false;
  if (!px)
    return true;
  if (is_string_kind(a->kind))
    return !strcmp(*FX_CAT(x, a->off, fx_cstr), *FX_CAT(y, a->off, fx_cstr));
  switch (a->kind) {
  case FX_K_UUID: return fx_uuid_equal(FX_CAT(x, a->off, struct fx_uuid), FX_CAT(y, a->off, struct fx_uuid));
  case FX_K_DATETIME: {
    const struct fx_datetime *p = FX_CAT(x, a->off, struct fx_datetime), *q = FX_CAT(y, a->off, struct fx_datetime);
    return p->usec == q->usec && p->offset_min == q->offset_min;
  }
  case FX_K_DATE: return date_equal(FX_CAT(x, a->off, struct fx_date), FX_CAT(y, a->off, struct fx_date));
  case FX_K_DURATION: {
    const struct fx_duration *p = FX_CAT(x, a->off, struct fx_duration), *q = FX_CAT(y, a->off, struct fx_duration);
    return p->months == q->months && p->usec == q->usec;
  }
  case FX_K_INTEGER:
  case FX_K_LONG:
  case FX_K_POSINT:
  case FX_K_MONEY: return *FX_CAT(x, a->off, int64_t) == *FX_CAT(y, a->off, int64_t);
  case FX_K_FACTOR: return *FX_CAT(x, a->off, fx_factor) == *FX_CAT(y, a->off, fx_factor);
  case FX_K_DECIMAL: {
    struct fx_decimal p = fx_decimal_normal(*FX_CAT(x, a->off, struct fx_decimal));
    struct fx_decimal q = fx_decimal_normal(*FX_CAT(y, a->off, struct fx_decimal));
    return p.mantissa == q.mantissa && p.scale == q.scale;
  }
  case FX_K_BOOL: return *FX_CAT(x, a->off, bool) == *FX_CAT(y, a->off, bool);
  case FX_K_ENUM: return get_enum(x, a->off) == get_enum(y, a->off);
  default: return false;
  }
}
