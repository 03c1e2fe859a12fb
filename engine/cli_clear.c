/* cli_clear.c — `flexd clear REQUEST.xml OFFER.xml... [--json] [--at TIME]
 * [--config FILE]`: clears one market offline from UFTP files, with the
 * engine's own solver, order builder and budget (the product's [market]
 * defaults, or those of the platform's configuration file), so operators can
 * replay and audit a clearing and get the orders the platform placed.
 *
 * Rules (DESIGN.md §4, offline): offers must be for the request's CP and
 * Period; solicited offers count only when they reference the request's
 * MessageID; unsolicited ones need no D-PrognosisMessageID; the market's
 * currency is the first usable offer's and offers in another are skipped;
 * expiry is judged only with --at. Skipped offers are named on stderr.
 * Offer order on the command line is the tie-break. Output: the FlexOrders as
 * UFTP XML (one document per order, from the request's RecipientDomain), or
 * with --json one document with the orders and totals. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/calendar.h"
#include "engine/cli.h"
#include "engine/market_int.h"

struct clear_job {
  fx_arena *arena;
  fx_reader *reader;
  const struct fx_msg *req;
  const struct fx_msg **offers; /* usable offers, command-line order */
  size_t n_offers;
  bool json, has_at;
  int64_t at_us;
  int n_isps;
  struct fx_clear_isp *isps;
  struct fx_clear_offer *copts;
  struct fx_clear_params params; /* the platform's: [market] keys over the product defaults */
};

static int fail(const char *fmt, const char *arg) {
  fprintf(stderr, "flexd clear: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
}

static const struct fx_msg *read_file(struct clear_job *j, const char *path, enum fx_msg_type want) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail("cannot open %s", path), NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0, n;
  do {
    if (len == cap) {
      char *p = realloc(buf, cap = cap ? 2 * cap : 65536);
      if (!p)
        break;
      buf = p;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
  } while (n > 0 && len <= (16u << 20));
  fclose(f);
  const struct fx_msg *m = NULL;
  struct fx_error err;
  if (buf && fx_read_msg_arena(j->reader, j->arena, buf, len, &m, &err) != 0) {
    fprintf(stderr, "flexd clear: %s: %s: %s\n", path, err.where, err.why);
    m = NULL;
  } else if (m && m->type != want) {
    fprintf(stderr, "flexd clear: %s: not a %s\n", path, fx_msg_type_name(want));
    m = NULL;
  }
  free(buf);
  return m;
}

static bool same_market(const struct fx_flex_header *a, const struct fx_flex_header *b) {
  return !strcmp(a->congestion_point, b->congestion_point) && fx_date_to_days(&a->period) == fx_date_to_days(&b->period);
}

/* Why offer m does not take part, or NULL. */
static const char *skip_reason(const struct clear_job *j, const struct fx_msg *m, const char *currency) {
  const struct fx_flex_offer *fo = &m->u.flex_offer;
  bool solicited = fo->has_unsolicited ? !fo->unsolicited : fo->has_flex_request_message_id;
  if (!same_market(&fo->flex, &j->req->u.flex_request.flex))
    return "another congestion point or period";
  if (solicited && (!fo->has_flex_request_message_id ||
                    !fx_uuid_equal(&fo->flex_request_message_id, &j->req->hdr.message_id)))
    return "solicited by another request";
  if (j->has_at && fo->expiration_date_time.usec <= j->at_us)
    return "expired";
  if (currency && strcmp(currency, fo->currency))
    return "another currency";
  return NULL;
}

/* The solver's budget as the platform uses it: without --config the product's
 * defaults (fx_config_defaults), with it that file's [market] keys. */
static int config_params(struct fx_clear_params *p, const char *path) {
  struct fx_config cfg;
  char err[512];
  fx_config_defaults(&cfg);
  if (path && fx_config_load(&cfg, path, err, sizeof err) != 0) {
    fprintf(stderr, "flexd clear: %s: %s\n", path, err);
    fx_config_free(&cfg);
    return -1;
  }
  *p = cfg.clear;
  fx_config_free(&cfg);
  return 0;
}

static int parse_args(struct clear_job *j, int argc, char **argv, const char ***files, size_t *n_files) {
  *files = calloc((size_t)argc, sizeof **files);
  if (!*files)
    return 1;
  if (config_params(&j->params, NULL) != 0)
    return 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      j->json = true;
    } else if (!strcmp(argv[i], "--at")) {
      struct fx_datetime t;
      if (i + 1 >= argc || fx_datetime_parse(argv[i + 1], strlen(argv[i + 1]), &t, NULL) != 0)
        return fail("--at needs an xs:dateTime with offset, e.g. %s", "2025-03-01T15:00:00+01:00") + 1;
      j->has_at = true, j->at_us = t.usec, i++;
    } else if (!strcmp(argv[i], "--config")) {
      if (i + 1 >= argc || config_params(&j->params, argv[++i]) != 0)
        return 2;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return fail("unknown option %s", argv[i]) + 1;
    } else {
      (*files)[(*n_files)++] = argv[i];
    }
  }
  if (*n_files < 1) {
    fprintf(stderr, "usage: flexd clear REQUEST.xml OFFER.xml... [--json] [--at TIME] [--config FILE]\n");
    return 2;
  }
  return 0;
}

