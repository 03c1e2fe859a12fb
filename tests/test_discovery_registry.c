/* test_discovery_registry.c — the registry side of discovery, without DNS:
 * snapshots rebuilt after new answers keep each participant's rate bucket (a
 * DNS answer must not refill a flooder's bucket), and a configuration that
 * wants DNS is refused where discovery is not running. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "codec/keys.h"
#include "engine/config.h"
#include "engine/registry.h"

static void one_agr(struct fx_config *cfg, const char *extra) {
  struct fx_keys_pair kp;
  char key[FX_KEYS_CS1_LEN + 1], text[512], err[256];
  fx_keys_generate(&kp);
  fx_keys_cs1_format(&kp.pub, key);
  fx_keys_wipe(&kp);
  snprintf(text, sizeof text, "[platform]\ndiscovery = dns\n[participant agr.example.com AGR]\nkey = %s\nrate = 2\n%s",
           key, extra);
  fx_config_defaults(cfg);
  cr_assert_eq(fx_config_parse(cfg, text, err, sizeof err), 0, "%s", err);
}

Test(discovery_registry, a_rebuilt_snapshot_keeps_the_rate_buckets) {
  struct fx_config cfg;
  char err[256];
  one_agr(&cfg, "");
  struct fx_registry *r = fx_registry_build(&cfg, NULL, NULL, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  const struct fx_participant *p = fx_registry_find(r, "agr.example.com", FX_ROLE_AGR);
  cr_assert(fx_registry_rate_take(r, p, 1000));
  cr_assert(fx_registry_rate_take(r, p, 1000));
  cr_assert_not(fx_registry_rate_take(r, p, 1000), "the burst of 2 is used up");
  struct fx_registry *next = fx_registry_rebuild(r);
  cr_assert_not_null(next);
  fx_registry_unref(r);
  p = fx_registry_find(next, "agr.example.com", FX_ROLE_AGR);
  cr_assert_not_null(p);
  cr_assert_not(fx_registry_rate_take(next, p, 1000), "still empty in the new snapshot");
  cr_assert(fx_registry_rate_take(next, p, 1000 + 500000), "refilled by time, at the rate");
  fx_registry_unref(next);
  fx_config_free(&cfg);
}

Test(discovery_registry, a_dns_participant_needs_discovery_running) {
  struct fx_config cfg;
  char err[256];
  one_agr(&cfg, "[participant agr2.example.com AGR]\ndiscovery = dns\n");
  cr_assert_null(fx_registry_build(&cfg, NULL, NULL, err, sizeof err), "no resolver to ask");
  cr_assert(strstr(err, "agr2.example.com"), "%s", err);
  /* The static-only snapshot (check-config) leaves it out instead. */
  struct fx_registry *r = fx_registry_new(&cfg, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  cr_assert_eq(r->n, 1);
  cr_assert_null(fx_registry_find(r, "agr2.example.com", FX_ROLE_AGR));
  fx_registry_unref(r);
  fx_config_free(&cfg);
}
