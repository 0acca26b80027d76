/* test_ai_host.c — the AI engine host on the default model, and the
 * nameservice-ai contract asking it through the VM's custom query:
 *   - registered models are found by hash; a wrong hash or size is refused;
 *   - answers are identical across runs and thread counts;
 *   - gas charged equals the documented formula; a request whose max_tokens
 *     cannot be paid fails before running;
 *   - `describe` stores exactly the text the engine produces for that prompt. */
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "ai.h"
#include "common.h"
#include "infer.h"
#include "vm.h"

static char models_dir[4096];
static wicas_ai_model smol;

static int setup(void **state) {
    (void)state;
    const char *p = getenv("WICAS_DEFAULT_MODEL");
    if (!p) return -1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", p);
    snprintf(models_dir, sizeof models_dir, "%s", dirname(tmp));
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\":\"smollm2-135m\",\"sha256\":\"%s\",\"size\":\"98362432\",\"arch\":\"llama\","
             "\"params\":\"134515008\"}",
             getenv("WICAS_DEFAULT_MODEL_SHA256"));
    char err[256];
    return wicas_ai_model_from_json(json, strlen(json), &smol, err, sizeof err) == WICAS_AI_OK ? 0 : -1;
}

static wicas_ai_host *new_host(uint32_t threads) {
    wicas_ai_host_config cfg = {.models_dir = models_dir, .n_threads = threads};
    wicas_ai_host *h = NULL;
    char err[256] = "";
    int rc = wicas_ai_host_new(&cfg, &h, err, sizeof err);
    if (rc) fail_msg("host: %s", err);
    return h;
}

static void models_checked_by_hash_and_size(void **state) {
    (void)state;
    wicas_ai_host *h = new_host(1);
    char path[4096], err[256];
    assert_int_equal(wicas_ai_host_check_model(h, &smol, path, sizeof path, err, sizeof err), WICAS_AI_OK);
    assert_string_equal(path, getenv("WICAS_DEFAULT_MODEL"));
    wicas_ai_model bad = smol;
    bad.sha256[5] ^= 0x10; /* a registry entry for a model this node lacks */
    assert_int_equal(wicas_ai_host_check_model(h, &bad, NULL, 0, err, sizeof err), WICAS_AI_EMODELFILE);
    assert_non_null(strstr(err, "no local file has that hash"));
    bad = smol;
    bad.size_bytes += 1;
    assert_int_equal(wicas_ai_host_check_model(h, &bad, NULL, 0, err, sizeof err), WICAS_AI_EMODELFILE);
    bad = smol;
    strcpy(bad.arch, "gpt2");
    assert_int_equal(wicas_ai_host_check_model(h, &bad, NULL, 0, err, sizeof err), WICAS_AI_EMODELFILE);
    /* an empty models directory: everything is missing, with a clear message */
    wicas_ai_host *e = NULL;
    wicas_ai_host_config cfg = {.models_dir = "/nonexistent-wicas-dir"};
    assert_int_equal(wicas_ai_host_new(&cfg, &e, err, sizeof err), WICAS_AI_EMODELFILE);
    assert_null(e);
    wicas_ai_host_free(h);
}

static void parse_req(const char *json, wicas_ai_request *r) {
    char err[256];
    if (wicas_ai_request_parse(json, strlen(json), r, err, sizeof err)) fail_msg("parse: %s", err);
}

