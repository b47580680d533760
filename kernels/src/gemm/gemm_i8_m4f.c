/* int8 weights, float32 inputs, for the cores of the float "m4f" product
 * (isa.h: MTS_HAVE_M4F, a single-precision FPU without Helium): "m4f".
 *
 *   Y[t][r] = w_scale[r] * (sum_{i < depth} (float)Wq[r][i] * X[t][i])
 *
 * the float m4f product's tile with the weights converted on the way: per
 * pass over two inputs, the 8 weights of the tile's 4 rows are loaded by
 * LDRSB, moved two at a time to the FPU (VMOV) and converted (VCVT, exact),
 * then serve the tile's S <= 4 steps (accumulators s0..s15 as in m4f; the
 * converted weights s16..s23, inputs s24..s25). Per pass 22 + 9S
 * instructions for 8S multiply-adds: the conversion is amortised over the
 * steps of the tile, the most the 32 FPU registers allow with 4 rows.
 *
 * Summation order: every output is one accumulator summed over i in input
 * order by VFMA, then multiplied by w_scale[r]; the rows left over below a
 * multiple of 4 use a C loop with the same order (contracted to VFMA, as in
 * the reference). So results are bit-identical for every block size T, every
 * split of a stream and every row position.
 */
#include <stdint.h>

#include "gemm_isa.h"

#if defined(MTS_HAVE_M4F) /* isa.h: an FPU, Thumb-2, no Helium */

/* Convert the weights of inputs i, i+1 of the 4 rows: row r's two weights
 * go to s(16+2r), s(17+2r). */
#define M4F_I8_LOAD_W2                                                  \
    "ldrsb %[t0], [%[w0]], #1\n\t"                                      \
    "ldrsb %[t1], [%[w0]], #1\n\t"                                      \
    "vmov s16, s17, %[t0], %[t1]\n\t"                                   \
    "ldrsb %[t0], [%[w1]], #1\n\t"                                      \
    "ldrsb %[t1], [%[w1]], #1\n\t"                                      \
    "vmov s18, s19, %[t0], %[t1]\n\t"                                   \
    "ldrsb %[t0], [%[w2]], #1\n\t"                                      \
    "ldrsb %[t1], [%[w2]], #1\n\t"                                      \
    "vmov s20, s21, %[t0], %[t1]\n\t"                                   \
    "ldrsb %[t0], [%[w3]], #1\n\t"                                      \
    "ldrsb %[t1], [%[w3]], #1\n\t"                                      \
    "vmov s22, s23, %[t0], %[t1]\n\t"                                   \
    "vcvt.f32.s32 s16, s16\n\t"                                         \
    "vcvt.f32.s32 s17, s17\n\t"                                         \
    "vcvt.f32.s32 s18, s18\n\t"                                         \
    "vcvt.f32.s32 s19, s19\n\t"                                         \
    "vcvt.f32.s32 s20, s20\n\t"                                         \
    "vcvt.f32.s32 s21, s21\n\t"                                         \
    "vcvt.f32.s32 s22, s22\n\t"                                         \
    "vcvt.f32.s32 s23, s23\n\t"

/* The same for one input: row r's weight goes to s(16+2r). */
#define M4F_I8_LOAD_W1                                                  \
    "ldrsb %[t0], [%[w0]], #1\n\t"                                      \
    "ldrsb %[t1], [%[w1]], #1\n\t"                                      \
    "vmov s16, %[t0]\n\t"                                               \
    "vmov s18, %[t1]\n\t"                                               \
    "ldrsb %[t0], [%[w2]], #1\n\t"                                      \
    "ldrsb %[t1], [%[w3]], #1\n\t"                                      \
    "vmov s20, %[t0]\n\t"                                               \
    "vmov s22, %[t1]\n\t"                                               \
    "vcvt.f32.s32 s16, s16\n\t"                                         \
    "vcvt.f32.s32 s18, s18\n\t"                                         \
    "vcvt.f32.s32 s20, s20\n\t"                                         \
    "vcvt.f32.s32 s22, s22\n\t"

