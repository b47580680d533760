/* Normalisation stage descriptor (stage kind 3), per step t over the n
 * features of one frame:
 *
 *   mode 0, affine:  y_i = x_i * weight_i + bias_i
 *       (BatchNorm1d in eval mode: weight = gamma / sqrt(running_var + eps),
 *        bias = beta - running_mean * weight; given arrays mean and scale:
 *        weight = scale, bias = -mean * scale)
 *   mode 1, layer:   y_i = (x_i - mean(x)) / sqrt(var(x) + eps) * weight_i + bias_i
 *       (nn.LayerNorm over the last dimension, biased variance)
 *
 * No state. The descriptor borrows its arrays; it never allocates.
 */
#ifndef MTSRNN_NORM_H
#define MTSRNN_NORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mts_norm_mode {
    MTS_NORM_MODE_AFFINE = 0,
    MTS_NORM_MODE_LAYER = 1
} mts_norm_mode;

typedef struct mts_norm_stage {
    uint32_t size;              /* n: input and output size */
    uint8_t mode;               /* mts_norm_mode */
    float eps;                  /* layer norm: in (0, 1]; affine: 0 */
    const float *weight;        /* [n]: scale (affine) or gamma (layer) */
    const float *bias;          /* [n] */
} mts_norm_stage;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_NORM_H */
