/* test_endpoint_full.c — a store that cannot commit: new messages get 503,
 * nothing acknowledged is lost, and service resumes when there is room again. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/peer.h"

static void offer(char *buf, size_t cap, const char *id) {
  char ts[FX_DATETIME_STRLEN], exp[FX_DATETIME_STRLEN], day[FX_DATE_STRLEN];
  fx_sim_time(ts, 0);
  fx_sim_time(exp, 7200);
  fx_sim_date(day, 1);
  snprintf(buf, cap,
           "<FlexOffer Version=\"3.1.0\" SenderDomain=\"" SIM_AGR "\" RecipientDomain=\"" SIM_PLATFORM "\" "
           "TimeStamp=\"%s\" MessageID=\"%s\" ConversationID=\"%s\" ISP-Duration=\"PT15M\" "
           "TimeZone=\"Europe/Amsterdam\" Period=\"%s\" CongestionPoint=\"ean.871685900012345678\" "
           "ExpirationDateTime=\"%s\" Currency=\"EUR\"><OfferOption OptionReference=\"A\" Price=\"1\">"
           "<ISP Power=\"-1000\" Start=\"50\" Duration=\"4\"/></OfferOption></FlexOffer>",
           ts, id, id, day, exp);
}

Test(endpoint_full, store_full_gives_503_and_loses_nothing_acknowledged, .timeout = 180) {
  struct fx_sim_opts o = {.extra_platform = "store_max_mb = 1"};
  struct fx_sim *s = fx_peer_start(&o);
  enum { MAX = 20000 };
  static char xml[MAX][1024];
  int acked = 0, refused = -1;
  for (int i = 0; i < MAX; i++) {
    char id[FX_UUID_STRLEN];
    fx_sim_uuid(id);
    offer(xml[i], sizeof xml[i], id);
    int st = fx_sim_send(s, SIM_AGR, FX_ROLE_AGR, xml[i]);
    if (st == 503) {
      refused = i;
      break;
    }
    cr_assert_eq(st, 200, "message %d: %d", i, st);
    acked++;
  }
  cr_assert_geq(refused, 0, "a 1 MB store never filled");
  cr_assert_gt(acked, 10);
  /* Still serving: HTTP-level answers work, and the process is alive. */
  char resp[128];
  cr_assert_eq(fx_sim_get(s, false, "/nowhere", resp, sizeof resp), 404);
  /* Room again: restart with a larger store. */
  cr_assert_eq(fx_sim_stop_flexd(s), 0);
  cr_assert_eq(fx_sim_set_extra_platform(s, "store_max_mb = 64"), 0);
  cr_assert_eq(fx_sim_restart_flexd(s), 0);
  fx_arena *a = fx_arena_new(0);
  int sample[3] = {0, acked / 2, acked - 1};
  for (int k = 0; k < 3; k++) {
    const char *x = xml[sample[k]];
    char id[FX_UUID_STRLEN];
    memcpy(id, strstr(x, "MessageID=\"") + 11, 36);
    id[36] = 0;
    unsigned before = fx_sim_count_responses(s, id);
    cr_assert_eq(fx_sim_send(s, SIM_AGR, FX_ROLE_AGR, x), 200);
    const struct fx_msg *m = fx_sim_await_nth(s, FX_MSG_FLEX_OFFER_RESPONSE, id, before, 15000, a);
    cr_assert_not_null(m, "no answer to the resent message %d", sample[k]);
    cr_assert_str_eq(m->rejection_reason ? m->rejection_reason : "(accepted)", "Already Submitted",
                     "acknowledged message %d was lost", sample[k]);
  }
  /* The refused message was not stored: it is new now (what the market then
   * decides of it does not matter here, only that it is not a repeat). */
  char id[FX_UUID_STRLEN];
  memcpy(id, strstr(xml[refused], "MessageID=\"") + 11, 36);
  id[36] = 0;
  cr_assert_eq(fx_sim_send(s, SIM_AGR, FX_ROLE_AGR, xml[refused]), 200);
  const struct fx_msg *m = fx_sim_await_nth(s, FX_MSG_FLEX_OFFER_RESPONSE, id, 0, 15000, a);
  cr_assert_not_null(m);
  cr_assert(!m->rejection_reason || !strstr(m->rejection_reason, "Already Submitted"), "got %s", m->rejection_reason);
  fx_arena_free(a);
  fx_sim_free(s);
}
