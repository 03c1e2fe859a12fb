/* test_codec_corpus.c — the codec against the whole conformance corpus.
 *
 * tests/data/ (see its README) holds a minimal and a maximal valid instance
 * of every UFTP 3.1.0 message and one invalid instance per schema
 * constraint, each proven by test_oracle_corpus.c to mean what its name says.
 * Here the codec meets every one of them:
 *
 *   - every valid/ file is read (fx_read_signed for SignedMessage, fx_read_msg
 *     otherwise), written back, the output is accepted by the official XSDs
 *     (the oracle) and reads back equal to the first reading;
 *   - every invalid/ file is rejected, and the error's `where` is exactly the
 *     place expected-errors.tsv names.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/b64.h"
#include "codec/codec.h"
#include "codec/sign.h"
#include "tests/support/oracle.h"

#define DATA FLEXD_SOURCE_DIR "/tests/data"
#define MAX_FILES 2048

/* The *.xml names of a directory, sorted; caller frees. */
struct listing {
  struct dirent **ents;
  int n;
};

static int is_xml(const struct dirent *e) {
  size_t l = strlen(e->d_name);
  return l > 4 && strcmp(e->d_name + l - 4, ".xml") == 0;
}

static struct listing list_xml(const char *dir) {
  struct listing l = {NULL, 0};
  l.n = scandir(dir, &l.ents, is_xml, alphasort);
  cr_assert(l.n > 0 && l.n <= MAX_FILES, "%d *.xml files in %s", l.n, dir);
  return l;
}

static void free_listing(struct listing *l) {
  for (int i = 0; i < l->n; i++)
    free(l->ents[i]);
  free(l->ents);
}

static char *read_corpus(const char *dir, const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *xml = fx_test_read_file(path, len);
  cr_assert_not_null(xml, "cannot read %s", path);
  return xml;
}

/* The file names start with the root element: "<Root>.<...>.xml". */
static bool is_signed(const char *name) { return !strncmp(name, "SignedMessage.", 14); }

/* ------------------------------------------------------------ valid/ */

/* The key the corpus generator sealed valid/SignedMessage.*.xml with. */
static void seal_key(uint8_t pk[32]) {
  char *txt = fx_test_read_file(DATA "/seal-key.txt", NULL);
  cr_assert_not_null(txt);
  char *line = txt;
  while (*line == '#')
    line = strchr(line, '\n') + 1;
  size_t n = strcspn(line, "\r\n");
  uint8_t raw[FX_B64_DECODED_MAX(64)];
  cr_assert_eq(fx_b64_decode(line, n, raw, sizeof raw, NULL), 32, "seal-key.txt: no 32-byte key");
  memcpy(pk, raw, 32);
  free(txt);
}

/* An inner message: read, write, the oracle accepts the output, and it
 * reads back equal (a second reader: the first one's message stays). */
static void inner_round_trip(const struct fx_oracle *o, fx_reader *r1, fx_reader *r2, const char *name,
                             const char *xml, size_t len) {
  const struct fx_msg *m, *back;
  struct fx_error err;
  if (fx_read_msg(r1, xml, len, &m, &err)) {
    cr_expect(0, "valid/%s rejected by the codec: %s: %s (%s)", name, err.where, err.why, fx_err_name(err.code));
    return;
  }
  struct fx_buf out;
  fx_buf_init(&out);
  char why[1024], diff[256];
  if (fx_write_msg(m, &out, &err))
    cr_expect(0, "valid/%s: writing it back failed: %s: %s", name, err.where, err.why);
  else if (fx_oracle_validate(o, out.data, out.len, why, sizeof why))
    cr_expect(0, "valid/%s: the XSDs reject what the codec wrote: %s\n%s", name, why, out.data);
  else if (fx_read_msg(r2, out.data, out.len, &back, &err))
    cr_expect(0, "valid/%s: what the codec wrote does not read back: %s: %s", name, err.where, err.why);
  else
    cr_expect(fx_msg_equal(m, back, diff, sizeof diff), "valid/%s: changed by a round trip: %s", name, diff);
  fx_buf_free(&out);
}

/* A SignedMessage: the same round trip on the envelope, and its Body opens
 * with the corpus key to the exact bytes of the inner file it sealed. */
