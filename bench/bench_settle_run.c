/* bench_settle_run.c — a month's settlement run in the engine, on a real store.
 *
 * Builds one month (March 2025) in a fresh LMDB store the way the market keeps
 * it: 1,000 congestion points, each with 3 connections of 3 of the 100 AGRs;
 * 100,000 FlexOrders (4 ISPs each, XML bodies as market_clear.c stores them),
 * the D-Prognosis baseline profile each order names, and a 96-ISP Metering
 * profile per connection and day (93,000; 92 ISPs on the DST day). The objects are written directly
 * with the market's layouts (engine/market_int.h) rather than through the
 * sequencer, so building the month does not dominate the run. Then the market
 * is loaded and fx_market_run_settlement runs as a sequencer command over the
 * whole month: every order is read in place, settled and put into one
 * FlexSettlement per AGR, each AGR's committed with its items in its own group
 * (the command names the sequencer, as engine/server.c does). With
 * --one-group the command does not, and the whole run is one transaction.
 *
 * Every order has its FlexOffer (ordered) and its D-Prognosis object, as the
 * market stores them, so the start and the restart read what a real month
 * leaves behind.
 *
 * Reported: build, start, run and restart times; after each phase the
 * resident memory, split into anonymous (heap) and file-backed (LMDB map
 * pages read), and the phase's peak (VmHWM, reset before each phase).
 *
 * The store carries the counters the market keeps (the clock day, the last
 * Period per CP), as a store written by the engine does, so the start reads
 * only the hot window; --no-counters leaves them out, as in a store from
 * before them, which is read in full once.
 *
 * --start-only DIR opens a store an earlier run left in DIR (give the run a
 * DIR) and times the market's start alone, in a fresh process, so the memory
 * shown is what the start reads and keeps.
 *
 * Usage: bench_settle_run [--one-group] [--no-counters] [orders] [dir]
 *        bench_settle_run --start-only dir
 *        (defaults 100000, a fresh /tmp dir) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "engine/market_int.h"

enum { CPS = 1000, AGRS = 100, PER_CP = 3, DAYS = 31, CHUNK = 5000 };
#define PLATFORM "flexd.example.org"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The process's memory, from /proc/self/status (kB): resident now, its peak
 * since the last reset_peak(), and the resident part that is anonymous (heap)
 * and file-backed (the LMDB map's pages read so far). */
struct mem {
  long rss, hwm, anon, file;
};
static struct mem mem_now(void) {
  struct mem m = {0, 0, 0, 0};
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    sscanf(line, "VmRSS: %ld", &m.rss);
    sscanf(line, "VmHWM: %ld", &m.hwm);
    sscanf(line, "RssAnon: %ld", &m.anon);
    sscanf(line, "RssFile: %ld", &m.file);
  }
  if (f)
    fclose(f);
  return m;
}
/* Resets VmHWM to the current RSS (Linux: clear_refs 5), so a phase's peak shows. */
static void reset_peak(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f) {
    fputs("5", f);
    fclose(f);
  }
}
static void print_mem(const char *what, struct mem m) {
  printf("  %-26s RSS %5ld MB (anon %5ld MB, file %5ld MB), peak %5ld MB\n", what, m.rss >> 10, m.anon >> 10,
         m.file >> 10, m.hwm >> 10);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_settle_run: %s: %d\n", what, rc);
  exit(1);
}

/* Scratch memory for one commit's borrowed bytes. */
struct pool {
  char *p;
  size_t used, cap;
};
static void *pool_alloc(struct pool *p, size_t n) {
  if (p->used + n > p->cap)
    die("pool exhausted", (int)n);
  void *r = p->p + p->used;
  p->used += (n + 15) & ~(size_t)15;
  return r;
}
static const char *pool_str(struct pool *p, const char *s) { return strcpy(pool_alloc(p, strlen(s) + 1), s); }

static void commit(struct fx_store *st, struct fx_store_batch *b, struct pool *p) {
  int rc = fx_store_commit(st, b);
  if (rc)
    die("commit", rc);
  fx_store_batch_reset(b);
  p->used = 0;
}

static void cp_name(int cp, char *out) { sprintf(out, "ean.87168590%010d", cp); }
static void conn_name(int cp, int k, char *out) { sprintf(out, "ean.%016d", cp * PER_CP + k); }
static void agr_name(int cp, int k, char *out) { sprintf(out, "agr%03d.example.com", (cp * PER_CP + k) % AGRS); }

