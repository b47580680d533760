/* Portable register-blocked product:
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * A tile computes MTS_GEMM_TILE_ROWS outputs for MTS_GEMM_TILE_STEPS time
 * steps at once: each weight loaded is used for every step of the tile and
 * each input loaded for every row, so the weight stream is read once per
 * block of T steps (the point of multi-time-step execution) and the loads
 * per multiply-add fall from 2 to (rows + steps) / (rows * steps).
 *
 * Each (row, step) pair accumulates in MTS_GEMM_LANES independent partial
 * sums (i = lane mod MTS_GEMM_LANES), which the compiler maps onto SIMD
 * registers without needing -ffast-math; the lanes are then added in a fixed
 * pairwise order. The summation order of an output therefore depends only on
 * depth, never on where its step falls in a tile, so results are
 * bit-identical for every block size T and every row group
 * (tests/c/test_model.c checks it on every target). Each multiply-add is
 * written as one (MTS_TILED_MAC: fused where the target has an FMA
 * instruction, __FP_FAST_FMAF), not left to contraction: with
 * -ffp-contract=fast the compiler fused some tile shapes' a * b + c and not
 * others' (aarch64 GCC 12 the depth tail of a 4-row tile; x86-64 GCC 12 with
 * -march=native a step's sums by its place in a tile).
 */
#include "gemm_isa.h"

#include "../compiler.h"

/* The tile: at most 4 x 4. A build for a core whose registers cannot hold
 * rows x steps x lanes accumulators (they spill to the stack every pass)
 * sets a smaller one (firmware/boards/CMakeLists.txt, per core). Any tile
 * gives the same bits: an output's summation order depends on its lanes and
 * the depth only. */
#ifndef MTS_GEMM_TILE_ROWS
#define MTS_GEMM_TILE_ROWS 4
#endif
#ifndef MTS_GEMM_TILE_STEPS
#define MTS_GEMM_TILE_STEPS 4
#endif
/* Lanes per output: the width of the compiler's own vectors, which it
 * auto-vectorises the lanes into (the target's -m flags, not a product
 * choice of isa.h: the portable products are compiled for the baseline). */
#ifndef MTS_GEMM_LANES
#if defined(__AVX512F__)
#define MTS_GEMM_LANES 16
#else
#define MTS_GEMM_LANES 8
#endif
#endif

#ifdef __FP_FAST_FMAF
#define MTS_TILED_MAC(acc, a, b) __builtin_fmaf((a), (b), (acc))
#else
#define MTS_TILED_MAC(acc, a, b) ((acc) + (a) * (b))
#endif

/* One tile of `rows` x `steps` (both <= the tile maximum, passed as
 * constants so each shape is specialised). */
static MTS_ALWAYS_INLINE void gemm_tile(size_t rows, size_t steps, size_t depth,
                                        const float *w, size_t w_stride,
                                        const float *x, size_t x_stride,
                                        float *y, size_t y_stride)
{
    float acc[MTS_GEMM_TILE_ROWS][MTS_GEMM_TILE_STEPS][MTS_GEMM_LANES];
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < steps; t++)
            for (size_t l = 0; l < MTS_GEMM_LANES; l++)
                acc[r][t][l] = 0.0f;

    size_t i = 0;
    for (; i + MTS_GEMM_LANES <= depth; i += MTS_GEMM_LANES) {
        for (size_t r = 0; r < rows; r++) {
            const float *w_ri = w + r * w_stride + i;
            for (size_t t = 0; t < steps; t++) {
                const float *x_ti = x + t * x_stride + i;
                for (size_t l = 0; l < MTS_GEMM_LANES; l++)
                    acc[r][t][l] = MTS_TILED_MAC(acc[r][t][l], w_ri[l], x_ti[l]);
            }
        }
    }

    for (size_t r = 0; r < rows; r++) {
        for (size_t t = 0; t < steps; t++) {
            /* Pairwise lane reduction in a fixed order. */
            for (size_t half = MTS_GEMM_LANES / 2; half > 0; half /= 2)
                for (size_t l = 0; l < half; l++)
                    acc[r][t][l] += acc[r][t][l + half];
            float sum = acc[r][t][0];
            for (size_t k = i; k < depth; k++)
                sum = MTS_TILED_MAC(sum, w[r * w_stride + k], x[t * x_stride + k]);
            y[t * y_stride + r] = sum;
        }
    }
}

/* All step tiles for one group of `rows` output rows. */
static MTS_ALWAYS_INLINE void gemm_row_group(size_t rows, size_t depth, size_t steps,
                                             const float *w, size_t w_stride,
                                             const float *x, size_t x_stride,
                                             float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + MTS_GEMM_TILE_STEPS <= steps; t += MTS_GEMM_TILE_STEPS)
        gemm_tile(rows, MTS_GEMM_TILE_STEPS, depth, w, w_stride,
                  x + t * x_stride, x_stride, y + t * y_stride, y_stride);
#if MTS_GEMM_TILE_STEPS > 2
    if (t + 2 <= steps) {
        gemm_tile(rows, 2, depth, w, w_stride,
                  x + t * x_stride, x_stride, y + t * y_stride, y_stride);
        t += 2;
    }
#endif
#if MTS_GEMM_TILE_STEPS > 1
    if (t < steps)
        gemm_tile(rows, 1, depth, w, w_stride,
                  x + t * x_stride, x_stride, y + t * y_stride, y_stride);
#endif
}

void mtsi_gemm_f32_tiled(size_t rows, size_t depth, size_t steps,
                         const float *w, size_t w_stride,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + MTS_GEMM_TILE_ROWS <= rows; r += MTS_GEMM_TILE_ROWS)
        gemm_row_group(MTS_GEMM_TILE_ROWS, depth, steps, w + r * w_stride, w_stride,
                       x, x_stride, y + r, y_stride);
    for (; r < rows; r++)
        gemm_row_group(1, depth, steps, w + r * w_stride, w_stride,
                       x, x_stride, y + r, y_stride);
}
