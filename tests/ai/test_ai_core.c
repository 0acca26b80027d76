/* test_ai_core.c — the AI module's pure parts: gas formula, seed derivation,
 * registry entries and request parsing, including every rejection path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ai.h"
#include "infer.h"
#include "sampler.h"
#include "tokenizer.h"
#include "ai_internal.h"
#include "common.h"

static const char *SMOL = "{\"name\":\"smollm2-135m\",\"sha256\":"
                          "\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
                          "\"size\":\"98362432\",\"arch\":\"llama\",\"params\":\"134515008\"}";

static void gas_formula(void **state) {
    (void)state;
    wicas_ai_model m;
    char err[256];
    assert_int_equal(wicas_ai_model_from_json(SMOL, strlen(SMOL), &m, err, sizeof err), WICAS_AI_OK);
    /* 134515008 params -> 135 Mparams (rounded up) */
    assert_int_equal(wicas_ai_gas_cost(&m, 0, 0), 50000);
    assert_int_equal(wicas_ai_gas_cost(&m, 10, 0), 50000 + 135 * 20 * 10);
    assert_int_equal(wicas_ai_gas_cost(&m, 10, 64), 50000 + 135 * (20 * 10 + 100 * 64));
    /* monotone in both token counts */
    assert_true(wicas_ai_gas_cost(&m, 11, 64) > wicas_ai_gas_cost(&m, 10, 64));
    assert_true(wicas_ai_gas_cost(&m, 10, 65) > wicas_ai_gas_cost(&m, 10, 64));
    /* saturates instead of wrapping */
    m.gas.per_gen_token = UINT64_MAX / 2;
    assert_true(wicas_ai_gas_cost(&m, 0, 1000) == UINT64_MAX);
}

static void seed_depends_on_every_field(void **state) {
    (void)state;
    wicas_ai_seed_input in = {.chain_id = "wicas-1", .height = 7, .call_index = 0};
    memset(in.last_block_hash, 0xab, 32);
    memset(in.tx_hash, 0xcd, 32);
    uint8_t a[32], b[32];
    wicas_ai_derive_seed(&in, a);
    wicas_ai_derive_seed(&in, b);
    assert_memory_equal(a, b, 32);
    wicas_ai_seed_input v = in;
    v.height = 8;
    wicas_ai_derive_seed(&v, b);
    assert_memory_not_equal(a, b, 32);
    v = in;
    v.call_index = 1;
    wicas_ai_derive_seed(&v, b);
    assert_memory_not_equal(a, b, 32);
    v = in;
    v.tx_hash[31] ^= 1;
    wicas_ai_derive_seed(&v, b);
    assert_memory_not_equal(a, b, 32);
    v = in;
    v.last_block_hash[0] ^= 1;
    wicas_ai_derive_seed(&v, b);
    assert_memory_not_equal(a, b, 32);
    v = in;
    v.chain_id = "wicas-2";
    wicas_ai_derive_seed(&v, b);
    assert_memory_not_equal(a, b, 32);
    v = in;
    v.user_seed = (const uint8_t *)"x";
    v.user_seed_len = 1;
    wicas_ai_derive_seed(&v, b);
    assert_memory_not_equal(a, b, 32);
    /* length prefixes: chain_id "ab" + seed "" differs from chain_id "a" + ... */
    wicas_ai_seed_input p = in, q = in;
    p.chain_id = "ab";
    q.chain_id = "a";
    q.user_seed = (const uint8_t *)"b";
    q.user_seed_len = 1;
    wicas_ai_derive_seed(&p, a);
    wicas_ai_derive_seed(&q, b);
    assert_memory_not_equal(a, b, 32);
    /* the seed is SHA-256 of the documented layout */
    uint8_t buf[256];
    size_t o = 0;
    memcpy(buf, "wicas/ai/seed/v1", 16);
    o = 16;
    buf[o++] = 0, buf[o++] = 0, buf[o++] = 0, buf[o++] = 7;
    memcpy(buf + o, "wicas-1", 7);
    o += 7;
    memset(buf + o, 0, 7);
    buf[o + 7] = 7;
    o += 8;
    memset(buf + o, 0xab, 32);
    o += 32;
    memset(buf + o, 0xcd, 32);
    o += 32;
    memset(buf + o, 0, 8);
    o += 8;
    wicas_sha256(buf, o, b);
    wicas_ai_derive_seed(&in, a);
    assert_memory_equal(a, b, 32);
}

