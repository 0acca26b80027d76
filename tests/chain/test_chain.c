/* test_chain.c — the state machine through its public API (chain.h), as the
 * ABCI layer drives it: genesis, CheckTx, FinalizeBlock, Commit, Query.
 *   - bank sends with the SDK's events, balances, account numbers/sequences
 *   - invalid txs (bad signature, replayed sequence, insufficient fee, out of
 *     gas, malformed bytes, unknown message type, unknown account, wrong chain
 *     id) rejected with their codes and NO state change (same app hash)
 *   - failed message in a block: fee charged and sequence used, send reverted
 *   - restart resumes at the same height and hash
 *   - store queries with inclusion / exclusion proofs verified against the app
 *     hash, also at a past height; Simulate; Account query
 *   - wasm: store/instantiate/execute/query the counter contract (when built). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pthread.h>

#include "chain.h"
#include "client.h"
#include "chain_internal.h"
#include "common.h"
#include "wchain.pb-c.h"
#include "chain_test_util.h"
#include "apphash_pins.h"
#include <cjson/cJSON.h>

static char dir[256];
static uint8_t alice_sk[32], bob_sk[32];
static char alice[100], bob[100], carol[100];

static wicas_chain *open_chain(uint64_t num, uint64_t den) {
    wicas_chain_options o = {0};
    o.min_gas_price_num = num;
    o.min_gas_price_den = den;
    o.no_sync = true;
    o.map_size = 256u << 20;
    wicas_chain *c;
    char err[256];
    int rc = wicas_chain_open(dir, &o, &c, err, sizeof err);
    if (rc) fprintf(stderr, "open: %s\n", err);
    assert_int_equal(rc, 0);
    return c;
}

static int setup(void **st) {
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/wicas_chain_XXXXXX");
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

static uint8_t *send_tx(const uint8_t *sk, const char *from, const char *to, const char *amt,
                        const char *chain_id, uint64_t acc, uint64_t seq, uint64_t gas, const char *fee,
                        size_t *len) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_send(from, to, amt, &m, err, sizeof err), 0);
    wicas_chain_tx_params p = {
        .chain_id = chain_id, .account_number = acc, .sequence = seq, .gas_limit = gas, .fee = fee};
    uint8_t *tx;
    assert_int_equal(wicas_chain_tx_build_sign(sk, NULL, &p, &m, 1, &tx, len, err, sizeof err), 0);
    wicas_chain_any_free(&m);
    return tx;
}

/* Runs one block with the given txs and commits; results are checked by the caller. */
static void block(wicas_chain *c, int64_t h, uint8_t **txs, size_t *lens, size_t n,
                  wicas_chain_tx_result *res, uint8_t hash[32]) {
    wicas_chain_block b = {.height = h,
                           .time_seconds = 1700000000 + h,
                           .txs = (const uint8_t *const *)txs,
                           .tx_lens = lens,
                           .n_txs = n};
    char err[256];
    wicas_chain_event *ev;
    size_t nev;
    int rc = wicas_chain_finalize_block(c, &b, res, &ev, &nev, hash, err, sizeof err);
    if (rc) fprintf(stderr, "finalize: %s\n", err);
    assert_int_equal(rc, 0);
    pins_add(hash);
    wicas_chain_events_free(ev, nev);
    int64_t retain;
    assert_int_equal(wicas_chain_commit(c, &retain), 0);
}

static void genesis(wicas_chain *c, uint8_t hash[32]) {
    char g[600];
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000\"},"
             "{\"denom\":\"ufoo\",\"amount\":\"7\"}]},{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\","
             "\"amount\":\"500\"}]}]}}",
             alice, bob);
    char err[256];
    int rc = wicas_chain_init_chain(c, "wicas-test", 1, g, strlen(g), hash, err, sizeof err);
    if (rc) fprintf(stderr, "init: %s\n", err);
    assert_int_equal(rc, 0);
    pins_add(hash);
}

