/*
 * nn.c — wasi_ephemeral_nn (WASI-NN) host functions backed by the WICAS
 * engine, following the conventions of WasmEdge's GGML backend so that
 * programs written for it run unchanged:
 *
 *   load(builders, n, encoding, target, graph*)        builders[0] = "NAME" or
 *        "preload:NAME" of a preloaded model, builders[1] (optional) = JSON
 *        options; encoding must be GGML (6) or AUTODETECT (5)
 *   load_by_name(name, len, graph*)
 *   load_by_name_with_config(name, len, json, json_len, graph*)
 *   init_execution_context(graph, ctx*)
 *   set_input(ctx, index, tensor*)   index 0 = prompt bytes, 1 = JSON options
 *   compute(ctx)                     generates the whole completion
 *   get_output(ctx, index, buf, max, written*)  0 = text, 1 = metadata JSON
 *        (index 1 answers at any time on a live context, before compute too)
 *   compute_single / get_output_single / fini_single   token streaming
 *   unload(graph), finalize_execution_context(ctx)
 *
 * The tensor is 20 bytes on wasm32: dims ptr, dims len, type, data ptr, data
 * len (only the data is used, as WasmEdge does). Every call returns a WASI-NN
 * errno (WasmEdge's numbering, see wasi_internal.h).
 *
 * Options (JSON keys as WasmEdge names them; unknown keys are ignored, keys
 * with a wrong type are INVALID_ARGUMENT): "n-predict", "ctx-size", "temp",
 * "top-p", "top-k" (WICAS extension), "repeat-penalty", "repeat-last-n",
 * "seed", "enable-log", "enable-debug-log", "stream-stdout" (compute()
 * writes the completion to the program's stdout, see below),
 * "reverse-prompt" (a string of at most 256 bytes: compute() stops after
 * the token that completes it anywhere in the generated text, that token
 * included, as WasmEdge does; "" = none; the *_single calls ignore it, as
 * WasmEdge's do), "parse-special" (WICAS extension:
 * false reads special-token text such as "<|im_start|>" in the prompt as
 * plain text). Defaults: n-predict 128, ctx-size 1024, temp 0.8, top-p 0.95,
 * top-k 0, repeat-penalty 1.1 over the last 64, parse-special true: WasmEdge's
 * GGML backend always tokenizes the prompt with llama.cpp's parse_special on
 * (and BOS as the model asks), so a hand-written ChatML prompt reaches the
 * model as its special tokens.
 * Limits (the same on every node, so that no program can make one node fail
 * where another succeeds): ctx-size <= 4096 (and the model's trained
 * context), n-predict <= 8192, 8 graphs, 4 execution contexts, 64
 * generations per run, prompts <= 1 MiB, option JSON <= 64 KiB.
 *
 * Determinism: the prompt is used as given (no chat template; the program
 * writes its own, special tokens included), the sampling seed is wicas_wasi_nn_seed(request seed,
 * option "seed"), and the engine's output does not depend on the thread
 * count. Streaming replays a completion generated in full on the first
 * compute_single, token by token, so a stream and a compute() give the same
 * bytes and the same token counts.
 *
 * Metadata (output index 1) is
 *   {"input_tokens":N,"output_tokens":M,"stop":"eog|length|ctx|reverse-prompt|none","engine":"wicas"}
 * WasmEdge's programs read it right after set_input to count the prompt's
 * tokens, so before compute it answers the prompt's token count exactly as
 * compute will evaluate it (BOS per the model, "parse-special" honoured;
 * 0 without a prompt), output_tokens 0 and stop "none". (WasmEdge also has
 * llama.cpp's build number and commit there; programs printing them print
 * null. WasmEdge keeps the previous compute's output count until the next
 * compute; here a new prompt resets it to 0.) Counting before compute
 * tokenises the prompt once per prompt and options, charged by its length.
 *
 * "stream-stdout": as WasmEdge prints each token to stdout while compute()
 * generates it, compute() appends the completion's pieces, in order, to the
 * program's captured stdout (the same buffer fd_write(1) fills), so the
 * stdout bytes of a program that prints nothing else are exactly output 0.
 * Charged like fd_write; past the stdout cap the run stops with
 * WICAS_WASI_EOUTPUT after the pieces that fit. The *_single calls never
 * stream (as in WasmEdge).
 *
 * Token counts of every generation are added to the run's result so that the
 * embedder can price inference (gas = fuel + inference cost); the embedder's
 * nn_max_tokens caps the tokens generated per run, and at most 64 generations
 * run per run.
 */
#include "wasi_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MOD "wasi-nn"
#define MAX_GRAPHS 8
#define MAX_CTXS 4      /* live execution contexts (each holds a KV cache) */
#define MAX_COMPUTES 64 /* generations per run */
#define MAX_PROMPT_BYTES (1u << 20)
#define MAX_CONFIG_BYTES (64u << 10)
#define MAX_N_PREDICT 8192u
#define MAX_CTX_SIZE 4096u /* bounds the KV memory a program can make a node allocate */
#define MAX_REVERSE_PROMPT 256u
#define FUEL_NN_CALL 1000u
#define FUEL_NN_PER_16_BYTES 1u /* stream-stdout: what fd_write charges */
/* Counting a prompt's tokens before compute: a program may repeat
 * set_input + get_output(1) without bound, so the tokenisation is priced
 * like the wasm work it stands for (measured: ~115 ns/byte on English text,
 * ~600 ns/byte on 1 MiB of "abab...", with a unit of fuel ~1 ns). */
