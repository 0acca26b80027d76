/*
 * test_vm_contracts.c — nameservice and reflect end to end; host functions
 * through a probe contract (iterators over storage merged with the call's
 * own writes, ascending/descending/bounded; address validation; debug);
 * query_chain through a test querier; secp256k1/ed25519 host crypto with keys
 * made here by libsecp256k1 and OpenSSL; the bech32 Api; the Response parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "vm/vm_test_util.h"

#include <ctype.h>

#define INST_FMT(body) "(func (export \"instantiate\") (param i32 i32 i32) (result i32) " body ")"

static wicas_vm *vm;
static wicas_vm_api *api;
static char addr_a[128], addr_b[128];

static int setup(void **state) {
    (void)state;
    vm = wicas_vm_new(NULL, NULL, 0);
    api = wicas_vm_api_bech32("wicas");
    uint8_t a[20], b[20];
    for (int i = 0; i < 20; i++)
        a[i] = (uint8_t)i, b[i] = (uint8_t)(200 - i);
    char err[128];
    if (api->humanize(api->ctx, a, 20, addr_a, sizeof addr_a, err, sizeof err)) return -1;
    if (api->humanize(api->ctx, b, 20, addr_b, sizeof addr_b, err, sizeof err)) return -1;
    return vm && api ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    wicas_vm_api_free(api);
    wicas_vm_free(vm);
    return 0;
}

static void store(const char *name, uint8_t sum[32]) {
    size_t len;
    uint8_t *w = load_contract(name, &len);
    assert_non_null(w);
    char err[256] = "";
    wicas_vm_status s = wicas_vm_store_code(vm, w, len, sum, err, sizeof err);
    if (s) fprintf(stderr, "store %s: %s\n", name, err);
    assert_int_equal(s, WICAS_VM_OK);
    free(w);
}

typedef struct {
    char *debug_seen;
} dbg_ctx;

static void on_debug(void *ctx, const char *msg, size_t len) {
    dbg_ctx *d = ctx;
    free(d->debug_seen);
    d->debug_seen = strndup(msg, len);
}

static wicas_vm_status call(const uint8_t sum[32], wicas_vm_entry e, wicas_vm_storage *st,
                            const wicas_vm_querier *q, const char *sender, const char *funds_amount,
                            const char *msg, wicas_vm_result *r, dbg_ctx *dbg) {
    char *env = wicas_vm_env_json(7, 1000, "wicas-test", -1, "wicas1contract");
    wicas_vm_coin coin = {"uwicas", funds_amount};
    char *info = sender ? wicas_vm_info_json(sender, &coin, funds_amount ? 1 : 0) : NULL;
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)msg,
                              .msg_len = strlen(msg),
                              .storage = st,
                              .querier = q,
                              .api = api,
                              .gas_limit = TEST_GAS,
                              .debug = dbg ? on_debug : NULL,
                              .debug_ctx = dbg};
    wicas_vm_status s = wicas_vm_call(vm, sum, e, &p, r);
    free(env);
    free(info);
    return s;
}

#define EXPECT_ERR(st, want)                                                                                 \
    do {                                                                                                     \
        assert_int_equal(st, WICAS_VM_ERR_CONTRACT);                                                         \
        if (strcmp(r.error, want)) fprintf(stderr, "got '%s'\n", r.error);                                   \
        assert_string_equal(r.error, want);                                                                  \
        wicas_vm_result_free(&r);                                                                            \
    } while (0)

static void query_str(const uint8_t sum[32], wicas_vm_storage *st, const wicas_vm_querier *q, const char *msg,
                      const char *want) {
    wicas_vm_result r;
    wicas_vm_status s = call(sum, WICAS_VM_QUERY, st, q, NULL, NULL, msg, &r, NULL);
    if (s) fprintf(stderr, "query %s: %s\n", msg, r.error);
    assert_int_equal(s, WICAS_VM_OK);
    if (r.query_len != strlen(want) || memcmp(r.query_data, want, r.query_len))
        fprintf(stderr, "query %s: got %.*s want %s\n", msg, (int)r.query_len, r.query_data, want);
    assert_int_equal(r.query_len, strlen(want));
    assert_memory_equal(r.query_data, want, r.query_len);
    wicas_vm_result_free(&r);
}

static void nameservice(void **state) {
    (void)state;
    uint8_t sum[32];
    store("nameservice", sum);
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_result r;
    assert_int_equal(call(sum, WICAS_VM_INSTANTIATE, &st, NULL, addr_a, NULL,
                          "{\"purchase_price\":{\"denom\":\"uwicas\",\"amount\":\"100\"},"
                          "\"transfer_price\":{\"denom\":\"uwicas\",\"amount\":\"50\"}}",
                          &r, NULL),
                     WICAS_VM_OK);
    wicas_vm_result_free(&r);
    query_str(sum, &st, NULL, "{\"config\":{}}",
              "{\"purchase_price\":{\"denom\":\"uwicas\",\"amount\":\"100\"},\"transfer_price\":{\"denom\":"
              "\"uwicas\",\"amount\":\"50\"}}");

    EXPECT_ERR(
        call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "99", "{\"register\":{\"name\":\"alice\"}}", &r, NULL),
        "Insufficient funds sent");
    EXPECT_ERR(
        call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, "{\"register\":{\"name\":\"alice\"}}", &r, NULL),
        "Insufficient funds sent");
    EXPECT_ERR(
        call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "100", "{\"register\":{\"name\":\"al\"}}", &r, NULL),
        "Name too short (length 2 min_length 3)");
    EXPECT_ERR(
        call(
            sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "100",
            "{\"register\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
            &r, NULL),
        "Name too long (length 65 min_length 64)");
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "100", "{\"register\":{\"name\":\"Alice\"}}",
                    &r, NULL),
               "Invalid character(char A");
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "100",
                    "{\"register\":{\"name\":\"al\xc3\xa9x\"}}", &r, NULL),
               "Invalid character(char \xc3\xa9");
    query_str(sum, &st, NULL, "{\"resolve_record\":{\"name\":\"alice\"}}", "{\"address\":null}");

    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "150",
                          "{\"register\":{\"name\":\"alice\"}}", &r, NULL),
                     WICAS_VM_OK);
    wicas_vm_result_free(&r);
    char want[256];
    snprintf(want, sizeof want, "{\"address\":\"%s\"}", addr_a);
    query_str(sum, &st, NULL, "{\"resolve_record\":{\"name\":\"alice\"}}", want);
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_b, "100", "{\"register\":{\"name\":\"alice\"}}",
                    &r, NULL),
               "Name has been taken (name alice)");

    char msg[512];
    snprintf(msg, sizeof msg, "{\"transfer\":{\"name\":\"alice\",\"to\":\"%s\"}}", addr_b);
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_b, "50", msg, &r, NULL), "Unauthorized");
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "49", msg, &r, NULL),
               "Insufficient funds sent");
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "50",
                    "{\"transfer\":{\"name\":\"alice\",\"to\":\"wicas1qqqqqqqqqqqq\"}}", &r, NULL),
               "Generic error: Invalid input: bech32 checksum mismatch");
    snprintf(msg, sizeof msg, "{\"transfer\":{\"name\":\"bobby\",\"to\":\"%s\"}}", addr_b);
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "50", msg, &r, NULL),
               "Name does not exist (name bobby)");
    snprintf(msg, sizeof msg, "{\"transfer\":{\"name\":\"alice\",\"to\":\"%s\"}}", addr_b);
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, "50", msg, &r, NULL), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    snprintf(want, sizeof want, "{\"address\":\"%s\"}", addr_b);
    query_str(sum, &st, NULL, "{\"resolve_record\":{\"name\":\"alice\"}}", want);

    /* cw-storage-plus layout: \0\x0dname_resolver + name */
    int found = 0;
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(st.get(st.ctx, (const uint8_t *)"\0\x0dname_resolveralice", 20, &found, &v, &vl), 0);
    assert_true(found);
    free(v);
    wicas_vm_memstore_free(ms);
}

