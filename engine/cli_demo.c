/* cli_demo.c — `flexd demo`: the platform on loopback with simulated
 * participants, real HTTP and real signatures, showing what happens to a few
 * messages. It starts `flexd serve` (this same binary) on an embedded
 * configuration in a temporary directory, plays a DSO and two AGRs with keys of
 * their own, prints each exchange, and cleans up (unless --keep). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli.h"
#include "engine/sim.h"

static const char *cp = "ean.871685900012345678";

static void offer_xml(char *buf, size_t cap, const char *from, const char *id, const char *isps) {
  char ts[FX_DATETIME_STRLEN], exp[FX_DATETIME_STRLEN], day[FX_DATE_STRLEN];
  fx_sim_time(ts, 0);
  fx_sim_time(exp, 3600);
  fx_sim_date(day, 1);
  snprintf(buf, cap,
           "<FlexOffer Version=\"3.1.0\" SenderDomain=\"%s\" RecipientDomain=\"" SIM_PLATFORM "\" TimeStamp=\"%s\" "
           "MessageID=\"%s\" ConversationID=\"%s\" ISP-Duration=\"PT15M\" TimeZone=\"Europe/Amsterdam\" "
           "Period=\"%s\" CongestionPoint=\"%s\" ExpirationDateTime=\"%s\" Currency=\"EUR\">"
           "<OfferOption OptionReference=\"A\" Price=\"42.50\">%s</OfferOption></FlexOffer>",
           from, ts, id, id, day, cp, exp, isps);
}

/* Sends, then prints the HTTP status and the platform's signed answer. */
static int exchange_nth(struct fx_sim *s, const char *what, const char *from, enum fx_role role, const char *xml,
                        const char *id, enum fx_msg_type answer, unsigned nth) {
  int status = fx_sim_send(s, from, role, xml);
  printf("  %-47s HTTP %d", what, status);
  if (status != 200) {
    printf("\n");
    return 0;
  }
  fx_arena *a = fx_arena_new(0);
  const struct fx_msg *m = a ? fx_sim_await_nth(s, answer, id, nth, 10000, a) : NULL;
  if (!m)
    printf(", no %s arrived\n", fx_msg_type_name(answer));
  else if (fx_msg_type_has_result(m->type))
    printf(", %s %s%s%s\n", fx_msg_type_name(m->type), m->result == FX_RESULT_ACCEPTED ? "Accepted" : "Rejected",
           m->rejection_reason ? ": " : "", m->rejection_reason ? m->rejection_reason : "");
  else
    printf(", %s (signed by %s)\n", fx_msg_type_name(m->type), m->hdr.sender_domain);
  fx_arena_free(a);
  return m ? 0 : -1;
}

static int exchange(struct fx_sim *s, const char *what, const char *from, enum fx_role role, const char *xml,
                    const char *id, enum fx_msg_type answer) {
  return exchange_nth(s, what, from, role, xml, id, answer, 0);
}

static void print_metrics(struct fx_sim *s) {
  static char buf[1 << 17];
  if (fx_sim_get(s, true, "/metrics", buf, sizeof buf) != 200)
    return;
  printf("\nFrom the metrics endpoint (http://127.0.0.1:%d/metrics):\n", fx_sim_metrics_port(s));
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
    if (line[0] != '#' && !strstr(line, "} 0") && (strstr(line, "messages_total") || strstr(line, "rejections_total") ||
                                                    strstr(line, "http_responses_total") ||
                                                    strstr(line, "delivery_attempts_total")))
      printf("  %s\n", line);
}

int fx_cli_demo(int argc, char **argv) {
  int keep = argc > 1 && !strcmp(argv[1], "--keep");
  char self[512];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "flexd demo: cannot find my own binary\n");
    return 1;
  }
  self[n] = 0;
  printf("flexd demo: starting a platform on loopback with simulated participants...\n");
  struct fx_sim_opts so = {.outlive = keep};
  struct fx_sim *s = fx_sim_start_with(&so, self);
  if (!s)
    return 1;
  printf("  platform %s listening on http://127.0.0.1:%d/shapeshifter/api/v3/message\n", SIM_PLATFORM,
         fx_sim_port(s));
  printf("  participants: DSO %s, AGRs %s and %s (own CS1 keys, own response endpoint)\n", SIM_DSO, SIM_AGR,
         SIM_AGR2);
  printf("  working directory (config, keys, LMDB store, log): %s\n\n", fx_sim_dir(s));

  int bad = 0;
  char id[FX_UUID_STRLEN], xml[4096], ts[FX_DATETIME_STRLEN];
  fx_sim_uuid(id);
  fx_sim_time(ts, 0);
  snprintf(xml, sizeof xml,
           "<TestMessage Version=\"3.1.0\" SenderDomain=\"" SIM_DSO "\" RecipientDomain=\"" SIM_PLATFORM "\" "
           "TimeStamp=\"%s\" MessageID=\"%s\" ConversationID=\"%s\"/>",
           ts, id, id);
  printf("Messages:\n");
  bad |= exchange(s, "TestMessage from the DSO", SIM_DSO, FX_ROLE_DSO, xml, id, FX_MSG_TEST_MESSAGE_RESPONSE);
  fx_sim_uuid(id);
  offer_xml(xml, sizeof xml, SIM_AGR, id, "<ISP Power=\"-250000\" Start=\"69\" Duration=\"8\"/>");
  bad |= exchange(s, "FlexOffer, 250 kW less for ISPs 69-76", SIM_AGR, FX_ROLE_AGR, xml, id, FX_MSG_FLEX_OFFER_RESPONSE);
  bad |= exchange_nth(s, "the same FlexOffer again", SIM_AGR, FX_ROLE_AGR, xml, id, FX_MSG_FLEX_OFFER_RESPONSE, 1);
  fx_sim_uuid(id);
  offer_xml(xml, sizeof xml, SIM_AGR2, id, "<ISP Power=\"-1000\" Start=\"10\" Duration=\"4\"/><ISP Power=\"-1000\" Start=\"12\"/>");
  bad |= exchange(s, "FlexOffer with overlapping ISPs", SIM_AGR2, FX_ROLE_AGR, xml, id, FX_MSG_FLEX_OFFER_RESPONSE);
  fx_sim_uuid(id);
  offer_xml(xml, sizeof xml, SIM_AGR2, id, "<ISP Power=\"-1000\" Start=\"10\"/>");
  exchange(s, "FlexOffer signed with a key flexd doesn't know", SIM_LATE, FX_ROLE_AGR, xml, id,
           FX_MSG_FLEX_OFFER_RESPONSE);
  fx_sim_uuid(id);
  offer_xml(xml, sizeof xml, SIM_BARRED, id, "<ISP Power=\"-1000\" Start=\"10\"/>");
  bad |= exchange(s, "FlexOffer from a barred AGR", SIM_BARRED, FX_ROLE_AGR, xml, id, FX_MSG_FLEX_OFFER_RESPONSE);
  print_metrics(s);

  printf("\nMarket clearing, FlexOrders and settlement are being built (see the issues);\n"
         "this demo grows with them.\n");
  if (keep) {
    printf("\n--keep: the platform keeps running (pid %d); config %s. Stop it with kill %d.\n", (int)fx_sim_pid(s),
           fx_sim_config_path(s), (int)fx_sim_pid(s));
    return bad ? 1 : 0; /* the sink goes with this process: responses will be retried */
  }
  int rc = fx_sim_stop_flexd(s);
  fx_sim_free(s);
  printf("\nPlatform stopped (exit %d), temporary directory removed.\n", rc);
  return bad || rc != 0 ? 1 : 0;
}
