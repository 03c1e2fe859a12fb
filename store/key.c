/* key.c — how store/ turns domains, markets and ids into LMDB keys, and the
 * one check a record passes before a view of it is handed out.
 *
 * Keys are designed for the scans flexd needs: a message is one exact lookup
 * (domain NUL msgid); a market's objects share the prefix (cp NUL period) and
 * a kind within it the prefix (cp NUL period kind); integers that must sort
 * numerically are big-endian, signed ones with the sign bit flipped. Layouts
 * are documented in record.h. */
#include <string.h>

#include "store/store_int.h"

/* Appends s and its NUL at `at`; 0 if s is longer than max_len or the key
 * would pass LMDB's limit. */
static size_t put_str(uint8_t *buf, size_t at, const char *s, size_t max_len) {
  size_t n = strlen(s);
  if (n > max_len || at + n + 1 > FX_STORE_KEY_MAX) return 0;
  memcpy(buf + at, s, n + 1);
  return at + n + 1;
}

size_t fx_key_msg(uint8_t *buf, const char *domain, const uint8_t msgid[16]) {
  if (!domain || !*domain || !msgid) return 0;
  size_t at = put_str(buf, 0, domain, 253);
  if (!at) return 0;
  memcpy(buf + at, msgid, 16);
  return at + 16;
}

size_t fx_key_obj_market(uint8_t *buf, const char *cp, int32_t period, uint8_t kind) {
  if (!cp) return 0;
  size_t at = put_str(buf, 0, cp, 255);
  if (!at) return 0;
  fx_st32be(buf + at, (uint32_t)period ^ 0x80000000u);
  at += 4;
  if (kind) buf[at++] = kind;
  return at;
}

size_t fx_key_obj(uint8_t *buf, const struct fx_store_obj_key *k) {
  if (!k->kind || k->kind > FX_OBJ_KIND_MAX) return 0;
  size_t at = fx_key_obj_market(buf, k->cp, k->period, k->kind);
  if (!at) return 0;
  memcpy(buf + at, k->id, 16);
  return at + 16;
}

size_t fx_key_ref(uint8_t *buf, uint8_t kind, const char *k1, const char *k2) {
  if (!kind || kind > FX_REF_KIND_MAX || !k1 || !*k1) return 0;
  buf[0] = kind;
  size_t at = put_str(buf, 1, k1, 254);
  if (!at) return 0;
  return put_str(buf, at, k2 ? k2 : "", 254);
}

void fx_key_due(uint8_t buf[16], int64_t next_us, uint64_t id) {
  fx_st64be(buf, (uint64_t)next_us ^ 0x8000000000000000u);
  fx_st64be(buf + 8, id);
}

/* A variable part (offset/length pair at `at`) lies inside the record; a
 * string part also has its NUL there. */
static int part_ok(const uint8_t *p, size_t len, size_t at, int is_str) {
  uint64_t off = fx_ld32(p + at), n = fx_ld32(p + at + 4);
  if (off + n + (uint64_t)is_str > len) return 0;
  return !is_str || p[off + n] == 0;
}

int fx_rec_check(const MDB_val *v, char tag) {
  const uint8_t *p = v->mv_data;
  size_t len = v->mv_size;
  if (len < 4 || p[0] != 'F' || p[1] != 'X' || p[2] != FX_REC_FORMAT || p[3] != (uint8_t)tag)
    return 0;
  switch (tag) {
  case 'M': return len >= FX_REC_MSG_HDR && part_ok(p, len, 56, 0);
  case 'O': return len >= FX_REC_OBJ_HDR && part_ok(p, len, 48, 1) && part_ok(p, len, 56, 0);
  case 'R': return len >= FX_REC_REF_HDR && part_ok(p, len, 24, 1) && part_ok(p, len, 32, 0);
  case 'X': return len >= FX_REC_OUT_HDR && part_ok(p, len, 40, 1) && part_ok(p, len, 48, 0);
  default: return 0;
  }
}
