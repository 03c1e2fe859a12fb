/* test_oracle_corpus.c — proves the conformance corpus means what it says.
 *
 * tests/data/ holds, for every UFTP 3.1.0 message element, a minimal and a
 * maximal valid instance, one invalid instance per schema constraint, and
 * hostile inputs (see tests/data/README.md). The codec's tests stand on that
 * corpus, so here the official XSDs (the oracle) judge it: valid means valid,
 * each invalid file is invalid for the reason its name gives, and hostile files
 * are refused without reading files or opening sockets.
 */
#include "tests/support/oracle.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA FLEXD_SOURCE_DIR "/tests/data"
#define MAX_FILES 2048

/* Every global element declared by the 3.1.0 XSDs. */
static const char *const message_elements[] = {
    "SignedMessage",          "TestMessage",
    "TestMessageResponse",    "AGRPortfolioUpdate",
    "AGRPortfolioUpdateResponse", "AGRPortfolioQuery",
    "AGRPortfolioQueryResponse",  "DSOPortfolioUpdate",
    "DSOPortfolioUpdateResponse", "DSOPortfolioQuery",
    "DSOPortfolioQueryResponse",  "FlexReservationUpdate",
    "FlexReservationUpdateResponse", "D-Prognosis",
    "D-PrognosisResponse",    "FlexRequest",
    "FlexRequestResponse",    "FlexOffer",
    "FlexOfferResponse",      "FlexOfferRevocation",
    "FlexOfferRevocationResponse", "FlexOrder",
    "FlexOrderResponse",      "FlexSettlement",
    "FlexSettlementResponse", "Metering",
    "MeteringResponse",
};
#define N_ELEMENTS (sizeof message_elements / sizeof message_elements[0])

static struct fx_oracle *oracle;

static void setup(void) {
  fx_test_require_shared();
  char why[512];
  oracle = fx_oracle_load_from(fx_test_shared_dir(), why, sizeof why);
  cr_assert_not_null(oracle, "oracle did not load: %s", why);
}

static void teardown(void) {
  fx_oracle_free(oracle);
  oracle = NULL;
}

TestSuite(oracle_corpus, .init = setup, .fini = teardown);

/* The names of the *.xml files of a corpus directory, sorted; caller frees. */
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
  cr_assert(l.n > 0, "no *.xml in %s", dir);
  cr_assert(l.n <= MAX_FILES, "%d files in %s", l.n, dir);
  return l;
}

static void free_listing(struct listing *l) {
  for (int i = 0; i < l->n; i++)
    free(l->ents[i]);
  free(l->ents);
}

static int validate_file(const char *dir, const char *name, char *why, size_t n) {
  char path[1024];
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *xml = fx_test_read_file(path, &len);
  cr_assert_not_null(xml, "cannot read %s", path);
  int rc = fx_oracle_validate(oracle, xml, len, why, n);
  free(xml);
  return rc;
}

Test(oracle_corpus, every_message_element_has_a_min_and_a_max_instance) {
  char path[512];
  struct stat st;
  for (size_t i = 0; i < N_ELEMENTS; i++) {
    for (int full = 0; full < 2; full++) {
      snprintf(path, sizeof path, DATA "/valid/%s.%s.xml", message_elements[i],
               full ? "max" : "min");
      cr_expect(stat(path, &st) == 0, "missing %s", path);
    }
  }
  struct listing l = list_xml(DATA "/valid");
  cr_expect_eq(l.n, (int)(2 * N_ELEMENTS), "valid/ has %d files, expected %zu", l.n,
               2 * N_ELEMENTS);
  free_listing(&l);
}

Test(oracle_corpus, every_valid_instance_is_xsd_valid) {
  struct listing l = list_xml(DATA "/valid");
  char why[1024];
  for (int i = 0; i < l.n; i++)
    cr_expect_eq(validate_file(DATA "/valid", l.ents[i]->d_name, why, sizeof why), 0,
                 "valid/%s rejected: %s", l.ents[i]->d_name, why);
  free_listing(&l);
}

