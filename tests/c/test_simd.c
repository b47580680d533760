/* The 4-lane activations of kernels/src/simd_f32x4.h (what the SRU/QRNN
 * scans call with a SIMD backend) against the scalar inline functions of
 * activation_inline.h, whose errors test_activation measures:
 * every lane must give the scalar function's exact bits (NaN: both NaN).
 *
 *   test_simd [STRIDE]
 *
 * Sweeps all 2^32 float bit patterns with STRIDE (default 421, a prime:
 * 10.2 M values per function; 1 is exhaustive), each vector holding four
 * different inputs so lane mix-ups show, plus special values (zeros,
 * infinities, NaN, subnormals, the thresholds of the branches). Built twice:
 * test_simd with the build's backend (MTSRNN_SIMD; exits 77, "skipped", when
 * the target has none) and test_simd_generic with the plain-C backend, so
 * the vector code is checked on every host. Compiled with the kernels'
 * flags (-ffp-contract=fast), as the scans are. Last line:
 * "simd: N passed, N failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd_f32x4.h"

#include "check.h"

#if MTS_F32X4

enum { F_EXP, F_SIGMOID, F_TANH, F_COUNT };
static const char *const fname[F_COUNT] = {"expf", "sigmoidf", "tanhf"};

static long mismatches[F_COUNT], values[F_COUNT];

/* Not inlined, so the compiler cannot vectorise the reference across the
 * lanes of check4: GCC 12 contracts a * b + c into FMAs in scalar code but
 * not in code it auto-vectorises for MVE (Cortex-M55), which would make the
 * reference itself round differently. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static float scalar(int fn, float x)
{
    switch (fn) {
    case F_EXP: return mts_expf_inline(x);
    case F_SIGMOID: return mts_sigmoidf_inline(x);
    default: return mts_tanhf_inline(x);
    }
}

static mts_f32x4 vector(int fn, mts_f32x4 x)
{
    switch (fn) {
    case F_EXP: return mts_expf_x4(x);
    case F_SIGMOID: return mts_sigmoidf_x4(x);
    default: return mts_tanhf_x4(x);
    }
}

/* Four inputs through the vector function, each lane against the scalar. */
static void check4(int fn, const float x[4])
{
    float y[4];
    mts_f32x4_store(y, vector(fn, mts_f32x4_load(x)));
    for (int l = 0; l < 4; l++) {
        const float want = scalar(fn, x[l]);
        const int same = f2u(y[l]) == f2u(want) || (y[l] != y[l] && want != want);
        values[fn]++;
        if (!same) {
            if (mismatches[fn] < 5)
                printf("FAIL: %s lane %d x = %a (0x%08x): vector %a, scalar %a\n", fname[fn], l,
                       (double)x[l], (unsigned)f2u(x[l]), (double)y[l], (double)want);
            mismatches[fn]++;
        }
    }
}

static void sweep(int fn, uint64_t stride)
{
    /* lane l takes the values start + l * quarter: far apart in magnitude */
    const uint64_t quarter = 1ull << 30;
    for (uint64_t bits = 0; bits < quarter; bits += stride) {
        float x[4];
        for (int l = 0; l < 4; l++)
            x[l] = u2f((uint32_t)(bits + (uint64_t)l * quarter));
        check4(fn, x);
    }
}

static void special_values(int fn)
{
    static const uint32_t special[] = {
        0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u,
        0x7f800001u, 0x00000001u, 0x80000001u, 0x007fffffu, 0x00800000u, 0x7f7fffffu,
        0xff7fffffu, 0x3f800000u, 0xbf800000u,
    };
    static const float thresholds[] = {
        MTS_EXP_HI, MTS_EXP_LO, MTS_SIGMOID_LO, -MTS_SIGMOID_LO, MTS_TANH_SMALL,
        -MTS_TANH_SMALL, 88.72284f, -87.34f, -103.97208f, 16.6356f, 8.6644f, 9.01f, 52.0f,
        -88.7f, 0.5f * MTS_TANH_SMALL,
    };
    const size_t n_special = sizeof special / sizeof special[0];
    const size_t n_thresholds = sizeof thresholds / sizeof thresholds[0];
    for (size_t i = 0; i < n_special; i++)
        for (size_t j = 0; j < n_special; j += 3) {
            const float x[4] = {u2f(special[i]), u2f(special[j]),
                                u2f(special[(i + j) % n_special]), -u2f(special[i])};
            check4(fn, x);
        }
    /* 64 floats on each side of each threshold, in both signs */
    for (size_t i = 0; i < n_thresholds; i++) {
        const uint32_t b = f2u(thresholds[i]);
        for (uint32_t k = 0; k < 128; k += 2) {
            const float x[4] = {u2f(b - 64u + k), u2f(b - 63u + k),
                                -u2f(b - 64u + k), -u2f(b - 63u + k)};
            check4(fn, x);
        }
    }
}

int main(int argc, char **argv)
{
    const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 421u;
    if (stride == 0) {
        fprintf(stderr, "usage: test_simd [STRIDE >= 1]\n");
        return 2;
    }
    printf("# backend %s, stride %llu\n", MTS_F32X4_BACKEND, (unsigned long long)stride);
    for (int fn = 0; fn < F_COUNT; fn++) {
        sweep(fn, stride);
        special_values(fn);
        printf("# %-8s %ld values, %ld differ from the scalar function\n", fname[fn], values[fn],
               mismatches[fn]);
        CHECK(mismatches[fn] == 0, "%s: %ld of %ld values differ from the scalar function",
              fname[fn], mismatches[fn], values[fn]);
    }
    return check_summary("simd");
}

#else

int main(void)
{
    printf("simd: this target has no 4-lane backend (MTSRNN_SIMD=none or no SIMD): skipped\n");
    return 77;
}

#endif
