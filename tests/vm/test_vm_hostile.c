/*
 * test_vm_hostile.c — hostile modules written in WAT. Each must end in a
 * clean error (the right status, a message), the storage unchanged and the
 * process alive: infinite loop, memory growth past the limit, deep recursion,
 * huge allocate, out-of-bounds / overlapping / oversized Regions, invalid
 * UTF-8 / JSON / ContractResult results, traps in every entry point, writes
 * followed by a failure, writes in a query, forbidden imports, missing
 * exports, a start function, too many functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/vm_test_util.h"

#define IMPORTS_DB                                                                                           \
    "(import \"env\" \"db_write\" (func $db_write (param i32 i32)))\n"                                       \
    "(import \"env\" \"db_read\" (func $db_read (param i32) (result i32)))\n"

static wicas_vm *vm;
static wicas_vm_memstore *ms;
static wicas_vm_storage st;

static int setup(void **state) {
    (void)state;
    vm = wicas_vm_new(NULL, NULL, 0);
    ms = wicas_vm_memstore_new();
    st = wicas_vm_memstore_storage(ms);
    /* some pre-existing state that must survive every failure */
    wicas_vm_memstore_set(ms, (const uint8_t *)"k", 1, (const uint8_t *)"original", 8);
    return vm && ms ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    wicas_vm_memstore_free(ms);
    wicas_vm_free(vm);
    return 0;
}

/* Stores the module; returns its status. */
static wicas_vm_status store_wat(const char *wat, uint8_t sum[32], char *err, size_t errcap) {
    size_t len = 0;
    uint8_t *wasm = wat2wasm(wat, &len);
    assert_non_null(wasm);
    wicas_vm_status s = wicas_vm_store_code(vm, wasm, len, sum, err, errcap);
    free(wasm);
    return s;
}

static wicas_vm_status run(const uint8_t sum[32], wicas_vm_entry e, uint64_t gas, wicas_vm_result *r) {
    static const char env[] =
        "{\"block\":{\"height\":1,\"time\":\"0\",\"chain_id\":\"t\"},\"transaction\":null,"
        "\"contract\":{\"address\":\"c\"}}";
    static const char info[] = "{\"sender\":\"s\",\"funds\":[]}";
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)"{}",
                              .msg_len = 2,
                              .storage = &st,
                              .gas_limit = gas};
    return wicas_vm_call(vm, sum, e, &p, r);
}

/* Builds, stores and runs instantiate of a module; asserts status, a message, unchanged state. */
static void expect_call(const char *imports, const char *memory, const char *funcs, const char *result,
                        wicas_vm_entry entry, uint64_t gas, wicas_vm_status want, const char *needle) {
    char *wat = wat_module(imports, memory, funcs, result, strlen(result));
    uint8_t sum[32], before[32], after[32];
    char err[256] = "";
    assert_int_equal(store_wat(wat, sum, err, sizeof err), WICAS_VM_OK);
    free(wat);
    wicas_vm_memstore_digest(ms, before);
    wicas_vm_result r;
    wicas_vm_status s = run(sum, entry, gas, &r);
    if (s != want || (needle && (!r.error || !strstr(r.error, needle))))
        fprintf(stderr, "got status %d (%s) error '%s', want %d '%s'\n", s, wicas_vm_strerror(s),
                r.error ? r.error : "", want, needle ? needle : "");
    assert_int_equal(s, want);
    if (want != WICAS_VM_OK) assert_non_null(r.error);
    if (needle) assert_non_null(strstr(r.error, needle));
    if (want == WICAS_VM_ERR_OUT_OF_GAS)
        assert_int_equal(r.gas_used, gas);
    else
        assert_true(r.gas_used <= gas);
    wicas_vm_result_free(&r);
    wicas_vm_memstore_digest(ms, after);
    if (want != WICAS_VM_OK) assert_memory_equal(before, after, 32);
}

#define INST(body) "(func (export \"instantiate\") (param i32 i32 i32) (result i32) " body ")"
#define GAS_SMALL 1500000000000ULL /* 1e7 fuel */

