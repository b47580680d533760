/* Private: the product variants behind the public variant tables
 * (mtsrnn/gemm.h: the equations, the function types and the tables). Each
 * variant is reached through its table entry (gemm_variants.c,
 * gemm_i8_variants.c); these declarations exist for the tables. Every
 * instruction-set variant is built exactly where its MTS_HAVE_ macro
 * (../isa.h) is defined. docs/kernels.md and docs/quantization.md describe
 * each one; the comments here give the tile shapes.
 */
#ifndef MTSRNN_GEMM_ISA_H
#define MTSRNN_GEMM_ISA_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/gemm.h"

#include "../isa.h"

/* The CPU features of each x86 product and of the aarch64 SDOT product (its
 * table entry's `requires`): the instruction sets its target attribute
 * enables (MTS_TARGET_*, gemm_x86.h; gemm_i8_neon.c). */
#define MTS_REQUIRES_AVX2 (MTS_CPU_AVX2 | MTS_CPU_FMA)
#define MTS_REQUIRES_AVX512 (MTS_REQUIRES_AVX2 | MTS_CPU_AVX512F | MTS_CPU_AVX512VL)
#define MTS_REQUIRES_AVX512_I8 (MTS_REQUIRES_AVX512 | MTS_CPU_AVX512BW)
#define MTS_REQUIRES_AVX512_VNNI (MTS_REQUIRES_AVX512_I8 | MTS_CPU_AVX512VNNI)
#define MTS_REQUIRES_DOTPROD MTS_CPU_DOTPROD

/* ---- float32 ------------------------------------------------------------- */

/* Portable register-blocked C (gemm_tiled.c): tiles of 4 output rows by 4
 * time steps, each accumulated in independent lanes that the compiler maps
 * onto SIMD registers. */
void mtsi_gemm_f32_tiled(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride);

#if defined(MTS_HAVE_AVX512)
/* AVX-512 intrinsics (gemm_avx512.c): 6 rows x 4 steps of zmm accumulators
 * (8 x 1 for a single step), 16 lanes per output added in a fixed tree. */
void mtsi_gemm_f32_avx512(size_t rows, size_t depth, size_t steps,
                          const float *w, size_t w_stride,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_AVX2_FMA)
/* AVX2 + FMA intrinsics (gemm_avx2.c): 4 rows x 3 steps of ymm accumulators
 * (8 x 1 for a single step), 8 lanes per output added in a fixed tree. */
void mtsi_gemm_f32_avx2(size_t rows, size_t depth, size_t steps,
                        const float *w, size_t w_stride,
                        const float *x, size_t x_stride,
                        float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_NEON)
/* NEON intrinsics (gemm_neon.c; aarch64, armv7-a): 4 rows x 5 steps register
 * tiles (4 x 2 on armv7), one 4-lane accumulator per output. */
void mtsi_gemm_f32_neon(size_t rows, size_t depth, size_t steps,
                        const float *w, size_t w_stride,
                        const float *x, size_t x_stride,
                        float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_M4F)
/* "m4f" (gemm_m4f.c): 4 rows x up to 4 steps kept in the 32 FPU registers,
 * loads by VLDM; sums in input order like the reference. */
void mtsi_gemm_f32_m4f(size_t rows, size_t depth, size_t steps,
                       const float *w, size_t w_stride,
                       const float *x, size_t x_stride,
                       float *y, size_t y_stride);
/* "m4f-wstat" (gemm_m4f_wstat.c): 4 rows x 5 inputs of W held in FPU
 * registers over every step of the call (each weight read once per
 * block), the sums in Y; input order like the reference. */
void mtsi_gemm_f32_m4f_wstat(size_t rows, size_t depth, size_t steps,
                             const float *w, size_t w_stride,
                             const float *x, size_t x_stride,
                             float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_HELIUM)
/* "helium" (gemm_helium.c): four rows in the lanes of an accumulator, per
 * input one gather of W[r..r+3][i] and one VFMA by the scalar x[t][i];
 * 8 rows x 2 steps (8 x 1 for an odd last step, 12 x 1 for T = 1), every
 * output summed in input order. */
void mtsi_gemm_f32_helium(size_t rows, size_t depth, size_t steps,
                          const float *w, size_t w_stride,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride);
#endif

/* ---- int8-w (i8f32) and int8-wa (i8i8) ----------------------------------- */

/* Portable register tiles of 4 rows x 4 steps (gemm_i8_tiled.c; lanes as in
 * the float tiled product for int8-w, int32 accumulators for int8-wa). */
void mtsi_gemm_i8f32_tiled(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const float *x, size_t x_stride,
                           float *y, size_t y_stride);
