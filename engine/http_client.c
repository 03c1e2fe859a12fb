/* http_client.c — libcurl multi driven by the libuv loop, per-peer bounds.
 *
 * The integration is libcurl's multi-socket one: curl tells us which sockets
 * to watch (on_socket → one uv_poll_t each) and when to call it back
 * (on_timer_set → one uv_timer_t); both land in curl_multi_socket_action,
 * after which finished transfers are collected (check_done).
 *
 * On top sits admission control: a post waits in its peer's FIFO until both
 * the peer and the client have a free slot. Peers with waiting posts form a
 * ring served round-robin when a total slot frees, so one slow peer with a
 * deep backlog cannot hold every slot. Timeouts start when a post starts.
 *
 * Per post, only what differs is set up: finished easy handles are kept (up
 * to max_total) with their shared options, and a peer is found by the URL it
 * was first posted to without parsing it again. */
#include "engine/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = 1)
#include <uthash.h>
#include <utlist.h>

struct peer {
  char *key;                     /* scheme://host:port */
  char *url;                     /* the first URL posted to it: a parse-free lookup */
  UT_hash_handle hh_url;
  unsigned active;
  struct post *waiting;          /* DL list, FIFO */
  struct peer *prev, *next;      /* ring of peers with waiting posts */
  bool in_ring;
  UT_hash_handle hh;
};

struct post {
  struct fx_http_client *c;
  struct peer *peer;
  CURL *easy;
  struct curl_slist *headers;    /* its own header list, when not the shared one */
  fx_http_client_cb cb;
  void *ud;
  enum fx_http_err failed;       /* set when it could not even be started */
  struct post *prev, *next;      /* peer->waiting, c->active or c->failed */
  size_t len;
  char body[];
};

struct sock {
  uv_poll_t poll;
  curl_socket_t fd;
  struct fx_http_client *c;
  int events;                    /* what the poll handle watches now */
  bool owned;                    /* opened through open_socket: closed through close_socket */
  bool parked;                   /* in curl's connection cache, no transfer on it */
  bool closing;                  /* its handle is closing: curl may still name it */
  UT_hash_handle hh;             /* c->socks, by fd */
};

struct fx_http_client {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;              /* curl's timeout */
  uv_timer_t defer;              /* delivers posts that failed to start */
  struct fx_http_client_config cfg;
  char *ca_file;
  struct peer *peers, *ring;
  struct peer *by_url;           /* the same peers, by their first URL */
  CURL **idle;                   /* finished easy handles kept for reuse */
  unsigned n_idle;
  struct post *active, *failed;
  char *hdr_type;                /* the content type hdrs is for */
  struct curl_slist *hdrs;       /* shared by every post of that type */
  struct sock *socks;            /* every socket with a poll handle, by fd */
  unsigned nactive, nwaiting, open_handles;
  bool closing, dispatching, close_requested;
};

void fx_http_client_config_default(struct fx_http_client_config *cfg) {
  *cfg = (struct fx_http_client_config){.max_total = 64, .max_per_peer = 4,
                                        .max_redirects = 5, .connect_timeout_ms = 10000};
}

const char *fx_http_err_name(enum fx_http_err err) {
  static const char *const names[] = {"ok",  "timeout",   "refused",  "reset", "dns",
                                      "tls", "redirects", "canceled", "internal"};
  return (unsigned)err < sizeof names / sizeof names[0] ? names[err] : "unknown";
}

static enum fx_http_err map_curl(CURLcode rc) {
  switch (rc) {
  case CURLE_OK: return FX_HTTP_OK;
  case CURLE_OPERATION_TIMEDOUT: return FX_HTTP_ETIMEDOUT;
  case CURLE_COULDNT_CONNECT: return FX_HTTP_EREFUSED;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return FX_HTTP_EDNS;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_WEIRD_SERVER_REPLY: return FX_HTTP_ERESET;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS: return FX_HTTP_ETLS;
  case CURLE_TOO_MANY_REDIRECTS: return FX_HTTP_EREDIRECTS;
  default: return FX_HTTP_EINTERNAL;
  }
}

/* ------------------------------------------------------------ delivery rules */

/* Unambiguous client errors: resending the same bytes cannot succeed. 404 is
 * not among them (front ends answer it for a missing back end: the appendix
 * says treat it as temporary), nor are 408, 419, 425, 429. */
