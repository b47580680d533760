/* Portable register-blocked int8 products (docs/quantization.md), the int8
 * counterparts of gemm_tiled.c: a tile computes MTS_I8_TILE_ROWS outputs for
 * MTS_I8_TILE_STEPS time steps, so each weight byte loaded serves every step
 * of the tile and the weight stream is read once per block of T steps.
 *
 * int8-w:  Y[t][r] = w_scale[r] * (sum_i (float)Wq[r][i] * X[t][i]); each
 *          (row, step) sums in MTS_I8_LANES lanes (i = lane mod lanes) added
 *          in a fixed pairwise order, then the tail in order: the order
 *          depends only on depth, so results are bit-identical for every T
 *          (built with -ffp-contract=off, kernels/CMakeLists.txt: GCC would
 *          fuse the multiply-adds into FMAs for some tile shapes only).
 * int8-wa: acc = sum_i Wq[r][i] * Xq[t][i] in int32 (exact, so bit-identical
 *          to the reference), Y[t][r] = (float)acc * (w_scale[r] * x_scale[t]).
 */
#include "gemm_isa.h"

#include "../compiler.h"
#include "tiled_pass.h"

/* The int8-w tile (at most 4 x 4), overridable per core like gemm_tiled.c's
 * and for the same reason; the bits depend on the lanes and the depth only. */
#ifndef MTS_I8_TILE_ROWS
#define MTS_I8_TILE_ROWS 4
#endif
#ifndef MTS_I8_TILE_STEPS
#define MTS_I8_TILE_STEPS 4
#endif
#define MTS_I8_LANES 8
/* The float accumulators an int8-w tile may hold at once (tiled_pass.h),
 * as MTS_GEMM_TILE_ACCS in gemm_tiled.c: aarch64 64; the firmware per core. */
#if !defined(MTS_I8_TILE_ACCS) && defined(__aarch64__)
#define MTS_I8_TILE_ACCS 64
#endif
#ifdef MTS_I8_TILE_ACCS
#define MTS_I8_UNROLL MTS_UNROLL
#else
#define MTS_I8_TILE_ACCS ((size_t)-1)
#define MTS_I8_UNROLL
#endif
/* The int8-wa tile: 4 x 4 int32 accumulators where the compiler vectorises
 * the depth loop (x86, NEON). MTS_I8I8_TILE_ROWS / _STEPS (<= 4) override it
 * for cores that keep the tile in general-purpose registers, where 16
 * accumulators spill (the firmware sets them per core:
 * firmware/boards/CMakeLists.txt); a call of one step then still takes 4
 * rows per tile, each input serving 4 rows. Any tile gives the same bits:
 * the int32 sums are exact. */
#if defined(__aarch64__) && !defined(MTS_I8I8_TILE_ROWS) && !defined(MTS_I8I8_TILE_STEPS)
/* aarch64: GCC vectorises the depth loop, per output and 16 inputs SMULL,
 * SMULL2 and four SADDW(2) into four int32x4 sums: 4 x 4 outputs are 64
 * vector sums (they spilled: 0.547 instructions per multiply-add at T = 16),
 * 4 x 2 are 32 that it keeps in registers (0.490). */
#define MTS_I8I8_TILE_ROWS 4
#define MTS_I8I8_TILE_STEPS 2
#endif
#ifndef MTS_I8I8_TILE_ROWS
#define MTS_I8I8_TILE_ROWS 4
#endif
#ifndef MTS_I8I8_TILE_STEPS
#define MTS_I8I8_TILE_STEPS 4
#endif
/* The rows of an int8-wa tile of one step (a call with T = 1): 4, each
 * input serving 4 rows, whatever the int8-w tile (MTS_I8_TILE_ROWS, which
 * this count used to follow). */
#ifndef MTS_I8I8_ONE_STEP_ROWS
#define MTS_I8I8_ONE_STEP_ROWS 4
#endif
#if MTS_I8I8_ONE_STEP_ROWS > MTS_I8I8_TILE_ROWS
#define MTS_I8I8_MAX_ROWS MTS_I8I8_ONE_STEP_ROWS
#else
#define MTS_I8I8_MAX_ROWS MTS_I8I8_TILE_ROWS
#endif

