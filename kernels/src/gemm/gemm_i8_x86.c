/* x86 int8 products (docs/quantization.md; x86-64 with AVX2, AVX-512):
 *
 *   int8-w  "avx512", "avx2":
 *       Y[t][r] = w_scale[r] * (sum_i (float)Wq[r][i] * X[t][i])
 *   int8-wa "avx512-vnni", "avx512", "avx2":
 *       acc     = sum_i Wq[r][i] * Xq[t][i]                       (int32, exact)
 *       Y[t][r] = (float)acc * (w_scale[r] * x_scale[t])
 *
 * Register tiles as in the float products (gemm_avx2.c, gemm_avx512.c):
 * AVX2 4 rows x 3 steps of ymm accumulators, AVX-512 6 rows x 4 steps of
 * zmm accumulators, 8 rows x 1 step for a single step; each weight chunk is
 * loaded once for all the steps of its tile, so the weights are streamed
 * once per block of T steps.
 *
 * int8-wa, one int32 accumulator vector per (row, step):
 * - "avx2", "avx512": 16 (32) int8 of a row sign-extended to int16
 *   (VPMOVSXBW), VPMADDWD multiplies the int16 pairs and adds each two
 *   adjacent products into an int32 lane (|a*b + c*d| <= 2 * 127 * 127, no
 *   saturation), VPADDD into the accumulator: exact for any int8 values.
 * - "avx512-vnni": VPDPBUSD multiplies 4 unsigned bytes by 4 signed bytes
 *   and adds the 4 products to an int32 lane, 64 inputs per instruction. The
 *   weights are made unsigned by flipping their sign bit (w ^ 0x80 = w + 128
 *   as u8), so it sums (w + 128) * x = w * x + 128 * x; 128 * sum_i x[t][i]
 *   (VPDPBUSD of 0x80 bytes with the step's row, once per step for all rows)
 *   is subtracted at the end. The lane sums wrap modulo 2^32 (VPDPBUSD does
 *   not saturate), and the true sum fits in int32 for depth <=
 *   MTS_I8_MAX_DEPTH, so the difference is exactly the reference's sum.
 * The last depth mod 16 inputs (AVX2) come from zero-padded copies, the
 * last depth mod 32 or 64 (AVX-512) from masked loads that read nothing
 * past a row. Lanes are added in integers (exact, in any order); the
 * scaling is (float)acc * (w_scale[r] * x_scale[t]), two IEEE multiplies
 * per output as in the reference (4 rows per SSE instruction, no FMA:
 * nothing is added), so every int8-wa variant equals the reference bit for
 * bit, subnormal scale products included (x86 does not flush them unless
 * a program sets MXCSR's FTZ/DAZ).
 *
 * int8-w: the float products' lane structure. 8 (16) weights per chunk are
 * widened int8 -> int32 -> float32 (VPMOVSXBD + VCVTDQ2PS, exact), and each
 * (row, step) accumulates 8 (16) lanes, lane l summing i = l mod 8 (16) in
 * input order by explicit FMAs; the last chunk is zero-padded (masked loads
 * for X and, on AVX-512, the weights; a zero-padded copy of the weights on
 * AVX2), adding exact zeros. AVX-512 then adds lane l + 8 to lane l; then
 * the 8 lanes in the AVX2 tree ((l0 + l1) + (l2 + l3)) + ((l4 + l5) +
 * (l6 + l7)), and the sum is multiplied by w_scale[r]. Every output goes
 * through these operations whatever its tile shape, so results are
 * bit-identical for every block size T and stream split.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_AVX2)

#include <immintrin.h>

#include "gemm_x86.h"
#include "tile_walk.h"

/* The instruction sets of the variants; a tile's `isa` is a constant at
 * every call, so each branch on it compiles away. */
enum { ISA_AVX2, ISA_AVX512, ISA_VNNI };

/* Steps per panel of the VNNI product: 128 * sum_i x[t][i] of a panel's
 * steps is computed once, for all its row groups, on the stack. */
#define MTS_I8_X86_PANEL_STEPS 64

