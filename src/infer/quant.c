/*
 * quant.c — scalar reference kernels, activation quantisation, dequantisation
 * and the run-time choice of kernel set (cpuid + WICAS_KERNELS).
 *
 * Q5_0/Q5_1, the k-quants and IQ4_NL/IQ4_XS are defined by one exact decoder
 * (wicas_kq_decode: a group of eight 32-element blocks to int8 weights and integer
 * scales) and the float steps of kq_blockval; the scalar and NEON sets use
 * the decoder itself, the x86 SIMD sets unpack the same integers with SIMD
 * (row kernels) or from packed copies (wicas_pack_matrix: Q5_0, Q5_1, IQ4_NL,
 * Q4_K, Q5_K, Q6_K), and only the order of exact integer additions differs.
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

void wicas_q8_quantize_row(const float *x, q8_act *a, int t) {
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

/* ---- Q5_0, Q5_1 and k-quants: decoding (see quant.h) ---------------------------- */
int wicas_kq_kind(int type) {
    switch (type) {
    case 6:
    case 11:
    case 14:
    case 15:
        return KQ_PLAIN; /* Q5_0, Q3_K, Q6_K, Q8_K */
    case 20:
    case 23:
        return KQ_PLAIN; /* IQ4_NL, IQ4_XS */
    case 10:
    case 12:
    case 13:
        return KQ_MINUS; /* Q2_K, Q4_K, Q5_K */
    case 7:
        return KQ_PLUS; /* Q5_1 */
    default:
        return -1;
    }
}

/* Q4_K/Q5_K: 6-bit scale and min of sub-block j from the 12 packed bytes:
 * j < 4: low 6 bits of bytes j and j+4; j >= 4: low/high nibble of byte j+4
 * with the top two bits of bytes j-4 and j as bits 4-5. */
