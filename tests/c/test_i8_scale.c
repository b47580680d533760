/* The integer scaling of the Armv6-M int8 product (kernels/src/gemm/
 * i8_scale_soft.h) against the float expression it replaces,
 *
 *   y = (float)acc * (w_scale * x_scale)     (IEEE float32, round to nearest even)
 *
 * computed here by the machine's own float arithmetic (the host's SSE, the
 * M4F's and M55's FPU under QEMU, libgcc on the Armv6-M build), bit for bit:
 *   - every acc in [-2^24, 2^24] (every `stride`-th one under emulation)
 *     for a few scale pairs, among them ones whose product rounds;
 *   - edge cases: acc 0, +-1, +-(2^24 - 1), +-2^24 and beyond (the plain
 *     expression), scales zero, subnormal, FLT_MIN, FLT_MAX, inf, NaN,
 *     significands of all ones (rounding carries into the exponent);
 *   - random (acc, w_scale, x_scale), `count` of them: significands full or
 *     with only their top k bits set (products that are exact, ties, near
 *     ties), exponents anywhere or aimed so that the scale product or the
 *     result lands near FLT_MIN (subnormal on one side) or FLT_MAX (inf).
 * It also counts how many results were normal, subnormal, zero or inf, so
 * a run shows that every kind was reached.
 *
 *   test_i8_scale [count [stride]]      (defaults 8,000,000 and 1)
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/i8_scale_soft.h"

#include "check.h"

/* The expression under test's contract, through volatile so that the
 * compiler evaluates it at run time in float32 like the kernels do. */
static float expected(int32_t acc, float w_scale, float x_scale)
{
    volatile float w = w_scale, x = x_scale;
    volatile float s = w * x;
    volatile float a = (float)acc;
    return a * s;
}

enum { K_NORMAL, K_SUBNORMAL, K_ZERO, K_INF, K_NAN, K_COUNT };
static unsigned long kinds[K_COUNT];
static int reported;

static void one(int32_t acc, float w_scale, float x_scale)
{
    const float want = expected(acc, w_scale, x_scale);
    const float got = mtsi_i8_scale_soft(acc, w_scale, x_scale);
    const uint32_t uw = f2u(want), ug = f2u(got);
    const int same = uw == ug || (isnan(want) && isnan(got));
    switch (fpclassify(want)) {
    case FP_NORMAL: kinds[K_NORMAL]++; break;
    case FP_SUBNORMAL: kinds[K_SUBNORMAL]++; break;
    case FP_ZERO: kinds[K_ZERO]++; break;
    case FP_INFINITE: kinds[K_INF]++; break;
    default: kinds[K_NAN]++; break;
    }
    if (same) {
        passed++;
        return;
    }
    failed++;
    if (reported++ < 20)
        fprintf(stderr, "FAIL acc %ld w_scale %.9g (0x%08lx) x_scale %.9g (0x%08lx): got 0x%08lx, "
                "expected 0x%08lx\n", (long)acc, (double)w_scale, (unsigned long)f2u(w_scale),
                (double)x_scale, (unsigned long)f2u(x_scale), (unsigned long)ug,
                (unsigned long)uw);
}

/* A float of biased exponent e (0..255) and significand bits m. */
static float make(uint32_t sign, uint32_t e, uint32_t m)
{
    return u2f((sign << 31) | ((e & 0xffu) << 23) | (m & 0x7fffffu));
}

/* A random significand: full, its top k bits only (ties and exact
 * products), all ones, or all ones but the last few. */
static uint32_t random_significand(void)
{
    const uint32_t r = rng_u32();
    switch (r % 8u) {
    case 0: case 1: case 2: return rng_u32() & 0x7fffffu;
    case 3: case 4: {
        const uint32_t k = rng_u32() % 24u;
        return (rng_u32() & 0x7fffffu) & ~(0x7fffffu >> k);
    }
    case 5: return 0x7fffffu;
    case 6: return 0x7fffffu - (rng_u32() % 16u);
    default: return (rng_u32() % 4u) << (rng_u32() % 22u);
    }
}

/* A random acc: any magnitude below 2^24 (by its bit length), few set
 * bits, around +-(2^24 - 1), or (rarely) beyond 2^24. */
static int32_t random_acc(void)
{
    const uint32_t r = rng_u32();
    uint32_t n;
    switch (r % 8u) {
    case 0: case 1: case 2: n = rng_u32() & (0xffffffu >> (rng_u32() % 24u)); break;
    case 3: n = (rng_u32() % 8u) << (rng_u32() % 21u); break;
    case 4: n = 0xffffffu - (rng_u32() % 8u); break;
    case 5: n = rng_u32() % 4u; break;
    case 6: n = rng_u32() & 0x3fffffffu; break;
    default: n = rng_u32() % 0x1000000u; break;
    }
    return (r & 0x100u) ? -(int32_t)n : (int32_t)n;
}

