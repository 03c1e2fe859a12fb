/* cli_keys.c — `flexd keygen`, `seal`, `open` and `validate`: the operator's
 * tools for CS1 keys and SignedMessage envelopes, used to debug a peer.
 *
 * Envelopes and inner messages are read with the codec's reader
 * (fx_read_signed decodes the Body while checking it; fx_sign_open_decoded
 * verifies it), so the operator sees exactly what the platform's endpoint
 * would say. Every input file is read with a size bound. Messages name the
 * file, the peer and the reason, because the person reading them is chasing
 * someone else's bug. */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/b64.h"
#include "codec/codec.h"
#include "codec/keys.h"
#include "codec/sign.h"
#include "engine/cli.h"

/* A sealed message is the inner message, 64 signature bytes, base64 (4/3)
 * and a little XML around it. */
#define MAX_INNER FX_SIGN_DEFAULT_MAX_INNER
#define MAX_SIGNED (FX_B64_ENCODED_LEN(MAX_INNER + FX_SIGN_BYTES) + 4096)
#define MAX_PUBKEYS 2

/* --- small helpers ---------------------------------------------------- */

static int fail(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "flexd %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

static int usage(const char *text) {
  fprintf(stderr, "usage: %s\n", text);
  return 2;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past it.
 * Returns 1 when matched, 0 when not, -1 when the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name,
                     const char **val) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0)
    return 0;
  if (argv[*i][n] == '=') {
    *val = argv[*i] + n + 1;
    return 1;
  }
  if (argv[*i][n] != '\0')
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *val = argv[++*i];
  return 1;
}

/* Reads all of path ("-": stdin), at most max bytes, into a NUL-terminated
 * malloc'd buffer owned by the caller. */
static int read_input(const char *cmd, const char *path, size_t max,
                      char **data, size_t *len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f)
    return fail(cmd, "cannot open %s: %s", path, strerror(errno)), -1;
  char *buf = malloc(max + 2);
  size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
  int rc = -1;
  if (!buf)
    fail(cmd, "out of memory reading %s", path);
  else if (ferror(f))
    fail(cmd, "cannot read %s: %s", path, strerror(errno));
  else if (n > max)
    fail(cmd, "%s is larger than %zu bytes; refusing to read it", path, max);
  else
    rc = 0;
  if (f != stdin)
    fclose(f);
  if (rc != 0) {
    free(buf);
    return -1;
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return 0;
}

/* A file operand: anything but an option; "-" is standard input. */
static int is_operand(const char *arg) {
  return arg[0] != '-' || !strcmp(arg, "-");
}

