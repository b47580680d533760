/* One stage, described once per stage kind: its checks (sizes, options,
 * scalar fields, arrays), its array sizes, its input and output sizes, its
 * state, and its blocked products (mts_stage_describe). The model-level
 * code (model.c), the variant resolver (variant.c) and the device read a
 * stage only through these, so a new stage kind or option is described here.
 */
#include "bits.h"
#include "internal.h"
#include "min_cells.h"

static int in_dim_range(uint32_t value)
{
    return value >= 1u && value <= MTS_MAX_DIM;
}

/* Neither NaN nor infinite, from the bits (no libm, and correct whatever
 * the compiler assumes of float comparisons). */
static int is_finite(float value)
{
    return (mts_f2u_(value) & 0x7f800000u) != 0x7f800000u;
}

/* A layer-norm epsilon: finite, in (0, 1] where it is used, else 0 .. 1. */
static int eps_ok(float eps, int used)
{
    return is_finite(eps) && (used ? eps > 0.0f : eps >= 0.0f) && eps <= 1.0f;
}

const char *mtsi_stage_bad_value(const mts_stage *stage)
{
    switch (stage->kind) {
    case MTS_STAGE_SRU: {
        const mts_sru_layer *layer = &stage->as.sru;
        if (!is_finite(layer->scale_x) || layer->scale_x > MTS_MAX_SCALE_X ||
            layer->scale_x < -MTS_MAX_SCALE_X)
            return "scale_x";
        if (!eps_ok(layer->norm_eps, layer->norm != MTS_NORM_NONE))
            return "norm_eps";
        return NULL;
    }
    case MTS_STAGE_QRNN: {
        const float p = stage->as.qrnn.zoneout;
        return is_finite(p) && p >= 0.0f && p <= 1.0f ? NULL : "zoneout";
    }
    case MTS_STAGE_NORM: {
        const mts_norm_stage *norm = &stage->as.norm;
        if (norm->mode == MTS_NORM_MODE_LAYER)
            return eps_ok(norm->eps, 1) ? NULL : "eps";
        return norm->eps == 0.0f ? NULL : "eps"; /* +0 or -0; NaN fails */
    }
    default:
        return NULL;
    }
}

/* Sizes and options of an SRU layer, without looking at its arrays. */
static mts_status check_sru_config(const mts_sru_layer *layer)
{
    if (!in_dim_range(layer->input_size) || !in_dim_range(layer->hidden_size) ||
        layer->projection_size > MTS_MAX_DIM)
        return MTS_ERR_BAD_SIZE;
    if (layer->num_directions != 1u && layer->num_directions != 2u)
        return MTS_ERR_BAD_CONFIG;
    if (layer->activation > MTS_ACTIVATION_TANH || layer->skip > MTS_SKIP_PROJECTED ||
        layer->norm > MTS_NORM_AFTER)
        return MTS_ERR_BAD_CONFIG;
    if (layer->skip == MTS_SKIP_SCALED_INPUT && layer->input_size != mts_sru_output_size(layer))
        return MTS_ERR_BAD_CONFIG;
    if (layer->quant > MTS_QUANT_INT8_WA)
        return MTS_ERR_BAD_CONFIG;
    /* int8-wa sums in int32: both product depths (n for the projection,
     * p or n for W) must keep it from overflowing. */
    if (layer->quant == MTS_QUANT_INT8_WA &&
        (layer->input_size > MTS_I8_MAX_DEPTH || layer->projection_size > MTS_I8_MAX_DEPTH))
        return MTS_ERR_BAD_CONFIG;
    return MTS_OK;
}