static void infinite_loop_out_of_gas(void **state) {
    (void)state;
    expect_call(
        IMPORTS_DB, "2",
        INST("(call $db_write (i32.const 0x200) (i32.const 0x210)) (loop $l (br $l)) (i32.const 0x100)"),
        OK_RESPONSE, WICAS_VM_INSTANTIATE, GAS_SMALL, WICAS_VM_ERR_OUT_OF_GAS, "out of gas");
    /* gas limit below one unit of fuel */
    expect_call("", "2", INST("(i32.const 0x100)"), OK_RESPONSE, WICAS_VM_INSTANTIATE, 1000,
                WICAS_VM_ERR_OUT_OF_GAS, "out of gas");
}

static void memory_growth_limited(void **state) {
    (void)state;
    /* 32 MiB limit = 512 pages; growing by 600 fails (-1) and the contract traps on it */
    expect_call("", "2",
                INST("(if (i32.eq (memory.grow (i32.const 600)) (i32.const -1)) (then unreachable)) "
                     "(i32.const 0x100)"),
                OK_RESPONSE, WICAS_VM_INSTANTIATE, GAS_SMALL, WICAS_VM_ERR_TRAP, "unreachable");
    /* growing within the limit works */
    expect_call("", "2", INST("(drop (memory.grow (i32.const 300))) (i32.const 0x100)"), OK_RESPONSE,
                WICAS_VM_INSTANTIATE, GAS_SMALL, WICAS_VM_OK, NULL);
    /* a module whose initial memory exceeds the limit cannot be instantiated */
    expect_call("", "600", INST("(i32.const 0x100)"), OK_RESPONSE, WICAS_VM_INSTANTIATE, GAS_SMALL,
                WICAS_VM_ERR_INSTANTIATE, "instantiation failed");
}

static void deep_recursion(void **state) {
    (void)state;
    expect_call(IMPORTS_DB, "2",
                "(func $rec (param i32) (result i32) (i32.add (call $rec (i32.add (local.get 0) (i32.const "
                "1))) (i32.const 1)))\n" INST("(call $db_write (i32.const 0x200) (i32.const 0x210)) (drop "
                                              "(call $rec (i32.const 0))) (i32.const 0x100)"),
                OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_TRAP, "stack");
}

static void huge_allocate(void **state) {
    (void)state;
    /* allocate that ignores the size: returns a Region too small for the message */
    char funcs[] = INST("(i32.const 0x100)");
    char *wat = wat_module("", "2", funcs, OK_RESPONSE, strlen(OK_RESPONSE));
    /* replace the skeleton allocate's body by "return the 1-byte key Region" */
    char *a = strstr(wat, "(local.set $r (global.get $heap))");
    assert_non_null(a);
    char repl[64];
    snprintf(repl, sizeof repl, "%-*s", (int)strlen("(local.set $r (global.get $heap))"),
             "(return (i32.const 0x200))");
    memcpy(a, repl, strlen(repl));
    uint8_t sum[32], before[32], after[32];
    assert_int_equal(store_wat(wat, sum, NULL, 0), WICAS_VM_OK);
    free(wat);
    wicas_vm_memstore_digest(ms, before);
    wicas_vm_result r;
    assert_int_equal(run(sum, WICAS_VM_INSTANTIATE, TEST_GAS, &r), WICAS_VM_ERR_REGION);
    assert_non_null(strstr(r.error, "capacity"));
    wicas_vm_result_free(&r);
    wicas_vm_memstore_digest(ms, after);
    assert_memory_equal(before, after, 32);

    /* the host asks for a big Region (a 20 MiB message): allocate grows memory past the limit and traps */
    char *wat2 = wat_module("", "2", INST("(i32.const 0x100)"), OK_RESPONSE, strlen(OK_RESPONSE));
    assert_int_equal(store_wat(wat2, sum, NULL, 0), WICAS_VM_OK);
    free(wat2);
    size_t big = 40u << 20;
    uint8_t *msg = malloc(big);
    memset(msg, ' ', big);
    static const char env[] = "{}";
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = "{}",
                              .msg = msg,
                              .msg_len = big,
                              .storage = &st,
                              .gas_limit = TEST_GAS};
    assert_int_equal(wicas_vm_call(vm, sum, WICAS_VM_INSTANTIATE, &p, &r), WICAS_VM_ERR_TRAP);
    assert_non_null(strstr(r.error, "allocate"));
    wicas_vm_result_free(&r);
    free(msg);
}

