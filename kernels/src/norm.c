/* Normalisation stage driver (mtsrnn/norm.h), per row of a block:
 *
 *   affine:  y_i = x_i * weight_i + bias_i
 *   layer:   y_i = (x_i - mean(x)) / sqrt(var(x) + eps) * weight_i + bias_i
 *
 * No product, so nothing to block: the rows are independent. in == out is
 * allowed (every element is read before it is written).
 */
#include "internal.h"

void mtsi_norm_stage(const mts_norm_stage *stage, const float *in, float *out, size_t steps)
{
    const size_t n = stage->size;
    const float *restrict weight = stage->weight;
    const float *restrict bias = stage->bias;
    for (size_t t = 0; t < steps; t++) {
        const float *x = in + t * n;
        float *y = out + t * n;
        if (stage->mode == MTS_NORM_MODE_LAYER) {
            if (x != y)
                mtsi_copy_floats(y, x, n);
            mtsi_layer_norm_inplace(y, n, weight, bias, stage->eps);
        } else {
            for (size_t i = 0; i < n; i++)
                y[i] = x[i] * weight[i] + bias[i];
        }
    }
}