#define FUEL_NN_TOKENIZE_PER_BYTE 512u

/* Returned inside this file for failures of this node (model file missing or
 * with another hash, out of memory): the host function then stops the run
 * with h->stop_code/stop_msg instead of answering the program, since other
 * nodes would answer differently. */
#define HOST_FAIL (-1)

#define ENCODING_AUTODETECT 5
#define ENCODING_GGML 6

typedef struct {
    uint32_t n_predict, ctx_size, top_k, repeat_last_n;
    float temp, top_p, repeat_penalty;
    bool has_seed;
    uint64_t seed;
    bool enable_log;
    bool parse_special; /* "<|im_start|>" etc. in the prompt read as special tokens */
    bool stream_stdout; /* compute() writes the completion to the program's stdout */
    uint32_t rp_len;    /* "reverse-prompt": compute() stops once the text contains it */
    char reverse_prompt[MAX_REVERSE_PROMPT];
} nn_opts;

typedef struct {
    bool used;
    wicas_infer_model *model;
    char name[64];
    size_t entry; /* index of its preload entry in cfg->models */
    nn_opts opts;
} nn_graph;

typedef struct {
    bool used;
    int graph;
    nn_opts opts;
    char *prompt;
    size_t prompt_len;
    /* the prompt's token count for metadata before compute (valid until the
     * next set_input) */
    bool input_counted;
    uint32_t n_input_tokens;
    /* the prompt's tokens, made once per prompt and options (prompt_toks)
     * and evaluated by compute as they are; freed by set_input */
    int32_t *in_toks;
    size_t n_in_toks;
    wicas_infer_ctx *ictx;
    uint32_t ictx_n_ctx;
    /* last completion */
    bool computed;
    char *text;
    size_t text_len;
    uint32_t n_prompt_tokens, n_generated_tokens;
    wicas_infer_stop stop;
    /* streaming: piece i is text[piece_off[i] .. piece_off[i+1]) */
    size_t *piece_off;
    size_t n_pieces, piece_cap;
    bool streaming;
    size_t next_piece; /* pieces handed out so far */
    /* during a generation: the reverse prompt to watch for (0 = none), the
     * last bytes of the text so far (fewer than rp_len), whether it was met,
     * and whether this host ran out of memory recording pieces */
    uint32_t rp_len;
    char rp_tail[MAX_REVERSE_PROMPT];
    size_t rp_tail_len;
    bool rp_hit, oom;
} nn_exec;

struct wasi_nn_state {
    nn_graph graphs[MAX_GRAPHS];
    nn_exec ctxs[MAX_CTXS];
};

/* ---- helpers ------------------------------------------------------------------------ */

static wasm_trap_t *ret(wasmtime_val_t *results, int e) {
    results[0].kind = WASMTIME_I32;
    results[0].of.i32 = e;
    return NULL;
}
#define A32(i) ((uint32_t)args[i].of.i32)

#define PROLOGUE()                                                                                           \
    wicas_wasi_host *h = wicas_wasi_host_of(caller);                                                         \
    (void)nargs;                                                                                             \
    (void)nresults;                                                                                          \
    (void)env;                                                                                               \
    wasm_trap_t *charge_trap = wicas_wasi_host_charge(caller, FUEL_NN_CALL);                                 \
    if (charge_trap) return charge_trap;                                                                     \
    uint8_t *mem = NULL;                                                                                     \
    size_t mem_size = 0;                                                                                     \
    if (!wicas_wasi_guest_mem(caller, &mem, &mem_size)) return ret(results, NN_MISSING_MEMORY);              \
    struct wasi_nn_state *nn = state_of(h);                                                                  \
    if (!nn) return ret(results, NN_RUNTIME_ERROR);

/* Answers the program with errno rc, or stops the run on HOST_FAIL. */
#define FINISH(rc)                                                                                           \
    do {                                                                                                     \
        int rc_ = (rc);                                                                                      \
        if (rc_ == HOST_FAIL) return wasmtime_trap_new(h->stop_msg, strlen(h->stop_msg));                    \
        return ret(results, rc_);                                                                            \
    } while (0)

static int node_fail(wicas_wasi_host *h, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int node_fail(wicas_wasi_host *h, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->stop_msg, sizeof h->stop_msg, fmt, ap);
    va_end(ap);
    h->stop_code = code;
    return HOST_FAIL;
}

#define HOSTFN(name)                                                                                         \
    static wasm_trap_t *name(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs, \
                             wasmtime_val_t *results, size_t nresults)

static struct wasi_nn_state *state_of(wicas_wasi_host *h) {
    if (!h->nn) h->nn = calloc(1, sizeof *h->nn);
    return h->nn;
}

static void default_opts(nn_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = 128;
    o->ctx_size = 1024;
    o->temp = 0.8f;
    o->top_p = 0.95f;
    o->top_k = 0;
    o->repeat_penalty = 1.1f;
    o->repeat_last_n = 64;
    o->parse_special = true; /* WasmEdge's GGML backend always tokenizes so */
}

/* Reads an integer option in [0, max]; true if absent or valid. */
static bool opt_uint(const cJSON *doc, const char *key, uint64_t max, bool *present, uint64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    *present = v != NULL;
    if (!v) return true;
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0) || d > (double)max || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

static bool opt_float(const cJSON *doc, const char *key, double lo, double hi, bool lo_open, float *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v) return true;
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d < lo || d > hi || (lo_open && d == lo)) return false;
    *out = (float)d;
    return true;
}

static bool opt_bool(const cJSON *doc, const char *key, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v) return true;
    if (!cJSON_IsBool(v)) return false;
    *out = cJSON_IsTrue(v);
    return true;
}