static void deterministic_and_priced(void **state) {
    (void)state;
    wicas_ai_request req;
    parse_req(
        "{\"ai\":{\"infer\":{\"model\":\"smollm2-135m\",\"prompt\":\"Name three colours.\",\"max_tokens\":12,"
        "\"temperature\":0.8,\"top_p\":0.95}}}",
        &req);
    uint8_t seed[32];
    wicas_ai_seed_input si = {.chain_id = "wicas-test", .height = 5};
    wicas_ai_derive_seed(&si, seed);
    wicas_ai_host *h1 = new_host(1), *h2 = new_host(2);
    wicas_ai_result a, b;
    char err[256] = "";
    assert_int_equal(wicas_ai_host_infer(h1, &smol, &req, seed, UINT64_MAX, &a, err, sizeof err),
                     WICAS_AI_OK);
    assert_int_equal(wicas_ai_host_infer(h2, &smol, &req, seed, UINT64_MAX, &b, err, sizeof err),
                     WICAS_AI_OK);
    assert_string_equal(a.text, b.text);
    assert_true(a.generated_tokens > 0 && a.generated_tokens <= 12);
    assert_int_equal(a.gas_used, wicas_ai_gas_cost(&smol, a.prompt_tokens, a.generated_tokens));
    assert_int_equal(a.gas_used, b.gas_used);
    assert_memory_equal(a.model_sha256, smol.sha256, 32);
    /* the prompt count used for pricing is the one the engine ran */
    wicas_infer_cache *c = wicas_infer_cache_new();
    wicas_infer_model *m = NULL;
    assert_int_equal(wicas_infer_cache_get(c, getenv("WICAS_DEFAULT_MODEL"), NULL, &m, err, sizeof err), 0);
    int32_t *toks;
    size_t n;
    assert_int_equal(wicas_infer_prompt_tokens(m, req.prompt, true, &toks, &n), 0);
    assert_int_equal(n, a.prompt_tokens);
    free(toks);
    wicas_infer_model_release(m);
    wicas_infer_cache_free(c);
    /* the same request again on a warm host: same bytes */
    wicas_ai_result a2;
    assert_int_equal(wicas_ai_host_infer(h1, &smol, &req, seed, UINT64_MAX, &a2, err, sizeof err),
                     WICAS_AI_OK);
    assert_string_equal(a.text, a2.text);
    /* another seed changes a sampled answer's randomness (not necessarily the text, so compare JSON-free) */
    char *j = wicas_ai_result_json(&a);
    cJSON *o = cJSON_Parse(j);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "text")->valuestring, a.text);
    cJSON_Delete(o);
    free(j);

    /* out of gas before running: exactly one gas short of the worst case */
    uint64_t worst = wicas_ai_gas_cost(&smol, a.prompt_tokens, req.max_tokens), priced = 0;
    uint32_t pt = 0;
    assert_int_equal(wicas_ai_host_price(h1, &smol, &req, &pt, &priced, err, sizeof err), WICAS_AI_OK);
    assert_int_equal(pt, a.prompt_tokens);
    assert_int_equal(priced, worst);
    wicas_ai_result c2;
    err[0] = 0;
    assert_int_equal(wicas_ai_host_infer(h1, &smol, &req, seed, worst - 1, &c2, err, sizeof err),
                     WICAS_AI_EOUTOFGAS);
    assert_null(c2.text);
    assert_int_equal(c2.gas_used, 0);
    assert_non_null(strstr(err, "out of gas"));
    assert_int_equal(wicas_ai_host_infer(h1, &smol, &req, seed, worst, &c2, err, sizeof err), WICAS_AI_OK);
    wicas_ai_result_free(&c2);

    wicas_ai_result_free(&a);
    wicas_ai_result_free(&a2);
    wicas_ai_result_free(&b);
    wicas_ai_request_free(&req);
    wicas_ai_host_free(h1);
    wicas_ai_host_free(h2);
}

/* ---- nameservice-ai through the VM --------------------------------------------- */

typedef struct {
    wicas_ai_host *host;
    uint8_t seed[32];
    char *last_text; /* what the engine answered, to compare with what the contract stored */
    uint64_t last_gas;
} ai_querier;

