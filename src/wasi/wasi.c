/*
 * wasi.c — wicas_wasi_run: compile, check, link, instantiate, run, collect.
 *
 * The shape follows the life of one run:
 *   1. a wasmtime engine configured for determinism (fuel metering, NaN
 *      canonicalisation, no threads, no relaxed SIMD) — one per run, so runs
 *      share no mutable state;
 *   2. the module is compiled and its imports checked against the host tables
 *      (anything else is refused by name before a single instruction runs) and
 *      its exports against what a WASI command needs (_start, memory);
 *   3. a store carrying the run's host state, limited in memory and fuel;
 *   4. a linker holding every preview1 and WASI-NN host function;
 *   5. _start is called; how it stopped (return, proc_exit, a host-requested
 *      stop such as stdout overflow, out of fuel, or any other trap) decides
 *      the return code, and stdout/stderr/fuel/token counts go to the result.
 */
#include "wasi_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MOD "wasi"

const char *wicas_wasi_strerror(int err) {
    switch (err) {
    case WICAS_WASI_OK:
        return "ok";
    case WICAS_WASI_EARG:
        return "invalid argument";
    case WICAS_WASI_EMODULE:
        return "invalid or unsupported wasm module";
    case WICAS_WASI_EIMPORT:
        return "module imports something the sandbox does not offer";
    case WICAS_WASI_EINSTANTIATE:
        return "instantiation failed";
    case WICAS_WASI_ETRAP:
        return "program trapped";
    case WICAS_WASI_EFUEL:
        return "out of fuel";
    case WICAS_WASI_EOUTPUT:
        return "stdout limit exceeded";
    case WICAS_WASI_ENOMEM:
        return "out of memory";
    case WICAS_WASI_EENGINE:
        return "wasm engine error";
    case WICAS_WASI_EMODEL:
        return "preloaded model unavailable on this node";
    default:
        return "unknown error";
    }
}

void wicas_wasi_config_default(wicas_wasi_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
}

void wicas_wasi_result_free(wicas_wasi_result *res) {
    if (!res) return;
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}

/* ---- helpers shared with the host functions ------------------------------------- */

wicas_wasi_host *wicas_wasi_host_of(wasmtime_caller_t *caller) {
    return wasmtime_context_get_data(wasmtime_caller_context(caller));
}

bool wicas_wasi_guest_mem(wasmtime_caller_t *caller, uint8_t **base, size_t *size) {
    wasmtime_extern_t ext;
    if (!wasmtime_caller_export_get(caller, "memory", 6, &ext)) return false;
    if (ext.kind != WASMTIME_EXTERN_MEMORY) return false;
    wasmtime_context_t *ctx = wasmtime_caller_context(caller);
    *base = wasmtime_memory_data(ctx, &ext.of.memory);
    *size = wasmtime_memory_data_size(ctx, &ext.of.memory);
    return true;
}

wasm_trap_t *wicas_wasi_host_stop(wicas_wasi_host *h, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->stop_msg, sizeof h->stop_msg, fmt, ap);
    va_end(ap);
    h->stop_code = code;
    return wasmtime_trap_new(h->stop_msg, strlen(h->stop_msg));
}

wasm_trap_t *wicas_wasi_host_charge(wasmtime_caller_t *caller, uint64_t amount) {
    wasmtime_context_t *ctx = wasmtime_caller_context(caller);
    uint64_t left = 0;
    wasmtime_error_t *e = wasmtime_context_get_fuel(ctx, &left);
    if (e) {
        wasmtime_error_delete(e);
        return NULL; /* fuel not enabled: nothing to charge */
    }
    if (left < amount) {
        e = wasmtime_context_set_fuel(ctx, 0);
        if (e) wasmtime_error_delete(e);
        wicas_wasi_host *h = wicas_wasi_host_of(caller);
        h->stop_code = WICAS_WASI_EFUEL;
        snprintf(h->stop_msg, sizeof h->stop_msg, "out of fuel in a host call (needed %llu, had %llu)",
                 (unsigned long long)amount, (unsigned long long)left);
        return wasmtime_trap_new_code(WASMTIME_TRAP_CODE_OUT_OF_FUEL);
    }
    e = wasmtime_context_set_fuel(ctx, left - amount);
    if (e) wasmtime_error_delete(e);
    return NULL;
}

