/*
 * aimod.c — the AI module inside the chain: the model registry in state, the
 * contracts' {"ai":{"infer":{...}}} custom query, the per-block inference
 * budget, and the start-up check of local model files.
 *
 * One pass over each request: the contract's querier parses the query once
 * and the route hands this module the parsed `custom` object, which is read
 * into a wicas_ai_request as it is (wicas_ai_request_from_json); pricing
 * tokenises the prompt once and the run evaluates those tokens
 * (wicas_ai_host_price_request, wicas_ai_host_run_priced).
 *
 * The engine work itself is src/ai's (wicas_ai_host); this file supplies what
 * only the chain knows: which models are registered (state), how much gas the
 * calling contract has left, and the chain data the sampling seed is derived
 * from (chain id, height, block hash, tx hash, the call's index in the tx).
 *
 * Errors keep the AI module's class (src/ai/ai.h, docs/GAS.md): a request
 * error (prompt over the context, unknown model, bad parameters, out of gas,
 * ...) is checked at pricing time, before any inference, and returned to the
 * contract with the same message on every node; the tx fails and the block
 * goes on. A node fault (a registered model this node cannot run, out of
 * memory) must not become an answer that differs from the others: it halts
 * the block with a message naming the cause (c->halt), and FinalizeBlock fails.
 *
 * Simulate runs no model: it charges the priced worst case (what execution
 * reserves) and answers a placeholder, so a gas estimate from it suffices for
 * the real run. Smart queries reach inference only up to the node's
 * --ai-query-max-tokens (default 0: not at all).
 *
 * State:
 *   ai/model/<name>   canonical model JSON (wicas_ai_model_to_json)
 *   ai/params         {"block_budget":"<gas>","async_timeout_blocks":"<blocks>","authority":"wicas1..."}
 *                     (each optional)
 *   ai/program/<hex>  wasm bytes of a stored program (aimsg.c, aiprog.c)
 * (asynchronous requests and their records are aiasync.c's)
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "common.h"
#include "module.h"
#include "xai.h"

#define K_AI_MODEL "ai/model/"
#define K_AI_PARAMS "ai/params"

static int key_model(const char *name, uint8_t *k, size_t cap, size_t *kl) {
    int n = snprintf((char *)k, cap, K_AI_MODEL "%s", name);
    if (n < 0 || (size_t)n >= cap) return -1;
    *kl = (size_t)n;
    return 0;
}

int wicas_aimod_set_model(wctx *x, const wicas_ai_model *m) {
    uint8_t k[128];
    size_t kl;
    if (key_model(m->name, k, sizeof k, &kl))
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_REQUEST, "sdk", "ai: model name too long");
    char *j = wicas_ai_model_to_json(m);
    if (!j) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai: out of memory");
    int rc = wicas_st_set(x, k, kl, (const uint8_t *)j, strlen(j));
    free(j);
    return rc;
}

int wicas_aimod_get_model(wctx *x, const char *name, wicas_ai_model *m) {
    uint8_t k[128];
    size_t kl;
    if (strlen(name) > WICAS_AI_NAME_MAX || key_model(name, k, sizeof k, &kl)) return 0;
    uint8_t *v = NULL;
    size_t vl = 0;
    int f = wicas_st_get(x, k, kl, &v, &vl);
    if (f != 1) return f;
    char err[128];
    int rc = wicas_ai_model_from_json((const char *)v, vl, m, err, sizeof err) == WICAS_AI_OK ? 1 : -1;
    free(v);
    if (rc < 0) wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai: corrupt registry entry for '%s'", name);
    return rc;
}

/* One decimal-string field of ai/params, or def when absent. */
static uint64_t param_u64(wctx *x, const char *key, uint64_t def) {
    uint8_t *v = NULL;
    size_t vl = 0;
    uint64_t out = def;
    if (wicas_st_get(x, (const uint8_t *)K_AI_PARAMS, sizeof K_AI_PARAMS - 1, &v, &vl) == 1) {
        cJSON *p = cJSON_ParseWithLength((const char *)v, vl);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, key);
        uint64_t u;
        if (cJSON_IsString(b) && wicas_parse_u64(b->valuestring, &u) == 0) out = u;
        cJSON_Delete(p);
    }
    free(v);
    return out;
}

uint64_t wicas_aimod_block_budget(wctx *x) {
    return param_u64(x, "block_budget", AIMOD_DEFAULT_BLOCK_BUDGET);
}

/* Blocks an asynchronous request may wait for a 2/3 agreement before it
 * resolves as a timeout. */
