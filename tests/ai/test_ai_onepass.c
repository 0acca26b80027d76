/* test_ai_onepass.c — one pass over each AI request (issue 12): the request
 * JSON is read once, as the contract's querier parsed it, and the prompt is
 * tokenised once, at pricing; the engine runs those tokens.
 *   - the parsed door (wicas_ai_request_from_json) reads an object exactly
 *     as the text door read the object re-printed (what the chain did
 *     before): same code, same message, same request;
 *   - the engine run from tokens (wicas_infer_generate_tokens) gives byte for
 *     byte what the run from the prompt gives, and does not tokenise;
 *     pricing tokenises in one encoding pass (the tokenizer's call counter,
 *     wicas_tok_encode_calls, is what is counted throughout);
 *   - the host: price_request tokenises once, run_priced not at all, and
 *     wicas_ai_host_infer (price + run, the async worker's door) once;
 *   - through the chain, with the ai-runner contract on a generated model: a
 *     smart query {"ai":{"infer":..}} and a delivered infer tx tokenise the
 *     prompt once; an asynchronous request tokenises once at tx time
 *     (simulate shows it alone), and once more in the worker that answers
 *     it (two in all, after the answer is there);
 *   - WASI-NN: a program's compute tokenises its prompt once (its pricing
 *     and its run share the tokens), with and without the metadata output.
 * argv[1]: the directory of generated models (q4_1.gguf is used). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "ai.h"
#include "chain.h"
#include "client.h"
#include "common.h"
#include "infer.h"
#include "tokenizer.h"
#include "wasi.h"
#include "wchain.pb-c.h"
#include "chain_test_util.h"

#define CHAIN_ID "wicas-onepass"
static const char *models_dir;
static char model_path[4096];
static char dir[256];
static uint8_t alice_sk[32];
static char alice[100];
static uint64_t seq;
static char tiny_json[1024];
static wicas_ai_model tiny;
static wicas_ai_host *host;
static wicas_chain *chain;
static int64_t height;
static char runner[100];

static uint64_t encodes(void) {
    return wicas_tok_encode_calls();
}

/* ---- the two doors of a request ------------------------------------------------------- */

static void same_request(const wicas_ai_request *a, const wicas_ai_request *b) {
    assert_string_equal(a->model, b->model);
    assert_int_equal(a->prompt_len, b->prompt_len);
    assert_memory_equal(a->prompt, b->prompt, a->prompt_len);
    assert_int_equal(a->max_tokens, b->max_tokens);
    assert_memory_equal(&a->temperature, &b->temperature, sizeof(float));
    assert_memory_equal(&a->top_p, &b->top_p, sizeof(float));
    assert_int_equal(a->top_k, b->top_k);
    assert_memory_equal(&a->repeat_penalty, &b->repeat_penalty, sizeof(float));
    assert_int_equal(!a->user_seed, !b->user_seed);
    if (a->user_seed) assert_string_equal(a->user_seed, b->user_seed);
    assert_int_equal(a->chat, b->chat);
}

