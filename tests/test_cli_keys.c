/* test_cli_keys.c — `flexd keygen`, `flexd seal`, `flexd open` as an operator
 * runs them: the real binary (FLEXD_BINARY) in a temporary directory. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Bytes an XML-unaware tool might mangle: CRLF, UTF-8, no final newline. */
static const char INNER[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<!-- \xc3\xa9\xe2\x82\xac -->\r\n"
    "<TestMessage Version=\"3.1.0\" SenderDomain=\"dso.example.com\" "
    "RecipientDomain=\"flexd.example.com\" TimeStamp=\"2025-03-01T12:00:00Z\" "
    "MessageID=\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\" "
    "ConversationID=\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\"/>";

struct sandbox {
  char dir[64];
  char out[16384]; /* stdout of the last run */
  size_t out_len;
  char err[4096]; /* stderr of the last run */
};

static void slurp(const char *dir, const char *name, char *buf, size_t cap,
                  size_t *len) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
  if (len)
    *len = n;
}

static void put(struct sandbox *s, const char *name, const char *text) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", s->dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
  fclose(f);
}

/* Runs `flexd ARGS` in the sandbox; returns its exit status. */
static int run(struct sandbox *s, const char *fmt, ...) {
  char args[1024], cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >stdout 2>stderr", s->dir,
           FLEXD_BINARY, args);
  int st = system(cmd);
  slurp(s->dir, "stdout", s->out, sizeof s->out, &s->out_len);
  slurp(s->dir, "stderr", s->err, sizeof s->err, NULL);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sandbox_make(struct sandbox *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "/tmp/flexd-cli-XXXXXX");
  cr_assert_not_null(mkdtemp(s->dir));
  put(s, "inner.xml", INNER);
}

static void sandbox_remove(struct sandbox *s) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
  cr_assert_eq(system(cmd), 0);
}

/* keygen FILE; copies the printed public key (without newline) into pk. */
static void keygen(struct sandbox *s, const char *file, char pk[100]) {
  cr_assert_eq(run(s, "keygen -o %s", file), 0, "%s", s->err);
  cr_assert_eq(s->out_len, 93, "stdout: %s", s->out); /* 92 + newline */
  cr_assert_eq(strncmp(s->out, "cs1.", 4), 0);
  memcpy(pk, s->out, 92);
  pk[92] = '\0';
}

static void seal(struct sandbox *s, const char *key) {
  cr_assert_eq(run(s, "seal --key %s --sender-domain dso.example.com "
                      "--sender-role DSO inner.xml", key), 0, "%s", s->err);
  put(s, "signed.xml", s->out);
}

Test(cli_keys, keygen_seal_open_gives_back_the_exact_inner_bytes) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100];
  keygen(&s, "dso.key", pk);
  seal(&s, "dso.key");
  static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<SignedMessage SenderDomain=\"dso.example.com\" "
                             "SenderRole=\"DSO\" Body=\"";
  cr_assert(strncmp(s.out, head, sizeof head - 1) == 0, "%s", s.out);
  cr_assert(strcmp(s.out + s.out_len - 4, "\"/>\n") == 0, "%s", s.out);
  cr_assert_eq(run(&s, "open --pubkey %s signed.xml", pk), 0, "%s", s.err);
  cr_assert_eq(s.out_len, strlen(INNER));
  cr_assert_eq(memcmp(s.out, INNER, s.out_len), 0);
  sandbox_remove(&s);
}

Test(cli_keys, open_with_another_key_fails_with_a_clear_message) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100], other[100];
  keygen(&s, "dso.key", pk);
  keygen(&s, "other.key", other);
  seal(&s, "dso.key");
  cr_assert_eq(run(&s, "open --pubkey %s signed.xml", other), 1);
  cr_assert_eq(s.out_len, 0, "nothing may be printed: %s", s.out);
  cr_assert(strstr(s.err, "signature does not verify") &&
                strstr(s.err, "dso.example.com (DSO)"), "%s", s.err);
  /* During key rotation either key will do. */
  cr_assert_eq(run(&s, "open --pubkey %s --pubkey %s signed.xml", other, pk), 0,
               "%s", s.err);
  cr_assert_eq(memcmp(s.out, INNER, strlen(INNER)), 0);
  sandbox_remove(&s);
}

Test(cli_keys, keygen_writes_0600_and_never_overwrites_without_force) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100], pk2[100];
  keygen(&s, "k", pk);
  char path[128];
  snprintf(path, sizeof path, "%s/k", s.dir);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  cr_assert_eq(run(&s, "keygen -o k"), 1);
  cr_assert(strstr(s.err, "already exists") != NULL, "%s", s.err);
  cr_assert_eq(run(&s, "keygen -o k --force"), 0, "%s", s.err);
  memcpy(pk2, s.out, 92);
  pk2[92] = '\0';
  cr_assert_str_neq(pk, pk2);
  seal(&s, "k");
  cr_assert_eq(run(&s, "open --pubkey %s signed.xml", pk2), 0, "%s", s.err);
  sandbox_remove(&s);
}

