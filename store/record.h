/* record.h — the byte layout of every record flexd keeps in LMDB, and the
 * accessors that read one field of a record in place.
 *
 * Records are read straight from LMDB's memory map, so their layout IS the
 * file format. All integers are little-endian; LMDB does not align values, so
 * every multi-byte field is loaded with memcpy (compilers turn that into one
 * load). Keys are big-endian where they must sort numerically. Strings kept in
 * a record or key are stored with a trailing NUL (not counted in their length)
 * so a reader can use them as C strings where they lie.
 *
 * Every value starts with the same 4 bytes:
 *   0  2  magic "FX"
 *   2  1  record format version (FX_REC_FORMAT)
 *   3  1  tag: 'M' message, 'O' market object, 'R' reference, 'X' outbox
 * Variable parts are located by (u32 offset, u32 length) pairs in the fixed
 * header; views are checked once (offsets inside the value) when a getter or
 * iterator hands them out, so the accessors below need no checks.
 *
 * messages   key: domain NUL msgid[16]
 *   4 u16 type   6 u16 flags   8 u64 seq   16 i64 recv_us   24 digest[32]
 *   56 u32 raw_off  60 u32 raw_len   64.. raw SignedMessage bytes
 * journal    key: u64 seq (big-endian)       value: the messages key
 * objects    key: cp NUL  u32 period^0x80000000 (BE)  u8 kind  id[16]
 *   4 u8 kind  5 u8 state  6 u16 flags  8 u32 revision  12 u32 reserved
 *   16 i64 created_us  24 i64 updated_us  32 ref[16]
 *   48 u32 owner_off 52 u32 owner_len 56 u32 body_off 60 u32 body_len  64..
 * reference  key: u8 kind  k1 NUL  k2 NUL
 *   4 u8 kind  5 u8 role  6 u16 flags  8 i32 from  12 i32 to  16 i64 t_us
 *   24 u32 owner_off 28 u32 owner_len 32 u32 body_off 36 u32 body_len  40..
 * outbox     key: u64 id (big-endian)
 *   4 u8 state  5 u8 role  6 u16 type  8 u32 attempts  12 u32 reserved
 *   16 i64 created_us  24 i64 next_us  32 i64 done_us
 *   40 u32 dom_off 44 u32 dom_len  48 u32 body_off 52 u32 body_len  56..
 * due        key: u64 next_us^2^63 (BE)  u64 id (BE)    value: empty
 * counters   key: name                      value: u64
 * meta       key: "layout"                  value: u32 store layout version
 */
#ifndef FX_STORE_RECORD_H
#define FX_STORE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FX_REC_FORMAT 1u
#define FX_STORE_KEY_MAX 511 /* LMDB's default maximum key size */

#define FX_REC_MSG_HDR 64u
#define FX_REC_OBJ_HDR 64u
#define FX_REC_REF_HDR 40u
#define FX_REC_OUT_HDR 56u

/* Market object kinds. */
enum {
  FX_OBJ_REQUEST = 1, FX_OBJ_OFFER, FX_OBJ_ORDER,
  FX_OBJ_PROGNOSIS, FX_OBJ_METERING, FX_OBJ_SETTLEMENT,
  FX_OBJ_KIND_MAX = FX_OBJ_SETTLEMENT
};
/* States, per kind. 0 is the only state of prognoses and metering. */
enum { FX_STATE_NONE = 0 };
enum { FX_REQ_OPEN = 1, FX_REQ_CLEARED, FX_REQ_SUPERSEDED, FX_REQ_EXPIRED };
enum { FX_OFFER_OPEN = 1, FX_OFFER_ORDERED, FX_OFFER_REVOKED, FX_OFFER_EXPIRED };
enum { FX_ORDER_PLACED = 1, FX_ORDER_ACCEPTED, FX_ORDER_REJECTED, FX_ORDER_EXPIRED };
enum { FX_SETTLE_SENT = 1, FX_SETTLE_ACCEPTED, FX_SETTLE_REJECTED };
#define FX_STATE_MAX 7

/* Reference kinds. */
enum { FX_REF_CP = 1, FX_REF_CONNECTION, FX_REF_PARTICIPANT, FX_REF_KIND_MAX = FX_REF_PARTICIPANT };

/* Outbox row states. */
enum { FX_OUT_PENDING = 1, FX_OUT_DELIVERED, FX_OUT_EXPIRED };

/* Views: where a record lies in the map. Valid until the read txn ends. */
struct fx_store_msg_view { const uint8_t *key, *rec; size_t key_len, rec_len; };
struct fx_store_obj_view { const uint8_t *key, *rec; size_t key_len, rec_len; };
struct fx_store_ref_view { const uint8_t *key, *rec; size_t key_len, rec_len; };
struct fx_store_out_view { const uint8_t *key, *rec; size_t key_len, rec_len; };

/* ---- loaders ----------------------------------------------------------- */

static inline uint16_t fx_ld16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t fx_ld32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}
static inline uint64_t fx_ld64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
static inline uint64_t fx_ld64be(const uint8_t *p) {
  return __builtin_bswap64(fx_ld64(p));
}

/* ---- messages ------------------------------------------------------------ */

