#include "mtsrnn/status.h"

#include <stddef.h>

/* One row per status: the enumerator's name and a short description. A
 * switch rather than an array, so that the compiler (-Wswitch) reports a
 * code added to the enum without its row. */
typedef struct status_row {
    const char *name, *text;
} status_row;

static status_row status_row_of(mts_status status)
{
#define ROW(code, text) \
    case code: return (status_row){#code, text}
    switch (status) {
    ROW(MTS_OK, "ok");
    ROW(MTS_ERR_NULL_POINTER, "a required pointer is NULL");
    ROW(MTS_ERR_BAD_SIZE, "a size is zero or exceeds MTS_MAX_DIM");
    ROW(MTS_ERR_OVERFLOW, "a size computation overflows size_t");
    ROW(MTS_ERR_BAD_CONFIG, "inconsistent or unknown configuration");
    ROW(MTS_ERR_WORKSPACE_TOO_SMALL, "workspace too small");
    ROW(MTS_ERR_BAD_STATE_SIZE, "state buffer size does not match the model");
    ROW(MTS_ERR_OVERLAP, "input and output buffers overlap");
    ROW(MTS_ERR_MISALIGNED, "buffer not aligned as required");
    ROW(MTS_ERR_FILE_TRUNCATED, "model file truncated");
    ROW(MTS_ERR_FILE_MAGIC, "not an .mts model file (bad magic)");
    ROW(MTS_ERR_FILE_VERSION, "unsupported .mts major version");
    ROW(MTS_ERR_FILE_BYTE_ORDER, "model file byte order is not little-endian");
    ROW(MTS_ERR_FILE_HEADER, "model file header fields invalid");
    ROW(MTS_ERR_FILE_CRC, "model file CRC-32 mismatch (corrupt file)");
    ROW(MTS_ERR_FILE_LAYER, "model file layer record invalid");
    ROW(MTS_ERR_FILE_TENSOR, "model file tensor record invalid or out of bounds");
    ROW(MTS_ERR_FILE_SHAPE, "model file tensors contradict the layer configuration");
    ROW(MTS_ERR_DESCRIPTORS_TOO_SMALL, "descriptor storage too small for the model file");
    ROW(MTS_ERR_BUFFER_TOO_SMALL, "input or output buffer too small");
    ROW(MTS_ERR_BAD_VALUE, "a scalar field is not finite or out of range");
    }
#undef ROW
    return (status_row){NULL, "unknown status code"};
}

const char *mts_status_str(mts_status status)
{
    return status_row_of(status).text;
}

const char *mts_status_name(mts_status status)
{
    return status_row_of(status).name;
}
