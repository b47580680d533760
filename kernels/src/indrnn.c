/* IndRNN driver (docs/spec.md 7, mtsrnn/indrnn.h): per block of T steps one
 * blocked product, then the elementwise scan:
 *
 *   U[t0:t0+T] = x[t0:t0+T] W^T          one pass over W for T steps
 *   for t in the block:  h = act(u_t + w_hh * h + b)    act relu or tanh
 *
 * A block of more than one step is scanned MTSI_SCAN_CHUNK units at a time,
 * every step of the block inside a chunk, with the chunk's w_hh and b
 * copied once per block (internal.h): the same arithmetic per unit and step.
 */
#include "min_cells.h"

/* One step over `hidden` units (u, w_hh, b, h and out start at the first of
 * them: all H, or one chunk). With a 4-lane backend (simd_f32x4.h) a first
 * loop takes four units at a time with the same operations, the scalar
 * loop the rest; use_tanh is a constant in each instantiation below. */
static MTS_ALWAYS_INLINE void indrnn_step(size_t hidden, const float *restrict u,
                                          const float *restrict w_hh, const float *restrict b,
                                          float *restrict h, float *restrict out, int use_tanh)
{
    size_t j = 0;
#if MTS_F32X4
    const mts_f32x4 zero = mts_f32x4_dup(0.0f);
    for (; j + 4 <= hidden; j += 4) {
        const mts_f32x4 v = mts_f32x4_add(
            mts_f32x4_add(mts_f32x4_load(u + j),
                          mts_f32x4_mul(mts_f32x4_load(w_hh + j), mts_f32x4_load(h + j))),
            mts_f32x4_load(b + j));
        /* relu as a select, so a NaN stays NaN as in the scalar loop. */
        const mts_f32x4 h_new =
            use_tanh ? mts_tanhf_x4(v) : mts_f32x4_select(mts_f32x4_lt(v, zero), zero, v);
        mts_f32x4_store(h + j, h_new);
        mts_f32x4_store(out + j, h_new);
    }
#endif
    for (; j < hidden; j++) {
        const float v = (u[j] + w_hh[j] * h[j]) + b[j];
        const float h_new = use_tanh ? mts_tanhf_inline(v) : (v < 0.0f ? 0.0f : v);
        h[j] = h_new;
        out[j] = h_new;
    }
}

/* Every step of a block over `units` units from j0 (w_hh, b and h start at
 * unit j0), one instantiation per activation. */
typedef void (*indrnn_scan_fn)(size_t units, const float *restrict w_hh,
                               const float *restrict b, const mtsi_scan_rows *rows, size_t j0,
                               float *restrict h);

#define MTS_INDRNN_SCAN(NAME, TANH)                                                        \
    static void indrnn_scan_##NAME(size_t units, const float *restrict w_hh,              \
                                   const float *restrict b, const mtsi_scan_rows *rows,   \
                                   size_t j0, float *restrict h)                          \
    {                                                                                     \
        for (size_t s = 0; s < rows->steps; s++) {                                        \
            const size_t t = mtsi_scan_row(rows, s);                                      \
            indrnn_step(units, rows->u + t * rows->u_stride + j0, w_hh, b, h,             \
                        rows->h + t * rows->h_stride + j0, TANH);                         \
        }                                                                                 \
    }
MTS_INDRNN_SCAN(relu, 0)
MTS_INDRNN_SCAN(tanh, 1)
#undef MTS_INDRNN_SCAN

mts_status mts_indrnn_layer_array_sizes(const mts_indrnn_layer *layer,
                                        mts_indrnn_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (layer->activation != MTS_INDRNN_RELU && layer->activation != MTS_INDRNN_TANH)
        return MTS_ERR_BAD_CONFIG;
    mts_indrnn_array_sizes counts;
    size_t none;
    const mts_status status = mtsi_cell_sizes_check(layer->input_size, layer->hidden_size, 1u,
                                                    0u, layer->quant, &counts.weight, &none);
    if (status != MTS_OK)
        return status;
    counts.weight_hh = layer->hidden_size;
    counts.bias = layer->hidden_size;
    counts.weight_rows = layer->hidden_size;
    *sizes = counts;
    return MTS_OK;
}

