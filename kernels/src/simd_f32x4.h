/* Private: a 4-lane float vector, so the elementwise scans (sru.c, qrnn.c)
 * and their vector exp/sigmoid/tanh are written once and mapped at compile
 * time onto an instruction set:
 *
 *   backend   selected when (isa.h)                    MTS_F32X4_BACKEND
 *   NEON      MTS_F32X4_USE_NEON: NEON on aarch64      "neon"
 *   MVE       MTS_F32X4_USE_MVE: Helium with float     "mve"
 *             (Cortex-M55; not with -mcpu=...+nomve)
 *   generic   MTS_F32X4_USE_GENERIC (tests)            "generic" (plain C, 4-float struct)
 *   none      otherwise, or MTS_SIMD_NONE defined      MTS_F32X4 is 0: callers use scalar loops
 *
 * CMake's MTSRNN_SIMD option picks: auto (the target's backend, if any),
 * none (-DMTS_SIMD_NONE) or generic (-DMTS_F32X4_GENERIC); isa.h turns
 * that and the target into one MTS_F32X4_USE_ macro. A new backend adds
 * one there and one #elif section here defining the same types and
 * functions; the scans (sru.c, qrnn.c) name no instruction set.
 *
 * 32-bit Arm NEON is not a backend here: its vector unit always flushes
 * subnormals to zero (the scalar activations produce subnormal results on
 * purpose) and has no vector divide, so armv7 keeps the scalar scans.
 *
 * Types: mts_f32x4 (4 floats), mts_u32x4 (4 uint32: bit patterns and masks,
 * a true lane all ones). Arithmetic is IEEE single precision per lane, each
 * operation rounded once, like the scalar code. Fused multiply-add is its
 * own operation, mts_f32x4_fma(a, b, c) = a * b + c rounded once, used at
 * exactly the places where the compiler contracts the scalar
 * activation_inline.h's `a * b + c` (-ffp-contract=fast, on targets with an
 * FMA instruction: each product whose only use is an add or subtract), so
 * the vector activations give the scalar ones' bits. It cannot be left to
 * contraction: GCC 12 contracts NEON's vmulq/vaddq (GNU vector operators)
 * but not MVE's, nor the generic backend's loops once they are
 * auto-vectorised with MVE. tests/c/test_simd.c checks the bits (also on the
 * M55 under QEMU: tests/cortex-m).
 */
#ifndef MTSRNN_SIMD_F32X4_H
#define MTSRNN_SIMD_F32X4_H

#include <stdint.h>

#include "activation_inline.h"
#include "isa.h"

#if defined(MTS_F32X4_USE_GENERIC)
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
/* a * b + c: fused where the target has an FMA instruction (__FP_FAST_FMAF:
 * an instruction, no libm call), as the scalar code is contracted there. */
#ifdef __FP_FAST_FMAF
static inline mts_f32x4 mts_f32x4_fma(mts_f32x4 a, mts_f32x4 b, mts_f32x4 c) { MTS_F32X4_LANEWISE(mts_f32x4, __builtin_fmaf(a.v[l_], b.v[l_], c.v[l_])); }
#else
static inline mts_f32x4 mts_f32x4_fma(mts_f32x4 a, mts_f32x4 b, mts_f32x4 c) { MTS_F32X4_LANEWISE(mts_f32x4, a.v[l_] * b.v[l_] + c.v[l_]); }
#endif
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

#elif defined(MTS_F32X4_USE_NEON)
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
static inline mts_f32x4 mts_f32x4_fma(mts_f32x4 a, mts_f32x4 b, mts_f32x4 c) { return vfmaq_f32(c, a, b); }
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

#elif defined(MTS_F32X4_USE_MVE)
/* ---- MVE (Helium, Armv8.1-M with the float extension: Cortex-M55) --------
 * Compares give a lane predicate (mve_pred16_t), turned into an all-ones
 * mask here; there is no vector divide, so the 4 lanes divide one at a time
 * with the scalar FPU (IEEE, like the scalar code). MVE float arithmetic
 * flushes subnormal inputs and results to zero (as QEMU 7.2 emulates it),
 * while the scalar FPU keeps them: MTS_F32X4_FLUSHES_SUBNORMALS makes the
 * activations below produce their subnormal results with integer
 * operations instead (mts_f32x4_scale_subnormal; tested bit for bit by
 * tests/c/test_simd.c on the M55). */
