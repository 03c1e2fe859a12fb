/* test_reload_settle.c — SIGHUP while a settlement run is under way, over the
 * real `flexd serve` (engine/sim.h).
 *
 * A run settles one AGR with orders per group (engine/market_settle.c) and
 * reads the settlement keys in each, so engine/server.c's hand_to_market
 * parks a reload's [market] values while a run is under way and installs
 * them when the last run ends (settle_run_done); a later reload supersedes
 * the parked one. The run is held between its two groups by the test gate
 * (FLEXD_TEST_SETTLEMENT_GATE, a FIFO this test keeps open for writing: the
 * run waits until the FIFO gives a byte or loses its last writer), so every
 * step below happens in a known order; no sleep orders anything.
 *
 * The scene: AGR and AGR2 each have one order at CP1 on `day` and on `day2`.
 * The run of `day` is held after AGR's group; the configuration switches
 * baseline_reference (read by the run, recorded per settled order) from
 * prognosis to zero and mutex_offers (not read by it) off; a second reload
 * changes bb_node_limit too. The run must settle AGR2 under the old
 * baseline like AGR, and only then are the new values installed — all of
 * them, once: the run of `day2` settles against zero and a two-option offer
 * is refused. If hand_to_market installed at once, AGR2's order would be
 * settled against zero (and the log would not say the values wait). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/peer.h"
#include "tests/support/sim_reload.h"

#define CP1 "ean.871685900012345678"
#define C1 "ean.871685900001000001"
#define C2 "ean.871685900001000002"
#define WAIT_MS 20000
#define GATE_ENV "FLEXD_TEST_SETTLEMENT_GATE"

static struct fx_sim *sim;
static fx_arena *arena;
static char today[FX_DATE_STRLEN], day[FX_DATE_STRLEN], day2[FX_DATE_STRLEN];
static char gate_dir[64], gate_path[128];
static int gate_fd = -1; /* the FIFO's write end while the gate is shut */

/* ---- fixtures ------------------------------------------------------------------ */

/* A FIFO named in flexd's environment, held open here (O_RDWR: the open does
 * not wait for a reader), so that a run waits at the gate until it is closed. */
static void gate_shut(void) {
  snprintf(gate_dir, sizeof gate_dir, "/tmp/flexd-gate-XXXXXX");
  cr_assert_not_null(mkdtemp(gate_dir));
  snprintf(gate_path, sizeof gate_path, "%s/gate", gate_dir);
  cr_assert_eq(mkfifo(gate_path, 0600), 0, "%s", strerror(errno));
  gate_fd = open(gate_path, O_RDWR | O_CLOEXEC);
  cr_assert_geq(gate_fd, 0, "%s", strerror(errno));
  cr_assert_eq(setenv(GATE_ENV, gate_path, 1), 0);
}

/* The last writer goes: the run under way goes on, later ones do not wait. */
static void gate_open(void) {
  if (gate_fd >= 0)
    close(gate_fd);
  gate_fd = -1;
}

static void start(const char *extra_market) {
  struct fx_sim_opts o = {.extra_market = extra_market};
  arena = fx_arena_new(0);
  fx_sim_date(today, 0);
  fx_sim_date(day, 2);
  fx_sim_date(day2, 3);
  sim = fx_peer_start(&o);
}

static void teardown(void) {
  gate_open(); /* first: a run held at the gate would hold flexd's exit */
  fx_sim_free(sim);
  fx_arena_free(arena);
  sim = NULL, arena = NULL;
  unsetenv(GATE_ENV);
  if (gate_path[0])
    unlink(gate_path);
  if (gate_dir[0])
    rmdir(gate_dir);
  gate_path[0] = gate_dir[0] = 0;
}

TestSuite(reload_settle, .fini = teardown, .timeout = 180);

/* ---- the market (as test_reload.c) ---------------------------------------------- */

/* The platform's answer: "" when accepted, else its rejection reasons. */
static const char *outcome(struct fx_msg *m, enum fx_msg_type answer) {
  return fx_sr_outcome(sim, arena, m, answer);
}

/* The DSO publishes CP1 with connections of AGR and AGR2, who publish theirs. */
static void populate(void) { fx_sr_populate_two_agrs(sim, arena, today, CP1, C1, C2); }

/* An unsolicited offer at CP1 on `date`: `n_options` options of `power` W at ISP `isp`. */
static const char *offer(const char *agr, const char *date, int isp, int64_t power, int n_options) {
  struct fx_isp isps[] = {{power, isp, 1}}, half[] = {{power / 2, isp, 1}};
  struct fx_offer_option o[] = {{"A", 10 * FX_MONEY_SCALE, 100, isps, 1}, {"B", 10 * FX_MONEY_SCALE, 100, half, 1}};
  struct fx_msg m;
  fx_sim_flex_offer(&m, arena, agr, CP1, date, 3600, NULL, o, (size_t)n_options);
  return outcome(&m, FX_MSG_FLEX_OFFER_RESPONSE);
}

/* The DSO needs 150 kW less at ISPs 69 and 70 of `date`; AGR offers it at 69,
 * AGR2 at 70; the clearing orders both. */
static void two_orders(const char *date) {
  const struct fx_flex_request_isp need[] = {{FX_DISPOSITION_REQUESTED, -300000, -150000, 69, 1},
                                             {FX_DISPOSITION_REQUESTED, -300000, -150000, 70, 1}};
  struct fx_msg m;
  fx_sim_flex_request(&m, arena, SIM_DSO, CP1, date, 1, 3600, need, 2);
  cr_assert_str_eq(outcome(&m, FX_MSG_FLEX_REQUEST_RESPONSE), "");
  cr_assert_str_eq(offer(SIM_AGR, date, 69, -150000, 1), "");
  cr_assert_str_eq(offer(SIM_AGR2, date, 70, -150000, 1), "");
  int n = -1;
  cr_assert_eq(fx_sim_clear(sim, CP1, date, &n), 200);
  cr_assert_eq(n, 2, "one order for each AGR");
}

