/* sim.c — simulated participants around a real flexd process (see sim.h):
 * set-up and tear-down of flexd and the sink, signed sends, the index of what
 * the platform sent, the operator listener, and message builders that go
 * through the codec's writer, so what the sim sends is schema-valid by
 * construction unless a test changes it on purpose. */
#include "engine/sim.h"

#include <curl/curl.h>
#include <arpa/inet.h>
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
#include "engine/tls.h"

struct who {
  const char *domain;
  enum fx_role role;
  bool barred, registered;
  unsigned rate;
  struct fx_keys_pair kp;
};

/* A POST the sink received. The caller's thread opens it once (index_one):
 * checks the platform's signature and notes what it is, to whom, and what it
 * refers to, so awaiting and counting do not verify it again. */
struct stored {
  char *body;
  size_t len;
  bool indexed, valid, has_ref;
  enum fx_msg_type type;
  char to[256];
  struct fx_uuid ref;
  char *inner;
  size_t inner_len;
};

/* A request a HANG or SLOW peer holds: answered when its timer fires (SLOW),
 * when its connection is found gone, or at stop. */
struct held {
  struct held *next;
  struct bad_peer *bp;
  struct fx_http_request *req;
  uv_timer_t timer;
};

/* A participant whose endpoint misbehaves (fx_sim_opts.peers), with a listener
 * of its own on the sink's loop. Counters under fx_sim.mu. */
struct bad_peer {
  struct fx_sim *p;
  char domain[256];
  enum fx_sim_peer_mode mode;
  unsigned delay_ms;
  struct fx_http_server *srv; /* HTTP modes */
  uv_tcp_t tcp;               /* RESET */
  int port;
  int64_t hit_us[FX_SIM_MAX_PEER_HITS];
  unsigned hits, max_open;
  struct held *held;
};

struct fx_sim {
  char dir[64], config[128], port_file[128], log[128], binary[512];
  pid_t pid;
  int port, metrics_port;
  struct fx_keys_pair platform[FX_ROLE_COUNT];
  char platform_prev[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1]; /* key_previous.ROLE after a rotation */
  struct who who[7];
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
  char tls_dir[256]; /* "" = plain HTTP */
  struct bad_peer bad[FX_SIM_MAX_PEERS];
  size_t n_bad;
};

/* ---- the sink ---------------------------------------------------------------- */

/* Notes a POST that was answered 200 (caller holds p->mu). Out of memory, it
 * is dropped, which a test sees as a message that never arrived. */
static void keep(struct fx_sim *p, const uint8_t *body, size_t len) {
  if (p->n_got == p->cap_got) {
    size_t cap = p->cap_got ? 2 * p->cap_got : 64;
    struct stored *g = realloc(p->got, cap * sizeof *g);
    if (!g)
      return;
    p->got = g, p->cap_got = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy)
    return;
  memcpy(copy, body, len);
  copy[len] = 0;
  p->got[p->n_got++] = (struct stored){.body = copy, .len = len};
}

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- misbehaving peers ----------------------------------------------------------- */

static void note_hit(struct bad_peer *bp) {
  pthread_mutex_lock(&bp->p->mu);
  if (bp->hits < FX_SIM_MAX_PEER_HITS)
    bp->hit_us[bp->hits] = mono_us();
  bp->hits++;
  pthread_mutex_unlock(&bp->p->mu);
}

static void held_closed(uv_handle_t *h) { free(h->data); }

/* Unlinks and answers a held request (a SLOW peer's message then counts as
 * received), then lets its timer go. */
static void held_release(struct held *h, bool deliver) {
  struct bad_peer *bp = h->bp;
  for (struct held **pp = &bp->held; *pp; pp = &(*pp)->next)
    if (*pp == h) {
      *pp = h->next;
      break;
    }
  if (deliver) {
    size_t len;
    const uint8_t *body = fx_http_request_body(h->req, &len);
    pthread_mutex_lock(&bp->p->mu);
    keep(bp->p, body, len);
    pthread_mutex_unlock(&bp->p->mu);
  }
  fx_http_respond(h->req, 200, NULL, NULL, 0, NULL);
  uv_timer_stop(&h->timer);
  uv_close((uv_handle_t *)&h->timer, held_closed);
}

static void held_due(uv_timer_t *t) {
  struct held *h = t->data;
  held_release(h, !fx_http_request_gone(h->req));
}

/* Drops held requests whose connection flexd has given up, and returns how
 * many are still open. */
