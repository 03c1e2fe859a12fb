/* test_registry.c — participant snapshots: lookup, keys, refusals, rate limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "codec/keys.h"
#include "engine/registry.h"

static void participant(struct fx_participant_cfg *p, const char *domain, enum fx_role role,
                        const struct fx_keys_pair *kp, uint32_t rate) {
  memset(p, 0, sizeof *p);
  strcpy(p->domain, domain);
  p->role = role;
  fx_keys_cs1_format(&kp->pub, p->keys[0]);
  p->rate = rate;
}

Test(registry, finds_by_domain_and_role) {
  struct fx_keys_pair a, b;
  cr_assert_eq(fx_keys_generate(&a), 0);
  cr_assert_eq(fx_keys_generate(&b), 0);
  struct fx_participant_cfg ps[3];
  participant(&ps[0], "zeta.example.com", FX_ROLE_AGR, &a, 0);
  participant(&ps[1], "dso.example.com", FX_ROLE_DSO, &b, 0);
  participant(&ps[2], "dso.example.com", FX_ROLE_AGR, &a, 0);
  fx_keys_cs1_format(&b.pub, ps[2].keys[1]); /* rotating */
  struct fx_config cfg = {.participants = ps, .n_participants = 3};
  char err[256];
  struct fx_registry *r = fx_registry_new(&cfg, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  const struct fx_participant *p = fx_registry_find(r, "dso.example.com", FX_ROLE_DSO);
  cr_assert_not_null(p);
  cr_assert_eq(p->n_keys, 1);
  cr_assert_eq(memcmp(p->pk[0], b.pub.sign, 32), 0);
  p = fx_registry_find(r, "dso.example.com", FX_ROLE_AGR);
  cr_assert_eq(p->n_keys, 2, "both keys of a rotation are kept");
  cr_assert_null(fx_registry_find(r, "dso.example.com", FX_ROLE_CRO));
  cr_assert_null(fx_registry_find(r, "nobody.example.com", FX_ROLE_AGR));
  fx_registry_unref(r);
}

Test(registry, refuses_a_malformed_key) {
  struct fx_participant_cfg p = {.domain = "agr.example.com", .role = FX_ROLE_AGR, .keys = {"cs1.notakey"}};
  struct fx_config cfg = {.participants = &p, .n_participants = 1};
  char err[256];
  cr_assert_null(fx_registry_new(&cfg, err, sizeof err));
  cr_assert(strstr(err, "agr.example.com AGR: key"), "got: %s", err);
}

Test(registry, rate_limit_is_a_token_bucket_per_sender) {
  struct fx_keys_pair a;
  fx_keys_generate(&a);
  struct fx_participant_cfg ps[1];
  participant(&ps[0], "agr.example.com", FX_ROLE_AGR, &a, 5);
  struct fx_config cfg = {.participants = ps, .n_participants = 1};
  char err[256];
  struct fx_registry *r = fx_registry_new(&cfg, err, sizeof err);
  const struct fx_participant *p = fx_registry_find(r, "agr.example.com", FX_ROLE_AGR);
  int64_t t = 1000000000;
  int granted = 0;
  for (int i = 0; i < 20; i++)
    granted += fx_registry_rate_take(r, p, t);
  cr_assert_eq(granted, 5, "a burst of one second's worth");
  cr_assert(!fx_registry_rate_take(r, p, t + 100000), "0.1 s refills half a token");
  cr_assert(fx_registry_rate_take(r, p, t + 200000), "0.2 s refills one");
  fx_registry_unref(r);
}

Test(registry, an_empty_registry_finds_nobody) {
  struct fx_config cfg = {0};
  char err[64];
  struct fx_registry *r = fx_registry_new(&cfg, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  cr_assert_null(fx_registry_find(r, "agr.example.com", FX_ROLE_AGR));
  fx_registry_unref(r);
}
