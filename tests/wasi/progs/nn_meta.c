/* nn_meta.c — WasmEdge's GGML conventions test_wasi_nn checks: metadata
 * (output 1) at any time on a live context, before set_input and before
 * compute too; "stream-stdout" writing the completion to stdout during
 * compute() (between the printed "stream=[" and "]") but never during the
 * *_single calls. argv[1] is the load config JSON; "recount N" after it
 * counts the prompt N more times before exiting. */
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
NN("load_by_name_with_config")
int32_t nn_load_cfg(const char *n, uint32_t l, const char *c, uint32_t cl, uint32_t *g);
NN("init_execution_context") int32_t nn_init_ctx(uint32_t graph, uint32_t *ctx);
NN("set_input") int32_t nn_set_input(uint32_t ctx, uint32_t index, const nn_tensor *t);
NN("compute") int32_t nn_compute(uint32_t ctx);
NN("get_output")
int32_t nn_get_output(uint32_t ctx, uint32_t index, void *out, uint32_t max, uint32_t *written);
NN("compute_single") int32_t nn_compute_single(uint32_t ctx);
NN("get_output_single")
int32_t nn_get_output_single(uint32_t ctx, uint32_t i, void *o, uint32_t m, uint32_t *w);
NN("fini_single") int32_t nn_fini_single(uint32_t ctx);

static int32_t set_bytes(uint32_t ctx, uint32_t index, const char *s) {
    nn_tensor t = {0, 0, 3, s, (uint32_t)strlen(s)};
    return nn_set_input(ctx, index, &t);
}

static char buf[8192];
static void print_output(const char *label, uint32_t ctx, uint32_t index) {
    uint32_t n = 0;
    int32_t e = nn_get_output(ctx, index, buf, sizeof buf - 1, &n);
    buf[e == 0 ? n : 0] = 0;
    printf("%s=%d %s\n", label, e, buf);
}

int main(int argc, char **argv) {
    const char *cfg = argc > 1 ? argv[1] : "{}";
    const char *prompt =
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n";
    uint32_t g = 0, c = 0, n = 0;
    printf("load=%d\n", nn_load_cfg("default", 7, cfg, (uint32_t)strlen(cfg), &g));
    printf("init=%d\n", nn_init_ctx(g, &c));
    print_output("meta_fresh", c, 1);
    printf("text_fresh=%d\n", nn_get_output(c, 0, buf, sizeof buf, &n));
    printf("meta_bad_ctx=%d\n", nn_get_output(3, 1, buf, sizeof buf, &n));
    printf("set_input=%d\n", set_bytes(c, 0, prompt));
    print_output("meta_input", c, 1);
    printf("meta_small=%d\n", nn_get_output(c, 1, buf, 8, &n));
    printf("plain_text=%d\n", set_bytes(c, 1, "{\"parse-special\":false}"));
    print_output("meta_plain", c, 1);
    printf("special=%d\n", set_bytes(c, 1, "{\"parse-special\":true}"));
    print_output("meta_special", c, 1);
    printf("stream=[");
    fflush(stdout);
    int32_t e = nn_compute(c);
    printf("]\ncompute=%d\n", e);
    print_output("text", c, 0);
    print_output("meta_done", c, 1);
    printf("set_input_again=%d\n", set_bytes(c, 0, prompt));
    print_output("meta_again", c, 1);
    printf("single=[");
    fflush(stdout);
    static char pieces[8192];
    size_t len = 0;
    while ((e = nn_compute_single(c)) == 0 && (e = nn_get_output_single(c, 0, pieces + len, 64, &n)) == 0)
        len += n;
    pieces[len] = 0;
    printf("]\nsingle_end=%d pieces=%s\n", e, pieces);
    printf("fini=%d\n", nn_fini_single(c));
    /* "recount N": N more prompts counted before compute (their fuel is the test's concern) */
    int extra = argc > 3 && !strcmp(argv[2], "recount") ? atoi(argv[3]) : 0;
    for (int i = 0; i < extra; i++) {
        set_bytes(c, 0, prompt);
        nn_get_output(c, 1, buf, sizeof buf, &n);
    }
    return 0;
}
