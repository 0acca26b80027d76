/*
 * chain.c — the state machine's life cycle and the transaction pipeline.
 *
 *   open/info/init_chain/finalize_block/commit  manage three state views:
 *     committed  what the last LMDB commit holds (queries, check-state base)
 *     pending    the block's write transaction: opened by init_chain or
 *                finalize_block, committed by commit together with height,
 *                app hash and tree root (one atomic LMDB commit)
 *     check      an overlay over a read snapshot of the last commit, where
 *                CheckTx applies fee + sequence so several txs of one sender
 *                can queue; thrown away at every commit
 *
 *   wicas_run_tx is the SDK's runTx: decode + stateless checks, then the ante
 *   handler (tx size gas, min gas price in CheckTx, account/pubkey, fee
 *   deduction, sequence, signature gas, signature) in its own overlay, then
 *   the messages in a child overlay. A failing message drops the messages'
 *   writes but keeps the ante's (fee paid, sequence used), as the SDK does;
 *   a failing ante writes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "module.h"
#include "params.h"

#define META_HEIGHT "height"
#define META_HASH "app_hash"
#define META_CHAIN_ID "chain_id"
#define META_INITIAL_HEIGHT "initial_height"
/* time of the last block (node-local, not hashed): env.block.time of queries */
#define META_TIME "block_time_ns"

void wicas_err_wrap(char *dst, size_t cap, const char *pre, const char *post) {
    char *s = wicas_xprintf("%s%s%s", pre, dst, post);
    if (!s) return;
    size_t n = strlen(s);
    if (n >= cap) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
    free(s);
}

/* ---- check state ----------------------------------------------------------------------- */

static int check_reset(wicas_chain *c) {
    wicas_kv_clear(&c->check_ov);
    if (c->check_txn) mdb_txn_abort(c->check_txn);
    c->check_txn = NULL;
    if (mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &c->check_txn)) return WICAS_CHAIN_ERR_IO;
    wicas_kv_init_base(&c->check_base, &c->st, c->check_txn);
    wicas_kv_init_overlay(&c->check_ov, &c->check_base);
    return 0;
}

/* ---- open / close / info ------------------------------------------------------------------ */

/* Reads height, app hash, chain id, initial height and the last block time as
 * transaction t sees them into c. */
static int meta_read(wicas_chain *c, MDB_txn *t) {
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = 0;
    if (wicas_wstore_meta_get(&c->st, t, META_HEIGHT, &v, &vl) == 1) {
        if (vl != 8)
            rc = WICAS_CHAIN_ERR_CORRUPT;
        else
            c->last_height = (int64_t)wicas_be64_get(v);
    }
    free(v);
    v = NULL;
    if (!rc && wicas_wstore_meta_get(&c->st, t, META_HASH, &v, &vl) == 1) {
        if (vl != 32)
            rc = WICAS_CHAIN_ERR_CORRUPT;
        else
            memcpy(c->last_hash, v, 32);
    }
    free(v);
    v = NULL;
    if (!rc && wicas_wstore_meta_get(&c->st, t, META_CHAIN_ID, &v, &vl) == 1)
        snprintf(c->chain_id, sizeof c->chain_id, "%s", (char *)v);
    free(v);
    v = NULL;
    if (!rc && wicas_wstore_meta_get(&c->st, t, META_INITIAL_HEIGHT, &v, &vl) == 1 && vl == 8)
        c->initial_height = (int64_t)wicas_be64_get(v);
    free(v);
    v = NULL;
    if (!rc && wicas_wstore_meta_get(&c->st, t, META_TIME, &v, &vl) == 1 && vl == 8)
        c->last_time_ns = (int64_t)wicas_be64_get(v);
    free(v);
    return rc;
}

static int load_meta(wicas_chain *c) {
    MDB_txn *t;
    if (mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &t)) return WICAS_CHAIN_ERR_IO;
    int rc = meta_read(c, t);
    mdb_txn_abort(t);
    return rc;
}

