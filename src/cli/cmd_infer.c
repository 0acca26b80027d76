/*
 * cmd_infer.c — `wicasd infer`: run the deterministic inference engine on a
 * GGUF model from the command line, streaming tokens as they come.
 *
 * Text mode prints the completion on stdout and a summary (token counts,
 * tokens/s) on stderr; --output json prints one JSON object (cJSON is not a
 * dependency of the CLI module's infer path, so the object is written by hand
 * with proper string escaping).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common.h"
#include "infer.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: wicasd infer -m MODEL.gguf -p PROMPT [flags]\n\n"
               "Runs the deterministic inference engine: the same model, prompt, parameters\n"
               "and seed give the same bytes on every machine and any thread count.\n\n"
               "Flags:\n"
               "  -m, --model PATH        GGUF model file (default: the cached default model)\n"
               "  -p, --prompt TEXT       prompt text\n"
               "  -n, --n-predict N       tokens to generate at most (default 128)\n"
               "      --temp T            temperature, 0 = greedy (default 0)\n"
               "      --top-k K           top-k filter, 0 = off (default 0)\n"
               "      --top-p P           nucleus filter, 1 = off (default 1)\n"
               "      --repeat-penalty R  repetition penalty, 1 = off (default 1)\n"
               "      --seed HEX64        32-byte seed as 64 hex digits (default all zero)\n"
               "  -t, --threads N         worker threads (default 1; results do not depend on it)\n"
               "  -c, --ctx N             context length in tokens (default min(2048, trained))\n"
               "      --chat              wrap the prompt in the model's chat template\n"
               "      --parse-special     special-token text in the prompt (\"<|im_start|>\") becomes\n"
               "                          that token, as llama.cpp's --special / WASI-NN do (default:\n"
               "                          read as plain text; always on with --chat)\n"
               "      --output text|json  output format (default text)\n"
               "  -h, --help              this help\n");
}

static bool progress(uint64_t done, uint64_t total, void *user) {
    double *t0 = user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    if (now - *t0 > 0.5 || done == total) {
        if (now - *t0 > 0.5)
            fprintf(stderr, "\rloading model: %3.0f%%", 100.0 * (double)done / (double)total);
        if (done == total && now - *t0 > 0.5) fprintf(stderr, "\n");
    }
    return true;
}

static bool on_token(int32_t tok, const char *piece, size_t len, void *user) {
    (void)tok;
    (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return true;
}

static void json_str(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static bool parse_u32(const char *s, uint32_t *out) {
    char *e;
    errno = 0;
    unsigned long v = strtoul(s, &e, 10);
    if (errno || *e || e == s || v > 0xffffffffUL || s[0] == '-') return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_f(const char *s, float *out) {
    char *e;
    errno = 0;
    float v = strtof(s, &e);
    if (errno || *e || e == s) return false;
    *out = v;
    return true;
}

int wicas_cmd_infer(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *output = "text";
#ifdef WICAS_DEFAULT_MODEL_PATH
    model = WICAS_DEFAULT_MODEL_PATH;
#endif
    wicas_infer_gen_params gp;
    wicas_infer_gen_params_default(&gp);
    uint32_t threads = 1, n_ctx = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                                              \
    do {                                                                                                     \
        if (!v) {                                                                                            \
            fprintf(stderr, "wicasd infer: flag %s needs a value\n", a);                                     \
            return 2;                                                                                        \
        }                                                                                                    \
        i++;                                                                                                 \
    } while (0)
#define BAD()                                                                                                \
    do {                                                                                                     \
        fprintf(stderr, "wicasd infer: invalid value '%s' for %s\n", v, a);                                  \
        return 2;                                                                                            \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEEDV();
            model = v;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            NEEDV();
            prompt = v;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            NEEDV();
            if (!parse_u32(v, &gp.max_tokens) || !gp.max_tokens) BAD();
        } else if (!strcmp(a, "--temp")) {
            NEEDV();
            if (!parse_f(v, &gp.temperature) || !(gp.temperature >= 0)) BAD();
        } else if (!strcmp(a, "--top-k")) {
            NEEDV();
            if (!parse_u32(v, &gp.top_k)) BAD();
        } else if (!strcmp(a, "--top-p")) {
            NEEDV();
            if (!parse_f(v, &gp.top_p) || !(gp.top_p > 0 && gp.top_p <= 1)) BAD();
        } else if (!strcmp(a, "--repeat-penalty")) {
            NEEDV();
            if (!parse_f(v, &gp.repeat_penalty) || !(gp.repeat_penalty > 0)) BAD();
        } else if (!strcmp(a, "--seed")) {
            NEEDV();
            if (strlen(v) != 64 || wicas_hex_decode(v, gp.seed, 32) != 0) BAD();
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEEDV();
            if (!parse_u32(v, &threads) || !threads || threads > 256) BAD();
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) {
            NEEDV();
            if (!parse_u32(v, &n_ctx)) BAD();
        } else if (!strcmp(a, "--chat"))
            gp.chat = true;
        else if (!strcmp(a, "--parse-special"))
            gp.parse_special = true;
        else if (!strcmp(a, "--output")) {
            NEEDV();
            if (strcmp(v, "text") && strcmp(v, "json")) BAD();
            output = v;
        } else {
            fprintf(stderr, "wicasd infer: unknown flag '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
#undef NEEDV
#undef BAD
    }
    if (!model || !prompt) {
        fprintf(stderr, "wicasd infer: -m MODEL and -p PROMPT are required\n\n");
        usage(stderr);
        return 2;
    }
    bool json = !strcmp(output, "json");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t0 = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    char err[512];
    wicas_infer_model *m = NULL;
    int rc = wicas_infer_model_load(model, progress, &t0, &m, err, sizeof err);
    if (rc) {
        fprintf(stderr, "wicasd infer: %s\n", err[0] ? err : wicas_infer_strerror(rc));
        return 1;
    }
    wicas_infer_ctx_params cp = {.n_ctx = n_ctx, .n_threads = threads};
    wicas_infer_ctx *ctx = NULL;
    rc = wicas_infer_ctx_new(m, &cp, &ctx);
    if (rc) {
        fprintf(stderr, "wicasd infer: cannot create a context (n_ctx %u, %u threads): %s\n", n_ctx, threads,
                wicas_infer_strerror(rc));
        wicas_infer_model_release(m);
        return 1;
    }
    wicas_infer_result res;
    rc = wicas_infer_generate(ctx, prompt, &gp, json ? NULL : on_token, NULL, &res);
    if (rc) {
        fprintf(stderr, "wicasd infer: generation failed: %s\n", wicas_infer_strerror(rc));
        wicas_infer_ctx_free(ctx);
        wicas_infer_model_release(m);
        return 1;
    }
    static const char *STOPS[] = {"eos", "length", "context", "callback"};
    double pre_tps = res.prefill_seconds > 0 ? res.n_prompt_tokens / res.prefill_seconds : 0;
    double dec_tps = res.decode_seconds > 0 ? res.n_generated_tokens / res.decode_seconds : 0;
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    char sha[65];
    wicas_hex_encode(info.sha256, 32, sha);
    if (json) {
        /* the engine's bytes may end inside (or hold) an invalid UTF-8
         * sequence: repaired as the chain repairs model output */
        size_t tl;
        char *text = wicas_utf8_repair(res.text, res.text_len, &tl);
        if (!text) {
            fprintf(stderr, "wicasd infer: out of memory\n");
            wicas_infer_result_free(&res);
            wicas_infer_ctx_free(ctx);
            wicas_infer_model_release(m);
            return 1;
        }
        printf("{\"text\":");
        json_str(stdout, text, tl);
        free(text);
        printf(
            ",\"model_sha256\":\"%s\",\"prompt_tokens\":%u,\"generated_tokens\":%u,\"stop\":\"%s\","
            "\"prefill_tokens_per_s\":%.2f,\"decode_tokens_per_s\":%.2f,\"threads\":%u,\"kernels\":\"%s\"}\n",
            sha, res.n_prompt_tokens, res.n_generated_tokens, STOPS[res.stop], pre_tps, dec_tps, threads,
            wicas_infer_kernels_name());
    } else {
        printf("\n");
        fprintf(stderr,
                "prompt: %u tokens (%.1f tokens/s), generated: %u tokens (%.1f tokens/s), stop: %s, kernels: "
                "%s\n",
                res.n_prompt_tokens, pre_tps, res.n_generated_tokens, dec_tps, STOPS[res.stop],
                wicas_infer_kernels_name());
    }
    wicas_infer_result_free(&res);
    wicas_infer_ctx_free(ctx);
    wicas_infer_model_release(m);
    return 0;
}
