/*
 * node_run.h — run a node (chain state + ABCI server [+ supervised cometbft])
 * until SIGINT/SIGTERM; shared by `wicasd start` and `wicasd abci`.
 */
#ifndef WICAS_CLI_NODE_RUN_H
#define WICAS_CLI_NODE_RUN_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *home;         /* node home (config/, data/) */
    const char *abci_address; /* NULL: tcp://127.0.0.1:<proxy_app port of config.toml> */
    bool with_cometbft;       /* spawn and supervise `cometbft start --home home` */
    const char *cometbft_log; /* NULL: forward cometbft's output to stderr with a prefix */
    /* Minimum gas price CheckTx enforces, as a fraction of uwicas per gas
     * unit (den 0: none). See wicas_node_parse_gas_price. */
    uint64_t min_gas_price_num, min_gas_price_den;
    /* AI inference for contracts (when the chain supports it): directory of
     * *.gguf models (NULL: $WICAS_MODELS_DIR, else the directory of the
     * default model) and engine threads (0: 4). Results never depend on the
     * thread count. */
    const char *models_dir;
    unsigned ai_threads;
    /* Test option: report wrong answers to asynchronous AI requests. */
    bool ai_wrong_answer;
    /* --ai-query-max-tokens: generated tokens a smart query may ask of the
     * model per request (0, the default: queries run no inference). */
    unsigned ai_query_max_tokens;
    /* Test-only fault injectors (tests/chaos): --byzantine (a WICAS_BYZ_* mode
     * of chain.h) and --byzantine-snapshots (a WICAS_ABCI_BYZ_SNAP_* mode of
     * abci.h); 0 = honest. */
    int byzantine, byzantine_snapshots;
    /* State-sync snapshots: one every snapshot_interval committed heights (0 =
     * none), the newest snapshot_keep kept (0 = 2). */
    int64_t snapshot_interval;
    unsigned snapshot_keep;
} wicas_node_run_opts;

/* Parses "0.025uwicas" (a decimal with at most 18 fraction digits, then the
 * native denom) into num/den (25/1000). Returns 0, or -1 for anything else. */
int wicas_node_parse_gas_price(const char *s, uint64_t *num, uint64_t *den);

/* Returns the process exit status: 0 clean shutdown on a signal, 1 failure. */
int wicas_node_run(const wicas_node_run_opts *opts);

#endif
