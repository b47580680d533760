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
    }
    return "unknown status code";
}
