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
 *
 * The request kinds are a table (req_table, near the end), one row per kind
 * in the manner of Redis's command table: the Request oneof case, the
 * function that serves it and the Response case it answers with, plus two
 * flags (Flush flushes the socket, Query may skip the lock). The core
 * (run_request, wicas_abci_dispatch) looks the request up and names no kind;
 * a new ABCI call is one function and one row.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abci.h"
#include "common.h"
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

/* ---- per-request state ---------------------------------------------------------------------- */
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
    wicas_verrf(d->err, sizeof d->err, fmt, ap);
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

/* ---- one function per request kind ---------------------------------------------------------
 * Each turns its Request into the application call (or the documented
 * default when the callback is NULL) and builds the Response message in the
 * arena. It returns
 *   0                     the message in *out (the table row names its Response case),
 *   WICAS_ABCI_ERR_APP    the application failed (its text, if any, in d->err),
 *   WICAS_ABCI_ERR_DECODE the request is unusable (the text in d->err),
 *   WICAS_ABCI_ERR_NOMEM  out of memory.
 * Any non-zero return of a callback counts as WICAS_ABCI_ERR_APP. */
typedef int (*req_handler)(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out);

#define NEW(T, init, var)                                                                                    \
    T *var = ar_alloc(&d->ar, sizeof *var);                                                                  \
    if (!var) return WICAS_ABCI_ERR_NOMEM;                                                                   \
    init(var)
#define APP_ARGS d->app->ctx
#define ERR_ARGS d->err, sizeof d->err

static int rq_echo(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    NEW(Tendermint__Abci__ResponseEcho, tendermint__abci__response_echo__init, r);
    r->message = rq->echo->message;
    *out = &r->base;
    return 0;
}

static int rq_flush(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    (void)rq;
    NEW(Tendermint__Abci__ResponseFlush, tendermint__abci__response_flush__init, r);
    *out = &r->base;
    return 0;
}

static int rq_info(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestInfo *q = rq->info;
    wicas_abci_info_req in = {q->version, q->block_version, q->p2p_version, q->abci_version};
    if (d->app->info && d->app->info(APP_ARGS, &in, &d->info, ERR_ARGS)) return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseInfo, tendermint__abci__response_info__init, r);
    r->data = str_or_empty(d->info.data);
    r->version = str_or_empty(d->info.version);
    r->app_version = d->info.app_version;
    r->last_block_height = d->info.last_block_height;
    r->last_block_app_hash = bd(d->info.last_block_app_hash);
    *out = &r->base;
    return 0;
}

