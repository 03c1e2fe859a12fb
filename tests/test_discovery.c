/* test_discovery.c — DNS discovery of participants' keys and endpoints end to
 * end: a real dnsmasq on 127.0.0.1 (a high port, no upstream, records from a
 * file written here) serving the transport appendix's records, and a real
 * flexd (engine/sim.h) configured to use it. The simulation starts flexd with
 * static keys first; the test reads the participants' keys and the sink's port
 * from that configuration, stops flexd, turns chosen participants into
 * `discovery = dns` ones (their key and endpoint lines removed) and starts it
 * again. Without /usr/sbin/dnsmasq (Debian dnsmasq-base) the suite skips, and
 * fails when CI=true. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/config.h"
#include "tests/support/peer.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

struct dns {
  pid_t pid;
  int port;
  int hole; /* a UDP socket holding the port while no dnsmasq does, or -1 */
  char dir[64];
};

static struct fx_sim *sim;
static struct dns dns;

static void require_dnsmasq(void) {
  if (access(DNSMASQ, X_OK) == 0)
    return;
  const char *ci = getenv("CI");
  if (ci && !strcmp(ci, "true"))
    cr_assert_fail("CI=true and " DNSMASQ " is missing (Debian package dnsmasq-base)");
  cr_skip_test(DNSMASQ " not found (Debian package dnsmasq-base): DNS discovery tests skipped");
}