static void bad_regions(void **state) {
    (void)state;
    /* result pointer outside memory */
    expect_call("", "2", INST("(i32.const 0x7ffffff0)"), OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_REGION, "outside memory");
    /* result pointer 0 */
    expect_call("", "2", INST("(i32.const 0)"), OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_REGION, "Region");
    /* region whose data runs past the end of memory */
    expect_call("", "2",
                INST("(i32.store (i32.const 0x500) (i32.const 0x1fff0)) (i32.store (i32.const 0x504) "
                     "(i32.const 0x100))"
                     "(i32.store (i32.const 0x508) (i32.const 0x10)) (i32.const 0x500)"),
                OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_REGION, "past the end");
    /* length > capacity */
    expect_call(
        "", "2",
        INST("(i32.store (i32.const 0x500) (i32.const 0x600)) (i32.store (i32.const 0x504) (i32.const 4))"
             "(i32.store (i32.const 0x508) (i32.const 5)) (i32.const 0x500)"),
        OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_REGION, "exceeds capacity");
    /* offset + capacity overflowing u32 */
    expect_call("", "2",
                INST("(i32.store (i32.const 0x500) (i32.const 0xfffffff0)) (i32.store (i32.const 0x504) "
                     "(i32.const 0x100))"
                     "(i32.store (i32.const 0x508) (i32.const 0)) (i32.const 0x500)"),
                OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_REGION, "Region");
    /* data overlapping its own descriptor */
    expect_call(
        "", "2",
        INST("(i32.store (i32.const 0x500) (i32.const 0x4f8)) (i32.store (i32.const 0x504) (i32.const 0x40))"
             "(i32.store (i32.const 0x508) (i32.const 0x10)) (i32.const 0x500)"),
        OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_REGION, "overlaps");
    /* a host call (db_write) given a bad key Region, after a good write */
    expect_call(
        IMPORTS_DB, "2",
        INST("(call $db_write (i32.const 0x200) (i32.const 0x210)) (call $db_write (i32.const 0xffff0) "
             "(i32.const 0x210)) (i32.const 0x100)"),
        OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_REGION, "db_write key");
    /* a key longer than the 64 KiB limit */
    expect_call(IMPORTS_DB, "4",
                INST("(i32.store (i32.const 0x500) (i32.const 0x1000)) (i32.store (i32.const 0x504) "
                     "(i32.const 0x20000))"
                     "(i32.store (i32.const 0x508) (i32.const 0x10001)) (drop (call $db_read (i32.const "
                     "0x500))) (i32.const 0x100)"),
                OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_REGION, "limit");
}

static void bad_results(void **state) {
    (void)state;
    const char *f = INST("(call $db_write (i32.const 0x200) (i32.const 0x210)) (i32.const 0x100)");
    expect_call(IMPORTS_DB, "2", f, "{\"ok\":\"\xff\xfe\"}", WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_RESULT, "UTF-8");
    expect_call(IMPORTS_DB, "2", f, "{\"ok\":\"\xed\xa0\x80\"}", WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_RESULT, "UTF-8");
    expect_call(IMPORTS_DB, "2", f, "{\"ok\":", WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_RESULT, "JSON");
    expect_call(IMPORTS_DB, "2", f, "{\"ok\":{}} trailing", WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_RESULT, "JSON");
    expect_call(IMPORTS_DB, "2", f, "[1,2]", WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_RESULT,
                "ContractResult");
    expect_call(IMPORTS_DB, "2", f, "{\"ok\":{},\"error\":\"x\"}", WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_RESULT, "ContractResult");
    expect_call(IMPORTS_DB, "2", f, "{\"ok\":5}", WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_RESULT,
                "Response");
    expect_call(IMPORTS_DB, "2", f, "", WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_ERR_RESULT, "JSON");
    /* a contract error after a write: the write is discarded */
    expect_call(IMPORTS_DB, "2", f, "{\"error\":\"boom\"}", WICAS_VM_INSTANTIATE, TEST_GAS,
                WICAS_VM_ERR_CONTRACT, "boom");
    /* and the same module returning ok does write */
    uint8_t before[32], after[32];
    wicas_vm_memstore_digest(ms, before);
    expect_call(IMPORTS_DB, "2", f, OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_OK, NULL);
    wicas_vm_memstore_digest(ms, after);
    assert_memory_not_equal(before, after, 32);
    /* restore the original state for the other tests */
    wicas_vm_memstore_set(ms, (const uint8_t *)"k", 1, (const uint8_t *)"original", 8);
}

