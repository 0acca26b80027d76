/* test_deps_wasmtime.c — the wasmtime C API, linked statically from the cached
 * build, compiles a module that clang-14 made from C in this build and calls
 * its exports; a wrong-typed call is refused with an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <wasmtime.h>

#include "common.h"

static wasm_byte_vec_t load_module(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/deps_add.wasm", getenv("WICAS_WASM_DIR"));
    size_t len = 0;
    uint8_t *buf = wicas_read_file(path, 1 << 20, &len);
    assert_non_null(buf);
    wasm_byte_vec_t v;
    wasm_byte_vec_new(&v, len, (const wasm_byte_t *)buf);
    free(buf);
    return v;
}

static int call_export(wasmtime_context_t *ctx, wasmtime_instance_t *inst, const char *name,
                       wasmtime_val_t *args, size_t nargs, wasmtime_val_t *res) {
    wasmtime_extern_t ext;
    assert_true(wasmtime_instance_export_get(ctx, inst, name, strlen(name), &ext));
    assert_int_equal(ext.kind, WASMTIME_EXTERN_FUNC);
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err = wasmtime_func_call(ctx, &ext.of.func, args, nargs, res, 1, &trap);
    if (err) {
        wasmtime_error_delete(err);
        return -1;
    }
    if (trap) {
        wasm_trap_delete(trap);
        return -2;
    }
    return 0;
}

static void clang_module_runs_in_wasmtime(void **state) {
    (void)state;
    wasm_engine_t *engine = wasm_engine_new();
    assert_non_null(engine);
    wasm_byte_vec_t bytes = load_module();
    wasmtime_module_t *module = NULL;
    wasmtime_error_t *err = wasmtime_module_new(engine, (uint8_t *)bytes.data, bytes.size, &module);
    assert_null(err);
    wasm_byte_vec_delete(&bytes);

    wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *ctx = wasmtime_store_context(store);
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    err = wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap);
    assert_null(err);
    assert_null(trap);

    wasmtime_val_t args[2] = {{.kind = WASMTIME_I32, .of.i32 = 40}, {.kind = WASMTIME_I32, .of.i32 = 2}};
    wasmtime_val_t res;
    assert_int_equal(call_export(ctx, &inst, "add", args, 2, &res), 0);
    assert_int_equal(res.kind, WASMTIME_I32);
    assert_int_equal(res.of.i32, 42);

    wasmtime_val_t n = {.kind = WASMTIME_I32, .of.i32 = 90};
    assert_int_equal(call_export(ctx, &inst, "fib", &n, 1, &res), 0);
    assert_int_equal(res.kind, WASMTIME_I64);
    assert_true(res.of.i64 == 2880067194370816120LL);

    /* wrong argument type: an error, not a crash */
    wasmtime_val_t bad = {.kind = WASMTIME_F64, .of.f64 = 1.0};
    assert_int_equal(call_export(ctx, &inst, "fib", &bad, 1, &res), -1);

    wasmtime_store_delete(store);
    wasmtime_module_delete(module);
    wasm_engine_delete(engine);
}

static void malformed_module_is_an_error(void **state) {
    (void)state;
    wasm_engine_t *engine = wasm_engine_new();
    const uint8_t junk[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff};
    wasmtime_module_t *module = NULL;
    wasmtime_error_t *err = wasmtime_module_new(engine, junk, sizeof junk, &module);
    assert_non_null(err);
    assert_null(module);
    wasm_message_t msg;
    wasmtime_error_message(err, &msg);
    assert_true(msg.size > 0);
    wasm_byte_vec_delete(&msg);
    wasmtime_error_delete(err);
    wasm_engine_delete(engine);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clang_module_runs_in_wasmtime),
        cmocka_unit_test(malformed_module_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
