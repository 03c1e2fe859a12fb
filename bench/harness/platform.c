/* platform.c — keys, configuration and the life of a spawned `flexd serve` (see
 * platform.h). */
#define _GNU_SOURCE /* nftw's FTW_DEPTH and FTW_PHYS */
#include "bench/harness/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PLATFORM_DOMAIN "flexd.bench.test"
#define START_POLLS 1000 /* × 10 ms = 10 s */
#define STOP_POLLS 3000  /* × 10 ms = 30 s */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void path_in(const struct fx_bench_platform *p, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", p->dir, name);
}

/* ---- keys and configuration ------------------------------------------------- */

static int write_platform_keys(struct fx_bench_platform *p, char *err, size_t errlen) {
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/platform-%s.key", p->dir, fx_role_name((enum fx_role)r));
    if (fx_keys_generate(&p->keys[r]) != 0 ||
        fx_keys_file_write(path, &p->keys[r], 0, why, sizeof why) != 0) {
      snprintf(err, errlen, "platform key %s: %s", path, why);
      return -1;
    }
  }
  return 0;
}

static int make_parties(struct fx_bench_platform *p, unsigned n, char *err, size_t errlen) {
  snprintf(p->dso.domain, sizeof p->dso.domain, "dso.bench.test");
  p->dso.role = FX_ROLE_DSO;
  if (fx_keys_generate(&p->dso.kp) != 0) {
    snprintf(err, errlen, "cannot generate DSO keys");
    return -1;
  }
  p->agrs = calloc(n, sizeof *p->agrs);
  if (p->agrs == NULL) {
    snprintf(err, errlen, "out of memory for %u AGRs", n);
    return -1;
  }
  p->n_agrs = n;
  for (unsigned i = 0; i < n; i++) {
    snprintf(p->agrs[i].domain, sizeof p->agrs[i].domain, "agr%04u.bench.test", i);
    p->agrs[i].role = FX_ROLE_AGR;
    if (fx_keys_generate(&p->agrs[i].kp) != 0) {
      snprintf(err, errlen, "cannot generate AGR keys");
      return -1;
    }
  }
  return 0;
}

static void write_platform_section(FILE *f, const struct fx_bench_platform *p,
                                   const struct fx_bench_platform_cfg *cfg) {
  fprintf(f,
          "[platform]\ndomain = %s\nlisten = 127.0.0.1:0\nmetrics = 127.0.0.1:0\n"
          "store = %s/store\nworkers = %u\nstore_nosync = %s\nplain_http = true\n",
          p->domain, p->dir, cfg->workers, cfg->nosync ? "true" : "false");
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    fprintf(f, "key.%s = %s/platform-%s.key\n", fx_role_name((enum fx_role)r), p->dir,
            fx_role_name((enum fx_role)r));
  fprintf(f, "[market]\ntime_zone = Europe/Amsterdam\nisp_duration = PT15M\ncurrency = EUR\n");
}

static void write_participant(FILE *f, const struct fx_bench_party *who, int sink_port) {
  char cs1[FX_KEYS_CS1_LEN + 1];
  fx_keys_cs1_format(&who->kp.pub, cs1);
  fprintf(f, "[participant %s %s]\nkey = %s\nendpoint = http://127.0.0.1:%d/shapeshifter/api/v3/message\n",
          who->domain, fx_role_name(who->role), cs1, sink_port);
}

static int write_config(const struct fx_bench_platform *p, const struct fx_bench_platform_cfg *cfg,
                        char *err, size_t errlen) {
  char path[128];
  path_in(p, "flexd.conf", path, sizeof path);
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  write_platform_section(f, p, cfg);
  write_participant(f, &p->dso, cfg->sink_port);
  for (unsigned i = 0; i < p->n_agrs; i++) write_participant(f, &p->agrs[i], cfg->sink_port);
  if (fclose(f) != 0) {
    snprintf(err, errlen, "cannot write %s", path);
    return -1;
  }
  return 0;
}

/* ---- the process ---------------------------------------------------------------- */

/* In the child: stderr and stdout to the log, die with the parent, become flexd. */
static void exec_flexd(const struct fx_bench_platform *p, const char *binary, pid_t parent) {
  char log[128], config[128], ports[128];
  path_in(p, "flexd.log", log, sizeof log);
  path_in(p, "flexd.conf", config, sizeof config);
  path_in(p, "ports", ports, sizeof ports);
  int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(126);
  execl(binary, "flexd", "serve", "--config", config, "--port-file", ports, (char *)NULL);
  fprintf(stderr, "flexd-bench: cannot run %s: %s\n", binary, strerror(errno));
  _exit(127);
}

