/* cli_check_config.c — `flexd check-config FILE`: everything `flexd serve`
 * would refuse at start-up, found without starting it: the file's syntax and
 * values, the market's time zone and ISP length, the secret key files (present,
 * 0600, matching their public halves), every participant's keys and endpoint.
 * Prints one line per problem and a summary; exit 0 only when there is none. */
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/keys.h"
#include "engine/calendar.h"
#include "engine/cli.h"
#include "engine/config.h"
#include "engine/registry.h"
#include "engine/tls.h"

/* The same refusals as serve: TLS unless plain HTTP is asked for, and a TLS
 * context that actually loads (certificate, 0600 key, client CA). */
static int check_tls(const struct fx_config *c) {
  if (!c->tls_cert[0]) {
    if (c->plain_http) {
      printf("note: plain_http: the UFTP listener has no TLS (put a TLS proxy in front)\n");
      return 0;
    }
    printf("problem: no tls_cert/tls_key and plain_http is not set: serve refuses to start\n");
    return 1;
  }
  struct fx_tls_config tc = {c->tls_cert, c->tls_key, c->tls_client_ca};
  struct fx_tls_ctx *ctx;
  char err[400];
  if (fx_tls_ctx_new(&ctx, &tc, err, sizeof err) != 0) {
    printf("problem: TLS: %s\n", err);
    return 1;
  }
  fx_tls_ctx_free(ctx);
  printf("ok: TLS certificate %s%s\n", c->tls_cert, c->tls_client_ca[0] ? ", client certificates required" : "");
  return 0;
}

static int check_market(const struct fx_config *c) {
  int bad = 0;
  struct fx_duration d;
  const char *why;
  if (fx_duration_parse(c->isp_duration, strlen(c->isp_duration), &d, &why) != 0 || d.months || d.usec <= 0 ||
      d.usec % 60000000) {
    printf("problem: [market] isp_duration '%s' is not a whole number of minutes\n", c->isp_duration);
    bad++;
  }
  struct fx_calendar *cal = fx_calendar_new(c->time_zone);
  if (!cal) {
    printf("problem: [market] time_zone '%s' is not in this machine's tz database\n", c->time_zone);
    bad++;
  }
  fx_calendar_free(cal);
  return bad;
}

static int check_keys(const struct fx_config *c) {
  int bad = 0, any = 0;
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    if (!c->key_file[r][0]) {
      printf("note: no key.%s: flexd cannot send messages as %s\n", fx_role_name(r), fx_role_name(r));
      continue;
    }
    struct fx_keys_pair kp;
    char err[400];
    if (fx_keys_file_read(c->key_file[r], &kp, err, sizeof err) != 0) {
      printf("problem: key.%s: %s\n", fx_role_name(r), err);
      bad++;
      continue;
    }
    char cs1[FX_KEYS_CS1_LEN + 1];
    fx_keys_cs1_format(&kp.pub, cs1);
    fx_keys_wipe(&kp);
    printf("ok: key.%s %s (publish this public key to participants)\n", fx_role_name(r), cs1);
    any++;
  }
  if (!any) {
    printf("problem: no secret key at all: flexd could not answer anyone\n");
    bad++;
  }
  return bad;
}

static int check_participants(const struct fx_config *c) {
  char err[400];
  int bad = 0;
  struct fx_registry *r = fx_registry_new(c, err, sizeof err);
  if (!r) {
    printf("problem: %s\n", err);
    return 1;
  }
  for (size_t i = 0; i < c->n_participants; i++) {
    const struct fx_participant_cfg *p = &c->participants[i];
    if (!p->endpoint[0]) {
      printf("problem: participant %s %s has no endpoint: its responses cannot be delivered\n", p->domain,
             fx_role_name(p->role));
      bad++;
    } else if (strncmp(p->endpoint, "https://", 8) && strncmp(p->endpoint, "http://", 7)) {
      printf("problem: participant %s %s: endpoint '%s' is not an http(s) URL\n", p->domain, fx_role_name(p->role),
             p->endpoint);
      bad++;
    } else if (!strncmp(p->endpoint, "http://", 7)) {
      printf("note: participant %s %s is reached over plain HTTP\n", p->domain, fx_role_name(p->role));
    }
  }
  printf("ok: %zu participant(s)\n", r->n);
  fx_registry_unref(r);
  return bad;
}

static int check_addresses(const struct fx_config *c) {
  char host[128];
  int port, bad = 0;
  if (fx_config_split_addr(c->listen, host, sizeof host, &port) != 0) {
    printf("problem: [platform] listen '%s' is not HOST:PORT\n", c->listen);
    bad++;
  }
  if (c->metrics[0] && fx_config_split_addr(c->metrics, host, sizeof host, &port) != 0) {
    printf("problem: [platform] metrics '%s' is not HOST:PORT\n", c->metrics);
    bad++;
  }
  if (c->store_nosync)
    printf("note: store_nosync is on: acknowledged messages can be lost in a crash (benchmarks only)\n");
  return bad;
}

int fx_cli_check_config(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: flexd check-config FILE\n");
    return 2;
  }
  struct fx_config c;
  char err[300];
  fx_config_defaults(&c);
  if (fx_config_load(&c, argv[1], err, sizeof err) != 0) {
    printf("problem: %s: %s\n", argv[1], err);
    fx_config_free(&c);
    return 1;
  }
  int bad = check_addresses(&c) + check_tls(&c) + check_market(&c) + check_keys(&c) + check_participants(&c);
  printf("%s: %d problem(s)\n", argv[1], bad);
  fx_config_free(&c);
  return bad ? 1 : 0;
}
