/*
 * host.c — the CosmWasm host interface ("env" imports) and the Region ABI.
 *
 * A Region is the contract-side descriptor { u32 offset, u32 capacity,
 * u32 length } (little endian, 12 bytes) pointing into linear memory. Every
 * pointer the contract hands us is checked: descriptor inside memory, offset
 * non-zero, length <= capacity, offset + capacity inside memory without
 * overflow, data not overlapping the descriptor, length under the per-call
 * maximum. Data is always copied out of / into memory (the memory may move
 * when the contract's allocate grows it).
 *
 * Gas: every host function charges a documented cost (docs/VM-GAS.md) before
 * doing work, converted to wasmtime fuel (ceil(gas / WICAS_VM_GAS_PER_FUEL))
 * and taken from the store's fuel, so that compute and host work share one
 * budget. A failure that is the contract's fault (bad region, out of gas,
 * write in a query) stops the call with a trap; failures the contract can
 * handle (bad address, bad signature) are returned to it as cosmwasm-vm does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common.h"
#include "vm_internal.h"

/* ---- limits (cosmwasm-vm's) --------------------------------------------------------- */
#define MAX_KEY (64u * 1024)
#define MAX_VALUE (128u * 1024)
#define MAX_HUMAN_ADDR 256u
#define MAX_CANON_ADDR 64u
#define MAX_QUERY_REQUEST (64u * 1024)
#define MAX_DEBUG (2u * 1024)
#define MAX_ABORT (2u * 1024)
#define MAX_ED25519_MSG (128u * 1024)
#define MAX_BATCH (256u * 1024)
#define MAX_QUERY_RESPONSE (1u * 1024 * 1024)

/* ---- gas costs, CosmWasm gas (see docs/VM-GAS.md) ---------------------------------------- */
#define SDK(x) ((uint64_t)(x)*WICAS_VM_GAS_MULTIPLIER)
#define GAS_PER_US 1000000000ULL
#define COST_READ_FLAT SDK(1000)
#define COST_READ_BYTE SDK(3)
#define COST_WRITE_FLAT SDK(2000)
#define COST_WRITE_BYTE SDK(30)
#define COST_DELETE SDK(1000)
#define COST_ITER_NEXT_FLAT SDK(30)
#define COST_SCAN SDK(1000)
#define COST_CANONICALIZE SDK(4)
#define COST_HUMANIZE SDK(5)
#define COST_SECP256K1_VERIFY (154 * GAS_PER_US)
#define COST_SECP256K1_RECOVER (162 * GAS_PER_US)
#define COST_SECP256R1_VERIFY (279 * GAS_PER_US)
#define COST_SECP256R1_RECOVER (592 * GAS_PER_US)
#define COST_ED25519_VERIFY (63 * GAS_PER_US)
#define COST_ED25519_BATCH_PER_SIG (63 * GAS_PER_US / 2)
#define COST_BLS_FLAT (100 * GAS_PER_US)
#define COST_DEBUG_FLAT (1 * GAS_PER_US)
#define COST_QUERY_FLAT SDK(0)

/* Crypto error codes returned to contracts (cosmwasm-crypto's CryptoError codes). */
#define CRYPTO_INVALID_HASH 3
#define CRYPTO_INVALID_SIG 4
#define CRYPTO_INVALID_PUBKEY 5
#define CRYPTO_INVALID_RECOVERY 6
#define CRYPTO_BATCH_ERR 7
#define CRYPTO_GENERIC 10

static wicas_vm_callctx *CC(wasmtime_caller_t *caller) {
    return wasmtime_context_get_data(wasmtime_caller_context(caller));
}

static wasm_trap_t *stop(wicas_vm_callctx *c, wicas_vm_status why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static wasm_trap_t *stop(wicas_vm_callctx *c, wicas_vm_status why, const char *fmt, ...) {
    if (!c->fail) {
        c->fail = why;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
    }
    return wasmtime_trap_new(c->msg, strlen(c->msg));
}

/* Takes gas from the store's fuel. false (with c->fail = OUT_OF_GAS) when short. */
static bool charge(wicas_vm_callctx *c, wasmtime_context_t *ctx, uint64_t gas, const char *what) {
    uint64_t fuel_cost = gas / WICAS_VM_GAS_PER_FUEL + (gas % WICAS_VM_GAS_PER_FUEL != 0);
    uint64_t fuel = 0;
    wasmtime_error_t *e = wasmtime_context_get_fuel(ctx, &fuel);
    if (e) wasmtime_error_delete(e);
    if (fuel < fuel_cost) {
        e = wasmtime_context_set_fuel(ctx, 0);
        if (e) wasmtime_error_delete(e);
        if (!c->fail) {
            c->fail = WICAS_VM_ERR_OUT_OF_GAS;
            snprintf(c->msg, sizeof c->msg, "out of gas in host function %s", what);
        }
        return false;
    }
    e = wasmtime_context_set_fuel(ctx, fuel - fuel_cost);
    if (e) wasmtime_error_delete(e);
    return true;
}

#define CHARGE(gas, what)                                                                                    \
    do {                                                                                                     \
        if (!charge(c, ctx, (gas), (what))) return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);           \
    } while (0)

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Validates the Region descriptor at ptr; fills offset/capacity/length. */
static int check_region(wicas_vm_callctx *c, wasmtime_context_t *ctx, uint32_t ptr, const char *what,
                        uint32_t *off, uint32_t *cap, uint32_t *len) {
    uint8_t *mem = wasmtime_memory_data(ctx, &c->memory);
    uint64_t size = wasmtime_memory_data_size(ctx, &c->memory);
    if (ptr == 0 || (uint64_t)ptr + 12 > size) {
        c->fail = WICAS_VM_ERR_REGION;
        snprintf(c->msg, sizeof c->msg, "%s: Region pointer 0x%x outside memory (%llu bytes)", what, ptr,
                 (unsigned long long)size);
        return -1;
    }
    *off = rd32(mem + ptr);
    *cap = rd32(mem + ptr + 4);
    *len = rd32(mem + ptr + 8);
    const char *why = NULL;
    if (*off == 0)
        why = "offset is zero";
    else if (*len > *cap)
        why = "length exceeds capacity";
    else if ((uint64_t)*off + *cap > size)
        why = "data extends past the end of memory";
    else if ((uint64_t)*off < (uint64_t)ptr + 12 && (uint64_t)ptr < (uint64_t)*off + *cap)
        why = "data overlaps the Region descriptor";
    if (why) {
        c->fail = WICAS_VM_ERR_REGION;
        snprintf(c->msg, sizeof c->msg, "%s: invalid Region at 0x%x (offset 0x%x capacity %u length %u): %s",
                 what, ptr, *off, *cap, *len, why);
        return -1;
    }
    return 0;
}

