/* The drivers' one entry to a blocked product, whatever the dtype of the
 * layer's weights (docs/quantization.md):
 *
 *   float32: Y = X W^T                                 (products->f32)
 *   int8-w:  Y[t][r] = s_r * sum_i Wq[r][i] X[t][i]     (products->i8f32)
 *   int8-wa: Xq, x_scale = quantise(X) per step, then
 *            Y[t][r] = (float)(sum_i Wq[r][i] Xq[t][i]) * (s_r * x_scale[t])
 *
 * Sizes were checked once by mts_model_forward (depth <= MTS_I8_MAX_DEPTH
 * for int8-wa, scratch sized for the largest product input).
 */
#include "internal.h"

void mtsi_blocked_product(const mts_products *products, const mts_scratch *scratch,
                          const mts_weights *w, size_t row0, size_t rows, size_t depth,
                          size_t steps, const float *x, size_t x_stride,
                          float *y, size_t y_stride)
{
    const size_t offset = row0 * depth;
    switch (w->quant) {
    case MTS_QUANT_INT8_W:
        products->i8f32(rows, depth, steps, w->q + offset, depth, w->scale + row0,
                        x, x_stride, y, y_stride);
        break;
    case MTS_QUANT_INT8_WA:
        mts_quantize_rows_i8(steps, depth, x, x_stride, scratch->quantized,
                             scratch->quantized_stride, scratch->quantized_scale);
        products->i8i8(rows, depth, steps, w->q + offset, depth, w->scale + row0,
                       scratch->quantized, scratch->quantized_stride,
                       scratch->quantized_scale, y, y_stride);
        break;
    default:
        products->f32(rows, depth, steps, w->f32 + offset, depth, x, x_stride, y, y_stride);
        break;
    }
}
