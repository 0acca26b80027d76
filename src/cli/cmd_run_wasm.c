/*
 * cmd_run_wasm.c — `wicasd run-wasm`: run a WASI / WASI-NN inference program
 * locally in the same sandbox validators use (src/wasi), so a program can be
 * tried before it is stored on chain.
 *
 *   wicasd run-wasm PROGRAM.wasm [--model NAME=PATH ...]
 *       [--nn-preload NAME:GGML:AUTO:PATH ...] [--models-dir DIR]
 *       [--seed HEX64] [--block-time NS] [--fuel N] [--memory MiB]
 *       [--stdout-cap BYTES] [--nn-max-tokens N] [--nn-max-prompt-tokens N]
 *       [--nn-max-computes N] [-t THREADS] [--stdin FILE|-]
 *       [--env KEY=VALUE ...] [--output json]
 *       [-- ARGS...]
 *
 * --env puts KEY=VALUE into the program's WASI environment (WasmEdge's
 * examples read their settings, n_predict, ctx_size, ..., from there); the
 * environment is empty otherwise, never this process's; a key given twice
 * keeps its last value.
 *
 * Text output: the program's stdout goes to stdout and its stderr to stderr;
 * the exit status is the program's exit code, or 1 (with a message) when the
 * sandbox stopped it. --output json prints one object instead: status, error,
 * exit_code, stdout, stderr, fuel_used and the WASI-NN token counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "common.h"
#include "wasi.h"

#define MAX_ARGS 256
#define MAX_ENV 256

static void usage(FILE *f) {
    fprintf(f,
            "Usage: wicasd run-wasm PROGRAM.wasm [flags] [-- ARGS...]\n\n"
            "Runs a wasm32-wasi program in the deterministic WICAS sandbox (WASI preview1 +\n"
            "wasi_ephemeral_nn backed by the WICAS engine).\n\n"
            "Flags:\n"
            "  --model NAME=PATH        preload GGUF model PATH as WASI-NN model NAME (repeatable)\n"
            "  --nn-preload NAME:GGML:AUTO:PATH   the same, in WasmEdge's syntax\n"
            "  --models-dir DIR         host directory offered read-only as /models\n"
            "  --seed HEX64             32-byte seed for random_get and sampling (default zeros)\n"
            "  --block-time NS          realtime clock value in Unix nanoseconds (default 0)\n"
            "  --fuel N                 fuel limit (default %llu)\n"
            "  --memory MiB             linear memory limit (default %llu, at most 4096)\n"
            "  --stdout-cap BYTES       stdout limit (default %u)\n"
            "  --nn-max-tokens N        WASI-NN tokens generated per run at most (default %u)\n"
            "  --nn-max-prompt-tokens N WASI-NN prompt tokens per run at most (default: no bound)\n"
            "  --nn-max-computes N      WASI-NN generations per run at most (default 64)\n"
            "  -t, --threads N          engine threads for WASI-NN (output does not depend on it)\n"
            "  --stdin FILE             program stdin from FILE ('-' = this process's stdin)\n"
            "  --env KEY=VALUE          set KEY in the program's environment (repeatable)\n"
            "  --output text|json       output format (default text)\n",
            (unsigned long long)WICAS_WASI_DEFAULT_FUEL,
            (unsigned long long)(WICAS_WASI_DEFAULT_MEMORY >> 20), WICAS_WASI_DEFAULT_STDOUT_CAP,
            WICAS_WASI_DEFAULT_NN_TOKENS);
}

static bool wicas_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static uint8_t *read_stream(FILE *f, size_t max, size_t *len) {
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return NULL;
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n > max) {
            free(buf);
            errno = EFBIG;
            return NULL;
        }
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

int wicas_cmd_run_wasm(int argc, char **argv) {
    const char *program = NULL, *stdin_path = NULL;
    wicas_wasi_model models[WICAS_WASI_MAX_MODELS];
    char *model_specs[WICAS_WASI_MAX_MODELS];
    size_t n_models = 0;
    const char *prog_args[MAX_ARGS];
    size_t n_prog_args = 1;
    const char *env[MAX_ENV];
    size_t n_env = 0;
    bool json = false;
    int rc = 1;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (n_prog_args == MAX_ARGS) {
                    fprintf(stderr, "wicasd run-wasm: more than %d program arguments\n", MAX_ARGS - 1);
                    rc = 2;
                    goto out;
                }
                prog_args[n_prog_args++] = argv[i];
            }
        } else if ((strcmp(a, "--model") == 0 || strcmp(a, "--nn-preload") == 0) && v) {
            if (n_models == WICAS_WASI_MAX_MODELS) {
                fprintf(stderr, "wicasd run-wasm: at most %d models\n", WICAS_WASI_MAX_MODELS);
                rc = 2;
                goto out;
            }
            char *spec = strdup(v);
            if (!spec) goto out;
            model_specs[n_models] = spec;
            char *path;
            if (strcmp(a, "--model") == 0) {
                char *eq = strchr(spec, '=');
                if (!eq || eq == spec || !eq[1]) {
                    fprintf(stderr, "wicasd run-wasm: --model wants NAME=PATH, got '%s'\n", v);
                    free(spec);
                    rc = 2;
                    goto out;
                }
                *eq = 0;
                path = eq + 1;
            } else {
                /* NAME:ENCODING:TARGET:PATH (the path may itself contain ':') */
                char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL,
                     *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
                if (!c3 || c1 == spec || !c3[1]) {
                    fprintf(stderr, "wicasd run-wasm: --nn-preload wants NAME:GGML:AUTO:PATH, got '%s'\n", v);
                    free(spec);
                    rc = 2;
                    goto out;
                }
                *c1 = *c2 = *c3 = 0;
                if (strcasecmp(c1 + 1, "GGML") != 0) {
                    fprintf(stderr, "wicasd run-wasm: --nn-preload encoding '%s' unsupported (only GGML)\n",
                            c1 + 1);
                    free(spec);
                    rc = 2;
                    goto out;
                }
                path = c3 + 1;
            }
            models[n_models].name = spec;
            models[n_models].path = path;
            models[n_models].sha256 = NULL;
            n_models++;
            i++;
        } else if (strcmp(a, "--models-dir") == 0 && v) {
            cfg.models_dir = v;
            i++;
        } else if (strcmp(a, "--seed") == 0 && v) {
            if (strlen(v) != 64 || wicas_hex_decode(v, req.seed, 32) != 0) {
                fprintf(stderr, "wicasd run-wasm: --seed wants 64 hex digits\n");
                rc = 2;
                goto out;
            }
            i++;
        } else if (strcmp(a, "--block-time") == 0 && v) {
            if (!wicas_parse_u64(v, &u) || u > INT64_MAX) {
                fprintf(stderr, "wicasd run-wasm: bad --block-time '%s'\n", v);
                rc = 2;
                goto out;
            }
            req.block_time_ns = (int64_t)u;
            i++;
        } else if (strcmp(a, "--fuel") == 0 && v) {
            if (!wicas_parse_u64(v, &u) || u == 0) {
                fprintf(stderr, "wicasd run-wasm: bad --fuel '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.fuel_limit = u;
            i++;
        } else if (strcmp(a, "--memory") == 0 && v) {
            if (!wicas_parse_u64(v, &u) || u == 0 || u > 4096) {
                fprintf(stderr, "wicasd run-wasm: --memory wants 1..4096 MiB, got '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.memory_limit = u << 20;
            i++;
        } else if (strcmp(a, "--stdout-cap") == 0 && v) {
            if (!wicas_parse_u64(v, &u) || u == 0 || u > (1u << 30)) {
                fprintf(stderr, "wicasd run-wasm: bad --stdout-cap '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.stdout_cap = (size_t)u;
            i++;
        } else if (strcmp(a, "--nn-max-tokens") == 0 && v) {
            if (!wicas_parse_u64(v, &u) || u == 0 || u > (1u << 24)) {
                fprintf(stderr, "wicasd run-wasm: bad --nn-max-tokens '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.nn_max_tokens = (uint32_t)u;
            i++;
        } else if (strcmp(a, "--nn-max-prompt-tokens") == 0 && v) {
            /* the bounds a chain run_program request sets (docs/GAS.md) */
            if (!wicas_parse_u64(v, &u) || u == 0) {
                fprintf(stderr, "wicasd run-wasm: bad --nn-max-prompt-tokens '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.nn_max_prompt_tokens = u;
            i++;
        } else if (strcmp(a, "--nn-max-computes") == 0 && v) {
            if (!wicas_parse_u64(v, &u) || u == 0 || u > 64) {
                fprintf(stderr, "wicasd run-wasm: --nn-max-computes wants 1..64, got '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.nn_max_computes = (uint32_t)u;
            i++;
        } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) && v) {
            if (!wicas_parse_u64(v, &u) || u == 0 || u > 256) {
                fprintf(stderr, "wicasd run-wasm: -t wants 1..256, got '%s'\n", v);
                rc = 2;
                goto out;
            }
            cfg.n_threads = (uint32_t)u;
            i++;
        } else if (strcmp(a, "--env") == 0 && v) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                fprintf(stderr, "wicasd run-wasm: --env wants KEY=VALUE, got '%s'\n", v);
                rc = 2;
                goto out;
            }
            size_t k = 0; /* a key given again replaces its earlier value */
            while (k < n_env && !(strncmp(env[k], v, (size_t)(eq - v) + 1) == 0))
                k++;
            if (k < n_env) {
                env[k] = v;
                i++;
                continue;
            }
            if (n_env == MAX_ENV) {
                fprintf(stderr, "wicasd run-wasm: at most %d --env\n", MAX_ENV);
                rc = 2;
                goto out;
            }
            env[n_env++] = v;
            i++;
        } else if (strcmp(a, "--stdin") == 0 && v) {
            stdin_path = v;
            i++;
        } else if (strcmp(a, "--output") == 0 && v) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                fprintf(stderr, "wicasd run-wasm: --output wants text or json\n");
                rc = 2;
                goto out;
            }
            json = strcmp(v, "json") == 0;
            i++;
        } else if (a[0] != '-' && !program) {
            program = a;
        } else {
            fprintf(stderr, "wicasd run-wasm: unknown or incomplete flag '%s'\n\n", a);
            usage(stderr);
            rc = 2;
            goto out;
        }
    }
    if (!program) {
        usage(stderr);
        rc = 2;
        goto out;
    }

    size_t wasm_len = 0, stdin_len = 0;
    uint8_t *wasm = wicas_read_file(program, 256u << 20, &wasm_len);
    if (!wasm) {
        fprintf(stderr, "wicasd run-wasm: cannot read %s: %s\n", program, strerror(errno));
        goto out;
    }
    uint8_t *in = NULL;
    if (stdin_path) {
        if (strcmp(stdin_path, "-") == 0)
            in = read_stream(stdin, 64u << 20, &stdin_len);
        else
            in = wicas_read_file(stdin_path, 64u << 20, &stdin_len);
        if (!in) {
            fprintf(stderr, "wicasd run-wasm: cannot read stdin from %s: %s\n", stdin_path, strerror(errno));
            free(wasm);
            goto out;
        }
    }
    const char *base = strrchr(program, '/');
    prog_args[0] = base ? base + 1 : program;
    req.args = prog_args;
    req.n_args = n_prog_args;
    req.env = env;
    req.n_env = n_env;
    req.stdin_data = in;
    req.stdin_len = stdin_len;
    cfg.models = models;
    cfg.n_models = n_models;
    wicas_infer_cache *cache = n_models ? wicas_infer_cache_new() : NULL;
    cfg.cache = cache;

    wicas_wasi_result res;
    int r = wicas_wasi_run(&cfg, wasm, wasm_len, &req, &res);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", r == 0 ? "ok" : wicas_wasi_strerror(r));
        cJSON_AddStringToObject(o, "error", res.error);
        cJSON_AddNumberToObject(o, "exit_code", res.exit_code);
        cJSON_AddStringToObject(o, "stdout", res.out ? (const char *)res.out : "");
        cJSON_AddStringToObject(o, "stderr", res.err ? (const char *)res.err : "");
        cJSON_AddNumberToObject(o, "fuel_used", (double)res.fuel_used);
        cJSON_AddNumberToObject(o, "nn_prompt_tokens", (double)res.nn_prompt_tokens);
        cJSON_AddNumberToObject(o, "nn_generated_tokens", (double)res.nn_generated_tokens);
        cJSON_AddNumberToObject(o, "nn_computes", res.nn_computes);
        char *s = cJSON_PrintUnformatted(o);
        if (s) printf("%s\n", s);
        free(s);
        cJSON_Delete(o);
    } else {
        if (res.out_len) fwrite(res.out, 1, res.out_len, stdout);
        fflush(stdout);
        if (res.err_len) fwrite(res.err, 1, res.err_len, stderr);
        if (r != 0) fprintf(stderr, "wicasd run-wasm: %s: %s\n", wicas_wasi_strerror(r), res.error);
    }
    rc = r != 0 ? 1 : (json ? 0 : res.exit_code);
    wicas_wasi_result_free(&res);
    wicas_infer_cache_free(cache);
    free(wasm);
    free(in);
out:
    for (size_t k = 0; k < n_models; k++)
        free(model_specs[k]);
    return rc;
}
