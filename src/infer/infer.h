/*
 * infer.h — the WICAS inference engine: deterministic llama-family inference
 * on the CPU from GGUF model files (architectures llama, qwen2, qwen3, gemma3,
 * phi3; see model.c for what each reads and what is refused).
 *
 * The promise of this module is that the same model bytes and the same inputs
 * give the same output bytes (logits, tokens, text) on every validator: any
 * thread count, scalar or AVX2 or AVX-512 kernels, any optimisation level.
 * This is by construction: activations are quantised to 8-bit blocks so that
 * the inner products of quantised weights are exact integer sums, the blocks
 * are combined in one canonical floating-point order that every kernel
 * replicates, each output value is computed by exactly one thread, and
 * exp/sin/cos come from the project's own deterministic math (detmath.h).
 *
 * Objects:
 *   wicas_infer_model   an immutable, validated, mmap'd model (shareable
 *                       between threads and contexts; refcounted)
 *   wicas_infer_cache   models kept resident, keyed by the file's SHA-256
 *   wicas_infer_ctx     a session: KV cache, thread pool, scratch buffers
 *                       (one thread at a time)
 *
 * Every function returning int returns 0 (WICAS_INFER_OK) on success or a
 * negative WICAS_INFER_E* code; wicas_infer_strerror names it, and functions
 * that take an err buffer also write a message saying what went wrong where.
 */
#ifndef WICAS_INFER_H
#define WICAS_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------------ */
#define WICAS_INFER_OK 0
#define WICAS_INFER_EIO (-1)          /* file cannot be opened/read/mapped */
#define WICAS_INFER_EFORMAT (-2)      /* malformed GGUF or model metadata */
#define WICAS_INFER_EUNSUPPORTED (-3) /* valid but unsupported (arch, tensor type, version) */
#define WICAS_INFER_ENOMEM (-4)       /* allocation failed */
#define WICAS_INFER_EARG (-5)         /* invalid argument (NULL, out of range) */
#define WICAS_INFER_ECTX (-6)         /* context window full */
#define WICAS_INFER_EHASH (-7)        /* file SHA-256 differs from the expected one */
#define WICAS_INFER_ETOKEN (-8)       /* tokenizer failure (bad id, buffer too small) */
#define WICAS_INFER_ECANCEL (-9)      /* stopped by a callback */

/* A static string naming the error code (never NULL). */
const char *wicas_infer_strerror(int err);

/* Who is at fault for an error (docs/GAS.md, "Errors and their class"):
 *   WICAS_ERRCLASS_REQUEST  a pure function of the request and the model's
 *                           bytes (EARG, ECTX, ETOKEN): every node gets the
 *                           same error, so a chain returns it to the caller;
 *   WICAS_ERRCLASS_NODE     this node's own trouble (EIO, EFORMAT,
 *                           EUNSUPPORTED, EHASH: the local file; ENOMEM;
 *                           ECANCEL): another node may succeed, so a chain
 *                           must stop rather than answer differently.
 * wicas_infer_err_class(0) is WICAS_ERRCLASS_NONE; unknown codes are NODE.
 * The tokenizer's and the sampler's codes have their own class functions
 * (tokenizer.h, sampler.h) with the same values. */
#define WICAS_ERRCLASS_NONE 0
#define WICAS_ERRCLASS_REQUEST 1
#define WICAS_ERRCLASS_NODE 2
int wicas_infer_err_class(int err);

/* ---- models ---------------------------------------------------------------------- */
typedef struct wicas_infer_model wicas_infer_model;

/* Load progress: called with done/total bytes hashed; return false to cancel. */
typedef bool (*wicas_infer_progress_fn)(uint64_t done, uint64_t total, void *user);

typedef struct {
    char arch[32];      /* general.architecture, e.g. "llama", "gemma3" */
    char name[64];      /* general.name (may be empty) */
    uint64_t n_params;  /* total elements of all tensors */
    uint64_t file_size; /* bytes */
    uint8_t sha256[32]; /* of the whole file */
    uint32_t n_layers, n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab;
    uint32_t n_ctx_train; /* llama.context_length */
    float rope_base, norm_eps;
} wicas_infer_model_info;

/* Loads and validates a GGUF model: maps the file, checks the container and
 * every tensor the architecture needs (names, shapes, types), builds the
 * tokenizer, and computes the file's SHA-256 (progress reported through
 * progress, which may be NULL). On success *out holds one reference.
 * Returns 0, or EIO/EFORMAT/EUNSUPPORTED/ENOMEM/ECANCEL with a message in err. */
int wicas_infer_model_load(const char *path, wicas_infer_progress_fn progress, void *user,
                           wicas_infer_model **out, char *err, size_t errlen);

/* Reference counting: retain adds one, release drops one and frees the model
 * (unmapping the file) at zero. release(NULL) does nothing. */
void wicas_infer_model_retain(wicas_infer_model *m);
void wicas_infer_model_release(wicas_infer_model *m);

