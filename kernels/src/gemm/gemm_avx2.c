/* AVX2 + FMA register-blocked product (x86-64 hosts without AVX-512, and
 * the valgrind build of `mtsrnn bench dram`):
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * The AVX-512 variant's design (gemm_avx512.c) in 8-lane ymm registers:
 * each output of a tile accumulates 8 partial sums over i = lane (mod 8),
 *
 *   acc[r][t][l] = fma(W[r][i + l], X[t][i + l], acc[r][t][l]),  i += 8
 *
 * the last chunk loaded under a mask (lanes past depth read nothing and add
 * zero), then the 8 lanes are added in one fixed tree,
 * ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), four outputs at a time.
 * Every output in every tile shape goes through exactly these operations,
 * so results are bit-identical for every block size T.
 *
 * Tiles: 8 rows x 1 step when steps == 1; otherwise groups of 4 rows swept
 * by tiles of 3 steps (12 accumulators + 3 inputs + 1 weight = the 16
 * registers), tails by smaller tiles; the same next-group prefetch as the
 * AVX-512 variant for weights of 32 MiB or more.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_AVX2_FMA)

#include <immintrin.h>

#include "gemm_x86.h"
#include "tile_walk.h"

#define MTS_AVX2_LANES 8
#define MTS_AVX2_GROUP_ROWS 4
#define MTS_AVX2_TILE_STEPS 3

/* One tile of `rows` x `steps` outputs (constants at every call, rows <= 8,
 * steps <= 3), summed over the whole depth with the accumulators in
 * registers; with `prefetch_next` (a constant too) it also asks for the next
 * `rows` weight rows into L2 (each line twice: cheaper than a test). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void gemm_tile(size_t rows, size_t steps, size_t depth,
                                        const float *w, size_t w_stride,
                                        const float *x, size_t x_stride,
                                        float *y, size_t y_stride, int prefetch_next)
{
    __m256 acc[8][3];
    MTS_UNROLL
    for (size_t r = 0; r < rows; r++)
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = _mm256_setzero_ps();

    size_t i = 0;
    for (; i + MTS_AVX2_LANES <= depth; i += MTS_AVX2_LANES) {
        __m256 xv[3];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = _mm256_loadu_ps(x + t * x_stride + i);
        if (prefetch_next) {
            MTS_UNROLL
            for (size_t r = 0; r < rows; r++)
                _mm_prefetch((const char *)(w + (rows + r) * w_stride + i), _MM_HINT_T1);
        }
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            __m256 wv = _mm256_loadu_ps(w + r * w_stride + i);
            if (steps > 2) /* (T = 2 is memory-bound: measured faster without) */
                MTS_IN_REGISTER(wv);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
    if (i < depth) {
        const __m256i tail = mts_x86_lane_mask(depth - i);
        __m256 xv[3];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = _mm256_maskload_ps(x + t * x_stride + i, tail);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            const __m256 wv = _mm256_maskload_ps(w + r * w_stride + i, tail);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }

    /* Y[t][r..r+3] = the lane sums of acc[r..r+3][t]. */
    const __m256 zero = _mm256_setzero_ps();
    MTS_UNROLL
    for (size_t t = 0; t < steps; t++) {
        MTS_UNROLL
        for (size_t r = 0; r < rows; r += 4) {
            const size_t here = rows - r < 4 ? rows - r : 4;
            const __m128 sums = mts_x86_reduce4_ps(acc[r][t], here > 1 ? acc[r + 1][t] : zero,
                                        here > 2 ? acc[r + 2][t] : zero,
                                        here > 3 ? acc[r + 3][t] : zero);
            if (here == 4)
                _mm_storeu_ps(y + t * y_stride + r, sums);
            else
                _mm_maskstore_ps(y + t * y_stride + r,
                                 _mm256_castsi256_si128(mts_x86_lane_mask(here)), sums);
        }
    }
}

/* gemm_tile with a run-time prefetch flag, resolved outside the hot loop. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void gemm_tile_pf(size_t rows, size_t steps, size_t depth,
                                           const float *w, size_t w_stride,
                                           const float *x, size_t x_stride,
                                           float *y, size_t y_stride, int prefetch_next)
{
    if (prefetch_next)
        gemm_tile(rows, steps, depth, w, w_stride, x, x_stride, y, y_stride, 1);
    else
        gemm_tile(rows, steps, depth, w, w_stride, x, x_stride, y, y_stride, 0);
}

/* The tile of R x S outputs at row r, step t, for tile_walk.h (in terms of
 * the product's arguments below). */
#define AVX2_TILE(R, S, r, t, prefetch)                                              \
    gemm_tile_pf(R, S, depth, w + (r) * w_stride, w_stride, x + (t) * x_stride, x_stride, \
                 y + (t) * y_stride + (r), y_stride, prefetch)

MTS_TARGET_AVX2 void mtsi_gemm_f32_avx2(size_t rows, size_t depth, size_t steps,
                        const float *w, size_t w_stride,
                        const float *x, size_t x_stride,
                        float *y, size_t y_stride)
{
    const int prefetch = rows * w_stride >= MTS_X86_PREFETCH_FLOATS;
    MTS_TILE_WALK(AVX2_TILE, rows, steps, MTS_AVX2_GROUP_ROWS, MTS_AVX2_TILE_STEPS, prefetch);
}

#else

/* Not built for this target; ISO C does not allow an empty translation unit. */
typedef int mts_gemm_avx2_not_built;

#endif /* MTS_HAVE_AVX2_FMA */