/* A loopback port nothing listens on right now (UDP and TCP, as dnsmasq uses both). */
static int free_port(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

static bool tcp_open(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
  close(s);
  return ok;
}

/* Starts dnsmasq on dns.port with `records` (dnsmasq configuration lines)
 * and answers' TTL `ttl`; every query is logged to dns.dir/queries.log. */
static bool dns_try(const char *records, int ttl) {
  char conf[128], log[128];
  snprintf(conf, sizeof conf, "%s/dnsmasq.conf", dns.dir);
  snprintf(log, sizeof log, "%s/queries.log", dns.dir);
  FILE *f = fopen(conf, "w");
  cr_assert_not_null(f);
  fprintf(f,
          "port=%d\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\nno-dhcp-interface=\n"
          "local-ttl=%d\nlog-queries\nlog-facility=%s\nhost-record=localhost,127.0.0.1\n%s\n",
          dns.port, ttl, log, records);
  fclose(f);
  char conf_arg[160], pid_arg[160];
  snprintf(conf_arg, sizeof conf_arg, "--conf-file=%s", conf);
  snprintf(pid_arg, sizeof pid_arg, "--pid-file=%s/dnsmasq.pid", dns.dir);
  fflush(NULL);
  dns.pid = fork();
  cr_assert_geq(dns.pid, 0);
  if (dns.pid == 0) {
    /* As root it would drop to `nobody`, who cannot write the log here. */
    execl(DNSMASQ, DNSMASQ, "--keep-in-foreground", conf_arg, pid_arg, getuid() ? NULL : "--user=root",
          (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 500 && !tcp_open(dns.port); i++) {
    if (waitpid(dns.pid, NULL, WNOHANG) != 0) {
      dns.pid = 0;
      return false; /* most likely the port was taken meanwhile */
    }
    usleep(10000);
  }
  cr_assert(tcp_open(dns.port), "dnsmasq does not listen on 127.0.0.1:%d", dns.port);
  return true;
}

/* dns_try on a fresh port until dnsmasq could bind it (a few attempts). */
static void dns_start(const char *records, int ttl) {
  for (int i = 0; i < 5; i++) {
    if (dns_try(records, ttl))
      return;
    dns.port = free_port();
  }
  cr_assert_fail("dnsmasq did not start (see stderr)");
}

static void dns_stop(void) {
  if (dns.pid <= 0)
    return;
  kill(dns.pid, SIGTERM);
  waitpid(dns.pid, NULL, 0);
  dns.pid = 0;
}

/* "DNS down": the port is held by a socket that never answers, so queries
 * time out (and no other test's dnsmasq can take the port meanwhile). */
static void dns_blackhole(void) {
  dns.hole = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)dns.port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(bind(dns.hole, (struct sockaddr *)&a, sizeof a), 0, "hold 127.0.0.1:%d", dns.port);
}

/* Queries dnsmasq has logged for `name` (type `type`). */
static int dns_queries(const char *type, const char *name) {
  char path[128], line[512], want[320];
  snprintf(path, sizeof path, "%s/queries.log", dns.dir);
  snprintf(want, sizeof want, "query[%s] %s from", type, name);
  FILE *f = fopen(path, "r");
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, want) != NULL;
  if (f)
    fclose(f);
  return n;
}

/* ---- the configuration the simulation wrote ---------------------------------- */

static char *read_config(void) {
  FILE *f = fopen(fx_sim_config_path(sim), "r");
  cr_assert_not_null(f);
  static char buf[16384];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* The cs1 key the configuration gives participant `domain` (an AGR). */
static void static_key(const char *domain, char out[FX_KEYS_CS1_LEN + 1]) {
  char head[300];
  snprintf(head, sizeof head, "[participant %s AGR]\nkey = ", domain);
  const char *p = strstr(read_config(), head);
  cr_assert_not_null(p, "no section for %s", domain);
  p += strlen(head);
  size_t n = strcspn(p, "\n");
  cr_assert_eq(n, FX_KEYS_CS1_LEN);
  memcpy(out, p, n);
  out[n] = 0;
}

static int sink_port(void) {
  const char *p = strstr(read_config(), "endpoint = http://127.0.0.1:");
  cr_assert_not_null(p);
  return atoi(p + strlen("endpoint = http://127.0.0.1:"));
}

/* Rewrites the configuration: the sections of `domains` (AGRs) lose their key
 * and endpoint and get `discovery = dns`. */
static void make_dns(const char *const *domains, size_t n) {
  char *cfg = read_config();
  FILE *f = fopen(fx_sim_config_path(sim), "w");
  cr_assert_not_null(f);
  bool in_dns = false;
  for (char *line = strtok(cfg, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '[') {
      in_dns = false;
      for (size_t i = 0; i < n; i++) {
        char head[300];
        snprintf(head, sizeof head, "[participant %s AGR]", domains[i]);
        in_dns |= !strcmp(line, head);
      }
      fprintf(f, "%s\n%s", line, in_dns ? "discovery = dns\n" : "");
      continue;
    }
    if (in_dns && (!strncmp(line, "key = ", 6) || !strncmp(line, "endpoint = ", 11)))
      continue;
    fprintf(f, "%s\n", line);
  }
  fclose(f);
}

/* flexd again, with discovery on, DNS at dns.port and `extra` [platform] lines. */
static void restart_with_dns(const char *const *domains, size_t n, const char *extra) {
  char lines[1024];
  snprintf(lines, sizeof lines,
           "discovery = dns\ndns_servers = 127.0.0.1:%d\ndns_dnssec = false\ndns_timeout_ms = 300\n"
           "dns_endpoint_scheme = http\ndns_endpoint_port = %d\n%s",
           dns.port, sink_port(), extra ? extra : "");
  cr_assert_eq(fx_sim_set_extra_platform(sim, lines), 0);
  make_dns(domains, n);
  cr_assert_eq(fx_sim_restart_flexd(sim), 0);
}

/* flexd_participants from the metrics listener. */
static int participants(void) {
  static char m[65536];
  cr_assert_eq(fx_sim_get(sim, true, "/metrics", m, sizeof m), 200);
  const char *p = strstr(m, "\nflexd_participants ");
  cr_assert_not_null(p);
  return atoi(p + strlen("\nflexd_participants "));
}

/* Waits (bounded) until the registry holds n participants. */
static void await_participants(int n) {
  for (int i = 0; i < 500 && participants() != n; i++)
    usleep(10000);
  cr_assert_eq(participants(), n, "participants in the registry");
}

static void setup(void) {
  dns.hole = -1;
  require_dnsmasq();
  snprintf(dns.dir, sizeof dns.dir, "/tmp/flexd-dns-XXXXXX");
  cr_assert_not_null(mkdtemp(dns.dir));
  dns.port = free_port();
  sim = fx_peer_start(NULL);
  cr_assert_eq(fx_sim_stop_flexd(sim), 0);
}

static void teardown(void) {
  dns_stop();
  if (dns.hole >= 0)
    close(dns.hole);
  if (sim)
    fx_sim_free(sim);
  sim = NULL;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dns.dir);
  if (dns.dir[0] && system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dns.dir);
}

TestSuite(discovery, .init = setup, .fini = teardown, .timeout = 90);

/* ---- messages ----------------------------------------------------------------- */

static const char *test_message(const char *sender, const char *id) {
  static char buf[2048];
  return fx_sim_test_message(buf, sizeof buf, sender, SIM_PLATFORM, id);
}

/* A TestMessage from `sender` (an AGR) signed with the key of `signer`. */
static int send_signed_by(const char *sender, const char *signer, char id[FX_UUID_STRLEN]) {
  fx_sim_uuid(id);
  char *sm = fx_sim_seal(sim, signer, FX_ROLE_AGR, test_message(sender, id));
  cr_assert_not_null(sm);
  char from[300], to[300];
  snprintf(from, sizeof from, "SenderDomain=\"%s\"", signer);
  snprintf(to, sizeof to, "SenderDomain=\"%s\"", sender);
  char *at = strstr(sm, from);
  cr_assert_not_null(at);
  size_t len = strlen(sm) + strlen(to) + 1;
  char *env = malloc(len);
  cr_assert_not_null(env);
  snprintf(env, len, "%.*s%s%s", (int)(at - sm), sm, to, at + strlen(from));
  int st = fx_sim_post(sim, env, strlen(env), "text/xml; charset=utf-8", NULL, 0);
  free(env);
  free(sm);
  return st;
}

static int send_from(const char *sender, char id[FX_UUID_STRLEN]) { return send_signed_by(sender, sender, id); }

static bool answered(const char *id, int timeout_ms) {
  fx_arena *a = fx_arena_new(0);
  bool ok = fx_sim_await(sim, FX_MSG_TEST_MESSAGE_RESPONSE, id, timeout_ms, a) != NULL;
  fx_arena_free(a);
  return ok;
}

/* dnsmasq lines publishing `keys` (one TXT record each) for `domain`'s AGR
 * role, and, when endpoint is set, its _http CNAME to localhost. */
static void records(char *out, size_t cap, const char *domain, const char *const *keys, size_t n, bool endpoint) {
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, cap - len, "txt-record=_AGR._usef.%s,\"%s\"\n", domain, keys[i]);
  if (endpoint)
    snprintf(out + len, cap - len, "cname=_http._AGR._usef.%s,localhost\n", domain);
}

