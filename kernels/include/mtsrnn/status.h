/* Status codes returned by every mtsrnn entry point. */
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
    MTS_ERR_OVERLAP = 7
} mts_status;

/* A short English description of a status code; never NULL. */
const char *mts_status_str(mts_status status);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_STATUS_H */
