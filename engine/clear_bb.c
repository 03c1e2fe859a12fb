/* clear_bb.c — branch-and-bound on the offers the LP relaxation leaves
 * fractional: proven bounds beyond the LP's, and better answers.
 *
 * The LP bound sits 0.1–0.2 % under the best integer answers on large
 * markets, and heuristics miss coverage that only a combination gives
 * (docs/clearing.md), so proofs need branching. A node is the LP of
 * clear_lp.c (maximum coverage, or minimum cost at the answer's coverage)
 * with the factors of some columns restricted. An offer that the LP splits
 * between options or activates below its minimum is branched on its
 * largest column c: c ordered (factor >= its minimum, the offer's other
 * options excluded) or c excluded; once none is, a factor between two
 * hundredths f and f+1 is branched on k <= f or k >= f+1. Every node's
 * bound is the Lagrangian of the INTEGER problem with the node's duals and
 * restrictions (clear_lp.c), so it is proven whatever the simplex's
 * tolerances; a child starts from the LP's current basis (its parent's on
 * a plunge), bounds changed only, so the dual simplex stays warm; a node
 * popped from elsewhere (a jump) starts from its parent's final basis,
 * kept when the parent branched (bb_jump_warm, round 18). Each
 * solved node also fixes, for its subtree, the columns whose Lagrangian
 * child bound already reaches the incumbent (reduced-cost fixing). The
 * column to branch on is chosen by pseudo-costs (the bound gained per unit
 * the branching moved a factor, learnt from solved children), with
 * reliability branching first looking a few dual pivots into the
 * children of the best candidates whose pseudo-costs are not yet learnt
 * (optionally only down to a depth, and not into a decided candidate's
 * second child): those children's bounds are Lagrangian too, so proven. Nodes' LP
 * solutions are rounded and polished into candidate answers. The search
 * plunges into one child of each branching and pops the least bound when
 * a plunge ends, or (bb_plunge_abort, round 17) when the child's bound
 * lies far above the least open one.
 *
 * Values are minimised: cost, or minus coverage. The proven bound is the
 * least of the incumbent's value, the open nodes' bounds and the bounds of
 * leaves the LP left integral (the rounding of watts may still cost more
 * there). An integral node whose LP breaks a row through its elastic slack
 * is no such leaf: the slacks' price is raised and it is solved again
 * (slack_leaf). Work is bounded by a node and a pivot count, so the answer
 * is the same on every machine. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear_internal.h"

struct bb_chg {
  uint32_t col;
  struct cl_krange r;
};

/* A column's ranges before a node's change was applied to bb.base. */
struct bb_undo {
  uint32_t col;
  struct cl_krange r;
};

/* A node whose changes bb.base holds: the fixings it had then, and where
 * its entries begin in bb.undo. */
struct bb_lvl {
  int node;
  size_t fix, n_fix, undo0;
};

struct pick {
  int kind; /* 0: none; 1: split or below minimum; 2: between hundredths */
  size_t offer, col;
  bool up;
  double score;  /* the product of the children's estimated bound gains */
  bool probed;   /* lb holds the children's look-ahead bounds */
  int64_t lb[2]; /* down, up */
};

struct bb_node {
  int parent;
  size_t chg, n_chg; /* the branching decision, in bb.chg */
  size_t fix, n_fix; /* fixings found when the node was solved */
  int64_t bound;     /* proven for every choice inside the node */
  int64_t pbound;    /* its parent's when it branched: what pseudo-costs learn from */
  int bcol;          /* the column its parent branched on, -1 at the root */
  int bdir;          /* 0 down, 1 up */
  double bdist;      /* how far that moved the column's factor (share of 1) */
  int depth;         /* 0 at the root */
  bool repriced;     /* its parent's ranges, solved again at a raised price */
  int kids_left;     /* children not yet visited, while it keeps a basis */
};

/* A branched node's final basis, for its children to jump to
 * (bb_jump_warm): one byte per variable of the node simplex. */
struct bb_basis {
  int len;
  signed char st[];
};

struct bb {
  const struct cl_model *md;
  struct cl_lp *lp;
  struct bb_node *node;
  size_t n_node, cap_node;
  struct bb_chg *chg;
  size_t n_chg, cap_chg;
  int *open; /* unsolved nodes */
  size_t n_open;
  /* the least open bound and its first place, while omin_ok (open_min) */
  int64_t omin;
  size_t omin_at;
  bool omin_ok;
  int *path;             /* scratch: a node's ancestors */
  struct cl_krange *kr, *cur; /* per column: the node's factors, the LP's */
  /* base: per column, the ranges of the nodes in lvl (root first, later
   * ones win: a node's change and fixing lists), kept from node to node
   * and undone only down to the path the next node shares (apply); undo
   * holds what they replaced. dirty: per column, a bit, clear where kr,
   * base and cur agree for sure, so that apply and sync go over the
   * columns changed since, not all. */
  struct cl_krange *base;
  struct bb_undo *undo;
  size_t n_undo, cap_undo;
  struct bb_lvl *lvl;
  size_t n_lvl;
  uint64_t *dirty;
  struct cl_krange *keep;     /* per column: scratch for look-aheads */
  struct cl_state cand, *best;
  int64_t coverage, target, leaf_lb;
  double gap;
  bool cov; /* on coverage: values are -coverage, to minimise like cost */
  double *pc_sum[2];  /* per column: bound gained per unit moved, summed */
  int *pc_n[2];
  double pc_all[2];
  int pc_alln[2];
  struct pick *cands; /* scratch: per offer, the branching candidates */
  const struct fx_clear_params *p;
  int64_t cut_lo; /* the least value cut has pruned by (INT64_MAX: none) */
  const struct cl_sym *sym; /* the classes the rule runs on (NULL: off) */
  struct bb_basis **bas; /* per node: its final basis while children need it */
  signed char *old;      /* scratch for cl_lp_bb_warm */
  int old_cap;
  int walked;            /* ranges the last apply changed */
  bool jumped;           /* the node being visited was popped, not plunged into */
  bool best_first; /* late (proof_best_first_gap): the plunge goes on at the least bound only */
};

/* The incumbent's value in minimisation form. */
static int64_t inc(const struct bb *bb) { return bb->cov ? -bb->best->cov : bb->best->cost; }

int64_t cl_bb_cutoff(int64_t u, double g) {
  if (g <= 0 || u <= 0) return u;
  double floor_ = FX_CLEAR_GAP_FLOOR_PRICE;
  int64_t v = (double)u / (1.0 + g) >= floor_ ? (int64_t)ceil((double)u / (1.0 + g))
                                              : u - (int64_t)(g * floor_);
  if (v > u) v = u;
  for (int k = 0; k < 4 && v < u && (double)(u - v) > g * fmax(fabs((double)v), floor_); k++) v++;
  return (double)(u - v) > g * fmax(fabs((double)v), floor_) ? u : v;
}

double cl_bb_cut_share(const struct fx_clear_params *p) {
  return fmin(fmax(p->bb_cutoff, 0.0), 1.0) * p->bb_gap;
}

/* What a node must beat to matter: the incumbent's value, or with
 * bb_cutoff (round 12) the least value it is within bb_cutoff·bb_gap of.
 * A choice costing that or more cannot take the proof past that share of
 * the gap, so the search prunes, fixes and decides by it (on cost only).
 * Everything pruned so costs at least the least value used (cut_lo),
 * which therefore bounds the proof (proven). */
static int64_t cut(struct bb *bb) {
  int64_t v = bb->cov ? inc(bb) : cl_bb_cutoff(inc(bb), cl_bb_cut_share(bb->p));
  if (v < bb->cut_lo) bb->cut_lo = v;
  return v;
}

static const struct cl_krange FULL = {0, 100};

