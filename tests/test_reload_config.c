/* test_reload_config.c — which keys a reload (SIGHUP) may change and which
 * take a restart (engine/config.h, "reloading"; the table is in
 * docs/architecture.md, "Reloading"): fx_config_keep_fixed,
 * fx_config_take_reloadable and fx_config_reload_changes on configurations
 * parsed from text, as `flexd serve` reads its file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/config.h"

static const char base[] = "[platform]\ndomain = flexd.example.org\nlisten = 127.0.0.1:8080\nplain_http = true\n"
                           "[market]\ntime_zone = Europe/Amsterdam\norder_response_timeout = 3600\n"
                           "[contract c1]\nagr = agr.example.com\ncongestion_point = ean.871685900012345678\n"
                           "from = 2025-03-01\nreserve = 12-15:-2000000\n"
                           "[participant dso.example.com DSO]\nendpoint = http://127.0.0.1:1/x\n";

static void parse(struct fx_config *c, const char *extra) {
  char text[4096], err[300];
  snprintf(text, sizeof text, "%s%s", base, extra);
  fx_config_defaults(c);
  cr_assert_eq(fx_config_parse(c, text, err, sizeof err), 0, "%s", err);
}

/* Collects the refused keys, one per line. */
struct refused {
  char names[1024];
  int n;
};

static void on_refused(const char *key, void *ud) {
  struct refused *r = ud;
  size_t len = strlen(r->names);
  snprintf(r->names + len, sizeof r->names - len, "%s\n", key);
  r->n++;
}

Test(reload_config, an_unchanged_file_refuses_nothing_and_changes_nothing) {
  struct fx_config run, next;
  struct refused r = {0};
  parse(&run, "");
  parse(&next, "");
  cr_assert_eq(fx_config_keep_fixed(&next, &run, on_refused, &r), 0);
  cr_assert_eq(r.n, 0);
  char changed[256];
  cr_assert_eq(fx_config_reload_changes(&run, &next, changed, sizeof changed), 0);
  cr_assert_str_eq(changed, "");
  fx_config_free(&run);
  fx_config_free(&next);
}

Test(reload_config, keys_that_take_a_restart_keep_their_running_value_and_are_named) {
  struct fx_config run, next;
  struct refused r = {0};
  parse(&run, "");
  /* Sections again later in the file: inih gives their keys to the same section. */
  parse(&next, "[platform]\nlisten = 127.0.0.1:9999\nstore = /elsewhere\nworkers = 7\ndiscovery = dns\n"
               "[market]\ntime_zone = UTC\nisp_duration = PT5M\ncurrency = USD\norder_response_timeout = 60\n");
  cr_assert_eq(fx_config_keep_fixed(&next, &run, on_refused, &r), 7);
  cr_assert_str_eq(r.names, "[platform] listen\n[platform] store\n[platform] workers\n[platform] discovery\n"
                            "[market] time_zone\n[market] isp_duration\n[market] currency\n");
  cr_assert_str_eq(next.listen, "127.0.0.1:8080");
  cr_assert_str_eq(next.store, run.store);
  cr_assert_eq(next.workers, run.workers);
  cr_assert_eq(next.discovery, FX_DISCOVERY_STATIC);
  cr_assert_str_eq(next.time_zone, "Europe/Amsterdam");
  cr_assert_str_eq(next.isp_duration, "PT15M");
  cr_assert_str_eq(next.currency, "EUR");
  cr_assert_eq(next.order_response_timeout_s, 60, "a reloadable key keeps the file's value");
  fx_config_free(&run);
  fx_config_free(&next);
}

