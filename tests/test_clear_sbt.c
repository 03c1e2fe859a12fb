/* test_clear_sbt.c — the branch-and-bound's look-ahead rules of round 10
 * (docs/clearing-rounds.md, "Round 10 (sbt)"), run through cl_bb_run itself so
 * that the look-aheads it makes can be counted: look-aheads only at nodes
 * down to bb_sb_depth, a decided candidate's second child not looked
 * ahead (bb_sb_stop), each search still proving the exhaustive search's
 * optimum (tests/support/clear_markets.c) with bounds that hold; and the
 * two [market] keys. Small random markets, fixed seeds, bounded counts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/clear_internal.h"
#include "engine/config.h"
#include "tests/support/clear_markets.h"

/* Every candidate looked ahead at every node it is allowed at, one pivot
 * per child (so that the limit cuts them short), run to a zero gap. */
static void look_everywhere(struct fx_clear_params *p, int depth) {
  fx_cm_bb_params(p);
  p->bb_sb_cands = 100, p->bb_sb_reliable = 1000, p->bb_sb_pivots = 1;
  p->bb_sb_depth = depth;
}

/* bb_sb_depth = 1: only the root and its two children look ahead, so at
 * most 3 nodes × 2 children × every offer look-aheads. On markets of a
 * handful of offers the search finds the exhaustive optimum with bounds
 * that hold, with the rule and without; on markets of 30 offers (too many
 * for the exhaustive search) the search without the rule looks ahead
 * deeper on some, so the count would catch a rule that did nothing. */
static bool depth_one(uint64_t seed, size_t n, bool exhaustive) {
  struct fx_cm_market k;
  fx_cm_gen(&k, seed, n, 2, seed % 5 == 0);
  struct fx_clear_params top, all;
  look_everywhere(&top, 1);
  look_everywhere(&all, 0);
  struct fx_cm_bb t = fx_cm_bb_merit(&k.m, &top), a = fx_cm_bb_merit(&k.m, &all);
  if (!t.ran) return false;
  if (exhaustive)
    fx_cm_check_bb_exhaustive(&k.m, &t, seed), fx_cm_check_bb_exhaustive(&k.m, &a, seed);
  cr_assert_leq(t.bo.sb_probes, (int)(6 * n), "seed %llu: %d look-aheads below depth 1",
                (unsigned long long)seed, t.bo.sb_probes);
  cr_assert_leq(t.bo.sb_pivots, t.bo.sb_probes, "one pivot per look-ahead at most");
  return a.bo.sb_probes > (int)(6 * n);
}

Test(clear_sbt, look_aheads_only_down_to_bb_sb_depth) {
  for (uint64_t seed = 1; seed <= 60; seed++) depth_one(seed, 6 + seed % 3, true);
  int deeper = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) deeper += depth_one(seed, 30, false);
  cr_log_info("%d of 20 searches looked ahead below depth 1 without the rule", deeper);
  cr_assert_gt(deeper, 0, "no search looked ahead below depth 1: the rule is untested");
}

/* bb_sb_stop: once a candidate's first child (the one without it) reaches
 * the incumbent, the branching is decided and its other child is not
 * looked ahead. Without the rule every look-ahead comes in pairs (both
 * children); with it some come single, and the search makes fewer on some
 * markets. The children's bounds stay proven: the search finds the
 * exhaustive optimum with bounds that hold. */
Test(clear_sbt, a_decided_candidate_looks_ahead_at_one_child) {
  int single = 0, fewer = 0;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct fx_cm_market k;
    size_t n = seed <= 40 ? 6 + seed % 3 : 30;
    fx_cm_gen(&k, seed, n, 2, seed % 5 == 0);
    struct fx_clear_params stop, both;
    look_everywhere(&stop, 0);
    look_everywhere(&both, 0);
    stop.bb_sb_stop = true;
    struct fx_cm_bb s = fx_cm_bb_merit(&k.m, &stop), b = fx_cm_bb_merit(&k.m, &both);
    if (!s.ran) continue;
    if (n <= 8)
      fx_cm_check_bb_exhaustive(&k.m, &s, seed), fx_cm_check_bb_exhaustive(&k.m, &b, seed);
    cr_assert_eq(b.bo.sb_probes % 2, 0, "seed %llu: a look-ahead without its pair",
                 (unsigned long long)seed);
    single += s.bo.sb_probes % 2;
    fewer += s.bo.sb_probes < b.bo.sb_probes;
  }
  cr_log_info("%d searches with a single look-ahead, %d with fewer", single, fewer);
  cr_assert_gt(single, 0, "no candidate was looked ahead at one child: the rule is untested");
  cr_assert_gt(fewer, 0);
}

/* The [market] keys: read, and a bad value refused naming its key. */
Test(clear_sbt, config_reads_the_look_ahead_keys) {
  struct fx_config c;
  char err[256];
  fx_config_defaults(&c);
  cr_assert_eq(fx_config_parse(&c, "[market]\nbb_sb_depth = 7\nbb_sb_stop = false\n", err, sizeof err),
               0, "%s", err);
  cr_assert_eq(c.clear.bb_sb_depth, 7);
  cr_assert_eq(c.clear.bb_sb_stop, false);
  fx_config_free(&c);
  const char *bad[] = {"bb_sb_depth = -1", "bb_sb_depth = 1001", "bb_sb_stop = maybe"};
  const char *key[] = {"bb_sb_depth", "bb_sb_depth", "bb_sb_stop"};
  for (size_t i = 0; i < 3; i++) {
    char text[128], want[64];
    snprintf(text, sizeof text, "[market]\n%s\n", bad[i]);
    snprintf(want, sizeof want, "bad value for '%s'", key[i]);
    fx_config_defaults(&c);
    cr_assert_eq(fx_config_parse(&c, text, err, sizeof err), -1, "accepted: %s", bad[i]);
    cr_assert(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    fx_config_free(&c);
  }
}
