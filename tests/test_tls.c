/* test_tls.c — HTTPS and per-IP limits on fx_http_server, seen from the wire,
 * and `flexd serve` over HTTPS end to end.
 *
 * The server runs on its own libuv loop thread with certificates made for the
 * test by the `openssl` command (a throw-away CA, two server certificates and
 * a client certificate). The test is the client: OpenSSL over blocking
 * loopback sockets whose receive timeouts bound every wait. Per-IP limits are
 * told apart by the source address (127.0.0.1 and 127.0.0.2 are both
 * loopback). The `serve` suites run the real binary through engine/sim with
 * HTTPS on both sides: flexd's listener and the participants' sink, whose
 * certificate flexd checks against the test CA (tls_peer_ca). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/http_server.h"
#include "engine/tls.h"
#include "tests/support/peer.h"
#include "tests/support/run.h"

static char dir[] = "/tmp/flexd-tls-XXXXXX";

static const char *path(const char *name) {
  static char buf[4][160];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
  return buf[i];
}

/* CA, server (CN=server), server2 (CN=server2), client (CN=client); every
 * certificate for 127.0.0.1. */
static void make_certs(void) {
  cr_assert_not_null(mkdtemp(dir));
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "cd %s && ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
           "openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=flexd-test-ca && "
           "for n in server server2 client; do "
           "openssl req $ec -keyout $n.key -out $n.csr -subj /CN=$n -addext subjectAltName=IP:127.0.0.1 && "
           "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 "
           "-copy_extensions copy || exit 1; done && chmod 600 *.key",
           dir);
  char quiet[1600];
  snprintf(quiet, sizeof quiet, "(%s) >/dev/null 2>&1", cmd);
  cr_assert_eq(system(quiet), 0, "the openssl command could not make the test certificates");
}

