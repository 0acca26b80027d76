/*
 * aiprog.c — programs on chain: a contract's custom query
 *
 *   {"ai":{"run_program":{"program":"<sha256 hex>", "args":[..], "stdin":"..",
 *          "models":["smollm2-135m"], "max_output":N, "max_tokens":N,
 *          "max_prompt_tokens":N, "max_computes":N, "seed":".."}}}
 *
 * runs a program stored by MsgStoreProgram (aimsg.c) in the WASI / WASI-NN
 * sandbox (src/wasi) and answers
 *
 *   {"stdout":"<base64>","exit_code":N,"gas_used":"N","fuel_used":"N",
 *    "prompt_tokens":N,"generated_tokens":N,"computes":N,"program":"<hex>"}
 *
 * Why it is shaped so. Everything a run sees is chain data: argv, stdin and
 * the models come from the request, the clock is the block time, randomness
 * and WASI-NN sampling come from the seed aimod.c derives for infer (chain
 * id, height, block hash, tx hash, the call's index in the tx, optional user
 * seed), and the only way to a model is WASI-NN by registry name (no file
 * system: the node's models directory differs between nodes). Gas is known
 * before the run in its worst case: the request bounds the WASI-NN work
 * (tokens generated, prompt tokens, generations), the worst inference cost is
 * reserved out of the contract's gas and out of the block's inference budget,
 * the rest becomes the fuel limit; after the run the actual cost is charged
 * (docs/GAS.md, "Programs"). A program's own failures (trap, out of fuel,
 * output too large) are the same on every node and reach the contract as a
 * query error; this node's failures (model missing, out of memory, engine)
 * halt the block as for infer (wicas_aimod_node_fault). WASI-NN refuses a prompt
 * longer than the context before generating (a program-visible errno, a
 * request error). From a smart query, a run with models listed obeys the
 * node's --ai-query-max-tokens (default 0: refused). Simulate runs the
 * program (its fuel is real) but charges the reserved worst-case inference.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "chain_internal.h"
#include "vm.h"
#include "xai.h"
#include "common.h"

#include "wasi.h"

#define FUEL_GAS_NUM WICAS_VM_GAS_PER_FUEL   /* CosmWasm gas per fuel */
#define FUEL_GAS_DEN WICAS_VM_GAS_MULTIPLIER /* CosmWasm gas per SDK gas */

/* request limits (documented in docs/GAS.md and src/chain/README.md) */
#define RP_MAX_ARGS 64
#define RP_MAX_ARG_BYTES 16384 /* all args together */
#define RP_MAX_STDIN 65536
#define RP_MAX_MODELS 8
#define RP_MAX_OUTPUT 65536
#define RP_DEFAULT_OUTPUT 4096
#define RP_DEFAULT_TOKENS 64
#define RP_DEFAULT_PROMPT_TOKENS 1024
#define RP_MAX_PROMPT_TOKENS 8192
#define RP_DEFAULT_COMPUTES 1
#define RP_MAX_COMPUTES 16
#define RP_MAX_SEED 256
#define RP_MEMORY (256ull << 20)   /* linear memory of a program */
#define RP_MAX_FUEL 10000000000ull /* instructions per run, whatever the gas */

static uint64_t sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t wicas_aiprog_fuel_gas(uint64_t fuel) {
    /* ceil(fuel * 150,000 / 140,000,000): the VM's price of an instruction, in SDK gas */
    uint64_t num = sat_mul(fuel, FUEL_GAS_NUM);
    return num / FUEL_GAS_DEN + (num % FUEL_GAS_DEN != 0);
}

uint64_t wicas_aiprog_load_gas(size_t wasm_len) {
    return sat_add(GAS_WASM_INSTANCE, sat_mul(GAS_WASM_COMPILE_PER_BYTE, wasm_len));
}

typedef struct {
    uint8_t program[32];
    char hex[65];
    const char *args[RP_MAX_ARGS + 1];
    size_t n_args;
    const char *stdin_text;
    size_t stdin_len;
    wicas_ai_model models[RP_MAX_MODELS];
    size_t n_models;
    uint64_t max_output, max_tokens, max_prompt_tokens, max_computes;
    const char *seed;
} rp_request;

