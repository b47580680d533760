/* Helium (M-profile Vector Extension, float) blocked product for Cortex-M55
 * and other Armv8.1-M cores with MVE-F: "helium".
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * Four ROWS share a vector: lane l of an accumulator holds output row r + l
 * of one step t. Per input i one gather load fetches W[r..r+3][i] (the
 * vector-base gather with write-back, VLDRW.U32 Qd, [Qa, #4]!: the four row
 * addresses advance by one float per input, no pointer arithmetic), x[t][i]
 * is a scalar (LDR with post-increment) and one vector-by-scalar VFMA adds
 * W[r..r+3][i] * x[t][i] to the accumulator. Every output is therefore the
 * plain sequential sum
 *
 *   acc = +0; for i = 0 .. depth - 1: acc = fma(W[r][i], X[t][i], acc)
 *
 * (one fused multiply-add per input, in input order), whatever the tile it
 * falls in: no horizontal sums, and the results are bit-identical for every
 * block size T and every split of a stream. The tile epilogue is one
 * contiguous store of Y[t][r..r+3] per accumulator.
 *
 * Tiles (MVE has 8 vector registers): per input, a tile of G groups of 4
 * rows x S steps makes G gathers, S scalar loads and G * S VFMAs for 4 G S
 * multiply-adds, holding G address vectors, G * S accumulators and one
 * weight vector the groups share. T >= 2: 8 rows x 2 steps (2 + 4 + 1
 * registers): per input 2 + 2 + 4 = 8 instructions for 16 multiply-adds,
 * 0.5 per multiply-add, where a tile with inputs in the lanes needs 0.5625
 * at best (2 x 2: 4 loads + 4 VFMAs per 16) plus its horizontal sums; an
 * odd last step takes 8 x 1. T = 1: 12 rows x 1 step (3 + 3 + 1): 3 + 1 +
 * 3 = 7 for 12, 0.583. Rows below a multiple of the block take 4 x 4 and
 * 4 x 1 tiles, the last 1-3 rows a 4-row tile whose missing rows'
 * addresses repeat its first row (every load stays inside W) and whose
 * stores are predicated (nothing past Y's rows is written). The depth loop
 * takes 8 inputs per pass (one LE per 8), the last depth mod 8 one at a
 * time: no predication, the inputs are scalars. The gather + VFMAs of a
 * group are inline assembly (see HELIUM_GATHER_FMA1), the rest ACLE
 * intrinsics of <arm_mve.h>; the depth loops are gathers with write-back,
 * post-incremented LDR, VFMA and LE, nothing else (checked in the
 * disassembly of GCC 12 -O3).
 *
 * QEMU counts instructions, not cycles: on a real Cortex-M55 a gather may
 * well take longer than a contiguous VLDRW (docs/performance.md, "Why
 * Helium was only 0.94x of CMSIS-DSP per step").
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_HELIUM) /* isa.h: MVE with floating point */

#include <arm_mve.h>

#include "../compiler.h"

/* One group of 4 rows for one input, as one asm statement: the gather
 * with write-back (a += 4 bytes, one float per row, then W is loaded at the
 * four addresses: VLDRW.U32 Qw, [Qa, #4]!) and the VFMA by scalar of each
 * of the tile's 1, 2 or 4 steps. Inline assembly because GCC 12's
 * vldrwq_gather_base_wb_f32 rejects its own constant offset once inlined,
 * and because, given the gathers one by one, GCC's scheduler interleaved
 * two groups' weight vectors and, 8 vector registers short, parked the
 * address vectors in general-purpose registers (8 VMOVs per pass). Here
 * the weight vector w is a scratch register the groups share; it must
 * differ from the address register (early clobber). "memory": it reads W.
 * The scalars u are general-purpose registers ("r"), as VFMA wants them. */
#define HELIUM_GATHER_FMA1(a, c0, u0)                                          \
    do {                                                                       \
        float32x4_t w_;                                                        \
        __asm__("vldrw.u32 %q0, [%q1, #4]!\n\tvfma.f32 %q2, %q0, %3"           \
                : "=&w"(w_), "+w"(a), "+w"(c0)                                 \
                : "r"(u0)                                                      \
                : "memory");                                                   \
    } while (0)
#define HELIUM_GATHER_FMA2(a, c0, c1, u0, u1)                                  \
    do {                                                                       \
        float32x4_t w_;                                                        \
        __asm__("vldrw.u32 %q0, [%q1, #4]!\n\tvfma.f32 %q2, %q0, %4\n\t"       \
                "vfma.f32 %q3, %q0, %5"                                        \
                : "=&w"(w_), "+w"(a), "+w"(c0), "+w"(c1)                       \
                : "r"(u0), "r"(u1)                                             \
                : "memory");                                                   \
    } while (0)
