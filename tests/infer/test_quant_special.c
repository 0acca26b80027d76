/* test_quant_special.c — activation quantisation (quant.c wicas_q8_quantize_row) of
 * NaN and infinite values, which used to reach a float -> int32 conversion of
 * NaN (undefined behaviour: x86 gives INT32_MIN, so -127 after the clamp; ARM
 * gives 0). Defined now: NaN -> 0, at or beyond +-127 -> +-127. A block with a
 * NaN has a NaN scale, so all its quants are 0; a block with an infinity has
 * scale inf and 1/d = 0, so finite values give 0 and the infinity (inf * 0 =
 * NaN) gives 0 too. Blocks without them are untouched, and the result is the
 * same on every machine (the test pins it). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quant.h"

#define NB 4
static void test_nan_inf_blocks(void **st) {
    (void)st;
    float x[NB * QK];
    for (int i = 0; i < NB * QK; i++)
        x[i] = (float)((i % 17) - 8) * 0.25f; /* in [-2, 2] */
    x[0 * QK + 5] = NAN;
    x[1 * QK + 7] = INFINITY;
    x[2 * QK + 9] = -INFINITY;
    /* block 3: ordinary */
    int8_t q[8 * QK];
    float d[8], s[8];
    int32_t qsum[8];
    q8_act a = {.q = q, .d = d, .s = s, .qsum = qsum, .nb = NB, .n_tok = 1, .stride = 8};
    memset(q, 0x55, sizeof q);
    wicas_q8_quantize_row(x, &a, 0);
    assert_true(isnan(d[0]));
    assert_true(isinf(d[1]) && d[1] > 0);
    assert_true(isinf(d[2]) && d[2] > 0);
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < QK; i++)
            assert_int_equal(q[b * QK + i], 0);
        assert_int_equal(qsum[b], 0);
    }
    /* the ordinary block: amax 2 -> d = 2/127, q = nearest-even(x / d) */
    assert_true(d[3] == 2.0f / 127.0f);
    int32_t sum = 0;
    for (int i = 0; i < QK; i++) {
        long want = lrintf(x[3 * QK + i] * (1.0f / d[3]));
        assert_int_equal(q[3 * QK + i], want);
        sum += (int32_t)want;
    }
    assert_int_equal(qsum[3], sum);
    /* the padding blocks are zeroed */
    for (int i = NB * QK; i < 8 * QK; i++)
        assert_int_equal(q[i], 0);
}

/* Values of huge magnitude in an ordinary block saturate and do not overflow
 * the cast: FLT_MAX with tiny neighbours. */
static void test_extremes(void **st) {
    (void)st;
    float x[QK];
    for (int i = 0; i < QK; i++)
        x[i] = 1e-30f * (float)i;
    x[3] = 3.4028234663852886e38f;
    x[4] = -3.4028234663852886e38f;
    int8_t q[8 * QK];
    float d[8], s[8];
    int32_t qsum[8];
    q8_act a = {.q = q, .d = d, .s = s, .qsum = qsum, .nb = 1, .n_tok = 1, .stride = 8};
    wicas_q8_quantize_row(x, &a, 0);
    assert_int_equal(q[3], 127);
    assert_int_equal(q[4], -127);
    assert_int_equal(q[5], 0);
    assert_int_equal(qsum[0], 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_nan_inf_blocks),
                                       cmocka_unit_test(test_extremes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
