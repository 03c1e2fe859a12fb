/* fuzz_payload.c — libFuzzer target for the inner-message reader.
 *
 * Any input goes through fx_read_msg with tight limits. When it is accepted,
 * it is written back, re-read and compared: the writer must accept what the
 * reader accepted, and the round trip must be semantically exact — so the
 * fuzzer hunts writer and comparator bugs as well as reader crashes.
 *
 * The reader's pre-pass may skip its exact walk after a quick look
 * (codec/read_scan.c): that must only happen where the walk would have
 * found nothing, or where the document is not well-formed and the reader
 * refuses it anyway. Checked with the default limits and with tight ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fx_scan_prepass without a Body span takes the quick look first; with
 * one it always walks exactly. */
static void check_prepass(const uint8_t *data, size_t size, const struct fx_limits *lim, bool read_ok) {
  const char *w1 = NULL, *w2 = NULL;
  struct fx_scan_span span;
  int quick = fx_scan_prepass((const char *)data, size, lim->max_attrs, lim->max_attr_len, NULL, &w1);
  int exact = fx_scan_prepass((const char *)data, size, lim->max_attrs, lim->max_attr_len, &span, &w2);
  if (quick != exact && (quick != 0 || read_ok))
    abort();
}

static void check_tight_prepass(const uint8_t *data, size_t size) {
  struct fx_limits tight = fx_limits_default();
  tight.max_attrs = 4;
  tight.max_attr_len = 16;
  fx_reader *r = fx_reader_new(&tight);
  if (!r)
    abort();
  const struct fx_msg *m;
  struct fx_error err;
  check_prepass(data, size, &tight, fx_read_msg(r, (const char *)data, size, &m, &err) == 0);
  fx_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fx_limits lim = fx_limits_default();
  lim.max_input_bytes = 1 << 20;
  lim.max_arena_bytes = 8 << 20;
  fx_reader *r = fx_reader_new(&lim);
  fx_reader *r2 = fx_reader_new(&lim);
  if (!r || !r2)
    abort();
  const struct fx_msg *m;
  struct fx_error err;
  bool read_ok = fx_read_msg(r, (const char *)data, size, &m, &err) == 0;
  check_prepass(data, size, &lim, read_ok);
  check_tight_prepass(data, size);
  if (read_ok) {
    struct fx_buf buf;
    fx_buf_init(&buf);
    if (fx_write_msg(m, &buf, &err) != 0)
      abort(); /* read but not writable */
    const struct fx_msg *back;
    if (fx_read_msg(r2, buf.data, buf.len, &back, &err) != 0)
      abort(); /* written but not readable */
    char diff[256];
    if (!fx_msg_equal(m, back, diff, sizeof diff))
      abort(); /* round trip changed the message */
    fx_buf_free(&buf);
  } else if (err.code == FX_OK) {
    abort(); /* every failure says what kind it is */
  }
  struct fx_signed s;
  (void)fx_read_signed(r, (const char *)data, size, &s, &err);
  fx_reader_free(r);
  fx_reader_free(r2);
  return 0;
}
