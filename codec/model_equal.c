/* model_equal.c — walks of a whole message over the descriptor tables that
 * are neither reading nor writing: semantic equality (used by round-trip
 * tests and duplicate detection) and filling in XSD defaults for messages
 * built in code. */
#include <stdio.h>
#include <string.h>

#include "codec/model.h"

struct cmp {
  char path[128];
  char *diff;
  size_t n;
};

static void differ(struct cmp *c, size_t plen, const char *fmt, const char *a, const char *b) {
  if (!c->diff || !c->n)
    return;
  char what[160];
  snprintf(what, sizeof what, fmt, a, b);
  snprintf(c->diff, c->n, "%.*s%s", (int)plen, c->path, what);
}

static const char *arr_of(const struct fx_child *ch, const void *obj) {
  const char *p;
  memcpy(&p, FX_CAT(obj, ch->arr_off, char), sizeof p);
  return p;
}

static bool elem_equal(struct cmp *c, size_t plen, const struct fx_type *t, const void *x, const void *y) {
  for (int i = 0; i < t->n_attrs; i++) {
    const struct fx_attr *a = &t->attrs[i];
    if (fx_value_equal(a, x, y))
      continue;
    char bx[FX_DURATION_STRLEN], by[FX_DURATION_STRLEN], fmt[96];
    const char *tx = fx_value_present(a, x) ? fx_value_text(a, x, bx, sizeof bx) : "(absent)";
    const char *ty = fx_value_present(a, y) ? fx_value_text(a, y, by, sizeof by) : "(absent)";
    snprintf(fmt, sizeof fmt, "@%s: %%.40s != %%.40s", a->name);
    differ(c, plen, fmt, tx, ty);
    return false;
  }
  for (int k = 0; k < t->n_children; k++) {
    const struct fx_child *ch = &t->children[k];
    size_t nx = *FX_CAT(x, ch->cnt_off, size_t), ny = *FX_CAT(y, ch->cnt_off, size_t);
    if (nx != ny) {
      char a[24], b[24], fmt[96];
      snprintf(a, sizeof a, "%zu", nx);
      snprintf(b, sizeof b, "%zu", ny);
      snprintf(fmt, sizeof fmt, ": %%s != %%s %s elements", ch->name);
      differ(c, plen, fmt, a, b);
      return false;
    }
    const char *ax = arr_of(ch, x), *ay = arr_of(ch, y);
    for (size_t i = 0; i < nx; i++) {
      int w = snprintf(c->path + plen, sizeof c->path - plen, "/%s[%zu]", ch->name, i + 1);
      size_t nl = plen + (w > 0 ? (size_t)w : 0);
      if (nl >= sizeof c->path)
        nl = sizeof c->path - 1;
      if (!elem_equal(c, nl, ch->type, ax + i * ch->type->size, ay + i * ch->type->size))
        return false;
    }
  }
  return true;
}

int fx_msg_equal(const struct fx_msg *a, const struct fx_msg *b, char *diff, size_t n) {
  struct cmp c = {.diff = diff, .n = n};
  if (diff && n)
    diff[0] = 0;
  if (a->type != b->type) {
    const char *na = fx_msg_type_name(a->type), *nb = fx_msg_type_name(b->type);
    differ(&c, 0, "type %s != %s", na ? na : "?", nb ? nb : "?");
    return 0;
  }
  const struct fx_root *r = fx_model_root(a->type);
  if (!r) {
    differ(&c, 0, "%s%s", "invalid message type", "");
    return 0;
  }
  int plen = snprintf(c.path, sizeof c.path, "%s", r->element);
  return elem_equal(&c, (size_t)plen, r->type, a, b);
}

static void defaults(const struct fx_type *t, void *obj) {
  for (int i = 0; i < t->n_attrs; i++) {
    const struct fx_attr *a = &t->attrs[i];
    if (!(a->flags & FX_A_DEFAULT))
      continue;
    bool zero = a->kind == FX_K_FACTOR ? *FX_AT(obj, a->off, fx_factor) == 0 : *FX_AT(obj, a->off, int64_t) == 0;
    if (zero)
      fx_value_set_default(a, obj);
  }
  for (int k = 0; k < t->n_children; k++) {
    const struct fx_child *ch = &t->children[k];
    char *arr;
    memcpy(&arr, FX_AT(obj, ch->arr_off, char), sizeof arr);
    size_t cnt = *FX_AT(obj, ch->cnt_off, size_t);
    for (size_t i = 0; arr && i < cnt; i++)
      defaults(ch->type, arr + i * ch->type->size);
  }
}

void fx_msg_set_defaults(struct fx_msg *m) {
  const struct fx_root *r = m ? fx_model_root(m->type) : NULL;
  if (r && m->type != FX_MSG_SIGNED_MESSAGE)
    defaults(r->type, m);
}