static void test_bank_and_invalid(void **st) {
    (void)st;
    wicas_chain *c = open_chain(1, 100); /* 0.01 uwicas per gas */
    uint8_t h0[32], h[32], hh[32];
    /* bad genesis is refused and changes nothing */
    char err[256];
    const char *badg = "{\"bank\":{\"balances\":[{\"address\":\"nope\"}]}}";
    assert_int_equal(wicas_chain_init_chain(c, "wicas-test", 1, badg, strlen(badg), h0, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_non_null(strstr(err, "bank.balances[0]"));
    genesis(c, h0);
    assert_int_not_equal(h0[0] | h0[1] | h0[2], 0);
    size_t l1;
    uint8_t *tx1 = send_tx(alice_sk, alice, bob, "1000uwicas", "wicas-test", 0, 0, 100000, "1000uwicas", &l1);
    /* CheckTx accepts it and applies fee+sequence to the check state only */
    wicas_chain_tx_result r;
    wicas_chain_check_tx(c, tx1, l1, false, &r);
    assert_int_equal(r.code, 0);
    assert_true(r.gas_used > 0 && r.gas_used <= 100000);
    wicas_chain_tx_result_free(&r);
    /* the same tx again: the check state's sequence moved on */
    wicas_chain_check_tx(c, tx1, l1, false, &r);
    assert_int_equal(r.code, WICAS_CODE_WRONG_SEQUENCE);
    assert_string_equal(r.codespace, "sdk");
    assert_non_null(strstr(r.log, "account sequence mismatch, expected 1, got 0"));
    wicas_chain_tx_result_free(&r);

    wicas_chain_tx_result res[1];
    block(c, 1, &tx1, &l1, 1, res, h);
    if (res[0].code) fprintf(stderr, "tx1: %s\n", res[0].log);
    assert_int_equal(res[0].code, 0);
    assert_string_equal(ctu_attr(&res[0], "transfer", "recipient"), bob);
    assert_string_equal(ctu_attr(&res[0], "transfer", "amount"), "1000uwicas");
    assert_string_equal(ctu_attr(&res[0], "coin_spent", "spender"), alice);
    assert_string_equal(ctu_attr(&res[0], "message", "action"), "/cosmos.bank.v1beta1.MsgSend");
    assert_string_equal(ctu_attr(&res[0], "tx", "fee"), "1000uwicas");
    assert_non_null(res[0].data);
    wicas_chain_tx_result_free(&res[0]);
    assert_memory_not_equal(h, h0, 32);
    assert_int_equal(ctu_balance(c, alice, "uwicas"), 1000000 - 1000 - 1000);
    assert_int_equal(ctu_balance(c, bob, "uwicas"), 1500);
    assert_int_equal(ctu_balance(c, alice, "ufoo"), 7);
    {
        /* AllBalances: both denoms, sorted */
        Wchain__QueryAllBalancesRequest q = WCHAIN__QUERY_ALL_BALANCES_REQUEST__INIT;
        q.address = alice;
        uint8_t qb2[200];
        size_t qn2 = wchain__query_all_balances_request__pack(&q, qb2);
        wicas_chain_query_result qr2;
        wicas_chain_query(c, "/cosmos.bank.v1beta1.Query/AllBalances", qb2, qn2, 0, false, &qr2);
        assert_int_equal(qr2.code, 0);
        Wchain__QueryAllBalancesResponse *ab =
            wchain__query_all_balances_response__unpack(NULL, qr2.value_len, qr2.value);
        assert_int_equal(ab->n_balances, 2);
        assert_string_equal(ab->balances[0]->denom, "ufoo");
        assert_string_equal(ab->balances[0]->amount, "7");
        assert_string_equal(ab->balances[1]->denom, "uwicas");
        assert_string_equal(ab->balances[1]->amount, "998000");
        wchain__query_all_balances_response__free_unpacked(ab, NULL);
        wicas_chain_query_result_free(&qr2);
        /* pagination: one per page, the second page from next_key */
        Wchain__PageRequest pg = WCHAIN__PAGE_REQUEST__INIT;
        pg.limit = 1;
        q.pagination = &pg;
        qn2 = wchain__query_all_balances_request__pack(&q, qb2);
        wicas_chain_query(c, "/cosmos.bank.v1beta1.Query/AllBalances", qb2, qn2, 0, false, &qr2);
        ab = wchain__query_all_balances_response__unpack(NULL, qr2.value_len, qr2.value);
        assert_int_equal(ab->n_balances, 1);
        assert_string_equal(ab->balances[0]->denom, "ufoo");
        assert_int_equal(ab->pagination->total, 2);
        assert_int_equal(ab->pagination->next_key.len, 6);
        assert_memory_equal(ab->pagination->next_key.data, "uwicas", 6);
        pg.key.data = (uint8_t *)"uwicas";
        pg.key.len = 6;
        wchain__query_all_balances_response__free_unpacked(ab, NULL);
        wicas_chain_query_result_free(&qr2);
        qn2 = wchain__query_all_balances_request__pack(&q, qb2);
        wicas_chain_query(c, "/cosmos.bank.v1beta1.Query/AllBalances", qb2, qn2, 0, false, &qr2);
        ab = wchain__query_all_balances_response__unpack(NULL, qr2.value_len, qr2.value);
        assert_int_equal(ab->n_balances, 1);
        assert_string_equal(ab->balances[0]->denom, "uwicas");
        assert_int_equal(ab->pagination->next_key.len, 0);
        wchain__query_all_balances_response__free_unpacked(ab, NULL);
        wicas_chain_query_result_free(&qr2);
        /* rendered for the CLI */
        char *js = wicas_chain_query_response_json("/cosmos.bank.v1beta1.Query/AllBalances", NULL, 0);
        assert_non_null(js); /* an empty response is a valid empty list */
        free(js);
    }
    int64_t height;
    wicas_chain_info(c, &height, hh);
    assert_int_equal(height, 1);
    assert_memory_equal(hh, h, 32);

    /* invalid txs: each rejected by CheckTx with its code, and a block of them
     * changes no state */
    size_t n_bad = 0;
    uint8_t *bad[10];
    size_t bl[10];
    uint32_t want[10];
    /* bad signature: flip a bit in the signature (last bytes of TxRaw) */
    bad[n_bad] =
        send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 1, 100000, "1000uwicas", &bl[n_bad]);
    bad[n_bad][bl[n_bad] - 5] ^= 1;
    want[n_bad++] = WICAS_CODE_UNAUTHORIZED;
    /* wrong chain id in the SignDoc => signature fails */
    bad[n_bad] =
        send_tx(alice_sk, alice, bob, "1uwicas", "other-chain", 0, 1, 100000, "1000uwicas", &bl[n_bad]);
    want[n_bad++] = WICAS_CODE_UNAUTHORIZED;
    /* replayed sequence: tx1 again */
    bad[n_bad] = malloc(l1);
    memcpy(bad[n_bad], tx1, l1);
    bl[n_bad] = l1;
    want[n_bad++] = WICAS_CODE_WRONG_SEQUENCE;
    /* insufficient fee for the min gas price (100000 gas * 0.01 = 1000) */
    bad[n_bad] =
        send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 1, 100000, "999uwicas", &bl[n_bad]);
    want[n_bad++] = WICAS_CODE_INSUFFICIENT_FEE;
    /* out of gas: the tx-size cost alone exceeds 500 gas */
    bad[n_bad] = send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 1, 500, "1000uwicas", &bl[n_bad]);
    want[n_bad++] = WICAS_CODE_OUT_OF_GAS;
    /* malformed bytes */
    bad[n_bad] = malloc(8);
    memcpy(bad[n_bad], "\x0a\xff\xff\xff\x01garb", 8);
    bl[n_bad] = 8;
    want[n_bad++] = WICAS_CODE_TX_DECODE;
    /* unknown message type */
    {
        wicas_chain_any m = {
            .type_url = (char *)"/cosmos.gov.v1.MsgVote", .value = (uint8_t *)"\x08\x01", .value_len = 2};
        wicas_chain_tx_params p = {
            .chain_id = "wicas-test", .sequence = 1, .gas_limit = 100000, .fee = "1000uwicas"};
        char e2[200];
        assert_int_equal(
            wicas_chain_tx_build_sign(alice_sk, NULL, &p, &m, 1, &bad[n_bad], &bl[n_bad], e2, sizeof e2), 0);
        want[n_bad++] = WICAS_CODE_UNKNOWN_REQUEST;
    }
    /* unknown account: a key nobody funded */
    {
        uint8_t sk[32];
        memset(sk, 0x77, 32);
        char a[100];
        ctu_addr_of(sk, a);
        bad[n_bad] = send_tx(sk, a, bob, "1uwicas", "wicas-test", 0, 0, 100000, "1000uwicas", &bl[n_bad]);
        want[n_bad++] = WICAS_CODE_UNKNOWN_ADDRESS;
    }
    /* insufficient funds to pay the fee */
    bad[n_bad] =
        send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 1, 100000, "999999999uwicas", &bl[n_bad]);
    want[n_bad++] = WICAS_CODE_INSUFFICIENT_FUNDS;
    /* a signer that is not the message's sender (bob signs alice's send) */
    {
        wicas_chain_any m;
        char e2[200];
        assert_int_equal(wicas_chain_msg_send(alice, bob, "1uwicas", &m, e2, sizeof e2), 0);
        wicas_chain_tx_params p = {.chain_id = "wicas-test",
                                   .account_number = 1,
                                   .sequence = 0,
                                   .gas_limit = 100000,
                                   .fee = "1000uwicas"};
        assert_int_equal(
            wicas_chain_tx_build_sign(bob_sk, NULL, &p, &m, 1, &bad[n_bad], &bl[n_bad], e2, sizeof e2), 0);
        wicas_chain_any_free(&m);
        want[n_bad++] = WICAS_CODE_INVALID_PUBKEY;
    }
    for (size_t i = 0; i < n_bad; i++) {
        wicas_chain_check_tx(c, bad[i], bl[i], false, &r);
        if (r.code != want[i])
            fprintf(stderr, "bad tx %zu: code %u (%s), want %u\n", i, r.code, r.log, want[i]);
        assert_int_equal(r.code, want[i]);
        assert_true(strlen(r.log) > 5);
        wicas_chain_tx_result_free(&r);
    }
    wicas_chain_tx_result bres[10];
    uint8_t h2[32];
    block(c, 2, bad, bl, n_bad, bres, h2);
    for (size_t i = 0; i < n_bad; i++) {
        /* the min gas price is a CheckTx rule only: in a block the 999 fee tx is
         * valid. Everything else fails the same way. */
        if (want[i] == WICAS_CODE_INSUFFICIENT_FEE) {
            assert_int_equal(bres[i].code, 0);
        } else {
            assert_int_equal(bres[i].code, want[i]);
        }
        wicas_chain_tx_result_free(&bres[i]);
        free(bad[i]);
    }
    /* exactly one state change: the valid low-fee send */
    assert_int_equal(ctu_balance(c, bob, "uwicas"), 1501);
    assert_int_equal(ctu_balance(c, alice, "uwicas"), 1000000 - 2000 - 999 - 1);

    /* a block with only invalid txs keeps the app hash */
    size_t lg = 8;
    uint8_t *garbage = (uint8_t *)"\x0a\xff\xff\xff\x01garb";
    uint8_t h3[32];
    block(c, 3, &garbage, &lg, 1, bres, h3);
    assert_int_equal(bres[0].code, WICAS_CODE_TX_DECODE);
    wicas_chain_tx_result_free(&bres[0]);
    assert_memory_equal(h3, h2, 32);

    /* a failing message in a block: fee paid, sequence used, send reverted */
    size_t lf;
    uint8_t *txf =
        send_tx(alice_sk, alice, bob, "5000000uwicas", "wicas-test", 0, 2, 100000, "1000uwicas", &lf);
    uint64_t a0 = ctu_balance(c, alice, "uwicas"), b0 = ctu_balance(c, bob, "uwicas");
    uint8_t h4[32];
    block(c, 4, &txf, &lf, 1, bres, h4);
    assert_int_equal(bres[0].code, WICAS_CODE_INSUFFICIENT_FUNDS);
    assert_non_null(strstr(bres[0].log, "message index: 0"));
    assert_true(bres[0].gas_used > 0);
    wicas_chain_tx_result_free(&bres[0]);
    free(txf);
    assert_int_equal(ctu_balance(c, alice, "uwicas"), a0 - 1000);
    assert_int_equal(ctu_balance(c, bob, "uwicas"), b0);
    /* next sequence is 3 */
    txf = send_tx(alice_sk, alice, carol, "10uwicas", "wicas-test", 0, 3, 100000, "1000uwicas", &lf);
    uint8_t h5[32];
    block(c, 5, &txf, &lf, 1, bres, h5);
    assert_int_equal(bres[0].code, 0);
    wicas_chain_tx_result_free(&bres[0]);
    free(txf);
    assert_int_equal(ctu_balance(c, carol, "uwicas"), 10);

    /* out of gas inside the message (after the ante): fee charged, code 11 */
    /* CheckTx runs only the ante handler: its gas_used is the ante's cost */
    txf = send_tx(alice_sk, alice, carol, "10uwicas", "wicas-test", 0, 4, 100000, "1000uwicas", &lf);
    wicas_chain_check_tx(c, txf, lf, false, &r);
    assert_int_equal(r.code, 0);
    int64_t ante_gas = r.gas_used;
    assert_true(ante_gas > 2000 && ante_gas < 100000);
    wicas_chain_tx_result_free(&r);
    free(txf);
    int64_t lim = ante_gas + 200; /* a varint byte more or less is 10 gas */
    txf = send_tx(alice_sk, alice, carol, "10uwicas", "wicas-test", 0, 4, (uint64_t)lim, "1000uwicas", &lf);
    uint8_t h6[32];
    a0 = ctu_balance(c, alice, "uwicas");
    block(c, 6, &txf, &lf, 1, bres, h6);
    assert_int_equal(bres[0].code, WICAS_CODE_OUT_OF_GAS);
    assert_int_equal(bres[0].gas_used, lim);
    wicas_chain_tx_result_free(&bres[0]);
    free(txf);
    assert_int_equal(ctu_balance(c, carol, "uwicas"), 10);
    assert_int_equal(ctu_balance(c, alice, "uwicas"), a0 - 1000);

    /* account query */
    Wchain__QueryAccountRequest aq = WCHAIN__QUERY_ACCOUNT_REQUEST__INIT;
    aq.address = alice;
    uint8_t qb[200];
    size_t qn = wchain__query_account_request__pack(&aq, qb);
    wicas_chain_query_result qr;
    wicas_chain_query(c, "/cosmos.auth.v1beta1.Query/Account", qb, qn, 0, false, &qr);
    assert_int_equal(qr.code, 0);
    Wchain__QueryAccountResponse *ar = wchain__query_account_response__unpack(NULL, qr.value_len, qr.value);
    assert_string_equal(ar->account->type_url, "/cosmos.auth.v1beta1.BaseAccount");
    Wchain__BaseAccount *ba =
        wchain__base_account__unpack(NULL, ar->account->value.len, ar->account->value.data);
    assert_int_equal(ba->sequence, 5);
    assert_int_equal(ba->account_number, 0);
    assert_string_equal(ba->address, alice);
    wchain__base_account__free_unpacked(ba, NULL);
    wchain__query_account_response__free_unpacked(ar, NULL);
    wicas_chain_query_result_free(&qr);
    aq.address = carol;
    qn = wchain__query_account_request__pack(&aq, qb);
    wicas_chain_query(c, "/cosmos.auth.v1beta1.Query/Account", qb, qn, 0, false, &qr);
    assert_int_equal(qr.code, 0); /* created on receipt */
    wicas_chain_query_result_free(&qr);
    wicas_chain_query(c, "/nope", NULL, 0, 0, false, &qr);
    assert_int_equal(qr.code, WICAS_CODE_UNKNOWN_REQUEST);
    wicas_chain_query_result_free(&qr);

    /* simulate: gas estimate without a signature */
    {
        wicas_chain_any m;
        char e2[200];
        assert_int_equal(wicas_chain_msg_send(alice, bob, "1uwicas", &m, e2, sizeof e2), 0);
        uint8_t pk[33];
        wicas_chain_pubkey_from_secret(alice_sk, pk);
        wicas_chain_tx_params p = {.chain_id = "wicas-test", .sequence = 5, .gas_limit = 0, .fee = ""};
        uint8_t *stx;
        size_t sl;
        assert_int_equal(wicas_chain_tx_build_sign(NULL, pk, &p, &m, 1, &stx, &sl, e2, sizeof e2), 0);
        wicas_chain_any_free(&m);
        Wchain__SimulateRequest sr = WCHAIN__SIMULATE_REQUEST__INIT;
        sr.tx_bytes.data = stx;
        sr.tx_bytes.len = sl;
        uint8_t *sb = malloc(wchain__simulate_request__get_packed_size(&sr));
        size_t sbl = wchain__simulate_request__pack(&sr, sb);
        /* gas_limit 0 with no fee is what wallets simulate ("auto" fees): the
         * SDK simulates it, and so does the chain (CheckTx still refuses it) */
        wicas_chain_query(c, "/cosmos.tx.v1beta1.Service/Simulate", sb, sbl, 0, false, &qr);
        if (qr.code) fprintf(stderr, "simulate gas 0: %s\n", qr.log);
        assert_int_equal(qr.code, 0);
        wicas_chain_query_result_free(&qr);
        {
            wicas_chain_tx_result cr;
            wicas_chain_check_tx(c, stx, sl, false, &cr);
            assert_int_equal(cr.code, WICAS_CODE_INVALID_GAS_LIMIT);
            wicas_chain_tx_result_free(&cr);
        }
        free(sb);
        free(stx);
        p.gas_limit = 1000000;
        assert_int_equal(wicas_chain_msg_send(alice, bob, "1uwicas", &m, e2, sizeof e2), 0);
        assert_int_equal(wicas_chain_tx_build_sign(NULL, pk, &p, &m, 1, &stx, &sl, e2, sizeof e2), 0);
        wicas_chain_any_free(&m);
        sr.tx_bytes.data = stx;
        sr.tx_bytes.len = sl;
        sb = malloc(wchain__simulate_request__get_packed_size(&sr));
        sbl = wchain__simulate_request__pack(&sr, sb);
        wicas_chain_query(c, "/cosmos.tx.v1beta1.Service/Simulate", sb, sbl, 0, false, &qr);
        assert_int_equal(qr.code, 0);
        Wchain__SimulateResponse *sresp = wchain__simulate_response__unpack(NULL, qr.value_len, qr.value);
        assert_non_null(sresp);
        assert_true(sresp->gas_info->gas_used > 10000 && sresp->gas_info->gas_used < 200000);
        assert_true(sresp->result->n_events > 3);
        wchain__simulate_response__free_unpacked(sresp, NULL);
        wicas_chain_query_result_free(&qr);
        free(sb);
        free(stx);
        /* simulation changed nothing */
        assert_int_equal(ctu_balance(c, bob, "uwicas"), b0);
    }

    /* restart: same height and hash */
    uint8_t before[32];
    int64_t hb;
    wicas_chain_info(c, &hb, before);
    wicas_chain_close(c);
    c = open_chain(1, 100);
    int64_t ha;
    uint8_t after[32];
    wicas_chain_info(c, &ha, after);
    assert_int_equal(ha, hb);
    assert_memory_equal(after, before, 32);
    assert_string_equal(wicas_chain_id(c), "wicas-test");
    /* init_chain again is refused */
    assert_int_equal(wicas_chain_init_chain(c, "x", 1, "{}", 2, h0, err, sizeof err), WICAS_CHAIN_ERR_STATE);
    /* finalize at the wrong height is refused and changes nothing */
    wicas_chain_block wb = {.height = ha + 5};
    assert_int_equal(wicas_chain_finalize_block(c, &wb, NULL, NULL, NULL, h0, err, sizeof err),
                     WICAS_CHAIN_ERR_STATE);
    assert_int_equal(wicas_chain_commit(c, NULL), WICAS_CHAIN_ERR_STATE);

    /* proofs: bob's uwicas balance key, at the latest and at height 1 */
    uint8_t bobraw[32];
    size_t bobl;
    assert_int_equal(wicas_chain_addr_decode(bob, bobraw, &bobl), 0);
    uint8_t key[80];
    size_t kl = 0;
    memcpy(key, "bank/bal/", 9);
    kl = 9;
    key[kl++] = (uint8_t)bobl;
    memcpy(key + kl, bobraw, bobl);
    kl += bobl;
    memcpy(key + kl, "uwicas", 6);
    kl += 6;
    wicas_chain_query(c, "store/main/key", key, kl, 0, true, &qr);
    assert_int_equal(qr.code, 0);
    assert_non_null(qr.value);
    char want_v[24];
    snprintf(want_v, sizeof want_v, "%llu", (unsigned long long)b0);
    assert_int_equal(qr.value_len, strlen(want_v));
    assert_memory_equal(qr.value, want_v, qr.value_len);
    assert_int_equal(qr.n_ops, 1);
    assert_string_equal(qr.ops[0].type, WICAS_CHAIN_PROOF_OP_TYPE);
    assert_int_equal(
        wicas_chain_verify_proof(after, key, kl, qr.value, qr.value_len, qr.ops[0].data, qr.ops[0].data_len),
        0);
    assert_int_equal(wicas_chain_verify_proof(after, key, kl, (const uint8_t *)"999", 3, qr.ops[0].data,
                                              qr.ops[0].data_len),
                     WICAS_CHAIN_ERR_PROOF);
    assert_int_equal(
        wicas_chain_verify_proof(h, key, kl, qr.value, qr.value_len, qr.ops[0].data, qr.ops[0].data_len),
        WICAS_CHAIN_ERR_PROOF);
    wicas_chain_query_result_free(&qr);
    wicas_chain_query(c, "store/main/key", key, kl, 1, true, &qr);
    assert_int_equal(qr.code, 0);
    assert_int_equal(qr.height, 1);
    assert_memory_equal(qr.value, "1500", 4);
    assert_int_equal(
        wicas_chain_verify_proof(h, key, kl, qr.value, qr.value_len, qr.ops[0].data, qr.ops[0].data_len), 0);
    wicas_chain_query_result_free(&qr);
    /* absent key: exclusion proof */
    key[kl - 1] = 'X';
    wicas_chain_query(c, "store/main/key", key, kl, 0, true, &qr);
    assert_int_equal(qr.code, 0);
    assert_null(qr.value);
    assert_int_equal(wicas_chain_verify_proof(after, key, kl, NULL, 0, qr.ops[0].data, qr.ops[0].data_len),
                     0);
    wicas_chain_query_result_free(&qr);
    wicas_chain_query(c, "store/main/key", key, kl, 999, true, &qr);
    assert_int_equal(qr.code, WICAS_CODE_INVALID_REQUEST);
    wicas_chain_query_result_free(&qr);
    wicas_chain_close(c);
    free(tx1);
}

