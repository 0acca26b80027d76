/*
 * cmd_start.c — `wicasd start --home DIR [--abci-only]`: run the node: the
 * chain state and its ABCI server, plus the pinned cometbft binary as a
 * supervised child (unless --abci-only). Ctrl-C / SIGTERM stop cometbft
 * first, then the application. See node_run.c for the shutdown order and the
 * exit codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node_run.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: wicasd start --home DIR [--abci-only] [--minimum-gas-prices 0.025uwicas] "
               "[--cometbft-log FILE]\n\n"
               "Runs the WICAS application (state in DIR/data/wicas) on the ABCI address of\n"
               "DIR/config/config.toml (proxy_app) and supervises 'cometbft start --home DIR'.\n"
               "  --abci-only          do not start cometbft (run it yourself)\n"
               "  --minimum-gas-prices P  CheckTx refuses txs whose fee < gas limit x P (default: none)\n"
               "  --models-dir DIR     GGUF models for contracts' inference (default: $WICAS_MODELS_DIR or\n"
               "                       the default model's directory)\n"
               "  --ai-threads N       inference threads (default 4; results do not depend on it)\n"
               "  --ai-wrong-answer    (tests) report wrong answers to asynchronous AI requests in vote extensions\n"
               "  --cometbft-log FILE  append cometbft's output to FILE instead of stderr\n"
               "Exit status: 0 after SIGINT/SIGTERM, 1 on failure, 2 on usage errors.\n");
}

int wicas_cmd_start(int argc, char **argv) {
    wicas_node_run_opts o = {.with_cometbft = true};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            o.home = argv[++i];
        else if (strcmp(argv[i], "--abci-only") == 0)
            o.with_cometbft = false;
        else if (strcmp(argv[i], "--models-dir") == 0 && i + 1 < argc)
            o.models_dir = argv[++i];
        else if (strcmp(argv[i], "--ai-wrong-answer") == 0)
            o.ai_wrong_answer = true;
        else if (strcmp(argv[i], "--ai-threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 256) {
                fprintf(stderr, "wicasd %s: --ai-threads must be 1..256\n", "start");
                return 2;
            }
            o.ai_threads = (unsigned)t;
        } else if (strcmp(argv[i], "--minimum-gas-prices") == 0 && i + 1 < argc) {
            const char *g = argv[++i];
            if (wicas_node_parse_gas_price(g, &o.min_gas_price_num, &o.min_gas_price_den) != 0) {
                fprintf(stderr, "wicasd start: --minimum-gas-prices '%s': want e.g. 0.025uwicas\n", g);
                return 2;
            }
        } else if (strcmp(argv[i], "--cometbft-log") == 0 && i + 1 < argc)
            o.cometbft_log = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "wicasd start: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!o.home) {
        fprintf(stderr, "wicasd start: --home DIR is required\n");
        usage(stderr);
        return 2;
    }
    return wicas_node_run(&o);
}
