/* test_codec_hostile.c — hostile XML: entity expansion, external entities,
 * DTDs, deep nesting, huge attributes, attribute floods, element floods and
 * oversized input are each rejected with an error naming the defence, and
 * the reader stays usable (and within its memory cap) afterwards. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

static const char valid[] =
    "<TestMessage Version=\"3.1.0\" SenderDomain=\"agr.example.com\" RecipientDomain=\"dso.example.com\""
    " TimeStamp=\"2025-03-01T10:00:00Z\" MessageID=\"6f1c2d3e-1111-4222-8333-944455556666\""
    " ConversationID=\"6f1c2d3e-1111-4222-8333-944455556667\"/>";

/* Rejects xml with `code`, then proves the same reader still reads. */
static void expect_rejected(fx_reader *r, const char *xml, size_t len, int code, const char *why) {
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, xml, len, &m, &err), -1, "hostile input accepted");
  cr_expect_eq(err.code, code, "code %s (%s: %s)", fx_err_name(err.code), err.where, err.why);
  cr_expect(strstr(err.why, why) != NULL, "why '%s' lacks '%s'", err.why, why);
  cr_assert_eq(fx_read_msg(r, valid, strlen(valid), &m, &err), 0, "reader unusable afterwards: %s", err.why);
}

Test(hostile, billion_laughs) {
  const char *x =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE TestMessage [\n <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      " <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n]>\n"
      "<TestMessage Version=\"&lol9;\"/>";
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, strlen(x), FX_E_FORBIDDEN, "DTD");
  fx_reader_free(r);
}

Test(hostile, external_entity) {
  const char *x = "<!DOCTYPE TestMessage [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                  "<TestMessage Version=\"&xxe;\"/>";
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, strlen(x), &m, &err), -1);
  cr_expect_eq(err.code, FX_E_FORBIDDEN);
  cr_expect(strstr(err.why, "root:") == NULL, "file content leaked into the error");
  expect_rejected(r, x, strlen(x), FX_E_FORBIDDEN, "DTD");
  fx_reader_free(r);
}

Test(hostile, doctype_without_entities) {
  const char *x = "<!DOCTYPE TestMessage SYSTEM \"http://127.0.0.1:1/x.dtd\"><TestMessage/>";
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, strlen(x), FX_E_FORBIDDEN, "DTD");
  fx_reader_free(r);
}

Test(hostile, undeclared_entity_reference) {
  char x[1024];
  snprintf(x, sizeof x, "%.*s Extra=\"&ent;\"/>", (int)(strlen(valid) - 2), valid);
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, strlen(x), FX_E_FORBIDDEN, "entity");
  fx_reader_free(r);
}

Test(hostile, ten_megabyte_attribute) {
  size_t big = 10u << 20;
  char *x = malloc(big + 256);
  int k = sprintf(x, "<TestMessage Version=\"");
  memset(x + k, '1', big);
  strcpy(x + k + big, "\"/>");
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, strlen(x), FX_E_LIMIT, "attribute value longer than the limit");
  fx_reader_free(r);
  free(x);
}

Test(hostile, hundred_thousand_attributes) {
  const int n = 100000;
  char *x = malloc((size_t)n * 16 + 64);
  size_t k = (size_t)sprintf(x, "<TestMessage");
  for (int i = 0; i < n; i++)
    k += (size_t)sprintf(x + k, " a%d=\"1\"", i);
  k += (size_t)sprintf(x + k, "/>");
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, k, FX_E_LIMIT, "too many attributes");
  fx_reader_free(r);
  free(x);
}

Test(hostile, namespace_declaration_flood) {
  const int n = 1000;
  char *x = malloc((size_t)n * 32 + 64);
  size_t k = (size_t)sprintf(x, "<TestMessage");
  for (int i = 0; i < n; i++)
    k += (size_t)sprintf(x + k, " xmlns:p%d=\"urn:%d\"", i, i);
  k += (size_t)sprintf(x + k, "/>");
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, k, FX_E_LIMIT, "too many attributes");
  fx_reader_free(r);
  free(x);
}

/* Many valid elements: bounded by max_elements, then by the arena cap. */
static char *many_isps(int n, size_t *len) {
  char *x = malloc((size_t)n * 40 + 1024);
  size_t k = (size_t)sprintf(
      x,
      "<D-Prognosis Version=\"3.1.0\" SenderDomain=\"agr.example.com\" RecipientDomain=\"dso.example.com\""
      " TimeStamp=\"2025-03-01T10:00:00Z\" MessageID=\"6f1c2d3e-1111-4222-8333-944455556666\""
      " ConversationID=\"6f1c2d3e-1111-4222-8333-944455556667\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\""
      " Period=\"2025-03-02\" CongestionPoint=\"ean.871685900012345678\" Revision=\"1\">");
  for (int i = 0; i < n; i++)
    k += (size_t)sprintf(x + k, "<ISP Power=\"%d\" Start=\"%d\"/>", i, i + 1);
  k += (size_t)sprintf(x + k, "</D-Prognosis>");
  *len = k;
  return x;
}

