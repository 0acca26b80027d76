/*
 * cli.h — sub-command entry points of `wicasd`, and the small helpers they
 * share. Each wicas_cmd_X(argc, argv) gets argv[0] = the sub-command's name and
 * returns the process exit status (0 ok, 1 failure, 2 usage error).
 */
#ifndef WICAS_CLI_H
#define WICAS_CLI_H

int wicas_cmd_version(int argc, char **argv);
int wicas_cmd_infer(int argc, char **argv);
int wicas_cmd_wasm(int argc, char **argv);
int wicas_cmd_run_wasm(int argc, char **argv);
int wicas_cmd_init(int argc, char **argv);
int wicas_cmd_keys(int argc, char **argv);
int wicas_cmd_genesis(int argc, char **argv);
int wicas_cmd_start(int argc, char **argv);
int wicas_cmd_abci(int argc, char **argv);
int wicas_cmd_tx(int argc, char **argv);
int wicas_cmd_query(int argc, char **argv);
int wicas_cmd_status(int argc, char **argv);
int wicas_cmd_devnet(int argc, char **argv);

#endif