/* ---- the settlement run and its record ------------------------------------------ */

/* POST /api/settlements/date/date on a raw connection to the operator
 * listener, not waited for: the connection, whose answer comes when the run
 * has ended (a 20 s receive timeout bounds the wait for it). */
static int settle_start(const char *date) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq(fd, 0);
  struct timeval tv = {.tv_sec = WAIT_MS / 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx_sim_metrics_port(sim))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
  char req[256];
  int n = snprintf(req, sizeof req,
                   "POST /api/settlements/%s/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n",
                   date, date);
  cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
  return fd;
}

/* The run's answer on `fd` (closed): its status; the whole response in resp. */
static int settle_answer(int fd, char *resp, size_t cap) {
  size_t got = 0;
  ssize_t r;
  while (got < cap - 1 && (r = recv(fd, resp + got, cap - 1 - got, 0)) > 0)
    got += (size_t)r;
  resp[got] = 0;
  close(fd);
  int status = 0;
  return sscanf(resp, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The baseline each order settled by the runs of `date` was settled against:
 * "AGR=baseline" per order, sorted (the store keeps a run's FlexSettlements
 * in the order of their random MessageIDs), joined by ";". */
static const char *baselines(const char *date, char *out, size_t cap) {
  char path[128], resp[65536], entries[8][128];
  char *sorted[8];
  size_t n = 0;
  snprintf(path, sizeof path, "/api/settlements/%s/%s", date, date);
  cr_assert_eq(fx_sim_operator(sim, "GET", path, resp, sizeof resp), 200, "%s", resp);
  json_t *doc = json_loads(resp, 0, NULL), *s, *item;
  cr_assert(json_is_array(doc), "%s", resp);
  size_t i, j;
  json_array_foreach(doc, i, s) {
    json_array_foreach(json_object_get(s, "items"), j, item) {
      cr_assert_lt(n, 8, "%s", resp);
      snprintf(entries[n], sizeof entries[n], "%s=%s", json_string_value(json_object_get(s, "agr")),
               json_string_value(json_object_get(item, "baseline")));
      sorted[n] = entries[n];
      n++;
    }
  }
  json_decref(doc);
  qsort(sorted, n, sizeof *sorted, by_text);
  size_t used = 0;
  out[0] = 0;
  for (i = 0; i < n; i++) {
    int w = snprintf(out + used, cap - used, "%s%s", i ? ";" : "", sorted[i]);
    cr_assert(w > 0 && (size_t)w < cap - used);
    used += (size_t)w;
  }
  return out;
}

/* ==== the test ================================================================== */

Test(reload_settle, a_reload_waits_for_the_settlement_run_under_way) {
  gate_shut();
  start("baseline_reference = prognosis\nmutex_offers = true\nbb_node_limit = 2000");
  populate();
  two_orders(day);
  two_orders(day2);

  int run = settle_start(day);
  fx_sr_log_until(sim, "settlement run waits at the test gate", 1); /* AGR settled, AGR2 not yet */
  fx_sr_edit(sim, "baseline_reference = prognosis", "baseline_reference = zero");
  fx_sr_edit(sim, "mutex_offers = true", "mutex_offers = false");
  fx_sr_sighup_until(sim, "SIGHUP: market settings wait for the settlement run under way");
  cr_assert_eq(fx_sr_log_count(sim, "market settings in force"), 0);
  fx_sr_edit(sim, "bb_node_limit = 2000", "bb_node_limit = 3000");
  fx_sr_sighup_until(sim, "SIGHUP: market settings wait for the settlement run under way");
  cr_assert_eq(fx_sr_log_count(sim, "market settings in force"), 0, "the second reload waits as well");

  gate_open();
  char resp[2048], got[512];
  cr_assert_eq(settle_answer(run, resp, sizeof resp), 200, "%s", resp);
  cr_assert(strstr(resp, "\"orders\":2"), "both AGRs' orders are settled: %s", resp);
  cr_assert_str_eq(baselines(day, got, sizeof got), SIM_AGR "=prognosis;" SIM_AGR2 "=prognosis",
                   "the run under way settles both AGRs under the values it started with: %s", got);
  /* Every key the market's values change by, the first reload's included,
   * installed once: the superseded values are never installed on their own. */
  fx_sr_log_until(sim, "SIGHUP: market settings in force (changed: mutex_offers, baseline_reference, bb_node_limit)", 1);
  cr_assert_eq(fx_sr_log_count(sim, "market settings in force"), 1);

  cr_assert_str_eq(offer(SIM_AGR, day2, 69, -1000, 2), "No MutEx offer support",
                   "after the run the new values are the market's");
  char path[128];
  snprintf(path, sizeof path, "/api/settlements/%s/%s", day2, day2);
  cr_assert_eq(fx_sim_operator(sim, "POST", path, resp, sizeof resp), 200, "%s", resp);
  cr_assert_str_eq(baselines(day2, got, sizeof got), SIM_AGR "=zero;" SIM_AGR2 "=zero",
                   "the next run settles under the new baseline reference: %s", got);
  cr_assert_eq(fx_sr_log_count(sim, "market settings in force"), 1, "the superseded values were never installed");
}
