/* Tests of mts_expf / mts_sigmoidf / mts_tanhf / mts_rsqrtf and the array
 * forms against double-precision libm, over the whole float range.
 *
 *   test_activation [STRIDE]
 *
 * STRIDE (default 421, a prime: 10.2 M values per function) is the step of
 * the whole-range sweep through all 2^32 float bit patterns; STRIDE 1 is
 * exhaustive (several minutes per function). Dense sweeps of the
 * interesting regions (around 0, saturation, exp's overflow and underflow
 * thresholds, subnormal inputs and outputs, the tanh branch switch, the
 * rsqrt guess period) run in addition with fixed strides.
 *
 * Error measures (truth t computed in double):
 *   rel  = |y - t| / |t|, counted where |t| >= FLT_MIN (normal results),
 *          for tanh at every finite x != 0 (its subnormal results are x);
 *   abs  = |y - t|, for subnormal results (|t| < FLT_MIN) and, for sigmoid
 *          and tanh, also over all x;
 *   ulp  = |y - t| / ulp(t), ulp(t) = 2^(max(floor(log2|t|), -126) - 23).
 *   A result of +-inf stands for +-2^128 when t is finite (so rounding up to
 *   inf just above FLT_MAX counts as the rounding error it is); where
 *   t >= 2^128 the result must be +inf.
 * Every sweep also checks that the array functions (out of place and in
 * place) give the same bits as the scalar ones (NaN results: both NaN), that
 * NaN inputs give NaN, and monotonicity along the sweep (sigmoid and tanh
 * as required; exp because sigmoid's monotonicity rests on it). The last
 * line is "activation: N passed, N failed".
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/activation.h"

#include "check.h"

enum { F_EXP, F_SIGMOID, F_TANH, F_RSQRT, F_COUNT };
static const char *const fname[F_COUNT] = {"expf", "sigmoidf", "tanhf", "rsqrtf"};

static long n_pass, n_fail;

static void check(int ok, const char *what, const char *detail)
{
    if (ok) {
        n_pass++;
    } else {
        n_fail++;
        printf("FAIL: %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
    }
}

static float scalar(int fn, float x)
{
    switch (fn) {
    case F_EXP: return mts_expf(x);
    case F_SIGMOID: return mts_sigmoidf(x);
    case F_TANH: return mts_tanhf(x);
    default: return mts_rsqrtf(x);
    }
}

/* Array form of fn; rsqrt has none (returns 0). */
static int vector(int fn, size_t n, const float *x, float *y)
{
    switch (fn) {
    case F_EXP: mts_vexpf(n, x, y); return 1;
    case F_SIGMOID: mts_vsigmoidf(n, x, y); return 1;
    case F_TANH: mts_vtanhf(n, x, y); return 1;
    default: return 0;
    }
}

static double truth(int fn, double x)
{
    switch (fn) {
    case F_EXP: return exp(x);
    case F_SIGMOID: return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    case F_TANH: return tanh(x);
    default: return 1.0 / sqrt(x);
    }
}

/* 1 / ulp(t), an exact power of two built from t's exponent bits. */
static double inv_ulp_of(double t)
{
    uint64_t b;
    int e;
    memcpy(&b, &t, sizeof b);
    e = (int)((b >> 52) & 0x7ff) - 1023;       /* floor(log2|t|) for normal doubles */
    if (e < -126)
        e = -126;
    b = (uint64_t)(23 - e + 1023) << 52;
    memcpy(&t, &b, sizeof t);
    return t;
}

static int same_result(float a, float b)
{
    return f2u(a) == f2u(b) || (a != a && b != b);
}

/* Maxima found over the whole run, per function. */
typedef struct {
    double rel, ulp, sub_abs, abs;
    float x_rel, x_ulp, x_sub_abs, x_abs;
    long n, bad_range, bad_nan, bad_vec, bad_mono;
    float x_bad_range, x_bad_nan, x_bad_vec, x_bad_mono;
} stats;

static stats st[F_COUNT];

/* Monotonicity state of one sweep: inputs arrive in a fixed order; compare
 * each result with the previous one of the same sign of x. */
