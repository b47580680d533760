/* Softmax stage driver (mtsrnn/softmax.h), per row of a block, stable:
 *
 *   softmax:      y_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))
 *   log-softmax:  y_i = (x_i - max(x)) - log(sum_j exp(x_j - max(x)))
 *
 * After subtracting the maximum every exponent is <= 0, so nothing
 * overflows and the sum is in [1, n]: its log is well conditioned. in ==
 * out is allowed.
 */
#include "activation_inline.h"
#include "internal.h"

void mtsi_softmax_stage(const mts_softmax_stage *stage, const float *in, float *out,
                        size_t steps)
{
    const size_t n = stage->size;
    for (size_t t = 0; t < steps; t++) {
        const float *x = in + t * n;
        float *y = out + t * n;
        float max = x[0];
        for (size_t i = 1; i < n; i++)
            max = x[i] > max ? x[i] : max;
        float sum = 0.0f;
        if (stage->log) {
            for (size_t i = 0; i < n; i++)
                sum += mts_expf_inline(x[i] - max);
            const float log_sum = mts_logf_inline(sum);
            for (size_t i = 0; i < n; i++)
                y[i] = (x[i] - max) - log_sum;
        } else {
            for (size_t i = 0; i < n; i++) {
                y[i] = mts_expf_inline(x[i] - max);
                sum += y[i];
            }
            const float inv = 1.0f / sum;
            for (size_t i = 0; i < n; i++)
                y[i] *= inv;
        }
    }
}
