/* test_wasi_nn.c — WASI-NN through the sandbox equals the native engine:
 * programs/wasinn_chat.wasm asking the host's engine (the default SmolLM2
 * model) must print exactly the bytes wicas_infer_generate gives for the same
 * model, prompt, parameters and seed — greedy and sampled, streamed or not,
 * with 1 or 2 host threads — and report the same token counts. Bad model
 * names and bad options are errors the program sees, not host failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"
#include "infer.h"
#include "wasi.h"

#define N_PREDICT 16
static const char *QUESTION = "What is the capital of France?";
static uint8_t *chat_wasm;
static size_t chat_len;
static wicas_infer_cache *cache;
static const char *model_path;
static uint32_t native_max = N_PREDICT; /* max_tokens of the native run */
static uint32_t budget;                 /* cfg.nn_max_tokens of the sandboxed run */
static bool native_special = true;      /* parse_special of the native run (WASI-NN's default) */

static int setup(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/wasinn_chat.wasm", getenv("WICAS_WASM_DIR"));
    chat_wasm = wicas_read_file(path, 16 << 20, &chat_len);
    model_path = getenv("WICAS_DEFAULT_MODEL");
    cache = wicas_infer_cache_new();
    return chat_wasm && model_path && cache ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    free(chat_wasm);
    wicas_infer_cache_free(cache);
    return 0;
}

static void seed_of(uint8_t seed[32]) {
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0xA0 + i);
}

/* Runs wasinn_chat with extra argv. */
static int run_chat(const char *const *extra, size_t n_extra, uint32_t threads, wicas_wasi_result *res) {
    const char *argv[16] = {"wasinn_chat"};
    for (size_t i = 0; i < n_extra; i++)
        argv[1 + i] = extra[i];
    wicas_wasi_model models[] = {{"default", model_path, NULL}};
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models = models;
    cfg.n_models = 1;
    cfg.n_threads = threads;
    cfg.cache = cache;
    cfg.nn_max_tokens = budget;
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 1 + n_extra;
    seed_of(req.seed);
    return wicas_wasi_run(&cfg, chat_wasm, chat_len, &req, res);
}

