/* test_key_rotation.c — the platform's own key rotated without downtime, end
 * to end: a real flexd, a SIGHUP after the key file has been replaced, and
 * responses checked against the keys the simulation knows (engine/sim.h).
 * Also GET /api/keys (what a DNS TXT record would publish: new and old side
 * by side), a retry in flight across the rotation, a broken key file on
 * SIGHUP, and the log: JSON lines without a byte of any secret key. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config.h"
#include "tests/support/peer.h"

static struct fx_sim *sim;
static void setup(void) { sim = fx_peer_start(NULL); }
static void teardown(void) { fx_sim_free(sim); }
TestSuite(key_rotation, .init = setup, .fini = teardown, .timeout = 90);

static const char *test_message(const char *id) {
  static char buf[512];
  return fx_sim_test_message(buf, sizeof buf, SIM_AGR, SIM_PLATFORM, id);
}

static void send_test(char id[FX_UUID_STRLEN]) {
  fx_sim_uuid(id);
  cr_assert_eq(fx_sim_send(sim, SIM_AGR, FX_ROLE_AGR, test_message(id)), 200);
}

/* The response to id, verified by the simulation with the key it has now. */
static bool response_verifies(const char *id, int timeout_ms) {
  fx_arena *a = fx_arena_new(0);
  bool ok = fx_sim_await(sim, FX_MSG_TEST_MESSAGE_RESPONSE, id, timeout_ms, a) != NULL;
  fx_arena_free(a);
  return ok;
}

/* GET /api/keys, parsed; the caller owns it. */
static json_t *get_keys(void) {
  static char resp[8192];
  cr_assert_eq(fx_sim_operator(sim, "GET", "/api/keys", resp, sizeof resp), 200, "%s", resp);
  json_error_t e;
  json_t *j = json_loads(resp, 0, &e);
  cr_assert_not_null(j, "%s: %s", e.text, resp);
  return j;
}

/* The entry of `role` in /api/keys (borrowed from j). */
static json_t *role_entry(json_t *j, const char *role) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(j, "keys"), i, e) if (!strcmp(json_string_value(json_object_get(e, "role")), role))
      return e;
  cr_assert_fail("no %s in /api/keys", role);
  return NULL;
}

static const char *field(json_t *e, const char *k) {
  json_t *v = json_object_get(e, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The current public key of every role, as /api/keys lists them. */
static void current_keys(char out[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1]) {
  json_t *j = get_keys();
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    snprintf(out[r], FX_KEYS_CS1_LEN + 1, "%s", field(role_entry(j, fx_role_name(r)), "current"));
  json_decref(j);
}

/* SIGHUP, then waits (bounded) until /api/keys no longer lists `before` as
 * the AGR role's current key. */
static void sighup_and_wait(const char *before_agr) {
  cr_assert_eq(kill(fx_sim_pid(sim), SIGHUP), 0);
  for (int i = 0; i < 500; i++) {
    char now[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1];
    current_keys(now);
    if (strcmp(now[FX_ROLE_AGR], before_agr))
      return;
    usleep(10000);
  }
  cr_assert_fail("SIGHUP did not change the keys within 5 s");
}

static void rotate_all(void) {
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    cr_assert_eq(fx_sim_rotate_platform_key(sim, (enum fx_role)r), 0);
}

Test(key_rotation, responses_before_sighup_use_the_old_key_and_after_it_the_new_one) {
  char a[FX_UUID_STRLEN], b[FX_UUID_STRLEN];
  char old[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1];
  current_keys(old);
  send_test(a);
  cr_assert(response_verifies(a, 15000), "the response before the rotation verifies with the old key");
  rotate_all(); /* from here the simulation knows only the new keys */
  sighup_and_wait(old[FX_ROLE_AGR]);
  send_test(b);
  cr_assert(response_verifies(b, 15000), "the response after SIGHUP verifies with the new key");
  cr_assert_eq(kill(fx_sim_pid(sim), 0), 0, "flexd is still running");

  json_t *j = get_keys();
  cr_assert_str_eq(field(j, "domain"), SIM_PLATFORM);
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    json_t *e = role_entry(j, fx_role_name(r));
    cr_assert_str_eq(field(e, "previous"), old[r], "%s: the old key is published beside the new", fx_role_name(r));
    cr_assert_str_neq(field(e, "current"), old[r]);
    char txt[2 * FX_KEYS_CS1_LEN + 2], name[300];
    snprintf(txt, sizeof txt, "%s %s", field(e, "current"), old[r]);
    cr_assert_str_eq(field(e, "txt"), txt, "the TXT record lists new then old");
    snprintf(name, sizeof name, "_%s._usef.%s", fx_role_name(r), SIM_PLATFORM);
    cr_assert_str_eq(field(e, "name"), name);
  }
  json_decref(j);
}

Test(key_rotation, a_delivery_retried_across_the_rotation_arrives_signed_with_the_new_key) {
  char id[FX_UUID_STRLEN];
  char old[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1];
  current_keys(old);
  fx_sim_sink_status(sim, 503); /* the participant is down: the response waits in the outbox */
  send_test(id);
  for (int i = 0; i < 500 && fx_sim_sink_hits(sim) < 1; i++)
    usleep(10000);
  cr_assert_geq(fx_sim_sink_hits(sim), 1, "a first attempt was made");
  rotate_all();
  sighup_and_wait(old[FX_ROLE_AGR]);
  fx_sim_sink_status(sim, 200);
  cr_assert(response_verifies(id, 20000), "the retry is delivered, signed with the new key");
}

Test(key_rotation, a_broken_key_file_on_sighup_keeps_the_running_keys) {
  char before[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1], after[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1], path[256];
  current_keys(before);
  snprintf(path, sizeof path, "%s/platform-AGR.key", fx_sim_dir(sim));
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs("public=cs1.garbage\n", f);
  fclose(f);
  cr_assert_eq(kill(fx_sim_pid(sim), SIGHUP), 0);
  /* The reload is done when the participants line is logged: wait for it. */
  char log[512];
  snprintf(log, sizeof log, "%s/flexd.log", fx_sim_dir(sim));
  bool seen = false;
  for (int i = 0; i < 500 && !seen; i++) {
    usleep(10000);
    FILE *lf = fopen(log, "r");
    char line[4096];
    while (lf && fgets(line, sizeof line, lf))
      seen |= strstr(line, "keeping the running keys") != NULL;
    if (lf)
      fclose(lf);
  }
  cr_assert(seen, "the refused key file is logged");
  current_keys(after);
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++)
    cr_assert_str_eq(after[r], before[r], "%s keeps its key", fx_role_name(r));
  char id[FX_UUID_STRLEN];
  send_test(id);
  cr_assert(response_verifies(id, 15000), "responses still verify with the running key");
}

