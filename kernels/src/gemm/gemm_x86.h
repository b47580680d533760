/* Shared by the x86 intrinsics variants (gemm_avx512.c, gemm_avx2.c). */
#ifndef MTSRNN_GEMM_X86_H
#define MTSRNN_GEMM_X86_H

#include <stddef.h>

#include "../compiler.h"
#include "../isa.h"

/* Each x86 function is compiled for its product's instruction set (isa.h):
 * with run-time dispatch by a target attribute, whatever the build's -m
 * flags, so the rest of the kernels stay baseline x86-64 and a product's
 * code runs only where its table entry's `requires` (gemm_isa.h's
 * MTS_REQUIRES_*, the same sets) holds; otherwise by the build's flags.
 * Always-inline helpers carry the smallest set they need (a function
 * inlines only into callers whose set contains its own). */
#if defined(MTS_X86_DISPATCH)
#define MTS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MTS_TARGET_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl")))
#define MTS_TARGET_AVX512_I8 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
#define MTS_TARGET_AVX512_VNNI \
    __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define MTS_TARGET_AVX2
#define MTS_TARGET_AVX512
#define MTS_TARGET_AVX512_I8
#define MTS_TARGET_AVX512_VNNI
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

#if defined(MTS_HAVE_AVX2)
#include <immintrin.h>

/* Sum each of a, b, c, d over its 8 lanes in one fixed tree,
 * ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), into the four floats of
 * the result, in that order (gemm_avx2.c, gemm_i8_x86.c). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 __m128 mts_x86_reduce4_ps(__m256 a, __m256 b, __m256 c, __m256 d)
{
    /* Per 128-bit half: {a0+a1, a2+a3, b0+b1, b2+b3}, then
     * {(a0+a1)+(a2+a3), (b..), (c..), (d..)}; the halves hold lanes 0-3 and
     * 4-7, added last. */
    const __m256 quads = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(quads), _mm256_extractf128_ps(quads, 1));
}

/* Lanes [0, count) set, for masked loads and stores (count <= 8). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 __m256i mts_x86_lane_mask(size_t count)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif /* MTS_HAVE_AVX2 */

#endif /* MTSRNN_GEMM_X86_H */
