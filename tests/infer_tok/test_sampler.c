/*
 * test_sampler.c — ChaCha20 against RFC 8439 and OpenSSL, the sampler's
 * uniform draws, and each sampling stage (greedy, repetition penalty, top-k,
 * top-p, temperature) plus determinism and parameter checking.
 *
 * OpenSSL (EVP_chacha20) is used only as an independent reference here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "common.h"
#include "sampler.h"

static void hex2bin(const char *h, uint8_t *out, size_t n) {
    assert_int_equal(wicas_hex_decode(h, out, n), 0);
}

static void test_chacha20_rfc8439(void **state) {
    (void)state;
    uint8_t key[32], nonce[12], out[64], want[64];
    /* RFC 8439 section 2.3.2 */
    hex2bin("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key, 32);
    hex2bin("000000090000004a00000000", nonce, 12);
    hex2bin("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
            want, 64);
    wicas_chacha20_block(key, 1, nonce, out);
    assert_memory_equal(out, want, 64);
    /* RFC 8439 appendix A.1, test vectors #1 and #2 (zero key and nonce) */
    memset(key, 0, 32);
    memset(nonce, 0, 12);
    hex2bin("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
            want, 64);
    wicas_chacha20_block(key, 0, nonce, out);
    assert_memory_equal(out, want, 64);
    hex2bin("9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
            "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
            want, 64);
    wicas_chacha20_block(key, 1, nonce, out);
    assert_memory_equal(out, want, 64);
}

/* OpenSSL's keystream for (key, counter, nonce): encrypt 64 zero bytes. */
static void openssl_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64]) {
    uint8_t iv[16], zero[64] = {0};
    iv[0] = (uint8_t)counter;
    iv[1] = (uint8_t)(counter >> 8);
    iv[2] = (uint8_t)(counter >> 16);
    iv[3] = (uint8_t)(counter >> 24);
    memcpy(iv + 4, nonce, 12);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, key, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, zero, 64), 1);
    assert_int_equal(n, 64);
    EVP_CIPHER_CTX_free(c);
}

static void test_chacha20_vs_openssl_and_uniform(void **state) {
    (void)state;
    uint8_t key[32], nonce[12] = {0}, a[64], b[64];
    for (int t = 0; t < 200; t++) {
        for (int i = 0; i < 32; i++)
            key[i] = (uint8_t)(t * 31 + i * 7);
        uint32_t ctr = (uint32_t)t * 0x9E3779B9u;
        nonce[0] = (uint8_t)t;
        nonce[11] = (uint8_t)(t * 3);
        wicas_chacha20_block(key, ctr, nonce, a);
        openssl_block(key, ctr, nonce, b);
        assert_memory_equal(a, b, 64);
    }
    /* draw i = first 8 keystream bytes of block (counter = low 32 bits of i,
     * nonce = high 32 bits little-endian, rest zero), top 53 bits */
    const uint64_t is[] = {0, 1, 2, 0xffffffffull, 0x100000000ull, 0x123456789abcull};
    for (size_t k = 0; k < sizeof is / sizeof is[0]; k++) {
        uint64_t i = is[k];
        uint8_t nn[12] = {0};
        nn[0] = (uint8_t)(i >> 32);
        nn[1] = (uint8_t)(i >> 40);
        nn[2] = (uint8_t)(i >> 48);
        nn[3] = (uint8_t)(i >> 56);
        openssl_block(key, (uint32_t)i, nn, b);
        uint64_t v = 0;
        for (int j = 7; j >= 0; j--)
            v = (v << 8) | b[j];
        double want = (double)(v >> 11) / 9007199254740992.0;
        assert_true(wicas_sampler_uniform(key, i) == want);
    }
    /* range and mean over many draws */
    double sum = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        double u = wicas_sampler_uniform(key, i);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(fabs(sum / 100000 - 0.5) < 0.005);
}

static wicas_sampler_params P(float temp, uint32_t k, float p, float pen, uint32_t last_n, uint8_t seedbyte) {
    wicas_sampler_params s;
    memset(&s, 0, sizeof s);
    s.temperature = temp;
    s.top_k = k;
    s.top_p = p;
    s.repeat_penalty = pen;
    s.repeat_last_n = last_n;
    memset(s.seed, seedbyte, 32);
    return s;
}