static const int final_rejections[] = {400, 401, 403, 405, 406, 410, 411,
                                       413, 414, 415, 422};

enum fx_delivery_class fx_http_delivery_class(int status, enum fx_http_err err) {
  if (err != FX_HTTP_OK) return FX_DELIVERY_RETRY;
  if (status >= 200 && status < 300) return FX_DELIVERY_FINAL_OK;
  for (size_t i = 0; i < sizeof final_rejections / sizeof final_rejections[0]; i++)
    if (status == final_rejections[i]) return FX_DELIVERY_FINAL_REJECTED;
  return FX_DELIVERY_RETRY;
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fx_backoff_next_us(unsigned attempt, uint64_t base_us, uint64_t cap_us,
                            uint64_t jitter_seed) {
  uint64_t d = base_us;
  for (unsigned i = 0; i < attempt && d < cap_us; i++) d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
  if (d > cap_us) d = cap_us;
  /* "Equal jitter": half fixed, half drawn, so delays never collapse to 0. */
  uint64_t half = d / 2;
  uint64_t r = splitmix64(jitter_seed ^ splitmix64(attempt));
  return d - half + (half ? r % (half + 1) : 0);
}

/* ----------------------------------------------------------- sockets, timer */

/* A socket's poll handle lives as long as the socket. libcurl opens and
 * closes connection sockets through open_socket/close_socket, so a socket it
 * has put back into its connection cache (CURL_POLL_REMOVE) is only parked:
 * still watched for readability, so a peer's close is noticed once and the
 * watch dropped, but not torn down and set up again for the next POST on the
 * same connection. Re-arming is skipped when curl asks for what is already
 * watched. Per reused connection that saves the epoll_ctl and ioctl calls a
 * fresh poll handle costs (six per POST with libuv's uv_poll). Sockets curl
 * opens by itself (the resolver's wake-up pair) are not ours to park: they
 * are closed as soon as curl removes them. */

static void check_done(struct fx_http_client *c);

static void on_handle_closed(uv_handle_t *h);

static struct sock *sock_find(struct fx_http_client *c, curl_socket_t fd) {
  struct sock *k;
  HASH_FIND_INT(c->socks, &fd, k);
  return k;
}

/* Stops watching and frees k; the descriptor stays open (it is curl's). */
static void sock_close(struct sock *k) {
  k->closing = true;
  HASH_DEL(k->c->socks, k);
  uv_close((uv_handle_t *)&k->poll, on_handle_closed);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watches ev (UV_READABLE | UV_WRITABLE, 0 = nothing) unless it already does. */
static int sock_watch(struct sock *k, int ev) {
  if (ev == k->events) return 0;
  int rc = ev ? uv_poll_start(&k->poll, ev, on_poll) : uv_poll_stop(&k->poll);
  k->events = rc ? 0 : ev;
  return rc ? -1 : 0;
}

static struct sock *sock_new(struct fx_http_client *c, curl_socket_t fd, bool owned) {
  struct sock *k = sock_find(c, fd);
  if (k) sock_close(k); /* stale: curl closed that number without telling us */
  if (!(k = calloc(1, sizeof *k))) return NULL;
  if (uv_poll_init_socket(c->loop, &k->poll, fd)) {
    free(k);
    return NULL;
  }
  k->fd = fd;
  k->c = c;
  k->owned = owned;
  k->poll.data = k;
  c->open_handles++;
  int oom = 0;
  HASH_ADD_INT(c->socks, fd, k);
  if (oom) {
    uv_close((uv_handle_t *)&k->poll, on_handle_closed);
    return NULL;
  }
  return k;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct sock *k = h->data;
  struct fx_http_client *c = k->c;
  if (k->parked) { /* the peer closed (or spoke) on an idle connection */
    sock_watch(k, 0);
    return;
  }
  int flags = status < 0 ? CURL_CSELECT_ERR
                         : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                               ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
  int running;
  curl_multi_socket_action(c->multi, k->fd, flags, &running);
  check_done(c);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  struct fx_http_client *c = userp;
  struct sock *k = socketp && !((struct sock *)socketp)->closing ? socketp : NULL;
  bool assigned = k != NULL;
  (void)easy;
  if (!k) k = sock_find(c, fd);
  if (what == CURL_POLL_REMOVE) {
    if (k && k->owned) { /* back in curl's cache: park it */
      k->parked = true;
      return sock_watch(k, UV_READABLE);
    }
    if (k) sock_close(k);
    return 0;
  }
  if (!k && !(k = sock_new(c, fd, false))) return -1;
  if (!assigned) curl_multi_assign(c->multi, fd, k);
  k->parked = false;
  return sock_watch(k, ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0));
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
  struct fx_http_client *c = clientp;
  (void)purpose;
  curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  if (fd == CURL_SOCKET_BAD) return fd;
  if (!sock_new(c, fd, true)) {
    close(fd);
    return CURL_SOCKET_BAD;
  }
  return fd;
}

/* The poll handle goes first: libuv must stop watching before the number can
 * be reused. */
static int close_socket(void *clientp, curl_socket_t fd) {
  struct sock *k = sock_find(clientp, fd);
  if (k) sock_close(k);
  return close(fd);
}

static void on_curl_timeout(uv_timer_t *t) {
  struct fx_http_client *c = t->data;
  int running;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(c);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp) {
  struct fx_http_client *c = userp;
  (void)multi;
  if (timeout_ms < 0) uv_timer_stop(&c->timer);
  else uv_timer_start(&c->timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ------------------------------------------------------------------- posts */

static void peer_release(struct fx_http_client *c, struct peer *p) {
  if (p->active || p->waiting) return;
  if (p->in_ring) DL_DELETE(c->ring, p);
  HASH_DEL(c->peers, p);
  if (p->url) HASH_DELETE(hh_url, c->by_url, p);
  free(p->url);
  free(p->key);
  free(p);
}

/* A finished transfer's easy handle keeps its options (and curl its caches)
 * for the next post: creating and configuring one per post costs more than
 * the POST itself on loopback. The handle is out of the multi by now. */
static void easy_recycle(struct fx_http_client *c, CURL *e) {
  if (!e) return;
  if (c->closing || c->n_idle >= c->cfg.max_total) curl_easy_cleanup(e);
  else c->idle[c->n_idle++] = e;
}

static void post_free(struct post *p) {
  easy_recycle(p->c, p->easy);
  curl_slist_free_all(p->headers);
  free(p);
}

/* Calls back and frees a post that is on no list any more. */
static void post_finish(struct post *p, int status, enum fx_http_err err) {
  struct fx_http_client *c = p->c;
  struct peer *peer = p->peer;
  fx_http_client_cb cb = p->cb;
  void *ud = p->ud;
  post_free(p);
  peer_release(c, peer);
  c->dispatching = true;
  cb(status, err, ud);
  c->dispatching = false;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ud) {
  (void)ptr, (void)ud;
  return size * n; /* UFTP answers are asynchronous: the body carries nothing we need */
}

/* The options every post shares, set once per easy handle. */
static CURL *easy_new(struct fx_http_client *c) {
  const struct fx_http_client_config *cfg = &c->cfg;
  CURL *e = curl_easy_init();
  if (!e) return NULL;
  CURLcode rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
  rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
  rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  rc |= curl_easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
  rc |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)cfg->max_redirects);
  rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "flexd/0.1");
  rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
  rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
  rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
  if (c->ca_file) rc |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  if (rc != CURLE_OK) {
    curl_easy_cleanup(e);
    return NULL;
  }
  return e;
}