uint64_t wicas_aimod_async_timeout(wctx *x) {
    return param_u64(x, "async_timeout_blocks", AIASYNC_DEFAULT_TIMEOUT);
}

/* The sampling seed of the next inference call in this tx: chain data only
 * (chain id, height, block hash, tx hash, the call's index), never the clock. */
void wicas_aimod_seed(wctx *x, const char *user_seed, uint8_t seed[32]) {
    wicas_chain *c = x->c;
    wicas_ai_seed_input si = {.chain_id = c->chain_id,
                              .height = c->blk_height,
                              .call_index = wicas_aimod_exec(c)->calls++,
                              .user_seed = (const uint8_t *)user_seed,
                              .user_seed_len = user_seed ? strlen(user_seed) : 0};
    memcpy(si.last_block_hash, c->blk_hash, 32);
    memcpy(si.tx_hash, c->tx_hash, 32);
    wicas_ai_derive_seed(&si, seed);
}

/* The registry authority (app_state.ai.params.authority): 1 with out set,
 * 0 when none is configured (models can then be registered only in genesis). */
int wicas_aimod_authority(wctx *x, char out[100]) {
    uint8_t *v = NULL;
    size_t vl = 0;
    int found = 0;
    out[0] = 0;
    if (wicas_st_get(x, (const uint8_t *)K_AI_PARAMS, sizeof K_AI_PARAMS - 1, &v, &vl) == 1) {
        cJSON *p = cJSON_ParseWithLength((const char *)v, vl);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "authority");
        if (cJSON_IsString(a) && strlen(a->valuestring) < 100) {
            snprintf(out, 100, "%s", a->valuestring);
            found = 1;
        }
        cJSON_Delete(p);
    }
    free(v);
    return found;
}

/* genesis "ai": {"models":[{...}], "params":{"block_budget":"N","async_timeout_blocks":"N",
 * "authority":"wicas1..."}} (every param optional) */
int wicas_aimod_genesis(wctx *x, const cJSON *ai, char *err, size_t errlen) {
    if (!cJSON_IsObject(ai)) return snprintf(err, errlen, "genesis ai must be an object"), -1;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(ai, "models");
    if (models && !cJSON_IsArray(models))
        return snprintf(err, errlen, "genesis ai.models must be an array"), -1;
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, models) {
        char *s = cJSON_PrintUnformatted(it);
        wicas_ai_model m;
        char e[256] = "";
        int rc = s ? wicas_ai_model_from_json(s, strlen(s), &m, e, sizeof e) : WICAS_AI_ENOMEM;
        free(s);
        if (rc != WICAS_AI_OK) return snprintf(err, errlen, "genesis ai.models[%zu]: %s", i, e), -1;
        wicas_ai_model old;
        if (wicas_aimod_get_model(x, m.name, &old) != 0)
            return snprintf(err, errlen, "genesis ai.models[%zu]: duplicate model name '%s'", i, m.name), -1;
        if (wicas_aimod_set_model(x, &m))
            return snprintf(err, errlen, "genesis ai.models[%zu]: %s", i, x->err), -1;
        i++;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(ai, "params");
    if (params) {
        if (!cJSON_IsObject(params)) return snprintf(err, errlen, "genesis ai.params must be an object"), -1;
        const cJSON *f;
        cJSON_ArrayForEach(f, params) {
            if (strcmp(f->string, "block_budget") != 0 && strcmp(f->string, "authority") != 0 &&
                strcmp(f->string, "async_timeout_blocks") != 0)
                return snprintf(err, errlen, "genesis ai.params: unknown field '%s'", f->string), -1;
        }
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(params, "block_budget");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(params, "async_timeout_blocks");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(params, "authority");
        uint64_t u = 0, tb = 0;
        if (b && (!cJSON_IsString(b) || wicas_parse_u64(b->valuestring, &u) || u == 0))
            return snprintf(err, errlen, "genesis ai.params.block_budget must be a positive decimal string"),
                   -1;
        if (t && (!cJSON_IsString(t) || wicas_parse_u64(t->valuestring, &tb) || tb == 0 || tb > 1000000))
            return snprintf(err, errlen,
                            "genesis ai.params.async_timeout_blocks must be a decimal string 1..1000000"),
                   -1;
        uint8_t ab[32];
        size_t al;
        if (a && (!cJSON_IsString(a) || strlen(a->valuestring) >= 100 ||
                  wicas_chain_addr_decode(a->valuestring, ab, &al)))
            return snprintf(err, errlen, "genesis ai.params.authority must be a bech32 wicas1... address"),
                   -1;
        /* the stored form: the fields that were set, in this order */
        char v[320];
        int n = 0;
        const char *sep = "";
        n += snprintf(v + n, sizeof v - (size_t)n, "{");
        if (b) n += snprintf(v + n, sizeof v - (size_t)n, "\"block_budget\":\"%" PRIu64 "\"", u), sep = ",";
        if (t)
            n += snprintf(v + n, sizeof v - (size_t)n, "%s\"async_timeout_blocks\":\"%" PRIu64 "\"", sep, tb),
                sep = ",";
        if (a) n += snprintf(v + n, sizeof v - (size_t)n, "%s\"authority\":\"%s\"", sep, a->valuestring);
        n += snprintf(v + n, sizeof v - (size_t)n, "}");
        if (wicas_st_set(x, (const uint8_t *)K_AI_PARAMS, sizeof K_AI_PARAMS - 1, (const uint8_t *)v,
                         (size_t)n))
            return snprintf(err, errlen, "genesis ai.params: %s", x->err), -1;
    }
    return 0;
}

