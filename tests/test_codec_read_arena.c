/* test_codec_read_arena.c — fx_read_msg_arena: a message read into the caller's
 * arena outlives the reader's next read (what the worker → sequencer hand-off needs). */
#include <criterion/criterion.h>
#include <stdio.h>
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