static void reflect_and_reply(void **state) {
    (void)state;
    uint8_t sum[32];
    store("reflect", sum);
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_result r;
    assert_int_equal(call(sum, WICAS_VM_INSTANTIATE, &st, NULL, addr_a, NULL, "{}", &r, NULL), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    char want[256];
    snprintf(want, sizeof want, "{\"owner\":\"%s\"}", addr_a);
    query_str(sum, &st, NULL, "{\"owner\":{}}", want);

    const char *bank =
        "{\"bank\":{\"send\":{\"to_address\":\"x\",\"amount\":[{\"denom\":\"uwicas\",\"amount\":\"5\"}]}}}";
    char msg[1024];
    snprintf(msg, sizeof msg, "{\"reflect_msg\":{\"msgs\":[%s]}}", bank);
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_b, NULL, msg, &r, NULL),
               "Permission denied: the sender is not the current owner");
    EXPECT_ERR(
        call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, "{\"reflect_msg\":{\"msgs\":[]}}", &r, NULL),
        "Messages empty. Must reflect at least one message");
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, msg, &r, NULL), WICAS_VM_OK);
    wicas_vm_response resp;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_messages, 1);
    assert_int_equal(resp.messages[0].reply_on, WICAS_VM_REPLY_NEVER);
    assert_string_equal(resp.messages[0].msg_json, bank);
    assert_string_equal(resp.attributes[0].value, "reflect");
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);

    snprintf(
        msg, sizeof msg,
        "{\"reflect_sub_msg\":{\"msgs\":[{\"id\":7,\"msg\":%s,\"gas_limit\":12345,\"reply_on\":\"success\"},"
        "{\"id\":8,\"msg\":%s,\"gas_limit\":null,\"reply_on\":\"always\"}]}}",
        bank, bank);
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, msg, &r, NULL), WICAS_VM_OK);
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_messages, 2);
    assert_int_equal(resp.messages[0].id, 7);
    assert_true(resp.messages[0].has_gas_limit);
    assert_int_equal(resp.messages[0].gas_limit, 12345);
    assert_int_equal(resp.messages[0].reply_on, WICAS_VM_REPLY_SUCCESS);
    assert_int_equal(resp.messages[1].id, 8);
    assert_false(resp.messages[1].has_gas_limit);
    assert_int_equal(resp.messages[1].reply_on, WICAS_VM_REPLY_ALWAYS);
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);

    const char *reply =
        "{\"id\":7,\"payload\":\"\",\"gas_used\":1234,\"result\":{\"ok\":{\"events\":[],\"data\":null,"
        "\"msg_responses\":[]}}}";
    assert_int_equal(call(sum, WICAS_VM_REPLY, &st, NULL, NULL, NULL, reply, &r, NULL), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    query_str(sum, &st, NULL, "{\"sub_msg_result\":{\"id\":7}}", reply);
    EXPECT_ERR(call(sum, WICAS_VM_QUERY, &st, NULL, NULL, NULL, "{\"sub_msg_result\":{\"id\":9}}", &r, NULL),
               "cosmwasm_std::results::submessages::Reply not found");

    /* change_owner validates the address */
    EXPECT_ERR(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL,
                    "{\"change_owner\":{\"owner\":\"wicas1notanaddress\"}}", &r, NULL),
               "Generic error: Invalid input: invalid bech32 character");
    snprintf(msg, sizeof msg, "{\"change_owner\":{\"owner\":\"%s\"}}", addr_b);
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, msg, &r, NULL), WICAS_VM_OK);
    wicas_vm_result_free(&r);
    snprintf(want, sizeof want, "{\"owner\":\"%s\"}", addr_b);
    query_str(sum, &st, NULL, "{\"owner\":{}}", want);
    wicas_vm_memstore_free(ms);
}

