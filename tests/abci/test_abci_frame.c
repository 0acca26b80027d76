/*
 * test_abci_frame.c — the ABCI wire layer without sockets: unsigned varint
 * framing (one- and multi-byte, 64-bit edge, overlong, truncated) and a
 * protobuf round trip for every request type through wicas_abci_dispatch
 * (Request packed with protobuf-c -> our C view -> the test app -> Response
 * unpacked and checked field by field), that every request kind of the
 * .proto has a row in the request table, plus malformed requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "abci.h"
#include "kvapp.h"
#include "tendermint/abci/types.pb-c.h"

/* ---- varint -------------------------------------------------------------------- */
static void test_varint_known(void **state) {
    (void)state;
    uint8_t b[10];
    assert_int_equal(wicas_abci_varint_put(0, b), 1);
    assert_int_equal(b[0], 0);
    assert_int_equal(wicas_abci_varint_put(127, b), 1);
    assert_int_equal(b[0], 0x7f);
    /* 300 = 0b1_0010_1100 -> 0xAC 0x02 (the protobuf documentation example) */
    assert_int_equal(wicas_abci_varint_put(300, b), 2);
    assert_int_equal(b[0], 0xac);
    assert_int_equal(b[1], 0x02);
    assert_int_equal(wicas_abci_varint_put(UINT64_MAX, b), 10);
    assert_int_equal(b[9], 0x01);
    uint64_t v = 0;
    assert_int_equal(wicas_abci_varint_get(b, 10, &v), 10);
    assert_true(v == UINT64_MAX);
    const uint8_t two[] = {0xac, 0x02, 0xff};
    assert_int_equal(wicas_abci_varint_get(two, 3, &v), 2);
    assert_int_equal(v, 300);
}

static void test_varint_roundtrip(void **state) {
    (void)state;
    uint64_t vals[] = {1,       128,       16383,      16384,      2097151,
                       2097152, 104857600, 1ull << 35, 1ull << 63, UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t b[10];
        size_t n = wicas_abci_varint_put(vals[i], b);
        uint64_t v = 0;
        assert_int_equal(wicas_abci_varint_get(b, n, &v), (int)n);
        assert_true(v == vals[i]);
        /* every strict prefix is truncated */
        for (size_t k = 0; k < n; k++)
            assert_int_equal(wicas_abci_varint_get(b, k, &v), WICAS_ABCI_ERR_TRUNCATED);
    }
}

static void test_varint_bad(void **state) {
    (void)state;
    uint64_t v;
    uint8_t over[11];
    memset(over, 0xff, sizeof over);
    assert_int_equal(wicas_abci_varint_get(over, 11, &v), WICAS_ABCI_ERR_FRAME); /* never ends */
    uint8_t big[10];
    memset(big, 0xff, 9);
    big[9] = 0x02; /* bit 64 set: overflows */
    assert_int_equal(wicas_abci_varint_get(big, 10, &v), WICAS_ABCI_ERR_FRAME);
}

/* ---- dispatch round trips ---------------------------------------------------------- */
typedef struct {
    kvapp kv;
    wicas_abci_app app;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    kvapp_init(&f->kv, &f->app);
    *state = f;
    return 0;
}
static int teardown(void **state) {
    free(*state);
    return 0;
}

/* Packs rq, dispatches, returns the unpacked response (caller frees). */
static Tendermint__Abci__Response *roundtrip(fixture *f, Tendermint__Abci__Request *rq, int expect_status) {
    size_t n = tendermint__abci__request__get_packed_size(rq);
    uint8_t *buf = malloc(n + 1);
    tendermint__abci__request__pack(rq, buf);
    uint8_t *out = NULL;
    size_t out_len = 0;
    bool flush = false;
    int st = wicas_abci_dispatch(&f->app, NULL, buf, n, &out, &out_len, &flush);
    free(buf);
    assert_int_equal(st, expect_status);
    assert_non_null(out);
    Tendermint__Abci__Response *r = tendermint__abci__response__unpack(NULL, out_len, out);
    free(out);
    assert_non_null(r);
    return r;
}

