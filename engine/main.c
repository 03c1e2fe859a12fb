/* main.c — the flexd command line: dispatches to one function per subcommand.
 *
 * Every subcommand lives in its own module and is declared in engine/cli.h;
 * this file only maps names to those functions and prints usage. */
#include <stdio.h>
#include <string.h>

#include "engine/clear.h"
#include "engine/cli.h"

/* jemalloc's settings (huge pages) are in malloc_conf.c, linked beside. */

static const struct fx_cli_command commands[] = {
    {"version", fx_cli_version, "print the version"},
    {"serve", fx_cli_serve, "run the platform: flexd serve --config FILE"},
    {"demo", fx_cli_demo, "a platform on loopback with simulated participants"},
    {"check-config", fx_cli_check_config, "check a configuration file and its key files"},
    {"keygen", fx_cli_keygen, "generate a CS1 key pair file, print its public key"},
    {"seal", fx_cli_seal, "sign an inner message into a SignedMessage"},
    {"open", fx_cli_open, "verify a SignedMessage, print the inner message"},
    {"clear", fx_cli_clear, "clear one market from FlexRequest and FlexOffer files"},
    {"validate", fx_cli_validate, "check any UFTP message or SignedMessage"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: flexd COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
#ifndef FLEXD_JEMALLOC
  /* Built on glibc's malloc: before any thread starts (its settings are not
   * safe to change while other threads allocate). A server clears market
   * after market, and without it each clearing faults its memory in again.
   * jemalloc keeps freed memory until its decay, which only allocator
   * activity advances. Best effort. */
  fx_clear_keep_memory();
#endif
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "flexd: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
