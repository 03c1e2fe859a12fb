/* test_bench_cpu.c — CPU accounting from /proc and getrusage, the crypto ceiling,
 * and reading identifiers out of a real Ed25519-signed SignedMessage. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness/ceiling.h"
#include "bench/harness/cpu.h"
#include "bench/harness/sink.h"

#define MS UINT64_C(1000000)

Test(bench_cpu, stat_parsing_survives_spaces_and_parentheses_in_the_name) {
  const char *line = "4242 (flexd (w) x) S 1 4242 4242 0 -1 4194560 12 0 0 0 317 45 0 0 20 0 9 0 "
                     "123 456 789\n";
  uint64_t ut = 0, st = 0;
  cr_assert_eq(fx_cpu_parse_stat(line, &ut, &st), 0);
  cr_assert_eq(ut, 317);
  cr_assert_eq(st, 45);
  cr_assert_eq(fx_cpu_parse_stat("4242 flexd S 1", &ut, &st), -1, "no parentheses");
  cr_assert_eq(fx_cpu_parse_stat("4242 (flexd) S 1 2", &ut, &st), -1, "truncated");
}

/* Burns `ns` of this thread's CPU time (bounded by an iteration count as well); the
 * sum is returned so the loop cannot be optimised away. */
static uint64_t burn(uint64_t ns) {
  uint64_t x = 0;
  uint64_t t0 = fx_cpu_thread_ns();
  for (long i = 0; i < 4000000000L && fx_cpu_thread_ns() - t0 < ns; i++) x += (uint64_t)i;
  return x;
}

Test(bench_cpu, process_cpu_time_from_proc_follows_work_done) {
  uint64_t p0, p1, s0, s1;
  cr_assert_eq(fx_cpu_process_ns(getpid(), &p0), 0);
  cr_assert_eq(fx_cpu_self_ns(&s0), 0);
  cr_assert_gt(burn(200 * MS), 0);
  cr_assert_eq(fx_cpu_process_ns(getpid(), &p1), 0);
  cr_assert_eq(fx_cpu_self_ns(&s1), 0);
  /* clock ticks are 10 ms: allow two ticks of rounding on each side */
  cr_assert_geq(p1 - p0, 180 * MS, "/proc saw %llu ns", (unsigned long long)(p1 - p0));
  cr_assert_geq(s1 - s0, 190 * MS, "getrusage saw %llu ns", (unsigned long long)(s1 - s0));
}

Test(bench_cpu, a_missing_process_is_an_error) {
  uint64_t ns;
  cr_assert_eq(fx_cpu_process_ns(2147483647, &ns), -1);
}

Test(bench_cpu, ceiling_times_open_and_sign_separately) {
  struct fx_ceiling_cfg cfg = {.inbound_len = 2048, .response_len = 600, .min_iterations = 64,
                               .max_iterations = 64, .min_cpu_ns = 1};
  struct fx_ceiling c;
  cr_assert_eq(fx_ceiling_measure(&cfg, &c), 0);
  cr_assert_eq(c.iterations, 64);
  cr_assert_eq(c.inbound_len, 2048);
  cr_assert_eq(c.response_len, 600);
  cr_assert_gt(c.open_ns, 0);
  cr_assert_gt(c.sign_ns, 0);
  cr_assert_float_eq(c.pair_ns, c.open_ns + c.sign_ns, 1e-6);
  cr_assert_float_eq(c.pairs_per_core_s, 1e9 / c.pair_ns, 1e-6);
}

Test(bench_cpu, ceiling_runs_at_least_the_minimum_cpu_time) {
  struct fx_ceiling_cfg cfg = {.inbound_len = 100, .response_len = 100, .min_iterations = 16,
                               .min_cpu_ns = 50 * MS, .max_iterations = 200000};
  struct fx_ceiling c;
  uint64_t t0 = fx_cpu_thread_ns();
  cr_assert_eq(fx_ceiling_measure(&cfg, &c), 0);
  cr_assert_geq(fx_cpu_thread_ns() - t0, 50 * MS);
  cr_assert_gt(c.iterations, 16, "kept going until the CPU time was spent");
}

