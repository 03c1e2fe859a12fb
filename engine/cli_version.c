/* cli_version.c — `flexd version`. */
#include <stdio.h>

#include "engine/cli.h"

int fx_cli_version(int argc, char **argv) {
  (void)argc, (void)argv;
  printf("flexd 0.1.0 (UFTP 3.1.0)\n");
  return 0;
}
