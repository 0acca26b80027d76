/*
 * genesis.c — applies the app_state JSON of genesis.json at InitChain.
 *
 * Schema (a subset of the Cosmos SDK / wasmd genesis, same field names):
 *   {
 *     "auth": {"accounts": [{"address": "wicas1..."}, ...]},          optional
 *     "bank": {"balances": [{"address": "wicas1...",
 *                            "coins": [{"denom": "uwicas", "amount": "1000"}]}]},
 *     "wasm": {"codes": [{"code_bytes": "<base64 wasm>",
 *                         "code_info": {"creator": "wicas1..."}}]}        optional
 *     "params": {"min_gas_price": "0.001uwicas", "max_tx_gas": "50000000"} optional
 *     "ai": {"models": [<model entry, see ai.h>],
 *            "params": {"block_budget": "N", "authority": "wicas1...",
 *                       "async_timeout_blocks": "N"}}  optional (each part too);
 *            the authority may register models by MsgRegisterModel (aimsg.c)
 *   }
 * Other top-level keys are ignored (other modules' sections). Accounts get
 * numbers in the order they first appear (auth.accounts, then bank.balances),
 * which is fixed by the file, so every validator derives the same state.
 * Anything malformed fails InitChain with a message naming the entry.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "common.h"
#include "params.h"

static int gerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int gerr(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int account(wctx *x, const cJSON *addr, const char *where, uint8_t a[32], size_t *al, char *err,
                   size_t errlen) {
    if (!cJSON_IsString(addr) || wicas_chain_addr_decode(addr->valuestring, a, al))
        return gerr(err, errlen, "genesis %s: invalid address %s", where,
                    cJSON_IsString(addr) ? addr->valuestring : "(missing)");
    if (acc_ensure(x, a, *al)) return gerr(err, errlen, "genesis %s: %s", where, x->err);
    return 0;
}

int genesis_apply(wctx *x, const char *json, size_t len, char *err, size_t errlen) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return gerr(err, errlen, "genesis app_state is not a JSON object");
    }
    int rc = 0;
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(root, "auth");
    const cJSON *accs = auth ? cJSON_GetObjectItemCaseSensitive(auth, "accounts") : NULL;
    if (accs && !cJSON_IsArray(accs)) rc = gerr(err, errlen, "genesis auth.accounts must be an array");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, accs) {
        if (rc) break;
        char where[64];
        snprintf(where, sizeof where, "auth.accounts[%zu]", i++);
        uint8_t a[32];
        size_t al;
        rc = account(x, cJSON_GetObjectItemCaseSensitive(it, "address"), where, a, &al, err, errlen);
    }
    const cJSON *bank = cJSON_GetObjectItemCaseSensitive(root, "bank");
    const cJSON *bals = bank ? cJSON_GetObjectItemCaseSensitive(bank, "balances") : NULL;
    if (!rc && bals && !cJSON_IsArray(bals)) rc = gerr(err, errlen, "genesis bank.balances must be an array");
    i = 0;
    cJSON_ArrayForEach(it, bals) {
        if (rc) break;
        char where[64];
        snprintf(where, sizeof where, "bank.balances[%zu]", i++);
        uint8_t a[32];
        size_t al;
        if ((rc = account(x, cJSON_GetObjectItemCaseSensitive(it, "address"), where, a, &al, err, errlen))) break;
        const cJSON *coins = cJSON_GetObjectItemCaseSensitive(it, "coins");
        if (!cJSON_IsArray(coins)) {
            rc = gerr(err, errlen, "genesis %s: coins must be an array", where);
            break;
        }
        const cJSON *cn;
        cJSON_ArrayForEach(cn, coins) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(cn, "denom");
            const cJSON *am = cJSON_GetObjectItemCaseSensitive(cn, "amount");
            uint64_t amount, have;
            if (!cJSON_IsString(d) || !denom_valid(d->valuestring) || !cJSON_IsString(am) ||
                parse_u64(am->valuestring, &amount)) {
                rc = gerr(err, errlen, "genesis %s: each coin needs a valid denom and a decimal string amount", where);
                break;
            }
            if (bank_balance(x, a, al, d->valuestring, &have) || have > UINT64_MAX - amount ||
                bank_set_balance(x, a, al, d->valuestring, have + amount)) {
                rc = gerr(err, errlen, "genesis %s: cannot set balance: %s", where, x->err[0] ? x->err : "overflow");
                break;
            }
        }
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    if (!rc && params) rc = params_genesis(x, params, err, errlen);
    const cJSON *wasm = cJSON_GetObjectItemCaseSensitive(root, "wasm");
    const cJSON *codes = wasm ? cJSON_GetObjectItemCaseSensitive(wasm, "codes") : NULL;
    if (!rc && codes && !cJSON_IsArray(codes)) rc = gerr(err, errlen, "genesis wasm.codes must be an array");
    i = 0;
    cJSON_ArrayForEach(it, codes) {
        if (rc) break;
        char where[64];
        snprintf(where, sizeof where, "wasm.codes[%zu]", i++);
        const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(it, "code_bytes");
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(it, "code_info");
        const cJSON *creator = info ? cJSON_GetObjectItemCaseSensitive(info, "creator") : NULL;
        uint8_t a[32];
        size_t al;
        if (!cJSON_IsString(b64)) {
            rc = gerr(err, errlen, "genesis %s: code_bytes (base64) missing", where);
            break;
        }
        if ((rc = account(x, creator, where, a, &al, err, errlen))) break;
        size_t bl = strlen(b64->valuestring);
        uint8_t *wasmb = malloc(bl / 4 * 3 + 3);
        long n = wasmb ? wicas_base64_decode(b64->valuestring, bl, wasmb, bl / 4 * 3 + 3) : -1;
        uint64_t id;
        uint8_t cs[32];
        if (n <= 0) {
            rc = gerr(err, errlen, "genesis %s: code_bytes is not valid base64", where);
        } else if (wasm_store(x, a, al, wasmb, (size_t)n, &id, cs)) {
            rc = gerr(err, errlen, "genesis %s: %s", where, x->err);
        }
        free(wasmb);
    }
    const cJSON *ai = cJSON_GetObjectItemCaseSensitive(root, "ai");
    if (!rc && ai) rc = aimod_genesis(x, ai, err, errlen);
    cJSON_Delete(root);
    return rc;
}