static void test_echo_flush_info(void **state) {
    fixture *f = *state;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestEcho e = TENDERMINT__ABCI__REQUEST_ECHO__INIT;
    e.message = "hello";
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_ECHO;
    rq.echo = &e;
    Tendermint__Abci__Response *r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_ECHO);
    assert_string_equal(r->echo->message, "hello");
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestFlush fl = TENDERMINT__ABCI__REQUEST_FLUSH__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FLUSH;
    rq.flush = &fl;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_FLUSH);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestInfo in = TENDERMINT__ABCI__REQUEST_INFO__INIT;
    in.version = "0.38.25";
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_INFO;
    rq.info = &in;
    f->kv.height = 7;
    memset(f->kv.hash, 0xab, 32);
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_INFO);
    assert_string_equal(r->info->data, "kvapp");
    assert_int_equal(r->info->last_block_height, 7);
    assert_int_equal(r->info->last_block_app_hash.len, 32);
    assert_int_equal(r->info->last_block_app_hash.data[31], 0xab);
    assert_int_equal(r->info->app_version, 1);
    tendermint__abci__response__free_unpacked(r, NULL);
}

static void test_init_chain(void **state) {
    fixture *f = *state;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestInitChain ic = TENDERMINT__ABCI__REQUEST_INIT_CHAIN__INIT;
    ic.chain_id = "test-1";
    ic.initial_height = 1;
    Tendermint__Abci__ValidatorUpdate vu = TENDERMINT__ABCI__VALIDATOR_UPDATE__INIT;
    Tendermint__Crypto__PublicKey pk;
    tendermint__crypto__public_key__init(&pk);
    uint8_t key[32];
    memset(key, 5, 32);
    pk.sum_case = TENDERMINT__CRYPTO__PUBLIC_KEY__SUM_ED25519;
    pk.ed25519 = (ProtobufCBinaryData){32, key};
    vu.pub_key = &pk;
    vu.power = 10;
    Tendermint__Abci__ValidatorUpdate *vus[] = {&vu};
    ic.n_validators = 1;
    ic.validators = vus;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_INIT_CHAIN;
    rq.init_chain = &ic;
    Tendermint__Abci__Response *r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_INIT_CHAIN);
    assert_int_equal(r->init_chain->app_hash.len, 32);
    assert_int_equal(r->init_chain->n_validators, 0); /* kvapp keeps genesis validators */
    assert_string_equal(f->kv.chain_id, "test-1");
    tendermint__abci__response__free_unpacked(r, NULL);

    /* A validator without a key is rejected with an exception. */
    vu.pub_key = NULL;
    r = roundtrip(f, &rq, WICAS_ABCI_ERR_DECODE);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    tendermint__abci__response__free_unpacked(r, NULL);
}

static Tendermint__Abci__Response *check_tx(fixture *f, const char *tx) {
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestCheckTx ct = TENDERMINT__ABCI__REQUEST_CHECK_TX__INIT;
    ct.tx = (ProtobufCBinaryData){strlen(tx), (uint8_t *)tx};
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_CHECK_TX;
    rq.check_tx = &ct;
    return roundtrip(f, &rq, 0);
}

static void test_check_tx(void **state) {
    fixture *f = *state;
    Tendermint__Abci__Response *r = check_tx(f, "a=1");
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_CHECK_TX);
    assert_int_equal(r->check_tx->code, 0);
    assert_int_equal(r->check_tx->gas_wanted, 1);
    tendermint__abci__response__free_unpacked(r, NULL);
    r = check_tx(f, "no-equals");
    assert_int_equal(r->check_tx->code, 1);
    assert_string_equal(r->check_tx->log, "tx must be key=value");
    tendermint__abci__response__free_unpacked(r, NULL);
    assert_int_equal(f->kv.n_check, 2);
}

static Tendermint__Abci__Response *finalize(fixture *f, int64_t height, const char **txs, size_t n) {
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestFinalizeBlock fb = TENDERMINT__ABCI__REQUEST_FINALIZE_BLOCK__INIT;
    ProtobufCBinaryData bins[8];
    for (size_t i = 0; i < n; i++)
        bins[i] = (ProtobufCBinaryData){strlen(txs[i]), (uint8_t *)txs[i]};
    fb.n_txs = n;
    fb.txs = bins;
    fb.height = height;
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = 1700000000;
    fb.time = &t;
    Tendermint__Abci__CommitInfo ci = TENDERMINT__ABCI__COMMIT_INFO__INIT;
    Tendermint__Abci__VoteInfo vi = TENDERMINT__ABCI__VOTE_INFO__INIT;
    Tendermint__Abci__Validator val = TENDERMINT__ABCI__VALIDATOR__INIT;
    uint8_t addr[20] = {1, 2, 3};
    val.address = (ProtobufCBinaryData){20, addr};
    val.power = 10;
    vi.validator = &val;
    vi.block_id_flag = TENDERMINT__TYPES__BLOCK_IDFLAG__BLOCK_ID_FLAG_COMMIT;
    Tendermint__Abci__VoteInfo *vis[] = {&vi};
    ci.n_votes = 1;
    ci.votes = vis;
    fb.decided_last_commit = &ci;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FINALIZE_BLOCK;
    rq.finalize_block = &fb;
    return roundtrip(f, &rq, 0);
}