/* Every registered model, in name order, as a JSON array (malloc'd). */
char *wicas_aimod_models_json(wctx *x) {
    cJSON *arr = cJSON_CreateArray();
    uint8_t *k = NULL, *v = NULL;
    size_t kl = 0, vl = 0;
    const uint8_t *lo = (const uint8_t *)K_AI_MODEL;
    size_t lol = sizeof K_AI_MODEL - 1;
    uint8_t *cur = NULL;
    bool incl = true;
    while (wicas_st_next(x, cur ? cur : lo, cur ? kl : lol, incl, &k, &kl, &v, &vl) == 1) {
        if (kl < lol || memcmp(k, lo, lol) != 0) {
            free(k);
            free(v);
            break;
        }
        cJSON *e = cJSON_ParseWithLength((const char *)v, vl);
        if (e) cJSON_AddItemToArray(arr, e);
        free(v);
        free(cur);
        cur = k;
        incl = false;
    }
    free(cur);
    char *s = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return s;
}

/* Checks every registered model against the local files. 0 or -1 (err). */
int wicas_aimod_check_models(wicas_chain *c, wctx *x, char *err, size_t errlen) {
    char *list = wicas_aimod_models_json(x);
    cJSON *arr = list ? cJSON_Parse(list) : NULL;
    free(list);
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        char *s = cJSON_PrintUnformatted(it);
        wicas_ai_model m;
        if (s && wicas_ai_model_from_json(s, strlen(s), &m, NULL, 0) == WICAS_AI_OK) {
            if (!c->opts.ai_host) {
                snprintf(err, errlen,
                         "model '%s' is registered but this node runs without a models directory", m.name);
                rc = -1;
            } else if (wicas_ai_host_check_model(c->opts.ai_host, &m, NULL, 0, err, errlen) != WICAS_AI_OK) {
                rc = -1;
            }
        }
        free(s);
        if (rc) break;
    }
    cJSON_Delete(arr);
    return rc;
}

/* A node fault (AI error class NODE) seen while executing a block: the block
 * halts with msg instead of answering differently from the other nodes.
 * Queries, simulations and CheckTx only fail; they never stop the node. */
void wicas_aimod_node_fault(wctx *x, const char *msg) {
    if (x->query || x->simulate || x->check) return;
    if (!x->c->halt[0]) snprintf(x->c->halt, sizeof x->c->halt, "%s", msg);
}

/* The node's cap on inference from smart queries (wicas_chain_options.
 * ai_query_max_tokens): 0 when the request may run, else -1 with err. */
int wicas_aimod_query_cap(wctx *x, uint64_t max_tokens, char *err, size_t errlen) {
    if (!x->query) return 0;
    uint32_t cap = x->c->opts.ai_query_max_tokens;
    if (cap == 0) {
        snprintf(err, errlen,
                 "ai: inference from queries is disabled on this node (its operator can allow it with "
                 "--ai-query-max-tokens N)");
        return -1;
    }
    if (max_tokens > cap) {
        snprintf(err, errlen,
                 "ai: this node allows at most %u generated tokens per query (max_tokens %" PRIu64 ")", cap,
                 max_tokens);
        return -1;
    }
    return 0;
}

/* The answer simulate gives instead of running the model (docs/GAS.md,
 * "Simulate"): the result's shape with empty text, all max_tokens counted as
 * generated and the worst-case gas, which is what execution reserves. */
