/* test_demo.c — the README's first command ends in `flexd demo`: it must run a
 * platform, show each exchange's real outcome, clean up and exit 0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

Test(demo, runs_a_platform_and_shows_real_outcomes, .timeout = 120) {
  static char out[1 << 16];
  FILE *p = popen(FLEXD_BINARY " demo 2>&1", "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int st = pclose(p);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "demo failed:\n%s", out);
  cr_assert(strstr(out, "TestMessageResponse (signed by flexd.example.org)"), "%s", out);
  cr_assert(strstr(out, "FlexOfferResponse Rejected: Already Submitted"), "%s", out);
  cr_assert(strstr(out, "FlexOfferResponse Rejected: ISP conflict"), "%s", out);
  cr_assert(strstr(out, "HTTP 401"), "%s", out);
  cr_assert(strstr(out, "temporary directory removed"), "%s", out);
}