static uint32_t bit_length(uint32_t n)
{
    uint32_t b = 0;
    while (n) {
        b++;
        n >>= 1;
    }
    return b;
}

static void random_case(void)
{
    const int32_t acc = random_acc();
    const uint32_t sw = rng_u32() & 1u, sx = rng_u32() & 1u;
    const uint32_t mw = random_significand(), mx = random_significand();
    uint32_t ew = 0, ex = 0;
    const uint32_t mode = rng_u32() % 8u;
    if (mode <= 1u) { /* anywhere, zeros, subnormals, inf and NaN included */
        ew = rng_u32() % 256u;
        ex = rng_u32() % 256u;
    } else if (mode <= 3u) { /* typical scales: 2^-20 .. 2^4 */
        ew = 107u + rng_u32() % 24u;
        ex = 107u + rng_u32() % 24u;
    } else { /* aimed: s or the result near the bottom or the top of the range */
        const int32_t target = (mode & 1u) ? 254 - (int32_t)(rng_u32() % 4u)
                                           : (int32_t)(rng_u32() % 4u);
        const uint32_t n = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc;
        const int32_t lg = mode >= 6u ? 0 : (int32_t)bit_length(n) - 1; /* 6, 7: aim s */
        ew = 1u + rng_u32() % 254u;
        int32_t e = target - (int32_t)ew + 127 - (lg > 0 ? lg : 0) + (int32_t)(rng_u32() % 5u) - 2;
        ex = e < 0 ? 0u : e > 255 ? 255u : (uint32_t)e;
    }
    one(acc, make(sw, ew, mw), make(sx, ex, mx));
}

int main(int argc, char **argv)
{
    const unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : 8000000ul;
    const int32_t stride = argc > 2 ? (int32_t)strtol(argv[2], NULL, 10) : 1;

    /* Every acc (or every stride-th and the ends) for a few scale pairs:
     * products exact (1 x 1, 0.5 x 3), rounding (1/3 x 0.1, 0.7 x 1.3),
     * significands of all ones, and a pair whose product is near FLT_MIN. */
    const float pairs[][2] = {
        {1.0f, 1.0f}, {0.5f, 3.0f}, {1.0f / 3.0f, 0.1f}, {0.7f, -1.3f},
        {0.99999994f, 1.99999988f}, {3.0e-5f, 2.0e-3f}, {1.2e-19f, 1.1e-19f},
    };
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
        for (int32_t a = -(1 << 24); a <= (1 << 24); a += (a > -40 && a < 40) ? 1 : stride)
            one(a, pairs[p][0], pairs[p][1]);

    /* Edge cases, every combination. */
    const int32_t accs[] = {0, 1, -1, 2, -2, 3, 0xffffff, -0xffffff, 0x800000, -0x800000,
                            0x800001, -0x800001, 0x1000000, -0x1000000, 0x1000001,
                            INT32_MAX, INT32_MIN, 127 * 128, -128 * 128 * 256};
    const float scales[] = {1.0f, -1.0f, 0.0f, -0.0f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX,
                            1.4e-45f, FLT_MIN * 0.5f, 0.99999994f, 1.99999988f,
                            1.5f, 2.5e-6f, 3.4e38f, 1.1754945e-38f, 1.0e-30f, 1.0e30f,
                            INFINITY, -INFINITY, NAN, 5.9604645e-8f, 1.6777215e7f};
    const size_t na = sizeof accs / sizeof accs[0], ns = sizeof scales / sizeof scales[0];
    for (size_t a = 0; a < na; a++)
        for (size_t i = 0; i < ns; i++)
            for (size_t j = 0; j < ns; j++)
                one(accs[a], scales[i], scales[j]);

    for (unsigned long k = 0; k < count; k++)
        random_case();

    printf("test_i8_scale: results normal %lu, subnormal %lu, zero %lu, inf %lu, nan %lu\n",
           kinds[K_NORMAL], kinds[K_SUBNORMAL], kinds[K_ZERO], kinds[K_INF], kinds[K_NAN]);
    CHECK(kinds[K_SUBNORMAL] > 0 && kinds[K_INF] > 0 && kinds[K_ZERO] > 0,
          "every kind of result reached");
    return check_summary("test_i8_scale");
}
