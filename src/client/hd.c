/*
 * hd.c — BIP-39 mnemonics and BIP-32 hierarchical deterministic keys (client
 * side only), so that a mnemonic made by Keplr, CosmJS or a Cosmos SDK chain
 * (`wasmd keys add`) recovers to the same secp256k1 secret, hence the same
 * 20-byte address, in `wicasd keys add --recover` (the Cosmos path
 * m/44'/118'/0'/0/0; only the bech32 prefix differs: wicas instead of cosmos).
 *
 * BIP-39: a mnemonic of 12/15/18/21/24 words from the English list
 * (bip39_english.c) encodes 128..256 bits of entropy plus the first
 * ENT/32 bits of SHA-256(entropy) as a checksum, 11 bits per word. The seed
 * is PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" || passphrase, 2048 rounds,
 * 64 bytes) (OpenSSL). BIP-39 asks for NFKD normalisation of both strings; we
 * do not carry a Unicode table: input must be ASCII (for the English list
 * and an ASCII passphrase NFKD is the identity), anything else is refused
 * with an error rather than silently giving a different seed. The mnemonic is
 * canonicalised first: words are split on ASCII whitespace, upper-case
 * letters are lowered and the words are joined by one space (what CosmJS and
 * Keplr do); the checksum is verified before any seed is made.
 *
 * BIP-32: the master key is HMAC-SHA512("Bitcoin seed", seed) (left half:
 * secret, right half: chain code); child i is HMAC-SHA512(chain code,
 * 0x00 || secret || i) for hardened i (>= 2^31) or (compressed pubkey || i)
 * otherwise, the left half added to the parent secret mod n with
 * libsecp256k1's secp256k1_ec_seckey_tweak_add (which also rejects a left
 * half >= n or a zero result: BIP-32's "invalid key" case, an error here,
 * probability about 2^-127). Paths are "m" followed by "/N" or "/N'" (also
 * "h"/"H" for hardened), N < 2^31, at most WICAS_HD_MAX_DEPTH levels.
 *
 * New mnemonics take their entropy from OpenSSL's RAND_bytes. Secrets and
 * seeds on the stack are wiped with OPENSSL_cleanse before returning. Nothing
 * here is used by the node.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "common.h"

static int herr(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int herr(char *err, size_t errlen, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wicas_verrf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Index of word w (NUL-terminated, lower-case) in the sorted list, or -1. */
static int word_index(const char *w) {
    int lo = 0, hi = 2047;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(w, wicas_bip39_english[mid]);
        if (c == 0) return mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

static bool words_ok(size_t n) {
    return n >= 12 && n <= 24 && n % 3 == 0;
}

/* Writes the 11-bit value v at bit position pos (big-endian bit order). */
static void put11(uint8_t *buf, size_t pos, unsigned v) {
    for (int b = 10; b >= 0; b--, pos++)
        if ((v >> b) & 1) buf[pos / 8] |= (uint8_t)(0x80u >> (pos % 8));
}

static unsigned get11(const uint8_t *buf, size_t pos) {
    unsigned v = 0;
    for (int b = 0; b < 11; b++, pos++)
        v = (v << 1) | ((buf[pos / 8] >> (7 - pos % 8)) & 1u);
    return v;
}

int wicas_bip39_normalize(const char *mnemonic, char *out, size_t cap, uint8_t entropy[32],
                          size_t *entropy_len, char *err, size_t errlen) {
    if (!mnemonic) return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "no mnemonic");
    uint8_t bits[33];
    memset(bits, 0, sizeof bits);
    char canon[WICAS_BIP39_MAX_LEN];
    size_t n = 0, clen = 0;
    int rc = 0;
    const unsigned char *p = (const unsigned char *)mnemonic;
    for (;;) {
        while (is_space(*p))
            p++;
        if (!*p) break;
        char w[16];
        size_t wl = 0;
        bool bad = false, cut = false;
        for (; *p && !is_space(*p); p++) {
            unsigned char c = *p;
            if (c >= 0x80) {
                rc =
                    herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                         "word %zu: non-ASCII characters are not accepted (only the BIP-39 English wordlist, "
                         "no NFKD normalisation)",
                         n + 1);
                goto done;
            }
            if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
            if (c < 'a' || c > 'z') bad = true;
            if (c < 0x21 || c > 0x7e) c = '?'; /* the word is echoed in the error */
            if (wl < sizeof w - 1)
                w[wl++] = (char)c;
            else
                cut = bad = true;
        }
        w[wl] = 0;
        if (++n > 24) continue; /* only counted: the word count error follows */
        int idx = bad ? -1 : word_index(w);
        if (idx < 0) {
            rc = herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                      "word %zu ('%s%s') is not in the BIP-39 English wordlist", n, w, cut ? "..." : "");
            goto done;
        }
        put11(bits, (n - 1) * 11, (unsigned)idx);
        size_t l = strlen(w);
        if (clen + l + 2 > sizeof canon) {
            rc = herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "mnemonic too long");
            goto done;
        }
        if (clen) canon[clen++] = ' ';
        memcpy(canon + clen, w, l);
        clen += l;
    }
    canon[clen] = 0;
    if (!words_ok(n)) {
        rc = herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "a mnemonic has 12, 15, 18, 21 or 24 words; got %zu",
                  n);
        goto done;
    }
    size_t ent_bits = n * 32 / 3, cs_bits = n / 3, ent = ent_bits / 8;
    uint8_t h[32];
    wicas_sha256(bits, ent, h);
    unsigned want = (unsigned)(h[0] >> (8 - cs_bits)), got = 0;
    for (size_t b = 0; b < cs_bits; b++) {
        size_t pos = ent_bits + b;
        got = (got << 1) | ((bits[pos / 8] >> (7 - pos % 8)) & 1u);
    }
    if (got != want) {
        rc = herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                  "invalid mnemonic checksum (a word is wrong, missing or out of order)");
    } else if (out && clen + 1 > cap) {
        rc = herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "mnemonic buffer too small");
    } else {
        if (out) memcpy(out, canon, clen + 1);
        if (entropy) memcpy(entropy, bits, ent);
        if (entropy_len) *entropy_len = ent;
    }