Test(oracle_corpus, the_root_element_of_a_valid_instance_is_in_its_file_name) {
  struct listing l = list_xml(DATA "/valid");
  char path[1024], want[256];
  for (int i = 0; i < l.n; i++) {
    const char *name = l.ents[i]->d_name;
    snprintf(path, sizeof path, DATA "/valid/%s", name);
    snprintf(want, sizeof want, "<%.*s ", (int)strcspn(name, "."), name);
    char *xml = fx_test_read_file(path, NULL);
    cr_assert_not_null(xml);
    cr_expect(strstr(xml, want) != NULL, "valid/%s does not start with %s", name, want);
    free(xml);
  }
  free_listing(&l);
}

/* expected-errors.tsv: one "file<TAB>path" row per invalid file. */
struct expectation {
  char file[160];
  char path[160];
};

static int load_expectations(struct expectation *ex, int cap) {
  size_t len = 0;
  char *tsv = fx_test_read_file(DATA "/expected-errors.tsv", &len);
  cr_assert_not_null(tsv, "cannot read expected-errors.tsv");
  int n = 0;
  char *save = NULL;
  for (char *line = strtok_r(tsv, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (line[0] == '#')
      continue;
    char *tab = strchr(line, '\t');
    cr_assert_not_null(tab, "malformed row: %s", line);
    cr_assert_lt(n, cap);
    *tab = '\0';
    snprintf(ex[n].file, sizeof ex[n].file, "%s", line);
    snprintf(ex[n].path, sizeof ex[n].path, "%s", tab + 1);
    n++;
  }
  free(tsv);
  return n;
}

static const struct expectation *find_expectation(const struct expectation *ex, int n,
                                                  const char *file) {
  for (int i = 0; i < n; i++)
    if (strcmp(ex[i].file, file) == 0)
      return &ex[i];
  return NULL;
}

/* The name of the last step of a path: "FlexOffer/OfferOption[1]" -> OfferOption. */
static void last_step(const char *path, size_t upto, char *out, size_t n) {
  size_t start = upto;
  while (start > 0 && path[start - 1] != '/')
    start--;
  size_t end = start;
  while (end < upto && path[end] != '[')
    end++;
  snprintf(out, n, "%.*s", (int)(end - start), path + start);
}

/* libxml2 names the place: "Element 'E', attribute 'A'" for an attribute; the
 * missing child among the expected ones ("Expected is ( ISP )"); else the
 * element itself, except that a child of an empty-content element is reported
 * on the parent ("Element content is not allowed, because the content type is
 * empty"). */
static void expect_named(const char *file, const char *path, const char *why) {
  char elem[128], want[160];
  const char *at = strchr(path, '@');
  if (at != NULL) {
    last_step(path, (size_t)(at - path), elem, sizeof elem);
    snprintf(want, sizeof want, "'%s'", at + 1);
    cr_expect(strstr(why, want) != NULL, "%s: error does not name attribute %s: %s", file,
              want, why);
    snprintf(want, sizeof want, "Element '%s'", elem);
  } else if (strchr(path, '/') != NULL && path[strlen(path) - 1] != ']') {
    last_step(path, strlen(path), elem, sizeof elem);
    snprintf(want, sizeof want, " %s ", elem); /* in "( A, B )" */
    if (strstr(why, want) == NULL)
      snprintf(want, sizeof want, " %s,", elem);
  } else {
    last_step(path, strlen(path), elem, sizeof elem);
    snprintf(want, sizeof want, "%s'", elem); /* also "{ns}E'" */
    const char *slash = strrchr(path, '/');
    if (strstr(why, want) == NULL && slash != NULL && strstr(why, "content type is empty")) {
      last_step(path, (size_t)(slash - path), elem, sizeof elem);
      snprintf(want, sizeof want, "Element '%s'", elem);
    }
  }
  cr_expect(strstr(why, want) != NULL, "%s: error does not name %s: %s", file, want, why);
}

Test(oracle_corpus, every_invalid_instance_is_xsd_invalid_for_its_named_reason) {
  static struct expectation ex[MAX_FILES];
  int n = load_expectations(ex, MAX_FILES);
  struct listing l = list_xml(DATA "/invalid");
  cr_expect_eq(l.n, n, "invalid/ has %d files, expected-errors.tsv %d rows", l.n, n);
  char why[1024];
  for (int i = 0; i < l.n; i++) {
    const char *name = l.ents[i]->d_name;
    const struct expectation *e = find_expectation(ex, n, name);
    cr_expect_not_null(e, "invalid/%s has no row in expected-errors.tsv", name);
    int rc = validate_file(DATA "/invalid", name, why, sizeof why);
    cr_expect_eq(rc, -1, "invalid/%s accepted by the XSDs", name);
    if (rc == -1 && e != NULL)
      expect_named(name, e->path, why);
  }
  free_listing(&l);
}

Test(oracle_corpus, every_invalid_instance_breaks_a_valid_instance_of_its_type) {
  struct listing l = list_xml(DATA "/invalid");
  char path[512];
  struct stat st;
  for (int i = 0; i < l.n; i++) {
    const char *name = l.ents[i]->d_name;
    snprintf(path, sizeof path, DATA "/valid/%.*s.max.xml", (int)strcspn(name, "."), name);
    cr_expect(stat(path, &st) == 0, "invalid/%s names no message type", name);
  }
  free_listing(&l);
}

Test(oracle_corpus, every_hostile_input_is_refused) {
  struct listing l = list_xml(DATA "/hostile");
  char why[1024];
  for (int i = 0; i < l.n; i++) {
    const char *name = l.ents[i]->d_name;
    cr_expect_eq(validate_file(DATA "/hostile", name, why, sizeof why), -1,
                 "hostile/%s accepted", name);
    cr_expect(why[0] != '\0', "hostile/%s refused without a reason", name);
  }
  free_listing(&l);
}

Test(oracle_corpus, a_doctype_is_refused_even_when_it_would_make_the_message_valid) {
  char why[1024];
  cr_assert_eq(validate_file(DATA "/hostile", "doctype-internal-entity.xml", why, sizeof why),
               -1);
  cr_expect(strstr(why, "DOCTYPE") != NULL, "got: %s", why);
}

Test(oracle_corpus, an_external_file_entity_is_never_read) {
  char why[1024];
  cr_assert_eq(validate_file(DATA "/hostile", "xxe-file.xml", why, sizeof why), -1);
  cr_expect(strstr(why, "root:") == NULL, "file content leaked: %s", why);
  cr_expect(strstr(why, "DOCTYPE") != NULL, "got: %s", why);
}

Test(oracle_corpus, deep_nesting_is_refused) {
  char why[1024];
  cr_assert_eq(validate_file(DATA "/hostile", "deep-nesting-10000.xml", why, sizeof why), -1);
  cr_expect(strstr(why, "depth") != NULL, "got: %s", why);
}

/* A loopback listener nobody should connect to: any attempt to fetch an
 * external entity or DTD from it is a queued connection on its backlog. */
static int listen_loopback(int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(s, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(s, 8), 0);
  cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
  cr_assert_eq(fcntl(s, F_SETFL, O_NONBLOCK), 0);
  *port = ntohs(a.sin_port);
  return s;
}

/* A fetching oracle would wait for a reply that never comes: the timeout turns
 * that regression into a failure instead of a hang. */
Test(oracle_corpus, external_entities_and_dtds_never_touch_the_network, .timeout = 20.0) {
  static const char *const attacks[] = {
      "<!DOCTYPE TestMessage [<!ENTITY x SYSTEM \"http://127.0.0.1:%d/x\">]><TestMessage>&x;</TestMessage>",
      "<!DOCTYPE TestMessage [<!ENTITY %% p SYSTEM \"http://127.0.0.1:%d/p.dtd\"> %%p;]><TestMessage/>",
      "<!DOCTYPE TestMessage SYSTEM \"http://127.0.0.1:%d/uftp.dtd\"><TestMessage/>",
      "<TestMessage xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"http://127.0.0.1:%d/x\"/></TestMessage>",
  };
  int port = 0;
  int s = listen_loopback(&port);
  char doc[512], why[1024];
  for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
    int w = snprintf(doc, sizeof doc, attacks[i], port);
    cr_assert(w > 0 && (size_t)w < sizeof doc);
    cr_expect_eq(fx_oracle_validate(oracle, doc, (size_t)w, why, sizeof why), -1,
                 "attack %zu accepted", i);
  }
  /* Validation is synchronous: a fetch would already sit in the backlog. */
  int c = accept(s, NULL, NULL);
  int err = errno;
  if (c >= 0)
    close(c);
  close(s);
  cr_expect(c < 0 && (err == EAGAIN || err == EWOULDBLOCK),
            "the oracle connected to 127.0.0.1:%d", port);
}

