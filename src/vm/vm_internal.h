/*
 * vm_internal.h — declarations shared by the files of src/vm only: the static
 * module checks (validate.c), the host-interface import table (host.c) and
 * the write cache (cache.c). Not part of the public API (vm.h).
 */
#ifndef WICAS_VM_INTERNAL_H
#define WICAS_VM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmtime.h>

#include "vm.h"

/* Limits enforced by wicas_vm_validate_* (modelled on cosmwasm-vm's static analysis). */
#define WICAS_VM_MAX_FUNCTIONS 20000u
#define WICAS_VM_MAX_FUNCTION_PARAMS 100u
#define WICAS_VM_MAX_GLOBALS 256u
#define WICAS_VM_MAX_TABLE_ELEMENTS 2500u
#define WICAS_VM_MAX_EXPORTS 100u
#define WICAS_VM_MAX_IMPORTS 100u

/* One host function of the CosmWasm "env" interface: name and wasm signature
 * (all parameters i32; result none, i32 or i64). */
typedef struct {
    const char *name;
    uint8_t n_params;
    uint8_t result; /* 0 none, 1 i32, 2 i64 */
    wasmtime_func_callback_t fn;
} wicas_vm_hostfn;

extern const wicas_vm_hostfn wicas_vm_hostfns[];
extern const size_t wicas_vm_n_hostfns;

/* Walks the binary's sections: magic/version, well-formed section framing,
 * counts of functions/globals/exports/imports/tables and their limits, table
 * sizes, function parameter counts, no start section. 0 or -1 with err. */
int wicas_vm_validate_sections(const uint8_t *wasm, size_t len, char *err, size_t errcap);

/* Checks a compiled module's imports and exports against the CosmWasm
 * interface (see vm.h). 0 or -1 with err. */
int wicas_vm_validate_interface(const wasmtime_module_t *module, char *err, size_t errcap);
/* 0 when every requires_<X> export of module names an X in the comma-separated
 * list caps; else -1 with the missing ones named in err. */
int wicas_vm_validate_capabilities(const wasmtime_module_t *module, const char *caps, char *err,
                                   size_t errcap);

/* ---- per-call write cache over the embedder's storage --------------------------- */
typedef struct {
    uint8_t *key;
    size_t key_len;
    uint8_t *val; /* NULL when deleted (tombstone) */
    size_t val_len;
    bool deleted;
} wicas_vm_wentry;

typedef struct {
    wicas_vm_wentry *e; /* sorted by key */
    size_t n, cap;
} wicas_vm_wcache;

int wicas_vm_key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
void wicas_vm_wcache_free(wicas_vm_wcache *c);
/* Index of key, or -(insertion point)-1. */
long wicas_vm_wcache_find(const wicas_vm_wcache *c, const uint8_t *key, size_t len);
int wicas_vm_wcache_put(wicas_vm_wcache *c, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                        bool deleted);

#endif

/* ---- the engine and one call's context (vm.c, host.c) ------------------------------- */
typedef struct {
    uint8_t checksum[32];
    wasmtime_module_t *module;
    uint64_t tick;
} wicas_vm_lru_entry;

struct wicas_vm {
    wicas_vm_config cfg;
    char *cache_dir; /* <cache_dir>/<fingerprint hex prefix> or NULL */
    wasm_engine_t *engine;
    wasmtime_linker_t *linker; /* the host functions, shared by every store */
    uint8_t fingerprint[32];
    wicas_vm_lru_entry *lru;
    size_t lru_n;
    uint64_t tick;
    wicas_vm_cache_stats stats;
    int depth;  /* wicas_vm_call nesting */
    char *caps; /* the capabilities offered (cfg.capabilities points here) */
};

typedef struct {
    uint8_t *start, *end, *last;
    size_t start_len, end_len, last_len;
    bool has_start, has_end, has_last, done;
    int order;
} wicas_vm_iter;

typedef struct {
    wicas_vm *vm;
    const wicas_vm_call_params *p;
    bool read_only;
    wasmtime_memory_t memory;
    wasmtime_func_t allocate;
    bool ready;             /* memory/allocate resolved */
    wicas_vm_wcache writes; /* buffered writes, flushed on success */
    wicas_vm_iter *iters;
    uint32_t n_iters;
    wicas_vm_status fail; /* why a host function stopped the call (0 = none) */
    char msg[512];
    uint64_t querier_gas; /* informational */
} wicas_vm_callctx;

/* Host-function helpers shared with vm.c: copy bytes into a fresh contract
 * Region (calls the contract's allocate); returns the Region pointer or 0 with
 * c->fail set (and *trap set when allocate trapped). */
uint32_t wicas_vm_write_region(wicas_vm_callctx *c, wasmtime_context_t *ctx, const uint8_t *data, size_t len,
                               wasm_trap_t **trap);
/* Copies the data of the Region at ptr (at most max bytes) into a fresh
 * malloc'd buffer (NUL added). 0, or -1 with c->fail/c->msg set. */
int wicas_vm_read_region(wicas_vm_callctx *c, wasmtime_context_t *ctx, uint32_t ptr, size_t max,
                         const char *what, uint8_t **out, size_t *len);
void wicas_vm_callctx_release(wicas_vm_callctx *c);