/* ---- read-only views of the last commit (queries, simulate) ----------------------------
 * A query never touches the consensus path's state: it takes one of
 * CHAIN_QUERY_WORKERS slots (waiting while all are busy), opens its own LMDB
 * read transaction (the environment is MDB_NOTLS, so the transaction belongs
 * to the call, not to the thread) and builds a private wicas_chain "view" on
 * it: the store handles and the options copied from the chain (both fixed
 * after open), the slot's own contract VM (a wicas_vm is single-threaded),
 * and height, app hash and chain id read from the SAME transaction, so the
 * height a query reports is the height of the state it read even while a
 * block is being finalized or committed on another thread. Per-execution
 * fields (block height, tx index, halt, AI call counters) are the view's, so
 * a query cannot disturb a block in progress. The view has no AI worker: a
 * query never submits asynchronous work. */

static int qslot_acquire(wicas_chain *c) {
    pthread_mutex_lock(&c->q_mu);
    for (;;) {
        for (int i = 0; i < CHAIN_QUERY_WORKERS; i++)
            if (!c->q_busy[i]) {
                c->q_busy[i] = true;
                pthread_mutex_unlock(&c->q_mu);
                return i;
            }
        pthread_cond_wait(&c->q_cv, &c->q_mu);
    }
}

static void qslot_release(wicas_chain *c, int i) {
    pthread_mutex_lock(&c->q_mu);
    c->q_busy[i] = false;
    pthread_cond_signal(&c->q_cv);
    pthread_mutex_unlock(&c->q_mu);
}

int wicas_qview_open(wicas_chain *c, qview *q, char *err, size_t errlen) {
    memset(q, 0, sizeof *q);
    q->c = c;
    q->slot = qslot_acquire(c);
    wicas_chain *v = calloc(1, sizeof *v);
    if (!v) {
        qslot_release(c, q->slot);
        wicas_errf(err, errlen, "out of memory");
        return WICAS_CHAIN_ERR_NOMEM;
    }
    v->st.env = c->st.env;
    v->st.state = c->st.state;
    v->st.nodes = c->st.nodes;
    v->st.vals = c->st.vals;
    v->st.meta = c->st.meta;
    v->opts = c->opts;
    memcpy(v->data_dir, c->data_dir, sizeof v->data_dir);
    v->tx_index = -1;
    v->view_of = c;
    v->view_slot = q->slot;
    int rc = wicas_modules_exec_alloc(v) ? WICAS_CHAIN_ERR_NOMEM : 0;
    if (rc) wicas_errf(err, errlen, "out of memory");
    for (int i = 0; !rc && wicas_modules[i]; i++)
        if (wicas_modules[i]->view_open)
            rc = wicas_modules[i]->view_open(v, c->mstate[i], q->slot, err, errlen);
    if (rc) {
        wicas_modules_exec_free(v);
        free(v);
        qslot_release(c, q->slot);
        return rc;
    }
    rc = mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &q->txn);
    if (rc) {
        wicas_errf(err, errlen, "cannot open a read transaction: %s", mdb_strerror(rc));
        q->txn = NULL;
    } else if ((rc = meta_read(v, q->txn))) {
        wicas_errf(err, errlen, "reading the committed height: %s", wicas_chain_strerror(rc));
        mdb_txn_abort(q->txn);
        q->txn = NULL;
    }
    if (!q->txn) {
        wicas_modules_exec_free(v);
        free(v);
        qslot_release(c, q->slot);
        return WICAS_CHAIN_ERR_IO;
    }
    v->blk_height = v->last_height;
    v->blk_time_ns = v->last_time_ns;
    q->v = v;
    return 0;
}

void wicas_qview_close(qview *q) {
    if (!q->v) return;
    mdb_txn_abort(q->txn);
    wicas_modules_exec_free(q->v);
    free(q->v);
    qslot_release(q->c, q->slot);
    memset(q, 0, sizeof *q);
}

