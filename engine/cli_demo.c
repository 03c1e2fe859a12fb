/* cli_demo.c — `flexd demo`: one whole market day on loopback, so that the
 * first command a new user runs shows a working market.
 *
 * It starts `flexd serve` (this same binary) through engine/sim.h on a
 * generated configuration in a temporary directory, and plays a DSO with two
 * congestion points and three AGRs, each with keys and a response endpoint of
 * its own, over real HTTP with real signatures: the common reference,
 * D-Prognoses, a FlexRequest per CP, the platform's broadcasts answered,
 * offers (two options on one offer, partial activation, a revocation, one that
 * is refused), clearing on an operator request, and the FlexOrders answered.
 * What it prints about the outcome it reads back from the platform's query
 * API, not from its own script. It cleans up unless --keep. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli.h"
#include "engine/sim.h"

#define CP_N "ean.871685900012345678" /* evening peak: wants less consumption */
#define CP_S "ean.871685900012345679" /* midday solar: wants more consumption */
#define WAIT_MS 10000
#define MAX_OFFERS 8
#define MAX_COPIES 8

struct offer_row {
  char id[FX_UUID_STRLEN];
  const char *agr, *cp, *what;
  char outcome[128];
};

struct copy { /* the platform's copy of a FlexRequest, as one AGR received it */
  char id[FX_UUID_STRLEN], agr[64], cp[64];
};

struct demo {
  struct fx_sim *s;
  fx_arena *a;
  char today[FX_DATE_STRLEN], day[FX_DATE_STRLEN];
  int n_isps, bad, n_orders;
  struct offer_row offers[MAX_OFFERS];
  size_t n_offers;
  struct copy copies[MAX_COPIES];
  size_t n_copies;
};

/* ---- one exchange ------------------------------------------------------------------ */

/* "agr2" for agr2.example.com: enough to tell the participants apart. */
static void short_name(const char *domain, char out[24]) {
  size_t n = strcspn(domain, ".");
  snprintf(out, 24, "%.*s", (int)(n < 23 ? n : 23), domain);
}

/* Sends m, awaits the platform's signed answer and prints one line. Returns 1
 * (Accepted), 0 (Rejected; the reason in reason[] when given) or -1 (no answer). */
static int exchange(struct demo *d, const char *what, struct fx_msg *m, enum fx_msg_type answer, char *reason,
                    size_t cap) {
  char id[FX_UUID_STRLEN], who[24];
  fx_sim_msg_id(m, id);
  short_name(m->hdr.sender_domain, who);
  int status = fx_sim_send_msg(d->s, m);
  printf("  %-19s %-5s %-57s ", fx_msg_type_name(m->type), who, what);
  const struct fx_msg *r = status == 200 ? fx_sim_await(d->s, answer, id, WAIT_MS, d->a) : NULL;
  if (!r) {
    printf("HTTP %d, no %s\n", status, fx_msg_type_name(answer));
    d->bad = 1;
    return -1;
  }
  bool ok = r->result == FX_RESULT_ACCEPTED;
  printf("%s%s%s\n", ok ? "Accepted" : "Rejected", ok ? "" : ": ", ok ? "" : r->rejection_reason);
  if (reason)
    snprintf(reason, cap, "%s", ok ? "" : r->rejection_reason ? r->rejection_reason : "");
  return ok ? 1 : 0;
}

/* Something the platform sent to an AGR, answered Accepted by that AGR. */
static void answered(struct demo *d, const struct fx_msg *m, const char *cp) {
  char id[FX_UUID_STRLEN], who[24], what[96];
  fx_sim_msg_id(m, id);
  short_name(m->hdr.recipient_domain, who);
  snprintf(what, sizeof what, "%.8s.. to %s, %s", id, who, cp);
  int st = fx_sim_answer(d->s, m, NULL, NULL);
  printf("  %-19s %-5s %-57s %s, HTTP %d\n", fx_msg_type_name(m->type), "flexd", what,
         m->type == FX_MSG_FLEX_ORDER ? "FlexOrderResponse Accepted" : "FlexRequestResponse Accepted", st);
  d->bad |= st != 200;
}

/* An exchange that must be accepted. */
static void expect_ok(struct demo *d, const char *what, struct fx_msg *m, enum fx_msg_type answer) {
  if (exchange(d, what, m, answer, NULL, 0) != 1)
    d->bad = 1;
}

/* ---- the market day ------------------------------------------------------------------ */