static int bb_init(struct bb *bb, const struct cl_model *md, struct cl_lp *lp, int node_limit) {
  memset(bb, 0, sizeof *bb);
  bb->md = md, bb->lp = lp;
  bb->cap_node = 2 * (size_t)node_limit + 2;
  bb->node = malloc(bb->cap_node * sizeof *bb->node);
  bb->open = malloc(bb->cap_node * sizeof *bb->open);
  bb->path = malloc(bb->cap_node * sizeof *bb->path);
  bb->kr = malloc(md->n_cols * sizeof *bb->kr);
  bb->cur = malloc(md->n_cols * sizeof *bb->cur);
  bb->keep = malloc(md->n_cols * sizeof *bb->keep);
  bb->dirty = calloc(md->n_cols / 64 + 1, sizeof *bb->dirty);
  bb->base = malloc((md->n_cols ? md->n_cols : 1) * sizeof *bb->base);
  bb->lvl = malloc(bb->cap_node * sizeof *bb->lvl);
  bb->bas = calloc(bb->cap_node, sizeof *bb->bas);
  bb->leaf_lb = INT64_MAX;
  bb->cut_lo = INT64_MAX;
  bb->cands = malloc((md->n_offers ? md->n_offers : 1) * sizeof *bb->cands);
  if (!bb->cands) return FX_CLEAR_ENOMEM;
  for (int d = 0; d < 2; d++) {
    bb->pc_sum[d] = calloc(md->n_cols ? md->n_cols : 1, sizeof *bb->pc_sum[d]);
    bb->pc_n[d] = calloc(md->n_cols ? md->n_cols : 1, sizeof *bb->pc_n[d]);
    if (!bb->pc_sum[d] || !bb->pc_n[d]) return FX_CLEAR_ENOMEM;
  }
  if (!bb->node || !bb->open || !bb->path || !bb->kr || !bb->cur || !bb->keep || !bb->bas ||
      !bb->dirty || !bb->base || !bb->lvl)
    return FX_CLEAR_ENOMEM;
  for (size_t c = 0; c < md->n_cols; c++) bb->kr[c] = bb->cur[c] = bb->base[c] = FULL;
  return cl_state_init(&bb->cand, md);
}

static void bb_free(struct bb *bb) {
  free(bb->node), free(bb->open), free(bb->path), free(bb->kr), free(bb->cur), free(bb->chg);
  free(bb->keep), free(bb->cands), free(bb->dirty), free(bb->base), free(bb->undo), free(bb->lvl);
  for (size_t k = 0; bb->bas && k < bb->n_node; k++) free(bb->bas[k]);
  free(bb->bas), free(bb->old);
  cl_state_free(&bb->cand);
  for (int d = 0; d < 2; d++) free(bb->pc_sum[d]), free(bb->pc_n[d]);
}

/* kr is about to change at column c (or base): no longer known to agree. */
static void mark(struct bb *bb, size_t c) { bb->dirty[c / 64] |= (uint64_t)1 << (c % 64); }

static int add_chg(struct bb *bb, size_t col, int lo, int hi) {
  if (bb->n_chg == bb->cap_chg) {
    size_t cap = bb->cap_chg ? 2 * bb->cap_chg : 256;
    struct bb_chg *c = realloc(bb->chg, cap * sizeof *c);
    if (!c) return FX_CLEAR_ENOMEM;
    bb->chg = c, bb->cap_chg = cap;
  }
  bb->chg[bb->n_chg++] = (struct bb_chg){(uint32_t)col, {(uint8_t)lo, (uint8_t)hi}};
  mark(bb, col);
  bb->kr[col] = bb->chg[bb->n_chg - 1].r;
  return 0;
}

static int new_node(struct bb *bb, int parent, int64_t bound) {
  int k = (int)bb->n_node++;
  bb->node[k] = (struct bb_node){.parent = parent, .chg = bb->n_chg, .bound = bound,
                                 .pbound = bound, .bcol = -1,
                                 .depth = parent >= 0 ? bb->node[parent].depth + 1 : 0};
  return k;
}

/* Entries first..first+n of chg applied to base, what they replace
 * logged in undo (room for them made by apply). */
static void apply_range(struct bb *bb, size_t first, size_t n) {
  for (size_t e = first; e < first + n; e++) {
    uint32_t c = bb->chg[e].col;
    mark(bb, c);
    bb->undo[bb->n_undo++] = (struct bb_undo){c, bb->base[c]};
    bb->base[c] = bb->chg[e].r;
  }
}

static int first_factor(const struct bb *bb, size_t c) {
  int m = bb->md->col[c].min_af;
  return bb->kr[c].lo > m ? bb->kr[c].lo : m;
}

static bool allowed(const struct bb *bb, size_t c) { return bb->kr[c].hi >= first_factor(bb, c); }

/* Symmetry breaking (round 12, symm; bb_symmetry). The rule: within a
 * class of identical offers (clear_model.c), an earlier offer's choice
 * ranks at least as high as a later one's, by none < column 0 at factor
 * 1..100 < column 1 ... (cl_sym_rank). Every choice of the market has a
 * twin that keeps the rule — each class's choices sorted into arrival
 * order — ordering the same columns at the same factors, so with the same
 * ISP totals, coverage and cost: the least value over the rule-keeping
 * choices is the least over all. On coverage the value is the coverage
 * alone, so there the classes ignore the price (md->sym_cov): the twin
 * keeps totals and coverage, and only its cost, which that search's
 * bound does not speak of, may differ. The search therefore runs over the
 * rule-keeping choices from the root on (a global, static restriction,
 * not a per-node one: the twin of a choice a node holds may lie in another
 * node, which is why nothing here looks beyond the node's own ranges and
 * the rule): a node stands for its rule-keeping choices, and sym_close
 * only removes from its factor ranges choices that break the rule for
 * some pair of neighbours of a class, given those ranges. Every bound of
 * the node (Lagrangian, over its ranges) then bounds its rule-keeping
 * choices, and the least over open nodes, leaves and the values pruned by
 * still bounds the whole market. A node whose ranges leave an offer that
 * must order no factor holds no rule-keeping choice and is closed.
 *
 * What the ranges express, for neighbours i before j (rank(i) >= rank(j)):
 * j cannot rank above i's highest allowed choice (its last allowed column
 * at that column's hi): j's later columns excluded, that column's hi
 * lowered to i's; and once j must order column q (lo > 0) from factor f,
 * i's columns before q are excluded, and where q is i's last allowed
 * column, i must order it from f (lo raised). A forward pass carries the
 * caps down a class, a backward one the floors up. The backward pass only
 * excludes columns below an offer's last allowed one and raises floors
 * (closing the node where that empties a column), so every cap the
 * forward pass read stands: one pass of each is a fixpoint. */
static size_t col_pos(const struct cl_model *md, size_t c) {
  return c - md->offer_col[md->col[c].offer];
}

/* Offer i's last allowed column, or -1. */
static int top_col(const struct bb *bb, size_t i) {
  for (size_t c = bb->md->offer_col[i + 1]; c-- > bb->md->offer_col[i];)
    if (allowed(bb, c)) return (int)c;
  return -1;
}

/* The column offer i must order (lo > 0), or -1. */
static int must_col(const struct bb *bb, size_t i) {
  for (size_t c = bb->md->offer_col[i]; c < bb->md->offer_col[i + 1]; c++)
    if (bb->kr[c].lo > 0) return (int)c;
  return -1;
}

/* Exclude column c: false when it must be ordered (the node is empty). */
static bool sym_exclude(struct bb *bb, size_t c) {
  if (bb->kr[c].lo > 0) return false;
  if (allowed(bb, c)) mark(bb, c), bb->kr[c].hi = 0;
  return true;
}