static bool json_u64(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

static bool lower_hex64(const char *s) {
    if (!s || strlen(s) != 64) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

/* Parses the request strictly (cJSON tree j stays alive while rp is used).
 * Registry look-ups of the models happen here too. 0 or -1 with err. */
static int parse(wctx *x, const cJSON *body, rp_request *rp, char *err, size_t errlen) {
    memset(rp, 0, sizeof *rp);
    rp->max_output = RP_DEFAULT_OUTPUT;
    rp->max_tokens = RP_DEFAULT_TOKENS;
    rp->max_prompt_tokens = RP_DEFAULT_PROMPT_TOKENS;
    rp->max_computes = RP_DEFAULT_COMPUTES;
    if (!cJSON_IsObject(body)) return snprintf(err, errlen, "ai: run_program must be an object"), -1;
    const cJSON *models = NULL, *args = NULL;
    bool have_program = false;
    const cJSON *f;
    cJSON_ArrayForEach(f, body) {
        const char *k = f->string;
        uint64_t *num = strcmp(k, "max_output") == 0          ? &rp->max_output
                        : strcmp(k, "max_tokens") == 0        ? &rp->max_tokens
                        : strcmp(k, "max_prompt_tokens") == 0 ? &rp->max_prompt_tokens
                        : strcmp(k, "max_computes") == 0      ? &rp->max_computes
                                                              : NULL;
        if (num) {
            if (!json_u64(f, num))
                return snprintf(err, errlen, "ai: run_program.%s must be a non-negative integer", k), -1;
        } else if (strcmp(k, "program") == 0) {
            if (!cJSON_IsString(f) || !lower_hex64(f->valuestring))
                return snprintf(err, errlen,
                                "ai: run_program.program must be 64 lowercase hex digits (the SHA-256 "
                                "of a stored program)"),
                       -1;
            memcpy(rp->hex, f->valuestring, 65);
            wicas_hex_decode(rp->hex, rp->program, 32);
            have_program = true;
        } else if (strcmp(k, "args") == 0) {
            if (!cJSON_IsArray(f))
                return snprintf(err, errlen, "ai: run_program.args must be an array of strings"), -1;
            args = f;
        } else if (strcmp(k, "stdin") == 0) {
            if (!cJSON_IsString(f))
                return snprintf(err, errlen, "ai: run_program.stdin must be a string"), -1;
            rp->stdin_text = f->valuestring;
            rp->stdin_len = strlen(f->valuestring);
            if (rp->stdin_len > RP_MAX_STDIN)
                return snprintf(err, errlen, "ai: run_program.stdin is over %d bytes", RP_MAX_STDIN), -1;
        } else if (strcmp(k, "models") == 0) {
            if (!cJSON_IsArray(f))
                return snprintf(err, errlen, "ai: run_program.models must be an array of names"), -1;
            models = f;
        } else if (strcmp(k, "seed") == 0) {
            if (!cJSON_IsString(f) || strlen(f->valuestring) > RP_MAX_SEED)
                return snprintf(err, errlen, "ai: run_program.seed must be a string of at most %d bytes",
                                RP_MAX_SEED),
                       -1;
            rp->seed = f->valuestring;
        } else {
            return snprintf(err, errlen, "ai: run_program: unknown field '%s'", k), -1;
        }
    }
    if (!have_program) return snprintf(err, errlen, "ai: run_program.program is required"), -1;
    if (rp->max_output == 0 || rp->max_output > RP_MAX_OUTPUT)
        return snprintf(err, errlen, "ai: run_program.max_output must be 1..%d bytes", RP_MAX_OUTPUT), -1;
    if (rp->max_tokens > WICAS_AI_MAX_TOKENS_MAX)
        return snprintf(err, errlen, "ai: run_program.max_tokens must be 0..%d", WICAS_AI_MAX_TOKENS_MAX), -1;
    if (rp->max_prompt_tokens > RP_MAX_PROMPT_TOKENS)
        return snprintf(err, errlen, "ai: run_program.max_prompt_tokens must be 0..%d", RP_MAX_PROMPT_TOKENS),
               -1;
    if (rp->max_computes > RP_MAX_COMPUTES)
        return snprintf(err, errlen, "ai: run_program.max_computes must be 0..%d", RP_MAX_COMPUTES), -1;
    if (cJSON_GetArraySize(models) > 0 && (!rp->max_tokens || !rp->max_prompt_tokens || !rp->max_computes))
        return snprintf(err, errlen,
                        "ai: run_program: with models listed, max_tokens, max_prompt_tokens and "
                        "max_computes must be at least 1"),
               -1;
    /* argv[0] is the program's checksum; the request gives argv[1..] */
    rp->args[0] = rp->hex;
    rp->n_args = 1;
    size_t total = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args) {
        if (!cJSON_IsString(a)) return snprintf(err, errlen, "ai: run_program.args must be strings"), -1;
        if (rp->n_args > RP_MAX_ARGS)
            return snprintf(err, errlen, "ai: run_program: more than %d args", RP_MAX_ARGS), -1;
        total += strlen(a->valuestring) + 1;
        if (total > RP_MAX_ARG_BYTES)
            return snprintf(err, errlen, "ai: run_program.args are over %d bytes", RP_MAX_ARG_BYTES), -1;
        rp->args[rp->n_args++] = a->valuestring;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        if (!cJSON_IsString(m))
            return snprintf(err, errlen, "ai: run_program.models must be registry names"), -1;
        if (rp->n_models == RP_MAX_MODELS)
            return snprintf(err, errlen, "ai: run_program: at most %d models", RP_MAX_MODELS), -1;
        for (size_t i = 0; i < rp->n_models; i++)
            if (strcmp(rp->models[i].name, m->valuestring) == 0)
                return snprintf(err, errlen, "ai: run_program: model '%s' listed twice", m->valuestring), -1;
        int got = strlen(m->valuestring) <= WICAS_AI_NAME_MAX
                      ? wicas_aimod_get_model(x, m->valuestring, &rp->models[rp->n_models])
                      : 0;
        if (got < 0) return snprintf(err, errlen, "ai: %s", x->err), -1;
        if (got == 0) return snprintf(err, errlen, "ai: model '%.64s' is not registered", m->valuestring), -1;
        rp->n_models++;
    }
    return 0;
}

/* The worst inference cost a run can cause under the request's bounds:
 * every generation may use the dearest model, so each coefficient of the gas
 * formula is taken at its maximum over the listed models. */
static uint64_t worst_inference(const rp_request *rp) {
    if (rp->n_models == 0) return 0;
    uint64_t base = 0, per_p = 0, per_g = 0;
    for (size_t i = 0; i < rp->n_models; i++) {
        const wicas_ai_model *m = &rp->models[i];
        uint64_t c0 = wicas_ai_gas_cost(m, 0, 0);
        uint64_t cp = wicas_ai_gas_cost(m, 1, 0) - c0, cg = wicas_ai_gas_cost(m, 0, 1) - c0;
        if (c0 > base) base = c0;
        if (cp > per_p) per_p = cp;
        if (cg > per_g) per_g = cg;
    }
    return sat_add(sat_add(sat_mul(rp->max_computes, base), sat_mul(rp->max_prompt_tokens, per_p)),
                   sat_mul(rp->max_tokens, per_g));
}

static char *answer_json(const rp_request *rp, const wicas_wasi_result *r, uint64_t gas) {
    cJSON *o = cJSON_CreateObject();
    char *b64 = malloc(wicas_base64_encoded_len(r->out_len));
    if (!o || !b64) {
        cJSON_Delete(o);
        free(b64);
        return NULL;
    }
    wicas_base64_encode(r->out ? r->out : (const uint8_t *)"", r->out_len, b64);
    cJSON_AddStringToObject(o, "stdout", b64);
    free(b64);
    cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
    char n[24];
    snprintf(n, sizeof n, "%" PRIu64, gas);
    cJSON_AddStringToObject(o, "gas_used", n);
    snprintf(n, sizeof n, "%" PRIu64, r->fuel_used);
    cJSON_AddStringToObject(o, "fuel_used", n);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)r->nn_prompt_tokens);
    cJSON_AddNumberToObject(o, "generated_tokens", (double)r->nn_generated_tokens);
    cJSON_AddNumberToObject(o, "computes", r->nn_computes);
    cJSON_AddStringToObject(o, "program", rp->hex);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int wicas_aiprog_custom_query(wctx *x, const struct cJSON *body, uint64_t gas_limit, char **resp,
                              uint64_t *gas_used, char *err, size_t errlen) {
    wicas_chain *c = x->c;
    *resp = NULL;
    *gas_used = 0;
    rp_request rp;
    if (parse(x, body, &rp, err, errlen)) return -1;
    /* from a smart query, a run that may reach a model obeys the node's cap */
    if (rp.n_models && wicas_aimod_query_cap(x, rp.max_tokens, err, errlen)) return -1;
    /* the program's bytes: read without the per-byte store price, which the
     * load cost below replaces (a run compiles the module, like wasmd's
     * instantiation of a cached contract) */
    uint8_t k[128];
    size_t kl;
    wicas_aiprog_key(rp.program, k, sizeof k, &kl);
    uint8_t *wasm = NULL;
    size_t wl = 0;
    int f = wicas_kv_get(&x->ov, k, kl, &wasm, &wl);
    if (f < 0) {
        snprintf(err, errlen, "ai: run_program: store read failed: %s", wicas_chain_strerror(f));
        wicas_aimod_node_fault(x, err + 4);
        return -1;
    }
    if (f == 0) {
        snprintf(err, errlen, "ai: no program with checksum %s is stored (MsgStoreProgram first)", rp.hex);
        return -1;
    }
    /* gas: load + reserved worst inference, the rest is fuel */
    uint64_t load = wicas_aiprog_load_gas(wl), worst = worst_inference(&rp);
    uint64_t fixed = sat_add(load, worst);
    bool deliver = !x->simulate && !x->check && c->tx_index >= 0;
    if (fixed >= gas_limit) {
        free(wasm);
        snprintf(err, errlen,
                 "ai: out of gas: run_program needs %" PRIu64 " gas before any instruction (load %" PRIu64
                 ", worst-case inference %" PRIu64 ") and %" PRIu64 " is left",
                 fixed, load, worst, gas_limit);
        return -1;
    }
    if (deliver && worst > wicas_aimod_exec(c)->budget_left) {
        free(wasm);
        snprintf(err, errlen,
                 "ai: the block's inference budget is spent (%" PRIu64 " gas needed, %" PRIu64 " left)",
                 worst, wicas_aimod_exec(c)->budget_left);
        return -1;
    }
    uint64_t fuel_gas = gas_limit - fixed;
    uint64_t fuel =
        fuel_gas > UINT64_MAX / FUEL_GAS_DEN ? RP_MAX_FUEL : fuel_gas * FUEL_GAS_DEN / FUEL_GAS_NUM;
    if (fuel > RP_MAX_FUEL) fuel = RP_MAX_FUEL;
    if (fuel == 0) {
        free(wasm);
        snprintf(err, errlen, "ai: out of gas: no gas is left for the program's instructions");
        return -1;
    }
    /* the models, by hash, in this node's models directory */
    wicas_wasi_model table[RP_MAX_MODELS + 1];
    char paths[RP_MAX_MODELS][4096];
    size_t n_table = 0, entry_model[RP_MAX_MODELS + 1];
    if (rp.n_models && !c->opts.ai_host) {
        free(wasm);
        snprintf(err, errlen, "ai: model '%s' is needed but this node runs without a models directory",
                 rp.models[0].name);
        wicas_aimod_node_fault(x, err + 4);
        return -1;
    }
    for (size_t i = 0; i < rp.n_models; i++) {
        char e[512] = "";
        if (wicas_ai_host_check_model(c->opts.ai_host, &rp.models[i], paths[i], sizeof paths[i], e,
                                      sizeof e) != WICAS_AI_OK) {
            free(wasm);
            wicas_aimod_node_fault(x, e);
            snprintf(err, errlen, "ai: %s", e);
            return -1;
        }
        table[n_table] = (wicas_wasi_model){rp.models[i].name, paths[i], rp.models[i].sha256};
        entry_model[n_table++] = i;
    }
    if (rp.n_models && strcmp(rp.models[0].name, "default") != 0) {
        /* the first model is also "default", the name WASI-NN clients use when told nothing */
        bool taken = false;
        for (size_t i = 0; i < rp.n_models; i++)
            taken |= strcmp(rp.models[i].name, "default") == 0;
        if (!taken) {
            table[n_table] = (wicas_wasi_model){"default", paths[0], rp.models[0].sha256};
            entry_model[n_table++] = 0;
        }
    }
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models = table;
    cfg.n_models = n_table;
    cfg.memory_limit = RP_MEMORY;
    cfg.fuel_limit = fuel;
    cfg.stdout_cap = (size_t)rp.max_output;
    cfg.stderr_cap = 4096;
    cfg.n_threads = c->opts.ai_host ? wicas_ai_host_threads(c->opts.ai_host) : 1;
    cfg.cache = c->opts.ai_host ? wicas_ai_host_cache(c->opts.ai_host) : NULL;
    /* the WASI-NN bounds the worst case was priced with (with no models
     * listed they are never reached: every load answers NOT_FOUND) */
    cfg.nn_max_tokens = rp.max_tokens ? (uint32_t)rp.max_tokens : 1;
    cfg.nn_max_prompt_tokens = rp.max_prompt_tokens ? rp.max_prompt_tokens : 1;
    cfg.nn_max_computes = rp.max_computes ? (uint32_t)rp.max_computes : 1;
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = rp.args;
    req.n_args = rp.n_args;
    req.stdin_data = (const uint8_t *)rp.stdin_text;
    req.stdin_len = rp.stdin_len;
    req.block_time_ns = c->blk_time_ns > 0 ? c->blk_time_ns : 0;
    wicas_aimod_seed(x, rp.seed, req.seed); /* derived as for infer: chain data only */
    wicas_wasi_result r;
    int rc = wicas_wasi_run(&cfg, wasm, wl, &req, &r);
    free(wasm);
    if (rc == WICAS_WASI_ENOMEM || rc == WICAS_WASI_EENGINE || rc == WICAS_WASI_EMODEL ||
        rc == WICAS_WASI_EARG) {
        snprintf(err, errlen, "ai: run_program %.12s: this node failed: %.400s", rp.hex, r.error);
        wicas_aimod_node_fault(x, err + 4);
        wicas_wasi_result_free(&r);
        return -1;
    }
    /* the actual inference: each generation priced as one request of its model */
    uint64_t inference = 0;
    for (size_t i = 0; i < cfg.n_models; i++) {
        if (!r.nn_model_computes[i]) continue;
        const wicas_ai_model *m = &rp.models[entry_model[i]];
        inference = sat_add(
            inference, wicas_ai_gas_cost(m, r.nn_model_prompt_tokens[i], r.nn_model_generated_tokens[i]));
        inference = sat_add(inference, sat_mul(r.nn_model_computes[i] - 1, m->gas.base));
    }
    /* simulate charges the reserved worst case, not the actual inference, so
     * that a gas estimate from it passes the real run's reservation */
    if (x->simulate) inference = worst;
    uint64_t total = sat_add(sat_add(load, wicas_aiprog_fuel_gas(r.fuel_used)), inference);
    if (total > gas_limit) total = gas_limit; /* cannot happen: inference <= worst, fuel <= its share */
    *gas_used = total;
    if (deliver) wicas_aimod_exec(c)->budget_left -= worst;
    if (rc != WICAS_WASI_OK) {
        /* The contract may store what it is told, so it gets a fixed sentence
         * per kind of failure, never wasmtime's text (a backtrace's wording is
         * the runtime's, not consensus data); the details go to the log. */
        if (rc == WICAS_WASI_EFUEL)
            snprintf(err, errlen, "ai: program %s ran out of gas (fuel limit %" PRIu64 ")", rp.hex, fuel);
        else if (rc == WICAS_WASI_EOUTPUT)
            snprintf(err, errlen, "ai: program %s wrote more than max_output (%" PRIu64 " bytes)", rp.hex,
                     rp.max_output);
        else if (rc == WICAS_WASI_ETRAP)
            snprintf(err, errlen, "ai: program %s trapped", rp.hex);
        else if (rc == WICAS_WASI_EINSTANTIATE)
            snprintf(err, errlen, "ai: program %s cannot be instantiated (memory limit %llu bytes)", rp.hex,
                     (unsigned long long)RP_MEMORY);
        else
            snprintf(err, errlen, "ai: program %s is not a WASI command the sandbox runs", rp.hex);
        WICAS_INFO("ai", "height %lld tx %lld: %s (%" PRIu64 " gas)", (long long)c->blk_height,
                   (long long)c->tx_index, err, total);
        WICAS_DEBUG("ai", "run_program %.12s: %s", rp.hex, r.error);
        wicas_wasi_result_free(&r);
        return -1;
    }
    *resp = answer_json(&rp, &r, total);
    WICAS_INFO("ai",
               "height %lld tx %lld: program %.12s exited %d, %" PRIu64 " fuel, %" PRIu64 "+%" PRIu64
               " tokens in %u generations, %" PRIu64 " gas",
               (long long)c->blk_height, (long long)c->tx_index, rp.hex, r.exit_code, r.fuel_used,
               r.nn_prompt_tokens, r.nn_generated_tokens, r.nn_computes, total);
    wicas_wasi_result_free(&r);
    if (!*resp) {
        wicas_aimod_node_fault(x, "run_program: out of memory");
        snprintf(err, errlen, "ai: out of memory");
        return -1;
    }
    return 0;
}
