/*
 * app_chain.c — the ABCI application vtable (abci.h) implemented on top of
 * the chain state machine (chain.h). It only translates: abci.h's request
 * views into chain.h calls, chain.h's result structs into abci.h's response
 * structs (copies, since the two own their memory differently). All state
 * and all decisions are the chain's. ca_query is the one callback the server
 * runs outside its mutex (concurrent_query): it only reads ctx->chain, and
 * wicas_chain_query is thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abci.h"
#include "chain.h"
#include "common.h"

#ifndef WICAS_VERSION
#define WICAS_VERSION "0.1.0"
#endif

/* ---- result conversion ------------------------------------------------------------ */
static int copy_events(const wicas_chain_event *in, size_t n, wicas_abci_event **out, size_t *n_out) {
    for (size_t i = 0; i < n; i++) {
        wicas_abci_event *ev;
        if (wicas_abci_event_add(out, n_out, in[i].type, &ev) != 0) return WICAS_ABCI_ERR_NOMEM;
        for (size_t j = 0; j < in[i].n_attrs; j++)
            if (wicas_abci_event_attr(ev, in[i].attrs[j].key, in[i].attrs[j].value, in[i].attrs[j].index) !=
                0)
                return WICAS_ABCI_ERR_NOMEM;
    }
    return 0;
}

static int copy_tx_result(const wicas_chain_tx_result *in, wicas_abci_tx_result *out) {
    out->code = in->code;
    out->gas_wanted = in->gas_wanted;
    out->gas_used = in->gas_used;
    if (in->log && !(out->log = wicas_abci_strdup(in->log))) return WICAS_ABCI_ERR_NOMEM;
    if (in->codespace && !(out->codespace = wicas_abci_strdup(in->codespace))) return WICAS_ABCI_ERR_NOMEM;
    if (in->data && in->data_len && wicas_abci_buf_set(&out->data, in->data, in->data_len) != 0)
        return WICAS_ABCI_ERR_NOMEM;
    return copy_events(in->events, in->n_events, &out->events, &out->n_events);
}

/* ---- callbacks ------------------------------------------------------------------------ */
static int ca_info(void *ctx, const wicas_abci_info_req *req, wicas_abci_info_resp *r, char *err, size_t el) {
    (void)req, (void)err, (void)el;
    wicas_chain *c = ((wicas_abci_chain_ctx *)ctx)->chain;
    int64_t h = 0;
    uint8_t hash[32];
    wicas_chain_info(c, &h, hash);
    r->data = wicas_abci_strdup("wicas");
    r->version = wicas_abci_strdup(WICAS_VERSION);
    r->app_version = 1;
    r->last_block_height = h;
    if (h > 0 && wicas_abci_buf_set(&r->last_block_app_hash, hash, 32) != 0) return WICAS_ABCI_ERR_NOMEM;
    return 0;
}

static int ca_init_chain(void *ctx, const wicas_abci_init_chain_req *req, wicas_abci_init_chain_resp *r,
                         char *err, size_t el) {
    wicas_abci_chain_ctx *x = ctx;
    wicas_chain *c = x->chain;
    uint8_t hash[32];
    const char *have = wicas_chain_id(c);
    if (have && *have) {
        /* InitChain again in this process (CometBFT restarted before block 1
         * committed): same chain -> the same genesis answer. After a process
         * restart the chain has no uncommitted genesis, so it runs afresh. */
        if (strcmp(have, req->chain_id ? req->chain_id : "") != 0 || !x->have_genesis) {
            snprintf(err, el, "InitChain for chain '%s' but the state already belongs to chain '%s'",
                     req->chain_id ? req->chain_id : "", have);
            return WICAS_ABCI_ERR_APP;
        }
        return wicas_abci_buf_set(&r->app_hash, x->genesis_hash, 32);
    }
    const char *js = (const char *)req->app_state_bytes.data;
    size_t jl = req->app_state_bytes.len;
    if (!js || jl == 0) js = "{}", jl = 2;
    /* the genesis validators (ed25519) go into state: vote extensions of
     * asynchronous AI answers are verified and weighed against them */
    wicas_chain_validator *vals = calloc(req->n_validators ? req->n_validators : 1, sizeof *vals);
    if (!vals) return WICAS_ABCI_ERR_NOMEM;
    size_t nv = 0;
    for (size_t i = 0; i < req->n_validators; i++) {
        const wicas_abci_validator_update *v = &req->validators[i];
        if (strcmp(v->key_type, "ed25519") != 0 || v->pub_key_len != 32) {
            free(vals);
            snprintf(err, el, "InitChain: validator %zu has a %s key; only ed25519 validators are supported",
                     i, v->key_type);
            return WICAS_ABCI_ERR_APP;
        }
        memcpy(vals[nv].pub_key, v->pub_key, 32);
        vals[nv++].power = v->power;
    }
    int rc = wicas_chain_init_chain_validators(c, req->chain_id ? req->chain_id : "", req->initial_height, js,
                                               jl, vals, nv, hash, err, el);
    free(vals);
    if (rc != 0) {
        if (!err[0]) snprintf(err, el, "InitChain: %s", wicas_chain_strerror(rc));
        return WICAS_ABCI_ERR_APP;
    }
    memcpy(x->genesis_hash, hash, 32);
    x->have_genesis = true;
    return wicas_abci_buf_set(&r->app_hash, hash, 32);
}

