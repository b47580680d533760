/* Private: branch-free single-precision exp, sigmoid, tanh and 1/sqrt.
 *
 * These are the bodies behind mtsrnn/activation.h. They are `static inline`
 * so the elementwise scan loops of the SRU/QRNN kernels can call them per
 * element and still auto-vectorise (GCC -O3): every special case and clamp
 * is a select (mts_sel_ below), which compiles to a compare + blend, never
 * a branch or an early return. All arithmetic is float (the Cortex-M4F FPU is single
 * precision only); no libm, no double, no tables, no writable statics.
 *
 * Bit casts go through memcpy (no strict-aliasing violation; compilers turn
 * it into a register move, also inside vectorised loops) and all integer
 * bit manipulation is on uint32_t, so wrap-around is defined even for the
 * garbage bits computed in lanes whose input is NaN (those lanes return NaN
 * through the float arithmetic whatever the integer part produced).
 *
 * The measured maximum errors are in mtsrnn/activation.h. Polynomial
 * coefficients were fitted for this project: discrete minimax of the
 * relative error (Lawson's iteratively re-weighted least squares on a dense
 * Chebyshev grid, 40-digit reference values, float64 solve), then rounded to
 * float32 one coefficient at a time from the lowest order up, re-fitting the
 * remaining ones after each rounding.
 */
#ifndef MTSRNN_ACTIVATION_INLINE_H
#define MTSRNN_ACTIVATION_INLINE_H

#include <stdint.h>

#include "bits.h"

/* c ? a : b as a bit-mask blend; every select below goes through it. With a
 * plain `c ? a : b`, GCC 12 sinks the computation of a and b into the arms
 * of a branch (or threads consecutive selects on related conditions into
 * nested branches), and with the default -ftrapping-math it then refuses to
 * if-convert the float ops back, so the loop is not vectorised except with
 * masked AVX-512. Using both values in integer ops keeps them unconditional
 * and the loop branch-free. */
static inline float mts_sel_(int c, float a, float b)
{
    uint32_t m = 0u - (uint32_t)c;
    return mts_u2f_((mts_f2u_(a) & m) | (mts_f2u_(b) & ~m));
}

/* exp(x) = 2^k * exp(r),  k = round(x / ln2),  r = x - k*ln2 in [-ln2/2, ln2/2].
 *
 * - k is rounded with the 1.5*2^23 "magic add": for |x*log2e| < 2^22 the sum
 *   has its integer part in the low mantissa bits, so k is read from the bits
 *   of the sum (no float-to-int conversion, hence no UB for any input).
 * - r = (x - k*LN2_HI) - k*LN2_LO (Cody-Waite): LN2_HI has 15 significant
 *   bits and |k| <= 150 has 8, so k*LN2_HI and the first subtraction are
 *   exact; only the last subtraction rounds (<= 2^-26 absolute, the main
 *   source of error next to the final roundings).
 * - exp(r) = 1 + (r + r^2 * q(r)), q of degree 4, relative error of the
 *   polynomial itself 3.1e-9 on |r| <= 0.3468.
 * - 2^k is applied as two factors 2^k1 * 2^k2 with k1 = floor(k/2),
 *   k2 = k - k1, both in [-75, 64] and so both normal floats built from
 *   exponent bits. A single 2^k would not be representable for k = 128 or
 *   k < -126. p * 2^k1 is exact; the second product rounds once, so results
 *   that land in the subnormal range are p * 2^k correctly rounded (exp(-100)
 *   is the right subnormal, not 0, given IEEE gradual underflow, i.e. no
 *   flush-to-zero mode), results below 2^-150 round to +0, and k = 128
 *   overflows to +inf.
 * - x is clamped to [-104, 88.8] first: exp(-104) < 2^-150 already rounds to 0
 *   and exp(88.8) overflows, so the clamp changes no result but keeps k in
 *   range for the magic add and the exponent-bit construction. Comparisons
 *   with NaN are false, so NaN passes the clamps and propagates through r.
 */
