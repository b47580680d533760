/* Helium (M-profile Vector Extension, float) blocked product for Cortex-M55
 * and other Armv8.1-M cores with MVE-F: "helium".
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * Each (row, step) pair accumulates in one 4-lane vector, lane l summing the
 * inputs i = l mod 4 in order (VFMA, 4 multiply-adds per instruction); the
 * lanes are then added in a fixed order, (l0 + l2) + (l1 + l3). A depth that
 * is not a multiple of 4 ends with tail-predicated loads and VFMAs, so no
 * element past a row is read and the lane assignment stays i mod 4. The summation order of an output therefore depends only on
 * depth, never on T or the tile it falls in: results are bit-identical for
 * every block size and every split of a stream.
 *
 * Tiles: MVE has 8 vector registers. A tile of 2 rows x 2 steps holds 4
 * accumulators, the 2 weight vectors and 1 input vector (7 registers): per
 * 4 inputs 2 + 2 loads and 4 VFMAs, each weight vector used for 2 steps.
 * The last step of an odd T uses a 4 rows x 1 step tile (4 accumulators, 1
 * input vector, weights streamed), as does T = 1 throughout: 5 loads per 4
 * VFMAs. Rows below a multiple of 4 take one output at a time. Written with
 * the ACLE intrinsics of <arm_mve.h>; the inner loops compile to
 * post-incremented VLDRW, VFMA and a low-overhead loop (LE), nothing else
 * (checked in the disassembly).
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_HELIUM) /* isa.h: MVE with floating point */

#include <arm_mve.h>

#include "../compiler.h"

/* The sums of four accumulators, each in the fixed lane order
 * (l0 + l2) + (l1 + l3), as one vector: the four are stored as they are and
 * lane k of all four is gathered back in one load (offsets 0, 4, 8, 12
 * from float k). (VST4 would need them in four consecutive registers, which
 * GCC arranges by a round trip through the stack: 8 more instructions.) */
static MTS_ALWAYS_INLINE float32x4_t helium_sum4(float32x4_t a, float32x4_t b, float32x4_t c,
                                                 float32x4_t d)
{
    float lanes[16];
    vst1q_f32(lanes, a);
    vst1q_f32(lanes + 4, b);
    vst1q_f32(lanes + 8, c);
    vst1q_f32(lanes + 12, d);
    const uint32x4_t column = vidupq_n_u32(0u, 4);  /* 0, 4, 8, 12 */
    return vaddq_f32(vaddq_f32(vldrwq_gather_shifted_offset_f32(lanes, column),
                               vldrwq_gather_shifted_offset_f32(lanes + 2, column)),
                     vaddq_f32(vldrwq_gather_shifted_offset_f32(lanes + 1, column),
                               vldrwq_gather_shifted_offset_f32(lanes + 3, column)));
}

/* The tail of a depth that is not a multiple of 4: predicated, so inactive
 * lanes neither load (nothing past a row is read) nor change. */
#define HELIUM_TAIL_PREDICATE(depth) vctp32q((uint32_t)((depth) % 4))
#define HELIUM_TAIL_FMA(acc, wp, xv, p) ((acc) = vfmaq_m_f32((acc), vldrwq_z_f32((wp), (p)), (xv), (p)))

/* Rows 0, 1 x steps 0, 1: each weight vector serves two steps, each input
 * vector two rows; 7 of the 8 vector registers. */
static MTS_ALWAYS_INLINE void helium_tile_2x2(size_t depth, const float *w, size_t w_stride,
                            const float *x, size_t x_stride, float *y, uint32x4_t y_offsets)
{
    const float *w0 = w, *w1 = w + w_stride, *x0 = x, *x1 = x + x_stride;
    float32x4x4_t a; /* a<row><step> = a.val[00, 10, 01, 11] */
    a.val[0] = vdupq_n_f32(0.0f);
    a.val[1] = a.val[0];
    a.val[2] = a.val[0];
    a.val[3] = a.val[0];
    for (size_t n = depth / 4; n > 0; n--) {
        /* Keeps GCC from rewriting the post-incremented pointers as one
         * shared index (an extra add per load). */
        __asm__("" : "+r"(w0), "+r"(w1));
        const float32x4_t v0 = vld1q_f32(w0), v1 = vld1q_f32(w1);
        w0 += 4;
        w1 += 4;
        float32x4_t u = vld1q_f32(x0);
        x0 += 4;
        a.val[0] = vfmaq_f32(a.val[0], v0, u);
        a.val[1] = vfmaq_f32(a.val[1], v1, u);
        u = vld1q_f32(x1);
        x1 += 4;
        a.val[2] = vfmaq_f32(a.val[2], v0, u);
        a.val[3] = vfmaq_f32(a.val[3], v1, u);
    }
    if (depth % 4 != 0) {
        const mve_pred16_t p = HELIUM_TAIL_PREDICATE(depth);
        float32x4_t u = vldrwq_z_f32(x0, p);
        HELIUM_TAIL_FMA(a.val[0], w0, u, p);
        HELIUM_TAIL_FMA(a.val[1], w1, u, p);
        u = vldrwq_z_f32(x1, p);
        HELIUM_TAIL_FMA(a.val[2], w0, u, p);
        HELIUM_TAIL_FMA(a.val[3], w1, u, p);
    }
    /* y[0], y[1], y[y_stride], y[y_stride + 1] in one scatter store. */
    vstrwq_scatter_shifted_offset_f32(y, y_offsets,
                                      helium_sum4(a.val[0], a.val[1], a.val[2], a.val[3]));
}