/* Parses JSON options into *o (fields not mentioned keep their value).
 * Returns NN_SUCCESS, NN_INVALID_ENCODING (not a JSON object) or
 * NN_INVALID_ARGUMENT (a known key with a bad value); *o is untouched then. */
static int parse_opts(const uint8_t *json, size_t len, nn_opts *o, const char **bad_key) {
    *bad_key = "";
    if (len > MAX_CONFIG_BYTES) return NN_TOO_LARGE;
    cJSON *doc = cJSON_ParseWithLength((const char *)json, len);
    if (!doc || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return NN_INVALID_ENCODING;
    }
    /* A key given twice is ambiguous: refuse rather than pick one. */
    for (const cJSON *a = doc->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && strcmp(a->string, b->string) == 0) {
                *bad_key = "(duplicate key)";
                cJSON_Delete(doc);
                return NN_INVALID_ARGUMENT;
            }
    nn_opts t = *o;
    bool present, dummy = false;
    uint64_t u = 0;
    int rc = NN_SUCCESS;
#define UINT_OPT(key, field, max)                                                                            \
    if (rc == NN_SUCCESS) {                                                                                  \
        if (!opt_uint(doc, key, max, &present, &u)) {                                                        \
            rc = NN_INVALID_ARGUMENT;                                                                        \
            *bad_key = key;                                                                                  \
        } else if (present) {                                                                                \
            t.field = (uint32_t)u;                                                                           \
        }                                                                                                    \
    }
    UINT_OPT("n-predict", n_predict, MAX_N_PREDICT)
    UINT_OPT("ctx-size", ctx_size, MAX_CTX_SIZE)
    UINT_OPT("top-k", top_k, 1u << 20)
    UINT_OPT("repeat-last-n", repeat_last_n, 1u << 20)
#undef UINT_OPT
    if (rc == NN_SUCCESS) {
        if (!opt_uint(doc, "seed", 1ull << 53, &present, &u)) {
            rc = NN_INVALID_ARGUMENT;
            *bad_key = "seed";
        } else if (present) {
            t.has_seed = true;
            t.seed = u;
        }
    }
    if (rc == NN_SUCCESS && !opt_float(doc, "temp", 0, 100, false, &t.temp))
        rc = NN_INVALID_ARGUMENT, *bad_key = "temp";
    if (rc == NN_SUCCESS && !opt_float(doc, "top-p", 0, 1, true, &t.top_p))
        rc = NN_INVALID_ARGUMENT, *bad_key = "top-p";
    if (rc == NN_SUCCESS && !opt_float(doc, "repeat-penalty", 0, 100, true, &t.repeat_penalty))
        rc = NN_INVALID_ARGUMENT, *bad_key = "repeat-penalty";
    if (rc == NN_SUCCESS && !opt_bool(doc, "enable-log", &t.enable_log))
        rc = NN_INVALID_ARGUMENT, *bad_key = "enable-log";
    if (rc == NN_SUCCESS && !opt_bool(doc, "parse-special", &t.parse_special))
        rc = NN_INVALID_ARGUMENT, *bad_key = "parse-special";
    if (rc == NN_SUCCESS && !opt_bool(doc, "enable-debug-log", &dummy))
        rc = NN_INVALID_ARGUMENT, *bad_key = "enable-debug-log";
    if (rc == NN_SUCCESS && !opt_bool(doc, "stream-stdout", &t.stream_stdout))
        rc = NN_INVALID_ARGUMENT, *bad_key = "stream-stdout";
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(doc, "reverse-prompt");
    if (rc == NN_SUCCESS && rp) {
        size_t rl = cJSON_IsString(rp) ? strlen(rp->valuestring) : SIZE_MAX;
        if (rl > MAX_REVERSE_PROMPT) {
            rc = NN_INVALID_ARGUMENT;
            *bad_key = "reverse-prompt";
        } else {
            memcpy(t.reverse_prompt, rp->valuestring, rl);
            t.rp_len = (uint32_t)rl;
        }
    }
    cJSON_Delete(doc);
    if (rc == NN_SUCCESS) *o = t;
    return rc;
}

/* ---- graphs ------------------------------------------------------------------------------ */

/* Loads preloaded model `name` into a free graph slot. */
static int load_named(wicas_wasi_host *h, struct wasi_nn_state *nn, const char *name, size_t name_len,
                      const uint8_t *config, size_t config_len, uint32_t *graph_out) {
    const wicas_wasi_model *entry = NULL;
    for (size_t i = 0; i < h->cfg->n_models; i++)
        if (strlen(h->cfg->models[i].name) == name_len && memcmp(h->cfg->models[i].name, name, name_len) == 0)
            entry = &h->cfg->models[i];
    if (!entry) {
        WICAS_DEBUG(MOD, "load: no preloaded model named \"%.*s\"", (int)(name_len > 64 ? 64 : name_len),
                    name);
        return NN_NOT_FOUND;
    }
    int slot = -1;
    for (int i = 0; i < MAX_GRAPHS; i++)
        if (!nn->graphs[i].used) {
            slot = i;
            break;
        }
    if (slot < 0) return NN_BUSY;
    nn_graph *g = &nn->graphs[slot];
    default_opts(&g->opts);
    if (config) {
        const char *bad;
        int rc = parse_opts(config, config_len, &g->opts, &bad);
        if (rc) {
            WICAS_DEBUG(MOD, "load: bad config (key \"%s\")", bad);
            return rc;
        }
    }
    char err[256] = "";
    int rc = h->cfg->cache ? wicas_infer_cache_get(h->cfg->cache, entry->path, entry->sha256, &g->model, err,
                                                   sizeof err)
                           : wicas_infer_model_load(entry->path, NULL, NULL, &g->model, err, sizeof err);
    if (rc == 0 && entry->sha256 && !h->cfg->cache) {
        wicas_infer_model_info info;
        wicas_infer_model_get_info(g->model, &info);
        if (memcmp(info.sha256, entry->sha256, 32) != 0) {
            wicas_infer_model_release(g->model);
            rc = WICAS_INFER_EHASH;
            snprintf(err, sizeof err, "file SHA-256 differs from the expected one");
        }
    }
    if (rc != 0) {
        g->model = NULL;
        return node_fail(h, WICAS_WASI_EMODEL, "WASI-NN model \"%s\" (%s) cannot be used on this node: %s",
                         entry->name, entry->path, err[0] ? err : wicas_infer_strerror(rc));
    }
    g->used = true;
    snprintf(g->name, sizeof g->name, "%s", entry->name);
    g->entry = (size_t)(entry - h->cfg->models);
    *graph_out = (uint32_t)slot;
    return NN_SUCCESS;
}

