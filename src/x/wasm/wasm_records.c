/*
 * wasm_records.c — the x/wasm module's records in the chain store (the key
 * layout is in xwasm.h): the code and instance sequences, StoredCode and
 * ContractInfo records, the ContractsByCode index, and storing code.
 *
 * Code ids and instance ids start at 1 like wasmd's. A record that does not
 * decode is a corrupt store (an internal failure, which halts this node
 * rather than recording a result the others may not have). Storing code
 * compiles it first: a deterministic compile failure is the user's
 * ("create wasm contract failed"), anything else this node's. The bytecode
 * itself is kept once per checksum; the VM's compiled module cache is not
 * part of the state (wasm_vm.c recompiles from the stored bytes).
 *
 * Gas: every read and write here goes through the metered store (wicas_st_get /
 * wicas_st_set) like wasmd's keeper; the per-byte compile price is charged by the
 * Msg server before storing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "wasm_internal.h"

size_t wicas_wasm_key(const char *pre, const uint8_t *a, size_t al, uint8_t *out) {
    size_t pl = strlen(pre);
    memcpy(out, pre, pl);
    memcpy(out + pl, a, al);
    return pl + al;
}

int wicas_wasm_next_seq(wctx *x, const char *key, uint64_t *id) {
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = wicas_st_get(x, (const uint8_t *)key, strlen(key), &v, &vl);
    if (rc < 0) return -1;
    *id = (rc == 1 && vl == 8) ? wicas_be64_get(v) : 1;
    free(v);
    uint8_t nb[8];
    wicas_be64_put(nb, *id + 1);
    return wicas_st_set(x, (const uint8_t *)key, strlen(key), nb, 8);
}

int wicas_wasm_code_get(wctx *x, uint64_t id, Wchain__StoredCode **out) {
    uint8_t k[32], ib[8];
    wicas_be64_put(ib, id);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = wicas_st_get(x, k, wicas_wasm_key(K_CODE, ib, 8, k), &v, &vl);
    if (rc != 1) return rc;
    *out = wchain__stored_code__unpack(NULL, vl, v);
    free(v);
    return *out ? 1
                : wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "stored code record %" PRIu64 " is corrupt",
                                 id);
}

int wicas_wasm_contract_get(wctx *x, const uint8_t a[32], Wchain__ContractInfo **out) {
    uint8_t k[64];
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = wicas_st_get(x, k, wicas_wasm_key(K_CONTRACT, a, 32, k), &v, &vl);
    if (rc != 1) return rc;
    *out = wchain__contract_info__unpack(NULL, vl, v);
    free(v);
    return *out ? 1 : wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "stored contract record is corrupt");
}

int wicas_wasm_contract_set(wctx *x, const uint8_t a[32], const Wchain__ContractInfo *ci) {
    uint8_t k[64];
    size_t n = wchain__contract_info__get_packed_size(ci);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
    wchain__contract_info__pack(ci, buf);
    int rc = wicas_st_set(x, k, wicas_wasm_key(K_CONTRACT, a, 32, k), buf, n);
    free(buf);
    return rc;
}

size_t wicas_wasm_bycode_key(uint64_t code_id, const Wchain__ContractInfo *ci, const uint8_t a[32],
                             uint8_t *k) {
    size_t o = strlen(K_BYCODE);
    memcpy(k, K_BYCODE, o);
    wicas_be64_put(k + o, code_id);
    wicas_be64_put(k + o + 8, ci->created ? ci->created->block_height : 0);
    wicas_be64_put(k + o + 16, ci->created ? ci->created->tx_index : 0);
    memcpy(k + o + 24, a, 32);
    return o + 56;
}

int wicas_wasm_load_contract(wctx *x, const char *contract, uint8_t a[32], Wchain__ContractInfo **ci,
                             Wchain__StoredCode **code) {
    size_t al;
    *ci = NULL;
    if (code) *code = NULL;
    if (!contract || wicas_chain_addr_decode(contract, a, &al) || al != 32) {
        return wicas_ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CONTRACT, WASM_CS, "no such contract: %s",
                              contract ? contract : "");
    }
    int rc = wicas_wasm_contract_get(x, a, ci);
    if (rc < 0) return -1;
    if (rc == 0)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CONTRACT, WASM_CS, "no such contract: %s", contract);
    if (code) {
        rc = wicas_wasm_code_get(x, (*ci)->code_id, code);
        if (rc != 1) {
            wchain__contract_info__free_unpacked(*ci, NULL);
            *ci = NULL;
            return rc < 0 ? -1
                          : wicas_ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CODE, WASM_CS,
                                           "no such code for contract %s", contract);
        }
    }
    return 0;
}

int wicas_wasm_store_code(wctx *x, const uint8_t *creator, size_t cl, const uint8_t *wasm, size_t len,
                          uint64_t *code_id, uint8_t checksum[32]) {
    wicas_sha256(wasm, len, checksum);
    char err[300];
    wicas_vm_status vs = wicas_vm_store_code(wicas_wasm_vm_of(x->c), wasm, len, NULL, err, sizeof err);
    if (vs != WICAS_VM_OK && !wicas_vm_status_is_deterministic(vs))
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "storing code failed on this node: %s", err);
    if (vs != WICAS_VM_OK)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_CREATE_FAILED, WASM_CS, "create wasm contract failed: %s",
                              err);
    if (wicas_wasm_next_seq(x, K_CODE_SEQ, code_id)) return -1;
    uint8_t k[64];
    size_t kl = wicas_wasm_key(K_BYTECODE, checksum, 32, k);
    int have = wicas_st_get(x, k, kl, NULL, NULL);
    if (have < 0 || (have == 0 && wicas_st_set(x, k, kl, wasm, len))) return -1;
    char cs[100];
    wicas_addr_str(creator, cl, cs);
    Wchain__StoredCode sc = WCHAIN__STORED_CODE__INIT;
    sc.code_id = *code_id;
    sc.creator = cs;
    sc.checksum.data = checksum;
    sc.checksum.len = 32;
    uint8_t buf[200], ib[8];
    size_t n = wchain__stored_code__pack(&sc, buf);
    wicas_be64_put(ib, *code_id);
    return wicas_st_set(x, k, wicas_wasm_key(K_CODE, ib, 8, k), buf, n);
}
