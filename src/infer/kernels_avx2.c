/*
 * kernels_avx2.c — AVX2 versions of the quantised dot products (built with
 * -mavx2 -mfma -mf16c; chosen at run time only when cpuid says so).
 *
 * They reproduce the canonical order of quant.h exactly: eight blocks at a
 * time, the eight exact integer block sums are gathered into one vector (the
 * horizontal adds are integer, so their order does not matter), converted to
 * float, and scaled/added with separate mul and add instructions in the same
 * order as the scalar code, lane j of the accumulator being the scalar
 * accumulator a[j]. Blocks past the last multiple of eight use the scalar
 * block functions on the same lanes; the final tree is reduce8().
 *
 * The same file is compiled into kernels_avx512.c with VNNI enabled
 * (KERNEL_VNNI), where the u8 x s8 products use vpdpbusd instead of
 * vpmaddubsw + vpmaddwd: both give the exact same int32 sums.
 */
#include <immintrin.h>

#include "quant.h"

#ifndef KERNEL_NAME
#define KERNEL_NAME "avx2"
#define KERNEL_SET kernels_avx2
#define KFN(x) x##_avx2
#endif

/* Sum of u8[32] * s8[32] as 8 int32 partial sums (exact). */
static inline __m256i dot_u8s8(__m256i u, __m256i s) {
#if defined(KERNEL_VNNI)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    /* |u*s| <= 255*127*2 < 2^15 only when u <= 128; here u <= 128 always
     * (nibbles 0..15 or |int8| <= 128), so vpmaddubsw cannot saturate. */
    __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
#endif
}

/* Eight vectors of 8 int32 partial sums -> one vector of their 8 totals. */
static inline __m256i hsum8x8(__m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i p4, __m256i p5, __m256i p6,
                              __m256i p7) {
    __m256i s01 = _mm256_hadd_epi32(p0, p1), s23 = _mm256_hadd_epi32(p2, p3);
    __m256i s45 = _mm256_hadd_epi32(p4, p5), s67 = _mm256_hadd_epi32(p6, p7);
    __m256i s0123 = _mm256_hadd_epi32(s01, s23), s4567 = _mm256_hadd_epi32(s45, s67);
    __m256i lo = _mm256_permute2x128_si256(s0123, s4567, 0x20);
    __m256i hi = _mm256_permute2x128_si256(s0123, s4567, 0x31);
    return _mm256_add_epi32(lo, hi);
}

/* 32 nibbles of a Q4 block as u8: low nibbles are elements 0..15, high 16..31. */
static inline __m256i unpack_nibbles(const uint8_t *qs) {
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    __m128i m = _mm_set1_epi8(0x0f);
    __m128i lo = _mm_and_si128(b, m), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
    return _mm256_set_m128i(hi, lo);
}

static inline __m256 f16x8(uint16_t a0, uint16_t a1, uint16_t a2, uint16_t a3, uint16_t a4, uint16_t a5, uint16_t a6,
                           uint16_t a7) {
    __m128i h = _mm_setr_epi16((short)a0, (short)a1, (short)a2, (short)a3, (short)a4, (short)a5, (short)a6, (short)a7);
    return _mm256_cvtph_ps(h);
}

static float KFN(dot_q4_1)(const void *w, const q8_act *a, int t) {
    const block_q4_1 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * nb * QK;
    const float *xd = a->d + (size_t)t * nb;
    const float *xs = a->s + (size_t)t * nb;
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256i p[8];
        for (int j = 0; j < 8; j++)
            p[j] = dot_u8s8(unpack_nibbles(wb[b + j].qs), _mm256_loadu_si256((const __m256i *)(xq + (b + j) * QK)));
        __m256 isum = _mm256_cvtepi32_ps(hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
        const block_q4_1 *B = wb + b;
        __m256 dw = f16x8(B[0].d, B[1].d, B[2].d, B[3].d, B[4].d, B[5].d, B[6].d, B[7].d);
        __m256 mw = f16x8(B[0].m, B[1].m, B[2].m, B[3].m, B[4].m, B[5].m, B[6].m, B[7].m);
        __m256 tt = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(xd + b)), isum);
        __m256 u = _mm256_mul_ps(mw, _mm256_loadu_ps(xs + b));
        acc = _mm256_add_ps(acc, _mm256_add_ps(tt, u));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    for (; b < nb; b++) lanes[b & 7] = lanes[b & 7] + blockval_q4_1(&wb[b], xq + b * QK, xd[b], xs[b]);
    return reduce8(lanes);
}

static float KFN(dot_q4_0)(const void *w, const q8_act *a, int t) {
    const block_q4_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * nb * QK;
    const float *xd = a->d + (size_t)t * nb;
    const int32_t *qsum = a->qsum + (size_t)t * nb;
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256i p[8];
        for (int j = 0; j < 8; j++)
            p[j] = dot_u8s8(unpack_nibbles(wb[b + j].qs), _mm256_loadu_si256((const __m256i *)(xq + (b + j) * QK)));
        /* sum((q - 8) x) = sum(q x) - 8 sum(x), all exact integers */
        __m256i is = hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        is = _mm256_sub_epi32(is, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(qsum + b)), 3));
        const block_q4_0 *B = wb + b;
        __m256 dw = f16x8(B[0].d, B[1].d, B[2].d, B[3].d, B[4].d, B[5].d, B[6].d, B[7].d);
        __m256 tt = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(xd + b)), _mm256_cvtepi32_ps(is));
        acc = _mm256_add_ps(acc, tt);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    for (; b < nb; b++) lanes[b & 7] = lanes[b & 7] + blockval_q4_0(&wb[b], xq + b * QK, xd[b], qsum[b]);
    return reduce8(lanes);
}

static float KFN(dot_q8_0)(const void *w, const q8_act *a, int t) {
    const block_q8_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * nb * QK;
    const float *xd = a->d + (size_t)t * nb;
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256i p[8];
        for (int j = 0; j < 8; j++) {
            /* s8 x s8 through the u8 x s8 instruction: |w| * (x * sign(w)). */
            __m256i wv = _mm256_loadu_si256((const __m256i *)wb[b + j].qs);
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + (b + j) * QK));
            p[j] = dot_u8s8(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
        }
        __m256 isum = _mm256_cvtepi32_ps(hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
        const block_q8_0 *B = wb + b;
        __m256 dw = f16x8(B[0].d, B[1].d, B[2].d, B[3].d, B[4].d, B[5].d, B[6].d, B[7].d);
        __m256 tt = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(xd + b)), isum);
        acc = _mm256_add_ps(acc, tt);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    for (; b < nb; b++) lanes[b & 7] = lanes[b & 7] + blockval_q8_0(&wb[b], xq + b * QK, xd[b]);
    return reduce8(lanes);
}

const kernel_set KERNEL_SET = {KERNEL_NAME, KFN(dot_q4_0), KFN(dot_q4_1), KFN(dot_q8_0)};