/* A querier answering bank balance queries and refusing everything else; charges 1e9 gas. */
static int test_query(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp,
                      size_t *resp_len, uint64_t *gas_used) {
    (void)ctx;
    (void)gas_limit;
    *gas_used = 1000000000;
    if (len > 6 && memmem(req, len, "\"balance\"", 9)) {
        const char *ans = "{\"amount\":{\"denom\":\"uwicas\",\"amount\":\"42\"}}";
        *resp = wicas_vm_query_ok((const uint8_t *)ans, strlen(ans));
    } else if (memmem(req, len, "\"custom\"", 8)) {
        *resp = wicas_vm_query_error("ai: model not loaded");
    } else {
        *resp = strdup("{\"error\":{\"unsupported_request\":{\"kind\":\"test\"}}}");
    }
    *resp_len = strlen(*resp);
    return 0;
}

static void query_chain_through_querier(void **state) {
    (void)state;
    uint8_t sum[32];
    store("reflect", sum);
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_querier q = {NULL, test_query};
    /* {"amount":{"denom":"uwicas","amount":"42"}} in base64 */
    char b64[128], want[200];
    const char *ans = "{\"amount\":{\"denom\":\"uwicas\",\"amount\":\"42\"}}";
    wicas_base64_encode((const uint8_t *)ans, strlen(ans), b64);
    snprintf(want, sizeof want, "{\"data\":\"%s\"}", b64);
    const char *qmsg =
        "{\"chain\":{\"request\":{\"bank\":{\"balance\":{\"address\":\"x\",\"denom\":\"uwicas\"}}}}}";
    query_str(sum, &st, &q, qmsg, want);
    wicas_vm_result r, r2;
    /* querier gas is charged: the same query costs 1e9 more than with a free querier */
    assert_int_equal(call(sum, WICAS_VM_QUERY, &st, &q, NULL, NULL, qmsg, &r, NULL), WICAS_VM_OK);
    assert_int_equal(call(sum, WICAS_VM_QUERY, &st, &q, NULL, NULL,
                          "{\"chain\":{\"request\":{\"custom\":{\"ai\":{}}}}}", &r2, NULL),
                     WICAS_VM_ERR_CONTRACT);
    assert_string_equal(r2.error, "Querier contract error: ai: model not loaded");
    wicas_vm_result_free(&r2);
    assert_int_equal(call(sum, WICAS_VM_QUERY, &st, NULL, NULL, NULL, qmsg, &r2, NULL),
                     WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r2.error, "Querier system error"));
    assert_non_null(strstr(r2.error, "unsupported_request"));
    wicas_vm_result_free(&r2);
    assert_true(r.gas_used >= 1000000000);
    wicas_vm_result_free(&r);
    wicas_vm_memstore_free(ms);
}

/* A querier that answers every query by running the reflect contract's "chain" query again:
 * unbounded recursion through the host, which the VM must cut off cleanly. */
static uint8_t reflect_sum[32];
static wicas_vm_storage *recursive_st;
static int recursive_query(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp,
                           size_t *resp_len, uint64_t *gas_used) {
    (void)req;
    (void)len;
    const wicas_vm_querier *self = ctx;
    wicas_vm_result r;
    const char *msg = "{\"chain\":{\"request\":{\"bank\":{\"all_balances\":{\"address\":\"x\"}}}}}";
    wicas_vm_call_params p = {.env_json = "{}",
                              .msg = (const uint8_t *)msg,
                              .msg_len = strlen(msg),
                              .storage = recursive_st,
                              .querier = self,
                              .gas_limit = gas_limit};
    wicas_vm_status s = wicas_vm_call(vm, reflect_sum, WICAS_VM_QUERY, &p, &r);
    *gas_used = r.gas_used;
    *resp = s == WICAS_VM_OK ? wicas_vm_query_ok(r.query_data, r.query_len) : wicas_vm_query_error(r.error);
    *resp_len = strlen(*resp);
    wicas_vm_result_free(&r);
    return 0;
}