static void scale_min_k4(int j, const uint8_t *s, int32_t *sc, int32_t *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* The 16 non-linear levels of IQ4_NL / IQ4_XS. */
static const int8_t IQ4_LEVELS[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                      1,    13,   25,  38,  53,  69,  89,  113};

void wicas_kq_decode(int type, const uint8_t *row, int g, int nv, kq_group *o) {
    if (type == 20) { /* IQ4_NL: 32-element blocks d; qs[16], x = d * level[nibble] (Q4 nibble order) */
        for (int j = 0; j < 8; j++) {
            int8_t *q = o->q + j * QK;
            o->sc[2 * j] = o->sc[2 * j + 1] = j < nv ? 1 : 0;
            o->mn[2 * j] = o->mn[2 * j + 1] = 0;
            o->m[j] = 0.0f;
            if (j >= nv) {
                memset(q, 0, QK);
                o->d[j] = 0.0f;
                continue;
            }
            const uint8_t *blk = row + ((size_t)g * 8 + (size_t)j) * 18;
            uint16_t d;
            memcpy(&d, blk, 2);
            for (int i = 0; i < 16; i++) {
                q[i] = IQ4_LEVELS[blk[2 + i] & 0x0f];
                q[i + 16] = IQ4_LEVELS[blk[2 + i] >> 4];
            }
            o->d[j] = f16_to_f32(d);
        }
        return;
    }
    if (type == 23) { /* IQ4_XS: d; scales_h (u16); scales_l[4]; qs[128]; sub-block j: 6-bit scale - 32 */
        const uint8_t *blk = row + (size_t)g * 136;
        uint16_t d, sh;
        memcpy(&d, blk, 2);
        memcpy(&sh, blk + 2, 2);
        const uint8_t *sl = blk + 4, *qs = blk + 8;
        for (int j = 0; j < 8; j++) {
            const int ls = ((sl[j / 2] >> (4 * (j % 2))) & 0x0f) | (((sh >> (2 * j)) & 3) << 4);
            o->sc[2 * j] = o->sc[2 * j + 1] = ls - 32;
            o->mn[2 * j] = o->mn[2 * j + 1] = 0;
            for (int i = 0; i < 16; i++) {
                o->q[j * QK + i] = IQ4_LEVELS[qs[16 * j + i] & 0x0f];
                o->q[j * QK + i + 16] = IQ4_LEVELS[qs[16 * j + i] >> 4];
            }
            o->d[j] = f16_to_f32(d);
            o->m[j] = 0.0f;
        }
        return;
    }
    if (type == 6 || type == 7) { /* Q5_0 / Q5_1: eight separate 32-element blocks */
        const size_t bs = type == 6 ? sizeof(block_q5_0) : sizeof(block_q5_1);
        for (int j = 0; j < 8; j++) {
            int8_t *q = o->q + j * QK;
            o->sc[2 * j] = o->sc[2 * j + 1] = j < nv ? 1 : 0;
            o->mn[2 * j] = o->mn[2 * j + 1] = 0;
            if (j >= nv) {
                memset(q, 0, QK);
                o->d[j] = o->m[j] = 0.0f;
                continue;
            }
            const uint8_t *blk = row + ((size_t)g * 8 + (size_t)j) * bs;
            uint16_t d, m = 0;
            uint32_t qh;
            memcpy(&d, blk, 2);
            if (type == 7) memcpy(&m, blk + 2, 2);
            const uint8_t *p = blk + (type == 7 ? 4 : 2);
            memcpy(&qh, p, 4);
            const uint8_t *qs = p + 4;
            const int off = type == 6 ? 16 : 0;
            for (int i = 0; i < 16; i++) {
                q[i] = (int8_t)(((qs[i] & 0x0f) | (((qh >> i) & 1) << 4)) - off);
                q[i + 16] = (int8_t)(((qs[i] >> 4) | (((qh >> (i + 16)) & 1) << 4)) - off);
            }
            o->d[j] = f16_to_f32(d);
            o->m[j] = f16_to_f32(m);
        }
        return;
    }
    float d = 0.0f, m = 0.0f;
    switch (type) {
    case 10: { /* Q2_K: element 128n + 32k + l is bits 2k.. of qs[32n + l]; per 16: scale/min nibbles */
        const block_q2_K *x = (const block_q2_K *)row + g;
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++)
                o->q[j * 32 + l] = (int8_t)((x->qs[(j / 4) * 32 + l] >> (2 * (j % 4))) & 3);
        for (int i = 0; i < 16; i++) {
            o->sc[i] = x->scales[i] & 0x0f;
            o->mn[i] = x->scales[i] >> 4;
        }
        d = f16_to_f32(x->d);
        m = f16_to_f32(x->dmin);
        break;
    }
    case 11: { /* Q3_K: as Q2_K, minus 4 where hmask[l] lacks bit j; 16 six-bit scales - 32 */
        const block_q3_K *x = (const block_q3_K *)row + g;
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++) {
                int q2 = (x->qs[(j / 4) * 32 + l] >> (2 * (j % 4))) & 3;
                o->q[j * 32 + l] = (int8_t)(q2 - (((x->hmask[l] >> j) & 1) ? 0 : 4));
            }
        for (int i = 0; i < 16; i++) {
            int lo = i < 8 ? (x->scales[i] & 0x0f) : (x->scales[i - 8] >> 4);
            int hi = (x->scales[8 + i % 4] >> (2 * (i / 4))) & 3;
            o->sc[i] = (lo | (hi << 4)) - 32;
            o->mn[i] = 0;
        }
        d = f16_to_f32(x->d);
        break;
    }
    case 12:
    case 13: { /* Q4_K/Q5_K: element 64c + 32h + l is nibble h of qs[32c + l] (+ bit 2c+h of qh[l] << 4) */
        const uint8_t *blk = row + (size_t)g * (type == 12 ? sizeof(block_q4_K) : sizeof(block_q5_K));
        uint16_t dh, mh;
        memcpy(&dh, blk, 2);
        memcpy(&mh, blk + 2, 2);
        const uint8_t *sc = blk + 4, *qh = blk + 16, *qs = type == 12 ? blk + 16 : blk + 48;
        for (int j = 0; j < 8; j++) {
            for (int l = 0; l < 32; l++) {
                int v = (qs[(j / 2) * 32 + l] >> (4 * (j & 1))) & 0x0f;
                if (type == 13) v |= ((qh[l] >> j) & 1) << 4;
                o->q[j * 32 + l] = (int8_t)v;
            }
            int32_t s, mn;
            scale_min_k4(j, sc, &s, &mn);
            o->sc[2 * j] = o->sc[2 * j + 1] = s;
            o->mn[2 * j] = o->mn[2 * j + 1] = mn;
        }
        d = f16_to_f32(dh);
        m = f16_to_f32(mh);
        break;
    }
    case 14: { /* Q6_K: element 128n + 32k + l: nibble k/2 of ql[64n + 32(k%2) + l], bits 2k.. of qh[32n + l]
                */
        const block_q6_K *x = (const block_q6_K *)row + g;
        for (int j = 0; j < 8; j++) {
            const int n = j / 4, k = j % 4;
            for (int l = 0; l < 32; l++) {
                int lo = (x->ql[64 * n + 32 * (k & 1) + l] >> (4 * (k >> 1))) & 0x0f;
                int hi = (x->qh[32 * n + l] >> (2 * k)) & 3;
                o->q[j * 32 + l] = (int8_t)((lo | (hi << 4)) - 32);
            }
        }
        for (int i = 0; i < 16; i++) {
            o->sc[i] = x->scales[i];
            o->mn[i] = 0;
        }
        d = f16_to_f32(x->d);
        break;
    }
    case 15: { /* Q8_K */
        const block_q8_K *x = (const block_q8_K *)row + g;
        memcpy(o->q, x->qs, QKK);
        for (int i = 0; i < 16; i++) {
            o->sc[i] = 1;
            o->mn[i] = 0;
        }
        d = x->d;
        break;
    }
    default:
        memset(o, 0, sizeof *o);
        return;
    }
    for (int j = 0; j < 8; j++) {
        o->d[j] = d;
        o->m[j] = m;
    }
}

