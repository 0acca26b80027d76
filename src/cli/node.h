/*
 * node.h — helpers shared by the node commands (init, start, abci, devnet):
 * editing CometBFT's config.toml and genesis.json, finding free loopback
 * ports, and running / supervising the pinned cometbft binary.
 *
 * Why a separate file: `wicasd init`, `start` and `devnet` all need the same
 * config edits and the same child-process handling, and the ABCI tests reuse
 * them to drive a real CometBFT. Nothing here knows about the chain's state.
 *
 * Every function returning int gives 0 on success and -1 on failure with a
 * message in err (errlen bytes) saying what failed and on which file.
 */
#ifndef WICAS_CLI_NODE_H
#define WICAS_CLI_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* The cometbft binary: $WICAS_COMETBFT if set, else the compile-time pin
 * (WICAS_COMETBFT_PATH), else "cometbft" on PATH. */
const char *wicas_node_cometbft_path(void);

/* ---- ports ----------------------------------------------------------------------- */
typedef struct {
    int p2p, rpc, abci;
} wicas_node_ports;

/* A currently free TCP port on 127.0.0.1 (bind to port 0 and read it back),
 * or -1. Racy by nature; good enough for tests and devnets. */
int wicas_node_free_port(void);

/* ---- config.toml ---------------------------------------------------------------------
 * Sets key = value inside [section] ("" = the top level before any section)
 * of the TOML text *text (malloc'd; replaced by a new malloc'd string). value
 * is written verbatim, so strings must carry their quotes. An existing key is
 * replaced in place; a missing one is appended at the end of the section. */
int wicas_node_toml_set(char **text, const char *section, const char *key, const char *value);

/* Node settings written into HOME/config/config.toml. */
typedef struct {
    const char *moniker;          /* NULL: keep */
    wicas_node_ports ports;       /* all three required */
    const char *persistent_peers; /* "id@127.0.0.1:port,..." or NULL */
    int timeout_commit_ms;        /* 0: keep CometBFT's default (1s) */
    bool fast;                    /* short propose/prevote/precommit timeouts */
    bool loopback_peers;          /* addr_book_strict=false, allow_duplicate_ip=true, pex off */
} wicas_node_config;

int wicas_node_configure(const char *home, const wicas_node_config *cfg, char *err, size_t errlen);

/* Reads "ports" back from HOME/config/config.toml (rpc laddr, proxy_app,
 * p2p laddr). Missing ones are 0. */
int wicas_node_read_ports(const char *home, wicas_node_ports *ports, char *err, size_t errlen);

/* ---- genesis.json ------------------------------------------------------------------------
 * Rewrites HOME/config/genesis.json: chain_id (if non-NULL), app_state (if
 * non-NULL; the tree is copied), consensus_params.abci.
 * vote_extensions_enable_height = ve_height (as CometBFT writes int64: a
 * decimal string) when ve_height >= 0, and, when validators is non-NULL, the
 * "validators" array replaced by a copy of it. */
int wicas_node_genesis_edit(const char *home, const char *chain_id, const cJSON *app_state, long ve_height,
                            const cJSON *validators, char *err, size_t errlen);

/* The node id (hex address of the node key) from `cometbft show-node-id`. */
int wicas_node_show_id(const char *home, char *id, size_t cap, char *err, size_t errlen);

/* Runs `cometbft init --home HOME` (quietly) and waits. */
int wicas_node_cometbft_init(const char *home, char *err, size_t errlen);

/* ---- supervising cometbft ---------------------------------------------------------------- */
typedef struct wicas_node_child wicas_node_child;

/*
 * Starts `cometbft start --home HOME --log_level LEVEL` (level: "info",
 * "error", "debug"). Its stdout and stderr are forwarded line by line to
 * stderr with the prefix "[prefix] " by a background thread, or appended to
 * log_path when log_path is non-NULL (then no thread runs). Returns NULL on
 * failure.
 */
wicas_node_child *wicas_node_cometbft_start(const char *home, const char *level, const char *prefix,
                                            const char *log_path, char *err, size_t errlen);

pid_t wicas_node_child_pid(const wicas_node_child *c);

/* Non-blocking: true when the child has exited; *status (if non-NULL) gets
 * its exit code (128+signal when killed). */
bool wicas_node_child_exited(wicas_node_child *c, int *status);

/* SIGTERM, wait up to grace_ms, then SIGKILL; waits for exit, joins the log
 * thread, frees c. Returns the child's exit code as above. NULL gives 0. */
int wicas_node_child_stop(wicas_node_child *c, int grace_ms);

/* Sleeps ms milliseconds (signal interruptions resumed). */
void wicas_node_sleep_ms(long ms);

#endif /* WICAS_CLI_NODE_H */
