/*
 * vm.c — the engine, the module caches and wicas_vm_call.
 *
 * Engine: one wasmtime engine configured for consensus — fuel on, NaN
 * canonicalisation on, SIMD/relaxed-SIMD/threads/memory64 off, a bounded
 * wasm stack, a fixed target triple without host CPU feature detection, explicit bounds checks instead of
 * signal handlers (uniform behaviour, friendly to ASan), a fixed memory reservation equal to the per-instance
 * limit (so memories never move) and no guard region.
 *
 * Caches: compiled modules stay in a small LRU (cloned out for each call, so
 * eviction never frees a module in use) and on disk under
 * <cache_dir>/<engine fingerprint prefix>/<checksum>.wcm. A file is
 *   "WICASWCM" | checksum[32] | sha256(payload)[32] | u64 LE payload length | payload
 * and is checked byte for byte (magic, checksum, length, hash) BEFORE wasmtime
 * deserialises it: deserialising untrusted bytes is unsafe. A bad file is
 * removed, counted and, in store_code, rebuilt from the wasm.
 *
 * Calls: a fresh store and instance per call; env/info/msg are copied into
 * contract memory through the contract's allocate; the entry point runs with
 * fuel = gas_limit / WICAS_VM_GAS_PER_FUEL; the result Region is copied out,
 * checked (UTF-8, JSON, ContractResult shape) and, only for {"ok":...}, the
 * buffered writes are flushed to the embedder's storage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "common.h"
#include "vm_internal.h"

#define WICAS_VM_HOST_VERSION "wicas-vm-host/1"
#define WASMTIME_VERSION_STR "wasmtime-48.0.8"
#define CACHE_MAGIC "WICASWCM"
#if defined(__x86_64__)
#define WICAS_VM_TARGET "x86_64-unknown-linux-gnu"
#elif defined(__aarch64__)
#define WICAS_VM_TARGET "aarch64-unknown-linux-gnu"
#else
#error "wicas_vm: unsupported host architecture (add its target triple)"
#endif
#define CACHE_HEADER (8 + 32 + 32 + 8)

void wicas_vm_config_default(wicas_vm_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->memory_limit = 32u << 20;
    cfg->max_wasm_stack = 256u << 10;
    cfg->max_code_size = 800u << 10;
    cfg->lru_capacity = 64;
    cfg->max_iterators = 32;
}

static void wt_msg(wasmtime_error_t *e, char *buf, size_t cap) {
    wasm_name_t m;
    wasmtime_error_message(e, &m);
    snprintf(buf, cap, "%.*s", (int)m.size, m.data);
    wasm_byte_vec_delete(&m);
}

static int mkdir_p(const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static wasmtime_error_t *define_host(wasmtime_linker_t *linker) {
    for (size_t i = 0; i < wicas_vm_n_hostfns; i++) {
        const wicas_vm_hostfn *h = &wicas_vm_hostfns[i];
        wasm_valtype_vec_t params, results;
        wasm_valtype_vec_new_uninitialized(&params, h->n_params);
        for (size_t k = 0; k < h->n_params; k++)
            params.data[k] = wasm_valtype_new(WASM_I32);
        if (h->result) {
            wasm_valtype_vec_new_uninitialized(&results, 1);
            results.data[0] = wasm_valtype_new(h->result == 1 ? WASM_I32 : WASM_I64);
        } else {
            wasm_valtype_vec_new_empty(&results);
        }
        wasm_functype_t *ft = wasm_functype_new(&params, &results);
        wasmtime_error_t *e =
            wasmtime_linker_define_func(linker, "env", 3, h->name, strlen(h->name), ft, h->fn, NULL, NULL);
        wasm_functype_delete(ft);
        if (e) return e;
    }
    return NULL;
}

wicas_vm *wicas_vm_new(const wicas_vm_config *cfg_in, char *err, size_t errcap) {
    wicas_vm *vm = calloc(1, sizeof *vm);
    if (!vm) {
        wicas_errf(err, errcap, "out of memory");
        return NULL;
    }
    wicas_vm_config def;
    wicas_vm_config_default(&def);
    vm->cfg = cfg_in ? *cfg_in : def;
    if (!vm->cfg.memory_limit) vm->cfg.memory_limit = def.memory_limit;
    if (!vm->cfg.max_wasm_stack) vm->cfg.max_wasm_stack = def.max_wasm_stack;
    if (!vm->cfg.max_code_size) vm->cfg.max_code_size = def.max_code_size;
    if (!vm->cfg.lru_capacity) vm->cfg.lru_capacity = def.lru_capacity;
    if (!vm->cfg.max_iterators) vm->cfg.max_iterators = def.max_iterators;
    vm->cfg.cache_dir = NULL;
    vm->caps = strdup(vm->cfg.capabilities ? vm->cfg.capabilities : WICAS_VM_DEFAULT_CAPABILITIES);
    if (!vm->caps) {
        wicas_errf(err, errcap, "out of memory");
        free(vm);
        return NULL;
    }
    vm->cfg.capabilities = vm->caps;
    vm->cfg.memory_limit = (vm->cfg.memory_limit + 65535) & ~(uint64_t)65535;

    wasm_config_t *c = wasm_config_new();
    wasmtime_config_consume_fuel_set(c, true);
    wasmtime_config_cranelift_nan_canonicalization_set(c, true);
    wasmtime_config_wasm_relaxed_simd_set(c, false);
    wasmtime_config_wasm_simd_set(c, false);
    /* threads: not compiled into this wasmtime build (off by default) */
    wasmtime_config_wasm_memory64_set(c, false);
    wasmtime_config_wasm_multi_memory_set(c, false);
    wasmtime_config_max_wasm_stack_set(c, vm->cfg.max_wasm_stack);
    wasmtime_config_signals_based_traps_set(c, false);
    wasmtime_config_memory_reservation_set(c, vm->cfg.memory_limit);
    wasmtime_config_memory_guard_size_set(c, 0);
    wasmtime_config_memory_reservation_for_growth_set(c, 0);
    /* An explicit target turns off detection of the host CPU's optional
     * features: every node of one architecture compiles identical machine
     * code, so stack use (hence where "call stack exhausted" hits) does not
     * depend on the CPU model. */
    wasmtime_error_t *te = wasmtime_config_target_set(c, WICAS_VM_TARGET);
    if (te) {
        char m[256];
        wt_msg(te, m, sizeof m);
        wasmtime_error_delete(te);
        wasm_config_delete(c);
        wicas_errf(err, errcap, "setting the compilation target %s: %s", WICAS_VM_TARGET, m);
        free(vm->caps);
        free(vm);
        return NULL;
    }
    vm->engine = wasm_engine_new_with_config(c);
    if (!vm->engine) {
        wicas_errf(err, errcap, "wasmtime engine creation failed");
        free(vm->caps);
        free(vm);
        return NULL;
    }
    vm->linker = wasmtime_linker_new(vm->engine);
    wasmtime_error_t *e = define_host(vm->linker);
    if (e) {
        char m[256];
        wt_msg(e, m, sizeof m);
        wasmtime_error_delete(e);
        wicas_errf(err, errcap, "defining host functions: %s", m);
        wicas_vm_free(vm);
        return NULL;
    }

    /* engine fingerprint: everything that changes compiled code or its behaviour */
    char fp[512];
    int n =
        snprintf(fp, sizeof fp,
                 "%s|%s|%s|fuel=1|nan=1|simd=0|relaxed=0|threads=0|mem64=0|multimem=0|stack=%zu|signals=0|"
                 "reservation=%llu|guard=0|gas_per_fuel=%llu",
                 WICAS_VM_HOST_VERSION, WASMTIME_VERSION_STR, WICAS_VM_TARGET, vm->cfg.max_wasm_stack,
                 (unsigned long long)vm->cfg.memory_limit, WICAS_VM_GAS_PER_FUEL);
    wicas_sha256(fp, (size_t)n, vm->fingerprint);

    if (cfg_in && cfg_in->cache_dir) {
        char hex[65];
        wicas_hex_encode(vm->fingerprint, 32, hex);
        size_t cap = strlen(cfg_in->cache_dir) + 32;
        vm->cache_dir = malloc(cap);
        if (vm->cache_dir) snprintf(vm->cache_dir, cap, "%s/%.16s", cfg_in->cache_dir, hex);
        if (!vm->cache_dir || mkdir_p(vm->cache_dir)) {
            wicas_errf(err, errcap, "cannot create module cache directory under %s: %s", cfg_in->cache_dir,
                       strerror(errno));
            wicas_vm_free(vm);
            return NULL;
        }
        vm->cfg.cache_dir = vm->cache_dir;
    }
    vm->lru = calloc(vm->cfg.lru_capacity, sizeof *vm->lru);
    if (!vm->lru) {
        wicas_errf(err, errcap, "out of memory");
        wicas_vm_free(vm);
        return NULL;
    }
    return vm;
}

