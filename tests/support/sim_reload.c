/* sim_reload.c — configuration edits, log lines, SIGHUP and exchanges for the
 * tests over the real `flexd serve` (test_reload.c, test_reload_settle.c). */
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

const struct fx_msg *fx_sr_exchange(struct fx_sim *sim, fx_arena *a, struct fx_msg *m, enum fx_msg_type answer) {
  char id[FX_UUID_STRLEN];
  fx_sim_msg_id(m, id);
  cr_assert_eq(fx_sim_send_msg(sim, m), 200, "%s %s was not taken", fx_msg_type_name(m->type), id);
  const struct fx_msg *r = fx_sim_await(sim, answer, id, 20000, a);
  cr_assert_not_null(r, "no answer to %s %s", fx_msg_type_name(m->type), id);
  return r;
}

const char *fx_sr_outcome(struct fx_sim *sim, fx_arena *a, struct fx_msg *m, enum fx_msg_type answer) {
  const struct fx_msg *r = fx_sr_exchange(sim, a, m, answer);
  return r->result == FX_RESULT_ACCEPTED ? "" : r->rejection_reason ? r->rejection_reason : "?";
}

void fx_sr_populate_two_agrs(struct fx_sim *sim, fx_arena *a, const char *today, const char *cp, const char *c1,
                             const char *c2) {
  const char *const conns[] = {c1, c2};
  const struct fx_sim_cp cps[] = {{cp, conns, 2, true}};
  struct fx_msg m;
  fx_sim_dso_portfolio(&m, a, SIM_DSO, today, cps, 1);
  cr_assert_str_eq(fx_sr_outcome(sim, a, &m, FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE), "");
  fx_sim_agr_portfolio(&m, a, SIM_AGR, today, (const char *const[]){c1}, 1);
  cr_assert_str_eq(fx_sr_outcome(sim, a, &m, FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE), "");
  fx_sim_agr_portfolio(&m, a, SIM_AGR2, today, (const char *const[]){c2}, 1);
  cr_assert_str_eq(fx_sr_outcome(sim, a, &m, FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE), "");
}