static int ai_query(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp, size_t *resp_len,
                    uint64_t *gas_used) {
    ai_querier *q = ctx;
    *gas_used = 0;
    cJSON *root = cJSON_ParseWithLength(req, len);
    cJSON *custom = cJSON_GetObjectItem(root, "custom");
    if (!custom) {
        cJSON_Delete(root);
        *resp = strdup("{\"error\":{\"unsupported_request\":{\"kind\":\"test\"}}}");
        *resp_len = strlen(*resp);
        return 0;
    }
    char *body = cJSON_PrintUnformatted(custom);
    cJSON_Delete(root);
    wicas_ai_request r;
    char err[512] = "";
    int rc = wicas_ai_request_parse(body, strlen(body), &r, err, sizeof err);
    free(body);
    wicas_ai_result res = {0};
    if (rc == WICAS_AI_OK) {
        rc = wicas_ai_host_infer(q->host, &smol, &r, q->seed, gas_limit / WICAS_VM_GAS_MULTIPLIER, &res, err,
                                 sizeof err);
        wicas_ai_request_free(&r);
    }
    if (rc != WICAS_AI_OK) {
        *resp = wicas_vm_query_error(err);
    } else {
        char *j = wicas_ai_result_json(&res);
        *resp = wicas_vm_query_ok((const uint8_t *)j, strlen(j));
        free(j);
        free(q->last_text);
        q->last_text = strdup(res.text);
        q->last_gas = res.gas_used;
        *gas_used = res.gas_used * WICAS_VM_GAS_MULTIPLIER;
        wicas_ai_result_free(&res);
    }
    *resp_len = strlen(*resp);
    return 0;
}

static wicas_vm *vm;
static wicas_vm_api *api;

static wicas_vm_status call(const uint8_t sum[32], wicas_vm_entry e, wicas_vm_storage *st,
                            const wicas_vm_querier *q, const char *sender, const char *msg, uint64_t gas,
                            wicas_vm_result *r) {
    char *env = wicas_vm_env_json(9, 1000, "wicas-test", 0, "wicas1contract");
    char *info = sender ? wicas_vm_info_json(sender, NULL, 0) : NULL;
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)msg,
                              .msg_len = strlen(msg),
                              .storage = st,
                              .querier = q,
                              .api = api,
                              .gas_limit = gas};
    wicas_vm_status s = wicas_vm_call(vm, sum, e, &p, r);
    if (s != WICAS_VM_OK) fprintf(stderr, "call %s: %s\n", msg, r->error ? r->error : wicas_vm_strerror(s));
    free(env);
    free(info);
    return s;
}

