/* C tests of the int8 products and the per-step activation quantiser
 * (docs/quantization.md), against expectations computed here independently
 * in double precision (a float32 operation is replayed as the double result
 * rounded to float, which is exact for one +, *, / of floats):
 *   - mts_quantize_rows_i8 bit-exact, including ties, zero, tiny and
 *     non-finite rows;
 *   - every int8 x int8 variant bit-exact (int32 sums; with unit scales
 *     the output is the accumulator itself), every int8-w variant within
 *     a float32 rounding bound;
 *   - each variant bit-identical across block sizes T;
 *   - guard values around every output to catch stray writes (and ASan);
 *   - quantised model descriptors: validation status codes, and forward
 *     runs with exactly the workspace the size query asks for (ASan checks
 *     the int8 scratch), bit-identical across block sizes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"
#include "mtsrnn/quantize.h"

#include "check.h"

static int8_t rng_i8(void)
{
    return (int8_t)((int)(rng_u32() % 255u) - 127);
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

#define GUARD 4
static const float guard_value = -12345.0f;

/* ---- the quantiser ------------------------------------------------------ */

/* Expected Xq and x_scale of one row, from the arithmetic in
 * docs/quantization.md, in double with explicit rounding to float. */
static void expected_quantize(size_t depth, const float *x, int8_t *q, float *scale)
{
    double absmax = 0.0;
    int finite = 1;
    for (size_t i = 0; i < depth; i++) {
        if (!isfinite(x[i]))
            finite = 0;
        else if (fabs(x[i]) > absmax)
            absmax = fabs(x[i]);
    }
    if (!finite || absmax < ldexp(1.0, -96)) {
        for (size_t i = 0; i < depth; i++)
            q[i] = 0;
        *scale = 0.0f;
        return;
    }
    float inv = (float)(127.0 / absmax);
    for (size_t i = 0; i < depth; i++) {
        double v = (double)(float)((double)x[i] * (double)inv);
        v = fmin(fmax(v, -127.0), 127.0);
        q[i] = (int8_t)nearbyint(v);   /* default rounding: ties to even */
    }
    *scale = (float)(absmax / 127.0);
}

static void check_quantize_row(size_t depth, const float *x, const char *what)
{
    int8_t q[GUARD + 64 + GUARD], want[64];
    float scale[3] = {guard_value, guard_value, guard_value}, want_scale;
    memset(q, 0x5A, sizeof q);
    mts_quantize_rows_i8(1, depth, x, depth, q + GUARD, depth, scale + 1);
    expected_quantize(depth, x, want, &want_scale);
    int bad = 0;
    for (size_t i = 0; i < depth; i++)
        bad += q[GUARD + i] != want[i];
    CHECK(bad == 0, "%s: %d of %lu values differ", what, bad, (unsigned long)depth);
    CHECK(same_bits(scale[1], want_scale), "%s: scale %.9g, expected %.9g", what,
          (double)scale[1], (double)want_scale);
    CHECK(same_bits(scale[0], guard_value) && same_bits(scale[2], guard_value),
          "%s: wrote outside x_scale", what);
    int guards = 0;
    for (size_t i = 0; i < GUARD; i++)
        guards += (q[i] != 0x5A) + (q[GUARD + depth + i] != 0x5A);
    CHECK(guards == 0, "%s: wrote outside the row", what);
}

static void test_quantize(void)
{
    float x[64];
    /* Exact ties: a_t = 127 gives inv = 1, so X itself is rounded. */
    const float ties[] = {127.0f, 0.5f, 1.5f, 2.5f, -2.5f, -3.5f, 126.5f, -126.5f, 0.49999997f};
    check_quantize_row(sizeof ties / sizeof ties[0], ties, "ties");
    {
        int8_t q[9];
        float s;
        mts_quantize_rows_i8(1, 9, ties, 9, q, 9, &s);
        const int8_t want[] = {127, 0, 2, 2, -2, -4, 126, -126, 0};
        CHECK(memcmp(q, want, sizeof want) == 0, "ties to even: got %d %d %d %d %d %d",
              q[1], q[2], q[3], q[4], q[5], q[6]);
    }
    for (size_t i = 0; i < 64; i++)
        x[i] = 0.0f;
    check_quantize_row(64, x, "zeros");
    x[17] = 1e-30f;
    check_quantize_row(64, x, "tiny (below 2^-96)");
    x[17] = 1e-28f;
    x[3] = -3e-29f;
    check_quantize_row(64, x, "small (above 2^-96)");
    x[3] = 0.0f;
    x[17] = ldexpf(1.0f, -96);
    check_quantize_row(64, x, "a_t = 2^-96 (quantised)");
    x[17] = nextafterf(ldexpf(1.0f, -96), 0.0f);
    check_quantize_row(64, x, "a_t one ulp below 2^-96 (zeros)");
    x[5] = NAN;
    check_quantize_row(64, x, "NaN");
    x[5] = -INFINITY;
    check_quantize_row(64, x, "-inf");
    x[5] = 3.4028235e38f;
    check_quantize_row(64, x, "FLT_MAX");
    for (int round = 0; round < 2000; round++) {
        size_t depth = 1 + rng_u32() % 64;
        float bound = ldexpf(1.0f, (int)(rng_u32() % 40) - 20);
        for (size_t i = 0; i < depth; i++)
            x[i] = rng_uniform(bound);
        check_quantize_row(depth, x, "random");
    }
}

