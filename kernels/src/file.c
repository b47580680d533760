/* The .mts loader (docs/model-format.md). Fields are assembled from bytes,
 * so parsing needs no alignment and works on any host; only the tensor data
 * is used in place as floats, which needs a little-endian host and a 4-byte
 * aligned buffer. Checks run in the order the format document lists. */
#include "mtsrnn/file.h"

#include "internal.h"

#define MTS_FILE_CELL_OFFSET 20u
#define MTS_FILE_CRC_OFFSET 48u
#define MTS_FILE_BYTE_ORDER_MARK 0x01020304u
#define MTS_FILE_DTYPE_F32 1u
#define MTS_FILE_DTYPE_I8 2u    /* weight tensors of quantised layers only */
/* Tensor kinds: SRU 1..8, QRNN 1..3 (format table). */
#define MTS_KIND_WEIGHT 1u
#define MTS_SRU_KIND_WEIGHT_PROJ 2u
#define MTS_SRU_KIND_WEIGHT_C 3u
#define MTS_SRU_KIND_BIAS 4u
#define MTS_SRU_KIND_NORM_WEIGHT 5u
#define MTS_SRU_KIND_NORM_BIAS 6u
#define MTS_QRNN_KIND_BIAS 2u
#define MTS_SRU_KIND_WEIGHT_SCALE 7u
#define MTS_SRU_KIND_WEIGHT_PROJ_SCALE 8u
#define MTS_QRNN_KIND_WEIGHT_SCALE 3u
#define MTS_SRU_KINDS 8u
#define MTS_QRNN_KINDS 3u

static const uint8_t mts_file_magic[8] = {0x89, 0x4D, 0x54, 0x53, 0x0D, 0x0A, 0x1A, 0x0A};

/* CRC-32 of one nibble, for the reflected polynomial 0xEDB88320: a 64-byte
 * table, small enough for any flash, half the steps of the bitwise loop. */
static const uint32_t mts_crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

static uint32_t crc32_update(uint32_t crc, const uint8_t *bytes, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        crc ^= bytes[i];
        crc = (crc >> 4) ^ mts_crc32_nibble[crc & 15u];
        crc = (crc >> 4) ^ mts_crc32_nibble[crc & 15u];
    }
    return crc;
}

uint32_t mts_crc32(uint32_t crc, const void *data, size_t size)
{
    if (data == NULL)
        return crc;
    return ~crc32_update(~crc, (const uint8_t *)data, size);
}

static uint16_t read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t read_u64(const uint8_t *p)
{
    return (uint64_t)read_u32(p) | ((uint64_t)read_u32(p + 4) << 32);
}

static float read_f32(const uint8_t *p)
{
    const uint32_t bits = read_u32(p);
    float value;
    const uint8_t *src = (const uint8_t *)&bits;
    uint8_t *dst = (uint8_t *)&value;
    for (size_t i = 0; i < sizeof value; i++)
        dst[i] = src[i];
    return value;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= p[i];
    return any == 0;
}

static int host_is_little_endian(void)
{
    const uint32_t probe = 1u;
    return *(const uint8_t *)&probe == 1u;
}

/* The header fields the loader uses, once validated. */
typedef struct file_header {
    uint32_t cell, num_layers, num_tensors;
    size_t file_size;
    size_t layer_table, tensor_table, tables_end;
} file_header;

