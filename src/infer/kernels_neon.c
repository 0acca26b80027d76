/*
 * kernels_neon.c — AArch64 Advanced SIMD versions of the quantised dot
 * products (ARMv8.0 baseline: no dotprod extension needed).
 *
 * Same canonical order as quant.h: the exact integer sum of each block
 * (widening multiplies vmull_s8 into int16 — every product and pair sum fits —
 * then pairwise widening adds into int32, then an across-vector add; integer
 * addition is associative so any order is exact), then per group of eight
 * blocks the scale arithmetic with separate vmulq/vaddq in the scalar order,
 * lanes 0-3 and 4-7 held in two float32x4 accumulators that are exactly the
 * scalar accumulators a[0..3] and a[4..7]. AArch64 NEON float arithmetic is
 * IEEE-754 (subnormals kept unless FPCR.FZ is set, which Linux does not), so
 * the bits match the x86 paths. Blocks past the last multiple of eight use the
 * scalar block functions on the same lanes.
 *
 * Prefill (mm_*): for each weight row, tiles of up to 4 tokens; a group of 8
 * blocks is unpacked once (nibbles to int8, f16 scales to float) and used for
 * every token of the tile, each token keeping its own two accumulators. Every
 * (row, token) value goes through exactly the operations of dot_*_neon in the
 * same order, so prefill and decode give the same bits.
 */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "quant.h"

/* sum_i u[i] * x[i] over 32 int8 pairs given as four 8-lane halves. */
static inline int32_t isum32(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    int32x4_t acc = vdupq_n_s32(0);
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
    acc = vpadalq_s16(acc, vmull_s8(vget_high_s8(w0), vget_high_s8(x0)));
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w1), vget_low_s8(x1)));
    acc = vpadalq_s16(acc, vmull_s8(vget_high_s8(w1), vget_high_s8(x1)));
    return vaddvq_s32(acc);
}

static inline int32_t isum_q4(const uint8_t *qs, const int8_t *xq) {
    uint8x16_t q = vld1q_u8(qs);
    int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f)));
    int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
    return isum32(lo, hi, vld1q_s8(xq), vld1q_s8(xq + 16));
}

static inline float32x4_t f16x4(uint16_t a, uint16_t b, uint16_t c, uint16_t d) {
    uint16_t h[4] = {a, b, c, d};
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))); /* exact */
}

static float dot_q4_1_neon(const void *w, const q8_act *a, int t) {
    const block_q4_1 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const float *xs = a->s + (size_t)t * a->stride;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        int32_t is[8];
        for (int j = 0; j < 8; j++)
            is[j] = isum_q4(wb[b + j].qs, xq + (b + j) * QK);
        const block_q4_1 *B = wb + b;
        for (int h = 0; h < 2; h++) {
            const block_q4_1 *C = B + 4 * h;
            float32x4_t dw = f16x4(C[0].d, C[1].d, C[2].d, C[3].d);
            float32x4_t mw = f16x4(C[0].m, C[1].m, C[2].m, C[3].m);
            float32x4_t isf = vcvtq_f32_s32(vld1q_s32(is + 4 * h));
            float32x4_t tt = vmulq_f32(vmulq_f32(dw, vld1q_f32(xd + b + 4 * h)), isf);
            float32x4_t u = vmulq_f32(mw, vld1q_f32(xs + b + 4 * h));
            float32x4_t v = vaddq_f32(tt, u);
            if (h == 0)
                acc0 = vaddq_f32(acc0, v);
            else
                acc1 = vaddq_f32(acc1, v);
        }
    }
    float lanes[8];
    vst1q_f32(lanes, acc0);
    vst1q_f32(lanes + 4, acc1);
    for (; b < nb; b++)
        lanes[b & 7] = lanes[b & 7] + blockval_q4_1(&wb[b], xq + b * QK, xd[b], xs[b]);
    return reduce8(lanes);
}