static void nested_calls_bounded(void **state) {
    (void)state;
    store("reflect", reflect_sum);
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    recursive_st = &st;
    wicas_vm_querier q = {NULL, recursive_query};
    q.ctx = &q;
    wicas_vm_result r;
    assert_int_equal(call(reflect_sum, WICAS_VM_QUERY, &st, &q, NULL, NULL,
                          "{\"chain\":{\"request\":{\"bank\":{\"all_balances\":{\"address\":\"x\"}}}}}", &r,
                          NULL),
                     WICAS_VM_ERR_CONTRACT);
    /* the innermost error travels back up as nested "Querier contract error"s */
    char depth_msg[64];
    snprintf(depth_msg, sizeof depth_msg, "calls nested deeper than %d", WICAS_VM_MAX_DEPTH);
    assert_non_null(strstr(r.error, depth_msg));
    wicas_vm_result_free(&r);
    wicas_vm_memstore_free(ms);
}

/* Worst case for the native stack: at every nesting level the contract first recurses almost to
 * the wasm stack limit, then queries, and the querier re-enters the VM. The process must survive
 * WICAS_VM_MAX_DEPTH such levels. msg = u32 LE recursion depth. */
static uint8_t deep_sum[32];
static int deep_levels;
static int deep_query(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp,
                      size_t *resp_len, uint64_t *gas_used) {
    (void)req;
    (void)len;
    const uint8_t *msg = ctx;
    wicas_vm_querier self = {ctx, deep_query};
    wicas_vm_result r;
    wicas_vm_call_params p = {
        .env_json = "{}", .msg = msg, .msg_len = 4, .querier = &self, .gas_limit = gas_limit};
    wicas_vm_status s = wicas_vm_call(vm, deep_sum, WICAS_VM_QUERY, &p, &r);
    if (s == WICAS_VM_OK) deep_levels++;
    *gas_used = r.gas_used;
    *resp = s == WICAS_VM_OK ? wicas_vm_query_ok(r.query_data, r.query_len) : wicas_vm_query_error(r.error);
    *resp_len = strlen(*resp);
    wicas_vm_result_free(&r);
    return 0;
}

static wicas_vm_status deep_run(uint32_t n, const wicas_vm_querier *q) {
    uint8_t msg[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    wicas_vm_querier qq = {msg, deep_query};
    wicas_vm_result r;
    wicas_vm_call_params p = {.env_json = "{}",
                              .msg = msg,
                              .msg_len = 4,
                              .querier = q ? &qq : NULL,
                              .gas_limit = 100000000000000000ULL};
    wicas_vm_status s = wicas_vm_call(vm, deep_sum, WICAS_VM_QUERY, &p, &r);
    wicas_vm_result_free(&r);
    return s;
}

static void nested_deep_stacks(void **state) {
    (void)state;
    const char *funcs =
        "(func (export \"instantiate\") (param i32 i32 i32) (result i32) (i32.const 0x100))\n"
        "(func $rec (param i32) (result i32)\n"
        "  (if (result i32) (i32.eqz (local.get 0)) (then (call $q (i32.const 0x200)))\n"
        "    (else (i32.add (call $rec (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))\n"
        "(func (export \"query\") (param i32 i32) (result i32)\n"
        "  (drop (call $rec (i32.load (i32.load (local.get 1))))) (i32.const 0x100))";
    char *wat = wat_module("(import \"env\" \"query_chain\" (func $q (param i32) (result i32)))", "2", funcs,
                           "{\"ok\":\"e30=\"}", 13);
    size_t len = 0;
    uint8_t *w = wat2wasm(wat, &len);
    free(wat);
    assert_int_equal(wicas_vm_store_code(vm, w, len, deep_sum, NULL, 0), WICAS_VM_OK);
    free(w);
    /* find the deepest recursion that fits the wasm stack */
    uint32_t lo = 1, hi = 1u << 20;
    assert_int_equal(deep_run(lo, NULL), WICAS_VM_OK);
    assert_int_equal(deep_run(hi, NULL), WICAS_VM_ERR_TRAP);
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (deep_run(mid, NULL) == WICAS_VM_OK)
            lo = mid;
        else
            hi = mid;
    }
    /* every level nearly full, WICAS_VM_MAX_DEPTH levels deep: still alive, cut off cleanly */
    deep_levels = 0;
    wicas_vm_querier marker = {NULL, NULL};
    assert_int_equal(deep_run(lo - lo / 20, &marker), WICAS_VM_OK);
    printf("deepest wasm recursion %u frames; %d nested levels ran\n", lo, deep_levels);
    assert_int_equal(deep_levels, WICAS_VM_MAX_DEPTH - 1);
}

