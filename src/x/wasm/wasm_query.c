/*
 * wasm_query.c — the x/wasm gRPC query service, /cosmwasm.wasm.v1.Query/:
 * ContractInfo, RawContractState, SmartContractState, Code, Codes and
 * ContractsByCode, answered from a read-only context on a view of the last
 * commit (module.h's wicas_query_fn).
 *
 * Like wasmd's: a smart query runs the contract's `query` entry point on the
 * view's own VM (wasm_vm.c) with the query's gas limit; Code answers the
 * stored bytecode with its CodeInfo (instantiate permission: everybody);
 * Codes lists codes in id order and ContractsByCode the contracts of a code
 * in creation order (the wasm/bycode index: height, tx index, address).
 * Pagination honours `limit` (default 100) and returns a next_key: for Codes
 * the next code id (BE8), for ContractsByCode the rest of the index key;
 * offsets and totals are not supported. Failures answer the query with a
 * code and log (wicas_query_fail), never fail the node.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "wasm_internal.h"

static void fill_code_info(Wchain__CodeInfoResponse *ci, Wchain__AccessConfig *ac,
                           const Wchain__StoredCode *sc) {
    wchain__code_info_response__init(ci);
    wchain__access_config__init(ac);
    ac->permission = 3; /* everybody */
    ci->code_id = sc->code_id;
    ci->creator = sc->creator;
    ci->data_hash = sc->checksum;
    ci->instantiate_permission = ac;
}

