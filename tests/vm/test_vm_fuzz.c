/*
 * test_vm_fuzz.c — a deterministic mini-fuzz inside ctest: a few hundred
 * seeded random mutations of valid modules (counter, a WAT skeleton) and of
 * valid messages go through store_code and every entry point; the process
 * must survive and every failure must carry a message. Seeded xorshift, so a
 * failure reproduces exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/fuzz_common.h"
#include "vm/vm_test_util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* 1..6 random edits: flip, set, insert, delete, truncate, splice a run. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap) {
    int n = 1 + (int)(next() % 6);
    for (int i = 0; i < n && len > 0; i++) {
        size_t at = next() % len;
        switch (next() % 6) {
        case 0:
            buf[at] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1:
            buf[at] = (uint8_t)next();
            break;
        case 2:
            if (len < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = (uint8_t)next();
                len++;
            }
            break;
        case 3:
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
            break;
        case 4:
            len = at + 1;
            break;
        default: {
            size_t from = next() % len, l = 1 + next() % 16;
            if (from + l <= len && at + l <= len) memmove(buf + at, buf + from, l);
        }
        }
    }
    return len;
}

static wicas_vm *vm, *cvm;
static wicas_vm_memstore *ms;
static uint8_t counter_sum[32];

static int setup(void **state) {
    (void)state;
    vm = wicas_vm_new(NULL, NULL, 0);
    cvm = wicas_vm_new(NULL, NULL, 0);
    ms = wicas_vm_memstore_new();
    size_t len;
    uint8_t *w = load_contract("counter", &len);
    if (!vm || !cvm || !ms || !w || wicas_vm_store_code(cvm, w, len, counter_sum, NULL, 0)) return -1;
    free(w);
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_result r;
    wicas_vm_call_params p = {.env_json = FUZZ_ENV,
                              .info_json = FUZZ_INFO,
                              .msg = (const uint8_t *)"{\"count\":1}",
                              .msg_len = 11,
                              .storage = &st,
                              .gas_limit = TEST_GAS};
    int rc = wicas_vm_call(cvm, counter_sum, WICAS_VM_INSTANTIATE, &p, &r);
    wicas_vm_result_free(&r);
    return rc;
}

static int teardown(void **state) {
    (void)state;
    wicas_vm_memstore_free(ms);
    wicas_vm_free(vm);
    wicas_vm_free(cvm);
    return 0;
}

static void mutated_modules(void **state) {
    (void)state;
    size_t clen;
    uint8_t *counter = load_contract("counter", &clen);
    char *wat = wat_module(
        "(import \"env\" \"db_write\" (func $w (param i32 i32)))", "2",
        "(func (export \"instantiate\") (param i32 i32 i32) (result i32) (call $w (i32.const 0x200) "
        "(i32.const 0x210)) (i32.const 0x100))"
        "(func (export \"execute\") (param i32 i32 i32) (result i32) (loop $l (br $l)) (i32.const 0x100))",
        OK_RESPONSE, strlen(OK_RESPONSE));
    size_t slen = 0;
    uint8_t *skel = wat2wasm(wat, &slen);
    free(wat);
    assert_non_null(counter);
    assert_non_null(skel);
    size_t cap = clen + 64;
    uint8_t *buf = malloc(cap + 1);
    int accepted = 0;
    for (int i = 0; i < 240; i++) {
        const uint8_t *src = i % 3 == 0 ? counter : skel;
        size_t len = i % 3 == 0 ? clen : slen;
        buf[0] = 0; /* module mode */
        memcpy(buf + 1, src, len);
        size_t n = len;
        if (i % 2) {
            n = mutate(buf + 1, len, cap - 1);
        } else { /* one byte in the second half (mostly code and data): more modules survive validation */
            size_t at = len / 2 + next() % (len - len / 2);
            buf[1 + at] ^= (uint8_t)(1u << (next() % 8));
        }
        uint8_t sum[32];
        if (wicas_vm_store_code(vm, buf + 1, n, sum, NULL, 0) == WICAS_VM_OK) accepted++;
        assert_int_equal(fuzz_step(vm, cvm, counter_sum, ms, buf, n + 1), 0);
    }
    printf("mutated modules: %d of 240 accepted by validation and run\n", accepted);
    free(buf);
    free(counter);
    free(skel);
}

static void mutated_messages(void **state) {
    (void)state;
    static const char *seeds[] = {"{\"increment\":{}}", "{\"reset\":{\"count\":5}}", "{\"get_count\":{}}",
                                  "{\"reset\":{\"count\":\"\\u00e9\\ud83d\\ude00\"}}",
                                  "[1,2,{\"a\":[null,true,false]}]"};
    uint8_t buf[512];
    for (int i = 0; i < 400; i++) {
        const char *s = seeds[i % 5];
        size_t len = strlen(s);
        buf[0] = 1; /* message mode */
        memcpy(buf + 1, s, len);
        size_t n = i % 7 == 0 ? 0 : mutate(buf + 1, len, sizeof buf - 1);
        if (i % 11 == 0) {
            n = next() % 200;
            for (size_t k = 0; k < n; k++)
                buf[1 + k] = (uint8_t)next();
        }
        assert_int_equal(fuzz_step(vm, cvm, counter_sum, ms, buf, n + 1), 0);
    }
    /* the contract is still healthy */
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_result r;
    wicas_vm_call_params p = {.env_json = FUZZ_ENV,
                              .msg = (const uint8_t *)"{\"get_count\":{}}",
                              .msg_len = 16,
                              .storage = &st,
                              .gas_limit = TEST_GAS};
    wicas_vm_status s = wicas_vm_call(cvm, counter_sum, WICAS_VM_QUERY, &p, &r);
    if (s) fprintf(stderr, "final query: %s\n", r.error);
    assert_int_equal(s, WICAS_VM_OK);
    wicas_vm_result_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutated_modules),
        cmocka_unit_test(mutated_messages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