Test(hostile, deep_nesting) {
  const int depth = 10000;
  size_t cap = (size_t)depth * 16 + 64, k = 0;
  char *x = malloc(cap);
  fx_reader *r = fx_reader_new(NULL);
  /* 10,000 nested elements: refused at the first one the schema forbids. */
  k += (size_t)sprintf(x + k, "<FlexOffer>");
  for (int i = 0; i < depth; i++)
    k += (size_t)sprintf(x + k, "<OfferOption>");
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, k, &m, &err), -1);
  k = 0;
  for (int i = 0; i < depth; i++)
    k += (size_t)sprintf(x + k, "<a>");
  expect_rejected(r, x, k, FX_E_ROOT, "not a UFTP");
  /* The depth limit itself: a valid D-Prognosis is two levels deep. */
  struct fx_limits lim = fx_limits_default();
  lim.max_depth = 1;
  fx_reader *shallow = fx_reader_new(&lim);
  size_t len;
  char *dp = many_isps(1, &len);
  expect_rejected(shallow, dp, len, FX_E_LIMIT, "deeper than the limit");
  fx_reader_free(shallow);
  fx_reader_free(r);
  free(dp);
  free(x);
}

Test(hostile, element_flood) {
  struct fx_limits lim = fx_limits_default();
  lim.max_elements = 1000;
  fx_reader *r = fx_reader_new(&lim);
  size_t len;
  char *x = many_isps(999, &len);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, len, &m, &err), 0, "%s", err.why); /* 1000 elements with the root */
  cr_assert_eq(m->u.d_prognosis.n_isps, 999);
  cr_assert_eq(m->u.d_prognosis.isps[998].power, 998);
  free(x);
  x = many_isps(1000, &len);
  expect_rejected(r, x, len, FX_E_LIMIT, "more elements than the limit");
  fx_reader_free(r);
  free(x);
}

Test(hostile, arena_cap_bounds_memory) {
  struct fx_limits lim = fx_limits_default();
  lim.max_arena_bytes = 64 * 1024;
  fx_reader *r = fx_reader_new(&lim);
  size_t len;
  char *x = many_isps(100, &len);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, len, &m, &err), 0, "%s", err.why);
  free(x);
  x = many_isps(20000, &len); /* 20000 * 24 bytes of ISPs alone exceed 64 KiB */
  expect_rejected(r, x, len, FX_E_LIMIT, "memory limit");
  fx_reader_free(r);
  free(x);
}

Test(hostile, oversized_input) {
  struct fx_limits lim = fx_limits_default();
  lim.max_input_bytes = 100;
  fx_reader *r = fx_reader_new(&lim);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, valid, strlen(valid), &m, &err), -1);
  cr_expect_eq(err.code, FX_E_LIMIT);
  cr_expect(strstr(err.why, "input larger than the limit"));
  fx_reader_free(r);
}

Test(hostile, attribute_length_limit_counts_bytes_as_written) {
  struct fx_limits lim = fx_limits_default();
  lim.max_attr_len = 40;
  fx_reader *r = fx_reader_new(&lim);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, valid, strlen(valid), &m, &err), 0, "36-character UUIDs fit: %s", err.why);
  char x[1024];
  snprintf(x, sizeof x, "%.*s RejectionReason=\"%041d\"/>", (int)(strlen(valid) - 2), valid, 0);
  expect_rejected(r, x, strlen(x), FX_E_LIMIT, "attribute value longer than the limit");
  fx_reader_free(r);
}

Test(hostile, unterminated_and_garbage_input) {
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, valid, strlen(valid) - 3, FX_E_XML, "");
  const char garbage[] = "\x00\xff\xfe<<<>>>\"'";
  expect_rejected(r, garbage, sizeof garbage - 1, FX_E_XML, "");
  const char two_roots[] = "<TestMessage/><TestMessage/>";
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, two_roots, strlen(two_roots), &m, &err), -1);
  fx_reader_free(r);
}

/* The pre-pass first takes a quick look (codec/read_scan.c) that skips the
 * exact walk when no segment between two '<' can break a limit. These
 * check that the quick look never lets through what it must refuse, and
 * never refuses what the exact pass accepts. */

static fx_reader *reader_with_max_attrs(uint32_t max_attrs) {
  struct fx_limits lim = fx_limits_default();
  lim.max_attrs = max_attrs;
  fx_reader *r = fx_reader_new(&lim);
  cr_assert_not_null(r);
  return r;
}

