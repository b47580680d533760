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
#include "tiled_pass.h"

/* The tile: at most 4 x 4. A build for a core whose registers cannot hold
 * rows x steps x lanes accumulators (they spill to the stack every pass)
 * sets a smaller one, or keeps it and limits the sums a tile holds at once
 * (MTS_GEMM_TILE_ACCS below). Any tile gives the same bits: an output's
 * summation order depends on its lanes and the depth only. */
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

/* The float accumulators a tile may hold at once (tiled_pass.h): stated
 * where 4 x 4 x MTS_GEMM_LANES do not fit the registers. aarch64: 64, 16 of
 * its 32 vectors, which leaves room for the 4 + 4 loaded rows and inputs
 * (a 4 x 4 tile sums 4 lanes per pass, a 4 x 1 all 8). The Cortex-M
 * firmware needs none: its 4 x 4 x 1 lane (MTS_GEMM_LANES there) fits. */
#if !defined(MTS_GEMM_TILE_ACCS) && defined(__aarch64__)
#define MTS_GEMM_TILE_ACCS 64
#endif
#ifdef MTS_GEMM_TILE_ACCS
#define MTS_GEMM_UNROLL MTS_UNROLL
#else
#define MTS_GEMM_TILE_ACCS ((size_t)-1)
#define MTS_GEMM_UNROLL
#endif

/* One tile of `rows` x `steps` (both <= the tile maximum, passed as
 * constants so each shape is specialised). */
static MTS_ALWAYS_INLINE void gemm_tile(size_t rows, size_t steps, size_t depth,
                                        const float *w, size_t w_stride,
                                        const float *x, size_t x_stride,
                                        float *y, size_t y_stride)
{
    float lane_sum[MTS_GEMM_TILE_ROWS][MTS_GEMM_TILE_STEPS][MTS_GEMM_LANES];
    const size_t whole = depth - depth % MTS_GEMM_LANES;
    const size_t pass = mtsi_tiled_pass_lanes(rows * steps, MTS_GEMM_LANES, MTS_GEMM_TILE_ACCS);
    if (pass == MTS_GEMM_LANES) {
        /* One pass: the lanes' sums are accumulated in place. */
        for (size_t r = 0; r < rows; r++)
            for (size_t t = 0; t < steps; t++)
                for (size_t l = 0; l < MTS_GEMM_LANES; l++)
                    lane_sum[r][t][l] = 0.0f;
        for (size_t i = 0; i < whole; i += MTS_GEMM_LANES) {
            MTS_GEMM_UNROLL
            for (size_t r = 0; r < rows; r++) {
                const float *w_ri = w + r * w_stride + i;
                MTS_GEMM_UNROLL
                for (size_t t = 0; t < steps; t++) {
                    const float *x_ti = x + t * x_stride + i;
                    MTS_GEMM_UNROLL
                    for (size_t l = 0; l < MTS_GEMM_LANES; l++)
                        lane_sum[r][t][l] = MTS_TILED_MAC(lane_sum[r][t][l], w_ri[l], x_ti[l]);
                }
            }
        }
    } else {
        /* A pass per group of `pass` lanes, lanes g .. g + pass - 1, each
         * group's sums kept in registers and stored once at its end. */
        for (size_t g = 0; g < MTS_GEMM_LANES; g += pass) {
            float acc[MTS_GEMM_TILE_ROWS][MTS_GEMM_TILE_STEPS][MTS_GEMM_LANES];
            MTS_GEMM_UNROLL
            for (size_t r = 0; r < rows; r++)
                MTS_GEMM_UNROLL
                for (size_t t = 0; t < steps; t++)
                    MTS_GEMM_UNROLL
                    for (size_t l = 0; l < pass; l++)
                        acc[r][t][l] = 0.0f;
            for (size_t i = g; i < whole; i += MTS_GEMM_LANES) {
                MTS_GEMM_UNROLL
                for (size_t r = 0; r < rows; r++) {
                    const float *w_ri = w + r * w_stride + i;
                    MTS_GEMM_UNROLL
                    for (size_t t = 0; t < steps; t++) {
                        const float *x_ti = x + t * x_stride + i;
                        MTS_GEMM_UNROLL
                        for (size_t l = 0; l < pass; l++)
                            acc[r][t][l] = MTS_TILED_MAC(acc[r][t][l], w_ri[l], x_ti[l]);
                    }
                }
            }
            MTS_GEMM_UNROLL
            for (size_t r = 0; r < rows; r++)
                MTS_GEMM_UNROLL
                for (size_t t = 0; t < steps; t++)
                    MTS_GEMM_UNROLL
                    for (size_t l = 0; l < pass; l++)
                        lane_sum[r][t][g + l] = acc[r][t][l];
        }
    }

    MTS_GEMM_UNROLL
    for (size_t r = 0; r < rows; r++) {
        MTS_GEMM_UNROLL
        for (size_t t = 0; t < steps; t++) {
            float sum = mtsi_tiled_lane_sum(lane_sum[r][t], MTS_GEMM_LANES);
            for (size_t k = whole; k < depth; k++)
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