static void build_reference(struct fx_store *st, struct fx_store_batch *b, struct pool *p) {
  static const uint8_t cpbody[3] = {1, 2, 0};
  char s[64];
  for (int cp = 0; cp < CPS; cp++) {
    cp_name(cp, s);
    const char *cps = pool_str(p, s);
    fx_store_batch_put_ref(b, &(struct fx_store_ref){.kind = FX_REF_CP, .k1 = cps, .k2 = "", .owner = "dso.example.com",
                                                     .role = FX_ROLE_DSO, .from = 0, .to = MK_OPEN_END,
                                                     .body = cpbody, .body_len = 3});
    for (int k = 0; k < PER_CP; k++) {
      conn_name(cp, k, s);
      const char *c = pool_str(p, s);
      agr_name(cp, k, s);
      fx_store_batch_put_ref(b, &(struct fx_store_ref){.kind = FX_REF_CONNECTION, .k1 = c, .k2 = "cp", .owner = cps,
                                                       .role = FX_ROLE_DSO, .from = 0, .to = MK_OPEN_END});
      fx_store_batch_put_ref(b, &(struct fx_store_ref){.kind = FX_REF_CONNECTION, .k1 = c, .k2 = "agr",
                                                       .owner = pool_str(p, s), .role = FX_ROLE_AGR, .from = 0,
                                                       .to = MK_OPEN_END});
    }
  }
  commit(st, b, p);
}

/* ISPs per day: 96, but 92 on 30 March 2025 (DST) in Europe/Amsterdam. */
static int isps_of(int32_t day) {
  struct fx_calendar *cal = fx_calendar_new("Europe/Amsterdam");
  int n = fx_calendar_isp_count(cal, day, 900000000);
  fx_calendar_free(cal);
  return n;
}

static uint8_t *profile(struct pool *p, int n, int64_t base, int64_t dip, const char *tail, size_t *len) {
  size_t tl = tail ? strlen(tail) + 1 : 0;
  *len = MK_PROFILE_HDR + 8 * (size_t)n + tl;
  uint8_t *b = pool_alloc(p, *len);
  memset(b, 0, MK_PROFILE_HDR);
  b[0] = 'W', b[1] = 1, b[2] = (uint8_t)n;
  for (int i = 0; i < n; i++)
    mk_st64(b + MK_PROFILE_HDR + 8 * (size_t)i, (uint64_t)(i >= 68 && i < 72 ? base - dip : base));
  if (tail)
    memcpy(b + MK_PROFILE_HDR + 8 * (size_t)n, tail, tl);
  return b;
}

/* Metering for every connection and day: 1 MW, 150 kW less at ISPs 69-72. */
static void build_metering(struct fx_store *st, struct fx_store_batch *b, struct pool *p, int32_t day0) {
  char s[64], c[64];
  unsigned n = 0;
  for (int d = 0; d < DAYS; d++) {
    int isps = isps_of(day0 + d);
    for (int cp = 0; cp < CPS; cp++)
      for (int k = 0; k < PER_CP; k++) {
        cp_name(cp, s), conn_name(cp, k, c);
        size_t len;
        uint8_t *body = profile(p, isps, 1000000, 150000, c, &len);
        struct fx_store_obj o = {.key = {.cp = pool_str(p, s), .period = day0 + d, .kind = FX_OBJ_METERING},
                                 .revision = 1, .t_us = 1};
        agr_name(cp, k, s);
        o.owner = pool_str(p, s), o.body = body, o.body_len = len;
        memcpy(o.key.id, &n, sizeof n), memcpy(o.key.id + 8, "metering", 8);
        n++;
        fx_store_batch_put_obj(b, &o);
        if (b->n >= CHUNK)
          commit(st, b, p);
      }
  }
  commit(st, b, p);
}

/* The FlexOffer an order was placed on (state ordered), as market_trade.c
 * stores it: the restart reads it back. */