HOSTFN(nn_load) {
    PROLOGUE()
    uint32_t builders = A32(0), n = A32(1), encoding = A32(2), graph_ptr = A32(4);
    if (!guest_range(mem_size, graph_ptr, 4)) return ret(results, NN_INVALID_ARGUMENT);
    if (encoding != ENCODING_GGML && encoding != ENCODING_AUTODETECT)
        return ret(results, NN_INVALID_ENCODING);
    if (n < 1 || n > 2 || !guest_range(mem_size, builders, (uint64_t)n * 8))
        return ret(results, NN_INVALID_ARGUMENT);
    uint32_t p0 = rd32(mem + builders), l0 = rd32(mem + builders + 4);
    if (!guest_range(mem_size, p0, l0)) return ret(results, NN_INVALID_ARGUMENT);
    const uint8_t *cfg = NULL;
    uint32_t cfg_len = 0;
    if (n == 2) {
        uint32_t p1 = rd32(mem + builders + 8);
        cfg_len = rd32(mem + builders + 12);
        if (!guest_range(mem_size, p1, cfg_len)) return ret(results, NN_INVALID_ARGUMENT);
        cfg = mem + p1;
    }
    const char *name = (const char *)mem + p0;
    size_t name_len = l0;
    if (name_len >= 8 && memcmp(name, "preload:", 8) == 0) {
        name += 8;
        name_len -= 8;
        const char *comma = memchr(name, ',', name_len); /* ",n_gpu_layers=..." suffixes: ignored */
        if (comma) name_len = (size_t)(comma - name);
    } else if (name_len >= 4 && memcmp(name, "GGUF", 4) == 0) {
        /* Model bytes inside the program: models must come from the
         * validators' preload table, whose hashes consensus pins. */
        WICAS_DEBUG(MOD, "load: models passed as bytes are not supported; preload them by name");
        return ret(results, NN_UNSUPPORTED_OPERATION);
    }
    uint32_t g = 0;
    int rc = load_named(h, nn, name, name_len, cfg, cfg_len, &g);
    if (rc == NN_SUCCESS) wr32(mem + graph_ptr, g);
    FINISH(rc);
}

HOSTFN(nn_load_by_name) {
    PROLOGUE()
    uint32_t p = A32(0), l = A32(1), graph_ptr = A32(2);
    if (!guest_range(mem_size, p, l) || !guest_range(mem_size, graph_ptr, 4))
        return ret(results, NN_INVALID_ARGUMENT);
    uint32_t g = 0;
    int rc = load_named(h, nn, (const char *)mem + p, l, NULL, 0, &g);
    if (rc == NN_SUCCESS) wr32(mem + graph_ptr, g);
    FINISH(rc);
}

HOSTFN(nn_load_by_name_with_config) {
    PROLOGUE()
    uint32_t p = A32(0), l = A32(1), cp = A32(2), cl = A32(3), graph_ptr = A32(4);
    if (!guest_range(mem_size, p, l) || !guest_range(mem_size, cp, cl) ||
        !guest_range(mem_size, graph_ptr, 4))
        return ret(results, NN_INVALID_ARGUMENT);
    uint32_t g = 0;
    int rc = load_named(h, nn, (const char *)mem + p, l, cl ? mem + cp : NULL, cl, &g);
    if (rc == NN_SUCCESS) wr32(mem + graph_ptr, g);
    FINISH(rc);
}

static void exec_reset_output(nn_exec *x) {
    free(x->text);
    free(x->piece_off);
    x->text = NULL;
    x->piece_off = NULL;
    x->text_len = x->n_pieces = x->piece_cap = x->next_piece = 0;
    x->computed = x->streaming = x->rp_hit = false;
    x->n_prompt_tokens = x->n_generated_tokens = 0;
}

/* Forgets the prompt's tokens (the prompt or the options changed). */
static void forget_toks(nn_exec *x) {
    free(x->in_toks);
    x->in_toks = NULL;
    x->n_in_toks = 0;
}

/* The prompt's tokens as the engine evaluates them (no chat template; the
 * options' parse-special), tokenised once per prompt and options: metadata
 * before compute and compute itself share them. 0 or an engine error. */
static int prompt_toks(nn_exec *x, const wicas_infer_model *model) {
    if (x->in_toks) return 0;
    return wicas_infer_prompt_tokens_ex(model, x->prompt, false, x->opts.parse_special, &x->in_toks,
                                        &x->n_in_toks);
}

