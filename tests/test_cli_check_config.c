/* test_cli_check_config.c — `flexd check-config` finds what serve would refuse. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/support/run.h"

static char dir[] = "/tmp/flexd-cc-XXXXXX";


static void write_config(const char *tz, const char *endpoint) {
  char path[128];
  snprintf(path, sizeof path, "%s/flexd.conf", dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "[platform]\ndomain = flexd.example.org\nplain_http = true\nkey.DSO = %s/dso.key\n[market]\ntime_zone = %s\n",
          dir, tz);
  /* a participant with the platform's own public key is fine for the check */
  fprintf(f, "[participant agr.example.com AGR]\nkey = %s\nendpoint = %s\n", getenv("CC_KEY"), endpoint);
  cr_assert_eq(fclose(f), 0);
}

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  char out[1024], args[256];
  snprintf(args, sizeof args, "keygen -o %s/dso.key", dir);
  cr_assert_eq(fx_test_run(args, out, sizeof out), 0, "%s", out);
  char *key = strstr(out, "cs1.");
  cr_assert_not_null(key, "keygen printed: %s", out);
  key[strcspn(key, "\n")] = 0;
  setenv("CC_KEY", key, 1);
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(check_config, .init = setup, .fini = teardown);

Test(check_config, a_good_configuration_passes) {
  write_config("Europe/Amsterdam", "https://agr.example.com/shapeshifter/api/v3/message");
  char out[4096], args[256];
  snprintf(args, sizeof args, "check-config %s/flexd.conf", dir);
  cr_assert_eq(fx_test_run(args, out, sizeof out), 0, "%s", out);
  cr_assert(strstr(out, "ok: key.DSO cs1."), "%s", out);
  cr_assert(strstr(out, "0 problem(s)"), "%s", out);
}

Test(check_config, a_readable_secret_key_is_a_problem) {
  write_config("Europe/Amsterdam", "https://agr.example.com/x");
  char path[128], out[4096], args[256];
  snprintf(path, sizeof path, "%s/dso.key", dir);
  cr_assert_eq(chmod(path, 0644), 0);
  snprintf(args, sizeof args, "check-config %s/flexd.conf", dir);
  cr_assert_eq(fx_test_run(args, out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, "problem: key.DSO"), "%s", out);
  cr_assert(strstr(out, "chmod 600"), "%s", out);
}

Test(check_config, bad_time_zone_and_endpoint_are_problems) {
  write_config("Europe/Atlantis", "ftp://agr.example.com/");
  char out[4096], args[256];
  snprintf(args, sizeof args, "check-config %s/flexd.conf", dir);
  cr_assert_eq(fx_test_run(args, out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, "time_zone 'Europe/Atlantis'"), "%s", out);
  cr_assert(strstr(out, "is not an http(s) URL"), "%s", out);
  cr_assert(strstr(out, "2 problem(s)"), "%s", out);
}

Test(check_config, the_shipped_sample_parses) {
  char out[4096];
  cr_assert_neq(fx_test_run("check-config " FLEXD_SOURCE_DIR "/dist/flexd.conf.example", out, sizeof out), 2);
  cr_assert(!strstr(out, "line "), "the sample has a syntax error: %s", out);
  cr_assert(strstr(out, "problem: participant dso.example.com DSO: key"), "placeholder keys are reported: %s", out);
}

Test(check_config, no_tls_without_plain_http_is_a_problem) {
  char path[128], out[4096], args[256];
  snprintf(path, sizeof path, "%s/notls.conf", dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "[platform]\ndomain = flexd.example.org\nkey.DSO = %s/dso.key\n", dir);
  fclose(f);
  snprintf(args, sizeof args, "check-config %s", path);
  cr_assert_eq(fx_test_run(args, out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, "serve refuses to start"), "%s", out);
}
