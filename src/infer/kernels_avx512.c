/*
 * kernels_avx512.c — the AVX-512 (VL + VNNI) kernel set: the AVX2 kernels
 * recompiled with vpdpbusd for the u8 x s8 block products (one instruction
 * instead of two, the same exact int32 sums), so the float work, and hence
 * every result bit, is that of the scalar and AVX2 paths.
 */
#define KERNEL_VNNI 1
#define KERNEL_NAME "avx512"
#define KERNEL_SET wicas_kernels_avx512
#define KFN(x) x##_avx512
#include "kernels_avx2.c"
