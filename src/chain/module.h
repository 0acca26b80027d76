/*
 * module.h — what a chain module registers with the core, and the core API
 * modules use.
 *
 * The core (src/chain: store, contexts, tx decoding, ante, block life cycle,
 * query router, snapshots, genesis) names no module. Each module (auth,
 * bank, wasm, ai; later staking, distribution, slashing, gov, ibc) describes
 * itself in ONE constant wicas_module: the Msg type URLs it handles, its gRPC
 * query service, its genesis section, its block hooks, and the custom query
 * and custom message routes it offers contracts. The table in modules.c
 * lists them in a fixed order; the core iterates over it for every phase, so
 * adding a module is one new folder and one line in modules.c. The order is
 * part of consensus: genesis sections are applied and block hooks run in
 * table order (account numbers, for example, follow it).
 *
 * Module state. A module keeps what it owns behind its own context, never in
 * struct wicas_chain:
 *   - shared state (open .. close), e.g. the wasm VM or the AI worker:
 *     created by `open`, reached with wicas_module_state();
 *   - execution scratch (exec_size bytes, zeroed at open), per chain handle:
 *     the consensus handle and each query view have their own, so a query
 *     never disturbs a block in progress (e.g. the AI module's per-block
 *     inference budget): reached with wicas_module_exec().
 *
 * Module -> core calls go through this header and chain_internal.h (contexts,
 * metered store, events, coins). Module -> module calls go through the small
 * interface header a module declares for others (e.g. wasm's `sudo` that the
 * AI module uses to deliver answers), never through another module's
 * internals.
 */
#ifndef WICAS_CHAIN_MODULE_H
#define WICAS_CHAIN_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain_internal.h"

struct cJSON;

/* ---- messages ---------------------------------------------------------------------
 * signer: decodes the message (the Any's value), runs its stateless checks
 * (the SDK's ValidateBasic) and returns its signer (malloc'd bech32) or -1
 * with *code (an SDK code: 2 decode, 7 address, 18 invalid request, ...) and
 * err. handle: executes it in context x (failures through wicas_ctx_fail); on
 * success the protobuf response goes to *resp (malloc'd, may be empty); the
 * tx's msg response is typed "<type_url>Response". */
typedef struct {
    const char *type_url; /* "/cosmos.bank.v1beta1.MsgSend" */
    /* its protobuf type: the tx decoder refuses unknown critical fields in it */
    const ProtobufCMessageDescriptor *desc;
    int (*signer)(const char *type_url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                  char *err, size_t errlen);
    int (*handle)(wctx *x, const char *type_url, const uint8_t *val, size_t len, uint8_t **resp,
                  size_t *resp_len);
} wicas_msg_route;

/* ---- queries ------------------------------------------------------------------------
 * A gRPC query service: every path "<service><Method>" goes to query(x, method,
 * path, ...), which answers into r (value, or code + log via wicas_query_fail;
 * an unknown method answers 6 "unknown query path"). x is a read-only context
 * on a view of the last commit (queries never write). */
typedef void (*wicas_query_fn)(wctx *x, const char *method, const char *path, const uint8_t *data, size_t len,
                               wicas_chain_query_result *r);

/* ---- contract routes ------------------------------------------------------------------
 * custom_query: a contract's QueryRequest::Custom whose single key is the
 * module's custom_key ({"custom":{"<key>":...}}); body is the value under the
 * key; gas in SDK gas (limit in, used out, also on failure). 0 with a
 * malloc'd JSON answer in *resp, or -1 with err (the contract sees a query
 * error).
 * custom_msg: a contract's CosmosMsg::Custom {"custom":{"<key>":...}} emitted
 * by `contract` (32 bytes); runs in x (failures through wicas_ctx_fail); 0 or -1.
 * resp_url names the message response type (for the tx's msg responses). */
typedef int (*wicas_custom_query_fn)(wctx *x, const struct cJSON *body, uint64_t gas_limit, char **resp,
                                     uint64_t *gas_used, char *err, size_t errlen);
typedef int (*wicas_custom_msg_fn)(wctx *x, const uint8_t contract[32], const struct cJSON *body,
                                   const char **resp_url);

