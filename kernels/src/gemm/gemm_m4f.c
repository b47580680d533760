/* Register-blocked product for Cortex-M cores with a single-precision FPU
 * (Cortex-M4F, M7, M33, M55 without Helium): "m4f".
 *
 *   Y[t][r] = sum_{i < depth} W[r][i] * X[t][i]
 *
 * summed in input order, one fused multiply-add per term, exactly as the
 * reference loop does when its `sum += w * x` is contracted.
 *
 * A tile of 4 output rows x S time steps (S <= 4) keeps its 4S accumulators
 * in the FPU's 32 single-precision registers for the whole depth: per three
 * inputs it loads each of the 4 weight rows and each of the S input rows
 * with one VLDM of three registers (post-increment) and issues 12S VFMAs,
 * so each weight loaded serves S time steps. With S = 4: 8 loads, 48 VFMAs
 * and 2 loop instructions per 48 multiply-adds (31 of the 32 registers:
 * 16 accumulators, 12 weights, 3 inputs); with S = 1 (T = 1) the same tile
 * needs 5 loads per 12.
 *
 * Why inline assembly: GCC 12 keeps such a tile's accumulators in registers
 * but loads every operand with its own VLDR or one-register VLDM and
 * shuffles registers when the depth loop is unrolled (1.7 to 1.8
 * instructions per multiply-add, against 1.2 here). Only the tile's depth
 * loop is assembly; the tiling around it is C.
 *
 * Summation order: every output is one accumulator, summed over i in order
 * (the tile shape only decides which outputs share the loads), so results
 * are bit-identical for every block size T and every split of a stream. The
 * rows left over below a multiple of 4 use the C loop below, whose sum is
 * also in input order; which path a row takes depends only on `rows`.
 */
#include "gemm_isa.h"

#if defined(MTS_HAVE_M4F) /* isa.h: an FPU, Thumb-2, no Helium */

/* Sixteen zeros, loaded into the accumulators with one VLDM. */
static const float m4f_zeros[16] = {0.0f};

/* One time step of a tile, three inputs deep: load X[t][i..i+2] into
 * s28..s30 and add them, times the weights of the 4 rows (row r in
 * s16+3r..s18+3r), to the step's accumulators a0..a3 (rows 0..3), input i
 * before i+1 before i+2 for every accumulator. */
#define M4F_STEP3(xp, a0, a1, a2, a3)                                   \
    "vldmia %[" #xp "]!, {s28-s30}\n\t"                                 \
    "vfma.f32 " a0 ", s16, s28\n\t"                                     \
    "vfma.f32 " a1 ", s19, s28\n\t"                                     \
    "vfma.f32 " a2 ", s22, s28\n\t"                                     \
    "vfma.f32 " a3 ", s25, s28\n\t"                                     \
    "vfma.f32 " a0 ", s17, s29\n\t"                                     \
    "vfma.f32 " a1 ", s20, s29\n\t"                                     \
    "vfma.f32 " a2 ", s23, s29\n\t"                                     \
    "vfma.f32 " a3 ", s26, s29\n\t"                                     \
    "vfma.f32 " a0 ", s18, s30\n\t"                                     \
    "vfma.f32 " a1 ", s21, s30\n\t"                                     \
    "vfma.f32 " a2 ", s24, s30\n\t"                                     \
    "vfma.f32 " a3 ", s27, s30\n\t"

/* The same one input deep, for the last depth mod 3 inputs (weights in
 * s16, s19, s22, s25). */
#define M4F_STEP1(xp, a0, a1, a2, a3)                                   \
    "vldmia %[" #xp "]!, {s28}\n\t"                                     \
    "vfma.f32 " a0 ", s16, s28\n\t"                                     \
    "vfma.f32 " a1 ", s19, s28\n\t"                                     \
    "vfma.f32 " a2 ", s22, s28\n\t"                                     \
    "vfma.f32 " a3 ", s25, s28\n\t"

#define M4F_LOAD_W3                                                     \
    "vldmia %[w0]!, {s16-s18}\n\t"                                      \
    "vldmia %[w1]!, {s19-s21}\n\t"                                      \
    "vldmia %[w2]!, {s22-s24}\n\t"                                      \
    "vldmia %[w3]!, {s25-s27}\n\t"

#define M4F_LOAD_W1                                                     \
    "vldmia %[w0]!, {s16}\n\t"                                          \
    "vldmia %[w1]!, {s19}\n\t"                                          \
    "vldmia %[w2]!, {s22}\n\t"                                          \
    "vldmia %[w3]!, {s25}\n\t"

/* Step t's accumulators are s(4t)..s(4t+3) (rows 0..3), so that its four
 * outputs, contiguous in Y, are stored with one VSTM. */
