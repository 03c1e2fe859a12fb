/* lmdb_used.c — LMDB's own use of data.mdb (lmdb_used.h). */
#include "tests/support/lmdb_used.h"

#include <criterion/criterion.h>
#include <lmdb.h>

uint64_t fx_lmdb_used_bytes(const char *dir) {
  MDB_env *env;
  MDB_envinfo info;
  MDB_stat ms;
  cr_assert_eq(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 16);
  cr_assert_eq(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
  cr_assert_eq(mdb_env_info(env, &info), 0);
  cr_assert_eq(mdb_env_stat(env, &ms), 0);
  mdb_env_close(env);
  return ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
}
