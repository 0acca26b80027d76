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
#define KERNEL_SET wicas_kernels_avx2
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
static inline __m256i hsum8x8(__m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i p4, __m256i p5,
                              __m256i p6, __m256i p7) {
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
    const __m256i idx =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
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
static inline __attribute__((always_inline)) __m256 group_q4_1(const block_q4_1 *B, const int8_t *xq,
                                                               const float *xd, const float *xs, int nv) {
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
    for (; b + 8 <= nb; b += 8)
        acc = _mm256_add_ps(acc, group_q4_1(wb + b, xq + b * QK, xd + b, xs + b, 8));
    if (b < nb) acc = _mm256_add_ps(acc, group_q4_1(wb + b, xq + b * QK, xd + b, xs + b, nb - b));
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

/* ---- Q4_0: sum((q - 8) x) = sum(q x) - 8 sum(x), exact integers ------------- */
static inline __attribute__((always_inline)) __m256 group_q4_0(const block_q4_0 *B, const int8_t *xq,
                                                               const float *xd, const int32_t *qsum, int nv) {
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
    for (; b + 8 <= nb; b += 8)
        acc = _mm256_add_ps(acc, group_q4_0(wb + b, xq + b * QK, xd + b, qsum + b, 8));
    if (b < nb) acc = _mm256_add_ps(acc, group_q4_0(wb + b, xq + b * QK, xd + b, qsum + b, nb - b));
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

/* ---- Q8_0: s8 x s8 through the u8 x s8 instruction, |w| * (x * sign(w)) --- */
static inline __attribute__((always_inline)) __m256 group_q8_0(const block_q8_0 *B, const int8_t *xq,
                                                               const float *xd, int nv) {
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
    for (; b + 8 <= nb; b += 8)
        acc = _mm256_add_ps(acc, group_q8_0(wb + b, xq + b * QK, xd + b, 8));
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

static inline __attribute__((always_inline)) void unpack_group(const uint8_t *blk0, int bsize, int qs_off,
                                                               int nv, bool q8, __m256i u[8]) {
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
static inline __attribute__((always_inline)) void mm_group(int kind, const uint8_t *blk0, int bsize, int nv,
                                                           int b, const q8_act *a, int t0, int nt,
                                                           __m256 *acc) {
    const int st = a->stride;
    const int qs_off = kind == 1 ? 4 : 2;
    __m256i u[8];
    unpack_group(blk0, bsize, qs_off, nv, kind == 2, u);
    __m256i sw = gather_words(blk0, bsize, nv);
    __m256 dw = half_lo(sw), mw = kind == 1 ? half_hi(sw) : _mm256_setzero_ps();
    __m256i absw[8];
    if (kind == 2) {
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            absw[j] = _mm256_sign_epi8(u[j], u[j]);
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
            is = _mm256_sub_epi32(is,
                                  _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(a->qsum + ab)), 3));
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(a->d + ab)), _mm256_cvtepi32_ps(is));
        if (kind == 1) v = _mm256_add_ps(v, _mm256_mul_ps(mw, _mm256_loadu_ps(a->s + ab)));
        acc[t] = _mm256_add_ps(acc[t], v);
    }
}

static inline __attribute__((always_inline)) void
mm_generic(int kind, const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out, size_t ldo) {
    const int nb = a->nb, T = a->n_tok;
    const int bsize = kind == 0   ? (int)sizeof(block_q4_0)
                      : kind == 1 ? (int)sizeof(block_q4_1)
                                  : (int)sizeof(block_q8_0);
    __m256 acc[TILE_T];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < T; t0 += TILE_T) {
            const int nt = T - t0 < TILE_T ? T - t0 : TILE_T;
            for (int t = 0; t < nt; t++)
                acc[t] = _mm256_setzero_ps();
            int b = 0;
            for (; b + 8 <= nb; b += 8)
                mm_group(kind, row + (size_t)b * bsize, bsize, 8, b, a, t0, nt, acc);
            if (b < nb) mm_group(kind, row + (size_t)b * bsize, bsize, nb - b, b, a, t0, nt, acc);
            for (int t = 0; t < nt; t++) {
                float lanes[8];
                _mm256_storeu_ps(lanes, acc[t]);
                out[(size_t)(t0 + t) * ldo + r] = reduce8(lanes);
            }
        }
    }
}