/* The constants are macros so that the 4-lane versions (simd_f32x4.h) use the
 * very same values. */
#define MTS_EXP_HI 88.8f
#define MTS_EXP_LO (-104.0f)
#define MTS_EXP_MAGIC 12582912.0f              /* 1.5 * 2^23 */
#define MTS_EXP_LOG2E 1.44269502163e+00f       /* 0x3fb8aa3b */
#define MTS_EXP_LN2_HI 6.93145751953e-01f      /* 0x3f317200, 15 bits */
#define MTS_EXP_LN2_LO 1.42860676533e-06f      /* 0x35bfbe8e */
#define MTS_EXP_C2 4.999999404e-01f            /* 0x3efffffe */
#define MTS_EXP_C3 1.666652113e-01f            /* 0x3e2aaa49 */
#define MTS_EXP_C4 4.166826606e-02f            /* 0x3d2aac58 */
#define MTS_EXP_C5 8.368677460e-03f            /* 0x3c091cc7 */
#define MTS_EXP_C6 1.382073388e-03f            /* 0x3ab526b0 */

static inline float mts_expf_inline(float x)
{
    const float magic = MTS_EXP_MAGIC;
    const float log2e = MTS_EXP_LOG2E;
    const float ln2_hi = MTS_EXP_LN2_HI;
    const float ln2_lo = MTS_EXP_LN2_LO;
    const float c2 = MTS_EXP_C2;
    const float c3 = MTS_EXP_C3;
    const float c4 = MTS_EXP_C4;
    const float c5 = MTS_EXP_C5;
    const float c6 = MTS_EXP_C6;
    float t, kf, r, r2, q, p;
    uint32_t k, k1, k2;

    x = mts_sel_(x > MTS_EXP_HI, MTS_EXP_HI, x);
    x = mts_sel_(x < MTS_EXP_LO, MTS_EXP_LO, x);

    t = x * log2e + magic;
    kf = t - magic;                            /* k as a float, exact */
    k = mts_f2u_(t) - mts_f2u_(magic);         /* k mod 2^32 */

    r = (x - kf * ln2_hi) - kf * ln2_lo;
    r2 = r * r;
    q = c2 + r * (c3 + r * (c4 + r * (c5 + r * c6)));
    p = 1.0f + (r + r2 * q);

    k1 = (k >> 1) | (k & 0x80000000u);         /* floor(k/2): arithmetic shift */
    k2 = k - k1;
    return (p * mts_u2f_((k1 + 127u) << 23)) * mts_u2f_((k2 + 127u) << 23);
}

/* sigmoid(x) = 1 / (1 + exp(-x)), evaluated as
 *     x >= -20:  1 / (1 + E),  E = exp(-x) <= exp(20) (never overflows),
 *     x <  -20:  E / (1 + E),  E = exp(x) < 2^-28, so 1 + E rounds to 1 and
 *                the result is exp(x) itself.
 * One exp and one division either way (the argument and the numerator are
 * selected). The second form keeps full relative accuracy down to the
 * subnormal range, where 1/(1 + exp(-x)) would collapse to 0 once exp(-x)
 * overflows (x < -88.7). Each form is a chain of monotone operations on a
 * monotone exp (correctly rounded +, / are monotone), so the result is
 * monotone in x; the tempting e/(1 + e), e = exp(-|x|), for all x < 0 is not:
 * there the rounding of 1 + e can step up faster than e and lower the
 * quotient by 1 ulp (it did for -1.95 < x < -0.69).
 * Error: exp's, plus the roundings of 1 + E and of the division.
 * sigmoid(+inf) = 1 and sigmoid(-inf) = 0 exactly; NaN propagates.
 */
#define MTS_SIGMOID_LO (-20.0f)

