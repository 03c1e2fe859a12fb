/* model.h — internal: the descriptor tables that mirror the UFTP XSDs.
 *
 * Every complex type of the schemas is one struct fx_type: its attributes
 * (name, value kind, required/default, where the value lives in the C
 * struct) and its child elements in sequence order (name, child type,
 * minOccurs/maxOccurs, where the array and its count live). ONE generic SAX
 * reader (read.c), ONE writer (write.c) and ONE comparator (model_equal.c)
 * walk these tables, so the 27 message types are data, not code.
 *
 * Offsets of a message's own attributes are relative to struct fx_msg (so
 * the header attributes can be shared); offsets inside nested elements are
 * relative to that element's struct. */
#ifndef FLEXD_CODEC_MODEL_H
#define FLEXD_CODEC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

/* How an attribute value is checked and stored. */
enum fx_kind {
  FX_K_STRING,   /* xs:string                          -> const char *        */
  FX_K_DOMAIN,   /* InternetDomainType                 -> const char *        */
  FX_K_ENTITY,   /* EntityAddressType                  -> const char *        */
  FX_K_EAN,      /* EANType                            -> const char *        */
  FX_K_CURRENCY, /* ISO4217CurrencyType                -> const char *        */
  FX_K_TZNAME,   /* TimeZoneNameType                   -> const char *        */
  FX_K_VERSION,  /* SpecVersion                        -> const char *        */
  FX_K_BASE64,   /* xs:base64Binary (Body)             -> const char *        */
  FX_K_UUID,     /* UUIDType                           -> struct fx_uuid      */
  FX_K_DATETIME, /* xs:dateTime, offset required       -> struct fx_datetime  */
  FX_K_DATE,     /* xs:date (PeriodType)               -> struct fx_date      */
  FX_K_DURATION, /* xs:duration                        -> struct fx_duration  */
  FX_K_INTEGER,  /* xs:integer within int64            -> int64_t             */
  FX_K_LONG,     /* xs:long                            -> int64_t             */
  FX_K_POSINT,   /* xs:positiveInteger within int64    -> int64_t             */
  FX_K_MONEY,    /* CurrencyAmountType                 -> fx_money            */
  FX_K_FACTOR,   /* ActivationFactorType               -> fx_factor           */
  FX_K_DECIMAL,  /* xs:decimal, 18 digits              -> struct fx_decimal   */
  FX_K_BOOL,     /* xs:boolean                         -> bool                */
  FX_K_ENUM,     /* string enumeration                 -> int-sized C enum    */
};

enum {
  FX_A_REQUIRED = 1, /* use="required" */
  FX_A_DEFAULT = 2,  /* has an XSD default (def) */
};

struct fx_attr {
  const char *name;
  uint8_t kind;  /* enum fx_kind */
  uint8_t flags; /* FX_A_* */
  uint16_t off;  /* value offset in the owning struct */
  int16_t has_off; /* offset of the bool has_* flag, or -1 */
  int64_t def;   /* default value (integers, money, factors) */
  const char *const *names; /* FX_K_ENUM: names[1..n_names-1]; names[0] unused */
  uint8_t n_names;
  const char *bad_enum; /* FX_K_ENUM: error text naming the XSD type */
};

struct fx_type;

struct fx_child {
  const char *name;
  const struct fx_type *type;
  uint32_t min;
  uint32_t max; /* 0 = unbounded */
  uint16_t arr_off; /* offset of the element array pointer */
  uint16_t cnt_off; /* offset of its size_t count */
};

#define FX_MAX_CHILDREN 2 /* no UFTP type has more than two child kinds */

struct fx_type {
  const char *name; /* XSD complex type name */
  uint16_t size;    /* sizeof the C struct of one element */
  uint8_t n_attrs;
  uint8_t n_children;
  const struct fx_attr *attrs;
  const struct fx_child *children;
};

/* One top-level element. Its type's attribute offsets are relative to
 * struct fx_msg (or struct fx_signed for SignedMessage). */
struct fx_root {
  const char *element;
  const struct fx_type *type;
  bool has_result;
  bool flex;       /* a FlexMessageType: u.<member>.flex is at offset 0 */
  int16_t ref_off; /* offset of the referenced MessageID, or -1 */
};