/* One step of the tile, two inputs: X[t][i], X[t][i+1] into s24, s25,
 * added times the rows' weights to the step's accumulators a0..a3, input i
 * before i+1 for every accumulator. */
#define M4F_I8_STEP2(xp, a0, a1, a2, a3)                                \
    "vldmia %[" #xp "]!, {s24-s25}\n\t"                                 \
    "vfma.f32 " a0 ", s16, s24\n\t"                                     \
    "vfma.f32 " a1 ", s18, s24\n\t"                                     \
    "vfma.f32 " a2 ", s20, s24\n\t"                                     \
    "vfma.f32 " a3 ", s22, s24\n\t"                                     \
    "vfma.f32 " a0 ", s17, s25\n\t"                                     \
    "vfma.f32 " a1 ", s19, s25\n\t"                                     \
    "vfma.f32 " a2 ", s21, s25\n\t"                                     \
    "vfma.f32 " a3 ", s23, s25\n\t"

#define M4F_I8_STEP1(xp, a0, a1, a2, a3)                                \
    "vldmia %[" #xp "]!, {s24}\n\t"                                     \
    "vfma.f32 " a0 ", s16, s24\n\t"                                     \
    "vfma.f32 " a1 ", s18, s24\n\t"                                     \
    "vfma.f32 " a2 ", s20, s24\n\t"                                     \
    "vfma.f32 " a3 ", s22, s24\n\t"

/* Step t's accumulators are s(4t)..s(4t+3) (rows 0..3). */
#define M4F_I8_STEPS2_1 M4F_I8_STEP2(x0, "s0", "s1", "s2", "s3")
#define M4F_I8_STEPS2_2 M4F_I8_STEPS2_1 M4F_I8_STEP2(x1, "s4", "s5", "s6", "s7")
#define M4F_I8_STEPS2_3 M4F_I8_STEPS2_2 M4F_I8_STEP2(x2, "s8", "s9", "s10", "s11")
#define M4F_I8_STEPS2_4 M4F_I8_STEPS2_3 M4F_I8_STEP2(x3, "s12", "s13", "s14", "s15")
#define M4F_I8_STEPS1_1 M4F_I8_STEP1(x0, "s0", "s1", "s2", "s3")
#define M4F_I8_STEPS1_2 M4F_I8_STEPS1_1 M4F_I8_STEP1(x1, "s4", "s5", "s6", "s7")
#define M4F_I8_STEPS1_3 M4F_I8_STEPS1_2 M4F_I8_STEP1(x2, "s8", "s9", "s10", "s11")
#define M4F_I8_STEPS1_4 M4F_I8_STEPS1_3 M4F_I8_STEP1(x3, "s12", "s13", "s14", "s15")

/* A tile of 4 rows x S steps: zero the 16 accumulators (t0 = 0 moved two
 * registers at a time), two inputs at a time while two remain, then the
 * last one if depth is odd, then store the sums to `sums` (step-major,
 * 4 per step; the pointer is read from memory into the dead counter). */