static void exec_free(nn_exec *x) {
    exec_reset_output(x);
    forget_toks(x);
    free(x->prompt);
    if (x->ictx) wicas_infer_ctx_free(x->ictx);
    memset(x, 0, sizeof *x);
}

HOSTFN(nn_unload) {
    PROLOGUE()
    (void)mem;
    uint32_t g = A32(0);
    if (g >= MAX_GRAPHS || !nn->graphs[g].used) return ret(results, NN_INVALID_ARGUMENT);
    for (int i = 0; i < MAX_CTXS; i++)
        if (nn->ctxs[i].used && nn->ctxs[i].graph == (int)g) exec_free(&nn->ctxs[i]);
    wicas_infer_model_release(nn->graphs[g].model);
    memset(&nn->graphs[g], 0, sizeof nn->graphs[g]);
    return ret(results, NN_SUCCESS);
}

/* ---- execution contexts -------------------------------------------------------------------- */

static nn_exec *get_exec(struct wasi_nn_state *nn, uint32_t c) {
    if (c >= MAX_CTXS || !nn->ctxs[c].used) return NULL;
    return &nn->ctxs[c];
}

HOSTFN(nn_init_execution_context) {
    PROLOGUE()
    uint32_t g = A32(0), out = A32(1);
    if (!guest_range(mem_size, out, 4)) return ret(results, NN_INVALID_ARGUMENT);
    if (g >= MAX_GRAPHS || !nn->graphs[g].used) return ret(results, NN_INVALID_ARGUMENT);
    int slot = -1;
    for (int i = 0; i < MAX_CTXS; i++)
        if (!nn->ctxs[i].used) {
            slot = i;
            break;
        }
    if (slot < 0) return ret(results, NN_BUSY);
    nn_exec *x = &nn->ctxs[slot];
    memset(x, 0, sizeof *x);
    x->used = true;
    x->graph = (int)g;
    x->opts = nn->graphs[g].opts;
    wr32(mem + out, (uint32_t)slot);
    return ret(results, NN_SUCCESS);
}

HOSTFN(nn_finalize_execution_context) {
    PROLOGUE()
    (void)mem;
    nn_exec *x = get_exec(nn, A32(0));
    if (!x) return ret(results, NN_INVALID_ARGUMENT);
    exec_free(x);
    return ret(results, NN_SUCCESS);
}

HOSTFN(nn_set_input) {
    PROLOGUE()
    uint32_t index = A32(1), tp = A32(2);
    nn_exec *x = get_exec(nn, A32(0));
    if (!x) return ret(results, NN_INVALID_ARGUMENT);
    if (!guest_range(mem_size, tp, 20)) return ret(results, NN_INVALID_ARGUMENT);
    uint32_t dp = rd32(mem + tp + 12), dl = rd32(mem + tp + 16);
    if (!guest_range(mem_size, dp, dl)) return ret(results, NN_INVALID_ARGUMENT);
    if (index == 1) {
        const char *bad;
        int rc = parse_opts(mem + dp, dl, &x->opts, &bad);
        forget_toks(x); /* made with the old options */
        if (rc)
            WICAS_DEBUG(MOD, "set_input: bad options (key \"%s\")", bad);
        else
            x->input_counted = false; /* "parse-special" may have changed */
        return ret(results, rc);
    }
    if (index != 0) return ret(results, NN_INVALID_ARGUMENT);
    if (dl > MAX_PROMPT_BYTES) return ret(results, NN_TOO_LARGE);
    if (memchr(mem + dp, 0, dl)) return ret(results, NN_INVALID_ARGUMENT); /* the engine takes a C string */
    char *p = malloc((size_t)dl + 1);
    if (!p) return ret(results, NN_RUNTIME_ERROR);
    memcpy(p, mem + dp, dl);
    p[dl] = 0;
    free(x->prompt);
    x->prompt = p;
    x->prompt_len = dl;
    x->input_counted = false;
    forget_toks(x);
    exec_reset_output(x);
    return ret(results, NN_SUCCESS);
}

/* True when the text so far (the kept tail, then piece) contains the reverse
 * prompt; keeps the last rp_len - 1 bytes as the next tail. A match must end
 * inside the new piece, since earlier ones were looked for before. */
static bool reverse_prompt_met(nn_exec *x, const char *piece, size_t len) {
    char win[2 * MAX_REVERSE_PROMPT + 256];
    const char *rp = x->opts.reverse_prompt;
    size_t rl = x->rp_len, n = x->rp_tail_len;
    if (len > sizeof win - n) { /* a piece longer than the engine's 256 bytes (not produced) */
        piece += len - (sizeof win - n);
        len = sizeof win - n;
    }
    memcpy(win, x->rp_tail, n);
    memcpy(win + n, piece, len);
    n += len;
    for (size_t i = 0; i + rl <= n; i++)
        if (memcmp(win + i, rp, rl) == 0) return true;
    size_t keep = n < rl - 1 ? n : rl - 1;
    memcpy(x->rp_tail, win + n - keep, keep);
    x->rp_tail_len = keep;
    return false;
}

