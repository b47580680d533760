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

/* CPU features a product needs to run (a variant's `requires`, a mask of
 * these bits; 0: any CPU of the target). On x86-64 a build carries every x86
 * product (kernels/src/isa.h) and the running CPU decides which can run;
 * on aarch64 Linux likewise for the SDOT product (MTS_CPU_DOTPROD); else
 * on Arm the build decides and every built product has requires == 0. */
#define MTS_CPU_AVX2 0x01u
#define MTS_CPU_FMA 0x02u
#define MTS_CPU_AVX512F 0x04u
#define MTS_CPU_AVX512BW 0x08u
#define MTS_CPU_AVX512VL 0x10u
#define MTS_CPU_AVX512VNNI 0x20u
#define MTS_CPU_DOTPROD 0x40u /* Arm SDOT/UDOT (FEAT_DotProd) */

/* The MTS_CPU_ features of the running CPU (x86-64: CPUID, and the OS
 * saving the vector registers, through __builtin_cpu_supports; aarch64
 * Linux: the kernel's HWCAP bits, getauxval(AT_HWCAP); a build
 * without run-time dispatch: the compiler's target macros; other targets:
 * 0). Reads no static data of the kernels. */
uint32_t mts_cpu_features(void);

/* Whether the running CPU has every feature in `requires` (a variant's). */
int mts_cpu_supports(uint32_t requires);

typedef struct mts_gemm_f32_variant {
    const char *name;       /* e.g. "reference", "tiled" */
    const char *summary;    /* one line: tile shape, ISA */
    mts_gemm_f32_fn fn;
    uint32_t requires;      /* MTS_CPU_ features it needs; 0 for none */
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
