/* The .mts loader's check 11 (docs/model-format.md): each stage's
 * configuration, then its tensors against what the configuration needs
 * (presence, dtype, shape), then the values of its int8 scales; on success
 * the stage's arrays point at the tensors in place. */
#include "file_internal.h"

#include "bits.h"

/* ---- shapes against the layer's configuration (check 11) -------------- */

/* What a layer's configuration asks of one kind of tensor. */
typedef enum need {
    NEED_ABSENT = 0,    /* the configuration has no such tensor */
    NEED_REQUIRED,
    NEED_OPTIONAL       /* SRU weight_c: absent is the original form */
} need;

typedef struct tensor_need {
    need need;
    uint32_t ndim;
    uint64_t dim0, dim1;
} tensor_need;

static tensor_need needs(int present, need if_present, uint32_t ndim, uint64_t dim0,
                         uint64_t dim1)
{
    const tensor_need result = {present ? if_present : NEED_ABSENT, ndim, dim0, dim1};
    return result;
}

/* The tensors found for a layer (found[kind], NULL when absent) against
 * what its configuration needs (want[kind]); kinds 1..kinds. A product
 * weight's dtype is judged first (int8 exactly when the layer is
 * quantised: a float file marked quantised says so rather than "scales
 * missing"), then each kind in order: present or not, then its shape. */
static mts_status check_shapes(const tensor_ref *const *found, const tensor_need *want,
                               uint32_t kinds, const uint32_t *int8_kinds, size_t num_int8,
                               uint8_t quant, mts_file_error *error)
{
    const mts_status bad = MTS_ERR_FILE_SHAPE;
    const uint32_t dtype = quant != MTS_QUANT_NONE ? MTS_FILE_DTYPE_I8 : MTS_FILE_DTYPE_F32;
    for (size_t i = 0; i < num_int8; i++) {
        const tensor_ref *t = found[int8_kinds[i]];
        if (t != NULL && t->dtype != dtype) {
            if (error != NULL) {
                error->tensor = t->index;
                error->kind = int8_kinds[i];
            }
            return reject_value(error, bad, "dtype", t->dtype, dtype);
        }
    }
    for (uint32_t kind = 1; kind <= kinds; kind++) {
        const tensor_ref *t = found[kind];
        const tensor_need *w = &want[kind];
        if (error != NULL) {
            error->kind = kind;
            error->tensor = t != NULL ? t->index : MTS_FILE_NO_INDEX;
            const int shaped = w->need != NEED_ABSENT;
            error->shape_ndim = shaped ? w->ndim : 0;
            error->shape[0] = shaped ? w->dim0 : 0;
            error->shape[1] = shaped ? w->dim1 : 0;
        }
        if (t != NULL && w->need == NEED_ABSENT)
            return reject_field(error, bad, "unneeded");
        if (t == NULL && w->need == NEED_REQUIRED)
            return reject_field(error, bad, "missing");
        if (t == NULL)
            continue;
        if (t->ndim != w->ndim)
            return reject_value(error, bad, "ndim", t->ndim, w->ndim);
        if (t->dim0 != w->dim0)
            return reject_value(error, bad, "dim0", t->dim0, w->dim0);
        if (t->dim1 != w->dim1)
            return reject_value(error, bad, "dim1", t->dim1, w->dim1);
    }
    if (error != NULL) {
        error->kind = 0;
        error->tensor = MTS_FILE_NO_INDEX;
        error->shape_ndim = 0;
        error->shape[0] = error->shape[1] = 0;
    }
    return MTS_OK;
}

/* An SRU layer: point each array at its tensor, after checking that the
 * tensors present are exactly those the configuration needs, with the
 * shapes it implies. */