void wicas_vm_free(wicas_vm *vm) {
    if (!vm) return;
    wicas_vm_clear_memory_cache(vm);
    free(vm->lru);
    if (vm->linker) wasmtime_linker_delete(vm->linker);
    if (vm->engine) wasm_engine_delete(vm->engine);
    free(vm->cache_dir);
    free(vm->caps);
    free(vm);
}

void wicas_vm_engine_fingerprint(const wicas_vm *vm, uint8_t out[32]) {
    memcpy(out, vm->fingerprint, 32);
}

void wicas_vm_get_cache_stats(const wicas_vm *vm, wicas_vm_cache_stats *out) {
    *out = vm->stats;
}

void wicas_vm_clear_memory_cache(wicas_vm *vm) {
    if (!vm->lru) return;
    for (size_t i = 0; i < vm->lru_n; i++)
        wasmtime_module_delete(vm->lru[i].module);
    vm->lru_n = 0;
}

/* ---- in-memory LRU ------------------------------------------------------------------------- */
static wasmtime_module_t *lru_get(wicas_vm *vm, const uint8_t checksum[32]) {
    for (size_t i = 0; i < vm->lru_n; i++)
        if (memcmp(vm->lru[i].checksum, checksum, 32) == 0) {
            vm->lru[i].tick = ++vm->tick;
            return vm->lru[i].module;
        }
    return NULL;
}