/* Sum each of a, b, c, d over its 8 int32 lanes (wrapping, so exact modulo
 * 2^32) into the four lanes of the result, in that order. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 __m128i reduce4_epi32(__m256i a, __m256i b, __m256i c, __m256i d)
{
    const __m256i quads = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(quads), _mm256_extracti128_si256(quads, 1));
}

/* Y[r .. r + here) of one step = (float)acc * (w_scale[r] * x_scale),
 * lane by lane (here <= 4). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void store_i8i8(float *y, size_t here, __m128i acc,
                                         const float *w_scale, float x_scale)
{
    const __m128i mask = _mm256_castsi256_si128(mts_x86_lane_mask(here));
    const __m128 ws = here == 4 ? _mm_loadu_ps(w_scale) : _mm_maskload_ps(w_scale, mask);
    const __m128 out = _mm_mul_ps(_mm_cvtepi32_ps(acc), _mm_mul_ps(ws, _mm_set1_ps(x_scale)));
    if (here == 4)
        _mm_storeu_ps(y, out);
    else
        _mm_maskstore_ps(y, mask, out);
}

/* Y[r .. r + here) of one step = sums * w_scale[r] (here <= 4). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void store_i8f32(float *y, size_t here, __m128 sums,
                                          const float *w_scale)
{
    const __m128i mask = _mm256_castsi256_si128(mts_x86_lane_mask(here));
    const __m128 ws = here == 4 ? _mm_loadu_ps(w_scale) : _mm_maskload_ps(w_scale, mask);
    const __m128 out = _mm_mul_ps(sums, ws);
    if (here == 4)
        _mm_storeu_ps(y, out);
    else
        _mm_maskstore_ps(y, mask, out);
}

/* dst[0 .. width) = src[0 .. n), then zeros (n < width). One loop with a
 * select, not a copy and a fill: GCC turned those into memcpy calls, across
 * which the tiles' accumulators could not stay in registers (it then stored
 * them on every pass of the depth loop). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void copy_padded(int8_t *dst, const int8_t *src, size_t n, size_t width)
{
    for (size_t k = 0; k < width; k++)
        dst[k] = k < n ? src[k] : 0;
}

/* ---- int8-wa, AVX2 -------------------------------------------------------- */

#define AVX2_WA_CHUNK 16

/* acc + VPMADDWD(a, b): lane l += a[2l] * b[2l] + a[2l+1] * b[2l+1]. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 __m256i madd_add(__m256i acc, __m256i a, __m256i b)
{
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
}

static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 __m256i widen16(const int8_t *p)
{
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* One tile of `rows` x `steps` outputs (constants; rows <= 8, steps <= 3). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void i8i8_avx2_tile(size_t rows, size_t steps, size_t depth,
                                             const int8_t *w, size_t w_stride,
                                             const float *w_scale,
                                             const int8_t *xq, size_t xq_stride,
                                             const float *x_scale,
                                             float *y, size_t y_stride)
{
    __m256i acc[8][3];
    MTS_UNROLL
    for (size_t r = 0; r < rows; r++)
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = _mm256_setzero_si256();

    size_t i = 0;
    for (; i + AVX2_WA_CHUNK <= depth; i += AVX2_WA_CHUNK) {
        __m256i xv[3];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = widen16(xq + t * xq_stride + i);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            const __m256i wv = widen16(w + r * w_stride + i);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = madd_add(acc[r][t], wv, xv[t]);
        }
    }
    if (i < depth) {
        int8_t pad[8 + 3][AVX2_WA_CHUNK];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            copy_padded(pad[8 + t], xq + t * xq_stride + i, depth - i, AVX2_WA_CHUNK);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++)
            copy_padded(pad[r], w + r * w_stride + i, depth - i, AVX2_WA_CHUNK);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            const __m256i wv = widen16(pad[r]);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = madd_add(acc[r][t], wv, widen16(pad[8 + t]));
        }
    }

    const __m256i zero = _mm256_setzero_si256();
    MTS_UNROLL
    for (size_t t = 0; t < steps; t++) {
        MTS_UNROLL
        for (size_t r = 0; r < rows; r += 4) {
            const size_t here = rows - r < 4 ? rows - r : 4;
            const __m128i sums = reduce4_epi32(acc[r][t], here > 1 ? acc[r + 1][t] : zero,
                                               here > 2 ? acc[r + 2][t] : zero,
                                               here > 3 ? acc[r + 3][t] : zero);
            store_i8i8(y + t * y_stride + r, here, sums, w_scale + r, x_scale[t]);
        }
    }
}

/* ---- int8-wa, AVX-512 (VPMADDWD) and AVX-512 VNNI (VPDPBUSD) -------------- */

