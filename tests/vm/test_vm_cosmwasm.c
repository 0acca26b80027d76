/*
 * test_vm_cosmwasm.c — contracts that others compiled from Rust run unchanged.
 *
 * The files are the testdata/ contracts of the cosmwasm-vm crate on crates.io
 * (built by the CosmWasm maintainers with cosmwasm-std 2.2 and 1.x), which
 * scripts/setup fetches with cargo into the cache and checks by SHA-256; the
 * test finds them through WICAS_COSMWASM_TESTDATA and FAILS when they are
 * missing (CI runs setup, so a skip would hide a broken fetch).
 *
 * What is exercised is the ABI as those contracts use it: upload validation
 * (their real imports and exports, requires_* capabilities), Env and
 * MessageInfo as serde in cosmwasm-std parses them (cyberpunk mirrors Env
 * back), bank queries through query_chain, nested smart queries (hackatom's
 * recurse), Response with bank messages/attributes/events/data, MigrateInfo
 * for cosmwasm-std 2.2's 3-argument migrate, sudo, panics through abort,
 * out-of-gas, iterators (ibc_reflect), and every wasm float instruction
 * (floaty 2.0) against the host's IEEE-754 arithmetic and wasm's NaN rules.
 * The messages are the ones the contracts' own test suites send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <math.h>
#include <ctype.h>

#include "vm/vm_test_util.h"

static wicas_vm *vm;
static wicas_vm_api *api;
static wicas_vm_memstore *ms;
static wicas_vm_storage st;
static char creator[128], verifier[128], beneficiary[128], contract[128], other[128];
static const uint8_t *cur_sum; /* code answering wasm smart queries */
static char debug_log[4096];

/* ---- files -------------------------------------------------------------------------------- */
static uint8_t *load_cw(const char *name, size_t *len) {
    const char *dir = getenv("WICAS_COSMWASM_TESTDATA");
    if (!dir || !*dir) {
        fprintf(stderr, "WICAS_COSMWASM_TESTDATA is not set (run the test through ctest)\n");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *b = wicas_read_file(path, 4u << 20, len);
    if (!b)
        fprintf(stderr, "cannot read %s: run `scripts/setup cosmwasm` (fetches cosmwasm-vm's testdata)\n",
                path);
    return b;
}

static void store_cw(wicas_vm *v, const char *name, uint8_t sum[32]) {
    size_t len = 0;
    uint8_t *w = load_cw(name, &len);
    assert_non_null(w);
    char err[512] = "";
    wicas_vm_status s = wicas_vm_store_code(v, w, len, sum, err, sizeof err);
    if (s) fprintf(stderr, "store %s: %s\n", name, err);
    assert_int_equal(s, WICAS_VM_OK);
    free(w);
}

/* ---- a small bank for the querier: (address, denom) -> amount ----------------------------- */
static struct { char addr[128], denom[32], amount[40]; } bank[8];
static size_t n_bank;

static void bank_set(const char *addr, const char *denom, const char *amount) {
    for (size_t i = 0; i < n_bank; i++)
        if (!strcmp(bank[i].addr, addr) && !strcmp(bank[i].denom, denom)) {
            snprintf(bank[i].amount, sizeof bank[i].amount, "%s", amount);
            return;
        }
    assert_true(n_bank < 8);
    snprintf(bank[n_bank].addr, sizeof bank[n_bank].addr, "%s", addr);
    snprintf(bank[n_bank].denom, sizeof bank[n_bank].denom, "%s", denom);
    snprintf(bank[n_bank].amount, sizeof bank[n_bank].amount, "%s", amount);
    n_bank++;
}

static char *answer(cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char *r = wicas_vm_query_ok((const uint8_t *)s, strlen(s));
    free(s);
    return r;
}

static wicas_vm_status call_full(const uint8_t sum[32], wicas_vm_entry e, const char *info, const char *msg,
                                 uint64_t gas, wicas_vm_result *r);

static int querier_fn(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp,
                      size_t *resp_len, uint64_t *gas_used) {
    (void)ctx;
    *gas_used = 0;
    cJSON *q = cJSON_ParseWithLength(req, len);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(q, "bank");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(q, "wasm");
    const cJSON *bal = cJSON_GetObjectItemCaseSensitive(b, "balance");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(b, "all_balances");
    const cJSON *smart = cJSON_GetObjectItemCaseSensitive(w, "smart");
    if (bal) {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(bal, "address"));
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(bal, "denom"));
        const char *amt = "0";
        for (size_t i = 0; a && d && i < n_bank; i++)
            if (!strcmp(bank[i].addr, a) && !strcmp(bank[i].denom, d)) amt = bank[i].amount;
        cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "amount");
        cJSON_AddStringToObject(c, "denom", d ? d : "");
        cJSON_AddStringToObject(c, "amount", amt);
        *resp = answer(o);
    } else if (all) {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(all, "address"));
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "amount");
        for (size_t i = 0; a && i < n_bank; i++)
            if (!strcmp(bank[i].addr, a) && strcmp(bank[i].amount, "0")) {
                cJSON *c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "denom", bank[i].denom);
                cJSON_AddStringToObject(c, "amount", bank[i].amount);
                cJSON_AddItemToArray(arr, c);
            }
        *resp = answer(o);
    } else if (smart && cur_sum) {
        const char *m64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(smart, "msg"));
        uint8_t buf[4096];
        long ml = m64 ? wicas_base64_decode(m64, strlen(m64), buf, sizeof buf - 1) : -1;
        if (ml < 0) {
            *resp = wicas_vm_query_error("bad smart query msg");
        } else {
            buf[ml] = 0;
            wicas_vm_result r;
            wicas_vm_status s = call_full(cur_sum, WICAS_VM_QUERY, NULL, (const char *)buf, gas_limit, &r);
            *gas_used = r.gas_used;
            *resp = s == WICAS_VM_OK ? wicas_vm_query_ok(r.query_data, r.query_len)
                                     : wicas_vm_query_error(r.error ? r.error : "query failed");
            wicas_vm_result_free(&r);
        }
    } else {
        *resp = strdup("{\"error\":{\"unsupported_request\":{\"kind\":\"test querier\"}}}");
    }
    cJSON_Delete(q);
    if (!*resp) return -1;
    *resp_len = strlen(*resp);
    return 0;
}

