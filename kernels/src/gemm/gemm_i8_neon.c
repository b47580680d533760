/* NEON int8 products (docs/quantization.md; aarch64, armv7-a with NEON):
 *
 *   int8-w  "neon":       Y[t][r] = w_scale[r] * (sum_i (float)Wq[r][i] * X[t][i])
 *   int8-wa "neon-sdot",  acc     = sum_i Wq[r][i] * Xq[t][i]           (int32, exact)
 *           "neon":       Y[t][r] = (float)acc * (w_scale[r] * x_scale[t])
 *
 * Register tiles of 4 output rows x 3 to 5 time steps (sizes below; 4 x 2
 * on armv7's 16 vector registers), as in gemm_neon.c: each chunk of the
 * tile's 4 weight rows is loaded once for all its steps, so the weights are
 * streamed once per block of T steps. The accumulators are named variables
 * written out by macros (GCC keeps an array of vectors in memory).
 *
 * int8-wa: one int32x4 accumulator per (row, step), 16 inputs per chunk,
 * either by SDOT (vdotq_s32: 4 products per lane, where
 * __ARM_FEATURE_DOTPROD, e.g. -march=armv8.2-a+dotprod; on aarch64 Linux
 * also in a plain armv8-a build, chosen at run time: ../isa.h) or by SMULL +
 * SADALP (vmull_s8 gives 8 int16 products, |p| <= 128 * 128 = 16384, which
 * vpadalq_s16 adds pairwise into the int32 lanes; no two products are ever
 * summed in int16, so this is exact for any int8 values). The last
 * depth mod 16 inputs come from zero-padded copies. Integer sums are exact,
 * so every variant equals the reference bit for bit; the scaling is the
 * reference's (float)acc * (w_scale * x_scale): on aarch64 for the 4 rows of
 * a tile at once (Advanced SIMD arithmetic is IEEE there, under the same
 * FPCR as scalar code, so each lane rounds as the scalar expression does),
 * on armv7 in scalar C (its NEON flushes subnormals to zero, and
 * w_scale * x_scale can be subnormal).
 *
 * int8-w: the float NEON product's lane structure. 8 weights per chunk are
 * widened int8 -> int16 -> int32 -> float32 (exact), and each (row, step)
 * accumulates in one 4-lane register, lane l summing the terms i = l mod 4
 * in input order by explicit multiply-adds (fused where the target has FMA,
 * as in gemm_neon.c; never left to compiler contraction). The last
 * depth mod 8 inputs come from zero-padded copies (0 * 0 adds an exact
 * zero), then the lanes are added as (l0 + l1) + (l2 + l3) and the sum is
 * multiplied by w_scale[r] (four rows at once; on armv7 that NEON multiply,
 * like the float product's sums, flushes subnormal results to zero, within
 * the tests' float32 bound). Every accumulator goes through the same
 * operations whatever its tile shape, so the order depends only on depth and
 * outputs are bit-identical for every block size T and stream split.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_NEON)
#include <arm_neon.h>

#include "../compiler.h"
#include "neon_common.h"

/* Steps per tile, from the disassembly of the depth loops (GCC 12 -O2).
 * aarch64: the SDOT tile holds 20 accumulators + 4 weight + 5 input vectors
 * with no spills; SMULL + SADALP needs product temporaries and int8-w the
 * widened weights, and at 4 steps GCC spilled accumulators in the depth loop
 * (at 3, none). armv7: 4 x 2 tiles, which fit its 16 registers without
 * spills once every row has its own pointer and int8-w widens its weights
 * row by row (below); fewer steps would lose weight reuse. */
