/* test_faults.c — kill -9 of flexd under load: every message that got HTTP 200
 * is in the store after the crash, and every response owed for them is
 * delivered after the restart. Bounded: a few hundred messages, one crash. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/support/peer.h"

enum { N = 400, THREADS = 4, KILL_AFTER = 150 };

struct msg {
  char id[FX_UUID_STRLEN];
  char *sealed;
  int status;
};

static struct fx_sim *sim;
static struct msg msgs[N];
static atomic_int next_msg, acked;

static void *sender(void *arg) {
  (void)arg;
  for (int i; (i = atomic_fetch_add(&next_msg, 1)) < N;) {
    msgs[i].status = fx_sim_post(sim, msgs[i].sealed, strlen(msgs[i].sealed), "text/xml", NULL, 0);
    if (msgs[i].status == 200)
      atomic_fetch_add(&acked, 1);
  }
  return NULL;
}

static void quiet(void *ud, const char *m) { (void)ud, (void)m; }

Test(faults, kill_9_under_load_loses_nothing_acknowledged, .timeout = 240) {
  curl_global_init(CURL_GLOBAL_DEFAULT); /* before the sender threads */
  sim = fx_peer_start(NULL);
  char ts[FX_DATETIME_STRLEN], xml[1024];
  fx_sim_time(ts, 0);
  for (int i = 0; i < N; i++) {
    fx_sim_uuid(msgs[i].id);
    snprintf(xml, sizeof xml,
             "<TestMessage Version=\"3.1.0\" SenderDomain=\"" SIM_AGR "\" RecipientDomain=\"" SIM_PLATFORM
             "\" TimeStamp=\"%.39s\" MessageID=\"%.36s\" ConversationID=\"%.36s\"/>",
             ts, msgs[i].id, msgs[i].id);
    msgs[i].sealed = fx_sim_seal(sim, SIM_AGR, FX_ROLE_AGR, xml);
  }
  pthread_t t[THREADS];
  for (int k = 0; k < THREADS; k++)
    pthread_create(&t[k], NULL, sender, NULL);
  for (int w = 0; w < 3000 && atomic_load(&acked) < KILL_AFTER; w++)
    usleep(1000);
  fx_sim_kill9_flexd(sim);
  for (int k = 0; k < THREADS; k++)
    pthread_join(t[k], NULL);
  int n_acked = atomic_load(&acked);
  cr_assert_geq(n_acked, KILL_AFTER / 2, "only %d messages acknowledged before the crash", n_acked);

  /* Every acknowledged message is in the journal. */
  char path[256];
  snprintf(path, sizeof path, "%s/store", fx_sim_dir(sim));
  struct fx_store *st;
  struct fx_store_opts o = {.path = path, .log = quiet};
  cr_assert_eq(fx_store_open(&st, &o), 0);
  struct fx_store_read rd;
  fx_store_read_init(&rd, st);
  cr_assert_eq(fx_store_read_begin(&rd), 0);
  for (int i = 0; i < N; i++) {
    if (msgs[i].status != 200)
      continue;
    struct fx_uuid u;
    struct fx_store_msg_view v;
    cr_assert_eq(fx_uuid_parse(msgs[i].id, 36, &u, NULL), 0);
    cr_assert_eq(fx_store_msg_get(&rd, SIM_AGR, u.b, &v), 0, "acknowledged message %d (%s) was lost", i, msgs[i].id);
  }
  fx_store_read_end(&rd);
  fx_store_read_free(&rd);
  fx_store_close(st);

  /* After the restart every acknowledged message gets its response. */
  cr_assert_eq(fx_sim_restart_flexd(sim), 0);
  int missing = 0;
  for (int w = 0; w < 300; w++) { /* up to 30 s */
    missing = 0;
    for (int i = 0; i < N; i++)
      if (msgs[i].status == 200 && fx_sim_count_responses(sim, msgs[i].id) == 0)
        missing++;
    if (!missing)
      break;
    usleep(100000);
  }
  cr_assert_eq(missing, 0, "%d acknowledged messages never got their response", missing);
  for (int i = 0; i < N; i++)
    free(msgs[i].sealed);
  fx_sim_free(sim);
}
