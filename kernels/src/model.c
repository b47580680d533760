/* Model validation, size queries and the forward entry point. All checks of
 * a call happen here, once, before the drivers run check-free loops. */
#include "internal.h"

static int in_dim_range(uint32_t value)
{
    return value >= 1u && value <= MTS_MAX_DIM;
}

/* Sizes and options of an SRU layer, without looking at its arrays. */
static mts_status check_sru_config(const mts_sru_layer *layer)
{
    if (!in_dim_range(layer->input_size) || !in_dim_range(layer->hidden_size) ||
        layer->projection_size > MTS_MAX_DIM)
        return MTS_ERR_BAD_SIZE;
    if (layer->num_directions != 1u && layer->num_directions != 2u)
        return MTS_ERR_BAD_CONFIG;
    if (layer->activation > MTS_ACTIVATION_TANH || layer->skip > MTS_SKIP_PROJECTED ||
        layer->norm > MTS_NORM_AFTER)
        return MTS_ERR_BAD_CONFIG;
    if (layer->skip == MTS_SKIP_SCALED_INPUT && layer->input_size != mts_sru_output_size(layer))
        return MTS_ERR_BAD_CONFIG;
    if (layer->norm != MTS_NORM_NONE && !(layer->norm_eps > 0.0f))
        return MTS_ERR_BAD_CONFIG;
    if (layer->quant > MTS_QUANT_INT8_WA)
        return MTS_ERR_BAD_CONFIG;
    /* int8-wa sums in int32: both product depths (n for the projection,
     * p or n for W) must keep it from overflowing. */
    if (layer->quant == MTS_QUANT_INT8_WA &&
        (layer->input_size > MTS_I8_MAX_DEPTH || layer->projection_size > MTS_I8_MAX_DEPTH))
        return MTS_ERR_BAD_CONFIG;
    return MTS_OK;
}