static float float_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Rows that probe the quantiser's bit tricks (integer abs-max over bit
 * patterns, rounding by the bits of a magic sum, no clamp): values of any
 * bit pattern; a_t = 127 * 2^k with entries at exact ties m/2 * 2^k and at
 * their float neighbours, where a product fused with the magic add (FMA
 * contraction) or a wrong rounding shows; tiny, subnormal and huge rows;
 * rows with NaN or inf in any position. */
static void test_quantize_bit_patterns(void)
{
    float x[64];
    for (int round = 0; round < 3000; round++) {
        const int kind = round % 5;
        const size_t depth = 1 + rng_u32() % 64;
        const float scale = ldexpf(1.0f, (int)(rng_u32() % 200) - 100);
        for (size_t i = 0; i < depth; i++) {
            const float tie = (float)((int)(rng_u32() % 509) - 254) * 0.5f * scale;
            uint32_t u;
            switch (kind) {
            case 0: /* any pattern (NaN and inf included) */
                u = rng_u32();
                break;
            case 1: /* exact ties */
                memcpy(&u, &tie, sizeof u);
                break;
            case 2: /* neighbours of ties */
                memcpy(&u, &tie, sizeof u);
                u = tie == 0.0f ? u : u + (rng_u32() % 3) - 1;
                break;
            case 3: /* tiny and subnormal: exponent field 0 .. 39 */
                u = (rng_u32() & 0x807fffffu) | ((rng_u32() % 40) << 23);
                break;
            default: /* 12 binades around 2^(e - 127) */
                u = (rng_u32() & 0x807fffffu) | ((uint32_t)(100 + rng_u32() % 60) << 23);
                break;
            }
            x[i] = float_from_bits(u);
        }
        if (kind == 1 || kind == 2)
            x[rng_u32() % depth] = (rng_u32() & 1 ? 127.0f : -127.0f) * scale;
        if (kind == 4 && rng_u32() % 8 == 0)
            x[rng_u32() % depth] =
                float_from_bits(0x7f800000u | (rng_u32() % 4 == 0 ? rng_u32() : 0u));
        check_quantize_row(depth, x, kind == 0 ? "bit patterns" : kind < 3 ? "ties" : "binades");
    }
}

/* ---- the products ------------------------------------------------------- */

typedef struct problem {
    size_t rows, depth, steps, w_stride, x_stride, y_stride;
    int8_t *w;
    float *w_scale;
    float *x;
    int8_t *xq;
    float *x_scale;
    int8_t *w_block, *xq_block; /* what to free after move_to_odd_addresses */
} problem;

static void make_problem(problem *p, size_t rows, size_t depth, size_t steps, int unit_scales)
{
    p->rows = rows;
    p->depth = depth;
    p->steps = steps;
    p->w_stride = depth + rng_u32() % 3;
    p->x_stride = depth + rng_u32() % 3;
    p->y_stride = rows + rng_u32() % 3;
    p->w = malloc(rows * p->w_stride);
    p->w_scale = malloc(rows * sizeof(float));
    p->x = malloc(steps * p->x_stride * sizeof(float));
    p->xq = malloc(steps * p->x_stride);
    p->x_scale = malloc(steps * sizeof(float));
    p->w_block = p->xq_block = NULL;
    for (size_t i = 0; i < rows * p->w_stride; i++)
        p->w[i] = rng_i8();
    for (size_t i = 0; i < steps * p->x_stride; i++) {
        p->x[i] = rng_uniform(2.0f);
        p->xq[i] = rng_i8();
    }
    for (size_t r = 0; r < rows; r++)
        p->w_scale[r] = unit_scales ? 1.0f : rng_uniform(0.01f);
    for (size_t t = 0; t < steps; t++)
        p->x_scale[t] = unit_scales ? 1.0f : rng_uniform(0.05f);
}