static int ca_check_tx(void *ctx, const wicas_abci_check_tx_req *req, wicas_abci_tx_result *r, char *err,
                       size_t el) {
    (void)err, (void)el;
    wicas_chain_tx_result res;
    memset(&res, 0, sizeof res);
    wicas_chain_check_tx(((wicas_abci_chain_ctx *)ctx)->chain,
                         req->tx.data ? req->tx.data : (const uint8_t *)"", req->tx.len, req->recheck, &res);
    int rc = copy_tx_result(&res, r);
    wicas_chain_tx_result_free(&res);
    return rc;
}

static int ca_query(void *ctx, const wicas_abci_query_req *req, wicas_abci_query_resp *r, char *err,
                    size_t el) {
    (void)err, (void)el;
    wicas_chain_query_result q;
    memset(&q, 0, sizeof q);
    wicas_chain_query(((wicas_abci_chain_ctx *)ctx)->chain, req->path,
                      req->data.data ? req->data.data : (const uint8_t *)"", req->data.len, req->height,
                      req->prove, &q);
    int rc = 0;
    r->code = q.code;
    r->height = q.height;
    if (q.log && !(r->log = wicas_abci_strdup(q.log))) rc = WICAS_ABCI_ERR_NOMEM;
    if (q.codespace && !(r->codespace = wicas_abci_strdup(q.codespace))) rc = WICAS_ABCI_ERR_NOMEM;
    if (q.key && wicas_abci_buf_set(&r->key, q.key, q.key_len) != 0) rc = WICAS_ABCI_ERR_NOMEM;
    if (q.value && wicas_abci_buf_set(&r->value, q.value, q.value_len) != 0) rc = WICAS_ABCI_ERR_NOMEM;
    if (q.n_ops) {
        r->proof_ops = calloc(q.n_ops, sizeof *r->proof_ops);
        if (!r->proof_ops)
            rc = WICAS_ABCI_ERR_NOMEM;
        else {
            r->n_proof_ops = q.n_ops;
            for (size_t i = 0; i < q.n_ops; i++) {
                r->proof_ops[i].type = wicas_abci_strdup(q.ops[i].type ? q.ops[i].type : "");
                if (wicas_abci_buf_set(&r->proof_ops[i].key, q.ops[i].key, q.ops[i].key_len) != 0 ||
                    wicas_abci_buf_set(&r->proof_ops[i].data, q.ops[i].data, q.ops[i].data_len) != 0 ||
                    !r->proof_ops[i].type)
                    rc = WICAS_ABCI_ERR_NOMEM;
            }
        }
    }
    wicas_chain_query_result_free(&q);
    return rc;
}

