/* Helium (MVE) int8 products for the Cortex-M55 and other Armv8.1-M cores
 * with MVE float (docs/quantization.md):
 *
 *   int8-wa "helium": acc     = sum_i Wq[r][i] * Xq[t][i]            (int32, exact)
 *                     Y[t][r] = (float)acc * (w_scale[r] * x_scale[t])
 *   int8-w  "helium": Y[t][r] = w_scale[r] * (sum_i (float)Wq[r][i] * X[t][i])
 *
 * int8-wa: VMLADAVA.S8 (vmladavaq_s8) multiplies 16 int8 pairs and adds
 * all 16 products to an int32 general-purpose register. Each product is at
 * most 127 * 127 (or 128 * 128) in magnitude and the instruction accumulates
 * in 32 bits, so nothing is rounded, saturated or wrapped for depth <=
 * MTS_I8_MAX_DEPTH: the sums are exact and the outputs equal the reference
 * bit for bit. A register tile of HE_WA_ROWS rows x HE_WA_STEPS steps loads
 * each 16-byte weight vector once for all its steps and each input vector
 * once for all its rows; its accumulators are scalars, so the tile size is
 * limited by the 14 allocatable general-purpose registers (accumulators +
 * one pointer per row and per step + the loop count in LR), not by the 8
 * vector registers. Each tile stores its int32 sums into Y as they are; one
 * pass over Y at the end of the call scales them, by MVE vectors of 4 rows
 * when no scale, scale product or output can be subnormal, infinite or NaN
 * (checked once per call: MVE float arithmetic flushes subnormals to zero
 * and returns the default NaN, otherwise it rounds as scalar VFP does), by
 * scalar VFP in the reference's order otherwise. Per 3 x 2 tile that is
 * 6 STR and 1.75 instructions per output, where scaling inside the tile by
 * scalar VFP took about 30 (docs/performance.md, "Every product against
 * its floor").
 *
 * int8-w: inputs in the lanes (the float "helium" product's structure until
 * it put rows in the lanes, gemm_helium.c). Four
 * weights at a time are widened int8 -> int32 by the load (VLDRB.S32) and
 * converted to float32 (VCVT, exact), then each (row, step) accumulates in
 * one 4-lane vector by VFMA, lane l summing the inputs i = l mod 4 in
 * order; a tile of 1 row x HE_W_STEPS steps converts each weight vector once
 * for all its steps. The lanes are added as (l0 + l2) + (l1 + l3) and
 * multiplied by w_scale[r], both as MVE vector operations for every output
 * (MVE float flushes subnormals, scalar VFP does not: one path for all
 * keeps the bits independent of the tile an output falls in).
 *
 * T = 1 (steps == 1 in a call): tiles of HE_ONE_STEP_ROWS rows x 1 step,
 * each input vector serving 4 rows, the weights streamed.
 *
 * Both: a depth that is not a multiple of the chunk (16 or 4) ends with one
 * tail-predicated pass (VCTP, zeroing predicated loads: inactive lanes read
 * no memory and load 0; for int8-w the predicated VFMA leaves inactive lanes
 * unchanged), so nothing past a row is read, and the summation order of
 * every output depends only on depth: outputs are bit-identical for every
 * block size T and every stream split.
 *
 * Tile sizes come from instruction counts under qemu-system-arm -icount
 * (docs/quantization.md has the table) and the disassembly of GCC 12 -O3:
 * the depth loops are post-incremented loads, VMLADAVA or VCVT + VFMA and a
 * low-overhead loop end (LE), with no spills. Per 16 inputs the int8-wa
 * 3 x 2 loop is 5 loads + 6 VMLADAVA + LE for 96 multiply-adds; 2 x 4
 * would need 15 general-purpose registers and spilled two accumulators in
 * every pass (19 instructions for 128). Per 4 inputs the int8-w 1 x 6 loop
 * is 1 VLDRB + 1 VCVT + 6 (VLDRW + VFMA) + LE for 24. The macros HE_WA_ROWS,
 * HE_WA_STEPS and HE_W_STEPS may be predefined to measure other tiles.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_HELIUM) /* isa.h: MVE with floating point */

#include <arm_mve.h>
#include <float.h>
#include <string.h>

#include "../compiler.h"