static void traps_in_every_entry(void **state) {
    (void)state;
    const char *funcs =
        "(func (export \"instantiate\") (param i32 i32 i32) (result i32) (call $db_write (i32.const 0x200) "
        "(i32.const 0x210)) unreachable)\n"
        "(func (export \"execute\") (param i32 i32 i32) (result i32) (call $db_write (i32.const 0x200) "
        "(i32.const 0x210)) unreachable)\n"
        "(func (export \"query\") (param i32 i32) (result i32) (i32.div_u (i32.const 1) (i32.const 0)))\n"
        "(func (export \"migrate\") (param i32 i32) (result i32) (call $db_write (i32.const 0x200) "
        "(i32.const 0x210)) (i32.load (i32.const 0x7fffffff)))\n"
        "(func (export \"sudo\") (param i32 i32) (result i32) (call $db_write (i32.const 0x200) (i32.const "
        "0x210)) (call_indirect (result i32) (i32.const 5)))\n"
        "(func (export \"reply\") (param i32 i32) (result i32) (call $db_write (i32.const 0x200) (i32.const "
        "0x210)) (i32.trunc_f32_s (f32.const nan)))\n"
        "(table 10 funcref)\n";
    const char *needles[6] = {"unreachable",   "unreachable",   "divide by zero",
                              "out of bounds", "uninitialized", "invalid conversion"};
    for (int e = 0; e <= WICAS_VM_REPLY; e++)
        expect_call(IMPORTS_DB, "2", funcs, OK_RESPONSE, (wicas_vm_entry)e, TEST_GAS, WICAS_VM_ERR_TRAP,
                    needles[e]);
}

static void every_entry_ok(void **state) {
    (void)state;
    const char *funcs = "(func (export \"instantiate\") (param i32 i32 i32) (result i32) (call $db_write "
                        "(i32.const 0x200) (i32.const 0x210)) (i32.const 0x100))\n"
                        "(func (export \"execute\") (param i32 i32 i32) (result i32) (i32.const 0x100))\n"
                        "(func (export \"migrate\") (param i32 i32) (result i32) (i32.const 0x100))\n"
                        "(func (export \"sudo\") (param i32 i32) (result i32) (i32.const 0x100))\n"
                        "(func (export \"reply\") (param i32 i32) (result i32) (i32.const 0x100))\n";
    for (int e = 0; e <= WICAS_VM_REPLY; e++)
        if (e != WICAS_VM_QUERY)
            expect_call(IMPORTS_DB, "2", funcs, OK_RESPONSE, (wicas_vm_entry)e, TEST_GAS, WICAS_VM_OK, NULL);
    expect_call(
        "", "2",
        INST("(i32.const 0x100)") "(func (export \"query\") (param i32 i32) (result i32) (i32.const 0x100))",
        "{\"ok\":\"e30=\"}", WICAS_VM_QUERY, TEST_GAS, WICAS_VM_OK, NULL);
    /* a query result must be base64 Binary */
    expect_call(
        "", "2",
        INST("(i32.const 0x100)") "(func (export \"query\") (param i32 i32) (result i32) (i32.const 0x100))",
        "{\"ok\":\"not base64!\"}", WICAS_VM_QUERY, TEST_GAS, WICAS_VM_ERR_RESULT, "base64");
    wicas_vm_memstore_set(ms, (const uint8_t *)"k", 1, (const uint8_t *)"original", 8);
}

/* What recent rustc + cosmwasm-std emit must be accepted and run: bulk-memory (memory.fill/copy,
 * passive data + memory.init, data count section), sign-extension ops, multi-value, a funcref table
 * with an element segment, mutable globals exported as __data_end/__heap_base, requires_* capability
 * markers and ibc_* entry points, f64 arithmetic. */