static void KFN(mm_q4_0)(const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
    mm_generic(0, w, rb, r0, r1, a, out, ldo);
}
static void KFN(mm_q4_1)(const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
    mm_generic(1, w, rb, r0, r1, a, out, ldo);
}
static void KFN(mm_q8_0)(const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
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

/* Packed kinds. Q5_x: the Q4 forms plus the fifth bits from the qh words
 * (the -16 of Q5_0 folded in as 16 * sum(x), like Q4_0's 8). IQ4_NL: the
 * nibbles index the level table with vpshufb; AVX2 multiplies |level| by
 * x * sign(level) (pairs <= 2 * 127 * 127, no vpmaddubsw saturation), VNNI
 * uses level + 128 (u8) and subtracts 128 * sum(x). All exact int32. */
enum { PK_Q4_0, PK_Q4_1, PK_Q8_0, PK_Q5_0, PK_Q5_1, PK_IQ4_NL };
#define Q5_IDX                                                                                               \
    _mm256_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12, 0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, \
                     12, 12, 12, 12)
#define Q5_BIT_LO _mm256_set1_epi32(0x08040201)
#define Q5_BIT_HI _mm256_set1_epi32((int)0x80402010u)
#define IQ4_S8                                                                                               \
    _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113, -127, -104,   \
                     -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)
#define IQ4_U8                                                                                               \
    _mm256_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, (char)129, (char)141, (char)153, (char)166, (char)181, \
                     (char)197, (char)217, (char)241, 1, 24, 45, 63, 79, 93, 106, 118, (char)129, (char)141, \
                     (char)153, (char)166, (char)181, (char)197, (char)217, (char)241)

/* NT tokens at once (1..4): each weight vector is loaded and unpacked once
 * and used for NT tokens; every token's lane operations are unchanged. */
static inline __attribute__((always_inline)) void pk_tokens(int kind, int NT, const uint8_t *gp, int nb,
                                                            size_t per, const q8_act *a, int t0, float *out,
                                                            size_t ldo, int g) {
    const int st = a->stride;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 A[4][8];
    for (int u = 0; u < NT; u++)
        for (int j = 0; j < 8; j++)
            A[u][j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *bp = gp + (size_t)b * per;
        __m256i is[4];
        for (int u = 0; u < NT; u++)
            is[u] = _mm256_setzero_si256();
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
            for (int u = 0; u < NT; u++)
                is[u] = _mm256_sub_epi32(is[u], ws);
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
            const bool has_m = kind == PK_Q4_1 || kind == PK_Q5_1, q5 = kind == PK_Q5_0 || kind == PK_Q5_1;
            const uint8_t *q = bp + (has_m ? 32 : 16) + (q5 ? 32 : 0);
            __m256i H = q5 ? _mm256_loadu_si256((const __m256i *)(q - 32)) : _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(q + 32 * k));
                __m256i lo = _mm256_and_si256(wv, m4), hi = _mm256_and_si256(_mm256_srli_epi16(wv, 4), m4);
                if (q5) {
                    /* fifth bits: byte i of lane r gets bit 4k+i (lo) and
                     * 16+4k+i (hi) of row r's qh word, as 0x10 */
                    const __m256i il = _mm256_add_epi8(Q5_IDX, _mm256_set1_epi8((char)(k >> 1)));
                    const __m256i ih = _mm256_add_epi8(il, _mm256_set1_epi8(2));
                    const __m256i bm = (k & 1) ? Q5_BIT_HI : Q5_BIT_LO;
                    const __m256i o16 = _mm256_set1_epi8(0x10);
                    __m256i bl = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(H, il), bm), bm);
                    __m256i bh = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(H, ih), bm), bm);
                    lo = _mm256_or_si256(lo, _mm256_and_si256(bl, o16));
                    hi = _mm256_or_si256(hi, _mm256_and_si256(bh, o16));
                }
#if defined(KERNEL_VNNI)
                if (kind == PK_IQ4_NL) { /* level + 128 as u8; 128 * sum(x) comes off below */
                    lo = _mm256_shuffle_epi8(IQ4_U8, lo);
                    hi = _mm256_shuffle_epi8(IQ4_U8, hi);
                }
#else
                __m256i sl = lo, sh = hi; /* IQ4_NL: |level| x (x * sign(level)) */
                if (kind == PK_IQ4_NL) {
                    sl = _mm256_shuffle_epi8(IQ4_S8, lo);
                    sh = _mm256_shuffle_epi8(IQ4_S8, hi);
                    lo = _mm256_sign_epi8(sl, sl);
                    hi = _mm256_sign_epi8(sh, sh);
                }
