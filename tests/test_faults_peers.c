/* test_faults_peers.c — participants whose endpoints misbehave (hang, reset,
 * 500, 404, slow): flexd retries what it owes them following the back-off
 * (first retry after 1–2 s, the next after 2–4 s), holds no more than its
 * per-peer concurrency (4) open towards a peer that never answers, and
 * meanwhile a healthy participant's responses keep arriving promptly.
 *
 * The bad peer is SIM_AGR3 with a listener of its own (engine/sim.h
 * fx_sim_peer); the healthy one is SIM_AGR on the ordinary sink. The spacing
 * checks are lower bounds (a retry never comes before its back-off), which no
 * slow machine can break; upper bounds are the bounded waits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/peer.h"

enum {
  HEALTHY_MSGS = 6,
  /* Below flexd's 10 s post timeout: a healthy response stuck behind a
   * hanging peer's posts would take at least that long. */
  HEALTHY_BOUND_MS = 8000,
  PER_PEER = 4 /* fx_http_client_config_default's max_per_peer */
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct fx_sim *start(enum fx_sim_peer_mode mode, unsigned delay_ms) {
  struct fx_sim_peer bad = {.domain = SIM_AGR3, .mode = mode, .delay_ms = delay_ms};
  struct fx_sim_opts o = {.peers = &bad, .n_peers = 1};
  return fx_peer_start(&o);
}

/* A TestMessage from `from`; its response goes to from's endpoint. */
static void send_test(struct fx_sim *s, const char *from, char id[FX_UUID_STRLEN]) {
  char ts[FX_DATETIME_STRLEN], xml[1024];
  fx_sim_time(ts, 0);
  fx_sim_uuid(id);
  snprintf(xml, sizeof xml,
           "<TestMessage Version=\"3.1.0\" SenderDomain=\"%s\" RecipientDomain=\"" SIM_PLATFORM
           "\" TimeStamp=\"%.39s\" MessageID=\"%.36s\" ConversationID=\"%.36s\"/>",
           from, ts, id, id);
  cr_assert_eq(fx_sim_send(s, from, FX_ROLE_AGR, xml), 200, "TestMessage from %s refused", from);
}

/* The healthy participant's responses each arrive within HEALTHY_BOUND_MS. */
static void healthy_prompt(struct fx_sim *s) {
  fx_arena *a = fx_arena_new(0);
  int64_t worst = 0;
  for (int i = 0; i < HEALTHY_MSGS; i++) {
    char id[FX_UUID_STRLEN];
    int64_t t0 = mono_us();
    send_test(s, SIM_AGR, id);
    cr_assert_not_null(fx_sim_await(s, FX_MSG_TEST_MESSAGE_RESPONSE, id, HEALTHY_BOUND_MS, a),
                       "the healthy peer's response %d did not arrive within %d ms", i, HEALTHY_BOUND_MS);
    int64_t took = mono_us() - t0;
    worst = took > worst ? took : worst;
  }
  cr_log_info("healthy peer: worst response latency %.0f ms", worst / 1000.0);
  fx_arena_free(a);
}

static unsigned wait_hits(struct fx_sim *s, unsigned n, int timeout_ms, int64_t *t_us) {
  unsigned got = 0;
  for (int w = 0; w <= timeout_ms && (got = fx_sim_peer_hits(s, SIM_AGR3, NULL, 0)) < n; w += 20)
    usleep(20000);
  fx_sim_peer_hits(s, SIM_AGR3, t_us, FX_SIM_MAX_PEER_HITS);
  return got;
}

/* One response owed to a peer that fails every attempt at once: three
 * attempts, the first retry 1–2 s after the first, the next 2–4 s later. */
static void retried_with_backoff(enum fx_sim_peer_mode mode) {
  struct fx_sim *s = start(mode, 0);
  char id[FX_UUID_STRLEN];
  send_test(s, SIM_AGR3, id);
  int64_t t[FX_SIM_MAX_PEER_HITS];
  cr_assert_geq(wait_hits(s, 1, 10000, t), 1, "the bad peer was never tried");
  healthy_prompt(s); /* while the bad peer is being retried */
  unsigned n = wait_hits(s, 3, 20000, t);
  cr_assert_geq(n, 3, "only %u attempts at the bad peer within the wait", n);
  double g1 = (t[1] - t[0]) / 1e6, g2 = (t[2] - t[1]) / 1e6;
  cr_log_info("mode %d: attempts at +0, +%.2f s, +%.2f s", (int)mode, g1, g1 + g2);
  cr_assert_geq(g1, 0.95, "first retry after %.2f s, before the 1 s back-off", g1);
  cr_assert_geq(g2, 1.95, "second retry %.2f s after the first, before the 2 s back-off", g2);
  cr_assert_eq(fx_sim_count_responses(s, id), 0, "a peer that never accepted got the response");
  fx_sim_free(s);
}

