/* log.h — flexd's operational log: one line per event on stderr.
 *
 * Two formats, chosen by `[platform] log_format`:
 *   json (default)  one JSON object per line: ts (UTC, milliseconds), level,
 *                   event (a fixed word such as "rejected" or "sighup"), msg
 *                   (the human sentence) and the event's fields (message_id,
 *                   sender, peer_ip, outbox_id, status, ...);
 *   text            "flexd: " and the human sentence, as flexd always wrote.
 *
 * Every line is built in a buffer and written with a single write(2), so the
 * loop, the workers and the sequencer can log at once without interleaving
 * (stderr is unbuffered and pipes make writes up to PIPE_BUF atomic; lines
 * are capped below that).
 *
 * Secrets: nothing that carries a key is ever passed in, and as a second line
 * of defence every string value is scrubbed on the way out: a run of 40 or
 * more base64 characters (a 32-byte key or longer) is replaced by
 * "[redacted]" unless it is the body of a "cs1." public key string, and
 * whatever follows "secret=" likewise. */
#ifndef FX_ENGINE_LOG_H
#define FX_ENGINE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum fx_log_level { FX_LOG_INFO, FX_LOG_WARN, FX_LOG_ERROR };
enum fx_log_format { FX_LOG_JSON, FX_LOG_TEXT };

#define FX_LOG_LINE_MAX 4000 /* bytes per line, newline included (< PIPE_BUF) */

/* A logger is a value: where and how. Read-only once the server runs, so it
 * is shared by every thread without locks. */
struct fx_log {
  enum fx_log_format format;
  int fd; /* 2 in flexd; a pipe or file in tests */
};

/* One field: an integer (is_num) or a string (NULL is written as null). */
struct fx_log_kv {
  const char *key;
  const char *str;
  long long num;
  bool is_num;
};
#define FX_LS(k, v) ((struct fx_log_kv){.key = (k), .str = (v)})
#define FX_LN(k, v) ((struct fx_log_kv){.key = (k), .num = (long long)(v), .is_num = true})
/* The field list of one call: FX_LOG_KV(FX_LS("sender", d), FX_LN("status", 401)) */
#define FX_LOG_KV(...)                                                                                         \
  (const struct fx_log_kv[]){__VA_ARGS__}, sizeof((const struct fx_log_kv[]){__VA_ARGS__}) / sizeof(struct fx_log_kv)

/* "json" or "text" → *out; -1 when neither. */
int fx_log_format_parse(const char *s, enum fx_log_format *out);

/* Formats one line (with its newline) into buf; returns its length, at most
 * cap - 1 (buf is NUL-terminated). ts_ms is the event's time in ms since the
 * epoch. Exposed for tests; fx_log_emit is what the server calls. */
size_t fx_log_format_line(char *buf, size_t cap, enum fx_log_format format, long long ts_ms, enum fx_log_level level,
                          const char *event, const struct fx_log_kv *kv, size_t n, const char *msg);

/* Logs one event: msg is printf-formatted; kv/n the fields (NULL, 0 for
 * none). lg NULL means JSON on stderr (for code that has no logger handy). */
void fx_log_emit(const struct fx_log *lg, enum fx_log_level level, const char *event, const struct fx_log_kv *kv,
                 size_t n, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