void mtsi_gemm_i8i8_tiled(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const int8_t *xq, size_t xq_stride, const float *x_scale,
                          float *y, size_t y_stride);

#if defined(MTS_HAVE_NEON)
/* NEON (gemm_i8_neon.c): register tiles of 4 rows x 3 steps (SDOT 4 x 5;
 * 4 x 2 on armv7). int8-w: weights widened to float32, 4-lane multiply-adds
 * in the float NEON product's lane order; int8-wa: int32 accumulators by
 * SMULL + SADALP ("neon") or by SDOT ("neon-sdot", listed before "neon"). */
void mtsi_gemm_i8f32_neon(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride);
void mtsi_gemm_i8i8_neon(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const int8_t *xq, size_t xq_stride, const float *x_scale,
                         float *y, size_t y_stride);
#if defined(MTS_HAVE_NEON_SDOT)
void mtsi_gemm_i8i8_neon_sdot(size_t rows, size_t depth, size_t steps,
                              const int8_t *w, size_t w_stride, const float *w_scale,
                              const int8_t *xq, size_t xq_stride, const float *x_scale,
                              float *y, size_t y_stride);
#endif
#endif

#if defined(MTS_HAVE_HELIUM)
/* Helium (gemm_i8_helium.c). int8-wa: VMLADAVA.S8 (16 int8 products into an
 * int32 scalar), 3 rows x 2 steps of scalar accumulators (4 rows x 1 for
 * T = 1); int8-w: weights widened by VLDRB.S32 + VCVT, 4-lane VFMAs in the
 * float "helium" product's lane order, 1 row x 6 steps (4 rows x 1 for
 * T = 1). Depth tails by tail predication. */
void mtsi_gemm_i8f32_helium(size_t rows, size_t depth, size_t steps,
                            const int8_t *w, size_t w_stride, const float *w_scale,
                            const float *x, size_t x_stride,
                            float *y, size_t y_stride);
void mtsi_gemm_i8i8_helium(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const int8_t *xq, size_t xq_stride, const float *x_scale,
                           float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_DSP)
/* "dsp" (gemm_i8_dsp.c): int8-wa by SMLAD on int16 pairs from SXTB16,
 * register tiles of 1 row x up to 6 steps (3 rows x 1 step for T = 1), the
 * inputs unpacked once per 64-input panel into a 768-byte stack buffer
 * shared by all rows. */
void mtsi_gemm_i8i8_dsp(size_t rows, size_t depth, size_t steps,
                        const int8_t *w, size_t w_stride, const float *w_scale,
                        const int8_t *xq, size_t xq_stride, const float *x_scale,
                        float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_ARMV6M)
/* "armv6m" (gemm_i8_armv6m.c): int8-wa for Armv6-M, 1 row x up to 3 steps
 * of int32 accumulators, the inputs widened to int32 once per 32-input
 * panel into a 384-byte stack buffer; 2 rows x 1 step for a single step. */
void mtsi_gemm_i8i8_armv6m(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const int8_t *xq, size_t xq_stride, const float *x_scale,
                           float *y, size_t y_stride);
#endif

#if defined(MTS_HAVE_M4F)
/* "m4f" (gemm_i8_m4f.c): int8-w with the float m4f tile of 4 rows x up to
 * 4 steps in FPU registers, the weights converted by LDRSB + VMOV + VCVT,
 * sums in input order (VFMA). */
void mtsi_gemm_i8f32_m4f(size_t rows, size_t depth, size_t steps,
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
#if defined(MTS_HAVE_AVX2)
void mtsi_gemm_i8i8_avx2(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const int8_t *xq, size_t xq_stride, const float *x_scale,
                         float *y, size_t y_stride);
#endif
#if defined(MTS_HAVE_AVX2_FMA)
void mtsi_gemm_i8f32_avx2(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride);
#endif
#if defined(MTS_HAVE_AVX512_I8)
void mtsi_gemm_i8i8_avx512(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const int8_t *xq, size_t xq_stride, const float *x_scale,
                           float *y, size_t y_stride);
void mtsi_gemm_i8f32_avx512(size_t rows, size_t depth, size_t steps,
                            const int8_t *w, size_t w_stride, const float *w_scale,
                            const float *x, size_t x_stride,
                            float *y, size_t y_stride);
#endif
#if defined(MTS_HAVE_AVX512_VNNI)
void mtsi_gemm_i8i8_avx512_vnni(size_t rows, size_t depth, size_t steps,
                                const int8_t *w, size_t w_stride, const float *w_scale,
                                const int8_t *xq, size_t xq_stride, const float *x_scale,
                                float *y, size_t y_stride);
#endif

#endif /* MTSRNN_GEMM_ISA_H */
