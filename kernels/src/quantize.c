/* Per-step symmetric int8 quantisation of a product's input (scheme
 * int8-wa, docs/quantization.md), all in float32 and without libm:
 *
 *   a_t        = max_i |X[t][i]|
 *   inv_t      = 127.0f / a_t
 *   Xq[t][i]   = round_half_even(clamp(X[t][i] * inv_t, -127, 127))
 *   x_scale[t] = a_t / 127.0f
 *
 * A row with a_t < MTS_I8_MIN_ABSMAX (including 0) or a non-finite entry
 * gives Xq = 0 and x_scale = 0: below that bound 127 / a_t could overflow,
 * and no finite scale represents NaN or inf.
 */
#include "mtsrnn/quantize.h"

/* 2^-96: small enough for any real activation, large enough that
 * 127 / a_t stays finite. */
#define MTS_I8_MIN_ABSMAX 1.2621774e-29f

/* Adding and subtracting 1.5 * 2^23 rounds a float32 v with |v| <= 2^22 to
 * the nearest integer, ties to even (the default rounding mode), because
 * the sum's unit in the last place is 1. */
#define MTS_ROUND_MAGIC 12582912.0f

void mts_quantize_rows_i8(size_t steps, size_t depth,
                          const float *x, size_t x_stride,
                          int8_t *xq, size_t xq_stride, float *x_scale)
{
    for (size_t t = 0; t < steps; t++) {
        const float *x_t = x + t * x_stride;
        int8_t *q_t = xq + t * xq_stride;
        /* A NaN entry makes a_t NaN and no later comparison replaces it. */
        float absmax = 0.0f;
        for (size_t i = 0; i < depth; i++) {
            float v = x_t[i] < 0.0f ? -x_t[i] : x_t[i];
            if (v > absmax || v != v)
                absmax = v;
        }
        if (!(absmax >= MTS_I8_MIN_ABSMAX && absmax <= 3.4028235e38f)) {
            for (size_t i = 0; i < depth; i++)
                q_t[i] = 0;
            x_scale[t] = 0.0f;
            continue;
        }
        float inv = 127.0f / absmax;
        for (size_t i = 0; i < depth; i++) {
            /* The clamp comes before the rounding (same result, since 127 is
             * an integer) and gives the product a use that is not an
             * addition, so -ffp-contract=fast cannot fuse it with the
             * magic-number add: the rounding must see the float32 product. */
            float v = x_t[i] * inv;
            if (v > 127.0f)
                v = 127.0f;
            if (v < -127.0f)
                v = -127.0f;
            float rounded = (v + MTS_ROUND_MAGIC) - MTS_ROUND_MAGIC;
            q_t[i] = (int8_t)rounded;
        }
        x_scale[t] = absmax / 127.0f;
    }
}
