/*
 * fuzz_ai_request.c — libFuzzer target for the AI request JSON a contract
 * can send (src/ai/ai_request.c and the chain's doors to it). Input: a mode
 * byte, then JSON text.
 *   mode % 4 == 0: wicas_ai_request_parse ({"ai":{"infer":{...}}} or bare);
 *                  an accepted request must respect every documented limit,
 *                  parsing is a pure function of the text, and the parsed
 *                  door (wicas_ai_request_from_json on the same JSON) gives
 *                  the same code, message and request;
 *   mode % 4 == 1: the asynchronous request message
 *                  ({"custom":{"ai":{"request":<this>}}}, wicas_aiasync_request) in
 *                  an execution context on a real chain (no models
 *                  registered: the request must fail with a message and a
 *                  code, never halt the node);
 *   mode % 4 == 2: the custom query ({"ai":{"infer"|"run_program":...}},
 *                  wicas_aimod_custom_query on the parsed object, as the route
 *                  hands it over) in the same kind of context;
 *   mode % 4 == 3: wicas_ai_utf8_repair: the output is valid UTF-8 and equals
 *                  the input when that was valid.
 * The contexts write only to their own overlay, dropped after each input.
 * Seeds: the requests of the docs and tests (sync, async with callback,
 * run_program, every optional field) and a few invalid ones.
 */
#include "fuzz_main.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "ai.h"
#include "ai_internal.h"
#include "chain/fuzz_chain.h"
#include "chain_internal.h"
#include "xai.h"

static wicas_chain *chain;

static void fuzz_setup(void) {
    chain = fzc_open(fuzz_tmpdir("ai"), NULL);
    fzc_block(chain, 1, NULL, NULL, 0);
}

/* (adjacent literals below are one string each) */
#pragma clang diagnostic ignored "-Wstring-concatenation"
static const char *const seeds[] = {
    "{\"ai\":{\"infer\":{\"model\":\"default\",\"prompt\":\"The capital of France is\",\"max_tokens\":16}}}",
    "{\"infer\":{\"model\":\"smollm2-135m\",\"prompt\":\"Hi\",\"max_tokens\":\"8\",\"temperature\":0.7,\"top_"
    "p\":\"0.9\","
    "\"top_k\":40,\"repeat_penalty\":1.1,\"seed\":\"abc\",\"chat\":false}}",
    "{\"ai\":{\"infer\":{\"model\":\"default\",\"prompt\":\"\\u00e9t\\u00e9 "
    "\\ud83d\\ude00\",\"seed\":null}}}",
    "{\"ai\":{\"infer\":{\"model\":\"default\",\"prompt\":\"x\",\"max_tokens\":0}}}",
    "{\"ai\":{\"infer\":{\"model\":\"default\",\"prompt\":\"x\",\"bogus\":1}}}",
};
static const char *const async_seeds[] = {
    "{\"model\":\"default\",\"prompt\":\"Describe "
    "alice\",\"max_tokens\":32,\"callback\":{\"name\":\"alice\"}}",
    "{\"model\":\"default\",\"prompt\":\"x\",\"max_tokens\":300}",
};
static const char *const query_seeds[] = {
    "{\"ai\":{\"infer\":{\"model\":\"default\",\"prompt\":\"Hello\",\"max_tokens\":4}}}",
    "{\"ai\":{\"run_program\":{\"checksum\":"
    "\"00000000000000000000000000000000000000000000000000000000000000aa\","
    "\"args\":[\"prog\",\"x\"],\"stdin\":\"aGVsbG8=\"}}}",
    "{\"run_program\":{\"checksum\":\"zz\"}}",
};

static void fuzz_seeds(void) {
    char name[32];
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        snprintf(name, sizeof name, "parse-%zu", i);
        fuzz_seed_mode(name, 0, seeds[i], strlen(seeds[i]));
        snprintf(name, sizeof name, "repair-%zu", i);
        fuzz_seed_mode(name, 3, seeds[i], strlen(seeds[i]));
    }
    for (size_t i = 0; i < sizeof async_seeds / sizeof *async_seeds; i++) {
        snprintf(name, sizeof name, "async-%zu", i);
        fuzz_seed_mode(name, 1, async_seeds[i], strlen(async_seeds[i]));
    }
    for (size_t i = 0; i < sizeof query_seeds / sizeof *query_seeds; i++) {
        snprintf(name, sizeof name, "query-%zu", i);
        fuzz_seed_mode(name, 2, query_seeds[i], strlen(query_seeds[i]));
    }
    fuzz_seed_mode("repair-bad", 3, "a\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80z", 12);
}

static void check_request(const wicas_ai_request *r) {
    FUZZ_CHECK(r->model[0] && strlen(r->model) <= WICAS_AI_NAME_MAX, "model");
    FUZZ_CHECK(r->prompt && r->prompt_len == strlen(r->prompt) && r->prompt_len >= 1 &&
                   r->prompt_len <= WICAS_AI_PROMPT_MAX && wicas_utf8_valid(r->prompt, r->prompt_len),
               "prompt");
    FUZZ_CHECK(r->max_tokens >= 1 && r->max_tokens <= WICAS_AI_MAX_TOKENS_MAX, "max_tokens %u",
               r->max_tokens);
    FUZZ_CHECK(r->temperature >= 0.0f && r->temperature <= 2.0f, "temperature");
    FUZZ_CHECK(r->top_p > 0.0f && r->top_p <= 1.0f, "top_p");
    FUZZ_CHECK(r->top_k <= 100000, "top_k");
    FUZZ_CHECK(r->repeat_penalty >= 0.5f && r->repeat_penalty <= 2.0f, "repeat_penalty");
    FUZZ_CHECK(!r->user_seed || strlen(r->user_seed) <= 256, "seed");
}

