/* The one list of blocked-product variants built for this target. Tests and
 * benchmarks enumerate it; the first entry is the default. */
#include "mtsrnn/gemm.h"


const mts_gemm_f32_variant mts_gemm_f32_variants[] = {
    {"tiled", "portable C, 4 rows x 4 steps register tiles", mts_gemm_f32_tiled},
    {"reference", "plain C triple loop", mts_gemm_f32_reference},
};

const size_t mts_gemm_f32_variant_count =
    sizeof mts_gemm_f32_variants / sizeof mts_gemm_f32_variants[0];