#if defined(MTS_HAVE_AVX512_I8)

/* The sum of a zmm's 16 int32 lanes folded into 8 (lane l + lane l + 8). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 __m256i fold_epi32(__m512i v)
{
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* acc + the products of one chunk of a weight row and an input row, as
 * loaded by the tile below (VNNI: w ^ 0x80 as u8 times x as s8). */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 __m512i dot512(int isa, __m512i acc, __m512i wv, __m512i xv)
{
#if defined(MTS_HAVE_AVX512_VNNI)
    if (isa == ISA_VNNI) {
        /* VPDPBUSD accumulates into its destination; as an intrinsic GCC 12
         * copied every accumulator to a new register and to the stack on
         * each pass (100 instructions per 24 VPDPBUSD in the 6 x 4 tile).
         * The asm names the accumulator as read and written in place. */
        __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(wv), "v"(xv));
        return acc;
    }
#endif
    (void)isa;
    /* The same for VPMADDWD + VPADDD: as intrinsics GCC 12 spilled 18-28
     * of the 6 x 4 tile's accumulators per pass (30 of the 32 registers). */
    __m512i product;
    __asm__("vpmaddwd %3, %2, %1\n\tvpaddd %1, %0, %0"
            : "+v"(acc), "=&v"(product)
            : "v"(wv), "v"(xv));
    return acc;
}

/* A chunk of an int8 row as the tile's products take it: 64 bytes as they
 * are (VNNI), or 32 sign-extended to int16; lanes outside `mask` are zero
 * and nothing is read there. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 __m512i load512(int isa, const int8_t *p, int masked, __mmask64 mask)
{
    if (isa == ISA_VNNI)
        return masked ? _mm512_maskz_loadu_epi8(mask, p) : _mm512_loadu_si512((const void *)p);
    return _mm512_cvtepi8_epi16(masked ? _mm256_maskz_loadu_epi8((__mmask32)mask, p)
                                       : _mm256_loadu_si256((const __m256i *)(const void *)p));
}

/* One tile of `rows` x `steps` outputs (constants; rows <= 8, steps <= 4).
 * x_offset[t] (VNNI only) is 128 * sum_i xq[t][i], modulo 2^32. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 void i8i8_avx512_tile(int isa, size_t rows, size_t steps, size_t depth,
                                               const int8_t *w, size_t w_stride,
                                               const float *w_scale,
                                               const int8_t *xq, size_t xq_stride,
                                               const float *x_scale, const int32_t *x_offset,
                                               float *y, size_t y_stride)
{
    const size_t chunk = isa == ISA_VNNI ? 64 : 32;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[8][4];
    MTS_UNROLL
    for (size_t r = 0; r < rows; r++)
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = _mm512_setzero_si512();

    size_t i = 0;
    for (; i + chunk <= depth; i += chunk) {
        __m512i xv[4];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = load512(isa, xq + t * xq_stride + i, 0, 0);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            __m512i wv = load512(isa, w + r * w_stride + i, 0, 0);
            if (isa == ISA_VNNI)
                wv = _mm512_xor_si512(wv, flip);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = dot512(isa, acc[r][t], wv, xv[t]);
        }
    }
    if (i < depth) {
        const __mmask64 tail = ((__mmask64)1 << (depth - i)) - 1u; /* depth - i < 64 */
        __m512i xv[4];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            xv[t] = load512(isa, xq + t * xq_stride + i, 1, tail);
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            __m512i wv = load512(isa, w + r * w_stride + i, 1, tail);
            if (isa == ISA_VNNI) /* padding lanes: 128 * 0 adds nothing */
                wv = _mm512_xor_si512(wv, flip);
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = dot512(isa, acc[r][t], wv, xv[t]);
        }
    }

    const __m256i zero = _mm256_setzero_si256();
    MTS_UNROLL
    for (size_t t = 0; t < steps; t++) {
        MTS_UNROLL
        for (size_t r = 0; r < rows; r += 4) {
            const size_t here = rows - r < 4 ? rows - r : 4;
            __m128i sums = reduce4_epi32(fold_epi32(acc[r][t]),
                                         here > 1 ? fold_epi32(acc[r + 1][t]) : zero,
                                         here > 2 ? fold_epi32(acc[r + 2][t]) : zero,
                                         here > 3 ? fold_epi32(acc[r + 3][t]) : zero);
            if (isa == ISA_VNNI)
                sums = _mm_sub_epi32(sums, _mm_set1_epi32(x_offset[t]));
            store_i8i8(y + t * y_stride + r, here, sums, w_scale + r, x_scale[t]);
        }
    }
}