#endif
                for (int u = 0; u < NT; u++) {
                    const int8_t *x = a->q + ((size_t)(t0 + u) * st + b) * QK;
                    int32_t xl, xh;
                    memcpy(&xl, x + 4 * k, 4);
                    memcpy(&xh, x + 16 + 4 * k, 4);
                    __m256i vl = _mm256_set1_epi32(xl), vh = _mm256_set1_epi32(xh);
#if !defined(KERNEL_VNNI)
                    if (kind == PK_IQ4_NL) {
                        vl = _mm256_sign_epi8(vl, sl);
                        vh = _mm256_sign_epi8(vh, sh);
                    }
#endif
                    is[u] = dpb(is[u], lo, vl);
                    is[u] = dpb(is[u], hi, vh);
                }
            }
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)bp));
        __m256 mw = kind == PK_Q4_1 || kind == PK_Q5_1
                        ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(bp + 16)))
                        : _mm256_setzero_ps();
        for (int u = 0; u < NT; u++) {
            const size_t ab = (size_t)(t0 + u) * st + b;
            __m256i iv = is[u];
            if (kind == PK_Q4_0) iv = _mm256_sub_epi32(iv, _mm256_set1_epi32(8 * a->qsum[ab]));
            if (kind == PK_Q5_0) iv = _mm256_sub_epi32(iv, _mm256_set1_epi32(16 * a->qsum[ab]));
#if defined(KERNEL_VNNI)
            if (kind == PK_IQ4_NL) iv = _mm256_sub_epi32(iv, _mm256_set1_epi32(128 * a->qsum[ab]));
#endif
            __m256 v = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a->d[ab])), _mm256_cvtepi32_ps(iv));
            if (kind == PK_Q4_1 || kind == PK_Q5_1)
                v = _mm256_add_ps(v, _mm256_mul_ps(mw, _mm256_set1_ps(a->s[ab])));
            A[u][b & 7] = _mm256_add_ps(A[u][b & 7], v);
        }
    }
    for (int u = 0; u < NT; u++) {
        __m256 r =
            _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(A[u][0], A[u][1]), _mm256_add_ps(A[u][2], A[u][3])),
                          _mm256_add_ps(_mm256_add_ps(A[u][4], A[u][5]), _mm256_add_ps(A[u][6], A[u][7])));
        _mm256_storeu_ps(out + (size_t)(t0 + u) * ldo + (size_t)g * 8, r);
    }
}

static inline __attribute__((always_inline)) void pk_generic(int kind, const uint8_t *packed, int g0, int g1,
                                                             const q8_act *a, float *out, size_t ldo) {
    const int nb = a->nb, T = a->n_tok;
    const size_t per = kind == PK_Q4_0   ? PACK_Q4_0_BYTES
                       : kind == PK_Q4_1 ? PACK_Q4_1_BYTES
                       : kind == PK_Q8_0 ? PACK_Q8_0_BYTES
                       : kind == PK_Q5_0 ? PACK_Q5_0_BYTES
                       : kind == PK_Q5_1 ? PACK_Q5_1_BYTES
                                         : PACK_IQ4_NL_BYTES;
    for (int g = g0; g < g1; g++) {
        const uint8_t *gp = packed + (size_t)g * nb * per;
        int t = 0;
        for (; t + 4 <= T; t += 4)
            pk_tokens(kind, 4, gp, nb, per, a, t, out, ldo, g);
        for (; t < T; t++)
            pk_tokens(kind, 1, gp, nb, per, a, t, out, ldo, g);
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
static void KFN(pk_q5_0)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pk_generic(PK_Q5_0, p, g0, g1, a, out, ldo);
}
static void KFN(pk_q5_1)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pk_generic(PK_Q5_1, p, g0, g1, a, out, ldo);
}
static void KFN(pk_iq4_nl)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pk_generic(PK_IQ4_NL, p, g0, g1, a, out, ldo);
}

/* ---- packed k-quants: Q4_K, Q5_K, Q6_K (layout in quant.h) ------------------------
 * Per row group and super-block the 8 rows' quants are unpacked once to
 * unsigned bytes U[j][k] (block j, step k: elements 4k..4k+3 of each row in
 * its 4-byte lane) and used for every token of a tile. Per token and block j
 * (b = 8 * super-block + j) the lanes hold, exactly as int32,
 *     Q4_K/Q5_K: I = sc * sum(q x),                M = mn * sum(x)
 *     Q6_K:      I = sc0 * (S0 - 32 X0) + sc1 * (S1 - 32 X1)
 * (S0, S1: sum of q x over the two 16-element halves, X0, X1: sum of x), and
 * the float steps of kq_blockval follow lane-wise, into accumulator j = b mod
 * 8: the canonical order of each row. */
enum { PKK_Q4, PKK_Q5, PKK_Q6 };
#define PKK_TILE 16

/* 16-bit shift left by s (right by -s), s a constant after inlining. */
static inline __m256i sh16(__m256i v, int s) {
    return s >= 0 ? _mm256_slli_epi16(v, s) : _mm256_srli_epi16(v, -s);
}

