/* test_wasi_llama.c — programs/llama_wasm.wasm, a whole llama engine running
 * inside the sandbox, reads models from the read-only /models preopen and
 * gives the same tokens on repeated runs and whatever the host's thread
 * setting; unsupported or oversized models end as clean program errors.
 * argv[1] = directory of the generated test models (tests/infer). With
 * argv[2] = "default", runs the default SmolLM2 model instead (slow label). */
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

static uint8_t *wasm;
static size_t wasm_len;
static const char *models_dir;

static int run(const char *const *args, size_t n, uint32_t threads, uint64_t mem, wicas_wasi_result *res) {
    const char *argv[16] = {"llama_wasm"};
    for (size_t i = 0; i < n; i++)
        argv[1 + i] = args[i];
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.models_dir = models_dir;
    cfg.n_threads = threads;
    cfg.fuel_limit = 1000000000000ull;
    cfg.memory_limit = mem;
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 1 + n;
    return wicas_wasi_run(&cfg, wasm, wasm_len, &req, res);
}

static void same_tokens_every_run(void **state) {
    (void)state;
    static const char *models[] = {"/models/q4_1.gguf", "/models/q4_0_untied.gguf", "/models/q8_0_mha.gguf",
                                   "/models/f16.gguf", "/models/f32_untied.gguf"};
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        const char *args[] = {"-m", models[m], "-n", "12", "--ids", "1,15,27,3,99"};
        wicas_wasi_result a, b;
        int rc = run(args, 6, 1, 0, &a);
        if (rc != 0 || a.exit_code != 0)
            fail_msg("%s: rc %d exit %d: %s %s", models[m], rc, a.exit_code, a.error, (char *)a.err);
        assert_int_equal(run(args, 6, 4, 0, &b), WICAS_WASI_OK);
        /* 12 ids separated by spaces (or fewer when EOS came first), a newline */
        int n_ids = 0;
        for (const char *p = (const char *)a.out; *p; p++)
            n_ids += (*p >= '0' && *p <= '9') && (p[1] < '0' || p[1] > '9');
        assert_true(n_ids >= 1 && n_ids <= 12);
        assert_int_equal(a.out[a.out_len - 1], '\n');
        assert_int_equal(a.out_len, b.out_len);
        assert_memory_equal(a.out, b.out, a.out_len);
        assert_true(a.fuel_used == b.fuel_used);
        wicas_wasi_result_free(&a);
        wicas_wasi_result_free(&b);
    }
}

static void bad_models_are_program_errors(void **state) {
    (void)state;
    wicas_wasi_result r;
    const char *bf16[] = {"-m", "/models/bf16.gguf", "--ids", "1"};
    assert_int_equal(run(bf16, 4, 1, 0, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr((char *)r.err, "unsupported type"));
    wicas_wasi_result_free(&r);
    const char *missing[] = {"-m", "/models/none.gguf", "--ids", "1"};
    assert_int_equal(run(missing, 4, 1, 0, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr((char *)r.err, "cannot open model"));
    wicas_wasi_result_free(&r);
    /* a model bigger than the memory limit: malloc fails inside the program */
    const char *big[] = {"-m", "/models/q4_1_wide.gguf", "--ids", "1"};
    assert_int_equal(run(big, 4, 1, 2u << 20, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr((char *)r.err, "raise the sandbox memory limit"));
    wicas_wasi_result_free(&r);
    const char *badids[] = {"-m", "/models/q4_1.gguf", "--ids", "1,x"};
    assert_int_equal(run(badids, 4, 1, 0, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 1);
    wicas_wasi_result_free(&r);
}

/* The default model answers a ChatML question entirely inside wasm. The
 * expected text was checked by hand against the native engine's answer. */
static void default_model_answers(void **state) {
    (void)state;
    char path[512];
    const char *base = strrchr(getenv("WICAS_DEFAULT_MODEL"), '/');
    snprintf(path, sizeof path, "/models/%s", base + 1);
    const char *args[] = {
        "-m", path, "-n", "8",
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"};
    wicas_wasi_result r;
    assert_int_equal(run(args, 5, 1, 0, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal((char *)r.out, "The capital of France is Paris.\n");
    assert_non_null(strstr((char *)r.err, "30 layers, dim 576, vocab 49152; 16 prompt tokens"));
    wicas_wasi_result_free(&r);
}

int main(int argc, char **argv) {
    char path[4096];
    snprintf(path, sizeof path, "%s/llama_wasm.wasm", getenv("WICAS_WASM_DIR"));
    wasm = wicas_read_file(path, 16 << 20, &wasm_len);
    if (!wasm || argc < 2) return 1;
    int rc;
    if (argc > 2 && strcmp(argv[2], "default") == 0) {
        static char dir[4096];
        snprintf(dir, sizeof dir, "%s", getenv("WICAS_DEFAULT_MODEL"));
        *strrchr(dir, '/') = 0;
        models_dir = dir;
        const struct CMUnitTest tests[] = {cmocka_unit_test(default_model_answers)};
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    } else {
        models_dir = argv[1];
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(same_tokens_every_run),
            cmocka_unit_test(bad_models_are_program_errors),
        };
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    }
    free(wasm);
    return rc;
}