/* The same generation natively, with WASI-NN's defaults and seed rule. */
static void native(float temp, bool has_seed, uint64_t seed_opt, wicas_infer_result *out) {
    wicas_infer_model *m = NULL;
    char err[256];
    assert_int_equal(wicas_infer_cache_get(cache, model_path, NULL, &m, err, sizeof err), 0);
    wicas_infer_ctx *ctx = NULL;
    wicas_infer_ctx_params cp = {.n_ctx = 1024, .n_threads = 1};
    assert_int_equal(wicas_infer_ctx_new(m, &cp, &ctx), 0);
    wicas_infer_gen_params p;
    wicas_infer_gen_params_default(&p);
    p.max_tokens = native_max;
    p.temperature = temp;
    p.top_p = 0.95f;
    p.top_k = 0;
    p.repeat_penalty = 1.1f;
    p.repeat_last_n = 64;
    p.parse_special = native_special;
    uint8_t req_seed[32];
    seed_of(req_seed);
    wicas_wasi_nn_seed(req_seed, has_seed, seed_opt, p.seed);
    char prompt[256];
    snprintf(prompt, sizeof prompt, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", QUESTION);
    assert_int_equal(wicas_infer_generate(ctx, prompt, &p, NULL, NULL, out), 0);
    wicas_infer_ctx_free(ctx);
    wicas_infer_model_release(m);
}

static void expect_same_at(const wicas_wasi_result *r, const wicas_infer_result *n, int line) {
    if (r->out_len != n->text_len || memcmp(r->out, n->text, n->text_len) != 0)
        fail_msg("line %d: WASI-NN printed \"%s\" (%llu tokens), native engine gave \"%s\" (%u tokens)", line,
                 (char *)r->out, (unsigned long long)r->nn_generated_tokens, n->text, n->n_generated_tokens);
    assert_true(r->nn_prompt_tokens == n->n_prompt_tokens);
    assert_true(r->nn_generated_tokens == n->n_generated_tokens);
    assert_int_equal(r->nn_computes, 1);
}
#define expect_same(r, n) expect_same_at(r, n, __LINE__)

static void greedy_equals_native(void **state) {
    (void)state;
    wicas_infer_result n;
    native(0.0f, false, 0, &n);
    assert_true(n.n_generated_tokens > 0);
    const char *args[] = {"--n-predict", "16", "--temp", "0", "--meta", QUESTION};
    wicas_wasi_result r;
    assert_int_equal(run_chat(args, 6, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    expect_same(&r, &n);
    char meta[128];
    snprintf(meta, sizeof meta, "{\"input_tokens\":%u,\"output_tokens\":%u,", n.n_prompt_tokens,
             n.n_generated_tokens);
    assert_non_null(strstr((char *)r.err, meta));
    wicas_wasi_result_free(&r);
    /* streamed token by token: the same bytes */
    const char *sargs[] = {"--n-predict", "16", "--temp", "0", "--stream", QUESTION};
    assert_int_equal(run_chat(sargs, 6, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    expect_same(&r, &n);
    wicas_wasi_result_free(&r);
    wicas_infer_result_free(&n);
    assert_int_equal(wicas_infer_cache_size(cache), 1); /* the model stayed resident */
}

static void sampled_equals_native_any_threads(void **state) {
    (void)state;
    wicas_infer_result n, n2;
    native(0.8f, true, 42, &n);
    const char *args[] = {"--n-predict", "16", "--seed", "42", QUESTION};
    wicas_wasi_result r;
    assert_int_equal(run_chat(args, 5, 1, &r), WICAS_WASI_OK);
    expect_same(&r, &n);
    wicas_wasi_result_free(&r);
    assert_int_equal(run_chat(args, 5, 2, &r), WICAS_WASI_OK);
    expect_same(&r, &n);
    wicas_wasi_result_free(&r);
    /* another seed option gives another sample (checked against native too) */
    native(0.8f, true, 43, &n2);
    const char *args2[] = {"--n-predict", "16", "--seed", "43", QUESTION};
    assert_int_equal(run_chat(args2, 5, 1, &r), WICAS_WASI_OK);
    expect_same(&r, &n2);
    wicas_wasi_result_free(&r);
    wicas_infer_result_free(&n);
    wicas_infer_result_free(&n2);
}

static void errors_reach_the_program(void **state) {
    (void)state;
    wicas_wasi_result r;
    const char *a1[] = {"--model", "nope", "hi"};
    assert_int_equal(run_chat(a1, 3, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_string_equal((char *)r.err, "load nope: 8\n"); /* NOT_FOUND */
    wicas_wasi_result_free(&r);
    const char *a2[] = {"--temp", "\"hot\"", "hi"};
    assert_int_equal(run_chat(a2, 3, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_string_equal((char *)r.err, "set-up: error 1\n"); /* INVALID_ARGUMENT */
    wicas_wasi_result_free(&r);
    const char *a3[] = {"--temp", "1,", "hi"};
    assert_int_equal(run_chat(a3, 3, 1, &r), WICAS_WASI_OK);
    assert_string_equal((char *)r.err, "set-up: error 2\n"); /* INVALID_ENCODING: not JSON */
    wicas_wasi_result_free(&r);
    assert_int_equal(r.nn_computes, 0);
}

/* A prompt longer than the context is the request's error, found before any
 * work: PROMPT_TOO_LONG (102) reaches the program, no generation is counted. */
static void prompt_over_the_context_is_refused_early(void **state) {
    (void)state;
    static char big[4000];
    size_t n = 0;
    for (int i = 0; i < 1500; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "1 ");
    const char *a[] = {"--raw", big};
    wicas_wasi_result r;
    assert_int_equal(run_chat(a, 2, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_string_equal((char *)r.err, "compute: error 102\n");
    assert_int_equal(r.nn_computes, 0);
    assert_int_equal(r.nn_prompt_tokens, 0);
    assert_int_equal(r.nn_generated_tokens, 0);
    wicas_wasi_result_free(&r);
}

/* The prompt's "<|im_start|>"/"<|im_end|>" reach the model as its special
 * tokens by default (WasmEdge's GGML backend tokenizes with parse_special on);
 * "parse-special": false reads them as text: other prompt tokens, another
 * answer, each equal to the native engine's with the same flag. */
static void parse_special_option(void **state) {
    (void)state;
    wicas_infer_model *m = NULL;
    char err[256];
    assert_int_equal(wicas_infer_cache_get(cache, model_path, NULL, &m, err, sizeof err), 0);
    int32_t im_start = -1;
    size_t one = 0;
    assert_int_equal(wicas_infer_tokenize(m, "<|im_start|>", 12, false, true, &im_start, 1, &one), 0);
    assert_int_equal(one, 1);
    char prompt[256];
    snprintf(prompt, sizeof prompt, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", QUESTION);
    int32_t *ts = NULL, *tt = NULL;
    size_t ns = 0, nt = 0;
    assert_int_equal(wicas_infer_prompt_tokens_ex(m, prompt, false, true, &ts, &ns), 0);
    assert_int_equal(wicas_infer_prompt_tokens_ex(m, prompt, false, false, &tt, &nt), 0);
    size_t hits_s = 0, hits_t = 0;
    for (size_t i = 0; i < ns; i++)
        hits_s += ts[i] == im_start;
    for (size_t i = 0; i < nt; i++)
        hits_t += tt[i] == im_start;
    assert_int_equal(hits_s, 2); /* the two markers, as one token each */
    assert_int_equal(hits_t, 0); /* spelled out in ordinary tokens */
    assert_true(nt > ns);
    free(ts);
    free(tt);
    wicas_infer_model_release(m);

    wicas_infer_result on, off;
    native(0.0f, false, 0, &on);
    native_special = false;
    native(0.0f, false, 0, &off);
    native_special = true;
    assert_int_equal(on.n_prompt_tokens, ns);
    assert_int_equal(off.n_prompt_tokens, nt);
    wicas_wasi_result r;
    const char *a_def[] = {"--n-predict", "16", "--temp", "0", QUESTION};
    assert_int_equal(run_chat(a_def, 5, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    expect_same(&r, &on);
    wicas_wasi_result_free(&r);
    const char *a_on[] = {"--n-predict", "16", "--temp", "0", "--parse-special", "true", QUESTION};
    assert_int_equal(run_chat(a_on, 7, 1, &r), WICAS_WASI_OK);
    expect_same(&r, &on);
    wicas_wasi_result_free(&r);
    const char *a_off[] = {"--n-predict", "16", "--temp", "0", "--parse-special", "false", QUESTION};
    assert_int_equal(run_chat(a_off, 7, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    expect_same(&r, &off);
    wicas_wasi_result_free(&r);
    /* a value that is not a JSON boolean is refused */
    const char *a_bad[] = {"--parse-special", "1", "hi"};
    assert_int_equal(run_chat(a_bad, 3, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_string_equal((char *)r.err, "set-up: error 1\n"); /* INVALID_ARGUMENT */
    assert_int_equal(r.nn_computes, 0);
    wicas_wasi_result_free(&r);
    wicas_infer_result_free(&on);
    wicas_infer_result_free(&off);
}

/* The embedder's token budget cuts a generation short, deterministically:
 * the output is the native engine's first 5 tokens (see also the probe). */
static void token_budget_caps_generation(void **state) {
    (void)state;
    wicas_infer_result n;
    native_max = 5;
    native(0.0f, false, 0, &n);
    native_max = N_PREDICT;
    assert_int_equal(n.n_generated_tokens, 5);
    const char *args[] = {"--n-predict", "16", "--temp", "0", QUESTION};
    wicas_wasi_result r;
    budget = 5;
    assert_int_equal(run_chat(args, 5, 1, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    expect_same(&r, &n);
    wicas_wasi_result_free(&r);
    budget = 0;
    wicas_infer_result_free(&n);
}

/* Every misuse of the API gets its WasmEdge errno; load() with builders and
 * unload work; the text ("The sky is" -> " a canvas of", 3 greedy tokens with
 * penalty 1.1) was checked against `wicasd infer` on the same model. */
static void api_misuse_gets_errnos(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/wasi_test_nn_probe.wasm", getenv("WICAS_WASM_DIR"));
    size_t len;
    uint8_t *probe = wicas_read_file(path, 16 << 20, &len);
    assert_non_null(probe);
    wicas_wasi_model models[] = {{"default", model_path, NULL}};
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models = models;
    cfg.n_models = 1;
    cfg.cache = cache;
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    wicas_wasi_result r;
    assert_int_equal(wicas_wasi_run(&cfg, probe, len, &req, &r), WICAS_WASI_OK);
    assert_string_equal(
        (char *)r.out,
        "load_builders=0\nload_bad_encoding=2\nload_unknown=8\nload_bad_ptr=1\n"
        "load_cfg_bad_value=1\ninit_bad_graph=1\ninit=0\ncompute_no_input=1\n"
        "get_output_before=1\nset_input_bad_index=1\nset_input_bad_ctx=1\nset_input=0\n"
        "compute=0\nget_output_small=7\nget_output=0 text=[ a canvas of]\n"
        "meta=0 {\"input_tokens\":3,\"output_tokens\":3,\"stop\":\"length\",\"engine\":\"wicas\"}\n"
        "get_output_bad_index=1\nsecond_compute=0\nunload=0\ncompute_after_unload=1\nunload_again=1\n");
    assert_true(r.nn_prompt_tokens == 6 && r.nn_generated_tokens == 6 && r.nn_computes == 2);
    wicas_wasi_result_free(&r);
    /* a budget of 3 generated tokens: the second compute finds it spent (TOO_LARGE) */
    cfg.nn_max_tokens = 3;
    assert_int_equal(wicas_wasi_run(&cfg, probe, len, &req, &r), WICAS_WASI_OK);
    assert_non_null(strstr((char *)r.out, "get_output=0 text=[ a canvas of]\n"));
    assert_non_null(strstr((char *)r.out, "second_compute=7\n"));
    assert_true(r.nn_generated_tokens == 3 && r.nn_computes == 1);
    wicas_wasi_result_free(&r);
    cfg.nn_max_tokens = 0;
    /* without a preload table the same program still runs: loads answer NOT_FOUND */
    cfg.n_models = 0;
    assert_int_equal(wicas_wasi_run(&cfg, probe, len, &req, &r), WICAS_WASI_OK);
    assert_non_null(strstr((char *)r.out, "load_builders=8\n"));
    wicas_wasi_result_free(&r);
    free(probe);
}

/* A listed model this node cannot use stops the run (EMODEL) instead of
 * answering the program: missing file, or a file with another hash. */
static void unusable_models_stop_the_run(void **state) {
    (void)state;
    uint8_t good[32], bad[32];
    assert_int_equal(wicas_hex_decode(getenv("WICAS_DEFAULT_MODEL_SHA256"), good, 32), 0);
    memcpy(bad, good, 32);
    bad[31] ^= 1;
    const char *argv[] = {"wasinn_chat", "--n-predict", "2", "--temp", "0", "--raw", "Hi"};
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 7;
    struct {
        const char *path;
        const uint8_t *sha;
        bool use_cache;
        int want;
        const char *msg;
    } cases[] = {
        {"/nonexistent/model.gguf", NULL, true, WICAS_WASI_EMODEL, "/nonexistent/model.gguf"},
        {model_path, bad, true, WICAS_WASI_EMODEL, "SHA-256"},
        {model_path, bad, false, WICAS_WASI_EMODEL, "SHA-256"},
        {model_path, good, true, WICAS_WASI_OK, ""},
        {model_path, good, false, WICAS_WASI_OK, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wicas_wasi_model models[] = {{"default", cases[i].path, cases[i].sha}};
        wicas_wasi_config cfg;
        wicas_wasi_config_default(&cfg);
        cfg.models = models;
        cfg.n_models = 1;
        cfg.cache = cases[i].use_cache ? cache : NULL;
        wicas_wasi_result r;
        int rc = wicas_wasi_run(&cfg, chat_wasm, chat_len, &req, &r);
        if (rc != cases[i].want || !strstr(r.error, cases[i].msg))
            fail_msg("case %zu: rc %d (%s), wanted %d with \"%s\"", i, rc, r.error, cases[i].want,
                     cases[i].msg);
        if (rc == 0)
            assert_true(r.nn_generated_tokens == 2);
        else
            assert_true(r.out_len == 0);
        wicas_wasi_result_free(&r);
    }
}

/* WasmEdge's conventions programs rely on (progs/nn_meta.c): metadata at
 * any time on a live context (before set_input: 0 tokens; before compute: the
 * prompt's tokens exactly as compute evaluates them, per "parse-special"),
 * and "stream-stdout" putting exactly output 0 on stdout during compute()
 * but nothing during the *_single calls. Texts and counts equal the native
 * engine's; the counting before compute is charged fuel. */
static void metadata_and_stream_stdout(void **state) {
    (void)state;
    wicas_infer_result n;
    native_max = N_PREDICT;
    native_special = true;
    native(0.0f, false, 0, &n);
    wicas_infer_model *m = NULL;
    char err[256];
    assert_int_equal(wicas_infer_cache_get(cache, model_path, NULL, &m, err, sizeof err), 0);
    char prompt[256];
    snprintf(prompt, sizeof prompt, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", QUESTION);
    int32_t *toks = NULL;
    size_t n_plain = 0, n_special = 0;
    assert_int_equal(wicas_infer_prompt_tokens_ex(m, prompt, false, false, &toks, &n_plain), 0);
    free(toks);
    assert_int_equal(wicas_infer_prompt_tokens_ex(m, prompt, false, true, &toks, &n_special), 0);
    free(toks);
    wicas_infer_model_release(m);
    assert_true(n_special == n.n_prompt_tokens && n_plain > n_special);

    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/wasi_test_nn_meta.wasm", getenv("WICAS_WASM_DIR"));
    uint8_t *wasm = wicas_read_file(path, 16 << 20, &len);
    assert_non_null(wasm);
    wicas_wasi_model models[] = {{"default", model_path, NULL}};
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models = models;
    cfg.n_models = 1;
    cfg.cache = cache;
    const char *argv[] = {"nn_meta", "{\"n-predict\":16,\"temp\":0,\"stream-stdout\":true}"};
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 2;
    seed_of(req.seed);
    wicas_wasi_result r;
    assert_int_equal(wicas_wasi_run(&cfg, wasm, len, &req, &r), WICAS_WASI_OK);
    char want[4096];
    snprintf(
        want, sizeof want,
        "load=0\ninit=0\nmeta_fresh=0 "
        "{\"input_tokens\":0,\"output_tokens\":0,\"stop\":\"none\",\"engine\":\"wicas\"}\n"
        "text_fresh=1\nmeta_bad_ctx=1\nset_input=0\n"
        "meta_input=0 {\"input_tokens\":%zu,\"output_tokens\":0,\"stop\":\"none\",\"engine\":\"wicas\"}\n"
        "meta_small=7\nplain_text=0\n"
        "meta_plain=0 {\"input_tokens\":%zu,\"output_tokens\":0,\"stop\":\"none\",\"engine\":\"wicas\"}\n"
        "special=0\n"
        "meta_special=0 {\"input_tokens\":%zu,\"output_tokens\":0,\"stop\":\"none\",\"engine\":\"wicas\"}\n"
        "stream=[%s]\ncompute=0\ntext=0 %s\n"
        "meta_done=0 {\"input_tokens\":%u,\"output_tokens\":%u,\"stop\":\"%s\",\"engine\":\"wicas\"}\n"
        "set_input_again=0\n"
        "meta_again=0 {\"input_tokens\":%zu,\"output_tokens\":0,\"stop\":\"none\",\"engine\":\"wicas\"}\n"
        "single=[]\nsingle_end=100 pieces=%s\nfini=0\n",
        n_special, n_plain, n_special, n.text, n.text, n.n_prompt_tokens, n.n_generated_tokens,
        n.stop == WICAS_INFER_STOP_EOG ? "eog" : "length", n_special, n.text);
    assert_string_equal((char *)r.out, want);
    assert_true(r.nn_computes == 2 && r.nn_generated_tokens == 2ull * n.n_generated_tokens);
    uint64_t fuel_with_stream = r.fuel_used;
    wicas_wasi_result_free(&r);
    /* without the option nothing is streamed; the rest is the same */
    argv[1] = "{\"n-predict\":16,\"temp\":0}";
    assert_int_equal(wicas_wasi_run(&cfg, wasm, len, &req, &r), WICAS_WASI_OK);
    char want2[4096];
    snprintf(want2, sizeof want2, "stream=[]\ncompute=0\ntext=0 %s\n", n.text);
    assert_non_null(strstr((char *)r.out, want2));
    assert_true(r.fuel_used <= fuel_with_stream);
    uint64_t fuel_plain = r.fuel_used;
    wicas_wasi_result_free(&r);
    /* counting before compute is paid for: each new prompt counted costs at
     * least 512 fuel a byte */
    const char *argv3[] = {"nn_meta", "{\"n-predict\":16,\"temp\":0}", "recount", "10"};
    req.args = argv3;
    req.n_args = 4;
    assert_int_equal(wicas_wasi_run(&cfg, wasm, len, &req, &r), WICAS_WASI_OK);
    assert_true(r.fuel_used >= fuel_plain + 10ull * 512 * strlen(prompt));
    wicas_wasi_result_free(&r);
    wicas_infer_result_free(&n);
    free(wasm);
}

/* Runs progs/nn_meta.c with config cfg_json; the output in *r. */
static int run_meta(const char *cfg_json, wicas_wasi_result *r) {
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/wasi_test_nn_meta.wasm", getenv("WICAS_WASM_DIR"));
    uint8_t *wasm = wicas_read_file(path, 16 << 20, &len);
    assert_non_null(wasm);
    wicas_wasi_model models[] = {{"default", model_path, NULL}};
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models = models;
    cfg.n_models = 1;
    cfg.cache = cache;
    const char *argv[] = {"nn_meta", cfg_json};
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 2;
    seed_of(req.seed);
    int rc = wicas_wasi_run(&cfg, wasm, len, &req, r);
    free(wasm);
    return rc;
}

/* "reverse-prompt": compute() stops after the token that completes it (also
 * across pieces), that token included: the text equals the native engine's
 * for that many tokens, and one token fewer does not contain it; stop
 * "reverse-prompt", streamed the same; the *_single calls ignore it (as
 * WasmEdge's); a prompt never met changes nothing; bad values are refused. */
static void reverse_prompt_option(void **state) {
    (void)state;
    native_special = true;
    native_max = N_PREDICT;
    wicas_infer_result full;
    native(0.0f, false, 0, &full);
    const char *rps[] = {"Paris", "is P", "France is"};
    for (size_t k = 0; k < sizeof rps / sizeof rps[0]; k++) {
        assert_non_null(strstr(full.text, rps[k]));
        char cfg[256], want[512];
        snprintf(cfg, sizeof cfg,
                 "{\"n-predict\":16,\"temp\":0,\"stream-stdout\":true,\"reverse-prompt\":\"%s\"}", rps[k]);
        wicas_wasi_result r;
        assert_int_equal(run_meta(cfg, &r), WICAS_WASI_OK);
        const char *done = strstr((char *)r.out, "meta_done=0 {\"input_tokens\":");
        assert_non_null(done);
        unsigned in = 0, out = 0;
        assert_int_equal(sscanf(done, "meta_done=0 {\"input_tokens\":%u,\"output_tokens\":%u", &in, &out), 2);
        assert_non_null(strstr(done, "\"stop\":\"reverse-prompt\""));
        assert_true(out > 0 && out < full.n_generated_tokens);
        wicas_infer_result a, b;
        native_max = out;
        native(0.0f, false, 0, &a);
        native_max = out - 1;
        native(0.0f, false, 0, &b);
        assert_non_null(strstr(a.text, rps[k]));
        assert_null(strstr(b.text, rps[k]));
        snprintf(want, sizeof want, "stream=[%s]\ncompute=0\ntext=0 %s\n", a.text, a.text);
        assert_non_null(strstr((char *)r.out, want));
        snprintf(want, sizeof want, "single_end=100 pieces=%s\n", full.text);
        assert_non_null(strstr((char *)r.out, want));
        assert_true(r.nn_generated_tokens == out + full.n_generated_tokens);
        wicas_infer_result_free(&a);
        wicas_infer_result_free(&b);
        wicas_wasi_result_free(&r);
        native_max = N_PREDICT;
    }
    wicas_wasi_result r;
    char want[512];
    assert_int_equal(run_meta("{\"n-predict\":16,\"temp\":0,\"reverse-prompt\":\"Lyon\"}", &r),
                     WICAS_WASI_OK);
    snprintf(want, sizeof want, "text=0 %s\n", full.text);
    assert_non_null(strstr((char *)r.out, want));
    wicas_wasi_result_free(&r);
    char long_rp[400];
    snprintf(long_rp, sizeof long_rp, "{\"reverse-prompt\":\"%0257d\"}", 0);
    const char *bad[] = {"{\"reverse-prompt\":5}", long_rp};
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(run_meta(bad[k], &r), WICAS_WASI_OK);
        assert_non_null(strstr((char *)r.out, "load=1\n"));
        wicas_wasi_result_free(&r);
    }
    wicas_infer_result_free(&full);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(greedy_equals_native),
        cmocka_unit_test(sampled_equals_native_any_threads),
        cmocka_unit_test(errors_reach_the_program),
        cmocka_unit_test(prompt_over_the_context_is_refused_early),
        cmocka_unit_test(api_misuse_gets_errnos),
        cmocka_unit_test(token_budget_caps_generation),
        cmocka_unit_test(parse_special_option),
        cmocka_unit_test(metadata_and_stream_stdout),
        cmocka_unit_test(reverse_prompt_option),
        cmocka_unit_test(unusable_models_stop_the_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
