/*
 * test_chain_cosmwasm.c — contracts compiled from Rust by others, through the
 * chain's x/wasm module as wasmd's messages drive them (in-process chain,
 * signed txs, FinalizeBlock/Commit, gRPC queries).
 *
 * The contracts are cosmwasm-vm 3.0.2's testdata (hackatom built with
 * cosmwasm-std 2.2 and 1.3, ibc_reflect), fetched and checked by
 * `scripts/setup cosmwasm`; WICAS_COSMWASM_TESTDATA points at them and the
 * test fails when they are missing. Checked: upload (and refusal of a
 * contract needing stargate), instantiate with funds, release sending the
 * contract's whole balance with wasmd's events (execute, wasm, wasm-hackatom,
 * transfer), Response.data in the tx result, smart queries including the
 * contract querying itself through the chain's querier, migrate between the
 * 2.2 and 1.3 builds with MigrateInfo carrying the OLD code's
 * cw_migrate_version (a downgrade is refused by the contract), panics;
 * cyberpunk's mirror of the Env a query and a tx get, a bank query kind the
 * chain lacks reaching the contract as a SystemError, and its message loop
 * ending out of gas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "chain.h"
#include "client.h"
#include "chain_internal.h"
#include "common.h"
#include "wchain.pb-c.h"
#include "chain_test_util.h"
#include "apphash_pins.h"

static char dir[256];
static uint8_t alice_sk[32], bob_sk[32];
static char alice[100], bob[100], carol[100];
static uint64_t alice_seq, bob_seq;

static int setup(void **st) {
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/wicas_chain_cw_XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 32; i++) {
        alice_sk[i] = (uint8_t)(i + 1);
        bob_sk[i] = (uint8_t)(0x40 + i);
    }
    ctu_addr_of(alice_sk, alice);
    ctu_addr_of(bob_sk, bob);
    uint8_t ca[20];
    memset(ca, 0xCC, 20);
    wicas_chain_addr_encode(ca, 20, carol, sizeof carol);
    return 0;
}

static int teardown(void **st) {
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static uint8_t *load_cw(const char *name, size_t *len) {
    const char *d = getenv("WICAS_COSMWASM_TESTDATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", d ? d : "", name);
    uint8_t *b = wicas_read_file(path, 4u << 20, len);
    if (!b) fprintf(stderr, "cannot read %s: run `scripts/setup cosmwasm`\n", path);
    assert_non_null(b);
    return b;
}

/* One tx (signed by alice or bob) in its own block, committed. */
static int64_t height;
static void run(wicas_chain *c, bool by_bob, wicas_chain_any *m, uint64_t gas, wicas_chain_tx_result *r) {
    wicas_chain_tx_params p = {.chain_id = "wicas-test",
                               .account_number = by_bob ? 1 : 0,
                               .sequence = by_bob ? bob_seq++ : alice_seq++,
                               .gas_limit = gas,
                               .fee = "100uwicas"};
    uint8_t *tx;
    size_t len;
    char err[256];
    assert_int_equal(
        wicas_chain_tx_build_sign(by_bob ? bob_sk : alice_sk, NULL, &p, m, 1, &tx, &len, err, sizeof err), 0);
    wicas_chain_any_free(m);
    wicas_chain_block b = {.height = ++height,
                           .time_seconds = 1700000000 + height,
                           .txs = (const uint8_t *const *)&tx,
                           .tx_lens = &len,
                           .n_txs = 1};
    wicas_chain_event *ev;
    size_t nev;
    uint8_t hash[32];
    int rc = wicas_chain_finalize_block(c, &b, r, &ev, &nev, hash, err, sizeof err);
    if (rc) fprintf(stderr, "finalize: %s\n", err);
    assert_int_equal(rc, 0);
    pins_add(hash);
    wicas_chain_events_free(ev, nev);
    int64_t retain;
    assert_int_equal(wicas_chain_commit(c, &retain), 0);
    free(tx);
}

static uint64_t store(wicas_chain *c, const uint8_t *wasm, size_t wl, wicas_chain_tx_result *r) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_store_code(alice, wasm, wl, &m, err, sizeof err), 0);
    run(c, false, &m, 40000000, r);
    if (r->code) return 0;
    const char *id = ctu_attr(r, "store_code", "code_id");
    assert_non_null(id);
    return strtoull(id, NULL, 10);
}