/* Offer j ranks at most column pos (-1: none) at factor hi. */
static bool sym_cap(struct bb *bb, size_t j, int pos, int hi) {
  for (size_t c = bb->md->offer_col[j]; c < bb->md->offer_col[j + 1]; c++) {
    int q = (int)col_pos(bb->md, c);
    if (q > pos && !sym_exclude(bb, c)) return false;
    if (q != pos || !allowed(bb, c) || bb->kr[c].hi <= hi) continue;
    mark(bb, c), bb->kr[c].hi = (uint8_t)hi;
    if (bb->kr[c].lo > 0 && !allowed(bb, c)) return false;
  }
  return true;
}

/* Offer i ranks at least column pos at factor f. */
static bool sym_raise(struct bb *bb, size_t i, int pos, int f) {
  const struct cl_model *md = bb->md;
  int at = -1;
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    int q = (int)col_pos(md, c);
    if (q < pos && !sym_exclude(bb, c)) return false;
    if (q > pos && allowed(bb, c)) return true; /* "c, or a later column": not a range */
    if (q == pos) at = (int)c;
  }
  if (at < 0 || !allowed(bb, (size_t)at)) return false; /* nothing left at or above pos */
  if (bb->kr[at].lo < f) mark(bb, (size_t)at), bb->kr[at].lo = (uint8_t)f;
  return allowed(bb, (size_t)at);
}

/* The rule applied to the node's ranges in kr; false: the node is empty. */
static bool sym_close(struct bb *bb) {
  const struct cl_model *md = bb->md;
  const struct cl_sym *cs = bb->sym;
  for (size_t i = 0; i < md->n_offers; i++) {
    if (cs->next[i] < 0) continue;
    int c = top_col(bb, i);
    int pos = c < 0 ? -1 : (int)col_pos(md, (size_t)c), hi = c < 0 ? 0 : bb->kr[c].hi;
    if (!sym_cap(bb, (size_t)cs->next[i], pos, hi)) return false;
  }
  for (size_t j = md->n_offers; j-- > 0;) {
    if (cs->prev[j] < 0) continue;
    int c = must_col(bb, j);
    if (c >= 0 && !sym_raise(bb, (size_t)cs->prev[j], (int)col_pos(md, (size_t)c),
                             first_factor(bb, (size_t)c)))
      return false;
  }
  return true;
}

/* The LP's bounds brought in step with kr where they differ, in column
 * order (as a pass over every column would: outside dirty they agree); a
 * column where kr is base's again leaves dirty. How many moved. */
static int steps(struct bb *bb) {
  int moved = 0;
  for (size_t w = 0, nw = bb->md->n_cols / 64 + 1; w < nw; w++)
    for (uint64_t m = bb->dirty[w]; m; m &= m - 1) {
      size_t c = w * 64 + (size_t)__builtin_ctzll(m);
      if (bb->kr[c].lo != bb->cur[c].lo || bb->kr[c].hi != bb->cur[c].hi) {
        cl_lp_bb_set(bb->lp, c, bb->kr[c]);
        bb->cur[c] = bb->kr[c];
        moved++;
      }
      if (bb->kr[c].lo == bb->base[c].lo && bb->kr[c].hi == bb->base[c].hi)
        bb->dirty[w] &= ~(m & -m);
    }
  return moved;
}

/* Column states of node k (root first, so later decisions win), closed
 * under the symmetry rule (bb_symmetry), then the LP's bounds brought in
 * step where they differ. 0: the rule leaves the node empty (the LP
 * untouched); 1: applied; or FX_CLEAR_ENOMEM. base keeps the last node's
 * path: the nodes k's path shares with it (with the same fixings) stay,
 * the others' entries are undone and k's path's applied, so a plunge's
 * step applies one node's lists, not every ancestor's; kr is then base's
 * wherever it may differ (dirty), which is kr from FULL, as it was. */
static int apply(struct bb *bb, int k) {
  size_t n = 0, same = 0;
  for (int j = k; j >= 0; j = bb->node[j].parent) bb->path[n++] = j;
  while (same < bb->n_lvl && same < n && bb->lvl[same].node == bb->path[n - 1 - same] &&
         bb->lvl[same].fix == bb->node[bb->path[n - 1 - same]].fix &&
         bb->lvl[same].n_fix == bb->node[bb->path[n - 1 - same]].n_fix)
    same++;
  for (size_t e = bb->n_undo; bb->n_lvl > same && e-- > bb->lvl[same].undo0;) {
    mark(bb, bb->undo[e].col);
    bb->base[bb->undo[e].col] = bb->undo[e].r;
  }
  if (bb->n_lvl > same) bb->n_undo = bb->lvl[same].undo0;
  bb->n_lvl = same;
  if (bb->cap_undo < bb->n_chg) { /* a path holds at most every entry */
    size_t cap = bb->cap_chg;
    struct bb_undo *u = realloc(bb->undo, cap * sizeof *u);
    if (!u) return FX_CLEAR_ENOMEM;
    bb->undo = u, bb->cap_undo = cap;
  }
  for (size_t q = same; q < n; q++) {
    const struct bb_node *nd = &bb->node[bb->path[n - 1 - q]];
    bb->lvl[bb->n_lvl++] = (struct bb_lvl){bb->path[n - 1 - q], nd->fix, nd->n_fix, bb->n_undo};
    apply_range(bb, nd->chg, nd->n_chg);
    apply_range(bb, nd->fix, nd->n_fix);
  }
  for (size_t w = 0, nw = bb->md->n_cols / 64 + 1; w < nw; w++)
    for (uint64_t m = bb->dirty[w]; m; m &= m - 1) {
      size_t c = w * 64 + (size_t)__builtin_ctzll(m);
      bb->kr[c] = bb->base[c];
    }
  if (bb->sym && !sym_close(bb)) return 0;
  bb->walked = steps(bb);
  return 1;
}

static int64_t open_min(struct bb *bb, size_t *at) {
  if (!bb->omin_ok) {
    bb->omin = INT64_MAX, bb->omin_at = SIZE_MAX;
    for (size_t q = 0; q < bb->n_open; q++) {
      int64_t b = bb->node[bb->open[q]].bound;
      if (b < bb->omin) bb->omin = b, bb->omin_at = q;
    }
    bb->omin_ok = true;
  }
  if (bb->omin_at != SIZE_MAX) *at = bb->omin_at;
  return bb->omin;
}

static void open_push(struct bb *bb, int k) {
  int64_t b = bb->node[k].bound;
  if (bb->omin_ok && b < bb->omin) bb->omin = b, bb->omin_at = bb->n_open;
  bb->open[bb->n_open++] = k;
}

/* The proven bound now: nothing cheaper than the least value the search
 * has pruned by (the incumbent's, or below it with bb_cutoff) lies outside
 * the open nodes and the integral leaves. */
static int64_t proven(struct bb *bb) {
  size_t at = 0;
  int64_t lb = open_min(bb, &at);
  if (bb->leaf_lb < lb) lb = bb->leaf_lb;
  cut(bb);
  return bb->cut_lo < lb ? bb->cut_lo : lb;
}

/* a − b as a double, for the gap's tests: the same value as (double)(a −
 * b) while both lie within 2^53 (each converts exactly, and the one
 * subtraction rounds as the conversion did), and no overflow where a
 * bound is the Lagrangian's floor −INT64_MAX (fuzz_clear, UBSan). */
static double gap_of(int64_t a, int64_t b) { return (double)a - (double)b; }

static bool gap_closed(struct bb *bb) {
  int64_t lb = proven(bb);
  double floor = bb->cov ? FX_CLEAR_GAP_FLOOR_W : FX_CLEAR_GAP_FLOOR_PRICE;
  double ref = fmax(fabs((double)lb), floor);
  return gap_of(inc(bb), lb) <= bb->gap * ref;
}

