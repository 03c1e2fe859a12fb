/* test_log.c — the operational log (engine/log.h): JSON lines that parse, with
 * their fields; escaping of hostile strings; the text format; whole lines
 * when threads log at once; and no secret key material in any line, however
 * it is fed in. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/keys.h"
#include "engine/log.h"

static const long long TS = 1764172800123LL; /* 2025-11-26T16:00:00.123Z */

static json_t *parse_line(const char *line) {
  json_error_t e;
  size_t n = strlen(line);
  cr_assert(n > 1 && line[n - 1] == '\n' && !memchr(line, '\n', n - 1), "one line: %s", line);
  json_t *j = json_loadb(line, n - 1, 0, &e);
  cr_assert_not_null(j, "not JSON (%s): %s", e.text, line);
  return j;
}

static const char *str(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  cr_assert(json_is_string(v), "field %s missing or not a string", k);
  return json_string_value(v);
}

Test(log, json_line_carries_time_level_event_fields_and_message) {
  char buf[FX_LOG_LINE_MAX];
  const struct fx_log_kv kv[] = {FX_LS("message_id", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"),
                                 FX_LS("sender", "agr.example.com"), FX_LN("status", 401), FX_LS("gone", NULL)};
  size_t n = fx_log_format_line(buf, sizeof buf, FX_LOG_JSON, TS, FX_LOG_WARN, "rejected", kv, 4, "a message");
  cr_assert_eq(n, strlen(buf));
  json_t *j = parse_line(buf);
  cr_assert_str_eq(str(j, "ts"), "2025-11-26T16:00:00.123Z");
  cr_assert_str_eq(str(j, "level"), "warn");
  cr_assert_str_eq(str(j, "event"), "rejected");
  cr_assert_str_eq(str(j, "message_id"), "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
  cr_assert_str_eq(str(j, "sender"), "agr.example.com");
  cr_assert_eq(json_integer_value(json_object_get(j, "status")), 401);
  cr_assert(json_is_null(json_object_get(j, "gone")));
  cr_assert_str_eq(str(j, "msg"), "a message");
  json_decref(j);
}

Test(log, hostile_strings_are_escaped_and_come_back_intact) {
  char buf[FX_LOG_LINE_MAX];
  const char *nasty = "q\"uote\\ back\nnew\ttab\x01\x1f\x7f \xc3\xa9\xe2\x82\xac";
  const struct fx_log_kv kv[] = {FX_LS("why", nasty), FX_LS("k\"ey", "v")};
  fx_log_format_line(buf, sizeof buf, FX_LOG_JSON, TS, FX_LOG_ERROR, "http_refused", kv, 2, nasty);
  json_t *j = parse_line(buf);
  cr_assert_str_eq(str(j, "why"), nasty);
  cr_assert_str_eq(str(j, "msg"), nasty);
  cr_assert_str_eq(str(j, "k\"ey"), "v");
  json_decref(j);
}

Test(log, invalid_utf8_becomes_replacement_characters) {
  char buf[FX_LOG_LINE_MAX];
  const struct fx_log_kv kv[] = {FX_LS("sender", "a\xff\xc3(b\xed")};
  fx_log_format_line(buf, sizeof buf, FX_LOG_JSON, TS, FX_LOG_INFO, "x", kv, 1, "m");
  json_t *j = parse_line(buf); /* jansson refuses invalid UTF-8 */
  cr_assert_str_eq(str(j, "sender"), "a\xef\xbf\xbd\xef\xbf\xbd(b\xef\xbf\xbd");
  json_decref(j);
}

Test(log, text_format_is_the_old_one_line_form) {
  char buf[FX_LOG_LINE_MAX];
  const struct fx_log_kv kv[] = {FX_LS("sender", "agr.example.com")};
  fx_log_format_line(buf, sizeof buf, FX_LOG_TEXT, TS, FX_LOG_WARN, "rejected", kv, 1,
                     "rejected FlexOffer x from agr.example.com: a\nb\x1b[31m");
  cr_assert_str_eq(buf, "flexd: rejected FlexOffer x from agr.example.com: a b [31m\n");
}

Test(log, an_overlong_line_is_cut_and_still_one_json_object) {
  char buf[FX_LOG_LINE_MAX], big[3 * FX_LOG_LINE_MAX];
  for (size_t i = 0; i < sizeof big - 1; i++)
    big[i] = i % 7 ? "\"\xc3\xa9x"[i % 3] : ' '; /* escapes and 2-byte characters at every offset */
  big[sizeof big - 1] = 0;
  const struct fx_log_kv kv[] = {FX_LS("first", "kept"), FX_LS("why", big), FX_LS("after", "x")};
  size_t n = fx_log_format_line(buf, sizeof buf, FX_LOG_JSON, TS, FX_LOG_INFO, "e", kv, 3, big);
  cr_assert_leq(n, FX_LOG_LINE_MAX - 1);
  json_t *j = parse_line(buf);
  cr_assert_str_eq(str(j, "first"), "kept");
  cr_assert(strlen(str(j, "why")) > 1000, "the long value is cut, not dropped");
  json_decref(j);
  /* the same in a small buffer: every cut point closes the object */
  for (size_t cap = 128; cap < 400; cap += 7) {
    char small[400];
    fx_log_format_line(small, cap, FX_LOG_JSON, TS, FX_LOG_INFO, "e", kv, 3, big);
    cr_assert_lt(strlen(small), cap);
    json_decref(parse_line(small));
  }
}

Test(log, format_names) {
  enum fx_log_format f;
  cr_assert_eq(fx_log_format_parse("json", &f), 0);
  cr_assert_eq(f, FX_LOG_JSON);
  cr_assert_eq(fx_log_format_parse("text", &f), 0);
  cr_assert_eq(f, FX_LOG_TEXT);
  cr_assert_eq(fx_log_format_parse("yaml", &f), -1);
}

/* A real key file's contents: the secret line, and the bare secret. */
static void key_material(char *file, size_t cap, char *secret, size_t scap, char *cs1) {
  char dir[] = "/tmp/flexd-log-XXXXXX", path[64], err[256];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/k.key", dir);
  struct fx_keys_pair kp;
  cr_assert_eq(fx_keys_generate(&kp), 0);
  cr_assert_eq(fx_keys_file_write(path, &kp, 0, err, sizeof err), 0, "%s", err);
  fx_keys_cs1_format(&kp.pub, cs1);
  fx_keys_wipe(&kp);
  FILE *f = fopen(path, "r");
  size_t n = fread(file, 1, cap - 1, f);
  file[n] = 0;
  fclose(f);
  unlink(path);
  rmdir(dir);
  const char *s = strstr(file, "secret=");
  cr_assert_not_null(s);
  s += 7;
  size_t k = strcspn(s, "\r\n");
  cr_assert(k < scap && k >= 128, "secret line of %zu characters", k);
  memcpy(secret, s, k);
  secret[k] = 0;
}

/* No 12-character piece of the secret's base64 is anywhere in line. */
static void assert_no_piece(const char *line, const char *secret) {
  size_t n = strlen(secret);
  for (size_t i = 0; i + 12 <= n; i++) {
    char piece[13];
    memcpy(piece, secret + i, 12);
    piece[12] = 0;
    cr_assert_null(strstr(line, piece), "secret piece %s at %zu leaked: %s", piece, i, line);
  }
}

Test(log, secret_key_material_never_reaches_a_line) {
  char file[FX_KEYS_FILE_MAX], secret[256], cs1[FX_KEYS_CS1_LEN + 1], buf[FX_LOG_LINE_MAX];
  key_material(file, sizeof file, secret, sizeof secret, cs1);
  char with_prefix[300], disguised[300];
  snprintf(with_prefix, sizeof with_prefix, "cs1.%s", secret); /* longer than a public key */
  snprintf(disguised, sizeof disguised, "why: %.*s tail", 60, secret + 10);
  const char *feeds[] = {file, secret, with_prefix, disguised};
  for (int fmt = FX_LOG_JSON; fmt <= FX_LOG_TEXT; fmt++)
    for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++) {
      const struct fx_log_kv kv[] = {FX_LS("why", feeds[i]), FX_LS("key", cs1)};
      fx_log_format_line(buf, sizeof buf, (enum fx_log_format)fmt, TS, FX_LOG_ERROR, "start_failed", kv, 2,
                         feeds[i]);
      assert_no_piece(buf, secret);
      cr_assert(strstr(buf, "[redacted]"), "the redaction is visible: %s", buf);
      if (fmt == FX_LOG_JSON) {
        json_t *j = parse_line(buf);
        cr_assert_str_eq(str(j, "key"), cs1, "a public key string passes whole");
        json_decref(j);
      }
    }
}

/* ---- fx_log_emit from several threads ------------------------------------ */

struct writer {
  const struct fx_log *lg;
  int id;
};

static void *write_lines(void *arg) {
  struct writer *w = arg;
  char pad[1500];
  for (size_t i = 0; i < sizeof pad - 1; i++) /* short words: a long run would be redacted */
    pad[i] = i % 10 == 9 ? ' ' : (char)('a' + w->id);
  pad[sizeof pad - 1] = 0;
  for (int i = 0; i < 300; i++)
    fx_log_emit(w->lg, FX_LOG_INFO, "rejected", FX_LOG_KV(FX_LN("thread", w->id), FX_LN("i", i)), "%s", pad);
  return NULL;
}

Test(log, threads_logging_at_once_never_mix_lines) {
  char path[] = "/tmp/flexd-log-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  int afd = open(path, O_WRONLY | O_APPEND);
  struct fx_log lg = {.format = FX_LOG_JSON, .fd = afd};
  pthread_t t[4];
  struct writer w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct writer){&lg, i};
    cr_assert_eq(pthread_create(&t[i], NULL, write_lines, &w[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  close(afd);
  FILE *f = fdopen(fd, "r");
  char line[FX_LOG_LINE_MAX + 2];
  int count[4] = {0};
  while (fgets(line, sizeof line, f)) {
    json_t *j = parse_line(line);
    json_int_t id = json_integer_value(json_object_get(j, "thread"));
    cr_assert(id >= 0 && id < 4);
    const char *msg = str(j, "msg");
    cr_assert_eq(strspn(msg, (char[]){(char)('a' + id), ' ', 0}), strlen(msg), "a line holds one thread's text");
    count[id]++;
    json_decref(j);
  }
  fclose(f);
  unlink(path);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(count[i], 300, "thread %d: %d lines", i, count[i]);
}
