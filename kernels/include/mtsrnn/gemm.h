/* The blocked product: one pass over the weights serves T time steps.
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]    for r < rows, t < steps
 *
 * W is output-major (row r holds the weights of output r, contiguous over the
 * inputs, row stride w_stride), the same layout as torch.nn.Linear.weight.
 * X is time-major with row stride x_stride: the drivers pad that stride to an
 * odd number of 64-byte lines so that the T rows of a block fall into
 * different cache sets. Y is time-major with row stride y_stride.
 *
 * Variants compute the same product in different summation orders; each is
 * listed once in mts_gemm_f32_variants, which the tests and the benchmarks
 * enumerate, so a variant cannot exist without being tested.
 *
 * Preconditions (checked once by the callers, never inside the kernels):
 * rows, depth, steps >= 1; w_stride >= depth; x_stride >= depth;
 * y_stride >= rows; Y does not overlap W or X.
 */
#ifndef MTSRNN_GEMM_H
#define MTSRNN_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mts_gemm_f32_fn)(size_t rows, size_t depth, size_t steps,
                                const float *w, size_t w_stride,
                                const float *x, size_t x_stride,
                                float *y, size_t y_stride);

typedef struct mts_gemm_f32_variant {
    const char *name;       /* e.g. "reference", "tiled" */
    const char *summary;    /* one line: tile shape, ISA */
    mts_gemm_f32_fn fn;
} mts_gemm_f32_variant;

/* Plain triple loop, summing i in order: the readable reference. */
void mts_gemm_f32_reference(size_t rows, size_t depth, size_t steps,
                            const float *w, size_t w_stride,
                            const float *x, size_t x_stride,
                            float *y, size_t y_stride);

/* Portable register-blocked C: tiles of MTS_GEMM_TILE_ROWS output rows by
 * MTS_GEMM_TILE_STEPS time steps, each accumulated in MTS_GEMM_LANES
 * independent lanes that the compiler maps onto SIMD registers. */
void mts_gemm_f32_tiled(size_t rows, size_t depth, size_t steps,
                        const float *w, size_t w_stride,
                        const float *x, size_t x_stride,
                        float *y, size_t y_stride);

/* Every variant built for this target, fastest first; the first entry is
 * the default used when a caller passes no variant. */
extern const mts_gemm_f32_variant mts_gemm_f32_variants[];
extern const size_t mts_gemm_f32_variant_count;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_GEMM_H */
