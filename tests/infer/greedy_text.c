/*
 * greedy_text.c — the greedy continuation of a raw prompt (no chat template,
 * special tokens read as text), printed as it is generated:
 *   wicas_greedy MODEL.gguf N_TOKENS THREADS PROMPT
 * test_llamacpp_quants.sh sets it beside llama.cpp's llama-simple (also
 * greedy) for the same file and prompt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: wicas_greedy MODEL.gguf N_TOKENS THREADS PROMPT\n");
        return 2;
    }
    char err[512];
    wicas_infer_model *m;
    if (wicas_infer_model_load(argv[1], NULL, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    wicas_infer_ctx *c;
    wicas_infer_ctx_params cp = {.n_ctx = 512, .n_threads = (uint32_t)atoi(argv[3])};
    if (wicas_infer_ctx_new(m, &cp, &c)) return 1;
    wicas_infer_gen_params gp;
    wicas_infer_gen_params_default(&gp);
    gp.max_tokens = (uint32_t)atoi(argv[2]);
    wicas_infer_result r;
    int rc = wicas_infer_generate(c, argv[4], &gp, NULL, NULL, &r);
    if (rc) {
        fprintf(stderr, "generate failed: %d\n", rc);
        return 1;
    }
    fwrite(r.text, 1, r.text_len, stdout);
    printf("\n");
    wicas_infer_result_free(&r);
    wicas_infer_ctx_free(c);
    wicas_infer_model_release(m);
    return 0;
}
