/*
 * quant.c — scalar reference kernels, activation quantisation, dequantisation
 * and the run-time choice of kernel set (cpuid + WICAS_KERNELS).
 *
 * The scalar kernels are the definition of the canonical order described in
 * quant.h; the SIMD kernels in kernels_*.c must reproduce them bit for bit,
 * which tests/infer/test_kernels.c checks on random data.
 */
#include "quant.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "infer.h"

/* ---- activation quantisation ---------------------------------------------------
 * Per block: amax = max |x|, d = amax / 127, q = round_half_even(x * (1/d)),
 * clamped to [-127, 127]. Rounding uses the 1.5*2^23 trick: adding and
 * subtracting it leaves x rounded to an integer in the current (nearest-even)
 * mode; |x * id| <= 127.x so it is exact. No libm.
 * Defined for every input: converting a NaN or an out-of-range float to an
 * integer is undefined behaviour in C (x86 gives INT32_MIN, ARM 0), and a
 * NaN or infinite activation reaches here (a NaN amax makes the scale NaN;
 * an infinite one makes 1/d 0, and inf * 0 is NaN). So NaN quantises to 0,
 * and anything at or beyond +-127 (+-inf included) to +-127, before any cast. */
static inline int32_t round_even(float x) {
    if (x != x) return 0;
    if (x >= 127.0f) return 127;
    if (x <= -127.0f) return -127;
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    float r = (x + magic) - magic;
    return (int32_t)r;
}

void q8_quantize_row(const float *x, q8_act *a, int t) {
    const int nb = a->nb;
    int8_t *q = a->q + (size_t)t * a->stride * QK;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + b * QK;
        /* amax through the bit patterns: for non-NaN floats the order of
         * (bits & 0x7fffffff) as unsigned integers is the order of |x| (an
         * integer max, which compilers vectorise; a NaN input gives a NaN
         * scale, the same on every path). */
        uint32_t mbits = 0;
        for (int i = 0; i < QK; i++) {
            uint32_t u = f32_to_bits(xb[i]) & 0x7fffffffu;
            mbits = u > mbits ? u : mbits;
        }
        float amax = bits_to_f32(mbits);
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int32_t sum = 0;
        for (int i = 0; i < QK; i++) {
            int32_t v = round_even(xb[i] * id);
            if (v > 127) v = 127;
            if (v < -127) v = -127;
            q[b * QK + i] = (int8_t)v;
            sum += v;
        }
        a->d[(size_t)t * a->stride + b] = d;
        a->qsum[(size_t)t * a->stride + b] = sum;
        a->s[(size_t)t * a->stride + b] = d * (float)sum;
    }
    for (int b = nb; b < a->stride; b++) {
        memset(q + b * QK, 0, QK);
        a->d[(size_t)t * a->stride + b] = 0.0f;
        a->qsum[(size_t)t * a->stride + b] = 0;
        a->s[(size_t)t * a->stride + b] = 0.0f;
    }
    if (a->f) memcpy(a->f + (size_t)t * a->stride * QK, x, sizeof(float) * (size_t)nb * QK);
}

/* ---- scalar kernels -------------------------------------------------------------- */
static float dot_q4_0_scalar(const void *w, const q8_act *a, int t) {
    const block_q4_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const int32_t *xs = a->qsum + (size_t)t * a->stride;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++) acc[b & 7] = acc[b & 7] + blockval_q4_0(&wb[b], xq + b * QK, xd[b], xs[b]);
    return reduce8(acc);
}

static float dot_q4_1_scalar(const void *w, const q8_act *a, int t) {
    const block_q4_1 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const float *xs = a->s + (size_t)t * a->stride;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++) acc[b & 7] = acc[b & 7] + blockval_q4_1(&wb[b], xq + b * QK, xd[b], xs[b]);
    return reduce8(acc);
}

static float dot_q8_0_scalar(const void *w, const q8_act *a, int t) {
    const block_q8_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++) acc[b & 7] = acc[b & 7] + blockval_q8_0(&wb[b], xq + b * QK, xd[b]);
    return reduce8(acc);
}

const kernel_set kernels_scalar = {"scalar", dot_q4_0_scalar, dot_q4_1_scalar, dot_q8_0_scalar, NULL, NULL, NULL,
                                   NULL, NULL, NULL};

/* Float weight types: v_b = sequential sum over the block of w_i * x_i. */
static float wval(int type, const void *w, size_t i) {
    switch (type) {
    case 0: return ((const float *)w)[i];
    case 1: return f16_to_f32(((const uint16_t *)w)[i]);
    default: return bf16_to_f32(((const uint16_t *)w)[i]);
    }
}

