/*
 * chacha.c — the ChaCha20 block function (RFC 8439, section 2.3) used as the
 * sandbox's random_get stream: key = the request's 32-byte seed, a fixed
 * nonce that separates this stream from other uses of the same seed, and a
 * block counter from 0. The same seed gives the same bytes on every machine,
 * and random_get calls of any sizes read one continuous stream.
 */
#include "wasi_internal.h"

#include <string.h>

static uint32_t rotl(uint32_t v, int n) {
    return (v << n) | (v >> (32 - n));
}

/* The quarter round mixes four words: add, xor, rotate by 16, 12, 8, 7. */
#define QR(a, b, c, d)                                                                                       \
    do {                                                                                                     \
        a += b;                                                                                              \
        d ^= a;                                                                                              \
        d = rotl(d, 16);                                                                                     \
        c += d;                                                                                              \
        b ^= c;                                                                                              \
        b = rotl(b, 12);                                                                                     \
        a += b;                                                                                              \
        d ^= a;                                                                                              \
        d = rotl(d, 8);                                                                                      \
        c += d;                                                                                              \
        b ^= c;                                                                                              \
        b = rotl(b, 7);                                                                                      \
    } while (0)

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One 64-byte block: state = constants | key | counter | nonce, 20 rounds
 * (10 column + diagonal double rounds), then the input added back. */
static void block(const wasi_chacha *c, uint8_t out[64]) {
    uint32_t s[16], x[16];
    s[0] = 0x61707865;
    s[1] = 0x3320646e;
    s[2] = 0x79622d32;
    s[3] = 0x6b206574; /* "expand 32-byte k" */
    for (int i = 0; i < 8; i++)
        s[4 + i] = c->key[i];
    s[12] = c->counter;
    s[13] = c->nonce[0];
    s[14] = c->nonce[1];
    s[15] = c->nonce[2];
    memcpy(x, s, sizeof x);
    for (int r = 0; r < 10; r++) {
        /* a double round: columns, then diagonals */
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        wr32(out + 4 * i, x[i] + s[i]);
}

void wicas_wasi_chacha_init(wasi_chacha *c, const uint8_t key[32], const uint8_t nonce[12]) {
    for (int i = 0; i < 8; i++)
        c->key[i] = le32(key + 4 * i);
    for (int i = 0; i < 3; i++)
        c->nonce[i] = le32(nonce + 4 * i);
    c->counter = 0;
    c->used = 64;
}

void wicas_wasi_chacha_fill(wasi_chacha *c, uint8_t *out, size_t n) {
    while (n > 0) {
        if (c->used == 64) {
            block(c, c->block);
            c->counter++; /* 2^32 blocks = 256 GiB per run: far beyond any memory limit */
            c->used = 0;
        }
        size_t k = 64 - c->used;
        if (k > n) k = n;
        memcpy(out, c->block + c->used, k);
        c->used += (unsigned)k;
        out += k;
        n -= k;
    }
}
