/* types.h — internal: lexical checks and parsers for the XSD simple types
 * that have no public helper in codec.h (integers, booleans, factors and
 * the string patterns). The public value helpers (UUID, dateTime, date,
 * duration, money, decimal) are declared in codec.h and live beside these. */
#ifndef FLEXD_CODEC_TYPES_H
#define FLEXD_CODEC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

/* XSD whiteSpace="collapse" for the non-string types: strips leading and
 * trailing #x20 #x9 #xA #xD (internal runs never parse as numbers anyway). */
void fx_trim(const char **s, size_t *n);

/* xs:integer into int64. Returns 0, FX_E_VALUE (lexical) or FX_E_RANGE. */
int fx_int_parse(const char *s, size_t n, int64_t *out, const char **why);
size_t fx_int_format(int64_t v, char *out); /* needs 21 bytes */

int fx_bool_parse(const char *s, size_t n, bool *out, const char **why);

/* ActivationFactorType: 0.01..1.00 with at most 2 fraction digits. */
int fx_factor_parse(const char *s, size_t n, fx_factor *out, const char **why);
size_t fx_factor_format(fx_factor f, char out[FX_NUMBER_STRLEN]);
bool fx_factor_valid(fx_factor f);

/* Year of the local date a dateTime is written with (writer range check). */
int64_t fx_datetime_local_year(const struct fx_datetime *t);

/* Pattern checks of string-derived types (whiteSpace preserve: no trim).
 * Each returns true when s[0..n) matches the XSD pattern exactly. */
bool fx_pat_domain(const char *s, size_t n);
bool fx_pat_entity(const char *s, size_t n);
bool fx_pat_ean(const char *s, size_t n);
bool fx_pat_currency(const char *s, size_t n);
bool fx_pat_tzname(const char *s, size_t n);
bool fx_pat_version(const char *s, size_t n);
/* xs:base64Binary lexical space (whitespace allowed between groups). */
bool fx_pat_base64(const char *s, size_t n);
/* XML 1.0 character data: valid UTF-8 without forbidden control chars. */
bool fx_text_ok(const char *s, size_t n);

#endif /* FLEXD_CODEC_TYPES_H */