/* int8-wa tile (see the top of the file): 3 rows x 2 steps is 6
 * accumulators + 5 pointers + LR. HE_WA_ROWS, HE_WA_STEPS <= 4. */
#ifndef HE_WA_ROWS
#define HE_WA_ROWS 3
#endif
#ifndef HE_WA_STEPS
#define HE_WA_STEPS 2
#endif
/* int8-w tile: 1 row x 6 steps is 6 accumulators + the converted weight
 * vector + the input vector, all 8 vector registers. HE_W_STEPS <= 6. */
#ifndef HE_W_STEPS
#define HE_W_STEPS 6
#endif
/* Rows of the single-step tile (calls with steps == 1), which shares each
 * input vector among its rows; the weights are streamed. */
#define HE_ONE_STEP_ROWS 4

/* ---- int8-wa ------------------------------------------------------------- */

/* A tile of up to 4 rows x 4 steps; rows and steps are constants at each
 * call, so every shape is specialised. Accumulators and pointers are named
 * variables (a<row><step>, w<row>, x<step>), as GCC keeps arrays of them in
 * memory. */
#define HE_EACH4(M) M(0) M(1) M(2) M(3)
#define HE_WA_EACH(M)                                                    \
    M(0, 0) M(0, 1) M(0, 2) M(0, 3) M(1, 0) M(1, 1) M(1, 2) M(1, 3)      \
    M(2, 0) M(2, 1) M(2, 2) M(2, 3) M(3, 0) M(3, 1) M(3, 2) M(3, 3)

#define HE_WA_DECLARE_ROW(r)                                        \
    const int8_t *w##r = w + ((r) < rows ? (r) : 0) * w_stride;     \
    int8x16_t v##r = vdupq_n_s8(0);
#define HE_WA_DECLARE_STEP(t) \
    const int8_t *x##t = xq + ((t) < steps ? (t) : 0) * xq_stride;
#define HE_WA_DECLARE_ACC(r, t) int32_t a##r##t = 0;
/* Row r's weight vector, full or predicated. */
#define HE_WA_LOAD_W(r)        \
    if ((r) < rows) {          \
        v##r = vld1q_s8(w##r); \
        w##r += 16;            \
    }
#define HE_WA_LOAD_W_TAIL(r) \
    if ((r) < rows)          \
        v##r = vldrbq_z_s8(w##r, p);
#define HE_WA_MLA(r, t) \
    if ((r) < rows)     \
        a##r##t = vmladavaq_s8(a##r##t, v##r, u);