static void test_greedy(void **state) {
    (void)state;
    wicas_sampler_params p = P(0.0f, 40, 0.9f, 1.0f, 64, 1);
    wicas_sampler *s = wicas_sampler_new(&p, 6);
    assert_non_null(s);
    float l1[6] = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f, 0.0f};
    assert_int_equal(wicas_sampler_sample(s, l1), 1); /* tie 1/3 -> lowest id */
    float l2[6] = {NAN, -INFINITY, 3.0f, NAN, 2.0f, 3.5f};
    assert_int_equal(wicas_sampler_sample(s, l2), 5); /* NaN never wins */
    float l3[6] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    assert_int_equal(wicas_sampler_sample(s, l3), 0);
    assert_int_equal(wicas_sampler_sample(s, NULL), -1);
    assert_int_equal(wicas_sampler_sample(NULL, l1), -1);
    wicas_sampler_free(s);
}

static void test_repeat_penalty(void **state) {
    (void)state;
    wicas_sampler_params p = P(0.0f, 0, 1.0f, 1.5f, 2, 1);
    wicas_sampler *s = wicas_sampler_new(&p, 10);
    float l[10] = {0};
    l[5] = 2.0f;
    l[6] = 1.5f;
    assert_int_equal(wicas_sampler_sample(s, l), 5);
    wicas_sampler_accept(s, 5);
    wicas_sampler_accept(s, 5); /* twice: still penalised once (2/1.5 = 1.33) */
    assert_int_equal(wicas_sampler_sample(s, l), 6);
    assert_true(l[5] == 2.0f); /* logits are not modified */
    wicas_sampler_accept(s, 7);
    wicas_sampler_accept(s, 8); /* window of 2: token 5 has left it */
    assert_int_equal(wicas_sampler_sample(s, l), 5);
    /* negative logits are multiplied: -1 * 1.5 = -1.5 < -1.2 */
    float n[10];
    for (int i = 0; i < 10; i++)
        n[i] = -3.0f;
    n[3] = -1.0f;
    n[4] = -1.2f;
    assert_int_equal(wicas_sampler_sample(s, n), 3);
    wicas_sampler_accept(s, 3);
    assert_int_equal(wicas_sampler_sample(s, n), 4);
    wicas_sampler_accept(s, -1); /* ignored */
    wicas_sampler_accept(s, 10); /* ignored */
    assert_int_equal(wicas_sampler_sample(s, n), 4);
    wicas_sampler_reset(s); /* history cleared */
    assert_int_equal(wicas_sampler_sample(s, n), 3);
    wicas_sampler_free(s);
}

static void test_topk_topp_temperature(void **state) {
    (void)state;
    float l[8] = {1.0f, 5.0f, 4.0f, 0.0f, 4.5f, -2.0f, 3.0f, 0.5f};
    /* top-k 1: always the best, whatever the seed and temperature */
    for (int seed = 0; seed < 20; seed++) {
        wicas_sampler_params p = P(5.0f, 1, 1.0f, 1.0f, 0, (uint8_t)seed);
        wicas_sampler *s = wicas_sampler_new(&p, 8);
        for (int i = 0; i < 20; i++)
            assert_int_equal(wicas_sampler_sample(s, l), 1);
        wicas_sampler_free(s);
    }
    /* top-k 3: only ids 1, 4, 2 ever come out; all three do at temperature 1 */
    {
        wicas_sampler_params p = P(1.0f, 3, 1.0f, 1.0f, 0, 7);
        wicas_sampler *s = wicas_sampler_new(&p, 8);
        int seen[8] = {0};
        for (int i = 0; i < 3000; i++)
            seen[wicas_sampler_sample(s, l)]++;
        assert_true(seen[1] > 0 && seen[4] > 0 && seen[2] > 0);
        assert_int_equal(seen[1] + seen[4] + seen[2], 3000);
        wicas_sampler_free(s);
    }
    /* top-p: probabilities at T=1 of ln(6), ln(3), ln(1) logits are 0.6, 0.3, 0.1 */
    float q[3] = {logf(6.0f), logf(3.0f), 0.0f};
    {
        wicas_sampler_params p = P(1.0f, 0, 0.55f, 1.0f, 0, 9); /* 0.6 >= 0.55: only id 0 */
        wicas_sampler *s = wicas_sampler_new(&p, 3);
        for (int i = 0; i < 500; i++)
            assert_int_equal(wicas_sampler_sample(s, q), 0);
        wicas_sampler_free(s);
        p = P(1.0f, 0, 0.85f, 1.0f, 0, 9); /* ids 0 and 1, renormalised 2:1 */
        s = wicas_sampler_new(&p, 3);
        int c[3] = {0};
        for (int i = 0; i < 30000; i++)
            c[wicas_sampler_sample(s, q)]++;
        assert_int_equal(c[2], 0);
        assert_true(fabs(c[0] / 30000.0 - 2.0 / 3.0) < 0.015);
        wicas_sampler_free(s);
        p = P(1.0f, 0, 1.0f, 1.0f, 0, 9); /* no truncation: 0.6/0.3/0.1 */
        s = wicas_sampler_new(&p, 3);
        memset(c, 0, sizeof c);
        for (int i = 0; i < 30000; i++)
            c[wicas_sampler_sample(s, q)]++;
        assert_true(fabs(c[0] / 30000.0 - 0.6) < 0.015);
        assert_true(fabs(c[1] / 30000.0 - 0.3) < 0.015);
        assert_true(fabs(c[2] / 30000.0 - 0.1) < 0.01);
        wicas_sampler_free(s);
        /* temperature 0.5 squares the odds: 36:9:1 */
        p = P(0.5f, 0, 1.0f, 1.0f, 0, 9);
        s = wicas_sampler_new(&p, 3);
        memset(c, 0, sizeof c);
        for (int i = 0; i < 30000; i++)
            c[wicas_sampler_sample(s, q)]++;
        assert_true(fabs(c[0] / 30000.0 - 36.0 / 46.0) < 0.015);
        wicas_sampler_free(s);
        /* a vanishing temperature behaves like greedy (no NaN from 0 * inf) */
        p = P(1e-30f, 0, 1.0f, 1.0f, 0, 9);
        s = wicas_sampler_new(&p, 3);
        for (int i = 0; i < 100; i++)
            assert_int_equal(wicas_sampler_sample(s, q), 0);
        wicas_sampler_free(s);
    }
}

