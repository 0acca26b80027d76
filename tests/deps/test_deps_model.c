/* test_deps_model.c — the default model in the cache has the pinned SHA-256
 * and starts with the GGUF magic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"

static void model_hash_matches(void **state) {
    (void)state;
    const char *path = getenv("WICAS_DEFAULT_MODEL");
    const char *want = getenv("WICAS_DEFAULT_MODEL_SHA256");
    assert_non_null(path);
    assert_non_null(want);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("default model %s is missing: run scripts/setup model", path);
    char magic[4];
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(magic, "GGUF", 4);
    uint8_t d[32];
    assert_int_equal(wicas_sha256_file(path, d), 0);
    char hex[65];
    wicas_hex_encode(d, 32, hex);
    assert_string_equal(hex, want);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(model_hash_matches)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
