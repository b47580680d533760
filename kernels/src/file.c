/* The .mts loader (docs/model-format.md). Fields are assembled from bytes,
 * so parsing needs no alignment and works on any host; only the tensor data
 * is used in place as floats, which needs a little-endian host and a 4-byte
 * aligned buffer. Checks run in the order the format document lists. */
#include "file_internal.h"

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

/* ---- the header ------------------------------------------------------- */

/* The header fields the loader uses, once validated. */
typedef struct file_header {
    uint32_t version_major;
    uint32_t cell;                  /* 1.x: every layer's kind; 2.0: 0 */
    uint32_t num_stages, num_tensors;
    size_t record_size;             /* 32 (1.x layer records) or 48 (2.0 stage records) */
    size_t file_size;
    size_t stage_table, tensor_table, tables_end;
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
    const uint32_t major = read_u16(p + 8);
    if (major != MTS_FILE_VERSION_MAJOR && major != MTS_FILE_STAGES_VERSION_MAJOR)
        return reject_range(error, MTS_ERR_FILE_VERSION, "version_major", major,
                            MTS_FILE_VERSION_MAJOR, MTS_FILE_STAGES_VERSION_MAJOR);
    const int stages = major == MTS_FILE_STAGES_VERSION_MAJOR;
    if (error != NULL)
        error->version_major = major;
    if (read_u32(p + 12) != MTS_FILE_BYTE_ORDER_MARK)
        return reject_value(error, MTS_ERR_FILE_BYTE_ORDER, "byte_order", read_u32(p + 12),
                            MTS_FILE_BYTE_ORDER_MARK);
    if (!host_is_little_endian())
        return reject_field(error, MTS_ERR_FILE_BYTE_ORDER, "host_byte_order");
    const uint64_t file_size = read_u64(p + 32);
    if (file_size > size)
        return reject_value(error, MTS_ERR_FILE_TRUNCATED, "file_size", file_size, size);
    const uint32_t cell = read_u32(p + 20);
    const uint32_t num_stages = read_u32(p + 24);
    const uint32_t num_tensors = read_u32(p + 28);
    const uint32_t stage_table = read_u32(p + 40);
    const uint32_t tensor_table = read_u32(p + 44);
    const size_t reserved = first_nonzero(p + 56, 8);
    const size_t record_size = stages ? MTS_FILE_STAGE_RECORD_SIZE : MTS_FILE_LAYER_RECORD_SIZE;
    if (read_u32(p + 16) != MTS_FILE_HEADER_SIZE)
        return reject_value(error, bad, "header_size", read_u32(p + 16), MTS_FILE_HEADER_SIZE);
    if (read_u32(p + 52) != 0)
        return reject_value(error, bad, "flags", read_u32(p + 52), 0);
    if (reserved < 8)
        return reject_found(error, bad, "reserved", 56u + reserved);
    /* 2.0: offset 20 (1.x's cell) is reserved; each stage record has a kind. */
    if (stages && cell != 0)
        return reject_found(error, bad, "reserved", 20u + first_nonzero(p + 20, 4));
    if (!stages && cell != MTS_CELL_SRU && cell != MTS_CELL_QRNN)
        return reject_found(error, bad, "cell", cell);
    const char *count_name = stages ? "num_stages" : "num_layers";
    if (num_stages < 1u || num_stages > MTS_MAX_STAGES)
        return reject_range(error, bad, count_name, num_stages, 1u, MTS_MAX_STAGES);
    /* num_stages <= 64: no overflow in these products. */
    const uint32_t max_tensors =
        (stages ? MTS_FILE_MAX_KINDS : mts_file_kinds_of(cell)) * num_stages;
    if (num_tensors < 1u || num_tensors > max_tensors)
        return reject_range(error, bad, "num_tensors", num_tensors, 1u, max_tensors);
    if (stage_table != MTS_FILE_HEADER_SIZE)
        return reject_value(error, bad, stages ? "stage_table_offset" : "layer_table_offset",
                            stage_table, MTS_FILE_HEADER_SIZE);
    if (tensor_table != MTS_FILE_HEADER_SIZE + record_size * num_stages)
        return reject_value(error, bad, "tensor_table_offset", tensor_table,
                            MTS_FILE_HEADER_SIZE + record_size * num_stages);
    /* Small counts (checked above): no overflow in these sums. */
    const uint64_t tables_end =
        (uint64_t)tensor_table + (uint64_t)MTS_FILE_TENSOR_RECORD_SIZE * num_tensors;
    if (file_size < tables_end)
        return reject_value(error, bad, "file_size", file_size, tables_end);
    if (error != NULL)
        error->cell = stages ? 0u : cell;
    header->version_major = major;
    header->cell = stages ? 0u : cell;
    header->num_stages = num_stages;
    header->num_tensors = num_tensors;
    header->record_size = record_size;
    header->file_size = (size_t)file_size; /* <= size, so it fits */
    header->stage_table = stage_table;
    header->tensor_table = tensor_table;
    header->tables_end = (size_t)tables_end;
    return MTS_OK;
}