static bool on_token(int32_t token, const char *piece, size_t len, void *user) {
    (void)token;
    nn_exec *x = user;
    /* Record where each piece starts; the text itself comes from the result. */
    if (x->n_pieces + 2 > x->piece_cap) {
        size_t nc = x->piece_cap ? x->piece_cap * 2 : 64;
        size_t *np = realloc(x->piece_off, nc * sizeof *np);
        if (!np) {
            x->oom = true; /* this node's failure: the run stops, no shorter answer */
            return false;
        }
        x->piece_off = np;
        x->piece_cap = nc;
    }
    size_t start = x->n_pieces ? x->piece_off[x->n_pieces] : 0;
    if (x->n_pieces == 0) x->piece_off[0] = 0;
    x->piece_off[x->n_pieces + 1] = start + len;
    x->n_pieces++;
    if (x->rp_len && reverse_prompt_met(x, piece, len)) {
        x->rp_hit = true;
        return false;
    }
    return true;
}

/* Runs one generation for x; with_rp: compute() (the reverse prompt applies)
 * rather than compute_single. Returns a WASI-NN errno. */
static int generate(wicas_wasi_host *h, struct wasi_nn_state *nn, nn_exec *x, bool with_rp) {
    if (!x->prompt) return NN_INVALID_ARGUMENT;
    uint32_t max_computes = h->cfg->nn_max_computes && h->cfg->nn_max_computes < MAX_COMPUTES
                                ? h->cfg->nn_max_computes
                                : MAX_COMPUTES;
    if (h->nn_computes >= max_computes) return NN_BUSY;
    uint64_t budget = h->cfg->nn_max_tokens ? h->cfg->nn_max_tokens : WICAS_WASI_DEFAULT_NN_TOKENS;
    uint64_t left = budget > h->nn_generated_tokens ? budget - h->nn_generated_tokens : 0;
    if (left == 0 && x->opts.n_predict > 0) {
        WICAS_DEBUG(MOD, "compute: the run's budget of %llu generated tokens is spent",
                    (unsigned long long)budget);
        return NN_TOO_LARGE;
    }
    nn_graph *g = &nn->graphs[x->graph];
    exec_reset_output(x);
    wicas_infer_model_info info;
    wicas_infer_model_get_info(g->model, &info);
    uint32_t n_ctx = x->opts.ctx_size ? x->opts.ctx_size : 1024;
    if (info.n_ctx_train && n_ctx > info.n_ctx_train) n_ctx = info.n_ctx_train;
    if (!x->ictx || x->ictx_n_ctx != n_ctx) {
        if (x->ictx) wicas_infer_ctx_free(x->ictx);
        x->ictx = NULL;
        wicas_infer_ctx_params cp = {.n_ctx = n_ctx, .n_threads = h->cfg->n_threads ? h->cfg->n_threads : 1};
        if (wicas_infer_ctx_new(g->model, &cp, &x->ictx) != 0)
            return node_fail(h, WICAS_WASI_ENOMEM, "WASI-NN: cannot create an inference context of %u tokens",
                             n_ctx);
        x->ictx_n_ctx = n_ctx;
    }
    {
        /* The prompt is counted exactly as the engine will tokenise it and
         * refused before any work when it does not fit: the context (a
         * request error every node sees alike: PROMPT_TOO_LONG) and the
         * embedder's prompt budget (TOO_LARGE). */
        int trc = prompt_toks(x, g->model);
        size_t n_toks = x->n_in_toks;
        if (trc != 0 && wicas_infer_err_class(trc) == WICAS_ERRCLASS_REQUEST) return NN_INVALID_ARGUMENT;
        if (trc != 0)
            return node_fail(h, WICAS_WASI_ENOMEM, "WASI-NN: cannot tokenise the prompt on this node: %s",
                             wicas_infer_strerror(trc));
        if (n_toks >= n_ctx) {
            WICAS_DEBUG(MOD, "compute: a prompt of %zu tokens does not fit the context of %u", n_toks, n_ctx);
            return NN_PROMPT_TOO_LONG;
        }
        uint64_t pleft = h->cfg->nn_max_prompt_tokens > h->nn_prompt_tokens
                             ? h->cfg->nn_max_prompt_tokens - h->nn_prompt_tokens
                             : 0;
        if (h->cfg->nn_max_prompt_tokens && n_toks > pleft) {
            WICAS_DEBUG(MOD,
                        "compute: a prompt of %zu tokens does not fit the run's prompt budget (%llu left)",
                        n_toks, (unsigned long long)pleft);
            return NN_TOO_LARGE;
        }
    }
    h->nn_computes++;
    h->nn_model_computes[g->entry]++;
    if (x->opts.n_predict == 0) { /* nothing to generate: still count the prompt */
        x->text = calloc(1, 1);
        x->computed = x->text != NULL;
        return x->text ? NN_SUCCESS : node_fail(h, WICAS_WASI_ENOMEM, "WASI-NN: out of memory");
    }
    wicas_infer_gen_params p;
    wicas_infer_gen_params_default(&p);
    p.max_tokens = x->opts.n_predict < left ? x->opts.n_predict : (uint32_t)left;
    p.temperature = x->opts.temp;
    p.top_k = x->opts.top_k;
    p.top_p = x->opts.top_p;
    p.repeat_penalty = x->opts.repeat_penalty;
    p.repeat_last_n = x->opts.repeat_last_n ? x->opts.repeat_last_n : 64;
    p.chat = false;
    p.parse_special = x->opts.parse_special;
    wicas_wasi_nn_seed(h->req->seed, x->opts.has_seed, x->opts.seed, p.seed);
    wicas_infer_result r;
    memset(&r, 0, sizeof r);
    x->rp_len = with_rp ? x->opts.rp_len : 0;
    x->rp_tail_len = 0;
    x->rp_hit = x->oom = false;
    /* the tokens counted above: the prompt is not tokenised again */
    int rc = wicas_infer_generate_tokens(x->ictx, x->in_toks, x->n_in_toks, &p, on_token, x, &r);
    if (rc == 0 && x->oom) rc = WICAS_INFER_ENOMEM;
    if (rc != 0) {
        WICAS_DEBUG(MOD, "compute: %s", wicas_infer_strerror(rc));
        wicas_infer_result_free(&r);
        exec_reset_output(x);
        if (rc == WICAS_INFER_ECTX) return NN_PROMPT_TOO_LONG;
        if (wicas_infer_err_class(rc) == WICAS_ERRCLASS_REQUEST) return NN_INVALID_ARGUMENT;
        return node_fail(h, WICAS_WASI_ENOMEM, "WASI-NN: generation failed on this node: %s",
                         wicas_infer_strerror(rc));
    }
    x->text = r.text; /* taken over */
    x->text_len = r.text_len;
    r.text = NULL;
    x->n_prompt_tokens = r.n_prompt_tokens;
    x->n_generated_tokens = r.n_generated_tokens;
    x->stop = r.stop;
    wicas_infer_result_free(&r);
    /* Pieces that do not add up to the text (should not happen) disable streaming by piece. */
    if (x->n_pieces && x->piece_off[x->n_pieces] != x->text_len) x->n_pieces = 0;
    x->computed = true;
    x->input_counted = true;
    x->n_input_tokens = x->n_prompt_tokens;
    h->nn_prompt_tokens += x->n_prompt_tokens;
    h->nn_generated_tokens += x->n_generated_tokens;
    h->nn_model_prompt_tokens[g->entry] += x->n_prompt_tokens;
    h->nn_model_generated_tokens[g->entry] += x->n_generated_tokens;
    if (x->opts.enable_log)
        WICAS_INFO(MOD, "model %s: %u prompt tokens, %u generated", g->name, x->n_prompt_tokens,
                   x->n_generated_tokens);
    return NN_SUCCESS;
}