static float dot_float(int type, const void *w, const q8_act *a, int t) {
    const int nb = a->nb;
    const float *x = a->f + (size_t)t * a->stride * QK;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++) {
        float v = 0.0f;
        for (int i = 0; i < QK; i++) v = v + wval(type, w, (size_t)b * QK + i) * x[b * QK + i];
        acc[b & 7] = acc[b & 7] + v;
    }
    return reduce8(acc);
}

float dot_row(const kernel_set *k, int type, const void *w, const q8_act *a, int t) {
    switch (type) {
    case 2: return k->dot_q4_0(w, a, t);
    case 3: return k->dot_q4_1(w, a, t);
    case 8: return k->dot_q8_0(w, a, t);
    default: return dot_float(type, w, a, t);
    }
}

void matmul_rows(const kernel_set *k, int type, const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a,
                 float *out, size_t ldo) {
    mm_fn mm = type == 2 ? k->mm_q4_0 : type == 3 ? k->mm_q4_1 : type == 8 ? k->mm_q8_0 : NULL;
    if (mm) {
        mm(w, row_bytes, r0, r1, a, out, ldo);
        return;
    }
    for (int r = r0; r < r1; r++)
        for (int t = 0; t < a->n_tok; t++) out[(size_t)t * ldo + r] = dot_row(k, type, w + (size_t)r * row_bytes, a, t);
}

void matmul_rows_packed(const kernel_set *k, int type, const uint8_t *w, const uint8_t *packed, size_t row_bytes, int r0,
                        int r1, const q8_act *a, float *out, size_t ldo) {
    mm_packed_fn pk = !packed ? NULL : type == 2 ? k->pk_q4_0 : type == 3 ? k->pk_q4_1 : type == 8 ? k->pk_q8_0 : NULL;
    if (pk && r0 % 8 == 0 && r1 % 8 == 0) {
        pk(packed, r0 / 8, r1 / 8, a, out, ldo);
        return;
    }
    matmul_rows(k, type, w, row_bytes, r0, r1, a, out, ldo);
}

/* ---- packing (see quant.h) ------------------------------------------------------- */
size_t pack_size(int type, int rows, int cols) {
    if (rows % 8 != 0 || cols % QK != 0) return 0;
    size_t per = type == 2 ? PACK_Q4_0_BYTES : type == 3 ? PACK_Q4_1_BYTES : type == 8 ? PACK_Q8_0_BYTES : 0;
    return per * (size_t)(rows / 8) * (size_t)(cols / QK);
}

void pack_matrix(int type, const uint8_t *w, int rows, int cols, uint8_t *out) {
    const int nb = cols / QK;
    const size_t per = type == 2 ? PACK_Q4_0_BYTES : type == 3 ? PACK_Q4_1_BYTES : PACK_Q8_0_BYTES;
    const size_t bsz = type == 2 ? sizeof(block_q4_0) : type == 3 ? sizeof(block_q4_1) : sizeof(block_q8_0);
    for (int g = 0; g < rows / 8; g++)
        for (int b = 0; b < nb; b++) {
            uint8_t *o = out + ((size_t)g * nb + b) * per;
            for (int r = 0; r < 8; r++) {
                const uint8_t *blk = w + ((size_t)(g * 8 + r) * nb + b) * bsz;
                memcpy(o + 2 * r, blk, 2); /* d */
                if (type == 3) memcpy(o + 16 + 2 * r, blk + 2, 2); /* m */
                const uint8_t *qs = blk + (type == 3 ? 4 : 2);
                uint8_t *oq = o + (type == 3 ? 32 : 16);
                int steps = type == 8 ? 8 : 4;
                for (int k = 0; k < steps; k++) memcpy(oq + (size_t)k * 32 + (size_t)r * 4, qs + 4 * k, 4);
                if (type == 8) {
                    int32_t sum = 0;
                    for (int i = 0; i < QK; i++) sum += (int8_t)qs[i];
                    memcpy(oq + 256 + (size_t)r * 4, &sum, 4);
                }
            }
        }
}

static const kernel_set *set_for(wicas_kernels k);
bool kernels_packed_available(void) {
    const kernel_set *a = set_for(WICAS_KERNELS_AVX2), *b = set_for(WICAS_KERNELS_AVX512);
    return (a && a->pk_q4_1) || (b && b->pk_q4_1);
}