static int rq_init_chain(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestInitChain *q = rq->init_chain;
    wicas_abci_init_chain_req in = {.time = ts(q->time),
                                    .chain_id = q->chain_id,
                                    .initial_height = q->initial_height,
                                    .app_state_bytes = sl(q->app_state_bytes)};
    if (q->n_validators) {
        d->req_vals = ar_alloc(&d->ar, q->n_validators * sizeof *d->req_vals);
        if (!d->req_vals) return WICAS_ABCI_ERR_NOMEM;
        for (size_t i = 0; i < q->n_validators; i++)
            if (from_pb_valupdate(q->validators[i], &d->req_vals[i]) != 0) {
                wicas_errf(ERR_ARGS, "InitChain: validator %zu has no usable public key", i);
                return WICAS_ABCI_ERR_DECODE;
            }
        in.validators = d->req_vals;
        in.n_validators = q->n_validators;
    }
    const Tendermint__Types__ConsensusParams *cp = q->consensus_params;
    if (cp && cp->block) in.block_max_bytes = cp->block->max_bytes, in.block_max_gas = cp->block->max_gas;
    if (cp && cp->abci) in.vote_extensions_enable_height = cp->abci->vote_extensions_enable_height;
    if (d->app->init_chain && d->app->init_chain(APP_ARGS, &in, &d->init, ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseInitChain, tendermint__abci__response_init_chain__init, r);
    r->n_validators = d->init.n_validators;
    r->validators = pb_valupdates(&d->ar, d->init.validators, d->init.n_validators);
    r->app_hash = bd(d->init.app_hash);
    if (d->ar.oom) return WICAS_ABCI_ERR_NOMEM;
    *out = &r->base;
    return 0;
}

static int rq_query(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestQuery *q = rq->query;
    wicas_abci_query_req in = {sl(q->data), q->path ? q->path : "", q->height, q->prove};
    if (d->app->query) {
        if (d->app->query(APP_ARGS, &in, &d->query, ERR_ARGS)) return WICAS_ABCI_ERR_APP;
    } else {
        d->query.code = 1;
        d->query.log = wicas_abci_strdup("no query handler");
    }
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
        if (!po->ops) return WICAS_ABCI_ERR_NOMEM;
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
    *out = &r->base;
    return 0;
}

static int rq_check_tx(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestCheckTx *q = rq->check_tx;
    wicas_abci_check_tx_req in = {sl(q->tx), q->type == TENDERMINT__ABCI__CHECK_TX_TYPE__RECHECK};
    if (d->app->check_tx && d->app->check_tx(APP_ARGS, &in, &d->check, ERR_ARGS)) return WICAS_ABCI_ERR_APP;
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
    if (d->ar.oom) return WICAS_ABCI_ERR_NOMEM;
    *out = &r->base;
    return 0;
}

static int rq_commit(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    (void)rq;
    wicas_abci_commit_resp a = {0};
    if (d->app->commit && d->app->commit(APP_ARGS, &a, ERR_ARGS)) return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseCommit, tendermint__abci__response_commit__init, r);
    r->retain_height = a.retain_height;
    *out = &r->base;
    return 0;
}

