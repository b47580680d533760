/* The whole-model stages (norm, dense, softmax) and models built of them:
 * each stage against values derived by hand from its equation (in double),
 * a norm -> SRU -> dense(relu) -> dense -> softmax model against a float64
 * implementation of the equations written here, independent of T and of
 * how the stream is split, a model with a bidirectional SRU stage (run
 * stage by stage) against its stages run one by one, the int8 dense within
 * the documented bound, and the model checks (chaining, scalar fields). */
#include <math.h>
#include <stdlib.h>

/* The float64 references below take float inputs into double arithmetic on
 * purpose (exact widening). */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#endif
#include <string.h>

#include "check.h"
#include "mtsrnn/model.h"

/* Run `len` frames in one call with block T from the zero state. */
static mts_status run(const mts_model *m, size_t block, const float *x, size_t len, float *h)
{
    size_t state_floats, bytes;
    mts_status st = mts_model_state_size(m, &state_floats);
    if (st == MTS_OK)
        st = mts_model_workspace_size(m, block, len, &bytes);
    if (st != MTS_OK)
        return st;
    float *state = calloc(state_floats + 1, sizeof(float));
    void *ws = malloc(bytes);
    const mts_run_options options = {.block = block};
    st = mts_model_forward(m, &options, state, state_floats, x, len, h, ws, bytes);
    free(state);
    free(ws);
    return st;
}

/* Run in pieces of the given lengths, the state carried across calls. */
static mts_status run_pieces(const mts_model *m, size_t block, const float *x, size_t len,
                             const size_t *pieces, float *h)
{
    size_t state_floats, in, out, bytes;
    mts_status st = mts_model_state_size(m, &state_floats);
    if (st == MTS_OK)
        st = mts_model_io_sizes(m, &in, &out);
    if (st == MTS_OK)
        st = mts_model_workspace_size(m, block, len, &bytes);
    if (st != MTS_OK)
        return st;
    float *state = calloc(state_floats + 1, sizeof(float));
    void *ws = malloc(bytes);
    const mts_run_options options = {.block = block};
    size_t done = 0;
    for (size_t k = 0; done < len && st == MTS_OK; k++) {
        const size_t n = pieces[k] < len - done ? pieces[k] : len - done;
        st = mts_model_forward(m, &options, state, state_floats, x + done * in, n,
                               h + done * out, ws, bytes);
        done += n;
    }
    free(state);
    free(ws);
    return st;
}

static double max_diff_f(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - (double)b[i]);
        worst = d > worst || d != d ? d : worst;
    }
    return worst;
}

static double max_diff_d(const float *a, const double *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        worst = d > worst || d != d ? d : worst;
    }
    return worst;
}

static float *random_floats(size_t n, float bound)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = rng_uniform(bound);
    return p;
}

static double sigmoid_d(double v) { return 1.0 / (1.0 + exp(-v)); }

/* ---- single stages against their equations ------------------------------ */