static float dot_kq_scalar(int type, const void *w, const q8_act *a, int t) {
    const int kind = wicas_kq_kind(type), nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride, *xs = a->s + (size_t)t * a->stride;
    float acc[8] = {0};
    kq_group G;
    for (int g = 0; g * 8 < nb; g++) {
        const int nv = nb - g * 8 < 8 ? nb - g * 8 : 8;
        wicas_kq_decode(type, w, g, nv, &G);
        for (int j = 0; j < nv; j++) {
            const int b = g * 8 + j;
            acc[j] = acc[j] + kq_blockval(kind, &G, j, xq + b * QK, xd[b], xs[b]);
        }
    }
    return reduce8(acc);
}

/* Tile: each group of a row is decoded once for up to 16 tokens. */
static void mm_kq_scalar(int type, const uint8_t *w, size_t rb, int r0, int r1, const q8_act *a, float *out,
                         size_t ldo) {
    const int kind = wicas_kq_kind(type), nb = a->nb, st = a->stride;
    kq_group G;
    float acc[16][8];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        for (int t0 = 0; t0 < a->n_tok; t0 += 16) {
            const int nt = a->n_tok - t0 < 16 ? a->n_tok - t0 : 16;
            memset(acc, 0, sizeof acc);
            for (int g = 0; g * 8 < nb; g++) {
                const int nv = nb - g * 8 < 8 ? nb - g * 8 : 8;
                wicas_kq_decode(type, row, g, nv, &G);
                for (int u = 0; u < nt; u++) {
                    const size_t ab = (size_t)(t0 + u) * st + (size_t)g * 8;
                    for (int j = 0; j < nv; j++)
                        acc[u][j] = acc[u][j] + kq_blockval(kind, &G, j, a->q + (ab + j) * QK, a->d[ab + j],
                                                            a->s[ab + j]);
                }
            }
            for (int u = 0; u < nt; u++)
                out[(size_t)(t0 + u) * ldo + r] = reduce8(acc[u]);
        }
    }
}

/* ---- scalar kernels -------------------------------------------------------------- */
static float dot_q4_0_scalar(const void *w, const q8_act *a, int t) {
    const block_q4_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const int32_t *xs = a->qsum + (size_t)t * a->stride;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++)
        acc[b & 7] = acc[b & 7] + blockval_q4_0(&wb[b], xq + b * QK, xd[b], xs[b]);
    return reduce8(acc);
}

static float dot_q4_1_scalar(const void *w, const q8_act *a, int t) {
    const block_q4_1 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    const float *xs = a->s + (size_t)t * a->stride;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++)
        acc[b & 7] = acc[b & 7] + blockval_q4_1(&wb[b], xq + b * QK, xd[b], xs[b]);
    return reduce8(acc);
}

static float dot_q8_0_scalar(const void *w, const q8_act *a, int t) {
    const block_q8_0 *wb = w;
    const int nb = a->nb;
    const int8_t *xq = a->q + (size_t)t * a->stride * QK;
    const float *xd = a->d + (size_t)t * a->stride;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++)
        acc[b & 7] = acc[b & 7] + blockval_q8_0(&wb[b], xq + b * QK, xd[b]);
    return reduce8(acc);
}

