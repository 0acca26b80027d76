/*
 * perplexity.c — perplexity of a model on a text file, computed the way
 * llama.cpp's perplexity tool does so the two can be compared on one file:
 * the text is tokenized once (BOS only if the model asks for it, then as the
 * first token of every chunk), cut into chunks of N_CTX tokens, each chunk is
 * evaluated from an empty cache, and the negative log-likelihood of tokens
 * N_CTX/2+1 .. N_CTX-1 of each chunk (predicted from the logits of the token
 * before) is averaged; perplexity = exp(mean NLL).
 *
 * Usage: wicas_perplexity MODEL.gguf TEXT_FILE [N_CTX=512] [MAX_CHUNKS=0 (all)] [THREADS=1]
 * Prints "ppl=<value> chunks=<n> tokens=<scored>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "detmath.h"
#include "infer.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: wicas_perplexity MODEL.gguf TEXT [N_CTX] [MAX_CHUNKS] [THREADS]\n");
        return 2;
    }
    int n_ctx = argc > 3 ? atoi(argv[3]) : 512, max_chunks = argc > 4 ? atoi(argv[4]) : 0,
        threads = argc > 5 ? atoi(argv[5]) : 1;
    if (n_ctx < 16 || threads < 1) return 2;
    size_t len;
    char *text = (char *)wicas_read_file(argv[2], (size_t)64 << 20, &len);
    if (!text) {
        perror(argv[2]);
        return 1;
    }
    char err[512];
    wicas_infer_model *m;
    if (wicas_infer_model_load(argv[1], NULL, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t n = 0;
    wicas_infer_tokenize(m, text, len, false, false, NULL, 0, &n);
    int32_t *toks = malloc(sizeof(int32_t) * (n + 1));
    if (!toks || wicas_infer_tokenize(m, text, len, false, false, toks, n, &n) != 0) {
        fprintf(stderr, "tokenize failed\n");
        return 1;
    }
    /* Does the model want BOS? Ask the tokenizer for "" with add_bos. */
    int32_t bos_probe[2];
    size_t nb = 0;
    bool add_bos = wicas_infer_tokenize(m, "", 0, true, false, bos_probe, 2, &nb) == 0 && nb == 1;
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    const size_t V = info.n_vocab;
    wicas_infer_ctx *c;
    wicas_infer_ctx_params cp = {.n_ctx = (uint32_t)n_ctx, .n_threads = (uint32_t)threads};
    if (wicas_infer_ctx_new(m, &cp, &c)) return 1;
    float *logits = malloc(sizeof(float) * V * (size_t)n_ctx);
    int32_t *chunk = malloc(sizeof(int32_t) * (size_t)n_ctx);
    int n_chunks = (int)(n / (size_t)n_ctx);
    if (max_chunks > 0 && n_chunks > max_chunks) n_chunks = max_chunks;
    double nll = 0;
    long count = 0;
    for (int ci = 0; ci < n_chunks; ci++) {
        memcpy(chunk, toks + (size_t)ci * n_ctx, sizeof(int32_t) * (size_t)n_ctx);
        if (add_bos) chunk[0] = bos_probe[0];
        wicas_infer_ctx_reset(c);
        if (wicas_infer_eval(c, chunk, (size_t)n_ctx, logits)) return 1;
        for (int j = n_ctx / 2; j < n_ctx - 1; j++) {
            const float *l = logits + (size_t)j * V;
            double mx = l[0];
            for (size_t k = 1; k < V; k++)
                if (l[k] > mx) mx = l[k];
            double sum = 0;
            for (size_t k = 0; k < V; k++)
                sum += wicas_exp((double)l[k] - mx);
            nll += -((double)l[chunk[j + 1]] - mx - wicas_ln(sum));
            count++;
        }
        fprintf(stderr, "[%d] %.4f\n", ci + 1, wicas_exp(nll / (double)count));
    }
    if (count == 0) {
        fprintf(stderr, "text too short for one chunk of %d tokens (%zu tokens)\n", n_ctx, n);
        return 1;
    }
    printf("ppl=%.4f chunks=%d tokens=%ld\n", wicas_exp(nll / (double)count), n_chunks, count);
    free(logits);
    free(chunk);
    free(toks);
    free(text);
    wicas_infer_ctx_free(c);
    wicas_infer_model_release(m);
    return 0;
}
