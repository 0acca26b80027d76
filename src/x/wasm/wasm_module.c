/*
 * wasm_module.c — the x/wasm module as the chain sees it: one wicas_module
 * (module.h) with wasmd's six Msg routes, the /cosmwasm.wasm.v1.Query/
 * service, the genesis section and the VMs' life cycle. The work is done in
 * the other files of the module (wasm_internal.h lists them).
 *
 * State: open creates the consensus VM (its compiled-module cache under
 * <data_dir>/wasm-cache, shared by all VMs of the node) and the bech32
 * address API contracts use; a query view gets its slot's VM on its first
 * open (the slot is the view's alone while it is open, so creating it needs
 * no lock), kept until close. Caches are not state: a cold node recompiles
 * from the stored bytes (wasm_vm.c).
 *
 * Genesis: app_state.wasm.codes = [{"code_bytes": "<base64>", "code_info":
 * {"creator": "wicas1..."}}], stored in order as code ids 1, 2, ... (the
 * creator gets an account when it has none). Contracts are not part of
 * genesis.
 *
 * Signers: ValidateBasic (wicas_wasm_validate_msg) names the class of a failure in
 * its text; the adapter here turns it into the SDK code the tx answers with
 * (2 decode, 7 address, 18 invalid request).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "wasm_internal.h"
#include "xauth.h"

/* ---- life cycle --------------------------------------------------------------------------------- */

static wicas_vm *wasm_vm_new(const wicas_chain *c, char *err, size_t errlen) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/wasm-cache", c->data_dir);
    mkdir(dir, 0755);
    wicas_vm_config cfg;
    wicas_vm_config_default(&cfg);
    cfg.cache_dir = dir;
    return wicas_vm_new(&cfg, err, errlen);
}

static void wasm_close(wicas_chain *c, void *state) {
    (void)c;
    wasm_state *st = state;
    if (!st) return;
    for (int i = 0; i < CHAIN_QUERY_WORKERS; i++)
        if (st->q_vm[i]) wicas_vm_free(st->q_vm[i]);
    if (st->vm) wicas_vm_free(st->vm);
    if (st->api) wicas_vm_api_free(st->api);
    free(st);
}

static int wasm_open(wicas_chain *c, void **state, char *err, size_t errlen) {
    wasm_state *st = calloc(1, sizeof *st);
    if (!st) return wicas_errf(err, errlen, "out of memory"), WICAS_CHAIN_ERR_NOMEM;
    st->vm = wasm_vm_new(c, err, errlen);
    st->api = wicas_vm_api_bech32(WICAS_CHAIN_BECH32_PREFIX);
    if (!st->vm || !st->api) {
        if (!st->api) wicas_errf(err, errlen, "cannot create the contract VM address API");
        wasm_close(c, st);
        return WICAS_CHAIN_ERR_INVALID;
    }
    *state = st;
    return 0;
}

/* A query view runs contracts on its slot's VM (see the file comment). */
static int wasm_view_open(wicas_chain *view, void *state, int slot, char *err, size_t errlen) {
    wasm_state *st = state;
    if (!st->q_vm[slot]) st->q_vm[slot] = wasm_vm_new(view, err, errlen);
    return st->q_vm[slot] ? 0 : WICAS_CHAIN_ERR_NOMEM;
}

/* ---- the module ------------------------------------------------------------------------------ */

/* ValidateBasic + signer of a wasm message, with the SDK code of a failure. */
static int wasm_msg_signer(const char *url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                           char *err, size_t errlen) {
    if (wicas_wasm_validate_msg(url, val, len, signer, err, errlen) == 0) return 0;
    *code = strstr(err, "decode") ? WICAS_CODE_TX_DECODE : WICAS_CODE_INVALID_REQUEST;
    if (strstr(err, "address")) *code = WICAS_CODE_INVALID_ADDRESS;
    return -1;
}

/* wasm.codes: [{"code_bytes": "<base64>", "code_info": {"creator": "wicas1..."}}] */
static int wasm_genesis(wctx *x, const cJSON *wasm, char *err, size_t errlen) {
    const cJSON *codes = cJSON_GetObjectItemCaseSensitive(wasm, "codes");
    if (codes && !cJSON_IsArray(codes)) return wicas_errf(err, errlen, "genesis wasm.codes must be an array");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, codes) {
        char where[64];
        snprintf(where, sizeof where, "wasm.codes[%zu]", i++);
        const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(it, "code_bytes");
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(it, "code_info");
        const cJSON *creator = info ? cJSON_GetObjectItemCaseSensitive(info, "creator") : NULL;
        uint8_t a[32];
        size_t al;
        if (!cJSON_IsString(b64))
            return wicas_errf(err, errlen, "genesis %s: code_bytes (base64) missing", where);
        if (wicas_auth_genesis_account(x, creator, where, a, &al, err, errlen)) return -1;
        size_t bl = strlen(b64->valuestring);
        uint8_t *wasmb = malloc(bl / 4 * 3 + 3);
        long n = wasmb ? wicas_base64_decode(b64->valuestring, bl, wasmb, bl / 4 * 3 + 3) : -1;
        uint64_t id;
        uint8_t cs[32];
        int rc = 0;
        if (n <= 0)
            rc = wicas_errf(err, errlen, "genesis %s: code_bytes is not valid base64", where);
        else if (wicas_wasm_store_code(x, a, al, wasmb, (size_t)n, &id, cs))
            rc = wicas_errf(err, errlen, "genesis %s: %s", where, x->err);
        free(wasmb);
        if (rc) return rc;
    }
    return 0;
}

static const wicas_msg_route wasm_msgs[] = {
    {URL_STORE, &wchain__msg_store_code__descriptor, wasm_msg_signer, wicas_wasm_msg_handle},
    {URL_INST, &wchain__msg_instantiate_contract__descriptor, wasm_msg_signer, wicas_wasm_msg_handle},
    {URL_EXEC, &wchain__msg_execute_contract__descriptor, wasm_msg_signer, wicas_wasm_msg_handle},
    {URL_MIGRATE, &wchain__msg_migrate_contract__descriptor, wasm_msg_signer, wicas_wasm_msg_handle},
    {URL_ADMIN, &wchain__msg_update_admin__descriptor, wasm_msg_signer, wicas_wasm_msg_handle},
    {URL_CLEAR, &wchain__msg_clear_admin__descriptor, wasm_msg_signer, wicas_wasm_msg_handle},
};

const wicas_module wicas_module_wasm = {
    .name = "wasm",
    .msgs = wasm_msgs,
    .n_msgs = sizeof wasm_msgs / sizeof wasm_msgs[0],
    .query_service = "/cosmwasm.wasm.v1.Query/",
    .query = wicas_wasm_query_service,
    .open = wasm_open,
    .close = wasm_close,
    .view_open = wasm_view_open,
    .genesis_init = wasm_genesis,
};
