/*
 * ai.h — the AI module: what the chain needs to let contracts ask for LLM
 * inference that every validator reproduces.
 *
 * Four small pieces, each pure and testable alone:
 *   - the model registry entry (what genesis or MsgRegisterModel records),
 *   - the gas formula (docs/GAS.md explains the numbers),
 *   - seed derivation from chain data (never the wall clock),
 *   - parsing an inference request ({"ai":{"infer":{...}}}) with its limits,
 * and one stateful piece, wicas_ai (ai_engine.c), that runs a validated request
 * on the deterministic engine with the model cache keyed by SHA-256.
 *
 * Errors: functions return WICAS_AI_OK (0) or a negative wicas_ai_err; the
 * optional err buffer gets a sentence naming the field or file at fault.
 * Every code has a class (wicas_ai_err_class): a REQUEST error is a pure
 * function of the request and chain data (the registry, the model's bytes,
 * the gas left) and its message is the same on every node, so a chain
 * returns it to the contract and goes on; a NODE fault is this node's (the
 * model file, memory, the engine) and a chain must stop rather than answer
 * differently from the others. docs/GAS.md has the table.
 */
#ifndef WICAS_AI_H
#define WICAS_AI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WICAS_AI_OK = 0,
    WICAS_AI_EINVAL = -1,     /* malformed request or registry entry */
    WICAS_AI_ENOMODEL = -2,   /* model not registered */
    WICAS_AI_EMODELFILE = -3, /* local model file missing or hash differs */
    WICAS_AI_EOUTOFGAS = -4,  /* max_tokens cost exceeds the gas available */
    WICAS_AI_ETOOLARGE = -5,  /* prompt or max_tokens over the limits */
    WICAS_AI_EENGINE = -6,    /* the inference engine failed */
    WICAS_AI_ENOMEM = -7,
    WICAS_AI_EBUDGET = -8,  /* the block's inference budget is spent */
    WICAS_AI_ECONTEXT = -9, /* prompt tokens + max_tokens over the model's context */
    WICAS_AI_EPROMPT = -10, /* the model's tokenizer / chat template cannot encode the prompt */
    WICAS_AI_EQUERY = -11   /* inference from a smart query over this node's cap (queries only) */
} wicas_ai_err;

/* Returns a static description of an error code. */
const char *wicas_ai_strerror(int code);

/* The class of an error code (see the top of this file). EQUERY is REQUEST:
 * it depends on the node's query cap, but queries never reach consensus. */
typedef enum { WICAS_AI_CLASS_NONE = 0, WICAS_AI_CLASS_REQUEST = 1, WICAS_AI_CLASS_NODE = 2 } wicas_ai_class;
/* NONE for WICAS_AI_OK, REQUEST or NODE as above; unknown codes are NODE. */
wicas_ai_class wicas_ai_err_class(int code);

/* ---- limits ------------------------------------------------------------------ */
#define WICAS_AI_NAME_MAX 64         /* model name, [a-z0-9._-] */
#define WICAS_AI_PROMPT_MAX 8192     /* bytes of prompt text */
#define WICAS_AI_MAX_TOKENS_MAX 1024 /* generated tokens per request */

/* ---- registry ----------------------------------------------------------------
 * A registered model. The chain stores it as canonical JSON (the same text
 * wicas_ai_model_to_json produces), keyed by name. */
typedef struct {
    uint64_t base;             /* flat gas per request */
    uint64_t per_prompt_token; /* gas per prompt token per million parameters */
    uint64_t per_gen_token;    /* gas per generated token per million parameters */
} wicas_ai_gas_params;

typedef struct {
    char name[WICAS_AI_NAME_MAX + 1];
    uint8_t sha256[32];  /* of the GGUF file */
    uint64_t size_bytes; /* of the GGUF file */
    char arch[32];       /* "llama" */
    uint64_t n_params;   /* parameter count */
    wicas_ai_gas_params gas;
} wicas_ai_model;

/* The default gas parameters (docs/GAS.md). */
wicas_ai_gas_params wicas_ai_default_gas(void);

