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

#endif
