/* Private: what the NEON products (gemm_neon.c, gemm_i8_neon.c) share, so
 * the float and the int8-w products reduce their lanes in the same order.
 * Include only where MTS_HAVE_NEON (../isa.h) is defined. */
#ifndef MTSRNN_GEMM_NEON_COMMON_H
#define MTSRNN_GEMM_NEON_COMMON_H

#include <arm_neon.h>

/* acc + a * b, rounded once where the target has a fused multiply-add
 * (always on aarch64; armv7 with VFPv4, -mfpu=neon-vfpv4). */
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define MTS_NEON_MLA(acc, a, b) vfmaq_f32((acc), (a), (b))
#else
#define MTS_NEON_MLA(acc, a, b) vmlaq_f32((acc), (a), (b))
#endif

/* How the float and int8-w tiles' loads walk the depth (the int8-wa tile
 * advances its pointers on both targets: gemm_i8_neon.c). A tile keeps one
 * pointer per weight and input row and reads row p at p + k. armv7
 * addresses a load by a register alone: each pointer advances
 * (MTS_NEON_ADVANCE) and k stays 0, so GCC post-increments the loads (VLD1
 * [rN]!); from one shared index it computed every address with two
 * instructions (ADD, SUB): the float 4 x 2 tile took 24 instructions per
 * pass instead of 16. aarch64 adds an index register for free (LDR q, [xN,
 * xK]): the pointers stay and k advances (MTS_NEON_ADVANCE_INDEX); advancing
 * every pointer lengthened its tiles' setup (float 0.794 -> 0.808
 * instructions per multiply-add at T = 1). */
#if defined(__aarch64__)
#define MTS_NEON_ADVANCE(p, n) ((void)0)
#define MTS_NEON_ADVANCE_INDEX(k, n) ((k) += (n))
#else
#define MTS_NEON_ADVANCE(p, n) ((p) += (n))
#define MTS_NEON_ADVANCE_INDEX(k, n) ((void)0)
#endif

/* (a0 + a1) + (a2 + a3) of one accumulator. */
static inline float neon_sum1(float32x4_t a)
{
    float32x2_t p = vpadd_f32(vget_low_f32(a), vget_high_f32(a));
    return vget_lane_f32(vpadd_f32(p, p), 0);
}

/* The same sum of four accumulators: lane k of the result is a_k's. */
static inline float32x4_t neon_sum4(float32x4_t a0, float32x4_t a1, float32x4_t a2,
                                    float32x4_t a3)
{
#if defined(__aarch64__)
    return vpaddq_f32(vpaddq_f32(a0, a1), vpaddq_f32(a2, a3));
#else
    const float32x2_t p0 = vpadd_f32(vget_low_f32(a0), vget_high_f32(a0));
    const float32x2_t p1 = vpadd_f32(vget_low_f32(a1), vget_high_f32(a1));
    const float32x2_t p2 = vpadd_f32(vget_low_f32(a2), vget_high_f32(a2));
    const float32x2_t p3 = vpadd_f32(vget_low_f32(a3), vget_high_f32(a3));
    return vcombine_f32(vpadd_f32(p0, p1), vpadd_f32(p2, p3));
#endif
}

#endif /* MTSRNN_GEMM_NEON_COMMON_H */
