/* sink_ids.c — identifiers of a received SignedMessage, for matching responses to
 * the requests that caused them after the measured window (see sink.h).
 *
 * The envelope is <SignedMessage SenderDomain SenderRole Body>, Body being the
 * base64 of an Ed25519 combined signature: 64 signature bytes, then the inner XML.
 * Reading the inner message's attributes needs no key; trusting them does
 * (fx_sink_verify, or the codec with the participant registry). */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/sink.h"

#define SIG_BYTES 64
/* No network, no entity expansion (the default), no noise on stderr. */
#define PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static void copy_attr(xmlNodePtr n, const char *name, char *dst, size_t cap) {
  xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
  dst[0] = '\0';
  if (v == NULL) return;
  snprintf(dst, cap, "%s", (const char *)v);
  xmlFree(v);
}

/* Base64 → bytes; returns the decoded length or -1. `out` holds 3/4 of `len`. */
static int b64_decode(const char *in, size_t len, unsigned char *out) {
  if (len % 4 != 0 || len > INT32_MAX) return -1;
  int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
  if (n < 0) return -1;
  /* EVP_DecodeBlock counts padding as zero bytes; drop them. */
  if (len >= 1 && in[len - 1] == '=') n--;
  if (len >= 2 && in[len - 2] == '=') n--;
  return n;
}

static void find_ref_id(xmlNodePtr root, char *dst, size_t cap) {
  dst[0] = '\0';
  for (xmlAttrPtr a = root->properties; a != NULL; a = a->next) {
    const char *name = (const char *)a->name;
    size_t n = strlen(name);
    if (n > 9 && strcmp(name + n - 9, "MessageID") == 0) {
      copy_attr(root, name, dst, cap);
      return;
    }
  }
}

static int read_inner(const unsigned char *xml, size_t len, struct fx_sink_ids *out) {
  xmlDocPtr doc = xmlReadMemory((const char *)xml, (int)len, NULL, NULL, PARSE_OPTS);
  xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
  if (root == NULL) {
    xmlFreeDoc(doc);
    return -1;
  }
  snprintf(out->type, sizeof out->type, "%s", (const char *)root->name);
  copy_attr(root, "MessageID", out->message_id, sizeof out->message_id);
  copy_attr(root, "ConversationID", out->conversation_id, sizeof out->conversation_id);
  find_ref_id(root, out->ref_message_id, sizeof out->ref_message_id);
  xmlFreeDoc(doc);
  return 0;
}

/* Parses the envelope: sender into `out` (when not NULL), Body decoded into a new
 * buffer (*raw, *n; the caller frees it). */
static int open_envelope(const char *body, size_t len, struct fx_sink_ids *out,
                         unsigned char **raw, int *n) {
  *raw = NULL;
  if (len > INT32_MAX) return -1;
  xmlDocPtr doc = xmlReadMemory(body, (int)len, NULL, NULL, PARSE_OPTS);
  xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
  if (root == NULL || strcmp((const char *)root->name, "SignedMessage") != 0) {
    xmlFreeDoc(doc);
    return -1;
  }
  if (out) {
    copy_attr(root, "SenderDomain", out->sender_domain, sizeof out->sender_domain);
    copy_attr(root, "SenderRole", out->sender_role, sizeof out->sender_role);
  }
  xmlChar *b64 = xmlGetProp(root, (const xmlChar *)"Body");
  xmlFreeDoc(doc);
  if (b64 == NULL) return -1;
  size_t blen = strlen((const char *)b64);
  *raw = malloc(blen / 4 * 3 + 1);
  *n = *raw ? b64_decode((const char *)b64, blen, *raw) : -1;
  xmlFree(b64);
  return *n > SIG_BYTES ? 0 : -1;
}

int fx_sink_ids(const char *body, size_t len, struct fx_sink_ids *out) {
  memset(out, 0, sizeof *out);
  unsigned char *raw;
  int n;
  int rc = open_envelope(body, len, out, &raw, &n);
  if (rc == 0) rc = read_inner(raw + SIG_BYTES, (size_t)n - SIG_BYTES, out);
  free(raw);
  return rc;
}

int fx_sink_verify(const char *body, size_t len, const unsigned char pk[32]) {
  unsigned char *raw;
  int n;
  int rc = open_envelope(body, len, NULL, &raw, &n);
  if (rc == 0) {
    unsigned long long mlen;
    /* In place is allowed by libsodium: the message is written over the input. */
    rc = crypto_sign_open(raw, &mlen, raw, (unsigned long long)n, pk) == 0 ? 0 : -1;
  }
  free(raw);
  return rc;
}