static void model_json_roundtrip_and_rejects(void **state) {
    (void)state;
    wicas_ai_model m, m2;
    char err[256];
    assert_int_equal(wicas_ai_model_from_json(SMOL, strlen(SMOL), &m, err, sizeof err), WICAS_AI_OK);
    assert_string_equal(m.name, "smollm2-135m");
    assert_int_equal(m.size_bytes, 98362432);
    assert_int_equal(m.n_params, 134515008);
    char *j = wicas_ai_model_to_json(&m);
    assert_int_equal(wicas_ai_model_from_json(j, strlen(j), &m2, err, sizeof err), WICAS_AI_OK);
    assert_memory_equal(&m, &m2, sizeof m);
    char *j2 = wicas_ai_model_to_json(&m2);
    assert_string_equal(j, j2); /* canonical */
    free(j);
    free(j2);
    const char *bad[] = {
        "[]",
        "{",
        "{\"name\":\"x\"}",
        "{\"name\":\"BAD "
        "NAME\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\",\"size\":1,"
        "\"arch\":\"llama\",\"params\":1}",
        "{\"name\":\"m\",\"sha256\":\"zz\",\"size\":1,\"arch\":\"llama\",\"params\":1}",
        "{\"name\":\"m\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
        "\"size\":0,\"arch\":\"llama\",\"params\":1}",
        "{\"name\":\"m\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
        "\"size\":\"01\",\"arch\":\"llama\",\"params\":1}",
        "{\"name\":\"m\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
        "\"size\":1.5,\"arch\":\"llama\",\"params\":1}",
        "{\"name\":\"m\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
        "\"size\":1,\"arch\":\"llama\",\"params\":1,\"extra\":1}",
        "{\"name\":\"m\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
        "\"size\":1,\"arch\":\"llama\",\"params\":1,\"gas\":{\"bogus\":\"1\"}}",
        /* an arch the canonical JSON could not carry verbatim */
        "{\"name\":\"m\",\"sha256\":\"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\","
        "\"size\":1,\"arch\":\"ll\\\"ama\",\"params\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        assert_int_equal(wicas_ai_model_from_json(bad[i], strlen(bad[i]), &m, err, sizeof err),
                         WICAS_AI_EINVAL);
        assert_true(strlen(err) > 0);
    }
}

