/* Private helpers shared by the model drivers. */
#ifndef MTSRNN_INTERNAL_H
#define MTSRNN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/model.h"

/* Floats per 64-byte cache line: workspace buffers and row strides are
 * multiples of it. */
#define MTS_LINE_FLOATS 16u

/* a * b into *out; 0 when it would overflow size_t. */
static inline int mts_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

/* a + b into *out; 0 when it would overflow size_t. */
static inline int mts_add_ok(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return 0;
    *out = a + b;
    return 1;
}

/* Row stride (floats) for a time-major block of rows of n floats: whole
 * cache lines, and an odd number of them. With a power-of-two row stride
 * every row of a block maps to the same cache set and the T rows evict each
 * other; an odd line count maps row t to a different set for every t below
 * the number of sets. Requires n <= SIZE_MAX - 2 * MTS_LINE_FLOATS. */
static inline size_t mts_padded_stride(size_t n)
{
    size_t lines = (n + MTS_LINE_FLOATS - 1) / MTS_LINE_FLOATS;
    lines |= 1u;
    return lines * MTS_LINE_FLOATS;
}

static inline size_t mts_min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Units per chunk of a block's scan (sru.c, qrnn.c, indrnn.c): a block of
 * more than one step is scanned chunk by chunk, every step of the block
 * inside a chunk, so the chunk's per-unit parameters are copied from the
 * model once per block (at most 4 gate blocks: 256 bytes of stack) rather
 * than read once per step. A multiple of 4, the vector width of the scans. */
#define MTSI_SCAN_CHUNK 16u

/* The rows a block's scan walks: step s of the block reads the product row
 * u + t * u_stride (and SRU's input row x + t * x_stride) and writes the
 * output row h + t * h_stride, with t = s, or steps - 1 - s for a backward
 * direction (reverse). */
typedef struct mtsi_scan_rows {
    size_t steps;
    int reverse;
    const float *u;
    size_t u_stride;
    const float *x;
    size_t x_stride;
    float *h;
    size_t h_stride;
} mtsi_scan_rows;

/* Row t of the block for its step s. */
static inline size_t mtsi_scan_row(const mtsi_scan_rows *rows, size_t s)
{
    return rows->reverse ? rows->steps - 1 - s : s;
}

/* Number of weight blocks k of an SRU layer: u0, u1, u2 and, for a
 * projected skip term, u3. */
static inline size_t mts_sru_num_blocks(const mts_sru_layer *layer)
{
    return layer->skip == MTS_SKIP_PROJECTED ? 4u : 3u;
}

static inline size_t mts_sru_output_size(const mts_sru_layer *layer)
{
    return (size_t)layer->num_directions * layer->hidden_size;
}

/* Number of gate blocks G of a QRNN layer: Z, F, [I], [O]. */
static inline size_t mts_qrnn_num_gates(const mts_qrnn_layer *layer)
{
    return 2u + layer->input_gate + layer->output_gate;
}

/* The per-call scratch, carved out of the caller's workspace. Each buffer
 * holds `block` rows at the given stride (floats). */
typedef struct mts_scratch {
    float *input;           /* raw layer input rows (the skip term reads it) */
    size_t input_stride;
    float *normed;          /* layer-normalised input rows (pre-norm models) */
    float *projected;       /* x W_proj rows (projected SRU models) */
    size_t projected_stride;
    float *product;         /* U = x W rows, the blocked product */
    size_t product_stride;
    float *blockbuf;        /* block x widest stage output: between stages
                             * (NULL: h's rows of the block are wide enough) */
    float *sequence[2];     /* seq_len x widest output: models with a
                             * bidirectional stage and 3+ stages use both,
                             * 2 stages the first, else none */
    /* int8-wa models: a product's input rows quantised per step. */
    int8_t *quantized;      /* block rows of quantized_stride bytes */
    size_t quantized_stride;
    float *quantized_scale; /* [block]: a_t / 127 of each row */
} mts_scratch;

