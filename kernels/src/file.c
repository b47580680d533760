/* The .mts loader (docs/model-format.md). Fields are assembled from bytes,
 * so parsing needs no alignment and works on any host; only the tensor data
 * is used in place as floats, which needs a little-endian host and a 4-byte
 * aligned buffer. Checks run in the order the format document lists. */
#include "mtsrnn/file.h"

#include "internal.h"

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

/* Offset of the first nonzero byte of p[0, n), or n when all are zero. */
static size_t first_nonzero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == 0)
        i++;
    return i;
}

static int host_is_little_endian(void)
{
    const uint32_t probe = 1u;
    return *(const uint8_t *)&probe == 1u;
}

const char *mts_file_kind_name(uint32_t cell, uint32_t kind)
{
    static const char *const sru[MTS_SRU_KINDS + 1] = {
        "", "weight", "weight_proj", "weight_c", "bias", "norm_weight", "norm_bias",
        "weight_scale", "weight_proj_scale",
    };
    static const char *const qrnn[MTS_QRNN_KINDS + 1] = {"", "weight", "bias", "weight_scale"};
    if (cell == MTS_CELL_SRU && kind <= MTS_SRU_KINDS)
        return sru[kind];
    if (cell == MTS_CELL_QRNN && kind <= MTS_QRNN_KINDS)
        return qrnn[kind];
    return "";
}

static uint32_t kinds_of(uint32_t cell)
{
    return cell == MTS_CELL_SRU ? MTS_SRU_KINDS : MTS_QRNN_KINDS;
}

/* ---- the detail of a rejection (mts_file_error; error may be NULL) ---- */

static void detail_clear(mts_file_error *error)
{
    if (error == NULL)
        return;
    error->cell = 0;
    error->layer = MTS_FILE_NO_INDEX;
    error->tensor = MTS_FILE_NO_INDEX;
    error->kind = 0;
    error->has = 0;
    error->field = "";
    error->found = 0;
    error->expected = 0;
    error->shape_ndim = 0;
    error->shape[0] = 0;
    error->shape[1] = 0;
}

/* Where the check under way looks: layer, tensor record and kind. */
static void detail_locate(mts_file_error *error, uint32_t layer, uint32_t tensor, uint32_t kind)
{
    if (error == NULL)
        return;
    error->layer = layer;
    error->tensor = tensor;
    error->kind = kind;
}

/* Reject with status: the field at fault and the values (as has says). */
static mts_status reject(mts_file_error *error, mts_status status, const char *field,
                         uint32_t has, uint64_t found, uint64_t expected)
{
    if (error != NULL) {
        error->field = field;
        error->has = has;
        error->found = (has & MTS_FILE_ERROR_FOUND) ? found : 0;
        error->expected = (has & MTS_FILE_ERROR_EXPECTED) ? expected : 0;
    }
    return status;
}

static mts_status reject_field(mts_file_error *error, mts_status status, const char *field)
{
    return reject(error, status, field, 0, 0, 0);
}

static mts_status reject_found(mts_file_error *error, mts_status status, const char *field,
                               uint64_t found)
{
    return reject(error, status, field, MTS_FILE_ERROR_FOUND, found, 0);
}

static mts_status reject_value(mts_file_error *error, mts_status status, const char *field,
                               uint64_t found, uint64_t expected)
{
    return reject(error, status, field, MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED, found,
                  expected);
}

/* A value outside [low, high]: expected is the bound crossed. */
static mts_status reject_range(mts_file_error *error, mts_status status, const char *field,
                               uint64_t found, uint64_t low, uint64_t high)
{
    return reject_value(error, status, field, found, found < low ? low : high);
}

/* ---- the header ------------------------------------------------------- */

/* The header fields the loader uses, once validated. */
typedef struct file_header {
    uint32_t cell, num_layers, num_tensors;
    size_t file_size;
    size_t layer_table, tensor_table, tables_end;
} file_header;