/* "stream-stdout": the completion's pieces, in order, onto the program's
 * stdout. Returns NULL or the trap that stops the run (fuel, stdout cap). */
static wasm_trap_t *stream_to_stdout(wasmtime_caller_t *caller, wicas_wasi_host *h, const nn_exec *x) {
    wasm_trap_t *t = wicas_wasi_host_charge(caller, x->text_len / 16 * FUEL_NN_PER_16_BYTES);
    if (t) return t;
    size_t n = x->n_pieces ? x->n_pieces : 1;
    for (size_t i = 0; i < n; i++) {
        size_t a = x->n_pieces ? x->piece_off[i] : 0, b = x->n_pieces ? x->piece_off[i + 1] : x->text_len;
        if (!wicas_wasi_stdout_append(h, (const uint8_t *)x->text + a, b - a))
            return wicas_wasi_host_stop(
                h, WICAS_WASI_EOUTPUT,
                "WASI-NN stream-stdout wrote more than %zu bytes to stdout (the output limit); stopped",
                h->out_cap);
    }
    return NULL;
}

HOSTFN(nn_compute) {
    PROLOGUE()
    (void)mem;
    nn_exec *x = get_exec(nn, A32(0));
    if (!x) return ret(results, NN_INVALID_ARGUMENT);
    x->streaming = false;
    int rc = generate(h, nn, x, true);
    if (rc == NN_SUCCESS && x->opts.stream_stdout && x->text_len) {
        wasm_trap_t *t = stream_to_stdout(caller, h, x);
        if (t) return t;
    }
    FINISH(rc);
}

static int copy_out(uint8_t *mem, size_t mem_size, uint32_t out, uint32_t max, uint32_t written_ptr,
                    const char *data, size_t len) {
    if (!guest_range(mem_size, out, max) || !guest_range(mem_size, written_ptr, 4))
        return NN_INVALID_ARGUMENT;
    if (len > max) return NN_TOO_LARGE;
    if (len) memcpy(mem + out, data, len);
    wr32(mem + written_ptr, (uint32_t)len);
    return NN_SUCCESS;
}

static const char *stop_name(wicas_infer_stop s) {
    switch (s) {
    case WICAS_INFER_STOP_EOG:
        return "eog";
    case WICAS_INFER_STOP_LENGTH:
        return "length";
    case WICAS_INFER_STOP_CTX:
        return "ctx";
    default:
        return "callback";
    }
}

/* The current prompt's token count as generate() will evaluate it, counted
 * once per prompt and options (the tokenisation charged by prompt length).
 * Sets *n (0 without a prompt); returns a WASI-NN errno or HOST_FAIL, or NULL
 * in *trap when the charge ran out of fuel. */
static int input_tokens(wasmtime_caller_t *caller, wicas_wasi_host *h, struct wasi_nn_state *nn, nn_exec *x,
                        uint32_t *n, wasm_trap_t **trap) {
    *trap = NULL;
    *n = 0;
    if (!x->prompt) return NN_SUCCESS;
    if (!x->input_counted) {
        *trap = wicas_wasi_host_charge(caller, (uint64_t)x->prompt_len * FUEL_NN_TOKENIZE_PER_BYTE);
        if (*trap) return NN_SUCCESS;
        int trc = prompt_toks(x, nn->graphs[x->graph].model);
        size_t n_toks = x->n_in_toks;
        if (trc == WICAS_INFER_EARG || trc == WICAS_INFER_ETOKEN) return NN_INVALID_ARGUMENT;
        if (trc != 0)
            return node_fail(h, WICAS_WASI_ENOMEM, "WASI-NN: cannot tokenise the prompt on this node: %s",
                             wicas_infer_strerror(trc));
        x->n_input_tokens = (uint32_t)n_toks; /* a prompt is at most 1 MiB */
        x->input_counted = true;
    }
    *n = x->n_input_tokens;
    return NN_SUCCESS;
}

