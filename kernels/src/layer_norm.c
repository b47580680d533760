/* Layer norm over one row, in place:
 *
 *   y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
 *
 * Two passes (mean, then the centred variance) rather than sum and sum of
 * squares, which cancels badly when |mean| >> std. */
#include "activation_inline.h"
#include "internal.h"

void mtsi_layer_norm_inplace(float *x, size_t n, const float *weight, const float *bias,
                             float eps)
{
    const float inv_n = 1.0f / (float)n;
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    const float mean = sum * inv_n;
    float sq = 0.0f;
    for (size_t i = 0; i < n; i++) {
        const float centred = x[i] - mean;
        sq += centred * centred;
    }
    const float inv_std = mts_rsqrtf_inline(sq * inv_n + eps);
    for (size_t i = 0; i < n; i++)
        x[i] = (x[i] - mean) * inv_std * weight[i] + bias[i];
}
