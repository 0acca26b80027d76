/*
 * kvapp.c — the key/value test application (see kvapp.h).
 */
#include "kvapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void kv_hash(int64_t height, const kv_pair *p, size_t n, uint8_t out[32]) {
    wicas_sha256_ctx *c = wicas_sha256_begin();
    uint8_t h[8];
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)((uint64_t)height >> (56 - 8 * i));
    wicas_sha256_update(c, h, 8);
    for (size_t i = 0; i < n; i++) {
        wicas_sha256_update(c, p[i].key, strlen(p[i].key) + 1);
        wicas_sha256_update(c, p[i].value, strlen(p[i].value) + 1);
    }
    wicas_sha256_final(c, out);
}

/* Parses "k=v"; returns 0 with k/v filled, or a non-zero CheckTx code. */
static uint32_t parse_tx(wicas_abci_slice tx, char *k, char *v) {
    const uint8_t *eq = tx.len ? memchr(tx.data, '=', tx.len) : NULL;
    if (!eq) return 1;
    size_t kl = (size_t)(eq - tx.data), vl = tx.len - kl - 1;
    if (kl == 0 || kl >= 64 || vl >= 128) return 2;
    memcpy(k, tx.data, kl);
    k[kl] = '\0';
    memcpy(v, eq + 1, vl);
    v[vl] = '\0';
    if (strlen(k) != kl || strlen(v) != vl) return 3; /* embedded NUL */
    return 0;
}

static void put(kv_pair *p, size_t *n, const char *k, const char *v) {
    size_t i = 0;
    while (i < *n && strcmp(p[i].key, k) < 0)
        i++;
    if (i < *n && strcmp(p[i].key, k) == 0) {
        snprintf(p[i].value, sizeof p[i].value, "%s", v);
        return;
    }
    if (*n >= 256) return;
    memmove(&p[i + 1], &p[i], (*n - i) * sizeof *p);
    snprintf(p[i].key, sizeof p[i].key, "%s", k);
    snprintf(p[i].value, sizeof p[i].value, "%s", v);
    (*n)++;
}

