/* test_clear_memory.c — the memory settings a clearing process runs with
 * (round 15): fx_clear_keep_memory (glibc's malloc: memory a clearing frees
 * is reused by the next one without page faults), and the transparent huge
 * pages flexd asks of jemalloc, its allocator, and that the clearing bench
 * runs on the same allocator with the same settings (round 16).
 *
 * A clearing of 1,000 offers frees about 10 MB, much of it in blocks above
 * glibc's default mmap threshold; without the setting every clearing faults
 * those pages in again. The check is the contract itself, in a child process
 * each (the setting is process-wide): a block of a clearing's size, touched,
 * freed and taken again, faults again without the setting and not with it.
 * Sanitizer builds replace malloc, so the check is skipped there. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/clear.h"
#include "tests/support/run.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#if defined(SANITIZED) || !defined(__GLIBC__)
Test(clear_memory, freed_blocks_are_reused_without_faults) {
  cr_skip_test("needs glibc's own malloc (sanitizers replace it)");
}
#else
#define BLOCK (8u << 20)

/* Writes every page; volatile, so the compiler keeps stores that a free
 * follows. */
static void touch(char *p, size_t n) {
  volatile char *v = p;
  for (size_t i = 0; i < n; i += 4096)
    v[i] = 1;
}

static long minflt(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

/* Page faults taken by the second use of a BLOCK-sized buffer, in a child
 * process that calls fx_clear_keep_memory first when keep; -1 on failure. */
static long second_use_faults(bool keep) {
  int fd[2];
  if (pipe(fd) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    long n = -1;
    if (!keep || fx_clear_keep_memory() == 0) {
      char *a = malloc(BLOCK);
      if (a) {
        touch(a, BLOCK);
        free(a);
        long f0 = minflt();
        char *b = malloc(BLOCK);
        if (b) {
          touch(b, BLOCK);
          n = minflt() - f0;
          free(b);
        }
      }
    }
    _exit(write(fd[1], &n, sizeof n) == sizeof n ? 0 : 1);
  }
  close(fd[1]);
  long n = -1;
  if (pid < 0 || read(fd[0], &n, sizeof n) != sizeof n)
    n = -1;
  close(fd[0]);
  if (pid > 0)
    waitpid(pid, NULL, 0);
  return n;
}

Test(clear_memory, freed_blocks_are_reused_without_faults) {
  long without = second_use_faults(false), with = second_use_faults(true);
  cr_assert_geq(without, 0);
  cr_assert_geq(with, 0);
  /* 8 MB is 2,048 pages: glibc's defaults give them back and fault them in
   * again; kept, the block is reused as it is. */
  cr_expect_gt(without, 1000, "without the setting the block faults again (%ld)", without);
  cr_expect_lt(with, 50, "kept, the second use faults %ld pages", with);
}
#endif

/* flexd's main sets jemalloc's malloc_conf; jemalloc confirms each setting
 * it takes when asked to (confirm_conf). A flexd built without jemalloc
 * (sanitizer builds, or jemalloc not installed) has nothing to check. */
Test(clear_memory, flexd_asks_jemalloc_for_huge_pages) {
  setenv("MALLOC_CONF", "confirm_conf:true", 1);
  char out[8192];
  cr_assert_eq(fx_test_run("version", out, sizeof out), 0);
  if (!strstr(out, "<jemalloc>"))
    cr_skip_test("flexd is built without jemalloc");
  cr_expect(strstr(out, "Set conf value: thp:always"), "jemalloc said:\n%s", out);
}

/* The bench measures what flexd runs: the same allocator and settings
 * (engine/malloc_conf.c, linked into both). Without it the bench's figures
 * would be glibc's malloc's, as they were until round 16. */
Test(clear_memory, the_bench_runs_on_flexds_allocator) {
  char flexd[8192], bench[8192];
  setenv("MALLOC_CONF", "confirm_conf:true", 1);
  cr_assert_eq(fx_test_run("version", flexd, sizeof flexd), 0);
  setenv("BB_SIZE", "10", 1);
  setenv("BB_ONE", "1", 1);
  cr_assert_eq(fx_test_run_at(FLEXD_BENCH_CLEAR, "", bench, sizeof bench), 0, "%s", bench);
  bool jemalloc = strstr(flexd, "<jemalloc>") != NULL;
  cr_expect_eq(strstr(bench, "<jemalloc>") != NULL, jemalloc, "flexd:\n%s\nbench:\n%s", flexd, bench);
  if (jemalloc)
    cr_expect(strstr(bench, "Set conf value: thp:always"), "bench said:\n%s", bench);
}
