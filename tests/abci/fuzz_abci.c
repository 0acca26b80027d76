/*
 * fuzz_abci.c — libFuzzer target for what CometBFT sends the application:
 * a byte stream of ABCI frames (uvarint length || tendermint.abci.Request,
 * src/abci/frame.c) decoded and dispatched (convert.c) to an application.
 * Input: byte 0 picks the application (even: the tests' key/value app,
 * fresh for every input; odd: the chain adapter app_chain.c on a real chain
 * in a temp directory), the rest is the stream. The stream is cut into frames
 * as the server does: a bad varint or an undecodable Request ends the
 * connection, a truncated frame ends the stream.
 * Invariants: the varint codec round-trips; every dispatched frame answers a
 * Response that decodes again; an undecodable request answers an exception;
 * nothing leaks. After each input the chain is brought back to its starting
 * state (check state reset; rebuilt when a block, a commit or a restore
 * changed it), so every input sees the same application.
 * Seeds: real Requests encoded with the same protobuf definitions: echo,
 * info, query, check_tx with a tx signed by the chain's builder, prepare /
 * process proposal, verify vote extension, finalize_block + commit, and the
 * snapshot calls.
 */
#include "fuzz_main.h"

#include "abci.h"
#include "abci/kvapp.h"
#include "chain/fuzz_chain.h"
#include "chain_internal.h"
#include "tendermint/abci/types.pb-c.h"

static const char *chain_dir;
static wicas_chain *chain;
static wicas_abci_chain_ctx cctx;
static wicas_abci_app chain_app;
static kvapp kvs;

static void chain_build(void) {
    chain = fzc_open(chain_dir, NULL);
    fzc_block(chain, 1, NULL, NULL, 0);
    memset(&cctx, 0, sizeof cctx);
    if (wicas_abci_chain_app(&cctx, chain, &chain_app)) abort();
}

static void chain_reset(void) {
    wicas_chain_restore_free(cctx.restore);
    cctx.restore = NULL;
    wicas_chain_close(chain);
    fuzz_rm_tree(chain_dir);
    if (mkdir(chain_dir, 0700)) abort();
    chain_build();
}

static void fuzz_setup(void) {
    chain_dir = fuzz_tmpdir("abci");
    chain_build();
}

/* ---- seeds ------------------------------------------------------------------------- */
static uint8_t sbuf[1 << 16];
static size_t slen;

static void put_req(Tendermint__Abci__Request *rq) {
    size_t n = tendermint__abci__request__get_packed_size(rq);
    if (slen + n + 10 > sizeof sbuf) abort();
    slen += wicas_abci_varint_put(n, sbuf + slen);
    slen += tendermint__abci__request__pack(rq, sbuf + slen);
}

static void seed_done(const char *name) {
    /* the same stream for both applications */
    char nm[64];
    snprintf(nm, sizeof nm, "%s-kv", name);
    fuzz_seed_mode(nm, 0, sbuf, slen);
    snprintf(nm, sizeof nm, "%s-chain", name);
    fuzz_seed_mode(nm, 1, sbuf, slen);
    slen = 0;
}

