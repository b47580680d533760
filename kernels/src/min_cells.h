/* Private: the drivers of the cells whose weights see only the input and
 * whose recurrence is elementwise, besides SRU and QRNN: minGRU, minLSTM
 * (min_cells.c, one descriptor with the gate count G of the stage kind) and
 * IndRNN (indrnn.c), docs/spec.md 6
 * and 7.
 *
 * Each run entry computes one layer over seq_len steps, in blocks of at most
 * `block` steps, from and into the caller's state (H floats: h), reading x
 * (seq_len rows of n floats) and writing y (seq_len rows of m floats). y may
 * be x when m <= n (a block's inputs are copied to the scratch before any of
 * its outputs is written, and output row t ends before input row t + 1
 * does); otherwise they must not overlap. The
 * layer was checked once (mtsi_min_check / mtsi_indrnn_check) and the scratch sized by the
 * caller (mtsi_min_needs / mtsi_indrnn_needs); the runs check nothing.
 *
 * The scratch they use, `block` rows each:
 *   input              n floats per row (input_stride >= n): the block's inputs
 *                      at the padded stride of the SRU/QRNN drivers
 *   product            G*H floats per row (product_stride >= G*H): the gates
 *   projected          H floats per row (projected_stride >= H): the states
 *                      the output projection reads (minGRU/minLSTM with one)
 *   quantized, _scale  int8-wa only: quantized_stride >= the largest product
 *                      depth (n, and H with an output projection)
 */
#ifndef MTSRNN_MIN_CELLS_H
#define MTSRNN_MIN_CELLS_H

#include "activation_inline.h"
#include "compiler.h"
#include "internal.h"
#include "mtsrnn/indrnn.h"
#include "mtsrnn/min_layer.h"
#include "simd_f32x4.h"

/* mingru-pytorch's g: a + 1/2 for a >= 0, sigma(a) below (continuous at 0,
 * always > 0), scalar and on 4 lanes with the same operations. */
static MTS_ALWAYS_INLINE float mtsi_min_g(float a)
{
    return a >= 0.0f ? a + 0.5f : mts_sigmoidf_inline(a);
}

#if MTS_F32X4
static MTS_ALWAYS_INLINE mts_f32x4 mtsi_min_g_x4(mts_f32x4 a)
{
    return mts_f32x4_select(mts_f32x4_lt(a, mts_f32x4_dup(0.0f)), mts_sigmoidf_x4(a),
                            mts_f32x4_add(a, mts_f32x4_dup(0.5f)));
}
#endif

/* What a layer needs from its caller, in floats (or bytes per row for the
 * int8 rows): state, the product row, the state rows of the output
 * projection (0 without one), the depth of the int8-wa rows (0 unless
 * int8-wa), and the output size. */
typedef struct mtsi_cell_needs {
    size_t state_floats;
    size_t product_floats;
    size_t projected_floats;
    size_t quantized_depth;
    size_t output_size;
} mtsi_cell_needs;

/* Sizes, options and non-NULL arrays of a layer: MTS_OK or the specific
 * status (as mts_model_check for SRU/QRNN layers). */
mts_status mtsi_min_check(const mts_min_layer *layer, uint32_t gates);
mts_status mtsi_indrnn_check(const mts_indrnn_layer *layer);

/* The needs of a checked layer. */
void mtsi_min_needs(const mts_min_layer *layer, uint32_t gates, mtsi_cell_needs *needs);
void mtsi_indrnn_needs(const mts_indrnn_layer *layer, mtsi_cell_needs *needs);

/* G = gates (MTS_MINGRU_GATES or MTS_MINLSTM_GATES) picks the scan: per
 * block one product for every gate, the scan, then the output projection as
 * a second product. */
void mtsi_min_run(const mts_min_layer *layer, uint32_t gates, const mts_scratch *scratch,
                  size_t block, const mts_products *products, float *state, const float *x,
                  size_t seq_len, float *y);
void mtsi_indrnn_run(const mts_indrnn_layer *layer, const mts_scratch *scratch, size_t block,
                     const mts_products *products, float *state, const float *x,
                     size_t seq_len, float *y);

/* The checks the three cells share: sizes in [1, MTS_MAX_DIM], quant
 * known, int8-wa depths within MTS_I8_MAX_DEPTH, rows * depth bytes in
 * size_t. gates * hidden rows of depth input_size, and (out_rows != 0) an
 * output projection of out_rows rows of depth hidden. */
mts_status mtsi_cell_sizes_check(uint32_t input_size, uint32_t hidden_size, size_t gates,
                                 uint32_t out_rows, uint8_t quant, size_t *weight,
                                 size_t *weight_out);

#endif /* MTSRNN_MIN_CELLS_H */