static void doors_agree(void **st) {
    (void)st;
    static const char *const cases[] = {
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"Hello\",\"max_tokens\":\"16\"}}}",
        "{\"infer\":{\"model\":\"m\",\"prompt\":\"x\",\"temperature\":0.7,\"top_p\":\"0.9\",\"top_k\":7,"
        "\"repeat_penalty\":1.1,\"seed\":\"abc\",\"chat\":false}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\",\"seed\":null}}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\",\"seed\":1e999}}}", /* prints as null */
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":1e999}}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":0}}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":1025}}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\",\"bogus\":1}}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\"},\"infer\":{}}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"x\"}},\"other\":1}",
        "{\"ai\":{\"infer\":{\"prompt\":\"x\"}}}",
        "{\"ai\":{\"infer\":[1,2]}}",
        "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"\\ud800\"}}}",
        "[1,2,3]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *root = cJSON_Parse(cases[i]);
        if (!root) continue; /* cJSON refuses it: no object reaches a door */
        char *printed = cJSON_PrintUnformatted(root);
        assert_non_null(printed);
        wicas_ai_request a, b;
        char ea[512] = "", eb[512] = "";
        int ra = wicas_ai_request_from_json(root, &a, ea, sizeof ea);
        int rb = wicas_ai_request_parse(printed, strlen(printed), &b, eb, sizeof eb);
        if (ra != rb || strcmp(ea, eb) != 0) fail_msg("case %zu: %d '%s' vs %d '%s'", i, ra, ea, rb, eb);
        if (ra == WICAS_AI_OK) {
            same_request(&a, &b);
            wicas_ai_request_free(&a);
            wicas_ai_request_free(&b);
        }
        free(printed);
        cJSON_Delete(root);
    }
    /* the text door itself is unchanged: a seed written as 1e999 is not a string */
    const char *t = cases[3];
    wicas_ai_request r;
    char err[256] = "";
    assert_int_equal(wicas_ai_request_parse(t, strlen(t), &r, err, sizeof err), WICAS_AI_EINVAL);
    assert_non_null(strstr(err, "seed must be a string"));
    cJSON *root = cJSON_Parse(t);
    assert_int_equal(wicas_ai_request_from_json(root, &r, err, sizeof err), WICAS_AI_OK);
    assert_null(r.user_seed);
    wicas_ai_request_free(&r);
    cJSON_Delete(root);
}

/* ---- the engine ------------------------------------------------------------------------- */

/* passes: the encoding passes pricing needs (1; 2 only for text that gives
 * more than 1.5 tokens a byte, which is encoded again into the exact size) */
static void engine_check(const char *path, const char *prompt, bool chat, bool parse_special,
                         uint64_t passes) {
    wicas_infer_model *m = NULL;
    char err[256];
    assert_int_equal(wicas_infer_model_load(path, NULL, NULL, &m, err, sizeof err), 0);
    wicas_infer_ctx *ctx = NULL;
    wicas_infer_ctx_params cp = {.n_ctx = 0, .n_threads = 1};
    assert_int_equal(wicas_infer_ctx_new(m, &cp, &ctx), 0);
    wicas_infer_gen_params p;
    wicas_infer_gen_params_default(&p);
    p.max_tokens = 8;
    p.temperature = 0.8f;
    p.top_k = 40;
    for (int i = 0; i < 32; i++)
        p.seed[i] = (uint8_t)(i * 5 + 1);
    p.chat = chat;
    p.parse_special = parse_special;

    uint64_t e0 = encodes();
    int32_t *toks = NULL;
    size_t n = 0;
    assert_int_equal(wicas_infer_prompt_tokens_ex(m, prompt, chat, parse_special, &toks, &n), 0);
    uint64_t e1 = encodes();
    assert_int_equal(e1 - e0, passes);
    assert_true(n > 0);
    if (!chat) { /* the very ids the tokenizer gives for the text (the model adds BOS) */
        size_t cap = 4 * strlen(prompt) + 16, k = 0;
        int32_t *ref = malloc(cap * sizeof *ref);
        assert_int_equal(wicas_infer_tokenize(m, prompt, strlen(prompt), true, parse_special, ref, cap, &k),
                         0);
        assert_int_equal(k, n);
        assert_memory_equal(ref, toks, n * sizeof *toks);
        free(ref);
    }
    e1 = encodes();
    wicas_infer_result from_toks, from_text;
    assert_int_equal(wicas_infer_generate_tokens(ctx, toks, n, &p, NULL, NULL, &from_toks), 0);
    uint64_t e2 = encodes();
    assert_int_equal(e2 - e1, 0); /* the tokens are run as they are */
    assert_int_equal(wicas_infer_generate(ctx, prompt, &p, NULL, NULL, &from_text), 0);
    assert_int_equal(encodes() - e2, passes); /* the text door tokenises (once) */
    fprintf(stderr, "%s chat=%d: %zu prompt tokens, %u generated: \"%s\"\n", path, chat, n,
            from_toks.n_generated_tokens, from_toks.text);
    assert_int_equal(from_toks.n_prompt_tokens, n);
    assert_int_equal(from_toks.n_prompt_tokens, from_text.n_prompt_tokens);
    assert_int_equal(from_toks.n_generated_tokens, from_text.n_generated_tokens);
    assert_true(from_toks.n_generated_tokens > 0);
    assert_int_equal(from_toks.text_len, from_text.text_len);
    assert_memory_equal(from_toks.text, from_text.text, from_text.text_len);
    assert_int_equal(from_toks.stop, from_text.stop);
    wicas_infer_result_free(&from_toks);
    wicas_infer_result_free(&from_text);

    /* tokens the tokenizer did not make, none, or too many: refused, nothing run */
    wicas_infer_result r;
    wicas_infer_model_info info;
    wicas_infer_model_get_info(m, &info);
    int32_t bad[2] = {toks[0], (int32_t)info.n_vocab};
    assert_int_equal(wicas_infer_generate_tokens(ctx, bad, 2, &p, NULL, NULL, &r), WICAS_INFER_EARG);
    bad[1] = -1;
    assert_int_equal(wicas_infer_generate_tokens(ctx, bad, 2, &p, NULL, NULL, &r), WICAS_INFER_EARG);
    assert_int_equal(wicas_infer_generate_tokens(ctx, toks, 0, &p, NULL, NULL, &r), WICAS_INFER_EARG);
    size_t big = wicas_infer_model_default_ctx(m);
    int32_t *many = calloc(big, sizeof *many);
    for (size_t i = 0; i < big; i++)
        many[i] = toks[i % n];
    assert_int_equal(wicas_infer_generate_tokens(ctx, many, big, &p, NULL, NULL, &r), WICAS_INFER_ECTX);
    free(many);
    free(toks);
    wicas_infer_ctx_free(ctx);
    wicas_infer_model_release(m);
}