int wicas_chain_open(const char *data_dir, const wicas_chain_options *opts, wicas_chain **out, char *err,
                     size_t errlen) {
    *out = NULL;
    if (!data_dir || !*data_dir) {
        wicas_errf(err, errlen, "chain open: empty data directory");
        return WICAS_CHAIN_ERR_INVALID;
    }
    wicas_chain *c = calloc(1, sizeof *c);
    if (!c) return WICAS_CHAIN_ERR_NOMEM;
    if (opts) c->opts = *opts;
    pthread_mutex_init(&c->q_mu, NULL);
    pthread_cond_init(&c->q_cv, NULL);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", data_dir);
    if (mkdir(data_dir, 0755) && errno != EEXIST) {
        wicas_errf(err, errlen, "chain open: cannot create %s: %s", data_dir, strerror(errno));
        pthread_cond_destroy(&c->q_cv);
        pthread_mutex_destroy(&c->q_mu);
        free(c);
        return WICAS_CHAIN_ERR_IO;
    }
    int rc = wicas_wstore_open(data_dir, c->opts.map_size, c->opts.no_sync, &c->st, err, errlen);
    if (rc) {
        pthread_cond_destroy(&c->q_cv);
        pthread_mutex_destroy(&c->q_mu);
        free(c);
        return rc;
    }
    if ((rc = load_meta(c)) || (rc = check_reset(c))) {
        wicas_errf(err, errlen, "chain open %s: %s", data_dir, wicas_chain_strerror(rc));
        wicas_chain_close(c);
        return rc;
    }
    if (wicas_modules_exec_alloc(c)) {
        wicas_errf(err, errlen, "chain open: out of memory");
        wicas_chain_close(c);
        return WICAS_CHAIN_ERR_NOMEM;
    }
    for (int i = 0; wicas_modules[i]; i++)
        if (wicas_modules[i]->open && (rc = wicas_modules[i]->open(c, &c->mstate[i], err, errlen))) {
            wicas_chain_close(c);
            return rc;
        }
    /* work still pending from before a restart (e.g. asynchronous AI requests) */
    for (int i = 0; wicas_modules[i]; i++)
        if (wicas_modules[i]->after_commit) wicas_modules[i]->after_commit(c);
    *out = c;
    return 0;
}

void wicas_chain_close(wicas_chain *c) {
    if (!c) return;
    int nm = 0;
    while (wicas_modules[nm])
        nm++;
    for (int i = nm - 1; i >= 0; i--) /* in reverse: a module may use the ones before it */
        if (wicas_modules[i]->close && c->mstate[i]) wicas_modules[i]->close(c, c->mstate[i]);
    wicas_modules_exec_free(c);
    pthread_cond_destroy(&c->q_cv);
    pthread_mutex_destroy(&c->q_mu);
    wicas_kv_clear(&c->check_ov);
    if (c->check_txn) mdb_txn_abort(c->check_txn);
    wicas_wstore_close(&c->st); /* aborts a pending block */
    free(c);
}

void wicas_chain_info(wicas_chain *c, int64_t *last_height, uint8_t app_hash[32]) {
    if (last_height) *last_height = c->last_height;
    if (app_hash) memcpy(app_hash, c->last_hash, 32);
}

const char *wicas_chain_id(wicas_chain *c) {
    return c->chain_id;
}

/* ---- block transaction ------------------------------------------------------------------ */

static int begin_pending(wicas_chain *c, char *err, size_t errlen) {
    if (c->st.wtxn) return 0;
    int rc = mdb_txn_begin(c->st.env, NULL, 0, &c->st.wtxn);
    if (rc) {
        wicas_errf(err, errlen, "cannot begin block transaction: %s", mdb_strerror(rc));
        return WICAS_CHAIN_ERR_IO;
    }
    wicas_kv_init_base(&c->wbase, &c->st, c->st.wtxn);
    memcpy(c->pending_root, c->last_hash, 32);
    return 0;
}

static void abort_pending(wicas_chain *c) {
    if (c->st.wtxn) mdb_txn_abort(c->st.wtxn);
    c->st.wtxn = NULL;
    c->pending = false;
}

