/*
 * fuzz_common.h — one fuzz step shared by the libFuzzer target (fuzz_vm.c)
 * and the deterministic in-ctest mini-fuzz (test_vm_fuzz.c). Input mode byte:
 *   even: the rest is a wasm module: store it, and if accepted run every
 *         entry point with a small gas limit;
 *   odd:  the rest is a message for the counter contract's execute/query.
 * Nothing may crash; every call must produce a status and a message.
 * Modules go to `vm`, the counter lives in `counter_vm` (so that the modules'
 * LRU churn never evicts it).
 */
#ifndef WICAS_VM_FUZZ_COMMON_H
#define WICAS_VM_FUZZ_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "vm.h"

static const char FUZZ_ENV[] =
    "{\"block\":{\"height\":1,\"time\":\"0\",\"chain_id\":\"f\"},\"transaction\":null,"
    "\"contract\":{\"address\":\"c\"}}";
static const char FUZZ_INFO[] = "{\"sender\":\"s\",\"funds\":[]}";

/* Returns -1 on an invariant violation (a failed call without an error message). */
static int fuzz_step(wicas_vm *vm, wicas_vm *counter_vm, const uint8_t counter_sum[32], wicas_vm_memstore *ms,
                     const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_result r;
    if ((data[0] & 1) == 0) {
        uint8_t sum[32];
        char err[256] = "";
        if (wicas_vm_store_code(vm, data + 1, size - 1, sum, err, sizeof err) != WICAS_VM_OK)
            return err[0] ? 0 : -1;
        for (int e = 0; e <= WICAS_VM_REPLY; e++) {
            wicas_vm_call_params p = {.env_json = FUZZ_ENV,
                                      .info_json = FUZZ_INFO,
                                      .msg = (const uint8_t *)"{}",
                                      .msg_len = 2,
                                      .storage = &st,
                                      .gas_limit = 150000000000ULL};
            wicas_vm_status s = wicas_vm_call(vm, sum, (wicas_vm_entry)e, &p, &r);
            int bad = s != WICAS_VM_OK && !r.error;
            wicas_vm_result_free(&r);
            if (bad) return -1;
        }
        return 0;
    }
    for (int e = WICAS_VM_EXECUTE; e <= WICAS_VM_QUERY; e++) {
        wicas_vm_call_params p = {.env_json = FUZZ_ENV,
                                  .info_json = FUZZ_INFO,
                                  .msg = data + 1,
                                  .msg_len = size - 1,
                                  .storage = &st,
                                  .gas_limit = 1500000000000ULL};
        wicas_vm_status s = wicas_vm_call(counter_vm, counter_sum, (wicas_vm_entry)e, &p, &r);
        int bad = (s != WICAS_VM_OK && !r.error) || s == WICAS_VM_ERR_NO_CODE;
        if (s == WICAS_VM_OK && r.ok_json) {
            wicas_vm_response resp;
            if (e != WICAS_VM_QUERY && wicas_vm_parse_response(r.ok_json, &resp, NULL, 0) == WICAS_VM_OK)
                wicas_vm_response_free(&resp);
        }
        wicas_vm_result_free(&r);
        if (bad) return -1;
    }
    return 0;
}

#endif
