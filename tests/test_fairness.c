/* test_fairness.c — per-sender fairness end to end: two senders behind one
 * client address (every request here comes from 127.0.0.1, as through a
 * shared proxy), one of them flooding on several keep-alive connections from
 * threads of its own, the other sending one message at a time. Every one of
 * the other's messages must be answered 200 and get its response while the
 * flood is still going. Bounded: the flood has a fixed number of messages and
 * stops as soon as the other sender is done. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/peer.h"

enum { FLOOD_THREADS = 8, FLOOD_PER_THREAD = 1000, HONEST = 30 };

struct flood {
  char url[128];
  char *msgs[FLOOD_THREADS][FLOOD_PER_THREAD];
  atomic_int sent, ok, stop, threads_done;
  pthread_t th[FLOOD_THREADS];
  int index[FLOOD_THREADS];
};

static struct fx_sim *sim;
static struct flood fl;

static void setup(void) { sim = fx_peer_start(NULL); }
static void teardown(void) { fx_sim_free(sim); }
TestSuite(fairness, .init = setup, .fini = teardown, .timeout = 120);

static const char *test_message(const char *sender, const char *id) {
  static char buf[2048];
  return fx_sim_test_message(buf, sizeof buf, sender, SIM_PLATFORM, id);
}

static size_t discard(char *p, size_t s, size_t n, void *ud) {
  (void)p, (void)ud;
  return s * n;
}

/* One flooding connection: its share of the sealed messages, closed loop. */
static void *flood_thread(void *arg) {
  int t = *(int *)arg;
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/xml; charset=utf-8");
  curl_easy_setopt(c, CURLOPT_URL, fl.url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
  for (int i = 0; i < FLOOD_PER_THREAD && !atomic_load(&fl.stop); i++) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, fl.msgs[t][i]);
    long status = 0;
    atomic_fetch_add(&fl.sent, 1);
    if (curl_easy_perform(c) == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        status == 200)
      atomic_fetch_add(&fl.ok, 1);
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  atomic_fetch_add(&fl.threads_done, 1);
  return NULL;
}

static void flood_prepare(const char *sender) {
  snprintf(fl.url, sizeof fl.url, "http://127.0.0.1:%d/shapeshifter/api/v3/message", fx_sim_port(sim));
  for (int t = 0; t < FLOOD_THREADS; t++)
    for (int i = 0; i < FLOOD_PER_THREAD; i++) {
      char id[FX_UUID_STRLEN];
      fx_sim_uuid(id);
      cr_assert_not_null(fl.msgs[t][i] = fx_sim_seal(sim, sender, FX_ROLE_AGR, test_message(sender, id)));
    }
}

static void flood_start(void) {
  for (int t = 0; t < FLOOD_THREADS; t++) {
    fl.index[t] = t;
    cr_assert_eq(pthread_create(&fl.th[t], NULL, flood_thread, &fl.index[t]), 0);
  }
}

static void flood_stop(void) {
  atomic_store(&fl.stop, 1);
  for (int t = 0; t < FLOOD_THREADS; t++)
    pthread_join(fl.th[t], NULL);
  for (int t = 0; t < FLOOD_THREADS; t++)
    for (int i = 0; i < FLOOD_PER_THREAD; i++)
      free(fl.msgs[t][i]);
}

Test(fairness, a_flood_from_one_sender_behind_a_shared_address_does_not_starve_the_other) {
  flood_prepare(SIM_AGR3);
  flood_start();
  /* The flood is under way before the other sender starts. */
  for (int i = 0; i < 2000 && atomic_load(&fl.ok) < 100; i++)
    usleep(1000);
  cr_assert_geq(atomic_load(&fl.ok), 100, "the flood is answered 200 too");
  char ids[HONEST][FX_UUID_STRLEN];
  for (int i = 0; i < HONEST; i++) {
    fx_sim_uuid(ids[i]);
    cr_assert_eq(fx_sim_send(sim, SIM_AGR, FX_ROLE_AGR, test_message(SIM_AGR, ids[i])), 200, "message %d", i);
  }
  fx_arena *a = fx_arena_new(0);
  for (int i = 0; i < HONEST; i++)
    cr_assert_not_null(fx_sim_await(sim, FX_MSG_TEST_MESSAGE_RESPONSE, ids[i], 30000, a), "response %d", i);
  fx_arena_free(a);
  int sent_meanwhile = atomic_load(&fl.sent), done = atomic_load(&fl.threads_done);
  flood_stop();
  cr_assert_eq(done, 0, "every flooding connection was still sending when the other sender was done");
  cr_assert_lt(sent_meanwhile, FLOOD_THREADS * FLOOD_PER_THREAD);
  cr_assert_gt(sent_meanwhile, 100 + HONEST, "the flood outnumbered the other sender (%d sent)", sent_meanwhile);
  cr_assert_eq(kill(fx_sim_pid(sim), 0), 0, "flexd is still running");
}