/* SignedMessage/@SenderDomain: InternetDomainType of UFTP-common.xsd. */
static int domain_ok(const char *d) {
  regex_t re;
  if (regcomp(&re, "^([a-z0-9]+(-[a-z0-9]+)*\\.)+[a-z]{2,}$",
              REG_EXTENDED | REG_NOSUB) != 0)
    return 0;
  int ok = regexec(&re, d, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

/* SignedMessage/@SenderRole: USEF-RoleType. */
static int role_ok(const char *r) {
  return !strcmp(r, "AGR") || !strcmp(r, "CRO") || !strcmp(r, "DSO");
}

/* --- flexd keygen ----------------------------------------------------- */

int fx_cli_keygen(int argc, char **argv) {
  static const char use[] = "flexd keygen -o FILE [--force]";
  const char *out = NULL;
  int flags = 0;
  for (int i = 1; i < argc; i++) {
    int m = opt_value(argc, argv, &i, "-o", &out);
    if (m == 0)
      m = opt_value(argc, argv, &i, "--out", &out);
    if (m == 0 && !strcmp(argv[i], "--force")) {
      flags |= FX_KEYS_FORCE;
      m = 1;
    }
    if (m != 1)
      return usage(use);
  }
  if (!out)
    return usage(use);
  struct fx_keys_pair kp;
  char err[512], cs1[FX_KEYS_CS1_LEN + 1];
  if (fx_keys_generate(&kp) != 0)
    return fail("keygen", "cannot generate keys (libsodium)");
  int rc = fx_keys_file_write(out, &kp, flags, err, sizeof err);
  fx_keys_cs1_format(&kp.pub, cs1);
  fx_keys_wipe(&kp);
  if (rc != 0)
    return fail("keygen", "%s", err);
  printf("%s\n", cs1);
  fprintf(stderr, "flexd keygen: wrote %s (mode 0600); the line above is "
          "the public key to give your peers\n", out);
  return 0;
}

/* --- flexd seal ------------------------------------------------------- */

struct seal_args {
  const char *key, *domain, *role, *input;
};

static int seal_parse(int argc, char **argv, struct seal_args *a) {
  for (int i = 1; i < argc; i++) {
    int m = opt_value(argc, argv, &i, "--key", &a->key);
    if (m == 0)
      m = opt_value(argc, argv, &i, "--sender-domain", &a->domain);
    if (m == 0)
      m = opt_value(argc, argv, &i, "--sender-role", &a->role);
    if (m == 0 && !a->input && is_operand(argv[i])) {
      a->input = argv[i];
      m = 1;
    }
    if (m != 1)
      return -1;
  }
  return a->key && a->domain && a->role && a->input ? 0 : -1;
}

static int seal_print(const struct seal_args *a, const char *body) {
  printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<SignedMessage SenderDomain=\"%s\" SenderRole=\"%s\" Body=\"%s\"/>\n",
         a->domain, a->role, body);
  if (fflush(stdout) != 0)
    return fail("seal", "cannot write the output: %s", strerror(errno));
  return 0;
}

int fx_cli_seal(int argc, char **argv) {
  struct seal_args a = {NULL, NULL, NULL, NULL};
  if (seal_parse(argc, argv, &a) != 0)
    return usage("flexd seal --key FILE --sender-domain DOMAIN "
                 "--sender-role AGR|CRO|DSO INNER.xml");
  if (!domain_ok(a.domain))
    return fail("seal", "--sender-domain '%s' is not an Internet domain as "
                "UFTP requires (lower case, e.g. dso.example.com)", a.domain);
  if (!role_ok(a.role))
    return fail("seal", "--sender-role must be AGR, CRO or DSO, not '%s'",
                a.role);
  struct fx_keys_pair kp;
  char err[512];
  if (fx_keys_file_read(a.key, &kp, err, sizeof err) != 0)
    return fail("seal", "%s", err);
  char *inner = NULL;
  size_t len = 0;
  fx_sign_ctx *ctx = NULL;
  const char *body = NULL;
  size_t body_len = 0;
  int rc = 1, st = FX_SIGN_ENOMEM;
  if (read_input("seal", a.input, MAX_INNER, &inner, &len) == 0 &&
      (ctx = fx_sign_ctx_new(MAX_INNER)) != NULL &&
      (st = fx_sign_seal(ctx, kp.sec.sign, inner, len, &body, &body_len)) ==
          FX_SIGN_OK)
    rc = seal_print(&a, body);
  else if (inner)
    fail("seal", "cannot seal %s: %s", a.input, fx_sign_strerror(st));
  fx_keys_wipe(&kp);
  fx_sign_ctx_free(ctx);
  free(inner);
  return rc;
}

/* --- flexd open ------------------------------------------------------- */

/* The arguments of open and validate: one file and up to two public keys
 * (a sender lists its old and new key during rotation). */
struct open_args {
  const char *input;
  const char *pubkey[MAX_PUBKEYS];
  size_t npub;
  uint8_t pks[MAX_PUBKEYS][32]; /* the signing halves of pubkey[] */
};

static int open_parse(const char *cmd, int argc, char **argv,
                      struct open_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int m = opt_value(argc, argv, &i, "--pubkey", &v);
    if (m == 1 && a->npub == MAX_PUBKEYS)
      return fail(cmd, "at most %d --pubkey options (old and new key)",
                  MAX_PUBKEYS), -1;
    if (m == 1)
      a->pubkey[a->npub++] = v;
    if (m == 0 && !a->input && is_operand(argv[i])) {
      a->input = argv[i];
      m = 1;
    }
    if (m != 1)
      return -1;
  }
  return a->input ? 0 : -1;
}

/* Parses the cs1 strings into a->pks; reports a malformed one. */
static int open_keys(const char *cmd, struct open_args *a) {
  for (size_t k = 0; k < a->npub; k++) {
    struct fx_keys_public pub;
    const char *why = NULL;
    if (fx_keys_cs1_parse(a->pubkey[k], strlen(a->pubkey[k]), &pub, &why))
      return fail(cmd, "--pubkey %.16s...: %s", a->pubkey[k], why), -1;
    memcpy(a->pks[k], pub.sign, 32);
  }
  return 0;
}

/* Reports why a Body did not open, in terms of the peer. */
static int open_report(const char *cmd, const struct open_args *a,
                       const char *domain, const char *role, int st,
                       const struct fx_sign_opened *o) {
  switch (st) {
  case FX_SIGN_EBASE64:
    return fail(cmd, "%s: Body is not valid base64 at offset %zu: %s",
                a->input, o->bad_offset, o->why);
  case FX_SIGN_ESHORT:
    return fail(cmd, "%s: Body is too short to hold a 64-byte signature; "
                "it was not sealed with CS1", a->input);
  case FX_SIGN_EBADSIG:
    return fail(cmd, "%s: signature does not verify with %s for %s (%s) "
                "(%.16s...%s): the sender signed with another key, or the "
                "Body was altered in transit", a->input,
                a->npub > 1 ? "either key given" : "the key given", domain,
                role, a->pubkey[0], a->npub > 1 ? " and the other" : "");
  default:
    return fail(cmd, "%s: %s", a->input, fx_sign_strerror(st));
  }
}

static const char *role_name(enum fx_role r) {
  return r == FX_ROLE_AGR ? "AGR" : r == FX_ROLE_CRO ? "CRO"
       : r == FX_ROLE_DSO ? "DSO" : "?";
}

static int invalid(const char *cmd, const char *input, const char *what,
                   const struct fx_error *err) {
  return fail(cmd, "%s: invalid %s: %s%s%s (%s)", input, what, err->where,
              err->where[0] ? ": " : "", err->why, fx_err_name(err->code));
}

