/* test_cli_clear.c — `flexd clear` on the hand-made market in tests/data/market
 * (see its README.md): the known optimum with and without --at, the FlexOrder
 * XML it prints, the JSON totals, the offers it must leave out, usage, and the
 * platform's [market] budget read with --config. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec/codec.h"

#define DATA FLEXD_SOURCE_DIR "/tests/data/market/"
#define ALL DATA "request.xml " DATA "offer-a.xml " DATA "offer-b.xml " DATA "offer-c.xml " DATA "offer-d.xml"

static char out[1 << 16];

static int run(const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s clear %s 2>/dev/null", FLEXD_BINARY, args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *run_json(const char *args) {
  cr_assert_eq(run(args), 0, "%s", out);
  json_error_t err;
  json_t *doc = json_loads(out, 0, &err);
  cr_assert_not_null(doc, "JSON: %s", err.text);
  return doc;
}

Test(cli_clear, without_a_time_the_cheapest_partial_activation_wins) {
  json_t *doc = run_json(ALL " --json");
  json_t *orders = json_object_get(doc, "orders");
  cr_assert_eq(json_array_size(orders), 1);
  json_t *o = json_array_get(orders, 0);
  cr_assert_str_eq(json_string_value(json_object_get(o, "offer_message_id")), "20000000-0000-4000-8000-00000000000d");
  cr_assert_eq(json_real_value(json_object_get(o, "activation_factor")), 0.5);
  cr_assert_str_eq(json_string_value(json_object_get(o, "price")), "5");
  json_t *isp = json_array_get(json_object_get(o, "isps"), 0);
  cr_assert_eq(json_integer_value(json_object_get(isp, "power")), -150000);
  cr_assert_eq(json_integer_value(json_object_get(doc, "need")), 150000);
  cr_assert_eq(json_integer_value(json_object_get(doc, "coverage")), 150000);
  cr_assert_str_eq(json_string_value(json_object_get(doc, "total_cost")), "5");
  cr_assert(json_is_true(json_object_get(doc, "optimal")));
  cr_assert_leq(json_real_value(json_object_get(doc, "cost_gap")), 0.001);
  json_decref(doc);
}

Test(cli_clear, expired_and_foreign_offers_are_left_out_and_available_bounds_hold) {
  json_t *doc = run_json(ALL " --json --at 2025-03-01T15:00:00+01:00");
  json_t *orders = json_object_get(doc, "orders");
  cr_assert_eq(json_array_size(orders), 1);
  /* offer-b is cheaper but breaks ISP 70's bound; offer-c answers another
   * request; offer-d has expired. */
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(orders, 0), "offer_message_id")),
                   "20000000-0000-4000-8000-00000000000a");
  cr_assert_str_eq(json_string_value(json_object_get(doc, "total_cost")), "100");
  json_t *cov = json_array_get(json_object_get(doc, "covered"), 0);
  cr_assert_eq(json_integer_value(json_object_get(cov, "isp")), 69);
  cr_assert_eq(json_integer_value(json_object_get(cov, "covered")), 150000);
  json_decref(doc);
}

Test(cli_clear, prints_schema_valid_flex_orders) {
  cr_assert_eq(run(ALL " --at 2025-03-01T15:00:00+01:00"), 0);
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *m;
  struct fx_error err;
  cr_assert_eq(fx_read_msg(r, out, strlen(out), &m, &err), 0, "%s %s", err.where, err.why);
  cr_assert_eq(m->type, FX_MSG_FLEX_ORDER);
  cr_assert_str_eq(m->hdr.sender_domain, "flexd.example.org");
  cr_assert_str_eq(m->hdr.recipient_domain, "agr1.example.com");
  cr_assert_str_eq(m->u.flex_order.option_reference, "A");
  cr_assert_eq(m->u.flex_order.price, 100 * FX_MONEY_SCALE);
  cr_assert_eq(m->u.flex_order.isps[0].power, -200000);
  fx_reader_free(r);
}

Test(cli_clear, nothing_to_buy_gives_no_orders) {
  json_t *doc = run_json(DATA "request.xml " DATA "offer-c.xml --json");
  cr_assert_eq(json_array_size(json_object_get(doc, "orders")), 0);
  cr_assert_eq(json_integer_value(json_object_get(doc, "coverage")), 0);
  json_decref(doc);
}

