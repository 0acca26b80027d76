/*
 * node_run.h — run a node (chain state + ABCI server [+ supervised cometbft])
 * until SIGINT/SIGTERM; shared by `wicasd start` and `wicasd abci`.
 */
#ifndef WICAS_CLI_NODE_RUN_H
#define WICAS_CLI_NODE_RUN_H

#include <stdbool.h>

typedef struct {
    const char *home;         /* node home (config/, data/) */
    const char *abci_address; /* NULL: tcp://127.0.0.1:<proxy_app port of config.toml> */
    bool with_cometbft;       /* spawn and supervise `cometbft start --home home` */
    const char *cometbft_log; /* NULL: forward cometbft's output to stderr with a prefix */
} wicas_node_run_opts;

/* Returns the process exit status: 0 clean shutdown on a signal, 1 failure. */
int wicas_node_run(const wicas_node_run_opts *opts);

#endif
