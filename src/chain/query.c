/*
 * query.c — abci_query: gRPC-style paths whose data is the protobuf request
 * and whose value is the protobuf response (what CosmJS's QueryClient sends
 * through CometBFT's abci_query), plus raw "store/main/key" reads that can
 * carry a sparse-Merkle proof. Every query runs on its own LMDB read
 * transaction, so it never sees a block that is not committed yet.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"

#define QUERY_GAS_LIMIT 3000000ULL /* wasmd's default smart query gas limit */

static void qfail(wicas_chain_query_result *r, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void qfail(wicas_chain_query_result *r, uint32_t code, const char *fmt, ...) {
    r->code = code;
    free(r->codespace);
    r->codespace = xstrdup(WICAS_CHAIN_CODESPACE_SDK);
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    free(r->log);
    r->log = s ? s : xstrdup("query failed");
}

static void qvalue(wicas_chain_query_result *r, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    r->value = malloc(n ? n : 1);
    if (!r->value) {
        qfail(r, WICAS_CODE_INTERNAL, "out of memory");
        return;
    }
    protobuf_c_message_pack(m, r->value);
    r->value_len = n;
}

static void store_query(wicas_chain *c, MDB_txn *t, int64_t height, const uint8_t *key, size_t kl, bool prove,
                        wicas_chain_query_result *r) {
    uint8_t root[32];
    if (height == c->last_height) {
        memcpy(root, c->last_hash, 32);
    } else {
        int rc = wstore_root_at(&c->st, t, height, root);
        if (rc != 1) {
            qfail(r, WICAS_CODE_INVALID_REQUEST, "no state stored for height %lld (latest %lld)", (long long)height,
                  (long long)c->last_height);
            return;
        }
    }
    if (!key || kl == 0) {
        qfail(r, WICAS_CODE_INVALID_REQUEST, "store query needs a key in data");
        return;
    }
    uint8_t *v = NULL, *proof = NULL;
    size_t vl = 0, pl = 0;
    int rc = smt_get(&c->st, t, root, key, kl, &v, &vl, prove ? &proof : NULL, prove ? &pl : NULL);
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
        r->ops[0].type = xstrdup(WICAS_CHAIN_PROOF_OP_TYPE);
        r->ops[0].key = malloc(kl);
        if (r->ops[0].key) memcpy(r->ops[0].key, key, kl);
        r->ops[0].key_len = kl;
        r->ops[0].data = proof;
        r->ops[0].data_len = pl;
    }
}

static bool decode_addr(wicas_chain_query_result *r, const char *a, uint8_t out[32], size_t *al) {
    if (!a || wicas_chain_addr_decode(a, out, al)) {
        qfail(r, WICAS_CODE_INVALID_ADDRESS, "invalid address '%s': decoding bech32 failed", a ? a : "");
        return false;
    }
    return true;
}

static void q_account(wctx *x, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
    Wchain__QueryAccountRequest *q = wchain__query_account_request__unpack(NULL, len, data);
    if (!q) {
        qfail(r, WICAS_CODE_TX_DECODE, "cannot decode QueryAccountRequest");
        return;
    }
    uint8_t a[32];
    size_t al;
    if (decode_addr(r, q->address, a, &al)) {
        Wchain__BaseAccount *acc = NULL;
        int rc = acc_get(x, a, al, &acc);
        if (rc == 1) {
            size_t n = wchain__base_account__get_packed_size(acc);
            uint8_t *buf = malloc(n ? n : 1);
            if (buf) {
                wchain__base_account__pack(acc, buf);
                Wchain__Any any = WCHAIN__ANY__INIT;
                any.type_url = (char *)"/cosmos.auth.v1beta1.BaseAccount";
                any.value.data = buf;
                any.value.len = n;
                Wchain__QueryAccountResponse resp = WCHAIN__QUERY_ACCOUNT_RESPONSE__INIT;
                resp.account = &any;
                qvalue(r, &resp.base);
            }
            free(buf);
            wchain__base_account__free_unpacked(acc, NULL);
        } else if (rc == 0) {
            qfail(r, WICAS_CODE_KEY_NOT_FOUND, "account %s not found: key not found", q->address);
        } else {
            qfail(r, WICAS_CODE_INTERNAL, "%s", x->err);
        }
    }
    wchain__query_account_request__free_unpacked(q, NULL);
}

