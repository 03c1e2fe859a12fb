/* test_codec_envelope.c — the SignedMessage Body fast path of fx_read_signed.
 *
 * The reader decodes a plain base64 Body straight from the raw document and
 * lets libxml2 parse the envelope with the value cut out; anything else
 * (CR, character references, an encoding other than UTF-8, several Body
 * attributes, a Body that does not decode) goes the ordinary way, where
 * libxml2 delivers the value. An encoding declaration of ISO-8859-1 means
 * the same for ASCII documents but always takes the ordinary path, so every
 * test here reads the same envelope both ways and requires identical
 * results: return code, error code, where, why, Body text and decoded
 * bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

#define LATIN1 "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"

struct outcome {
  int rc;
  struct fx_error err;
  char *body;     /* malloc'd copy of s.body */
  uint8_t *bytes; /* malloc'd copy of s.decoded */
  size_t n;
};

static struct outcome read_env(fx_reader *r, const char *xml) {
  struct outcome o = {0};
  struct fx_signed s;
  o.rc = fx_read_signed(r, xml, strlen(xml), &s, &o.err);
  if (o.rc == 0) {
    o.body = strndup(s.body, s.body_len);
    o.bytes = malloc(s.decoded_len + 1);
    cr_assert(o.body && o.bytes);
    memcpy(o.bytes, s.decoded, s.decoded_len);
    o.n = s.decoded_len;
  }
  return o;
}

static void outcome_free(struct outcome *o) {
  free(o->body);
  free(o->bytes);
}

/* Reads `tail` (an envelope without XML declaration) plainly and behind a
 * Latin-1 declaration; both must agree. Returns the plain outcome. */
static struct outcome both_ways(const char *tail) {
  fx_reader *r = fx_reader_new(NULL);
  cr_assert_not_null(r);
  size_t n = strlen(LATIN1) + strlen(tail) + 1;
  char *latin1 = malloc(n);
  cr_assert_not_null(latin1);
  snprintf(latin1, n, "%s%s", LATIN1, tail);
  struct outcome fast = read_env(r, tail), slow = read_env(r, latin1);
  cr_expect_eq(fast.rc, slow.rc, "rc %d vs %d for %s", fast.rc, slow.rc, tail);
  cr_expect_eq(fast.err.code, slow.err.code, "code %s vs %s", fx_err_name(fast.err.code),
               fx_err_name(slow.err.code));
  cr_expect_str_eq(fast.err.where, slow.err.where);
  cr_expect_str_eq(fast.err.why, slow.err.why);
  if (fast.rc == 0 && slow.rc == 0) {
    cr_expect_str_eq(fast.body, slow.body);
    cr_expect_eq(fast.n, slow.n);
    cr_expect_arr_eq(fast.bytes, slow.bytes, fast.n < slow.n ? fast.n : slow.n);
  }
  outcome_free(&slow);
  free(latin1);
  fx_reader_free(r);
  return fast;
}

#define ENV(body) "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"AGR\" Body=\"" body "\"/>"

Test(envelope, plain_body_decodes) {
  struct outcome o = both_ways(ENV("QUJDREVG"));
  cr_assert_eq(o.rc, 0, "%s: %s", o.err.where, o.err.why);
  cr_expect_str_eq(o.body, "QUJDREVG");
  cr_expect_eq(o.n, 6);
  cr_expect_arr_eq(o.bytes, "ABCDEF", 6);
  outcome_free(&o);
}

Test(envelope, tab_and_lf_become_spaces_in_the_body_text) {
  struct outcome o = both_ways(ENV(" \tQUJD\nREVG\t\n"));
  cr_assert_eq(o.rc, 0, "%s: %s", o.err.where, o.err.why);
  cr_expect_str_eq(o.body, "QUJD REVG"); /* trimmed, inner LF normalised as libxml2 does */
  cr_expect_arr_eq(o.bytes, "ABCDEF", 6);
  outcome_free(&o);
}

Test(envelope, cr_takes_the_ordinary_path) {
  /* End-of-line handling folds CR LF into one LF before normalisation. */
  struct outcome o = both_ways(ENV("QUJD\r\nREVG"));
  cr_assert_eq(o.rc, 0, "%s: %s", o.err.where, o.err.why);
  cr_expect_str_eq(o.body, "QUJD REVG");
  outcome_free(&o);
}

Test(envelope, character_reference_in_the_body_is_expanded) {
  struct outcome o = both_ways(ENV("QUJD&#82;EVG")); /* &#82; is 'R' */
  cr_assert_eq(o.rc, 0, "%s: %s", o.err.where, o.err.why);
  cr_expect_arr_eq(o.bytes, "ABCDEF", 6);
  outcome_free(&o);
}

Test(envelope, invalid_body_names_the_offset) {
  struct outcome o = both_ways(ENV("  QUJDRE*G"));
  cr_assert_eq(o.rc, -1);
  cr_expect_eq(o.err.code, FX_E_VALUE);
  cr_expect_str_eq(o.err.where, "SignedMessage@Body");
  cr_expect(strstr(o.err.why, "at offset 8") != NULL, "%s", o.err.why);
  outcome_free(&o);
  o = both_ways(ENV("QUJDREV"));
  cr_expect_eq(o.err.code, FX_E_VALUE);
  cr_expect(strstr(o.err.why, "multiple of 4") != NULL, "%s", o.err.why);
  outcome_free(&o);
}

