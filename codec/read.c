/* read.c — the generic SAX2 reader: one libxml2 parser context per
 * fx_reader, reset per document and handed the whole input as one final
 * push chunk, whose callbacks walk the descriptor tables of model.c and
 * fill the message in the reader's arena.
 *
 * Why one push chunk rather than xmlCtxtReadMemory: with nothing left to
 * wait for, the push parser skips its look-ahead checks, and it is spared
 * the pull parser's end-of-input checks at every token of the last 250
 * bytes (a tenth fewer instructions on a 96-ISP payload; docs/codec.md).
 * A document that is not well-formed is read again by the pull parser,
 * whose error texts are the reference (parse).
 *
 * Why SAX and a reused context: building a DOM (and validating it with
 * libxml2's XSD engine) costs several times more; a reused context keeps
 * libxml2's buffers and dictionary warm. libexpat was measured as the
 * tokenizer instead (docs/codec.md): it alone costs more than this whole
 * reader, so libxml2 stays.
 *
 * A SignedMessage's Body (nearly all of an envelope) is decoded from the
 * raw bytes when it is plain base64, and libxml2 parses the envelope with
 * the value cut out (body_fast_path); anything unusual takes the ordinary
 * path, whose results are the reference.
 *
 * Hostile input: no DTD is accepted (the pre-pass and the internalSubset
 * callback both refuse it), no entity is ever declared so none can expand,
 * XML_PARSE_NONET forbids network access and nothing loads external
 * resources; depth, attributes, attribute length, elements, input size and
 * arena memory are bounded by struct fx_limits. The first error stops the
 * parser (xmlStopParser), so a failing document costs no more than its
 * prefix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "codec/b64.h"
#include "codec/model.h"
#include "codec/types.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define BODY_KEEP (1u << 20) /* decoded Body bytes kept between envelopes */

struct frame {
  const struct fx_type *type;
  void *obj;
  const char *name;
  uint32_t index; /* 1-based among siblings of the same name; 0 for the root */
  uint32_t pos;   /* current child kind in the sequence */
  uint32_t count[FX_MAX_CHILDREN];
  uint32_t cap[FX_MAX_CHILDREN];
};

enum { MODE_MSG, MODE_SIGNED };

/* A required child missing when a later sibling arrives: missing, or only
 * misplaced? A stream cannot tell yet, so the reader skips ahead to the end
 * of the parent. If the required element turns up after all, the error
 * names the element that came too early ("FlexSettlement/ContractSettlement[1]");
 * if the parent ends without it, the element that is missing
 * ("FlexSettlement/FlexOrderSettlement"). Nothing is built meanwhile. */
struct pending {
  bool on;
  uint32_t level; /* elements open inside the parent while skipping */
  const char *missing;
  char where_at[128], where_missing[128];
  char why[160];
};

/* libxml2 hands over element and attribute names interned in the parser's
 * dictionary, so one name is always the same pointer: a (type, name
 * pointer) -> index cache replaces the string compares of the table
 * lookups after the first document. Direct-mapped; a miss just looks the
 * name up again. Only valid for one dictionary (see names_cached). */
#define NAME_CACHE 256 /* h >> 56 below indexes it */
struct name_slot {
  const struct fx_type *type;
  const xmlChar *name;
  int index; /* in type's attrs or children; -1: no such name */
};

/* The envelope's Body, decoded from the raw document before libxml2 runs
 * (body_fast_path): the text (trimmed, as written) and its decoded length,
 * waiting for the attribute callback that libxml2 hands an empty value. */
struct body_fast {
  bool on;
  bool plain; /* letters only: no TAB or LF to turn into spaces */
  const char *text;
  size_t len, raw_len;
  long decoded;
};

struct fx_reader {
  struct fx_limits lim;
  xmlParserCtxtPtr ctxt;
  fx_arena *arena;      /* the reader's own */
  fx_arena *dst;        /* where the current parse allocates (arena or the caller's) */
  struct frame *frames; /* lim.max_depth of them */
  uint32_t depth;
  uint32_t elements;
  int mode;
  void *root; /* struct fx_msg or struct fx_signed, in the arena */
  struct fx_error *err;
  bool failed;
  struct pending pend;
  uint8_t *body;   /* the decoded SignedMessage Body; only fx_read_signed reuses it */
  size_t body_cap;
  struct body_fast fast;
  char *cut; /* the envelope without its Body value (body_fast_path) */
  size_t cut_cap;
  const void *cache_dict; /* the dictionary the name caches belong to */
  struct name_slot attr_cache[NAME_CACHE], child_cache[NAME_CACHE];
};