static mts_status attach_sru(mts_sru_layer *layer, const tensor_ref *const *found,
                             mts_file_error *error)
{
    mts_sru_array_sizes sizes;
    mts_status status = mts_sru_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int quantised = layer->quant != MTS_QUANT_NONE;
    const int projected = sizes.weight_proj != 0;
    const uint64_t depth = layer->projection_size ? layer->projection_size : layer->input_size;
    tensor_need want[MTS_SRU_KINDS + 1];
    want[0] = needs(0, NEED_ABSENT, 0, 0, 0);
    want[MTS_SRU_KIND_WEIGHT] = needs(1, NEED_REQUIRED, 2, sizes.weight / depth, depth);
    want[MTS_SRU_KIND_WEIGHT_PROJ] = needs(projected, NEED_REQUIRED, 2, layer->projection_size,
                                           layer->input_size);
    want[MTS_SRU_KIND_WEIGHT_C] = needs(1, NEED_OPTIONAL, 1, sizes.weight_c, 1);
    want[MTS_SRU_KIND_BIAS] = needs(1, NEED_REQUIRED, 1, sizes.bias, 1);
    want[MTS_SRU_KIND_NORM_WEIGHT] = needs(sizes.norm_weight != 0, NEED_REQUIRED, 1,
                                           sizes.norm_weight, 1);
    want[MTS_SRU_KIND_NORM_BIAS] = needs(sizes.norm_bias != 0, NEED_REQUIRED, 1,
                                         sizes.norm_bias, 1);
    want[MTS_SRU_KIND_WEIGHT_SCALE] = needs(quantised, NEED_REQUIRED, 1, sizes.weight_rows, 1);
    want[MTS_SRU_KIND_WEIGHT_PROJ_SCALE] = needs(quantised && projected, NEED_REQUIRED, 1,
                                                 sizes.weight_proj_rows, 1);
    static const uint32_t int8_kinds[] = {MTS_SRU_KIND_WEIGHT, MTS_SRU_KIND_WEIGHT_PROJ};
    status = check_shapes(found, want, MTS_SRU_KINDS, int8_kinds, 2, layer->quant, error);
    if (status != MTS_OK)
        return status;
    const tensor_ref *weight = found[MTS_SRU_KIND_WEIGHT];
    const tensor_ref *proj = found[MTS_SRU_KIND_WEIGHT_PROJ];
    const tensor_ref *weight_c = found[MTS_SRU_KIND_WEIGHT_C];
    const tensor_ref *norm_weight = found[MTS_SRU_KIND_NORM_WEIGHT];
    const tensor_ref *norm_bias = found[MTS_SRU_KIND_NORM_BIAS];
    if (quantised) {
        const tensor_ref *proj_scale = found[MTS_SRU_KIND_WEIGHT_PROJ_SCALE];
        layer->weight_q = (const int8_t *)weight->data;
        layer->weight_scale = (const float *)found[MTS_SRU_KIND_WEIGHT_SCALE]->data;
        layer->weight_proj_q = proj ? (const int8_t *)proj->data : NULL;
        layer->weight_proj_scale = proj ? (const float *)proj_scale->data : NULL;
    } else {
        layer->weight = (const float *)weight->data;
        layer->weight_proj = proj ? (const float *)proj->data : NULL;
    }
    layer->weight_c = weight_c ? (const float *)weight_c->data : NULL;
    layer->bias = (const float *)found[MTS_SRU_KIND_BIAS]->data;
    layer->norm_weight = norm_weight ? (const float *)norm_weight->data : NULL;
    layer->norm_bias = norm_bias ? (const float *)norm_bias->data : NULL;
    return MTS_OK;
}