static const char *const AGR2_ONLY[] = {SIM_AGR2};

/* ---- the tests ------------------------------------------------------------------ */

Test(discovery, a_key_from_txt_admits_a_signed_message_and_the_response_goes_to_the_cname_endpoint) {
  char key[FX_KEYS_CS1_LEN + 1], rec[1024], id[FX_UUID_STRLEN];
  static_key(SIM_AGR2, key);
  const char *keys[] = {key};
  records(rec, sizeof rec, SIM_AGR2, keys, 1, true);
  dns_start(rec, 300);
  restart_with_dns(AGR2_ONLY, 1, NULL);
  await_participants(6); /* the five static ones and agr2 once its key is known */
  cr_assert_eq(send_from(SIM_AGR2, id), 200, "signed with the key published in DNS");
  cr_assert(answered(id, 15000), "the response was delivered to the endpoint the CNAME names");
  cr_assert_eq(send_signed_by(SIM_AGR2, SIM_AGR, id), 401, "a key DNS does not publish is refused");
  /* Cached with its TTL (300 s): more messages, no more TXT queries. */
  for (int i = 0; i < 10; i++)
    cr_assert_eq(send_from(SIM_AGR2, id), 200);
  cr_assert_eq(dns_queries("TXT", "_AGR._usef." SIM_AGR2), 1, "one TXT query for eleven messages");
}

