/* sim.c — simulated participants around a real flexd process (see sim.h). */
#include "engine/sim.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "codec/sign.h"
#include "engine/calendar.h"
#include "engine/config.h"
#include "engine/http_server.h"
#include "engine/respond.h"

struct who {
  const char *domain;
  enum fx_role role;
  bool barred, registered;
  unsigned rate;
  struct fx_keys_pair kp;
};

struct stored {
  char *body;
  size_t len;
};

struct fx_sim {
  char dir[64], config[128], port_file[128], log[128], binary[512];
  pid_t pid;
  int port, metrics_port;
  struct fx_keys_pair platform[FX_ROLE_COUNT];
  struct who who[6];
  /* the sink */
  pthread_t thread;
  uv_loop_t loop;
  uv_async_t stop;
  struct fx_http_server *srv;
  int sink_port;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool sink_ready, thread_started, outlive;
  int sink_status;
  unsigned hits;
  struct stored *got;
  size_t n_got, cap_got;
  fx_reader *rd;
  fx_sign_ctx *sc;
  char extra_market[1024], extra_platform[1024];
};

/* ---- the sink ---------------------------------------------------------------- */

static void sink_handler(struct fx_http_request *req, void *ud) {
  struct fx_sim *p = ud;
  size_t len;
  const uint8_t *body = fx_http_request_body(req, &len);
  pthread_mutex_lock(&p->mu);
  p->hits++;
  int status = p->sink_status;
  if (status == 200) {
    if (p->n_got == p->cap_got) {
      p->cap_got = p->cap_got ? 2 * p->cap_got : 64;
      p->got = realloc(p->got, p->cap_got * sizeof *p->got);
    }
    char *copy = malloc(len + 1);
    memcpy(copy, body, len);
    copy[len] = 0;
    p->got[p->n_got++] = (struct stored){copy, len};
  }
  pthread_mutex_unlock(&p->mu);
  fx_http_respond(req, status, NULL, NULL, 0, NULL);
}

static void sink_stopped(void *ud) { (void)ud; }

static void on_stop(uv_async_t *a) {
  struct fx_sim *p = a->data;
  fx_http_server_stop(p->srv, sink_stopped, p);
  uv_close((uv_handle_t *)a, NULL);
}

static void *sink_run(void *arg) {
  struct fx_sim *p = arg;
  uv_loop_init(&p->loop);
  uv_async_init(&p->loop, &p->stop, on_stop);
  p->stop.data = p;
  struct fx_http_server_config c;
  fx_http_server_config_default(&c);
  c.host = "127.0.0.1";
  c.port = 0;
  int rc = fx_http_server_start(&p->srv, &p->loop, &c, sink_handler, p);
  pthread_mutex_lock(&p->mu);
  p->sink_port = rc == 0 ? fx_http_server_port(p->srv) : -1;
  p->sink_ready = true;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (rc == 0)
    uv_run(&p->loop, UV_RUN_DEFAULT);
  uv_loop_close(&p->loop);
  return NULL;
}

/* ---- set-up --------------------------------------------------------------------- */

static int write_key(struct fx_sim *p, enum fx_role r) {
  char path[192], err[256];
  snprintf(path, sizeof path, "%s/platform-%s.key", p->dir, fx_role_name(r));
  if (fx_keys_generate(&p->platform[r]) != 0 || fx_keys_file_write(path, &p->platform[r], 0, err, sizeof err) != 0) {
    fprintf(stderr, "sim: key %s: %s\n", path, err);
    return -1;
  }
  return 0;
}

static int write_config(struct fx_sim *p) {
  FILE *f = fopen(p->config, "w");
  if (!f)
    return -1;
  fprintf(f,
          "[platform]\ndomain = %s\nlisten = 127.0.0.1:0\nmetrics = 127.0.0.1:0\nstore = %s/store\nworkers = 2\n",
          SIM_PLATFORM, p->dir);
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    fprintf(f, "key.%s = %s/platform-%s.key\n", fx_role_name(r), p->dir, fx_role_name(r));
  fprintf(f, "%s\n", p->extra_platform);
  fprintf(f, "[market]\ntime_zone = Europe/Amsterdam\n%s\n", p->extra_market);
  for (size_t i = 0; i < sizeof p->who / sizeof p->who[0]; i++) {
    struct who *w = &p->who[i];
    if (!w->registered)
      continue;
    char cs1[FX_KEYS_CS1_LEN + 1];
    fx_keys_cs1_format(&w->kp.pub, cs1);
    fprintf(f, "[participant %s %s]\nkey = %s\nendpoint = http://127.0.0.1:%d/shapeshifter/api/v3/message\n",
            w->domain, fx_role_name(w->role), cs1, p->sink_port);
    if (w->barred)
      fprintf(f, "barred = true\n");
    if (w->rate)
      fprintf(f, "rate = %u\n", w->rate);
  }
  return fclose(f) == 0 ? 0 : -1;
}

