/*
 * fuzz_gguf.c — libFuzzer target for the GGUF reader (built with
 * -DWICAS_FUZZ=ON and clang). Any input must parse or be rejected with an
 * error message; never crash, leak or read out of bounds. A parsed file is
 * walked completely (every key, every tensor's bytes) so that what the reader
 * accepted is shown to be safe to use.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file f;
    char err[256];
    if (wicas_gguf_parse(data, size, &f, err, sizeof err) != 0) {
        if (strlen(err) == 0) __builtin_trap(); /* every failure must say why */
        return 0;
    }
    volatile uint64_t sink = 0;
    for (uint64_t i = 0; i < f.n_kv; i++) {
        const gguf_kv *kv = &f.kv[i];
        sink += kv->key.len ? (uint8_t)kv->key.ptr[kv->key.len - 1] : 0;
        if (kv->arr_strs)
            for (uint64_t j = 0; j < kv->arr_n; j++)
                sink += kv->arr_strs[j].len ? (uint8_t)kv->arr_strs[j].ptr[kv->arr_strs[j].len - 1] : 0;
    }
    for (uint64_t i = 0; i < f.n_tensors; i++)
        if (f.tensors[i].n_bytes) sink += f.tensors[i].data[f.tensors[i].n_bytes - 1];
    (void)sink;
    wicas_gguf_close(&f);
    return 0;
}