/* Best bound first; ties by creation order (deterministic). */
static int pop_best(struct bb *bb) {
  size_t at = 0;
  if (!bb->n_open) return -1;
  open_min(bb, &at);
  int k = bb->open[at];
  memmove(&bb->open[at], &bb->open[at + 1], (bb->n_open - at - 1) * sizeof *bb->open);
  bb->n_open--;
  bb->omin_ok = false;
  return k;
}

/* Reduced-cost fixing for node k's subtree: a column whose ordering alone
 * proves a cost at or above the incumbent's is excluded; the last column an
 * offer has left is ordered when leaving the offer out proves the same. */
static int fix_offer(struct bb *bb, size_t i, int64_t u, const struct cl_reach *q) {
  const struct cl_model *md = bb->md;
  size_t left = 0, last = 0;
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++)
    if (bb->kr[c].lo > 0) return 0; /* ordered already */
  for (size_t c = md->offer_col[i]; c < md->offer_col[i + 1]; c++) {
    if (!allowed(bb, c)) continue;
    if (!cl_reach_below(q, i, c, true) && cl_lp_bb_child(bb->lp, i, c, true) >= u) {
      int rc = add_chg(bb, c, 0, 0);
      if (rc) return rc;
    } else {
      left++, last = c;
    }
  }
  if (left == 1 && !cl_reach_below(q, i, last, false) && cl_lp_bb_child(bb->lp, i, last, false) >= u)
    return add_chg(bb, last, first_factor(bb, last), bb->kr[last].hi);
  return 0;
}

static int fix(struct bb *bb, int k) {
  int rc = 0;
  bb->node[k].fix = bb->n_chg;
  /* (the cutoff once: fixing leaves the incumbent as it is; per offer it
   * was 1.5 % of the instructions at 1,000 offers) */
  int64_t u = cut(bb);
  struct cl_reach q;
  cl_lp_bb_reach(bb->lp, u, &q);
  for (size_t i = 0; !rc && i < bb->md->n_offers; i++) rc = fix_offer(bb, i, u, &q);
  bb->node[k].n_fix = bb->n_chg - bb->node[k].fix;
  return rc;
}

/* Round the node's LP solution and polish it. On cost: at the B&B's
 * coverage, kept when it covers as much and costs less; on coverage:
 * towards the target, kept when better. */
static int candidate(struct bb *bb, bool *better) {
  cl_lp_bb_state(bb->lp, &bb->cand);
  int rc = cl_polish(&bb->cand, bb->md, bb->cov ? bb->target : bb->coverage);
  bool keep = bb->cov || (bb->cand.cov >= bb->coverage && bb->cand.cost < bb->best->cost);
  *better = !rc && keep && cl_state_better(&bb->cand, bb->best, bb->target);
  if (*better) cl_state_copy(bb->best, &bb->cand, bb->md);
  return rc;
}

/* How far each child moves column c's factor from the LP's x. */
static void moves(const struct bb *bb, const struct pick *p, double *down, double *up) {
  double x = cl_lp_bb_value(bb->lp, p->col);
  if (p->kind == 2) {
    double fr = x * 100.0 - cl_lp_bb_floor(bb->lp, p->col);
    *down = fr / 100.0, *up = (1.0 - fr) / 100.0;
    return;
  }
  *down = x;
  *up = fmax(bb->md->col[p->col].min_af / 100.0 - x, 0.01);
}

static double pc_est(const struct bb *bb, int d, size_t c, double dist) {
  double per;
  if (bb->pc_n[d][c]) per = bb->pc_sum[d][c] / bb->pc_n[d][c];
  else if (bb->pc_alln[d]) per = bb->pc_all[d] / bb->pc_alln[d];
  else per = fabs((double)bb->md->col[c].price) + 1.0;
  return per * dist;
}

struct budget {
  int nodes, node_limit;
  long pivots, pivot_limit;
  long sb_pivots; /* the look-aheads' share of pivots */
  int sb_probes;
  int sym_closed; /* nodes the symmetry rule closed unsolved */
  int reprices;   /* raises of the slacks' price (slack_leaf) */
  bool unpriced;  /* a raise was taken back: no more */
  int rins, rins_improved;
  int plunge_aborts, plunge_longest; /* round 17: bb_plunge_abort */
  int last_better; /* the node the incumbent last improved at (round 19) */
  int last_rins;   /* the node of the last node search */
  int late_at;     /* the first node after proof_rins_node found late (0: none yet) */
  bool late_rins;  /* proof_rins_late's search has run */
  int round_every; /* the every-8th node rounding's period now (bb_round_backoff) */
  int round_fails; /* its roundings in a row that did not improve, at this period */
  int rounds, rounds_improved;
  int round_backoffs, round_resets; /* doublings of round_every; improvements that undid them */
  bool hit;
};

/* The neighbourhood search of step 11 from the node's LP solution (round
 * 13; clear_sub.c), at node proof_rins_node and again at proof_rins_again
 * (round 15), on cost only. A cheaper answer lowers cut() for the rest of
 * the search; what was pruned before stays counted in cut_lo, so the
 * bound holds. proof_rins_node 0 (the sub-markets', step 10's) turns both
 * off. */
static bool late(struct bb *bb);

/* Round 19 (ans19): most of a long proof's nodes wait for its final
 * answer, which comes late (on the bench's 1.2x at the last node of 225;
 * given it from the root, 29 nodes). Two more searches: one (on by
 * default) proof_rins_late_wait nodes after the proof goes late
 * (proof_rins_late: the gap is within proof_best_first_gap, so a cheaper
 * answer often closes it at once; late stays late, as the incumbent only
 * falls and the bound only rises) and, after proof_rins_again, one
 * whenever proof_rins_stall nodes have passed since both the last
 * improvement and the last search (proof_rins_stall; off: it lost on
 * the sets measured). */
static bool rins_more(struct bb *bb, struct budget *bu) {
  const struct fx_clear_params *p = bb->p;
  int n = bu->nodes;
  if (p->proof_rins_late && !bu->late_rins && n > p->proof_rins_node) {
    if (!bu->late_at && late(bb)) bu->late_at = n;
    if (bu->late_at && n >= bu->late_at + p->proof_rins_late_wait) return bu->late_rins = true;
  }
  int s = p->proof_rins_stall;
  return s > 0 && n > p->proof_rins_again && n - bu->last_better >= s && n - bu->last_rins >= s;
}

static bool rins_due(struct bb *bb, struct budget *bu) {
  const struct fx_clear_params *p = bb->p;
  if (bb->cov || p->proof_rins_node <= 0) return false;
  return bu->nodes == p->proof_rins_node ||
         (p->proof_rins_again > 0 && bu->nodes == p->proof_rins_again) || rins_more(bb, bu);
}

static int node_rins(struct bb *bb, struct budget *bu) {
  bool better = false;
  int rc = cl_node_rins(bb->md, bb->lp, bb->p, bb->best, &better);
  bu->rins++, bu->rins_improved += better;
  bu->last_rins = bu->nodes;
  return rc;
}

/* The node's rounding (candidate) is due: at integral nodes always,
 * else every round_every-th node (8, or more after failures on cost:
 * bb_round_backoff). */
enum { ROUND_EVERY = 8 };

static bool round_due(const struct budget *bu, bool integral) {
  return integral || bu->nodes % bu->round_every == 1;
}

/* After a rounding at a fractional node: from node bb_round_backoff_node
 * on, bb_round_backoff failures in a row double the period (at most
 * bb_round_period_max); an improvement brings it back to ROUND_EVERY.
 * Powers of two times ROUND_EVERY, so the nodes rounded are a subset of
 * the every-8th. */