/* Writes wasmtime's message for an error into buf (and frees the error). */
static void take_error(wasmtime_error_t *e, char *buf, size_t cap) {
    wasm_message_t msg;
    wasmtime_error_message(e, &msg);
    snprintf(buf, cap, "%.*s", (int)msg.size, msg.data);
    wasm_byte_vec_delete(&msg);
    wasmtime_error_delete(e);
}

static void take_trap(wasm_trap_t *t, char *buf, size_t cap) {
    wasm_message_t msg;
    wasm_trap_message(t, &msg);
    /* The message is NUL-terminated in the C API; drop the terminator. */
    size_t n = msg.size;
    while (n > 0 && msg.data[n - 1] == '\0')
        n--;
    snprintf(buf, cap, "%.*s", (int)n, msg.data);
    wasm_byte_vec_delete(&msg);
}

static void fail(wicas_wasi_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(wicas_wasi_result *res, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof res->error, fmt, ap);
    va_end(ap);
}

/* ---- imports -------------------------------------------------------------------- */

static const wasi_hostfn *find_fn(const wasi_hostfn *tab, size_t n, const char *name, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(tab[i].name) == len && memcmp(tab[i].name, name, len) == 0) return &tab[i];
    return NULL;
}

static bool is_mod(const wasm_name_t *m, const char *s) {
    return m->size == strlen(s) && memcmp(m->data, s, m->size) == 0;
}

/* Every import must be a function the host tables define. Returns 0, or
 * EIMPORT with a message naming the first offending import. */
static int check_imports(const wasmtime_module_t *module, char *err, size_t errlen) {
    wasm_importtype_vec_t imports;
    wasmtime_module_imports(module, &imports);
    int rc = 0;
    for (size_t i = 0; i < imports.size && rc == 0; i++) {
        const wasm_name_t *m = wasm_importtype_module(imports.data[i]);
        const wasm_name_t *n = wasm_importtype_name(imports.data[i]);
        const wasm_externtype_t *t = wasm_importtype_type(imports.data[i]);
        const wasi_hostfn *fn = NULL;
        if (is_mod(m, "wasi_snapshot_preview1"))
            fn = find_fn(wicas_wasi_preview1_fns, wicas_wasi_preview1_n, n->data, n->size);
        else if (is_mod(m, "wasi_ephemeral_nn"))
            fn = find_fn(wicas_wasi_nn_fns, wicas_wasi_nn_n, n->data, n->size);
        if (!fn || wasm_externtype_kind(t) != WASM_EXTERN_FUNC) {
            snprintf(err, errlen,
                     "unsupported import \"%.*s\".\"%.*s\" (the sandbox offers only "
                     "functions of wasi_snapshot_preview1 and wasi_ephemeral_nn)",
                     (int)(m->size > 64 ? 64 : m->size), m->data, (int)(n->size > 64 ? 64 : n->size),
                     n->data);
            rc = WICAS_WASI_EIMPORT;
        }
    }
    wasm_importtype_vec_delete(&imports);
    return rc;
}

static int check_exports(const wasmtime_module_t *module, char *err, size_t errlen) {
    wasm_exporttype_vec_t exports;
    wasmtime_module_exports(module, &exports);
    bool start = false, memory = false;
    for (size_t i = 0; i < exports.size; i++) {
        const wasm_name_t *n = wasm_exporttype_name(exports.data[i]);
        wasm_externkind_t k = wasm_externtype_kind(wasm_exporttype_type(exports.data[i]));
        if (is_mod(n, "_start") && k == WASM_EXTERN_FUNC) start = true;
        if (is_mod(n, "memory") && k == WASM_EXTERN_MEMORY) memory = true;
    }
    wasm_exporttype_vec_delete(&exports);
    if (!start || !memory) {
        snprintf(err, errlen,
                 "module is not a WASI command: it must export a function \"_start\" and a "
                 "memory \"memory\" (missing %s)",
                 !start ? "_start" : "memory");
        return WICAS_WASI_EMODULE;
    }
    return 0;
}

