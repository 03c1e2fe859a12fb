/* run.h — running the real flexd binary from a test: its merged stdout and
 * stderr into a buffer, its exit status back (-1 when it did not exit). */
#ifndef FX_TEST_RUN_H
#define FX_TEST_RUN_H

#include <stddef.h>

int fx_test_run_at(const char *binary, const char *args, char *out, size_t cap);

#ifdef FLEXD_BINARY
static inline int fx_test_run(const char *args, char *out, size_t cap) {
  return fx_test_run_at(FLEXD_BINARY, args, out, cap);
}
#endif

#endif
