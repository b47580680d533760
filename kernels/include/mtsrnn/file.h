/* The .mts model file (docs/model-format.md): a validating loader that uses
 * the weights in place (no copy), for flash images, memory maps and buffers.
 *
 * Every size, offset and product read from the file is checked (including
 * for overflow of size_t on 32-bit targets) before it is used; a malformed
 * file is rejected with a specific MTS_ERR_FILE_* / MTS_ERR_* code and
 * nothing outside [data, data + size) is ever read. An optional
 * mts_file_error says where the file is wrong (layer, tensor record, field,
 * value found and expected), so that a caller can tell its user without
 * validating the file a second time.
 */
#ifndef MTSRNN_FILE_H
#define MTSRNN_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/model.h"
#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MTS_FILE_HEADER_SIZE 64u
#define MTS_FILE_LAYER_RECORD_SIZE 32u
#define MTS_FILE_TENSOR_RECORD_SIZE 48u
#define MTS_FILE_VERSION_MAJOR 1u
#define MTS_FILE_VERSION_MINOR 1u
#define MTS_FILE_DATA_ALIGNMENT 64u
#define MTS_FILE_CRC_OFFSET 48u         /* the header's crc32 field */
#define MTS_FILE_BYTE_ORDER_MARK 0x01020304u

/* A tensor record's dtype. */
typedef enum mts_file_dtype {
    MTS_FILE_DTYPE_F32 = 1,
    MTS_FILE_DTYPE_I8 = 2   /* the product weights of quantised layers only */
} mts_file_dtype;

/* A tensor record's kind, per cell (the format's kind table). */
typedef enum mts_sru_kind {
    MTS_SRU_KIND_WEIGHT = 1,
    MTS_SRU_KIND_WEIGHT_PROJ = 2,
    MTS_SRU_KIND_WEIGHT_C = 3,
    MTS_SRU_KIND_BIAS = 4,
    MTS_SRU_KIND_NORM_WEIGHT = 5,
    MTS_SRU_KIND_NORM_BIAS = 6,
    MTS_SRU_KIND_WEIGHT_SCALE = 7,
    MTS_SRU_KIND_WEIGHT_PROJ_SCALE = 8,
    MTS_SRU_KINDS = 8       /* kinds are 1 .. MTS_SRU_KINDS */
} mts_sru_kind;

typedef enum mts_qrnn_kind {
    MTS_QRNN_KIND_WEIGHT = 1,
    MTS_QRNN_KIND_BIAS = 2,
    MTS_QRNN_KIND_WEIGHT_SCALE = 3,
    MTS_QRNN_KINDS = 3      /* kinds are 1 .. MTS_QRNN_KINDS */
} mts_qrnn_kind;

/* The name of a tensor kind of a cell ("weight", "weight_proj", "bias",
 * ...); "" for an unknown cell or kind; never NULL. */
const char *mts_file_kind_name(uint32_t cell, uint32_t kind);

/* Flags of mts_file_load. */
#define MTS_LOAD_SKIP_CRC 1u    /* the image was verified already (e.g. at flashing) */

/* Where a file is wrong: filled by mts_file_descriptor_size and
 * mts_file_load when they return an error (cleared to "nothing" first; on
 * success it says nothing but the cell). docs/model-format.md lists, check
 * by check, which members each failure sets.
 *
 * field names the thing at fault: a header field ("magic", "version_major",
 * "byte_order" or "host_byte_order", "file_size", "header_size", "flags", "reserved", "cell",
 * "num_layers", "num_tensors", "layer_table_offset", "tensor_table_offset",
 * "crc32"), a tensor record field ("layer", "kind", "dtype", "ndim", "dim0",
 * "dim1", "nbytes", "offset"), "duplicate", "missing", "unneeded", a layer
 * record field, a chaining rule ("input_size", "output_size"), an argument
 * ("data", "descriptors", "descriptor_bytes", "model", "num_bytes"), or
 * "size" (the buffer); "" when none. found and expected are meaningful when
 * MTS_FILE_ERROR_FOUND / MTS_FILE_ERROR_EXPECTED are set in has; expected
 * is the value required or, for a range, the bound crossed. shape is the
 * shape the layer's configuration implies for a missing tensor or one of
 * another shape (shape_ndim 0 otherwise; dim1 is 1 for ndim 1). */
#define MTS_FILE_NO_INDEX 0xFFFFFFFFu
#define MTS_FILE_ERROR_FOUND 1u
#define MTS_FILE_ERROR_EXPECTED 2u
typedef struct mts_file_error {
    uint32_t cell;          /* the header's cell once the header passed, else 0 */
    uint32_t layer;         /* layer index at fault, or MTS_FILE_NO_INDEX */
    uint32_t tensor;        /* tensor record index at fault, or MTS_FILE_NO_INDEX */
    uint32_t kind;          /* tensor kind at fault (a valid kind), 0 when none */
    uint32_t has;           /* MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED */
    const char *field;      /* never NULL */
    uint64_t found;
    uint64_t expected;
    uint32_t shape_ndim;    /* 1 or 2 when shape is set, else 0 */
    uint64_t shape[2];
} mts_file_error;

/* One line of text for a rejection, NUL-terminated in text[0, size) (cut
 * short when it does not fit): "<mts_status_str> (<mts_status_name>)" and
 * then what error holds (error may be NULL), e.g. ": layer 0, tensor record
 * 3, kind 4 (bias), dim0, found 2, expected 8, shape (8,)". Numbers above
 * 32 bits are written in hex (no 64-bit division on small cores). Returns
 * the length written. */
size_t mts_file_error_text(mts_status status, const mts_file_error *error, char *text,
                           size_t size);

/* CRC-32 (IEEE 802.3, zlib's crc32) of size bytes, continuing from crc
 * (start with 0). */
uint32_t mts_crc32(uint32_t crc, const void *data, size_t size);

/* Bytes of descriptor storage that mts_file_load needs for this file (one
 * layer descriptor per layer). Validates the header first (checks 1-6 of
 * the format document). error may be NULL. */
mts_status mts_file_descriptor_size(const void *data, size_t size, size_t *num_bytes,
                                    mts_file_error *error);

/* Validate the file in data[0, size) and point *model at its weights in
 * place. data must be 4-byte aligned and stay valid (and unchanged) while
 * the model is used; size may exceed the file (e.g. a flash partition): only
 * file_size bytes are read. descriptors (pointer-aligned, at least
 * mts_file_descriptor_size bytes) receives the layer descriptors that *model
 * points to. *model is written only on success. error, when not NULL, says
 * where a rejected file is wrong. */
mts_status mts_file_load(const void *data, size_t size, uint32_t flags, void *descriptors,
                         size_t descriptor_bytes, mts_model *model, mts_file_error *error);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_FILE_H */