/* Takes ownership of module. */
static void lru_put(wicas_vm *vm, const uint8_t checksum[32], wasmtime_module_t *module) {
    size_t slot = vm->lru_n;
    if (vm->lru_n == vm->cfg.lru_capacity) {
        slot = 0;
        for (size_t i = 1; i < vm->lru_n; i++)
            if (vm->lru[i].tick < vm->lru[slot].tick) slot = i;
        wasmtime_module_delete(vm->lru[slot].module);
    } else {
        vm->lru_n++;
    }
    memcpy(vm->lru[slot].checksum, checksum, 32);
    vm->lru[slot].module = module;
    vm->lru[slot].tick = ++vm->tick;
}

/* ---- disk cache -------------------------------------------------------------------------------- */
static void cache_path(const wicas_vm *vm, const uint8_t checksum[32], char *out, size_t cap) {
    char hex[65];
    wicas_hex_encode(checksum, 32, hex);
    snprintf(out, cap, "%s/%s.wcm", vm->cache_dir, hex);
}

/* Loads a verified module from disk. NULL when absent or corrupt (then removed). */
static wasmtime_module_t *disk_load(wicas_vm *vm, const uint8_t checksum[32]) {
    if (!vm->cache_dir) return NULL;
    char path[4096];
    cache_path(vm, checksum, path, sizeof path);
    size_t len = 0;
    uint8_t *buf = wicas_read_file(path, (size_t)1 << 30, &len);
    if (!buf) return NULL;
    bool ok = len >= CACHE_HEADER && memcmp(buf, CACHE_MAGIC, 8) == 0 && memcmp(buf + 8, checksum, 32) == 0;
    uint64_t plen = 0;
    if (ok) {
        for (int i = 0; i < 8; i++)
            plen |= (uint64_t)buf[72 + i] << (8 * i);
        ok = plen == len - CACHE_HEADER;
    }
    if (ok) {
        uint8_t h[32];
        wicas_sha256(buf + CACHE_HEADER, (size_t)plen, h);
        ok = memcmp(h, buf + 40, 32) == 0;
    }
    wasmtime_module_t *m = NULL;
    if (ok) {
        wasmtime_error_t *e = wasmtime_module_deserialize(vm->engine, buf + CACHE_HEADER, (size_t)plen, &m);
        if (e) {
            char msg[256];
            wt_msg(e, msg, sizeof msg);
            wasmtime_error_delete(e);
            WICAS_WARN("vm", "cache entry %s rejected by wasmtime: %s", path, msg);
            ok = false;
            m = NULL;
        }
    }
    free(buf);
    if (!ok) {
        WICAS_WARN("vm", "corrupt module cache entry %s removed", path);
        unlink(path);
        vm->stats.corrupt_entries++;
        return NULL;
    }
    vm->stats.disk_hits++;
    return m;
}