/* Checks 1-6 of the format document. */
static mts_status read_header(const uint8_t *p, size_t size, file_header *header,
                              mts_file_error *error)
{
    const mts_status bad = MTS_ERR_FILE_HEADER;
    if (size < MTS_FILE_HEADER_SIZE)
        return reject_value(error, MTS_ERR_FILE_TRUNCATED, "size", size, MTS_FILE_HEADER_SIZE);
    for (size_t i = 0; i < sizeof mts_file_magic; i++)
        if (p[i] != mts_file_magic[i])
            return reject_value(error, MTS_ERR_FILE_MAGIC, "magic", read_u64(p),
                                read_u64(mts_file_magic));
    if (read_u16(p + 8) != MTS_FILE_VERSION_MAJOR)
        return reject_value(error, MTS_ERR_FILE_VERSION, "version_major", read_u16(p + 8),
                            MTS_FILE_VERSION_MAJOR);
    if (read_u32(p + 12) != MTS_FILE_BYTE_ORDER_MARK)
        return reject_value(error, MTS_ERR_FILE_BYTE_ORDER, "byte_order", read_u32(p + 12),
                            MTS_FILE_BYTE_ORDER_MARK);
    if (!host_is_little_endian())
        return reject_field(error, MTS_ERR_FILE_BYTE_ORDER, "host_byte_order");
    const uint64_t file_size = read_u64(p + 32);
    if (file_size > size)
        return reject_value(error, MTS_ERR_FILE_TRUNCATED, "file_size", file_size, size);
    const uint32_t cell = read_u32(p + 20);
    const uint32_t num_layers = read_u32(p + 24);
    const uint32_t num_tensors = read_u32(p + 28);
    const uint32_t layer_table = read_u32(p + 40);
    const uint32_t tensor_table = read_u32(p + 44);
    const size_t reserved = first_nonzero(p + 56, 8);
    if (read_u32(p + 16) != MTS_FILE_HEADER_SIZE)
        return reject_value(error, bad, "header_size", read_u32(p + 16), MTS_FILE_HEADER_SIZE);
    if (read_u32(p + 52) != 0)
        return reject_value(error, bad, "flags", read_u32(p + 52), 0);
    if (reserved < 8)
        return reject_found(error, bad, "reserved", 56u + reserved);
    if (cell != MTS_CELL_SRU && cell != MTS_CELL_QRNN)
        return reject_found(error, bad, "cell", cell);
    if (num_layers < 1u || num_layers > MTS_MAX_LAYERS)
        return reject_range(error, bad, "num_layers", num_layers, 1u, MTS_MAX_LAYERS);
    /* num_layers <= 64: no overflow in these products. */
    if (num_tensors < 1u || num_tensors > kinds_of(cell) * num_layers)
        return reject_range(error, bad, "num_tensors", num_tensors, 1u,
                            kinds_of(cell) * num_layers);
    if (layer_table != MTS_FILE_HEADER_SIZE)
        return reject_value(error, bad, "layer_table_offset", layer_table,
                            MTS_FILE_HEADER_SIZE);
    if (tensor_table != MTS_FILE_HEADER_SIZE + MTS_FILE_LAYER_RECORD_SIZE * num_layers)
        return reject_value(error, bad, "tensor_table_offset", tensor_table,
                            MTS_FILE_HEADER_SIZE + MTS_FILE_LAYER_RECORD_SIZE * num_layers);
    /* Small counts (checked above): no overflow in these sums. */
    const uint64_t tables_end =
        (uint64_t)tensor_table + (uint64_t)MTS_FILE_TENSOR_RECORD_SIZE * num_tensors;
    if (file_size < tables_end)
        return reject_value(error, bad, "file_size", file_size, tables_end);
    if (error != NULL)
        error->cell = cell;
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

mts_status mts_file_descriptor_size(const void *data, size_t size, size_t *num_bytes,
                                    mts_file_error *error)
{
    detail_clear(error);
    if (data == NULL)
        return reject_field(error, MTS_ERR_NULL_POINTER, "data");
    if (num_bytes == NULL)
        return reject_field(error, MTS_ERR_NULL_POINTER, "num_bytes");
    file_header header;
    const mts_status status = read_header((const uint8_t *)data, size, &header, error);
    if (status != MTS_OK)
        return status;
    *num_bytes = descriptor_bytes_for(&header);
    return MTS_OK;
}

/* ---- layer and tensor records ----------------------------------------- */

static mts_status read_sru_layer(const uint8_t *record, mts_sru_layer *layer,
                                 mts_file_error *error)
{
    const size_t reserved = 28u + first_nonzero(record + 28, 4);
    if (reserved < MTS_FILE_LAYER_RECORD_SIZE)
        return reject_found(error, MTS_ERR_FILE_LAYER, "reserved", reserved);
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

static mts_status read_qrnn_layer(const uint8_t *record, mts_qrnn_layer *layer,
                                  mts_file_error *error)
{
    const size_t reserved = record[15] != 0 ? 15u : 20u + first_nonzero(record + 20, 12);
    if (reserved < MTS_FILE_LAYER_RECORD_SIZE)
        return reject_found(error, MTS_ERR_FILE_LAYER, "reserved", reserved);
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

/* A validated tensor record. */
typedef struct tensor_ref {
    uint32_t index, ndim, dtype;
    uint64_t dim0, dim1;
    const void *data;
} tensor_ref;

/* Check 10 for record `index`: bounds, alignment, products. The detail
 * names the layer and kind once each is known to be valid. */
static mts_status read_tensor(const uint8_t *base, const file_header *header, uint32_t index,
                              uint32_t *layer, uint32_t *kind, tensor_ref *tensor,
                              mts_file_error *error)
{
    const mts_status bad = MTS_ERR_FILE_TENSOR;
    const uint8_t *record =
        base + header->tensor_table + (size_t)index * MTS_FILE_TENSOR_RECORD_SIZE;
    const uint32_t kinds = kinds_of(header->cell);
    *layer = read_u32(record);
    *kind = read_u32(record + 4);
    const uint32_t dtype = read_u32(record + 8);
    const uint32_t ndim = read_u32(record + 12);
    const uint64_t dim0 = read_u64(record + 16);
    const uint64_t dim1 = read_u64(record + 24);
    const uint64_t offset = read_u64(record + 32);
    const uint64_t nbytes = read_u64(record + 40);
    detail_locate(error, MTS_FILE_NO_INDEX, index, 0);
    if (*layer >= header->num_layers)
        return reject_value(error, bad, "layer", *layer, header->num_layers);
    if (error != NULL)
        error->layer = *layer;
    if (*kind < 1u || *kind > kinds)
        return reject_range(error, bad, "kind", *kind, 1u, kinds);
    if (error != NULL)
        error->kind = *kind;
    /* int8 only for the products' weights: kind 1 (weight, both cells), and
     * SRU weight_proj. */
    const int int8_kind = *kind == MTS_SRU_KIND_WEIGHT ||
                          (header->cell == MTS_CELL_SRU && *kind == MTS_SRU_KIND_WEIGHT_PROJ);
    if (dtype != MTS_FILE_DTYPE_F32 && !(dtype == MTS_FILE_DTYPE_I8 && int8_kind))
        return int8_kind ? reject_found(error, bad, "dtype", dtype)
                         : reject_value(error, bad, "dtype", dtype, MTS_FILE_DTYPE_F32);
    if (ndim != 1u && ndim != 2u)
        return reject_range(error, bad, "ndim", ndim, 1u, 2u);
    if (ndim == 1u && dim1 != 1u)
        return reject_value(error, bad, "dim1", dim1, 1u);
    if (dim0 == 0)
        return reject_value(error, bad, "dim0", 0, 1u);
    if (dim1 == 0)
        return reject_value(error, bad, "dim1", 0, 1u);
    /* nbytes == dim0 * dim1 * item size, each product checked in 64 bits. */
    const uint64_t item = dtype == MTS_FILE_DTYPE_I8 ? 1u : sizeof(float);
    if (dim1 > UINT64_MAX / dim0 || dim0 * dim1 > UINT64_MAX / item)
        return reject_found(error, bad, "nbytes", nbytes);
    if (dim0 * dim1 * item != nbytes)
        return reject_value(error, bad, "nbytes", nbytes, dim0 * dim1 * item);
    if (offset % MTS_FILE_DATA_ALIGNMENT != 0)
        return reject_value(error, bad, "offset", offset, MTS_FILE_DATA_ALIGNMENT);
    if (offset < header->tables_end)
        return reject_value(error, bad, "offset", offset, header->tables_end);
    if (nbytes > header->file_size)
        return reject_value(error, bad, "nbytes", nbytes, header->file_size);
    if (offset > header->file_size - nbytes)
        return reject_value(error, bad, "offset", offset, header->file_size - nbytes);
    tensor->index = index;
    tensor->ndim = ndim;
    tensor->dtype = dtype;
    tensor->dim0 = dim0;
    tensor->dim1 = dim1;
    tensor->data = base + (size_t)offset;
    return MTS_OK;
}

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

/* Where a model that fails mts_model_check breaks the chaining rules
 * (layer l+1's input is layer l's output; one output width): the first
 * layer l at which the model's first l+1 layers fail, and which rule, from
 * the sizes mts_model_io_sizes gives each layer. Only called after every
 * layer passed its own checks. */
static void locate_chain_error(const mts_model *loaded, mts_file_error *error)
{
    if (error == NULL)
        return;
    mts_model prefix = *loaded;
    uint32_t l = 1;
    for (; l < loaded->num_layers; l++) {
        prefix.num_layers = l + 1u;
        if (mts_model_check(&prefix) != MTS_OK)
            break;
    }
    if (l >= loaded->num_layers)
        return;
    size_t in[3], out[3];
    const uint32_t layers[3] = {0, l - 1u, l};
    for (size_t i = 0; i < 3; i++) {
        mts_model one = *loaded;
        one.num_layers = 1;
        if (one.sru != NULL)
            one.sru += layers[i];
        if (one.qrnn != NULL)
            one.qrnn += layers[i];
        if (mts_model_io_sizes(&one, &in[i], &out[i]) != MTS_OK)
            return;
    }
    error->layer = l;
    if (in[2] != out[1])
        reject_value(error, MTS_ERR_BAD_CONFIG, "input_size", in[2], out[1]);
    else
        reject_value(error, MTS_ERR_BAD_CONFIG, "output_size", out[2], out[0]);
}

mts_status mts_file_load(const void *data, size_t size, uint32_t flags, void *descriptors,
                         size_t descriptor_bytes, mts_model *model, mts_file_error *error)
{
    detail_clear(error);
    if (data == NULL)
        return reject_field(error, MTS_ERR_NULL_POINTER, "data");
    if (descriptors == NULL)
        return reject_field(error, MTS_ERR_NULL_POINTER, "descriptors");
    if (model == NULL)
        return reject_field(error, MTS_ERR_NULL_POINTER, "model");
    const uint8_t *base = (const uint8_t *)data;
    file_header header;
    mts_status status = read_header(base, size, &header, error);
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
            return reject_value(error, MTS_ERR_FILE_CRC, "crc32",
                                read_u32(base + MTS_FILE_CRC_OFFSET), ~crc);
    }
    if ((uintptr_t)data % sizeof(float) != 0)
        return reject_value(error, MTS_ERR_MISALIGNED, "data", (uintptr_t)data % sizeof(float),
                            sizeof(float));
    if ((uintptr_t)descriptors % sizeof(void *) != 0)
        return reject_value(error, MTS_ERR_MISALIGNED, "descriptors",
                            (uintptr_t)descriptors % sizeof(void *), sizeof(void *));
    if (descriptor_bytes < descriptor_bytes_for(&header))
        return reject_value(error, MTS_ERR_DESCRIPTORS_TOO_SMALL, "descriptor_bytes",
                            descriptor_bytes, descriptor_bytes_for(&header));

    mts_sru_layer *sru = (mts_sru_layer *)descriptors;
    mts_qrnn_layer *qrnn = (mts_qrnn_layer *)descriptors;
    for (uint32_t l = 0; l < header.num_layers; l++) {
        const uint8_t *record = base + header.layer_table + l * MTS_FILE_LAYER_RECORD_SIZE;
        detail_locate(error, l, MTS_FILE_NO_INDEX, 0);
        status = header.cell == MTS_CELL_SRU ? read_sru_layer(record, &sru[l], error)
                                             : read_qrnn_layer(record, &qrnn[l], error);
        if (status != MTS_OK)
            return status;
    }
    detail_locate(error, MTS_FILE_NO_INDEX, MTS_FILE_NO_INDEX, 0);

    /* Every tensor record valid and in bounds. */
    for (uint32_t t = 0; t < header.num_tensors; t++) {
        uint32_t layer, kind;
        tensor_ref tensor;
        status = read_tensor(base, &header, t, &layer, &kind, &tensor, error);
        if (status != MTS_OK)
            return status;
    }
    detail_locate(error, MTS_FILE_NO_INDEX, MTS_FILE_NO_INDEX, 0);
    /* Then layer by layer (scanning the table again keeps the stack small
     * on a device: one layer's references at a time), no (layer, kind)
     * twice, then the shapes against the configuration. Duplicates are
     * looked for in every layer before any shape is judged. */
    for (int attach = 0; attach <= 1; attach++) {
        for (uint32_t l = 0; l < header.num_layers; l++) {
            tensor_ref refs[MTS_SRU_KINDS + 1];
            const tensor_ref *found[MTS_SRU_KINDS + 1] = {NULL};
            for (uint32_t t = 0; t < header.num_tensors; t++) {
                uint32_t layer, kind;
                tensor_ref tensor;
                (void)read_tensor(base, &header, t, &layer, &kind, &tensor, NULL);
                if (layer != l)
                    continue;
                if (found[kind] != NULL) {
                    detail_locate(error, l, t, kind);
                    return reject_found(error, MTS_ERR_FILE_TENSOR, "duplicate",
                                        found[kind]->index);
                }
                refs[kind] = tensor;
                found[kind] = &refs[kind];
            }
            if (!attach)
                continue;
            detail_locate(error, l, MTS_FILE_NO_INDEX, 0);
            status = header.cell == MTS_CELL_SRU ? attach_sru(&sru[l], found, error)
                                                 : attach_qrnn(&qrnn[l], found, error);
            if (status != MTS_OK)
                return status;
        }
    }
    detail_locate(error, MTS_FILE_NO_INDEX, MTS_FILE_NO_INDEX, 0);

    mts_model loaded = {header.cell, header.num_layers, NULL, NULL};
    if (header.cell == MTS_CELL_SRU)
        loaded.sru = sru;
    else
        loaded.qrnn = qrnn;
    status = mts_model_check(&loaded);
    if (status != MTS_OK) {
        locate_chain_error(&loaded, error);
        return status;
    }
    *model = loaded;
    return MTS_OK;
}

/* ---- the detail as text ------------------------------------------------ */

static void append_text(char *text, size_t size, size_t *n, const char *part)
{
    while (*part != '\0' && *n + 1 < size)
        text[(*n)++] = *part++;
}

/* Decimal up to 32 bits, else hex: 64-bit division would need a runtime
 * helper that a 32-bit core's native modules cannot always link. */
static void append_number(char *text, size_t size, size_t *n, uint64_t value)
{
    char digits[20];
    size_t count = 0;
    if (value > 0xFFFFFFFFu) {
        for (; value != 0; value >>= 4)
            digits[count++] = "0123456789abcdef"[value & 15u];
        digits[count++] = 'x';
        digits[count++] = '0';
    } else {
        uint32_t small = (uint32_t)value;
        do {
            digits[count++] = (char)('0' + small % 10u);
            small /= 10u;
        } while (small != 0);
    }
    while (count > 0 && *n + 1 < size)
        text[(*n)++] = digits[--count];
}

/* ", <label><number>" (": " before the first part). */
static void append_part(char *text, size_t size, size_t *n, int *parts, const char *label,
                        int with_number, uint64_t value)
{
    append_text(text, size, n, (*parts)++ ? ", " : ": ");
    append_text(text, size, n, label);
    if (with_number)
        append_number(text, size, n, value);
}

size_t mts_file_error_text(mts_status status, const mts_file_error *error, char *text,
                           size_t size)
{
    if (text == NULL || size == 0)
        return 0;
    size_t n = 0;
    int parts = 0;
    const char *name = mts_status_name(status);
    append_text(text, size, &n, mts_status_str(status));
    append_text(text, size, &n, " (");
    append_text(text, size, &n, name != NULL ? name : "?");
    append_text(text, size, &n, ")");
    if (error != NULL) {
        const mts_file_error *e = error;
        if (e->layer != MTS_FILE_NO_INDEX)
            append_part(text, size, &n, &parts, "layer ", 1, e->layer);
        if (e->tensor != MTS_FILE_NO_INDEX)
            append_part(text, size, &n, &parts, "tensor record ", 1, e->tensor);
        if (e->kind != 0) {
            append_part(text, size, &n, &parts, "kind ", 1, e->kind);
            append_text(text, size, &n, " (");
            append_text(text, size, &n, mts_file_kind_name(e->cell, e->kind));
            append_text(text, size, &n, ")");
        }
        if (e->field != NULL && e->field[0] != '\0')
            append_part(text, size, &n, &parts, e->field, 0, 0);
        if (e->has & MTS_FILE_ERROR_FOUND)
            append_part(text, size, &n, &parts, "found ", 1, e->found);
        if (e->has & MTS_FILE_ERROR_EXPECTED)
            append_part(text, size, &n, &parts, "expected ", 1, e->expected);
        if (e->shape_ndim == 1 || e->shape_ndim == 2) {
            append_part(text, size, &n, &parts, "shape (", 1, e->shape[0]);
            if (e->shape_ndim == 2)
                append_part(text, size, &n, &parts, "", 1, e->shape[1]);
            append_text(text, size, &n, e->shape_ndim == 1 ? ",)" : ")");
        }
    }
    text[n] = '\0';
    return n;
}