typedef struct {
    int have;
    float x, y;
} mono;

static void account(int fn, float x, float y, mono *m)
{
    stats *s = &st[fn];
    double t, yd, err, u;

    s->n++;
    if (x != x) {
        if (y == y && s->bad_nan++ == 0)
            s->x_bad_nan = x;
        m->have = 0;
        return;
    }
    if (fn != F_RSQRT) {                       /* exp is monotone too */
        if (m->have && (m->x < 0.0f) == (x < 0.0f)) {
            int bad = x > m->x ? y < m->y : y > m->y;
            if (bad && s->bad_mono++ == 0)
                s->x_bad_mono = x;
        }
        m->have = 1;
        m->x = x;
        m->y = y;
    }
    if (fn == F_RSQRT && x < 0.0f) {
        if (y == y && s->bad_nan++ == 0)
            s->x_bad_nan = x;
        return;
    }
    if (x == 0.0f || x - x != 0.0f)            /* zeros and infinities: see special_values() */
        return;
    if (y != y) {
        if (s->bad_nan++ == 0)
            s->x_bad_nan = x;
        return;
    }
    t = truth(fn, (double)x);
    if (fabs(t) >= 0x1p128) {
        if (!(y - y != 0.0f && (y > 0.0f) == (t > 0.0)) && s->bad_range++ == 0)
            s->x_bad_range = x;
        return;
    }
    yd = y - y != 0.0f ? (y > 0.0f ? 0x1p128 : -0x1p128) : (double)y;
    err = fabs(yd - t);
    /* divisions only for candidates of a new maximum: this loop runs a few
     * hundred million times */
    if (fabs(t) >= 0x1p-126 || fn == F_TANH) {  /* tanh: relative everywhere */
        if (err > s->rel * fabs(t)) {
            s->rel = err / fabs(t);
            s->x_rel = x;
        }
    } else if (err > s->sub_abs) {
        s->sub_abs = err;
        s->x_sub_abs = x;
    }
    if (err > s->abs) {
        s->abs = err;
        s->x_abs = x;
    }
    u = err * inv_ulp_of(t);
    if (u > s->ulp) {
        s->ulp = u;
        s->x_ulp = x;
    }
}

#define CHUNK 1024

/* Evaluates fn on the CHUNK (or fewer) inputs in x[]: scalar, array form out
 * of place and array form in place; checks they agree and accounts errors. */
static void run_chunk(int fn, const float *x, size_t n, mono *m)
{
    float yv[CHUNK], yi[CHUNK];
    size_t i;
    int has_vec;

    has_vec = vector(fn, n, x, yv);
    if (has_vec) {
        memcpy(yi, x, n * sizeof *x);
        vector(fn, n, yi, yi);
    }
    for (i = 0; i < n; ++i) {
        float y = scalar(fn, x[i]);
        if (has_vec && (!same_result(y, yv[i]) || !same_result(y, yi[i]))) {
            if (st[fn].bad_vec++ == 0)
                st[fn].x_bad_vec = x[i];
        }
        account(fn, x[i], y, m);
    }
}

/* Bit patterns start, start + stride, ... below 2^32 (in bit order: ascending
 * positive values, then descending negative values). */
static void sweep_bits(int fn, uint64_t start, uint64_t stride)
{
    float x[CHUNK];
    size_t n = 0;
    mono m = {0, 0.0f, 0.0f};
    uint64_t u;

    for (u = start; u < 0x100000000ull; u += stride) {
        x[n++] = u2f((uint32_t)u);
        if (n == CHUNK) {
            run_chunk(fn, x, n, &m);
            n = 0;
        }
    }
    if (n)
        run_chunk(fn, x, n, &m);
}

/* Ordered key of a float: monotone in its value over all non-NaN floats
 * (-0 just below +0). */
static uint32_t key_of(float f)
{
    uint32_t u = f2u(f);
    return (u & 0x80000000u) ? 0x7fffffffu - (u & 0x7fffffffu) : u + 0x80000000u;
}

static float float_of_key(uint32_t k)
{
    return k >= 0x80000000u ? u2f(k - 0x80000000u) : u2f(0x80000000u | (0x7fffffffu - k));
}

