/* fuzz_http.c — arbitrary bytes through the server's request parsing path.
 *
 * Drives struct fx_http_wire (the exact code each connection runs) without
 * sockets: the first input byte picks a chunk size so requests are also split
 * at every possible boundary; each complete request is answered through
 * fx_http_respond (which builds and frees the response, as for a connection
 * that has gone). Limits are small so the bounds themselves get exercised;
 * memory stays bounded by max_header_bytes + max_body_bytes per request. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/http_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t chunk = (size_t)data[0] % 32 + 1;
  data++, size--;
  struct fx_http_server_config cfg;
  fx_http_server_config_default(&cfg);
  cfg.max_header_bytes = 2048;
  cfg.max_body_bytes = 4096;
  struct fx_http_wire *w;
  if (fx_http_wire_new(&w, &cfg)) return 0;
  size_t off = 0;
  int requests = 0;
  while (off < size) {
    size_t end = off + chunk < size ? off + chunk : size, used;
    enum fx_http_wire_event ev = fx_http_wire_feed(w, (const char *)data + off, end - off, &used);
    if (ev == FX_HTTP_WIRE_ERROR) {
      int st = fx_http_wire_error_status(w);
      if (st != 400 && st != 411 && st != 413 && st != 431 && st != 503) __builtin_trap();
      break;
    }
    if (used > end - off) __builtin_trap();
    off += used;
    if (ev == FX_HTTP_WIRE_REQUEST) {
      struct fx_http_request *req = fx_http_wire_take(w);
      size_t len;
      const uint8_t *body = fx_http_request_body(req, &len);
      if (len > cfg.max_body_bytes) __builtin_trap();
      (void)fx_http_request_header(req, "Content-Type");
      if (strlen(fx_http_request_path(req)) > cfg.max_header_bytes) __builtin_trap();
      fx_http_respond(req, 200, fx_http_request_content_type(req), body, len, NULL);
      if (++requests > 10000) break;
    } else if (used == 0) {
      __builtin_trap(); /* MORE must consume what it was given */
    }
  }
  fx_http_wire_free(w);
  return 0;
}
