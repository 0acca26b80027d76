/*
 * cross_check.c — a dependency-free driver of the engine for other
 * architectures: compiled together with every C file of src/infer by a cross
 * compiler (aarch64-linux-gnu-gcc) and run under qemu-user, it prints the
 * same logits hashes as the native logits_hash tool, which is what
 * test_cross_aarch64.sh compares (scalar and NEON kernels on AArch64 against
 * x86-64). OpenSSL is not available for the target, so this file carries the
 * few common.h functions the engine uses, SHA-256 written from FIPS 180-4.
 *
 *   cross_check MODEL.gguf KERNELS THREADS N_TOKENS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "infer.h"

/* ---- SHA-256 (FIPS 180-4) --------------------------------------------------------- */
struct wicas_sha256_ctx {
    uint32_t h[8];
    uint8_t buf[64];
    uint64_t len;
};
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static void block(struct wicas_sha256_ctx *c, const uint8_t *p) {
    uint32_t w[64], s[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(s, c->h, sizeof s);
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = s[7] + (ROR(s[4], 6) ^ ROR(s[4], 11) ^ ROR(s[4], 25)) +
                      ((s[4] & s[5]) ^ (~s[4] & s[6])) + K256[i] + w[i];
        uint32_t t2 =
            (ROR(s[0], 2) ^ ROR(s[0], 13) ^ ROR(s[0], 22)) + ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
        memmove(s + 1, s, 7 * sizeof(uint32_t));
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        c->h[i] += s[i];
}
wicas_sha256_ctx *wicas_sha256_begin(void) {
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    wicas_sha256_ctx *c = calloc(1, sizeof *c);
    if (c) memcpy(c->h, H0, sizeof H0);
    return c;
}
void wicas_sha256_update(wicas_sha256_ctx *c, const void *data, size_t n) {
    const uint8_t *p = data;
    while (n > 0) {
        size_t have = (size_t)(c->len % 64), take = 64 - have < n ? 64 - have : n;
        memcpy(c->buf + have, p, take);
        c->len += take;
        p += take;
        n -= take;
        if (c->len % 64 == 0) block(c, c->buf);
    }
}
void wicas_sha256_final(wicas_sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->len * 8;
    uint8_t pad = 0x80, z = 0;
    wicas_sha256_update(c, &pad, 1);
    while (c->len % 64 != 56)
        wicas_sha256_update(c, &z, 1);
    uint8_t l[8];
    for (int i = 0; i < 8; i++)
        l[i] = (uint8_t)(bits >> (56 - 8 * i));
    wicas_sha256_update(c, l, 8);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(c->h[i] >> (24 - 8 * j));
    free(c);
}
void wicas_sha256(const void *data, size_t len, uint8_t out[32]) {
    wicas_sha256_ctx *c = wicas_sha256_begin();
    wicas_sha256_update(c, data, len);
    wicas_sha256_final(c, out);
}
int wicas_sha256_file(const char *path, uint8_t out[32]) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    wicas_sha256_ctx *c = wicas_sha256_begin();
    uint8_t b[65536];
    size_t n;
    while ((n = fread(b, 1, sizeof b, f)) > 0)
        wicas_sha256_update(c, b, n);
    fclose(f);
    wicas_sha256_final(c, out);
    return 0;
}
void wicas_hex_encode(const uint8_t *in, size_t len, char *out) {
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
    out[2 * len] = 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: cross_check MODEL.gguf scalar|neon|avx2|avx512 THREADS N_TOKENS\n");
        return 2;
    }
    wicas_kernels k = !strcmp(argv[2], "neon")     ? WICAS_KERNELS_NEON
                      : !strcmp(argv[2], "avx2")   ? WICAS_KERNELS_AVX2
                      : !strcmp(argv[2], "avx512") ? WICAS_KERNELS_AVX512
                                                   : WICAS_KERNELS_SCALAR;
    if (wicas_infer_set_kernels(k) != 0) {
        printf("unavailable\n");
        return 0;
    }
    char err[512];
    wicas_infer_model *m;
    if (wicas_infer_model_load(argv[1], NULL, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    int n = atoi(argv[4]);
    if (n < 1 || n > 512) return 2;
    int32_t toks[512];
    uint32_t s = 11; /* same sequence as logits_hash.c */
    for (int i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        toks[i] = (int32_t)((s >> 8) % info.n_vocab);
    }
    wicas_infer_ctx *c;
    wicas_infer_ctx_params p = {.n_ctx = 512, .n_threads = (uint32_t)atoi(argv[3])};
    if (wicas_infer_ctx_new(m, &p, &c)) return 1;
    uint8_t h[32];
    if (wicas_infer_logits_hash(c, toks, (size_t)n, h)) return 1;
    char hex[65];
    wicas_hex_encode(h, 32, hex);
    printf("%s\n", hex);
    wicas_infer_ctx_free(c);
    wicas_infer_model_release(m);
    return 0;
}