static void instantiate(wicas_chain *c, uint64_t code, const char *init, const char *funds, char out[100]) {
    wicas_chain_any m;
    char err[256];
    wicas_chain_tx_result r;
    assert_int_equal(
        wicas_chain_msg_instantiate(alice, alice, code, "hackatom", init, funds, &m, err, sizeof err), 0);
    run(c, false, &m, 5000000, &r);
    if (r.code) fprintf(stderr, "instantiate: %s\n", r.log);
    assert_int_equal(r.code, 0);
    snprintf(out, 100, "%s", ctu_attr(&r, "instantiate", "_contract_address"));
    assert_string_equal(ctu_attr(&r, "wasm", "Let the"), "hacking begin");
    wicas_chain_tx_result_free(&r);
}

static void execute(wicas_chain *c, bool by_bob, const char *contract, const char *json, const char *funds,
                    wicas_chain_tx_result *r) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(
        wicas_chain_msg_execute(by_bob ? bob : alice, contract, json, funds, &m, err, sizeof err), 0);
    run(c, by_bob, &m, 5000000, r);
}

static void migrate(wicas_chain *c, const char *contract, uint64_t code, const char *json,
                    wicas_chain_tx_result *r) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_migrate(alice, contract, code, json, &m, err, sizeof err), 0);
    run(c, false, &m, 5000000, r);
}

static char last_query_log[1024]; /* the log of the last failed smart query */
static char *smart(wicas_chain *c, const char *contract, const char *q, uint32_t *code) {
    return ctu_smart(c, contract, q, code, last_query_log, sizeof last_query_log);
}

static void assert_verifier(wicas_chain *c, const char *contract, const char *want) {
    uint32_t code;
    char *out = smart(c, contract, "{\"verifier\":{}}", &code);
    assert_int_equal(code, 0);
    char exp[200];
    snprintf(exp, sizeof exp, "{\"verifier\":\"%s\"}", want);
    assert_string_equal(out, exp);
    free(out);
}

/* true when the bytes needle[0..n) occur in hay[0..hl) */
static bool has_bytes(const uint8_t *hay, size_t hl, const void *needle, size_t n) {
    for (size_t i = 0; hay && i + n <= hl; i++)
        if (memcmp(hay + i, needle, n) == 0) return true;
    return false;
}

