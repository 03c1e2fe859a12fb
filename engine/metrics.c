/* metrics.c — the metric registry and the Prometheus text renderer.
 *
 * A registry holds families (name, help, kind) in registration order; a
 * family holds its series, each with its label set pre-rendered at
 * registration ({k="v",...}) so rendering only formats numbers. Series are
 * separate allocations, so the pointers handed out stay valid while arrays
 * grow. Histogram buckets are stored per bucket (not cumulative) and summed
 * when rendering; _count is that sum, so +Inf always equals _count. */
#include "engine/metrics.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/http_server.h"

enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM };

/* Upper bounds in µs: 1-2-5 steps from 10 µs to 10 s, then +Inf. */
static const uint64_t bucket_us[] = {10,      20,      50,      100,     200,
                                     500,     1000,    2000,    5000,    10000,
                                     20000,   50000,   100000,  200000,  500000,
                                     1000000, 2000000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

struct fx_counter { _Atomic uint64_t v; };
struct fx_gauge { _Atomic int64_t v; };
struct fx_histogram {
  _Atomic uint64_t buckets[NBUCKETS + 1]; /* the last one is +Inf only */
  _Atomic uint64_t sum_us;
};

struct series {
  char *labels; /* "" or "k=\"v\",k2=\"v2\"" (without braces) */
  union {
    struct fx_counter counter;
    struct fx_gauge gauge;
    struct fx_histogram hist;
  } u;
};

struct family {
  char *name, *help;
  enum kind kind;
  struct series **series;
  size_t n, cap;
};

struct fx_metrics {
  struct family **families;
  size_t n, cap;
};

/* Label names that would expose who trades where. */
static const char *const forbidden_labels[] = {"participant", "domain", "sender", "recipient",
                                               "congestion", "ean",    "cp",     "connection",
                                               "entity",     "address"};

int fx_metrics_new(struct fx_metrics **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

static void family_free(struct family *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->series[i]->labels);
    free(f->series[i]);
  }
  free(f->series);
  free(f->name);
  free(f->help);
  free(f);
}

void fx_metrics_free(struct fx_metrics *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) family_free(m->families[i]);
  free(m->families);
  free(m);
}

/* ------------------------------------------------------------ registration */

static bool valid_name(const char *s, bool colon_ok) {
  if (!*s || isdigit((unsigned char)*s)) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && !(colon_ok && *s == ':')) return false;
  return true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

static bool contains_ci(const char *hay, const char *needle) {
  for (size_t n = strlen(needle); *hay; hay++)
    if (!strncasecmp(hay, needle, n)) return true;
  return false;
}

/* Short names must match whole ("mean" is fine), longer ones anywhere. */
static bool forbidden_label(const char *key) {
  for (size_t i = 0; i < sizeof forbidden_labels / sizeof forbidden_labels[0]; i++) {
    const char *bad = forbidden_labels[i];
    if (strlen(bad) <= 3 ? !strcasecmp(key, bad) : contains_ci(key, bad)) return true;
  }
  return false;
}

/* Appends `v` to out with the escapes of the exposition format. */
static void put_escaped(FILE *out, const char *v, size_t n, bool quote) {
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '\\') fputs("\\\\", out);
    else if (v[i] == '\n') fputs("\\n", out);
    else if (quote && v[i] == '"') fputs("\\\"", out);
    else fputc(v[i], out);
  }
}

/* "k=v,k2=v2" → "k=\"v\",k2=\"v2\"" in a new string; NULL when invalid. */
static char *render_labels(const char *labels) {
  char *buf = NULL, key[128];
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out) return NULL;
  bool ok = true;
  for (const char *p = labels ? labels : ""; ok && *p;) {
    const char *eq = strchr(p, '='), *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    ok = eq && eq < end && (size_t)(eq - p) < sizeof key;
    if (!ok) break;
    memcpy(key, p, (size_t)(eq - p));
    key[eq - p] = 0;
    ok = valid_name(key, false) && strncmp(key, "__", 2) && strcmp(key, "le") &&
         !forbidden_label(key);
    if (!ok) break;
    fprintf(out, "%s%s=\"", p == labels ? "" : ",", key);
    put_escaped(out, eq + 1, (size_t)(end - eq - 1), true);
    fputc('"', out);
    p = *end ? end + 1 : end;
  }
  if (fclose(out) || !ok) {
    free(buf);
    return NULL;
  }
  return buf;
}

static struct family *family_get(struct fx_metrics *m, const char *name, const char *help,
                                 enum kind kind) {
  for (size_t i = 0; i < m->n; i++)
    if (!strcmp(m->families[i]->name, name))
      return m->families[i]->kind == kind ? m->families[i] : NULL;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct family **f = realloc(m->families, cap * sizeof *f);
    if (!f) return NULL;
    m->families = f;
    m->cap = cap;
  }
  struct family *f = calloc(1, sizeof *f);
  if (!f || !(f->name = strdup(name)) || !(f->help = strdup(help ? help : ""))) {
    if (f) free(f->name);
    free(f);
    return NULL;
  }
  f->kind = kind;
  m->families[m->n++] = f;
  return f;
}