/* The header list for a content type. The last one built is kept and shared
 * (every delivery posts the same type); another type gets a list of the
 * post's own. NULL when out of memory. */
static struct curl_slist *headers_for(struct fx_http_client *c, struct post *p, const char *content_type) {
  if (!content_type) content_type = "text/xml";
  if (c->hdr_type && !strcmp(c->hdr_type, content_type)) return c->hdrs;
  char ct[256];
  snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
  struct curl_slist *h = curl_slist_append(NULL, ct), *h2;
  /* No "Expect: 100-continue" round trip: bodies are small and always sent. */
  if (!h || !(h2 = curl_slist_append(h, "Expect:"))) {
    curl_slist_free_all(h);
    return NULL;
  }
  char *type = c->hdr_type ? NULL : strdup(content_type);
  if (type) { /* the first type seen becomes the shared one */
    c->hdr_type = type;
    c->hdrs = h2;
  } else {
    p->headers = h2;
  }
  return h2;
}

static int post_prepare(struct post *p, const char *url, const char *content_type,
                        unsigned timeout_ms) {
  struct fx_http_client *c = p->c;
  struct curl_slist *h = headers_for(c, p, content_type);
  if (!h) return -ENOMEM;
  if (c->n_idle) p->easy = c->idle[--c->n_idle];
  else if (!(p->easy = easy_new(c))) return -ENOMEM;
  CURL *e = p->easy;
  CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, url);
  rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, p);
  rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
  rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)p->body);
  rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  return rc == CURLE_OK ? 0 : -EINVAL;
}