/* Fills *info. */
void wicas_infer_model_get_info(const wicas_infer_model *m, wicas_infer_model_info *info);

/* The context length (tokens) of a context created with n_ctx 0:
 * min(2048, trained context). A generation of P prompt tokens and up to G
 * new ones fits when P + G <= this (wicas_infer_generate refuses P >= it). */
uint32_t wicas_infer_model_default_ctx(const wicas_infer_model *m);

/* ---- model cache -------------------------------------------------------------- */
typedef struct wicas_infer_cache wicas_infer_cache;

/* A thread-safe set of resident models keyed by file SHA-256. */
wicas_infer_cache *wicas_infer_cache_new(void);
/* Releases the cache's references (models still retained elsewhere live on). */
void wicas_infer_cache_free(wicas_infer_cache *c);

/* Returns in *out a new reference to the model in file path. If the file's
 * hash (of its current bytes) matches a resident model, that one is returned
 * without re-parsing; else the file is loaded and added. If expected_sha256 is
 * not NULL, a file with another hash gives EHASH and nothing is cached.
 * The caller releases *out with wicas_infer_model_release. */
int wicas_infer_cache_get(wicas_infer_cache *c, const char *path, const uint8_t expected_sha256[32],
                          wicas_infer_model **out, char *err, size_t errlen);

/* Like cache_get but only by hash: a resident model or NULL (a new reference). */
wicas_infer_model *wicas_infer_cache_find(wicas_infer_cache *c, const uint8_t sha256[32]);

/* Number of resident models. */
size_t wicas_infer_cache_size(wicas_infer_cache *c);

/* ---- tokens -------------------------------------------------------------------- */
/* Tokenizes text (len bytes) into out (cap slots); *n_out gets the count.
 * add_bos follows the model's tokenizer.ggml.add_bos_token when requested.
 * Special tokens written in text (e.g. "<|im_start|>") are recognised when
 * parse_special. Returns 0, or ETOKEN when cap is too small. */
int wicas_infer_tokenize(const wicas_infer_model *m, const char *text, size_t len, bool add_bos,
                         bool parse_special, int32_t *out, size_t cap, size_t *n_out);
/* Appends the bytes of token id to buf (cap bytes); *n gets the length. */
int wicas_infer_token_piece(const wicas_infer_model *m, int32_t id, char *buf, size_t cap, size_t *n);
/* True for end-of-generation tokens (EOS, EOT, ...). */
bool wicas_infer_token_is_eog(const wicas_infer_model *m, int32_t id);

/* ---- contexts --------------------------------------------------------------------- */
typedef struct wicas_infer_ctx wicas_infer_ctx;

typedef struct {
    uint32_t n_ctx;     /* KV cache length in tokens; 0 = min(2048, trained context) */
    uint32_t n_threads; /* worker threads; 0 = 1. Results do not depend on it. */
} wicas_infer_ctx_params;

/* Creates a session on m (which it retains). Returns 0 or EARG/ENOMEM. */
int wicas_infer_ctx_new(wicas_infer_model *m, const wicas_infer_ctx_params *p, wicas_infer_ctx **out);
void wicas_infer_ctx_free(wicas_infer_ctx *ctx);
/* Forgets the KV cache (the next eval starts at position 0). */
void wicas_infer_ctx_reset(wicas_infer_ctx *ctx);
/* Changes the thread count (restarts the pool). */
int wicas_infer_ctx_set_threads(wicas_infer_ctx *ctx, uint32_t n_threads);
/* Tokens held in the KV cache. */
uint32_t wicas_infer_ctx_pos(const wicas_infer_ctx *ctx);

/* Runs the model on n tokens appended at the current position (batched
 * prefill). When logits_all is NULL only the last token's logits are kept
 * (wicas_infer_logits). When not NULL, it receives n * n_vocab floats, row i
 * the logits after token i. Returns 0, EARG (bad id), ECTX (cache full). */
int wicas_infer_eval(wicas_infer_ctx *ctx, const int32_t *tokens, size_t n, float *logits_all);
/* The logits after the last evaluated token (n_vocab floats, owned by ctx). */
const float *wicas_infer_logits(const wicas_infer_ctx *ctx);

/* SHA-256 over the little-endian bytes of all logits of a token sequence run
 * from an empty cache (resets ctx first). For determinism tests. */
int wicas_infer_logits_hash(wicas_infer_ctx *ctx, const int32_t *tokens, size_t n, uint8_t out[32]);

/* Kernel path, for tests and benchmarks. AUTO picks the best the CPU has,
 * unless the environment variable WICAS_KERNELS=scalar|avx2|avx512|neon says
 * otherwise. Results are identical for every path. */