static void common_reference(struct demo *d) {
  static const char *const north[] = {"ean.871685900001000001", "ean.871685900001000002"};
  static const char *const south[] = {"ean.871685900001000003", "ean.871685900001000004"};
  const struct fx_sim_cp cps[] = {{CP_N, north, 2, true}, {CP_S, south, 2, true}};
  struct fx_msg m;
  printf("1. Common reference (flexd as CRO)\n");
  fx_sim_dso_portfolio(&m, d->a, SIM_DSO, d->today, cps, 2);
  expect_ok(d, "2 congestion points, 4 connections", &m, FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE);
  static const struct { const char *agr; const char *conn[2]; size_t n; const char *what; } agrs[] = {
      {SIM_AGR, {"ean.871685900001000001"}, 1, "1 connection at " CP_N},
      {SIM_AGR2, {"ean.871685900001000002", "ean.871685900001000003"}, 2, "1 connection at each CP"},
      {SIM_AGR3, {"ean.871685900001000004"}, 1, "1 connection at " CP_S}};
  for (size_t i = 0; i < 3; i++) {
    fx_sim_agr_portfolio(&m, d->a, agrs[i].agr, d->today, agrs[i].conn, agrs[i].n);
    expect_ok(d, agrs[i].what, &m, FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE);
  }
}

/* A household-like baseline: low at night, an evening peak. */
static void prognoses(struct demo *d) {
  static const struct { const char *agr, *cp; int64_t base; } p[] = {
      {SIM_AGR, CP_N, 300000}, {SIM_AGR2, CP_N, 450000}, {SIM_AGR2, CP_S, 150000}, {SIM_AGR3, CP_S, 200000}};
  int64_t power[100];
  printf("\n2. D-Prognoses (the AGRs' baselines, %d ISPs each)\n", d->n_isps);
  for (size_t i = 0; i < 4; i++) {
    for (int k = 0; k < d->n_isps; k++)
      power[k] = p[i].base * (k >= 68 && k < 80 ? 2 : k < 24 ? 1 : 3) / 2;
    struct fx_msg m;
    char what[96];
    fx_sim_prognosis(&m, d->a, p[i].agr, p[i].cp, d->day, 1, power, (size_t)d->n_isps);
    snprintf(what, sizeof what, "%s, revision 1", p[i].cp);
    expect_ok(d, what, &m, FX_MSG_D_PROGNOSIS_RESPONSE);
  }
}

/* CP_N: 120..200 kW less from 17:00 to 19:00, with room for rebound around;
 * CP_S: 100 kW more consumption at midday. */
static void requests(struct demo *d) {
  static const struct fx_flex_request_isp north[] = {
      {FX_DISPOSITION_AVAILABLE, -100000, 100000, 67, 2}, {FX_DISPOSITION_REQUESTED, -250000, -120000, 69, 2},
      {FX_DISPOSITION_REQUESTED, -350000, -200000, 71, 4}, {FX_DISPOSITION_REQUESTED, -250000, -100000, 75, 2},
      {FX_DISPOSITION_AVAILABLE, -100000, 100000, 77, 2}};
  static const struct fx_flex_request_isp south[] = {{FX_DISPOSITION_REQUESTED, 100000, 250000, 45, 8}};
  struct fx_msg m;
  printf("\n3. FlexRequests from the DSO, broadcast by the platform\n");
  fx_sim_flex_request(&m, d->a, SIM_DSO, CP_N, d->day, 1, 3600, north, 5);
  expect_ok(d, CP_N ": -120..-200 kW 17-19h", &m, FX_MSG_FLEX_REQUEST_RESPONSE);
  fx_sim_flex_request(&m, d->a, SIM_DSO, CP_S, d->day, 1, 3600, south, 1);
  expect_ok(d, CP_S ": +100 kW 11-13h", &m, FX_MSG_FLEX_REQUEST_RESPONSE);
  /* agr and agr2 at the north CP, agr2 and agr3 at the south one. */
  for (unsigned i = 0; i < 4; i++) {
    const struct fx_msg *c = fx_sim_await_sent(d->s, FX_MSG_FLEX_REQUEST, NULL, i, WAIT_MS, d->a);
    if (!c) {
      printf("  the platform's FlexRequest #%u did not arrive\n", i + 1);
      d->bad = 1;
      return;
    }
    struct copy *k = &d->copies[d->n_copies++];
    fx_sim_msg_id(c, k->id);
    snprintf(k->agr, sizeof k->agr, "%s", c->hdr.recipient_domain);
    snprintf(k->cp, sizeof k->cp, "%s", c->u.flex_request.flex.congestion_point);
    answered(d, c, k->cp);
  }
}

