/*
 * rpc.h — a small client for CometBFT's JSON-RPC (HTTP GET with URI
 * parameters), used by the `wicasd` commands that talk to a running node:
 * status, tx (broadcast, optionally waiting for inclusion) and query
 * (abci_query).
 *
 * Why this shape: every call returns the JSON-RPC "result" object as a cJSON
 * tree the caller owns (print it with --output json, or pick fields), and
 * reports failures as text in a caller-supplied buffer, so each command can
 * print one clear line and exit 1. Transport is libcurl; JSON is cJSON.
 *
 * Node URLs: "tcp://host:port" (CometBFT's own spelling in config.toml) and
 * "http://host:port" are both accepted; NULL or "" means the default
 * "http://127.0.0.1:26657". A trailing slash is ignored.
 *
 * Return convention for every function: 0 when the node answered with a
 * JSON-RPC result (*result set, caller frees it with cJSON_Delete), -1 on any
 * failure (bad URL, connection refused, HTTP error, JSON-RPC "error" object,
 * malformed JSON, timeout while waiting); *result is then NULL and err holds
 * a NUL-terminated message saying what went wrong and where. err may be NULL
 * when errlen is 0.
 */
#ifndef WICAS_CLI_RPC_H
#define WICAS_CLI_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default node when none is given. */
#define WICAS_RPC_DEFAULT_NODE "http://127.0.0.1:26657"

/* How long wicas_rpc_broadcast_tx(wait=true) polls /tx before giving up. */
#define WICAS_RPC_WAIT_TIMEOUT_MS 120000 /* default of --wait; env WICAS_WAIT_TIMEOUT_MS overrides */

/*
 * GET /status. *result is the "result" object: node_info, sync_info
 * (latest_block_height as a decimal string, latest_app_hash as upper-case
 * hex, catching_up), validator_info.
 */
int wicas_rpc_status(const char *node, cJSON **result, char *err, size_t errlen);

/*
 * GET /broadcast_tx_sync?tx=0x<hex>: submits tx (len bytes, len > 0) and
 * returns after CheckTx. *result is the broadcast result: code (0 = accepted
 * into the mempool), data, log, codespace, hash (upper-case hex SHA-256 of tx).
 *
 * With wait=true and code 0, it then polls GET /tx?hash=0x<hash> until the
 * transaction is in a block (or WICAS_RPC_WAIT_TIMEOUT_MS elapses: -1, "timed
 * out"), and *result is the /tx result instead: hash, height, index,
 * tx_result {code, data, log, gas_wanted, gas_used, events, codespace}, tx.
 * A CheckTx rejection (code != 0) is not an RPC failure: it returns 0 with the
 * broadcast result, whatever wait says, so the caller prints the code and log.
 */
int wicas_rpc_broadcast_tx(const char *node, const uint8_t *tx, size_t len, bool wait, cJSON **result,
                           char *err, size_t errlen);

/*
 * GET /abci_query?path="<path>"&data=0x<hex>&height=<h>&prove=<bool>.
 * path must be non-empty and contain no '"' or control characters; data may
 * be NULL when len is 0; height 0 means the latest. *result is the "result"
 * object, whose "response" holds code, log, info, index, key and value
 * (base64), proofOps, height and codespace.
 */
int wicas_rpc_abci_query(const char *node, const char *path, const uint8_t *data, size_t len, int64_t height,
                         bool prove, cJSON **result, char *err, size_t errlen);

/*
 * Generic GET of one JSON-RPC endpoint: "<node>/<endpoint>?<query>" (query may
 * be NULL), same conventions as above. Used for /block, /commit, /tx and
 * /net_info. endpoint is appended verbatim: the caller escapes parameters.
 */
int wicas_rpc_get(const char *node, const char *endpoint, const char *query, cJSON **result, char *err,
                  size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_CLI_RPC_H */
