/* test_store.c — the durable store table by table: journal, market objects
 * and their state machines, reference data, outbox and its due index,
 * counters, all-or-nothing batches, and the documented record layout. Every
 * test runs against real LMDB files in a fresh temporary directory. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char dir[64];
static struct fx_store *st;
static struct fx_store_read rd;

static void quiet(void *ud, const char *msg) { (void)ud; (void)msg; }

static void rm_store(const char *d) {
  char p[128];
  snprintf(p, sizeof p, "%s/data.mdb", d);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", d);
  unlink(p);
  rmdir(d);
}

static void open_store(void) {
  struct fx_store_opts o = {.path = dir, .log = quiet};
  int rc = fx_store_open(&st, &o);
  cr_assert_eq(rc, 0, "open: %s", fx_store_strerror(rc));
  fx_store_read_init(&rd, st);
}

static void close_store(void) {
  fx_store_read_free(&rd);
  fx_store_close(st);
  st = NULL;
}

static void setup(void) {
  strcpy(dir, "/tmp/fxstore-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  open_store();
}

static void teardown(void) {
  if (st) close_store();
  rm_store(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

static void mkid(uint8_t id[16], uint64_t a, uint64_t b) {
  memcpy(id, &a, 8);
  memcpy(id + 8, &b, 8);
}

static struct fx_store_msg msg(const char *domain, const uint8_t *id, const uint8_t *digest,
                               const char *raw) {
  return (struct fx_store_msg){.domain = domain, .msgid = id, .digest = digest, .type = 7,
                               .recv_us = 1700000000000000, .raw = raw,
                               .raw_len = strlen(raw)};
}

static void commit_ok(struct fx_store_batch *b) {
  int rc = fx_store_commit(st, b);
  cr_assert_eq(rc, 0, "commit: %s", fx_store_strerror(rc));
  fx_store_batch_reset(b);
}

/* ---- journal ---------------------------------------------------------------- */