done:
    OPENSSL_cleanse(bits, sizeof bits);
    OPENSSL_cleanse(canon, sizeof canon);
    return rc;
}

int wicas_bip39_from_entropy(const uint8_t *entropy, size_t len, char *out, size_t cap, char *err,
                             size_t errlen) {
    if (!entropy || len < 16 || len > 32 || len % 4)
        return herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                    "BIP-39 entropy must be 16, 20, 24, 28 or 32 bytes");
    uint8_t bits[33], h[32];
    memset(bits, 0, sizeof bits);
    memcpy(bits, entropy, len);
    wicas_sha256(entropy, len, h);
    bits[len] = h[0]; /* the checksum is the first len/4 bits of h: the rest is ignored */
    size_t n = (len * 8 + len / 4) / 11, ol = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *w = wicas_bip39_english[get11(bits, i * 11)];
        size_t l = strlen(w);
        if (ol + (i ? 1 : 0) + l + 1 > cap) {
            rc = herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "mnemonic buffer too small");
            break;
        }
        if (i) out[ol++] = ' ';
        memcpy(out + ol, w, l);
        ol += l;
    }
    if (!rc)
        out[ol] = 0;
    else if (cap)
        out[0] = 0;
    OPENSSL_cleanse(bits, sizeof bits);
    OPENSSL_cleanse(h, sizeof h);
    return rc;
}