#define MTS_I8_NEON_TILE_ROWS 4
#if defined(__aarch64__)
#define MTS_I8_NEON_SDOT_STEPS 5
#define MTS_I8_NEON_MULL_STEPS 3
#define MTS_I8_NEON_W_STEPS 3
#define MTS_I8_NEON_MAX_STEPS 5
#define MTS_I8_NEON_EACH_STEP(M) M(0) M(1) M(2) M(3) M(4)
#else
#define MTS_I8_NEON_SDOT_STEPS 2 /* AArch32 with dotprod (armv8.2-a) */
#define MTS_I8_NEON_MULL_STEPS 2
#define MTS_I8_NEON_W_STEPS 2
#define MTS_I8_NEON_MAX_STEPS 2
#define MTS_I8_NEON_EACH_STEP(M) M(0) M(1)
#endif
#define MTS_I8_NEON_WA_CHUNK 16 /* int8-wa inputs per pass of the depth loop */
#define MTS_I8_NEON_W_CHUNK 8   /* int8-w inputs per pass of the depth loop */

/* ---- int8-wa ------------------------------------------------------------- */

/* acc + the 16 products a[k] * b[k], lane l receiving k = 4l .. 4l+3 (SDOT)
 * or k = 2l, 2l+1, 2l+8, 2l+9 (SMULL + SADALP); exact either way. */
static MTS_ALWAYS_INLINE int32x4_t i8_neon_dot16(int sdot, int32x4_t acc, int8x16_t a,
                                                 int8x16_t b)
{
#if defined(MTS_ARM_DISPATCH)
    /* The SDOT instruction itself: the vdotq_s32 intrinsic cannot be called
     * from this function, built for plain armv8-a (GCC refuses to inline it,
     * Clang does not declare it); the assembler accepts SDOT in the one
     * function built for armv8.2-a+dotprod (MTS_TARGET_DOTPROD below), the
     * only one that passes sdot = 1. */
    if (sdot) {
        __asm__("sdot %0.4s, %1.16b, %2.16b" : "+w"(acc) : "w"(a), "w"(b));
        return acc;
    }
#elif defined(MTS_HAVE_NEON_SDOT)
    if (sdot)
        return vdotq_s32(acc, a, b);
#endif
    (void)sdot;
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
#if defined(__aarch64__)
    return vpadalq_s16(acc, vmull_high_s8(a, b)); /* SMULL2: no moves of the high halves */
#else
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
#endif
}

/* The lanes of a0..a3 summed: lane k of the result is a_k's total. */
static inline int32x4_t i8_neon_isum4(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3)
{
#if defined(__aarch64__)
    return vpaddq_s32(vpaddq_s32(a0, a1), vpaddq_s32(a2, a3));
#else
    const int32x2_t p0 = vpadd_s32(vget_low_s32(a0), vget_high_s32(a0));
    const int32x2_t p1 = vpadd_s32(vget_low_s32(a1), vget_high_s32(a1));
    const int32x2_t p2 = vpadd_s32(vget_low_s32(a2), vget_high_s32(a2));
    const int32x2_t p3 = vpadd_s32(vget_low_s32(a3), vget_high_s32(a3));
    return vcombine_s32(vpadd_s32(p0, p1), vpadd_s32(p2, p3));
#endif
}

static inline int32_t i8_neon_isum1(int32x4_t a)
{
    const int32x2_t p = vpadd_s32(vget_low_s32(a), vget_high_s32(a));
    return vget_lane_s32(vpadd_s32(p, p), 0);
}

#define MTS_I8I8_DECLARE(t) \
    int32x4_t a0_##t = zero, a1_##t = zero, a2_##t = zero, a3_##t = zero;
/* Every weight and input row has its own pointer, advanced by a chunk per
 * pass on both targets (armv7 post-increments the loads, VLD1 [rN]!; from
 * a shared index it computed each address with two instructions, ADD and
 * SUBS, 12 per pass of the 4 x 2 tile, and spilled an accumulator). Unlike
 * the float and int8-w tiles (neon_common.h), aarch64 gains from the
 * pointers here too: `neon` 0.447 -> 0.429 instructions per multiply-add at
 * T = 1, `neon-sdot` 0.263 -> 0.253. */