Test(store, message_put_then_read_in_place) {
  struct fx_store_batch b;
  struct fx_store_msg_result res;
  uint8_t id[16], dg[32];
  mkid(id, 1, 2);
  memset(dg, 0xab, 32);
  fx_store_batch_init(&b);
  struct fx_store_msg m = msg("agr.example.com", id, dg, "<SignedMessage/>");
  cr_assert_eq(fx_store_batch_put_msg(&b, &m, &res), 0);
  commit_ok(&b);
  cr_assert_eq(res.status, FX_STORE_MSG_NEW);
  cr_assert_eq(res.seq, 1);

  struct fx_store_msg_view v, v2;
  size_t n;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_msg_get(&rd, "agr.example.com", id, &v), 0);
  cr_assert_str_eq(fx_store_msg_domain(&v), "agr.example.com");
  cr_assert_arr_eq(fx_store_msg_id(&v), id, 16);
  cr_assert_eq(fx_store_msg_type(&v), 7);
  cr_assert_eq(fx_store_msg_seq(&v), 1);
  cr_assert_eq(fx_store_msg_recv_us(&v), 1700000000000000);
  cr_assert_arr_eq(fx_store_msg_digest(&v), dg, 32);
  const uint8_t *raw = fx_store_msg_raw(&v, &n);
  cr_assert_eq(n, strlen("<SignedMessage/>"));
  cr_assert_arr_eq(raw, "<SignedMessage/>", n);
  /* In place: a second lookup yields the very same bytes of the map. */
  cr_assert_eq(fx_store_msg_get(&rd, "agr.example.com", id, &v2), 0);
  cr_assert_eq(v2.rec, v.rec);
  cr_assert_eq(fx_store_msg_get(&rd, "dso.example.com", id, &v2), FX_STORE_ENOTFOUND);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, message_record_layout_matches_documentation) {
  struct fx_store_batch b;
  uint8_t id[16], dg[32];
  mkid(id, 9, 9);
  memset(dg, 0x5a, 32);
  fx_store_batch_init(&b);
  struct fx_store_msg m = msg("a.example.com", id, dg, "xyz");
  m.type = 0x0102;
  m.recv_us = 0x1122334455667788;
  fx_store_batch_put_msg(&b, &m, NULL);
  commit_ok(&b);
  struct fx_store_msg_view v;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_msg_get(&rd, "a.example.com", id, &v), 0);
  const uint8_t *r = v.rec;
  cr_assert_eq(v.rec_len, 64 + 3);
  cr_assert_arr_eq(r, "FX\x01M", 4);
  cr_assert_eq(r[4], 0x02); /* type, little-endian */
  cr_assert_eq(r[5], 0x01);
  cr_assert_eq(r[8], 1); /* seq 1, little-endian */
  cr_assert_eq(r[16], 0x88);
  cr_assert_eq(r[23], 0x11);
  cr_assert_arr_eq(r + 24, dg, 32);
  cr_assert_eq(r[56], 64);
  cr_assert_eq(r[60], 3);
  cr_assert_arr_eq(r + 64, "xyz", 3);
  cr_assert_eq(v.key_len, strlen("a.example.com") + 1 + 16);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, same_key_same_digest_is_already_submitted) {
  struct fx_store_batch b;
  struct fx_store_msg_result r1, r2;
  uint8_t id[16], dg[32];
  mkid(id, 3, 4);
  memset(dg, 1, 32);
  fx_store_batch_init(&b);
  struct fx_store_msg m = msg("agr.example.com", id, dg, "first");
  fx_store_batch_put_msg(&b, &m, &r1);
  commit_ok(&b);
  struct fx_store_msg again = msg("agr.example.com", id, dg, "first");
  fx_store_batch_put_msg(&b, &again, &r2);
  commit_ok(&b);
  cr_assert_eq(r1.status, FX_STORE_MSG_NEW);
  cr_assert_eq(r2.status, FX_STORE_MSG_SAME);
  cr_assert_eq(r2.seq, r1.seq);
  uint64_t seq;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_counter_get(&rd, "store.seq", &seq), 0);
  cr_assert_eq(seq, 1, "a duplicate must not be journaled again");
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, same_key_other_digest_is_duplicate_identifier) {
  struct fx_store_batch b;
  struct fx_store_msg_result r;
  uint8_t id[16], d1[32], d2[32];
  mkid(id, 5, 6);
  memset(d1, 1, 32);
  memset(d2, 2, 32);
  fx_store_batch_init(&b);
  struct fx_store_msg m1 = msg("agr.example.com", id, d1, "one");
  struct fx_store_msg m2 = msg("agr.example.com", id, d2, "two");
  fx_store_batch_put_msg(&b, &m1, NULL);
  commit_ok(&b);
  fx_store_batch_put_msg(&b, &m2, &r);
  commit_ok(&b);
  cr_assert_eq(r.status, FX_STORE_MSG_CONFLICT);
  cr_assert_arr_eq(r.digest, d1, 32, "the stored digest is reported");
  struct fx_store_msg_view v;
  size_t n;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_msg_get(&rd, "agr.example.com", id, &v), 0);
  cr_assert_arr_eq(fx_store_msg_raw(&v, &n), "one", 3, "the first message is kept");
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, duplicate_within_one_batch_is_detected) {
  struct fx_store_batch b;
  struct fx_store_msg_result r1, r2;
  uint8_t id[16], dg[32];
  mkid(id, 7, 7);
  memset(dg, 3, 32);
  fx_store_batch_init(&b);
  struct fx_store_msg m = msg("agr.example.com", id, dg, "m");
  fx_store_batch_put_msg(&b, &m, &r1);
  fx_store_batch_put_msg(&b, &m, &r2);
  commit_ok(&b);
  cr_assert_eq(r1.status, FX_STORE_MSG_NEW);
  cr_assert_eq(r2.status, FX_STORE_MSG_SAME);
  fx_store_batch_free(&b);
}

Test(store, same_msgid_from_other_sender_is_a_different_message) {
  struct fx_store_batch b;
  struct fx_store_msg_result r1, r2;
  uint8_t id[16], dg[32];
  mkid(id, 8, 8);
  memset(dg, 3, 32);
  fx_store_batch_init(&b);
  struct fx_store_msg m1 = msg("agr1.example.com", id, dg, "m");
  struct fx_store_msg m2 = msg("agr2.example.com", id, dg, "m");
  fx_store_batch_put_msg(&b, &m1, &r1);
  fx_store_batch_put_msg(&b, &m2, &r2);
  commit_ok(&b);
  cr_assert_eq(r1.status, FX_STORE_MSG_NEW);
  cr_assert_eq(r2.status, FX_STORE_MSG_NEW);
  cr_assert_eq(r2.seq, 2);
  fx_store_batch_free(&b);
}

