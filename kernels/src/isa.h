/* Private: which instruction sets the kernels use, decided here once from
 * the compiler's target macros and the build's options, and read by every
 * file that has code for one (the products in gemm/, their variant tables,
 * the quantiser, the 4-lane scans of simd_f32x4.h). A product is built, and
 * listed in its variant table, exactly where its MTS_HAVE_ macro is defined.
 *
 *   MTS_HAVE_NEON          Arm NEON (aarch64, armv7-a), unless MTS_SIMD_NONE
 *   MTS_HAVE_NEON_SDOT     NEON with the dot-product extension (SDOT): built
 *                          where the target has it (__ARM_FEATURE_DOTPROD),
 *                          or on aarch64 Linux for a run-time choice
 *                          (MTS_ARM_DISPATCH)
 *   MTS_HAVE_HELIUM        Armv8.1-M MVE with floating point (Cortex-M55, M85)
 *   MTS_HAVE_M4F           M-profile single-precision FPU, Thumb-2, no Helium
 *                          (M4F, M7, M33, a scalar M55 build)
 *   MTS_HAVE_DSP           M-profile DSP extension, Thumb-2 (M4, M7, M33, M55)
 *   MTS_HAVE_ARMV6M        Armv6-M (M0, M0+, M1): the "armv6m" int8-wa product
 *   MTS_HAVE_AVX2          x86 AVX2 (the int8-wa product needs no more)
 *   MTS_HAVE_AVX2_FMA      AVX2 and FMA (the float and int8-w products)
 *   MTS_HAVE_AVX512        AVX-512F and VL (the float product; its tail store
 *                          is a 128-bit masked store)
 *   MTS_HAVE_AVX512_I8     AVX2, FMA, AVX-512F, BW and VL (the int8 products)
 *   MTS_HAVE_AVX512_VNNI   the above and AVX-512 VNNI (VPDPBUSD)
 *
 * The 4-lane scan backend (simd_f32x4.h), from the CMake option MTSRNN_SIMD
 * (MTS_SIMD_NONE, MTS_F32X4_GENERIC) and the target:
 *
 *   MTS_F32X4_USE_GENERIC  plain C (MTS_F32X4_GENERIC: tests, any host)
 *   MTS_F32X4_USE_NEON     NEON on aarch64 (armv7 NEON flushes subnormals)
 *   MTS_F32X4_USE_MVE      Helium
 *   none of them           scalar scans (MTS_SIMD_NONE, or no backend)
 *
 * Arm products are decided at compile time (the target's -m flags), except
 * SDOT on aarch64 Linux with GCC or Clang (MTS_ARM_DISPATCH): a plain
 * armv8-a build (a wheel, a distribution's package) still builds the
 * "neon-sdot" int8-wa product, its function compiled for armv8.2-a+dotprod
 * by a target attribute, with `requires` MTS_CPU_DOTPROD, and the kernel's
 * HWCAP_ASIMDDP bit (getauxval) says whether the running CPU has SDOT
 * (Cortex-A55, A75 and later, Neoverse, Apple M) or runs the SMULL + SADALP
 * "neon" product (Cortex-A53, A72: the Raspberry Pi 3 and 4). A build for a
 * dotprod target (-march=armv8.2-a+dotprod) assumes it, as before;
 * -DMTS_ARM_NO_DISPATCH (or another OS) builds SDOT only for such targets.
 * On x86-64 with GCC or Clang every x86 product is built whatever the -m flags
 * (MTS_X86_DISPATCH): each function is compiled for its own instruction set
 * by a target attribute (MTS_TARGET_* in gemm/gemm_x86.h), its table entry
 * names the CPU features it needs (`requires`, mtsrnn/gemm.h), and the
 * running CPU's features (mts_cpu_features, __builtin_cpu_supports) decide
 * which entries run. So one build (a wheel) runs on any x86-64 CPU and uses
 * the widest products it has. Other compilers, or -DMTS_X86_NO_DISPATCH,
 * decide by the compiler's macros (__AVX2__, ...) as on Arm.
 */
#ifndef MTSRNN_ISA_H
#define MTSRNN_ISA_H

/* ---- Arm, A-profile ----------------------------------------------------- */
#if defined(__ARM_NEON) && !defined(MTS_SIMD_NONE)
#define MTS_HAVE_NEON 1
#if defined(__ARM_FEATURE_DOTPROD)
#define MTS_HAVE_NEON_SDOT 1
#elif defined(__aarch64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(MTS_ARM_NO_DISPATCH)
#define MTS_HAVE_NEON_SDOT 1
#define MTS_ARM_DISPATCH 1
#endif
#endif

/* ---- Arm, M-profile ----------------------------------------------------- */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 2)
#define MTS_HAVE_HELIUM 1
#endif

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M' && defined(__thumb2__)
#if defined(__ARM_FP) && (__ARM_FP & 4) && !defined(MTS_HAVE_HELIUM)
#define MTS_HAVE_M4F 1
#endif
#if defined(__ARM_FEATURE_DSP)
#define MTS_HAVE_DSP 1
#endif
#endif
#if defined(__ARM_ARCH_6M__)
#define MTS_HAVE_ARMV6M 1
#endif

/* ---- x86-64 -------------------------------------------------------------- */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(MTS_X86_NO_DISPATCH)
#define MTS_X86_DISPATCH 1
#define MTS_HAVE_AVX2 1
#define MTS_HAVE_AVX2_FMA 1
#define MTS_HAVE_AVX512 1
#define MTS_HAVE_AVX512_I8 1
#define MTS_HAVE_AVX512_VNNI 1
#else
#if defined(__AVX2__)
#define MTS_HAVE_AVX2 1
#if defined(__FMA__)
#define MTS_HAVE_AVX2_FMA 1
#endif
#endif

#if defined(__AVX512F__) && defined(__AVX512VL__)
#define MTS_HAVE_AVX512 1
#endif

#if defined(MTS_HAVE_AVX2_FMA) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512VL__)
#define MTS_HAVE_AVX512_I8 1
#if defined(__AVX512VNNI__)
#define MTS_HAVE_AVX512_VNNI 1
#endif
#endif
#endif /* MTS_X86_DISPATCH */

/* ---- The scans' 4-lane backend ------------------------------------------ */
#if defined(MTS_F32X4_GENERIC)
#define MTS_F32X4_USE_GENERIC 1
#elif defined(MTS_SIMD_NONE)
/* scalar scans */
#elif defined(MTS_HAVE_NEON) && defined(__aarch64__)
#define MTS_F32X4_USE_NEON 1
#elif defined(MTS_HAVE_HELIUM)
#define MTS_F32X4_USE_MVE 1
#endif

/* ---- CPU feature bits ------------------------------------------------------
 * The bits of mts_cpu_features() and of a variant's `requires`
 * (mtsrnn/gemm.h keeps them opaque; mts_cpu_feature_name names them, cpu.c).
 * Bit k is (1u << k); a new feature takes the next bit and a name in cpu.c. */
#define MTS_CPU_AVX2 0x01u
#define MTS_CPU_FMA 0x02u
#define MTS_CPU_AVX512F 0x04u
#define MTS_CPU_AVX512BW 0x08u
#define MTS_CPU_AVX512VL 0x10u
#define MTS_CPU_AVX512VNNI 0x20u
#define MTS_CPU_DOTPROD 0x40u /* Arm SDOT/UDOT (FEAT_DotProd) */

#endif /* MTSRNN_ISA_H */
