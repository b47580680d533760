/* Dense stage driver (mtsrnn/dense.h), one block of T steps:
 *
 *   P[0:T] = X[0:T] W^T            one (T x n)(n x m) product, one pass over W
 *   y_t = act(P[t] + b)            identity, relu, tanh or sigmoid per element
 *
 * The input rows are copied to the scratch (padded stride, like the
 * recurrent drivers), so in and out may be the same buffer.
 */
#include "activation_inline.h"
#include "internal.h"

/* y[i] = act(p[i] + b[i]) for i < m; b may be NULL. The activation is a
 * constant in each call below, so each loop compiles branch-free. */
static inline void bias_activation(const float *restrict p, const float *restrict b,
                                   float *restrict y, size_t m, int act)
{
    for (size_t i = 0; i < m; i++) {
        float v = p[i] + (b != NULL ? b[i] : 0.0f);
        if (act == MTS_DENSE_RELU)
            v = v > 0.0f ? v : 0.0f;
        else if (act == MTS_DENSE_TANH)
            v = mts_tanhf_inline(v);
        else if (act == MTS_DENSE_SIGMOID)
            v = mts_sigmoidf_inline(v);
        y[i] = v;
    }
}

void mtsi_dense_stage(const mts_dense_layer *layer, const mts_scratch *scratch,
                      const mts_products *products, const float *in, float *out,
                      size_t steps)
{
    const size_t n = layer->input_size;
    const size_t m = layer->output_size;
    const mts_weights weight = {layer->quant, layer->weight, layer->weight_q,
                                layer->weight_scale};
    for (size_t t = 0; t < steps; t++)
        mtsi_copy_floats(scratch->input + t * scratch->input_stride, in + t * n, n);
    mtsi_blocked_product(products, scratch, &weight, 0, m, n, steps, scratch->input,
                         scratch->input_stride, scratch->product, scratch->product_stride);
    for (size_t t = 0; t < steps; t++) {
        const float *p = scratch->product + t * scratch->product_stride;
        float *y = out + t * m;
        switch (layer->activation) {
        case MTS_DENSE_RELU:
            bias_activation(p, layer->bias, y, m, MTS_DENSE_RELU);
            break;
        case MTS_DENSE_TANH:
            bias_activation(p, layer->bias, y, m, MTS_DENSE_TANH);
            break;
        case MTS_DENSE_SIGMOID:
            bias_activation(p, layer->bias, y, m, MTS_DENSE_SIGMOID);
            break;
        default:
            bias_activation(p, layer->bias, y, m, MTS_DENSE_IDENTITY);
            break;
        }
    }
}