static mts_status attach_qrnn(mts_qrnn_layer *layer, const tensor_ref *const *found,
                              mts_file_error *error)
{
    mts_qrnn_array_sizes sizes;
    mts_status status = mts_qrnn_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int quantised = layer->quant != MTS_QUANT_NONE;
    const uint64_t depth = (uint64_t)layer->window * layer->input_size;
    tensor_need want[MTS_QRNN_KINDS + 1];
    want[0] = needs(0, NEED_ABSENT, 0, 0, 0);
    want[MTS_QRNN_KIND_WEIGHT] = needs(1, NEED_REQUIRED, 2, sizes.weight / depth, depth);
    want[MTS_QRNN_KIND_BIAS] = needs(1, NEED_REQUIRED, 1, sizes.bias, 1);
    want[MTS_QRNN_KIND_WEIGHT_SCALE] = needs(quantised, NEED_REQUIRED, 1, sizes.weight_rows, 1);
    static const uint32_t int8_kinds[] = {MTS_QRNN_KIND_WEIGHT};
    status = check_shapes(found, want, MTS_QRNN_KINDS, int8_kinds, 1, layer->quant, error);
    if (status != MTS_OK)
        return status;
    if (quantised) {
        layer->weight_q = (const int8_t *)found[MTS_QRNN_KIND_WEIGHT]->data;
        layer->weight_scale = (const float *)found[MTS_QRNN_KIND_WEIGHT_SCALE]->data;
    } else {
        layer->weight = (const float *)found[MTS_QRNN_KIND_WEIGHT]->data;
    }
    layer->bias = (const float *)found[MTS_QRNN_KIND_BIAS]->data;
    return MTS_OK;
}

static mts_status attach_norm(mts_norm_stage *stage, const tensor_ref *const *found,
                              mts_file_error *error)
{
    tensor_need want[MTS_NORM_KINDS + 1];
    want[0] = needs(0, NEED_ABSENT, 0, 0, 0);
    want[MTS_NORM_KIND_WEIGHT] = needs(1, NEED_REQUIRED, 1, stage->size, 1);
    want[MTS_NORM_KIND_BIAS] = needs(1, NEED_REQUIRED, 1, stage->size, 1);
    const mts_status status = check_shapes(found, want, MTS_NORM_KINDS, NULL, 0,
                                           MTS_QUANT_NONE, error);
    if (status != MTS_OK)
        return status;
    stage->weight = (const float *)found[MTS_NORM_KIND_WEIGHT]->data;
    stage->bias = (const float *)found[MTS_NORM_KIND_BIAS]->data;
    return MTS_OK;
}

static mts_status attach_dense(mts_dense_layer *layer, const tensor_ref *const *found,
                               mts_file_error *error)
{
    const int quantised = layer->quant != MTS_QUANT_NONE;
    tensor_need want[MTS_DENSE_KINDS + 1];
    want[0] = needs(0, NEED_ABSENT, 0, 0, 0);
    want[MTS_DENSE_KIND_WEIGHT] =
        needs(1, NEED_REQUIRED, 2, layer->output_size, layer->input_size);
    want[MTS_DENSE_KIND_BIAS] = needs(1, NEED_OPTIONAL, 1, layer->output_size, 1);
    want[MTS_DENSE_KIND_WEIGHT_SCALE] =
        needs(quantised, NEED_REQUIRED, 1, layer->output_size, 1);
    static const uint32_t int8_kinds[] = {MTS_DENSE_KIND_WEIGHT};
    const mts_status status =
        check_shapes(found, want, MTS_DENSE_KINDS, int8_kinds, 1, layer->quant, error);
    if (status != MTS_OK)
        return status;
    const tensor_ref *bias = found[MTS_DENSE_KIND_BIAS];
    if (quantised) {
        layer->weight_q = (const int8_t *)found[MTS_DENSE_KIND_WEIGHT]->data;
        layer->weight_scale = (const float *)found[MTS_DENSE_KIND_WEIGHT_SCALE]->data;
    } else {
        layer->weight = (const float *)found[MTS_DENSE_KIND_WEIGHT]->data;
    }
    layer->bias = bias ? (const float *)bias->data : NULL;
    return MTS_OK;
}