static size_t descriptor_bytes_for(const file_header *header)
{
    /* num_stages <= 64: no overflow. */
    return header->num_stages * sizeof(mts_stage);
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

/* The 32-byte layer records (1.x, and 2.0's sru and qrnn kind fields at
 * offset `at` of the stage record): found is the offset of the first
 * nonzero reserved byte in the record the file holds. */
static mts_status read_sru_layer(const uint8_t *record, size_t at, mts_sru_layer *layer,
                                 mts_file_error *error)
{
    const size_t reserved = 28u + first_nonzero(record + 28, 4);
    if (reserved < MTS_FILE_LAYER_RECORD_SIZE)
        return reject_found(error, MTS_ERR_FILE_LAYER, "reserved", at + reserved);
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

static mts_status read_qrnn_layer(const uint8_t *record, size_t at, mts_qrnn_layer *layer,
                                  mts_file_error *error)
{
    const size_t reserved = record[15] != 0 ? 15u : 20u + first_nonzero(record + 20, 12);
    if (reserved < MTS_FILE_LAYER_RECORD_SIZE)
        return reject_found(error, MTS_ERR_FILE_LAYER, "reserved", at + reserved);
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

/* The first nonzero byte of record[from, to) and record[from2, 48): its
 * offset, or 48 when all are zero. */
static size_t reserved_at(const uint8_t *record, size_t from, size_t to, size_t from2)
{
    const size_t first = from + first_nonzero(record + from, to - from);
    if (first < to)
        return first;
    return from2 + first_nonzero(record + from2, MTS_FILE_STAGE_RECORD_SIZE - from2);
}

/* A 2.0 stage record (48 bytes): kind, reserved u32, the kind's fields. */
static mts_status read_stage(const uint8_t *record, mts_stage *stage, mts_file_error *error)
{
    const mts_status bad = MTS_ERR_FILE_LAYER;
    const uint32_t kind = read_u32(record);
    if (kind < 1u || kind > MTS_STAGE_KINDS)
        return reject_range(error, bad, "kind", kind, 1u, MTS_STAGE_KINDS);
    if (error != NULL)
        error->cell = kind;
    if (read_u32(record + 4) != 0)
        return reject_found(error, bad, "reserved", 4u + first_nonzero(record + 4, 4));
    mts_stage parsed;
    /* Zero every byte of the union, so the unused tail of a small member
     * holds no garbage (the descriptors are compared and copied whole). */
    {
        uint8_t *bytes = (uint8_t *)&parsed;
        for (size_t i = 0; i < sizeof parsed; i++)
            bytes[i] = 0;
    }
    parsed.kind = kind;
    const uint8_t *f = record + 8;
    size_t reserved = MTS_FILE_STAGE_RECORD_SIZE;
    mts_status status = MTS_OK;
    switch (kind) {
    case MTS_STAGE_SRU:
        status = read_sru_layer(f, 8u, &parsed.as.sru, error);
        reserved = reserved_at(record, 40, 40, 40);
        break;
    case MTS_STAGE_QRNN:
        status = read_qrnn_layer(f, 8u, &parsed.as.qrnn, error);
        reserved = reserved_at(record, 40, 40, 40);
        break;
    case MTS_STAGE_NORM:
        parsed.as.norm.size = read_u32(f);
        parsed.as.norm.mode = f[4];
        parsed.as.norm.eps = read_f32(f + 8);
        reserved = reserved_at(record, 13, 16, 20);
        break;
    case MTS_STAGE_DENSE:
        parsed.as.dense.input_size = read_u32(f);
        parsed.as.dense.output_size = read_u32(f + 4);
        parsed.as.dense.activation = f[8];
        parsed.as.dense.quant = f[9];
        reserved = reserved_at(record, 18, 18, 18);
        break;
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM:
        parsed.as.min.input_size = read_u32(f);
        parsed.as.min.hidden_size = read_u32(f + 4);
        parsed.as.min.output_size = read_u32(f + 8);
        parsed.as.min.has_output = f[12];
        parsed.as.min.quant = f[13];
        reserved = reserved_at(record, 22, 22, 22);
        break;
    case MTS_STAGE_INDRNN:
        parsed.as.indrnn.input_size = read_u32(f);
        parsed.as.indrnn.hidden_size = read_u32(f + 4);
        parsed.as.indrnn.activation = f[8];
        parsed.as.indrnn.quant = f[9];
        reserved = reserved_at(record, 18, 18, 18);
        break;
    default:
        parsed.as.softmax.size = read_u32(f);
        parsed.as.softmax.log = f[4];
        reserved = reserved_at(record, 13, 13, 13);
        break;
    }
    if (status != MTS_OK)
        return status;
    if (reserved < MTS_FILE_STAGE_RECORD_SIZE)
        return reject_found(error, bad, "reserved", reserved);
    *stage = parsed;
    return MTS_OK;
}

/* Record `index` of the stage table: a 1.x layer of the header's cell or a
 * 2.0 stage record. */
static mts_status read_stage_record(const uint8_t *base, const file_header *header,
                                    uint32_t index, mts_stage *stage, mts_file_error *error)
{
    const uint8_t *record = base + header->stage_table + index * header->record_size;
    if (header->version_major == MTS_FILE_STAGES_VERSION_MAJOR)
        return read_stage(record, stage, error);
    mts_stage parsed;
    uint8_t *bytes = (uint8_t *)&parsed;
    for (size_t i = 0; i < sizeof parsed; i++)
        bytes[i] = 0;
    parsed.kind = header->cell;
    const mts_status status = header->cell == MTS_CELL_SRU
                                  ? read_sru_layer(record, 0u, &parsed.as.sru, error)
                                  : read_qrnn_layer(record, 0u, &parsed.as.qrnn, error);
    if (status == MTS_OK)
        *stage = parsed;
    return status;
}

/* A validated tensor record. */

/* Check 10 for record `index`: bounds, alignment, products. The detail
 * names the layer and kind once each is known to be valid. */
static mts_status read_tensor(const uint8_t *base, const file_header *header,
                              const mts_stage *stages, uint32_t index, uint32_t *layer,
                              uint32_t *kind, tensor_ref *tensor, mts_file_error *error)
{
    const mts_status bad = MTS_ERR_FILE_TENSOR;
    const uint8_t *record =
        base + header->tensor_table + (size_t)index * MTS_FILE_TENSOR_RECORD_SIZE;
    *layer = read_u32(record);
    *kind = read_u32(record + 4);
    const uint32_t dtype = read_u32(record + 8);
    const uint32_t ndim = read_u32(record + 12);
    const uint64_t dim0 = read_u64(record + 16);
    const uint64_t dim1 = read_u64(record + 24);
    const uint64_t offset = read_u64(record + 32);
    const uint64_t nbytes = read_u64(record + 40);
    detail_locate(error, MTS_FILE_NO_INDEX, index, 0);
    if (error != NULL)
        error->cell = header->cell; /* no stage named yet (2.0: 0) */
    if (*layer >= header->num_stages)
        return reject_value(error, bad, "layer", *layer, header->num_stages);
    const uint32_t stage_kind = stages[*layer].kind;
    const uint32_t kinds = mts_file_kinds_of(stage_kind);
    if (error != NULL) {
        error->layer = *layer;
        error->cell = stage_kind;
    }
    /* A stage without tensors (softmax) has no valid kind at all. */
    if (kinds == 0u)
        return reject_found(error, bad, "kind", *kind);
    if (*kind < 1u || *kind > kinds)
        return reject_range(error, bad, "kind", *kind, 1u, kinds);
    if (error != NULL)
        error->kind = *kind;
    /* int8 only for the products' weights: kind 1 (weight) of an SRU, QRNN,
     * dense, minGRU, minLSTM or IndRNN stage, SRU weight_proj and minGRU /
     * minLSTM weight_out. */
    const int min_kind = stage_kind == MTS_STAGE_MINGRU || stage_kind == MTS_STAGE_MINLSTM;
    const int int8_kind =
        (*kind == 1u && stage_kind != MTS_STAGE_NORM) ||
        (stage_kind == MTS_STAGE_SRU && *kind == MTS_SRU_KIND_WEIGHT_PROJ) ||
        (min_kind && *kind == MTS_MIN_KIND_WEIGHT_OUT);
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

static void locate_chain_error(const mts_model *loaded, mts_file_error *error)
{
    if (error == NULL)
        return;
    for (uint32_t s = 1; s < loaded->num_stages; s++) {
        size_t in, out, prev_in, prev_out;
        mtsi_stage_io(&loaded->stages[s], &in, &out);
        mtsi_stage_io(&loaded->stages[s - 1u], &prev_in, &prev_out);
        if (in != prev_out) {
            error->layer = s;
            error->cell = loaded->stages[s].kind;
            reject_value(error, MTS_ERR_BAD_CONFIG, "input_size", in, prev_out);
            return;
        }
    }
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

    mts_stage *stages = (mts_stage *)descriptors;
    for (uint32_t s = 0; s < header.num_stages; s++) {
        detail_locate(error, s, MTS_FILE_NO_INDEX, 0);
        if (error != NULL)
            error->cell = header.cell; /* 2.0: 0 until this record's kind is valid */
        status = read_stage_record(base, &header, s, &stages[s], error);
        if (status != MTS_OK)
            return status;
    }
    detail_locate(error, MTS_FILE_NO_INDEX, MTS_FILE_NO_INDEX, 0);
    if (error != NULL)
        error->cell = header.cell;

    /* Every tensor record valid and in bounds. */
    for (uint32_t t = 0; t < header.num_tensors; t++) {
        uint32_t layer, kind;
        tensor_ref tensor;
        status = read_tensor(base, &header, stages, t, &layer, &kind, &tensor, error);
        if (status != MTS_OK)
            return status;
    }
    detail_locate(error, MTS_FILE_NO_INDEX, MTS_FILE_NO_INDEX, 0);
    if (error != NULL)
        error->cell = header.cell;
    /* Then stage by stage (scanning the table again keeps the stack small
     * on a device: one stage's references at a time), no (stage, kind)
     * twice, then the shapes against the configuration. Duplicates are
     * looked for in every stage before any shape is judged. */
    for (int attach = 0; attach <= 1; attach++) {
        for (uint32_t s = 0; s < header.num_stages; s++) {
            tensor_ref refs[MTS_FILE_MAX_KINDS + 1];
            const tensor_ref *found[MTS_FILE_MAX_KINDS + 1] = {NULL};
            for (uint32_t t = 0; t < header.num_tensors; t++) {
                uint32_t layer, kind;
                tensor_ref tensor;
                (void)read_tensor(base, &header, stages, t, &layer, &kind, &tensor, NULL);
                if (layer != s)
                    continue;
                if (found[kind] != NULL) {
                    detail_locate(error, s, t, kind);
                    if (error != NULL)
                        error->cell = stages[s].kind;
                    return reject_found(error, MTS_ERR_FILE_TENSOR, "duplicate",
                                        found[kind]->index);
                }
                refs[kind] = tensor;
                found[kind] = &refs[kind];
            }
            if (!attach)
                continue;
            detail_locate(error, s, MTS_FILE_NO_INDEX, 0);
            if (error != NULL)
                error->cell = stages[s].kind;
            status = mtsi_file_attach_stage(&stages[s], found, error);
            if (status != MTS_OK)
                return status;
        }
    }
    detail_locate(error, MTS_FILE_NO_INDEX, MTS_FILE_NO_INDEX, 0);
    if (error != NULL)
        error->cell = header.cell;

    const mts_model loaded = {header.num_stages, stages};
    status = mts_model_check(&loaded);
    if (status != MTS_OK) {
        locate_chain_error(&loaded, error);
        return status;
    }
    *model = loaded;
    return MTS_OK;
}

