/* The benchmarks' per-step peer for the float product: CMSIS-DSP's
 * matrix-vector product, one call per time step (host only; not a kernel).
 * The binding runs a model with it at the indices after the kernels' own
 * variants (mts_gemm_f32_variant_count + i). */
#ifndef MTSRNN_HOST_CMSIS_PEER_H
#define MTSRNN_HOST_CMSIS_PEER_H

#include <stddef.h>

#include "mtsrnn/gemm.h"

/* The peers built into this module, {NULL, NULL, NULL}-terminated: empty
 * when the CMSIS-DSP sdist was not found at build time. */
extern const mts_gemm_f32_variant mts_host_gemm_variants[];
extern const size_t mts_host_gemm_variant_count;

#endif /* MTSRNN_HOST_CMSIS_PEER_H */
