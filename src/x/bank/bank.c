/*
 * bank.c — the bank module (x/bank): per-denom balances, coin transfers with
 * the events the Cosmos SDK v0.50 bank keeper emits (coin_spent,
 * coin_received, transfer, message{sender}), MsgSend, the Balance and
 * AllBalances queries, and genesis `bank.balances`.
 *
 * Balances are stored one key per (address, denom) holding a decimal amount,
 * so "all balances of X" is one prefix scan in denom order, and a raw store
 * proof of a balance is readable without protobuf.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "module.h"
#include "xauth.h"
#include "xbank.h"

/* ---- balances ------------------------------------------------------------------------- */

static size_t bal_key(const uint8_t *addr, size_t al, const char *denom, uint8_t *k) {
    size_t o = strlen(K_BAL);
    memcpy(k, K_BAL, o);
    k[o++] = (uint8_t)al;
    memcpy(k + o, addr, al);
    o += al;
    size_t dl = denom ? strlen(denom) : 0;
    if (dl) memcpy(k + o, denom, dl);
    return o + dl;
}

int wicas_bank_balance(wctx *x, const uint8_t *addr, size_t al, const char *denom, uint64_t *amount) {
    uint8_t k[200];
    uint8_t *v = NULL;
    size_t vl = 0;
    *amount = 0;
    if (strlen(denom) > 128) return 0;
    int rc = wicas_st_get(x, k, bal_key(addr, al, denom, k), &v, &vl);
    if (rc < 0) return -1;
    if (rc == 1 && wicas_parse_u64((char *)v, amount)) {
        free(v);
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "stored balance is corrupt");
    }
    free(v);
    return 0;
}

int wicas_bank_set_balance(wctx *x, const uint8_t *addr, size_t al, const char *denom, uint64_t amount) {
    uint8_t k[200];
    size_t kl = bal_key(addr, al, denom, k);
    if (amount == 0) return wicas_st_del(x, k, kl);
    char v[24];
    int n = snprintf(v, sizeof v, "%" PRIu64, amount);
    return wicas_st_set(x, k, kl, (uint8_t *)v, (size_t)n);
}

int wicas_bank_all(wctx *x, const uint8_t *addr, size_t al, coin **out, size_t *n) {
    uint8_t pre[64];
    size_t pl = bal_key(addr, al, NULL, pre);
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    uint8_t *cur = malloc(pl);
    if (!cur) return -1;
    memcpy(cur, pre, pl);
    size_t curl = pl;
    bool incl = true;
    for (;;) {
        uint8_t *k, *v;
        size_t kl, vl;
        int rc = wicas_st_next(x, cur, curl, incl, &k, &kl, &v, &vl);
        if (rc < 0) {
            free(cur);
            free(*out);
            return -1;
        }
        if (rc == 0 || kl < pl || memcmp(k, pre, pl) != 0) {
            if (rc == 1) {
                free(k);
                free(v);
            }
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            coin *nc = realloc(*out, cap * sizeof *nc);
            if (!nc) {
                free(k), free(v), free(cur), free(*out);
                return -1;
            }
            *out = nc;
        }
        coin *c = &(*out)[*n];
        size_t dl = kl - pl < sizeof c->denom - 1 ? kl - pl : sizeof c->denom - 1;
        memcpy(c->denom, k + pl, dl);
        c->denom[dl] = 0;
        if (wicas_parse_u64((char *)v, &c->amount) == 0) (*n)++;
        free(v);
        free(cur);
        cur = k;
        curl = kl;
        incl = false;
    }
    free(cur);
    return 0;
}

int wicas_bank_send(wctx *x, const uint8_t *from, size_t fl, const uint8_t *to, size_t tl, const coin *c,
                    size_t n) {
    char fs[100], ts[100];
    wicas_addr_str(from, fl, fs);
    wicas_addr_str(to, tl, ts);
    for (size_t i = 0; i < n; i++) {
        uint64_t have, theirs;
        if (wicas_bank_balance(x, from, fl, c[i].denom, &have)) return -1;
        if (have < c[i].amount)
            return wicas_ctx_fail(x, WICAS_CODE_INSUFFICIENT_FUNDS, WICAS_CHAIN_CODESPACE_SDK,
                                  "spendable balance %" PRIu64 "%s is smaller than %" PRIu64
                                  "%s: insufficient funds",
                                  have, c[i].denom, c[i].amount, c[i].denom);
        if (wicas_bank_set_balance(x, from, fl, c[i].denom, have - c[i].amount)) return -1;
        if (wicas_bank_balance(x, to, tl, c[i].denom, &theirs)) return -1;
        if (theirs > UINT64_MAX - c[i].amount)
            return wicas_ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK,
                                  "balance overflow for %s", c[i].denom);
        if (wicas_bank_set_balance(x, to, tl, c[i].denom, theirs + c[i].amount)) return -1;
    }
    /* the recipient account is created on first receipt, as in the SDK */
    if (wicas_acc_ensure(x, to, tl)) return -1;
    char *amt = coins_str(c, n);
    if (!amt) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    bool ok = wicas_ev_add(&x->ev, "coin_spent", "spender", fs, "amount", amt, NULL) &&
              wicas_ev_add(&x->ev, "coin_received", "receiver", ts, "amount", amt, NULL) &&
              wicas_ev_add(&x->ev, "transfer", "recipient", ts, "sender", fs, "amount", amt, NULL) &&
              wicas_ev_add(&x->ev, "message", "sender", fs, NULL);
    free(amt);
    return ok ? 0 : wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
}

