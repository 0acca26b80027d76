/*
 * params.c — chain-wide parameters from genesis (see params.h). Kept in the
 * state, so they are part of the app hash and identical on every node.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "params.h"

int wicas_params_parse_price(const char *s, uint64_t *num, uint64_t *den) {
    /* digits [. digits] denom; at most 18 fractional digits so den fits 64 bits */
    uint64_t n = 0, d = 1;
    const char *p = s;
    int digits = 0, frac = -1;
    for (; *p; p++) {
        if (*p == '.') {
            if (frac >= 0) return -1;
            frac = 0;
            continue;
        }
        if (*p < '0' || *p > '9') break;
        if (n > (UINT64_MAX - 9) / 10) return -1;
        n = n * 10 + (uint64_t)(*p - '0');
        digits++;
        if (frac >= 0) {
            if (++frac > 18) return -1;
            d *= 10;
        }
    }
    if (digits == 0 || frac == 0 || strcmp(p, WICAS_CHAIN_DENOM) != 0) return -1;
    *num = n;
    *den = d;
    return 0;
}

int wicas_params_genesis(wctx *x, const cJSON *p, char *err, size_t errlen) {
    if (!cJSON_IsObject(p)) {
        snprintf(err, errlen, "genesis params must be an object");
        return -1;
    }
    cJSON *out = cJSON_CreateObject();
    const cJSON *mgp = cJSON_GetObjectItemCaseSensitive(p, "min_gas_price");
    const cJSON *mtg = cJSON_GetObjectItemCaseSensitive(p, "max_tx_gas");
    uint64_t a, b;
    if (mgp && (!cJSON_IsString(mgp) || wicas_params_parse_price(mgp->valuestring, &a, &b))) {
        snprintf(err, errlen, "genesis params.min_gas_price must be a decimal price in %s, e.g. \"0.001%s\"",
                 WICAS_CHAIN_DENOM, WICAS_CHAIN_DENOM);
        cJSON_Delete(out);
        return -1;
    }
    if (mtg && (!cJSON_IsString(mtg) || wicas_parse_u64(mtg->valuestring, &a) || a == 0)) {
        snprintf(err, errlen, "genesis params.max_tx_gas must be a positive integer in a string");
        cJSON_Delete(out);
        return -1;
    }
    if (mgp) cJSON_AddStringToObject(out, "min_gas_price", mgp->valuestring);
    if (mtg) cJSON_AddStringToObject(out, "max_tx_gas", mtg->valuestring);
    char *s = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = wicas_st_set(x, (const uint8_t *)K_PARAMS, strlen(K_PARAMS), (const uint8_t *)s, strlen(s));
    free(s);
    if (rc) snprintf(err, errlen, "genesis params: %s", x->err);
    return rc;
}

void wicas_params_load(kv *view, chain_params *out) {
    memset(out, 0, sizeof *out);
    uint8_t *v = NULL;
    size_t vl = 0;
    if (wicas_kv_get(view, (const uint8_t *)K_PARAMS, strlen(K_PARAMS), &v, &vl) != 1) return;
    cJSON *j = cJSON_ParseWithLength((const char *)v, vl);
    free(v);
    const cJSON *mgp = cJSON_GetObjectItemCaseSensitive(j, "min_gas_price");
    const cJSON *mtg = cJSON_GetObjectItemCaseSensitive(j, "max_tx_gas");
    if (cJSON_IsString(mgp))
        wicas_params_parse_price(mgp->valuestring, &out->min_gas_price_num, &out->min_gas_price_den);
    if (cJSON_IsString(mtg)) wicas_parse_u64(mtg->valuestring, &out->max_tx_gas);
    cJSON_Delete(j);
}

/* Chain parameters are the core's, registered like a module so their
 * genesis section is applied at its place in the table. */
const wicas_module wicas_module_params = {
    .name = "params",
    .genesis_init = wicas_params_genesis,
};
