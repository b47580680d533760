/* SRU sequence driver: for each layer and direction, blocks of T steps, each
 * one blocked product followed by the sequential elementwise scan.
 *
 *   U[t0:t0+T] = LN?(x[t0:t0+T]) (W_proj) W         one pass over the weights
 *   for t in the block, in time order (reversed for the backward direction):
 *     f = sigma(u1 + vf c + bf);  r = sigma(u2 + vr c + br)
 *     c = (c - u0) f + u0;        h = (g(c) - s) r + s
 *
 * The scan of a block of more than one step walks the units in chunks of
 * MTSI_SCAN_CHUNK (internal.h) and, per chunk, all the block's steps, with
 * the chunk's vf, vr, bf and br copied once per block: so the per-unit
 * parameters are read from the model once per block, as the weights are,
 * not once per step (on a part whose model sits in flash behind a small
 * cache that is T times less flash traffic for them). Each unit's
 * arithmetic per step is the same in both walks, so are the bits.
 */
#include "activation_inline.h"
#include "compiler.h"
#include "internal.h"
#include "simd_f32x4.h"

/* Constants of one direction pass over one layer. */
typedef struct sru_pass {
    size_t hidden;          /* d: the stride between the gate blocks of u */
    size_t units;           /* the units a step takes: d, or one chunk's */
    const float *vf, *vr;   /* NULL in the original form */
    const float *bf, *br;
    float scale_x;
} sru_pass;

/* One time step of one direction over `units` of its d units (u, x, c, h and
 * the parameters start at the first of them). u is the step's row of
 * the product: u0 = u[0:d], u1 = u[d:2d], u2 = u[2d:3d], u3 = u[3d:4d]; x is
 * the raw layer input at this direction's offset (read by the scaled skip
 * term only). The flags are constants in each instantiation below, so every
 * combination compiles to its own branch-free loop. With a 4-lane backend
 * (simd_f32x4.h) a first loop takes four units at a time with the same
 * operations, and the scalar loop only the last d mod 4 units; without one,
 * the scalar loop takes all of them and the compiler vectorises it. */
static MTS_ALWAYS_INLINE void sru_step(const sru_pass *pass, const float *restrict u,
                                       const float *restrict x, float *restrict c,
                                       float *restrict h, int has_v, int use_tanh,
                                       int skip)
{
    const size_t d = pass->hidden;
    const size_t units = pass->units;
    const float *restrict vf = pass->vf;
    const float *restrict vr = pass->vr;
    const float *restrict bf = pass->bf;
    const float *restrict br = pass->br;
    const float scale_x = pass->scale_x;
    size_t j = 0;
#if MTS_F32X4
    for (; j + 4 <= units; j += 4) {
        const mts_f32x4 c_prev = mts_f32x4_load(c + j);
        const mts_f32x4 u0 = mts_f32x4_load(u + j);
        mts_f32x4 f_in = mts_f32x4_add(mts_f32x4_load(u + d + j), mts_f32x4_load(bf + j));
        mts_f32x4 r_in = mts_f32x4_add(mts_f32x4_load(u + 2 * d + j), mts_f32x4_load(br + j));
        if (has_v) {
            f_in = mts_f32x4_add(f_in, mts_f32x4_mul(mts_f32x4_load(vf + j), c_prev));
            r_in = mts_f32x4_add(r_in, mts_f32x4_mul(mts_f32x4_load(vr + j), c_prev));
        }
        const mts_f32x4 f = mts_sigmoidf_x4(f_in);
        const mts_f32x4 r = mts_sigmoidf_x4(r_in);
        const mts_f32x4 c_new = mts_f32x4_add(mts_f32x4_mul(mts_f32x4_sub(c_prev, u0), f), u0);
        const mts_f32x4 g = use_tanh ? mts_tanhf_x4(c_new) : c_new;
        mts_f32x4 s = mts_f32x4_dup(0.0f);
        if (skip == MTS_SKIP_SCALED_INPUT)
            s = mts_f32x4_mul(mts_f32x4_dup(scale_x), mts_f32x4_load(x + j));
        else if (skip == MTS_SKIP_PROJECTED)
            s = mts_f32x4_load(u + 3 * d + j);
        mts_f32x4_store(c + j, c_new);
        mts_f32x4_store(h + j, mts_f32x4_add(mts_f32x4_mul(mts_f32x4_sub(g, s), r), s));
    }
#endif
    for (; j < units; j++) {
        const float c_prev = c[j];
        const float u0 = u[j];
        float f_in = u[d + j] + bf[j];
        float r_in = u[2 * d + j] + br[j];
        if (has_v) {
            f_in += vf[j] * c_prev;
            r_in += vr[j] * c_prev;
        }
        const float f = mts_sigmoidf_inline(f_in);
        const float r = mts_sigmoidf_inline(r_in);
        const float c_new = (c_prev - u0) * f + u0;
        const float g = use_tanh ? mts_tanhf_inline(c_new) : c_new;
        float s = 0.0f;
        if (skip == MTS_SKIP_SCALED_INPUT)
            s = scale_x * x[j];
        else if (skip == MTS_SKIP_PROJECTED)
            s = u[3 * d + j];
        c[j] = c_new;
        h[j] = (g - s) * r + s;
    }
}