const kernel_set wicas_kernels_scalar = {"scalar",
                                         dot_q4_0_scalar,
                                         dot_q4_1_scalar,
                                         dot_q8_0_scalar,
                                         NULL,
                                         NULL,
                                         NULL,
                                         NULL,
                                         NULL,
                                         NULL,
                                         dot_kq_scalar,
                                         mm_kq_scalar,
                                         NULL,
                                         NULL,
                                         NULL,
                                         NULL,
                                         NULL,
                                         NULL};

/* Float weight types: v_b = sequential sum over the block of w_i * x_i. */
static float wval(int type, const void *w, size_t i) {
    switch (type) {
    case 0:
        return ((const float *)w)[i];
    case 1:
        return f16_to_f32(((const uint16_t *)w)[i]);
    default:
        return bf16_to_f32(((const uint16_t *)w)[i]);
    }
}

static float dot_float(int type, const void *w, const q8_act *a, int t) {
    const int nb = a->nb;
    const float *x = a->f + (size_t)t * a->stride * QK;
    float acc[8] = {0};
    for (int b = 0; b < nb; b++) {
        float v = 0.0f;
        for (int i = 0; i < QK; i++)
            v = v + wval(type, w, (size_t)b * QK + i) * x[b * QK + i];
        acc[b & 7] = acc[b & 7] + v;
    }
    return reduce8(acc);
}

float wicas_dot_row(const kernel_set *k, int type, const void *w, const q8_act *a, int t) {
    switch (type) {
    case 2:
        return k->dot_q4_0(w, a, t);
    case 3:
        return k->dot_q4_1(w, a, t);
    case 8:
        return k->dot_q8_0(w, a, t);
    case 0:
    case 1:
    case 30:
        return dot_float(type, w, a, t);
    default:
        return k->dot_kq(type, w, a, t);
    }
}

void wicas_matmul_rows(const kernel_set *k, int type, const uint8_t *w, size_t row_bytes, int r0, int r1,
                       const q8_act *a, float *out, size_t ldo) {
    if (wicas_kq_kind(type) >= 0 && k->mm_kq) {
        k->mm_kq(type, w, row_bytes, r0, r1, a, out, ldo);
        return;
    }
    mm_fn mm = type == 2 ? k->mm_q4_0 : type == 3 ? k->mm_q4_1 : type == 8 ? k->mm_q8_0 : NULL;
    if (mm) {
        mm(w, row_bytes, r0, r1, a, out, ldo);
        return;
    }
    for (int r = r0; r < r1; r++)
        for (int t = 0; t < a->n_tok; t++)
            out[(size_t)t * ldo + r] = wicas_dot_row(k, type, w + (size_t)r * row_bytes, a, t);
}

static mm_packed_fn packed_fn(const kernel_set *k, int type) {
    switch (type) {
    case 2:
        return k->pk_q4_0;
    case 3:
        return k->pk_q4_1;
    case 8:
        return k->pk_q8_0;
    case 6:
        return k->pk_q5_0;
    case 7:
        return k->pk_q5_1;
    case 20:
        return k->pk_iq4_nl;
    case 12:
        return k->pk_q4_k;
    case 13:
        return k->pk_q5_k;
    case 14:
        return k->pk_q6_k;
    default:
        return NULL;
    }
}

void wicas_matmul_rows_packed(const kernel_set *k, int type, const uint8_t *w, const uint8_t *packed,
                              size_t row_bytes, int r0, int r1, const q8_act *a, float *out, size_t ldo) {
    mm_packed_fn pk = packed ? packed_fn(k, type) : NULL;
    if (pk && r0 % 8 == 0 && r1 % 8 == 0) {
        pk(packed, r0 / 8, r1 / 8, a, out, ldo);
        return;
    }
    wicas_matmul_rows(k, type, w, row_bytes, r0, r1, a, out, ldo);
}

/* ---- packing (see quant.h) ------------------------------------------------------- */
/* Packed bytes per (row group, block) and the source block size; 0: not packable. */
static size_t pack_per(int type, size_t *bsz) {
    switch (type) {
    case 2:
        *bsz = sizeof(block_q4_0);
        return PACK_Q4_0_BYTES;
    case 3:
        *bsz = sizeof(block_q4_1);
        return PACK_Q4_1_BYTES;
    case 8:
        *bsz = sizeof(block_q8_0);
        return PACK_Q8_0_BYTES;
    case 6:
        *bsz = sizeof(block_q5_0);
        return PACK_Q5_0_BYTES;
    case 7:
        *bsz = sizeof(block_q5_1);
        return PACK_Q5_1_BYTES;
    case 20:
        *bsz = 18;
        return PACK_IQ4_NL_BYTES;
    default:
        *bsz = 0;
        return 0;
    }
}