static unsigned held_open(struct bad_peer *bp) {
  unsigned n = 0;
  for (struct held *h = bp->held, *next; h; h = next) {
    next = h->next;
    if (fx_http_request_gone(h->req))
      held_release(h, false);
    else
      n++;
  }
  return n;
}

static void bad_handler(struct fx_http_request *req, void *ud) {
  struct bad_peer *bp = ud;
  note_hit(bp);
  if (bp->mode == FX_SIM_PEER_500 || bp->mode == FX_SIM_PEER_404) {
    fx_http_respond(req, bp->mode == FX_SIM_PEER_500 ? 500 : 404, NULL, NULL, 0, NULL);
    return;
  }
  struct held *h = calloc(1, sizeof *h);
  if (!h) {
    fx_http_respond(req, 503, NULL, NULL, 0, NULL);
    return;
  }
  *h = (struct held){.next = bp->held, .bp = bp, .req = req};
  bp->held = h;
  uv_timer_init(&bp->p->loop, &h->timer);
  h->timer.data = h;
  if (bp->mode == FX_SIM_PEER_SLOW)
    uv_timer_start(&h->timer, held_due, bp->delay_ms, 0);
  unsigned open = held_open(bp);
  pthread_mutex_lock(&bp->p->mu);
  if (open > bp->max_open)
    bp->max_open = open;
  pthread_mutex_unlock(&bp->p->mu);
}

static void reset_closed(uv_handle_t *h) { free(h); }

static void reset_connection(uv_stream_t *server, int status) {
  struct bad_peer *bp = server->data;
  uv_tcp_t *c = malloc(sizeof *c);
  if (status < 0 || !c) {
    free(c);
    return;
  }
  uv_tcp_init(server->loop, c);
  if (uv_accept(server, (uv_stream_t *)c) != 0) {
    uv_close((uv_handle_t *)c, reset_closed);
    return;
  }
  note_hit(bp);
  if (uv_tcp_close_reset(c, reset_closed) != 0)
    uv_close((uv_handle_t *)c, reset_closed);
}

static int reset_listen(struct bad_peer *bp, uv_loop_t *loop) {
  struct sockaddr_in a;
  struct sockaddr_storage got;
  int n = sizeof got;
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(loop, &bp->tcp);
  bp->tcp.data = bp;
  bp->port = -1; /* the handle is open: bad_stop closes it */
  if (uv_tcp_bind(&bp->tcp, (const struct sockaddr *)&a, 0) != 0 ||
      uv_listen((uv_stream_t *)&bp->tcp, 64, reset_connection) != 0 ||
      uv_tcp_getsockname(&bp->tcp, (struct sockaddr *)&got, &n) != 0)
    return -1;
  bp->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
  return 0;
}

/* Starts every misbehaving peer's listener on the sink's loop; 0 or -1. */
static int bad_start(struct fx_sim *p, const struct fx_http_server_config *c) {
  for (size_t i = 0; i < p->n_bad; i++) {
    struct bad_peer *bp = &p->bad[i];
    if (bp->mode == FX_SIM_PEER_RESET) {
      if (reset_listen(bp, &p->loop) != 0)
        return -1;
      continue;
    }
    if (fx_http_server_start(&bp->srv, &p->loop, c, bad_handler, bp) != 0)
      return -1;
    bp->port = fx_http_server_port(bp->srv);
  }
  return 0;
}

static void bad_stop(struct fx_sim *p) {
  for (size_t i = 0; i < p->n_bad; i++) {
    struct bad_peer *bp = &p->bad[i];
    while (bp->held)
      held_release(bp->held, false);
    if (bp->srv)
      fx_http_server_stop(bp->srv, NULL, NULL);
    if (bp->mode == FX_SIM_PEER_RESET && bp->port)
      uv_close((uv_handle_t *)&bp->tcp, NULL);
  }
}

static struct bad_peer *find_bad(struct fx_sim *p, const char *domain) {
  for (size_t i = 0; i < p->n_bad; i++)
    if (!strcmp(p->bad[i].domain, domain))
      return &p->bad[i];
  return NULL;
}

unsigned fx_sim_peer_hits(struct fx_sim *p, const char *domain, int64_t *t_us, size_t cap) {
  struct bad_peer *bp = find_bad(p, domain);
  if (!bp)
    return 0;
  pthread_mutex_lock(&p->mu);
  unsigned n = bp->hits;
  for (size_t i = 0; t_us && i < cap && i < n && i < FX_SIM_MAX_PEER_HITS; i++)
    t_us[i] = bp->hit_us[i];
  pthread_mutex_unlock(&p->mu);
  return n;
}