Test(envelope, errors_around_the_cut_value_are_unchanged) {
  const char *cases[][3] = {
      {"<SignedMessage Body=\"QUJD\" Body=\"QUJD\" SenderDomain=\"a.example\" SenderRole=\"AGR\"/>", "", ""},
      {"<SignedMessage SenderDomain=\"a.example\" SenderRole=\"AGR\" Body=\"QUJD\" Extra=\"1\"/>",
       "SignedMessage@Extra", "unknown attribute"},
      {"<SignedMessage SenderDomain=\"a.example\" SenderRole=\"AGR\" Body=\"QUJD\"/><x/>", "", ""},
      {"<SignedMessage SenderDomain=\"a.example\" SenderRole=\"AGR\" Body=\"QUJD\">", "", ""},
      {"<SignedMessage SenderDomain=\"a.example\" SenderRole=\"AGR\" Body= \"QUJD\"><Remark/></SignedMessage>",
       "SignedMessage/Remark[1]", "unexpected element"},
      {"<SignedMessage SenderDomain=\"A.example\" SenderRole=\"AGR\" Body=\"QUJD\"/>", "SignedMessage@SenderDomain",
       "pattern"},
      {"<SignedMessage SenderDomain=\"a.example\" SenderRole=\"AGR\"/>", "SignedMessage@Body", "required"},
      {"<FlexOffer Body=\"QUJD\"/>", "FlexOffer", "not SignedMessage"},
      {"<SignedMessage SenderDomain='a.example' SenderRole='AGR' Body='QUJD'/>", NULL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct outcome o = both_ways(cases[i][0]);
    if (!cases[i][1]) {
      cr_expect_eq(o.rc, 0, "%s: %s: %s", cases[i][0], o.err.where, o.err.why);
    } else {
      cr_expect_eq(o.rc, -1, "%s accepted", cases[i][0]);
      if (cases[i][1][0])
        cr_expect_str_eq(o.err.where, cases[i][1], "%s", cases[i][0]);
      else
        cr_expect_eq(o.err.code, FX_E_XML, "%s: %s", cases[i][0], fx_err_name(o.err.code));
      cr_expect(strstr(o.err.why, cases[i][2]) != NULL, "%s: why '%s'", cases[i][0], o.err.why);
    }
    outcome_free(&o);
  }
}

/* A document that is not well-formed is read again by the pull parser for
 * the reference wording of its error. The push parser runs first on the
 * same context and must not leave it unable to convert a declared encoding
 * beyond the first chunk (found by fuzz_envelope: a Latin-1 envelope broken
 * after a long Body, read just after the same envelope in UTF-8). */
Test(envelope, errors_past_the_first_converted_chunk_are_unchanged) {
  char body[109], tail[512];
  memset(body, '+', 108);
  body[108] = 0;
  snprintf(tail, sizeof tail, "<SignedMessage SenderDomain=\"agr.example.com\" SenderRole=\"AGR\" Body=\"%s\"  \"/>",
           body);
  struct outcome o = both_ways(tail);
  cr_expect_eq(o.rc, -1);
  cr_expect_eq(o.err.code, FX_E_XML, "%s: %s", fx_err_name(o.err.code), o.err.why);
  cr_expect_str_eq(o.err.why, "error parsing attribute name");
  outcome_free(&o);
}

/* UTF-7 reads '+' in a Body as the start of an escape: such a document must
 * not be decoded from its raw bytes. libxml2 converts it (through iconv) and
 * refuses it, as it always did, where a byte scan would have accepted it. */
Test(envelope, other_encodings_take_the_ordinary_path) {
  fx_reader *r = fx_reader_new(NULL);
  const char *x = "<?xml version=\"1.0\" encoding=\"UTF-7\"?>" ENV("QUJD+EVG");
  struct outcome o = read_env(r, x);
  cr_expect_eq(o.rc, -1);
  cr_expect_neq(o.err.code, 0);
  outcome_free(&o);
  const char *utf8 = "<?xml version=\"1.0\" encoding=\"utf-8\"?>" ENV("QUJD+EVG");
  o = read_env(r, utf8);
  cr_expect_eq(o.rc, 0, "%s: %s", o.err.where, o.err.why);
  outcome_free(&o);
  fx_reader_free(r);
}

/* A long Body, then a short one, then a long one again on the same reader:
 * each decodes to its own bytes (the decode and cut buffers are reused). */
Test(envelope, buffers_are_reused_across_envelopes) {
  fx_reader *r = fx_reader_new(NULL);
  size_t big = 300000;
  char *x = malloc(big + 200);
  cr_assert_not_null(x);
  int k = snprintf(x, 200, "<SignedMessage SenderDomain=\"a.example\" SenderRole=\"AGR\" Body=\"");
  memset(x + k, 'A', big);
  strcpy(x + k + big, "\"/>");
  for (int round = 0; round < 2; round++) {
    struct outcome o = read_env(r, x);
    cr_assert_eq(o.rc, 0, "%s: %s", o.err.where, o.err.why);
    cr_expect_eq(o.n, big / 4 * 3);
    cr_expect_eq(o.bytes[0], 0);
    cr_expect_eq(o.bytes[o.n - 1], 0);
    outcome_free(&o);
    o = read_env(r, ENV("QUJDREVG"));
    cr_assert_eq(o.rc, 0);
    cr_expect_eq(o.n, 6);
    cr_expect_arr_eq(o.bytes, "ABCDEF", 6);
    outcome_free(&o);
  }
  free(x);
  fx_reader_free(r);
}
