/* test_bench_async.c — asynchronous responses end to end on loopback: real
 * Ed25519-signed SignedMessages POSTed by the load driver arrive at the sink, are
 * stored during the window, then matched to their requests by the referenced
 * MessageID, verified with the sender's key and timed from the intended send.
 * Duplicates, forged signatures, unknown messages and a full arena are counted. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness/async.h"
#include "bench/harness/load.h"
#include "bench/harness/sink.h"

#define S UINT64_C(1000000000)
#define N 40

/* The response the platform would send to offer `i`: Body = base64(sig || XML). */
static char *signed_response(int i, const unsigned char *sk) {
  char inner[512];
  int n = snprintf(inner, sizeof inner,
                   "<FlexOfferResponse xmlns=\"https://shapeshifter.org/2020/uftp/v3\" "
                   "Version=\"3.1.0\" SenderDomain=\"flexd.example\" RecipientDomain=\"agr.example\" "
                   "TimeStamp=\"2026-11-26T10:00:00Z\" MessageID=\"resp-%d\" "
                   "ConversationID=\"conv-%d\" FlexOfferMessageID=\"offer-%d\" Result=\"Accepted\"/>",
                   i, i, i);
  unsigned char sm[512 + crypto_sign_BYTES];
  unsigned long long smlen;
  crypto_sign(sm, &smlen, (const unsigned char *)inner, (unsigned long long)n, sk);
  char b64[1024];
  EVP_EncodeBlock((unsigned char *)b64, sm, (int)smlen);
  char *out = malloc(1400);
  snprintf(out, 1400,
           "<SignedMessage xmlns=\"https://shapeshifter.org/2020/uftp/v3\" "
           "SenderDomain=\"flexd.example\" SenderRole=\"DSO\" Body=\"%s\"/>", b64);
  return out;
}

struct keys {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
};

static int verify(void *user, const struct fx_sink_ids *ids, const char *body, size_t len) {
  const struct keys *k = user;
  if (strcmp(ids->sender_domain, "flexd.example") != 0) return -1;
  return fx_sink_verify(body, len, k->pk);
}

/* Sends `count` requests cycling over the N prepared bodies to a sink that stores
 * what arrives in `a` (as if the platform had delivered them). */
static void deliver(struct fx_async *a, const struct keys *k, uint64_t count) {
  uv_loop_t loop;
  struct fx_sink *sink;
  char err[256];
  cr_assert_eq(uv_loop_init(&loop), 0);
  struct fx_sink_cfg sc = {.on_message = fx_async_on_message, .user = a};
  cr_assert_eq(fx_sink_start(&sink, &loop, &sc, err, sizeof err), 0, "%s", err);
  struct fx_req reqs[N];
  for (int i = 0; i < N; i++) {
    char *body = signed_response(i, k->sk);
    cr_assert_eq(fx_req_build(&reqs[i], "127.0.0.1", fx_sink_port(sink), "/m", "text/xml", body,
                              strlen(body)),
                 0);
    free(body);
  }
  struct fx_load_cfg lc = {.host = "127.0.0.1", .port = fx_sink_port(sink), .connections = 2,
                           .count = count, .duration_ns = 10 * S, .reqs = reqs, .n_reqs = N,
                           .on_response = fx_async_on_response, .user = a};
  struct fx_load_stats *st;
  cr_assert_eq(fx_load_run(&loop, &lc, &st, err, sizeof err), 0, "%s", err);
  cr_assert_eq(st->ok, count);
  fx_load_stats_free(st);
  fx_sink_close(sink);
  uv_run(&loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&loop), 0);
  for (int i = 0; i < N; i++) fx_req_free(&reqs[i]);
}

static struct fx_async *tracker(size_t max_bytes) {
  struct fx_async *a = malloc(sizeof *a);
  cr_assert_not_null(a);
  cr_assert_eq(fx_async_init(a, N, 4 * N, max_bytes), 0);
  for (int i = 0; i < N; i++) {
    char key[32];
    snprintf(key, sizeof key, "offer-%d", i);
    cr_assert_eq(fx_async_expect(a, (uint64_t)i, key), 0);
  }
  return a;
}

static void keys_init(struct keys *k) {
  cr_assert_geq(sodium_init(), 0);
  crypto_sign_keypair(k->pk, k->sk);
}

