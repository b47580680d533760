/* Status codes returned by every mtsrnn entry point. The codes are
 * 0, 1, 2, ... without gaps, so a binding can list them all by asking
 * mts_status_name for each code until it answers NULL. */
#ifndef MTSRNN_STATUS_H
#define MTSRNN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mts_status {
    MTS_OK = 0,
    /* A required pointer argument is NULL. */
    MTS_ERR_NULL_POINTER = 1,
    /* A size is zero where it must not be, or larger than MTS_MAX_DIM. */
    MTS_ERR_BAD_SIZE = 2,
    /* A size computation (element count, byte count) overflows size_t. */
    MTS_ERR_OVERFLOW = 3,
    /* An option is unknown, or options contradict each other or the sizes
     * (for example a scaled-input skip term on a layer whose input size
     * differs from its output size). */
    MTS_ERR_BAD_CONFIG = 4,
    /* The caller's workspace is smaller than mts_model_workspace_size(). */
    MTS_ERR_WORKSPACE_TOO_SMALL = 5,
    /* The caller's state buffer does not hold mts_model_state_size() floats. */
    MTS_ERR_BAD_STATE_SIZE = 6,
    /* Input and output buffers overlap. */
    MTS_ERR_OVERLAP = 7,
    /* A buffer is not aligned as required (model file: 4 bytes; descriptor
     * storage: pointer size). */
    MTS_ERR_MISALIGNED = 8,
    /* Model file (.mts, docs/model-format.md) errors, in the order the
     * loader checks them. */
    MTS_ERR_FILE_TRUNCATED = 9,   /* shorter than its header or its file_size */
    MTS_ERR_FILE_MAGIC = 10,      /* not an .mts file */
    MTS_ERR_FILE_VERSION = 11,    /* another major format version */
    MTS_ERR_FILE_BYTE_ORDER = 12, /* not little-endian, or a big-endian host */
    MTS_ERR_FILE_HEADER = 13,     /* header fields out of range or inconsistent */
    MTS_ERR_FILE_CRC = 14,        /* CRC-32 mismatch: the file is corrupt */
    MTS_ERR_FILE_LAYER = 15,      /* a layer record has reserved bytes set */
    MTS_ERR_FILE_TENSOR = 16,     /* a tensor record is malformed or out of bounds */
    MTS_ERR_FILE_SHAPE = 17,      /* tensors contradict the layer configuration */
    /* The caller's descriptor storage (mts_file_load) is smaller than
     * mts_file_descriptor_size(). */
    MTS_ERR_DESCRIPTORS_TOO_SMALL = 18,
    /* A caller's input or output buffer holds fewer values than the model
     * needs for the steps asked for. */
    MTS_ERR_BUFFER_TOO_SMALL = 19,
    /* A scalar field is not finite or outside its range: an SRU scale_x, a
     * layer-norm epsilon, a QRNN zoneout, an int8 weight scale (negative or
     * not finite). The loader's detail names the stage and the field. */
    MTS_ERR_BAD_VALUE = 20
} mts_status;

/* A short English description of a status code; never NULL. */
const char *mts_status_str(mts_status status);

/* The enumerator's name ("MTS_ERR_FILE_SHAPE"); NULL for a value that is
 * no status code. */
const char *mts_status_name(mts_status status);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_STATUS_H */