static void engine_runs_tokens(void **st) {
    (void)st;
    engine_check(model_path, "hello there, tiny model", false, false, 1);
    engine_check(model_path, "hello there, tiny model", false, true, 1);
    /* the generated model byte-falls-back on spaces (3 tokens each): more
     * tokens than the first buffer holds, so a second, exact pass */
    engine_check(model_path, "                                        ", false, false, 2);
    /* the default model has a chat template: the template's text is part of the one pass */
    engine_check(getenv("WICAS_DEFAULT_MODEL"), "What is the capital of France?", true, true, 1);
}

/* ---- the host ------------------------------------------------------------------------------ */

static void host_tokenises_once(void **st) {
    (void)st;
    const char *j =
        "{\"infer\":{\"model\":\"tiny\",\"prompt\":\"hello there\",\"max_tokens\":6,\"chat\":false,"
        "\"temperature\":0.9}}";
    wicas_ai_request req;
    char err[512] = "", err2[512] = "";
    assert_int_equal(wicas_ai_request_parse(j, strlen(j), &req, err, sizeof err), WICAS_AI_OK);
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x40 + i);

    uint64_t e0 = encodes();
    wicas_ai_priced pr;
    assert_int_equal(wicas_ai_host_price_request(host, &tiny, &req, &pr, err, sizeof err), WICAS_AI_OK);
    uint64_t e1 = encodes();
    assert_int_equal(e1 - e0, 1);
    uint32_t pt = 0;
    uint64_t worst = 0;
    assert_int_equal(wicas_ai_host_price(host, &tiny, &req, &pt, &worst, err, sizeof err), WICAS_AI_OK);
    assert_int_equal(pt, pr.prompt_tokens);
    assert_int_equal(worst, pr.worst);
    assert_int_equal(pr.n_tokens, pr.prompt_tokens);
    uint64_t e2 = encodes();
    wicas_ai_result a, b;
    assert_int_equal(wicas_ai_host_run_priced(host, &tiny, &req, &pr, seed, worst, &a, err, sizeof err),
                     WICAS_AI_OK);
    uint64_t e3 = encodes();
    assert_int_equal(e3 - e2, 0);
    assert_int_equal(wicas_ai_host_infer(host, &tiny, &req, seed, worst, &b, err, sizeof err), WICAS_AI_OK);
    assert_int_equal(encodes() - e3, 1); /* price + run under one lock: one tokenisation */
    assert_string_equal(a.text, b.text);
    assert_int_equal(a.prompt_tokens, b.prompt_tokens);
    assert_int_equal(a.generated_tokens, b.generated_tokens);
    assert_int_equal(a.gas_used, b.gas_used);
    assert_int_equal(a.prompt_tokens, pr.prompt_tokens);
    wicas_ai_result_free(&a);
    wicas_ai_result_free(&b);

    /* out of gas: the same sentence whichever door, before any inference */
    assert_int_equal(wicas_ai_host_run_priced(host, &tiny, &req, &pr, seed, worst - 1, &a, err, sizeof err),
                     WICAS_AI_EOUTOFGAS);
    assert_int_equal(wicas_ai_host_infer(host, &tiny, &req, seed, worst - 1, &b, err2, sizeof err2),
                     WICAS_AI_EOUTOFGAS);
    assert_string_equal(err, err2);
    assert_null(a.text);
    /* tokens priced on another model are not run */
    wicas_ai_model other = tiny;
    other.sha256[0] ^= 1;
    assert_int_equal(wicas_ai_host_run_priced(host, &other, &req, &pr, seed, UINT64_MAX, &a, err, sizeof err),
                     WICAS_AI_EINVAL);
    wicas_ai_priced_free(&pr);
    wicas_ai_priced_free(&pr); /* idempotent */

    /* a request over the context: ECONTEXT keeps the counts, no tokens */
    req.max_tokens = WICAS_AI_MAX_TOKENS_MAX;
    assert_int_equal(wicas_ai_host_price_request(host, &tiny, &req, &pr, err, sizeof err), WICAS_AI_ECONTEXT);
    assert_null(pr.tokens);
    assert_true(pr.prompt_tokens > 0 && pr.worst > 0);
    wicas_ai_priced_free(&pr);
    wicas_ai_request_free(&req);
}

