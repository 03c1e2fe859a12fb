/* write_buf.c — struct fx_buf, the growable byte buffer the writers append
 * to. Kept apart from the XML writer because other modules (signing,
 * HTTP) reuse it for their own output. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

void fx_buf_init(struct fx_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void fx_buf_free(struct fx_buf *b) {
  free(b->data);
  fx_buf_init(b);
}

void fx_buf_reset(struct fx_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = 0;
}

int fx_buf_reserve(struct fx_buf *b, size_t extra) {
  if (extra >= SIZE_MAX - b->len)
    return -1;
  size_t need = b->len + extra + 1; /* room for the NUL */
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int fx_buf_append(struct fx_buf *b, const void *p, size_t n) {
  if (fx_buf_reserve(b, n))
    return -1;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
  return 0;
}
