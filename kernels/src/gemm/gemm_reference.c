/* Reference blocked product: Y[t][r] = sum_i W[r][i] * X[t][i], i in order.
 * Kept deliberately plain; every other variant is tested against it. */
#include "mtsrnn/gemm.h"

void mts_gemm_f32_reference(size_t rows, size_t depth, size_t steps,
                            const float *w, size_t w_stride,
                            const float *x, size_t x_stride,
                            float *y, size_t y_stride)
{
    for (size_t t = 0; t < steps; t++) {
        const float *x_t = x + t * x_stride;
        for (size_t r = 0; r < rows; r++) {
            const float *w_r = w + r * w_stride;
            float sum = 0.0f;
            for (size_t i = 0; i < depth; i++)
                sum += w_r[i] * x_t[i];
            y[t * y_stride + r] = sum;
        }
    }
}