/* Every stride-th float from lo to hi (lo <= hi, both finite), ascending. */
static void sweep_values(int fn, float lo, float hi, uint32_t stride)
{
    float x[CHUNK];
    size_t n = 0;
    mono m = {0, 0.0f, 0.0f};
    uint64_t k, khi = key_of(hi);

    for (k = key_of(lo); k <= khi; k += stride) {
        x[n++] = float_of_key((uint32_t)k);
        if (n == CHUNK) {
            run_chunk(fn, x, n, &m);
            n = 0;
        }
    }
    if (n)
        run_chunk(fn, x, n, &m);
}

/* Same region for both signs: [lo, hi] and [-hi, -lo]. */
static void sweep_both(int fn, float lo, float hi, uint32_t stride)
{
    sweep_values(fn, lo, hi, stride);
    sweep_values(fn, -hi, -lo, stride);
}

/* Dense sweeps, about 17 M values in all. Strides are odd so every residue
 * of the low mantissa bits is visited. */
static void dense_sweeps(void)
{
    const float tiny = 0x1p-126f;
    int fn;

    for (fn = 0; fn < F_COUNT; ++fn) {
        /* subnormal inputs, both signs (rsqrt: NaN for the negative ones) */
        sweep_values(fn, -tiny, tiny, 17);
        /* tiny to small, where results leave 1 (exp, sigmoid) or x (tanh) */
        sweep_both(fn, 0x1p-126f, 0x1p-20f, 2053);
        sweep_both(fn, 0x1p-27f, 0x1p-21f, 97);
        sweep_both(fn, 0x1p-6f, 1.0f, 61);
    }
    /* exp: overflow threshold ln(FLT_MAX) = 88.72 and the clamp at 88.8;
     * subnormal results below -87.34, +0 below -103.97, the clamp at -104 */
    sweep_values(F_EXP, 88.0f, 89.5f, 1);
    sweep_values(F_EXP, -104.5f, -103.0f, 1);
    sweep_values(F_EXP, -103.0f, -86.5f, 3);
    sweep_both(F_EXP, 0.5f, 20.0f, 101);
    /* sigmoid: rounds to 1 from 16.6 on, argument switch at -20, subnormal
     * results below -87.34, +0 below -103.97, and -4 .. -0.5 (where the
     * e/(1+e) form was not monotone: 1-ulp drops in -1.95 .. -0.69) */
    sweep_values(F_SIGMOID, 15.0f, 18.0f, 3);
    sweep_values(F_SIGMOID, -20.5f, -19.5f, 1);
    sweep_values(F_SIGMOID, -104.5f, -86.5f, 3);
    sweep_values(F_SIGMOID, -4.0f, -0.5f, 23);
    sweep_values(F_SIGMOID, -1.5f, -1.45f, 1);  /* stride 1: 1-ulp steps */
    sweep_values(F_SIGMOID, -0.9f, -0.89f, 1);
    /* tanh: polynomial / exp switch at 0.625, saturation to 1 near 9.01 */
    sweep_both(F_TANH, 0.62f, 0.63f, 1);
    sweep_both(F_TANH, 0.55f, 0.7f, 3);
    sweep_both(F_TANH, 8.5f, 9.5f, 3);
    sweep_both(F_TANH, 2.0f, 2.05f, 1);
    sweep_both(F_TANH, 1.0f, 9.0f, 61);
    /* rsqrt: the initial guess repeats every two binades; largest inputs;
     * smallest normal inputs next to the subnormal prescaling */
    sweep_values(F_RSQRT, 1.0f, 4.0f, 7);
    sweep_values(F_RSQRT, 0x1p126f, FLT_MAX, 31);
    sweep_values(F_RSQRT, 0x1p-126f, 0x1p-124f, 31);
}

static void expect_bits(int fn, float x, float want)
{
    char msg[160];
    float y = scalar(fn, x);
    snprintf(msg, sizeof msg, "%s(%a) = %a (bits %08lx), want %a (bits %08lx)", fname[fn],
             (double)x, (double)y, (unsigned long)f2u(y), (double)want,
             (unsigned long)f2u(want));
    check(f2u(y) == f2u(want), "exact special value", msg);
}

