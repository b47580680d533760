/* The lists of int8 product variants built for this target (the int8
 * counterpart of gemm_variants.c). Tests enumerate them; the first entry is
 * the default. SIMD variants (M4 DSP SMLAD, Helium VMLADAV, NEON SDOT) go
 * above "tiled" behind their target macros. */
#include "mtsrnn/gemm.h"

const mts_gemm_i8f32_variant mts_gemm_i8f32_variants[] = {
    {"tiled", "portable C, 4 rows x 4 steps tiles, 8 float lanes", mts_gemm_i8f32_tiled},
    {"reference", "plain C loops, float32 sums in input order", mts_gemm_i8f32_reference},
};

const size_t mts_gemm_i8f32_variant_count =
    sizeof mts_gemm_i8f32_variants / sizeof mts_gemm_i8f32_variants[0];

const mts_gemm_i8i8_variant mts_gemm_i8i8_variants[] = {
    {"tiled", "portable C, 4 rows x 4 steps of int32 accumulators", mts_gemm_i8i8_tiled},
    {"reference", "plain C loops, int32 sums", mts_gemm_i8i8_reference},
};

const size_t mts_gemm_i8i8_variant_count =
    sizeof mts_gemm_i8i8_variants / sizeof mts_gemm_i8i8_variants[0];
