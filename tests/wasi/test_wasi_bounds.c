/* test_wasi_bounds.c — what an embedder that prices runs relies on, on a
 * small generated model (argv[1]: the directory of tests/infer's models):
 *   - wicas_wasi_validate accepts what wicas_wasi_run runs and refuses, with
 *     the run's own messages, what it would refuse (bad import, not a WASI
 *     command, not wasm);
 *   - nn_max_prompt_tokens: a prompt that does not fit answers TOO_LARGE (7)
 *     to the program before any generation; one that fits runs;
 *   - nn_max_computes: one generation more answers BUSY (4);
 *   - token counts are also reported per preload entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"
#include "wasi.h"

static char model[4096];

static uint8_t *prog(const char *name, size_t *len) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.wasm", getenv("WICAS_WASM_DIR"), name);
    uint8_t *w = wicas_read_file(p, 16 << 20, len);
    if (!w) fail_msg("cannot read %s", p);
    return w;
}

static void validate_matches_run(void **st) {
    (void)st;
    size_t len;
    char err[512];
    uint8_t *w = prog("wasinn_chat", &len);
    assert_int_equal(wicas_wasi_validate(w, len, err, sizeof err), WICAS_WASI_OK);
    free(w);
    w = prog("wasi_test_badwasi", &len);
    assert_int_equal(wicas_wasi_validate(w, len, err, sizeof err), WICAS_WASI_EIMPORT);
    assert_non_null(strstr(err, "path_make_world_writable"));
    /* the run says the same */
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    wicas_wasi_result r;
    assert_int_equal(wicas_wasi_run(&cfg, w, len, &req, &r), WICAS_WASI_EIMPORT);
    assert_string_equal(r.error, err);
    wicas_wasi_result_free(&r);
    free(w);
    /* a module without _start */
    static const uint8_t no_start[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05,
                                       0x03, 0x01, 0x00, 0x01, 0x07, 0x0a, 0x01, 0x06, 'm',
                                       'e',  'm',  'o',  'r',  'y',  0x02, 0x00};
    assert_int_equal(wicas_wasi_validate(no_start, sizeof no_start, err, sizeof err), WICAS_WASI_EMODULE);
    assert_non_null(strstr(err, "_start"));
    static const uint8_t junk[] = {'n', 'o', 't', ' ', 'w', 'a', 's', 'm'};
    assert_int_equal(wicas_wasi_validate(junk, sizeof junk, err, sizeof err), WICAS_WASI_EMODULE);
    assert_int_equal(wicas_wasi_validate(junk, 0, err, sizeof err), WICAS_WASI_EMODULE);
}

static int chat(uint64_t prompt_budget, const char *entry0, wicas_wasi_result *r) {
    size_t len;
    uint8_t *w = prog("wasinn_chat", &len);
    const char *argv[] = {
        "wasinn_chat", "--raw", "--n-predict", "4", "--temp", "0", "one two three four five"};
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 7;
    wicas_wasi_model tab[] = {{entry0, model, NULL}, {"default", model, NULL}};
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models = tab;
    cfg.n_models = 2;
    cfg.nn_max_prompt_tokens = prompt_budget;
    int rc = wicas_wasi_run(&cfg, w, len, &req, r);
    free(w);
    return rc;
}

static void prompt_budget(void **st) {
    (void)st;
    wicas_wasi_result r;
    assert_int_equal(chat(0, "other", &r), WICAS_WASI_OK); /* no budget */
    assert_int_equal(r.exit_code, 0);
    uint64_t n = r.nn_prompt_tokens;
    assert_true(n >= 2);
    /* the counts belong to the entry the program loaded ("default", index 1) */
    assert_int_equal(r.nn_model_computes[0], 0);
    assert_int_equal(r.nn_model_computes[1], 1);
    assert_true(r.nn_model_prompt_tokens[1] == n);
    assert_true(r.nn_model_generated_tokens[1] == r.nn_generated_tokens);
    wicas_wasi_result_free(&r);
    /* exactly enough */
    assert_int_equal(chat(n, "other", &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    assert_true(r.nn_prompt_tokens == n);
    wicas_wasi_result_free(&r);
    /* one too few: the program is told, nothing is generated */
    assert_int_equal(chat(n - 1, "other", &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr((char *)r.err, "compute: error 7"));
    assert_int_equal(r.nn_computes, 0);
    assert_true(r.nn_generated_tokens == 0 && r.nn_prompt_tokens == 0);
    wicas_wasi_result_free(&r);
}

static void computes_bound(void **st) {
    (void)st;
    size_t len;
    uint8_t *w = prog("wasi_test_nn_probe", &len);
    wicas_wasi_model tab[] = {{"default", model, NULL}};
    for (uint32_t max = 0; max <= 1; max++) {
        wicas_wasi_config cfg;
        wicas_wasi_config_default(&cfg);
        cfg.models = tab;
        cfg.n_models = 1;
        cfg.nn_max_computes = max;
        wicas_wasi_request req;
        memset(&req, 0, sizeof req);
        wicas_wasi_result r;
        assert_int_equal(wicas_wasi_run(&cfg, w, len, &req, &r), WICAS_WASI_OK);
        assert_non_null(strstr((char *)r.out, "\ncompute=0\n"));
        /* 0 = the default (64): the second generation runs; 1: it is BUSY */
        assert_non_null(strstr((char *)r.out, max ? "second_compute=4" : "second_compute=0"));
        assert_int_equal(r.nn_computes, max ? 1 : 2);
        wicas_wasi_result_free(&r);
    }
    free(w);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    snprintf(model, sizeof model, "%s/q4_1.gguf", argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate_matches_run),
        cmocka_unit_test(prompt_budget),
        cmocka_unit_test(computes_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