static void debug_fn(void *ctx, const char *msg, size_t len) {
    (void)ctx;
    size_t o = strlen(debug_log);
    snprintf(debug_log + o, sizeof debug_log - o, "%.*s\n", (int)len, msg);
}

/* ---- calls ---------------------------------------------------------------------------------- */
static const char *ENV_FMT =
    "{\"block\":{\"height\":12345,\"time\":\"1571797419879305533\",\"chain_id\":\"wicas-test\"},"
    "\"transaction\":{\"index\":3},\"contract\":{\"address\":\"%s\"}}";

static wicas_vm_status call_full(const uint8_t sum[32], wicas_vm_entry e, const char *info, const char *msg,
                                 uint64_t gas, wicas_vm_result *r) {
    char env[512];
    snprintf(env, sizeof env, ENV_FMT, contract);
    wicas_vm_querier qr = {NULL, querier_fn};
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)msg,
                              .msg_len = strlen(msg),
                              .storage = &st,
                              .querier = &qr,
                              .api = api,
                              .gas_limit = gas,
                              .debug = debug_fn};
    return wicas_vm_call(vm, sum, e, &p, r);
}

/* instantiate/execute as sender with funds (one coin or none) */
static wicas_vm_status call_as(const uint8_t sum[32], wicas_vm_entry e, const char *sender, const char *denom,
                               const char *amount, const char *msg, wicas_vm_result *r) {
    wicas_vm_coin c = {denom, amount};
    char *info = wicas_vm_info_json(sender, &c, denom ? 1 : 0);
    assert_non_null(info);
    wicas_vm_status s = call_full(sum, e, info, msg, TEST_GAS, r);
    if (s != WICAS_VM_OK && r->error) fprintf(stderr, "(call %s: %s)\n", wicas_vm_entry_name(e), r->error);
    free(info);
    return s;
}

/* The decoded query answer, parsed (caller deletes). */
static cJSON *query_json(const uint8_t sum[32], const char *msg) {
    wicas_vm_result r;
    wicas_vm_status s = call_full(sum, WICAS_VM_QUERY, NULL, msg, TEST_GAS, &r);
    if (s) fprintf(stderr, "query %s: %s\n", msg, r.error ? r.error : "");
    assert_int_equal(s, WICAS_VM_OK);
    cJSON *j = cJSON_ParseWithLength((const char *)r.query_data, r.query_len);
    assert_non_null(j);
    wicas_vm_result_free(&r);
    return j;
}

static const char *attr(const wicas_vm_attr *a, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(a[i].key, key)) return a[i].value;
    return NULL;
}

/* Asserts msg_json is {"bank":{"send":{"to_address":to,"amount":[{denom,amount}]}}}. */
static void assert_bank_send(const char *msg_json, const char *to, const char *denom, const char *amount) {
    cJSON *m = cJSON_Parse(msg_json);
    const cJSON *send = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "bank"), "send");
    assert_non_null(send);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(send, "to_address")), to);
    const cJSON *amt = cJSON_GetObjectItemCaseSensitive(send, "amount");
    assert_int_equal(cJSON_GetArraySize(amt), 1);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(amt, 0), "denom")), denom);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(amt, 0), "amount")), amount);
    cJSON_Delete(m);
}