static void remove_certs(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

static struct fx_tls_ctx *server_ctx(const char *name, bool client_ca) {
  char crt[32], key[32], err[400];
  snprintf(crt, sizeof crt, "%s.crt", name);
  snprintf(key, sizeof key, "%s.key", name);
  struct fx_tls_config tc = {.cert_file = path(crt), .key_file = path(key),
                             .client_ca_file = client_ca ? path("ca.crt") : NULL};
  struct fx_tls_ctx *ctx;
  cr_assert_eq(fx_tls_ctx_new(&ctx, &tc, err, sizeof err), 0, "%s", err);
  return ctx;
}

/* ----------------------------------------------------------- the server */

struct fixture {
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t stop_async, reload_async;
  struct fx_http_server *srv;
  struct fx_tls_ctx *next_ctx; /* handed to the loop thread by reload_async */
  int port;
  atomic_int handled, reloaded, stopped;
};

static struct fixture fx;

static void handler(struct fx_http_request *req, void *ud) {
  (void)ud;
  atomic_fetch_add(&fx.handled, 1);
  size_t len;
  const uint8_t *body = fx_http_request_body(req, &len);
  fx_http_respond(req, 200, "text/plain", body, len, NULL);
}

static void on_stopped(void *ud) {
  (void)ud;
  atomic_store(&fx.stopped, 1);
}

static void on_stop_async(uv_async_t *a) {
  fx_http_server_stop(fx.srv, on_stopped, NULL);
  uv_close((uv_handle_t *)a, NULL);
  uv_close((uv_handle_t *)&fx.reload_async, NULL);
}

static void on_reload_async(uv_async_t *a) {
  (void)a;
  cr_assert_eq(fx_http_server_set_tls(fx.srv, fx.next_ctx), 0);
  fx_tls_ctx_free(fx.next_ctx); /* the server keeps its own reference */
  fx.next_ctx = NULL;
  atomic_store(&fx.reloaded, 1);
}

static void loop_main(void *arg) {
  (void)arg;
  uv_run(&fx.loop, UV_RUN_DEFAULT);
}

/* tls NULL: plain HTTP. The server takes its own reference to tls. */
static void start(struct fx_tls_ctx *tls, void (*tune)(struct fx_http_server_config *)) {
  memset(&fx, 0, sizeof fx);
  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  struct fx_http_server_config cfg;
  fx_http_server_config_default(&cfg);
  cfg.tls = tls;
  if (tune)
    tune(&cfg);
  cr_assert_eq(fx_http_server_start(&fx.srv, &fx.loop, &cfg, handler, NULL), 0);
  fx_tls_ctx_free(tls);
  fx.port = fx_http_server_port(fx.srv);
  uv_async_init(&fx.loop, &fx.stop_async, on_stop_async);
  uv_async_init(&fx.loop, &fx.reload_async, on_reload_async);
  cr_assert_eq(uv_thread_create(&fx.thread, loop_main, NULL), 0);
}

static void stop(void) {
  uv_async_send(&fx.stop_async);
  uv_thread_join(&fx.thread);
  cr_assert_eq(atomic_load(&fx.stopped), 1);
  cr_assert_eq(uv_loop_close(&fx.loop), 0, "a handle was left open");
}

/* ----------------------------------------------------------- the client */

static int tcp_connect(const char *src, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET};
  if (src) {
    inet_pton(AF_INET, src, &a.sin_addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0, "cannot bind to %s", src);
  }
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

struct client {
  SSL_CTX *ctx;
  SSL *ssl;
  int fd;
};

/* A client that trusts the test CA only and checks the server is 127.0.0.1;
 * max_version 0 = any; with_cert presents the client certificate. */
static SSL_CTX *client_ctx(int max_version, bool with_cert) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  cr_assert_not_null(ctx);
  cr_assert_eq(SSL_CTX_load_verify_locations(ctx, path("ca.crt"), NULL), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (max_version) {
    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    /* OpenSSL 3 will not even offer TLS 1.1 at its default security level:
     * lower it, so it is the server that refuses. */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  }
  if (with_cert) {
    cr_assert_eq(SSL_CTX_use_certificate_file(ctx, path("client.crt"), SSL_FILETYPE_PEM), 1);
    cr_assert_eq(SSL_CTX_use_PrivateKey_file(ctx, path("client.key"), SSL_FILETYPE_PEM), 1);
  }
  return ctx;
}

/* Connects and handshakes; false when the handshake failed. */
static bool tls_open_at(struct client *c, int port, int max_version, bool with_cert) {
  c->ctx = client_ctx(max_version, with_cert);
  c->fd = tcp_connect(NULL, port);
  c->ssl = SSL_new(c->ctx);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1");
  SSL_set_fd(c->ssl, c->fd);
  bool ok = SSL_connect(c->ssl) == 1;
  ERR_clear_error();
  return ok;
}

static bool tls_open(struct client *c, int max_version, bool with_cert) {
  return tls_open_at(c, fx.port, max_version, with_cert);
}

static void tls_close(struct client *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
  close(c->fd);
}

/* The CN of the certificate the server presented. */
static void peer_cn(struct client *c, char *out, size_t cap) {
  X509 *x = SSL_get1_peer_certificate(c->ssl);
  cr_assert_not_null(x);
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap);
  X509_free(x);
}

typedef int (*io_fn)(void *io, void *buf, int len);
static int ssl_read_fn(void *io, void *buf, int len) { return SSL_read(io, buf, len); }
static int fd_read_fn(void *io, void *buf, int len) { return (int)recv(*(int *)io, buf, (size_t)len, 0); }

/* Reads one response (head + Content-Length body) into out; the status, or -1
 * when the connection ends (or times out) first. */
