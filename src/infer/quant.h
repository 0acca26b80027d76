/*
 * quant.h — internal: tensor block formats, exact conversions, activation
 * quantisation and the canonical dot-product order shared by every kernel.
 *
 * THE CANONICAL ORDER (the heart of the determinism promise)
 * ----------------------------------------------------------
 * A row of a quantised weight matrix is a sequence of 32-element blocks; the
 * activation vector is quantised to the same blocks (Q8: scale dx, int8 q,
 * and sx = dx * sum(q)). For block b the integer part
 *     isum_b = sum_i wq_i * xq_i                     (exact: int32)
 * is computed in any order (integer addition is associative), then turned
 * into a float with exactly these IEEE operations, in this order, no fma:
 *     Q8_0, Q4_0:  v_b = (dw_b * dx_b) * (float)isum_b
 *     Q4_1:        v_b = (dw_b * dx_b) * (float)isum_b + mw_b * sx_b
 * (for Q4_0 the weight nibble is q-8, folded into isum as sum(q*x) - 8*sum(x)).
 * The block values go into eight accumulators, block b into lane b mod 8,
 * in increasing b, starting from +0.0; the row result is
 *     ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)).
 * An 8-lane SIMD register holding the block values of blocks b..b+7 added to
 * an accumulator register performs exactly these operations, so scalar,
 * AVX2 and AVX-512 code give the same bits. Float weight types (F32, F16,
 * BF16) use the same 8-lane structure with v_b = sequential sum of w_i*x_i
 * over the block, computed by shared scalar code on every path.
 */
#ifndef WICAS_QUANT_H
#define WICAS_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QK 32 /* elements per block for every block format used here */

typedef struct {
    uint16_t d;
    uint8_t qs[QK / 2];
} block_q4_0; /* 18 bytes */
typedef struct {
    uint16_t d, m;
    uint8_t qs[QK / 2];
} block_q4_1; /* 20 bytes */
typedef struct {
    uint16_t d;
    int8_t qs[QK];
} block_q8_0; /* 34 bytes */
_Static_assert(sizeof(block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 layout");
/* Nibble layout (Q4_*): byte j holds element j in its low 4 bits and element
 * j+16 in its high 4 bits. */

/* ---- exact scalar conversions ------------------------------------------- */
static inline float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint32_t f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* IEEE half -> float: exact (every half is a float). Subnormal halves are
 * normalised by hand; Inf/NaN keep their payload. */
static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0) return bits_to_f32(sign);
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while ((man & 0x400) == 0);
        man &= 0x3ff;
        return bits_to_f32(sign | ((uint32_t)(112 - e) << 23) | (man << 13));
    }
    return bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