static void test_hackatom_on_chain(void **st) {
    (void)st;
    wicas_chain_options o = {0};
    o.no_sync = true;
    o.map_size = 256u << 20;
    wicas_chain *c;
    char err[256];
    assert_int_equal(wicas_chain_open(dir, &o, &c, err, sizeof err), 0);
    char g[600];
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000\"}]},"
             "{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":\"500\"}]}]}}",
             alice, bob);
    uint8_t h0[32];
    assert_int_equal(wicas_chain_init_chain(c, "wicas-test", 1, g, strlen(g), h0, err, sizeof err), 0);
    pins_add(h0);

    /* upload: both hackatom builds; ibc_reflect needs stargate, which WICAS does not offer */
    size_t l2, l1, lr;
    uint8_t *w2 = load_cw("hackatom.wasm", &l2), *w1 = load_cw("hackatom_1.3.wasm", &l1);
    uint8_t *wr = load_cw("ibc_reflect.wasm", &lr);
    wicas_chain_tx_result r;
    uint64_t code2 = store(c, w2, l2, &r);
    assert_int_equal(r.code, 0);
    uint8_t sum[32];
    char hex[65];
    wicas_sha256(w2, l2, sum);
    wicas_hex_encode(sum, 32, hex);
    assert_string_equal(ctu_attr(&r, "store_code", "code_checksum"), hex);
    wicas_chain_tx_result_free(&r);
    uint64_t code1 = store(c, w1, l1, &r);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    store(c, wr, lr, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_CREATE_FAILED);
    assert_non_null(strstr(r.log, "stargate"));
    wicas_chain_tx_result_free(&r);
    /* hackatom 2.2 with its migrate version raised from 420 to 999 (same length, new checksum) */
    uint8_t *w9 = malloc(l2);
    memcpy(w9, w2, l2);
    uint8_t *v = NULL;
    for (size_t i = 0; i + 21 <= l2; i++)
        if (memcmp(w9 + i, "cw_migrate_version420", 21) == 0) v = w9 + i + 18;
    assert_non_null(v);
    memcpy(v, "999", 3);
    uint64_t code9 = store(c, w9, l2, &r);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    free(w9);
    free(w1);
    free(w2);
    free(wr);

    /* instantiate with funds: verifier alice, beneficiary carol */
    char hack[100], init[400];
    snprintf(init, sizeof init, "{\"verifier\":\"%s\",\"beneficiary\":\"%s\"}", alice, carol);
    instantiate(c, code2, init, "1000uwicas", hack);
    assert_int_equal(ctu_balance(c, hack, "uwicas"), 1000);
    assert_verifier(c, hack, alice);

    /* bob is not the verifier: the contract refuses, nothing moves */
    execute(c, true, hack, "{\"release\":{\"denom\":\"uwicas\"}}", NULL, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_EXECUTE_FAILED);
    assert_non_null(strstr(r.log, "Unauthorized"));
    wicas_chain_tx_result_free(&r);
    assert_int_equal(ctu_balance(c, hack, "uwicas"), 1000);

    /* release: the contract's whole balance (with the 15 sent along) goes to carol */
    execute(c, false, hack, "{\"release\":{\"denom\":\"uwicas\"}}", "15uwicas", &r);
    if (r.code) fprintf(stderr, "release: %s\n", r.log);
    assert_int_equal(r.code, 0);
    assert_string_equal(ctu_attr(&r, "execute", "_contract_address"), hack);
    assert_string_equal(ctu_attr(&r, "wasm", "_contract_address"), hack);
    assert_string_equal(ctu_attr(&r, "wasm", "action"), "release");
    assert_string_equal(ctu_attr(&r, "wasm", "destination"), carol);
    assert_string_equal(ctu_attr(&r, "wasm-hackatom", "action"), "release");
    assert_string_equal(ctu_attr(&r, "wasm-hackatom", "_contract_address"), hack);
    assert_string_equal(ctu_attr(&r, "transfer", "sender"), hack);
    assert_string_equal(ctu_attr(&r, "transfer", "recipient"), carol);
    assert_string_equal(ctu_attr(&r, "transfer", "amount"), "1015uwicas");
    assert_true(
        has_bytes(r.data, r.data_len, "\xf0\x0b\xaa", 3)); /* Response.data in MsgExecuteContractResponse */
    print_message("hackatom release on chain: %lld SDK gas used\n", (long long)r.gas_used);
    wicas_chain_tx_result_free(&r);
    assert_int_equal(ctu_balance(c, carol, "uwicas"), 1015);
    assert_int_equal(ctu_balance(c, hack, "uwicas"), 0);

    /* the contract queries itself through the chain's querier (wasm smart), 3 levels */
    uint32_t qc;
    char *out = smart(c, hack, "{\"recurse\":{\"depth\":3,\"work\":2}}", &qc);
    assert_int_equal(qc, 0);
    assert_non_null(strstr(out, "\"hashed\":\""));
    free(out);
    out = smart(c, hack, "{\"get_int\":{}}", &qc);
    assert_int_equal(qc, 0);
    assert_non_null(strstr(out, "\"int\":"));
    free(out);

    /* migrate 2.2 -> 1.3 (2-argument migrate), then 1.3 -> 2.2: MigrateInfo carries
     * the version of the code migrated FROM (42 < 420: accepted); 2.2 -> 2.2 is
     * refused by the contract (old version 420 is not below its own 420) */
    char mj[200];
    snprintf(mj, sizeof mj, "{\"verifier\":\"%s\"}", bob);
    migrate(c, hack, code1, mj, &r);
    if (r.code) fprintf(stderr, "migrate: %s\n", r.log);
    assert_int_equal(r.code, 0);
    assert_string_equal(ctu_attr(&r, "migrate", "_contract_address"), hack);
    wicas_chain_tx_result_free(&r);
    assert_verifier(c, hack, bob);
    snprintf(mj, sizeof mj, "{\"verifier\":\"%s\"}", carol);
    migrate(c, hack, code2, mj, &r);
    if (r.code) fprintf(stderr, "migrate: %s\n", r.log);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    assert_verifier(c, hack, carol);
    snprintf(mj, sizeof mj, "{\"verifier\":\"%s\"}", alice);
    migrate(c, hack, code2, mj, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_MIGRATION_FAILED);
    assert_non_null(strstr(r.log, "Downgrade is not supported"));
    wicas_chain_tx_result_free(&r);
    assert_verifier(c, hack, carol); /* the failed migration changed nothing */
    wicas_chain_query_result qr;
    {
        Wchain__QueryContractInfoRequest q = WCHAIN__QUERY_CONTRACT_INFO_REQUEST__INIT;
        q.address = hack;
        uint8_t buf[200];
        size_t n = wchain__query_contract_info_request__pack(&q, buf);
        wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/ContractInfo", buf, n, 0, false, &qr);
        assert_int_equal(qr.code, 0);
        Wchain__QueryContractInfoResponse *ci =
            wchain__query_contract_info_response__unpack(NULL, qr.value_len, qr.value);
        assert_non_null(ci);
        assert_int_equal(ci->contract_info->code_id, code2);
        wchain__query_contract_info_response__free_unpacked(ci, NULL);
        wicas_chain_query_result_free(&qr);
    }

    /* from the code whose migrate version is 999 to 420: refused as a downgrade */
    char hack9[100];
    instantiate(c, code9, init, NULL, hack9);
    migrate(c, hack9, code1, mj, &r); /* 999 -> 1.3: its migrate takes no MigrateInfo, accepted */
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    char hack9b[100];
    instantiate(c, code9, init, NULL, hack9b);
    migrate(c, hack9b, code2, mj, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_MIGRATION_FAILED);
    assert_non_null(strstr(r.log, "Downgrade is not supported"));
    wicas_chain_tx_result_free(&r);

    /* a Rust panic is a failed tx with the panic message, not a node problem */
    execute(c, false, hack, "{\"panic\":{}}", NULL, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_EXECUTE_FAILED);
    assert_non_null(strstr(r.log, "This page intentionally faulted"));
    wicas_chain_tx_result_free(&r);

    /* cyberpunk: the Env a query and a tx get, as the contract deserialises it;
     * a message loop to itself ends as a failed tx */
    size_t lc;
    uint8_t *wc = load_cw("cyberpunk.wasm", &lc);
    uint64_t codec = store(c, wc, lc, &r);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    free(wc);
    char cyber[100];
    {
        wicas_chain_any m;
        assert_int_equal(
            wicas_chain_msg_instantiate(alice, NULL, codec, "cyberpunk", "{}", NULL, &m, err, sizeof err), 0);
        run(c, false, &m, 5000000, &r);
        assert_int_equal(r.code, 0);
        snprintf(cyber, sizeof cyber, "%s", ctu_attr(&r, "instantiate", "_contract_address"));
        wicas_chain_tx_result_free(&r);
    }
    out = smart(c, cyber, "{\"mirror_env\":{}}", &qc);
    assert_int_equal(qc, 0);
    char want[600];
    snprintf(want, sizeof want,
             "{\"block\":{\"height\":%lld,\"time\":\"%lld000000000\",\"chain_id\":\"wicas-test\"},"
             "\"transaction\":null,\"contract\":{\"address\":\"%s\"}}",
             (long long)height, (long long)(1700000000 + height), cyber);
    assert_string_equal(out, want);
    free(out);
    execute(c, false, cyber, "{\"mirror_env\":{}}", NULL, &r);
    assert_int_equal(r.code, 0);
    snprintf(want, sizeof want,
             "{\"block\":{\"height\":%lld,\"time\":\"%lld000000000\",\"chain_id\":\"wicas-test\"},"
             "\"transaction\":{\"index\":0},\"contract\":{\"address\":\"%s\"}}",
             (long long)height, (long long)(1700000000 + height), cyber);
    assert_true(has_bytes(r.data, r.data_len, want, strlen(want)));
    wicas_chain_tx_result_free(&r);
    /* a query kind the chain has no module for (bank denom metadata) comes back to the
     * contract as a SystemError it can parse, and the query fails cleanly */
    out = smart(c, cyber, "{\"denoms\":{}}", &qc);
    assert_null(out);
    assert_int_equal(qc, WICAS_WASM_CODE_QUERY_FAILED);
    assert_non_null(strstr(last_query_log, "Querier system error: Unsupported query type: bank"));
    execute(c, false, cyber, "{\"message_loop\":{}}", NULL, &r);
    assert_int_equal(r.code, WICAS_CODE_OUT_OF_GAS); /* each round pays for loading the module, as on wasmd */
    assert_non_null(r.codespace);
    assert_string_equal(r.codespace, "sdk");
    wicas_chain_tx_result_free(&r);

    /* empty.wasm (no entry points) uploads, as on wasmd; instantiating it fails cleanly */
    size_t le;
    uint8_t *we = load_cw("empty.wasm", &le);
    uint64_t codee = store(c, we, le, &r);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    free(we);
    {
        wicas_chain_any m;
        assert_int_equal(
            wicas_chain_msg_instantiate(alice, NULL, codee, "empty", "{}", NULL, &m, err, sizeof err), 0);
        run(c, false, &m, 5000000, &r);
        assert_int_equal(r.code, WICAS_WASM_CODE_INSTANTIATE_FAILED);
        assert_non_null(strstr(r.log, "does not export instantiate"));
        wicas_chain_tx_result_free(&r);
    }
    wicas_chain_close(c);
}

/* Last: the app hashes the tests above went through equal the pinned ones. */
static void apphash_pins(void **st) {
    (void)st;
    pins_check("test_chain_cosmwasm");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hackatom_on_chain),
        cmocka_unit_test(apphash_pins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
