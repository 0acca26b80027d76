/*
 * fuzz_vm.c — libFuzzer target (built only with -DWICAS_FUZZ=ON and clang):
 * random bytes as contract modules and as messages (see fuzz_common.h).
 *   ./fuzz_vm -max_len=65536 corpus/
 */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "vm/fuzz_common.h"

static wicas_vm *vm, *cvm;
static wicas_vm_memstore *ms;
static uint8_t counter_sum[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!vm) {
        vm = wicas_vm_new(NULL, NULL, 0);
        cvm = wicas_vm_new(NULL, NULL, 0);
        ms = wicas_vm_memstore_new();
        size_t len;
        uint8_t *w = wicas_read_file(WICAS_FUZZ_COUNTER_WASM, 1u << 20, &len);
        if (!vm || !cvm || !ms || !w || wicas_vm_store_code(cvm, w, len, counter_sum, NULL, 0)) abort();
        free(w);
        wicas_vm_storage st = wicas_vm_memstore_storage(ms);
        wicas_vm_result r;
        wicas_vm_call_params p = {.env_json = FUZZ_ENV,
                                  .info_json = FUZZ_INFO,
                                  .msg = (const uint8_t *)"{\"count\":1}",
                                  .msg_len = 11,
                                  .storage = &st,
                                  .gas_limit = 1500000000000ULL};
        if (wicas_vm_call(cvm, counter_sum, WICAS_VM_INSTANTIATE, &p, &r)) abort();
        wicas_vm_result_free(&r);
    }
    if (fuzz_step(vm, cvm, counter_sum, ms, data, size)) abort();
    return 0;
}