static inline const char *fx_store_msg_domain(const struct fx_store_msg_view *v) {
  return (const char *)v->key;
}
static inline const uint8_t *fx_store_msg_id(const struct fx_store_msg_view *v) {
  return v->key + v->key_len - 16;
}
static inline uint16_t fx_store_msg_type(const struct fx_store_msg_view *v) {
  return fx_ld16(v->rec + 4);
}
static inline uint64_t fx_store_msg_seq(const struct fx_store_msg_view *v) {
  return fx_ld64(v->rec + 8);
}
static inline int64_t fx_store_msg_recv_us(const struct fx_store_msg_view *v) {
  return (int64_t)fx_ld64(v->rec + 16);
}
static inline const uint8_t *fx_store_msg_digest(const struct fx_store_msg_view *v) {
  return v->rec + 24;
}
static inline const uint8_t *fx_store_msg_raw(const struct fx_store_msg_view *v, size_t *len) {
  *len = fx_ld32(v->rec + 60);
  return v->rec + fx_ld32(v->rec + 56);
}

/* ---- market objects ------------------------------------------------------ */

static inline const char *fx_store_obj_cp(const struct fx_store_obj_view *v) {
  return (const char *)v->key;
}
static inline int32_t fx_store_obj_period(const struct fx_store_obj_view *v) {
  const uint8_t *p = v->key + v->key_len - 21;
  uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  return (int32_t)(u ^ 0x80000000u);
}
static inline const uint8_t *fx_store_obj_id(const struct fx_store_obj_view *v) {
  return v->key + v->key_len - 16;
}
static inline uint8_t fx_store_obj_kind(const struct fx_store_obj_view *v) { return v->rec[4]; }
static inline uint8_t fx_store_obj_state(const struct fx_store_obj_view *v) { return v->rec[5]; }
static inline uint32_t fx_store_obj_revision(const struct fx_store_obj_view *v) {
  return fx_ld32(v->rec + 8);
}
static inline int64_t fx_store_obj_created_us(const struct fx_store_obj_view *v) {
  return (int64_t)fx_ld64(v->rec + 16);
}
static inline int64_t fx_store_obj_updated_us(const struct fx_store_obj_view *v) {
  return (int64_t)fx_ld64(v->rec + 24);
}
static inline const uint8_t *fx_store_obj_ref(const struct fx_store_obj_view *v) {
  return v->rec + 32;
}
static inline const char *fx_store_obj_owner(const struct fx_store_obj_view *v) {
  return (const char *)v->rec + fx_ld32(v->rec + 48);
}
static inline const uint8_t *fx_store_obj_body(const struct fx_store_obj_view *v, size_t *len) {
  *len = fx_ld32(v->rec + 60);
  return v->rec + fx_ld32(v->rec + 56);
}

/* ---- reference ----------------------------------------------------------- */

static inline uint8_t fx_store_ref_kind(const struct fx_store_ref_view *v) { return v->rec[4]; }
static inline const char *fx_store_ref_k1(const struct fx_store_ref_view *v) {
  return (const char *)v->key + 1;
}
static inline const char *fx_store_ref_k2(const struct fx_store_ref_view *v) {
  return (const char *)v->key + 2 + strlen((const char *)v->key + 1);
}
static inline uint8_t fx_store_ref_role(const struct fx_store_ref_view *v) { return v->rec[5]; }
static inline int32_t fx_store_ref_from(const struct fx_store_ref_view *v) {
  return (int32_t)fx_ld32(v->rec + 8);
}
static inline int32_t fx_store_ref_to(const struct fx_store_ref_view *v) {
  return (int32_t)fx_ld32(v->rec + 12);
}
static inline int64_t fx_store_ref_t_us(const struct fx_store_ref_view *v) {
  return (int64_t)fx_ld64(v->rec + 16);
}
static inline const char *fx_store_ref_owner(const struct fx_store_ref_view *v) {
  return (const char *)v->rec + fx_ld32(v->rec + 24);
}
static inline const uint8_t *fx_store_ref_body(const struct fx_store_ref_view *v, size_t *len) {
  *len = fx_ld32(v->rec + 36);
  return v->rec + fx_ld32(v->rec + 32);
}

/* ---- outbox -------------------------------------------------------------- */

static inline uint64_t fx_store_out_id(const struct fx_store_out_view *v) {
  return fx_ld64be(v->key);
}
static inline uint8_t fx_store_out_state(const struct fx_store_out_view *v) { return v->rec[4]; }
static inline uint8_t fx_store_out_role(const struct fx_store_out_view *v) { return v->rec[5]; }
static inline uint16_t fx_store_out_type(const struct fx_store_out_view *v) {
  return fx_ld16(v->rec + 6);
}
static inline uint32_t fx_store_out_attempts(const struct fx_store_out_view *v) {
  return fx_ld32(v->rec + 8);
}
static inline int64_t fx_store_out_created_us(const struct fx_store_out_view *v) {
  return (int64_t)fx_ld64(v->rec + 16);
}
static inline int64_t fx_store_out_next_us(const struct fx_store_out_view *v) {
  return (int64_t)fx_ld64(v->rec + 24);
}
static inline int64_t fx_store_out_done_us(const struct fx_store_out_view *v) {
  return (int64_t)fx_ld64(v->rec + 32);
}
static inline const char *fx_store_out_domain(const struct fx_store_out_view *v) {
  return (const char *)v->rec + fx_ld32(v->rec + 40);
}
static inline const uint8_t *fx_store_out_body(const struct fx_store_out_view *v, size_t *len) {
  *len = fx_ld32(v->rec + 52);
  return v->rec + fx_ld32(v->rec + 48);
}

#endif
