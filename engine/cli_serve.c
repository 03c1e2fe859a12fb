/* cli_serve.c — `flexd serve --config FILE [--port-file FILE]`. */
#include <stdio.h>
#include <string.h>

#include "engine/cli.h"
#include "engine/config.h"
#include "engine/server.h"

int fx_cli_serve(int argc, char **argv) {
  const char *config = NULL, *port_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc)
      config = argv[++i];
    else if (!strcmp(argv[i], "--port-file") && i + 1 < argc)
      port_file = argv[++i];
    else {
      fprintf(stderr, "usage: flexd serve --config FILE [--port-file FILE]\n");
      return 2;
    }
  }
  if (!config) {
    fprintf(stderr, "usage: flexd serve --config FILE [--port-file FILE]\n");
    return 2;
  }
  struct fx_config cfg;
  char err[300];
  fx_config_defaults(&cfg);
  if (fx_config_load(&cfg, config, err, sizeof err) != 0) {
    fprintf(stderr, "flexd: %s: %s\n", config, err);
    fx_config_free(&cfg);
    return 1;
  }
  int rc = fx_server_run(&cfg, config, port_file);
  fx_config_free(&cfg);
  return rc;
}