static void test_determinism(void **state) {
    (void)state;
    enum { V = 5000 };
    float *l = malloc(V * sizeof *l);
    for (int i = 0; i < V; i++)
        l[i] = (float)((i * 7919) % 1000) / 100.0f; /* many ties */
    int32_t a[64], b[64], c[64];
    for (int run = 0; run < 3; run++) {
        wicas_sampler_params p = P(0.9f, 50, 0.95f, 1.1f, 16, run == 2 ? 43 : 42);
        wicas_sampler *s = wicas_sampler_new(&p, V);
        int32_t *o = run == 0 ? a : run == 1 ? b : c;
        for (int i = 0; i < 64; i++) {
            o[i] = wicas_sampler_sample(s, l);
            assert_true(o[i] >= 0 && o[i] < V);
            wicas_sampler_accept(s, o[i]);
        }
        /* reset replays the same draws */
        if (run == 0) {
            wicas_sampler_reset(s);
            for (int i = 0; i < 64; i++) {
                assert_int_equal(wicas_sampler_sample(s, l), a[i]);
                wicas_sampler_accept(s, a[i]);
            }
        }
        wicas_sampler_free(s);
    }
    assert_memory_equal(a, b, sizeof a);      /* same seed, same tokens */
    assert_true(memcmp(a, c, sizeof a) != 0); /* another seed differs */
    free(l);
}

static void test_topk_heap_matches_sort(void **state) {
    (void)state;
    /* k <= 256 uses a bounded heap, larger k a full sort: with only 200
     * candidates above a cliff whose weight is exactly 0 (expf(-1000) = 0),
     * top-k 200 and top-k 300 must give identical draws */
    enum { V = 3000 };
    float *l = malloc(V * sizeof *l);
    for (int i = 0; i < V; i++)
        l[i] = -1000.0f;
    for (int i = 0; i < 200; i++)
        l[(i * 37) % V] = (float)(i % 13) * 0.25f; /* ties across ids */
    wicas_sampler_params ph = P(1.0f, 200, 1.0f, 1.0f, 0, 3), ps = P(1.0f, 300, 1.0f, 1.0f, 0, 3);
    wicas_sampler *h = wicas_sampler_new(&ph, V), *s = wicas_sampler_new(&ps, V);
    int hits[V] = {0};
    for (int i = 0; i < 2000; i++) {
        int32_t x = wicas_sampler_sample(h, l), y = wicas_sampler_sample(s, l);
        assert_int_equal(x, y);
        assert_true(l[x] > -1000.0f);
        hits[x]++;
    }
    /* the top tie group (logit 3.0, 15 ids) is drawn most */
    int top = 0;
    for (int i = 0; i < V; i++)
        if (l[i] == 3.0f) top += hits[i];
    assert_true(top > 2000 / 13);
    wicas_sampler_free(h);
    wicas_sampler_free(s);
    free(l);
}

