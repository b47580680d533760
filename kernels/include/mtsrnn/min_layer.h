/* minGRU and minLSTM layer descriptor (docs/spec.md section 6; mingru-pytorch
 * 0.2.1's sequential path is the contract). The two cells differ only in
 * their number of gate blocks G (MTS_MINGRU_GATES, MTS_MINLSTM_GATES), which
 * the stage kind gives (mts_stage_kind in mtsrnn/model.h), so one descriptor
 * serves both.
 *
 * The gates see only the input, so one blocked product per T steps serves
 * every step of the block, then per step and unit j (g(a) = a + 1/2 for
 * a >= 0, sigma(a) below):
 *
 *   minGRU  (G = 2)  [a; b] = W x_t         rows [0,H) candidate, [H,2H) gate
 *                    z = sigma(b),  h_t = (1 - z) h_{t-1} + z g(a)
 *   minLSTM (G = 3)  [a; f; i] = W x_t      rows [0,H) candidate, [H,2H) forget,
 *                                           [2H,3H) input
 *                    f = sigma(f), i = sigma(i),
 *                    h_t = (f h_{t-1} + i g(a)) / (f + i)
 *   y_t = W_out h_t  (output projection, `to_out`), else y_t = h_t
 *
 * The output projection is a second blocked product over the block's T
 * states. The state carried is h (H floats). No biases (bias=False).
 * Ownership: the descriptor borrows its arrays; it never allocates.
 */
#ifndef MTSRNN_MIN_LAYER_H
#define MTSRNN_MIN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MTS_MINGRU_GATES 2u
#define MTS_MINLSTM_GATES 3u

typedef struct mts_min_layer {
    uint32_t input_size;        /* n */
    uint32_t hidden_size;       /* H (mingru-pytorch's dim_inner) */
    uint32_t output_size;       /* m: rows of weight_out; must equal H without one */
    uint8_t has_output;         /* 1: y = W_out h (to_out); 0: y = h */
    const float *weight;        /* [G*H][n] (to_hidden_and_gate / to_hidden_and_f_i_gate) */
    const float *weight_out;    /* [m][H] (to_out.weight) or NULL */
    /* int8 weights (docs/quantization.md); with quant != 0 the products use
     * the _q arrays and their per-row scales (the float arrays may be NULL). */
    uint8_t quant;              /* mts_quant (mtsrnn/quantize.h) */
    const int8_t *weight_q;     /* [G*H][n] */
    const float *weight_scale;  /* [G*H] */
    const int8_t *weight_out_q; /* [m][H] */
    const float *weight_out_scale; /* [m] */
} mts_min_layer;

/* Element counts of the layer's arrays (0 for one it leaves out), from its
 * sizes, options and gate count G (2 or 3; MTS_ERR_BAD_CONFIG otherwise)
 * alone; fails (a specific status) when they are invalid. */
typedef struct mts_min_array_sizes {
    size_t weight, weight_out;
    size_t weight_rows, weight_out_rows;    /* the per-row scales when quantised */
} mts_min_array_sizes;
mts_status mts_min_layer_array_sizes(const mts_min_layer *layer, uint32_t gates,
                                     mts_min_array_sizes *sizes);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_MIN_LAYER_H */