static char *simulated_answer(const wicas_ai_model *m, uint32_t prompt_tokens, uint32_t max_tokens,
                              uint64_t worst) {
    wicas_ai_result res;
    memset(&res, 0, sizeof res);
    res.text = (char *)"";
    res.prompt_tokens = prompt_tokens;
    res.generated_tokens = max_tokens;
    res.gas_used = worst;
    memcpy(res.model_sha256, m->sha256, 32);
    return wicas_ai_result_json(&res);
}

/* The chain's answer to a contract's custom query {"ai":{"infer":{...}}}.
 * gas_limit/gas_used are SDK gas. Returns 0 with *resp the JSON answer, or
 * -1 with err: a contract-visible error (a request error: the query failed
 * the same way on every node). A node fault (AI error class NODE: a missing
 * or unusable model file, out of memory, the engine) halts the block instead
 * (wicas_aimod_node_fault). In simulate mode the model does not run: the worst case
 * is charged and a placeholder answered (simulated_answer). */
int wicas_aimod_custom_query(wctx *x, const cJSON *custom, uint64_t gas_limit, char **resp,
                             uint64_t *gas_used, char *err, size_t errlen) {
    wicas_chain *c = x->c;
    *resp = NULL;
    *gas_used = 0;
    /* programs on chain ({"ai":{"run_program":{...}}}) share this door: aiprog.c */
    const cJSON *ai = cJSON_GetObjectItemCaseSensitive(custom, "ai");
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(ai ? ai : custom, "run_program");
    if (prog) return wicas_aiprog_custom_query(x, prog, gas_limit, resp, gas_used, err, errlen);
    /* the request as the contract's querier parsed it: read once, never re-printed */
    wicas_ai_request req;
    int rc = wicas_ai_request_from_json(custom, &req, err, errlen);
    if (rc != WICAS_AI_OK) return -1;
    if (wicas_aimod_query_cap(x, req.max_tokens, err, errlen)) {
        wicas_ai_request_free(&req);
        return -1;
    }
    wicas_ai_model m;
    int f = wicas_aimod_get_model(x, req.model, &m);
    if (f != 1) {
        snprintf(err, errlen, "ai: model '%s' is not registered", req.model);
        wicas_ai_request_free(&req);
        return -1;
    }
    if (!c->opts.ai_host) {
        snprintf(err, errlen, "ai: model '%s' is needed but this node runs without a models directory",
                 m.name);
        wicas_aimod_node_fault(x, err + 4);
        wicas_ai_request_free(&req);
        return -1;
    }
    /* priced before anything runs: request errors (context, tokenizer) and
     * the worst case every later check uses. The prompt is tokenised here,
     * once: the run below evaluates these tokens. */
    wicas_ai_priced pr;
    rc = wicas_ai_host_price_request(c->opts.ai_host, &m, &req, &pr, err, errlen);
    uint32_t prompt_tokens = pr.prompt_tokens;
    uint64_t worst = pr.worst;
    bool deliver = !x->simulate && !x->check && !x->query && c->tx_index >= 0;
    if (rc == WICAS_AI_OK && worst > gas_limit) {
        snprintf(err, errlen,
                 "ai: out of gas: %u prompt tokens + max_tokens %u cost up to %" PRIu64 " gas, %" PRIu64
                 " available",
                 prompt_tokens, req.max_tokens, worst, gas_limit);
        rc = WICAS_AI_EOUTOFGAS;
    }
    if (rc == WICAS_AI_OK && deliver && worst > wicas_aimod_exec(c)->budget_left) {
        snprintf(err, errlen,
                 "ai: the block's inference budget is spent (%" PRIu64 " gas needed, %" PRIu64 " left)",
                 worst, wicas_aimod_exec(c)->budget_left);
        rc = WICAS_AI_EBUDGET;
    }
    if (rc != WICAS_AI_OK) {
        if (wicas_ai_err_class(rc) == WICAS_AI_CLASS_NODE) wicas_aimod_node_fault(x, err);
        wicas_ai_priced_free(&pr);
        wicas_ai_request_free(&req);
        return -1;
    }
    uint8_t seed[32];
    wicas_aimod_seed(x, req.user_seed, seed);
    if (x->simulate) {
        /* simulate charges what execution reserves and runs no model: a
         * gas estimate from it is enough for the real run's worst-case check */
        uint32_t mt = req.max_tokens;
        wicas_ai_priced_free(&pr);
        wicas_ai_request_free(&req);
        *gas_used = worst;
        *resp = simulated_answer(&m, prompt_tokens, mt, worst);
        return *resp ? 0 : -1;
    }
    wicas_ai_result res;
    rc = wicas_ai_host_run_priced(c->opts.ai_host, &m, &req, &pr, seed, gas_limit, &res, err, errlen);
    wicas_ai_priced_free(&pr);
    wicas_ai_request_free(&req);
    if (rc != WICAS_AI_OK) {
        if (wicas_ai_err_class(rc) == WICAS_AI_CLASS_NODE) wicas_aimod_node_fault(x, err);
        return -1;
    }
    if (deliver) wicas_aimod_exec(c)->budget_left -= worst;
    *gas_used = res.gas_used;
    *resp = wicas_ai_result_json(&res);
    char hex[65];
    wicas_hex_encode(res.model_sha256, 32, hex);
    WICAS_INFO("ai",
               "height %lld tx %lld: %s answered %u+%u tokens, %" PRIu64
               " gas, %.2f s (kernels %s, %u threads)",
               (long long)c->blk_height, (long long)c->tx_index, m.name, res.prompt_tokens,
               res.generated_tokens, res.gas_used, res.seconds, res.kernels ? res.kernels : "?", res.threads);
    wicas_ai_result_free(&res);
    if (!*resp) wicas_aimod_node_fault(x, "ai: out of memory for the answer");
    return *resp ? 0 : -1;
}

