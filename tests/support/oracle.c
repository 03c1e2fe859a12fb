/* oracle.c — the official UFTP 3.1.0 XSDs as a test oracle (see oracle.h).
 *
 * The per-role roots of the specification (UFTP-agr.xsd, UFTP-dso.xsd,
 * UFTP-cro.xsd) each include a different subset of the message files, so no
 * single one of them validates every message type. The oracle parses a small
 * root of its own that includes all five definition files; the root document is
 * given a URL inside the xsd-3.1.0 directory so that libxml2 resolves the
 * relative includes there (the file itself never exists on disk).
 *
 * Instances are parsed without DTD loading, entity substitution or network
 * access, and a DOCTYPE is refused the moment the parser meets it: UFTP
 * messages have none, and refusing it before the internal subset is read is
 * what keeps entity bombs and external entities harmless. Errors are captured
 * through per-context structured handlers, so nothing is printed and no global
 * libxml2 state is changed.
 */
#include "tests/support/oracle.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#define XSD_SUBDIR "uftp-spec/xsd-3.1.0"

/* Every message element of 3.1.0 lives in one of these five files. */
static const char root_xsd[] =
    "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\""
    " elementFormDefault=\"qualified\" attributeFormDefault=\"unqualified\">"
    "<xs:include schemaLocation=\"UFTP-common.xsd\"/>"
    "<xs:include schemaLocation=\"UFTP-agr-cro.xsd\"/>"
    "<xs:include schemaLocation=\"UFTP-agr-dso.xsd\"/>"
    "<xs:include schemaLocation=\"UFTP-cro-dso.xsd\"/>"
    "<xs:include schemaLocation=\"UFTP-metering.xsd\"/>"
    "</xs:schema>";

struct fx_oracle {
  xmlDocPtr root;      /* the in-memory root; the parsed schema points into it */
  xmlSchemaPtr schema; /* immutable once parsed */
};

/* First error of a parse or validation, as "line N: message". */
struct capture {
  char *why;
  size_t n;
  int have;
  int doctype;
};

static void capture_msg(struct capture *c, int line, const char *msg) {
  if (c->have)
    return;
  c->have = 1;
  if (c->why == NULL || c->n == 0)
    return;
  snprintf(c->why, c->n, "line %d: %s", line, msg);
  size_t l = strlen(c->why);
  while (l > 0 && (c->why[l - 1] == '\n' || c->why[l - 1] == ' '))
    c->why[--l] = '\0';
}

static void on_error(void *ctx, xmlErrorPtr err) {
  if (err->level < XML_ERR_ERROR)
    return; /* warnings (e.g. "failed to load external entity") do not decide */
  capture_msg(ctx, err->line, err->message ? err->message : "(no message)");
}

/* The parser hands its own context to SAX callbacks; ours hangs off _private. */
static void on_parse_error(void *ctx, xmlErrorPtr err) {
  xmlParserCtxtPtr p = ctx;
  on_error(p->_private, err);
}

static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                           const xmlChar *sys_id) {
  xmlParserCtxtPtr p = ctx;
  struct capture *c = p->_private;
  c->doctype = 1;
  capture_msg(c, xmlSAX2GetLineNumber(p), "DOCTYPE refused: UFTP messages carry no DTD");
  xmlStopParser(p);
}

