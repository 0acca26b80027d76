/*
 * chain_test_util.h — small helpers shared by the tests that drive the chain
 * through chain.h (tests/chain, tests/ai): addresses of test keys, the value
 * of an event attribute, a smart query, a balance. Header-only (static
 * functions) so each test binary stays one source file; include it after
 * cmocka.h, chain.h and wchain.pb-c.h.
 */
#ifndef WICAS_CHAIN_TEST_UTIL_H
#define WICAS_CHAIN_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bech32 account address of a secp256k1 secret key. */
static inline void ctu_addr_of(const uint8_t sk[32], char out[100]) {
    uint8_t pk[33], a[20];
    assert_int_equal(wicas_chain_pubkey_from_secret(sk, pk), 0);
    wicas_chain_pubkey_address(pk, a);
    assert_int_equal(wicas_chain_addr_encode(a, 20, out, 100), 0);
}

/* The value of key in the LAST event of that type among ev[0..n) (a tx's fee
 * transfer comes first, its message's last), or NULL. */
static inline const char *ctu_event_attr(const wicas_chain_event *ev, size_t n, const char *type,
                                         const char *key) {
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev[i].type, type) == 0)
            for (size_t j = 0; j < ev[i].n_attrs; j++)
                if (strcmp(ev[i].attrs[j].key, key) == 0) found = ev[i].attrs[j].value;
    return found;
}

static inline const char *ctu_attr(const wicas_chain_tx_result *r, const char *type, const char *key) {
    return ctu_event_attr(r->events, r->n_events, type, key);
}

/* A smart query's data (malloc'd JSON text), or NULL with *code != 0 and the
 * chain's log copied to log (when given). */
static inline char *ctu_smart(wicas_chain *c, const char *contract, const char *q, uint32_t *code, char *log,
                              size_t loglen) {
    Wchain__QuerySmartContractStateRequest rq = WCHAIN__QUERY_SMART_CONTRACT_STATE_REQUEST__INIT;
    rq.address = (char *)contract;
    rq.query_data.data = (uint8_t *)q;
    rq.query_data.len = strlen(q);
    size_t n = wchain__query_smart_contract_state_request__get_packed_size(&rq);
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    wchain__query_smart_contract_state_request__pack(&rq, buf);
    wicas_chain_query_result r;
    wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/SmartContractState", buf, n, 0, false, &r);
    free(buf);
    *code = r.code;
    char *out = NULL;
    if (r.code == 0) {
        Wchain__QuerySmartContractStateResponse *resp =
            wchain__query_smart_contract_state_response__unpack(NULL, r.value_len, r.value);
        assert_non_null(resp);
        out = strndup((char *)resp->data.data, resp->data.len);
        wchain__query_smart_contract_state_response__free_unpacked(resp, NULL);
    } else if (log && loglen) {
        snprintf(log, loglen, "%s", r.log ? r.log : "");
    }
    wicas_chain_query_result_free(&r);
    return out;
}

/* The balance of addr in denom (0 when it has none) and, when height is not
 * NULL, the height of the committed state the query read. */
static inline uint64_t ctu_balance_at(wicas_chain *c, const char *addr, const char *denom, int64_t *height) {
    Wchain__QueryBalanceRequest q = WCHAIN__QUERY_BALANCE_REQUEST__INIT;
    q.address = (char *)addr;
    q.denom = (char *)denom;
    uint8_t buf[300];
    size_t n = wchain__query_balance_request__pack(&q, buf);
    wicas_chain_query_result r;
    wicas_chain_query(c, "/cosmos.bank.v1beta1.Query/Balance", buf, n, 0, false, &r);
    assert_int_equal(r.code, 0);
    Wchain__QueryBalanceResponse *resp = wchain__query_balance_response__unpack(NULL, r.value_len, r.value);
    assert_non_null(resp);
    uint64_t v = strtoull(resp->balance->amount, NULL, 10);
    wchain__query_balance_response__free_unpacked(resp, NULL);
    if (height) *height = r.height;
    wicas_chain_query_result_free(&r);
    return v;
}

static inline uint64_t ctu_balance(wicas_chain *c, const char *addr, const char *denom) {
    return ctu_balance_at(c, addr, denom, NULL);
}

#ifdef WICAS_INFER_H
/* The registry entry (canonical model JSON, name "tiny", gas 1000 + 300 per
 * prompt token + 700 per generated token) of the GGUF at path, from the
 * engine's own reading of the file; 0, or -1 with the reason on stderr.
 * Needs infer.h and common.h included first. */
static inline int ctu_tiny_model_json(const char *path, char *out, size_t cap) {
    wicas_infer_model *m = NULL;
    char err[256];
    if (wicas_infer_model_load(path, NULL, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", path, err);
        return -1;
    }
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    wicas_infer_model_release(m);
    char hex[65];
    wicas_hex_encode(info.sha256, 32, hex);
    int n =
        snprintf(out, cap,
                 "{\"name\":\"tiny\",\"sha256\":\"%s\",\"size\":\"%llu\",\"arch\":\"%s\",\"params\":\"%llu\","
                 "\"gas\":{\"base\":\"1000\",\"per_prompt_token\":\"300\",\"per_gen_token\":\"700\"}}",
                 hex, (unsigned long long)info.file_size, info.arch, (unsigned long long)info.n_params);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
#endif

#endif
