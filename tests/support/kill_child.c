/* kill_child.c — fork a writer, kill it, read what it acknowledged (kill_child.h). */
#include "tests/support/kill_child.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t fx_kill_child_run(fx_kill_child_fn child, const char *dir, uint64_t first, long ms) {
  int p[2];
  cr_assert_eq(pipe(p), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(p[0]);
    child(dir, p[1], first);
    _exit(0);
  }
  close(p[1]);
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  kill(pid, SIGKILL);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFSIGNALED(status), "child ended by itself (status %d) before the kill", status);
  int64_t last = (int64_t)first - 1;
  uint64_t n;
  while (read(p[0], &n, sizeof n) == sizeof n) {
    cr_assert_eq((int64_t)n, last + 1, "reports come in commit order");
    last = (int64_t)n;
  }
  close(p[0]);
  return last;
}