/* ---- wasm --------------------------------------------------------------------------------- */

static uint8_t *msg_tx(const wicas_chain_any *m, uint64_t seq, uint64_t gas, size_t *len) {
    wicas_chain_tx_params p = {
        .chain_id = "wicas-test", .account_number = 0, .sequence = seq, .gas_limit = gas, .fee = "100uwicas"};
    uint8_t *tx;
    char err[200];
    assert_int_equal(wicas_chain_tx_build_sign(alice_sk, NULL, &p, m, 1, &tx, len, err, sizeof err), 0);
    return tx;
}

static void run1(wicas_chain *c, int64_t h, uint8_t *tx, size_t len, wicas_chain_tx_result *r) {
    uint8_t hash[32];
    block(c, h, &tx, &len, 1, r, hash);
    if (r->code) fprintf(stderr, "tx at %lld: %u %s\n", (long long)h, r->code, r->log);
    free(tx);
}

static char *smart(wicas_chain *c, const char *contract, const char *q, uint32_t *code) {
    return ctu_smart(c, contract, q, code, NULL, 0);
}

static void test_wasm_counter(void **st) {
    (void)st;
    const char *wd = getenv("WICAS_WASM_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/counter.wasm", wd ? wd : "wasm");
    size_t wl;
    uint8_t *wasm = wicas_read_file(path, 4 << 20, &wl);
    if (!wasm) fail_msg("%s missing: the build makes it (a missing artifact is a failure)", path);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    assert_int_equal(system(cmd), 0);
    wicas_chain *c = open_chain(0, 0);
    uint8_t h[32];
    genesis(c, h);
    wicas_chain_any m;
    char err[256];
    wicas_chain_tx_result r;
    /* store */
    assert_int_equal(wicas_chain_msg_store_code(alice, wasm, wl, &m, err, sizeof err), 0);
    size_t len;
    uint8_t *tx = msg_tx(&m, 0, 5000000, &len);
    wicas_chain_any_free(&m);
    run1(c, 1, tx, len, &r);
    assert_int_equal(r.code, 0);
    assert_string_equal(ctu_attr(&r, "store_code", "code_id"), "1");
    wicas_chain_tx_result_free(&r);
    /* instantiate with funds */
    assert_int_equal(wicas_chain_msg_instantiate(alice, alice, 1, "counter", "{\"count\":5}", "100uwicas", &m,
                                                 err, sizeof err),
                     0);
    tx = msg_tx(&m, 1, 2000000, &len);
    wicas_chain_any_free(&m);
    run1(c, 2, tx, len, &r);
    assert_int_equal(r.code, 0);
    const char *ca = ctu_attr(&r, "instantiate", "_contract_address");
    assert_non_null(ca);
    char contract[100];
    snprintf(contract, sizeof contract, "%s", ca);
    /* wasmd's classic address of (code 1, instance 1), computed independently */
    uint8_t th[32], buf[53], want[32];
    wicas_sha256("module", 6, th);
    memcpy(buf, th, 32);
    memcpy(buf + 32, "wasm\0", 5);
    memset(buf + 37, 0, 16);
    buf[44] = 1;
    buf[52] = 1;
    wicas_sha256(buf, sizeof buf, want);
    char want_s[100];
    wicas_chain_addr_encode(want, 32, want_s, sizeof want_s);
    assert_string_equal(contract, want_s);
    assert_string_equal(ctu_attr(&r, "instantiate", "code_id"), "1");
    assert_string_equal(ctu_attr(&r, "wasm", "_contract_address"), contract);
    wicas_chain_tx_result_free(&r);
    assert_int_equal(ctu_balance(c, contract, "uwicas"), 100);
    /* execute increment twice */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            wicas_chain_msg_execute(alice, contract, "{\"increment\":{}}", NULL, &m, err, sizeof err), 0);
        tx = msg_tx(&m, 2 + (uint64_t)i, 2000000, &len);
        wicas_chain_any_free(&m);
        run1(c, 3 + i, tx, len, &r);
        assert_int_equal(r.code, 0);
        assert_string_equal(ctu_attr(&r, "execute", "_contract_address"), contract);
        fprintf(stderr, "increment gas used: %lld\n", (long long)r.gas_used);
        wicas_chain_tx_result_free(&r);
    }
    uint32_t code;
    char *out = smart(c, contract, "{\"get_count\":{}}", &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"count\":7"));
    free(out);
    /* a contract error fails the tx with the wasm codespace and reverts */
    assert_int_equal(
        wicas_chain_msg_execute(alice, contract, "{\"no_such_msg\":{}}", NULL, &m, err, sizeof err), 0);
    tx = msg_tx(&m, 4, 2000000, &len);
    wicas_chain_any_free(&m);
    run1(c, 5, tx, len, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_EXECUTE_FAILED);
    assert_string_equal(r.codespace, "wasm");
    wicas_chain_tx_result_free(&r);
    /* out of gas inside the contract */
    assert_int_equal(
        wicas_chain_msg_execute(alice, contract, "{\"increment\":{}}", NULL, &m, err, sizeof err), 0);
    tx = msg_tx(&m, 5, 92000, &len);
    wicas_chain_any_free(&m);
    run1(c, 6, tx, len, &r);
    assert_int_equal(r.code, WICAS_CODE_OUT_OF_GAS);
    wicas_chain_tx_result_free(&r);
    out = smart(c, contract, "{\"get_count\":{}}", &code);
    assert_non_null(strstr(out, "\"count\":7"));
    free(out);
    /* executing a missing contract */
    uint8_t fake[32] = {9};
    char fk[100];
    wicas_chain_addr_encode(fake, 32, fk, sizeof fk);
    assert_int_equal(wicas_chain_msg_execute(alice, fk, "{\"increment\":{}}", NULL, &m, err, sizeof err), 0);
    tx = msg_tx(&m, 6, 2000000, &len);
    wicas_chain_any_free(&m);
    run1(c, 7, tx, len, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_NO_SUCH_CONTRACT);
    wicas_chain_tx_result_free(&r);
    /* queries: contract info, codes, contracts by code */
    Wchain__QueryContractsByCodeRequest cq = WCHAIN__QUERY_CONTRACTS_BY_CODE_REQUEST__INIT;
    cq.code_id = 1;
    uint8_t qb[100];
    size_t qn = wchain__query_contracts_by_code_request__pack(&cq, qb);
    wicas_chain_query_result qr;
    wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/ContractsByCode", qb, qn, 0, false, &qr);
    assert_int_equal(qr.code, 0);
    Wchain__QueryContractsByCodeResponse *cr =
        wchain__query_contracts_by_code_response__unpack(NULL, qr.value_len, qr.value);
    assert_int_equal(cr->n_contracts, 1);
    assert_string_equal(cr->contracts[0], contract);
    wchain__query_contracts_by_code_response__free_unpacked(cr, NULL);
    wicas_chain_query_result_free(&qr);
    wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/Codes", NULL, 0, 0, false, &qr);
    assert_int_equal(qr.code, 0);
    Wchain__QueryCodesResponse *cs = wchain__query_codes_response__unpack(NULL, qr.value_len, qr.value);
    assert_int_equal(cs->n_code_infos, 1);
    assert_int_equal(cs->code_infos[0]->data_hash.len, 32);
    wchain__query_codes_response__free_unpacked(cs, NULL);
    wicas_chain_query_result_free(&qr);
    /* raw state: the counter stores its state under "state" */
    Wchain__QueryRawContractStateRequest rq = WCHAIN__QUERY_RAW_CONTRACT_STATE_REQUEST__INIT;
    rq.address = contract;
    rq.query_data.data = (uint8_t *)"state";
    rq.query_data.len = 5;
    uint8_t rb[200];
    qn = wchain__query_raw_contract_state_request__pack(&rq, rb);
    wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/RawContractState", rb, qn, 0, false, &qr);
    assert_int_equal(qr.code, 0);
    Wchain__QueryRawContractStateResponse *rr =
        wchain__query_raw_contract_state_response__unpack(NULL, qr.value_len, qr.value);
    assert_non_null(memmem(rr->data.data, rr->data.len, "\"count\":7", 9));
    wchain__query_raw_contract_state_response__free_unpacked(rr, NULL);
    wicas_chain_query_result_free(&qr);
    /* restart: the VM recompiles from the stored bytes and answers the same */
    wicas_chain_close(c);
    c = open_chain(0, 0);
    out = smart(c, contract, "{\"get_count\":{}}", &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"count\":7"));
    free(out);
    wicas_chain_close(c);
    free(wasm);
}