static void probe_iterators_and_api(void **state) {
    (void)state;
    uint8_t sum[32];
    store("vm_probe", sum);
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    for (char c = 'a'; c <= 'f'; c++) {
        char k[2] = {c, 0}, v[3] = {'v', c, 0};
        wicas_vm_memstore_set(ms, (const uint8_t *)k, 1, (const uint8_t *)v, 2);
    }
    wicas_vm_result r;
    dbg_ctx dbg = {0};
    /* in one call: overwrite c, delete d, add cc and g, then scan: the scan sees the call's own writes */
    const char *ops =
        "{\"ops\":[{\"set\":[\"c\",\"new\"]},{\"del\":\"d\"},{\"set\":[\"cc\",\"x\"]},{\"set\":[\"g\",\"y\"]}"
        ","
        "{\"scan\":[null,null,1,100]},{\"scan\":[\"b\",\"e\",2,100]},{\"scan\":[\"c\",null,1,2]},"
        "{\"debug\":\"hello from the probe\"}]}";
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, ops, &r, &dbg), WICAS_VM_OK);
    wicas_vm_response resp;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_true(resp.has_data);
    const char *want = "[\"a=va\",\"b=vb\",\"c=new\",\"cc=x\",\"e=ve\",\"f=vf\",\"g=y\","
                       "\"cc=x\",\"c=new\",\"b=vb\","
                       "\"c=new\",\"cc=x\"]";
    if (resp.data_len != strlen(want) || memcmp(resp.data, want, resp.data_len))
        fprintf(stderr, "got %.*s\n", (int)resp.data_len, resp.data);
    assert_int_equal(resp.data_len, strlen(want));
    assert_memory_equal(resp.data, want, resp.data_len);
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);
    assert_non_null(dbg.debug_seen);
    assert_string_equal(dbg.debug_seen, "hello from the probe");
    free(dbg.debug_seen);
    /* the writes were flushed: the storage now has them */
    assert_int_equal(wicas_vm_memstore_count(ms), 7);
    /* a query scans read-only; descending over everything */
    wicas_vm_result q;
    assert_int_equal(
        call(sum, WICAS_VM_QUERY, &st, NULL, NULL, NULL, "{\"ops\":[{\"scan\":[null,null,2,3]}]}", &q, NULL),
        WICAS_VM_OK);
    assert_int_equal(q.query_len, strlen("[\"g=y\",\"f=vf\",\"e=ve\"]"));
    assert_memory_equal(q.query_data, "[\"g=y\",\"f=vf\",\"e=ve\"]", q.query_len);
    wicas_vm_result_free(&q);
    /* invalid scan order traps cleanly */
    uint8_t before[32], after[32];
    wicas_vm_memstore_digest(ms, before);
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL,
                          "{\"ops\":[{\"set\":[\"z\",\"1\"]},{\"scan\":[null,null,3,1]}]}", &r, NULL),
                     WICAS_VM_ERR_TRAP);
    assert_non_null(strstr(r.error, "invalid order"));
    wicas_vm_result_free(&r);
    wicas_vm_memstore_digest(ms, after);
    assert_memory_equal(before, after, 32);

    /* the SDK's response builder: event, bank send, wasm execute (base64 msg), attribute, data */
    assert_int_equal(
        call(sum, WICAS_VM_EXECUTE, &st, NULL, addr_a, NULL, "{\"ops\":[{\"emit\":\"wicas1to\"}]}", &r, NULL),
        WICAS_VM_OK);
    assert_int_equal(wicas_vm_parse_response(r.ok_json, &resp, err, sizeof err), WICAS_VM_OK);
    assert_int_equal(resp.n_events, 1);
    assert_string_equal(resp.events[0].type, "probe");
    assert_int_equal(resp.events[0].n_attrs, 2);
    assert_string_equal(resp.events[0].attrs[1].key, "quote\"d");
    assert_string_equal(resp.events[0].attrs[1].value, "line\nbreak");
    assert_int_equal(resp.n_messages, 2);
    assert_string_equal(
        resp.messages[0].msg_json,
        "{\"bank\":{\"send\":{\"to_address\":\"wicas1to\",\"amount\":[{\"denom\":\"uwicas\",\"amount\":"
        "\"18446744073709551615\"}]}}}");
    assert_string_equal(resp.messages[1].msg_json, "{\"wasm\":{\"execute\":{\"contract_addr\":\"wicas1to\","
                                                   "\"msg\":\"eyJpbmNyZW1lbnQiOnt9fQ==\",\"funds\":[]}}}");
    assert_string_equal(resp.attributes[0].value, "wicas1to");
    assert_true(resp.has_data);
    assert_int_equal(resp.data_len, 2);
    wicas_vm_response_free(&resp);
    wicas_vm_result_free(&r);

    /* addr_validate: valid, bad checksum, upper case (not normalized), empty, wrong prefix */
    char msg[512];
    char upper[128];
    for (size_t i = 0; i <= strlen(addr_a); i++)
        upper[i] = (char)toupper((unsigned char)addr_a[i]);
    snprintf(msg, sizeof msg,
             "{\"ops\":[{\"validate\":\"%s\"},{\"validate\":\"wicas1qqqqqqqqqqqq\"},{\"validate\":\"%s\"},{"
             "\"validate\":\"\"},"
             "{\"validate\":\"cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu\"}]}",
             addr_a, upper);
    assert_int_equal(call(sum, WICAS_VM_QUERY, &st, NULL, NULL, NULL, msg, &q, NULL), WICAS_VM_OK);
    const char *wv =
        "[null,\"Invalid input: bech32 checksum mismatch\",\"Address is not normalized\","
        "\"Invalid input: human address too short\",\"Invalid input: wrong address prefix (want wicas)\"]";
    if (q.query_len != strlen(wv) || memcmp(q.query_data, wv, q.query_len))
        fprintf(stderr, "got %.*s\n", (int)q.query_len, q.query_data);
    assert_int_equal(q.query_len, strlen(wv));
    assert_memory_equal(q.query_data, wv, q.query_len);
    wicas_vm_result_free(&q);
    wicas_vm_memstore_free(ms);
}

