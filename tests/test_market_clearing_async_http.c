/* test_market_clearing_async_http.c — clearing off the sequencer thread in a
 * real `flexd serve`: SIGTERM while the platform's timer clears a large
 * market exits 0, nothing of the clearing under way is committed, and after
 * a restart the market, still due, is cleared.
 *
 * The market (200 offers over 30 Requested ISPs) and a branch-and-bound budget
 * far above the product's make the clearing long; the test waits for flexd's
 * "clearing_started" log line (stderr, in the simulation's flexd.log) before
 * SIGTERM, so a clearing is under way, and asserts the order of events, not
 * durations: the request still open when SIGTERM is sent, and the order
 * delivered after the restart made by the restarted flexd (its TimeStamp is
 * after the restart), not a result of the stopped one committed on the way
 * out. Its one assumption on time: the solve (seconds) outlasts the few
 * milliseconds from that line to SIGTERM. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/peer.h"

#define CP1 "ean.871685900012345678"
#define C1 "ean.871685900001000001"
#define C2 "ean.871685900001000002"
#define WAIT_MS 120000
#define N_OFFERS 200
#define REQ_FIRST 36
#define REQ_LAST 65

static struct fx_sim *peer;
static fx_arena *arena;
static char today[FX_DATE_STRLEN], day[FX_DATE_STRLEN];

static void setup(void) {
  struct fx_sim_opts o = {.extra_market = "bb_max_offers = 100000\nbb_node_limit = 3000\n"
                                          "bb_pivot_limit = 1000000000\nbb_gap = 0"};
  arena = fx_arena_new(0);
  fx_sim_date(today, 0);
  fx_sim_date(day, 2);
  peer = fx_peer_start(&o);
}

static void teardown(void) {
  fx_sim_free(peer);
  fx_arena_free(arena);
  peer = NULL, arena = NULL;
}

TestSuite(clearing_async_http, .init = setup, .fini = teardown, .timeout = 300);

static void populate(void) {
  static const char *const cp1[] = {C1, C2};
  const struct fx_sim_cp cps[] = {{CP1, cp1, 2, true}};
  static const struct { const char *agr, *conn; } agrs[] = {{SIM_AGR, C1}, {SIM_AGR2, C2}};
  struct fx_msg m;
  fx_sim_dso_portfolio(&m, arena, SIM_DSO, today, cps, 1);
  cr_assert_eq(fx_sim_send_msg(peer, &m), 200);
  for (size_t i = 0; i < 2; i++) {
    fx_sim_agr_portfolio(&m, arena, agrs[i].agr, today, &agrs[i].conn, 1);
    cr_assert_eq(fx_sim_send_msg(peer, &m), 200);
  }
}

static uint64_t next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static int64_t uni(uint64_t *s, int64_t lo, int64_t hi) { return lo + (int64_t)(next(s) % (uint64_t)(hi - lo + 1)); }

/* Unsolicited offers of 1-3 options over 4-16 ISPs around the Requested
 * ones; supply[t] sums option 0's power at ISP t. */
static void send_offers(int64_t supply[100]) {
  uint64_t s = 23;
  for (int i = 0; i < N_OFFERS; i++) {
    struct fx_offer_option opts[3];
    struct fx_isp *isps = fx_arena_alloc(arena, 3 * 16 * sizeof *isps);
    int n_opt = (int)uni(&s, 1, 3), len = (int)uni(&s, 4, 16), first = (int)uni(&s, REQ_FIRST - 3, REQ_LAST - 3);
    for (int j = 0; j < n_opt; j++) {
      int64_t kw = uni(&s, 10, 500), sum = 0, eur = uni(&s, 40, 200);
      int min_af = uni(&s, 0, 2) == 0 ? 100 : 100 - (int)uni(&s, 0, 99);
      struct fx_isp *p = &isps[16 * j];
      for (int t = 0; t < len; t++) {
        int64_t w = 1000 * (kw + uni(&s, -kw / 4, kw / 4));
        p[t] = (struct fx_isp){-w, first + t, 1};
        sum += w;
        if (j == 0)
          supply[first + t] += w;
      }
      char *ref = fx_arena_alloc(arena, 4);
      snprintf(ref, 4, "O%d", j);
      opts[j] = (struct fx_offer_option){ref, eur * sum / 100, (fx_factor)min_af, p, (size_t)len};
    }
    struct fx_msg m;
    fx_sim_flex_offer(&m, arena, SIM_AGR2, CP1, day, 3600, NULL, opts, (size_t)n_opt);
    cr_assert_eq(fx_sim_send_msg(peer, &m), 200, "offer %d", i);
  }
}

