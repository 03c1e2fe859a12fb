/* run.c — see run.h. */
#include "tests/support/run.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>

int fx_test_run_at(const char *binary, const char *args, char *out, size_t cap) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s %s 2>&1", binary, args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p, "cannot run %s", cmd);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
