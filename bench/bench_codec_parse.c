/* bench_codec_parse.c — messages per second for the codec's own work on
 * one core: parse + every schema check of a small FlexOffer (1 option,
 * 4 ISPs) and of a day-sized one (1 option, 96 ISPs), and writing them.
 * The crypto side of the inbound path is measured by the signing bench.
 *
 *   bench_codec_parse [seconds per row, default 0.5] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void build_offer(struct fx_msg *m, struct fx_offer_option *opt, struct fx_isp *isps, size_t n) {
  memset(m, 0, sizeof *m);
  m->type = FX_MSG_FLEX_OFFER;
  m->hdr.version = "3.1.0";
  m->hdr.sender_domain = "agr.example.com";
  m->hdr.recipient_domain = "dso.example.com";
  const char *ts = "2025-03-01T10:15:30.123+01:00";
  fx_datetime_parse(ts, strlen(ts), &m->hdr.timestamp, NULL);
  const char *id = "6f1c2d3e-1111-4222-8333-944455556666";
  fx_uuid_parse(id, strlen(id), &m->hdr.message_id, NULL);
  fx_uuid_parse(id, strlen(id), &m->hdr.conversation_id, NULL);
  struct fx_flex_offer *o = &m->u.flex_offer;
  o->flex.isp_duration = (struct fx_duration){0, 900 * INT64_C(1000000)};
  o->flex.time_zone = "Europe/Amsterdam";
  o->flex.period = (struct fx_date){.year = 2025, .month = 3, .day = 2};
  o->flex.congestion_point = "ean.871685900012345678";
  o->expiration_date_time = m->hdr.timestamp;
  o->has_flex_request_message_id = true;
  o->flex_request_message_id = m->hdr.message_id;
  o->currency = "EUR";
  for (size_t i = 0; i < n; i++)
    isps[i] = (struct fx_isp){.power = -150000 + (int64_t)i * 17, .start = (int64_t)i + 1, .duration = 1};
  *opt = (struct fx_offer_option){.option_reference = "A", .price = 1234567, .min_activation_factor = 50,
                                  .isps = isps, .n_isps = n};
  o->offer_options = opt;
  o->n_offer_options = 1;
}

struct result {
  double read_per_s, write_per_s;
  size_t bytes;
};

static struct result measure(size_t n_isps, double secs) {
  struct fx_msg m;
  struct fx_offer_option opt;
  struct fx_isp *isps = calloc(n_isps, sizeof *isps);
  build_offer(&m, &opt, isps, n_isps);
  struct fx_buf xml;
  fx_buf_init(&xml);
  struct fx_error err;
  if (fx_write_msg(&m, &xml, &err)) {
    fprintf(stderr, "write: %s: %s\n", err.where, err.why);
    exit(1);
  }
  fx_reader *r = fx_reader_new(NULL);
  const struct fx_msg *out;
  long iters = 0;
  double t0 = now(), t;
  do {
    for (int k = 0; k < 100; k++)
      if (fx_read_msg(r, xml.data, xml.len, &out, &err)) {
        fprintf(stderr, "read: %s: %s\n", err.where, err.why);
        exit(1);
      }
    iters += 100;
  } while ((t = now()) - t0 < secs);
  struct result res = {.read_per_s = (double)iters / (t - t0), .bytes = xml.len};
  struct fx_buf w;
  fx_buf_init(&w);
  iters = 0;
  t0 = now();
  do {
    for (int k = 0; k < 100; k++) {
      fx_buf_reset(&w);
      fx_write_msg(out, &w, &err);
    }
    iters += 100;
  } while ((t = now()) - t0 < secs);
  res.write_per_s = (double)iters / (t - t0);
  fx_buf_free(&w);
  fx_buf_free(&xml);
  fx_reader_free(r);
  free(isps);
  return res;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.5;
  if (secs <= 0)
    secs = 0.5;
  printf("%-28s %8s %14s %10s %14s %10s\n", "message", "bytes", "read+check/s", "us/read", "write/s", "us/write");
  const size_t sizes[] = {4, 96};
  for (size_t i = 0; i < 2; i++) {
    struct result r = measure(sizes[i], secs);
    char name[64];
    snprintf(name, sizeof name, "FlexOffer 1 option %zu ISPs", sizes[i]);
    printf("%-28s %8zu %14.0f %10.2f %14.0f %10.2f\n", name, r.bytes, r.read_per_s, 1e6 / r.read_per_s,
           r.write_per_s, 1e6 / r.write_per_s);
  }
  return 0;
}