unsigned fx_sim_peer_max_open(struct fx_sim *p, const char *domain) {
  struct bad_peer *bp = find_bad(p, domain);
  if (!bp)
    return 0;
  pthread_mutex_lock(&p->mu);
  unsigned n = bp->max_open;
  pthread_mutex_unlock(&p->mu);
  return n;
}

/* ---- the ordinary sink ----------------------------------------------------------- */

static void sink_handler(struct fx_http_request *req, void *ud) {
  struct fx_sim *p = ud;
  size_t len;
  const uint8_t *body = fx_http_request_body(req, &len);
  pthread_mutex_lock(&p->mu);
  p->hits++;
  int status = p->sink_status;
  if (status == 200)
    keep(p, body, len);
  pthread_mutex_unlock(&p->mu);
  fx_http_respond(req, status, NULL, NULL, 0, NULL);
}

static void sink_stopped(void *ud) { (void)ud; }

static void on_stop(uv_async_t *a) {
  struct fx_sim *p = a->data;
  bad_stop(p);
  if (p->srv)
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
  int rc = 0;
  if (p->tls_dir[0]) {
    char crt[300], key[300], err[400];
    snprintf(crt, sizeof crt, "%s/server.crt", p->tls_dir);
    snprintf(key, sizeof key, "%s/server.key", p->tls_dir);
    struct fx_tls_config tc = {.cert_file = crt, .key_file = key};
    if ((rc = fx_tls_ctx_new(&c.tls, &tc, err, sizeof err)) != 0)
      fprintf(stderr, "sim: sink TLS: %s\n", err);
  }
  if (rc == 0)
    rc = fx_http_server_start(&p->srv, &p->loop, &c, sink_handler, p);
  if (rc == 0 && bad_start(p, &c) != 0) {
    fprintf(stderr, "sim: a misbehaving peer's listener did not start\n");
    rc = -1;
  }
  fx_tls_ctx_free(c.tls); /* the sink holds its own reference */
  pthread_mutex_lock(&p->mu);
  p->sink_port = rc == 0 ? fx_http_server_port(p->srv) : -1;
  p->sink_ready = true;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  uv_run(&p->loop, UV_RUN_DEFAULT); /* until on_stop, also after a failed start */
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

static int write_config(struct fx_sim *p);

int fx_sim_rotate_platform_key(struct fx_sim *p, enum fx_role r) {
  char path[192], err[256];
  struct fx_keys_pair kp;
  if (r <= FX_ROLE_NONE || r >= FX_ROLE_COUNT)
    return -1;
  snprintf(path, sizeof path, "%s/platform-%s.key", p->dir, fx_role_name(r));
  if (fx_keys_generate(&kp) != 0 || fx_keys_file_write(path, &kp, FX_KEYS_FORCE, err, sizeof err) != 0) {
    fprintf(stderr, "sim: key %s: %s\n", path, err);
    fx_keys_wipe(&kp);
    return -1;
  }
  fx_keys_cs1_format(&p->platform[r].pub, p->platform_prev[r]);
  fx_keys_wipe(&p->platform[r]);
  p->platform[r] = kp;
  return write_config(p);
}

static int write_config(struct fx_sim *p) {
  FILE *f = fopen(p->config, "w");
  if (!f)
    return -1;
  fprintf(f,
          "[platform]\ndomain = %s\nlisten = 127.0.0.1:0\nmetrics = 127.0.0.1:0\nstore = %s/store\nworkers = 2\n",
          SIM_PLATFORM, p->dir);
  if (p->tls_dir[0])
    fprintf(f, "tls_cert = %s/server.crt\ntls_key = %s/server.key\ntls_peer_ca = %s/ca.crt\n", p->tls_dir,
            p->tls_dir, p->tls_dir);
  else
    fprintf(f, "plain_http = true\n");
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    fprintf(f, "key.%s = %s/platform-%s.key\n", fx_role_name(r), p->dir, fx_role_name(r));
    if (p->platform_prev[r][0])
      fprintf(f, "key_previous.%s = %s\n", fx_role_name(r), p->platform_prev[r]);
  }
  fprintf(f, "%s\n", p->extra_platform);
  fprintf(f, "[market]\ntime_zone = Europe/Amsterdam\n%s\n", p->extra_market);
  for (size_t i = 0; i < sizeof p->who / sizeof p->who[0]; i++) {
    struct who *w = &p->who[i];
    if (!w->registered)
      continue;
    char cs1[FX_KEYS_CS1_LEN + 1];
    fx_keys_cs1_format(&w->kp.pub, cs1);
    struct bad_peer *bp = find_bad(p, w->domain);
    fprintf(f, "[participant %s %s]\nkey = %s\nendpoint = %s://127.0.0.1:%d/shapeshifter/api/v3/message\n",
            w->domain, fx_role_name(w->role), cs1, p->tls_dir[0] ? "https" : "http", bp ? bp->port : p->sink_port);
    if (w->barred)
      fprintf(f, "barred = true\n");
    if (w->rate)
      fprintf(f, "rate = %u\n", w->rate);
  }
  return fclose(f) == 0 ? 0 : -1;
}