static void test_norm(void)
{
    static const float x[2][3] = {{1.0f, 2.0f, 4.0f}, {-3.0f, 0.5f, 0.0f}};
    static const float w[3] = {2.0f, -1.0f, 0.5f}, b[3] = {0.25f, 0.0f, -1.0f};
    float h[2][3];
    mts_stage stage;
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_NORM;
    stage.as.norm = (mts_norm_stage){3, MTS_NORM_MODE_AFFINE, 0.0f, w, b};
    const mts_model m = {1, &stage};
    CHECK_STATUS(run(&m, 1, &x[0][0], 2, &h[0][0]), MTS_OK);
    /* y = x * w + b, exactly representable here. */
    static const float affine[2][3] = {{2.25f, -2.0f, 1.0f}, {-5.75f, -0.5f, -1.0f}};
    CHECK(memcmp(h, affine, sizeof h) == 0, "affine norm");

    stage.as.norm.mode = MTS_NORM_MODE_LAYER;
    stage.as.norm.eps = 1e-5f;
    CHECK_STATUS(run(&m, 2, &x[0][0], 2, &h[0][0]), MTS_OK);
    double want[6];
    for (size_t t = 0; t < 2; t++) {
        const double mean = ((double)x[t][0] + x[t][1] + x[t][2]) / 3.0;
        double var = 0.0;
        for (size_t i = 0; i < 3; i++)
            var += ((double)x[t][i] - mean) * ((double)x[t][i] - mean) / 3.0;
        for (size_t i = 0; i < 3; i++)
            want[t * 3 + i] = ((double)x[t][i] - mean) / sqrt(var + 1e-5) * w[i] + b[i];
    }
    CHECK(max_diff_d(&h[0][0], want, 6) <= 1e-6, "layer norm off by %g",
          max_diff_d(&h[0][0], want, 6));

    /* Scalar fields: an affine norm's eps must be 0, a layer norm's in (0, 1]. */
    stage.as.norm.eps = 0.0f;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_VALUE);
    stage.as.norm.eps = NAN;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_VALUE);
    stage.as.norm.eps = 2.0f;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_VALUE);
    stage.as.norm.mode = MTS_NORM_MODE_AFFINE;
    stage.as.norm.eps = 1e-5f;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_VALUE);
    stage.as.norm.eps = 0.0f;
    stage.as.norm.mode = 2;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_CONFIG);
    stage.as.norm.mode = 0;
    stage.as.norm.bias = NULL;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_NULL_POINTER);
    stage.as.norm.bias = b;
    stage.as.norm.size = 0;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_SIZE);
}

static void test_dense(void)
{
    enum { N = 3, M = 4, L = 5 };
    static const float w[M][N] = {
        {0.5f, -1.0f, 2.0f}, {1.5f, 0.25f, -0.5f}, {-2.0f, 1.0f, 0.0f}, {0.1f, 0.2f, 0.3f}};
    static const float b[M] = {0.1f, -0.2f, 0.3f, -0.4f};
    float x[L][N], h[L][M];
    for (size_t t = 0; t < L; t++)
        for (size_t i = 0; i < N; i++)
            x[t][i] = rng_uniform(2.0f);
    mts_stage stage;
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_DENSE;
    stage.as.dense.input_size = N;
    stage.as.dense.output_size = M;
    stage.as.dense.weight = &w[0][0];
    const mts_model m = {1, &stage};
    for (int with_bias = 0; with_bias <= 1; with_bias++) {
        stage.as.dense.bias = with_bias ? b : NULL;
        for (uint8_t act = MTS_DENSE_IDENTITY; act <= MTS_DENSE_SIGMOID; act++) {
            stage.as.dense.activation = act;
            CHECK_STATUS(run(&m, 2, &x[0][0], L, &h[0][0]), MTS_OK);
            double want[L * M];
            for (size_t t = 0; t < L; t++)
                for (size_t r = 0; r < M; r++) {
                    double v = with_bias ? b[r] : 0.0;
                    for (size_t i = 0; i < N; i++)
                        v += (double)w[r][i] * x[t][i];
                    want[t * M + r] = act == MTS_DENSE_RELU      ? (v > 0.0 ? v : 0.0)
                                      : act == MTS_DENSE_TANH    ? tanh(v)
                                      : act == MTS_DENSE_SIGMOID ? sigmoid_d(v)
                                                                 : v;
                }
            CHECK(max_diff_d(&h[0][0], want, L * M) <= 2e-6, "dense act %d bias %d off by %g",
                  act, with_bias, max_diff_d(&h[0][0], want, L * M));
        }
    }

    /* int8: y = s_r * sum_i Wq[r][i] x_i + b (int8-w exactly that in float;
     * int8-wa with x quantised per step, within the bound of
     * docs/quantization.md: |error| <= s_r * sum_i |Wq| * a_t / 254). */
    static const int8_t wq[M][N] = {{64, -127, 100}, {127, 3, -40}, {-127, 60, 0}, {1, 2, 3}};
    static const float scale[M] = {0.01f, 0.02f, 0.015f, 0.1f};
    stage.as.dense.weight = NULL;
    stage.as.dense.weight_q = &wq[0][0];
    stage.as.dense.weight_scale = scale;
    stage.as.dense.bias = b;
    stage.as.dense.activation = MTS_DENSE_IDENTITY;
    for (uint8_t quant = MTS_QUANT_INT8_W; quant <= MTS_QUANT_INT8_WA; quant++) {
        stage.as.dense.quant = quant;
        CHECK_STATUS(run(&m, 3, &x[0][0], L, &h[0][0]), MTS_OK);
        double worst_ratio = 0.0;
        for (size_t t = 0; t < L; t++) {
            double a = 0.0;
            for (size_t i = 0; i < N; i++)
                a = fabs((double)x[t][i]) > a ? fabs((double)x[t][i]) : a;
            for (size_t r = 0; r < M; r++) {
                double v = b[r], abs_w = 0.0;
                for (size_t i = 0; i < N; i++) {
                    v += (double)scale[r] * wq[r][i] * x[t][i];
                    abs_w += fabs((double)wq[r][i]);
                }
                const double bound = quant == MTS_QUANT_INT8_W
                                         ? 1e-6
                                         : (double)scale[r] * abs_w * a / 254.0 + 1e-6;
                const double ratio = fabs((double)h[t][r] - v) / bound;
                worst_ratio = ratio > worst_ratio ? ratio : worst_ratio;
            }
        }
        CHECK(worst_ratio <= 1.0, "int8 dense quant %d: %g x the bound", quant, worst_ratio);
    }
    stage.as.dense.weight_scale = NULL;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_NULL_POINTER);
    stage.as.dense.weight_scale = scale;
    stage.as.dense.activation = 4;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_CONFIG);
    stage.as.dense.activation = 0;
    stage.as.dense.quant = 3;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_CONFIG);
    stage.as.dense.quant = MTS_QUANT_INT8_WA;
    stage.as.dense.input_size = MTS_I8_MAX_DEPTH + 1u;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_CONFIG);
}