static void fuzz_seeds(void) {
    Tendermint__Abci__Request rq;
    { /* echo, flush, info */
        Tendermint__Abci__RequestEcho e = TENDERMINT__ABCI__REQUEST_ECHO__INIT;
        e.message = "hello";
        tendermint__abci__request__init(&rq);
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_ECHO, rq.echo = &e;
        put_req(&rq);
        Tendermint__Abci__RequestFlush f = TENDERMINT__ABCI__REQUEST_FLUSH__INIT;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FLUSH, rq.flush = &f;
        put_req(&rq);
        Tendermint__Abci__RequestInfo in = TENDERMINT__ABCI__REQUEST_INFO__INIT;
        in.version = "0.38.25", in.block_version = 11, in.p2p_version = 8, in.abci_version = "2.0.0";
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_INFO, rq.info = &in;
        put_req(&rq);
        seed_done("info");
    }
    size_t tl;
    uint8_t *tx = fzc_send_tx(0, "10uwicas", &tl);
    { /* check_tx, query */
        Tendermint__Abci__RequestCheckTx ct = TENDERMINT__ABCI__REQUEST_CHECK_TX__INIT;
        ct.tx.data = tx, ct.tx.len = tl;
        tendermint__abci__request__init(&rq);
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_CHECK_TX, rq.check_tx = &ct;
        put_req(&rq);
        put_req(&rq); /* the same again: wrong sequence now */
        Tendermint__Abci__RequestQuery q = TENDERMINT__ABCI__REQUEST_QUERY__INIT;
        q.path = "store/main/key", q.data.data = (uint8_t *)"auth/next_account_number";
        q.data.len = strlen("auth/next_account_number"), q.prove = 1;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_QUERY, rq.query = &q;
        put_req(&rq);
        seed_done("checktx");
    }
    { /* prepare, process, extend, verify, finalize, commit */
        ProtobufCBinaryData txs[1] = {{tl, tx}};
        Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        t.seconds = 1700000002;
        Tendermint__Abci__RequestPrepareProposal pp = TENDERMINT__ABCI__REQUEST_PREPARE_PROPOSAL__INIT;
        pp.max_tx_bytes = 1 << 20, pp.n_txs = 1, pp.txs = txs, pp.height = 2, pp.time = &t;
        pp.proposer_address.data = fzc_vaddr[0], pp.proposer_address.len = 20;
        tendermint__abci__request__init(&rq);
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_PREPARE_PROPOSAL, rq.prepare_proposal = &pp;
        put_req(&rq);
        uint8_t hash[32];
        memset(hash, 2, 32);
        Tendermint__Abci__RequestProcessProposal pr = TENDERMINT__ABCI__REQUEST_PROCESS_PROPOSAL__INIT;
        pr.n_txs = 1, pr.txs = txs, pr.height = 2, pr.time = &t, pr.hash.data = hash, pr.hash.len = 32;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_PROCESS_PROPOSAL, rq.process_proposal = &pr;
        put_req(&rq);
        Tendermint__Abci__RequestExtendVote ev = TENDERMINT__ABCI__REQUEST_EXTEND_VOTE__INIT;
        ev.height = 2, ev.hash.data = hash, ev.hash.len = 32, ev.time = &t;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_EXTEND_VOTE, rq.extend_vote = &ev;
        put_req(&rq);
        Tendermint__Abci__RequestVerifyVoteExtension vv =
            TENDERMINT__ABCI__REQUEST_VERIFY_VOTE_EXTENSION__INIT;
        const char *ext = "{\"results\":[]}";
        vv.height = 2, vv.hash.data = hash, vv.hash.len = 32;
        vv.validator_address.data = fzc_vaddr[1], vv.validator_address.len = 20;
        vv.vote_extension.data = (uint8_t *)ext, vv.vote_extension.len = strlen(ext);
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_VERIFY_VOTE_EXTENSION,
        rq.verify_vote_extension = &vv;
        put_req(&rq);
        Tendermint__Abci__RequestFinalizeBlock fb = TENDERMINT__ABCI__REQUEST_FINALIZE_BLOCK__INIT;
        fb.n_txs = 1, fb.txs = txs, fb.height = 2, fb.time = &t, fb.hash.data = hash, fb.hash.len = 32;
        fb.proposer_address.data = fzc_vaddr[0], fb.proposer_address.len = 20;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FINALIZE_BLOCK, rq.finalize_block = &fb;
        put_req(&rq);
        Tendermint__Abci__RequestCommit cm = TENDERMINT__ABCI__REQUEST_COMMIT__INIT;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_COMMIT, rq.commit = &cm;
        put_req(&rq);
        seed_done("block");
    }
    free(tx);
    { /* snapshots */
        tendermint__abci__request__init(&rq);
        Tendermint__Abci__RequestListSnapshots ls = TENDERMINT__ABCI__REQUEST_LIST_SNAPSHOTS__INIT;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_LIST_SNAPSHOTS, rq.list_snapshots = &ls;
        put_req(&rq);
        Tendermint__Abci__RequestLoadSnapshotChunk lc = TENDERMINT__ABCI__REQUEST_LOAD_SNAPSHOT_CHUNK__INIT;
        lc.height = 1, lc.format = 1;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK, rq.load_snapshot_chunk = &lc;
        put_req(&rq);
        Tendermint__Abci__Snapshot s = TENDERMINT__ABCI__SNAPSHOT__INIT;
        uint8_t h[32] = {0}, meta[62] = "WSS1";
        s.height = 1, s.format = 1, s.chunks = 1, s.hash.data = h, s.hash.len = 32;
        s.metadata.data = meta, s.metadata.len = sizeof meta;
        Tendermint__Abci__RequestOfferSnapshot os = TENDERMINT__ABCI__REQUEST_OFFER_SNAPSHOT__INIT;
        os.snapshot = &s, os.app_hash.data = h, os.app_hash.len = 32;
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_OFFER_SNAPSHOT, rq.offer_snapshot = &os;
        put_req(&rq);
        Tendermint__Abci__RequestApplySnapshotChunk ac = TENDERMINT__ABCI__REQUEST_APPLY_SNAPSHOT_CHUNK__INIT;
        ac.index = 0, ac.chunk.data = meta, ac.chunk.len = 8, ac.sender = "peer";
        rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK, rq.apply_snapshot_chunk = &ac;
        put_req(&rq);
        seed_done("snapshot");
    }
}