static int dir_has_schemas(const char *dir) {
  char path[PATH_MAX];
  struct stat st;
  int w = snprintf(path, sizeof path, "%s/" XSD_SUBDIR "/UFTP-common.xsd", dir);
  return w > 0 && (size_t)w < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *fx_test_shared_dir_at(const char *compiled) {
  const char *env = getenv("FLEXD_SHARED_DIR");
  const char *dir = (env != NULL && env[0] != '\0') ? env : compiled;
  return (dir != NULL && dir_has_schemas(dir)) ? dir : NULL;
}

void fx_test_require_shared_at(const char *compiled) {
  if (fx_test_shared_dir_at(compiled) != NULL)
    return;
  const char *env = getenv("FLEXD_SHARED_DIR");
  int from_env = env != NULL && env[0] != '\0';
  const char *dir = from_env ? env : (compiled ? compiled : "(none compiled in)");
  const char *how = from_env ? "$FLEXD_SHARED_DIR" : "FLEXD_SHARED_DIR compiled in";
  const char *ci = getenv("CI");
  if (ci != NULL && strcmp(ci, "true") == 0)
    cr_assert_fail("CI=true and the UFTP 3.1.0 schemas are missing: no %s/" XSD_SUBDIR
                   "/UFTP-common.xsd (from %s)",
                   dir, how);
  cr_skip_test("UFTP 3.1.0 schemas not found, skipping: no %s/" XSD_SUBDIR
               "/UFTP-common.xsd (from %s; set FLEXD_SHARED_DIR to the shared directory)",
               dir, how);
}

struct fx_oracle *fx_oracle_load_from(const char *shared_dir, char *why, size_t n) {
  struct capture cap = {why, n, 0, 0};
  char url[PATH_MAX];
  if (why != NULL && n > 0)
    why[0] = '\0';
  if (shared_dir == NULL) {
    capture_msg(&cap, 0, "no shared directory with the UFTP schemas");
    return NULL;
  }
  int w = snprintf(url, sizeof url, "%s/" XSD_SUBDIR "/flexd-oracle-root.xsd", shared_dir);
  if (w < 0 || (size_t)w >= sizeof url) {
    capture_msg(&cap, 0, "shared directory path too long");
    return NULL;
  }
  xmlInitParser();
  struct fx_oracle *o = calloc(1, sizeof *o);
  if (o == NULL)
    return NULL;
  o->root = xmlReadMemory(root_xsd, (int)sizeof root_xsd - 1, url, NULL, XML_PARSE_NONET);
  xmlSchemaParserCtxtPtr pc = o->root ? xmlSchemaNewDocParserCtxt(o->root) : NULL;
  if (pc != NULL) {
    xmlSchemaSetParserStructuredErrors(pc, on_error, &cap);
    o->schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
  }
  if (o->schema == NULL) {
    capture_msg(&cap, 0, "the UFTP 3.1.0 schemas did not parse");
    fx_oracle_free(o);
    return NULL;
  }
  return o;
}

void fx_oracle_free(struct fx_oracle *o) {
  if (o == NULL)
    return;
  xmlSchemaFree(o->schema);
  xmlFreeDoc(o->root);
  free(o);
}

/* Parses without DTDs, entities or network; NULL (and cap filled) on refusal. */
static xmlDocPtr parse_instance(const char *xml, size_t len, struct capture *cap) {
  if (len > INT_MAX) {
    capture_msg(cap, 0, "document too large");
    return NULL;
  }
  xmlParserCtxtPtr p = xmlCreateMemoryParserCtxt(xml, (int)len);
  if (p == NULL) {
    capture_msg(cap, 0, "cannot create a parser (empty document?)");
    return NULL;
  }
  xmlCtxtUseOptions(p, XML_PARSE_NONET);
  p->_private = cap;
  p->sax->serror = on_parse_error;
  p->sax->internalSubset = refuse_doctype;
  xmlParseDocument(p);
  xmlDocPtr doc = p->myDoc;
  if (doc != NULL && doc->intSubset != NULL) /* a second guard, should the callback not run */
    capture_msg(cap, 0, "DOCTYPE refused: UFTP messages carry no DTD");
  int ok = p->wellFormed && !cap->doctype && doc != NULL && doc->intSubset == NULL;
  p->myDoc = NULL;
  xmlFreeParserCtxt(p);
  if (!ok) {
    capture_msg(cap, 0, "not well-formed");
    xmlFreeDoc(doc);
    return NULL;
  }
  return doc;
}

int fx_oracle_validate(const struct fx_oracle *o, const char *xml, size_t len, char *why,
                       size_t n) {
  struct capture cap = {why, n, 0, 0};
  if (why != NULL && n > 0)
    why[0] = '\0';
  xmlDocPtr doc = parse_instance(xml, len, &cap);
  if (doc == NULL)
    return -1;
  xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(o->schema);
  int rc = -1;
  if (v != NULL) {
    xmlSchemaSetValidStructuredErrors(v, on_error, &cap);
    rc = xmlSchemaValidateDoc(v, doc);
    xmlSchemaFreeValidCtxt(v);
  }
  xmlFreeDoc(doc);
  if (rc != 0) {
    capture_msg(&cap, 0, rc < 0 ? "schema validation failed internally" : "not XSD-valid");
    return -1;
  }
  return 0;
}

char *fx_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  struct stat st;
  char *buf = NULL;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= FX_TEST_MAX_FILE) {
    size_t size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (buf != NULL && fread(buf, 1, size, f) == size) {
      buf[size] = '\0';
      if (len != NULL)
        *len = size;
    } else {
      free(buf);
      buf = NULL;
    }
  } else {
    errno = EFBIG;
  }
  fclose(f);
  return buf;
}