static int read_response(io_fn rd, void *io, char *out, size_t cap) {
  size_t n = 0;
  out[0] = 0;
  while (n + 1 < cap) {
    int k = rd(io, out + n, (int)(cap - 1 - n));
    if (k <= 0)
      return -1;
    n += (size_t)k;
    out[n] = 0;
    char *end = strstr(out, "\r\n\r\n");
    const char *cl = strstr(out, "Content-Length: ");
    if (end && cl && n >= (size_t)(end + 4 - out) + strtoul(cl + 16, NULL, 10))
      return atoi(out + 9);
  }
  return -1;
}

static int tls_post(struct client *c, const char *body, char *resp, size_t cap) {
  char req[512];
  int n = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
                   body);
  if (SSL_write(c->ssl, req, n) != n) {
    ERR_clear_error();
    return -1;
  }
  int st = read_response(ssl_read_fn, c->ssl, resp, cap);
  ERR_clear_error();
  return st;
}

TestSuite(tls, .init = make_certs, .fini = remove_certs, .timeout = 60);

Test(tls, a_request_over_https_is_answered) {
  start(server_ctx("server", false), NULL);
  struct client c;
  cr_assert(tls_open(&c, 0, false), "the handshake failed");
  char resp[1024], cn[64];
  peer_cn(&c, cn, sizeof cn);
  cr_assert_str_eq(cn, "server");
  cr_assert_eq(tls_post(&c, "hello", resp, sizeof resp), 200, "%s", resp);
  cr_assert(strstr(resp, "\r\n\r\nhello"), "%s", resp);
  cr_assert_eq(tls_post(&c, "again", resp, sizeof resp), 200, "keep-alive over TLS: %s", resp);
  cr_assert_eq(atomic_load(&fx.handled), 2);
  tls_close(&c);
  stop();
}

Test(tls, tls12_gets_a_forward_secret_aead_suite) {
  start(server_ctx("server", false), NULL);
  struct client c;
  cr_assert(tls_open(&c, TLS1_2_VERSION, false), "TLS 1.2 was refused");
  cr_assert_eq(SSL_version(c.ssl), TLS1_2_VERSION);
  const char *suite = SSL_get_cipher_name(c.ssl);
  cr_assert(!strncmp(suite, "ECDHE-", 6) && (strstr(suite, "GCM") || strstr(suite, "CHACHA20")),
            "suite %s", suite);
  char resp[256];
  cr_assert_eq(tls_post(&c, "x", resp, sizeof resp), 200);
  tls_close(&c);
  stop();
}

Test(tls, tls11_is_refused) {
  start(server_ctx("server", false), NULL);
  struct client c;
  cr_assert_not(tls_open(&c, TLS1_1_VERSION, false), "a TLS 1.1 handshake succeeded");
  tls_close(&c);
  cr_assert_eq(atomic_load(&fx.handled), 0);
  stop();
}

