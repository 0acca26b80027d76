/*
 * logits_dump.c — the WICAS side of test_llamacpp_quants.sh's architecture
 * comparison (llamacpp_logits.c is the llama.cpp side, same interface):
 *   logits_dump MODEL.gguf N_PROMPT N_GEN OUT.bin
 * Evaluates N_PROMPT token ids (the LCG sequence of logits_hash.c) in one
 * call, writes all their logits to OUT.bin (N_PROMPT x n_vocab floats), then
 * decodes N_GEN tokens greedily (argmax, lowest id on ties) and prints their
 * ids on one line.
 */
#include <stdio.h>
#include <stdlib.h>

#include "infer.h"

static int argmax(const float *l, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[b]) b = i;
    return b;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: logits_dump MODEL.gguf N_PROMPT N_GEN OUT.bin\n");
        return 2;
    }
    const int np = atoi(argv[2]), ng = atoi(argv[3]);
    if (np < 1 || np > 256 || ng < 0 || ng > 256) return 2;
    char err[512];
    wicas_infer_model *m;
    if (wicas_infer_model_load(argv[1], NULL, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    const int V = (int)info.n_vocab;
    int32_t toks[256];
    uint32_t s = 11;
    for (int i = 0; i < np; i++) {
        s = s * 1664525u + 1013904223u;
        toks[i] = (int32_t)((s >> 8) % (uint32_t)V);
    }
    wicas_infer_ctx *c;
    wicas_infer_ctx_params p = {.n_ctx = 512, .n_threads = 1};
    if (wicas_infer_ctx_new(m, &p, &c)) return 1;
    float *all = malloc(sizeof(float) * (size_t)np * (size_t)V);
    if (!all || wicas_infer_eval(c, toks, (size_t)np, all)) return 1;
    FILE *o = fopen(argv[4], "wb");
    if (!o || fwrite(all, sizeof(float), (size_t)np * V, o) != (size_t)np * V || fclose(o)) return 1;
    int32_t tok = argmax(all + (size_t)(np - 1) * V, V);
    for (int g = 0; g < ng; g++) {
        printf("%s%d", g ? " " : "", tok);
        if (wicas_infer_eval(c, &tok, 1, NULL)) return 1;
        tok = argmax(wicas_infer_logits(c), V);
    }
    printf("\n");
    free(all);
    wicas_infer_ctx_free(c);
    wicas_infer_model_release(m);
    return 0;
}