/* ---- through the chain ------------------------------------------------------------------------ */

static uint8_t *read_wasm(const char *name, size_t *len) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", getenv("WICAS_WASM_DIR"), name);
    uint8_t *w = wicas_read_file(p, 8 << 20, len);
    if (!w) fail_msg("cannot read %s", p);
    return w;
}

static uint8_t *tx_of(const wicas_chain_any *m, uint64_t gas, size_t *len) {
    wicas_chain_tx_params p = {
        .chain_id = CHAIN_ID, .account_number = 0, .sequence = seq, .gas_limit = gas, .fee = "1uwicas"};
    uint8_t *tx;
    char err[256];
    assert_int_equal(wicas_chain_tx_build_sign(alice_sk, NULL, &p, m, 1, &tx, len, err, sizeof err), 0);
    return tx;
}

static void block1(uint8_t *tx, size_t len, wicas_chain_tx_result *r) {
    int64_t h = ++height;
    wicas_chain_block b = {.height = h,
                           .time_seconds = 1700000000 + h,
                           .time_nanos = 5,
                           .txs = (const uint8_t *const *)&tx,
                           .tx_lens = &len,
                           .n_txs = 1};
    for (int i = 0; i < 32; i++)
        b.hash[i] = (uint8_t)(h * 11 + i);
    char err[512];
    wicas_chain_event *ev;
    size_t nev;
    uint8_t app[32];
    if (wicas_chain_finalize_block(chain, &b, r, &ev, &nev, app, err, sizeof err))
        fail_msg("finalize: %s", err);
    wicas_chain_events_free(ev, nev);
    int64_t retain;
    assert_int_equal(wicas_chain_commit(chain, &retain), 0);
    seq++;
}

static void wicas_run_tx(wicas_chain_any *m, uint64_t gas, wicas_chain_tx_result *r) {
    size_t len;
    uint8_t *tx = tx_of(m, gas, &len);
    wicas_chain_any_free(m);
    block1(tx, len, r);
    free(tx);
}

static wicas_chain_any exec_msg(const char *msg) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_execute(alice, runner, msg, NULL, &m, err, sizeof err), 0);
    return m;
}