static void free_problem(problem *p)
{
    free(p->w_block ? p->w_block : p->w);
    free(p->w_scale);
    free(p->x);
    free(p->xq_block ? p->xq_block : p->xq);
    free(p->x_scale);
}

/* Wq and Xq moved to odd addresses (malloc's are aligned), so that rows
 * start at every alignment whatever the strides. */
static void move_to_odd_addresses(problem *p)
{
    size_t w_bytes = p->rows * p->w_stride, xq_bytes = p->steps * p->x_stride;
    p->w_block = malloc(w_bytes + 1);
    p->xq_block = malloc(xq_bytes + 1);
    memcpy(p->w_block + 1, p->w, w_bytes);
    memcpy(p->xq_block + 1, p->xq, xq_bytes);
    free(p->w);
    free(p->xq);
    p->w = p->w_block + 1;
    p->xq = p->xq_block + 1;
}

static float *new_output(const problem *p)
{
    size_t n = p->steps * p->y_stride + 2 * GUARD;
    float *y = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        y[i] = guard_value;
    return y;
}

/* Entries that are not outputs (padding and guards) keep guard_value. */
static int stray_writes(const problem *p, const float *y)
{
    int stray = 0;
    for (size_t i = 0; i < p->steps * p->y_stride + 2 * GUARD; i++) {
        size_t k = i - GUARD;
        int is_output = i >= GUARD && k < p->steps * p->y_stride && k % p->y_stride < p->rows;
        if (!is_output && !same_bits(y[i], guard_value))
            stray++;
    }
    return stray;
}

static float expected_i8i8(const problem *p, size_t t, size_t r)
{
    int64_t acc = 0;
    for (size_t i = 0; i < p->depth; i++)
        acc += (int64_t)p->w[r * p->w_stride + i] * p->xq[t * p->x_stride + i];
    float scale = (float)((double)p->w_scale[r] * (double)p->x_scale[t]);
    return (float)((double)(float)acc * (double)scale);
}

static void check_i8i8(const mts_gemm_i8i8_variant *v, const problem *p, const char *what)
{
    float *y = new_output(p);
    v->fn(p->rows, p->depth, p->steps, p->w, p->w_stride, p->w_scale,
          p->xq, p->x_stride, p->x_scale, y + GUARD, p->y_stride);
    int bad = 0;
    for (size_t t = 0; t < p->steps; t++)
        for (size_t r = 0; r < p->rows; r++)
            bad += !same_bits(y[GUARD + t * p->y_stride + r], expected_i8i8(p, t, r));
    CHECK(bad == 0, "i8i8 %s %s (%lu x %lu x %lu): %d outputs differ", v->name, what,
          (unsigned long)p->rows, (unsigned long)p->depth, (unsigned long)p->steps, bad);
    CHECK(stray_writes(p, y) == 0, "i8i8 %s: stray writes", v->name);

    /* Block-size invariance: steps in blocks of T give the same bits. */
    static const size_t blocks[] = {1, 2, 3, 5, 16};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        float *yb = new_output(p);
        for (size_t t0 = 0; t0 < p->steps; t0 += blocks[b]) {
            size_t n = p->steps - t0 < blocks[b] ? p->steps - t0 : blocks[b];
            v->fn(p->rows, p->depth, n, p->w, p->w_stride, p->w_scale,
                  p->xq + t0 * p->x_stride, p->x_stride, p->x_scale + t0,
                  yb + GUARD + t0 * p->y_stride, p->y_stride);
        }
        CHECK(memcmp(y, yb, (p->steps * p->y_stride + 2 * GUARD) * sizeof(float)) == 0,
              "i8i8 %s (%lu x %lu x %lu): T = %lu differs from one call", v->name,
              (unsigned long)p->rows, (unsigned long)p->depth, (unsigned long)p->steps,
              (unsigned long)blocks[b]);
        free(yb);
    }
    free(y);
}

