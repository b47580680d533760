/* The lists of int8 product variants built for this target (the int8
 * counterpart of gemm_variants.c). Tests enumerate them; the first entry is
 * the default. Instruction-set variants go above "tiled" behind their
 * MTS_HAVE_ macros (../isa.h): on the Cortex-M55 the "helium" variants
 * (gemm_i8_helium.c) come first; on Cortex-M cores "dsp" for int8-wa
 * (gemm_i8_dsp.c, SMLAD: M4F, M7, M33, and after "helium" on the M55), on
 * Armv6-M (M0, M0+) "armv6m" for int8-wa (gemm_i8_armv6m.c), and
 * "m4f" for int8-w (gemm_i8_m4f.c, like the float "m4f"), each beating
 * "tiled" in instructions per multiply-add on the M4F model
 * (docs/quantization.md); on x86-64, gemm_i8_x86.c's "avx512-vnni"
 * (int8-wa), "avx512" and "avx2", each with the CPU features it requires:
 * the first entry the running CPU supports is the default (../isa.h). */
#include "gemm_isa.h"

const mts_gemm_i8f32_variant mts_gemm_i8f32_variants[] = {
#if defined(MTS_HAVE_HELIUM)
    {"helium", "Helium, 1 row x 6 steps (4 x 1 for T = 1), int8 widened to float32, 4-lane VFMA",
     mtsi_gemm_i8f32_helium, 0},
#endif
#if defined(MTS_HAVE_NEON)
#if defined(__aarch64__)
    {"neon", "NEON, 4 rows x 3 steps, int8 widened to float32, 4-lane FMA", mtsi_gemm_i8f32_neon, 0},
#else
    {"neon", "NEON, 4 rows x 2 steps, int8 widened to float32, 4-lane multiply-add",
     mtsi_gemm_i8f32_neon, 0},
#endif
#endif
#if defined(MTS_HAVE_M4F)
    {"m4f", "Cortex-M FPU, 4 rows x 4 steps in 32 registers, int8 converted by VCVT",
     mtsi_gemm_i8f32_m4f, 0},
#endif
#if defined(MTS_HAVE_AVX512_I8)
    {"avx512", "AVX-512, 6 rows x 4 steps (8 x 1 for T = 1), int8 widened to float32, "
     "16-lane FMA", mtsi_gemm_i8f32_avx512, MTS_REQUIRES_AVX512_I8},
#endif
#if defined(MTS_HAVE_AVX2_FMA)
    {"avx2", "AVX2, 4 rows x 3 steps (8 x 1 for T = 1), int8 widened to float32, 8-lane FMA",
     mtsi_gemm_i8f32_avx2, MTS_REQUIRES_AVX2},
#endif
    {"tiled", "portable C, 4 rows x 4 steps tiles, 8 float lanes", mtsi_gemm_i8f32_tiled, 0},
    {"reference", "plain C loops, float32 sums in input order", mts_gemm_i8f32_reference, 0},
};

const size_t mts_gemm_i8f32_variant_count =
    sizeof mts_gemm_i8f32_variants / sizeof mts_gemm_i8f32_variants[0];

const mts_gemm_i8i8_variant mts_gemm_i8i8_variants[] = {
#if defined(MTS_HAVE_HELIUM)
    {"helium", "Helium VMLADAVA.S8, 3 rows x 2 steps (4 x 1 for T = 1) of int32 accumulators",
     mtsi_gemm_i8i8_helium, 0},
#endif
#if defined(MTS_HAVE_NEON)
#if defined(MTS_HAVE_NEON_SDOT)
    {"neon-sdot", "NEON SDOT, 4 rows x 5 steps of int32 accumulators", mtsi_gemm_i8i8_neon_sdot,
     MTS_REQUIRES_DOTPROD},
#endif
#if defined(__aarch64__)
    {"neon", "NEON SMULL + SADALP, 4 rows x 3 steps of int32 accumulators", mtsi_gemm_i8i8_neon, 0},
#else
    {"neon", "NEON VMULL + VPADAL, 4 rows x 2 steps of int32 accumulators", mtsi_gemm_i8i8_neon, 0},
#endif
#endif
#if defined(MTS_HAVE_DSP)
    {"dsp", "Cortex-M DSP SMLAD on SXTB16 pairs, 1 row x 6 steps (3 x 1 for T = 1)",
     mtsi_gemm_i8i8_dsp, 0},
#endif
#if defined(MTS_HAVE_ARMV6M)
    {"armv6m", "Armv6-M, 1 row x 3 steps of int32 accumulators, inputs widened once per "
     "32-input panel (2 rows x 1 step for T = 1)", mtsi_gemm_i8i8_armv6m, 0},
#endif
#if defined(MTS_HAVE_AVX512_VNNI)
    {"avx512-vnni", "AVX-512 VNNI VPDPBUSD, 6 rows x 4 steps (8 x 1 for T = 1) of int32 "
     "accumulators", mtsi_gemm_i8i8_avx512_vnni, MTS_REQUIRES_AVX512_VNNI},
#endif
#if defined(MTS_HAVE_AVX512_I8)
    {"avx512", "AVX-512BW VPMOVSXBW + VPMADDWD, 6 rows x 4 steps (8 x 1 for T = 1) of int32 "
     "accumulators", mtsi_gemm_i8i8_avx512, MTS_REQUIRES_AVX512_I8},
#endif
#if defined(MTS_HAVE_AVX2)
    {"avx2", "AVX2 VPMOVSXBW + VPMADDWD, 4 rows x 3 steps (8 x 1 for T = 1) of int32 "
     "accumulators", mtsi_gemm_i8i8_avx2, MTS_REQUIRES_AVX2},
#endif
#if defined(MTS_I8I8_TILE_ROWS) && MTS_I8I8_TILE_ROWS == 3 && MTS_I8I8_TILE_STEPS == 2
    /* The Thumb-2 firmware's tile (gemm_i8_tiled.c, firmware/boards/CMakeLists.txt). */
    {"tiled", "portable C, 3 rows x 2 steps (4 x 1 for T = 1) of int32 accumulators",
     mtsi_gemm_i8i8_tiled, 0},
#elif defined(MTS_I8I8_TILE_ROWS) && MTS_I8I8_TILE_ROWS == 2 && MTS_I8I8_TILE_STEPS == 2
    /* The M55 firmware's tile. */
    {"tiled", "portable C, 2 rows x 2 steps (4 x 1 for T = 1) of int32 accumulators",
     mtsi_gemm_i8i8_tiled, 0},
#else
    {"tiled", "portable C, 4 rows x 4 steps of int32 accumulators", mtsi_gemm_i8i8_tiled, 0},
#endif
    {"reference", "plain C loops, int32 sums", mts_gemm_i8i8_reference, 0},
};

const size_t mts_gemm_i8i8_variant_count =
    sizeof mts_gemm_i8i8_variants / sizeof mts_gemm_i8i8_variants[0];