#define M4F_STEPS3_1 M4F_STEP3(x0, "s0", "s1", "s2", "s3")
#define M4F_STEPS3_2 M4F_STEPS3_1 M4F_STEP3(x1, "s4", "s5", "s6", "s7")
#define M4F_STEPS3_3 M4F_STEPS3_2 M4F_STEP3(x2, "s8", "s9", "s10", "s11")
#define M4F_STEPS3_4 M4F_STEPS3_3 M4F_STEP3(x3, "s12", "s13", "s14", "s15")
#define M4F_STEPS1_1 M4F_STEP1(x0, "s0", "s1", "s2", "s3")
#define M4F_STEPS1_2 M4F_STEPS1_1 M4F_STEP1(x1, "s4", "s5", "s6", "s7")
#define M4F_STEPS1_3 M4F_STEPS1_2 M4F_STEP1(x2, "s8", "s9", "s10", "s11")
#define M4F_STEPS1_4 M4F_STEPS1_3 M4F_STEP1(x3, "s12", "s13", "s14", "s15")
#define M4F_STORE_1 "vstmia %[y], {s0-s3}\n\t"
#define M4F_STORE_2 M4F_STORE_1 "add %[y], %[y], %[ys]\n\tvstmia %[y], {s4-s7}\n\t"
#define M4F_STORE_3 M4F_STORE_2 "add %[y], %[y], %[ys]\n\tvstmia %[y], {s8-s11}\n\t"
#define M4F_STORE_4 M4F_STORE_3 "add %[y], %[y], %[ys]\n\tvstmia %[y], {s12-s15}\n\t"

/* A tile of 4 rows x S steps: zero the accumulators, three inputs at a time
 * while three remain, then the last depth mod 3 one by one, then store the
 * S rows of Y. `n` counts the inputs left (depth >= 1 is a precondition). */
#define M4F_TILE(S)                                                     \
    __asm__ volatile(                                                   \
        "vldmia %[zeros], {s0-s15}\n\t"                                 \
        "subs %[n], %[n], #3\n\t"                                       \
        "blt 2f\n"                                                      \
        "1:\n\t"                                                        \
        M4F_LOAD_W3                                                     \
        M4F_STEPS3_##S                                                  \
        "subs %[n], %[n], #3\n\t"                                       \
        "bge 1b\n"                                                      \
        "2:\n\t"                                                        \
        "adds %[n], %[n], #3\n\t"                                       \
        "beq 4f\n"                                                      \
        "3:\n\t"                                                        \
        M4F_LOAD_W1                                                     \
        M4F_STEPS1_##S                                                  \
        "subs %[n], %[n], #1\n\t"                                       \
        "bne 3b\n"                                                      \
        "4:\n\t"                                                        \
        M4F_STORE_##S                                                   \
        : [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3),  \
          [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3),  \
          [n] "+r"(n), [y] "+r"(y)                                      \
        : [ys] "r"(y_stride_bytes), [zeros] "r"(m4f_zeros)              \
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",   \
          "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17",       \
          "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25",       \
          "s26", "s27", "s28", "s29", "s30", "cc", "memory")

/* Rows r..r+3 for steps t..t+steps-1 (1 <= steps <= 4). */
static __attribute__((noinline)) void m4f_tile(size_t steps, size_t depth,
                     const float *w, size_t w_stride,
                     const float *x, size_t x_stride,
                     float *y, size_t y_stride)
{
    const float *w0 = w, *w1 = w + w_stride, *w2 = w + 2 * w_stride, *w3 = w + 3 * w_stride;
    /* Unused step pointers alias step 0: the asm of a smaller tile never
     * reads them. */
    const float *x0 = x;
    const float *x1 = steps > 1 ? x + x_stride : x;
    const float *x2 = steps > 2 ? x + 2 * x_stride : x;
    const float *x3 = steps > 3 ? x + 3 * x_stride : x;
    const size_t y_stride_bytes = y_stride * sizeof(float);
    int n = (int)depth;
    switch (steps) {
    case 4: M4F_TILE(4); break;
    case 3: M4F_TILE(3); break;
    case 2: M4F_TILE(2); break;
    default: M4F_TILE(1); break;
    }
}

void mtsi_gemm_f32_m4f(size_t rows, size_t depth, size_t steps,
                       const float *w, size_t w_stride,
                       const float *x, size_t x_stride,
                       float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        size_t t = 0;
        for (; t + 4 <= steps; t += 4)
            m4f_tile(4, depth, w + r * w_stride, w_stride, x + t * x_stride, x_stride,
                     y + t * y_stride + r, y_stride);
        if (t < steps)
            m4f_tile(steps - t, depth, w + r * w_stride, w_stride, x + t * x_stride,
                     x_stride, y + t * y_stride + r, y_stride);
    }
    /* Fewer than 4 rows left: one output at a time, in input order. */
    for (; r < rows; r++) {
        const float *w_r = w + r * w_stride;
        for (size_t t = 0; t < steps; t++) {
            const float *x_t = x + t * x_stride;
            float sum = 0.0f;
            for (size_t i = 0; i < depth; i++)
                sum += w_r[i] * x_t[i];
            y[t * y_stride + r] = sum;
        }
    }
}

#endif