static void check_i8f32(const mts_gemm_i8f32_variant *v, const problem *p)
{
    float *y = new_output(p);
    v->fn(p->rows, p->depth, p->steps, p->w, p->w_stride, p->w_scale,
          p->x, p->x_stride, y + GUARD, p->y_stride);
    int bad = 0;
    double worst = 0.0;
    for (size_t t = 0; t < p->steps; t++) {
        for (size_t r = 0; r < p->rows; r++) {
            double sum = 0.0, magnitude = 0.0;
            for (size_t i = 0; i < p->depth; i++) {
                double term = (double)p->w[r * p->w_stride + i] * (double)p->x[t * p->x_stride + i];
                sum += term;
                magnitude += fabs(term);
            }
            double want = (double)p->w_scale[r] * sum;
            /* float32 summation: at most depth roundings of partial sums
             * bounded by `magnitude`, plus the scaling. */
            double bound = fabs((double)p->w_scale[r]) * magnitude *
                           (double)(p->depth + 2) * 6.0e-8 + 1e-30;
            double err = fabs((double)y[GUARD + t * p->y_stride + r] - want);
            if (err > bound)
                bad++;
            if (err / bound > worst)
                worst = err / bound;
        }
    }
    CHECK(bad == 0, "i8f32 %s (%lu x %lu x %lu): %d outputs off, worst %.3g of the bound",
          v->name, (unsigned long)p->rows, (unsigned long)p->depth, (unsigned long)p->steps, bad,
          worst);
    CHECK(stray_writes(p, y) == 0, "i8f32 %s: stray writes", v->name);

    /* Nor on where a row falls in a tile: each row alone, same bits. */
    float *y_row = new_output(p);
    for (size_t r = 0; r < p->rows; r++)
        v->fn(1, p->depth, p->steps, p->w + r * p->w_stride, p->w_stride, p->w_scale + r,
              p->x, p->x_stride, y_row + GUARD + r, p->y_stride);
    CHECK(memcmp(y, y_row, (p->steps * p->y_stride + 2 * GUARD) * sizeof(float)) == 0,
          "i8f32 %s (%lu x %lu x %lu): a row alone differs from its place in a tile",
          v->name, (unsigned long)p->rows, (unsigned long)p->depth, (unsigned long)p->steps);
    free(y_row);

    /* Bit-identical across block sizes, and against the reference variant
     * only within the bound above (other summation orders). */
    static const size_t blocks[] = {1, 2, 3, 5, 16};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        float *yb = new_output(p);
        for (size_t t0 = 0; t0 < p->steps; t0 += blocks[b]) {
            size_t n = p->steps - t0 < blocks[b] ? p->steps - t0 : blocks[b];
            v->fn(p->rows, p->depth, n, p->w, p->w_stride, p->w_scale,
                  p->x + t0 * p->x_stride, p->x_stride, yb + GUARD + t0 * p->y_stride,
                  p->y_stride);
        }
        CHECK(memcmp(y, yb, (p->steps * p->y_stride + 2 * GUARD) * sizeof(float)) == 0,
              "i8f32 %s (%lu x %lu x %lu): T = %lu differs from one call", v->name,
              (unsigned long)p->rows, (unsigned long)p->depth, (unsigned long)p->steps,
              (unsigned long)blocks[b]);
        free(yb);
    }
    free(y);
}

/* Every int8-wa variant built on `p`. */
static void check_every_i8i8(const problem *p, const char *what)
{
    for (size_t v = 0; v < mts_gemm_i8i8_variant_count; v++)
        if (mts_cpu_supports(mts_gemm_i8i8_variants[v].requires))
            check_i8i8(&mts_gemm_i8i8_variants[v], p, what);
}

/* Every variant built, of both schemes, on `p`. */
static void check_every_variant(const problem *p, const char *what)
{
    check_every_i8i8(p, what);
    for (size_t v = 0; v < mts_gemm_i8f32_variant_count; v++)
        if (mts_cpu_supports(mts_gemm_i8f32_variants[v].requires))
            check_i8f32(&mts_gemm_i8f32_variants[v], p);
}

