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
/* Format 1.x: a stack of one cell's layers (1.0 float, 1.1 int8). */
#define MTS_FILE_VERSION_MAJOR 1u
#define MTS_FILE_VERSION_MINOR 1u
/* Format 2.0: a sequence of stages of any kinds (48-byte stage records). */
#define MTS_FILE_STAGES_VERSION_MAJOR 2u
#define MTS_FILE_STAGES_VERSION_MINOR 0u
#define MTS_FILE_STAGE_RECORD_SIZE 48u
/* Tensor records per stage at most (the SRU's kinds), for num_tensors. */
#define MTS_FILE_MAX_KINDS 8u
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

typedef enum mts_norm_kind {
    MTS_NORM_KIND_WEIGHT = 1,
    MTS_NORM_KIND_BIAS = 2,
    MTS_NORM_KINDS = 2
} mts_norm_kind;

typedef enum mts_dense_kind {
    MTS_DENSE_KIND_WEIGHT = 1,
    MTS_DENSE_KIND_BIAS = 2,
    MTS_DENSE_KIND_WEIGHT_SCALE = 3,
    MTS_DENSE_KINDS = 3
} mts_dense_kind;

/* minGRU and minLSTM stages (one table: G gate blocks of H rows). */
typedef enum mts_min_kind {
    MTS_MIN_KIND_WEIGHT = 1,            /* (G*H, n) */
    MTS_MIN_KIND_WEIGHT_OUT = 2,        /* (m, H), exactly with has_output */
    MTS_MIN_KIND_WEIGHT_SCALE = 3,
    MTS_MIN_KIND_WEIGHT_OUT_SCALE = 4,
    MTS_MIN_KINDS = 4
} mts_min_kind;

typedef enum mts_indrnn_kind {
    MTS_INDRNN_KIND_WEIGHT = 1,         /* (H, n) */
    MTS_INDRNN_KIND_BIAS = 2,           /* (H) */
    MTS_INDRNN_KIND_WEIGHT_SCALE = 3,
    MTS_INDRNN_KIND_WEIGHT_HH = 4,      /* (H): u */
    MTS_INDRNN_KINDS = 4
} mts_indrnn_kind;

/* A softmax stage has no tensors. */
#define MTS_SOFTMAX_KINDS 0u

/* The name of a tensor kind of a stage kind (mts_stage_kind; in 1.x the
 * header's cell): "weight", "weight_proj", "bias", ...; "" for an unknown
 * stage kind or tensor kind; never NULL. */
const char *mts_file_kind_name(uint32_t stage_kind, uint32_t kind);

/* Number of tensor kinds of a stage kind (0 for softmax or an unknown kind). */
uint32_t mts_file_kinds_of(uint32_t stage_kind);

/* The name of a stage kind: "sru", "qrnn", "norm", "dense", "softmax",
 * "mingru", "minlstm", "indrnn"; ""
 * for an unknown kind; never NULL. */
const char *mts_stage_kind_name(uint32_t stage_kind);

/* Flags of mts_file_load. */
#define MTS_LOAD_SKIP_CRC 1u    /* the image was verified already (e.g. at flashing) */

/* Where a file is wrong: filled by mts_file_descriptor_size and
 * mts_file_load when they return an error (cleared to "nothing" first; on
 * success it says nothing but the cell). docs/model-format.md lists, check
 * by check, which members each failure sets.
 *
 * field names the thing at fault: a header field ("magic", "version_major",
 * "byte_order" or "host_byte_order", "file_size", "header_size", "flags", "reserved", "cell",
 * "num_layers" or "num_stages", "num_tensors", "layer_table_offset" or
 * "stage_table_offset", "tensor_table_offset", "crc32"), a tensor record
 * field ("layer", "kind", "dtype", "ndim", "dim0", "dim1", "nbytes",
 * "offset"), "duplicate", "missing", "unneeded", a layer or stage record
 * field ("kind", "reserved"), a scalar field rejected with
 * MTS_ERR_BAD_VALUE ("scale_x", "norm_eps", "eps", "zoneout", and
 * "weight_scale" / "weight_proj_scale" with found = the row), the chaining
 * rule ("input_size"), an argument
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
    /* The kind of the stage at fault (1.x: the header's cell once the header
     * passed, also on success; 2.0: once the stage's record gave a valid
     * kind), else 0. Names the tensor kinds (mts_file_kind_name). */
    uint32_t cell;
    uint32_t layer;         /* stage (layer) index at fault, or MTS_FILE_NO_INDEX */
    uint32_t tensor;        /* tensor record index at fault, or MTS_FILE_NO_INDEX */
    uint32_t kind;          /* tensor kind at fault (a valid kind), 0 when none */
    uint32_t has;           /* MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED */
    const char *field;      /* never NULL */
    uint64_t found;
    uint64_t expected;
    uint32_t shape_ndim;    /* 1 or 2 when shape is set, else 0 */
    uint64_t shape[2];
    /* The file's major version once read (1 or 2), else 0: the text says
     * "layer" for 1.x and "stage" for 2.0. */
    uint32_t version_major;
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
 * mts_stage per stage; 1.x: per layer). Validates the header first (checks 1-6 of
 * the format document). error may be NULL. */
mts_status mts_file_descriptor_size(const void *data, size_t size, size_t *num_bytes,
                                    mts_file_error *error);

/* Validate the file (format 1.0, 1.1 or 2.0) in data[0, size) and point
 * *model at its weights in
 * place. data must be 4-byte aligned and stay valid (and unchanged) while
 * the model is used; size may exceed the file (e.g. a flash partition): only
 * file_size bytes are read. descriptors (pointer-aligned, at least
 * mts_file_descriptor_size bytes) receives the stage descriptors that *model
 * points to. *model is written only on success. error, when not NULL, says
 * where a rejected file is wrong. */
mts_status mts_file_load(const void *data, size_t size, uint32_t flags, void *descriptors,
                         size_t descriptor_bytes, mts_model *model, mts_file_error *error);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_FILE_H */
