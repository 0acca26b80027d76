/*
 * kernels_avx2.c — AVX2 versions of the quantised dot products (built with
 * -mavx2 -mfma -mf16c; chosen at run time only when cpuid says so).
 *
 * They reproduce the canonical order of quant.h exactly: eight blocks at a
 * time, the eight exact integer block sums are gathered into one vector (the
 * horizontal adds are integer, so their order does not matter), converted to
 * float, and scaled/added with separate mul and add instructions in the same
 * order as the scalar code, lane j of the accumulator being the scalar
 * accumulator a[j]. A last partial group is computed with its missing lanes
 * set to exact zeros (activation rows are zero-padded to a multiple of 8
 * blocks, weight lanes are masked), and x + (+0) == x for every accumulator
 * value (an accumulator starting at +0 can never become -0), so the result is
 * that of the scalar loop over the real blocks; the final tree is reduce8().
 *
 * The same file is compiled into kernels_avx512.c with VNNI enabled
 * (KERNEL_VNNI), where the u8 x s8 products use vpdpbusd instead of
 * vpmaddubsw + vpmaddwd: both give the exact same int32 sums.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

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

/* The f16 scale words of blocks b..b+nv-1 (byte stride `stride`, scale at
 * byte offset `off` of each block) as 8 floats; lanes >= nv are 0. One
 * masked gather of 32-bit words, then the 16-bit halves are packed and
 * converted exactly (vcvtph2ps is exact, like f16_to_f32). */
static inline __m256i gather_words(const void *base, int stride, int nv) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv), lane);
    return _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)base, idx, mask, 1);
}
static inline __m256 half_lo(__m256i w) {
    __m256i v = _mm256_and_si256(w, _mm256_set1_epi32(0xffff));
    v = _mm256_packus_epi32(v, v);
    v = _mm256_permute4x64_epi64(v, 0x08);
    return _mm256_cvtph_ps(_mm256_castsi256_si128(v));
}
static inline __m256 half_hi(__m256i w) {
    __m256i v = _mm256_srli_epi32(w, 16);
    v = _mm256_packus_epi32(v, v);
    v = _mm256_permute4x64_epi64(v, 0x08);
    return _mm256_cvtph_ps(_mm256_castsi256_si128(v));
}

/* ---- Q4_1 -------------------------------------------------------------------
 * One group of up to 8 blocks (nv valid; the others contribute exact +0:
 * their integer sums, scales and activation scales are all zero). */
static inline __attribute__((always_inline)) __m256 group_q4_1(const block_q4_1 *B, const int8_t *xq, const float *xd,
                                                               const float *xs, int nv) {
    __m256i p[8];
    for (int j = 0; j < 8; j++)
        p[j] = j < nv ? dot_u8s8(unpack_nibbles(B[j].qs), _mm256_loadu_si256((const __m256i *)(xq + j * QK)))
                      : _mm256_setzero_si256();
    __m256 isum = _mm256_cvtepi32_ps(hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
    __m256i w = gather_words(B, (int)sizeof(block_q4_1), nv);
    __m256 tt = _mm256_mul_ps(_mm256_mul_ps(half_lo(w), _mm256_loadu_ps(xd)), isum);
    __m256 u = _mm256_mul_ps(half_hi(w), _mm256_loadu_ps(xs));
    return _mm256_add_ps(tt, u);
}

static float KFN(dot_q4_1)(const void *w, const q8_act *a, int t) {
    const block_q4_1 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const float *xs = a->s + (size_t)t * a->stride;
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8) acc = _mm256_add_ps(acc, group_q4_1(wb + b, xq + b * QK, xd + b, xs + b, 8));
    if (b < nb) acc = _mm256_add_ps(acc, group_q4_1(wb + b, xq + b * QK, xd + b, xs + b, nb - b));
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

/* ---- Q4_0: sum((q - 8) x) = sum(q x) - 8 sum(x), exact integers ------------- */
static inline __attribute__((always_inline)) __m256 group_q4_0(const block_q4_0 *B, const int8_t *xq, const float *xd,
                                                               const int32_t *qsum, int nv) {
    __m256i p[8];
    for (int j = 0; j < 8; j++)
        p[j] = j < nv ? dot_u8s8(unpack_nibbles(B[j].qs), _mm256_loadu_si256((const __m256i *)(xq + j * QK)))
                      : _mm256_setzero_si256();
    __m256i is = hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    is = _mm256_sub_epi32(is, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)qsum), 3));
    __m256i w = gather_words(B, (int)sizeof(block_q4_0), nv);
    return _mm256_mul_ps(_mm256_mul_ps(half_lo(w), _mm256_loadu_ps(xd)), _mm256_cvtepi32_ps(is));
}

