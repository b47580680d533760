/* Private: the bulk of the activation quantiser (../quantize.c) in
 * assembly, where a target has it. quantize.c quantises the first
 * MTS_QUANT_BULK(depth) inputs of a row with the two functions below and
 * the rest in C; where MTS_QUANT_BULK is 0 they are never called.
 *
 *   mts_quant_bulk_absmax_bits2(x, n)   = max_i (bits(x[i]) << 1), i < n
 *   mts_quant_bulk_round(x, n, inv, q):   q[i] = low byte of
 *                                         bits(x[i] * inv + 1.5 * 2^23), i < n
 *
 * with the same bits as quantize.c's C loops (the product rounded before
 * the sum, never fused). n is a multiple of 4 and > 0.
 */
#ifndef MTSRNN_QUANTIZE_BULK_H
#define MTSRNN_QUANTIZE_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "../isa.h"

#if defined(MTS_HAVE_M4F) && defined(__GNUC__)
/* Cortex-M4F (isa.h: single-precision FPU, Thumb-2, no Helium): the two
 * loops of mts_quantize_rows_i8 for the first depth - depth % 4 inputs, in
 * assembly, since GCC 12 spends 7 instructions per input on each (one
 * LDR, STRB or VLDR per value and a loop test per input). Here per 4
 * inputs: 2 LDRD, then per value CMP of the bits shifted left by 1 (the
 * sign dropped), IT, LSL into the maximum (4 per input with the loop
 * test); VLDM, 4 VMUL, 4 VADD, 2 VMOV of two values, 4 STRB (4.25 per
 * input). The products and sums are separate instructions, so nothing is
 * fused. */
#define MTS_QUANT_BULK(depth) ((depth) & ~(size_t)3)

/* max_i (bits(x[i]) << 1) over the bulk, n > 0 a multiple of 4. */
static inline uint32_t mts_quant_bulk_absmax_bits2(const float *x, size_t n)
{
    const float *const end = x + n;
    uint32_t max2 = 0, a, b;
    __asm__ volatile(
        "1:\n\t"
        "ldrd %[a], %[b], [%[x]], #8\n\t"
        "cmp %[m], %[a], lsl #1\n\t"
        "it lo\n\t"
        "lsllo %[m], %[a], #1\n\t"
        "cmp %[m], %[b], lsl #1\n\t"
        "it lo\n\t"
        "lsllo %[m], %[b], #1\n\t"
        "ldrd %[a], %[b], [%[x]], #8\n\t"
        "cmp %[m], %[a], lsl #1\n\t"
        "it lo\n\t"
        "lsllo %[m], %[a], #1\n\t"
        "cmp %[m], %[b], lsl #1\n\t"
        "it lo\n\t"
        "lsllo %[m], %[b], #1\n\t"
        "cmp %[x], %[end]\n\t"
        "bne 1b\n\t"
        : [m] "+r"(max2), [x] "+r"(x), [a] "=&r"(a), [b] "=&r"(b)
        : [end] "r"(end)
        : "cc", "memory");
    return max2;
}

/* q[i] = low byte of bits(x[i] * inv + magic) over the bulk, n > 0 a
 * multiple of 4. */
static inline void mts_quant_bulk_round(const float *x, size_t n, float inv, int8_t *q)
{
    const float *const end = x + n;
    const float magic = 12582912.0f; /* 1.5 * 2^23: quantize.c's MTS_ROUND_MAGIC */
    uint32_t a, b;
    __asm__ volatile(
        "1:\n\t"
        "vldmia %[x]!, {s0-s3}\n\t"
        "vmul.f32 s0, s0, %[inv]\n\t"
        "vmul.f32 s1, s1, %[inv]\n\t"
        "vmul.f32 s2, s2, %[inv]\n\t"
        "vmul.f32 s3, s3, %[inv]\n\t"
        "vadd.f32 s0, s0, %[magic]\n\t"
        "vadd.f32 s1, s1, %[magic]\n\t"
        "vadd.f32 s2, s2, %[magic]\n\t"
        "vadd.f32 s3, s3, %[magic]\n\t"
        "vmov %[a], %[b], s0, s1\n\t"
        "strb %[a], [%[q]], #1\n\t"
        "strb %[b], [%[q]], #1\n\t"
        "vmov %[a], %[b], s2, s3\n\t"
        "strb %[a], [%[q]], #1\n\t"
        "strb %[b], [%[q]], #1\n\t"
        "cmp %[x], %[end]\n\t"
        "bne 1b\n\t"
        : [x] "+r"(x), [q] "+r"(q), [a] "=&r"(a), [b] "=&r"(b)
        : [end] "r"(end), [inv] "t"(inv), [magic] "t"(magic)
        : "s0", "s1", "s2", "s3", "cc", "memory");
}
#else
#define MTS_QUANT_BULK(depth) ((size_t)0)

static inline uint32_t mts_quant_bulk_absmax_bits2(const float *x, size_t n)
{
    (void)x;
    (void)n;
    return 0;
}

static inline void mts_quant_bulk_round(const float *x, size_t n, float inv, int8_t *q)
{
    (void)x;
    (void)n;
    (void)inv;
    (void)q;
}
#endif

#endif /* MTSRNN_QUANTIZE_BULK_H */