static inline __attribute__((always_inline)) void pkk_unpack(int kind, const uint8_t *sp, __m256i U[8][8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    if (kind == PKK_Q6) {
        const uint8_t *ql = sp + 144, *qh = ql + 1024;
        const __m256i m30 = _mm256_set1_epi8(0x30);
#pragma GCC unroll 2
        for (int n = 0; n < 2; n++)
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                const __m256i H = _mm256_loadu_si256((const __m256i *)(qh + (size_t)(n * 8 + k) * 32));
#pragma GCC unroll 2
                for (int m = 0; m < 2; m++) {
                    const __m256i L =
                        _mm256_loadu_si256((const __m256i *)(ql + (size_t)((n * 2 + m) * 8 + k) * 32));
                    /* high bits 2m..2m+1 (block 4n+m) and 2m+4.. (block 4n+m+2) to bits 4-5;
                     * bits moved across a byte boundary fall outside 0x30 */
                    U[4 * n + m][k] =
                        _mm256_or_si256(_mm256_and_si256(L, m4), _mm256_and_si256(sh16(H, 4 - 2 * m), m30));
                    U[4 * n + m + 2][k] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L, 4), m4),
                                                          _mm256_and_si256(sh16(H, -2 * m), m30));
                }
            }
        return;
    }
    const uint8_t *qs = sp + 160;
    const __m256i b4 = _mm256_set1_epi8(0x10);
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++)
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + (size_t)(c * 8 + k) * 32));
            __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if (kind == PKK_Q5) { /* bit 2c / 2c+1 of the qh byte to bit 4 */
                const __m256i H = _mm256_loadu_si256((const __m256i *)(qs + 1024 + (size_t)k * 32));
                lo = _mm256_or_si256(lo, _mm256_and_si256(sh16(H, 4 - 2 * c), b4));
                hi = _mm256_or_si256(hi, _mm256_and_si256(sh16(H, 3 - 2 * c), b4));
            }
            U[2 * c][k] = lo;
            U[2 * c + 1][k] = hi;
        }
}

/* sum of 16 int8 */
static inline int32_t sum16_s8(const int8_t *x) {
    __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)x), _mm_set1_epi8((char)0x80));
    __m128i sd = _mm_sad_epu8(v, _mm_setzero_si128());
    return _mm_cvtsi128_si32(sd) + _mm_extract_epi16(sd, 4) - 16 * 128;
}

static inline __attribute__((always_inline)) void pkk_generic(int kind, const uint8_t *packed, int g0, int g1,
                                                              const q8_act *a, float *out, size_t ldo) {
    const int nb = a->nb, ns = nb / 8, T = a->n_tok, st = a->stride;
    const size_t per = kind == PKK_Q4 ? PACK_Q4_K_BYTES : kind == PKK_Q5 ? PACK_Q5_K_BYTES : PACK_Q6_K_BYTES;
    __m256i U[8][8];
    __m256 A[PKK_TILE][8];
    for (int g = g0; g < g1; g++) {
        const uint8_t *gp = packed + (size_t)g * ns * per;
        for (int t0 = 0; t0 < T; t0 += PKK_TILE) {
            const int nt = T - t0 < PKK_TILE ? T - t0 : PKK_TILE;
            for (int t = 0; t < nt; t++)
                for (int j = 0; j < 8; j++)
                    A[t][j] = _mm256_setzero_ps();
            for (int sb = 0; sb < ns; sb++) {
                const uint8_t *sp = gp + (size_t)sb * per;
                pkk_unpack(kind, sp, U);
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)sp));
                const __m256 mw = kind == PKK_Q6
                                      ? _mm256_setzero_ps()
                                      : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + 16)));
                for (int t = 0; t < nt; t++) {
#pragma GCC unroll 8
                    for (int j = 0; j < 8; j++) {
                        const size_t ab = (size_t)(t0 + t) * st + (size_t)sb * 8 + j;
                        const int8_t *xb = a->q + ab * QK;
                        __m256i S0 = _mm256_setzero_si256(), S1 = _mm256_setzero_si256();
#pragma GCC unroll 4
                        for (int k = 0; k < 4; k++) {
                            int32_t x0, x1;
                            memcpy(&x0, xb + 4 * k, 4);
                            memcpy(&x1, xb + 16 + 4 * k, 4);
                            S0 = dpb(S0, U[j][k], _mm256_set1_epi32(x0));
                            S1 = dpb(S1, U[j][k + 4], _mm256_set1_epi32(x1));
                        }
                        __m256i I, M = _mm256_setzero_si256();
                        if (kind == PKK_Q6) {
                            const __m256i sc0 =
                                _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sp + 16 + 16 * j)));
                            const __m256i sc1 = _mm256_cvtepi8_epi32(
                                _mm_loadl_epi64((const __m128i *)(sp + 16 + 16 * j + 8)));
                            S0 = _mm256_sub_epi32(S0, _mm256_set1_epi32(32 * sum16_s8(xb)));
                            S1 = _mm256_sub_epi32(S1, _mm256_set1_epi32(32 * sum16_s8(xb + 16)));
                            I = _mm256_add_epi32(_mm256_mullo_epi32(S0, sc0), _mm256_mullo_epi32(S1, sc1));
                        } else {
                            const __m256i sc =
                                _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(sp + 32 + 8 * j)));
                            const __m256i mn =
                                _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(sp + 96 + 8 * j)));
                            I = _mm256_mullo_epi32(_mm256_add_epi32(S0, S1), sc);
                            M = _mm256_mullo_epi32(mn, _mm256_set1_epi32(a->qsum[ab]));
                        }
                        const __m256 dx = _mm256_set1_ps(a->d[ab]);
                        __m256 v = _mm256_mul_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(I));
                        if (kind != PKK_Q6)
                            v = _mm256_sub_ps(v, _mm256_mul_ps(_mm256_mul_ps(mw, dx), _mm256_cvtepi32_ps(M)));
                        A[t][j] = _mm256_add_ps(A[t][j], v);
                    }
                }
            }
            for (int t = 0; t < nt; t++) {
                __m256 r = _mm256_add_ps(
                    _mm256_add_ps(_mm256_add_ps(A[t][0], A[t][1]), _mm256_add_ps(A[t][2], A[t][3])),
                    _mm256_add_ps(_mm256_add_ps(A[t][4], A[t][5]), _mm256_add_ps(A[t][6], A[t][7])));
                _mm256_storeu_ps(out + (size_t)(t0 + t) * ldo + (size_t)g * 8, r);
            }
        }
    }
}