/* Rows 0..3 x one step (T = 1, or the last step of an odd T): the input
 * vector serves four rows, the weights are streamed. */
static void helium_tile_4x1(size_t depth, const float *w, size_t w_stride,
                            const float *x, float *y)
{
    const float *w0 = w, *w1 = w + w_stride, *w2 = w + 2 * w_stride, *w3 = w + 3 * w_stride;
    const float *x0 = x;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t n = depth / 4; n > 0; n--) {
        __asm__("" : "+r"(w0), "+r"(w1), "+r"(w2), "+r"(w3));
        const float32x4_t u = vld1q_f32(x0);
        x0 += 4;
        a0 = vfmaq_f32(a0, vld1q_f32(w0), u);
        a1 = vfmaq_f32(a1, vld1q_f32(w1), u);
        a2 = vfmaq_f32(a2, vld1q_f32(w2), u);
        a3 = vfmaq_f32(a3, vld1q_f32(w3), u);
        w0 += 4;
        w1 += 4;
        w2 += 4;
        w3 += 4;
    }
    if (depth % 4 != 0) {
        const mve_pred16_t p = HELIUM_TAIL_PREDICATE(depth);
        const float32x4_t u = vldrwq_z_f32(x0, p);
        HELIUM_TAIL_FMA(a0, w0, u, p);
        HELIUM_TAIL_FMA(a1, w1, u, p);
        HELIUM_TAIL_FMA(a2, w2, u, p);
        HELIUM_TAIL_FMA(a3, w3, u, p);
    }
    vst1q_f32(y, helium_sum4(a0, a1, a2, a3));
}

/* One output (the rows below a multiple of 4). */
static void helium_tile_1x1(size_t depth, const float *w, const float *x, float *y)
{
    float32x4_t a = vdupq_n_f32(0.0f);
    const float32x4_t zero = a;
    for (size_t n = depth / 4; n > 0; n--) {
        a = vfmaq_f32(a, vld1q_f32(w), vld1q_f32(x));
        w += 4;
        x += 4;
    }
    if (depth % 4 != 0) {
        const mve_pred16_t p = HELIUM_TAIL_PREDICATE(depth);
        HELIUM_TAIL_FMA(a, w, vldrwq_z_f32(x, p), p);
    }
    *y = vgetq_lane_f32(helium_sum4(a, zero, zero, zero), 0);
}

void mtsi_gemm_f32_helium(size_t rows, size_t depth, size_t steps,
                          const float *w, size_t w_stride,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride)
{
    size_t r = 0;
    /* Where a 2x2 tile's four sums go, in floats from its first output. */
    uint32x4_t y_offsets = vdupq_n_u32(0);
    y_offsets = vsetq_lane_u32(1u, y_offsets, 1);
    y_offsets = vsetq_lane_u32((uint32_t)y_stride, y_offsets, 2);
    y_offsets = vsetq_lane_u32((uint32_t)y_stride + 1u, y_offsets, 3);
    /* Groups of 4 rows: step pairs as two 2x2 tiles, an odd last step as 4x1. */
    for (; r + 4 <= rows; r += 4) {
        const float *w_r = w + r * w_stride;
        size_t t = 0;
        for (; t + 2 <= steps; t += 2) {
            helium_tile_2x2(depth, w_r, w_stride, x + t * x_stride, x_stride,
                            y + t * y_stride + r, y_offsets);
            helium_tile_2x2(depth, w_r + 2 * w_stride, w_stride, x + t * x_stride, x_stride,
                            y + t * y_stride + r + 2, y_offsets);
        }
        if (t < steps)
            helium_tile_4x1(depth, w_r, w_stride, x + t * x_stride, y + t * y_stride + r);
    }
    for (; r < rows; r++)
        for (size_t t = 0; t < steps; t++)
            helium_tile_1x1(depth, w + r * w_stride, x + t * x_stride, y + t * y_stride + r);
}

#endif