Test(store, journal_replays_in_commit_order_from_a_seq) {
  struct fx_store_batch b;
  uint8_t ids[30][16], dg[32] = {0};
  const char *doms[3] = {"zz.example.com", "aa.example.com", "mm.example.com"};
  fx_store_batch_init(&b);
  struct fx_store_msg ms[30];
  for (int i = 0; i < 30; i++) {
    mkid(ids[i], (uint64_t)rand(), (uint64_t)i);
    ms[i] = msg(doms[i % 3], ids[i], dg, "x");
    fx_store_batch_put_msg(&b, &ms[i], NULL);
    if (i % 10 == 9) commit_ok(&b);
  }
  struct fx_store_iter it;
  struct fx_store_msg_view v;
  int n = 0, rc;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_journal_iter(&rd, 1, &it), 0);
  while ((rc = fx_store_journal_next(&it, &v)) == 1) {
    cr_assert_eq(fx_store_msg_seq(&v), (uint64_t)n + 1);
    cr_assert_arr_eq(fx_store_msg_id(&v), ids[n], 16);
    cr_assert_str_eq(fx_store_msg_domain(&v), doms[n % 3]);
    n++;
  }
  cr_assert_eq(rc, 0);
  cr_assert_eq(n, 30);
  fx_store_iter_close(&it);
  cr_assert_eq(fx_store_journal_iter(&rd, 25, &it), 0);
  cr_assert_eq(fx_store_journal_next(&it, &v), 1);
  cr_assert_eq(fx_store_msg_seq(&v), 25);
  fx_store_iter_close(&it);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

/* ---- market objects --------------------------------------------------------- */

static struct fx_store_obj obj(const char *cp, int32_t period, uint8_t kind, uint64_t n) {
  struct fx_store_obj o = {.key = {.cp = cp, .period = period, .kind = kind},
                           .revision = 1, .t_us = 1000, .owner = "agr.example.com",
                           .body = "body", .body_len = 4};
  mkid(o.key.id, n, 0);
  o.state = kind == FX_OBJ_REQUEST ? FX_REQ_OPEN
          : kind == FX_OBJ_OFFER ? FX_OFFER_OPEN
          : kind == FX_OBJ_ORDER ? FX_ORDER_PLACED
          : kind == FX_OBJ_SETTLEMENT ? FX_SETTLE_SENT : FX_STATE_NONE;
  return o;
}

static uint8_t state_of(const struct fx_store_obj_key *k) {
  struct fx_store_obj_view v;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_obj_get(&rd, k, &v), 0);
  uint8_t s = fx_store_obj_state(&v);
  fx_store_read_end(&rd);
  return s;
}