static void KFN(pk_q4_k)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pkk_generic(PKK_Q4, p, g0, g1, a, out, ldo);
}
static void KFN(pk_q5_k)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pkk_generic(PKK_Q5, p, g0, g1, a, out, ldo);
}
static void KFN(pk_q6_k)(const uint8_t *p, int g0, int g1, const q8_act *a, float *out, size_t ldo) {
    pkk_generic(PKK_Q6, p, g0, g1, a, out, ldo);
}

/* ---- Q5_0, Q5_1 and k-quants -------------------------------------------------
 * A group of eight blocks (a k-quant super-block) is decoded to exact int8
 * weights and integer scales by the shared wicas_kq_decode; then per token, lane j
 * = block j: I_j and M_j as exact int32 (u8 x s8 products of |w| and x*sign(w)
 * in 4-element int32 sums, times the scale of their 16-element half, summed
 * across the block by hsum8x8), and the float operations of kq_blockval in
 * the same order. */
typedef struct {
    __m256i aw[8], sg[8], scv[8], mnv[8];
    __m256 dw, mw;
} kq_simd;

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

/* Fast loads for the common types: the same exact integers as wicas_kq_decode,
 * unpacked with SIMD straight from the block (Q4_K/Q5_K/Q5_x keep the
 * unsigned quant and fold the offset or min into integer terms; Q6_K keeps
 * the signed w = q - 32). Modes (constants after inlining): */
enum {
    KM_PLAIN = KQ_PLAIN,
    KM_MINUS = KQ_MINUS,
    KM_PLUS = KQ_PLUS,
    KM_Q4K,
    KM_Q5K,
    KM_Q6K,
    KM_Q50,
    KM_Q51,
    KM_Q2K,
    KM_Q3K,
    KM_IQ4XS
};

static inline int kq_mode(int type) {
    switch (type) {
    case 12:
        return KM_Q4K;
    case 13:
        return KM_Q5K;
    case 14:
        return KM_Q6K;
    case 6:
        return KM_Q50;
    case 7:
        return KM_Q51;
    case 10:
        return KM_Q2K;
    case 11:
        return KM_Q3K;
    case 23:
        return KM_IQ4XS;
    default:
        return wicas_kq_kind(type);
    }
}

/* 32 bits -> 32 bytes, byte i = 0xff where bit i is set. */
static inline __m256i bits32(uint32_t v) {
    const __m256i sh = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2,
                                        2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bm = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i x = _mm256_shuffle_epi8(_mm256_set1_epi32((int)v), sh);
    return _mm256_cmpeq_epi8(_mm256_and_si256(x, bm), bm);
}

