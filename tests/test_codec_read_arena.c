/* test_codec_read_arena.c — fx_read_msg_arena: a message read into the caller's
 * arena outlives the reader's next read (what the worker → sequencer hand-off needs). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

static const char *tm(const char *id) {
  static char buf[2][512];
  static int k;
  char *b = buf[k++ & 1];
  snprintf(b, 512,
           "<TestMessage Version=\"3.1.0\" SenderDomain=\"agr.example.com\" RecipientDomain=\"flexd.example.org\" "
           "TimeStamp=\"2026-01-01T00:00:00Z\" MessageID=\"%s\" ConversationID=\"%s\"/>",
           id, id);
  return b;
}

Test(codec_read_arena, message_survives_the_readers_next_read) {
  fx_reader *r = fx_reader_new(NULL);
  fx_arena *a1 = fx_arena_new(1 << 20), *a2 = fx_arena_new(1 << 20);
  const struct fx_msg *m1, *m2, *m3;
  struct fx_error err;
  const char *x1 = tm("11111111-1111-4111-8111-111111111111");
  cr_assert_eq(fx_read_msg_arena(r, a1, x1, strlen(x1), &m1, &err), 0, "%s", err.why);
  const char *x2 = tm("22222222-2222-4222-8222-222222222222");
  cr_assert_eq(fx_read_msg_arena(r, a2, x2, strlen(x2), &m2, &err), 0, "%s", err.why);
  cr_assert_eq(fx_read_msg(r, x2, strlen(x2), &m3, &err), 0);
  cr_assert_eq(m1->hdr.message_id.b[0], 0x11, "the first message is intact");
  cr_assert_str_eq(m1->hdr.sender_domain, "agr.example.com");
  cr_assert_eq(m2->hdr.message_id.b[0], 0x22);
  cr_assert_gt(fx_arena_used(a1), 0, "the message was built in the caller's arena");
  fx_arena_free(a1);
  fx_arena_free(a2);
  fx_reader_free(r);
}

Test(codec_read_arena, the_callers_arena_bounds_memory) {
  fx_reader *r = fx_reader_new(NULL);
  fx_arena *tiny = fx_arena_new(64);
  const struct fx_msg *m;
  struct fx_error err;
  const char *x = tm("11111111-1111-4111-8111-111111111111");
  cr_assert_eq(fx_read_msg_arena(r, tiny, x, strlen(x), &m, &err), -1);
  cr_assert_eq(err.code, FX_E_LIMIT, "got %s: %s", fx_err_name(err.code), err.why);
  fx_arena_free(tiny);
  fx_reader_free(r);
}

/* Repeated elements land in arrays that double as they fill. An array that
 * is the arena's latest allocation grows in place (a run of ISPs); one with
 * strings allocated after it (every Connection's EntityAddress) is moved.
 * Both must keep every element, whichever arena the message is read into. */
static char *portfolio_update(int n, size_t *len) {
  char *x = malloc((size_t)n * 96 + 512);
  size_t k = (size_t)sprintf(x,
                             "<AGRPortfolioUpdate Version=\"3.1.0\" SenderDomain=\"agr.example.com\" "
                             "RecipientDomain=\"flexd.example.org\" TimeStamp=\"2026-01-01T00:00:00Z\" "
                             "MessageID=\"11111111-1111-4111-8111-111111111111\" "
                             "ConversationID=\"11111111-1111-4111-8111-111111111112\" TimeZone=\"Europe/Amsterdam\">");
  for (int i = 0; i < n; i++)
    k += (size_t)sprintf(x + k, "<Connection EntityAddress=\"ean.8716859000%08d\" StartPeriod=\"2026-01-01\"/>", i);
  k += (size_t)sprintf(x + k, "</AGRPortfolioUpdate>");
  *len = k;
  return x;
}

/* A FlexRequest of n ISPs, each with Disposition="Requested" or none:
 * an absent Disposition is 0 only if the grown array was zeroed. */
static char *flex_request(int n, bool disposition, size_t *len) {
  char *x = malloc((size_t)n * 80 + 512);
  size_t k = (size_t)sprintf(
      x,
      "<FlexRequest Version=\"3.1.0\" SenderDomain=\"dso.example.com\" RecipientDomain=\"flexd.example.org\""
      " TimeStamp=\"2025-03-01T09:15:00+01:00\" MessageID=\"ffe28991-d7c7-5352-8130-98b48214e36d\""
      " ConversationID=\"ce85e7f7-72ae-5f7e-9480-ebd09b21d32d\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\""
      " Period=\"2025-03-02\" CongestionPoint=\"ean.871685900012345678\" Revision=\"1\""
      " ExpirationDateTime=\"2025-03-01T15:00:00+01:00\">");
  for (int i = 0; i < n; i++)
    k += (size_t)sprintf(x + k, "<ISP%s MinPower=\"%d\" MaxPower=\"0\" Start=\"%d\"/>",
                         disposition ? " Disposition=\"Requested\"" : "", -1000 * i, i + 1);
  k += (size_t)sprintf(x + k, "</FlexRequest>");
  *len = k;
  return x;
}

Test(codec_read_arena, growing_arrays_keep_every_element) {
  fx_reader *r = fx_reader_new(NULL);
  fx_arena *own = fx_arena_new(8 << 20);
  size_t n1, n2, n3;
  char *x1 = portfolio_update(70, &n1), *x2 = flex_request(300, true, &n2), *x3 = flex_request(300, false, &n3);
  for (int pass = 0; pass < 2; pass++) {
    fx_arena *dst = pass ? own : NULL;
    const struct fx_msg *m;
    struct fx_error err;
    cr_assert_eq(fx_read_msg_arena(r, dst, x1, n1, &m, &err), 0, "%s: %s", err.where, err.why);
    const struct fx_agr_portfolio_update *u = &m->u.agr_portfolio_update;
    cr_assert_eq(u->n_connections, 70);
    for (int i = 0; i < 70; i++) {
      char want[32];
      snprintf(want, sizeof want, "ean.8716859000%08d", i);
      cr_assert_str_eq(u->connections[i].entity_address, want);
      cr_assert_eq(u->connections[i].start_period.day, 1);
      cr_assert_not(u->connections[i].has_end_period);
    }
    /* With Disposition first, so that the arena memory the second read
     * reuses (the reader's own arena is reset in between) is not zero. */
    for (int with = 1; with >= 0; with--) {
      cr_assert_eq(fx_read_msg_arena(r, dst, with ? x2 : x3, with ? n2 : n3, &m, &err), 0, "%s: %s", err.where,
                   err.why);
      const struct fx_flex_request *q = &m->u.flex_request;
      cr_assert_eq(q->n_isps, 300);
      for (int i = 0; i < 300; i++) {
        cr_assert_eq(q->isps[i].min_power, -1000 * i);
        cr_assert_eq(q->isps[i].start, i + 1);
        cr_assert_eq(q->isps[i].duration, 1);
        cr_assert_eq(q->isps[i].disposition, with ? FX_DISPOSITION_REQUESTED : FX_DISPOSITION_NONE, "ISP %d", i);
      }
    }
  }
  free(x1);
  free(x2);
  free(x3);
  fx_arena_free(own);
  fx_reader_free(r);
}