/* Writes an overlay's effects + meta for `height` into the pending txn. */
static int flush_block(wicas_chain *c, kv *ov, int64_t height, uint8_t root[32], char *err, size_t errlen) {
    int rc = wicas_smt_apply(&c->st, c->st.wtxn, ov, c->pending_root, root);
    uint8_t hb[8];
    wicas_be64_put(hb, (uint64_t)height);
    char rk[40];
    snprintf(rk, sizeof rk, "root/%020lld", (long long)height);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, c->st.wtxn, META_HEIGHT, hb, 8);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, c->st.wtxn, META_HASH, root, 32);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, c->st.wtxn, rk, root, 32);
    uint8_t tb[8];
    wicas_be64_put(tb, (uint64_t)c->blk_time_ns);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, c->st.wtxn, META_TIME, tb, 8);
    if (rc) {
        wicas_errf(err, errlen, "writing block %lld: %s", (long long)height, wicas_chain_strerror(rc));
        return rc;
    }
    memcpy(c->pending_root, root, 32);
    return 0;
}

int wicas_chain_init_chain(wicas_chain *c, const char *chain_id, int64_t initial_height,
                           const char *app_state_json, size_t len, uint8_t app_hash[32], char *err,
                           size_t errlen) {
    return wicas_chain_init_chain_validators(c, chain_id, initial_height, app_state_json, len, NULL, 0,
                                             app_hash, err, errlen);
}

int wicas_chain_init_chain_validators(wicas_chain *c, const char *chain_id, int64_t initial_height,
                                      const char *app_state_json, size_t len,
                                      const wicas_chain_validator *vals, size_t n_vals, uint8_t app_hash[32],
                                      char *err, size_t errlen) {
    if (c->last_height > 0 || c->pending) {
        wicas_errf(err, errlen, "init_chain: state already initialised (height %lld)",
                   (long long)c->last_height);
        return WICAS_CHAIN_ERR_STATE;
    }
    if (!chain_id || !*chain_id || strlen(chain_id) >= sizeof c->chain_id) {
        wicas_errf(err, errlen, "init_chain: chain id must be 1..%zu characters", sizeof c->chain_id - 1);
        return WICAS_CHAIN_ERR_INVALID;
    }
    if (initial_height < 1) initial_height = 1;
    int rc = begin_pending(c, err, errlen);
    if (rc) return rc;
    snprintf(c->chain_id, sizeof c->chain_id, "%s", chain_id);
    c->blk_height = 0;
    c->blk_time_ns = 0;
    c->tx_index = -1;
    wctx x;
    wicas_ctx_init(&x, c, &c->wbase, UINT64_MAX);
    /* every module's genesis section, then their InitChain hooks (the
     * validators; checks of what genesis set up, e.g. runnable models) */
    rc = wicas_genesis_apply(&x, app_state_json ? app_state_json : "{}", app_state_json ? len : 2, err,
                             errlen);
    for (int i = 0; !rc && wicas_modules[i]; i++)
        if (wicas_modules[i]->init_chain) rc = wicas_modules[i]->init_chain(&x, vals, n_vals, err, errlen);
    if (rc) {
        wicas_ctx_free(&x);
        abort_pending(c);
        c->chain_id[0] = 0;
        return WICAS_CHAIN_ERR_INVALID;
    }
    uint8_t ib[8], root[32];
    wicas_be64_put(ib, (uint64_t)initial_height);
    rc = wicas_wstore_meta_put(&c->st, c->st.wtxn, META_CHAIN_ID, chain_id, strlen(chain_id));
    if (!rc) rc = wicas_wstore_meta_put(&c->st, c->st.wtxn, META_INITIAL_HEIGHT, ib, 8);
    if (!rc) rc = wicas_smt_apply(&c->st, c->st.wtxn, &x.ov, c->pending_root, root);
    /* CheckTx sees the genesis state before the first block commits */
    for (size_t i = 0; !rc && i < x.ov.n; i++)
        rc = wicas_kv_set(&c->check_ov, x.ov.e[i].k, x.ov.e[i].kl, x.ov.e[i].v, x.ov.e[i].vl);
    wicas_ctx_free(&x);
    if (rc) {
        wicas_errf(err, errlen, "init_chain: writing genesis state: %s", wicas_chain_strerror(rc));
        abort_pending(c);
        c->chain_id[0] = 0;
        return rc;
    }
    memcpy(c->pending_root, root, 32);
    c->initial_height = initial_height;
    /* the genesis state commits with the first block, as in the SDK, so a
     * crash before it makes CometBFT call InitChain again */
    c->pending = false;
    if (app_hash) memcpy(app_hash, root, 32);
    return 0;
}