static void test_finalize_commit_query(void **state) {
    fixture *f = *state;
    const char *txs[] = {"x=1", "bad", "y=2"};
    Tendermint__Abci__Response *r = finalize(f, 1, txs, 3);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_FINALIZE_BLOCK);
    Tendermint__Abci__ResponseFinalizeBlock *fb = r->finalize_block;
    assert_int_equal(fb->n_tx_results, 3);
    assert_int_equal(fb->tx_results[0]->code, 0);
    assert_int_equal(fb->tx_results[1]->code, 1);
    assert_int_equal(fb->tx_results[2]->code, 0);
    assert_int_equal(fb->tx_results[0]->n_events, 1);
    assert_string_equal(fb->tx_results[0]->events[0]->type, "kv");
    assert_string_equal(fb->tx_results[0]->events[0]->attributes[0]->key, "key");
    assert_string_equal(fb->tx_results[0]->events[0]->attributes[0]->value, "x");
    assert_true(fb->tx_results[0]->events[0]->attributes[0]->index);
    assert_int_equal(fb->app_hash.len, 32);
    uint8_t h1[32];
    memcpy(h1, fb->app_hash.data, 32);
    tendermint__abci__response__free_unpacked(r, NULL);
    assert_int_equal(f->kv.height, 0); /* not committed yet */

    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestCommit cm = TENDERMINT__ABCI__REQUEST_COMMIT__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_COMMIT;
    rq.commit = &cm;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_COMMIT);
    tendermint__abci__response__free_unpacked(r, NULL);
    assert_int_equal(f->kv.height, 1);
    assert_memory_equal(f->kv.hash, h1, 32);

    Tendermint__Abci__RequestQuery q = TENDERMINT__ABCI__REQUEST_QUERY__INIT;
    q.data = (ProtobufCBinaryData){1, (uint8_t *)"y"};
    q.path = "/store";
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_QUERY;
    rq.query = &q;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_QUERY);
    assert_int_equal(r->query->value.len, 1);
    assert_memory_equal(r->query->value.data, "2", 1);
    assert_string_equal(r->query->log, "exists");
    assert_int_equal(r->query->height, 1);
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Same block on a fresh app gives the same hash (determinism). */
    fixture g;
    kvapp_init(&g.kv, &g.app);
    r = finalize(&g, 1, txs, 3);
    assert_memory_equal(r->finalize_block->app_hash.data, h1, 32);
    tendermint__abci__response__free_unpacked(r, NULL);
}

static void test_prepare_process_votes(void **state) {
    fixture *f = *state;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestPrepareProposal pp = TENDERMINT__ABCI__REQUEST_PREPARE_PROPOSAL__INIT;
    ProtobufCBinaryData txs[3] = {{4, (uint8_t *)"a=11"}, {4, (uint8_t *)"b=22"}, {4, (uint8_t *)"c=33"}};
    pp.n_txs = 3;
    pp.txs = txs;
    pp.max_tx_bytes = 9; /* room for two 4-byte txs only */
    pp.height = 3;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_PREPARE_PROPOSAL;
    rq.prepare_proposal = &pp;
    Tendermint__Abci__Response *r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_PREPARE_PROPOSAL);
    assert_int_equal(r->prepare_proposal->n_txs, 2);
    assert_memory_equal(r->prepare_proposal->txs[1].data, "b=22", 4);
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Without a prepare hook the server's default does the same. */
    f->app.prepare_proposal = NULL;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->prepare_proposal->n_txs, 2);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestProcessProposal pr = TENDERMINT__ABCI__REQUEST_PROCESS_PROPOSAL__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_PROCESS_PROPOSAL;
    rq.process_proposal = &pr;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->process_proposal->status,
                     TENDERMINT__ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__ACCEPT);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestExtendVote ev = TENDERMINT__ABCI__REQUEST_EXTEND_VOTE__INIT;
    ev.height = 42;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_EXTEND_VOTE;
    rq.extend_vote = &ev;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->extend_vote->vote_extension.len, 6);
    assert_memory_equal(r->extend_vote->vote_extension.data, "ext-42", 6);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestVerifyVoteExtension vv = TENDERMINT__ABCI__REQUEST_VERIFY_VOTE_EXTENSION__INIT;
    vv.height = 42;
    vv.vote_extension = (ProtobufCBinaryData){6, (uint8_t *)"ext-42"};
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_VERIFY_VOTE_EXTENSION;
    rq.verify_vote_extension = &vv;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->verify_vote_extension->status,
                     TENDERMINT__ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__ACCEPT);
    tendermint__abci__response__free_unpacked(r, NULL);
    vv.vote_extension = (ProtobufCBinaryData){6, (uint8_t *)"ext-43"};
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->verify_vote_extension->status,
                     TENDERMINT__ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__REJECT);
    tendermint__abci__response__free_unpacked(r, NULL);
}

