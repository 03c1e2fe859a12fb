/* kill_child.h — a writer process killed at a random moment (the crash tests).
 *
 * The child commits batch after batch and reports each durable one on a pipe
 * (a uint64_t batch number, after its commit returned); the parent kills it
 * with SIGKILL after a while and learns the last batch it acknowledged, which
 * must then be in the store after a reopen. */
#ifndef FX_TESTS_KILL_CHILD_H
#define FX_TESTS_KILL_CHILD_H

#include <stdint.h>

/* The child's body: writes from batch `first`, reports on `wfd`, never returns. */
typedef void (*fx_kill_child_fn)(const char *dir, int wfd, uint64_t first);

/* Forks child(dir, wfd, first), kills it after `ms` milliseconds and returns
 * the highest batch it reported, or first - 1 if none. Asserts that the kill
 * (not the child) ended it and that reports came in order. */
int64_t fx_kill_child_run(fx_kill_child_fn child, const char *dir, uint64_t first, long ms);

#endif
