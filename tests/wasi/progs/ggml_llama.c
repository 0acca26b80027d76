/* ggml_llama.c — a C stand-in for WasmEdge's wasmedge-ggml/llama example
 * (second-state/WasmEdge-WASINN-examples, Rust, wasmedge-wasi-nn 0.7): the
 * same wasi_ephemeral_nn calls in the same order with the same arguments and
 * the same printed lines, so that a test can show the published program runs
 * unchanged under `wicasd run-wasm`.
 *
 *   ggml_llama MODEL [PROMPT]
 *
 * Options (load_by_name_with_config's JSON) from the environment: enable_log
 * (default false), llama3 (default false), n_gpu_layers (default 0),
 * n_predict (absent unless set), and ctx-size 1024. With PROMPT: set_input,
 * the metadata read BEFORE compute (input token count), compute, output 0
 * printed trimmed, the metadata again. Without: a chat over stdin lines in
 * the Llama 2 (or, with llama3=true, Llama 3) prompt format, the history
 * growing turn by turn. */
#include "ggml_common.h"

static char saved[1 << 16];

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "thread 'main' panicked: index out of bounds\n");
        return 101;
    }
    const char *model = argv[1];
    static const ggml_opt OPTS[] = {{"ctx-size", NULL, "1024"},
                                    {"enable-log", "enable_log", "false"},
                                    {"llama3", "llama3", "false"},
                                    {"n-gpu-layers", "n_gpu_layers", "0"},
                                    {"n-predict", "n_predict", NULL}};
    char options[1024];
    build_options(OPTS, sizeof OPTS / sizeof OPTS[0], options, sizeof options);
    const char *l3 = getenv("llama3");
    int llama3 = l3 && !strcmp(l3, "true");
    uint32_t graph = load_graph(model, options), ctx = 0;
    expect_ok(nn_init_ctx(graph, &ctx), "Failed to init context");

    size_t n;
    const char *s;
    if (argc >= 3) {
        const char *prompt = argv[2];
        printf("Prompt:\n%s\n", prompt);
        expect_ok(set_prompt(ctx, prompt, strlen(prompt)), "Failed to set input");
        printf("Response:\n");
        s = get_data(ctx, 1, &n); /* metadata before compute */
        printf("[INFO] llama_commit: ");
        print_meta_value(s, "llama_commit");
        printf("[INFO] llama_build_number: ");
        print_meta_value(s, "llama_build_number");
        printf("[INFO] Number of input tokens: ");
        print_meta_value(s, "input_tokens");
        expect_ok(nn_compute(ctx), "Failed to compute");
        s = get_data(ctx, 0, &n);
        print_trimmed(s, n);
        s = get_data(ctx, 1, &n);
        printf("[INFO] Number of input tokens: ");
        print_meta_value(s, "input_tokens");
        printf("[INFO] Number of output tokens: ");
        print_meta_value(s, "output_tokens");
        return 0;
    }

    static const char *SYS = "You are a helpful, respectful and honest assistant. Always answer as short as "
                             "possible, while being safe.";
    char line[4096];
    for (;;) {
        printf("USER:\n");
        char *input = read_input(line, sizeof line);
        if (!input) return 0;
        size_t len = strlen(saved);
        if (!len) {
            if (llama3)
                snprintf(saved, sizeof saved,
                         "<|start_header_id|>system<|end_header_id|>\n\n%s<|eot_id|>\n<|start_header_id|>"
                         "user<|end_header_"
                         "id|>\n\n%s<|eot_id|>\n<|start_header_id|>assistant<|end_header_id|>\n\n",
                         SYS, input);
            else
                snprintf(saved, sizeof saved, "[INST] <<SYS>> %s <</SYS>> %s [/INST]", SYS, input);
        } else if (llama3) {
            snprintf(
                saved + len, sizeof saved - len,
                "<|start_header_id|>user<|end_header_id|>\n\n%s<|eot_id|>\n<|start_header_id|>assistant<|end_"
                "header_id|>\n\n",
                input);
        } else {
            snprintf(saved + len, sizeof saved - len, " [INST] %s [/INST]", input);
        }
        expect_ok(set_prompt(ctx, saved, strlen(saved)), "Failed to set input");
        int reset = 0;
        int32_t e = nn_compute(ctx);
        if (e == NN_CONTEXT_FULL) {
            printf("\n[INFO] Context full, we'll reset the context and continue.\n");
            reset = 1;
        } else if (e == NN_PROMPT_TOO_LONG) {
            printf("\n[INFO] Prompt too long, we'll reset the context and continue.\n");
            reset = 1;
        } else if (e) {
            printf("\n[ERROR] Backend Error: %d\n", e);
        }
        s = get_data(ctx, 0, &n);
        printf("ASSISTANT:\n");
        print_trimmed(s, n);
        if (reset) {
            saved[0] = 0;
        } else { /* saved = saved + " " + output.trim() */
            while (n && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
                s++, n--;
            while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                n--;
            len = strlen(saved);
            snprintf(saved + len, sizeof saved - len, " %.*s", (int)n, s);
        }
    }
}