static struct series *series_add(struct fx_metrics *m, const char *name, const char *help,
                                 const char *labels, enum kind kind) {
  static const char *const suffix[] = {"_total", "", "_seconds"};
  if (!valid_name(name, true) || !ends_with(name, suffix[kind])) return NULL;
  char *rendered = render_labels(labels);
  if (!rendered) return NULL;
  struct family *f = family_get(m, name, help, kind);
  struct series *s = NULL;
  for (size_t i = 0; f && i < f->n; i++)
    if (!strcmp(f->series[i]->labels, rendered)) f = NULL; /* a duplicate */
  if (f && f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    struct series **arr = realloc(f->series, cap * sizeof *arr);
    if (arr) f->series = arr, f->cap = cap;
    else f = NULL;
  }
  if (f && (s = calloc(1, sizeof *s))) {
    s->labels = rendered;
    f->series[f->n++] = s;
    return s;
  }
  free(rendered);
  return NULL;
}

struct fx_counter *fx_metrics_counter(struct fx_metrics *m, const char *name, const char *help,
                                      const char *labels) {
  struct series *s = series_add(m, name, help, labels, K_COUNTER);
  return s ? &s->u.counter : NULL;
}

struct fx_gauge *fx_metrics_gauge(struct fx_metrics *m, const char *name, const char *help,
                                  const char *labels) {
  struct series *s = series_add(m, name, help, labels, K_GAUGE);
  return s ? &s->u.gauge : NULL;
}

struct fx_histogram *fx_metrics_histogram(struct fx_metrics *m, const char *name,
                                          const char *help, const char *labels) {
  struct series *s = series_add(m, name, help, labels, K_HISTOGRAM);
  return s ? &s->u.hist : NULL;
}

/* ----------------------------------------------------------------- updates */

void fx_counter_add(struct fx_counter *c, uint64_t n) {
  atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

void fx_gauge_set(struct fx_gauge *g, int64_t v) {
  atomic_store_explicit(&g->v, v, memory_order_relaxed);
}

void fx_gauge_add(struct fx_gauge *g, int64_t delta) {
  atomic_fetch_add_explicit(&g->v, delta, memory_order_relaxed);
}

void fx_histogram_observe_us(struct fx_histogram *h, uint64_t us) {
  size_t i = 0;
  while (i < NBUCKETS && us > bucket_us[i]) i++;
  atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

/* --------------------------------------------------------------- rendering */

/* Microseconds as exact decimal seconds ("0.00002", "1.5", "10"). */
static void put_seconds(FILE *out, uint64_t us) {
  char frac[8];
  snprintf(frac, sizeof frac, "%06u", (unsigned)(us % 1000000));
  size_t n = 6;
  while (n && frac[n - 1] == '0') frac[--n] = 0;
  fprintf(out, "%llu%s%s", (unsigned long long)(us / 1000000), n ? "." : "", frac);
}

static void render_histogram(FILE *out, const char *name, const struct series *s) {
  const char *sep = *s->labels ? "," : "";
  uint64_t cum = 0;
  for (size_t i = 0; i <= NBUCKETS; i++) {
    cum += atomic_load_explicit(&s->u.hist.buckets[i], memory_order_relaxed);
    fprintf(out, "%s_bucket{%s%sle=\"", name, s->labels, sep);
    if (i < NBUCKETS) put_seconds(out, bucket_us[i]);
    else fputs("+Inf", out);
    fprintf(out, "\"} %llu\n", (unsigned long long)cum);
  }
  const char *lb = *s->labels ? "{" : "", *rb = *s->labels ? "}" : "";
  fprintf(out, "%s_sum%s%s%s ", name, lb, s->labels, rb);
  put_seconds(out, atomic_load_explicit(&s->u.hist.sum_us, memory_order_relaxed));
  fprintf(out, "\n%s_count%s%s%s %llu\n", name, lb, s->labels, rb, (unsigned long long)cum);
}

static void render_family(FILE *out, const struct family *f) {
  static const char *const type[] = {"counter", "gauge", "histogram"};
  fprintf(out, "# HELP %s ", f->name);
  put_escaped(out, f->help, strlen(f->help), false);
  fprintf(out, "\n# TYPE %s %s\n", f->name, type[f->kind]);
  for (size_t i = 0; i < f->n; i++) {
    const struct series *s = f->series[i];
    const char *lb = *s->labels ? "{" : "", *rb = *s->labels ? "}" : "";
    if (f->kind == K_COUNTER)
      fprintf(out, "%s%s%s%s %llu\n", f->name, lb, s->labels, rb,
              (unsigned long long)atomic_load_explicit(&s->u.counter.v, memory_order_relaxed));
    else if (f->kind == K_GAUGE)
      fprintf(out, "%s%s%s%s %lld\n", f->name, lb, s->labels, rb,
              (long long)atomic_load_explicit(&s->u.gauge.v, memory_order_relaxed));
    else
      render_histogram(out, f->name, s);
  }
}

int fx_metrics_render(const struct fx_metrics *m, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *f = open_memstream(out, len);
  if (!f) return -ENOMEM;
  for (size_t i = 0; i < m->n; i++) render_family(f, m->families[i]);
  if (fclose(f)) {
    free(*out);
    *out = NULL;
    return -ENOMEM;
  }
  return 0;
}

void fx_metrics_http_handler(struct fx_http_request *req, void *ud) {
  const char *method = fx_http_request_method(req);
  if (strcmp(fx_http_request_path(req), "/metrics")) {
    fx_http_respond(req, 404, "text/plain", "not found\n", 10, NULL);
    return;
  }
  if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
    fx_http_respond(req, 405, "text/plain", "method not allowed\n", 19, "Allow: GET, HEAD\r\n");
    return;
  }
  char *text;
  size_t len;
  if (fx_metrics_render(ud, &text, &len)) {
    fx_http_respond(req, 503, "text/plain", "out of memory\n", 14, NULL);
    return;
  }
  fx_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL);
  free(text);
}