/* float -> half, round to nearest even (used by the test-model generator). */
static inline uint16_t f32_to_f16(float f) {
    uint32_t x = f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t e = (x >> 23) & 0xff, man = x & 0x7fffff;
    if (e == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int32_t ne = (int32_t)e - 127 + 15;
    if (ne >= 31) return (uint16_t)(sign | 0x7c00);
    if (ne <= 0) {
        if (ne < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - ne);
        uint32_t r = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)ne << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

static inline float bf16_to_f32(uint16_t h) {
    return bits_to_f32((uint32_t)h << 16);
}
static inline uint16_t f32_to_bf16(float f) {
    uint32_t x = f32_to_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

/* ---- quantised activations ------------------------------------------------
 * n_tok rows of nb blocks: q[t*nb*32 ..], d/s/qsum[t*nb ..]. */
typedef struct {
    int8_t *q;
    float *d;      /* block scale dx */
    float *s;      /* dx * sum(q)   (Q4_1 needs it) */
    int32_t *qsum; /* sum(q)        (Q4_0 needs it) */
    float *f;      /* the float activations themselves (float weight types) */
    int nb, n_tok;
    int stride; /* blocks per row in the arrays: nb rounded up to a multiple of
                   8; the padding blocks are all zero (q, d, s, qsum), so a SIMD
                   kernel may read a whole last group of 8 and add exact +0s */
} q8_act;

/* Quantises n = nb*32 floats x into row t of a (scalar, shared by all paths)
 * and zeroes the row's padding blocks. */
void wicas_q8_quantize_row(const float *x, q8_act *a, int t);

/* ---- kernels ---------------------------------------------------------------- */
/* One dot product: weight row (nb blocks, the given type) x activation row t. */
typedef float (*dot_fn)(const void *w, const q8_act *a, int t);

/* Rows r0..r1-1 of a weight matrix (row_bytes apart) times every token row
 * of a: out[t * ldo + r]. Each (r, t) value is exactly dot(row r, token t);
 * the tile form only lets SIMD code unpack a weight group once for all tokens. */
typedef void (*mm_fn)(const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a, float *out,
                      size_t ldo);

/* Row-interleaved copies of quantised matrices for the x86 SIMD kernels
 * ("packed"): rows in groups of 8; for each group and block b, the 8 scales
 * (f16), for Q4_1 the 8 mins, then the quants as steps of 4 bytes per row
 * (Q4: step k holds bytes 4k..4k+3 of each row's 16 nibble bytes, i.e.
 * elements 4k..4k+3 in the low nibbles and 16+4k..16+4k+3 in the high ones;
 * Q8_0: step k holds elements 4k..4k+3, then the 8 rows' sums of their 32
 * quants as int32). One 32-byte load then covers 8 rows,
 * and vpdpbusd against 4 broadcast activation bytes gives each row's exact
 * block sum in its own lane, with no horizontal reduction. The float work is
 * the canonical per-row order with lanes = rows. */
#define PACK_Q4_0_BYTES (16 + 128)
#define PACK_Q4_1_BYTES (16 + 16 + 128)
#define PACK_Q8_0_BYTES (16 + 256 + 32) /* + per-row sum of the 32 quants (int32), for the VNNI form */
/* Q5_0 / Q5_1: the Q4 form with, before the quants, the 8 rows' 32-bit qh
 * words (lane r = row r's fifth bits). IQ4_NL: the Q4_0 form (scales, then
 * the nibbles, which index the level table). */
#define PACK_Q5_0_BYTES (16 + 32 + 128)
#define PACK_Q5_1_BYTES (16 + 16 + 32 + 128)
#define PACK_IQ4_NL_BYTES (16 + 128)
/* Q4_K / Q5_K / Q6_K, per row group and 256-element super-block (lanes =
 * rows, block j = elements 32j..32j+31 of the super-block):
 *   Q4_K: d[8], dmin[8] (f16); sc[j][r], mn[j][r] (u8, the decoded 6-bit
 *         values); quants in steps (c, k), c = 0..3, k = 0..7: 32 bytes, row r
 *         at 4r: bytes qs[32c+4k .. +3] (low nibbles: block 2c, elements
 *         4k..4k+3; high nibbles: block 2c+1).
 *   Q5_K: the same, then qh in steps k: row r at 4r: qh[4k .. 4k+3] (bit j is
 *         the fifth bit of block j's elements 4k..4k+3).
 *   Q6_K: d[8]; sc[h][r] (int8, h = 16-element half 0..15); ql in steps
 *         (n, m, k), n, m = 0..1: row r at 4r: ql[64n+32m+4k .. +3] (low
 *         nibbles: block 4n+m, high: block 4n+m+2); qh in steps (n, k): row r
 *         at 4r: qh[32n+4k .. +3] (bits 2i..2i+1: block 4n+i).
 * The kernels unpack a super-block of 8 rows to unsigned quants once and use
 * it for every token; Q6_K's -32 is folded in as 32 * sum(x) per half. */
#define PACK_Q4_K_BYTES (16 + 16 + 64 + 64 + 1024)
#define PACK_Q5_K_BYTES (PACK_Q4_K_BYTES + 256)
#define PACK_Q6_K_BYTES (16 + 128 + 1024 + 512)
/* Bytes of a packed matrix (0 when the type/shape is not packable). */
size_t wicas_pack_size(int type, int rows, int cols);
/* Writes the packed form of w (rows x cols, the file layout) to out. */
void wicas_pack_matrix(int type, const uint8_t *w, int rows, int cols, uint8_t *out);
/* Whether a kernel set using packed matrices can run on this CPU/build. */
bool wicas_kernels_packed_available(void);
typedef void (*mm_packed_fn)(const uint8_t *packed, int g0, int g1, const q8_act *a, float *out, size_t ldo);

typedef struct {
    const char *name;
    dot_fn dot_q4_0, dot_q4_1, dot_q8_0;
    mm_fn mm_q4_0, mm_q4_1, mm_q8_0;        /* NULL: loop over dot_* */
    mm_packed_fn pk_q4_0, pk_q4_1, pk_q8_0; /* row groups g0..g1-1 of a packed matrix; NULL: none */
    /* Q5_0/Q5_1/k-quants (types with wicas_kq_kind >= 0), through wicas_kq_decode. */
    float (*dot_kq)(int type, const void *w, const q8_act *a, int t);
    void (*mm_kq)(int type, const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a, float *out,
                  size_t ldo);
    mm_packed_fn pk_q5_0, pk_q5_1, pk_iq4_nl; /* packed forms of these 32-element types; NULL: none */
    mm_packed_fn pk_q4_k, pk_q5_k, pk_q6_k;   /* packed k-quants (see PACK_Q4_K_BYTES); NULL: none */
} kernel_set;

extern const kernel_set wicas_kernels_scalar;
#if defined(WICAS_HAVE_AVX2)
extern const kernel_set wicas_kernels_avx2;
#endif
#if defined(WICAS_HAVE_AVX512)
extern const kernel_set wicas_kernels_avx512;
#endif
#if defined(WICAS_HAVE_NEON)
extern const kernel_set wicas_kernels_neon;
#endif

/* The active set (chosen once; see wicas_infer_set_kernels). */
const kernel_set *wicas_kernels_get(void);

/* Dot of any supported weight type; float types use the shared scalar path. */
float wicas_dot_row(const kernel_set *k, int type, const void *w, const q8_act *a, int t);

/* out[t * ldo + r] = dot(row r, token t) for r in [r0, r1), every token. */
void wicas_matmul_rows(const kernel_set *k, int type, const uint8_t *w, size_t row_bytes, int r0, int r1,
                       const q8_act *a, float *out, size_t ldo);
/* Same with an optional packed copy (used when the set has a packed kernel
 * for the type; r0 and r1 must then be multiples of 8). */
void wicas_matmul_rows_packed(const kernel_set *k, int type, const uint8_t *w, const uint8_t *packed,
                              size_t row_bytes, int r0, int r1, const q8_act *a, float *out, size_t ldo);

/* Dequantises one row of n elements of the given type to floats. */
void wicas_dequant_row(int type, const void *w, float *out, int n);

/* Canonical final reduction of the eight lanes. */
static inline float reduce8(const float a[8]) {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* Block values, scalar reference (also used for SIMD tails). */
static inline float blockval_q4_1(const block_q4_1 *w, const int8_t *xq, float dx, float sx) {
    int32_t isum = 0;
    for (int j = 0; j < QK / 2; j++) {
        isum += (int32_t)(w->qs[j] & 0x0f) * xq[j];
        isum += (int32_t)(w->qs[j] >> 4) * xq[j + QK / 2];
    }
    float t = f16_to_f32(w->d) * dx;
    t = t * (float)isum;
    float u = f16_to_f32(w->m) * sx;
    return t + u;
}
static inline float blockval_q4_0(const block_q4_0 *w, const int8_t *xq, float dx, int32_t qsum) {
    int32_t isum = 0;
    for (int j = 0; j < QK / 2; j++) {
        isum += (int32_t)(w->qs[j] & 0x0f) * xq[j];
        isum += (int32_t)(w->qs[j] >> 4) * xq[j + QK / 2];
    }
    isum -= 8 * qsum;
    float t = f16_to_f32(w->d) * dx;
    return t * (float)isum;
}
static inline float blockval_q8_0(const block_q8_0 *w, const int8_t *xq, float dx) {
    int32_t isum = 0;
    for (int j = 0; j < QK; j++)
        isum += (int32_t)w->qs[j] * xq[j];
    float t = f16_to_f32(w->d) * dx;
    return t * (float)isum;
}

/* ---- more block formats: Q5_0, Q5_1 and the k-quants ------------------------------
 * Layouts as ggml/GGUF define them (QKK = 256 elements per super-block):
 *   Q5_0  d; qh[4]; qs[16]                 x = d * (q - 16), q = nibble | bit << 4
 *   Q5_1  d, m; qh[4]; qs[16]              x = d * q + m
 *   Q2_K  scales[16]; qs[64]; d, dmin      x = d*sc*q - dmin*mn (per 16: sc, mn 4 bits)
 *   Q3_K  hmask[32]; qs[64]; scales[12]; d x = d*(sc-32)*(q2 - (hbit ? 0 : 4))
 *   Q4_K  d, dmin; scales[12]; qs[128]     x = d*sc*q - dmin*mn (per 32: 6-bit sc, mn)
 *   Q5_K  d, dmin; scales[12]; qh[32]; qs[128]
 *   Q6_K  ql[128]; qh[64]; scales[16] (int8); d   x = d*sc*(q - 32) (per 16)
 *   Q8_K  d (f32); qs[256]; bsums[16]      x = d * q
 *   IQ4_NL d; qs[16]                        x = d * level[q] (16 fixed int8 levels)
 *   IQ4_XS d; scales_h; scales_l[4]; qs[128] x = d * (sc - 32) * level[q] (per 32)
 * (Q5_x bit i of qh is the fifth bit of element i; the k-quant element
 * orders are spelled out in wicas_kq_decode in quant.c.)
 *
 * Canonical order for these types. A row is still a sequence of 32-element
 * blocks b (lane b mod 8, the same eight accumulators and reduce8 as above);
 * a k-quant super-block is exactly one group of eight blocks. Per block the
 * weight is decoded (wicas_kq_decode, shared scalar code) to exact integers w_i,
 * integer scales sc/mn per 16 elements and float factors dw_b, mw_b:
 *     I_b = sc_lo * sum_{i<16} w_i x_i + sc_hi * sum_{i>=16} w_i x_i   (int32)
 *     M_b = mn_lo * sum_{i<16} x_i     + mn_hi * sum_{i>=16} x_i       (int32)
 * and the block value is, with these IEEE operations in this order, no fma:
 *     plain (Q5_0, Q3_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS):  v_b = (dw_b * dx_b) * (float)I_b
 *     minus (Q2_K, Q4_K, Q5_K):        v_b = (dw_b * dx_b) * (float)I_b - (mw_b * dx_b) * (float)M_b
 *     plus  (Q5_1):                    v_b = (dw_b * dx_b) * (float)I_b + mw_b * sx_b
 * (for k-quants dw_b = d and mw_b = dmin of the super-block; for Q5_x the
 * block's d and m; Q5_0's -16 is folded into w). Integer sums are exact in
 * any order, so SIMD code may form them as it likes. */
#define QKK 256
typedef struct {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK / 2];
} block_q5_0; /* 22 */
typedef struct {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK / 2];
} block_q5_1; /* 24 */
typedef struct {
    uint8_t scales[16];
    uint8_t qs[64];
    uint16_t d, dmin;
} block_q2_K; /* 84 */
typedef struct {
    uint8_t hmask[32];
    uint8_t qs[64];
    uint8_t scales[12];
    uint16_t d;
} block_q3_K; /* 110 */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qs[128];
} block_q4_K; /* 144 */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
} block_q5_K; /* 176 */
typedef struct {
    uint8_t ql[128];
    uint8_t qh[64];
    int8_t scales[16];
    uint16_t d;
} block_q6_K; /* 210 */
typedef struct {
    float d;
    int8_t qs[QKK];
    int16_t bsums[16];
} block_q8_K; /* 292 */
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(block_q2_K) == 84, "q2_K layout");
_Static_assert(sizeof(block_q3_K) == 110, "q3_K layout");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K layout");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K layout");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K layout");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K layout");

