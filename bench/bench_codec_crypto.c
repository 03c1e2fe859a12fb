/* bench_codec_crypto.c — the cryptographic half of an inbound and outbound
 * message, per second on one core: Ed25519 sign and verify (libsodium, the
 * ceiling), base64 decoding (ours on OpenSSL, and libsodium's constant-time
 * decoder for comparison), and fx_sign_seal / fx_sign_open end to end, for a
 * small (2-ISP, ~600 B) and a 96-ISP (~5.5 KB) FlexOffer.
 *
 * Every figure gets seven rounds, interleaved with all the others; the table
 * shows the best and the median round, timed in thread CPU time. The whole
 * run takes about five seconds. Usage: bench_codec_crypto [seconds-per-figure, default 0.32]. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/b64.h"
#include "codec/sign.h"

static const char SMALL[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<FlexOffer Version=\"3.1.0\" SenderDomain=\"agr.example.com\" "
    "RecipientDomain=\"flexd.example.com\" TimeStamp=\"2025-03-01T10:15:02+01:00\" "
    "MessageID=\"6a1c3d2e-8b4f-4e6a-9c1d-2b3e4f5a6b7c\" "
    "ConversationID=\"0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b\" ISP-Duration=\"PT15M\" "
    "TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\" "
    "CongestionPoint=\"ea1.2019-03.nl.example-dso:cp-0042\" Revision=\"1\" "
    "ExpirationDateTime=\"2025-03-01T15:00:00+01:00\" "
    "FlexRequestMessageID=\"5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d\" Currency=\"EUR\">\n"
    "  <OfferOption OptionReference=\"option-1\" Price=\"125.5000\">\n"
    "    <ISP Power=\"-250000\" Start=\"33\"/>\n"
    "    <ISP Power=\"-251000\" Start=\"34\"/>\n"
    "  </OfferOption>\n"
    "</FlexOffer>\n";

static const char LARGE[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<FlexOffer Version=\"3.1.0\" SenderDomain=\"agr.example.com\" "
    "RecipientDomain=\"flexd.example.com\" TimeStamp=\"2025-03-01T10:15:02.123+01:00\" "
    "MessageID=\"6a1c3d2e-8b4f-4e6a-9c1d-2b3e4f5a6b7c\" "
    "ConversationID=\"0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b\" ISP-Duration=\"PT15M\" "
    "TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\" "
    "CongestionPoint=\"ea1.2019-03.nl.example-dso:cp-0042\" Revision=\"1\" "
    "ExpirationDateTime=\"2025-03-01T15:00:00+01:00\" Unsolicited=\"false\" "
    "FlexRequestMessageID=\"5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d\" "
    "D-PrognosisMessageID=\"4c3b2a1d-0f9e-4d8c-9b7a-6f5e4d3c2b1a\" Currency=\"EUR\">\n"
    "  <OfferOption OptionReference=\"option-1\" Price=\"4210.7500\" MinActivationFactor=\"0.50\">\n"
    "    <ISP Power=\"-180000\" Start=\"1\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-181250\" Start=\"2\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-182500\" Start=\"3\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-183750\" Start=\"4\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-185000\" Start=\"5\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-186250\" Start=\"6\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-187500\" Start=\"7\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-188750\" Start=\"8\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-190000\" Start=\"9\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-191250\" Start=\"10\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-192500\" Start=\"11\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-193750\" Start=\"12\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-195000\" Start=\"13\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-196250\" Start=\"14\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-197500\" Start=\"15\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-198750\" Start=\"16\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-200000\" Start=\"17\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-201250\" Start=\"18\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-202500\" Start=\"19\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-203750\" Start=\"20\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-205000\" Start=\"21\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-206250\" Start=\"22\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-207500\" Start=\"23\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-208750\" Start=\"24\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-210000\" Start=\"25\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-211250\" Start=\"26\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-212500\" Start=\"27\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-213750\" Start=\"28\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-215000\" Start=\"29\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-216250\" Start=\"30\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-217500\" Start=\"31\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-218750\" Start=\"32\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-220000\" Start=\"33\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-221250\" Start=\"34\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-222500\" Start=\"35\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-223750\" Start=\"36\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-225000\" Start=\"37\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-226250\" Start=\"38\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-227500\" Start=\"39\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-228750\" Start=\"40\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-180000\" Start=\"41\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-181250\" Start=\"42\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-182500\" Start=\"43\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-183750\" Start=\"44\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-185000\" Start=\"45\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-186250\" Start=\"46\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-187500\" Start=\"47\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-188750\" Start=\"48\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-190000\" Start=\"49\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-191250\" Start=\"50\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-192500\" Start=\"51\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-193750\" Start=\"52\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-195000\" Start=\"53\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-196250\" Start=\"54\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-197500\" Start=\"55\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-198750\" Start=\"56\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-200000\" Start=\"57\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-201250\" Start=\"58\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-202500\" Start=\"59\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-203750\" Start=\"60\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-205000\" Start=\"61\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-206250\" Start=\"62\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-207500\" Start=\"63\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-208750\" Start=\"64\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-210000\" Start=\"65\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-211250\" Start=\"66\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-212500\" Start=\"67\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-213750\" Start=\"68\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-215000\" Start=\"69\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-216250\" Start=\"70\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-217500\" Start=\"71\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-218750\" Start=\"72\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-220000\" Start=\"73\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-221250\" Start=\"74\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-222500\" Start=\"75\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-223750\" Start=\"76\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-225000\" Start=\"77\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-226250\" Start=\"78\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-227500\" Start=\"79\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-228750\" Start=\"80\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-180000\" Start=\"81\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-181250\" Start=\"82\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-182500\" Start=\"83\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-183750\" Start=\"84\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-185000\" Start=\"85\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-186250\" Start=\"86\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-187500\" Start=\"87\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-188750\" Start=\"88\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-190000\" Start=\"89\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-191250\" Start=\"90\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-192500\" Start=\"91\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-193750\" Start=\"92\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-195000\" Start=\"93\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-196250\" Start=\"94\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-197500\" Start=\"95\" Duration=\"1\"/>\n"
    "    <ISP Power=\"-198750\" Start=\"96\" Duration=\"1\"/>\n"
    "  </OfferOption>\n"
    "</FlexOffer>\n";

/* One message prepared every way the operations need it. */
struct fixture {
  const char *name;
  const char *inner;
  size_t len;
  uint8_t pk[32], sk[64];
  uint8_t *sm; /* crypto_sign output: signature ‖ inner */
  unsigned long long smlen;
  char *body; /* base64 of sm */
  size_t body_len;
  char *wrapped; /* body with a line break every 76 characters */
  size_t wrapped_len;
  uint8_t *scratch; /* decode / open output */
  size_t scratch_cap;
  fx_sign_ctx *ctx;
};

