/* sim_reload.c — configuration edits, log lines and SIGHUP for the tests over
 * the real `flexd serve` (test_reload.c, test_reload_settle.c). */
#include "tests/support/sim_reload.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void fx_sr_edit(struct fx_sim *sim, const char *from, const char *to) {
  static char text[16384], out[16384];
  const char *path = fx_sim_config_path(sim);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *at = strstr(text, from);
  cr_assert_not_null(at, "'%s' is in the configuration", from);
  int len = snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  cr_assert(len > 0 && (size_t)len < sizeof out);
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  f = fopen(tmp, "w");
  cr_assert_not_null(f);
  cr_assert_eq(fputs(out, f) >= 0, 1);
  cr_assert_eq(fclose(f), 0);
  cr_assert_eq(rename(tmp, path), 0);
}

unsigned fx_sr_log_count(struct fx_sim *sim, const char *needle) {
  char path[256], line[8192];
  snprintf(path, sizeof path, "%s/flexd.log", fx_sim_dir(sim));
  FILE *f = fopen(path, "r");
  unsigned n = 0;
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  return n;
}

void fx_sr_log_until(struct fx_sim *sim, const char *needle, unsigned n) {
  for (int i = 0; i < 2000 && fx_sr_log_count(sim, needle) < n; i++)
    usleep(10000);
  cr_assert_eq(fx_sr_log_count(sim, needle), n, "the log says %u time(s): %s", n, needle);
}

void fx_sr_sighup_until(struct fx_sim *sim, const char *needle) {
  unsigned before = fx_sr_log_count(sim, needle);
  cr_assert_eq(kill(fx_sim_pid(sim), SIGHUP), 0);
  for (int i = 0; i < 2000 && fx_sr_log_count(sim, needle) == before; i++)
    usleep(10000);
  cr_assert_gt(fx_sr_log_count(sim, needle), before, "after SIGHUP the log says: %s", needle);
  cr_assert_eq(kill(fx_sim_pid(sim), 0), 0, "flexd is still running");
}