/* The first line of flexd.log that names what, into line. */
static bool log_line(const char *what, char *line, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/flexd.log", fx_sim_dir(peer));
  FILE *f = fopen(path, "r");
  bool found = false;
  while (f && !found && fgets(line, (int)len, f))
    found = strstr(line, what) != NULL;
  if (f)
    fclose(f);
  return found;
}

/* Whether flexd's log has a line with `what` (bounded wait of timeout_ms). */
static bool log_has(const char *what, int timeout_ms) {
  char line[4096];
  for (int i = 0; i <= timeout_ms / 5; i++) {
    if (log_line(what, line, sizeof line))
      return true;
    usleep(5000);
  }
  return false;
}

static int64_t wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *request_state(void) {
  static char state[32];
  json_t *doc = fx_sim_markets(peer, CP1, day);
  cr_assert_not_null(doc);
  const char *s = json_string_value(json_object_get(json_object_get(doc, "request"), "state"));
  snprintf(state, sizeof state, "%s", s ? s : "");
  json_decref(doc);
  return state;
}

Test(clearing_async_http, sigterm_during_a_clearing_exits_0_and_a_restart_clears_the_market) {
  populate();
  int64_t supply[100] = {0};
  send_offers(supply);
  /* The request comes last and expires in 1 s: the platform's timer clears. */
  struct fx_flex_request_isp isps[REQ_LAST - REQ_FIRST + 1];
  for (int t = REQ_FIRST; t <= REQ_LAST; t++) {
    int64_t need = supply[t] * 2 / 5 + 1000;
    isps[t - REQ_FIRST] = (struct fx_flex_request_isp){FX_DISPOSITION_REQUESTED, -3 * need / 2, -need, t, 1};
  }
  struct fx_msg m;
  fx_sim_flex_request(&m, arena, SIM_DSO, CP1, day, 1, 1, isps, REQ_LAST - REQ_FIRST + 1);
  cr_assert_eq(fx_sim_send_msg(peer, &m), 200);
  cr_assert(log_has("clearing_started", WAIT_MS), "the platform's timer started the clearing");
  cr_assert_str_eq(request_state(), "open", "SIGTERM comes before the clearing's orders are committed");
  cr_assert_eq(fx_sim_stop_flexd(peer), 0, "flexd exits 0 on SIGTERM during a clearing");
  cr_assert_eq(fx_sim_count_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR2), 0, "no order of the dropped clearing");

  /* A TimeStamp has whole seconds at worst: the restart comes in a later one. */
  usleep(1100 * 1000);
  int64_t restart_us = wall_us();
  cr_assert_eq(fx_sim_restart_flexd(peer), 0);
  const struct fx_msg *ord = fx_sim_await_sent(peer, FX_MSG_FLEX_ORDER, SIM_AGR2, 0, WAIT_MS, arena);
  cr_assert_not_null(ord, "the market, still due, is cleared after the restart");
  cr_assert_geq(ord->hdr.timestamp.usec, restart_us / 1000000 * 1000000,
                "the first order comes from the restarted flexd: nothing of the stopped clearing was committed");
  for (int i = 0; i < 1000 && strcmp(request_state(), "cleared"); i++)
    usleep(10000);
  cr_assert_str_eq(request_state(), "cleared");
  /* The committed result is logged for the operator, once, with what the
   * clearing thread measured: the orders it placed and its proven gaps. */
  cr_assert(log_has("clearing_done", WAIT_MS), "no clearing_done line for the committed clearing");
  char line[4096];
  cr_assert(log_line("clearing_done", line, sizeof line));
  cr_assert_not_null(strstr(line, "orders"), "%s", line);
  cr_assert_not_null(strstr(line, "cost_gap_ppm"), "%s", line);
  cr_assert_null(strstr(line, "solve_us=-1"), "the runner's solve was not timed: %s", line);
  cr_assert_null(strstr(line, "\"solve_us\":-1"), "the runner's solve was not timed: %s", line);
}
