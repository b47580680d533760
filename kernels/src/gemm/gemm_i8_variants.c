/* The lists of int8 product variants built for this target (the int8
 * counterpart of gemm_variants.c). Tests enumerate them; the first entry is
 * the default. SIMD variants (M4 DSP SMLAD, Helium VMLADAV, NEON SDOT) go
 * above "tiled" behind their target macros; on Helium targets (Cortex-M55,
 * MTS_GEMM_HAVE_HELIUM) the "helium" variants of gemm_i8_helium.c come first.
 * gemm_i8_m4dsp.c adds, on Cortex-M cores, "dsp" for int8-wa (SMLAD, where
 * MTS_GEMM_HAVE_M4DSP: M4F, M7, M33, and after "helium" on the M55) and
 * "m4f" for int8-w (where MTS_GEMM_HAVE_M4F, like the float "m4f"); each
 * beats "tiled" in instructions per multiply-add on the M4F model
 * (docs/quantization.md). On x86-64, gemm_i8_x86.c adds "avx512-vnni"
 * (int8-wa), "avx512" and "avx2" where their instruction sets are enabled
 * at compile time (-march=native on the host build). */
#include "mtsrnn/gemm.h"

const mts_gemm_i8f32_variant mts_gemm_i8f32_variants[] = {
#if defined(MTS_GEMM_HAVE_HELIUM)
    {"helium", "Helium, 1 row x 6 steps (4 x 1 for T = 1), int8 widened to float32, 4-lane VFMA",
     mts_gemm_i8f32_helium},
#endif
#if defined(__ARM_NEON) && !defined(MTS_SIMD_NONE)
#if defined(__aarch64__)
    {"neon", "NEON, 4 rows x 3 steps, int8 widened to float32, 4-lane FMA", mts_gemm_i8f32_neon},
#else
    {"neon", "NEON, 4 rows x 2 steps, int8 widened to float32, 4-lane multiply-add",
     mts_gemm_i8f32_neon},
#endif
#endif
#if defined(MTS_GEMM_HAVE_M4F)
    {"m4f", "Cortex-M FPU, 4 rows x 4 steps in 32 registers, int8 converted by VCVT",
     mts_gemm_i8f32_m4f},
#endif
#if defined(MTS_GEMM_HAVE_AVX512_I8)
    {"avx512", "AVX-512, 6 rows x 4 steps (8 x 1 for T = 1), int8 widened to float32, "
     "16-lane FMA", mts_gemm_i8f32_avx512},
#endif
#if defined(__AVX2__) && defined(__FMA__)
    {"avx2", "AVX2, 4 rows x 3 steps (8 x 1 for T = 1), int8 widened to float32, 8-lane FMA",
     mts_gemm_i8f32_avx2},
#endif
    {"tiled", "portable C, 4 rows x 4 steps tiles, 8 float lanes", mts_gemm_i8f32_tiled},
    {"reference", "plain C loops, float32 sums in input order", mts_gemm_i8f32_reference},
};

const size_t mts_gemm_i8f32_variant_count =
    sizeof mts_gemm_i8f32_variants / sizeof mts_gemm_i8f32_variants[0];

const mts_gemm_i8i8_variant mts_gemm_i8i8_variants[] = {
#if defined(MTS_GEMM_HAVE_HELIUM)
    {"helium", "Helium VMLADAVA.S8, 3 rows x 2 steps (4 x 1 for T = 1) of int32 accumulators",
     mts_gemm_i8i8_helium},
#endif
#if defined(__ARM_NEON) && !defined(MTS_SIMD_NONE)
#if defined(__ARM_FEATURE_DOTPROD)
    {"neon-sdot", "NEON SDOT, 4 rows x 5 steps of int32 accumulators", mts_gemm_i8i8_neon_sdot},
#endif
#if defined(__aarch64__)
    {"neon", "NEON SMULL + SADALP, 4 rows x 3 steps of int32 accumulators", mts_gemm_i8i8_neon},
#else
    {"neon", "NEON VMULL + VPADAL, 4 rows x 2 steps of int32 accumulators", mts_gemm_i8i8_neon},
#endif
#endif
#if defined(MTS_GEMM_HAVE_M4DSP)
    {"dsp", "Cortex-M DSP SMLAD on SXTB16 pairs, 1 row x 6 steps (3 x 1 for T = 1)",
     mts_gemm_i8i8_dsp},
#endif
#if defined(MTS_GEMM_HAVE_AVX512_I8) && defined(__AVX512VNNI__)
    {"avx512-vnni", "AVX-512 VNNI VPDPBUSD, 6 rows x 4 steps (8 x 1 for T = 1) of int32 "
     "accumulators", mts_gemm_i8i8_avx512_vnni},
#endif
#if defined(MTS_GEMM_HAVE_AVX512_I8)
    {"avx512", "AVX-512BW VPMOVSXBW + VPMADDWD, 6 rows x 4 steps (8 x 1 for T = 1) of int32 "
     "accumulators", mts_gemm_i8i8_avx512},
#endif
#if defined(__AVX2__)
    {"avx2", "AVX2 VPMOVSXBW + VPMADDWD, 4 rows x 3 steps (8 x 1 for T = 1) of int32 "
     "accumulators", mts_gemm_i8i8_avx2},
#endif
    {"tiled", "portable C, 4 rows x 4 steps of int32 accumulators", mts_gemm_i8i8_tiled},
    {"reference", "plain C loops, int32 sums", mts_gemm_i8i8_reference},
};

const size_t mts_gemm_i8i8_variant_count =
    sizeof mts_gemm_i8i8_variants / sizeof mts_gemm_i8i8_variants[0];