static int setup(void **state) {
    (void)state;
    vm = wicas_vm_new(NULL, NULL, 0);
    api = wicas_vm_api_bech32("wicas");
    if (!vm || !api) return -1;
    uint8_t a[32];
    char err[128];
    char *outs[] = {creator, verifier, beneficiary, other};
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 20; i++)
            a[i] = (uint8_t)(17 * k + i);
        if (api->humanize(api->ctx, a, 20, outs[k], 128, err, sizeof err)) return -1;
    }
    for (int i = 0; i < 32; i++)
        a[i] = (uint8_t)(0xc0 + i);
    if (api->humanize(api->ctx, a, 32, contract, sizeof contract, err, sizeof err)) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    wicas_vm_api_free(api);
    wicas_vm_free(vm);
    return 0;
}

static int fresh(void **state) {
    (void)state;
    wicas_vm_memstore_free(ms);
    ms = wicas_vm_memstore_new();
    st = wicas_vm_memstore_storage(ms);
    n_bank = 0;
    cur_sum = NULL;
    debug_log[0] = 0;
    return ms ? 0 : -1;
}

static int cleanup(void **state) {
    (void)state;
    wicas_vm_memstore_free(ms);
    ms = NULL;
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Upload: every contract passes validation except the one needing a
 * capability WICAS does not offer; the migrate version section is read. */
static void upload_rules(void **state) {
    (void)state;
    uint8_t sum[32];
    store_cw(vm, "hackatom.wasm", sum);
    store_cw(vm, "hackatom_1.3.wasm", sum);
    store_cw(vm, "cyberpunk.wasm", sum);
    store_cw(vm, "floaty.wasm", sum);
    store_cw(vm, "empty.wasm", sum);

    size_t len;
    uint8_t *w = load_cw("ibc_reflect.wasm", &len);
    assert_non_null(w);
    char err[512] = "";
    assert_int_equal(wicas_vm_store_code(vm, w, len, sum, err, sizeof err), WICAS_VM_ERR_VALIDATION);
    assert_non_null(strstr(err, "requires unavailable capabilities: stargate"));
    assert_false(wicas_vm_has_code(vm, sum));
    free(w);

    uint64_t ver = 0;
    w = load_cw("hackatom.wasm", &len);
    assert_int_equal(wicas_vm_code_migrate_version(w, len, &ver), 1);
    assert_int_equal(ver, 420); /* #[migrate_version(420)] in hackatom 2.2 */
    free(w);
    w = load_cw("hackatom_1.3.wasm", &len);
    assert_int_equal(wicas_vm_code_migrate_version(w, len, &ver), 1);
    assert_int_equal(ver, 42);
    free(w);
    /* synthetic modules: a header and one custom section "cw_migrate_version" */
    static const struct {
        const char *payload;
        int rc;
        uint64_t ver;
    } cases[] = {{"7", 1, 7},
                 {"+7", 1, 7},
                 {"18446744073709551615", 1, UINT64_MAX},
                 {"18446744073709551616", 0, 0},
                 {"", 0, 0},
                 {"4a", 0, 0},
                 {"-1", 0, 0},
                 {" 1", 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t m[64] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00};
        size_t pl = strlen(cases[i].payload);
        m[9] = (uint8_t)(1 + 18 + pl);
        m[10] = 18;
        memcpy(m + 11, "cw_migrate_version", 18);
        memcpy(m + 29, cases[i].payload, pl);
        ver = 12345;
        assert_int_equal(wicas_vm_code_migrate_version(m, 29 + pl, &ver), cases[i].rc);
        if (cases[i].rc == 1) assert_true(ver == cases[i].ver);
    }
    w = load_cw("cyberpunk.wasm", &len);
    assert_int_equal(wicas_vm_code_migrate_version(w, len, &ver), 0);
    assert_int_equal(wicas_vm_code_migrate_version(w, 7, &ver), -1);
    assert_int_equal(wicas_vm_code_migrate_version(w, len - 1, &ver), -1); /* a cut last section */
    free(w);
}

/* hackatom built with cosmwasm-std 2.2: instantiate, release, queries,
 * migrate with MigrateInfo, sudo, panics and loops. */
static void hackatom_2(void **state) {
    (void)state;
    uint8_t sum[32];
    store_cw(vm, "hackatom.wasm", sum);
    cur_sum = sum;
    char msg[512];
    wicas_vm_result r;

    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\",\"beneficiary\":\"%s\"}", verifier, beneficiary);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, "earth", "1000", msg, &r), WICAS_VM_OK);
    wicas_vm_response resp;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_string_equal(attr(resp.attributes, resp.n_attributes, "Let the"), "hacking begin");
    assert_int_equal(resp.n_messages, 0);
    wicas_vm_response_free(&resp);
    assert_true(r.storage_writes >= 1);
    wicas_vm_result_free(&r);
    assert_non_null(strstr(debug_log, "here we go"));
    bank_set(contract, "earth", "1000");

    cJSON *j = query_json(sum, "{\"verifier\":{}}");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "verifier")), verifier);
    cJSON_Delete(j);

    /* a nested smart query of itself (query_chain -> wasm smart -> this contract) */
    j = query_json(sum, "{\"recurse\":{\"depth\":3,\"work\":5}}");
    const char *hashed = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hashed"));
    assert_non_null(hashed);
    uint8_t hb[64];
    assert_int_equal(wicas_base64_decode(hashed, strlen(hashed), hb, sizeof hb), 32);
    cJSON_Delete(j);

    /* only the verifier may release; the error is the contract's and state is unchanged */
    uint8_t before[32], after[32];
    wicas_vm_memstore_digest(ms, before);
    assert_int_equal(
        call_as(sum, WICAS_VM_EXECUTE, beneficiary, NULL, NULL, "{\"release\":{\"denom\":\"earth\"}}", &r),
        WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "Unauthorized"));
    wicas_vm_result_free(&r);
    wicas_vm_memstore_digest(ms, after);
    assert_memory_equal(before, after, 32);

    /* release: the balance the bank query reports goes to the beneficiary */
    bank_set(contract, "earth", "1015");
    assert_int_equal(
        call_as(sum, WICAS_VM_EXECUTE, verifier, "earth", "15", "{\"release\":{\"denom\":\"earth\"}}", &r),
        WICAS_VM_OK);
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_messages, 1);
    assert_int_equal(resp.messages[0].reply_on, WICAS_VM_REPLY_NEVER);
    assert_bank_send(resp.messages[0].msg_json, beneficiary, "earth", "1015");
    assert_string_equal(attr(resp.attributes, resp.n_attributes, "action"), "release");
    assert_string_equal(attr(resp.attributes, resp.n_attributes, "destination"), beneficiary);
    assert_int_equal(resp.n_events, 1);
    assert_string_equal(resp.events[0].type, "hackatom");
    assert_string_equal(attr(resp.events[0].attrs, resp.events[0].n_attrs, "action"), "release");
    assert_true(resp.has_data);
    assert_int_equal(resp.data_len, 3);
    assert_memory_equal(resp.data, "\xf0\x0b\xaa", 3);
    uint64_t release_gas = r.gas_used;
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);
    print_message("hackatom 2.2 release: %llu CosmWasm gas\n", (unsigned long long)release_gas);

    /* sudo */
    snprintf(msg, sizeof msg,
             "{\"steal_funds\":{\"recipient\":\"%s\",\"amount\":[{\"denom\":\"earth\",\"amount\":\"7\"}]}}",
             other);
    assert_int_equal(call_full(sum, WICAS_VM_SUDO, NULL, msg, TEST_GAS, &r), WICAS_VM_OK);
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_messages, 1);
    assert_bank_send(resp.messages[0].msg_json, other, "earth", "7");
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);

    /* migrate(env, msg, MigrateInfo): required, and read by the contract */
    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\"}", other);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, NULL, msg, TEST_GAS, &r), WICAS_VM_ERR_ARG);
    wicas_vm_result_free(&r);
    /* hackatom refuses to migrate from a code whose version is not below its own 420 */
    char *mi = wicas_vm_migrate_info_json(creator, true, 421);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, mi, msg, TEST_GAS, &r), WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "Downgrade is not supported"));
    wicas_vm_result_free(&r);
    free(mi);
    mi = wicas_vm_migrate_info_json(creator, true, 420);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, mi, msg, TEST_GAS, &r), WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "Downgrade is not supported"));
    wicas_vm_result_free(&r);
    free(mi);
    mi = wicas_vm_migrate_info_json(creator, true, 419);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, mi, msg, TEST_GAS, &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    free(mi);
    mi = wicas_vm_migrate_info_json(creator, false, 0);
    char want_mi[256];
    snprintf(want_mi, sizeof want_mi, "{\"sender\":\"%s\",\"old_migrate_version\":null}", creator);
    assert_string_equal(mi, want_mi);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, mi, msg, TEST_GAS, &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    free(mi);
    j = query_json(sum, "{\"verifier\":{}}");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "verifier")), other);
    cJSON_Delete(j);

    /* the contract's own checks that bad addresses come back as errors, not traps */
    assert_int_equal(
        call_as(sum, WICAS_VM_EXECUTE, verifier, NULL, NULL, "{\"user_errors_in_api_calls\":{}}", &r),
        WICAS_VM_OK);
    wicas_vm_result_free(&r);
    /* addr_validate: another chain's prefix and a non-normalised (upper case) address are refused */
    snprintf(msg, sizeof msg,
             "{\"verifier\":\"%s\",\"beneficiary\":\"cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu\"}",
             verifier);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, NULL, NULL, msg, &r), WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "addr_validate errored"));
    assert_non_null(strstr(r.error, "prefix"));
    wicas_vm_result_free(&r);
    char up[128];
    snprintf(up, sizeof up, "%s", verifier);
    for (char *q = up; *q; q++)
        *q = (char)toupper((unsigned char)*q);
    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\",\"beneficiary\":\"%s\"}", up, beneficiary);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, NULL, NULL, msg, &r), WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "Address is not normalized"));
    wicas_vm_result_free(&r);

    /* a panic reaches abort() with its message; loops run out of gas; state unchanged */
    wicas_vm_memstore_digest(ms, before);
    assert_int_equal(call_as(sum, WICAS_VM_EXECUTE, verifier, NULL, NULL, "{\"panic\":{}}", &r),
                     WICAS_VM_ERR_TRAP);
    assert_non_null(strstr(r.error, "This page intentionally faulted"));
    wicas_vm_result_free(&r);
    char *info = wicas_vm_info_json(verifier, NULL, 0);
    const uint64_t small = 1500000000000ULL; /* 1e7 fuel */
    assert_int_equal(call_full(sum, WICAS_VM_EXECUTE, info, "{\"cpu_loop\":{}}", small, &r),
                     WICAS_VM_ERR_OUT_OF_GAS);
    assert_int_equal(r.gas_used, small);
    wicas_vm_result_free(&r);
    assert_int_equal(call_full(sum, WICAS_VM_EXECUTE, info, "{\"storage_loop\":{}}", small, &r),
                     WICAS_VM_ERR_OUT_OF_GAS);
    wicas_vm_result_free(&r);
    free(info);
    wicas_vm_memstore_digest(ms, after);
    assert_memory_equal(before, after, 32);
    cur_sum = NULL;
}