Test(store, object_put_then_read_in_place) {
  struct fx_store_batch b;
  uint8_t ref[16];
  mkid(ref, 42, 42);
  fx_store_batch_init(&b);
  struct fx_store_obj o = obj("ean.871685900000000001", -3, FX_OBJ_OFFER, 1);
  o.ref = ref;
  o.revision = 4;
  fx_store_batch_put_obj(&b, &o);
  commit_ok(&b);
  struct fx_store_obj_view v;
  size_t n;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_obj_get(&rd, &o.key, &v), 0);
  cr_assert_str_eq(fx_store_obj_cp(&v), "ean.871685900000000001");
  cr_assert_eq(fx_store_obj_period(&v), -3);
  cr_assert_eq(fx_store_obj_kind(&v), FX_OBJ_OFFER);
  cr_assert_arr_eq(fx_store_obj_id(&v), o.key.id, 16);
  cr_assert_eq(fx_store_obj_state(&v), FX_OFFER_OPEN);
  cr_assert_eq(fx_store_obj_revision(&v), 4);
  cr_assert_eq(fx_store_obj_created_us(&v), 1000);
  cr_assert_arr_eq(fx_store_obj_ref(&v), ref, 16);
  cr_assert_str_eq(fx_store_obj_owner(&v), "agr.example.com");
  cr_assert_arr_eq(fx_store_obj_body(&v, &n), "body", 4);
  cr_assert_eq(n, 4);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, one_market_is_one_range_scan) {
  struct fx_store_batch b;
  struct fx_store_obj os[8] = {
      obj("cp-a", 10, FX_OBJ_OFFER, 1),   obj("cp-a", 10, FX_OBJ_REQUEST, 2),
      obj("cp-a", 10, FX_OBJ_ORDER, 3),   obj("cp-a", 11, FX_OBJ_OFFER, 4),
      obj("cp-ab", 10, FX_OBJ_OFFER, 5),  obj("cp-a", 9, FX_OBJ_OFFER, 6),
      obj("cp-b", 10, FX_OBJ_OFFER, 7),   obj("cp-a", 10, FX_OBJ_OFFER, 8)};
  fx_store_batch_init(&b);
  for (int i = 0; i < 8; i++) fx_store_batch_put_obj(&b, &os[i]);
  commit_ok(&b);
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  uint8_t kinds[8];
  int n = 0;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_obj_iter(&rd, "cp-a", 10, 0, &it), 0);
  while (fx_store_obj_next(&it, &v) == 1) {
    cr_assert_str_eq(fx_store_obj_cp(&v), "cp-a");
    cr_assert_eq(fx_store_obj_period(&v), 10);
    kinds[n++] = fx_store_obj_kind(&v);
  }
  fx_store_iter_close(&it);
  cr_assert_eq(n, 4, "cp-a/10 holds 4 objects, got %d", n);
  cr_assert_eq(kinds[0], FX_OBJ_REQUEST);
  cr_assert_eq(kinds[3], FX_OBJ_ORDER);
  n = 0;
  cr_assert_eq(fx_store_obj_iter(&rd, "cp-a", 10, FX_OBJ_OFFER, &it), 0);
  while (fx_store_obj_next(&it, &v) == 1) n++;
  fx_store_iter_close(&it);
  cr_assert_eq(n, 2);
  n = 0;
  cr_assert_eq(fx_store_obj_iter(&rd, NULL, 0, 0, &it), 0);
  int32_t last = INT32_MIN;
  while (fx_store_obj_next(&it, &v) == 1) {
    if (!strcmp(fx_store_obj_cp(&v), "cp-a")) {
      cr_assert_geq(fx_store_obj_period(&v), last, "periods sort numerically");
      last = fx_store_obj_period(&v);
    }
    n++;
  }
  fx_store_iter_close(&it);
  cr_assert_eq(n, 8);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, negative_periods_sort_before_positive) {
  struct fx_store_batch b;
  struct fx_store_obj os[3] = {obj("cp", 1, FX_OBJ_METERING, 1), obj("cp", -1, FX_OBJ_METERING, 2),
                               obj("cp", 0, FX_OBJ_METERING, 3)};
  fx_store_batch_init(&b);
  for (int i = 0; i < 3; i++) fx_store_batch_put_obj(&b, &os[i]);
  commit_ok(&b);
  struct fx_store_iter it;
  struct fx_store_obj_view v;
  int32_t want[3] = {-1, 0, 1};
  int n = 0;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_obj_iter(&rd, NULL, 0, 0, &it), 0);
  while (fx_store_obj_next(&it, &v) == 1) cr_assert_eq(fx_store_obj_period(&v), want[n++]);
  fx_store_iter_close(&it);
  fx_store_read_end(&rd);
  cr_assert_eq(n, 3);
  fx_store_batch_free(&b);
}

Test(store, offer_open_to_ordered) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct fx_store_obj o = obj("cp", 1, FX_OBJ_OFFER, 1);
  fx_store_batch_put_obj(&b, &o);
  commit_ok(&b);
  fx_store_batch_set_state(&b, &o.key, FX_OFFER_ORDERED, 2000);
  commit_ok(&b);
  cr_assert_eq(state_of(&o.key), FX_OFFER_ORDERED);
  struct fx_store_obj_view v;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_obj_get(&rd, &o.key, &v), 0);
  cr_assert_eq(fx_store_obj_updated_us(&v), 2000);
  cr_assert_eq(fx_store_obj_created_us(&v), 1000);
  fx_store_read_end(&rd);
  /* An ordered offer can no longer be revoked. */
  fx_store_batch_set_state(&b, &o.key, FX_OFFER_REVOKED, 3000);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);
  cr_assert_eq(state_of(&o.key), FX_OFFER_ORDERED);
  fx_store_batch_free(&b);
}

Test(store, offer_open_to_revoked_and_not_back) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct fx_store_obj o = obj("cp", 1, FX_OBJ_OFFER, 1);
  fx_store_batch_put_obj(&b, &o);
  fx_store_batch_set_state(&b, &o.key, FX_OFFER_REVOKED, 2000);
  commit_ok(&b);
  cr_assert_eq(state_of(&o.key), FX_OFFER_REVOKED);
  static const uint8_t illegal[] = {FX_OFFER_OPEN, FX_OFFER_ORDERED, FX_OFFER_EXPIRED};
  for (size_t i = 0; i < sizeof illegal; i++) {
    fx_store_batch_set_state(&b, &o.key, illegal[i], 3000);
    cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);
    fx_store_batch_reset(&b);
  }
  cr_assert_eq(state_of(&o.key), FX_OFFER_REVOKED);
  fx_store_batch_free(&b);
}