static size_t pack_per_k(int type) {
    return type == 12 ? PACK_Q4_K_BYTES : type == 13 ? PACK_Q5_K_BYTES : type == 14 ? PACK_Q6_K_BYTES : 0;
}

size_t wicas_pack_size(int type, int rows, int cols) {
    if (rows % 8 != 0 || cols % QK != 0) return 0;
    if (pack_per_k(type))
        return cols % QKK ? 0 : pack_per_k(type) * (size_t)(rows / 8) * (size_t)(cols / QKK);
    size_t bsz;
    return pack_per(type, &bsz) * (size_t)(rows / 8) * (size_t)(cols / QK);
}

/* Q4_K / Q5_K / Q6_K (layout in quant.h). */
static void pack_matrix_k(int type, const uint8_t *w, int rows, int cols, uint8_t *out) {
    const int ns = cols / QKK;
    const size_t per = pack_per_k(type);
    const size_t bsz = type == 12 ? sizeof(block_q4_K) : type == 13 ? sizeof(block_q5_K) : sizeof(block_q6_K);
    for (int g = 0; g < rows / 8; g++)
        for (int sb = 0; sb < ns; sb++) {
            uint8_t *o = out + ((size_t)g * ns + sb) * per;
            for (int r = 0; r < 8; r++) {
                const uint8_t *blk = w + ((size_t)(g * 8 + r) * ns + sb) * bsz;
                if (type == 14) {
                    const block_q6_K *x = (const block_q6_K *)blk;
                    memcpy(o + 2 * r, &x->d, 2);
                    for (int h = 0; h < 16; h++)
                        o[16 + h * 8 + r] = (uint8_t)x->scales[h];
                    uint8_t *ql = o + 16 + 128, *qh = ql + 1024;
                    for (int n = 0; n < 2; n++)
                        for (int m = 0; m < 2; m++)
                            for (int k = 0; k < 8; k++)
                                memcpy(ql + (size_t)((n * 2 + m) * 8 + k) * 32 + 4 * r,
                                       x->ql + 64 * n + 32 * m + 4 * k, 4);
                    for (int n = 0; n < 2; n++)
                        for (int k = 0; k < 8; k++)
                            memcpy(qh + (size_t)(n * 8 + k) * 32 + 4 * r, x->qh + 32 * n + 4 * k, 4);
                    continue;
                }
                memcpy(o + 2 * r, blk, 2);          /* d */
                memcpy(o + 16 + 2 * r, blk + 2, 2); /* dmin */
                for (int j = 0; j < 8; j++) {
                    int32_t sc, mn;
                    scale_min_k4(j, blk + 4, &sc, &mn);
                    o[32 + j * 8 + r] = (uint8_t)sc;
                    o[96 + j * 8 + r] = (uint8_t)mn;
                }
                const uint8_t *qs = blk + (type == 12 ? 16 : 48);
                uint8_t *oq = o + 160;
                for (int c = 0; c < 4; c++)
                    for (int k = 0; k < 8; k++)
                        memcpy(oq + (size_t)(c * 8 + k) * 32 + 4 * r, qs + 32 * c + 4 * k, 4);
                if (type == 13)
                    for (int k = 0; k < 8; k++)
                        memcpy(oq + 1024 + (size_t)k * 32 + 4 * r, blk + 16 + 4 * k, 4);
            }
        }
}

void wicas_pack_matrix(int type, const uint8_t *w, int rows, int cols, uint8_t *out) {
    if (pack_per_k(type)) {
        pack_matrix_k(type, w, rows, cols, out);
        return;
    }
    const int nb = cols / QK;
    size_t bsz;
    const size_t per = pack_per(type, &bsz);
    /* source block: d, [m], [qh (4 bytes)], quants */
    const bool has_m = type == 3 || type == 7, has_qh = type == 6 || type == 7;
    const size_t qh_off = has_m ? 4 : 2, qs_off = qh_off + (has_qh ? 4 : 0);
    for (int g = 0; g < rows / 8; g++)
        for (int b = 0; b < nb; b++) {
            uint8_t *o = out + ((size_t)g * nb + b) * per;
            for (int r = 0; r < 8; r++) {
                const uint8_t *blk = w + ((size_t)(g * 8 + r) * nb + b) * bsz;
                memcpy(o + 2 * r, blk, 2);                     /* d */
                if (has_m) memcpy(o + 16 + 2 * r, blk + 2, 2); /* m */
                uint8_t *oq = o + (has_m ? 32 : 16);
                if (has_qh) {
                    memcpy(oq + 4 * r, blk + qh_off, 4);
                    oq += 32;
                }
                const uint8_t *qs = blk + qs_off;
                int steps = type == 8 ? 8 : 4;
                for (int k = 0; k < steps; k++)
                    memcpy(oq + (size_t)k * 32 + (size_t)r * 4, qs + 4 * k, 4);
                if (type == 8) {
                    int32_t sum = 0;
                    for (int i = 0; i < QK; i++)
                        sum += (int8_t)qs[i];
                    memcpy(oq + 256 + (size_t)r * 4, &sum, 4);
                }
            }
        }
}