/* ---- one input ---------------------------------------------------------------------- */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const wicas_abci_app *app;
    wicas_abci_app kv_app;
    if (data[0] & 1) {
        app = &chain_app;
    } else {
        memset(&kvs, 0, sizeof kvs);
        kvapp_init(&kvs, &kv_app);
        app = &kv_app;
    }
    size_t off = 1;
    int frames = 0;
    while (off < size && frames < 64) {
        uint64_t flen;
        int g = wicas_abci_varint_get(data + off, size - off, &flen);
        if (g == WICAS_ABCI_ERR_TRUNCATED) break;
        if (g < 0) {
            FUZZ_CHECK(g == WICAS_ABCI_ERR_FRAME, "varint_get: %d", g);
            break;
        }
        uint8_t vb[WICAS_ABCI_VARINT_MAX];
        uint64_t back;
        size_t pn = wicas_abci_varint_put(flen, vb);
        FUZZ_CHECK(wicas_abci_varint_get(vb, pn, &back) == (int)pn && back == flen, "varint round trip");
        off += (size_t)g;
        if (flen > WICAS_ABCI_MAX_FRAME || flen > size - off) break; /* the server stops reading here */
        uint8_t *out = NULL;
        size_t out_len = 0;
        bool flush = false;
        int st = wicas_abci_dispatch(app, NULL, data + off, (size_t)flen, &out, &out_len, &flush);
        off += (size_t)flen;
        frames++;
        FUZZ_CHECK(out != NULL || st == WICAS_ABCI_ERR_NOMEM, "no response (status %d)", st);
        if (out) {
            Tendermint__Abci__Response *r = tendermint__abci__response__unpack(NULL, out_len, out);
            FUZZ_CHECK(r != NULL, "response does not decode");
            if (st == WICAS_ABCI_ERR_DECODE || st == WICAS_ABCI_ERR_APP)
                FUZZ_CHECK(r->value_case == TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION &&
                               r->exception->error[0],
                           "failure %d without an exception message", st);
            tendermint__abci__response__free_unpacked(r, NULL);
        }
        free(out);
        if (st == WICAS_ABCI_ERR_DECODE) break; /* the server closes the connection */
    }
    if (app == &chain_app) {
        int64_t h;
        uint8_t ah[32];
        wicas_chain_info(chain, &h, ah);
        if (h != 1 || chain->pending || cctx.restore || cctx.have_genesis)
            chain_reset();
        else
            FUZZ_CHECK(wicas_chain_reload(chain) == 0, "reload");
    }
    return 0;
}