/* Parses a registry entry from JSON:
 *   {"name":"smollm2-135m","sha256":"<64 hex>","size":"98362432","arch":"llama",
 *    "params":"134515008","gas":{"base":"50000","per_prompt_token":"20","per_gen_token":"100"}}
 * Integers may be JSON numbers or decimal strings (CosmWasm's Uint64 style);
 * "gas" is optional (defaults). Checks: name syntax, hex digest, size > 0,
 * params > 0, arch non-empty. Returns WICAS_AI_OK or WICAS_AI_EINVAL. */
int wicas_ai_model_from_json(const char *json, size_t len, wicas_ai_model *out, char *err, size_t errlen);

/* Canonical JSON of a model (keys in the order above, integers as strings).
 * Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *wicas_ai_model_to_json(const wicas_ai_model *m);

/* ---- gas -------------------------------------------------------------------------
 * gas = base + ceil(n_params / 1e6) * (per_prompt_token * prompt_tokens
 *                                      + per_gen_token * gen_tokens)
 * saturating at UINT64_MAX. Integer arithmetic only. */
uint64_t wicas_ai_gas_cost(const wicas_ai_model *m, uint64_t prompt_tokens, uint64_t gen_tokens);

/* ---- seeds -----------------------------------------------------------------------
 * seed = SHA-256("wicas/ai/seed/v1" || u32be(len(chain_id)) || chain_id ||
 *                u64be(height) || last_block_hash[32] || tx_hash[32] ||
 *                u32be(call_index) || u32be(len(user_seed)) || user_seed)
 * Every field is length-prefixed or fixed-size, so no two inputs collide by
 * concatenation. */
typedef struct {
    const char *chain_id;
    int64_t height;
    uint8_t last_block_hash[32];
    uint8_t tx_hash[32];
    uint32_t call_index;      /* which inference call within the tx, from 0 */
    const uint8_t *user_seed; /* optional, may be NULL */
    size_t user_seed_len;
} wicas_ai_seed_input;

void wicas_ai_derive_seed(const wicas_ai_seed_input *in, uint8_t seed[32]);

/* ---- requests ------------------------------------------------------------------------
 * An inference request as a contract sends it, either wrapped as
 *   {"ai":{"infer":{...}}}  or bare {"infer":{...}}, with fields
 *   model (string, required), prompt (string, required, <= WICAS_AI_PROMPT_MAX
 *   bytes, valid UTF-8), max_tokens (1..WICAS_AI_MAX_TOKENS_MAX, default 64),
 *   temperature (0..2, default 0 = greedy), top_p (0..1], default 1),
 *   top_k (0 = off, default 40), repeat_penalty (default 1 = off),
 *   seed (optional, any string: mixed into the derived seed), chat (bool,
 *   default true: apply the model's chat template).
 * Unknown fields are an error (a typo must not silently change the answer). */
typedef struct {
    char model[WICAS_AI_NAME_MAX + 1];
    char *prompt; /* malloc'd, NUL-terminated */
    size_t prompt_len;
    uint32_t max_tokens;
    float temperature;
    float top_p;
    uint32_t top_k;
    float repeat_penalty;
    char *user_seed; /* malloc'd or NULL */
    bool chat;
} wicas_ai_request;

/* Reads a request from its JSON text (NUL-free: a "\u0000" escape is an error). */
int wicas_ai_request_parse(const char *json, size_t len, wicas_ai_request *req, char *err, size_t errlen);
/* Reads a request from JSON its caller already parsed (the same object
 * wicas_ai_request_parse would build from the text): the chain hands over
 * the contract's parsed `custom` object, so a request is parsed once.
 * Reads root exactly as wicas_ai_request_parse reads root's printed text
 * (cJSON_PrintUnformatted), with the same checks, codes and messages: so a
 * number beyond a double (1e999), which prints as null, is a null seed. */
struct cJSON;
int wicas_ai_request_from_json(const struct cJSON *root, wicas_ai_request *req, char *err, size_t errlen);
void wicas_ai_request_free(wicas_ai_request *req);

