/* NEON blocked product (Arm Advanced SIMD: aarch64, armv7-a with NEON):
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * Register tiles of 4 output rows x MTS_NEON_TILE_STEPS time steps. Each
 * (row, step) pair accumulates in one 4-lane register, lane l summing the
 * terms i = l mod 4 with fused multiply-adds; per 4 inputs the tile loads its
 * 4 weight rows once for all its steps and each input row once for all its
 * rows, so the weights are streamed once per block of T steps. AArch64 has 32
 * vector registers: 4 x 5 tiles hold 20 accumulators, 4 weight vectors and
 * the 5 input vectors GCC loads ahead (4 x 6 spilled two accumulators per
 * pass); armv7 has 16: 4 x 2 tiles (8 + 4 + 2).
 *
 * The last depth mod 4 inputs are copied into zero-padded 4-float vectors
 * and go through one more multiply-add (the padding adds exact zeros), then
 * the lanes are added as (l0 + l1) + (l2 + l3) by every tile shape (pairwise
 * adds; four rows at once give a vector of four sums, stored in one go).
 * An output's summation order therefore depends only on depth, never on
 * where its row or step falls in a tile, so results are bit-identical for
 * every block size T and every split of a stream.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_NEON)
#include <arm_neon.h>

#include "../compiler.h"
#include "neon_common.h"

#define MTS_NEON_TILE_ROWS 4
#if defined(__aarch64__)
#define MTS_NEON_TILE_STEPS 5
#else
#define MTS_NEON_TILE_STEPS 2
#endif

/* The n < 4 floats at p, then zeros. */
static inline float32x4_t neon_load_tail(const float *p, size_t n)
{
    float padded[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t k = 0; k < n; k++)
        padded[k] = p[k];
    return vld1q_f32(padded);
}

/* The tile's accumulators are named variables a<row>_<step>, written out by
 * these macros for every step a tile can have: GCC keeps an array of vectors
 * indexed in loops (even fully unrolled ones) in memory, storing all 24
 * accumulators to the stack on every pass of the depth loop. */
#if MTS_NEON_TILE_STEPS == 5
#define MTS_NEON_EACH_STEP(M) M(0) M(1) M(2) M(3) M(4)
#else
#define MTS_NEON_EACH_STEP(M) M(0) M(1)
#endif
#define MTS_NEON_DECLARE(t) \
    float32x4_t a0_##t = zero, a1_##t = zero, a2_##t = zero, a3_##t = zero;
#define MTS_NEON_STEP_MLA(t, x_load)                  \
    if ((t) < steps) {                                \
        const float32x4_t xv = (x_load);              \
        a0_##t = MTS_NEON_MLA(a0_##t, w0, xv);        \
        if (rows == MTS_NEON_TILE_ROWS) {             \
            a1_##t = MTS_NEON_MLA(a1_##t, w1, xv);    \
            a2_##t = MTS_NEON_MLA(a2_##t, w2, xv);    \
            a3_##t = MTS_NEON_MLA(a3_##t, w3, xv);    \
        }                                             \
    }
/* One pointer per input row, read at x_<t> + k (neon_common.h: armv7
 * advances the pointers, aarch64 the index k). */