/* Checks 1-5 of the format document. */
static mts_status read_header(const uint8_t *p, size_t size, file_header *header)
{
    if (size < MTS_FILE_HEADER_SIZE)
        return MTS_ERR_FILE_TRUNCATED;
    for (size_t i = 0; i < sizeof mts_file_magic; i++)
        if (p[i] != mts_file_magic[i])
            return MTS_ERR_FILE_MAGIC;
    if (read_u16(p + 8) != MTS_FILE_VERSION_MAJOR)
        return MTS_ERR_FILE_VERSION;
    if (read_u32(p + 12) != MTS_FILE_BYTE_ORDER_MARK || !host_is_little_endian())
        return MTS_ERR_FILE_BYTE_ORDER;
    const uint64_t file_size = read_u64(p + 32);
    if (file_size > size)
        return MTS_ERR_FILE_TRUNCATED;
    const uint32_t cell = read_u32(p + MTS_FILE_CELL_OFFSET);
    const uint32_t num_layers = read_u32(p + 24);
    const uint32_t num_tensors = read_u32(p + 28);
    const uint32_t layer_table = read_u32(p + 40);
    const uint32_t tensor_table = read_u32(p + 44);
    const uint32_t kinds = cell == MTS_CELL_SRU ? MTS_SRU_KINDS : MTS_QRNN_KINDS;
    if (read_u32(p + 16) != MTS_FILE_HEADER_SIZE || read_u32(p + 52) != 0 ||
        !all_zero(p + 56, 8) || (cell != MTS_CELL_SRU && cell != MTS_CELL_QRNN) ||
        num_layers < 1u || num_layers > MTS_MAX_LAYERS || num_tensors < 1u ||
        num_tensors > kinds * num_layers || layer_table != MTS_FILE_HEADER_SIZE ||
        tensor_table != MTS_FILE_HEADER_SIZE + MTS_FILE_LAYER_RECORD_SIZE * num_layers)
        return MTS_ERR_FILE_HEADER;
    /* Small counts (checked above): no overflow in these sums. */
    const uint64_t tables_end =
        (uint64_t)tensor_table + (uint64_t)MTS_FILE_TENSOR_RECORD_SIZE * num_tensors;
    if (file_size < tables_end)
        return MTS_ERR_FILE_HEADER;
    header->cell = cell;
    header->num_layers = num_layers;
    header->num_tensors = num_tensors;
    header->file_size = (size_t)file_size; /* <= size, so it fits */
    header->layer_table = layer_table;
    header->tensor_table = tensor_table;
    header->tables_end = (size_t)tables_end;
    return MTS_OK;
}

static size_t descriptor_bytes_for(const file_header *header)
{
    /* num_layers <= 64: no overflow. */
    return header->num_layers * (header->cell == MTS_CELL_SRU ? sizeof(mts_sru_layer)
                                                              : sizeof(mts_qrnn_layer));
}

mts_status mts_file_descriptor_size(const void *data, size_t size, size_t *num_bytes)
{
    if (data == NULL || num_bytes == NULL)
        return MTS_ERR_NULL_POINTER;
    file_header header;
    const mts_status status = read_header((const uint8_t *)data, size, &header);
    if (status != MTS_OK)
        return status;
    *num_bytes = descriptor_bytes_for(&header);
    return MTS_OK;
}

/* A validated tensor record. */
typedef struct tensor_ref {
    uint32_t ndim, dtype;
    uint64_t dim0, dim1;
    const void *data;
} tensor_ref;

/* Check 9 for one record: bounds, alignment, products. */
static mts_status read_tensor(const uint8_t *base, const file_header *header,
                              const uint8_t *record, uint32_t *layer, uint32_t *kind,
                              tensor_ref *tensor)
{
    const uint32_t kinds = header->cell == MTS_CELL_SRU ? MTS_SRU_KINDS : MTS_QRNN_KINDS;
    *layer = read_u32(record);
    *kind = read_u32(record + 4);
    const uint32_t dtype = read_u32(record + 8);
    const uint32_t ndim = read_u32(record + 12);
    const uint64_t dim0 = read_u64(record + 16);
    const uint64_t dim1 = read_u64(record + 24);
    const uint64_t offset = read_u64(record + 32);
    const uint64_t nbytes = read_u64(record + 40);
    /* int8 only for the products' weights: kind 1, and SRU weight_proj. */
    const int int8_kind =
        *kind == MTS_KIND_WEIGHT || (header->cell == MTS_CELL_SRU && *kind == MTS_SRU_KIND_WEIGHT_PROJ);
    if (*layer >= header->num_layers || *kind < 1u || *kind > kinds ||
        (dtype != MTS_FILE_DTYPE_F32 && !(dtype == MTS_FILE_DTYPE_I8 && int8_kind)) ||
        (ndim != 1u && ndim != 2u) || (ndim == 1u && dim1 != 1u) || dim0 == 0 || dim1 == 0)
        return MTS_ERR_FILE_TENSOR;
    /* nbytes == dim0 * dim1 * item size, each product checked in 64 bits. */
    const uint64_t item = dtype == MTS_FILE_DTYPE_I8 ? 1u : sizeof(float);
    if (dim1 > UINT64_MAX / dim0 || dim0 * dim1 > UINT64_MAX / item ||
        dim0 * dim1 * item != nbytes)
        return MTS_ERR_FILE_TENSOR;
    if (offset % MTS_FILE_DATA_ALIGNMENT != 0 || offset < header->tables_end ||
        nbytes > header->file_size || offset > header->file_size - nbytes)
        return MTS_ERR_FILE_TENSOR;
    tensor->ndim = ndim;
    tensor->dtype = dtype;
    tensor->dim0 = dim0;
    tensor->dim1 = dim1;
    tensor->data = base + (size_t)offset;
    return MTS_OK;
}