/* ---- the engine host ---------------------------------------------------------------
 * Runs checked requests on the deterministic engine. One host per node: it
 * indexes the GGUF files of a models directory by SHA-256 and keeps the models
 * it has used resident (the engine's cache), so a model is parsed and mapped
 * once, not once per request. Calls are serialised by a mutex inside the
 * host: the block thread (synchronous queries) and the asynchronous worker
 * below may share one host; a call waits while another runs. */
typedef struct wicas_ai_host wicas_ai_host;

typedef struct {
    const char *models_dir; /* directory of *.gguf files (searched by hash) */
    uint32_t n_threads;     /* engine threads; results do not depend on it */
} wicas_ai_host_config;

typedef struct {
    char *text; /* malloc'd, NUL-terminated */
    uint32_t prompt_tokens;
    uint32_t generated_tokens;
    uint64_t gas_used; /* wicas_ai_gas_cost(model, prompt_tokens, generated_tokens) */
    uint8_t model_sha256[32];
    double seconds;      /* wall clock, for reporting only (never in state) */
    const char *kernels; /* kernel path that ran ("scalar", "avx2", ...): reporting only */
    uint32_t threads;    /* engine threads that ran: reporting only */
} wicas_ai_result;

/* Creates a host and indexes models_dir (hashing each *.gguf once).
 * Returns WICAS_AI_OK, WICAS_AI_EMODELFILE if the directory is unreadable,
 * or WICAS_AI_ENOMEM. */
int wicas_ai_host_new(const wicas_ai_host_config *cfg, wicas_ai_host **out, char *err, size_t errlen);
void wicas_ai_host_free(wicas_ai_host *h);

/* Checks that a registered model is present locally with the registered hash
 * and size, and that the engine can load it (architecture, tensors). Writes
 * its path to path_out (if not NULL). Returns WICAS_AI_OK or
 * WICAS_AI_EMODELFILE with a message naming the model and what is wrong. A
 * node calls this for every registered model at start-up and refuses to run
 * blocks that need a model it lacks: never a divergent answer. */
int wicas_ai_host_check_model(wicas_ai_host *h, const wicas_ai_model *m, char *path_out, size_t path_cap,
                              char *err, size_t errlen);

/* The host's engine cache and thread count, for an embedder that runs the
 * same models through another door (the WASI-NN sandbox of programs on
 * chain), so that each model is resident once. The cache stays the host's. */
struct wicas_infer_cache *wicas_ai_host_cache(wicas_ai_host *h);
uint32_t wicas_ai_host_threads(const wicas_ai_host *h);

/* Prices a request without running it: *prompt_tokens gets the exact prompt
 * length the engine will evaluate and *worst the gas of generating all
 * max_tokens. The request must fit the model's context (prompt tokens +
 * max_tokens <= min(2048, trained context)): checked here, before any
 * inference. Returns WICAS_AI_OK; request errors WICAS_AI_ECONTEXT
 * (*prompt_tokens still set) and WICAS_AI_EPROMPT; node faults
 * WICAS_AI_EMODELFILE and WICAS_AI_ENOMEM. */
int wicas_ai_host_price(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                        uint32_t *prompt_tokens, uint64_t *worst, char *err, size_t errlen);

/* A request priced on one model, keeping what pricing computed so that the
 * run does not compute it again: the prompt's tokens (tokenised once, at
 * pricing) go to the engine as they are. */
typedef struct {
    int32_t *tokens; /* malloc'd: the exact prompt tokens the engine evaluates */
    size_t n_tokens;
    uint32_t prompt_tokens;   /* n_tokens, saturated */
    uint64_t worst;           /* wicas_ai_gas_cost(model, prompt_tokens, max_tokens) */
    uint8_t model_sha256[32]; /* the model the tokens belong to */
} wicas_ai_priced;

/* wicas_ai_host_price that keeps the tokens in *out (zeroed first; free it
 * with wicas_ai_priced_free on every path). Same codes and messages; on
 * ECONTEXT out->prompt_tokens and out->worst are set (no tokens kept). */
int wicas_ai_host_price_request(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                                wicas_ai_priced *out, char *err, size_t errlen);
void wicas_ai_priced_free(wicas_ai_priced *p);

