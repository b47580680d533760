/* The one list of blocked-product variants built for this target, fastest
 * first. Tests and benchmarks enumerate it; the first entry the running CPU
 * supports (`requires`, mts_cpu_supports) is the default. */
#include "gemm_isa.h"

const mts_gemm_f32_variant mts_gemm_f32_variants[] = {
#if defined(MTS_HAVE_NEON)
#if defined(__aarch64__)
    {"neon", "NEON intrinsics, 4 rows x 5 steps register tiles (29 of 32 q registers)",
     mtsi_gemm_f32_neon, 0},
#else
    {"neon", "NEON intrinsics, 4 rows x 2 steps register tiles (8 of 16 q registers)",
     mtsi_gemm_f32_neon, 0},
#endif
#endif
#if defined(MTS_HAVE_HELIUM)
    {"helium", "Helium (MVE-F), 8 rows x 2 steps (12 x 1 for T = 1), rows in the lanes: "
               "gather + VFMA by scalar", mtsi_gemm_f32_helium, 0},
#endif
#if defined(MTS_HAVE_M4F)
    {"m4f", "Cortex-M FPU, 4 rows x 4 steps in 32 registers, VLDM loads", mtsi_gemm_f32_m4f, 0},
    {"m4f-wstat", "Cortex-M FPU, 4 rows x 5 inputs of W in registers over every step "
     "of the block (each weight read once per block), sums in Y", mtsi_gemm_f32_m4f_wstat, 0},
#endif
#if defined(MTS_HAVE_AVX512)
    {"avx512", "AVX-512 intrinsics, 6 rows x 4 steps zmm tiles (8 x 1 for T = 1)",
     mtsi_gemm_f32_avx512, MTS_REQUIRES_AVX512},
#endif
#if defined(MTS_HAVE_AVX2_FMA)
    {"avx2", "AVX2+FMA intrinsics, 4 rows x 3 steps ymm tiles (8 x 1 for T = 1)",
     mtsi_gemm_f32_avx2, MTS_REQUIRES_AVX2},
#endif
#if defined(MTS_GEMM_TILE_ROWS) && MTS_GEMM_TILE_ROWS == 2 && MTS_GEMM_TILE_STEPS == 2
    /* The M55 firmware's tile (gemm_tiled.c, firmware/boards/CMakeLists.txt). */
    {"tiled", "portable C, 2 rows x 2 steps register tiles", mtsi_gemm_f32_tiled, 0},
#else
    {"tiled", "portable C, 4 rows x 4 steps register tiles", mtsi_gemm_f32_tiled, 0},
#endif
    {"reference", "plain C triple loop", mts_gemm_f32_reference, 0},
};

const size_t mts_gemm_f32_variant_count =
    sizeof mts_gemm_f32_variants / sizeof mts_gemm_f32_variants[0];