static void rust_toolchain_features(void **state) {
    (void)state;
    const char *funcs =
        "(global $de (export \"__data_end\") i32 (i32.const 0x8000))\n"
        "(global $hb (export \"__heap_base\") i32 (i32.const 0x8000))\n"
        "(func (export \"requires_iterator\"))\n"
        "(func (export \"requires_cosmwasm_2_0\"))\n"
        "(func (export \"ibc_channel_open\") (param i32 i32) (result i32) (i32.const 0x100))\n"
        "(table 2 2 funcref) (elem (i32.const 0) $two $one)\n"
        "(type $t (func (result i32 i32)))\n"
        "(func $two (result i32 i32) (i32.const 2) (i32.const 40))\n"
        "(func $one (result i32 i32) (i32.const 1) (i32.const 0))\n"
        "(data $p \"passive!\")\n"
        "(func (export \"instantiate\") (param i32 i32 i32) (result i32)\n"
        "  (local i32)\n"
        "  (memory.fill (i32.const 0x5000) (i32.const 0x41) (i32.const 16))\n"
        "  (memory.copy (i32.const 0x5100) (i32.const 0x5000) (i32.const 16))\n"
        "  (memory.init $p (i32.const 0x5200) (i32.const 0) (i32.const 8))\n"
        "  (data.drop $p)\n"
        "  (call_indirect (type $t) (i32.const 0)) (i32.add) (local.set 3)\n"
        "  (if (i32.ne (local.get 3) (i32.const 42)) (then unreachable))\n"
        "  (if (i32.ne (i32.extend8_s (i32.const 0xff)) (i32.const -1)) (then unreachable))\n"
        "  (if (i64.ne (i64.extend32_s (i64.const 0x80000000)) (i64.const -2147483648)) (then unreachable))\n"
        "  (if (f64.ne (f64.mul (f64.const 1.5) (f64.const 4)) (f64.const 6)) (then unreachable))\n"
        "  (if (i32.ne (i32.load8_u (i32.const 0x510f)) (i32.const 0x41)) (then unreachable))\n"
        "  (if (i32.ne (i32.load8_u (i32.const 0x5207)) (i32.const 0x21)) (then unreachable))\n"
        "  (call $db_write (i32.const 0x200) (i32.const 0x210))\n"
        "  (i32.const 0x100))\n";
    expect_call(IMPORTS_DB, "17", funcs, OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_OK, NULL);
    wicas_vm_memstore_set(ms, (const uint8_t *)"k", 1, (const uint8_t *)"original", 8);
}

static void write_in_query_refused(void **state) {
    (void)state;
    const char *funcs =
        INST("(i32.const 0x100)") "(func (export \"query\") (param i32 i32) (result i32) (call $db_write "
                                  "(i32.const 0x200) (i32.const 0x210)) (i32.const 0x100))";
    expect_call(IMPORTS_DB, "2", funcs, "{\"ok\":\"e30=\"}", WICAS_VM_QUERY, TEST_GAS, WICAS_VM_ERR_TRAP,
                "not allowed in a query");
}

static void abort_is_clean(void **state) {
    (void)state;
    expect_call("(import \"env\" \"abort\" (func $abort (param i32)))", "2",
                INST("(call $abort (i32.const 0x200)) (i32.const 0x100)"), OK_RESPONSE, WICAS_VM_INSTANTIATE,
                TEST_GAS, WICAS_VM_ERR_TRAP, "Aborted: k");
}

static void expect_rejected(const char *wat, wicas_vm_status want, const char *needle) {
    uint8_t sum[32];
    char err[256] = "";
    wicas_vm_status s = store_wat(wat, sum, err, sizeof err);
    if (s != want || !strstr(err, needle))
        fprintf(stderr, "store_code: %d '%s' (want %d '%s')\n", s, err, want, needle);
    assert_int_equal(s, want);
    assert_non_null(strstr(err, needle));
    assert_false(wicas_vm_has_code(vm, sum));
}