Test(oracle_corpus, a_validation_error_names_line_and_place) {
  static const char bad[] =
      "<FlexOfferRevocation Version=\"3.1.0\" SenderDomain=\"agr.example.com\"\n"
      " RecipientDomain=\"dso.example.com\" TimeStamp=\"2025-03-01T09:15:00Z\"\n"
      " MessageID=\"not-a-uuid\" ConversationID=\"2d4b523a-7866-52f9-98f9-5dcb21c740cc\"\n"
      " FlexOfferMessageID=\"2d4b523a-7866-52f9-98f9-5dcb21c740cc\"/>\n";
  char why[1024];
  cr_assert_eq(fx_oracle_validate(oracle, bad, sizeof bad - 1, why, sizeof why), -1);
  cr_expect(strncmp(why, "line ", 5) == 0, "got: %s", why);
  cr_expect(strstr(why, "'MessageID'") != NULL, "got: %s", why);
  cr_expect(strchr(why, '\n') == NULL, "message not trimmed: %s", why);
}

Test(oracle_corpus, a_short_buffer_gets_a_truncated_message) {
  static const char bad[] = "<TestMessage/>";
  char why[8];
  cr_assert_eq(fx_oracle_validate(oracle, bad, sizeof bad - 1, why, sizeof why), -1);
  cr_expect_eq(strlen(why), sizeof why - 1);
  cr_expect_eq(fx_oracle_validate(oracle, bad, sizeof bad - 1, NULL, 0), -1);
}

