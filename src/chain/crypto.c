/*
 * crypto.c — the chain's key and address primitives: RIPEMD-160 (through
 * OpenSSL, whose 3.0.7+ default provider carries it again), Cosmos secp256k1
 * addresses (RIPEMD-160 of SHA-256 of the 33-byte compressed key), bech32
 * "wicas1..." encoding on top of common's wicas_bech32_*, and the library's
 * error strings. Signing and verification live in tx.c next to the SignDoc.
 */
#include <openssl/evp.h>
#include <secp256k1.h>
#include <string.h>

#include "chain.h"
#include "common.h"
#include "store.h"

const char *wicas_chain_strerror(int err) {
    switch (err) {
    case WICAS_CHAIN_OK:
        return "ok";
    case WICAS_CHAIN_ERR_INVALID:
        return "invalid argument or malformed input";
    case WICAS_CHAIN_ERR_IO:
        return "storage (LMDB) failure";
    case WICAS_CHAIN_ERR_CORRUPT:
        return "stored state is corrupt";
    case WICAS_CHAIN_ERR_STATE:
        return "call out of order";
    case WICAS_CHAIN_ERR_NOMEM:
        return "out of memory";
    case WICAS_CHAIN_ERR_NOT_FOUND:
        return "not found";
    case WICAS_CHAIN_ERR_PROOF:
        return "proof does not verify";
    case WICAS_CHAIN_ERR_CRYPTO:
        return "key or signature failure";
    default:
        return "unknown error";
    }
}

void wicas_chain_ripemd160(const void *data, size_t len, uint8_t out[20]) {
    unsigned int n = 0;
    EVP_MD *md = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    if (!md || !EVP_Digest(data, len, out, &n, md, NULL) || n != 20) memset(out, 0, 20);
    EVP_MD_free(md);
}

void wicas_chain_pubkey_address(const uint8_t pubkey33[33], uint8_t addr20[20]) {
    uint8_t h[32];
    wicas_sha256(pubkey33, 33, h);
    wicas_chain_ripemd160(h, 32, addr20);
}

secp256k1_context *wicas_wchain_secp(void);
secp256k1_context *wicas_wchain_secp(void) {
    /* Created once; libsecp256k1 contexts are read-only after creation. */
    static secp256k1_context *ctx;
    if (!ctx) ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    return ctx;
}

int wicas_chain_pubkey_from_secret(const uint8_t secret[32], uint8_t pubkey33[33]) {
    secp256k1_pubkey pk;
    size_t len = 33;
    if (!secp256k1_ec_seckey_verify(wicas_wchain_secp(), secret) ||
        !secp256k1_ec_pubkey_create(wicas_wchain_secp(), &pk, secret) ||
        !secp256k1_ec_pubkey_serialize(wicas_wchain_secp(), pubkey33, &len, &pk, SECP256K1_EC_COMPRESSED))
        return WICAS_CHAIN_ERR_CRYPTO;
    return 0;
}

int wicas_chain_addr_encode(const uint8_t *addr, size_t len, char *out, size_t cap) {
    if (!addr || (len != 20 && len != 32)) return WICAS_CHAIN_ERR_INVALID;
    return wicas_bech32_encode(WICAS_CHAIN_BECH32_PREFIX, addr, len, out, cap) ? WICAS_CHAIN_ERR_INVALID : 0;
}

int wicas_chain_addr_decode(const char *s, uint8_t addr[32], size_t *len) {
    char hrp[16];
    uint8_t data[WICAS_BECH32_MAX_DATA];
    size_t n = 0;
    if (!s || wicas_bech32_decode(s, hrp, sizeof hrp, data, sizeof data, &n)) return WICAS_CHAIN_ERR_INVALID;
    if (strcmp(hrp, WICAS_CHAIN_BECH32_PREFIX) != 0 || (n != 20 && n != 32)) return WICAS_CHAIN_ERR_INVALID;
    /* only the canonical lowercase spelling is an address key in the state */
    for (const char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z') return WICAS_CHAIN_ERR_INVALID;
    memcpy(addr, data, n);
    *len = n;
    return 0;
}

int wicas_chain_verify_proof(const uint8_t app_hash[32], const uint8_t *key, size_t key_len,
                             const uint8_t *value, size_t value_len, const uint8_t *proof, size_t proof_len) {
    if (!app_hash || (!key && key_len)) return WICAS_CHAIN_ERR_INVALID;
    return wicas_smt_verify(app_hash, key, key_len, value, value_len, proof, proof_len);
}

void wicas_chain_tx_hash_hex(const uint8_t *tx, size_t len, char out[65]) {
    uint8_t h[32];
    wicas_sha256(tx, len, h);
    wicas_hex_encode(h, 32, out);
    for (int i = 0; i < 64; i++)
        if (out[i] >= 'a' && out[i] <= 'f') out[i] = (char)(out[i] - 'a' + 'A');
}