/* hackatom built with cosmwasm-std 1.3: release {} with an all_balances
 * query, and the classic 2-argument migrate (MigrateInfo, if given, is not passed). */
static void hackatom_1(void **state) {
    (void)state;
    uint8_t sum[32];
    store_cw(vm, "hackatom_1.3.wasm", sum);
    char msg[512];
    wicas_vm_result r;
    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\",\"beneficiary\":\"%s\"}", verifier, beneficiary);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, "earth", "1000", msg, &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    bank_set(contract, "earth", "1000");
    bank_set(contract, "moon", "3");
    assert_int_equal(call_as(sum, WICAS_VM_EXECUTE, verifier, NULL, NULL, "{\"release\":{}}", &r),
                     WICAS_VM_OK);
    wicas_vm_response resp;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_messages, 1);
    cJSON *m = cJSON_Parse(resp.messages[0].msg_json);
    const cJSON *amt = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "bank"), "send"), "amount");
    assert_int_equal(cJSON_GetArraySize(amt), 2);
    cJSON_Delete(m);
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);

    /* other_balance: a bank query answered through the contract */
    snprintf(msg, sizeof msg, "{\"other_balance\":{\"address\":\"%s\"}}", contract);
    cJSON *j = query_json(sum, msg);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "amount")), 2);
    cJSON_Delete(j);

    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\"}", other);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, NULL, msg, TEST_GAS, &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    char *mi = wicas_vm_migrate_info_json(creator, false, 0);
    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\"}", verifier);
    assert_int_equal(call_full(sum, WICAS_VM_MIGRATE, mi, msg, TEST_GAS, &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    free(mi);
    j = query_json(sum, "{\"verifier\":{}}");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "verifier")), verifier);
    cJSON_Delete(j);
}

