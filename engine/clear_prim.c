/* clear_prim.c — answers for the root of a large market (round 10 of
 * docs/clearing.md): crossover of the answers the root already has.
 *
 * At 1,000 offers the proof is primal-limited: given the best answer known
 * it needs a few dozen nodes instead of a thousand. The root's answers —
 * the dive's, the neighbourhood search's (step 11) and the dive polish's
 * (step 13) — each get part of it right, and where they agree they are
 * most likely right. So the offers on which they agree stay as they are,
 * and the others are cleared again as a sub-market (clear_sub.c), as the
 * neighbourhood search clears the offers on which the answer and the LP
 * disagree: here the disagreement is between integer answers, each of
 * which keeps every bound, so the neighbourhood holds choices the LP's
 * solution does not point at. */
#include <stdlib.h>

#include "engine/clear_internal.h"

int cl_prim_cross(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
                  double deadline, const struct cl_state *root, struct cl_state *best,
                  struct cl_prim_out *out) {
  struct cl_state pol = {0};
  bool *free_offer = malloc((md->n_offers ? md->n_offers : 1) * sizeof *free_offer);
  *out = (struct cl_prim_out){0};
  int rc = free_offer ? cl_state_init(&pol, md) : FX_CLEAR_ENOMEM;
  /* from nothing, so that the dive's answer is kept even when dearer */
  if (!rc) rc = cl_lp_dive_polish(lp, &pol, best->cov);
  if (!rc && cl_state_feasible(&pol, md) && pol.cov >= best->cov && pol.cost < best->cost)
    cl_state_copy(best, &pol, md), out->improved = true;
  size_t n = 0;
  for (size_t i = 0; !rc && i < md->n_offers; i++) {
    free_offer[i] = !cl_state_same_order(best, &pol, i) || (root && !cl_state_same_order(best, root, i));
    n += free_offer[i];
  }
  bool better = false;
  if (!rc && n) rc = cl_sub_cross(md, p, deadline, free_offer, best, &out->n_free, &better);
  out->improved |= better;
  cl_state_free(&pol);
  free(free_offer);
  return rc;
}
