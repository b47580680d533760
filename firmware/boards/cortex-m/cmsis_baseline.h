/* The CMSIS-DSP per-step baseline with the kernels' product signature
 * (cmsis_baseline.c), offered by the firmware as variant "cmsis-dsp-matvec". */
#ifndef MTSRNN_FW_CMSIS_BASELINE_H
#define MTSRNN_FW_CMSIS_BASELINE_H

#include <stddef.h>

void mts_fw_cmsis_matvec(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);

#endif