/* A context on the committed state whose writes stay in its own overlay. */
typedef struct {
    MDB_txn *t;
    kv base;
    wctx x;
} ro_ctx;

static void ro_open(ro_ctx *v, uint64_t gas) {
    FUZZ_CHECK(mdb_txn_begin(chain->st.env, NULL, MDB_RDONLY, &v->t) == 0, "txn");
    wicas_kv_init_base(&v->base, &chain->st, v->t);
    wicas_ctx_init(&v->x, chain, &v->base, gas);
}

static void ro_close(ro_ctx *v) {
    wicas_ctx_free(&v->x);
    mdb_txn_abort(v->t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0] % 4;
    const char *json = (const char *)data + 1;
    size_t len = size - 1;
    char err[512] = "";
    if (mode == 0) {
        wicas_ai_request r, r2;
        int rc = wicas_ai_request_parse(json, len, &r, err, sizeof err);
        /* the parsed door (what the chain uses) reads an object exactly as
         * the text door read it re-printed (what the chain did before it
         * handed the object over): same code, same message, same request */
        cJSON *root = cJSON_ParseWithLength(json, len);
        char *printed = root ? cJSON_PrintUnformatted(root) : NULL;
        if (printed) {
            wicas_ai_request r3, r4;
            char err3[512] = "", err4[512] = "";
            int rc3 = wicas_ai_request_from_json(root, &r3, err3, sizeof err3);
            int rc4 = wicas_ai_request_parse(printed, strlen(printed), &r4, err4, sizeof err4);
            FUZZ_CHECK(rc3 == rc4 && strcmp(err3, err4) == 0, "doors differ: %d %d (%s | %s)", rc3, rc4, err3,
                       err4);
            if (rc3 == WICAS_AI_OK) {
                FUZZ_CHECK(strcmp(r4.model, r3.model) == 0 && strcmp(r4.prompt, r3.prompt) == 0 &&
                               r4.prompt_len == r3.prompt_len && r4.max_tokens == r3.max_tokens &&
                               r4.top_k == r3.top_k && r4.chat == r3.chat &&
                               memcmp(&r4.temperature, &r3.temperature, sizeof(float)) == 0 &&
                               memcmp(&r4.top_p, &r3.top_p, sizeof(float)) == 0 &&
                               memcmp(&r4.repeat_penalty, &r3.repeat_penalty, sizeof(float)) == 0 &&
                               !r4.user_seed == !r3.user_seed &&
                               (!r4.user_seed || !strcmp(r4.user_seed, r3.user_seed)),
                           "doors read different requests");
                wicas_ai_request_free(&r3);
                wicas_ai_request_free(&r4);
            }
        }
        free(printed);
        cJSON_Delete(root);
        if (rc != WICAS_AI_OK) {
            FUZZ_CHECK(err[0], "failure %d without a message", rc);
            return 0;
        }
        check_request(&r);
        FUZZ_CHECK(wicas_ai_request_parse(json, len, &r2, err, sizeof err) == WICAS_AI_OK, "second parse");
        FUZZ_CHECK(strcmp(r.model, r2.model) == 0 && strcmp(r.prompt, r2.prompt) == 0 &&
                       r.max_tokens == r2.max_tokens && r.top_k == r2.top_k && r.chat == r2.chat &&
                       memcmp(&r.temperature, &r2.temperature, sizeof(float)) == 0,
                   "parse differs");
        wicas_ai_request_free(&r);
        wicas_ai_request_free(&r2);
    } else if (mode == 1 || mode == 2) {
        ro_ctx v;
        ro_open(&v, 3000000);
        chain->halt[0] = 0;
        if (mode == 1) {
            cJSON *body = cJSON_ParseWithLength(json, len);
            if (body) {
                uint8_t contract[32];
                memset(contract, 0x11, sizeof contract);
                int rc = wicas_aiasync_request(&v.x, contract, body);
                FUZZ_CHECK(rc != 0, "accepted without a registered model");
                FUZZ_CHECK(v.x.err[0] && v.x.code != 0, "failure without code/message");
                cJSON_Delete(body);
            }
        } else {
            /* the route hands the module the object the contract's querier parsed */
            cJSON *custom = cJSON_ParseWithLength(json, len);
            if (custom) {
                char *resp = NULL;
                uint64_t used = 0;
                int rc = wicas_aimod_custom_query(&v.x, custom, 3000000, &resp, &used, err, sizeof err);
                FUZZ_CHECK(rc != 0 && resp == NULL, "answered without a registered model or program");
                FUZZ_CHECK(err[0], "failure without a message");
                free(resp);
                cJSON_Delete(custom);
            }
        }
        /* with no model registered nothing may ask the node to halt */
        FUZZ_CHECK(chain->halt[0] == 0, "halt set: %s", chain->halt);
        ro_close(&v);
    } else {
        size_t ol = 0;
        char *o = wicas_ai_utf8_repair(json, len, &ol);
        FUZZ_CHECK(o != NULL, "oom");
        FUZZ_CHECK(wicas_utf8_valid(o, ol), "repair output is not UTF-8");
        if (wicas_utf8_valid(json, len))
            FUZZ_CHECK(ol == len && memcmp(o, json, len) == 0, "valid input changed");
        free(o);
    }
    return 0;
}