static void bech32_api(void **state) {
    (void)state;
    /* BIP-173 valid test string: hrp "abcdef", data = the 32 characters of the charset in order */
    wicas_vm_api *a = wicas_vm_api_bech32("abcdef");
    assert_non_null(a);
    const char *v = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw";
    uint8_t canon[64], expect[20];
    size_t cl = 0;
    char err[128], back[128];
    assert_int_equal(a->canonicalize(a->ctx, v, strlen(v), canon, &cl, err, sizeof err), 0);
    /* 5-bit values 0..31 packed MSB first */
    uint32_t acc = 0;
    int bits = 0, o = 0;
    for (int i = 0; i < 32; i++) {
        acc = acc << 5 | (uint32_t)i;
        bits += 5;
        while (bits >= 8)
            bits -= 8, expect[o++] = (uint8_t)(acc >> bits);
    }
    assert_int_equal(cl, 20);
    assert_memory_equal(canon, expect, 20);
    assert_int_equal(a->humanize(a->ctx, canon, cl, back, sizeof back, err, sizeof err), 0);
    assert_string_equal(back, v);
    /* one character changed: checksum fails */
    char bad[64];
    strcpy(bad, v);
    bad[10] = bad[10] == 'q' ? 'p' : 'q';
    assert_int_equal(a->canonicalize(a->ctx, bad, strlen(bad), canon, &cl, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum"));
    assert_null(wicas_vm_api_bech32("Bad"));
    assert_null(wicas_vm_api_bech32(""));
    wicas_vm_api_free(a);
}

/* ---- host crypto via a WAT probe ------------------------------------------------------------- */
/* A module whose instantiate calls fn(r1, r2, r3) on three Regions holding a, b, c and stores the
 * 4-byte little-endian result (or, for recover, the returned Region's bytes) under key "k". */
static void crypto_call(const char *fn, int n_args, bool i64, int third, const uint8_t *a, size_t al,
                        const uint8_t *b, size_t bl, const uint8_t *c, size_t cl, uint8_t *out,
                        size_t *out_len) {
    char imports[256], funcs[1024];
    const char *params = n_args == 3 ? "(param i32 i32 i32)" : "(param i32 i32)";
    snprintf(imports, sizeof imports,
             "(import \"env\" \"%s\" (func $f %s (result %s)))\n"
             "(import \"env\" \"db_write\" (func $db_write (param i32 i32)))",
             fn, params, i64 ? "i64" : "i32");
    if (i64)
        snprintf(
            funcs, sizeof funcs,
            INST_FMT(
                "(local $r i64) (local.set $r (call $f (i32.const 0x500) (i32.const 0x510) (i32.const %d)))"
                "(if (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)) (then"
                "  (i32.store (i32.const 0x301) (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))))"
                "  (i32.store (i32.const 0x218) (i32.const 4)) (i32.store (i32.const 0x214) (i32.const 4))"
                "  (call $db_write (i32.const 0x200) (i32.const 0x210)))"
                "(else (call $db_write (i32.const 0x200) (i32.wrap_i64 (local.get $r)))))"
                "(i32.const 0x100)"),
            third >= 0 ? third : 0x520);
    else
        snprintf(
            funcs, sizeof funcs,
            INST_FMT("(i32.store (i32.const 0x301) (call $f (i32.const 0x500) (i32.const 0x510)%s))"
                     "(i32.store (i32.const 0x218) (i32.const 4)) (i32.store (i32.const 0x214) (i32.const 4))"
                     "(call $db_write (i32.const 0x200) (i32.const 0x210)) (i32.const 0x100)"),
            n_args == 3 ? " (i32.const 0x520)" : "");
    char *wat = wat_module(imports, "2", funcs, OK_RESPONSE, strlen(OK_RESPONSE));
    /* input data: Regions at 0x500/0x510/0x520 pointing at 0x1000/0x2000/0x3000 */
    size_t cap = strlen(wat) + 100000;
    wat = realloc(wat, cap);
    char *end = wat + strlen(wat) - 2; /* before the final ")\n" */
    *end = 0;
    const uint8_t *d[3] = {a, b, c};
    size_t dl[3] = {al, bl, cl};
    for (int i = 0; i < 3; i++) {
        uint8_t reg[12];
        le32s(reg, 0x1000u * (uint32_t)(i + 1)), le32s(reg + 4, (uint32_t)dl[i]),
            le32s(reg + 8, (uint32_t)dl[i]);
        snprintf(wat + strlen(wat), cap - strlen(wat), "(data (i32.const %d) \"", 0x500 + 0x10 * i);
        wat_bytes(wat, cap, reg, 12);
        snprintf(wat + strlen(wat), cap - strlen(wat), "\")\n(data (i32.const %d) \"", 0x1000 * (i + 1));
        if (dl[i]) wat_bytes(wat, cap, d[i], dl[i]);
        strcat(wat, "\")\n");
    }
    strcat(wat, ")\n");
    size_t len = 0;
    uint8_t *w = wat2wasm(wat, &len);
    assert_non_null(w);
    free(wat);
    uint8_t sum[32];
    char err[256] = "";
    wicas_vm_status s = wicas_vm_store_code(vm, w, len, sum, err, sizeof err);
    if (s) fprintf(stderr, "%s\n", err);
    assert_int_equal(s, WICAS_VM_OK);
    free(w);
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_result r;
    s = call(sum, WICAS_VM_INSTANTIATE, &st, NULL, "s", NULL, "{}", &r, NULL);
    if (s) fprintf(stderr, "%s: %s\n", fn, r.error);
    assert_int_equal(s, WICAS_VM_OK);
    wicas_vm_result_free(&r);
    int found = 0;
    uint8_t *v = NULL;
    size_t vl = 0;
    st.get(st.ctx, (const uint8_t *)"k", 1, &found, &v, &vl);
    assert_true(found);
    memcpy(out, v, vl);
    *out_len = vl;
    free(v);
    wicas_vm_memstore_free(ms);
}

static uint32_t crypto_rc(const char *fn, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
                          const uint8_t *c, size_t cl) {
    uint8_t out[128];
    size_t ol;
    crypto_call(fn, 3, false, -1, a, al, b, bl, c, cl, out, &ol);
    assert_int_equal(ol, 4);
    return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
}

static void host_crypto(void **state) {
    (void)state;
    /* secp256k1: sign with libsecp256k1 here, verify in the contract */
    secp256k1_context *sc = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t sk[32], hash[32], sig[64], pub[33], pub65[65];
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(i + 1);
    wicas_sha256("wicas", 5, hash);
    secp256k1_pubkey pk;
    assert_true(secp256k1_ec_pubkey_create(sc, &pk, sk));
    size_t l = 33;
    secp256k1_ec_pubkey_serialize(sc, pub, &l, &pk, SECP256K1_EC_COMPRESSED);
    l = 65;
    secp256k1_ec_pubkey_serialize(sc, pub65, &l, &pk, SECP256K1_EC_UNCOMPRESSED);
    secp256k1_ecdsa_recoverable_signature rs;
    assert_true(secp256k1_ecdsa_sign_recoverable(sc, &rs, hash, sk, NULL, NULL));
    int recid;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(sc, sig, &recid, &rs);
    assert_int_equal(crypto_rc("secp256k1_verify", hash, 32, sig, 64, pub, 33), 0);
    assert_int_equal(crypto_rc("secp256k1_verify", hash, 32, sig, 64, pub65, 65), 0);
    uint8_t bad[32];
    memcpy(bad, hash, 32);
    bad[0] ^= 1;
    assert_int_equal(crypto_rc("secp256k1_verify", bad, 32, sig, 64, pub, 33), 1);
    assert_int_equal(crypto_rc("secp256k1_verify", hash, 31, sig, 64, pub, 33), 3); /* invalid hash format */
    assert_int_equal(crypto_rc("secp256k1_verify", hash, 32, sig, 64, pub, 32),
                     5); /* invalid pubkey format */
    /* recovery returns the uncompressed key */
    uint8_t out[128];
    size_t ol;
    crypto_call("secp256k1_recover_pubkey", 3, true, recid, hash, 32, sig, 64, NULL, 0, out, &ol);
    assert_int_equal(ol, 65);
    assert_memory_equal(out, pub65, 65);
    crypto_call("secp256k1_recover_pubkey", 3, true, 2, hash, 32, sig, 64, NULL, 0, out, &ol);
    assert_int_equal(ol, 4);
    assert_int_equal(out[0], 6); /* invalid recovery param, in the high half */
    secp256k1_context_destroy(sc);

    /* secp256r1 (P-256): sign with OpenSSL here; verify and recover in the contract */
    {
        EVP_PKEY *pk256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(pk256);
        uint8_t rpub[65];
        size_t rpl = 0;
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(pk256, OSSL_PKEY_PARAM_PUB_KEY, rpub, sizeof rpub, &rpl), 1);
        assert_int_equal(rpl, 65);
        EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new(pk256, NULL);
        assert_int_equal(EVP_PKEY_sign_init(sctx), 1);
        uint8_t der[80];
        size_t derl = sizeof der;
        assert_int_equal(EVP_PKEY_sign(sctx, der, &derl, hash, 32), 1);
        EVP_PKEY_CTX_free(sctx);
        const uint8_t *dp = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)derl);
        assert_non_null(es);
        uint8_t rsig[64];
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rsig, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rsig + 32, 32);
        ECDSA_SIG_free(es);
        EVP_PKEY_free(pk256);
        assert_int_equal(crypto_rc("secp256r1_verify", hash, 32, rsig, 64, rpub, 65), 0);
        assert_int_equal(crypto_rc("secp256r1_verify", bad, 32, rsig, 64, rpub, 65), 1);
        assert_int_equal(crypto_rc("secp256r1_verify", hash, 32, rsig, 64, pub, 33),
                         5); /* a k1 key is not a P-256 point */
        /* exactly one of the two recovery ids gives back the signer's key */
        int matches = 0;
        for (int id = 0; id < 2; id++) {
            crypto_call("secp256r1_recover_pubkey", 3, true, id, hash, 32, rsig, 64, NULL, 0, out, &ol);
            if (ol == 65 && memcmp(out, rpub, 65) == 0) matches++;
        }
        assert_int_equal(matches, 1);
        crypto_call("secp256r1_recover_pubkey", 3, true, 5, hash, 32, rsig, 64, NULL, 0, out, &ol);
        assert_int_equal(ol, 4);
        assert_int_equal(out[0], 6);
    }
    /* ed25519 with OpenSSL */
    uint8_t seed[32], epub[32], esig[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(7 * i);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    assert_non_null(k);
    size_t pl = 32, sl = 64;
    EVP_PKEY_get_raw_public_key(k, epub, &pl);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k), 1);
    const char *m = "a message to sign";
    assert_int_equal(EVP_DigestSign(md, esig, &sl, (const uint8_t *)m, strlen(m)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    assert_int_equal(crypto_rc("ed25519_verify", (const uint8_t *)m, strlen(m), esig, 64, epub, 32), 0);
    assert_int_equal(crypto_rc("ed25519_verify", (const uint8_t *)"other", 5, esig, 64, epub, 32), 1);
    assert_int_equal(crypto_rc("ed25519_verify", (const uint8_t *)m, strlen(m), esig, 63, epub, 32), 4);
    /* batch: sections encoding (item, u32 BE length) */
    uint8_t msgs[64], sigs[80], pubs[48];
    size_t ml = strlen(m);
    memcpy(msgs, m, ml);
    msgs[ml] = 0, msgs[ml + 1] = 0, msgs[ml + 2] = 0, msgs[ml + 3] = (uint8_t)ml;
    memcpy(sigs, esig, 64);
    sigs[64] = 0, sigs[65] = 0, sigs[66] = 0, sigs[67] = 64;
    memcpy(pubs, epub, 32);
    pubs[32] = 0, pubs[33] = 0, pubs[34] = 0, pubs[35] = 32;
    assert_int_equal(crypto_rc("ed25519_batch_verify", msgs, ml + 4, sigs, 68, pubs, 36), 0);
    sigs[3] ^= 1;
    assert_int_equal(crypto_rc("ed25519_batch_verify", msgs, ml + 4, sigs, 68, pubs, 36), 1);
    assert_int_equal(crypto_rc("ed25519_batch_verify", msgs, ml + 4, sigs, 67, pubs, 36),
                     7); /* malformed sections */
    /* BLS12-381 functions link and answer the documented "not supported" error */
    uint8_t z[48] = {0};
    crypto_call("bls12_381_aggregate_g1", 2, false, -1, z, 48, z, 48, z, 0, out, &ol);
    assert_int_equal(out[0], 10);
}

static void response_parser(void **state) {
    (void)state;
    wicas_vm_response r;
    char err[256];
    assert_int_equal(wicas_vm_parse_response(
                         "{\"messages\":[],\"attributes\":[{\"key\":\"a\",\"value\":\"b\"}],"
                         "\"events\":[{\"type\":\"t\",\"attributes\":[{\"key\":\"x\",\"value\":\"y\"}]}],"
                         "\"data\":\"aGk=\"}",
                         &r, err, sizeof err),
                     WICAS_VM_OK);
    assert_int_equal(r.n_events, 1);
    assert_string_equal(r.events[0].type, "t");
    assert_string_equal(r.events[0].attrs[0].value, "y");
    assert_true(r.has_data);
    assert_int_equal(r.data_len, 2);
    assert_memory_equal(r.data, "hi", 2);
    wicas_vm_response_free(&r);
    const char *bad[] = {"[]",
                         "{\"messages\":{}}",
                         "{\"messages\":[{\"id\":1,\"msg\":{},\"reply_on\":\"sometimes\"}]}",
                         "{\"messages\":[{\"id\":-1,\"msg\":{}}]}",
                         "{\"data\":\"***\"}",
                         "{\"attributes\":[{\"key\":1}]}",
                         "{\"events\":[{\"attributes\":[]}]}",
                         "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(wicas_vm_parse_response(bad[i], &r, err, sizeof err), WICAS_VM_ERR_RESULT);
        assert_true(strlen(err) > 0);
    }
    assert_true(wicas_vm_status_is_deterministic(WICAS_VM_ERR_OUT_OF_GAS));
    assert_true(wicas_vm_status_is_deterministic(WICAS_VM_ERR_CONTRACT));
    assert_false(wicas_vm_status_is_deterministic(WICAS_VM_ERR_STORAGE));
    assert_false(wicas_vm_status_is_deterministic(WICAS_VM_ERR_NO_CODE));
    for (int st = 0; st <= WICAS_VM_ERR_DEPTH; st++)
        assert_string_not_equal(wicas_vm_strerror((wicas_vm_status)st), "unknown status");
    /* Env / MessageInfo JSON */
    char *env = wicas_vm_env_json(18446744073709551615ULL, 1700000000123456789ULL, "c\"id", 3, "addr");
    assert_string_equal(
        env, "{\"block\":{\"height\":18446744073709551615,\"time\":\"1700000000123456789\",\"chain_id\":"
             "\"c\\\"id\"},\"transaction\":{\"index\":3},\"contract\":{\"address\":\"addr\"}}");
    free(env);
    wicas_vm_coin c[2] = {{"a", "1"}, {"b", "340282366920938463463374607431768211455"}};
    char *info = wicas_vm_info_json("s", c, 2);
    assert_string_equal(
        info, "{\"sender\":\"s\",\"funds\":[{\"denom\":\"a\",\"amount\":\"1\"},{\"denom\":\"b\",\"amount\":"
              "\"340282366920938463463374607431768211455\"}]}");
    free(info);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nameservice),
        cmocka_unit_test(reflect_and_reply),
        cmocka_unit_test(query_chain_through_querier),
        cmocka_unit_test(nested_calls_bounded),
        cmocka_unit_test(nested_deep_stacks),
        cmocka_unit_test(probe_iterators_and_api),
        cmocka_unit_test(bech32_api),
        cmocka_unit_test(host_crypto),
        cmocka_unit_test(response_parser),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