static void q_balance(wctx *x, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
    Wchain__QueryBalanceRequest *q = wchain__query_balance_request__unpack(NULL, len, data);
    if (!q) {
        qfail(r, WICAS_CODE_TX_DECODE, "cannot decode QueryBalanceRequest");
        return;
    }
    uint8_t a[32];
    size_t al;
    if (decode_addr(r, q->address, a, &al)) {
        if (!denom_valid(q->denom)) {
            qfail(r, WICAS_CODE_INVALID_COINS, "invalid denom '%s'", q->denom);
        } else {
            uint64_t amt = 0;
            if (bank_balance(x, a, al, q->denom, &amt)) {
                qfail(r, WICAS_CODE_INTERNAL, "%s", x->err);
            } else {
                char s[24];
                snprintf(s, sizeof s, "%" PRIu64, amt);
                Wchain__Coin coin = WCHAIN__COIN__INIT;
                coin.denom = q->denom;
                coin.amount = s;
                Wchain__QueryBalanceResponse resp = WCHAIN__QUERY_BALANCE_RESPONSE__INIT;
                resp.balance = &coin;
                qvalue(r, &resp.base);
            }
        }
    }
    wchain__query_balance_request__free_unpacked(q, NULL);
}

static void q_all_balances(wctx *x, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
    Wchain__QueryAllBalancesRequest *q = wchain__query_all_balances_request__unpack(NULL, len, data);
    if (!q) {
        qfail(r, WICAS_CODE_TX_DECODE, "cannot decode QueryAllBalancesRequest");
        return;
    }
    uint8_t a[32];
    size_t al;
    if (decode_addr(r, q->address, a, &al)) {
        coin *c = NULL;
        size_t n = 0;
        if (bank_all(x, a, al, &c, &n)) {
            qfail(r, WICAS_CODE_INTERNAL, "%s", x->err);
        } else {
            /* pagination: key = the first denom to return, limit (default 100) */
            size_t first = 0, total = n;
            uint64_t limit = q->pagination && q->pagination->limit ? q->pagination->limit : 100;
            char start[128] = "", next_buf[128] = "";
            if (q->pagination && q->pagination->key.len) {
                size_t kl = q->pagination->key.len < sizeof start - 1 ? q->pagination->key.len : sizeof start - 1;
                memcpy(start, q->pagination->key.data, kl);
                start[kl] = 0;
                while (first < n && strcmp(c[first].denom, start) < 0) first++;
            }
            const char *next_denom = NULL;
            if (n - first > limit) {
                snprintf(next_buf, sizeof next_buf, "%s", c[first + limit].denom);
                next_denom = next_buf;
            }
            if (n > first) memmove(c, c + first, (n - first) * sizeof *c);
            n -= first;
            if (n > limit) n = (size_t)limit;
            Wchain__Coin *pc = calloc(n ? n : 1, sizeof *pc);
            Wchain__Coin **pp = calloc(n ? n : 1, sizeof *pp);
            char(*amts)[24] = calloc(n ? n : 1, 24);
            if (pc && pp && amts) {
                for (size_t i = 0; i < n; i++) {
                    wchain__coin__init(&pc[i]);
                    pc[i].denom = c[i].denom;
                    snprintf(amts[i], 24, "%" PRIu64, c[i].amount);
                    pc[i].amount = amts[i];
                    pp[i] = &pc[i];
                }
                Wchain__PageResponse page = WCHAIN__PAGE_RESPONSE__INIT;
                page.total = total;
                if (next_denom) {
                    page.next_key.data = (uint8_t *)next_buf;
                    page.next_key.len = strlen(next_buf);
                }
                Wchain__QueryAllBalancesResponse resp = WCHAIN__QUERY_ALL_BALANCES_RESPONSE__INIT;
                resp.balances = pp;
                resp.n_balances = n;
                resp.pagination = &page;
                qvalue(r, &resp.base);
            }
            free(pc);
            free(pp);
            free(amts);
            free(c);
        }
    }
    wchain__query_all_balances_request__free_unpacked(q, NULL);
}

