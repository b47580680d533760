/* Weight-stationary product for Cortex-M cores with a single-precision FPU
 * (Cortex-M4F, M7, M33, M55 without Helium): "m4f-wstat".
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * summed in input order, one fused multiply-add per term, exactly as the
 * reference loop does when its `sum += w * x` is contracted.
 *
 * Why a second M4F product: "m4f" keeps a 4 rows x 4 steps tile in the
 * registers, so it reads every weight once per 4 steps, whatever the block
 * size T: at T = 16 a step still costs a quarter of the weights' bytes
 * (docs/performance.md, "Memory traffic on the ARM targets"). Here a chunk
 * of 4 rows x 5 inputs of W (20 registers) stays in the FPU while every
 * step of the call passes under it: each weight is read once per call, so
 * once per block of T steps. The price is that the partial sums live in Y
 * (SRAM) between chunks: per step and chunk one VLDM of the 4 sums, one of
 * the 5 inputs, 20 VFMAs and one VSTM (29 instructions per 20
 * multiply-adds, loop included, against about 24 per 20 for "m4f" at
 * T >= 4). Which wins depends on what a weight byte costs (flash wait
 * states) against an instruction: `mtsrnn bench device --memory PART`.
 *
 * Summation order: Y is zeroed, then the chunks add their terms in input
 * order (input i before i+1 for every output; a float32 partial sum is
 * stored and reloaded exactly), so results are bit-identical to the
 * reference and to "m4f" for every block size T and every split of a
 * stream. Rows below a multiple of 4 use the reference loop, also in order.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_M4F) /* isa.h: an FPU, Thumb-2, no Helium */

/* Input k of a chunk (in s(4+k)) times row j's weight k (in s(12+5j+k)),
 * added to row j's sum (s(j)), rows 0..3. */
#define WSTAT_FMA(k, w0, w1, w2, w3)                                    \
    "vfma.f32 s0, " w0 ", s" #k "\n\t"                                  \
    "vfma.f32 s1, " w1 ", s" #k "\n\t"                                  \
    "vfma.f32 s2, " w2 ", s" #k "\n\t"                                  \
    "vfma.f32 s3, " w3 ", s" #k "\n\t"
#define WSTAT_FMAS_1 WSTAT_FMA(4, "s12", "s17", "s22", "s27")
#define WSTAT_FMAS_2 WSTAT_FMAS_1 WSTAT_FMA(5, "s13", "s18", "s23", "s28")
#define WSTAT_FMAS_3 WSTAT_FMAS_2 WSTAT_FMA(6, "s14", "s19", "s24", "s29")
#define WSTAT_FMAS_4 WSTAT_FMAS_3 WSTAT_FMA(7, "s15", "s20", "s25", "s30")
#define WSTAT_FMAS_5 WSTAT_FMAS_4 WSTAT_FMA(8, "s16", "s21", "s26", "s31")

/* Register lists of a chunk K inputs deep: the step's inputs, row j's
 * weights. */
#define WSTAT_X_1 "s4"
#define WSTAT_X_2 "s4-s5"
#define WSTAT_X_3 "s4-s6"
#define WSTAT_X_4 "s4-s7"
#define WSTAT_X_5 "s4-s8"
#define WSTAT_W_1 "s12", "s17", "s22", "s27"
#define WSTAT_W_2 "s12-s13", "s17-s18", "s22-s23", "s27-s28"
#define WSTAT_W_3 "s12-s14", "s17-s19", "s22-s24", "s27-s29"
#define WSTAT_W_4 "s12-s15", "s17-s20", "s22-s25", "s27-s30"
#define WSTAT_W_5 "s12-s16", "s17-s21", "s22-s26", "s27-s31"

/* Load a chunk of the 4 rows' weights from w, w + ws, w + 2 ws, w + 3 ws;
 * xp serves as the row pointer (it is set for the steps afterwards). */