static void signed_round_trip(const struct fx_oracle *o, fx_reader *r1, fx_reader *r2, const char *name,
                              const char *xml, size_t len) {
  struct fx_signed s, back;
  struct fx_error err;
  if (fx_read_signed(r1, xml, len, &s, &err)) {
    cr_expect(0, "valid/%s rejected by the codec: %s: %s", name, err.where, err.why);
    return;
  }
  struct fx_buf out;
  fx_buf_init(&out);
  char why[1024];
  cr_assert_eq(fx_write_signed(&s, &out, &err), 0, "valid/%s: %s: %s", name, err.where, err.why);
  cr_expect_eq(fx_oracle_validate(o, out.data, out.len, why, sizeof why), 0, "valid/%s: XSDs: %s", name, why);
  cr_assert_eq(fx_read_signed(r2, out.data, out.len, &back, &err), 0, "valid/%s: %s: %s", name, err.where,
               err.why);
  cr_expect_str_eq(back.sender_domain, s.sender_domain, "valid/%s", name);
  cr_expect_eq(back.sender_role, s.sender_role, "valid/%s", name);
  cr_expect(back.body_len == s.body_len && !memcmp(back.body, s.body, s.body_len), "valid/%s: Body", name);
  cr_expect(back.decoded_len == s.decoded_len && !memcmp(back.decoded, s.decoded, s.decoded_len),
            "valid/%s: decoded Body", name);
  fx_buf_free(&out);

  uint8_t pk[32];
  seal_key(pk);
  struct fx_sign_opened op;
  cr_assert_eq(fx_sign_open_decoded((const uint8_t(*)[32])pk, 1, s.decoded, s.decoded_len, &op), FX_SIGN_OK,
               "valid/%s: Body does not verify with seal-key.txt", name);
  const char *sealed = strstr(name, ".min.") ? "TestMessage.min.xml" : "FlexOffer.max.xml";
  size_t ilen;
  char *inner = read_corpus(DATA "/valid", sealed, &ilen);
  cr_expect(op.len == ilen && !memcmp(op.inner, inner, ilen), "valid/%s does not seal valid/%s byte for byte",
            name, sealed);
  free(inner);
}

Test(codec_corpus, every_valid_instance_reads_writes_xsd_valid_and_reads_back_equal) {
  fx_test_require_shared();
  char why[512];
  struct fx_oracle *o = fx_oracle_load_from(fx_test_shared_dir(), why, sizeof why);
  cr_assert_not_null(o, "oracle did not load: %s", why);
  fx_reader *r1 = fx_reader_new(NULL), *r2 = fx_reader_new(NULL);
  cr_assert(r1 && r2);
  struct listing l = list_xml(DATA "/valid");
  bool seen[FX_MSG__COUNT][2] = {{false}};
  for (int i = 0; i < l.n; i++) {
    const char *name = l.ents[i]->d_name;
    size_t len;
    char *xml = read_corpus(DATA "/valid", name, &len);
    if (is_signed(name))
      signed_round_trip(o, r1, r2, name, xml, len);
    else
      inner_round_trip(o, r1, r2, name, xml, len);
    char root[64];
    snprintf(root, sizeof root, "%.*s", (int)strcspn(name, "."), name);
    enum fx_msg_type t = fx_msg_type_from_name(root);
    cr_expect_neq(t, FX_MSG_NONE, "valid/%s: no such message type", name);
    seen[t][strstr(name, ".max.") != NULL] = true;
    free(xml);
  }
  /* A corpus that lost files would pass the loop above vacuously. */
  for (int t = FX_MSG_NONE + 1; t < FX_MSG__COUNT; t++)
    cr_expect(seen[t][0] && seen[t][1], "no min and max instance of %s", fx_msg_type_name((enum fx_msg_type)t));
  free_listing(&l);
  fx_reader_free(r1);
  fx_reader_free(r2);
  fx_oracle_free(o);
}

/* ---------------------------------------------------------- invalid/ */

/* expected-errors.tsv: "file<TAB>path" rows, '#' comments. */
struct expected {
  char *text; /* the file, rows split in place */
  char *file[MAX_FILES];
  char *where[MAX_FILES];
  int n;
};

static void load_expected(struct expected *e) {
  e->n = 0;
  e->text = fx_test_read_file(DATA "/expected-errors.tsv", NULL);
  cr_assert_not_null(e->text);
  for (char *line = strtok(e->text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#' || !line[0])
      continue;
    char *tab = strchr(line, '\t');
    cr_assert_not_null(tab, "expected-errors.tsv: no TAB in '%s'", line);
    cr_assert_lt(e->n, MAX_FILES);
    *tab = 0;
    e->file[e->n] = line;
    e->where[e->n++] = tab + 1;
  }
}

static const char *expected_where(const struct expected *e, const char *file) {
  for (int i = 0; i < e->n; i++)
    if (!strcmp(e->file[i], file))
      return e->where[i];
  return NULL;
}

Test(codec_corpus, every_invalid_instance_is_rejected_naming_the_expected_place) {
  struct expected e;
  load_expected(&e);
  struct listing l = list_xml(DATA "/invalid");
  cr_expect_eq(l.n, e.n, "%d invalid files, %d rows in expected-errors.tsv", l.n, e.n);
  fx_reader *r = fx_reader_new(NULL);
  cr_assert_not_null(r);
  for (int i = 0; i < l.n; i++) {
    const char *name = l.ents[i]->d_name;
    const char *want = expected_where(&e, name);
    cr_expect_not_null(want, "invalid/%s has no row in expected-errors.tsv", name);
    size_t len;
    char *xml = read_corpus(DATA "/invalid", name, &len);
    struct fx_error err;
    const struct fx_msg *m;
    struct fx_signed s;
    int rc = is_signed(name) ? fx_read_signed(r, xml, len, &s, &err) : fx_read_msg(r, xml, len, &m, &err);
    if (rc == 0)
      cr_expect(0, "invalid/%s accepted by the codec", name);
    else if (want)
      cr_expect_str_eq(err.where, want, "invalid/%s: the codec names %s (%s: %s), expected %s", name, err.where,
                       fx_err_name(err.code), err.why, want);
    free(xml);
  }
  free_listing(&l);
  fx_reader_free(r);
  free(e.text);
}