/* ---- wasm: contract messages, submessages, replies, querier, nameservice ------------ */

static char *b64s(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(wicas_base64_encoded_len(n));
    wicas_base64_encode((const uint8_t *)s, n, o);
    return o;
}

static uint64_t g_seq;

static wicas_chain_tx_result exec_json(wicas_chain *c, int64_t *h, const char *contract, const char *json,
                                       const char *funds) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_execute(alice, contract, json, funds, &m, err, sizeof err), 0);
    size_t len;
    uint8_t *tx = msg_tx(&m, g_seq++, 5000000, &len);
    wicas_chain_any_free(&m);
    wicas_chain_tx_result r;
    run1(c, ++*h, tx, len, &r);
    return r;
}

static void store_inst(wicas_chain *c, int64_t *h, const char *file, uint64_t code_id, const char *init,
                       const char *funds, char out[100]) {
    const char *wd = getenv("WICAS_WASM_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", wd ? wd : "wasm", file);
    size_t wl;
    uint8_t *wasm = wicas_read_file(path, 4 << 20, &wl);
    assert_non_null(wasm);
    wicas_chain_any m;
    char err[256];
    wicas_chain_tx_result r;
    size_t len;
    assert_int_equal(wicas_chain_msg_store_code(alice, wasm, wl, &m, err, sizeof err), 0);
    uint8_t *tx = msg_tx(&m, g_seq++, 9000000, &len);
    wicas_chain_any_free(&m);
    run1(c, ++*h, tx, len, &r);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    free(wasm);
    assert_int_equal(
        wicas_chain_msg_instantiate(alice, NULL, code_id, file, init, funds, &m, err, sizeof err), 0);
    tx = msg_tx(&m, g_seq++, 5000000, &len);
    wicas_chain_any_free(&m);
    run1(c, ++*h, tx, len, &r);
    assert_int_equal(r.code, 0);
    snprintf(out, 100, "%s", ctu_attr(&r, "instantiate", "_contract_address"));
    wicas_chain_tx_result_free(&r);
}

