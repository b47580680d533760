/* Reference int8 products (docs/quantization.md), kept deliberately plain;
 * every other int8 variant is tested against them.
 *
 *   int8-w:  Y[t][r] = w_scale[r] * (sum_i (float)Wq[r][i] * X[t][i]), i in order
 *   int8-wa: acc     = sum_i Wq[r][i] * Xq[t][i]  (int32, exact)
 *            Y[t][r] = (float)acc * (w_scale[r] * x_scale[t])
 */
#include "mtsrnn/gemm.h"

void mts_gemm_i8f32_reference(size_t rows, size_t depth, size_t steps,
                              const int8_t *w, size_t w_stride, const float *w_scale,
                              const float *x, size_t x_stride,
                              float *y, size_t y_stride)
{
    for (size_t t = 0; t < steps; t++) {
        const float *x_t = x + t * x_stride;
        for (size_t r = 0; r < rows; r++) {
            const int8_t *w_r = w + r * w_stride;
            float sum = 0.0f;
            for (size_t i = 0; i < depth; i++)
                sum += (float)w_r[i] * x_t[i];
            y[t * y_stride + r] = w_scale[r] * sum;
        }
    }
}

void mts_gemm_i8i8_reference(size_t rows, size_t depth, size_t steps,
                             const int8_t *w, size_t w_stride, const float *w_scale,
                             const int8_t *xq, size_t xq_stride, const float *x_scale,
                             float *y, size_t y_stride)
{
    for (size_t t = 0; t < steps; t++) {
        const int8_t *x_t = xq + t * xq_stride;
        for (size_t r = 0; r < rows; r++) {
            const int8_t *w_r = w + r * w_stride;
            int32_t acc = 0;
            for (size_t i = 0; i < depth; i++)
                acc += (int32_t)w_r[i] * (int32_t)x_t[i];
            y[t * y_stride + r] = (float)acc * (w_scale[r] * x_scale[t]);
        }
    }
}
