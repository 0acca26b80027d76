/*
 * dequant_compare.c — every tensor of a quantised GGUF, dequantised by the
 * engine (wicas_dequant_row), against the same tensor of a second GGUF holding F32
 * values (test_llamacpp_quants.sh makes it with llama.cpp's
 * `llama-quantize --allow-requantize Q.gguf F32.gguf F32`, i.e. llama.cpp's own
 * dequantisation). Prints the tensor types seen and the number of elements
 * whose bits differ; exits 1 if any do.
 *   dequant_compare QUANT.gguf F32.gguf
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: dequant_compare QUANT.gguf F32.gguf\n");
        return 2;
    }
    gguf_file a, b;
    char err[512];
    if (wicas_gguf_open(argv[1], &a, err, sizeof err) || wicas_gguf_open(argv[2], &b, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    long bad = 0, n = 0;
    int counts[64] = {0};
    for (uint64_t i = 0; i < a.n_tensors; i++) {
        const gguf_tensor *t = &a.tensors[i];
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        const gguf_tensor *u = wicas_gguf_find_tensor(&b, name);
        if (!u || u->type != GGML_F32 || u->n_elems != t->n_elems) {
            printf("%s: no F32 tensor of the same size\n", name);
            bad++;
            continue;
        }
        const int cols = (int)t->ne[0];
        const uint64_t rows = t->n_elems / (uint64_t)cols;
        const size_t rb = (size_t)(t->n_bytes / rows);
        float *o = malloc(sizeof(float) * (size_t)cols);
        if (!o) return 2;
        long tb = 0;
        for (uint64_t r = 0; r < rows; r++) {
            wicas_dequant_row((int)t->type, t->data + r * rb, o, cols);
            const float *ref = (const float *)u->data + r * (uint64_t)cols;
            for (int c = 0; c < cols; c++)
                tb += memcmp(&o[c], &ref[c], 4) != 0;
            n += cols;
        }
        if (tb) printf("%s (%s): %ld elements differ\n", name, wicas_gguf_type_name(t->type), tb);
        bad += tb;
        if (t->type < 64) counts[t->type]++;
        free(o);
    }
    printf("%ld elements, %ld differ; tensors:", n, bad);
    for (int k = 0; k < 64; k++)
        if (counts[k]) printf(" %s x%d", wicas_gguf_type_name((uint32_t)k), counts[k]);
    printf("\n");
    wicas_gguf_close(&a);
    wicas_gguf_close(&b);
    return bad != 0;
}
