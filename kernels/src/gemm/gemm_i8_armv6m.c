/* int8 x int8 product for Armv6-M (Cortex-M0, M0+, M1: the RP2040's and
 * nRF51's cores; no DSP extension, Thumb-1 data instructions), plain C
 * shaped for their 8 low registers: "armv6m". (The Cortex-M3 has Thumb-2's
 * MLA and 13 usable registers: there the portable "tiled" does better.)
 *
 *   acc[t][r] = sum_{i < depth} Wq[r][i] * Xq[t][i]            (int32, exact)
 *   Y[t][r]   = (float)acc[t][r] * (w_scale[r] * x_scale[t])   (float32)
 *
 * Exact like mts_gemm_i8i8_reference (|Wq * Xq| <= 128 * 128 and depth <=
 * MTS_I8_MAX_DEPTH keep every sum in int32), so the result equals it bit
 * for bit; the scaling is the reference's C expression, computed in integer
 * arithmetic (i8_scale_soft.h: bit for bit that expression, about 140
 * instructions against libgcc's 300).
 *
 * Armv6-M has a 32 x 32-bit MULS and ADDS, but no multiply-accumulate, no
 * SIMD, and LDRSB only with a register offset; Thumb-1 data instructions
 * reach r0..r7 only. The portable "tiled" product's 4 x 4 int32 tile spills
 * there. So for each group of 3 steps the tile is 1 row x 3 steps: three
 * accumulators, the weight, the input, two pointers (7 registers). Each weight is loaded and
 * sign-extended once and serves the 3 steps; the inputs of the 3 steps are
 * widened to int32 once per panel of 32 inputs into a 384-byte stack buffer,
 * interleaved ([i][step]) so that one pointer with immediate offsets (LDR
 * Rt, [Rn, #imm], one instruction) reaches them, and serve every row. Per
 * multiply-add: LDR + MULS + ADDS, plus a third of the weight's LDRSB and of
 * the loop's SUBS, SUBS, BCS: 13 instructions per 3, against about 7 per 1
 * for the reference's loop. Partial sums between panels are kept in Y
 * itself (the int32 bits, through a union; Y is overwritten by the final
 * floats), so nothing but the stack buffer is used.
 * Memory: byte loads only (Armv6-M faults on unaligned words), never past
 * input depth - 1 of a row.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_ARMV6M) /* isa.h: Armv6-M */

#include "i8_scale_soft.h"

#include "../compiler.h"

#define V6M_STEPS 3u
#define V6M_PANEL 32u
#define V6M_ROW_BLOCK_BYTES 8192u /* weights per row block: half the RP2040's XIP cache */

/* Partial sums between panels live in Y as int32 bits, through a union
 * (i8_scale_soft.h: one LDR or STR, where memcpy was a call). */
static void v6m_store_partial(float *y, int32_t acc)
{
    mtsi_soft_bits b;
    b.i = acc;
    *y = b.f;
}

static int32_t v6m_load_partial(const float *y)
{
    mtsi_soft_bits b;
    b.f = *y;
    return b.i;
}

/* One step (T = 1, or the last step of a call): no reuse of a weight across
 * steps, so no widening; 2 rows x 1 step sharing each input and one index
 * register for all three pointers (LDRSB Rt, [Rn, Rm]): per 2 multiply-adds
 * 3 LDRSB, 2 MULS, 2 ADDS and the loop's SUBS, BCS. */
static void v6m_one_step(size_t rows, size_t depth, const int8_t *w, size_t w_stride,
                         const float *w_scale, const int8_t *x, float x_scale, float *y)
{
    size_t r = 0;
    for (; r + 2u <= rows; r += 2u) {
        const int8_t *w0 = w + r * w_stride, *w1 = w0 + w_stride;
        int32_t a0 = 0, a1 = 0;
        /* Counting down: the index's SUBS sets the flags its branch tests. */
        for (size_t i = depth; i-- > 0;) {
            const int32_t xv = x[i];
            a0 += (int32_t)w0[i] * xv;
            a1 += (int32_t)w1[i] * xv;
        }
        y[r] = mtsi_i8_scale_soft(a0, w_scale[r], x_scale);
        y[r + 1u] = mtsi_i8_scale_soft(a1, w_scale[r + 1u], x_scale);
    }
    if (r < rows) {
        const int8_t *w0 = w + r * w_stride;
        int32_t a0 = 0;
        for (size_t i = 0; i < depth; i++)
            a0 += (int32_t)w0[i] * (int32_t)x[i];
        y[r] = mtsi_i8_scale_soft(a0, w_scale[r], x_scale);
    }
}

/* One panel of n inputs for every row of a block, steps t0..t0 + 2
 * (the widened inputs `panel`, [i][step]): each row's 3 sums start from zero
 * (`first`) or from the partials in y0, y1, y2 (int32 bits), and end as
 * partials there or (`last`) scaled into them. first and last are constants
 * in each of the four instances below, so no row tests them; and each
 * instance is out of line, with nothing else live, so that GCC keeps the
 * loop in registers (inside v6m_rows it reloaded the loop's limit from the
 * stack). The loop counts down: the index's SUBS sets the flags its branch
 * tests, so a pass is LDRSB, 3 x (LDR, MULS, ADDS), SUBS of p, SUBS, BCS, 13
 * instructions (counting up GCC adds a CMP, or a MOVS of a zero offset for
 * LDRSB, which has no immediate form). The int32 sums are exact: the order
 * changes no bit. */
