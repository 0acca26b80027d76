/*
 * detmath_o0.c — a second copy of src/infer/detmath.c with every public name
 * given an _o0 suffix; CMake compiles this file at -O0 (the test binary and
 * the real detmath.c are at the build type's level, -O2 in Release) so one
 * test can compare the two bit for bit.
 */
#define wicas_expf wicas_expf_o0
#define wicas_exp wicas_exp_o0
#define wicas_ln wicas_ln_o0
#define wicas_pow wicas_pow_o0
#define wicas_sincos wicas_sincos_o0
#define wicas_siluf wicas_siluf_o0
#define wicas_expf_n wicas_expf_n_o0
#define wicas_siluf_n wicas_siluf_n_o0
#define wicas_tanhf wicas_tanhf_o0
#define wicas_gelu_tanhf wicas_gelu_tanhf_o0
#include "detmath.c"