static int spawn(struct fx_sim *p) {
  unlink(p->port_file);
  fflush(NULL); /* the child's copy of unwritten stdio output must not come out twice */
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
  snprintf(p->tls_dir, sizeof p->tls_dir, "%s", o && o->tls_dir ? o->tls_dir : "");
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->sink_status = 200;
  for (size_t i = 0; o && i < o->n_peers && i < FX_SIM_MAX_PEERS; i++)
    p->bad[p->n_bad++] = (struct bad_peer){.p = p, .mode = o->peers[i].mode, .delay_ms = o->peers[i].delay_ms};
  for (size_t i = 0; i < p->n_bad; i++)
    snprintf(p->bad[i].domain, sizeof p->bad[i].domain, "%s", o->peers[i].domain);
  p->rd = fx_reader_new(NULL);
  p->sc = fx_sign_ctx_new(0);
  static const struct { const char *d; enum fx_role r; bool barred, registered; unsigned rate; } who[7] = {
      {SIM_DSO, FX_ROLE_DSO, false, true, 0},    {SIM_AGR, FX_ROLE_AGR, false, true, 0},
      {SIM_AGR2, FX_ROLE_AGR, false, true, 0},   {SIM_BARRED, FX_ROLE_AGR, true, true, 0},
      {SIM_SLOW, FX_ROLE_AGR, false, true, 1},   {SIM_LATE, FX_ROLE_AGR, false, false, 0},
      {SIM_AGR3, FX_ROLE_AGR, false, true, 0}};
  for (size_t i = 0; i < 7; i++)
    p->who[i] = (struct who){.domain = who[i].d, .role = who[i].r, .barred = who[i].barred,
                             .registered = who[i].registered, .rate = who[i].rate};
  int bad = !p->rd || !p->sc;
  for (size_t i = 0; i < 7; i++)
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

static void sim_free(struct fx_sim *p, bool remove_dir) {
  if (p->thread_started) {
    uv_async_send(&p->stop);
    pthread_join(p->thread, NULL);
  }
  for (size_t i = 0; i < p->n_got; i++) {
    free(p->got[i].body);
    free(p->got[i].inner);
  }
  free(p->got);
  fx_reader_free(p->rd);
  fx_sign_ctx_free(p->sc);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
  if (remove_dir && system(cmd) != 0)
    fprintf(stderr, "sim: could not remove %s\n", p->dir);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

void fx_sim_free(struct fx_sim *p) {
  if (!p)
    return;
  if (p->pid > 0)
    fx_sim_stop_flexd(p);
  sim_free(p, true);
}

void fx_sim_release(struct fx_sim *p) {
  if (p)
    sim_free(p, false);
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
  char url[256], hdr[256], ca[300];
  bool tls = p->tls_dir[0] && port == p->port; /* the operator listener stays plain */
  snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", tls ? "https" : "http", port, path);
  if (tls) {
    snprintf(ca, sizeof ca, "%s/ca.crt", p->tls_dir);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  }
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
  return (int)status;
}

int fx_sim_post(struct fx_sim *p, const char *body, size_t len, const char *content_type, char *resp,
                 size_t cap) {
  return http(p, p->port, "POST", "/shapeshifter/api/v3/message", body, len, content_type, resp, cap);
}

int fx_sim_operator(struct fx_sim *p, const char *method, const char *path, char *resp, size_t cap) {
  /* An empty POST still carries Content-Length: 0 (flexd answers 411 otherwise). */
  return http(p, p->metrics_port, method, path, strcmp(method, "GET") ? "" : NULL, 0, NULL, resp, cap);
}

int fx_sim_operator_post(struct fx_sim *p, const char *path, const char *json, char *resp, size_t cap) {
  return http(p, p->metrics_port, "POST", path, json, strlen(json), "application/json", resp, cap);
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

/* What a message refers to: a response's (or revocation's) MessageID; a
 * TestMessageResponse has no reference attribute, so its ConversationID. */
static bool reference_of(const struct fx_msg *m, struct fx_uuid *out) {
  const struct fx_uuid *r = fx_msg_reference(m);
  if (r)
    *out = *r;
  else if (m->type == FX_MSG_TEST_MESSAGE_RESPONSE)
    *out = m->hdr.conversation_id;
  return r || m->type == FX_MSG_TEST_MESSAGE_RESPONSE;
}

/* Opens stored POST i once: verifies it with the platform's key of the role
 * it claims and notes type, recipient and reference. Caller's thread only
 * (p->rd and p->sc are not shared with the sink). */
static void index_one(struct fx_sim *p, size_t i) {
  pthread_mutex_lock(&p->mu);
  struct stored s = p->got[i];
  pthread_mutex_unlock(&p->mu);
  if (s.indexed)
    return;
  struct fx_signed env;
  struct fx_error err;
  struct fx_sign_opened op;
  const struct fx_msg *m = NULL;
  fx_arena *a = fx_arena_new(0);
  if (a && fx_read_signed(p->rd, s.body, s.len, &env, &err) == 0 && !strcmp(env.sender_domain, SIM_PLATFORM) &&
      env.sender_role > FX_ROLE_NONE && env.sender_role < FX_ROLE_COUNT &&
      fx_sign_open(p->sc, p->platform[env.sender_role].pub.sign, env.body, env.body_len, &op) == 0 &&
      fx_read_msg_arena(p->rd, a, op.inner, op.len, &m, &err) == 0 && (s.inner = malloc(op.len + 1))) {
    memcpy(s.inner, op.inner, op.len + 1);
    s.inner_len = op.len;
    s.valid = true;
    s.type = m->type;
    snprintf(s.to, sizeof s.to, "%s", m->hdr.recipient_domain);
    s.has_ref = reference_of(m, &s.ref);
  }
  fx_arena_free(a);
  s.indexed = true;
  pthread_mutex_lock(&p->mu);
  p->got[i] = s;
  pthread_mutex_unlock(&p->mu);
}

/* Indexes what has arrived; returns how many POSTs that is. */
static size_t index_all(struct fx_sim *p) {
  pthread_mutex_lock(&p->mu);
  size_t n = p->n_got;
  pthread_mutex_unlock(&p->mu);
  for (size_t i = 0; i < n; i++)
    index_one(p, i);
  return n;
}

/* The index entry of POST i (after index_one); the body pointers stay valid. */
static struct stored entry(struct fx_sim *p, size_t i) {
  pthread_mutex_lock(&p->mu);
  struct stored s = p->got[i];
  pthread_mutex_unlock(&p->mu);
  return s;
}

static const struct fx_msg *parse_entry(struct fx_sim *p, const struct stored *s, fx_arena *arena) {
  const struct fx_msg *m;
  struct fx_error err;
  return s->valid && fx_read_msg_arena(p->rd, arena, s->inner, s->inner_len, &m, &err) == 0 ? m : NULL;
}

static bool refers_to(const struct stored *s, const char *ref) {
  struct fx_uuid u;
  return s->valid && s->has_ref && fx_uuid_parse(ref, strlen(ref), &u, NULL) == 0 && fx_uuid_equal(&s->ref, &u);
}

static bool addressed(const struct stored *s, enum fx_msg_type type, const char *to) {
  return s->valid && s->type == type && (!to || !strcmp(s->to, to));
}

const struct fx_msg *fx_sim_await(struct fx_sim *p, enum fx_msg_type type, const char *ref_uuid, int timeout_ms,
                                  fx_arena *arena) {
  return fx_sim_await_nth(p, type, ref_uuid, 0, timeout_ms, arena);
}

const struct fx_msg *fx_sim_await_nth(struct fx_sim *p, enum fx_msg_type type, const char *ref_uuid, unsigned skip,
                                      int timeout_ms, fx_arena *arena) {
  size_t seen = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    size_t n = index_all(p);
    for (; seen < n; seen++) {
      struct stored s = entry(p, seen);
      if (s.type == type && refers_to(&s, ref_uuid) && skip-- == 0)
        return parse_entry(p, &s, arena);
    }
    usleep(10000);
  }
  return NULL;
}

unsigned fx_sim_count_responses(struct fx_sim *p, const char *ref_uuid) {
  size_t n = index_all(p);
  unsigned k = 0;
  for (size_t i = 0; i < n; i++) {
    struct stored s = entry(p, i);
    k += refers_to(&s, ref_uuid);
  }
  return k;
}

const struct fx_msg *fx_sim_await_sent(struct fx_sim *p, enum fx_msg_type type, const char *to, unsigned nth,
                                       int timeout_ms, fx_arena *arena) {
  size_t seen = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    size_t n = index_all(p);
    for (; seen < n; seen++) {
      struct stored s = entry(p, seen);
      if (addressed(&s, type, to) && nth-- == 0)
        return parse_entry(p, &s, arena);
    }
    usleep(10000);
  }
  return NULL;
}

const char *fx_sim_sent_xml(struct fx_sim *p, enum fx_msg_type type, const char *to, unsigned nth, size_t *len) {
  size_t n = index_all(p);
  for (size_t i = 0; i < n; i++) {
    struct stored s = entry(p, i);
    if (addressed(&s, type, to) && nth-- == 0) {
      *len = s.inner_len;
      return s.inner;
    }
  }
  return NULL;
}

unsigned fx_sim_count_sent(struct fx_sim *p, enum fx_msg_type type, const char *to) {
  size_t n = index_all(p);
  unsigned k = 0;
  for (size_t i = 0; i < n; i++) {
    struct stored s = entry(p, i);
    k += addressed(&s, type, to);
  }
  return k;
}

int fx_sim_answer(struct fx_sim *p, const struct fx_msg *m, const char *reason, char id_out[FX_UUID_STRLEN]) {
  enum fx_msg_type rt = m->type == FX_MSG_FLEX_REQUEST ? FX_MSG_FLEX_REQUEST_RESPONSE
                        : m->type == FX_MSG_FLEX_ORDER ? FX_MSG_FLEX_ORDER_RESPONSE
                                                       : FX_MSG_NONE;
  fx_arena *a = fx_arena_new(0);
  if (rt == FX_MSG_NONE || !a) {
    fx_arena_free(a);
    return 0;
  }
  struct fx_msg r;
  fx_sim_msg_init(&r, a, rt, m->hdr.recipient_domain);
  r.hdr.conversation_id = m->hdr.conversation_id; /* a response stays in its conversation */
  r.result = reason ? FX_RESULT_REJECTED : FX_RESULT_ACCEPTED;
  r.rejection_reason = reason;
  if (rt == FX_MSG_FLEX_REQUEST_RESPONSE)
    r.u.flex_request_response.flex_request_message_id = m->hdr.message_id;
  else
    r.u.flex_order_response.flex_order_message_id = m->hdr.message_id;
  if (id_out)
    fx_sim_msg_id(&r, id_out);
  int st = fx_sim_send_msg(p, &r);
  fx_arena_free(a);
  return st;
}

/* ---- the operator listener ---------------------------------------------------------- */

int fx_sim_clear(struct fx_sim *p, const char *cp, const char *date, int *orders) {
  char path[512], resp[256];
  snprintf(path, sizeof path, "/api/markets/%s/%s/clear", cp, date);
  int st = http(p, p->metrics_port, "POST", path, "", 0, NULL, resp, sizeof resp);
  const char *o = strstr(resp, "\"orders\":");
  if (orders)
    *orders = o ? atoi(o + 9) : -1;
  return st;
}

json_t *fx_sim_markets(struct fx_sim *p, const char *cp, const char *date) {
  static const size_t cap = 1 << 20;
  char path[512];
  char *buf = malloc(cap);
  if (!buf)
    return NULL;
  if (cp)
    snprintf(path, sizeof path, "/api/markets/%s/%s", cp, date);
  else
    snprintf(path, sizeof path, "/api/markets");
  json_t *doc = NULL;
  if (http(p, p->metrics_port, "GET", path, NULL, 0, NULL, buf, cap) == 200)
    doc = json_loads(buf, 0, NULL);
  free(buf);
  return doc;
}

/* ---- building messages ------------------------------------------------------------- */

static struct fx_date parse_date(const char *s) {
  struct fx_date d = {0};
  if (fx_date_parse(s, strlen(s), &d, NULL) != 0)
    fprintf(stderr, "sim: bad date %s\n", s);
  return d;
}

static struct fx_uuid parse_uuid(const char *s) {
  struct fx_uuid u = {{0}};
  if (fx_uuid_parse(s, strlen(s), &u, NULL) != 0)
    fprintf(stderr, "sim: bad UUID %s\n", s);
  return u;
}

static int64_t now_plus_us(long offset_s) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((int64_t)ts.tv_sec + offset_s) * 1000000 + ts.tv_nsec / 1000;
}