static void expect_nan(int fn, float x)
{
    char msg[160];
    float y = scalar(fn, x);
    float a[3], b[3];
    int ok = y != y;
    a[0] = 1.0f;
    a[1] = x;
    a[2] = 0.5f;
    if (vector(fn, 3, a, b))
        ok = ok && b[1] != b[1] && b[0] == b[0] && b[2] == b[2];
    snprintf(msg, sizeof msg, "%s(bits %08lx) = %a", fname[fn], (unsigned long)f2u(x), (double)y);
    check(ok, "NaN in gives NaN out (scalar and array)", msg);
}

static void special_values(void)
{
    const float inf = u2f(0x7f800000u), ninf = u2f(0xff800000u);
    const float pz = 0.0f, nz = u2f(0x80000000u);
    const uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u,
                             0x7fa00000u, 0xffbfffffu, 0x7fffffffu, 0xffffffffu};
    const float denorm = u2f(1u), ndenorm = u2f(0x80000001u);
    size_t i;
    int fn;

    expect_bits(F_EXP, pz, 1.0f);
    expect_bits(F_EXP, nz, 1.0f);
    expect_bits(F_EXP, inf, inf);
    expect_bits(F_EXP, ninf, pz);
    expect_bits(F_EXP, FLT_MAX, inf);
    expect_bits(F_EXP, -FLT_MAX, pz);
    expect_bits(F_EXP, 89.0f, inf);
    expect_bits(F_EXP, -104.0f, pz);
    expect_bits(F_EXP, -1000.0f, pz);
    expect_bits(F_EXP, denorm, 1.0f);
    expect_bits(F_EXP, ndenorm, 1.0f);
    {
        /* exp(-100) = 3.72e-44 is subnormal: must be the right one, not 0 */
        char msg[120];
        float y = mts_expf(-100.0f);
        double t = exp(-100.0);
        snprintf(msg, sizeof msg, "expf(-100) = %a, true %a", (double)y, t);
        check(fabs((double)y - t) <= MTS_EXPF_MAX_SUBNORMAL_ABS_ERR && y > 0.0f,
              "exp subnormal result", msg);
        y = mts_expf(88.7f);
        snprintf(msg, sizeof msg, "expf(88.7) = %a", (double)y);
        check(y - y == 0.0f && y > 3.3e38f, "exp just below overflow is finite", msg);
    }

    expect_bits(F_SIGMOID, pz, 0.5f);
    expect_bits(F_SIGMOID, nz, 0.5f);
    expect_bits(F_SIGMOID, inf, 1.0f);
    expect_bits(F_SIGMOID, ninf, pz);
    expect_bits(F_SIGMOID, FLT_MAX, 1.0f);
    expect_bits(F_SIGMOID, -FLT_MAX, pz);
    expect_bits(F_SIGMOID, 17.0f, 1.0f);
    expect_bits(F_SIGMOID, -105.0f, pz);

    expect_bits(F_TANH, pz, pz);
    expect_bits(F_TANH, nz, nz);
    expect_bits(F_TANH, inf, 1.0f);
    expect_bits(F_TANH, ninf, -1.0f);
    expect_bits(F_TANH, FLT_MAX, 1.0f);
    expect_bits(F_TANH, -FLT_MAX, -1.0f);
    expect_bits(F_TANH, 9.1f, 1.0f);
    expect_bits(F_TANH, -9.1f, -1.0f);
    expect_bits(F_TANH, 100.0f, 1.0f);
    expect_bits(F_TANH, denorm, denorm);
    expect_bits(F_TANH, ndenorm, ndenorm);
    expect_bits(F_TANH, 0x1p-20f, 0x1p-20f);

    expect_bits(F_RSQRT, pz, inf);
    expect_bits(F_RSQRT, nz, ninf);             /* IEEE 754 rSqrt(-0) = -inf */
    expect_bits(F_RSQRT, inf, pz);
    expect_nan(F_RSQRT, -1.0f);
    expect_nan(F_RSQRT, ninf);
    expect_nan(F_RSQRT, ndenorm);
    expect_nan(F_RSQRT, -FLT_MAX);
    {
        char msg[120];
        float y = mts_rsqrtf(denorm);            /* 2^74.5 */
        double r = fabs((double)y - 1.0 / sqrt((double)denorm)) * sqrt((double)denorm);
        snprintf(msg, sizeof msg, "rsqrtf(2^-149) = %a, rel err %.3g", (double)y, r);
        check(r <= MTS_RSQRTF_MAX_REL_ERR, "rsqrt of the smallest subnormal", msg);
    }

    for (fn = 0; fn < F_COUNT; ++fn)
        for (i = 0; i < sizeof nans / sizeof nans[0]; ++i)
            expect_nan(fn, u2f(nans[i]));
}