/* Whether a tensor has the expected shape: (count) for 1-D, (rows, cols) for 2-D. */
static int shape_is(const tensor_ref *t, uint32_t ndim, uint64_t dim0, uint64_t dim1)
{
    return t->ndim == ndim && t->dim0 == dim0 && t->dim1 == dim1;
}

static mts_status read_sru_layer(const uint8_t *record, mts_sru_layer *layer)
{
    if (!all_zero(record + 28, 4))
        return MTS_ERR_FILE_LAYER;
    mts_sru_layer parsed = {0};
    parsed.input_size = read_u32(record);
    parsed.hidden_size = read_u32(record + 4);
    parsed.num_directions = read_u32(record + 8);
    parsed.projection_size = read_u32(record + 12);
    parsed.activation = record[16];
    parsed.skip = record[17];
    parsed.norm = record[18];
    parsed.quant = record[19]; /* format 1.1; 0 (reserved) in 1.0 files */
    parsed.scale_x = read_f32(record + 20);
    parsed.norm_eps = read_f32(record + 24);
    *layer = parsed;
    return MTS_OK;
}

static mts_status read_qrnn_layer(const uint8_t *record, mts_qrnn_layer *layer)
{
    if (record[15] != 0 || !all_zero(record + 20, 12))
        return MTS_ERR_FILE_LAYER;
    mts_qrnn_layer parsed = {0};
    parsed.input_size = read_u32(record);
    parsed.hidden_size = read_u32(record + 4);
    parsed.window = read_u32(record + 8);
    parsed.input_gate = record[12];
    parsed.output_gate = record[13];
    parsed.quant = record[14]; /* format 1.1; 0 (reserved) in 1.0 files */
    parsed.zoneout = read_f32(record + 16);
    *layer = parsed;
    return MTS_OK;
}

/* A product's weight tensor and its scales, as the layer's quant asks:
 * float32 without scales, or int8 with float32 scales of shape (rows). */
static int weight_dtype_ok(const tensor_ref *weight, const tensor_ref *scale, uint8_t quant,
                           uint64_t rows)
{
    if (quant == MTS_QUANT_NONE)
        return weight->dtype == MTS_FILE_DTYPE_F32 && scale == NULL;
    return weight->dtype == MTS_FILE_DTYPE_I8 && scale != NULL && shape_is(scale, 1, rows, 1);
}

/* Check 10 for an SRU layer: point each array at its tensor, after checking
 * that the tensors present are exactly those the configuration needs, with
 * the shapes it implies. found[kind] is NULL for an absent tensor. */