static void test_softmax(void)
{
    /* Hand values: softmax(1, 2, 3) = e^(i-3) / (e^-2 + e^-1 + 1). Shifted
     * by 1000 the same (stable: no overflow). */
    static const float x[3][3] = {{1.0f, 2.0f, 3.0f}, {1001.0f, 1002.0f, 1003.0f},
                                  {-80.0f, 0.0f, 80.0f}};
    float h[3][3];
    mts_stage stage;
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_SOFTMAX;
    stage.as.softmax.size = 3;
    const mts_model m = {1, &stage};
    for (uint8_t log_form = 0; log_form <= 1; log_form++) {
        stage.as.softmax.log = log_form;
        CHECK_STATUS(run(&m, 4, &x[0][0], 3, &h[0][0]), MTS_OK);
        double want[9];
        for (size_t t = 0; t < 3; t++) {
            double max = x[t][0], sum = 0.0;
            for (size_t i = 1; i < 3; i++)
                max = x[t][i] > max ? x[t][i] : max;
            for (size_t i = 0; i < 3; i++)
                sum += exp((double)x[t][i] - max);
            for (size_t i = 0; i < 3; i++)
                want[t * 3 + i] = log_form ? (double)x[t][i] - max - log(sum)
                                           : exp((double)x[t][i] - max) / sum;
        }
        CHECK(max_diff_d(&h[0][0], want, 9) <= 1e-6, "softmax log=%d off by %g", log_form,
              max_diff_d(&h[0][0], want, 9));
        CHECK(fabs((double)h[0][0] - (log_form ? -2.4076059644 : 0.0900305732)) <= 1e-6,
              "softmax log=%d of (1, 2, 3): %g", log_form, (double)h[0][0]);
    }
    stage.as.softmax.log = 2;
    CHECK_STATUS(mts_model_check(&m), MTS_ERR_BAD_CONFIG);
}