static void test_snapshots_default(void **state) {
    fixture *f = *state;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestListSnapshots ls = TENDERMINT__ABCI__REQUEST_LIST_SNAPSHOTS__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_LIST_SNAPSHOTS;
    rq.list_snapshots = &ls;
    Tendermint__Abci__Response *r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_LIST_SNAPSHOTS);
    assert_int_equal(r->list_snapshots->n_snapshots, 0);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestOfferSnapshot os = TENDERMINT__ABCI__REQUEST_OFFER_SNAPSHOT__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_OFFER_SNAPSHOT;
    rq.offer_snapshot = &os;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->offer_snapshot->result, TENDERMINT__ABCI__RESPONSE_OFFER_SNAPSHOT__RESULT__ABORT);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestLoadSnapshotChunk lc = TENDERMINT__ABCI__REQUEST_LOAD_SNAPSHOT_CHUNK__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK;
    rq.load_snapshot_chunk = &lc;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_LOAD_SNAPSHOT_CHUNK);
    assert_int_equal(r->load_snapshot_chunk->chunk.len, 0);
    tendermint__abci__response__free_unpacked(r, NULL);

    Tendermint__Abci__RequestApplySnapshotChunk ac = TENDERMINT__ABCI__REQUEST_APPLY_SNAPSHOT_CHUNK__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK;
    rq.apply_snapshot_chunk = &ac;
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->apply_snapshot_chunk->result,
                     TENDERMINT__ABCI__RESPONSE_APPLY_SNAPSHOT_CHUNK__RESULT__ABORT);
    tendermint__abci__response__free_unpacked(r, NULL);
}

/* An app answering RETRY for a bad chunk: the response asks CometBFT to
 * fetch that chunk again and to stop asking its sender; other results carry
 * neither list. */
static int retry_apply(void *ctx, uint32_t index, wicas_abci_slice chunk, const char *sender, int *result,
                       char *err, size_t el) {
    (void)ctx, (void)sender, (void)err, (void)el;
    *result = chunk.len == 3 && memcmp(chunk.data, "bad", 3) == 0 ? WICAS_ABCI_CHUNK_RETRY
                                                                  : WICAS_ABCI_SNAPSHOT_ACCEPT;
    (void)index;
    return 0;
}

static void test_snapshot_chunk_retry(void **state) {
    fixture *f = *state;
    f->app.apply_snapshot_chunk = retry_apply;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestApplySnapshotChunk ac = TENDERMINT__ABCI__REQUEST_APPLY_SNAPSHOT_CHUNK__INIT;
    ac.index = 7;
    ac.chunk = (ProtobufCBinaryData){3, (uint8_t *)"bad"};
    ac.sender = "peer-a";
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK;
    rq.apply_snapshot_chunk = &ac;
    Tendermint__Abci__Response *r = roundtrip(f, &rq, 0);
    assert_int_equal(r->apply_snapshot_chunk->result,
                     TENDERMINT__ABCI__RESPONSE_APPLY_SNAPSHOT_CHUNK__RESULT__RETRY);
    assert_int_equal(r->apply_snapshot_chunk->n_refetch_chunks, 1);
    assert_int_equal(r->apply_snapshot_chunk->refetch_chunks[0], 7);
    assert_int_equal(r->apply_snapshot_chunk->n_reject_senders, 1);
    assert_string_equal(r->apply_snapshot_chunk->reject_senders[0], "peer-a");
    tendermint__abci__response__free_unpacked(r, NULL);
    ac.chunk = (ProtobufCBinaryData){4, (uint8_t *)"good"};
    r = roundtrip(f, &rq, 0);
    assert_int_equal(r->apply_snapshot_chunk->result,
                     TENDERMINT__ABCI__RESPONSE_APPLY_SNAPSHOT_CHUNK__RESULT__ACCEPT);
    assert_int_equal(r->apply_snapshot_chunk->n_refetch_chunks, 0);
    assert_int_equal(r->apply_snapshot_chunk->n_reject_senders, 0);
    tendermint__abci__response__free_unpacked(r, NULL);
}