static MTS_ALWAYS_INLINE void i8f32_tile(size_t rows, size_t steps, size_t depth,
                                         const int8_t *w, size_t w_stride,
                                         const float *w_scale,
                                         const float *x, size_t x_stride,
                                         float *y, size_t y_stride)
{
    float lane_sum[MTS_I8_TILE_ROWS][MTS_I8_TILE_STEPS][MTS_I8_LANES];
    const size_t whole = depth - depth % MTS_I8_LANES;
    const size_t pass = mtsi_tiled_pass_lanes(rows * steps, MTS_I8_LANES, MTS_I8_TILE_ACCS);
    if (pass == MTS_I8_LANES) {
        /* One pass: the lanes' sums are accumulated in place, the lanes'
         * loop left to GCC's loop vectoriser, which widens 8 weights to
         * float with vector SXTL and SCVTF on aarch64 (unrolled, they are
         * converted one by one). */
        for (size_t r = 0; r < rows; r++)
            for (size_t t = 0; t < steps; t++)
                for (size_t l = 0; l < MTS_I8_LANES; l++)
                    lane_sum[r][t][l] = 0.0f;
        for (size_t i = 0; i < whole; i += MTS_I8_LANES)
            for (size_t r = 0; r < rows; r++)
                for (size_t t = 0; t < steps; t++)
                    for (size_t l = 0; l < MTS_I8_LANES; l++)
                        lane_sum[r][t][l] += (float)w[r * w_stride + i + l] *
                                             x[t * x_stride + i + l];
    } else {
        /* A pass per group of `pass` lanes, lanes g .. g + pass - 1, each
         * group's sums kept in registers and stored once at its end. */
        for (size_t g = 0; g < MTS_I8_LANES; g += pass) {
            float acc[MTS_I8_TILE_ROWS][MTS_I8_TILE_STEPS][MTS_I8_LANES];
            MTS_I8_UNROLL
            for (size_t r = 0; r < rows; r++)
                MTS_I8_UNROLL
                for (size_t t = 0; t < steps; t++)
                    MTS_I8_UNROLL
                    for (size_t l = 0; l < pass; l++)
                        acc[r][t][l] = 0.0f;
            for (size_t i = g; i < whole; i += MTS_I8_LANES) {
                MTS_I8_UNROLL
                for (size_t r = 0; r < rows; r++) {
                    const int8_t *w_ri = w + r * w_stride + i;
                    MTS_I8_UNROLL
                    for (size_t t = 0; t < steps; t++) {
                        const float *x_ti = x + t * x_stride + i;
                        MTS_I8_UNROLL
                        for (size_t l = 0; l < pass; l++)
                            acc[r][t][l] += (float)w_ri[l] * x_ti[l];
                    }
                }
            }
            MTS_I8_UNROLL
            for (size_t r = 0; r < rows; r++)
                MTS_I8_UNROLL
                for (size_t t = 0; t < steps; t++)
                    MTS_I8_UNROLL
                    for (size_t l = 0; l < pass; l++)
                        lane_sum[r][t][g + l] = acc[r][t][l];
        }
    }

    MTS_I8_UNROLL
    for (size_t r = 0; r < rows; r++) {
        MTS_I8_UNROLL
        for (size_t t = 0; t < steps; t++) {
            float sum = mtsi_tiled_lane_sum(lane_sum[r][t], MTS_I8_LANES);
            for (size_t k = whole; k < depth; k++)
                sum += (float)w[r * w_stride + k] * x[t * x_stride + k];
            y[t * y_stride + r] = w_scale[r] * sum;
        }
    }
}

static MTS_ALWAYS_INLINE void i8i8_tile(size_t rows, size_t steps, size_t depth,
                                        const int8_t *w, size_t w_stride,
                                        const float *w_scale,
                                        const int8_t *xq, size_t xq_stride,
                                        const float *x_scale,
                                        float *y, size_t y_stride)
{
    int32_t acc[MTS_I8I8_MAX_ROWS][MTS_I8I8_TILE_STEPS];
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = 0;
    for (size_t i = 0; i < depth; i++) {
        int32_t x_i[MTS_I8I8_TILE_STEPS];
        for (size_t t = 0; t < steps; t++)
            x_i[t] = xq[t * xq_stride + i];
        for (size_t r = 0; r < rows; r++) {
            int32_t w_ri = w[r * w_stride + i];
            for (size_t t = 0; t < steps; t++)
                acc[r][t] += w_ri * x_i[t];
        }
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < steps; t++)
            y[t * y_stride + r] = (float)acc[r][t] * (w_scale[r] * x_scale[t]);
}

