/*
 * query.c — abci_query: gRPC-style paths whose data is the protobuf request
 * and whose value is the protobuf response (what CosmJS's QueryClient sends
 * through CometBFT's abci_query), plus raw "store/main/key" reads that can
 * carry a sparse-Merkle proof. Every query (and simulation) runs on a
 * private view of the last commit (chain.c qview: its own LMDB read
 * transaction, its own contract VM, height and app hash read from that
 * transaction), so it never sees a block that is not committed yet, reports
 * the height of the state it read, and may run on any thread while the
 * consensus connection finalizes and commits blocks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

#define QUERY_GAS_LIMIT 3000000ULL /* wasmd's default smart query gas limit */

#define qfail(r, code, ...) wicas_query_fail(r, code, NULL, __VA_ARGS__)
#define qvalue wicas_query_value

static void store_query(wicas_chain *c, MDB_txn *t, int64_t height, const uint8_t *key, size_t kl, bool prove,
                        wicas_chain_query_result *r) {
    uint8_t root[32];
    if (height == c->last_height) {
        memcpy(root, c->last_hash, 32);
    } else {
        int rc = wicas_wstore_root_at(&c->st, t, height, root);
        if (rc != 1) {
            qfail(r, WICAS_CODE_INVALID_REQUEST, "no state stored for height %lld (latest %lld)",
                  (long long)height, (long long)c->last_height);
            return;
        }
    }
    if (!key || kl == 0) {
        qfail(r, WICAS_CODE_INVALID_REQUEST, "store query needs a key in data");
        return;
    }
    uint8_t *v = NULL, *proof = NULL;
    size_t vl = 0, pl = 0;
    int rc = wicas_smt_get(&c->st, t, root, key, kl, &v, &vl, prove ? &proof : NULL, prove ? &pl : NULL);
    if (rc < 0) {
        qfail(r, WICAS_CODE_INTERNAL, "store read at height %lld failed: %s", (long long)height,
              wicas_chain_strerror(rc));
        return;
    }
    r->key = malloc(kl);
    if (r->key) {
        memcpy(r->key, key, kl);
        r->key_len = kl;
    }
    if (rc == 1) {
        r->value = v;
        r->value_len = vl;
    }
    if (prove) {
        r->ops = calloc(1, sizeof *r->ops);
        if (!r->ops) {
            free(proof);
            qfail(r, WICAS_CODE_INTERNAL, "out of memory");
            return;
        }
        r->n_ops = 1;
        r->ops[0].type = wicas_xstrdup(WICAS_CHAIN_PROOF_OP_TYPE);
        r->ops[0].key = malloc(kl);
        if (r->ops[0].key) memcpy(r->ops[0].key, key, kl);
        r->ops[0].key_len = kl;
        r->ops[0].data = proof;
        r->ops[0].data_len = pl;
    }
}

