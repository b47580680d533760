/* The CMSIS-DSP per-step baseline with the kernels' product signature
 * (cmsis_baseline.c), offered by the firmware as variant "cmsis-dsp-matvec",
 * and the int8 peer "cmsis-dsp-q7" (arm_mat_vec_mult_q7, saturated q7
 * outputs scaled back), offered to `bench ... peer=` only. */
#ifndef MTSRNN_FW_CMSIS_BASELINE_H
#define MTSRNN_FW_CMSIS_BASELINE_H

#include <stddef.h>
#include <stdint.h>

void mts_fw_cmsis_matvec(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);

void mts_fw_cmsis_q7(size_t rows, size_t depth, size_t steps,
                     const int8_t *w, size_t w_stride, const float *w_scale,
                     const int8_t *xq, size_t xq_stride, const float *x_scale,
                     float *y, size_t y_stride);

#endif