static int ca_finalize(void *ctx, const wicas_abci_block_req *req, wicas_abci_finalize_resp *r, char *err,
                       size_t el) {
    wicas_chain *c = ((wicas_abci_chain_ctx *)ctx)->chain;
    size_t n = req->n_txs;
    const uint8_t **txs = calloc(n ? n : 1, sizeof *txs);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    wicas_chain_tx_result *res = calloc(n ? n : 1, sizeof *res);
    r->tx_results = calloc(n ? n : 1, sizeof *r->tx_results);
    int rc = WICAS_ABCI_ERR_NOMEM;
    if (!txs || !lens || !res || !r->tx_results) goto out;
    for (size_t i = 0; i < n; i++) {
        txs[i] = req->txs[i].data ? req->txs[i].data : (const uint8_t *)"";
        lens[i] = req->txs[i].len;
    }
    wicas_chain_block b = {.height = req->height,
                           .time_seconds = req->time.seconds,
                           .time_nanos = req->time.nanos,
                           .txs = txs,
                           .tx_lens = lens,
                           .n_txs = n};
    if (req->hash.len == 32) memcpy(b.hash, req->hash.data, 32);
    if (req->proposer_address.len == 20) memcpy(b.proposer, req->proposer_address.data, 20);
    wicas_chain_event *events = NULL;
    size_t n_events = 0;
    uint8_t hash[32];
    int crc = wicas_chain_finalize_block(c, &b, res, &events, &n_events, hash, err, el);
    if (crc != 0) {
        if (!err[0])
            snprintf(err, el, "FinalizeBlock %lld: %s", (long long)req->height, wicas_chain_strerror(crc));
        rc = WICAS_ABCI_ERR_APP;
        for (size_t i = 0; i < n; i++)
            wicas_chain_tx_result_free(&res[i]);
        wicas_chain_events_free(events, n_events);
        goto out;
    }
    r->n_tx_results = n;
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (copy_tx_result(&res[i], &r->tx_results[i]) != 0) rc = WICAS_ABCI_ERR_NOMEM;
        wicas_chain_tx_result_free(&res[i]);
    }
    if (copy_events(events, n_events, &r->events, &r->n_events) != 0) rc = WICAS_ABCI_ERR_NOMEM;
    wicas_chain_events_free(events, n_events);
    if (rc == 0 && wicas_abci_buf_set(&r->app_hash, hash, 32) != 0) rc = WICAS_ABCI_ERR_NOMEM;
out:
    if (rc == WICAS_ABCI_ERR_NOMEM && !err[0]) snprintf(err, el, "FinalizeBlock: out of memory");
    free(txs);
    free(lens);
    free(res);
    return rc;
}

static int ca_commit(void *ctx, wicas_abci_commit_resp *r, char *err, size_t el) {
    int64_t retain = 0;
    int rc = wicas_chain_commit(((wicas_abci_chain_ctx *)ctx)->chain, &retain);
    if (rc != 0) {
        snprintf(err, el, "Commit: %s", wicas_chain_strerror(rc));
        return WICAS_ABCI_ERR_APP;
    }
    r->retain_height = retain;
    wicas_abci_chain_ctx *x = ctx;
    if (x->snapshot_interval > 0) {
        int64_t h = 0;
        wicas_chain_info(x->chain, &h, NULL);
        if (h > 0 && h % x->snapshot_interval == 0) {
            /* node-local: a failed snapshot is logged, never a consensus failure */
            char serr[512] = "";
            if (wicas_chain_snapshot_take(x->chain, x->snapshot_keep ? x->snapshot_keep : 2, 0, serr,
                                          sizeof serr))
                WICAS_WARN("abci", "%s", serr);
            else
                WICAS_INFO("abci", "snapshot taken at height %lld", (long long)h);
        }
    }
    return 0;
}

/* ---- state-sync snapshots (chain.h does the work; see snapshot.c) ------------------------- */

/* Test-only fault injector (--byzantine-snapshots FORGE_CHAIN_ID): the chain
 * id inside snapshot metadata ("WSS1" | u64 height | u64 keys | u64 initial
 * height | u16 id length | id | chunk hashes) gets its last character changed,
 * and the snapshot hash is recomputed over the forged metadata, as a
 * malicious peer would. */
static void byz_forge_chain_id(wicas_abci_snapshot *v) {
    uint8_t *m = (uint8_t *)v->metadata.data;
    size_t cl = v->metadata.len >= 30 ? (size_t)m[28] << 8 | m[29] : 0;
    if (cl == 0 || v->metadata.len < 30 + cl || v->hash.len != 32) return;
    m[30 + cl - 1] = m[30 + cl - 1] == 'x' ? 'y' : 'x';
    wicas_sha256(m, v->metadata.len, (uint8_t *)v->hash.data);
}