static void test_products(void)
{
    static const size_t shapes[][3] = {
        {1, 1, 1}, {1, 7, 1}, {3, 8, 2}, {4, 9, 4}, {5, 16, 5}, {7, 17, 9},
        {8, 33, 16}, {9, 64, 3}, {13, 100, 7}, {16, 257, 17}, {3, 1040, 5},
        {6, 70, 6}, {5, 130, 10},
        /* more than 8 KB of weights and more than 6 steps: products that
         * walk the rows in blocks (the Cortex-M dsp product) cut them */
        {70, 300, 13}, {5, 3000, 9},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int unit = 0; unit <= 1; unit++) {
            problem p;
            make_problem(&p, shapes[s][0], shapes[s][1], shapes[s][2], unit);
            check_every_variant(&p, unit ? "unit scales (accumulators)" : "random scales");
            free_problem(&p);
        }
    }
    /* Extremes: every product +-127 * +-127 at the deepest depth tested. */
    problem p;
    make_problem(&p, 5, 1040, 3, 1);
    for (size_t i = 0; i < p.rows * p.w_stride; i++)
        p.w[i] = (int8_t)((i & 1) ? -127 : 127);
    for (size_t i = 0; i < p.steps * p.x_stride; i++)
        p.xq[i] = (int8_t)((i & 1) ? -127 : 127);
    check_every_i8i8(&p, "extremes");
    free_problem(&p);
    CHECK((double)MTS_I8_MAX_DEPTH * 127.0 * 127.0 <= 2147483647.0 &&
              (double)(MTS_I8_MAX_DEPTH + 1) * 127.0 * 127.0 > 2147483647.0,
          "MTS_I8_MAX_DEPTH is the largest depth whose sums fit in int32");
}

/* Every depth in [first, last] at each (rows, steps) shape, int8 rows at
 * odd addresses, through every variant. */
static void check_tail_sweep(size_t first, size_t last, const size_t (*shapes)[2],
                             size_t num_shapes, const char *what)
{
    for (size_t depth = first; depth <= last; depth++) {
        for (size_t s = 0; s < num_shapes; s++) {
            problem p;
            make_problem(&p, shapes[s][0], depth, shapes[s][1], (int)(depth % 2));
            move_to_odd_addresses(&p);
            check_every_variant(&p, what);
            free_problem(&p);
        }
    }
}

/* The tails of every tile shape: each depth % 16 (SIMD chunks of 16, 8 and 4
 * inputs) with row and step counts around the tile sizes, then each
 * depth % 64 (the 32- and 64-byte chunks of the x86 products) around their
 * tiles (6 rows x 4 steps, 8 x 1 for one step), int8 rows at odd
 * addresses, and extremes whose partial sums overflow any int16
 * intermediate (every product +16129, or every product -16129), and on
 * 64-bit hosts up to the deepest product int8-wa allows, whose sums come
 * within 4096 of the int32 limits (an offset-binary sum such as VNNI's
 * wraps there). */