struct fx_limits fx_limits_default(void) {
  return (struct fx_limits){
      .max_depth = 16,
      .max_attrs = 64,
      .max_attr_len = 64 * 1024,
      .max_elements = 262144,
      .max_input_bytes = 16u << 20,
      .max_arena_bytes = 64u << 20,
  };
}

/* ------------------------------------------------------------- errors */

/* "FlexOffer/OfferOption[2]/ISP[3]" for the open elements, then "@attr". */
static void path(const struct fx_reader *r, const char *attr, char *out, size_t cap) {
  size_t k = 0;
  out[0] = 0;
  for (uint32_t d = 0; d < r->depth && k < cap; d++) {
    const struct frame *f = &r->frames[d];
    int w = d == 0 ? snprintf(out + k, cap - k, "%s", f->name)
                   : snprintf(out + k, cap - k, "/%s[%u]", f->name, f->index);
    k += w > 0 ? (size_t)w : 0;
  }
  if (attr && k < cap)
    snprintf(out + k, cap - k, "@%s", attr);
}

/* The path of the open elements, then "/el" (or "el" at the root). */
static void path_el(const struct fx_reader *r, const char *el, char *out, size_t cap) {
  path(r, NULL, out, cap);
  size_t k = strlen(out);
  snprintf(out + k, cap - k, "%s%s", r->depth ? "/" : "", el);
}

static void fail_at(struct fx_reader *r, int code, const char *where_el, const char *attr, const char *why) {
  if (r->failed)
    return;
  r->failed = true;
  r->err->code = code;
  if (where_el)
    path_el(r, where_el, r->err->where, sizeof r->err->where);
  else
    path(r, attr, r->err->where, sizeof r->err->where);
  snprintf(r->err->why, sizeof r->err->why, "%s", why);
  xmlStopParser(r->ctxt);
}

/* Ends a pending minOccurs error (struct pending): arrived = the missing
 * element did turn up later, so the early one is the culprit. */
static void settle(struct fx_reader *r, bool arrived) {
  r->pend.on = false;
  r->failed = true;
  r->err->code = FX_E_CARDINALITY;
  snprintf(r->err->where, sizeof r->err->where, "%s", arrived ? r->pend.where_at : r->pend.where_missing);
  snprintf(r->err->why, sizeof r->err->why, "%s", r->pend.why);
  xmlStopParser(r->ctxt);
}

static void fail(struct fx_reader *r, int code, const char *attr, const char *why) {
  fail_at(r, code, NULL, attr, why);
}

static void on_xml_error(void *ud, xmlErrorPtr e) {
  struct fx_reader *r = ud;
  if (!e || e->level == XML_ERR_WARNING || r->failed)
    return;
  if (r->pend.on)
    return settle(r, false);
  char why[160];
  snprintf(why, sizeof why, "%s", e->message ? e->message : "not well-formed XML");
  why[strcspn(why, "\n")] = 0;
  int code = e->code == XML_ERR_UNDECLARED_ENTITY || e->code == XML_WAR_UNDECLARED_ENTITY ? FX_E_FORBIDDEN
                                                                                            : FX_E_XML;
  fail(r, code, NULL, why);
}

/* ------------------------------------------------------------ names */

static struct name_slot *name_slot(struct name_slot *cache, const struct fx_type *t, const xmlChar *name) {
  /* Dictionary strings are packed byte-adjacent: mix every bit (Fibonacci
   * hashing) rather than dropping the low ones. */
  uint64_t h = ((uint64_t)(uintptr_t)name ^ (uint64_t)(uintptr_t)t << 7) * UINT64_C(0x9E3779B97F4A7C15);
  return &cache[h >> 56];
}

static int attr_index(struct fx_reader *r, const struct fx_type *t, const xmlChar *name) {
  struct name_slot *s = name_slot(r->attr_cache, t, name);
  if (s->type != t || s->name != name)
    *s = (struct name_slot){t, name, fx_model_attr_index(t, (const char *)name)};
  return s->index;
}

static int child_index(struct fx_reader *r, const struct fx_type *t, const xmlChar *name) {
  struct name_slot *s = name_slot(r->child_cache, t, name);
  if (s->type != t || s->name != name)
    *s = (struct name_slot){t, name, fx_model_child_index(t, (const char *)name)};
  return s->index;
}

/* The caches hold dictionary pointers: forget them when the dictionary is
 * another one (a new parser context). */
static void names_cached(struct fx_reader *r) {
  if (r->cache_dict == r->ctxt->dict)
    return;
  memset(r->attr_cache, 0, sizeof r->attr_cache);
  memset(r->child_cache, 0, sizeof r->child_cache);
  r->cache_dict = r->ctxt->dict;
}

