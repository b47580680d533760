/* The part of CMSIS-Core's cmsis_compiler.h that CMSIS-DSP's matrix-vector
 * product needs, for GCC (the pinned cmsisdsp sdist ships CMSIS-DSP but not
 * CMSIS-Core). Used only to compile the CMSIS-DSP baseline
 * (cmsis_baseline.c); the project's own code never includes it. */
#ifndef MTSRNN_CMSIS_COMPILER_SHIM_H
#define MTSRNN_CMSIS_COMPILER_SHIM_H

#include <stdint.h>

#ifndef __ASM
#define __ASM __asm
#endif
#ifndef __INLINE
#define __INLINE inline
#endif
#ifndef __STATIC_INLINE
#define __STATIC_INLINE static inline
#endif
#ifndef __STATIC_FORCEINLINE
#define __STATIC_FORCEINLINE __attribute__((always_inline)) static inline
#endif
#ifndef __WEAK
#define __WEAK __attribute__((weak))
#endif
#ifndef __PACKED
#define __PACKED __attribute__((packed, aligned(1)))
#endif
#ifndef __ALIGNED
#define __ALIGNED(x) __attribute__((aligned(x)))
#endif
#ifndef __RESTRICT
#define __RESTRICT __restrict
#endif

/* Count leading zeros (CMSIS-Core: 32 for 0). */
__STATIC_FORCEINLINE uint8_t __CLZ(uint32_t value)
{
    return value == 0u ? 32u : (uint8_t)__builtin_clz(value);
}

/* What CMSIS-DSP's arm_mat_vec_mult_q7 needs beyond that (the bench-only
 * peer "cmsis-dsp-q7"): saturation to `bits` signed bits and a rotation,
 * for every core; on cores with the DSP extension its two SIMD
 * instructions, through GCC's ACLE intrinsics (on the others CMSIS-DSP's
 * dsp/none.h defines them in C). */
#define __SSAT(value, bits) mts_shim_ssat((int32_t)(value), (bits))
__STATIC_FORCEINLINE int32_t mts_shim_ssat(int32_t value, uint32_t bits)
{
    const int32_t high = (int32_t)((1u << (bits - 1u)) - 1u);
    const int32_t low = -1 - high;
    return value > high ? high : value < low ? low : value;
}

__STATIC_FORCEINLINE uint32_t __ROR(uint32_t value, uint32_t shift)
{
    shift &= 31u;
    return shift == 0u ? value : (value >> shift) | (value << (32u - shift));
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP == 1
#include <arm_acle.h>
#define __SMLAD(a, b, accumulator) \
    ((uint32_t)__smlad((int16x2_t)(a), (int16x2_t)(b), (int32_t)(accumulator)))
#define __SXTB16(value) ((uint32_t)__sxtb16((int8x4_t)(value)))
#endif

#endif