#define HELIUM_GATHER_FMA4(a, c0, c1, c2, c3, u0, u1, u2, u3)                  \
    do {                                                                       \
        float32x4_t w_;                                                        \
        __asm__("vldrw.u32 %q0, [%q1, #4]!\n\tvfma.f32 %q2, %q0, %6\n\t"       \
                "vfma.f32 %q3, %q0, %7\n\tvfma.f32 %q4, %q0, %8\n\t"           \
                "vfma.f32 %q5, %q0, %9"                                        \
                : "=&w"(w_), "+w"(a), "+w"(c0), "+w"(c1), "+w"(c2), "+w"(c3)   \
                : "r"(u0), "r"(u1), "r"(u2), "r"(u3)                           \
                : "memory");                                                   \
    } while (0)

/* One input of a tile of g groups x s steps: s scalar loads, then per
 * group its gather and its s VFMAs. The accumulators c<group><step>;
 * unused ones are never touched and vanish. */
#define HELIUM_INPUT(g, s)                                                     \
    do {                                                                       \
        /* Keeps GCC from turning the post-incremented pointers into one   */ \
        /* offset per load plus an add per pass.                           */ \
        /* (only the live ones: a dead pointer in it is copied around.) */ \
        if ((s) == 4)                                                          \
            __asm__("" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3));              \
        else if ((s) == 2)                                                     \
            __asm__("" : "+r"(x0), "+r"(x1));                                  \
        else                                                                   \
            __asm__("" : "+r"(x0));                                            \
        const float u0 = *x0++;                                                \
        const float u1 = (s) > 1 ? *x1++ : 0.0f;                               \
        const float u2 = (s) > 2 ? *x2++ : 0.0f;                               \
        const float u3 = (s) > 3 ? *x3++ : 0.0f;                               \
        if ((s) == 4)                                                          \
            HELIUM_GATHER_FMA4(a0, c00, c01, c02, c03, u0, u1, u2, u3);        \
        else if ((s) == 2)                                                     \
            HELIUM_GATHER_FMA2(a0, c00, c01, u0, u1);                          \
        else                                                                   \
            HELIUM_GATHER_FMA1(a0, c00, u0);                                   \
        if ((g) > 1 && (s) == 2)                                               \
            HELIUM_GATHER_FMA2(a1, c10, c11, u0, u1);                          \
        else if ((g) > 1)                                                      \
            HELIUM_GATHER_FMA1(a1, c10, u0);                                   \
        if ((g) > 2)                                                           \
            HELIUM_GATHER_FMA1(a2, c20, u0);                                   \
    } while (0)

/* A tile of g groups of 4 rows x s steps (s = 1, 2 or 4; s <= 2 when
 * g > 1, s = 1 when g = 3).
 * a<k> holds the byte addresses of W[r + 4k .. r + 4k + 3][0] minus 4 (the
 * gather pre-increments); x points at X[t][0], y at Y[t][r]. A tile of one
 * group stores under predicate p (lanes past the last row off); larger
 * tiles are always whole. */
static MTS_ALWAYS_INLINE void helium_tile(const int g, const int s, size_t depth,
                                          uint32x4_t r0, uint32x4_t r1, uint32x4_t r2,
                                          const float *x, size_t x_stride,
                                          float *y, size_t y_stride, mve_pred16_t p)
{
    /* The address vectors stay in vector registers of their own: left to
     * itself GCC carries them round the loop in general-purpose registers
     * (4 VMOVs in and out per pass). They are used only as asm operands,
     * the one use GCC supports for local register variables. */
    register uint32x4_t a0 __asm__("q5") = r0;
    register uint32x4_t a1 __asm__("q6") = r1;
    register uint32x4_t a2 __asm__("q7") = r2;
    const float *x0 = x, *x1 = x + x_stride, *x2 = x + 2 * x_stride, *x3 = x + 3 * x_stride;
    float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c03 = c00;
    float32x4_t c10 = c00, c11 = c00, c20 = c00;
    /* 8 inputs per pass: one LE per 8 (per 4: 0.005 more per multiply-add
     * at depth 64). */
    for (size_t n = depth / 8; n > 0; n--) {
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
        HELIUM_INPUT(g, s);
    }
    for (size_t n = depth % 8; n > 0; n--)
        HELIUM_INPUT(g, s);
    if (g == 1) {
        vstrwq_p_f32(y, c00, p);
        if (s > 1) vstrwq_p_f32(y + y_stride, c01, p);
        if (s > 2) vstrwq_p_f32(y + 2 * y_stride, c02, p);
        if (s > 3) vstrwq_p_f32(y + 3 * y_stride, c03, p);
        return;
    }
    vst1q_f32(y, c00);
    vst1q_f32(y + 4, c10);
    if (g > 2) vst1q_f32(y + 8, c20);
    if (s > 1) {
        vst1q_f32(y + y_stride, c01);
        vst1q_f32(y + y_stride + 4, c11);
    }
}