static void disk_store(wicas_vm *vm, const uint8_t checksum[32], const wasmtime_module_t *m) {
    if (!vm->cache_dir) return;
    wasm_byte_vec_t ser;
    wasmtime_error_t *e = wasmtime_module_serialize((wasmtime_module_t *)m, &ser);
    if (e) {
        wasmtime_error_delete(e);
        return;
    }
    char path[4096], tmp[4200];
    cache_path(vm, checksum, path, sizeof path);
    /* unique per process AND per call: the chain runs several VMs (consensus
     * and query slots) in one process, which may store the same module at once */
    static atomic_ulong tmp_seq;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(),
             (unsigned long)atomic_fetch_add(&tmp_seq, 1));
    uint8_t hdr[CACHE_HEADER];
    memcpy(hdr, CACHE_MAGIC, 8);
    memcpy(hdr + 8, checksum, 32);
    wicas_sha256(ser.data, ser.size, hdr + 40);
    for (int i = 0; i < 8; i++)
        hdr[72 + i] = (uint8_t)((uint64_t)ser.size >> (8 * i));
    FILE *f = fopen(tmp, "wb");
    bool ok =
        f && fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr && fwrite(ser.data, 1, ser.size, f) == ser.size;
    if (f && fclose(f)) ok = false;
    if (ok && rename(tmp, path) == 0) {
        /* written atomically */
    } else {
        WICAS_WARN("vm", "could not write module cache entry %s", path);
        unlink(tmp);
    }
    wasm_byte_vec_delete(&ser);
}

/* A new reference to the compiled module (caller deletes it), or NULL. */
static wasmtime_module_t *get_module(wicas_vm *vm, const uint8_t checksum[32]) {
    wasmtime_module_t *m = lru_get(vm, checksum);
    if (m) {
        vm->stats.memory_hits++;
        return wasmtime_module_clone(m);
    }
    m = disk_load(vm, checksum);
    if (!m) return NULL;
    if (wicas_vm_validate_interface(m, NULL, 0)) {
        wasmtime_module_delete(m);
        return NULL;
    }
    lru_put(vm, checksum, m);
    return wasmtime_module_clone(m);
}

bool wicas_vm_has_code(wicas_vm *vm, const uint8_t checksum[32]) {
    if (!vm || !checksum) return false;
    /* load (and verify) a disk entry now, so that "true" means a call will find the code:
     * a corrupt file must answer false here, so the embedder stores the code again */
    wasmtime_module_t *m = get_module(vm, checksum);
    if (!m) return false;
    wasmtime_module_delete(m);
    return true;
}