/* ---- linking ---------------------------------------------------------------------- */

static wasm_valtype_vec_t valtypes(const char *kinds) {
    size_t n = strlen(kinds);
    wasm_valtype_vec_t v;
    wasm_valtype_vec_new_uninitialized(&v, n);
    for (size_t i = 0; i < n; i++)
        v.data[i] = wasm_valtype_new(kinds[i] == 'I' ? WASM_I64 : WASM_I32);
    return v;
}

/* A stub: the function exists so modules link, and answers a fixed errno. */
static wasm_trap_t *stub_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs,
                            wasmtime_val_t *results, size_t nresults) {
    (void)caller;
    (void)args;
    (void)nargs;
    if (nresults > 0) {
        results[0].kind = WASMTIME_I32;
        results[0].of.i32 = (int32_t)(intptr_t)env;
    }
    return NULL;
}

static wasmtime_error_t *define_table(wasmtime_linker_t *linker, const char *module, const wasi_hostfn *tab,
                                      size_t n) {
    for (size_t i = 0; i < n; i++) {
        wasm_valtype_vec_t p = valtypes(tab[i].params), r = valtypes(tab[i].results);
        wasm_functype_t *ty = wasm_functype_new(&p, &r);
        wasmtime_error_t *e;
        if (tab[i].cb)
            e = wasmtime_linker_define_func(linker, module, strlen(module), tab[i].name, strlen(tab[i].name),
                                            ty, tab[i].cb, NULL, NULL);
        else
            e = wasmtime_linker_define_func(linker, module, strlen(module), tab[i].name, strlen(tab[i].name),
                                            ty, stub_cb, (void *)(intptr_t)tab[i].stub_errno, NULL);
        wasm_functype_delete(ty);
        if (e) return e;
    }
    return NULL;
}

/* ---- buffers ------------------------------------------------------------------------ */

static int validate(const wicas_wasi_config *cfg, const uint8_t *wasm, size_t len,
                    const wicas_wasi_request *req, char *err, size_t errlen) {
    if (!cfg || !req || (!wasm && len > 0)) {
        snprintf(err, errlen, "wicas_wasi_run: NULL %s", !cfg ? "config" : !req ? "request" : "module");
        return WICAS_WASI_EARG;
    }
    if (len == 0) {
        snprintf(err, errlen, "wicas_wasi_run: empty module");
        return WICAS_WASI_EMODULE;
    }
    if (cfg->memory_limit > (4ull << 30)) {
        snprintf(err, errlen, "wicas_wasi_run: memory limit %llu bytes is above 4 GiB (wasm32)",
                 (unsigned long long)cfg->memory_limit);
        return WICAS_WASI_EARG;
    }
    if ((req->n_args && !req->args) || (req->n_env && !req->env) || (req->stdin_len && !req->stdin_data)) {
        snprintf(err, errlen, "wicas_wasi_run: request has a count without its array");
        return WICAS_WASI_EARG;
    }
    for (size_t i = 0; i < req->n_args; i++)
        if (!req->args[i]) {
            snprintf(err, errlen, "wicas_wasi_run: args[%zu] is NULL", i);
            return WICAS_WASI_EARG;
        }
    for (size_t i = 0; i < req->n_env; i++)
        if (!req->env[i] || !strchr(req->env[i], '=')) {
            snprintf(err, errlen, "wicas_wasi_run: env[%zu] is not KEY=VALUE", i);
            return WICAS_WASI_EARG;
        }
    if (req->block_time_ns < 0) {
        snprintf(err, errlen, "wicas_wasi_run: negative block time");
        return WICAS_WASI_EARG;
    }
    if (cfg->n_models > WICAS_WASI_MAX_MODELS || (cfg->n_models && !cfg->models)) {
        snprintf(err, errlen, "wicas_wasi_run: bad model table (%zu entries, at most %d)", cfg->n_models,
                 WICAS_WASI_MAX_MODELS);
        return WICAS_WASI_EARG;
    }
    for (size_t i = 0; i < cfg->n_models; i++) {
        if (!cfg->models[i].name || !cfg->models[i].path || !cfg->models[i].name[0]) {
            snprintf(err, errlen, "wicas_wasi_run: model entry %zu lacks a name or path", i);
            return WICAS_WASI_EARG;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->models[i].name, cfg->models[j].name) == 0) {
                snprintf(err, errlen, "wicas_wasi_run: model name \"%s\" given twice", cfg->models[i].name);
                return WICAS_WASI_EARG;
            }
    }
    return 0;
}

