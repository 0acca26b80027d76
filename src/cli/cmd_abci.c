/*
 * cmd_abci.c — `wicasd abci --home DIR [--address ADDR]`: serve the chain
 * state over ABCI only, for a cometbft started by someone else (or tests).
 * ADDR is tcp://HOST:PORT or unix://PATH; default: proxy_app of
 * DIR/config/config.toml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node_run.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: wicasd abci --home DIR [--address tcp://127.0.0.1:26658|unix://PATH]\n"
               "                   [--minimum-gas-prices 0.025uwicas] [--models-dir DIR] [--ai-threads N]\n"
               "Serves the application over ABCI until SIGINT/SIGTERM (exit 0), 1 on failure.\n");
}

int wicas_cmd_abci(int argc, char **argv) {
    wicas_node_run_opts o = {.with_cometbft = false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            o.home = argv[++i];
        else if (strcmp(argv[i], "--models-dir") == 0 && i + 1 < argc)
            o.models_dir = argv[++i];
        else if (strcmp(argv[i], "--ai-threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 256) {
                fprintf(stderr, "wicasd %s: --ai-threads must be 1..256\n", "abci");
                return 2;
            }
            o.ai_threads = (unsigned)t;
        } else if (strcmp(argv[i], "--minimum-gas-prices") == 0 && i + 1 < argc) {
            const char *g = argv[++i];
            if (wicas_node_parse_gas_price(g, &o.min_gas_price_num, &o.min_gas_price_den) != 0) {
                fprintf(stderr, "wicasd abci: --minimum-gas-prices '%s': want e.g. 0.025uwicas\n", g);
                return 2;
            }
        } else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc)
            o.abci_address = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "wicasd abci: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!o.home) {
        fprintf(stderr, "wicasd abci: --home DIR is required\n");
        usage(stderr);
        return 2;
    }
    return wicas_node_run(&o);
}