typedef enum {
    WICAS_KERNELS_AUTO = 0,
    WICAS_KERNELS_SCALAR,
    WICAS_KERNELS_AVX2,
    WICAS_KERNELS_AVX512,
    WICAS_KERNELS_NEON
} wicas_kernels;
/* Forces a path for the whole process; returns EUNSUPPORTED if this build or
 * CPU lacks it. */
int wicas_infer_set_kernels(wicas_kernels k);
/* The path in use ("scalar", "avx2", "avx512", "neon"). */
const char *wicas_infer_kernels_name(void);

/* ---- generation ------------------------------------------------------------------- */
typedef struct {
    uint32_t max_tokens;    /* tokens to generate at most (0 = 128) */
    float temperature;      /* 0 = greedy */
    uint32_t top_k;         /* 0 = off */
    float top_p;            /* 1 = off */
    float repeat_penalty;   /* 1 = off */
    uint32_t repeat_last_n; /* window of the penalty (0 = 64) */
    uint8_t seed[32];       /* all randomness derives from these bytes */
    bool chat;              /* wrap prompt as one user message in the model's chat template */
    bool parse_special;     /* special tokens written in the prompt ("<|im_start|>") are read as
                               their ids, not as text; always so when chat */
    uint32_t n_threads;     /* 0 = keep the context's */
} wicas_infer_gen_params;

/* Defaults: max_tokens 128, greedy, top_k 0, top_p 1, penalty 1, seed zero,
 * no chat template, special tokens in the prompt read as text. */
void wicas_infer_gen_params_default(wicas_infer_gen_params *p);

typedef enum {
    WICAS_INFER_STOP_EOG = 0,    /* the model emitted an end-of-generation token */
    WICAS_INFER_STOP_LENGTH = 1, /* max_tokens reached */
    WICAS_INFER_STOP_CTX = 2,    /* context window full */
    WICAS_INFER_STOP_CALLBACK = 3
} wicas_infer_stop;

typedef struct {
    char *text; /* generated text, NUL-terminated, malloc'd (free()) */
    size_t text_len;
    uint32_t n_prompt_tokens, n_generated_tokens;
    wicas_infer_stop stop;
    double prefill_seconds, decode_seconds; /* wall clock, for reporting only */
} wicas_infer_result;

/* Called for each generated token with its bytes; return false to stop. */
typedef bool (*wicas_infer_token_fn)(int32_t token, const char *piece, size_t len, void *user);

/* Generates a completion of prompt (NUL-terminated) from an empty KV cache.
 * Stops at an end-of-generation token (not included in text), max_tokens, a
 * full context, or when on_token returns false. result->text is always set
 * on success. Returns 0, or EARG/ETOKEN/ECTX (prompt longer than the
 * context)/ENOMEM. */
int wicas_infer_generate(wicas_infer_ctx *ctx, const char *prompt, const wicas_infer_gen_params *p,
                         wicas_infer_token_fn on_token, void *user, wicas_infer_result *result);

/* Like wicas_infer_generate, from prompt tokens the caller already has (what
 * wicas_infer_prompt_tokens_ex gave for p's chat and parse_special, e.g. when
 * it priced the request): the prompt is not tokenised again, and p->chat and
 * p->parse_special are not used. Given the tokens of a prompt, the result is
 * byte for byte wicas_infer_generate's for that prompt. tokens is borrowed.
 * Returns 0, or EARG (no tokens, an id outside the vocabulary, bad sampling
 * parameters)/ECTX (n >= the context)/ENOMEM. */
int wicas_infer_generate_tokens(wicas_infer_ctx *ctx, const int32_t *tokens, size_t n,
                                const wicas_infer_gen_params *p, wicas_infer_token_fn on_token, void *user,
                                wicas_infer_result *result);
void wicas_infer_result_free(wicas_infer_result *r);

/* The exact prompt tokens wicas_infer_generate would evaluate for prompt
 * (chat template applied when chat, BOS per the model), without running the
 * model: callers price a request before they run it, then run these tokens
 * with wicas_infer_generate_tokens (one tokenisation). *tokens gets a malloc'd
 * array of *n ids (free()). Returns 0, or EARG/ETOKEN/ENOMEM. */
int wicas_infer_prompt_tokens(const wicas_infer_model *m, const char *prompt, bool chat, int32_t **tokens,
                              size_t *n);
/* Like wicas_infer_prompt_tokens, with the generation flag parse_special
 * (special tokens written in a prompt without chat template are read as their
 * ids); the tokens wicas_infer_generate evaluates for the same chat and
 * parse_special. */
int wicas_infer_prompt_tokens_ex(const wicas_infer_model *m, const char *prompt, bool chat,
                                 bool parse_special, int32_t **tokens, size_t *n);

/* ---- ChaCha20 (RFC 8439): the engine's sampling stream, shared with others that need
 * a deterministic keystream (the WASI sandbox's random_get) ---------------------- */

/* One 64-byte ChaCha20 block: key[32], 32-bit block counter, nonce[12]. */
void wicas_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64]);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_INFER_H */