/* Moves a capture buffer into the result (NUL-terminated copy). */
static int hand_over(uint8_t *buf, size_t len, uint8_t **out, size_t *out_len) {
    uint8_t *p = malloc(len + 1);
    if (!p) return -1;
    if (len) memcpy(p, buf, len);
    p[len] = 0;
    *out = p;
    *out_len = len;
    return 0;
}

/* ---- engine and module ------------------------------------------------------------------ */

/* A wasmtime engine configured for determinism. */
static int new_engine(wasm_engine_t **out, char *err, size_t errlen) {
    *out = NULL;
    wasm_config_t *conf = wasm_config_new();
    if (!conf) {
        snprintf(err, errlen, "wicas_wasi_run: cannot create a wasmtime config");
        return WICAS_WASI_EENGINE;
    }
    wasmtime_config_consume_fuel_set(conf, true);
    wasmtime_config_cranelift_nan_canonicalization_set(conf, true);
    /* Threads: this wasmtime build has no threads feature, so shared memory
     * and atomics-wait cannot be enabled at all. */
    wasmtime_config_wasm_relaxed_simd_set(conf, false);
    wasmtime_config_wasm_relaxed_simd_deterministic_set(conf, true);
    wasmtime_config_wasm_simd_set(conf, true);
    wasmtime_config_cranelift_opt_level_set(conf, WASMTIME_OPT_LEVEL_SPEED);
    *out = wasm_engine_new_with_config(conf); /* takes conf */
    if (!*out) {
        snprintf(err, errlen, "wicas_wasi_run: cannot create a wasmtime engine");
        return WICAS_WASI_EENGINE;
    }
    return 0;
}

/* Compiles the module and checks its imports and exports. */
static int compile_checked(wasm_engine_t *engine, const uint8_t *wasm, size_t len, wasmtime_module_t **out,
                           char *err, size_t errlen) {
    *out = NULL;
    wasmtime_error_t *e = wasmtime_module_new(engine, wasm, len, out);
    if (e) {
        char msg[400];
        take_error(e, msg, sizeof msg);
        *out = NULL;
        snprintf(err, errlen, "wicas_wasi_run: invalid wasm module: %s", msg);
        return WICAS_WASI_EMODULE;
    }
    int rc = check_imports(*out, err, errlen);
    if (!rc) rc = check_exports(*out, err, errlen);
    return rc;
}

int wicas_wasi_validate(const uint8_t *wasm, size_t len, char *err, size_t errlen) {
    char buf[512] = "";
    if (!err || !errlen) err = buf, errlen = sizeof buf;
    err[0] = 0;
    if (!wasm || len == 0) {
        snprintf(err, errlen, "empty module");
        return wasm || len == 0 ? WICAS_WASI_EMODULE : WICAS_WASI_EARG;
    }
    wasm_engine_t *engine = NULL;
    wasmtime_module_t *module = NULL;
    int rc = new_engine(&engine, err, errlen);
    if (!rc) rc = compile_checked(engine, wasm, len, &module, err, errlen);
    if (module) wasmtime_module_delete(module);
    if (engine) wasm_engine_delete(engine);
    return rc;
}

