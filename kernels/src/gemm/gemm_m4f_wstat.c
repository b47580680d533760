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
 * multiply-adds, loop included, against about 25 per 20 for "m4f" at
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

/* One step of a chunk, 5 inputs deep: the 4 partial sums of rows r..r+3
 * (s0..s3) from Y, the step's 5 inputs (s4..s8), row j's weights in
 * s(12+5j)..s(16+5j); every sum takes input k before k+1. */
#define WSTAT_STEP5                                                     \
    "vldmia %[yp], {s0-s3}\n\t"                                         \
    "vldmia %[xp], {s4-s8}\n\t"                                         \
    "vfma.f32 s0, s12, s4\n\t"                                          \
    "vfma.f32 s1, s17, s4\n\t"                                          \
    "vfma.f32 s2, s22, s4\n\t"                                          \
    "vfma.f32 s3, s27, s4\n\t"                                          \
    "vfma.f32 s0, s13, s5\n\t"                                          \
    "vfma.f32 s1, s18, s5\n\t"                                          \
    "vfma.f32 s2, s23, s5\n\t"                                          \
    "vfma.f32 s3, s28, s5\n\t"                                          \
    "vfma.f32 s0, s14, s6\n\t"                                          \
    "vfma.f32 s1, s19, s6\n\t"                                          \
    "vfma.f32 s2, s24, s6\n\t"                                          \
    "vfma.f32 s3, s29, s6\n\t"                                          \
    "vfma.f32 s0, s15, s7\n\t"                                          \
    "vfma.f32 s1, s20, s7\n\t"                                          \
    "vfma.f32 s2, s25, s7\n\t"                                          \
    "vfma.f32 s3, s30, s7\n\t"                                          \
    "vfma.f32 s0, s16, s8\n\t"                                          \
    "vfma.f32 s1, s21, s8\n\t"                                          \
    "vfma.f32 s2, s26, s8\n\t"                                          \
    "vfma.f32 s3, s31, s8\n\t"                                          \
    "vstmia %[yp], {s0-s3}\n\t"

/* The same one input deep (weights in s12, s17, s22, s27). */
#define WSTAT_STEP1                                                     \
    "vldmia %[yp], {s0-s3}\n\t"                                         \
    "vldmia %[xp], {s4}\n\t"                                            \
    "vfma.f32 s0, s12, s4\n\t"                                          \
    "vfma.f32 s1, s17, s4\n\t"                                          \
    "vfma.f32 s2, s22, s4\n\t"                                          \
    "vfma.f32 s3, s27, s4\n\t"                                          \
    "vstmia %[yp], {s0-s3}\n\t"

/* Load a chunk of the 4 rows' weights (K = 5 or 1 inputs each) from w,
 * w + ws, w + 2 ws, w + 3 ws; xp serves as the row pointer (it is set
 * for the steps afterwards). */
#define WSTAT_LOAD(list0, list1, list2, list3)                          \
    "vldmia %[w], {" list0 "}\n\t"                                      \
    "add %[xp], %[w], %[ws]\n\t"                                        \
    "vldmia %[xp], {" list1 "}\n\t"                                     \
    "add %[xp], %[xp], %[ws]\n\t"                                       \
    "vldmia %[xp], {" list2 "}\n\t"                                     \
    "add %[xp], %[xp], %[ws]\n\t"                                       \
    "vldmia %[xp], {" list3 "}\n\t"

/* Every step of the call under one chunk: yp runs over the 4 sums of each
 * step (stride ys) up to y_end, xp over the step's inputs (stride xs). */
#define WSTAT_STEPS(STEP, label)                                        \
    "mov %[xp], %[xc]\n\t"                                              \
    "mov %[yp], %[y]\n"                                                 \
    label ":\n\t"                                                       \
    STEP                                                                \
    "add %[yp], %[yp], %[ys]\n\t"                                       \
    "add %[xp], %[xp], %[xs]\n\t"                                       \
    "cmp %[yp], %[y_end]\n\t"                                           \
    "bne " label "b\n\t"

/* Rows r..r+3 over all `steps` (>= 1) steps: Y rows zeroed by the caller,
 * then chunks of 5 inputs while 5 remain, then the last depth mod 5 one by
 * one. `n` counts the inputs left (depth >= 1 is a precondition). */
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
    int n = (int)depth;
    __asm__ volatile(
        "subs %[n], %[n], #5\n\t"
        "blt 2f\n"
        "1:\n\t"
        WSTAT_LOAD("s12-s16", "s17-s21", "s22-s26", "s27-s31")
        "add %[w], %[w], #20\n\t"
        WSTAT_STEPS(WSTAT_STEP5, "5")
        "add %[xc], %[xc], #20\n\t"
        "subs %[n], %[n], #5\n\t"
        "bge 1b\n"
        "2:\n\t"
        "adds %[n], %[n], #5\n\t"
        "beq 4f\n"
        "3:\n\t"
        WSTAT_LOAD("s12", "s17", "s22", "s27")
        "add %[w], %[w], #4\n\t"
        WSTAT_STEPS(WSTAT_STEP1, "6")
        "add %[xc], %[xc], #4\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 3b\n"
        "4:\n\t"
        : [w] "+r"(w), [xc] "+r"(xc), [xp] "=&r"(xp), [yp] "=&r"(yp), [n] "+r"(n)
        : [ws] "r"(ws), [xs] "r"(xs), [ys] "r"(ys), [y] "r"(y), [y_end] "r"(y_end)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8",
          "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21",
          "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31",
          "cc", "memory");
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