static int ca_list_snapshots(void *ctx, wicas_abci_snapshot **out, size_t *n, char *err, size_t el) {
    (void)err, (void)el;
    wicas_chain_snapshot *s;
    size_t k;
    *out = NULL;
    *n = 0;
    if (wicas_chain_snapshot_list(((wicas_abci_chain_ctx *)ctx)->chain, &s, &k) != 0 || k == 0) return 0;
    wicas_abci_snapshot *v = calloc(k, sizeof *v);
    int rc = v ? 0 : WICAS_ABCI_ERR_NOMEM;
    for (size_t i = 0; v && i < k; i++) {
        v[i].height = (uint64_t)s[i].height;
        v[i].format = s[i].format;
        v[i].chunks = s[i].chunks;
        if (wicas_abci_buf_set(&v[i].hash, s[i].hash, 32) ||
            wicas_abci_buf_set(&v[i].metadata, s[i].metadata, s[i].metadata_len))
            rc = WICAS_ABCI_ERR_NOMEM;
        else if (((wicas_abci_chain_ctx *)ctx)->byzantine_snapshots == WICAS_ABCI_BYZ_SNAP_FORGE_CHAIN_ID)
            byz_forge_chain_id(&v[i]);
    }
    wicas_chain_snapshots_free(s, k);
    *out = v; /* freed by the server, also on error */
    *n = v ? k : 0;
    return rc;
}

static int ca_load_chunk(void *ctx, uint64_t height, uint32_t format, uint32_t chunk, wicas_abci_buf *out,
                         char *err, size_t el) {
    (void)err, (void)el;
    uint8_t *d;
    size_t len;
    /* an unknown chunk answers empty, which CometBFT treats as "not here" */
    if (height > INT64_MAX || wicas_chain_snapshot_chunk(((wicas_abci_chain_ctx *)ctx)->chain,
                                                         (int64_t)height, format, chunk, &d, &len))
        return 0;
    int byz = ((wicas_abci_chain_ctx *)ctx)->byzantine_snapshots;
    if (byz == WICAS_ABCI_BYZ_SNAP_BAD_CHUNK && len) { /* test-only fault injector */
        d[len / 2] ^= 0x5a;
    } else if (byz == WICAS_ABCI_BYZ_SNAP_OVERSIZED_CHUNK) { /* test-only: the chunk + 2 MiB of zeros */
        size_t extra = (size_t)2 << 20;
        uint8_t *b = realloc(d, len + extra);
        if (!b) {
            free(d);
            return 0;
        }
        memset(b + len, 0, extra);
        d = b, len += extra;
    }
    if (byz == WICAS_ABCI_BYZ_SNAP_BAD_CHUNK || byz == WICAS_ABCI_BYZ_SNAP_OVERSIZED_CHUNK)
        WICAS_WARN("abci", "byzantine (test fault injector): serving a forged chunk %u of height %llu", chunk,
                   (unsigned long long)height);
    out->data = d;
    out->len = len;
    return 0;
}

static int ca_offer_snapshot(void *ctx, const wicas_abci_snapshot *s, wicas_abci_slice app_hash, int *result,
                             char *err, size_t el) {
    (void)err, (void)el;
    wicas_abci_chain_ctx *x = ctx;
    wicas_chain_restore_free(x->restore); /* a new offer replaces an unfinished one */
    x->restore = NULL;
    char why[512] = "";
    if (app_hash.len != 32 || s->height < 1 || s->height > INT64_MAX) {
        WICAS_WARN("abci", "OfferSnapshot: no usable height / trusted app hash; rejected");
        *result = WICAS_ABCI_OFFER_REJECT;
        return 0;
    }
    wicas_chain_snapshot cs = {.height = (int64_t)s->height,
                               .format = s->format,
                               .chunks = s->chunks,
                               .metadata = s->metadata.data,
                               .metadata_len = s->metadata.len};
    if (s->hash.len == 32) memcpy(cs.hash, s->hash.data, 32);
    wicas_chain_restore_result r = wicas_chain_restore_begin(
        x->chain, &cs, app_hash.data, x->genesis_chain_id,
        x->genesis_initial_height ? x->genesis_initial_height : 1, &x->restore, why, sizeof why);
    *result = r == WICAS_CHAIN_RESTORE_ACCEPT          ? WICAS_ABCI_SNAPSHOT_ACCEPT
              : r == WICAS_CHAIN_RESTORE_REJECT_FORMAT ? WICAS_ABCI_OFFER_REJECT_FORMAT
              : r == WICAS_CHAIN_RESTORE_ABORT         ? WICAS_ABCI_SNAPSHOT_ABORT
                                                       : WICAS_ABCI_OFFER_REJECT;
    if (r == WICAS_CHAIN_RESTORE_ACCEPT)
        WICAS_INFO("abci", "restoring snapshot at height %llu (%u chunks)", (unsigned long long)s->height,
                   s->chunks);
    else
        WICAS_WARN("abci", "OfferSnapshot at height %llu refused: %s", (unsigned long long)s->height, why);
    return 0;
}

