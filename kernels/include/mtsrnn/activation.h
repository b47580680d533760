/* Single-precision exp, sigmoid, tanh and 1/sqrt carried by mtsrnn itself.
 *
 * The kernels link no libm (firmware and MicroPython native modules cannot
 * link it cleanly) and use no double arithmetic (the FPUs of the small
 * Cortex-M cores are single precision only). These functions are
 * branch-free, so the elementwise loops that call their inline forms
 * vectorise; they handle every input: NaN in gives NaN out, infinities and
 * signed zeros give the limits listed below, subnormal inputs are handled
 * and subnormal results are produced (no flush-to-zero is assumed).
 *
 *   mts_expf(x)     = e^x.  exp(+inf) = +inf, exp(-inf) = +0, +inf from
 *                     x >= 88.72284 (just above ln(FLT_MAX)), subnormal
 *                     results below -87.34, +0 for x <= -103.97208.
 *                     Monotone non-decreasing over all floats (checked
 *                     exhaustively).
 *   mts_sigmoidf(x) = 1 / (1 + e^-x).  sigmoid(+inf) = 1, sigmoid(-inf) = +0,
 *                     sigmoid(+-0) = 0.5; exactly 1 for x > 16.6356, +0
 *                     for x <= -103.97208 (subnormal below -87.34).
 *                     Monotone non-decreasing over all floats (checked
 *                     exhaustively).
 *   mts_tanhf(x)    = (e^x - e^-x) / (e^x + e^-x).  Exactly odd (tanh(-x) is
 *                     -tanh(x) bit for bit, tanh(-0) = -0), exactly +-1 for
 *                     |x| > 8.6644 and +-inf. Monotone non-decreasing over all
 *                     floats (checked exhaustively).
 *   mts_logf(x)     = natural logarithm; log(+-0) = -inf, log(+inf) = +inf,
 *                     NaN for x < 0. Used once per frame by log-softmax.
 *   mts_rsqrtf(x)   = 1 / sqrt(x).  rsqrt(+0) = +inf, rsqrt(-0) = -inf (as
 *                     IEEE 754 rSqrt), rsqrt(+inf) = +0, NaN for x < 0.
 *   mts_v*f(n,x,y)  y[i] = f(x[i]) for i < n, bit-identical to the scalar
 *                     function. x == y (in place) is allowed; other overlap
 *                     is not.
 *
 * Error bounds. t is the exact result, y the returned one; "ulp" is
 * ulp(t) = 2^(max(floor(log2|t|), -126) - 23), the spacing of floats at the
 * magnitude of t. A returned +-inf is counted as +-2^128 when t is finite.
 * Each bound is the maximum measured over ALL 2^32 float inputs (exhaustive
 * run, with the kernels built both without and with FMA contraction:
 * gcc 12 -O3 -std=c99 and -std=gnu99 -march=native on x86-64), rounded up
 * with a margin of 5 to 9 %. tests/c/test_activation.c re-checks them.
 * They are double constants, meant for tests and documentation.
 *
 * Build the kernels without -ffast-math / -ffinite-math-only: the NaN, inf
 * and signed-zero handling relies on IEEE semantics, and subnormal results
 * need gradual underflow (no flush-to-zero mode).
 */
#ifndef MTSRNN_ACTIVATION_H
#define MTSRNN_ACTIVATION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* expf: relative error |y - t| / t for results in the normal range
 * (t >= FLT_MIN = 2^-126, i.e. x >= -87.34; measured 8.47e-8); absolute
 * error for subnormal or underflowing results (t < 2^-126; measured
 * 0.75 * 2^-149 = 1.05e-45, i.e. within 0.75 of the smallest subnormal);
 * error in ulp over all x (measured 1.013). */
#define MTS_EXPF_MAX_REL_ERR 9.0e-8
#define MTS_EXPF_MAX_SUBNORMAL_ABS_ERR 1.1e-45
#define MTS_EXPF_MAX_ULP_ERR 1.1

/* sigmoidf: relative error for results in the normal range (t >= 2^-126,
 * i.e. x >= -87.34; measured 1.48e-7); absolute error for subnormal or
 * underflowing results (x < -87.34; measured 1.05e-45, exp's); absolute
 * error over all x (measured 8.93e-8); error in ulp over all x (measured
 * 2.481). */
#define MTS_SIGMOIDF_MAX_REL_ERR 1.55e-7
#define MTS_SIGMOIDF_MAX_SUBNORMAL_ABS_ERR 1.1e-45
#define MTS_SIGMOIDF_MAX_ABS_ERR 9.4e-8
#define MTS_SIGMOIDF_MAX_ULP_ERR 2.6

/* tanhf: relative error over all finite x != 0, subnormal x included
 * (measured 1.51e-7; tanh(0) = 0 exactly); absolute error over all x
 * (measured 9.0e-8); error in ulp over all x (measured 1.511). */
#define MTS_TANHF_MAX_REL_ERR 1.6e-7
#define MTS_TANHF_MAX_ABS_ERR 9.5e-8
#define MTS_TANHF_MAX_ULP_ERR 1.6

/* rsqrtf: relative error for all positive finite x, normal and subnormal
 * (measured 9.72e-8; the results are always normal); error in ulp over the
 * same x (measured 1.219). */
#define MTS_RSQRTF_MAX_REL_ERR 1.03e-7
#define MTS_RSQRTF_MAX_ULP_ERR 1.3

/* logf (log-softmax): absolute error where |t| < 1 (measured 7.47e-8);
 * relative error where |t| >= 1 (measured 1.05e-7); both over ALL positive
 * finite floats, normal and subnormal (exhaustive run, gcc 12 -O2, x86-64),
 * rounded up by about 7 %. log(+-0) = -inf, log(+inf) = +inf, NaN for
 * x < 0 and NaN. tests/c/test_activation.c re-checks them on a sample. */
#define MTS_LOGF_MAX_ABS_ERR 8.0e-8
#define MTS_LOGF_MAX_REL_ERR 1.13e-7

float mts_expf(float x);
float mts_logf(float x);
float mts_sigmoidf(float x);
float mts_tanhf(float x);
/* 1/sqrt(x), used by layer norm. */
float mts_rsqrtf(float x);
/* y[i] = exp(x[i]) for i < n; x == y allowed. */
void mts_vexpf(size_t n, const float *x, float *y);
/* y[i] = sigmoid(x[i]) for i < n; x == y allowed. */
void mts_vsigmoidf(size_t n, const float *x, float *y);
/* y[i] = tanh(x[i]) for i < n; x == y allowed. */
void mts_vtanhf(size_t n, const float *x, float *y);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_ACTIVATION_H */