/* cyberpunk: Env as the contract deserialises it, mirrored back; debug; traps. */
static void cyberpunk(void **state) {
    (void)state;
    uint8_t sum[32];
    store_cw(vm, "cyberpunk.wasm", sum);
    wicas_vm_result r;
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, NULL, NULL, "{}", &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);

    cJSON *env = query_json(sum, "{\"mirror_env\":{}}");
    char want[512];
    snprintf(want, sizeof want, ENV_FMT, contract);
    cJSON *w = cJSON_Parse(want);
    assert_true(cJSON_Compare(env, w, true));
    cJSON_Delete(w);
    cJSON_Delete(env);

    /* debug: nine rounds of argon2 between debug() calls (cosmwasm-vm's tests give it 5e14 gas) */
    debug_log[0] = 0;
    char *info0 = wicas_vm_info_json(creator, NULL, 0);
    assert_int_equal(call_full(sum, WICAS_VM_EXECUTE, info0, "{\"debug\":{}}", 500000000000000ULL, &r),
                     WICAS_VM_OK);
    print_message("cyberpunk debug (argon2): %llu CosmWasm gas\n", (unsigned long long)r.gas_used);
    wicas_vm_result_free(&r);
    free(info0);
    assert_non_null(strstr(debug_log, "Round 9 done"));
    assert_non_null(strstr(debug_log, "Work completed, bye"));

    assert_int_equal(call_as(sum, WICAS_VM_EXECUTE, creator, NULL, NULL, "{\"unreachable\":{}}", &r),
                     WICAS_VM_ERR_TRAP);
    wicas_vm_result_free(&r);
    assert_int_equal(call_as(sum, WICAS_VM_EXECUTE, creator, NULL, NULL, "{\"panic\":{}}", &r),
                     WICAS_VM_ERR_TRAP);
    wicas_vm_result_free(&r);
    char *info = wicas_vm_info_json(creator, NULL, 0);
    assert_int_equal(call_full(sum, WICAS_VM_EXECUTE, info, "{\"memory_loop\":{}}", 1500000000000ULL, &r),
                     WICAS_VM_ERR_OUT_OF_GAS);
    wicas_vm_result_free(&r);
    /* 600 pages > the 32 MiB (512 page) memory limit: memory.grow fails inside the contract */
    assert_int_equal(
        call_full(sum, WICAS_VM_EXECUTE, info, "{\"allocate_large_memory\":{\"pages\":600}}", TEST_GAS, &r),
        WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "memory.grow failed"));
    wicas_vm_result_free(&r);
    assert_int_equal(
        call_full(sum, WICAS_VM_EXECUTE, info, "{\"allocate_large_memory\":{\"pages\":48}}", TEST_GAS, &r),
        WICAS_VM_OK);
    wicas_vm_response resp;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_true(resp.has_data);
    assert_int_equal(resp.data_len, 4); /* the old memory size in pages, big endian */
    uint32_t old_pages = (uint32_t)resp.data[0] << 24 | (uint32_t)resp.data[1] << 16 |
                         (uint32_t)resp.data[2] << 8 | resp.data[3];
    assert_true(old_pages >= 1 && old_pages + 48 <= 512);
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);
    free(info);
    assert_int_equal(call_as(sum, WICAS_VM_EXECUTE, creator, NULL, NULL, "{\"noop\":{}}", &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
}

/* floaty (floating point in a contract, iterator imports) and empty (no entry points). */
static void floaty_and_empty(void **state) {
    (void)state;
    uint8_t sum[32];
    wicas_vm_result r;
    char msg[512];
    store_cw(vm, "floaty.wasm", sum);
    snprintf(msg, sizeof msg, "{\"verifier\":\"%s\",\"beneficiary\":\"%s\"}", verifier, beneficiary);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, "earth", "10", msg, &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    bank_set(contract, "earth", "10");
    assert_int_equal(call_as(sum, WICAS_VM_EXECUTE, verifier, NULL, NULL, "{\"release\":{}}", &r),
                     WICAS_VM_OK);
    wicas_vm_result_free(&r);

    store_cw(vm, "empty.wasm", sum);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, NULL, NULL, "{}", &r),
                     WICAS_VM_ERR_NO_ENTRY);
    wicas_vm_result_free(&r);
}