static const char *copy_for(struct demo *d, const char *agr, const char *cp) {
  for (size_t i = 0; i < d->n_copies; i++)
    if (!strcmp(d->copies[i].agr, agr) && !strcmp(d->copies[i].cp, cp))
      return d->copies[i].id;
  return NULL;
}

/* Sends an offer and keeps a row for the report. */
static struct offer_row *offer(struct demo *d, const char *agr, const char *cp, bool solicited, const char *what,
                               const struct fx_offer_option *opts, size_t n) {
  struct fx_msg m;
  struct offer_row *r = &d->offers[d->n_offers++];
  fx_sim_flex_offer(&m, d->a, agr, cp, d->day, 3600, solicited ? copy_for(d, agr, cp) : NULL, opts, n);
  fx_sim_msg_id(&m, r->id);
  r->agr = agr, r->cp = cp, r->what = what;
  char reason[96];
  int rc = exchange(d, what, &m, FX_MSG_FLEX_OFFER_RESPONSE, reason, sizeof reason);
  snprintf(r->outcome, sizeof r->outcome, "%s%s", rc == 1 ? "Accepted" : "Rejected: ", rc == 1 ? "" : reason);
  return r;
}

#define EUR(x) ((fx_money)(x) * FX_MONEY_SCALE)

static void offers(struct demo *d) {
  printf("\n4. FlexOffers from the AGRs\n");
  struct fx_isp full[] = {{-200000, 69, 8}}, peak[] = {{-200000, 71, 4}}, big[] = {{-300000, 69, 8}},
                cheap[] = {{-250000, 69, 8}}, wrong[] = {{-100000, 20, 4}}, up80[] = {{80000, 45, 8}},
                up150[] = {{150000, 45, 8}};
  offer(d, SIM_AGR, CP_N, true, "full -200kW 17-19h EUR200 | peak -200kW 17:30-18:30 EUR70",
        (struct fx_offer_option[]){{"full", EUR(200), 100, full, 1}, {"peak", EUR(70), 100, peak, 1}}, 2);
  offer(d, SIM_AGR2, CP_N, true, "-300kW 17-19h EUR300, activation from 30%",
        (struct fx_offer_option[]){{"flex", EUR(300), 30, big, 1}}, 1);
  struct offer_row *r = offer(d, SIM_AGR2, CP_N, false, "unsolicited -250kW 17-19h EUR50",
                              (struct fx_offer_option[]){{"cheap", EUR(50), 100, cheap, 1}}, 1);
  struct fx_msg m;
  fx_sim_revocation(&m, d->a, SIM_AGR2, r->id);
  expect_ok(d, "withdraws the EUR50 offer", &m,
            FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE);
  r = offer(d, SIM_AGR, CP_N, true, "-100kW 05-06h EUR10 (not what was asked)",
            (struct fx_offer_option[]){{"night", EUR(10), 100, wrong, 1}}, 1);
  d->bad |= strcmp(r->outcome, "Rejected: Request mismatch") != 0;
  offer(d, SIM_AGR2, CP_S, true, "+80kW 11-13h EUR40", (struct fx_offer_option[]){{"solar", EUR(40), 100, up80, 1}},
        1);
  offer(d, SIM_AGR3, CP_S, true, "+150kW 11-13h EUR90, activation from 10%",
        (struct fx_offer_option[]){{"boiler", EUR(90), 10, up150, 1}}, 1);
}

static void clearing(struct demo *d) {
  printf("\n5. Clearing, on an operator request (POST /api/markets/{CP}/{date}/clear)\n");
  const char *cps[] = {CP_N, CP_S};
  for (size_t i = 0; i < 2; i++) {
    int n = -1, st = fx_sim_clear(d->s, cps[i], d->day, &n);
    printf("  %s: HTTP %d, %d FlexOrder(s) placed\n", cps[i], st, n);
    if (st != 200 || n < 0)
      d->bad = 1;
    else
      d->n_orders += n;
  }
}

static void orders(struct demo *d) {
  printf("\n6. FlexOrders delivered to the AGRs, answered\n");
  for (int i = 0; i < d->n_orders; i++) {
    const struct fx_msg *o = fx_sim_await_sent(d->s, FX_MSG_FLEX_ORDER, NULL, (unsigned)i, WAIT_MS, d->a);
    if (!o) {
      printf("  FlexOrder #%d did not arrive\n", i + 1);
      d->bad = 1;
      return;
    }
    answered(d, o, o->u.flex_order.flex.congestion_point);
  }
}