/* ---- a whole model -------------------------------------------------------- */

enum { IN = 5, HID = 6, MID = 7, OUT = 4, LEN = 37 };

typedef struct whole_model {
    mts_stage stages[5];
    mts_model model;
    float *norm_w, *norm_b, *sru_w, *sru_b, *d1_w, *d1_b, *d2_w, *d2_b;
} whole_model;

/* norm (affine) -> SRU (original form, identity g, no skip) -> dense(relu)
 * -> dense -> softmax. */
static void whole_make(whole_model *w)
{
    memset(w, 0, sizeof *w);
    w->norm_w = random_floats(IN, 1.5f);
    w->norm_b = random_floats(IN, 0.5f);
    w->sru_w = random_floats(3 * HID * IN, 0.8f);
    w->sru_b = random_floats(2 * HID, 0.5f);
    w->d1_w = random_floats(MID * HID, 0.8f);
    w->d1_b = random_floats(MID, 0.3f);
    w->d2_w = random_floats(OUT * MID, 0.8f);
    w->d2_b = random_floats(OUT, 0.3f);
    mts_stage *s = w->stages;
    s[0].kind = MTS_STAGE_NORM;
    s[0].as.norm = (mts_norm_stage){IN, MTS_NORM_MODE_AFFINE, 0.0f, w->norm_w, w->norm_b};
    s[1].kind = MTS_STAGE_SRU;
    s[1].as.sru.input_size = IN;
    s[1].as.sru.hidden_size = HID;
    s[1].as.sru.num_directions = 1;
    s[1].as.sru.weight = w->sru_w;
    s[1].as.sru.bias = w->sru_b;
    s[2].kind = MTS_STAGE_DENSE;
    s[2].as.dense.input_size = HID;
    s[2].as.dense.output_size = MID;
    s[2].as.dense.activation = MTS_DENSE_RELU;
    s[2].as.dense.weight = w->d1_w;
    s[2].as.dense.bias = w->d1_b;
    s[3].kind = MTS_STAGE_DENSE;
    s[3].as.dense.input_size = MID;
    s[3].as.dense.output_size = OUT;
    s[3].as.dense.weight = w->d2_w;
    s[3].as.dense.bias = w->d2_b;
    s[4].kind = MTS_STAGE_SOFTMAX;
    s[4].as.softmax.size = OUT;
    w->model.num_stages = 5;
    w->model.stages = w->stages;
}

static void whole_free(whole_model *w)
{
    float *arrays[] = {w->norm_w, w->norm_b, w->sru_w, w->sru_b,
                       w->d1_w,   w->d1_b,   w->d2_w,  w->d2_b};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
}

/* The model's equations in float64 (docs/spec.md 2 for the SRU). */
static void whole_reference(const whole_model *w, const float *x, size_t len, double *y)
{
    double c[HID] = {0};
    for (size_t t = 0; t < len; t++) {
        double v[IN], u[3 * HID], h[HID], mid[MID], out[OUT];
        for (size_t i = 0; i < IN; i++)
            v[i] = (double)x[t * IN + i] * w->norm_w[i] + w->norm_b[i];
        for (size_t r = 0; r < 3 * HID; r++) {
            u[r] = 0.0;
            for (size_t i = 0; i < IN; i++)
                u[r] += (double)w->sru_w[r * IN + i] * v[i];
        }
        for (size_t j = 0; j < HID; j++) {
            const double f = sigmoid_d(u[HID + j] + w->sru_b[j]);
            const double r = sigmoid_d(u[2 * HID + j] + w->sru_b[HID + j]);
            c[j] = (c[j] - u[j]) * f + u[j];
            h[j] = c[j] * r;
        }
        for (size_t r = 0; r < MID; r++) {
            double a = w->d1_b[r];
            for (size_t i = 0; i < HID; i++)
                a += (double)w->d1_w[r * HID + i] * h[i];
            mid[r] = a > 0.0 ? a : 0.0;
        }
        double max = -INFINITY, sum = 0.0;
        for (size_t r = 0; r < OUT; r++) {
            double a = w->d2_b[r];
            for (size_t i = 0; i < MID; i++)
                a += (double)w->d2_w[r * MID + i] * mid[i];
            out[r] = a;
            max = a > max ? a : max;
        }
        for (size_t r = 0; r < OUT; r++)
            sum += exp(out[r] - max);
        for (size_t r = 0; r < OUT; r++)
            y[t * OUT + r] = exp(out[r] - max) / sum;
    }
}