enum { KQ_PLAIN = 0, KQ_MINUS = 1, KQ_PLUS = 2 };
/* KQ_* kind of a type handled by the decode path, or -1. */
int wicas_kq_kind(int type);

/* One group of eight 32-element blocks, decoded. */
typedef struct {
    int8_t q[8 * QK];       /* exact weight integers w_i (offsets applied) */
    int32_t sc[16], mn[16]; /* integer scale / min per 16 elements */
    float d[8], m[8];       /* dw_b, mw_b */
} kq_group;

/* Decodes group g (blocks 8g .. 8g+nv-1) of a row of the given type; blocks
 * >= nv (only Q5_x rows can end in a partial group) are all zero. */
void wicas_kq_decode(int type, const uint8_t *row, int g, int nv, kq_group *o);

/* Block value of decoded block j of G against activation block (xq, dx, sx):
 * the scalar reference of the canonical order above. */
static inline float kq_blockval(int kind, const kq_group *G, int j, const int8_t *xq, float dx, float sx) {
    int32_t s0 = 0, s1 = 0, x0 = 0, x1 = 0;
    const int8_t *w = G->q + j * QK;
    for (int i = 0; i < 16; i++) {
        s0 += (int32_t)w[i] * xq[i];
        s1 += (int32_t)w[i + 16] * xq[i + 16];
        x0 += xq[i];
        x1 += xq[i + 16];
    }
    int32_t I = G->sc[2 * j] * s0 + G->sc[2 * j + 1] * s1;
    float t = G->d[j] * dx;
    t = t * (float)I;
    if (kind == KQ_MINUS) {
        int32_t M = G->mn[2 * j] * x0 + G->mn[2 * j + 1] * x1;
        float u = G->m[j] * dx;
        u = u * (float)M;
        return t - u;
    }
    if (kind == KQ_PLUS) return t + G->m[j] * sx;
    return t;
}

#endif
