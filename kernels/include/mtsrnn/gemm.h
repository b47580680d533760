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
#include <stdint.h>

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

#if defined(__AVX512F__)
/* AVX-512 intrinsics: 6 rows x 4 steps of zmm accumulators (8 x 1 for a
 * single step), 16 lanes per output added in a fixed tree. */
void mts_gemm_f32_avx512(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);
#endif

#if defined(__AVX2__) && defined(__FMA__)
/* AVX2 + FMA intrinsics: 4 rows x 3 steps of ymm accumulators (8 x 1 for a
 * single step), 8 lanes per output added in a fixed tree. */
void mts_gemm_f32_avx2(size_t rows, size_t depth, size_t steps,
                       const float *w, size_t w_stride,
                       const float *x, size_t x_stride,
                       float *y, size_t y_stride);
#endif

#if defined(__ARM_NEON)
/* NEON intrinsics (aarch64, armv7-a): 4 rows x 5 steps register tiles (4 x 2
 * on armv7), one 4-lane accumulator per output. Built unless MTSRNN_SIMD=none. */
void mts_gemm_f32_neon(size_t rows, size_t depth, size_t steps,
                       const float *w, size_t w_stride,
                       const float *x, size_t x_stride,
                       float *y, size_t y_stride);
#endif

/* Target-specific variants, each built only where its instructions exist
 * (the macros say where; gemm_variants.c lists the ones built):
 *
 * "m4f": Cortex-M with a single-precision FPU (M4F, M7, M33, M55 without
 * Helium), Thumb-2: 4 rows x up to 4 steps kept in the 32 FPU registers,
 * loads by VLDM; sums in input order like the reference. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M' && defined(__ARM_FP) && \
    (__ARM_FP & 4) && defined(__thumb2__) && \
    !(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 2))
#define MTS_GEMM_HAVE_M4F 1
void mts_gemm_f32_m4f(size_t rows, size_t depth, size_t steps,
                      const float *w, size_t w_stride,
                      const float *x, size_t x_stride,
                      float *y, size_t y_stride);
#endif

/* "helium": Armv8.1-M with MVE float (Cortex-M55, M85): 2 rows x 2 steps
 * (4 rows x 1 step for an odd last step) of 4-lane accumulators, lane l
 * summing inputs i = l mod 4, lanes added in a fixed order. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 2)
#define MTS_GEMM_HAVE_HELIUM 1
void mts_gemm_f32_helium(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);
#endif

/* Every variant built for this target, fastest first; the first entry is
 * the default used when a caller passes no variant. */
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
} mts_gemm_i8f32_variant;

