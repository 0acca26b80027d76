/* test_common.c — hex, base64 (strictness included) and SHA-256 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"

static void sha256_vectors(void **state) {
    (void)state;
    uint8_t d[32];
    char hex[65];
    wicas_sha256("", 0, d);
    wicas_hex_encode(d, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    wicas_sha256("abc", 3, d);
    wicas_hex_encode(d, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* incremental equals one-shot */
    wicas_sha256_ctx *c = wicas_sha256_begin();
    wicas_sha256_update(c, "a", 1);
    wicas_sha256_update(c, "bc", 2);
    uint8_t d2[32];
    wicas_sha256_final(c, d2);
    assert_memory_equal(d, d2, 32);
}

static void hex_roundtrip(void **state) {
    (void)state;
    uint8_t b[4];
    assert_int_equal(wicas_hex_decode("DEADbeef", b, 4), 0);
    assert_int_equal(b[0], 0xde);
    assert_int_equal(b[3], 0xef);
    assert_int_equal(wicas_hex_decode("deadbee", b, 4), -1);
    assert_int_equal(wicas_hex_decode("deadbeeg", b, 4), -1);
}

static void base64_rfc4648(void **state) {
    (void)state;
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        wicas_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        assert_string_equal(out, enc[i]);
        uint8_t back[16];
        long n = wicas_base64_decode(enc[i], strlen(enc[i]), back, sizeof back);
        assert_int_equal(n, (long)strlen(plain[i]));
        assert_memory_equal(back, plain[i], (size_t)n);
    }
}

static void base64_rejects_malformed(void **state) {
    (void)state;
    uint8_t out[16];
    assert_int_equal(wicas_base64_decode("Zg=", 3, out, 16), -1);      /* length */
    assert_int_equal(wicas_base64_decode("Zh==", 4, out, 16), -1);     /* non-canonical bits */
    assert_int_equal(wicas_base64_decode("Z===", 4, out, 16), -1);     /* too much padding */
    assert_int_equal(wicas_base64_decode("Zg==Zg==", 8, out, 16), -1); /* padding mid-string */
    assert_int_equal(wicas_base64_decode("Zm9!", 4, out, 16), -1);     /* bad char */
    assert_int_equal(wicas_base64_decode("Zm9vYmFy", 8, out, 5), -1);  /* too small */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(hex_roundtrip),
        cmocka_unit_test(base64_rfc4648),
        cmocka_unit_test(base64_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
