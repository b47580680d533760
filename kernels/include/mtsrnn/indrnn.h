/* IndRNN layer descriptor (docs/spec.md section 7; Li et al. 2018).
 *
 * The recurrent weight is a vector, so the only matrix sees the input: one
 * blocked product per T steps, then per step and unit j:
 *
 *   h_t = act(W x_t + u * h_{t-1} + b)      act = relu or tanh
 *
 * The state carried is h (H floats); the output is h_t.
 * Ownership: the descriptor borrows its arrays; it never allocates.
 */
#ifndef MTSRNN_INDRNN_H
#define MTSRNN_INDRNN_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The codes of the dense stage's activations (1 relu, 2 tanh), so that a
 * file record means the same by the same number. */
typedef enum mts_indrnn_activation {
    MTS_INDRNN_RELU = 1,
    MTS_INDRNN_TANH = 2
} mts_indrnn_activation;

typedef struct mts_indrnn_layer {
    uint32_t input_size;        /* n */
    uint32_t hidden_size;       /* H */
    uint8_t activation;         /* mts_indrnn_activation */
    const float *weight;        /* [H][n] (weight_ih, nn.Linear layout) */
    const float *weight_hh;     /* [H]: u */
    const float *bias;          /* [H]: b */
    uint8_t quant;              /* mts_quant (mtsrnn/quantize.h): W only */
    const int8_t *weight_q;     /* [H][n] */
    const float *weight_scale;  /* [H] */
} mts_indrnn_layer;

/* Element counts of the layer's arrays, from its sizes and options alone;
 * fails (a specific status) when they are invalid. */
typedef struct mts_indrnn_array_sizes {
    size_t weight, weight_hh, bias;
    size_t weight_rows;         /* the per-row scales when quantised */
} mts_indrnn_array_sizes;
mts_status mts_indrnn_layer_array_sizes(const mts_indrnn_layer *layer,
                                        mts_indrnn_array_sizes *sizes);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_INDRNN_H */
