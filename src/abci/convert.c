/*
 * convert.c — one ABCI request in, one response out: decode the protobuf
 * Request, turn it into the plain C view of abci.h, call the application
 * (under the caller's mutex, except a Query when the application declares
 * concurrent_query), turn the application's answer back into a
 * protobuf Response and pack it.
 *
 * Why it is shaped so: protobuf-c types stay inside this file, so
 * applications only ever see abci.h's structs. Every protobuf struct built
 * for a response comes from a small arena (a linked list of calloc'd blocks)
 * freed in one go after packing; strings and bytes point into the
 * application's response, which is freed afterwards with the matching
 * resp_free_* function. Anything undecodable becomes a Response.exception.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abci.h"
#include "tendermint/abci/types.pb-c.h"

/* ---- arena ---------------------------------------------------------------------- */
typedef struct arena_blk {
    struct arena_blk *next;
    _Alignas(max_align_t) unsigned char data[];
} arena_blk;

typedef struct {
    arena_blk *head;
    bool oom;
} arena;

static void *ar_alloc(arena *a, size_t n) {
    arena_blk *b = calloc(1, sizeof *b + (n ? n : 1));
    if (!b) {
        a->oom = true;
        return NULL;
    }
    b->next = a->head;
    a->head = b;
    return b->data;
}

static void ar_free(arena *a) {
    while (a->head) {
        arena_blk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

/* ---- freeing application responses ------------------------------------------------- */
static void free_events(wicas_abci_event *ev, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < ev[i].n_attrs; j++) {
            free(ev[i].attrs[j].key);
            free(ev[i].attrs[j].value);
        }
        free(ev[i].attrs);
        free(ev[i].type);
    }
    free(ev);
}

static void free_tx_result(wicas_abci_tx_result *r) {
    free(r->data.data);
    free(r->log);
    free(r->info);
    free(r->codespace);
    free_events(r->events, r->n_events);
}

/* ---- small converters ---------------------------------------------------------------- */
static wicas_abci_slice sl(ProtobufCBinaryData b) {
    return (wicas_abci_slice){b.data, b.len};
}
static ProtobufCBinaryData bd(wicas_abci_buf b) {
    return (ProtobufCBinaryData){b.len, b.data};
}
static char *str_or_empty(char *s) {
    return s ? s : (char *)"";
}

static wicas_abci_time ts(const Google__Protobuf__Timestamp *t) {
    return t ? (wicas_abci_time){t->seconds, t->nanos} : (wicas_abci_time){0, 0};
}

static Tendermint__Abci__Event **pb_events(arena *a, const wicas_abci_event *ev, size_t n) {
    if (n == 0) return NULL;
    Tendermint__Abci__Event **out = ar_alloc(a, n * sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        Tendermint__Abci__Event *e = ar_alloc(a, sizeof *e);
        if (!e) return NULL;
        tendermint__abci__event__init(e);
        e->type = str_or_empty(ev[i].type);
        e->n_attributes = ev[i].n_attrs;
        if (ev[i].n_attrs) {
            e->attributes = ar_alloc(a, ev[i].n_attrs * sizeof *e->attributes);
            if (!e->attributes) return NULL;
            for (size_t j = 0; j < ev[i].n_attrs; j++) {
                Tendermint__Abci__EventAttribute *at = ar_alloc(a, sizeof *at);
                if (!at) return NULL;
                tendermint__abci__event_attribute__init(at);
                at->key = str_or_empty(ev[i].attrs[j].key);
                at->value = str_or_empty(ev[i].attrs[j].value);
                at->index = ev[i].attrs[j].index;
                e->attributes[j] = at;
            }
        }
        out[i] = e;
    }
    return out;
}

static Tendermint__Abci__ValidatorUpdate **pb_valupdates(arena *a, const wicas_abci_validator_update *v,
                                                         size_t n) {
    if (n == 0) return NULL;
    Tendermint__Abci__ValidatorUpdate **out = ar_alloc(a, n * sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        Tendermint__Abci__ValidatorUpdate *u = ar_alloc(a, sizeof *u);
        Tendermint__Crypto__PublicKey *pk = ar_alloc(a, sizeof *pk);
        if (!u || !pk) return NULL;
        tendermint__abci__validator_update__init(u);
        tendermint__crypto__public_key__init(pk);
        ProtobufCBinaryData key = {v[i].pub_key_len, (uint8_t *)v[i].pub_key};
        if (strcmp(v[i].key_type, "secp256k1") == 0) {
            pk->sum_case = TENDERMINT__CRYPTO__PUBLIC_KEY__SUM_SECP256K1;
            pk->secp256k1 = key;
        } else {
            pk->sum_case = TENDERMINT__CRYPTO__PUBLIC_KEY__SUM_ED25519;
            pk->ed25519 = key;
        }
        u->pub_key = pk;
        u->power = v[i].power;
        out[i] = u;
    }
    return out;
}