int wicas_chain_finalize_block(wicas_chain *c, const wicas_chain_block *b, wicas_chain_tx_result *results,
                               wicas_chain_event **events, size_t *n_events, uint8_t app_hash[32], char *err,
                               size_t errlen) {
    if (events) *events = NULL;
    if (n_events) *n_events = 0;
    if (!b || (b->n_txs && (!results || !b->txs || !b->tx_lens))) {
        wicas_errf(err, errlen, "finalize_block: missing block or result array");
        return WICAS_CHAIN_ERR_INVALID;
    }
    if (c->pending) {
        wicas_errf(err, errlen, "finalize_block: block %lld is finalized but not committed",
                   (long long)c->pending_height);
        return WICAS_CHAIN_ERR_STATE;
    }
    int64_t want = c->last_height ? c->last_height + 1 : (c->initial_height ? c->initial_height : 1);
    if (b->height != want) {
        wicas_errf(err, errlen, "finalize_block: height %lld but the next height is %lld",
                   (long long)b->height, (long long)want);
        return WICAS_CHAIN_ERR_STATE;
    }
    if (!c->chain_id[0]) {
        wicas_errf(err, errlen, "finalize_block: chain not initialised (InitChain first)");
        return WICAS_CHAIN_ERR_STATE;
    }
    int rc = begin_pending(c, err, errlen);
    if (rc) return rc;
    c->blk_height = b->height;
    c->blk_time_ns = b->time_seconds * 1000000000LL + b->time_nanos;
    memcpy(c->blk_hash, b->hash, 32);
    c->halt[0] = 0;
    kv blk;
    wicas_kv_init_overlay(&blk, &c->wbase);
    if (c->opts.hooks.begin_block && c->opts.hooks.begin_block(c->opts.hooks.ctx, c, b, err, errlen)) {
        /* nothing of this block was written; the pending transaction (which
         * may hold the genesis state) stays as it was */
        wicas_kv_clear(&blk);
        return WICAS_CHAIN_ERR_INVALID;
    }
    /* the modules' begin-block hooks (e.g. the AI module tallies the vote
     * extensions the proposer injected as the first tx) */
    evlist bev = {0};
    for (int i = 0; !rc && wicas_modules[i]; i++)
        if (wicas_modules[i]->begin_block) rc = wicas_modules[i]->begin_block(c, &blk, b, &bev, err, errlen);
    if (rc) {
        wicas_kv_clear(&blk);
        wicas_ev_free(&bev);
        WICAS_ERROR("chain", "halting at height %lld: %s", (long long)b->height, err);
        return WICAS_CHAIN_ERR_IO;
    }
    for (size_t i = 0; i < b->n_txs; i++) {
        c->tx_index = (int64_t)i;
        if (i == 0 && wicas_chain_is_vote_injection(b->txs[0], b->tx_lens[0])) {
            /* not a Cosmos tx: consumed above; reported as a successful no-op */
            memset(&results[0], 0, sizeof results[0]);
            results[0].log =
                wicas_xstrdup("vote extensions of the previous height (asynchronous AI answers)");
            continue;
        }
        wicas_run_tx(c, &blk, b->txs[i], b->tx_lens[i], MODE_DELIVER, &results[i]);
        if (c->halt[0]) {
            /* a node-local failure: fail the block instead of committing an
             * outcome the other validators may not share */
            for (size_t j = 0; j <= i; j++)
                wicas_chain_tx_result_free(&results[j]);
            wicas_kv_clear(&blk);
            wicas_ev_free(&bev);
            c->tx_index = -1;
            wicas_errf(err, errlen, "finalize_block: halting at height %lld, tx %zu: %s",
                       (long long)b->height, i, c->halt);
            WICAS_ERROR("chain", "halting at height %lld: %s", (long long)b->height, c->halt);
            return WICAS_CHAIN_ERR_IO;
        }
    }
    c->tx_index = -1;
    uint8_t root[32];
    rc = flush_block(c, &blk, b->height, root, err, errlen);
    wicas_kv_clear(&blk);
    if (rc) {
        for (size_t i = 0; i < b->n_txs; i++)
            wicas_chain_tx_result_free(&results[i]);
        wicas_ev_free(&bev);
        abort_pending(c);
        return rc;
    }
    if (events && n_events) {
        *events = bev.ev;
        *n_events = bev.n;
    } else {
        wicas_ev_free(&bev);
    }
    c->pending = true;
    c->pending_height = b->height;
    if (app_hash) memcpy(app_hash, root, 32);
    return 0;
}