static int rq_list_snapshots(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    (void)rq;
    if (d->app->list_snapshots && d->app->list_snapshots(APP_ARGS, &d->snaps, &d->n_snaps, ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseListSnapshots, tendermint__abci__response_list_snapshots__init, r);
    if (d->n_snaps) {
        r->snapshots = ar_alloc(&d->ar, d->n_snaps * sizeof *r->snapshots);
        if (!r->snapshots) return WICAS_ABCI_ERR_NOMEM;
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
    *out = &r->base;
    return 0;
}

static int rq_offer_snapshot(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestOfferSnapshot *q = rq->offer_snapshot;
    int result = WICAS_ABCI_SNAPSHOT_ABORT;
    if (d->app->offer_snapshot) {
        wicas_abci_snapshot s = {0};
        if (q->snapshot) {
            s.height = q->snapshot->height;
            s.format = q->snapshot->format;
            s.chunks = q->snapshot->chunks;
            s.hash = (wicas_abci_buf){q->snapshot->hash.data, q->snapshot->hash.len};
            s.metadata = (wicas_abci_buf){q->snapshot->metadata.data, q->snapshot->metadata.len};
        }
        if (d->app->offer_snapshot(APP_ARGS, &s, sl(q->app_hash), &result, ERR_ARGS))
            return WICAS_ABCI_ERR_APP;
    }
    NEW(Tendermint__Abci__ResponseOfferSnapshot, tendermint__abci__response_offer_snapshot__init, r);
    r->result = (Tendermint__Abci__ResponseOfferSnapshot__Result)result;
    *out = &r->base;
    return 0;
}

static int rq_load_snapshot_chunk(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestLoadSnapshotChunk *q = rq->load_snapshot_chunk;
    if (d->app->load_snapshot_chunk &&
        d->app->load_snapshot_chunk(APP_ARGS, q->height, q->format, q->chunk, &d->chunk, ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseLoadSnapshotChunk, tendermint__abci__response_load_snapshot_chunk__init, r);
    r->chunk = bd(d->chunk);
    *out = &r->base;
    return 0;
}

static int rq_apply_snapshot_chunk(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestApplySnapshotChunk *q = rq->apply_snapshot_chunk;
    int result = WICAS_ABCI_SNAPSHOT_ABORT;
    if (d->app->apply_snapshot_chunk &&
        d->app->apply_snapshot_chunk(APP_ARGS, q->index, sl(q->chunk), q->sender ? q->sender : "", &result,
                                     ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseApplySnapshotChunk, tendermint__abci__response_apply_snapshot_chunk__init,
        r);
    r->result = (Tendermint__Abci__ResponseApplySnapshotChunk__Result)result;
    if (result == WICAS_ABCI_CHUNK_RETRY) {
        /* the chunk was bad: fetch it again, from someone else */
        uint32_t *idx = ar_alloc(&d->ar, sizeof *idx);
        if (!idx) return WICAS_ABCI_ERR_NOMEM;
        *idx = q->index;
        r->refetch_chunks = idx;
        r->n_refetch_chunks = 1;
        if (q->sender && *q->sender) {
            char **snd = ar_alloc(&d->ar, sizeof *snd);
            if (!snd) return WICAS_ABCI_ERR_NOMEM;
            *snd = q->sender;
            r->reject_senders = snd;
            r->n_reject_senders = 1;
        }
    }
    *out = &r->base;
    return 0;
}

static int rq_prepare_proposal(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestPrepareProposal *q = rq->prepare_proposal;
    wicas_abci_block_req b = {.height = q->height,
                              .time = ts(q->time),
                              .max_tx_bytes = q->max_tx_bytes,
                              .proposer_address = sl(q->proposer_address),
                              .next_validators_hash = sl(q->next_validators_hash)};
    if (block_view(&d->ar, &b, q->n_txs, q->txs, NULL, q->local_last_commit, q->n_misbehavior,
                   q->misbehavior))
        return WICAS_ABCI_ERR_NOMEM;
    if (d->app->prepare_proposal) {
        if (d->app->prepare_proposal(APP_ARGS, &b, &d->prep, ERR_ARGS)) return WICAS_ABCI_ERR_APP;
    } else if (wicas_abci_default_prepare(&b, &d->prep) != 0) {
        return WICAS_ABCI_ERR_NOMEM;
    }
    NEW(Tendermint__Abci__ResponsePrepareProposal, tendermint__abci__response_prepare_proposal__init, r);
    if (d->prep.n_txs) {
        r->txs = ar_alloc(&d->ar, d->prep.n_txs * sizeof *r->txs);
        if (!r->txs) return WICAS_ABCI_ERR_NOMEM;
        r->n_txs = d->prep.n_txs;
        for (size_t i = 0; i < d->prep.n_txs; i++)
            r->txs[i] = bd(d->prep.txs[i]);
    }
    *out = &r->base;
    return 0;
}

static int rq_process_proposal(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestProcessProposal *q = rq->process_proposal;
    wicas_abci_block_req b = {.height = q->height,
                              .time = ts(q->time),
                              .hash = sl(q->hash),
                              .proposer_address = sl(q->proposer_address),
                              .next_validators_hash = sl(q->next_validators_hash)};
    if (block_view(&d->ar, &b, q->n_txs, q->txs, q->proposed_last_commit, NULL, q->n_misbehavior,
                   q->misbehavior))
        return WICAS_ABCI_ERR_NOMEM;
    bool accept = true;
    if (d->app->process_proposal && d->app->process_proposal(APP_ARGS, &b, &accept, ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseProcessProposal, tendermint__abci__response_process_proposal__init, r);
    r->status = accept ? TENDERMINT__ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__ACCEPT
                       : TENDERMINT__ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__REJECT;
    *out = &r->base;
    return 0;
}

static int rq_extend_vote(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestExtendVote *q = rq->extend_vote;
    wicas_abci_block_req b = {.height = q->height,
                              .time = ts(q->time),
                              .hash = sl(q->hash),
                              .proposer_address = sl(q->proposer_address),
                              .next_validators_hash = sl(q->next_validators_hash)};
    if (block_view(&d->ar, &b, q->n_txs, q->txs, q->proposed_last_commit, NULL, q->n_misbehavior,
                   q->misbehavior))
        return WICAS_ABCI_ERR_NOMEM;
    if (d->app->extend_vote && d->app->extend_vote(APP_ARGS, &b, &d->ext, ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseExtendVote, tendermint__abci__response_extend_vote__init, r);
    r->vote_extension = bd(d->ext);
    *out = &r->base;
    return 0;
}

static int rq_verify_vote_extension(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestVerifyVoteExtension *q = rq->verify_vote_extension;
    wicas_abci_verify_vote_ext_req in = {sl(q->hash), sl(q->validator_address), q->height,
                                         sl(q->vote_extension)};
    bool accept = true;
    if (d->app->verify_vote_extension && d->app->verify_vote_extension(APP_ARGS, &in, &accept, ERR_ARGS))
        return WICAS_ABCI_ERR_APP;
    NEW(Tendermint__Abci__ResponseVerifyVoteExtension, tendermint__abci__response_verify_vote_extension__init,
        r);
    r->status = accept ? TENDERMINT__ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__ACCEPT
                       : TENDERMINT__ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__REJECT;
    *out = &r->base;
    return 0;
}

static int rq_finalize_block(dctx *d, const Tendermint__Abci__Request *rq, ProtobufCMessage **out) {
    const Tendermint__Abci__RequestFinalizeBlock *q = rq->finalize_block;
    wicas_abci_block_req b = {.height = q->height,
                              .time = ts(q->time),
                              .hash = sl(q->hash),
                              .proposer_address = sl(q->proposer_address),
                              .next_validators_hash = sl(q->next_validators_hash)};
    if (block_view(&d->ar, &b, q->n_txs, q->txs, q->decided_last_commit, NULL, q->n_misbehavior,
                   q->misbehavior))
        return WICAS_ABCI_ERR_NOMEM;
    wicas_abci_finalize_resp *a = &d->fin;
    if (d->app->finalize_block) {
        if (d->app->finalize_block(APP_ARGS, &b, a, ERR_ARGS)) return WICAS_ABCI_ERR_APP;
    } else if (q->n_txs) {
        a->tx_results = calloc(q->n_txs, sizeof *a->tx_results);
        if (!a->tx_results) return WICAS_ABCI_ERR_NOMEM;
        a->n_tx_results = q->n_txs;
    }
    if (a->n_tx_results != q->n_txs) {
        wicas_errf(ERR_ARGS, "FinalizeBlock: application returned %zu tx results for %zu txs",
                   a->n_tx_results, q->n_txs);
        return WICAS_ABCI_ERR_APP;
    }
    NEW(Tendermint__Abci__ResponseFinalizeBlock, tendermint__abci__response_finalize_block__init, r);
    r->n_events = a->n_events;
    r->events = pb_events(&d->ar, a->events, a->n_events);
    r->n_validator_updates = a->n_validator_updates;
    r->validator_updates = pb_valupdates(&d->ar, a->validator_updates, a->n_validator_updates);
    r->app_hash = bd(a->app_hash);
    if (a->n_tx_results) {
        r->tx_results = ar_alloc(&d->ar, a->n_tx_results * sizeof *r->tx_results);
        if (!r->tx_results) return WICAS_ABCI_ERR_NOMEM;
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
    if (d->ar.oom) return WICAS_ABCI_ERR_NOMEM;
    *out = &r->base;
    return 0;
}

#undef NEW
#undef APP_ARGS
#undef ERR_ARGS

/* ---- the request table ----------------------------------------------------------------------
 * One row per request kind CometBFT v0.38 sends, indexed by the Request's
 * oneof case (its protobuf field number); the answer is the Response case of
 * the same name (whose field numbers differ: Response has exception first).
 * ROW_FLUSH: the server flushes its socket after answering (Flush).
 * ROW_MAY_SKIP_LOCK: runs without the application mutex when the application
 * sets concurrent_query (Query). A case without a row (a field added to the
 * .proto but not here) is answered like an unknown request. */
enum { ROW_FLUSH = 1u << 0, ROW_MAY_SKIP_LOCK = 1u << 1 };

typedef struct {
    req_handler handle;
    Tendermint__Abci__Response__ValueCase resp_case;
    unsigned flags;
} req_row;

#define ROW(KIND, handler, flags)                                                                            \
    [TENDERMINT__ABCI__REQUEST__VALUE_##KIND] = {handler, TENDERMINT__ABCI__RESPONSE__VALUE_##KIND, flags}

static const req_row req_table[] = {
    ROW(ECHO, rq_echo, 0),
    ROW(FLUSH, rq_flush, ROW_FLUSH),
    ROW(INFO, rq_info, 0),
    ROW(INIT_CHAIN, rq_init_chain, 0),
    ROW(QUERY, rq_query, ROW_MAY_SKIP_LOCK),
    ROW(CHECK_TX, rq_check_tx, 0),
    ROW(COMMIT, rq_commit, 0),
    ROW(LIST_SNAPSHOTS, rq_list_snapshots, 0),
    ROW(OFFER_SNAPSHOT, rq_offer_snapshot, 0),
    ROW(LOAD_SNAPSHOT_CHUNK, rq_load_snapshot_chunk, 0),
    ROW(APPLY_SNAPSHOT_CHUNK, rq_apply_snapshot_chunk, 0),
    ROW(PREPARE_PROPOSAL, rq_prepare_proposal, 0),
    ROW(PROCESS_PROPOSAL, rq_process_proposal, 0),
    ROW(EXTEND_VOTE, rq_extend_vote, 0),
    ROW(VERIFY_VOTE_EXTENSION, rq_verify_vote_extension, 0),
    ROW(FINALIZE_BLOCK, rq_finalize_block, 0),
};
#undef ROW

static const req_row *find_row(int value_case) {
    if (value_case <= 0 || (size_t)value_case >= sizeof req_table / sizeof req_table[0]) return NULL;
    return req_table[value_case].handle ? &req_table[value_case] : NULL;
}

/* Stores msg as the Response's oneof member resp_case. The member is found
 * through the Response descriptor (protobuf-c's own reflection), which also
 * checks that the row's Response case carries the message type its handler
 * built. */
static int set_response(Tendermint__Abci__Response *resp, int resp_case, ProtobufCMessage *msg) {
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&tendermint__abci__response__descriptor, (unsigned)resp_case);
    if (!msg || !f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor != msg->descriptor) return -1;
    memcpy((char *)resp + f->offset, &msg, sizeof msg);
    resp->value_case = (Tendermint__Abci__Response__ValueCase)resp_case;
    return 0;
}

/* The core: the row's handler, then the Response (or the exception). */
static void run_request(dctx *d, const Tendermint__Abci__Request *rq, const req_row *row) {
    d->err[0] = '\0';
    if (!row) {
        set_exception(d, WICAS_ABCI_ERR_DECODE, "unknown or empty ABCI request (oneof field %d)",
                      (int)rq->value_case);
        return;
    }
    ProtobufCMessage *msg = NULL;
    int st = row->handle(d, rq, &msg);
    if (st == 0 && set_response(&d->resp, (int)row->resp_case, msg) == 0) return;
    if (st == WICAS_ABCI_ERR_NOMEM) {
        set_exception(d, WICAS_ABCI_ERR_NOMEM, "out of memory while building the response");
    } else if (st == 0) { /* a table row naming the wrong Response case: a bug here, never the peer's */
        set_exception(d, WICAS_ABCI_ERR_APP,
                      "abci: internal error: the request table answers oneof field %d with Response case %d, "
                      "which cannot carry that message",
                      (int)rq->value_case, (int)row->resp_case);
    } else { /* the application failed (APP) or the request is unusable (DECODE) */
        char text[sizeof d->err];
        snprintf(text, sizeof text, "%s", d->err[0] ? d->err : "application error");
        set_exception(d, st, "%s", text);
    }
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
        const req_row *row = find_row((int)rq->value_case);
        if (is_flush) *is_flush = row && (row->flags & ROW_FLUSH);
        pthread_mutex_t *mu = lock;
        /* a query of an application that serves queries concurrently runs
         * outside the lock: it must never wait for (or delay) a block */
        if (app->concurrent_query && row && (row->flags & ROW_MAY_SKIP_LOCK)) mu = NULL;
        if (mu) pthread_mutex_lock(mu);
        run_request(d, rq, row);
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