/* ---------------------------------------------------------- elements */

static void *append_child(struct fx_reader *r, struct frame *f, int k) {
  const struct fx_child *c = &f->type->children[k];
  size_t sz = c->type->size;
  void *arr;
  memcpy(&arr, FX_CAT(f->obj, c->arr_off, char), sizeof arr);
  if (f->count[k] == f->cap[k]) {
    uint32_t ncap = f->cap[k] ? f->cap[k] * 2 : (c->max == 1 ? 1 : 8);
    if (!f->cap[k] || !fx_arena_extend(r->dst, arr, (size_t)f->cap[k] * sz, (size_t)ncap * sz)) {
      void *grown = fx_arena_alloc(r->dst, (size_t)ncap * sz);
      if (!grown)
        return NULL;
      if (f->count[k])
        memcpy(grown, arr, (size_t)f->count[k] * sz);
      arr = grown;
      memcpy(FX_AT(f->obj, c->arr_off, char), &arr, sizeof arr);
    }
    f->cap[k] = ncap;
  }
  void *el = (char *)arr + (size_t)f->count[k] * sz;
  f->count[k]++;
  *FX_AT(f->obj, c->cnt_off, size_t) = f->count[k];
  return el;
}

/* Every child kind from `from` to `to` (exclusive) must have met minOccurs.
 * At the end of the parent (next == NULL) the error names the missing
 * element; before a later sibling `at`, it waits (struct pending). */
static bool check_min(struct fx_reader *r, const struct frame *f, uint32_t from, uint32_t to, const char *next,
                      const char *at) {
  for (uint32_t k = from; k < to; k++) {
    const struct fx_child *c = &f->type->children[k];
    if (f->count[k] >= c->min)
      continue;
    char why[160];
    snprintf(why, sizeof why, "minOccurs %u of element %s not met%s%s", c->min, c->name, next ? " before " : "",
             next ? next : "");
    if (!next) {
      fail_at(r, FX_E_CARDINALITY, c->name, NULL, why);
      return false;
    }
    struct pending *p = &r->pend;
    *p = (struct pending){.on = true, .level = 1, .missing = c->name};
    path_el(r, at, p->where_at, sizeof p->where_at);
    path_el(r, c->name, p->where_missing, sizeof p->where_missing);
    snprintf(p->why, sizeof p->why, "%s", why);
    return false;
  }
  return true;
}

/* Skipping ahead for a pending error: a sibling named as the missing
 * element settles it one way, the parent's end the other. */
static void pending_start(struct fx_reader *r, const char *name) {
  if (r->pend.level++ == 0 && !strcmp(name, r->pend.missing))
    settle(r, true);
}

static void pending_end(struct fx_reader *r) {
  if (r->pend.level-- == 0)
    settle(r, false);
}

/* "Name[pos]": formatted only when an element fails (snprintf per element
 * would be a fifth of the reader's own work). */
static const char *elem_at(char *at, size_t cap, const char *name, uint32_t pos) {
  snprintf(at, cap, "%s[%u]", name, pos);
  return at;
}

/* Places a child element in its parent's sequence; returns its frame
 * contents (type, object, index) in *nf, or false after failing. Errors name
 * the element with the position it would have among its same-named
 * siblings (an unknown name fails at its first occurrence: [1]). */
static bool enter_child(struct fx_reader *r, const char *name, struct frame *nf) {
  struct frame *p = &r->frames[r->depth - 1];
  int j = child_index(r, p->type, (const xmlChar *)name);
  char why[160], at[96];
  uint32_t pos = j < 0 ? 1 : p->count[j] + 1;
  if (j < 0) {
    snprintf(why, sizeof why, "unexpected element %s in %s", name, p->type->name);
    fail_at(r, FX_E_ELEMENT, elem_at(at, sizeof at, name, pos), NULL, why);
    return false;
  }
  if ((uint32_t)j < p->pos) {
    snprintf(why, sizeof why, "element %s out of sequence order", name);
    fail_at(r, FX_E_ELEMENT, elem_at(at, sizeof at, name, pos), NULL, why);
    return false;
  }
  if ((uint32_t)j > p->pos && !check_min(r, p, p->pos, (uint32_t)j, name, elem_at(at, sizeof at, name, pos)))
    return false;
  p->pos = (uint32_t)j;
  const struct fx_child *c = &p->type->children[j];
  if (c->max && p->count[j] >= c->max) {
    snprintf(why, sizeof why, "maxOccurs %u of element %s exceeded", c->max, name);
    fail_at(r, FX_E_CARDINALITY, elem_at(at, sizeof at, name, pos), NULL, why);
    return false;
  }
  void *obj = append_child(r, p, j);
  if (!obj) {
    fail(r, FX_E_LIMIT, NULL, "message exceeds the memory limit");
    return false;
  }
  *nf = (struct frame){.type = c->type, .obj = obj, .name = c->name, .index = p->count[j]};
  return true;
}