static int setup_chain(void) {
    char d[300];
    snprintf(d, sizeof d, "%s/chain", dir);
    wicas_chain_options o = {0};
    o.no_sync = true;
    o.map_size = 256u << 20;
    o.ai_host = host;
    o.ai_query_max_tokens = 8;
    char err[256];
    if (wicas_chain_open(d, &o, &chain, err, sizeof err)) return -1;
    char g[4096];
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000000\"}]}]},"
             "\"ai\":{\"models\":[%s]}}",
             alice, tiny_json);
    uint8_t h[32];
    if (wicas_chain_init_chain(chain, CHAIN_ID, 1, g, strlen(g), h, err, sizeof err)) {
        fprintf(stderr, "init_chain: %s\n", err);
        return -1;
    }
    return 0;
}

static void deploy_runner(void) {
    size_t wl;
    uint8_t *w = read_wasm("ai-runner.wasm", &wl);
    wicas_chain_any m;
    char err[256];
    wicas_chain_tx_result r;
    assert_int_equal(wicas_chain_msg_store_code(alice, w, wl, &m, err, sizeof err), 0);
    free(w);
    wicas_run_tx(&m, 20000000, &r);
    assert_int_equal(r.code, 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%s", ctu_attr(&r, "store_code", "code_id"));
    wicas_chain_tx_result_free(&r);
    assert_int_equal(wicas_chain_msg_instantiate(alice, NULL, strtoull(ids, NULL, 10), "runner", "{}", NULL,
                                                 &m, err, sizeof err),
                     0);
    wicas_run_tx(&m, 5000000, &r);
    assert_int_equal(r.code, 0);
    snprintf(runner, sizeof runner, "%s", ctu_attr(&r, "instantiate", "_contract_address"));
    wicas_chain_tx_result_free(&r);
}

static void chain_tokenises_once(void **st) {
    (void)st;
    deploy_runner();
    /* a smart query: the wasm querier parses it, the module reads that object,
     * pricing tokenises, the engine runs those tokens */
    const char *q =
        "{\"infer\":{\"request\":{\"model\":\"tiny\",\"prompt\":\"hello\",\"max_tokens\":4,\"chat\":false}}}";
    uint32_t code;
    char log[600] = "";
    uint64_t e0 = encodes();
    char *out = ctu_smart(chain, runner, q, &code, log, sizeof log);
    uint64_t e1 = encodes();
    if (code) fail_msg("query: %s", log);
    fprintf(stderr, "query: %s (%llu encodings)\n", out, (unsigned long long)(e1 - e0));
    assert_int_equal(e1 - e0, 1);
    free(out);

    /* a delivered infer tx */
    wicas_chain_tx_result r;
    wicas_chain_any m =
        exec_msg("{\"infer\":{\"key\":\"k\",\"request\":{\"model\":\"tiny\",\"prompt\":\"hello "
                 "again\",\"max_tokens\":5,\"chat\":false}}}");
    e0 = encodes();
    wicas_run_tx(&m, 5000000, &r);
    e1 = encodes();
    if (r.code) fail_msg("infer tx: %s", r.log);
    wicas_chain_tx_result_free(&r);
    assert_int_equal(e1 - e0, 1);

    /* an asynchronous request: simulate runs the tx (pricing) and commits
     * nothing, so no worker runs: one tokenisation */
    const char *areq =
        "{\"request\":{\"request\":{\"model\":\"tiny\",\"prompt\":\"tell me\",\"max_tokens\":4,"
        "\"chat\":false}}}";
    m = exec_msg(areq);
    size_t len;
    uint8_t *tx = tx_of(&m, 5000000, &len);
    wicas_chain_any_free(&m);
    e0 = encodes();
    wicas_chain_simulate(chain, tx, len, &r);
    e1 = encodes();
    if (r.code) fail_msg("simulate async request: %s", r.log);
    wicas_chain_tx_result_free(&r);
    assert_int_equal(e1 - e0, 1);
    /* delivered: once at tx time, once in the worker that answers it after
     * the commit (its price and run share one tokenisation) */
    e0 = encodes();
    block1(tx, len, &r);
    free(tx);
    if (r.code) fail_msg("async request: %s", r.log);
    wicas_chain_tx_result_free(&r);
    uint8_t *ext = NULL;
    size_t el = 0;
    for (int i = 0; i < 1200 && el == 0; i++) { /* the worker's answer, up to 120 s */
        free(ext);
        ext = NULL;
        assert_int_equal(wicas_chain_extend_vote(chain, height + 1, &ext, &el), 0);
        if (el == 0) usleep(100000);
    }
    if (el == 0) fail_msg("the worker did not answer the asynchronous request");
    fprintf(stderr, "async answer: %.*s\n", (int)el, (const char *)ext);
    free(ext);
    assert_int_equal(encodes() - e0, 2);
}

/* ---- WASI-NN ------------------------------------------------------------------------------------ */

static void wasi_nn_tokenises_once(void **st) {
    (void)st;
    size_t wl;
    uint8_t *w = read_wasm("wasinn_chat.wasm", &wl);
    wicas_infer_cache *cache = wicas_infer_cache_new();
    for (int meta = 0; meta < 2; meta++) {
        const char *argv_plain[] = {"wasinn_chat", "--n-predict", "4", "--temp", "0", "hello"};
        const char *argv_meta[] = {"wasinn_chat", "--n-predict", "4", "--temp", "0", "--meta", "hello"};
        wicas_wasi_model models[] = {{"default", model_path, NULL}};
        wicas_wasi_config cfg;
        wicas_wasi_config_default(&cfg);
        cfg.models = models;
        cfg.n_models = 1;
        cfg.n_threads = 1;
        cfg.cache = cache;
        wicas_wasi_request req;
        memset(&req, 0, sizeof req);
        req.args = meta ? argv_meta : argv_plain;
        req.n_args = meta ? 7 : 6;
        uint64_t e0 = encodes();
        wicas_wasi_result r;
        assert_int_equal(wicas_wasi_run(&cfg, w, wl, &req, &r), WICAS_WASI_OK);
        uint64_t e1 = encodes();
        fprintf(stderr, "wasinn_chat%s: exit %d, %llu computes, %llu encodings, \"%.*s\"\n",
                meta ? " --meta" : "", r.exit_code, (unsigned long long)r.nn_computes,
                (unsigned long long)(e1 - e0), (int)r.out_len, (const char *)r.out);
        assert_int_equal(r.exit_code, 0);
        assert_int_equal(r.nn_computes, 1);
        assert_int_equal(e1 - e0, 1);
        wicas_wasi_result_free(&r);
    }
    wicas_infer_cache_free(cache);
    free(w);
}

static int setup(void **st) {
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/wicas_onepass_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    for (int i = 0; i < 32; i++)
        alice_sk[i] = (uint8_t)(i + 9);
    ctu_addr_of(alice_sk, alice);
    snprintf(model_path, sizeof model_path, "%s/q4_1.gguf", models_dir);
    char err[256];
    if (ctu_tiny_model_json(model_path, tiny_json, sizeof tiny_json)) return -1;
    if (wicas_ai_model_from_json(tiny_json, strlen(tiny_json), &tiny, err, sizeof err)) return -1;
    wicas_ai_host_config hc = {.models_dir = models_dir, .n_threads = 1};
    if (wicas_ai_host_new(&hc, &host, err, sizeof err)) return -1;
    return setup_chain();
}

static int teardown(void **st) {
    (void)st;
    wicas_chain_close(chain);
    wicas_ai_host_free(host);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

int main(int argc, char **argv) {
    models_dir = argc > 1 ? argv[1] : NULL;
    if (!models_dir || !getenv("WICAS_WASM_DIR") || !getenv("WICAS_DEFAULT_MODEL")) {
        fprintf(stderr,
                "usage: test_ai_onepass MODELS_DIR (with WICAS_WASM_DIR and WICAS_DEFAULT_MODEL set)\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doors_agree),
        cmocka_unit_test(engine_runs_tokens),
        cmocka_unit_test(host_tokenises_once),
        cmocka_unit_test(chain_tokenises_once),
        cmocka_unit_test(wasi_nn_tokenises_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
