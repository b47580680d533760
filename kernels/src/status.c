#include "mtsrnn/status.h"

const char *mts_status_str(mts_status status)
{
    switch (status) {
    case MTS_OK: return "ok";
    case MTS_ERR_NULL_POINTER: return "a required pointer is NULL";
    case MTS_ERR_BAD_SIZE: return "a size is zero or exceeds MTS_MAX_DIM";
    case MTS_ERR_OVERFLOW: return "a size computation overflows size_t";
    case MTS_ERR_BAD_CONFIG: return "inconsistent or unknown configuration";
    case MTS_ERR_WORKSPACE_TOO_SMALL: return "workspace too small";
    case MTS_ERR_BAD_STATE_SIZE: return "state buffer size does not match the model";
    case MTS_ERR_OVERLAP: return "input and output buffers overlap";
    case MTS_ERR_MISALIGNED: return "buffer not aligned as required";
    case MTS_ERR_FILE_TRUNCATED: return "model file truncated";
    case MTS_ERR_FILE_MAGIC: return "not an .mts model file (bad magic)";
    case MTS_ERR_FILE_VERSION: return "unsupported .mts major version";
    case MTS_ERR_FILE_BYTE_ORDER: return "model file byte order is not little-endian";
    case MTS_ERR_FILE_HEADER: return "model file header fields invalid";
    case MTS_ERR_FILE_CRC: return "model file CRC-32 mismatch (corrupt file)";
    case MTS_ERR_FILE_LAYER: return "model file layer record invalid";
    case MTS_ERR_FILE_TENSOR: return "model file tensor record invalid or out of bounds";
    case MTS_ERR_FILE_SHAPE: return "model file tensors contradict the layer configuration";
    case MTS_ERR_DESCRIPTORS_TOO_SMALL: return "descriptor storage too small for the model file";
    case MTS_ERR_BUFFER_TOO_SMALL: return "input or output buffer too small";
    }
    return "unknown status code";
}