static inline float mts_sigmoidf_inline(float x)
{
    int lo = x < MTS_SIGMOID_LO;
    float e = mts_expf_inline(mts_sel_(lo, x, -x));
    float num = mts_sel_(lo, e, 1.0f);
    return num / (1.0f + e);
}

/* tanh(x) = sign(x) * tanh(|x|), with, for a = |x|:
 *     a <  0.625:  tanh(a) = a + a^3 * P(a^2)     (odd minimax polynomial,
 *                  P of degree 4, relative error 4.5e-9)
 *     a >= 0.625:  tanh(a) = (1 - e) / (1 + e),  e = exp(-2a) <= 0.2866.
 * The polynomial is needed near 0 because 1 - e cancels there (relative error
 * would grow like 1/a); from 0.625 on, e <= 0.287 and exp's error reaches the
 * result damped by 2e/(1 - e^2) <= 0.62. From a > 8.665 on, e <= 2^-25 and
 * both 1 - e and 1 + e round to 1, so the result saturates to exactly 1 (the
 * correctly rounded value is 1 from 9.01 on, 1 - 2^-24 just before: 1 ulp);
 * e underflows to 0 for a >= 52, giving 1 for +-inf too. Both branches are
 * computed and one is selected (the unused one may produce inf/NaN in its
 * lane, harmlessly). The sign is OR-ed back in from the bits of x, so
 * tanh(-0) = -0 and tanh is exactly odd; NaN fails a < 0.625 and propagates
 * through e.
 */
#define MTS_TANH_SMALL 0.625f
#define MTS_TANH_T0 (-3.333328068e-01f)        /* 0xbeaaaa99 */
#define MTS_TANH_T1 1.333140582e-01f           /* 0x3e08837b */
#define MTS_TANH_T2 (-5.373651534e-02f)        /* 0xbd5c1ad2 */
#define MTS_TANH_T3 2.062816732e-02f           /* 0x3ca8fc67 */
#define MTS_TANH_T4 (-5.692296661e-03f)        /* 0xbbba8672 */

static inline float mts_tanhf_inline(float x)
{
    const float t0 = MTS_TANH_T0;
    const float t1 = MTS_TANH_T1;
    const float t2 = MTS_TANH_T2;
    const float t3 = MTS_TANH_T3;
    const float t4 = MTS_TANH_T4;
    uint32_t ux = mts_f2u_(x);
    uint32_t sign = ux & 0x80000000u;
    float a = mts_u2f_(ux & 0x7fffffffu);
    float s = a * a;
    float small = a + (a * s) * (t0 + s * (t1 + s * (t2 + s * (t3 + s * t4))));
    float e = mts_expf_inline(-2.0f * a);
    float big = (1.0f - e) / (1.0f + e);
    float y = mts_sel_(a < MTS_TANH_SMALL, small, big);
    return mts_u2f_(mts_f2u_(y) | sign);
}

/* rsqrt(x) = 1 / sqrt(x), without a square root or a division:
 * - subnormal x is first scaled by 2^24 (exact) and the result by 2^12, so the
 *   initial guess sees a normal number;
 * - initial guess from the bits: halving the biased exponent approximates
 *   x^(-1/2) in the log domain; y0 = bits(M - bits(x)/2) with M = 0x5f37642f,
 *   which this project found by exhaustive search over [1, 4) to minimise the
 *   maximum relative error of y0 (3.42e-2);
 * - two Newton steps y <- y * (1.5 - (x/2) * y * y) (error 3.4e-2 -> 1.8e-3
 *   -> 4.6e-6), then one in correction form y <- y + y * ((1 - (x*y)*y) / 2)
 *   (-> 3e-11), where the small correction term carries the roundings so the
 *   result is within about 1.5 ulp. x*y ~ sqrt(x), so nothing overflows.
 * Special cases by select: +-0 -> +-inf (IEEE rSqrt), +inf -> +0,
 * x < 0 -> NaN, NaN -> NaN (propagates through the arithmetic).
 */