/* floaty 2.0 runs one wasm float instruction per query, on arguments it
 * derives from a seed ({"random_args_for":...}, then {"run":...}); all 70 of
 * them x 40 seeds here. Every answer is checked against the host's IEEE-754
 * arithmetic (this file is built with -ffp-contract=off) plus wasm's rules:
 * arithmetic NaN results are the canonical NaN (the VM canonicalises, as
 * cosmwasm-vm does), abs/neg/copysign/reinterpret keep the payload, integer
 * truncations trap on NaN ("invalid conversion to integer") and out of range
 * ("integer overflow") unless saturating. Note: floaty_2.0's run() passes its
 * first argument twice (arg2 reads args[0]), so binary ops get (x, x).
 * Compared with cosmwasm-vm 3.0.2 itself (wasmer singlepass, run outside this
 * repository on the same 70 x 150 queries): identical except f32.demote_f64
 * and f64.promote_f32 of a NaN, which singlepass leaves to the CPU (payload
 * kept, x86 style) while wasmtime canonicalises (both are valid wasm; see
 * docs/ARCHITECTURE.md). */
static uint32_t bits32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static uint64_t bits64(double f) {
    uint64_t u;
    memcpy(&u, &f, 8);
    return u;
}
static float flt(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static double dbl(uint64_t u) {
    double f;
    memcpy(&f, &u, 8);
    return f;
}

/* Expected answer: *trap set to the trap text, or *out to the result bits. */
static void float_oracle(const char *ins, uint64_t v, uint64_t *out, const char **trap) {
    *trap = NULL;
    const char *op = ins + 4;
    bool is32 = !strncmp(ins, "f32.", 4), is64 = !strncmp(ins, "f64.", 4);
    static const char *cmp[] = {"eq", "ne", "lt", "gt", "le", "ge"};
    for (int k = 0; k < 6 && (is32 || is64); k++)
        if (!strcmp(op, cmp[k])) {
            double x = is32 ? (double)flt((uint32_t)v) : dbl(v), y = x;
            bool r = k == 0   ? x == y
                     : k == 1 ? x != y
                     : k == 2 ? x < y
                     : k == 3 ? x > y
                     : k == 4 ? x <= y
                              : x >= y;
            *out = r;
            return;
        }
    if (is32) {
        float x = flt((uint32_t)v), r = 0;
        if (!strcmp(op, "abs")) {
            *out = v & 0x7fffffffu;
            return;
        }
        if (!strcmp(op, "neg")) {
            *out = v ^ 0x80000000u;
            return;
        }
        if (!strcmp(op, "copysign")) {
            *out = v;
            return;
        }
        if (!strcmp(op, "reinterpret_i32")) {
            *out = v;
            return;
        }
        if (!strcmp(op, "add"))
            r = x + x;
        else if (!strcmp(op, "sub"))
            r = x - x;
        else if (!strcmp(op, "mul"))
            r = x * x;
        else if (!strcmp(op, "div"))
            r = x / x;
        else if (!strcmp(op, "min") || !strcmp(op, "max"))
            r = x;
        else if (!strcmp(op, "sqrt"))
            r = sqrtf(x);
        else if (!strcmp(op, "ceil"))
            r = ceilf(x);
        else if (!strcmp(op, "floor"))
            r = floorf(x);
        else if (!strcmp(op, "trunc"))
            r = truncf(x);
        else if (!strcmp(op, "nearest"))
            r = nearbyintf(x);
        else if (!strcmp(op, "convert_i32_s"))
            r = (float)(int32_t)(uint32_t)v;
        else if (!strcmp(op, "convert_i32_u"))
            r = (float)(uint32_t)v;
        else if (!strcmp(op, "convert_i64_s"))
            r = (float)(int64_t)v;
        else if (!strcmp(op, "convert_i64_u"))
            r = (float)v;
        else if (!strcmp(op, "demote_f64"))
            r = (float)dbl(v);
        else
            fail_msg("no oracle for %s", ins);
        *out = isnan(r) ? 0x7fc00000u : bits32(r);
        return;
    }
    if (is64) {
        double x = dbl(v), r = 0;
        if (!strcmp(op, "abs")) {
            *out = v & 0x7fffffffffffffffull;
            return;
        }
        if (!strcmp(op, "neg")) {
            *out = v ^ 0x8000000000000000ull;
            return;
        }
        if (!strcmp(op, "copysign")) {
            *out = v;
            return;
        }
        if (!strcmp(op, "reinterpret_i64")) {
            *out = v;
            return;
        }
        if (!strcmp(op, "add"))
            r = x + x;
        else if (!strcmp(op, "sub"))
            r = x - x;
        else if (!strcmp(op, "mul"))
            r = x * x;
        else if (!strcmp(op, "div"))
            r = x / x;
        else if (!strcmp(op, "min") || !strcmp(op, "max"))
            r = x;
        else if (!strcmp(op, "sqrt"))
            r = sqrt(x);
        else if (!strcmp(op, "ceil"))
            r = ceil(x);
        else if (!strcmp(op, "floor"))
            r = floor(x);
        else if (!strcmp(op, "trunc"))
            r = trunc(x);
        else if (!strcmp(op, "nearest"))
            r = nearbyint(x);
        else if (!strcmp(op, "convert_i32_s"))
            r = (double)(int32_t)(uint32_t)v;
        else if (!strcmp(op, "convert_i32_u"))
            r = (double)(uint32_t)v;
        else if (!strcmp(op, "convert_i64_s"))
            r = (double)(int64_t)v;
        else if (!strcmp(op, "convert_i64_u"))
            r = (double)v;
        else if (!strcmp(op, "promote_f32"))
            r = (double)flt((uint32_t)v);
        else
            fail_msg("no oracle for %s", ins);
        *out = isnan(r) ? 0x7ff8000000000000ull : bits64(r);
        return;
    }
    if (!strcmp(op, "reinterpret_f32") || !strcmp(op, "reinterpret_f64")) {
        *out = v;
        return;
    }
    /* i32/i64.trunc[_sat]_f32/f64_s/u */
    bool sat = strstr(op, "_sat_") != NULL, from32 = strstr(op, "f32") != NULL,
         sgn = op[strlen(op) - 1] == 's';
    int width = ins[1] == '3' ? 32 : 64;
    double x = from32 ? (double)flt((uint32_t)v) : dbl(v);
    double lo = sgn ? -ldexp(1, width - 1) : 0,
           hi = sgn ? ldexp(1, width - 1) : ldexp(1, width); /* valid: lo-1 < x < hi */
    if (isnan(x)) {
        if (sat)
            *out = 0;
        else
            *trap = "invalid conversion to integer";
        return;
    }
    double t = trunc(x);
    if (t < lo || t >= hi) {
        if (!sat) {
            *trap = "integer overflow";
            return;
        }
        if (t < lo)
            *out = sgn ? (width == 32 ? 0x80000000u : 0x8000000000000000ull) : 0;
        else
            *out = sgn ? (width == 32 ? 0x7fffffffu : 0x7fffffffffffffffull)
                       : (width == 32 ? 0xffffffffu : UINT64_MAX);
        return;
    }
    if (sgn) {
        int64_t n = (int64_t)t;
        *out = width == 32 ? (uint64_t)(uint32_t)(int32_t)n : (uint64_t)n;
    } else {
        *out = (uint64_t)t;
    }
}

static void floaty_float_semantics(void **state) {
    (void)state;
    uint8_t sum[32];
    wicas_vm_result r;
    store_cw(vm, "floaty_2.0.wasm", sum);
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, NULL, NULL, "{}", &r), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    cJSON *instrs = query_json(sum, "{\"instructions\":{}}");
    assert_int_equal(cJSON_GetArraySize(instrs), 70);
    size_t n = 0, n_traps = 0, n_nan_payload = 0;
    const cJSON *in;
    cJSON_ArrayForEach(in, instrs) {
        const char *ins = cJSON_GetStringValue(in);
        assert_non_null(ins);
        for (unsigned seed = 0; seed < 40; seed++) {
            char q[256];
            snprintf(q, sizeof q, "{\"random_args_for\":{\"instruction\":\"%s\",\"seed\":%u}}", ins, seed);
            /* the args JSON as the contract wrote it: its u64 digits do not fit a double */
            assert_int_equal(call_full(sum, WICAS_VM_QUERY, NULL, q, UINT64_MAX, &r), WICAS_VM_OK);
            char as[512];
            assert_true(r.query_len < sizeof as);
            memcpy(as, r.query_data, r.query_len);
            as[r.query_len] = 0;
            wicas_vm_result_free(&r);
            assert_true(as[0] == '[' && as[1] == '{');
            const char *digits = strchr(as, ':');
            assert_non_null(digits);
            uint64_t v = strtoull(digits + 1, NULL, 10);
            char run[1024];
            snprintf(run, sizeof run, "{\"run\":{\"instruction\":\"%s\",\"args\":%s}}", ins, as);
            uint64_t want = 0;
            const char *trap;
            float_oracle(ins, v, &want, &trap);
            wicas_vm_status s = call_full(sum, WICAS_VM_QUERY, NULL, run, UINT64_MAX, &r);
            if (trap) {
                if (s != WICAS_VM_ERR_TRAP || !strstr(r.error, trap))
                    fail_msg("%s: got status %d (%s), want trap '%s'", run, s, r.error ? r.error : "", trap);
                n_traps++;
            } else {
                if (s != WICAS_VM_OK) fail_msg("%s: status %d %s", run, s, r.error ? r.error : "");
                const char *c = strchr((const char *)r.query_data, ':');
                assert_non_null(c);
                uint64_t got = strtoull(c + 1, NULL, 10);
                if (got != want)
                    fail_msg("%s: got %llu, want %llu", run, (unsigned long long)got,
                             (unsigned long long)want);
                if ((!strcmp(ins + 4, "abs") || !strcmp(ins + 4, "neg")) &&
                    (ins[1] == '3'
                         ? (isnan(flt((uint32_t)got)) && got != 0x7fc00000u && got != 0xffc00000u)
                         : (isnan(dbl(got)) && got != 0x7ff8000000000000ull && got != 0xfff8000000000000ull)))
                    n_nan_payload++;
            }
            wicas_vm_result_free(&r);
            n++;
        }
    }
    cJSON_Delete(instrs);
    print_message(
        "floaty: %zu runs, all as IEEE-754 + wasm NaN rules; %zu traps, %zu NaN payloads kept by abs/neg\n",
        n, n_traps, n_nan_payload);
    assert_int_equal(n, 70 * 40);
    assert_true(n_traps > 0 && n_nan_payload > 0); /* the argument sets reach both cases */
}

