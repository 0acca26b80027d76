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
        for (int j = 0; j < 8; j++) is[j] = isum_q4(wb[b + j].qs, xq + (b + j) * QK);
        const block_q4_1 *B = wb + b;
        for (int h = 0; h < 2; h++) {
            const block_q4_1 *C = B + 4 * h;
            float32x4_t dw = f16x4(C[0].d, C[1].d, C[2].d, C[3].d);
            float32x4_t mw = f16x4(C[0].m, C[1].m, C[2].m, C[3].m);
            float32x4_t isf = vcvtq_f32_s32(vld1q_s32(is + 4 * h));
            float32x4_t tt = vmulq_f32(vmulq_f32(dw, vld1q_f32(xd + b + 4 * h)), isf);
            float32x4_t u = vmulq_f32(mw, vld1q_f32(xs + b + 4 * h));
            float32x4_t v = vaddq_f32(tt, u);
            if (h == 0) acc0 = vaddq_f32(acc0, v);
            else acc1 = vaddq_f32(acc1, v);
        }
    }
    float lanes[8];
    vst1q_f32(lanes, acc0);
    vst1q_f32(lanes + 4, acc1);
    for (; b < nb; b++) lanes[b & 7] = lanes[b & 7] + blockval_q4_1(&wb[b], xq + b * QK, xd[b], xs[b]);
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
        for (int j = 0; j < 8; j++) is[j] = isum_q4(wb[b + j].qs, xq + (b + j) * QK) - 8 * qsum[b + j];
        const block_q4_0 *B = wb + b;
        for (int h = 0; h < 2; h++) {
            const block_q4_0 *C = B + 4 * h;
            float32x4_t dw = f16x4(C[0].d, C[1].d, C[2].d, C[3].d);
            float32x4_t v = vmulq_f32(vmulq_f32(dw, vld1q_f32(xd + b + 4 * h)), vcvtq_f32_s32(vld1q_s32(is + 4 * h)));
            if (h == 0) acc0 = vaddq_f32(acc0, v);
            else acc1 = vaddq_f32(acc1, v);
        }
    }
    float lanes[8];
    vst1q_f32(lanes, acc0);
    vst1q_f32(lanes + 4, acc1);
    for (; b < nb; b++) lanes[b & 7] = lanes[b & 7] + blockval_q4_0(&wb[b], xq + b * QK, xd[b], qsum[b]);
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
            is[j] = isum32(vld1q_s8(wb[b + j].qs), vld1q_s8(wb[b + j].qs + 16), vld1q_s8(x), vld1q_s8(x + 16));
        }
        const block_q8_0 *B = wb + b;
        for (int h = 0; h < 2; h++) {
            const block_q8_0 *C = B + 4 * h;
            float32x4_t dw = f16x4(C[0].d, C[1].d, C[2].d, C[3].d);
            float32x4_t v = vmulq_f32(vmulq_f32(dw, vld1q_f32(xd + b + 4 * h)), vcvtq_f32_s32(vld1q_s32(is + 4 * h)));
            if (h == 0) acc0 = vaddq_f32(acc0, v);
            else acc1 = vaddq_f32(acc1, v);
        }
    }
    float lanes[8];
    vst1q_f32(lanes, acc0);
    vst1q_f32(lanes + 4, acc1);
    for (; b < nb; b++) lanes[b & 7] = lanes[b & 7] + blockval_q8_0(&wb[b], xq + b * QK, xd[b]);
    return reduce8(lanes);
}

const kernel_set kernels_neon = {"neon", dot_q4_0_neon, dot_q4_1_neon, dot_q8_0_neon, NULL, NULL, NULL, NULL, NULL, NULL};
#endif