/* Every request kind CometBFT v0.38 sends has a row in convert.c's request
 * table. The kinds are read from the Request descriptor (so a oneof member
 * added to the .proto without a row fails here); each, sent empty to an
 * application with no callbacks, must be answered with status 0 by the
 * Response member of the same name, and only Flush may ask for a flush. */
static void test_every_request_has_a_row(void **state) {
    (void)state;
    static const char *const v038[] = {"echo",
                                       "flush",
                                       "info",
                                       "init_chain",
                                       "query",
                                       "check_tx",
                                       "commit",
                                       "list_snapshots",
                                       "offer_snapshot",
                                       "load_snapshot_chunk",
                                       "apply_snapshot_chunk",
                                       "prepare_proposal",
                                       "process_proposal",
                                       "extend_vote",
                                       "verify_vote_extension",
                                       "finalize_block"};
    const ProtobufCMessageDescriptor *rd = &tendermint__abci__request__descriptor;
    const ProtobufCMessageDescriptor *sd = &tendermint__abci__response__descriptor;
    assert_int_equal(rd->n_fields, sizeof v038 / sizeof v038[0]);
    for (size_t i = 0; i < sizeof v038 / sizeof v038[0]; i++)
        assert_non_null(protobuf_c_message_descriptor_get_field_by_name(rd, v038[i]));

    wicas_abci_app bare;
    memset(&bare, 0, sizeof bare);
    for (unsigned i = 0; i < rd->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &rd->fields[i];
        const ProtobufCMessageDescriptor *md = fd->descriptor;
        assert_int_equal(fd->type, PROTOBUF_C_TYPE_MESSAGE);
        ProtobufCMessage *sub = calloc(1, md->sizeof_message);
        assert_non_null(sub);
        md->message_init(sub);
        Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
        rq.value_case = (Tendermint__Abci__Request__ValueCase)fd->id;
        memcpy((char *)&rq + fd->offset, &sub, sizeof sub);
        size_t n = tendermint__abci__request__get_packed_size(&rq);
        uint8_t *buf = malloc(n + 1);
        tendermint__abci__request__pack(&rq, buf);
        free(sub);
        uint8_t *out = NULL;
        size_t ol = 0;
        bool flush = false;
        int st = wicas_abci_dispatch(&bare, NULL, buf, n, &out, &ol, &flush);
        free(buf);
        Tendermint__Abci__Response *r = out ? tendermint__abci__response__unpack(NULL, ol, out) : NULL;
        free(out);
        const ProtobufCFieldDescriptor *want = protobuf_c_message_descriptor_get_field_by_name(sd, fd->name);
        bool exc = r && r->value_case == TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION;
        if (st != 0 || !r || !want || r->value_case != (Tendermint__Abci__Response__ValueCase)want->id)
            fail_msg("request %s (field %u): status %d, response case %d, want Response.%s (%d)%s%s",
                     fd->name, fd->id, st, r ? (int)r->value_case : -1, fd->name, want ? (int)want->id : -1,
                     exc ? ": " : "", exc ? r->exception->error : "");
        assert_int_equal(flush, strcmp(fd->name, "flush") == 0);
        tendermint__abci__response__free_unpacked(r, NULL);
    }
}

/* An application error becomes an exception, never a result. */
static int failing_commit(void *ctx, wicas_abci_commit_resp *r, char *err, size_t el) {
    (void)ctx, (void)r;
    snprintf(err, el, "disk full");
    return -1;
}