static float KFN(dot_q4_0)(const void *w, const q8_act *a, int t) {
    const block_q4_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const int32_t *qsum = a->qsum + (size_t)t * a->stride;
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8) acc = _mm256_add_ps(acc, group_q4_0(wb + b, xq + b * QK, xd + b, qsum + b, 8));
    if (b < nb) acc = _mm256_add_ps(acc, group_q4_0(wb + b, xq + b * QK, xd + b, qsum + b, nb - b));
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

/* ---- Q8_0: s8 x s8 through the u8 x s8 instruction, |w| * (x * sign(w)) --- */
static inline __attribute__((always_inline)) __m256 group_q8_0(const block_q8_0 *B, const int8_t *xq, const float *xd,
                                                               int nv) {
    __m256i p[8];
    for (int j = 0; j < 8; j++) {
        if (j < nv) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)B[j].qs);
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + j * QK));
            p[j] = dot_u8s8(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
        } else {
            p[j] = _mm256_setzero_si256();
        }
    }
    __m256 isum = _mm256_cvtepi32_ps(hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
    __m256i w = gather_words(B, (int)sizeof(block_q8_0), nv);
    return _mm256_mul_ps(_mm256_mul_ps(half_lo(w), _mm256_loadu_ps(xd)), isum);
}

static float KFN(dot_q8_0)(const void *w, const q8_act *a, int t) {
    const block_q8_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8) acc = _mm256_add_ps(acc, group_q8_0(wb + b, xq + b * QK, xd + b, 8));
    if (b < nb) acc = _mm256_add_ps(acc, group_q8_0(wb + b, xq + b * QK, xd + b, nb - b));
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

/* ---- tiles: rows x tokens ---------------------------------------------------
 * For each row and each group of 8 blocks the weights are unpacked (and the
 * scales converted) once, then used for every token; per token the
 * operations are exactly those of group_*() above, in the same order, so each
 * output equals the single dot product bit for bit. Activation rows are
 * zero-padded, so a partial group may load all 8 activation blocks; the
 * missing weight blocks are zero vectors. */
#define TILE_T 32

static inline __attribute__((always_inline)) void unpack_group(const uint8_t *blk0, int bsize, int qs_off, int nv,
                                                               bool q8, __m256i u[8]) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        if (j >= nv) {
            u[j] = _mm256_setzero_si256();
        } else if (q8) {
            u[j] = _mm256_loadu_si256((const __m256i *)(blk0 + j * bsize + qs_off));
        } else {
            u[j] = unpack_nibbles(blk0 + j * bsize + qs_off);
        }
    }
}

/* One group of 8 blocks (nv valid) of one row against nt tokens; kind: 0 =
 * Q4_0, 1 = Q4_1, 2 = Q8_0 (constants after inlining, like nv in the main
 * loop, so the compiler unrolls everything and keeps it in registers). */
static inline __attribute__((always_inline)) void mm_group(int kind, const uint8_t *blk0, int bsize, int nv, int b,
                                                           const q8_act *a, int t0, int nt, __m256 *acc) {
    const int st = a->stride;
    const int qs_off = kind == 1 ? 4 : 2;
    __m256i u[8];
    unpack_group(blk0, bsize, qs_off, nv, kind == 2, u);
    __m256i sw = gather_words(blk0, bsize, nv);
    __m256 dw = half_lo(sw), mw = kind == 1 ? half_hi(sw) : _mm256_setzero_ps();
    __m256i absw[8];
    if (kind == 2) {
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) absw[j] = _mm256_sign_epi8(u[j], u[j]);
    }
    for (int t = 0; t < nt; t++) {
        const size_t ab = (size_t)(t0 + t) * st + b;
        const int8_t *xq = a->q + ab * QK;
        __m256i p[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + j * QK));
            p[j] = kind == 2 ? dot_u8s8(absw[j], _mm256_sign_epi8(xv, u[j])) : dot_u8s8(u[j], xv);
        }
        __m256i is = hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        if (kind == 0)
            is = _mm256_sub_epi32(is, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(a->qsum + ab)), 3));
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(a->d + ab)), _mm256_cvtepi32_ps(is));
        if (kind == 1) v = _mm256_add_ps(v, _mm256_mul_ps(mw, _mm256_loadu_ps(a->s + ab)));
        acc[t] = _mm256_add_ps(acc[t], v);
    }
}

