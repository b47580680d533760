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
 * enumerate, so a variant cannot exist without being tested. Which variants
 * a target has (portable C, and the instruction sets its compiler targets)
 * is the subject of docs/kernels.md; callers pick one from the table by
 * name or take the first.
 *
 * Preconditions (checked once by the callers, never inside the kernels):
 * rows, depth, steps >= 1; w_stride >= depth; x_stride >= depth;
 * y_stride >= rows; Y does not overlap W or X.
 */
#ifndef MTSRNN_GEMM_H
#define MTSRNN_GEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mts_gemm_f32_fn)(size_t rows, size_t depth, size_t steps,
                                const float *w, size_t w_stride,
                                const float *x, size_t x_stride,
                                float *y, size_t y_stride);

/* CPU features a product needs to run (a variant's `requires`): a mask of
 * feature bits (0: any CPU of the target). Which feature a bit stands for
 * is private to the kernels (kernels/src/isa.h); a caller compares masks,
 * and reads the features' names through mts_cpu_feature_name. On a target
 * with run-time dispatch a build carries products for features the running
 * CPU may lack, and the running CPU decides which of them can run; where
 * the build decides, every built product has requires == 0. */

/* The feature bits of the running CPU (run-time detection where the build
 * dispatches at run time, else what the compiler targets; 0 where the
 * kernels know no optional feature). Reads no static data of the kernels. */
uint32_t mts_cpu_features(void);

/* Whether the running CPU has every feature in `requires` (a variant's). */
int mts_cpu_supports(uint32_t requires);

/* Bits 0 .. MTS_CPU_FEATURE_BITS - 1 of a feature mask. */
#define MTS_CPU_FEATURE_BITS 32u

/* The lower-case name of feature bit `bit` (the mask 1u << bit), the name
 * the compiler and CPU documentation use; NULL for a bit no feature uses.
 * For reports: which features exist, which a variant needs. */
const char *mts_cpu_feature_name(unsigned bit);

typedef struct mts_gemm_f32_variant {
    const char *name;       /* e.g. "reference", "tiled" */
    const char *summary;    /* one line: tile shape, instruction set */
    mts_gemm_f32_fn fn;
    uint32_t requires;      /* feature bits it needs; 0 for none */
} mts_gemm_f32_variant;

/* Plain triple loop, summing i in order: the readable reference. */
void mts_gemm_f32_reference(size_t rows, size_t depth, size_t steps,
                            const float *w, size_t w_stride,
                            const float *x, size_t x_stride,
                            float *y, size_t y_stride);

/* Every variant built for this target, fastest first. Only entries whose
 * `requires` the running CPU supports (mts_cpu_supports) may be called; the
 * first of those is the default (mts_gemm_f32_default) used when a caller
 * passes no variant. The name resolver (mtsrnn/model.h) skips the others. */
extern const mts_gemm_f32_variant mts_gemm_f32_variants[];
extern const size_t mts_gemm_f32_variant_count;

/* int8 products (docs/quantization.md; gemm_i8*.c). Wq is int8, output-major
 * like W, with one float scale per output row (w_scale[r]).
 *
 * Scheme int8-w (mts_gemm_i8f32_*): float32 X, the weights converted to float
 * inside the product:
 *   Y[t][r] = w_scale[r] * (sum_{i < depth} (float)Wq[r][i] * X[t][i])
 * summed in float32 in an order that depends only on depth.
 *
 * Scheme int8-wa (mts_gemm_i8i8_*): X quantised per step by
 * mts_quantize_rows_i8 (mtsrnn/quantize.h) into Xq and x_scale[t]:
 *   acc[t][r] = sum_{i < depth} Wq[r][i] * Xq[t][i]      (int32, exact)
 *   Y[t][r]   = (float)acc[t][r] * (w_scale[r] * x_scale[t])   (float32)
 * Every variant gives bit-identical Y (the integer sums are exact).
 *
 * Preconditions as for the float product, plus depth <= MTS_I8_MAX_DEPTH
 * (quantize.h) for the int8 x int8 product. */

typedef void (*mts_gemm_i8f32_fn)(size_t rows, size_t depth, size_t steps,
                                  const int8_t *w, size_t w_stride, const float *w_scale,
                                  const float *x, size_t x_stride,
                                  float *y, size_t y_stride);

typedef void (*mts_gemm_i8i8_fn)(size_t rows, size_t depth, size_t steps,
                                 const int8_t *w, size_t w_stride, const float *w_scale,
                                 const int8_t *xq, size_t xq_stride, const float *x_scale,
                                 float *y, size_t y_stride);

typedef struct mts_gemm_i8f32_variant {
    const char *name;
    const char *summary;
    mts_gemm_i8f32_fn fn;
    uint32_t requires;
} mts_gemm_i8f32_variant;

typedef struct mts_gemm_i8i8_variant {
    const char *name;
    const char *summary;
    mts_gemm_i8i8_fn fn;
    uint32_t requires;
} mts_gemm_i8i8_variant;

/* Plain loops summing i in order: the readable references. */
void mts_gemm_i8f32_reference(size_t rows, size_t depth, size_t steps,
                              const int8_t *w, size_t w_stride, const float *w_scale,
                              const float *x, size_t x_stride,
                              float *y, size_t y_stride);
void mts_gemm_i8i8_reference(size_t rows, size_t depth, size_t steps,
                             const int8_t *w, size_t w_stride, const float *w_scale,
                             const int8_t *xq, size_t xq_stride, const float *x_scale,
                             float *y, size_t y_stride);

/* Every int8 variant built for this target, fastest first; as for the
 * float table, only entries the running CPU supports may be called. */
extern const mts_gemm_i8f32_variant mts_gemm_i8f32_variants[];
extern const size_t mts_gemm_i8f32_variant_count;
extern const mts_gemm_i8i8_variant mts_gemm_i8i8_variants[];
extern const size_t mts_gemm_i8i8_variant_count;

/* The default product of each table: its first entry the running CPU
 * supports (the portable ones need nothing, so there always is one). */
mts_gemm_f32_fn mts_gemm_f32_default(void);
mts_gemm_i8f32_fn mts_gemm_i8f32_default(void);
mts_gemm_i8i8_fn mts_gemm_i8i8_default(void);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_GEMM_H */
