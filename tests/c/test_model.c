/* C tests of the model API and the blocked-product variants.
 *
 * Run natively and under ASan+UBSan (ctest in build-asan): every buffer is
 * allocated with exactly the size the API asks for, so any out-of-bounds
 * access in a driver or kernel is reported. Numerical agreement with the
 * independent NumPy reference is tested from Python (tests/python); here:
 *   - every documented status code for bad arguments;
 *   - each gemm variant against a double-precision product computed here,
 *     with guard values around the output to catch stray writes;
 *   - block-size and streaming invariance of SRU and QRNN stacks covering
 *     every option, for every gemm variant.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"

#include "check.h"

/* A malloc'd array of exactly n random floats (never NULL for n == 0). */
static float *random_floats(size_t n, float bound)
{
    float *a = malloc(n ? n * sizeof(float) : 1);
    if (a == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        a[i] = rng_uniform(bound);
    return a;
}

/* ---- gemm variants ---------------------------------------------------- */

static void test_gemm_variants(void)
{
    static const size_t rows_list[] = {1, 2, 3, 4, 5, 7, 8, 9, 17, 33};
    static const size_t depth_list[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100};
    static const size_t steps_list[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17};
    const float guard = 12345.0f;
    for (size_t v = 0; v < mts_gemm_f32_variant_count; v++) {
        const mts_gemm_f32_variant *variant = &mts_gemm_f32_variants[v];
        if (!mts_cpu_supports(variant->requires))
            continue; /* built, but this CPU lacks its instruction set */
        size_t worst_case = 0;
        double worst = 0.0;
        for (size_t a = 0; a < sizeof rows_list / sizeof *rows_list; a++)
        for (size_t b = 0; b < sizeof depth_list / sizeof *depth_list; b++)
        for (size_t c = 0; c < sizeof steps_list / sizeof *steps_list; c++) {
            const size_t rows = rows_list[a], depth = depth_list[b], steps = steps_list[c];
            /* Odd strides larger than the rows, so stride bugs show. */
            const size_t w_stride = depth + 3, x_stride = depth + 5, y_stride = rows + 2;
            float *w = random_floats(rows * w_stride, 1.0f);
            float *x = random_floats(steps * x_stride, 1.0f);
            float *y = malloc(steps * y_stride * sizeof(float));
            for (size_t i = 0; i < steps * y_stride; i++)
                y[i] = guard;
            variant->fn(rows, depth, steps, w, w_stride, x, x_stride, y, y_stride);
            for (size_t t = 0; t < steps; t++) {
                for (size_t r = 0; r < rows; r++) {
                    double exact = 0.0, magnitude = 0.0;
                    for (size_t i = 0; i < depth; i++) {
                        exact += (double)w[r * w_stride + i] * (double)x[t * x_stride + i];
                        magnitude += fabs((double)w[r * w_stride + i] * (double)x[t * x_stride + i]);
                    }
                    /* float summation of depth terms: error <= depth * eps * sum|terms| */
                    const double err = fabs((double)y[t * y_stride + r] - exact);
                    const double bound = (double)depth * 1.2e-7 * magnitude + 1e-30;
                    if (err / bound > worst) {
                        worst = err / bound;
                        worst_case = rows * 1000000 + depth * 1000 + steps;
                    }
                }
                for (size_t r = rows; r < y_stride; r++)
                    CHECK(y[t * y_stride + r] == guard, "%s wrote outside its rows", variant->name);
                /* The same step alone (T = 1, the single-step tiles): the
                 * same bits, since an output's summation order may depend
                 * only on the depth. */
                float one[40];
                variant->fn(rows, depth, 1, w, w_stride, x + t * x_stride, x_stride, one, y_stride);
                CHECK(memcmp(one, y + t * y_stride, rows * sizeof(float)) == 0,
                      "%s: step %lu of a block of %lu differs from the step alone "
                      "(rows,depth=%lu,%lu)", variant->name, (unsigned long)t,
                      (unsigned long)steps, (unsigned long)rows, (unsigned long)depth);
            }
            free(w);
            free(x);
            free(y);
        }
        CHECK(worst <= 1.0, "%s: error %.3g x the float summation bound (rows,depth,steps=%lu)",
              variant->name, worst, (unsigned long)worst_case);
    }
}

/* ---- model fixtures ---------------------------------------------------- */

typedef struct {
    mts_stage stages[3];
    float *arrays[3][6];
    mts_model model;
} sru_fixture;

typedef struct {
    uint32_t n, d, dirs, proj, layers;
    uint8_t act, skip, norm;
    int has_v;
} sru_config;

static void sru_make(sru_fixture *f, const sru_config *cfg)
{
    memset(f, 0, sizeof *f);
    uint32_t n = cfg->n;
    const uint32_t out = cfg->d * cfg->dirs;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        f->stages[l].kind = MTS_STAGE_SRU;
        mts_sru_layer *layer = &f->stages[l].as.sru;
        layer->input_size = n;
        layer->hidden_size = cfg->d;
        layer->num_directions = cfg->dirs;
        layer->projection_size = cfg->proj;
        layer->activation = cfg->act;
        /* A scaled skip needs n == out; the first layer may differ. */
        layer->skip = cfg->skip == MTS_SKIP_SCALED_INPUT && n != out ? MTS_SKIP_PROJECTED
                                                                      : cfg->skip;
        layer->norm = cfg->norm;
        layer->scale_x = 0.75f;
        layer->norm_eps = 1e-5f;
        mts_sru_array_sizes sizes;
        if (mts_sru_layer_array_sizes(layer, &sizes) != MTS_OK) {
            fprintf(stderr, "bad fixture\n");
            exit(2);
        }
        const size_t depth = cfg->proj ? cfg->proj : n;
        f->arrays[l][0] = random_floats(sizes.weight, 1.7f / sqrtf((float)depth));
        f->arrays[l][1] = sizes.weight_proj ? random_floats(sizes.weight_proj,
                                                            1.7f / sqrtf((float)n)) : NULL;
        f->arrays[l][2] = cfg->has_v ? random_floats(sizes.weight_c, 0.5f) : NULL;
        f->arrays[l][3] = random_floats(sizes.bias, 0.5f);
        f->arrays[l][4] = sizes.norm_weight ? random_floats(sizes.norm_weight, 1.0f) : NULL;
        f->arrays[l][5] = sizes.norm_bias ? random_floats(sizes.norm_bias, 0.2f) : NULL;
        layer->weight = f->arrays[l][0];
        layer->weight_proj = f->arrays[l][1];
        layer->weight_c = f->arrays[l][2];
        layer->bias = f->arrays[l][3];
        layer->norm_weight = f->arrays[l][4];
        layer->norm_bias = f->arrays[l][5];
        n = out;
    }
    f->model.num_stages = cfg->layers;
    f->model.stages = f->stages;
}