Test(reload_config, switching_tls_on_or_off_takes_a_restart) {
  struct fx_config run, next;
  struct refused r = {0};
  parse(&run, "");
  parse(&next, "[platform]\ntls_cert = /etc/flexd/tls.crt\ntls_key = /etc/flexd/tls.key\n");
  cr_assert_eq(fx_config_keep_fixed(&next, &run, on_refused, &r), 1);
  cr_assert_str_eq(r.names, "[platform] tls_cert\n");
  cr_assert_str_eq(next.tls_cert, "");
  cr_assert_str_eq(next.tls_key, "");
  /* While TLS is on, other certificate files are the server's to reload. */
  struct fx_config next2;
  parse(&next2, "[platform]\ntls_cert = /etc/flexd/new.crt\ntls_key = /etc/flexd/new.key\n");
  fx_config_free(&run);
  parse(&run, "[platform]\ntls_cert = /etc/flexd/tls.crt\ntls_key = /etc/flexd/tls.key\n");
  cr_assert_eq(fx_config_keep_fixed(&next2, &run, NULL, NULL), 0);
  cr_assert_str_eq(next2.tls_cert, "/etc/flexd/new.crt");
  fx_config_free(&run);
  fx_config_free(&next);
  fx_config_free(&next2);
}

Test(reload_config, a_contract_added_removed_or_changed_is_refused) {
  struct fx_config run, next;
  struct refused r = {0};
  parse(&run, "");
  parse(&next, "[contract c1]\nreserve = 12-16:-2000000\n[contract c2]\nagr = agr.example.com\n"
               "congestion_point = ean.871685900012345678\nfrom = 2025-03-01\nreserve = 1:-1\n");
  cr_assert_eq(fx_config_keep_fixed(&next, &run, on_refused, &r), 2);
  cr_assert_str_eq(r.names, "[contract] c1\n[contract] c2\n");
  struct fx_config none;
  fx_config_defaults(&none);
  struct refused r2 = {0};
  cr_assert_eq(fx_config_keep_fixed(&none, &run, on_refused, &r2), 3);
  cr_assert_str_eq(r2.names, "[platform] domain\n[platform] plain_http\n[contract] c1\n");
  fx_config_free(&run);
  fx_config_free(&next);
  fx_config_free(&none);
}

Test(reload_config, the_market_rules_and_participants_are_taken_over_and_nothing_else) {
  struct fx_config run, next;
  parse(&run, "");
  parse(&next, "[market]\norder_response_timeout = 60\ncoverage_tolerance = 0.1\nclosed = false\n"
               "gate_closure_day_ahead = 12:30\nsettlement_day = 5\nretry_window = 7200\n"
               "[participant agr.example.com AGR]\nendpoint = http://127.0.0.1:2/x\n"
               "[platform]\nlisten = 127.0.0.1:1\n");
  char changed[512];
  cr_assert_eq(fx_config_reload_changes(&run, &next, changed, sizeof changed), 6);
  cr_assert_str_eq(changed, "closed, gate_closure_day_ahead, retry_window, settlement_day, order_response_timeout, "
                            "coverage_tolerance");
  char cut[12];
  cr_assert_eq(fx_config_reload_changes(&run, &next, cut, sizeof cut), 6, "all are counted");
  cr_assert_str_eq(cut, "closed, gat", "the list is cut to the buffer");
  const struct fx_contract_cfg *contracts = run.contracts;
  fx_config_take_reloadable(&run, &next);
  cr_assert_eq(run.order_response_timeout_s, 60);
  cr_assert(run.clear.coverage_tolerance > 0.09 && run.clear.coverage_tolerance < 0.11);
  cr_assert_eq(run.closed, false);
  cr_assert_eq(run.gate_closure_minute, 12 * 60 + 30);
  cr_assert_eq(run.settlement_day, 5);
  cr_assert_eq(run.retry_window_s, 7200);
  cr_assert_eq(run.n_participants, 2);
  cr_assert_str_eq(run.participants[1].domain, "agr.example.com");
  cr_assert_eq(next.n_participants, 1, "the old participants go to the caller's copy");
  cr_assert_str_eq(run.listen, "127.0.0.1:8080", "a fixed key is never taken over");
  cr_assert_eq(run.contracts, contracts, "the contracts the market points into stay");
  cr_assert_eq(fx_config_reload_changes(&run, &next, changed, sizeof changed), 0, "nothing left to change");
  fx_config_free(&run);
  fx_config_free(&next);
}