int wicas_chain_check_models(wicas_chain *c, char *err, size_t errlen) {
    MDB_txn *t;
    if (mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &t)) {
        snprintf(err, errlen, "check models: cannot open a read transaction");
        return WICAS_CHAIN_ERR_IO;
    }
    kv base;
    wicas_kv_init_base(&base, &c->st, t);
    wctx x;
    wicas_ctx_init(&x, c, &base, UINT64_MAX);
    int rc = wicas_aimod_check_models(c, &x, err, errlen);
    wicas_ctx_free(&x);
    mdb_txn_abort(t);
    return rc ? WICAS_CHAIN_ERR_NOT_FOUND : 0;
}

/* ---- the module ------------------------------------------------------------------------------- */

const wicas_module wicas_module_ai;

/* shared: the background worker of asynchronous requests */
typedef struct {
    struct wicas_ai_worker *worker;
} ai_state;

ai_exec_state *wicas_aimod_exec(const wicas_chain *c) {
    return wicas_module_exec(c, &wicas_module_ai);
}

struct wicas_ai_worker *wicas_aimod_worker(const wicas_chain *c) {
    ai_state *st = wicas_module_state(c, &wicas_module_ai);
    return st ? st->worker : NULL;
}

static int ai_open(wicas_chain *c, void **state, char *err, size_t errlen) {
    ai_state *st = calloc(1, sizeof *st);
    if (!st) return wicas_errf(err, errlen, "out of memory"), WICAS_CHAIN_ERR_NOMEM;
    if (c->opts.ai_host && wicas_ai_worker_new(c->opts.ai_host, &st->worker) != WICAS_AI_OK) {
        free(st);
        wicas_errf(err, errlen, "chain open: cannot start the AI worker thread");
        return WICAS_CHAIN_ERR_NOMEM;
    }
    *state = st;
    return 0;
}

static void ai_close(wicas_chain *c, void *state) {
    (void)c;
    ai_state *st = state;
    wicas_ai_worker_free(st->worker);
    free(st);
}

/* after genesis: the validators that sign vote extensions; the registered
 * models must be runnable on this node */
static int ai_init_chain(wctx *x, const wicas_chain_validator *vals, size_t n_vals, char *err,
                         size_t errlen) {
    if (wicas_aiasync_store_validators(x, vals, n_vals, err, errlen)) return -1;
    return wicas_aimod_check_models(x->c, x, err, errlen);
}

/* the block's inference budget, then the asynchronous requests the vote
 * extensions injected as the first tx answer (tally, resolve, call back) */
static int ai_begin_block(wicas_chain *c, kv *blk, const wicas_chain_block *b, evlist *ev, char *err,
                          size_t errlen) {
    wctx bx;
    wicas_ctx_init(&bx, c, blk, UINT64_MAX);
    wicas_aimod_exec(c)->budget_left = wicas_aimod_block_budget(&bx);
    wicas_ctx_free(&bx);
    return wicas_aiasync_begin_block(c, blk, b, ev, err, errlen);
}

static void ai_begin_tx(wicas_chain *c) {
    wicas_aimod_exec(c)->calls = 0;
}