static int ca_apply_chunk(void *ctx, uint32_t index, wicas_abci_slice chunk, const char *sender, int *result,
                          char *err, size_t el) {
    (void)err, (void)el;
    wicas_abci_chain_ctx *x = ctx;
    char why[512] = "";
    bool done = false;
    wicas_chain_restore_result r = wicas_chain_restore_chunk(
        x->restore, index, chunk.data ? chunk.data : (const uint8_t *)"", chunk.len, &done, why, sizeof why);
    switch (r) {
    case WICAS_CHAIN_RESTORE_ACCEPT:
        *result = WICAS_ABCI_SNAPSHOT_ACCEPT;
        break;
    case WICAS_CHAIN_RESTORE_RETRY_CHUNK:
        *result = WICAS_ABCI_CHUNK_RETRY; /* refetch it, reject this sender */
        WICAS_WARN("abci", "%s (from %s); fetching it again", why, sender);
        break;
    case WICAS_CHAIN_RESTORE_ABORT:
        *result = WICAS_ABCI_SNAPSHOT_ABORT;
        WICAS_WARN("abci", "%s", why);
        break;
    default:
        *result = WICAS_ABCI_CHUNK_REJECT_SNAPSHOT;
        WICAS_WARN("abci", "%s; snapshot rejected", why);
        break;
    }
    if (done || (r != WICAS_CHAIN_RESTORE_ACCEPT && r != WICAS_CHAIN_RESTORE_RETRY_CHUNK)) {
        wicas_chain_restore_free(x->restore);
        x->restore = NULL;
    }
    if (done) WICAS_INFO("abci", "state restored from a snapshot; app hash verified");
    return 0;
}

/* ---- vote extensions (asynchronous AI answers; the logic is the chain's) ------------ */

static int ca_extend_vote(void *ctx, const wicas_abci_block_req *req, wicas_abci_buf *ext, char *err,
                          size_t el) {
    uint8_t *e = NULL;
    size_t n = 0;
    int rc = wicas_chain_extend_vote(((wicas_abci_chain_ctx *)ctx)->chain, req->height, &e, &n);
    if (rc != 0) {
        snprintf(err, el, "ExtendVote %lld: %s", (long long)req->height, wicas_chain_strerror(rc));
        return WICAS_ABCI_ERR_APP;
    }
    ext->data = e;
    ext->len = n;
    return 0;
}

static int ca_verify_vote_ext(void *ctx, const wicas_abci_verify_vote_ext_req *req, bool *accept, char *err,
                              size_t el) {
    (void)err, (void)el;
    char why[256] = "";
    *accept = wicas_chain_verify_vote_extension(
        ((wicas_abci_chain_ctx *)ctx)->chain, req->height, req->validator_address.data,
        req->validator_address.len, req->vote_extension.data, req->vote_extension.len, why, sizeof why);
    if (!*accept)
        WICAS_WARN("abci", "rejecting a vote extension at height %lld: %s", (long long)req->height, why);
    return 0;
}

/* The proposal: the signed vote extensions of the last commit first (when
 * there are any), then the mempool's txs in order while they fit. */
