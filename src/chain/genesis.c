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
 * Each section belongs to the module of that name (module.h) and is applied
 * by it, in the module table's order (modules.c); other top-level keys are
 * ignored. Accounts get numbers in the order they first appear (auth.accounts,
 * then bank.balances, then wasm code creators), which is fixed by the file,
 * so every validator derives the same state. Anything malformed fails
 * InitChain with a message naming the entry.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "module.h"

int wicas_genesis_apply(wctx *x, const char *json, size_t len, char *err, size_t errlen) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return wicas_errf(err, errlen, "genesis app_state is not a JSON object");
    }
    /* each module's section, in table order; absent sections are skipped */
    int rc = 0;
    for (int i = 0; !rc && wicas_modules[i]; i++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, wicas_modules[i]->name);
        if (sec && wicas_modules[i]->genesis_init) rc = wicas_modules[i]->genesis_init(x, sec, err, errlen);
    }
    cJSON_Delete(root);
    return rc;
}