Test(faults_peers, answers_500_is_retried_with_backoff, .timeout = 90) { retried_with_backoff(FX_SIM_PEER_500); }
Test(faults_peers, answers_404_is_retried_with_backoff, .timeout = 90) { retried_with_backoff(FX_SIM_PEER_404); }
Test(faults_peers, reset_is_retried_with_backoff, .timeout = 90) { retried_with_backoff(FX_SIM_PEER_RESET); }

/* A hanging peer: each attempt ends with flexd's 10 s post timeout, then the
 * back-off; so the second attempt comes at least 11 s after the first. */
Test(faults_peers, hang_is_retried_after_timeout_and_backoff, .timeout = 90) {
  struct fx_sim *s = start(FX_SIM_PEER_HANG, 0);
  char id[FX_UUID_STRLEN];
  send_test(s, SIM_AGR3, id);
  int64_t t[FX_SIM_MAX_PEER_HITS];
  cr_assert_geq(wait_hits(s, 1, 10000, t), 1, "the hanging peer was never tried");
  healthy_prompt(s);
  cr_assert_geq(wait_hits(s, 2, 30000, t), 2, "the hanging peer was never retried");
  double g = (t[1] - t[0]) / 1e6;
  cr_log_info("hang: second attempt after %.2f s", g);
  cr_assert_geq(g, 10.95, "retry after %.2f s: before the 10 s timeout plus the 1 s back-off", g);
  fx_sim_free(s);
}

/* Eight responses owed to a hanging peer: only PER_PEER posts are open at
 * once, the rest wait, and the healthy peer is served meanwhile. */
Test(faults_peers, hang_holds_at_most_the_per_peer_concurrency, .timeout = 90) {
  struct fx_sim *s = start(FX_SIM_PEER_HANG, 0);
  char id[FX_UUID_STRLEN];
  for (int i = 0; i < 2 * PER_PEER; i++)
    send_test(s, SIM_AGR3, id);
  int64_t t[FX_SIM_MAX_PEER_HITS];
  cr_assert_geq(wait_hits(s, PER_PEER, 10000, t), PER_PEER, "fewer than %d posts reached the hanging peer",
                PER_PEER);
  healthy_prompt(s);
  usleep(2000000); /* time for posts beyond the bound to (wrongly) start */
  unsigned hits = fx_sim_peer_hits(s, SIM_AGR3, t, FX_SIM_MAX_PEER_HITS);
  /* Before the first post times out (10 s), no slot frees up. */
  if ((t[hits - 1] - t[0]) < 9000000)
    cr_assert_eq(hits, PER_PEER, "%u posts at the hanging peer within its first 9 s", hits);
  cr_assert_leq(fx_sim_peer_max_open(s, SIM_AGR3), PER_PEER, "the hanging peer held %u posts at once",
                fx_sim_peer_max_open(s, SIM_AGR3));
  cr_assert_geq(fx_sim_peer_max_open(s, SIM_AGR3), 2, "posts to the hanging peer were not concurrent");
  fx_sim_free(s);
}

/* A slow peer (1.5 s per answer, within flexd's timeout): delivered once, not
 * retried, and the healthy peer does not wait for it. */
Test(faults_peers, slow_peer_is_delivered_once_and_does_not_delay_others, .timeout = 90) {
  struct fx_sim *s = start(FX_SIM_PEER_SLOW, 1500);
  char id[FX_UUID_STRLEN];
  for (int i = 0; i < 2 * PER_PEER; i++)
    send_test(s, SIM_AGR3, id);
  healthy_prompt(s);
  fx_arena *a = fx_arena_new(0);
  cr_assert_not_null(fx_sim_await(s, FX_MSG_TEST_MESSAGE_RESPONSE, id, 20000, a), "the slow peer never got its response");
  fx_arena_free(a);
  unsigned n = wait_hits(s, 2 * PER_PEER, 20000, NULL);
  cr_assert_eq(n, 2 * PER_PEER, "%u posts for %d responses to the slow peer", n, 2 * PER_PEER);
  usleep(3000000); /* longer than a retry's back-off: none may come */
  cr_assert_eq(fx_sim_peer_hits(s, SIM_AGR3, NULL, 0), 2 * PER_PEER, "a delivered response was sent again");
  cr_assert_leq(fx_sim_peer_max_open(s, SIM_AGR3), PER_PEER);
  fx_sim_free(s);
}