static int desc_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_top_p_unsorted_input(void **state) {
    (void)state;
    /* same distribution as above but the best id last: 0.1, 0.3, 0.6 */
    float q[3] = {0.0f, logf(3.0f), logf(6.0f)};
    wicas_sampler_params p = P(1.0f, 0, 0.55f, 1.0f, 0, 4);
    wicas_sampler *s = wicas_sampler_new(&p, 3);
    for (int i = 0; i < 500; i++)
        assert_int_equal(wicas_sampler_sample(s, q), 2);
    wicas_sampler_free(s);
    p = P(1.0f, 0, 0.85f, 1.0f, 0, 4);
    s = wicas_sampler_new(&p, 3);
    int c[3] = {0};
    for (int i = 0; i < 30000; i++)
        c[wicas_sampler_sample(s, q)]++;
    assert_int_equal(c[0], 0);
    assert_true(fabs(c[2] / 30000.0 - 2.0 / 3.0) < 0.015);
    wicas_sampler_free(s);
    /* a large vocabulary: top-p 0.5 over 50000 logits keeps exactly the
     * tokens a brute-force sort selects */
    enum { V = 50000 };
    float *l = malloc(V * sizeof *l);
    /* logits 0..30 in a scrambled order: heads of width 8 hold ~27% of them */
    for (int i = 0; i < V; i++)
        l[i] = (float)((i * 2654435761u) % 10007) * 0.003f;
    p = P(1.0f, 0, 0.5f, 1.0f, 0, 4);
    s = wicas_sampler_new(&p, V);
    float mx = -1e30f;
    for (int i = 0; i < V; i++)
        if (l[i] > mx) mx = l[i];
    float cut = 1e30f;
    for (int i = 0; i < 300; i++) {
        int32_t t = wicas_sampler_sample(s, l);
        if (l[t] < cut) cut = l[t];
    }
    /* every drawn token lies in the top-p set: its logit is at least the
     * logit where the sorted cumulative mass passes one half */
    double z = 0;
    for (int i = 0; i < V; i++)
        z += exp((double)l[i] - mx);
    float *sorted = malloc(V * sizeof *sorted);
    memcpy(sorted, l, V * sizeof *sorted);
    qsort(sorted, V, sizeof *sorted, desc_float);
    double acc = 0;
    float lim = mx;
    for (int i = 0; i < V && acc < 0.5 * z; i++) {
        acc += exp((double)sorted[i] - mx);
        lim = sorted[i];
    }
    free(sorted);
    assert_true(cut >= lim);
    assert_true(cut < mx - 0.5f); /* and it does sample well below the maximum */
    wicas_sampler_free(s);
    free(l);
}

static void test_params(void **state) {
    (void)state;
    wicas_sampler_params p = P(0.8f, 40, 0.9f, 1.1f, 64, 0);
    assert_int_equal(wicas_sampler_check(&p, 100), 0);
    assert_int_equal(wicas_sampler_check(&p, 0), WICAS_SAMPLER_EINVAL);
    assert_int_equal(wicas_sampler_check(NULL, 100), WICAS_SAMPLER_EINVAL);
    wicas_sampler_params b = p;
    b.temperature = NAN;
    assert_null(wicas_sampler_new(&b, 100));
    b = p;
    b.temperature = INFINITY;
    assert_int_equal(wicas_sampler_check(&b, 100), WICAS_SAMPLER_EINVAL);
    b = p;
    b.top_p = 0.0f;
    assert_int_equal(wicas_sampler_check(&b, 100), WICAS_SAMPLER_EINVAL);
    b = p;
    b.top_p = -1.0f;
    assert_int_equal(wicas_sampler_check(&b, 100), WICAS_SAMPLER_EINVAL);
    b = p;
    b.repeat_penalty = 0.0f;
    assert_int_equal(wicas_sampler_check(&b, 100), WICAS_SAMPLER_EINVAL);
    b = p;
    b.repeat_last_n = (1u << 20) + 1;
    assert_int_equal(wicas_sampler_check(&b, 100), WICAS_SAMPLER_EINVAL);
    b = p;
    b.temperature = -1.0f; /* negative temperature: greedy, accepted */
    assert_int_equal(wicas_sampler_check(&b, 100), 0);
    assert_string_equal(wicas_sampler_strerror(WICAS_SAMPLER_EINVAL), "invalid sampler parameter");
    wicas_sampler_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chacha20_rfc8439),
        cmocka_unit_test(test_chacha20_vs_openssl_and_uniform),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_repeat_penalty),
        cmocka_unit_test(test_topk_topp_temperature),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_topk_heap_matches_sort),
        cmocka_unit_test(test_top_p_unsorted_input),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