#if defined(MTS_HAVE_AVX512_VNNI)
/* x_offset[t] = 128 * sum_i xq[t][i] (modulo 2^32) for t < steps, by the
 * same VPDPBUSD as the tiles: 0x80 bytes times the row. */
static MTS_TARGET_AVX512_VNNI void vnni_offsets(size_t steps, size_t depth, const int8_t *xq, size_t xq_stride,
                         int32_t *x_offset)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const __m256i zero = _mm256_setzero_si256();
    for (size_t t = 0; t < steps; t++) {
        const int8_t *x_t = xq + t * xq_stride;
        __m512i acc = _mm512_setzero_si512();
        size_t i = 0;
        for (; i + 64 <= depth; i += 64)
            acc = _mm512_dpbusd_epi32(acc, flip, _mm512_loadu_si512((const void *)(x_t + i)));
        if (i < depth)
            acc = _mm512_dpbusd_epi32(
                acc, flip, _mm512_maskz_loadu_epi8(((__mmask64)1 << (depth - i)) - 1u, x_t + i));
        x_offset[t] = _mm_cvtsi128_si32(reduce4_epi32(fold_epi32(acc), zero, zero, zero));
    }
}
#endif

#endif /* MTS_HAVE_AVX512_I8 */

/* ---- int8-wa drivers ------------------------------------------------------- */

/* Group rows and tile steps of each instruction set: as the float products,
 * except int8-wa on AVX2, whose VPMADDWD needs a register for its result:
 * 4 x 3 (12 accumulators + 3 inputs + weight + product = 17 of the 16 ymm
 * registers) spilled 6 accumulators per pass, so 3 x 3. One driver per
 * instruction set, not one switching on `isa`: a function compiled for AVX2
 * cannot contain (inline) the AVX-512 tiles. */
#define WA_GROUP_ROWS(isa) ((isa) == ISA_AVX2 ? (size_t)3 : (size_t)6)
#define W_GROUP_ROWS(isa) ((isa) == ISA_AVX2 ? (size_t)4 : (size_t)6)
#define TILE_STEPS(isa) ((isa) == ISA_AVX2 ? (size_t)3 : (size_t)4)

MTS_TARGET_AVX2 void mtsi_gemm_i8i8_avx2(size_t rows, size_t depth, size_t steps,
                                         const int8_t *w, size_t w_stride, const float *w_scale,
                                         const int8_t *xq, size_t xq_stride,
                                         const float *x_scale, float *y, size_t y_stride)
{
#define I8I8_TILE(R, S, r, t, prefetch)                                                  \
    i8i8_avx2_tile(R, S, depth, w + (r) * w_stride, w_stride, w_scale + (r),             \
                   xq + (t) * xq_stride, xq_stride, x_scale + (t),                       \
                   y + (t) * y_stride + (r), y_stride)
    MTS_TILE_WALK(I8I8_TILE, rows, steps, WA_GROUP_ROWS(ISA_AVX2), TILE_STEPS(ISA_AVX2), 0);
#undef I8I8_TILE
}