static void q_simulate(wicas_chain *c, MDB_txn *t, const uint8_t *data, size_t len,
                       wicas_chain_query_result *r) {
    Wchain__SimulateRequest *q = wchain__simulate_request__unpack(NULL, len, data);
    if (!q) {
        qfail(r, WICAS_CODE_TX_DECODE, "cannot decode SimulateRequest");
        return;
    }
    if (q->tx_bytes.len == 0) {
        wchain__simulate_request__free_unpacked(q, NULL);
        qfail(r, WICAS_CODE_INVALID_REQUEST, "empty tx_bytes (the deprecated tx field is not supported)");
        return;
    }
    wicas_chain_tx_result tr;
    wicas_chain_simulate_view(c, t, q->tx_bytes.data, q->tx_bytes.len, &tr);
    wchain__simulate_request__free_unpacked(q, NULL);
    if (tr.code) {
        qfail(r, tr.code, "%s", tr.log ? tr.log : "simulation failed");
        free(r->codespace);
        r->codespace = wicas_xstrdup(tr.codespace ? tr.codespace : WICAS_CHAIN_CODESPACE_SDK);
        wicas_chain_tx_result_free(&tr);
        return;
    }
    Wchain__GasInfo gi = WCHAIN__GAS_INFO__INIT;
    gi.gas_wanted = (uint64_t)tr.gas_wanted;
    gi.gas_used = (uint64_t)tr.gas_used;
    Wchain__Result res = WCHAIN__RESULT__INIT;
    res.log = (char *)"";
    Wchain__Event *evs = calloc(tr.n_events ? tr.n_events : 1, sizeof *evs);
    Wchain__Event **pev = calloc(tr.n_events ? tr.n_events : 1, sizeof *pev);
    size_t n_attr = 0;
    for (size_t i = 0; i < tr.n_events; i++)
        n_attr += tr.events[i].n_attrs;
    Wchain__EventAttribute *ats = calloc(n_attr ? n_attr : 1, sizeof *ats);
    Wchain__EventAttribute **pat = calloc(n_attr ? n_attr : 1, sizeof *pat);
    Wchain__TxMsgData *md = tr.data ? wchain__tx_msg_data__unpack(NULL, tr.data_len, tr.data) : NULL;
    if (evs && pev && ats && pat) {
        size_t k = 0;
        for (size_t i = 0; i < tr.n_events; i++) {
            wchain__event__init(&evs[i]);
            evs[i].type = tr.events[i].type;
            evs[i].attributes = pat + k;
            evs[i].n_attributes = tr.events[i].n_attrs;
            for (size_t j = 0; j < tr.events[i].n_attrs; j++, k++) {
                wchain__event_attribute__init(&ats[k]);
                ats[k].key = tr.events[i].attrs[j].key;
                ats[k].value = tr.events[i].attrs[j].value;
                ats[k].index = tr.events[i].attrs[j].index;
                pat[k] = &ats[k];
            }
            pev[i] = &evs[i];
        }
        res.events = pev;
        res.n_events = tr.n_events;
        if (md) {
            res.msg_responses = md->msg_responses;
            res.n_msg_responses = md->n_msg_responses;
        }
        Wchain__SimulateResponse resp = WCHAIN__SIMULATE_RESPONSE__INIT;
        resp.gas_info = &gi;
        resp.result = &res;
        qvalue(r, &resp.base);
    } else {
        qfail(r, WICAS_CODE_INTERNAL, "out of memory");
    }
    if (md) wchain__tx_msg_data__free_unpacked(md, NULL);
    free(evs);
    free(pev);
    free(ats);
    free(pat);
    wicas_chain_tx_result_free(&tr);
}

/* One query on view c (a private handle of the last commit, chain.c qview)
 * and its read transaction t. */
static void query_view(wicas_chain *c, MDB_txn *t, const char *path, const uint8_t *data, size_t len,
                       int64_t height, bool prove, wicas_chain_query_result *r) {
    if (height < 0 || height > c->last_height) {
        qfail(r, WICAS_CODE_INVALID_REQUEST, "cannot query with height %lld: latest committed height is %lld",
              (long long)height, (long long)c->last_height);
        return;
    }
    if (height == 0) height = c->last_height;
    r->height = height;
    const char *sp = path[0] == '/' ? path + 1 : path;
    if (strcmp(sp, "store/" WICAS_CHAIN_STORE_NAME "/key") == 0) {
        store_query(c, t, height, data, len, prove, r);
        return;
    }
    if (strcmp(path, "/cosmos.tx.v1beta1.Service/Simulate") == 0) {
        q_simulate(c, t, data, len, r);
        return;
    }
    if (height != c->last_height) {
        qfail(r, WICAS_CODE_INVALID_REQUEST,
              "%s is answered at the latest height only (%lld); use store/main/key for older heights", path,
              (long long)c->last_height);
        return;
    }
    kv base;
    wicas_kv_init_base(&base, &c->st, t);
    wctx x;
    wicas_ctx_init(&x, c, &base, QUERY_GAS_LIMIT);
    x.query = true;
    c->blk_height = c->last_height; /* the view's, not the shared chain's */
    c->tx_index = -1;
    const wicas_module *m = wicas_module_for_query(path);
    if (m)
        m->query(&x, path + strlen(m->query_service), path, data, len, r);
    else
        qfail(r, WICAS_CODE_UNKNOWN_REQUEST, "unknown query path '%s': unknown request", path);
    wicas_ctx_free(&x);
}

void wicas_chain_query_view(wicas_chain *c, const char *path, const uint8_t *data, size_t len, int64_t height,
                            bool prove, wicas_chain_query_result *r) {
    memset(r, 0, sizeof *r);
    if (!path) path = "";
    qview q;
    char err[256] = "";
    if (wicas_qview_open(c, &q, err, sizeof err)) {
        qfail(r, WICAS_CODE_INTERNAL, "%s", err[0] ? err : "cannot open a read view of the last commit");
        return;
    }
    query_view(q.v, q.txn, path, data, len, height, prove, r);
    wicas_qview_close(&q);
    if (!r->log) r->log = wicas_xstrdup("");
}