/* Runs one request. Order of work, and what it costs:
 *   1. the model must pass wicas_ai_host_check_model (else EMODELFILE);
 *   2. the request is priced as wicas_ai_host_price does (ECONTEXT, EPROMPT:
 *      the prompt is tokenised here, once, and these tokens are what runs)
 *      and the worst case gas(prompt_tokens, max_tokens) must be <=
 *      gas_available, else WICAS_AI_EOUTOFGAS *before* any inference runs;
 *   3. the model generates with the sampler seeded by seed;
 *   4. res->gas_used = gas(prompt_tokens, generated_tokens).
 * An engine error after pricing keeps its class: EINVAL/ECONTEXT/EPROMPT
 * for the request's, EENGINE/ENOMEM for this node's.
 * On error *res is zeroed and no gas is reported used. */
int wicas_ai_host_infer(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                        const uint8_t seed[32], uint64_t gas_available, wicas_ai_result *res, char *err,
                        size_t errlen);

/* wicas_ai_host_infer for a request already priced with
 * wicas_ai_host_price_request on the same model (steps 2-4 from pr: the
 * prompt is not tokenised again; pr is borrowed). EOUTOFGAS when pr->worst >
 * gas_available, EINVAL when pr is for another model; else as
 * wicas_ai_host_infer, with the same result. */
int wicas_ai_host_run_priced(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                             const wicas_ai_priced *pr, const uint8_t seed[32], uint64_t gas_available,
                             wicas_ai_result *res, char *err, size_t errlen);

/* ---- the asynchronous worker -------------------------------------------------------
 * Runs inference requests in the background for the vote-extension path
 * (asynchronous requests, docs/ARCHITECTURE.md): the chain submits each pending
 * request once, keyed by its on-chain id, and polls for the answer when it
 * builds its vote extension. One thread, jobs in submission order; the host
 * is shared with the block thread (its mutex serialises them). Nothing here
 * feeds consensus directly: the answers only enter state through the 2/3
 * tally of vote extensions. Thread-safe. */
typedef struct wicas_ai_worker wicas_ai_worker;

/* Starts the worker thread on host h (borrowed: it must outlive the worker).
 * Returns WICAS_AI_OK or WICAS_AI_ENOMEM. */
int wicas_ai_worker_new(wicas_ai_host *h, wicas_ai_worker **out);
/* Stops the thread (after the job running now, if any) and frees all jobs. NULL ok. */
void wicas_ai_worker_free(wicas_ai_worker *w);

/* Queues job `id`: model m and request_json (a request as
 * wicas_ai_request_parse reads it) with the sampling seed. A job already
 * known under that id (queued, running or done) is left as it is.
 * Returns WICAS_AI_OK, WICAS_AI_EINVAL (malformed request: the job is then
 * recorded as failed) or WICAS_AI_ENOMEM. */
int wicas_ai_worker_submit(wicas_ai_worker *w, uint64_t id, const wicas_ai_model *m, const char *request_json,
                           const uint8_t seed[32]);

/* Job state: WICAS_AI_WORKER_NONE (unknown id), _PENDING (queued or
 * running), _DONE (*res gets a copy of the answer: free it with
 * wicas_ai_result_free) or _FAILED (err gets the reason). */
enum {
    WICAS_AI_WORKER_NONE = 0,
    WICAS_AI_WORKER_PENDING = 1,
    WICAS_AI_WORKER_DONE = 2,
    WICAS_AI_WORKER_FAILED = 3
};
int wicas_ai_worker_poll(wicas_ai_worker *w, uint64_t id, wicas_ai_result *res, char *err, size_t errlen);

/* Drops every job whose id is not in keep[0..n) (sorted ascending): the
 * chain calls it with the ids still pending on chain, so resolved requests
 * do not accumulate. A running job is dropped when it finishes. */
void wicas_ai_worker_retain(wicas_ai_worker *w, const uint64_t *keep, size_t n);

/* The answer a contract receives for a synchronous query, as canonical JSON:
 *   {"text":"...","prompt_tokens":N,"generated_tokens":N,"gas_used":"N","model_sha256":"<hex>"}
 * malloc'd; NULL on allocation failure. */
char *wicas_ai_result_json(const wicas_ai_result *res);
void wicas_ai_result_free(wicas_ai_result *res);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_AI_H */