Test(discovery, both_keys_of_a_rollover_are_accepted) {
  char k2[FX_KEYS_CS1_LEN + 1], k3[FX_KEYS_CS1_LEN + 1], rec[1024], id[FX_UUID_STRLEN];
  static_key(SIM_AGR2, k2);
  static_key(SIM_AGR3, k3); /* plays agr2's old key */
  const char *keys[] = {k3, k2};
  records(rec, sizeof rec, SIM_AGR2, keys, 2, true);
  dns_start(rec, 300);
  restart_with_dns(AGR2_ONLY, 1, NULL);
  await_participants(6);
  cr_assert_eq(send_signed_by(SIM_AGR2, SIM_AGR3, id), 200, "the old key (first TXT record)");
  cr_assert(answered(id, 15000));
  cr_assert_eq(send_from(SIM_AGR2, id), 200, "the new key (second TXT record)");
  cr_assert(answered(id, 15000));
  cr_assert_eq(send_signed_by(SIM_AGR2, SIM_AGR, id), 401, "a third key is not");
}

Test(discovery, one_txt_record_with_two_space_separated_keys_as_the_appendix_writes_it) {
  char k2[FX_KEYS_CS1_LEN + 1], k3[FX_KEYS_CS1_LEN + 1], rec[1024], id[FX_UUID_STRLEN];
  static_key(SIM_AGR2, k2);
  static_key(SIM_AGR3, k3);
  snprintf(rec, sizeof rec, "txt-record=_AGR._usef.%s,\"%s %s\"\ncname=_http._AGR._usef.%s,localhost\n", SIM_AGR2, k2,
           k3, SIM_AGR2);
  dns_start(rec, 300);
  restart_with_dns(AGR2_ONLY, 1, NULL);
  await_participants(6);
  cr_assert_eq(send_from(SIM_AGR2, id), 200, "the first key");
  cr_assert_eq(send_signed_by(SIM_AGR2, SIM_AGR3, id), 200, "the second key");
  cr_assert(answered(id, 15000));
}

Test(discovery, a_name_dns_does_not_know_gets_419_and_the_others_carry_on) {
  char rec[64] = "", id[FX_UUID_STRLEN];
  dns_start(rec, 300);
  restart_with_dns(AGR2_ONLY, 1, NULL);
  for (int i = 0; i < 500 && dns_queries("TXT", "_AGR._usef." SIM_AGR2) < 1; i++)
    usleep(10000);
  cr_assert_geq(dns_queries("TXT", "_AGR._usef." SIM_AGR2), 1, "flexd asked");
  cr_assert_eq(participants(), 5, "agr2 is left out");
  cr_assert_eq(send_from(SIM_AGR2, id), 419, "key lookup failed: temporary (appendix)");
  cr_assert_eq(send_signed_by(SIM_LATE, SIM_AGR, id), 401, "a sender the configuration does not list: unknown");
  cr_assert_eq(send_from(SIM_AGR, id), 200, "a participant with a static key is unaffected");
  cr_assert(answered(id, 15000));
}

