/* test_config_clearing.c — the [market] keys of the clearing engine's budget
 * (engine/config.h, docs/market.md "Clearing configuration"): defaults,
 * values read, and each bad value refused with the key it is about. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/config.h"

Test(config_clearing, defaults_are_the_products_budget) {
  struct fx_config c;
  struct fx_clear_params p;
  fx_config_defaults(&c);
  fx_clear_params_init(&p);
  cr_assert_eq(c.clear.time_limit_ms, 0, "no wall-clock limit: answers stay deterministic");
  cr_assert_eq(c.clear.coverage_tolerance, FX_CLEAR_TOLERANCE);
  cr_assert_eq(c.clear.exact_max_offers, p.exact_max_offers);
  cr_assert_eq(c.clear.local_search_max_offers, p.local_search_max_offers);
  cr_assert_eq(c.clear.lp_iteration_limit, p.lp_iteration_limit, "keys not in the file keep the solver's values");
  /* Off the sequencer thread the product affords round 4's budget. */
  cr_assert_eq(c.clear.bb_max_offers, 400);
  cr_assert_eq(c.clear.bb_node_limit, 2000);
  cr_assert_eq(c.clear.bb_pivot_limit, 15000);
}

Test(config_clearing, reads_every_clearing_key) {
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c,
                               "[market]\n"
                               "coverage_tolerance = 0\n"
                               "bb_gap = 0.0005\n"
                               "bb_max_offers = 1000\n"
                               "bb_node_limit = 4000\n"
                               "bb_pivot_limit = 30000\n"
                               "exact_max_offers = 20\n"
                               "local_search_max_offers = 0\n"
                               "time_limit_ms = 250\n"
                               "proof_max_offers = 2000\n"
                               "proof_first_ratio = 3.5\n"
                               "bb_sb_cands = 16\n"
                               "bb_sb_reliable = 4\n"
                               "bb_sb_pivots = 20\n",
                               err, sizeof err),
               0, "%s", err);
  cr_assert_eq(c.clear.coverage_tolerance, 0);
  cr_assert_eq(c.clear.bb_gap, 0.0005);
  cr_assert_eq(c.clear.bb_max_offers, 1000);
  cr_assert_eq(c.clear.bb_node_limit, 4000);
  cr_assert_eq(c.clear.bb_pivot_limit, 30000);
  cr_assert_eq(c.clear.exact_max_offers, 20);
  cr_assert_eq(c.clear.local_search_max_offers, 0);
  cr_assert_eq(c.clear.time_limit_ms, 250);
  cr_assert_eq(c.clear.proof_max_offers, 2000);
  cr_assert_float_eq(c.clear.proof_first_ratio, 3.5, 1e-12);
  cr_assert_eq(c.clear.bb_sb_cands, 16);
  cr_assert_eq(c.clear.bb_sb_reliable, 4);
  cr_assert_eq(c.clear.bb_sb_pivots, 20);
  fx_config_free(&c);
}

static void expect_refused(const char *line, const char *key) {
  struct fx_config c;
  char text[128], err[256], want[64];
  snprintf(text, sizeof text, "[market]\n%s\n", line);
  snprintf(want, sizeof want, "line 2: bad value for '%s'", key);
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, text, err, sizeof err), -1, "accepted: %s", line);
  cr_assert(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
  fx_config_free(&c);
}

Test(config_clearing, refuses_bad_values_naming_the_key) {
  expect_refused("coverage_tolerance = -0.1", "coverage_tolerance");
  expect_refused("coverage_tolerance = 0.5", "coverage_tolerance");
  expect_refused("coverage_tolerance = 0.1%", "coverage_tolerance");
  expect_refused("coverage_tolerance = nan", "coverage_tolerance");
  expect_refused("bb_gap = 1", "bb_gap");
  expect_refused("bb_max_offers = -1", "bb_max_offers");
  expect_refused("bb_max_offers = 150 offers", "bb_max_offers");
  expect_refused("bb_node_limit = 20000000", "bb_node_limit");
  expect_refused("bb_pivot_limit = 1e6", "bb_pivot_limit");
  expect_refused("exact_max_offers = 100001", "exact_max_offers");
  expect_refused("local_search_max_offers = many", "local_search_max_offers");
  expect_refused("time_limit_ms = 3600001", "time_limit_ms");
  expect_refused("proof_max_offers = 100001", "proof_max_offers");
  expect_refused("proof_first_ratio = -1", "proof_first_ratio");
  expect_refused("bb_sb_cands = -1", "bb_sb_cands");
  expect_refused("bb_sb_reliable = 1001", "bb_sb_reliable");
  expect_refused("bb_sb_pivots = 0", "bb_sb_pivots");
  expect_refused("time_limit_ms = -5", "time_limit_ms");
}

Test(config_clearing, a_misspelt_clearing_key_is_unknown) {
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_max_offer = 10\n", err, sizeof err), -1);
  cr_assert(strstr(err, "unknown key 'bb_max_offer'") != NULL, "%s", err);
  fx_config_free(&c);
}
