/*
 * cmd_abci.c — `wicasd abci --home DIR [--address ADDR]`: serve the chain
 * state over ABCI only, for a cometbft started by someone else (or tests).
 * ADDR is tcp://HOST:PORT or unix://PATH; default: proxy_app of
 * DIR/config/config.toml.
 */
#include <stdio.h>

#include "cli.h"
#include "node_run.h"
#include "node_setup.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: wicasd abci --home DIR [--address tcp://127.0.0.1:26658|unix://PATH]\n"
               "                   [--minimum-gas-prices 0.025uwicas] [--models-dir DIR] [--ai-threads N]\n"
               "                   [--ai-query-max-tokens N] [--snapshot-interval K] [--snapshot-keep N]\n"
               "Serves the application over ABCI until SIGINT/SIGTERM (exit 0), 1 on failure.\n");
}

int wicas_cmd_abci(int argc, char **argv) {
    wicas_node_run_opts o = {.with_cometbft = false};
    int rc = wicas_node_parse_run_args(false, argc, argv, &o, usage);
    if (rc != 0) return rc == 1 ? 0 : 2;
    return wicas_node_run(&o);
}
