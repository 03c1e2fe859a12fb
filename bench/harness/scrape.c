/* scrape.c — requests to flexd's operator listener, and its sampled crypto CPU
 * from GET /metrics (scrape.h). */
#include "bench/harness/scrape.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct text {
  char *data;
  size_t len;
};

static size_t on_text(char *p, size_t size, size_t n, void *user) {
  struct text *t = user;
  char *grown = realloc(t->data, t->len + size * n + 1);
  if (grown == NULL) return 0;
  t->data = grown;
  memcpy(t->data + t->len, p, size * n);
  t->len += size * n;
  t->data[t->len] = '\0';
  return size * n;
}

/* The value of the line starting with `series` followed by a space. */
static int value_of(const char *text, const char *series, double *v) {
  size_t n = strlen(series);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, series, n) == 0 && p[n] == ' ') {
      char *end;
      *v = strtod(p + n + 1, &end);
      return end == p + n + 1 ? -1 : 0;
    }
  }
  return -1;
}

int fx_scrape_crypto_parse(const char *text, struct fx_crypto_inside *out) {
  double on, sn;
  if (value_of(text, "flexd_crypto_cpu_seconds_sum{op=\"open\"}", &out->open_s) ||
      value_of(text, "flexd_crypto_cpu_seconds_sum{op=\"sign\"}", &out->sign_s) ||
      value_of(text, "flexd_crypto_cpu_seconds_count{op=\"open\"}", &on) ||
      value_of(text, "flexd_crypto_cpu_seconds_count{op=\"sign\"}", &sn) || on < 0 || sn < 0)
    return -1;
  out->open_n = (uint64_t)on, out->sign_n = (uint64_t)sn;
  return 0;
}

long fx_bench_http_fetch(int port, const char *method, const char *path, double timeout_s, char **body) {
  char url[512];
  struct text t = {0};
  long status = 0;
  *body = NULL;
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  CURL *c = curl_easy_init();
  if (c == NULL) return 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (!strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_text);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  *body = t.data;
  return status;
}

struct fetch {
  int port;
  const char *method, *path;
  double timeout_s;
  char *body;
  long status;
  uv_async_t wake;
  atomic_bool done;
};

static void *fetch_thread(void *arg) {
  struct fetch *f = arg;
  f->status = fx_bench_http_fetch(f->port, f->method, f->path, f->timeout_s, &f->body);
  atomic_store(&f->done, true);
  uv_async_send(&f->wake);
  return NULL;
}

static void on_wake(uv_async_t *h) { (void)h; }

long fx_bench_http_fetch_on(uv_loop_t *loop, int port, const char *method, const char *path, double timeout_s,
                            char **body) {
  struct fetch f = {.port = port, .method = method, .path = path, .timeout_s = timeout_s};
  pthread_t th;
  *body = NULL;
  if (uv_async_init(loop, &f.wake, on_wake) != 0) return fx_bench_http_fetch(port, method, path, timeout_s, body);
  if (pthread_create(&th, NULL, fetch_thread, &f) != 0) {
    uv_close((uv_handle_t *)&f.wake, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return fx_bench_http_fetch(port, method, path, timeout_s, body);
  }
  /* The wake-up handle keeps the loop alive, and its send ends the wait. */
  while (!atomic_load(&f.done)) uv_run(loop, UV_RUN_ONCE);
  pthread_join(th, NULL);
  uv_close((uv_handle_t *)&f.wake, NULL);
  uv_run(loop, UV_RUN_NOWAIT); /* the close completes before f goes */
  *body = f.body;
  return f.status;
}

int fx_scrape_crypto(int port, double timeout_s, struct fx_crypto_inside *out) {
  char *text;
  long status = fx_bench_http_fetch(port, "GET", "/metrics", timeout_s, &text);
  int rc = status == 200 && text ? fx_scrape_crypto_parse(text, out) : -1;
  free(text);
  return rc;
}

bool fx_crypto_inside_mean(const struct fx_crypto_inside *a, const struct fx_crypto_inside *b, double *open_us,
                           double *sign_us, uint64_t *open_n, uint64_t *sign_n) {
  if (b->open_n <= a->open_n || b->sign_n <= a->sign_n) return false;
  *open_n = b->open_n - a->open_n, *sign_n = b->sign_n - a->sign_n;
  *open_us = (b->open_s - a->open_s) * 1e6 / (double)*open_n;
  *sign_us = (b->sign_s - a->sign_s) * 1e6 / (double)*sign_n;
  return true;
}