static mts_status attach_sru(mts_sru_layer *layer, const tensor_ref *const *found)
{
    mts_sru_array_sizes sizes;
    const mts_status status = mts_sru_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const uint64_t depth = layer->projection_size ? layer->projection_size : layer->input_size;
    const tensor_ref *weight = found[MTS_KIND_WEIGHT];
    const tensor_ref *proj = found[MTS_SRU_KIND_WEIGHT_PROJ];
    const tensor_ref *weight_c = found[MTS_SRU_KIND_WEIGHT_C];
    const tensor_ref *bias = found[MTS_SRU_KIND_BIAS];
    const tensor_ref *norm_weight = found[MTS_SRU_KIND_NORM_WEIGHT];
    const tensor_ref *norm_bias = found[MTS_SRU_KIND_NORM_BIAS];
    const tensor_ref *weight_scale = found[MTS_SRU_KIND_WEIGHT_SCALE];
    const tensor_ref *proj_scale = found[MTS_SRU_KIND_WEIGHT_PROJ_SCALE];
    if (weight == NULL || !shape_is(weight, 2, sizes.weight / depth, depth) ||
        bias == NULL || !shape_is(bias, 1, sizes.bias, 1) ||
        (weight_c != NULL && !shape_is(weight_c, 1, sizes.weight_c, 1)) ||
        (sizes.weight_proj == 0) != (proj == NULL) ||
        (proj != NULL && !shape_is(proj, 2, layer->projection_size, layer->input_size)) ||
        (sizes.norm_weight == 0) != (norm_weight == NULL) ||
        (sizes.norm_bias == 0) != (norm_bias == NULL) ||
        (norm_weight != NULL && !shape_is(norm_weight, 1, sizes.norm_weight, 1)) ||
        (norm_bias != NULL && !shape_is(norm_bias, 1, sizes.norm_bias, 1)) ||
        !weight_dtype_ok(weight, weight_scale, layer->quant, sizes.weight_rows) ||
        (proj == NULL && proj_scale != NULL) ||
        (proj != NULL &&
         !weight_dtype_ok(proj, proj_scale, layer->quant, sizes.weight_proj_rows)))
        return MTS_ERR_FILE_SHAPE;
    if (layer->quant != MTS_QUANT_NONE) {
        layer->weight_q = (const int8_t *)weight->data;
        layer->weight_scale = (const float *)weight_scale->data;
        layer->weight_proj_q = proj ? (const int8_t *)proj->data : NULL;
        layer->weight_proj_scale = proj ? (const float *)proj_scale->data : NULL;
    } else {
        layer->weight = (const float *)weight->data;
        layer->weight_proj = proj ? (const float *)proj->data : NULL;
    }
    layer->weight_c = weight_c ? (const float *)weight_c->data : NULL;
    layer->bias = (const float *)bias->data;
    layer->norm_weight = norm_weight ? (const float *)norm_weight->data : NULL;
    layer->norm_bias = norm_bias ? (const float *)norm_bias->data : NULL;
    return MTS_OK;
}

static mts_status attach_qrnn(mts_qrnn_layer *layer, const tensor_ref *const *found)
{
    mts_qrnn_array_sizes sizes;
    const mts_status status = mts_qrnn_layer_array_sizes(layer, &sizes);
    if (status != MTS_OK)
        return status;
    const uint64_t depth = (uint64_t)layer->window * layer->input_size;
    const tensor_ref *weight = found[MTS_KIND_WEIGHT];
    const tensor_ref *bias = found[MTS_QRNN_KIND_BIAS];
    const tensor_ref *weight_scale = found[MTS_QRNN_KIND_WEIGHT_SCALE];
    if (weight == NULL || !shape_is(weight, 2, sizes.weight / depth, depth) ||
        bias == NULL || !shape_is(bias, 1, sizes.bias, 1) ||
        !weight_dtype_ok(weight, weight_scale, layer->quant, sizes.weight_rows))
        return MTS_ERR_FILE_SHAPE;
    if (layer->quant != MTS_QUANT_NONE) {
        layer->weight_q = (const int8_t *)weight->data;
        layer->weight_scale = (const float *)weight_scale->data;
    } else {
        layer->weight = (const float *)weight->data;
    }
    layer->bias = (const float *)bias->data;
    return MTS_OK;
}

