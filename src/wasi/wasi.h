/*
 * wasi.h — the WICAS sandbox for inference *programs*: WASI preview1 and
 * WASI-NN (wasi_ephemeral_nn) on the wasmtime runtime, deterministic.
 *
 * Contracts never see WASI (they run in src/vm). Programs are ordinary
 * wasm32-wasi command modules (an exported `_start` and `memory`): a chat
 * program that asks the host's engine for a completion through WASI-NN, or a
 * whole inference engine compiled to wasm that reads a model file itself.
 * Every validator must get the same bytes out of the same program, so the
 * host offers nothing that varies between machines:
 *
 *   - args, environment and stdin come from the request;
 *   - stdout (fd 1) is captured into a bounded buffer and is the result;
 *     stderr (fd 2) is captured separately (bounded, truncated silently);
 *   - the only file system is one READ-ONLY directory preopened as "/models";
 *     paths are resolved strictly inside it (no "..", no absolute paths, no
 *     symbolic links) and file metadata carries no host timestamps or inodes;
 *     directory listings are sorted by name;
 *   - the realtime clock reads the block time given in the request, the
 *     monotonic clock is a counter advanced by every read;
 *   - random_get is a ChaCha20 stream keyed by the request's 32-byte seed;
 *   - execution is metered by wasmtime fuel and memory by a store limiter;
 *     NaNs are canonicalised, threads and non-deterministic relaxed SIMD are off;
 *   - WASI-NN generation uses the WICAS engine, whose output does not depend
 *     on the thread count, with its sampling seed derived from the request seed.
 *
 * A module importing anything outside wasi_snapshot_preview1 and
 * wasi_ephemeral_nn (or a name those modules do not have) is refused before it
 * runs, with an error naming the import. Preview1 calls that make no sense
 * here (sockets, renames, ...) are linked and answer ENOSYS or EROFS.
 *
 * Every function returning int returns WICAS_WASI_OK (0) or a negative
 * WICAS_WASI_E* code; wicas_wasi_strerror names it and the result's `error`
 * field says what went wrong where.
 */
#ifndef WICAS_WASI_H
#define WICAS_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------------- */
#define WICAS_WASI_OK 0
#define WICAS_WASI_EARG (-1)         /* bad config/request (NULL, bad sizes, unreadable models dir) */
#define WICAS_WASI_EMODULE (-2)      /* not a valid wasm module, or not a WASI command (no _start/memory) */
#define WICAS_WASI_EIMPORT (-3)      /* the module imports something the sandbox does not offer */
#define WICAS_WASI_EINSTANTIATE (-4) /* instantiation failed (e.g. initial memory above the limit) */
#define WICAS_WASI_ETRAP (-5)   /* the program trapped (unreachable, out-of-bounds, stack overflow, ...) */
#define WICAS_WASI_EFUEL (-6)   /* the fuel limit was reached */
#define WICAS_WASI_EOUTPUT (-7) /* stdout grew past the configured cap */
#define WICAS_WASI_ENOMEM (-8)  /* host allocation failed */
#define WICAS_WASI_EENGINE (-9) /* wasmtime engine/store could not be set up */
#define WICAS_WASI_EMODEL                                                                                    \
    (-10) /* a preloaded WASI-NN model is missing, unreadable or has another hash on this node */

/* A static string naming the error code (never NULL). */
const char *wicas_wasi_strerror(int err);

/* ---- configuration (the embedder's side; the same on every validator) ---------- */

/* One WASI-NN preload entry: programs load the model by `name`
 * (load_by_name("default", ...)); `path` is the GGUF file on the host;
 * `sha256` (32 bytes, or NULL for no check) is the file hash consensus
 * expects. A name missing from the table is the program's error (WASI-NN
 * NOT_FOUND, the same on every node); a listed model that this node cannot
 * load or whose hash differs stops the whole run with WICAS_WASI_EMODEL, so
 * that a badly provisioned node refuses to execute rather than diverge. */
typedef struct {
    const char *name;
    const char *path;
    const uint8_t *sha256;
} wicas_wasi_model;

#define WICAS_WASI_DEFAULT_MEMORY (512ull << 20)  /* bytes of linear memory */
#define WICAS_WASI_DEFAULT_FUEL 10000000000ull    /* wasm instructions, roughly */
#define WICAS_WASI_DEFAULT_STDOUT_CAP (1u << 20)  /* bytes */
#define WICAS_WASI_DEFAULT_STDERR_CAP (64u << 10) /* bytes */
#define WICAS_WASI_DEFAULT_NN_TOKENS 4096u        /* generated tokens per run */
#define WICAS_WASI_MAX_MODELS 16