static bool enter_root(struct fx_reader *r, const char *name, struct frame *nf) {
  enum fx_msg_type t = fx_msg_type_from_name(name);
  bool want_signed = r->mode == MODE_SIGNED;
  if (t == FX_MSG_NONE || (t == FX_MSG_SIGNED_MESSAGE) != want_signed) {
    char why[160];
    snprintf(why, sizeof why, "root element %s is not %s", name,
             want_signed ? "SignedMessage" : "a UFTP 3.1.0 inner message");
    fail_at(r, FX_E_ROOT, name, NULL, why);
    return false;
  }
  size_t size = want_signed ? sizeof(struct fx_signed) : sizeof(struct fx_msg);
  if (!(r->root = fx_arena_alloc(r->dst, size))) {
    fail(r, FX_E_LIMIT, NULL, "message exceeds the memory limit");
    return false;
  }
  if (!want_signed)
    ((struct fx_msg *)r->root)->type = t;
  const struct fx_root *d = fx_model_root(t);
  *nf = (struct frame){.type = d->type, .obj = r->root, .name = d->element};
  return true;
}

static bool ignorable_attr(const xmlChar *uri, const char *name) {
  return !strcmp((const char *)uri, XSI_NS) &&
         (!strcmp(name, "noNamespaceSchemaLocation") || !strcmp(name, "schemaLocation"));
}

/* Without XML_PARSE_NOENT libxml2 hands '&' in an attribute value (from
 * &amp; or &#38;) over as the five characters "&#38;", so that a DOM could
 * re-escape it; no other '&' can reach us (a raw '&' is not well-formed and
 * no entity exists). Turns them back into '&', in the arena. */
static const char *unescape_amp(struct fx_reader *r, const char *v, size_t *len) {
  char *out = fx_arena_alloc(r->dst, *len + 1);
  if (!out)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < *len; i++) {
    out[k++] = v[i];
    if (v[i] == '&' && *len - i >= 5 && !memcmp(v + i, "&#38;", 5))
      i += 4;
  }
  *len = k;
  return out;
}

/* Makes room in r->body for the decoding of n characters (and a NUL). */
static bool body_room(struct fx_reader *r, size_t n) {
  size_t need = fx_b64_decoded_max(n) + 1;
  /* Grow by doubling; give back what one huge Body took, as the arena does. */
  if (need > r->body_cap || (r->body_cap > BODY_KEEP && need <= BODY_KEEP)) {
    size_t want = need > r->body_cap && need < 2 * r->body_cap ? 2 * r->body_cap : need;
    uint8_t *grown = realloc(r->body, want);
    if (!grown)
      return false;
    r->body = grown;
    r->body_cap = want;
  }
  return true;
}

/* Decodes a trimmed Body text [t, t+n) into r->body (decoding is the
 * xs:base64Binary check); lead = bytes of the value before t, so that an
 * error offset counts from the start of the value. Returns the decoded
 * length, or -1 with why filled and *code set. */
static long decode_body(struct fx_reader *r, const char *t, size_t n, size_t lead, char *why, size_t cap,
                        int *code) {
  if (!body_room(r, n)) {
    snprintf(why, cap, "message exceeds the memory limit");
    *code = FX_E_LIMIT;
    return -1;
  }
  struct fx_b64_error e = {0, NULL};
  long k = fx_b64_decode(t, n, r->body, r->body_cap, &e);
  if (k < 0) {
    snprintf(why, cap, "not xs:base64Binary: %s at offset %zu", e.why, e.offset + lead);
    *code = FX_E_VALUE;
    return -1;
  }
  r->body[k] = 0;
  return k;
}

/* Fills the Body fields of s from the trimmed text and the bytes decoded
 * into r->body. raw: the text is as written, not as libxml2 would have
 * delivered it, so TAB and LF become the spaces attribute-value
 * normalisation makes of them (the fast path never takes a CR). */
static int keep_body(struct fx_reader *r, struct fx_signed *s, const char *t, size_t n, long k, bool raw,
                     char *why, size_t cap) {
  char *copy = fx_arena_strndup(r->dst, t, n);
  if (!copy) {
    snprintf(why, cap, "message exceeds the memory limit");
    return FX_E_LIMIT;
  }
  if (raw && (memchr(copy, '\n', n) || memchr(copy, '\t', n)))
    for (size_t i = 0; i < n; i++)
      copy[i] = copy[i] == '\n' || copy[i] == '\t' ? ' ' : copy[i];
  s->body = copy;
  s->body_len = n;
  s->decoded = r->body;
  s->decoded_len = (size_t)k;
  return 0;
}

