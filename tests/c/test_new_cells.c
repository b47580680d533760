/* The minGRU, minLSTM and IndRNN drivers (kernels/src/min_cells.c, indrnn.c;
 * docs/spec.md 6 and 7) against golden data, on whatever target
 * runs this (natively, under qemu-aarch64 / qemu-arm, on the Cortex-M boards).
 *
 * The data (new_cells_golden.h, written at build time by
 * tests/c/make_new_cells_golden.py) are small stacks of each cell, from a
 * random initial state, with the output of the float64 NumPy reference
 * (host/mtsrnn/reference.py) for float32 weights and both int8 schemes. For
 * every case, every product variant of its scheme built here and every
 * block size T in {1, 3, 4, 16}, the sequence in one call and streamed in
 * four pieces (each piece through every layer, the state carried) must
 * match the reference, through the run entries directly (with a scratch
 * sized from the layers' needs) and as stages of an mts_model (workspace and
 * state from its size queries, the variant selected by name). Also: the
 * size and pointer checks. Last line: "new_cells: N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"

#include "check.h"
#include "min_cells.h"

enum { NC_MINGRU = MTS_STAGE_MINGRU, NC_MINLSTM = MTS_STAGE_MINLSTM, NC_INDRNN = MTS_STAGE_INDRNN };

typedef struct nc_case {
    const char *name;
    int cell;
    size_t num_layers;
    const void *layers;     /* array of the cell's descriptor */
    const float *input;     /* steps x input_size */
    const float *h0;        /* the layers' initial states, concatenated */
    const float *output;    /* steps x output_size: the float64 reference */
    size_t steps, input_size, output_size;
    float tolerance;        /* max abs error */
} nc_case;

#include "new_cells_golden.h"

#define MAX_LAYERS 4
#define MAX_BLOCK 16