static void round_done(const struct bb *bb, struct budget *bu, bool better) {
  const struct fx_clear_params *p = bb->p;
  bu->rounds++, bu->rounds_improved += better;
  if (better) {
    bu->round_resets += bu->round_every > ROUND_EVERY;
    bu->round_every = ROUND_EVERY, bu->round_fails = 0;
    return;
  }
  if (bb->cov || p->bb_round_backoff <= 0 || bu->nodes < p->bb_round_backoff_node) return;
  if (++bu->round_fails < p->bb_round_backoff || 2 * bu->round_every > p->bb_round_period_max)
    return;
  bu->round_every *= 2, bu->round_fails = 0, bu->round_backoffs++;
}

/* Dive from the node's LP on the node simplex (round 9; cl_lp_bb_dive),
 * every bb_node_dive-th node that has something to branch on, on cost
 * only; the candidate's rule decides. With bb_dive_cut (round 11) the dive
 * is abandoned once a fix round's LP proves its fixings no cheaper than the
 * incumbent: a third of the dives, a quarter of their pivots, and on
 * the 32 markets measured never one whose answer would have been taken. */
static bool dive_due(const struct bb *bb, const struct budget *bu) {
  int k = bb->p->bb_node_dive;
  return !bb->cov && k > 0 && bu->nodes % k == 1 % k;
}

/* A dive guided towards the incumbent (round 16, gdive; cl_lp_bb_dive_guided)
 * every bb_guided_dive-th node, half of bb_node_dive after the plain
 * dives' nodes (nodes 9, 25, 41, ... at 16 and 16), on cost only, in
 * addition to the plain dives. Replacing them, all or every second, took
 * more nodes; in addition, fewer nodes but more instructions on the
 * bench's 96 markets, so it is off by default (docs/clearing-rounds.md,
 * round 16). */
static bool guided_dive_due(const struct bb *bb, const struct budget *bu) {
  int k = bb->p->bb_guided_dive, half = bb->p->bb_node_dive > 0 ? bb->p->bb_node_dive / 2 : 0;
  return !bb->cov && k > 0 && bu->nodes % k == (1 + half) % k;
}

/* A dive's answer that costs less than the incumbent but covers less
 * than the search's coverage (54 of 351 finished dives on 96 markets,
 * round 16), fill finding no raise that keeps every bound, is mended
 * (cl_mend) and polished towards the coverage when it is short by at
 * most bb_mend_short_ppm of it (the larger shortfalls measured were never
 * mended at less than the incumbent's cost); the dive's rule then judges
 * it as before. Not the every-8th node's rounding (candidate): its short
 * choices are many and further short, and mending them cost far more
 * than it gave (round 16, short). */
static void mend(struct bb *bb) {
  const struct fx_clear_params *p = bb->p;
  int64_t short_w = bb->coverage - bb->cand.cov;
  if (p->bb_mend_steps <= 0 || bb->cov || short_w <= 0 || bb->cand.cost >= bb->best->cost) return;
  if ((double)short_w > 1e-6 * p->bb_mend_short_ppm * (double)bb->coverage) return;
  if (cl_mend(&bb->cand, bb->md, bb->coverage, p->bb_mend_steps, bb->best->cost)) return;
  if (cl_polish(&bb->cand, bb->md, bb->coverage)) return;
  if (!cl_state_feasible(&bb->cand, bb->md)) bb->cand.cov = INT64_MIN; /* never taken */
}

static int dive(struct bb *bb, bool guided) {
  long pivots = 0; /* bounded per dive (clear_lp.c); not the search's */
  bool cut;
  int64_t u = bb->p->bb_dive_cut ? bb->best->cost : INT64_MAX;
  int rc = cl_lp_bb_dive_guided(bb->lp, &bb->cand, bb->coverage, u, guided ? bb->best : NULL,
                                &pivots, &cut);
  if (rc <= 0) return rc;
  mend(bb);
  if (bb->cand.cov >= bb->coverage && bb->cand.cost < bb->best->cost &&
      cl_state_better(&bb->cand, bb->best, bb->target))
    cl_state_copy(bb->best, &bb->cand, bb->md);
  return 0;
}

/* Column c's factors in the down (dir 0) or up child of p: at most f or
 * at least f+1 (ordered; kind 1: f = 0, so "not ordered" or "ordered"). */
static struct cl_krange child_range(const struct bb *bb, const struct pick *p, int dir) {
  struct cl_krange r = bb->kr[p->col];
  int f = p->kind == 2 ? cl_lp_bb_floor(bb->lp, p->col) : 0, lo = first_factor(bb, p->col);
  if (!dir) return (struct cl_krange){r.lo, (uint8_t)f};
  return (struct cl_krange){(uint8_t)(f + 1 > lo ? f + 1 : lo), r.hi};
}

/* The LP's column bounds brought in step with the node's states (the
 * fixings found at this node), so that look-aheads see them. */
static void sync(struct bb *bb) { steps(bb); }

/* Set offer p->offer's columns as child dir has them (undo: back to the
 * node's), in kr and in the LP. (No column goes into dirty: the undo,
 * before any other apply or sync, puts kr and cur back as they were.) */
static void child_set(struct bb *bb, const struct pick *p, int dir, bool undo) {
  const struct cl_model *md = bb->md;
  for (size_t j = md->offer_col[p->offer]; j < md->offer_col[p->offer + 1]; j++) {
    if (undo) {
      bb->kr[j] = bb->keep[j];
    } else {
      bb->keep[j] = bb->kr[j];
      if (j == p->col) bb->kr[j] = child_range(bb, p, dir);
      else if (dir && allowed(bb, j)) bb->kr[j].hi = 0;
    }
    if (bb->kr[j].lo != bb->cur[j].lo || bb->kr[j].hi != bb->cur[j].hi) {
      cl_lp_bb_set(bb->lp, j, bb->kr[j]);
      bb->cur[j] = bb->kr[j];
    }
  }
}

static void learn(struct bb *bb, int dir, size_t c, int64_t gain, double dist) {
  if (dist <= 0) return;
  double g = fmax((double)gain, 0.0) / dist;
  bb->pc_sum[dir][c] += g, bb->pc_n[dir][c]++;
  bb->pc_all[dir] += g, bb->pc_alln[dir]++;
}

/* A child's bound lb above its parent's b; an infeasible child's bound is
 * INT64_MAX, which less a negative b does not fit (fuzz_clear: signed
 * overflow): it saturates, as it does where b >= 0. */
static int64_t bound_gain(int64_t lb, int64_t b) {
  return b < 0 && lb > INT64_MAX + b ? INT64_MAX : lb - b;
}

/* Look ahead into both children of candidate p of a node whose bound was b
 * when the look-aheads began (the same base for every candidate's gains):
 * their proven bounds, the pseudo-costs they teach, and the score. With
 * bb_sb_stop the second is skipped when the first reaches the incumbent:
 * pick branches on p then whatever the second says; its bound stays b. */
static int look_ahead(struct bb *bb, int64_t b, struct pick *p, struct budget *bu) {
  double dist[2];
  moves(bb, p, &dist[0], &dist[1]);
  p->lb[0] = p->lb[1] = b;
  for (int dir = 0; dir < 2; dir++) {
    if (dir && bb->p->bb_sb_stop && p->lb[0] >= cut(bb)) break; /* decided: see pick */
    child_set(bb, p, dir, false);
    int lim = bb->p->bb_sb_pivots > 0 ? bb->p->bb_sb_pivots : 1;
    long piv = 0;
    int rc = cl_lp_bb_probe(bb->lp, bb->coverage, lim, &p->lb[dir], &piv);
    bu->pivots += piv, bu->sb_pivots += piv, bu->sb_probes++;
    child_set(bb, p, dir, true);
    if (rc < 0) return rc;
    if (p->lb[dir] < b) p->lb[dir] = b;
    learn(bb, dir, p->col, bound_gain(p->lb[dir], b), dist[dir]);
  }
  p->probed = true;
  p->score = fmax((double)bound_gain(p->lb[0], b), 1e-6) * fmax((double)bound_gain(p->lb[1], b), 1e-6);
  return 0;
}

