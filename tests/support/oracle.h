/* oracle.h — the test oracle: the official UFTP 3.1.0 XSDs, loaded with libxml2.
 *
 * Every conformance test judges flexd against the schemas published with the
 * specification (../shared/uftp-spec/xsd-3.1.0/), never against our own reading
 * of them. This header is what the criterion suites use to find those schemas,
 * to skip (or, under CI=true, fail) when they are absent, and to ask "is this
 * document XSD-valid, and if not, what does libxml2 say first?".
 *
 * The compiled-in FLEXD_SHARED_DIR is only defined for test executables, not for
 * the support library, so the entry points that depend on it are inline here and
 * pass it down to the functions of oracle.c that take it as a parameter.
 */
#ifndef FLEXD_TESTS_SUPPORT_ORACLE_H
#define FLEXD_TESTS_SUPPORT_ORACLE_H

#include <stddef.h>

#ifdef FLEXD_SHARED_DIR
#define FX_TEST_COMPILED_SHARED_DIR FLEXD_SHARED_DIR
#else
#define FX_TEST_COMPILED_SHARED_DIR NULL
#endif

/* Largest file fx_test_read_file() reads; the corpus' biggest file is ~100 kB. */
#define FX_TEST_MAX_FILE (16u * 1024 * 1024)

struct fx_oracle;

/* The shared directory: $FLEXD_SHARED_DIR when set and non-empty, else
 * `compiled`. NULL when that directory has no uftp-spec/xsd-3.1.0/ schemas. */
const char *fx_test_shared_dir_at(const char *compiled);

/* Skips the calling criterion test when the schemas are missing (saying where it
 * looked); fails it instead when the environment has CI=true. */
void fx_test_require_shared_at(const char *compiled);

/* Loads every 3.1.0 message element (all five XSDs under one root) once. No
 * network access. NULL on failure, with libxml2's first error in `why`. */
struct fx_oracle *fx_oracle_load_from(const char *shared_dir, char *why, size_t n);
void fx_oracle_free(struct fx_oracle *o);

/* 0 when `xml` is well-formed, has no DOCTYPE and is valid against the XSDs;
 * else -1 with the first error ("line N: message") in `why` (may be NULL). The
 * oracle is read-only after loading: concurrent calls are safe. */
int fx_oracle_validate(const struct fx_oracle *o, const char *xml, size_t len, char *why,
                       size_t n);

/* The whole file, NUL-terminated, malloc'd (caller frees); NULL when it cannot
 * be read or is larger than FX_TEST_MAX_FILE. `len` (optional) gets the size. */
char *fx_test_read_file(const char *path, size_t *len);

static inline const char *fx_test_shared_dir(void) {
  return fx_test_shared_dir_at(FX_TEST_COMPILED_SHARED_DIR);
}

static inline void fx_test_require_shared(void) {
  fx_test_require_shared_at(FX_TEST_COMPILED_SHARED_DIR);
}

static inline struct fx_oracle *fx_oracle_load(void) {
  return fx_oracle_load_from(fx_test_shared_dir(), NULL, 0);
}

#endif