mts_status mtsi_indrnn_check(const mts_indrnn_layer *layer)
{
    mts_indrnn_array_sizes sizes;
    const mts_status status = mts_indrnn_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int weights_missing = layer->quant == MTS_QUANT_NONE
                                    ? layer->weight == NULL
                                    : layer->weight_q == NULL || layer->weight_scale == NULL;
    if (weights_missing || layer->weight_hh == NULL || layer->bias == NULL)
        return MTS_ERR_NULL_POINTER;
    return MTS_OK;
}

void mtsi_indrnn_needs(const mts_indrnn_layer *layer, mtsi_cell_needs *needs)
{
    needs->state_floats = layer->hidden_size;
    needs->product_floats = layer->hidden_size;
    needs->projected_floats = 0u;
    needs->quantized_depth = layer->quant == MTS_QUANT_INT8_WA ? layer->input_size : 0u;
    needs->output_size = layer->hidden_size;
}

/* The scan of one block of `steps` steps after its product: a block of one
 * step in one pass over the units, a longer block MTSI_SCAN_CHUNK units at
 * a time with the chunk's w_hh and b copied once per block (internal.h).
 * Kept out of its caller (MTS_NOINLINE), so that the copies are on the
 * stack only while the scan runs, never beside the product's frames. */
static MTS_NOINLINE void indrnn_scan_block(const mts_indrnn_layer *layer, indrnn_scan_fn scan,
                                           const mts_scratch *scratch, size_t steps,
                                           float *state, float *y)
{
    const size_t H = layer->hidden_size;
    const mtsi_scan_rows rows = {steps, 0,  scratch->product, scratch->product_stride,
                                 NULL,  0u, y,                H};
    if (steps == 1) {
        scan(H, layer->weight_hh, layer->bias, &rows, 0, state);
        return;
    }
    for (size_t j0 = 0; j0 < H; j0 += MTSI_SCAN_CHUNK) {
        float w_hh[MTSI_SCAN_CHUNK], b[MTSI_SCAN_CHUNK];
        const size_t units = mts_min_size(MTSI_SCAN_CHUNK, H - j0);
        mtsi_copy_floats(w_hh, layer->weight_hh + j0, units);
        mtsi_copy_floats(b, layer->bias + j0, units);
        scan(units, w_hh, b, &rows, j0, state + j0);
    }
}

void mtsi_indrnn_run(const mts_indrnn_layer *layer, const mts_scratch *scratch, size_t block,
                     const mts_products *products, float *state, const float *x,
                     size_t seq_len, float *y)
{
    const size_t n = layer->input_size;
    const size_t H = layer->hidden_size;
    const indrnn_scan_fn scan =
        layer->activation == MTS_INDRNN_TANH ? indrnn_scan_tanh : indrnn_scan_relu;
    const mts_weights weight = {layer->quant, layer->weight, layer->weight_q,
                                layer->weight_scale};
    for (size_t t0 = 0; t0 < seq_len; t0 += block) {
        const size_t steps = mts_min_size(block, seq_len - t0);
        /* As the other drivers: the block's rows at the padded stride (y may be
         * x when H <= n). */
        for (size_t t = 0; t < steps; t++)
            mtsi_copy_floats(scratch->input + t * scratch->input_stride, x + (t0 + t) * n, n);
        mtsi_blocked_product(products, scratch, &weight, 0, H, n, steps, scratch->input,
                             scratch->input_stride, scratch->product, scratch->product_stride);
        indrnn_scan_block(layer, scan, scratch, steps, state, y + t0 * H);
    }
}