static void on_defer(uv_timer_t *t) {
  struct fx_http_client *c = t->data;
  while (c->failed && !c->closing) {
    struct post *p = c->failed;
    DL_DELETE(c->failed, p);
    post_finish(p, 0, p->failed);
  }
  if (c->close_requested) fx_http_client_close(c);
}

static void post_start(struct fx_http_client *c, struct post *p) {
  p->peer->active++;
  c->nactive++;
  if (curl_multi_add_handle(c->multi, p->easy) != CURLM_OK) {
    p->peer->active--;
    c->nactive--;
    p->failed = FX_HTTP_EINTERNAL;
    DL_APPEND(c->failed, p);
    uv_timer_start(&c->defer, on_defer, 0, 0); /* never call back from inside post() */
    return;
  }
  DL_APPEND(c->active, p);
}

/* Starts waiting posts while there are free slots, one per peer in turn. */
static void pump(struct fx_http_client *c) {
  while (!c->closing && c->ring && c->nactive < c->cfg.max_total) {
    struct peer *pe = NULL, *it;
    DL_FOREACH(c->ring, it) if (it->active < c->cfg.max_per_peer) { pe = it; break; }
    if (!pe) return;
    struct post *p = pe->waiting;
    DL_DELETE(pe->waiting, p);
    c->nwaiting--;
    DL_DELETE(c->ring, pe);
    if (pe->waiting) DL_APPEND(c->ring, pe);
    else pe->in_ring = false;
    post_start(c, p);
  }
}

static void check_done(struct fx_http_client *c) {
  CURLMsg *msg;
  int left;
  while (!c->close_requested && (msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL *e = msg->easy_handle;
    CURLcode res = msg->data.result;
    char *priv = NULL;
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
    struct post *p = (struct post *)(void *)priv;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(c->multi, e);
    DL_DELETE(c->active, p);
    c->nactive--;
    p->peer->active--;
    enum fx_http_err err = map_curl(res);
    if (!err && code <= 0) err = FX_HTTP_EINTERNAL;
    post_finish(p, err ? 0 : (int)code, err);
  }
  if (c->close_requested) fx_http_client_close(c);
  else pump(c);
}

/* Remembers url as p's lookup key, unless p has one already. */
static void peer_remember_url(struct fx_http_client *c, struct peer *p, const char *url) {
  if (p->url || !(p->url = strdup(url))) return;
  int oom = 0;
  HASH_ADD_KEYPTR(hh_url, c->by_url, p->url, strlen(p->url), p);
  if (oom) {
    free(p->url);
    p->url = NULL;
  }
}

static struct peer *peer_get(struct fx_http_client *c, const char *url) {
  struct peer *p = NULL;
  HASH_FIND(hh_url, c->by_url, url, strlen(url), p);
  if (p) return p;
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL, key[600];
  if (!u || curl_url_set(u, CURLUPART_URL, url, 0) ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) ||
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
      snprintf(key, sizeof key, "%s://%s:%s", scheme, host, port) >= (int)sizeof key)
    goto out;
  HASH_FIND_STR(c->peers, key, p);
  if (p) goto out;
  int oom = 0;
  if (!(p = calloc(1, sizeof *p)) || !(p->key = strdup(key))) goto fail;
  HASH_ADD_KEYPTR(hh, c->peers, p->key, strlen(p->key), p);
  if (!oom) goto out;
fail:
  if (p) free(p->key);
  free(p);
  p = NULL;
out:
  if (p) peer_remember_url(c, p, url);
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return p;
}

