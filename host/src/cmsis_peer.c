#include "cmsis_peer.h"

#ifdef MTSRNN_HAVE_CMSISDSP
#include "arm_math.h"

/* The per-step baseline: CMSIS-DSP's matrix-vector product, one call per
 * time step, Y[t] = W X[t]. Run through the model driver at block size 1 it
 * gives the same scan, the same weights and the same data path as the
 * blocked kernels; only the product differs. CMSIS matrices hold at most
 * 65535 rows or columns (uint16_t), so taller products are cut into slabs
 * (the kernels' weights are dense, w_stride == depth; a padded W is
 * multiplied row by row) and depth must be at most 65535, which
 * mtsrnn.bench.peers checks before it runs a model this way. */
static void cmsis_matvec_product(size_t rows, size_t depth, size_t steps,
                                 const float *w, size_t w_stride,
                                 const float *x, size_t x_stride,
                                 float *y, size_t y_stride)
{
    const size_t slab = w_stride == depth ? 65535u : 1u;
    for (size_t t = 0; t < steps; t++) {
        for (size_t r = 0; r < rows; r += slab) {
            const size_t here = rows - r < slab ? rows - r : slab;
            arm_matrix_instance_f32 matrix;
            arm_mat_init_f32(&matrix, (uint16_t)here, (uint16_t)depth,
                             (float32_t *)(w + r * w_stride));
            arm_mat_vec_mult_f32(&matrix, x + t * x_stride, y + t * y_stride + r);
        }
    }
}
#endif

const mts_gemm_f32_variant mts_host_gemm_variants[] = {
#ifdef MTSRNN_HAVE_CMSISDSP
    {"cmsis-matvec", "CMSIS-DSP arm_mat_vec_mult_f32, one call per time step",
     cmsis_matvec_product, 0},
#endif
    {NULL, NULL, NULL, 0},
};

const size_t mts_host_gemm_variant_count =
    sizeof mts_host_gemm_variants / sizeof mts_host_gemm_variants[0] - 1;