int wicas_bank_msg_send(wctx *x, const Wchain__MsgSend *m) {
    uint8_t from[32], to[32];
    size_t fl, tl;
    if (wicas_chain_addr_decode(m->from_address, from, &fl))
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK,
                              "invalid from address '%s'", m->from_address);
    if (wicas_chain_addr_decode(m->to_address, to, &tl))
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK,
                              "invalid to address '%s'", m->to_address);
    coin *c = NULL;
    size_t n = 0;
    char err[200];
    if (wicas_coins_from_pb(m->amount, m->n_amount, &c, &n, err, sizeof err) || n == 0) {
        free(c);
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s",
                              n == 0 ? "amount is empty: invalid coins" : err);
    }
    int rc = wicas_bank_send(x, from, fl, to, tl, c, n);
    free(c);
    return rc;
}

/* ---- MsgSend ---------------------------------------------------------------------------- */

#define URL_SEND "/cosmos.bank.v1beta1.MsgSend"

/* ValidateBasic + GetSigners of MsgSend. */
static int send_signer(const char *url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                       char *err, size_t errlen) {
    Wchain__MsgSend *m = wchain__msg_send__unpack(NULL, len, val);
    if (!m) {
        *code = WICAS_CODE_TX_DECODE;
        return wicas_errf(err, errlen, "cannot decode %s: tx parse error", url);
    }
    *signer = wicas_xstrdup(m->from_address);
    uint8_t a[32];
    size_t al;
    coin *c = NULL;
    size_t n = 0;
    int rc = 0;
    if (wicas_chain_addr_decode(m->from_address, a, &al)) {
        *code = WICAS_CODE_INVALID_ADDRESS;
        rc = wicas_errf(err, errlen, "invalid from address '%s': invalid address", m->from_address);
    } else if (wicas_chain_addr_decode(m->to_address, a, &al)) {
        *code = WICAS_CODE_INVALID_ADDRESS;
        rc = wicas_errf(err, errlen, "invalid to address '%s': invalid address", m->to_address);
    } else if (wicas_coins_from_pb(m->amount, m->n_amount, &c, &n, err, errlen) || n == 0) {
        if (n == 0 && c == NULL) snprintf(err, errlen, "send amount is empty: invalid coins");
        *code = WICAS_CODE_INVALID_COINS;
        rc = -1;
    }
    free(c);
    wchain__msg_send__free_unpacked(m, NULL);
    if (rc) {
        free(*signer);
        *signer = NULL;
    }
    return rc;
}

static int send_handle(wctx *x, const char *url, const uint8_t *val, size_t len, uint8_t **resp,
                       size_t *resp_len) {
    (void)url;
    (void)resp;
    (void)resp_len; /* MsgSendResponse is empty */
    Wchain__MsgSend *ms = wchain__msg_send__unpack(NULL, len, val);
    if (!ms) return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgSend");
    int rc = wicas_bank_msg_send(x, ms);
    wchain__msg_send__free_unpacked(ms, NULL);
    return rc;
}

/* ---- genesis ------------------------------------------------------------------------- */

/* bank.balances: [{"address": "wicas1...", "coins": [{"denom", "amount"}]}];
 * an address gets an account (in file order) if it has none yet */