void dequant_row(int type, const void *w, float *out, int n) {
    switch (type) {
    case 0: memcpy(out, w, sizeof(float) * (size_t)n); return;
    case 1: for (int i = 0; i < n; i++) out[i] = f16_to_f32(((const uint16_t *)w)[i]); return;
    case 30: for (int i = 0; i < n; i++) out[i] = bf16_to_f32(((const uint16_t *)w)[i]); return;
    case 2:
        for (int b = 0; b < n / QK; b++) {
            const block_q4_0 *x = (const block_q4_0 *)w + b;
            float d = f16_to_f32(x->d);
            for (int j = 0; j < QK / 2; j++) {
                out[b * QK + j] = (float)((x->qs[j] & 0x0f) - 8) * d;
                out[b * QK + j + QK / 2] = (float)((x->qs[j] >> 4) - 8) * d;
            }
        }
        return;
    case 3:
        for (int b = 0; b < n / QK; b++) {
            const block_q4_1 *x = (const block_q4_1 *)w + b;
            float d = f16_to_f32(x->d), m = f16_to_f32(x->m);
            for (int j = 0; j < QK / 2; j++) {
                out[b * QK + j] = (float)(x->qs[j] & 0x0f) * d + m;
                out[b * QK + j + QK / 2] = (float)(x->qs[j] >> 4) * d + m;
            }
        }
        return;
    case 8:
        for (int b = 0; b < n / QK; b++) {
            const block_q8_0 *x = (const block_q8_0 *)w + b;
            float d = f16_to_f32(x->d);
            for (int j = 0; j < QK; j++) out[b * QK + j] = (float)x->qs[j] * d;
        }
        return;
    default: memset(out, 0, sizeof(float) * (size_t)n); return;
    }
}

/* ---- dispatch ---------------------------------------------------------------------- */
static _Atomic(const kernel_set *) active;

#if defined(__x86_64__)
#include <cpuid.h>
/* F16C from CPUID leaf 1 (clang-14's __builtin_cpu_supports does not know "f16c"). */
static bool has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

static bool cpu_has(wicas_kernels k) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (k == WICAS_KERNELS_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                        has_f16c();
    if (k == WICAS_KERNELS_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx2") && has_f16c();
#endif
#if defined(__aarch64__)
    if (k == WICAS_KERNELS_NEON) return true; /* Advanced SIMD is part of AArch64 */
#endif
    return k == WICAS_KERNELS_SCALAR;
}

static const kernel_set *set_for(wicas_kernels k) {
    if (!cpu_has(k)) return NULL;
    switch (k) {
    case WICAS_KERNELS_SCALAR: return &kernels_scalar;
#if defined(WICAS_HAVE_AVX2)
    case WICAS_KERNELS_AVX2: return &kernels_avx2;
#endif
#if defined(WICAS_HAVE_AVX512)
    case WICAS_KERNELS_AVX512: return &kernels_avx512;
#endif
#if defined(WICAS_HAVE_NEON)
    case WICAS_KERNELS_NEON: return &kernels_neon;
#endif
    default: return NULL;
    }
}

static const kernel_set *choose(void) {
    const char *e = getenv("WICAS_KERNELS");
    if (e && *e) {
        const kernel_set *k = NULL;
        if (strcmp(e, "scalar") == 0) k = set_for(WICAS_KERNELS_SCALAR);
        else if (strcmp(e, "avx2") == 0) k = set_for(WICAS_KERNELS_AVX2);
        else if (strcmp(e, "avx512") == 0) k = set_for(WICAS_KERNELS_AVX512);
        else if (strcmp(e, "neon") == 0) k = set_for(WICAS_KERNELS_NEON);
        if (k) return k;
        /* Unknown or unavailable: fall back to automatic choice (results are
         * the same either way). */
    }
    const kernel_set *k = set_for(WICAS_KERNELS_AVX512);
    if (!k) k = set_for(WICAS_KERNELS_AVX2);
    if (!k) k = set_for(WICAS_KERNELS_NEON);
    return k ? k : &kernels_scalar;
}

const kernel_set *kernels_get(void) {
    const kernel_set *k = atomic_load(&active);
    if (!k) {
        k = choose();
        atomic_store(&active, k);
    }
    return k;
}

int wicas_infer_set_kernels(wicas_kernels k) {
    const kernel_set *s = k == WICAS_KERNELS_AUTO ? choose() : set_for(k);
    if (!s) return WICAS_INFER_EUNSUPPORTED;
    atomic_store(&active, s);
    return 0;
}

const char *wicas_infer_kernels_name(void) { return kernels_get()->name; }