/* The last `cap`-1 bytes of flexd's log, for an error message. */
static void log_tail(const struct fx_bench_platform *p, char *out, size_t cap) {
  char path[128];
  path_in(p, "flexd.log", path, sizeof path);
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL) return;
  if (fseek(f, 0, SEEK_END) == 0) {
    long end = ftell(f);
    long from = end > (long)cap - 1 ? end - (long)cap + 1 : 0;
    if (fseek(f, from, SEEK_SET) == 0) out[fread(out, 1, cap - 1, f)] = '\0';
  }
  fclose(f);
  for (char *c = out; *c; c++)
    if (*c == '\n') *c = ' ';
}

static int read_ports(struct fx_bench_platform *p) {
  char path[128];
  path_in(p, "ports", path, sizeof path);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  int n = fscanf(f, "%d %d", &p->port, &p->metrics_port);
  fclose(f);
  return n == 2 && p->port > 0 ? 0 : -1;
}

static int wait_listening(struct fx_bench_platform *p, char *err, size_t errlen) {
  for (int i = 0; i < START_POLLS; i++) {
    if (read_ports(p) == 0) return 0;
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
      p->pid = 0;
      char tail[160];
      log_tail(p, tail, sizeof tail);
      snprintf(err, errlen, "flexd exited at start-up (status %d): %s",
               WIFEXITED(st) ? WEXITSTATUS(st) : -1, tail);
      return -1;
    }
    sleep_ms(10);
  }
  snprintf(err, errlen, "flexd did not listen within 10 s (log in %s)", p->dir);
  return -1;
}

static int spawn(struct fx_bench_platform *p, const char *binary, char *err, size_t errlen) {
  if (access(binary, X_OK) != 0) {
    snprintf(err, errlen, "no flexd binary at %s (use --flexd PATH)", binary);
    return -1;
  }
  fflush(NULL); /* nothing buffered twice */
  pid_t parent = getpid();
  p->pid = fork();
  if (p->pid < 0) {
    p->pid = 0;
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return -1;
  }
  if (p->pid == 0) exec_flexd(p, binary, parent);
  return wait_listening(p, err, errlen);
}

int fx_bench_platform_start(struct fx_bench_platform **out, const struct fx_bench_platform_cfg *cfg,
                            char *err, size_t errlen) {
  *out = NULL;
  struct fx_bench_platform *p = calloc(1, sizeof *p);
  if (p == NULL || cfg->n_agrs == 0) {
    snprintf(err, errlen, p ? "no AGRs" : "out of memory");
    free(p);
    return -1;
  }
  p->keep = cfg->keep;
  snprintf(p->domain, sizeof p->domain, "%s", PLATFORM_DOMAIN);
  snprintf(p->dir, sizeof p->dir, "/tmp/flexd-bench-XXXXXX");
  if (mkdtemp(p->dir) == NULL) {
    snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
    p->dir[0] = '\0';
    fx_bench_platform_free(p);
    return -1;
  }
  if (write_platform_keys(p, err, errlen) != 0 || make_parties(p, cfg->n_agrs, err, errlen) != 0 ||
      write_config(p, cfg, err, errlen) != 0 || spawn(p, cfg->flexd, err, errlen) != 0) {
    fx_bench_platform_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

int fx_bench_platform_stop(struct fx_bench_platform *p) {
  if (p == NULL || p->pid <= 0) return -1;
  kill(p->pid, SIGTERM);
  int st = 0;
  for (int i = 0; i < STOP_POLLS; i++) {
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
      p->pid = 0;
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    sleep_ms(10);
  }
  kill(p->pid, SIGKILL);
  waitpid(p->pid, &st, 0);
  p->pid = 0;
  return -1;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path) == 0 ? 0 : -1;
}

void fx_bench_platform_free(struct fx_bench_platform *p) {
  if (p == NULL) return;
  if (p->pid > 0) fx_bench_platform_stop(p);
  if (p->dir[0] && !p->keep && nftw(p->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
    fprintf(stderr, "flexd-bench: could not remove %s\n", p->dir);
  if (p->dir[0] && p->keep) fprintf(stderr, "flexd-bench: flexd's directory kept: %s\n", p->dir);
  for (int r = 0; r < FX_ROLE_COUNT; r++) fx_keys_wipe(&p->keys[r]);
  fx_keys_wipe(&p->dso.kp);
  for (unsigned i = 0; i < p->n_agrs; i++) fx_keys_wipe(&p->agrs[i].kp);
  free(p->agrs);
  free(p);
}
