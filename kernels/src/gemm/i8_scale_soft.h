/* The int8 products' scaling of one output, in integer arithmetic, for
 * cores without an FPU (Armv6-M: the "armv6m" product):
 *
 *   y = RN(RN(w_scale * x_scale) * (float)acc)        (float32, RNE)
 *
 * bit for bit the reference's C expression (float)acc * (w_scale * x_scale)
 * under IEEE float32 round-to-nearest-even, for every input. libgcc's
 * Thumb-1 soft float spends about 300 instructions on that expression
 * (__aeabi_i2f and two __aeabi_fmul); this takes about 140 on the fast
 * path (Cortex-M0, GCC 12):
 *
 *   - w_scale and x_scale normal and finite, their product s = RN(w * x)
 *     normal: s's 24-bit significand is the 48-bit product of theirs
 *     rounded once (RNE; sticky = the bits below the half);
 *   - 0 < |acc| < 2^24, so (float)acc is exact: |acc| shifted up to 24
 *     bits (no bits lost) times s's significand, rounded once, is
 *     RN(s * acc) when the result is normal;
 *   - acc == 0 with s normal gives a zero with s's sign (+0 * s).
 *
 * Everything else (a zero, subnormal, infinite or NaN scale, s or the
 * result subnormal or overflowing, |acc| >= 2^24) takes the plain float
 * expression, whose soft-float routines round those cases themselves. Only
 * uint32 arithmetic: 24 x 24-bit products go as four 12 x 12-bit MULS
 * (Armv6-M has no long multiply, and a 64-bit product would be a libgcc
 * call), and the leading-one search of |acc| is five compares (no CLZ).
 * tests/c/test_i8_scale.c compares it with the FPU's (or the host's)
 * expression on edge cases and millions of random inputs.
 */
#ifndef MTSRNN_GEMM_I8_SCALE_SOFT_H
#define MTSRNN_GEMM_I8_SCALE_SOFT_H

#include <stdint.h>

/* A float's bits through a union, not memcpy: GCC for Armv6-M calls
 * memcpy for the 4 bytes where they come from memory (gemm_i8_armv6m.c's
 * partial sums did, six calls per row and panel); GCC defines reading the
 * other member. `i`: the int32 partial sums gemm_i8_armv6m.c keeps in Y. */
typedef union {
    float f;
    uint32_t u;
    int32_t i;
} mtsi_soft_bits;

/* m = a * b rounded to 24 bits (a, b in [2^23, 2^24)), round to nearest
 * even: returns m in [2^23, 2^24] (2^24 where rounding carried out) and adds
 * to *e the power of two it dropped (23 or 24). */
static inline uint32_t mtsi_soft_mul24(uint32_t a, uint32_t b, int32_t *e)
{
    const uint32_t ah = a >> 12, al = a & 0xfffu, bh = b >> 12, bl = b & 0xfffu;
    const uint32_t mid = ah * bl + al * bh;           /* < 2^25 */
    uint32_t lo = al * bl + ((mid << 20) >> 8);       /* < 2^25 */
    uint32_t hi = ah * bh + (mid >> 12) + (lo >> 24); /* a * b = hi 2^24 + lo */
    lo = (lo << 8) >> 8;
    if ((hi >> 23) == 0u) { /* a * b in [2^46, 2^47): one place up */
        hi = (hi << 1) | (lo >> 23);
        lo = (lo << 9) >> 8;
        *e += 23;
    } else {
        *e += 24;
    }
    /* lo is what rounding drops, half = 2^23: adding half - 1, and 1 more
     * when hi is odd, carries into bit 24 exactly when lo > half, or
     * lo == half and hi odd (ties to even). */
    lo += 0x7fffffu + (hi & 1u);
    return hi + (lo >> 24);
}

/* (float)acc * (w_scale * x_scale), exactly as the float expression. */
/* Out of line: inlined at each of the product's call sites it crowds their
 * registers (measured: 0.04 instructions per multiply-add more). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static float mtsi_i8_scale_soft(int32_t acc, float w_scale, float x_scale)
{
    mtsi_soft_bits w, x, y;
    w.f = w_scale;
    x.f = x_scale;
    /* Exponent fields; ew - 1 < 254: 1..254, a normal finite scale. */
    const uint32_t ew = (w.u << 1) >> 24, ex = (x.u << 1) >> 24;
    if (ew - 1u < 254u && ex - 1u < 254u) {
        /* s = RN(w_scale * x_scale): biased exponent ew + ex - 150 + shift. */
        int32_t es = (int32_t)(ew + ex) - 150;
        uint32_t ms = mtsi_soft_mul24(((w.u << 8) | 0x80000000u) >> 8,
                                      ((x.u << 8) | 0x80000000u) >> 8, &es);
        if ((ms >> 24) != 0u) { /* rounded up to 2^24 */
            ms >>= 1;
            es++;
        }
        uint32_t n = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc;
        if ((uint32_t)(es - 1) < 254u && (n >> 24) == 0u) { /* s normal, acc exact */
            if (n == 0u) {
                y.u = (w.u ^ x.u) & 0x80000000u;
                return y.f;
            }
            /* |acc| shifted up k places into [2^23, 2^24), exactly; the
             * result's biased exponent is es - k + shift. */
            if ((n >> 8) == 0u) {
                n <<= 16;
                es -= 16;
            }
            if ((n >> 16) == 0u) {
                n <<= 8;
                es -= 8;
            }
            if ((n >> 20) == 0u) {
                n <<= 4;
                es -= 4;
            }
            if ((n >> 22) == 0u) {
                n <<= 2;
                es -= 2;
            }
            if ((n >> 23) == 0u) {
                n <<= 1;
                es -= 1;
            }
            const uint32_t my = mtsi_soft_mul24(ms, n, &es);
            /* es in 1..253: normal even where rounding carried my to 2^24,
             * which the addition carries into the exponent field. */
            if ((uint32_t)(es - 1) < 253u) {
                y.u = ((w.u ^ x.u ^ (uint32_t)acc) & 0x80000000u) + ((uint32_t)(es - 1) << 23) +
                      my;
                return y.f;
            }
        }
    }
    return (float)acc * (w_scale * x_scale);
}

#endif /* MTSRNN_GEMM_I8_SCALE_SOFT_H */