static inline __attribute__((always_inline)) void mm_generic(int kind, const uint8_t *w, size_t rb, int r0, int r1,
                                                             const q8_act *a, float *out, size_t ldo) {
    const int nb = a->nb, T = a->n_tok;
    const int bsize = kind == 0 ? (int)sizeof(block_q4_0) : kind == 1 ? (int)sizeof(block_q4_1) : (int)sizeof(block_q8_0);
    __m256 acc[TILE_T];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < T; t0 += TILE_T) {
            const int nt = T - t0 < TILE_T ? T - t0 : TILE_T;
            for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
            int b = 0;
            for (; b + 8 <= nb; b += 8) mm_group(kind, row + (size_t)b * bsize, bsize, 8, b, a, t0, nt, acc);
            if (b < nb) mm_group(kind, row + (size_t)b * bsize, bsize, nb - b, b, a, t0, nt, acc);
            for (int t = 0; t < nt; t++) {
                float lanes[8];
                _mm256_storeu_ps(lanes, acc[t]);
                out[(size_t)(t0 + t) * ldo + r] = reduce8(lanes);
            }
        }
    }
}

static void KFN(mm_q4_0)(const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out, size_t ldo) {
    mm_generic(0, w, rb, r0, r1, a, out, ldo);
}
static void KFN(mm_q4_1)(const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out, size_t ldo) {
    mm_generic(1, w, rb, r0, r1, a, out, ldo);
}
static void KFN(mm_q8_0)(const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out, size_t ldo) {
    mm_generic(2, w, rb, r0, r1, a, out, ldo);
}

/* ---- packed kernels: lanes = 8 rows (see quant.h) ------------------------------
 * For a row group and a token: per block, the exact integer sums of the 8
 * rows accumulate in the 8 int32 lanes (u8 x s8 products of 4 bytes per
 * lane, the activation bytes broadcast); then per block, lane-wise,
 *     v = (dw * dx) * isum [+ mw * sx],  A[b mod 8] += v
 * and finally ((A0+A1)+(A2+A3))+((A4+A5)+(A6+A7)): each lane performs
 * exactly the scalar operations of its row. */
static inline __m256i dpb(__m256i acc, __m256i u, __m256i s) {
#if defined(KERNEL_VNNI)
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* NT tokens at once (1..4): each weight vector is loaded and unpacked once
 * and used for NT tokens; every token's lane operations are unchanged. */
static inline __attribute__((always_inline)) void pk_tokens(int kind, int NT, const uint8_t *gp, int nb, size_t per,
                                                            const q8_act *a, int t0, float *out, size_t ldo, int g) {
    const int st = a->stride;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 A[4][8];
    for (int u = 0; u < NT; u++)
        for (int j = 0; j < 8; j++) A[u][j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *bp = gp + (size_t)b * per;
        __m256i is[4];
        for (int u = 0; u < NT; u++) is[u] = _mm256_setzero_si256();
        if (kind == 2) {
            const uint8_t *q = bp + 16;
#if defined(KERNEL_VNNI)
            /* s8 x s8 as u8 x s8: sum (x+128) w = sum x w + 128 sum w, with
             * x + 128 = x XOR 0x80 as a byte; the row sums are in the pack. */
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(q + 32 * k));
                for (int u = 0; u < NT; u++) {
                    uint32_t xw;
                    memcpy(&xw, a->q + ((size_t)(t0 + u) * st + b) * QK + 4 * k, 4);
                    is[u] = _mm256_dpbusd_epi32(is[u], _mm256_set1_epi32((int)(xw ^ 0x80808080u)), wv);
                }
            }
            __m256i ws = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(q + 256)), 7);
            for (int u = 0; u < NT; u++) is[u] = _mm256_sub_epi32(is[u], ws);
#else
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(q + 32 * k));
                __m256i aw = _mm256_sign_epi8(wv, wv);
                for (int u = 0; u < NT; u++) {
                    int32_t xw;
                    memcpy(&xw, a->q + ((size_t)(t0 + u) * st + b) * QK + 4 * k, 4);
                    is[u] = dpb(is[u], aw, _mm256_sign_epi8(_mm256_set1_epi32(xw), wv));
                }
            }