/* Step t's input vector into every row's accumulator. */
#define HE_WA_STEP(t)                                                 \
    if ((t) < steps) {                                                \
        const int8x16_t u = vld1q_s8(x##t);                           \
        x##t += 16;                                                   \
        HE_WA_MLA(0, t) HE_WA_MLA(1, t) HE_WA_MLA(2, t) HE_WA_MLA(3, t) \
    }
#define HE_WA_STEP_TAIL(t)                                            \
    if ((t) < steps) {                                                \
        const int8x16_t u = vldrbq_z_s8(x##t, p);                     \
        HE_WA_MLA(0, t) HE_WA_MLA(1, t) HE_WA_MLA(2, t) HE_WA_MLA(3, t) \
    }
/* The tile's int32 sums go to Y as they are (their bits, by memcpy); the
 * scaling pass below turns them into floats once the whole call is done. */
#define HE_WA_STORE(r, t)                                                  \
    if ((r) < rows && (t) < steps)                                         \
        memcpy(&y[(t) * y_stride + (r)], &a##r##t, sizeof a##r##t);

static MTS_ALWAYS_INLINE void he_i8i8_tile(size_t rows, size_t steps, size_t chunks,
                                           size_t tail, const int8_t *restrict w,
                                           size_t w_stride,
                                           const int8_t *restrict xq, size_t xq_stride,
                                           float *restrict y, size_t y_stride)
{
    HE_EACH4(HE_WA_DECLARE_ROW)
    HE_EACH4(HE_WA_DECLARE_STEP)
    HE_WA_EACH(HE_WA_DECLARE_ACC)
    size_t n = chunks;
    if (tail == 0) {
        /* Then chunks >= 1 (he_i8i8_tiles): no test before the loop. */
        do {
            HE_EACH4(HE_WA_LOAD_W)
            HE_EACH4(HE_WA_STEP)
        } while (--n > 0);
    } else {
        for (; n > 0; n--) {
            HE_EACH4(HE_WA_LOAD_W)
            HE_EACH4(HE_WA_STEP)
        }
        const mve_pred16_t p = vctp8q((uint32_t)tail);
        HE_EACH4(HE_WA_LOAD_W_TAIL)
        HE_EACH4(HE_WA_STEP_TAIL)
    }
    HE_WA_EACH(HE_WA_STORE)
}

/* All steps of one group of `rows` output rows: tiles of HE_WA_STEPS, then
 * the remainder by tiles of 3, 2 and 1 steps. */
static MTS_ALWAYS_INLINE void he_i8i8_rows(size_t rows, size_t chunks, size_t tail,
                                           size_t steps,
                                           const int8_t *w, size_t w_stride,
                                           const int8_t *xq, size_t xq_stride,
                                           float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + HE_WA_STEPS <= steps; t += HE_WA_STEPS)
        he_i8i8_tile(rows, HE_WA_STEPS, chunks, tail, w, w_stride, xq + t * xq_stride, xq_stride,
                     y + t * y_stride, y_stride);
#if HE_WA_STEPS > 3
    if (t + 3 <= steps) {
        he_i8i8_tile(rows, 3, chunks, tail, w, w_stride, xq + t * xq_stride, xq_stride,
                     y + t * y_stride, y_stride);
        t += 3;
    }
#endif
#if HE_WA_STEPS > 2
    if (t + 2 <= steps) {
        he_i8i8_tile(rows, 2, chunks, tail, w, w_stride, xq + t * xq_stride, xq_stride,
                     y + t * y_stride, y_stride);
        t += 2;
    }
#endif
    if (t < steps)
        he_i8i8_tile(rows, 1, chunks, tail, w, w_stride, xq + t * xq_stride, xq_stride,
                     y + t * y_stride, y_stride);
}

/* The scaling, Y[t][r] = (float)acc * (w_scale[r] * x_scale[t]), from the
 * sums the tiles left in Y.
 *
 * By MVE vectors, 4 rows at a time, when no operand, product or result of
 * it can be subnormal (he_i8i8_scales_normal): MVE float arithmetic flushes
 * subnormals to zero and returns the default NaN, but rounds to nearest as
 * the scalar FPU does (in its default mode, the reference's), so without a
 * subnormal or a NaN the two give the same bits. Otherwise by scalar VFP,
 * in the reference's order. */
static void he_i8i8_scale_vector(size_t rows, size_t steps, const float *w_scale,
                                 const float *x_scale, float *y, size_t y_stride)
{
    for (size_t t = 0; t < steps; t++) {
        float *y_t = y + t * y_stride;
        const float *ws = w_scale;
        const float xs = x_scale[t];
        for (size_t n = rows / 4; n > 0; n--) {
            const float32x4_t s = vmulq_n_f32(vld1q_f32(ws), xs);
            const int32x4_t acc = vreinterpretq_s32_f32(vld1q_f32(y_t));
            vst1q_f32(y_t, vmulq_f32(vcvtq_f32_s32(acc), s));
            ws += 4;
            y_t += 4;
        }
        if (rows % 4 != 0) {
            const mve_pred16_t p = vctp32q((uint32_t)(rows % 4));
            const float32x4_t s = vmulq_n_f32(vldrwq_z_f32(ws, p), xs);
            const int32x4_t acc = vreinterpretq_s32_f32(vldrwq_z_f32(y_t, p));
            vstrwq_p_f32(y_t, vmulq_f32(vcvtq_f32_s32(acc), s), p);
        }
    }
}

static void he_i8i8_scale_scalar(size_t rows, size_t steps, const float *w_scale,
                                 const float *x_scale, float *y, size_t y_stride)
{
    for (size_t t = 0; t < steps; t++) {
        float *y_t = y + t * y_stride;
        for (size_t r = 0; r < rows; r++) {
            int32_t acc;
            memcpy(&acc, &y_t[r], sizeof acc);
            float out = (float)acc * (w_scale[r] * x_scale[t]);
            /* GCC 12 -O3 vectorised such loops into MVE multiplies
             * (tests/c/test_quantized.c's subnormal cases caught it); the
             * empty asm pins each output to a scalar single-precision
             * register ("t") before its store, whatever the flags. */
            __asm__("" : "+t"(out));
            y_t[r] = out;
        }
    }
}

/* Twice the magnitude bits of s[0 .. n-1] (the sign shifted out): the
 * smallest nonzero one minus 1 (UINT32_MAX when all are zero: 0 - 1 wraps)
 * in *low and the largest in *high. Integer vector operations, which see
 * subnormals as they are. */
static MTS_ALWAYS_INLINE void he_magnitudes(const float *s, size_t n, uint32_t *low,
                                            uint32_t *high)
{
    uint32x4_t lo = vdupq_n_u32(UINT32_MAX);
    uint32x4_t hi = vdupq_n_u32(0);
    for (size_t k = n / 4; k > 0; k--) {
        const uint32x4_t m = vshlq_n_u32(vreinterpretq_u32_f32(vld1q_f32(s)), 1);
        lo = vminq_u32(lo, vsubq_n_u32(m, 1));
        hi = vmaxq_u32(hi, m);
        s += 4;
    }
    if (n % 4 != 0) {
        /* The zeroing load: inactive lanes read 0, which changes neither. */
        const mve_pred16_t p = vctp32q((uint32_t)(n % 4));
        const uint32x4_t m = vshlq_n_u32(vreinterpretq_u32_f32(vldrwq_z_f32(s, p)), 1);
        lo = vminq_u32(lo, vsubq_n_u32(m, 1));
        hi = vmaxq_u32(hi, m);
    }
    *low = vminvq_u32(UINT32_MAX, lo);
    *high = vmaxvq_u32(0, hi);
}

static MTS_ALWAYS_INLINE float he_float_of_magnitude(uint32_t twice)
{
    const uint32_t bits = twice >> 1;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* 1 when the vector scaling gives the reference's bits: every w_scale[r]
 * and x_scale[t] is zero or a finite normal, and every product of two
 * nonzero ones is finite and above FLT_MIN before rounding, which holds for
 * all when it holds for the smallest and the largest magnitudes (rounding
 * is monotonic; the products are computed here by scalar VFP). Before
 * rounding: MVE flushes a result that is tiny before rounding, so a
 * product that rounds up to FLT_MIN is flushed to zero (tests/c/
 * test_quantized.c has it); a rounded product above FLT_MIN was at least
 * FLT_MIN before. Then (float)acc * product, acc an integer, is zero or at
 * least the product in magnitude: never tiny either. A zero scale makes
 * exact zeros on both paths. Rows + steps loads, O(1) work besides:
 * checked once per call. */
static int he_i8i8_scales_normal(size_t rows, size_t steps, const float *w_scale,
                                 const float *x_scale)
{
    const uint32_t twice_min_normal = 0x01000000u; /* FLT_MIN's exponent, doubled */
    const uint32_t twice_inf = 0xff000000u;
    uint32_t w_low, w_high, x_low, x_high;
    he_magnitudes(w_scale, rows, &w_low, &w_high);
    he_magnitudes(x_scale, steps, &x_low, &x_high);
    if (w_high >= twice_inf || x_high >= twice_inf)
        return 0; /* an infinity or a NaN */
    if (w_low == UINT32_MAX || x_low == UINT32_MAX)
        return 1; /* all zero: every product is +-0 */
    if (w_low + 1 < twice_min_normal || x_low + 1 < twice_min_normal)
        return 0; /* a subnormal scale */
    const float smallest = he_float_of_magnitude(w_low + 1) * he_float_of_magnitude(x_low + 1);
    const float largest = he_float_of_magnitude(w_high) * he_float_of_magnitude(x_high);
    return smallest > FLT_MIN && largest <= FLT_MAX;
}

/* All tiles of the product, the depth in `chunks` of 16 and a `tail` of 1
 * to 15, or a constant 0 where the depth is a nonzero multiple of 16: then
 * its tiles test nothing before or after their loop. */
static MTS_ALWAYS_INLINE void he_i8i8_tiles(size_t rows, size_t chunks, size_t tail,
                                            size_t steps, const int8_t *w, size_t w_stride,
                                            const int8_t *xq, size_t xq_stride,
                                            float *y, size_t y_stride)
{
    size_t r = 0;
    if (steps == 1) {
        /* One step: the input vector serves HE_ONE_STEP_ROWS rows. */
        for (; r + HE_ONE_STEP_ROWS <= rows; r += HE_ONE_STEP_ROWS)
            he_i8i8_tile(HE_ONE_STEP_ROWS, 1, chunks, tail, w + r * w_stride, w_stride, xq,
                         xq_stride, y + r, y_stride);
    }
    for (; r + HE_WA_ROWS <= rows; r += HE_WA_ROWS)
        he_i8i8_rows(HE_WA_ROWS, chunks, tail, steps, w + r * w_stride, w_stride, xq,
                     xq_stride, y + r, y_stride);
#if HE_WA_ROWS > 1
    for (; r < rows; r++)
        he_i8i8_rows(1, chunks, tail, steps, w + r * w_stride, w_stride, xq, xq_stride,
                     y + r, y_stride);
#endif
}

void mtsi_gemm_i8i8_helium(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const int8_t *xq, size_t xq_stride, const float *x_scale,
                           float *y, size_t y_stride)
{
    /* The chunk count through an empty asm: GCC otherwise recomputes each
     * tile's loop count from its pointers (4 instructions a tile). */
    size_t chunks = depth / 16;
    __asm__("" : "+r"(chunks));
    if (depth % 16 == 0 && depth > 0)
        he_i8i8_tiles(rows, chunks, 0, steps, w, w_stride, xq, xq_stride, y, y_stride);
    else
        he_i8i8_tiles(rows, chunks, depth % 16, steps, w, w_stride, xq, xq_stride, y,
                      y_stride);
    if (he_i8i8_scales_normal(rows, steps, w_scale, x_scale))
        he_i8i8_scale_vector(rows, steps, w_scale, x_scale, y, y_stride);
    else
        he_i8i8_scale_scalar(rows, steps, w_scale, x_scale, y, y_stride);
}

/* ---- int8-w -------------------------------------------------------------- */

/* The lane sums of a, b, c, d, each as (l0 + l2) + (l1 + l3) (the float
 * product's order), as one vector. Four scatter stores transpose them
 * through scratch[16]: lane l of the j-th accumulator goes to
 * scratch[4l + j], so the contiguous load of scratch[4l .. 4l+3] holds lane
 * l of all four. (VST4 would do the same in one go but needs its four
 * sources in consecutive registers, which cost GCC a round trip through the
 * stack.) */
static MTS_ALWAYS_INLINE float32x4_t he_sum4(float *scratch, float32x4_t a, float32x4_t b,
                                             float32x4_t c, float32x4_t d)
{
    const uint32x4_t column = vidupq_n_u32(0, 4); /* 0, 4, 8, 12 */
    vstrwq_scatter_shifted_offset_f32(scratch, column, a);
    vstrwq_scatter_shifted_offset_f32(scratch + 1, column, b);
    vstrwq_scatter_shifted_offset_f32(scratch + 2, column, c);
    vstrwq_scatter_shifted_offset_f32(scratch + 3, column, d);
    return vaddq_f32(vaddq_f32(vld1q_f32(scratch), vld1q_f32(scratch + 8)),
                     vaddq_f32(vld1q_f32(scratch + 4), vld1q_f32(scratch + 12)));
}

/* Outputs first .. first+count-1 of a tile (count <= 4), numbered k = t *
 * rows + r, from their accumulators a, b, c, d: the lane sums times
 * w_scale[r], stored by one predicated scatter. Tiles have one row or one
 * step. Every output goes through the same vector operations (MVE float
 * flushes subnormals, scalar VFP does not), so its bits do not depend on
 * the tile it falls in. */
static MTS_ALWAYS_INLINE void he_i8f32_store(size_t steps, uint32_t first,
                                             uint32_t count, float32x4_t a, float32x4_t b,
                                             float32x4_t c, float32x4_t d,
                                             const float *w_scale, float *y, size_t y_stride,
                                             float *scratch)
{
    const mve_pred16_t p = vctp32q(count);
    const float32x4_t sums = he_sum4(scratch, a, b, c, d);
    if (steps == 1) {
        /* Rows first .. first+count-1 of one step: contiguous. */
        vstrwq_p_f32(y + first, vmulq_f32(vldrwq_z_f32(w_scale + first, p), sums), p);
    } else {
        /* One row, steps first ..: y_stride apart. */
        const uint32x4_t offset = vmulq_n_u32(vidupq_n_u32(first, 1), (uint32_t)y_stride);
        vstrwq_scatter_shifted_offset_p_f32(y, offset, vmulq_n_f32(sums, w_scale[0]), p);
    }
}

/* A tile of 1 row x up to 6 steps or up to 4 rows x 1 step (accumulators
 * a<row><step>); rows and steps are constants at each call. */
#define HE_W_EACH_STEP(M) M(0) M(1) M(2) M(3) M(4) M(5)
#define HE_W_EACH(M)                                                     \
    M(0, 0) M(0, 1) M(0, 2) M(0, 3) M(0, 4) M(0, 5)                      \
    M(1, 0) M(1, 1) M(1, 2) M(1, 3) M(1, 4) M(1, 5)                      \
    M(2, 0) M(2, 1) M(2, 2) M(2, 3) M(2, 4) M(2, 5)                      \
    M(3, 0) M(3, 1) M(3, 2) M(3, 3) M(3, 4) M(3, 5)

#define HE_W_DECLARE_ROW(r)                                         \
    const int8_t *w##r = w + ((r) < rows ? (r) : 0) * w_stride;     \
    float32x4_t v##r = zero;
#define HE_W_DECLARE_STEP(t) \
    const float *x##t = x + ((t) < steps ? (t) : 0) * x_stride;
#define HE_W_DECLARE_ACC(r, t) float32x4_t a##r##t = zero;
#define HE_W_LOAD_W(r)                          \
    if ((r) < rows) {                           \
        v##r = vcvtq_f32_s32(vldrbq_s32(w##r)); \
        w##r += 4;                              \
    }
#define HE_W_LOAD_W_TAIL(r) \
    if ((r) < rows)         \
        v##r = vcvtq_f32_s32(vldrbq_z_s32(w##r, p));
#define HE_W_FMA(r, t) \
    if ((r) < rows)    \
        a##r##t = vfmaq_f32(a##r##t, v##r, u);
#define HE_W_FMA_TAIL(r, t) \
    if ((r) < rows)         \
        a##r##t = vfmaq_m_f32(a##r##t, v##r, u, p);
#define HE_W_STEP(t)                                              \
    if ((t) < steps) {                                            \
        const float32x4_t u = vld1q_f32(x##t);                    \
        x##t += 4;                                                \
        HE_W_FMA(0, t) HE_W_FMA(1, t) HE_W_FMA(2, t) HE_W_FMA(3, t) \
    }
#define HE_W_STEP_TAIL(t)                                                         \
    if ((t) < steps) {                                                            \
        const float32x4_t u = vldrwq_z_f32(x##t, p);                              \
        HE_W_FMA_TAIL(0, t) HE_W_FMA_TAIL(1, t) HE_W_FMA_TAIL(2, t) HE_W_FMA_TAIL(3, t) \
    }
/* With one step: the input first, then one weight row at a time, 6 vector
 * registers for 4 rows. The empty asm (a compiler barrier for memory) keeps
 * GCC from hoisting all four weight loads above the first VFMA, which needs
 * 9 registers and spilled an accumulator in every pass. */
#define HE_W_ROW_ONE_STEP(r)                      \
    if ((r) < rows) {                             \
        HE_W_LOAD_W(r)                            \
        HE_W_FMA(r, 0)                            \
        __asm__ volatile("" : : : "memory");      \
    }
/* Accumulator number k = t * rows + r of the tile (zero past the last). */
#define HE_W_ACC(k)                                               \
    ((k) >= rows * steps ? zero                                   \
     : (k) % rows == 0 ? HE_W_ACC_ROW(0, (k) / rows)              \
     : (k) % rows == 1 ? HE_W_ACC_ROW(1, (k) / rows)              \
     : (k) % rows == 2 ? HE_W_ACC_ROW(2, (k) / rows)              \
                       : HE_W_ACC_ROW(3, (k) / rows))
#define HE_W_ACC_ROW(r, t)                                        \
    ((t) == 0 ? a##r##0 : (t) == 1 ? a##r##1 : (t) == 2 ? a##r##2 \
     : (t) == 3 ? a##r##3 : (t) == 4 ? a##r##4 : a##r##5)
/* Outputs k .. k+3 (those that exist). */
#define HE_W_STORE4(k)                                                                   \
    if ((k) < rows * steps)                                                              \
        he_i8f32_store(steps, (k),                                                       \
                       rows * steps - (k) < 4 ? (uint32_t)(rows * steps - (k)) : 4u,     \
                       HE_W_ACC(k), HE_W_ACC((k) + 1), HE_W_ACC((k) + 2),                \
                       HE_W_ACC((k) + 3), w_scale, y, y_stride, scratch);

static MTS_ALWAYS_INLINE void he_i8f32_tile(size_t rows, size_t steps, size_t depth,
                                            const int8_t *restrict w, size_t w_stride,
                                            const float *restrict w_scale,
                                            const float *restrict x, size_t x_stride,
                                            float *restrict y, size_t y_stride,
                                            float *restrict scratch)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    HE_EACH4(HE_W_DECLARE_ROW)
    HE_W_EACH_STEP(HE_W_DECLARE_STEP)
    HE_W_EACH(HE_W_DECLARE_ACC)
    for (size_t n = depth / 4; n > 0; n--) {
        if (steps == 1) {
            const float32x4_t u = vld1q_f32(x0);
            x0 += 4;
            HE_EACH4(HE_W_ROW_ONE_STEP)
        } else {
            HE_EACH4(HE_W_LOAD_W)
            HE_W_EACH_STEP(HE_W_STEP)
        }
    }
    if (depth % 4 != 0) {
        const mve_pred16_t p = vctp32q((uint32_t)(depth % 4));
        HE_EACH4(HE_W_LOAD_W_TAIL)
        HE_W_EACH_STEP(HE_W_STEP_TAIL)
    }
    HE_W_STORE4(0)
    HE_W_STORE4(4)
}

/* One output row for all steps: tiles of HE_W_STEPS, then one tile of the
 * remaining steps % HE_W_STEPS (each shape specialised by inlining). */
static MTS_ALWAYS_INLINE void he_i8f32_row(size_t depth, size_t steps,
                                           const int8_t *w, const float *w_scale,
                                           const float *x, size_t x_stride,
                                           float *y, size_t y_stride, float *scratch)
{
    size_t t = 0;
    for (; t + HE_W_STEPS <= steps; t += HE_W_STEPS)
        he_i8f32_tile(1, HE_W_STEPS, depth, w, 0, w_scale, x + t * x_stride, x_stride,
                      y + t * y_stride, y_stride, scratch);
    const float *x_t = x + t * x_stride;
    float *y_t = y + t * y_stride;
    switch (steps - t) {
#define HE_W_LAST_TILE(n)                                                              \
    case n:                                                                            \
        he_i8f32_tile(1, n, depth, w, 0, w_scale, x_t, x_stride, y_t, y_stride, scratch); \
        break;
#if HE_W_STEPS > 5
        HE_W_LAST_TILE(5)
#endif
#if HE_W_STEPS > 4
        HE_W_LAST_TILE(4)
#endif
#if HE_W_STEPS > 3
        HE_W_LAST_TILE(3)
#endif
#if HE_W_STEPS > 2
        HE_W_LAST_TILE(2)
#endif
#if HE_W_STEPS > 1
        HE_W_LAST_TILE(1)
#endif
#undef HE_W_LAST_TILE
    default:
        break;
    }
}

void mtsi_gemm_i8f32_helium(size_t rows, size_t depth, size_t steps,
                            const int8_t *w, size_t w_stride, const float *w_scale,
                            const float *x, size_t x_stride,
                            float *y, size_t y_stride)
{
    float scratch[16]; /* he_sum4's transposition */
    size_t r = 0;
    if (steps == 1) {
        /* One step: the input vector serves HE_ONE_STEP_ROWS rows. */
        for (; r + HE_ONE_STEP_ROWS <= rows; r += HE_ONE_STEP_ROWS)
            he_i8f32_tile(HE_ONE_STEP_ROWS, 1, depth, w + r * w_stride, w_stride, w_scale + r,
                          x, x_stride, y + r, y_stride, scratch);
    }
    for (; r < rows; r++)
        he_i8f32_row(depth, steps, w + r * w_stride, w_scale + r, x, x_stride, y + r,
                     y_stride, scratch);
}

#else
/* No MVE float on this target: nothing to build. */
typedef int mts_gemm_i8_helium_not_built;
#endif