static void static_validation(void **state) {
    (void)state;
    char *w;
    w = wat_module(
        "(import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i32 i32 i32 i32) (result i32)))", "2",
        INST("(i32.const 0x100)"), OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "forbidden import wasi_snapshot_preview1.fd_write");
    free(w);
    w = wat_module("(import \"env\" \"system\" (func (param i32)))", "2", INST("(i32.const 0x100)"),
                   OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "forbidden import env.system");
    free(w);
    w = wat_module("(import \"env\" \"db_read\" (func (param i64) (result i32)))", "2",
                   INST("(i32.const 0x100)"), OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "wrong signature");
    free(w);
    w = wat_module("(import \"env\" \"mem\" (memory 1))", "2", INST("(i32.const 0x100)"), OK_RESPONSE,
                   strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "not a function");
    free(w);
    /* instantiate is optional at upload (as in cosmwasm-vm); calling it is refused */
    w = wat_module("", "2", "(func (export \"execute\") (param i32 i32 i32) (result i32) (i32.const 0x100))",
                   OK_RESPONSE, strlen(OK_RESPONSE));
    {
        uint8_t sum[32];
        char err[256] = "";
        assert_int_equal(store_wat(w, sum, err, sizeof err), WICAS_VM_OK);
        wicas_vm_result r;
        assert_int_equal(run(sum, WICAS_VM_INSTANTIATE, GAS_SMALL, &r), WICAS_VM_ERR_NO_ENTRY);
        assert_non_null(strstr(r.error, "does not export instantiate"));
        wicas_vm_result_free(&r);
        assert_int_equal(run(sum, WICAS_VM_EXECUTE, GAS_SMALL, &r), WICAS_VM_OK);
        wicas_vm_result_free(&r);
    }
    free(w);
    /* capabilities: requires_<X> must be offered by the chain */
    w = wat_module(
        "", "2",
        INST(
            "(i32.const 0x100)") "(func (export \"requires_staking\"))"
                                 "(func (export \"requires_iterator\")) (func (export \"requires_neutron\"))",
        OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "requires unavailable capabilities: staking, neutron");
    free(w);
    /* migrate takes 2 params, or 3 (MigrateInfo); nothing else */
    w = wat_module("", "2",
                   INST("(i32.const 0x100)") "(func (export \"migrate\") (param i32 i32 i32 i32) (result "
                                             "i32) (i32.const 0x100))",
                   OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "export migrate has the wrong type or signature");
    free(w);
    w = wat_module("", "2", INST("(i32.const 0x100)"), OK_RESPONSE, strlen(OK_RESPONSE));
    char *iv = strstr(w, "interface_version_8");
    iv[18] = '7'; /* interface_version_7 */
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "missing required export interface_version_8");
    free(w);
    /* wrong entry signature */
    w = wat_module("", "2", "(func (export \"instantiate\") (param i32 i32) (result i32) (i32.const 0x100))",
                   OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "export instantiate has the wrong type");
    free(w);
    /* no exported memory */
    expect_rejected("(module (memory 1) (func (export \"allocate\") (param i32) (result i32) (i32.const 0))"
                    "(func (export \"deallocate\") (param i32)) (func (export \"interface_version_8\"))"
                    "(func (export \"instantiate\") (param i32 i32 i32) (result i32) (i32.const 0)))",
                    WICAS_VM_ERR_VALIDATION, "missing export \"memory\"");
    /* a start function */
    w = wat_module("", "2", INST("(i32.const 0x100)") "(func $s) (start $s)", OK_RESPONSE,
                   strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "start function");
    free(w);
    /* too many functions */
    size_t cap = 30000 * 16 + 1000;
    char *many = malloc(cap);
    strcpy(many, INST("(i32.const 0x100)"));
    for (int i = 0; i < 20001; i++)
        strcat(many + strlen(many) - 0, "(func)");
    w = wat_module("", "2", many, OK_RESPONSE, strlen(OK_RESPONSE));
    expect_rejected(w, WICAS_VM_ERR_VALIDATION, "functions (limit");
    free(w);
    free(many);
    /* other static limits: globals, tables, table size, exports, parameters */
    {
        char *g = malloc(300 * 48 + 256);
        strcpy(g, INST("(i32.const 0x100)"));
        for (int i = 0; i < 257; i++)
            sprintf(g + strlen(g), "(global i32 (i32.const %d))", i);
        w = wat_module("", "2", g, OK_RESPONSE, strlen(OK_RESPONSE));
        expect_rejected(w, WICAS_VM_ERR_VALIDATION, "globals (limit 256)");
        free(w);
        strcpy(g, INST("(i32.const 0x100)"));
        for (int i = 0; i < 101; i++)
            sprintf(g + strlen(g), "(func (export \"x%d\"))", i);
        w = wat_module("", "2", g, OK_RESPONSE, strlen(OK_RESPONSE));
        expect_rejected(w, WICAS_VM_ERR_VALIDATION, "exports (limit 100)");
        free(w);
        strcpy(g, INST("(i32.const 0x100)") "(func (param");
        for (int i = 0; i < 101; i++)
            strcat(g, " i32");
        strcat(g, "))");
        w = wat_module("", "2", g, OK_RESPONSE, strlen(OK_RESPONSE));
        expect_rejected(w, WICAS_VM_ERR_VALIDATION, "101 parameters");
        free(w);
        free(g);
        w = wat_module("", "2", INST("(i32.const 0x100)") "(table 1 funcref) (table 1 funcref)", OK_RESPONSE,
                       strlen(OK_RESPONSE));
        expect_rejected(w, WICAS_VM_ERR_VALIDATION, "tables (limit 1)");
        free(w);
        w = wat_module("", "2", INST("(i32.const 0x100)") "(table 3000 funcref)", OK_RESPONSE,
                       strlen(OK_RESPONSE));
        expect_rejected(w, WICAS_VM_ERR_VALIDATION, "initial elements");
        free(w);
    }
    /* garbage and truncated modules */
    uint8_t sum[32];
    char err[256];
    assert_int_equal(
        wicas_vm_store_code(vm, (const uint8_t *)"\0asm\1\0\0\0\1\xff", 10, sum, err, sizeof err),
        WICAS_VM_ERR_VALIDATION);
    assert_int_equal(wicas_vm_store_code(vm, (const uint8_t *)"hello", 5, sum, err, sizeof err),
                     WICAS_VM_ERR_VALIDATION);
    assert_int_equal(wicas_vm_store_code(vm, NULL, 0, sum, err, sizeof err), WICAS_VM_ERR_VALIDATION);
    /* over the size limit */
    uint8_t *huge = calloc(1, 900u << 10);
    assert_int_equal(wicas_vm_store_code(vm, huge, 900u << 10, sum, err, sizeof err),
                     WICAS_VM_ERR_VALIDATION);
    assert_non_null(strstr(err, "size"));
    free(huge);
    /* SIMD is disabled: a module using v128 fails to compile */
    w = wat_module("", "2",
                   INST("(drop (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))) (i32.const 0x100)"),
                   OK_RESPONSE, strlen(OK_RESPONSE));
    size_t wl = 0;
    uint8_t *wasm = wat2wasm(w, &wl);
    assert_int_equal(wicas_vm_store_code(vm, wasm, wl, sum, err, sizeof err), WICAS_VM_ERR_COMPILE);
    free(wasm);
    free(w);
}

