/* The peer baseline: CMSIS-DSP's matrix-vector product, one call per time
 * step, behind the kernels' product signature (mtsrnn/gemm.h):
 *
 *   for t < steps:  Y[t][0:rows] = arm_mat_vec_mult_f32(W, X[t])
 *
 * i.e. Y[t][r] = sum_i W[r][i] * X[t][i] in CMSIS-DSP's own summation order
 * (sequential in the M4F build, 4 lanes added across in the Helium build).
 * This is what firmware without multi-time-step blocking does: every time
 * step streams all the weights once. It lives in the firmware because the
 * kernels do not depend on CMSIS.
 *
 * CMSIS-DSP's matrix has no row stride and 16-bit sizes. The drivers pass
 * w_stride = depth, so normally one call covers up to 65535 rows; a strided
 * matrix or a depth above 65535 goes one row at a time, in pieces of at most
 * 65535 inputs whose results are added.
 *
 * CMSIS-DSP 1.10.3's Helium code finishes a depth that is not a multiple of
 * 4 with unpredicated loads of the matrix: up to 3 floats past each row
 * (multiplied by zeroed inputs). Within the matrix that is the next row; for
 * its last row it would be past the array, so that row is summed here in C
 * instead (in input order). */
#include "cmsis_baseline.h"

#include <stdint.h>

#include "arm_math.h"

#define CMSIS_MAX_DIM 65535u

static void cmsis_matvec(size_t rows, size_t depth, const float *w, const float *x, float *y)
{
    arm_matrix_instance_f32 matrix;
    /* CMSIS-DSP takes a non-const pointer but only reads the matrix. */
    arm_mat_init_f32(&matrix, (uint16_t)rows, (uint16_t)depth, (float32_t *)(uintptr_t)w);
    arm_mat_vec_mult_f32(&matrix, x, y);
}

void mts_fw_cmsis_matvec(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride)
{
#if defined(ARM_MATH_MVEF)
    const size_t cmsis_rows = depth % 4u != 0u ? rows - 1u : rows;
#else
    const size_t cmsis_rows = rows;
#endif
    const int whole_rows = w_stride == depth && depth <= CMSIS_MAX_DIM;
    for (size_t t = 0; t < steps; t++) {
        const float *x_t = x + t * x_stride;
        float *y_t = y + t * y_stride;
        for (size_t r = cmsis_rows; r < rows; r++) {
            float sum = 0.0f;
            for (size_t i = 0; i < depth; i++)
                sum += w[r * w_stride + i] * x_t[i];
            y_t[r] = sum;
        }
        if (whole_rows) {
            for (size_t r = 0; r < cmsis_rows; r += CMSIS_MAX_DIM) {
                const size_t n = cmsis_rows - r < CMSIS_MAX_DIM ? cmsis_rows - r : CMSIS_MAX_DIM;
                cmsis_matvec(n, depth, w + r * w_stride, x_t, y_t + r);
            }
            continue;
        }
        for (size_t r = 0; r < cmsis_rows; r++) {
            float sum = 0.0f;
            for (size_t i = 0; i < depth; i += CMSIS_MAX_DIM) {
                const size_t n = depth - i < CMSIS_MAX_DIM ? depth - i : CMSIS_MAX_DIM;
                float part;
                cmsis_matvec(1u, n, w + r * w_stride + i, x_t + i, &part);
                sum += part;
            }
            y_t[r] = sum;
        }
    }
}
