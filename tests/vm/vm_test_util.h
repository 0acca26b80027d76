/*
 * vm_test_util.h — helpers shared by the VM tests: loading built contracts,
 * making calls with sensible Env/MessageInfo, and building hostile modules
 * from WAT text (wasmtime's wat2wasm) around a minimal CosmWasm skeleton.
 */
#ifndef WICAS_VM_TEST_UTIL_H
#define WICAS_VM_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmtime.h>

#include "common.h"
#include "vm.h"

#define TEST_GAS 15000000000000ULL /* 1.5e13 CosmWasm gas = 1e8 fuel */

static inline uint8_t *load_contract(const char *name, size_t *len) {
    char path[4096];
    const char *dir = getenv("WICAS_WASM_DIR");
    snprintf(path, sizeof path, "%s/%s.wasm", dir ? dir : "wasm", name);
    uint8_t *b = wicas_read_file(path, 4u << 20, len);
    if (!b) fprintf(stderr, "cannot read %s\n", path);
    return b;
}

/* wat -> wasm bytes (malloc'd), NULL on a WAT syntax error */
static inline uint8_t *wat2wasm(const char *wat, size_t *len) {
    wasm_byte_vec_t out;
    wasmtime_error_t *e = wasmtime_wat2wasm(wat, strlen(wat), &out);
    if (e) {
        wasm_name_t m;
        wasmtime_error_message(e, &m);
        fprintf(stderr, "wat2wasm: %.*s\n", (int)m.size, m.data);
        wasm_byte_vec_delete(&m);
        wasmtime_error_delete(e);
        return NULL;
    }
    uint8_t *b = malloc(out.size);
    memcpy(b, out.data, out.size);
    *len = out.size;
    wasm_byte_vec_delete(&out);
    return b;
}

/* Appends s as a WAT data string with every byte escaped. */
static inline void wat_bytes(char *dst, size_t cap, const uint8_t *s, size_t n) {
    size_t o = strlen(dst);
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        o += (size_t)snprintf(dst + o, cap - o, "\\%02x", s[i]);
}

static inline void le32s(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/*
 * A CosmWasm skeleton module around `funcs` (WAT function definitions that
 * export the entry points). Memory layout:
 *   0x100 result Region -> 0x400 (the bytes of `result`, e.g. a ContractResult)
 *   0x200 key Region "k" (at 0x300), 0x210 value Region "v" (at 0x301)
 *   heap from 0x8000; allocate grows memory as needed.
 * `imports` are extra (import ...) lines; `memory` the memory declaration body.
 */
static inline char *wat_module(const char *imports, const char *memory, const char *funcs, const char *result,
                               size_t result_len) {
    size_t cap = 65536 + result_len * 4 + strlen(funcs) + strlen(imports);
    char *w = malloc(cap);
    uint8_t reg[12];
    snprintf(
        w, cap,
        "(module\n%s\n"
        "(memory (export \"memory\") %s)\n"
        "(global $heap (mut i32) (i32.const 32768))\n"
        "(func $alloc (export \"allocate\") (param $n i32) (result i32)\n"
        "  (local $r i32) (local $end i32)\n"
        "  (local.set $r (global.get $heap))\n"
        "  (local.set $end (i32.add (i32.add (local.get $r) (i32.const 12)) (local.get $n)))\n"
        "  (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))\n"
        "    (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)\n"
        "       (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1))\n"
        "       (then unreachable))))\n"
        "  (i32.store (local.get $r) (i32.add (local.get $r) (i32.const 12)))\n"
        "  (i32.store offset=4 (local.get $r) (local.get $n))\n"
        "  (i32.store offset=8 (local.get $r) (i32.const 0))\n"
        "  (global.set $heap (i32.and (i32.add (local.get $end) (i32.const 7)) (i32.const -8)))\n"
        "  (local.get $r))\n"
        "(func (export \"deallocate\") (param i32))\n"
        "(func (export \"interface_version_8\"))\n"
        "%s\n"
        "(data (i32.const 0x100) \"",
        imports, memory, funcs);
    le32s(reg, 0x400), le32s(reg + 4, (uint32_t)result_len), le32s(reg + 8, (uint32_t)result_len);
    wat_bytes(w, cap, reg, 12);
    strcat(w, "\")\n(data (i32.const 0x200) \"");
    le32s(reg, 0x300), le32s(reg + 4, 1), le32s(reg + 8, 1);
    wat_bytes(w, cap, reg, 12);
    strcat(w, "\")\n(data (i32.const 0x210) \"");
    le32s(reg, 0x301);
    wat_bytes(w, cap, reg, 12);
    strcat(w, "\")\n(data (i32.const 0x300) \"kv\")\n(data (i32.const 0x400) \"");
    wat_bytes(w, cap, (const uint8_t *)result, result_len);
    strcat(w, "\"))\n");
    return w;
}

#define OK_RESPONSE "{\"ok\":{\"messages\":[],\"attributes\":[],\"events\":[],\"data\":null}}"

#endif