/* ---- the report, from the query API ------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}
static long long jint(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }

/* The need of ISP k (W, signed in its direction) from the request's list; 0
 * for an ISP that is not Requested. DESIGN.md §4 / docs/clearing.md. */
static long long need_at(json_t *need, int k) {
  size_t i;
  json_t *e;
  json_array_foreach(need, i, e) {
    long long s = jint(e, "start"), n = jint(e, "duration"), lo = jint(e, "min_power"), hi = jint(e, "max_power");
    if (k < s || k >= s + n || strcmp(jstr(e, "disposition"), "Requested"))
      continue;
    if (lo >= 0)
      return lo > 0 ? lo : hi;
    return hi < 0 ? hi : lo;
  }
  return 0;
}

static void clock_of(const struct demo *d, int isp, char out[16]) {
  if (d->n_isps == 96)
    snprintf(out, 16, "%02d:%02d", (isp - 1) / 4, (isp - 1) % 4 * 15);
  else
    snprintf(out, 16, "  -  "); /* a DST day: ISP numbers only */
}

/* One row: '#' need covered, '.' need not covered, '+' ordered beyond need. */
static void chart_row(const struct demo *d, int isp, long long need, long long ordered, long long scale) {
  char t[16], bar[96];
  long long dir = need < 0 || (need == 0 && ordered < 0) ? -1 : 1;
  long long n = need * dir, o = ordered * dir, covered = o < n ? (o > 0 ? o : 0) : n;
  size_t w = 0;
  for (long long x = 0; x < (covered + scale / 2) / scale && w < 60; x++)
    bar[w++] = '#';
  for (long long x = 0; x < (n - covered + scale / 2) / scale && w < 60; x++)
    bar[w++] = '.';
  for (long long x = 0; x < (o - n + scale / 2) / scale && w < 60; x++)
    bar[w++] = '+';
  bar[w] = 0;
  clock_of(d, isp, t);
  printf("    %3d %s %8lld %8lld  %s\n", isp, t, need / 1000, ordered / 1000, bar);
}

static void chart(const struct demo *d, json_t *doc) {
  json_t *need = json_object_get(json_object_get(doc, "request"), "need"), *c = json_object_get(doc, "clearing");
  json_t *isps = json_object_get(c, "isps"), *e;
  size_t i;
  long long max = 1;
  json_array_foreach(isps, i, e) {
    long long n = llabs(need_at(need, (int)jint(e, "isp"))), o = llabs(jint(e, "ordered"));
    max = n > max ? n : o > max ? o : max;
  }
  long long scale = (max + 39) / 40;
  printf("  need vs ordered per ISP (kW; '#' covered, '.' missing, '+' beyond need; one mark = %lld kW):\n",
         (scale + 500) / 1000);
  printf("    ISP time      need  ordered\n");
  json_array_foreach(isps, i, e) {
    int k = (int)jint(e, "isp");
    chart_row(d, k, need_at(need, k), jint(e, "ordered"), scale);
  }
  printf("  need %lld kW·ISP, covered %lld, residual %lld, cost EUR %s\n", jint(c, "need_w") / 1000,
         jint(c, "covered_w") / 1000, jint(c, "residual_w") / 1000, jstr(c, "cost"));
}

static void offer_states(const struct demo *d, json_t *doc, const char *cp) {
  json_t *list = json_object_get(doc, "offers");
  printf("  offers:\n");
  for (size_t i = 0; i < d->n_offers; i++) {
    const struct offer_row *r = &d->offers[i];
    if (strcmp(r->cp, cp))
      continue;
    const char *state = "not in the market";
    size_t j;
    json_t *e;
    json_array_foreach(list, j, e) if (!strcmp(jstr(e, "message_id"), r->id)) state = jstr(e, "state");
    char who[24];
    short_name(r->agr, who);
    printf("    %-5s %-57s %-8s (FlexOfferResponse %s)\n", who, r->what, state, r->outcome);
  }
}

static void order_lines(json_t *doc) {
  size_t i, j;
  json_t *o, *s;
  printf("  orders:\n");
  json_array_foreach(json_object_get(doc, "orders"), i, o) {
    printf("    %-17s option %-6s at %3.0f %%: ", jstr(o, "agr"), jstr(o, "option_reference"),
           100 * json_real_value(json_object_get(o, "activation_factor")));
    json_array_foreach(json_object_get(o, "isps"), j, s)
      printf("%+lld kW ISPs %lld-%lld ", jint(s, "power") / 1000, jint(s, "start"),
             jint(s, "start") + jint(s, "duration") - 1);
    printf("for EUR %s, %s\n", jstr(o, "price"), jstr(o, "state"));
  }
}

