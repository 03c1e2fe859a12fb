/* fuzz_payload.c — libFuzzer target for the inner-message reader.
 *
 * Any input goes through fx_read_msg with tight limits. When it is accepted,
 * it is written back, re-read and compared: the writer must accept what the
 * reader accepted, and the round trip must be semantically exact — so the
 * fuzzer hunts writer and comparator bugs as well as reader crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
  if (fx_read_msg(r, (const char *)data, size, &m, &err) == 0) {
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
