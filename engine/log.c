/* log.c — one log line per event, JSON or text, one write(2) each (log.h).
 *
 * A line is assembled in a fixed buffer on the caller's stack: no allocation,
 * no lock, so logging works when memory has run out and from any thread. When
 * a line would not fit, the last string is cut at a character boundary and
 * the JSON object still closes: a reader never sees half an object. */
#include "engine/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { SECRET_RUN = 40, CS1_BODY = 88, RESERVE = 8 /* "\"}\n" and a NUL, with room */ };

static const char *const level_names[] = {"info", "warn", "error"};

int fx_log_format_parse(const char *s, enum fx_log_format *out) {
  if (!strcmp(s, "json"))
    *out = FX_LOG_JSON;
  else if (!strcmp(s, "text"))
    *out = FX_LOG_TEXT;
  else
    return -1;
  return 0;
}

/* ---- the output buffer ----------------------------------------------------- */

struct line {
  char *b;
  size_t cap, len; /* cap excludes RESERVE: the closing bytes always fit */
  bool full;
};

static void put(struct line *l, const char *s, size_t n) {
  if (l->full || l->len + n > l->cap) {
    l->full = true;
    return;
  }
  memcpy(l->b + l->len, s, n);
  l->len += n;
}

static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

/* Closing bytes go into the reserve, whatever happened before. */
static void put_closing(struct line *l, const char *s) {
  size_t n = strlen(s);
  memcpy(l->b + l->len, s, n);
  l->len += n;
}

/* ---- scrubbing ------------------------------------------------------------- */

static bool is_b64(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
         c == '=' || c == '-' || c == '_';
}

/* How many bytes at s[i] a secret occupies (0: none here). A "cs1." public
 * key string is public and passes; a longer run after "cs1." does not. */
static size_t secret_at(const char *s, size_t i, size_t n) {
  if (n - i >= 7 && !strncmp(s + i, "secret=", 7)) {
    size_t j = i + 7;
    while (j < n && s[j] != ' ' && s[j] != '\n' && s[j] != ';' && s[j] != '"' && s[j] != ',')
      j++;
    return j - i;
  }
  if (!is_b64((unsigned char)s[i]) || (i && is_b64((unsigned char)s[i - 1])))
    return 0;
  size_t j = i;
  while (j < n && is_b64((unsigned char)s[j]))
    j++;
  if (j - i < SECRET_RUN)
    return 0;
  if (j - i == CS1_BODY && i >= 4 && !strncmp(s + i - 4, "cs1.", 4))
    return 0;
  return j - i;
}

/* ---- escaping -------------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  size_t k = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  if (!k || k > n)
    return 0;
  for (size_t i = 1; i < k; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return k;
}

/* Appends s (n bytes) scrubbed; JSON-escaped when json, else with control
 * characters as spaces (one line, no terminal escapes). Invalid UTF-8 becomes
 * U+FFFD. Stops at a character boundary when the line is full. */
static void put_text(struct line *l, const char *s, size_t n, bool json) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n && !l->full;) {
    size_t sec = secret_at(s, i, n);
    if (sec) {
      if (!strncmp(s + i, "secret=", 7))
        puts_(l, "secret=");
      puts_(l, "[redacted]");
      i += sec;
      continue;
    }
    unsigned char c = (unsigned char)s[i];
    size_t k = utf8_len((const unsigned char *)s + i, n - i);
    if (!k) {
      puts_(l, "\xEF\xBF\xBD");
      i++;
    } else if (k > 1) {
      put(l, s + i, k);
      i += k;
    } else if (c == 0x7F || c < 0x20 || (json && (c == '"' || c == '\\'))) {
      char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
      if (!json)
        puts_(l, " ");
      else if (c == '"' || c == '\\')
        put(l, (char[]){'\\', (char)c}, 2);
      else if (c == '\n')
        puts_(l, "\\n");
      else if (c == '\t')
        puts_(l, "\\t");
      else
        put(l, e, 6);
      i++;
    } else {
      put(l, s + i, 1);
      i++;
    }
  }
}

static void put_json_string(struct line *l, const char *s) {
  puts_(l, "\"");
  put_text(l, s, strlen(s), true);
  if (l->full) {
    put_closing(l, "\"");
    return;
  }
  puts_(l, "\"");
}

static void put_ts(struct line *l, long long ts_ms) {
  time_t t = (time_t)(ts_ms / 1000);
  struct tm tm;
  char s[80];
  gmtime_r(&t, &tm);
  snprintf(s, sizeof s, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000 + 1000) % 1000);
  puts_(l, s);
}

size_t fx_log_format_line(char *buf, size_t cap, enum fx_log_format format, long long ts_ms, enum fx_log_level level,
                          const char *event, const struct fx_log_kv *kv, size_t n, const char *msg) {
  if (cap < 128) {
    if (cap)
      buf[0] = 0;
    return 0;
  }
  struct line l = {buf, cap - RESERVE, 0, false};
  if (format == FX_LOG_TEXT) {
    puts_(&l, "flexd: ");
    put_text(&l, msg, strlen(msg), false);
    put_closing(&l, "\n");
    buf[l.len] = 0;
    return l.len;
  }
  puts_(&l, "{\"ts\":");
  put_ts(&l, ts_ms);
  puts_(&l, ",\"level\":\"");
  puts_(&l, level_names[level <= FX_LOG_ERROR ? level : FX_LOG_ERROR]);
  puts_(&l, "\",\"event\":");
  put_json_string(&l, event);
  for (size_t i = 0; i < n && !l.full; i++) {
    if (l.len + strlen(kv[i].key) + 32 > l.cap) { /* a field whole or not at all */
      l.full = true;
      break;
    }
    puts_(&l, ",");
    put_json_string(&l, kv[i].key);
    puts_(&l, ":");
    if (kv[i].is_num) {
      char num[24];
      snprintf(num, sizeof num, "%lld", kv[i].num);
      puts_(&l, num);
    } else if (kv[i].str) {
      put_json_string(&l, kv[i].str);
    } else {
      puts_(&l, "null");
    }
  }
  if (!l.full && l.len + 16 <= l.cap) {
    puts_(&l, ",\"msg\":");
    put_json_string(&l, msg);
  }
  put_closing(&l, "}\n");
  buf[l.len] = 0;
  return l.len;
}

static void write_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return; /* nowhere to report a failing log */
    s += w, n -= (size_t)w;
  }
}

void fx_log_emit(const struct fx_log *lg, enum fx_log_level level, const char *event, const struct fx_log_kv *kv,
                 size_t n, const char *fmt, ...) {
  char msg[FX_LOG_LINE_MAX], line[FX_LOG_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  size_t len = fx_log_format_line(line, sizeof line, lg ? lg->format : FX_LOG_JSON, ms, level, event, kv, n, msg);
  write_all(lg ? lg->fd : 2, line, len);
}
