/*
 * node_setup.h — creating node homes, shared by `wicasd init` and
 * `wicasd devnet`: cometbft init + our config.toml edits + a genesis with the
 * WICAS app_state and vote extensions enabled.
 */
#ifndef WICAS_CLI_NODE_SETUP_H
#define WICAS_CLI_NODE_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "node.h"
#include "node_run.h"

/* Height from which vote extensions are enabled in every genesis we write. */
#define WICAS_NODE_VOTE_EXT_HEIGHT 1

typedef struct {
    const char *home, *moniker, *chain_id;
    bool overwrite;           /* replace an existing config.toml / genesis.json */
    wicas_node_config config; /* ports, timeouts, peers (moniker is taken from above) */
} wicas_node_setup;

/* 1-48 characters of [A-Za-z0-9._-]. */
bool wicas_node_valid_name(const char *s);

/* Creates/refreshes s->home: refuses (-1, message) when config/genesis.json
 * exists and !overwrite; else runs cometbft init and writes config.toml. */
int wicas_node_setup_home(const wicas_node_setup *s, char *err, size_t errlen);

/* The default genesis app_state of a WICAS chain (caller frees). */
cJSON *wicas_node_default_app_state(void);

/* A coin list ("1000uwicas" or "1000uwicas,5ufoo", the chain's rules:
 * wicas_chain_coins_parse in chain.h) as genesis JSON, [{"denom", "amount"}...]
 * sorted by denom with decimal-string amounts; "" gives []. NULL with a message
 * in err when the list is invalid. Caller frees. */
cJSON *wicas_node_coins_json(const char *coins, char *err, size_t errlen);

/* Adds a genesis account with a balance to app_state: spec is
 * "ADDRESS:COINS", COINS as wicas_node_coins_json takes them (not empty).
 * Appends to auth.accounts and bank.balances. Returns 0, or -1 with a message
 * (nothing changed). */
int wicas_node_app_state_add_account(cJSON *app_state, const char *spec, char *err, size_t errlen);

/* Name under which the default model is registered (what contracts ask for). */
#define WICAS_NODE_DEFAULT_MODEL_NAME "smollm2-135m"

/* Registers a GGUF model in app_state's "ai.models": loads and validates
 * path with the inference engine (architecture, tensors, SHA-256, size,
 * parameter count) and appends the registry entry under name, with the
 * default gas parameters. Returns 0, or -1 with a message (nothing changed;
 * also when this build has no AI module). */
int wicas_node_app_state_add_model(cJSON *app_state, const char *path, const char *name, char *err,
                                   size_t errlen);

/* The registry entry of the GGUF model at path under name, as canonical JSON
 * (malloc'd): the engine loads and validates the file (architecture,
 * tensors) and gives its SHA-256, size, architecture and parameter count.
 * gas: NULL for the default gas parameters, else {base, per_prompt_token,
 * per_gen_token} with UINT64_MAX meaning "the default". The entry has passed
 * the registry's parser. Used by `init`, `genesis add-model` and
 * `tx ai register-model`. NULL with a message. */
char *wicas_node_model_entry(const char *path, const char *name, const uint64_t gas[3], char *err,
                             size_t errlen);

/* The compiled-in default model path, or NULL when none / the file is absent. */
const char *wicas_node_default_model(void);

/* Rewrites HOME/config/genesis.json with chain_id, app_state (NULL: the
 * default), vote extensions from WICAS_NODE_VOTE_EXT_HEIGHT, and (if
 * non-NULL) the given "validators" array. */
int wicas_node_write_genesis(const char *home, const char *chain_id, const cJSON *app_state,
                             const cJSON *validators, char *err, size_t errlen);

/* The genesis "validators" entry for HOME's priv_validator_key.json:
 * {address, pub_key{type,value}, power:"<power>", name}. NULL on error. */
cJSON *wicas_node_validator_entry(const char *home, const char *name, long power, char *err, size_t errlen);

/*
 * The command line of the two commands that run a node, `wicasd start`
 * (start = true) and `wicasd abci` (start = false), parsed into *o in one
 * place. Both take --home DIR, --models-dir DIR, --ai-threads N (1..256),
 * --ai-query-max-tokens N (0..WICAS_NODE_AI_QUERY_MAX_TOKENS, default 0: smart
 * queries run no inference),
 * --minimum-gas-prices P, --snapshot-interval K (0..1e9, 0 = off),
 * --snapshot-keep N (1..1000) and -h/--help; `start` also --abci-only and
 * --cometbft-log FILE, `abci` also --address ADDR. The caller sets
 * o->with_cometbft (start: true) before the call. Returns 0 when the node
 * should run (--home given), 1 when help was printed to stdout with
 * usage(stdout) (exit 0), 2 on a usage error, reported on stderr as
 * "wicasd CMD: ..." followed by usage(stderr) where it helps (exit 2).
 */
#define WICAS_NODE_AI_QUERY_MAX_TOKENS 1024 /* = WICAS_AI_MAX_TOKENS_MAX */
int wicas_node_parse_run_args(bool start, int argc, char **argv, wicas_node_run_opts *o,
                              void (*usage)(FILE *));

#endif
