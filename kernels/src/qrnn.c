/* QRNN sequence driver: per layer, blocks of T steps, each one blocked
 * product over the window-concatenated inputs, then the sequential pooling.
 *
 *   U[t0:t0+T] = [x_t | x_{t-1} | ... | x_{t-w+1}] W^T   one pass over W
 *   for t in the block:  z = tanh(u_z + b_z), gates = sigma(u_g + b_g)
 *     f/fo:  f' = (1-p) f;  c = f' z + (1 - f') c
 *     ifo:   c = p c + (1-p) (f c + i z)
 *     h = o c  (or h = c without an output gate)
 *
 * A block of more than one step is scanned MTSI_SCAN_CHUNK units at a time,
 * every step of the block inside a chunk, with the chunk's biases copied
 * once per block (internal.h): the same arithmetic per unit and step.
 */
#include "activation_inline.h"
#include "compiler.h"
#include "internal.h"
#include "simd_f32x4.h"

/* One time step over `units` of the H units (u, b, c and h start at the
 * first of them). u is the step's row of the product, with gate blocks Z,
 * F, [I], [O] of H each; b the bias in the same order, its gate blocks
 * b_stride apart (H, or a chunk's copy). With a 4-lane backend
 * (simd_f32x4.h) a first loop takes four units at a time with the same
 * operations and the scalar loop the last units mod 4; without one the
 * scalar loop takes all units and the compiler vectorises it. */
static MTS_ALWAYS_INLINE void qrnn_step(size_t units, size_t hidden, float zoneout,
                                        const float *restrict u, const float *restrict b,
                                        size_t b_stride, float *restrict c, float *restrict h,
                                        int input_gate, int output_gate)
{
    const size_t H = hidden;
    const size_t B = b_stride;
    const size_t o_block = 2 + (size_t)input_gate;
    const float keep = zoneout;
    const float write = 1.0f - zoneout;
    size_t j = 0;
#if MTS_F32X4
    const mts_f32x4 keep4 = mts_f32x4_dup(keep);
    const mts_f32x4 write4 = mts_f32x4_dup(write);
    const mts_f32x4 one = mts_f32x4_dup(1.0f);
    for (; j + 4 <= units; j += 4) {
        const mts_f32x4 c_old = mts_f32x4_load(c + j);
        const mts_f32x4 z =
            mts_tanhf_x4(mts_f32x4_add(mts_f32x4_load(u + j), mts_f32x4_load(b + j)));
        const mts_f32x4 f = mts_sigmoidf_x4(
            mts_f32x4_add(mts_f32x4_load(u + H + j), mts_f32x4_load(b + B + j)));
        mts_f32x4 c_new;
        if (input_gate) {
            const mts_f32x4 i = mts_sigmoidf_x4(
                mts_f32x4_add(mts_f32x4_load(u + 2 * H + j), mts_f32x4_load(b + 2 * B + j)));
            c_new = mts_f32x4_add(
                mts_f32x4_mul(keep4, c_old),
                mts_f32x4_mul(write4, mts_f32x4_add(mts_f32x4_mul(f, c_old),
                                                    mts_f32x4_mul(i, z))));
        } else {
            const mts_f32x4 f_eff = mts_f32x4_mul(write4, f);
            c_new = mts_f32x4_add(mts_f32x4_mul(f_eff, z),
                                  mts_f32x4_mul(mts_f32x4_sub(one, f_eff), c_old));
        }
        mts_f32x4_store(c + j, c_new);
        if (output_gate) {
            const mts_f32x4 o = mts_sigmoidf_x4(mts_f32x4_add(
                mts_f32x4_load(u + o_block * H + j), mts_f32x4_load(b + o_block * B + j)));
            mts_f32x4_store(h + j, mts_f32x4_mul(o, c_new));
        } else {
            mts_f32x4_store(h + j, c_new);
        }
    }
#endif
    for (; j < units; j++) {
        const float z = mts_tanhf_inline(u[j] + b[j]);
        const float f = mts_sigmoidf_inline(u[H + j] + b[B + j]);
        float c_new;
        if (input_gate) {
            const float i = mts_sigmoidf_inline(u[2 * H + j] + b[2 * B + j]);
            c_new = keep * c[j] + write * (f * c[j] + i * z);
        } else {
            const float f_eff = write * f;
            c_new = f_eff * z + (1.0f - f_eff) * c[j];
        }
        c[j] = c_new;
        if (output_gate)
            h[j] = mts_sigmoidf_inline(u[o_block * H + j] + b[o_block * B + j]) * c_new;
        else
            h[j] = c_new;
    }
}

/* Every step of a block over `units` units from j0 (b and c start at unit
 * j0), one instantiation per gate combination. */
typedef void (*qrnn_scan_fn)(size_t units, size_t hidden, float zoneout,
                             const float *restrict b, size_t b_stride,
                             const mtsi_scan_rows *rows, size_t j0, float *restrict c);

