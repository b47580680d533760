/* QRNN layer descriptor (docs/spec.md section 3, torchqrnn layout).
 *
 * A causal convolution of width w over time, one blocked product per T
 * steps, then per step and unit:
 *
 *   [z; f; i; o] = W [x_t; x_{t-1}; ...; x_{t-w+1}] + b
 *   z = tanh(z), f = sigma(f), i = sigma(i), o = sigma(o)
 *   f-/fo-pooling (torchqrnn convention, eval-time zoneout p):
 *       f' = (1 - p) f,  c_t = f' z + (1 - f') c_{t-1}
 *   ifo-pooling (paper convention):
 *       c_t = p c_{t-1} + (1 - p) (f c_{t-1} + i z)
 *   h_t = o c_t with an output gate, else h_t = c_t
 *
 * Ownership: the descriptor borrows its arrays; it never allocates.
 */
#ifndef MTSRNN_QRNN_H
#define MTSRNN_QRNN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest window w: bounds the carried state and the product depth w * n. */
#define MTS_MAX_WINDOW 64u

typedef struct mts_qrnn_layer {
    uint32_t input_size;        /* n */
    uint32_t hidden_size;       /* H */
    uint32_t window;            /* 1 <= w <= MTS_MAX_WINDOW: x_t and the w-1 frames before it */
    uint8_t input_gate;         /* 1: ifo-pooling (an I block of rows) */
    uint8_t output_gate;        /* 1: an O block of rows, h = o * c */
    float zoneout;              /* eval-time zoneout probability p in [0, 1] */
    /* [G*H][w*n] row-major (nn.Linear layout): row blocks Z, F, [I], [O],
     * G = 2 + input_gate + output_gate; columns [x_t | x_{t-1} | ...]. */
    const float *weight;
    const float *bias;          /* [G*H] */
    /* int8 weights (docs/quantization.md); a zeroed tail is a float model.
     * With quant != 0 the product uses weight_q (weight may be NULL). */
    uint8_t quant;              /* mts_quant (mtsrnn/quantize.h) */
    const int8_t *weight_q;     /* same layout as weight */
    const float *weight_scale;  /* [G*H]: one scale per row of weight_q */
} mts_qrnn_layer;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_QRNN_H */