static int load(struct clear_job *j, const char **files, size_t n_files) {
  if (!(j->req = read_file(j, files[0], FX_MSG_FLEX_REQUEST)))
    return 1;
  const struct fx_flex_header *fh = &j->req->u.flex_request.flex;
  struct fx_calendar *cal = fx_calendar_new(fh->time_zone);
  j->n_isps = cal ? fx_calendar_isp_count(cal, fx_date_to_days(&fh->period), fh->isp_duration.usec) : -1;
  fx_calendar_free(cal);
  if (j->n_isps <= 0)
    return fail("%s: time zone or ISP duration not usable", files[0]);
  j->isps = fx_arena_alloc(j->arena, (size_t)j->n_isps * sizeof *j->isps);
  j->offers = fx_arena_alloc(j->arena, n_files * sizeof *j->offers);
  j->copts = fx_arena_alloc(j->arena, n_files * sizeof *j->copts);
  if (!j->isps || !j->offers || !j->copts)
    return fail("%s", "out of memory");
  mk_request_isps(j->isps, &j->req->u.flex_request, j->n_isps);
  const char *currency = NULL;
  for (size_t i = 1; i < n_files; i++) {
    const struct fx_msg *m = read_file(j, files[i], FX_MSG_FLEX_OFFER);
    if (!m)
      return 1;
    const char *why = skip_reason(j, m, currency);
    struct fx_clear_option *opts = why ? NULL : mk_option_view(j->arena, &m->u.flex_offer, j->n_isps);
    if (!why && !opts)
      why = "ISPs outside the period";
    if (why) {
      fprintf(stderr, "flexd clear: %s skipped: %s\n", files[i], why);
      continue;
    }
    currency = m->u.flex_offer.currency;
    j->copts[j->n_offers] = (struct fx_clear_offer){m->u.flex_offer.n_offer_options, opts};
    j->offers[j->n_offers++] = m;
  }
  return 0;
}

static json_t *money(fx_money v) {
  char s[FX_NUMBER_STRLEN];
  fx_money_format(v, s);
  return json_string(s);
}

static json_t *order_json(const struct fx_msg *offer, const struct fx_clear_order *o, const struct fx_msg *ord) {
  char id[FX_UUID_STRLEN];
  json_t *e = json_object(), *isps = json_array();
  fx_uuid_format(&offer->hdr.message_id, id);
  json_object_set_new(e, "offer_message_id", json_string(id));
  json_object_set_new(e, "option_reference", json_string(offer->u.flex_offer.offer_options[o->option].option_reference));
  json_object_set_new(e, "activation_factor", json_real(o->factor / 100.0));
  for (size_t i = 0; i < ord->u.flex_order.n_isps; i++) {
    const struct fx_isp *s = &ord->u.flex_order.isps[i];
    json_t *x = json_object();
    json_object_set_new(x, "start", json_integer(s->start));
    json_object_set_new(x, "duration", json_integer(s->duration));
    json_object_set_new(x, "power", json_integer(s->power));
    json_array_append_new(isps, x);
  }
  json_object_set_new(e, "isps", isps);
  json_object_set_new(e, "price", money(o->price));
  return e;
}