#define MTS_I8I8_X_POINTER(t) const int8_t *x_##t = (t) < steps ? xq + (t) * xq_stride : xq;
#define MTS_I8I8_X_PAD(t) x_##t = x_pad[t];
#define MTS_I8I8_DOT(t)                                              \
    if ((t) < steps) {                                               \
        const int8x16_t xv = vld1q_s8(x_##t);                        \
        x_##t += MTS_I8_NEON_WA_CHUNK;                               \
        a0_##t = i8_neon_dot16(sdot, a0_##t, w0, xv);                \
        if (rows == MTS_I8_NEON_TILE_ROWS) {                         \
            a1_##t = i8_neon_dot16(sdot, a1_##t, w1, xv);            \
            a2_##t = i8_neon_dot16(sdot, a2_##t, w2, xv);            \
            a3_##t = i8_neon_dot16(sdot, a3_##t, w3, xv);            \
        }                                                            \
    }
/* One chunk of 16 inputs: weight rows at w_0..w_3, input rows at x_<t>. */
#define MTS_I8I8_CHUNK                                   \
    do {                                                 \
        w0 = vld1q_s8(w_0);                              \
        w_0 += MTS_I8_NEON_WA_CHUNK;                     \
        if (rows == MTS_I8_NEON_TILE_ROWS) {             \
            w1 = vld1q_s8(w_1);                          \
            w2 = vld1q_s8(w_2);                          \
            w3 = vld1q_s8(w_3);                          \
            w_1 += MTS_I8_NEON_WA_CHUNK;                 \
            w_2 += MTS_I8_NEON_WA_CHUNK;                 \
            w_3 += MTS_I8_NEON_WA_CHUNK;                 \
        }                                                \
        MTS_I8_NEON_EACH_STEP(MTS_I8I8_DOT)              \
    } while (0)
/* The 4 rows' outputs of step t, (float)acc * (w_scale[r] * x_scale[t]) in
 * the reference's order (see the top of the file). On aarch64 one SCVTF and
 * two FMULs for the 4 rows, each lane rounding as the scalar expression
 * does. The scalar form cost about 9 instructions per output (a lane move,
 * SCVTF, both scales and the row offset loaded, 2 FMUL, STR): the SDOT
 * product at depth 256, T = 16, went from 0.153 to 0.131 instructions per
 * multiply-add. */
#if defined(__aarch64__)
static inline void i8i8_neon_store4(float *y, int32x4_t sums, const float *w_scale,
                                    float x_scale)
{
    const float32x4_t scale = vmulq_n_f32(vld1q_f32(w_scale), x_scale);
    vst1q_f32(y, vmulq_f32(vcvtq_f32_s32(sums), scale));
}
#else
static inline void i8i8_neon_store4(float *y, int32x4_t sums, const float *w_scale,
                                    float x_scale)
{
    int32_t s[MTS_I8_NEON_TILE_ROWS];
    vst1q_s32(s, sums);
    for (size_t r = 0; r < MTS_I8_NEON_TILE_ROWS; r++)
        y[r] = (float)s[r] * (w_scale[r] * x_scale);
}
#endif
#define MTS_I8I8_STORE(t)                                                       \
    if ((t) < steps) {                                                          \
        if (rows == MTS_I8_NEON_TILE_ROWS)                                      \
            i8i8_neon_store4(y + (t) * y_stride,                                \
                             i8_neon_isum4(a0_##t, a1_##t, a2_##t, a3_##t), w_scale, \
                             x_scale[t]);                                       \
        else                                                                    \
            y[(t) * y_stride] = (float)i8_neon_isum1(a0_##t) * (w_scale[0] * x_scale[t]); \
    }

/* One tile of `rows` (1 or 4) x `steps` (<= MTS_I8_NEON_MAX_STEPS); sdot,
 * rows and steps are constants at every call, so each shape is specialised. */
static MTS_ALWAYS_INLINE void i8i8_neon_tile(int sdot, size_t rows, size_t steps, size_t depth,
                                             const int8_t *w, size_t w_stride,
                                             const float *w_scale,
                                             const int8_t *xq, size_t xq_stride,
                                             const float *x_scale,
                                             float *y, size_t y_stride)
{
    const int32x4_t zero = vdupq_n_s32(0);
    int8x16_t w0, w1 = vdupq_n_s8(0), w2 = w1, w3 = w1;
    MTS_I8_NEON_EACH_STEP(MTS_I8I8_DECLARE)

    const int full = rows == MTS_I8_NEON_TILE_ROWS;
    const int8_t *w_0 = w, *w_1 = full ? w + w_stride : w,
                 *w_2 = full ? w + 2 * w_stride : w, *w_3 = full ? w + 3 * w_stride : w;
    MTS_I8_NEON_EACH_STEP(MTS_I8I8_X_POINTER)
    for (size_t n = depth / MTS_I8_NEON_WA_CHUNK; n > 0; n--)
        MTS_I8I8_CHUNK;
    const size_t i = depth - depth % MTS_I8_NEON_WA_CHUNK;
    if (i < depth) {
        int8_t w_pad[MTS_I8_NEON_TILE_ROWS][MTS_I8_NEON_WA_CHUNK] = {{0}};
        int8_t x_pad[MTS_I8_NEON_MAX_STEPS][MTS_I8_NEON_WA_CHUNK] = {{0}};
        for (size_t r = 0; r < rows; r++)
            for (size_t k = 0; k < depth - i; k++)
                w_pad[r][k] = w[r * w_stride + i + k];
        for (size_t t = 0; t < steps; t++)
            for (size_t k = 0; k < depth - i; k++)
                x_pad[t][k] = xq[t * xq_stride + i + k];
        w_0 = w_pad[0];
        w_1 = w_pad[1];
        w_2 = w_pad[2];
        w_3 = w_pad[3];
        MTS_I8_NEON_EACH_STEP(MTS_I8I8_X_PAD)
        MTS_I8I8_CHUNK;
    }
    MTS_I8_NEON_EACH_STEP(MTS_I8I8_STORE)
}

/* All step tiles of one group of `rows` output rows: full tiles of
 * tile_steps, then the remainder by tiles of 4, 2 and 1 steps. */
static MTS_ALWAYS_INLINE void i8i8_neon_rows(int sdot, size_t tile_steps, size_t rows,
                                             size_t depth, size_t steps,
                                             const int8_t *w, size_t w_stride,
                                             const float *w_scale,
                                             const int8_t *xq, size_t xq_stride,
                                             const float *x_scale,
                                             float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + tile_steps <= steps; t += tile_steps)
        i8i8_neon_tile(sdot, rows, tile_steps, depth, w, w_stride, w_scale,
                       xq + t * xq_stride, xq_stride, x_scale + t, y + t * y_stride, y_stride);
    if (tile_steps > 4 && t + 4 <= steps) {
        i8i8_neon_tile(sdot, rows, 4, depth, w, w_stride, w_scale, xq + t * xq_stride,
                       xq_stride, x_scale + t, y + t * y_stride, y_stride);
        t += 4;
    }
    if (tile_steps > 2 && t + 2 <= steps) {
        i8i8_neon_tile(sdot, rows, 2, depth, w, w_stride, w_scale, xq + t * xq_stride,
                       xq_stride, x_scale + t, y + t * y_stride, y_stride);
        t += 2;
    }
    if (t < steps)
        i8i8_neon_tile(sdot, rows, 1, depth, w, w_stride, w_scale, xq + t * xq_stride,
                       xq_stride, x_scale + t, y + t * y_stride, y_stride);
}

static MTS_ALWAYS_INLINE void i8i8_neon(int sdot, size_t tile_steps, size_t rows,
                                        size_t depth, size_t steps,
                                        const int8_t *w, size_t w_stride,
                                        const float *w_scale,
                                        const int8_t *xq, size_t xq_stride,
                                        const float *x_scale,
                                        float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + MTS_I8_NEON_TILE_ROWS <= rows; r += MTS_I8_NEON_TILE_ROWS)
        i8i8_neon_rows(sdot, tile_steps, MTS_I8_NEON_TILE_ROWS, depth, steps,
                       w + r * w_stride, w_stride, w_scale + r, xq, xq_stride, x_scale,
                       y + r, y_stride);
    for (; r < rows; r++)
        i8i8_neon_rows(sdot, tile_steps, 1, depth, steps, w + r * w_stride, w_stride,
                       w_scale + r, xq, xq_stride, x_scale, y + r, y_stride);
}

void mtsi_gemm_i8i8_neon(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const int8_t *xq, size_t xq_stride, const float *x_scale,
                         float *y, size_t y_stride)
{
    i8i8_neon(0, MTS_I8_NEON_MULL_STEPS, rows, depth, steps, w, w_stride, w_scale, xq, xq_stride,
              x_scale, y, y_stride);
}

#if defined(MTS_HAVE_NEON_SDOT)
/* Built for a dotprod CPU whatever the build's -march (MTS_ARM_DISPATCH):
 * its table entry requires MTS_CPU_DOTPROD, so it runs only where the
 * kernel reports SDOT. GCC's name for the target (its assembler rejects
 * SDOT under "+dotprod" alone on armv8-a), and Clang's. */
#if !defined(MTS_ARM_DISPATCH)
#define MTS_TARGET_DOTPROD
#elif defined(__clang__)
#define MTS_TARGET_DOTPROD __attribute__((target("dotprod")))
#else
#define MTS_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
MTS_TARGET_DOTPROD
void mtsi_gemm_i8i8_neon_sdot(size_t rows, size_t depth, size_t steps,
                              const int8_t *w, size_t w_stride, const float *w_scale,
                              const int8_t *xq, size_t xq_stride, const float *x_scale,
                              float *y, size_t y_stride)
{
    i8i8_neon(1, MTS_I8_NEON_SDOT_STEPS, rows, depth, steps, w, w_stride, w_scale, xq, xq_stride,
              x_scale, y, y_stride);
}
#endif

/* ---- int8-w -------------------------------------------------------------- */


static inline float32x4_t i8_neon_widen_low(int16x8_t q)
{
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(q)));
}

