/* query.h — the read-only market query API: JSON documents built from the
 * store (never from the sequencer's in-memory state, which belongs to another
 * thread), and an HTTP handler that serves them.
 *
 *   GET /api/markets                      every market: CP, Period, request, counts
 *   GET /api/markets/{CP}/{YYYY-MM-DD}    one market: need per ISP, offers with
 *                                         state, orders with state, clearing
 *                                         result (ordered and residual per ISP)
 *   GET /api/settlements/{from}/{to}      the settlement runs whose PeriodStart is in
 *                                         [from, to] (YYYY-MM-DD): per AGR the
 *                                         FlexSettlement, its state, totals and items
 *                                         (open, accepted or disputed, with reasons)
 *   GET /api/settlements/{from}/{to}.csv  their items as CSV for the DSO's finance
 *                                         system (engine/settle.h's format)
 *
 * Fixed fields (states, owners, revisions, times) are read in place from the
 * memory map; the details of requests, offers and orders come from the UFTP
 * message each object stores as its body. A query runs in one read
 * transaction, so it sees one committed state. Not thread-safe: one fx_query
 * per thread (the loop thread for HTTP). docs/market.md shows the documents. */
#ifndef FX_ENGINE_QUERY_H
#define FX_ENGINE_QUERY_H

#include <jansson.h>
#include <stdint.h>

struct fx_config;
struct fx_store;
struct fx_http_request;
struct fx_query;

/* NULL on error (unknown time zone or ISP duration in cfg, no memory). */
struct fx_query *fx_query_new(const struct fx_config *cfg, struct fx_store *st);
void fx_query_free(struct fx_query *q);

/* 0 with *out (caller's reference), or a negative fx_store error. */
int fx_query_markets(struct fx_query *q, json_t **out);
/* FX_STORE_ENOTFOUND when the market has no object at all. */
int fx_query_market(struct fx_query *q, const char *cp, int32_t period, json_t **out);

/* Settlements of runs starting in [from, to] (Periods, inclusive). */
int fx_query_settlements(struct fx_query *q, int32_t from, int32_t to, json_t **out);
/* The same as CSV: *out is malloc'd (caller frees), *len its length. */
int fx_query_settlements_csv(struct fx_query *q, int32_t from, int32_t to, char **out, size_t *len);

/* An fx_http_handler (ud = the fx_query): 200 application/json, 404 for an
 * unknown path or market, 405 for another method than GET, 500 on a store
 * error. */
void fx_query_http(struct fx_http_request *req, void *ud);

#endif
