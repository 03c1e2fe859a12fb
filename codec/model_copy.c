/* model_copy.c — a deep copy of a message into an arena, over the
 * descriptor tables.
 *
 * The market keeps the requests and offers it trades on beyond the life of
 * the inbound job's arena. Writing the message out and reading it back costs
 * a full parse (for a 96-ISP FlexOffer several times a crypto_sign_open's
 * worth of the sequencer's single thread); the tables already say where every
 * string and array lives, so the copy is a memcpy per element plus one per
 * string. */
#include <string.h>

#include "codec/model.h"

static bool is_string_kind(uint8_t k) { return k <= FX_K_BASE64; }

static int copy_elem(fx_arena *a, const struct fx_type *t, void *dst, const void *src);

static int copy_array(fx_arena *a, const struct fx_child *ch, void *dst, const void *src) {
  size_t n = *FX_CAT(src, ch->cnt_off, size_t);
  const char *from;
  memcpy(&from, FX_CAT(src, ch->arr_off, char), sizeof from);
  char *to = NULL;
  if (n && from) {
    size_t sz = ch->type->size;
    if (n > SIZE_MAX / sz || !(to = fx_arena_alloc(a, n * sz)))
      return -1;
    memcpy(to, from, n * sz);
    for (size_t i = 0; i < n; i++)
      if (copy_elem(a, ch->type, to + i * sz, from + i * sz) != 0)
        return -1;
  }
  memcpy(FX_AT(dst, ch->arr_off, char), &to, sizeof to);
  return 0;
}

/* dst already holds a bytewise copy of src: re-home what it points to. */
static int copy_elem(fx_arena *a, const struct fx_type *t, void *dst, const void *src) {
  for (int i = 0; i < t->n_attrs; i++) {
    const struct fx_attr *at = &t->attrs[i];
    if (!is_string_kind(at->kind))
      continue;
    const char *s = *FX_CAT(src, at->off, fx_cstr);
    const char *d = s ? fx_arena_strdup(a, s) : NULL;
    if (s && !d)
      return -1;
    memcpy(FX_AT(dst, at->off, char), &d, sizeof d);
  }
  for (int k = 0; k < t->n_children; k++)
    if (copy_array(a, &t->children[k], dst, src) != 0)
      return -1;
  return 0;
}

int fx_msg_copy(fx_arena *a, const struct fx_msg *src, const struct fx_msg **out) {
  const struct fx_root *r = src ? fx_model_root(src->type) : NULL;
  *out = NULL;
  if (!r || src->type == FX_MSG_SIGNED_MESSAGE)
    return -1;
  struct fx_msg *m = fx_arena_alloc(a, sizeof *m);
  if (!m)
    return -1;
  memcpy(m, src, sizeof *m);
  if (copy_elem(a, r->type, m, src) != 0)
    return -1;
  *out = m;
  return 0;
}
