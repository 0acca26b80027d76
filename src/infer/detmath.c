/*
 * detmath.c — deterministic exp/log/pow/sincos/silu/tanh/gelu without libm.
 *
 * Why hand-written: libm implementations differ in the last bit between
 * vendors and versions, and validators must agree bit for bit. Everything
 * below is plain IEEE-754 arithmetic in a fixed order (the build uses
 * -ffp-contract=off, so no a*b+c is fused behind our back), range reduction
 * by Cody-Waite splitting and Taylor polynomials in Horner form. The
 * algorithms and constants are documented in detmath.h so SIMD code can
 * replicate wicas_expf exactly. Bit casts go through memcpy (no aliasing UB).
 */
#include "detmath.h"

#include <stdint.h>
#include <string.h>

/* ---- bit helpers ------------------------------------------------------------ */

static inline uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint64_t d2u(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static inline double u2d(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static inline int isnan_f(float x) {
    return (f2u(x) & 0x7fffffffu) > 0x7f800000u;
}
static inline int isnan_d(double x) {
    return (d2u(x) & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}
static inline int isinf_d(double x) {
    return (d2u(x) & 0x7fffffffffffffffull) == 0x7ff0000000000000ull;
}

/* 2^k as a float for k in [-126, 127] (normal range). */
static inline float pow2f(int32_t k) {
    return u2f((uint32_t)(k + 127) << 23);
}
/* 2^k as a double for k in [-1022, 1023]. */
static inline double pow2d(int64_t k) {
    return u2d((uint64_t)(k + 1023) << 52);
}

static inline float inff(void) {
    return u2f(0x7f800000u);
}
static inline double infd(void) {
    return u2d(0x7ff0000000000000ull);
}
static inline double nand(void) {
    return u2d(0x7ff8000000000000ull);
}

/* ============================================================================
 * wicas_expf — see detmath.h for the exact operation sequence.
 * ============================================================================ */

#define EXPF_HI u2f(0x42B17217u) /* 88.7228317...: beyond it e^x > FLT_MAX */
#define EXPF_LO u2f(0xC2CFF1B5u) /* -103.972084...: below it e^x < 2^-150 rounds to 0 */

/* Steps 2-5 of the algorithm for x in [EXPF_LO, EXPF_HI] (not NaN). Shared by
 * the scalar and the array forms so both run the very same operations. */
static inline float expf_core(float x) {
    const float LOG2E = u2f(0x3FB8AA3Bu);  /* 1.44269502f */
    const float ROUND = 12582912.0f;       /* 1.5 * 2^23 */
    const float LN2_HI = u2f(0x3F317200u); /* 0.693145751953125 */
    const float LN2_LO = 1.428606765330187e-06f;

    /* n = nearest integer to x / ln2 (ties to even, via the 1.5*2^23 trick) */
    float t = x * LOG2E;
    float n = (t + ROUND) - ROUND;
    int32_t ni = (int32_t)n;

    /* r = x - n*ln2, in two pieces so the large part is exact */
    float r = (x - n * LN2_HI) - n * LN2_LO;

    /* e^r - 1 by Taylor to degree 7 */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r;
    float y = 1.0f + p;

    /* y * 2^ni in two exact-power steps (ni in [-150, 128]) */
    int32_t n1 = (ni - (ni & 1)) / 2; /* floor(ni / 2), no implementation-defined shift */
    int32_t n2 = ni - n1;
    return (y * pow2f(n1)) * pow2f(n2);
}

float wicas_expf(float x) {
    if (isnan_f(x)) return x;
    if (x > EXPF_HI) return inff();
    if (x < EXPF_LO) return 0.0f;
    return expf_core(x);
}

/* Branch-free form of wicas_expf for arrays: the argument is clamped (NaN
 * replaced by 0) before the shared core, and the special cases are selected
 * afterwards, so every in-range element goes through exactly the operations
 * of wicas_expf and out-of-range ones get the same special results. */
static inline float expf_select(float v) {
    float c = v > EXPF_HI ? EXPF_HI : v;
    c = c < EXPF_LO ? EXPF_LO : c;
    c = v == v ? c : 0.0f;
    float e = expf_core(c);
    e = v > EXPF_HI ? inff() : e;
    e = v < EXPF_LO ? 0.0f : e;
    return v == v ? e : v;
}

void wicas_expf_n(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] = expf_select(x[i]);
}

float wicas_siluf(float x) {
    if (x == -inff()) return -0.0f; /* -inf / inf would be NaN; the limit is -0 */
    return x / (1.0f + wicas_expf(-x));
}

void wicas_siluf_n(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float s = v / (1.0f + expf_select(-v));
        y[i] = v == -inff() ? -0.0f : s;
    }
}

/* ============================================================================
 * wicas_exp — binary64 twin of wicas_expf, polynomial to degree 13.
 * ============================================================================ */

float wicas_tanhf(float x) {
    if (isnan_f(x)) return x;
    const double d = (double)x, a = d < 0 ? -d : d;
    double r;
    if (a >= 20.0) {
        r = 1.0;
    } else if (a < 0.125) {
        /* tanh(a) = a (1 - a^2/3 + 2a^4/15 - 17a^6/315 + 62a^8/2835
         *              - 1382a^10/155925 + 21844a^12/6081075 ...) */
        const double z = a * a;
        double p = 21844.0 / 6081075.0;
        p = p * z - 1382.0 / 155925.0;
        p = p * z + 62.0 / 2835.0;
        p = p * z - 17.0 / 315.0;
        p = p * z + 2.0 / 15.0;
        p = p * z - 1.0 / 3.0;
        p = p * z + 1.0;
        r = a * p;
    } else {
        const double t = wicas_exp(-2.0 * a);
        r = (1.0 - t) / (1.0 + t);
    }
    return (float)(d < 0 ? -r : r);
}

float wicas_gelu_tanhf(float x) {
    if (isnan_f(x)) return x;
    if (x == inff()) return x;
    if (x == -inff()) return -0.0f;
    const float u = (0.7978845608f * x) * (1.0f + (0.044715f * x) * x);
    return (0.5f * x) * (1.0f + wicas_tanhf(u));
}

double wicas_exp(double x) {
    if (isnan_d(x)) return x;
    if (x > 709.782712893383973096) return infd(); /* ln(DBL_MAX) */
    if (x < -745.1332191019412076235) return 0.0;  /* ln(2^-1075) */

    const double LOG2E = 1.44269504088896338700e+00;
    const double ROUND = 6755399441055744.0;          /* 1.5 * 2^52 */
    const double LN2_HI = u2d(0x3FE62E42FEE00000ull); /* 6.93147180369123816490e-01 */
    const double LN2_LO = 1.90821492927058770002e-10;

    double t = x * LOG2E;
    double n = (t + ROUND) - ROUND;
    int64_t ni = (int64_t)n;
    double r = (x - n * LN2_HI) - n * LN2_LO;

    /* 1/k! for k = 13 down to 2 */
    static const double C[12] = {
        1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
        1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
        1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5,
    };
    double p = C[0];
    for (int i = 1; i < 12; i++)
        p = p * r + C[i];
    p = p * r + 1.0;
    p = p * r;
    double y = 1.0 + p;

    int64_t n1 = (ni - (ni & 1)) / 2; /* floor(ni / 2) */
    int64_t n2 = ni - n1;
    return (y * pow2d(n1)) * pow2d(n2);
}

/* ============================================================================
 * wicas_ln — x = m*2^e, log(m) = 2 atanh((m-1)/(m+1)).
 * ============================================================================ */

double wicas_ln(double x) {
    if (isnan_d(x)) return x;
    if (x == 0.0) return -infd();
    if (x < 0.0) return nand();
    if (isinf_d(x)) return x;

    const double LN2_HI = u2d(0x3FE62E42FEE00000ull);
    const double LN2_LO = 1.90821492927058770002e-10;

    uint64_t u = d2u(x);
    int64_t e = 0;
    if ((u >> 52) == 0) { /* subnormal: scale up by 2^54 */
        x = x * 18014398509481984.0;
        u = d2u(x);
        e = -54;
    }
    e += (int64_t)(u >> 52) - 1023;
    /* m in [1, 2) */
    double m = u2d((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    if (m > 1.41421356237309504880) { /* bring m into [sqrt(1/2), sqrt(2)) */
        m = m * 0.5;
        e += 1;
    }
    double f = m - 1.0; /* exact (Sterbenz) */
    double s = f / (2.0 + f);
    double s2 = s * s;
    /* sum_{k=0..11} s^(2k) / (2k+1), Horner from the top */
    double q = 1.0 / 23.0;
    for (int k = 10; k >= 1; k--)
        q = q * s2 + 1.0 / (double)(2 * k + 1);
    /* log(m) = 2s * (1 + s2*q); the leading 2s is kept apart from the small
     * correction so it is not rounded together with it. */
    double logm = 2.0 * s + 2.0 * s * (s2 * q);
    double de = (double)e;
    return de * LN2_HI + (logm + de * LN2_LO);
}

/* ============================================================================
 * wicas_pow
 * ============================================================================ */

/* 1 if y is an integer, 2 if it is an odd integer, 0 otherwise (y finite). */
static int int_kind(double y) {
    double a = y < 0 ? -y : y;
    if (a >= 9007199254740992.0) return 1;                    /* 2^53 and beyond: even integers */
    double t = (a + 4503599627370496.0) - 4503599627370496.0; /* round to integer */
    if (t > a) t = t - 1.0;                                   /* floor */
    if (t != a) return 0;
    double h = t * 0.5;
    double hf = (h + 4503599627370496.0) - 4503599627370496.0;
    if (hf > h) hf = hf - 1.0;
    return hf == h ? 1 : 2;
}

double wicas_pow(double x, double y) {
    if (y == 0.0) return 1.0;
    if (x == 1.0) return 1.0;
    if (isnan_d(x) || isnan_d(y)) return nand();
    int yk = isinf_d(y) ? 1 : int_kind(y);
    double ax = x < 0 ? -x : x;
    if (isinf_d(y)) {
        if (ax == 1.0) return 1.0; /* (-1)^inf = 1 */
        if ((ax > 1.0) == (y > 0)) return infd();
        return 0.0;
    }
    if (x == 0.0) {
        int neg = (d2u(x) >> 63) && yk == 2;
        if (y < 0) return neg ? -infd() : infd();
        return neg ? -0.0 : 0.0;
    }
    if (isinf_d(x)) {
        int neg = x < 0 && yk == 2;
        double r = y > 0 ? infd() : 0.0;
        return neg ? -r : r;
    }
    if (x < 0 && yk == 0) return nand();
    /* small integer powers by binary exponentiation: exact whenever the
     * result is representable (2^10, (-2)^3), else a few ulp */
    if (yk != 0 && y <= 64.0 && y >= -64.0) {
        uint32_t k = (uint32_t)(y < 0 ? -y : y);
        double base = x, acc = 1.0;
        while (k) {
            if (k & 1u) acc = acc * base;
            base = base * base;
            k >>= 1;
        }
        return y < 0 ? 1.0 / acc : acc;
    }
    double r = wicas_exp(y * wicas_ln(ax));
    return (x < 0 && yk == 2) ? -r : r;
}

/* ============================================================================
 * wicas_sincos — reduce by pi/2 (three-part constant), Taylor kernels.
 * ============================================================================ */

/* sin(r), cos(r) for |r| <= pi/4 (a little more is fine). */
static double sin_kernel(double r) {
    double r2 = r * r;
    /* r - r^3/3! + ... - r^15/15! + r^17/17!: coefficients (-1)^k / (2k+1)! */
    static const double S[8] = {
        1.0 / 355687428096000.0, /* 1/17! */
        -1.0 / 1307674368000.0,  /* -1/15! */
        1.0 / 6227020800.0,      /* 1/13! */
        -1.0 / 39916800.0,       /* -1/11! */
        1.0 / 362880.0,          /* 1/9! */
        -1.0 / 5040.0,           /* -1/7! */
        1.0 / 120.0,             /* 1/5! */
        -1.0 / 6.0,              /* -1/3! */
    };
    double p = S[0];
    for (int i = 1; i < 8; i++)
        p = p * r2 + S[i];
    return r + r * (r2 * p);
}

static double cos_kernel(double r) {
    double r2 = r * r;
    static const double Cc[9] = {
        1.0 / 6402373705728000.0, /* 1/18! */
        -1.0 / 20922789888000.0,  /* -1/16! */
        1.0 / 87178291200.0,      /* 1/14! */
        -1.0 / 479001600.0,       /* -1/12! */
        1.0 / 3628800.0,          /* 1/10! */
        -1.0 / 40320.0,           /* -1/8! */
        1.0 / 720.0,              /* 1/6! */
        -1.0 / 24.0,              /* -1/4! */
        0.5,                      /* 1/2! (subtracted below) */
    };
    double p = Cc[0];
    for (int i = 1; i < 9; i++)
        p = p * r2 + Cc[i];
    /* Horner gives p = 1/2! - r2/4! + r2^2/6! - ... + r2^8/18! (signs flip at
     * each step because the table alternates), so cos r = 1 - r2 * p. */
    return 1.0 - r2 * p;
}

void wicas_sincos(double x, double *s, double *c) {
    if (isnan_d(x) || isinf_d(x) || !(x < 1073741824.0 && x > -1073741824.0)) {
        *s = nand();
        *c = nand();
        return;
    }
    /* tiny |x| (and +-0, keeping its sign): sin x = x, cos x = 1 to within half
     * an ulp, since x^2/6 < 2^-55 */
    if (x < 7.450580596923828125e-09 && x > -7.450580596923828125e-09) { /* 2^-27 */
        *s = x;
        *c = 1.0;
        return;
    }
    /* fdlibm's split of pi/2: 33 bits, next 33 bits, then the rest */
    const double INVPIO2 = 6.36619772367581382433e-01;
    const double PIO2_1 = 1.57079632673412561417e+00;
    const double PIO2_2 = 6.07710050630396597660e-11;
    const double PIO2_3 = 2.02226624871116645580e-21;
    const double PIO2_3T = 8.47842766036889956997e-32;
    const double ROUND = 6755399441055744.0;

    double k = (x * INVPIO2 + ROUND) - ROUND;
    double r = x - k * PIO2_1; /* exact while |k| < 2^20 */
    double w = k * PIO2_2;     /* exact while |k| < 2^20 */
    double t = r;
    r = t - w;
    /* error of the subtraction, then the next part */
    double e1 = (t - r) - w;
    w = k * PIO2_3;
    t = r;
    r = t - w;
    double e2 = (t - r) - w;
    r = r + (e1 + e2 - k * PIO2_3T);

    int64_t q = (int64_t)k;
    double sr = sin_kernel(r), cr = cos_kernel(r);
    switch ((int)(q & 3)) {
    case 0:
        *s = sr;
        *c = cr;
        break;
    case 1:
        *s = cr;
        *c = -sr;
        break;
    case 2:
        *s = -sr;
        *c = -cr;
        break;
    default:
        *s = -cr;
        *c = sr;
        break;
    }
}