static mts_status attach_min(mts_min_layer *layer, uint32_t gates,
                             const tensor_ref *const *found, mts_file_error *error)
{
    mts_min_array_sizes sizes;
    mts_status status = mts_min_layer_array_sizes(layer, gates, &sizes);
    if (status != MTS_OK)
        return status;
    const int quantised = layer->quant != MTS_QUANT_NONE;
    const int projected = layer->has_output != 0;
    tensor_need want[MTS_MIN_KINDS + 1];
    want[0] = needs(0, NEED_ABSENT, 0, 0, 0);
    want[MTS_MIN_KIND_WEIGHT] =
        needs(1, NEED_REQUIRED, 2, sizes.weight_rows, layer->input_size);
    want[MTS_MIN_KIND_WEIGHT_OUT] =
        needs(projected, NEED_REQUIRED, 2, layer->output_size, layer->hidden_size);
    want[MTS_MIN_KIND_WEIGHT_SCALE] = needs(quantised, NEED_REQUIRED, 1, sizes.weight_rows, 1);
    want[MTS_MIN_KIND_WEIGHT_OUT_SCALE] =
        needs(quantised && projected, NEED_REQUIRED, 1, sizes.weight_out_rows, 1);
    static const uint32_t int8_kinds[] = {MTS_MIN_KIND_WEIGHT, MTS_MIN_KIND_WEIGHT_OUT};
    status = check_shapes(found, want, MTS_MIN_KINDS, int8_kinds, 2, layer->quant, error);
    if (status != MTS_OK)
        return status;
    const tensor_ref *weight = found[MTS_MIN_KIND_WEIGHT];
    const tensor_ref *out = found[MTS_MIN_KIND_WEIGHT_OUT];
    if (quantised) {
        const tensor_ref *out_scale = found[MTS_MIN_KIND_WEIGHT_OUT_SCALE];
        layer->weight_q = (const int8_t *)weight->data;
        layer->weight_scale = (const float *)found[MTS_MIN_KIND_WEIGHT_SCALE]->data;
        layer->weight_out_q = out ? (const int8_t *)out->data : NULL;
        layer->weight_out_scale = out ? (const float *)out_scale->data : NULL;
    } else {
        layer->weight = (const float *)weight->data;
        layer->weight_out = out ? (const float *)out->data : NULL;
    }
    return MTS_OK;
}

static mts_status attach_indrnn(mts_indrnn_layer *layer, const tensor_ref *const *found,
                                mts_file_error *error)
{
    mts_indrnn_array_sizes sizes;
    mts_status status = mts_indrnn_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const int quantised = layer->quant != MTS_QUANT_NONE;
    tensor_need want[MTS_INDRNN_KINDS + 1];
    want[0] = needs(0, NEED_ABSENT, 0, 0, 0);
    want[MTS_INDRNN_KIND_WEIGHT] =
        needs(1, NEED_REQUIRED, 2, layer->hidden_size, layer->input_size);
    want[MTS_INDRNN_KIND_BIAS] = needs(1, NEED_REQUIRED, 1, sizes.bias, 1);
    want[MTS_INDRNN_KIND_WEIGHT_SCALE] =
        needs(quantised, NEED_REQUIRED, 1, sizes.weight_rows, 1);
    want[MTS_INDRNN_KIND_WEIGHT_HH] = needs(1, NEED_REQUIRED, 1, sizes.weight_hh, 1);
    static const uint32_t int8_kinds[] = {MTS_INDRNN_KIND_WEIGHT};
    status = check_shapes(found, want, MTS_INDRNN_KINDS, int8_kinds, 1, layer->quant, error);
    if (status != MTS_OK)
        return status;
    if (quantised) {
        layer->weight_q = (const int8_t *)found[MTS_INDRNN_KIND_WEIGHT]->data;
        layer->weight_scale = (const float *)found[MTS_INDRNN_KIND_WEIGHT_SCALE]->data;
    } else {
        layer->weight = (const float *)found[MTS_INDRNN_KIND_WEIGHT]->data;
    }
    layer->bias = (const float *)found[MTS_INDRNN_KIND_BIAS]->data;
    layer->weight_hh = (const float *)found[MTS_INDRNN_KIND_WEIGHT_HH]->data;
    return MTS_OK;
}

/* An int8 layer's per-row scales must be finite, not negative (a zero row
 * may have scale 0) and at most MTS_MAX_WEIGHT_SCALE: a NaN, infinite or
 * absurd scale turns every output of the model into NaN or infinity. The
 * tensor was validated, so its data is in the file. Compared as bits: for
 * floats >= +0 the order of the bit patterns is the order of the values. */