void fx_sim_msg_init(struct fx_msg *m, fx_arena *arena, enum fx_msg_type type, const char *from) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->hdr.version = "3.1.0";
  m->hdr.sender_domain = fx_arena_strdup(arena, from);
  m->hdr.recipient_domain = SIM_PLATFORM;
  m->hdr.timestamp = (struct fx_datetime){now_plus_us(0), 0};
  fx_uuid_random(&m->hdr.message_id);
  m->hdr.conversation_id = m->hdr.message_id;
}

static void flex_init(struct fx_msg *m, fx_arena *arena, enum fx_msg_type type, const char *from, const char *cp,
                      const char *date) {
  fx_sim_msg_init(m, arena, type, from);
  struct fx_flex_header *f = m->type == FX_MSG_D_PROGNOSIS    ? &m->u.d_prognosis.flex
                             : m->type == FX_MSG_FLEX_REQUEST ? &m->u.flex_request.flex
                                                              : &m->u.flex_offer.flex;
  fx_duration_parse("PT15M", 5, &f->isp_duration, NULL);
  f->time_zone = "Europe/Amsterdam";
  f->period = parse_date(date);
  f->congestion_point = fx_arena_strdup(arena, cp);
}

static struct fx_portfolio_connection *connections(fx_arena *arena, const char *start, const char *const *conns,
                                                   size_t n) {
  struct fx_portfolio_connection *c = fx_arena_alloc(arena, (n ? n : 1) * sizeof *c);
  for (size_t i = 0; c && i < n; i++)
    c[i] = (struct fx_portfolio_connection){.entity_address = fx_arena_strdup(arena, conns[i]),
                                            .start_period = parse_date(start)};
  return c;
}