int wicas_chain_commit(wicas_chain *c, int64_t *retain_height) {
    if (retain_height) *retain_height = 0;
    if (!c->pending || !c->st.wtxn) return WICAS_CHAIN_ERR_STATE;
    int rc = mdb_txn_commit(c->st.wtxn);
    c->st.wtxn = NULL;
    c->pending = false;
    if (rc) {
        /* the block is lost; the caller must stop (CometBFT replays it) */
        load_meta(c);
        check_reset(c);
        return WICAS_CHAIN_ERR_IO;
    }
    c->last_height = c->pending_height;
    memcpy(c->last_hash, c->pending_root, 32);
    rc = check_reset(c);
    for (int i = 0; wicas_modules[i]; i++) /* e.g. start on AI requests this block created */
        if (wicas_modules[i]->after_commit) wicas_modules[i]->after_commit(c);
    return rc;
}

/* ---- CheckTx / simulate ------------------------------------------------------------------- */

void wicas_chain_check_tx(wicas_chain *c, const uint8_t *tx, size_t len, bool recheck,
                          wicas_chain_tx_result *res) {
    c->blk_height = c->last_height + 1;
    c->tx_index = -1;
    wicas_run_tx(c, &c->check_ov, tx, len, recheck ? MODE_RECHECK : MODE_CHECK, res);
}

void wicas_chain_simulate_view(wicas_chain *v, MDB_txn *t, const uint8_t *tx, size_t len,
                               wicas_chain_tx_result *res) {
    kv base, ov;
    wicas_kv_init_base(&base, &v->st, t);
    wicas_kv_init_overlay(&ov, &base);
    v->blk_height = v->last_height + 1;
    v->tx_index = 0;
    wicas_run_tx(v, &ov, tx, len, MODE_SIMULATE, res);
    wicas_kv_clear(&ov);
}

void wicas_chain_simulate(wicas_chain *c, const uint8_t *tx, size_t len, wicas_chain_tx_result *res) {
    memset(res, 0, sizeof *res);
    qview q;
    char err[256] = "";
    if (wicas_qview_open(c, &q, err, sizeof err)) {
        res->code = WICAS_CODE_INTERNAL;
        res->codespace = wicas_xstrdup(WICAS_CHAIN_CODESPACE_SDK);
        res->log = wicas_xstrdup(err[0] ? err : "cannot open a read view of the last commit");
        return;
    }
    wicas_chain_simulate_view(q.v, q.txn, tx, len, res);
    wicas_qview_close(&q);
}

/* ---- results ---------------------------------------------------------------------------------- */

void wicas_chain_tx_result_free(wicas_chain_tx_result *r) {
    if (!r) return;
    free(r->codespace);
    free(r->log);
    free(r->data);
    wicas_chain_events_free(r->events, r->n_events);
    memset(r, 0, sizeof *r);
}

void wicas_chain_query_result_free(wicas_chain_query_result *r) {
    if (!r) return;
    free(r->log);
    free(r->codespace);
    free(r->key);
    free(r->value);
    for (size_t i = 0; i < r->n_ops; i++) {
        free(r->ops[i].type);
        free(r->ops[i].key);
        free(r->ops[i].data);
    }
    free(r->ops);
    memset(r, 0, sizeof *r);
}

void wicas_chain_query(wicas_chain *c, const char *path, const uint8_t *data, size_t len, int64_t height,
                       bool prove, wicas_chain_query_result *res) {
    wicas_chain_query_view(c, path, data, len, height, prove, res);
}

