/* test_config.c — the INI configuration: values, participants, and refusals. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/config.h"

static const char *sample =
    "[platform]\n"
    "domain = flexd.example.org\n"
    "listen = 127.0.0.1:0\n"
    "key.DSO = /tmp/dso.key\n"
    "max_body = 65536\n"
    "[market]\n"
    "time_zone = Europe/Berlin\n"
    "closed = false\n"
    "gate_closure_day_ahead = 14:30\n"
    "gate_closure_intraday = 45\n"
    "[participant dso.example.com DSO]\n"
    "key = cs1.AAAA\n"
    "endpoint = http://127.0.0.1:9001/shapeshifter/api/v3/message\n"
    "rate = 50\n"
    "[participant agr.example.com AGR]\n"
    "key = cs1.BBBB\n"
    "key2 = cs1.CCCC\n"
    "barred = true\n";

Test(config, reads_every_section) {
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, sample, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(c.domain, "flexd.example.org");
  cr_assert_str_eq(c.key_file[FX_ROLE_DSO], "/tmp/dso.key");
  cr_assert_str_eq(c.key_file[FX_ROLE_AGR], "");
  cr_assert_eq(c.max_body, 65536);
  cr_assert_str_eq(c.time_zone, "Europe/Berlin");
  cr_assert(!c.closed);
  cr_assert_eq(c.gate_closure_minute, 14 * 60 + 30);
  cr_assert_eq(c.gate_closure_intraday, 45);
  cr_assert_eq(c.n_participants, 2);
  cr_assert_str_eq(c.participants[0].domain, "dso.example.com");
  cr_assert_eq(c.participants[0].role, FX_ROLE_DSO);
  cr_assert_eq(c.participants[0].rate, 50);
  cr_assert_str_eq(c.participants[1].keys[1], "cs1.CCCC");
  cr_assert(c.participants[1].barred);
  fx_config_free(&c);
}

Test(config, defaults_hold_the_spec_minimum_retry_window) {
  struct fx_config c;
  fx_config_defaults(&c);
  cr_assert_geq(c.retry_window_s, 3600);
  cr_assert_str_eq(c.isp_duration, "PT15M");
  cr_assert_eq(c.gate_closure_intraday, 60);
}

static void expect_error(const char *text, const char *needle) {
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, text, err, sizeof err), -1, "accepted: %s", text);
  cr_assert(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
  fx_config_free(&c);
}

Test(config, refuses_typos_and_bad_values) {
  expect_error("[platform]\ndomian = x\n", "line 2: unknown key 'domian'");
  expect_error("[markt]\nclosed = true\n", "unknown section");
  expect_error("[market]\nclosed = maybe\n", "bad value for 'closed'");
  expect_error("[market]\nretry_window = 60\n", "bad value for 'retry_window'");
  expect_error("[market]\ngate_closure_day_ahead = 25:00\n", "bad value");
  expect_error("[market]\ngate_closure_intraday = 1441\n", "bad value for 'gate_closure_intraday'");
  expect_error("[market]\ngate_closure_intraday = 1:00\n", "bad value");
  expect_error("[participant dso.example.com BRP]\nkey = x\n", "bad section");
  expect_error("[platform]\nkey.BRP = /x\n", "unknown key");
}

Test(config, splits_listen_addresses) {
  char host[64];
  int port;
  cr_assert_eq(fx_config_split_addr("127.0.0.1:8080", host, sizeof host, &port), 0);
  cr_assert_str_eq(host, "127.0.0.1");
  cr_assert_eq(port, 8080);
  cr_assert_eq(fx_config_split_addr("[::1]:0", host, sizeof host, &port), 0);
  cr_assert_str_eq(host, "::1");
  cr_assert_eq(port, 0);
  cr_assert_eq(fx_config_split_addr("localhost", host, sizeof host, &port), -1);
  cr_assert_eq(fx_config_split_addr("h:99999", host, sizeof host, &port), -1);
}

Test(config, a_copy_owns_its_arrays) {
  struct fx_config c, d;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, sample, err, sizeof err), 0, "%s", err);
  cr_assert_eq(fx_config_parse(&c,
                               "[contract C-1]\nagr = agr.example.com\ncongestion_point = ean.871685900012345678\n"
                               "from = 2025-03-01\nto = 2025-03-31\nreserve = 68-70:-2000000\n",
                               err, sizeof err),
               0, "%s", err);
  cr_assert_eq(fx_config_copy(&d, &c), 0);
  cr_assert_neq(d.participants, c.participants);
  cr_assert_eq(d.n_contracts, 1);
  cr_assert_neq(d.contracts, c.contracts);
  cr_assert_str_eq(d.participants[1].keys[1], "cs1.CCCC");
  fx_config_free(&c); /* the copy stays usable, and both free cleanly (ASan) */
  cr_assert_str_eq(d.participants[0].domain, "dso.example.com");
  fx_config_free(&d);
}

