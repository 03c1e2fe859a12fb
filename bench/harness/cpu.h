/* cpu.h — CPU time spent by the platform under test and by the harness itself.
 *
 * The platform's comes from the kernel's accounting of its process
 * (/proc/<pid>/stat utime + stime, in clock ticks, usually 10 ms each), so it covers
 * every thread and needs no cooperation from flexd; the harness's comes from
 * getrusage(RUSAGE_SELF). Both are sampled at the start and the end of the measured
 * window and divided by the messages answered in it. */
#ifndef FX_BENCH_CPU_H
#define FX_BENCH_CPU_H

#include <stdint.h>
#include <sys/types.h>

/* utime+stime of process `pid` in ns; -1 when it cannot be read (no such process). */
int fx_cpu_process_ns(pid_t pid, uint64_t *ns);

/* user+system CPU time of this process (all threads) in ns; -1 on failure. */
int fx_cpu_self_ns(uint64_t *ns);

/* CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID). */
uint64_t fx_cpu_thread_ns(void);

/* Monotonic wall clock in ns (CLOCK_MONOTONIC). */
uint64_t fx_cpu_wall_ns(void);

/* Per-thread CPU of a process, from /proc/<pid>/task/<tid>/stat and comm:
 * where the platform's time goes (loop, workers, sequencer) without a
 * profiler. At most FX_CPU_THREADS threads, in ascending tid order (the first
 * is the main thread). */
#define FX_CPU_THREADS 16
struct fx_cpu_thread {
  long tid;
  char name[16];
  uint64_t user_ns, sys_ns;
};
struct fx_cpu_threads {
  unsigned n;
  struct fx_cpu_thread t[FX_CPU_THREADS];
};
/* 0, or -1 when the process's task directory cannot be read. */
int fx_cpu_threads_read(pid_t pid, struct fx_cpu_threads *out);

/* Parses the text of a /proc/<pid>/stat file; exposed for tests because the command
 * name (field 2) may itself contain spaces and parentheses. */
int fx_cpu_parse_stat(const char *text, uint64_t *utime_ticks, uint64_t *stime_ticks);

#endif
