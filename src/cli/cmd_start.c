/*
 * cmd_start.c — `wicasd start --home DIR [--abci-only]`: run the node: the
 * chain state and its ABCI server, plus the pinned cometbft binary as a
 * supervised child (unless --abci-only). Ctrl-C / SIGTERM stop cometbft
 * first, then the application. See node_run.c for the shutdown order and the
 * exit codes.
 */
#include <stdio.h>

#include "cli.h"
#include "node_run.h"
#include "node_setup.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage: wicasd start --home DIR [--abci-only] [--minimum-gas-prices 0.025uwicas] "
        "[--cometbft-log FILE]\n\n"
        "Runs the WICAS application (state in DIR/data/wicas) on the ABCI address of\n"
        "DIR/config/config.toml (proxy_app) and supervises 'cometbft start --home DIR'.\n"
        "  --abci-only          do not start cometbft (run it yourself)\n"
        "  --minimum-gas-prices P  CheckTx refuses txs whose fee < gas limit x P (default: none)\n"
        "  --models-dir DIR     GGUF models for contracts' inference (default: $WICAS_MODELS_DIR or\n"
        "                       the default model's directory)\n"
        "  --ai-threads N       inference threads (default 4; results do not depend on it)\n"
        "  --ai-query-max-tokens N  let smart queries run inference of up to N generated tokens per\n"
        "                       request (default 0: queries cannot run inference; transactions can)\n"
        "  --snapshot-interval K  take a state-sync snapshot every K blocks (default 0: none), served\n"
        "                       to nodes that join with [statesync] enabled\n"
        "  --snapshot-keep N    snapshots kept (default 2)\n"
        "  --ai-wrong-answer    (tests) report wrong answers to asynchronous AI requests in vote extensions\n"
        "  --byzantine MODE     (tests only: a fault injector for tests/chaos) misbehave with vote\n"
        "                       extensions: omit|reorder|duplicate|forge (the injected tx, as proposer)\n"
        "                       or unknown-id (sign answers to requests that do not exist)\n"
        "  --byzantine-snapshots MODE  (tests only) serve forged state-sync snapshots:\n"
        "                       forge-chain-id|bad-chunk|oversized-chunk\n"
        "  --cometbft-log FILE  append cometbft's output to FILE instead of stderr\n"
        "Exit status: 0 after SIGINT/SIGTERM, 1 on failure, 2 on usage errors.\n");
}

int wicas_cmd_start(int argc, char **argv) {
    wicas_node_run_opts o = {.with_cometbft = true};
    int rc = wicas_node_parse_run_args(true, argc, argv, &o, usage);
    if (rc != 0) return rc == 1 ? 0 : 2;
    return wicas_node_run(&o);
}