/* The product variants of one call, one per weight dtype. */
typedef struct mts_products {
    mts_gemm_f32_fn f32;
    mts_gemm_i8f32_fn i8f32;
    mts_gemm_i8i8_fn i8i8;
} mts_products;

/* One weight matrix of a layer, float32 or int8 (quant: mts_quant). */
typedef struct mts_weights {
    uint8_t quant;
    const float *f32;
    const int8_t *q;
    const float *scale;     /* per row */
} mts_weights;

/* Y[t][r] = sum_i W[r][i] X[t][i] for the rows [row0, row0 + rows) of w,
 * with the product of w's dtype (product.c): float32, int8-w, or
 * int8-wa (X quantised per step into the scratch first). */
void mtsi_blocked_product(const mts_products *products, const mts_scratch *scratch,
                          const mts_weights *w, size_t row0, size_t rows, size_t depth,
                          size_t steps, const float *x, size_t x_stride,
                          float *y, size_t y_stride);

/* Input and output size of a stage (of a known kind; stage.c). */
void mtsi_stage_io(const mts_stage *stage, size_t *in, size_t *out);

/* A stage's configuration, then its arrays (non-NULL where needed): what
 * mts_model_check asks of each stage (stage.c). */
mts_status mtsi_check_stage(const mts_stage *stage);

/* mts_stage_describe without its checks: the products and parameter counts
 * of a stage of a known kind (0 returned for another kind), computed from
 * its fields as they are; counts of invalid sizes are 0. For readers that
 * only need a stage's scheme of an unchecked model (mts_model_schemes). The
 * one switch on the stage kind that describes its products (stage.c). */
int mtsi_stage_products(const mts_stage *stage, mts_stage_info *info);

/* State floats of one stage of an already checked model (0 without state);
 * 0 returned on overflow (stage.c). */
int mtsi_stage_state_floats(const mts_stage *stage, size_t *num_floats);

/* A stage's sizes, options and scalar fields, without its arrays: what
 * mts_model_check asks of each stage before looking at the arrays. */
mts_status mtsi_check_stage_config(const mts_stage *stage);

/* The name of the first scalar field of a stage that is not finite or out
 * of its range (mts_model_check's MTS_ERR_BAD_VALUE), or NULL. */
const char *mtsi_stage_bad_value(const mts_stage *stage);

/* The stage drivers. Rows are contiguous: in[t][input size], out[t][output
 * size]. seq_len <= block unless the model runs stage by stage
 * (bidirectional); then in != out. Otherwise in == out is allowed. */
void mtsi_sru_stage(const mts_sru_layer *layer, const mts_scratch *scratch, size_t block,
                    const mts_products *products, float *c, const float *in, float *out,
                    size_t seq_len);

void mtsi_qrnn_stage(const mts_qrnn_layer *layer, const mts_scratch *scratch, size_t block,
                     const mts_products *products, float *state, const float *in, float *out,
                     size_t seq_len);

/* steps <= block (the scratch holds one block). */
void mtsi_dense_stage(const mts_dense_layer *layer, const mts_scratch *scratch,
                      const mts_products *products, const float *in, float *out,
                      size_t steps);

void mtsi_norm_stage(const mts_norm_stage *stage, const float *in, float *out, size_t steps);

void mtsi_softmax_stage(const mts_softmax_stage *stage, const float *in, float *out,
                        size_t steps);

/* x <- (x - mean(x)) / sqrt(var(x) + eps) * weight + bias over n floats
 * (biased variance, as torch.nn.LayerNorm). */
void mtsi_layer_norm_inplace(float *x, size_t n, const float *weight, const float *bias,
                             float eps);

/* dst[i] = src[i] for i < n (copy.c). */
void mtsi_copy_floats(float *dst, const float *src, size_t n);

#endif /* MTSRNN_INTERNAL_H */