static void floats_nan_canonical(void **state) {
    (void)state;
    /* 0/0 produces a NaN whose bits are canonicalised: the contract stores them and we read them back */
    const char *f = INST("(f32.store (i32.const 0x301) (f32.div (f32.const 0) (f32.const 0)))"
                         "(i32.store (i32.const 0x218) (i32.const 4))"
                         "(i32.store (i32.const 0x214) (i32.const 4))"
                         "(call $db_write (i32.const 0x200) (i32.const 0x210)) (i32.const 0x100)");
    expect_call(IMPORTS_DB, "2", f, OK_RESPONSE, WICAS_VM_INSTANTIATE, TEST_GAS, WICAS_VM_OK, NULL);
    int found = 0;
    uint8_t *v = NULL;
    size_t vl = 0;
    st.get(st.ctx, (const uint8_t *)"k", 1, &found, &v, &vl);
    assert_true(found);
    assert_int_equal(vl, 4);
    uint32_t bits = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
    assert_int_equal(bits, 0x7fc00000u); /* the canonical quiet NaN */
    free(v);
    wicas_vm_memstore_set(ms, (const uint8_t *)"k", 1, (const uint8_t *)"original", 8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(infinite_loop_out_of_gas),
        cmocka_unit_test(memory_growth_limited),
        cmocka_unit_test(deep_recursion),
        cmocka_unit_test(huge_allocate),
        cmocka_unit_test(bad_regions),
        cmocka_unit_test(bad_results),
        cmocka_unit_test(traps_in_every_entry),
        cmocka_unit_test(every_entry_ok),
        cmocka_unit_test(rust_toolchain_features),
        cmocka_unit_test(write_in_query_refused),
        cmocka_unit_test(abort_is_clean),
        cmocka_unit_test(static_validation),
        cmocka_unit_test(floats_nan_canonical),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