Test(hostile, attribute_limit_holds_in_a_short_tag) {
  /* A 7-attribute TestMessage under max_attrs 6: the tag is far shorter
   * than any "long segment" bound a default limit would set. */
  fx_reader *r = reader_with_max_attrs(6);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, valid, strlen(valid), &m, &err), 0, "6 attributes fit: %s", err.why);
  char x[1024];
  snprintf(x, sizeof x, "%.*s Extra=\"1\"/>", (int)(strlen(valid) - 2), valid);
  cr_assert_eq(fx_read_msg(r, x, strlen(x), &m, &err), -1);
  cr_expect_eq(err.code, FX_E_LIMIT, "%s: %s", fx_err_name(err.code), err.why);
  cr_expect_str_eq(err.where, "", "refused by the pre-pass, before libxml2 saw the tag");
  cr_expect(strstr(err.why, "too many attributes"), "%s", err.why);
  fx_reader_free(r);
}

Test(hostile, equals_signs_in_comments_are_not_attributes) {
  /* A comment full of '=' and a fake start tag inside it: the quick look
   * sees a long segment with many '=' and hands over to the exact pass,
   * which skips comments, so the document is read. */
  fx_reader *r = reader_with_max_attrs(6);
  char x[2048];
  snprintf(x, sizeof x, "<!-- <x a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\" f=\"6\" g=\"7\" h=\"8\"> == == == -->%s", valid);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, strlen(x), &m, &err), 0, "%s: %s", err.where, err.why);
  cr_assert_eq(m->type, FX_MSG_TEST_MESSAGE);
  fx_reader_free(r);
}

Test(hostile, doctype_in_a_comment_is_only_a_comment) {
  char x[1024];
  snprintf(x, sizeof x, "<!-- <!DOCTYPE TestMessage [<!ENTITY e \"x\">]> -->%s", valid);
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, strlen(x), &m, &err), 0, "%s: %s", err.where, err.why);
  fx_reader_free(r);
}

Test(hostile, doctype_after_a_comment_is_refused_before_parsing) {
  char x[1024];
  snprintf(x, sizeof x, "<!-- x --><!DOCTYPE TestMessage>%s", valid);
  fx_reader *r = fx_reader_new(NULL);
  expect_rejected(r, x, strlen(x), FX_E_FORBIDDEN, "DTD");
  fx_reader_free(r);
}

/* 10,000 attributes in a start tag: once behind a value holding '<', once
 * with '<' in every value, so that no stretch between two '<' holds more
 * than one '='. Not well-formed either way; refused by the pre-pass (its
 * exact walk counts through a '<') or by libxml2 at the first '<' in a
 * value, before it collects more attributes: never read, never slow. */
static char *lt_flood(int n, bool every, size_t *len) {
  char *x = malloc((size_t)n * 16 + 64);
  size_t k = (size_t)sprintf(x, "<TestMessage a=\"<\"");
  for (int i = 0; i < n; i++)
    k += (size_t)sprintf(x + k, " a%d=\"%s\"", i, every ? "<" : "1");
  k += (size_t)sprintf(x + k, "/>");
  *len = k;
  return x;
}

Test(hostile, attribute_flood_behind_a_stray_lt_is_refused) {
  fx_reader *r = fx_reader_new(NULL);
  for (int every = 0; every < 2; every++) {
    size_t len;
    char *x = lt_flood(10000, every, &len);
    const struct fx_msg *m;
    struct fx_error err;
    cr_assert_eq(fx_read_msg(r, x, len, &m, &err), -1);
    cr_expect(err.code == FX_E_LIMIT || err.code == FX_E_XML, "%s: %s", fx_err_name(err.code), err.why);
    cr_assert_eq(fx_read_msg(r, valid, strlen(valid), &m, &err), 0, "reader unusable afterwards: %s", err.why);
    free(x);
  }
  fx_reader_free(r);
}

/* The reader hands libxml2 the document as one push chunk; the push parser
 * words some errors differently from the pull parser, whose words are the
 * reference (a document that is not well-formed is read again by it): a
 * truncated document names the element left open, not "Extra content". */
Test(hostile, truncated_document_names_the_open_element) {
  size_t len;
  char *x = many_isps(2, &len);
  size_t end_tag = strlen("</D-Prognosis>");
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, x, len - end_tag, &m, &err), -1);
  cr_expect_eq(err.code, FX_E_XML, "%s: %s", fx_err_name(err.code), err.why);
  cr_expect(strstr(err.why, "Premature end of data in tag D-Prognosis line 1") != NULL, "%s", err.why);
  cr_assert_eq(fx_read_msg(r, x, len - end_tag - 2, &m, &err), -1); /* the last <ISP ...> without "/>" */
  cr_expect_eq(err.code, FX_E_XML, "%s: %s", fx_err_name(err.code), err.why);
  cr_expect(strstr(err.why, "attributes construct error") != NULL, "%s", err.why);
  fx_reader_free(r);
  free(x);
}