/* SignedMessage@Body (the only xs:base64Binary of UFTP): decoding is the
 * lexical check, so the Body text is walked once, here (or already, from
 * the raw document, by body_fast_path), and the bytes wait in r->body for
 * fx_sign_open_decoded. bad_offset counts from the start of the value as
 * libxml2 delivers it, leading whitespace included. */
static int read_body(struct fx_reader *r, struct fx_signed *s, const char *v, size_t len, char *why,
                     size_t cap) {
  if (r->fast.on && len == 0) {
    r->fast.on = false;
    return keep_body(r, s, r->fast.text, r->fast.len, r->fast.decoded, !r->fast.plain, why, cap);
  }
  const char *t = v;
  size_t n = len;
  fx_trim(&t, &n);
  int code = 0;
  long k = decode_body(r, t, n, (size_t)(t - v), why, cap, &code);
  return k < 0 ? code : keep_body(r, s, t, n, k, false, why, cap);
}

/* Parses one attribute value into its slot; false after failing. '&' can
 * only reach a value as "&#38;" (see unescape_amp); no number, date, UUID
 * or enumeration contains one, so only strings pay for looking, and other
 * kinds look again only to name the same error as if they had. */
static bool apply_attr(struct fx_reader *r, struct frame *f, const struct fx_attr *a, const char *name,
                       const char *v, size_t len) {
  if (fx_value_int_quick(a, f->obj, v, len))
    return true;
  bool text = a->kind <= FX_K_BASE64;
  if (text && memchr(v, '&', len) && !(v = unescape_amp(r, v, &len))) {
    fail(r, FX_E_LIMIT, name, "message exceeds the memory limit");
    return false;
  }
  char buf[160];
  const char *why = NULL;
  int rc = a->kind == FX_K_BASE64 ? read_body(r, f->obj, v, len, buf, sizeof buf)
                                  : fx_value_parse(a, f->obj, v, len, r->dst, &why);
  if (rc && !text && memchr(v, '&', len)) {
    if (!(v = unescape_amp(r, v, &len))) {
      fail(r, FX_E_LIMIT, name, "message exceeds the memory limit");
      return false;
    }
    rc = fx_value_parse(a, f->obj, v, len, r->dst, &why);
  }
  if (rc)
    fail(r, rc, name, a->kind == FX_K_BASE64 ? buf : why);
  return !rc;
}

/* The Body may be as long as the whole input (and is measured as written,
 * before the fast path cut it out); every other value max_attr_len. */
static bool value_too_long(const struct fx_reader *r, const struct fx_attr *a, size_t len) {
  if (a->kind != FX_K_BASE64)
    return len > r->lim.max_attr_len;
  return (r->fast.on ? r->fast.raw_len : len) > r->lim.max_input_bytes;
}

static void apply_attrs(struct fx_reader *r, struct frame *f, int n, const xmlChar **attrs) {
  uint64_t seen = 0;
  for (int i = 0; i < n; i++) {
    const char *name = (const char *)attrs[5 * i];
    const xmlChar *uri = attrs[5 * i + 2];
    const char *v = (const char *)attrs[5 * i + 3];
    size_t len = (size_t)(attrs[5 * i + 4] - attrs[5 * i + 3]);
    if (uri && ignorable_attr(uri, name))
      continue;
    int k = uri ? -1 : attr_index(r, f->type, attrs[5 * i]);
    if (k < 0) {
      fail(r, FX_E_ATTRIBUTE, name, "unknown attribute");
      return;
    }
    const struct fx_attr *a = &f->type->attrs[k];
    if ((len > r->lim.max_attr_len || a->kind == FX_K_BASE64) && value_too_long(r, a, len)) {
      fail(r, FX_E_LIMIT, name, "attribute value longer than the limit");
      return;
    }
    if (!apply_attr(r, f, a, name, v, len))
      return;
    seen |= UINT64_C(1) << k;
  }
  /* Every attribute there (the common case for ISP elements): nothing is
   * missing and no default applies. */
  if (f->type->n_attrs < 64 && seen == (UINT64_C(1) << f->type->n_attrs) - 1)
    return;
  for (int k = 0; k < f->type->n_attrs && !r->failed; k++) {
    if (seen >> k & 1)
      continue;
    const struct fx_attr *a = &f->type->attrs[k];
    if (a->flags & FX_A_REQUIRED)
      fail(r, FX_E_REQUIRED, a->name, "required attribute missing");
    else
      fx_value_set_default(a, f->obj);
  }
}