static int score_cmp(const void *x, const void *y) {
  const struct pick *a = x, *b = y;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  return a->offer < b->offer ? -1 : a->offer > b->offer;
}

/* The fractional offers of the node, of the first kind present (splits and
 * minimums before factors between hundredths), scored by the product of
 * the two children's estimated bound gains (pseudo-costs: gain per unit
 * moved, learnt from solved children; the price until there are any). */
static size_t candidates(struct bb *bb) {
  size_t n = 0;
  int kind = 3;
  for (size_t i = 0;; i++) {
    size_t col;
    bool up;
    double dist;
    int k = cl_lp_bb_frac_next(bb->lp, &i, &col, &up, &dist);
    if (!k) break;
    if (k > kind || !allowed(bb, col)) continue; /* just fixed: would repeat */
    struct pick p = {.kind = k, .offer = i, .col = col, .up = up};
    if (p.kind < kind) kind = p.kind, n = 0;
    double dd, du;
    moves(bb, &p, &dd, &du);
    p.score = fmax(pc_est(bb, 0, p.col, dd), 1e-6) * fmax(pc_est(bb, 1, p.col, du), 1e-6);
    bb->cands[n++] = p;
  }
  return n;
}

static bool reliable(const struct bb *bb, size_t c) {
  int r = bb->p->bb_sb_reliable;
  return bb->pc_n[0][c] >= r && bb->pc_n[1][c] >= r;
}

/* Whether the proof's gap is within proof_best_first_gap of the
 * incumbent's value (round 18, brch). Step 12's proof only: the
 * sub-markets' and step 10's searches run with proof_rins_node 0
 * (rins_due's test). From there on the answer rarely moves (about a
 * fifth to a third of the proofs' nodes come after their last answer)
 * and nodes only raise the least bound, which best first does in the
 * fewest nodes; plunges into the LP's side, which find answers early,
 * there only spend nodes above it. */
static bool late(struct bb *bb) {
  double g = bb->p->proof_best_first_gap;
  if (g <= 0 || bb->cov || bb->p->proof_rins_node <= 0) return false;
  int64_t u = inc(bb), lb = proven(bb);
  return gap_of(u, lb) <= g * fabs((double)u);
}

/* The offer to branch on: the best score; ties by arrival. With
 * reliability branching the best bb_sb_cands by pseudo-costs are looked
 * ahead where their pseudo-costs are unreliable (at nodes down to
 * bb_sb_depth, if set: deeper, the dives of a plunge rather than its
 * branching find the answers), and a child the look-ahead proves no
 * better than the incumbent decides at once. Late in a proof (late) the
 * chosen branching's plunge goes on only into a child at the least open
 * bound (plunge_stops): best first; one a look-ahead decided is still
 * plunged into as before. */
static int pick(struct bb *bb, int k, struct budget *bu, struct pick *out) {
  bool bf = late(bb);
  bb->best_first = false;
  size_t n = candidates(bb);
  *out = (struct pick){0};
  if (!n) return 0;
  size_t m = bb->p->bb_sb_cands > 0 ? (size_t)bb->p->bb_sb_cands : 0;
  if (bb->p->bb_sb_depth > 0 && bb->node[k].depth > bb->p->bb_sb_depth) m = 0;
  qsort(bb->cands, n, sizeof *bb->cands, score_cmp);
  bool synced = false;
  int64_t b = bb->node[k].bound;
  for (size_t q = 0; q < m && q < n; q++) {
    struct pick *p = &bb->cands[q];
    if (reliable(bb, p->col)) continue;
    if (!synced) sync(bb), synced = true;
    int rc = look_ahead(bb, b, p, bu);
    if (rc) return rc;
    if (p->lb[0] >= cut(bb) || p->lb[1] >= cut(bb)) {
      p->up = p->lb[0] >= cut(bb); /* plunge into the child that may be better */
      *out = *p;
      return 0;
    }
  }
  *out = bb->cands[0];
  for (size_t q = 1; q < n; q++)
    if (score_cmp(&bb->cands[q], out) < 0) *out = bb->cands[q];
  bb->best_first = bf;
  return 0;
}

/* Exclude offer i's columns other than c: the child orders c. */
static int only(struct bb *bb, size_t i, size_t c) {
  int rc = 0;
  for (size_t j = bb->md->offer_col[i]; !rc && j < bb->md->offer_col[i + 1]; j++)
    if (j != c && allowed(bb, j)) rc = add_chg(bb, j, bb->kr[j].lo, 0);
  return rc;
}

/* Two children of node k: for a split or an offer below its minimum, its
 * largest column c ordered (at least its minimum) or not; for a factor
 * between hundredths f and f+1, c at most f or at least f+1 (ordered).
 * Returns the child to plunge into in *plunge, the other goes open. */
static int branch(struct bb *bb, int k, const struct pick *p, int *plunge) {
  int64_t b = bb->node[k].bound;
  size_t c = p->col;
  struct cl_krange r = bb->kr[c], rd = child_range(bb, p, 0), ru = child_range(bb, p, 1);
  double dd, du;
  moves(bb, p, &dd, &du);
  int down = new_node(bb, k, p->probed && p->lb[0] > b ? p->lb[0] : b);
  bb->node[down].bcol = (int)c, bb->node[down].bdir = 0, bb->node[down].bdist = dd;
  int rc = add_chg(bb, c, rd.lo, rd.hi);
  bb->node[down].n_chg = 1;
  bb->kr[c] = r;
  int upk = new_node(bb, k, p->probed && p->lb[1] > b ? p->lb[1] : b);
  bb->node[upk].bcol = (int)c, bb->node[upk].bdir = 1, bb->node[upk].bdist = du;
  if (!rc) rc = add_chg(bb, c, ru.lo, ru.hi);
  if (!rc) rc = only(bb, p->offer, c);
  bb->node[upk].n_chg = bb->n_chg - bb->node[upk].chg;
  bb->node[down].pbound = bb->node[upk].pbound = b;
  *plunge = p->up ? upk : down;
  open_push(bb, p->up ? down : upk);
  return rc;
}

/* An integral node whose LP reaches the rows only through an elastic
 * slack is no leaf: its choice breaks a row, and the bound is what the
 * slacks' price makes of the break, not what the node holds (round 13,
 * leaf: at the price of slacks_open, 20-offer markets ended proven only
 * to 25-55 %). The price goes up by SLACK_STEP for the rest of the search
 * (at most SLACK_RAISES times) and the node is solved again, as a child
 * with the same ranges. */
enum { SLACK_RAISES = 2 };
static const double SLACK_STEP = 100.0;

static bool slack_leaf(struct bb *bb, const struct budget *bu) {
  return !bu->unpriced && bu->reprices < SLACK_RAISES && cl_lp_bb_slack_used(bb->lp);
}

static int resolve(struct bb *bb, int k, struct budget *bu, int *next) {
  bu->reprices++;
  cl_lp_bb_reprice(bb->lp, SLACK_STEP);
  *next = new_node(bb, k, bb->node[k].bound);
  bb->node[*next].repriced = true;
  return 0;
}

/* The raise did not pay where the node solved again proves less than at
 * the old price: the multipliers grew with the price, and the rounding
 * noise of the Lagrangian's terms (half a watt times the multiplier, per
 * ISP and column) with them, which on markets of a few hundred watts
 * outweighs what the rows gain. The price goes back, stays there, and
 * the node is the leaf it was. */
