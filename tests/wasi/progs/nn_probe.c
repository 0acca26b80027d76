/* nn_probe.c — calls wasi_ephemeral_nn the wrong ways and the less common
 * right ways, printing each errno, so test_wasi_nn can check the host's
 * answers: bad ids, bad pointers, compute before input, a buffer too small,
 * load() with builders ("preload:" name + JSON config), unload. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NN(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))
typedef struct {
    const uint32_t *dims;
    uint32_t n_dims, type;
    const void *data;
    uint32_t len;
} nn_tensor;
typedef struct {
    const void *p;
    uint32_t len;
} nn_buf;
NN("load")
int32_t nn_load(const nn_buf *builders, uint32_t n, uint32_t encoding, uint32_t target, uint32_t *g);
NN("load_by_name") int32_t nn_load_by_name(const char *name, uint32_t len, uint32_t *graph);
NN("load_by_name_with_config")
int32_t nn_load_cfg(const char *n, uint32_t l, const char *c, uint32_t cl, uint32_t *g);
NN("unload") int32_t nn_unload(uint32_t graph);
NN("init_execution_context") int32_t nn_init_ctx(uint32_t graph, uint32_t *ctx);
NN("set_input") int32_t nn_set_input(uint32_t ctx, uint32_t index, const nn_tensor *t);
NN("compute") int32_t nn_compute(uint32_t ctx);
NN("get_output")
int32_t nn_get_output(uint32_t ctx, uint32_t index, void *out, uint32_t max, uint32_t *written);

static nn_tensor bytes(const char *s) {
    nn_tensor t = {0, 0, 3, s, (uint32_t)strlen(s)};
    return t;
}

int main(void) {
    uint32_t g = 99, g2 = 99, c = 99, n = 0;
    char out[4096];
    const char *cfg = "{\"n-predict\":3,\"temp\":0}";
    nn_buf b[2] = {{"preload:default", 15}, {cfg, (uint32_t)strlen(cfg)}};
    printf("load_builders=%d\n", nn_load(b, 2, 6, 0, &g));
    printf("load_bad_encoding=%d\n", nn_load(b, 2, 1, 0, &g2));
    printf("load_unknown=%d\n", nn_load_by_name("nope", 4, &g2));
    printf("load_bad_ptr=%d\n", nn_load_by_name((const char *)0xfffffff0u, 64, &g2));
    printf("load_cfg_bad_value=%d\n", nn_load_cfg("default", 7, "{\"top-p\":0}", 11, &g2));
    printf("init_bad_graph=%d\n", nn_init_ctx(7, &c));
    printf("init=%d\n", nn_init_ctx(g, &c));
    printf("compute_no_input=%d\n", nn_compute(c));
    printf("get_output_before=%d\n", nn_get_output(c, 0, out, sizeof out, &n));
    nn_tensor p = bytes("The sky is");
    printf("set_input_bad_index=%d\n", nn_set_input(c, 5, &p));
    printf("set_input_bad_ctx=%d\n", nn_set_input(42, 0, &p));
    printf("set_input=%d\n", nn_set_input(c, 0, &p));
    printf("compute=%d\n", nn_compute(c));
    printf("get_output_small=%d\n", nn_get_output(c, 0, out, 0, &n));
    int e = nn_get_output(c, 0, out, sizeof out - 1, &n);
    out[n] = 0;
    printf("get_output=%d text=[%s]\n", e, out);
    e = nn_get_output(c, 1, out, sizeof out - 1, &n);
    out[n] = 0;
    printf("meta=%d %s\n", e, out);
    printf("get_output_bad_index=%d\n", nn_get_output(c, 2, out, sizeof out, &n));
    printf("second_compute=%d\n", nn_compute(c));
    printf("unload=%d\n", nn_unload(g));
    printf("compute_after_unload=%d\n", nn_compute(c));
    printf("unload_again=%d\n", nn_unload(g));
    return 0;
}