static float dot_q4_0_neon(const void *w, const q8_act *a, int t) {
    const block_q4_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const int32_t *qsum = a->qsum + (size_t)t * a->stride;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        int32_t is[8];
        for (int j = 0; j < 8; j++)
            is[j] = isum_q4(wb[b + j].qs, xq + (b + j) * QK) - 8 * qsum[b + j];
        const block_q4_0 *B = wb + b;
        for (int h = 0; h < 2; h++) {
            const block_q4_0 *C = B + 4 * h;
            float32x4_t dw = f16x4(C[0].d, C[1].d, C[2].d, C[3].d);
            float32x4_t v =
                vmulq_f32(vmulq_f32(dw, vld1q_f32(xd + b + 4 * h)), vcvtq_f32_s32(vld1q_s32(is + 4 * h)));
            if (h == 0)
                acc0 = vaddq_f32(acc0, v);
            else
                acc1 = vaddq_f32(acc1, v);
        }
    }
    float lanes[8];
    vst1q_f32(lanes, acc0);
    vst1q_f32(lanes + 4, acc1);
    for (; b < nb; b++)
        lanes[b & 7] = lanes[b & 7] + blockval_q4_0(&wb[b], xq + b * QK, xd[b], qsum[b]);
    return reduce8(lanes);
}

static float dot_q8_0_neon(const void *w, const q8_act *a, int t) {
    const block_q8_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        int32_t is[8];
        for (int j = 0; j < 8; j++) {
            const int8_t *x = xq + (b + j) * QK;
            is[j] =
                isum32(vld1q_s8(wb[b + j].qs), vld1q_s8(wb[b + j].qs + 16), vld1q_s8(x), vld1q_s8(x + 16));
        }
        const block_q8_0 *B = wb + b;
        for (int h = 0; h < 2; h++) {
            const block_q8_0 *C = B + 4 * h;
            float32x4_t dw = f16x4(C[0].d, C[1].d, C[2].d, C[3].d);
            float32x4_t v =
                vmulq_f32(vmulq_f32(dw, vld1q_f32(xd + b + 4 * h)), vcvtq_f32_s32(vld1q_s32(is + 4 * h)));
            if (h == 0)
                acc0 = vaddq_f32(acc0, v);
            else
                acc1 = vaddq_f32(acc1, v);
        }
    }
    float lanes[8];
    vst1q_f32(lanes, acc0);
    vst1q_f32(lanes + 4, acc1);
    for (; b < nb; b++)
        lanes[b & 7] = lanes[b & 7] + blockval_q8_0(&wb[b], xq + b * QK, xd[b]);
    return reduce8(lanes);
}

/* ---- prefill tiles ------------------------------------------------------------------- */
#define MM_TILE 4

/* type: 2 = Q4_0, 3 = Q4_1, 8 = Q8_0 (a constant in each caller, so the
 * branches fold away). */
