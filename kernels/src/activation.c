/* Public exp / sigmoid / tanh / rsqrt: thin wrappers over the branch-free
 * inline bodies in activation_inline.h (see there for the methods and
 * mtsrnn/activation.h for the measured error bounds). */
#include "mtsrnn/activation.h"
#include "activation_inline.h"

float mts_expf(float x) { return mts_expf_inline(x); }

float mts_logf(float x) { return mts_logf_inline(x); }

float mts_sigmoidf(float x) { return mts_sigmoidf_inline(x); }

float mts_tanhf(float x) { return mts_tanhf_inline(x); }

float mts_rsqrtf(float x) { return mts_rsqrtf_inline(x); }

/* The array forms are plain loops over the inline bodies, which GCC -O3
 * vectorises. No `restrict`: x == y (in place) is allowed, and each y[i]
 * depends only on x[i], so the element-by-element loop is correct for it;
 * the compiler's run-time alias check still lets the in-place case take the
 * vector path. Results are bit-identical to the scalar functions. */
void mts_vexpf(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; ++i)
        y[i] = mts_expf_inline(x[i]);
}

void mts_vsigmoidf(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; ++i)
        y[i] = mts_sigmoidf_inline(x[i]);
}

void mts_vtanhf(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; ++i)
        y[i] = mts_tanhf_inline(x[i]);
}