static void drop(struct fx_async *a) {
  fx_async_free(a);
  free(a);
}

Test(bench_async, every_response_is_matched_verified_and_timed) {
  struct keys k;
  keys_init(&k);
  struct fx_async *a = tracker(1 << 20);
  deliver(a, &k, N);
  cr_assert_eq(a->received, N);
  cr_assert_eq(fx_async_collect(a, verify, &k), N);
  cr_assert_eq(a->unmatched, 0);
  cr_assert_eq(a->duplicates, 0);
  cr_assert_eq(a->bad_signature, 0);
  cr_assert_eq(a->lat.total, N, "one latency per response");
  for (int i = 0; i < N; i++) cr_assert(a->answered[i], "request %d unanswered", i);
  cr_assert_gt(a->last_arrival_ns, 0);
  drop(a);
}

Test(bench_async, a_second_response_to_the_same_request_is_a_duplicate) {
  struct keys k;
  keys_init(&k);
  struct fx_async *a = tracker(1 << 20);
  deliver(a, &k, 2 * N); /* every body twice */
  cr_assert_eq(fx_async_collect(a, verify, &k), N);
  cr_assert_eq(a->duplicates, N);
  cr_assert_eq(a->lat.total, N);
  drop(a);
}

Test(bench_async, responses_signed_with_another_key_are_refused) {
  struct keys k, other;
  keys_init(&k);
  keys_init(&other);
  struct fx_async *a = tracker(1 << 20);
  deliver(a, &other, N);
  cr_assert_eq(fx_async_collect(a, verify, &k), 0);
  cr_assert_eq(a->bad_signature, N);
  cr_assert_eq(a->lat.total, 0);
  drop(a);
}

Test(bench_async, messages_for_unknown_requests_are_unmatched) {
  struct keys k;
  keys_init(&k);
  struct fx_async *a = malloc(sizeof *a);
  cr_assert_eq(fx_async_init(a, N, 4 * N, 1 << 20), 0);
  cr_assert_eq(fx_async_expect(a, 0, "offer-0"), 0); /* only the first is expected */
  deliver(a, &k, N);
  cr_assert_eq(fx_async_collect(a, verify, &k), 1);
  cr_assert_eq(a->unmatched, N - 1);
  drop(a);
}

Test(bench_async, a_full_arena_drops_and_counts) {
  struct keys k;
  keys_init(&k);
  struct fx_async *a = tracker(2000); /* room for a few messages only */
  deliver(a, &k, N);
  cr_assert_eq(a->received, N);
  cr_assert_gt(a->dropped, 0);
  cr_assert_eq(a->n_msgs + a->dropped, N);
  cr_assert_eq(fx_async_collect(a, verify, &k), a->n_msgs);
  drop(a);
}

Test(bench_async, expect_refuses_bad_keys) {
  struct fx_async *a = malloc(sizeof *a);
  cr_assert_eq(fx_async_init(a, 2, 2, 64), 0);
  cr_assert_eq(fx_async_expect(a, 0, "m-1"), 0);
  cr_assert_eq(fx_async_expect(a, 1, "m-1"), -1, "the same key twice");
  cr_assert_eq(fx_async_expect(a, 0, "m-2"), -1, "a second key for one request");
  cr_assert_eq(fx_async_expect(a, 2, "m-3"), -1, "index out of range");
  cr_assert_eq(fx_async_expect(a, 1, ""), -1, "empty key");
  char longkey[80];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  cr_assert_eq(fx_async_expect(a, 1, longkey), -1, "key too long");
  drop(a);
}

Test(bench_async, verify_checks_the_signature_over_the_body) {
  struct keys k, other;
  keys_init(&k);
  keys_init(&other);
  char *msg = signed_response(7, k.sk);
  cr_assert_eq(fx_sink_verify(msg, strlen(msg), k.pk), 0);
  cr_assert_eq(fx_sink_verify(msg, strlen(msg), other.pk), -1);
  char *body = strstr(msg, "Body=\"") + 6;
  body[10] = body[10] == 'A' ? 'B' : 'A'; /* one flipped base64 digit inside the signature */
  cr_assert_eq(fx_sink_verify(msg, strlen(msg), k.pk), -1);
  free(msg);
}
