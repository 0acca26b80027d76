/*
 * detmath.h — deterministic elementary functions for the inference engine.
 *
 * Every validator must compute the same logits bit for bit, so nothing that
 * feeds consensus may call libm: glibc, musl, Apple's libm and MSVC's CRT all
 * round exp/sin/pow differently, and even one glibc may pick a different code
 * path on a CPU with FMA. The functions here use only IEEE-754 +, -, *, / in
 * binary32/binary64 (each correctly rounded, round-to-nearest-even) and
 * integer/bit operations, written in a fixed order. Built with
 * -ffp-contract=off (never -ffast-math) on any SSE2/NEON target they give the
 * same bits at -O0 and -O2 (tests/infer_tok checks a hash of 2^24 results).
 *
 * wicas_expf is the hot one (softmax, SiLU): its exact operation sequence is
 * spelled out below so a SIMD twin can reproduce it lane by lane.
 *
 * ---- wicas_expf(x) algorithm (binary32 throughout) -----------------------------
 *   1. NaN -> x (quiet NaN returned unchanged).
 *      x >  88.72283172607421875f (0x42B17217)  -> +inf
 *      x < -103.97208404541015625f (0xC2CFF1B5) -> +0
 *   2. t = x * 1.44269502163f  (LOG2E = 0x3FB8AA3B)
 *      n = (t + 12582912.0f) - 12582912.0f  (1.5*2^23: rounds t to the nearest
 *      integer, ties to even, for |t| < 2^22); ni = (int32_t)n.
 *   3. Cody-Waite reduction with ln2 split in two:
 *      r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f
 *      (LN2_HI = 0x3F317200 has 12 trailing zero bits, so n*LN2_HI is exact).
 *   4. Degree-7 Taylor polynomial, Horner form, then +1:
 *      p = C7; p = p*r + C6; p = p*r + C5; p = p*r + C4; p = p*r + C3;
 *      p = p*r + C2; p = p*r + 1.0f; p = p*r; y = 1.0f + p
 *      with Ck = (float)(1/k!): C2 = 0.5f, C3 = 1/6, C4 = 1/24, C5 = 1/120,
 *      C6 = 1/720, C7 = 1/5040 (each the float nearest the rational).
 *      On |r| <= ln2/2 the truncation error is < 6e-9 relative.
 *   5. Scale by 2^ni in two exact-power steps so that no intermediate is
 *      subnormal or infinite: n1 = ni >> 1 (arithmetic), n2 = ni - n1;
 *      result = (y * 2^n1) * 2^n2, each 2^k built from bits (k+127) << 23.
 *      Only the last multiply rounds (once, also into the subnormal range).
 *   Accuracy: <= 2 ulp over the normal range (measured max in the test).
 *
 * ---- binary64 functions ----------------------------------------------------------
 *   wicas_exp: same scheme as wicas_expf in double (LOG2E, 1.5*2^52 rounding,
 *     LN2_HI = 0x3FE62E42FEE00000, LN2_LO = 1.9082149292705877e-10, Taylor
 *     polynomial to degree 13), about 1 ulp.
 *   wicas_ln: x = m * 2^e with m in [sqrt(1/2), sqrt(2)); s = (m-1)/(m+1);
 *     log(m) = 2*atanh(s) = 2s(1 + s^2/3 + s^4/5 + ... + s^22/23); result
 *     e*LN2_HI + (log(m) + e*LN2_LO). A few ulp.
 *   wicas_pow: exp(y * ln(x)) with IEEE-style special cases (see below);
 *     the error of ln is amplified by |y ln x|: at most 2 + 2|y ln x| ulp
 *     (tested), e.g. <= 8 ulp for RoPE frequencies 100000^(-2i/64).
 *     Integer y with |y| <= 64 uses binary exponentiation instead (acc *= base
 *     for each set bit of |y| from the lowest, base *= base; 1/acc for y < 0),
 *     exact when the result is representable.
 *   wicas_sincos: x reduced by pi/2 with a three-part Cody-Waite constant
 *     (33 + 33 + 53 bits), which is exact-product for |k| < 2^20, i.e. accurate
 *     to a few ulp for |x| <= 1.6e6; Taylor kernels on [-pi/4, pi/4] to degree
 *     17 (sin) / 18 (cos). Beyond 1.6e6 results stay deterministic but lose
 *     accuracy gradually; |x| >= 2^30 returns NaN results, as does inf/NaN.
 */
#ifndef WICAS_DETMATH_H
#define WICAS_DETMATH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* e^x in binary32. Special values: expf(NaN) = NaN, expf(+inf) = +inf,
 * expf(-inf) = +0, expf(+-0) = 1, overflow -> +inf, underflow -> subnormal/+0. */
float wicas_expf(float x);

/* e^x in binary64, same special-value rules as wicas_expf. */
double wicas_exp(double x);

/* Natural logarithm. (Named wicas_ln, not wicas_log: common.h's wicas_log is
 * the logger.) log(+-0) = -inf, log(x<0) = NaN, log(+inf) = +inf,
 * log(NaN) = NaN, log(1) = +0. Subnormal inputs handled. */
double wicas_ln(double x);

/* x^y. pow(x, +-0) = 1 for any x (even NaN); pow(1, y) = 1 for any y;
 * NaN operand otherwise -> NaN; x < 0 with integer y -> sign by parity of y,
 * x < 0 with non-integer y -> NaN; pow(+-0, y<0) = +inf, pow(+-0, y>0) = +0
 * (sign kept for odd integer y); infinities follow C99 Annex F. */
double wicas_pow(double x, double y);

/* *s = sin(x), *c = cos(x); both pointers must be non-NULL. Accurate for
 * |x| <= 1.6e6 (see header comment; measured max absolute error 1.6e-16);
 * |x| < 2^-27 gives (x, 1) exactly (so sin(-0) = -0); NaN, inf and
 * |x| >= 2^30 give NaN. */
void wicas_sincos(double x, double *s, double *c);

/* SiLU: x / (1 + wicas_expf(-x)) (one division, after the expf and the add).
 * siluf(-inf) = -0 (special-cased: the formula would give NaN),
 * siluf(+inf) = +inf, siluf(NaN) = NaN. */
float wicas_siluf(float x);

/* tanh in binary32 through binary64: |x| < 0.125 by the odd Taylor series to
 * x^13 (Horner in x^2, then times x), 0.125 <= |x| < 20 as
 * (1 - t) / (1 + t) with t = wicas_exp(-2|x|), |x| >= 20 gives +-1; the
 * sign of x is restored last, the double is rounded to float once.
 * tanhf(NaN) = NaN, tanhf(+-0) = +-0. */
float wicas_tanhf(float x);

/* GELU, tanh approximation (Gemma's GeGLU gate), in binary32 in this order:
 * u = (0.7978845608f * x) * (1 + (0.044715f * x) * x),
 * y = (0.5f * x) * (1 + wicas_tanhf(u)). gelu(+-inf) = +inf / -0. */
float wicas_gelu_tanhf(float x);

/* Array forms: y[i] = wicas_expf(x[i]) / wicas_siluf(x[i]) for i < n, bit for
 * bit (tested over 2^24 inputs), written with selects instead of early
 * returns (clamp, shared core, then pick the special results) so the loop
 * pipelines better than repeated scalar calls. x and y may be the same array (in-place)
 * but must not otherwise overlap. n = 0 does nothing. */
void wicas_expf_n(const float *x, float *y, size_t n);
void wicas_siluf_n(const float *x, float *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_DETMATH_H */