static inline void mm_neon(int type, const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a,
                           float *out, size_t ldo) {
    const int nb = a->nb;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        for (int t0 = 0; t0 < a->n_tok; t0 += MM_TILE) {
            const int nt = a->n_tok - t0 < MM_TILE ? a->n_tok - t0 : MM_TILE;
            float32x4_t acc[MM_TILE][2];
            for (int j = 0; j < nt; j++)
                acc[j][0] = acc[j][1] = vdupq_n_f32(0.0f);
            int b = 0;
            for (; b + 8 <= nb; b += 8) {
                int8x16_t wl[8], wh[8];
                float32x4_t dw[2], mw[2] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
                uint16_t dh[8], mh[8] = {0};
                for (int k = 0; k < 8; k++) {
                    if (type == 8) {
                        const block_q8_0 *B = (const block_q8_0 *)row + b + k;
                        wl[k] = vld1q_s8(B->qs);
                        wh[k] = vld1q_s8(B->qs + 16);
                        dh[k] = B->d;
                    } else {
                        const uint8_t *qs;
                        if (type == 3) {
                            const block_q4_1 *B = (const block_q4_1 *)row + b + k;
                            qs = B->qs;
                            dh[k] = B->d;
                            mh[k] = B->m;
                        } else {
                            const block_q4_0 *B = (const block_q4_0 *)row + b + k;
                            qs = B->qs;
                            dh[k] = B->d;
                        }
                        uint8x16_t q = vld1q_u8(qs);
                        wl[k] = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f)));
                        wh[k] = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
                    }
                }
                for (int h = 0; h < 2; h++) {
                    dw[h] = f16x4(dh[4 * h], dh[4 * h + 1], dh[4 * h + 2], dh[4 * h + 3]);
                    if (type == 3) mw[h] = f16x4(mh[4 * h], mh[4 * h + 1], mh[4 * h + 2], mh[4 * h + 3]);
                }
                for (int j = 0; j < nt; j++) {
                    const int t = t0 + j;
                    const int8_t *xq = a->q + ((size_t)t * a->stride + b) * QK;
                    const float *xd = a->d + (size_t)t * a->stride + b;
                    int32_t is[8];
                    for (int k = 0; k < 8; k++)
                        is[k] = isum32(wl[k], wh[k], vld1q_s8(xq + k * QK), vld1q_s8(xq + k * QK + 16));
                    if (type == 2) {
                        const int32_t *qsum = a->qsum + (size_t)t * a->stride + b;
                        for (int k = 0; k < 8; k++)
                            is[k] -= 8 * qsum[k];
                    }
                    for (int h = 0; h < 2; h++) {
                        float32x4_t isf = vcvtq_f32_s32(vld1q_s32(is + 4 * h));
                        float32x4_t v = vmulq_f32(vmulq_f32(dw[h], vld1q_f32(xd + 4 * h)), isf);
                        if (type == 3) {
                            const float *xs = a->s + (size_t)t * a->stride + b;
                            v = vaddq_f32(v, vmulq_f32(mw[h], vld1q_f32(xs + 4 * h)));
                        }
                        acc[j][h] = vaddq_f32(acc[j][h], v);
                    }
                }
            }
            for (int j = 0; j < nt; j++) {
                const int t = t0 + j;
                const int8_t *xq = a->q + (size_t)t * a->stride * QK;
                const float *xd = a->d + (size_t)t * a->stride;
                float lanes[8];
                vst1q_f32(lanes, acc[j][0]);
                vst1q_f32(lanes + 4, acc[j][1]);
                for (int bb = b; bb < nb; bb++) {
                    float bv;
                    if (type == 3)
                        bv = blockval_q4_1((const block_q4_1 *)row + bb, xq + bb * QK, xd[bb],
                                           a->s[(size_t)t * a->stride + bb]);
                    else if (type == 2)
                        bv = blockval_q4_0((const block_q4_0 *)row + bb, xq + bb * QK, xd[bb],
                                           a->qsum[(size_t)t * a->stride + bb]);
                    else
                        bv = blockval_q8_0((const block_q8_0 *)row + bb, xq + bb * QK, xd[bb]);
                    lanes[bb & 7] = lanes[bb & 7] + bv;
                }
                out[(size_t)t * ldo + r] = reduce8(lanes);
            }
        }
    }
}

static void mm_q4_0_neon(const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
    mm_neon(2, w, row_bytes, r0, r1, a, out, ldo);
}
static void mm_q4_1_neon(const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
    mm_neon(3, w, row_bytes, r0, r1, a, out, ldo);
}
static void mm_q8_0_neon(const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
    mm_neon(8, w, row_bytes, r0, r1, a, out, ldo);
}

/* ---- Q5_0, Q5_1 and k-quants ------------------------------------------------------
 * Groups decoded by the shared wicas_kq_decode; per token, block j's exact I_j / M_j
 * from widening products of the two 16-element halves, then the float work
 * of kq_blockval with lanes 0-3 / 4-7 in two float32x4 accumulators. */
static inline int32_t dot16(int8x16_t w, int8x16_t x) {
    int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(x)));
    s = vpadalq_s16(s, vmull_s8(vget_high_s8(w), vget_high_s8(x)));
    return vaddvq_s32(s);
}