mts_status mts_file_load(const void *data, size_t size, uint32_t flags, void *descriptors,
                         size_t descriptor_bytes, mts_model *model)
{
    if (data == NULL || descriptors == NULL || model == NULL)
        return MTS_ERR_NULL_POINTER;
    const uint8_t *base = (const uint8_t *)data;
    file_header header;
    mts_status status = read_header(base, size, &header);
    if (status != MTS_OK)
        return status;
    if (!(flags & MTS_LOAD_SKIP_CRC)) {
        const uint8_t zero_crc[4] = {0, 0, 0, 0};
        uint32_t crc = ~0u;
        crc = crc32_update(crc, base, MTS_FILE_CRC_OFFSET);
        crc = crc32_update(crc, zero_crc, sizeof zero_crc);
        crc = crc32_update(crc, base + MTS_FILE_CRC_OFFSET + 4,
                           header.file_size - MTS_FILE_CRC_OFFSET - 4);
        if (~crc != read_u32(base + MTS_FILE_CRC_OFFSET))
            return MTS_ERR_FILE_CRC;
    }
    if ((uintptr_t)data % sizeof(float) != 0 || (uintptr_t)descriptors % sizeof(void *) != 0)
        return MTS_ERR_MISALIGNED;
    if (descriptor_bytes < descriptor_bytes_for(&header))
        return MTS_ERR_DESCRIPTORS_TOO_SMALL;

    mts_sru_layer *sru = (mts_sru_layer *)descriptors;
    mts_qrnn_layer *qrnn = (mts_qrnn_layer *)descriptors;
    for (size_t l = 0; l < header.num_layers; l++) {
        const uint8_t *record = base + header.layer_table + l * MTS_FILE_LAYER_RECORD_SIZE;
        status = header.cell == MTS_CELL_SRU ? read_sru_layer(record, &sru[l])
                                             : read_qrnn_layer(record, &qrnn[l]);
        if (status != MTS_OK)
            return status;
    }

    /* Every tensor record valid and in bounds. */
    const uint8_t *tensor_table = base + header.tensor_table;
    for (size_t t = 0; t < header.num_tensors; t++) {
        uint32_t layer, kind;
        tensor_ref tensor;
        status = read_tensor(base, &header, tensor_table + t * MTS_FILE_TENSOR_RECORD_SIZE,
                             &layer, &kind, &tensor);
        if (status != MTS_OK)
            return status;
    }
    /* Then layer by layer (scanning the table again keeps the stack small
     * on a device: one layer's references at a time), no (layer, kind)
     * twice, then the shapes against the configuration. Duplicates are
     * looked for in every layer before any shape is judged. */
    for (int attach = 0; attach <= 1; attach++) {
        for (uint32_t l = 0; l < header.num_layers; l++) {
            tensor_ref refs[MTS_SRU_KINDS + 1];
            const tensor_ref *found[MTS_SRU_KINDS + 1] = {NULL};
            for (size_t t = 0; t < header.num_tensors; t++) {
                uint32_t layer, kind;
                tensor_ref tensor;
                (void)read_tensor(base, &header, tensor_table + t * MTS_FILE_TENSOR_RECORD_SIZE,
                                  &layer, &kind, &tensor);
                if (layer != l)
                    continue;
                if (found[kind] != NULL)
                    return MTS_ERR_FILE_TENSOR; /* duplicate */
                refs[kind] = tensor;
                found[kind] = &refs[kind];
            }
            if (!attach)
                continue;
            status = header.cell == MTS_CELL_SRU ? attach_sru(&sru[l], found)
                                                 : attach_qrnn(&qrnn[l], found);
            if (status != MTS_OK)
                return status;
        }
    }

    mts_model loaded = {header.cell, header.num_layers, NULL, NULL};
    if (header.cell == MTS_CELL_SRU)
        loaded.sru = sru;
    else
        loaded.qrnn = qrnn;
    status = mts_model_check(&loaded);
    if (status != MTS_OK)
        return status;
    *model = loaded;
    return MTS_OK;
}
