/* bench_codec_inbound.c — the target of issue 2, measured in one run: the
 * codec's own work on an inbound SignedMessage (envelope parse with the
 * Body's base64 decode, then parse + every schema check of the inner
 * message) against libsodium's crypto_sign_open of the same bytes, for a
 * small (2-ISP) and a 96-ISP FlexOffer. Target: codec <= 0.50 x open.
 *
 * Rows:
 *   envelope           fx_read_signed: SignedMessage parse, attribute checks
 *                      and the one base64 pass (check and decode together)
 *     base64 alone     fx_b64_decode of the same Body (part of the row above)
 *   payload            fx_read_msg of the inner message
 *   codec sum          envelope + payload
 *   crypto_sign_open   libsodium on the decoded Body (the ceiling)
 *   inbound end-to-end fx_read_signed + fx_sign_open_decoded + fx_read_msg,
 *                      measured as one operation (checks the sum)
 *
 * Seven rounds of every row, interleaved, timed in thread CPU time (other
 * processes on a shared machine do not count); best and median shown, the
 * ratio from the best. The default run takes about four seconds.
 *
 *   bench_codec_inbound [seconds per row and size, default 0.3]
 *
 * For instruction counts (stable where wall time is not):
 *
 *   bench_codec_inbound --calls N SIZE    (SIZE 0 = small, 1 = 96-ISP)
 *
 * calls every row's operation N times on one size, untimed, so that
 *   valgrind --tool=callgrind bench_codec_inbound --calls 200 1
 * and callgrind_annotate --inclusive=yes give each op_* function's cost;
 * divide by N (one warm-up call per row is not counted: it is N + 1). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/b64.h"
#include "codec/codec.h"
#include "codec/sign.h"

#define ROUNDS 7

/* The inner FlexOffer as a peer would send it: every header attribute,
 * the optional references, and Duration written out on every ISP. */
static void offer_xml(struct fx_buf *b, int n_isps) {
  char line[160];
  const char *head =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<FlexOffer Version=\"3.1.0\" SenderDomain=\"agr.example.com\" "
      "RecipientDomain=\"flexd.example.com\" TimeStamp=\"2025-03-01T10:15:02.123+01:00\" "
      "MessageID=\"6a1c3d2e-8b4f-4e6a-9c1d-2b3e4f5a6b7c\" "
      "ConversationID=\"0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b\" ISP-Duration=\"PT15M\" "
      "TimeZone=\"Europe/Amsterdam\" Period=\"2025-03-02\" "
      "CongestionPoint=\"ea1.2019-03.nl.example-dso:cp-0042\" "
      "ExpirationDateTime=\"2025-03-01T15:00:00+01:00\" Unsolicited=\"false\" "
      "FlexRequestMessageID=\"5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d\" "
      "D-PrognosisMessageID=\"4c3b2a1d-0f9e-4d8c-9b7a-6f5e4d3c2b1a\" Currency=\"EUR\">\n"
      "  <OfferOption OptionReference=\"option-1\" Price=\"4210.7500\" MinActivationFactor=\"0.50\">\n";
  fx_buf_append(b, head, strlen(head));
  for (int i = 0; i < n_isps; i++) {
    int k = snprintf(line, sizeof line, "    <ISP Power=\"%d\" Start=\"%d\" Duration=\"1\"/>\n",
                     -180000 - 1250 * i, i + 1);
    fx_buf_append(b, line, (size_t)k);
  }
  const char *tail = "  </OfferOption>\n</FlexOffer>\n";
  fx_buf_append(b, tail, strlen(tail));
}

/* One message in every form the rows need. */
struct fixture {
  const char *name;
  struct fx_buf inner, envelope;
  uint8_t pk[32], sk[64];
  uint8_t *sm; /* crypto_sign output: signature ‖ inner */
  unsigned long long smlen;
  char *body; /* base64 of sm */
  size_t body_len;
  uint8_t *scratch;
  size_t scratch_cap;
  fx_reader *reader;
};

static void die(const char *what, const struct fx_error *e) {
  fprintf(stderr, "bench: %s failed%s%s%s%s\n", what, e ? ": " : "", e ? e->where : "", e ? ": " : "",
          e ? e->why : "");
  exit(1);
}