Test(discovery, an_endpoint_that_does_not_resolve_is_retried_as_a_delivery_failure) {
  char key[FX_KEYS_CS1_LEN + 1], rec[1024], id[FX_UUID_STRLEN];
  static_key(SIM_AGR2, key);
  const char *keys[] = {key};
  records(rec, sizeof rec, SIM_AGR2, keys, 1, false); /* the key, but no _http CNAME */
  dns_start(rec, 300);
  restart_with_dns(AGR2_ONLY, 1, NULL);
  await_participants(6);
  cr_assert_eq(send_from(SIM_AGR2, id), 200, "the message itself is fine");
  cr_assert_not(answered(id, 1500), "nowhere to deliver the response");
  static char m[65536];
  cr_assert_eq(fx_sim_get(sim, true, "/metrics", m, sizeof m), 200);
  const char *retry = strstr(m, "flexd_delivery_attempts_total{result=\"retry\"} ");
  cr_assert_not_null(retry);
  cr_assert_geq(atoi(retry + strlen("flexd_delivery_attempts_total{result=\"retry\"} ")), 1, "%s", m);
  /* Published now: dnsmasq restarted with the CNAME; the next lookup (30 s
   * after a negative answer) would find it, the retry then delivers. That wait
   * is too long for a test; the delivery path is covered above. */
}

Test(discovery, dns_down_at_start_refuses_the_participant_and_serves_the_rest) {
  char id[FX_UUID_STRLEN];
  dns_blackhole();
  restart_with_dns(AGR2_ONLY, 1, NULL);
  cr_assert_eq(send_from(SIM_AGR, id), 200);
  cr_assert(answered(id, 15000), "static participants are served");
  cr_assert_eq(participants(), 5);
  cr_assert_eq(send_from(SIM_AGR2, id), 419, "no key could be resolved: temporary (appendix)");
}

Test(discovery, dns_going_down_keeps_the_last_answer_for_dns_stale) {
  char key[FX_KEYS_CS1_LEN + 1], rec[1024], id[FX_UUID_STRLEN];
  static_key(SIM_AGR2, key);
  const char *keys[] = {key};
  records(rec, sizeof rec, SIM_AGR2, keys, 1, true);
  dns_start(rec, 1); /* a TTL of one second: asked again every second */
  restart_with_dns(AGR2_ONLY, 1, "dns_stale = 3600\n");
  await_participants(6);
  for (int i = 0; i < 300 && dns_queries("TXT", "_AGR._usef." SIM_AGR2) < 2; i++)
    usleep(10000);
  cr_assert_geq(dns_queries("TXT", "_AGR._usef." SIM_AGR2), 2, "asked again when the TTL ran out");
  dns_stop();
  dns_blackhole();
  usleep(2500000); /* past the TTL: lookups now time out */
  cr_assert_eq(send_from(SIM_AGR2, id), 200, "the last good key is still used");
  cr_assert(answered(id, 15000), "and the last good endpoint");
}

Test(discovery, sighup_adds_a_participant_found_in_dns) {
  char k2[FX_KEYS_CS1_LEN + 1], k3[FX_KEYS_CS1_LEN + 1], rec[2048], id[FX_UUID_STRLEN];
  static_key(SIM_AGR2, k2);
  static_key(SIM_AGR3, k3);
  const char *keys2[] = {k2}, *keys3[] = {k3};
  records(rec, sizeof rec, SIM_AGR2, keys2, 1, true);
  size_t len = strlen(rec);
  records(rec + len, sizeof rec - len, SIM_AGR3, keys3, 1, true);
  dns_start(rec, 300);
  restart_with_dns(AGR2_ONLY, 1, NULL);
  await_participants(6);
  const char *both[] = {SIM_AGR2, SIM_AGR3};
  make_dns(both, 2); /* agr3 now comes from DNS too */
  cr_assert_eq(kill(fx_sim_pid(sim), SIGHUP), 0);
  for (int i = 0; i < 500 && dns_queries("TXT", "_AGR._usef." SIM_AGR3) < 1; i++)
    usleep(10000);
  await_participants(6);
  cr_assert_eq(send_from(SIM_AGR3, id), 200, "agr3's key from DNS after SIGHUP");
  cr_assert(answered(id, 15000));
  cr_assert_eq(send_from(SIM_AGR2, id), 200, "agr2 still known");
  cr_assert(answered(id, 15000));
}
