/* AVX-512 register-blocked product (x86-64 hosts with AVX-512F):
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * Why intrinsics: GCC keeps the portable variant's tile accumulators in
 * memory (see gemm_tiled.c), which halves its speed on long rows. Here a
 * tile of ROWS x STEPS outputs lives in ROWS * STEPS zmm registers, each a
 * 16-lane partial sum over i = lane (mod 16):
 *
 *   acc[r][t][l] = fma(W[r][i + l], X[t][i + l], acc[r][t][l]),  i += 16
 *
 * the last chunk loaded under a mask (lanes past depth read nothing and add
 * zero). The 16 lanes of each output are then added in one fixed tree,
 * ((l + l^8) + (l^4 + l^12)) for l < 4, then (p0 + p2) + (p1 + p3), four
 * outputs at a time with shuffles. Every output, in every tile shape, goes
 * through exactly these operations, so its value depends only on depth and
 * is bit-identical for every block size T and every split of a stream.
 *
 * Tiles: 8 rows x 1 step when steps == 1 (a matrix-vector product: eight
 * weight streams in flight), otherwise groups of 6 rows, each swept by tiles
 * of 4 steps (24 accumulators + 4 inputs + 1 weight of the 32 registers; 10
 * loads per 24 multiply-adds), tails by smaller tiles. Row group outer, step
 * tiles inner, so a group's weight rows come from memory once per block and
 * from cache for its other step tiles. For weights of 32 MiB or more (beyond
 * a typical last-level cache) the first tile of a group also prefetches the
 * next group's rows into L2: measured on a Zen 4 with an SRU of hidden 2048,
 * 1.3x at T = 1 and 5-10% at T = 4..16; on weights that stay in cache the
 * prefetches cost ~10%, hence the threshold.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_AVX512)

#include <immintrin.h>

#include "gemm_x86.h"
#include "tile_walk.h"

#define MTS_AVX512_LANES 16
/* Output rows per group (6 x 4 steps: 24 accumulators, 4 inputs and one
 * weight of the 32 zmm registers). */
#define MTS_AVX512_GROUP_ROWS 6
#define MTS_AVX512_TILE_STEPS 4

/* Sum each of a, b, c, d over its 16 lanes (in the fixed tree above) into
 * the four floats of the result, in that order. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512 __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d)
{
    /* 128-bit blocks: ab = {a0+a2, a1+a3, b0+b2, b1+b3}, element-wise. */
    const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44),
                                    _mm512_shuffle_f32x4(a, b, 0xEE));
    const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44),
                                    _mm512_shuffle_f32x4(c, d, 0xEE));
    /* Blocks: {a0+a2 + a1+a3, b.., c.., d..}: four partial sums per output. */
    const __m512 abcd = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88),
                                      _mm512_shuffle_f32x4(ab, cd, 0xDD));
    /* Within each block: {p0+p2, p1+p3, ...}, then (p0+p2) + (p1+p3). */
    const __m512 half = _mm512_add_ps(abcd, _mm512_permute_ps(abcd, 0x4E));
    const __m512 sums = _mm512_add_ps(half, _mm512_permute_ps(half, 0xB1));
    const __m512i first_of_block = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0,
                                                    0, 0, 0, 0, 12, 8, 4, 0);
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(first_of_block, sums));
}

/* One tile of `rows` x `steps` outputs (constants at every call, rows <= 8,
 * steps <= 4), summed over the whole depth with the accumulators in
 * registers. With `prefetch_next` (a constant too) it also asks for the
 * next `rows` weight rows, one line per row per chunk, into L2. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512 void gemm_tile(size_t rows, size_t steps, size_t depth,
                                        const float *w, size_t w_stride,
                                        const float *x, size_t x_stride,
                                        float *y, size_t y_stride, int prefetch_next)
{
    __m512 acc[8][4];
    MTS_UNROLL
    for (size_t r = 0; r < rows; r++)
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = _mm512_setzero_ps();

    size_t i = 0;
    for (; i + MTS_AVX512_LANES <= depth; i += MTS_AVX512_LANES) {
        __m512 xv[4];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = _mm512_loadu_ps(x + t * x_stride + i);
        if (prefetch_next) {
            MTS_UNROLL
            for (size_t r = 0; r < rows; r++)
                _mm_prefetch((const char *)(w + (rows + r) * w_stride + i), _MM_HINT_T1);
        }
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            __m512 wv = _mm512_loadu_ps(w + r * w_stride + i);
            if (steps > 2) /* (T = 2 is memory-bound: measured faster without) */
                MTS_IN_REGISTER(wv);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
    if (i < depth) {
        const __mmask16 tail = (__mmask16)((1u << (depth - i)) - 1u);
        __m512 xv[4];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = _mm512_maskz_loadu_ps(tail, x + t * x_stride + i);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            const __m512 wv = _mm512_maskz_loadu_ps(tail, w + r * w_stride + i);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }

    /* Y[t][r..r+3] = the lane sums of acc[r..r+3][t]. */
    const __m512 zero = _mm512_setzero_ps();
    MTS_UNROLL
    for (size_t t = 0; t < steps; t++) {
        MTS_UNROLL
        for (size_t r = 0; r < rows; r += 4) {
            const size_t here = rows - r < 4 ? rows - r : 4;
            const __m128 sums = reduce4(acc[r][t], here > 1 ? acc[r + 1][t] : zero,
                                        here > 2 ? acc[r + 2][t] : zero,
                                        here > 3 ? acc[r + 3][t] : zero);
            _mm_mask_storeu_ps(y + t * y_stride + r, (__mmask8)((1u << here) - 1u), sums);
        }
    }
}

/* gemm_tile with a run-time prefetch flag, resolved outside the hot loop. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512 void gemm_tile_pf(size_t rows, size_t steps, size_t depth,
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
#define AVX512_TILE(R, S, r, t, prefetch)                                            \
    gemm_tile_pf(R, S, depth, w + (r) * w_stride, w_stride, x + (t) * x_stride, x_stride, \
                 y + (t) * y_stride + (r), y_stride, prefetch)

MTS_TARGET_AVX512 void mtsi_gemm_f32_avx512(size_t rows, size_t depth, size_t steps,
                          const float *w, size_t w_stride,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride)
{
    /* Software prefetch pays only when the weights come from DRAM (1.35x
     * at T = 1 for 48 MiB); on weights that stay in a 32 MiB L3 it costs
     * ~10%, so it is used only for products at least that large. */
    const int prefetch = rows * w_stride >= MTS_X86_PREFETCH_FLOATS;
    MTS_TILE_WALK(AVX512_TILE, rows, steps, MTS_AVX512_GROUP_ROWS, MTS_AVX512_TILE_STEPS,
                  prefetch);
}

#else

/* Not built for this target; ISO C does not allow an empty translation unit. */
typedef int mts_gemm_avx512_not_built;

#endif /* MTS_HAVE_AVX512 */
