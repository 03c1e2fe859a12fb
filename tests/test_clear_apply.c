/* test_clear_apply.c — the branch-and-bound's node ranges (clear_bb.c
 * apply), kept from node to node since round 22 (bb22: the last node's
 * path undone only where the next one's leaves it, kr and the LP's bounds
 * touched only on the columns changed since) instead of set from scratch
 * at every node: on random trees visited in random order, with the
 * changes a visit makes between applies (fixings, a look-ahead's set and
 * undo, branchings), kr, the LP's bounds and the count of columns moved
 * are what the recomputation from scratch gives (cl_bb_apply_check), on
 * markets with and without symmetry classes (sym_close then runs on both). */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* n offers, copies of 3 random ones: classes of twins for sym_close. */
static void gen_twins(struct fx_cm_market *k, uint64_t seed, size_t n) {
  struct fx_cm_market base;
  fx_cm_gen(&base, seed, 3, 4, false);
  struct fx_cm_rng r = {seed * 7919 + 1};
  memcpy(k->isps, base.isps, sizeof k->isps);
  for (size_t i = 0; i < n; i++) {
    size_t b = (size_t)fx_cm_uni(&r, 0, 2);
    k->offers[i] = base.offers[b];
    memcpy(k->opts[i], base.opts[b], sizeof k->opts[i]);
    memcpy(k->pw[i], base.pw[b], sizeof k->pw[i]);
  }
  fx_cm_link(k, base.m.request.n_isps, n);
}

static int check(const struct fx_clear_market *m, bool sym, uint64_t seed, int *linked) {
  struct fx_cm_node n;
  int bad = 0;
  if (fx_cm_node_open(&n, m)) {
    *linked += sym && n.md.sym.n_linked > 0;
    bad = cl_bb_apply_check(&n.md, n.lp, sym, seed, 400);
    cr_assert_geq(bad, 0, "seed %llu: out of memory", (unsigned long long)seed);
  }
  fx_cm_node_close(&n);
  return bad;
}

Test(clear_apply, kept_ranges_are_the_ranges_from_scratch) {
  int linked = 0, markets = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    struct fx_cm_market k;
    fx_cm_gen(&k, seed, (size_t)(20 + seed % 41), 4, seed % 4 == 0);
    cr_assert_eq(check(&k.m, false, seed, &linked), 0, "seed %llu", (unsigned long long)seed);
    gen_twins(&k, seed, (size_t)(12 + seed % 30));
    cr_assert_eq(check(&k.m, true, seed, &linked), 0, "seed %llu, twins", (unsigned long long)seed);
    markets += 2;
  }
  cr_log_info("%d markets, %d with classes under the symmetry rule", markets, linked);
  cr_assert_gt(linked, 20, "no classes: sym_close untested");
}
