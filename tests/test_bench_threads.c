/* test_bench_threads.c — the bench's per-thread CPU accounting
 * (fx_cpu_threads_read): a named thread that burns CPU is found under its
 * name with that time, in tid order after the main thread, and a process
 * that does not exist is an error. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness/cpu.h"

#define MS UINT64_C(1000000)

struct burner {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int burned, quit;
  uint64_t sum; /* the burned loop's result, so it cannot be optimised away */
};

/* Burns 200 ms of its own CPU (bounded by a count too), says so, and waits to
 * be told to exit: it must still be alive when its time is read. */
static void *burn(void *arg) {
  struct burner *b = arg;
  pthread_setname_np(pthread_self(), "p3-burner");
  uint64_t x = 0;
  uint64_t t0 = fx_cpu_thread_ns();
  for (long i = 0; i < 4000000000L && fx_cpu_thread_ns() - t0 < 200 * MS; i++) x += (uint64_t)i;
  pthread_mutex_lock(&b->mu);
  b->sum = x;
  b->burned = 1;
  pthread_cond_signal(&b->cv);
  while (!b->quit) pthread_cond_wait(&b->cv, &b->mu);
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

static const struct fx_cpu_thread *named(const struct fx_cpu_threads *t, const char *name) {
  for (unsigned i = 0; i < t->n; i++)
    if (strcmp(t->t[i].name, name) == 0) return &t->t[i];
  return NULL;
}

Test(bench_threads, a_busy_thread_is_found_by_name_with_its_cpu_time) {
  struct burner b = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  struct fx_cpu_threads before, after;
  cr_assert_eq(fx_cpu_threads_read(getpid(), &before), 0);
  cr_assert_null(named(&before, "p3-burner"));
  cr_assert_eq(pthread_create(&b.th, NULL, burn, &b), 0);
  pthread_mutex_lock(&b.mu);
  while (!b.burned) pthread_cond_wait(&b.cv, &b.mu);
  pthread_mutex_unlock(&b.mu);

  cr_assert_eq(fx_cpu_threads_read(getpid(), &after), 0);
  const struct fx_cpu_thread *t = named(&after, "p3-burner");
  cr_assert_not_null(t, "the burner is listed");
  /* clock ticks are 10 ms: allow two of rounding */
  cr_assert_geq(t->user_ns + t->sys_ns, 180 * MS, "saw %llu ns", (unsigned long long)(t->user_ns + t->sys_ns));
  cr_assert_eq(after.t[0].tid, (long)getpid(), "the main thread comes first");
  for (unsigned i = 1; i < after.n; i++) cr_assert_gt(after.t[i].tid, after.t[i - 1].tid);

  pthread_mutex_lock(&b.mu);
  b.quit = 1;
  pthread_cond_signal(&b.cv);
  pthread_mutex_unlock(&b.mu);
  pthread_join(b.th, NULL);
}

Test(bench_threads, a_missing_process_is_an_error) {
  struct fx_cpu_threads t;
  cr_assert_eq(fx_cpu_threads_read(2147483647, &t), -1);
  cr_assert_eq(t.n, 0);
}