/* ibc_reflect on a VM that offers stargate: instantiate, an iterator query. */
static void ibc_reflect_with_stargate(void **state) {
    (void)state;
    wicas_vm_config cfg;
    wicas_vm_config_default(&cfg);
    cfg.capabilities = WICAS_VM_DEFAULT_CAPABILITIES ",stargate";
    wicas_vm *saved = vm;
    vm = wicas_vm_new(&cfg, NULL, 0);
    assert_non_null(vm);
    uint8_t sum[32];
    store_cw(vm, "ibc_reflect.wasm", sum);
    wicas_vm_result r;
    assert_int_equal(call_as(sum, WICAS_VM_INSTANTIATE, creator, NULL, NULL, "{\"reflect_code_id\":77}", &r),
                     WICAS_VM_OK);
    wicas_vm_result_free(&r);
    cJSON *j = query_json(sum, "{\"list_accounts\":{}}");
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(j, "accounts");
    assert_true(cJSON_IsArray(acc));
    assert_int_equal(cJSON_GetArraySize(acc), 0);
    cJSON_Delete(j);
    wicas_vm_free(vm);
    vm = saved;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(upload_rules, fresh, cleanup),
        cmocka_unit_test_setup_teardown(hackatom_2, fresh, cleanup),
        cmocka_unit_test_setup_teardown(hackatom_1, fresh, cleanup),
        cmocka_unit_test_setup_teardown(cyberpunk, fresh, cleanup),
        cmocka_unit_test_setup_teardown(floaty_and_empty, fresh, cleanup),
        cmocka_unit_test_setup_teardown(floaty_float_semantics, fresh, cleanup),
        cmocka_unit_test_setup_teardown(ibc_reflect_with_stargate, fresh, cleanup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