#define MTS_QRNN_SCAN(IG, OG)                                                              \
    static void qrnn_scan_##IG##_##OG(size_t units, size_t hidden, float zoneout,         \
                                      const float *restrict b, size_t b_stride,           \
                                      const mtsi_scan_rows *rows, size_t j0,              \
                                      float *restrict c)                                  \
    {                                                                                     \
        for (size_t s = 0; s < rows->steps; s++) {                                        \
            const size_t t = mtsi_scan_row(rows, s);                                      \
            qrnn_step(units, hidden, zoneout, rows->u + t * rows->u_stride + j0, b,       \
                      b_stride, c, rows->h + t * rows->h_stride + j0, IG, OG);            \
        }                                                                                 \
    }
MTS_QRNN_SCAN(0, 0) MTS_QRNN_SCAN(0, 1) MTS_QRNN_SCAN(1, 0) MTS_QRNN_SCAN(1, 1)
#undef MTS_QRNN_SCAN

/* Indexed [input_gate][output_gate]. */
static const qrnn_scan_fn qrnn_scans[2][2] = {
    {qrnn_scan_0_0, qrnn_scan_0_1},
    {qrnn_scan_1_0, qrnn_scan_1_1},
};

/* The scan of one block of `steps` steps after its product: a block of one
 * step in one pass over the units, a longer block MTSI_SCAN_CHUNK units at
 * a time with the chunk's biases copied once per block (internal.h). Kept
 * out of its caller (MTS_NOINLINE), so that the copies are on the stack only
 * while the scan runs, never beside the product's frames. */
static MTS_NOINLINE void qrnn_scan_block(const mts_qrnn_layer *layer, qrnn_scan_fn scan,
                                         const mts_scratch *scratch, size_t steps, float *c,
                                         float *out)
{
    const size_t H = layer->hidden_size;
    const mtsi_scan_rows rows = {steps, 0,  scratch->product, scratch->product_stride,
                                 NULL,  0u, out,              H};
    if (steps == 1) {
        scan(H, H, layer->zoneout, layer->bias, H, &rows, 0, c);
        return;
    }
    const size_t gates = mts_qrnn_num_gates(layer);
    for (size_t j0 = 0; j0 < H; j0 += MTSI_SCAN_CHUNK) {
        float bias[4 * MTSI_SCAN_CHUNK];
        const size_t units = mts_min_size(MTSI_SCAN_CHUNK, H - j0);
        for (size_t g = 0; g < gates; g++)
            mtsi_copy_floats(bias + g * MTSI_SCAN_CHUNK, layer->bias + g * H + j0, units);
        scan(units, H, layer->zoneout, bias, MTSI_SCAN_CHUNK, &rows, j0, c + j0);
    }
}

/* One layer over the whole call. `in` and `out` may be the same buffer when
 * the call is one block (model.c runs causal stages block by block): the
 * block's inputs are copied to scratch (and the carried frames updated)
 * before its outputs are written. */
static void qrnn_layer(const mts_qrnn_layer *layer, const mts_scratch *scratch, size_t block,
                       const mts_products *products, float *state, const float *in,
                       float *out, size_t seq_len)
{
    const size_t n = layer->input_size;
    const size_t H = layer->hidden_size;
    const size_t w = layer->window;
    const size_t depth = w * n;
    const size_t rows = mts_qrnn_num_gates(layer) * H;
    const qrnn_scan_fn scan = qrnn_scans[layer->input_gate][layer->output_gate];
    float *c = state;
    float *prev = state + H; /* prev[k-1] = x_{t0-k}, k = 1 .. w-1 */
    const mts_weights weight = {layer->quant, layer->weight, layer->weight_q,
                                layer->weight_scale};

    for (size_t t0 = 0; t0 < seq_len; t0 += block) {
        const size_t steps = mts_min_size(block, seq_len - t0);
        /* Row t of the block: [x_{t0+t} | x_{t0+t-1} | ... | x_{t0+t-w+1}],
         * frames before the block coming from the carried state. */
        for (size_t t = 0; t < steps; t++) {
            float *row = scratch->input + t * scratch->input_stride;
            for (size_t lag = 0; lag < w; lag++) {
                const float *frame =
                    t >= lag ? in + (t0 + t - lag) * n : prev + (lag - t - 1) * n;
                mtsi_copy_floats(row + lag * n, frame, n);
            }
        }
        /* Carry the last w-1 frames: new prev[k-1] = x_{t0+steps-k}. Going
         * from the oldest slot down, a slot is overwritten only after the
         * slots that read it (k - 1 - steps < k - 1). */
        for (size_t lag = w - 1; lag >= 1; lag--) {
            const float *frame =
                steps >= lag ? in + (t0 + steps - lag) * n : prev + (lag - 1 - steps) * n;
            mtsi_copy_floats(prev + (lag - 1) * n, frame, n);
        }

        mtsi_blocked_product(products, scratch, &weight, 0, rows, depth, steps, scratch->input,
                             scratch->input_stride, scratch->product, scratch->product_stride);

        qrnn_scan_block(layer, scan, scratch, steps, c, out + t0 * H);
    }
}

void mtsi_qrnn_stage(const mts_qrnn_layer *layer, const mts_scratch *scratch, size_t block,
                     const mts_products *products, float *state, const float *in, float *out,
                     size_t seq_len)
{
    qrnn_layer(layer, scratch, block, products, state, in, out, seq_len);
}