static void q_simulate(wicas_chain *c, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
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
    wicas_chain_simulate(c, q->tx_bytes.data, q->tx_bytes.len, &tr);
    wchain__simulate_request__free_unpacked(q, NULL);
    if (tr.code) {
        qfail(r, tr.code, "%s", tr.log ? tr.log : "simulation failed");
        free(r->codespace);
        r->codespace = xstrdup(tr.codespace ? tr.codespace : WICAS_CHAIN_CODESPACE_SDK);
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
    for (size_t i = 0; i < tr.n_events; i++) n_attr += tr.events[i].n_attrs;
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

void chain_query(wicas_chain *c, const char *path, const uint8_t *data, size_t len, int64_t height, bool prove,
                 wicas_chain_query_result *r) {
    memset(r, 0, sizeof *r);
    if (!path) path = "";
    if (height < 0 || height > c->last_height) {
        qfail(r, WICAS_CODE_INVALID_REQUEST, "cannot query with height %lld: latest committed height is %lld",
              (long long)height, (long long)c->last_height);
        return;
    }
    if (height == 0) height = c->last_height;
    r->height = height;
    MDB_txn *t;
    if (mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &t)) {
        qfail(r, WICAS_CODE_INTERNAL, "cannot open a read transaction");
        return;
    }
    const char *sp = path[0] == '/' ? path + 1 : path;
    if (strcmp(sp, "store/" WICAS_CHAIN_STORE_NAME "/key") == 0) {
        store_query(c, t, height, data, len, prove, r);
        mdb_txn_abort(t);
        if (!r->log) r->log = xstrdup("");
        return;
    }
    if (strcmp(path, "/cosmos.tx.v1beta1.Service/Simulate") == 0) {
        mdb_txn_abort(t);
        q_simulate(c, data, len, r);
        if (!r->log) r->log = xstrdup("");
        return;
    }
    if (height != c->last_height) {
        mdb_txn_abort(t);
        qfail(r, WICAS_CODE_INVALID_REQUEST,
              "%s is answered at the latest height only (%lld); use store/main/key for older heights", path,
              (long long)c->last_height);
        return;
    }
    kv base;
    kv_init_base(&base, &c->st, t);
    wctx x;
    ctx_init(&x, c, &base, QUERY_GAS_LIMIT);
    x.query = true;
    c->blk_height = c->last_height;
    c->tx_index = -1;
    if (strcmp(path, "/cosmos.auth.v1beta1.Query/Account") == 0)
        q_account(&x, data, len, r);
    else if (strcmp(path, "/cosmos.bank.v1beta1.Query/Balance") == 0)
        q_balance(&x, data, len, r);
    else if (strcmp(path, "/cosmos.bank.v1beta1.Query/AllBalances") == 0)
        q_all_balances(&x, data, len, r);
    else if (strncmp(path, "/cosmwasm.wasm.v1.Query/", 24) == 0)
        wasm_query(c, &x, path + 24, data, len, r);
    else if (strcmp(path, "/wicas.ai.v1.Query/Models") == 0) {
        /* the model registry, as a JSON array of canonical entries */
        char *j = aimod_models_json(&x);
        if (j) {
            r->value = (uint8_t *)j;
            r->value_len = strlen(j);
        } else {
            qfail(r, WICAS_CODE_INTERNAL, "out of memory");
        }
    }
    else if (strcmp(path, "/wicas.ai.v1.Query/Request") == 0) {
        /* an asynchronous request and its outcome; data = the id in decimal */
        char ids[24];
        uint64_t id;
        bool found = false;
        char *j = NULL;
        if (len == 0 || len >= sizeof ids)
            qfail(r, WICAS_CODE_INVALID_REQUEST, "request id must be a decimal number: invalid request");
        else {
            memcpy(ids, data, len);
            ids[len] = 0;
            if (parse_u64(ids, &id)) qfail(r, WICAS_CODE_INVALID_REQUEST, "request id must be a decimal number: invalid request");
            else if (!(j = aiasync_query_request(&x, id, &found)) || !found)
                qfail(r, WICAS_CODE_KEY_NOT_FOUND, "asynchronous request %s not found: key not found", ids);
            else {
                r->value = (uint8_t *)j;
                r->value_len = strlen(j);
                j = NULL;
            }
        }
        free(j);
    }
    else if (strcmp(path, "/wicas.ai.v1.Query/Program") == 0) {
        /* a stored program (aimsg.c), as JSON */
        uint32_t code = 0;
        char e[256] = "";
        char *j = aiprog_program_json(&x, data, len, &code, e, sizeof e);
        if (j) {
            r->value = (uint8_t *)j;
            r->value_len = strlen(j);
        } else {
            qfail(r, code, "%s", e);
        }
    }
    else
        qfail(r, WICAS_CODE_UNKNOWN_REQUEST, "unknown query path '%s': unknown request", path);
    ctx_free(&x);
    mdb_txn_abort(t);
    if (!r->log) r->log = xstrdup("");
}
