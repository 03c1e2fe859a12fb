/* cpu.c — process and thread CPU accounting for the bench reports (see cpu.h). */
#include "bench/harness/cpu.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int fx_cpu_parse_stat(const char *text, uint64_t *utime_ticks, uint64_t *stime_ticks) {
  /* "pid (comm) state ppid ...": comm is free text, so start after its LAST ')'. */
  const char *p = strrchr(text, ')');
  if (p == NULL) return -1;
  /* After ')' come fields 3 (state) .. ; utime and stime are fields 14 and 15. */
  char state;
  uint64_t skip, ut, st;
  int n = sscanf(p + 1,
                 " %c %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
                 &state, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip,
                 &ut, &st);
  if (n != 13) return -1;
  *utime_ticks = ut;
  *stime_ticks = st;
  return 0;
}

int fx_cpu_process_ns(pid_t pid, uint64_t *ns) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  uint64_t ut, st;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0 || fx_cpu_parse_stat(buf, &ut, &st) != 0) return -1;
  *ns = (ut + st) * (UINT64_C(1000000000) / (uint64_t)hz);
  return 0;
}

/* The file at `path` into buf (NUL-terminated); its length, or -1. */
static long read_small(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (long)n;
}

/* One thread; 0 when read (a thread that exits meanwhile is skipped). */
static int thread_read(pid_t pid, long tid, uint64_t tick_ns, struct fx_cpu_thread *t) {
  char path[96], buf[1024];
  uint64_t ut, st;
  snprintf(path, sizeof path, "/proc/%ld/task/%ld/stat", (long)pid, tid);
  if (read_small(path, buf, sizeof buf) < 0 || fx_cpu_parse_stat(buf, &ut, &st) != 0) return -1;
  t->tid = tid;
  t->user_ns = ut * tick_ns;
  t->sys_ns = st * tick_ns;
  snprintf(path, sizeof path, "/proc/%ld/task/%ld/comm", (long)pid, tid);
  if (read_small(path, buf, sizeof buf) < 0) buf[0] = '\0';
  /* comm is at most 15 characters; cut to the name's size without snprintf, whose
   * truncation gcc's -Wformat-truncation flags at -O3. */
  size_t n = strcspn(buf, "\n");
  if (n >= sizeof t->name) n = sizeof t->name - 1;
  memcpy(t->name, buf, n);
  t->name[n] = '\0';
  return 0;
}

static int by_tid(const void *a, const void *b) {
  long x = ((const struct fx_cpu_thread *)a)->tid, y = ((const struct fx_cpu_thread *)b)->tid;
  return (x > y) - (x < y);
}

int fx_cpu_threads_read(pid_t pid, struct fx_cpu_threads *out) {
  char path[64];
  long hz = sysconf(_SC_CLK_TCK);
  out->n = 0;
  snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
  DIR *d = opendir(path);
  if (d == NULL || hz <= 0) {
    if (d) closedir(d);
    return -1;
  }
  uint64_t tick_ns = UINT64_C(1000000000) / (uint64_t)hz;
  for (struct dirent *e; (e = readdir(d)) != NULL && out->n < FX_CPU_THREADS;) {
    char *end;
    long tid = strtol(e->d_name, &end, 10);
    if (*end == '\0' && tid > 0 && thread_read(pid, tid, tick_ns, &out->t[out->n]) == 0) out->n++;
  }
  closedir(d);
  qsort(out->t, out->n, sizeof out->t[0], by_tid);
  return 0;
}

static uint64_t tv_ns(struct timeval tv) {
  return (uint64_t)tv.tv_sec * UINT64_C(1000000000) + (uint64_t)tv.tv_usec * 1000;
}

int fx_cpu_self_ns(uint64_t *ns) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  *ns = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
  return 0;
}

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

uint64_t fx_cpu_thread_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

uint64_t fx_cpu_wall_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