/* ---- the tx pipeline ------------------------------------------------------------------------ */

static void result_from(wicas_chain_tx_result *res, wctx *x, uint64_t gas_wanted) {
    res->code = x->code;
    res->codespace = x->code ? wicas_xstrdup(x->codespace ? x->codespace : WICAS_CHAIN_CODESPACE_SDK) : NULL;
    res->log = wicas_xstrdup(x->code ? x->err : "");
    res->gas_wanted = (int64_t)gas_wanted;
    res->gas_used = (int64_t)x->gas_used;
}

/* Runs one message; on success appends its response Any to *resps. */
static int run_msg(wctx *x, const Wchain__Any *m, size_t idx, Wchain__Any ***resps, size_t *n_resps) {
    char signer[100];
    char *s = NULL;
    uint32_t code = 0;
    char err[256];
    if (wicas_msg_signer(m->type_url, m->value.data, m->value.len, &s, &code, err, sizeof err))
        return wicas_ctx_fail(x, code, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
    snprintf(signer, sizeof signer, "%s", s);
    free(s);
    /* wicas_msg_signer found the route (an unknown type fails there) */
    const wicas_msg_route *route = NULL;
    const wicas_module *mod = wicas_module_for_msg(m->type_url, &route);
    if (!mod)
        return wicas_ctx_fail(x, WICAS_CODE_UNKNOWN_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                              "unrecognized message type '%s': unknown request", m->type_url);
    /* the SDK's message event comes first, then the handler's */
    wctx mx;
    wicas_ctx_child(&mx, x);
    wicas_ev_add(&mx.ev, "message", "action", m->type_url, "sender", signer, "module", mod->name, NULL);
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    char resp_url[128];
    int rc = route->handle(&mx, m->type_url, m->value.data, m->value.len, &resp, &resp_len);
    snprintf(resp_url, sizeof resp_url, "%sResponse", m->type_url);
    if (rc == 0) {
        char mi[24];
        snprintf(mi, sizeof mi, "%zu", idx);
        for (size_t i = 0; i < mx.ev.n; i++)
            wicas_ev_attr(&mx.ev.ev[i], "msg_index", mi);
        Wchain__Any *a = malloc(sizeof *a);
        Wchain__Any **nr = realloc(*resps, (*n_resps + 1) * sizeof *nr);
        if (!a || !nr) {
            free(a);
            free(resp);
            if (nr) *resps = nr;
            wicas_ctx_end(&mx, x, false);
            return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
        }
        *resps = nr;
        wchain__any__init(a);
        a->type_url = wicas_xstrdup(resp_url);
        a->value.data = resp;
        a->value.len = resp_len;
        nr[(*n_resps)++] = a;
    } else {
        free(resp);
        /* prefix the message index like the SDK: "failed to execute message; message index: 0: ..." */
        if (mx.code) {
            char pre[96];
            snprintf(pre, sizeof pre, "failed to execute message; message index: %zu: ", idx);
            wicas_err_wrap(mx.err, sizeof mx.err, pre, "");
        }
    }
    if (wicas_ctx_end(&mx, x, rc == 0))
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    return rc;
}

static void free_resps(Wchain__Any **r, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(r[i]->type_url);
        free(r[i]->value.data);
        free(r[i]);
    }
    free(r);
}