static void write_offer(struct fx_store_batch *b, struct pool *p, fx_arena *a, const struct fx_uuid *id,
                        const struct fx_uuid *dp, const char *cp, const char *agr, int32_t day) {
  struct fx_isp *isps = fx_arena_alloc(a, 4 * sizeof *isps);
  struct fx_offer_option *oo = fx_arena_alloc(a, sizeof *oo);
  for (int j = 0; j < 4; j++)
    isps[j] = (struct fx_isp){-150000, 69 + j, 1};
  *oo = (struct fx_offer_option){.option_reference = "opt1", .price = 150000, .min_activation_factor = 50,
                                 .isps = isps, .n_isps = 4};
  struct fx_msg m = {.type = FX_MSG_FLEX_OFFER,
                     .hdr = {.version = "3.1.0", .sender_domain = agr, .recipient_domain = PLATFORM,
                             .timestamp = {1740787200000000, 0}, .message_id = *id, .conversation_id = *id}};
  struct fx_flex_offer *fo = &m.u.flex_offer;
  fo->flex.isp_duration.usec = 900000000, fo->flex.time_zone = "Europe/Amsterdam";
  fx_date_from_days(day, &fo->flex.period);
  fo->flex.congestion_point = cp;
  fo->expiration_date_time.usec = 1740787200000000 + (int64_t)(day - fx_days_from_civil(2025, 3, 1)) * 86400000000;
  fo->has_unsolicited = true, fo->unsolicited = true;
  fo->has_d_prognosis_message_id = true, fo->d_prognosis_message_id = *dp;
  fo->currency = "EUR", fo->offer_options = oo, fo->n_offer_options = 1;
  struct fx_buf x;
  struct fx_error err;
  fx_buf_init(&x);
  if (fx_write_msg(&m, &x, &err) != 0)
    die(err.why, 0);
  char *body = pool_alloc(p, x.len);
  memcpy(body, x.data, x.len);
  struct fx_store_obj o = {.key = {.cp = cp, .period = day, .kind = FX_OBJ_OFFER}, .state = FX_OFFER_OPEN,
                           .t_us = 1, .owner = agr, .body = body, .body_len = x.len};
  memcpy(o.key.id, id->b, 16);
  fx_store_batch_put_obj(b, &o);
  fx_store_batch_set_state(b, &o.key, FX_OFFER_ORDERED, 1);
  fx_buf_free(&x);
}

static void write_order(struct fx_store_batch *b, struct pool *p, fx_arena *a, int i, int cp, int k, int32_t day,
                        int isps_day) {
  char cps[64], agr[64], ref[FX_UUID_STRLEN];
  cp_name(cp, cps), agr_name(cp, k, agr);
  struct fx_uuid id = {{0}}, dp = {{0}}, offer = {{0}}, base;
  memcpy(id.b, &i, sizeof i), memcpy(id.b + 8, "orderXXX", 8);
  memcpy(dp.b, &i, sizeof i), memcpy(dp.b + 8, "progXXXX", 8);
  memcpy(offer.b, &i, sizeof i), memcpy(offer.b + 8, "offerXXX", 8);
  struct fx_isp *isps = fx_arena_alloc(a, 4 * sizeof *isps);
  for (int j = 0; j < 4; j++)
    isps[j] = (struct fx_isp){-100000 - 25000 * (i % 3), 69 + j, 1};
  fx_uuid_format(&id, ref);
  struct fx_msg m = {.type = FX_MSG_FLEX_ORDER,
                     .hdr = {.version = "3.1.0", .sender_domain = PLATFORM, .recipient_domain = agr,
                             .timestamp = {1740787200000000, 0}, .message_id = id, .conversation_id = id}};
  struct fx_flex_order *fo = &m.u.flex_order;
  fo->flex.isp_duration.usec = 900000000, fo->flex.time_zone = "Europe/Amsterdam";
  fx_date_from_days(day, &fo->flex.period);
  fo->flex.congestion_point = cps;
  fo->has_flex_offer_message_id = true, fo->flex_offer_message_id = offer;
  fo->option_reference = "opt1";
  fo->has_d_prognosis_message_id = true, fo->d_prognosis_message_id = dp;
  fo->price = 100000 + 1000 * (i % 50), fo->currency = "EUR", fo->order_reference = ref;
  fo->activation_factor = 100, fo->isps = isps, fo->n_isps = 4;
  struct fx_buf x;
  struct fx_error err;
  fx_buf_init(&x);
  if (fx_write_msg(&m, &x, &err) != 0)
    die(err.why, 0);
  char *body = pool_alloc(p, x.len);
  memcpy(body, x.data, x.len);
  const char *cpc = pool_str(p, cps), *agc = pool_str(p, agr);
  struct fx_store_obj o = {.key = {.cp = cpc, .period = day, .kind = FX_OBJ_ORDER}, .state = FX_ORDER_PLACED,
                           .t_us = 1, .owner = agc, .body = body, .body_len = x.len};
  memcpy(o.key.id, id.b, 16);
  fx_store_batch_put_obj(b, &o);
  fx_buf_free(&x);
  write_offer(b, p, a, &offer, &dp, cpc, agc, day);
  /* the D-Prognosis itself (no body: its revision), and the baseline of the D-Prognosis the order names: 1 MW flat */
  size_t len;
  uint8_t *bl = profile(p, isps_day, 1000000, 0, NULL, &len);
  fx_uuid_derive(&base, "flexd.baseline", &dp, NULL);
  struct fx_store_obj bo = {.key = {.cp = cpc, .period = day, .kind = FX_OBJ_PROGNOSIS}, .t_us = 1, .owner = agc,
                            .body = bl, .body_len = len};
  memcpy(bo.key.id, base.b, 16);
  fx_store_batch_put_obj(b, &bo);
  struct fx_store_obj po = {.key = {.cp = cpc, .period = day, .kind = FX_OBJ_PROGNOSIS}, .revision = 1, .t_us = 1,
                            .owner = agc};
  memcpy(po.key.id, dp.b, 16);
  fx_store_batch_put_obj(b, &po);
}

