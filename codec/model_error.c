/* model_error.c — filling struct fx_error and naming error codes; shared by
 * the reader, the writer and the comparator. */
#include <stdio.h>

#include "codec/model.h"

void fx_error_set(struct fx_error *err, int code, const char *where, const char *why) {
  if (!err)
    return;
  err->code = code;
  snprintf(err->where, sizeof err->where, "%s", where ? where : "");
  snprintf(err->why, sizeof err->why, "%s", why ? why : "");
}

const char *fx_err_name(int code) {
  static const char *const names[] = {
      [FX_OK] = "ok",           [FX_E_ARG] = "argument",      [FX_E_NOMEM] = "nomem",
      [FX_E_LIMIT] = "limit",   [FX_E_XML] = "xml",           [FX_E_FORBIDDEN] = "forbidden",
      [FX_E_ROOT] = "root",     [FX_E_ELEMENT] = "element",   [FX_E_ATTRIBUTE] = "attribute",
      [FX_E_REQUIRED] = "required", [FX_E_VALUE] = "value",   [FX_E_RANGE] = "range",
      [FX_E_CARDINALITY] = "cardinality", [FX_E_TEXT] = "text",
  };
  if (code < 0 || code >= (int)(sizeof names / sizeof names[0]) || !names[code])
    return "unknown";
  return names[code];
}