static bool reprice_lost(struct bb *bb, const struct bb_node *nd, int64_t bound,
                         struct budget *bu) {
  if (!nd->repriced || bound >= bb->node[nd->parent].bound) return false;
  cl_lp_bb_reprice(bb->lp, 1.0 / SLACK_STEP);
  bu->unpriced = true;
  if (nd->bound < bb->leaf_lb) bb->leaf_lb = nd->bound;
  return true;
}

/* Node k's final basis kept for its children's jumps (bb_jump_warm): a
 * byte per variable, freed once both children have been visited. */
static int keep_basis(struct bb *bb, int k) {
  int len = cl_lp_bb_basis_len(bb->lp);
  if (bb->p->bb_jump_warm <= 0 || len <= 0) return 0;
  struct bb_basis *b = malloc(sizeof *b + (size_t)len);
  if (!b) return FX_CLEAR_ENOMEM;
  b->len = len;
  cl_lp_bb_basis_get(bb->lp, b->st);
  bb->bas[k] = b, bb->node[k].kids_left = 2;
  return 0;
}

/* Node k, popped (a jump) with ranges at least bb_jump_warm columns from
 * the last node's, starts from its parent's final basis: the last node's
 * belongs to another part of the tree, and the dual simplex walked from
 * it about 30 pivots a jump against 4-5 a plunge (round 18). */
static int jump_warm(struct bb *bb, int k) {
  int par = bb->node[k].parent;
  const struct bb_basis *b = par >= 0 ? bb->bas[par] : NULL;
  if (!b || !bb->jumped || bb->walked < bb->p->bb_jump_warm) return 0;
  int len = cl_lp_bb_basis_len(bb->lp);
  if (len > bb->old_cap) {
    signed char *o = realloc(bb->old, (size_t)len);
    if (!o) return FX_CLEAR_ENOMEM;
    bb->old = o, bb->old_cap = len;
  }
  cl_lp_bb_warm(bb->lp, b->st, b->len, bb->old);
  return 0;
}

/* A child of k's parent visited: the parent's basis goes with the last. */
static void release_basis(struct bb *bb, int k) {
  int par = bb->node[k].parent;
  if (par < 0 || !bb->bas[par] || --bb->node[par].kids_left > 0) return;
  free(bb->bas[par]), bb->bas[par] = NULL;
}

/* Solve node k and branch; *next is the child to plunge into, or -1. */
static int visit(struct bb *bb, int k, struct budget *bu, int *next) {
  int64_t bound;
  long piv = 0;
  *next = -1;
  int arc = apply(bb, k);
  if (arc < 0) return arc;
  if (!arc) { /* no rule-keeping choice inside: closed */
    release_basis(bb, k);
    bu->sym_closed++;
    return 0;
  }
  int wrc = jump_warm(bb, k);
  release_basis(bb, k);
  if (wrc) return wrc;
  int ok = cl_lp_bb_solve(bb->lp, bb->coverage, &bound, &piv);
  bu->nodes++, bu->pivots += piv;
  if (ok == FX_CLEAR_ENOMEM) return ok;
  if (ok < 0) { /* a limit stopped the simplex: the node stays open */
    open_push(bb, k);
    bu->hit = true;
    return 0;
  }
  struct bb_node *nd = &bb->node[k];
  /* learn the pseudo-cost: a gain, none where the bound fell (learn
   * counts that as 0 anyway; a bound of -INT64_MAX, the Lagrangian's
   * floor on a market of extreme prices, less a positive parent's would
   * not fit: fuzz_clear, signed overflow) */
  if (nd->bcol >= 0 && bound < INT64_MAX / 2)
    learn(bb, nd->bdir, (size_t)nd->bcol, bound > nd->pbound ? bound_gain(bound, nd->pbound) : 0, nd->bdist);
  if (reprice_lost(bb, nd, bound, bu)) return 0;
  if (bound > nd->bound) nd->bound = bound;
  if (nd->bound >= cut(bb)) return 0;
  if (!ok) { /* no solution to branch on: the node's bound stands */
    if (nd->bound < bb->leaf_lb) bb->leaf_lb = nd->bound;
    return 0;
  }
  int rc = fix(bb, k);
  if (!rc && rins_due(bb, bu)) rc = node_rins(bb, bu);
  struct pick p = {0};
  if (!rc) rc = pick(bb, k, bu, &p);
  if (!rc && round_due(bu, !p.kind)) {
    bool better = false;
    rc = candidate(bb, &better);
    if (!rc && p.kind) round_done(bb, bu, better);
  }
  if (!rc && p.kind && dive_due(bb, bu)) rc = dive(bb, false);
  else if (!rc && p.kind && guided_dive_due(bb, bu)) rc = dive(bb, true);
  if (rc) return rc;
  if (!p.kind && slack_leaf(bb, bu)) return resolve(bb, k, bu, next);
  if (!p.kind) { /* integral: the rounding of watts is all that is left */
    if (nd->bound < bb->leaf_lb) bb->leaf_lb = nd->bound;
    return 0;
  }
  if (nd->bound >= cut(bb)) return 0; /* the candidate closed it */
  rc = keep_basis(bb, k);
  return rc ? rc : branch(bb, k, &p, next);
}

/* Whether the plunge stops before child k (round 17, plng): k's bound
 * exceeds the least open bound lb by more than bb_plunge_abort of the gap
 * cut − lb. Plunging keeps the simplex warm and its dives find answers,
 * but deep in a subtree far above lb it spends nodes that a better
 * incumbent would prune, while lb, which the proof waits on, stands still.
 * A node solved again at a raised price (resolve) is the same node: never
 * stopped. Late in a proof (best_first, set by the parent's pick) any
 * child above the least open bound stops it. */
static bool plunge_stops(struct bb *bb, int k) {
  double a = bb->best_first ? 1e-9 : bb->p->bb_plunge_abort;
  if (a <= 0 || !bb->n_open || bb->node[k].repriced || bb->node[k].bound >= cut(bb)) return false;
  size_t at = 0;
  int64_t lb = open_min(bb, &at), u = cut(bb);
  if (lb >= u) return false;
  return (double)bb->node[k].bound > (double)lb + a * gap_of(u, lb);
}

/* Node by node: a plunge goes on into the child visit returns (unless
 * plunge_stops), else the open node with the least bound is popped; len
 * counts the plunge's nodes, a node solved again at a raised price
 * (resolve) not counted. */
static int search(struct bb *bb, struct budget *bu) {
  int k = 0, rc = 0, len = 0;
  while (!rc) {
    if (k >= 0 && len > 0 && plunge_stops(bb, k)) { /* k goes open, bound kept */
      open_push(bb, k);
      bu->plunge_aborts++;
      k = -1;
    }
    if (k < 0) k = pop_best(bb), len = 0;
    if (k < 0) break;
    if (bb->node[k].bound >= cut(bb)) { /* pruned unvisited: its parent's basis may go */
      release_basis(bb, k);
      k = -1;
      continue;
    }
    /* counted while deciding whether to stop; taken back with the least
     * bound as it was (only open_min read the list meanwhile) */
    int64_t omin = bb->omin;
    size_t omin_at = bb->omin_at;
    bool omin_ok = bb->omin_ok;
    open_push(bb, k);
    if (gap_closed(bb)) break;
    if (bu->nodes >= bu->node_limit || bu->pivots >= bu->pivot_limit ||
        bb->n_node + 2 > bb->cap_node) {
      bu->hit = true;
      break;
    }
    bb->n_open--;
    if (omin_ok) bb->omin = omin, bb->omin_at = omin_at, bb->omin_ok = true;
    else if (bb->omin_at == bb->n_open) bb->omin_ok = false; /* k held it */
    bool again = bb->node[k].repriced; /* solved again: not a step of the plunge */
    bb->jumped = len == 0 && k != 0;
    int64_t before = inc(bb);
    rc = visit(bb, k, bu, &k);
    if (inc(bb) < before) bu->last_better = bu->nodes;
    if (!again && ++len > bu->plunge_longest) bu->plunge_longest = len;
    if (bu->hit) break;
  }
  return rc;
}

