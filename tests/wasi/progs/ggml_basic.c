/* ggml_basic.c — a C stand-in for WasmEdge's wasmedge-ggml/basic example
 * (second-state/WasmEdge-WASINN-examples, Rust, wasmedge-wasi-nn 0.7): the
 * same wasi_ephemeral_nn calls in the same order with the same arguments and
 * the same printed lines.
 *
 *   ggml_basic MODEL [PROMPT]
 *
 * Options from the environment: enable_log (default false), ctx_size
 * (default 512), n_gpu_layers (default 0), n_predict (default 512); then
 * "stream-stdout": true and "temp": 0.1. The program never prints the
 * completion itself: with stream-stdout the backend writes it to stdout
 * during compute, and the program adds a newline. With PROMPT: one
 * completion; without: one completion per stdin line. */
#include "ggml_common.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "thread 'main' panicked: index out of bounds\n");
        return 101;
    }
    const char *model = argv[1];
    static const ggml_opt OPTS[] = {
        {"ctx-size", "ctx_size", "512"},       {"enable-log", "enable_log", "false"},
        {"n-gpu-layers", "n_gpu_layers", "0"}, {"n-predict", "n_predict", "512"},
        {"stream-stdout", NULL, "true"},       {"temp", NULL, "0.1"}};
    char options[1024];
    build_options(OPTS, sizeof OPTS / sizeof OPTS[0], options, sizeof options);
    uint32_t graph = load_graph(model, options), ctx = 0;
    expect_ok(nn_init_ctx(graph, &ctx), "Failed to init context");

    size_t n;
    if (argc >= 3) {
        const char *prompt = argv[2];
        printf("Prompt:\n%s\n", prompt);
        expect_ok(set_prompt(ctx, prompt, strlen(prompt)), "Failed to set input");
        printf("Response:\n");
        fflush(stdout); /* Rust's stdout is line-buffered: "Response:\n" is out before compute streams */
        expect_ok(nn_compute(ctx), "Failed to compute");
        (void)get_data(ctx, 0, &n);
        printf("\n"); /* stream-stdout: the text is already on stdout */
        return 0;
    }
    char line[4096];
    for (;;) {
        printf("USER:\n");
        char *input = read_input(line, sizeof line);
        if (!input) return 0;
        expect_ok(set_prompt(ctx, input, strlen(input)), "Failed to set input");
        printf("ASSISTANT:\n");
        fflush(stdout);
        int32_t e = nn_compute(ctx);
        if (e == NN_CONTEXT_FULL)
            printf("\n[INFO] Context full, we'll reset the context and continue.\n");
        else if (e == NN_PROMPT_TOO_LONG)
            printf("\n[INFO] Prompt too long, we'll reset the context and continue.\n");
        else if (e)
            printf("\n[ERROR] Backend Error: %d\n", e);
        fflush(stdout);
        (void)get_data(ctx, 0, &n);
        printf("\n");
    }
}