Test(store, order_placed_to_accepted_or_rejected_once) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct fx_store_obj o1 = obj("cp", 1, FX_OBJ_ORDER, 1), o2 = obj("cp", 1, FX_OBJ_ORDER, 2);
  fx_store_batch_put_obj(&b, &o1);
  fx_store_batch_put_obj(&b, &o2);
  commit_ok(&b);
  fx_store_batch_set_state(&b, &o1.key, FX_ORDER_ACCEPTED, 2);
  fx_store_batch_set_state(&b, &o2.key, FX_ORDER_REJECTED, 2);
  commit_ok(&b);
  cr_assert_eq(state_of(&o1.key), FX_ORDER_ACCEPTED);
  cr_assert_eq(state_of(&o2.key), FX_ORDER_REJECTED);
  fx_store_batch_set_state(&b, &o1.key, FX_ORDER_REJECTED, 3);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);
  fx_store_batch_free(&b);
}

Test(store, transition_table) {
  cr_assert(fx_store_obj_transition_ok(FX_OBJ_OFFER, FX_OFFER_OPEN, FX_OFFER_EXPIRED));
  cr_assert(fx_store_obj_transition_ok(FX_OBJ_REQUEST, FX_REQ_OPEN, FX_REQ_SUPERSEDED));
  cr_assert(fx_store_obj_transition_ok(FX_OBJ_REQUEST, FX_REQ_CLEARED, FX_REQ_SUPERSEDED));
  cr_assert(fx_store_obj_transition_ok(FX_OBJ_SETTLEMENT, FX_SETTLE_SENT, FX_SETTLE_ACCEPTED));
  cr_assert_not(fx_store_obj_transition_ok(FX_OBJ_REQUEST, FX_REQ_EXPIRED, FX_REQ_OPEN));
  cr_assert_not(fx_store_obj_transition_ok(FX_OBJ_PROGNOSIS, FX_STATE_NONE, 1));
  cr_assert_not(fx_store_obj_transition_ok(FX_OBJ_OFFER, FX_OFFER_OPEN, FX_OFFER_OPEN));
  cr_assert_not(fx_store_obj_transition_ok(99, 1, 2));
}

Test(store, object_put_twice_or_in_a_later_state_is_refused) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct fx_store_obj o = obj("cp", 1, FX_OBJ_OFFER, 1);
  fx_store_batch_put_obj(&b, &o);
  commit_ok(&b);
  fx_store_batch_put_obj(&b, &o);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_EEXIST);
  fx_store_batch_reset(&b);
  struct fx_store_obj late = obj("cp", 1, FX_OBJ_OFFER, 2);
  late.state = FX_OFFER_ORDERED;
  fx_store_batch_put_obj(&b, &late);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);
  fx_store_batch_reset(&b);
  struct fx_store_obj_key missing = obj("cp", 1, FX_OBJ_OFFER, 3).key;
  fx_store_batch_set_state(&b, &missing, FX_OFFER_ORDERED, 1);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ENOTFOUND);
  fx_store_batch_free(&b);
}

/* ---- all or nothing ---------------------------------------------------------------- */