static int bank_genesis(wctx *x, const cJSON *bank, char *err, size_t errlen) {
    const cJSON *bals = cJSON_GetObjectItemCaseSensitive(bank, "balances");
    if (bals && !cJSON_IsArray(bals))
        return wicas_errf(err, errlen, "genesis bank.balances must be an array");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, bals) {
        char where[64];
        snprintf(where, sizeof where, "bank.balances[%zu]", i++);
        uint8_t a[32];
        size_t al;
        if (wicas_auth_genesis_account(x, cJSON_GetObjectItemCaseSensitive(it, "address"), where, a, &al, err,
                                       errlen))
            return -1;
        const cJSON *coins = cJSON_GetObjectItemCaseSensitive(it, "coins");
        if (!cJSON_IsArray(coins))
            return wicas_errf(err, errlen, "genesis %s: coins must be an array", where);
        const cJSON *cn;
        cJSON_ArrayForEach(cn, coins) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(cn, "denom");
            const cJSON *am = cJSON_GetObjectItemCaseSensitive(cn, "amount");
            uint64_t amount, have;
            if (!cJSON_IsString(d) || !denom_valid(d->valuestring) || !cJSON_IsString(am) ||
                wicas_parse_u64(am->valuestring, &amount))
                return wicas_errf(err, errlen,
                                  "genesis %s: each coin needs a valid denom and a decimal string amount",
                                  where);
            if (wicas_bank_balance(x, a, al, d->valuestring, &have) || have > UINT64_MAX - amount ||
                wicas_bank_set_balance(x, a, al, d->valuestring, have + amount))
                return wicas_errf(err, errlen, "genesis %s: cannot set balance: %s", where,
                                  x->err[0] ? x->err : "overflow");
        }
    }
    return 0;
}

/* ---- queries ------------------------------------------------------------------------- */

static void q_balance(wctx *x, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
    Wchain__QueryBalanceRequest *q = wchain__query_balance_request__unpack(NULL, len, data);
    if (!q) {
        wicas_query_fail(r, WICAS_CODE_TX_DECODE, NULL, "cannot decode QueryBalanceRequest");
        return;
    }
    uint8_t a[32];
    size_t al;
    if (wicas_query_addr(r, q->address, a, &al)) {
        if (!denom_valid(q->denom)) {
            wicas_query_fail(r, WICAS_CODE_INVALID_COINS, NULL, "invalid denom '%s'", q->denom);
        } else {
            uint64_t amt = 0;
            if (wicas_bank_balance(x, a, al, q->denom, &amt)) {
                wicas_query_fail(r, WICAS_CODE_INTERNAL, NULL, "%s", x->err);
            } else {
                char s[24];
                snprintf(s, sizeof s, "%" PRIu64, amt);
                Wchain__Coin coin = WCHAIN__COIN__INIT;
                coin.denom = q->denom;
                coin.amount = s;
                Wchain__QueryBalanceResponse resp = WCHAIN__QUERY_BALANCE_RESPONSE__INIT;
                resp.balance = &coin;
                wicas_query_value(r, &resp.base);
            }
        }
    }
    wchain__query_balance_request__free_unpacked(q, NULL);
}

static void q_all_balances(wctx *x, const uint8_t *data, size_t len, wicas_chain_query_result *r) {
    Wchain__QueryAllBalancesRequest *q = wchain__query_all_balances_request__unpack(NULL, len, data);
    if (!q) {
        wicas_query_fail(r, WICAS_CODE_TX_DECODE, NULL, "cannot decode QueryAllBalancesRequest");
        return;
    }
    uint8_t a[32];
    size_t al;
    if (wicas_query_addr(r, q->address, a, &al)) {
        coin *c = NULL;
        size_t n = 0;
        if (wicas_bank_all(x, a, al, &c, &n)) {
            wicas_query_fail(r, WICAS_CODE_INTERNAL, NULL, "%s", x->err);
        } else {
            /* pagination: key = the first denom to return, limit (default 100) */
            size_t first = 0, total = n;
            uint64_t limit = q->pagination && q->pagination->limit ? q->pagination->limit : 100;
            char start[128] = "", next_buf[128] = "";
            if (q->pagination && q->pagination->key.len) {
                size_t kl =
                    q->pagination->key.len < sizeof start - 1 ? q->pagination->key.len : sizeof start - 1;
                memcpy(start, q->pagination->key.data, kl);
                start[kl] = 0;
                while (first < n && strcmp(c[first].denom, start) < 0)
                    first++;
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
                wicas_query_value(r, &resp.base);
            }
            free(pc);
            free(pp);
            free(amts);
            free(c);
        }
    }
    wchain__query_all_balances_request__free_unpacked(q, NULL);
}

static void bank_query(wctx *x, const char *method, const char *path, const uint8_t *data, size_t len,
                       wicas_chain_query_result *r) {
    if (strcmp(method, "Balance") == 0)
        q_balance(x, data, len, r);
    else if (strcmp(method, "AllBalances") == 0)
        q_all_balances(x, data, len, r);
    else
        wicas_query_fail(r, WICAS_CODE_UNKNOWN_REQUEST, NULL, "unknown query path '%s': unknown request",
                         path);
}

static const wicas_msg_route bank_msgs[] = {
    {URL_SEND, &wchain__msg_send__descriptor, send_signer, send_handle},
};

const wicas_module wicas_module_bank = {
    .name = "bank",
    .msgs = bank_msgs,
    .n_msgs = sizeof bank_msgs / sizeof bank_msgs[0],
    .query_service = "/cosmos.bank.v1beta1.Query/",
    .query = bank_query,
    .genesis_init = bank_genesis,
};
