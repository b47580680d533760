/* minLSTM layer descriptor (docs/spec.md section 6; mingru-pytorch 0.2.1's
 * sequential path is the contract).
 *
 * The gates see only the input, so one blocked product per T steps serves
 * every step of the block, then per step and unit j:
 *
 *   [a; f; i] = W x_t         W: rows [0,H) candidate, [H,2H) forget, [2H,3H) input
 *   f = sigma(f), i = sigma(i), f' = f / (f + i), i' = i / (f + i)
 *   h_t = f' h_{t-1} + i' g(a)       g(a) = a + 1/2 (a >= 0), sigma(a) (a < 0)
 *   y_t = W_out h_t  (output projection, `to_out`), else y_t = h_t
 *
 * The output projection is a second blocked product over the block's T
 * states. The state carried is h (H floats). No biases (bias=False).
 * Ownership: the descriptor borrows its arrays; it never allocates.
 */
#ifndef MTSRNN_MINLSTM_H
#define MTSRNN_MINLSTM_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mts_minlstm_layer {
    uint32_t input_size;        /* n */
    uint32_t hidden_size;       /* H (mingru-pytorch's dim_inner) */
    uint32_t output_size;       /* m: rows of weight_out; must equal H without one */
    uint8_t has_output;         /* 1: y = W_out h (to_out); 0: y = h */
    const float *weight;        /* [3H][n] (to_hidden_and_f_i_gate.weight) */
    const float *weight_out;    /* [m][H] (to_out.weight) or NULL */
    /* int8 weights (docs/quantization.md); with quant != 0 the products use
     * the _q arrays and their per-row scales (the float arrays may be NULL). */
    uint8_t quant;              /* mts_quant (mtsrnn/quantize.h) */
    const int8_t *weight_q;     /* [3H][n] */
    const float *weight_scale;  /* [3H] */
    const int8_t *weight_out_q; /* [m][H] */
    const float *weight_out_scale; /* [m] */
} mts_minlstm_layer;

/* Element counts of the layer's arrays (0 for one it leaves out), from its
 * sizes and options alone; fails (a specific status) when they are invalid. */
typedef struct mts_minlstm_array_sizes {
    size_t weight, weight_out;
    size_t weight_rows, weight_out_rows;    /* the per-row scales when quantised */
} mts_minlstm_array_sizes;
mts_status mts_minlstm_layer_array_sizes(const mts_minlstm_layer *layer,
                                        mts_minlstm_array_sizes *sizes);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_MINLSTM_H */