Test(cli_keys, seal_refuses_a_world_readable_key_file) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100], path[128];
  keygen(&s, "k", pk);
  snprintf(path, sizeof path, "%s/k", s.dir);
  cr_assert_eq(chmod(path, 0644), 0);
  cr_assert_eq(run(&s, "seal --key k --sender-domain dso.example.com "
                       "--sender-role DSO inner.xml"), 1);
  cr_assert(strstr(s.err, "chmod 600") != NULL, "%s", s.err);
  cr_assert_eq(s.out_len, 0);
  sandbox_remove(&s);
}

Test(cli_keys, seal_checks_sender_domain_and_role) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100];
  keygen(&s, "k", pk);
  cr_assert_eq(run(&s, "seal --key k --sender-domain DSO.example.com "
                       "--sender-role DSO inner.xml"), 1);
  cr_assert(strstr(s.err, "--sender-domain") != NULL, "%s", s.err);
  cr_assert_eq(run(&s, "seal --key k --sender-domain dso.example.com "
                       "--sender-role BRP inner.xml"), 1);
  cr_assert(strstr(s.err, "AGR, CRO or DSO") != NULL, "%s", s.err);
  cr_assert_eq(run(&s, "seal --key k inner.xml"), 2);
  sandbox_remove(&s);
}

Test(cli_keys, open_names_the_offset_of_bad_base64) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100];
  keygen(&s, "k", pk);
  seal(&s, "k");
  char *body = strstr(s.out, "Body=\"");
  cr_assert_not_null(body);
  body[6 + 17] = '*';
  put(&s, "signed.xml", s.out);
  cr_assert_eq(run(&s, "open --pubkey %s signed.xml", pk), 1);
  cr_assert(strstr(s.err, "SignedMessage@Body: not xs:base64Binary: character not in the "
                   "base64 alphabet at offset 17") != NULL,
            "%s", s.err);
  sandbox_remove(&s);
}

Test(cli_keys, open_rejects_what_is_not_a_signed_message) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100];
  keygen(&s, "k", pk);
  cr_assert_eq(run(&s, "open --pubkey %s inner.xml", pk), 1);
  cr_assert(strstr(s.err, "root element TestMessage is not SignedMessage") != NULL, "%s", s.err);
  put(&s, "dtd.xml", "<!DOCTYPE SignedMessage [<!ENTITY x \"y\">]>"
                     "<SignedMessage SenderDomain=\"a.example.com\" "
                     "SenderRole=\"DSO\" Body=\"&x;\"/>");
  cr_assert_eq(run(&s, "open --pubkey %s dtd.xml", pk), 1);
  cr_assert(strstr(s.err, "DOCTYPE (DTD) not allowed") != NULL, "%s", s.err);
  put(&s, "nobody.xml", "<SignedMessage SenderDomain=\"a.example.com\" "
                        "SenderRole=\"DSO\"/>");
  cr_assert_eq(run(&s, "open --pubkey %s nobody.xml", pk), 1);
  cr_assert(strstr(s.err, "SignedMessage@Body: required attribute missing") != NULL, "%s",
            s.err);
  cr_assert_eq(run(&s, "open --pubkey cs1.AAAA nobody.xml"), 1);
  cr_assert(strstr(s.err, "88 base64 characters") != NULL, "%s", s.err);
  sandbox_remove(&s);
}

Test(cli_keys, validate_names_the_type_or_where_and_why) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100], other[100];
  keygen(&s, "k", pk);
  keygen(&s, "other", other);
  cr_assert_eq(run(&s, "validate inner.xml"), 0, "%s", s.err);
  cr_assert_str_eq(s.out, "valid: TestMessage\n");
  seal(&s, "k");
  cr_assert_eq(run(&s, "validate --pubkey %s signed.xml", pk), 0, "%s", s.err);
  cr_assert(strstr(s.out, "valid: SignedMessage from dso.example.com (DSO) "
                          "containing TestMessage; signature verified"),
            "%s", s.out);
  cr_assert_eq(run(&s, "validate signed.xml"), 0, "%s", s.err);
  cr_assert(strstr(s.out, "signature NOT checked") != NULL, "%s", s.out);
  cr_assert_eq(run(&s, "validate --pubkey %s signed.xml", other), 1);
  cr_assert(strstr(s.err, "signature does not verify") != NULL, "%s", s.err);
  put(&s, "v.xml", "<TestMessage Version=\"3.x\" SenderDomain=\"a.example.com\" "
                   "RecipientDomain=\"b.example.com\" "
                   "TimeStamp=\"2025-03-01T12:00:00Z\" "
                   "MessageID=\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\" "
                   "ConversationID=\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\"/>");
  cr_assert_eq(run(&s, "validate v.xml"), 1);
  cr_assert(strstr(s.err, "TestMessage@Version") != NULL, "%s", s.err);
  sandbox_remove(&s);
}

Test(cli_keys, validate_rejects_a_sender_domain_mismatch) {
  struct sandbox s;
  sandbox_make(&s);
  char pk[100];
  keygen(&s, "k", pk);
  cr_assert_eq(run(&s, "seal --key k --sender-domain agr.example.com "
                       "--sender-role AGR inner.xml"), 0, "%s", s.err);
  put(&s, "signed.xml", s.out);
  cr_assert_eq(run(&s, "validate --pubkey %s signed.xml", pk), 1);
  cr_assert(strstr(s.err, "Mismatch SenderDomain") != NULL, "%s", s.err);
  sandbox_remove(&s);
}