/* The root descriptor of a message type, NULL for FX_MSG_NONE / out of range. */
const struct fx_root *fx_model_root(enum fx_msg_type t);
/* Linear lookup of an attribute / child by local name; -1 if none. */
int fx_model_attr_index(const struct fx_type *t, const char *name);
int fx_model_child_index(const struct fx_type *t, const char *name);

/* Generic per-kind value operations (model_value.c). */

/* Parses text [s, s+n) into the slot of attribute a in obj. Strings are
 * copied into arena. Returns 0, or an FX_E_* code with *why set. */
int fx_value_parse(const struct fx_attr *a, void *obj, const char *s, size_t n,
                   fx_arena *arena, const char **why);
/* Is the attribute present (worth writing / comparing as present)? */
bool fx_value_present(const struct fx_attr *a, const void *obj);
/* Applies the XSD default of an absent attribute. */
void fx_value_set_default(const struct fx_attr *a, void *obj);
/* Checks a present value as the reader would; 0 or FX_E_* with *why. */
int fx_value_check(const struct fx_attr *a, const void *obj, const char **why);
/* Formats a present value into out (XML-unescaped text); returns a pointer
 * to the text (out, or the string itself for string kinds). */
const char *fx_value_text(const struct fx_attr *a, const void *obj, char *out, size_t cap);
/* Semantic equality of two slots (presence included). */
bool fx_value_equal(const struct fx_attr *a, const void *x, const void *y);

/* Small pointer helpers over offsets (fx_cstr keeps FX_CAT's const single). */
typedef const char *fx_cstr;
#define FX_AT(obj, off, T) ((T *)((char *)(obj) + (off)))
#define FX_CAT(obj, off, T) ((const T *)((const char *)(obj) + (off)))

/* The form nearly every power and ISP number has: an optional '-' and at
 * most 18 digits, which cannot overflow. Anything else (whitespace, '+',
 * longer numbers, errors) takes the general parser, fx_int_parse. */
static inline bool fx_int_fast(const char *s, size_t n, int64_t *out) {
  size_t i = n && s[0] == '-';
  if (n == i || n - i > 18)
    return false;
  int64_t v = 0;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9)
      return false;
    v = v * 10 + (int64_t)d;
  }
  *out = s[0] == '-' ? -v : v;
  return true;
}

/* fx_value_parse's result for an integer attribute in that common form,
 * inline in the reader's attribute loop (a 96-ISP message has nearly 300
 * of them, and the call and dispatch cost as much as the digits). False
 * when a is not an integer kind or the text is not in that form or not
 * valid: fx_value_parse then decides and names any error. */
static inline bool fx_value_int_quick(const struct fx_attr *a, void *obj, const char *s, size_t n) {
  int64_t v;
  if (a->kind < FX_K_INTEGER || a->kind > FX_K_POSINT || !fx_int_fast(s, n, &v) ||
      (a->kind == FX_K_POSINT && v < 1))
    return false;
  *FX_AT(obj, a->off, int64_t) = v;
  if (a->has_off >= 0)
    *FX_AT(obj, a->has_off, bool) = true;
  return true;
}

/* Where the value of the first start tag's Body attribute lies in the
 * document, as written (between the quotes); found counts Body attributes
 * there (the span is only meaningful when it is 1). */
struct fx_scan_span {
  size_t off, len;
  unsigned found;
};

/* Reader pre-pass (read_scan.c): refuses a DOCTYPE, any start tag with
 * more than max_attrs attributes (namespace declarations included) and any
 * attribute value longer than max_len bytes as written, before libxml2
 * parses the document; fills *body when non-NULL. Returns 0, or
 * FX_E_FORBIDDEN / FX_E_LIMIT with *why. */
int fx_scan_prepass(const char *p, size_t n, uint32_t max_attrs, size_t max_len, struct fx_scan_span *body,
                    const char **why);

/* Grows p, the arena's most recent allocation (size bytes), to new_size
 * bytes in place, zeroing the new part, when its block has room: arrays
 * that grow while nothing else is allocated (a run of ISP elements) are
 * then neither copied nor zeroed twice. False leaves everything as it was. */
bool fx_arena_extend(fx_arena *a, void *p, size_t size, size_t new_size);

/* Error helper shared by reader, writer and comparator. */
void fx_error_set(struct fx_error *err, int code, const char *where, const char *why);

#endif /* FLEXD_CODEC_MODEL_H */