int cl_bb_run(const struct cl_model *md, struct cl_lp *lp, const struct fx_clear_params *p,
              struct cl_state *best, int64_t target, int64_t bound, bool coverage,
              struct cl_bb_out *out) {
  struct bb bb;
  struct budget bu = {.node_limit = p->bb_node_limit, .pivot_limit = p->bb_pivot_limit,
                      .round_every = ROUND_EVERY};
  memset(out, 0, sizeof *out);
  out->bound = bound;
  if (p->bb_node_limit <= 0 || !md->n_cols) return 0;
  int rc = bb_init(&bb, md, lp, p->bb_node_limit);
  bb.best = best, bb.coverage = best->cov, bb.target = target, bb.gap = p->bb_gap;
  bb.cov = coverage, bb.p = p;
  const struct cl_sym *cs = coverage ? &md->sym_cov : &md->sym;
  bb.sym = p->bb_symmetry && cs->n_linked ? cs : NULL;
  if (!rc) rc = cl_lp_bb_begin(lp, bb.kr, coverage);
  if (!rc) {
    new_node(&bb, -1, coverage ? -bound : bound);
    rc = search(&bb, &bu);
    int64_t lb = proven(&bb);
    if (!rc && coverage && -lb < out->bound) out->bound = -lb;
    if (!rc && !coverage && lb > out->bound) out->bound = lb;
  }
  if (rc != FX_CLEAR_EINVAL) cl_lp_bb_end(lp);
  bb_free(&bb);
  out->nodes = bu.nodes, out->pivots = bu.pivots, out->budget_hit = bu.hit;
  out->sb_probes = bu.sb_probes, out->sb_pivots = bu.sb_pivots, out->sym_closed = bu.sym_closed;
  out->rins = bu.rins, out->rins_improved = bu.rins_improved;
  out->reprices = bu.reprices;
  out->plunge_aborts = bu.plunge_aborts, out->plunge_longest = bu.plunge_longest;
  out->rounds = bu.rounds, out->rounds_improved = bu.rounds_improved;
  out->round_backoffs = bu.round_backoffs, out->round_resets = bu.round_resets;
  return rc == FX_CLEAR_EINVAL ? 0 : rc;
}

/* For the tests (test_clear_apply): apply's ranges against the full
 * recomputation it replaced. A random tree over md's columns is grown
 * and visited in random order, nodes visited again with new fixings; at
 * each visit apply runs, then the reference from scratch: every column
 * FULL, the path's change and fixing lists root first, sym_close (with
 * sym, on md's classes); kr must be the reference's, the LP's bounds as
 * set (cur) kr's, and walked the count of columns the reference moves
 * from the last node's. Between visits the node changes kr as visit
 * does: fixings (add_chg), a look-ahead's set and undo (sync,
 * child_set) and a branching (branch, into both children). lp: a begun
 * branch-and-bound LP, whose bounds the visits set. The mismatches, or
 * FX_CLEAR_ENOMEM. */
static uint64_t check_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static int check_one(struct bb *bb, int k, struct cl_krange *ref, struct cl_krange *prev,
                     uint64_t *dsave) {
  const struct cl_model *md = bb->md;
  size_t nw = md->n_cols / 64 + 1, n = 0;
  int bad = 0;
  memcpy(prev, bb->cur, md->n_cols * sizeof *prev);
  int a = apply(bb, k);
  if (a < 0) return a;
  for (size_t c = 0; c < md->n_cols; c++) ref[c] = FULL;
  for (int j = k; j >= 0; j = bb->node[j].parent) bb->path[n++] = j;
  while (n-- > 0) {
    const struct bb_node *nd = &bb->node[bb->path[n]];
    for (size_t e = nd->chg; e < nd->chg + nd->n_chg; e++) ref[bb->chg[e].col] = bb->chg[e].r;
    for (size_t e = nd->fix; e < nd->fix + nd->n_fix; e++) ref[bb->chg[e].col] = bb->chg[e].r;
  }
  bool kept = true;
  if (bb->sym) { /* on the reference, dirty as it was */
    struct cl_krange *kr = bb->kr;
    memcpy(dsave, bb->dirty, nw * sizeof *dsave);
    bb->kr = ref, kept = sym_close(bb), bb->kr = kr;
    memcpy(bb->dirty, dsave, nw * sizeof *dsave);
  }
  if (kept != (a == 1)) return 1;
  int moved = 0;
  for (size_t c = 0; c < md->n_cols; c++) {
    struct cl_krange want = a ? ref[c] : prev[c];
    bad += a && (bb->kr[c].lo != ref[c].lo || bb->kr[c].hi != ref[c].hi);
    bad += bb->cur[c].lo != want.lo || bb->cur[c].hi != want.hi;
    moved += prev[c].lo != want.lo || prev[c].hi != want.hi;
  }
  return bad + (a && moved != bb->walked);
}

/* Node k's changes after its apply, as visit makes them. */
static int check_changes(struct bb *bb, int k, uint64_t *s) {
  const struct cl_model *md = bb->md;
  int rc = 0;
  bb->node[k].fix = bb->n_chg;
  for (int f = (int)(check_rand(s) % 6); !rc && f > 0; f--) {
    size_t c = check_rand(s) % md->n_cols;
    int lo = check_rand(s) % 3 ? 0 : (int)(check_rand(s) % 101), hi = (int)(check_rand(s) % 101);
    rc = add_chg(bb, c, lo, hi < lo ? lo : check_rand(s) % 2 ? hi : 0);
  }
  bb->node[k].n_fix = bb->n_chg - bb->node[k].fix;
  size_t c = check_rand(s) % md->n_cols;
  struct pick p = {.kind = 1, .offer = md->col[c].offer, .col = c, .up = check_rand(s) % 2};
  if (!rc && check_rand(s) % 2) {
    sync(bb);
    child_set(bb, &p, (int)(check_rand(s) % 2), false);
    child_set(bb, &p, p.up, true);
  }
  int next = -1;
  if (!rc && bb->n_node + 2 <= bb->cap_node && check_rand(s) % 4) rc = branch(bb, k, &p, &next);
  return rc;
}

int cl_bb_apply_check(const struct cl_model *md, struct cl_lp *lp, bool sym, uint64_t seed,
                      int visits) {
  struct bb bb;
  uint64_t s = seed;
  int bad = 0, rc = bb_init(&bb, md, lp, visits + 1);
  struct cl_krange *ref = malloc((md->n_cols ? md->n_cols : 1) * sizeof *ref);
  struct cl_krange *prev = malloc((md->n_cols ? md->n_cols : 1) * sizeof *prev);
  uint64_t *dsave = malloc((md->n_cols / 64 + 1) * sizeof *dsave);
  if (!ref || !prev || !dsave) rc = FX_CLEAR_ENOMEM;
  bb.sym = sym && md->sym.n_linked ? &md->sym : NULL;
  if (!rc && md->n_cols) new_node(&bb, -1, 0);
  for (int v = 0; !rc && md->n_cols && v < visits; v++) {
    int k = (int)(check_rand(&s) % bb.n_node), r = check_one(&bb, k, ref, prev, dsave);
    if (r < 0) rc = r;
    else bad += r;
    if (!rc && !r) rc = check_changes(&bb, k, &s);
  }
  free(ref), free(prev), free(dsave);
  bb_free(&bb);
  return rc ? rc : bad;
}