static inline __attribute__((always_inline)) void kq_load(int mode, int type, const uint8_t *row, int g,
                                                          int nv, kq_group *G, kq_simd *S) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    if (mode == KM_Q4K || mode == KM_Q5K) {
        const uint8_t *blk = row + (size_t)g * (mode == KM_Q4K ? sizeof(block_q4_K) : sizeof(block_q5_K));
        uint16_t dh, mh;
        memcpy(&dh, blk, 2);
        memcpy(&mh, blk + 2, 2);
        const uint8_t *sc = blk + 4, *qs = mode == KM_Q4K ? blk + 16 : blk + 48;
        __m256i hb =
            mode == KM_Q5K ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            S->aw[2 * c] = _mm256_and_si256(v, m4);
            S->aw[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        if (mode == KM_Q5K) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                const __m256i bit = _mm256_set1_epi8((char)(1 << j));
                __m256i h = _mm256_cmpeq_epi8(_mm256_and_si256(hb, bit), bit);
                S->aw[j] = _mm256_or_si256(S->aw[j], _mm256_and_si256(h, _mm256_set1_epi8(0x10)));
            }
        }
        int32_t s8[8], m8[8];
        for (int j = 0; j < 4; j++) {
            s8[j] = sc[j] & 63;
            m8[j] = sc[j + 4] & 63;
            s8[j + 4] = (sc[j + 8] & 0x0f) | ((sc[j] >> 6) << 4);
            m8[j + 4] = (sc[j + 8] >> 4) | ((sc[j + 4] >> 6) << 4);
        }
        S->scv[0] = _mm256_loadu_si256((const __m256i *)s8);
        S->mnv[0] = _mm256_loadu_si256((const __m256i *)m8);
        S->dw = _mm256_set1_ps(f16_to_f32(dh));
        S->mw = _mm256_set1_ps(f16_to_f32(mh));
    } else if (mode == KM_Q6K) {
        const block_q6_K *x = (const block_q6_K *)row + g;
        const __m256i m2 = _mm256_set1_epi8(3), o32 = _mm256_set1_epi8(32);
#pragma GCC unroll 2
        for (int n = 0; n < 2; n++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * n));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * n + 32));
            __m256i h = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * n));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
            for (int k = 0; k < 4; k++) {
                __m256i w = _mm256_sub_epi8(q[k], o32);
                S->sg[4 * n + k] = w;
                S->aw[4 * n + k] = _mm256_sign_epi8(w, w);
            }
        }
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            S->scv[j] =
                _mm256_set_m128i(_mm_set1_epi32(x->scales[2 * j + 1]), _mm_set1_epi32(x->scales[2 * j]));
        S->dw = _mm256_set1_ps(f16_to_f32(x->d));
    } else if (mode == KM_Q50 || mode == KM_Q51) {
        const int bs = mode == KM_Q50 ? (int)sizeof(block_q5_0) : (int)sizeof(block_q5_1);
        const uint8_t *b0 = row + (size_t)g * 8 * bs;
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            if (j >= nv) {
                S->aw[j] = _mm256_setzero_si256();
                continue;
            }
            const uint8_t *qh = b0 + j * bs + (mode == KM_Q50 ? 2 : 4);
            uint32_t h;
            memcpy(&h, qh, 4);
            S->aw[j] =
                _mm256_or_si256(unpack_nibbles(qh + 4), _mm256_and_si256(bits32(h), _mm256_set1_epi8(0x10)));
        }
        __m256i wd = gather_words(b0, bs, nv);
        S->dw = half_lo(wd);
        S->mw = mode == KM_Q51 ? half_hi(wd) : _mm256_setzero_ps();
    } else if (mode == KM_Q2K || mode == KM_Q3K) {
        /* block j, element l: bits 2(j%4).. of qs[32(j/4) + l] (after a
         * 16-bit shift, bits from the neighbouring byte fall outside the mask);
         * Q3_K: minus 4 where bit j of hmask[l] is clear */
        const uint8_t *blk = row + (size_t)g * (mode == KM_Q2K ? sizeof(block_q2_K) : sizeof(block_q3_K));
        const uint8_t *qs = blk + (mode == KM_Q2K ? 16 : 32);
        const __m256i m3 = _mm256_set1_epi8(3);
        const __m256i hm = mode == KM_Q3K ? _mm256_loadu_si256((const __m256i *)blk) : _mm256_setzero_si256();
        int32_t sc[16], mn[16];
        uint16_t dh, mh = 0;
        if (mode == KM_Q2K) {
            const block_q2_K *x = (const block_q2_K *)blk;
            for (int i = 0; i < 16; i++) {
                sc[i] = x->scales[i] & 0x0f;
                mn[i] = x->scales[i] >> 4;
            }
            dh = x->d;
            mh = x->dmin;
        } else {
            const block_q3_K *x = (const block_q3_K *)blk;
            for (int i = 0; i < 16; i++) {
                int lo = i < 8 ? (x->scales[i] & 0x0f) : (x->scales[i - 8] >> 4);
                int hi = (x->scales[8 + i % 4] >> (2 * (i / 4))) & 3;
                sc[i] = (lo | (hi << 4)) - 32;
                mn[i] = 0;
            }
            dh = x->d;
        }
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * (j / 4)));
            __m256i w = _mm256_and_si256(_mm256_srli_epi16(v, 2 * (j % 4)), m3);
            if (mode == KM_Q3K) {
                const __m256i bit = _mm256_set1_epi8((char)(1 << j));
                __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit);
                w = _mm256_sub_epi8(w, _mm256_andnot_si256(set, _mm256_set1_epi8(4)));
            }
            S->aw[j] = _mm256_sign_epi8(w, w);
            S->sg[j] = w;
            S->scv[j] = _mm256_set_m128i(_mm_set1_epi32(sc[2 * j + 1]), _mm_set1_epi32(sc[2 * j]));
            S->mnv[j] = _mm256_set_m128i(_mm_set1_epi32(mn[2 * j + 1]), _mm_set1_epi32(mn[2 * j]));
        }
        S->dw = _mm256_set1_ps(f16_to_f32(dh));
        S->mw = _mm256_set1_ps(f16_to_f32(mh));
    } else if (mode == KM_IQ4XS) {
        /* d; scales_h; scales_l[4]; qs[128]: block j = nibbles of qs[16j ..] as
         * levels, 6-bit scale - 32 */
        const uint8_t *blk = row + (size_t)g * 136;
        uint16_t dh, shb;
        memcpy(&dh, blk, 2);
        memcpy(&shb, blk + 2, 2);
        const uint8_t *sl = blk + 4, *qs = blk + 8;
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            const int ls = ((sl[j / 2] >> (4 * (j % 2))) & 0x0f) | (((shb >> (2 * j)) & 3) << 4);
            const __m256i w = _mm256_shuffle_epi8(IQ4_S8, unpack_nibbles(qs + 16 * j));
            S->aw[j] = _mm256_sign_epi8(w, w);
            S->sg[j] = w;
            S->scv[j] = _mm256_set1_epi32(ls - 32);
        }
        S->dw = _mm256_set1_ps(f16_to_f32(dh));
        S->mw = _mm256_setzero_ps();
    } else {
        wicas_kq_decode(type, row, g, nv, G);
        kq_prep(G, S);
    }
}

