/* minGRU and minLSTM (docs/spec.md 6, mtsrnn/min_layer.h): one block loop
 * for both, with the scan of the stage kind's gate count G, and the size
 * checks the new cells share:
 *
 *   U[t0:t0+T] = x[t0:t0+T] W^T            one pass over W for T steps
 *   for t in the block:  h = scan(U[t], h)
 *     minGRU  (G = 2):  z = sigma(b);  h = h + z (g(a) - h)   (= (1 - z) h + z g(a), torch.lerp)
 *     minLSTM (G = 3):  f = sigma(f), i = sigma(i);  h = (f h + i g(a)) / (f + i)
 *   Y[t0:t0+T] = H[t0:t0+T] W_out^T        one pass over W_out (with to_out)
 *
 * minLSTM takes one division per unit instead of the package's two (f' and
 * i'): the same value up to rounding. f + i is 0 only when both
 * pre-activations are below about -104 (sigma underflows): NaN there, as the
 * package's float32 path.
 */
#include "min_cells.h"

/* One step over the H units: u the step's product row (G blocks of H), h
 * the state (updated), out the state row the step writes (the output row,
 * or the projection's input row). With a 4-lane backend (simd_f32x4.h) a
 * first loop takes four units at a time with the same operations, the
 * scalar loop the rest. */
typedef void (*min_step_fn)(size_t hidden, const float *restrict u, float *restrict h,
                            float *restrict out);

/* u: the candidate block a, then the gate block b. */
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

/* u: the candidate block a, then the forget block f and the input block i. */
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

mts_status mtsi_cell_sizes_check(uint32_t input_size, uint32_t hidden_size, size_t gates,
                                 uint32_t out_rows, uint8_t quant, size_t *weight,
                                 size_t *weight_out)
{
    if (input_size < 1u || input_size > MTS_MAX_DIM || hidden_size < 1u ||
        hidden_size > MTS_MAX_DIM || out_rows > MTS_MAX_DIM)
        return MTS_ERR_BAD_SIZE;
    if (quant > MTS_QUANT_INT8_WA)
        return MTS_ERR_BAD_CONFIG;
    /* int8-wa sums in int32: every product depth must keep it from
     * overflowing (n for the gates, H for the output projection). */
    if (quant == MTS_QUANT_INT8_WA &&
        (input_size > MTS_I8_MAX_DEPTH || (out_rows && hidden_size > MTS_I8_MAX_DEPTH)))
        return MTS_ERR_BAD_CONFIG;
    /* gates <= 3 and sizes <= 2^24: gates * H fits a 32-bit size_t, the
     * products of two sizes need not. */
    size_t bytes;
    if (!mts_mul_ok(gates * hidden_size, input_size, weight) ||
        !mts_mul_ok(*weight, sizeof(float), &bytes) ||
        !mts_mul_ok(out_rows, hidden_size, weight_out) ||
        !mts_mul_ok(*weight_out, sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    return MTS_OK;
}

mts_status mts_min_layer_array_sizes(const mts_min_layer *layer, uint32_t gates,
                                     mts_min_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (layer->has_output > 1u || (gates != MTS_MINGRU_GATES && gates != MTS_MINLSTM_GATES))
        return MTS_ERR_BAD_CONFIG;
    mts_min_array_sizes counts;
    const mts_status status = mtsi_cell_sizes_check(
        layer->input_size, layer->hidden_size, gates, layer->has_output ? layer->output_size : 0u,
        layer->quant, &counts.weight, &counts.weight_out);
    if (status != MTS_OK)
        return status;
    if (layer->has_output && layer->output_size < 1u)
        return MTS_ERR_BAD_SIZE;
    /* Without a projection the output is the state. */
    if (!layer->has_output && layer->output_size != layer->hidden_size)
        return MTS_ERR_BAD_CONFIG;
    counts.weight_rows = gates * (size_t)layer->hidden_size;
    counts.weight_out_rows = layer->has_output ? layer->output_size : 0u;
    *sizes = counts;
    return MTS_OK;
}

mts_status mtsi_min_check(const mts_min_layer *layer, uint32_t gates)
{
    mts_min_array_sizes sizes;
    const mts_status status = mts_min_layer_array_sizes(layer, gates, &sizes);
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

void mtsi_min_needs(const mts_min_layer *layer, uint32_t gates, mtsi_cell_needs *needs)
{
    needs->state_floats = layer->hidden_size;
    needs->product_floats = gates * (size_t)layer->hidden_size;
    needs->projected_floats = layer->has_output ? layer->hidden_size : 0u;
    needs->quantized_depth = layer->quant != MTS_QUANT_INT8_WA ? 0u
                             : layer->has_output && layer->hidden_size > layer->input_size
                                 ? layer->hidden_size
                                 : layer->input_size;
    needs->output_size = layer->output_size;
}

void mtsi_min_run(const mts_min_layer *layer, uint32_t gates, const mts_scratch *scratch,
                  size_t block, const mts_products *products, float *state, const float *x,
                  size_t seq_len, float *y)
{
    const size_t n = layer->input_size;
    const size_t H = layer->hidden_size;
    const size_t m = layer->output_size;
    const min_step_fn step = gates == MTS_MINGRU_GATES ? mingru_step : minlstm_step;
    const mts_weights weight = {layer->quant, layer->weight, layer->weight_q,
                                layer->weight_scale};
    const mts_weights weight_out = {layer->quant, layer->weight_out, layer->weight_out_q,
                                    layer->weight_out_scale};
    for (size_t t0 = 0; t0 < seq_len; t0 += block) {
        const size_t steps = mts_min_size(block, seq_len - t0);
        /* The block's inputs at the padded stride (T rows in different cache
         * sets), which also lets y be x when m <= n. */
        for (size_t t = 0; t < steps; t++)
            mtsi_copy_floats(scratch->input + t * scratch->input_stride, x + (t0 + t) * n, n);
        mtsi_blocked_product(products, scratch, &weight, 0, gates * H, n, steps,
                             scratch->input, scratch->input_stride, scratch->product,
                             scratch->product_stride);
        if (layer->has_output) {
            for (size_t t = 0; t < steps; t++)
                step(H, scratch->product + t * scratch->product_stride, state,
                     scratch->projected + t * scratch->projected_stride);
            mtsi_blocked_product(products, scratch, &weight_out, 0, m, H, steps,
                                 scratch->projected, scratch->projected_stride, y + t0 * m, m);
        } else {
            for (size_t t = 0; t < steps; t++)
                step(H, scratch->product + t * scratch->product_stride, state,
                     y + (t0 + t) * H);
        }
    }
}