int wicas_vm_read_region(wicas_vm_callctx *c, wasmtime_context_t *ctx, uint32_t ptr, size_t max,
                         const char *what, uint8_t **out, size_t *len) {
    uint32_t off, cap, l;
    if (check_region(c, ctx, ptr, what, &off, &cap, &l)) return -1;
    if (l > max) {
        c->fail = WICAS_VM_ERR_REGION;
        snprintf(c->msg, sizeof c->msg, "%s: region length %u exceeds the limit of %zu bytes", what, l, max);
        return -1;
    }
    uint8_t *buf = malloc((size_t)l + 1);
    if (!buf) {
        c->fail = WICAS_VM_ERR_NOMEM;
        snprintf(c->msg, sizeof c->msg, "%s: out of memory copying %u bytes", what, l);
        return -1;
    }
    memcpy(buf, wasmtime_memory_data(ctx, &c->memory) + off, l);
    buf[l] = 0;
    *out = buf;
    *len = l;
    return 0;
}

uint32_t wicas_vm_write_region(wicas_vm_callctx *c, wasmtime_context_t *ctx, const uint8_t *data, size_t len,
                               wasm_trap_t **trap) {
    *trap = NULL;
    if (len > UINT32_MAX / 2) {
        c->fail = WICAS_VM_ERR_REGION;
        snprintf(c->msg, sizeof c->msg, "data of %zu bytes too large for a Region", len);
        return 0;
    }
    wasmtime_val_t arg = {.kind = WASMTIME_I32, .of.i32 = (int32_t)len}, res;
    wasmtime_error_t *e = wasmtime_func_call(ctx, &c->allocate, &arg, 1, &res, 1, trap);
    if (e) {
        wasmtime_error_delete(e);
        if (!c->fail) {
            c->fail = WICAS_VM_ERR_TRAP;
            snprintf(c->msg, sizeof c->msg, "calling the contract's allocate(%zu) failed", len);
        }
        return 0;
    }
    if (*trap) {
        wasmtime_trap_code_t code;
        if (!c->fail) {
            if (wasmtime_trap_code(*trap, &code) && code == WASMTIME_TRAP_CODE_OUT_OF_FUEL) {
                c->fail = WICAS_VM_ERR_OUT_OF_GAS;
                snprintf(c->msg, sizeof c->msg, "out of gas in allocate(%zu)", len);
            } else {
                c->fail = WICAS_VM_ERR_TRAP;
                snprintf(c->msg, sizeof c->msg, "the contract's allocate(%zu) trapped", len);
            }
        }
        return 0;
    }
    uint32_t ptr = (uint32_t)res.of.i32, off, cap, l;
    if (check_region(c, ctx, ptr, "allocate result", &off, &cap, &l)) return 0;
    if (cap < len) {
        c->fail = WICAS_VM_ERR_REGION;
        snprintf(c->msg, sizeof c->msg, "allocate(%zu) returned a Region of capacity %u", len, cap);
        return 0;
    }
    uint8_t *mem = wasmtime_memory_data(ctx, &c->memory);
    if (len) memcpy(mem + off, data, len);
    wr32(mem + ptr + 8, (uint32_t)len);
    return ptr;
}

/* Writes into an existing contract-allocated Region (addr_canonicalize/humanize destinations). */
static int fill_region(wicas_vm_callctx *c, wasmtime_context_t *ctx, uint32_t ptr, const uint8_t *data,
                       size_t len, const char *what) {
    uint32_t off, cap, l;
    if (check_region(c, ctx, ptr, what, &off, &cap, &l)) return -1;
    if (cap < len) {
        c->fail = WICAS_VM_ERR_REGION;
        snprintf(c->msg, sizeof c->msg, "%s: destination Region too small (%u < %zu)", what, cap, len);
        return -1;
    }
    uint8_t *mem = wasmtime_memory_data(ctx, &c->memory);
    memcpy(mem + off, data, len);
    wr32(mem + ptr + 8, (uint32_t)len);
    return 0;
}

#define ARG(i) ((uint32_t)args[i].of.i32)
#define RET_I32(v)                                                                                           \
    do {                                                                                                     \
        results[0].kind = WASMTIME_I32;                                                                      \
        results[0].of.i32 = (int32_t)(v);                                                                    \
        return NULL;                                                                                         \
    } while (0)
#define RET_I64(v)                                                                                           \
    do {                                                                                                     \
        results[0].kind = WASMTIME_I64;                                                                      \
        results[0].of.i64 = (int64_t)(v);                                                                    \
        return NULL;                                                                                         \
    } while (0)
#define HOST(name)                                                                                           \
    static wasm_trap_t *name(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs, \
                             wasmtime_val_t *results, size_t nresults)
#define PROLOGUE                                                                                             \
    (void)env;                                                                                               \
    (void)nargs;                                                                                             \
    (void)nresults;                                                                                          \
    (void)args;                                                                                              \
    (void)results;                                                                                           \
    wicas_vm_callctx *c = CC(caller);                                                                        \
    wasmtime_context_t *ctx = wasmtime_caller_context(caller);                                               \
    if (c->fail) return stop(c, c->fail, "%s", c->msg)

#define READ(ptr, max, what, buf, len)                                                                       \
    if (wicas_vm_read_region(c, ctx, (ptr), (max), (what), &(buf), &(len)))                                  \
    return stop(c, c->fail, "%s", c->msg)

