/*
 * test_abci_chain.c — the chain adapter (app_chain.c) through the same
 * dispatch path CometBFT uses: InitChain with a genesis balance, CheckTx and
 * FinalizeBlock on malformed txs (clear codes, no state change), Commit,
 * Info after a reopen (same height and hash), a proven store query whose
 * proof verifies against the committed app hash, and InitChain replays
 * (same chain id: same hash; another chain id: exception).
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

#include "abci.h"
#include "chain.h"
#include "tendermint/abci/types.pb-c.h"

typedef struct {
    char dir[64];
    wicas_chain *chain;
    wicas_abci_chain_ctx actx;
    wicas_abci_app app;
} fixture;

static void open_chain(fixture *f) {
    char err[256];
    wicas_chain_options o;
    memset(&o, 0, sizeof o);
    o.no_sync = true;
    int rc = wicas_chain_open(f->dir, &o, &f->chain, err, sizeof err);
    if (rc != 0) fail_msg("wicas_chain_open: %s", err);
    assert_int_equal(wicas_abci_chain_app(&f->actx, f->chain, &f->app), 0);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/wicas-abci-chain-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    open_chain(f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    wicas_chain_close(f->chain);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static Tendermint__Abci__Response *call(fixture *f, Tendermint__Abci__Request *rq, int expect) {
    size_t n = tendermint__abci__request__get_packed_size(rq);
    uint8_t *buf = malloc(n + 1);
    tendermint__abci__request__pack(rq, buf);
    uint8_t *out = NULL;
    size_t ol = 0;
    int st = wicas_abci_dispatch(&f->app, NULL, buf, n, &out, &ol, NULL);
    free(buf);
    assert_int_equal(st, expect);
    Tendermint__Abci__Response *r = tendermint__abci__response__unpack(NULL, ol, out);
    free(out);
    assert_non_null(r);
    return r;
}

static Tendermint__Abci__Response *init_chain(fixture *f, const char *chain_id, const char *app_state,
                                              int expect) {
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestInitChain ic = TENDERMINT__ABCI__REQUEST_INIT_CHAIN__INIT;
    ic.chain_id = (char *)chain_id;
    ic.initial_height = 1;
    ic.app_state_bytes = (ProtobufCBinaryData){strlen(app_state), (uint8_t *)app_state};
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_INIT_CHAIN;
    rq.init_chain = &ic;
    return call(f, &rq, expect);
}

static void info(fixture *f, int64_t *height, uint8_t hash[32]) {
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestInfo in = TENDERMINT__ABCI__REQUEST_INFO__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_INFO;
    rq.info = &in;
    Tendermint__Abci__Response *r = call(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_INFO);
    *height = r->info->last_block_height;
    if (*height > 0) {
        assert_int_equal(r->info->last_block_app_hash.len, 32);
        memcpy(hash, r->info->last_block_app_hash.data, 32);
    }
    tendermint__abci__response__free_unpacked(r, NULL);
}

static void test_adapter(void **state) {
    fixture *f = *state;
    /* Genesis: one funded account (address of the all-0x01 20-byte key). */
    uint8_t a20[20];
    memset(a20, 1, sizeof a20);
    char addr[100];
    assert_int_equal(wicas_chain_addr_encode(a20, 20, addr, sizeof addr), 0);
    char gen[512];
    snprintf(gen, sizeof gen,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000\"}]}]}}",
             addr);
    Tendermint__Abci__Response *r = init_chain(f, "adapter-1", gen, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_INIT_CHAIN);
    assert_int_equal(r->init_chain->app_hash.len, 32);
    uint8_t genesis_hash[32];
    memcpy(genesis_hash, r->init_chain->app_hash.data, 32);
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Replayed InitChain (crash before block 1): same answer; other chain: exception. */
    r = init_chain(f, "adapter-1", gen, 0);
    assert_memory_equal(r->init_chain->app_hash.data, genesis_hash, 32);
    tendermint__abci__response__free_unpacked(r, NULL);
    r = init_chain(f, "other-chain", gen, WICAS_ABCI_ERR_APP);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    assert_non_null(strstr(r->exception->error, "adapter-1"));
    tendermint__abci__response__free_unpacked(r, NULL);

    /* CheckTx of garbage: a decode error in codespace sdk. */
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestCheckTx ct = TENDERMINT__ABCI__REQUEST_CHECK_TX__INIT;
    const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
    ct.tx = (ProtobufCBinaryData){sizeof junk, (uint8_t *)junk};
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_CHECK_TX;
    rq.check_tx = &ct;
    r = call(f, &rq, 0);
    assert_int_equal(r->check_tx->code, WICAS_CODE_TX_DECODE);
    assert_string_equal(r->check_tx->codespace, WICAS_CHAIN_CODESPACE_SDK);
    assert_true(strlen(r->check_tx->log) > 0);
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Block 1 with the same garbage tx: result code, block still executes. */
    Tendermint__Abci__RequestFinalizeBlock fb = TENDERMINT__ABCI__REQUEST_FINALIZE_BLOCK__INIT;
    ProtobufCBinaryData txs[1] = {{sizeof junk, (uint8_t *)junk}};
    fb.n_txs = 1;
    fb.txs = txs;
    fb.height = 1;
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = 1760000000;
    fb.time = &t;
    uint8_t bh[32];
    memset(bh, 7, 32);
    fb.hash = (ProtobufCBinaryData){32, bh};
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FINALIZE_BLOCK;
    rq.finalize_block = &fb;
    r = call(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_FINALIZE_BLOCK);
    assert_int_equal(r->finalize_block->n_tx_results, 1);
    assert_int_equal(r->finalize_block->tx_results[0]->code, WICAS_CODE_TX_DECODE);
    assert_int_equal(r->finalize_block->app_hash.len, 32);
    uint8_t h1[32];
    memcpy(h1, r->finalize_block->app_hash.data, 32);
    assert_memory_equal(h1, genesis_hash, 32); /* a rejected tx changes no state */
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestCommit cm = TENDERMINT__ABCI__REQUEST_COMMIT__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_COMMIT;
    rq.commit = &cm;
    r = call(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_COMMIT);
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Commit again with no block pending: the chain refuses -> exception. */
    r = call(f, &rq, WICAS_ABCI_ERR_APP);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Reopen: Info resumes at height 1 with the same hash. */
    wicas_chain_close(f->chain);
    open_chain(f);
    int64_t h = 0;
    uint8_t ih[32];
    info(f, &h, ih);
    assert_int_equal(h, 1);
    assert_memory_equal(ih, h1, 32);

    /* The balance over the gRPC-style query path:
     * QueryBalanceRequest{1: address, 2: denom}, both length-delimited. */
    Tendermint__Abci__RequestQuery q = TENDERMINT__ABCI__REQUEST_QUERY__INIT;
    q.path = "/cosmos.bank.v1beta1.Query/Balance";
    uint8_t qd[160];
    size_t al = strlen(addr), n = 0;
    qd[n++] = 0x0a;
    qd[n++] = (uint8_t)al;
    memcpy(qd + n, addr, al);
    n += al;
    qd[n++] = 0x12;
    qd[n++] = 6;
    memcpy(qd + n, "uwicas", 6);
    n += 6;
    q.data = (ProtobufCBinaryData){n, qd};
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_QUERY;
    rq.query = &q;
    r = call(f, &rq, 0);
    assert_int_equal(r->query->code, 0);
    assert_true(r->query->value.len > 0);
    assert_non_null(memmem(r->query->value.data, r->query->value.len, "1000", 4));
    assert_non_null(memmem(r->query->value.data, r->query->value.len, "uwicas", 6));
    tendermint__abci__response__free_unpacked(r, NULL);

    /* A proven store query for an absent key: exclusion proof against the app hash. */
    q.path = "store/main/key";
    q.data = (ProtobufCBinaryData){9, (uint8_t *)"no-such-k"};
    q.prove = true;
    r = call(f, &rq, 0);
    assert_int_equal(r->query->code, 0);
    assert_non_null(r->query->proof_ops);
    assert_int_equal(r->query->proof_ops->n_ops, 1);
    Tendermint__Crypto__ProofOp *op = r->query->proof_ops->ops[0];
    assert_string_equal(op->type, WICAS_CHAIN_PROOF_OP_TYPE);
    assert_int_equal(
        wicas_chain_verify_proof(ih, (const uint8_t *)"no-such-k", 9, NULL, 0, op->data.data, op->data.len),
        0);
    uint8_t bad[32];
    memcpy(bad, ih, 32);
    bad[0] ^= 1;
    assert_int_not_equal(
        wicas_chain_verify_proof(bad, (const uint8_t *)"no-such-k", 9, NULL, 0, op->data.data, op->data.len),
        0);
    tendermint__abci__response__free_unpacked(r, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_adapter, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