typedef int (*op_fn)(struct fixture *f);

static int op_sign(struct fixture *f) {
  unsigned long long n;
  return crypto_sign(f->scratch, &n, (const uint8_t *)f->inner, f->len, f->sk);
}

static int op_seal(struct fixture *f) {
  const char *b;
  size_t n;
  return fx_sign_seal(f->ctx, f->sk, f->inner, f->len, &b, &n);
}

static int op_verify(struct fixture *f) {
  unsigned long long n;
  return crypto_sign_open(f->scratch, &n, f->sm, f->smlen, f->pk);
}

static int op_b64_ours(struct fixture *f) {
  long n = fx_b64_decode(f->body, f->body_len, f->scratch, f->scratch_cap, NULL);
  return n == (long)f->smlen ? 0 : -1;
}

static int op_b64_wrapped(struct fixture *f) {
  long n = fx_b64_decode(f->wrapped, f->wrapped_len, f->scratch,
                         f->scratch_cap, NULL);
  return n == (long)f->smlen ? 0 : -1;
}

static int op_b64_sodium(struct fixture *f) {
  size_t n = 0;
  int rc = sodium_base642bin(f->scratch, f->scratch_cap, f->body, f->body_len,
                             NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL);
  return rc == 0 && n == f->smlen ? 0 : -1;
}

static int op_open(struct fixture *f) {
  struct fx_sign_opened o;
  int st = fx_sign_open(f->ctx, f->pk, f->body, f->body_len, &o);
  return st == FX_SIGN_OK && o.len == f->len ? 0 : -1;
}

static const struct {
  const char *name;
  op_fn fn;
} ops[] = {
    {"crypto_sign (libsodium)", op_sign},
    {"fx_sign_seal (sign + base64)", op_seal},
    {"crypto_sign_open (ceiling)", op_verify},
    {"base64 decode, flexd", op_b64_ours},
    {"base64 decode, flexd, 76-col lines", op_b64_wrapped},
    {"base64 decode, libsodium", op_b64_sodium},
    {"fx_sign_open (base64 + verify)", op_open},
};
#define NOPS (sizeof ops / sizeof ops[0])

/* CPU time of this thread: on a shared machine, time spent descheduled
 * while other processes run is not ours to count. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Calls fn for about `secs`; returns seconds per call. */