/* Every step of a block over the units [j0, j0 + pass->units) (c starts at
 * unit j0), one instantiation per flag combination. */
typedef void (*sru_scan_fn)(const sru_pass *pass, const mtsi_scan_rows *rows, size_t j0,
                            float *restrict c);

#define MTS_SRU_SCAN(HAS_V, TANH, SKIP)                                                    \
    static void sru_scan_##HAS_V##_##TANH##_##SKIP(const sru_pass *pass,                  \
                                                   const mtsi_scan_rows *rows, size_t j0, \
                                                   float *restrict c)                     \
    {                                                                                     \
        for (size_t s = 0; s < rows->steps; s++) {                                        \
            const size_t t = mtsi_scan_row(rows, s);                                      \
            sru_step(pass, rows->u + t * rows->u_stride + j0,                             \
                     rows->x + t * rows->x_stride + j0, c,                                \
                     rows->h + t * rows->h_stride + j0, HAS_V, TANH, SKIP);               \
        }                                                                                 \
    }
MTS_SRU_SCAN(0, 0, 0) MTS_SRU_SCAN(0, 0, 1) MTS_SRU_SCAN(0, 0, 2)
MTS_SRU_SCAN(0, 1, 0) MTS_SRU_SCAN(0, 1, 1) MTS_SRU_SCAN(0, 1, 2)
MTS_SRU_SCAN(1, 0, 0) MTS_SRU_SCAN(1, 0, 1) MTS_SRU_SCAN(1, 0, 2)
MTS_SRU_SCAN(1, 1, 0) MTS_SRU_SCAN(1, 1, 1) MTS_SRU_SCAN(1, 1, 2)
#undef MTS_SRU_SCAN

/* Indexed [has_v][use_tanh][skip]. */
static const sru_scan_fn sru_scans[2][2][3] = {
    {{sru_scan_0_0_0, sru_scan_0_0_1, sru_scan_0_0_2},
     {sru_scan_0_1_0, sru_scan_0_1_1, sru_scan_0_1_2}},
    {{sru_scan_1_0_0, sru_scan_1_0_1, sru_scan_1_0_2},
     {sru_scan_1_1_0, sru_scan_1_1_1, sru_scan_1_1_2}},
};

/* The scan of one block of `steps` steps of direction `dir`, after its
 * product: a block of one step in one pass over the units, a longer block
 * MTSI_SCAN_CHUNK units at a time with the chunk's parameters copied once
 * per block (internal.h). Kept out of its caller (MTS_NOINLINE), so that the
 * copies and the walk's frame are on the stack only while the scan runs,
 * never beside the product's frames. */
static MTS_NOINLINE void sru_scan_block(const sru_pass *pass, sru_scan_fn scan,
                                        const mts_scratch *scratch, size_t steps, size_t dir,
                                        float *c, float *out, size_t out_size)
{
    const size_t d = pass->hidden;
    const mtsi_scan_rows rows = {steps,
                                 dir != 0,
                                 scratch->product,
                                 scratch->product_stride,
                                 scratch->input + dir * d,
                                 scratch->input_stride,
                                 out,
                                 out_size};
    if (steps == 1) {
        scan(pass, &rows, 0, c);
        return;
    }
    for (size_t j0 = 0; j0 < d; j0 += MTSI_SCAN_CHUNK) {
        float params[4][MTSI_SCAN_CHUNK];
        sru_pass chunk = *pass;
        chunk.units = mts_min_size(MTSI_SCAN_CHUNK, d - j0);
        chunk.bf = params[0];
        chunk.br = params[1];
        mtsi_copy_floats(params[0], pass->bf + j0, chunk.units);
        mtsi_copy_floats(params[1], pass->br + j0, chunk.units);
        if (pass->vf != NULL) {
            chunk.vf = params[2];
            chunk.vr = params[3];
            mtsi_copy_floats(params[2], pass->vf + j0, chunk.units);
            mtsi_copy_floats(params[3], pass->vr + j0, chunk.units);
        }
        scan(&chunk, &rows, j0, c + j0);
    }
}