Test(store, failing_op_leaves_nothing_of_its_batch) {
  struct fx_store_batch b;
  uint8_t id[16], dg[32] = {0};
  uint64_t oid = 0, seq = 99, out = 99, ctr = 99;
  mkid(id, 1, 1);
  fx_store_batch_init(&b);
  struct fx_store_msg m = msg("agr.example.com", id, dg, "m");
  struct fx_store_obj o = obj("cp", 1, FX_OBJ_OFFER, 1);
  struct fx_store_out ob = {.domain = "agr.example.com", .next_us = 5, .body = "r", .body_len = 1};
  struct fx_store_ref r = {.kind = FX_REF_CP, .k1 = "cp", .owner = "dso.example.com"};
  fx_store_batch_put_msg(&b, &m, NULL);
  fx_store_batch_put_obj(&b, &o);
  fx_store_batch_out_add(&b, &ob, &oid);
  fx_store_batch_put_ref(&b, &r);
  fx_store_batch_counter_raise(&b, "order", 17);
  fx_store_batch_set_state(&b, &o.key, FX_OFFER_OPEN, 1); /* illegal: open -> open */
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);

  struct fx_store_msg_view mv;
  struct fx_store_obj_view ov;
  struct fx_store_ref_view rv;
  struct fx_store_out_view xv;
  struct fx_store_iter it;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_msg_get(&rd, "agr.example.com", id, &mv), FX_STORE_ENOTFOUND);
  cr_assert_eq(fx_store_obj_get(&rd, &o.key, &ov), FX_STORE_ENOTFOUND);
  cr_assert_eq(fx_store_ref_get(&rd, FX_REF_CP, "cp", NULL, &rv), FX_STORE_ENOTFOUND);
  cr_assert_eq(fx_store_out_get(&rd, 1, &xv), FX_STORE_ENOTFOUND);
  cr_assert_eq(fx_store_due_iter(&rd, 100, &it), 0);
  cr_assert_eq(fx_store_due_next(&it, &xv), 0);
  fx_store_iter_close(&it);
  fx_store_counter_get(&rd, "store.seq", &seq);
  fx_store_counter_get(&rd, "store.outbox", &out);
  fx_store_counter_get(&rd, "order", &ctr);
  cr_assert_eq(seq + out + ctr, 0, "counters untouched: %lu %lu %lu",
               (unsigned long)seq, (unsigned long)out, (unsigned long)ctr);
  fx_store_read_end(&rd);
  /* The same batch without the bad op commits. */
  b.n--;
  commit_ok(&b);
  cr_assert_eq(oid, 1);
  fx_store_batch_free(&b);
}

Test(store, invalid_keys_fail_the_batch) {
  struct fx_store_batch b;
  uint8_t id[16] = {0}, dg[32] = {0};
  char long_dom[300];
  memset(long_dom, 'a', sizeof long_dom - 1);
  long_dom[sizeof long_dom - 1] = 0;
  fx_store_batch_init(&b);
  struct fx_store_msg m = msg("", id, dg, "m");
  fx_store_batch_put_msg(&b, &m, NULL);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_EINVAL);
  fx_store_batch_reset(&b);
  m.domain = long_dom;
  fx_store_batch_put_msg(&b, &m, NULL);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_EINVAL);
  fx_store_batch_reset(&b);
  struct fx_store_obj o = obj("cp", 1, 0, 1); /* kind 0 does not exist */
  fx_store_batch_put_obj(&b, &o);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_EINVAL);
  cr_assert_eq(fx_store_batch_counter_raise(&b, "store.seq", 5), FX_STORE_EINVAL);
  fx_store_batch_free(&b);
}

/* ---- reference -------------------------------------------------------------------- */

Test(store, reference_put_get_iterate_replace_delete) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct fx_store_ref cp = {.kind = FX_REF_CP, .k1 = "ean.1", .owner = "dso.example.com",
                            .role = 2, .from = 100, .to = 200, .t_us = 5};
  struct fx_store_ref c1 = {.kind = FX_REF_CONNECTION, .k1 = "ean.1", .k2 = "ean.c1",
                            .owner = "agr1.example.com", .from = 100, .to = 150,
                            .body = "x", .body_len = 1};
  struct fx_store_ref c2 = c1, c3 = c1;
  c2.k2 = "ean.c2";
  c3.k1 = "ean.10";
  fx_store_batch_put_ref(&b, &cp);
  fx_store_batch_put_ref(&b, &c1);
  fx_store_batch_put_ref(&b, &c2);
  fx_store_batch_put_ref(&b, &c3);
  commit_ok(&b);

  struct fx_store_ref_view v;
  struct fx_store_iter it;
  size_t n;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_ref_get(&rd, FX_REF_CP, "ean.1", NULL, &v), 0);
  cr_assert_eq(fx_store_ref_kind(&v), FX_REF_CP);
  cr_assert_str_eq(fx_store_ref_k1(&v), "ean.1");
  cr_assert_str_eq(fx_store_ref_k2(&v), "");
  cr_assert_str_eq(fx_store_ref_owner(&v), "dso.example.com");
  cr_assert_eq(fx_store_ref_role(&v), 2);
  cr_assert_eq(fx_store_ref_from(&v), 100);
  cr_assert_eq(fx_store_ref_to(&v), 200);
  cr_assert_eq(fx_store_ref_t_us(&v), 5);
  fx_store_ref_body(&v, &n);
  cr_assert_eq(n, 0);
  int count = 0;
  cr_assert_eq(fx_store_ref_iter(&rd, FX_REF_CONNECTION, "ean.1", &it), 0);
  while (fx_store_ref_next(&it, &v) == 1) {
    cr_assert_str_eq(fx_store_ref_k1(&v), "ean.1", "ean.10 is another CP");
    count++;
  }
  fx_store_iter_close(&it);
  cr_assert_eq(count, 2);
  count = 0;
  cr_assert_eq(fx_store_ref_iter(&rd, FX_REF_CONNECTION, NULL, &it), 0);
  while (fx_store_ref_next(&it, &v) == 1) count++;
  fx_store_iter_close(&it);
  cr_assert_eq(count, 3);
  fx_store_read_end(&rd);

  c1.to = 400;
  fx_store_batch_put_ref(&b, &c1);
  fx_store_batch_del_ref(&b, FX_REF_CONNECTION, "ean.1", "ean.c2");
  fx_store_batch_del_ref(&b, FX_REF_CONNECTION, "ean.1", "never-there");
  commit_ok(&b);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_ref_get(&rd, FX_REF_CONNECTION, "ean.1", "ean.c1", &v), 0);
  cr_assert_eq(fx_store_ref_to(&v), 400);
  cr_assert_eq(fx_store_ref_get(&rd, FX_REF_CONNECTION, "ean.1", "ean.c2", &v),
               FX_STORE_ENOTFOUND);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

