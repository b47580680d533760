/* Dense layer descriptor (stage kind 4), per step t:
 *
 *   y_t = act(W x_t + b)       W [m][n] output-major (nn.Linear.weight),
 *                              b [m] or none; act identity, relu, tanh, sigmoid
 *
 * Blocked like the recurrent layers: one (T x n)(n x m) product per block of
 * T steps through the product of the weights' scheme (float32, int8-w,
 * int8-wa; docs/quantization.md), then the bias and the activation (the
 * kernels' own tanh and sigmoid, mtsrnn/activation.h). No state. The
 * descriptor borrows its arrays; it never allocates.
 */
#ifndef MTSRNN_DENSE_H
#define MTSRNN_DENSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mts_dense_activation {
    MTS_DENSE_IDENTITY = 0,
    MTS_DENSE_RELU = 1,
    MTS_DENSE_TANH = 2,
    MTS_DENSE_SIGMOID = 3
} mts_dense_activation;

typedef struct mts_dense_layer {
    uint32_t input_size;        /* n */
    uint32_t output_size;       /* m */
    uint8_t activation;         /* mts_dense_activation */
    const float *weight;        /* [m][n] float32; may be NULL when quantised */
    const float *bias;          /* [m], or NULL: no bias */
    uint8_t quant;              /* mts_quant (mtsrnn/quantize.h) */
    const int8_t *weight_q;     /* [m][n] when quant != 0 */
    const float *weight_scale;  /* [m]: one scale per row of weight_q */
} mts_dense_layer;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_DENSE_H */