/* tanh(-x) == -tanh(x) bit for bit (the sign is OR-ed in), and
 * sigmoid(x) + sigmoid(-x) == 1 within the sum of their error bounds. */
static void symmetry(uint64_t stride)
{
    long bad_tanh = 0, bad_sig = 0;
    float xt = 0.0f, xs = 0.0f;
    uint64_t u;
    char msg[120];

    for (u = 0; u < 0x7f800000u; u += stride) {
        float x = u2f((uint32_t)u);
        float tp = mts_tanhf(x), tn = mts_tanhf(-x);
        double sp = mts_sigmoidf(x), sn = mts_sigmoidf(-x);
        if (f2u(tn) != (f2u(tp) ^ 0x80000000u) && bad_tanh++ == 0)
            xt = x;
        if (fabs(sp + sn - 1.0) > MTS_SIGMOIDF_MAX_REL_ERR + MTS_SIGMOIDF_MAX_SUBNORMAL_ABS_ERR &&
            bad_sig++ == 0)
            xs = x;
    }
    snprintf(msg, sizeof msg, "%ld violations, first at x = %a", bad_tanh, (double)xt);
    check(bad_tanh == 0, "tanh(-x) == -tanh(x)", msg);
    snprintf(msg, sizeof msg, "%ld violations, first at x = %a", bad_sig, (double)xs);
    check(bad_sig == 0, "sigmoid(x) + sigmoid(-x) == 1 within bounds", msg);
}

/* Array forms at every length 0..67 and 4 misalignments, in and out of
 * place, against the scalar function; nothing written past n. */
static void array_edges(void)
{
    float x[80], y[80], z[80];
    long bad = 0;
    int fn, off;
    size_t n, i;
    char msg[120];
    int bad_fn = -1;

    for (fn = 0; fn < F_RSQRT; ++fn) {
        for (off = 0; off < 4; ++off) {
            for (n = 0; n <= 67; ++n) {
                for (i = 0; i < 80; ++i) {
                    x[i] = (float)((int)(i * 37u % 101u) - 50) * 0.37f;
                    y[i] = -7.0f;
                    z[i] = x[i];
                }
                x[off + n / 2] = u2f(0x7fc00000u);
                z[off + n / 2] = x[off + n / 2];
                vector(fn, n, x + off, y + off);
                vector(fn, n, z + off, z + off);
                for (i = 0; i < 80; ++i) {
                    int inside = i >= (size_t)off && i < off + n;
                    float want = inside ? scalar(fn, x[i]) : -7.0f;
                    float wantz = inside ? want : x[i];
                    if (!same_result(y[i], want) || !same_result(z[i], wantz)) {
                        bad++;
                        bad_fn = fn;
                    }
                }
            }
        }
    }
    snprintf(msg, sizeof msg, "%ld mismatches (last in %s)", bad, bad_fn < 0 ? "-" : fname[bad_fn]);
    check(bad == 0, "array forms at all lengths/offsets, in place, no overrun", msg);
}

