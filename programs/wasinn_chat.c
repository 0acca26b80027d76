/*
 * wasinn_chat.c — the "forty lines": a wasm32-wasi program that answers a
 * prompt through WASI-NN (wasi_ephemeral_nn, WasmEdge's GGML conventions)
 * with whatever engine the host runs — in WICAS, the deterministic engine.
 *
 *   wasinn_chat [--model NAME] [--n-predict N] [--temp T] [--seed S]
 *               [--parse-special true|false] [--raw]
 *               [--stream] [--meta] [PROMPT WORDS...]      (no words: stdin)
 *
 * The prompt is wrapped as one user turn of the ChatML template (SmolLM2's)
 * unless --raw. Options go to the host as the JSON of input 1; the answer is
 * output 0, printed to stdout; --meta prints output 1 (token counts) to stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NN(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))
typedef struct {
    const uint32_t *dims;
    uint32_t n_dims, type;
    const void *data;
    uint32_t len;
} nn_tensor;
NN("load_by_name") int32_t nn_load_by_name(const char *name, uint32_t len, uint32_t *graph);
NN("init_execution_context") int32_t nn_init_ctx(uint32_t graph, uint32_t *ctx);
NN("set_input") int32_t nn_set_input(uint32_t ctx, uint32_t index, const nn_tensor *t);
NN("compute") int32_t nn_compute(uint32_t ctx);
NN("get_output")
int32_t nn_get_output(uint32_t ctx, uint32_t index, void *out, uint32_t max, uint32_t *written);
NN("compute_single") int32_t nn_compute_single(uint32_t ctx);
NN("get_output_single")
int32_t nn_get_output_single(uint32_t ctx, uint32_t i, void *o, uint32_t m, uint32_t *w);
NN("fini_single") int32_t nn_fini_single(uint32_t ctx);

static int set_bytes(uint32_t ctx, uint32_t index, const char *s) {
    static const uint32_t dims[1] = {1};
    nn_tensor t = {dims, 1, 3 /* u8 */, s, (uint32_t)strlen(s)};
    return nn_set_input(ctx, index, &t);
}

static char out[1 << 20];

int main(int argc, char **argv) {
    const char *model = "default";
    char opts[512] = "{";
    int raw = 0, stream = 0, meta = 0, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--raw"))
            raw = 1;
        else if (!strcmp(argv[i], "--stream"))
            stream = 1;
        else if (!strcmp(argv[i], "--meta"))
            meta = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (i + 1 < argc && (!strcmp(argv[i], "--n-predict") || !strcmp(argv[i], "--temp") ||
                                  !strcmp(argv[i], "--seed") || !strcmp(argv[i], "--parse-special")))
            snprintf(opts + strlen(opts), sizeof opts - strlen(opts), "%s\"%s\":%s", opts[1] ? "," : "",
                     argv[i] + 2, argv[i + 1]),
                i++;
        else {
            fprintf(stderr, "wasinn_chat: bad option %s\n", argv[i]);
            return 2;
        }
    }
    strcat(opts, "}");
    size_t n = 0;
    static char user[1 << 16];
    if (i == argc) n = fread(user, 1, sizeof user - 1, stdin);
    for (; i < argc; i++)
        n += (size_t)snprintf(user + n, sizeof user - n, "%s%s", n ? " " : "", argv[i]);
    user[n] = 0;
    static char prompt[sizeof user + 128];
    snprintf(prompt, sizeof prompt, raw ? "%s" : "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n",
             user);

    uint32_t graph, ctx, len = 0;
    int32_t e;
    if ((e = nn_load_by_name(model, (uint32_t)strlen(model), &graph)) != 0) {
        fprintf(stderr, "load %s: %d\n", model, e);
        return 1;
    }
    if ((e = nn_init_ctx(graph, &ctx)) != 0 || (e = set_bytes(ctx, 1, opts)) != 0 ||
        (e = set_bytes(ctx, 0, prompt)) != 0) {
        fprintf(stderr, "set-up: error %d\n", e);
        return 1;
    }
    if (stream) {
        while ((e = nn_compute_single(ctx)) == 0 &&
               (e = nn_get_output_single(ctx, 0, out, sizeof out, &len)) == 0)
            fwrite(out, 1, len, stdout);
        nn_fini_single(ctx);
        if (e != 100) {
            fprintf(stderr, "stream: error %d\n", e);
            return 1;
        }
    } else {
        if ((e = nn_compute(ctx)) != 0 || (e = nn_get_output(ctx, 0, out, sizeof out, &len)) != 0) {
            fprintf(stderr, "compute: error %d\n", e);
            return 1;
        }
        fwrite(out, 1, len, stdout);
    }
    if (meta && nn_get_output(ctx, 1, out, sizeof out - 1, &len) == 0)
        out[len] = 0, fprintf(stderr, "%s\n", out);
    return 0;
}