static void test_app_error_and_malformed(void **state) {
    fixture *f = *state;
    f->app.commit = failing_commit;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestCommit cm = TENDERMINT__ABCI__REQUEST_COMMIT__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_COMMIT;
    rq.commit = &cm;
    Tendermint__Abci__Response *r = roundtrip(f, &rq, WICAS_ABCI_ERR_APP);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    assert_string_equal(r->exception->error, "disk full");
    tendermint__abci__response__free_unpacked(r, NULL);

    /* Garbage, an empty Request, a reserved/unknown oneof (field 9 = old DeliverTx) */
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    const uint8_t unknown[] = {0x4a, 0x00}; /* field 9, length 0 */
    const uint8_t *inputs[] = {garbage, unknown, (const uint8_t *)""};
    size_t lens[] = {sizeof garbage, sizeof unknown, 0};
    for (int i = 0; i < 3; i++) {
        uint8_t *out = NULL;
        size_t ol = 0;
        int st = wicas_abci_dispatch(&f->app, NULL, inputs[i], lens[i], &out, &ol, NULL);
        assert_int_equal(st, WICAS_ABCI_ERR_DECODE);
        Tendermint__Abci__Response *e = tendermint__abci__response__unpack(NULL, ol, out);
        assert_non_null(e);
        assert_int_equal(e->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
        assert_non_null(strstr(e->exception->error, "Request"));
        tendermint__abci__response__free_unpacked(e, NULL);
        free(out);
    }
    assert_int_equal(f->kv.n_commit, 0);
}

/* Bit flips and truncations of valid requests of every shape: each must give
 * a decodable Response (a result or an exception), never a crash or leak
 * (run under ASan/UBSan in CI). */
static void test_mutated_requests(void **state) {
    fixture *f = *state;
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestFinalizeBlock fb = TENDERMINT__ABCI__REQUEST_FINALIZE_BLOCK__INIT;
    ProtobufCBinaryData txs[2] = {{3, (uint8_t *)"a=1"}, {3, (uint8_t *)"b=2"}};
    fb.n_txs = 2;
    fb.txs = txs;
    fb.height = 5;
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = 1;
    fb.time = &t;
    Tendermint__Abci__CommitInfo ci = TENDERMINT__ABCI__COMMIT_INFO__INIT;
    Tendermint__Abci__VoteInfo vi = TENDERMINT__ABCI__VOTE_INFO__INIT;
    Tendermint__Abci__Validator val = TENDERMINT__ABCI__VALIDATOR__INIT;
    uint8_t addr[20] = {9};
    val.address = (ProtobufCBinaryData){20, addr};
    vi.validator = &val;
    Tendermint__Abci__VoteInfo *vis[] = {&vi};
    ci.n_votes = 1;
    ci.votes = vis;
    fb.decided_last_commit = &ci;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FINALIZE_BLOCK;
    rq.finalize_block = &fb;
    size_t n = tendermint__abci__request__get_packed_size(&rq);
    uint8_t *orig = malloc(n), *buf = malloc(n);
    tendermint__abci__request__pack(&rq, orig);
    srand(4242);
    int results = 0, exceptions = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, orig, n);
        size_t len = n;
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++)
            buf[rand() % n] ^= (uint8_t)(1u << (rand() % 8));
        if (iter % 5 == 0) len = (size_t)rand() % n;
        uint8_t *out = NULL;
        size_t ol = 0;
        int st = wicas_abci_dispatch(&f->app, NULL, buf, len, &out, &ol, NULL);
        assert_non_null(out);
        Tendermint__Abci__Response *r = tendermint__abci__response__unpack(NULL, ol, out);
        assert_non_null(r);
        if (r->value_case == TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION) {
            assert_true(st == WICAS_ABCI_ERR_DECODE || st == WICAS_ABCI_ERR_APP);
            exceptions++;
        } else {
            assert_int_equal(st, 0);
            results++;
        }
        tendermint__abci__response__free_unpacked(r, NULL);
        free(out);
    }
    free(orig);
    free(buf);
    assert_true(results > 0 && exceptions > 0); /* both paths were exercised */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_known),
        cmocka_unit_test(test_varint_roundtrip),
        cmocka_unit_test(test_varint_bad),
        cmocka_unit_test_setup_teardown(test_echo_flush_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalize_commit_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_process_votes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshots_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_chunk_retry, setup, teardown),
        cmocka_unit_test(test_every_request_has_a_row),
        cmocka_unit_test_setup_teardown(test_app_error_and_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutated_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
