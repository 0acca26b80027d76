/*
 * llamacpp_logits.c — the llama.cpp side of test_llamacpp_quants.sh's
 * architecture comparison (compiled by that script against the llama.cpp
 * build of `scripts/setup llamacpp`, never by CMake):
 *   llamacpp_logits MODEL.gguf N_PROMPT N_GEN OUT.bin
 * Evaluates N_PROMPT token ids (the LCG sequence of logits_hash.c) in one
 * batch with logits for every position, writes them to OUT.bin as N_PROMPT x
 * n_vocab little-endian floats, then decodes N_GEN tokens greedily (argmax,
 * lowest id on ties) and prints their ids on one line. The KV cache is F32 and
 * flash attention off, so the comparison measures the maths, not llama.cpp's
 * F16 cache. logits_dump.c is the WICAS side with the same interface.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static bool no_progress(float p, void *ud) {
    (void)p;
    (void)ud;
    return true;
}

static int argmax(const float *l, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[b]) b = i;
    return b;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: llamacpp_logits MODEL.gguf N_PROMPT N_GEN OUT.bin\n");
        return 2;
    }
    const int np = atoi(argv[2]), ng = atoi(argv[3]);
    if (np < 1 || np > 256 || ng < 0 || ng > 256) return 2;
    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.progress_callback = no_progress;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "llama.cpp could not load %s\n", argv[1]);
        return 1;
    }
    const int V = llama_vocab_n_tokens(llama_model_get_vocab(model));
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.swa_full = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "llama.cpp could not create a context\n");
        return 1;
    }
    struct llama_batch b = llama_batch_init(np, 0, 1);
    unsigned s = 11; /* the sequence of logits_hash.c */
    for (int i = 0; i < np; i++) {
        s = s * 1664525u + 1013904223u;
        b.token[i] = (llama_token)((s >> 8) % (unsigned)V);
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = np;
    if (llama_decode(ctx, b) != 0) {
        fprintf(stderr, "llama_decode failed\n");
        return 1;
    }
    FILE *o = fopen(argv[4], "wb");
    if (!o) return 1;
    for (int i = 0; i < np; i++)
        fwrite(llama_get_logits_ith(ctx, i), sizeof(float), (size_t)V, o);
    fclose(o);
    int tok = argmax(llama_get_logits_ith(ctx, np - 1), V);
    for (int g = 0; g < ng; g++) {
        printf("%s%d", g ? " " : "", tok);
        struct llama_batch one = llama_batch_init(1, 0, 1);
        one.token[0] = tok;
        one.pos[0] = np + g;
        one.n_seq_id[0] = 1;
        one.seq_id[0][0] = 0;
        one.logits[0] = 1;
        one.n_tokens = 1;
        if (llama_decode(ctx, one) != 0) return 1;
        llama_batch_free(one);
        tok = argmax(llama_get_logits_ith(ctx, 0), V);
    }
    printf("\n");
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
