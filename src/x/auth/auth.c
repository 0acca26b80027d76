/*
 * auth.c — the auth module (x/auth): account records (address, number,
 * sequence, public key) as BaseAccount protobuf under "acc/<addr>", account
 * numbers from "auth/next_account_number", the Account query and genesis
 * `auth.accounts`. The ante handler (chain.c) and the other modules reach
 * accounts through wicas_acc_get / wicas_acc_set / wicas_acc_ensure (chain_internal.h).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "module.h"
#include "xauth.h"

/* ---- accounts ------------------------------------------------------------------------ */

static size_t acc_key(const uint8_t *addr, size_t al, uint8_t *k) {
    memcpy(k, K_ACC, 4);
    memcpy(k + 4, addr, al);
    return 4 + al;
}

int wicas_acc_get(wctx *x, const uint8_t *addr, size_t al, Wchain__BaseAccount **out) {
    uint8_t k[40];
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = wicas_st_get(x, k, acc_key(addr, al, k), &v, &vl);
    if (rc != 1) return rc;
    *out = wchain__base_account__unpack(NULL, vl, v);
    free(v);
    if (!*out)
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "stored account is corrupt");
    return 1;
}

int wicas_acc_set(wctx *x, const uint8_t *addr, size_t al, const Wchain__BaseAccount *a) {
    uint8_t k[40];
    size_t n = wchain__base_account__get_packed_size(a);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    wchain__base_account__pack(a, buf);
    int rc = wicas_st_set(x, k, acc_key(addr, al, k), buf, n);
    free(buf);
    return rc;
}

int wicas_acc_ensure(wctx *x, const uint8_t *addr, size_t al) {
    Wchain__BaseAccount *a = NULL;
    int rc = wicas_acc_get(x, addr, al, &a);
    if (rc < 0) return -1;
    if (rc == 1) {
        wchain__base_account__free_unpacked(a, NULL);
        return 0;
    }
    uint8_t *v = NULL;
    size_t vl = 0;
    uint64_t num = 0;
    rc = wicas_st_get(x, (const uint8_t *)K_NEXT_ACC, strlen(K_NEXT_ACC), &v, &vl);
    if (rc < 0) return -1;
    if (rc == 1 && vl == 8) num = wicas_be64_get(v);
    free(v);
    uint8_t nb[8];
    wicas_be64_put(nb, num + 1);
    if (wicas_st_set(x, (const uint8_t *)K_NEXT_ACC, strlen(K_NEXT_ACC), nb, 8)) return -1;
    char s[100];
    wicas_addr_str(addr, al, s);
    Wchain__BaseAccount na = WCHAIN__BASE_ACCOUNT__INIT;
    na.address = s;
    na.account_number = num;
    return wicas_acc_set(x, addr, al, &na);
}

/* ---- genesis ------------------------------------------------------------------------- */

int wicas_auth_genesis_account(wctx *x, const cJSON *addr, const char *where, uint8_t a[32], size_t *al,
                               char *err, size_t errlen) {
    if (!cJSON_IsString(addr) || wicas_chain_addr_decode(addr->valuestring, a, al))
        return wicas_errf(err, errlen, "genesis %s: invalid address %s", where,
                          cJSON_IsString(addr) ? addr->valuestring : "(missing)");
    if (wicas_acc_ensure(x, a, *al)) return wicas_errf(err, errlen, "genesis %s: %s", where, x->err);
    return 0;
}

/* auth.accounts: [{"address": "wicas1..."}], numbered in file order */
static int auth_genesis(wctx *x, const cJSON *auth, char *err, size_t errlen) {
    const cJSON *accs = cJSON_GetObjectItemCaseSensitive(auth, "accounts");
    if (accs && !cJSON_IsArray(accs))
        return wicas_errf(err, errlen, "genesis auth.accounts must be an array");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, accs) {
        char where[64];
        snprintf(where, sizeof where, "auth.accounts[%zu]", i++);
        uint8_t a[32];
        size_t al;
        if (wicas_auth_genesis_account(x, cJSON_GetObjectItemCaseSensitive(it, "address"), where, a, &al, err,
                                       errlen))
            return -1;
    }
    return 0;
}

/* ---- queries ------------------------------------------------------------------------- */

static void q_account(wctx *x, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
    Wchain__QueryAccountRequest *q = wchain__query_account_request__unpack(NULL, len, data);
    if (!q) {
        wicas_query_fail(r, WICAS_CODE_TX_DECODE, NULL, "cannot decode QueryAccountRequest");
        return;
    }
    uint8_t a[32];
    size_t al;
    if (wicas_query_addr(r, q->address, a, &al)) {
        Wchain__BaseAccount *acc = NULL;
        int rc = wicas_acc_get(x, a, al, &acc);
        if (rc == 1) {
            size_t n = wchain__base_account__get_packed_size(acc);
            uint8_t *buf = malloc(n ? n : 1);
            if (buf) {
                wchain__base_account__pack(acc, buf);
                Wchain__Any any = WCHAIN__ANY__INIT;
                any.type_url = (char *)"/cosmos.auth.v1beta1.BaseAccount";
                any.value.data = buf;
                any.value.len = n;
                Wchain__QueryAccountResponse resp = WCHAIN__QUERY_ACCOUNT_RESPONSE__INIT;
                resp.account = &any;
                wicas_query_value(r, &resp.base);
            }
            free(buf);
            wchain__base_account__free_unpacked(acc, NULL);
        } else if (rc == 0) {
            wicas_query_fail(r, WICAS_CODE_KEY_NOT_FOUND, NULL, "account %s not found: key not found",
                             q->address);
        } else {
            wicas_query_fail(r, WICAS_CODE_INTERNAL, NULL, "%s", x->err);
        }
    }
    wchain__query_account_request__free_unpacked(q, NULL);
}

static void auth_query(wctx *x, const char *method, const char *path, const uint8_t *data, size_t len,
                       wicas_chain_query_result *r) {
    if (strcmp(method, "Account") == 0)
        q_account(x, data, len, r);
    else
        wicas_query_fail(r, WICAS_CODE_UNKNOWN_REQUEST, NULL, "unknown query path '%s': unknown request",
                         path);
}

const wicas_module wicas_module_auth = {
    .name = "auth",
    .query_service = "/cosmos.auth.v1beta1.Query/",
    .query = auth_query,
    .genesis_init = auth_genesis,
};