wicas_vm_status wicas_vm_store_code(wicas_vm *vm, const uint8_t *wasm, size_t len, uint8_t checksum_out[32],
                                    char *err, size_t errcap) {
    if (!vm || (!wasm && len)) {
        wicas_errf(err, errcap, "store_code: NULL argument");
        return WICAS_VM_ERR_ARG;
    }
    if (len == 0 || len > vm->cfg.max_code_size) {
        wicas_errf(err, errcap, "store_code: wasm size %zu outside 1..%zu bytes", len, vm->cfg.max_code_size);
        return WICAS_VM_ERR_VALIDATION;
    }
    char why[256];
    if (wicas_vm_validate_sections(wasm, len, why, sizeof why)) {
        wicas_errf(err, errcap, "store_code: %s", why);
        return WICAS_VM_ERR_VALIDATION;
    }
    uint8_t sum[32];
    wicas_sha256(wasm, len, sum);
    if (checksum_out) memcpy(checksum_out, sum, 32);
    if (lru_get(vm, sum)) return WICAS_VM_OK;
    wasmtime_module_t *m = disk_load(vm, sum);
    if (m && (wicas_vm_validate_interface(m, why, sizeof why) ||
              wicas_vm_validate_capabilities(m, vm->caps, why, sizeof why))) {
        wasmtime_module_delete(m);
        wicas_errf(err, errcap, "store_code: %s", why);
        return WICAS_VM_ERR_VALIDATION;
    }
    if (!m) {
        wasmtime_error_t *e = wasmtime_module_new(vm->engine, wasm, len, &m);
        if (e) {
            wt_msg(e, why, sizeof why);
            wasmtime_error_delete(e);
            wicas_errf(err, errcap, "store_code: compile failed: %s", why);
            return WICAS_VM_ERR_COMPILE;
        }
        if (wicas_vm_validate_interface(m, why, sizeof why) ||
            wicas_vm_validate_capabilities(m, vm->caps, why, sizeof why)) {
            wasmtime_module_delete(m);
            wicas_errf(err, errcap, "store_code: %s", why);
            return WICAS_VM_ERR_VALIDATION;
        }
        vm->stats.compiled++;
        disk_store(vm, sum, m);
    }
    lru_put(vm, sum, m);
    return WICAS_VM_OK;
}

