/*
 * bank.c — accounts (x/auth) and balances (x/bank): account records with
 * number and sequence, per-denom balances, coin transfers with the events the
 * Cosmos SDK v0.50 bank keeper emits (coin_spent, coin_received, transfer,
 * message{sender}), and the MsgSend handler.
 *
 * Balances are stored one key per (address, denom) holding a decimal amount,
 * so "all balances of X" is one prefix scan in denom order, and a raw store
 * proof of a balance is readable without protobuf.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"

/* ---- accounts ------------------------------------------------------------------------ */

static size_t acc_key(const uint8_t *addr, size_t al, uint8_t *k) {
    memcpy(k, K_ACC, 4);
    memcpy(k + 4, addr, al);
    return 4 + al;
}

int acc_get(wctx *x, const uint8_t *addr, size_t al, Wchain__BaseAccount **out) {
    uint8_t k[40];
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = st_get(x, k, acc_key(addr, al, k), &v, &vl);
    if (rc != 1) return rc;
    *out = wchain__base_account__unpack(NULL, vl, v);
    free(v);
    if (!*out) return ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "stored account is corrupt");
    return 1;
}

int acc_set(wctx *x, const uint8_t *addr, size_t al, const Wchain__BaseAccount *a) {
    uint8_t k[40];
    size_t n = wchain__base_account__get_packed_size(a);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    wchain__base_account__pack(a, buf);
    int rc = st_set(x, k, acc_key(addr, al, k), buf, n);
    free(buf);
    return rc;
}

int acc_ensure(wctx *x, const uint8_t *addr, size_t al) {
    Wchain__BaseAccount *a = NULL;
    int rc = acc_get(x, addr, al, &a);
    if (rc < 0) return -1;
    if (rc == 1) {
        wchain__base_account__free_unpacked(a, NULL);
        return 0;
    }
    uint8_t *v = NULL;
    size_t vl = 0;
    uint64_t num = 0;
    rc = st_get(x, (const uint8_t *)K_NEXT_ACC, strlen(K_NEXT_ACC), &v, &vl);
    if (rc < 0) return -1;
    if (rc == 1 && vl == 8) num = be64_get(v);
    free(v);
    uint8_t nb[8];
    be64_put(nb, num + 1);
    if (st_set(x, (const uint8_t *)K_NEXT_ACC, strlen(K_NEXT_ACC), nb, 8)) return -1;
    char s[100];
    addr_str(addr, al, s);
    Wchain__BaseAccount na = WCHAIN__BASE_ACCOUNT__INIT;
    na.address = s;
    na.account_number = num;
    return acc_set(x, addr, al, &na);
}

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

int bank_balance(wctx *x, const uint8_t *addr, size_t al, const char *denom, uint64_t *amount) {
    uint8_t k[200];
    uint8_t *v = NULL;
    size_t vl = 0;
    *amount = 0;
    if (strlen(denom) > 128) return 0;
    int rc = st_get(x, k, bal_key(addr, al, denom, k), &v, &vl);
    if (rc < 0) return -1;
    if (rc == 1 && parse_u64((char *)v, amount)) {
        free(v);
        return ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "stored balance is corrupt");
    }
    free(v);
    return 0;
}

int bank_set_balance(wctx *x, const uint8_t *addr, size_t al, const char *denom, uint64_t amount) {
    uint8_t k[200];
    size_t kl = bal_key(addr, al, denom, k);
    if (amount == 0) return st_del(x, k, kl);
    char v[24];
    int n = snprintf(v, sizeof v, "%" PRIu64, amount);
    return st_set(x, k, kl, (uint8_t *)v, (size_t)n);
}

int bank_all(wctx *x, const uint8_t *addr, size_t al, coin **out, size_t *n) {
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
        int rc = st_next(x, cur, curl, incl, &k, &kl, &v, &vl);
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
        if (parse_u64((char *)v, &c->amount) == 0) (*n)++;
        free(v);
        free(cur);
        cur = k;
        curl = kl;
        incl = false;
    }
    free(cur);
    return 0;
}

int bank_send(wctx *x, const uint8_t *from, size_t fl, const uint8_t *to, size_t tl, const coin *c, size_t n) {
    char fs[100], ts[100];
    addr_str(from, fl, fs);
    addr_str(to, tl, ts);
    for (size_t i = 0; i < n; i++) {
        uint64_t have, theirs;
        if (bank_balance(x, from, fl, c[i].denom, &have)) return -1;
        if (have < c[i].amount)
            return ctx_fail(x, WICAS_CODE_INSUFFICIENT_FUNDS, WICAS_CHAIN_CODESPACE_SDK,
                            "spendable balance %" PRIu64 "%s is smaller than %" PRIu64 "%s: insufficient funds", have,
                            c[i].denom, c[i].amount, c[i].denom);
        if (bank_set_balance(x, from, fl, c[i].denom, have - c[i].amount)) return -1;
        if (bank_balance(x, to, tl, c[i].denom, &theirs)) return -1;
        if (theirs > UINT64_MAX - c[i].amount)
            return ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "balance overflow for %s",
                            c[i].denom);
        if (bank_set_balance(x, to, tl, c[i].denom, theirs + c[i].amount)) return -1;
    }
    /* the recipient account is created on first receipt, as in the SDK */
    if (acc_ensure(x, to, tl)) return -1;
    char *amt = coins_str(c, n);
    if (!amt) return ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    bool ok = ev_add(&x->ev, "coin_spent", "spender", fs, "amount", amt, NULL) &&
              ev_add(&x->ev, "coin_received", "receiver", ts, "amount", amt, NULL) &&
              ev_add(&x->ev, "transfer", "recipient", ts, "sender", fs, "amount", amt, NULL) &&
              ev_add(&x->ev, "message", "sender", fs, NULL);
    free(amt);
    return ok ? 0 : ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
}

int bank_msg_send(wctx *x, const Wchain__MsgSend *m) {
    uint8_t from[32], to[32];
    size_t fl, tl;
    if (wicas_chain_addr_decode(m->from_address, from, &fl))
        return ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK, "invalid from address '%s'",
                        m->from_address);
    if (wicas_chain_addr_decode(m->to_address, to, &tl))
        return ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK, "invalid to address '%s'",
                        m->to_address);
    coin *c = NULL;
    size_t n = 0;
    char err[200];
    if (coins_from_pb(m->amount, m->n_amount, &c, &n, err, sizeof err) || n == 0) {
        free(c);
        return ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s",
                        n == 0 ? "amount is empty: invalid coins" : err);
    }
    int rc = bank_send(x, from, fl, to, tl, c, n);
    free(c);
    return rc;
}