static void test_product_tails(void)
{
    static const size_t shapes[][2] = {{1, 1}, {2, 3}, {3, 2}, {4, 1}, {5, 7}, {7, 13},
                                       {3, 6}, {2, 10}};
    check_tail_sweep(1, 48, shapes, sizeof shapes / sizeof shapes[0], "tails, odd addresses");
    static const size_t wide_shapes[][2] = {{1, 1}, {6, 4}, {7, 5}, {9, 1}, {13, 9}};
    check_tail_sweep(49, 129, wide_shapes, sizeof wide_shapes / sizeof wide_shapes[0],
                     "64-byte tails, odd addresses");
    /* Subnormal scale products (w_scale * x_scale = 2^-140 .. 2^-139):
     * the reference's scalar IEEE arithmetic keeps them, a flush-to-zero
     * path (MVE float, armv7 NEON) would not. */
    {
        problem p;
        make_problem(&p, 9, 37, 7, 0);
        for (size_t r = 0; r < p.rows; r++)
            p.w_scale[r] = ldexpf(1.0f + (float)r / 16.0f, -70);
        for (size_t t = 0; t < p.steps; t++)
            p.x_scale[t] = ldexpf(1.0f + (float)t / 16.0f, -70);
        check_every_i8i8(&p, "subnormal scale products");
        free_problem(&p);
    }
    /* Scales on both sides of the Helium product's test for its MVE
     * scaling (no scale, scale product or output subnormal, nothing
     * infinite or NaN): every row's w_scale and every step's x_scale, then
     * row 3's and step 2's; KEEP leaves make_problem's random scale. */
    {
#define KEEP 12345.0f
        static const struct {
            float w, w3, x, x2;
            const char *what;
        } cases[] = {
            {0x1p-130f, 0x1p-130f, 0x1p20f, 0x1p20f, "subnormal w_scale, normal products"},
            {0x1p20f, 0x1p20f, 0x1p-130f, 0x1p-130f, "subnormal x_scale, normal products"},
            {0x1p-10f, 0x1p-120f, 0x1p-10f, 0x1p-10f, "one subnormal scale product"},
            {-0x1p-63f, -0x1p-63f, 0x1p-63f, 0x1p-63f, "scale products FLT_MIN"},
            {-0x1.fffffep-64f, 0x1p-63f, 0x1p-63f, 0x1p-63f,
             "scale products rounding up to FLT_MIN"},
            {0x1.000002p-63f, 0x1.000002p-63f, -0x1p-63f, -0x1p-63f,
             "scale products just above FLT_MIN"},
            {0.0f, 0.0f, 0.0f, 0.0f, "all scales zero"},
            {0.0f, 0.0f, KEEP, INFINITY, "zero w_scale, an infinite x_scale"},
            {KEEP, 0.0f, KEEP, -0.0f, "some scales zero"},
            {0x1p60f, 0x1p60f, 0x1p60f, 0x1p60f, "infinite outputs"},
            {0x1p100f, 0x1p100f, 0x1p30f, 0x1p30f, "infinite scale products"},
            {KEEP, KEEP, KEEP, INFINITY, "an infinite x_scale"},
            {KEEP, NAN, KEEP, KEEP, "a NaN w_scale"},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            problem p;
            make_problem(&p, 9, 37, 7, 0);
            for (size_t r = 0; r < p.rows; r++) {
                const float s = r == 3 ? cases[c].w3 : cases[c].w;
                p.w_scale[r] = s == KEEP ? p.w_scale[r] : s;
            }
            for (size_t t = 0; t < p.steps; t++) {
                const float s = t == 2 ? cases[c].x2 : cases[c].x;
                p.x_scale[t] = s == KEEP ? p.x_scale[t] : s;
            }
            check_every_i8i8(&p, cases[c].what);
            free_problem(&p);
        }
#undef KEEP
    }
    for (int sign = -1; sign <= 1; sign += 2) {
        problem p;
        make_problem(&p, 7, 1055, 5, 1);
        move_to_odd_addresses(&p);
        memset(p.w, 127, p.rows * p.w_stride);
        memset(p.xq, sign * 127, p.steps * p.x_stride);
        check_every_i8i8(&p, "extremes of one sign");
        free_problem(&p);
#if SIZE_MAX > UINT32_MAX
        /* ~1.6 MB, more than the Cortex-M test boards' RAM; the wrap it
         * probes is that of the x86-64 VNNI product. */
        make_problem(&p, 3, MTS_I8_MAX_DEPTH, 2, 1);
        move_to_odd_addresses(&p);
        memset(p.w, 127, p.rows * p.w_stride);
        memset(p.xq, sign * 127, p.steps * p.x_stride);
        check_every_i8i8(&p, "extremes of one sign, deepest");
        free_problem(&p);
#endif
    }
}

/* The quantiser and the int8 product together equal the formula of scheme
 * int8-wa applied to float inputs. */
static void test_int8_wa_pipeline(void)
{
    problem p;
    make_problem(&p, 6, 50, 7, 0);
    for (size_t r = 0; r < p.rows; r++)
        p.w_scale[r] = fabsf(p.w_scale[r]);
    mts_quantize_rows_i8(p.steps, p.depth, p.x, p.x_stride, p.xq, p.x_stride, p.x_scale);
    int8_t want_q[50];
    float want_scale;
    int bad = 0;
    for (size_t t = 0; t < p.steps; t++) {
        expected_quantize(p.depth, p.x + t * p.x_stride, want_q, &want_scale);
        bad += memcmp(want_q, p.xq + t * p.x_stride, p.depth) != 0 ||
               !same_bits(want_scale, p.x_scale[t]);
    }
    CHECK(bad == 0, "pipeline: %d rows quantised differently", bad);
    check_every_i8i8(&p, "quantised inputs");
    free_problem(&p);
}

/* ---- quantised models ---------------------------------------------------- */

#define CHECK_STATUS(expr, expected)                                            \
    do {                                                                        \
        const mts_status got_ = (expr);                                         \
        CHECK(got_ == (expected), "got %d (%s), expected %d (%s)", (int)got_,   \
              mts_status_str(got_), (int)(expected), mts_status_str(expected)); \
    } while (0)

/* Run seq_len steps in blocks of `block` with an exact-size workspace. */
static mts_status run_model(const mts_model *model, size_t block, const float *x,
                            size_t seq_len, float *h)
{
    size_t state_floats, bytes;
    mts_status status = mts_model_state_size(model, &state_floats);
    if (status == MTS_OK)
        status = mts_model_workspace_size(model, block, seq_len, &bytes);
    if (status != MTS_OK)
        return status;
    float *state = calloc(state_floats, sizeof(float));
    void *workspace = malloc(bytes);
    const mts_run_options options = {.block = block};
    status = mts_model_forward(model, &options, state, state_floats, x, seq_len, h, workspace,
                               bytes);
    free(state);
    free(workspace);
    return status;
}