static void request_parse(void **state) {
    (void)state;
    wicas_ai_request r;
    char err[256];
    const char *ok =
        "{\"ai\":{\"infer\":{\"model\":\"smollm2-135m\",\"prompt\":\"Who is alice?\",\"max_tokens\":32,"
        "\"temperature\":\"0.7\",\"top_p\":0.9,\"seed\":\"s1\"}}}";
    assert_int_equal(wicas_ai_request_parse(ok, strlen(ok), &r, err, sizeof err), WICAS_AI_OK);
    assert_string_equal(r.model, "smollm2-135m");
    assert_string_equal(r.prompt, "Who is alice?");
    assert_int_equal(r.max_tokens, 32);
    assert_true(r.temperature == 0.7f);
    assert_true(r.top_p == 0.9f);
    assert_string_equal(r.user_seed, "s1");
    assert_true(r.chat);
    wicas_ai_request_free(&r);
    /* bare form and defaults */
    const char *bare = "{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\"}}";
    assert_int_equal(wicas_ai_request_parse(bare, strlen(bare), &r, err, sizeof err), WICAS_AI_OK);
    assert_int_equal(r.max_tokens, 64);
    assert_true(r.temperature == 0.0f);
    assert_null(r.user_seed);
    wicas_ai_request_free(&r);

    struct {
        const char *json;
        int code;
    } bad[] = {
        {"not json", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"prompt\":\"hi\"}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"model\":\"m\"}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"\"}}}", WICAS_AI_ETOOLARGE},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"max_tokens\":0}}}", WICAS_AI_ETOOLARGE},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"max_tokens\":100000}}}",
         WICAS_AI_ETOOLARGE},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"temperature\":-1}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"temperature\":\"nan\"}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"top_p\":0}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"tempreature\":1}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"\\u00ff\\ud800\"}}}", WICAS_AI_EINVAL},
        {"{\"ai\":{\"describe\":{}}}", WICAS_AI_EINVAL},
        /* cJSON would cut the prompt at the NUL and run "abc" */
        {"{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"abc\\u0000def\"}}}", WICAS_AI_EINVAL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        int rc = wicas_ai_request_parse(bad[i].json, strlen(bad[i].json), &r, err, sizeof err);
        if (rc != bad[i].code) fail_msg("case %zu: got %d want %d (%s)", i, rc, bad[i].code, err);
        assert_true(strlen(err) > 0);
    }
    /* oversized prompt */
    size_t n = WICAS_AI_PROMPT_MAX + 1;
    char *big = malloc(n + 64);
    int o = sprintf(big, "{\"infer\":{\"model\":\"m\",\"prompt\":\"");
    memset(big + o, 'a', n);
    strcpy(big + o + n, "\"}}");
    assert_int_equal(wicas_ai_request_parse(big, strlen(big), &r, err, sizeof err), WICAS_AI_ETOOLARGE);
    free(big);
    /* an escaped backslash before u0000 is literal text, not a NUL */
    const char *lit = "{\"infer\":{\"model\":\"m\",\"prompt\":\"a\\\\u0000\"}}";
    assert_int_equal(wicas_ai_request_parse(lit, strlen(lit), &r, err, sizeof err), WICAS_AI_OK);
    assert_string_equal(r.prompt, "a\\u0000");
    wicas_ai_request_free(&r);
}

static void utf8_repair(void **state) {
    (void)state;
    size_t n;
    char *s = wicas_ai_utf8_repair("caf\xc3\xa9", 5, &n); /* valid: unchanged */
    assert_string_equal(s, "caf\xc3\xa9");
    assert_int_equal(n, 5);
    free(s);
    s = wicas_ai_utf8_repair("ok\xe2\x82", 4, &n); /* cut inside a 3-byte char */
    assert_string_equal(s, "ok\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = wicas_ai_utf8_repair("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80", 11,
                             &n); /* overlong, surrogate, > U+10FFFF */
    assert_null(strstr(s, "\xc0"));
    assert_null(strstr(s, "\xed\xa0"));
    assert_null(strstr(s, "\xf4\x90"));
    free(s);
    s = wicas_ai_utf8_repair("\xf0\x9f\x98\x80", 4, &n); /* emoji kept */
    assert_int_equal(n, 4);
    free(s);
}

/* Every error code has an explicit class; request errors are what parsing
 * and pricing produce, node faults what a node's files and memory do. */
