/* test_clear_stall.c — the stall guard around GLPK's simplex
 * (cl_glpk_simplex, engine/clear_glpk.h), on the LP that showed the stall:
 * a 1,000-offer market's reduced LP (298 rows, 934 columns) at the basis
 * its phase 1 starts from, with GLPK's scale factors
 * (tests/data/clear/stall-pse.*; tests/data/README.md says how it was
 * taken). Under projected steepest edge GLPK pivots there without end;
 * the guard must hand the rest of the limit to Dantzig's rule and reach
 * the optimum that rule reaches alone, and leave every solve that ends in
 * time exactly as glp_simplex would. */
#include <criterion/criterion.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>

#include "engine/clear_glpk.h"

#define FIXTURE FLEXD_SOURCE_DIR "/tests/data/clear/stall-pse"

/* The fixture's LP with its basis and scale factors. */
static glp_prob *load(void) {
  glp_term_out(GLP_OFF);
  glp_prob *P = glp_create_prob();
  cr_assert_eq(glp_read_prob(P, 0, FIXTURE ".glp.gz"), 0, "cannot read " FIXTURE ".glp.gz");
  FILE *f = fopen(FIXTURE ".bas", "r");
  cr_assert_not_null(f, "cannot open " FIXTURE ".bas");
  int nr = glp_get_num_rows(P), nc = glp_get_num_cols(P);
  for (int r = 1; r <= nr; r++) glp_set_row_stat(P, r, fgetc(f) - '0');
  cr_assert_eq(fgetc(f), '\n');
  for (int c = 1; c <= nc; c++) glp_set_col_stat(P, c, fgetc(f) - '0');
  cr_assert_eq(fgetc(f), '\n');
  for (int r = 1; r <= nr; r++) {
    double v;
    cr_assert_eq(fscanf(f, "%la", &v), 1);
    glp_set_rii(P, r, v);
  }
  for (int c = 1; c <= nc; c++) {
    double v;
    cr_assert_eq(fscanf(f, "%la", &v), 1);
    glp_set_sjj(P, c, v);
  }
  fclose(f);
  return P;
}

static glp_smcp primal(int pricing, int it_lim) {
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF, parm.meth = GLP_PRIMAL, parm.pricing = pricing;
  parm.it_lim = it_lim;
  return parm;
}

/* The fixture's optimum under Dantzig's rule alone, and its pivots. */
static double dantzig_optimum(int *pivots) {
  glp_prob *P = load();
  glp_smcp parm = primal(GLP_PT_STD, 200000);
  cr_assert_eq(glp_simplex(P, &parm), 0);
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  double z = glp_get_obj_val(P);
  *pivots = glp_get_it_cnt(P);
  glp_delete_prob(P);
  return z;
}

Test(clear_stall, the_guard_switches_pricing_and_reaches_the_optimum) {
  int cap = cl_glpk_stall_cap(298, 934), dz_pivots;
  double z = dantzig_optimum(&dz_pivots);
  glp_prob *P = load();
  glp_smcp parm = primal(GLP_PT_PSE, 34640); /* ten times the guard's cap before round 14 */
  int rc = glp_simplex(P, &parm); /* unguarded: does this GLPK still stall here? */
  bool stalls = rc == GLP_EITLIM;
  glp_delete_prob(P);
  if (!stalls) cr_skip_test("this GLPK solves the fixture under steepest edge: no stall to guard");

  P = load();
  parm = primal(GLP_PT_PSE, 200000);
  bool switched = false;
  rc = cl_glpk_simplex(P, &parm, &switched);
  cr_assert_eq(rc, 0);
  cr_assert(switched, "the guard did not hand the solve to the other rule");
  cr_assert_eq(glp_get_status(P), GLP_OPT);
  cr_assert_leq(glp_get_it_cnt(P), cap + 4 * dz_pivots + 1000, "pivots %d", glp_get_it_cnt(P));
  cr_assert_leq(fabs(glp_get_obj_val(P) - z), 1e-6 * fabs(z), "%.9g against %.9g",
                glp_get_obj_val(P), z);
  cr_assert_eq(parm.pricing, GLP_PT_PSE, "parm not left as it came");
  cr_assert_eq(parm.it_lim, 200000);
  glp_delete_prob(P);
}

/* A solve that ends within the guard's share is glp_simplex's own: the
 * same pivots and objective, nothing switched. */
Test(clear_stall, a_solve_that_ends_in_time_is_untouched) {
  int dz_pivots;
  double z = dantzig_optimum(&dz_pivots);
  glp_prob *P = load();
  glp_smcp parm = primal(GLP_PT_STD, 200000);
  bool switched = true;
  cr_assert_eq(cl_glpk_simplex(P, &parm, &switched), 0);
  cr_assert_not(switched);
  cr_assert_eq(glp_get_it_cnt(P), dz_pivots);
  cr_assert_eq(glp_get_obj_val(P), z);
  cr_assert_eq(parm.pricing, GLP_PT_STD);
  glp_delete_prob(P);
}

/* A limit at or under the guard's share is left to glp_simplex: the
 * solve stops at the limit, as asked, under the pricing asked. */
Test(clear_stall, a_small_limit_is_the_callers) {
  glp_prob *P = load();
  glp_smcp parm = primal(GLP_PT_PSE, 500);
  bool switched = true;
  cr_assert_eq(cl_glpk_simplex(P, &parm, &switched), GLP_EITLIM);
  cr_assert_not(switched);
  cr_assert_eq(glp_get_it_cnt(P), 500);
  glp_delete_prob(P);
}