static void report_and_check_bounds(void)
{
    static const double b_rel[F_COUNT] = {MTS_EXPF_MAX_REL_ERR, MTS_SIGMOIDF_MAX_REL_ERR,
                                          MTS_TANHF_MAX_REL_ERR, MTS_RSQRTF_MAX_REL_ERR};
    static const double b_ulp[F_COUNT] = {MTS_EXPF_MAX_ULP_ERR, MTS_SIGMOIDF_MAX_ULP_ERR,
                                          MTS_TANHF_MAX_ULP_ERR, MTS_RSQRTF_MAX_ULP_ERR};
    /* subnormal results: exp and sigmoid only (tanh's subnormal results are
     * x itself, counted in the relative error; rsqrt has none) */
    static const double b_sub[F_COUNT] = {MTS_EXPF_MAX_SUBNORMAL_ABS_ERR,
                                          MTS_SIGMOIDF_MAX_SUBNORMAL_ABS_ERR, 0.0, 0.0};
    char msg[200];
    int fn;

    for (fn = 0; fn < F_COUNT; ++fn) {
        stats *s = &st[fn];
        printf("# %-8s %ld values: max rel %.4g (x=%a), max ulp %.4f (x=%a)", fname[fn], s->n,
               s->rel, (double)s->x_rel, s->ulp, (double)s->x_ulp);
        if (fn == F_EXP || fn == F_SIGMOID)
            printf(", max abs of subnormal results %.4g (x=%a)", s->sub_abs, (double)s->x_sub_abs);
        if (fn == F_SIGMOID || fn == F_TANH)
            printf(", max abs %.4g (x=%a)", s->abs, (double)s->x_abs);
        printf("\n");
        snprintf(msg, sizeof msg, "%s: max rel err %.6g > bound %.6g at x = %a", fname[fn], s->rel,
                 b_rel[fn], (double)s->x_rel);
        check(s->rel <= b_rel[fn], "relative error bound", msg);
        snprintf(msg, sizeof msg, "%s: max ulp err %.4f > bound %.4f at x = %a", fname[fn], s->ulp,
                 b_ulp[fn], (double)s->x_ulp);
        check(s->ulp <= b_ulp[fn], "ulp error bound", msg);
        snprintf(msg, sizeof msg, "%s: max abs err of subnormal results %.6g > bound %.6g at x = %a",
                 fname[fn], s->sub_abs, b_sub[fn], (double)s->x_sub_abs);
        check(s->sub_abs <= b_sub[fn], "subnormal-result absolute error bound", msg);
        snprintf(msg, sizeof msg, "%s: %ld inputs outside the result range, first x = %a", fname[fn],
                 s->bad_range, (double)s->x_bad_range);
        check(s->bad_range == 0, "overflow to +inf where the true result >= 2^128", msg);
        snprintf(msg, sizeof msg, "%s: %ld wrong NaN/non-NaN results, first x bits %08lx", fname[fn],
                 s->bad_nan, (unsigned long)f2u(s->x_bad_nan));
        check(s->bad_nan == 0, "NaN exactly where expected over the sweeps", msg);
        if (fn != F_RSQRT) {
            snprintf(msg, sizeof msg, "%s: %ld differences, first x = %a", fname[fn], s->bad_vec,
                     (double)s->x_bad_vec);
            check(s->bad_vec == 0, "array form == scalar (bits), out of place and in place", msg);
        }
        if (fn != F_RSQRT) {
            snprintf(msg, sizeof msg, "%s: %ld decreasing steps, first at x = %a", fname[fn],
                     s->bad_mono, (double)s->x_bad_mono);
            check(s->bad_mono == 0, "monotone over the sweeps", msg);
        }
    }
    snprintf(msg, sizeof msg, "sigmoid: max abs err %.6g > bound %.6g at x = %a", st[F_SIGMOID].abs,
             (double)MTS_SIGMOIDF_MAX_ABS_ERR, (double)st[F_SIGMOID].x_abs);
    check(st[F_SIGMOID].abs <= MTS_SIGMOIDF_MAX_ABS_ERR, "sigmoid absolute error bound", msg);
    snprintf(msg, sizeof msg, "tanh: max abs err %.6g > bound %.6g at x = %a", st[F_TANH].abs,
             (double)MTS_TANHF_MAX_ABS_ERR, (double)st[F_TANH].x_abs);
    check(st[F_TANH].abs <= MTS_TANHF_MAX_ABS_ERR, "tanh absolute error bound", msg);
}

