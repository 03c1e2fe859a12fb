/* server_int.h — what the server's files (server.c, ingest.c, outbox.c) share.
 * Not a public header: nothing outside those files includes it. */
#ifndef FX_ENGINE_SERVER_INT_H
#define FX_ENGINE_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "codec/codec.h"
#include "codec/keys.h"
#include "codec/sign.h"
#include "engine/calendar.h"
#include "engine/config.h"
#include "engine/http_client.h"
#include "engine/http_server.h"
#include "engine/log.h"
#include "engine/metrics.h"
#include "engine/registry.h"
#include "engine/sequencer.h"
#include "engine/validate.h"
#include "engine/workers.h"
#include "store/store.h"

struct fx_outbox;
struct fx_market;
struct fx_query;
struct ingest_job;

/* Per worker thread: everything a job needs that must not be shared. */
struct fx_thread_ctx {
  fx_reader *rd;
  fx_sign_ctx *sc;
  struct fx_calendar *cal;
  struct fx_validator *val;
  unsigned crypto_tick[2]; /* calls since the last sample, per FX_CRYPTO_* */
  struct fx_histogram *crypto_cpu[2];
};

/* The cryptography's own CPU cost, sampled where it runs: one call in
 * FX_CRYPTO_SAMPLE_EVERY of each kind, on each worker, is timed with the
 * thread's CPU clock (a system call each side, so not every call) into
 * flexd_crypto_cpu_seconds{op=open|sign}. Its mean beside the process's CPU
 * per message says what share of the platform is the unavoidable signature
 * work under the real load, where the same code runs slower than on an idle
 * core (docs/bench.md, "The crypto inside flexd"). */
enum { FX_CRYPTO_OPEN, FX_CRYPTO_SIGN };
#define FX_CRYPTO_SAMPLE_EVERY 8

/* 0 when this call is not sampled, else the thread's CPU clock in ns (+1). */
int64_t fx_crypto_sample_begin(struct fx_thread_ctx *tc, int op);
void fx_crypto_sample_end(struct fx_thread_ctx *tc, int op, int64_t begin);

#define FX_HTTP_CODES 10

/* Metric series, registered once at start-up. */
struct fx_server_metrics {
  struct fx_metrics *m;
  struct fx_counter *messages[FX_MSG__COUNT][FX_SEQ_RESULT_COUNT];
  struct fx_counter *rejections[24];
  const char *rejection_names[24];
  unsigned n_rejections;
  struct fx_counter *http_status[FX_HTTP_CODES]; /* 200 400 401 404 405 411 413 429 431 503 */
  struct fx_histogram *stage_open, *stage_parse, *stage_validate, *stage_commit, *end_to_end;
  struct fx_counter *delivery[4];    /* delivered retry rejected expired */
  struct fx_gauge *outbox_inflight, *outbox_pending, *journal_messages, *store_bytes, *participants;
  struct fx_counter *orders_expired; /* FlexOrders unanswered within order_response_timeout */
  struct fx_counter *clearing_failures; /* clearings that failed (retried with back-off) */
  struct fx_histogram *crypto_cpu[2]; /* FX_CRYPTO_OPEN, FX_CRYPTO_SIGN: sampled thread CPU */
};

/* The platform's own keys: an immutable snapshot, reference-counted like the
 * registry's. SIGHUP reads the key files into a new snapshot and swaps it in;
 * a delivery holds the snapshot it started with until it is done, so a worker
 * never signs with a key that is being replaced or wiped. References are taken
 * and dropped on the loop thread only. */
struct fx_platform_keys {
  struct fx_keys_pair cur[FX_ROLE_COUNT]; /* signing keys (secret halves wiped on free) */
  bool has[FX_ROLE_COUNT];
  char cur_cs1[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1];
  char prev_cs1[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1]; /* "" = no rollover */
  unsigned refs;
};

struct market_swap;

struct fx_server {
  uv_loop_t loop;
  struct fx_config cfg;  /* the loop thread's (workers read its fixed keys) */
  struct fx_config mcfg; /* the market's copy: written only on the sequencer thread
                          * (a reload's command), read there by the market */
  char config_path[512];
  struct fx_store *store;
  struct fx_registry *reg;
  struct fx_duration isp;
  struct fx_log log;             /* read-only once running: shared by all threads */
  struct fx_platform_keys *keys; /* the current snapshot (loop thread) */
  struct fx_workers *workers;
  struct fx_sequencer *seq;
  struct fx_http_server *http, *metrics_http;
  struct fx_http_client *client;
  struct fx_outbox *outbox;
  struct fx_market *market;
  struct fx_query *query;
  uv_timer_t clear_timer;  /* fires at the next market's clearing time */
  uv_timer_t settle_timer; /* fires at the next monthly settlement run */
  int64_t settle_due_us;   /* when that run is due */
  unsigned settle_runs;    /* settlement runs submitted and not done */
  struct market_swap *parked; /* a reload's [market] values waiting for them */
  struct fx_server_metrics met;
  uv_signal_t sig_term, sig_int, sig_hup;
  uv_timer_t tick;
  bool stopping;
  unsigned ingest_inflight; /* requests handed to workers or the sequencer */
  struct ingest_job *ingest_pool; /* finished jobs kept for reuse (ingest.c) */
  unsigned n_ingest_pool;
  unsigned pending_stops;   /* listeners still closing */
  int64_t drain_started;    /* monotonic µs of SIGTERM */
};

/* ingest.c */
void fx_ingest_handler(struct fx_http_request *req, void *ud); /* fx_http_handler */
void fx_ingest_committed(struct fx_inbound *group, void *ud);  /* sequencer callback */
void fx_ingest_job_work(struct fx_workers_job *job, void *thread_ctx);
void fx_ingest_pool_free(struct fx_server *srv); /* at teardown */

/* outbox.c */
int fx_outbox_new(struct fx_outbox **out, struct fx_server *srv);
void fx_outbox_free(struct fx_outbox *ob);
void fx_outbox_kick(struct fx_outbox *ob);               /* rows may be due: scan soon */
void fx_outbox_groups(struct fx_outbox *ob, uint64_t n); /* sequencer progress */
unsigned fx_outbox_inflight(const struct fx_outbox *ob);

/* server.c */
int64_t fx_now_us(void);      /* wall clock, µs since the epoch */
int64_t fx_mono_us(void);     /* monotonic clock, µs */
void fx_count_http(struct fx_server *srv, int status);
void fx_count_reasons(struct fx_server *srv, const char *reasons);
/* Reads the key files cfg names into a new snapshot (refs = 1); NULL with a
 * message in err (never key material) on any failure. */
struct fx_platform_keys *fx_platform_keys_load(const struct fx_config *cfg, char *err, size_t errlen);
struct fx_platform_keys *fx_platform_keys_ref(struct fx_platform_keys *k);
void fx_platform_keys_unref(struct fx_platform_keys *k);

#endif