static void test_wasm_messages(void **st) {
    (void)st;
    const char *wd = getenv("WICAS_WASM_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/reflect.wasm", wd ? wd : "wasm");
    if (access(path, R_OK) != 0)
        fail_msg("%s missing: the build makes it (a missing artifact is a failure)", path);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    assert_int_equal(system(cmd), 0);
    wicas_chain *c = open_chain(0, 0);
    uint8_t h0[32];
    genesis(c, h0);
    int64_t h = 0;
    g_seq = 0;
    char counter[100], reflect[100], ns[100];
    store_inst(c, &h, "counter.wasm", 1, "{\"count\":1}", NULL, counter);
    store_inst(c, &h, "reflect.wasm", 2, "{}", "1000uwicas", reflect);
    assert_int_equal(ctu_balance(c, reflect, "uwicas"), 1000);

    /* reflect_msg: a bank send from the contract's balance and an execute of
     * another contract, in one tx */
    char *inc = b64s("{\"increment\":{}}");
    char msg[1024];
    snprintf(msg, sizeof msg,
             "{\"reflect_msg\":{\"msgs\":[{\"bank\":{\"send\":{\"to_address\":\"%s\",\"amount\":[{\"denom\":"
             "\"uwicas\",\"amount\":\"7\"}]}}},"
             "{\"wasm\":{\"execute\":{\"contract_addr\":\"%s\",\"msg\":\"%s\",\"funds\":[]}}}]}}",
             carol, counter, inc);
    wicas_chain_tx_result r = exec_json(c, &h, reflect, msg, NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(ctu_attr(&r, "transfer", "sender"), reflect);
    assert_string_equal(ctu_attr(&r, "execute", "_contract_address"), counter);
    wicas_chain_tx_result_free(&r);
    assert_int_equal(ctu_balance(c, carol, "uwicas"), 7);
    assert_int_equal(ctu_balance(c, reflect, "uwicas"), 993);
    uint32_t code;
    char *out = smart(c, counter, "{\"get_count\":{}}", &code);
    assert_non_null(strstr(out, "\"count\":2"));
    free(out);

    /* a failing message (overspend) fails the whole tx and reverts the first */
    snprintf(msg, sizeof msg,
             "{\"reflect_msg\":{\"msgs\":[{\"wasm\":{\"execute\":{\"contract_addr\":\"%s\",\"msg\":\"%s\","
             "\"funds\":[]}}},"
             "{\"bank\":{\"send\":{\"to_address\":\"%s\",\"amount\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"999999\"}]}}}]}}",
             counter, inc, carol);
    r = exec_json(c, &h, reflect, msg, NULL);
    assert_int_equal(r.code, WICAS_CODE_INSUFFICIENT_FUNDS);
    wicas_chain_tx_result_free(&r);
    out = smart(c, counter, "{\"get_count\":{}}", &code);
    assert_non_null(strstr(out, "\"count\":2"));
    free(out);

    /* submessages: id 5 fails (reflect is not the counter's owner) and is caught
     * by reply_on error; id 6 succeeds with reply_on success. The tx succeeds,
     * the failed one's writes are gone, both replies are recorded. */
    char *reset = b64s("{\"reset\":{\"count\":100}}");
    snprintf(msg, sizeof msg,
             "{\"reflect_sub_msg\":{\"msgs\":["
             "{\"id\":5,\"msg\":{\"wasm\":{\"execute\":{\"contract_addr\":\"%s\",\"msg\":\"%s\",\"funds\":[]}"
             "}},\"gas_limit\":null,\"reply_on\":\"error\"},"
             "{\"id\":6,\"msg\":{\"wasm\":{\"execute\":{\"contract_addr\":\"%s\",\"msg\":\"%s\",\"funds\":[]}"
             "}},\"gas_limit\":null,\"reply_on\":\"success\"}]}}",
             counter, reset, counter, inc);
    r = exec_json(c, &h, reflect, msg, NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(ctu_attr(&r, "reply", "_contract_address"), reflect);
    wicas_chain_tx_result_free(&r);
    out = smart(c, counter, "{\"get_count\":{}}", &code);
    assert_non_null(strstr(out, "\"count\":3"));
    free(out);
    out = smart(c, reflect, "{\"sub_msg_result\":{\"id\":5}}", &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"error\":\"codespace: wasm, code: 5\""));
    free(out);
    out = smart(c, reflect, "{\"sub_msg_result\":{\"id\":6}}", &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"ok\""));
    assert_non_null(strstr(out, "\"type\":\"execute\""));
    free(out);
    /* a failing submessage without reply_on error fails the tx */
    snprintf(msg, sizeof msg,
             "{\"reflect_sub_msg\":{\"msgs\":[{\"id\":7,\"msg\":{\"wasm\":{\"execute\":{\"contract_addr\":\"%"
             "s\",\"msg\":\"%s\",\"funds\":[]}}},\"gas_limit\":null,\"reply_on\":\"success\"}]}}",
             counter, reset);
    r = exec_json(c, &h, reflect, msg, NULL);
    assert_int_equal(r.code, WICAS_WASM_CODE_EXECUTE_FAILED);
    wicas_chain_tx_result_free(&r);
    free(reset);
    free(inc);

    /* the querier: bank balance and a smart query of another contract, from a contract */
    snprintf(msg, sizeof msg,
             "{\"chain\":{\"request\":{\"bank\":{\"balance\":{\"address\":\"%s\",\"denom\":\"uwicas\"}}}}}",
             carol);
    out = smart(c, reflect, msg, &code);
    assert_int_equal(code, 0);
    cJSON *j = cJSON_Parse(out);
    const cJSON *d = cJSON_GetObjectItem(j, "data");
    assert_true(cJSON_IsString(d));
    uint8_t dec[200];
    long dn = wicas_base64_decode(d->valuestring, strlen(d->valuestring), dec, sizeof dec);
    assert_true(dn > 0);
    assert_non_null(memmem(dec, (size_t)dn, "\"amount\":\"7\"", 12));
    cJSON_Delete(j);
    free(out);
    char *gq = b64s("{\"get_count\":{}}");
    snprintf(msg, sizeof msg,
             "{\"chain\":{\"request\":{\"wasm\":{\"smart\":{\"contract_addr\":\"%s\",\"msg\":\"%s\"}}}}}",
             counter, gq);
    free(gq);
    out = smart(c, reflect, msg, &code);
    assert_int_equal(code, 0);
    j = cJSON_Parse(out);
    d = cJSON_GetObjectItem(j, "data");
    dn = wicas_base64_decode(d->valuestring, strlen(d->valuestring), dec, sizeof dec);
    assert_non_null(memmem(dec, (size_t)dn, "\"count\":3", 9));
    cJSON_Delete(j);
    free(out);
    /* custom queries have no hook here: a system error reaches the contract */
    out = smart(c, reflect, "{\"chain\":{\"request\":{\"custom\":{\"probe\":{}}}}}", &code);
    assert_int_not_equal(code, 0);
    free(out);

    /* nameservice: register pays the purchase price */
    store_inst(c, &h, "nameservice.wasm", 3,
               "{\"purchase_price\":{\"denom\":\"uwicas\",\"amount\":\"100\"},\"transfer_price\":null}", NULL,
               ns);
    r = exec_json(c, &h, ns, "{\"register\":{\"name\":\"alice\"}}", "50uwicas");
    assert_int_not_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    r = exec_json(c, &h, ns, "{\"register\":{\"name\":\"alice\"}}", "100uwicas");
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    out = smart(c, ns, "{\"resolve_record\":{\"name\":\"alice\"}}", &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, alice));
    free(out);
    assert_int_equal(ctu_balance(c, ns, "uwicas"), 100);
    wicas_chain_close(c);
}

