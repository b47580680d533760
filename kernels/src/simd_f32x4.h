/* Private: a 4-lane float vector, so the elementwise scans (sru.c, qrnn.c)
 * and their vector exp/sigmoid/tanh are written once and mapped at compile
 * time onto an instruction set:
 *
 *   backend   selected when                           MTS_F32X4_BACKEND
 *   NEON      __ARM_NEON && __aarch64__ (Cortex-A)    "neon"
 *   generic   MTS_F32X4_GENERIC defined (tests)       "generic" (plain C, 4-float struct)
 *   none      otherwise, or MTS_SIMD_NONE defined     MTS_F32X4 is 0: callers use scalar loops
 *
 * CMake's MTSRNN_SIMD option picks: auto (the target's backend, if any),
 * none (-DMTS_SIMD_NONE) or generic (-DMTS_F32X4_GENERIC). A new backend
 * (e.g. Helium/MVE for Cortex-M55) adds one #elif section defining the same
 * types and functions; nothing outside this file names an instruction set.
 *
 * 32-bit Arm NEON is not a backend here: its vector unit always flushes
 * subnormals to zero (the scalar activations produce subnormal results on
 * purpose) and has no vector divide, so armv7 keeps the scalar scans.
 *
 * Types: mts_f32x4 (4 floats), mts_u32x4 (4 uint32: bit patterns and masks,
 * a true lane all ones). Arithmetic is IEEE single precision per lane, each
 * operation rounded once, like the scalar code: mul and add stay separate
 * operations, so a compiler that contracts `a * b + c` in the scalar
 * activation_inline.h (-ffp-contract=fast) does the same here (on GCC the
 * NEON intrinsics are GNU vector operators), which is what makes the vector
 * activations bit-identical to the scalar ones. A backend whose intrinsics
 * the compiler cannot contract should say so; tests/c/test_simd.c checks the
 * bits either way.
 */
#ifndef MTSRNN_SIMD_F32X4_H
#define MTSRNN_SIMD_F32X4_H

#include <stdint.h>

#include "activation_inline.h"

#if defined(MTS_SIMD_NONE) && !defined(MTS_F32X4_GENERIC)
#define MTS_F32X4 0

#elif defined(MTS_F32X4_GENERIC)
/* ---- generic: plain C, one lane at a time (tests the code on any host) -- */
#define MTS_F32X4 1
#define MTS_F32X4_BACKEND "generic"

typedef struct { float v[4]; } mts_f32x4;
typedef struct { uint32_t v[4]; } mts_u32x4;

#define MTS_F32X4_LANEWISE(type, expr)  \
    type r_;                            \
    for (int l_ = 0; l_ < 4; l_++)      \
        r_.v[l_] = (expr);              \
    return r_

static inline mts_f32x4 mts_f32x4_load(const float *p) { MTS_F32X4_LANEWISE(mts_f32x4, p[l_]); }
static inline void mts_f32x4_store(float *p, mts_f32x4 a)
{
    for (int l = 0; l < 4; l++)
        p[l] = a.v[l];
}
static inline mts_f32x4 mts_f32x4_dup(float s) { MTS_F32X4_LANEWISE(mts_f32x4, s); }
static inline mts_f32x4 mts_f32x4_add(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] + b.v[l_]); }
static inline mts_f32x4 mts_f32x4_sub(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] - b.v[l_]); }
static inline mts_f32x4 mts_f32x4_mul(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] * b.v[l_]); }
static inline mts_f32x4 mts_f32x4_div(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] / b.v[l_]); }
static inline mts_f32x4 mts_f32x4_neg(mts_f32x4 a) { MTS_F32X4_LANEWISE(mts_f32x4, -a.v[l_]); }
static inline mts_f32x4 mts_f32x4_min(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] < b.v[l_] ? a.v[l_] : b.v[l_]); }
static inline mts_f32x4 mts_f32x4_max(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] > b.v[l_] ? a.v[l_] : b.v[l_]); }
static inline mts_u32x4 mts_f32x4_gt(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_u32x4, 0u - (uint32_t)(a.v[l_] > b.v[l_])); }
static inline mts_u32x4 mts_f32x4_lt(mts_f32x4 a, mts_f32x4 b) { MTS_F32X4_LANEWISE(mts_u32x4, 0u - (uint32_t)(a.v[l_] < b.v[l_])); }
/* mask ? a : b per lane (bitwise: each lane of mask is all ones or zero) */
static inline mts_f32x4 mts_f32x4_select(mts_u32x4 mask, mts_f32x4 a, mts_f32x4 b)
{
    MTS_F32X4_LANEWISE(mts_f32x4, mts_u2f_((mts_f2u_(a.v[l_]) & mask.v[l_]) |
                                           (mts_f2u_(b.v[l_]) & ~mask.v[l_])));
}
static inline mts_u32x4 mts_f32x4_bits(mts_f32x4 a) { MTS_F32X4_LANEWISE(mts_u32x4, mts_f2u_(a.v[l_])); }
static inline mts_f32x4 mts_u32x4_as_f32(mts_u32x4 a) { MTS_F32X4_LANEWISE(mts_f32x4, mts_u2f_(a.v[l_])); }
static inline mts_u32x4 mts_u32x4_dup(uint32_t s) { MTS_F32X4_LANEWISE(mts_u32x4, s); }
static inline mts_u32x4 mts_u32x4_add(mts_u32x4 a, mts_u32x4 b) { MTS_F32X4_LANEWISE(mts_u32x4, a.v[l_] + b.v[l_]); }
static inline mts_u32x4 mts_u32x4_sub(mts_u32x4 a, mts_u32x4 b) { MTS_F32X4_LANEWISE(mts_u32x4, a.v[l_] - b.v[l_]); }
static inline mts_u32x4 mts_u32x4_and(mts_u32x4 a, mts_u32x4 b) { MTS_F32X4_LANEWISE(mts_u32x4, a.v[l_] & b.v[l_]); }
static inline mts_u32x4 mts_u32x4_or(mts_u32x4 a, mts_u32x4 b) { MTS_F32X4_LANEWISE(mts_u32x4, a.v[l_] | b.v[l_]); }
/* Shifts by a constant count (an immediate on SIMD backends). */
#define mts_u32x4_shr(a, n) mts_u32x4_shr_((a), (n))
#define mts_u32x4_shl(a, n) mts_u32x4_shl_((a), (n))
static inline mts_u32x4 mts_u32x4_shr_(mts_u32x4 a, int n) { MTS_F32X4_LANEWISE(mts_u32x4, a.v[l_] >> n); }
static inline mts_u32x4 mts_u32x4_shl_(mts_u32x4 a, int n) { MTS_F32X4_LANEWISE(mts_u32x4, a.v[l_] << n); }

