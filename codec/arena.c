/* arena.c — the bump allocator that owns everything a decoded message
 * points to, so a message is freed (or forgotten on the reader's next read)
 * in one step and the hot path does no per-node malloc.
 *
 * Blocks are chained; a reset keeps one block sized to what the previous
 * message needed (up to KEEP_MAX), so steady-state reads allocate nothing.
 * The cap bounds the bytes of all live blocks: hostile input can make a read
 * fail, never make the process grow without bound. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/model.h"

#define ALIGN alignof(max_align_t)
#define FIRST_BLOCK 16384
#define KEEP_MAX (1u << 20)

struct block {
  struct block *next;
  size_t cap;
  size_t used;
  alignas(max_align_t) unsigned char data[];
};

struct fx_arena {
  struct block *head; /* current block; older ones follow */
  size_t max_bytes;   /* 0 = no cap */
  size_t held;        /* bytes of all blocks */
  size_t used;        /* bytes handed out */
};

static struct block *block_new(fx_arena *a, size_t cap) {
  if (a->max_bytes && (cap > a->max_bytes || a->held > a->max_bytes - cap))
    return NULL;
  struct block *b = malloc(sizeof *b + cap);
  if (!b)
    return NULL;
  b->cap = cap;
  b->used = 0;
  b->next = a->head;
  a->head = b;
  a->held += cap;
  return b;
}

fx_arena *fx_arena_new(size_t max_bytes) {
  fx_arena *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  a->max_bytes = max_bytes;
  size_t first = max_bytes && max_bytes < FIRST_BLOCK ? max_bytes : FIRST_BLOCK;
  if (!block_new(a, first)) {
    free(a);
    return NULL;
  }
  return a;
}

static void free_chain(struct block *b) {
  while (b) {
    struct block *next = b->next;
    free(b);
    b = next;
  }
}

void fx_arena_free(fx_arena *a) {
  if (!a)
    return;
  free_chain(a->head);
  free(a);
}

void fx_arena_reset(fx_arena *a) {
  if (!a->head->next) {
    a->head->used = 0;
    a->used = 0;
    return;
  }
  /* Several blocks: replace them by one that fits the whole last message. */
  size_t want = a->held < KEEP_MAX ? a->held : KEEP_MAX;
  free_chain(a->head);
  a->head = NULL;
  a->held = 0;
  a->used = 0;
  if (!block_new(a, want))
    block_new(a, FIRST_BLOCK < want ? FIRST_BLOCK : want);
}

/* Uninitialised memory: strings are copied over it at once. */
static void *alloc_raw(fx_arena *a, size_t size) {
  size_t need = (size + ALIGN - 1) & ~(ALIGN - 1);
  if (need < size)
    return NULL;
  struct block *b = a->head;
  if (!b || b->cap - b->used < need) {
    size_t cap = b ? b->cap * 2 : FIRST_BLOCK;
    if (cap < need)
      cap = need;
    if (a->max_bytes && cap > a->max_bytes - a->held && need <= a->max_bytes - a->held)
      cap = a->max_bytes - a->held; /* last block: whatever the cap leaves */
    if (!(b = block_new(a, cap)))
      return NULL;
  }
  void *p = b->data + b->used;
  b->used += need;
  a->used += need;
  return p;
}

void *fx_arena_alloc(fx_arena *a, size_t size) {
  void *p = alloc_raw(a, size);
  if (p)
    memset(p, 0, size);
  return p;
}

bool fx_arena_extend(fx_arena *a, void *p, size_t size, size_t new_size) {
  struct block *b = a->head;
  size_t had = (size + ALIGN - 1) & ~(ALIGN - 1), need = (new_size + ALIGN - 1) & ~(ALIGN - 1);
  if (!b || need < new_size || need < had || (unsigned char *)p + had != b->data + b->used ||
      b->cap - b->used < need - had)
    return false;
  memset((unsigned char *)p + size, 0, new_size - size);
  b->used += need - had;
  a->used += need - had;
  return true;
}

char *fx_arena_strndup(fx_arena *a, const char *s, size_t n) {
  char *p = n + 1 ? alloc_raw(a, n + 1) : NULL;
  if (!p)
    return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *fx_arena_strdup(fx_arena *a, const char *s) { return fx_arena_strndup(a, s, strlen(s)); }

size_t fx_arena_used(const fx_arena *a) { return a->used; }
