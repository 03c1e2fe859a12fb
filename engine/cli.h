/* cli.h — the subcommands of the flexd binary.
 *
 * Each takes (argc, argv) with argv[0] the subcommand's name and returns the
 * process exit status: 0 success, 1 failure with a message on stderr, 2 usage. */
#ifndef FX_ENGINE_CLI_H
#define FX_ENGINE_CLI_H

struct fx_cli_command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
};

int fx_cli_version(int argc, char **argv);
int fx_cli_serve(int argc, char **argv);
int fx_cli_demo(int argc, char **argv);
int fx_cli_check_config(int argc, char **argv);

/* engine/cli_keys.c: CS1 keys and SignedMessage seal/open for operators. */
int fx_cli_keygen(int argc, char **argv);
int fx_cli_seal(int argc, char **argv);
int fx_cli_open(int argc, char **argv);
int fx_cli_validate(int argc, char **argv);

/* engine/cli_clear.c: clear one market offline from UFTP XML files. */
int fx_cli_clear(int argc, char **argv);

#endif