void fx_sim_dso_portfolio(struct fx_msg *m, fx_arena *arena, const char *dso, const char *start_date,
                          const struct fx_sim_cp *cps, size_t n_cps) {
  fx_sim_msg_init(m, arena, FX_MSG_DSO_PORTFOLIO_UPDATE, dso);
  struct fx_dso_portfolio_update *u = &m->u.dso_portfolio_update;
  u->time_zone = "Europe/Amsterdam";
  u->congestion_points = fx_arena_alloc(arena, (n_cps ? n_cps : 1) * sizeof *u->congestion_points);
  if (!u->congestion_points)
    return;
  u->n_congestion_points = n_cps;
  for (size_t i = 0; i < n_cps; i++)
    u->congestion_points[i] = (struct fx_dso_congestion_point){
        .entity_address = fx_arena_strdup(arena, cps[i].cp),
        .start_period = parse_date(start_date),
        .mutex_offers_supported = cps[i].mutex_offers,
        .day_ahead_redispatch_by = FX_REDISPATCH_DSO,
        .connections = connections(arena, start_date, cps[i].connections, cps[i].n_connections),
        .n_connections = cps[i].n_connections};
}

void fx_sim_agr_portfolio(struct fx_msg *m, fx_arena *arena, const char *agr, const char *start_date,
                          const char *const *conns, size_t n) {
  fx_sim_msg_init(m, arena, FX_MSG_AGR_PORTFOLIO_UPDATE, agr);
  m->u.agr_portfolio_update.time_zone = "Europe/Amsterdam";
  m->u.agr_portfolio_update.connections = connections(arena, start_date, conns, n);
  m->u.agr_portfolio_update.n_connections = n;
}