static void sru_free(sru_fixture *f)
{
    for (size_t l = 0; l < 3; l++)
        for (size_t a = 0; a < 6; a++)
            free(f->arrays[l][a]);
}

typedef struct {
    mts_stage stages[3];
    float *arrays[3][2];
    mts_model model;
} qrnn_fixture;

static void qrnn_make(qrnn_fixture *f, uint32_t n, uint32_t hidden, uint32_t window,
                      uint32_t num_layers, uint8_t input_gate, uint8_t output_gate,
                      float zoneout)
{
    memset(f, 0, sizeof *f);
    for (uint32_t l = 0; l < num_layers; l++) {
        f->stages[l].kind = MTS_STAGE_QRNN;
        mts_qrnn_layer *layer = &f->stages[l].as.qrnn;
        layer->input_size = n;
        layer->hidden_size = hidden;
        layer->window = window;
        layer->input_gate = input_gate;
        layer->output_gate = output_gate;
        layer->zoneout = zoneout;
        mts_qrnn_array_sizes sizes;
        if (mts_qrnn_layer_array_sizes(layer, &sizes) != MTS_OK) {
            fprintf(stderr, "bad fixture\n");
            exit(2);
        }
        f->arrays[l][0] = random_floats(sizes.weight, 1.7f / sqrtf((float)(window * n)));
        f->arrays[l][1] = random_floats(sizes.bias, 0.5f);
        layer->weight = f->arrays[l][0];
        layer->bias = f->arrays[l][1];
        n = hidden;
    }
    f->model.num_stages = num_layers;
    f->model.stages = f->stages;
}