static int kv_info(void *ctx, const wicas_abci_info_req *req, wicas_abci_info_resp *r, char *err, size_t el) {
    (void)req, (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_info++;
    r->data = wicas_abci_strdup("kvapp");
    r->version = wicas_abci_strdup("1.0");
    r->app_version = 1;
    r->last_block_height = kv->height;
    if (kv->height > 0) wicas_abci_buf_set(&r->last_block_app_hash, kv->hash, 32);
    return 0;
}

static int kv_init(void *ctx, const wicas_abci_init_chain_req *req, wicas_abci_init_chain_resp *r, char *err,
                   size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_init++;
    snprintf(kv->chain_id, sizeof kv->chain_id, "%s", req->chain_id);
    kv_hash(0, kv->pairs, kv->n, kv->hash);
    wicas_abci_buf_set(&r->app_hash, kv->hash, 32);
    return 0;
}

static int kv_check(void *ctx, const wicas_abci_check_tx_req *req, wicas_abci_tx_result *r, char *err,
                    size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_check++;
    char k[64], v[128];
    r->code = parse_tx(req->tx, k, v);
    if (r->code) r->log = wicas_abci_strdup("tx must be key=value");
    r->gas_wanted = 1;
    return 0;
}

static int kv_query(void *ctx, const wicas_abci_query_req *req, wicas_abci_query_resp *r, char *err,
                    size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_query++;
    r->height = kv->height;
    wicas_abci_buf_set(&r->key, req->data.data, req->data.len);
    for (size_t i = 0; i < kv->n; i++)
        if (strlen(kv->pairs[i].key) == req->data.len &&
            memcmp(kv->pairs[i].key, req->data.data, req->data.len) == 0) {
            wicas_abci_buf_set(&r->value, kv->pairs[i].value, strlen(kv->pairs[i].value));
            r->log = wicas_abci_strdup("exists");
            return 0;
        }
    r->log = wicas_abci_strdup("does not exist");
    return 0;
}

static int kv_prepare(void *ctx, const wicas_abci_block_req *req, wicas_abci_prepare_resp *r, char *err,
                      size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_prepare++;
    char want[64];
    snprintf(want, sizeof want, "ext-%lld", (long long)(req->height - 1));
    for (size_t i = 0; i < req->n_votes; i++)
        if (req->votes[i].vote_extension.len == strlen(want) &&
            memcmp(req->votes[i].vote_extension.data, want, strlen(want)) == 0) {
            kv->n_prepare_ext_seen++;
            break;
        }
    return wicas_abci_default_prepare(req, r);
}

static int kv_process(void *ctx, const wicas_abci_block_req *req, bool *accept, char *err, size_t el) {
    (void)req, (void)err, (void)el;
    ((kvapp *)ctx)->n_process++;
    *accept = true;
    return 0;
}

static int kv_extend(void *ctx, const wicas_abci_block_req *req, wicas_abci_buf *ext, char *err, size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_extend++;
    char s[64];
    snprintf(s, sizeof s, "ext-%lld", (long long)req->height);
    return wicas_abci_buf_set(ext, s, strlen(s));
}

static int kv_verify(void *ctx, const wicas_abci_verify_vote_ext_req *req, bool *accept, char *err,
                     size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_verify++;
    char s[64];
    snprintf(s, sizeof s, "ext-%lld", (long long)req->height);
    *accept = req->vote_extension.len == strlen(s) && memcmp(req->vote_extension.data, s, strlen(s)) == 0;
    return 0;
}

static int kv_finalize(void *ctx, const wicas_abci_block_req *req, wicas_abci_finalize_resp *r, char *err,
                       size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_finalize++;
    memcpy(kv->staged, kv->pairs, kv->n * sizeof *kv->pairs);
    kv->n_staged = kv->n;
    r->tx_results = calloc(req->n_txs ? req->n_txs : 1, sizeof *r->tx_results);
    if (!r->tx_results) return WICAS_ABCI_ERR_NOMEM;
    r->n_tx_results = req->n_txs;
    for (size_t i = 0; i < req->n_txs; i++) {
        char k[64], v[128];
        r->tx_results[i].code = parse_tx(req->txs[i], k, v);
        if (r->tx_results[i].code) continue;
        put(kv->staged, &kv->n_staged, k, v);
        wicas_abci_event *ev;
        wicas_abci_event_add(&r->tx_results[i].events, &r->tx_results[i].n_events, "kv", &ev);
        wicas_abci_event_attr(ev, "key", k, true);
    }
    kv->staged_height = req->height;
    kv_hash(req->height, kv->staged, kv->n_staged, kv->staged_hash);
    return wicas_abci_buf_set(&r->app_hash, kv->staged_hash, 32);
}

static int kv_commit(void *ctx, wicas_abci_commit_resp *r, char *err, size_t el) {
    (void)err, (void)el;
    kvapp *kv = ctx;
    kv->n_commit++;
    memcpy(kv->pairs, kv->staged, kv->n_staged * sizeof *kv->pairs);
    kv->n = kv->n_staged;
    kv->height = kv->staged_height;
    memcpy(kv->hash, kv->staged_hash, 32);
    if (kv->height >= 0 && kv->height < 4096) memcpy(kv->hash_at[kv->height], kv->hash, 32);
    r->retain_height = 0;
    return 0;
}

void kvapp_init(kvapp *kv, wicas_abci_app *app) {
    memset(kv, 0, sizeof *kv);
    memset(app, 0, sizeof *app);
    app->ctx = kv;
    app->info = kv_info;
    app->init_chain = kv_init;
    app->check_tx = kv_check;
    app->query = kv_query;
    app->prepare_proposal = kv_prepare;
    app->process_proposal = kv_process;
    app->extend_vote = kv_extend;
    app->verify_vote_extension = kv_verify;
    app->finalize_block = kv_finalize;
    app->commit = kv_commit;
}
