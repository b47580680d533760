/* Per-step symmetric int8 quantisation of a product's input (scheme
 * int8-wa, docs/quantization.md), all in float32 and without libm:
 *
 *   a_t        = max_i |X[t][i]|
 *   inv_t      = 127.0f / a_t
 *   Xq[t][i]   = round_half_even(clamp(X[t][i] * inv_t, -127, 127))
 *   x_scale[t] = a_t / 127.0f
 *
 * A row with a_t < 2^-96 (including 0) or a non-finite entry
 * gives Xq = 0 and x_scale = 0: below that bound 127 / a_t could overflow,
 * and no finite scale represents NaN or inf.
 *
 * How, with the same bits as the formula (tests/c/test_quantized.c holds
 * it against a double-precision version and the formula as written):
 * - a_t by integer compares of the bit patterns with the sign bit cleared:
 *   for floats that are not NaN they order like |x|; every NaN pattern lies
 *   above inf's 0x7f800000, so one maximum tells a finite row from one with
 *   NaN or inf. No float compare, so no VMRS per element on the Cortex-M4F,
 *   and the loop vectorises on x86 and NEON.
 * - The clamp changes no value of a finite row: |X * inv_t| <=
 *   fl(a_t * fl(127 / a_t)) <= 127 + 2^-17 (one unit in the last place),
 *   which rounds to 127 all the same. So it is left out.
 * - The rounding adds 1.5 * 2^23: the sum's unit in the last place is 1, so
 *   it rounds v to the nearest integer n, ties to even, and the sum's bit
 *   pattern is 0x4b400000 + n for |n| <= 2^22: its low byte is n as a
 *   two's-complement int8. No subtraction and no float-to-int conversion.
 * - The sum must see the float32 product: fused into one FMA, v would be
 *   rounded once from the exact product, which differs at ties.
 *   mts_no_contract stops -ffp-contract=fast from fusing them (GCC
 *   ignores #pragma STDC FP_CONTRACT): an empty asm on 32-bit Arm, nothing
 *   where GCC has no FMA to fuse with, the clamp elsewhere (a use of the
 *   product that is not an addition).
 */
#include "bits.h"
#include "gemm/quantize_bulk.h"
#include "mtsrnn/quantize.h"

/* 2^-96 (as a bit pattern): small enough for any real activation, large
 * enough that 127 / a_t stays finite. (The decimal literal 1.2621774e-29f
 * used before is one unit in the last place below 2^-96.) */
#define MTS_I8_MIN_ABSMAX_BITS 0x0f800000u
/* The bit pattern of inf; anything above it (sign cleared) is NaN. */
#define MTS_F32_INF_BITS 0x7f800000u

#define MTS_ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */

#if defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
/* 32-bit Arm with a single-precision FPU: an empty asm that may change v in
 * its register costs nothing (and armv7 NEON, not IEEE, vectorises no float
 * loop anyway). */
static inline float mts_no_contract(float v)
{
    __asm__("" : "+t"(v));
    return v;
}
#elif defined(__GNUC__) && !defined(__clang__) && !defined(__FP_FAST_FMAF)
/* GCC fuses only where the target has a float FMA, and then defines
 * __FP_FAST_FMAF; without one (x86-64 baseline) nothing is needed, and the
 * loop vectorises. */
static inline float mts_no_contract(float v)
{
    return v;
}
#else
/* Elsewhere the clamp, as written in the formula (an asm would keep the
 * loop from vectorising, and GCC 12's __builtin_assoc_barrier does not stop
 * the vectorised loop of aarch64 from fusing). */
static inline float mts_no_contract(float v)
{
    if (v > 127.0f)
        v = 127.0f;
    if (v < -127.0f)
        v = -127.0f;
    return v;
}
#endif

void mts_quantize_rows_i8(size_t steps, size_t depth,
                          const float *x, size_t x_stride,
                          int8_t *xq, size_t xq_stride, float *x_scale)
{
    for (size_t t = 0; t < steps; t++) {
        const float *x_t = x + t * x_stride;
        int8_t *q_t = xq + t * xq_stride;
        /* The first `bulk` inputs in assembly where there is (gemm/quantize_bulk.h). */
        const size_t bulk = MTS_QUANT_BULK(depth);
        uint32_t absmax_bits = 0;
        if (bulk > 0)
            absmax_bits = mts_quant_bulk_absmax_bits2(x_t, bulk) >> 1;
        for (size_t i = bulk; i < depth; i++) {
            const uint32_t bits = mts_f2u_(x_t[i]) & 0x7fffffffu;
            absmax_bits = bits > absmax_bits ? bits : absmax_bits;
        }
        if (absmax_bits < MTS_I8_MIN_ABSMAX_BITS || absmax_bits >= MTS_F32_INF_BITS) {
            for (size_t i = 0; i < depth; i++)
                q_t[i] = 0;
            x_scale[t] = 0.0f;
            continue;
        }
        const float absmax = mts_u2f_(absmax_bits);
        const float inv = 127.0f / absmax;
        if (bulk > 0)
            mts_quant_bulk_round(x_t, bulk, inv, q_t);
        for (size_t i = bulk; i < depth; i++) {
            const float rounded = mts_no_contract(x_t[i] * inv) + MTS_ROUND_MAGIC;
            /* The low byte, as int8 (GCC and Clang convert modulo 2^8). */
            q_t[i] = (int8_t)(mts_f2u_(rounded) & 0xffu);
        }
        x_scale[t] = absmax / 127.0f;
    }
}