static void test_quantized_models(void)
{
    /* SRU: n = 12 -> projection p = 5 -> D = 2 directions of d = 3 (k = 4). */
    enum { N = 12, P = 5, D = 3, K = 4, ROWS = 2 * K * D, L = 23 };
    static int8_t weight_q[ROWS * P], proj_q[P * N];
    static float weight_scale[ROWS], proj_scale[P], bias[4 * D], weight_c[4 * D];
    static float x[L * N], h_one[L * 2 * D], h[L * 2 * D];
    for (size_t i = 0; i < ROWS * P; i++)
        weight_q[i] = rng_i8();
    for (size_t i = 0; i < P * N; i++)
        proj_q[i] = rng_i8();
    for (size_t i = 0; i < ROWS; i++)
        weight_scale[i] = 0.004f + 0.001f * (float)(i % 3);
    for (size_t i = 0; i < P; i++)
        proj_scale[i] = 0.003f;
    for (size_t i = 0; i < 4 * D; i++) {
        bias[i] = rng_uniform(0.5f);
        weight_c[i] = rng_uniform(0.5f);
    }
    for (size_t i = 0; i < L * N; i++)
        x[i] = rng_uniform(2.0f);
    mts_stage sru_stage;
    memset(&sru_stage, 0, sizeof sru_stage);
    sru_stage.kind = MTS_STAGE_SRU;
    mts_sru_layer *const layer = &sru_stage.as.sru;
    layer->input_size = N;
    layer->hidden_size = D;
    layer->num_directions = 2;
    layer->projection_size = P;
    layer->skip = MTS_SKIP_PROJECTED;
    layer->scale_x = 1.0f;
    layer->weight_c = weight_c;
    layer->bias = bias;
    layer->weight_q = weight_q;
    layer->weight_scale = weight_scale;
    layer->weight_proj_q = proj_q;
    layer->weight_proj_scale = proj_scale;
    const mts_model model = {1, &sru_stage};

    /* Float model descriptor without float weights. */
    CHECK_STATUS(mts_model_check(&model), MTS_ERR_NULL_POINTER);
    for (uint8_t quant = MTS_QUANT_INT8_W; quant <= MTS_QUANT_INT8_WA; quant++) {
        layer->quant = quant;
        CHECK_STATUS(mts_model_check(&model), MTS_OK);
        CHECK_STATUS(run_model(&model, L, x, L, h_one), MTS_OK);
        static const size_t blocks[] = {1, 2, 5, 16};
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            CHECK_STATUS(run_model(&model, blocks[b], x, L, h), MTS_OK);
            CHECK(memcmp(h, h_one, sizeof h) == 0, "SRU quant %d: T = %lu differs", quant,
                  (unsigned long)blocks[b]);
        }
        int finite = 1;
        for (size_t i = 0; i < L * 2 * D; i++)
            finite &= isfinite(h_one[i]) != 0;
        CHECK(finite, "SRU quant %d: non-finite output", quant);
    }
    layer->weight_proj_scale = NULL;
    CHECK_STATUS(mts_model_check(&model), MTS_ERR_NULL_POINTER);
    layer->weight_proj_scale = proj_scale;
    layer->weight_scale = NULL;
    CHECK_STATUS(mts_model_check(&model), MTS_ERR_NULL_POINTER);
    layer->weight_scale = weight_scale;
    layer->quant = 3;
    CHECK_STATUS(mts_model_check(&model), MTS_ERR_BAD_CONFIG);
    /* int8-wa needs every product depth <= MTS_I8_MAX_DEPTH (sizes only). */
    mts_sru_layer deep = *layer;
    deep.quant = MTS_QUANT_INT8_WA;
    deep.input_size = MTS_I8_MAX_DEPTH + 1;
    mts_sru_array_sizes sizes;
    CHECK_STATUS(mts_sru_layer_array_sizes(&deep, &sizes), MTS_ERR_BAD_CONFIG);
    deep.quant = MTS_QUANT_INT8_W;
    CHECK_STATUS(mts_sru_layer_array_sizes(&deep, &sizes), MTS_OK);
    CHECK(sizes.weight_rows == ROWS && sizes.weight_proj_rows == P, "rows %lu %lu",
          (unsigned long)sizes.weight_rows, (unsigned long)sizes.weight_proj_rows);

    /* QRNN window 2, fo-pooling, two layers (the second float). */
    enum { QN = 7, QH = 6, QG = 3, QW = 2 };
    static int8_t qweight_q[QG * QH * QW * QN];
    static float qweight_scale[QG * QH], qbias[QG * QH], qweight2[QG * QH * QW * QH];
    static float qh_one[L * QH], qh[L * QH];
    for (size_t i = 0; i < sizeof qweight_q; i++)
        qweight_q[i] = rng_i8();
    for (size_t i = 0; i < QG * QH; i++) {
        qweight_scale[i] = 0.003f;
        qbias[i] = rng_uniform(0.5f);
    }
    for (size_t i = 0; i < QG * QH * QW * QH; i++)
        qweight2[i] = rng_uniform(0.3f);
    mts_stage qstages[2];
    memset(qstages, 0, sizeof qstages);
    qstages[0].kind = qstages[1].kind = MTS_STAGE_QRNN;
    qstages[0].as.qrnn.input_size = QN;
    qstages[0].as.qrnn.hidden_size = QH;
    qstages[0].as.qrnn.window = QW;
    qstages[0].as.qrnn.output_gate = 1;
    qstages[0].as.qrnn.bias = qbias;
    qstages[0].as.qrnn.weight_q = qweight_q;
    qstages[0].as.qrnn.weight_scale = qweight_scale;
    qstages[1].as.qrnn = qstages[0].as.qrnn;
    qstages[1].as.qrnn.input_size = QH;
    qstages[1].as.qrnn.weight = qweight2;
    qstages[1].as.qrnn.weight_q = NULL;
    qstages[1].as.qrnn.weight_scale = NULL;
    const mts_model qmodel = {2, qstages};
    CHECK_STATUS(mts_model_check(&qmodel), MTS_ERR_NULL_POINTER);
    for (uint8_t quant = MTS_QUANT_INT8_W; quant <= MTS_QUANT_INT8_WA; quant++) {
        qstages[0].as.qrnn.quant = quant;
        CHECK_STATUS(mts_model_check(&qmodel), MTS_OK);
        CHECK_STATUS(run_model(&qmodel, 1, x, L, qh_one), MTS_OK);
        static const size_t blocks[] = {2, 3, 16, 64};
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            CHECK_STATUS(run_model(&qmodel, blocks[b], x, L, qh), MTS_OK);
            CHECK(memcmp(qh, qh_one, sizeof qh) == 0, "QRNN quant %d: T = %lu differs", quant,
                  (unsigned long)blocks[b]);
        }
    }
    qstages[0].as.qrnn.quant = MTS_QUANT_INT8_WA;
    qstages[0].as.qrnn.input_size = MTS_I8_MAX_DEPTH / 2 + 1; /* window 2: depth too large */
    mts_qrnn_array_sizes qsizes;
    CHECK_STATUS(mts_qrnn_layer_array_sizes(&qstages[0].as.qrnn, &qsizes), MTS_ERR_BAD_CONFIG);
}