static void test_whole_model(void)
{
    whole_model w;
    whole_make(&w);
    const mts_model *m = &w.model;
    CHECK_STATUS(mts_model_check(m), MTS_OK);
    size_t in, out, state_floats;
    CHECK_STATUS(mts_model_io_sizes(m, &in, &out), MTS_OK);
    CHECK(in == IN && out == OUT, "io %lu %lu", (unsigned long)in, (unsigned long)out);
    CHECK_STATUS(mts_model_state_size(m, &state_floats), MTS_OK);
    CHECK(state_floats == HID, "state %lu: the SRU's only", (unsigned long)state_floats);

    float *x = random_floats(LEN * IN, 2.0f);
    float h[LEN * OUT], h1[LEN * OUT];
    double want[LEN * OUT];
    whole_reference(&w, x, LEN, want);
    CHECK_STATUS(run(m, 1, x, LEN, h1), MTS_OK);
    CHECK(max_diff_d(h1, want, LEN * OUT) <= 1e-5, "whole model vs float64: %g",
          max_diff_d(h1, want, LEN * OUT));
    static const size_t blocks[] = {3, 4, 16, 64};
    static const size_t pieces[] = {1, 5, 2, 16, 3, 40};
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++) {
        CHECK_STATUS(run(m, blocks[k], x, LEN, h), MTS_OK);
        CHECK(max_diff_f(h, h1, LEN * OUT) <= 1e-6, "T = %lu differs from T = 1 by %g",
              (unsigned long)blocks[k], max_diff_f(h, h1, LEN * OUT));
        CHECK_STATUS(run_pieces(m, blocks[k], x, LEN, pieces, h), MTS_OK);
        CHECK(max_diff_f(h, h1, LEN * OUT) <= 1e-6, "T = %lu in pieces differs by %g",
              (unsigned long)blocks[k], max_diff_f(h, h1, LEN * OUT));
    }

    /* Chaining: stage 3 must take stage 2's MID outputs. */
    w.stages[3].as.dense.input_size = MID + 1;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_CONFIG);
    w.stages[3].as.dense.input_size = MID;
    /* Scalar fields of the SRU stage. */
    w.stages[1].as.sru.scale_x = NAN;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_VALUE);
    w.stages[1].as.sru.scale_x = 3e38f;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_VALUE);
    w.stages[1].as.sru.scale_x = -INFINITY;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_VALUE);
    w.stages[1].as.sru.scale_x = 1.0f;
    w.stages[1].as.sru.norm_eps = -1e-5f;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_VALUE);
    w.stages[1].as.sru.norm_eps = 0.0f;
    CHECK_STATUS(mts_model_check(m), MTS_OK);
    free(x);
    whole_free(&w);
}

/* norm -> bidirectional SRU -> dense(tanh) -> softmax(log): run stage by
 * stage (both sequence buffers in use), against the four stages run one
 * after another as single-stage models. */