void fx_sim_prognosis(struct fx_msg *m, fx_arena *arena, const char *agr, const char *cp, const char *date,
                      int64_t revision, const int64_t *power, size_t n_isps) {
  flex_init(m, arena, FX_MSG_D_PROGNOSIS, agr, cp, date);
  struct fx_d_prognosis *d = &m->u.d_prognosis;
  d->revision = revision;
  d->isps = fx_arena_alloc(arena, (n_isps ? n_isps : 1) * sizeof *d->isps);
  if (!d->isps)
    return;
  d->n_isps = n_isps;
  for (size_t i = 0; i < n_isps; i++)
    d->isps[i] = (struct fx_isp){power[i], (int64_t)i + 1, 1};
}

void fx_sim_flex_request(struct fx_msg *m, fx_arena *arena, const char *dso, const char *cp, const char *date,
                         int64_t revision, long expires_in_s, const struct fx_flex_request_isp *isps, size_t n) {
  flex_init(m, arena, FX_MSG_FLEX_REQUEST, dso, cp, date);
  struct fx_flex_request *r = &m->u.flex_request;
  r->revision = revision;
  r->expiration_date_time = (struct fx_datetime){now_plus_us(expires_in_s), 0};
  r->isps = fx_arena_alloc(arena, (n ? n : 1) * sizeof *r->isps);
  if (!r->isps)
    return;
  memcpy(r->isps, isps, n * sizeof *isps);
  r->n_isps = n;
}