#endif
        } else {
            const uint8_t *q = bp + (kind == 1 ? 32 : 16);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(q + 32 * k));
                __m256i lo = _mm256_and_si256(wv, m4), hi = _mm256_and_si256(_mm256_srli_epi16(wv, 4), m4);
                for (int u = 0; u < NT; u++) {
                    const int8_t *x = a->q + ((size_t)(t0 + u) * st + b) * QK;
                    int32_t xl, xh;
                    memcpy(&xl, x + 4 * k, 4);
                    memcpy(&xh, x + 16 + 4 * k, 4);
                    is[u] = dpb(is[u], lo, _mm256_set1_epi32(xl));
                    is[u] = dpb(is[u], hi, _mm256_set1_epi32(xh));
                }
            }
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)bp));
        __m256 mw = kind == 1 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(bp + 16))) : _mm256_setzero_ps();
        for (int u = 0; u < NT; u++) {
            const size_t ab = (size_t)(t0 + u) * st + b;
            __m256i iv = is[u];
            if (kind == 0) iv = _mm256_sub_epi32(iv, _mm256_set1_epi32(8 * a->qsum[ab]));
            __m256 v = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a->d[ab])), _mm256_cvtepi32_ps(iv));
            if (kind == 1) v = _mm256_add_ps(v, _mm256_mul_ps(mw, _mm256_set1_ps(a->s[ab])));
            A[u][b & 7] = _mm256_add_ps(A[u][b & 7], v);
        }
    }
    for (int u = 0; u < NT; u++) {
        __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(A[u][0], A[u][1]), _mm256_add_ps(A[u][2], A[u][3])),
                                 _mm256_add_ps(_mm256_add_ps(A[u][4], A[u][5]), _mm256_add_ps(A[u][6], A[u][7])));
        _mm256_storeu_ps(out + (size_t)(t0 + u) * ldo + (size_t)g * 8, r);
    }
}

static inline __attribute__((always_inline)) void pk_generic(int kind, const uint8_t *packed, int g0, int g1,
                                                             const q8_act *a, float *out, size_t ldo) {
    const int nb = a->nb, T = a->n_tok;
    const size_t per = kind == 0 ? PACK_Q4_0_BYTES : kind == 1 ? PACK_Q4_1_BYTES : PACK_Q8_0_BYTES;
    for (int g = g0; g < g1; g++) {
        const uint8_t *gp = packed + (size_t)g * nb * per;
        int t = 0;
        for (; t + 4 <= T; t += 4) pk_tokens(kind, 4, gp, nb, per, a, t, out, ldo, g);
        for (; t < T; t++) pk_tokens(kind, 1, gp, nb, per, a, t, out, ldo, g);
    }
}

static void KFN(pk_q4_0)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pk_generic(0, p, g0, g1, a, out, ldo);
}
static void KFN(pk_q4_1)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pk_generic(1, p, g0, g1, a, out, ldo);
}
static void KFN(pk_q8_0)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pk_generic(2, p, g0, g1, a, out, ldo);
}

/* ---- Q5_0, Q5_1 and k-quants -------------------------------------------------
 * A group of eight blocks (a k-quant super-block) is decoded to exact int8
 * weights and integer scales by the shared kq_decode; then per token, lane j
 * = block j: I_j and M_j as exact int32 (u8 x s8 products of |w| and x*sign(w)
 * in 4-element int32 sums, times the scale of their 16-element half, summed
 * across the block by hsum8x8), and the float operations of kq_blockval in
 * the same order. */
typedef struct { __m256i aw[8], sg[8], scv[8], mnv[8]; __m256 dw, mw; } kq_simd;

static inline __attribute__((always_inline)) void kq_prep(const kq_group *G, kq_simd *S) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(G->q + j * QK));
        S->aw[j] = _mm256_sign_epi8(w, w);
        S->sg[j] = w;
        S->scv[j] = _mm256_set_m128i(_mm_set1_epi32(G->sc[2 * j + 1]), _mm_set1_epi32(G->sc[2 * j]));
        S->mnv[j] = _mm256_set_m128i(_mm_set1_epi32(G->mn[2 * j + 1]), _mm_set1_epi32(G->mn[2 * j]));
    }
    S->dw = _mm256_loadu_ps(G->d);
    S->mw = _mm256_loadu_ps(G->m);
}