static inline __attribute__((always_inline)) void kq_apply_neon(int kind, const kq_group *G, const int8_t *xq,
                                                                const float *xd, const float *xs,
                                                                float32x4_t acc[2]) {
    int32_t I[8], M[8];
    for (int j = 0; j < 8; j++) {
        int8x16_t x0 = vld1q_s8(xq + j * QK), x1 = vld1q_s8(xq + j * QK + 16);
        I[j] = G->sc[2 * j] * dot16(vld1q_s8(G->q + j * QK), x0) +
               G->sc[2 * j + 1] * dot16(vld1q_s8(G->q + j * QK + 16), x1);
        if (kind == KQ_MINUS)
            M[j] = G->mn[2 * j] * (int32_t)vaddlvq_s8(x0) + G->mn[2 * j + 1] * (int32_t)vaddlvq_s8(x1);
    }
    for (int h = 0; h < 2; h++) {
        float32x4_t dx = vld1q_f32(xd + 4 * h);
        float32x4_t v =
            vmulq_f32(vmulq_f32(vld1q_f32(G->d + 4 * h), dx), vcvtq_f32_s32(vld1q_s32(I + 4 * h)));
        if (kind == KQ_MINUS)
            v = vsubq_f32(
                v, vmulq_f32(vmulq_f32(vld1q_f32(G->m + 4 * h), dx), vcvtq_f32_s32(vld1q_s32(M + 4 * h))));
        else if (kind == KQ_PLUS)
            v = vaddq_f32(v, vmulq_f32(vld1q_f32(G->m + 4 * h), vld1q_f32(xs + 4 * h)));
        acc[h] = vaddq_f32(acc[h], v);
    }
}

static float dot_kq_neon(int type, const void *w, const q8_act *a, int t) {
    const int kind = wicas_kq_kind(type), nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride, *xs = a->s + (size_t)t * a->stride;
    float32x4_t acc[2] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    kq_group G;
    for (int g = 0; g * 8 < nb; g++) {
        wicas_kq_decode(type, w, g, nb - g * 8 < 8 ? nb - g * 8 : 8, &G);
        if (kind == KQ_MINUS)
            kq_apply_neon(KQ_MINUS, &G, xq + g * 8 * QK, xd + g * 8, xs + g * 8, acc);
        else if (kind == KQ_PLUS)
            kq_apply_neon(KQ_PLUS, &G, xq + g * 8 * QK, xd + g * 8, xs + g * 8, acc);
        else
            kq_apply_neon(KQ_PLAIN, &G, xq + g * 8 * QK, xd + g * 8, xs + g * 8, acc);
    }
    float lanes[8];
    vst1q_f32(lanes, acc[0]);
    vst1q_f32(lanes + 4, acc[1]);
    return reduce8(lanes);
}

static void mm_kq_neon(int type, const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out,
                       size_t ldo) {
    const int kind = wicas_kq_kind(type), nb = a->nb, st = a->stride;
    kq_group G;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < a->n_tok; t0 += MM_TILE) {
            const int nt = a->n_tok - t0 < MM_TILE ? a->n_tok - t0 : MM_TILE;
            float32x4_t acc[MM_TILE][2];
            for (int u = 0; u < nt; u++)
                acc[u][0] = acc[u][1] = vdupq_n_f32(0.0f);
            for (int g = 0; g * 8 < nb; g++) {
                wicas_kq_decode(type, row, g, nb - g * 8 < 8 ? nb - g * 8 : 8, &G);
                for (int u = 0; u < nt; u++) {
                    const size_t ab = (size_t)(t0 + u) * st + (size_t)g * 8;
                    if (kind == KQ_MINUS)
                        kq_apply_neon(KQ_MINUS, &G, a->q + ab * QK, a->d + ab, a->s + ab, acc[u]);
                    else if (kind == KQ_PLUS)
                        kq_apply_neon(KQ_PLUS, &G, a->q + ab * QK, a->d + ab, a->s + ab, acc[u]);
                    else
                        kq_apply_neon(KQ_PLAIN, &G, a->q + ab * QK, a->d + ab, a->s + ab, acc[u]);
                }
            }
            for (int u = 0; u < nt; u++) {
                float lanes[8];
                vst1q_f32(lanes, acc[u][0]);
                vst1q_f32(lanes + 4, acc[u][1]);
                out[(size_t)(t0 + u) * ldo + r] = reduce8(lanes);
            }
        }
    }
}

const kernel_set wicas_kernels_neon = {
    "neon",       dot_q4_0_neon, dot_q4_1_neon, dot_q8_0_neon, mm_q4_0_neon, mm_q4_1_neon,
    mm_q8_0_neon, NULL,          NULL,          NULL,          dot_kq_neon,  mm_kq_neon,
    NULL,         NULL,          NULL,          NULL,          NULL,         NULL};
#endif