static void test_bidirectional_whole(void)
{
    enum { N = 4, D = 3, M = 5, L = 11 };
    float *nw = random_floats(N, 1.0f), *nb = random_floats(N, 0.3f);
    float *sw = random_floats(2 * 3 * D * N, 0.8f), *sb = random_floats(2 * 2 * D, 0.5f);
    float *dw = random_floats(M * 2 * D, 0.8f);
    mts_stage s[4];
    memset(s, 0, sizeof s);
    s[0].kind = MTS_STAGE_NORM;
    s[0].as.norm = (mts_norm_stage){N, MTS_NORM_MODE_LAYER, 1e-5f, nw, nb};
    s[1].kind = MTS_STAGE_SRU;
    s[1].as.sru.input_size = N;
    s[1].as.sru.hidden_size = D;
    s[1].as.sru.num_directions = 2;
    s[1].as.sru.activation = MTS_ACTIVATION_TANH;
    s[1].as.sru.weight = sw;
    s[1].as.sru.bias = sb;
    s[2].kind = MTS_STAGE_DENSE;
    s[2].as.dense.input_size = 2 * D;
    s[2].as.dense.output_size = M;
    s[2].as.dense.activation = MTS_DENSE_TANH;
    s[2].as.dense.weight = dw;
    s[3].kind = MTS_STAGE_SOFTMAX;
    s[3].as.softmax.size = M;
    s[3].as.softmax.log = 1;
    const mts_model whole = {4, s};
    float *x = random_floats(L * N, 2.0f);
    float h[L * M], a[L * N], b[L * 2 * D], c[L * M], d[L * M];
    const mts_model m0 = {1, &s[0]}, m1 = {1, &s[1]}, m2 = {1, &s[2]}, m3 = {1, &s[3]};
    CHECK_STATUS(run(&m0, 4, x, L, a), MTS_OK);
    CHECK_STATUS(run(&m1, 4, a, L, b), MTS_OK);
    CHECK_STATUS(run(&m2, 4, b, L, c), MTS_OK);
    CHECK_STATUS(run(&m3, 4, c, L, d), MTS_OK);
    for (size_t block = 1; block <= 16; block *= 4) {
        CHECK_STATUS(run(&whole, block, x, L, h), MTS_OK);
        CHECK(max_diff_f(h, d, L * M) <= 1e-6, "bidirectional whole model, T = %lu: %g",
              (unsigned long)block, max_diff_f(h, d, L * M));
    }
    free(nw);
    free(nb);
    free(sw);
    free(sb);
    free(dw);
    free(x);
}

/* mts_stage_describe against each header's documented layout: the products
 * (rows x depth, scheme, the arrays they read), the other float parameters
 * and the state, per stage kind; and its errors. */