static void report(struct demo *d) {
  const char *cps[] = {CP_N, CP_S};
  for (size_t i = 0; i < 2; i++) {
    json_t *doc = fx_sim_markets(d->s, cps[i], d->day);
    printf("\nMarket %s on %s (from GET /api/markets/%s/%s)\n", cps[i], d->day, cps[i], d->day);
    if (!doc) {
      printf("  the query API did not answer\n");
      d->bad = 1;
      continue;
    }
    json_t *req = json_object_get(doc, "request");
    printf("  request: revision %lld from %s, %s\n", jint(req, "revision"), jstr(req, "dso"), jstr(req, "state"));
    offer_states(d, doc, cps[i]);
    chart(d, doc);
    order_lines(doc);
    json_decref(doc);
  }
}

/* The generated configuration, as a starting point for a real one. */
static void next_steps(struct demo *d, bool keep) {
  int mp = fx_sim_metrics_port(d->s);
  printf("\nWhere to look next:\n");
  printf("  metrics     http://127.0.0.1:%d/metrics\n", mp);
  printf("  query API   http://127.0.0.1:%d/api/markets   and   /api/markets/%s/%s\n", mp, CP_N, d->day);
  printf("  operator    curl -X POST http://127.0.0.1:%d/api/markets/{CP}/{YYYY-MM-DD}/clear\n", mp);
  printf("  config      %s%s\n", fx_sim_config_path(d->s), keep ? "" : " (removed on exit; its start below)");
  printf("              for a real deployment: your domain, a public listen address, a durable store,\n"
         "              `flexd keygen` keys per role, and one [participant] section per DSO/AGR\n");
  FILE *f = fopen(fx_sim_config_path(d->s), "r");
  char line[512];
  for (int n = 0; f && n < 22 && fgets(line, sizeof line, f); n++)
    printf("      | %s", line);
  if (f)
    fclose(f);
}

static int run(struct demo *d) {
  common_reference(d);
  prognoses(d);
  requests(d);
  offers(d);
  clearing(d);
  orders(d);
  report(d);
  return d->bad;
}

int fx_cli_demo(int argc, char **argv) {
  bool keep = argc > 1 && !strcmp(argv[1], "--keep");
  char self[512];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "flexd demo: cannot find my own binary\n");
    return 1;
  }
  self[n] = 0;
  struct demo d = {.a = fx_arena_new(0)};
  fx_sim_date(d.today, 0);
  fx_sim_date(d.day, 2); /* the day after tomorrow: its day-ahead gate is still ahead, whatever the hour */
  d.n_isps = fx_sim_isp_count(d.day);
  struct fx_sim_opts so = {.outlive = keep};
  printf("flexd demo: one market day on loopback, real HTTP, real Ed25519 signatures\n");
  if (!d.a || d.n_isps <= 0 || !(d.s = fx_sim_start_with(&so, self))) {
    fx_arena_free(d.a);
    return 1;
  }
  printf("  platform %s at http://127.0.0.1:%d/shapeshifter/api/v3/message\n", SIM_PLATFORM, fx_sim_port(d.s));
  printf("  DSO %s; AGRs %s, %s, %s (each its own keys and endpoint)\n", SIM_DSO, SIM_AGR, SIM_AGR2, SIM_AGR3);
  printf("  market day %s (Europe/Amsterdam, %d ISPs of 15 min); store, keys, log: %s\n\n", d.day, d.n_isps,
         fx_sim_dir(d.s));
  int bad = run(&d);
  next_steps(&d, keep);
  fx_arena_free(d.a);
  if (keep) {
    printf("\n--keep: the platform keeps running (pid %d). Stop it with: kill %d\n"
           "(the simulated participants' endpoint goes with this process: later deliveries to them are retried)\n",
           (int)fx_sim_pid(d.s), (int)fx_sim_pid(d.s));
    fx_sim_release(d.s);
    return bad ? 1 : 0;
  }
  int rc = fx_sim_stop_flexd(d.s);
  fx_sim_free(d.s);
  printf("\nPlatform stopped (exit %d), temporary directory removed.%s\n", rc,
         bad ? " Something above did not go as it should." : "");
  return bad || rc != 0 ? 1 : 0;
}