int wicas_bip39_generate(size_t words, char *out, size_t cap, char *err, size_t errlen) {
    if (!words_ok(words))
        return herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                    "a mnemonic has 12, 15, 18, 21 or 24 words, not %zu", words);
    uint8_t ent[32];
    size_t len = words * 4 / 3;
    if (RAND_bytes(ent, (int)len) != 1)
        return herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "no randomness from OpenSSL's RAND_bytes");
    int rc = wicas_bip39_from_entropy(ent, len, out, cap, err, errlen);
    OPENSSL_cleanse(ent, sizeof ent);
    return rc;
}

int wicas_bip39_seed(const char *mnemonic, const char *passphrase, uint8_t seed[64], char *err,
                     size_t errlen) {
    char canon[WICAS_BIP39_MAX_LEN];
    int rc = wicas_bip39_normalize(mnemonic, canon, sizeof canon, NULL, NULL, err, errlen);
    if (rc) return rc;
    if (!passphrase) passphrase = "";
    size_t pl = strlen(passphrase);
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)passphrase[i] >= 0x80) {
            OPENSSL_cleanse(canon, sizeof canon);
            return herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                        "the BIP-39 passphrase must be ASCII (no NFKD normalisation is done)");
        }
    if (pl > 1024) {
        OPENSSL_cleanse(canon, sizeof canon);
        return herr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                    "the BIP-39 passphrase is too long (max 1024 bytes)");
    }
    char salt[8 + 1024 + 1];
    memcpy(salt, "mnemonic", 8);
    memcpy(salt + 8, passphrase, pl);
    int ok = PKCS5_PBKDF2_HMAC(canon, (int)strlen(canon), (const unsigned char *)salt, (int)(8 + pl), 2048,
                               EVP_sha512(), 64, seed);
    OPENSSL_cleanse(canon, sizeof canon);
    OPENSSL_cleanse(salt, sizeof salt);
    return ok == 1 ? 0 : herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "PBKDF2-HMAC-SHA512 failed");
}

/* ---- BIP-32 --------------------------------------------------------------------- */

static int hmac512(const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen, uint8_t out[64]) {
    unsigned int ol = 0;
    return HMAC(EVP_sha512(), key, (int)klen, data, dlen, out, &ol) && ol == 64 ? 0 : -1;
}

int wicas_hd_master(const uint8_t *seed, size_t seed_len, wicas_hd_key *out, char *err, size_t errlen) {
    if (!seed || seed_len < 16 || seed_len > 64)
        return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "a BIP-32 seed is 16..64 bytes");
    uint8_t I[64];
    if (hmac512((const uint8_t *)"Bitcoin seed", 12, seed, seed_len, I))
        return herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "HMAC-SHA512 failed");
    int rc = 0;
    if (!secp256k1_ec_seckey_verify(secp256k1_context_static, I)) {
        rc = herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "this seed gives an invalid BIP-32 master key");
    } else {
        memset(out, 0, sizeof *out);
        memcpy(out->secret, I, 32);
        memcpy(out->chain_code, I + 32, 32);
    }
    OPENSSL_cleanse(I, sizeof I);
    return rc;
}

