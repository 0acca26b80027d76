/*
 * chacha.c — the sandbox's random_get stream: the engine's ChaCha20 block
 * function (RFC 8439, section 2.3; wicas_chacha20_block in infer.h) with
 * key = the request's 32-byte seed, a fixed nonce that separates this stream
 * from other uses of the same seed, and a block counter from 0. The same seed gives the same bytes on every
 * machine, and random_get calls of any sizes read one continuous stream.
 */
#include "infer.h"
#include "wasi_internal.h"

#include <string.h>

void wicas_wasi_chacha_init(wasi_chacha *c, const uint8_t key[32], const uint8_t nonce[12]) {
    memcpy(c->key, key, 32);
    memcpy(c->nonce, nonce, 12);
    c->counter = 0;
    c->used = 64;
}

void wicas_wasi_chacha_fill(wasi_chacha *c, uint8_t *out, size_t n) {
    while (n > 0) {
        if (c->used == 64) {
            wicas_chacha20_block(c->key, c->counter, c->nonce, c->block);
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