int main(void)
{
    test_quantize();
    test_quantize_bit_patterns();
    test_products();
    test_product_tails();
    test_int8_wa_pipeline();
    test_quantized_models();
    /* The tables, what this CPU runs of them, and each scheme's default (the
     * first entry the CPU supports): ci/aarch64.sh checks the run-time SDOT
     * choice on two emulated CPUs from these lines. */
    for (size_t v = 0; v < mts_gemm_i8i8_variant_count; v++) {
        const mts_gemm_i8i8_variant *e = &mts_gemm_i8i8_variants[v];
        printf("i8i8 variant: %s (%s)%s\n", e->name, e->summary,
               mts_cpu_supports(e->requires) ? "" : " not run: this CPU lacks it");
        if (e->fn == mts_gemm_i8i8_default())
            printf("i8i8 default: %s\n", e->name);
    }
    for (size_t v = 0; v < mts_gemm_i8f32_variant_count; v++) {
        const mts_gemm_i8f32_variant *e = &mts_gemm_i8f32_variants[v];
        printf("i8f32 variant: %s (%s)%s\n", e->name, e->summary,
               mts_cpu_supports(e->requires) ? "" : " not run: this CPU lacks it");
        if (e->fn == mts_gemm_i8f32_default())
            printf("i8f32 default: %s\n", e->name);
    }
    return check_summary("quantized");
}
