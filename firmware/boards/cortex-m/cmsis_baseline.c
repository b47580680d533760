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
 * the last rows it would be past the array, so those (tail_rows: one, or
 * more when a row is shorter than 3 floats) are summed here in C instead
 * (in input order).
 *
 * The bench-only int8 peer (mts_fw_cmsis_q7, "cmsis-dsp-q7"), with the
 * int8-wa product's signature, is CMSIS-DSP's arm_mat_vec_mult_q7 per step:
 *
 *   q7[t][r] = ssat8((sum_i Wq[r][i] * Xq[t][i]) >> 7)
 *   Y[t][r]  = (float)q7[t][r] * (128 * w_scale[r] * x_scale[t])
 *
 * i.e. the int8-wa product's sums shifted right by 7 and saturated to q7
 * (arithmetic shift: rounded towards minus infinity), scaled back like the
 * int8-wa product's. Not the model's numbers (a sum outside -16384..16383
 * saturates, and the low 7 bits are lost), so the device offers it to
 * `bench ... peer=` only; its cost is that of a per-step q7 product plus
 * the int8-wa product's own scaling. Its Helium code over-reads 16-byte
 * vectors as the float one does 4-float ones (tail_rows). */
#include "cmsis_baseline.h"

#include <stdint.h>

#include "arm_math.h"

#define CMSIS_MAX_DIM 65535u

/* The last rows a Helium build sums in C: CMSIS-DSP 1.10.3's Helium code
 * loads a row's last vector of `lanes` elements unpredicated, up to
 * lanes - 1 elements past the row; enough rows at the end are left out of
 * its call that those loads stay within the matrix. */
#if defined(ARM_MATH_MVEF) || defined(ARM_MATH_MVEI)
static size_t tail_rows(size_t rows, size_t depth, size_t lanes)
{
    if (depth == 0u || depth % lanes == 0u)
        return 0u;
    const size_t past = lanes - depth % lanes;
    const size_t n = (past + depth - 1u) / depth;
    return n < rows ? n : rows;
}
#endif

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
    const size_t cmsis_rows = rows - tail_rows(rows, depth, 4u);
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

/* ssat8(sum >> 7) of one row in C, as arm_mat_vec_mult_q7 computes it. */
static int8_t q7_row(size_t depth, const int8_t *w, const int8_t *x)
{
    int32_t sum = 0;
    for (size_t i = 0; i < depth; i++)
        sum += (int32_t)w[i] * (int32_t)x[i];
    sum >>= 7; /* GCC: arithmetic, as CMSIS-DSP's */
    return (int8_t)(sum > 127 ? 127 : sum < -128 ? -128 : sum);
}

/* Rows per CMSIS-DSP call: its q7 results go to a stack buffer of this
 * many bytes before they are scaled (a multiple of 4, so its grouping of
 * four rows is the same as in one call). */
#define Q7_CHUNK_ROWS 128u

void mts_fw_cmsis_q7(size_t rows, size_t depth, size_t steps,
                     const int8_t *w, size_t w_stride, const float *w_scale,
                     const int8_t *xq, size_t xq_stride, const float *x_scale,
                     float *y, size_t y_stride)
{
#if defined(ARM_MATH_MVEI)
    const size_t cmsis_rows = rows - tail_rows(rows, depth, 16u);
#else
    const size_t cmsis_rows = rows;
#endif
    /* A strided or over-long matrix never comes from the kernels' drivers
     * (w_stride == depth <= MTS_I8_MAX_DEPTH); beyond CMSIS-DSP's 16-bit
     * sizes the rows are summed in C with the same equation. */
    const int whole_rows = w_stride == depth && depth <= CMSIS_MAX_DIM;
    int8_t q7[Q7_CHUNK_ROWS];
    for (size_t t = 0; t < steps; t++) {
        const int8_t *x_t = xq + t * xq_stride;
        float *y_t = y + t * y_stride;
        const float scale = 128.0f * x_scale[t];
        for (size_t r0 = 0; r0 < rows; r0 += Q7_CHUNK_ROWS) {
            const size_t n = rows - r0 < Q7_CHUNK_ROWS ? rows - r0 : Q7_CHUNK_ROWS;
            const size_t in_cmsis = !whole_rows || r0 >= cmsis_rows ? 0u
                                    : cmsis_rows - r0 < n ? cmsis_rows - r0 : n;
            if (in_cmsis > 0u) {
                arm_matrix_instance_q7 matrix;
                /* CMSIS-DSP takes a non-const pointer but only reads it. */
                arm_mat_init_q7(&matrix, (uint16_t)in_cmsis, (uint16_t)depth,
                                (q7_t *)(uintptr_t)(w + r0 * w_stride));
                arm_mat_vec_mult_q7(&matrix, x_t, q7);
            }
            for (size_t r = in_cmsis; r < n; r++)
                q7[r] = q7_row(depth, w + (r0 + r) * w_stride, x_t);
            for (size_t r = 0; r < n; r++)
                y_t[r0 + r] = (float)q7[r] * (w_scale[r0 + r] * scale);
        }
    }
}