static inline __attribute__((always_inline)) __m256 kq_apply_m(int mode, const kq_simd *S, const int8_t *xq,
                                                               const float *xd, const float *xs,
                                                               const int32_t *qsum) {
    if (mode <= KM_PLUS) return kq_apply(mode, S, xq, xd, xs);
    if (mode == KM_Q3K || mode == KM_IQ4XS) return kq_apply(KQ_PLAIN, S, xq, xd, xs);
    if (mode == KM_Q2K) return kq_apply(KQ_MINUS, S, xq, xd, xs);
    __m256i p[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(xq + j * QK));
        if (mode == KM_Q6K)
            p[j] = _mm256_mullo_epi32(dot_u8s8(S->aw[j], _mm256_sign_epi8(x, S->sg[j])), S->scv[j]);
        else
            p[j] = dot_u8s8(S->aw[j], x);
    }
    __m256i I = hsum8x8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    const __m256 dx = _mm256_loadu_ps(xd);
    if (mode == KM_Q4K || mode == KM_Q5K) {
        /* I = sc * sum(q x), M = mn * sum(x) (sc, mn constant over the block) */
        I = _mm256_mullo_epi32(I, S->scv[0]);
        __m256i M = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)qsum), S->mnv[0]);
        __m256 t = _mm256_mul_ps(_mm256_mul_ps(S->dw, dx), _mm256_cvtepi32_ps(I));
        __m256 u = _mm256_mul_ps(_mm256_mul_ps(S->mw, dx), _mm256_cvtepi32_ps(M));
        return _mm256_sub_ps(t, u);
    }
    if (mode == KM_Q50)
        I = _mm256_sub_epi32(I, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)qsum), 4));
    __m256 t = _mm256_mul_ps(_mm256_mul_ps(S->dw, dx), _mm256_cvtepi32_ps(I));
    if (mode == KM_Q51) return _mm256_add_ps(t, _mm256_mul_ps(S->mw, _mm256_loadu_ps(xs)));
    return t;
}