int wicas_hd_child(const wicas_hd_key *parent, uint32_t index, wicas_hd_key *out, char *err, size_t errlen) {
    if (parent->depth == 255)
        return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "BIP-32 depth limit (255) reached");
    uint8_t data[37], pk[33], I[64], fp[20];
    if (wicas_chain_pubkey_from_secret(parent->secret, pk))
        return herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "invalid BIP-32 parent key");
    if (index & WICAS_HD_HARDENED) {
        data[0] = 0;
        memcpy(data + 1, parent->secret, 32);
    } else {
        memcpy(data, pk, 33);
    }
    data[33] = (uint8_t)(index >> 24), data[34] = (uint8_t)(index >> 16);
    data[35] = (uint8_t)(index >> 8), data[36] = (uint8_t)index;
    int rc = 0;
    wicas_hd_key k;
    memcpy(k.secret, parent->secret, 32);
    if (hmac512(parent->chain_code, 32, data, sizeof data, I)) {
        rc = herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "HMAC-SHA512 failed");
    } else if (!secp256k1_ec_seckey_tweak_add(secp256k1_context_static, k.secret, I)) {
        /* I_L >= n or a zero key: BIP-32 says to skip this index. */
        rc = herr(err, errlen, WICAS_CHAIN_ERR_CRYPTO,
                  "BIP-32 child %u%s is an invalid key; use another index", index & ~WICAS_HD_HARDENED,
                  index & WICAS_HD_HARDENED ? "'" : "");
    } else {
        memcpy(k.chain_code, I + 32, 32);
        k.depth = (uint8_t)(parent->depth + 1);
        k.child_number = index;
        wicas_chain_pubkey_address(pk, fp); /* HASH160(parent pubkey) */
        memcpy(k.parent_fingerprint, fp, 4);
        *out = k;
    }
    OPENSSL_cleanse(data, sizeof data);
    OPENSSL_cleanse(I, sizeof I);
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

int wicas_hd_parse_path(const char *path, uint32_t *out, size_t cap, size_t *n, char *err, size_t errlen) {
    *n = 0;
    if (!path || path[0] != 'm' || (path[1] != 0 && path[1] != '/'))
        return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "HD path '%s' must start with \"m/\" (e.g. %s)",
                    path ? path : "", WICAS_HD_PATH_COSMOS);
    const char *p = path + 1;
    while (*p) {
        p++; /* the '/' */
        if (*p < '0' || *p > '9')
            return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "HD path '%s': level %zu is not a number", path,
                        *n + 1);
        uint64_t v = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v >= WICAS_HD_HARDENED)
                return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "HD path '%s': level %zu is >= 2^31", path,
                            *n + 1);
        }
        if (*p == '\'' || *p == 'h' || *p == 'H') v |= WICAS_HD_HARDENED, p++;
        if (*p && *p != '/')
            return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "HD path '%s': unexpected '%c' at level %zu",
                        path, *p, *n + 1);
        if (*n == cap || *n == WICAS_HD_MAX_DEPTH)
            return herr(err, errlen, WICAS_CHAIN_ERR_INVALID, "HD path '%s' is deeper than %d levels", path,
                        WICAS_HD_MAX_DEPTH);
        out[(*n)++] = (uint32_t)v;
    }
    return 0;
}

int wicas_hd_derive(const uint8_t *seed, size_t seed_len, const char *path, wicas_hd_key *out, char *err,
                    size_t errlen) {
    uint32_t idx[WICAS_HD_MAX_DEPTH];
    size_t n;
    int rc = wicas_hd_parse_path(path, idx, WICAS_HD_MAX_DEPTH, &n, err, errlen);
    if (rc) return rc;
    wicas_hd_key k;
    rc = wicas_hd_master(seed, seed_len, &k, err, errlen);
    for (size_t i = 0; i < n && !rc; i++)
        rc = wicas_hd_child(&k, idx[i], &k, err, errlen);
    if (!rc) *out = k;
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

int wicas_hd_secret_from_mnemonic(const char *mnemonic, const char *passphrase, const char *path,
                                  uint8_t secret[32], char *err, size_t errlen) {
    uint8_t seed[64];
    uint32_t idx[WICAS_HD_MAX_DEPTH];
    size_t n;
    int rc =
        wicas_hd_parse_path(path ? path : WICAS_HD_PATH_COSMOS, idx, WICAS_HD_MAX_DEPTH, &n, err, errlen);
    if (!rc) rc = wicas_bip39_seed(mnemonic, passphrase, seed, err, errlen);
    if (rc) return rc;
    wicas_hd_key k;
    rc = wicas_hd_derive(seed, 64, path ? path : WICAS_HD_PATH_COSMOS, &k, err, errlen);
    if (!rc) memcpy(secret, k.secret, 32);
    OPENSSL_cleanse(seed, sizeof seed);
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}