/* All step tiles of one group of `rows` output rows: 4-step tiles, then 2
 * and 1 for the rest (each shape specialised by inlining). */
static MTS_ALWAYS_INLINE void i8f32_row_group(size_t rows, size_t depth, size_t steps,
                                              const int8_t *w, size_t w_stride,
                                              const float *w_scale,
                                              const float *x, size_t x_stride,
                                              float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + MTS_I8_TILE_STEPS <= steps; t += MTS_I8_TILE_STEPS)
        i8f32_tile(rows, MTS_I8_TILE_STEPS, depth, w, w_stride, w_scale,
                   x + t * x_stride, x_stride, y + t * y_stride, y_stride);
    if (t + 2 <= steps) {
        i8f32_tile(rows, 2, depth, w, w_stride, w_scale,
                   x + t * x_stride, x_stride, y + t * y_stride, y_stride);
        t += 2;
    }
    if (t < steps)
        i8f32_tile(rows, 1, depth, w, w_stride, w_scale,
                   x + t * x_stride, x_stride, y + t * y_stride, y_stride);
}

static MTS_ALWAYS_INLINE void i8i8_row_group(size_t rows, size_t depth, size_t steps,
                                             const int8_t *w, size_t w_stride,
                                             const float *w_scale,
                                             const int8_t *xq, size_t xq_stride,
                                             const float *x_scale,
                                             float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + MTS_I8I8_TILE_STEPS <= steps; t += MTS_I8I8_TILE_STEPS)
        i8i8_tile(rows, MTS_I8I8_TILE_STEPS, depth, w, w_stride, w_scale,
                  xq + t * xq_stride, xq_stride, x_scale + t, y + t * y_stride, y_stride);
    if (MTS_I8I8_TILE_STEPS > 2 && t + 2 <= steps) {
        i8i8_tile(rows, 2, depth, w, w_stride, w_scale,
                  xq + t * xq_stride, xq_stride, x_scale + t, y + t * y_stride, y_stride);
        t += 2;
    }
    if (t < steps)
        i8i8_tile(rows, 1, depth, w, w_stride, w_scale,
                  xq + t * xq_stride, xq_stride, x_scale + t, y + t * y_stride, y_stride);
}

void mtsi_gemm_i8f32_tiled(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const float *x, size_t x_stride,
                           float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + MTS_I8_TILE_ROWS <= rows; r += MTS_I8_TILE_ROWS)
        i8f32_row_group(MTS_I8_TILE_ROWS, depth, steps, w + r * w_stride, w_stride,
                        w_scale + r, x, x_stride, y + r, y_stride);
    for (; r < rows; r++)
        i8f32_row_group(1, depth, steps, w + r * w_stride, w_stride,
                        w_scale + r, x, x_stride, y + r, y_stride);
}

void mtsi_gemm_i8i8_tiled(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const int8_t *xq, size_t xq_stride, const float *x_scale,
                          float *y, size_t y_stride)
{
    size_t r = 0;
#if MTS_I8I8_TILE_ROWS < MTS_I8I8_ONE_STEP_ROWS
    if (steps == 1)
        for (; r + MTS_I8I8_ONE_STEP_ROWS <= rows; r += MTS_I8I8_ONE_STEP_ROWS)
            i8i8_row_group(MTS_I8I8_ONE_STEP_ROWS, depth, 1, w + r * w_stride, w_stride,
                           w_scale + r, xq, xq_stride, x_scale, y + r, y_stride);
#endif
    for (; r + MTS_I8I8_TILE_ROWS <= rows; r += MTS_I8I8_TILE_ROWS)
        i8i8_row_group(MTS_I8I8_TILE_ROWS, depth, steps, w + r * w_stride, w_stride,
                       w_scale + r, xq, xq_stride, x_scale, y + r, y_stride);
    for (; r < rows; r++)
        i8i8_row_group(1, depth, steps, w + r * w_stride, w_stride,
                       w_scale + r, xq, xq_stride, x_scale, y + r, y_stride);
}