static inline float32x4_t i8_neon_widen_high(int16x8_t q)
{
    return vcvtq_f32_s32(vmovl_s16(vget_high_s16(q)));
}

#define MTS_I8F32_DECLARE(t) \
    float32x4_t a0_##t = zero, a1_##t = zero, a2_##t = zero, a3_##t = zero;
/* Per chunk of 8 inputs: each step's 8 inputs loaded once (2 vectors),
 * then row by row the 8 weights widened to two float vectors and
 * multiply-added into that row's accumulators, the low 4 inputs first as in
 * input order. Row by row, the widened weights of one row are live at a
 * time: the armv7 4 x 2 tile holds 8 accumulators, 4 input vectors, 2
 * widened and 1 int16 weight vector in its 16 registers (all 4 rows
 * widened first, as before, spilled two accumulators per pass). Pointers
 * advanced per pass, as in the int8-wa tile. */
/* Where step t's inputs are read. armv7: one pointer per step, advanced per
 * pass (neon_common.h). aarch64: x_base + t * x_step + k, with one base
 * for all steps, from which GCC loads step 0's 8 inputs with one LDP (per
 * step pointers and the index k cost it one instruction per pass). */
#if defined(__aarch64__)
#define MTS_I8F32_X_POINTER(t)
#define MTS_I8F32_X_PAD(t)
#define MTS_I8F32_X_AT(t) (x_base + (t) * x_step + k)
#else
#define MTS_I8F32_X_POINTER(t) const float *x_##t = (t) < steps ? x + (t) * x_stride : x;
#define MTS_I8F32_X_PAD(t) x_##t = x_pad[t];
#define MTS_I8F32_X_AT(t) (x_##t)
#endif
#define MTS_I8F32_X_LOAD(t)                                       \
    float32x4_t xl_##t = zero, xh_##t = zero;                     \
    if ((t) < steps) {                                            \
        xl_##t = vld1q_f32(MTS_I8F32_X_AT(t));                    \
        xh_##t = vld1q_f32(MTS_I8F32_X_AT(t) + 4);                \
        MTS_NEON_ADVANCE(x_##t, MTS_I8_NEON_W_CHUNK);             \
    }
#define MTS_I8F32_MLA(r, t)                                       \
    if ((t) < steps) {                                            \
        a##r##_##t = MTS_NEON_MLA(a##r##_##t, lo, xl_##t);        \
        a##r##_##t = MTS_NEON_MLA(a##r##_##t, hi, xh_##t);        \
    }
#define MTS_I8F32_MLA0(t) MTS_I8F32_MLA(0, t)
#define MTS_I8F32_MLA1(t) MTS_I8F32_MLA(1, t)
#define MTS_I8F32_MLA2(t) MTS_I8F32_MLA(2, t)
#define MTS_I8F32_MLA3(t) MTS_I8F32_MLA(3, t)
/* Row r's 8 weights at w_<r> into its accumulators (mla: MTS_I8F32_MLA<r>). */
#define MTS_I8F32_ROW(r, mla)                                     \
    do {                                                          \
        const int16x8_t q = vmovl_s8(vld1_s8(w_##r + k));         \
        MTS_NEON_ADVANCE(w_##r, MTS_I8_NEON_W_CHUNK);             \
        const float32x4_t lo = i8_neon_widen_low(q);              \
        const float32x4_t hi = i8_neon_widen_high(q);             \
        MTS_I8_NEON_EACH_STEP(mla)                                \
    } while (0)
/* One chunk of 8 inputs: weight rows at w_0..w_3, input rows at x_<t>. */
#define MTS_I8F32_CHUNK                                           \
    do {                                                          \
        MTS_I8_NEON_EACH_STEP(MTS_I8F32_X_LOAD)                   \
        MTS_I8F32_ROW(0, MTS_I8F32_MLA0);                         \
        if (rows == MTS_I8_NEON_TILE_ROWS) {                      \
            MTS_I8F32_ROW(1, MTS_I8F32_MLA1);                     \
            MTS_I8F32_ROW(2, MTS_I8F32_MLA2);                     \
            MTS_I8F32_ROW(3, MTS_I8F32_MLA3);                     \
        }                                                         \
    } while (0)
#define MTS_I8F32_STORE(t)                                                            \
    if ((t) < steps) {                                                                \
        if (rows == MTS_I8_NEON_TILE_ROWS)                                            \
            vst1q_f32(y + (t) * y_stride,                                             \
                      vmulq_f32(scale4, neon_sum4(a0_##t, a1_##t, a2_##t, a3_##t))); \
        else                                                                          \
            y[(t) * y_stride] = w_scale[0] * neon_sum1(a0_##t);                   \
    }

static MTS_ALWAYS_INLINE void i8f32_neon_tile(size_t rows, size_t steps, size_t depth,
                                              const int8_t *w, size_t w_stride,
                                              const float *w_scale,
                                              const float *x, size_t x_stride,
                                              float *y, size_t y_stride)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    MTS_I8_NEON_EACH_STEP(MTS_I8F32_DECLARE)

    const int full = rows == MTS_I8_NEON_TILE_ROWS;
    const int8_t *w_0 = w, *w_1 = full ? w + w_stride : w,
                 *w_2 = full ? w + 2 * w_stride : w, *w_3 = full ? w + 3 * w_stride : w;
    MTS_I8_NEON_EACH_STEP(MTS_I8F32_X_POINTER)
    const float *x_base = x; /* read by aarch64's MTS_I8F32_X_AT only */
    size_t x_step = x_stride;
    (void)x_base;
    (void)x_step;
    size_t k = 0;
    for (size_t n = depth / MTS_I8_NEON_W_CHUNK; n > 0; n--) {
        MTS_I8F32_CHUNK;
        MTS_NEON_ADVANCE_INDEX(k, MTS_I8_NEON_W_CHUNK);
    }
    const size_t i = depth - depth % MTS_I8_NEON_W_CHUNK;
    if (i < depth) {
        int8_t w_pad[MTS_I8_NEON_TILE_ROWS][MTS_I8_NEON_W_CHUNK] = {{0}};
        float x_pad[MTS_I8_NEON_MAX_STEPS][MTS_I8_NEON_W_CHUNK] = {{0.0f}};
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < depth - i; j++)
                w_pad[r][j] = w[r * w_stride + i + j];
        for (size_t t = 0; t < steps; t++)
            for (size_t j = 0; j < depth - i; j++)
                x_pad[t][j] = x[t * x_stride + i + j];
        k = 0; /* the padded copies are read from their start */
        w_0 = w_pad[0];
        w_1 = w_pad[1];
        w_2 = w_pad[2];
        w_3 = w_pad[3];
        MTS_I8_NEON_EACH_STEP(MTS_I8F32_X_PAD)
        x_base = x_pad[0];
        x_step = MTS_I8_NEON_W_CHUNK;
        MTS_I8F32_CHUNK;
    }
    const float32x4_t scale4 = rows == MTS_I8_NEON_TILE_ROWS ? vld1q_f32(w_scale) : zero;
    MTS_I8_NEON_EACH_STEP(MTS_I8F32_STORE)
}

/* As i8i8_neon_rows, with tiles of MTS_I8_NEON_W_STEPS. */
static MTS_ALWAYS_INLINE void i8f32_neon_rows(size_t rows, size_t depth, size_t steps,
                                              const int8_t *w, size_t w_stride,
                                              const float *w_scale,
                                              const float *x, size_t x_stride,
                                              float *y, size_t y_stride)
{
    size_t t = 0;
    for (; t + MTS_I8_NEON_W_STEPS <= steps; t += MTS_I8_NEON_W_STEPS)
        i8f32_neon_tile(rows, MTS_I8_NEON_W_STEPS, depth, w, w_stride, w_scale,
                        x + t * x_stride, x_stride, y + t * y_stride, y_stride);
#if MTS_I8_NEON_W_STEPS > 2
    if (t + 2 <= steps) {
        i8f32_neon_tile(rows, 2, depth, w, w_stride, w_scale, x + t * x_stride, x_stride,
                        y + t * y_stride, y_stride);
        t += 2;
    }
#endif
    if (t < steps)
        i8f32_neon_tile(rows, 1, depth, w, w_stride, w_scale, x + t * x_stride, x_stride,
                        y + t * y_stride, y_stride);
}

void mtsi_gemm_i8f32_neon(size_t rows, size_t depth, size_t steps,
                          const int8_t *w, size_t w_stride, const float *w_scale,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + MTS_I8_NEON_TILE_ROWS <= rows; r += MTS_I8_NEON_TILE_ROWS)
        i8f32_neon_rows(MTS_I8_NEON_TILE_ROWS, depth, steps, w + r * w_stride, w_stride,
                        w_scale + r, x, x_stride, y + r, y_stride);
    for (; r < rows; r++)
        i8f32_neon_rows(1, depth, steps, w + r * w_stride, w_stride, w_scale + r, x,
                        x_stride, y + r, y_stride);
}

#else
/* No NEON on this target, or MTSRNN_SIMD=none: nothing to build. */
typedef int mts_gemm_i8_neon_not_built;
#endif
