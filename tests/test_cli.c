/* test_cli.c — the flexd binary's command dispatch. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int run(const char *args, char *out, size_t cap) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s %s 2>&1", FLEXD_BINARY, args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli, version_prints_uftp_version) {
  char out[256];
  cr_assert_eq(run("version", out, sizeof out), 0);
  cr_assert(strstr(out, "UFTP 3.1.0") != NULL, "got: %s", out);
}

Test(cli, unknown_command_is_usage_error) {
  char out[1024];
  cr_assert_eq(run("no-such-command", out, sizeof out), 2);
  cr_assert(strstr(out, "unknown command") != NULL, "got: %s", out);
}