Test(tls, plain_http_to_the_tls_port_gets_no_http_answer) {
  start(server_ctx("server", false), NULL);
  int fd = tcp_connect(NULL, fx.port);
  const char req[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
  cr_assert_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
  char resp[512];
  cr_assert_eq(read_response(fd_read_fn, &fd, resp, sizeof resp), -1, "answered: %s", resp);
  cr_assert(strncmp(resp, "HTTP/", 5), "an HTTP answer came back: %s", resp);
  cr_assert_eq(atomic_load(&fx.handled), 0);
  close(fd);
  stop();
}

Test(tls, a_required_client_certificate_that_is_missing_is_refused) {
  start(server_ctx("server", true), NULL);
  struct client c;
  char resp[256];
  /* TLS 1.3 clients finish their side first; the refusal then arrives as an
   * alert in place of the answer. Either way no request gets through. */
  if (tls_open(&c, 0, false))
    cr_assert_eq(tls_post(&c, "x", resp, sizeof resp), -1, "answered without a client certificate: %s", resp);
  tls_close(&c);
  cr_assert_eq(atomic_load(&fx.handled), 0);
  cr_assert(tls_open(&c, 0, true), "the handshake with a client certificate failed");
  cr_assert_eq(tls_post(&c, "x", resp, sizeof resp), 200, "%s", resp);
  tls_close(&c);
  stop();
}

Test(tls, a_reload_reaches_new_connections_and_spares_open_ones) {
  start(server_ctx("server", false), NULL);
  struct client before, after;
  char cn[64], resp[256];
  cr_assert(tls_open(&before, 0, false));
  cr_assert_eq(tls_post(&before, "a", resp, sizeof resp), 200);
  fx.next_ctx = server_ctx("server2", false);
  uv_async_send(&fx.reload_async);
  for (int i = 0; i < 500 && !atomic_load(&fx.reloaded); i++)
    usleep(10000);
  cr_assert_eq(atomic_load(&fx.reloaded), 1);
  cr_assert(tls_open(&after, 0, false));
  peer_cn(&after, cn, sizeof cn);
  cr_assert_str_eq(cn, "server2", "a new connection still sees the old certificate");
  cr_assert_eq(tls_post(&after, "b", resp, sizeof resp), 200);
  /* The connection accepted with the old context goes on working. */
  peer_cn(&before, cn, sizeof cn);
  cr_assert_str_eq(cn, "server");
  cr_assert_eq(tls_post(&before, "c", resp, sizeof resp), 200, "%s", resp);
  tls_close(&before);
  tls_close(&after);
  stop();
}

static void slow_limits(struct fx_http_server_config *c) {
  c->handshake_timeout_ms = 300;
  c->header_timeout_ms = c->body_timeout_ms = c->idle_timeout_ms = 60000;
}

Test(tls, a_stalled_handshake_is_timed_out) {
  start(server_ctx("server", false), slow_limits);
  int fd = tcp_connect(NULL, fx.port);
  /* The first bytes of a ClientHello record, then nothing. */
  const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  cr_assert_eq(send(fd, partial, sizeof partial, 0), (ssize_t)sizeof partial);
  char b[64];
  ssize_t k = recv(fd, b, sizeof b, 0); /* the server's close; the 5 s receive timeout bounds it */
  cr_assert_leq(k, 0, "the server sent %zd bytes to half a ClientHello", k);
  cr_assert(k == 0 || errno == ECONNRESET, "the connection was still open (errno %d)", errno);
  close(fd);
  stop();
}

/* ------------------------------------------------------- per-IP limits */

static void rate_two(struct fx_http_server_config *c) { c->ip_rate = 2; }

/* Sends n pipelined POSTs in one write and reads the n answers (they may
 * share reads); returns the number of 200s, counts 429s carrying Retry-After
 * into *limited. */
static int burst(const char *src, int n, int *limited) {
  int fd = tcp_connect(src, fx.port);
  char buf[4096] = "";
  for (int i = 0; i < n; i++)
    strcat(buf, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
  cr_assert_eq(send(fd, buf, strlen(buf), 0), (ssize_t)strlen(buf));
  int ok = 0, got = 0;
  size_t len = 0;
  *limited = 0;
  while (got < n) {
    char *end = strstr(buf, "\r\n\r\n");
    const char *cl = strstr(buf, "Content-Length: ");
    size_t whole = end && cl ? (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10) : SIZE_MAX;
    if (whole > len) { /* no complete answer buffered yet */
      ssize_t k = recv(fd, buf + len, sizeof buf - 1 - len, 0);
      cr_assert_gt(k, 0, "the connection ended after %d answers", got);
      len += (size_t)k;
      buf[len] = 0;
      continue;
    }
    int st = atoi(buf + 9);
    char c = buf[whole];
    buf[whole] = 0;
    if (st == 200)
      ok++;
    else if (st == 429 && strstr(buf, "\r\nRetry-After: 1\r\n"))
      (*limited)++;
    else
      cr_assert_fail("answer %d: %s", got, buf);
    buf[whole] = c;
    memmove(buf, buf + whole, len - whole + 1);
    len -= whole;
    got++;
  }
  close(fd);
  return ok;
}

Test(ip_limits, requests_over_the_per_ip_rate_get_429_with_retry_after) {
  start(NULL, rate_two);
  int limited;
  /* The bucket holds 2; five requests in one loop turn: 2 pass, 3 do not. */
  cr_assert_eq(burst(NULL, 5, &limited), 2);
  cr_assert_eq(limited, 3);
  cr_assert_eq(atomic_load(&fx.handled), 2, "a limited request reached the handler");
  /* Another address has a bucket of its own. */
  cr_assert_eq(burst("127.0.0.2", 2, &limited), 2);
  cr_assert_eq(limited, 0);
  stop();
}

static void two_connections(struct fx_http_server_config *c) { c->ip_max_connections = 2; }

/* True when the connection is served: one POST answered 200. */
static bool served(int fd) {
  const char req[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx";
  if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1))
    return false;
  char resp[256];
  return read_response(fd_read_fn, &fd, resp, sizeof resp) == 200;
}

Test(ip_limits, connections_per_ip_are_bounded) {
  start(NULL, two_connections);
  int a = tcp_connect(NULL, fx.port), b = tcp_connect(NULL, fx.port);
  cr_assert(served(a));
  cr_assert(served(b));
  int third = tcp_connect(NULL, fx.port);
  cr_assert_not(served(third), "a third connection from one address was served");
  close(third);
  int other = tcp_connect("127.0.0.2", fx.port);
  cr_assert(served(other), "another address was refused");
  close(other);
  /* A freed slot is free again once the server has seen the close (a
   * refused attempt is closed at once, so trying again costs nothing). */
  close(a);
  bool ok = false;
  for (int i = 0; i < 100 && !ok; i++) {
    int again = tcp_connect(NULL, fx.port);
    ok = served(again);
    close(again);
    if (!ok)
      usleep(20000);
  }
  cr_assert(ok, "the slot of a closed connection was not given back");
  close(b);
  stop();
}

Test(tls, a_key_readable_by_others_is_refused) {
  cr_assert_eq(chmod(path("server.key"), 0640), 0);
  struct fx_tls_config tc = {.cert_file = path("server.crt"), .key_file = path("server.key")};
  struct fx_tls_ctx *ctx;
  char err[400];
  cr_assert_eq(fx_tls_ctx_new(&ctx, &tc, err, sizeof err), -1);
  cr_assert_null(ctx);
  cr_assert(strstr(err, "chmod 600"), "%s", err);
  /* ... and a key that does not go with the certificate. */
  cr_assert_eq(chmod(path("server.key"), 0600), 0);
  tc.key_file = path("server2.key");
  cr_assert_eq(fx_tls_ctx_new(&ctx, &tc, err, sizeof err), -1);
  cr_assert(strstr(err, "does not go with"), "%s", err);
}

/* ------------------------------------------------- flexd serve over HTTPS */

static struct fx_sim *sim;

static void serve_setup(void) {
  make_certs();
  struct fx_sim_opts o = {.tls_dir = dir};
  sim = fx_peer_start(&o);
}

static void serve_teardown(void) {
  fx_sim_free(sim);
  remove_certs();
}

TestSuite(serve, .init = serve_setup, .fini = serve_teardown, .timeout = 90);

static const char *test_message(const char *id) {
  static char buf[512];
  return fx_sim_test_message(buf, sizeof buf, SIM_AGR, SIM_PLATFORM, id);
}

/* Sends a TestMessage over HTTPS and waits for its response, which flexd
 * delivers over HTTPS to the sink after checking the sink's certificate. */
static void round_trip(void) {
  char id[FX_UUID_STRLEN];
  fx_sim_uuid(id);
  cr_assert_eq(fx_sim_send(sim, SIM_AGR, FX_ROLE_AGR, test_message(id)), 200);
  fx_arena *a = fx_arena_new(0);
  const struct fx_msg *m = fx_sim_await(sim, FX_MSG_TEST_MESSAGE_RESPONSE, id, 15000, a);
  cr_assert_not_null(m, "no TestMessageResponse reached the HTTPS sink (see %s/flexd.log)", fx_sim_dir(sim));
  cr_assert_str_eq(m->hdr.recipient_domain, SIM_AGR);
  fx_arena_free(a);
}

Test(serve, a_signed_message_over_https_gets_200_and_its_response_over_https) { round_trip(); }

Test(serve, plain_http_to_the_https_listener_gets_no_http_answer) {
  int fd = tcp_connect(NULL, fx_sim_port(sim));
  const char req[] = "POST /shapeshifter/api/v3/message HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
  cr_assert_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
  char resp[512];
  cr_assert_eq(read_response(fd_read_fn, &fd, resp, sizeof resp), -1, "answered: %s", resp);
  cr_assert(strncmp(resp, "HTTP/", 5), "an HTTP answer came back: %s", resp);
  close(fd);
}

Test(serve, sighup_gives_new_connections_the_new_certificate) {
  struct client c;
  char cn[64] = "";
  cr_assert(tls_open_at(&c, fx_sim_port(sim), 0, false));
  peer_cn(&c, cn, sizeof cn);
  tls_close(&c);
  cr_assert_str_eq(cn, "server");
  /* The files the configuration names are replaced, then flexd is told. */
  cr_assert_eq(rename(path("server2.crt"), path("server.crt")), 0);
  cr_assert_eq(rename(path("server2.key"), path("server.key")), 0);
  cr_assert_eq(kill(fx_sim_pid(sim), SIGHUP), 0);
  for (int i = 0; i < 100 && strcmp(cn, "server2"); i++) {
    usleep(50000);
    cr_assert(tls_open_at(&c, fx_sim_port(sim), 0, false), "a handshake failed during the reload");
    peer_cn(&c, cn, sizeof cn);
    tls_close(&c);
  }
  cr_assert_str_eq(cn, "server2", "new connections still get the old certificate after SIGHUP");
  round_trip();
}

/* flexd refuses to start rather than serve UFTP in a way nobody asked for.
 * (One participant: start-up gets as far as the listener.) */
static void write_conf(const char *extra) {
  struct fx_keys_pair kp;
  char cs1[FX_KEYS_CS1_LEN + 1];
  cr_assert_eq(fx_keys_generate(&kp), 0);
  fx_keys_cs1_format(&kp.pub, cs1);
  fx_keys_wipe(&kp);
  FILE *f = fopen(path("flexd.conf"), "w");
  cr_assert_not_null(f);
  fprintf(f,
          "[platform]\nlisten = 127.0.0.1:0\nmetrics =\nstore = %s\n%s[market]\ntime_zone = Europe/Amsterdam\n"
          "[participant " SIM_AGR " AGR]\nkey = %s\nendpoint = https://127.0.0.1:9/x\n",
          path("store"), extra, cs1);
  cr_assert_eq(fclose(f), 0);
}

static int serve(char *out, size_t cap) {
  char args[256];
  snprintf(args, sizeof args, "serve --config %s", path("flexd.conf"));
  return fx_test_run(args, out, cap);
}

TestSuite(serve_refusals, .init = make_certs, .fini = remove_certs, .timeout = 60);

Test(serve_refusals, no_tls_and_no_plain_http_is_refused) {
  char out[2048];
  write_conf("");
  cr_assert_eq(serve(out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, "plain_http = true"), "%s", out);
}

Test(serve_refusals, a_tls_key_readable_by_others_is_refused) {
  char out[2048], extra[600];
  cr_assert_eq(chmod(path("server.key"), 0644), 0);
  snprintf(extra, sizeof extra, "tls_cert = %s\ntls_key = %s\n", path("server.crt"), path("server.key"));
  write_conf(extra);
  cr_assert_eq(serve(out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, "chmod 600"), "%s", out);
}
