/* test_operator.c — the operator listener of `flexd serve`: metrics, the
 * settlement run on request and its query, refusals of malformed requests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/peer.h"

static struct fx_sim *sim;
static void setup(void) { sim = fx_peer_start(NULL); }
static void teardown(void) { fx_sim_free(sim); }
TestSuite(operator, .init = setup, .fini = teardown, .timeout = 60);

Test(operator, a_settlement_run_on_request_answers_once_committed) {
  static char resp[8192];
  cr_assert_eq(fx_sim_operator(sim, "POST", "/api/settlements/2026-01-01/2026-01-31", resp, sizeof resp), 200, "%s",
               resp);
  cr_assert(strstr(resp, "\"messages\":0"), "no orders, no FlexSettlement: %s", resp);
  cr_assert(strstr(resp, "\"committed\":true"), "%s", resp);
  cr_assert_eq(fx_sim_operator(sim, "GET", "/api/settlements/2026-01-01/2026-01-31", resp, sizeof resp), 200, "%s",
               resp);
  cr_assert_eq(fx_sim_operator(sim, "GET", "/api/settlements/2026-01-01/2026-01-31.csv", resp, sizeof resp), 200,
               "%s", resp);
}

Test(operator, malformed_operator_requests_are_refused) {
  static char resp[1024];
  cr_assert_eq(fx_sim_operator(sim, "POST", "/api/settlements/2026-02-01/2026-01-01", resp, sizeof resp), 400);
  cr_assert_eq(fx_sim_operator(sim, "POST", "/api/settlements/yesterday", resp, sizeof resp), 400);
  cr_assert_eq(fx_sim_operator(sim, "POST", "/api/markets/ean.871685900012345678/2026-13-01/clear", resp, sizeof resp),
               404);
  cr_assert_eq(fx_sim_operator(sim, "POST", "/api/markets/ean.871685900012345678/2026-01-01/clear", resp, sizeof resp),
               404, "no such market: %s", resp);
  cr_assert_eq(fx_sim_operator(sim, "GET", "/metrics", resp, sizeof resp), 200);
  cr_assert_eq(fx_sim_operator(sim, "GET", "/nothing", resp, sizeof resp), 404);
}

/* A contract configured for agr.example.com; the operator releases part of it. */
Test(operator_contract, a_reservation_release_is_sent_and_growth_refused, .timeout = 60) {
  char today[FX_DATE_STRLEN], later[FX_DATE_STRLEN], tomorrow[FX_DATE_STRLEN], extra[512];
  fx_sim_date(today, 0);
  fx_sim_date(later, 30);
  fx_sim_date(tomorrow, 1);
  snprintf(extra, sizeof extra,
           "\n[contract C-9]\nagr = " SIM_AGR "\ncongestion_point = ean.871685900012345678\nfrom = %s\nto = %s\n"
           "reserve = 68-70:-2000000\n",
           today, later);
  struct fx_sim_opts o = {.extra_platform = extra};
  struct fx_sim *s = fx_peer_start(&o);
  int n = fx_sim_isp_count(tomorrow);
  char json[4096], resp[1024], path[128];
  int k = snprintf(json, sizeof json, "{\"power\":[");
  for (int i = 1; i <= n; i++)
    k += snprintf(json + k, sizeof json - (size_t)k, "%s%d", i > 1 ? "," : "", i >= 68 && i <= 70 ? -1000000 : 0);
  snprintf(json + k, sizeof json - (size_t)k, "]}");
  snprintf(path, sizeof path, "/api/contracts/C-9/%s/release", tomorrow);
  cr_assert_eq(fx_sim_operator_post(s, path, json, resp, sizeof resp), 200, "%s", resp);
  cr_assert(strstr(resp, "\"sent\":true"), "%s", resp);
  fx_arena *a = fx_arena_new(0);
  const struct fx_msg *m = fx_sim_await_sent(s, FX_MSG_FLEX_RESERVATION_UPDATE, SIM_AGR, 0, 10000, a);
  cr_assert_not_null(m, "the AGR got no FlexReservationUpdate");
  cr_assert_str_eq(m->u.flex_reservation_update.contract_id, "C-9");
  /* Growing the reservation is refused. */
  for (char *q = strstr(json, "-1000000"); q; q = strstr(q + 1, "-1000000"))
    memcpy(q, "-3000000", 8);
  cr_assert_eq(fx_sim_operator_post(s, path, json, resp, sizeof resp), 409, "%s", resp);
  cr_assert(strstr(resp, "\"sent\":false"), "%s", resp);
  cr_assert_eq(fx_sim_operator_post(s, path, "{\"power\":\"x\"}", resp, sizeof resp), 400);
  fx_arena_free(a);
  fx_sim_free(s);
}