static void build_orders(struct fx_store *st, struct fx_store_batch *b, struct pool *p, int32_t day0, int n) {
  fx_arena *a = fx_arena_new(0);
  int isps[DAYS];
  for (int d = 0; d < DAYS; d++)
    isps[d] = isps_of(day0 + d);
  for (int i = 0; i < n; i++) {
    int d = (i / CPS) % DAYS;
    write_order(b, p, a, i, i % CPS, (i / (CPS * DAYS)) % PER_CP, day0 + d, isps[d]);
    if (b->n >= CHUNK) {
      commit(st, b, p);
      fx_arena_reset(a);
    }
  }
  commit(st, b, p);
  fx_arena_free(a);
}

/* What the market writes as it goes (engine/market_int.h): the clock day
 * (the run's, 1 April) and, per CP, the last Period with a market. Without
 * them (--no-counters) the store is one from before the hot window, read in
 * full once. */
static void build_counters(struct fx_store *st, struct fx_store_batch *b, struct pool *p, int32_t day0) {
  char s[64];
  fx_store_batch_counter_raise(b, MK_CLOCK_COUNTER, mk_day_counter(day0 + DAYS));
  for (int cp = 0; cp < CPS; cp++) {
    char *name = pool_alloc(p, 48);
    cp_name(cp, s);
    mk_cp_counter(s, name);
    fx_store_batch_counter_raise(b, name, mk_day_counter(day0 + DAYS - 1));
  }
  commit(st, b, p);
}

/* A restart in a fresh process: only what the start itself reads is resident. */
static int start_alone(const char *dir) {
  struct fx_store *st;
  struct fx_store_opts so = {.path = dir, .no_sync = 1};
  if (fx_store_open(&st, &so) != 0)
    die("open", 0);
  struct fx_config cfg;
  fx_config_defaults(&cfg);
  strcpy(cfg.domain, PLATFORM);
  struct mem before = mem_now();
  double t0 = now_s();
  char err[256];
  struct fx_market *mk = fx_market_new(&cfg, st, err, sizeof err);
  if (!mk)
    die(err, 0);
  double t1 = now_s();
  struct fx_market_memory mm;
  fx_market_memory(mk, &mm);
  printf("bench_settle_run --start-only: market start %.2f s, %zu markets, %zu ids, %zu metering entries in memory\n",
         t1 - t0, mm.markets, mm.ids, mm.meters);
  print_mem("before the start:", before);
  print_mem("after the start:", mem_now());
  fx_market_free(mk);
  fx_store_close(st);
  fx_config_free(&cfg);
  return 0;
}

static int done_err = -99;
static void on_done(struct fx_seq_command *c) { done_err = c->store_err; }