typedef struct wicas_module {
    const char *name; /* "bank": the genesis section, the "module" event attribute */

    /* Msg service */
    const wicas_msg_route *msgs;
    size_t n_msgs;
    /* gRPC query service: path prefix ("/cosmos.bank.v1beta1.Query/") and handler */
    const char *query_service;
    wicas_query_fn query;

    /* life cycle (all optional). open creates the shared state (*state);
     * view_open prepares a query view's use of it (view: the view's handle;
     * slot: its query slot, 0..CHAIN_QUERY_WORKERS-1). */
    int (*open)(wicas_chain *c, void **state, char *err, size_t errlen);
    void (*close)(wicas_chain *c, void *state);
    int (*view_open)(wicas_chain *view, void *state, int slot, char *err, size_t errlen);
    size_t exec_size; /* bytes of per-handle execution scratch */

    /* genesis: section = app_state["<name>"] (NULL when absent). Applied in
     * table order at InitChain. init_chain then runs (table order) with the
     * genesis validators, after every section is applied. */
    int (*genesis_init)(wctx *x, const struct cJSON *section, char *err, size_t errlen);
    int (*init_chain)(wctx *x, const wicas_chain_validator *vals, size_t n_vals, char *err, size_t errlen);

    /* block hooks. begin_block runs before the block's txs on the block's
     * overlay blk, its events go to ev; non-zero fails the block (a node
     * fault: never for something a user sent). after_commit runs after each
     * commit and once at open (work still pending from before a restart).
     * begin_tx runs before each tx (deliver, check, simulate) on the handle. */
    int (*begin_block)(wicas_chain *c, kv *blk, const wicas_chain_block *b, evlist *ev, char *err,
                       size_t errlen);
    void (*after_commit)(wicas_chain *c);
    void (*begin_tx)(wicas_chain *c);

    /* routes offered to contracts */
    const char *custom_key;
    wicas_custom_query_fn custom_query;
    wicas_custom_msg_fn custom_msg;
} wicas_module;

/* ---- the table (modules.c) ----------------------------------------------------------- */
/* NULL-terminated, in consensus order. */
extern const wicas_module *const wicas_modules[];

/* The module handling Msg type_url, or NULL (then *route is untouched). */
const wicas_module *wicas_module_for_msg(const char *type_url, const wicas_msg_route **route);
/* The module whose query service is a prefix of path, or NULL. */
const wicas_module *wicas_module_for_query(const char *path);
/* The module offering custom query / message key `key` to contracts, or NULL. */
const wicas_module *wicas_module_for_custom(const char *key);

/* ---- module state --------------------------------------------------------------------- */
/* The shared state m's open created (the same for the chain and its views). */
void *wicas_module_state(const wicas_chain *c, const wicas_module *m);
/* This handle's execution scratch of m (exec_size bytes). */
void *wicas_module_exec(const wicas_chain *c, const wicas_module *m);
/* For views (queries, simulate): the query slot, or -1 on the consensus handle. */
int wicas_chain_view_slot(const wicas_chain *c);

/* ---- query answers ------------------------------------------------------------------------ */
/* Fails r with code in codespace (NULL = "sdk") and a formatted log (replacing
 * an earlier one). */
void wicas_query_fail(wicas_chain_query_result *r, uint32_t code, const char *codespace, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answers r with m's packed bytes. */
struct ProtobufCMessage;
void wicas_query_value(wicas_chain_query_result *r, const struct ProtobufCMessage *m);
/* Answers r with a malloc'd string (taken; NULL = out of memory). */
void wicas_query_json(wicas_chain_query_result *r, char *json);
/* Decodes a bech32 address of a query request; false (r failed with 7) when bad. */
bool wicas_query_addr(wicas_chain_query_result *r, const char *a, uint8_t out[32], size_t *al);

/* ---- the application (src/app) ----------------------------------------------------------
 * The core declares, the application layer defines: the table above
 * (modules.c) and the ante handler (ante.c), which runs before a tx's
 * messages (mode: MODE_CHECK/RECHECK/DELIVER/SIMULATE). 0, or -1 with the
 * failure in x. These two symbols are the only references from the core to
 * the layer above it: the wiring the SDK does in app.go. */
int wicas_app_ante(wctx *x, wtx *t, size_t len, int mode);

/* ---- core internals (chain.c) ------------------------------------------------------------ */
int wicas_module_index(const wicas_module *m);
/* allocate / free a handle's execution scratch of every module */
int wicas_modules_exec_alloc(wicas_chain *c);
void wicas_modules_exec_free(wicas_chain *c);

#endif