/* Verifies the Body the reader decoded with the keys given, or (no keys:
 * validate only) just splits off the signature, reported as unchecked. */
static int open_signed(const char *cmd, const struct open_args *a,
                       const struct fx_signed *s, struct fx_sign_opened *o) {
  int st;
  if (a->npub)
    st = fx_sign_open_decoded((const uint8_t(*)[32])a->pks, a->npub,
                              s->decoded, s->decoded_len, o);
  else if (s->decoded_len < FX_SIGN_BYTES)
    st = FX_SIGN_ESHORT;
  else {
    *o = (struct fx_sign_opened){.inner = (const char *)s->decoded + FX_SIGN_BYTES,
                                 .len = s->decoded_len - FX_SIGN_BYTES};
    st = FX_SIGN_OK;
  }
  if (st != FX_SIGN_OK)
    return open_report(cmd, a, s->sender_domain, role_name(s->sender_role),
                       st, o);
  return 0;
}

int fx_cli_open(int argc, char **argv) {
  struct open_args a;
  memset(&a, 0, sizeof a);
  if (open_parse("open", argc, argv, &a) != 0 || a.npub == 0)
    return usage("flexd open --pubkey cs1.KEY [--pubkey cs1.KEY] SIGNED.xml");
  if (open_keys("open", &a) != 0)
    return 1;
  char *xml = NULL;
  size_t len = 0;
  if (read_input("open", a.input, MAX_SIGNED, &xml, &len) != 0)
    return 1;
  fx_reader *r = fx_reader_new(NULL);
  struct fx_signed s;
  struct fx_sign_opened o;
  struct fx_error err;
  int rc = 1;
  if (!r)
    fail("open", "out of memory");
  else if (fx_read_signed(r, xml, len, &s, &err) != 0)
    invalid("open", a.input, "SignedMessage", &err);
  else if (open_signed("open", &a, &s, &o) == 0)
    rc = fwrite(o.inner, 1, o.len, stdout) != o.len || fflush(stdout) != 0
             ? fail("open", "cannot write the output: %s", strerror(errno))
             : 0;
  fx_reader_free(r);
  free(xml);
  return rc;
}

/* --- flexd validate ---------------------------------------------------- */

static int validate_signed(const struct open_args *a, fx_reader *r,
                           const char *xml, size_t len) {
  struct fx_signed s;
  struct fx_error err;
  if (fx_read_signed(r, xml, len, &s, &err) != 0)
    return invalid("validate", a->input, "SignedMessage", &err);
  /* The reader's arena is reused by the next read: keep what we need (the
   * decoded Body is not in the arena and survives fx_read_msg). */
  char *domain = strdup(s.sender_domain);
  const char *role = role_name(s.sender_role);
  struct fx_sign_opened o;
  const struct fx_msg *m = NULL;
  int rc = 1;
  if (!domain)
    fail("validate", "out of memory");
  else if (open_signed("validate", a, &s, &o) != 0)
    ;
  else if (fx_read_msg(r, o.inner, o.len, &m, &err) != 0)
    invalid("validate", a->input, "inner message", &err);
  else if (strcmp(m->hdr.sender_domain, domain) != 0)
    fail("validate", "%s: Mismatch SenderDomain: the SignedMessage says %s, "
         "the inner %s says %s", a->input, domain,
         fx_msg_type_name(m->type), m->hdr.sender_domain);
  else {
    printf("valid: SignedMessage from %s (%s) containing %s; signature %s\n",
           domain, role, fx_msg_type_name(m->type),
           a->npub ? "verified" : "NOT checked (give --pubkey to check it)");
    rc = 0;
  }
  free(domain);
  return rc;
}

static int validate_doc(const struct open_args *a, fx_reader *r,
                        const char *xml, size_t len) {
  const struct fx_msg *m = NULL;
  struct fx_error err, err2;
  if (fx_read_msg(r, xml, len, &m, &err) == 0) {
    printf("valid: %s\n", fx_msg_type_name(m->type));
    return 0;
  }
  /* Not an inner message: perhaps an envelope. */
  struct fx_signed s;
  if (err.code == FX_E_ROOT &&
      (fx_read_signed(r, xml, len, &s, &err2) == 0 || err2.code != FX_E_ROOT))
    return validate_signed(a, r, xml, len);
  return invalid("validate", a->input, "UFTP message", &err);
}

int fx_cli_validate(int argc, char **argv) {
  struct open_args a;
  memset(&a, 0, sizeof a);
  if (open_parse("validate", argc, argv, &a) != 0)
    return usage("flexd validate [--pubkey cs1.KEY]... FILE.xml");
  if (open_keys("validate", &a) != 0)
    return 1;
  char *xml = NULL;
  size_t len = 0;
  if (read_input("validate", a.input, MAX_SIGNED, &xml, &len) != 0)
    return 1;
  fx_reader *r = fx_reader_new(NULL);
  int rc = r ? validate_doc(&a, r, xml, len) : fail("validate", "out of memory");
  fx_reader_free(r);
  free(xml);
  return rc;
}
