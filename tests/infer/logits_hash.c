/*
 * logits_hash.c — prints the SHA-256 of all logits of a fixed token sequence:
 *   logits_hash MODEL.gguf KERNELS THREADS N_TOKENS
 * Built twice, against the engine compiled at the build's optimisation level
 * and against a copy compiled at -O0 (wicas_infer_o0); test_opt_levels.sh
 * checks that both print the same hash for every model and kernel set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "infer.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: logits_hash MODEL.gguf scalar|avx2|avx512 THREADS N_TOKENS\n");
        return 2;
    }
    wicas_kernels k = !strcmp(argv[2], "avx2")     ? WICAS_KERNELS_AVX2
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
    uint32_t s = 11;
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
