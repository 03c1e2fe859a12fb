/* lmdb_used.h — how much of a store's data.mdb LMDB itself uses, read with
 * raw LMDB while the store is closed: the preallocation tests compare the
 * file's size with it (zeros ahead of use, never past the map). */
#ifndef FX_TESTS_LMDB_USED_H
#define FX_TESTS_LMDB_USED_H

#include <stdint.h>

/* Bytes up to and including LMDB's last page in the environment at `dir`. */
uint64_t fx_lmdb_used_bytes(const char *dir);

#endif