static inline __attribute__((always_inline)) float kq_dot_k(int mode, int type, const void *w,
                                                            const q8_act *a, int t) {
    const int nb = a->nb;
    const size_t o = (size_t)t * a->stride;
    const int8_t *xq = a->q + o * QK;
    __m256 acc = _mm256_setzero_ps();
    kq_group G;
    kq_simd S;
    for (int g = 0; g * 8 < nb; g++) {
        kq_load(mode, type, w, g, nb - g * 8 < 8 ? nb - g * 8 : 8, &G, &S);
        acc = _mm256_add_ps(acc, kq_apply_m(mode, &S, xq + g * 8 * QK, a->d + o + g * 8, a->s + o + g * 8,
                                            a->qsum + o + g * 8));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    return reduce8(lanes);
}

static float KFN(dot_kq)(int type, const void *w, const q8_act *a, int t) {
    switch (kq_mode(type)) {
    case KM_Q4K:
        return kq_dot_k(KM_Q4K, type, w, a, t);
    case KM_Q5K:
        return kq_dot_k(KM_Q5K, type, w, a, t);
    case KM_Q6K:
        return kq_dot_k(KM_Q6K, type, w, a, t);
    case KM_Q50:
        return kq_dot_k(KM_Q50, type, w, a, t);
    case KM_Q51:
        return kq_dot_k(KM_Q51, type, w, a, t);
    case KM_Q2K:
        return kq_dot_k(KM_Q2K, type, w, a, t);
    case KM_Q3K:
        return kq_dot_k(KM_Q3K, type, w, a, t);
    case KM_IQ4XS:
        return kq_dot_k(KM_IQ4XS, type, w, a, t);
    case KM_MINUS:
        return kq_dot_k(KM_MINUS, type, w, a, t);
    case KM_PLUS:
        return kq_dot_k(KM_PLUS, type, w, a, t);
    default:
        return kq_dot_k(KM_PLAIN, type, w, a, t);
    }
}

static inline __attribute__((always_inline)) void kq_mm_k(int mode, int type, const uint8_t *w, size_t rb,
                                                          int r0, int r1, const q8_act *a, float *out,
                                                          size_t ldo) {
    const int nb = a->nb, st = a->stride;
    kq_group G;
    kq_simd S;
    __m256 acc[TILE_T];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < a->n_tok; t0 += TILE_T) {
            const int nt = a->n_tok - t0 < TILE_T ? a->n_tok - t0 : TILE_T;
            for (int u = 0; u < nt; u++)
                acc[u] = _mm256_setzero_ps();
            for (int g = 0; g * 8 < nb; g++) {
                kq_load(mode, type, row, g, nb - g * 8 < 8 ? nb - g * 8 : 8, &G, &S);
                for (int u = 0; u < nt; u++) {
                    const size_t ab = (size_t)(t0 + u) * st + (size_t)g * 8;
                    acc[u] = _mm256_add_ps(
                        acc[u], kq_apply_m(mode, &S, a->q + ab * QK, a->d + ab, a->s + ab, a->qsum + ab));
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
    switch (kq_mode(type)) {
    case KM_Q4K:
        kq_mm_k(KM_Q4K, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_Q5K:
        kq_mm_k(KM_Q5K, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_Q6K:
        kq_mm_k(KM_Q6K, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_Q50:
        kq_mm_k(KM_Q50, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_Q51:
        kq_mm_k(KM_Q51, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_Q2K:
        kq_mm_k(KM_Q2K, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_Q3K:
        kq_mm_k(KM_Q3K, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_IQ4XS:
        kq_mm_k(KM_IQ4XS, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_MINUS:
        kq_mm_k(KM_MINUS, type, w, rb, r0, r1, a, out, ldo);
        return;
    case KM_PLUS:
        kq_mm_k(KM_PLUS, type, w, rb, r0, r1, a, out, ldo);
        return;
    default:
        kq_mm_k(KM_PLAIN, type, w, rb, r0, r1, a, out, ldo);
        return;
    }
}

const kernel_set KERNEL_SET = {KERNEL_NAME,  KFN(dot_q4_0), KFN(dot_q4_1), KFN(dot_q8_0), KFN(mm_q4_0),
                               KFN(mm_q4_1), KFN(mm_q8_0),  KFN(pk_q4_0),  KFN(pk_q4_1),  KFN(pk_q8_0),
                               KFN(dot_kq),  KFN(mm_kq),    KFN(pk_q5_0),  KFN(pk_q5_1),  KFN(pk_iq4_nl),
                               KFN(pk_q4_k), KFN(pk_q5_k),  KFN(pk_q6_k)};