#if defined(MTS_HAVE_AVX512_I8)
/* The whole AVX-512 (isa: ISA_AVX512 or ISA_VNNI) product for `steps`
 * steps (tile_walk.h); no prefetch. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 void
i8i8_avx512_product(int isa, size_t rows, size_t depth, size_t steps,
                    const int8_t *w, size_t w_stride, const float *w_scale,
                    const int8_t *xq, size_t xq_stride, const float *x_scale,
                    const int32_t *x_offset, float *y, size_t y_stride)
{
#define I8I8_TILE(R, S, r, t, prefetch)                                                  \
    i8i8_avx512_tile(isa, R, S, depth, w + (r) * w_stride, w_stride, w_scale + (r),      \
                     xq + (t) * xq_stride, xq_stride, x_scale + (t), x_offset + (t),     \
                     y + (t) * y_stride + (r), y_stride)
    MTS_TILE_WALK(I8I8_TILE, rows, steps, WA_GROUP_ROWS(isa), TILE_STEPS(isa), 0);
#undef I8I8_TILE
}

MTS_TARGET_AVX512_I8 void mtsi_gemm_i8i8_avx512(size_t rows, size_t depth, size_t steps,
                                                const int8_t *w, size_t w_stride,
                                                const float *w_scale,
                                                const int8_t *xq, size_t xq_stride,
                                                const float *x_scale,
                                                float *y, size_t y_stride)
{
    i8i8_avx512_product(ISA_AVX512, rows, depth, steps, w, w_stride, w_scale, xq, xq_stride,
                        x_scale, NULL, y, y_stride);
}
#endif

#if defined(MTS_HAVE_AVX512_VNNI)
MTS_TARGET_AVX512_VNNI void mtsi_gemm_i8i8_avx512_vnni(size_t rows, size_t depth, size_t steps,
                                                       const int8_t *w, size_t w_stride,
                                                       const float *w_scale,
                                                       const int8_t *xq, size_t xq_stride,
                                                       const float *x_scale,
                                                       float *y, size_t y_stride)
{
    /* Steps in panels whose input sums fit a stack array; every row group
     * runs within a panel, so the weights are read once per panel. */
    int32_t x_offset[MTS_I8_X86_PANEL_STEPS];
    for (size_t t = 0; t < steps; t += MTS_I8_X86_PANEL_STEPS) {
        const size_t n = steps - t < MTS_I8_X86_PANEL_STEPS ? steps - t : MTS_I8_X86_PANEL_STEPS;
        vnni_offsets(n, depth, xq + t * xq_stride, xq_stride, x_offset);
        i8i8_avx512_product(ISA_VNNI, rows, depth, n, w, w_stride, w_scale, xq + t * xq_stride,
                            xq_stride, x_scale + t, x_offset, y + t * y_stride, y_stride);
    }
}
#endif

/* ---- int8-w ---------------------------------------------------------------- */

#if defined(MTS_HAVE_AVX2_FMA)

/* One tile of `rows` x `steps` outputs (constants; rows <= 8, steps <= 3),
 * 8 float lanes per output. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX2 void i8f32_avx2_tile(size_t rows, size_t steps, size_t depth,
                                              const int8_t *w, size_t w_stride,
                                              const float *w_scale,
                                              const float *x, size_t x_stride,
                                              float *y, size_t y_stride)
{
    __m256 acc[8][3];
    MTS_UNROLL
    for (size_t r = 0; r < rows; r++)
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = _mm256_setzero_ps();

    size_t i = 0;
    for (; i + 8 <= depth; i += 8) {
        __m256 xv[3];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++) {
            /* loaded once for all rows (GCC would fold it into each FMA) */
            xv[t] = _mm256_loadu_ps(x + t * x_stride + i);
            MTS_IN_REGISTER(xv[t]);
        }
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            const __m256 wv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                _mm_loadl_epi64((const __m128i *)(const void *)(w + r * w_stride + i))));
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
            int8_t pad[8];
            copy_padded(pad, w + r * w_stride + i, depth - i, 8);
            const __m256 wv = _mm256_cvtepi32_ps(
                _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)pad)));
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }

    const __m256 zero = _mm256_setzero_ps();
    MTS_UNROLL
    for (size_t t = 0; t < steps; t++) {
        MTS_UNROLL
        for (size_t r = 0; r < rows; r += 4) {
            const size_t here = rows - r < 4 ? rows - r : 4;
            const __m128 sums = mts_x86_reduce4_ps(acc[r][t], here > 1 ? acc[r + 1][t] : zero,
                                                   here > 2 ? acc[r + 2][t] : zero,
                                                   here > 3 ? acc[r + 3][t] : zero);
            store_i8f32(y + t * y_stride + r, here, sums, w_scale + r);
        }
    }
}

#if defined(MTS_HAVE_AVX512_I8)