static void qrnn_free(qrnn_fixture *f)
{
    for (size_t l = 0; l < 3; l++)
        for (size_t a = 0; a < 2; a++)
            free(f->arrays[l][a]);
}

/* ---- forward helpers ---------------------------------------------------- */

/* Run x through the model in calls of the given lengths (summing to seq_len),
 * each with an exactly sized workspace; h and the final state are written.
 * Returns the first non-OK status. */
static mts_status run_pieces(const mts_model *model, mts_gemm_f32_fn gemm, size_t block,
                             const float *x, size_t seq_len, const size_t *pieces,
                             size_t num_pieces, const float *state0, float *state, float *h)
{
    size_t in_size, out_size, state_floats;
    mts_status status = mts_model_io_sizes(model, &in_size, &out_size);
    if (status == MTS_OK)
        status = mts_model_state_size(model, &state_floats);
    if (status != MTS_OK)
        return status;
    memcpy(state, state0, state_floats * sizeof(float));
    size_t t = 0;
    for (size_t p = 0; p < num_pieces && status == MTS_OK; p++) {
        const size_t len = pieces[p] < seq_len - t ? pieces[p] : seq_len - t;
        size_t bytes;
        status = mts_model_workspace_size(model, block, len, &bytes);
        if (status != MTS_OK)
            return status;
        void *workspace = malloc(bytes);
        /* Exact-size copies of the piece, so reads past it are caught. */
        float *x_piece = malloc((len ? len : 1) * in_size * sizeof(float));
        float *h_piece = malloc((len ? len : 1) * out_size * sizeof(float));
        memcpy(x_piece, x + t * in_size, len * in_size * sizeof(float));
        const mts_run_options options = {.block = block, .gemm = gemm};
        status = mts_model_forward(model, &options, state, state_floats, x_piece, len, h_piece,
                                   workspace, bytes);
        memcpy(h + t * out_size, h_piece, len * out_size * sizeof(float));
        free(workspace);
        free(x_piece);
        free(h_piece);
        t += len;
    }
    return status;
}

static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double scale = fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0;
        const double d = fabs((double)a[i] - (double)b[i]) / scale;
        if (!(d <= worst))
            worst = d; /* also catches NaN */
    }
    return worst;
}

/* For one model: every block size and every split of the sequence into
 * pieces agrees with one whole call at T = 1 (same gemm variant), and every
 * variant agrees with the reference variant. */