static int from_pb_valupdate(const Tendermint__Abci__ValidatorUpdate *u, wicas_abci_validator_update *out) {
    memset(out, 0, sizeof *out);
    out->power = u->power;
    if (!u->pub_key) return -1;
    ProtobufCBinaryData k;
    if (u->pub_key->sum_case == TENDERMINT__CRYPTO__PUBLIC_KEY__SUM_ED25519) {
        strcpy(out->key_type, "ed25519");
        k = u->pub_key->ed25519;
    } else if (u->pub_key->sum_case == TENDERMINT__CRYPTO__PUBLIC_KEY__SUM_SECP256K1) {
        strcpy(out->key_type, "secp256k1");
        k = u->pub_key->secp256k1;
    } else {
        return -1;
    }
    if (k.len > sizeof out->pub_key) return -1;
    memcpy(out->pub_key, k.data, k.len);
    out->pub_key_len = k.len;
    return 0;
}

/* Fill the shared block view. votes come from either a CommitInfo or an
 * ExtendedCommitInfo (ext non-NULL). */
static int block_view(arena *a, wicas_abci_block_req *b, size_t n_txs, ProtobufCBinaryData *txs,
                      const Tendermint__Abci__CommitInfo *ci, const Tendermint__Abci__ExtendedCommitInfo *ext,
                      size_t n_mis, Tendermint__Abci__Misbehavior **mis) {
    if (n_txs) {
        wicas_abci_slice *t = ar_alloc(a, n_txs * sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < n_txs; i++)
            t[i] = sl(txs[i]);
        b->txs = t;
        b->n_txs = n_txs;
    }
    size_t nv = ext ? ext->n_votes : ci ? ci->n_votes : 0;
    b->round = ext ? ext->round : ci ? ci->round : 0;
    if (nv) {
        wicas_abci_vote *v = ar_alloc(a, nv * sizeof *v);
        if (!v) return -1;
        for (size_t i = 0; i < nv; i++) {
            const Tendermint__Abci__Validator *val = ext ? ext->votes[i]->validator : ci->votes[i]->validator;
            if (val) {
                v[i].address = sl(val->address);
                v[i].power = val->power;
            }
            if (ext) {
                v[i].block_id_flag = ext->votes[i]->block_id_flag;
                v[i].vote_extension = sl(ext->votes[i]->vote_extension);
                v[i].extension_signature = sl(ext->votes[i]->extension_signature);
            } else {
                v[i].block_id_flag = ci->votes[i]->block_id_flag;
            }
        }
        b->votes = v;
        b->n_votes = nv;
    }
    if (n_mis) {
        wicas_abci_misbehavior *m = ar_alloc(a, n_mis * sizeof *m);
        if (!m) return -1;
        for (size_t i = 0; i < n_mis; i++) {
            m[i].type = mis[i]->type;
            if (mis[i]->validator) {
                m[i].address = sl(mis[i]->validator->address);
                m[i].power = mis[i]->validator->power;
            }
            m[i].height = mis[i]->height;
            m[i].time = ts(mis[i]->time);
            m[i].total_voting_power = mis[i]->total_voting_power;
        }
        b->misbehavior = m;
        b->n_misbehavior = n_mis;
    }
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */
typedef struct {
    const wicas_abci_app *app;
    arena ar;
    Tendermint__Abci__Response resp;
    char err[512];
    int status;
    /* Application responses kept until after packing, then freed. */
    wicas_abci_info_resp info;
    wicas_abci_init_chain_resp init;
    wicas_abci_tx_result check;
    wicas_abci_query_resp query;
    wicas_abci_prepare_resp prep;
    wicas_abci_buf ext;
    wicas_abci_finalize_resp fin;
    wicas_abci_snapshot *snaps;
    size_t n_snaps;
    wicas_abci_buf chunk;
    wicas_abci_validator_update *req_vals; /* InitChain request view */
} dctx;

static void set_exception(dctx *d, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_exception(dctx *d, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    static Tendermint__Abci__ResponseException ex_init = TENDERMINT__ABCI__RESPONSE_EXCEPTION__INIT;
    Tendermint__Abci__ResponseException *ex = ar_alloc(&d->ar, sizeof *ex);
    tendermint__abci__response__init(&d->resp);
    d->status = status;
    if (!ex) return; /* oom: caller notices resp has no value */
    *ex = ex_init;
    ex->error = d->err;
    d->resp.value_case = TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION;
    d->resp.exception = ex;
}

#define NEW(T, init, var)                                                                                    \
    T *var = ar_alloc(&d->ar, sizeof *var);                                                                  \
    if (!var) goto oom;                                                                                      \
    init(var)

static void do_request(dctx *d, const Tendermint__Abci__Request *rq) {
    const wicas_abci_app *app = d->app;
    void *ctx = app->ctx;
    char *err = d->err;
    size_t el = sizeof d->err;
    int rc = 0;
    Tendermint__Abci__Response *R = &d->resp;
    err[0] = '\0';

    switch (rq->value_case) {
    case TENDERMINT__ABCI__REQUEST__VALUE_ECHO: {
        NEW(Tendermint__Abci__ResponseEcho, tendermint__abci__response_echo__init, r);
        r->message = rq->echo->message;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_ECHO;
        R->echo = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_FLUSH: {
        NEW(Tendermint__Abci__ResponseFlush, tendermint__abci__response_flush__init, r);
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_FLUSH;
        R->flush = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_INFO: {
        const Tendermint__Abci__RequestInfo *q = rq->info;
        wicas_abci_info_req in = {q->version, q->block_version, q->p2p_version, q->abci_version};
        if (app->info) rc = app->info(ctx, &in, &d->info, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseInfo, tendermint__abci__response_info__init, r);
        r->data = str_or_empty(d->info.data);
        r->version = str_or_empty(d->info.version);
        r->app_version = d->info.app_version;
        r->last_block_height = d->info.last_block_height;
        r->last_block_app_hash = bd(d->info.last_block_app_hash);
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_INFO;
        R->info = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_INIT_CHAIN: {
        const Tendermint__Abci__RequestInitChain *q = rq->init_chain;
        wicas_abci_init_chain_req in = {.time = ts(q->time),
                                        .chain_id = q->chain_id,
                                        .initial_height = q->initial_height,
                                        .app_state_bytes = sl(q->app_state_bytes)};
        if (q->n_validators) {
            d->req_vals = ar_alloc(&d->ar, q->n_validators * sizeof *d->req_vals);
            if (!d->req_vals) goto oom;
            for (size_t i = 0; i < q->n_validators; i++)
                if (from_pb_valupdate(q->validators[i], &d->req_vals[i]) != 0) {
                    set_exception(d, WICAS_ABCI_ERR_DECODE,
                                  "InitChain: validator %zu has no usable public key", i);
                    return;
                }
            in.validators = d->req_vals;
            in.n_validators = q->n_validators;
        }
        const Tendermint__Types__ConsensusParams *cp = q->consensus_params;
        if (cp && cp->block) in.block_max_bytes = cp->block->max_bytes, in.block_max_gas = cp->block->max_gas;
        if (cp && cp->abci) in.vote_extensions_enable_height = cp->abci->vote_extensions_enable_height;
        if (app->init_chain) rc = app->init_chain(ctx, &in, &d->init, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseInitChain, tendermint__abci__response_init_chain__init, r);
        r->n_validators = d->init.n_validators;
        r->validators = pb_valupdates(&d->ar, d->init.validators, d->init.n_validators);
        r->app_hash = bd(d->init.app_hash);
        if (d->ar.oom) goto oom;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_INIT_CHAIN;
        R->init_chain = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_QUERY: {
        const Tendermint__Abci__RequestQuery *q = rq->query;
        wicas_abci_query_req in = {sl(q->data), q->path ? q->path : "", q->height, q->prove};
        if (app->query)
            rc = app->query(ctx, &in, &d->query, err, el);
        else {
            d->query.code = 1;
            d->query.log = wicas_abci_strdup("no query handler");
        }
        if (rc) break;
        NEW(Tendermint__Abci__ResponseQuery, tendermint__abci__response_query__init, r);
        wicas_abci_query_resp *a = &d->query;
        r->code = a->code;
        r->log = str_or_empty(a->log);
        r->info = str_or_empty(a->info);
        r->codespace = str_or_empty(a->codespace);
        r->index = a->index;
        r->key = bd(a->key);
        r->value = bd(a->value);
        r->height = a->height;
        if (a->n_proof_ops) {
            NEW(Tendermint__Crypto__ProofOps, tendermint__crypto__proof_ops__init, po);
            po->ops = ar_alloc(&d->ar, a->n_proof_ops * sizeof *po->ops);
            if (!po->ops) goto oom;
            po->n_ops = a->n_proof_ops;
            for (size_t i = 0; i < a->n_proof_ops; i++) {
                NEW(Tendermint__Crypto__ProofOp, tendermint__crypto__proof_op__init, op);
                op->type = str_or_empty(a->proof_ops[i].type);
                op->key = bd(a->proof_ops[i].key);
                op->data = bd(a->proof_ops[i].data);
                po->ops[i] = op;
            }
            r->proof_ops = po;
        }
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_QUERY;
        R->query = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_CHECK_TX: {
        const Tendermint__Abci__RequestCheckTx *q = rq->check_tx;
        wicas_abci_check_tx_req in = {sl(q->tx), q->type == TENDERMINT__ABCI__CHECK_TX_TYPE__RECHECK};
        if (app->check_tx) rc = app->check_tx(ctx, &in, &d->check, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseCheckTx, tendermint__abci__response_check_tx__init, r);
        wicas_abci_tx_result *a = &d->check;
        r->code = a->code;
        r->data = bd(a->data);
        r->log = str_or_empty(a->log);
        r->info = str_or_empty(a->info);
        r->codespace = str_or_empty(a->codespace);
        r->gas_wanted = a->gas_wanted;
        r->gas_used = a->gas_used;
        r->n_events = a->n_events;
        r->events = pb_events(&d->ar, a->events, a->n_events);
        if (d->ar.oom) goto oom;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_CHECK_TX;
        R->check_tx = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_COMMIT: {
        wicas_abci_commit_resp a = {0};
        if (app->commit) rc = app->commit(ctx, &a, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseCommit, tendermint__abci__response_commit__init, r);
        r->retain_height = a.retain_height;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_COMMIT;
        R->commit = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_LIST_SNAPSHOTS: {
        if (app->list_snapshots) rc = app->list_snapshots(ctx, &d->snaps, &d->n_snaps, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseListSnapshots, tendermint__abci__response_list_snapshots__init, r);
        if (d->n_snaps) {
            r->snapshots = ar_alloc(&d->ar, d->n_snaps * sizeof *r->snapshots);
            if (!r->snapshots) goto oom;
            r->n_snapshots = d->n_snaps;
            for (size_t i = 0; i < d->n_snaps; i++) {
                NEW(Tendermint__Abci__Snapshot, tendermint__abci__snapshot__init, s);
                s->height = d->snaps[i].height;
                s->format = d->snaps[i].format;
                s->chunks = d->snaps[i].chunks;
                s->hash = bd(d->snaps[i].hash);
                s->metadata = bd(d->snaps[i].metadata);
                r->snapshots[i] = s;
            }
        }
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_LIST_SNAPSHOTS;
        R->list_snapshots = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_OFFER_SNAPSHOT: {
        const Tendermint__Abci__RequestOfferSnapshot *q = rq->offer_snapshot;
        int result = WICAS_ABCI_SNAPSHOT_ABORT;
        if (app->offer_snapshot) {
            wicas_abci_snapshot s = {0};
            if (q->snapshot) {
                s.height = q->snapshot->height;
                s.format = q->snapshot->format;
                s.chunks = q->snapshot->chunks;
                s.hash = (wicas_abci_buf){q->snapshot->hash.data, q->snapshot->hash.len};
                s.metadata = (wicas_abci_buf){q->snapshot->metadata.data, q->snapshot->metadata.len};
            }
            rc = app->offer_snapshot(ctx, &s, sl(q->app_hash), &result, err, el);
        }
        if (rc) break;
        NEW(Tendermint__Abci__ResponseOfferSnapshot, tendermint__abci__response_offer_snapshot__init, r);
        r->result = (Tendermint__Abci__ResponseOfferSnapshot__Result)result;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_OFFER_SNAPSHOT;
        R->offer_snapshot = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK: {
        const Tendermint__Abci__RequestLoadSnapshotChunk *q = rq->load_snapshot_chunk;
        if (app->load_snapshot_chunk)
            rc = app->load_snapshot_chunk(ctx, q->height, q->format, q->chunk, &d->chunk, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseLoadSnapshotChunk, tendermint__abci__response_load_snapshot_chunk__init,
            r);
        r->chunk = bd(d->chunk);
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_LOAD_SNAPSHOT_CHUNK;
        R->load_snapshot_chunk = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK: {
        const Tendermint__Abci__RequestApplySnapshotChunk *q = rq->apply_snapshot_chunk;
        int result = WICAS_ABCI_SNAPSHOT_ABORT;
        if (app->apply_snapshot_chunk)
            rc = app->apply_snapshot_chunk(ctx, q->index, sl(q->chunk), q->sender ? q->sender : "", &result,
                                           err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseApplySnapshotChunk,
            tendermint__abci__response_apply_snapshot_chunk__init, r);
        r->result = (Tendermint__Abci__ResponseApplySnapshotChunk__Result)result;
        if (result == WICAS_ABCI_CHUNK_RETRY) {
            /* the chunk was bad: fetch it again, from someone else */
            uint32_t *idx = ar_alloc(&d->ar, sizeof *idx);
            if (!idx) goto oom;
            *idx = q->index;
            r->refetch_chunks = idx;
            r->n_refetch_chunks = 1;
            if (q->sender && *q->sender) {
                char **snd = ar_alloc(&d->ar, sizeof *snd);
                if (!snd) goto oom;
                *snd = q->sender;
                r->reject_senders = snd;
                r->n_reject_senders = 1;
            }
        }
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_APPLY_SNAPSHOT_CHUNK;
        R->apply_snapshot_chunk = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_PREPARE_PROPOSAL: {
        const Tendermint__Abci__RequestPrepareProposal *q = rq->prepare_proposal;
        wicas_abci_block_req b = {.height = q->height,
                                  .time = ts(q->time),
                                  .max_tx_bytes = q->max_tx_bytes,
                                  .proposer_address = sl(q->proposer_address),
                                  .next_validators_hash = sl(q->next_validators_hash)};
        if (block_view(&d->ar, &b, q->n_txs, q->txs, NULL, q->local_last_commit, q->n_misbehavior,
                       q->misbehavior))
            goto oom;
        if (app->prepare_proposal)
            rc = app->prepare_proposal(ctx, &b, &d->prep, err, el);
        else if (wicas_abci_default_prepare(&b, &d->prep) != 0)
            goto oom;
        if (rc) break;
        NEW(Tendermint__Abci__ResponsePrepareProposal, tendermint__abci__response_prepare_proposal__init, r);
        if (d->prep.n_txs) {
            r->txs = ar_alloc(&d->ar, d->prep.n_txs * sizeof *r->txs);
            if (!r->txs) goto oom;
            r->n_txs = d->prep.n_txs;
            for (size_t i = 0; i < d->prep.n_txs; i++)
                r->txs[i] = bd(d->prep.txs[i]);
        }
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_PREPARE_PROPOSAL;
        R->prepare_proposal = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_PROCESS_PROPOSAL: {
        const Tendermint__Abci__RequestProcessProposal *q = rq->process_proposal;
        wicas_abci_block_req b = {.height = q->height,
                                  .time = ts(q->time),
                                  .hash = sl(q->hash),
                                  .proposer_address = sl(q->proposer_address),
                                  .next_validators_hash = sl(q->next_validators_hash)};
        if (block_view(&d->ar, &b, q->n_txs, q->txs, q->proposed_last_commit, NULL, q->n_misbehavior,
                       q->misbehavior))
            goto oom;
        bool accept = true;
        if (app->process_proposal) rc = app->process_proposal(ctx, &b, &accept, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseProcessProposal, tendermint__abci__response_process_proposal__init, r);
        r->status = accept ? TENDERMINT__ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__ACCEPT
                           : TENDERMINT__ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__REJECT;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_PROCESS_PROPOSAL;
        R->process_proposal = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_EXTEND_VOTE: {
        const Tendermint__Abci__RequestExtendVote *q = rq->extend_vote;
        wicas_abci_block_req b = {.height = q->height,
                                  .time = ts(q->time),
                                  .hash = sl(q->hash),
                                  .proposer_address = sl(q->proposer_address),
                                  .next_validators_hash = sl(q->next_validators_hash)};
        if (block_view(&d->ar, &b, q->n_txs, q->txs, q->proposed_last_commit, NULL, q->n_misbehavior,
                       q->misbehavior))
            goto oom;
        if (app->extend_vote) rc = app->extend_vote(ctx, &b, &d->ext, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseExtendVote, tendermint__abci__response_extend_vote__init, r);
        r->vote_extension = bd(d->ext);
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_EXTEND_VOTE;
        R->extend_vote = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_VERIFY_VOTE_EXTENSION: {
        const Tendermint__Abci__RequestVerifyVoteExtension *q = rq->verify_vote_extension;
        wicas_abci_verify_vote_ext_req in = {sl(q->hash), sl(q->validator_address), q->height,
                                             sl(q->vote_extension)};
        bool accept = true;
        if (app->verify_vote_extension) rc = app->verify_vote_extension(ctx, &in, &accept, err, el);
        if (rc) break;
        NEW(Tendermint__Abci__ResponseVerifyVoteExtension,
            tendermint__abci__response_verify_vote_extension__init, r);
        r->status = accept ? TENDERMINT__ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__ACCEPT
                           : TENDERMINT__ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__REJECT;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_VERIFY_VOTE_EXTENSION;
        R->verify_vote_extension = r;
        return;
    }
    case TENDERMINT__ABCI__REQUEST__VALUE_FINALIZE_BLOCK: {
        const Tendermint__Abci__RequestFinalizeBlock *q = rq->finalize_block;
        wicas_abci_block_req b = {.height = q->height,
                                  .time = ts(q->time),
                                  .hash = sl(q->hash),
                                  .proposer_address = sl(q->proposer_address),
                                  .next_validators_hash = sl(q->next_validators_hash)};
        if (block_view(&d->ar, &b, q->n_txs, q->txs, q->decided_last_commit, NULL, q->n_misbehavior,
                       q->misbehavior))
            goto oom;
        wicas_abci_finalize_resp *a = &d->fin;
        if (app->finalize_block) rc = app->finalize_block(ctx, &b, a, err, el);
        if (rc) break;
        if (!app->finalize_block && q->n_txs) {
            a->tx_results = calloc(q->n_txs, sizeof *a->tx_results);
            if (!a->tx_results) goto oom;
            a->n_tx_results = q->n_txs;
        }
        if (a->n_tx_results != q->n_txs) {
            snprintf(err, el, "FinalizeBlock: application returned %zu tx results for %zu txs",
                     a->n_tx_results, q->n_txs);
            rc = WICAS_ABCI_ERR_APP;
            break;
        }
        NEW(Tendermint__Abci__ResponseFinalizeBlock, tendermint__abci__response_finalize_block__init, r);
        r->n_events = a->n_events;
        r->events = pb_events(&d->ar, a->events, a->n_events);
        r->n_validator_updates = a->n_validator_updates;
        r->validator_updates = pb_valupdates(&d->ar, a->validator_updates, a->n_validator_updates);
        r->app_hash = bd(a->app_hash);
        if (a->n_tx_results) {
            r->tx_results = ar_alloc(&d->ar, a->n_tx_results * sizeof *r->tx_results);
            if (!r->tx_results) goto oom;
            r->n_tx_results = a->n_tx_results;
            for (size_t i = 0; i < a->n_tx_results; i++) {
                NEW(Tendermint__Abci__ExecTxResult, tendermint__abci__exec_tx_result__init, x);
                wicas_abci_tx_result *t = &a->tx_results[i];
                x->code = t->code;
                x->data = bd(t->data);
                x->log = str_or_empty(t->log);
                x->info = str_or_empty(t->info);
                x->codespace = str_or_empty(t->codespace);
                x->gas_wanted = t->gas_wanted;
                x->gas_used = t->gas_used;
                x->n_events = t->n_events;
                x->events = pb_events(&d->ar, t->events, t->n_events);
                r->tx_results[i] = x;
            }
        }
        if (d->ar.oom) goto oom;
        R->value_case = TENDERMINT__ABCI__RESPONSE__VALUE_FINALIZE_BLOCK;
        R->finalize_block = r;
        return;
    }
    default:
        set_exception(d, WICAS_ABCI_ERR_DECODE, "unknown or empty ABCI request (oneof field %d)",
                      (int)rq->value_case);
        return;
    }
    /* A callback failed (rc != 0): report it as an exception. */
    {
        char msg[sizeof d->err];
        snprintf(msg, sizeof msg, "%s", err[0] ? err : "application error");
        set_exception(d, WICAS_ABCI_ERR_APP, "%s", msg);
    }
    return;
oom:
    set_exception(d, WICAS_ABCI_ERR_NOMEM, "out of memory while building the response");
}

static void free_app_responses(dctx *d) {
    free(d->info.data);
    free(d->info.version);
    free(d->info.last_block_app_hash.data);
    free(d->init.validators);
    free(d->init.app_hash.data);
    free_tx_result(&d->check);
    wicas_abci_query_resp *q = &d->query;
    free(q->log);
    free(q->info);
    free(q->codespace);
    free(q->key.data);
    free(q->value.data);
    for (size_t i = 0; i < q->n_proof_ops; i++) {
        free(q->proof_ops[i].type);
        free(q->proof_ops[i].key.data);
        free(q->proof_ops[i].data.data);
    }
    free(q->proof_ops);
    for (size_t i = 0; i < d->prep.n_txs; i++)
        free(d->prep.txs[i].data);
    free(d->prep.txs);
    free(d->ext.data);
    wicas_abci_finalize_resp *f = &d->fin;
    free_events(f->events, f->n_events);
    for (size_t i = 0; i < f->n_tx_results; i++)
        free_tx_result(&f->tx_results[i]);
    free(f->tx_results);
    free(f->validator_updates);
    free(f->app_hash.data);
    for (size_t i = 0; i < d->n_snaps; i++) {
        free(d->snaps[i].hash.data);
        free(d->snaps[i].metadata.data);
    }
    free(d->snaps);
    free(d->chunk.data);
}

int wicas_abci_dispatch(const wicas_abci_app *app, void *lock, const uint8_t *req, size_t len, uint8_t **out,
                        size_t *out_len, bool *is_flush) {
    *out = NULL;
    *out_len = 0;
    if (is_flush) *is_flush = false;
    dctx *d = calloc(1, sizeof *d);
    if (!d) return WICAS_ABCI_ERR_NOMEM;
    d->app = app;
    tendermint__abci__response__init(&d->resp);

    Tendermint__Abci__Request *rq = tendermint__abci__request__unpack(NULL, len, req);
    if (!rq) {
        set_exception(d, WICAS_ABCI_ERR_DECODE, "cannot decode ABCI Request (%zu bytes): not valid protobuf",
                      len);
    } else if (rq->value_case == TENDERMINT__ABCI__REQUEST__VALUE__NOT_SET) {
        set_exception(d, WICAS_ABCI_ERR_DECODE, "ABCI Request (%zu bytes) carries no known request type",
                      len);
    } else {
        if (is_flush) *is_flush = rq->value_case == TENDERMINT__ABCI__REQUEST__VALUE_FLUSH;
        pthread_mutex_t *mu = lock;
        /* a query of an application that serves queries concurrently runs
         * outside the lock: it must never wait for (or delay) a block */
        if (app->concurrent_query && rq->value_case == TENDERMINT__ABCI__REQUEST__VALUE_QUERY) mu = NULL;
        if (mu) pthread_mutex_lock(mu);
        do_request(d, rq);
        if (mu) pthread_mutex_unlock(mu);
    }
    int status = d->status;
    if (d->resp.value_case == TENDERMINT__ABCI__RESPONSE__VALUE__NOT_SET) {
        status = WICAS_ABCI_ERR_NOMEM;
    } else {
        size_t n = tendermint__abci__response__get_packed_size(&d->resp);
        uint8_t *buf = malloc(n ? n : 1);
        if (buf) {
            *out_len = tendermint__abci__response__pack(&d->resp, buf);
            *out = buf;
        } else {
            status = WICAS_ABCI_ERR_NOMEM;
        }
    }
    if (rq) tendermint__abci__request__free_unpacked(rq, NULL);
    free_app_responses(d);
    ar_free(&d->ar);
    free(d);
    return status;
}
