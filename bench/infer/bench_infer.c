/*
 * bench_infer.c — prefill and decode throughput of the engine on one model,
 * the figures bench/infer/run sets beside llama.cpp's.
 *
 * Usage: bench_infer MODEL.gguf [-p PROMPT_TOKENS] [-n GEN_TOKENS] [-t THREADS] [-r REPS]
 * The prompt is a fixed pseudo-random token sequence (no tokenizer in the
 * measurement); decoding is greedy and ignores end-of-generation tokens so
 * exactly GEN_TOKENS are produced. The best of REPS runs is reported (the
 * machine is shared), as one line: "prefill_tps decode_tps peak_rss_mib".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "infer.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Process CPU time: on a shared machine, tokens per CPU-second is the
 * steadier figure for one thread (printed to stderr). */
static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_infer MODEL.gguf [-p N] [-n N] [-t N] [-r N]\n");
        return 2;
    }
    int np = 128, ng = 128, nt = 1, reps = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "-p"))
            np = v;
        else if (!strcmp(argv[i], "-n"))
            ng = v;
        else if (!strcmp(argv[i], "-t"))
            nt = v;
        else if (!strcmp(argv[i], "-r"))
            reps = v;
    }
    if (np < 1 || ng < 1 || nt < 1 || reps < 1) return 2;
    char err[512];
    wicas_infer_model *m;
    if (wicas_infer_model_load(argv[1], NULL, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "bench_infer: %s\n", err);
        return 1;
    }
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    wicas_infer_ctx *c;
    wicas_infer_ctx_params cp = {.n_ctx = (uint32_t)(np + ng + 8), .n_threads = (uint32_t)nt};
    if (wicas_infer_ctx_new(m, &cp, &c)) return 1;
    int32_t *toks = malloc(sizeof(int32_t) * (size_t)np);
    uint32_t s = 42;
    for (int i = 0; i < np; i++) {
        s = s * 1664525u + 1013904223u;
        toks[i] = (int32_t)((s >> 8) % info.n_vocab);
    }
    double best_p = 0, best_d = 0, best_pc = 0, best_dc = 0;
    for (int r = 0; r < reps; r++) {
        wicas_infer_ctx_reset(c);
        double t0 = now(), c0 = cpu();
        if (wicas_infer_eval(c, toks, (size_t)np, NULL)) return 1;
        double t1 = now(), c1 = cpu();
        for (int i = 0; i < ng; i++) {
            const float *l = wicas_infer_logits(c);
            int32_t b = 0;
            for (uint32_t k = 1; k < info.n_vocab; k++)
                if (l[k] > l[b]) b = (int32_t)k;
            if (wicas_infer_eval(c, &b, 1, NULL)) return 1;
        }
        double t2 = now(), c2 = cpu();
        if (np / (c1 - c0) > best_pc) best_pc = np / (c1 - c0);
        if (ng / (c2 - c1) > best_dc) best_dc = ng / (c2 - c1);
        if (np / (t1 - t0) > best_p) best_p = np / (t1 - t0);
        if (ng / (t2 - t1) > best_d) best_d = ng / (t2 - t1);
    }
    fprintf(stderr, "per CPU-second: prefill %.1f, decode %.1f tokens\n", best_pc, best_dc);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.2f %.2f %.1f %s\n", best_p, best_d, ru.ru_maxrss / 1024.0, wicas_infer_kernels_name());
    free(toks);
    wicas_infer_ctx_free(c);
    wicas_infer_model_release(m);
    return 0;
}