/* Returns a fresh Region with data to the contract (i32 result). */
static wasm_trap_t *return_data(wicas_vm_callctx *c, wasmtime_context_t *ctx, const uint8_t *data, size_t len,
                                wasmtime_val_t *results) {
    wasm_trap_t *trap = NULL;
    uint32_t r = wicas_vm_write_region(c, ctx, data, len, &trap);
    if (trap) return trap;
    if (!r) return stop(c, c->fail, "%s", c->msg);
    RET_I32(r);
}

/* ---- storage, through the write cache ------------------------------------------------------ */
static int wicas_st_get(wicas_vm_callctx *c, const uint8_t *k, size_t kl, int *found, uint8_t **v,
                        size_t *vl) {
    long i = wicas_vm_wcache_find(&c->writes, k, kl);
    if (i >= 0) {
        const wicas_vm_wentry *e = &c->writes.e[i];
        *found = !e->deleted;
        if (!*found) return 0;
        *v = malloc(e->val_len ? e->val_len : 1);
        if (!*v) return -1;
        memcpy(*v, e->val, e->val_len);
        *vl = e->val_len;
        return 0;
    }
    if (!c->p->storage) {
        *found = 0;
        return 0;
    }
    return c->p->storage->get(c->p->storage->ctx, k, kl, found, v, vl);
}

