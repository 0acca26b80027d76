/*
 * test_vm_counter.c — the `counter` contract (C SDK) end to end through the
 * VM: store, instantiate, execute, query, owner-only reset, contract errors
 * leaving the state unchanged; gas identical on repeated runs and with a cold
 * or warm disk cache; a corrupt cache entry detected, removed and rebuilt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "vm/vm_test_util.h"

static const char *OWNER = "wicas1owner";
static const char *OTHER = "wicas1other";

typedef struct {
    wicas_vm *vm;
    wicas_vm_memstore *ms;
    wicas_vm_storage st;
    uint8_t sum[32];
} fixture;

static wicas_vm_status call(fixture *f, wicas_vm_entry e, const char *sender, const char *msg,
                            wicas_vm_result *r) {
    char *env = wicas_vm_env_json(12345, 1700000000000000000ULL, "wicas-test", 0, "wicas1contract");
    char *info = sender ? wicas_vm_info_json(sender, NULL, 0) : NULL;
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)msg,
                              .msg_len = strlen(msg),
                              .storage = &f->st,
                              .gas_limit = TEST_GAS};
    wicas_vm_status s = wicas_vm_call(f->vm, f->sum, e, &p, r);
    free(env);
    free(info);
    return s;
}

static void setup_vm(fixture *f, const char *cache_dir) {
    wicas_vm_config cfg;
    wicas_vm_config_default(&cfg);
    cfg.cache_dir = cache_dir;
    char err[256];
    f->vm = wicas_vm_new(&cfg, err, sizeof err);
    assert_non_null(f->vm);
    size_t len;
    uint8_t *wasm = load_contract("counter", &len);
    assert_non_null(wasm);
    assert_int_equal(wicas_vm_store_code(f->vm, wasm, len, f->sum, err, sizeof err), WICAS_VM_OK);
    uint8_t expect[32];
    wicas_sha256(wasm, len, expect);
    assert_memory_equal(expect, f->sum, 32);
    free(wasm);
}

static void counter_end_to_end(void **state) {
    (void)state;
    fixture f = {0};
    setup_vm(&f, NULL);
    f.ms = wicas_vm_memstore_new();
    f.st = wicas_vm_memstore_storage(f.ms);
    wicas_vm_result r;

    assert_int_equal(call(&f, WICAS_VM_INSTANTIATE, OWNER, "{\"count\":7}", &r), WICAS_VM_OK);
    wicas_vm_response resp;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_attributes, 3);
    assert_string_equal(resp.attributes[0].key, "method");
    assert_string_equal(resp.attributes[1].value, OWNER);
    assert_string_equal(resp.attributes[2].value, "7");
    assert_true(r.gas_used > 0 && r.gas_used % WICAS_VM_GAS_PER_FUEL == 0);
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);

    assert_int_equal(call(&f, WICAS_VM_QUERY, NULL, "{\"get_count\":{}}", &r), WICAS_VM_OK);
    assert_int_equal(r.query_len, 11);
    assert_memory_equal(r.query_data, "{\"count\":7}", 11);
    wicas_vm_result_free(&r);

    for (int i = 0; i < 3; i++) {
        assert_int_equal(call(&f, WICAS_VM_EXECUTE, OTHER, "{\"increment\":{}}", &r), WICAS_VM_OK);
        assert_int_equal(r.storage_writes, 1);
        wicas_vm_result_free(&r);
    }
    assert_int_equal(call(&f, WICAS_VM_QUERY, NULL, "{\"get_count\":{}}", &r), WICAS_VM_OK);
    assert_memory_equal(r.query_data, "{\"count\":10}", 12);
    wicas_vm_result_free(&r);

    /* reset by a stranger: contract error, state unchanged */
    uint8_t before[32], after[32];
    wicas_vm_memstore_digest(f.ms, before);
    assert_int_equal(call(&f, WICAS_VM_EXECUTE, OTHER, "{\"reset\":{\"count\":0}}", &r),
                     WICAS_VM_ERR_CONTRACT);
    assert_string_equal(r.error, "Unauthorized");
    wicas_vm_result_free(&r);
    wicas_vm_memstore_digest(f.ms, after);
    assert_memory_equal(before, after, 32);

    /* reset by the owner */
    assert_int_equal(call(&f, WICAS_VM_EXECUTE, OWNER, "{\"reset\":{\"count\":-5}}", &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    assert_int_equal(call(&f, WICAS_VM_QUERY, NULL, "{\"get_count\":{}}", &r), WICAS_VM_OK);
    assert_memory_equal(r.query_data, "{\"count\":-5}", 12);
    wicas_vm_result_free(&r);

    /* bad messages: clean contract errors */
    assert_int_equal(call(&f, WICAS_VM_EXECUTE, OWNER, "{\"nope\":{}}", &r), WICAS_VM_ERR_CONTRACT);
    wicas_vm_result_free(&r);
    assert_int_equal(call(&f, WICAS_VM_EXECUTE, OWNER, "not json", &r), WICAS_VM_ERR_CONTRACT);
    wicas_vm_result_free(&r);
    /* no migrate export */
    assert_int_equal(call(&f, WICAS_VM_MIGRATE, NULL, "{}", &r), WICAS_VM_ERR_NO_ENTRY);
    wicas_vm_result_free(&r);
    /* unknown checksum */
    fixture g = f;
    g.sum[0] ^= 1;
    assert_int_equal(call(&g, WICAS_VM_QUERY, NULL, "{}", &r), WICAS_VM_ERR_NO_CODE);
    wicas_vm_result_free(&r);

    wicas_vm_memstore_free(f.ms);
    wicas_vm_free(f.vm);
}

/* Runs instantiate + 2 increments + query on a fresh memstore; returns gas of each. */
static void gas_trace(fixture *f, uint64_t g[4]) {
    f->ms = wicas_vm_memstore_new();
    f->st = wicas_vm_memstore_storage(f->ms);
    wicas_vm_result r;
    assert_int_equal(call(f, WICAS_VM_INSTANTIATE, OWNER, "{\"count\":1}", &r), WICAS_VM_OK);
    g[0] = r.gas_used;
    wicas_vm_result_free(&r);
    assert_int_equal(call(f, WICAS_VM_EXECUTE, OWNER, "{\"increment\":{}}", &r), WICAS_VM_OK);
    g[1] = r.gas_used;
    wicas_vm_result_free(&r);
    assert_int_equal(call(f, WICAS_VM_EXECUTE, OWNER, "{\"reset\":{\"count\":99}}", &r), WICAS_VM_OK);
    g[2] = r.gas_used;
    wicas_vm_result_free(&r);
    assert_int_equal(call(f, WICAS_VM_QUERY, NULL, "{\"get_count\":{}}", &r), WICAS_VM_OK);
    g[3] = r.gas_used;
    wicas_vm_result_free(&r);
    wicas_vm_memstore_free(f->ms);
}

static char cache_root[256];

static void rm_rf(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void gas_deterministic_cold_warm(void **state) {
    (void)state;
    snprintf(cache_root, sizeof cache_root, "/tmp/wicas-vm-cache-XXXXXX");
    assert_non_null(mkdtemp(cache_root));

    fixture a = {0}, b = {0}, c = {0};
    uint64_t g1[4], g2[4], g3[4], g4[4];
    setup_vm(&a, cache_root); /* cold: compiles, writes the cache */
    wicas_vm_cache_stats st;
    wicas_vm_get_cache_stats(a.vm, &st);
    assert_int_equal(st.compiled, 1);
    assert_int_equal(st.disk_hits, 0);
    gas_trace(&a, g1);
    gas_trace(&a, g2); /* repeated, warm in memory */
    assert_memory_equal(g1, g2, sizeof g1);

    setup_vm(&b, cache_root); /* warm disk cache: no compile */
    wicas_vm_get_cache_stats(b.vm, &st);
    assert_int_equal(st.compiled, 0);
    assert_int_equal(st.disk_hits, 1);
    gas_trace(&b, g3);
    assert_memory_equal(g1, g3, sizeof g1);

    /* a VM without any disk cache gives the same gas too */
    setup_vm(&c, NULL);
    gas_trace(&c, g4);
    assert_memory_equal(g1, g4, sizeof g1);
    printf("counter gas: instantiate %llu, increment %llu, reset %llu, query %llu\n",
           (unsigned long long)g1[0], (unsigned long long)g1[1], (unsigned long long)g1[2],
           (unsigned long long)g1[3]);
    wicas_vm_free(a.vm);
    wicas_vm_free(b.vm);
    wicas_vm_free(c.vm);
}

/* Finds the single .wcm file under cache_root. */
static void find_entry(char *out, size_t cap) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.wcm' | head -1", cache_root);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)cap, p));
    pclose(p);
    out[strcspn(out, "\n")] = 0;
}

static void corrupt_cache_rebuilt(void **state) {
    (void)state;
    char path[1024];
    find_entry(path, sizeof path);
    size_t len;
    uint8_t *buf = wicas_read_file(path, 1u << 30, &len);
    assert_non_null(buf);
    const size_t where[3] = {len / 2, 5, len - 1}; /* payload, magic, last byte */
    for (int k = 0; k < 3; k++) {
        buf[where[k]] ^= 0x5a;
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        fclose(f);
        buf[where[k]] ^= 0x5a;

        /* call without the wasm: the corrupt entry is refused (no code), and removed */
        fixture x = {0};
        wicas_vm_config cfg;
        wicas_vm_config_default(&cfg);
        cfg.cache_dir = cache_root;
        x.vm = wicas_vm_new(&cfg, NULL, 0);
        size_t wl;
        uint8_t *wasm = load_contract("counter", &wl);
        wicas_sha256(wasm, wl, x.sum);
        x.ms = wicas_vm_memstore_new();
        x.st = wicas_vm_memstore_storage(x.ms);
        wicas_vm_result r;
        if (k == 0) {
            assert_int_equal(call(&x, WICAS_VM_QUERY, NULL, "{\"get_count\":{}}", &r), WICAS_VM_ERR_NO_CODE);
            wicas_vm_result_free(&r);
        } else {
            assert_false(wicas_vm_has_code(x.vm, x.sum)); /* a corrupt entry is not "code available" */
        }
        wicas_vm_cache_stats st;
        wicas_vm_get_cache_stats(x.vm, &st);
        assert_int_equal(st.corrupt_entries, 1);
        assert_int_equal(access(path, F_OK), -1);
        /* store_code rebuilds it */
        assert_int_equal(wicas_vm_store_code(x.vm, wasm, wl, NULL, NULL, 0), WICAS_VM_OK);
        wicas_vm_get_cache_stats(x.vm, &st);
        assert_int_equal(st.compiled, 1);
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(call(&x, WICAS_VM_INSTANTIATE, OWNER, "{\"count\":3}", &r), WICAS_VM_OK);
        wicas_vm_result_free(&r);
        free(wasm);
        wicas_vm_memstore_free(x.ms);
        wicas_vm_free(x.vm);
    }
    /* a truncated file too */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(buf, 1, 50, f);
    fclose(f);
    free(buf);
    fixture y = {0};
    setup_vm(&y, cache_root);
    wicas_vm_cache_stats st;
    wicas_vm_get_cache_stats(y.vm, &st);
    assert_int_equal(st.corrupt_entries, 1);
    assert_int_equal(st.compiled, 1);
    wicas_vm_free(y.vm);
    rm_rf(cache_root);
}

/* LRU of capacity 1: two codes alternate; without a disk cache the evicted one is gone (NO_CODE, the
 * embedder stores it again); with a disk cache it is reloaded transparently. The engine fingerprint
 * separates cache directories of differently configured engines. */
static void lru_eviction_and_fingerprint(void **state) {
    (void)state;
    char dir[] = "/tmp/wicas-vm-lru-XXXXXX";
    assert_non_null(mkdtemp(dir));
    size_t l1, l2;
    uint8_t *w1 = load_contract("counter", &l1), *w2 = load_contract("nameservice", &l2);
    assert_non_null(w1);
    assert_non_null(w2);
    for (int with_disk = 0; with_disk < 2; with_disk++) {
        wicas_vm_config cfg;
        wicas_vm_config_default(&cfg);
        cfg.lru_capacity = 1;
        cfg.cache_dir = with_disk ? dir : NULL;
        fixture f = {0};
        f.vm = wicas_vm_new(&cfg, NULL, 0);
        f.ms = wicas_vm_memstore_new();
        f.st = wicas_vm_memstore_storage(f.ms);
        uint8_t s2[32];
        assert_int_equal(wicas_vm_store_code(f.vm, w1, l1, f.sum, NULL, 0), WICAS_VM_OK);
        assert_int_equal(wicas_vm_store_code(f.vm, w2, l2, s2, NULL, 0), WICAS_VM_OK); /* evicts counter */
        assert_true(wicas_vm_has_code(f.vm, s2));
        assert_int_equal(wicas_vm_has_code(f.vm, f.sum), with_disk);
        wicas_vm_result r;
        wicas_vm_status want = with_disk ? WICAS_VM_OK : WICAS_VM_ERR_NO_CODE;
        assert_int_equal(call(&f, WICAS_VM_INSTANTIATE, OWNER, "{\"count\":1}", &r), want);
        wicas_vm_result_free(&r);
        if (!with_disk) {
            assert_int_equal(wicas_vm_store_code(f.vm, w1, l1, NULL, NULL, 0), WICAS_VM_OK);
            assert_int_equal(call(&f, WICAS_VM_INSTANTIATE, OWNER, "{\"count\":1}", &r), WICAS_VM_OK);
            wicas_vm_result_free(&r);
        }
        wicas_vm_memstore_free(f.ms);
        wicas_vm_free(f.vm);
    }
    /* a different engine configuration has a different fingerprint, hence its own cache directory */
    wicas_vm_config c1, c2;
    wicas_vm_config_default(&c1);
    wicas_vm_config_default(&c2);
    c2.memory_limit = 16u << 20;
    wicas_vm *a = wicas_vm_new(&c1, NULL, 0), *b = wicas_vm_new(&c2, NULL, 0),
             *a2 = wicas_vm_new(&c1, NULL, 0);
    uint8_t fa[32], fb[32], fa2[32];
    wicas_vm_engine_fingerprint(a, fa);
    wicas_vm_engine_fingerprint(b, fb);
    wicas_vm_engine_fingerprint(a2, fa2);
    assert_memory_not_equal(fa, fb, 32);
    assert_memory_equal(fa, fa2, 32);
    wicas_vm_free(a);
    wicas_vm_free(b);
    wicas_vm_free(a2);
    free(w1);
    free(w2);
    rm_rf(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_end_to_end),
        cmocka_unit_test(gas_deterministic_cold_warm),
        cmocka_unit_test(corrupt_cache_rebuilt),
        cmocka_unit_test(lru_eviction_and_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