static void test_describe(void)
{
    static float w[64], wp[8], b[16], c[16];
    static int8_t wq[64];
    static float ws[16];
    mts_stage_info info;
    mts_stage stage;

    /* SRU, n = 3, d = 4, D = 2, projected skip (k = 4), projection p = 2,
     * norm after: W is [D*k*d][p] = 32 x 2, W_proj [p][n] = 2 x 3; bias and
     * weight_c 2*D*d = 16 each, the norm's weight and bias D*d = 8 each. */
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_SRU;
    stage.as.sru = (mts_sru_layer){.input_size = 3, .hidden_size = 4, .num_directions = 2,
                                   .projection_size = 2, .skip = MTS_SKIP_PROJECTED,
                                   .norm = MTS_NORM_AFTER, .norm_eps = 1e-5f, .weight = w,
                                   .weight_proj = wp, .weight_c = c, .bias = b};
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 2u && info.products[0].rows == 32u &&
              info.products[0].depth == 2u && info.products[0].weight == w &&
              info.products[0].quant == MTS_QUANT_NONE,
          "SRU: W, every gate of both directions over the projection's width");
    CHECK(info.products[1].rows == 2u && info.products[1].depth == 3u &&
              info.products[1].weight == wp,
          "SRU: the projection W_proj");
    CHECK(info.other_floats == 16u + 16u + 8u + 8u && info.state_floats == 8u,
          "SRU: bias, weight_c, the norm's weight and bias; c of D*d");
    stage.as.sru.weight_c = NULL;
    stage.as.sru.projection_size = 0;
    stage.as.sru.quant = MTS_QUANT_INT8_WA;
    stage.as.sru.weight_q = wq;
    stage.as.sru.weight_scale = ws;
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 1u && info.products[0].depth == 3u &&
              info.products[0].quant == MTS_QUANT_INT8_WA && info.products[0].weight_q == wq &&
              info.products[0].weight_scale == ws && info.other_floats == 16u + 8u + 8u,
          "SRU int8-wa without projection or weight_c: one int8 product of depth n");

    /* QRNN, n = 3, H = 4, window 2, fo (G = 3): W [G*H][w*n] = 12 x 6; the
     * state c[H] and w - 1 = 1 previous input. */
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_QRNN;
    stage.as.qrnn = (mts_qrnn_layer){.input_size = 3, .hidden_size = 4, .window = 2,
                                     .output_gate = 1, .weight = w, .bias = b};
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 1u && info.products[0].rows == 12u &&
              info.products[0].depth == 6u && info.other_floats == 12u &&
              info.state_floats == 4u + 3u,
          "QRNN: W over the window; bias of G*H; c and one previous input");

    /* Dense 5 -> 3, with and without bias: no state. */
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_DENSE;
    stage.as.dense = (mts_dense_layer){.input_size = 5, .output_size = 3, .weight = w, .bias = b};
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 1u && info.products[0].rows == 3u &&
              info.products[0].depth == 5u && info.other_floats == 3u && info.state_floats == 0u,
          "dense: W [m][n] and its bias, no state");
    stage.as.dense.bias = NULL;
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.other_floats == 0u, "dense without bias");

    /* minLSTM (G = 3), n = 2, H = 4, output projection to m = 3. */
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_MINLSTM;
    stage.as.min = (mts_min_layer){.input_size = 2, .hidden_size = 4, .output_size = 3,
                                   .has_output = 1, .weight = w, .weight_out = wp};
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 2u && info.products[0].rows == 12u &&
              info.products[0].depth == 2u && info.products[1].rows == 3u &&
              info.products[1].depth == 4u && info.products[1].weight == wp &&
              info.other_floats == 0u && info.state_floats == 4u,
          "minLSTM: every gate of the input, then W_out of the states; h[H]");

    /* IndRNN, n = 3, H = 5: W [H][n], u and b of H. */
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_INDRNN;
    stage.as.indrnn = (mts_indrnn_layer){.input_size = 3, .hidden_size = 5,
                                         .activation = MTS_INDRNN_RELU, .weight = w,
                                         .weight_hh = c, .bias = b};
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 1u && info.products[0].rows == 5u &&
              info.products[0].depth == 3u && info.other_floats == 10u && info.state_floats == 5u,
          "IndRNN: W, then u and b; h[H]");

    /* Norm and softmax: no product, no state. */
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_NORM;
    stage.as.norm = (mts_norm_stage){.size = 6, .mode = MTS_NORM_MODE_LAYER, .eps = 1e-5f,
                                     .weight = w, .bias = b};
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 0u && info.other_floats == 12u && info.state_floats == 0u,
          "norm: weight and bias");
    memset(&stage, 0, sizeof stage);
    stage.kind = MTS_STAGE_SOFTMAX;
    stage.as.softmax.size = 6;
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_OK);
    CHECK(info.num_products == 0u && info.other_floats == 0u, "softmax: nothing");

    /* Errors: what mts_model_check says of the same stage; info untouched. */
    CHECK_STATUS(mts_stage_describe(NULL, &info), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_stage_describe(&stage, NULL), MTS_ERR_NULL_POINTER);
    stage.as.softmax.size = 0;
    info.num_products = 7u;
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_ERR_BAD_SIZE);
    CHECK(info.num_products == 7u, "nothing written on error");
    stage.kind = 99;
    CHECK_STATUS(mts_stage_describe(&stage, &info), MTS_ERR_BAD_CONFIG);
}

int main(void)
{
    test_norm();
    test_dense();
    test_softmax();
    test_whole_model();
    test_bidirectional_whole();
    test_describe();
    return check_summary("stages");
}