int main(int argc, char **argv) {
  bool one_group = false, counters = true, start_only = false;
  for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
    if (!strcmp(argv[1], "--one-group"))
      one_group = true;
    else if (!strcmp(argv[1], "--no-counters"))
      counters = false;
    else if (!strcmp(argv[1], "--start-only"))
      start_only = true;
    else
      die("usage: bench_settle_run [--one-group] [--no-counters] [orders] [dir] | --start-only dir", 0);
  }
  if (start_only)
    return argc == 2 ? start_alone(argv[1]) : 2;
  int n_orders = argc > 1 ? atoi(argv[1]) : 100000;
  char dir[256] = "/tmp/flexd-bench-settle-XXXXXX";
  if (argc > 2)
    snprintf(dir, sizeof dir, "%s", argv[2]);
  else if (!mkdtemp(dir))
    die("mkdtemp", 0);
  struct fx_store *st;
  struct fx_store_opts so = {.path = dir, .no_sync = 1, .map_size = 1u << 30};
  int rc = fx_store_open(&st, &so);
  if (rc)
    die("open", rc);
  struct fx_config cfg;
  fx_config_defaults(&cfg);
  strcpy(cfg.domain, PLATFORM);
  cfg.penalty_rate = 110000;
  int32_t day0 = fx_days_from_civil(2025, 3, 1);

  double t0 = now_s();
  struct fx_store_batch b;
  fx_store_batch_init(&b);
  struct pool p = {malloc(64u << 20), 0, 64u << 20};
  build_reference(st, &b, &p);
  build_metering(st, &b, &p, day0);
  build_orders(st, &b, &p, day0, n_orders);
  if (counters)
    build_counters(st, &b, &p, day0);
  fx_store_batch_free(&b);
  free(p.p);
  double t1 = now_s();

  char err[256];
  reset_peak();
  struct fx_market *mk = fx_market_new(&cfg, st, err, sizeof err);
  if (!mk)
    die(err, 0);
  double t2 = now_s();
  struct mem m_loaded = mem_now();

  uv_loop_t loop;
  uv_loop_init(&loop);
  struct fx_sequencer *seq;
  struct fx_sequencer_cfg sc = {.loop = &loop, .store = st, .platform_domain = PLATFORM, .hooks = fx_market_hooks(mk)};
  if (fx_sequencer_start(&seq, &sc) != 0)
    die("sequencer", 0);
  struct fx_market_settlement s = {.from = day0, .to = day0 + DAYS - 1, .seq = one_group ? NULL : seq};
  struct fx_seq_command c = {.run = fx_market_run_settlement, .done = on_done, .now_us = 1743465600000000, .arg = &s};
  reset_peak();
  double t3 = now_s();
  fx_sequencer_command(seq, &c);
  for (long i = 0; i < 6000000 && done_err == -99; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  double t4 = now_s();
  struct mem m_run = mem_now();
  fx_sequencer_stop(seq);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  /* A restart with the month (and its settlements) in the store. */
  fx_market_free(mk);
  reset_peak();
  double t5 = now_s();
  mk = fx_market_new(&cfg, st, err, sizeof err);
  if (!mk)
    die(err, 0);
  double t6 = now_s();
  struct mem m_restart = mem_now();

  printf("bench_settle_run: %d orders, %d CPs, %d AGRs, %d connections x %d days of 96-ISP metering\n", n_orders, CPS,
         AGRS, CPS * PER_CP, DAYS);
  printf("  build (direct writes)   %.2f s\n", t1 - t0);
  printf("  market load (start)     %.2f s\n", t2 - t1);
  print_mem("after start:", m_loaded);
  printf("  settlement run + commit%s %.2f s (commit %d, error %d)\n", one_group ? " (one group)" : " (a group per AGR)",
         t4 - t3, done_err, s.error);
  print_mem("after the run:", m_run);
  printf("  restart (market load)   %.2f s\n", t6 - t5);
  print_mem("after restart:", m_restart);
  printf("  FlexSettlements %d, order settlements %d, incomplete %d\n", s.messages, s.orders, s.incomplete);
  printf("  store map %zu MB\n", fx_store_map_size(st) >> 20);
  fx_market_free(mk);
  fx_store_close(st);
  fx_config_free(&cfg);
  if (argc <= 2) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
      return 1;
  }
  return done_err == 0 && s.error == 0 ? 0 : 1;
}
