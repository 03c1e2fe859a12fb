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

/* The open elements during the check; the path text is built only when an
 * error is reported (snprintf per element was most of the check's cost). */
struct trail {
  const char *name[8];
  size_t index[8];
  int depth;
};

static void trail_error(const struct trail *t, const char *attr, struct fx_error *err, int code, const char *why) {
  char path[128];
  size_t k = 0;
  for (int d = 0; d < t->depth && k < sizeof path; d++) {
    int w = d == 0 ? snprintf(path + k, sizeof path - k, "%s", t->name[d])
                   : snprintf(path + k, sizeof path - k, "/%s[%zu]", t->name[d], t->index[d]);
    k += w > 0 ? (size_t)w : 0;
  }
  if (attr && k < sizeof path)
    snprintf(path + k, sizeof path - k, "@%s", attr);
  fx_error_set(err, code, path, why);
}

static int child_array(const struct fx_child *c, const void *obj, const char **arr, size_t *n) {
  memcpy(arr, FX_CAT(obj, c->arr_off, char), sizeof *arr);
  *n = *FX_CAT(obj, c->cnt_off, size_t);
  return *n && !*arr ? -1 : 0;
}

static int check_elem(const struct fx_type *t, const void *obj, struct trail *tr, struct fx_error *err) {
  for (int i = 0; i < t->n_attrs; i++) {
    const char *why = NULL;
    int rc = fx_value_check(&t->attrs[i], obj, &why);
    if (rc) {
      trail_error(tr, t->attrs[i].name, err, rc, why);
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
      trail_error(tr, NULL, err, FX_E_ARG, why);
      return -1;
    }
    if (n < c->min || (c->max && n > c->max)) {
      snprintf(why, sizeof why, "%s occurs %zu times, allowed %u..%s", c->name, n, c->min,
               c->max ? (c->max == 1 ? "1" : "n") : "unbounded");
      trail_error(tr, NULL, err, FX_E_CARDINALITY, why);
      return -1;
    }
    if (tr->depth >= 8)
      continue; /* deeper than any UFTP type; unreachable with model.c */
    tr->name[tr->depth] = c->name;
    tr->depth++;
    for (size_t i = 0; i < n; i++) {
      tr->index[tr->depth - 1] = i + 1;
      if (check_elem(c->type, arr + i * c->type->size, tr, err))
        return -1;
    }
    tr->depth--;
  }
  return 0;
}

/* Appends without the per-call NUL of fx_buf_append; write_root ends the
 * text once. */
static int put_n(struct fx_buf *b, const char *s, size_t n) {
  if (b->cap - b->len <= n && fx_buf_reserve(b, n))
    return -1;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

/* ---------------------------------------------------------------- emit */

static int put(struct fx_buf *b, const char *s) { return put_n(b, s, strlen(s)); }

static int put_escaped(struct fx_buf *b, const char *s) {
  const char *run = s;
  for (;; s++) {
    const char *rep;
    switch (*s) {
    case 0: return put_n(b, run, (size_t)(s - run));
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\t': rep = "&#9;"; break;
    case '\n': rep = "&#10;"; break;
    case '\r': rep = "&#13;"; break;
    default: continue;
    }
    if (put_n(b, run, (size_t)(s - run)) || put(b, rep))
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
    if (put_n(b, " ", 1) || put(b, a->name) || put_n(b, "=\"", 2) || put_escaped(b, text) || put_n(b, "\"", 1))
      return -1;
  }
  return 0;
}

static int emit_elem(const struct fx_type *t, const void *obj, const char *name, struct fx_buf *b) {
  if (put_n(b, "<", 1) || put(b, name) || emit_attrs(t, obj, b))
    return -1;
  bool open = false;
  for (int k = 0; k < t->n_children; k++) {
    const struct fx_child *c = &t->children[k];
    const char *arr;
    size_t n;
    child_array(c, obj, &arr, &n);
    for (size_t i = 0; i < n; i++) {
      if (!open && put_n(b, ">", 1))
        return -1;
      open = true;
      if (emit_elem(c->type, arr + i * c->type->size, c->name, b))
        return -1;
    }
  }
  if (!open)
    return put_n(b, "/>", 2);
  return put_n(b, "</", 2) || put(b, name) || put_n(b, ">", 1) ? -1 : 0;
}

static int write_root(const struct fx_root *r, const void *obj, struct fx_buf *out, struct fx_error *err) {
  struct trail tr = {.name = {r->element}, .depth = 1};
  if (check_elem(r->type, obj, &tr, err))
    return -1;
  size_t mark = out->len;
  if (put(out, DECL) || emit_elem(r->type, obj, r->element, out) || fx_buf_append(out, "", 0)) {
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