#elif defined(__ARM_NEON) && defined(__aarch64__)
/* ---- NEON (AArch64 Advanced SIMD): IEEE, subnormals kept, vector divide -- */
#include <arm_neon.h>

#define MTS_F32X4 1
#define MTS_F32X4_BACKEND "neon"

typedef float32x4_t mts_f32x4;
typedef uint32x4_t mts_u32x4;

static inline mts_f32x4 mts_f32x4_load(const float *p) { return vld1q_f32(p); }
static inline void mts_f32x4_store(float *p, mts_f32x4 a) { vst1q_f32(p, a); }
static inline mts_f32x4 mts_f32x4_dup(float s) { return vdupq_n_f32(s); }
static inline mts_f32x4 mts_f32x4_add(mts_f32x4 a, mts_f32x4 b) { return vaddq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_sub(mts_f32x4 a, mts_f32x4 b) { return vsubq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_mul(mts_f32x4 a, mts_f32x4 b) { return vmulq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_div(mts_f32x4 a, mts_f32x4 b) { return vdivq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_neg(mts_f32x4 a) { return vnegq_f32(a); }
static inline mts_f32x4 mts_f32x4_min(mts_f32x4 a, mts_f32x4 b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline mts_f32x4 mts_f32x4_max(mts_f32x4 a, mts_f32x4 b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline mts_u32x4 mts_f32x4_gt(mts_f32x4 a, mts_f32x4 b) { return vcgtq_f32(a, b); }
static inline mts_u32x4 mts_f32x4_lt(mts_f32x4 a, mts_f32x4 b) { return vcltq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_select(mts_u32x4 mask, mts_f32x4 a, mts_f32x4 b) { return vbslq_f32(mask, a, b); }
static inline mts_u32x4 mts_f32x4_bits(mts_f32x4 a) { return vreinterpretq_u32_f32(a); }
static inline mts_f32x4 mts_u32x4_as_f32(mts_u32x4 a) { return vreinterpretq_f32_u32(a); }
static inline mts_u32x4 mts_u32x4_dup(uint32_t s) { return vdupq_n_u32(s); }
static inline mts_u32x4 mts_u32x4_add(mts_u32x4 a, mts_u32x4 b) { return vaddq_u32(a, b); }
static inline mts_u32x4 mts_u32x4_sub(mts_u32x4 a, mts_u32x4 b) { return vsubq_u32(a, b); }
static inline mts_u32x4 mts_u32x4_and(mts_u32x4 a, mts_u32x4 b) { return vandq_u32(a, b); }
static inline mts_u32x4 mts_u32x4_or(mts_u32x4 a, mts_u32x4 b) { return vorrq_u32(a, b); }
#define mts_u32x4_shr(a, n) vshrq_n_u32((a), (n))
#define mts_u32x4_shl(a, n) vshlq_n_u32((a), (n))

#else
#define MTS_F32X4 0
#endif

#if MTS_F32X4
/* ---- activations over the shim --------------------------------------------
 * Line for line the scalar bodies of activation_inline.h (same constants,
 * same operations in the same order, selects for branches), so each lane
 * gives the scalar function's bits; see there for the method and the error
 * bounds. */

static inline mts_f32x4 mts_expf_x4(mts_f32x4 x)
{
    const mts_f32x4 magic = mts_f32x4_dup(MTS_EXP_MAGIC);
    const mts_u32x4 magic_bits = mts_u32x4_dup(0x4b400000u); /* bits of 1.5 * 2^23 */
    const mts_u32x4 bias = mts_u32x4_dup(127u);
    const mts_f32x4 hi = mts_f32x4_dup(MTS_EXP_HI);
    const mts_f32x4 lo = mts_f32x4_dup(MTS_EXP_LO);
    mts_f32x4 t, kf, r, r2, q, p;
    mts_u32x4 k, k1, k2;

    x = mts_f32x4_select(mts_f32x4_gt(x, hi), hi, x);
    x = mts_f32x4_select(mts_f32x4_lt(x, lo), lo, x);

    t = mts_f32x4_add(mts_f32x4_mul(x, mts_f32x4_dup(MTS_EXP_LOG2E)), magic);
    kf = mts_f32x4_sub(t, magic);
    k = mts_u32x4_sub(mts_f32x4_bits(t), magic_bits);

    r = mts_f32x4_sub(mts_f32x4_sub(x, mts_f32x4_mul(kf, mts_f32x4_dup(MTS_EXP_LN2_HI))),
                      mts_f32x4_mul(kf, mts_f32x4_dup(MTS_EXP_LN2_LO)));
    r2 = mts_f32x4_mul(r, r);
    q = mts_f32x4_add(mts_f32x4_dup(MTS_EXP_C5), mts_f32x4_mul(r, mts_f32x4_dup(MTS_EXP_C6)));
    q = mts_f32x4_add(mts_f32x4_dup(MTS_EXP_C4), mts_f32x4_mul(r, q));
    q = mts_f32x4_add(mts_f32x4_dup(MTS_EXP_C3), mts_f32x4_mul(r, q));
    q = mts_f32x4_add(mts_f32x4_dup(MTS_EXP_C2), mts_f32x4_mul(r, q));
    p = mts_f32x4_add(mts_f32x4_dup(1.0f), mts_f32x4_add(r, mts_f32x4_mul(r2, q)));

    /* floor(k/2) as an arithmetic shift, then 2^k1 * 2^k2 from exponent bits */
    k1 = mts_u32x4_or(mts_u32x4_shr(k, 1), mts_u32x4_and(k, mts_u32x4_dup(0x80000000u)));
    k2 = mts_u32x4_sub(k, k1);
    return mts_f32x4_mul(
        mts_f32x4_mul(p, mts_u32x4_as_f32(mts_u32x4_shl(mts_u32x4_add(k1, bias), 23))),
        mts_u32x4_as_f32(mts_u32x4_shl(mts_u32x4_add(k2, bias), 23)));
}

static inline mts_f32x4 mts_sigmoidf_x4(mts_f32x4 x)
{
    const mts_f32x4 one = mts_f32x4_dup(1.0f);
    const mts_u32x4 lo = mts_f32x4_lt(x, mts_f32x4_dup(MTS_SIGMOID_LO));
    const mts_f32x4 e = mts_expf_x4(mts_f32x4_select(lo, x, mts_f32x4_neg(x)));
    const mts_f32x4 num = mts_f32x4_select(lo, e, one);
    return mts_f32x4_div(num, mts_f32x4_add(one, e));
}

static inline mts_f32x4 mts_tanhf_x4(mts_f32x4 x)
{
    const mts_f32x4 one = mts_f32x4_dup(1.0f);
    const mts_u32x4 ux = mts_f32x4_bits(x);
    const mts_u32x4 sign = mts_u32x4_and(ux, mts_u32x4_dup(0x80000000u));
    const mts_f32x4 a = mts_u32x4_as_f32(mts_u32x4_and(ux, mts_u32x4_dup(0x7fffffffu)));
    const mts_f32x4 s = mts_f32x4_mul(a, a);
    mts_f32x4 poly, small, e, big, y;

    poly = mts_f32x4_add(mts_f32x4_dup(MTS_TANH_T3), mts_f32x4_mul(s, mts_f32x4_dup(MTS_TANH_T4)));
    poly = mts_f32x4_add(mts_f32x4_dup(MTS_TANH_T2), mts_f32x4_mul(s, poly));
    poly = mts_f32x4_add(mts_f32x4_dup(MTS_TANH_T1), mts_f32x4_mul(s, poly));
    poly = mts_f32x4_add(mts_f32x4_dup(MTS_TANH_T0), mts_f32x4_mul(s, poly));
    small = mts_f32x4_add(a, mts_f32x4_mul(mts_f32x4_mul(a, s), poly));
    e = mts_expf_x4(mts_f32x4_mul(mts_f32x4_dup(-2.0f), a));
    big = mts_f32x4_div(mts_f32x4_sub(one, e), mts_f32x4_add(one, e));
    y = mts_f32x4_select(mts_f32x4_lt(a, mts_f32x4_dup(MTS_TANH_SMALL)), small, big);
    return mts_u32x4_as_f32(mts_u32x4_or(mts_f32x4_bits(y), sign));
}
#endif /* MTS_F32X4 */

#endif /* MTSRNN_SIMD_F32X4_H */
