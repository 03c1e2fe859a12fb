/* test_operator.c — the operator listener of `flexd serve`: metrics, the
 * settlement run on request and its query, refusals of malformed requests. */
#include <criterion/criterion.h>
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