/* One direction of one layer over the whole call, block by block. `in` and
 * `out` may be the same buffer when the call is one block of a
 * unidirectional layer (model.c runs those block by block): the block's
 * input rows are copied to scratch before its outputs are written. */
static void sru_direction(const mts_sru_layer *layer, size_t dir, const mts_scratch *scratch,
                          size_t block, const mts_products *products, float *c_layer,
                          const float *in, float *out, size_t seq_len)
{
    const size_t n = layer->input_size;
    const size_t d = layer->hidden_size;
    const size_t out_size = mts_sru_output_size(layer);
    const size_t k = mts_sru_num_blocks(layer);
    const size_t depth = layer->projection_size ? layer->projection_size : n;
    const mts_weights weight = {layer->quant, layer->weight, layer->weight_q,
                                layer->weight_scale};
    const mts_weights weight_proj = {layer->quant, layer->weight_proj, layer->weight_proj_q,
                                     layer->weight_proj_scale};
    const int has_v = layer->weight_c != NULL;
    const sru_pass pass = {
        d,
        d,
        has_v ? layer->weight_c + dir * d : NULL,
        has_v ? layer->weight_c + out_size + dir * d : NULL,
        layer->bias + dir * d,
        layer->bias + out_size + dir * d,
        layer->scale_x,
    };
    const sru_scan_fn scan =
        sru_scans[has_v][layer->activation == MTS_ACTIVATION_TANH][layer->skip];
    float *c = c_layer + dir * d;

    for (size_t done = 0; done < seq_len; done += block) {
        const size_t steps = mts_min_size(block, seq_len - done);
        /* The backward direction takes its blocks from the end. */
        const size_t t0 = dir == 0 ? done : seq_len - done - steps;

        for (size_t t = 0; t < steps; t++)
            mtsi_copy_floats(scratch->input + t * scratch->input_stride, in + (t0 + t) * n, n);
        const float *src = scratch->input;
        size_t src_stride = scratch->input_stride;
        if (layer->norm == MTS_NORM_BEFORE) {
            for (size_t t = 0; t < steps; t++) {
                float *row = scratch->normed + t * src_stride;
                mtsi_copy_floats(row, src + t * src_stride, n);
                mtsi_layer_norm_inplace(row, n, layer->norm_weight, layer->norm_bias,
                                        layer->norm_eps);
            }
            src = scratch->normed;
        }
        if (layer->projection_size) {
            mtsi_blocked_product(products, scratch, &weight_proj, 0, layer->projection_size,
                                 n, steps, src, src_stride, scratch->projected,
                                 scratch->projected_stride);
            src = scratch->projected;
            src_stride = scratch->projected_stride;
        }
        /* This direction's rows of W: dir * k * d onwards. */
        mtsi_blocked_product(products, scratch, &weight, dir * k * d, k * d, depth, steps,
                             src, src_stride, scratch->product, scratch->product_stride);

        sru_scan_block(&pass, scan, scratch, steps, dir, c, out + t0 * out_size + dir * d,
                       out_size);
    }
}

void mtsi_sru_stage(const mts_sru_layer *layer, const mts_scratch *scratch, size_t block,
                    const mts_products *products, float *c, const float *in, float *out,
                    size_t seq_len)
{
    const size_t out_size = mts_sru_output_size(layer);
    for (size_t dir = 0; dir < layer->num_directions; dir++)
        sru_direction(layer, dir, scratch, block, products, c, in, out, seq_len);
    if (layer->norm == MTS_NORM_AFTER)
        for (size_t t = 0; t < seq_len; t++)
            mtsi_layer_norm_inplace(out + t * out_size, out_size, layer->norm_weight,
                                    layer->norm_bias, layer->norm_eps);
}
