/* int8 quantisation of the blocked products (docs/quantization.md).
 *
 * Weights (done once, at conversion, in Python): per output row r
 *   s_r = max_i |W[r][i]| / 127,  Wq[r][i] = round_half_even(W[r][i] / s_r)
 * clamped to [-127, 127] (s_r = 0 and Wq = 0 for an all-zero row).
 *
 * Activations (scheme int8-wa, per time step t of a product's input, at run
 * time), all in float32:
 *   a_t   = max_i |X[t][i]|
 *   inv_t = 127.0f / a_t
 *   Xq[t][i] = round_half_even(X[t][i] * inv_t) clamped to [-127, 127]
 *   x_scale[t] = a_t / 127.0f
 * A row with a_t < 2^-96 (including a_t == 0) or a non-finite entry gives
 * Xq = 0 and x_scale = 0, so the product's output row is exactly 0.
 *
 * Schemes of a layer's products (the descriptor field `quant`). */
#ifndef MTSRNN_QUANTIZE_H
#define MTSRNN_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mts_quant {
    MTS_QUANT_NONE = 0,      /* float32 weights (the default of a zeroed descriptor) */
    MTS_QUANT_INT8_W = 1,    /* int8 weights, per-row float scales, float32 X */
    MTS_QUANT_INT8_WA = 2    /* int8 weights and int8 X per step, int32 sums */
} mts_quant;

/* The deepest product whose int32 sums cannot overflow:
 * depth * 127 * 127 <= INT32_MAX. Callers check it once. */
#define MTS_I8_MAX_DEPTH 133144u

/* Quantise `steps` rows of `depth` floats (row stride x_stride) to int8
 * (row stride xq_stride), one symmetric scale per row, as above. Below
 * 2^-96, 127 / a_t could overflow; no finite scale represents NaN or inf.
 * Preconditions (checked by the callers): depth, steps >= 1,
 * x_stride >= depth, xq_stride >= depth. */
void mts_quantize_rows_i8(size_t steps, size_t depth,
                          const float *x, size_t x_stride,
                          int8_t *xq, size_t xq_stride, float *x_scale);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_QUANTIZE_H */