static void nameservice_ai_describe(void **state) {
    (void)state;
    vm = wicas_vm_new(NULL, NULL, 0);
    api = wicas_vm_api_bech32("wicas");
    char path[4096];
    snprintf(path, sizeof path, "%s/nameservice-ai.wasm", getenv("WICAS_WASM_DIR"));
    size_t len;
    uint8_t *w = wicas_read_file(path, 1 << 20, &len);
    assert_non_null(w);
    uint8_t sum[32];
    char err[256] = "";
    assert_int_equal(wicas_vm_store_code(vm, w, len, sum, err, sizeof err), WICAS_VM_OK);
    free(w);
    uint8_t a[20] = {1, 2, 3};
    char alice[128];
    assert_int_equal(api->humanize(api->ctx, a, 20, alice, sizeof alice, err, sizeof err), 0);

    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    ai_querier aq = {.host = new_host(2)};
    wicas_ai_seed_input si = {.chain_id = "wicas-test", .height = 9};
    wicas_ai_derive_seed(&si, aq.seed);
    wicas_vm_querier q = {&aq, ai_query};
    const uint64_t GAS = 5000000ULL * WICAS_VM_GAS_MULTIPLIER;
    wicas_vm_result r;
    assert_int_equal(call(sum, WICAS_VM_INSTANTIATE, &st, &q, alice,
                          "{\"model\":\"smollm2-135m\",\"max_tokens\":16}", GAS, &r),
                     0);
    wicas_vm_result_free(&r);
    /* missing model field is an error */
    assert_int_equal(call(sum, WICAS_VM_INSTANTIATE, &st, &q, alice, "{}", GAS, &r), WICAS_VM_ERR_CONTRACT);
    wicas_vm_result_free(&r);
    assert_int_equal(
        call(sum, WICAS_VM_EXECUTE, &st, &q, alice, "{\"register\":{\"name\":\"alice\"}}", GAS, &r), 0);
    wicas_vm_result_free(&r);
    /* describing an unknown name fails in the contract, before any inference */
    assert_int_equal(
        call(sum, WICAS_VM_EXECUTE, &st, &q, alice, "{\"describe\":{\"name\":\"bob\"}}", GAS, &r),
        WICAS_VM_ERR_CONTRACT);
    assert_null(aq.last_text);
    wicas_vm_result_free(&r);
    uint8_t before[32], after[32];
    wicas_vm_memstore_digest(ms, before);
    /* too little gas for max_tokens: the AI module refuses, the contract errors, state unchanged */
    assert_int_equal(call(sum, WICAS_VM_EXECUTE, &st, &q, alice, "{\"describe\":{\"name\":\"alice\"}}",
                          200000ULL * WICAS_VM_GAS_MULTIPLIER, &r),
                     WICAS_VM_ERR_CONTRACT);
    assert_non_null(strstr(r.error, "out of gas"));
    wicas_vm_result_free(&r);
    wicas_vm_memstore_digest(ms, after);
    assert_memory_equal(before, after, 32);
    assert_null(aq.last_text);

    assert_int_equal(
        call(sum, WICAS_VM_EXECUTE, &st, &q, alice, "{\"describe\":{\"name\":\"alice\"}}", GAS, &r), 0);
    assert_true(r.gas_used >
                aq.last_gas * WICAS_VM_GAS_MULTIPLIER); /* inference gas is charged to the call */
    wicas_vm_result_free(&r);
    assert_non_null(aq.last_text);
    assert_true(strlen(aq.last_text) > 0);
    assert_int_equal(
        call(sum, WICAS_VM_QUERY, &st, &q, NULL, "{\"description\":{\"name\":\"alice\"}}", GAS, &r), 0);
    cJSON *d = cJSON_ParseWithLength((const char *)r.query_data, r.query_len);
    assert_non_null(d);
    assert_string_equal(cJSON_GetObjectItem(d, "text")->valuestring, aq.last_text);
    assert_string_equal(cJSON_GetObjectItem(d, "mode")->valuestring, "sync");
    assert_int_equal((int)cJSON_GetObjectItem(d, "height")->valuedouble, 9);
    printf("nameservice-ai describe(alice) -> %s\n", aq.last_text);
    cJSON_Delete(d);
    wicas_vm_result_free(&r);

    /* the async variant emits the custom request message with a callback; sudo stores the result */
    assert_int_equal(
        call(sum, WICAS_VM_EXECUTE, &st, &q, alice, "{\"describe_async\":{\"name\":\"alice\"}}", GAS, &r), 0);
    assert_non_null(strstr(r.ok_json, "\"request\""));
    assert_non_null(strstr(r.ok_json, "\"callback\":{\"describe_result\":{\"name\":\"alice\"}}"));
    wicas_vm_result_free(&r);
    assert_int_equal(
        call(sum, WICAS_VM_SUDO, &st, &q, NULL,
             "{\"ai_result\":{\"callback\":{\"describe_result\":{\"name\":\"alice\"}},\"status\":\"agreed\","
             "\"text\":\"An async "
             "answer.\",\"model_sha256\":\"ab\",\"prompt_tokens\":3,\"generated_tokens\":4}}",
             GAS, &r),
        0);
    wicas_vm_result_free(&r);
    assert_int_equal(
        call(sum, WICAS_VM_QUERY, &st, &q, NULL, "{\"description\":{\"name\":\"alice\"}}", GAS, &r), 0);
    d = cJSON_ParseWithLength((const char *)r.query_data, r.query_len);
    assert_string_equal(cJSON_GetObjectItem(d, "text")->valuestring, "An async answer.");
    assert_string_equal(cJSON_GetObjectItem(d, "mode")->valuestring, "async");
    cJSON_Delete(d);
    wicas_vm_result_free(&r);

    free(aq.last_text);
    wicas_ai_host_free(aq.host);
    wicas_vm_memstore_free(ms);
    wicas_vm_api_free(api);
    wicas_vm_free(vm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(models_checked_by_hash_and_size),
        cmocka_unit_test(deterministic_and_priced),
        cmocka_unit_test(nameservice_ai_describe),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