static void *alloc_or_die(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* The gate count of a minGRU / minLSTM case (the stage kind's). */
static uint32_t case_gates(const nc_case *c)
{
    return c->cell == NC_MINGRU ? MTS_MINGRU_GATES : MTS_MINLSTM_GATES;
}

static uint8_t layer_quant(const nc_case *c, size_t l)
{
    if (c->cell == NC_INDRNN)
        return ((const mts_indrnn_layer *)c->layers)[l].quant;
    return ((const mts_min_layer *)c->layers)[l].quant;
}

static mts_status layer_check(const nc_case *c, size_t l, mtsi_cell_needs *needs)
{
    mts_status status;
    if (c->cell == NC_INDRNN) {
        const mts_indrnn_layer *layer = &((const mts_indrnn_layer *)c->layers)[l];
        if ((status = mtsi_indrnn_check(layer)) == MTS_OK)
            mtsi_indrnn_needs(layer, needs);
        return status;
    }
    const mts_min_layer *layer = &((const mts_min_layer *)c->layers)[l];
    if ((status = mtsi_min_check(layer, case_gates(c))) == MTS_OK)
        mtsi_min_needs(layer, case_gates(c), needs);
    return status;
}

static void layer_run(const nc_case *c, size_t l, const mts_scratch *scratch, size_t block,
                      const mts_products *products, float *state, const float *x,
                      size_t seq_len, float *y)
{
    if (c->cell == NC_INDRNN)
        mtsi_indrnn_run(&((const mts_indrnn_layer *)c->layers)[l], scratch, block, products,
                        state, x, seq_len, y);
    else
        mtsi_min_run(&((const mts_min_layer *)c->layers)[l], case_gates(c), scratch, block,
                     products, state, x, seq_len, y);
}

/* The largest row of each scratch buffer over the case's layers. */
typedef struct nc_plan {
    mtsi_cell_needs layer[MAX_LAYERS];
    size_t input, product, projected, quantized, state, width;
} nc_plan;

static int plan_case(const nc_case *c, nc_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->width = c->input_size;
    size_t in = c->input_size;
    for (size_t l = 0; l < c->num_layers; l++) {
        mtsi_cell_needs *needs = &plan->layer[l];
        const mts_status status = layer_check(c, l, needs);
        CHECK(status == MTS_OK, "%s: layer %lu: %s", c->name, (unsigned long)l,
              mts_status_str(status));
        if (status != MTS_OK)
            return 0;
        plan->input = in > plan->input ? in : plan->input;
        plan->product = needs->product_floats > plan->product ? needs->product_floats
                                                              : plan->product;
        plan->projected = needs->projected_floats > plan->projected ? needs->projected_floats
                                                                    : plan->projected;
        plan->quantized = needs->quantized_depth > plan->quantized ? needs->quantized_depth
                                                                   : plan->quantized;
        plan->state += needs->state_floats;
        plan->width = needs->output_size > plan->width ? needs->output_size : plan->width;
        in = needs->output_size;
    }
    CHECK(in == c->output_size, "%s: output size %lu, golden %lu", c->name, (unsigned long)in,
          (unsigned long)c->output_size);
    return in == c->output_size;
}

/* A 64-byte aligned scratch for blocks of `block` rows at the kernels'
 * padded strides (internal.h); *memory is what to free. */
static mts_scratch make_scratch(const nc_plan *plan, size_t block, void **memory)
{
    const size_t in_stride = mts_padded_stride(plan->input);
    const size_t product_stride = mts_padded_stride(plan->product);
    const size_t projected_stride = mts_padded_stride(plan->projected ? plan->projected : 1);
    const size_t quantized_stride = mts_padded_stride((plan->quantized + 3u) / 4u) * 4u;
    const size_t floats = block * (in_stride + product_stride + projected_stride +
                                   quantized_stride / 4u + 1u);
    char *raw = alloc_or_die(floats * sizeof(float) + 64u);
    *memory = raw;
    float *base = (float *)(void *)(raw + (64u - (uintptr_t)raw % 64u) % 64u);
    mts_scratch s;
    memset(&s, 0, sizeof s);
    s.input = base;
    s.input_stride = in_stride;
    s.product = s.input + block * in_stride;
    s.product_stride = product_stride;
    s.projected = s.product + block * product_stride;
    s.projected_stride = projected_stride;
    s.quantized = (int8_t *)(void *)(s.projected + block * projected_stride);
    s.quantized_stride = quantized_stride;
    s.quantized_scale = s.projected + block * projected_stride + block * (quantized_stride / 4u);
    return s;
}

/* Runs the golden input in the pieces [cuts[k], cuts[k+1]), every layer over
 * a piece before the next piece; returns the max abs error (inf for NaN). */
static double run_case(const nc_case *c, const nc_plan *plan, const mts_products *products,
                       size_t block, const size_t *cuts, size_t num_cuts)
{
    void *memory;
    const mts_scratch scratch = make_scratch(plan, block, &memory);
    float *state = alloc_or_die(plan->state * sizeof(float));
    float *ping = alloc_or_die(c->steps * plan->width * sizeof(float));
    float *pong = alloc_or_die(c->steps * plan->width * sizeof(float));
    memcpy(state, c->h0, plan->state * sizeof(float));
    double worst = 0.0;
    for (size_t k = 0; k + 1 < num_cuts; k++) {
        const size_t t0 = cuts[k], length = cuts[k + 1] - cuts[k];
        memcpy(ping, c->input + t0 * c->input_size, length * c->input_size * sizeof(float));
        float *in = ping, *out = pong, *layer_state = state;
        for (size_t l = 0; l < c->num_layers; l++) {
            layer_run(c, l, &scratch, block, products, layer_state, in, length, out);
            layer_state += plan->layer[l].state_floats;
            float *swap = in;
            in = out;
            out = swap;
        }
        for (size_t i = 0; i < length * c->output_size; i++) {
            const double err = fabs((double)in[i] - (double)c->output[t0 * c->output_size + i]);
            worst = err > worst || err != err ? (err != err ? HUGE_VAL : err) : worst;
        }
    }
    free(pong);
    free(ping);
    free(state);
    free(memory);
    return worst;
}

/* The case as an mts_model: one stage per layer, run with the variant
 * `name` over the pieces [cuts[k], cuts[k+1]) with the state carried;
 * returns the max abs error (inf for NaN, or when a call fails). */
static double run_model(const nc_case *c, const char *name, size_t block, const size_t *cuts,
                        size_t num_cuts)
{
    mts_stage stages[MAX_LAYERS];
    memset(stages, 0, sizeof stages);
    for (size_t l = 0; l < c->num_layers; l++) {
        stages[l].kind = (uint32_t)c->cell;
        if (c->cell == NC_INDRNN)
            stages[l].as.indrnn = ((const mts_indrnn_layer *)c->layers)[l];
        else
            stages[l].as.min = ((const mts_min_layer *)c->layers)[l];
    }
    const mts_model model = {(uint32_t)c->num_layers, stages};
    mts_run_options options = {.block = block};
    size_t state_floats, bytes;
    if (mts_model_select_variant(&model, name, strlen(name), NULL, 0, &options, NULL) != MTS_OK ||
        mts_model_state_size(&model, &state_floats) != MTS_OK ||
        mts_model_workspace_size(&model, block, c->steps, &bytes) != MTS_OK)
        return HUGE_VAL;
    float *state = alloc_or_die(state_floats * sizeof(float));
    float *y = alloc_or_die(c->steps * c->output_size * sizeof(float));
    void *workspace = alloc_or_die(bytes);
    memcpy(state, c->h0, state_floats * sizeof(float));
    double worst = 0.0;
    for (size_t k = 0; k + 1 < num_cuts; k++) {
        const size_t t0 = cuts[k], length = cuts[k + 1] - cuts[k];
        if (mts_model_forward(&model, &options, state, state_floats,
                              c->input + t0 * c->input_size, length, y + t0 * c->output_size,
                              workspace, bytes) != MTS_OK)
            worst = HUGE_VAL;
    }
    for (size_t i = 0; i < c->steps * c->output_size; i++) {
        const double err = fabs((double)y[i] - (double)c->output[i]);
        worst = err > worst || err != err ? (err != err ? HUGE_VAL : err) : worst;
    }
    free(workspace);
    free(y);
    free(state);
    return worst;
}

static void check_case(const nc_case *c)
{
    nc_plan plan;
    if (!plan_case(c, &plan))
        return;
    static const size_t blocks[] = {1, 3, 4, MAX_BLOCK};
    const size_t whole[] = {0, c->steps};
    const size_t pieces[] = {0, 1, 5, 22, c->steps};
    const uint8_t quant = layer_quant(c, 0);
    const size_t variants = quant == MTS_QUANT_INT8_W    ? mts_gemm_i8f32_variant_count
                            : quant == MTS_QUANT_INT8_WA ? mts_gemm_i8i8_variant_count
                                                         : mts_gemm_f32_variant_count;
    for (size_t v = 0; v < variants; v++) {
        mts_products products = {mts_gemm_f32_default(), mts_gemm_i8f32_default(),
                                 mts_gemm_i8i8_default()};
        const char *name;
        if (quant == MTS_QUANT_INT8_W) {
            products.i8f32 = mts_gemm_i8f32_variants[v].fn;
            name = mts_gemm_i8f32_variants[v].name;
        } else if (quant == MTS_QUANT_INT8_WA) {
            products.i8i8 = mts_gemm_i8i8_variants[v].fn;
            name = mts_gemm_i8i8_variants[v].name;
        } else {
            products.f32 = mts_gemm_f32_variants[v].fn;
            name = mts_gemm_f32_variants[v].name;
        }
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            const double one = run_case(c, &plan, &products, blocks[b], whole, 2);
            const double streamed = run_case(c, &plan, &products, blocks[b], pieces, 5);
            CHECK(one <= (double)c->tolerance && streamed <= (double)c->tolerance,
                  "%s, %s, T = %lu: max abs error %.3g (one call), %.3g (streamed), "
                  "tolerance %.3g",
                  c->name, name, (unsigned long)blocks[b], one, streamed, (double)c->tolerance);
            const double model_streamed = run_model(c, name, blocks[b], pieces, 5);
            CHECK(model_streamed <= (double)c->tolerance,
                  "%s, %s, T = %lu: as mts_model stages, streamed: max abs error %.3g",
                  c->name, name, (unsigned long)blocks[b], model_streamed);
        }
    }
}

static void check_validation(void)
{
    static const float w[2 * 3 * 4] = {0};
    static const int8_t wq[2 * 3 * 4] = {0};
    static const float s[3 * 4] = {0};
    mts_min_array_sizes gru_sizes;
    mts_min_layer gru = {.input_size = 4, .hidden_size = 3, .output_size = 2,
                            .has_output = 1, .weight = w, .weight_out = w};
    CHECK_STATUS(mts_min_layer_array_sizes(&gru, MTS_MINGRU_GATES, &gru_sizes), MTS_OK);
    CHECK(gru_sizes.weight == 24 && gru_sizes.weight_out == 6 && gru_sizes.weight_rows == 6 &&
              gru_sizes.weight_out_rows == 2,
          "minGRU array sizes %lu %lu", (unsigned long)gru_sizes.weight,
          (unsigned long)gru_sizes.weight_out);
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_OK);
    CHECK_STATUS(mts_min_layer_array_sizes(NULL, MTS_MINGRU_GATES, &gru_sizes), MTS_ERR_NULL_POINTER);
    gru.weight_out = NULL;
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_ERR_NULL_POINTER);
    gru.quant = MTS_QUANT_INT8_W; /* the float arrays may be NULL, the int8 ones not */
    gru.weight_q = wq;
    gru.weight_scale = s;
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_ERR_NULL_POINTER);
    gru.weight_out_q = wq;
    gru.weight_out_scale = s;
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_OK);
    gru.quant = 3;
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_ERR_BAD_CONFIG);
    gru.quant = 0;
    gru.has_output = 0; /* without to_out, output_size must be H */
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_ERR_BAD_CONFIG);
    gru.output_size = 3;
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_OK);
    gru.hidden_size = 0;
    CHECK_STATUS(mtsi_min_check(&gru, MTS_MINGRU_GATES), MTS_ERR_BAD_SIZE);

    mts_min_array_sizes lstm_sizes;
    mts_min_layer lstm = {.input_size = 4, .hidden_size = 3, .output_size = 3, .weight = w};
    CHECK_STATUS(mts_min_layer_array_sizes(&lstm, MTS_MINLSTM_GATES, &lstm_sizes), MTS_OK);
    CHECK(lstm_sizes.weight == 36 && lstm_sizes.weight_out == 0 && lstm_sizes.weight_rows == 9,
          "minLSTM array sizes %lu", (unsigned long)lstm_sizes.weight);
    CHECK_STATUS(mtsi_min_check(&lstm, MTS_MINLSTM_GATES), MTS_OK);
    CHECK_STATUS(mtsi_min_check(&lstm, 4u), MTS_ERR_BAD_CONFIG); /* neither minGRU nor minLSTM */
    lstm.has_output = 1;
    lstm.output_size = 0; /* a projection to nothing */
    CHECK_STATUS(mtsi_min_check(&lstm, MTS_MINLSTM_GATES), MTS_ERR_BAD_SIZE);
    lstm.output_size = 1;
    lstm.input_size = MTS_I8_MAX_DEPTH + 1u; /* int8-wa: the int32 sums could overflow */
    lstm.quant = MTS_QUANT_INT8_WA;
    CHECK_STATUS(mts_min_layer_array_sizes(&lstm, MTS_MINLSTM_GATES, &lstm_sizes), MTS_ERR_BAD_CONFIG);
    lstm.quant = 0;
    lstm.input_size = MTS_MAX_DIM;
    lstm.hidden_size = MTS_MAX_DIM;
    CHECK_STATUS(mts_min_layer_array_sizes(&lstm, MTS_MINLSTM_GATES, &lstm_sizes),
                 sizeof(size_t) < 8 ? MTS_ERR_OVERFLOW : MTS_OK);

    mts_indrnn_array_sizes ind_sizes;
    mts_indrnn_layer ind = {.input_size = 4, .hidden_size = 3, .activation = MTS_INDRNN_TANH,
                            .weight = w, .weight_hh = s, .bias = s};
    CHECK_STATUS(mts_indrnn_layer_array_sizes(&ind, &ind_sizes), MTS_OK);
    CHECK(ind_sizes.weight == 12 && ind_sizes.weight_hh == 3 && ind_sizes.bias == 3 &&
              ind_sizes.weight_rows == 3,
          "IndRNN array sizes %lu", (unsigned long)ind_sizes.weight);
    CHECK_STATUS(mtsi_indrnn_check(&ind), MTS_OK);
    ind.bias = NULL;
    CHECK_STATUS(mtsi_indrnn_check(&ind), MTS_ERR_NULL_POINTER);
    ind.activation = 0; /* identity is not an IndRNN activation */
    CHECK_STATUS(mts_indrnn_layer_array_sizes(&ind, &ind_sizes), MTS_ERR_BAD_CONFIG);
}

int main(void)
{
    check_validation();
    for (size_t i = 0; i < sizeof nc_cases / sizeof nc_cases[0]; i++)
        check_case(&nc_cases[i]);
    printf("# %lu cases, %lu f32 / %lu i8f32 / %lu i8i8 variants\n",
           (unsigned long)(sizeof nc_cases / sizeof nc_cases[0]),
           (unsigned long)mts_gemm_f32_variant_count, (unsigned long)mts_gemm_i8f32_variant_count,
           (unsigned long)mts_gemm_i8i8_variant_count);
    return check_summary("new_cells");
}
