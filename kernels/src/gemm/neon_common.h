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