mts_status mts_sru_layer_array_sizes(const mts_sru_layer *layer, mts_sru_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    const mts_status status = check_sru_config(layer);
    if (status != MTS_OK)
        return status;
    /* Dimensions are at most 2^24 (checked), so the products of two fit in
     * 64 bits but not necessarily in a 32-bit size_t: check each. */
    const size_t out_size = mts_sru_output_size(layer);
    const size_t depth = layer->projection_size ? layer->projection_size : layer->input_size;
    mts_sru_array_sizes counts;
    size_t bytes;
    if (!mts_mul_ok(mts_sru_num_blocks(layer) * out_size, depth, &counts.weight) ||
        !mts_mul_ok(counts.weight, sizeof(float), &bytes) ||
        !mts_mul_ok(layer->projection_size, layer->input_size, &counts.weight_proj) ||
        !mts_mul_ok(counts.weight_proj, sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    counts.bias = 2u * out_size;
    counts.weight_c = 2u * out_size;
    counts.norm_weight = layer->norm == MTS_NORM_BEFORE  ? layer->input_size
                         : layer->norm == MTS_NORM_AFTER ? out_size
                                                         : 0u;
    counts.norm_bias = counts.norm_weight;
    counts.weight_rows = mts_sru_num_blocks(layer) * out_size;
    counts.weight_proj_rows = layer->projection_size;
    *sizes = counts;
    return MTS_OK;
}

static mts_status check_sru_layer(const mts_sru_layer *layer)
{
    mts_sru_array_sizes sizes;
    const mts_status status = mts_sru_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    /* weight_c may be NULL: the original form. A quantised layer needs the
     * int8 weights and their scales instead of the float weights. */
    const int float_weights_missing =
        layer->weight == NULL || (sizes.weight_proj && layer->weight_proj == NULL);
    const int int8_weights_missing =
        layer->weight_q == NULL || layer->weight_scale == NULL ||
        (sizes.weight_proj && (layer->weight_proj_q == NULL || layer->weight_proj_scale == NULL));
    if ((layer->quant == MTS_QUANT_NONE ? float_weights_missing : int8_weights_missing) ||
        layer->bias == NULL ||
        (sizes.norm_weight && (layer->norm_weight == NULL || layer->norm_bias == NULL)))
        return MTS_ERR_NULL_POINTER;
    return MTS_OK;
}

mts_status mts_qrnn_layer_array_sizes(const mts_qrnn_layer *layer, mts_qrnn_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (!in_dim_range(layer->input_size) || !in_dim_range(layer->hidden_size))
        return MTS_ERR_BAD_SIZE;
    if (layer->window < 1u || layer->window > MTS_MAX_WINDOW)
        return MTS_ERR_BAD_SIZE;
    if (layer->input_gate > 1u || layer->output_gate > 1u ||
        !(layer->zoneout >= 0.0f && layer->zoneout <= 1.0f) || layer->quant > MTS_QUANT_INT8_WA)
        return MTS_ERR_BAD_CONFIG;
    /* int8-wa sums w * n products in int32 (window <= 64, checked above). */
    if (layer->quant == MTS_QUANT_INT8_WA &&
        (size_t)layer->window * layer->input_size > MTS_I8_MAX_DEPTH)
        return MTS_ERR_BAD_CONFIG;
    mts_qrnn_array_sizes counts;
    size_t bytes;
    if (!mts_mul_ok(mts_qrnn_num_gates(layer) * layer->hidden_size,
                    (size_t)layer->window * layer->input_size, &counts.weight) ||
        !mts_mul_ok(counts.weight, sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    counts.bias = mts_qrnn_num_gates(layer) * layer->hidden_size;
    counts.weight_rows = counts.bias;
    *sizes = counts;
    return MTS_OK;
}

static mts_status check_qrnn_layer(const mts_qrnn_layer *layer)
{
    mts_qrnn_array_sizes sizes;
    const mts_status status = mts_qrnn_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int weights_missing = layer->quant == MTS_QUANT_NONE
                                    ? layer->weight == NULL
                                    : layer->weight_q == NULL || layer->weight_scale == NULL;
    if (weights_missing || layer->bias == NULL)
        return MTS_ERR_NULL_POINTER;
    return MTS_OK;
}

/* Input and output size of layer l. */
static void layer_io(const mts_model *model, size_t l, size_t *in, size_t *out)
{
    if (model->cell == MTS_CELL_SRU) {
        *in = model->sru[l].input_size;
        *out = mts_sru_output_size(&model->sru[l]);
    } else {
        *in = model->qrnn[l].input_size;
        *out = model->qrnn[l].hidden_size;
    }
}

mts_status mts_model_check(const mts_model *model)
{
    if (model == NULL)
        return MTS_ERR_NULL_POINTER;
    if (model->cell != MTS_CELL_SRU && model->cell != MTS_CELL_QRNN)
        return MTS_ERR_BAD_CONFIG;
    if (model->num_layers < 1u || model->num_layers > MTS_MAX_LAYERS)
        return MTS_ERR_BAD_SIZE;
    if ((model->cell == MTS_CELL_SRU && model->sru == NULL) ||
        (model->cell == MTS_CELL_QRNN && model->qrnn == NULL))
        return MTS_ERR_NULL_POINTER;
    size_t first_out = 0, prev_out = 0;
    for (size_t l = 0; l < model->num_layers; l++) {
        const mts_status status = model->cell == MTS_CELL_SRU
                                      ? check_sru_layer(&model->sru[l])
                                      : check_qrnn_layer(&model->qrnn[l]);
        if (status != MTS_OK)
            return status;
        size_t in, out;
        layer_io(model, l, &in, &out);
        if (l == 0)
            first_out = out;
        /* Layers run in place in the output buffer, which needs one width. */
        else if (in != prev_out || out != first_out)
            return MTS_ERR_BAD_CONFIG;
        prev_out = out;
    }
    return MTS_OK;
}

mts_status mts_model_io_sizes(const mts_model *model, size_t *input_size, size_t *output_size)
{
    const mts_status status = mts_model_check(model);
    if (status != MTS_OK)
        return status;
    if (input_size == NULL || output_size == NULL)
        return MTS_ERR_NULL_POINTER;
    size_t unused;
    layer_io(model, 0, input_size, &unused);
    layer_io(model, model->num_layers - 1, &unused, output_size);
    return MTS_OK;
}

/* State floats of an already checked model. */
static mts_status state_floats(const mts_model *model, size_t *num_floats)
{
    size_t total = 0;
    for (size_t l = 0; l < model->num_layers; l++) {
        size_t layer_floats;
        if (model->cell == MTS_CELL_SRU) {
            layer_floats = mts_sru_output_size(&model->sru[l]);
        } else {
            const mts_qrnn_layer *layer = &model->qrnn[l];
            if (!mts_mul_ok((size_t)layer->window - 1u, layer->input_size, &layer_floats) ||
                !mts_add_ok(layer_floats, layer->hidden_size, &layer_floats))
                return MTS_ERR_OVERFLOW;
        }
        if (!mts_add_ok(total, layer_floats, &total))
            return MTS_ERR_OVERFLOW;
    }
    *num_floats = total;
    return MTS_OK;
}

mts_status mts_model_state_size(const mts_model *model, size_t *num_floats)
{
    const mts_status status = mts_model_check(model);
    if (status != MTS_OK)
        return status;
    if (num_floats == NULL)
        return MTS_ERR_NULL_POINTER;
    return state_floats(model, num_floats);
}

/* Where each scratch buffer lies, in floats from the 64-byte aligned start
 * of the workspace. A buffer that the model does not need has size 0. */
typedef struct scratch_layout {
    size_t input_stride, projected_stride, product_stride;
    size_t quantized_stride;                            /* bytes */
    size_t input, normed, projected, product, sequence; /* offsets (floats) */
    size_t quantized, quantized_scale;                  /* offsets (floats) */
    size_t total;                                       /* floats */
} scratch_layout;

/* Append a buffer of `rows` x `stride` floats at the end of the layout;
 * strides are whole cache lines, so every buffer stays 64-byte aligned. */
static int append_buffer(scratch_layout *layout, size_t rows, size_t stride, size_t *offset)
{
    size_t floats;
    *offset = layout->total;
    if (!mts_mul_ok(rows, stride, &floats))
        return 0;
    return mts_add_ok(layout->total, floats, &layout->total);
}

static mts_status plan_scratch(const mts_model *model, size_t block, size_t seq_len,
                               scratch_layout *layout)
{
    size_t max_input = 0, max_projected = 0, max_product = 0;
    int any_norm_before = 0, any_bidirectional = 0, any_int8_wa = 0;
    for (size_t l = 0; l < model->num_layers; l++) {
        size_t input, projected = 0, product;
        if (model->cell == MTS_CELL_SRU) {
            const mts_sru_layer *layer = &model->sru[l];
            any_int8_wa |= layer->quant == MTS_QUANT_INT8_WA;
            input = layer->input_size;
            projected = layer->projection_size;
            product = mts_sru_num_blocks(layer) * layer->hidden_size;
            any_norm_before |= layer->norm == MTS_NORM_BEFORE;
            any_bidirectional |= layer->num_directions == 2u;
        } else {
            const mts_qrnn_layer *layer = &model->qrnn[l];
            any_int8_wa |= layer->quant == MTS_QUANT_INT8_WA;
            input = (size_t)layer->window * layer->input_size; /* checked: no overflow */
            product = mts_qrnn_num_gates(layer) * layer->hidden_size;
        }
        max_input = input > max_input ? input : max_input;
        max_projected = projected > max_projected ? projected : max_projected;
        max_product = product > max_product ? product : max_product;
    }
    scratch_layout plan = {0};
    /* Dimensions are at most MTS_MAX_WINDOW * MTS_MAX_DIM, far below
     * SIZE_MAX - 2 lines on any target with a 32-bit size_t or wider. */
    plan.input_stride = mts_padded_stride(max_input);
    plan.projected_stride = max_projected ? mts_padded_stride(max_projected) : 0;
    plan.product_stride = mts_padded_stride(max_product);
    /* int8 rows of every product input (the layer input or its projection),
     * an odd number of cache lines each like the float rows. */
    const size_t max_quantized = max_input > max_projected ? max_input : max_projected;
    plan.quantized_stride = any_int8_wa ? mts_padded_stride((max_quantized + 3u) / 4u) * 4u : 0;
    size_t unused_output, output_size;
    layer_io(model, 0, &unused_output, &output_size);
    layer_io(model, model->num_layers - 1, &unused_output, &output_size);
    const size_t sequence_rows =
        any_bidirectional && model->num_layers > 1 ? seq_len : 0;
    if (!append_buffer(&plan, block, plan.input_stride, &plan.input) ||
        !append_buffer(&plan, any_norm_before ? block : 0, plan.input_stride, &plan.normed) ||
        !append_buffer(&plan, block, plan.projected_stride, &plan.projected) ||
        !append_buffer(&plan, block, plan.product_stride, &plan.product) ||
        !append_buffer(&plan, sequence_rows, output_size, &plan.sequence) ||
        !append_buffer(&plan, block, plan.quantized_stride / 4u, &plan.quantized) ||
        !append_buffer(&plan, any_int8_wa ? 1u : 0u, mts_padded_stride(block),
                       &plan.quantized_scale))
        return MTS_ERR_OVERFLOW;
    *layout = plan;
    return MTS_OK;
}

/* Bytes for a layout plus the alignment slack. */
static mts_status layout_bytes(const scratch_layout *layout, size_t *num_bytes)
{
    size_t bytes;
    if (!mts_mul_ok(layout->total, sizeof(float), &bytes) ||
        !mts_add_ok(bytes, MTS_LINE_FLOATS * sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    *num_bytes = bytes;
    return MTS_OK;
}

mts_status mts_model_workspace_size(const mts_model *model, size_t block, size_t seq_len,
                                    size_t *num_bytes)
{
    const mts_status status = mts_model_check(model);
    if (status != MTS_OK)
        return status;
    if (num_bytes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (block == 0)
        return MTS_ERR_BAD_SIZE;
    scratch_layout layout;
    const mts_status plan_status = plan_scratch(model, block, seq_len, &layout);
    if (plan_status != MTS_OK)
        return plan_status;
    return layout_bytes(&layout, num_bytes);
}

mts_status mts_model_reset_state(const mts_model *model, float *state, size_t state_floats_given)
{
    size_t expected;
    const mts_status status = mts_model_state_size(model, &expected);
    if (status != MTS_OK)
        return status;
    if (state == NULL)
        return MTS_ERR_NULL_POINTER;
    if (state_floats_given != expected)
        return MTS_ERR_BAD_STATE_SIZE;
    for (size_t i = 0; i < expected; i++)
        state[i] = 0.0f;
    return MTS_OK;
}

/* Whether [a, a + a_bytes) and [b, b + b_bytes) share a byte. */
static int overlaps(const void *a, size_t a_bytes, const void *b, size_t b_bytes)
{
    const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a_bytes && b_bytes && a0 < b0 + b_bytes && b0 < a0 + a_bytes;
}

mts_status mts_model_forward(const mts_model *model, const mts_run_options *options,
                             float *state, size_t state_floats_given,
                             const float *x, size_t seq_len, float *h,
                             void *workspace, size_t workspace_bytes)
{
    mts_status status = mts_model_check(model);
    if (status != MTS_OK)
        return status;
    if (options == NULL || state == NULL || x == NULL || h == NULL || workspace == NULL)
        return MTS_ERR_NULL_POINTER;
    if (options->block == 0)
        return MTS_ERR_BAD_SIZE;

    size_t expected_state;
    status = state_floats(model, &expected_state);
    if (status != MTS_OK)
        return status;
    if (state_floats_given != expected_state)
        return MTS_ERR_BAD_STATE_SIZE;

    size_t input_size, output_size, x_bytes, h_bytes;
    status = mts_model_io_sizes(model, &input_size, &output_size);
    if (status != MTS_OK)
        return status;
    if (!mts_mul_ok(seq_len, input_size * sizeof(float), &x_bytes) ||
        !mts_mul_ok(seq_len, output_size * sizeof(float), &h_bytes))
        return MTS_ERR_OVERFLOW;

    scratch_layout layout;
    size_t needed;
    status = plan_scratch(model, options->block, seq_len, &layout);
    if (status != MTS_OK)
        return status;
    status = layout_bytes(&layout, &needed);
    if (status != MTS_OK)
        return status;
    if (workspace_bytes < needed)
        return MTS_ERR_WORKSPACE_TOO_SMALL;

    const size_t state_bytes = expected_state * sizeof(float);
    if (overlaps(x, x_bytes, h, h_bytes) || overlaps(state, state_bytes, x, x_bytes) ||
        overlaps(state, state_bytes, h, h_bytes) ||
        overlaps(workspace, workspace_bytes, x, x_bytes) ||
        overlaps(workspace, workspace_bytes, h, h_bytes) ||
        overlaps(workspace, workspace_bytes, state, state_bytes))
        return MTS_ERR_OVERLAP;
    if (seq_len == 0)
        return MTS_OK;

    const uintptr_t line = MTS_LINE_FLOATS * sizeof(float);
    float *base = (float *)(((uintptr_t)workspace + line - 1) & ~(line - 1));
    const mts_scratch scratch = {
        base + layout.input,    layout.input_stride,
        base + layout.normed,   base + layout.projected,
        layout.projected_stride, base + layout.product,
        layout.product_stride,  base + layout.sequence,
        (int8_t *)(base + layout.quantized), layout.quantized_stride,
        base + layout.quantized_scale,
    };
    const mts_products products = {
        options->gemm ? options->gemm : mts_gemm_f32_variants[0].fn,
        options->gemm_i8f32 ? options->gemm_i8f32 : mts_gemm_i8f32_variants[0].fn,
        options->gemm_i8i8 ? options->gemm_i8i8 : mts_gemm_i8i8_variants[0].fn,
    };
    if (model->cell == MTS_CELL_SRU)
        mtsi_sru_run(model, &scratch, options->block, &products, state, x, seq_len, h);
    else
        mtsi_qrnn_run(model, &scratch, options->block, &products, state, x, seq_len, h);
    return MTS_OK;
}