/* Lane l + lane l + 8 of a zmm: the first step of the int8-w lane sum. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 __m256 fold_ps(__m512 v)
{
    return _mm256_add_ps(_mm512_castps512_ps256(v),
                         _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/* One tile of `rows` x `steps` outputs (constants; rows <= 8, steps <= 4),
 * 16 float lanes per output. */
static MTS_ALWAYS_INLINE MTS_TARGET_AVX512_I8 void i8f32_avx512_tile(size_t rows, size_t steps, size_t depth,
                                                const int8_t *w, size_t w_stride,
                                                const float *w_scale,
                                                const float *x, size_t x_stride,
                                                float *y, size_t y_stride)
{
    __m512 acc[8][4];
    MTS_UNROLL
    for (size_t r = 0; r < rows; r++)
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++)
            acc[r][t] = _mm512_setzero_ps();

    size_t i = 0;
    for (; i + 16 <= depth; i += 16) {
        __m512 xv[4];
        MTS_UNROLL
        for (size_t t = 0; t < steps; t++) {
            xv[t] = _mm512_loadu_ps(x + t * x_stride + i);
            MTS_IN_REGISTER(xv[t]);
        }
        MTS_UNROLL
        for (size_t r = 0; r < rows; r++) {
            const __m512 wv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                _mm_loadu_si128((const __m128i *)(const void *)(w + r * w_stride + i))));
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
            const __m512 wv = _mm512_cvtepi32_ps(
                _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(tail, w + r * w_stride + i)));
            MTS_UNROLL
            for (size_t t = 0; t < steps; t++)
                acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }

    const __m256 zero = _mm256_setzero_ps();
    MTS_UNROLL
    for (size_t t = 0; t < steps; t++) {
        MTS_UNROLL
        for (size_t r = 0; r < rows; r += 4) {
            const size_t here = rows - r < 4 ? rows - r : 4;
            const __m128 sums = mts_x86_reduce4_ps(
                fold_ps(acc[r][t]), here > 1 ? fold_ps(acc[r + 1][t]) : zero,
                here > 2 ? fold_ps(acc[r + 2][t]) : zero, here > 3 ? fold_ps(acc[r + 3][t]) : zero);
            store_i8f32(y + t * y_stride + r, here, sums, w_scale + r);
        }
    }
}

#endif /* MTS_HAVE_AVX512_I8 */

MTS_TARGET_AVX2 void mtsi_gemm_i8f32_avx2(size_t rows, size_t depth, size_t steps,
                                          const int8_t *w, size_t w_stride,
                                          const float *w_scale,
                                          const float *x, size_t x_stride,
                                          float *y, size_t y_stride)
{
#define I8F32_TILE(R, S, r, t, prefetch)                                                 \
    i8f32_avx2_tile(R, S, depth, w + (r) * w_stride, w_stride, w_scale + (r),            \
                    x + (t) * x_stride, x_stride, y + (t) * y_stride + (r), y_stride)
    MTS_TILE_WALK(I8F32_TILE, rows, steps, W_GROUP_ROWS(ISA_AVX2), TILE_STEPS(ISA_AVX2), 0);
#undef I8F32_TILE
}

#if defined(MTS_HAVE_AVX512_I8)
MTS_TARGET_AVX512_I8 void mtsi_gemm_i8f32_avx512(size_t rows, size_t depth, size_t steps,
                                                 const int8_t *w, size_t w_stride,
                                                 const float *w_scale,
                                                 const float *x, size_t x_stride,
                                                 float *y, size_t y_stride)
{
#define I8F32_TILE(R, S, r, t, prefetch)                                                 \
    i8f32_avx512_tile(R, S, depth, w + (r) * w_stride, w_stride, w_scale + (r),          \
                      x + (t) * x_stride, x_stride, y + (t) * y_stride + (r), y_stride)
    MTS_TILE_WALK(I8F32_TILE, rows, steps, W_GROUP_ROWS(ISA_AVX512), TILE_STEPS(ISA_AVX512), 0);
#undef I8F32_TILE
}
#endif

#endif /* MTS_HAVE_AVX2_FMA */

#else

/* Not built for this target; ISO C does not allow an empty translation unit. */
typedef int mts_gemm_i8_x86_not_built;

#endif /* MTS_HAVE_AVX2 */