static void ai_query(wctx *x, const char *method, const char *path, const uint8_t *data, size_t len,
                     wicas_chain_query_result *r) {
    if (strcmp(method, "Models") == 0) {
        /* the model registry, as a JSON array of canonical entries */
        char *j = wicas_aimod_models_json(x);
        if (j) {
            r->value = (uint8_t *)j;
            r->value_len = strlen(j);
        } else {
            wicas_query_fail(r, WICAS_CODE_INTERNAL, NULL, "out of memory");
        }
    } else if (strcmp(method, "Request") == 0) {
        /* an asynchronous request and its outcome; data = the id in decimal */
        char ids[24];
        uint64_t id;
        bool found = false;
        char *j = NULL;
        if (len == 0 || len >= sizeof ids)
            wicas_query_fail(r, WICAS_CODE_INVALID_REQUEST, NULL,
                             "request id must be a decimal number: invalid request");
        else {
            memcpy(ids, data, len);
            ids[len] = 0;
            if (wicas_parse_u64(ids, &id))
                wicas_query_fail(r, WICAS_CODE_INVALID_REQUEST, NULL,
                                 "request id must be a decimal number: invalid request");
            else if (!(j = wicas_aiasync_query_request(x, id, &found)) || !found)
                wicas_query_fail(r, WICAS_CODE_KEY_NOT_FOUND, NULL,
                                 "asynchronous request %s not found: key not found", ids);
            else {
                r->value = (uint8_t *)j;
                r->value_len = strlen(j);
                j = NULL;
            }
        }
        free(j);
    } else if (strcmp(method, "Program") == 0) {
        /* a stored program (aimsg.c), as JSON */
        uint32_t code = 0;
        char e[256] = "";
        char *j = wicas_aiprog_program_json(x, data, len, &code, e, sizeof e);
        if (j) {
            r->value = (uint8_t *)j;
            r->value_len = strlen(j);
        } else {
            wicas_query_fail(r, code, NULL, "%s", e);
        }
    } else
        wicas_query_fail(r, WICAS_CODE_UNKNOWN_REQUEST, NULL, "unknown query path '%s': unknown request",
                         path);
}

/* {"custom":{"ai":{"infer"|"run_program":...}}} from a contract's query */
static int ai_custom_query(wctx *x, const cJSON *custom, uint64_t gas_limit, char **resp, uint64_t *gas_used,
                           char *err, size_t errlen) {
    int rc = wicas_aimod_custom_query(x, custom, gas_limit, resp, gas_used, err, errlen);
    if (rc && err && errlen && !err[0]) snprintf(err, errlen, "ai query failed");
    return rc;
}

/* {"custom":{"ai":{"request":{...}}}} from a contract: an asynchronous inference */
static int ai_custom_msg(wctx *x, const uint8_t contract[32], const cJSON *custom, const char **resp_url) {
    const cJSON *ai = cJSON_GetObjectItemCaseSensitive(custom, "ai");
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(ai, "request");
    *resp_url = "/wicas.ai.v1.MsgRequestResponse";
    if (!rq || cJSON_GetArraySize(ai) != 1)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_UNKNOWN_MSG, WICAS_CHAIN_CODESPACE_WASM,
                              "unknown ai message from the contract (expected {\"ai\":{\"request\":{...}}})");
    return wicas_aiasync_request(x, contract, rq);
}

static const wicas_msg_route ai_msgs[] = {
    {"/wicas.ai.v1.MsgRegisterModel", &wchain__msg_register_model__descriptor, wicas_aimsg_signer,
     wicas_aimsg_dispatch},
    {"/wicas.ai.v1.MsgStoreProgram", &wchain__msg_store_program__descriptor, wicas_aimsg_signer,
     wicas_aimsg_dispatch},
};

const wicas_module wicas_module_ai = {
    .name = "ai",
    .msgs = ai_msgs,
    .n_msgs = sizeof ai_msgs / sizeof ai_msgs[0],
    .query_service = "/wicas.ai.v1.Query/",
    .query = ai_query,
    .open = ai_open,
    .close = ai_close,
    .exec_size = sizeof(ai_exec_state),
    .genesis_init = wicas_aimod_genesis,
    .init_chain = ai_init_chain,
    .begin_block = ai_begin_block,
    .after_commit = wicas_aiasync_after_commit,
    .begin_tx = ai_begin_tx,
    .custom_key = "ai",
    .custom_query = ai_custom_query,
    .custom_msg = ai_custom_msg,
};
