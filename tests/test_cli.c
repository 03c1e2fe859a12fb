/* test_cli.c — the flexd binary's command dispatch. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/support/run.h"


Test(cli, version_prints_uftp_version) {
  char out[256];
  cr_assert_eq(fx_test_run("version", out, sizeof out), 0);
  cr_assert(strstr(out, "UFTP 3.1.0") != NULL, "got: %s", out);
}

Test(cli, unknown_command_is_usage_error) {
  char out[1024];
  cr_assert_eq(fx_test_run("no-such-command", out, sizeof out), 2);
  cr_assert(strstr(out, "unknown command") != NULL, "got: %s", out);
}
