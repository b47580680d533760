/* minGRU driver (docs/spec.md 6, mtsrnn/mingru.h): the shared block loop
 * (min_cells.c) with this scan, per step and unit:
 *
 *   z = sigma(b);  h = h + z (g(a) - h)     (= (1 - z) h + z g(a), torch.lerp)
 */
#include "min_cells.h"

/* One step over the H units; u holds the candidate block a then the gate
 * block b. With a 4-lane backend (simd_f32x4.h) a first loop takes four
 * units at a time with the same operations, the scalar loop the rest. */
static void mingru_step(size_t hidden, const float *restrict u, float *restrict h,
                        float *restrict out)
{
    const size_t H = hidden;
    size_t j = 0;
#if MTS_F32X4
    for (; j + 4 <= H; j += 4) {
        const mts_f32x4 g = mtsi_min_g_x4(mts_f32x4_load(u + j));
        const mts_f32x4 z = mts_sigmoidf_x4(mts_f32x4_load(u + H + j));
        const mts_f32x4 h_old = mts_f32x4_load(h + j);
        const mts_f32x4 h_new = mts_f32x4_add(h_old, mts_f32x4_mul(z, mts_f32x4_sub(g, h_old)));
        mts_f32x4_store(h + j, h_new);
        mts_f32x4_store(out + j, h_new);
    }
#endif
    for (; j < H; j++) {
        const float g = mtsi_min_g(u[j]);
        const float z = mts_sigmoidf_inline(u[H + j]);
        const float h_new = h[j] + z * (g - h[j]);
        h[j] = h_new;
        out[j] = h_new;
    }
}

mts_status mts_mingru_layer_array_sizes(const mts_mingru_layer *layer,
                                        mts_mingru_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (layer->has_output > 1u)
        return MTS_ERR_BAD_CONFIG;
    mts_mingru_array_sizes counts;
    const mts_status status = mtsi_cell_sizes_check(
        layer->input_size, layer->hidden_size, 2u, layer->has_output ? layer->output_size : 0u,
        layer->quant, &counts.weight, &counts.weight_out);
    if (status != MTS_OK)
        return status;
    if (layer->has_output && layer->output_size < 1u)
        return MTS_ERR_BAD_SIZE;
    /* Without a projection the output is the state. */
    if (!layer->has_output && layer->output_size != layer->hidden_size)
        return MTS_ERR_BAD_CONFIG;
    counts.weight_rows = 2u * (size_t)layer->hidden_size;
    counts.weight_out_rows = layer->has_output ? layer->output_size : 0u;
    *sizes = counts;
    return MTS_OK;
}

mts_status mtsi_mingru_check(const mts_mingru_layer *layer)
{
    mts_mingru_array_sizes sizes;
    const mts_status status = mts_mingru_layer_array_sizes(layer, &sizes);
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

void mtsi_mingru_needs(const mts_mingru_layer *layer, mtsi_cell_needs *needs)
{
    needs->state_floats = layer->hidden_size;
    needs->product_floats = 2u * (size_t)layer->hidden_size;
    needs->projected_floats = layer->has_output ? layer->hidden_size : 0u;
    needs->quantized_depth = layer->quant != MTS_QUANT_INT8_WA ? 0u
                             : layer->has_output && layer->hidden_size > layer->input_size
                                 ? layer->hidden_size
                                 : layer->input_size;
    needs->output_size = layer->output_size;
}

void mtsi_mingru_run(const mts_mingru_layer *layer, const mts_scratch *scratch, size_t block,
                     const mts_products *products, float *state, const float *x,
                     size_t seq_len, float *y)
{
    const mtsi_min_cell cell = {
        layer->input_size, layer->hidden_size, layer->output_size, 2u, layer->has_output,
        {layer->quant, layer->weight, layer->weight_q, layer->weight_scale},
        {layer->quant, layer->weight_out, layer->weight_out_q, layer->weight_out_scale},
    };
    mtsi_min_cell_run(&cell, mingru_step, scratch, block, products, state, x, seq_len, y);
}