Test(oracle_corpus, malformed_and_empty_documents_are_refused) {
  char why[256];
  cr_expect_eq(fx_oracle_validate(oracle, "", 0, why, sizeof why), -1);
  cr_expect_eq(fx_oracle_validate(oracle, "<TestMessage", 12, why, sizeof why), -1);
  cr_expect(why[0] != '\0');
}

/* These do not need the schemas: they pin down the helpers' own rules. */
Test(oracle_helpers, shared_dir_is_null_when_the_environment_points_nowhere) {
  cr_assert_eq(setenv("FLEXD_SHARED_DIR", "/nonexistent/flexd-shared", 1), 0);
  cr_expect_null(fx_test_shared_dir());
  cr_expect_null(fx_test_shared_dir_at(NULL));
  cr_expect_null(fx_oracle_load());
}

Test(oracle_helpers, shared_dir_falls_back_to_the_compiled_path) {
  cr_assert_eq(unsetenv("FLEXD_SHARED_DIR"), 0);
  cr_expect_null(fx_test_shared_dir_at("/nonexistent/flexd-shared"));
  cr_expect_null(fx_test_shared_dir_at(NULL));
  fx_test_require_shared();
  cr_expect_str_eq(fx_test_shared_dir(), FLEXD_SHARED_DIR);
}

Test(oracle_helpers, read_file_returns_exact_bytes_and_refuses_oversized_files) {
  char path[] = "/tmp/flexd-oracle-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  static const char body[] = "a\0b<x/>";
  cr_assert_eq(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
  size_t len = 0;
  char *got = fx_test_read_file(path, &len);
  cr_expect_not_null(got);
  cr_expect_eq(len, sizeof body - 1);
  cr_expect(got != NULL && memcmp(got, body, len) == 0 && got[len] == '\0');
  free(got);
  /* A sparse file one byte over the bound: no disk use, still refused. */
  cr_assert_eq(ftruncate(fd, (off_t)FX_TEST_MAX_FILE + 1), 0);
  cr_expect_null(fx_test_read_file(path, &len));
  close(fd);
  unlink(path);
  cr_expect_null(fx_test_read_file("/nonexistent/flexd-file", &len));
}