/* ---- admin operations, hooks, and hostile tx bytes ----------------------------------- */

static int hook_calls;
static int custom_hook(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len, char *err,
                       size_t errlen) {
    (void)ctx, (void)err, (void)errlen;
    hook_calls++;
    /* echo the request back inside {"echo":...} */
    *resp = malloc(len + 16);
    *resp_len = (size_t)sprintf((char *)*resp, "{\"echo\":%.*s}", (int)len, (const char *)req);
    return 0;
}
static int begin_calls;
static bool refuse_block;
static int begin_hook(void *ctx, wicas_chain *c, const wicas_chain_block *b, char *err, size_t errlen) {
    (void)ctx, (void)c, (void)b;
    begin_calls++;
    if (refuse_block) {
        snprintf(err, errlen, "refused by hook");
        return -1;
    }
    return 0;
}

static void test_admin_hooks_fuzz(void **st) {
    (void)st;
    const char *wd = getenv("WICAS_WASM_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/reflect.wasm", wd ? wd : "wasm");
    if (access(path, R_OK) != 0)
        fail_msg("%s missing: the build makes it (a missing artifact is a failure)", path);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    assert_int_equal(system(cmd), 0);
    wicas_chain_options o = {.no_sync = true, .map_size = 256u << 20};
    o.hooks.custom_query = custom_hook;
    o.hooks.begin_block = begin_hook;
    wicas_chain *c;
    char err[256];
    assert_int_equal(wicas_chain_open(dir, &o, &c, err, sizeof err), 0);
    uint8_t h0[32];
    genesis(c, h0);
    int64_t h = 0;
    g_seq = 0;
    char counter[100], reflect[100];
    store_inst(c, &h, "counter.wasm", 1, "{\"count\":1}", NULL, counter);
    assert_int_equal(begin_calls, 2);
    /* instantiate with alice as admin */
    wicas_chain_any m;
    size_t len;
    wicas_chain_tx_result r;
    assert_int_equal(
        wicas_chain_msg_instantiate(alice, alice, 1, "admin", "{\"count\":1}", NULL, &m, err, sizeof err), 0);
    uint8_t *tx = msg_tx(&m, g_seq++, 5000000, &len);
    wicas_chain_any_free(&m);
    run1(c, ++h, tx, len, &r);
    assert_int_equal(r.code, 0);
    char ac[100];
    snprintf(ac, sizeof ac, "%s", ctu_attr(&r, "instantiate", "_contract_address"));
    wicas_chain_tx_result_free(&r);
    /* migrate by the admin: the counter has no migrate entry -> wasm code 11 */
    assert_int_equal(wicas_chain_msg_migrate(alice, ac, 1, "{}", &m, err, sizeof err), 0);
    tx = msg_tx(&m, g_seq++, 5000000, &len);
    wicas_chain_any_free(&m);
    run1(c, ++h, tx, len, &r);
    assert_int_equal(r.code, WICAS_WASM_CODE_MIGRATION_FAILED);
    wicas_chain_tx_result_free(&r);
    /* migrate a contract without admin: unauthorized */
    assert_int_equal(wicas_chain_msg_migrate(alice, counter, 1, "{}", &m, err, sizeof err), 0);
    tx = msg_tx(&m, g_seq++, 5000000, &len);
    wicas_chain_any_free(&m);
    run1(c, ++h, tx, len, &r);
    assert_int_equal(r.code, WICAS_CODE_UNAUTHORIZED);
    wicas_chain_tx_result_free(&r);
    /* update admin to bob, then alice can no longer clear it; bob's clear works */
    Wchain__MsgUpdateAdmin ua = WCHAIN__MSG_UPDATE_ADMIN__INIT;
    ua.sender = alice;
    ua.new_admin = bob;
    ua.contract = ac;
    uint8_t buf[300];
    wicas_chain_any am = {.type_url = (char *)"/cosmwasm.wasm.v1.MsgUpdateAdmin", .value = buf};
    am.value_len = wchain__msg_update_admin__pack(&ua, buf);
    tx = msg_tx(&am, g_seq++, 500000, &len);
    run1(c, ++h, tx, len, &r);
    assert_int_equal(r.code, 0);
    assert_string_equal(ctu_attr(&r, "update_contract_admin", "new_admin_address"), bob);
    wicas_chain_tx_result_free(&r);
    Wchain__MsgClearAdmin ca = WCHAIN__MSG_CLEAR_ADMIN__INIT;
    ca.sender = alice;
    ca.contract = ac;
    wicas_chain_any cm = {.type_url = (char *)"/cosmwasm.wasm.v1.MsgClearAdmin", .value = buf};
    cm.value_len = wchain__msg_clear_admin__pack(&ca, buf);
    tx = msg_tx(&cm, g_seq++, 500000, &len);
    run1(c, ++h, tx, len, &r);
    assert_int_equal(r.code, WICAS_CODE_UNAUTHORIZED);
    wicas_chain_tx_result_free(&r);
    {
        wicas_chain_tx_params p = {.chain_id = "wicas-test",
                                   .account_number = 1,
                                   .sequence = 0,
                                   .gas_limit = 500000,
                                   .fee = "100uwicas"};
        ca.sender = bob;
        cm.value_len = wchain__msg_clear_admin__pack(&ca, buf);
        assert_int_equal(wicas_chain_tx_build_sign(bob_sk, NULL, &p, &cm, 1, &tx, &len, err, sizeof err), 0);
        run1(c, ++h, tx, len, &r);
        assert_int_equal(r.code, 0);
        wicas_chain_tx_result_free(&r);
    }
    Wchain__QueryContractInfoRequest ciq = WCHAIN__QUERY_CONTRACT_INFO_REQUEST__INIT;
    ciq.address = ac;
    size_t qn = wchain__query_contract_info_request__pack(&ciq, buf);
    wicas_chain_query_result qr;
    wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/ContractInfo", buf, qn, 0, false, &qr);
    assert_int_equal(qr.code, 0);
    Wchain__QueryContractInfoResponse *cir =
        wchain__query_contract_info_response__unpack(NULL, qr.value_len, qr.value);
    assert_string_equal(cir->contract_info->admin, "");
    assert_string_equal(cir->contract_info->label, "admin");
    wchain__query_contract_info_response__free_unpacked(cir, NULL);
    wicas_chain_query_result_free(&qr);

    /* custom query hook reached from a contract */
    store_inst(c, &h, "reflect.wasm", 2, "{}", NULL, reflect);
    uint32_t code;
    char *out = smart(c, reflect, "{\"chain\":{\"request\":{\"custom\":{\"probe\":{\"x\":1}}}}}", &code);
    assert_int_equal(code, 0);
    assert_int_equal(hook_calls, 1);
    cJSON *j = cJSON_Parse(out);
    const cJSON *d = cJSON_GetObjectItem(j, "data");
    uint8_t dec[200];
    long dn = wicas_base64_decode(d->valuestring, strlen(d->valuestring), dec, sizeof dec);
    assert_true(dn > 0);
    assert_non_null(memmem(dec, (size_t)dn, "{\"echo\":{\"probe\":{\"x\":1}}}", 25));
    cJSON_Delete(j);
    free(out);

    /* begin_block hook failure fails the block and changes nothing */
    int64_t lh;
    uint8_t before[32], after[32];
    wicas_chain_info(c, &lh, before);
    wicas_chain_block bb = {.height = lh + 1};
    uint8_t app[32];
    refuse_block = true;
    assert_int_equal(wicas_chain_finalize_block(c, &bb, NULL, NULL, NULL, app, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_string_equal(err, "refused by hook");
    refuse_block = false;
    assert_int_equal(wicas_chain_commit(c, NULL), WICAS_CHAIN_ERR_STATE); /* nothing pending */
    wicas_chain_info(c, &lh, after);
    assert_memory_equal(before, after, 32);

    /* hostile bytes: 3000 mutations of a valid tx through CheckTx and a block:
     * no crash, every result has a log, and the state changes only through
     * txs reported successful */
    size_t vl;
    uint8_t *valid =
        send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, g_seq, 200000, "100uwicas", &vl);
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    enum { NF = 3000 };
    uint8_t *bad[64];
    size_t bl[64];
    size_t nb = 0;
    int accepted = 0;
    for (int i = 0; i < NF; i++) {
        uint8_t *t = malloc(vl + 8);
        memcpy(t, valid, vl);
        size_t tl = vl;
        int edits = 1 + (int)(seed % 4);
        for (int e = 0; e < edits; e++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)(seed >> 33) % tl;
            switch ((seed >> 20) % 4) {
            case 0:
                t[pos] ^= (uint8_t)(1u << ((seed >> 8) % 8));
                break;
            case 1:
                t[pos] = (uint8_t)(seed >> 40);
                break;
            case 2:
                tl = pos + 1;
                break; /* truncate */
            default:
                t[pos] = 0xff;
                break;
            }
        }
        wicas_chain_check_tx(c, t, tl, false, &r);
        assert_non_null(r.log);
        if (r.code == 0) accepted++;
        wicas_chain_tx_result_free(&r);
        if (nb < 64 && i % 47 == 0) {
            bad[nb] = t;
            bl[nb++] = tl;
        } else {
            free(t);
        }
    }
    wicas_chain_tx_result res[64];
    wicas_chain_info(c, &lh, before);
    uint64_t a0 = ctu_balance(c, alice, "uwicas");
    wicas_chain_block fb = {.height = lh + 1, .txs = (const uint8_t *const *)bad, .tx_lens = bl, .n_txs = nb};
    wicas_chain_event *ev;
    size_t nev;
    assert_int_equal(wicas_chain_finalize_block(c, &fb, res, &ev, &nev, app, err, sizeof err), 0);
    int ok = 0;
    for (size_t i = 0; i < nb; i++) {
        assert_non_null(res[i].log);
        ok += res[i].code == 0;
        wicas_chain_tx_result_free(&res[i]);
        free(bad[i]);
    }
    wicas_chain_events_free(ev, nev);
    assert_int_equal(wicas_chain_commit(c, NULL), 0);
    wicas_chain_info(c, &lh, after);
    if (ok == 0) assert_memory_equal(before, after, 32);
    if (ok == 0) assert_int_equal(ctu_balance(c, alice, "uwicas"), a0);
    fprintf(stderr, "fuzz: %d of %d mutated txs passed CheckTx, %d of %zu in the block succeeded\n", accepted,
            NF, ok, nb);
    free(valid);
    wicas_chain_close(c);
}