void wicas_run_tx(wicas_chain *c, kv *parent, const uint8_t *tx, size_t len, int mode,
                  wicas_chain_tx_result *res) {
    memset(res, 0, sizeof *res);
    wicas_sha256(tx, len, c->tx_hash); /* e.g. seeds of inference calls in this tx */
    for (int i = 0; wicas_modules[i]; i++)
        if (wicas_modules[i]->begin_tx) wicas_modules[i]->begin_tx(c);
    wtx t;
    uint32_t code = 0;
    char err[512];
    if (wicas_wtx_decode(tx, len, mode == MODE_SIMULATE, &t, &code, err, sizeof err)) {
        res->code = code;
        res->codespace = wicas_xstrdup(WICAS_CHAIN_CODESPACE_SDK);
        res->log = wicas_xstrdup(err);
        res->gas_wanted = (int64_t)t.gas_limit;
        wicas_wtx_free(&t);
        return;
    }
    uint64_t limit = mode == MODE_SIMULATE ? SIMULATE_GAS_LIMIT : t.gas_limit;
    wctx ax;
    wicas_ctx_init(&ax, c, parent, limit);
    ax.check = mode == MODE_CHECK || mode == MODE_RECHECK;
    ax.simulate = mode == MODE_SIMULATE;
    if (wicas_app_ante(&ax, &t, len, mode)) {
        result_from(res, &ax, t.gas_limit);
        wicas_ctx_free(&ax);
        wicas_wtx_free(&t);
        return;
    }
    if (ax.check) {
        /* CheckTx runs the ante handler only; its effects stay in the check state */
        result_from(res, &ax, t.gas_limit);
        for (size_t i = 0; i < ax.ov.n; i++) {
            kv_entry *e = &ax.ov.e[i];
            if (e->del)
                wicas_kv_del(parent, e->k, e->kl);
            else
                wicas_kv_set(parent, e->k, e->kl, e->v, e->vl);
        }
        wicas_ctx_free(&ax);
        wicas_wtx_free(&t);
        return;
    }
    wctx mx;
    wicas_ctx_child(&mx, &ax);
    Wchain__Any **resps = NULL;
    size_t n_resps = 0;
    int rc = 0;
    for (size_t i = 0; i < t.body->n_messages && !rc; i++)
        rc = run_msg(&mx, t.body->messages[i], i, &resps, &n_resps);
    if (rc == 0) {
        Wchain__TxMsgData md = WCHAIN__TX_MSG_DATA__INIT;
        md.msg_responses = resps;
        md.n_msg_responses = n_resps;
        res->data_len = wchain__tx_msg_data__get_packed_size(&md);
        res->data = malloc(res->data_len ? res->data_len : 1);
        if (res->data)
            wchain__tx_msg_data__pack(&md, res->data);
        else
            res->data_len = 0;
    }
    free_resps(resps, n_resps);
    wicas_ctx_end(&mx, &ax, rc == 0);
    result_from(res, &ax, t.gas_limit);
    /* the events: ante's always, the messages' on success */
    res->events = ax.ev.ev;
    res->n_events = ax.ev.n;
    ax.ev.ev = NULL;
    ax.ev.n = ax.ev.cap = 0;
    /* the ante's writes (fee, sequence) and, on success, the messages' */
    for (size_t i = 0; i < ax.ov.n; i++) {
        kv_entry *e = &ax.ov.e[i];
        if (e->del)
            wicas_kv_del(parent, e->k, e->kl);
        else
            wicas_kv_set(parent, e->k, e->kl, e->v, e->vl);
    }
    if (mode == MODE_SIMULATE) res->gas_wanted = (int64_t)t.gas_limit;
    wicas_ctx_free(&ax);
    wicas_wtx_free(&t);
}

/* ---- state installed by a snapshot restore (snapshot.c) ------------------------------------ */

int wicas_chain_restore_install(wicas_chain *c, MDB_txn *t, int64_t height, const uint8_t root[32],
                                const char *chain_id, int64_t initial_height) {
    uint8_t hb[8], ib[8];
    wicas_be64_put(hb, (uint64_t)height);
    wicas_be64_put(ib, (uint64_t)initial_height);
    char rk[40];
    snprintf(rk, sizeof rk, "root/%020lld", (long long)height);
    int rc = wicas_wstore_meta_put(&c->st, t, META_HEIGHT, hb, 8);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, t, META_HASH, root, 32);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, t, rk, root, 32);
    if (!rc) rc = wicas_wstore_meta_put(&c->st, t, META_CHAIN_ID, chain_id, strlen(chain_id));
    if (!rc) rc = wicas_wstore_meta_put(&c->st, t, META_INITIAL_HEIGHT, ib, 8);
    return rc;
}

int wicas_chain_reload(wicas_chain *c) {
    int rc = load_meta(c);
    return rc ? rc : check_reset(c);
}