void fx_sim_flex_offer(struct fx_msg *m, fx_arena *arena, const char *agr, const char *cp, const char *date,
                       long expires_in_s, const char *flex_request_id, const struct fx_offer_option *options,
                       size_t n_options) {
  flex_init(m, arena, FX_MSG_FLEX_OFFER, agr, cp, date);
  struct fx_flex_offer *o = &m->u.flex_offer;
  o->expiration_date_time = (struct fx_datetime){now_plus_us(expires_in_s), 0};
  o->has_unsolicited = true;
  o->unsolicited = !flex_request_id;
  if (flex_request_id) {
    o->has_flex_request_message_id = true;
    o->flex_request_message_id = parse_uuid(flex_request_id);
  }
  o->currency = "EUR";
  o->offer_options = fx_arena_alloc(arena, (n_options ? n_options : 1) * sizeof *o->offer_options);
  if (!o->offer_options)
    return;
  o->n_offer_options = n_options;
  for (size_t i = 0; i < n_options; i++) {
    struct fx_offer_option *d = &o->offer_options[i];
    *d = options[i];
    d->option_reference = fx_arena_strdup(arena, options[i].option_reference);
    d->isps = fx_arena_alloc(arena, (d->n_isps ? d->n_isps : 1) * sizeof *d->isps);
    if (d->isps)
      memcpy(d->isps, options[i].isps, d->n_isps * sizeof *d->isps);
  }
}

void fx_sim_revocation(struct fx_msg *m, fx_arena *arena, const char *agr, const char *offer_id) {
  fx_sim_msg_init(m, arena, FX_MSG_FLEX_OFFER_REVOCATION, agr);
  m->u.flex_offer_revocation.flex_offer_message_id = parse_uuid(offer_id);
}

char *fx_sim_xml(struct fx_msg *m) {
  struct fx_buf b;
  struct fx_error err;
  fx_buf_init(&b);
  fx_msg_set_defaults(m);
  if (fx_write_msg(m, &b, &err) != 0) {
    fprintf(stderr, "sim: cannot write %s: %s: %s\n", fx_msg_type_name(m->type), err.where, err.why);
    fx_buf_free(&b);
    return NULL;
  }
  return b.data; /* NUL-terminated, malloc'd by the buffer */
}

static struct who *find_domain(struct fx_sim *p, const char *domain) {
  for (size_t i = 0; i < sizeof p->who / sizeof p->who[0]; i++)
    if (!strcmp(p->who[i].domain, domain))
      return &p->who[i];
  return NULL;
}

int fx_sim_send_msg(struct fx_sim *p, struct fx_msg *m) {
  struct who *w = find_domain(p, m->hdr.sender_domain);
  char *xml = w ? fx_sim_xml(m) : NULL;
  int st = xml ? fx_sim_send(p, w->domain, w->role, xml) : 0;
  free(xml);
  return st;
}

void fx_sim_msg_id(const struct fx_msg *m, char out[FX_UUID_STRLEN]) { fx_uuid_format(&m->hdr.message_id, out); }

int fx_sim_isp_count(const char *date) {
  struct fx_date d;
  struct fx_calendar *cal = fx_calendar_new("Europe/Amsterdam");
  int n = cal && fx_date_parse(date, strlen(date), &d, NULL) == 0
              ? fx_calendar_isp_count(cal, fx_date_to_days(&d), 15 * 60 * 1000000LL)
              : -1;
  fx_calendar_free(cal);
  return n;
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

const char *fx_sim_test_message(char *buf, size_t cap, const char *from, const char *to, const char *id) {
  char ts[FX_DATETIME_STRLEN];
  fx_sim_time(ts, 0);
  int n = snprintf(buf, cap,
                   "<TestMessage Version=\"3.1.0\" SenderDomain=\"%s\" RecipientDomain=\"%s\" TimeStamp=\"%s\" "
                   "MessageID=\"%s\" ConversationID=\"%s\"/>",
                   from, to, ts, id, id);
  if (n < 0 || (size_t)n >= cap)
    buf[0] = 0;
  return buf;
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