static int parse(const char *text, struct fx_config *c, char *err, size_t errlen) {
  fx_config_defaults(c);
  int rc = fx_config_parse(c, text, err, errlen);
  return rc;
}

Test(config, dns_discovery_is_off_by_default_with_the_appendix_defaults) {
  struct fx_config c;
  char err[256];
  cr_assert_eq(parse(sample, &c, err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.discovery, FX_DISCOVERY_STATIC);
  cr_assert(c.dns_dnssec, "DNSSEC is required unless switched off");
  cr_assert_str_eq(c.dns_endpoint_scheme, "https");
  cr_assert_eq(c.dns_endpoint_port, 443);
  cr_assert_str_eq(c.dns_servers, "");
  cr_assert(!c.participants[0].dns);
  fx_config_free(&c);
}

Test(config, reads_dns_discovery_keys) {
  struct fx_config c;
  char err[256];
  const char *text = "[platform]\ndiscovery = dns\ndns_servers = 127.0.0.1:5353,127.0.0.2:53\ndns_dnssec = false\n"
                     "dns_cache_ttl = 60\ndns_stale = 600\ndns_timeout_ms = 500\ndns_endpoint_scheme = http\n"
                     "dns_endpoint_port = 8443\n"
                     "[participant agr.example.com AGR]\ndiscovery = dns\nrate = 5\n";
  cr_assert_eq(parse(text, &c, err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.discovery, FX_DISCOVERY_DNS);
  cr_assert_str_eq(c.dns_servers, "127.0.0.1:5353,127.0.0.2:53");
  cr_assert(!c.dns_dnssec);
  cr_assert_eq(c.dns_cache_ttl_s, 60);
  cr_assert_eq(c.dns_stale_s, 600);
  cr_assert_eq(c.dns_timeout_ms, 500);
  cr_assert_str_eq(c.dns_endpoint_scheme, "http");
  cr_assert_eq(c.dns_endpoint_port, 8443);
  cr_assert(c.participants[0].dns);
  cr_assert_eq(c.participants[0].rate, 5);
  fx_config_free(&c);
}

Test(config, refuses_inconsistent_dns_discovery) {
  static const char *const bad[] = {
      "[platform]\ndiscovery = ldap\n",
      "[platform]\ndns_endpoint_scheme = ftp\n",
      "[platform]\ndns_endpoint_port = 70000\n",
      "[platform]\ndns_cache_ttl = 0\n",
      /* a DNS participant without discovery switched on */
      "[participant agr.example.com AGR]\ndiscovery = dns\n",
      /* static key and DNS at once */
      "[platform]\ndiscovery = dns\n[participant agr.example.com AGR]\ndiscovery = dns\nkey = cs1.AAAA\n",
      "[platform]\ndiscovery = dns\n[participant agr.example.com AGR]\ndiscovery = dns\nendpoint = https://x/\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct fx_config c;
    char err[256];
    cr_assert_neq(parse(bad[i], &c, err, sizeof err), 0, "accepted: %s", bad[i]);
    cr_assert_neq(err[0], 0, "a reason for: %s", bad[i]);
    fx_config_free(&c);
  }
}

/* CONFORMANCE A6 and E16 (docs/market.md): a placed FlexOrder waits an hour
 * for its response; a DSO does not learn which AGR represents a connection. */
Test(config, reply_deadline_and_dso_privacy_defaults) {
  struct fx_config c;
  fx_config_defaults(&c);
  cr_assert_eq(c.order_response_timeout_s, 3600);
  cr_assert(!c.dso_sees_agr_per_connection);
}

Test(config, reads_the_reply_deadline_and_dso_privacy_keys) {
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, "[market]\norder_response_timeout = 900\ndso_sees_agr_per_connection = true\n",
                               err, sizeof err),
               0, "%s", err);
  cr_assert_eq(c.order_response_timeout_s, 900);
  cr_assert(c.dso_sees_agr_per_connection);
  fx_config_free(&c);
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, "[market]\norder_response_timeout = 0\n", err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.order_response_timeout_s, 0, "0 switches the deadline off");
  fx_config_free(&c);
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, "[market]\norder_response_timeout = 86400\n", err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.order_response_timeout_s, 86400, "a day is the most");
  fx_config_free(&c);
}

Test(config, refuses_bad_reply_deadline_and_dso_privacy_values) {
  expect_error("[market]\norder_response_timeout = -1\n", "bad value for 'order_response_timeout'");
  expect_error("[market]\norder_response_timeout = 86401\n", "bad value for 'order_response_timeout'");
  expect_error("[market]\norder_response_timeout = 1h\n", "bad value for 'order_response_timeout'");
  expect_error("[market]\norder_response_timeout = \n", "bad value for 'order_response_timeout'");
  expect_error("[market]\ndso_sees_agr_per_connection = sometimes\n", "bad value for 'dso_sees_agr_per_connection'");
}