static void on_start(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int n_ns,
                     const xmlChar **ns, int n_attrs, int n_defaulted, const xmlChar **attrs) {
  struct fx_reader *r = ud;
  const char *name = (const char *)local;
  if (r->failed)
    return;
  if (r->pend.on)
    return pending_start(r, name);
  if (++r->elements > r->lim.max_elements)
    return fail_at(r, FX_E_LIMIT, name, NULL, "more elements than the limit");
  if (r->depth >= r->lim.max_depth)
    return fail_at(r, FX_E_LIMIT, name, NULL, "elements nested deeper than the limit");
  if (uri)
    return fail_at(r, FX_E_ELEMENT, name, NULL, "element in a namespace (UFTP elements have none)");
  if ((uint32_t)(n_attrs + n_ns) > r->lim.max_attrs)
    return fail_at(r, FX_E_LIMIT, name, NULL, "too many attributes on one element");
  /* Built in place: the new frame is only counted open once it is whole. */
  struct frame *nf = &r->frames[r->depth];
  if (!(r->depth == 0 ? enter_root(r, name, nf) : enter_child(r, name, nf)))
    return;
  r->depth++;
  apply_attrs(r, &r->frames[r->depth - 1], n_attrs, attrs);
}

static void on_end(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri) {
  struct fx_reader *r = ud;
  if (r->failed || r->depth == 0)
    return;
  if (r->pend.on)
    return pending_end(r);
  struct frame *f = &r->frames[r->depth - 1];
  if (f->pos < f->type->n_children && !check_min(r, f, f->pos, f->type->n_children, NULL, NULL))
    return;
  r->depth--;
}

/* Space, tab, LF, CR as bits of one word: the blank runs between elements
 * reach on_text once per element, so the test is one shift per byte. */
#define XML_SPACES (UINT64_C(1) << ' ' | UINT64_C(1) << '\t' | UINT64_C(1) << '\n' | UINT64_C(1) << '\r')

static void on_text(void *ud, const xmlChar *ch, int len) {
  struct fx_reader *r = ud;
  if (r->pend.on || r->failed)
    return;
  for (const xmlChar *end = ch + len; ch < end; ch++)
    if (*ch > ' ' || !(XML_SPACES >> *ch & 1))
      return fail(r, FX_E_TEXT, NULL, "character data not allowed here");
}

/* --------------------------------------------------- forbidden constructs */

static void forbid(struct fx_reader *r, const char *why) { fail(r, FX_E_FORBIDDEN, NULL, why); }

static void on_internal_subset(void *ud, const xmlChar *name, const xmlChar *ext, const xmlChar *sys) {
  forbid(ud, "DOCTYPE (DTD) not allowed");
}
static void on_entity_decl(void *ud, const xmlChar *name, int type, const xmlChar *pub, const xmlChar *sys,
                           xmlChar *content) {
  forbid(ud, "entity declaration not allowed");
}
static xmlEntityPtr on_get_entity(void *ud, const xmlChar *name) {
  forbid(ud, "entity reference not allowed");
  return NULL;
}
static xmlEntityPtr on_get_param_entity(void *ud, const xmlChar *name) {
  forbid(ud, "parameter entity not allowed");
  return NULL;
}
static void on_reference(void *ud, const xmlChar *name) { forbid(ud, "entity reference not allowed"); }
static xmlParserInputPtr on_resolve_entity(void *ud, const xmlChar *pub, const xmlChar *sys) {
  forbid(ud, "external entity not allowed");
  return NULL;
}

static void init_sax(xmlSAXHandler *h) {
  memset(h, 0, sizeof *h);
  h->initialized = XML_SAX2_MAGIC;
  h->startElementNs = on_start;
  h->endElementNs = on_end;
  h->characters = on_text;
  h->cdataBlock = on_text;
  h->ignorableWhitespace = on_text;
  h->internalSubset = on_internal_subset;
  h->externalSubset = on_internal_subset;
  h->entityDecl = on_entity_decl;
  h->getEntity = on_get_entity;
  h->getParameterEntity = on_get_param_entity;
  h->reference = on_reference;
  h->resolveEntity = on_resolve_entity;
  h->serror = on_xml_error;
}

/* ---------------------------------------------------------------- API */

enum { PARSE_OPTIONS = XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR };
#define MAX_DICT_NAMES 4096 /* UFTP has about 150 names; beyond this, start afresh */

/* A pull-parser context with our SAX handler in place of libxml2's
 * tree builder: nothing but our callbacks ever runs. */