/* ---- calls ---------------------------------------------------------------------------------------- */
static void result_error(wicas_vm_result *r, wicas_vm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void result_error(wicas_vm_result *r, wicas_vm_status st, const char *fmt, ...) {
    r->status = st;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(r->error);
    r->error = strdup(buf);
}

/* Interprets the ContractResult bytes. */
static void parse_result(wicas_vm_result *r, wicas_vm_entry entry) {
    if (!wicas_utf8_valid(r->raw, r->raw_len)) {
        result_error(r, WICAS_VM_ERR_RESULT, "%s: result is not valid UTF-8", wicas_vm_entry_name(entry));
        return;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(r->raw, r->raw_len, &end, false);
    if (!j || (size_t)(end - r->raw) != r->raw_len) {
        /* trailing whitespace is fine; anything else is not */
        bool trailing_ok = j != NULL;
        for (const char *p = end; j && p && p < r->raw + r->raw_len; p++)
            if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') trailing_ok = false;
        if (!trailing_ok) {
            cJSON_Delete(j);
            result_error(r, WICAS_VM_ERR_RESULT, "%s: result is not valid JSON", wicas_vm_entry_name(entry));
            return;
        }
    }
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (!cJSON_IsObject(j) || cJSON_GetArraySize(j) != 1 || (!ok && !er)) {
        cJSON_Delete(j);
        result_error(r, WICAS_VM_ERR_RESULT,
                     "%s: result is not a ContractResult ({\"ok\":...} or {\"error\":\"...\"})",
                     wicas_vm_entry_name(entry));
        return;
    }
    if (er) {
        if (!cJSON_IsString(er))
            result_error(r, WICAS_VM_ERR_RESULT, "%s: \"error\" is not a string", wicas_vm_entry_name(entry));
        else {
            r->status = WICAS_VM_ERR_CONTRACT;
            r->error = strdup(er->valuestring);
        }
        cJSON_Delete(j);
        return;
    }
    if (entry == WICAS_VM_QUERY) {
        if (!cJSON_IsString(ok)) {
            result_error(r, WICAS_VM_ERR_RESULT, "query: \"ok\" must be a base64 string (Binary)");
        } else {
            size_t l = strlen(ok->valuestring);
            r->query_data = malloc(l / 4 * 3 + 3);
            long n =
                r->query_data ? wicas_base64_decode(ok->valuestring, l, r->query_data, l / 4 * 3 + 3) : -1;
            if (n < 0)
                result_error(r, WICAS_VM_ERR_RESULT, "query: \"ok\" is not valid base64");
            else
                r->query_len = (size_t)n;
        }
    } else if (!cJSON_IsObject(ok)) {
        result_error(r, WICAS_VM_ERR_RESULT, "%s: \"ok\" must be a Response object",
                     wicas_vm_entry_name(entry));
    }
    if (r->status == WICAS_VM_OK) {
        r->ok_json = cJSON_PrintUnformatted(ok);
        if (!r->ok_json) result_error(r, WICAS_VM_ERR_NOMEM, "out of memory");
    }
    cJSON_Delete(j);
}

static wicas_vm_status classify_trap(wicas_vm_callctx *c, wasm_trap_t *trap, wasmtime_error_t *e, char *msg,
                                     size_t cap) {
    if (c->fail) {
        snprintf(msg, cap, "%s", c->msg);
        return c->fail;
    }
    if (trap) {
        static const char *const TRAPS[] = {"call stack exhausted",
                                            "out of bounds memory access",
                                            "misaligned memory access",
                                            "undefined element: out of bounds table access",
                                            "uninitialized element",
                                            "indirect call type mismatch",
                                            "integer overflow",
                                            "integer divide by zero",
                                            "invalid conversion to integer",
                                            "wasm `unreachable` instruction executed",
                                            "interrupt",
                                            "out of gas"};
        wasmtime_trap_code_t code;
        if (wasmtime_trap_code(trap, &code)) {
            if (code == WASMTIME_TRAP_CODE_OUT_OF_FUEL) {
                snprintf(msg, cap, "out of gas");
                return WICAS_VM_ERR_OUT_OF_GAS;
            }
            if (code < sizeof TRAPS / sizeof TRAPS[0])
                snprintf(msg, cap, "wasm trap: %s", TRAPS[code]);
            else
                snprintf(msg, cap, "wasm trap: code %u", (unsigned)code);
            return WICAS_VM_ERR_TRAP;
        }
        /* a trap without a code: a host-made trap; keep the message's last line (the cause) */
        wasm_message_t m;
        wasm_trap_message(trap, &m);
        size_t end = m.size;
        while (end > 0 && (m.data[end - 1] == 0 || m.data[end - 1] == '\n'))
            end--;
        size_t start = end;
        while (start > 0 && m.data[start - 1] != '\n')
            start--;
        snprintf(msg, cap, "%.*s", (int)(end - start), m.data + start);
        wasm_byte_vec_delete(&m);
        return WICAS_VM_ERR_TRAP;
    }
    if (e) {
        wt_msg(e, msg, cap);
        return WICAS_VM_ERR_TRAP;
    }
    snprintf(msg, cap, "unknown failure");
    return WICAS_VM_ERR_TRAP;
}

wicas_vm_status wicas_vm_call(wicas_vm *vm, const uint8_t checksum[32], wicas_vm_entry entry,
                              const wicas_vm_call_params *p, wicas_vm_result *r) {
    if (!r) return WICAS_VM_ERR_ARG;
    memset(r, 0, sizeof *r);
    const char *ename = wicas_vm_entry_name(entry);
    if (!vm || !checksum || !p || !ename || !p->env_json || (!p->msg && p->msg_len)) {
        result_error(r, WICAS_VM_ERR_ARG, "call: NULL argument or invalid entry");
        return r->status;
    }
    bool with_info = entry == WICAS_VM_INSTANTIATE || entry == WICAS_VM_EXECUTE;
    if (with_info && !p->info_json) {
        result_error(r, WICAS_VM_ERR_ARG, "%s: MessageInfo JSON is required", ename);
        return r->status;
    }
    if (vm->depth >= WICAS_VM_MAX_DEPTH) {
        result_error(r, WICAS_VM_ERR_DEPTH, "%s: calls nested deeper than %d", ename, WICAS_VM_MAX_DEPTH);
        return r->status;
    }
    wasmtime_module_t *module = get_module(vm, checksum);
    if (!module) {
        char hex[65];
        wicas_hex_encode(checksum, 32, hex);
        result_error(r, WICAS_VM_ERR_NO_CODE, "%s: no compiled code for checksum %s (store_code it first)",
                     ename, hex);
        return r->status;
    }

    wicas_vm_callctx cc;
    memset(&cc, 0, sizeof cc);
    cc.vm = vm;
    cc.p = p;
    cc.read_only = p->read_only || entry == WICAS_VM_QUERY;
    wasmtime_store_t *store = wasmtime_store_new(vm->engine, &cc, NULL);
    wasmtime_context_t *ctx = wasmtime_store_context(store);
    wasmtime_store_limiter(store, (int64_t)vm->cfg.memory_limit, WICAS_VM_MAX_TABLE_ELEMENTS, 1, 1, 1);
    uint64_t fuel0 = p->gas_limit / WICAS_VM_GAS_PER_FUEL;
    wasmtime_error_t *e = wasmtime_context_set_fuel(ctx, fuel0);
    if (e) wasmtime_error_delete(e);

    char msg[1024];
    wasm_trap_t *trap = NULL;
    wasmtime_instance_t inst;
    e = wasmtime_linker_instantiate(vm->linker, ctx, module, &inst, &trap);
    if (e || trap) {
        wicas_vm_status st = classify_trap(&cc, trap, e, msg, sizeof msg);
        if (st == WICAS_VM_ERR_TRAP && e) st = WICAS_VM_ERR_INSTANTIATE;
        result_error(r, st, "%s: instantiation failed: %s", ename, msg);
        if (e) wasmtime_error_delete(e);
        if (trap) wasm_trap_delete(trap);
        goto done;
    }
    wasmtime_extern_t ext;
    if (!wasmtime_instance_export_get(ctx, &inst, "memory", 6, &ext) || ext.kind != WASMTIME_EXTERN_MEMORY) {
        result_error(r, WICAS_VM_ERR_INSTANTIATE, "%s: no exported memory", ename);
        goto done;
    }
    cc.memory = ext.of.memory;
    if (!wasmtime_instance_export_get(ctx, &inst, "allocate", 8, &ext) || ext.kind != WASMTIME_EXTERN_FUNC) {
        result_error(r, WICAS_VM_ERR_INSTANTIATE, "%s: no exported allocate", ename);
        goto done;
    }
    cc.allocate = ext.of.func;
    if (!wasmtime_instance_export_get(ctx, &inst, ename, strlen(ename), &ext) ||
        ext.kind != WASMTIME_EXTERN_FUNC) {
        result_error(r, WICAS_VM_ERR_NO_ENTRY, "contract does not export %s", ename);
        goto done;
    }
    wasmtime_func_t fn = ext.of.func;
    /* migrate(env, msg, migrate_info) of cosmwasm-std 2.2 builds, or migrate(env, msg) */
    bool migrate_info = false;
    if (entry == WICAS_VM_MIGRATE) {
        wasm_functype_t *ft = wasmtime_func_type(ctx, &fn);
        migrate_info = wasm_functype_params(ft)->size == 3;
        wasm_functype_delete(ft);
        if (migrate_info && !p->info_json) {
            result_error(r, WICAS_VM_ERR_ARG,
                         "migrate: this contract takes MigrateInfo; info_json is required");
            goto done;
        }
    }
    cc.ready = true;

    /* arguments: env, [info], msg, [migrate_info] */
    const uint8_t *argv[3];
    size_t argl[3], nargs = 0;
    argv[nargs] = (const uint8_t *)p->env_json, argl[nargs++] = strlen(p->env_json);
    if (with_info) argv[nargs] = (const uint8_t *)p->info_json, argl[nargs++] = strlen(p->info_json);
    argv[nargs] = p->msg ? p->msg : (const uint8_t *)"", argl[nargs++] = p->msg_len;
    if (migrate_info) argv[nargs] = (const uint8_t *)p->info_json, argl[nargs++] = strlen(p->info_json);
    wasmtime_val_t args[3], res;
    for (size_t i = 0; i < nargs; i++) {
        uint32_t ptr = wicas_vm_write_region(&cc, ctx, argv[i], argl[i], &trap);
        if (!ptr) {
            wicas_vm_status st = classify_trap(&cc, trap, NULL, msg, sizeof msg);
            if (trap) wasm_trap_delete(trap);
            result_error(r, st, "%s: passing argument %zu: %s", ename, i, msg);
            goto done;
        }
        args[i].kind = WASMTIME_I32;
        args[i].of.i32 = (int32_t)ptr;
    }
    vm->depth++;
    e = wasmtime_func_call(ctx, &fn, args, nargs, &res, 1, &trap);
    vm->depth--;
    if (e || trap) {
        wicas_vm_status st = classify_trap(&cc, trap, e, msg, sizeof msg);
        result_error(r, st, "%s: %s", ename, msg);
        if (e) wasmtime_error_delete(e);
        if (trap) wasm_trap_delete(trap);
        goto done;
    }
    uint8_t *out;
    size_t out_len;
    if (wicas_vm_read_region(&cc, ctx, (uint32_t)res.of.i32, (size_t)vm->cfg.memory_limit, "result", &out,
                             &out_len)) {
        result_error(r, cc.fail, "%s: %s", ename, cc.msg);
        goto done;
    }
    r->raw = (char *)out;
    r->raw_len = out_len;
    parse_result(r, entry);

done:;
    uint64_t fuel_left = 0;
    e = wasmtime_context_get_fuel(ctx, &fuel_left);
    if (e) wasmtime_error_delete(e);
    if (r->status == WICAS_VM_ERR_OUT_OF_GAS)
        r->gas_used = p->gas_limit;
    else
        r->gas_used = (fuel0 - fuel_left) * WICAS_VM_GAS_PER_FUEL;

    if (r->status == WICAS_VM_OK && p->storage) {
        /* flush buffered writes in ascending key order */
        for (size_t i = 0; i < cc.writes.n; i++) {
            const wicas_vm_wentry *we = &cc.writes.e[i];
            int rc = we->deleted
                         ? p->storage->remove(p->storage->ctx, we->key, we->key_len)
                         : p->storage->set(p->storage->ctx, we->key, we->key_len, we->val, we->val_len);
            if (rc) {
                result_error(r, WICAS_VM_ERR_STORAGE,
                             "%s: storage failed while committing write %zu of %zu (embedder must abort its "
                             "transaction)",
                             ename, i + 1, cc.writes.n);
                break;
            }
            r->storage_writes++;
        }
    }
    wicas_vm_callctx_release(&cc);
    wasmtime_store_delete(store);
    wasmtime_module_delete(module);
    return r->status;
}
