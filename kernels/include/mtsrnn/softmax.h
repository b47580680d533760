/* Softmax stage descriptor (stage kind 5), per step t over the n features
 * of one frame, numerically stable (the maximum is subtracted first):
 *
 *   log 0:  y_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))
 *   log 1:  y_i = (x_i - max(x)) - log(sum_j exp(x_j - max(x)))
 *
 * exp and log are the kernels' own (mtsrnn/activation.h: mts_expf,
 * mts_logf). No state, no arrays.
 */
#ifndef MTSRNN_SOFTMAX_H
#define MTSRNN_SOFTMAX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mts_softmax_stage {
    uint32_t size;              /* n: input and output size */
    uint8_t log;                /* 0: softmax, 1: log-softmax */
} mts_softmax_stage;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_SOFTMAX_H */