static inline __attribute__((always_inline)) __m256 kq_apply(int kind, const kq_simd *S, const int8_t *xq,
                                                             const float *xd, const float *xs) {
    __m256i p[8], pm[8];
    const __m256i ones = _mm256_set1_epi8(1);
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(xq + j * QK));
        p[j] = _mm256_mullo_epi32(dot_u8s8(S->aw[j], _mm256_sign_epi8(x, S->sg[j])), S->scv[j]);
        if (kind == KQ_MINUS) pm[j] = _mm256_mullo_epi32(dot_u8s8(ones, x), S->mnv[j]);
    }
    __m256i I = hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    __m256 dx = _mm256_loadu_ps(xd);
    __m256 t = _mm256_mul_ps(_mm256_mul_ps(S->dw, dx), _mm256_cvtepi32_ps(I));
    if (kind == KQ_MINUS) {
        __m256i M = hsum8x8(pm[0], pm[1], pm[2], pm[3], pm[4], pm[5], pm[6], pm[7]);
        __m256 u = _mm256_mul_ps(_mm256_mul_ps(S->mw, dx), _mm256_cvtepi32_ps(M));
        return _mm256_sub_ps(t, u);
    }
    if (kind == KQ_PLUS) return _mm256_add_ps(t, _mm256_mul_ps(S->mw, _mm256_loadu_ps(xs)));
    return t;
}

static inline __attribute__((always_inline)) float kq_dot_k(int kind, int type, const void *w, const q8_act *a,
                                                            int t) {
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride, *xs = a->s + (size_t)t * a->stride;
    __m256 acc = _mm256_setzero_ps();
    kq_group G;
    kq_simd S;
    for (int g = 0; g * 8 < nb; g++) {
        kq_decode(type, w, g, nb - g * 8 < 8 ? nb - g * 8 : 8, &G);
        kq_prep(&G, &S);
        acc = _mm256_add_ps(acc, kq_apply(kind, &S, xq + g * 8 * QK, xd + g * 8, xs + g * 8));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

static float KFN(dot_kq)(int type, const void *w, const q8_act *a, int t) {
    switch (kq_kind(type)) {
    case KQ_MINUS: return kq_dot_k(KQ_MINUS, type, w, a, t);
    case KQ_PLUS: return kq_dot_k(KQ_PLUS, type, w, a, t);
    default: return kq_dot_k(KQ_PLAIN, type, w, a, t);
    }
}

static inline __attribute__((always_inline)) void kq_mm_k(int kind, int type, const uint8_t *w, size_t rb, int r0,
                                                          int r1, const q8_act *a, float *out, size_t ldo) {
    const int nb = a->nb, st = a->stride;
    kq_group G;
    kq_simd S;
    __m256 acc[TILE_T];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < a->n_tok; t0 += TILE_T) {
            const int nt = a->n_tok - t0 < TILE_T ? a->n_tok - t0 : TILE_T;
            for (int u = 0; u < nt; u++) acc[u] = _mm256_setzero_ps();
            for (int g = 0; g * 8 < nb; g++) {
                kq_decode(type, row, g, nb - g * 8 < 8 ? nb - g * 8 : 8, &G);
                kq_prep(&G, &S);
                for (int u = 0; u < nt; u++) {
                    const size_t ab = (size_t)(t0 + u) * st + (size_t)g * 8;
                    acc[u] = _mm256_add_ps(acc[u], kq_apply(kind, &S, a->q + ab * QK, a->d + ab, a->s + ab));
                }
            }
            for (int u = 0; u < nt; u++) {
                float lanes[8];
                _mm256_storeu_ps(lanes, acc[u]);
                out[(size_t)(t0 + u) * ldo + r] = reduce8(lanes);
            }
        }
    }
}

static void KFN(mm_kq)(int type, const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out,
                       size_t ldo) {
    switch (kq_kind(type)) {
    case KQ_MINUS: kq_mm_k(KQ_MINUS, type, w, rb, r0, r1, a, out, ldo); return;
    case KQ_PLUS: kq_mm_k(KQ_PLUS, type, w, rb, r0, r1, a, out, ldo); return;
    default: kq_mm_k(KQ_PLAIN, type, w, rb, r0, r1, a, out, ldo); return;
    }
}

const kernel_set KERNEL_SET = {KERNEL_NAME,   KFN(dot_q4_0), KFN(dot_q4_1), KFN(dot_q8_0), KFN(mm_q4_0),
                               KFN(mm_q4_1),  KFN(mm_q8_0),  KFN(pk_q4_0),  KFN(pk_q4_1),  KFN(pk_q8_0),
                               KFN(dot_kq),   KFN(mm_kq)};