#define MTS_NEON_X_POINTER(t) const float *x_##t = (t) < steps ? x + (t) * x_stride : x;
#define MTS_NEON_MLA_FULL(t) \
    MTS_NEON_STEP_MLA(t, vld1q_f32(x_##t + k)) MTS_NEON_ADVANCE(x_##t, 4);
#define MTS_NEON_MLA_TAIL(t) MTS_NEON_STEP_MLA(t, neon_load_tail(x_##t + k, depth - i))
#define MTS_NEON_STORE(t)                                                              \
    if ((t) < steps) {                                                                 \
        if (rows == MTS_NEON_TILE_ROWS)                                                \
            vst1q_f32(y + (t) * y_stride, neon_sum4(a0_##t, a1_##t, a2_##t, a3_##t));  \
        else                                                                           \
            y[(t) * y_stride] = neon_sum1(a0_##t);                                     \
    }

/* One tile of `rows` (1 or 4) x `steps` (<= MTS_NEON_TILE_STEPS), both
 * constants at each call so every shape is specialised. */
static MTS_ALWAYS_INLINE void neon_tile(size_t rows, size_t steps, size_t depth,
                                        const float *w, size_t w_stride,
                                        const float *x, size_t x_stride,
                                        float *y, size_t y_stride)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t w0, w1 = zero, w2 = zero, w3 = zero;
    MTS_NEON_EACH_STEP(MTS_NEON_DECLARE)

    const int full = rows == MTS_NEON_TILE_ROWS;
    const float *w_0 = w, *w_1 = full ? w + w_stride : w, *w_2 = full ? w + 2 * w_stride : w,
                *w_3 = full ? w + 3 * w_stride : w;
    MTS_NEON_EACH_STEP(MTS_NEON_X_POINTER)
    size_t k = 0;
    for (size_t n = depth / 4; n > 0; n--) {
        w0 = vld1q_f32(w_0 + k);
        MTS_NEON_ADVANCE(w_0, 4);
        if (rows == MTS_NEON_TILE_ROWS) {
            w1 = vld1q_f32(w_1 + k);
            w2 = vld1q_f32(w_2 + k);
            w3 = vld1q_f32(w_3 + k);
            MTS_NEON_ADVANCE(w_1, 4);
            MTS_NEON_ADVANCE(w_2, 4);
            MTS_NEON_ADVANCE(w_3, 4);
        }
        MTS_NEON_EACH_STEP(MTS_NEON_MLA_FULL)
        MTS_NEON_ADVANCE_INDEX(k, 4);
    }
    const size_t i = depth - depth % 4;
    if (i < depth) {
        w0 = neon_load_tail(w_0 + k, depth - i);
        if (rows == MTS_NEON_TILE_ROWS) {
            w1 = neon_load_tail(w_1 + k, depth - i);
            w2 = neon_load_tail(w_2 + k, depth - i);
            w3 = neon_load_tail(w_3 + k, depth - i);
        }
        MTS_NEON_EACH_STEP(MTS_NEON_MLA_TAIL)
    }
    MTS_NEON_EACH_STEP(MTS_NEON_STORE)
}

/* All step tiles for one group of `rows` output rows: full tiles, then the
 * remainder by tiles of 4, 2 and 1 steps. */
static MTS_ALWAYS_INLINE void neon_row_group(size_t rows, size_t depth, size_t steps,
                                             const float *w, size_t w_stride,
                                             const float *x, size_t x_stride,
                                             float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + MTS_NEON_TILE_STEPS <= steps; t += MTS_NEON_TILE_STEPS)
        neon_tile(rows, MTS_NEON_TILE_STEPS, depth, w, w_stride, x + t * x_stride, x_stride,
                  y + t * y_stride, y_stride);
#if MTS_NEON_TILE_STEPS > 4
    if (t + 4 <= steps) {
        neon_tile(rows, 4, depth, w, w_stride, x + t * x_stride, x_stride, y + t * y_stride,
                  y_stride);
        t += 4;
    }
#endif
#if MTS_NEON_TILE_STEPS > 2
    if (t + 2 <= steps) {
        neon_tile(rows, 2, depth, w, w_stride, x + t * x_stride, x_stride, y + t * y_stride,
                  y_stride);
        t += 2;
    }
#endif
    if (t < steps)
        neon_tile(rows, 1, depth, w, w_stride, x + t * x_stride, x_stride, y + t * y_stride,
                  y_stride);
}

void mtsi_gemm_f32_neon(size_t rows, size_t depth, size_t steps,
                        const float *w, size_t w_stride,
                        const float *x, size_t x_stride,
                        float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + MTS_NEON_TILE_ROWS <= rows; r += MTS_NEON_TILE_ROWS)
        neon_row_group(MTS_NEON_TILE_ROWS, depth, steps, w + r * w_stride, w_stride, x,
                       x_stride, y + r, y_stride);
    for (; r < rows; r++)
        neon_row_group(1, depth, steps, w + r * w_stride, w_stride, x, x_stride, y + r,
                       y_stride);
}

#else
/* No NEON on this target, or MTSRNN_SIMD=none: nothing to build. */
typedef int mts_gemm_neon_not_built;
#endif