static inline float mts_rsqrtf_inline(float x)
{
    const float flt_min = 1.17549435e-38f;     /* 2^-126 */
    const float flt_max = 3.40282347e+38f;
    uint32_t inf_bits = 0x7f800000u;
    int sub = x < flt_min;                     /* also true for x <= 0 */
    float xs = x * mts_sel_(sub, 16777216.0f, 1.0f);     /* 2^24 */
    float h = 0.5f * xs;
    float y = mts_u2f_(0x5f37642fu - (mts_f2u_(xs) >> 1));
    float d;
    y = y * (1.5f - (h * y) * y);
    y = y * (1.5f - (h * y) * y);
    d = 1.0f - (xs * y) * y;
    y = y + y * (0.5f * d);
    y = y * mts_sel_(sub, 4096.0f, 1.0f);                /* 2^12 */
    y = mts_sel_(x > flt_max, 0.0f, y);
    y = mts_sel_(x == 0.0f, mts_u2f_(inf_bits | (mts_f2u_(x) & 0x80000000u)), y);
    y = mts_sel_(x < 0.0f, mts_u2f_(0x7fc00000u), y);
    return y;
}

/* log(x) = e * ln2 + log(m),  x = 2^e * m,  m in [sqrt(1/2), sqrt(2)):
 * - subnormal x is first scaled by 2^23 (exact; e corrected by -23);
 * - e and m come from the bits; m above sqrt(2) (mantissa bits above
 *   0x3504f3) is halved through its exponent bits and e incremented, so
 *   |m - 1| <= 0.4143;
 * - log(m) = 2 atanh(s) = 2 (s + s^3/3 + ... + s^11/11), s = (m-1)/(m+1),
 *   |s| <= 0.1716: the truncated series errs by < 2e-11; m - 1 is exact
 *   (Sterbenz), m + 1 and the division round once each;
 * - e * ln2 as e * LN2_HI (exact: 15 + 8 bits) + e * LN2_LO, the small parts
 *   summed first.
 * Special cases by select: +0 and -0 -> -inf, +inf -> +inf, x < 0 -> NaN,
 * NaN -> NaN. Error bound: MTS_LOGF_MAX_ABS_ERR (mtsrnn/activation.h). */
static inline float mts_logf_inline(float x)
{
    const float flt_min = 1.17549435e-38f;     /* 2^-126 */
    const float flt_max = 3.40282347e+38f;
    int sub = x < flt_min;                     /* also true for x <= 0 */
    float xs = x * mts_sel_(sub, 8388608.0f, 1.0f);      /* 2^23 */
    uint32_t bits = mts_f2u_(xs);
    uint32_t mant = bits & 0x007fffffu;
    uint32_t big = (uint32_t)(mant > 0x003504f3u);
    /* Exponent of m: 127 (m in [1, 2)) or 126 (halved, m in [0.5, 1)). */
    float m = mts_u2f_(mant | ((127u - big) << 23));
    float e = (float)(int32_t)(((bits >> 23) & 0xffu) + big) - 127.0f -
              mts_sel_(sub, 23.0f, 0.0f);
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float series = s2 * (0.333333333f +
                         s2 * (0.2f + s2 * (0.142857143f +
                                            s2 * (0.111111111f + s2 * 0.0909090909f))));
    float y = e * MTS_EXP_LN2_HI + ((e * MTS_EXP_LN2_LO + 2.0f * s * series) + 2.0f * s);
    uint32_t inf_bits = 0x7f800000u;
    y = mts_sel_(x > flt_max, mts_u2f_(inf_bits), y);
    y = mts_sel_(x == 0.0f, mts_u2f_(inf_bits | 0x80000000u), y);
    y = mts_sel_(x < 0.0f, mts_u2f_(0x7fc00000u), y);
    /* NaN's bits look like a large finite x to the split above. */
    y = mts_sel_(x != x, x, y);
    return y;
}

#endif /* MTSRNN_ACTIVATION_INLINE_H */