/* mts_logf (log-softmax's log): every stride-th positive finite float,
 * normal and subnormal, against libm's double log: absolute error where
 * |log x| < 1, relative where |log x| >= 1 (mtsrnn/activation.h); and its
 * special values. */
static void logf_check(uint64_t stride)
{
    double max_abs = 0.0, max_rel = 0.0;
    float x_abs = 0.0f, x_rel = 0.0f;
    long bad_special = 0;
    char msg[200];
    for (uint64_t u = 1; u < 0x7f800000u; u += stride) {
        const float x = u2f((uint32_t)u);
        const double t = log((double)x);
        const double err = fabs((double)mts_logf(x) - t);
        if (fabs(t) < 1.0 && err > max_abs) {
            max_abs = err;
            x_abs = x;
        }
        if (fabs(t) >= 1.0 && err / fabs(t) > max_rel) {
            max_rel = err / fabs(t);
            x_rel = x;
        }
    }
    /* The edges of the range and of the mantissa split at sqrt(2). */
    static const float edges[] = {1.0f, 0x1.6a09e6p0f, 0x1.6a09e8p0f, 0x1.fffffep-1f,
                                  0x1p-126f, 0x1p-149f, 0x1.fffffep127f, 2.0f, 0.5f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        const double t = log((double)edges[i]);
        const double err = fabs((double)mts_logf(edges[i]) - t);
        if (fabs(t) < 1.0 ? err > MTS_LOGF_MAX_ABS_ERR : err / fabs(t) > MTS_LOGF_MAX_REL_ERR)
            bad_special++;
    }
    bad_special += mts_logf(1.0f) != 0.0f;
    bad_special += !(mts_logf(0.0f) < 0.0f && isinf(mts_logf(0.0f)));
    bad_special += !(mts_logf(-0.0f) < 0.0f && isinf(mts_logf(-0.0f)));
    bad_special += !(mts_logf(u2f(0x7f800000u)) > 0.0f && isinf(mts_logf(u2f(0x7f800000u))));
    bad_special += !isnan(mts_logf(-1.0f)) + !isnan(mts_logf(u2f(0x7fc00000u))) +
                   !isnan(mts_logf(u2f(0xff800000u)));
    printf("# logf     max abs (|log x| < 1) %.4g (x=%a), max rel (|log x| >= 1) %.4g (x=%a)\n",
           max_abs, (double)x_abs, max_rel, (double)x_rel);
    snprintf(msg, sizeof msg, "logf: max abs err %.6g > bound %.6g at x = %a", max_abs,
             (double)MTS_LOGF_MAX_ABS_ERR, (double)x_abs);
    check(max_abs <= MTS_LOGF_MAX_ABS_ERR, "logf absolute error bound", msg);
    snprintf(msg, sizeof msg, "logf: max rel err %.6g > bound %.6g at x = %a", max_rel,
             (double)MTS_LOGF_MAX_REL_ERR, (double)x_rel);
    check(max_rel <= MTS_LOGF_MAX_REL_ERR, "logf relative error bound", msg);
    snprintf(msg, sizeof msg, "logf: %ld wrong edge or special values", bad_special);
    check(bad_special == 0, "logf edges and special values", msg);
}

int main(int argc, char **argv)
{
    unsigned long stride = 421;
    int fn;

    if (argc > 1) {
        char *end;
        stride = strtoul(argv[1], &end, 10);
        if (*end != '\0' || stride == 0 || stride > 0xffffffffUL) {
            fprintf(stderr, "usage: %s [STRIDE >= 1]\n", argv[0]);
            return 2;
        }
    }
    special_values();
    array_edges();
    for (fn = 0; fn < F_COUNT; ++fn)
        sweep_bits(fn, (uint64_t)fn * 7u % stride, stride);
    dense_sweeps();
    symmetry(stride * 4u + 1u);
    report_and_check_bounds();
    logf_check(stride * 16u + 1u);
    printf("activation: %ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail == 0 ? 0 : 1;
}