static mts_status check_scales(const tensor_ref *t, uint32_t kind, const char *field,
                               mts_file_error *error)
{
    if (t == NULL)
        return MTS_OK;
    const uint8_t *bytes = (const uint8_t *)t->data;
    const uint32_t max_bits = mts_f2u_(MTS_MAX_WEIGHT_SCALE);
    for (uint64_t row = 0; row < t->dim0; row++) {
        const uint32_t bits = read_u32(bytes + row * sizeof(float));
        const int non_finite = (bits & 0x7f800000u) == 0x7f800000u;
        const int negative = (bits & 0x80000000u) && (bits & 0x7fffffffu);
        const int absurd = !(bits & 0x80000000u) && bits > max_bits;
        if (non_finite || negative || absurd) {
            if (error != NULL) {
                error->tensor = t->index;
                error->kind = kind;
            }
            return reject_found(error, MTS_ERR_BAD_VALUE, field, row);
        }
    }
    return MTS_OK;
}

/* Check 11 for one stage: its configuration (sizes, options, scalar
 * fields), then its tensors against it, then the int8 scales' values. */
mts_status mtsi_file_attach_stage(mts_stage *stage, const tensor_ref *const *found,
                                  mts_file_error *error)
{
    mts_status status = mtsi_check_stage_config(stage);
    if (status == MTS_ERR_BAD_VALUE)
        return reject_field(error, status, mtsi_stage_bad_value(stage));
    if (status != MTS_OK)
        return status;
    switch (stage->kind) {
    case MTS_STAGE_SRU:
        status = attach_sru(&stage->as.sru, found, error);
        if (status == MTS_OK && stage->as.sru.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_SRU_KIND_WEIGHT_SCALE], MTS_SRU_KIND_WEIGHT_SCALE,
                                  "weight_scale", error);
        if (status == MTS_OK && stage->as.sru.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_SRU_KIND_WEIGHT_PROJ_SCALE],
                                  MTS_SRU_KIND_WEIGHT_PROJ_SCALE, "weight_proj_scale", error);
        return status;
    case MTS_STAGE_QRNN:
        status = attach_qrnn(&stage->as.qrnn, found, error);
        if (status == MTS_OK && stage->as.qrnn.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_QRNN_KIND_WEIGHT_SCALE], MTS_QRNN_KIND_WEIGHT_SCALE,
                                  "weight_scale", error);
        return status;
    case MTS_STAGE_NORM:
        return attach_norm(&stage->as.norm, found, error);
    case MTS_STAGE_DENSE:
        status = attach_dense(&stage->as.dense, found, error);
        if (status == MTS_OK && stage->as.dense.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_DENSE_KIND_WEIGHT_SCALE],
                                  MTS_DENSE_KIND_WEIGHT_SCALE, "weight_scale", error);
        return status;
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM:
        status = attach_min(&stage->as.min, MTS_MIN_GATES(stage->kind), found, error);
        if (status == MTS_OK && stage->as.min.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_MIN_KIND_WEIGHT_SCALE], MTS_MIN_KIND_WEIGHT_SCALE,
                                  "weight_scale", error);
        if (status == MTS_OK && stage->as.min.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_MIN_KIND_WEIGHT_OUT_SCALE],
                                  MTS_MIN_KIND_WEIGHT_OUT_SCALE, "weight_out_scale", error);
        return status;
    case MTS_STAGE_INDRNN:
        status = attach_indrnn(&stage->as.indrnn, found, error);
        if (status == MTS_OK && stage->as.indrnn.quant != MTS_QUANT_NONE)
            status = check_scales(found[MTS_INDRNN_KIND_WEIGHT_SCALE],
                                  MTS_INDRNN_KIND_WEIGHT_SCALE, "weight_scale", error);
        return status;
    default:
        return MTS_OK; /* softmax: no tensors (any was rejected by check 10) */
    }
}

/* Where a model whose stages each passed check 11 fails mts_model_check:
 * the first stage whose input size is not its predecessor's output size. */