int fx_http_client_post(struct fx_http_client *c, const char *url, const char *content_type,
                        const void *body, size_t len, unsigned timeout_ms,
                        fx_http_client_cb cb, void *ud) {
  if (c->closing || c->close_requested) return -ECANCELED;
  struct peer *peer = peer_get(c, url);
  if (!peer) return -EINVAL;
  struct post *p = calloc(1, sizeof *p + len);
  if (!p) {
    peer_release(c, peer);
    return -ENOMEM;
  }
  *p = (struct post){.c = c, .peer = peer, .cb = cb, .ud = ud, .len = len};
  if (len) memcpy(p->body, body, len);
  int rc = post_prepare(p, url, content_type, timeout_ms);
  if (rc) {
    post_free(p);
    peer_release(c, peer);
    return rc;
  }
  DL_APPEND(peer->waiting, p);
  c->nwaiting++;
  if (!peer->in_ring) {
    peer->in_ring = true;
    DL_APPEND(c->ring, peer);
  }
  pump(c);
  return 0;
}

unsigned fx_http_client_active(const struct fx_http_client *c) { return c->nactive; }
unsigned fx_http_client_waiting(const struct fx_http_client *c) { return c->nwaiting; }

/* ------------------------------------------------------------ life cycle */

static void on_handle_closed(uv_handle_t *h) {
  struct fx_http_client *c;
  if (h->type == UV_POLL) {
    struct sock *k = h->data;
    c = k->c;
    free(k);
  } else {
    c = h->data;
  }
  if (--c->open_handles) return;
  free(c->ca_file);
  free(c->idle);
  free(c->hdr_type);
  curl_slist_free_all(c->hdrs);
  free(c);
  curl_global_cleanup();
}

int fx_http_client_new(struct fx_http_client **out, uv_loop_t *loop,
                       const struct fx_http_client_config *cfg) {
  *out = NULL;
  if (!cfg->max_total || !cfg->max_per_peer) return -EINVAL;
  if (curl_global_init(CURL_GLOBAL_DEFAULT)) return -ENOMEM;
  struct fx_http_client *c = calloc(1, sizeof *c);
  if (!c || !(c->multi = curl_multi_init()) || !(c->idle = calloc(cfg->max_total, sizeof *c->idle)) ||
      (cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file)))) {
    if (c && c->multi) curl_multi_cleanup(c->multi);
    if (c) free(c->idle);
    free(c);
    curl_global_cleanup();
    return -ENOMEM;
  }
  c->loop = loop;
  c->cfg = *cfg;
  c->cfg.ca_file = c->ca_file;
  uv_timer_init(loop, &c->timer);
  uv_timer_init(loop, &c->defer);
  c->timer.data = c->defer.data = c;
  c->open_handles = 2;
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_total);
  *out = c;
  return 0;
}

void fx_http_client_close(struct fx_http_client *c) {
  if (c->closing) return;
  if (c->dispatching) { /* inside a callback: finish once it has returned */
    c->close_requested = true;
    return;
  }
  c->closing = true;
  struct post *p, *tmp;
  struct peer *pe, *ptmp;
  DL_FOREACH_SAFE(c->active, p, tmp) {
    curl_multi_remove_handle(c->multi, p->easy);
    DL_DELETE(c->active, p);
    p->peer->active--;
    post_finish(p, 0, FX_HTTP_ECANCELED);
  }
  HASH_ITER(hh, c->peers, pe, ptmp) {
    DL_FOREACH_SAFE(pe->waiting, p, tmp) {
      DL_DELETE(pe->waiting, p);
      post_finish(p, 0, FX_HTTP_ECANCELED); /* frees pe after its last post */
    }
  }
  DL_FOREACH_SAFE(c->failed, p, tmp) {
    DL_DELETE(c->failed, p);
    post_finish(p, 0, FX_HTTP_ECANCELED);
  }
  c->nactive = c->nwaiting = 0;
  struct sock *k, *ktmp;
  HASH_ITER(hh, c->socks, k, ktmp) sock_close(k); /* before curl closes the fds */
  curl_multi_cleanup(c->multi);
  c->multi = NULL;
  while (c->n_idle) curl_easy_cleanup(c->idle[--c->n_idle]);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->defer, on_handle_closed);
}