#define WSTAT_LOAD_(list0, list1, list2, list3)                         \
    "vldmia %[w], {" list0 "}\n\t"                                      \
    "add %[xp], %[w], %[ws]\n\t"                                        \
    "vldmia %[xp], {" list1 "}\n\t"                                     \
    "add %[xp], %[xp], %[ws]\n\t"                                       \
    "vldmia %[xp], {" list2 "}\n\t"                                     \
    "add %[xp], %[xp], %[ws]\n\t"                                       \
    "vldmia %[xp], {" list3 "}\n\t"
#define WSTAT_LOAD(lists) WSTAT_LOAD_(lists)

/* One chunk K inputs deep under every step of the call: the weights into
 * registers, then per step the 4 sums from Y (yp, stride ys, up to y_end),
 * the step's K inputs (xp, stride xs), 4K VFMAs, the sums back to Y. */
#define WSTAT_CHUNK(K)                                                  \
    WSTAT_LOAD(WSTAT_W_##K)                                             \
    "mov %[xp], %[xc]\n\t"                                              \
    "mov %[yp], %[y]\n"                                                 \
    "8:\n\t"                                                            \
    "vldmia %[yp], {s0-s3}\n\t"                                         \
    "vldmia %[xp], {" WSTAT_X_##K "}\n\t"                               \
    WSTAT_FMAS_##K                                                      \
    "vstmia %[yp], {s0-s3}\n\t"                                         \
    "add %[yp], %[yp], %[ys]\n\t"                                       \
    "add %[xp], %[xp], %[xs]\n\t"                                       \
    "cmp %[yp], %[y_end]\n\t"                                           \
    "bne 8b\n\t"

#define WSTAT_OPERANDS                                                  \
    : [w] "+r"(w), [xc] "+r"(xc), [xp] "=&r"(xp), [yp] "=&r"(yp), [n] "+r"(n) \
    : [ws] "r"(ws), [xs] "r"(xs), [ys] "r"(ys), [y] "r"(y), [y_end] "r"(y_end) \
    : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8",             \
      "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", \
      "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31", \
      "cc", "memory"

/* The last depth mod 5 inputs (K of them) as one chunk. */
#define WSTAT_LAST(K) __asm__ volatile(WSTAT_CHUNK(K) WSTAT_OPERANDS)

/* Rows r..r+3 over all `steps` (>= 1) steps, Y rows zeroed by the caller:
 * chunks of 5 inputs while 5 remain, then the last depth mod 5 as one. */
static __attribute__((noinline)) void wstat_rows(size_t steps, size_t depth,
                       const float *w, size_t w_stride,
                       const float *x, size_t x_stride,
                       float *y, size_t y_stride)
{
    const size_t ws = w_stride * sizeof(float), xs = x_stride * sizeof(float);
    const size_t ys = y_stride * sizeof(float);
    const float *y_end = y + steps * y_stride;
    const float *xc = x, *xp;
    float *yp;
    int n = (int)(depth / 5u);
    if (n > 0)
        __asm__ volatile(
            "9:\n\t"
            WSTAT_CHUNK(5)
            "add %[w], %[w], #20\n\t"
            "add %[xc], %[xc], #20\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 9b\n\t"
            WSTAT_OPERANDS);
    switch (depth % 5u) {
    case 4: WSTAT_LAST(4); break;
    case 3: WSTAT_LAST(3); break;
    case 2: WSTAT_LAST(2); break;
    case 1: WSTAT_LAST(1); break;
    default: break;
    }
}

void mtsi_gemm_f32_m4f_wstat(size_t rows, size_t depth, size_t steps,
                             const float *w, size_t w_stride,
                             const float *x, size_t x_stride,
                             float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        /* The sums start at zero, as the reference's. */
        for (size_t t = 0; t < steps; t++)
            for (size_t j = 0; j < 4; j++)
                y[t * y_stride + r + j] = 0.0f;
        if (steps)
            wstat_rows(steps, depth, w + r * w_stride, w_stride, x, x_stride, y + r, y_stride);
    }
    /* Fewer than 4 rows left: the reference loop, also in input order. */
    if (r < rows)
        mts_gemm_f32_reference(rows - r, depth, steps, w + r * w_stride, w_stride, x, x_stride,
                               y + r, y_stride);
}

#endif
