/* test_demo.c — the README's first command ends in `flexd demo`: a whole
 * market day on loopback that must reach its real outcomes (every step
 * accepted but the one offer meant to be refused, both markets cleared to
 * their optimum, every order delivered and accepted, as the platform's query
 * API reports them), clean up and exit 0; with --keep the platform stays up. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[1 << 17];

static int run_demo(const char *args) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s demo %s 2>&1", FLEXD_BINARY, args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned count(const char *needle) {
  unsigned n = 0;
  for (const char *s = out; (s = strstr(s, needle)); s += strlen(needle))
    n++;
  return n;
}

/* The value printed after `label` (up to the end of the line) into buf. */
static const char *after(const char *label, char *buf, size_t cap) {
  const char *s = strstr(out, label);
  cr_assert_not_null(s, "no \"%s\" in:\n%s", label, out);
  s += strlen(label);
  size_t n = strcspn(s, " \n");
  snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
  return buf;
}

Test(demo, a_market_day_reaches_its_real_outcomes, .timeout = 120) {
  cr_assert_eq(run_demo(""), 0, "demo failed:\n%s", out);
  /* Every message but one accepted; the one refused for its own reason. */
  cr_assert_eq(count("Rejected"), 2, "one FlexOfferResponse, printed at the exchange and in the report:\n%s", out);
  cr_assert_eq(count("Rejected: Request mismatch"), 2, "%s", out);
  cr_assert_eq(count("FlexRequestResponse Accepted, HTTP 200"), 4, "4 broadcast copies answered:\n%s", out);
  cr_assert_eq(count("2 FlexOrder(s) placed"), 2, "%s", out);
  cr_assert_eq(count("FlexOrderResponse Accepted, HTTP 200"), 4, "%s", out);
  /* North: need 120/200/100 kW down; offers full (-200 kW, EUR 200) or peak
   * (-200 kW at 71-74, EUR 70), flex (-300 kW, EUR 300, from 30 %), a revoked
   * EUR 50 one. Cheapest full cover: peak + flex at 40 % (120 kW) = EUR 190
   * (full alone 200, flex alone at 67 % 201). */
  cr_assert(strstr(out, "option peak   at 100 %: -200 kW ISPs 71-74 for EUR 70, accepted"), "%s", out);
  cr_assert(strstr(out, "option flex   at  40 %: -120 kW ISPs 69-76 for EUR 120, accepted"), "%s", out);
  cr_assert(strstr(out, "need 1240 kW·ISP, covered 1240, residual 0, cost EUR 190\n"), "%s", out);
  cr_assert(strstr(out, "-200     -320  #"), "the chart shows ISP 71 need vs ordered:\n%s", out);
  /* South: 100 kW up; solar 80 kW for EUR 40 plus boiler at 14 % (21 kW,
   * EUR 12.6) = 52.6 beats boiler alone at 67 % (EUR 60.3). */
  cr_assert(strstr(out, "option solar  at 100 %: +80 kW ISPs 45-52 for EUR 40, accepted"), "%s", out);
  cr_assert(strstr(out, "option boiler at  14 %: +21 kW ISPs 45-52 for EUR 12.6, accepted"), "%s", out);
  cr_assert(strstr(out, "need 800 kW·ISP, covered 800, residual 0, cost EUR 52.6\n"), "%s", out);
  /* Offer states as the query API reports them. */
  cr_assert_eq(count(" ordered  (FlexOfferResponse Accepted)"), 4, "%s", out);
  cr_assert_eq(count(" revoked  (FlexOfferResponse Accepted)"), 1, "%s", out);
  cr_assert(strstr(out, "/metrics") && strstr(out, "/api/markets") && strstr(out, "[participant "), "%s", out);
  cr_assert(strstr(out, "temporary directory removed"), "%s", out);
  char dir[256];
  after("store, keys, log: ", dir, sizeof dir);
  struct stat sb;
  cr_assert_neq(stat(dir, &sb), 0, "%s is gone", dir);
}

/* A GET on loopback; the HTTP status, the body in body[]. */
static int http_get(int port, const char *path, char *body, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  cr_assert_eq(write(fd, req, (size_t)n), n);
  size_t got = 0;
  ssize_t k;
  while (got < cap - 1 && (k = read(fd, body + got, cap - 1 - got)) > 0)
    got += (size_t)k;
  body[got] = 0;
  close(fd);
  int status = 0;
  sscanf(body, "HTTP/1.1 %d", &status);
  return status;
}

Test(demo, keep_leaves_the_platform_running, .timeout = 120) {
  int rc = run_demo("--keep");
  char dir[256], pid_s[32], url[256], body[1 << 14];
  after("store, keys, log: ", dir, sizeof dir);
  after("Stop it with: kill ", pid_s, sizeof pid_s);
  pid_t pid = (pid_t)atoi(pid_s);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert_gt(pid, 0);
  after("query API   http://127.0.0.1:", url, sizeof url);
  int port = atoi(url);
  int status = http_get(port, "/api/markets", body, sizeof body);
  bool two_cleared = strstr(body, "\"cleared\"") && strstr(strstr(body, "\"cleared\"") + 1, "\"cleared\"");
  /* Stop it before judging, so a failure leaves nothing behind. */
  kill(pid, SIGTERM);
  for (int i = 0; i < 1000 && kill(pid, 0) == 0; i++) { /* up to 10 s; init reaps it */
    char stat_path[64], st[256] = "";
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(stat_path, "r");
    if (f) {
      if (!fgets(st, sizeof st, f))
        st[0] = 0;
      fclose(f);
    }
    if (strstr(st, ") Z "))
      break; /* a zombie: it has exited */
    usleep(10000);
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(status, 200, "the query API answers after the demo exited:\n%s", body);
  cr_assert(two_cleared, "both markets are there, cleared:\n%s", body);
}