Test(cli_clear, usage_and_input_errors) {
  cr_assert_eq(run(""), 2);
  cr_assert_eq(run(DATA "request.xml --bogus"), 2);
  cr_assert_eq(run(DATA "offer-a.xml " DATA "offer-b.xml"), 1, "the first file must be a FlexRequest");
  cr_assert_eq(run(DATA "request.xml /nonexistent.xml"), 1);
}

Test(cli_clear, identical_input_gives_identical_output) {
  static char first[sizeof out];
  cr_assert_eq(run(ALL " --at 2025-03-01T15:00:00+01:00"), 0);
  memcpy(first, out, sizeof out);
  cr_assert_eq(run(ALL " --at 2025-03-01T15:00:00+01:00"), 0);
  cr_assert_str_eq(out, first, "same orders, same MessageIDs");
}

/* --config: the clearing uses that file's [market] keys. Offer E covers 140 of
 * the 150 kW needed for 1, offer A all of it for 100 (both full activation
 * only, and together above the request's 300 kW): within the product's 0.1 %
 * coverage tolerance only A will do; a market configured to give up 10 % of
 * coverage for cost takes E. */
static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  cr_assert_eq(fputs(text, f) >= 0, 1);
  cr_assert_eq(fclose(f), 0);
}

Test(cli_clear, the_configured_market_budget_is_used) {
  char dir[] = "/tmp/flexd-cli-clear-XXXXXX", offer_e[64], cfg[64], bad[64], args[1024];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(offer_e, sizeof offer_e, "%s/offer-e.xml", dir);
  snprintf(cfg, sizeof cfg, "%s/flexd.ini", dir);
  snprintf(bad, sizeof bad, "%s/bad.ini", dir);
  write_file(offer_e,
             "<FlexOffer Version=\"3.1.0\" RecipientDomain=\"flexd.example.org\" TimeStamp=\"2025-03-01T09:15:00+01:00\" "
             "ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\" "
             "CongestionPoint=\"ean.871685900012345678\" SenderDomain=\"agr2.example.com\" "
             "MessageID=\"20000000-0000-4000-8000-00000000000e\" ConversationID=\"20000000-0000-4000-8000-0000000000ce\" "
             "ExpirationDateTime=\"2025-03-01T16:00:00+01:00\" Currency=\"EUR\" Unsolicited=\"true\">"
             "<OfferOption OptionReference=\"E\" Price=\"1\"><ISP Power=\"-140000\" Start=\"69\"/></OfferOption>"
             "</FlexOffer>\n");
  write_file(cfg, "[market]\ncoverage_tolerance = 0.1\n");
  write_file(bad, "[market]\nbb_node_limit = -5\n");

  snprintf(args, sizeof args, DATA "request.xml " DATA "offer-a.xml %s --json", offer_e);
  json_t *doc = run_json(args);
  json_t *o = json_array_get(json_object_get(doc, "orders"), 0);
  cr_assert_eq(json_array_size(json_object_get(doc, "orders")), 1);
  cr_assert_str_eq(json_string_value(json_object_get(o, "offer_message_id")), "20000000-0000-4000-8000-00000000000a");
  json_decref(doc);

  snprintf(args, sizeof args, DATA "request.xml " DATA "offer-a.xml %s --json --config %s", offer_e, cfg);
  doc = run_json(args);
  o = json_array_get(json_object_get(doc, "orders"), 0);
  cr_assert_eq(json_array_size(json_object_get(doc, "orders")), 1);
  cr_assert_str_eq(json_string_value(json_object_get(o, "offer_message_id")), "20000000-0000-4000-8000-00000000000e");
  cr_assert_eq(json_integer_value(json_object_get(doc, "coverage")), 140000);
  json_decref(doc);

  snprintf(args, sizeof args, DATA "request.xml " DATA "offer-a.xml --config %s", bad);
  cr_assert_eq(run(args), 2, "a bad [market] value is refused");
  snprintf(args, sizeof args, DATA "request.xml " DATA "offer-a.xml --config %s/missing.ini", dir);
  cr_assert_eq(run(args), 2, "a missing configuration file is refused");
  remove(offer_e), remove(cfg), remove(bad), rmdir(dir);
}