HOSTFN(nn_get_output) {
    PROLOGUE()
    uint32_t index = A32(1), out = A32(2), max = A32(3), wp = A32(4);
    nn_exec *x = get_exec(nn, A32(0));
    if (!x) return ret(results, NN_INVALID_ARGUMENT);
    if (index == 0) {
        if (!x->computed) return ret(results, NN_INVALID_ARGUMENT);
        return ret(results, copy_out(mem, mem_size, out, max, wp, x->text, x->text_len));
    }
    if (index != 1) return ret(results, NN_INVALID_ARGUMENT);
    uint32_t n_in = x->n_prompt_tokens, n_out = x->n_generated_tokens;
    const char *stop = x->rp_hit ? "reverse-prompt" : stop_name(x->stop);
    if (!x->computed) { /* metadata before compute: the prompt as it will be evaluated */
        wasm_trap_t *trap;
        int rc = input_tokens(caller, h, nn, x, &n_in, &trap);
        if (trap) return trap;
        if (rc) FINISH(rc);
        n_out = 0;
        stop = "none";
    }
    char meta[256];
    int n = snprintf(meta, sizeof meta,
                     "{\"input_tokens\":%u,\"output_tokens\":%u,\"stop\":\"%s\",\"engine\":\"wicas\"}", n_in,
                     n_out, stop);
    return ret(results, copy_out(mem, mem_size, out, max, wp, meta, (size_t)n));
}

/* Streaming: the first compute_single generates the completion; each call
 * then advances by one token, END_OF_SEQUENCE after the last. */
HOSTFN(nn_compute_single) {
    PROLOGUE()
    (void)mem;
    nn_exec *x = get_exec(nn, A32(0));
    if (!x) return ret(results, NN_INVALID_ARGUMENT);
    if (!x->streaming) {
        int rc = generate(h, nn, x, false);
        if (rc) FINISH(rc);
        x->streaming = true;
        x->next_piece = 0;
    }
    size_t total = x->n_pieces ? x->n_pieces : (x->text_len ? 1 : 0);
    if (x->next_piece >= total) return ret(results, NN_END_OF_SEQUENCE);
    x->next_piece++;
    return ret(results, NN_SUCCESS);
}

HOSTFN(nn_get_output_single) {
    PROLOGUE()
    uint32_t index = A32(1), out = A32(2), max = A32(3), wp = A32(4);
    nn_exec *x = get_exec(nn, A32(0));
    if (!x || !x->streaming || x->next_piece == 0) return ret(results, NN_INVALID_ARGUMENT);
    if (index != 0) return ret(results, NN_INVALID_ARGUMENT);
    size_t i = x->next_piece - 1, a = 0, b = x->text_len;
    if (x->n_pieces) {
        a = x->piece_off[i];
        b = x->piece_off[i + 1];
    }
    return ret(results, copy_out(mem, mem_size, out, max, wp, x->text + a, b - a));
}

HOSTFN(nn_fini_single) {
    PROLOGUE()
    (void)mem;
    nn_exec *x = get_exec(nn, A32(0));
    if (!x) return ret(results, NN_INVALID_ARGUMENT);
    x->streaming = false;
    x->next_piece = 0;
    return ret(results, NN_SUCCESS);
}

void wicas_wasi_nn_free(wicas_wasi_host *h) {
    if (!h->nn) return;
    for (int i = 0; i < MAX_CTXS; i++)
        if (h->nn->ctxs[i].used) exec_free(&h->nn->ctxs[i]);
    for (int i = 0; i < MAX_GRAPHS; i++)
        if (h->nn->graphs[i].used) wicas_infer_model_release(h->nn->graphs[i].model);
    free(h->nn);
    h->nn = NULL;
}

void wicas_wasi_nn_seed(const uint8_t request_seed[32], bool has_option, uint64_t option, uint8_t out[32]) {
    if (!has_option) {
        memcpy(out, request_seed, 32);
        return;
    }
    uint8_t buf[32 + 12 + 8];
    memcpy(buf, request_seed, 32);
    memcpy(buf + 32, "wasi-nn-seed", 12);
    for (int i = 0; i < 8; i++)
        buf[44 + i] = (uint8_t)(option >> (8 * i));
    wicas_sha256(buf, sizeof buf, out);
}

#define FN(name, cb, p)                                                                                      \
    { name, p, "i", cb, 0 }
const wasi_hostfn wicas_wasi_nn_fns[] = {
    FN("load", nn_load, "iiiii"),
    FN("load_by_name", nn_load_by_name, "iii"),
    FN("load_by_name_with_config", nn_load_by_name_with_config, "iiiii"),
    FN("unload", nn_unload, "i"),
    FN("init_execution_context", nn_init_execution_context, "ii"),
    FN("finalize_execution_context", nn_finalize_execution_context, "i"),
    FN("set_input", nn_set_input, "iii"),
    FN("compute", nn_compute, "i"),
    FN("get_output", nn_get_output, "iiiii"),
    FN("compute_single", nn_compute_single, "i"),
    FN("get_output_single", nn_get_output_single, "iiiii"),
    FN("fini_single", nn_fini_single, "i"),
};
const size_t wicas_wasi_nn_n = sizeof wicas_wasi_nn_fns / sizeof wicas_wasi_nn_fns[0];