static void check_invariance(const mts_model *model, const char *name, int streamable)
{
    static const size_t blocks[] = {1, 2, 3, 4, 5, 8, 16, 33};
    const size_t seq_len = 37;
    size_t in_size, out_size, state_floats;
    CHECK_STATUS(mts_model_io_sizes(model, &in_size, &out_size), MTS_OK);
    CHECK_STATUS(mts_model_state_size(model, &state_floats), MTS_OK);
    float *x = random_floats(seq_len * in_size, 1.0f);
    float *state0 = random_floats(state_floats, 1.0f);
    float *state_ref = malloc(state_floats * sizeof(float));
    float *state = malloc(state_floats * sizeof(float));
    float *h_ref = malloc(seq_len * out_size * sizeof(float));
    float *h = malloc(seq_len * out_size * sizeof(float));
    const size_t whole[] = {seq_len};
    const size_t pieces[] = {1, 5, 0, 3, 16, 12};

    float *h_base = malloc(seq_len * out_size * sizeof(float));
    CHECK_STATUS(run_pieces(model, mts_gemm_f32_reference, 1, x, seq_len, whole, 1, state0,
                            state, h_base), MTS_OK);
    for (size_t v = 0; v < mts_gemm_f32_variant_count; v++) {
        if (!mts_cpu_supports(mts_gemm_f32_variants[v].requires))
            continue;
        const mts_gemm_f32_fn gemm = mts_gemm_f32_variants[v].fn;
        const char *vname = mts_gemm_f32_variants[v].name;
        CHECK_STATUS(run_pieces(model, gemm, 1, x, seq_len, whole, 1, state0, state_ref, h_ref),
                     MTS_OK);
        const double variant_diff = max_rel_diff(h_ref, h_base, seq_len * out_size);
        CHECK(variant_diff <= 1e-5, "%s %s vs reference variant: %.3g", name, vname,
              variant_diff);
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
            CHECK_STATUS(run_pieces(model, gemm, blocks[b], x, seq_len, whole, 1, state0, state,
                                    h), MTS_OK);
            const double dh = max_rel_diff(h, h_ref, seq_len * out_size);
            const double dc = max_rel_diff(state, state_ref, state_floats);
            CHECK(dh <= 1e-6 && dc <= 1e-6, "%s %s T=%lu vs T=1: h %.3g state %.3g", name,
                  vname, (unsigned long)blocks[b], dh, dc);
            if (!streamable)
                continue;
            CHECK_STATUS(run_pieces(model, gemm, blocks[b], x, seq_len, pieces,
                                    sizeof pieces / sizeof *pieces, state0, state, h), MTS_OK);
            const double sh = max_rel_diff(h, h_ref, seq_len * out_size);
            const double sc = max_rel_diff(state, state_ref, state_floats);
            CHECK(sh <= 1e-6 && sc <= 1e-6, "%s %s T=%lu streamed: h %.3g state %.3g", name,
                  vname, (unsigned long)blocks[b], sh, sc);
        }
    }
    free(h_base);
    free(x);
    free(state0);
    free(state_ref);
    free(state);
    free(h_ref);
    free(h);
}

static void test_sru_invariance(void)
{
    static const uint32_t sizes[][3] = {{1, 1, 0}, {5, 3, 2}, {17, 17, 0}, {13, 6, 4}, {40, 20, 7}};
    size_t count = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (uint32_t dirs = 1; dirs <= 2; dirs++)
    for (uint8_t act = 0; act <= 1; act++)
    for (uint8_t skip = 0; skip <= 2; skip++)
    for (uint8_t norm = 0; norm <= 2; norm++)
    for (int has_v = 0; has_v <= 1; has_v++) {
        /* Thin the grid deterministically: every option still appears with
         * every other, just not in all combinations. */
        if ((s + dirs + act + skip + norm + (size_t)has_v) % 3 != 0)
            continue;
        const sru_config cfg = {sizes[s][0], sizes[s][1], dirs,
                                (s + norm) % 2 ? sizes[s][2] : 0, 1 + (uint32_t)(s % 3), act,
                                skip, norm, has_v};
        sru_fixture f;
        sru_make(&f, &cfg);
        CHECK_STATUS(mts_model_check(&f.model), MTS_OK);
        char name[96];
        snprintf(name, sizeof name, "SRU n=%u d=%u D=%u p=%u L=%u act=%u skip=%u norm=%u v=%d",
                 (unsigned)cfg.n, (unsigned)cfg.d, (unsigned)dirs, (unsigned)cfg.proj,
                 (unsigned)cfg.layers, (unsigned)act, (unsigned)skip, (unsigned)norm, has_v);
        check_invariance(&f.model, name, dirs == 1);
        sru_free(&f);
        count++;
    }
    CHECK(count >= 40, "only %lu SRU configurations", (unsigned long)count);
}