#include <arm_mve.h>

#define MTS_F32X4 1
#define MTS_F32X4_BACKEND "mve"
#define MTS_F32X4_FLUSHES_SUBNORMALS 1

typedef float32x4_t mts_f32x4;
typedef uint32x4_t mts_u32x4;

static inline mts_u32x4 mts_mve_mask_(mve_pred16_t p)
{
    return vpselq_u32(vdupq_n_u32(0xffffffffu), vdupq_n_u32(0u), p);
}
static inline mts_f32x4 mts_f32x4_load(const float *p) { return vld1q_f32(p); }
static inline void mts_f32x4_store(float *p, mts_f32x4 a) { vst1q_f32(p, a); }
static inline mts_f32x4 mts_f32x4_dup(float s) { return vdupq_n_f32(s); }
static inline mts_f32x4 mts_f32x4_add(mts_f32x4 a, mts_f32x4 b) { return vaddq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_sub(mts_f32x4 a, mts_f32x4 b) { return vsubq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_mul(mts_f32x4 a, mts_f32x4 b) { return vmulq_f32(a, b); }
static inline mts_f32x4 mts_f32x4_div(mts_f32x4 a, mts_f32x4 b)
{
    mts_f32x4 r = a;
    r = vsetq_lane_f32(vgetq_lane_f32(a, 0) / vgetq_lane_f32(b, 0), r, 0);
    r = vsetq_lane_f32(vgetq_lane_f32(a, 1) / vgetq_lane_f32(b, 1), r, 1);
    r = vsetq_lane_f32(vgetq_lane_f32(a, 2) / vgetq_lane_f32(b, 2), r, 2);
    r = vsetq_lane_f32(vgetq_lane_f32(a, 3) / vgetq_lane_f32(b, 3), r, 3);
    return r;
}
static inline mts_f32x4 mts_f32x4_fma(mts_f32x4 a, mts_f32x4 b, mts_f32x4 c) { return vfmaq_f32(c, a, b); }
static inline mts_f32x4 mts_f32x4_neg(mts_f32x4 a) { return vnegq_f32(a); }
/* a < b as b > a: MVE's VCMP LT is the condition code LT, true for
 * unordered operands (NaN), while GT is false for them as C's < and > are. */
static inline mts_f32x4 mts_f32x4_min(mts_f32x4 a, mts_f32x4 b) { return vpselq_f32(a, b, vcmpgtq_f32(b, a)); }
static inline mts_f32x4 mts_f32x4_max(mts_f32x4 a, mts_f32x4 b) { return vpselq_f32(a, b, vcmpgtq_f32(a, b)); }
static inline mts_u32x4 mts_f32x4_gt(mts_f32x4 a, mts_f32x4 b) { return mts_mve_mask_(vcmpgtq_f32(a, b)); }
static inline mts_u32x4 mts_f32x4_lt(mts_f32x4 a, mts_f32x4 b) { return mts_mve_mask_(vcmpgtq_f32(b, a)); }
/* Bitwise: turning the mask back into a predicate (vcmpneq) makes GCC 12
 * fold it with the compare that made it and crash (internal compiler error
 * in trunc_int_for_mode). */
static inline mts_f32x4 mts_f32x4_select(mts_u32x4 mask, mts_f32x4 a, mts_f32x4 b)
{
    return vreinterpretq_f32_u32(vorrq_u32(vandq_u32(vreinterpretq_u32_f32(a), mask),
                                           vbicq_u32(vreinterpretq_u32_f32(b), mask)));
}
static inline mts_u32x4 mts_f32x4_bits(mts_f32x4 a) { return vreinterpretq_u32_f32(a); }
static inline mts_f32x4 mts_u32x4_as_f32(mts_u32x4 a) { return vreinterpretq_f32_u32(a); }
static inline mts_u32x4 mts_u32x4_dup(uint32_t s) { return vdupq_n_u32(s); }
static inline mts_u32x4 mts_u32x4_add(mts_u32x4 a, mts_u32x4 b) { return vaddq_u32(a, b); }
static inline mts_u32x4 mts_u32x4_sub(mts_u32x4 a, mts_u32x4 b) { return vsubq_u32(a, b); }
static inline mts_u32x4 mts_u32x4_and(mts_u32x4 a, mts_u32x4 b) { return vandq_u32(a, b); }
static inline mts_u32x4 mts_u32x4_or(mts_u32x4 a, mts_u32x4 b) { return vorrq_u32(a, b); }
#define mts_u32x4_shr(a, n) vshrq_n_u32((a), (n))
#define mts_u32x4_shl(a, n) vshlq_n_u32((a), (n))
/* z * 2^k for z > 0 normal or NaN/inf and 2^k normal (k = bits of 2^k):
 * the multiply, except that lanes whose product is subnormal get it rounded
 * to nearest even in integer arithmetic, as the scalar FPU rounds it
 * (value / 2^-149 = m >> (1 - e) for the 24-bit significand m of z and the
 * biased exponent e = E(z) + k of the product). */
static inline mts_f32x4 mts_f32x4_scale_subnormal(mts_f32x4 z, mts_u32x4 scale_bits)
{
    const uint32x4_t zb = vreinterpretq_u32_f32(z);
    const int32x4_t k = vsubq_s32(vreinterpretq_s32_u32(vshrq_n_u32(scale_bits, 23)),
                                  vdupq_n_s32(127));
    const int32x4_t ez = vreinterpretq_s32_u32(vshrq_n_u32(zb, 23));
    const int32x4_t e = vaddq_s32(ez, k);
    const uint32x4_t m = vorrq_u32(vandq_u32(zb, vdupq_n_u32(0x7fffffu)), vdupq_n_u32(0x800000u));
    const int32x4_t shift = vminq_s32(vsubq_s32(vdupq_n_s32(1), e), vdupq_n_s32(31));
    const uint32x4_t q = vshlq_u32(m, vnegq_s32(shift));
    const uint32x4_t rem = vsubq_u32(m, vshlq_u32(q, shift));
    const uint32x4_t half = vshlq_u32(vdupq_n_u32(1u), vsubq_s32(shift, vdupq_n_s32(1)));
    const mve_pred16_t up = (mve_pred16_t)(vcmphiq_u32(rem, half) |
                                           (vcmpeqq_u32(rem, half) &
                                            vcmpneq_n_u32(vandq_u32(q, vdupq_n_u32(1u)), 0u)));
    const uint32x4_t sub = vpselq_u32(vaddq_u32(q, vdupq_n_u32(1u)), q, up);
    const mve_pred16_t subnormal = (mve_pred16_t)(vcmpleq_n_s32(e, 0) & vcmpltq_n_s32(ez, 255));
    return vpselq_f32(vreinterpretq_f32_u32(sub),
                      vmulq_f32(z, vreinterpretq_f32_u32(scale_bits)), subnormal);
}

#else
#define MTS_F32X4 0
#endif

#if MTS_F32X4
#ifndef MTS_F32X4_FLUSHES_SUBNORMALS
#define MTS_F32X4_FLUSHES_SUBNORMALS 0
#endif
/* The smallest normal float, 2^-126. */
#define MTS_F32_NORMAL_MIN 1.17549435e-38f

/* ---- activations over the shim --------------------------------------------
 * Line for line the scalar bodies of activation_inline.h (same constants,
 * same operations in the same order, selects for branches, mts_f32x4_fma
 * where the scalar code is contracted), so each lane gives the scalar
 * function's bits; see there for the method and the error bounds. */

static inline mts_f32x4 mts_expf_x4(mts_f32x4 x)
{
    const mts_f32x4 magic = mts_f32x4_dup(MTS_EXP_MAGIC);
    const mts_u32x4 magic_bits = mts_u32x4_dup(0x4b400000u); /* bits of 1.5 * 2^23 */
    const mts_u32x4 bias = mts_u32x4_dup(127u);
    const mts_f32x4 hi = mts_f32x4_dup(MTS_EXP_HI);
    const mts_f32x4 lo = mts_f32x4_dup(MTS_EXP_LO);
    mts_f32x4 t, kf, nkf, r, r2, q, p;
    mts_u32x4 k, k1, k2;

    x = mts_f32x4_select(mts_f32x4_gt(x, hi), hi, x);
    x = mts_f32x4_select(mts_f32x4_lt(x, lo), lo, x);

    t = mts_f32x4_fma(x, mts_f32x4_dup(MTS_EXP_LOG2E), magic);
    kf = mts_f32x4_sub(t, magic);
    k = mts_u32x4_sub(mts_f32x4_bits(t), magic_bits);

    /* (x - kf * ln2_hi) - kf * ln2_lo, both products fused (negation is exact) */
    nkf = mts_f32x4_neg(kf);
    r = mts_f32x4_fma(nkf, mts_f32x4_dup(MTS_EXP_LN2_LO),
                      mts_f32x4_fma(nkf, mts_f32x4_dup(MTS_EXP_LN2_HI), x));
    r2 = mts_f32x4_mul(r, r);
    q = mts_f32x4_fma(r, mts_f32x4_dup(MTS_EXP_C6), mts_f32x4_dup(MTS_EXP_C5));
    q = mts_f32x4_fma(r, q, mts_f32x4_dup(MTS_EXP_C4));
    q = mts_f32x4_fma(r, q, mts_f32x4_dup(MTS_EXP_C3));
    q = mts_f32x4_fma(r, q, mts_f32x4_dup(MTS_EXP_C2));
    p = mts_f32x4_add(mts_f32x4_dup(1.0f), mts_f32x4_fma(r2, q, r));

    /* floor(k/2) as an arithmetic shift, then 2^k1 * 2^k2 from exponent bits */
    k1 = mts_u32x4_or(mts_u32x4_shr(k, 1), mts_u32x4_and(k, mts_u32x4_dup(0x80000000u)));
    k2 = mts_u32x4_sub(k, k1);
    p = mts_f32x4_mul(p, mts_u32x4_as_f32(mts_u32x4_shl(mts_u32x4_add(k1, bias), 23)));
#if MTS_F32X4_FLUSHES_SUBNORMALS
    /* the results below 2^-126 (x < -87.34) */
    return mts_f32x4_scale_subnormal(p, mts_u32x4_shl(mts_u32x4_add(k2, bias), 23));
#else
    return mts_f32x4_mul(p, mts_u32x4_as_f32(mts_u32x4_shl(mts_u32x4_add(k2, bias), 23)));
#endif
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

    poly = mts_f32x4_fma(s, mts_f32x4_dup(MTS_TANH_T4), mts_f32x4_dup(MTS_TANH_T3));
    poly = mts_f32x4_fma(s, poly, mts_f32x4_dup(MTS_TANH_T2));
    poly = mts_f32x4_fma(s, poly, mts_f32x4_dup(MTS_TANH_T1));
    poly = mts_f32x4_fma(s, poly, mts_f32x4_dup(MTS_TANH_T0));
    small = mts_f32x4_fma(mts_f32x4_mul(a, s), poly, a);
    e = mts_expf_x4(mts_f32x4_mul(mts_f32x4_dup(-2.0f), a));
    big = mts_f32x4_div(mts_f32x4_sub(one, e), mts_f32x4_add(one, e));
    y = mts_f32x4_select(mts_f32x4_lt(a, mts_f32x4_dup(MTS_TANH_SMALL)), small, big);
#if MTS_F32X4_FLUSHES_SUBNORMALS
    /* tanh(a) = a for subnormal a (the scalar a + (a * s) * poly with a * s = 0) */
    y = mts_f32x4_select(mts_f32x4_lt(a, mts_f32x4_dup(MTS_F32_NORMAL_MIN)), a, y);
#endif
    return mts_u32x4_as_f32(mts_u32x4_or(mts_f32x4_bits(y), sign));
}
#endif /* MTS_F32X4 */

#endif /* MTSRNN_SIMD_F32X4_H */