static MTS_ALWAYS_INLINE void v6m_panel(size_t rows, size_t n, const int8_t *w,
                                        size_t w_stride, const int32_t *panel,
                                        const float *w_scale, const float *x_scale, float *y0,
                                        size_t y_stride, const int first, const int last)
{
    float *y1 = y0 + y_stride, *y2 = y1 + y_stride;
    const int32_t *panel_end = panel + V6M_STEPS * n;
    for (size_t r = 0; r < rows; r++, w += w_stride) {
        int32_t a0 = 0, a1 = 0, a2 = 0;
        if (!first) {
            a0 = v6m_load_partial(&y0[r]);
            a1 = v6m_load_partial(&y1[r]);
            a2 = v6m_load_partial(&y2[r]);
        }
        const int32_t *p = panel_end;
        for (size_t i = n; i-- > 0;) {
            p -= V6M_STEPS;
            const int32_t wv = w[i];
            a0 += wv * p[0];
            a1 += wv * p[1];
            a2 += wv * p[2];
        }
        if (!last) {
            v6m_store_partial(&y0[r], a0);
            v6m_store_partial(&y1[r], a1);
            v6m_store_partial(&y2[r], a2);
        } else {
            y0[r] = mtsi_i8_scale_soft(a0, w_scale[r], x_scale[0]);
            y1[r] = mtsi_i8_scale_soft(a1, w_scale[r], x_scale[1]);
            y2[r] = mtsi_i8_scale_soft(a2, w_scale[r], x_scale[2]);
        }
    }
}

#define V6M_PANEL_INSTANCE(name, first, last)                                                  \
    static MTS_NOINLINE void name(size_t rows, size_t n, const int8_t *w, size_t w_stride,    \
                                  const int32_t *panel, const float *w_scale,                 \
                                  const float *x_scale, float *y0, size_t y_stride)           \
    {                                                                                          \
        v6m_panel(rows, n, w, w_stride, panel, w_scale, x_scale, y0, y_stride, first, last);   \
    }
V6M_PANEL_INSTANCE(v6m_panel_only, 1, 1)
V6M_PANEL_INSTANCE(v6m_panel_first, 1, 0)
V6M_PANEL_INSTANCE(v6m_panel_mid, 0, 0)
V6M_PANEL_INSTANCE(v6m_panel_last, 0, 1)

static void v6m_rows(size_t rows, size_t depth, size_t steps,
                     const int8_t *w, size_t w_stride, const float *w_scale,
                     const int8_t *xq, size_t xq_stride, const float *x_scale,
                     float *y, size_t y_stride)
{
    int32_t panel[V6M_PANEL * V6M_STEPS];
    size_t t0 = 0;
    /* Groups of 3 steps; the 1 or 2 steps left over take the one-step tile
     * (a group of 2 would multiply zeros in its third place). */
    for (; t0 + V6M_STEPS <= steps; t0 += V6M_STEPS) {
        float *y0 = y + t0 * y_stride;
        for (size_t i0 = 0; i0 < depth || i0 == 0; i0 += V6M_PANEL) {
            const size_t n = depth - i0 < V6M_PANEL ? depth - i0 : V6M_PANEL;
            const int first = i0 == 0, last = i0 + n >= depth;
            /* The panel's inputs, widened once for every row. */
            for (size_t i = 0; i < n; i++)
                for (size_t s = 0; s < V6M_STEPS; s++)
                    panel[i * V6M_STEPS + s] = (int32_t)xq[(t0 + s) * xq_stride + i0 + i];
            void (*const panel_fn)(size_t, size_t, const int8_t *, size_t, const int32_t *,
                                   const float *, const float *, float *, size_t) =
                first ? (last ? v6m_panel_only : v6m_panel_first)
                      : (last ? v6m_panel_last : v6m_panel_mid);
            panel_fn(rows, n, w + i0, w_stride, panel, w_scale, x_scale + t0, y0, y_stride);
            if (last)
                break;
        }
    }
    for (; t0 < steps; t0++)
        v6m_one_step(rows, depth, w, w_stride, w_scale, xq + t0 * xq_stride, x_scale[t0],
                     y + t0 * y_stride);
}

void mtsi_gemm_i8i8_armv6m(size_t rows, size_t depth, size_t steps,
                           const int8_t *w, size_t w_stride, const float *w_scale,
                           const int8_t *xq, size_t xq_stride, const float *x_scale,
                           float *y, size_t y_stride)
{
    /* With more than one step group, the rows go in blocks of about
     * V6M_ROW_BLOCK_BYTES of weights, every step of the call inside a block:
     * a block's weights then come from flash once per call and from the XIP
     * cache for its other step groups, instead of the whole matrix from
     * flash once per group (the `dsp` product's blocking; measured with the
     * QEMU plugin, docs/performance.md "RP2040"). Which rows share a call
     * changes no sum: the int32 sums are exact and each output's scaling
     * is the same. */
    size_t block_rows = rows;
    if (steps > V6M_STEPS) {
        block_rows = V6M_ROW_BLOCK_BYTES / (depth > 0 ? depth : 1);
        if (block_rows < 1)
            block_rows = 1;
    }
    for (size_t r0 = 0; r0 < rows; r0 += block_rows)
        v6m_rows(rows - r0 < block_rows ? rows - r0 : block_rows, depth, steps,
                 w + r0 * w_stride, w_stride, w_scale + r0, xq, xq_stride, x_scale, y + r0,
                 y_stride);
}

#endif /* MTS_HAVE_ARMV6M */