static void error_classes(void **state) {
    (void)state;
    struct {
        int code;
        wicas_ai_class cls;
    } ai[] = {
        {WICAS_AI_OK, WICAS_AI_CLASS_NONE},
        {WICAS_AI_EINVAL, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_ENOMODEL, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_EMODELFILE, WICAS_AI_CLASS_NODE},
        {WICAS_AI_EOUTOFGAS, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_ETOOLARGE, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_EENGINE, WICAS_AI_CLASS_NODE},
        {WICAS_AI_ENOMEM, WICAS_AI_CLASS_NODE},
        {WICAS_AI_EBUDGET, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_ECONTEXT, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_EPROMPT, WICAS_AI_CLASS_REQUEST},
        {WICAS_AI_EQUERY, WICAS_AI_CLASS_REQUEST},
        {-12, WICAS_AI_CLASS_NODE} /* unknown: the safe side */
    };
    for (size_t i = 0; i < sizeof ai / sizeof *ai; i++) {
        if (wicas_ai_err_class(ai[i].code) != ai[i].cls)
            fail_msg("AI code %d: class %d, want %d", ai[i].code, wicas_ai_err_class(ai[i].code), ai[i].cls);
        if (ai[i].code >= WICAS_AI_EQUERY)
            assert_string_not_equal(wicas_ai_strerror(ai[i].code), "unknown AI error");
    }
    struct {
        int code, cls;
    } inf[] = {{WICAS_INFER_OK, WICAS_ERRCLASS_NONE},
               {WICAS_INFER_EIO, WICAS_ERRCLASS_NODE},
               {WICAS_INFER_EFORMAT, WICAS_ERRCLASS_NODE},
               {WICAS_INFER_EUNSUPPORTED, WICAS_ERRCLASS_NODE},
               {WICAS_INFER_ENOMEM, WICAS_ERRCLASS_NODE},
               {WICAS_INFER_EARG, WICAS_ERRCLASS_REQUEST},
               {WICAS_INFER_ECTX, WICAS_ERRCLASS_REQUEST},
               {WICAS_INFER_EHASH, WICAS_ERRCLASS_NODE},
               {WICAS_INFER_ETOKEN, WICAS_ERRCLASS_REQUEST},
               {WICAS_INFER_ECANCEL, WICAS_ERRCLASS_NODE},
               {-10, WICAS_ERRCLASS_NODE}};
    for (size_t i = 0; i < sizeof inf / sizeof *inf; i++)
        if (wicas_infer_err_class(inf[i].code) != inf[i].cls)
            fail_msg("engine code %d: class %d, want %d", inf[i].code, wicas_infer_err_class(inf[i].code),
                     inf[i].cls);
    int tok[][2] = {
        {WICAS_TOK_OK, WICAS_ERRCLASS_NONE},          {WICAS_TOK_EINVAL, WICAS_ERRCLASS_REQUEST},
        {WICAS_TOK_ENOMEM, WICAS_ERRCLASS_NODE},      {WICAS_TOK_ENOSPC, WICAS_ERRCLASS_REQUEST},
        {WICAS_TOK_ERANGE, WICAS_ERRCLASS_REQUEST},   {WICAS_TOK_EUTF8, WICAS_ERRCLASS_REQUEST},
        {WICAS_TOK_ENOTOKEN, WICAS_ERRCLASS_REQUEST}, {WICAS_TOK_ETEMPLATE, WICAS_ERRCLASS_REQUEST}};
    for (size_t i = 0; i < sizeof tok / sizeof *tok; i++)
        assert_int_equal(wicas_tok_err_class(tok[i][0]), tok[i][1]);
    assert_int_equal(wicas_sampler_err_class(0), WICAS_ERRCLASS_NONE);
    assert_int_equal(wicas_sampler_err_class(WICAS_SAMPLER_EINVAL), WICAS_ERRCLASS_REQUEST);
    assert_int_equal(wicas_sampler_err_class(WICAS_SAMPLER_ENOMEM), WICAS_ERRCLASS_NODE);
    /* every request the parser refuses is a request error, never a node fault */
    const char *bad[] = {"not json", "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"\"}}}",
                         "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"hi\",\"top_k\":-1}}}",
                         "{\"ai\":{\"infer\":{\"model\":\"m\",\"prompt\":\"\\ud800\"}}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wicas_ai_request r;
        char err[256] = "";
        int rc = wicas_ai_request_parse(bad[i], strlen(bad[i]), &r, err, sizeof err);
        assert_int_not_equal(rc, WICAS_AI_OK);
        assert_int_equal(wicas_ai_err_class(rc), WICAS_AI_CLASS_REQUEST);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gas_formula),
        cmocka_unit_test(seed_depends_on_every_field),
        cmocka_unit_test(model_json_roundtrip_and_rejects),
        cmocka_unit_test(request_parse),
        cmocka_unit_test(utf8_repair),
        cmocka_unit_test(error_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
