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
#include "engine/metrics.h"
#include "engine/registry.h"
#include "engine/sequencer.h"
#include "engine/validate.h"
#include "engine/workers.h"
#include "store/store.h"

struct fx_outbox;
struct fx_market;
struct fx_query;

/* Per worker thread: everything a job needs that must not be shared. */
struct fx_thread_ctx {
  fx_reader *rd;
  fx_sign_ctx *sc;
  struct fx_calendar *cal;
  struct fx_validator *val;
};

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
};

struct fx_server {
  uv_loop_t loop;
  struct fx_config cfg;
  char config_path[512];
  struct fx_store *store;
  struct fx_registry *reg;
  struct fx_duration isp;
  struct fx_keys_pair keys[FX_ROLE_COUNT];
  bool has_key[FX_ROLE_COUNT];
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
  struct fx_server_metrics met;
  uv_signal_t sig_term, sig_int, sig_hup;
  uv_timer_t tick;
  bool stopping;
  unsigned ingest_inflight; /* requests handed to workers or the sequencer */
  unsigned pending_stops;   /* listeners still closing */
};

/* ingest.c */
void fx_ingest_handler(struct fx_http_request *req, void *ud); /* fx_http_handler */
void fx_ingest_committed(struct fx_inbound *group, void *ud);  /* sequencer callback */
void fx_ingest_job_work(struct fx_workers_job *job, void *thread_ctx);

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

#endif