void wicas_wasm_query_service(wctx *x, const char *name, const char *path, const uint8_t *data, size_t len,
                              wicas_chain_query_result *r) {
    (void)path;
    if (strcmp(name, "ContractInfo") == 0) {
        Wchain__QueryContractInfoRequest *q = wchain__query_contract_info_request__unpack(NULL, len, data);
        if (!q)
            return wicas_query_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                    "cannot decode QueryContractInfoRequest");
        uint8_t a[32];
        Wchain__ContractInfo *ci;
        if (wicas_wasm_load_contract(x, q->address, a, &ci, NULL)) {
            wicas_query_fail(r, x->code, WASM_CS, "%s", x->err);
        } else {
            Wchain__QueryContractInfoResponse resp = WCHAIN__QUERY_CONTRACT_INFO_RESPONSE__INIT;
            resp.address = q->address;
            resp.contract_info = ci;
            wicas_query_value(r, &resp.base);
            wchain__contract_info__free_unpacked(ci, NULL);
        }
        wchain__query_contract_info_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "RawContractState") == 0) {
        Wchain__QueryRawContractStateRequest *q =
            wchain__query_raw_contract_state_request__unpack(NULL, len, data);
        if (!q)
            return wicas_query_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                    "cannot decode QueryRawContractStateRequest");
        uint8_t a[32];
        Wchain__ContractInfo *ci;
        if (wicas_wasm_load_contract(x, q->address, a, &ci, NULL)) {
            wicas_query_fail(r, x->code, WASM_CS, "%s", x->err);
        } else {
            uint8_t *k = malloc(64 + q->query_data.len);
            size_t kl = wicas_wasm_key(K_CSTORE, a, 32, k);
            if (q->query_data.len) memcpy(k + kl, q->query_data.data, q->query_data.len);
            uint8_t *v = NULL;
            size_t vl = 0;
            int rc = wicas_st_get(x, k, kl + q->query_data.len, &v, &vl);
            Wchain__QueryRawContractStateResponse resp = WCHAIN__QUERY_RAW_CONTRACT_STATE_RESPONSE__INIT;
            if (rc == 1) {
                resp.data.data = v;
                resp.data.len = vl;
            }
            if (rc < 0)
                wicas_query_fail(r, WICAS_CODE_INTERNAL, WASM_CS, "%s", x->err);
            else
                wicas_query_value(r, &resp.base);
            free(v);
            free(k);
            wchain__contract_info__free_unpacked(ci, NULL);
        }
        wchain__query_raw_contract_state_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "SmartContractState") == 0) {
        Wchain__QuerySmartContractStateRequest *q =
            wchain__query_smart_contract_state_request__unpack(NULL, len, data);
        if (!q)
            return wicas_query_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                    "cannot decode QuerySmartContractStateRequest");
        if (!wicas_wasm_json_ok(q->query_data.data, q->query_data.len)) {
            wicas_query_fail(r, WICAS_WASM_CODE_INVALID, WASM_CS, "query data must be JSON: invalid");
        } else {
            bool ok;
            char *out = wicas_wasm_smart_query(x, q->address, q->query_data.data, q->query_data.len, &ok);
            if (!ok) {
                wicas_query_fail(r, x->code ? x->code : WICAS_WASM_CODE_QUERY_FAILED,
                                 x->codespace ? x->codespace : WASM_CS, "%s",
                                 x->err[0] ? x->err : "query wasm contract failed");
            } else {
                Wchain__QuerySmartContractStateResponse resp =
                    WCHAIN__QUERY_SMART_CONTRACT_STATE_RESPONSE__INIT;
                resp.data.data = (uint8_t *)out;
                resp.data.len = strlen(out);
                wicas_query_value(r, &resp.base);
            }
            free(out);
        }
        wchain__query_smart_contract_state_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "Code") == 0) {
        Wchain__QueryCodeRequest *q = wchain__query_code_request__unpack(NULL, len, data);
        if (!q)
            return wicas_query_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                    "cannot decode QueryCodeRequest");
        Wchain__StoredCode *sc = NULL;
        int rc = wicas_wasm_code_get(x, q->code_id, &sc);
        if (rc != 1) {
            wicas_query_fail(r, rc == 0 ? WICAS_WASM_CODE_NOT_FOUND : WICAS_CODE_INTERNAL, WASM_CS,
                             "no such code: %" PRIu64 ": not found", q->code_id);
        } else {
            uint8_t k[64];
            uint8_t *v = NULL;
            size_t vl = 0;
            wicas_st_get(x, k, wicas_wasm_key(K_BYTECODE, sc->checksum.data, 32, k), &v, &vl);
            Wchain__CodeInfoResponse ci;
            Wchain__AccessConfig ac;
            fill_code_info(&ci, &ac, sc);
            Wchain__QueryCodeResponse resp = WCHAIN__QUERY_CODE_RESPONSE__INIT;
            resp.code_info = &ci;
            resp.data.data = v;
            resp.data.len = vl;
            wicas_query_value(r, &resp.base);
            free(v);
            wchain__stored_code__free_unpacked(sc, NULL);
        }
        wchain__query_code_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "Codes") == 0) {
        /* all codes in id order (pagination: limit honoured, key = next BE8 id) */
        Wchain__QueryCodesRequest *q = wchain__query_codes_request__unpack(NULL, len, data);
        if (!q)
            return wicas_query_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                    "cannot decode QueryCodesRequest");
        uint64_t limit = q->pagination && q->pagination->limit ? q->pagination->limit : 100;
        uint64_t start =
            q->pagination && q->pagination->key.len == 8 ? wicas_be64_get(q->pagination->key.data) : 1;
        Wchain__StoredCode **scs = NULL;
        size_t n = 0;
        uint64_t next = 0;
        for (uint64_t id = start;; id++) {
            Wchain__StoredCode *sc = NULL;
            if (wicas_wasm_code_get(x, id, &sc) != 1) break;
            if (n == limit) {
                next = id;
                wchain__stored_code__free_unpacked(sc, NULL);
                break;
            }
            Wchain__StoredCode **ns = realloc(scs, (n + 1) * sizeof *ns);
            if (!ns) {
                wchain__stored_code__free_unpacked(sc, NULL);
                break;
            }
            scs = ns;
            scs[n++] = sc;
        }
        Wchain__CodeInfoResponse *cis = calloc(n ? n : 1, sizeof *cis);
        Wchain__CodeInfoResponse **pc = calloc(n ? n : 1, sizeof *pc);
        Wchain__AccessConfig *acs = calloc(n ? n : 1, sizeof *acs);
        if (cis && pc && acs) {
            for (size_t i = 0; i < n; i++) {
                fill_code_info(&cis[i], &acs[i], scs[i]);
                pc[i] = &cis[i];
            }
            uint8_t nk[8];
            wicas_be64_put(nk, next);
            Wchain__PageResponse page = WCHAIN__PAGE_RESPONSE__INIT;
            if (next) {
                page.next_key.data = nk;
                page.next_key.len = 8;
            }
            Wchain__QueryCodesResponse resp = WCHAIN__QUERY_CODES_RESPONSE__INIT;
            resp.code_infos = pc;
            resp.n_code_infos = n;
            resp.pagination = &page;
            wicas_query_value(r, &resp.base);
        }
        for (size_t i = 0; i < n; i++)
            wchain__stored_code__free_unpacked(scs[i], NULL);
        free(scs);
        free(cis);
        free(pc);
        free(acs);
        wchain__query_codes_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "ContractsByCode") == 0) {
        Wchain__QueryContractsByCodeRequest *q =
            wchain__query_contracts_by_code_request__unpack(NULL, len, data);
        if (!q)
            return wicas_query_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                    "cannot decode QueryContractsByCodeRequest");
        uint8_t pre[32];
        size_t pl = strlen(K_BYCODE);
        memcpy(pre, K_BYCODE, pl);
        wicas_be64_put(pre + pl, q->code_id);
        pl += 8;
        uint64_t limit = q->pagination && q->pagination->limit ? q->pagination->limit : 100;
        char **list = NULL;
        size_t n = 0;
        uint8_t *cur = malloc(pl);
        size_t curl = pl;
        memcpy(cur, pre, pl);
        bool incl = true;
        uint8_t *next = NULL;
        size_t next_len = 0;
        if (q->pagination && q->pagination->key.len) {
            free(cur);
            cur = malloc(pl + q->pagination->key.len);
            memcpy(cur, pre, pl);
            memcpy(cur + pl, q->pagination->key.data, q->pagination->key.len);
            curl = pl + q->pagination->key.len;
        }
        for (;;) {
            uint8_t *k, *v;
            size_t kl, vl;
            int rc = wicas_st_next(x, cur, curl, incl, &k, &kl, &v, &vl);
            if (rc != 1) break;
            free(v);
            if (kl != pl + 48 || memcmp(k, pre, pl) != 0) {
                free(k);
                break;
            }
            if (n == limit) {
                next_len = kl - pl;
                next = malloc(next_len);
                memcpy(next, k + pl, next_len);
                free(k);
                break;
            }
            char as[100];
            wicas_addr_str(k + pl + 16, 32, as);
            char **nl = realloc(list, (n + 1) * sizeof *nl);
            if (!nl) {
                free(k);
                break;
            }
            list = nl;
            list[n++] = wicas_xstrdup(as);
            free(cur);
            cur = k;
            curl = kl;
            incl = false;
        }
        free(cur);
        Wchain__PageResponse page = WCHAIN__PAGE_RESPONSE__INIT;
        if (next) {
            page.next_key.data = next;
            page.next_key.len = next_len;
        }
        Wchain__QueryContractsByCodeResponse resp = WCHAIN__QUERY_CONTRACTS_BY_CODE_RESPONSE__INIT;
        resp.contracts = list;
        resp.n_contracts = n;
        resp.pagination = &page;
        wicas_query_value(r, &resp.base);
        for (size_t i = 0; i < n; i++)
            free(list[i]);
        free(list);
        free(next);
        wchain__query_contracts_by_code_request__free_unpacked(q, NULL);
    } else {
        wicas_query_fail(r, WICAS_CODE_UNKNOWN_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                         "unknown query path '/cosmwasm.wasm.v1.Query/%s': unknown request", name);
    }
}
