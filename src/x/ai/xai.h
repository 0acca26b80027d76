/*
 * xai.h — shared by the files of the AI module (src/x/ai): the model
 * registry and custom query (aimod.c), asynchronous requests through vote
 * extensions (aiasync.c), its messages (aimsg.c) and programs on chain
 * (aiprog.c). Nothing outside src/x/ai includes it; the chain reaches the
 * module through its wicas_module (module.h).
 */
#ifndef WICAS_X_AI_H
#define WICAS_X_AI_H

#include "ai.h"
#include "chain_internal.h"
#include "xwasm.h"

/* ---- ai (aimod.c) ------------------------------------------------------------------ */
#define AIMOD_DEFAULT_BLOCK_BUDGET 50000000ULL /* gas of inference per block */
struct cJSON;
int wicas_aimod_genesis(wctx *x, const struct cJSON *ai, char *err, size_t errlen);
int wicas_aimod_get_model(wctx *x, const char *name, wicas_ai_model *m);
uint64_t wicas_aimod_block_budget(wctx *x);
char *wicas_aimod_models_json(wctx *x);
int wicas_aimod_check_models(wicas_chain *c, wctx *x, char *err, size_t errlen);
/* A NODE-class AI fault inside a block: sets c->halt (first message wins);
 * does nothing in queries, simulate and CheckTx (they only fail). */
void wicas_aimod_node_fault(wctx *x, const char *msg);
/* The node's cap on inference from smart queries: 0 = may run (not a query,
 * or max_tokens within --ai-query-max-tokens), -1 with err otherwise. */
int wicas_aimod_query_cap(wctx *x, uint64_t max_tokens, char *err, size_t errlen);
/* A contract's custom query {"ai":{"infer"|"run_program":{...}}}: custom is
 * the object as the contract's querier parsed it (read as it is, no second
 * parse). gas in SDK gas; 0 with *resp, or -1 with err (module.h). */
int wicas_aimod_custom_query(wctx *x, const struct cJSON *custom, uint64_t gas_limit, char **resp,
                             uint64_t *gas_used, char *err, size_t errlen);

/* The AI module's execution scratch (per chain handle, module.h): inference
 * calls so far in this tx (seeds), and what is left of the block's budget. */
typedef struct {
    uint32_t calls;
    uint64_t budget_left;
} ai_exec_state;
ai_exec_state *wicas_aimod_exec(const wicas_chain *c);
/* The background worker of asynchronous requests (NULL without an AI host). */
struct wicas_ai_worker *wicas_aimod_worker(const wicas_chain *c);

/* asynchronous requests (aiasync.c) */
#define AIASYNC_MAX_PENDING 16          /* requests waiting for answers at once */
#define AIASYNC_MAX_TOKENS 256          /* max_tokens of one asynchronous request */
#define AIASYNC_REQUEST_GAS 20000ULL    /* flat: records, events, vote-extension bytes */
#define AIASYNC_CALLBACK_GAS 5000000ULL /* SDK gas the sudo callback may use */
#define AIASYNC_DEFAULT_TIMEOUT 100     /* blocks until an unresolved request times out */
uint64_t wicas_aimod_async_timeout(wctx *x);
void wicas_aimod_seed(wctx *x, const char *user_seed, uint8_t seed[32]);
int wicas_aiasync_request(wctx *x, const uint8_t contract[32], const struct cJSON *body);
int wicas_aiasync_store_validators(wctx *x, const wicas_chain_validator *v, size_t n, char *err,
                                   size_t errlen);
int wicas_aiasync_begin_block(wicas_chain *c, kv *blk, const wicas_chain_block *b, evlist *events, char *err,
                              size_t errlen);
void wicas_aiasync_after_commit(wicas_chain *c);
char *wicas_aiasync_query_request(wctx *x, uint64_t id, bool *found);
void wicas_aiasync_result_hash(uint32_t prompt_tokens, uint32_t gen_tokens, const char *text, size_t len,
                               uint8_t out[32]);
int wicas_aimod_set_model(wctx *x, const wicas_ai_model *m);
int wicas_aimod_authority(wctx *x, char out[100]);

/* ---- ai messages and programs (aimsg.c, aiprog.c) ------------------------------------ */
#define K_AI_PROGRAM "ai/program/"  /* + 64 lowercase hex of the wasm's SHA-256 */
#define AIPROG_MAX_BYTES (1u << 20) /* largest program MsgStoreProgram accepts */
int wicas_aimsg_signer(const char *type_url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                       char *err, size_t errlen);
int wicas_aimsg_dispatch(wctx *x, const char *type_url, const uint8_t *val, size_t len, uint8_t **resp,
                         size_t *resp_len);
int wicas_aiprog_key(const uint8_t checksum[32], uint8_t *k, size_t cap, size_t *kl);
/* /wicas.ai.v1.Query/Program: data = 64 hex digits (or the 32 raw bytes) of a
 * checksum; answers {"checksum":..,"size":"N","wasm_byte_code":"<base64>"}
 * (malloc'd) or NULL with *code and err. */
char *wicas_aiprog_program_json(wctx *x, const uint8_t *data, size_t len, uint32_t *code, char *err,
                                size_t errlen);
/* {"ai":{"run_program":{...}}} (body = the run_program object); gas in SDK
 * gas like wicas_aimod_custom_query, *gas_used also set on a failed run. */
int wicas_aiprog_custom_query(wctx *x, const struct cJSON *body, uint64_t gas_limit, char **resp,
                              uint64_t *gas_used, char *err, size_t errlen);
/* The parts of a run's gas (docs/GAS.md): loading the program and its fuel. */
uint64_t wicas_aiprog_load_gas(size_t wasm_len);
uint64_t wicas_aiprog_fuel_gas(uint64_t fuel);

#endif