static int new_ctxt(fx_reader *r) {
  if (r->ctxt)
    xmlFreeParserCtxt(r->ctxt);
  if (!(r->ctxt = xmlNewParserCtxt()))
    return -1;
  init_sax(r->ctxt->sax);
  r->ctxt->userData = r;
  return 0;
}

fx_reader *fx_reader_new(const struct fx_limits *limits) {
  fx_reader *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->lim = limits ? *limits : fx_limits_default();
  if (r->lim.max_depth == 0)
    r->lim.max_depth = 1;
  xmlInitParser();
  r->frames = calloc(r->lim.max_depth, sizeof *r->frames);
  r->arena = fx_arena_new(r->lim.max_arena_bytes);
  if (!r->frames || !r->arena || new_ctxt(r)) {
    fx_reader_free(r);
    return NULL;
  }
  return r;
}

void fx_reader_free(fx_reader *r) {
  if (!r)
    return;
  if (r->ctxt)
    xmlFreeParserCtxt(r->ctxt);
  fx_arena_free(r->arena);
  free(r->frames);
  free(r->body);
  free(r->cut);
  free(r);
}

/* Is the document surely read as UTF-8 (or ASCII), so that its bytes mean
 * the same to libxml2 and to a byte scan? It must start with '<' (after an
 * optional UTF-8 BOM) and not look like UTF-16 or UCS-4 ("<\0"), and an
 * encoding declaration, if any, must say UTF-8 (UTF-7, for one, would give
 * '+' in a Body another meaning). */
static bool plainly_utf8(const char *x, size_t n) {
  if (n >= 3 && !memcmp(x, "\xEF\xBB\xBF", 3))
    x += 3, n -= 3;
  if (n < 2 || x[0] != '<' || x[1] == 0)
    return false;
  if (n < 6 || memcmp(x, "<?xml", 5) || !strchr(" \t\r\n", x[5]))
    return true;
  const char *end = memchr(x, '>', n);
  size_t k = end ? (size_t)(end - x) : n;
  for (size_t i = 5; i + 8 <= k; i++) {
    if (memcmp(x + i, "encoding", 8))
      continue;
    for (i += 8; i < k && (strchr(" \t\r\n=", x[i])); i++)
      ;
    return i + 6 < k && (x[i] == '"' || x[i] == '\'') && !strncasecmp(x + i + 1, "UTF-8", 5) && x[i + 6] == x[i];
  }
  return true;
}

/* The Body of a SignedMessage is nearly all of it, and libxml2 would scan
 * it byte by byte only for the reader to walk it again while decoding. When
 * the value is plain base64 as written (no CR, which end-of-line handling
 * would fold, no character reference, nothing libxml2 would change but TAB
 * and LF into spaces), it is decoded here from the raw bytes and libxml2
 * parses a copy of the envelope with the value cut out; read_body then
 * takes the decoded bytes. Anything else (or a Body that does not decode)
 * leaves the document to the ordinary path, whose errors are the reference.
 * Returns the copy to parse, or NULL for the ordinary path. */
static const char *body_fast_path(fx_reader *r, const char *xml, size_t len, const struct fx_scan_span *sp) {
  if (sp->found != 1 || !plainly_utf8(xml, len))
    return NULL;
  const char *t = xml + sp->off;
  size_t n = sp->len;
  /* What peers send: letters only, so no whitespace to trim or look at. */
  long k = body_room(r, n) ? fx_b64_decode_plain(t, n, r->body, r->body_cap) : -1;
  bool plain = k >= 0;
  if (plain) {
    r->body[k] = 0;
  } else {
    if (memchr(t, '\r', n))
      return NULL;
    fx_trim(&t, &n);
    char why[160];
    int code;
    if ((k = decode_body(r, t, n, 0, why, sizeof why, &code)) < 0)
      return NULL;
  }
  size_t need = len - sp->len + 1;
  if (need > r->cut_cap || (r->cut_cap > BODY_KEEP && need <= BODY_KEEP)) {
    char *grown = realloc(r->cut, need);
    if (!grown)
      return NULL;
    r->cut = grown;
    r->cut_cap = need;
  }
  memcpy(r->cut, xml, sp->off);
  memcpy(r->cut + sp->off, xml + sp->off + sp->len, len - sp->off - sp->len);
  r->fast = (struct body_fast){.on = true, .plain = plain, .text = t, .len = n, .raw_len = sp->len, .decoded = k};
  return r->cut;
}

/* One run of libxml2 over the document, from a clean per-document state:
 * pushed as one final chunk (the fast way), or pulled (xmlCtxtReadMemory).
 * No document is built, as the handler has no tree callbacks. Returns
 * false when the context could not be reset (no error is set then). */
