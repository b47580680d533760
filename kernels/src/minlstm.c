/* minLSTM driver (docs/spec.md 6, mtsrnn/minlstm.h): the shared block loop
 * (min_cells.c) with this scan, per step and unit:
 *
 *   f = sigma(f), i = sigma(i)
 *   h = (f h + i g(a)) / (f + i)      (= f' h + i' g(a), f' = f / (f + i), i' = i / (f + i))
 *
 * One division per unit instead of the package's two (f' and i'): the same
 * value up to rounding. f + i is 0 only when both pre-activations are below
 * about -104 (sigma underflows): NaN there, as the package's float32 path.
 */
#include "min_cells.h"

/* One step over the H units; u holds the candidate block a, then the forget
 * block f and the input block i. With a 4-lane backend (simd_f32x4.h) a
 * first loop takes four units at a time with the same operations, the
 * scalar loop the rest. */
static void minlstm_step(size_t hidden, const float *restrict u, float *restrict h,
                         float *restrict out)
{
    const size_t H = hidden;
    size_t j = 0;
#if MTS_F32X4
    for (; j + 4 <= H; j += 4) {
        const mts_f32x4 g = mtsi_min_g_x4(mts_f32x4_load(u + j));
        const mts_f32x4 f = mts_sigmoidf_x4(mts_f32x4_load(u + H + j));
        const mts_f32x4 i = mts_sigmoidf_x4(mts_f32x4_load(u + 2 * H + j));
        const mts_f32x4 num =
            mts_f32x4_add(mts_f32x4_mul(f, mts_f32x4_load(h + j)), mts_f32x4_mul(i, g));
        const mts_f32x4 h_new = mts_f32x4_div(num, mts_f32x4_add(f, i));
        mts_f32x4_store(h + j, h_new);
        mts_f32x4_store(out + j, h_new);
    }
#endif
    for (; j < H; j++) {
        const float g = mtsi_min_g(u[j]);
        const float f = mts_sigmoidf_inline(u[H + j]);
        const float i = mts_sigmoidf_inline(u[2 * H + j]);
        const float h_new = (f * h[j] + i * g) / (f + i);
        h[j] = h_new;
        out[j] = h_new;
    }
}

mts_status mts_minlstm_layer_array_sizes(const mts_minlstm_layer *layer,
                                        mts_minlstm_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (layer->has_output > 1u)
        return MTS_ERR_BAD_CONFIG;
    mts_minlstm_array_sizes counts;
    const mts_status status = mtsi_cell_sizes_check(
        layer->input_size, layer->hidden_size, 3u, layer->has_output ? layer->output_size : 0u,
        layer->quant, &counts.weight, &counts.weight_out);
    if (status != MTS_OK)
        return status;
    if (layer->has_output && layer->output_size < 1u)
        return MTS_ERR_BAD_SIZE;
    /* Without a projection the output is the state. */
    if (!layer->has_output && layer->output_size != layer->hidden_size)
        return MTS_ERR_BAD_CONFIG;
    counts.weight_rows = 3u * (size_t)layer->hidden_size;
    counts.weight_out_rows = layer->has_output ? layer->output_size : 0u;
    *sizes = counts;
    return MTS_OK;
}

mts_status mtsi_minlstm_check(const mts_minlstm_layer *layer)
{
    mts_minlstm_array_sizes sizes;
    const mts_status status = mts_minlstm_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int quantised = layer->quant != MTS_QUANT_NONE;
    const int missing =
        quantised ? layer->weight_q == NULL || layer->weight_scale == NULL ||
                        (layer->has_output &&
                         (layer->weight_out_q == NULL || layer->weight_out_scale == NULL))
                  : layer->weight == NULL || (layer->has_output && layer->weight_out == NULL);
    return missing ? MTS_ERR_NULL_POINTER : MTS_OK;
}

void mtsi_minlstm_needs(const mts_minlstm_layer *layer, mtsi_cell_needs *needs)
{
    needs->state_floats = layer->hidden_size;
    needs->product_floats = 3u * (size_t)layer->hidden_size;
    needs->projected_floats = layer->has_output ? layer->hidden_size : 0u;
    needs->quantized_depth = layer->quant != MTS_QUANT_INT8_WA ? 0u
                             : layer->has_output && layer->hidden_size > layer->input_size
                                 ? layer->hidden_size
                                 : layer->input_size;
    needs->output_size = layer->output_size;
}

void mtsi_minlstm_run(const mts_minlstm_layer *layer, const mts_scratch *scratch, size_t block,
                     const mts_products *products, float *state, const float *x,
                     size_t seq_len, float *y)
{
    const mtsi_min_cell cell = {
        layer->input_size, layer->hidden_size, layer->output_size, 3u, layer->has_output,
        {layer->quant, layer->weight, layer->weight_q, layer->weight_scale},
        {layer->quant, layer->weight_out, layer->weight_out_q, layer->weight_out_scale},
    };
    mtsi_min_cell_run(&cell, minlstm_step, scratch, block, products, state, x, seq_len, y);
}