/* ---- outbox ---------------------------------------------------------------------- */

static uint64_t add_out(struct fx_store_batch *b, int64_t next_us) {
  uint64_t id = 0;
  struct fx_store_out o = {.domain = "agr.example.com", .role = 1, .type = 3, .created_us = 1,
                           .next_us = next_us, .body = "payload", .body_len = 7};
  fx_store_batch_out_add(b, &o, &id);
  commit_ok(b);
  return id;
}

/* Ids of the rows due at now_us, in scan order; returns how many. */
static int due(int64_t now_us, uint64_t *ids, int cap) {
  struct fx_store_iter it;
  struct fx_store_out_view v;
  int n = 0, rc;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_due_iter(&rd, now_us, &it), 0);
  while ((rc = fx_store_due_next(&it, &v)) == 1) {
    cr_assert_lt(n, cap);
    cr_assert_eq(fx_store_out_state(&v), FX_OUT_PENDING);
    cr_assert_leq(fx_store_out_next_us(&v), now_us);
    ids[n++] = fx_store_out_id(&v);
  }
  cr_assert_eq(rc, 0);
  fx_store_iter_close(&it);
  fx_store_read_end(&rd);
  return n;
}

Test(store, outbox_row_reads_in_place) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  uint64_t id = add_out(&b, 50);
  struct fx_store_out_view v;
  size_t n;
  cr_assert_eq(id, 1);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_out_get(&rd, id, &v), 0);
  cr_assert_eq(fx_store_out_id(&v), 1);
  cr_assert_eq(fx_store_out_state(&v), FX_OUT_PENDING);
  cr_assert_eq(fx_store_out_role(&v), 1);
  cr_assert_eq(fx_store_out_type(&v), 3);
  cr_assert_eq(fx_store_out_attempts(&v), 0);
  cr_assert_eq(fx_store_out_created_us(&v), 1);
  cr_assert_eq(fx_store_out_next_us(&v), 50);
  cr_assert_eq(fx_store_out_done_us(&v), 0);
  cr_assert_str_eq(fx_store_out_domain(&v), "agr.example.com");
  cr_assert_arr_eq(fx_store_out_body(&v, &n), "payload", 7);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, due_scan_orders_by_time_then_id) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  uint64_t a = add_out(&b, 300), c = add_out(&b, 100), d = add_out(&b, 200), e = add_out(&b, 100);
  uint64_t f = add_out(&b, -50); /* times before the epoch still sort first */
  add_out(&b, 1000);
  uint64_t ids[8];
  int n = due(300, ids, 8);
  cr_assert_eq(n, 5);
  uint64_t want[5] = {f, c, e, d, a};
  cr_assert_arr_eq(ids, want, sizeof want);
  cr_assert_eq(due(99, ids, 8), 1);
  fx_store_batch_free(&b);
}

