/* Shared by the x86 intrinsics variants (gemm_avx512.c, gemm_avx2.c). */
#ifndef MTSRNN_GEMM_X86_H
#define MTSRNN_GEMM_X86_H

#include <stddef.h>

#include "../compiler.h"

/* The loops over a tile's rows and steps must be unrolled completely for
 * its accumulators to stay in registers; -O2 alone does not unroll them. */
#if defined(__clang__)
#define MTS_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define MTS_UNROLL _Pragma("GCC unroll 8")
#else
#define MTS_UNROLL
#endif

/* GCC folds a vector load that several multiply-adds use into each of them
 * as a memory operand, so a weight vector shared by a tile's steps was read
 * once per step: 28 loads per 24 FMAs in the 6 x 4 AVX-512 tile, which made
 * the loads, not the FMAs, the limit. An empty asm statement claiming to
 * change the register keeps the value loaded once, in a register. */
#if defined(__GNUC__) || defined(__clang__)
#define MTS_IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define MTS_IN_REGISTER(v) ((void)0)
#endif

/* Weight floats (32 MiB) from which on a product prefetches the next row
 * group: larger weights come from DRAM, where the prefetch pays; smaller
 * ones may stay in a last-level cache, where it only costs. */
#ifndef MTS_X86_PREFETCH_FLOATS
#define MTS_X86_PREFETCH_FLOATS ((size_t)8 << 20)
#endif

#endif /* MTSRNN_GEMM_X86_H */
