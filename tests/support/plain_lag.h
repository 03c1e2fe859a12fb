/* plain_lag.h — the Lagrangian bound as clear_lp.c computed it before round
 * 10, written plainly (per column, per ISP, long double products and sums
 * in the old order), with the child bounds derived from it: the reference
 * that test_clear_nodec and test_clear_lag_skip hold the engine's fast
 * evaluation to, bit for bit. */
#ifndef FLEXD_TESTS_PLAIN_LAG_H
#define FLEXD_TESTS_PLAIN_LAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/clear_internal.h"
#include "tests/support/clear_markets.h"

/* A model's rows for the plain evaluation: ra/rb the rows of each ISP (rb 0
 * where it has no coverage row), rt the total coverage row. */
struct fx_pl {
  const struct cl_model *md;
  const struct cl_krange *kr; /* NULL: no branch-and-bound running */
  int *ra, *rb, rt;
};
void fx_pl_range(const struct fx_pl *q, size_t c, int *k1, int *k2);
long double fx_pl_col_term(const struct fx_pl *q, const double *mu, size_t c, bool cost,
                           long double *mag);
long double fx_pl_offer_term(const struct fx_pl *q, const double *mu, size_t i, bool cost,
                             long double *mag);
/* The bound of multipliers mu (clamped in place as the engine clamps them). */
long double fx_pl_lagrangian(const struct fx_pl *q, double *mu, bool cost, double total);
/* Equal to the last bit, the sign of zero included. */
bool fx_pl_same_ld(long double a, long double b);
/* Random factor ranges of a node (ordered, excluded, narrowed or free). */
void fx_pl_rand_kr(struct fx_cm_rng *r, const struct cl_model *md, struct cl_krange *kr);
int64_t fx_pl_child(const struct fx_pl *q, const double *mu, bool cost, long double sum, size_t i,
                    size_t c, bool on);
/* Every child bound of lp's last evaluation against fx_pl_child (criterion asserts). */
void fx_pl_compare_children(struct cl_lp *lp, const struct fx_pl *q, const double *mu, bool cost,
                            long double sum, uint64_t seed);

typedef void (*fx_pl_visit)(struct cl_lp *lp, const struct fx_pl *q, struct fx_cm_rng *r, int nr,
                            uint64_t seed, void *arg);
/* Market m's LP (bb_lazy_rows = lazy) and its plain reference: f at no
 * node, then at `nodes` random node ranges. */
void fx_pl_walk(const struct fx_clear_market *m, uint64_t seed, bool lazy, int nodes,
                fx_pl_visit f, void *arg);

typedef double (*fx_pl_mu)(struct fx_cm_rng *r, int round);
typedef void (*fx_pl_check)(struct cl_lp *lp, const struct fx_pl *q, const double *mu, bool cost,
                            uint64_t seed);
/* Eight rounds of random multipliers (mu): the engine's Lagrangian against
 * the plain one bit for bit, and at a node check (if given), a look-ahead's
 * evaluation and every child bound. */
void fx_pl_compare(struct cl_lp *lp, const struct fx_pl *q, struct fx_cm_rng *r, int nr, uint64_t seed,
                   fx_pl_mu mu, fx_pl_check check);

#endif