#define M4F_I8_TILE(S)                                                  \
    __asm__ volatile(                                                   \
        "movs %[t0], #0\n\t"                                            \
        "vmov s0, s1, %[t0], %[t0]\n\t"                                 \
        "vmov s2, s3, %[t0], %[t0]\n\t"                                 \
        "vmov s4, s5, %[t0], %[t0]\n\t"                                 \
        "vmov s6, s7, %[t0], %[t0]\n\t"                                 \
        "vmov s8, s9, %[t0], %[t0]\n\t"                                 \
        "vmov s10, s11, %[t0], %[t0]\n\t"                               \
        "vmov s12, s13, %[t0], %[t0]\n\t"                               \
        "vmov s14, s15, %[t0], %[t0]\n\t"                               \
        "subs %[n], %[n], #2\n\t"                                       \
        "blt 2f\n"                                                      \
        "1:\n\t"                                                        \
        M4F_I8_LOAD_W2                                                  \
        M4F_I8_STEPS2_##S                                               \
        "subs %[n], %[n], #2\n\t"                                       \
        "bge 1b\n"                                                      \
        "2:\n\t"                                                        \
        "adds %[n], %[n], #2\n\t"                                       \
        "beq 3f\n\t"                                                    \
        M4F_I8_LOAD_W1                                                  \
        M4F_I8_STEPS1_##S                                               \
        "3:\n\t"                                                        \
        "ldr %[n], %[sums]\n\t"                                         \
        "vstmia %[n], {s0-s15}\n\t"                                     \
        : [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3),  \
          [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3),  \
          [n] "+r"(n), [t0] "=&r"(t0), [t1] "=&r"(t1)                   \
        : [sums] "m"(sums_ptr)                                          \
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",   \
          "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17",       \
          "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25",       \
          "cc", "memory")

/* Rows r..r+3 for steps t..t+steps-1 (1 <= steps <= 4). */
static __attribute__((noinline)) void m4f_i8_tile(size_t steps, size_t depth,
                                                  const int8_t *w, size_t w_stride,
                                                  const float *w_scale,
                                                  const float *x, size_t x_stride,
                                                  float *y, size_t y_stride)
{
    const int8_t *w0 = w, *w1 = w + w_stride, *w2 = w + 2 * w_stride, *w3 = w + 3 * w_stride;
    /* Unused step pointers alias step 0: the asm of a smaller tile never
     * reads them. */
    const float *x0 = x;
    const float *x1 = steps > 1 ? x + x_stride : x;
    const float *x2 = steps > 2 ? x + 2 * x_stride : x;
    const float *x3 = steps > 3 ? x + 3 * x_stride : x;
    float sums[16];
    float *const sums_ptr = sums;   /* in memory, read by the assembly */
    int n = (int)depth;
    uint32_t t0, t1;
    switch (steps) {
    case 4: M4F_I8_TILE(4); break;
    case 3: M4F_I8_TILE(3); break;
    case 2: M4F_I8_TILE(2); break;
    default: M4F_I8_TILE(1); break;
    }
    for (size_t t = 0; t < steps; t++)
        for (size_t k = 0; k < 4; k++)
            y[t * y_stride + k] = w_scale[k] * sums[4 * t + k];
}

void mtsi_gemm_i8f32_m4f(size_t rows, size_t depth, size_t steps,
                         const int8_t *w, size_t w_stride, const float *w_scale,
                         const float *x, size_t x_stride,
                         float *y, size_t y_stride)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        size_t t = 0;
        for (; t + 4 <= steps; t += 4)
            m4f_i8_tile(4, depth, w + r * w_stride, w_stride, w_scale + r,
                        x + t * x_stride, x_stride, y + t * y_stride + r, y_stride);
        if (t < steps)
            m4f_i8_tile(steps - t, depth, w + r * w_stride, w_stride, w_scale + r,
                        x + t * x_stride, x_stride, y + t * y_stride + r, y_stride);
    }
    /* Fewer than 4 rows left: one output at a time, in input order. */
    for (; r < rows; r++) {
        const int8_t *w_r = w + r * w_stride;
        for (size_t t = 0; t < steps; t++) {
            const float *x_t = x + t * x_stride;
            float sum = 0.0f;
            for (size_t i = 0; i < depth; i++)
                sum += (float)w_r[i] * x_t[i];
            y[t * y_stride + r] = w_scale[r] * sum;
        }
    }
}

#else

/* Not built for this target; ISO C does not allow an empty translation unit. */
typedef int mts_gemm_i8_m4f_not_built;

#endif /* MTS_HAVE_M4F */
