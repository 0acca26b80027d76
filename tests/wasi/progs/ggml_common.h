/* ggml_common.h — what the C stand-ins for WasmEdge's wasmedge-ggml examples
 * share: the wasi_ephemeral_nn imports (the ABI the wasmedge-wasi-nn crate
 * 0.7 uses), the crate's calls as the examples make them, and the Rust
 * helpers whose behaviour the output depends on (str::trim, the options JSON
 * built from environment variables). Any failure is reported as the
 * examples' `.expect(...)` panics are, and the program exits non-zero. */
#ifndef GGML_COMMON_H
#define GGML_COMMON_H

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
int32_t nn_load_cfg(const char *name, uint32_t len, const char *cfg, uint32_t cfg_len, uint32_t *graph);
NN("init_execution_context") int32_t nn_init_ctx(uint32_t graph, uint32_t *ctx);
NN("set_input") int32_t nn_set_input(uint32_t ctx, uint32_t index, const nn_tensor *t);
NN("compute") int32_t nn_compute(uint32_t ctx);
NN("get_output")
int32_t nn_get_output(uint32_t ctx, uint32_t index, void *out, uint32_t max, uint32_t *written);

#define NN_END_OF_SEQUENCE 100
#define NN_CONTEXT_FULL 101
#define NN_PROMPT_TOO_LONG 102

/* Rust's `panic!`/`expect` as seen from outside: a message on stderr and a
 * failing exit. */
static inline void expect_ok(int32_t e, const char *what) {
    if (e == 0) return;
    fprintf(stderr, "thread 'main' panicked: %s: errno %d\n", what, e);
    exit(101);
}

/* Options JSON built like the examples' get_options_from_env(): each entry
 * is (JSON key, environment variable or NULL, default JSON text or NULL for
 * "absent unless set"). Values from the environment are JSON text, as the
 * examples parse them with serde_json::from_str; keys come out sorted, as
 * serde_json's map writes them. */
typedef struct {
    const char *key, *env, *dflt;
} ggml_opt;

static inline void build_options(const ggml_opt *opts, size_t n, char *out, size_t cap) {
    size_t len = (size_t)snprintf(out, cap, "{");
    for (size_t i = 0; i < n; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        if (!v) v = opts[i].dflt;
        if (!v) continue;
        len += (size_t)snprintf(out + len, cap - len, "%s\"%s\":%s", len > 1 ? "," : "", opts[i].key, v);
    }
    snprintf(out + len, cap - len, "}");
}

static inline uint32_t load_graph(const char *model, const char *options) {
    uint32_t g = 0;
    expect_ok(nn_load_cfg(model, (uint32_t)strlen(model), options, (uint32_t)strlen(options), &g),
              "Failed to build graph");
    return g;
}

/* context.set_input(0, TensorType::U8, &[len], data) */
static inline int32_t set_prompt(uint32_t ctx, const char *s, size_t len) {
    uint32_t dims[1] = {(uint32_t)len};
    nn_tensor t = {dims, 1, 3 /* U8 */, s, (uint32_t)len};
    return nn_set_input(ctx, 0, &t);
}

/* get_data_from_context: a 4096 * 6 byte buffer, expect("Failed to get output") */
#define MAX_OUTPUT_BUFFER_SIZE (4096 * 6)
static char out_buf[MAX_OUTPUT_BUFFER_SIZE + 1];
static inline const char *get_data(uint32_t ctx, uint32_t index, size_t *len) {
    uint32_t n = 0;
    expect_ok(nn_get_output(ctx, index, out_buf, MAX_OUTPUT_BUFFER_SIZE, &n), "Failed to get output");
    if (n > MAX_OUTPUT_BUFFER_SIZE) n = MAX_OUTPUT_BUFFER_SIZE;
    out_buf[n] = 0;
    *len = n;
    return out_buf;
}

/* println!("{}", s.trim()) for ASCII whitespace (the only whitespace the
 * tests' texts start or end with). */
static inline void print_trimmed(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
                 s[n - 1] == '\f' || s[n - 1] == '\v'))
        n--;
    fwrite(s, 1, n, stdout);
    putchar('\n');
}

/* println!("{}", metadata[key]) of a serde_json::Value: the value as JSON
 * text, `null` when the key is absent. The metadata is a flat object of
 * numbers and strings without escapes, so scanning for the key will do. */
static inline void print_meta_value(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p) {
        printf("null\n");
        return;
    }
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t n = *p == '"' ? (size_t)(strchr(p + 1, '"') - p) + 1 : strcspn(p, ",}");
    printf("%.*s\n", (int)n, p);
}

/* read_input(): the next non-empty line, trimmed; NULL at end of input (the
 * Rust example would spin forever on a closed stdin). */
static inline char *read_input(char *buf, size_t cap) {
    while (fgets(buf, (int)cap, stdin)) {
        size_t n = strlen(buf);
        if (n == 0 || !strcmp(buf, "\n") || !strcmp(buf, "\r\n")) continue;
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
            buf[--n] = 0;
        char *s = buf;
        while (*s == ' ' || *s == '\t')
            s++;
        return s;
    }
    return NULL;
}

#endif
