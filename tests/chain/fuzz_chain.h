/*
 * fuzz_chain.h — the chain fixture the chain-facing fuzz targets share
 * (fuzz_tx, fuzz_abci, fuzz_vote_ext, fuzz_snapshot): a real chain in a
 * temporary directory with chain id "fuzz", two funded accounts (alice,
 * bob) and two genesis validators whose ed25519 keys the harness holds, so
 * it can sign vote extensions; signed transactions built with the chain's
 * own builder (wicas_chain_tx_build_sign). Include after fuzz_main.h.
 */
#ifndef WICAS_FUZZ_CHAIN_H
#define WICAS_FUZZ_CHAIN_H

#include <openssl/evp.h>

#include "chain.h"
#include "client.h"
#include "common.h"

#define FZC_CHAIN_ID "fuzz"
#define FZC_NV 2

static uint8_t fzc_alice_sk[32], fzc_bob_sk[32];
static char fzc_alice[100], fzc_bob[100];
static EVP_PKEY *fzc_vkey[FZC_NV];
static uint8_t fzc_vpub[FZC_NV][32], fzc_vaddr[FZC_NV][20];

static inline void fzc_addr(const uint8_t sk[32], char out[100]) {
    uint8_t pk[33], a[20];
    if (wicas_chain_pubkey_from_secret(sk, pk)) abort();
    wicas_chain_pubkey_address(pk, a);
    if (wicas_chain_addr_encode(a, 20, out, 100)) abort();
}

static inline void fzc_keys(void) {
    if (fzc_alice[0]) return;
    for (int i = 0; i < 32; i++)
        fzc_alice_sk[i] = (uint8_t)(i + 1), fzc_bob_sk[i] = (uint8_t)(0x40 + i);
    fzc_addr(fzc_alice_sk, fzc_alice);
    fzc_addr(fzc_bob_sk, fzc_bob);
    for (int v = 0; v < FZC_NV; v++) {
        uint8_t seed[32];
        memset(seed, 0x50 + v, 32);
        fzc_vkey[v] = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
        size_t pl = 32;
        if (!fzc_vkey[v] || EVP_PKEY_get_raw_public_key(fzc_vkey[v], fzc_vpub[v], &pl) != 1) abort();
        uint8_t h[32];
        wicas_sha256(fzc_vpub[v], 32, h);
        memcpy(fzc_vaddr[v], h, 20);
    }
}

/* Opens a chain in dir with options o (may be NULL) and runs InitChain:
 * alice and bob funded, FZC_NV validators of power 10. */
static inline wicas_chain *fzc_open(const char *dir, const wicas_chain_options *o) {
    fzc_keys();
    wicas_chain_options d = {.no_sync = true, .map_size = 64u << 20};
    if (o) d = *o;
    wicas_chain *c;
    char err[256], g[1024];
    if (wicas_chain_open(dir, &d, &c, err, sizeof err)) {
        fprintf(stderr, "open %s: %s\n", dir, err);
        abort();
    }
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000000\"}]},"
             "{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":\"5000\"},{\"denom\":\"zzz\","
             "\"amount\":\"7\"}]}]}}",
             fzc_alice, fzc_bob);
    wicas_chain_validator vals[FZC_NV];
    for (int v = 0; v < FZC_NV; v++) {
        memcpy(vals[v].pub_key, fzc_vpub[v], 32);
        vals[v].power = 10;
    }
    uint8_t h[32];
    if (wicas_chain_init_chain_validators(c, FZC_CHAIN_ID, 1, g, strlen(g), vals, FZC_NV, h, err,
                                          sizeof err)) {
        fprintf(stderr, "init_chain: %s\n", err);
        abort();
    }
    return c;
}

