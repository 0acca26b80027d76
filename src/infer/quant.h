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

typedef struct { uint16_t d; uint8_t qs[QK / 2]; } block_q4_0;           /* 18 bytes */
typedef struct { uint16_t d, m; uint8_t qs[QK / 2]; } block_q4_1;        /* 20 bytes */
typedef struct { uint16_t d; int8_t qs[QK]; } block_q8_0;                /* 34 bytes */
_Static_assert(sizeof(block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 layout");
/* Nibble layout (Q4_*): byte j holds element j in its low 4 bits and element
 * j+16 in its high 4 bits. */

/* ---- exact scalar conversions ------------------------------------------- */
static inline float bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* IEEE half -> float: exact (every half is a float). Subnormal halves are
 * normalised by hand; Inf/NaN keep their payload. */
static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0) return bits_to_f32(sign);
        int e = -1;
        do { man <<= 1; e++; } while ((man & 0x400) == 0);
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

static inline float bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }
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
    int stride;    /* blocks per row in the arrays: nb rounded up to a multiple of
                      8; the padding blocks are all zero (q, d, s, qsum), so a SIMD
                      kernel may read a whole last group of 8 and add exact +0s */
} q8_act;

/* Quantises n = nb*32 floats x into row t of a (scalar, shared by all paths)
 * and zeroes the row's padding blocks. */
void q8_quantize_row(const float *x, q8_act *a, int t);

/* ---- kernels ---------------------------------------------------------------- */
/* One dot product: weight row (nb blocks, the given type) x activation row t. */
typedef float (*dot_fn)(const void *w, const q8_act *a, int t);

/* Rows r0..r1-1 of a weight matrix (row_bytes apart) times every token row
 * of a: out[t * ldo + r]. Each (r, t) value is exactly dot(row r, token t);
 * the tile form only lets SIMD code unpack a weight group once for all tokens. */
typedef void (*mm_fn)(const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a, float *out, size_t ldo);

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
/* Bytes of a packed matrix (0 when the type/shape is not packable). */
size_t pack_size(int type, int rows, int cols);
/* Writes the packed form of w (rows x cols, the file layout) to out. */
void pack_matrix(int type, const uint8_t *w, int rows, int cols, uint8_t *out);
/* Whether a kernel set using packed matrices can run on this CPU/build. */
bool kernels_packed_available(void);
typedef void (*mm_packed_fn)(const uint8_t *packed, int g0, int g1, const q8_act *a, float *out, size_t ldo);

typedef struct {
    const char *name;
    dot_fn dot_q4_0, dot_q4_1, dot_q8_0;
    mm_fn mm_q4_0, mm_q4_1, mm_q8_0; /* NULL: loop over dot_* */
    mm_packed_fn pk_q4_0, pk_q4_1, pk_q8_0; /* row groups g0..g1-1 of a packed matrix; NULL: none */
} kernel_set;

extern const kernel_set kernels_scalar;
#if defined(WICAS_HAVE_AVX2)
extern const kernel_set kernels_avx2;
#endif
#if defined(WICAS_HAVE_AVX512)
extern const kernel_set kernels_avx512;
#endif
#if defined(WICAS_HAVE_NEON)
extern const kernel_set kernels_neon;
#endif

/* The active set (chosen once; see wicas_infer_set_kernels). */
const kernel_set *kernels_get(void);

/* Dot of any supported weight type; float types use the shared scalar path. */
float dot_row(const kernel_set *k, int type, const void *w, const q8_act *a, int t);

/* out[t * ldo + r] = dot(row r, token t) for r in [r0, r1), every token. */
void matmul_rows(const kernel_set *k, int type, const uint8_t *w, size_t row_bytes, int r0, int r1, const q8_act *a,
                 float *out, size_t ldo);
/* Same with an optional packed copy (used when the set has a packed kernel
 * for the type; r0 and r1 must then be multiples of 8). */
void matmul_rows_packed(const kernel_set *k, int type, const uint8_t *w, const uint8_t *packed, size_t row_bytes, int r0,
                        int r1, const q8_act *a, float *out, size_t ldo);

/* Dequantises one row of n elements of the given type to floats. */
void dequant_row(int type, const void *w, float *out, int n);

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
    for (int j = 0; j < QK; j++) isum += (int32_t)w->qs[j] * xq[j];
    float t = f16_to_f32(w->d) * dx;
    return t * (float)isum;
}

#endif