Test(store, outbox_retry_reschedules_and_counts_attempts) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  uint64_t a = add_out(&b, 100), c = add_out(&b, 200);
  fx_store_batch_out_retry(&b, a, 500);
  commit_ok(&b);
  uint64_t ids[4];
  cr_assert_eq(due(300, ids, 4), 1);
  cr_assert_eq(ids[0], c);
  cr_assert_eq(due(500, ids, 4), 2);
  cr_assert_eq(ids[0], c);
  cr_assert_eq(ids[1], a);
  struct fx_store_out_view v;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_out_get(&rd, a, &v), 0);
  cr_assert_eq(fx_store_out_attempts(&v), 1);
  cr_assert_eq(fx_store_out_next_us(&v), 500);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, outbox_delivered_and_expired_leave_the_due_index) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  uint64_t a = add_out(&b, 100), c = add_out(&b, 100), d = add_out(&b, 100);
  fx_store_batch_out_delivered(&b, a, 150);
  fx_store_batch_out_expired(&b, c, 160);
  commit_ok(&b);
  uint64_t ids[4];
  cr_assert_eq(due(1000, ids, 4), 1);
  cr_assert_eq(ids[0], d);
  struct fx_store_out_view v;
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_out_get(&rd, a, &v), 0);
  cr_assert_eq(fx_store_out_state(&v), FX_OUT_DELIVERED);
  cr_assert_eq(fx_store_out_done_us(&v), 150);
  cr_assert_eq(fx_store_out_get(&rd, c, &v), 0);
  cr_assert_eq(fx_store_out_state(&v), FX_OUT_EXPIRED);
  fx_store_read_end(&rd);
  /* Delivered and expired are final. */
  fx_store_batch_out_retry(&b, a, 2000);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);
  fx_store_batch_reset(&b);
  fx_store_batch_out_delivered(&b, c, 2000);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ESTATE);
  fx_store_batch_reset(&b);
  fx_store_batch_out_delivered(&b, 999, 2000);
  cr_assert_eq(fx_store_commit(st, &b), FX_STORE_ENOTFOUND);
  fx_store_batch_free(&b);
}

Test(store, outbox_survives_reopen) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  uint64_t a = add_out(&b, 100);
  add_out(&b, 5000);
  close_store();
  open_store();
  uint64_t ids[4];
  cr_assert_eq(due(200, ids, 4), 1);
  cr_assert_eq(ids[0], a);
  cr_assert_eq(add_out(&b, 1), 3, "ids continue after reopen");
  fx_store_batch_free(&b);
}

/* ---- counters and read handles ------------------------------------------------------ */

Test(store, counters_only_rise) {
  struct fx_store_batch b;
  uint64_t v;
  fx_store_batch_init(&b);
  fx_store_batch_counter_raise(&b, "order", 10);
  commit_ok(&b);
  fx_store_batch_counter_raise(&b, "order", 4);
  commit_ok(&b);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  cr_assert_eq(fx_store_counter_get(&rd, "order", &v), 0);
  cr_assert_eq(v, 10);
  cr_assert_eq(fx_store_counter_get(&rd, "never-set", &v), 0);
  cr_assert_eq(v, 0);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}

Test(store, read_handle_is_reused_and_sees_new_commits) {
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  uint64_t v;
  for (uint64_t i = 1; i <= 50; i++) {
    fx_store_batch_counter_raise(&b, "order", i);
    commit_ok(&b);
    cr_assert_eq(fx_store_read_begin(&rd), 0);
    struct MDB_txn *txn = rd.txn;
    cr_assert_eq(fx_store_counter_get(&rd, "order", &v), 0);
    cr_assert_eq(v, i);
    fx_store_read_end(&rd);
    if (i > 1) cr_assert_eq(rd.txn, txn, "the LMDB txn is renewed, not reallocated");
  }
  cr_assert_eq(fx_store_counter_get(&rd, "order", &v), FX_STORE_EINVAL,
               "no reads outside begin/end");
  fx_store_batch_free(&b);
}

Test(store, a_read_snapshot_does_not_see_later_commits) {
  struct fx_store_batch b;
  uint64_t v;
  fx_store_batch_init(&b);
  fx_store_batch_counter_raise(&b, "order", 1);
  commit_ok(&b);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  fx_store_batch_counter_raise(&b, "order", 2);
  commit_ok(&b);
  cr_assert_eq(fx_store_counter_get(&rd, "order", &v), 0);
  cr_assert_eq(v, 1);
  fx_store_read_end(&rd);
  fx_store_batch_free(&b);
}