HOST(h_db_read) {
    PROLOGUE;
    uint8_t *key;
    size_t kl;
    READ(ARG(0), MAX_KEY, "db_read key", key, kl);
    int found = 0;
    uint8_t *val = NULL;
    size_t vl = 0;
    if (wicas_st_get(c, key, kl, &found, &val, &vl)) {
        free(key);
        return stop(c, WICAS_VM_ERR_STORAGE, "db_read: storage failure");
    }
    free(key);
    if (!charge(c, ctx, COST_READ_FLAT + COST_READ_BYTE * (kl + (found ? vl : 0)), "db_read")) {
        free(val);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    if (!found) RET_I32(0);
    wasm_trap_t *t = return_data(c, ctx, val, vl, results);
    free(val);
    return t;
}

HOST(h_db_write) {
    PROLOGUE;
    if (c->read_only)
        return stop(c, WICAS_VM_ERR_TRAP, "db_write: write access to storage is not allowed in a query");
    uint8_t *key, *val;
    size_t kl, vl;
    READ(ARG(0), MAX_KEY, "db_write key", key, kl);
    if (wicas_vm_read_region(c, ctx, ARG(1), MAX_VALUE, "db_write value", &val, &vl)) {
        free(key);
        return stop(c, c->fail, "%s", c->msg);
    }
    wasm_trap_t *t = NULL;
    if (kl == 0)
        t = stop(c, WICAS_VM_ERR_TRAP, "db_write: empty keys are not supported");
    else if (!charge(c, ctx, COST_WRITE_FLAT + COST_WRITE_BYTE * (kl + vl), "db_write"))
        t = stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    else if (wicas_vm_wcache_put(&c->writes, key, kl, val, vl, false))
        t = stop(c, WICAS_VM_ERR_NOMEM, "db_write: out of memory");
    free(key);
    free(val);
    return t;
}

HOST(h_db_remove) {
    PROLOGUE;
    if (c->read_only)
        return stop(c, WICAS_VM_ERR_TRAP, "db_remove: write access to storage is not allowed in a query");
    uint8_t *key;
    size_t kl;
    READ(ARG(0), MAX_KEY, "db_remove key", key, kl);
    wasm_trap_t *t = NULL;
    if (!charge(c, ctx, COST_DELETE, "db_remove"))
        t = stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    else if (wicas_vm_wcache_put(&c->writes, key, kl, NULL, 0, true))
        t = stop(c, WICAS_VM_ERR_NOMEM, "db_remove: out of memory");
    free(key);
    return t;
}

HOST(h_db_scan) {
    PROLOGUE;
    CHARGE(COST_SCAN, "db_scan");
    int32_t order = args[2].of.i32;
    if (order != WICAS_VM_ORDER_ASCENDING && order != WICAS_VM_ORDER_DESCENDING)
        return stop(c, WICAS_VM_ERR_TRAP, "db_scan: invalid order %d (want 1 ascending or 2 descending)",
                    order);
    if (c->n_iters >= c->vm->cfg.max_iterators)
        return stop(c, WICAS_VM_ERR_TRAP, "db_scan: too many iterators in one call (limit %u)",
                    c->vm->cfg.max_iterators);
    wicas_vm_iter it = {0};
    it.order = order;
    if (ARG(0)) {
        if (wicas_vm_read_region(c, ctx, ARG(0), MAX_KEY, "db_scan start", &it.start, &it.start_len))
            return stop(c, c->fail, "%s", c->msg);
        it.has_start = true;
    }
    if (ARG(1)) {
        if (wicas_vm_read_region(c, ctx, ARG(1), MAX_KEY, "db_scan end", &it.end, &it.end_len)) {
            free(it.start);
            return stop(c, c->fail, "%s", c->msg);
        }
        it.has_end = true;
    }
    wicas_vm_iter *ni = realloc(c->iters, (c->n_iters + 1) * sizeof *ni);
    if (!ni) {
        free(it.start);
        free(it.end);
        return stop(c, WICAS_VM_ERR_NOMEM, "db_scan: out of memory");
    }
    c->iters = ni;
    c->iters[c->n_iters++] = it;
    RET_I32(c->n_iters); /* ids start at 1 */
}

static bool in_range(const wicas_vm_iter *it, const uint8_t *k, size_t kl) {
    if (it->has_start && wicas_vm_key_cmp(k, kl, it->start, it->start_len) < 0) return false;
    if (it->has_end && wicas_vm_key_cmp(k, kl, it->end, it->end_len) >= 0) return false;
    return true;
}

/* Strictly after `last` in the iterator's direction? */
static bool beyond(const wicas_vm_iter *it, const uint8_t *k, size_t kl) {
    if (!it->has_last) return true;
    int cmp = wicas_vm_key_cmp(k, kl, it->last, it->last_len);
    return it->order == WICAS_VM_ORDER_ASCENDING ? cmp > 0 : cmp < 0;
}

/* The next entry of the merged view (write cache over storage). 1 found, 0 end, -1 storage failure. */
static int iter_next(wicas_vm_callctx *c, wicas_vm_iter *it, uint8_t **k, size_t *kl, uint8_t **v,
                     size_t *vl) {
    if (it->done) return 0;
    /* candidate from storage, skipping keys the write cache overrides */
    uint8_t *sk = NULL, *sv = NULL;
    size_t skl = 0, svl = 0;
    int sfound = 0;
    const wicas_vm_storage *st = c->p->storage;
    if (st) {
        const uint8_t *after = it->has_last ? it->last : NULL;
        size_t after_len = it->last_len;
        uint8_t *owned_after = NULL;
        for (;;) {
            if (st->seek(st->ctx, it->has_start ? it->start : NULL, it->start_len,
                         it->has_end ? it->end : NULL, it->end_len, it->order, after, after_len, &sfound, &sk,
                         &skl, &sv, &svl)) {
                free(owned_after);
                return -1;
            }
            if (!sfound || wicas_vm_wcache_find(&c->writes, sk, skl) < 0) break;
            free(owned_after);
            free(sv);
            owned_after = sk;
            after = sk;
            after_len = skl;
            sk = sv = NULL;
        }
        free(owned_after);
    }
    /* candidate from the write cache */
    const wicas_vm_wentry *ce = NULL;
    const wicas_vm_wcache *w = &c->writes;
    if (it->order == WICAS_VM_ORDER_ASCENDING) {
        for (size_t i = 0; i < w->n; i++)
            if (!w->e[i].deleted && beyond(it, w->e[i].key, w->e[i].key_len) &&
                in_range(it, w->e[i].key, w->e[i].key_len)) {
                ce = &w->e[i];
                break;
            }
    } else {
        for (size_t i = w->n; i-- > 0;)
            if (!w->e[i].deleted && beyond(it, w->e[i].key, w->e[i].key_len) &&
                in_range(it, w->e[i].key, w->e[i].key_len)) {
                ce = &w->e[i];
                break;
            }
    }
    bool use_cache = false;
    if (ce && sfound) {
        int cmp = wicas_vm_key_cmp(ce->key, ce->key_len, sk, skl);
        use_cache = it->order == WICAS_VM_ORDER_ASCENDING ? cmp < 0 : cmp > 0;
    } else if (ce) {
        use_cache = true;
    }
    if (!ce && !sfound) {
        it->done = true;
        return 0;
    }
    if (use_cache) {
        free(sk);
        free(sv);
        *k = malloc(ce->key_len ? ce->key_len : 1);
        *v = malloc(ce->val_len ? ce->val_len : 1);
        if (!*k || !*v) {
            free(*k);
            free(*v);
            return -1;
        }
        memcpy(*k, ce->key, ce->key_len);
        memcpy(*v, ce->val, ce->val_len);
        *kl = ce->key_len;
        *vl = ce->val_len;
    } else {
        *k = sk;
        *kl = skl;
        *v = sv;
        *vl = svl;
    }
    uint8_t *last = malloc(*kl ? *kl : 1);
    if (!last) {
        free(*k);
        free(*v);
        return -1;
    }
    memcpy(last, *k, *kl);
    free(it->last);
    it->last = last;
    it->last_len = *kl;
    it->has_last = true;
    return 1;
}

/* mode 0: db_next (key+value sections), 1: db_next_key, 2: db_next_value */
static wasm_trap_t *next_common(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                                size_t nargs, wasmtime_val_t *results, size_t nresults, int mode) {
    PROLOGUE;
    uint32_t id = ARG(0);
    if (id == 0 || id > c->n_iters)
        return stop(c, WICAS_VM_ERR_TRAP, "db_next: iterator %u does not exist", id);
    uint8_t *k = NULL, *v = NULL;
    size_t kl = 0, vl = 0;
    int r = iter_next(c, &c->iters[id - 1], &k, &kl, &v, &vl);
    if (r < 0) return stop(c, WICAS_VM_ERR_STORAGE, "db_next: storage failure");
    if (!charge(c, ctx, COST_ITER_NEXT_FLAT + COST_READ_BYTE * (kl + vl), "db_next")) {
        free(k);
        free(v);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    wasm_trap_t *t;
    if (mode == 0) {
        /* sections encoding: key, u32 BE len(key), value, u32 BE len(value); end = two empty sections */
        size_t n = kl + vl + 8;
        uint8_t *buf = malloc(n);
        if (!buf) {
            free(k);
            free(v);
            return stop(c, WICAS_VM_ERR_NOMEM, "db_next: out of memory");
        }
        if (kl) memcpy(buf, k, kl);
        buf[kl] = (uint8_t)(kl >> 24), buf[kl + 1] = (uint8_t)(kl >> 16), buf[kl + 2] = (uint8_t)(kl >> 8),
        buf[kl + 3] = (uint8_t)kl;
        if (vl) memcpy(buf + kl + 4, v, vl);
        uint8_t *q = buf + kl + 4 + vl;
        q[0] = (uint8_t)(vl >> 24), q[1] = (uint8_t)(vl >> 16), q[2] = (uint8_t)(vl >> 8), q[3] = (uint8_t)vl;
        t = return_data(c, ctx, buf, n, results);
        free(buf);
    } else if (r == 0) {
        results[0].kind = WASMTIME_I32;
        results[0].of.i32 = 0;
        t = NULL;
    } else {
        t = mode == 1 ? return_data(c, ctx, k, kl, results) : return_data(c, ctx, v, vl, results);
    }
    free(k);
    free(v);
    return t;
}

HOST(h_db_next) {
    return next_common(env, caller, args, nargs, results, nresults, 0);
}
HOST(h_db_next_key) {
    return next_common(env, caller, args, nargs, results, nresults, 1);
}
HOST(h_db_next_value) {
    return next_common(env, caller, args, nargs, results, nresults, 2);
}

/* ---- addresses ----------------------------------------------------------------------------- */
/* An error message for the contract, as a fresh Region (i32 result). */
static wasm_trap_t *return_error(wicas_vm_callctx *c, wasmtime_context_t *ctx, const char *msg,
                                 wasmtime_val_t *results) {
    return return_data(c, ctx, (const uint8_t *)msg, strlen(msg), results);
}

HOST(h_addr_validate) {
    PROLOGUE;
    uint8_t *h;
    size_t hl;
    READ(ARG(0), MAX_HUMAN_ADDR, "addr_validate", h, hl);
    if (!charge(c, ctx, COST_CANONICALIZE + COST_HUMANIZE, "addr_validate")) {
        free(h);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    char err[160] = "";
    uint8_t canon[MAX_CANON_ADDR + 1];
    size_t cl = 0;
    char back[MAX_HUMAN_ADDR + 1];
    wasm_trap_t *t;
    const wicas_vm_api *api = c->p->api;
    if (!api)
        t = return_error(c, ctx, "addr_validate: no address Api configured", results);
    else if (hl == 0)
        t = return_error(c, ctx, "Invalid input: human address too short", results);
    else if (api->canonicalize(api->ctx, (const char *)h, hl, canon, &cl, err, sizeof err))
        t = return_error(c, ctx, err, results);
    else if (api->humanize(api->ctx, canon, cl, back, sizeof back, err, sizeof err))
        t = return_error(c, ctx, err, results);
    else if (strlen(back) != hl || memcmp(back, h, hl) != 0)
        t = return_error(c, ctx, "Address is not normalized", results);
    else {
        results[0].kind = WASMTIME_I32;
        results[0].of.i32 = 0;
        t = NULL;
    }
    free(h);
    return t;
}

HOST(h_addr_canonicalize) {
    PROLOGUE;
    uint8_t *h;
    size_t hl;
    READ(ARG(0), MAX_HUMAN_ADDR, "addr_canonicalize", h, hl);
    if (!charge(c, ctx, COST_CANONICALIZE, "addr_canonicalize")) {
        free(h);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    char err[160] = "";
    uint8_t canon[MAX_CANON_ADDR + 1];
    size_t cl = 0;
    wasm_trap_t *t = NULL;
    const wicas_vm_api *api = c->p->api;
    if (!api)
        t = return_error(c, ctx, "addr_canonicalize: no address Api configured", results);
    else if (hl == 0)
        t = return_error(c, ctx, "Invalid input: human address too short", results);
    else if (api->canonicalize(api->ctx, (const char *)h, hl, canon, &cl, err, sizeof err))
        t = return_error(c, ctx, err, results);
    else if (fill_region(c, ctx, ARG(1), canon, cl, "addr_canonicalize destination"))
        t = stop(c, c->fail, "%s", c->msg);
    else {
        results[0].kind = WASMTIME_I32;
        results[0].of.i32 = 0;
    }
    free(h);
    return t;
}

HOST(h_addr_humanize) {
    PROLOGUE;
    uint8_t *cn;
    size_t cl;
    READ(ARG(0), MAX_CANON_ADDR, "addr_humanize", cn, cl);
    if (!charge(c, ctx, COST_HUMANIZE, "addr_humanize")) {
        free(cn);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    char err[160] = "", human[MAX_HUMAN_ADDR + 1];
    wasm_trap_t *t = NULL;
    const wicas_vm_api *api = c->p->api;
    if (!api)
        t = return_error(c, ctx, "addr_humanize: no address Api configured", results);
    else if (api->humanize(api->ctx, cn, cl, human, sizeof human, err, sizeof err))
        t = return_error(c, ctx, err, results);
    else if (fill_region(c, ctx, ARG(1), (const uint8_t *)human, strlen(human), "addr_humanize destination"))
        t = stop(c, c->fail, "%s", c->msg);
    else {
        results[0].kind = WASMTIME_I32;
        results[0].of.i32 = 0;
    }
    free(cn);
    return t;
}

/* ---- crypto ----------------------------------------------------------------------------------- */
static int secp256k1_verify_raw(const uint8_t *hash, size_t hl, const uint8_t *sig, size_t sl,
                                const uint8_t *pk, size_t pl) {
    if (hl != 32) return CRYPTO_INVALID_HASH;
    if (sl != 64) return CRYPTO_INVALID_SIG;
    if (!((pl == 33 && (pk[0] == 2 || pk[0] == 3)) || (pl == 65 && pk[0] == 4))) return CRYPTO_INVALID_PUBKEY;
    const secp256k1_context *sc = secp256k1_context_static;
    secp256k1_ecdsa_signature s;
    secp256k1_pubkey p;
    if (!secp256k1_ecdsa_signature_parse_compact(sc, &s, sig)) return CRYPTO_INVALID_SIG;
    if (!secp256k1_ec_pubkey_parse(sc, &p, pk, pl)) return CRYPTO_INVALID_PUBKEY;
    secp256k1_ecdsa_signature_normalize(sc, &s, &s); /* accept high-S like cosmwasm-crypto */
    return secp256k1_ecdsa_verify(sc, &s, hash, &p) ? 0 : 1;
}

HOST(h_secp256k1_verify) {
    PROLOGUE;
    CHARGE(COST_SECP256K1_VERIFY, "secp256k1_verify");
    uint8_t *h, *s, *p;
    size_t hl, sl, pl;
    READ(ARG(0), 32, "secp256k1_verify hash", h, hl);
    if (wicas_vm_read_region(c, ctx, ARG(1), 64, "secp256k1_verify signature", &s, &sl)) {
        free(h);
        return stop(c, c->fail, "%s", c->msg);
    }
    if (wicas_vm_read_region(c, ctx, ARG(2), 65, "secp256k1_verify pubkey", &p, &pl)) {
        free(h);
        free(s);
        return stop(c, c->fail, "%s", c->msg);
    }
    int r = secp256k1_verify_raw(h, hl, s, sl, p, pl);
    free(h);
    free(s);
    free(p);
    RET_I32(r);
}

HOST(h_secp256k1_recover_pubkey) {
    PROLOGUE;
    CHARGE(COST_SECP256K1_RECOVER, "secp256k1_recover_pubkey");
    uint8_t *h, *s;
    size_t hl, sl;
    READ(ARG(0), 32, "secp256k1_recover_pubkey hash", h, hl);
    if (wicas_vm_read_region(c, ctx, ARG(1), 64, "secp256k1_recover_pubkey signature", &s, &sl)) {
        free(h);
        return stop(c, c->fail, "%s", c->msg);
    }
    uint32_t recid = ARG(2);
    uint64_t code = 0;
    uint8_t out[65];
    size_t ol = sizeof out;
    const secp256k1_context *sc = secp256k1_context_static;
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pk;
    if (hl != 32)
        code = CRYPTO_INVALID_HASH;
    else if (sl != 64)
        code = CRYPTO_INVALID_SIG;
    else if (recid > 1)
        code = CRYPTO_INVALID_RECOVERY;
    else if (!secp256k1_ecdsa_recoverable_signature_parse_compact(sc, &rs, s, (int)recid))
        code = CRYPTO_INVALID_SIG;
    else if (!secp256k1_ecdsa_recover(sc, &pk, &rs, h))
        code = CRYPTO_GENERIC;
    else
        secp256k1_ec_pubkey_serialize(sc, out, &ol, &pk, SECP256K1_EC_UNCOMPRESSED);
    free(h);
    free(s);
    if (code) RET_I64(code << 32); /* error code in the high half */
    wasm_trap_t *trap = NULL;
    uint32_t r = wicas_vm_write_region(c, ctx, out, ol, &trap);
    if (trap) return trap;
    if (!r) return stop(c, c->fail, "%s", c->msg);
    RET_I64((uint64_t)r); /* Region pointer in the low half */
}

/* P-256 ECDSA verification with OpenSSL (prehashed 32-byte digest). */
static int secp256r1_verify_raw(const uint8_t *hash, size_t hl, const uint8_t *sig, size_t sl,
                                const uint8_t *pk, size_t pl) {
    if (hl != 32) return CRYPTO_INVALID_HASH;
    if (sl != 64) return CRYPTO_INVALID_SIG;
    if (!((pl == 33 && (pk[0] == 2 || pk[0] == 3)) || (pl == 65 && pk[0] == 4))) return CRYPTO_INVALID_PUBKEY;
    int result = CRYPTO_GENERIC;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *vctx = NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pk, pl);
    params[2] = OSSL_PARAM_construct_end();
    if (!kctx || !es || !r || !s) goto out;
    if (EVP_PKEY_fromdata_init(kctx) <= 0) goto out;
    if (EVP_PKEY_fromdata(kctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        result = CRYPTO_INVALID_PUBKEY;
        goto out;
    }
    if (BN_is_zero(r) || BN_is_zero(s)) {
        result = 1;
        goto out;
    }
    if (!ECDSA_SIG_set0(es, r, s)) goto out;
    r = s = NULL; /* owned by es now */
    int dl = i2d_ECDSA_SIG(es, &der);
    if (dl <= 0) goto out;
    vctx = EVP_PKEY_CTX_new(key, NULL);
    if (!vctx || EVP_PKEY_verify_init(vctx) <= 0) goto out;
    result = EVP_PKEY_verify(vctx, der, (size_t)dl, hash, 32) == 1 ? 0 : 1;
out:
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(vctx);
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_free(key);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return result;
}

HOST(h_secp256r1_verify) {
    PROLOGUE;
    CHARGE(COST_SECP256R1_VERIFY, "secp256r1_verify");
    uint8_t *h, *s, *p;
    size_t hl, sl, pl;
    READ(ARG(0), 32, "secp256r1_verify hash", h, hl);
    if (wicas_vm_read_region(c, ctx, ARG(1), 64, "secp256r1_verify signature", &s, &sl)) {
        free(h);
        return stop(c, c->fail, "%s", c->msg);
    }
    if (wicas_vm_read_region(c, ctx, ARG(2), 65, "secp256r1_verify pubkey", &p, &pl)) {
        free(h);
        free(s);
        return stop(c, c->fail, "%s", c->msg);
    }
    int r = secp256r1_verify_raw(h, hl, s, sl, p, pl);
    free(h);
    free(s);
    free(p);
    RET_I32(r);
}

/* P-256 public-key recovery from (hash, r||s, recovery id), with OpenSSL's
 * EC_POINT arithmetic: R = the curve point with x = r and y parity = recid,
 * Q = r^-1 (s*R - e*G). Returns 0 with the 65-byte uncompressed key in out,
 * or a crypto error code. */
static int secp256r1_recover_raw(const uint8_t *hash, size_t hl, const uint8_t *sig, size_t sl,
                                 uint32_t recid, uint8_t out[65]) {
    if (hl != 32) return CRYPTO_INVALID_HASH;
    if (sl != 64) return CRYPTO_INVALID_SIG;
    if (recid > 1) return CRYPTO_INVALID_RECOVERY;
    int rc = CRYPTO_GENERIC;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BN_CTX *bc = BN_CTX_new();
    EC_POINT *R = g ? EC_POINT_new(g) : NULL, *Q = g ? EC_POINT_new(g) : NULL;
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL), *e = BN_bin2bn(hash, 32, NULL);
    BIGNUM *rinv = BN_new(), *u1 = BN_new(), *u2 = BN_new();
    if (!g || !bc || !R || !Q || !r || !s || !e || !rinv || !u1 || !u2) goto out;
    const BIGNUM *n = EC_GROUP_get0_order(g);
    if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, n) >= 0 || BN_cmp(s, n) >= 0) {
        rc = CRYPTO_INVALID_SIG;
        goto out;
    }
    if (!EC_POINT_set_compressed_coordinates(g, R, r, (int)(recid & 1), bc)) {
        rc = CRYPTO_INVALID_SIG; /* r is not the x of a curve point */
        goto out;
    }
    if (!BN_mod_inverse(rinv, r, n, bc) || !BN_nnmod(e, e, n, bc)) goto out;
    /* u1 = -e * r^-1, u2 = s * r^-1 (mod n) */
    if (!BN_mod_mul(u1, e, rinv, n, bc) || !BN_mod_sub(u1, n, u1, n, bc) || !BN_nnmod(u1, u1, n, bc) ||
        !BN_mod_mul(u2, s, rinv, n, bc))
        goto out;
    if (!EC_POINT_mul(g, Q, u1, R, u2, bc) || EC_POINT_is_at_infinity(g, Q)) goto out;
    if (EC_POINT_point2oct(g, Q, POINT_CONVERSION_UNCOMPRESSED, out, 65, bc) != 65) goto out;
    rc = 0;
out:
    BN_free(r), BN_free(s), BN_free(e), BN_free(rinv), BN_free(u1), BN_free(u2);
    EC_POINT_free(R), EC_POINT_free(Q);
    EC_GROUP_free(g);
    BN_CTX_free(bc);
    return rc;
}

HOST(h_secp256r1_recover_pubkey) {
    PROLOGUE;
    CHARGE(COST_SECP256R1_RECOVER, "secp256r1_recover_pubkey");
    uint8_t *h, *s;
    size_t hl, sl;
    READ(ARG(0), 32, "secp256r1_recover_pubkey hash", h, hl);
    if (wicas_vm_read_region(c, ctx, ARG(1), 64, "secp256r1_recover_pubkey signature", &s, &sl)) {
        free(h);
        return stop(c, c->fail, "%s", c->msg);
    }
    uint8_t out[65];
    int code = secp256r1_recover_raw(h, hl, s, sl, ARG(2), out);
    free(h);
    free(s);
    if (code) RET_I64((uint64_t)code << 32);
    wasm_trap_t *trap = NULL;
    uint32_t r = wicas_vm_write_region(c, ctx, out, 65, &trap);
    if (trap) return trap;
    if (!r) return stop(c, c->fail, "%s", c->msg);
    RET_I64((uint64_t)r);
}

static int ed25519_verify_raw(const uint8_t *msg, size_t ml, const uint8_t *sig, size_t sl, const uint8_t *pk,
                              size_t pl) {
    if (sl != 64) return CRYPTO_INVALID_SIG;
    if (pl != 32) return CRYPTO_INVALID_PUBKEY;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
    if (!key) return CRYPTO_INVALID_PUBKEY;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int r = CRYPTO_GENERIC;
    if (md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1)
        r = EVP_DigestVerify(md, sig, 64, msg, ml) == 1 ? 0 : 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return r;
}

HOST(h_ed25519_verify) {
    PROLOGUE;
    CHARGE(COST_ED25519_VERIFY, "ed25519_verify");
    uint8_t *m, *s, *p;
    size_t ml, sl, pl;
    READ(ARG(0), MAX_ED25519_MSG, "ed25519_verify message", m, ml);
    if (wicas_vm_read_region(c, ctx, ARG(1), 64, "ed25519_verify signature", &s, &sl)) {
        free(m);
        return stop(c, c->fail, "%s", c->msg);
    }
    if (wicas_vm_read_region(c, ctx, ARG(2), 32, "ed25519_verify pubkey", &p, &pl)) {
        free(m);
        free(s);
        return stop(c, c->fail, "%s", c->msg);
    }
    int r = ed25519_verify_raw(m, ml, s, sl, p, pl);
    free(m);
    free(s);
    free(p);
    RET_I32(r);
}

/* Splits cosmwasm "sections" encoding (each item followed by its u32 BE length),
 * walking from the end. Returns the count, or -1 when malformed. */
static long decode_sections(const uint8_t *buf, size_t len, const uint8_t **items, size_t *lens, size_t max) {
    size_t n = 0, end = len;
    while (end > 0) {
        if (end < 4 || n >= max) return -1;
        uint32_t l = (uint32_t)buf[end - 4] << 24 | (uint32_t)buf[end - 3] << 16 |
                     (uint32_t)buf[end - 2] << 8 | buf[end - 1];
        end -= 4;
        if (l > end) return -1;
        end -= l;
        items[n] = buf + end;
        lens[n] = l;
        n++;
    }
    for (size_t i = 0; i < n / 2; i++) { /* restore order */
        const uint8_t *t = items[i];
        items[i] = items[n - 1 - i];
        items[n - 1 - i] = t;
        size_t tl = lens[i];
        lens[i] = lens[n - 1 - i];
        lens[n - 1 - i] = tl;
    }
    return (long)n;
}

#define MAX_BATCH_ITEMS 256
HOST(h_ed25519_batch_verify) {
    PROLOGUE;
    uint8_t *mb, *sb, *pb;
    size_t ml, sl, pl;
    READ(ARG(0), MAX_BATCH, "ed25519_batch_verify messages", mb, ml);
    if (wicas_vm_read_region(c, ctx, ARG(1), MAX_BATCH, "ed25519_batch_verify signatures", &sb, &sl)) {
        free(mb);
        return stop(c, c->fail, "%s", c->msg);
    }
    if (wicas_vm_read_region(c, ctx, ARG(2), MAX_BATCH, "ed25519_batch_verify pubkeys", &pb, &pl)) {
        free(mb);
        free(sb);
        return stop(c, c->fail, "%s", c->msg);
    }
    const uint8_t *mi[MAX_BATCH_ITEMS], *si[MAX_BATCH_ITEMS], *pi[MAX_BATCH_ITEMS];
    size_t mlen[MAX_BATCH_ITEMS], slen[MAX_BATCH_ITEMS], plen[MAX_BATCH_ITEMS];
    long nm = decode_sections(mb, ml, mi, mlen, MAX_BATCH_ITEMS);
    long ns = decode_sections(sb, sl, si, slen, MAX_BATCH_ITEMS);
    long np = decode_sections(pb, pl, pi, plen, MAX_BATCH_ITEMS);
    int r = 0;
    if (nm < 0 || ns < 0 || np < 0)
        r = CRYPTO_BATCH_ERR;
    else if (!((nm == ns && ns == np) || (nm == 1 && ns == np) || (np == 1 && nm == ns)))
        r = CRYPTO_BATCH_ERR;
    else if (!charge(c, ctx, COST_ED25519_BATCH_PER_SIG * (uint64_t)ns, "ed25519_batch_verify")) {
        free(mb);
        free(sb);
        free(pb);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    } else {
        for (long i = 0; i < ns && r == 0; i++) {
            long im = nm == 1 ? 0 : i, ip = np == 1 ? 0 : i;
            r = ed25519_verify_raw(mi[im], mlen[im], si[i], slen[i], pi[ip], plen[ip]);
        }
    }
    free(mb);
    free(sb);
    free(pb);
    RET_I32(r);
}

/* BLS12-381: no library on this system provides it; every call answers
 * CRYPTO_GENERIC after charging a flat cost (documented in docs/VM-GAS.md). */
HOST(h_bls_unsupported) {
    PROLOGUE;
    CHARGE(COST_BLS_FLAT, "bls12_381");
    RET_I32(CRYPTO_GENERIC);
}

/* ---- debug, abort, query_chain --------------------------------------------------------------------- */
HOST(h_debug) {
    PROLOGUE;
    uint8_t *m;
    size_t ml;
    READ(ARG(0), MAX_DEBUG, "debug", m, ml);
    if (!charge(c, ctx, COST_DEBUG_FLAT + COST_READ_BYTE * ml, "debug")) {
        free(m);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    if (c->p->debug) c->p->debug(c->p->debug_ctx, (const char *)m, ml);
    free(m);
    return NULL;
}

HOST(h_abort) {
    PROLOGUE;
    uint8_t *m;
    size_t ml;
    if (wicas_vm_read_region(c, ctx, ARG(0), MAX_ABORT, "abort", &m, &ml))
        return stop(c, c->fail, "%s", c->msg);
    for (size_t i = 0; i < ml; i++)
        if (m[i] < 32 || m[i] > 126) m[i] = '?'; /* keep the message printable */
    wasm_trap_t *t = stop(c, WICAS_VM_ERR_TRAP, "Aborted: %s", (const char *)m);
    free(m);
    return t;
}

HOST(h_query_chain) {
    PROLOGUE;
    CHARGE(COST_QUERY_FLAT, "query_chain");
    uint8_t *req;
    size_t rl;
    READ(ARG(0), MAX_QUERY_REQUEST, "query_chain request", req, rl);
    const wicas_vm_querier *q = c->p->querier;
    char *resp = NULL;
    size_t resp_len = 0;
    uint64_t used = 0, fuel = 0;
    wasmtime_error_t *e = wasmtime_context_get_fuel(ctx, &fuel);
    if (e) wasmtime_error_delete(e);
    uint64_t budget = fuel > UINT64_MAX / WICAS_VM_GAS_PER_FUEL ? UINT64_MAX : fuel * WICAS_VM_GAS_PER_FUEL;
    if (!q) {
        static const char unsupported[] = "{\"error\":{\"unsupported_request\":{\"kind\":\"no querier\"}}}";
        resp = malloc(sizeof unsupported);
        if (resp) memcpy(resp, unsupported, sizeof unsupported);
        resp_len = sizeof unsupported - 1;
    } else if (q->query(q->ctx, (const char *)req, rl, budget, &resp, &resp_len, &used)) {
        free(req);
        free(resp);
        return stop(c, WICAS_VM_ERR_STORAGE, "query_chain: the querier failed");
    }
    free(req);
    if (!resp) return stop(c, WICAS_VM_ERR_NOMEM, "query_chain: no response");
    c->querier_gas += used;
    if (!charge(c, ctx, used, "query_chain")) {
        free(resp);
        return stop(c, WICAS_VM_ERR_OUT_OF_GAS, "%s", c->msg);
    }
    if (resp_len > MAX_QUERY_RESPONSE) {
        free(resp);
        return stop(c, WICAS_VM_ERR_TRAP, "query_chain: response of %zu bytes exceeds the limit", resp_len);
    }
    wasm_trap_t *t = return_data(c, ctx, (const uint8_t *)resp, resp_len, results);
    free(resp);
    return t;
}

/* ---- the import table ------------------------------------------------------------------------------ */
const wicas_vm_hostfn wicas_vm_hostfns[] = {
    {"db_read", 1, 1, h_db_read},
    {"db_write", 2, 0, h_db_write},
    {"db_remove", 1, 0, h_db_remove},
    {"db_scan", 3, 1, h_db_scan},
    {"db_next", 1, 1, h_db_next},
    {"db_next_key", 1, 1, h_db_next_key},
    {"db_next_value", 1, 1, h_db_next_value},
    {"addr_validate", 1, 1, h_addr_validate},
    {"addr_canonicalize", 2, 1, h_addr_canonicalize},
    {"addr_humanize", 2, 1, h_addr_humanize},
    {"secp256k1_verify", 3, 1, h_secp256k1_verify},
    {"secp256k1_recover_pubkey", 3, 2, h_secp256k1_recover_pubkey},
    {"secp256r1_verify", 3, 1, h_secp256r1_verify},
    {"secp256r1_recover_pubkey", 3, 2, h_secp256r1_recover_pubkey},
    {"ed25519_verify", 3, 1, h_ed25519_verify},
    {"ed25519_batch_verify", 3, 1, h_ed25519_batch_verify},
    {"bls12_381_aggregate_g1", 2, 1, h_bls_unsupported},
    {"bls12_381_aggregate_g2", 2, 1, h_bls_unsupported},
    {"bls12_381_pairing_equality", 4, 1, h_bls_unsupported},
    {"bls12_381_hash_to_g1", 4, 1, h_bls_unsupported},
    {"bls12_381_hash_to_g2", 4, 1, h_bls_unsupported},
    {"debug", 1, 0, h_debug},
    {"query_chain", 1, 1, h_query_chain},
    {"abort", 1, 0, h_abort},
};
const size_t wicas_vm_n_hostfns = sizeof wicas_vm_hostfns / sizeof wicas_vm_hostfns[0];

void wicas_vm_callctx_release(wicas_vm_callctx *c) {
    wicas_vm_wcache_free(&c->writes);
    for (uint32_t i = 0; i < c->n_iters; i++) {
        free(c->iters[i].start);
        free(c->iters[i].end);
        free(c->iters[i].last);
    }
    free(c->iters);
    c->iters = NULL;
    c->n_iters = 0;
}
