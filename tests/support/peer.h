/* peer.h — the end-to-end tests' peer: engine/sim.h with the flexd binary
 * compiled into the test and a failed start failing the test. */
#ifndef FX_TEST_PEER_H
#define FX_TEST_PEER_H

#include <criterion/criterion.h>

#include "engine/sim.h"

#ifdef FLEXD_BINARY
static inline struct fx_sim *fx_peer_start(const struct fx_sim_opts *o) {
  struct fx_sim *p = fx_sim_start_with(o, FLEXD_BINARY);
  cr_assert_not_null(p, "the simulation could not start flexd (see stderr)");
  return p;
}
#endif

#endif