static double round_of(op_fn fn, struct fixture *f, double secs) {
  long calls = 0;
  double t0 = now(), t;
  do {
    for (int i = 0; i < 16; i++)
      if (fn(f) != 0) {
        fprintf(stderr, "bench: an operation failed on %s\n", f->name);
        exit(1);
      }
    calls += 16;
    t = now();
  } while (t - t0 < secs);
  return (t - t0) / (double)calls;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define ROUNDS 7

/* Seconds per call of every operation on both messages: ROUNDS rounds, each
 * visiting every (operation, message) pair once, so that noise from other
 * processes on a shared machine spreads over all figures alike. */
static void measure_all(struct fixture fx[2], double secs,
                        double t[][2][ROUNDS]) {
  double per_round = secs / ROUNDS;
  for (int r = 0; r < ROUNDS; r++)
    for (size_t i = 0; i < NOPS; i++)
      for (int k = 0; k < 2; k++)
        t[i][k][r] = round_of(ops[i].fn, &fx[k], per_round);
  for (size_t i = 0; i < NOPS; i++)
    for (int k = 0; k < 2; k++)
      qsort(t[i][k], ROUNDS, sizeof t[i][k][0], cmp_double);
}

static void fixture_init(struct fixture *f, const char *name,
                         const char *inner) {
  memset(f, 0, sizeof *f);
  f->name = name;
  f->inner = inner;
  f->len = strlen(inner);
  crypto_sign_keypair(f->pk, f->sk);
  f->sm = malloc(f->len + 64);
  crypto_sign(f->sm, &f->smlen, (const uint8_t *)inner, f->len, f->sk);
  f->body = malloc(FX_B64_ENCODED_LEN(f->smlen) + 1);
  f->body_len = (size_t)fx_b64_encode(f->sm, f->smlen, f->body,
                                      FX_B64_ENCODED_LEN(f->smlen) + 1);
  f->wrapped = malloc(f->body_len * 2);
  for (size_t i = 0; i < f->body_len; i++) {
    f->wrapped[f->wrapped_len++] = f->body[i];
    if (i % 76 == 75)
      f->wrapped[f->wrapped_len++] = '\n';
  }
  f->scratch_cap = FX_B64_DECODED_MAX(f->wrapped_len) + 64;
  f->scratch = malloc(f->scratch_cap);
  f->ctx = fx_sign_ctx_new(0);
  if (!f->sm || !f->body || !f->wrapped || !f->scratch || !f->ctx) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
}

static void fixture_free(struct fixture *f) {
  free(f->sm);
  free(f->body);
  free(f->wrapped);
  free(f->scratch);
  fx_sign_ctx_free(f->ctx);
}

/* Prints one size's columns: best and median microseconds, msg/s at best. */
static void print_cell(const double *t) {
  printf(" %8.2f %8.2f %9.0f", t[0] * 1e6, t[ROUNDS / 2] * 1e6, 1 / t[0]);
}

static void print_table(const struct fixture fx[2], double t[][2][ROUNDS]) {
  printf("codec crypto, one core; inner XML %zu B / %zu B, Body %zu / %zu "
         "characters\n(thread CPU time; best and median of %d interleaved rounds; "
         "msg/s from the best)\n\n", fx[0].len, fx[1].len, fx[0].body_len,
         fx[1].body_len, ROUNDS);
  printf("%-36s %27s %27s\n", "", "small FlexOffer", "96-ISP FlexOffer");
  printf("%-36s %8s %8s %9s %8s %8s %9s\n", "operation", "best us", "med us",
         "msg/s", "best us", "med us", "msg/s");
  for (size_t i = 0; i < NOPS; i++) {
    printf("%-36s", ops[i].name);
    print_cell(t[i][0]);
    print_cell(t[i][1]);
    printf("\n");
  }
  printf("\nlibsodium base64 / flexd base64 (best): %5.1fx / %5.1fx\n",
         t[5][0][0] / t[3][0][0], t[5][1][0] / t[3][1][0]);
  printf("fx_sign_open over crypto_sign_open:   %+5.1f%% / %+5.1f%%\n",
         (t[6][0][0] / t[2][0][0] - 1) * 100,
         (t[6][1][0] / t[2][1][0] - 1) * 100);
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.32;
  if (sodium_init() < 0 || secs <= 0)
    return 1;
  struct fixture fx[2];
  fixture_init(&fx[0], "small FlexOffer", SMALL);
  fixture_init(&fx[1], "96-ISP FlexOffer", LARGE);
  static double t[NOPS][2][ROUNDS];
  measure_all(fx, secs, t);
  print_table(fx, t);
  fixture_free(&fx[0]);
  fixture_free(&fx[1]);
  return 0;
}