typedef struct mts_gemm_i8i8_variant {
    const char *name;
    const char *summary;
    mts_gemm_i8i8_fn fn;
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

/* Portable register tiles of 4 rows x 4 steps (lanes as in
 * mts_gemm_f32_tiled for int8-w; int32 accumulators for int8-wa). */
void mts_gemm_i8f32_tiled(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride);
void mts_gemm_i8i8_tiled(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const int8_t *xq, size_t xq_stride, const float *x_scale,
                         float *y, size_t y_stride);

#if defined(__ARM_NEON)
/* NEON (gemm_i8_neon.c; aarch64, armv7-a), built unless MTSRNN_SIMD=none:
 * register tiles of 4 rows x 3 steps (SDOT 4 x 5; 4 x 2 on armv7). int8-w:
 * weights widened to float32, 4-lane multiply-adds in the float NEON
 * product's lane order; int8-wa: int32 accumulators by SMULL + SADALP
 * ("neon") or, where __ARM_FEATURE_DOTPROD (armv8.2-a+dotprod), by SDOT
 * ("neon-sdot", listed before "neon"). */
void mts_gemm_i8f32_neon(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);
void mts_gemm_i8i8_neon(size_t rows, size_t depth, size_t steps,
                        const int8_t *w, size_t w_stride, const float *w_scale,
                        const int8_t *xq, size_t xq_stride, const float *x_scale,
                        float *y, size_t y_stride);
#if defined(__ARM_FEATURE_DOTPROD)
void mts_gemm_i8i8_neon_sdot(size_t rows, size_t depth, size_t steps,
                             const int8_t *w, size_t w_stride, const float *w_scale,
                             const int8_t *xq, size_t xq_stride, const float *x_scale,
                             float *y, size_t y_stride);
#endif
#endif

#if defined(MTS_GEMM_HAVE_HELIUM)
/* Helium (gemm_i8_helium.c; Cortex-M55 with MVE float). int8-wa: VMLADAVA.S8
 * (16 int8 products into an int32 scalar), 3 rows x 2 steps of scalar
 * accumulators (4 rows x 1 for T = 1); int8-w: weights widened by VLDRB.S32
 * + VCVT, 4-lane VFMAs in the float "helium" product's lane order, 1 row x
 * 6 steps (4 rows x 1 for T = 1). Depth tails by tail predication. */
void mts_gemm_i8f32_helium(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const float *x, size_t x_stride,
                           float *y, size_t y_stride);
void mts_gemm_i8i8_helium(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const int8_t *xq, size_t xq_stride, const float *x_scale,
                          float *y, size_t y_stride);
#endif

/* "dsp": Cortex-M with the DSP extension (Armv7E-M: M4, M7; Armv8-M with
 * DSP: M33, M55), Thumb-2 (gemm_i8_m4dsp.c). int8-wa by SMLAD on int16
 * pairs from SXTB16: register tiles of 1 row x up to 6 steps (3 rows x 1
 * step for T = 1), the inputs unpacked once per 64-input panel into a
 * 768-byte stack buffer shared by all rows. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M' && \
    defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
#define MTS_GEMM_HAVE_M4DSP 1
void mts_gemm_i8i8_dsp(size_t rows, size_t depth, size_t steps,
                       const int8_t *w, size_t w_stride, const float *w_scale,
                       const int8_t *xq, size_t xq_stride, const float *x_scale,
                       float *y, size_t y_stride);
#endif
#if defined(MTS_GEMM_HAVE_M4F)
/* "m4f" (gemm_i8_m4dsp.c; the cores of the float "m4f" product): int8-w
 * with the float m4f tile of 4 rows x up to 4 steps in FPU registers, the
 * weights converted by LDRSB + VMOV + VCVT, sums in input order (VFMA). */
void mts_gemm_i8f32_m4f(size_t rows, size_t depth, size_t steps,
                        const int8_t *w, size_t w_stride, const float *w_scale,
                        const float *x, size_t x_stride,
                        float *y, size_t y_stride);
#endif

/* x86-64 (gemm_i8_x86.c), register tiles as in the float "avx2" (4 rows x 3
 * steps) and "avx512" (6 x 4) products, 8 x 1 for T = 1. int8-wa: "avx2" and
 * "avx512" (AVX-512BW) sign-extend to int16 and add product pairs into int32
 * lanes (VPMOVSXBW + VPMADDWD, exact); "avx512-vnni" sums 4 products per
 * int32 lane by VPDPBUSD on (w ^ 0x80) x Xq and subtracts 128 * sum Xq.
 * int8-w: weights widened to float32 (VPMOVSXBD + VCVTDQ2PS), 8 (16) FMA
 * lanes per output added in a fixed tree. */
#if defined(__AVX2__)
void mts_gemm_i8i8_avx2(size_t rows, size_t depth, size_t steps,
                        const int8_t *w, size_t w_stride, const float *w_scale,
                        const int8_t *xq, size_t xq_stride, const float *x_scale,
                        float *y, size_t y_stride);
#if defined(__FMA__)
void mts_gemm_i8f32_avx2(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);
#endif
#endif
#if defined(__AVX2__) && defined(__FMA__) && defined(__AVX512F__) && \
    defined(__AVX512BW__) && defined(__AVX512VL__)
#define MTS_GEMM_HAVE_AVX512_I8 1
void mts_gemm_i8i8_avx512(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const int8_t *xq, size_t xq_stride, const float *x_scale,
                          float *y, size_t y_stride);
void mts_gemm_i8f32_avx512(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const float *x, size_t x_stride,
                           float *y, size_t y_stride);
#if defined(__AVX512VNNI__)
void mts_gemm_i8i8_avx512_vnni(size_t rows, size_t depth, size_t steps,
                               const int8_t *w, size_t w_stride, const float *w_scale,
                               const int8_t *xq, size_t xq_stride, const float *x_scale,
                               float *y, size_t y_stride);
#endif
#endif

/* Every int8 variant built for this target, the default first (SIMD variants
 * for M4 DSP, Helium, NEON and x86 slot in here). */
extern const mts_gemm_i8f32_variant mts_gemm_i8f32_variants[];
extern const size_t mts_gemm_i8f32_variant_count;
extern const mts_gemm_i8i8_variant mts_gemm_i8i8_variants[];
extern const size_t mts_gemm_i8i8_variant_count;

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_GEMM_H */