static void test_qrnn_invariance(void)
{
    static const uint32_t sizes[][2] = {{1, 1}, {7, 5}, {16, 16}, {19, 9}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (uint32_t window = 1; window <= 3; window++)
    for (uint8_t ig = 0; ig <= 1; ig++)
    for (uint8_t og = 0; og <= 1; og++) {
        qrnn_fixture f;
        const float zoneout = (s + window) % 2 ? 0.25f : 0.0f;
        qrnn_make(&f, sizes[s][0], sizes[s][1], window, 1 + (uint32_t)((s + window) % 3), ig,
                  og, zoneout);
        CHECK_STATUS(mts_model_check(&f.model), MTS_OK);
        char name[96];
        snprintf(name, sizeof name, "QRNN n=%u H=%u w=%u ig=%u og=%u p=%.2f",
                 (unsigned)sizes[s][0], (unsigned)sizes[s][1], (unsigned)window, ig, og,
                 (double)zoneout);
        check_invariance(&f.model, name, 1);
        qrnn_free(&f);
    }
}

/* ---- bad arguments -------------------------------------------------------- */

static void test_bad_arguments(void)
{
    const sru_config cfg = {6, 3, 2, 0, 2, 0, MTS_SKIP_SCALED_INPUT, MTS_NORM_BEFORE, 1};
    sru_fixture f;
    sru_make(&f, &cfg);
    const mts_model *m = &f.model;
    size_t state_floats, bytes, in_size, out_size;
    CHECK_STATUS(mts_model_state_size(m, &state_floats), MTS_OK);
    CHECK_STATUS(mts_model_io_sizes(m, &in_size, &out_size), MTS_OK);
    CHECK(state_floats == 2 * 6 && in_size == 6 && out_size == 6, "sizes %lu %lu %lu",
          (unsigned long)state_floats, (unsigned long)in_size, (unsigned long)out_size);
    const size_t seq_len = 4;
    CHECK_STATUS(mts_model_workspace_size(m, 3, seq_len, &bytes), MTS_OK);
    float *state = calloc(state_floats, sizeof(float));
    float *x = random_floats(seq_len * in_size, 1.0f);
    float *h = malloc(seq_len * out_size * sizeof(float));
    void *ws = malloc(bytes);
    const mts_run_options opt = {.block = 3};

    /* NULL pointers. */
    CHECK_STATUS(mts_model_check(NULL), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_state_size(m, NULL), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_workspace_size(m, 3, 4, NULL), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_io_sizes(m, NULL, &out_size), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_reset_state(m, NULL, state_floats), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_forward(m, NULL, state, state_floats, x, seq_len, h, ws, bytes),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_forward(m, &opt, NULL, state_floats, x, seq_len, h, ws, bytes),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, NULL, seq_len, h, ws, bytes),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, NULL, ws, bytes),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, h, NULL, bytes),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_sru_layer_array_sizes(NULL, NULL), MTS_ERR_NULL_POINTER);
    {
        const float *saved = f.stages[1].as.sru.bias;
        f.stages[1].as.sru.bias = NULL;
        CHECK_STATUS(mts_model_check(m), MTS_ERR_NULL_POINTER);
        f.stages[1].as.sru.bias = saved;
        saved = f.stages[0].as.sru.norm_weight;
        f.stages[0].as.sru.norm_weight = NULL;
        CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, h, ws, bytes),
                     MTS_ERR_NULL_POINTER);
        f.stages[0].as.sru.norm_weight = saved;
    }

    /* Sizes: zero, too large, inconsistent. */
    f.stages[0].as.sru.input_size = 0;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_SIZE);
    f.stages[0].as.sru.input_size = MTS_MAX_DIM + 1u;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_SIZE);
    f.stages[0].as.sru.input_size = 5; /* scaled skip with n != out */
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_CONFIG);
    f.stages[0].as.sru.input_size = 6;
    f.stages[1].as.sru.hidden_size = 4; /* layer 1 outputs 8, not 6: stages may */
    f.stages[1].as.sru.input_size = 6;
    f.stages[1].as.sru.skip = MTS_SKIP_PROJECTED;
    CHECK_STATUS(mts_model_check(m), MTS_OK);
    f.stages[1].as.sru.input_size = 5; /* but stage 1 must take stage 0's 6 outputs */
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_CONFIG);
    f.stages[1].as.sru.input_size = 6;
    f.stages[1].as.sru.hidden_size = 3;
    f.stages[1].as.sru.skip = MTS_SKIP_SCALED_INPUT;
    f.stages[0].as.sru.hidden_size = 0;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_SIZE);
    f.stages[0].as.sru.hidden_size = 3;
    f.stages[0].as.sru.num_directions = 3;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_CONFIG);
    f.stages[0].as.sru.num_directions = 2;
    f.stages[0].as.sru.activation = 7;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_CONFIG);
    f.stages[0].as.sru.activation = 0;
    f.stages[0].as.sru.norm_eps = 0.0f;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_VALUE);
    f.stages[0].as.sru.norm_eps = 1e-5f;
    f.model.num_stages = 0;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_SIZE);
    f.model.num_stages = MTS_MAX_STAGES + 1u;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_SIZE);
    f.model.num_stages = 2;
    f.stages[1].kind = 9;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_BAD_CONFIG);
    f.stages[1].kind = MTS_STAGE_SRU;
    f.model.stages = NULL;
    CHECK_STATUS(mts_model_check(m), MTS_ERR_NULL_POINTER);
    f.model.stages = f.stages;
    CHECK_STATUS(mts_model_check(m), MTS_OK);

    /* Block, state size, workspace. */
    const mts_run_options zero_block = {.block = 0};
    CHECK_STATUS(mts_model_forward(m, &zero_block, state, state_floats, x, seq_len, h, ws, bytes),
                 MTS_ERR_BAD_SIZE);
    CHECK_STATUS(mts_model_workspace_size(m, 0, 4, &bytes), MTS_ERR_BAD_SIZE);
    CHECK_STATUS(mts_model_workspace_size(m, 3, seq_len, &bytes), MTS_OK);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats + 1, x, seq_len, h, ws, bytes),
                 MTS_ERR_BAD_STATE_SIZE);
    CHECK_STATUS(mts_model_reset_state(m, state, state_floats - 1), MTS_ERR_BAD_STATE_SIZE);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, h, ws, bytes - 1),
                 MTS_ERR_WORKSPACE_TOO_SMALL);
    /* A bidirectional stack needs a sequence-long buffer: a longer sequence
     * than the workspace was sized for is refused. */
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, h, ws, bytes),
                 MTS_OK);
    size_t bytes_short;
    CHECK_STATUS(mts_model_workspace_size(m, 3, seq_len - 1, &bytes_short), MTS_OK);
    CHECK(bytes_short < bytes, "workspace does not grow with seq_len: %lu %lu",
          (unsigned long)bytes_short, (unsigned long)bytes);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, h, ws, bytes_short),
                 MTS_ERR_WORKSPACE_TOO_SMALL);
    /* Each stage's own rows: the model's workspace holds the largest stage's
     * and 64 bytes of alignment at least; a model of that stage alone needs
     * exactly its rows and the 64 bytes (no rows between stages, no sequence
     * buffers). */
    size_t own[2], alone;
    CHECK_STATUS(mts_model_stage_workspace_size(m, 0, 3, NULL), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_stage_workspace_size(NULL, 0, 3, &alone), MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_stage_workspace_size(m, 0, 0, &alone), MTS_ERR_BAD_SIZE);
    CHECK_STATUS(mts_model_stage_workspace_size(m, 2, 3, &alone), MTS_ERR_BAD_SIZE);
    CHECK_STATUS(mts_model_stage_workspace_size(m, 0, SIZE_MAX / 8, &alone), MTS_ERR_OVERFLOW);
    for (size_t s = 0; s < 2; s++) {
        CHECK_STATUS(mts_model_stage_workspace_size(m, s, 3, &own[s]), MTS_OK);
        /* at least 3 steps of the input and of one direction's product
         * (3 blocks x hidden 3) rows: 3 x (6 + 9) floats */
        CHECK(own[s] >= 3 * (6 + 9) * sizeof(float) && own[s] + 64 <= bytes_short,
              "stage %lu: own %lu, model %lu", (unsigned long)s, (unsigned long)own[s],
              (unsigned long)bytes_short);
    }
    f.model.num_stages = 1;
    CHECK_STATUS(mts_model_workspace_size(m, 3, seq_len, &alone), MTS_OK);
    CHECK(alone == own[0] + 64, "one stage: model %lu, stage %lu", (unsigned long)alone,
          (unsigned long)own[0]);
    f.model.num_stages = 2;

    /* Overflowing sizes. */
    CHECK_STATUS(mts_model_workspace_size(m, SIZE_MAX / 8, 4, &bytes), MTS_ERR_OVERFLOW);
    CHECK_STATUS(mts_model_workspace_size(m, 3, SIZE_MAX / 2, &bytes), MTS_ERR_OVERFLOW);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, SIZE_MAX / 4, h, ws, bytes),
                 MTS_ERR_OVERFLOW);

    /* Overlapping buffers. */
    CHECK_STATUS(mts_model_workspace_size(m, 3, seq_len, &bytes), MTS_OK);
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, seq_len, x, ws, bytes),
                 MTS_ERR_OVERLAP);
    CHECK_STATUS(mts_model_forward(m, &opt, h, state_floats, x, seq_len, h, ws, bytes),
                 MTS_ERR_OVERLAP);

    /* seq_len 0 is a no-op that leaves the state alone. */
    for (size_t i = 0; i < state_floats; i++)
        state[i] = 1.5f;
    CHECK_STATUS(mts_model_forward(m, &opt, state, state_floats, x, 0, h, ws, bytes), MTS_OK);
    CHECK(state[0] == 1.5f && state[state_floats - 1] == 1.5f, "state changed by seq_len 0");
    CHECK_STATUS(mts_model_reset_state(m, state, state_floats), MTS_OK);
    CHECK(state[0] == 0.0f && state[state_floats - 1] == 0.0f, "state not reset");

    /* QRNN options. */
    qrnn_fixture q;
    qrnn_make(&q, 4, 3, 2, 1, 0, 1, 0.0f);
    CHECK_STATUS(mts_model_check(&q.model), MTS_OK);
    CHECK_STATUS(mts_model_state_size(&q.model, &state_floats), MTS_OK);
    CHECK(state_floats == 3 + 4, "QRNN state floats %lu", (unsigned long)state_floats);
    q.stages[0].as.qrnn.window = 0;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_BAD_SIZE);
    q.stages[0].as.qrnn.window = 65;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_BAD_SIZE);
    q.stages[0].as.qrnn.window = 2;
    q.stages[0].as.qrnn.zoneout = NAN;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_BAD_VALUE);
    q.stages[0].as.qrnn.zoneout = 1.5f;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_BAD_VALUE);
    q.stages[0].as.qrnn.zoneout = -INFINITY;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_BAD_VALUE);
    q.stages[0].as.qrnn.zoneout = 0.0f;
    q.stages[0].as.qrnn.output_gate = 2;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_BAD_CONFIG);
    q.stages[0].as.qrnn.output_gate = 1;
    q.stages[0].as.qrnn.weight = NULL;
    CHECK_STATUS(mts_model_check(&q.model), MTS_ERR_NULL_POINTER);
    q.stages[0].as.qrnn.weight = q.arrays[0][0];
    CHECK_STATUS(mts_model_check(&q.model), MTS_OK);
    qrnn_free(&q);

    /* Every status has its own description. */
    for (int s = MTS_OK; s <= MTS_ERR_BAD_VALUE; s++)
        CHECK(strcmp(mts_status_str((mts_status)s), "unknown status code") != 0,
              "status %d undescribed", s);
    CHECK(strcmp(mts_status_str((mts_status)99), "unknown status code") == 0, "status 99");

    free(state);
    free(x);
    free(h);
    free(ws);
    sru_free(&f);
}

int main(void)
{
    test_bad_arguments();
    test_gemm_variants();
    test_sru_invariance();
    test_qrnn_invariance();
    return check_summary("model");
}
