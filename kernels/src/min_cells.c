/* The block loop of minGRU and minLSTM (docs/spec.md 6), and the size checks
 * the new cells share:
 *
 *   U[t0:t0+T] = x[t0:t0+T] W^T            one pass over W for T steps
 *   for t in the block:  h = scan(U[t], h)  (mingru.c, minlstm.c)
 *   Y[t0:t0+T] = H[t0:t0+T] W_out^T        one pass over W_out (with to_out)
 */
#include "min_cells.h"

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

void mtsi_min_cell_run(const mtsi_min_cell *cell, mtsi_min_step_fn step,
                       const mts_scratch *scratch, size_t block, const mts_products *products,
                       float *state, const float *x, size_t seq_len, float *y)
{
    const size_t n = cell->input_size;
    const size_t H = cell->hidden_size;
    const size_t m = cell->output_size;
    for (size_t t0 = 0; t0 < seq_len; t0 += block) {
        const size_t steps = mts_min_size(block, seq_len - t0);
        /* The block's inputs at the padded stride (T rows in different cache
         * sets), which also lets y be x when m <= n. */
        for (size_t t = 0; t < steps; t++)
            mtsi_copy_floats(scratch->input + t * scratch->input_stride, x + (t0 + t) * n, n);
        mtsi_blocked_product(products, scratch, &cell->weight, 0, cell->gates * H, n, steps,
                             scratch->input, scratch->input_stride, scratch->product,
                             scratch->product_stride);
        if (cell->has_output) {
            for (size_t t = 0; t < steps; t++)
                step(H, scratch->product + t * scratch->product_stride, state,
                     scratch->projected + t * scratch->projected_stride);
            mtsi_blocked_product(products, scratch, &cell->weight_out, 0, m, H, steps,
                                 scratch->projected, scratch->projected_stride, y + t0 * m, m);
        } else {
            for (size_t t = 0; t < steps; t++)
                step(H, scratch->product + t * scratch->product_stride, state,
                     y + (t0 + t) * H);
        }
    }
}