/* ---- genesis with wasm code; malformed genesis sections ---------------------------- */
/* ---- queries on their own threads (query.c, chain.c qview) ----------------------------- */

/* A custom-query hook that parks the query inside the contract call until the
 * test opens the gate: the query then holds its read transaction and its
 * query slot for as long as the test wants. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open, gate_left;
static int gate_hook(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len, char *err,
                     size_t errlen) {
    (void)ctx, (void)req, (void)len, (void)err, (void)errlen;
    pthread_mutex_lock(&gate_mu);
    gate_entered = true;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    gate_left = true;
    pthread_mutex_unlock(&gate_mu);
    *resp = (uint8_t *)strdup("{\"gated\":true}");
    *resp_len = strlen((char *)*resp);
    return 0;
}

typedef struct {
    wicas_chain *c;
    const char *contract;
    wicas_chain_query_result r;
} gated_query;

static void *gated_query_main(void *arg) {
    gated_query *g = arg;
    const char *q = "{\"chain\":{\"request\":{\"custom\":{\"gate\":{}}}}}";
    Wchain__QuerySmartContractStateRequest rq = WCHAIN__QUERY_SMART_CONTRACT_STATE_REQUEST__INIT;
    rq.address = (char *)g->contract;
    rq.query_data.data = (uint8_t *)q;
    rq.query_data.len = strlen(q);
    uint8_t buf[512];
    size_t n = wchain__query_smart_contract_state_request__pack(&rq, buf);
    wicas_chain_query(g->c, "/cosmwasm.wasm.v1.Query/SmartContractState", buf, n, 0, false, &g->r);
    return NULL;
}

/* bob's uwicas balance and the height the answer is for */
static uint64_t bob_balance_at(wicas_chain *c, int64_t *height) {
    return ctu_balance_at(c, bob, "uwicas", height);
}