Test(bench_cpu, busy_ceiling_times_the_pair_on_every_thread_at_once) {
  struct fx_ceiling_cfg cfg = {.inbound_len = 512, .response_len = 300, .min_iterations = 32,
                               .max_iterations = 32, .min_cpu_ns = 1};
  struct fx_ceiling c = {.pair_ns = 7, .busy_pair_ns = 0};
  cr_assert_eq(fx_ceiling_measure_busy(&cfg, 3, &c), 0);
  cr_assert_eq(c.busy_threads, 3);
  cr_assert_gt(c.busy_pair_ns, 1000, "three real measurements, not a placeholder");
  cr_assert_float_eq(c.pair_ns, 7, 1e-9, "the single-core ceiling is left alone");
  cr_assert_eq(fx_ceiling_measure_busy(&cfg, 0, &c), -1);
  cr_assert_eq(fx_ceiling_measure_busy(&cfg, 65, &c), -1);
}

/* ---- identifiers of a signed response ---- */

static const char inner[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<FlexOfferResponse xmlns=\"https://shapeshifter.org/2020/uftp/v3\" Version=\"3.1.0\" "
    "SenderDomain=\"flexd.example\" RecipientDomain=\"agr.example\" "
    "TimeStamp=\"2026-11-26T10:00:00Z\" MessageID=\"0e1d2c3b-0000-4000-8000-000000000001\" "
    "ConversationID=\"0e1d2c3b-0000-4000-8000-0000000000c0\" "
    "FlexOfferMessageID=\"0e1d2c3b-0000-4000-8000-0000000000f0\" Result=\"Accepted\"/>";

/* A SignedMessage as the platform sends it: Body = base64(signature || inner XML). */
static char *signed_message(const unsigned char *sk) {
  size_t n = strlen(inner);
  unsigned char *sm = malloc(n + crypto_sign_BYTES);
  unsigned long long smlen;
  crypto_sign(sm, &smlen, (const unsigned char *)inner, n, sk);
  char *b64 = malloc(4 * ((smlen + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)b64, sm, (int)smlen);
  char *out = malloc(strlen(b64) + 256);
  sprintf(out, "<SignedMessage xmlns=\"https://shapeshifter.org/2020/uftp/v3\" "
               "SenderDomain=\"flexd.example\" SenderRole=\"DSO\" Body=\"%s\"/>", b64);
  free(sm);
  free(b64);
  return out;
}

Test(bench_cpu, sink_ids_reads_a_signed_response_without_the_key) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  cr_assert_geq(sodium_init(), 0);
  crypto_sign_keypair(pk, sk);
  char *msg = signed_message(sk);
  struct fx_sink_ids ids;
  cr_assert_eq(fx_sink_ids(msg, strlen(msg), &ids), 0);
  cr_assert_str_eq(ids.sender_domain, "flexd.example");
  cr_assert_str_eq(ids.sender_role, "DSO");
  cr_assert_str_eq(ids.type, "FlexOfferResponse");
  cr_assert_str_eq(ids.message_id, "0e1d2c3b-0000-4000-8000-000000000001");
  cr_assert_str_eq(ids.conversation_id, "0e1d2c3b-0000-4000-8000-0000000000c0");
  cr_assert_str_eq(ids.ref_message_id, "0e1d2c3b-0000-4000-8000-0000000000f0");
  free(msg);
}

Test(bench_cpu, sink_ids_refuses_what_is_not_a_signed_message) {
  struct fx_sink_ids ids;
  const char *bad[] = {
      "not xml at all",
      "<TestMessage MessageID=\"x\"/>",
      "<SignedMessage SenderDomain=\"a\" SenderRole=\"DSO\"/>",
      "<SignedMessage SenderDomain=\"a\" SenderRole=\"DSO\" Body=\"@@@@\"/>",
      "<SignedMessage SenderDomain=\"a\" SenderRole=\"DSO\" Body=\"c2hvcnQ=\"/>",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_eq(fx_sink_ids(bad[i], strlen(bad[i]), &ids), -1, "accepted: %s", bad[i]);
}