/* The row blocks, each its own function, the loops over its tiles inside
 * (a call per tile cost about 40 instructions: 0.04 per multiply-add at
 * depth 64). Inlined into one function, the loops lost their address
 * vectors to general-purpose registers. a: the first group's address
 * vector; group: the bytes of 4 rows of W. */
#define HELIUM_BLOCK static __attribute__((noinline)) void

/* T = 1: `blocks` blocks of 12 rows x 1 step. */
HELIUM_BLOCK helium_rows_12x1(size_t blocks, size_t depth, uint32x4_t a, uint32_t group,
                              const float *x, float *y)
{
    for (; blocks > 0; blocks--) {
        helium_tile(3, 1, depth, a, vaddq_n_u32(a, group), vaddq_n_u32(a, 2 * group), x, 0, y, 0,
                    0xffff);
        a = vaddq_n_u32(a, 3 * group);
        y += 12;
    }
}

/* T >= 2: `blocks` blocks of 8 rows, each over the steps in pairs (8 x 2),
 * an odd last step 8 x 1. */
HELIUM_BLOCK helium_rows_8(size_t blocks, size_t depth, size_t steps, uint32x4_t a,
                           uint32_t group, const float *x, size_t x_stride, float *y,
                           size_t y_stride)
{
    for (; blocks > 0; blocks--) {
        const uint32x4_t a1 = vaddq_n_u32(a, group);
        size_t t = 0;
        for (; t + 2 <= steps; t += 2)
            helium_tile(2, 2, depth, a, a1, a, x + t * x_stride, x_stride, y + t * y_stride,
                        y_stride, 0xffff);
        if (t < steps)
            helium_tile(2, 1, depth, a, a1, a, x + t * x_stride, 0, y + t * y_stride, 0, 0xffff);
        a = vaddq_n_u32(a, 2 * group);
        y += 8;
    }
}

/* One block of 4 rows (fewer for the last: p stores only those) over all
 * steps, 4 at a time (4 x 4), the rest one by one (4 x 1). */
HELIUM_BLOCK helium_rows_4(size_t depth, size_t steps, uint32x4_t a, const float *x,
                           size_t x_stride, float *y, size_t y_stride, mve_pred16_t p)
{
    size_t t = 0;
    for (; t + 4 <= steps; t += 4)
        helium_tile(1, 4, depth, a, a, a, x + t * x_stride, x_stride, y + t * y_stride, y_stride,
                    p);
    for (; t < steps; t++)
        helium_tile(1, 1, depth, a, a, a, x + t * x_stride, 0, y + t * y_stride, 0, p);
}

void mtsi_gemm_f32_helium(size_t rows, size_t depth, size_t steps,
                          const float *w, size_t w_stride,
                          const float *x, size_t x_stride,
                          float *y, size_t y_stride)
{
    /* A group's address vector: the byte offsets of four consecutive rows
     * plus its first row's address, minus the gather's pre-increment. */
    const uint32_t group = (uint32_t)(4 * w_stride * sizeof(float));
    const uint32x4_t row_bytes = vmulq_n_u32(vidupq_n_u32(0u, 1), (uint32_t)(w_stride * sizeof(float)));
    const uint32_t base = (uint32_t)(uintptr_t)w - 4u;
    size_t r = 0;
    if (steps == 1) {
        r = rows / 12 * 12;
        helium_rows_12x1(rows / 12, depth, vaddq_n_u32(row_bytes, base), group, x, y);
    } else {
        r = rows / 8 * 8;
        helium_rows_8(rows / 8, depth, steps, vaddq_n_u32(row_bytes, base), group, x, x_stride, y,
                      y_stride);
    }
    /* The rows below a multiple of the block, 4 at a time; the last 1-3
     * rows repeat the block's first row's address in the missing lanes
     * (every load stays inside W) and store under a predicate. */
    for (; r < rows; r += 4) {
        const uint32_t first = base + (uint32_t)(r * w_stride * sizeof(float));
        const mve_pred16_t p = vctp32q((uint32_t)(rows - r < 4 ? rows - r : 4));
        helium_rows_4(depth, steps, vpselq_u32(vaddq_n_u32(row_bytes, first), vdupq_n_u32(first), p),
                      x, x_stride, y + r, y_stride, p);
    }
}

#endif