static const kernel_set *set_for(wicas_kernels k);
bool wicas_kernels_packed_available(void) {
    const kernel_set *a = set_for(WICAS_KERNELS_AVX2), *b = set_for(WICAS_KERNELS_AVX512);
    return (a && a->pk_q4_1) || (b && b->pk_q4_1);
}

void wicas_dequant_row(int type, const void *w, float *out, int n) {
    switch (type) {
    case 0:
        memcpy(out, w, sizeof(float) * (size_t)n);
        return;
    case 1:
        for (int i = 0; i < n; i++)
            out[i] = f16_to_f32(((const uint16_t *)w)[i]);
        return;
    case 30:
        for (int i = 0; i < n; i++)
            out[i] = bf16_to_f32(((const uint16_t *)w)[i]);
        return;
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
            for (int j = 0; j < QK; j++)
                out[b * QK + j] = (float)x->qs[j] * d;
        }
        return;
    default:
        break;
    }
    const int kind = wicas_kq_kind(type);
    if (kind < 0) {
        memset(out, 0, sizeof(float) * (size_t)n);
        return;
    }
    /* Q5_x / k-quants, the formulas of ggml's reference dequantisation:
     * (dw * sc) * w  [- mw * mn | + mw] */
    kq_group G;
    const int nb = n / QK;
    for (int g = 0; g * 8 < nb; g++) {
        const int nv = nb - g * 8 < 8 ? nb - g * 8 : 8;
        wicas_kq_decode(type, w, g, nv, &G);
        for (int j = 0; j < nv; j++)
            for (int i = 0; i < QK; i++) {
                const int h = 2 * j + i / 16;
                float v = G.d[j] * (float)G.sc[h];
                v = v * (float)G.q[j * QK + i];
                if (kind == KQ_MINUS)
                    v = v - G.m[j] * (float)G.mn[h];
                else if (kind == KQ_PLUS)
                    v = v + G.m[j];
                out[(size_t)(g * 8 + j) * QK + i] = v;
            }
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
    if (k == WICAS_KERNELS_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
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
    case WICAS_KERNELS_SCALAR:
        return &wicas_kernels_scalar;
#if defined(WICAS_HAVE_AVX2)
    case WICAS_KERNELS_AVX2:
        return &wicas_kernels_avx2;
#endif
#if defined(WICAS_HAVE_AVX512)
    case WICAS_KERNELS_AVX512:
        return &wicas_kernels_avx512;
#endif
#if defined(WICAS_HAVE_NEON)
    case WICAS_KERNELS_NEON:
        return &wicas_kernels_neon;
#endif
    default:
        return NULL;
    }
}

static const kernel_set *choose(void) {
    const char *e = getenv("WICAS_KERNELS");
    if (e && *e) {
        const kernel_set *k = NULL;
        if (strcmp(e, "scalar") == 0)
            k = set_for(WICAS_KERNELS_SCALAR);
        else if (strcmp(e, "avx2") == 0)
            k = set_for(WICAS_KERNELS_AVX2);
        else if (strcmp(e, "avx512") == 0)
            k = set_for(WICAS_KERNELS_AVX512);
        else if (strcmp(e, "neon") == 0)
            k = set_for(WICAS_KERNELS_NEON);
        if (k) return k;
        /* Unknown or unavailable: fall back to automatic choice (results are
         * the same either way). */
    }
    const kernel_set *k = set_for(WICAS_KERNELS_AVX512);
    if (!k) k = set_for(WICAS_KERNELS_AVX2);
    if (!k) k = set_for(WICAS_KERNELS_NEON);
    return k ? k : &wicas_kernels_scalar;
}

const kernel_set *wicas_kernels_get(void) {
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

const char *wicas_infer_kernels_name(void) {
    return wicas_kernels_get()->name;
}