static bool run_libxml2(fx_reader *r, const char *xml, size_t len, bool pull) {
  memset(r->err, 0, sizeof *r->err);
  r->failed = false;
  r->pend.on = false;
  r->depth = 0;
  r->elements = 0;
  r->root = NULL;
  if (pull) {
    /* The push parser leaves this set and xmlCtxtReset does not clear it;
     * it would keep the pull parser from reading (and, for a declared
     * encoding, converting) its input beyond the first chunk. */
    r->ctxt->progressive = 0;
    xmlDocPtr doc = xmlCtxtReadMemory(r->ctxt, xml, (int)len, NULL, NULL, PARSE_OPTIONS);
    if (doc)
      xmlFreeDoc(doc);
  } else {
    /* The whole document is the first chunk, then the input ends: one
     * pass, nothing waits for more. */
    if (xmlCtxtResetPush(r->ctxt, xml, (int)len, NULL, NULL) || xmlCtxtUseOptions(r->ctxt, PARSE_OPTIONS))
      return false;
    xmlParseChunk(r->ctxt, NULL, 0, 1);
    if (r->ctxt->myDoc) {
      xmlFreeDoc(r->ctxt->myDoc);
      r->ctxt->myDoc = NULL;
    }
  }
  r->fast.on = false;
  if (r->pend.on)
    settle(r, false);
  if (!r->failed && (!r->ctxt->wellFormed || !r->root))
    fail(r, FX_E_XML, NULL, r->root ? "not well-formed XML" : "no root element");
  return true;
}

static int parse(fx_reader *r, fx_arena *dst, int mode, const char *xml, size_t len, struct fx_error *err) {
  struct fx_error scratch;
  r->err = err ? err : &scratch;
  memset(r->err, 0, sizeof *r->err);
  r->fast.on = false;
  r->mode = mode;
  if (dst) {
    r->dst = dst;
  } else {
    fx_arena_reset(r->arena);
    r->dst = r->arena;
  }
  const char *why = NULL;
  struct fx_scan_span body;
  int rc;
  if (!xml || len > r->lim.max_input_bytes || len > INT32_MAX)
    rc = FX_E_LIMIT, why = xml ? "input larger than the limit" : "no input";
  else
    rc = fx_scan_prepass(xml, len, r->lim.max_attrs,
                         mode == MODE_SIGNED ? r->lim.max_input_bytes : r->lim.max_attr_len,
                         mode == MODE_SIGNED ? &body : NULL, &why);
  if (rc) {
    fx_error_set(r->err, rc, "", why);
    return -1;
  }
  /* libxml2's dictionary keeps every name it has seen: a stream of
   * documents with ever new (invalid) names must not grow it for ever. */
  if (xmlDictSize(r->ctxt->dict) > MAX_DICT_NAMES && new_ctxt(r)) {
    fx_error_set(r->err, FX_E_NOMEM, "", "cannot reset the XML parser");
    return -1;
  }
  const char *cut = mode == MODE_SIGNED ? body_fast_path(r, xml, len, &body) : NULL;
  if (cut)
    len -= body.len, xml = cut;
  names_cached(r);
  struct body_fast fast = r->fast;
  if (!run_libxml2(r, xml, len, false)) {
    fx_error_set(r->err, FX_E_NOMEM, "", "cannot reset the XML parser");
    return -1;
  }
  /* A document that is not well-formed gets the same verdict from both
   * ways of running libxml2, but the push parser words some of its errors
   * differently (a truncated document is "Extra content at the end of the
   * document" to it, "Premature end of data in tag X" to the pull parser).
   * The pull parser's words are the reference, and the better ones: run it
   * again, into the reader's own arena (the result is an error anyway). */
  if (r->failed && r->err->code == FX_E_XML) {
    fx_arena_reset(r->arena);
    r->dst = r->arena;
    r->fast = fast;
    run_libxml2(r, xml, len, true);
  }
  return r->failed ? -1 : 0;
}

int fx_read_msg(fx_reader *r, const char *xml, size_t len, const struct fx_msg **out, struct fx_error *err) {
  return fx_read_msg_arena(r, NULL, xml, len, out, err);
}

int fx_read_msg_arena(fx_reader *r, fx_arena *dst, const char *xml, size_t len, const struct fx_msg **out,
                      struct fx_error *err) {
  if (parse(r, dst, MODE_MSG, xml, len, err))
    return -1;
  *out = r->root;
  return 0;
}

int fx_read_signed(fx_reader *r, const char *xml, size_t len, struct fx_signed *out, struct fx_error *err) {
  if (parse(r, NULL, MODE_SIGNED, xml, len, err))
    return -1;
  *out = *(const struct fx_signed *)r->root;
  return 0;
}