/* Runs and commits block `height` with txs (may be 0). */
static inline void fzc_block(wicas_chain *c, int64_t height, const uint8_t *const *txs, const size_t *lens,
                             size_t n) {
    wicas_chain_block b = {
        .height = height, .time_seconds = 1700000000 + height, .txs = txs, .tx_lens = lens, .n_txs = n};
    memset(b.hash, (int)height, 32);
    wicas_chain_tx_result res[8];
    if (n > 8) abort();
    wicas_chain_event *ev = NULL;
    size_t nev = 0;
    uint8_t h[32];
    char err[512];
    if (wicas_chain_finalize_block(c, &b, res, &ev, &nev, h, err, sizeof err)) {
        fprintf(stderr, "finalize %lld: %s\n", (long long)height, err);
        abort();
    }
    for (size_t i = 0; i < n; i++)
        wicas_chain_tx_result_free(&res[i]);
    wicas_chain_events_free(ev, nev);
    if (wicas_chain_commit(c, NULL)) abort();
}

/* A signed tx of one message by sk (malloc'd, *len). */
static inline uint8_t *fzc_sign(const uint8_t sk[32], uint64_t acc, uint64_t seq, wicas_chain_any *m,
                                const char *memo, size_t *len) {
    wicas_chain_tx_params p = {.chain_id = FZC_CHAIN_ID,
                               .account_number = acc,
                               .sequence = seq,
                               .gas_limit = 200000,
                               .fee = "200uwicas",
                               .memo = memo};
    uint8_t *tx;
    char err[256];
    if (wicas_chain_tx_build_sign(sk, NULL, &p, m, 1, &tx, len, err, sizeof err)) {
        fprintf(stderr, "tx_build_sign: %s\n", err);
        abort();
    }
    wicas_chain_any_free(m);
    return tx;
}

/* alice -> bob, amount, signed with sequence seq. */
static inline uint8_t *fzc_send_tx(uint64_t seq, const char *amount, size_t *len) {
    wicas_chain_any m;
    char err[256];
    if (wicas_chain_msg_send(fzc_alice, fzc_bob, amount, &m, err, sizeof err)) abort();
    return fzc_sign(fzc_alice_sk, 0, seq, &m, "", len);
}

/* CometBFT's vote-extension sign bytes (uvarint length || CanonicalVoteExtension
 * {1 extension, 2 sfixed64 height, 3 sfixed64 round, 4 chain_id}), written here
 * independently of aiasync.c; signed with validator v's key into sig. */
static inline void fzc_sign_ext(int v, const uint8_t *ext, size_t el, int64_t h, int64_t round,
                                uint8_t sig[64]) {
    size_t cap = el + 64;
    uint8_t *m = malloc(cap), *out = malloc(cap + 10);
    if (!m || !out) abort();
    size_t n = 0;
    if (el) {
        m[n++] = 0x0a;
        size_t x = el;
        while (x >= 0x80)
            m[n++] = (uint8_t)(x | 0x80), x >>= 7;
        m[n++] = (uint8_t)x;
        memcpy(m + n, ext, el), n += el;
    }
    if (h) {
        m[n++] = 0x11;
        for (int i = 0; i < 8; i++)
            m[n++] = (uint8_t)((uint64_t)h >> (8 * i));
    }
    if (round) {
        m[n++] = 0x19;
        for (int i = 0; i < 8; i++)
            m[n++] = (uint8_t)((uint64_t)round >> (8 * i));
    }
    m[n++] = 0x22, m[n++] = (uint8_t)strlen(FZC_CHAIN_ID);
    memcpy(m + n, FZC_CHAIN_ID, strlen(FZC_CHAIN_ID)), n += strlen(FZC_CHAIN_ID);
    size_t o = 0, x = n;
    while (x >= 0x80)
        out[o++] = (uint8_t)(x | 0x80), x >>= 7;
    out[o++] = (uint8_t)x;
    memcpy(out + o, m, n);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t sl = 64;
    if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, fzc_vkey[v]) != 1 ||
        EVP_DigestSign(md, sig, &sl, out, o + n) != 1)
        abort();
    EVP_MD_CTX_free(md);
    free(m);
    free(out);
}

#endif