static void fixture_init(struct fixture *f, const char *name, int n_isps) {
  memset(f, 0, sizeof *f);
  f->name = name;
  fx_buf_init(&f->inner);
  fx_buf_init(&f->envelope);
  offer_xml(&f->inner, n_isps);
  /* A fixed key: verification costs vary a little with the key, and the
   * instruction counts of --calls should not. */
  uint8_t seed[crypto_sign_SEEDBYTES];
  memset(seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair(f->pk, f->sk, seed);
  f->sm = malloc(f->inner.len + 64);
  f->body = malloc(FX_B64_ENCODED_LEN(f->inner.len + 64) + 1);
  f->scratch_cap = f->inner.len + 64 + 8;
  f->scratch = malloc(f->scratch_cap);
  f->reader = fx_reader_new(NULL);
  if (!f->sm || !f->body || !f->scratch || !f->reader)
    die("allocation", NULL);
  crypto_sign(f->sm, &f->smlen, (const uint8_t *)f->inner.data, f->inner.len, f->sk);
  f->body_len = (size_t)fx_b64_encode(f->sm, f->smlen, f->body, FX_B64_ENCODED_LEN(f->smlen) + 1);
  struct fx_signed s = {.sender_domain = "agr.example.com", .sender_role = FX_ROLE_AGR,
                        .body = f->body, .body_len = f->body_len};
  struct fx_error err;
  if (fx_write_signed(&s, &f->envelope, &err))
    die("fx_write_signed", &err);
}

static void fixture_free(struct fixture *f) {
  fx_buf_free(&f->inner);
  fx_buf_free(&f->envelope);
  free(f->sm);
  free(f->body);
  free(f->scratch);
  fx_reader_free(f->reader);
}

/* ------------------------------------------------------------- the rows */

typedef void (*op_fn)(struct fixture *f);

static void op_envelope(struct fixture *f) {
  struct fx_signed s;
  struct fx_error err;
  if (fx_read_signed(f->reader, f->envelope.data, f->envelope.len, &s, &err) || s.decoded_len != f->smlen)
    die("fx_read_signed", &err);
}

static void op_base64(struct fixture *f) {
  if (fx_b64_decode(f->body, f->body_len, f->scratch, f->scratch_cap, NULL) != (long)f->smlen)
    die("fx_b64_decode", NULL);
}

static void op_payload(struct fixture *f) {
  const struct fx_msg *m;
  struct fx_error err;
  if (fx_read_msg(f->reader, f->inner.data, f->inner.len, &m, &err))
    die("fx_read_msg", &err);
}

static void op_open(struct fixture *f) {
  unsigned long long n;
  if (crypto_sign_open(f->scratch, &n, f->sm, f->smlen, f->pk))
    die("crypto_sign_open", NULL);
}

static void op_inbound(struct fixture *f) {
  struct fx_signed s;
  struct fx_sign_opened o;
  const struct fx_msg *m;
  struct fx_error err;
  if (fx_read_signed(f->reader, f->envelope.data, f->envelope.len, &s, &err))
    die("fx_read_signed", &err);
  if (fx_sign_open_decoded((const uint8_t(*)[32])f->pk, 1, s.decoded, s.decoded_len, &o) != FX_SIGN_OK)
    die("fx_sign_open_decoded", NULL);
  if (fx_read_msg(f->reader, o.inner, o.len, &m, &err))
    die("fx_read_msg (inner)", &err);
}

enum { ROW_ENVELOPE, ROW_BASE64, ROW_PAYLOAD, ROW_OPEN, ROW_INBOUND, NROWS };
static const struct {
  const char *name;
  op_fn fn;
} rows[NROWS] = {
    [ROW_ENVELOPE] = {"envelope (fx_read_signed, decodes Body)", op_envelope},
    [ROW_BASE64] = {"  of which base64 (fx_b64_decode)", op_base64},
    [ROW_PAYLOAD] = {"payload parse + checks (fx_read_msg)", op_payload},
    [ROW_OPEN] = {"crypto_sign_open (libsodium)", op_open},
    [ROW_INBOUND] = {"inbound end-to-end (read+verify+read)", op_inbound},
};

/* ------------------------------------------------------------- timing */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Calls fn for about secs of CPU time; returns seconds per call. */
static double round_of(op_fn fn, struct fixture *f, double secs) {
  long calls = 0;
  double t0 = now(), t;
  do {
    for (int i = 0; i < 16; i++)
      fn(f);
    calls += 16;
  } while ((t = now()) - t0 < secs);
  return (t - t0) / (double)calls;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void measure(struct fixture fx[2], double secs, double t[NROWS][2][ROUNDS]) {
  for (int r = 0; r < ROUNDS; r++)
    for (int i = 0; i < NROWS; i++)
      for (int k = 0; k < 2; k++)
        t[i][k][r] = round_of(rows[i].fn, &fx[k], secs / ROUNDS);
  for (int i = 0; i < NROWS; i++)
    for (int k = 0; k < 2; k++)
      qsort(t[i][k], ROUNDS, sizeof t[i][k][0], cmp_double);
}

static void print_row(const char *name, double best0, double med0, double best1, double med1) {
  printf("%-42s %8.2f %8.2f %10.0f %8.2f %8.2f %10.0f\n", name, best0 * 1e6, med0 * 1e6, 1 / best0, best1 * 1e6,
         med1 * 1e6, 1 / best1);
}

static void report(const struct fixture fx[2], double t[NROWS][2][ROUNDS]) {
  printf("codec inbound vs crypto_sign_open, one core: inner %zu B / %zu B, envelope %zu B / %zu B\n"
         "(thread CPU time; best and median of %d interleaved rounds; msg/s from the best)\n\n",
         fx[0].inner.len, fx[1].inner.len, fx[0].envelope.len, fx[1].envelope.len, ROUNDS);
  printf("%-42s %28s %28s\n", "", fx[0].name, fx[1].name);
  printf("%-42s %8s %8s %10s %8s %8s %10s\n", "operation", "best us", "med us", "msg/s", "best us", "med us",
         "msg/s");
  for (int i = 0; i < NROWS; i++) {
    if (i == ROW_OPEN) {
      double s[2][2];
      for (int k = 0; k < 2; k++) {
        s[k][0] = t[ROW_ENVELOPE][k][0] + t[ROW_PAYLOAD][k][0];
        s[k][1] = t[ROW_ENVELOPE][k][ROUNDS / 2] + t[ROW_PAYLOAD][k][ROUNDS / 2];
      }
      print_row("codec sum (envelope + payload)", s[0][0], s[0][1], s[1][0], s[1][1]);
    }
    print_row(rows[i].name, t[i][0][0], t[i][0][ROUNDS / 2], t[i][1][0], t[i][1][ROUNDS / 2]);
  }
  printf("\n");
  for (int k = 0; k < 2; k++) {
    double codec = t[ROW_ENVELOPE][k][0] + t[ROW_PAYLOAD][k][0], open = t[ROW_OPEN][k][0];
    double codec_m = t[ROW_ENVELOPE][k][ROUNDS / 2] + t[ROW_PAYLOAD][k][ROUNDS / 2];
    printf("%-18s codec / crypto_sign_open = %.2f (best), %.2f (median); target <= 0.50: %s\n", fx[k].name,
           codec / open, codec_m / t[ROW_OPEN][k][ROUNDS / 2], codec / open <= 0.5 ? "met" : "NOT met");
  }
}

/* Untimed: every row N + 1 times (the first call warms the reader). */
static void calls_only(struct fixture *f, long n) {
  for (int i = 0; i < NROWS; i++)
    for (long c = 0; c <= n; c++)
      rows[i].fn(f);
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--calls")) {
    long n = atol(argv[2]);
    int size = atoi(argv[3]);
    if (sodium_init() < 0 || n <= 0 || size < 0 || size > 1)
      return 1;
    struct fixture f;
    fixture_init(&f, size ? "96-ISP FlexOffer" : "small FlexOffer (2 ISPs)", size ? 96 : 2);
    calls_only(&f, n);
    fixture_free(&f);
    return 0;
  }
  double secs = argc > 1 ? atof(argv[1]) : 0.3;
  if (sodium_init() < 0 || secs <= 0)
    return 1;
  struct fixture fx[2];
  fixture_init(&fx[0], "small FlexOffer (2 ISPs)", 2);
  fixture_init(&fx[1], "96-ISP FlexOffer", 96);
  static double t[NROWS][2][ROUNDS];
  measure(fx, secs, t);
  report(fx, t);
  fixture_free(&fx[0]);
  fixture_free(&fx[1]);
  return 0;
}