/* ---- the run -------------------------------------------------------------------------- */

static const uint8_t RNG_NONCE[12] = {'w', 'a', 's', 'i', '-', 'r', 'a', 'n', 'd', 'o', 'm', 0};

int wicas_wasi_run(const wicas_wasi_config *cfg, const uint8_t *wasm, size_t len,
                   const wicas_wasi_request *req, wicas_wasi_result *res) {
    if (!res) return WICAS_WASI_EARG;
    memset(res, 0, sizeof *res);
    int rc = validate(cfg, wasm, len, req, res->error, sizeof res->error);
    if (rc) return rc;

    wicas_wasi_host *h = calloc(1, sizeof *h);
    if (!h) {
        fail(res, "wicas_wasi_run: out of memory for the host state");
        return WICAS_WASI_ENOMEM;
    }
    h->cfg = cfg;
    h->req = req;
    h->out_cap = cfg->stdout_cap ? cfg->stdout_cap : WICAS_WASI_DEFAULT_STDOUT_CAP;
    h->err_cap = cfg->stderr_cap ? cfg->stderr_cap : WICAS_WASI_DEFAULT_STDERR_CAP;
    wicas_wasi_chacha_init(&h->rng, req->seed, RNG_NONCE);
    uint64_t fuel = cfg->fuel_limit ? cfg->fuel_limit : WICAS_WASI_DEFAULT_FUEL;
    uint64_t mem_limit = cfg->memory_limit ? cfg->memory_limit : WICAS_WASI_DEFAULT_MEMORY;

    wasm_engine_t *engine = NULL;
    wasmtime_module_t *module = NULL;
    wasmtime_store_t *store = NULL;
    wasmtime_linker_t *linker = NULL;
    wasmtime_error_t *e = NULL;
    wasm_trap_t *trap = NULL;

    if (wicas_wasi_fs_init(h, res->error, sizeof res->error) != 0) {
        rc = WICAS_WASI_EARG;
        goto done;
    }

    /* 1. engine, 2. module (compiled and checked) */
    if ((rc = new_engine(&engine, res->error, sizeof res->error)) != 0) goto done;
    if ((rc = compile_checked(engine, wasm, len, &module, res->error, sizeof res->error)) != 0) goto done;

    /* 3. store */
    store = wasmtime_store_new(engine, h, NULL);
    if (!store) {
        rc = WICAS_WASI_EENGINE;
        fail(res, "wicas_wasi_run: cannot create a store");
        goto done;
    }
    wasmtime_context_t *ctx = wasmtime_store_context(store);
    /* memory bytes, table elements, instances, tables, memories */
    wasmtime_store_limiter(store, (int64_t)mem_limit, 1 << 20, 1, 16, 1);
    e = wasmtime_context_set_fuel(ctx, fuel);
    if (e) goto engine_error;

    /* 4. linker */
    linker = wasmtime_linker_new(engine);
    if (!linker) {
        rc = WICAS_WASI_EENGINE;
        fail(res, "wicas_wasi_run: cannot create a linker");
        goto done;
    }
    if ((e = define_table(linker, "wasi_snapshot_preview1", wicas_wasi_preview1_fns,
                          wicas_wasi_preview1_n)) != NULL)
        goto engine_error;
    if ((e = define_table(linker, "wasi_ephemeral_nn", wicas_wasi_nn_fns, wicas_wasi_nn_n)) != NULL)
        goto engine_error;

    wasmtime_instance_t inst;
    e = wasmtime_linker_instantiate(linker, ctx, module, &inst, &trap);
    if (e || trap) {
        char msg[400];
        if (e)
            take_error(e, msg, sizeof msg);
        else
            take_trap(trap, msg, sizeof msg);
        e = NULL;
        if (trap) wasm_trap_delete(trap);
        trap = NULL;
        rc = WICAS_WASI_EINSTANTIATE;
        fail(res, "wicas_wasi_run: instantiation failed (memory limit %llu bytes): %s",
             (unsigned long long)mem_limit, msg);
        goto done;
    }

    /* 5. run */
    wasmtime_extern_t start;
    if (!wasmtime_instance_export_get(ctx, &inst, "_start", 6, &start) ||
        start.kind != WASMTIME_EXTERN_FUNC) {
        rc = WICAS_WASI_EMODULE;
        fail(res, "wicas_wasi_run: _start is not a function");
        goto done;
    }
    e = wasmtime_func_call(ctx, &start.of.func, NULL, 0, NULL, 0, &trap);
    if (h->exited) {
        /* proc_exit: a clean end whatever the code */
        rc = WICAS_WASI_OK;
        res->exit_code = h->exit_code;
    } else if (h->stop_code) {
        rc = h->stop_code;
        fail(res, "%s", h->stop_msg);
    } else if (trap) {
        wasmtime_trap_code_t code;
        char msg[400];
        take_trap(trap, msg, sizeof msg);
        if (wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_OUT_OF_FUEL) {
            rc = WICAS_WASI_EFUEL;
            fail(res, "program ran out of fuel (limit %llu)", (unsigned long long)fuel);
        } else {
            rc = WICAS_WASI_ETRAP;
            fail(res, "program trapped: %s", msg);
        }
    } else if (e) {
        char msg[400];
        take_error(e, msg, sizeof msg);
        rc = WICAS_WASI_ETRAP;
        fail(res, "program failed: %s", msg);
    }
    if (e) wasmtime_error_delete(e);
    e = NULL;
    if (trap) wasm_trap_delete(trap);
    trap = NULL;
    uint64_t left = 0;
    wasmtime_error_t *fe = wasmtime_context_get_fuel(ctx, &left);
    if (fe)
        wasmtime_error_delete(fe);
    else
        res->fuel_used = fuel - left;
    goto done;

engine_error : {
    char msg[400];
    take_error(e, msg, sizeof msg);
    e = NULL;
    rc = WICAS_WASI_EENGINE;
    fail(res, "wicas_wasi_run: wasmtime set-up failed: %s", msg);
}

done:
    if (linker) wasmtime_linker_delete(linker);
    if (store) wasmtime_store_delete(store);
    if (module) wasmtime_module_delete(module);
    if (engine) wasm_engine_delete(engine);
    res->nn_prompt_tokens = h->nn_prompt_tokens;
    res->nn_generated_tokens = h->nn_generated_tokens;
    res->nn_computes = h->nn_computes;
    memcpy(res->nn_model_prompt_tokens, h->nn_model_prompt_tokens, sizeof res->nn_model_prompt_tokens);
    memcpy(res->nn_model_generated_tokens, h->nn_model_generated_tokens,
           sizeof res->nn_model_generated_tokens);
    memcpy(res->nn_model_computes, h->nn_model_computes, sizeof res->nn_model_computes);
    res->err_truncated = h->err_truncated;
    if (hand_over(h->out, h->out_len, &res->out, &res->out_len) != 0 ||
        hand_over(h->err, h->err_len, &res->err, &res->err_len) != 0) {
        wicas_wasi_result_free(res);
        if (rc == 0) {
            rc = WICAS_WASI_ENOMEM;
            fail(res, "wicas_wasi_run: out of memory copying the output");
        }
    }
    if (h->err_len)
        WICAS_DEBUG(MOD, "program stderr (%zu bytes): %.*s", h->err_len,
                    (int)(h->err_len > 2000 ? 2000 : h->err_len), (const char *)h->err);
    if (rc) WICAS_DEBUG(MOD, "run failed: %s", res->error);
    wicas_wasi_nn_free(h);
    wicas_wasi_fs_close(h);
    free(h->out);
    free(h->err);
    free(h);
    return rc;
}