/* Per Requested ISP: what is needed and what the orders cover of it. */
static json_t *coverage_json(const struct clear_job *j, const struct fx_clear_market *cm, const struct fx_clear_result *r) {
  json_t *arr = json_array();
  int64_t *need = calloc((size_t)j->n_isps, sizeof *need);
  if (need && fx_clear_residual(cm, NULL, 0, NULL, need) == 0)
    for (int t = 0; t < j->n_isps; t++) {
      if (j->isps[t].disposition != FX_CLEAR_REQUESTED)
        continue;
      int64_t n = need[t] < 0 ? -need[t] : need[t];
      int64_t dev = need[t] < 0 ? -r->ordered[t] : r->ordered[t];
      json_t *x = json_object();
      json_object_set_new(x, "isp", json_integer(t + 1));
      json_object_set_new(x, "need", json_integer(n));
      json_object_set_new(x, "covered", json_integer(dev < 0 ? 0 : dev < n ? dev : n));
      json_array_append_new(arr, x);
    }
  free(need);
  return arr;
}

static int emit(struct clear_job *j, const struct fx_clear_market *cm, const struct fx_clear_result *r) {
  int64_t now = j->has_at ? j->at_us : (int64_t)time(NULL) * 1000000;
  const char *platform = j->req->hdr.recipient_domain;
  json_t *doc = json_object(), *orders = json_array();
  struct fx_buf out;
  fx_buf_init(&out);
  int rc = 0;
  for (size_t i = 0; i < r->n_orders && rc == 0; i++) {
    const struct fx_msg *offer = j->offers[r->orders[i].offer];
    struct fx_msg ord;
    struct fx_error err;
    rc = mk_build_order(platform, now, j->arena, offer, (int)r->orders[i].option, r->orders[i].factor, &ord);
    if (rc == 0 && j->json)
      json_array_append_new(orders, order_json(offer, &r->orders[i], &ord));
    else if (rc == 0 && (rc = fx_write_msg(&ord, &out, &err)) != 0)
      fprintf(stderr, "flexd clear: order not written: %s: %s\n", err.where, err.why);
    else if (rc == 0)
      rc = fx_buf_append(&out, "\n", 1);
  }
  if (rc == 0 && j->json) {
    json_object_set_new(doc, "orders", orders), orders = NULL;
    json_object_set_new(doc, "need", json_integer(r->need));
    json_object_set_new(doc, "covered", coverage_json(j, cm, r));
    json_object_set_new(doc, "coverage", json_integer(r->coverage));
    json_object_set_new(doc, "coverage_upper_bound", json_integer(r->coverage_ub));
    json_object_set_new(doc, "total_cost", money(r->cost));
    json_object_set_new(doc, "cost_lower_bound", money(r->cost_lb));
    json_object_set_new(doc, "coverage_gap", json_real(r->coverage_gap));
    json_object_set_new(doc, "cost_gap", json_real(r->cost_gap));
    json_object_set_new(doc, "optimal", json_boolean(r->optimal));
    rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : 1;
    fputc('\n', stdout);
  } else if (rc == 0) {
    fwrite(out.data, 1, out.len, stdout);
  }
  json_decref(orders);
  json_decref(doc);
  fx_buf_free(&out);
  return rc ? 1 : 0;
}

int fx_cli_clear(int argc, char **argv) {
  struct clear_job j = {0};
  const char **files = NULL;
  size_t n_files = 0;
  int rc = parse_args(&j, argc, argv, &files, &n_files);
  if (rc == 0) {
    j.arena = fx_arena_new(0);
    j.reader = fx_reader_new(NULL);
    rc = j.arena && j.reader ? load(&j, files, n_files) : 1;
  }
  if (rc == 0) {
    struct fx_clear_market cm = {.request = {(size_t)j.n_isps, j.isps}, .n_offers = j.n_offers, .offers = j.copts};
    struct fx_clear_result res;
    int err = fx_clear_solve(&cm, &j.params, &res);
    if (err != 0) {
      fprintf(stderr, "flexd clear: the solver failed (%d)\n", err);
      rc = 1;
    } else {
      rc = emit(&j, &cm, &res);
      fx_clear_result_free(&res);
    }
  }
  free(files);
  fx_reader_free(j.reader);
  fx_arena_free(j.arena);
  return rc;
}