mts_status mts_sru_layer_array_sizes(const mts_sru_layer *layer, mts_sru_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    const mts_status status = check_sru_config(layer);
    if (status != MTS_OK)
        return status;
    /* Dimensions are at most 2^24 (checked), so the products of two fit in
     * 64 bits but not necessarily in a 32-bit size_t: check each. */
    const size_t out_size = mts_sru_output_size(layer);
    const size_t depth = layer->projection_size ? layer->projection_size : layer->input_size;
    mts_sru_array_sizes counts;
    size_t bytes;
    if (!mts_mul_ok(mts_sru_num_blocks(layer) * out_size, depth, &counts.weight) ||
        !mts_mul_ok(counts.weight, sizeof(float), &bytes) ||
        !mts_mul_ok(layer->projection_size, layer->input_size, &counts.weight_proj) ||
        !mts_mul_ok(counts.weight_proj, sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    counts.bias = 2u * out_size;
    counts.weight_c = 2u * out_size;
    counts.norm_weight = layer->norm == MTS_NORM_BEFORE  ? layer->input_size
                         : layer->norm == MTS_NORM_AFTER ? out_size
                                                         : 0u;
    counts.norm_bias = counts.norm_weight;
    counts.weight_rows = mts_sru_num_blocks(layer) * out_size;
    counts.weight_proj_rows = layer->projection_size;
    *sizes = counts;
    return MTS_OK;
}

static mts_status check_sru_layer(const mts_sru_layer *layer)
{
    mts_sru_array_sizes sizes;
    const mts_status status = mts_sru_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    /* weight_c may be NULL: the original form. A quantised layer needs the
     * int8 weights and their scales instead of the float weights. */
    const int float_weights_missing =
        layer->weight == NULL || (sizes.weight_proj && layer->weight_proj == NULL);
    const int int8_weights_missing =
        layer->weight_q == NULL || layer->weight_scale == NULL ||
        (sizes.weight_proj && (layer->weight_proj_q == NULL || layer->weight_proj_scale == NULL));
    if ((layer->quant == MTS_QUANT_NONE ? float_weights_missing : int8_weights_missing) ||
        layer->bias == NULL ||
        (sizes.norm_weight && (layer->norm_weight == NULL || layer->norm_bias == NULL)))
        return MTS_ERR_NULL_POINTER;
    return MTS_OK;
}

mts_status mts_qrnn_layer_array_sizes(const mts_qrnn_layer *layer, mts_qrnn_array_sizes *sizes)
{
    if (layer == NULL || sizes == NULL)
        return MTS_ERR_NULL_POINTER;
    if (!in_dim_range(layer->input_size) || !in_dim_range(layer->hidden_size))
        return MTS_ERR_BAD_SIZE;
    if (layer->window < 1u || layer->window > MTS_MAX_WINDOW)
        return MTS_ERR_BAD_SIZE;
    if (layer->input_gate > 1u || layer->output_gate > 1u || layer->quant > MTS_QUANT_INT8_WA)
        return MTS_ERR_BAD_CONFIG;
    /* int8-wa sums w * n products in int32 (window <= 64, checked above). */
    if (layer->quant == MTS_QUANT_INT8_WA &&
        (size_t)layer->window * layer->input_size > MTS_I8_MAX_DEPTH)
        return MTS_ERR_BAD_CONFIG;
    mts_qrnn_array_sizes counts;
    size_t bytes;
    if (!mts_mul_ok(mts_qrnn_num_gates(layer) * layer->hidden_size,
                    (size_t)layer->window * layer->input_size, &counts.weight) ||
        !mts_mul_ok(counts.weight, sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    counts.bias = mts_qrnn_num_gates(layer) * layer->hidden_size;
    counts.weight_rows = counts.bias;
    *sizes = counts;
    return MTS_OK;
}

static mts_status check_qrnn_layer(const mts_qrnn_layer *layer)
{
    mts_qrnn_array_sizes sizes;
    const mts_status status = mts_qrnn_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int weights_missing = layer->quant == MTS_QUANT_NONE
                                    ? layer->weight == NULL
                                    : layer->weight_q == NULL || layer->weight_scale == NULL;
    if (weights_missing || layer->bias == NULL)
        return MTS_ERR_NULL_POINTER;
    return MTS_OK;
}

static mts_status check_dense_config(const mts_dense_layer *layer)
{
    if (!in_dim_range(layer->input_size) || !in_dim_range(layer->output_size))
        return MTS_ERR_BAD_SIZE;
    if (layer->activation > MTS_DENSE_SIGMOID || layer->quant > MTS_QUANT_INT8_WA)
        return MTS_ERR_BAD_CONFIG;
    if (layer->quant == MTS_QUANT_INT8_WA && layer->input_size > MTS_I8_MAX_DEPTH)
        return MTS_ERR_BAD_CONFIG;
    size_t count, bytes;
    if (!mts_mul_ok(layer->input_size, layer->output_size, &count) ||
        !mts_mul_ok(count, sizeof(float), &bytes))
        return MTS_ERR_OVERFLOW;
    return MTS_OK;
}

mts_status mtsi_check_stage_config(const mts_stage *stage)
{
    mts_status status = MTS_OK;
    switch (stage->kind) {
    case MTS_STAGE_SRU: {
        mts_sru_array_sizes sizes;
        status = mts_sru_layer_array_sizes(&stage->as.sru, &sizes);
        break;
    }
    case MTS_STAGE_QRNN: {
        mts_qrnn_array_sizes sizes;
        status = mts_qrnn_layer_array_sizes(&stage->as.qrnn, &sizes);
        break;
    }
    case MTS_STAGE_NORM:
        if (!in_dim_range(stage->as.norm.size))
            return MTS_ERR_BAD_SIZE;
        if (stage->as.norm.mode > MTS_NORM_MODE_LAYER)
            return MTS_ERR_BAD_CONFIG;
        break;
    case MTS_STAGE_DENSE:
        status = check_dense_config(&stage->as.dense);
        break;
    case MTS_STAGE_SOFTMAX:
        if (!in_dim_range(stage->as.softmax.size))
            return MTS_ERR_BAD_SIZE;
        if (stage->as.softmax.log > 1u)
            return MTS_ERR_BAD_CONFIG;
        break;
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM: {
        mts_min_array_sizes sizes;
        status = mts_min_layer_array_sizes(&stage->as.min, MTS_MIN_GATES(stage->kind), &sizes);
        break;
    }
    case MTS_STAGE_INDRNN: {
        mts_indrnn_array_sizes sizes;
        status = mts_indrnn_layer_array_sizes(&stage->as.indrnn, &sizes);
        break;
    }
    default:
        return MTS_ERR_BAD_CONFIG;
    }
    if (status != MTS_OK)
        return status;
    return mtsi_stage_bad_value(stage) != NULL ? MTS_ERR_BAD_VALUE : MTS_OK;
}

mts_status mtsi_check_stage(const mts_stage *stage)
{
    const mts_status status = mtsi_check_stage_config(stage);
    if (status != MTS_OK)
        return status;
    switch (stage->kind) {
    case MTS_STAGE_SRU:
        return check_sru_layer(&stage->as.sru);
    case MTS_STAGE_QRNN:
        return check_qrnn_layer(&stage->as.qrnn);
    case MTS_STAGE_NORM:
        return stage->as.norm.weight == NULL || stage->as.norm.bias == NULL
                   ? MTS_ERR_NULL_POINTER
                   : MTS_OK;
    case MTS_STAGE_DENSE: {
        /* The bias is optional. */
        const mts_dense_layer *layer = &stage->as.dense;
        const int missing = layer->quant == MTS_QUANT_NONE
                                ? layer->weight == NULL
                                : layer->weight_q == NULL || layer->weight_scale == NULL;
        return missing ? MTS_ERR_NULL_POINTER : MTS_OK;
    }
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM:
        return mtsi_min_check(&stage->as.min, MTS_MIN_GATES(stage->kind));
    case MTS_STAGE_INDRNN:
        return mtsi_indrnn_check(&stage->as.indrnn);
    default:
        return MTS_OK;
    }
}

void mtsi_stage_io(const mts_stage *stage, size_t *in, size_t *out)
{
    switch (stage->kind) {
    case MTS_STAGE_SRU:
        *in = stage->as.sru.input_size;
        *out = mts_sru_output_size(&stage->as.sru);
        break;
    case MTS_STAGE_QRNN:
        *in = stage->as.qrnn.input_size;
        *out = stage->as.qrnn.hidden_size;
        break;
    case MTS_STAGE_NORM:
        *in = *out = stage->as.norm.size;
        break;
    case MTS_STAGE_DENSE:
        *in = stage->as.dense.input_size;
        *out = stage->as.dense.output_size;
        break;
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM:
        *in = stage->as.min.input_size;
        *out = stage->as.min.output_size;
        break;
    case MTS_STAGE_INDRNN:
        *in = stage->as.indrnn.input_size;
        *out = stage->as.indrnn.hidden_size;
        break;
    default:
        *in = *out = stage->as.softmax.size;
        break;
    }
}

int mtsi_stage_state_floats(const mts_stage *stage, size_t *num_floats)
{
    *num_floats = 0;
    if (stage->kind == MTS_STAGE_SRU) {
        *num_floats = mts_sru_output_size(&stage->as.sru);
    } else if (stage->kind == MTS_STAGE_QRNN) {
        const mts_qrnn_layer *layer = &stage->as.qrnn;
        return mts_mul_ok((size_t)layer->window - 1u, layer->input_size, num_floats) &&
               mts_add_ok(*num_floats, layer->hidden_size, num_floats);
    } else if (stage->kind == MTS_STAGE_MINGRU || stage->kind == MTS_STAGE_MINLSTM) {
        *num_floats = stage->as.min.hidden_size;
    } else if (stage->kind == MTS_STAGE_INDRNN) {
        *num_floats = stage->as.indrnn.hidden_size;
    }
    return 1;
}

/* The product of weights w (rows x depth) of a layer whose scheme is quant. */
static void set_product(mts_stage_product *p, unsigned quant, size_t rows, size_t depth,
                        const float *w, const int8_t *w_q, const float *w_scale)
{
    p->quant = quant;
    p->rows = rows;
    p->depth = depth;
    p->weight = w;
    p->weight_q = w_q;
    p->weight_scale = w_scale;
}

int mtsi_stage_products(const mts_stage *stage, mts_stage_info *info)
{
    mts_stage_info d = {0};
    mts_stage_product *p = d.products;
    /* The array sizes are zero where a stage's sizes are invalid (the
     * *_array_sizes functions then write nothing): the products still say
     * the stage's scheme, which is all mts_model_schemes asks of them. */
    switch (stage->kind) {
    case MTS_STAGE_SRU: {
        /* Product 0: U = x W (its depth the projection's width when there
         * is one); product 1: the projection x W_proj, run before it. */
        const mts_sru_layer *l = &stage->as.sru;
        mts_sru_array_sizes n = {0};
        (void)mts_sru_layer_array_sizes(l, &n);
        set_product(&p[d.num_products++], l->quant, n.weight_rows,
                    n.weight_rows != 0u ? n.weight / n.weight_rows : 0u, l->weight, l->weight_q,
                    l->weight_scale);
        if (n.weight_proj_rows != 0u)
            set_product(&p[d.num_products++], l->quant, n.weight_proj_rows, l->input_size,
                        l->weight_proj, l->weight_proj_q, l->weight_proj_scale);
        d.other_floats = n.bias + n.norm_weight + n.norm_bias;
        if (l->weight_c != NULL)
            d.other_floats += n.weight_c;
        break;
    }
    case MTS_STAGE_QRNN: {
        const mts_qrnn_layer *l = &stage->as.qrnn;
        mts_qrnn_array_sizes n = {0};
        (void)mts_qrnn_layer_array_sizes(l, &n);
        set_product(&p[d.num_products++], l->quant, n.weight_rows,
                    n.weight_rows != 0u ? n.weight / n.weight_rows : 0u, l->weight, l->weight_q,
                    l->weight_scale);
        d.other_floats = n.bias;
        break;
    }
    case MTS_STAGE_DENSE: {
        const mts_dense_layer *l = &stage->as.dense;
        set_product(&p[d.num_products++], l->quant, l->output_size, l->input_size, l->weight,
                    l->weight_q, l->weight_scale);
        d.other_floats = l->bias != NULL ? l->output_size : 0u;
        break;
    }
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM: {
        /* Product 0: every gate of the input; product 1: the output
         * projection W_out of the states, when the layer has one. */
        const mts_min_layer *l = &stage->as.min;
        mts_min_array_sizes n = {0};
        (void)mts_min_layer_array_sizes(l, MTS_MIN_GATES(stage->kind), &n);
        set_product(&p[d.num_products++], l->quant, n.weight_rows, l->input_size, l->weight,
                    l->weight_q, l->weight_scale);
        if (n.weight_out_rows != 0u)
            set_product(&p[d.num_products++], l->quant, n.weight_out_rows, l->hidden_size,
                        l->weight_out, l->weight_out_q, l->weight_out_scale);
        break;
    }
    case MTS_STAGE_INDRNN: {
        const mts_indrnn_layer *l = &stage->as.indrnn;
        mts_indrnn_array_sizes n = {0};
        (void)mts_indrnn_layer_array_sizes(l, &n);
        set_product(&p[d.num_products++], l->quant, n.weight_rows, l->input_size, l->weight,
                    l->weight_q, l->weight_scale);
        d.other_floats = n.bias + n.weight_hh;
        break;
    }
    case MTS_STAGE_NORM:
        d.other_floats = 2u * (size_t)stage->as.norm.size; /* weight, bias */
        break;
    case MTS_STAGE_SOFTMAX: /* no parameters */
        break;
    default:
        return 0;
    }
    *info = d;
    return 1;
}

mts_status mts_stage_describe(const mts_stage *stage, mts_stage_info *info)
{
    if (stage == NULL || info == NULL)
        return MTS_ERR_NULL_POINTER;
    const mts_status status = mtsi_check_stage_config(stage);
    if (status != MTS_OK)
        return status;
    mts_stage_info d;
    (void)mtsi_stage_products(stage, &d); /* a known kind: checked above */
    if (!mtsi_stage_state_floats(stage, &d.state_floats))
        return MTS_ERR_OVERFLOW;
    *info = d;
    return MTS_OK;
}
