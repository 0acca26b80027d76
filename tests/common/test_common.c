/* test_common.c — hex, base64 (strictness included) and SHA-256 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"

static void uvarint_protobuf_vectors(void **state) {
    (void)state;
    /* the protobuf encoding guide's examples: 1 -> 01, 150 -> 96 01, 300 -> ac 02 */
    uint8_t b[WICAS_UVARINT_MAX];
    uint64_t v = 0;
    assert_int_equal(wicas_uvarint_put(1, b), 1);
    assert_int_equal(b[0], 0x01);
    assert_int_equal(wicas_uvarint_put(150, b), 2);
    assert_int_equal(b[0], 0x96);
    assert_int_equal(b[1], 0x01);
    assert_int_equal(wicas_uvarint_put(300, b), 2);
    assert_int_equal(b[0], 0xac);
    assert_int_equal(b[1], 0x02);
    assert_int_equal(wicas_uvarint_get(b, 2, &v), 2);
    assert_int_equal(v, 300);
    assert_int_equal(wicas_uvarint_get(b, 1, &v), 0); /* truncated */
    assert_int_equal(wicas_uvarint_put(UINT64_MAX, b), 10);
    assert_int_equal(b[9], 0x01);
    assert_int_equal(wicas_uvarint_get(b, 10, &v), 10);
    assert_true(v == UINT64_MAX);
    b[9] = 0x02; /* 65 bits */
    assert_int_equal(wicas_uvarint_get(b, 10, &v), -1);
    memset(b, 0x80, sizeof b); /* never ends */
    assert_int_equal(wicas_uvarint_get(b, 10, &v), -1);
    char e[8];
    assert_int_equal(wicas_errf(e, sizeof e, "%s %d", "abcdef", 42), -1);
    assert_string_equal(e, "abcdef "); /* cut to the buffer, NUL-terminated */
    assert_int_equal(wicas_errf(NULL, 0, "x"), -1);
}

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

static void json_nul_escape(void **state) {
    (void)state;
    const char *has[] = {"\"\\u0000\"", "{\"a\":\"x\\u0000\"}", "[\"\\\"\\u0000\"]", "\"\\\\\\u0000\""};
    const char *hasnt[] = {"\"\\\\u0000\"", "\"\\u0001\"", "\\u0000", "{\"a\":1}", "\"\\u000\"", "\"\\"};
    for (size_t i = 0; i < sizeof has / sizeof *has; i++)
        if (!wicas_json_has_nul_escape(has[i], strlen(has[i]))) fail_msg("missed in %s", has[i]);
    for (size_t i = 0; i < sizeof hasnt / sizeof *hasnt; i++)
        if (wicas_json_has_nul_escape(hasnt[i], strlen(hasnt[i]))) fail_msg("false hit in %s", hasnt[i]);
}

static void utf8_strict(void **state) {
    (void)state;
    const char *good[] = {"", "ascii", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(wicas_utf8_valid(good[i], strlen(good[i])));
    const char *bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xc3",             /* truncated */
        "\xe2\x82",         /* truncated */
        "\x80",             /* lone continuation */
        "a\xff"
        "b", /* never valid */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(wicas_utf8_valid(bad[i], strlen(bad[i])));
    assert_int_equal(wicas_utf8_seq((const uint8_t *)"\xf0\x9f\x98\x80", 4, 0), 4);
    assert_int_equal(wicas_utf8_seq((const uint8_t *)"\xf0\x9f\x98\x80", 3, 0), 0);
}

static void bech32_bip173(void **state) {
    (void)state;
    char hrp[84];
    uint8_t data[64];
    size_t n = 99;
    /* valid vectors from BIP-173 */
    assert_int_equal(wicas_bech32_decode("A12UEL5L", hrp, sizeof hrp, data, sizeof data, &n), 0);
    assert_string_equal(hrp, "a");
    assert_int_equal(n, 0);
    assert_int_equal(wicas_bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp, sizeof hrp,
                                         data, sizeof data, &n),
                     0);
    assert_string_equal(hrp, "abcdef");
    /* invalid: bad checksum, mixed case, no separator, bad char */
    assert_int_equal(wicas_bech32_decode("A12UEL5M", hrp, sizeof hrp, data, sizeof data, &n), -1);
    assert_int_equal(wicas_bech32_decode("A12uEL5L", hrp, sizeof hrp, data, sizeof data, &n), -1);
    assert_int_equal(wicas_bech32_decode("pzry9x0s0muk", hrp, sizeof hrp, data, sizeof data, &n), -1);
    assert_int_equal(wicas_bech32_decode("x1b4n0q5v", hrp, sizeof hrp, data, sizeof data, &n), -1);
    /* 20-byte address round trip with the chain prefix */
    uint8_t addr[20];
    for (int i = 0; i < 20; i++)
        addr[i] = (uint8_t)(i * 13 + 7);
    char s[128];
    assert_int_equal(wicas_bech32_encode("wicas", addr, 20, s, sizeof s), 0);
    assert_int_equal(strncmp(s, "wicas1", 6), 0);
    assert_int_equal(strlen(s), 6 + 32 + 6);
    assert_int_equal(wicas_bech32_decode(s, hrp, sizeof hrp, data, sizeof data, &n), 0);
    assert_string_equal(hrp, "wicas");
    assert_int_equal(n, 20);
    assert_memory_equal(data, addr, 20);
    /* every single-character substitution is caught by the checksum */
    for (size_t i = 6; i < strlen(s); i++) {
        char t[128];
        strcpy(t, s);
        t[i] = t[i] == 'q' ? 'p' : 'q';
        assert_int_equal(wicas_bech32_decode(t, hrp, sizeof hrp, data, sizeof data, &n), -1);
    }
    assert_int_equal(wicas_bech32_encode("Wicas", addr, 20, s, sizeof s), -1);
    assert_int_equal(wicas_bech32_encode("wicas", addr, 20, s, 20), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors), cmocka_unit_test(hex_roundtrip),
        cmocka_unit_test(base64_rfc4648), cmocka_unit_test(base64_rejects_malformed),
        cmocka_unit_test(utf8_strict),    cmocka_unit_test(json_nul_escape),
        cmocka_unit_test(bech32_bip173),  cmocka_unit_test(uvarint_protobuf_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
