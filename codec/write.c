/* write.c — the generic XML writer: checks a model against the descriptor
 * tables (the reader's rules, so the output is schema-valid), then streams
 * it into an fx_buf. No DOM, no libxml2: attribute order follows the
 * schema, defaulted attributes equal to their default are left out, and
 * attribute text is escaped so that reading it back yields the same value
 * (tab, CR and LF as character references survive attribute-value
 * normalisation). */
#include <stdio.h>
#include <string.h>

#include "codec/model.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* -------------------------------------------------------------- checks */

static int child_array(const struct fx_child *c, const void *obj, const char **arr, size_t *n) {
  memcpy(arr, FX_CAT(obj, c->arr_off, char), sizeof *arr);
  *n = *FX_CAT(obj, c->cnt_off, size_t);
  return *n && !*arr ? -1 : 0;
}

static int check_elem(const struct fx_type *t, const void *obj, char *path, size_t plen, struct fx_error *err) {
  for (int i = 0; i < t->n_attrs; i++) {
    const char *why = NULL;
    int rc = fx_value_check(&t->attrs[i], obj, &why);
    if (rc) {
      snprintf(path + plen, 128 - plen, "@%s", t->attrs[i].name);
      fx_error_set(err, rc, path, why);
      return -1;
    }
  }
  for (int k = 0; k < t->n_children; k++) {
    const struct fx_child *c = &t->children[k];
    const char *arr;
    size_t n;
    char why[160];
    if (child_array(c, obj, &arr, &n)) {
      snprintf(why, sizeof why, "%zu %s elements but no array", n, c->name);
      fx_error_set(err, FX_E_ARG, path, why);
      return -1;
    }
    if (n < c->min || (c->max && n > c->max)) {
      snprintf(why, sizeof why, "%s occurs %zu times, allowed %u..%s", c->name, n, c->min,
               c->max ? (c->max == 1 ? "1" : "n") : "unbounded");
      fx_error_set(err, FX_E_CARDINALITY, path, why);
      return -1;
    }
    for (size_t i = 0; i < n; i++) {
      int w = snprintf(path + plen, 128 - plen, "/%s[%zu]", c->name, i + 1);
      size_t nl = plen + (w > 0 ? (size_t)w : 0);
      if (check_elem(c->type, arr + i * c->type->size, path, nl < 127 ? nl : 127, err))
        return -1;
      path[plen] = 0;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- emit */

static int put(struct fx_buf *b, const char *s) { return fx_buf_append(b, s, strlen(s)); }

static int put_escaped(struct fx_buf *b, const char *s) {
  const char *run = s;
  for (;; s++) {
    const char *rep;
    switch (*s) {
    case 0: return fx_buf_append(b, run, (size_t)(s - run));
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\t': rep = "&#9;"; break;
    case '\n': rep = "&#10;"; break;
    case '\r': rep = "&#13;"; break;
    default: continue;
    }
    if (fx_buf_append(b, run, (size_t)(s - run)) || put(b, rep))
      return -1;
    run = s + 1;
  }
}

static bool is_default(const struct fx_attr *a, const void *obj) {
  if (!(a->flags & FX_A_DEFAULT))
    return false;
  if (a->kind == FX_K_FACTOR)
    return *FX_CAT(obj, a->off, fx_factor) == a->def;
  return *FX_CAT(obj, a->off, int64_t) == a->def;
}

static int emit_attrs(const struct fx_type *t, const void *obj, struct fx_buf *b) {
  char tmp[FX_DURATION_STRLEN];
  for (int i = 0; i < t->n_attrs; i++) {
    const struct fx_attr *a = &t->attrs[i];
    if (!fx_value_present(a, obj) || is_default(a, obj))
      continue;
    const char *text = fx_value_text(a, obj, tmp, sizeof tmp);
    if (fx_buf_append(b, " ", 1) || put(b, a->name) || fx_buf_append(b, "=\"", 2) || put_escaped(b, text) ||
        fx_buf_append(b, "\"", 1))
      return -1;
  }
  return 0;
}

static int emit_elem(const struct fx_type *t, const void *obj, const char *name, struct fx_buf *b) {
  if (fx_buf_append(b, "<", 1) || put(b, name) || emit_attrs(t, obj, b))
    return -1;
  bool open = false;
  for (int k = 0; k < t->n_children; k++) {
    const struct fx_child *c = &t->children[k];
    const char *arr;
    size_t n;
    child_array(c, obj, &arr, &n);
    for (size_t i = 0; i < n; i++) {
      if (!open && fx_buf_append(b, ">", 1))
        return -1;
      open = true;
      if (emit_elem(c->type, arr + i * c->type->size, c->name, b))
        return -1;
    }
  }
  if (!open)
    return fx_buf_append(b, "/>", 2);
  return fx_buf_append(b, "</", 2) || put(b, name) || fx_buf_append(b, ">", 1) ? -1 : 0;
}

static int write_root(const struct fx_root *r, const void *obj, struct fx_buf *out, struct fx_error *err) {
  char path[128];
  snprintf(path, sizeof path, "%s", r->element);
  if (check_elem(r->type, obj, path, strlen(path), err))
    return -1;
  size_t mark = out->len;
  if (put(out, DECL) || emit_elem(r->type, obj, r->element, out)) {
    out->len = mark;
    if (out->data)
      out->data[mark] = 0;
    fx_error_set(err, FX_E_NOMEM, r->element, "out of memory");
    return -1;
  }
  return 0;
}

int fx_write_msg(const struct fx_msg *m, struct fx_buf *out, struct fx_error *err) {
  const struct fx_root *r = m ? fx_model_root(m->type) : NULL;
  if (!r || m->type == FX_MSG_SIGNED_MESSAGE || !out) {
    fx_error_set(err, FX_E_ARG, "", "not an inner message type");
    return -1;
  }
  return write_root(r, m, out, err);
}

int fx_write_signed(const struct fx_signed *s, struct fx_buf *out, struct fx_error *err) {
  if (!s || !out) {
    fx_error_set(err, FX_E_ARG, "", "no message");
    return -1;
  }
  return write_root(fx_model_root(FX_MSG_SIGNED_MESSAGE), s, out, err);
}
