/*
 * wasm_internal.h — what the files of the x/wasm module share with each
 * other. Only src/x/wasm includes it; the modules above see xwasm.h.
 *
 * The module is five files, each leaning only on the ones listed before it:
 *
 *   wasm_records.c  keys and records of the module's state: sequences, code
 *                   and contract records, the ContractsByCode index, loading
 *                   a contract, storing code (compile + record);
 *   wasm_vm.c       the glue to the contract VM (src/vm): the VM a handle
 *                   runs on, the contract storage adapter, the querier that
 *                   answers contracts' bank/wasm/custom queries, env/info
 *                   JSON, calling an entry point with gas conversion;
 *   wasm_msgs.c     the Msg server (ValidateBasic and execution of wasmd's
 *                   messages), the messages contracts emit (bank, wasm,
 *                   custom), sub-messages and reply, sudo;
 *   wasm_query.c    the /cosmwasm.wasm.v1.Query/ gRPC service;
 *   wasm_module.c   the wicas_module registration: open/close/view_open,
 *                   genesis, the Msg routes and the signer adapter.
 *
 * Failures inside a transaction go through wicas_ctx_fail (codespace WASM_CS unless
 * the SDK's); the functions below return 0/-1 with the cause in x unless said
 * otherwise.
 */
#ifndef WICAS_X_WASM_INTERNAL_H
#define WICAS_X_WASM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain_internal.h"
#include "module.h"
#include "vm.h"
#include "xwasm.h"

struct cJSON;

/* the module's codespace */
#define WASM_CS WICAS_CHAIN_CODESPACE_WASM

/* wasmd's Msg type URLs */
#define URL_STORE "/cosmwasm.wasm.v1.MsgStoreCode"
#define URL_INST "/cosmwasm.wasm.v1.MsgInstantiateContract"
#define URL_EXEC "/cosmwasm.wasm.v1.MsgExecuteContract"
#define URL_MIGRATE "/cosmwasm.wasm.v1.MsgMigrateContract"
#define URL_ADMIN "/cosmwasm.wasm.v1.MsgUpdateAdmin"
#define URL_CLEAR "/cosmwasm.wasm.v1.MsgClearAdmin"

/* ---- the module (wasm_module.c) ---------------------------------------------------------- */
extern const wicas_module wicas_module_wasm;

/* The module's shared state: the consensus VM, the address API, and one VM
 * per query slot (a wicas_vm is single-threaded; created by view_open on the
 * slot's first use). */
typedef struct {
    wicas_vm *vm;
    wicas_vm_api *api;
    wicas_vm *q_vm[CHAIN_QUERY_WORKERS];
} wasm_state;

/* ---- keys and records (wasm_records.c) --------------------------------------------------- */
/* out = pre || a[0..al); returns the key's length (out must hold it). */
size_t wicas_wasm_key(const char *pre, const uint8_t *a, size_t al, uint8_t *out);
/* Takes the next id of sequence `key` (first 1) into *id and advances it. */
int wicas_wasm_next_seq(wctx *x, const char *key, uint64_t *id);
/* Code record `id`: 1 with *out (free with wchain__stored_code__free_unpacked),
 * 0 absent, -1 failed. */
int wicas_wasm_code_get(wctx *x, uint64_t id, Wchain__StoredCode **out);
/* Contract record of address a: 1 with *out, 0 absent, -1 failed. */
int wicas_wasm_contract_get(wctx *x, const uint8_t a[32], Wchain__ContractInfo **out);
int wicas_wasm_contract_set(wctx *x, const uint8_t a[32], const Wchain__ContractInfo *ci);
/* The ContractsByCode index key of contract a (k holds 128 bytes); its length. */
size_t wicas_wasm_bycode_key(uint64_t code_id, const Wchain__ContractInfo *ci, const uint8_t a[32],
                             uint8_t *k);
/* Decodes bech32 `contract` into a and loads its record (and its code's when
 * code is not NULL); a missing one fails x with "no such contract" / "no such
 * code". 0 with *ci (and *code) to free, or -1 with nothing to free. */
int wicas_wasm_load_contract(wctx *x, const char *contract, uint8_t a[32], Wchain__ContractInfo **ci,
                             Wchain__StoredCode **code);
/* Compiles `wasm` on this handle's VM and records it as the next code id by
 * `creator`: *code_id and its checksum. No gas is charged here. */
int wicas_wasm_store_code(wctx *x, const uint8_t *creator, size_t cl, const uint8_t *wasm, size_t len,
                          uint64_t *code_id, uint8_t checksum[32]);

/* ---- the VM glue (wasm_vm.c) --------------------------------------------------------------- */
/* The VM this handle runs contracts on: the query slot's in a query view. */
wicas_vm *wicas_wasm_vm_of(const wicas_chain *c);
/* Runs `entry` of contract a (code checksum cs) with info_json (NULL for
 * entries without MessageInfo) and msg; charges the instance cost and the VM
 * gas (converted to SDK gas) to x. 0 with *res (free it with
 * wicas_vm_result_free also on failure), or -1 with x failed with fail_code
 * (or the storage's failure, or out of gas, or a node fault). */
int wicas_wasm_call_contract(wctx *x, const uint8_t a[32], const uint8_t cs[32], wicas_vm_entry entry,
                             const char *info_json, const uint8_t *msg, size_t msg_len, uint32_t fail_code,
                             wicas_vm_result *res);
/* MessageInfo JSON for `sender` sending funds c[0..n); malloc'd, NULL out of memory. */
char *wicas_wasm_info_json(const char *sender, const coin *c, size_t n);
/* A smart query of `contract` with msg: the answer (malloc'd, *ok true), or
 * NULL with *ok false and x failed (when the failure had a cause). */
char *wicas_wasm_smart_query(wctx *x, const char *contract, const uint8_t *msg, size_t ml, bool *ok);
/* The module whose custom message (msg) or custom query (!msg) key is in a
 * contract's {"custom":{...}} object (the first in table order), or NULL. */
const wicas_module *wicas_wasm_custom_route(const struct cJSON *custom, bool msg);
/* The bytes of a base64 JSON string (malloc'd, length *n), or NULL. */
uint8_t *wicas_wasm_b64dec(const struct cJSON *s, size_t *n);

/* ---- messages (wasm_msgs.c) ------------------------------------------------------------------ */
/* True when p[0..n) is non-empty valid JSON. */
bool wicas_wasm_json_ok(const uint8_t *p, size_t n);
/* ValidateBasic of wasm message `url`: its signer (malloc'd) or -1 with err,
 * whose text names the class of failure ("decode", "address", else invalid
 * request). */
int wicas_wasm_validate_msg(const char *url, const uint8_t *val, size_t len, char **signer, char *err,
                            size_t errlen);
/* The Msg server: runs wasm message `url` in x; its packed Msg*Response in *resp. */
int wicas_wasm_msg_handle(wctx *x, const char *url, const uint8_t *val, size_t len, uint8_t **resp,
                          size_t *resp_len);

/* ---- queries (wasm_query.c) ------------------------------------------------------------------ */
/* The /cosmwasm.wasm.v1.Query/ service (wicas_query_fn). */
void wicas_wasm_query_service(wctx *x, const char *method, const char *path, const uint8_t *data, size_t len,
                              wicas_chain_query_result *r);

#endif