static void test_query_threads(void **st) {
    (void)st;
    const char *wd = getenv("WICAS_WASM_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/reflect.wasm", wd ? wd : "wasm");
    assert_int_equal(access(path, R_OK), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    assert_int_equal(system(cmd), 0);
    wicas_chain_options o = {.no_sync = true, .map_size = 256u << 20};
    o.hooks.custom_query = gate_hook;
    wicas_chain *c;
    char err[256];
    assert_int_equal(wicas_chain_open(dir, &o, &c, err, sizeof err), 0);
    uint8_t h0[32];
    genesis(c, h0);
    int64_t h = 0;
    g_seq = 0;
    char reflect[100];
    store_inst(c, &h, "reflect.wasm", 1, "{}", NULL, reflect);
    int64_t qh;
    uint64_t bob0 = bob_balance_at(c, &qh);
    assert_int_equal(qh, h);

    /* 1. a query parked inside a contract call on another thread does not
     *    hold up FinalizeBlock + Commit of the next block */
    gated_query g = {.c = c, .contract = reflect};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, gated_query_main, &g), 0);
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    size_t l1;
    uint8_t *tx1 =
        send_tx(alice_sk, alice, bob, "1000uwicas", "wicas-test", 0, g_seq++, 100000, "100uwicas", &l1);
    wicas_chain_tx_result res[1];
    uint8_t hash[32];
    block(c, ++h, &tx1, &l1, 1, res, hash); /* would never return if it waited for the parked query */
    assert_int_equal(res[0].code, 0);
    wicas_chain_tx_result_free(&res[0]);
    free(tx1);
    /* the other query slot serves a query meanwhile, at the new height */
    assert_int_equal(bob_balance_at(c, &qh), bob0 + 1000);
    assert_int_equal(qh, h);
    /* a simulation too (it runs on the same kind of view) */
    size_t ls;
    uint8_t *txs = send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, g_seq, 100000, "100uwicas", &ls);
    wicas_chain_tx_result sr;
    wicas_chain_simulate(c, txs, ls, &sr);
    assert_int_equal(sr.code, 0);
    assert_true(sr.gas_used > 0);
    wicas_chain_tx_result_free(&sr);
    free(txs);
    pthread_mutex_lock(&gate_mu);
    bool still_parked = !gate_left;
    gate_open = true;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    assert_true(still_parked);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* the parked query answered from the commit it started on */
    if (g.r.code) fprintf(stderr, "gated query: %s\n", g.r.log);
    assert_int_equal(g.r.code, 0);
    assert_int_equal(g.r.height, h - 1);
    wicas_chain_query_result_free(&g.r);

    /* 2. a query while a block is finalized but not committed sees the last
     *    commit, and reports its height */
    size_t l2;
    uint8_t *tx2 =
        send_tx(alice_sk, alice, bob, "5uwicas", "wicas-test", 0, g_seq++, 100000, "100uwicas", &l2);
    wicas_chain_block b = {.height = h + 1,
                           .time_seconds = 1700000000 + h + 1,
                           .txs = (const uint8_t *const *)&tx2,
                           .tx_lens = &l2,
                           .n_txs = 1};
    wicas_chain_event *ev;
    size_t nev;
    assert_int_equal(wicas_chain_finalize_block(c, &b, res, &ev, &nev, hash, err, sizeof err), 0);
    wicas_chain_events_free(ev, nev);
    assert_int_equal(res[0].code, 0);
    wicas_chain_tx_result_free(&res[0]);
    assert_int_equal(bob_balance_at(c, &qh), bob0 + 1000);
    assert_int_equal(qh, h);
    int64_t retain;
    assert_int_equal(wicas_chain_commit(c, &retain), 0);
    h++;
    assert_int_equal(bob_balance_at(c, &qh), bob0 + 1005);
    assert_int_equal(qh, h);
    free(tx2);

    /* 3. many queries from several threads at once (more than the query
     *    slots) all answer, while blocks go on */
    pthread_mutex_lock(&gate_mu);
    gate_entered = gate_left = false; /* gate stays open */
    pthread_mutex_unlock(&gate_mu);
    enum { NQ = 6 };
    gated_query gs[NQ];
    pthread_t ts[NQ];
    for (int i = 0; i < NQ; i++) {
        gs[i] = (gated_query){.c = c, .contract = reflect};
        assert_int_equal(pthread_create(&ts[i], NULL, gated_query_main, &gs[i]), 0);
    }
    int64_t h_before = h;
    for (int k = 0; k < 3; k++) {
        size_t l3;
        uint8_t *tx3 =
            send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, g_seq++, 100000, "100uwicas", &l3);
        block(c, ++h, &tx3, &l3, 1, res, hash);
        assert_int_equal(res[0].code, 0);
        wicas_chain_tx_result_free(&res[0]);
        free(tx3);
    }
    for (int i = 0; i < NQ; i++) {
        assert_int_equal(pthread_join(ts[i], NULL), 0);
        assert_int_equal(gs[i].r.code, 0);
        assert_true(gs[i].r.height >= h_before && gs[i].r.height <= h);
        wicas_chain_query_result_free(&gs[i].r);
    }
    assert_int_equal(bob_balance_at(c, &qh), bob0 + 1008);
    wicas_chain_close(c);
}

static void test_genesis_wasm(void **st) {
    (void)st;
    const char *wd = getenv("WICAS_WASM_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/counter.wasm", wd ? wd : "wasm");
    size_t wl;
    uint8_t *wasm = wicas_read_file(path, 4 << 20, &wl);
    if (!wasm) fail_msg("%s missing: the build makes it (a missing artifact is a failure)", path);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    assert_int_equal(system(cmd), 0);
    wicas_chain *c = open_chain(0, 0);
    char err[256];
    uint8_t h[32];
    static const char *bad[] = {
        "[]",
        "{\"bank\":{\"balances\":{}}}",
        "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"u\",\"amount\":\"1\"}]}]}}",
        "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":\"-1\"}]}]}"
        "}",
        "{\"wasm\":{\"codes\":[{\"code_bytes\":\"!!\",\"code_info\":{\"creator\":\"%s\"}}]}}",
        "{\"wasm\":{\"codes\":[{\"code_bytes\":\"AGFzbQ==\",\"code_info\":{\"creator\":\"%s\"}}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char g[400];
        snprintf(g, sizeof g, bad[i], alice);
        assert_int_equal(wicas_chain_init_chain(c, "wicas-test", 1, g, strlen(g), h, err, sizeof err),
                         WICAS_CHAIN_ERR_INVALID);
        assert_true(strlen(err) > 10);
    }
    size_t bl = wicas_base64_encoded_len(wl);
    char *b64 = malloc(bl);
    wicas_base64_encode(wasm, wl, b64);
    char *g = malloc(bl + 400);
    sprintf(g,
            "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
            "\"1000000\"}]}]},"
            "\"wasm\":{\"codes\":[{\"code_bytes\":\"%s\",\"code_info\":{\"creator\":\"%s\"}}]},\"other_"
            "module\":{}}",
            alice, b64, alice);
    assert_int_equal(wicas_chain_init_chain(c, "wicas-test", 1, g, strlen(g), h, err, sizeof err), 0);
    free(g);
    free(b64);
    free(wasm);
    /* the genesis code is instantiable in block 1 */
    wicas_chain_any m;
    assert_int_equal(
        wicas_chain_msg_instantiate(alice, NULL, 1, "g", "{\"count\":9}", NULL, &m, err, sizeof err), 0);
    size_t len;
    uint8_t *tx = msg_tx(&m, 0, 5000000, &len);
    wicas_chain_any_free(&m);
    wicas_chain_tx_result r;
    run1(c, 1, tx, len, &r);
    assert_int_equal(r.code, 0);
    char ca[100];
    snprintf(ca, sizeof ca, "%s", ctu_attr(&r, "instantiate", "_contract_address"));
    wicas_chain_tx_result_free(&r);
    uint32_t code;
    char *out = smart(c, ca, "{\"get_count\":{}}", &code);
    assert_non_null(strstr(out, "\"count\":9"));
    free(out);
    wicas_chain_close(c);
}

/* ---- chain parameters from genesis: consensus rules in CheckTx and blocks ----------- */
static void test_genesis_params(void **st) {
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    assert_int_equal(system(cmd), 0);
    wicas_chain *c = open_chain(0, 0);
    char err[256], g[600];
    uint8_t h[32];
    const char *badp = "{\"params\":{\"min_gas_price\":\"0.01ufoo\"}}";
    assert_int_equal(wicas_chain_init_chain(c, "wicas-test", 1, badp, strlen(badp), h, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_non_null(strstr(err, "min_gas_price"));
    snprintf(g, sizeof g,
             "{\"params\":{\"min_gas_price\":\"0.01uwicas\",\"max_tx_gas\":\"300000\"},"
             "\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000\"}]}]}}",
             alice);
    assert_int_equal(wicas_chain_init_chain(c, "wicas-test", 1, g, strlen(g), h, err, sizeof err), 0);
    size_t l[3];
    uint8_t *tx[3];
    tx[0] = send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 0, 400000, "5000uwicas",
                    &l[0]); /* over max_tx_gas */
    tx[1] = send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 0, 200000, "1999uwicas",
                    &l[1]); /* fee < 2000 */
    tx[2] =
        send_tx(alice_sk, alice, bob, "1uwicas", "wicas-test", 0, 0, 200000, "2000uwicas", &l[2]); /* ok */
    uint32_t want[3] = {WICAS_CODE_INVALID_GAS_LIMIT, WICAS_CODE_INSUFFICIENT_FEE, 0};
    wicas_chain_tx_result r[3];
    for (int i = 0; i < 3; i++) {
        wicas_chain_check_tx(c, tx[i], l[i], false, &r[0]);
        assert_int_equal(r[0].code, want[i]);
        wicas_chain_tx_result_free(&r[0]);
    }
    /* the same rules hold inside a block (not only in this node's mempool) */
    block(c, 1, tx, l, 3, r, h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].code, want[i]);
        wicas_chain_tx_result_free(&r[i]);
        free(tx[i]);
    }
    assert_int_equal(ctu_balance(c, bob, "uwicas"), 1);
    assert_int_equal(ctu_balance(c, alice, "uwicas"), 1000000 - 2000 - 1);
    wicas_chain_close(c);
}

/* Last: the app hashes the tests above went through equal the pinned ones. */
static void apphash_pins(void **st) {
    (void)st;
    pins_check("test_chain");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank_and_invalid), cmocka_unit_test(test_wasm_counter),
        cmocka_unit_test(test_wasm_messages),    cmocka_unit_test(test_admin_hooks_fuzz),
        cmocka_unit_test(test_query_threads),    cmocka_unit_test(test_genesis_wasm),
        cmocka_unit_test(test_genesis_params),   cmocka_unit_test(apphash_pins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