typedef struct {
    /* Host directory offered read-only as "/models" (the only preopen), or
     * NULL for none. It must exist and be a directory. */
    const char *models_dir;
    /* WASI-NN preload table (names unique, at most WICAS_WASI_MAX_MODELS);
     * n_models 0 means WASI-NN load calls answer "not found". */
    const wicas_wasi_model *models;
    size_t n_models;
    uint64_t memory_limit; /* bytes; 0 = WICAS_WASI_DEFAULT_MEMORY; at most 4 GiB */
    uint64_t fuel_limit;   /* 0 = WICAS_WASI_DEFAULT_FUEL */
    size_t stdout_cap;     /* 0 = WICAS_WASI_DEFAULT_STDOUT_CAP */
    size_t stderr_cap;     /* 0 = WICAS_WASI_DEFAULT_STDERR_CAP */
    uint32_t n_threads;    /* threads of the WASI-NN engine; 0 = 1 (output does not depend on it) */
    /* WASI-NN budget: tokens generated over all computes of one run; 0 =
     * WICAS_WASI_DEFAULT_NN_TOKENS. A compute asking for more generates only
     * what is left (deterministically); one with nothing left answers
     * TOO_LARGE. With at most 64 computes per run and a context of at most
     * 4096 tokens (and 4 live contexts), this bounds the inference work a run can cause. */
    uint32_t nn_max_tokens;
    /* Models kept resident between runs (may be NULL: each run loads and
     * frees its models). Not owned. */
    wicas_infer_cache *cache;
    /* WASI-NN prompt budget: prompt tokens evaluated over all computes of one
     * run; 0 = none beyond each context's size. A compute whose prompt does
     * not fit in what is left answers TOO_LARGE before it runs (the same on
     * every node). With nn_max_tokens and nn_max_computes it lets an embedder
     * price the worst case of a run before starting it. */
    uint64_t nn_max_prompt_tokens;
    /* WASI-NN generations per run; 0 = 64 (also the most allowed). One more
     * answers BUSY. */
    uint32_t nn_max_computes;
} wicas_wasi_config;

/* Zeroes *cfg: every limit at its default, no models, no preopen. */
void wicas_wasi_config_default(wicas_wasi_config *cfg);

/* ---- request (what the chain gives one run) ------------------------------------ */
typedef struct {
    /* argv as the program sees it; args[0] is conventionally the program's
     * name. n_args may be 0. Strings are NUL-terminated. */
    const char *const *args;
    size_t n_args;
    /* "KEY=VALUE" strings; usually none. */
    const char *const *env;
    size_t n_env;
    const uint8_t *stdin_data; /* may be NULL when stdin_len is 0 */
    size_t stdin_len;
    uint8_t seed[32];      /* random_get and WASI-NN sampling derive from it */
    int64_t block_time_ns; /* realtime clock value (Unix ns), >= 0 */
} wicas_wasi_request;

/* ---- result ------------------------------------------------------------------------ */
typedef struct {
    int exit_code; /* 0 after _start returned, else proc_exit's code */
    uint8_t *out;  /* captured stdout (malloc'd, NUL-terminated, may be NULL) */
    size_t out_len;
    uint8_t *err; /* captured stderr (malloc'd, NUL-terminated, may be NULL) */
    size_t err_len;
    bool err_truncated;        /* stderr went past its cap */
    uint64_t fuel_used;        /* wasm fuel consumed, host-call charges included */
    uint64_t nn_prompt_tokens; /* summed over all WASI-NN computes of the run */
    uint64_t nn_generated_tokens;
    uint32_t nn_computes; /* number of WASI-NN generations run */
    /* The same three counts per preload entry (index into cfg->models), so an
     * embedder can price each model's tokens with that model's rates. */
    uint64_t nn_model_prompt_tokens[WICAS_WASI_MAX_MODELS];
    uint64_t nn_model_generated_tokens[WICAS_WASI_MAX_MODELS];
    uint32_t nn_model_computes[WICAS_WASI_MAX_MODELS];
    char error[512]; /* "" on success, else what went wrong where */
} wicas_wasi_result;

/* Frees the result's buffers (the struct itself is the caller's). */
void wicas_wasi_result_free(wicas_wasi_result *res);

/* ---- running ----------------------------------------------------------------------- */

/* Compiles wasm[0..len) (a wasm32-wasi command module), checks its imports,
 * links the sandbox's host functions, instantiates it under the configured
 * memory and fuel limits, and calls `_start`.
 *
 * In:  cfg  sandbox configuration (not NULL).
 *      wasm, len  the module's bytes.
 *      req  the run's inputs (not NULL).
 * Out: *res is always filled (zeroed first): exit code, stdout/stderr, fuel
 *      used, WASI-NN token counts, and an error message on failure. Free it
 *      with wicas_wasi_result_free in every case.
 * Returns WICAS_WASI_OK when the program ran to its end (returned from
 * _start or called proc_exit — any exit code), else EARG, EMODULE, EIMPORT,
 * EINSTANTIATE, ETRAP, EFUEL, EOUTPUT, ENOMEM, EENGINE or EMODEL. ENOMEM,
 * EENGINE and EMODEL are this node's problems, not the program's: an
 * embedder must not turn them into a consensus result. Output written
 * before a failure stays in res (stdout up to the cap). Nothing on the host
 * is modified by any program. Thread-safe: runs share nothing but cfg->cache. */
int wicas_wasi_run(const wicas_wasi_config *cfg, const uint8_t *wasm, size_t len,
                   const wicas_wasi_request *req, wicas_wasi_result *res);

/* Checks, without running it, that wasm[0..len) is a module wicas_wasi_run
 * would accept: it compiles under the sandbox's engine settings, imports only
 * functions the sandbox offers, and exports `_start` and `memory` (the same
 * checks, by the same code, as a run). Meant for a chain that stores programs
 * so that a bad one is refused at store time. Returns WICAS_WASI_OK,
 * EMODULE or EIMPORT (with a message in err), or EARG/ENOMEM/EENGINE (this
 * node's failure, not the module's). */
int wicas_wasi_validate(const uint8_t *wasm, size_t len, char *err, size_t errlen);

/* Derives the sampling seed WASI-NN uses for a generation: the request seed
 * itself when the program gave no "seed" option, else
 * SHA-256(request_seed || "wasi-nn-seed" || option as 8 bytes little-endian).
 * Exposed so that tests and tools can reproduce a WASI-NN generation natively. */
void wicas_wasi_nn_seed(const uint8_t request_seed[32], bool has_option, uint64_t option, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_WASI_H */