static int ca_prepare(void *ctx, const wicas_abci_block_req *req, wicas_abci_prepare_resp *r, char *err,
                      size_t el) {
    wicas_chain *c = ((wicas_abci_chain_ctx *)ctx)->chain;
    wicas_chain_vote *votes = calloc(req->n_votes ? req->n_votes : 1, sizeof *votes);
    if (!votes) return WICAS_ABCI_ERR_NOMEM;
    for (size_t i = 0; i < req->n_votes; i++) {
        const wicas_abci_vote *v = &req->votes[i];
        votes[i] = (wicas_chain_vote){.address = v->address.len == 20 ? v->address.data : NULL,
                                      .power = v->power,
                                      .block_id_flag = v->block_id_flag,
                                      .extension = v->vote_extension.data,
                                      .extension_len = v->vote_extension.len,
                                      .signature = v->extension_signature.data,
                                      .signature_len = v->extension_signature.len};
    }
    uint8_t *inj = NULL;
    size_t il = 0;
    int rc = wicas_chain_vote_injection(c, req->height, req->round, votes, req->n_votes, &inj, &il);
    free(votes);
    if (rc != 0) {
        snprintf(err, el, "PrepareProposal %lld: %s", (long long)req->height, wicas_chain_strerror(rc));
        return WICAS_ABCI_ERR_APP;
    }
    if (inj && (int64_t)il > req->max_tx_bytes) { /* cannot fit: leave the answers for a later block */
        free(inj);
        inj = NULL, il = 0;
    }
    r->txs = calloc(req->n_txs + 1, sizeof *r->txs);
    if (!r->txs) {
        free(inj);
        return WICAS_ABCI_ERR_NOMEM;
    }
    int64_t total = (int64_t)il;
    if (inj) r->txs[r->n_txs++] = (wicas_abci_buf){inj, il};
    for (size_t i = 0; i < req->n_txs; i++) {
        if (wicas_chain_is_vote_injection(req->txs[i].data, req->txs[i].len))
            continue; /* never from the mempool */
        total += (int64_t)req->txs[i].len;
        if (total > req->max_tx_bytes) break;
        if (wicas_abci_buf_set(&r->txs[r->n_txs], req->txs[i].data, req->txs[i].len) != 0)
            return WICAS_ABCI_ERR_NOMEM;
        r->n_txs++;
    }
    return 0;
}

static int ca_process(void *ctx, const wicas_abci_block_req *req, bool *accept, char *err, size_t el) {
    (void)err, (void)el;
    const uint8_t **txs = calloc(req->n_txs ? req->n_txs : 1, sizeof *txs);
    size_t *lens = calloc(req->n_txs ? req->n_txs : 1, sizeof *lens);
    if (!txs || !lens) {
        free(txs), free(lens);
        return WICAS_ABCI_ERR_NOMEM;
    }
    for (size_t i = 0; i < req->n_txs; i++) {
        txs[i] = req->txs[i].data ? req->txs[i].data : (const uint8_t *)"";
        lens[i] = req->txs[i].len;
    }
    char why[256] = "";
    *accept = wicas_chain_process_proposal(((wicas_abci_chain_ctx *)ctx)->chain, req->height, txs, lens,
                                           req->n_txs, why, sizeof why);
    if (!*accept)
        WICAS_WARN("abci", "rejecting the proposal for height %lld: %s", (long long)req->height, why);
    free(txs);
    free(lens);
    return 0;
}

int wicas_abci_chain_app(wicas_abci_chain_ctx *ctx, wicas_chain *chain, wicas_abci_app *app) {
    if (!ctx || !chain || !app) return WICAS_ABCI_ERR_ARG;
    memset(ctx, 0, sizeof *ctx);
    ctx->chain = chain;
    memset(app, 0, sizeof *app);
    app->ctx = ctx;
    app->info = ca_info;
    app->init_chain = ca_init_chain;
    app->check_tx = ca_check_tx;
    app->query = ca_query;
    app->concurrent_query = true; /* wicas_chain_query is thread-safe (chain.h) */
    app->finalize_block = ca_finalize;
    app->commit = ca_commit;
    app->prepare_proposal = ca_prepare;
    app->process_proposal = ca_process;
    app->extend_vote = ca_extend_vote;
    app->verify_vote_extension = ca_verify_vote_ext;
    app->list_snapshots = ca_list_snapshots;
    app->offer_snapshot = ca_offer_snapshot;
    app->load_snapshot_chunk = ca_load_chunk;
    app->apply_snapshot_chunk = ca_apply_chunk;
    return 0;
}