/* The base64 of the secret line of a key file (read before it is replaced). */
static void secret_of(const char *path, char *out, size_t cap) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  char line[1024];
  out[0] = 0;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "secret=", 7))
      snprintf(out, cap, "%.*s", (int)strcspn(line + 7, "\r\n"), line + 7);
  fclose(f);
  cr_assert(strlen(out) >= 128, "%s has a secret line", path);
}

Test(key_rotation, the_log_is_json_lines_without_any_secret_key) {
  char secrets[2 * FX_ROLE_COUNT][256], path[256], old[FX_ROLE_COUNT][FX_KEYS_CS1_LEN + 1];
  size_t ns = 0;
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    snprintf(path, sizeof path, "%s/platform-%s.key", fx_sim_dir(sim), fx_role_name(r));
    secret_of(path, secrets[ns++], sizeof secrets[0]);
  }
  current_keys(old);
  rotate_all();
  sighup_and_wait(old[FX_ROLE_AGR]);
  for (int r = FX_ROLE_AGR; r < FX_ROLE_COUNT; r++) {
    snprintf(path, sizeof path, "%s/platform-%s.key", fx_sim_dir(sim), fx_role_name(r));
    secret_of(path, secrets[ns++], sizeof secrets[0]);
  }
  char id[FX_UUID_STRLEN];
  fx_sim_uuid(id);
  cr_assert_eq(fx_sim_send(sim, SIM_AGR, FX_ROLE_AGR, "<TestMessage/>"), 400); /* an http_refused line */
  cr_assert_eq(fx_sim_stop_flexd(sim), 0);

  snprintf(path, sizeof path, "%s/flexd.log", fx_sim_dir(sim));
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  char line[8192];
  unsigned lines = 0, start = 0, sighup_keys = 0, refused = 0, stop = 0;
  while (fgets(line, sizeof line, f)) {
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    cr_assert_not_null(j, "not a JSON line (%s): %s", e.text, line);
    const char *ev = json_string_value(json_object_get(j, "event"));
    cr_assert_not_null(ev, "%s", line);
    cr_assert_not_null(json_string_value(json_object_get(j, "ts")), "%s", line);
    start += !strcmp(ev, "start");
    stop += !strcmp(ev, "stop");
    refused += !strcmp(ev, "http_refused") && json_integer_value(json_object_get(j, "status")) == 400;
    if (!strcmp(ev, "sighup") && json_object_get(j, "key")) {
      sighup_keys++;
      const char *role = json_string_value(json_object_get(j, "role"));
      cr_assert_str_eq(json_string_value(json_object_get(j, "previous")), old[fx_role_from_name(role)]);
    }
    for (size_t s = 0; s < ns; s++)
      for (size_t i = 0; i + 12 <= strlen(secrets[s]); i += 4) {
        char piece[13];
        snprintf(piece, sizeof piece, "%.12s", secrets[s] + i);
        cr_assert_null(strstr(line, piece), "a piece of a secret key in the log: %s", line);
      }
    json_decref(j);
    lines++;
  }
  fclose(f);
  cr_assert_eq(start, 1);
  cr_assert_eq(stop, 1);
  cr_assert_eq(refused, 1, "the 400 is logged with its status");
  cr_assert_eq(sighup_keys, FX_ROLE_COUNT - FX_ROLE_AGR, "one line per rotated role");
  cr_assert_gt(lines, 4);
}

Test(key_rotation, log_format_text_keeps_the_one_line_human_form) {
  cr_assert_eq(fx_sim_stop_flexd(sim), 0);
  char path[256];
  snprintf(path, sizeof path, "%s/flexd.log", fx_sim_dir(sim));
  cr_assert_eq(truncate(path, 0), 0);
  cr_assert_eq(fx_sim_set_extra_platform(sim, "log_format = text"), 0);
  cr_assert_eq(fx_sim_restart_flexd(sim), 0);
  cr_assert_eq(fx_sim_send(sim, SIM_AGR, FX_ROLE_AGR, "<TestMessage/>"), 400);
  cr_assert_eq(fx_sim_stop_flexd(sim), 0);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  char line[8192];
  unsigned lines = 0, refused = 0;
  while (fgets(line, sizeof line, f)) {
    cr_assert(!strncmp(line, "flexd: ", 7), "text line: %s", line);
    refused += !strncmp(line, "flexd: 400 to 127.0.0.1", 23);
    lines++;
  }
  fclose(f);
  cr_assert_eq(refused, 1, "the 400 in the old form");
  cr_assert_geq(lines, 3);
}