static int spawn(struct fx_sim *p) {
  unlink(p->port_file);
  p->pid = fork();
  if (p->pid < 0)
    return -1;
  if (p->pid == 0) {
    /* flexd must not hold the caller's stdout (a test runner waits for it to
     * close) and, unless asked to outlive us, dies with us. */
    if (!freopen(p->log, "a", stderr) || !freopen("/dev/null", "w", stdout))
      _exit(127);
    if (!p->outlive)
      prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(p->binary, "flexd", "serve", "--config", p->config, "--port-file", p->port_file, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 1000; i++) { /* up to 10 s */
    FILE *f = fopen(p->port_file, "r");
    if (f) {
      int n = fscanf(f, "%d %d", &p->port, &p->metrics_port);
      fclose(f);
      if (n == 2)
        return 0;
    }
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
      p->pid = 0;
      fprintf(stderr, "sim: flexd exited at start-up; see %s\n", p->log);
      return -1;
    }
    usleep(10000);
  }
  fprintf(stderr, "sim: flexd did not start within 10 s; see %s\n", p->log);
  return -1;
}

struct fx_sim *fx_sim_start_with(const struct fx_sim_opts *o, const char *flexd_binary) {
  struct fx_sim *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  if (o && o->dir) {
    snprintf(p->dir, sizeof p->dir, "%s", o->dir);
  } else {
    strcpy(p->dir, "/tmp/flexd-sim-XXXXXX");
    if (!mkdtemp(p->dir)) {
      free(p);
      return NULL;
    }
  }
  snprintf(p->binary, sizeof p->binary, "%s", flexd_binary);
  snprintf(p->config, sizeof p->config, "%s/flexd.conf", p->dir);
  snprintf(p->port_file, sizeof p->port_file, "%s/ports", p->dir);
  snprintf(p->log, sizeof p->log, "%s/flexd.log", p->dir);
  snprintf(p->extra_market, sizeof p->extra_market, "%s", o && o->extra_market ? o->extra_market : "");
  snprintf(p->extra_platform, sizeof p->extra_platform, "%s", o && o->extra_platform ? o->extra_platform : "");
  p->outlive = o && o->outlive;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->sink_status = 200;
  p->rd = fx_reader_new(NULL);
  p->sc = fx_sign_ctx_new(0);
  static const struct { const char *d; enum fx_role r; bool barred, registered; unsigned rate; } who[6] = {
      {SIM_DSO, FX_ROLE_DSO, false, true, 0},    {SIM_AGR, FX_ROLE_AGR, false, true, 0},
      {SIM_AGR2, FX_ROLE_AGR, false, true, 0},   {SIM_BARRED, FX_ROLE_AGR, true, true, 0},
      {SIM_SLOW, FX_ROLE_AGR, false, true, 1},   {SIM_LATE, FX_ROLE_AGR, false, false, 0}};
  for (size_t i = 0; i < 6; i++)
    p->who[i] = (struct who){.domain = who[i].d, .role = who[i].r, .barred = who[i].barred,
                             .registered = who[i].registered, .rate = who[i].rate};
  int bad = !p->rd || !p->sc;
  for (size_t i = 0; i < 6; i++)
    bad |= fx_keys_generate(&p->who[i].kp) != 0;
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    bad |= write_key(p, r) != 0;
  if (bad || pthread_create(&p->thread, NULL, sink_run, p) != 0) {
    fx_sim_free(p);
    return NULL;
  }
  p->thread_started = true;
  pthread_mutex_lock(&p->mu);
  while (!p->sink_ready)
    pthread_cond_wait(&p->cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
  if (p->sink_port <= 0 || write_config(p) != 0 || spawn(p) != 0) {
    fprintf(stderr, "sim: could not start (sink port %d)\n", p->sink_port);
    fx_sim_free(p);
    return NULL;
  }
  return p;
}

int fx_sim_set_extra_platform(struct fx_sim *p, const char *lines) {
  snprintf(p->extra_platform, sizeof p->extra_platform, "%s", lines);
  return write_config(p);
}

int fx_sim_register_late(struct fx_sim *p) {
  p->who[5].registered = true;
  return write_config(p);
}

int fx_sim_stop_flexd(struct fx_sim *p) {
  if (p->pid <= 0)
    return -1;
  kill(p->pid, SIGTERM);
  int st = 0;
  for (int i = 0; i < 3000; i++) { /* 30 s */
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
      p->pid = 0;
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    usleep(10000);
  }
  kill(p->pid, SIGKILL);
  waitpid(p->pid, &st, 0);
  p->pid = 0;
  return -1;
}

void fx_sim_kill9_flexd(struct fx_sim *p) {
  if (p->pid <= 0)
    return;
  kill(p->pid, SIGKILL);
  waitpid(p->pid, NULL, 0);
  p->pid = 0;
}

int fx_sim_restart_flexd(struct fx_sim *p) { return spawn(p); }

void fx_sim_free(struct fx_sim *p) {
  if (!p)
    return;
  if (p->pid > 0)
    fx_sim_stop_flexd(p);
  if (p->thread_started) {
    uv_async_send(&p->stop);
    pthread_join(p->thread, NULL);
  }
  for (size_t i = 0; i < p->n_got; i++)
    free(p->got[i].body);
  free(p->got);
  fx_reader_free(p->rd);
  fx_sign_ctx_free(p->sc);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "sim: could not remove %s\n", p->dir);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

pid_t fx_sim_pid(const struct fx_sim *p) { return p->pid; }
int fx_sim_port(const struct fx_sim *p) { return p->port; }
int fx_sim_metrics_port(const struct fx_sim *p) { return p->metrics_port; }
const char *fx_sim_dir(const struct fx_sim *p) { return p->dir; }
const char *fx_sim_config_path(const struct fx_sim *p) { return p->config; }

/* ---- talking to flexd --------------------------------------------------------- */

struct sink_buf {
  char *data;
  size_t len, cap;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ud) {
  struct sink_buf *b = ud;
  size_t k = size * n;
  if (b->data && b->cap > 1) {
    size_t room = b->cap - 1 - b->len;
    size_t c = k < room ? k : room;
    memcpy(b->data + b->len, ptr, c);
    b->len += c;
    b->data[b->len] = 0;
  }
  return k;
}

static int http(struct fx_sim *p, int port, const char *method, const char *path, const char *body, size_t len,
                const char *ctype, char *resp, size_t cap) {
  CURL *c = curl_easy_init();
  if (!c)
    return 0;
  char url[256], hdr[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  struct curl_slist *h = NULL;
  if (ctype) {
    snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
    h = curl_slist_append(h, hdr);
  }
  h = curl_slist_append(h, "Expect:");
  struct sink_buf b = {resp, 0, cap};
  if (resp && cap)
    resp[0] = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  (void)p;
  return (int)status;
}

int fx_sim_post(struct fx_sim *p, const char *body, size_t len, const char *content_type, char *resp,
                 size_t cap) {
  return http(p, p->port, "POST", "/shapeshifter/api/v3/message", body, len, content_type, resp, cap);
}

int fx_sim_get(struct fx_sim *p, bool metrics, const char *path, char *resp, size_t cap) {
  return http(p, metrics ? p->metrics_port : p->port, "GET", path, NULL, 0, NULL, resp, cap);
}

static struct who *find_who(struct fx_sim *p, const char *domain, enum fx_role role) {
  for (size_t i = 0; i < sizeof p->who / sizeof p->who[0]; i++)
    if (!strcmp(p->who[i].domain, domain) && p->who[i].role == role)
      return &p->who[i];
  return NULL;
}

char *fx_sim_seal(struct fx_sim *p, const char *domain, enum fx_role role, const char *inner) {
  struct who *w = find_who(p, domain, role);
  const char *b64;
  size_t n;
  if (!w || fx_sign_seal(p->sc, w->kp.sec.sign, inner, strlen(inner), &b64, &n) != 0)
    return NULL;
  size_t cap = n + 512;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  snprintf(out, cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SignedMessage SenderDomain=\"%s\" SenderRole=\"%s\" Body=\"%s\"/>",
           domain, fx_role_name(role), b64);
  return out;
}

int fx_sim_send(struct fx_sim *p, const char *domain, enum fx_role role, const char *inner) {
  char *sm = fx_sim_seal(p, domain, role, inner);
  if (!sm)
    return 0;
  int st = fx_sim_post(p, sm, strlen(sm), "text/xml; charset=utf-8", NULL, 0);
  free(sm);
  return st;
}

void fx_sim_sink_status(struct fx_sim *p, int status) {
  pthread_mutex_lock(&p->mu);
  p->sink_status = status;
  pthread_mutex_unlock(&p->mu);
}

unsigned fx_sim_sink_hits(struct fx_sim *p) {
  pthread_mutex_lock(&p->mu);
  unsigned n = p->hits;
  pthread_mutex_unlock(&p->mu);
  return n;
}

/* Opens stored response i into arena; NULL if it does not verify or parse. */
static const struct fx_msg *open_stored(struct fx_sim *p, size_t i, fx_arena *arena) {
  struct fx_signed env;
  struct fx_error err;
  pthread_mutex_lock(&p->mu);
  struct stored s = p->got[i];
  pthread_mutex_unlock(&p->mu);
  if (fx_read_signed(p->rd, s.body, s.len, &env, &err) != 0 || strcmp(env.sender_domain, SIM_PLATFORM) ||
      env.sender_role <= FX_ROLE_NONE || env.sender_role >= FX_ROLE_COUNT)
    return NULL;
  struct fx_sign_opened op;
  if (fx_sign_open(p->sc, p->platform[env.sender_role].pub.sign, env.body, env.body_len, &op) != 0)
    return NULL;
  const struct fx_msg *m;
  if (fx_read_msg_arena(p->rd, arena, op.inner, op.len, &m, &err) != 0)
    return NULL;
  return m;
}

static bool refers_to(const struct fx_msg *m, const char *ref) {
  struct fx_uuid u;
  const struct fx_uuid *r = fx_msg_reference(m);
  if (fx_uuid_parse(ref, strlen(ref), &u, NULL) != 0)
    return false;
  if (r)
    return fx_uuid_equal(r, &u);
  return m->type == FX_MSG_TEST_MESSAGE_RESPONSE && fx_uuid_equal(&m->hdr.conversation_id, &u);
}

const struct fx_msg *fx_sim_await(struct fx_sim *p, enum fx_msg_type type, const char *ref_uuid, int timeout_ms,
                                  fx_arena *arena) {
  return fx_sim_await_nth(p, type, ref_uuid, 0, timeout_ms, arena);
}

const struct fx_msg *fx_sim_await_nth(struct fx_sim *p, enum fx_msg_type type, const char *ref_uuid, unsigned skip,
                                      int timeout_ms, fx_arena *arena) {
  size_t seen = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    pthread_mutex_lock(&p->mu);
    size_t n = p->n_got;
    pthread_mutex_unlock(&p->mu);
    for (; seen < n; seen++) {
      const struct fx_msg *m = open_stored(p, seen, arena);
      if (m && m->type == type && refers_to(m, ref_uuid) && skip-- == 0)
        return m;
    }
    usleep(10000);
  }
  return NULL;
}

unsigned fx_sim_count_responses(struct fx_sim *p, const char *ref_uuid) {
  fx_arena *a = fx_arena_new(0);
  pthread_mutex_lock(&p->mu);
  size_t n = p->n_got;
  pthread_mutex_unlock(&p->mu);
  unsigned k = 0;
  for (size_t i = 0; i < n; i++) {
    const struct fx_msg *m = open_stored(p, i, a);
    k += m && refers_to(m, ref_uuid);
  }
  fx_arena_free(a);
  return k;
}

void fx_sim_uuid(char out[FX_UUID_STRLEN]) {
  struct fx_uuid u;
  fx_uuid_random(&u);
  fx_uuid_format(&u, out);
}

void fx_sim_time(char out[FX_DATETIME_STRLEN], long offset_s) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct fx_datetime t = {((int64_t)ts.tv_sec + offset_s) * 1000000, 0};
  fx_datetime_format(&t, out);
}

void fx_sim_date(char out[FX_DATE_STRLEN], int days) {
  struct fx_calendar *cal = fx_calendar_new("Europe/Amsterdam");
  out[0] = 0;
  if (!cal)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int32_t day = fx_calendar_day_of(cal, (int64_t)ts.tv_sec * 1000000) + days;
  fx_calendar_free(cal);
  struct fx_date d;
  fx_date_from_days(day, &d);
  fx_date_format(&d, out);
}
