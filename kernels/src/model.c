/* Model validation, size queries and the forward entry point. All checks of
 * a call happen here, once, before the drivers run check-free loops; a
 * stage's own checks and sizes are stage.c's. */
#include "bits.h"
#include "internal.h"
#include "min_cells.h"

mts_status mts_model_check(const mts_model *model)
{
    if (model == NULL)
        return MTS_ERR_NULL_POINTER;
    if (model->num_stages < 1u || model->num_stages > MTS_MAX_STAGES)
        return MTS_ERR_BAD_SIZE;
    if (model->stages == NULL)
        return MTS_ERR_NULL_POINTER;
    size_t prev_out = 0;
    for (size_t s = 0; s < model->num_stages; s++) {
        const mts_status status = mtsi_check_stage(&model->stages[s]);
        if (status != MTS_OK)
            return status;
        size_t in, out;
        mtsi_stage_io(&model->stages[s], &in, &out);
        if (s > 0 && in != prev_out)
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
    mtsi_stage_io(&model->stages[0], input_size, &unused);
    mtsi_stage_io(&model->stages[model->num_stages - 1], &unused, output_size);
    return MTS_OK;
}

/* State floats of an already checked model. */
static mts_status state_floats(const mts_model *model, size_t *num_floats)
{
    size_t total = 0;
    for (size_t s = 0; s < model->num_stages; s++) {
        size_t floats;
        if (!mtsi_stage_state_floats(&model->stages[s], &floats) ||
            !mts_add_ok(total, floats, &total))
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

static int has_bidirectional(const mts_model *model)
{
    for (size_t s = 0; s < model->num_stages; s++)
        if (model->stages[s].kind == MTS_STAGE_SRU && model->stages[s].as.sru.num_directions == 2u)
            return 1;
    return 0;
}

/* Where each scratch buffer lies, in floats from the 64-byte aligned start
 * of the workspace. A buffer that the model does not need has size 0. */
typedef struct scratch_layout {
    size_t input_stride, projected_stride, product_stride;
    size_t quantized_stride;                            /* bytes */
    size_t input, normed, projected, product;           /* offsets (floats) */
    size_t blockbuf, sequence[2];                       /* offsets (floats) */
    int blockbuf_used;                                  /* else h's rows hold the block */
    size_t width;                                       /* widest stage output */
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

/* The layout of the whole model (only == NULL), or of the rows that stage
 * `only` needs by itself (its own buffers sized for it, none between stages:
 * mts_model_stage_workspace_size). */
static mts_status plan_scratch(const mts_model *model, const mts_stage *only, size_t block,
                               size_t seq_len, scratch_layout *layout)
{
    size_t max_input = 0, max_projected = 0, max_product = 0, width = 0, between_width = 0;
    int any_norm_before = 0, any_int8_wa = 0;
    for (size_t s = 0; s < model->num_stages; s++) {
        const mts_stage *stage = &model->stages[s];
        if (only != NULL && stage != only)
            continue;
        size_t input = 0, projected = 0, product = 0, in, out;
        mtsi_stage_io(stage, &in, &out);
        width = out > width ? out : width;
        if (s + 1 < model->num_stages)
            between_width = out > between_width ? out : between_width;
        if (stage->kind == MTS_STAGE_SRU) {
            const mts_sru_layer *layer = &stage->as.sru;
            any_int8_wa |= layer->quant == MTS_QUANT_INT8_WA;
            input = layer->input_size;
            projected = layer->projection_size;
            product = mts_sru_num_blocks(layer) * layer->hidden_size;
            any_norm_before |= layer->norm == MTS_NORM_BEFORE;
        } else if (stage->kind == MTS_STAGE_QRNN) {
            const mts_qrnn_layer *layer = &stage->as.qrnn;
            any_int8_wa |= layer->quant == MTS_QUANT_INT8_WA;
            input = (size_t)layer->window * layer->input_size; /* checked: no overflow */
            product = mts_qrnn_num_gates(layer) * layer->hidden_size;
        } else if (stage->kind == MTS_STAGE_DENSE) {
            any_int8_wa |= stage->as.dense.quant == MTS_QUANT_INT8_WA;
            input = stage->as.dense.input_size;
            product = stage->as.dense.output_size;
        } else if (stage->kind == MTS_STAGE_MINGRU || stage->kind == MTS_STAGE_MINLSTM ||
                   stage->kind == MTS_STAGE_INDRNN) {
            /* The projection's input rows are the states (H <= MTS_MAX_DIM),
             * so max(input, projected) is also the int8-wa rows' depth. */
            mtsi_cell_needs needs;
            if (stage->kind == MTS_STAGE_INDRNN) {
                any_int8_wa |= stage->as.indrnn.quant == MTS_QUANT_INT8_WA;
                mtsi_indrnn_needs(&stage->as.indrnn, &needs);
            } else {
                any_int8_wa |= stage->as.min.quant == MTS_QUANT_INT8_WA;
                mtsi_min_needs(&stage->as.min, MTS_MIN_GATES(stage->kind), &needs);
            }
            input = in;
            projected = needs.projected_floats;
            product = needs.product_floats;
        }
        max_input = input > max_input ? input : max_input;
        max_projected = projected > max_projected ? projected : max_projected;
        max_product = product > max_product ? product : max_product;
    }
    scratch_layout plan = {0};
    /* Dimensions are at most MTS_WINDOW * MTS_MAX_DIM, far below
     * SIZE_MAX - 2 lines on any target with a 32-bit size_t or wider. A
     * model without products (norm and softmax only) needs none of these. */
    plan.input_stride = max_input ? mts_padded_stride(max_input) : 0;
    plan.projected_stride = max_projected ? mts_padded_stride(max_projected) : 0;
    plan.product_stride = max_product ? mts_padded_stride(max_product) : 0;
    plan.width = width;
    /* int8 rows of every product input (the layer input or its projection),
     * an odd number of cache lines each like the float rows. */
    const size_t max_quantized = max_input > max_projected ? max_input : max_projected;
    plan.quantized_stride = any_int8_wa ? mts_padded_stride((max_quantized + 3u) / 4u) * 4u : 0;
    /* Block by block, stage s > 0 reads and writes one block buffer (the
     * drivers take in == out); stage by stage (a bidirectional stage, which
     * cannot run in place), stages alternate between sequence buffers and
     * the last one writes h: one buffer for two stages, two for more. */
    const int whole = only == NULL && has_bidirectional(model);
    /* Block by block, the rows between stages go to the block's own rows of
     * h when no stage before the last is wider than the output (a stack:
     * no extra buffer), else to a block buffer (a model with a narrow head). */
    size_t last_in, output_size;
    mtsi_stage_io(&model->stages[model->num_stages - 1], &last_in, &output_size);
    const size_t between =
        only == NULL && model->num_stages > 1u && between_width > output_size ? 1u : 0u;
    const size_t sequence_rows[2] = {
        whole && model->num_stages > 1u ? seq_len : 0u,
        whole && model->num_stages > 2u ? seq_len : 0u,
    };
    const size_t width_stride = mts_padded_stride(width);
    if (!append_buffer(&plan, block, plan.input_stride, &plan.input) ||
        !append_buffer(&plan, any_norm_before ? block : 0, plan.input_stride, &plan.normed) ||
        !append_buffer(&plan, block, plan.projected_stride, &plan.projected) ||
        !append_buffer(&plan, block, plan.product_stride, &plan.product) ||
        !append_buffer(&plan, whole ? 0u : between * block, width_stride, &plan.blockbuf) ||
        !append_buffer(&plan, sequence_rows[0], width_stride, &plan.sequence[0]) ||
        !append_buffer(&plan, sequence_rows[1], width_stride, &plan.sequence[1]) ||
        !append_buffer(&plan, block, plan.quantized_stride / 4u, &plan.quantized) ||
        !append_buffer(&plan, any_int8_wa ? 1u : 0u, mts_padded_stride(block),
                       &plan.quantized_scale))
        return MTS_ERR_OVERFLOW;
    plan.blockbuf_used = !whole && between;
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
    const mts_status plan_status = plan_scratch(model, NULL, block, seq_len, &layout);
    if (plan_status != MTS_OK)
        return plan_status;
    return layout_bytes(&layout, num_bytes);
}

mts_status mts_model_stage_workspace_size(const mts_model *model, size_t stage, size_t block,
                                          size_t *num_bytes)
{
    const mts_status status = mts_model_check(model);
    if (status != MTS_OK)
        return status;
    if (num_bytes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (block == 0 || stage >= model->num_stages)
        return MTS_ERR_BAD_SIZE;
    scratch_layout layout;
    const mts_status plan_status = plan_scratch(model, &model->stages[stage], block, 0, &layout);
    if (plan_status != MTS_OK)
        return plan_status;
    /* The rows alone: the alignment slack belongs to the model's workspace. */
    return mts_mul_ok(layout.total, sizeof(float), num_bytes) ? MTS_OK : MTS_ERR_OVERFLOW;
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

/* Run the stages over `steps` frames x -> h, each stage's state in turn.
 * Block by block (whole == 0, steps <= block), the stages between the first
 * and the last read and write the block buffer in place (or, without one,
 * this block's rows of h, which then hold every stage's rows); stage by stage
 * over a whole sequence (whole == 1), they alternate between the sequence
 * buffers, so no stage reads the buffer it writes. The last stage writes h. */
static void run_stages(const mts_model *model, const mts_scratch *scratch, size_t block,
                       const mts_products *products, float *state, const float *x,
                       size_t steps, float *h, int whole)
{
    const float *in = x;
    float *stage_state = state;
    for (size_t s = 0; s < model->num_stages; s++) {
        const mts_stage *stage = &model->stages[s];
        float *out = s + 1 == model->num_stages ? h
                     : whole                     ? scratch->sequence[s % 2u]
                     : scratch->blockbuf != NULL ? scratch->blockbuf
                                                 : h;
        size_t state_size;
        (void)mtsi_stage_state_floats(stage, &state_size); /* checked: no overflow */
        switch (stage->kind) {
        case MTS_STAGE_SRU:
            mtsi_sru_stage(&stage->as.sru, scratch, block, products, stage_state, in, out, steps);
            break;
        case MTS_STAGE_QRNN:
            mtsi_qrnn_stage(&stage->as.qrnn, scratch, block, products, stage_state, in, out,
                            steps);
            break;
        case MTS_STAGE_NORM:
            mtsi_norm_stage(&stage->as.norm, in, out, steps);
            break;
        case MTS_STAGE_MINGRU:
        case MTS_STAGE_MINLSTM:
            mtsi_min_run(&stage->as.min, MTS_MIN_GATES(stage->kind), scratch, block, products,
                         stage_state, in, steps, out);
            break;
        case MTS_STAGE_INDRNN:
            mtsi_indrnn_run(&stage->as.indrnn, scratch, block, products, stage_state, in, steps,
                            out);
            break;
        case MTS_STAGE_DENSE:
            /* The dense driver's scratch holds one block. */
            for (size_t t0 = 0; t0 < steps; t0 += block) {
                const size_t n = mts_min_size(block, steps - t0);
                size_t in_size, out_size;
                mtsi_stage_io(stage, &in_size, &out_size);
                mtsi_dense_stage(&stage->as.dense, scratch, products, in + t0 * in_size,
                                 out + t0 * out_size, n);
            }
            break;
        default:
            mtsi_softmax_stage(&stage->as.softmax, in, out, steps);
            break;
        }
        in = out;
        stage_state += state_size;
    }
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
    status = plan_scratch(model, NULL, options->block, seq_len, &layout);
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
        layout.product_stride,  layout.blockbuf_used ? base + layout.blockbuf : NULL,
        {base + layout.sequence[0], base + layout.sequence[1]},
        (int8_t *)(base + layout.quantized), layout.quantized_stride,
        base + layout.quantized_scale,
    };
    const mts_products products = {
        options->gemm ? options->gemm : mts_gemm_f32_default(),
        options->gemm_i8f32 ? options->gemm_i8f32 : mts_gemm_i8f32_default(),
        options->gemm_i8i8 ? options->gemm_i8i8 : mts_gemm_i8i8_default(),
    };
    if (has_bidirectional(model)) {
        run_stages(model, &scratch, options->block, &products, state, x, seq_len, h, 1);
    } else {
        /* Block by block: every stage's weights once per block. */
        for (size_t t0 = 0; t0 < seq_len; t0 += options->block) {
            const size_t steps = mts_min_size(options->block, seq_len - t0);
            run_stages(model, &scratch, options->block, &products, state,
                       x + t0 * input_size, steps, h + t0 * output_size, 0);
        }
    }
    return MTS_OK;
}
